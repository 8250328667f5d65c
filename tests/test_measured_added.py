"""validation/measured.csv as grown for issue 9: one file of published measurements.

These tests keep every row loadable by solver.validation, sourced and settings-stated, spread as
the issue asks, and check that every name a row uses maps (the validator's MODELS, GPUS and
PRECISIONS tables) to a catalog entry that exists.
"""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from solver import validation as V
from solver.catalog import load_catalog

MEASURED = REPO / "validation" / "measured.csv"


@pytest.fixture(scope="module")
def rows() -> list[V.Row]:
    return V.load_rows(MEASURED)


def test_columns_are_the_validators() -> None:
    with open(MEASURED, encoding="utf-8") as f:
        assert tuple(f.readline().strip().split(",")) == V.COLUMNS


def test_ids_are_unique(rows: list[V.Row]) -> None:
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids))


def test_size_and_spread(rows: list[V.Row]) -> None:
    """Issue 9's floor: >= 100 rows from >= 8 sources, the hardware, TP and engines it names."""
    assert len(rows) >= 100
    sources = {re.split(r"\s@|\s\(", r.source)[0] for r in rows}
    assert len(sources) >= 8, sorted(sources)
    gpus = {r.gpu for r in rows}
    for wanted in ("H100-SXM5-80GB", "H200-SXM-141GB", "B200-180GB", "A100-SXM4-80GB", "L40S-48GB",
                   "RTX-4090-24GB", "MI300X-192GB"):
        assert wanted in gpus, wanted
    assert {1, 2, 4, 8} <= {r.tp for r in rows}
    engines = " ".join(r.framework.lower() for r in rows)
    for engine in ("vllm", "sglang", "tensorrt-llm"):
        assert engine in engines, engine


def test_every_row_is_sourced_and_graded(rows: list[V.Row]) -> None:
    for r in rows:
        assert r.source, r.id
        # a row says its settings in `note` unless its columns already state them all
        assert r.note or (r.batch and r.prompt and r.output), r.id
        assert r.confidence in ("H", "M", "L"), (r.id, r.confidence)
        assert r.metric in V.METRICS, (r.id, r.metric)
        assert r.unit in V.METRICS[r.metric].units, (r.id, r.unit)
        assert r.value > 0, r.id


def test_per_gpu_values_state_the_published_figure(rows: list[V.Row]) -> None:
    """A value divided by the GPU count keeps the source's own figure in the note, and agrees with it."""
    checked = 0
    for r in rows:
        m = re.search(r"([\d.]+) token/s for (?:the )?(\d+) GPU", r.note)
        if m:
            total, gpus = float(m.group(1)), int(m.group(2))
            assert gpus == r.gpu_count, r.id
            assert r.value == pytest.approx(total / gpus, rel=1e-4), r.id
            checked += 1
    assert checked >= 20


def test_every_name_maps_to_an_existing_catalog_entry(rows: list[V.Row]) -> None:
    entries = {cat: {e.name for e in load_catalog(cat).entries}
               for cat in ("models", "gpus", "precisions")}
    tables = {"model": V.MODELS, "gpu": V.GPUS, "precision": V.PRECISIONS}
    used = ({("model", r.model) for r in rows} | {("gpu", r.gpu) for r in rows}
            | {("precision", p) for r in rows for p in (r.weights, r.kv_cache)})
    missing = sorted((kind, name) for kind, name in used if name not in tables[kind])
    assert not missing, f"names without a catalog mapping in solver/validation.py: {missing}"
    for kind, table in tables.items():
        for name, expr in table.items():
            catalog, entry = expr.split("{")[0].strip().split(".")
            assert entry in entries[catalog], f"{kind} {name}: {expr} is not in stdlib/{catalog}.infer"


def test_rows_without_a_batch_are_read_at_saturation_or_listed(rows: list[V.Row]) -> None:
    """A throughput row with no batch is either read as max_throughput_per_gpu (its note says
    max load, with fixed lengths) or unmapped with a reason; never silently dropped."""
    no_batch = [r for r in rows if r.batch is None and r.metric == "output_tokens_per_s_per_gpu"]
    assert no_batch
    for r in no_batch:
        reason = V.unmapped_reason(r)
        if reason is None:
            assert "max load" in r.note.lower() and r.prompt and r.output, r.id
            assert V.quantity_of(r) == "max_throughput_per_gpu"
        else:
            assert reason.strip(), r.id
    assert V.unmapped_reason(next(r for r in rows if r.id == "SG1")) is not None      # ShareGPT lengths
    assert V.unmapped_reason(next(r for r in rows if r.id == "TO1")) is None          # fixed 128/128


def test_throughput_sources_beyond_tensorrt_llm_are_read(rows: list[V.Row]) -> None:
    """Issue 9 section 3: the P* throughput rows (LMDeploy, vLLM, TensorRT-LLM blog; gpustack's
    ShareGPT runs) map to their engine records and metrics, or are listed with their reason."""
    by_id = {r.id: r for r in rows}
    lmdeploy = [r for r in rows if r.id.startswith("PL")]
    assert len(lmdeploy) >= 30
    for r in lmdeploy:
        assert V.engine_for(r.framework) == "lmdeploy_0_1" and r.batch and r.prompt and r.output, r.id
        assert V.unmapped_reason(r) is None and V.quantity_of(r) == "static_throughput_per_gpu", r.id
    assert V.engine_for(by_id["PU1"].framework) == "vllm" and V.quantity_of(by_id["PU1"]) == "static_throughput_per_gpu"
    assert V.unmapped_reason(by_id["PN1"]) is None and V.quantity_of(by_id["PN1"]) == "max_throughput_per_gpu"
    for rid, engine in (("PG1", "vllm"), ("PG2", "sglang"), ("PG3", "tensorrt_llm")):
        assert V.engine_for(by_id[rid].framework) == engine
        assert "varying prompt and output lengths" in (V.unmapped_reason(by_id[rid]) or ""), rid


def test_vllm_and_sglang_serving_rows_on_nvidia_at_low_concurrency(rows: list[V.Row]) -> None:
    """Issue 9 asks for vLLM and SGLang from batch 1 up: gpustack's performance lab (QL*) gives
    median ITL at --max-concurrency 1-8 (Qwen3-8B on an H100; DeepSeek-R1 and GLM-4.6 on 8 x H200).
    Each row maps to its engine record, is read as `itl` at the concurrency, and its value is the
    'Median ITL (ms)' its note quotes from the source."""
    ql = [r for r in rows if r.id.startswith("QL") and r.metric == "itl"]
    assert len(ql) >= 12
    engines = {V.engine_for(r.framework) for r in ql}
    assert {"vllm", "sglang"} <= engines
    assert any(V.engine_for(r.framework) == "vllm" and r.batch == 1 for r in ql)
    for r in ql:
        assert r.gpu in V.GPUS and r.model in V.MODELS, r.id
        assert V.quantity_of(r) == "itl" and V.unmapped_reason(r) is None, r.id
        assert f"--max-concurrency {r.batch} " in r.note, r.id
        quoted = re.search(r"'Median ITL \(ms\): ([\d.]+)'", r.note)
        assert quoted and float(quoted.group(1)) == pytest.approx(r.value), r.id


def test_tensorrt_llm_batch1_decode_rows_are_one_campaign_with_the_v090_doc(rows: list[V.Row]) -> None:
    """The DT rows: TensorRT-LLM 0.9.0 batch-1 decode from the DLI course's raw sweep, every batch-1
    row of its 128/2048 slice on a GPU the name tables know, on the 0.9 engine record; the sweep is
    the data behind docs/source/performance.md @v0.9.0, so leave-one-source-out holds both out."""
    from solver.calibrate import SAME_CAMPAIGN, source_of

    dt = [r for r in rows if r.id.startswith("DT")]
    assert len(dt) >= 40
    for r in dt:
        assert V.engine_for(r.framework) == "tensorrt_llm_0_9", r.id
        assert (r.metric, r.batch, r.prompt, r.output) == ("decode_tokens_per_s", 1, 128, 2048), r.id
        assert V.unmapped_reason(r) is None, r.id
        assert source_of(r.source) == source_of("NVIDIA/TensorRT-LLM docs/source/performance.md @v0.9.0")
    sources = {r.source.split(" @", 1)[0] for r in rows}
    assert set(SAME_CAMPAIGN) <= sources   # a campaign entry names a source the set holds
    assert {r.gpu for r in dt} >= {"L40-48GB", "H100-NVL-94GB", "H100-SXM5-80GB", "H200-SXM-141GB"}
