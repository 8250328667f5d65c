"""Writing a spec's goals into its compiled form (solver.fastgoal answers them), from the full pipeline.

A goal is compiled when it maximizes one whole-number unknown (`maximize chat.batch`) with no
choice to enumerate and every requirement in scope an inequality: its answer is then an exact
integer and every value at the answer an exact rational, which Fractions reproduce bit for bit.
For each such goal this stores: the quantities the unknown moves as code (exact, and over
floats for the coarse scan), each requirement's sides, and for every requirement that may bind,
what `closedform.closed_form` does with it, recorded on the spec's own values: the sides with
the active branch of every max/min/if picked (each pick kept as code, so a new question checks
it picks the same), the roots of the polynomial as code and as printed text with a slot per
value, the coefficient form where the text runs past 160 characters, and the derivation's
steps as templates (solver.fastbuild). Anything else leaves the goal to the full pipeline.
"""

from __future__ import annotations

from typing import Any

import sympy

from lang.graph import GoalDef, Graph, Node, Requirement
from solver.closedform import (
    common_owner,
    downstream,
    expand_through,
    fix_branches,
    pick_minmax,
    single_node,
    verdict_hinge,
)
from solver.explain import display_unit, print_sympy, short_names
from solver.fastbuild import Unsupported, code, derivation, display, requirement_item, template
from solver.margins import polynomial_ok, solve_polynomial, split
from solver.optimize import GoalSolver, SolveError

RELAXED = "ceil/floor relaxed to solve; the whole-number check below is exact"
NO_FORM = "no closed form for the binding requirement; solved by bisection to a relative 1e-12"


def goals(spec: Any, data: dict[str, Any], lines: list[str], only: list[str], solution: Any = None) -> None:
    """Compile the goals named in `only` into the data's `goals` (by name) and `goal_names` (what
    `--for` may say), their code into lines; `solution`: the full pipeline's answer to the one goal
    asked (its search is not run again). A goal is tried once per compiled form."""
    from solver import fastpath

    graph: Graph = spec.graph
    compiled: dict[str, Any] = data["goals"]
    for j, goal in enumerate(graph.goals):
        if goal.name not in only or goal.name in data["goals_tried"]:
            continue
        data["goals_tried"].append(goal.name)
        own: list[str] = []
        try:
            compiled[goal.name] = _goal(spec, goal, j, data, own, solution)
        except (Unsupported, SolveError, ArithmeticError, TypeError, ValueError, KeyError) as why:
            fastpath.debug(f"goal `{goal.name}` is left to the full pipeline: {str(why)[:200]}")
            continue
        lines += own
    data["goal_names"] = _names(graph, compiled)


def _names(graph: Graph, compiled: dict[str, Any]) -> dict[str, str]:
    """What `--for` may say for each compiled goal, as `Spec.resolve_name` and `Spec.solve` read it."""
    goal_names = {g.name for g in graph.goals}
    out = {}
    for g in graph.goals:
        if g.name in compiled and g.name not in graph.nodes:
            out[g.name] = g.name
        short = g.name.split(".")[-1]
        same = [h for h in graph.goals if h.name.split(".")[-1] == short]
        if g.name in compiled and short not in graph.nodes and short not in goal_names and len(same) == 1:
            out[short] = g.name
    for name, node in graph.nodes.items():
        if node.kind == "unknown" and name not in goal_names:
            first = next((g for g in graph.goals if g.target == name), None)
            if first is not None and first.name in compiled:
                out[name] = first.name
    return out


def _scope(spec: Any, goal: GoalDef) -> tuple[list[Requirement], list[Requirement], str]:
    """The requirements in and out of the goal's scope, as GoalSolver.solve decides (--set is in the
    graph), and its one whole-number unknown; Unsupported for anything goalbuild does not compile."""
    graph: Graph = spec.graph
    ev = spec.evaluator
    goal_free = set(ev.free_of(goal.deps))
    reqs: list[Requirement] = []
    out_of_scope: list[Requirement] = []
    for r in graph.requirements:
        r_free = set(ev.free_of(r.deps))
        (reqs if not r_free or r_free & goal_free or not goal_free else out_of_scope).append(r)
    free = ev.free_of(list(goal.deps) + [d for r in reqs for d in r.deps])
    if any(graph.nodes[n].kind == "choice" for n in free):
        raise Unsupported("choices to enumerate")
    unknowns = [n for n in free if graph.nodes[n].kind == "unknown"]
    if len(unknowns) != 1:
        raise Unsupported("not one unknown")
    var = unknowns[0]
    node = graph.nodes[var]
    if not node.whole or goal.target != var or goal.sense != "maximize":
        raise Unsupported("not the maximum of a whole-number unknown")
    for r in reqs:
        parts = split(r.expr)
        if parts is None or (parts[2] == 0 and var in graph.upstream(list(r.deps))):
            raise Unsupported(f"requirement `{r.text}` is not an inequality")
    return reqs, out_of_scope, var


def _goal(spec: Any, goal: GoalDef, j: int, data: dict[str, Any], lines: list[str],
          solution: Any = None) -> dict[str, Any]:
    graph: Graph = spec.graph
    ev = spec.evaluator
    by_symbol = graph.by_symbol()
    reqs, out_of_scope, var = _scope(spec, goal)
    node = graph.nodes[var]
    if solution is None:
        solver = GoalSolver(graph, evaluator=ev, compiled=getattr(spec, "_compiled", None))
        solution = solver.solve(goal)
        best = solver.answer_point.get(var)
    elif isinstance(solution.value, int) and not isinstance(solution.value, bool):
        best = sympy.Integer(solution.value)
    else:
        raise Unsupported("the answer is not a whole number")
    if not isinstance(best, sympy.Integer):
        raise Unsupported("the answer is not a whole number")
    base = ev.values()
    at = ev.values({var: best})
    moved = [n for n in ev.order if n in at and n not in base]
    if any(n != var and graph.nodes[n].kind != "derived" for n in moved):
        raise Unsupported("the unknown moves something other than formulas")
    lines += [f"def _g{j}(v):"] + [f"    v[{n!r}] = _s({code(graph.nodes[n].expr, by_symbol)})"
                                  for n in moved if n != var] + ["    return v"]
    # The margins read fewer (chat: 41 of 70): the scan, over floats or arrays, and the exact
    # check past the answer compute those alone; the answer's own values are computed whole.
    needed = set(graph.upstream([d for r in reqs for d in r.deps]))
    scanned = [n for n in moved if n != var and n in needed]
    lines += [f"def _g{j}r(v):"] + [f"    v[{n!r}] = _s({code(graph.nodes[n].expr, by_symbol)})"
                                   for n in scanned] + ["    return v"]
    lines += [f"def _g{j}f(v):"] + [f"    v[{n!r}] = {code(graph.nodes[n].expr, by_symbol, True)}"
                                   for n in scanned] + ["    return v"]
    lines += [f"def _g{j}v(v):"] + [f"    v[{n!r}] = {code(graph.nodes[n].expr, by_symbol, vector=True)}"
                                   for n in scanned] + ["    return v"]
    for n in at:
        data["shows"].setdefault(n, display(graph, graph.nodes[n], None, None))
    items = []
    for i, r in enumerate(reqs):
        item = requirement_item(graph, r, f"g{j}_{i}", by_symbol, lines)
        lhs, rhs, _, _ = split(r.expr)  # type: ignore[misc]
        lines += [f"def _lfg{j}_{i}(v):", f"    return _fs({code(lhs, by_symbol, True)})",
                  f"def _hfg{j}_{i}(v):", f"    return _fs({code(rhs, by_symbol, True)})",
                  f"def _lvg{j}_{i}(v):", f"    return _vs({code(lhs, by_symbol, vector=True)})",
                  f"def _hvg{j}_{i}(v):", f"    return _vs({code(rhs, by_symbol, vector=True)})"]
        item.update({"lf": f"_lfg{j}_{i}", "hf": f"_hfg{j}_{i}", "lv": f"_lvg{j}_{i}", "hv": f"_hvg{j}_{i}",
                     "moves": var in graph.upstream(list(r.deps))})
        items.append(item)
    # each text verdict with the test of whether the answer decides it (closedform.verdict_hinge)
    moving = {graph.nodes[n].symbol for n in downstream(graph, var)}
    texts_of = []
    for k, t in enumerate(n for n in graph.nodes.values() if n.is_text and n.owner == node.owner and n.name in at):
        lines += [f"def _gt{j}_{k}(v):", f"    return {code(verdict_hinge(t.expr, moving), by_symbol)}"]
        texts_of.append([t.name, f"_gt{j}_{k}"])
    notes = []
    if out_of_scope:
        owners = sorted({f"`{r.owner}`" if r.owner else "the spec's own" for r in out_of_scope})
        notes.append(f"{len(out_of_scope)} requirements of {', '.join(owners)} constrain other unknowns "
                     "and do not bind this goal")
    binds: dict[str, list[dict[str, Any]]] = {}
    for i, r in enumerate(reqs):      # the closed form of what binds at these values (each costs)
        if var in graph.upstream(list(r.deps)) and r.text == solution.binding:
            binds[str(i)] = [_binding(spec, goal, r, var, int(best), at, data, lines, f"{j}_{i}_0")]
            break
    else:
        raise Unsupported("no requirement binds")
    unit_word = {"token": "tokens", "request": "requests"}.get(data["shows"][var].get("si", ""), "numbers")
    return {"var": var, "index": j, "code": f"_g{j}", "rcode": f"_g{j}r", "fcode": f"_g{j}f", "vcode": f"_g{j}v",
            "reqs": items, "binds": binds, "texts": texts_of, "notes": notes, "sense": goal.sense,
            "goal_text": goal.text, "whole_show": display(graph, None, node.unit, node.dim), "unit_word": unit_word}


MAX_VARIANTS = 8        # closed forms kept per goal, for other binding requirements or branches


def variant(spec: Any, data: dict[str, Any], name: str, solution: Any, lines: list[str]) -> None:
    """Add to a compiled goal the closed form `solution` shows (another requirement binds, or
    another branch of a max/min/if is active): `spec` is the spec as asked, `solution` its answer."""
    entry = data["goals"][name]
    if entry.get("variants_tried", 0) > MAX_VARIANTS:
        raise Unsupported("enough closed forms tried for this goal")
    graph: Graph = spec.graph
    goal = next(g for g in graph.goals if g.name == name)
    reqs, _, var = _scope(spec, goal)
    if [r.text for r in reqs] != [r["text"] for r in entry["reqs"]] or var != entry["var"]:
        raise Unsupported("the goal's scope differs")
    if not isinstance(solution.value, int) or isinstance(solution.value, bool):
        raise Unsupported("the answer is not a whole number")
    at = spec.evaluator.values({var: sympy.Integer(solution.value)})
    for i, r in enumerate(reqs):
        if var in graph.upstream(list(r.deps)) and r.text == solution.binding:
            known = entry["binds"].setdefault(str(i), [])
            tag = f"{entry['index']}_{i}_{entry['variants_tried']}"
            known.append(_binding(spec, goal, r, var, solution.value, at, data, lines, tag))
            return
    raise Unsupported("no requirement binds")


def _binding(spec: Any, goal: GoalDef, req: Requirement, var: str, best: int, at: dict[str, Any],
             data: dict[str, Any], lines: list[str], tag: str) -> dict[str, Any]:
    """What the answer shows when `req` binds: the derivation, the check, the closed form."""
    graph: Graph = spec.graph
    by_symbol = graph.by_symbol()
    roots = [d for d in req.deps] + list(goal.deps)
    order = graph.upstream(roots)
    owner = req.owner if req.owner else common_owner(order)
    steps = derivation(graph, order, owner, at, data["formulas"], data["conv"])
    slots: list[list[Any]] = []
    pieces = template(req.formula, graph.ref_context(req), graph, at, slots)
    for ref, _ in slots:
        data["conv"].setdefault(ref, display(graph, None, display_unit(graph.nodes[ref]), graph.nodes[ref].dim))
    check = {"formula": req.text, "pieces": pieces, "slots": slots, "alias": False}
    entry = {"steps": steps, "check": check, "sense": split(req.expr)[2]}  # type: ignore[index]
    entry["closed"] = _closed(graph, req, var, best, at, by_symbol, lines, tag)
    return entry


def _closed(graph: Graph, req: Requirement, var: str, best: int, at: dict[str, Any],
            by_symbol: dict[sympy.Symbol, Node], lines: list[str], tag: str) -> dict[str, Any]:
    """`closedform.closed_form` for `req`, recorded (see the module's docstring)."""
    node = graph.nodes[var]
    x = node.symbol
    lhs, rhs, _, _ = split(req.expr)  # type: ignore[misc]
    dependents = downstream(graph, var)
    numbers = {graph.nodes[n].symbol: v for n, v in at.items() if n != var}
    point = sympy.Float(best)
    relaxed = False
    picks: list[dict[str, Any]] = []
    sides = []
    branch_notes = []
    for side in (lhs, rhs):
        expanded = expand_through(graph, side, dependents, {})
        if expanded.has(sympy.ceiling, sympy.floor):
            expanded = expanded.replace(sympy.ceiling, lambda a: a).replace(sympy.floor, lambda a: a)
            relaxed = True
        if expanded.has(sympy.Min, sympy.Max, sympy.Piecewise):
            expanded, branch = _active_branch(expanded, x, point, numbers, by_symbol, picks)
            if branch:
                branch_notes.append(branch)
        sides.append(expanded)
    for pi, p in enumerate(picks):         # each branch's value (or truth) as a function of the values
        for ai, source in enumerate(p["args"]):
            lines += [f"def _pk{tag}_{pi}_{ai}(v):", f"    return {source}"]
            p["args"][ai] = f"_pk{tag}_{pi}_{ai}"
        for ai, source in enumerate(p.pop("float_args", [])):      # max/min: over floats too
            lines += [f"def _pkf{tag}_{pi}_{ai}(v):", f"    return _fs({source})"]
            p.setdefault("fargs", []).append(f"_pkf{tag}_{pi}_{ai}")
    out: dict[str, Any] = {"picks": picks, "branch": "; ".join(branch_notes)}
    equation = sides[0] - sides[1]
    if sympy.count_ops(equation) > 2000 or not polynomial_ok(equation, x):
        out["kind"] = "none"
        return out
    owner = common_owner([var, *req.deps])
    found = []
    for k, root in enumerate(solve_polynomial(equation, x)):
        lines += [f"def _root{tag}_{k}(v):", f"    return _s({code(root, by_symbol)})"]
        names = short_names(graph, root.free_symbols | {x}, owner)
        shown = [s for s in root.free_symbols if s in numbers]
        marks = {s: f"\x01{i}\x01" for i, s in enumerate(shown)}
        slots = [[by_symbol[s].name, display(graph, None, by_symbol[s].unit, by_symbol[s].dim)] for s in shown]
        found.append({"code": f"_root{tag}_{k}", "xname": names[x], "text": print_sympy(root, names),
                      "pieces": print_sympy(root, marks), "slots": slots})
    out.update({"kind": "form", "roots": found, "relaxed": relaxed})
    lines += [f"def _side{tag}(v):", f"    return _s({code(sides[0], by_symbol)})",
              f"def _rside{tag}(v):", f"    return _s({code(sides[1], by_symbol)})"]
    side = single_node(graph, lhs)
    coefficients = None
    if x not in sides[1].free_symbols and set(sides[1].free_symbols) <= set(numbers) and side is not None \
            and side.dim is not None and node.dim is not None:
        try:
            degree = sympy.Poly(sides[0], x).degree()
        except sympy.PolynomialError:
            raise Unsupported("whether the coefficient form applies depends on the values") from None
        coefficients = {"degree": degree, "side": f"_side{tag}", "rside": f"_rside{tag}",
                        "c0": display(graph, None, display_unit(side), side.dim),
                        "c1": display(graph, None, None, side.dim / node.dim),
                        "rhs": display(graph, None, side.unit, side.dim),
                        "lhs_name": req.text.split(" ")[0], "limit": req.text.split(" ", 2)[2]}
    out["coefficients"] = coefficients
    return out


def _active_branch(expr: sympy.Basic, x: sympy.Symbol, at: sympy.Basic, numbers: dict[sympy.Symbol, Any],
                   by_symbol: dict[sympy.Symbol, Node], picks: list[dict[str, Any]]) -> tuple[sympy.Basic, str]:
    """solver.closedform.active_branch, each pick recorded as code (a new question must pick the same)."""
    notes = []

    def pick(node: sympy.Basic) -> sympy.Basic:
        if isinstance(node, (sympy.Max, sympy.Min)):
            args = list(node.args)
            k, note = pick_minmax(node, [a.xreplace(numbers).xreplace({x: at}) for a in args])
            kind = "max" if isinstance(node, sympy.Max) else "min"
            notes.append(note)
            picks.append({"kind": kind, "args": [code(a, by_symbol) for a in args], "pick": k})
            try:            # over floats too, to decide a clear pick fast (none: exact arithmetic decides)
                picks[-1]["float_args"] = [code(a, by_symbol, True) for a in args]
            except Unsupported:
                pass
            return args[k]
        if isinstance(node, sympy.Piecewise):
            conds = []
            for i, (e, c) in enumerate(node.args):
                truth = c.xreplace(numbers).xreplace({x: at}) if c is not sympy.true else sympy.true
                conds.append(code(c, by_symbol))
                if truth is sympy.true:
                    picks.append({"kind": "if", "args": conds, "pick": i})
                    return e
            raise Unsupported("an if with no branch taken")
        return node

    fixed = fix_branches(expr, pick, lambda e, mapping: e.xreplace(mapping))
    if fixed is None:
        raise Unsupported("a branch that does not resolve, or branches nested too deep")
    return fixed, "; ".join(dict.fromkeys(notes))
