"""Speculative decoding: the physics in serving.deployment, and the SD rows of features.csv predicted
within the targets (batch-1 speedup MAPE <= 15 %, the sign of the change right at every batch > 1)."""

from __future__ import annotations

import argparse
import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import validate_speculation as S
from solver.api import Spec

HEAD = "import gpus\nimport models\nimport serving\nimport speculative\nfrom precisions import fp8\n\n"
BASE = ("serving.deployment {{ model = models.llama_3_1_8b, gpu = gpus.h100_sxm, prompt = 1024 token, "
        "output = 256 token, batch = {batch}{extra} }}")

QUANTITIES = ("itl", "decode_step", "token_time", "prefill_interference", "weight_memory", "memory_per_gpu",
              "kv_capacity_tokens", "draft_weight_memory", "draft_kv_per_token", "accepted_length",
              "speculation_speedup", "verify_weight_bytes", "decode_weight_bytes", "verify_compute",
              "decode_flops", "throughput", "draft_step", "verify_step")


def _values(tmp_path: Path, records: dict[str, str]) -> dict[str, Fraction]:
    path = tmp_path / "s.infer"
    path.write_text(HEAD + "".join(f"{n} = {text}\n" for n, text in records.items()), encoding="utf-8")
    spec = Spec.load(path)
    names = [f"{n}.{q}" for n in records for q in QUANTITIES]
    values = spec.evaluator.values(only=names)
    return {k: Fraction(str(v)) if v.is_Rational else Fraction(float(v)) for k, v in values.items() if k in names}


def test_no_speculation_is_plain_decoding(tmp_path: Path) -> None:
    v = _values(tmp_path, {"plain": BASE.format(batch=8, extra=""),
                           "off": BASE.format(batch=8, extra=", speculation = speculative.eagle3, draft_tokens = 0")})
    for name in ("plain", "off"):
        assert v[f"{name}.token_time"] == v[f"{name}.decode_step"]          # exactly, not approximately
        assert v[f"{name}.itl"] == v[f"{name}.decode_step"] + v[f"{name}.prefill_interference"]
        assert v[f"{name}.draft_weight_memory"] == 0 and v[f"{name}.draft_kv_per_token"] == 0
        assert v[f"{name}.speculation_speedup"] == 1
    assert v["plain.memory_per_gpu"] == v["off.memory_per_gpu"]


def test_leviathan_expected_tokens_and_the_step(tmp_path: Path) -> None:
    v = _values(tmp_path, {"on": BASE.format(batch=1, extra=", speculation = speculative.eagle3 { acceptance = 70 % }, "
                                            "draft_tokens = 3")})
    alpha = Fraction(7, 10)
    assert v["on.accepted_length"] == (1 - alpha ** 4) / (1 - alpha)
    # the verify pass streams the (dense) weights once and does 4x the GEMM FLOPs
    assert v["on.verify_weight_bytes"] == v["on.decode_weight_bytes"]
    assert v["on.verify_compute"] > 4 * v["on.decode_flops"] / Fraction(989 * 10 ** 12)   # at least the GEMMs
    step = v["on.draft_step"] + v["on.verify_step"]
    assert v["on.token_time"] == step / v["on.accepted_length"]
    assert v["on.speculation_speedup"] > 1


def test_draft_memory_is_counted(tmp_path: Path) -> None:
    v = _values(tmp_path, {
        "plain": BASE.format(batch=8, extra=""),
        "eagle": BASE.format(batch=8, extra=", speculation = speculative.eagle3"),
        "draft": BASE.format(batch=8, extra=", speculation = speculative.draft_model "
                                            "{ drafter = speculative.qwama_0_5b }"),
    })
    for name in ("eagle", "draft"):
        extra = v[f"{name}.weight_memory"] - v["plain.weight_memory"]
        assert extra == v[f"{name}.draft_weight_memory"] > 0
        assert v[f"{name}.draft_kv_per_token"] > 0
        assert v[f"{name}.kv_capacity_tokens"] < v["plain.kv_capacity_tokens"]
        assert v[f"{name}.memory_per_gpu"] > v["plain.memory_per_gpu"]
    # EAGLE-3 for Llama 3.1 8B: one wide layer + fc + a 32k LM head, ~0.4B params, 16-bit
    assert 0.6 < float(v["eagle.draft_weight_memory"]) / 2 ** 30 < 1.0


def test_speedup_falls_with_the_batch_and_reverses(tmp_path: Path) -> None:
    batches = (1, 16, 64, 256, 1024)
    extra = ", prompt = 128 token, output = 128 token, speculation = speculative.eagle3 { acceptance = 70 % }"
    short = BASE.replace("prompt = 1024 token, output = 256 token, ", "")
    v = _values(tmp_path, {f"b{b}": short.format(batch=b, extra=extra) for b in batches})
    speedups = [v[f"b{b}.speculation_speedup"] for b in batches]
    assert speedups == sorted(speedups, reverse=True)
    assert speedups[0] > 1.8 and speedups[-1] < 1


# ------------------------------------------------------------------------------ validation
@pytest.fixture(scope="module")
def result() -> S.SpeculationValidation:
    return S.run()


def test_batch_one_speedup_mape_within_target(result: S.SpeculationValidation) -> None:
    rows = result.of_kind("batch-1 speedup")
    assert len(rows) >= 10
    assert result.mape <= S.MAPE_TARGET == 0.15, S.text_report(result)


def test_sign_right_on_every_row_with_batch_above_one(result: S.SpeculationValidation) -> None:
    right, total = result.signs
    assert total >= 4
    # both directions are represented: speculation helps at low load and hurts at high load
    measured = {r.mapped.speedup > 1 for r in result.of_kind("sign (batch > 1)") if r.mapped}
    assert measured == {True, False}
    assert right == total, S.text_report(result)


def test_every_row_is_predicted_or_listed_with_a_reason(result: S.SpeculationValidation) -> None:
    assert not result.failures
    for r in result.results:
        assert r.predicted is not None or (r.reason and r.reason.strip()), r.row.id
    assert len(result.results) == sum(1 for _ in S.load_sd_rows(S.default_csv()))


def test_mapping_does_not_depend_on_the_row_id() -> None:
    for row in S.load_sd_rows(S.default_csv()):
        assert S.map_row(dataclasses.replace(row, id="X" + row.id)) == S.map_row(row)


def test_stated_accepted_length_is_used_not_fitted() -> None:
    row = next(r for r in S.load_sd_rows(S.default_csv()) if "mean accepted tokens per step=4.34" in r.setting)
    mapped = S.map_row(row)
    assert isinstance(mapped, S.Mapped)
    assert "accepted_length = 4.34" in mapped.members


def test_docs_hold_the_current_table(result: S.SpeculationValidation) -> None:
    doc = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    assert S.markdown(result) in doc, "run `infer validate --markdown -o docs/validation.md`"


def test_cli(result: S.SpeculationValidation, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> None:
    from solver import cli

    monkeypatch.setattr(S, "run", lambda csv=None: result)      # the module's run, already computed
    out = tmp_path / "s.md"
    assert cli._validate_speculation(argparse.Namespace(csv=None, markdown=True, output=out)) == 0
    assert out.read_text(encoding="utf-8").startswith("## Speculative decoding")
    assert cli._validate_speculation(argparse.Namespace(csv=None, markdown=False, output=None)) == 0
    assert "MAPE" in capsys.readouterr().out
    monkeypatch.undo()
    absent = argparse.Namespace(csv=tmp_path / "absent.csv", markdown=False, output=None)
    assert cli._validate_speculation(absent) == 2


@pytest.mark.parametrize(("alpha", "k"), [(Fraction(1, 2), 1), (Fraction(7, 10), 3), (Fraction(9, 10), 7)])
def test_python_expected_tokens_is_the_stdlib_formula(tmp_path: Path, alpha: Fraction, k: int) -> None:
    pct = f"{float(alpha) * 100:g} %"
    extra = f", speculation = speculative.eagle3 {{ acceptance = {pct} }}, draft_tokens = {k}"
    v = _values(tmp_path, {"x": BASE.format(batch=1, extra=extra)})
    assert float(v["x.accepted_length"]) == pytest.approx(S.expected_tokens(float(alpha), k), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.01, max_value=0.99), st.integers(min_value=1, max_value=16))
def test_alpha_round_trips_through_the_accepted_length(alpha: float, k: int) -> None:
    length = S.expected_tokens(alpha, k)
    assert 1 <= length <= k + 1
    assert S.expected_tokens(alpha, k + 1) >= length         # a longer draft never yields fewer tokens
    assert S.alpha_for(length, k) == pytest.approx(alpha, abs=1e-9)


def test_accepted_length_check_is_reported(result: S.SpeculationValidation) -> None:
    assert result.lengths, "the k=3 / k=7 accepted-length rows are paired"
    for check in result.lengths:
        assert check.k > check.base_k and check.row.model == check.base.model
        assert abs(check.error) < 0.25
