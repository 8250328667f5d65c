"""Inversion: hold a derived quantity at a value and solve for the unknown it depends on.

`infer solve spec --for context --where kv_total=24GB`. The held formula is
composed down to the unknown; sympy solves it in closed form where one exists
(branch by branch through max/min/piecewise, ceil/floor relaxed and then
checked); otherwise a sign change on a log grid is refined by bisection. The
roots come from solver.margins.equation_roots: the difference normalized and
redone in mpmath where floats overflow, plus closed-form roots (a double root
never changes sign).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy

from lang.graph import Graph
from lang.units import format_dim
from solver import results
from solver.closedform import active_branch, common_owner, downstream, expand_through
from solver.evaluate import Evaluator, lambdify
from solver.explain import forward_steps, print_sympy, short_names, value_of
from solver.margins import equation_roots, polynomial_ok, solve_polynomial
from solver.optimize import GRID_POINTS, X_MAX, X_MIN, SolveError
from solver.quantities import convert


def invert(graph: Graph, target: str, held: str, value: sympy.Expr,
           fixed: Mapping[str, sympy.Expr] | None = None, other: str | None = None) -> results.Solution:
    """Solve `held(target) = value`, or `held(target) = other(target)` when `other` names a quantity
    (`--where long.kv_memory=long.weight_memory`: where the KV cache outgrows the weights)."""
    ev = Evaluator(graph)
    fixed = dict(fixed or {})
    fixed.pop(target, None)
    node = graph.nodes[target]
    held_node = graph.nodes[held]
    x = node.symbol
    if target not in graph.upstream([held]):
        raise SolveError(f"`{held}` does not depend on `{target}`, so holding it says nothing about "
                         f"`{target}`")
    sides = [held] + ([other] if other else [])
    others = [n for n in ev.free_of(sides) if n != target and n not in fixed]
    if others:
        raise SolveError(f"`{held}` also depends on {', '.join(f'`{o}`' for o in others)}, which "
                         "has no value; give it one with --set")
    left = ev.compose(held, [target], fixed)
    right = ev.compose(other, [target], fixed) if other else value
    grid = np.geomspace(X_MIN, X_MAX, GRID_POINTS)
    if node.whole:
        grid = np.concatenate([np.geomspace(X_MIN, 1, 200)[:-1], grid[grid >= 1]])
    roots = equation_roots(x, left, right, grid, lambdify)
    held_text = f"`{other}`" if other else convert(value, held_node.dim, held_node.unit, graph.texts).text
    if not roots:
        at_small = ev.values({**fixed, target: sympy.Float(grid[0])}).get(held)
        at_large = ev.values({**fixed, target: sympy.Float(grid[-1])}).get(held)
        span = " to ".join(convert(v, held_node.dim, held_node.unit).text for v in (at_small, at_large)
                           if v is not None)
        raise SolveError(f"no positive `{target}` makes `{held}` = {held_text}: over "
                         f"{convert(sympy.Float(grid[0]), node.dim, node.unit).text} to "
                         f"{convert(sympy.Float(grid[-1]), node.dim, node.unit).text} it ranges {span}")
    best = roots[0]
    notes = []
    if len(roots) > 1:
        shown = ", ".join(convert(sympy.Float(r), node.dim, node.unit).text for r in roots[:5])
        notes.append(f"several values of `{target}` give {held_text}: {shown}; showing the smallest")
    values = ev.values({**fixed, target: sympy.Float(best, 20)})
    steps = []
    order = graph.upstream(sides)
    owner = common_owner(order) or (target.rsplit(".", 1)[0] if "." in target else "")
    steps += forward_steps(graph, order if other else [n for n in order if n != held], values, owner)
    step: results.Step | None = None
    if other:
        method = "bisection to a relative 1e-15 on the difference of the two sides"
    else:
        step, method, closed_notes = _closed(graph, ev, target, held, value, fixed, best, values)
        notes += closed_notes
    # An inversion answers an equation, not the spec's requirements: say which ones it breaks.
    from solver.optimize import GoalSolver

    checker = GoalSolver(graph, evaluator=ev)
    for r in graph.requirements:
        if target in graph.upstream(list(r.deps)):
            entry = checker.requirement_entry(r, values)
            if entry.holds is False:
                notes.append(f"at this value `{r.text}` fails: {entry.margin}")
    notes = list(dict.fromkeys(notes))
    if step is not None:
        steps.append(step)
    answer = value_of(graph, node, sympy.Float(best, 15))
    if step is not None and step.result is not None:
        answer = step.result
    steps.append(results.Step(name=target, formula=f"{target} = {answer.text}", kind="answer",
                              note=f"where {held} = {held_text}"))
    return results.Solution(spec=graph.path, target=target, kind="inverse", value=answer.value,
                            unit=answer.unit, text=answer.text, binding=None, method=method,
                            steps=steps, notes=notes)


def _closed(graph: Graph, ev: Evaluator, target: str, held: str, value: sympy.Expr,
            fixed: Mapping[str, sympy.Expr], best: float, values: Mapping[str, sympy.Basic]
            ) -> tuple[results.Step | None, str, list[str]]:
    node = graph.nodes[target]
    x = node.symbol
    held_node = graph.nodes[held]
    dependents = downstream(graph, target)
    expr = expand_through(graph, held_node.symbol, dependents, fixed)
    numbers = {graph.nodes[n].symbol: v for n, v in values.items() if n != target and n in graph.nodes}
    notes = []
    held_sym = sympy.Symbol(held.split(".")[-1], real=True)
    equation = expr - held_sym
    if equation.has(sympy.ceiling, sympy.floor):
        equation = equation.replace(sympy.ceiling, lambda a: a).replace(sympy.floor, lambda a: a)
        notes.append("ceil/floor relaxed for the closed form")
    branch = ""
    if equation.has(sympy.Min, sympy.Max, sympy.Piecewise):
        numbers_h = dict(numbers)
        numbers_h[held_sym] = value
        equation, branch = active_branch(equation, x, sympy.Float(best), numbers_h)
        if equation is None:
            return None, "bisection", notes
    bisect = (None, "bisection to a relative 1e-14 (no closed form)", notes)
    if sympy.count_ops(equation) > 400 or not polynomial_ok(equation, x):
        return bisect
    solutions = solve_polynomial(equation, x)
    numbers[held_sym] = value
    for sol in solutions:
        val = sol.xreplace(numbers)
        if val.is_number and val.is_real and abs(float(val) - best) <= 1e-6 * max(abs(best), 1e-30):
            names = short_names(graph, sol.free_symbols - {held_sym} | {x}, common_owner([target, held]))
            names[held_sym] = held.split(".")[-1] if "." in held else held
            shown = {s: convert(numbers[s], graph.by_symbol()[s].dim, graph.by_symbol()[s].unit,
                                graph.texts).text for s in sol.free_symbols if s in numbers and s != held_sym}
            shown[held_sym] = convert(value, held_node.dim, held_node.unit).text
            exact = val if val.is_Rational else sympy.Float(val.evalf(20), 20)
            step = results.Step(name=names[x], formula=f"{names[x]} = {print_sympy(sol, names)}",
                                substituted=print_sympy(sol, shown), result=value_of(graph, node, exact),
                                kind="closed-form", note=branch)
            return step, "closed form" + (f" ({branch})" if branch else ""), notes
    return bisect


__all__ = ["format_dim", "invert"]
