"""Sweeps: evaluate quantities over a grid of inputs, compiled once and vectorized.

`infer sweep SPEC --vary N=A..B[:STEP] --vary N=[x,y,...] --report N,N [--csv F] [--plot F]`

Each reported quantity is composed down to a formula in the varied names only
(`Evaluator.compose`, everything else a number), compiled once to NumPy
(`lambdify`) and called on the whole grid at once (`np.meshgrid` over every
`--vary` axis, `indexing="ij"`: the first axis varies slowest in the table).

The `--vary` grammar lives in `solver.sweep_vary`; the table, CSV and plot of `infer sweep` in
`solver.sweep_output`.

`--report` names quantities (a short name such as `itl` works when only one
quantity of the root spec has it) or a requirement as written
(`--report "kv_total <= budget"`: a true/false column).

The notebook entry point is `sweep()`: canonical units (byte, second, token,
...) in, canonical units out.

>>> from pathlib import Path
>>> from solver.api import Spec
>>> spec = Spec.load(Path(__file__).parent.parent / "specs" / "kv-budget.infer")
>>> out = sweep(spec, {"context": np.array([1024.0, 8192.0])}, ["kv_total"])
>>> out["kv_total"].tolist()
[2147483648.0, 17179869184.0]
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lang.diagnostics import Diagnostic, InferError, Span, did_you_mean
from lang.graph import Graph, Node, Requirement
from lang.units import BOOL, TEXT

if TYPE_CHECKING:
    import sympy

    from solver.api import Spec

__all__ = ["MAX_POINTS", "Column", "SweepUsage", "compile_sweep", "sweep"]

MAX_POINTS = 20_000_000        # a grid larger than this is refused (memory: 160 MB per column)



class SweepUsage(Exception):
    """A `--vary`/`--report`/`--plot` option that cannot be read: exit code 2."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


# --- the pure function -------------------------------------------------------------------


def sweep(spec: Spec, vary: Mapping[str, np.ndarray | list[float]], report: list[str]
          ) -> dict[str, np.ndarray]:
    """Every reported quantity on the grid of the varied ones, in canonical units.

    `vary` maps a quantity's name to its values (canonical units: B, s, token, USD, ...;
    a choice takes its options' codes, see `choice_values`). The grid is the outer
    product of the axes in the order given; each result has the grid's shape
    (`indexing="ij"`). The varied axes come back too, broadcast to the grid.
    Requirements (by their text) come back as boolean arrays; text-valued quantities
    as their codes into `spec.graph.texts`.
    """
    names = [_resolve(spec.graph, n, "--vary") for n in vary]
    for name in names:
        _check_variable(spec.graph, name)
    fn = compile_sweep(spec, names, report)
    return fn(*[np.asarray(v, dtype=float) for v in vary.values()])


def compile_sweep(spec: Spec, vary: list[str], report: list[str], spans: list[Span] | None = None
                  ) -> Callable[..., dict[str, np.ndarray]]:
    """Compile once; the result maps one 1-D array per varied name to the grid's results."""
    spans = spans or [report_span(report, i) for i in range(len(report))]
    columns = [_column(spec, name, vary, span) for name, span in zip(report, spans)]
    return grid_runner(columns, list(vary), spec.graph)


def grid_runner(columns: list[Column], vary_names: list[str], graph: Graph
                ) -> Callable[..., dict[str, np.ndarray]]:
    """The compiled columns called on the grid of the varied axes (also what a compiled sweep,
    `solver.fastsweep`, runs on columns it stored)."""
    def run(*axes: np.ndarray) -> dict[str, np.ndarray]:
        if len(axes) != len(vary_names):
            raise TypeError(f"expected {len(vary_names)} axes, got {len(axes)}")
        arrays = [np.asarray(a, dtype=float).ravel() for a in axes]
        shape = tuple(len(a) for a in arrays)
        grids = np.meshgrid(*arrays, indexing="ij")  # dense: numpy logical reductions need equal shapes
        out: dict[str, np.ndarray] = {}
        with np.errstate(all="ignore"):
            for col in columns:
                value = col.fn(*grids)
                dtype = bool if col.kind == "requirement" else float
                out[col.name] = np.broadcast_to(np.asarray(value, dtype=dtype), shape)
        for name, grid in zip(vary_names, grids):
            out.setdefault(name, np.broadcast_to(grid, shape))
        return out

    run.columns = columns  # type: ignore[attr-defined]
    run.graph = graph  # type: ignore[attr-defined]
    return run


def report_span(report: list[str], index: int) -> Span:
    """Where the index-th name sits in the `--report` text, for carets."""
    column = 1 + sum(len(r) + 1 for r in report[:index])
    return Span("<--report>", 1, column, 1, column + max(len(report[index]), 1))


@dataclass
class Column:
    """A reported quantity (or requirement), compiled."""

    name: str
    kind: str                          # "quantity" or "requirement"
    node: Node | None
    fn: Callable[..., object]


def _column(spec: Spec, text: str, vary: list[str], span: Span) -> Column:
    import sympy

    from solver.evaluate import lambdify

    graph = spec.graph
    ev = spec.evaluator
    symbols = [graph.nodes[v].symbol for v in vary]
    req = _requirement(graph, text)
    if req is not None:
        expr: sympy.Basic = ev.compose(req.expr, vary)
        _check_free(spec, text, expr, vary, span)
        if isinstance(expr, sympy.logic.boolalg.BooleanAtom):
            constant = bool(expr)
            return Column(req.text, "requirement", None, lambda *a: np.asarray(constant))
        return Column(req.text, "requirement", None,
                      lambdify(sympy.Piecewise((True, expr), (False, True)), symbols, cse=True))
    name = _resolve(graph, text, "--report", span)
    if name not in graph.nodes:
        goal = next(g for g in graph.goals if g.name == name)
        raise InferError([Diagnostic(
            "E0704", f"`{goal.name}` is a goal; a sweep reports quantities", span,
            label="a goal", help=(f"solve it with `infer solve SPEC --for {goal.name}`, or report what it "
                                  f"reads: {', '.join(goal.deps)}",))], spec.sources)
    node = graph.nodes[name]
    if name in graph.missing:
        raise InferError([Diagnostic("E0703", f"`{name}` needs `{graph.missing[name]}`, which has no value",
                                     span, label="cannot be computed")], spec.sources)
    expr = ev.compose(name, vary)
    _check_free(spec, name, expr, vary, span)
    if isinstance(expr, sympy.logic.boolalg.BooleanAtom) or node.dim == BOOL:
        expr = sympy.Piecewise((1.0, expr), (0.0, True))
    return Column(name, "quantity", node, lambdify(expr, symbols, cse=True))


def _check_free(spec: Spec, name: str, expr: sympy.Basic, vary: list[str], span: Span) -> None:
    graph = spec.graph
    by_symbol = graph.by_symbol()
    varied = {graph.nodes[v].symbol for v in vary}
    missing = sorted(by_symbol[s].name for s in expr.free_symbols - varied if s in by_symbol)
    if not missing:
        return
    listed = ", ".join(f"`{m}`" for m in missing)
    one = missing[0]
    example = (f"--vary {one}=[...]" if graph.nodes[one].kind == "choice"
               else f"--vary {one}=A..B")
    raise InferError([Diagnostic(
        "E0703", f"`{name}` depends on {listed}, which {'is' if len(missing) == 1 else 'are'} "
        "neither varied nor given a value", span, label="cannot be computed on this grid",
        help=(f"vary it too (`{example}`) or fix it with `--set {one}=VALUE`",))], spec.sources)


def _requirement(graph: Graph, text: str) -> Requirement | None:
    key = re.sub(r"\s+", "", text)
    for r in graph.requirements:
        if re.sub(r"\s+", "", r.text) == key:
            return r
    return None


# --- names ---------------------------------------------------------------------------------


def _resolve(graph: Graph, name: str, option: str, span: Span | None = None) -> str:
    """A quantity as typed: its full name, or a short name unique among the root spec's."""
    name = name.strip()
    if name in graph.nodes or any(g.name == name for g in graph.goals):
        return name
    roots = _root_like(graph)
    short = [n for n in roots if n.rsplit(".", 1)[-1] == name]
    if len(short) == 1:
        return short[0]
    span = span or Span(f"<{option}>", 1, 1, 1, len(name) + 1)
    hints: tuple[str, ...]
    if len(short) > 1:
        hints = (f"`{name}` is in several records: {', '.join(f'`{s}`' for s in short)}",)
    else:
        hints = did_you_mean(name, roots + [g.name for g in graph.goals]) or \
            did_you_mean(name, list(graph.nodes))
    raise InferError([Diagnostic("E0702", f"no quantity named `{name}`", span, label="not in the spec",
                                 help=hints)], graph.sources)


def _root_like(graph: Graph) -> list[str]:
    out = list(graph.root_names)
    seen = set(out)
    prefixes = {n.split(".")[0] for n in graph.root_names}
    for name, node in graph.nodes.items():
        if name not in seen and node.kind == "choice" and name.split(".")[0] in prefixes:
            out.append(name)
    return out


def _check_variable(graph: Graph, name: str, span: Span | None = None) -> None:
    if name not in graph.nodes:
        raise InferError([Diagnostic("E0705", f"`{name}` is a goal; only inputs and unknowns can vary",
                                     span, label="a goal")], graph.sources)
    node = graph.nodes[name]
    if node.kind == "derived":
        prefixes = {n.split(".")[0] for n in graph.root_names}     # the root spec's, not a catalog's
        inputs = [n for n in graph.upstream([name]) if graph.nodes[n].kind != "derived"
                  and n.split(".")[0] in prefixes]
        hint = f"vary what it reads: {', '.join(f'`{i}`' for i in inputs[:6])}" if inputs else \
            "vary one of the inputs it reads"
        raise InferError([Diagnostic(
            "E0705", f"`{name}` is computed from other quantities, so it cannot be varied", span,
            label="derived", secondary=(), help=(hint, "or hold it at a value with `infer solve --where`"))],
            graph.sources)
    if node.dim in (TEXT, BOOL):
        raise InferError([Diagnostic("E0705", f"`{name}` is a {'text' if node.dim == TEXT else 'truth'} "
                                     "value; only quantities and choices can vary", span)], graph.sources)
