"""`Max`, `Min` and inequalities built as sympy builds them, without its needless proofs.

sympy's `Max(a, b)` compares every pair of its arguments symbolically (`a >= b` through the
assumptions system, then `factor_terms(a - b)`) to drop one that always dominates, and
`Le(a, b)` asks the same question to settle to true or false. On a spec's formulas the answer
is nearly always "cannot tell", and asking costs a new question a quarter of its CPU time. The
builders here ask the question numerically first:

1. every symbol gets a fixed sample of real values (both signs, magnitudes 1e-15 to 1e21,
   deterministic per name: a spec mixes bytes, seconds and FLOP, so two terms may change order
   only far out), and each expression is evaluated there in floats, once per subtree;
2. where two arguments change order between two sample points, no proof that one always
   dominates can exist (sympy's assumptions are sound for every real value), so sympy would
   keep both: the unevaluated `Max(a, b, evaluate=False)` (same argument set, same canonical
   order) and `Le(a, b, evaluate=False)` are then the very expressions sympy returns;
3. anything else takes sympy's own path: an argument that is itself a max or min (sympy's
   flattening and absorption rules look at those), a number that is not finite, a symbol with
   assumptions other than `real` or `integer`, a function the sampler does not know.

>>> a = sympy.Symbol("a", real=True)
>>> minmax(sympy.Max, (a, 1)) == sympy.Max(a, 1)
True
>>> minmax(sympy.Max, (a, a + 1))      # a + 1 always wins: sympy's own path drops `a`
a + 1
>>> compare(sympy.Le, a, a + 1)        # always true: sympy's own path settles it
True
>>> compare(sympy.Eq, a, 1) == sympy.Eq(a, 1)
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import sympy

POINTS = 64
_REAL = sympy.Symbol("t", real=True).assumptions0
_INTEGER = sympy.Symbol("t", integer=True).assumptions0
_NAN = float("nan")
Sample = list[float]


class _Unsupported(Exception):
    """The sampler cannot evaluate this expression: sympy decides."""


def _symbol_sample(sym: sympy.Symbol) -> Sample:
    assumptions = sym.assumptions0
    if assumptions not in (_REAL, _INTEGER):
        raise _Unsupported(sym)
    rng = random.Random(f"exprbuild:{sym.name}")
    values = [rng.choice((-1.0, 1.0)) * 10 ** rng.uniform(-15, 21) for _ in range(POINTS)]
    return [float(round(v)) for v in values] if assumptions == _INTEGER else values


def _each(f: Callable[..., float], *columns: Sample) -> Sample:
    """f at each point; undefined (nan) wherever an operand is: a formula reading an undefined
    value has none either (only an `if` may leave its unchosen branch undefined, see _select)."""
    out = []
    for row in zip(*columns):
        if any(v != v for v in row):
            out.append(_NAN)
            continue
        try:
            out.append(float(f(*row)))
        except (ArithmeticError, ValueError, TypeError):
            out.append(_NAN)
    return out


def _select(pairs: list[tuple[Sample, Sample]]) -> Sample:
    """A piecewise value: the first branch whose condition holds; undefined where a condition
    tried is undefined or none holds."""
    out = []
    for i in range(POINTS):
        value = _NAN
        for branch, cond in pairs:
            if cond[i] != cond[i]:
                break
            if cond[i]:
                value = branch[i]
                break
        out.append(value)
    return out


_UNARY: dict[type, Callable[[float], float]] = {
    sympy.ceiling: math.ceil, sympy.floor: math.floor, sympy.exp: math.exp, sympy.log: math.log,
    sympy.Abs: abs,
}
_COMPARE: dict[type, Callable[[float, float], bool]] = {
    sympy.StrictLessThan: lambda a, b: a < b, sympy.LessThan: lambda a, b: a <= b,
    sympy.StrictGreaterThan: lambda a, b: a > b, sympy.GreaterThan: lambda a, b: a >= b,
    sympy.Equality: lambda a, b: a == b, sympy.Unequality: lambda a, b: a != b,
}


class Sampler:
    """Float values of expressions at the fixed sample points, memoized per subtree."""

    def __init__(self) -> None:
        self._memo: dict[sympy.Basic, Sample] = {}

    def sample(self, expr: sympy.Basic) -> Sample:
        found = self._memo.get(expr)
        if found is None:
            if len(self._memo) > 20000:      # a long-lived process (the language server)
                self._memo.clear()
            found = self._memo[expr] = self._evaluate(expr)
        return found

    def _evaluate(self, expr: sympy.Basic) -> Sample:
        if isinstance(expr, sympy.Symbol):
            return _symbol_sample(expr)
        if expr is sympy.true or expr is sympy.false:
            return [float(bool(expr))] * POINTS
        if expr.is_Number or expr.is_NumberSymbol:
            if not (expr.is_real and expr.is_finite):
                raise _Unsupported(expr)
            try:
                return [float(expr)] * POINTS
            except OverflowError:
                raise _Unsupported(expr) from None
        if isinstance(expr, sympy.Piecewise):
            return _select([(self.sample(e), self.sample(c)) for e, c in expr.args])
        args = [self.sample(a) for a in expr.args]
        if isinstance(expr, sympy.Add):
            return _each(lambda *t: math.fsum(t), *args)
        if isinstance(expr, sympy.Mul):
            return _each(lambda *t: math.prod(t), *args)
        if isinstance(expr, sympy.Pow):
            return _each(_power, *args)
        if isinstance(expr, (sympy.Max, sympy.Min)):
            return _each(max if isinstance(expr, sympy.Max) else min, *args)
        unary = _UNARY.get(type(expr))
        if unary is not None and len(args) == 1:
            return _each(unary, *args)
        relation = _COMPARE.get(type(expr))
        if relation is not None:
            return _each(relation, *args)
        if isinstance(expr, sympy.And):
            return _each(lambda *t: all(t), *args)
        if isinstance(expr, sympy.Or):
            return _each(lambda *t: any(t), *args)
        if isinstance(expr, sympy.Not):
            return _each(lambda t: not t, *args)
        raise _Unsupported(expr)

    def change_order(self, a: sympy.Basic, b: sympy.Basic) -> bool:
        """Whether a − b is clearly positive at one sample point and clearly negative at another."""
        try:
            u, v = self.sample(a), self.sample(b)
        except (_Unsupported, RecursionError):
            return False
        above = below = False
        for x, y in zip(u, v):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            if abs(x - y) <= 1e-9 * (abs(x) + abs(y)):
                continue
            above, below = above or x > y, below or x < y
            if above and below:
                return True
        return False


def _power(base: float, exponent: float) -> float:
    value = base ** exponent
    if isinstance(value, complex):
        return _NAN
    return value


_SHARED = Sampler()


def minmax(cls: type, args: tuple[sympy.Basic, ...], sampler: Sampler | None = None) -> sympy.Basic:
    """`cls(*args)` for `sympy.Max` or `sympy.Min`: the same expression."""
    if len(args) >= 2 and not all(a.is_number for a in args) and _incomparable(args, sampler or _SHARED):
        return cls(*args, evaluate=False)   # type: ignore[no-any-return]
    return cls(*args)   # type: ignore[no-any-return]


def _incomparable(args: tuple[sympy.Basic, ...], sampler: Sampler) -> bool:
    for a in args:
        if not isinstance(a, sympy.Expr) or isinstance(a, (sympy.Max, sympy.Min)):
            return False
        if a.is_number and not (a.is_real and a.is_finite):
            return False
    return all(sampler.change_order(a, b) for i, a in enumerate(args) for b in args[i + 1:])


_INEQUALITIES = (sympy.Lt, sympy.Le, sympy.Gt, sympy.Ge)


def compare(cls: type, lhs: sympy.Basic, rhs: sympy.Basic, sampler: Sampler | None = None) -> sympy.Basic:
    """`cls(lhs, rhs)` for a relation (`sympy.Le`, `sympy.Eq`...): the same expression or truth value.

    An inequality whose sides change order at the sample points cannot be settled; nor can
    `x == c` or `x != c` for a real symbol and a finite real number (x may or may not be c; an
    integer symbol, only against an integer): `evaluate=False` is then what sympy returns."""
    if cls in _INEQUALITIES:
        if (isinstance(lhs, sympy.Expr) and isinstance(rhs, sympy.Expr) and not (lhs.is_number and rhs.is_number)
                and (sampler or _SHARED).change_order(lhs, rhs)):
            return cls(lhs, rhs, evaluate=False)   # type: ignore[no-any-return]
    elif cls in (sympy.Eq, sympy.Ne) and (_may_equal(lhs, rhs) or _may_equal(rhs, lhs)):
        return cls(lhs, rhs, evaluate=False)   # type: ignore[no-any-return]
    return cls(lhs, rhs)   # type: ignore[no-any-return]


def _may_equal(sym: sympy.Basic, number: sympy.Basic) -> bool:
    """A plain real (or integer) symbol against a finite real (integer) number."""
    if not (isinstance(sym, sympy.Symbol) and isinstance(number, sympy.Number) and number.is_finite):
        return False
    kind = sym.assumptions0
    return kind == _REAL or (kind == _INTEGER and number.is_Integer)
