"""Acceptance tests of the solver on specs/kv-budget.infer (the from-scratch acceptance spec).

They go through `solver.cli.main`, as a script would, and through the Python API.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from solver.api import Spec
from solver.cli import main

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "specs" / "kv-budget.infer"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def spec() -> Spec:
    return Spec.load(SPEC)


# --- the goal -----------------------------------------------------------------------------


def test_max_context_is_11444_tokens_bound_by_the_budget(spec: Spec) -> None:
    sol = spec.solve("max_context")
    assert sol.text == "11444 token"
    assert sol.value == 11444
    assert sol.unit == "token"
    assert sol.binding == "kv_total <= budget"
    assert sol.kind == "goal"


def test_max_context_text_shows_the_closed_form_and_the_next_whole_number(capsys) -> None:
    code, out, err = run(capsys, "solve", str(SPEC), "--for", "max_context")
    assert code == 0, err
    assert "max_context = 11444 token" in out
    assert "[binding: kv_total <= budget]" in out
    assert "context <= budget / (batch · kv_per_token)" in out
    assert "11445" in out          # the next whole number breaks the requirement
    assert "Traceback" not in err


def test_max_context_by_the_unknown_name_answers_the_goal(spec: Spec) -> None:
    assert spec.solve("context").text == "11444 token"


# --- forward ------------------------------------------------------------------------------


def test_kv_per_token_is_131072_bytes_per_token(capsys) -> None:
    code, out, _ = run(capsys, "solve", str(SPEC), "--for", "kv_per_token", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["value"] == 128 and data["unit"] == "KiB/token"
    step = next(s for s in data["steps"] if s["name"] == "kv_per_token")
    assert step["result"]["si_value"] == 131072
    assert step["result"]["si_unit"] == "B/token"


def test_kv_total_forward_with_context_set(capsys) -> None:
    code, out, _ = run(capsys, "solve", str(SPEC), "--for", "kv_total", "--set", "context=8192", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["text"] == "17.179869184 GB"
    assert data["value"] == pytest.approx(17.179869184, rel=1e-15)
    assert data["unit"] == "GB"
    assert data["steps"][-1]["result"]["si_value"] == 17179869184


def test_set_with_a_unit_equals_the_bare_number(spec: Spec) -> None:
    bare = Spec.load(SPEC, ["context=8192"]).solve("kv_total")
    unit = Spec.load(SPEC, ["context=8192 token"]).solve("kv_total")
    assert bare.text == unit.text == "17.179869184 GB"


def test_set_bare_number_takes_the_declared_unit() -> None:
    # budget is declared by its literal (24 GB): a bare 48 means 48 GB
    sol = Spec.load(SPEC, ["budget=48"]).solve("max_context")
    assert sol.value == 22888      # twice the budget, twice the context (floor of 22888.18)


def test_in_unit(spec: Spec) -> None:
    sol = Spec.load(SPEC, ["context=8192"]).solve("kv_total", unit="GiB")
    assert sol.unit == "GiB" and sol.value == pytest.approx(16)


# --- inversion ----------------------------------------------------------------------------


def test_where_inverts_in_closed_form(capsys) -> None:
    code, out, err = run(capsys, "solve", str(SPEC), "--for", "context", "--where", "kv_total=24GB")
    assert code == 0, err
    assert "context = 11444.09 token" in out
    assert "context = kv_total / (batch · kv_per_token)" in out
    assert "method: closed form" in out


def test_where_json_has_a_closed_form_step(capsys) -> None:
    code, out, _ = run(capsys, "solve", str(SPEC), "--for", "context", "--where", "kv_total=24GB",
                       "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "inverse"
    assert data["text"] == "11444.09 token"
    assert data["value"] == pytest.approx(24e9 / (16 * 131072), rel=1e-12)
    assert any(s["kind"] == "closed-form" for s in data["steps"])


def test_where_bare_number_takes_the_held_quantity_unit(spec: Spec) -> None:
    assert spec.solve("context", {"kv_total": "24"}).text == "11444.09 token"


# --- JSON contracts -----------------------------------------------------------------------


def test_solve_json_contract(capsys) -> None:
    code, out, _ = run(capsys, "solve", str(SPEC), "--for", "max_context", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("target", "value", "unit", "binding", "steps"):
        assert key in data
    assert data["target"] == "max_context"
    assert data["value"] == 11444
    assert data["unit"] == "token"
    assert data["binding"] == "kv_total <= budget"
    assert isinstance(data["steps"], list) and data["steps"]
    assert all({"name", "formula"} <= set(s) for s in data["steps"])


def test_forward_json_binding_is_null(capsys) -> None:
    code, out, _ = run(capsys, "solve", str(SPEC), "--for", "kv_per_token", "--format", "json")
    assert code == 0
    assert json.loads(out)["binding"] is None


def test_eval_json_contract(capsys) -> None:
    code, out, _ = run(capsys, "eval", str(SPEC), "--json", "--set", "context=8192")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"quantities", "requirements"}
    q = data["quantities"]
    assert q["kv_total"]["unit"] == "GB" and q["kv_total"]["value"] == pytest.approx(17.179869184)
    assert q["kv_per_token"] == {"value": 128, "unit": "KiB/token"} or \
        (q["kv_per_token"]["value"] == 128 and q["kv_per_token"]["unit"] == "KiB/token")
    assert data["requirements"] == [{"text": "kv_total <= budget", "record": "", "holds": True,
                                     "margin": "6.82013 GB to spare"}]


def test_eval_json_with_the_unknown_open(capsys) -> None:
    code, out, _ = run(capsys, "eval", str(SPEC), "--json")
    assert code == 0
    data = json.loads(out)
    assert "kv_total" not in data["quantities"]
    assert data["requirements"][0]["holds"] is None


def test_eval_requirement_fails_past_the_budget(capsys) -> None:
    code, out, _ = run(capsys, "eval", str(SPEC), "--json", "--set", "context=11445")
    assert code == 0
    assert json.loads(out)["requirements"][0]["holds"] is False


# --- exit codes ---------------------------------------------------------------------------


def test_exit_0_on_success(capsys) -> None:
    assert run(capsys, "check", str(SPEC))[0] == 0


def test_exit_1_when_there_is_no_solution(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "max_context", "--set", "budget=1 B")
    assert code == 1
    assert "no solution" in err
    assert "kv_total <= budget" in err
    assert "Traceback" not in err


def test_exit_1_when_a_forward_value_needs_an_unknown(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "kv_total")
    assert code == 1
    assert "`context`" in err


@pytest.mark.parametrize("argv", [
    ["solve", str(SPEC)],                                  # --for missing
    ["solve", str(SPEC), "--for", "x", "--format", "pdf"],  # bad choice
    ["frobnicate", str(SPEC)],                             # no such command
    ["solve", str(SPEC), "--for", "context", "--where", "kv_total"],   # not NAME=VALUE
])
def test_exit_2_on_bad_usage(capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


# --- diagnostics for command-line names and values ------------------------------------------


def _positioned(err: str, code: str, where: str) -> None:
    assert f"error[{code}]" in err, err
    assert f"--> {where}" in err, err
    assert "^" in err, err
    assert "Traceback" not in err


def test_set_unknown_name_did_you_mean(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "kv_total", "--set", "contxt=8192")
    assert code == 1
    _positioned(err, "E0207", "<--set>:1:1")
    assert "did you mean `context`?" in err


def test_set_wrong_unit_points_at_the_value_and_the_declaration(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "kv_total", "--set", "context=8192 GB")
    assert code == 1
    _positioned(err, "E0302", "<--set>:1:9")
    assert "kv-budget.infer:14" in err        # where `context: token` is declared


def test_for_unknown_name_did_you_mean(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "kv_totl", "--set", "context=8192")
    assert code == 1
    _positioned(err, "E0702", "<--for>:1:1")
    assert "did you mean `kv_total`?" in err


def test_where_unknown_name_did_you_mean(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "context", "--where", "kv_totl=24GB")
    assert code == 1
    _positioned(err, "E0702", "<--where>:1:1")
    assert "did you mean `kv_total`?" in err


def test_where_wrong_unit(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "context", "--where", "kv_total=24 token")
    assert code == 1
    assert "error[E0301]" in err and "--> <--where>" in err
    assert "GB" in err and "token" in err
    assert "Traceback" not in err


def test_in_wrong_unit(capsys) -> None:
    code, _, err = run(capsys, "solve", str(SPEC), "--for", "kv_per_token", "--in", "ms")
    assert code == 1
    assert "error[E0301]" in err and "--> <--in>" in err
    assert "Traceback" not in err


# --- sweep --------------------------------------------------------------------------------


def test_sweep_pure_function_matches_forward(spec: Spec) -> None:
    from solver.sweep import sweep

    batch = np.array([1.0, 16.0, 64.0])
    context = np.array([1024.0, 8192.0, 11444.0, 11445.0])
    out = sweep(spec, {"batch": batch, "context": context}, ["kv_total", "kv_total <= budget"])
    assert out["kv_total"].shape == (3, 4)
    assert out["kv_total"][1, 1] == 17179869184.0
    assert out["kv_total"][0, 0] == 1024 * 131072
    holds = out["kv_total <= budget"]
    assert holds.dtype == bool
    assert bool(holds[1, 2]) and not bool(holds[1, 3])     # 11444 fits at batch 16; 11445 does not
    np.testing.assert_array_equal(out["batch"][:, 0], batch)


def test_sweep_command_table_and_csv(capsys, tmp_path: Path) -> None:
    csv_file = tmp_path / "out.csv"
    code, out, err = run(capsys, "sweep", str(SPEC), "--vary", "context=1024..32768:1024",
                         "--report", "kv_total,kv_per_token", "--csv", str(csv_file))
    assert code == 0, err
    lines = out.splitlines()
    assert "context [token]" in lines[0] and "kv_total [GB]" in lines[0]
    assert "kv_per_token [KiB/token]" in lines[0]
    assert len(lines) == 2 + 32
    row = lines[2 + 7].split()                 # context = 8192
    assert row[:3] == ["8192", "17.1799", "128"]
    rows = csv_file.read_text().splitlines()
    assert rows[0] == "context [token],kv_total [GB],kv_per_token [KiB/token]"
    assert rows[8] == "8192,17.179869184,128"


def test_sweep_default_ranges(spec: Spec) -> None:
    from solver.sweep_vary import DEFAULT_POINTS, parse_vary

    whole = parse_vary(spec, "context=1..64")
    assert whole.spacing == "whole" and len(whole.values) == 64
    log = parse_vary(spec, "budget=1..100")          # GB: continuous → log-spaced
    assert log.spacing == "log" and len(log.values) == DEFAULT_POINTS
    assert log.values[0] == 1e9 and math.isclose(log.values[-1], 1e11)
    geo = parse_vary(spec, "batch=1..64:*2")
    assert geo.values.tolist() == [1, 2, 4, 8, 16, 32, 64]
    listed = parse_vary(spec, "budget=[16, 24GB, 80 GB]")
    assert listed.values.tolist() == [16e9, 24e9, 80e9]


def test_sweep_errors(capsys) -> None:
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "batch=1..8", "--report", "kv_total")
    assert code == 1
    _positioned(err, "E0703", "<--report>:1:1")
    assert "`context`" in err
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "context=1..8", "--report", "kv_totl")
    assert code == 1 and "did you mean `kv_total`?" in err
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "context=1GB..2GB", "--report", "kv_total")
    assert code == 1
    _positioned(err, "E0301", "<--vary>:1:9")
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "context=1,,", "--report", "kv_total")
    assert code in (1, 2) and "Traceback" not in err
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "context", "--report", "kv_total")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "kv_total=1..2", "--report", "kv_total")
    assert code == 1 and "cannot be varied" in err


def test_sweep_plot(capsys, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "p.png"
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "batch=1..64:*2", "--set", "context=8192",
                       "--report", "kv_total,kv_per_token", "--plot", str(png))
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_plot_without_matplotlib(capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def fake(name, *args, **kw):  # type: ignore[no-untyped-def]
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", fake)
    code, _, err = run(capsys, "sweep", str(SPEC), "--vary", "context=1..8", "--report", "kv_total",
                       "--plot", str(tmp_path / "p.svg"))
    assert code == 2
    assert "pip install 'infer-planner[plot]'" in err


# --- graph --------------------------------------------------------------------------------


def test_graph_dot_and_mermaid(capsys) -> None:
    code, out, _ = run(capsys, "graph", str(SPEC))
    assert code == 0
    assert out.startswith('digraph "kv-budget" {')
    assert '"kv_total" [label="kv_total\\nGB"' in out
    assert '"context" -> "kv_total";' in out
    assert "shape=octagon" in out                  # the requirement
    code, out, _ = run(capsys, "graph", str(SPEC), "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart LR")
    assert 'n_context{{"context<br/>token"}}' in out
    assert "n_kv_total --> n_require_1" in out


# --- choices and catalog records in sweeps and graphs -------------------------------------

CHOICE_SPEC = """\
import gpus
import models

svc = {
  model = models.llama_3_1_8b
  gpu: one of [gpus.l4, gpus.h100_sxm]
  batch: count
  prompt = 1024 token
  kv_per_token: KiB/token = 2 * model.layers * model.kv_heads * model.head_dim * 2 B / token
  kv_total: GB = batch * prompt * kv_per_token
  require kv_total <= gpu.memory
}
goal most = maximize svc.batch
"""


def test_sweep_over_a_choice_and_the_graph_collapses_catalogs(capsys, tmp_path: Path) -> None:
    path = tmp_path / "choice.infer"
    path.write_text(CHOICE_SPEC, encoding="utf-8")
    code, out, err = run(capsys, "sweep", str(path), "--vary", "gpu=[gpus.l4, h100_sxm]",
                         "--vary", "batch=[1, 256]", "--report", "kv_total,kv_total <= gpu.memory")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows == [["gpus.l4", "1", "0.134218", "true"], ["gpus.l4", "256", "34.3597", "false"],
                    ["gpus.h100_sxm", "1", "0.134218", "true"], ["gpus.h100_sxm", "256", "34.3597", "true"]]
    code, out, _ = run(capsys, "graph", str(path))
    assert code == 0
    assert '"models.llama_3_1_8b" -> "svc.kv_per_token";' in out
    assert '"gpus.l4" -> "svc.gpu";' in out and '"svc.gpu" -> "require#1";' in out
    assert "models.llama_3_1_8b.layers" not in out          # catalog fields fold into the record
    assert 'subgraph "cluster_svc"' in out
