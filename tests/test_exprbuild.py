"""lang.exprbuild and solver.inline build exactly what sympy builds, and skip its proofs where
they cannot matter (the speed of a new question rests on both)."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.functions.elementary.miscellaneous import MinMaxBase

from lang.exprbuild import compare, minmax
from solver.inline import Inliner

a, b, c = sympy.symbols("chat.a chat.b gpu.c", real=True)
n = sympy.Symbol("choice.index", integer=True)
p = sympy.Symbol("p", positive=True)

_leaves = st.sampled_from([a, b, c, n, sympy.Integer(1), sympy.Integer(512), sympy.Rational(1, 3),
                           sympy.Float(2.5), sympy.Integer(0), p])


def _combine(children: st.SearchStrategy[sympy.Expr]) -> st.SearchStrategy[sympy.Expr]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda t: t[0] + t[1]),
        pair.map(lambda t: t[0] * t[1]),
        pair.map(lambda t: t[0] - 2 * t[1]),
        pair.map(lambda t: t[0] / (t[1] ** 2 + 1)),
        pair.map(lambda t: sympy.Max(*t)),
        pair.map(lambda t: sympy.Min(*t)),
        children.map(sympy.ceiling),
        pair.map(lambda t: sympy.Piecewise((t[0], t[1] > 1), (t[1], True))),
    )


expressions = st.recursive(_leaves, _combine, max_leaves=6)
settings_ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings_
@given(st.lists(expressions, min_size=2, max_size=3), st.sampled_from([sympy.Max, sympy.Min]))
def test_minmax_is_sympys_own(args: list[sympy.Expr], cls: type) -> None:
    built = minmax(cls, tuple(args))
    expected = cls(*args)
    assert built == expected
    assert sympy.srepr(built) == sympy.srepr(expected)


@settings_
@given(expressions, expressions, st.sampled_from([sympy.Lt, sympy.Le, sympy.Gt, sympy.Ge, sympy.Eq, sympy.Ne]))
def test_compare_is_sympys_own(lhs: sympy.Expr, rhs: sympy.Expr, cls: type) -> None:
    try:
        expected = cls(lhs, rhs)
    except TypeError:           # sympy refuses (a nan side): so must we
        with pytest.raises(TypeError):
            compare(cls, lhs, rhs)
        return
    assert sympy.srepr(compare(cls, lhs, rhs)) == sympy.srepr(expected)


@settings_
@given(expressions, expressions, expressions)
def test_inliner_is_xreplace(expr: sympy.Expr, for_a: sympy.Expr, for_b: sympy.Expr) -> None:
    rule = {a: for_a, b: for_b}
    assert sympy.srepr(Inliner().replace(expr, rule)) == sympy.srepr(expr.xreplace(rule))


def test_the_proofs_are_skipped_where_they_cannot_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two arguments that change order (bytes against seconds times a rate) need no proof; one that
    always dominates still gets sympy's (and is dropped)."""
    def no_proofs(*args: object, **kwargs: object) -> object:
        raise AssertionError("sympy's pairwise proofs ran")

    big = 2 * a * b / (c + 3) + sympy.Max(1, a / b)
    monkeypatch.setattr(MinMaxBase, "_find_localzeros", classmethod(no_proofs))
    assert minmax(sympy.Max, (big, 512 * c)).args == tuple(sympy.ordered([big, 512 * c]))
    assert compare(sympy.Le, big, c) == sympy.Le(big, c, evaluate=False)
    monkeypatch.undo()
    assert minmax(sympy.Max, (a, a + 1)) == a + 1
    assert compare(sympy.Le, a, a + 1) is sympy.true
    assert compare(sympy.Eq, n, sympy.Rational(1, 2)) is sympy.false    # an integer is never 1/2
