"""stdlib/engines.infer: picking an engine changes memory and timing as its record documents.

One spec holds the same deployment under every engine (one load, ~3 s); each test reads the
quantities the engine's rule is about and checks them against the rule computed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.api import Spec
from solver.measured import engine_for

GiB = 2 ** 30
ENGINES = ("vllm", "vllm_v0", "vllm_v0_rocm", "sglang", "tensorrt_llm", "tensorrt_llm_bench", "tensorrt_llm_0_6",
           "tensorrt_llm_0_7", "tensorrt_llm_0_9", "lmdeploy", "lmdeploy_0_1", "llama_cpp", "gpt_fast",
           "faster_transformer")
READ = ("usable_memory", "device_memory", "fixed_memory", "kv_budget", "kv_capacity_tokens", "memory_per_gpu",
        "weight_memory", "decode_step", "decode_attention_time", "decode_allreduce_latency", "itl", "throughput",
        "max_throughput", "max_concurrency", "gpu_count", "block_size", "decode_tokens_per_s",
        "prefill_tokens_per_s", "prefill_time", "activation_memory", "capacity_batch", "host_launch",
        "gpu_step", "kernel_launch", "kernel_overhead", "kernel_cost", "layer_overhead", "kernels_per_layer")
MOE_ENGINES = ("llama_cpp", "llama_cpp_2024", "llama_cpp_2023", "vllm")

SPEC = """import models
import gpus
import serving
import engines
import precisions
base = serving.deployment {
  model = models.llama_3_1_70b
  gpu = gpus.h100_sxm
  tp = 4
  prompt = 4096 token
  output = 1024 token
  batch = 32
}
""" + "".join(f"e_{e} = base {{ engine = engines.{e} }}\n" for e in ENGINES) + """
int8_vllm = base { tp = 2, weights = precisions.int8, engine = engines.vllm }
int8_gpt_fast = base { tp = 2, weights = precisions.int8, engine = engines.gpt_fast }
replicated = base { dp = 2 }
short_trt = base { engine = engines.tensorrt_llm, model = models.llama_3_1_8b, tp = 1, prompt = 512 token,
                   output = 512 token }
short_trt_bench = short_trt { engine = engines.tensorrt_llm_bench }
""" + "".join(f"moe_{e} = base {{ engine = engines.{e}, model = models.qwen3_30b_a3b, tp = 1 }}\n"
              for e in MOE_ENGINES) + """dense_llama_cpp_2024 = base { engine = engines.llama_cpp_2024 }
"""


@pytest.fixture(scope="module")
def v(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    path: Path = tmp_path_factory.mktemp("engines") / "each_engine.infer"
    path.write_text(SPEC, encoding="utf-8")
    spec = Spec.load(path)
    records = [f"e_{e}" for e in ENGINES] + ["int8_vllm", "int8_gpt_fast", "replicated", "base", "short_trt",
                                              "short_trt_bench", "dense_llama_cpp_2024"]
    records += [f"moe_{e}" for e in MOE_ENGINES]
    values = spec.evaluator.values(only=[f"{r}.{q}" for r in records for q in READ])
    return {k: float(x) for k, x in values.items() if k in {f"{r}.{q}" for r in records for q in READ}}


def test_default_is_vllm(v: dict[str, float]) -> None:
    for q in READ:
        assert v[f"base.{q}"] == v[f"e_vllm.{q}"], q


def test_vllm_fraction_of_total_memory(v: dict[str, float]) -> None:
    assert v["e_vllm.usable_memory"] == pytest.approx(0.90 * v["e_vllm.device_memory"])
    assert v["e_vllm.block_size"] == 16


def test_tensorrt_llm_fraction_of_free_memory(v: dict[str, float]) -> None:
    free = v["e_tensorrt_llm.device_memory"] - v["e_tensorrt_llm.fixed_memory"]
    assert v["e_tensorrt_llm.kv_budget"] == pytest.approx(0.90 * free)
    assert v["e_tensorrt_llm.block_size"] == 64
    # 90 % of what is left is more than 90 % of everything less what is used
    assert v["e_tensorrt_llm.kv_budget"] > v["e_vllm.kv_budget"]


def test_lmdeploy_takes_80_percent_of_free_memory(v: dict[str, float]) -> None:
    free = v["e_lmdeploy.device_memory"] - v["e_lmdeploy.fixed_memory"]
    assert v["e_lmdeploy.kv_budget"] == pytest.approx(0.80 * free)


def test_sglang_static_fraction_by_tp(v: dict[str, float]) -> None:
    # TP4: mem_fraction_static 0.85 of the memory free after init (2.5 GiB)
    assert v["e_sglang.usable_memory"] == pytest.approx(0.85 * (v["e_sglang.device_memory"] - 2.5 * GiB))
    assert v["e_sglang.activation_memory"] == 0
    assert v["e_sglang.block_size"] == 1


def test_llama_cpp_fixed_context(v: dict[str, float]) -> None:
    assert v["e_llama_cpp.kv_capacity_tokens"] == 4096
    # the whole n_ctx is allocated whatever the batch uses: memory is weights + n_ctx of KV + rest
    assert v["e_llama_cpp.memory_per_gpu"] >= v["e_llama_cpp.weight_memory"] + 4096 * 327680 / 4


def test_vllm_v0_profiles_max_model_len(v: dict[str, float]) -> None:
    # Llama 3.1's 131072-token context: V0 turns chunked prefill on at 2048 tokens, a smaller
    # activation peak than V1's 8192
    assert v["e_vllm_v0.activation_memory"] < v["e_vllm.activation_memory"]


def test_gpt_fast_replicates_and_quantises_the_lm_head(v: dict[str, float]) -> None:
    # replicated (not vocab-parallel) but int8, not bf16: 128256 x 8192 x 2 heads (embedding and
    # LM head) x (1 B full - 2 B / tp 2) = 0 difference; the quantised blocks are the same
    diff = v["int8_gpt_fast.weight_memory"] - v["int8_vllm.weight_memory"]
    assert diff == pytest.approx(0, abs=1e6)


def test_custom_allreduce_latency(v: dict[str, float]) -> None:
    # vLLM's custom all-reduce: the link's measured one-shot latency, 3.33 us + 0.37 us a peer on
    # NVLink (interconnects.infer, SGLang PR 2904); gpt-fast's NCCL ring: 3.6 us + 6 hops at TP4
    assert v["e_vllm.decode_allreduce_latency"] == pytest.approx(3.33e-6 + 3 * 0.37e-6)
    assert v["e_gpt_fast.decode_allreduce_latency"] == pytest.approx(3.6e-6 + 6 * 0.5e-6)
    assert v["e_gpt_fast.decode_step"] > v["e_vllm.decode_step"]


def test_decode_attention_without_xqa_is_slower(v: dict[str, float]) -> None:
    # TensorRT-LLM 0.6 has no tensor-core GQA decode kernel: the same attention, slower
    assert v["e_tensorrt_llm_0_6.decode_attention_time"] > v["e_tensorrt_llm_0_7.decode_attention_time"]
    assert v["e_tensorrt_llm_0_7.decode_attention_time"] == pytest.approx(v["e_vllm.decode_attention_time"])


def test_throughput_quantities(v: dict[str, float]) -> None:
    assert v["base.decode_tokens_per_s"] == pytest.approx(1 / v["base.itl"])
    assert v["base.prefill_tokens_per_s"] == pytest.approx(4096 / v["base.prefill_time"])
    assert v["base.max_throughput"] > v["base.throughput"]        # 32 sequences fit far fewer than can
    assert v["replicated.throughput"] == pytest.approx(2 * v["base.throughput"])
    assert v["replicated.gpu_count"] == 2 * v["base.gpu_count"]


def test_trtllm_bench_runs_the_batch_its_kv_estimate_allows(v: dict[str, float]) -> None:
    # trtllm-bench's max_batch_size is min(KV estimate, 4096) (bench/build/tuning.py), not 256:
    # an 8B model at 512/512 on an H100 holds ~900 sequences, and max load runs them all
    assert v["short_trt.capacity_batch"] == 256
    assert 256 < v["short_trt_bench.capacity_batch"] <= 4096
    assert v["short_trt_bench.max_throughput"] > v["short_trt.max_throughput"]


def test_launches_add_without_cuda_graphs(v: dict[str, float]) -> None:
    # gptSessionBenchmark runs the 0.9 engine without graphs: 80 layers / 1 x 10 kernels x kernel_launch
    launch = 80 * 10 * v["e_tensorrt_llm_0_9.kernel_launch"]
    assert v["e_tensorrt_llm_0_9.host_launch"] == pytest.approx(launch)
    assert v["e_tensorrt_llm.host_launch"] == 0
    assert v["e_tensorrt_llm_0_9.decode_step"] == pytest.approx(v["e_tensorrt_llm_0_9.gpu_step"] + launch)


def test_layer_overhead_counts_the_engines_kernels(v: dict[str, float]) -> None:
    # a layer pays the shared per-kernel cost once per kernel its engine runs: vLLM's fused layer
    # 10, llama.cpp's Oct 2025 fused CUDA graph 16 for a dense Llama layer (engines.infer names
    # the counts' sources; the unfused 2024 graph's 23 is engines.llama_cpp_2024)
    # ... and that cost is the part's measured gap between dependent graph-replayed kernels (the
    # H100 SXM takes the H200's 1.27 us, gpus.infer kernel_gap) plus the shared fitted remainder
    # at the part's DRAM latency (the H100 PCIe's 373 ns) over the A100 80GB's 405 ns
    per_kernel = v["e_vllm.kernel_cost"]
    assert per_kernel == pytest.approx(1.27e-6 + v["e_vllm.kernel_overhead"] * 373 / 405)
    assert v["e_vllm.kernels_per_layer"] == 10
    assert v["e_llama_cpp.kernels_per_layer"] == 16
    for e in ("vllm", "llama_cpp", "gpt_fast", "lmdeploy"):
        assert v[f"e_{e}.layer_overhead"] == pytest.approx(v[f"e_{e}.kernels_per_layer"] * per_kernel)


def test_vllm_on_rocm_has_no_custom_allreduce(v: dict[str, float]) -> None:
    # vLLM 0.6's custom_all_reduce.py: "For AMD GPUs and CPUs" custom_ar = False: NCCL's ring latency
    assert v["e_vllm_v0_rocm.decode_allreduce_latency"] == pytest.approx(3.6e-6 + 6 * 0.5e-6)
    assert v["e_vllm_v0.decode_allreduce_latency"] == pytest.approx(3.33e-6 + 3 * 0.37e-6)


def test_tensorrt_llm_0_9_keeps_moe_experts_16_bit(tmp_path: Path) -> None:
    """0.10.0's release notes add FP8 for Mixtral: 0.9's FP8 Mixtral holds and streams its experts
    in 16 bits and runs them at the 16-bit rate; a later engine runs them in FP8; a dense model and
    16-bit weights are unaffected."""
    text = """import models
import gpus
import serving
import engines
import precisions
from precisions import fp8
m = serving.deployment {
  model = models.mixtral_8x7b
  gpu = gpus.h100_sxm
  tp = 2
  weights = fp8
  prompt = 2048 token
  output = 128 token
  batch = 1
}
old = m { engine = engines.tensorrt_llm_0_9 }
new = m { engine = engines.tensorrt_llm }
old16 = old { weights = precisions.bf16 }
new16 = new { weights = precisions.bf16 }
dense_old = old { model = models.llama_2_7b, tp = 1 }
dense_new = new { model = models.llama_2_7b, tp = 1 }
"""
    path = tmp_path / "experts.infer"
    path.write_text(text, encoding="utf-8")
    spec = Spec.load(path)
    names = [f"{r}.{q}" for r in ("old", "new", "old16", "new16", "dense_old", "dense_new")
             for q in ("weight_memory", "prefill_time", "decode_gemm_compute")]
    x = {k: float(val) for k, val in spec.evaluator.values(only=names).items() if k in names}
    # Mixtral-8x7B config.json: 32 layers x 8 experts x 3 x 4096 x 14336 weights, 1 more byte each, / tp 2
    extra = 32 * 8 * 3 * 4096 * 14336 * 1 / 2
    assert x["old.weight_memory"] - x["new.weight_memory"] == pytest.approx(extra, rel=1e-9)
    assert x["old.prefill_time"] > 1.3 * x["new.prefill_time"]
    assert x["old.decode_gemm_compute"] > 1.3 * x["new.decode_gemm_compute"]
    for q in ("weight_memory", "decode_gemm_compute"):
        assert x[f"old16.{q}"] == pytest.approx(x[f"new16.{q}"], rel=1e-12)
        assert x[f"dense_old.{q}"] == pytest.approx(x[f"dense_new.{q}"], rel=1e-12)


@pytest.mark.parametrize(("framework", "record"), [
    ("llama.cpp (Oct 2025)", "llama_cpp"),
    ("llama.cpp (May 2024)", "llama_cpp_2024"),
    ("llama.cpp build 1391 (Oct 2023)", "llama_cpp_2023"),
    ("llama.cpp (Aug 2023)", "llama_cpp_2023"),
    ("llama.cpp", "llama_cpp"),
])
def test_llama_cpp_builds_map_to_their_graph(framework: str, record: str) -> None:
    # the specific builds' prefixes come before the bare "llama.cpp" (first match wins)
    assert engine_for(framework) == record


def test_llama_cpp_moe_layer_counts_its_own_kernels(v: dict[str, float]) -> None:
    # an MoE layer runs the router, fused top-k and expert kernels: 22 in the Oct 2025 graph (16
    # for a dense layer); the older records count 23 / 25 for either; an engine that gives no
    # MoE figure keeps its dense one (vLLM 10)
    assert v["moe_llama_cpp.kernels_per_layer"] == pytest.approx(22)
    assert v["moe_llama_cpp_2024.kernels_per_layer"] == pytest.approx(23)
    assert v["dense_llama_cpp_2024.kernels_per_layer"] == pytest.approx(23)
    assert v["moe_llama_cpp_2023.kernels_per_layer"] == pytest.approx(25)
    assert v["moe_vllm.kernels_per_layer"] == pytest.approx(10)
    assert v["moe_llama_cpp.layer_overhead"] == pytest.approx(22 * v["moe_llama_cpp.kernel_cost"])
