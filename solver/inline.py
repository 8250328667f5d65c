"""Formulas inlined into one another, as `xreplace` builds them but without its repeated work.

A closed form inlines every quantity the variable moves into the binding requirement, then
replaces each max/min by its active branch. Built with `xreplace`, that costs a first question
~0.5 s of CPU, nearly all of it in sympy's `Max`/`Min` constructors, which compare every pair of
arguments symbolically (`_is_connected`: `a >= b`, then `factor_terms(a - b)`) to drop one that
always dominates. `Inliner` gives the same expressions, faster:

1. `replace(expr, rule)` is `expr.xreplace(rule)` with a memo per subtree: a subformula read by
   ten quantities is rebuilt once, not ten times.
2. `minmax(cls, args)` builds `cls(*args)`, but skips the pairwise comparison where it provably
   finds nothing: no argument is itself a max or min (sympy's other rewrites, flattening and
   absorption, look only at those), and
   every pair of arguments changes order between two points of a fixed sample of real values of
   their symbols (deterministic per symbol name). sympy proves `a >= b` only where it holds for
   every real value, so such a pair is never merged, and `cls(*args, evaluate=False)`, which keeps
   the same argument set in the same canonical order, is the very expression it would build.
   Anything else (a number that is not finite, a symbol with more assumptions than `real` or
   `integer`, a function the sampler does not know) takes sympy's own path.

>>> import sympy
>>> a, b = sympy.symbols("a b", real=True)
>>> Inliner().replace(sympy.Max(a, 1) + a, {a: 2 * b}) == (sympy.Max(a, 1) + a).xreplace({a: 2 * b})
True
>>> Inliner().minmax(sympy.Max, (a, a + 1))      # a + 1 always wins: sympy's own path drops `a`
a + 1
"""

from __future__ import annotations

import random
from collections.abc import Mapping

import numpy as np
import sympy

_POINTS = 64
_REAL = sympy.Symbol("t", real=True).assumptions0
_INTEGER = sympy.Symbol("t", integer=True).assumptions0


def minmax(cls: type, args: tuple[sympy.Basic, ...]) -> sympy.Basic:
    """`cls(*args)` for `Max` or `Min`, the same expression, without needless pairwise proofs."""
    if all(a.is_number for a in args):
        return cls(*args)   # type: ignore[no-any-return]
    return Inliner().minmax(cls, args)


class _Unsupported(Exception):
    """The sampler cannot evaluate this expression: sympy decides."""


def _samples(sym: sympy.Symbol) -> np.ndarray:
    """Fixed real values for a symbol, both signs, magnitudes 1e-15 to 1e21 (deterministic): a
    spec's formulas mix bytes, seconds and FLOP, so a pair may change order only far out."""
    assumptions = sym.assumptions0
    if assumptions not in (_REAL, _INTEGER):
        raise _Unsupported(sym)
    rng = random.Random(f"inline:{sym.name}")
    values = [rng.choice((-1.0, 1.0)) * 10 ** rng.uniform(-15, 21) for _ in range(_POINTS)]
    if assumptions == _INTEGER:
        values = [float(round(v)) for v in values]
    return np.array(values)


class Inliner:
    """One derivation's memo: rebuilt subtrees per rule, and sampled values per subtree."""

    def __init__(self) -> None:
        self._built: dict[tuple[int, sympy.Basic], sympy.Basic] = {}
        self._rules: list[Mapping[sympy.Basic, sympy.Basic]] = []
        self._sampled: dict[sympy.Basic, np.ndarray] = {}

    # -- replacement --

    def replace(self, expr: sympy.Basic, rule: Mapping[sympy.Basic, sympy.Basic]) -> sympy.Basic:
        """`expr.xreplace(rule)`, each distinct subtree rebuilt once per rule."""
        if not rule:
            return expr
        tag = next((i for i, r in enumerate(self._rules) if r is rule), None)
        if tag is None:
            self._rules.append(rule)
            tag = len(self._rules) - 1
        return self._replace(expr, rule, tag)

    def _replace(self, expr: sympy.Basic, rule: Mapping[sympy.Basic, sympy.Basic], tag: int) -> sympy.Basic:
        if expr in rule:
            return rule[expr]
        if not expr.args:
            return expr
        key = (tag, expr)
        found = self._built.get(key)
        if found is not None:
            return found
        args = tuple(self._replace(a, rule, tag) if isinstance(a, sympy.Basic) else a for a in expr.args)
        if all(a is b for a, b in zip(args, expr.args)):
            built = expr
        elif isinstance(expr, (sympy.Max, sympy.Min)):
            built = self.minmax(type(expr), args)
        else:
            built = expr.func(*args)
        self._built[key] = built
        return built

    # -- max and min --

    def minmax(self, cls: type, args: tuple[sympy.Basic, ...]) -> sympy.Basic:
        """`cls(*args)`, without the pairwise comparisons where they cannot merge anything."""
        if len(args) >= 2 and self._incomparable(args):
            return cls(*args, evaluate=False)   # type: ignore[no-any-return]
        return cls(*args)   # type: ignore[no-any-return]

    def _incomparable(self, args: tuple[sympy.Basic, ...]) -> bool:
        if any(not isinstance(a, sympy.Expr) or isinstance(a, (sympy.Max, sympy.Min)) for a in args):
            return False
        if any(a.is_number and not (a.is_real and a.is_finite) for a in args):
            return False
        try:
            with np.errstate(all="ignore"):
                values = [np.broadcast_to(self._sample(a), (_POINTS,)) for a in args]
        except (_Unsupported, ArithmeticError, TypeError, ValueError):
            return False
        for i, u in enumerate(values):
            for v in values[i + 1:]:
                with np.errstate(all="ignore"):
                    valid = np.isfinite(u) & np.isfinite(v)
                    gap = u - v
                    clear = np.abs(gap) > 1e-9 * (np.abs(u) + np.abs(v))
                if not (np.any(valid & clear & (gap > 0)) and np.any(valid & clear & (gap < 0))):
                    return False
        return True

    def _sample(self, expr: sympy.Basic) -> np.ndarray:
        found = self._sampled.get(expr)
        if found is None:
            found = self._sampled[expr] = self._evaluate(expr)
        return found

    def _evaluate(self, expr: sympy.Basic) -> np.ndarray:   # noqa: C901 - one case per node type
        if isinstance(expr, sympy.Symbol):
            return _samples(expr)
        if expr.is_Number or expr.is_NumberSymbol:
            if not (expr.is_real and expr.is_finite):
                raise _Unsupported(expr)
            return np.array(float(expr))
        if expr is sympy.true or expr is sympy.false:
            return np.array(bool(expr))
        args = [self._sample(a) for a in expr.args] if not isinstance(expr, sympy.Piecewise) else []
        if isinstance(expr, sympy.Add):
            return sum(args[1:], args[0])   # type: ignore[no-any-return]
        if isinstance(expr, sympy.Mul):
            out = args[0]
            for a in args[1:]:
                out = out * a
            return out
        if isinstance(expr, sympy.Pow):
            return np.power(args[0].astype(float), args[1].astype(float))
        if isinstance(expr, sympy.Max):
            return np.maximum.reduce(np.broadcast_arrays(*args))
        if isinstance(expr, sympy.Min):
            return np.minimum.reduce(np.broadcast_arrays(*args))
        if isinstance(expr, sympy.Piecewise):
            out = np.full(_POINTS, np.nan)
            taken = np.zeros(_POINTS, dtype=bool)
            for e, c in expr.args:
                cond = np.broadcast_to(self._sample(c), (_POINTS,)).astype(bool)
                value = np.broadcast_to(self._sample(e), (_POINTS,))
                pick = cond & ~taken
                out = np.where(pick, value, out)
                taken |= cond
            return out
        simple = {sympy.ceiling: np.ceil, sympy.floor: np.floor, sympy.exp: np.exp, sympy.log: np.log,
                  sympy.Abs: np.abs}
        if type(expr) in simple and len(args) == 1:
            return simple[type(expr)](args[0].astype(float))   # type: ignore[no-any-return]
        compare = {sympy.StrictLessThan: np.less, sympy.LessThan: np.less_equal,
                   sympy.StrictGreaterThan: np.greater, sympy.GreaterThan: np.greater_equal,
                   sympy.Equality: np.equal, sympy.Unequality: np.not_equal}
        if type(expr) in compare:
            return compare[type(expr)](args[0], args[1])   # type: ignore[no-any-return]
        if isinstance(expr, sympy.And):
            return np.logical_and.reduce(np.broadcast_arrays(*args))
        if isinstance(expr, sympy.Or):
            return np.logical_or.reduce(np.broadcast_arrays(*args))
        if isinstance(expr, sympy.Not):
            return np.logical_not(args[0])
        raise _Unsupported(expr)
