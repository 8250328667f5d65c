"""Golden diagnostics: every bad spec in tests/golden/diagnostics gives exactly its expected output.

Each `NAME.infer` there is a small, realistic mistake; `NAME.expected` beside it holds the
output of `infer check NAME.infer` run from the repository root (stderr, then stdout, then a
last line `exit: N`). The CLI runs in-process through `solver.cli.main`.

To accept new output after a deliberate change to a message, regenerate and review the diff:

    INFER_REGEN=1 pytest tests/test_golden_diagnostics.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from solver.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "golden" / "diagnostics"
CASES = sorted(CORPUS.glob("*.infer"))
REGEN = os.environ.get("INFER_REGEN") == "1"


def run_check(case: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)
    capsys.readouterr()                      # drop anything printed before
    try:
        code = main(["check", case.relative_to(ROOT).as_posix()])
    except SystemExit as exc:                # argparse: never expected here, but keep the output
        code = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    return f"{captured.err}{captured.out}exit: {code}\n"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 45


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("#"), f"{case.name}: the first line must say what it tests"

    output = run_check(case, capsys, monkeypatch)
    assert "Traceback" not in output
    code = int(output.rstrip("\n").rsplit("exit: ", 1)[1])
    errors = re.findall(r"^error\[E\d{4}\]", output, flags=re.M)
    assert code in (0, 1)
    assert (code == 1) == bool(errors), "exit 1 exactly when there are errors"
    assert re.findall(r"^(?:error|warning)\[[EW]\d{4}\]", output, flags=re.M), "no diagnostic at all"
    for line in re.findall(r"^(?:error|warning)\[[EW]\d{4}\]: (.*)$", output, flags=re.M):
        assert line[:1] == line[:1].lower(), f"message not lowercase: {line}"
        assert not line.endswith("."), f"message ends in a period: {line}"

    expected_file = case.with_suffix(".expected")
    if REGEN:
        expected_file.write_text(output, encoding="utf-8")
        return
    assert expected_file.is_file(), f"missing {expected_file.name}: run with INFER_REGEN=1"
    assert output == expected_file.read_text(encoding="utf-8")


def test_no_stray_expected_files() -> None:
    """Every .expected file belongs to a corpus file (a renamed case leaves none behind)."""
    orphans = [e.name for e in CORPUS.glob("*.expected") if not e.with_suffix(".infer").is_file()]
    assert not orphans


def test_every_code_is_documented() -> None:
    """docs/errors.md has a section for every code that lang/ and solver/ can emit."""
    emitted = set()
    for folder in ("lang", "solver"):
        for source in (ROOT / folder).glob("*.py"):
            emitted |= set(re.findall(r"\b([EW]0\d{3})\b", source.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^### ([EW]0\d{3})", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8"),
                                flags=re.M))
    assert not emitted - documented, f"undocumented codes: {sorted(emitted - documented)}"
