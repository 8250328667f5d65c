"""Numbers with units for people: choosing a readable unit and significant figures.

The graph computes in canonical units (byte, second, FLOP, token, USD, ...);
this module turns a canonical magnitude back into `17.179869184 GB` or
`48.3 ms`.

>>> import sympy
>>> from lang.units import lookup
>>> format_number(sympy.Float(11444.0923))
'11444.09'
>>> format_number(sympy.Rational(17179869184, 10**9))
'17.179869184'
>>> convert(sympy.Integer(131072), lookup("B").dim / lookup("token").dim, "KiB/token").text
'128 KiB/token'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

from lang.units import BOOL, DIMENSIONLESS, TEXT, Dim, format_dim, lookup
from solver.decimals import exact_decimal, format_float

# sympy is imported where a value is converted: `unit_factor` and `pick_unit` serve a compiled
# sweep (solver.fastsweep), which never imports it.
if TYPE_CHECKING:
    import sympy

# Readable units per dimension, smallest first; the largest one under the value wins.
_LADDERS: dict[str, list[str]] = {
    "B": ["B", "kB", "MB", "GB", "TB", "PB"],
    "s": ["ns", "us", "ms", "s"],
    "FLOP": ["FLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP"],
    "FLOP/s": ["FLOPS", "GFLOPS", "TFLOPS", "PFLOPS"],
    "B/s": ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"],
    "token/s": ["token/s"],
    "USD/s": ["USD/hour"],
    "USD/token": ["USD/Mtoken"],
    "B/token": ["B/token", "KiB/token", "MiB/token"],
    "USD": ["USD"],
    "token": ["token"],
    "FLOP/token": ["FLOP/token", "GFLOP/token", "TFLOP/token"],
    "request/s": ["request/s"],
    "W": ["W", "kW", "MW"],
}


@dataclass(frozen=True)
class Shown:
    """A value converted for display: the number in `unit`, and its text."""

    value: float | None
    exact: sympy.Expr | None
    unit: str
    text: str


@lru_cache(maxsize=1024)     # a derivation converts hundreds of values into a dozen units
def unit_factor(unit: str) -> tuple[Fraction, Dim] | None:
    """Factor and dimension of a unit written compactly (`KiB/token`, `USD/hour`)."""
    import re

    factor, dim = Fraction(1), DIMENSIONLESS
    op = "*"
    for piece in re.findall(r"[/*]|\^-?\d+|[^/*^()]+", unit.replace("(", "").replace(")", "")):
        if piece in "/*":
            op = piece
            continue
        if piece.startswith("^"):
            return None  # powers only come from annotations, which carry their own factor
        info = lookup(piece.strip())
        if info is None:
            return None
        if op == "*":
            factor, dim = factor * info.factor, dim * info.dim
        else:
            factor, dim = factor / info.factor, dim / info.dim
    return factor, dim


def pick_unit(value: float, dim: Dim) -> str:
    key = format_dim(dim)
    ladder = _LADDERS.get(key)
    if not ladder:
        return key if not dim.dimensionless else ""
    best = ladder[0]
    for unit in ladder:
        found = unit_factor(unit)
        if found and abs(value) >= float(found[0]) * 0.9999999:
            best = unit
    return best


def format_number(value: sympy.Expr | float | int, exact_ok: bool = True) -> str:
    """Exact decimals when short, else about six significant figures (two decimals at least)."""
    import sympy

    if isinstance(value, sympy.Basic):
        if value.is_Rational and exact_ok:
            rational = Fraction(int(value.p), int(value.q))  # type: ignore[attr-defined]
            text = exact_decimal(rational)
            if text is not None:
                return text
        if value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return "undefined"
        try:
            number = float(value)
        except (TypeError, OverflowError):
            return _beyond_float(value) if value.is_number else str(value)
        if (number == 0 and value != 0) or math.isinf(number):
            return _beyond_float(value)    # beyond a float's range: sympy prints it
    else:
        number = float(value)
    if math.isinf(number) or math.isnan(number):
        return str(number)
    return format_float(number)


def _beyond_float(value: sympy.Basic) -> str:
    """A number beyond a float's range (1e-1998, exp(exp(100))), in mpmath's unbounded exponent."""
    try:
        return str(value.evalf(6))
    except (TypeError, ValueError, ArithmeticError):
        return "out of range"


def convert(value: sympy.Expr | None, dim: Dim | None, unit: str | None = None,
            texts: list[str] | None = None) -> Shown:
    """A canonical value in `unit` (when it has the right dimension), else a readable unit."""
    import sympy

    if value is None:
        return Shown(None, None, unit or "", "?")
    if dim == TEXT:
        code = int(value) if value.is_Integer else -1
        text = texts[code] if texts and 0 <= code < len(texts) else str(value)
        return Shown(None, value, "", text)
    if dim == BOOL or isinstance(value, sympy.logic.boolalg.BooleanAtom):
        return Shown(None, value, "", "true" if bool(value) else "false")
    if not value.is_number:
        return Shown(None, value, unit or "", str(value))
    chosen = unit
    factor: Fraction | None = None
    if chosen:
        found = unit_factor(chosen)
        if found is None or (dim is not None and found[1] != dim):
            chosen = None
        else:
            factor = found[0]
    if chosen is None:
        if dim is None:
            return Shown(float(value), value, "", format_number(value))
        chosen = pick_unit(float(value), dim)
        found = unit_factor(chosen) if chosen else (Fraction(1), DIMENSIONLESS)
        factor = found[0] if found else Fraction(1)
    assert factor is not None
    scaled = value / sympy.Rational(factor.numerator, factor.denominator)
    if chosen == "%":
        pass
    number = format_number(scaled)
    text = f"{number} {chosen}".rstrip() if chosen not in ("", "count") else number
    if chosen == "%":
        text = f"{number} %"
    return Shown(float(scaled), scaled, "" if chosen == "count" else chosen, text)
