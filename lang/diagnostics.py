"""Diagnostics: positioned errors and warnings, collected per stage, rendered once.

Every stage returns diagnostics as values; nothing here prints. The layout
follows rustc::

    error[E0301]: cannot add `GB` and `token`
     --> spec.infer:3:5
      |
    3 | x = a + b
      |     ^   - `token`, declared at spec.infer:2:1
      = help: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Span:
    """A region of a source file: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Label:
    """A secondary position with a short message (where the other side was declared)."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    severity: Severity = "error"
    label: str = ""
    secondary: tuple[Label, ...] = ()
    help: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class InferError(Exception):
    """The root exception of infer: carries the diagnostics that stopped a stage."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: SourceMap | None = None):
        self.diagnostics = tuple(diagnostics)
        self.sources = sources
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"error[{first.code}]: {first.message}" if first else "error")


@dataclass
class Collector:
    """Collects a stage's diagnostics so one pass reports every problem it finds."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, span: Span | None, **kw: object) -> None:
        self.items.append(Diagnostic(code, message, span, "error", **kw))  # type: ignore[arg-type]

    def warn(self, code: str, message: str, span: Span | None, **kw: object) -> None:
        self.items.append(Diagnostic(code, message, span, "warning", **kw))  # type: ignore[arg-type]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def sorted_diagnostics(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Order by position and drop exact repeats (a name misspelt twice is two errors, one place once)."""
    seen: set[tuple[str, str, Span | None]] = set()
    unique = []
    for d in items:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return sorted(unique, key=lambda d: (d.span is None, d.span.file if d.span else "",
                                         d.span.line if d.span else 0, d.span.column if d.span else 0))


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A spelling hint, or nothing when no candidate is close.

    >>> did_you_mean("kv_haeds", ["kv_heads", "layers"])
    ('did you mean `kv_heads`?',)
    >>> did_you_mean("zzz", ["kv_heads"])
    ()
    """
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.7)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return (f"did you mean `{close[0]}`?",) if close else ()


# --- rendering ---------------------------------------------------------------

class SourceMap:
    """File contents by name, so a diagnostic can quote its line."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def add(self, name: str, text: str) -> None:
        self._texts[name] = text

    def line(self, name: str, number: int) -> str | None:
        text = self._texts.get(name)
        if text is None:
            try:
                text = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            self._texts[name] = text
        lines = text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""


MAX_SHOWN_LINE = 120     # longer source lines are cut to a window around the marks


def render(diagnostic: Diagnostic, sources: SourceMap) -> str:
    """Render one diagnostic in the rustc layout.

    Labels are grouped by file (the primary's first) and shown under their source
    line, each line once, lines in order; a line too long to read is cut to a window.

    >>> src = SourceMap()
    >>> src.add("f.infer", "a = 1 GB\\nb = a + 2 s\\n")
    >>> d = Diagnostic("E0301", "cannot add `GB` and `s`", Span("f.infer", 2, 7, 2, 8),
    ...                label="here", secondary=(Label(Span("f.infer", 1, 1, 1, 2), "`GB`"),
    ...                                         Label(Span("f.infer", 2, 9, 2, 12), "`s`")))
    >>> print(render(d, src))
    error[E0301]: cannot add `GB` and `s`
     --> f.infer:2:7
      |
    1 | a = 1 GB
      | - `GB`
    2 | b = a + 2 s
      |       ^ here
      |         --- `s`
    """
    head = f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    out = [head]
    marks = [(diagnostic.span, diagnostic.label, "^")] if diagnostic.span else []
    marks += [(lab.span, lab.message, "-") for lab in diagnostic.secondary]
    width = max((len(str(s.line)) for s, _, _ in marks), default=1)
    pad = " " * width
    files: dict[str, list[tuple[Span, str, str]]] = {}
    for mark in marks:
        files.setdefault(mark[0].file, []).append(mark)
    for file, in_file in files.items():
        first = in_file[0][0]
        arrow = "-->" if in_file[0][2] == "^" else ":::"
        out.append(f"{pad}{arrow} {first}")
        by_line: dict[int, list[tuple[Span, str, str]]] = {}
        for mark in in_file:
            by_line.setdefault(mark[0].line, []).append(mark)
        previous: int | None = None
        for number in sorted(by_line):
            text = sources.line(file, number)
            if text is None:
                out.extend(f"{pad} = note: {message}" for _, message, _ in by_line[number] if message)
                continue
            if previous is None or number != previous + 1:
                out.append(f"{pad} |")
            previous = number
            shown, shift, limit = _window(text.replace("\t", " "), by_line[number])
            out.append(f"{number:>{width}} | {shown}")
            for span, message, sign in sorted(by_line[number], key=lambda m: (m[0].column, m[2] != "^")):
                end = span.end_column if span.end_line == span.line else len(text) + 1
                start = max(span.column - 1 - shift, 0)
                stop = min(max(end - 1 - shift, start + 1), limit)
                carets = sign * max(1, stop - start)
                out.append(f"{pad} | {' ' * start}{carets}{' ' + message if message else ''}")
    for hint in diagnostic.help:
        out.append(f"{pad} = help: {hint}")
    return "\n".join(out)


def _window(text: str, marks: list[tuple[Span, str, str]]) -> tuple[str, int, int]:
    """A long line cut around its marks: (text shown, columns cut on the left, width shown)."""
    if len(text) <= MAX_SHOWN_LINE:
        return text, 0, max(len(text), 1) + 1
    first = min(span.column for span, _, _ in marks) - 1
    start = max(0, min(first - 20, len(text) - MAX_SHOWN_LINE))
    stop = min(len(text), start + MAX_SHOWN_LINE)
    left = "..." if start > 0 else ""
    right = "..." if stop < len(text) else ""
    return left + text[start:stop] + right, start - len(left), len(left) + stop - start


def render_all(diagnostics: Iterable[Diagnostic], sources: SourceMap) -> str:
    return "\n\n".join(render(d, sources) for d in diagnostics)
