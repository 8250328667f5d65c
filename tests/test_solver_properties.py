"""Property tests of the solver on generated monotone specs: y = k1 · (x / x0)^p + k0.

For positive k1, k0 and p in {1, 2, 0.5}, y grows with x, so

- inverting y at a value v and evaluating y forward at the answer gives v back;
- `maximize x subject to y <= cap` lands on the boundary ((cap − k0) / k1)^(1/p) when x is
  continuous (seconds), and on its floor when x is whole (tokens), with the next whole number
  breaking the requirement.

The expected answers are computed exactly (sympy rationals), not with the solver's arithmetic.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.api import Spec

SETTINGS = settings(max_examples=30, derandomize=True, deadline=None, database=None)

POWERS = {"1": sympy.Integer(1), "2": sympy.Integer(2), "0.5": sympy.Rational(1, 2)}

# Decimals with three places, written exactly in the spec text.
decimals = st.integers(min_value=1, max_value=50_000).map(lambda n: Fraction(n, 1000))
# (level − k0) / k1: from 0.01 to 10^4, so x stays inside the solver's search range
# (1e-6 to 1e12) for every power.
ratios = st.integers(min_value=1, max_value=1_000_000).map(lambda n: Fraction(n, 100))


def _text(q: Fraction) -> str:
    """An exact decimal (every value here has a power-of-ten denominator)."""
    places = 0
    while (q * 10 ** places).denominator != 1:
        places += 1
    scaled = q.numerator * 10 ** places // q.denominator
    if not places:
        return str(scaled)
    whole, rest = divmod(scaled, 10 ** places)
    return f"{whole}.{rest:0{places}d}"


def _spec(folder: Path, k1: Fraction, k0: Fraction, p: str, cap: Fraction, x_unit: str) -> Path:
    path = folder / f"mono_{x_unit}_{p.replace('.', '_')}.infer"
    path.write_text(
        "# generated: y = k1 * (x / x0)^p + k0, increasing in x\n"
        f"x0  = 1 {x_unit}\n"
        f"k1  = {_text(k1)} GB\n"
        f"k0  = {_text(k0)} GB\n"
        f"cap = {_text(cap)} GB\n"
        f"x: {x_unit}\n"
        f"y: GB = k1 * (x / x0) ^ {p} + k0\n"
        "require y <= cap\n"
        "goal most = maximize x\n",
        encoding="utf-8")
    return path


def _exact_root(k1: Fraction, k0: Fraction, p: str, level: Fraction) -> sympy.Expr:
    """x with k1 · x^p + k0 = level, exactly."""
    ratio = sympy.Rational(level - k0) / sympy.Rational(k1)
    return sympy.Pow(ratio, 1 / POWERS[p])


def _y(k1: Fraction, k0: Fraction, p: str, x: sympy.Expr) -> sympy.Expr:
    return sympy.Rational(k1) * sympy.Pow(x, POWERS[p]) + sympy.Rational(k0)


@SETTINGS
@given(k1=decimals, k0=decimals, p=st.sampled_from(sorted(POWERS)), ratio=ratios)
def test_forward_of_inverse_returns_the_value(k1: Fraction, k0: Fraction, p: str, ratio: Fraction) -> None:
    v = k0 + k1 * ratio               # above k0, so a positive x gives it
    with tempfile.TemporaryDirectory() as tmp:
        path = _spec(Path(tmp), k1, k0, p, v + 1, "s")
        spec = Spec.load(path)
        assert not spec.warnings, spec.warnings
        inverse = spec.solve("x", {"y": f"{_text(v)} GB"})
        assert inverse.kind == "inverse"
        x = inverse.value
        assert isinstance(x, (int, float)) and x > 0
        expected = float(_exact_root(k1, k0, p, v))
        assert abs(x - expected) <= 1e-9 * expected, (x, expected, inverse.method)
        forward = Spec.load(path, [f"x={x!r} {inverse.unit}"]).solve("y")
        assert forward.unit == "GB"
        assert abs(float(forward.value) - float(v)) <= 1e-9 * float(v), (forward.text, v)


@SETTINGS
@given(k1=decimals, k0=decimals, p=st.sampled_from(sorted(POWERS)), ratio=ratios)
def test_maximize_continuous_lands_on_the_boundary(k1: Fraction, k0: Fraction, p: str,
                                                   ratio: Fraction) -> None:
    cap = k0 + k1 * ratio
    with tempfile.TemporaryDirectory() as tmp:
        sol = Spec.load(_spec(Path(tmp), k1, k0, p, cap, "s")).solve("most")
    expected = float(_exact_root(k1, k0, p, cap))
    assert sol.binding == "y <= cap"
    assert sol.unit == "s"
    assert abs(float(sol.value) - expected) <= 1e-9 * expected, (sol.text, expected, sol.method)
    # the answer is on the feasible side: the check at the optimum holds exactly
    assert all(r.holds for r in sol.requirements), [r.margin for r in sol.requirements]


@SETTINGS
@given(k1=decimals, k0=decimals, p=st.sampled_from(sorted(POWERS)), ratio=ratios)
def test_maximize_whole_is_the_floor_and_the_next_breaks(k1: Fraction, k0: Fraction, p: str,
                                                         ratio: Fraction) -> None:
    cap = k0 + k1 * (1 + ratio)       # (cap − k0) / k1 > 1: at least one whole token fits
    root = _exact_root(k1, k0, p, cap)
    floor = int(sympy.floor(root))
    assert _y(k1, k0, p, sympy.Integer(floor)) <= sympy.Rational(cap)
    assert _y(k1, k0, p, sympy.Integer(floor + 1)) > sympy.Rational(cap)
    with tempfile.TemporaryDirectory() as tmp:
        path = _spec(Path(tmp), k1, k0, p, cap, "token")
        sol = Spec.load(path).solve("most")
        assert sol.value == floor, (sol.text, root.evalf(20), sol.method)
        assert sol.binding == "y <= cap"
        assert sol.unit == "token"
        # the solver's own check at the answer holds, and the next token breaks it
        assert all(r.holds for r in sol.requirements)
        assert Spec.load(path, [f"x={floor + 1}"]).eval().requirements[0].holds is False
        assert Spec.load(path, [f"x={floor}"]).eval().requirements[0].holds is True
