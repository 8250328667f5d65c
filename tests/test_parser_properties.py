"""Property tests of the front end: the parser, the resolver and `source_text`.

(a) random text and (b) mutated valid specs always end in a diagnostic (`InferError`,
    which renders) or a graph, never another exception;
(c) well-formed arithmetic over quantities with compatible units evaluates to the number a
    direct `Fraction` computation gives, in the dimension it should have;
(d) `source_text(parse_expression(t))` parses back to the same AST, spans aside.

Examples are derandomized so CI sees the same cases every run.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import sympy
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lang.diagnostics import InferError, SourceMap, Span, render_all
from lang.parser import parse_expression
from lang.resolve import build_graph, source_text
from lang.units import DIMENSIONLESS, Dim, lookup, registry

ROOT = Path(__file__).resolve().parent.parent

FAST = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module", autouse=True)
def _units_cache_untouched() -> Iterator[None]:
    """Random names are looked up as units; keep them out of the on-disk unit cache."""
    reg = registry()
    before = set(reg._cache)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reg, "_save", lambda: None)
        yield
    for name in set(reg._cache) - before:
        del reg._cache[name]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="infer-props-") as folder:
        yield Path(folder)


def check_source(text: str, folder: Path) -> object:
    """Build a spec from `text`: a graph, or an InferError whose diagnostics render."""
    spec = folder / "spec.infer"
    spec.write_text(text, encoding="utf-8")
    try:
        return build_graph(spec, sources=SourceMap())
    except InferError as err:
        assert err.diagnostics, "an InferError with no diagnostic"
        rendered = render_all(err.diagnostics, err.sources or SourceMap())
        assert rendered.startswith(("error[", "warning["))
        return err


# --- (a) random text ------------------------------------------------------------------

TOKENS = ["x", "y", "batch", "kv_heads", "memory", "tp", "GB", "token", "s", "ms", "TB/s", "%",
          "80 GB", "3.35 TB/s", "2048 token", "1e3", "0", "1_000", ".5", "2", '"H100"',
          "=", ":", "+", "-", "*", "/", "^", "**", "(", ")", "{", "}", "[", "]", ",", ".", "==",
          "<=", ">", "!=", "if", "then", "else", "and", "or", "not", "true", "false", "require",
          "goal", "maximize", "minimize", "one of", "record", "import", "from", "as", "min", "max",
          "ceil", "sqrt", "log", "\n", "\n", "\n", "  ", "#", "'", "\\\n", "\t", "µ"]


@FAST
@given(st.text(alphabet=st.characters(min_codepoint=9, max_codepoint=126,
                                      blacklist_characters="\x0b\x0c\r"), max_size=80))
def test_random_printable_text_gives_a_diagnostic_or_a_graph(workdir: Path, text: str) -> None:
    check_source(text, workdir)


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_random_token_soup_gives_a_diagnostic_or_a_graph(workdir: Path, text: str) -> None:
    check_source(text, workdir)


# --- (b) mutated valid specs ----------------------------------------------------------

SEED_SPECS = [
    "layers = 32\nkv_heads = 8\nhead_dim = 128\nkv_bytes = 2 B\n"
    "kv_per_token: KiB/token = 2 * layers * kv_heads * head_dim * kv_bytes / token\n"
    "budget = 24 GB\nbatch = 16\ncontext: token\nkv_total: GB = batch * context * kv_per_token\n"
    "require kv_total <= budget\ngoal max_context = maximize context\n",

    "gpu = {\n  memory: GB = 80 GB\n  bandwidth: TB/s = 3.35 TB/s\n  label = \"H100\"\n}\n"
    "big = gpu { memory = 141 GB }\nchoice: one of [gpu, big]\nmem = choice.memory\n"
    "tp: one of [1, 2, 4, 8]\nper_gpu: GB = 140 GB / tp\n"
    "time = if per_gpu > mem then 1 s else per_gpu / choice.bandwidth\n"
    "require per_gpu <= 0.9 * mem and tp <= 8\ngoal fastest = minimize time\n",

    "deployment = {\n  model: record\n  tp = 1\n  layers_per_gpu = model.layers / tp\n"
    "  require tp >= 1\n}\nllama = { layers = 80, hidden = 8192 }\n"
    "chat = deployment { model = llama, tp = 4 }\n"
    "cost = ceil(chat.layers_per_gpu) * 2.49 USD/hour * 730 hour\n"
    "ratio = log(sqrt(abs(-4)) + exp(0)) ^ 2\nshare = 90 % * max(1, min(2, 3))\n",
]

SEED_FILES = [ROOT / "specs" / "kv-budget.infer", ROOT / "stdlib" / "interconnects.infer",
              ROOT / "stdlib" / "precisions.infer"]


def _seeds() -> list[str]:
    texts = list(SEED_SPECS)
    texts += [p.read_text(encoding="utf-8") for p in SEED_FILES if p.is_file()]
    return texts


SEEDS = _seeds()
_TOKEN_RE = re.compile(r"\s+|\d[\d_.]*(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|\"[^\"\n]*\"|<=|>=|==|!=|.", re.S)


@st.composite
def mutated_spec(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        by_token = draw(st.booleans())
        parts = _TOKEN_RE.findall(text) if by_token else list(text)
        if len(parts) < 2:
            break
        i = draw(st.integers(0, len(parts) - 2))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]))
        if op == "delete":
            del parts[i]
        elif op == "duplicate":
            parts.insert(i, parts[i])
        elif op == "swap":
            parts[i], parts[i + 1] = parts[i + 1], parts[i]
        else:
            parts[i] = draw(st.sampled_from(TOKENS))
        text = "".join(parts)
    return text


@FAST
@given(mutated_spec())
def test_mutated_specs_give_a_diagnostic_or_a_graph(workdir: Path, text: str) -> None:
    check_source(text, workdir)


def test_seed_specs_are_valid(workdir: Path) -> None:
    """The mutations start from specs that check cleanly."""
    for text in SEED_SPECS:
        assert not isinstance(check_source(text, workdir), InferError)


# --- (c) arithmetic over quantities evaluates exactly ---------------------------------

B, S, TOK = Dim([("B", 1)]), Dim([("s", 1)]), Dim([("token", 1)])
UNITS: dict[Dim, list[str]] = {
    DIMENSIONLESS: [""],
    B: ["B", "kB", "GB", "KiB", "MiB", "GiB", "bit"],
    S: ["s", "ms", "us", "minute", "hour"],
    TOK: ["token"],
    B / S: ["GB/s", "TB/s", "MB/s"],
    B / TOK: ["B/token", "KiB/token"],
}
DIMS = list(UNITS)


@dataclasses.dataclass(frozen=True)
class Term:
    text: str
    value: Fraction
    dim: Dim
    prec: int                 # 9 atom, 8 power, 7 unary, 6 product, 5 sum


def _wrap(term: Term, need: int) -> str:
    return term.text if term.prec >= need else f"({term.text})"


NUMBER_TEXTS = st.one_of(
    st.integers(0, 5000).map(str),
    st.tuples(st.integers(0, 999), st.integers(0, 99)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.tuples(st.integers(1, 9), st.integers(-6, 9)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.integers(1, 99).map(lambda n: f"1_0{n:02d}"),
)


def _number_value(text: str) -> Fraction:
    mantissa, _, exponent = text.replace("_", "").partition("e")
    return Fraction(mantissa) * Fraction(10) ** int(exponent or 0)


@st.composite
def leaf(draw: st.DrawFn, dim: Dim) -> Term:
    number = draw(NUMBER_TEXTS)
    unit = draw(st.sampled_from(UNITS[dim]))
    value = _number_value(number)
    if not unit:
        return Term(number, value, dim, 9)
    info = lookup(unit)
    assert info is not None and info.dim == dim, unit
    return Term(f"{number} {unit}", value * info.factor, dim, 9)


def term(dim: Dim, depth: int) -> st.SearchStrategy[Term]:
    if depth <= 0:
        return leaf(dim)
    return st.one_of(compound(dim, depth), leaf(dim), compound(dim, depth))


@st.composite
def compound(draw: st.DrawFn, dim: Dim, depth: int) -> Term:
    op = draw(st.sampled_from(["+", "-", "*", "/", "neg", "^", "paren"]))
    if op in ("+", "-"):
        left, right = draw(term(dim, depth - 1)), draw(term(dim, depth - 1))
        value = left.value + right.value if op == "+" else left.value - right.value
        return Term(f"{_wrap(left, 5)} {op} {_wrap(right, 6)}", value, dim, 5)
    if op == "neg":
        inner = draw(term(dim, depth - 1))
        return Term(f"-{_wrap(inner, 7)}", -inner.value, dim, 7)
    if op == "paren":
        inner = draw(term(dim, depth - 1))
        return Term(f"({inner.text})", inner.value, dim, 9)
    if op == "^":
        # a plain number to a small whole power (a unit only where the power is 1)
        base = draw(term(DIMENSIONLESS if dim == DIMENSIONLESS else dim, depth - 1))
        power = draw(st.integers(-2, 3)) if dim == DIMENSIONLESS else 1
        if base.value == 0 and power < 0:
            power = -power
        return Term(f"{_wrap(base, 9)} ^ {power}", base.value ** power, dim, 8)
    other = draw(st.sampled_from(DIMS))
    if op == "*":
        left = draw(term(other, depth - 1))
        right = draw(term(dim / other, depth - 1)) if dim / other in UNITS else \
            draw(term(DIMENSIONLESS, depth - 1))
        if right.dim != dim / other:
            left = draw(term(dim, depth - 1))
        return Term(f"{_wrap(left, 6)} * {_wrap(right, 7)}", left.value * right.value, dim, 6)
    top = dim * other
    if top not in UNITS:
        other, top = DIMENSIONLESS, dim
    left, right = draw(term(top, depth - 1)), draw(term(other, depth - 1))
    if right.value == 0:
        right = Term(f"({right.text} + 1)", right.value + 1, right.dim, 9) if right.dim == DIMENSIONLESS \
            else Term(f"({right.text} + 1 {UNITS[right.dim][0]})", right.value + lookup(
                UNITS[right.dim][0]).factor, right.dim, 9)  # type: ignore[union-attr]
    return Term(f"{_wrap(left, 6)} / {_wrap(right, 7)}", left.value / right.value, dim, 6)


@FAST
@given(st.sampled_from(DIMS).flatmap(lambda d: term(d, 4)))
def test_arithmetic_over_quantities_evaluates_exactly(workdir: Path, expr: Term) -> None:
    result = check_source(f"x = {expr.text}\n", workdir)
    if isinstance(result, InferError) and expr.value < 0 and not expr.dim.dimensionless:
        # A negative amount written as a literal (`-1 token`) is refused by design (E0313).
        assert {d.code for d in result.diagnostics} == {"E0313"}
        return
    assert not isinstance(result, InferError), render_all(result.diagnostics, result.sources or SourceMap())
    node = result.nodes["x"]  # type: ignore[attr-defined]
    assert node.dim == expr.dim
    value = sympy.nsimplify(node.expr) if not node.expr.is_Rational else node.expr
    assert Fraction(int(value.p), int(value.q)) == expr.value


# --- (d) source_text round trip -------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "batch", "kv_heads", "model", "gpu", "x1", "_t"])
ATOMS = st.one_of(
    NAMES,
    NUMBER_TEXTS,
    st.tuples(NUMBER_TEXTS, st.sampled_from(["GB", "TB/s", "token", "ms", "%", "USD/hour", "KiB/token",
                                              "GB", "s^2", "FLOP/s^2"])).map(" ".join),
    st.sampled_from(['"H100"', '""', '"fp8 (dense)"', "true", "false"]),
)


def expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        def binary(ops: list[str]) -> st.SearchStrategy[str]:
            return st.tuples(inner, st.sampled_from(ops), inner).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})")
        return st.one_of(
            binary(["+", "-", "*", "/", "^", "<", "<=", "==", "!=", ">", ">=", "and", "or"]),
            st.tuples(inner, inner, inner).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
            inner.map(lambda t: f"-({t})"),
            inner.map(lambda t: f"+{t}" if re.fullmatch(r"\w+", t) else f"+({t})"),
            inner.map(lambda t: f"not ({t})"),
            inner.map(lambda t: f"({t})"),
            st.tuples(inner, NAMES).map(lambda t: f"({t[0]}).{t[1]}"),
            st.tuples(st.sampled_from(["min", "max", "ceil", "log", "f"]),
                      st.lists(inner, min_size=1, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        )
    return st.recursive(ATOMS, extend, max_leaves=12)


def strip_spans(node: Any) -> Any:
    """The AST as nested tuples, spans left out."""
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            strip_spans(getattr(node, f.name)) for f in dataclasses.fields(node)
            if not isinstance(getattr(node, f.name), Span))
    if isinstance(node, tuple):
        return tuple(strip_spans(n) for n in node)
    return node


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(expressions())
@example("(a < b) < c")                 # comparisons do not chain: the parentheses must stay
@example("not ((0).a)")                 # `0.a` would read as 0 in the unit `a`
@example("-(2 ^ 2) ^ (-1) - -a")
@example("(if a then b else c).d + f(if a then b else c)")
def test_source_text_parses_back_to_the_same_ast(text: str) -> None:
    first = parse_expression(text, "<prop>")
    printed = source_text(first)
    second = parse_expression(printed, "<prop>")
    assert strip_spans(second) == strip_spans(first), (text, printed)
    assert source_text(second) == printed
