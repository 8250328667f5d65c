"""Goals: maximize or minimize subject to every requirement in scope.

Decision variables are the unknowns and choices the goal and requirements
read. Choices are enumerated; at most one continuous (or whole-number)
unknown is then solved in one dimension:

1. each requirement becomes a margin m(x) (>= 0 where it holds), composed
   down to a formula in x and compiled once to NumPy;
2. a log-spaced grid over (1e-15, 1e24], plus every margin's own roots (see
   solver.margins: a range narrower than a grid step is still sampled; overflow
   is redone in mpmath), finds where every margin holds, and bisection refines
   the edge to a relative 1e-12 (or to the whole number);
3. the requirement that turns negative just past the edge is the *binding*
   one; where sympy can solve it in closed form (branch by branch for
   max/min and piecewise formulas) the closed form is shown.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import sympy

from lang.graph import GoalDef, Graph, Requirement
from lang.units import format_dim
from solver import results
from solver.closedform import closed_form, common_owner, downstream, single_node, verdict_hinge
from solver.evaluate import Evaluator, decide, lambdify, substitute
from solver.explain import forward_steps, show_formula, value_of
from solver.margins import (
    Margin,
    build,
    loosened,
    sign_change_roots,
    unique,
    with_breakpoints,
)
from solver.margins import split as _split
from solver.quantities import convert

_loosened = loosened

GRID_POINTS = 4001
# The search range, in canonical units (bytes, seconds, FLOP, tokens...): 39 decades cover a
# nanosecond to a zettabyte; whole numbers stop where floats stop counting exactly.
X_MIN, X_MAX = 1e-15, 1e24
WHOLE_MAX = 1e15
MAX_COMBINATIONS = 4096


class SolveError(Exception):
    """The problem has no answer; the message explains which requirement fails and by how much."""

    def __init__(self, message: str, solution: results.Solution | None = None):
        super().__init__(message)
        self.solution = solution


class GoalSolver:
    def __init__(self, graph: Graph, fixed: Mapping[str, sympy.Expr] | None = None,
                 evaluator: Evaluator | None = None, compiled: dict[tuple[object, ...], object] | None = None):
        self.graph = graph
        self.ev = evaluator or Evaluator(graph)     # share one: its topological order costs a pass
        self.fixed = dict(fixed or {})
        # What one question compiles (margins as NumPy code, the binding requirement's closed form)
        # serves the next on the same graph: a Spec passes one dict to every solver it makes.
        self.compiled = compiled if compiled is not None else {}
        self.answer_point: dict[str, sympy.Expr] = {}

    # -- the problem --

    def solve(self, goal: GoalDef) -> results.Solution:
        graph = self.graph
        goal_free = {n for n in self.ev.free_of(goal.deps) if n not in self.fixed}
        reqs: list[Requirement] = []
        out_of_scope: list[Requirement] = []
        for r in graph.requirements:
            r_free = {n for n in self.ev.free_of(r.deps) if n not in self.fixed}
            # In scope: constant checks, and requirements on what the goal chooses.
            (reqs if not r_free or r_free & goal_free or not goal_free else out_of_scope).append(r)
        deps = list(goal.deps) + [d for r in reqs for d in r.deps]
        free = [n for n in self.ev.free_of(deps) if n not in self.fixed]
        choices = [n for n in free if graph.nodes[n].kind == "choice"]
        unknowns = [n for n in free if graph.nodes[n].kind == "unknown"]
        if len(unknowns) > 1:
            raise SolveError(f"goal `{goal.name}` leaves {len(unknowns)} unknowns free: "
                             f"{', '.join(f'`{u}`' for u in unknowns)}; give all but one a value "
                             f"with --set")
        options = [graph.nodes[c].options for c in choices]
        combos = list(itertools.islice(itertools.product(*options), MAX_COMBINATIONS + 1))
        if len(combos) > MAX_COMBINATIONS:
            raise SolveError(f"goal `{goal.name}` has more than {MAX_COMBINATIONS} combinations of "
                             "choices; fix some with --set")
        var = unknowns[0] if unknowns else None
        outcomes = []
        explain_each = len(combos) == 1
        for combo in combos:
            fixed = dict(self.fixed)
            fixed.update({c: o.value for c, o in zip(choices, combo)})
            outcome = self._solve_one(goal, reqs, var, fixed, explain=explain_each)
            outcome.labels = {c: o.label for c, o in zip(choices, combo)}
            outcome.fixed = fixed
            outcomes.append(outcome)
        feasible = [o for o in outcomes if o.feasible and o.objective is not None]
        sign = 1 if goal.sense == "maximize" else -1
        if not explain_each:
            # Derivations cost more than the search: write one for the answer (or the closest miss).
            chosen = (max(feasible, key=lambda o: sign * float(o.objective)) if feasible  # type: ignore[arg-type]
                      else min(outcomes, key=lambda o: o.shortfall))
            explained = self._solve_one(goal, reqs, var, chosen.fixed, explain=True)
            explained.labels, explained.fixed = chosen.labels, chosen.fixed
            outcomes[outcomes.index(chosen)] = explained
            feasible = [o for o in outcomes if o.feasible and o.objective is not None]
        candidates = []
        if choices:
            for o in outcomes:
                label = ", ".join(o.labels.values())
                candidates.append(results.Candidate(
                    option=label, objective=self._objective_value(goal, o.objective) if o.feasible else
                    (self._objective_value(goal, o.objective) if o.objective is not None else None),
                    feasible=o.feasible, broken=o.broken, binding=o.binding_text if o.feasible else None,
                    decision=value_of(graph, graph.nodes[var], sympy.Float(o.x)) if var and o.x is not None
                    and o.feasible else None))
            candidates.sort(key=lambda c: (not c.feasible, -sign * (c.objective.si_value or 0)
                                           if c.objective and c.objective.si_value is not None else 0))
        if not feasible:
            worst = outcomes[0] if len(outcomes) == 1 else min(outcomes, key=lambda o: o.shortfall)
            message = worst.reason or "no option satisfies every requirement"
            if choices and len(outcomes) > 1:
                message = "no option satisfies every requirement; closest: " + \
                          f"{', '.join(worst.labels.values())}: {worst.reason}"
            sol = results.Solution(spec=graph.path, target=goal.name, kind="goal", value=None, unit="",
                                   text="no solution", binding=worst.binding_text, method=worst.method,
                                   steps=worst.steps, candidates=candidates, notes=[message])
            raise SolveError(message, sol)
        best = max(feasible, key=lambda o: sign * float(o.objective))  # type: ignore[arg-type]
        # The decision at the answer, for callers that evaluate there (solver/diff.py).
        self.answer_point = dict(best.fixed)
        if var is not None and best.x is not None:
            self.answer_point[var] = best.exact if best.exact is not None else sympy.Float(best.x)
        answer = self._objective_value(goal, best.objective)
        if var is not None and goal.target == var:
            answer = value_of(graph, graph.nodes[var], best.exact if best.exact is not None
                              else sympy.Float(best.x))
        notes = list(best.notes)
        notes.extend(self._verdicts(var, best))
        if out_of_scope:
            owners = sorted({f"`{r.owner}`" if r.owner else "the spec's own" for r in out_of_scope})
            notes.append(f"{len(out_of_scope)} requirements of {', '.join(owners)} constrain other unknowns "
                         "and do not bind this goal")
        if choices:
            picked = ", ".join(f"{c} = {best.labels[c]}" for c in choices)
            notes.insert(0, f"chosen: {picked}")
        header = self._header(goal, best)
        return results.Solution(
            spec=graph.path, target=goal.name, kind="goal", value=answer.value, unit=answer.unit,
            text=answer.text, binding=best.binding_text, method=best.method,
            steps=[header] + best.steps, candidates=candidates, notes=notes,
            requirements=best.requirement_report, choice=best.labels)

    def _verdicts(self, var: str | None, outcome: Outcome) -> list[str]:
        """Text quantities of the variable's record at the answer (`bottleneck = memory`)."""
        if var is None or not outcome.values:
            return []
        owner = self.graph.nodes[var].owner
        moving = {self.graph.nodes[n].symbol for n in downstream(self.graph, var)}
        known = {self.graph.nodes[n].symbol: v for n, v in outcome.values.items() if n in self.graph.nodes}
        said = []
        for node in self.graph.nodes.values():
            if node.is_text and node.owner == owner and node.name in outcome.values:
                if verdict_hinge(node.expr, moving).xreplace(known) == 0:
                    continue                    # an input settles it, whatever the answer
                shown = value_of(self.graph, node, outcome.values[node.name]).text
                said.append(f"at the answer, {node.name} = {shown}")
        return said

    def _header(self, goal: GoalDef, outcome: Outcome) -> results.Step:
        subject = f"  subject to  {outcome.binding_text}" if outcome.binding_text else ""
        return results.Step(name=goal.name, formula=f"{goal.sense} {goal.text}{subject}", kind="formula")

    def _objective_value(self, goal: GoalDef, value: sympy.Basic | float | None) -> results.Value:
        if value is None:
            return results.Value(value=None, unit="", text="?")
        node = self.graph.nodes.get(goal.target) if goal.target else None
        expr = value if isinstance(value, sympy.Basic) else sympy.Float(value)
        return value_of(self.graph, node, expr, unit=goal.unit if node is None else None, dim=goal.dim)

    # -- one combination --

    def _solve_one(self, goal: GoalDef, reqs: list[Requirement], var: str | None,
                   fixed: dict[str, sympy.Expr], explain: bool = True) -> Outcome:
        if var is None:
            return self._check_point(goal, reqs, fixed, explain)
        return self._solve_1d(goal, reqs, var, fixed, explain)

    def _check_point(self, goal: GoalDef, reqs: list[Requirement], fixed: dict[str, sympy.Expr],
                     explain: bool = True) -> Outcome:
        values = self.ev.values(fixed)
        nodes = self.graph.nodes
        objective = substitute(goal.expr, {nodes[d].symbol: values[d] for d in goal.deps if d in values})
        out = Outcome()
        out.objective = objective if objective.is_number else None
        out.method = "enumeration"
        report, first_broken, shortfall = self._report(reqs, values)
        out.requirement_report = report
        out.feasible = first_broken is None and out.objective is not None
        out.broken = first_broken
        out.shortfall = shortfall
        out.reason = f"requirement `{first_broken}`" if first_broken else ""
        if explain:
            out.steps = self._steps_for(goal, reqs, values, [])
        return out

    def _report(self, reqs: list[Requirement], values: Mapping[str, sympy.Basic]
                ) -> tuple[list[results.Requirement], str | None, float]:
        report = []
        first_broken = None
        shortfall = 0.0
        for r in reqs:
            entry = self.requirement_entry(r, values)
            report.append(entry)
            if entry.holds is False:
                shortfall += 1.0
                if first_broken is None:
                    first_broken = f"{r.text}: {entry.margin}" if entry.margin else r.text
        return report, first_broken, shortfall

    def requirement_entry(self, r: Requirement, values: Mapping[str, sympy.Basic]) -> results.Requirement:
        graph = self.graph
        truth = substitute(r.expr, {graph.nodes[d].symbol: values[d] for d in r.deps if d in values})
        holds = decide(truth)
        parts = _split(r.expr)
        if parts is None:
            return results.Requirement(text=r.text, record=r.owner, holds=holds)
        lhs, rhs, sense, _ = parts
        known = {graph.nodes[d].symbol: values[d] for d in r.deps if d in values}
        lv = substitute(lhs, known)
        rv = substitute(rhs, known)
        node = None
        unit, dim = r.side_unit, r.side_dim
        if dim is None:
            node = single_node(graph, lhs) or single_node(graph, rhs)
            unit = node.unit if node else None
            dim = node.dim if node else None
        lval = value_of(graph, node, lv, unit, dim) if lv.is_number else None
        rval = value_of(graph, node, rv, unit, dim) if rv.is_number else None
        margin = ""
        if lv.is_number and rv.is_number and lv.is_finite and rv.is_finite:    # nan: undefined, no margin
            exact_diff = substitute((rv - lv) * (1 if sense >= 0 else -1), {})
            diff = float(exact_diff) if exact_diff.is_number else math.nan
            # In the sides' own unit, unless that makes a tiny number (192.512 kB, not 0.000192512 GB).
            gap = sympy.Float(abs(diff)) if math.isfinite(diff) else abs(exact_diff)
            shown = convert(gap, dim, unit)
            if shown.value is not None and 0 < abs(shown.value) < 0.01:
                shown = convert(gap, dim, None)
            over = shown.text
            pct = abs(diff) / abs(float(rv)) * 100 if float(rv) else float("inf")
            lt, rt = (lval.text if lval else "?"), (rval.text if rval else "?")
            if sense == 0:
                margin = "" if holds else f"{lt} is not {rt} (off by {over})"
            elif holds is False:
                share = f" ({pct:.3g} %)" if math.isfinite(pct) else ""
                side = "over" if sense > 0 else "short of"
                margin = f"{lt} is {over}{share} {side} {rt}"
            else:
                margin = f"{over} to spare"
        return results.Requirement(text=r.text, record=r.owner, holds=holds, lhs=lval, rhs=rval, margin=margin)

    def _compiled_margins(self, reqs: list[Requirement], var: str, fixed: dict[str, sympy.Expr]) -> list[Margin]:
        key = ("margins", tuple(id(r) for r in reqs), var, tuple(sorted(fixed.items())))
        found = self.compiled.get(key)
        if found is None:
            found = self.compiled[key] = self._margins(reqs, var, fixed)
        return list(cast(list[Margin], found))

    def _compiled_closed_form(self, binding: Margin, var: str, fixed: dict[str, sympy.Expr], best: float,
                              out: Outcome, values: Mapping[str, sympy.Basic]) -> list[results.Step]:
        """`closed_form`, once per binding requirement, variable, fixed values and answer."""
        key = ("closed form", id(binding.req), var, tuple(sorted(fixed.items())), best)
        found = self.compiled.get(key)
        if found is None:
            noted = len(out.notes)
            derived = closed_form(self.graph, binding, var, fixed, best, out, values)
            self.compiled[key] = (list(derived), out.method, out.notes[noted:])
            return derived
        steps, method, notes = cast(tuple[list[results.Step], str, list[str]], found)
        out.method = method
        out.notes.extend(notes)
        return list(steps)

    def _margins(self, reqs: list[Requirement], var: str, fixed: dict[str, sympy.Expr]) -> list[Margin]:
        x = self.graph.nodes[var].symbol
        margins = []
        for r in reqs:
            parts = _split(r.expr)
            if parts is None:
                composed = self.ev.compose(r.expr, [var], fixed)
                fn = lambdify(sympy.Piecewise((1.0, composed), (-1.0, True)), [x])
                margins.append(Margin(r, sympy.Integer(0), sympy.Integer(0), 1, False, fn, None))
                continue
            lhs, rhs, sense, strict = parts
            lc = self.ev.compose(lhs, [var], fixed)
            rc = self.ev.compose(rhs, [var], fixed)
            margins.append(build(r, x, lc, rc, sense, strict, lambdify))
        return margins

    def _solve_1d(self, goal: GoalDef, reqs: list[Requirement], var: str,
                  fixed: dict[str, sympy.Expr], explain: bool = True) -> Outcome:
        graph = self.graph
        node = graph.nodes[var]
        x = node.symbol
        margins = self._compiled_margins(reqs, var, fixed)
        objective = self.ev.compose(goal.expr, [var], fixed)
        obj_fn = lambdify(objective, [x])
        whole = node.whole
        if whole:
            grid = unique(np.round(np.geomspace(1, WHOLE_MAX, GRID_POINTS)))
        else:
            grid = np.geomspace(X_MIN, X_MAX, GRID_POINTS)

        def ok(xs: np.ndarray, slack: float = 1e-12) -> np.ndarray:
            mask = np.ones(xs.shape, dtype=bool)
            for m in margins:
                mask &= m.holds(xs, slack)
            return mask

        # Equalities that involve the variable pin it; constant ones are mere checks.
        equalities = [m for m in margins if m.sense == 0 and var in self.graph.upstream(list(m.req.deps))]
        if equalities:
            # An equality pins the variable: its roots are the only candidates.
            roots = _roots(equalities[0], grid)
            if whole:
                roots = sorted({float(v) for r in roots for v in (math.floor(r), math.ceil(r)) if v >= 1})
                # A whole number meets an equality exactly or not at all (1e12 + 1, not + 2).
                roots = [v for v in roots if _exactly_equal(equalities[0], x, v)] or roots
            grid = np.array(sorted(roots)) if roots else grid[:1]
            margins = [_loosened(m) if m.sense == 0 else m for m in margins]
        out = Outcome()
        # A requirement the variable does not move, broken at one point, is broken at all:
        # report it without sampling the rest (which may need slow exact arithmetic).
        one = np.array([1.0])
        if any(m.constant and not m.holds(one)[0] for m in margins):
            return self._infeasible(goal, margins, one, var, fixed, out)
        if not equalities:
            # the margins' roots and peaks: fixed once the margins are (the same question again,
            # from a notebook or a sweep, skips their refinement)
            key = ("breakpoints", tuple(id(r) for r in reqs), var, tuple(sorted(fixed.items())), whole)
            found = self.compiled.get(key)
            if found is None:
                found = self.compiled[key] = with_breakpoints(margins, grid, x, whole)
            grid = cast(np.ndarray, found)
        feasible = ok(grid)
        if not feasible.any():
            return self._infeasible(goal, margins, grid, var, fixed, out)
        with np.errstate(all="ignore"):
            objs = np.asarray(obj_fn(grid), dtype=float) * np.ones_like(grid)
        sign = 1 if goal.sense == "maximize" else -1
        scores = np.where(feasible & np.isfinite(objs), sign * objs, -np.inf)
        k = int(np.argmax(scores))
        # Unbounded: the best point is the grid's edge and the objective still improves there.
        if k == len(grid) - 1 and feasible[-1] and not equalities:
            end = convert(sympy.Float(grid[-1]), node.dim, node.unit).text
            if any(m.tightens(grid[-1]) for m in margins):   # a requirement would bind past the range
                raise SolveError(f"goal `{goal.name}` has no answer within the search range: every "
                                 f"requirement still holds at `{var}` = {end}, the range's end")
            raise SolveError(f"goal `{goal.name}` is unbounded: no requirement limits `{var}` "
                             f"(feasible up to {end})")
        # Refine: toward the neighbour where feasibility ends, or by golden section inside.
        # A continuous edge is refined without slack on inequalities, so the answer holds exactly
        # (with it, bisection settles up to 1e-12 past the boundary and the check reports `fails`).
        edge_ok = ok if whole else (lambda xs: ok(xs, 0.0))
        if k + 1 < len(grid) and not feasible[k + 1]:
            best = self._edge(edge_ok, grid[_inside(edge_ok, grid, feasible, k, -1)], grid[k + 1], whole)
        elif k > 0 and not feasible[k - 1]:
            best = self._edge(edge_ok, grid[_inside(edge_ok, grid, feasible, k, 1)], grid[k - 1], whole)
        else:
            best = self._interior(obj_fn, ok, grid, k, sign, whole)
        out.x = float(best)
        out.exact = sympy.Integer(int(best)) if whole else None
        out.feasible = True
        out.objective = sympy.Float(float(np.asarray(obj_fn(np.array([best])), dtype=float).ravel()[0]))
        if goal.target == var:
            out.objective = out.exact if out.exact is not None else sympy.Float(best)
        # The binding requirement is the one that breaks just past the optimum.
        step = 1.0 if whole else max(abs(best) * 1e-9, 1e-12)
        beyond = best + step if (k + 1 < len(grid) and not feasible[k + 1]) else best - step
        binding = None
        for m in margins:
            v = float(m.normalized(np.array([beyond]))[0]) if math.isfinite(beyond) else -1
            if not (v >= 0):
                binding = m
                break
        out.method = "root of an equality requirement" if equalities else "bisection on the feasible edge"
        out.binding_text = binding.req.text if binding else None
        if not explain:
            return out
        fixed_at = dict(fixed)
        fixed_at[var] = out.exact if out.exact is not None else sympy.Float(best, 15)
        values = self.ev.values(fixed_at)
        out.values = values
        out.requirement_report = self._report(reqs, values)[0]
        out.steps = self._steps_for(goal, reqs, values, [var], binding=binding)
        if binding is not None:
            out.steps += self._compiled_closed_form(binding, var, fixed, best, out, values)
            if whole:
                out.steps.append(self._next_whole(binding, var, fixed, int(best), beyond))
        elif whole:
            out.steps.append(results.Step(name=var, formula=f"{var} = {int(best)}", kind="answer"))
        return out

    def _edge(self, ok: Callable[[np.ndarray], np.ndarray], inside: float, outside: float,
              whole: bool) -> float:
        lo, hi = inside, outside
        for _ in range(200):
            if whole and abs(hi - lo) <= 1:
                break
            if not whole and abs(hi - lo) <= 1e-13 * max(abs(lo), abs(hi)):
                break
            mid = (lo + hi) / 2 if not whole else float(math.floor((lo + hi) / 2))
            if whole and mid in (lo, hi):
                mid = lo + (1 if hi > lo else -1)
            if ok(np.array([mid]))[0]:
                lo = mid
            else:
                hi = mid
        return lo

    def _interior(self, obj_fn: Callable[..., object], ok: Callable[[np.ndarray], np.ndarray],
                  grid: np.ndarray, k: int, sign: int, whole: bool) -> float:
        a, b = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
        xs = np.linspace(a, b, 2001)
        if whole:
            xs = unique(np.round(xs))
        with np.errstate(all="ignore"):
            vals = sign * np.asarray(obj_fn(xs), dtype=float) * np.ones_like(xs)
        vals = np.where(ok(xs), vals, -np.inf)
        return float(xs[int(np.argmax(vals))])

    def _infeasible(self, goal: GoalDef, margins: list[Margin], grid: np.ndarray, var: str,
                    fixed: dict[str, sympy.Expr], out: Outcome) -> Outcome:
        node = self.graph.nodes[var]
        with np.errstate(all="ignore"):
            rel = []
            for m in margins:
                v = m.normalized(grid)
                rel.append(np.where(np.isfinite(v), v, -np.inf))
        worst = np.min(np.vstack(rel), axis=0)
        k = int(np.argmax(worst))
        i = int(np.argmin([r[k] for r in rel]))
        # A requirement that fails whatever the variable is explains the rest: report it first.
        for j, m in enumerate(margins):
            if var not in self.graph.upstream(list(m.req.deps)) and not rel[j][k] >= 0:
                i = j
                break
        failing = margins[i]
        at = sympy.Integer(int(grid[k])) if node.whole else sympy.Float(grid[k], 6)
        fixed_at = dict(fixed)
        fixed_at[var] = at
        values = self.ev.values(fixed_at)
        entry = self.requirement_entry(failing.req, values)
        where = convert(at, node.dim, node.unit).text
        out.feasible = False
        out.binding_text = failing.req.text
        out.broken = f"{failing.req.text}: {entry.margin}" if entry.margin else failing.req.text
        if var in self.graph.upstream(list(failing.req.deps)):
            out.reason = (f"no `{var}` satisfies every requirement; `{failing.req.text}` fails first: "
                          f"at the most favourable point ({var} = {where}) {entry.margin or 'it fails'}")
        else:
            out.reason = (f"`{failing.req.text}` fails whatever `{var}` is: "
                          f"{entry.margin or 'it does not hold'}")
        out.shortfall = float(-worst[k])
        out.method = "grid search"
        out.steps = self._steps_for(goal, [failing.req], values, [var], binding=failing)
        return out

    # -- explanation --

    def _steps_for(self, goal: GoalDef, reqs: list[Requirement], values: Mapping[str, sympy.Basic],
                   variables: list[str], binding: Margin | None = None) -> list[results.Step]:
        graph = self.graph
        focus = [binding.req] if binding is not None else reqs
        roots = [d for r in focus for d in r.deps] + list(goal.deps)
        order = graph.upstream(roots)
        owner = focus[0].owner if focus and focus[0].owner else common_owner(order)
        steps = forward_steps(graph, order, values, owner)
        for r in focus:
            context = graph.ref_context(r)
            entry = self.requirement_entry(r, values)
            substituted = show_formula(r.formula, context, graph, values)
            steps.append(results.Step(
                name="binding" if binding is not None else "require", formula=r.text,
                substituted=substituted if substituted != r.text else "",
                note=("holds" if entry.holds else "fails" if entry.holds is False else "")
                + (f"; {entry.margin}" if entry.margin else ""), kind="check"))
        return steps


    def _next_whole(self, binding: Margin, var: str, fixed: dict[str, sympy.Expr], best: int,
                    beyond: float) -> results.Step:
        graph = self.graph
        node = graph.nodes[var]
        nxt = int(round(beyond))
        fixed_next = dict(fixed)
        fixed_next[var] = sympy.Integer(nxt)
        values = self.ev.values(fixed_next, only=binding.req.deps)    # what the one check reads
        entry = self.requirement_entry(binding.req, values)
        unit_word = {"token": "tokens", "request": "requests"}.get(format_dim(node.dim) if node.dim else "",
                                                                   "numbers")
        shown = convert(sympy.Integer(best), node.dim, node.unit).text
        nxt_shown = convert(sympy.Integer(nxt), node.dim, node.unit).text
        op = {1: ">", -1: "<", 0: "!="}[binding.sense]
        breaks = (f"{nxt} needs {entry.lhs.text} {op} {entry.rhs.text}" if entry.lhs and entry.rhs
                  else f"{nxt_shown} breaks `{binding.req.text}`")
        return results.Step(name=var, formula=f"{var} = {shown}",
                            note=f"whole {unit_word}; {breaks}", kind="answer")


@dataclass
class Outcome:
    """What one combination of choices gives: the answer, or why there is none."""

    feasible: bool = False
    objective: sympy.Basic | None = None
    x: float | None = None
    exact: sympy.Basic | None = None
    binding_text: str | None = None
    broken: str | None = None
    reason: str = ""
    shortfall: float = 0.0
    method: str = ""
    steps: list[results.Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requirement_report: list[results.Requirement] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, sympy.Expr] = field(default_factory=dict)
    values: dict[str, sympy.Basic] = field(default_factory=dict)     # every quantity at the answer


# --- helpers ------------------------------------------------------------------------



def _roots(m: Margin, grid: np.ndarray) -> list[float]:
    """Where an equality requirement holds."""
    assert m.signed_fn is not None
    return sign_change_roots(m.signed_fn, grid)



def _inside(ok: Callable[[np.ndarray], np.ndarray], grid: np.ndarray, feasible: np.ndarray, k: int,
            step: int) -> int:
    """The grid point nearest k, stepping inward, where every requirement holds without slack:
    a point within the slack of the edge is not a safe start for bisection."""
    j = k
    while 0 <= j < len(grid) and feasible[j]:
        if ok(grid[j:j + 1])[0]:
            return j
        j += step
    return k


def _exactly_equal(m: Margin, x: sympy.Symbol, at: float) -> bool:
    """Whether an equality holds at a whole number, in exact arithmetic where the sides allow."""
    try:
        diff = substitute(m.rhs - m.lhs, {x: sympy.Integer(int(at))})
        if diff.is_Rational:
            return bool(diff == 0)
        scale = substitute(sympy.Abs(m.rhs) + sympy.Abs(m.lhs), {x: sympy.Integer(int(at))})
        return bool(abs(float(diff)) <= 1e-15 * abs(float(scale)))
    except (TypeError, ValueError, ArithmeticError):
        return True
