"""`infer fmt`: AST-preserving, comment-preserving, idempotent, and the repo stays formatted."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from lang import syntax as ast
from lang.diagnostics import InferError, Span
from lang.format import COMMENT_COLUMN, check, format_source
from lang.parser import parse_module
from tests.test_parser_properties import expressions, mutated_spec

ROOT = Path(__file__).resolve().parent.parent
KEPT_FORMATTED = sorted(p for folder in ("stdlib", "specs", "tests/acceptance")
                        for p in (ROOT / folder).rglob("*.infer"))
GOLDEN = sorted((ROOT / "tests" / "golden" / "diagnostics").glob("*.infer"))


def shape(node: Any) -> Any:
    """An AST with spans dropped and a quantity's text without blanks (`80GB` is `80 GB`)."""
    if isinstance(node, Span):
        return None
    if isinstance(node, ast.Quantity):
        return ("Quantity", node.value, re.sub(r"\s", "", node.text), shape(node.unit))
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__, *(shape(getattr(node, f.name)) for f in dataclasses.fields(node)
                                       if f.name != "path"))
    if isinstance(node, tuple):
        return tuple(shape(n) for n in node)
    return node


def comments(text: str) -> list[str]:
    """The comments of a file, in order (strings hold no `#` in these files' comments' way)."""
    found = []
    for line in text.splitlines():
        code = re.sub(r'"[^"\n]*"', lambda m: "_" * len(m.group(0)), line)
        if "#" in code:
            found.append(line[code.index("#"):].rstrip())
    return found


def assert_formats_well(text: str, path: str) -> str:
    out = format_source(text, path)
    assert shape(parse_module(out, path)) == shape(parse_module(text, path))
    assert comments(out) == comments(text)
    assert format_source(out, path) == out, "not idempotent"
    return out


@pytest.mark.parametrize("path", GOLDEN + KEPT_FORMATTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repo_file_keeps_its_ast_and_comments(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        parse_module(text, str(path))
    except InferError:
        with pytest.raises(InferError):       # a file that does not parse is refused, not mangled
            format_source(text, str(path))
        return
    assert_formats_well(text, str(path))


@pytest.mark.parametrize("path", KEPT_FORMATTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_repo_stays_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert check(text, str(path.relative_to(ROOT))) == "", f"run `infer fmt {path.relative_to(ROOT)}`"


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(expressions())
def test_generated_expressions_format_to_the_same_ast(expr: str) -> None:
    text = f"x = {expr}  # note\nr = {{ a: GB/s = {expr}\n  b = 1 }}\n"
    try:
        parse_module(text, "gen.infer")
    except InferError:
        return
    assert_formats_well(text, "gen.infer")


def c(code: str, comment: str) -> str:
    """A line with a trailing comment in the canonical column."""
    return f"{code.ljust(COMMENT_COLUMN)}{comment}"


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(mutated_spec())
def test_mutated_specs_that_parse_format_to_the_same_ast(text: str) -> None:
    try:
        parse_module(text, "mutated.infer")
    except InferError:
        return
    assert_formats_well(text, "mutated.infer")


LAYOUT = [
    ("x:GB=80GB\n", "x: GB = 80 GB\n"),
    ("y = 90%  \n", "y = 90 %\n"),
    ("z : KiB / token = a*b^2\n", "z: KiB/token = a * b ^ 2\n"),
    ("f = max( a , -b )\n", "f = max(a, -b)\n"),
    ("c = - x - -y\n", "c = -x - -y\n"),
    ("r = base{a=1,b=2}\n", "r = base { a = 1, b = 2 }\n"),
    ("a = 1\n\n\n\nb = 2\n", "a = 1\n\nb = 2\n"),
    ("a = 1\nr = {\n      x = 1 # one\n  yy = 22     # two\n}\nb = 2\n",
     f"a = 1\n\nr = {{\n{c('  x = 1', '# one')}\n{c('  yy = 22', '# two')}\n}}\n\nb = 2\n"),
    ('s = if a>b then "x#y" else "z"  # c\n', c('s = if a > b then "x#y" else "z"', "# c\n")),
    (f"{'w' * 44} = 1  # a\nv = 2 # b\n", f"{'w' * 44} = 1  # a\n{'v = 2'.ljust(50)}# b\n"),
    (f"{'w' * 60} = 1    # long code keeps its comment close\n",
     f"{'w' * 60} = 1  # long code keeps its comment close\n"),
    ("t = 1   # first\n        # continues\n# own line\n",
     f"{c('t = 1', '# first')}\n{c('', '# continues')}\n# own line\n"),
    ("g: one of [ a , b ]\n", "g: one of [a, b]\n"),
    ("x = (1 +\n        2)\n", "x = (1 +\n  2)\n"),
    ("x = a \\\n* b\n", "x = a \\\n  * b\n"),
    ("infer   0.2   # version\nx = 1\n", f"{c('infer 0.2', '# version')}\nx = 1\n"),
]


@pytest.mark.parametrize(("before", "after"), LAYOUT)
def test_layout_rules(before: str, after: str) -> None:
    assert format_source(before) == after
    assert_formats_well(before, "<input>")


def test_a_file_that_does_not_parse_is_refused_with_its_diagnostic() -> None:
    with pytest.raises(InferError) as err:
        format_source("x = (1 +\n", "bad.infer")
    assert err.value.diagnostics[0].code == "E0100"


def test_the_command_line_checks_rewrites_and_reads_stdin(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from solver.cli import main

    spec = tmp_path / "s.infer"
    spec.write_text("x:GB=80GB\n", encoding="utf-8")
    assert main(["fmt", "--check", str(spec)]) == 1
    out, err = capsys.readouterr()
    assert "-x:GB=80GB\n+x: GB = 80 GB\n" in out and "1 file not formatted" in err
    assert spec.read_text(encoding="utf-8") == "x:GB=80GB\n"           # --check changes nothing
    assert main(["fmt", str(tmp_path)]) == 0                             # a folder: every .infer in it
    assert spec.read_text(encoding="utf-8") == "x: GB = 80 GB\n"
    assert main(["fmt", "--check", str(spec)]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("y=1+2\n"))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == "y = 1 + 2\n"
    spec.write_text("x = (1 +\n", encoding="utf-8")
    assert main(["fmt", str(spec)]) == 1
    assert "error[E0100]" in capsys.readouterr().err
    assert spec.read_text(encoding="utf-8") == "x = (1 +\n"             # a file that does not parse is kept
