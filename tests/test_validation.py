"""`infer validate`: every published measurement predicted, within the targets, under the physical bound.

The validation runs once for the module (one spec of all rows, ~2 s).
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import REPO

from solver import cli
from solver import validation as V
from solver import validation_report as R
from solver.api import Spec

REGENERATE = "run `infer validate --markdown -o docs/validation.md` and commit the result"

# Today's error (%) of each known outlier (reasons: solver.validation.KNOWN_OUTLIERS). A guard
# against regressions, not a pass: each may get better, but not worse than today + 5 points.
ERROR_TODAY = {
    "DT11": +17.8, "DT18": +21.1, "DT26": +29.8, "DT29": +25.2, "DT33": +17.8, "DT36": +17.3, "DT46": -18.9,
    "DT47": -15.1, "DT6": +27.6, "FT8": -9.7, "GF10": +39.9, "GF15": -16.2, "GF17": +16.2, "GF23": -19.6,
    "GF25": +25.7, "GF33": +28.2, "GF9": -22.9, "LM12": -17.2, "LM14": +16.6, "LM19": -31.9, "LM5": -18.2,
    "LM7": +18.3, "LW1": -19.6, "LW2": -18.2, "OR1": +14.9, "OR10": +21.4, "OR11": +31.7, "OR2": +15.0,
    "OR3": +16.2, "OR4": +17.4, "OR5": +18.0, "OR6": +17.7, "OR7": +22.1, "OR8": +24.9, "OR9": +31.5,
    "PL13": -15.4, "PL15": -20.5, "PL28": +14.5, "PL3": +18.7, "PL31": -17.8, "PL32": -25.3, "PN1": -16.9,
    "PN3": -22.5, "QL11": -60.7, "QL12": -34.6, "T9F10": -31.1, "T9F13": -21.4, "T9F5": -35.6, "T9T1":
    +16.1, "T9T10": +82.6, "T9T19": +17.6, "T9T20": +52.0, "T9T27": +17.9, "T9T29": -25.9, "T9T31": -16.8,
    "T9T40": +34.9, "T9T9": +58.5, "TB1": +16.3, "TB4": +15.7, "TF6": -18.8, "TH1": -20.3, "TH11": -16.1,
    "TH12": +21.0, "TH5": -20.2, "TH8": -18.6, "TO1": +17.0, "TO12": -21.0, "TO13": -17.3, "TO15": -21.7,
    "TO16": -19.2, "TO21": +105.0, "TO23": +61.9, "TS6": +58.1, "VM1": +76.6, "XD10": +34.9, "XD11": +36.8,
    "XD12": +16.9, "XD13": +19.2, "XD8": +32.3, "XD9": +35.0,
}
SLACK = 5.0   # percentage points

MAPE_TARGETS = {"decode_tokens_per_s": 0.15, "ttft": 0.25, "output_tokens_per_s_per_gpu": 0.25}
KV_METRICS = ("kv_cache_blocks", "kv_cache_tokens")


@pytest.fixture(scope="module")
def result() -> V.Validation:
    return V.run()


def test_every_row_is_predicted(result: V.Validation) -> None:
    assert len(result.rows) >= 40
    failed = {r.id: r.failure for r in result.failures}
    assert not failed, f"rows that could not be predicted: {failed}"


@pytest.mark.parametrize("metric", sorted(MAPE_TARGETS))
def test_mape_within_target(result: V.Validation, metric: str) -> None:
    summary = next(s for s in result.by_metric() if s.metric == metric)
    assert summary.mape <= MAPE_TARGETS[metric], (
        f"{metric}: MAPE {100 * summary.mape:.1f} % > {100 * MAPE_TARGETS[metric]:.0f} % "
        f"(worst {summary.worst.id} {100 * (summary.worst.error or 0):+.1f} %)")
    assert V.TARGETS[metric].limit == MAPE_TARGETS[metric]


def test_kv_capacity_within_two_percent(result: V.Validation) -> None:
    rows = [r for r in result.rows if r.metric in KV_METRICS]
    assert rows
    off = {r.id: f"{100 * (r.error or 0):+.2f} %" for r in rows
           if r.id not in V.KNOWN_OUTLIERS and abs(r.error or 0) > 0.02}
    assert not off, f"KV-capacity rows more than 2 % off: {off}"


def test_known_outliers_do_not_get_worse(result: V.Validation) -> None:
    assert set(ERROR_TODAY) == set(V.KNOWN_OUTLIERS), "each known outlier needs its error of today here"
    by_id = {r.id: r for r in result.rows}
    for rid, today in ERROR_TODAY.items():
        assert V.KNOWN_OUTLIERS[rid].strip(), f"{rid}: a known outlier needs its reason"
        error = 100 * (by_id[rid].error or 0)
        assert abs(error) <= abs(today) + SLACK, (
            f"{rid} is {error:+.1f} % off, worse than {today:+.1f} % (+{SLACK:.0f} points): "
            f"{V.KNOWN_OUTLIERS[rid][:80]}...")


def test_far_rows_are_explained(result: V.Validation) -> None:
    unexplained = {r.id: f"{100 * (r.error or 0):+.1f} %" for r in result.predicted
                   if r.far and r.id not in V.KNOWN_OUTLIERS}
    assert not unexplained, f"rows far off without a reason in KNOWN_OUTLIERS: {unexplained}"


def test_no_measurement_beats_the_physical_bound(result: V.Validation) -> None:
    timed = [r for r in result.predicted if V.METRICS[r.metric].kind != "size"]
    assert timed and all(r.bound is not None for r in timed)
    beaten = {r.id: (r.measured, r.bound) for r in result.violations}
    assert not beaten, f"measurements beating the roofline at efficiency 1 (measured, bound): {beaten}"
    # the bound is a bound on the prediction too: efficiency 1 is never slower
    for r in timed:
        assert r.bound is not None and r.predicted is not None
        faster = r.bound <= r.predicted if V.METRICS[r.metric].kind == "time" else r.bound >= r.predicted
        assert faster, f"{r.id}: bound {r.bound} is not beyond the prediction {r.predicted}"


def test_docs_validation_md_is_up_to_date(result: V.Validation) -> None:
    doc = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    table = R.metric_table(result)
    assert table in doc, f"docs/validation.md's per-metric table is stale: {REGENERATE}"
    # Feature sections (`infer validate --feature ...`, their own tests) follow the generated part.
    assert doc.startswith(R.markdown(result)), f"docs/validation.md is stale: {REGENERATE}"


def test_readme_validation_table_is_up_to_date(result: V.Validation) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Validation\n", 1)
    assert len(section) == 2, "README.md needs its ## Validation section"
    assert R.metric_table(result) in section[1], (
        "README.md's validation table is stale: copy the per-metric table from docs/validation.md "
        f"({REGENERATE} first)")


# --------------------------------------------------------------------------- engine rules
def _row(rid: str) -> V.Row:
    return next(r for r in V.load_rows(V.default_csv()) if r.id == rid)


def _settings(row: V.Row) -> dict[str, str]:
    return {s.name: s.text for s in V.row_inputs(row)}


def _mapped() -> list[V.Row]:
    """The rows the validator reads (the unmapped ones are listed with their reason instead)."""
    return [r for r in V.load_rows(V.default_csv()) if V.unmapped_reason(r) is None]


def test_engine_rules_do_not_depend_on_the_row_id() -> None:
    for row in _mapped():
        renamed = dataclasses.replace(row, id="X" + row.id)
        assert V.row_inputs(renamed) == V.row_inputs(row), row.id


def test_vllm_v0_max_batched_tokens_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The rule lives in engines.vllm_v0; the row only states its max_model_len (VM1: 8192).
    assert _settings(_row("VM1"))["engine"] == "engines.vllm_v0"    # VM1 states no batch
    assert _settings(_row("VM1"))["max_model_len"] == "8192 token"
    assert "max_model_len" not in _settings(_row("VM2"))
    path = tmp_path / "vm.infer"
    path.write_text(V.spec_text([_row("VM1"), _row("VM2")]), encoding="utf-8")
    values = Spec.load(path).evaluator.values(only=["r_VM1.max_batched_tokens", "r_VM2.max_batched_tokens"])
    # VM1: no chunked prefill, max(8192, 2048); VM2: Llama 3.1's 131072 > 32768, chunked at 2048
    assert int(values["r_VM1.max_batched_tokens"]) == 8192
    assert int(values["r_VM2.max_batched_tokens"]) == 2048


def test_no_engine_rule_in_python() -> None:
    # every framework maps to an engines.infer record by name, and the row's settings are what
    # its note states, never an engine's rule
    for row in _mapped():
        names = set(_settings(row))
        assert names <= {"model", "gpu", "tp", "pp", "weights", "kv_cache", "prompt", "output", "batch",
                         "engine", "max_model_len", "memory_bandwidth", "memory_utilization"}, (row.id, names)
        assert _settings(row)["engine"].startswith("engines.")
    for attr in ("_gpt_fast", "_tensorrt_llm", "_vllm_v0", "_sglang", "_faster_transformer"):
        assert not hasattr(V, attr)


def test_stated_memory_fraction_overrides_the_engine_default() -> None:
    assert _settings(_row("VM4"))["engine"] == "engines.sglang"
    assert _settings(_row("VM4"))["memory_utilization"] == "93 %"


def test_stated_batch_limit_of_a_max_load_run() -> None:
    # TH1's trtllm-bench log prints 'Max Runtime Batch Size: 2048' (its engine build), which replaces the
    # record's default; a row that states no limit (TO1) keeps the record's, a static batch sets none
    assert _settings(_row("TH1"))["engine"] == ("engines.tensorrt_llm_bench { static_prompt = 128 token, "
                                                "max_sequences = 2048 }")
    assert "max_sequences" not in _settings(_row("TO1"))["engine"]
    assert _settings(_row("TH1"))["memory_utilization"] == "90 %"
    assert "max_sequences" not in _settings(dataclasses.replace(_row("TH1"), batch=64))["engine"]


def test_gpt_fast_power_cap_only_on_a100() -> None:
    assert _settings(_row("GF1"))["memory_bandwidth"] == "1.7 TB/s"
    assert _settings(_row("GF11"))["memory_bandwidth"] == "1.7 TB/s"    # a stream figure
    assert "memory_bandwidth" not in _settings(_row("GF13"))     # MI250X: no capped figure
    assert all(_settings(_row(r))["engine"].startswith("engines.gpt_fast {") for r in ("GF1", "GF13"))
    assert (_settings(_row("FT8"))["engine"]
            == "engines.faster_transformer { static_batch = 64, static_prompt = 512 token }")


@pytest.mark.parametrize("framework,record", [
    ("FasterTransformer", "faster_transformer"), ("vLLM V0 (~0.6.6)", "vllm_v0"), ("vLLM 0.10", "vllm"),
    ("TensorRT-LLM 0.6.1 static batch", "tensorrt_llm_0_6"), ("TensorRT-LLM 0.7a", "tensorrt_llm_0_7"),
    ("TensorRT-LLM 1.0", "tensorrt_llm"), ("SGLang", "sglang"), ("LMDeploy", "lmdeploy"),
    ("llama.cpp b4000", "llama_cpp"), ("gpt-fast", "gpt_fast"), ("MyEngine", None)])
def test_framework_maps_to_engine_record(framework: str, record: str | None) -> None:
    assert V.engine_for(framework) == record


def test_fastertransformer_gb_is_gib(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "e.infer"
    path.write_text("import engines\nft = engines.faster_transformer.reports_gib\n"
                    "v = engines.vllm.reports_gib\n", encoding="utf-8")
    values = Spec.load(path).evaluator.values(only=["ft", "v"])
    assert bool(values["ft"]) and not bool(values["v"])


def test_unknown_names_fail_the_row_not_the_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (V.default_csv()).read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1]
    bad_model = first.replace("GF1,Llama-2-7B", "BAD1,Llama-9-9B", 1)
    bad_engine = first.replace("GF1,", "BAD2,", 1).replace(",gpt-fast,", ",MyEngine,", 1)
    path = tmp_path / "m.csv"
    path.write_text("\n".join([header, first, bad_model, bad_engine]) + "\n", encoding="utf-8")
    v = V.run(path)
    by_id = {r.id: r for r in v.rows}
    assert by_id["GF1"].failure is None and by_id["GF1"].predicted is not None
    assert "Llama-9-9B" in (by_id["BAD1"].failure or "")
    assert "no engine record" in (by_id["BAD2"].failure or "")
    assert not v.ok


def test_csv_text_cannot_inject_spec_text() -> None:
    row = dataclasses.replace(_row("GF1"), source="x\nr_evil = serving.deployment {}\n")
    spec = V.row_spec(row)
    assert "\nr_evil" not in spec
    assert re.match(r"# GF1: ", spec)


def test_cli_exit_codes(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "v.md"
    code = cli.main(["validate", "--markdown", "-o", str(out)])
    assert code == 0
    assert out.read_text(encoding="utf-8").startswith("# Validation against published measurements")
    code = cli.main(["validate", "--csv", str(tmp_path / "absent.csv")])
    assert code == 2
    assert "absent.csv" in capsys.readouterr().err


# --------------------------------------------------------------------------- the fit and LOSO
# Leave-one-source-out today (%), for the metrics whose issue-9 target is NOT met yet: the current
# guard (each may improve, none may get worse by more than LOSO_SLACK points). When a target is
# met, its metric moves out of this table and test_loso_targets enforces the target itself. Every
# metric meets its target today (batch-1 decode at 9.96 %, with little to spare: docs/validation.md).
LOSO_TODAY: dict[str, tuple[float, float]] = {}
LOSO_SLACK = 2.0


def test_stdlib_factors_inside_their_plausible_ranges(result: V.Validation) -> None:
    from solver.calibrate import FACTORS

    assert set(result.defaults) == set(FACTORS)
    for name, f in FACTORS.items():
        assert f.low <= result.defaults[name] <= f.high, (name, result.defaults[name], f.low, f.high)
        assert f.why.strip()


def test_stdlib_factors_are_the_fit(result: V.Validation) -> None:
    from solver.calibrate import TIME_FACTORS

    g = result.generalisation
    assert g is not None
    for name, value in result.defaults.items():
        fitted = g.factors[name]
        assert abs(value - fitted) <= 0.03 * max(abs(fitted), 1e-9) + 1e-3 * (name not in TIME_FACTORS), (
            f"stdlib/serving.infer's {name} = {value} is not the fit {fitted:.4g}: refit and update it")


def test_only_documented_factors_sit_at_a_bound(result: V.Validation) -> None:
    from solver.calibrate import at_bound

    g = result.generalisation
    assert g is not None
    # overlap_residual at 100 %: the data prefer the sum (docs/validation.md says why)
    # comm_efficiency at its 60 % floor: the large all-reduces want a slower data term (docs/validation.md)
    # kernel_launch at its 1 us floor: launches hide behind the GPU's work (docs/validation.md)
    # mbu at its 100 % ceiling (the measured stream rate): the lean engines want less per layer than
    # the shared per-kernel cost gives them, and the fit makes it up with bandwidth (docs/validation.md)
    assert set(at_bound(g.factors)) <= {"overlap_residual", "comm_efficiency", "kernel_launch", "mbu"}, (
        at_bound(g.factors))


def test_loso_targets(result: V.Validation) -> None:
    from solver.calibrate import LOSO_TARGETS

    g = result.generalisation
    assert g is not None and g.metrics
    for m in g.metrics:
        target = LOSO_TARGETS[m.metric]
        if m.metric in LOSO_TODAY:
            mape, signed = LOSO_TODAY[m.metric]
            assert 100 * m.loso_mape <= mape + LOSO_SLACK, (m.metric, m.loso_mape)
            assert abs(100 * m.loso_signed) <= abs(signed) + LOSO_SLACK, (m.metric, m.loso_signed)
            assert not target.met(m), f"{m.metric} now meets its LOSO target: move it out of LOSO_TODAY"
        else:
            assert target.met(m), (f"{m.metric}: LOSO MAPE {100 * m.loso_mape:.1f} %, signed "
                                   f"{100 * m.loso_signed:+.1f} % misses {target.label}")
        assert m.loso_mape >= m.in_sample_mape * 0.5   # a held-out error far below the fit's is a bug


def test_fit_recovers_known_factors() -> None:
    import random

    from solver import calibrate as C

    names = list(C.FACTORS)
    truth = {n: (f.low + f.high) / 2 for n, f in C.FACTORS.items()}
    x_true = [truth[n] for n in names]
    rng = random.Random(7)
    rows = []
    # synthetic rows: times that read each factor in a different mix, measured = the truth
    for i in range(40):
        w = [rng.uniform(0.2, 3) for _ in names]

        def formula(*x: float, w: list[float] = w) -> float:
            f = dict(zip(names, x))
            c = w[0] / f["mfu"] + w[1] / f["mfu_8bit"] + w[4] * f["kernel_overhead"] * 1e5
            m = (w[2] / f["mbu"] + w[3] / f["dequant_efficiency"] + w[5] / f["comm_efficiency"]
                 + w[6] * f["kernel_launch"] * 1e5)
            return max(c, m) + f["overlap_residual"] * min(c, m)

        rows.append(C.CompiledRow(f"S{i}", "ttft", f"src{i % 4}", formula(*x_true), formula, False))
    fitted = C.fit(rows, names)
    for n in names:
        assert abs(fitted[n] - truth[n]) <= 0.01 * truth[n], (n, fitted[n], truth[n])
    # a factor no row reads keeps its prior
    at = names.index("overlap_residual")
    blind = [C.CompiledRow(r.id, r.metric, r.source, r.measured,
                           (lambda *x, f=r.formula: f(*x[:at], 0.5, *x[at + 1:])), False) for r in rows]
    assert C.fit(blind, names)["overlap_residual"] == pytest.approx(C.FACTORS["overlap_residual"].prior)
