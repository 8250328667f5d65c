"""Formulas inlined into one another, as `xreplace` builds them but without its repeated work.

A closed form inlines every quantity the variable moves into the binding requirement, then
replaces each max/min by its active branch. Built with `xreplace`, that cost a first question
~0.5 s of CPU, nearly all of it in sympy's `Max`/`Min` constructors. `Inliner.replace(expr,
rule)` is `expr.xreplace(rule)` with two differences that leave the result the same:

1. a memo per subtree and rule: a subformula read by ten quantities is rebuilt once;
2. a max or min is rebuilt by `lang.exprbuild.minmax`, which skips sympy's pairwise proofs
   where sampled values show they cannot drop an argument.

>>> a, b = sympy.symbols("a b", real=True)
>>> Inliner().replace(sympy.Max(a, 1) + a, {a: 2 * b}) == (sympy.Max(a, 1) + a).xreplace({a: 2 * b})
True
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy

from lang.exprbuild import minmax


class Inliner:
    """One derivation's memo of rebuilt subtrees, per rule."""

    def __init__(self) -> None:
        self._built: dict[tuple[int, sympy.Basic], sympy.Basic] = {}
        self._rules: list[Mapping[sympy.Basic, sympy.Basic]] = []     # held: a rule's index is its tag

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
        args = tuple(self._replace(a, rule, tag) for a in expr.args)
        if all(a is b for a, b in zip(args, expr.args)):
            built = expr
        elif isinstance(expr, (sympy.Max, sympy.Min)):
            built = minmax(type(expr), args)
        else:
            built = expr.func(*args)
        self._built[key] = built
        return built
