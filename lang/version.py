"""The language version line: `infer 0.2` as the first statement of a file.

A spec may name the language version it was written for. The line is read here,
before the grammar sees the text, and blanked to spaces so that every later
position is unchanged. A version this implementation knows is accepted (the
current one and every earlier one: the compatibility promise in docs/language.md);
a newer one is refused with E0110, pointing at the number. A file without the
line is read as the current version.

>>> split_version("# a spec\\ninfer 0.2\\nx = 1\\n", "a.infer")
('# a spec\\n         \\nx = 1\\n', '0.2')
>>> split_version("infer = 3\\n", "a.infer")[1] is None
True
"""

from __future__ import annotations

import re

from lang.diagnostics import Diagnostic, InferError, Span

LANGUAGE_VERSION = "0.2"
# 0.1: the language of infer-planner 0.1.0 (no version line); 0.2: adds the version line.
KNOWN_VERSIONS = ("0.1", "0.2")

# `infer` then something that is not `=` or `:` (which would make `infer` a binding's name).
_LINE = re.compile(r"[ \t]*infer[ \t]+(?![=:])(?P<rest>[^\n#]*?)[ \t]*(?P<comment>#[^\n]*)?$")
_NUMBER = re.compile(r"(\d+)\.(\d+)")


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def split_version(text: str, path: str) -> tuple[str, str | None]:
    """The text with its version line blanked, and the version it names (None: no line)."""
    offset = 0
    for line_no, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            offset += len(line) + 1
            continue
        match = _LINE.match(line.rstrip("\r"))
        if match is None:
            return text, None
        rest = match.group("rest")
        column = match.start("rest") + 1
        span = Span(path, line_no, column, line_no, column + max(1, len(rest)))
        if not _NUMBER.fullmatch(rest):
            raise InferError([Diagnostic(
                "E0110", f"`{rest or 'infer'}` is not a language version", span,
                label="expected MAJOR.MINOR", help=(f"write `infer {LANGUAGE_VERSION}`",))])
        if _key(rest) > _key(LANGUAGE_VERSION):
            raise InferError([Diagnostic(
                "E0110", f"this spec is written for language version {rest}, newer than {LANGUAGE_VERSION}",
                span, label=f"this implementation reads up to {LANGUAGE_VERSION}",
                help=("upgrade infer-planner to read it",
                      f"versions known here: {', '.join(KNOWN_VERSIONS)}"))])
        if rest not in KNOWN_VERSIONS:
            raise InferError([Diagnostic(
                "E0110", f"unknown language version {rest}", span, label="never released",
                help=(f"versions known here: {', '.join(KNOWN_VERSIONS)}",))])
        # Keep the comment after the version: it is still a comment to the lexer.
        kept = " " * match.start("comment") + match.group("comment") if match.group("comment") else ""
        blank = kept + " " * (len(line) - len(kept))
        return text[:offset] + blank + text[offset + len(line):], rest
    return text, None
