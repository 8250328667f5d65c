"""The `--vary` grammar of `infer sweep`: one option's text to an axis of canonical values.

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

Errors point into the option's own text (`<--vary>`, `<--vary #2>`), as spec errors point into a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from lang.diagnostics import Diagnostic, InferError, Span, did_you_mean
from lang.graph import Graph, Node
from lang.units import DIMENSIONLESS, format_dim
from solver.quantities import unit_factor
from solver.sweep import MAX_POINTS, SweepUsage, _check_variable, _resolve

if TYPE_CHECKING:
    from solver.api import Spec

__all__ = ["DEFAULT_POINTS", "Axis", "choice_values", "parse_vary"]

DEFAULT_POINTS = 50            # points of `A..B` for a continuous quantity
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_WHOLE_DIMS = {"token", "request"}


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
    # Not at the top: a compiled sweep (solver.fastsweep) reads bare numbers only.
    import sympy

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
