"""`infer sweep`'s output: the table, the CSV file and the plot of one evaluated grid.

`sweep_command` reads the options (`--vary`, `--report`, `--csv`, `--plot`), evaluates the grid
compiled once (`solver.sweep.compile_sweep`) and returns the table's text and the files it wrote;
the CLI prints them. Numbers are shown in each quantity's declared unit, truth values as
true/false, choices and text by name; a table longer than TABLE_ROWS shows its head and tail.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lang.diagnostics import Span
from lang.graph import Graph, Node
from lang.units import BOOL, DIMENSIONLESS, TEXT, format_dim
from solver.quantities import pick_unit, unit_factor
from solver.sweep import MAX_POINTS, Column, SweepUsage, compile_sweep
from solver.sweep_vary import Axis, _display, parse_vary

if TYPE_CHECKING:
    import argparse

    from solver.api import Spec

__all__ = ["SweepOutput", "sweep_command"]

TABLE_ROWS = 2000              # a longer table shows its head and tail; --csv has every row


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


@dataclass(frozen=True)
class SweepOutput:
    """What `infer sweep` shows: the table (stdout) and the files it wrote (named on stderr)."""

    table: str
    wrote: tuple[Path, ...]


def sweep_command(spec: Spec, args: argparse.Namespace,
                  compile: Callable[..., Callable[..., dict[str, np.ndarray]]] = compile_sweep) -> SweepOutput:
    """`infer sweep`: read the options, evaluate the grid, write the CSV and plot; SweepUsage
    (exit 2) for an option that cannot be read, InferError for a name or unit in the spec's terms.
    `compile`: how the columns are compiled (a compiled sweep passes the ones it stored)."""
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
    fn = compile(spec, names, report, spans)
    columns: list[Column] = fn.columns  # type: ignore[attr-defined]
    shape = tuple(len(a.values) for a in axes)
    data = fn(*[a.values for a in axes])
    dense = np.meshgrid(*[a.values for a in axes], indexing="ij")
    axis_cols = [_show_column(graph, a.name, a.node, "axis", g, a.labels, a.values, (a.unit, a.factor))
                 for a, g in zip(axes, dense)]
    report_cols = [_show_column(graph, c.name, c.node, c.kind, data[c.name]) for c in columns]
    table_cols = axis_cols + [r for r in report_cols if r.name not in names]
    wrote: list[Path] = []
    if args.csv:
        _write_csv(args.csv, table_cols, total)
        wrote.append(args.csv)
    if plot is not None:
        title = f"{Path(graph.path).name}: " + ", ".join(r.name for r in report_cols) + \
            " over " + " × ".join(a.name for a in axes)
        _plot(plot, axes, shape, axis_cols, report_cols, title)
        wrote.append(plot)
    return SweepOutput(_table(table_cols, total), tuple(wrote))
