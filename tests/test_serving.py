"""The serving model's physics, as behaviours a capacity planner relies on.

Each test states a property that follows from the hardware, not a number copied from a run:
it would fail if the model lost that piece of physics.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from solver.api import Spec
from solver.optimize import SolveError

BASE = """import gpus
import interconnects
import models
import serving
import precisions
d = serving.deployment {{
  model = models.{model}
  gpu = gpus.{gpu}
  prompt = {prompt} token
  output = {output} token
  batch = {batch}
{extra}
}}
"""


def deployment(tmp_path: Path, model: str = "llama_3_1_70b", gpu: str = "h100_sxm", prompt: int = 2048,
               output: int = 256, batch: int = 16, **fields: str) -> dict[str, float]:
    extra = "\n".join(f"  {k} = {v}" for k, v in fields.items())
    spec = tmp_path / "d.infer"
    spec.write_text(BASE.format(model=model, gpu=gpu, prompt=prompt, output=output, batch=batch, extra=extra))
    ev = Spec.load(spec).eval()
    return {k.removeprefix("d."): q.value for k, q in ev.quantities.items()}  # type: ignore[misc]


def test_decode_is_memory_bound_and_prefill_compute_bound(tmp_path: Path) -> None:
    q = deployment(tmp_path, tp="4", batch=1)
    assert q["bottleneck"] == "memory"
    assert q["arithmetic_intensity"] < q["ridge_point"]


def test_batching_trades_latency_for_throughput(tmp_path: Path) -> None:
    small = deployment(tmp_path, tp="4", batch=4)
    large = deployment(tmp_path, tp="4", batch=64)
    assert large["itl"] > small["itl"]
    assert large["throughput"] > 4 * small["throughput"]


def test_long_contexts_make_the_kv_cache_outgrow_the_weights(tmp_path: Path) -> None:
    short = deployment(tmp_path, tp="8", prompt=2048, batch=4, weights="precisions.fp8")
    long = deployment(tmp_path, tp="8", prompt=120_000, batch=4, weights="precisions.fp8")
    assert short["kv_memory"] < short["weight_memory"] < long["kv_memory"]


def test_tensor_parallel_all_reduces_cost_more_over_pcie(tmp_path: Path) -> None:
    nvlink = deployment(tmp_path, tp="4", gpu="h100_sxm")
    pcie = deployment(tmp_path, tp="4", gpu="h100_sxm", link="interconnects.pcie5_x16")
    assert pcie["allreduce_time"] > 2 * nvlink["allreduce_time"]
    assert pcie["itl"] > nvlink["itl"]


def test_pipeline_stages_overlap_micro_batches(tmp_path: Path) -> None:
    one = deployment(tmp_path, tp="2", pp="1", batch=64)
    two = deployment(tmp_path, tp="2", pp="2", batch=64)
    assert two["micro_batch"] == 32
    assert two["throughput"] > one["throughput"]
    # Fewer sequences than stages: each micro-batch holds one, the other stages idle (the bubble).
    assert deployment(tmp_path, tp="2", pp="4", batch=2)["micro_batch"] == 1


def test_a_replica_across_servers_hands_off_over_the_network(tmp_path: Path) -> None:
    q = deployment(tmp_path, model="llama_3_1_405b", tp="8", pp="2", weights="precisions.bf16")
    assert q["nodes"] == 2
    assert q["pp_bandwidth"] < q["tp_bandwidth"]


def test_fp8_weights_on_a_chip_without_fp8_units_run_weight_only(tmp_path: Path) -> None:
    a100 = deployment(tmp_path, model="llama_3_1_8b", gpu="a100_80gb_sxm", weights="precisions.fp8")
    h100 = deployment(tmp_path, model="llama_3_1_8b", gpu="h100_sxm", weights="precisions.fp8")
    assert a100["weight_only"] is True and a100["gemm_bits"] == 16
    assert h100["weight_only"] is False and h100["gemm_bits"] == 8


def test_mla_caches_far_less_than_multi_head_attention(tmp_path: Path) -> None:
    q = deployment(tmp_path, model="deepseek_v3", gpu="h200_sxm", tp="8", weights="precisions.fp8")
    assert q["kv_per_token"] == 70272 * 1.0   # 61 layers x (512 + 64) x 2 B
    assert q["kv_shard"] == 1                 # the latent is replicated on every TP rank


def test_memory_requirement_binds_a_long_prompt(tmp_path: Path) -> None:
    spec = tmp_path / "rag.infer"
    spec.write_text((REPO / "specs" / "rag-long-context.infer").read_text())
    solution = Spec.load(spec).solve("max_prompt")
    assert solution.binding == "memory_per_gpu <= usable_memory"


@pytest.mark.parametrize("setting, broken", [
    ("chat.tp=3", "floor(model.heads / tp) * tp == model.heads"),
    ("chat.output=0", "output >= 1 token"),
    ("chat.memory_utilization=150 %", "memory_utilization <= 100 %"),
])
def test_impossible_layouts_are_explained(setting: str, broken: str) -> None:
    spec = Spec.load(REPO / "specs" / "chat.infer", [setting])
    with pytest.raises(SolveError, match=broken.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        spec.solve("max_batch")


def test_set_reads_stdlib_modules_the_spec_did_not_import() -> None:
    spec = Spec.load(REPO / "specs" / "chat.infer", ["chat.kv_cache=precisions.fp8"])
    assert spec.eval().quantities["chat.kv_per_token"].text == "163840 B/token"


def test_a_record_other_records_extend_may_leave_inputs_open(tmp_path: Path) -> None:
    spec = tmp_path / "t.infer"
    spec.write_text("""import gpus
import models
import serving
base = serving.deployment {
  model = models.llama_3_1_8b
  prompt = 1024 token
  output = 256 token
  batch: count
  require itl <= 40 ms
}
a = base { gpu = gpus.h100_sxm }
b = base { gpu = gpus.l40s }
goal best_a = maximize a.batch
goal best_b = maximize b.batch
""")
    loaded = Spec.load(spec)
    a, b = loaded.solve("best_a"), loaded.solve("best_b")
    assert isinstance(a.value, int) and isinstance(b.value, int) and a.value > b.value


def test_where_can_hold_one_quantity_equal_to_another() -> None:
    spec = Spec.load(REPO / "specs" / "long-context-kv.infer", ["long.batch=4"])
    solution = spec.solve("long.prompt", where={"long.kv_memory": "long.weight_memory"})
    assert solution.unit == "token" and 50_000 < float(solution.value) < 60_000  # type: ignore[arg-type]
    at = Spec.load(REPO / "specs" / "long-context-kv.infer", ["long.batch=4", f"long.prompt={solution.value}"])
    q = at.eval().quantities
    kv, weights = (float(q[n].value) for n in ("long.kv_memory", "long.weight_memory"))  # type: ignore[arg-type]
    assert abs(kv / weights - 1) < 1e-3      # within one 16-token KV block of 55K tokens


def test_an_inversion_says_which_requirement_its_answer_breaks() -> None:
    spec = Spec.load(REPO / "specs" / "long-context-kv.infer", ["long.batch=1"])
    solution = spec.solve("long.prompt", where={"long.kv_memory": "long.weight_memory"})
    assert any("max_context" in n and "fails" in n for n in solution.notes)
