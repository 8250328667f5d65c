"""Derivations and evaluations as text, Markdown, LaTeX or JSON. Returns strings; never prints."""

from __future__ import annotations

import re

from solver import results
from solver.evaltext import dumps, evaluation_text

__all__ = ["dumps", "render_evaluation", "render_solution"]


def render_solution(sol: results.Solution, fmt: str = "text") -> str:
    if fmt == "json":
        return dumps(sol.model_dump(mode="json"))
    if fmt == "markdown":
        return _markdown(sol)
    if fmt == "latex":
        return _latex(sol)
    return _text(sol)


def _width(steps: list[results.Step]) -> int:
    names = [len(s.name) for s in steps if s.kind in ("formula", "input")]
    return min(max(names, default=0), 28)


def _text(sol: results.Solution) -> str:
    lines: list[str] = []
    steps = list(sol.steps)
    width = _width(steps[1:] if sol.kind == "goal" else steps)
    for i, step in enumerate(steps):
        if sol.kind == "goal" and i == 0:
            lines.append(f"{step.name} = {step.formula}")
            continue
        if step.kind in ("formula", "input"):
            head = f"  {step.name:<{width}} = {step.formula}"
            pad = " " * (2 + width)
            if step.substituted:
                lines.append(head)
                tail = f" = {step.result.text}" if step.result else ""
                lines.append(f"{pad} = {step.substituted}{tail}")
            else:
                lines.append(head + (f" = {step.result.text}" if step.result and
                                     step.result.text != step.formula else ""))
        elif step.kind == "check":
            note = f"  ({step.note})" if step.note else ""
            lines.append(f"  {step.name}: {step.formula}{note}")
            if step.substituted:
                lines.append(f"  {' ' * len(step.name)}  {step.substituted}")
        elif step.kind == "closed-form":
            lines.append(f"  {step.formula}")
            pad = " " * (2 + len(step.name) + 1)
            result = f" = {step.result.text}" if step.result else ""
            if step.substituted:
                lines.append(f"{pad}= {step.substituted}{result}")
            elif result:
                lines.append(f"{pad}{result.strip()}")
            if step.note:
                lines.append(f"{pad}({step.note})")
        else:
            note = f"  ({step.note})" if step.note else ""
            lines.append(f"  {step.formula}{note}")
    if sol.candidates:
        lines.append("")
        lines.extend(_candidate_table(sol))
    lines.append("")
    lines.append(f"{sol.target} = {sol.text}" + (f"   [binding: {sol.binding}]" if sol.binding else ""))
    if sol.method:
        lines.append(f"method: {sol.method}")
    for note in sol.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _candidate_table(sol: results.Solution) -> list[str]:
    rows = [("option", "objective", "feasible", "limited by / broken")]
    for c in sol.candidates:
        rows.append((c.option, c.objective.text if c.objective else "?", "yes" if c.feasible else "no",
                     c.broken or (f"limited by {c.binding}" if c.binding else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = []
    for r in rows:
        out.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3])
    return out


def _markdown(sol: results.Solution) -> str:
    out = [f"### `{sol.target}` = {sol.text}", ""]
    if sol.binding:
        out += [f"Binding requirement: `{sol.binding}`", ""]
    out += ["| step | formula | with values | result |", "|---|---|---|---|"]
    for s in sol.steps:
        result = s.result.text if s.result else (s.note or "")
        out.append(f"| {s.name} | `{s.formula}` | {('`' + s.substituted + '`') if s.substituted else ''} "
                   f"| {result} |")
    if sol.candidates:
        out += ["", "| option | objective | feasible | limited by / broken |", "|---|---|---|---|"]
        for c in sol.candidates:
            out.append(f"| {c.option} | {c.objective.text if c.objective else '?'} | "
                       f"{'yes' if c.feasible else 'no'} | {c.broken or c.binding or ''} |")
    out.append("")
    if sol.method:
        out.append(f"Method: {sol.method}.")
    out += [f"- {n}" for n in sol.notes]
    return "\n".join(out).rstrip() + "\n"


_GREEK_SAFE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)")


def latex_text(text: str) -> str:
    """The spec's notation as LaTeX: names upright, units in \\mathrm{}, `·` as \\cdot."""
    def name(m: re.Match[str]) -> str:
        word = m.group(1)
        return r"\mathrm{" + word.replace("_", r"\_") + "}"

    # Operators and the goal's words become placeholders first, so the name pattern leaves
    # them alone (before, `<=` came out as `\\le`: a LaTeX line break).
    kept: dict[str, str] = {}

    def keep(latex: str) -> str:
        key = f"\x00{len(kept)}\x00"
        kept[key] = latex
        return key

    for op, latex in (("<=", r" \le "), (">=", r" \ge "), ("!=", r" \ne ")):
        if op in text:
            text = text.replace(op, keep(latex))
    text = re.sub(r"\b(maximize|minimize|subject to)\b",
                  lambda m: keep(r"\text{ " + m.group(1) + " }"), text)
    text = _GREEK_SAFE.sub(name, text)
    text = text.replace("·", r"\cdot ").replace("%", r"\%")
    text = re.sub(r"(\d) (?=\\mathrm\{)", r"\1\\,", text)   # `24 GB`: a thin space, as in print
    for key, latex in kept.items():
        text = text.replace(key, latex)
    return text


def _latex(sol: results.Solution) -> str:
    out = [r"\begin{align*}"]
    rows = []
    for s in sol.steps:
        if s.kind == "formula" and "=" not in s.formula.split(" ")[0:1]:
            left = latex_text(s.name)
            parts = [latex_text(s.formula)]
            if s.substituted:
                parts.append(latex_text(s.substituted))
            if s.result:
                parts.append(latex_text(s.result.text))
            rows.append(f"{left} &= " + " = ".join(parts))
        elif s.kind in ("closed-form",):
            parts = [latex_text(s.formula)]
            if s.substituted:
                parts.append(latex_text(s.substituted))
            if s.result:
                parts.append(latex_text(s.result.text))
            rows.append("&" + " = ".join(parts))
        elif s.kind == "check":
            rows.append(r"&\text{binding: } " + latex_text(s.formula))
        elif s.kind == "answer":
            note = f"\\quad\\text{{({_tex_escape(s.note)})}}" if s.note else ""
            rows.append("&" + latex_text(s.formula) + note)
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    return "\n".join(out) + "\n"


def _tex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        text = text.replace(a, b)
    return text


def render_evaluation(ev: results.Evaluation, fmt: str = "text") -> str:
    quantities = {k: {"value": q.value, "unit": q.unit, "text": q.text} for k, q in ev.quantities.items()}
    reqs = [{"text": r.text, "record": r.record, "holds": r.holds, "margin": r.margin} for r in ev.requirements]
    return evaluation_text(quantities, reqs, ev.unknown, fmt)
