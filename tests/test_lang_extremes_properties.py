"""Property tests of the language at its edges: extreme numbers, long names, deep nesting.

Whatever the input, `infer eval` (in-process) ends in a result (exit 0) or diagnostics (exit 1),
never another exception, and within a time bound. The strategies aim at the classes issue 8
found by fuzzing: values outside a function's domain, results past a float or past 10^300,
literals past Python's int-from-text limit, names past a file name, chains past the stack.
Bounded and derandomized: the whole file runs in a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lang.limits import MAX_CHAIN, MAX_NAME_LENGTH, MAX_NUMBER_LENGTH, MAX_TREE_DEPTH
from solver.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOUND_S = 5.0
FEW = settings(max_examples=20, deadline=None, derandomize=True, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                      HealthCheck.data_too_large])


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def ends_cleanly(folder: Path, capsys: pytest.CaptureFixture[str], spec: str, *argv: str,
                 command: str = "eval") -> int:
    (folder / "s.infer").write_text(spec, encoding="utf-8")
    capsys.readouterr()
    start = time.perf_counter()
    code = main([command, "s.infer", *argv])       # any exception but InferError propagates here
    elapsed = time.perf_counter() - start
    output = "".join(capsys.readouterr())
    assert code in (0, 1), output[-2000:]
    assert (code == 1) == ("error[" in output), output[-2000:]
    assert elapsed < BOUND_S, f"{elapsed:.1f} s for {spec[:200]!r}"
    return code


# --- extreme numbers -----------------------------------------------------------------------

NUMBERS = ["0", "1", "-1", "2", "0.5", "-8", "1.000001", "1.0001", "10", "300", "690", "710", "1000",
           "100000", "100000000", "1e300", "1e-300", "1e999", "1e-999", "99999999999999999999"]
FUNCTIONS_1 = ["sqrt", "log", "exp", "floor", "ceil", "abs"]


def expressions(leaves: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(st.sampled_from(FUNCTIONS_1), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "^"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"),
        )
    return st.recursive(leaves, grow, max_leaves=6)


@FEW
@given(expressions(st.sampled_from(NUMBERS)), st.sampled_from(["x = {}", "require {} < 15", "x = 1 GB * {}"]))
def test_constant_extremes(folder: Path, capsys: pytest.CaptureFixture[str], expr: str, form: str) -> None:
    ends_cleanly(folder, capsys, form.format(expr) + "\n")


@FEW
@given(st.sampled_from(NUMBERS), expressions(st.sampled_from(NUMBERS + ["a", "a"])))
def test_extremes_through_an_input(folder: Path, capsys: pytest.CaptureFixture[str], a: str, expr: str) -> None:
    """The same values, reaching the formula through a quantity: checked when evaluated."""
    ends_cleanly(folder, capsys, f"a = {a}\nx = {expr}\ny = x + 1\n")


@FEW
@given(st.sampled_from(NUMBERS), expressions(st.sampled_from(NUMBERS + ["a"])))
def test_extremes_through_set(folder: Path, capsys: pytest.CaptureFixture[str], a: str, expr: str) -> None:
    ends_cleanly(folder, capsys, f"a = 1\nx = {expr}\n", "--set", f"a={expr}")


@FEW
@given(expressions(st.sampled_from(NUMBERS)))
def test_extremes_through_where(folder: Path, capsys: pytest.CaptureFixture[str], expr: str) -> None:
    ends_cleanly(folder, capsys, "x: count\ny = 2 * x\n", "--for", "x", "--where", f"y={expr}",
                 command="solve")


# --- long names and literals ----------------------------------------------------------------

LENGTHS = st.sampled_from([1, 50, MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1, 300, 5000])


@FEW
@given(LENGTHS, st.sampled_from(["{n} = 1", "import {n}", "x = {n}", "x = 2 {n}", "x = {{ {n} = 1 }}.{n}",
                                 "x: {n}", "from precisions import {n}", "import " + ".".join(["{n}"] * 25)]))
def test_long_names(folder: Path, capsys: pytest.CaptureFixture[str], length: int, form: str) -> None:
    ends_cleanly(folder, capsys, form.format(n="n" * length) + "\n")


@FEW
@given(LENGTHS, st.sampled_from(["--set {n}=1", "--set x={n}", "--set x={n}.y", "--set x.{n}=2"]))
def test_long_names_on_the_command_line(folder: Path, capsys: pytest.CaptureFixture[str], length: int,
                                        form: str) -> None:
    flag, value = form.format(n="n" * length).split(" ", 1)
    ends_cleanly(folder, capsys, "x: count\n", flag, value)


@FEW
@given(st.sampled_from([1, 300, MAX_NUMBER_LENGTH, MAX_NUMBER_LENGTH + 1, 4301, 5000]),
       st.sampled_from(["x = {d}", "x = {d} GB", "x = 0.{d}", "x = 1 GB^{d}", "x: GB^{d}"]))
def test_long_literals(folder: Path, capsys: pytest.CaptureFixture[str], digits: int, form: str) -> None:
    ends_cleanly(folder, capsys, form.format(d="7" * digits) + "\n")


# --- deep nesting ------------------------------------------------------------------------------

@settings(FEW, max_examples=12)
@given(st.sampled_from([MAX_TREE_DEPTH - 10, MAX_TREE_DEPTH - 3, MAX_TREE_DEPTH - 2, MAX_TREE_DEPTH + 5]),
       st.sampled_from(["+", "*", "^", "-", "and", "<"]))
def test_operator_chains(folder: Path, capsys: pytest.CaptureFixture[str], terms: int, op: str) -> None:
    leaf = "1" if op not in ("and",) else "true"
    ends_cleanly(folder, capsys, f"x = {f' {op} '.join([leaf] * terms)}\n")


@settings(FEW, max_examples=4)
@given(st.sampled_from([100, MAX_CHAIN - 1, MAX_CHAIN + 1]),
       st.sampled_from(["x{i} = x{j} + 1", "x{i} = if x{j} > 0 then x{j} else 1", "x{i} = {{ v = x{j} }}.v"]))
def test_definition_chains(folder: Path, capsys: pytest.CaptureFixture[str], length: int, form: str) -> None:
    lines = [form.format(i=i, j=i + 1) for i in range(length)] + [f"x{length} = 1"]
    ends_cleanly(folder, capsys, "\n".join(lines) + "\n")


@settings(FEW, max_examples=8)
@given(st.sampled_from([10, 63, 64, 65]), st.sampled_from(["(", "{ a = ", "min(1, "]))
def test_nested_brackets(folder: Path, capsys: pytest.CaptureFixture[str], depth: int, opener: str) -> None:
    closer = {"(": ")", "{ a = ": " }", "min(1, ": ")"}[opener]
    ends_cleanly(folder, capsys, f"x = {opener * depth}1{closer * depth}\n")


# --- mutated specs with extreme pieces ------------------------------------------------------------

SEED = (ROOT / "specs" / "kv-budget.infer").read_text(encoding="utf-8")
EXTREME_PIECES = NUMBERS + ["sqrt(-1)", "log(0)", "exp(710)", "0 ^ -1", "^ 99999999", "GB^99999999",
                            "n" * 300, "7" * 4301, "(" * 70, "+ 1" * 400, "/ 0"]


@FEW
@given(st.lists(st.tuples(st.integers(0, len(SEED)), st.sampled_from(EXTREME_PIECES)), min_size=1, max_size=3))
def test_mutated_spec_with_extremes(folder: Path, capsys: pytest.CaptureFixture[str],
                                    edits: list[tuple[int, str]]) -> None:
    text = SEED
    for at, piece in sorted(edits, reverse=True):
        text = text[:at] + piece + text[at:]
    ends_cleanly(folder, capsys, text)
