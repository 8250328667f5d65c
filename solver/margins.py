"""Requirements as margins in one variable, and where they change sign.

1. A requirement `lhs <= rhs` becomes m(x) = rhs − lhs (>= 0 where it holds), compiled to
   NumPy; its *normalized* margin m / (|lhs| + |rhs|) lies in [−1, 1] and is what the solver
   compares, so a relative tolerance reads the same at every scale.
2. Where floats overflow (`c * 1e300 <= 1e310 token`, `exp(c) <= exp(800)`), the points that came
   out infinite or undefined are evaluated again with mpmath at 30 digits, whose exponent does not
   overflow: an overflow is never read as a broken requirement.
3. Before the solver samples its log grid, every margin's own sign changes on the grid are refined
   by bisection and added to it, with the closed-form roots of margins that are polynomials of
   degree <= 2, and the peak of any margin that is negative at every grid point near a local
   maximum: a feasible interval narrower than a grid step ends at such roots or holds such a
   peak, so it is sampled (`7000 token <= c <= 7010 token` is found though the grid steps 2.3 %).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from lang.graph import Requirement


def split(expr: sympy.Basic) -> tuple[sympy.Basic, sympy.Basic, int, bool] | None:
    """(lhs, rhs, sense, strict): sense +1 for `lhs <= rhs`, −1 for `>=`, 0 for `==`."""
    if isinstance(expr, (sympy.LessThan, sympy.StrictLessThan)):
        return expr.lhs, expr.rhs, 1, isinstance(expr, sympy.StrictLessThan)
    if isinstance(expr, (sympy.GreaterThan, sympy.StrictGreaterThan)):
        return expr.lhs, expr.rhs, -1, isinstance(expr, sympy.StrictGreaterThan)
    if isinstance(expr, sympy.Equality):
        return expr.lhs, expr.rhs, 0, False
    return None


def call(f: Callable[..., object], xs: np.ndarray) -> np.ndarray:
    """A compiled formula on an array: floats, NaN where it is undefined or cannot be computed."""
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(f(xs), dtype=float)
    except (ArithmeticError, TypeError, ValueError):
        return np.full(xs.shape, np.nan)
    return np.broadcast_to(out, xs.shape).astype(float)


@dataclass
class Margin:
    """A requirement as a function of the decision variable: >= 0 where it holds."""

    req: Requirement
    lhs: sympy.Basic
    rhs: sympy.Basic
    sense: int                      # +1: lhs <= rhs; -1: lhs >= rhs; 0: equality
    strict: bool
    fn: Callable[..., object] | None = None
    scale_fn: Callable[..., object] | None = None
    signed_fn: Callable[..., object] | None = None     # equalities: rhs − lhs with its sign
    exact_exprs: tuple[sympy.Basic, sympy.Basic, sympy.Symbol] | None = None   # compiled for mpmath when needed
    loose: float = 0.0                                 # an equality held to this relative width
    constant: bool = False                             # the variable does not appear
    compiled: Callable[..., object] | None = field(default=None, repr=False)

    def values(self, xs: np.ndarray) -> np.ndarray:
        assert self.fn is not None
        return call(self.fn, xs)

    def normalized(self, xs: np.ndarray) -> np.ndarray:
        """margin / (|lhs| + |rhs|); points the floats cannot hold are redone in mpmath."""
        v = self.values(xs)
        if self.scale_fn is None:
            return v
        s = np.abs(call(self.scale_fn, xs))
        with np.errstate(all="ignore"):
            out = np.where(s > 0, v / np.where(s > 0, s, 1), v)
        bad = ~np.isfinite(out) & np.isfinite(xs)
        exact = self._exact() if bad.any() else None
        if exact is not None:
            out = out.copy()
            if self.constant:        # a requirement the variable does not move: one evaluation
                out[bad] = _exact_ratio(exact, float(xs[np.flatnonzero(bad)[0]]))
            else:
                for i in np.flatnonzero(bad):
                    out[i] = _exact_ratio(exact, float(xs[i]))
        return out + self.loose

    def _exact(self) -> Callable[..., object] | None:
        """(margin, scale) in mpmath, compiled on first need (most margins never overflow)."""
        if self.exact_exprs is None:
            return None
        if self.compiled is None:
            self.compiled = _mpmath(*self.exact_exprs) or _undefined
        return self.compiled

    def tightens(self, at: float) -> bool:
        """Whether the margin shrinks as x grows past `at`: the sign of its derivative, in exact
        arithmetic (a 1e999 GB budget's margin shrinks by less than any float can show)."""
        if self.constant or self.exact_exprs is None:
            return False
        import mpmath

        diff, _, x = self.exact_exprs
        try:
            slope = sympy.lambdify([x], sympy.diff(diff, x), modules="mpmath")
            with mpmath.workdps(30):
                return bool(slope(mpmath.mpf(at)) < 0)
        except Exception:
            return False

    def holds(self, xs: np.ndarray, slack: float = 1e-12) -> np.ndarray:
        rel = 1e-12 if self.sense == 0 else slack
        n = self.normalized(xs)
        with np.errstate(all="ignore"):
            return np.isfinite(n) & ((n > rel) if self.strict else (n >= -rel))


def build(req: Requirement, x: sympy.Symbol, lc: sympy.Basic, rc: sympy.Basic, sense: int,
          strict: bool, lambdify: Callable[..., Callable[..., object]]) -> Margin:
    """The margin of `lc <sense> rc`, both sides already composed down to formulas in x."""
    diff = (rc - lc) if sense >= 0 else (lc - rc)
    signed = None
    if sense == 0:
        signed = lambdify(rc - lc, [x])
        diff = -sympy.Abs(rc - lc)
    scale = sympy.Abs(rc) + sympy.Abs(lc)
    return Margin(req, lc, rc, sense, strict, lambdify(diff, [x]), lambdify(scale, [x]), signed,
                  (diff, scale, x), constant=x not in diff.free_symbols)


def _mpmath(diff: sympy.Basic, scale: sympy.Basic, x: sympy.Symbol) -> Callable[..., object] | None:
    try:
        expr = sympy.Tuple(diff, scale).xreplace({sympy.zoo: sympy.nan})
        return sympy.lambdify([x], expr, modules="mpmath")  # type: ignore[no-any-return]
    except Exception:  # a formula mpmath cannot print keeps its float answer
        return None


def _undefined(x: object) -> object:
    raise ValueError("no mpmath form")


def _exact_ratio(f: Callable[..., object], x: float) -> float:
    import mpmath

    try:
        with mpmath.workdps(30):
            pair: Any = f(mpmath.mpf(x))
            d, s = pair
            if not (mpmath.isfinite(d) and mpmath.isfinite(s)):
                return math.nan
            if s == 0:
                return float(mpmath.sign(d))
            return float(d / abs(s))
    except Exception:  # undefined at this point, as NumPy's NaN would say
        return math.nan


def loosened(m: Margin) -> Margin:
    """An equality that holds to a relative 1e-9: a bisected root never hits it exactly."""
    return Margin(m.req, m.lhs, m.rhs, m.sense, m.strict, m.fn, m.scale_fn, m.signed_fn, m.exact_exprs,
                  loose=1e-9, constant=m.constant)


def sign_change_roots(f: Callable[..., object], grid: np.ndarray) -> list[float]:
    """Roots of a compiled function: sign changes on the grid, each refined by bisection."""
    ys = call(f, grid) * np.ones_like(grid)
    roots = []
    a_all, b_all = ys[:-1], ys[1:]
    with np.errstate(all="ignore"):
        cells = np.flatnonzero(np.isfinite(a_all) & np.isfinite(b_all) & ((a_all == 0) | (a_all * b_all < 0)))
    for i in cells:
        a = ys[i]
        if a == 0:
            roots.append(float(grid[i]))
        else:
            lo, hi = float(grid[i]), float(grid[i + 1])
            for _ in range(200):
                mid = (lo + hi) / 2
                fm = float(call(f, np.array([mid])).ravel()[0])
                if not math.isfinite(fm):
                    break
                if (fm < 0) == (a < 0):
                    lo = mid
                else:
                    hi = mid
                if hi - lo <= 1e-15 * hi:
                    break
            roots.append((lo + hi) / 2)
    return roots


@lru_cache(maxsize=32)
def _numerator(expr: sympy.Basic) -> sympy.Basic:
    """Over one denominator, the top: `polynomial_ok` and `solve_polynomial` ask for the same one,
    and `together` is the costliest step of a closed form."""
    return sympy.together(expr).as_numer_denom()[0]


@lru_cache(maxsize=32)
def _coefficients(numer: sympy.Basic, x: sympy.Symbol) -> tuple[sympy.Basic, ...] | None:
    """The numerator's coefficients in x, highest first (None: not a polynomial in x), built once
    for `polynomial_ok` and `solve_polynomial` alike."""
    try:
        return tuple(sympy.Poly(numer, x).all_coeffs())
    except sympy.PolynomialError:
        return None


def polynomial_ok(expr: sympy.Basic, x: sympy.Symbol) -> bool:
    coeffs = _coefficients(_numerator(expr), x)
    return coeffs is not None and len(coeffs) <= 3


def solve_polynomial(expr: sympy.Basic, x: sympy.Symbol) -> list[sympy.Basic]:
    """Roots of expr = 0 when its numerator is linear or quadratic in x, in closed form.

    Written out rather than calling sympy.solve, whose simplifier costs a
    third of a second to import and is not needed for degree two.

    >>> a, b, x = sympy.symbols("a b x", positive=True)
    >>> solve_polynomial(a * x / b - 3, x)
    [3*b/a]
    """
    coeffs = _coefficients(_numerator(expr), x)
    if coeffs is None:
        return []
    if len(coeffs) == 2:
        b, c = coeffs
        return [sympy.factor_terms(-c / b)] if b != 0 else []
    if len(coeffs) == 3:
        a, b, c = coeffs
        disc = sympy.sqrt(b ** 2 - 4 * a * c)
        return [(-b + disc) / (2 * a), (-b - disc) / (2 * a)]
    return []


def _closed_roots(m: Margin, x: sympy.Symbol) -> list[float]:
    """Real roots of a margin whose sides are polynomials of degree <= 2 with numeric coefficients."""
    try:
        equation = m.rhs - m.lhs
        if equation.free_symbols - {x} or sympy.count_ops(equation) > 200 or not polynomial_ok(equation, x):
            return []
        found = []
        for root in solve_polynomial(equation, x):
            value = complex(root.evalf(30))
            if abs(value.imag) <= 1e-12 * max(abs(value.real), 1e-300) and math.isfinite(value.real):
                found.append(value.real)
        return found
    except Exception:  # no closed form: the sign changes still bracket
        return []


def _hidden_peaks(m: Margin, grid: np.ndarray, most: int = 64) -> list[float]:
    """Where a margin negative at every grid point peaks above zero between two of them
    (`abs(c - 7005 token) <= 5 token`): golden-section search around each sampled local
    maximum below zero; the peak, where it holds, is a point of the feasible stretch."""
    n = m.normalized(grid)
    inner = np.flatnonzero((n[1:-1] > n[:-2]) & (n[1:-1] > n[2:]) & (n[1:-1] < 0) & np.isfinite(n[1:-1])) + 1
    found = []
    ratio = (math.sqrt(5) - 1) / 2
    for i in inner[:most]:
        a, b = float(grid[i - 1]), float(grid[i + 1])

        def f(v: float) -> float:
            return float(m.normalized(np.array([v]))[0])

        c, d = b - ratio * (b - a), a + ratio * (b - a)
        fc, fd = f(c), f(d)
        for _ in range(80):
            if not (math.isfinite(fc) and math.isfinite(fd)) or b - a <= 1e-15 * b:
                break
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - ratio * (b - a)
                fc = f(c)
            else:
                a, c, fc = c, d, fd
                d = a + ratio * (b - a)
                fd = f(d)
        peak = (a + b) / 2
        if f(peak) >= 0:
            found.append(peak)
    return found


def with_breakpoints(margins: list[Margin], grid: np.ndarray, x: sympy.Symbol, whole: bool) -> np.ndarray:
    """The grid plus every margin's roots (and points between and beside them), inside its range."""
    lo, hi = float(grid[0]), float(grid[-1])
    roots: list[float] = []
    for m in margins:
        if m.scale_fn is None:
            roots += sign_change_roots(m.values, grid)
            continue
        roots += sign_change_roots(m.normalized, grid)
        roots += _closed_roots(m, x)
        if not m.constant:
            roots += _hidden_peaks(m, grid)
    roots = sorted({r for r in roots if math.isfinite(r) and lo <= r <= hi})
    if not roots:
        return grid
    points = []
    for r in roots:
        # Beside the root rather than on it: a bisected root may sit either side of the edge.
        points += [r * (1 - 1e-11), r * (1 + 1e-11)]
    points += [(a + b) / 2 for a, b in itertools.pairwise(roots)]
    extra = np.array(points)
    if whole:
        extra = np.concatenate([np.floor(extra), np.ceil(extra), np.floor(extra) - 1, np.ceil(extra) + 1])
    extra = extra[(extra >= lo) & (extra <= hi)]
    return unique(np.concatenate([grid, extra]))


def unique(xs: np.ndarray) -> np.ndarray:
    """`np.unique` of a 1-d float array without NaN, as NumPy computes it (sort, drop repeats),
    without the check for masked arrays that imports `numpy.ma` (~15 ms at every start)."""
    out = np.asarray(xs, dtype=float).flatten()
    out.sort()
    if out.size < 2:
        return out
    keep = np.empty(out.shape, dtype=bool)
    keep[:1] = True
    keep[1:] = out[1:] != out[:-1]
    return out[keep]


def equation_roots(x: sympy.Symbol, left: sympy.Basic, right: sympy.Basic, grid: np.ndarray,
                   lambdify: Callable[..., Callable[..., object]]) -> list[float]:
    """Where left(x) = right(x) on the grid's range: sign changes of the normalized difference
    (mpmath where floats overflow, `exp(c) = exp(800)`) and closed-form roots (a double root,
    `(c - 7005)^2 = 0`, never changes sign), each checked, smallest first."""
    m = build(None, x, left, right, 1, False, lambdify)  # type: ignore[arg-type]
    lo, hi = float(grid[0]), float(grid[-1])
    found = sign_change_roots(m.normalized, grid)
    for r in _closed_roots(m, x):
        if lo <= r <= hi and abs(float(m.normalized(np.array([r]))[0])) <= 1e-9:
            found.append(r)
    roots: list[float] = []
    for r in sorted(found):
        if not roots or r - roots[-1] > 1e-9 * abs(r):
            roots.append(r)
    return roots
