"""The binding requirement of a goal solved for its variable, in the spec's own names.

Where the goal search (solver/optimize.py) has found the answer and the requirement that binds
there, the derivation shows the closed form: both sides are expanded through the quantities
that depend on the variable (`expand_through`), every max/min/if is fixed on the branch active
at the answer (`active_branch`, named by solver/branchnotes.py), and the equation is solved as a
polynomial (solver/margins.py). A formula too long to read is shown instead as c0 + c1 · x with
every other quantity a number (`coefficient_form`). The inversion (solver/invert.py) and the
compiled form's recorder (solver/goalbuild.py) use the same steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import sympy

from lang.graph import Graph, Node, Requirement
from solver import results
from solver.branchnotes import method, pick_note
from solver.explain import display_unit, print_sympy, short_names, value_of
from solver.inline import Inliner
from solver.margins import Margin, polynomial_ok, solve_polynomial
from solver.margins import split as _split
from solver.quantities import convert

if TYPE_CHECKING:
    from solver.optimize import Outcome


def closed_form(graph: Graph, binding: Margin, var: str, fixed: dict[str, sympy.Expr], best: float,
                 out: Outcome, values: Mapping[str, sympy.Basic]) -> list[results.Step]:
    """The binding requirement solved for the variable, in the spec's names, where sympy can."""
    node = graph.nodes[var]
    x = node.symbol
    req = binding.req
    parts = _split(req.expr)
    if parts is None:
        return []
    lhs, rhs, _, _ = parts
    dependents = downstream(graph, var)
    numbers = {graph.nodes[n].symbol: v for n, v in values.items() if n != var}
    at = sympy.Float(best)
    notes: list[str] = []
    sides = []
    branch_notes = []
    inliner = Inliner()     # one memo for both sides: they read the same quantities
    for side in (lhs, rhs):
        expanded = expand_through(graph, side, dependents, fixed, inliner)
        if expanded.has(sympy.ceiling, sympy.floor):
            expanded = expanded.replace(sympy.ceiling, lambda a: a).replace(sympy.floor, lambda a: a)
            notes.append("ceil/floor relaxed to solve; the whole-number check below is exact")
        if expanded.has(sympy.Min, sympy.Max, sympy.Piecewise):
            expanded, branch = active_branch(expanded, x, at, numbers, inliner)
            if expanded is None:
                return []
            if branch:
                branch_notes.append(branch)
        sides.append(expanded)
    branch_note = "; ".join(branch_notes)
    equation = sides[0] - sides[1]
    if sympy.count_ops(equation) > 2000 or not polynomial_ok(equation, x):
        out.notes.append("no closed form for the binding requirement; solved by bisection to a "
                         "relative 1e-12")
        return []
    roots = solve_polynomial(equation, x)
    target = None
    # A relaxed ceil/floor (paged blocks, whole replicas) moves the root by up to a step.
    slack = 1e-2 if notes else 1e-6
    for root in roots:
        val = root.xreplace(numbers)
        if val.is_number and val.is_real and abs(float(val) - best) <= slack * max(abs(best), 1) + \
                (1.0 if node.whole else 0):
            target = root
            break
    if target is None:
        out.notes.append("the closed form misses the answer (a ceil/floor or branch changes it); "
                         "solved by bisection")
        return []
    owner = common_owner([var, *req.deps])
    names = short_names(graph, target.free_symbols | {x}, owner)
    direction = "<=" if increasing(binding, best) else ">="
    formula = f"{names[x]} {direction} {print_sympy(target, names)}"
    exact = target.xreplace(numbers)
    result = value_of(graph, node, sympy.Float(exact.evalf(20), 20) if not exact.is_Rational else exact)
    out.method = method(branch_note)
    out.notes.extend(dict.fromkeys(notes))
    if len(formula) > 160:
        # Too many names to read: show the requirement as a polynomial in the variable,
        # with every other quantity already a number (units on each coefficient).
        numeric = coefficient_form(graph, req, lhs, sides, x, names[x], direction, numbers, result)
        if numeric:
            for step in numeric:
                step.__dict__["note"] = branch_note if step.kind == "closed-form" else step.note
            return numeric
    value_names = {s: convert(numbers[s], graph.by_symbol()[s].dim, graph.by_symbol()[s].unit,
                              graph.texts).text for s in target.free_symbols if s in numbers}
    substituted = print_sympy(target, value_names)
    return [results.Step(name=names[x], formula=formula, substituted=substituted, result=result,
                         kind="closed-form", note=branch_note)]


def coefficient_form(graph: Graph, req: Requirement, lhs: sympy.Basic, sides: list[sympy.Basic], x: sympy.Symbol,
                      xname: str, direction: str, numbers: Mapping[sympy.Symbol, sympy.Basic],
                      result: results.Value) -> list[results.Step]:
    lhs_num = sympy.expand(sides[0].xreplace(numbers))
    rhs_num = sides[1].xreplace(numbers)
    if not rhs_num.is_number:
        return []
    try:
        coeffs = sympy.Poly(lhs_num, x).all_coeffs()
    except sympy.PolynomialError:
        return []
    if len(coeffs) != 2:
        return []
    c1, c0 = (sympy.Float(c, 15) for c in coeffs)
    side = single_node(graph, lhs)
    xnode = graph.by_symbol()[x]
    if side is None or side.dim is None or xnode.dim is None:
        return []
    lhs_name = req.text.split(" ")[0]
    c0_text = convert(c0, side.dim, display_unit(side)).text
    c1_text = convert(c1, side.dim / xnode.dim, None).text
    rhs_text = convert(rhs_num, side.dim, side.unit).text
    poly = results.Step(name=lhs_name, formula=f"{c0_text} + {c1_text} · {xname}",
                        note="every other quantity at its value", kind="formula")
    limit = req.text.split(" ", 2)[2]
    solved = results.Step(name=xname, formula=f"{xname} {direction} ({limit} - {c0_text}) / {c1_text}",
                          substituted="" if rhs_text == limit else f"({rhs_text} - {c0_text}) / {c1_text}",
                          result=result,
                          kind="closed-form")
    return [poly, solved]


def single_node(graph: Graph, expr: sympy.Basic) -> Node | None:
    if isinstance(expr, sympy.Symbol):
        return graph.by_symbol().get(expr)
    for sym in sorted(expr.free_symbols, key=str):
        node = graph.by_symbol().get(sym)
        if node is not None and node.dim is not None:
            return node
    return None


def common_owner(names: list[str]) -> str:
    owners = {n.split(".")[0] for n in names if "." in n}
    plain = [n for n in names if "." not in n]
    return owners.pop() if len(owners) == 1 and not plain else ""


def downstream(graph: Graph, var: str) -> set[str]:
    readers: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        for d in node.deps:
            readers.setdefault(d, []).append(node.name)
    seen = {var}
    stack = [var]
    while stack:
        for r in readers.get(stack.pop(), []):
            if r not in seen:
                seen.add(r)
                stack.append(r)
    return seen


def expand_through(graph: Graph, expr: sympy.Basic, dependents: set[str],
                    fixed: Mapping[str, sympy.Expr], inliner: Inliner | None = None) -> sympy.Basic:
    """Inline the quantities that depend on the variable; keep the rest as named symbols.

    Each quantity is inlined once, fully, and then read wherever it occurs (the expression
    `xreplace` would reach one layer of names at a time; see solver.inline)."""
    by_symbol = graph.by_symbol()
    inliner = inliner or Inliner()

    def inlinable(formula: sympy.Basic) -> list[Node]:
        found = (by_symbol.get(s) for s in formula.free_symbols)   # type: ignore[call-overload]
        return [n for n in found if n is not None and n.name in dependents and n.kind == "derived"
                and n.expr is not None]

    # The quantities to inline, then each one's full formula in topological order (no recursion:
    # a chain of quantities may be longer than Python's stack).
    needed: set[str] = set()
    stack = inlinable(expr)
    while stack:
        node = stack.pop()
        if node.name not in needed:
            needed.add(node.name)
            stack.extend(inlinable(node.expr))     # type: ignore[arg-type]
    full: dict[sympy.Basic, sympy.Basic] = {}
    for name in graph.upstream(sorted(needed)):
        if name in needed:
            node = graph.nodes[name]
            rule = {n.symbol: full[n.symbol] for n in inlinable(node.expr)}   # type: ignore[arg-type]
            full[node.symbol] = inliner.replace(node.expr, rule) if rule else node.expr  # type: ignore[arg-type]
    rule = {n.symbol: full[n.symbol] for n in inlinable(expr)}
    expr = inliner.replace(expr, rule) if rule else expr
    # Choices fixed for this combination become their option's value.
    choice_values = {by_symbol[s].symbol: fixed[by_symbol[s].name] for s in expr.free_symbols
                     if s in by_symbol and by_symbol[s].name in fixed and by_symbol[s].kind == "choice"}
    return expr.xreplace(choice_values) if choice_values else expr


_BRANCHES = (sympy.Max, sympy.Min, sympy.Piecewise)


def verdict_hinge(expr: sympy.Basic, moving: set[sympy.Basic]) -> sympy.Basic:
    """1 where the branch a text verdict takes is decided by a quantity in `moving` (the unknown
    and what it feeds), else 0, as a formula over the other quantities: a verdict is worth a note
    at a goal's answer only where the answer decides it (`bottleneck = memory`), not where an
    input settles it before any test on the unknown (`speculation_limit = off` with no draft).

    >>> a, b, x = sympy.symbols("a b x")
    >>> verdict_hinge(sympy.Piecewise((5, a < 1), (sympy.Piecewise((6, x > 1), (7, True)), True)), {x})
    Piecewise((0, a < 1), (1, True))
    >>> verdict_hinge(sympy.Piecewise((5, x < b), (6, True)), {x})
    1
    """
    if not isinstance(expr, sympy.Piecewise):
        return sympy.Integer(0)
    pieces: list[tuple[sympy.Basic, sympy.Basic]] = []
    for value, cond in expr.args:
        if cond.free_symbols & moving:
            pieces.append((sympy.Integer(1), sympy.true))
            break
        pieces.append((verdict_hinge(value, moving), cond))
    return sympy.Piecewise(*pieces)


def innermost_branches(expr: sympy.Basic) -> list[sympy.Basic]:
    """The max/min/piecewise nodes of `expr` with no other such node inside: the ones whose
    active branch can be picked first (a pick exposes the next level)."""
    targets = [n for n in sympy.preorder_traversal(expr) if isinstance(n, _BRANCHES)]
    return [t for t in targets if not any(isinstance(a, _BRANCHES) for a in sympy.preorder_traversal(t)
                                          if a is not t)]


def active_branch(expr: sympy.Basic, x: sympy.Symbol, at: sympy.Basic,
                   numbers: Mapping[sympy.Symbol, sympy.Basic],
                   inliner: Inliner | None = None) -> tuple[sympy.Basic | None, str]:
    """Replace each max/min/piecewise by the branch active at the solution."""
    notes = []
    inliner = inliner or Inliner()
    here = {x: at}

    def value(a: sympy.Basic) -> sympy.Basic:
        return inliner.replace(inliner.replace(a, numbers), here)

    def pick(node: sympy.Basic) -> sympy.Basic:
        if isinstance(node, (sympy.Max, sympy.Min)):
            k, note = pick_minmax(node, [value(a) for a in node.args])
            notes.append(note)
            return node.args[k]
        if isinstance(node, sympy.Piecewise):
            for e, c in node.args:
                truth = value(c) if c is not sympy.true else sympy.true
                if truth is sympy.true:
                    return e
            return node
        return node

    fixed = fix_branches(expr, pick, inliner.replace)
    return (fixed, "; ".join(dict.fromkeys(notes))) if fixed is not None else (None, "")


def pick_minmax(node: sympy.Basic, values: list[sympy.Basic]) -> tuple[int, str]:
    """The argument a max/min takes at `values` (its arguments' values there), and the note
    that names it (solver/branchnotes.py)."""
    vals = [float(v) if v.is_number else float("nan") for v in values]
    kind = "max" if isinstance(node, sympy.Max) else "min"
    k = vals.index((max if kind == "max" else min)(vals))
    return k, pick_note(kind, [brief(a) for a in node.args], k)


def fix_branches(expr: sympy.Basic, pick: Callable[[sympy.Basic], sympy.Basic],
                 replace: Callable[[sympy.Basic, dict[sympy.Basic, sympy.Basic]], sympy.Basic],
                 depth: int = 50) -> sympy.Basic | None:
    """Replace the innermost max/min/if by `pick`'s branch until none is left; None when a pass
    changes nothing or the branches nest deeper than `depth`."""
    for _ in range(depth):
        inner = innermost_branches(expr)
        if not inner:
            return expr
        new = replace(expr, {t: pick(t) for t in inner})
        if new == expr:
            return None
        expr = new
    return None


def brief(expr: sympy.Basic) -> str:
    """A formula with record prefixes dropped (`chat.decode_context` → `decode_context`)."""
    return print_sympy(expr, {s: s.name.rsplit(".", 1)[-1] for s in expr.free_symbols})


def increasing(m: Margin, best: float) -> bool:
    """Whether the requirement caps the variable from above (true) or below."""
    xs = np.array([best * (1 - 1e-6) if best else -1e-9, best * (1 + 1e-6) if best else 1e-9])
    v = m.normalized(xs)
    return bool(v[1] <= v[0])
