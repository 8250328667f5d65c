"""Golden derivations of specs/kv-budget.infer in every format.

Each case runs the command line (cwd = the repository root, a relative spec
path, so the paths printed are stable) and compares standard output with
`tests/golden/derivations/<case>.<ext>`. After an intended change of output,
regenerate with

    INFER_REGEN=1 pytest tests/test_golden_derivations.py

and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from solver.cli import main

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "derivations"
SPEC = "specs/kv-budget.infer"
REGEN = os.environ.get("INFER_REGEN") == "1"

FORMATS = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json"}

# case name → the command's arguments (the format is added per case)
SOLVES = {
    "max_context": ["solve", SPEC, "--for", "max_context"],
    "kv_total_forward": ["solve", SPEC, "--for", "kv_total", "--set", "context=8192"],
    "context_inverse": ["solve", SPEC, "--for", "context", "--where", "kv_total=24GB"],
}
EXPORTS = {
    "export_max_context": ["export", SPEC, "--for", "max_context"],
}

CASES = [(f"{name}.{ext}", [*argv, "--format", fmt]) for name, argv in SOLVES.items()
         for fmt, ext in FORMATS.items()]
CASES += [(f"{name}.{FORMATS[fmt]}", [*argv, "--format", fmt]) for name, argv in EXPORTS.items()
          for fmt in ("latex", "markdown")]


@pytest.mark.parametrize(("golden", "argv"), CASES, ids=[c[0] for c in CASES])
def test_golden_derivation(golden: str, argv: list[str], capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    path = GOLDEN / golden
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path.relative_to(REPO)}: run with INFER_REGEN=1"
    expected = path.read_text(encoding="utf-8")
    assert out == expected, (
        f"`infer {' '.join(argv)}` differs from {path.relative_to(REPO)}; "
        "if the change is intended, regenerate with INFER_REGEN=1 and review the diff")


def test_every_golden_file_has_a_case() -> None:
    names = {c[0] for c in CASES}
    stray = sorted(p.name for p in GOLDEN.glob("*") if p.is_file() and p.name not in names)
    assert not stray, f"golden files without a case: {stray}"
