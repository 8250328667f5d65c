"""The language version line: current and earlier versions read, the line is optional."""

from __future__ import annotations

import pytest

from lang.diagnostics import InferError
from lang.parser import parse_module
from lang.version import KNOWN_VERSIONS, LANGUAGE_VERSION, split_version


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_every_known_version_reads_to_the_same_ast_as_no_line(version: str) -> None:
    body = "x: GB = 80 GB\ny = x * 2\n"
    with_line = parse_module(f"# comment first\ninfer {version}  # note\n{body}", "a.infer")
    without = parse_module(f"# comment first\n\n{body}", "a.infer")
    assert with_line == without                  # blanked in place: every span is unchanged


def test_the_current_version_is_the_newest_known() -> None:
    assert LANGUAGE_VERSION == KNOWN_VERSIONS[-1]


def test_a_binding_named_infer_is_not_a_version_line() -> None:
    assert split_version("infer = 3\n", "a.infer") == ("infer = 3\n", None)
    assert parse_module("infer: GB = 3 GB\n", "a.infer").members[0].name == "infer"


@pytest.mark.parametrize(("line", "message"), [
    ("infer 9.0", "newer than"), ("infer 0.0", "unknown language version"), ("infer 1", "not a language version")])
def test_a_bad_version_is_E0110_at_the_number(line: str, message: str) -> None:
    with pytest.raises(InferError) as err:
        parse_module(f"{line}\nx = 1\n", "a.infer")
    (d,) = err.value.diagnostics
    assert d.code == "E0110" and message in d.message
    assert (d.span.line, d.span.column) == (1, 7)


def test_only_the_first_statement_can_be_the_version_line() -> None:
    with pytest.raises(InferError) as err:
        parse_module("x = 1\ninfer 0.2\n", "a.infer")
    assert err.value.diagnostics[0].code == "E0100"
