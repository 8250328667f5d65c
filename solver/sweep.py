"""Sweeps: evaluate quantities over a grid of inputs, compiled once and vectorized.

`infer sweep SPEC --vary N=A..B[:STEP] --vary N=[x,y,...] --report N,N [--csv F] [--plot F]`

Each reported quantity is composed down to a formula in the varied names only
(`Evaluator.compose`, everything else a number), compiled once to NumPy
(`lambdify`) and called on the whole grid at once (`np.meshgrid` over every
`--vary` axis, `indexing="ij"`: the first axis varies slowest in the table).

Grammar of a `--vary` value:

- `A..B:STEP`  from A to B (inclusive when B lands on a step) in steps of STEP;
  `A..B:*F` multiplies by F each step (`batch=1..256:*2` gives 1, 2, 4, ... 256).
- `A..B`       without a step: every whole number from A to B when the quantity is
  counted in whole units (count, token or request; not `%`) and A and B are
  whole; otherwise 50 points, log-spaced when A and B are both positive
  (linearly spaced when not). Capacity curves span orders of magnitude, so
  log spacing puts as many points in the first decade as in the last.
- `[x, y, ...]` exactly these values; for a choice (`gpu: one of [...]`), the
  options' names (`[gpus.l4, gpus.h100_sxm]`, or just `[l4, h100_sxm]`).

A bare number takes the declared (display) unit of the varied quantity
(`--vary context=1024..32768:1024` is in `token`); a value may also carry its
own unit (`--vary budget=16GB..80GB:8GB`).

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

import csv
import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sympy

from lang.diagnostics import Diagnostic, InferError, Span, did_you_mean, render_all
from lang.graph import Graph, Node, Requirement
from lang.units import BOOL, DIMENSIONLESS, TEXT, format_dim
from solver.evaluate import lambdify
from solver.quantities import pick_unit, unit_factor

if TYPE_CHECKING:
    import argparse

    from solver.api import Spec

__all__ = ["DEFAULT_POINTS", "Axis", "Column", "compile_sweep", "run_sweep", "sweep"]

DEFAULT_POINTS = 50            # points of `A..B` for a continuous quantity
MAX_POINTS = 20_000_000        # a grid larger than this is refused (memory: 160 MB per column)
TABLE_ROWS = 2000              # a longer table shows its head and tail; --csv has every row
EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_WHOLE_DIMS = {"token", "request"}


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
    graph = spec.graph
    spans = spans or [report_span(report, i) for i in range(len(report))]
    columns = [_column(spec, name, vary, span) for name, span in zip(report, spans)]
    vary_names = list(vary)

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


# --- the --vary grammar ---------------------------------------------------------------------


@dataclass
class Axis:
    """One `--vary`: the quantity, its values (canonical), and how to show them."""

    name: str
    node: Node
    values: np.ndarray
    unit: str                          # display unit
    factor: float                      # canonical per display unit
    labels: list[str] | None = None    # a choice's option names
    spacing: str = "list"              # "list", "whole", "step", "geometric", "log", "linear"


def parse_vary(spec: Spec, text: str, index: int = 0) -> Axis:
    """`NAME=A..B[:STEP]` or `NAME=[x, y]` → an Axis; errors point into the option's text."""
    graph = spec.graph
    label = "<--vary>" if index == 0 else f"<--vary #{index + 1}>"
    spec.sources.add(label, text)

    def span(start: int, end: int) -> Span:
        return Span(label, 1, start + 1, 1, max(end, start + 1) + 1)

    name, eq, rest = text.partition("=")
    if not eq or not name.strip():
        raise SweepUsage(f"--vary takes NAME=A..B[:STEP] or NAME=[x,y,...], not `{text}`", [Diagnostic(
            "E0706", "expected NAME=A..B[:STEP] or NAME=[x, y, ...]", span(0, len(text)),
            label="no `=`", help=("for example `--vary batch=1..64` or `--vary context=[2048, 8192]`",))])
    lead = len(name) - len(name.lstrip())
    name_span = span(lead, lead + len(name.strip()))
    full = _resolve(graph, name.strip(), "--vary", name_span)
    _check_variable(graph, full, name_span)
    node = graph.nodes[full]
    offset = len(name) + 1
    body = rest.strip()
    body_at = offset + (len(rest) - len(rest.lstrip()))

    if node.kind == "choice":
        return _choice_axis(graph, full, node, body, body_at, span)

    unit, factor = _display(node)
    if body.startswith("[") and body.endswith("]"):
        items, at = _split_list(body[1:-1], body_at + 1)
        if not items:
            raise SweepUsage("empty list", [Diagnostic("E0706", "an empty list of values",
                                                       span(body_at, body_at + len(body)), label="no values")])
        listed = [_value(spec, node, piece, start, span) for piece, start in zip(items, at)]
        return Axis(full, node, np.array([float(v) for v in listed]), unit, factor)

    dots = body.find("..")
    if dots < 0 and body and ":" not in body:
        value = _value(spec, node, body, body_at, span)      # one value, as --set would give
        return Axis(full, node, np.array([float(value)]), unit, factor)
    colon = body.find(":", dots + 2) if dots >= 0 else -1
    a_text = body[:dots] if dots >= 0 else ""
    b_text = body[dots + 2:colon if colon >= 0 else len(body)] if dots >= 0 else ""
    step_text = body[colon + 1:] if colon >= 0 else None
    if not a_text.strip() or not b_text.strip() or (step_text is not None and not step_text.strip()):
        raise SweepUsage(f"cannot read `{body}`", [Diagnostic(
            "E0706", f"cannot read the values of `{full}`", span(body_at, body_at + len(body)),
            label="expected A..B, A..B:STEP or [x, y, ...]",
            help=("for example `1..64`, `1024..32768:1024`, `1..256:*2` or `[2048, 8192]`",))])
    a_at, b_at = body_at, body_at + dots + 2
    lo = _value(spec, node, a_text, a_at, span)
    hi = _value(spec, node, b_text, b_at, span)
    if step_text is None:
        return _default_axis(full, node, lo, hi, unit, factor, span(body_at, body_at + len(body)))
    assert step_text is not None
    step_at = body_at + colon + 1
    step_span = span(step_at, step_at + len(step_text))
    if step_text.strip().startswith(("*", "x")):
        ratio_text = step_text.strip()[1:].strip()
        if not _NUMBER.match(ratio_text) or Fraction(ratio_text) <= 1:
            raise SweepUsage("bad ratio", [Diagnostic("E0706", "a geometric step is `*F` with F > 1",
                                                      step_span, label="not a ratio above 1")])
        ratio = Fraction(ratio_text)
        if lo <= 0 or hi < lo:
            raise SweepUsage("bad range", [Diagnostic("E0706", "a geometric range needs 0 < A <= B",
                                                      span(body_at, body_at + len(body)),
                                                      label="not 0 < A <= B")])
        count = int(math.floor(math.log(hi / lo) / math.log(ratio) + 1e-9)) + 1
        _check_count(count, step_span)
        values = np.array([float(lo * ratio ** k) for k in range(count)])
        if _whole(node, unit) and (lo / Fraction(factor)).denominator == 1:
            values = np.unique(np.round(values / factor)) * factor    # whole numbers stay whole
        return Axis(full, node, values, unit, factor, spacing="geometric")
    step = _value(spec, node, step_text, step_at, span)
    if step == 0 or (hi - lo) * step < 0:
        raise SweepUsage("bad step", [Diagnostic("E0706", "the step must be non-zero and go from A towards B",
                                                 step_span, label="wrong step")])
    count = int(math.floor((hi - lo) / step)) + 1
    _check_count(count, step_span)
    values = np.array([float(lo + k * step) for k in range(count)])
    return Axis(full, node, values, unit, factor, spacing="step")


def _default_axis(name: str, node: Node, lo: Fraction, hi: Fraction, unit: str, factor: float,
                  where: Span) -> Axis:
    lo_shown, hi_shown = lo / Fraction(factor), hi / Fraction(factor)
    if _whole(node, unit) and lo_shown.denominator == 1 and hi_shown.denominator == 1:
        a, b = int(lo_shown), int(hi_shown)
        step = 1 if b >= a else -1
        _check_count(abs(b - a) + 1, where)
        values = np.arange(a, b + step, step, dtype=float) * factor
        return Axis(name, node, values, unit, factor, spacing="whole")
    if lo > 0 and hi > 0:
        values = np.geomspace(float(lo), float(hi), DEFAULT_POINTS)
        return Axis(name, node, values, unit, factor, spacing="log")
    values = np.linspace(float(lo), float(hi), DEFAULT_POINTS)
    return Axis(name, node, values, unit, factor, spacing="linear")


def _whole(node: Node, unit: str) -> bool:
    if node.whole:
        return True
    if node.dim is None or unit == "%":
        return False
    return node.dim == DIMENSIONLESS or format_dim(node.dim) in _WHOLE_DIMS


def _check_count(count: int, where: Span) -> None:
    if count > MAX_POINTS:
        raise SweepUsage("too many points", [Diagnostic(
            "E0707", f"{count:,} values on one axis; at most {MAX_POINTS:,} points in all", where,
            label="too many", help=("give a larger STEP, or `*F` for a geometric range",))])


def _split_list(inner: str, start: int) -> tuple[list[str], list[int]]:
    items, at = [], []
    pos = 0
    for piece in inner.split(","):
        lead = len(piece) - len(piece.lstrip())
        if piece.strip():
            items.append(piece.strip())
            at.append(start + pos + lead)
        pos += len(piece) + 1
    return items, at


def _value(spec: Spec, node: Node, text: str, start: int, span: Callable[[int, int], Span]) -> Fraction:
    """One value in canonical units, inside the range of the floats a sweep computes in."""
    stripped = text.strip()
    start += len(text) - len(text.lstrip())
    where = span(start, start + len(stripped))
    value = _exact_value(spec, node, stripped, where)
    try:
        as_float = float(value)
    except OverflowError:
        as_float = math.inf
    if not math.isfinite(as_float) or (value != 0 and as_float == 0):
        raise InferError([Diagnostic(
            "E0706", f"`{stripped}` is beyond the range a sweep computes in", where,
            label="not a finite double-precision number",
            help=("a sweep evaluates in floats (about 1e-308 to 1e308 in canonical units); "
                  "`infer eval --set` computes with exact numbers",))], spec.sources)
    return value


def _exact_value(spec: Spec, node: Node, stripped: str, where: Span) -> Fraction:
    """One value in canonical units: a bare number takes the node's display unit."""
    if _NUMBER.match(stripped):
        display, factor = _display(node)
        exact = unit_factor(display) if display else None
        return Fraction(stripped) * (exact[0] if exact else Fraction(factor))
    from lang.resolve import constant_value

    try:
        value, dim, unit, _ = constant_value(stripped, where.file)
    except InferError as err:
        raise InferError([_moved(d, where) for d in err.diagnostics], spec.sources) from None
    if node.dim is not None and dim != node.dim:
        shown = unit or format_dim(dim)
        raise InferError([Diagnostic(
            "E0301", f"cannot vary `{node.name}` ({node.unit or format_dim(node.dim)}) over a value in "
            f"`{shown}`", where, label=f"this is `{shown}` ({format_dim(dim)})",
            help=(f"`{node.name}` is in `{format_dim(node.dim)}`; write the value in `{node.unit}` or leave "
                  "the number bare" if node.unit else f"`{node.name}` is in `{format_dim(node.dim)}`",))],
            spec.sources)
    return Fraction(str(value)) if not isinstance(value, sympy.Rational) else \
        Fraction(int(value.p), int(value.q))


def _moved(d: Diagnostic, where: Span) -> Diagnostic:
    s = d.span
    if s is None:
        return Diagnostic(d.code, d.message, where, d.severity, d.label, d.secondary, d.help)
    shift = where.column - 1
    return Diagnostic(d.code, d.message, Span(where.file, 1, s.column + shift, 1, s.end_column + shift),
                      d.severity, d.label, d.secondary, d.help)


def _choice_axis(graph: Graph, name: str, node: Node, body: str, body_at: int,
                 span: Callable[[int, int], Span]) -> Axis:
    options = {o.label: o for o in node.options}
    if body in ("*", "all", "[*]"):
        picked = list(node.options)
    else:
        if not (body.startswith("[") and body.endswith("]")):
            raise SweepUsage("a choice takes a list", [Diagnostic(
                "E0706", f"`{name}` is a choice: list its options", span(body_at, body_at + len(body)),
                label="expected [option, ...]", help=(f"options: {', '.join(options)}; `all` takes every one",))])
        items, at = _split_list(body[1:-1], body_at + 1)
        picked = []
        for item, start in zip(items, at):
            found = options.get(item) or next((o for o in node.options
                                                if o.label.rsplit(".", 1)[-1] == item), None)
            if found is None:
                raise InferError([Diagnostic(
                    "E0702", f"`{item}` is not an option of `{name}`", span(start, start + len(item)),
                    label="not an option", help=did_you_mean(item, list(options)) or
                    (f"options: {', '.join(options)}",))], graph.sources)
            picked.append(found)
    values = np.array([float(o.value) for o in picked])
    return Axis(name, node, values, "", 1.0, labels=[o.label for o in picked])


def _display(node: Node) -> tuple[str, float]:
    """The unit a quantity is shown in (its declared one when readable) and its factor."""
    if node.unit:
        found = unit_factor(node.unit)
        if found is not None and (node.dim is None or found[1] == node.dim):
            return ("" if node.unit == "count" else node.unit), float(found[0])
    return "", 1.0


def choice_values(spec: Spec, name: str) -> dict[str, float]:
    """A choice's options and the codes `sweep()` takes for them."""
    node = spec.graph.nodes[_resolve(spec.graph, name, "--vary")]
    return {o.label: float(o.value) for o in node.options}


# --- output ---------------------------------------------------------------------------------


@dataclass
class _Shown:
    """A column ready to show: numbers in its display unit (or codes), formatted on demand."""

    header: str
    name: str
    unit: str
    values: np.ndarray                            # display-unit numbers, or codes of `labels`
    labels: Callable[[float], str] | None = None  # code → text for text, truth and choice columns
    ticks: list[str] | None = None                # plot ticks for codes 0, 1, ...

    @property
    def numeric(self) -> bool:
        return self.labels is None

    def cell(self, i: int) -> str:
        v = float(self.values[i])
        return self.labels(v) if self.labels else _cell(v)

    def csv(self, i: int) -> str:
        v = float(self.values[i])
        return self.labels(v) if self.labels else _csv(v)


def _truth(v: float) -> str:
    return "?" if math.isnan(v) else ("true" if v else "false")


def _show_column(graph: Graph, name: str, node: Node | None, kind: str, data: np.ndarray,
                 labels: list[str] | None = None, axis_values: np.ndarray | None = None,
                 display: tuple[str, float] | None = None) -> _Shown:
    flat = np.asarray(data).ravel()
    if kind == "requirement" or (node is not None and node.dim == BOOL):
        return _Shown(name, name, "", flat.astype(float), _truth, ["false", "true"])
    if labels is not None and axis_values is not None:
        position = {float(v): i for i, v in enumerate(axis_values)}
        codes = np.array([position[float(v)] for v in flat], dtype=float)
        return _Shown(name, name, "", codes, lambda v: labels[int(v)], list(labels))
    if node is not None and node.dim == TEXT:
        def text(v: float) -> str:
            return graph.text_of(int(v)) if math.isfinite(v) else "?"

        return _Shown(name, name, "", flat.astype(float), text)
    unit, factor = display or (_display(node) if node is not None else ("", 1.0))
    if not unit and display is None and node is not None and node.dim is not None and node.dim != DIMENSIONLESS:
        finite = np.abs(flat[np.isfinite(flat)])
        typical = float(np.median(finite)) if finite.size else 1.0
        unit = pick_unit(typical, node.dim)
        found = unit_factor(unit) if unit else None
        factor = float(found[0]) if found else 1.0
        if found is None:
            unit = format_dim(node.dim)
    header = f"{name} [{unit}]" if unit else name
    return _Shown(header, name, unit, flat / factor)


def _number(v: float, digits: int, nan: str) -> str:
    """Whole numbers exactly, others to `digits` significant figures; nan as `nan` says."""
    if not math.isfinite(v):
        return nan if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def _cell(v: float) -> str:
    return _number(v, 6, "nan")


def _csv(v: float) -> str:
    return _number(v, 12, "")      # an empty CSV cell: undefined


def _table(columns: list[_Shown], rows: int) -> str:
    """Aligned text: numbers to the right, words to the left; a long table shows head and tail."""
    shown = list(range(rows)) if rows <= TABLE_ROWS else \
        list(range(TABLE_ROWS // 2)) + [-1] + list(range(rows - TABLE_ROWS // 2, rows))
    cells = [[c.cell(i) if i >= 0 else "" for i in shown] for c in columns]
    widths = [max([len(c.header)] + [len(x) for x in col]) for c, col in zip(columns, cells)]

    def join(parts: list[str]) -> str:
        return "  ".join(p.rjust(w) if c.numeric else p.ljust(w)
                         for p, w, c in zip(parts, widths, columns)).rstrip()

    lines = [join([c.header for c in columns]), "  ".join("-" * w for w in widths)]
    for k, i in enumerate(shown):
        if i < 0:
            lines.append(f"... {rows - TABLE_ROWS:,} rows not shown (--csv FILE writes every row)")
        else:
            lines.append(join([col[k] for col in cells]))
    return "\n".join(lines)


def _write_csv(path: Path, columns: list[_Shown], rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.header for c in columns])
        for i in range(rows):
            writer.writerow([c.csv(i) for c in columns])


# --- plotting -----------------------------------------------------------------------------


def _pyplot():  # type: ignore[no-untyped-def]
    try:
        import matplotlib
    except ImportError:
        raise SweepUsage("--plot needs matplotlib, which is not installed: "
                         "pip install 'infer-planner[plot]' (or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot(path: Path, axes: list[Axis], shape: tuple[int, ...], axis_cols: list[_Shown],
          report_cols: list[_Shown], title: str) -> None:
    plt = _pyplot()
    first = axes[0]
    x_col = axis_cols[0]
    n = shape[0]
    rest = shape[1:]
    combos = int(np.prod(rest)) if rest else 1
    max_lines = 12
    if combos > max_lines:
        raise SweepUsage(f"--plot draws one line per value of the other --vary axes: {combos} lines is too "
                         f"many (at most {max_lines}); vary fewer values")

    def series(col: _Shown) -> np.ndarray:
        return col.values.reshape((n, combos))

    def legend(j: int) -> str:
        if not rest:
            return ""
        idx = np.unravel_index(j, rest)
        parts = []
        flat_index = int(np.ravel_multi_index((0, *[int(i) for i in idx]), shape))
        for ax_col in axis_cols[1:]:
            value = ax_col.cell(flat_index)
            parts.append(f"{ax_col.name} = {value}{(' ' + ax_col.unit) if ax_col.unit else ''}")
        return ", ".join(parts)

    log_x = first.spacing in ("log", "geometric") and first.labels is None
    panels = list(report_cols)
    trade = len(report_cols) == 2 and all(c.numeric for c in report_cols)
    count = len(panels) + (1 if trade else 0)
    cols = min(count, 3)
    rows_ = math.ceil(count / cols)
    fig, grid = plt.subplots(rows_, cols, figsize=(5.2 * cols, 3.9 * rows_), squeeze=False)
    flat_axes = list(grid.ravel())
    xs = series(x_col)
    for ax, col in zip(flat_axes, panels):
        ys = series(col)
        for j in range(combos):
            ax.plot(xs[:, j], ys[:, j], marker="o" if n <= 40 else None, markersize=3, label=legend(j) or None)
        ax.set_xlabel(x_col.header)
        ax.set_ylabel(col.header)
        if col.ticks:
            ax.set_yticks(range(len(col.ticks)), col.ticks)
        elif col.labels is not None:           # text values: a tick per value seen
            seen = np.unique(col.values[np.isfinite(col.values)])
            ax.set_yticks(seen, [col.labels(float(v)) for v in seen])
        if x_col.ticks:
            ax.set_xticks(range(len(x_col.ticks)), x_col.ticks, rotation=30, ha="right")
        if log_x:
            ax.set_xscale("log")
        ax.grid(True, alpha=0.3)
        if combos > 1:
            ax.legend(fontsize="small")
    if trade:
        ax = flat_axes[len(panels)]
        a, b = series(report_cols[0]), series(report_cols[1])
        for j in range(combos):
            ax.plot(a[:, j], b[:, j], marker="o", markersize=3, label=legend(j) or None)
            marks = np.unique(np.linspace(0, n - 1, min(n, 8)).round().astype(int))
            for i in marks:
                text = x_col.cell(int(np.ravel_multi_index((int(i), *np.unravel_index(j, rest)), shape))) \
                    if rest else x_col.cell(int(i))
                ax.annotate(f"{first.name.rsplit('.', 1)[-1]}={text}", (a[i, j], b[i, j]),
                            textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xlabel(report_cols[0].header)
        ax.set_ylabel(report_cols[1].header)
        ax.set_title(f"{report_cols[1].name} against {report_cols[0].name} as {first.name} varies",
                     fontsize=9)
        ax.grid(True, alpha=0.3)
        if combos > 1:
            ax.legend(fontsize="small")
    for ax in flat_axes[count:]:
        ax.set_visible(False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# --- the command ----------------------------------------------------------------------------


def _split_report(text: str) -> list[str]:
    """Names separated by commas at depth zero (a requirement may hold `min(a, b)`)."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def run_sweep(spec: Spec, args: argparse.Namespace) -> int:
    """`infer sweep`: parse the options, evaluate the grid, print/write the table and plot."""
    try:
        return _run(spec, args)
    except SweepUsage as err:
        if err.diagnostics:
            print(render_all(err.diagnostics, spec.sources), file=sys.stderr)
        else:
            print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE


def _run(spec: Spec, args: argparse.Namespace) -> int:
    graph = spec.graph
    plot: Path | None = getattr(args, "plot", None)
    if plot is not None:
        if plot.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise SweepUsage(f"--plot writes .png, .svg or .pdf, not `{plot.name}`")
        _pyplot()                      # fail before the work when matplotlib is missing
    for option, target in (("--csv", getattr(args, "csv", None)), ("--plot", plot)):
        if target is not None and (target.is_dir() or not target.resolve().parent.is_dir()):
            raise SweepUsage(f"{option} `{target}`: " + ("is a folder; name a file" if target.is_dir()
                                                         else "its folder does not exist"))
    axes = [parse_vary(spec, text, i) for i, text in enumerate(args.vary)]
    names = [a.name for a in axes]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SweepUsage(f"--vary names {', '.join(sorted(dupes))} more than once")
    report_text: str = args.report
    spec.sources.add("<--report>", report_text)
    pieces = _split_report(report_text)
    report = [p.strip() for p in pieces]
    if not all(report):
        raise SweepUsage(f"--report takes NAME,NAME,...; `{report_text}` has an empty name")
    total = int(np.prod([len(a.values) for a in axes]))
    if total > MAX_POINTS:
        raise SweepUsage(f"the grid has {total:,} points; at most {MAX_POINTS:,}")
    spans = []
    col = 1
    for p in pieces:
        lead = len(p) - len(p.lstrip())
        spans.append(Span("<--report>", 1, col + lead, 1, col + lead + max(len(p.strip()), 1)))
        col += len(p) + 1
    fn = compile_sweep(spec, names, report, spans)
    columns: list[Column] = fn.columns  # type: ignore[attr-defined]
    shape = tuple(len(a.values) for a in axes)
    data = fn(*[a.values for a in axes])
    dense = np.meshgrid(*[a.values for a in axes], indexing="ij")
    axis_cols = [_show_column(graph, a.name, a.node, "axis", g, a.labels, a.values, (a.unit, a.factor))
                 for a, g in zip(axes, dense)]
    report_cols = [_show_column(graph, c.name, c.node, c.kind, data[c.name]) for c in columns]
    table_cols = axis_cols + [r for r in report_cols if r.name not in names]
    print(_table(table_cols, total))
    if args.csv:
        _write_csv(args.csv, table_cols, total)
        print(f"wrote {args.csv}", file=sys.stderr)
    if plot is not None:
        title = f"{Path(graph.path).name}: " + ", ".join(r.name for r in report_cols) + \
            " over " + " × ".join(a.name for a in axes)
        _plot(plot, axes, shape, axis_cols, report_cols, title)
        print(f"wrote {plot}", file=sys.stderr)
    return EXIT_OK
