"""Source text → AST (lang.syntax), through the LALR grammar in grammar.lark.

Only this module knows Lark. Syntax errors come back as diagnostics with the
position of the offending token and what could have stood there.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from lang import syntax as ast
from lang.diagnostics import Diagnostic, InferError, Label, Span
from lang.limits import MAX_EXPONENT_DIGITS, MAX_NAME_LENGTH, MAX_NESTING, MAX_NUMBER_LENGTH, MAX_TREE_DEPTH
from lang.version import split_version

KEYWORDS = frozenset("import from as require goal maximize minimize if then else and or not "
                     "one of record true false".split())


class _PostLex:
    """Shapes the token stream the LALR grammar sees.

    - newlines inside ( ) and [ ] are dropped (an expression may span lines);
    - inside { } and at the top level only the first of a run of separators
      (newlines, and commas inside { }) passes;
    - brackets nested deeper than MAX_NESTING are refused (a resource bomb).
    """

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.file = "<input>"
        self.seen: list[Token] | None = None     # every token read, for lang.format


    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # No look-ahead here: the contextual lexer picks each token's terminals
        # from the parser state, so a token must reach the parser before the
        # next one is lexed.
        stack: list[str] = []
        after_separator = True          # the file starts as if after a newline
        for tok in stream:
            if self.seen is not None:
                self.seen.append(tok)
            kind = tok.type
            if kind in _LIMITED and len(tok) > _LIMITED[kind][0]:
                raise InferError([_too_long(tok, self.file)])
            in_braces = not stack or stack[-1] == "LBRACE"
            separator = kind == "_NL" or (kind == "COMMA" and bool(stack) and stack[-1] == "LBRACE")
            if separator:
                if in_braces and not after_separator:
                    after_separator = True
                    yield tok
                continue
            after_separator = kind in ("LBRACE",)
            if kind in ("LPAR", "LSQB", "LBRACE"):
                if len(stack) >= MAX_NESTING:
                    line, col = tok.line or 1, tok.column or 1
                    raise InferError([Diagnostic(
                        "E0105", f"brackets nested more than {MAX_NESTING} deep",
                        Span(self.file, line, col, line, col + 1), label="too deep here",
                        help=("split the expression into named parts",))])
                stack.append(kind)
            elif kind in ("RPAR", "RSQB", "RBRACE") and stack:
                stack.pop()
            yield tok


# Checked on the token, before anything converts it: a 5,000-digit literal would pass
# Python's int-from-text limit, a 300-character module name the file system's.
_LIMITED = {"NAME": (MAX_NAME_LENGTH, "E0107", "name"), "QUANTITY": (MAX_NUMBER_LENGTH, "E0106", "number"),
            "INT": (MAX_NUMBER_LENGTH, "E0106", "number")}


def _too_long(tok: Token, file: str) -> Diagnostic:
    limit, code, what = _LIMITED[tok.type]
    line, col = tok.line or 1, tok.column or 1
    return Diagnostic(code, f"{what} longer than {limit} characters", Span(file, line, col, line, col + len(tok)),
                      label=f"{len(tok)} characters", help=(f"a {what} may have at most {limit} characters",))


_postlex = _PostLex()


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return Lark(grammar, start=["module", "expr"], parser="lalr", lexer="contextual",
                postlex=_postlex, propagate_positions=True, maybe_placeholders=True,
                cache=_cache_path())


def _cache_path() -> str | bool:
    """Lark caches its LALR tables (a pickle), so only in the user's private cache folder, or not at all."""
    from lang.cachedir import private_dir

    folder = private_dir()
    return str(folder / "grammar-lalr.cache") if folder is not None else False


# --- public entry points -------------------------------------------------------


def parse_module(text: str, path: str) -> ast.Module:
    """Parse a whole file.

    >>> m = parse_module("x: GB = 80 GB / 2\\n", "a.infer")
    >>> m.members[0].value.op, m.members[0].value.left.text
    ('/', '80 GB')
    """
    text, _version = split_version(text, path)
    tree = _parse(text, path, "module")
    return ast.Module(path, tuple(_build(tree, path).children))


def module_tokens(text: str, path: str) -> tuple[ast.Module, list[Token]]:
    """Parse a file (its version line blanked) and return every token the lexer produced, newlines included.

    Comments are not tokens: they lie in the gaps between them (lang.format reads them there).
    """
    text, _version = split_version(text, path)
    seen: list[Token] = []
    _postlex.seen = seen
    try:
        tree = _parse(text, path, "module")
    finally:
        _postlex.seen = None
    return ast.Module(path, tuple(_build(tree, path).children)), seen


def parse_module_cached(text: str, path: str) -> ast.Module:
    """parse_module, memoized on disk by content as checked JSON data (`lang.astcache`)."""
    from lang.astcache import parse_cached

    return parse_cached(text, path)


def parse_expression(text: str, path: str) -> ast.Expr:
    """Parse one expression (used for `--set NAME=VALUE` on the command line).

    >>> parse_expression("2048 token", "<--set>").unit.name
    'token'
    """
    tree = _parse(text, path, "expr")
    result: ast.Expr = _build(tree, path)
    return result


def _build(tree: Tree, path: str) -> Any:
    """Parse tree → AST. Lark wraps what a rule raises in VisitError; a diagnostic comes out as itself."""
    try:
        return _Builder(path).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, InferError):
            raise err.orig_exc from None
        raise


def _parse(text: str, path: str, start: str) -> Tree:
    _postlex.file = path
    try:
        tree = _parser().parse(text, start=start)
    except UnexpectedInput as exc:
        raise InferError([_syntax_diagnostic(exc, text, path)]) from None
    _check_depth(tree, path)
    return tree


def _check_depth(tree: Tree, path: str) -> None:
    """Long operator chains make deep trees; refuse them before any recursive pass.

    The caret goes to the first place, in reading order, where the nesting passes the limit.
    """
    stack: list[tuple[Any, int]] = [(tree, 1)]
    first: tuple[int, int] | None = None
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            meta = node.meta
            where = (getattr(meta, "line", 1), getattr(meta, "column", 1))
            first = where if first is None else min(first, where)
            continue
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    if first is not None:
        line, column = first
        raise InferError([Diagnostic(
            "E0105", f"expression nested more than {MAX_TREE_DEPTH} levels deep",
            Span(path, line, column, line, column + 1), label="too deep from here",
            help=("split the expression into named parts",))])


_TOKEN_WORDS = {
    "_NL": "a newline", "NAME": "a name", "QUANTITY": "a number", "STRING": "a string",
    "EQUAL": "`=`", "COLON": "`:`", "COMMA": "`,`", "LPAR": "`(`", "RPAR": "`)`",
    "LSQB": "`[`", "RSQB": "`]`", "LBRACE": "`{`", "RBRACE": "`}`", "DOT": "`.`",
    "ADD": "`+` or `-`", "MUL": "`*` or `/`", "POW": "`^`", "COMPARE": "a comparison",
    "INT": "an integer", "PERCENT": "`%`", "SENSE": "`maximize` or `minimize`",
    "$END": "the end of the file", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`",
}


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_WORDS:
        return _TOKEN_WORDS[token_type]
    word = token_type.lower()
    return f"`{word}`" if word in KEYWORDS else token_type


def _syntax_diagnostic(exc: UnexpectedInput, text: str, path: str) -> Diagnostic:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        found = "end of file" if not path.startswith("<") else "end of input"   # `<--set>`: a value
        width = 1
        offset = len(text)
    elif isinstance(exc, UnexpectedToken):
        tok = exc.token
        width = max(1, len(str(tok).splitlines()[0]) if str(tok).strip() else 1)
        found = "end of line" if tok.type == "_NL" else f"`{str(tok).strip()}`"
        if tok.type == "_NL":
            width = 1
        offset = tok.start_pos if tok.start_pos is not None else len(text)
    else:
        assert isinstance(exc, UnexpectedCharacters)
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        span = Span(path, line, column, line, column + 1)
        char_hints: tuple[str, ...] = ()
        if char == "'":
            char_hints = ('strings use double quotes: "text"',)
        elif char == "*" and text[pos:pos + 2] == "**":
            char_hints = ("powers are written `^`: `x ^ 2`",)
        return Diagnostic("E0101", f"unexpected character `{char}`", span,
                          label="not part of the language", help=char_hints)
    # `accepts` is what the parser state takes; `expected` may also hold what the lexer always lets by.
    accepts = set(getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ())
    expected: list[str] = sorted({_describe(t) for t in accepts if not t.startswith("__")})
    span = Span(path, line, column, line, column + width)
    hints: list[str] = []
    if expected:
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        hints.append(f"expected {shown}")
    hints.extend(_syntax_hints(exc, text, offset, accepts))

    open_brackets, unclosed = _brackets(text, offset)
    if open_brackets and open_brackets[-1] in unclosed and (
            found.startswith("end of f") or found == "end of input" or open_brackets[-1][0] in "(["):
        char, b_line, b_col = open_brackets[-1]
        closer = {"(": ")", "[": "]", "{": "}"}[char]
        here = (f"expected `{closer}` before {found}" if found.startswith("`") or found == "end of line"
                else "the file ends here" if found == "end of file" else "the value ends here")
        return Diagnostic("E0100", f"unclosed `{char}`", Span(path, b_line, b_col, b_line, b_col + 1),
                          label="never closed", secondary=(Label(span, here),),
                          help=(f"close it with `{closer}`",))
    if any(c == "{" for c, _, _ in open_brackets):
        head = text[:offset].rsplit("\n", 1)[-1].lstrip()
        if head.startswith(("import ", "from ")):
            hints.append("imports belong at the top level of a file, outside any record")
    return Diagnostic("E0100", f"unexpected {found}", span, label="unexpected here",
                      help=tuple(hints))


def _syntax_hints(exc: UnexpectedInput, text: str, offset: int, accepts: set[str]) -> list[str]:
    """Hints for the usual slips: `**`, `=` for `==`, a keyword as a name, a colon with no unit."""
    if not isinstance(exc, UnexpectedToken):
        return []
    token = str(exc.token)
    before = text[:offset].rstrip(" \t")
    if token == "*" and before.endswith("*"):
        return ["powers are written `^`: `x ^ 2`"]
    if exc.token.type == "_NL" and before.endswith("="):
        return ["give it a value after `=`, or declare an unknown with no `=`: `name: UNIT`"]
    if token == "=":
        if "COMPARE" in accepts:
            return ["to compare, write `==`"]
        if before.endswith(":"):
            return ["write the unit between `:` and `=`: `memory: GB = 80 GB`"]
        words = before.rsplit("\n", 1)[-1].split()
        if len(words) == 1 and words[0] in KEYWORDS:
            return [f"`{words[0]}` is a keyword and cannot name a binding"]
    return []


def _brackets(text: str, offset: int) -> tuple[list[tuple[str, int, int]], set[tuple[str, int, int]]]:
    """The brackets still open at `offset`, and those that the whole text never closes.

    Each is (bracket, line, column); strings and comments are skipped.

    >>> _brackets("x = (1 +\\n2\\n", 9)
    ([('(', 1, 5)], {('(', 1, 5)})
    """
    stack: list[tuple[str, int, int]] = []
    open_at: list[tuple[str, int, int]] | None = None
    line, col, i = 1, 1, 0
    pairs = {")": "(", "]": "[", "}": "{"}
    while i < len(text):
        if i == offset:
            open_at = list(stack)
        ch = text[i]
        if ch == "#" or ch == '"':         # a comment, or a string: up to its end or the line's
            newline = text.find("\n", i + 1)
            newline = len(text) if newline < 0 else newline
            quote = text.find('"', i + 1, newline) if ch == '"' else -1
            stop = quote + 1 if quote >= 0 else newline
            if i < offset < stop:
                open_at = list(stack)
            col += stop - i
            i = stop
            continue
        if ch in "([{":
            stack.append((ch, line, col))
        elif ch in pairs and stack and stack[-1][0] == pairs[ch]:
            stack.pop()
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1
    if open_at is None:
        open_at = list(stack)
    return open_at, set(stack)


# --- parse tree → AST -----------------------------------------------------------


def _span(path: str, meta: Any) -> Span:
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_span(path: str, tok: Token) -> Span:
    return Span(path, tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1,
                tok.end_column or (tok.column or 1) + len(tok))


def _number(text: str, path: str, span: Span) -> Fraction:
    digits = text.replace("_", "")
    mantissa, _, exponent = digits.lower().partition("e")
    if exponent and len(exponent.lstrip("+-")) > MAX_EXPONENT_DIGITS - 1:
        raise InferError([Diagnostic("E0106", f"number `{text}` is out of range", span,
                                     label="exponent too large",
                                     help=("exponents are limited to ±999",))])
    if mantissa.endswith("."):
        mantissa += "0"
    return Fraction(mantissa) * (Fraction(10) ** int(exponent or 0))


@v_args(meta=True)
class _Builder(Transformer):  # type: ignore[type-arg]
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def _s(self, meta: Any) -> Span:
        return _span(self.path, meta)

    # members
    def module(self, meta: Any, children: list[Any]) -> Tree:
        return Tree("module", children)

    def dotted(self, meta: Any, children: list[Token]) -> tuple[str, ...]:
        return tuple(str(c) for c in children)

    def import_stmt(self, meta: Any, children: list[Any]) -> ast.Import:
        module, alias = children
        return ast.Import(module, str(alias) if alias else None, self._s(meta))

    def from_stmt(self, meta: Any, children: list[Any]) -> ast.FromImport:
        module, *names = children
        return ast.FromImport(module, tuple((str(n), _tok_span(self.path, n)) for n in names),
                              self._s(meta))

    def binding(self, meta: Any, children: list[Any]) -> ast.Binding:
        name, unit, value = children
        return ast.Binding(str(name), _tok_span(self.path, name), unit, value, self._s(meta))

    def unknown(self, meta: Any, children: list[Any]) -> ast.Unknown:
        name, unit = children
        return ast.Unknown(str(name), _tok_span(self.path, name), unit, self._s(meta))

    def record_input(self, meta: Any, children: list[Any]) -> ast.RecordInput:
        (name,) = children
        return ast.RecordInput(str(name), _tok_span(self.path, name), self._s(meta))

    def choice(self, meta: Any, children: list[Any]) -> ast.Choice:
        name, *options = children
        return ast.Choice(str(name), _tok_span(self.path, name), tuple(options), self._s(meta))

    def require(self, meta: Any, children: list[Any]) -> ast.Require:
        return ast.Require(children[0], self._s(meta))

    def goal(self, meta: Any, children: list[Any]) -> ast.Goal:
        name, sense, expr = children
        return ast.Goal(str(name), _tok_span(self.path, name), str(sense), expr,  # type: ignore[arg-type]
                        self._s(meta))

    # units
    def unit_name(self, meta: Any, children: list[Token]) -> ast.UnitName:
        return ast.UnitName(str(children[0]), self._s(meta))

    def unit_mul(self, meta: Any, children: list[Any]) -> ast.UnitProduct:
        return ast.UnitProduct("*", children[0], children[1], self._s(meta))

    def unit_div(self, meta: Any, children: list[Any]) -> ast.UnitProduct:
        return ast.UnitProduct("/", children[0], children[1], self._s(meta))

    def unit_pow(self, meta: Any, children: list[Any]) -> ast.UnitPower:
        return ast.UnitPower(children[0], int(children[1]), self._s(meta))

    def unit_pow_neg(self, meta: Any, children: list[Any]) -> ast.UnitPower:
        return ast.UnitPower(children[0], -int(children[1]), self._s(meta))

    # expressions
    def number(self, meta: Any, children: list[Token]) -> ast.Number | ast.Quantity:
        tok = children[0]
        text = str(tok)
        span = self._s(meta)
        i = 0
        while i < len(text) and (text[i].isdigit() or text[i] in "._" or
                                 (text[i] in "eE" and i + 1 < len(text) and
                                  (text[i + 1].isdigit() or text[i + 1] in "+-")) or
                                 (text[i] in "+-" and i > 0 and text[i - 1] in "eE")):
            i += 1
        number_text, unit_text = text[:i], text[i:].strip()
        value = _number(number_text, self.path, span)
        if not unit_text:
            return ast.Number(value, number_text, span)
        unit_col = span.column + text.index(unit_text, i)
        return ast.Quantity(value, text, _unit_from_text(unit_text, self.path, span.line, unit_col),
                            span)

    def text(self, meta: Any, children: list[Token]) -> ast.Text:
        return ast.Text(str(children[0])[1:-1], self._s(meta))

    def boolean(self, meta: Any, children: list[Token]) -> ast.Number:
        value = Fraction(1 if str(children[0]) == "true" else 0)
        return ast.Number(value, str(children[0]), self._s(meta))

    def name(self, meta: Any, children: list[Token]) -> ast.Name:
        return ast.Name(str(children[0]), self._s(meta))

    def attribute(self, meta: Any, children: list[Any]) -> ast.Attribute:
        obj, name = children
        return ast.Attribute(obj, str(name), self._s(meta), _tok_span(self.path, name))

    def call(self, meta: Any, children: list[Any]) -> ast.Call:
        func, *args = children
        return ast.Call(str(func), tuple(a for a in args if a is not None), self._s(meta),
                        _tok_span(self.path, func))

    def extend(self, meta: Any, children: list[Any]) -> ast.Extend:
        base, body = children
        return ast.Extend(base, body, self._s(meta))

    def record(self, meta: Any, children: list[Any]) -> ast.RecordLiteral:
        return ast.RecordLiteral(tuple(children), self._s(meta))

    def cond(self, meta: Any, children: list[Any]) -> ast.Conditional:
        return ast.Conditional(children[0], children[1], children[2], self._s(meta))

    def logic(self, meta: Any, children: list[Any]) -> ast.Binary:
        left, op, right = children
        return ast.Binary(str(op), left, right, self._s(meta), _tok_span(self.path, op))

    compare = logic
    arith = logic

    def not_(self, meta: Any, children: list[Any]) -> ast.Unary:
        return ast.Unary("not", children[0], self._s(meta))

    def neg(self, meta: Any, children: list[Any]) -> ast.Expr:
        op, operand = children
        return ast.Unary(str(op), operand, self._s(meta))  # type: ignore[arg-type]


def _unit_from_text(text: str, path: str, line: int, column: int) -> ast.UnitExpr:
    """Split a compact unit (`TB/s`, `USD/hour`, `FLOP/s^2`) into a unit tree."""
    import re

    parts = re.findall(r"[/*]|\^-?\d+|[^/*^]+", text)
    col = column

    def span_of(piece: str) -> Span:
        return Span(path, line, col, line, col + len(piece))

    unit: ast.UnitExpr | None = None
    pending_op: str | None = None
    for piece in parts:
        if piece in "/*":
            pending_op = piece
        elif piece.startswith("^"):
            assert unit is not None
            target = unit.right if isinstance(unit, ast.UnitProduct) else unit
            powered = ast.UnitPower(target, int(piece[1:]), span_of(piece))
            unit = (ast.UnitProduct(unit.op, unit.left, powered, unit.span)
                    if isinstance(unit, ast.UnitProduct) else powered)
        else:
            name = ast.UnitName(piece, span_of(piece))
            op: Literal["*", "/"] = "/" if pending_op == "/" else "*"
            unit = name if unit is None else ast.UnitProduct(
                op, unit, name, Span(path, line, column, line, col + len(piece)))
        col += len(piece)
    assert unit is not None
    return unit
