"""The one unit registry of infer, and dimension algebra for the checker.

Units are defined once, in `units.txt` (pint's definition format), and looked
up through pint. Every quantity is computed in *canonical* magnitudes: the
base unit of each dimension (byte, second, FLOP, token, request, USD, watt,
pixel),
so formulas are plain numbers for sympy and NumPy, and a unit is a factor
plus a dimension.

Lookups are cached on disk (keyed by the definitions file), so a warm run
never imports pint at all.

>>> u = lookup("TB")
>>> u.factor, format_dim(u.dim)
(Fraction(1000000000000, 1), 'B')
>>> format_dim(lookup("USD").dim / lookup("hour").dim)
'USD/s'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from lang.cachedir import read_private, write_atomic

DEFINITIONS = Path(__file__).with_name("units.txt")

# pint's base dimensions → the symbol shown to users.
BASE_SYMBOLS = {
    "[information]": "B", "[time]": "s", "[compute]": "FLOP", "[token]": "token",
    "[request]": "request", "[currency]": "USD", "[power]": "W", "[pixel]": "px",
}
# Display order: money first, then the things it buys.
_ORDER = ["USD", "FLOP", "B", "token", "request", "px", "W", "s"]


@dataclass(frozen=True)
class Dim:
    """A dimension: base symbols with integer exponents, normalized and hashable."""

    exps: tuple[tuple[str, int], ...] = ()

    def __init__(self, exps: Iterable[tuple[str, int]] = ()):
        object.__setattr__(self, "exps", tuple(sorted((k, int(v)) for k, v in exps if v)))

    def __mul__(self, other: Dim) -> Dim:
        merged = dict(self.exps)
        for k, v in other.exps:
            merged[k] = merged.get(k, 0) + v
        return Dim(merged.items())

    def __truediv__(self, other: Dim) -> Dim:
        return self * other ** -1

    def __pow__(self, n: int) -> Dim:
        return Dim((k, v * n) for k, v in self.exps)

    def root(self, n: int) -> Dim | None:
        """The n-th root, or None when an exponent is not divisible."""
        if any(v % n for _, v in self.exps):
            return None
        return Dim((k, v // n) for k, v in self.exps)

    @property
    def dimensionless(self) -> bool:
        return not self.exps

    def __repr__(self) -> str:
        return f"Dim({format_dim(self)!r})"


DIMENSIONLESS = Dim()
# Text and truth values are not quantities; the checker gives them these marks.
TEXT = Dim([("[text]", 1)])
BOOL = Dim([("[truth]", 1)])


def format_dim(dim: Dim) -> str:
    """A dimension in base-unit symbols: `B/s`, `FLOP`, `USD/(token)`.

    >>> format_dim(Dim([("B", 1), ("s", -1)]))
    'B/s'
    >>> format_dim(DIMENSIONLESS)
    'count'
    """
    if dim == TEXT:
        return "text"
    if dim == BOOL:
        return "truth value"
    num = [(k, v) for k, v in dim.exps if v > 0]
    den = [(k, -v) for k, v in dim.exps if v < 0]
    key = lambda kv: _ORDER.index(kv[0]) if kv[0] in _ORDER else 99  # noqa: E731

    def part(items: list[tuple[str, int]]) -> str:
        return "*".join(k if v == 1 else f"{k}^{v}" for k, v in sorted(items, key=key))

    if not num and den:     # a pure rate reads as `s^-1`: `2 s^-1`, not `2 1/s`
        return "*".join(f"{k}^-{v}" for k, v in sorted(den, key=key))
    top = part(num) or "count"
    if not den:
        return top
    bottom = part(den)
    return f"{top}/{bottom}" if len(den) == 1 else f"{top}/({bottom})"


@dataclass(frozen=True)
class UnitInfo:
    """A unit name resolved: canonical magnitude of one of it, and its dimension."""

    name: str
    factor: Fraction
    dim: Dim


# --- lookup -------------------------------------------------------------------


def _definitions_key() -> str:
    return hashlib.sha256(DEFINITIONS.read_bytes()).hexdigest()[:16]


def _cache_file() -> Path | None:
    from lang.cachedir import private_dir

    folder = private_dir()
    return folder / f"units-{_definitions_key()}.json" if folder is not None else None


def _checked_entries(data: object) -> dict[str, list[Any] | None]:
    """The cache file's entries that have the shape `lookup` reads; anything else is dropped."""
    out: dict[str, list[Any] | None] = {}
    if not isinstance(data, dict):
        return out
    for name, entry in data.items():
        if name == "__known_names__":
            if isinstance(entry, list) and all(isinstance(n, str) for n in entry):
                out[name] = entry
        elif entry is None:
            out[name] = None
        elif isinstance(entry, list) and len(entry) == 3 and type(entry[0]) is int \
                and type(entry[1]) is int and entry[1] > 0 and isinstance(entry[2], list) \
                and all(isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and type(e[1]) is int
                        for e in entry[2]):
            out[name] = entry
    return out


class _Registry:
    """Pint behind a disk cache of the names looked up so far."""

    def __init__(self) -> None:
        self._pint: Any = None
        self._cache: dict[str, list[Any] | None] = {}
        path = _cache_file()
        raw = read_private(path) if path is not None else None
        try:
            self._cache = _checked_entries(json.loads(raw)) if raw is not None else {}
        except (ValueError, RecursionError):
            self._cache = {}

    @property
    def pint(self) -> Any:
        if self._pint is None:
            import pint

            self._pint = pint.UnitRegistry(filename=str(DEFINITIONS), cache_folder=None)
        return self._pint

    def lookup(self, name: str) -> UnitInfo | None:
        if name.startswith("__"):
            return None
        if name not in self._cache:
            self._cache[name] = self._resolve(name)
            self._save()
        entry = self._cache[name]
        if entry is None:
            return None
        num, den, exps = entry
        return UnitInfo(name, Fraction(num, den), Dim((k, v) for k, v in exps))

    def _resolve(self, name: str) -> list[Any] | None:
        if not name or not (name[0].isalpha() or name[0] in "%µ_"):
            return None
        try:
            unit = self.pint.Unit(name)
        except Exception:  # pint raises several kinds for an unknown name
            return None
        base = (1 * unit).to_base_units()
        exps = []
        for base_name, power in base.unit_items():
            dim_name = next(iter(self.pint.Unit(base_name).dimensionality), None)
            if dim_name is None:       # `count`: dimensionless
                continue
            exps.append([BASE_SYMBOLS.get(dim_name, dim_name), int(power)])
        factor = _exact(base.magnitude)
        return [factor.numerator, factor.denominator, exps]

    def _save(self) -> None:
        path = _cache_file()
        if path is not None:     # without a private cache folder, look-ups are not kept
            write_atomic(path, json.dumps(self._cache).encode())

    def known_names(self) -> list[str]:
        """Names for spelling hints: every unit and symbol, and the common prefixed ones."""
        cached = self._cache.get("__known_names__")
        if cached is not None:
            return cached  # type: ignore[return-value]
        names = self._known_names()
        self._cache["__known_names__"] = names  # type: ignore[assignment]
        self._save()
        return names

    def _known_names(self) -> list[str]:
        reg = self.pint
        names = set()
        for key, definition in reg._units.items():
            names.add(key)
            if getattr(definition, "symbol", None):
                names.add(definition.symbol)
            names.update(getattr(definition, "aliases", ()) or ())
        for stem in ("B", "bit", "FLOP", "FLOPS", "s", "W", "token"):
            for prefix in ("k", "M", "G", "T", "P", "Ki", "Mi", "Gi", "Ti", "m", "u", "n"):
                names.add(prefix + stem)
        return sorted(n for n in names if (n and n[0].isalpha()) or n == "%")


def _exact(value: float | int) -> Fraction:
    """pint's floats back to the exact decimals they came from (1e-06 → 1/1000000)."""
    if isinstance(value, int):
        return Fraction(value)
    return Fraction(repr(float(value)))


@lru_cache(maxsize=1)
def registry() -> _Registry:
    return _Registry()


def lookup(name: str) -> UnitInfo | None:
    """A unit by name (with prefixes and plurals, as pint reads them), or None."""
    return registry().lookup(name)


def known_unit_names() -> list[str]:
    return registry().known_names()

