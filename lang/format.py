"""`infer fmt`: the canonical layout of a .infer file, from the compiler's own token stream.

Method: parse the file with the real parser (lang.parser.module_tokens), which hands back every
token it read; comments are the `#...` runs in the gaps between tokens. The user's line breaks
are kept; on each line the tokens are re-spaced by fixed rules (one space around binary
operators and `=`, none inside brackets, before `,` or around `.`, units written compactly and
one space after a number: `80 GB`, `KiB/token`), the line is indented two spaces per bracket
opened on an earlier line, runs of blank lines shrink to one, a top-level record spanning lines
gets one blank line on either side, and trailing comments in a block of lines at one depth start
in one column (COMMENT_COLUMN at the least, the stdlib catalogs' column). Comment text is kept
exactly (trailing blanks aside), so the output re-parses to the same AST, and formatting it
again changes nothing.

>>> print(format_source("x:GB=80GB\\nchat = base {tp=4,  y = -x*2}\\n"), end="")
x: GB = 80 GB
chat = base { tp = 4, y = -x * 2 }
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from lark import Token

from lang.parser import module_tokens
from lang.version import split_version

INDENT = "  "
COMMENT_COLUMN = 40       # trailing comments start here at the least (the stdlib's catalogs' column)
ALIGN_LIMIT = 56          # code longer than this does not push a block's comment column right

_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}
_VALUE_END = {"NAME", "QUANTITY", "STRING", "TRUE", "FALSE", "RPAR", "RSQB", "RBRACE"}
_UNIT_TOKENS = {"NAME", "SLASH", "STAR", "POW", "MINUS", "INT", "PERCENT", "LPAR", "RPAR"}
_NUMBER = re.compile(r"(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)([eE][+-]?\d+)?")


@dataclass
class _Line:
    """One physical line of the output, before comment alignment."""

    level: int                   # indentation depth
    code: str                    # the tokens, spaced; "" on a comment-only or blank line
    comment: str | None          # `# ...`, kept as written
    attached: bool = False       # a comment-only line continuing the trailing comment above
    opens_record: bool = False   # a top-level line that leaves a `{` open
    closes_record: bool = False  # a line that closes a top-level `{` opened on an earlier line

    @property
    def blank(self) -> bool:
        return not self.code and self.comment is None


def format_source(text: str, path: str = "<input>") -> str:
    """The canonical layout of `text`; raises InferError (the parser's diagnostic) when it does not parse."""
    blanked, version = split_version(text, path)
    _module, tokens = module_tokens(text, path)
    src_lines = blanked.split("\n")
    by_line: dict[int, list[Token]] = {}
    ranges: dict[int, list[tuple[int, int]]] = {}
    for tok in tokens:
        if tok.type == "_NL":
            continue
        line = tok.line or 1
        by_line.setdefault(line, []).append(tok)
        if tok.type == "STRING":
            ranges.setdefault(line, []).append(((tok.column or 1) - 1, (tok.end_column or 1) - 1))

    lines: list[_Line] = []
    stack: list[tuple[str, int]] = []       # open brackets and the output line that opened them
    continued = False                       # the previous line ended in `\`
    unit_context = False
    prev: Token | None = None
    for number, raw in enumerate(src_lines, start=1):
        raw = raw.rstrip("\r")
        toks = by_line.get(number, [])
        comment_at = _comment_start(raw, ranges.get(number, []))
        comment = raw[comment_at:].rstrip() if comment_at is not None else None
        if version is not None and number == _version_line(text):
            lines.append(_Line(0, f"infer {version}", comment))
            continue
        if not toks:
            lines.append(_Line(_levels(stack, len(lines)) + continued, "", comment))
            if comment is not None and lines[-1].comment is not None:
                lines[-1].attached = _continues_comment(lines, raw, comment_at, src_lines, number)
            continue
        leading = 0
        while leading < len(toks) and toks[leading].type in _CLOSERS:
            leading += 1
        closing = stack[:len(stack) - leading] if leading <= len(stack) else []
        level = _levels(closing, len(lines)) + continued
        closes_record = any(kind == "LBRACE" for kind, _ in stack[len(closing):]) and not closing
        parts: list[str] = []
        line_prev: Token | None = None
        prev_unary = False
        for tok in toks:
            if tok.type == "COLON":
                unit_context = True
            elif tok.type not in _UNIT_TOKENS:
                unit_context = False
            if line_prev is not None:
                parts.append("" if prev_unary else _space(line_prev, tok, unit_context))
            parts.append(_text(tok))
            # `-x`: a sign after an operator, a bracket or a keyword sits on its operand
            prev_unary = tok.type == "ADD" and (prev is None or prev.type not in _VALUE_END)
            if tok.type in _OPENERS:
                stack.append((tok.type, len(lines)))
            elif tok.type in _CLOSERS and stack:
                stack.pop()
            prev = tok
            line_prev = tok
        continued = _ends_in_backslash(raw, comment_at)
        code = "".join(parts) + (" \\" if continued else "")
        opens_record = not closing and bool(stack) and stack[0][0] == "LBRACE" and stack[0][1] == len(lines)
        lines.append(_Line(level, code, comment, opens_record=opens_record, closes_record=closes_record))
    return _render(_space_records(_trim_blanks(lines)))


def _version_line(text: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return number
    return 0


def _levels(stack: list[tuple[str, int]], _here: int) -> int:
    """Indent depth: brackets opened on distinct earlier lines (`f({` on one line counts once)."""
    return len({line for _, line in stack})


def _comment_start(raw: str, strings: list[tuple[int, int]]) -> int | None:
    i = raw.find("#")
    while i >= 0:
        if not any(a <= i < b for a, b in strings):
            return i
        i = raw.find("#", i + 1)
    return None


def _ends_in_backslash(raw: str, comment_at: int | None) -> bool:
    code = raw[:comment_at] if comment_at is not None else raw
    return code.rstrip().endswith("\\")


def _continues_comment(lines: list[_Line], raw: str, comment_at: int | None, src: list[str], number: int) -> bool:
    """A comment-only line indented past the code above, right under a trailing comment, continues it."""
    if len(lines) < 2 or comment_at is None:
        return False
    above = lines[-2]
    if above.comment is None or not (above.code or above.attached):
        return False
    # Find the code line the run of comments hangs from, in the source, and its indentation.
    k = number - 2
    while k >= 0 and not src[k].split("#", 1)[0].strip():
        k -= 1
    if k < 0:
        return False
    code_indent = len(src[k]) - len(src[k].lstrip())
    return comment_at > code_indent


def _text(tok: Token) -> str:
    text = str(tok)
    if tok.type != "QUANTITY":
        return text
    match = _NUMBER.match(text)
    assert match is not None
    unit = text[match.end():].strip()
    return f"{match.group(0)} {unit}" if unit else match.group(0)


def _space(prev: Token, tok: Token, unit: bool) -> str:
    """The space between two tokens on one line."""
    a, b = prev.type, tok.type
    if unit and b in _UNIT_TOKENS and a in _UNIT_TOKENS:
        return ""
    if b in ("COMMA", "RPAR", "RSQB", "COLON", "DOT") or a in ("LPAR", "LSQB", "DOT"):
        return ""
    if a == "LBRACE":
        return "" if b == "RBRACE" else " "
    if b == "LPAR" and a == "NAME":
        return ""                                 # a call: `max(a, b)`
    return " "


def _trim_blanks(lines: list[_Line]) -> list[_Line]:
    out: list[_Line] = []
    for line in lines:
        if line.blank and (not out or out[-1].blank):
            continue
        out.append(line)
    while out and out[-1].blank:
        out.pop()
    return out


def _space_records(lines: list[_Line]) -> list[_Line]:
    """One blank line after a multi-line top-level record, and before one that follows code."""
    out: list[_Line] = []
    for i, line in enumerate(lines):
        if line.opens_record and out and out[-1].code and out[-1].level == 0 and line.level == 0:
            out.append(_Line(0, "", None))
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if line.closes_record and line.level == 0 and nxt is not None and not nxt.blank \
                and not nxt.code.startswith(("}", ")", "]")):
            out.append(_Line(0, "", None))
    return out


def _render(lines: list[_Line]) -> str:
    columns = _comment_columns(lines)
    out: list[str] = []
    for i, line in enumerate(lines):
        indent = INDENT * line.level
        if line.blank:
            out.append("")
        elif not line.code:
            assert line.comment is not None
            out.append(" " * columns[i] + line.comment if line.attached else indent + line.comment)
        elif line.comment is None:
            out.append(indent + line.code)
        else:
            code = indent + line.code
            out.append(code + " " * max(2, columns[i] - len(code)) + line.comment)
    return "\n".join(out) + "\n"


def _comment_columns(lines: list[_Line]) -> dict[int, int]:
    """Trailing comments of a block (consecutive lines at one depth) start in one column."""
    columns: dict[int, int] = {}
    i = 0
    while i < len(lines):
        if lines[i].blank:
            i += 1
            continue
        j = i
        level = lines[i].level
        while j < len(lines) and not lines[j].blank and (lines[j].level == level or not lines[j].code):
            j += 1
        widths = [len(INDENT * ln.level + ln.code) for ln in lines[i:j] if ln.code and ln.comment is not None]
        fitting = [w for w in widths if w <= ALIGN_LIMIT]
        column = max(COMMENT_COLUMN, max(fitting) + 2) if fitting else 0
        owner = column
        for k in range(i, j):
            ln = lines[k]
            if ln.code and ln.comment is not None:
                width = len(INDENT * ln.level + ln.code)
                owner = column if width <= ALIGN_LIMIT else width + 2
                columns[k] = owner
            elif ln.attached:
                columns[k] = owner
        i = max(j, i + 1)
    return columns


def check(text: str, path: str) -> str:
    """A unified diff from `text` to its formatted form; "" when it is already formatted."""
    formatted = format_source(text, path)
    if formatted == text:
        return ""
    return "".join(difflib.unified_diff(text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                                        fromfile=path, tofile=f"{path} (formatted)"))
