"""The Python API under the command line: load a spec, set inputs, evaluate, solve.

>>> from pathlib import Path
>>> spec = Spec.load(Path(__file__).parent.parent / "specs" / "kv-budget.infer")
>>> spec.solve("max_context").text
'11444 token'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lang.diagnostics import Diagnostic, InferError, Label, SourceMap, Span, did_you_mean
from lang.graph import Graph
from lang.units import format_dim
from solver import results
from solver.quantities import unit_factor

if TYPE_CHECKING:
    import sympy

    from solver.evaluate import Evaluator
    from solver.optimize import SolveError

# sympy, the parser and the solver are imported where they are first needed: a spec loaded with
# its compiled form (solver.formspec) answers eval and solve without them.
__all__ = ["InferError", "SolveError", "Spec"]


def __getattr__(name: str) -> Any:
    if name == "SolveError":
        from solver.optimize import SolveError

        return SolveError
    raise AttributeError(name)


class Spec:
    """A loaded spec: its quantity graph plus what the caller fixed."""

    def __init__(self, graph: Graph | None, sources: SourceMap):
        self._graph = graph
        self.sources = sources
        self._evaluator: Evaluator | None = None
        self._compiled: dict[tuple[object, ...], object] = {}    # see GoalSolver.compiled
        self._form: tuple[object, ...] | None = None      # the spec's compiled form (solver.fastpath), if any
        self._lazy: tuple[str | Path, list[str]] | None = None    # (path, sets) of a graph not built yet

    @classmethod
    def load(cls, path: str | Path, set: Iterable[str] = ()) -> Spec:
        """Parse and check a spec; `set` holds `NAME=VALUE` overrides as on the command line.

        Where the spec's compiled form is cached and takes these overrides, nothing is parsed:
        eval and solve answer from the form (solver.formspec), and the graph is built the first
        time something needs it (`graph`)."""
        from solver import fastpath, formspec

        form = fastpath.for_api(path, list(set))
        if form is not None and formspec.takes(form):
            spec = cls(None, SourceMap())
            spec._form, spec._lazy = form, (path, list(set))
            return spec
        from lang.resolve import build_graph

        sources = SourceMap()
        graph = build_graph(path, list(set), sources)
        spec = cls(graph, sources)
        spec._form = fastpath.for_api(path, list(set))   # a goal answered from it: see solve
        return spec

    @property
    def graph(self) -> Graph:
        """The spec's quantity graph (resolved and unit-checked), built when first needed."""
        if self._graph is None:
            from lang.resolve import build_graph
            from solver import fastpath

            assert self._lazy is not None
            path, sets = self._lazy
            self._graph = build_graph(path, sets, self.sources)
            if fastpath.load(path) is None:     # a file changed since the form was loaded: the graph answers
                self._form = None
        return self._graph

    @property
    def evaluator(self) -> Evaluator:
        from solver.evaluate import Evaluator

        if self._evaluator is None:
            self._evaluator = Evaluator(self.graph)
        return self._evaluator

    @property
    def warnings(self) -> list[Diagnostic]:
        if self._graph is None:      # a compiled form is kept only for a spec without warnings
            return []
        return self.graph.warnings

    # -- names --

    def resolve_name(self, name: str, option: str = "--for") -> str:
        """A node or goal name as the user typed it (a goal's bare name works too)."""
        graph = self.graph
        if name in graph.nodes or any(g.name == name for g in graph.goals):
            return name
        short = [g.name for g in graph.goals if g.name.split(".")[-1] == name]
        if len(short) == 1:
            return short[0]
        candidates = list(graph.root_names) + [g.name for g in graph.goals]
        span = Span(f"<{option}>", 1, 1, 1, len(name) + 1)
        sources = self.sources
        sources.add(span.file, name)
        hints = did_you_mean(name, candidates)
        if not hints and graph.goals:
            hints = (f"goals: {', '.join(g.name for g in graph.goals)}",)
        raise InferError([Diagnostic("E0702", f"no quantity or goal named `{name}`", span,
                                     label="not in the spec", help=hints)], sources)

    # -- evaluation --

    def eval(self) -> results.Evaluation:
        if self._graph is None:
            from solver import formspec

            found = formspec.evaluation(self._form)
            if found is not None:
                return found
        from solver.explain import value_of
        from solver.optimize import GoalSolver

        graph = self.graph
        values = self.evaluator.values()
        quantities = {}
        unknown = {}
        for name in graph.root_names:
            node = graph.nodes[name]
            if name in values:
                v = value_of(graph, node, values[name])
                quantities[name] = results.Quantity(value=v.value, unit=v.unit, text=v.text)
            elif name in self.evaluator.undefined:
                unknown[name] = self.evaluator.undefined[name]
            elif broken := [n for n in graph.upstream([name]) if n in self.evaluator.undefined]:
                unknown[name] = f"undefined: reads `{broken[0]}`, " + \
                    self.evaluator.undefined[broken[0]].removeprefix("undefined: ")
            else:
                needs = [n for n in self.evaluator.free_of([name])]
                undefined = [n for n in graph.upstream([name]) if n in self.evaluator.undefined]
                if not needs and undefined:     # downstream of a division by zero (a queue past saturation)
                    unknown[name] = "undefined: it reads " + ", ".join(f"`{n}`" for n in undefined[:3])
                    continue
                unknown[name] = "unknown" if node.kind in ("unknown", "choice") and needs == [name] \
                    else "needs " + ", ".join(f"`{n}`" for n in needs if n != name)
        for name, missing in graph.missing.items():
            unknown.setdefault(name, f"needs `{missing}`, which has no value")
        solver = GoalSolver(graph, evaluator=self.evaluator)
        reqs = [solver.requirement_entry(r, values) for r in graph.requirements]
        return results.Evaluation(spec=graph.path, quantities=quantities, requirements=reqs,
                                  unknown=unknown)

    # -- solving --

    def solve(self, target: str, where: Mapping[str, str] | None = None,
              unit: str | None = None) -> results.Solution:
        """Answer `target`: a goal, a quantity forward, or (with `where`) an inversion."""
        if self._graph is None and not where:
            from solver import formspec

            answered = formspec.solution(self._form, target, unit)
            if answered is not None:
                return answered
        import sympy

        from solver.invert import invert
        from solver.optimize import GoalSolver, SolveError

        graph = self.graph
        name = self.resolve_name(target)
        where = dict(where or {})
        goal = next((g for g in graph.goals if g.name == name), None)
        if goal is None and not where and name in graph.nodes and graph.nodes[name].kind == "unknown":
            goal = next((g for g in graph.goals if g.target == name), None)
        if where:
            if goal is not None:
                raise SolveError("--where holds a quantity to solve for an unknown; "
                                 f"`{name}` is a goal, which needs no --where")
            if len(where) != 1:
                raise SolveError("give one --where for one unknown: a second equation would need "
                                 "a second unknown")
            (held_name, text), = where.items()
            held = self.resolve_name(held_name, "--where")
            if held not in graph.nodes:
                raise SolveError(f"`{held}` is a goal; --where holds a quantity")
            other = self._quantity_named(text)
            if other is not None:
                if graph.nodes[other].dim != graph.nodes[held].dim:
                    raise SolveError(f"cannot hold `{held}` equal to `{other}`: they differ in unit "
                                     f"({graph.nodes[held].unit} and {graph.nodes[other].unit})")
                solution = invert(graph, name, held, sympy.Integer(0), other=other)
            else:
                solution = invert(graph, name, held, self._constant(held, text))
        elif goal is not None:
            from solver import fastpath

            solution = fastpath.api_goal(self._form, goal.name) or \
                GoalSolver(graph, evaluator=self.evaluator, compiled=self._compiled).solve(goal)
        else:
            solution = self._forward(name)
        if unit:
            solution = self._in_unit(solution, name, unit)
        return solution

    def _quantity_named(self, text: str) -> str | None:
        """`--where a=b` with `b` a quantity of the spec (rather than a constant)."""
        name = text.strip()
        return name if name in self.graph.nodes else None

    def _constant(self, held: str, text: str) -> sympy.Expr:
        from lang.resolve import constant_value

        node = self.graph.nodes[held]
        label = "<--where>"
        self.sources.add(label, text)
        stripped = text.strip()
        if stripped.replace(".", "", 1).replace("_", "").isdigit() and node.unit:
            text = f"{stripped} {node.unit}"   # a bare number takes the held quantity's unit
        try:
            value, dim, unit, span = constant_value(text, label)
        except InferError as err:
            err.sources = self.sources     # so the value is quoted under the caret
            raise
        if node.dim is not None and dim != node.dim:
            raise InferError([Diagnostic(
                "E0301", f"cannot hold `{held}` ({node.unit or format_dim(node.dim)}) at a value in "
                f"`{unit or format_dim(dim)}`", span, label=f"`{unit or format_dim(dim)}`",
                secondary=(Label(node.span, f"`{held}` is in `{node.unit or format_dim(node.dim)}`"),))],
                self.sources)
        return value

    def _forward(self, name: str) -> results.Solution:
        from solver.explain import forward_steps, value_of
        from solver.optimize import SolveError

        graph = self.graph
        node = graph.nodes[name]
        values = self.evaluator.values(only=[name])
        if name not in values:
            undefined = [n for n in graph.upstream([name]) if n in self.evaluator.undefined]
            if undefined:
                raise SolveError(f"`{name}` is undefined: `{undefined[0]}` divides by zero or overflows")
            needs = [n for n in self.evaluator.free_of([name])]
            goals = [g.name for g in graph.goals]
            hint = f"; or solve a goal: {', '.join(goals)}" if goals else ""
            raise SolveError(f"`{name}` depends on {', '.join(f'`{n}`' for n in needs)}, which has no "
                             f"value: give it one with --set, or hold a result with --where{hint}")
        order = graph.upstream([name])
        owner = name.rsplit(".", 1)[0] if "." in name else ""
        steps = forward_steps(graph, order, values, owner)
        answer = value_of(graph, node, values[name])
        if node.kind == "input":
            steps.append(results.Step(name=name, formula=f"{name} = {answer.text}", kind="input"))
        return results.Solution(spec=graph.path, target=name, kind="forward", value=answer.value,
                                unit=answer.unit, text=answer.text, method="forward evaluation",
                                steps=steps)

    def _in_unit(self, sol: results.Solution, name: str, unit: str) -> results.Solution:
        import sympy

        from solver.quantities import convert

        found = unit_factor(unit)
        node = self.graph.nodes.get(name)
        goal = next((g for g in self.graph.goals if g.name == name), None)
        dim = node.dim if node else (goal.dim if goal else None)
        if goal is not None and goal.target:
            dim = self.graph.nodes[goal.target].dim
        self.sources.add("<--in>", unit)
        if found is None:
            raise InferError([Diagnostic("E0202", f"unknown unit `{unit}`", Span("<--in>", 1, 1, 1, len(unit) + 1),
                                         label="not a unit")], self.sources)
        if dim is not None and found[1] != dim:
            raise InferError([Diagnostic("E0301", f"cannot show `{name}` ({format_dim(dim)}) in `{unit}` "
                                         f"({format_dim(found[1])})", Span("<--in>", 1, 1, 1, len(unit) + 1),
                                         label=f"`{unit}`")], self.sources)
        if sol.value is None or not isinstance(sol.value, (int, float)):
            return sol
        # Recover the canonical value from the shown one, then show it in the asked unit.
        current = unit_factor(sol.unit) if sol.unit else None
        factor = current[0] if current else 1
        canonical = sympy.nsimplify(sol.value) * sympy.Rational(factor.numerator, factor.denominator) \
            if current else sympy.nsimplify(sol.value)
        shown = convert(canonical, dim, unit)
        return sol.model_copy(update={"value": shown.value, "unit": shown.unit, "text": shown.text})

