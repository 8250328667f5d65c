"""`infer diff`: golden text and markdown for chat.infer H100 → H200, JSON, and `--rev` through git."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from solver.cli import main
from solver.diff import SpecDiff, diff_specs, render_diff

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden" / "diff"
REGEN = os.environ.get("INFER_REGEN") == "1"
OLD, NEW = "specs/chat.infer", "tests/golden/diff/chat-h200.infer"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def chat_diff() -> SpecDiff:
    here = os.getcwd()
    os.chdir(REPO)            # labels and paths as a user in the repository root sees them
    try:
        return diff_specs(Path(OLD), Path(NEW))
    finally:
        os.chdir(here)


def test_the_command_line_prints_the_text_form(chat_diff: SpecDiff, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run(["diff", OLD, NEW], capsys)
    assert code == 0, err
    assert out == render_diff(chat_diff, "text")


@pytest.mark.parametrize(("fmt", "ext"), [("text", "txt"), ("markdown", "md")])
def test_golden_h100_to_h200(fmt: str, ext: str, chat_diff: SpecDiff) -> None:
    out = render_diff(chat_diff, fmt)
    path = GOLDEN / f"chat_h100_h200.{ext}"
    if REGEN:
        path.write_text(out, encoding="utf-8")
        return
    assert out == path.read_text(encoding="utf-8"), f"regenerate with INFER_REGEN=1 and review {path.name}"


def test_json_orders_goal_first_and_carries_the_numbers(chat_diff: SpecDiff) -> None:
    data = json.loads(render_diff(chat_diff, "json"))
    assert data["inputs"][0] == {"name": "chat.gpu", "kind": "source", "old": "gpus.h100_sxm",
                                 "new": "gpus.h200_sxm", "delta": "", "percent": None, "note": ""}
    first = data["results"][0]
    assert (first["kind"], first["name"]) == ("goal", "max_batch")
    assert first["percent"] > 0                      # more memory and bandwidth: a larger batch
    names = [r["name"] for r in data["results"]]
    assert {"chat.itl", "chat.cost_per_million_tokens"} <= set(names)
    sizes = [abs(r["percent"]) for r in data["results"][1:] if r["percent"] is not None]
    assert sizes == sorted(sizes, reverse=True)


def test_the_same_spec_has_no_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.infer"
    spec.write_text("x: GB\nrequire x <= 8 GB\ngoal most = maximize x\n", encoding="utf-8")
    code, out, _ = run(["diff", str(spec), str(spec), "--format", "markdown"], capsys)
    assert code == 0 and out.endswith("No change.\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_rev_reads_the_spec_and_its_imports_through_git(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "plan.infer"
    (tmp_path / "hw.infer").write_text("memory = 80 GB\n", encoding="utf-8")
    spec.write_text("import hw\nbatch: count\nkv = 2 GB\nused = batch * kv\n"
                    "require used <= hw.memory\nrequire hw.memory >= 100 GB\ngoal most = maximize batch\n",
                    encoding="utf-8")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    (tmp_path / "hw.infer").write_text("memory = 141 GB\n", encoding="utf-8")     # an imported file changes
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["diff", "plan.infer", "--rev", "HEAD", "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert data["old"] == "plan.infer @ HEAD"
    assert {"name": "hw.memory", "old": "80 GB", "new": "141 GB"}.items() <= data["inputs"][0].items()
    flip = data["results"][0]
    assert (flip["name"], flip["note"]) == ("require hw.memory >= 100 GB", "started holding")
    goal = next(r for r in data["results"] if r["kind"] == "goal")
    assert (goal["name"], goal["old"], goal["new"]) == ("most", "no solution", "70")
    code, out, err = run(["diff", "plan.infer", "--rev", "no-such-rev"], capsys)
    assert code == 1 and "not a revision" in err
    (tmp_path / "new.infer").write_text("x = 1\n", encoding="utf-8")
    code, out, err = run(["diff", "new.infer", "--rev", "HEAD"], capsys)
    assert code == 1 and "did not exist at HEAD" in err


def test_rev_outside_a_git_checkout_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "plan.infer"
    spec.write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, _, err = run(["diff", str(spec), "--rev", "HEAD"], capsys)
    assert code == 1 and "not inside a git checkout" in err


def test_diff_needs_two_specs_or_a_rev(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["diff"])
    code, _, err = run(["diff", OLD], capsys)
    assert code == 2 and "--rev" in err


def test_the_h200_spec_is_chat_on_another_gpu() -> None:
    # The golden pair must differ in the GPU alone, or the diff shows more than the move it documents.
    chat = (REPO / OLD).read_text(encoding="utf-8")
    moved = chat.replace("on four H100 SXM GPUs", "on four H200 SXM GPUs").replace("gpus.h100_sxm", "gpus.h200_sxm")
    assert (REPO / NEW).read_text(encoding="utf-8") == moved, \
        "tests/golden/diff/chat-h200.infer must be specs/chat.infer with the GPU moved: rewrite it from chat.infer"
