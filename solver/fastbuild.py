"""Writing a spec's compiled form (solver.fastpath), from the full pipeline's own graph.

Each quantity's sympy formula is printed as Python over `fractions.Fraction` by a printer that
knows a closed list of node types (numbers, names, + · ^ with whole exponents, ceil, floor,
max, min, if/else, comparisons, and/or/not); anything else makes the spec unsupported. Names
enter the code only as `repr` string literals, never as code. How each value is shown (its
unit, factor, or the ladder of readable units) is taken from solver.quantities' own tables.
Before the form is kept, it answers the spec's default `eval` (text and JSON) and the bytes
must equal the full pipeline's; any difference, or any unsupported part, keeps nothing (the
reason is printed under INFER_DEBUG).
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy

from lang import syntax as ast
from lang.graph import Graph, Node
from lang.lower import _EXACT_POWER_BITS
from lang.reads import recording
from lang.units import BOOL, TEXT, Dim, format_dim
from solver import fastpath
from solver.closedform import single_node
from solver.explain import display_unit, is_flag, print_formula
from solver.margins import split
from solver.quantities import _LADDERS, unit_factor


class Unsupported(Exception):
    pass


_COMPARE = {sympy.LessThan: "<=", sympy.StrictLessThan: "<", sympy.GreaterThan: ">=",
            sympy.StrictGreaterThan: ">", sympy.Equality: "==", sympy.Unequality: "!="}


def code(expr: sympy.Basic, by_symbol: dict[sympy.Symbol, Node], floats: bool = False,
         vector: bool = False) -> str:
    """Python source for a formula; `v` holds the values of the quantities it reads. With
    `floats`, the same formula over floats (a goal's coarse scan: fast, and only a guide); with
    `vector` too, over NumPy arrays of floats (the scan's points at once: solver.fastscan's
    functions in place of max, min, if/else, and/or/not, powers, ceil and floor)."""
    floats = floats or vector

    def c(e: sympy.Basic) -> str:
        if e is sympy.true:
            return "True"
        if e is sympy.false:
            return "False"
        if isinstance(e, sympy.Rational) and floats:
            number = float(Fraction(int(e.p), int(e.q)))
            if (number == 0 and e != 0) or not math.isfinite(number):
                raise Unsupported("a constant past a float")
            return f"({number!r})"
        if isinstance(e, sympy.Rational):
            return f"F({int(e.p)}, {int(e.q)})"
        if isinstance(e, sympy.Symbol):
            node = by_symbol.get(e)
            if node is None:
                raise Unsupported(f"a symbol outside the graph: {e}")
            return f"v[{node.name!r}]"
        if isinstance(e, sympy.Add):
            return "(" + " + ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sympy.Mul):
            return "(" + " * ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sympy.Pow):
            if e.exp.is_number and not e.exp.is_Integer:
                raise Unsupported(f"a fractional power: {e}")
            if e.exp == -1:        # a division (1/0 raises ZeroDivisionError: the caller falls back)
                return f"({'1.0' if floats else '1'} / {c(e.base)})"
            if floats:
                return f"_{'v' if vector else 'f'}pow({c(e.base)}, {c(e.exp)})"
            return f"_pow({c(e.base)}, {c(e.exp)}, {_EXACT_POWER_BITS})"
        prefix = "_v" if vector else "_f" if floats else "_"
        if isinstance(e, sympy.ceiling):
            return f"{prefix}ceil({c(e.args[0])})"
        if isinstance(e, sympy.floor):
            return f"{prefix}floor({c(e.args[0])})"
        if isinstance(e, (sympy.Max, sympy.Min)):
            name = ("_v" if vector else "") + ("max" if isinstance(e, sympy.Max) else "min")
            return f"{name}(" + ", ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sympy.Piecewise):
            out = "_VUNDEF" if vector else "_undefined()"
            for value, cond in reversed(e.args):
                out = c(value) if cond is sympy.true else f"_vif({c(cond)}, {c(value)}, {out})" if vector \
                    else f"({c(value)} if {c(cond)} else {out})"
            return out
        if type(e) in _COMPARE:
            return f"({c(e.lhs)} {_COMPARE[type(e)]} {c(e.rhs)})"
        if isinstance(e, (sympy.And, sympy.Or)) and vector:
            return f"_v{'and' if isinstance(e, sympy.And) else 'or'}(" + ", ".join(c(a) for a in e.args) + ")"
        if isinstance(e, sympy.And):
            return "(" + " and ".join(f"bool({c(a)})" for a in e.args) + ")"
        if isinstance(e, sympy.Or):
            return "(" + " or ".join(f"bool({c(a)})" for a in e.args) + ")"
        if isinstance(e, sympy.Not):
            return f"_vnot({c(e.args[0])})" if vector else f"(not {c(e.args[0])})"
        raise Unsupported(f"`{type(e).__name__}` in a formula")

    return c(expr)


def display(graph: Graph, node: Node | None, unit: str | None, dim: Dim | None) -> dict[str, Any]:
    """How `value_of(graph, node, value, unit, dim)` shows a value, as data."""
    the_dim = node.dim if node is not None else dim
    shown = _display(graph, node, unit, dim)
    shown["si"] = format_dim(the_dim) if the_dim is not None else ""
    return shown


def _display(graph: Graph, node: Node | None, unit: str | None, dim: Dim | None) -> dict[str, Any]:
    the_dim = node.dim if node is not None else dim
    the_unit = unit if unit is not None else display_unit(node)
    if (node is not None and node.is_text) or the_dim == TEXT:
        return {"k": "text"}
    flag = is_flag(node, graph.nodes)
    if the_dim == BOOL:
        return {"k": "bool", "flag": flag}
    chosen = the_unit
    if chosen:
        found = unit_factor(chosen)
        if found is not None and (the_dim is None or found[1] == the_dim):
            return {"k": "fixed", "unit": chosen, "p": found[0].numerator, "q": found[0].denominator, "flag": flag}
    if the_dim is None:
        return {"k": "plain", "flag": flag}
    key = format_dim(the_dim)
    ladder = _LADDERS.get(key)
    if not ladder:
        chosen = key if not the_dim.dimensionless else ""
        found = unit_factor(chosen) if chosen else (Fraction(1), the_dim)
        factor = found[0] if found else Fraction(1)
        return {"k": "fixed", "unit": chosen, "p": factor.numerator, "q": factor.denominator, "flag": flag}
    rungs = []
    for u in ladder:
        found = unit_factor(u)
        rungs.append([u, found[0].numerator, found[0].denominator, True] if found else [u, 1, 1, False])
    return {"k": "ladder", "rungs": rungs, "flag": flag}


def template(expr: ast.Expr, context: str, graph: Graph, values: Any, slots: list[list[Any]],
             parent: int = 0) -> str:
    """`solver.explain.show_formula` with values, as text where each value read is a slot
    (`\x01i\x01`; slots[i] = [quantity, precedence around it]) filled in at answer time."""
    def slot(ref: str, p: int) -> str | None:
        if ref not in values:
            return None
        slots.append([ref, p])
        return f"\x01{len(slots) - 1}\x01"

    return print_formula(expr, context, graph, slot, parent)


def derivation(graph: Graph, order: list[str], owner: str, values: Any, formulas: dict[str, Any],
               conv: dict[str, Any]) -> list[list[str]]:
    """The steps `solver.explain.forward_steps(graph, order, values, owner)` writes, as
    [kind, quantity, name shown] ("c": a catalog's figure, "f": a formula), each formula's
    template added to `formulas` and the display of every value it reads to `conv`."""
    from solver.explain import show_formula

    mine = [n for n in order if not owner or n.startswith(owner + ".")]
    read_directly = {d for n in mine for d in graph.nodes[n].deps}
    steps: list[list[str]] = []
    for n in order:
        node = graph.nodes[n]
        if node.kind != "derived" or node.formula is None:
            continue
        shown = n[len(owner) + 1:] if owner and n.startswith(owner + ".") else n
        if owner and not n.startswith(owner + "."):
            if n in read_directly:
                steps.append(["c", n, shown])
            continue
        if n not in formulas:
            slots: list[list[Any]] = []
            pieces = template(node.formula, n, graph, values, slots)
            for ref, _ in slots:
                conv.setdefault(ref, display(graph, None, display_unit(graph.nodes[ref]), graph.nodes[ref].dim))
            formulas[n] = {"formula": show_formula(node.formula, n, graph), "pieces": pieces, "slots": slots,
                           "alias": isinstance(node.formula, (ast.Name, ast.Attribute, ast.Conditional))}
        steps.append(["f", n, shown])
    return steps


def forward(spec: Any, values: dict[str, Any], data: dict[str, Any]) -> None:
    """What `solve --for QUANTITY` shows, for every quantity of the spec that has a value: the
    derivation's steps as stored text and slots; each checked against solver.explain now."""
    from solver.explain import forward_steps

    graph: Graph = spec.graph
    goals = {g.name for g in graph.goals}
    formulas: dict[str, Any] = {}
    conv: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    for name in graph.root_names:
        if name not in values or name in goals:
            continue
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        steps = derivation(graph, graph.upstream([name]), owner, values, formulas, conv)
        targets[name] = {"steps": steps, "input": graph.nodes[name].kind == "input"}
    plain = _plain_values(values)
    checked: set[tuple[str, str, str]] = set()
    for name in reversed(list(targets)):
        # The stored text must be what explain writes, at the spec's own values: checked on the
        # derivations that together show every step (the most downstream first).
        steps = targets[name]["steps"]
        if all(tuple(step) in checked for step in steps):
            continue
        checked.update(tuple(step) for step in steps)  # type: ignore[misc]
        order = graph.upstream([name])
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        expected = [(s.name, s.formula, s.substituted, s.result.text if s.result else None)
                    for s in forward_steps(graph, order, values, owner)]
        texts = data["texts"]
        got = []
        for kind, n, shown in steps:
            result = fastpath.value_of(plain[n], data["shows"][n], texts)[2]
            if kind == "c":
                got.append((shown, result, "", result))
                continue
            substituted = fastpath.fill(formulas[n], plain, conv, texts)
            got.append((shown, formulas[n]["formula"], substituted, result))
        if got != expected:
            raise Unsupported(f"the derivation of `{name}` is not reproduced")
    data.update({"formulas": formulas, "conv": conv, "forward": targets})


def _plain(value: Any) -> Any:
    if isinstance(value, sympy.logic.boolalg.BooleanAtom):
        return bool(value)
    if not isinstance(value, sympy.Rational):
        raise Unsupported("a value that is not a rational number")
    return Fraction(int(value.p), int(value.q))


def _plain_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in values.items()}


def build(spec: Any) -> tuple[dict[str, Any], str]:
    """The compiled form of a loaded spec with no overrides (raises Unsupported)."""
    graph: Graph = spec.graph
    if graph.warnings:
        raise Unsupported("the spec has warnings")
    ev = spec.evaluator
    values = ev.values()
    evaluation = spec.eval()
    if ev.undefined:
        raise Unsupported("an undefined quantity")
    by_symbol = graph.by_symbol()
    lines = ["def values(o):", "    v = {}"]
    inputs = {}
    for name in ev.order:
        if name not in values:
            continue
        node = graph.nodes[name]
        if node.kind == "input":
            value = values[name]
            if not isinstance(value, sympy.Rational):
                raise Unsupported(f"input `{name}` is not a rational number")
            lines.append(f"    v[{name!r}] = o[{name!r}] if {name!r} in o else F({int(value.p)}, {int(value.q)})")
            unit = node.unit or ""
            found = unit_factor(unit) if unit else (Fraction(1), None)
            if found is not None and not is_flag(node) and not node.is_text:
                inputs[name] = {"unit": unit, "p": found[0].numerator, "q": found[0].denominator}
        elif node.kind == "derived":
            assert node.expr is not None
            lines.append(f"    v[{name!r}] = _s({code(node.expr, by_symbol)})")
        else:
            raise Unsupported(f"`{name}` ({node.kind}) has a value")
    lines.append("    return v")
    quantities = [[name, display(graph, graph.nodes[name], None, None)]
                  for name in graph.root_names if name in values]
    if any(why.startswith("undefined") for why in evaluation.unknown.values()):
        raise Unsupported("an undefined quantity")
    reqs: list[dict[str, Any]] = []
    for i, (r, entry) in enumerate(zip(graph.requirements, evaluation.requirements)):
        if not all(d in values for d in r.deps):
            if entry.holds is not None or entry.margin:
                raise Unsupported(f"requirement `{r.text}` decides itself on an unknown")
            static: dict[str, Any] = {"static": True, "text": r.text, "record": r.owner, "holds": None, "margin": ""}
            try:        # its sides, for the Python API's Evaluation (solver.formspec): a side that reads
                sides = requirement_item(graph, r, f"s{i}", by_symbol, lines)   # an unknown is no value
                static["sides"] = {k: sides[k] for k in ("lhs", "rhs", "side")} if sides["split"] else None
            except Unsupported:
                pass
            reqs.append(static)
            continue
        reqs.append(requirement_item(graph, r, str(i), by_symbol, lines))
    data = {"format": fastpath.FORMAT, "spec": graph.path, "texts": list(graph.texts), "inputs": inputs,
            "quantities": quantities, "requirements": reqs, "unknown": list(evaluation.unknown.items()),
            "shows": {name: display(graph, graph.nodes[name], None, None) for name in values}}
    forward(spec, values, data)
    data.update({"goals": {}, "goal_names": {}, "goals_tried": []})     # compiled when first asked
    return data, hoist("\n".join(lines) + "\n")


def hoist(source: str, prefix: str = "") -> str:
    """Every `F(p, q)` made once, when the form loads, rather than at each evaluation."""
    names: dict[str, str] = {}

    def name(m: re.Match[str]) -> str:
        return names.setdefault(m.group(0), f"_K{prefix}{len(names)}")

    body = re.sub(r"F\((-?[0-9]+), ([0-9]+)\)", name, source)
    return "".join(f"{n} = {literal}\n" for literal, n in names.items()) + body


def requirement_item(graph: Graph, r: Any, tag: str, by_symbol: dict[sympy.Symbol, Node],
                     lines: list[str]) -> dict[str, Any]:
    """A requirement as stored: its truth and sides as functions `_r{tag}`, `_l{tag}`, `_h{tag}`
    of the values (added to `lines`), and how its sides and margin are shown."""
    item: dict[str, Any] = {"static": False, "text": r.text, "record": r.owner, "truth": f"_r{tag}",
                            "split": False}
    lines += [f"def _r{tag}(v):", f"    return {code(r.expr, by_symbol)}"]
    parts = split(r.expr)
    if parts is not None:
        lhs, rhs, sense, strict = parts
        side: Node | None = None
        side_unit: str | None = r.side_unit
        dim = r.side_dim
        if dim is None:
            side = single_node(graph, lhs) or single_node(graph, rhs)
            side_unit = side.unit if side else None
            dim = side.dim if side else None
        lines += [f"def _l{tag}(v):", f"    return _s({code(lhs, by_symbol)})",
                  f"def _h{tag}(v):", f"    return _s({code(rhs, by_symbol)})"]
        item.update({"split": True, "lhs": f"_l{tag}", "rhs": f"_h{tag}", "sense": sense, "strict": strict,
                     "side": display(graph, side, side_unit, dim),
                     "gap": display(graph, None, side_unit, dim),
                     "tiny": display(graph, None, None, dim)})
        if item["gap"]["k"] in ("text", "bool"):
            raise Unsupported(f"requirement `{r.text}` compares texts or truths")
    return item


def _check_goal(spec: Any, data: dict[str, Any], namespace: dict[str, Any], goal: str, sets: list[str],
                solution: Any = None) -> None:
    """Keep a compiled goal only where it answers as the full pipeline does (at `sets`)."""
    from solver import fastgoal
    from solver.optimize import GoalSolver
    from solver.render import render_solution

    try:
        fast = fastgoal.solve(data, namespace, list(sets), goal)
        if solution is None:
            goal_def = next(g for g in spec.graph.goals if g.name == goal)
            solution = GoalSolver(spec.graph, evaluator=spec.evaluator, compiled=spec._compiled).solve(goal_def)
        same = all(fastgoal.render(fast, fmt) == render_solution(solution, fmt) for fmt in ("json", "text"))
    except Exception as why:        # a fallback, or a goal the full pipeline finds no answer to
        fastpath.debug(f"goal `{goal}` is left to the full pipeline: {type(why).__name__}: {why}")
        same = False
    else:
        if not same:
            fastpath.debug(f"goal `{goal}` is left to the full pipeline: its answer differs")
    if not same:
        del data["goals"][goal]
        data["goal_names"] = {k: g for k, g in data["goal_names"].items() if g != goal}


def _names_of(spec: Any, data: dict[str, Any]) -> dict[str, str]:
    from solver.goalbuild import _names

    return _names(spec.graph, data["goals"])


def add_goal(goal_spec: Any, data: dict[str, Any], source: str, goal: str, sets: list[str],
             solution: Any = None) -> str:
    """Compile one goal (as asked: `goal_spec` loaded with `sets`) into the form; its new source."""
    from solver.goalbuild import goals

    lines: list[str] = []
    goals(goal_spec, data, lines, [goal], solution)
    if goal not in data["goals"]:
        return source
    source += hoist("\n".join(lines) + "\n", f"g{len(data['goals_tried'])}_")
    namespace: dict[str, Any] = dict(fastpath.RUNTIME)
    exec(compile(source, "<infer compiled form>", "exec"), namespace)
    _check_goal(goal_spec, data, namespace, goal, sets, solution)
    return source


def ensure(path: str | Path, loaded: Any = None, goal: str | None = None, goal_spec: Any = None,
           sets: list[str] | tuple[str, ...] = (), solution: Any = None) -> bool:
    """`refresh` unless a sound compiled form is there already (a question it fell back on); a
    goal asked (`goal`, answered as `solution` by `goal_spec` loaded with `sets`) that the form
    has not tried yet is compiled into it."""
    found = fastpath.load_entry(path)
    if found is None:
        if fastpath.refused(path):
            return False
        return refresh(path, loaded, goal, goal_spec, list(sets), solution, every_goal=False)
    data, namespace, reads, source = found
    if goal is None or (goal not in data["goals"] and goal in data["goals_tried"]):
        return True
    try:
        if goal in data["goals"]:
            added = add_variant(goal_spec, data, namespace, source, goal, list(sets), solution)
            if added is None:
                return True
            source = added
        else:
            source = add_goal(goal_spec, data, source, goal, list(sets), solution)
    except Exception as err:        # anything unforeseen: the goal is just not compiled
        fastpath.debug(f"goal `{goal}` not compiled: {type(err).__name__}: {err}")
        return False
    return fastpath.store(path, reads, data, source)


def add_variant(goal_spec: Any, data: dict[str, Any], namespace: dict[str, Any], source: str, goal: str,
                sets: list[str], solution: Any) -> str | None:
    """A compiled goal that fell back on a question the full pipeline just answered: where another
    requirement binds or another branch is active, that closed form is added (None: nothing to add)."""
    from solver import fastgoal
    from solver.goalbuild import Unsupported as Skipped
    from solver.goalbuild import variant

    try:
        fastgoal.solve(data, namespace, sets, goal)
        return None                   # it answers: the question fell back elsewhere (another format)
    except fastpath.Fallback as why:
        if "no recorded closed form" not in str(why):
            return None
    lines: list[str] = []
    entry = data["goals"][goal]
    entry["variants_tried"] = entry.get("variants_tried", 0) + 1
    backup = json.dumps(entry)
    try:
        variant(goal_spec, data, goal, solution, lines)
    except Skipped as why:
        fastpath.debug(f"goal `{goal}`: no closed form added: {why}")
        return source             # the count of tries is stored
    extra = hoist("\n".join(lines) + "\n", f"v{len(source)}_")
    namespace = dict(fastpath.RUNTIME)
    exec(compile(source + extra, "<infer compiled form>", "exec"), namespace)
    _check_goal(goal_spec, data, namespace, goal, sets, solution)
    if goal not in data["goals"]:       # the new closed form does not reproduce the answer: drop it only
        data["goals"][goal] = json.loads(backup)
        data["goal_names"] = _names_of(goal_spec, data)
        return source
    return source + extra


def refresh(path: str | Path, loaded: Any = None, goal: str | None = None, goal_spec: Any = None,
            sets: list[str] | None = None, solution: Any = None, every_goal: bool = True) -> bool:
    """Build, check against the full pipeline, and keep the compiled form of a spec; False where
    it is not kept (the reason under INFER_DEBUG). `loaded`: the spec already loaded with no
    overrides while the caller's `lang.reads.recording()` logged its file looks; `goal`: a goal
    to compile too (see `ensure`; with no `goal_spec`, every goal of the spec unless `every_goal`
    is false: the CLI compiles a goal when it is first asked)."""
    from lang.reads import ReadLog, current
    from solver.api import Spec
    from solver.render import render_evaluation, render_solution

    try:
        outer = current()
        if loaded is not None and outer is not None:
            spec = loaded
            log = ReadLog(dict(outer.entries), outer.consistent)
        else:
            with recording() as log:
                spec = Spec.load(path)
                _ = spec.graph         # built here, where its file looks are logged (Spec.load may defer it)
        data, source = build(spec)
        if not log.consistent:
            raise Unsupported("a file changed while it was read")
        namespace: dict[str, Any] = dict(fastpath.RUNTIME)
        exec(compile(source, "<infer compiled form>", "exec"), namespace)
        evaluation = spec.eval()
        for as_json in (False, True):
            result = fastpath.evaluate(data, namespace, [])
            result["spec"] = data["spec"]
            if fastpath.render(result, as_json) != render_evaluation(evaluation, "json" if as_json else "text"):
                raise Unsupported("its answer differs from the full pipeline's")
        for target in list(data["forward"])[-3:]:      # every field of a derivation, on the last few
            full = render_solution(spec.solve(target), "json")
            if fastpath.render_solution(fastpath.forward_solution(data, namespace, [], target), "json") != full:
                raise Unsupported(f"the derivation of `{target}` differs from the full pipeline's")
        asked = [goal] if goal_spec is not None and goal else [g.name for g in spec.graph.goals] if every_goal else []
        for name in asked:
            if goal_spec is not None:
                source = add_goal(goal_spec, data, source, name, list(sets or []), solution)
            else:
                source = add_goal(spec, data, source, name, [])
    except (Unsupported, fastpath.Fallback) as why:
        fastpath.debug(f"not kept for {path}: {why}")
        if "log" in locals() and log.consistent:     # not tried again until a file it read changes
            fastpath.store_refusal(path, [[k, p, v] for (k, p), v in sorted(log.entries.items())], str(why))
        return False
    except Exception as err:        # a spec with errors, or anything unforeseen: the form is just not kept
        fastpath.debug(f"not kept for {path}: {type(err).__name__}: {err}")
        return False
    reads = [[k, p, v] for (k, p), v in sorted(log.entries.items())]
    return fastpath.store(path, reads, data, source)
