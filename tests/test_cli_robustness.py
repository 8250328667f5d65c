"""Issue 8's solver and command-line reproducers: each ends in a diagnostic or a correct answer,
never a traceback, and a crash exits 3 (distinct from a finding, 1, and bad use, 2)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from solver.api import Spec
from solver.cli import main

REPO = Path(__file__).resolve().parent.parent

KV = str(REPO / "specs" / "kv-budget.infer")
CHAT = str(REPO / "specs" / "chat.infer")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return code, out, err


def _spec(tmp_path: Path, text: str, name: str = "s.infer") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- 1. overflow on the command line ------------------------------------------------------


def test_where_beyond_a_double_is_no_solution(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "solve", KV, "--for", "context", "--where", "kv_total=1e999 GB")
    assert code == 1 and "no positive `context`" in err


def test_sweep_value_beyond_a_double_is_a_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "sweep", KV, "--vary", "batch=[1, 1e999]", "--set", "context=5",
                        "--report", "kv_total")
    assert code == 1 and "error[E0706]" in err and "beyond the range" in err


def test_set_exp_exp_is_an_answer(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "solve", KV, "--for", "max_context", "--set", "batch=exp(exp(100))",
                        "--in", "s^-1")
    assert code in (1, 2) and "error" in err


# --- 2. paths that cannot be written ------------------------------------------------------


@pytest.mark.parametrize("target", ["no/such/dir.md", "."])
def test_export_to_a_bad_path_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, target: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "export", KV, "--for", "max_context", "-o", target)
    assert code == 2 and err.startswith("error: cannot use")


def test_sweep_csv_to_a_folder_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "sweep", KV, "--vary", "batch=[1,2]", "--set", "context=5",
                        "--report", "kv_total", "--csv", str(tmp_path))
    assert code == 2 and "is a folder" in err


# --- 3. validate --csv ----------------------------------------------------------------------


def _csv(tmp_path: Path, row: str) -> str:
    header = (REPO / "validation" / "measured.csv").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "m.csv"
    path.write_text(header + "\n" + row + "\n", encoding="utf-8")
    return str(path)


def test_validate_short_row_names_the_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "validate", "--csv", _csv(tmp_path, "X1,Llama-2-7B,A100"))
    assert code == 2 and "m.csv:2:" in err and "3 of 17 columns" in err


@pytest.mark.parametrize("count", ["inf", "nan", "1e400"])
def test_validate_infinite_gpu_count(capsys: pytest.CaptureFixture[str], tmp_path: Path, count: str) -> None:
    row = (f"GF1,Llama-2-7B,A100-SXM4-80GB,{count},bf16,bf16,1,1,5,200,gpt-fast,decode_tokens_per_s,"
           "104.9,token/s,H,src,note")
    code, _, err = _run(capsys, "validate", "--csv", _csv(tmp_path, row))
    assert code == 2 and "m.csv:2:" in err and "gpu_count" in err


def test_replicas_are_not_pipeline_stages() -> None:
    from solver import validation as V

    row = V.Row(id="R", model="Llama-2-7B", gpu="A100-SXM4-80GB", gpu_count=8, weights="bf16",
                kv_cache="bf16", tp=2, batch=1, prompt=5, output=200, framework="gpt-fast",
                metric="decode_tokens_per_s", value=100.0, unit="token/s", confidence="H", source="s",
                note="")
    names = {s.name: s.text for s in V.row_inputs(row)}
    assert names["tp"] == "2" and "pp" not in names
    staged = V.Row(**{**row.__dict__, "pp": 2})
    assert {s.name: s.text for s in V.row_inputs(staged)}["pp"] == "2"


# --- 4. a terminal that cannot show `·` -------------------------------------------------------


def test_ascii_terminal_degrades(tmp_path: Path) -> None:
    exe = shutil.which("infer", path=str(Path(sys.executable).parent))
    argv = [exe] if exe else [sys.executable, "-m", "solver.cli"]
    env = {"PYTHONIOENCODING": "ascii", "INFER_CACHE": "0", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*argv, "solve", KV, "--for", "max_context"], capture_output=True, env=env,
                          cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("ascii")
    assert "batch * context * kv_per_token" in out and "11444 token" in out


# --- 6. silently wrong answers --------------------------------------------------------------


@pytest.mark.parametrize(("lines", "answer"), [
    (["c: token", "require c >= 7000 token", "require c <= 7010 token", "goal g = minimize c"], 7000),
    (["c: token", "require c >= 7000 token", "require c <= 7010 token", "goal g = maximize c"], 7010),
    (["c: GB", "require c >= 10 GB", "require c <= 10.2 GB", "goal g = minimize c"], 10),
    (["c: GB", "require 10 GB <= c", "require c <= 10.2 GB", "goal g = maximize c"], 10.2),
    (["c: token", "require abs(c - 7005 token) <= 5 token", "goal g = minimize c"], 7000),
    (["c: count", "require (c - 7000) * (7010 - c) >= 0", "goal g = maximize c"], 7010),
    (["c: GB", "require abs(c - 10.1 GB) <= 0.1 GB", "goal g = maximize c"], 10.2),
    (["c: token", "require c == (1e12 + 1) * 1 token", "goal g = maximize c"], 10**12 + 1),
    (["c: token", "require c * 1e300 <= 1e310 token", "goal g = maximize c"], 10**10),
    (["c: count", "require exp(c) <= exp(800)", "goal g = maximize c"], 800),
])
def test_answers_the_grid_would_miss(tmp_path: Path, lines: list[str], answer: float) -> None:
    sol = Spec.load(_spec(tmp_path, "\n".join(lines) + "\n")).solve("g")
    assert isinstance(sol.value, (int, float))
    assert sol.value == pytest.approx(answer, rel=1e-9), sol.text
    if isinstance(answer, int) and answer > 2**40:
        assert sol.value == answer


@pytest.mark.parametrize(("held", "answer"), [("y=exp(800)", 800), ("z=1e310", 10**10), ("q=0", 7005),
                                            ("y=exp(10)", 10)])
def test_inversions_past_a_double_and_double_roots(tmp_path: Path, held: str, answer: float) -> None:
    spec = Spec.load(_spec(tmp_path, "c: count\ny = exp(c)\nz = c * 1e300\nq = (c - 7005) ^ 2\n"))
    name, _, value = held.partition("=")
    sol = spec.solve("c", {name: value})
    assert isinstance(sol.value, (int, float)) and sol.value == pytest.approx(answer, rel=1e-9), sol.text


def test_huge_tp_blames_the_head_split(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "solve", CHAT, "--for", "max_batch", "--set", "chat.tp=1e999")
    assert code == 1 and "tp >= 1" not in err.split("fails")[0]
    assert "model.heads" in err


# --- 7. JSON is JSON, and says why ----------------------------------------------------------


def test_eval_json_holds_only_json_numbers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _spec(tmp_path, "x = 1e999 * 1e999 * 1 GB\ny = 1e-999 * 1e-999 * 1 GB\nz = 2 GB\n"
                           "a = 0\nb = 1 / a\nc = b + 1\nflag = true\noff = false\n")
    code, out, _ = _run(capsys, "eval", path, "--json")
    assert code == 0
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    q = data["quantities"]
    assert q["x"]["value"] is None and q["x"]["text"] == "1.00000e+1998 GB"
    assert q["y"]["value"] is None and q["y"]["text"] == "1.00000e-1998 GB"
    assert q["z"]["value"] == 2
    assert q["flag"]["value"] is True and q["off"]["value"] is False
    assert "`b`" in data["unknown"]["c"] and "division by zero" in data["unknown"]["c"]
    code, out, _ = _run(capsys, "eval", path)
    assert "flag  true" in out and "needs )" not in out


def test_requirements_name_their_record_and_strict_fails(capsys: pytest.CaptureFixture[str],
                                                         tmp_path: Path) -> None:
    path = _spec(tmp_path, "r = {\n  a = 3 GB\n  require a <= 2 GB\n}\nrequire r.a >= 1 GB\n")
    code, out, _ = _run(capsys, "eval", path, "--json")
    assert code == 0
    reqs = json.loads(out)["requirements"]
    assert [(q["record"], q["holds"]) for q in reqs] == [("r", False), ("", True)]
    code, _, err = _run(capsys, "eval", path, "--strict")
    assert code == 1 and "--strict: 1 requirement fail" in err
    ok = _spec(tmp_path, "a = 1 GB\nrequire a <= 2 GB\n", "ok.infer")
    assert _run(capsys, "eval", ok, "--strict")[0] == 0


def test_internal_error_exits_3(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import solver.cli as cli

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(cli.COMMANDS, "check", broken)
    code, _, err = _run(capsys, "check", KV)
    assert code == 3 and err.startswith("internal error") and "INFER_TRACEBACK" in err
    monkeypatch.setenv("INFER_TRACEBACK", "1")
    code = main(["check", KV])
    assert code == 3 and "RuntimeError: boom" in capsys.readouterr().err


# --- 8. a deployment that does not fit --------------------------------------------------------


def test_no_room_is_zero_capacity_and_a_shortfall(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _spec(tmp_path, "import gpus\nimport models\nimport serving\nfrom precisions import bf16\n"
                           "d = serving.deployment {\n  model = models.llama_3_1_70b\n  gpu = gpus.h100_sxm\n"
                           "  weights = bf16\n  prompt = 1024 token\n  output = 256 token\n  batch = 8\n}\n")
    code, out, _ = _run(capsys, "eval", path, "--json")
    assert code == 0
    q = json.loads(out)["quantities"]
    assert q["d.kv_budget"]["value"] == 0 and q["d.kv_capacity_tokens"]["value"] == 0
    assert q["d.max_concurrency"]["value"] == 0
    assert q["d.kv_shortfall"]["value"] == pytest.approx(61.85, abs=0.01)
    # the label reads the step's own terms
    split = {k: q[f"d.decode_{k}_time"]["value"] for k in ("compute", "memory", "comm")}
    expected = {"compute": "compute", "memory": "memory", "comm": "communication"}[max(split, key=split.get)]
    assert q["d.bottleneck"]["value"] == expected


def test_beyond_the_range_is_not_called_unbounded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "solve", KV, "--for", "max_context", "--set", "budget=1e999 GB")
    assert code == 1 and "no answer within the search range" in err
    path = _spec(tmp_path, "c: token\nrequire c >= 5 token\ngoal g = maximize c\n")
    code, _, err = _run(capsys, "solve", path, "--for", "g")
    assert code == 1 and "is unbounded: no requirement limits `c`" in err
