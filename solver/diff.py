"""`infer diff`: what changed between two versions of a spec, and what that did to every answer.

Method: load each version through the public pipeline (build_graph; for `--rev` every file is
read as `git show REV:path` through the resolver's SourceReader, so imports resolve, and are
restricted, exactly as they would have at that revision). Solve every goal; the decision at
the goals' answers (the first goal wins an unknown two goals share) is where every quantity
and requirement is evaluated. The inputs are compared as written (the root spec's bindings,
flattened to `record.field = source`) and as values (every input node of the graph); the
results are compared value by value, with delta and percentage in the new version's unit,
requirements that started or stopped holding first, then the largest relative change.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import sympy

from lang import syntax as ast
from lang.diagnostics import SourceMap
from lang.graph import Graph
from lang.parser import parse_module
from lang.resolve import SourceReader, build_graph, source_text
from solver.api import Spec
from solver.explain import value_of
from solver.optimize import GoalSolver, SolveError
from solver.quantities import unit_factor


class DiffError(Exception):
    """The comparison cannot be made (no git checkout, an unknown revision); the message says why."""


@dataclass(frozen=True)
class Reading:
    """One figure on one side: as shown, and in canonical units for arithmetic."""

    text: str
    si: float | None          # None: text, truth value, or no value
    unit: str
    factor: float | None      # shown value per canonical unit


@dataclass(frozen=True)
class Change:
    name: str
    kind: str                 # input | source | quantity | requirement | goal | decision
    old: str                  # as shown; "—" where the side has none
    new: str
    delta: str = ""
    percent: float | None = None
    note: str = ""            # "started holding", "stopped holding", "added", "removed"


@dataclass(frozen=True)
class SpecDiff:
    old: str
    new: str
    inputs: tuple[Change, ...]
    results: tuple[Change, ...]     # requirements that flipped first, then by size of the change


@dataclass(frozen=True)
class _Snapshot:
    written: dict[str, str]
    inputs: dict[str, Reading]
    quantities: dict[str, Reading]
    requirements: dict[str, bool | None]
    goals: dict[str, Reading]
    decision: dict[str, Reading]


# --- loading ----------------------------------------------------------------------------------


def _snapshot(path: Path, reader: SourceReader | None) -> _Snapshot:
    sources = SourceMap()
    graph = build_graph(path, (), sources, reader)
    spec = Spec(graph, sources)
    text = reader(path.resolve()) if reader else path.read_text(encoding="utf-8")
    written = dict(_flatten(parse_module(text or "", str(path)).members, ""))
    goals: dict[str, Reading] = {}
    point = answer_point(spec, goals)
    values = spec.evaluator.values(point or None)
    inputs = {name: _reading(graph, name, values) for name, node in graph.nodes.items()
              if node.kind == "input"}
    quantities = {name: _reading(graph, name, values) for name in graph.root_names
                  if graph.nodes[name].kind != "input"}
    checker = GoalSolver(graph, evaluator=spec.evaluator)
    requirements = {r.text: checker.requirement_entry(r, values).holds for r in graph.requirements}
    decision = {name: _reading(graph, name, values) for name in point if name in graph.nodes}
    return _Snapshot(written, inputs, quantities, requirements, goals, decision)


def answer_point(spec: Spec, answers: dict[str, Reading] | None = None) -> dict[str, sympy.Expr]:
    """The decision at the goals' answers (the first goal wins an unknown two goals share).

    `answers` collects each goal's answer as a Reading ("no solution" where there is none).
    """
    point: dict[str, sympy.Expr] = {}
    for goal in spec.graph.goals:
        solver = GoalSolver(spec.graph, evaluator=spec.evaluator)
        try:
            solution = solver.solve(goal)
        except SolveError:
            if answers is not None:
                answers[goal.name] = Reading("no solution", None, "", None)
            continue
        for name, value in solver.answer_point.items():
            point.setdefault(name, value)
        if answers is not None:
            answers[goal.name] = _reading_of_shown(solution.value, solution.unit, solution.text)
    return point


def _reading(graph: Graph, name: str, values: dict[str, sympy.Basic]) -> Reading:
    node = graph.nodes[name]
    if name not in values:
        return Reading("unknown", None, "", None)
    if node.kind == "choice":
        label = next((o.label for o in node.options if o.value == values[name]), str(values[name]))
        return Reading(label, None, "", None)
    shown = value_of(graph, node, values[name])
    if not isinstance(shown.value, (int, float)) or isinstance(shown.value, bool) or shown.si_value is None:
        return Reading(shown.text, None, "", None)
    factor = shown.value / shown.si_value if shown.si_value else _factor(shown.unit)
    return Reading(shown.text, shown.si_value, shown.unit, factor)


def _reading_of_shown(value: object, unit: str, text: str) -> Reading:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return Reading(text, None, "", None)
    factor = _factor(unit)
    return Reading(text, float(value) / factor if factor else None, unit, factor)


def _factor(unit: str) -> float | None:
    if not unit:
        return 1.0
    found = unit_factor(unit)
    return 1 / float(found[0]) if found and found[0] else None


def _flatten(members: tuple[ast.Member, ...], prefix: str) -> Iterator[tuple[str, str]]:
    """The root spec as written: `chat.gpu` → `gpus.h100_sxm`, `chat.batch` → `: count`."""
    for m in members:
        if isinstance(m, ast.Binding):
            name = prefix + m.name
            unit = f": {ast.unit_text(m.unit)} " if m.unit else ""
            value = m.value
            if isinstance(value, (ast.RecordLiteral, ast.Extend)):
                body = value if isinstance(value, ast.RecordLiteral) else value.body
                yield name, unit + ("{ ... }" if isinstance(value, ast.RecordLiteral)
                                    else source_text(value.base) + " { ... }")
                yield from _flatten(body.members, name + ".")
            else:
                yield name, f"{unit}= {source_text(value)}" if unit else source_text(value)
        elif isinstance(m, ast.Unknown):
            yield prefix + m.name, f": {ast.unit_text(m.unit)} (unknown)"
        elif isinstance(m, ast.Choice):
            yield prefix + m.name, "one of [" + ", ".join(source_text(o) for o in m.options) + "]"
        elif isinstance(m, ast.RecordInput):
            yield prefix + m.name, ": record"
        elif isinstance(m, ast.Require):
            yield f"{prefix}require {source_text(m.expr)}", "present"
        elif isinstance(m, ast.Goal):
            yield f"goal {prefix}{m.name}", f"{m.sense} {source_text(m.expr)}"
        elif isinstance(m, ast.Import):
            yield "import " + ".".join(m.module), "present"
        elif isinstance(m, ast.FromImport):
            for n, _ in m.names:
                yield f"from {'.'.join(m.module)} import {n}", "present"


# --- comparing -------------------------------------------------------------------------------


def diff_specs(old: Path, new: Path) -> SpecDiff:
    """Two spec files on disk."""
    return _compare(_snapshot(old, None), _snapshot(new, None), str(old), str(new))


def diff_revision(spec: Path, rev: str) -> SpecDiff:
    """A spec (and every file it imports) at git revision `rev`, against the working tree."""
    reader = git_reader(spec, rev)
    if reader(spec.resolve()) is None:
        raise DiffError(f"`{spec}` did not exist at {rev}")
    return _compare(_snapshot(spec, reader), _snapshot(spec, None), f"{spec} @ {rev}", str(spec))


def git_reader(spec: Path, rev: str) -> SourceReader:
    """Files inside the spec's git checkout as they were at `rev`; files outside it from disk."""
    folder = spec.resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        raise DiffError(f"`{spec}` is not inside a git checkout: --rev reads files through git")
    if _git(folder, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") is None:
        raise DiffError(f"`{rev}` is not a revision of the git checkout at {top.strip()}")
    root = Path(top.strip()).resolve()
    cache: dict[Path, str | None] = {}

    def read(path: Path) -> str | None:
        path = path.resolve()
        if path not in cache:
            try:
                rel = path.relative_to(root)
            except ValueError:
                cache[path] = path.read_text(encoding="utf-8") if path.is_file() else None
            else:
                cache[path] = _git(root, "show", f"{rev}:{rel.as_posix()}")
        return cache[path]

    return read


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _compare(old: _Snapshot, new: _Snapshot, old_label: str, new_label: str) -> SpecDiff:
    inputs = [_text_change(name, "source", old.written.get(name), new.written.get(name))
              for name in _union(old.written, new.written)
              if old.written.get(name) != new.written.get(name)]
    written_names = set(old.written) | set(new.written)
    # Inputs read through imports (a catalog entry edited at the revision): only those both sides
    # read; a record swapped for another (`gpu = gpus.h200_sxm`) already shows as written.
    inputs += [_change(name, "input", old.inputs[name], new.inputs[name])
               for name in sorted(set(old.inputs) & set(new.inputs))
               if name not in written_names and _differs(old.inputs[name], new.inputs[name])]
    results: list[Change] = []
    for text in _union(old.requirements, new.requirements):
        before, after = old.requirements.get(text), new.requirements.get(text)
        if before != after:
            note = ("started holding" if after else "stopped holding") if before is not None and \
                after is not None else ("added" if text not in old.requirements else
                                        "removed" if text not in new.requirements else "")
            results.append(Change(f"require {text}", "requirement", _truth(before, text in old.requirements),
                                  _truth(after, text in new.requirements), note=note))
    shown = set(old.quantities) | set(new.quantities)
    for kind, before_map, after_map in (("goal", old.goals, new.goals), ("decision", old.decision, new.decision),
                                        ("quantity", old.quantities, new.quantities)):
        for name in _union(before_map, after_map):
            if kind == "decision" and name in shown:
                continue          # a root unknown is listed with the quantities
            a, b = before_map.get(name), after_map.get(name)
            if _differs(a, b):
                results.append(_change(name, kind, a, b))
    results.sort(key=_order)
    return SpecDiff(old_label, new_label, tuple(inputs), tuple(results))


def _union(a: dict, b: dict) -> list[str]:  # type: ignore[type-arg]
    return list(dict.fromkeys([*a, *b]))


def _truth(holds: bool | None, present: bool) -> str:
    return "—" if not present else "unknown" if holds is None else "holds" if holds else "fails"


def _differs(a: Reading | None, b: Reading | None) -> bool:
    if a is None or b is None:
        return a is not b
    if a.si is not None and b.si is not None:
        return not math.isclose(a.si, b.si, rel_tol=1e-12, abs_tol=0.0)
    return a.text != b.text


def _text_change(name: str, kind: str, a: str | None, b: str | None) -> Change:
    return Change(name, kind, a if a is not None else "—", b if b is not None else "—",
                  note="added" if a is None else "removed" if b is None else "")


def _change(name: str, kind: str, a: Reading | None, b: Reading | None) -> Change:
    old, new = (a.text if a else "—"), (b.text if b else "—")
    if a is None or b is None or a.si is None or b.si is None:
        return Change(name, kind, old, new, note="added" if a is None else "removed" if b is None else "")
    factor = b.factor if b.factor is not None else 1.0
    delta = (b.si - a.si) * factor
    percent = (b.si - a.si) / abs(a.si) * 100 if a.si else None
    return Change(name, kind, old, new, f"{_signed(delta)}{' ' + b.unit if b.unit else ''}", percent)


def _signed(x: float) -> str:
    text = f"{x:+.4g}"
    return text.replace("e+0", "e").replace("e-0", "e-")


def _order(c: Change) -> tuple[int, float, str]:
    """Requirements that started or stopped holding, other requirement changes, goals, then the rest
    by the size of the change (a change with no percentage, from or to no value, counts as largest)."""
    if c.kind == "requirement":
        rank = 0 if c.note in ("started holding", "stopped holding") else 1
    else:
        rank = 2 if c.kind == "goal" else 3
    size = abs(c.percent) if c.percent is not None else math.inf
    return (rank, -size, c.name)


# --- rendering --------------------------------------------------------------------------------


def render_diff(d: SpecDiff, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(asdict(d), indent=2) + "\n"
    if fmt == "markdown":
        return _markdown(d)
    return _text(d)


def _pct(c: Change) -> str:
    return "" if c.percent is None else f"{c.percent:+.1f} %"


def _text(d: SpecDiff) -> str:
    out = [f"infer diff: {d.old} → {d.new}", ""]
    if not d.inputs and not d.results:
        return "\n".join(out + ["no change", ""])
    if d.inputs:
        out.append("inputs changed")
        width = max(len(c.name) for c in d.inputs)
        out += [f"  {c.name:<{width}}  {c.old} → {c.new}" + (f"  ({c.note})" if c.note else "") for c in d.inputs]
        out.append("")
    if d.results:
        rows = [(_label(c), c.old, c.new, c.delta, _pct(c), c.note) for c in d.results]
        head = ("result", "old", "new", "delta", "%", "")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
        out.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths))))
        for r in rows:
            line = "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
            out.append((line + (f"  {r[5]}" if r[5] else "")).rstrip())
    else:
        out.append("no result changed")
    return "\n".join(out) + "\n"


def _label(c: Change) -> str:
    return f"goal {c.name}" if c.kind == "goal" else f"at answer: {c.name}" if c.kind == "decision" else c.name


def _markdown(d: SpecDiff) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    out = [f"### `infer diff`: `{d.old}` → `{d.new}`", ""]
    if not d.inputs and not d.results:
        return "\n".join(out + ["No change.", ""])
    if d.inputs:
        out += ["**Inputs changed**", "", "| input | old | new |", "|---|---|---|"]
        out += [f"| `{cell(c.name)}` | {cell(c.old)} | {cell(c.new)}{' (' + c.note + ')' if c.note else ''} |"
                for c in d.inputs]
        out.append("")
    if d.results:
        out += ["**Results**", "", "| result | old | new | delta | % |", "|---|--:|--:|--:|--:|"]
        for c in d.results:
            name = f"`{cell(_label(c))}`" + (f" **{c.note}**" if c.note else "")
            out.append(f"| {name} | {cell(c.old)} | {cell(c.new)} | {cell(c.delta)} | {_pct(c)} |")
        out.append("")
    return "\n".join(out)


__all__ = ["Change", "DiffError", "SpecDiff", "answer_point", "diff_revision", "diff_specs", "git_reader",
           "render_diff"]
