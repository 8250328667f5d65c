"""The measured rows and what they state: the name tables, the CSV, each row's engine and settings,
and the metrics it is compared on (`validation/measured.csv`, described in validation/README.md).

Names map to catalog entries by explicit tables (MODELS, GPUS, PRECISIONS), the `framework`
column to a `stdlib/engines.infer` record by prefix (ENGINES), and what a row's note states (a
memory fraction, `max_model_len`, a power cap) to a setting by a pattern: the .infer text a row
becomes is built from these and the row's numbers, never by evaluating CSV text. Nothing here is
keyed by a row id. `solver.validation` turns the rows into one spec and evaluates it.

>>> engine_for("vLLM V0 (~0.7)"), engine_for("TensorRT-LLM 0.9.0"), engine_for("MLC LLM")
('vllm_v0', 'tensorrt_llm_0_9', None)
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "COLUMNS", "ENGINES", "FAR", "GPUS", "METRICS", "MODELS", "PRECISIONS", "TARGETS", "Metric", "MissingCSV",
    "Row", "Setting", "Target", "default_csv", "engine_for", "load_rows", "quantity_of", "stated_settings",
    "unmapped_reason",
]


# ================================================================================ name tables
# CSV names -> catalog entries. Explicit: a name that is not here is a failed row, never a guess.
MODELS: dict[str, str] = {
    # TensorRT-LLM's 'LLaMA 7B' is Llama 2 (its engine config: vocab 32000; 4096 positions)
    "Llama-2-7B": "models.llama_2_7b",
    "Llama-2-13B": "models.llama_2_13b",
    "Llama-2-70B": "models.llama_2_70b",     # TensorRT-LLM's 'LLaMA 70B' is Llama 2 70B
    "Llama-3-8B": "models.llama_3_8b",
    # Llama 3 70B has Llama 3.1 70B's shape with 8192 positions (meta-llama/Meta-Llama-3-70B config.json)
    "Llama-3-70B": "models.llama_3_1_70b { max_context = 8192 token }",
    "Llama-3.1-8B": "models.llama_3_1_8b",
    "Llama-3.1-70B": "models.llama_3_1_70b",
    "Llama-3.1-405B": "models.llama_3_1_405b",
    "Llama-3.3-70B": "models.llama_3_3_70b",
    "Llama-4-Scout": "models.llama_4_scout",
    "Llama-4-Maverick": "models.llama_4_maverick",
    "Mistral-7B": "models.mistral_7b",
    "Mixtral-8x7B": "models.mixtral_8x7b",
    "GPT-J-6B": "models.gpt_j_6b",
    "Falcon-180B": "models.falcon_180b",
    "Qwen3-235B-A22B-FP8": "models.qwen3_235b_a22b",   # the FP8 checkpoint has the BF16 model's shape
    "Qwen3-235B-A22B-FP4": "models.qwen3_235b_a22b",   # the FP4 checkpoint has the BF16 model's shape
    "Qwen3-30B-A3B": "models.qwen3_30b_a3b",
    "Qwen3-14B": "models.qwen3_14b",                   # gpustack performance lab (Qwen/Qwen3-14B)
    "Qwen3-8B": "models.qwen3_8b",                     # gpustack performance lab (Qwen/Qwen3-8B, Qwen/Qwen3-8B-FP8)
    # deepseek-ai/DeepSeek-R1-0528: a newer checkpoint of DeepSeek-R1 (DeepseekV3ForCausalLM, V3's shape)
    "DeepSeek-R1-0528": "models.deepseek_r1",
    # zai-org/GLM-4.6: the Glm4Moe shape of models.glm_4_5 (whose MoE keys are GLM-4.7's config); 202752 positions
    # are GLM-4.7's (ai-dynamo/aiconfigurator model_configs/zai-org--GLM-4.7-FP8_config.json @a0ba9ec), taken for
    # 4.6's 200K context: GLM-4.6's own config.json was not read
    "GLM-4.6": "models.glm_4_5 { max_context = 202752 token }",
    "GPT-6.7B": "models.gpt_6_7b",
    "GPT-1.3B": "models.gpt_1_3b",
    # OpenLLaMA 7B v2 has LLaMA 7B's shape with 2048 positions (ggml-org/ci logs, llm_load_print_meta: n_vocab
    # 32000, n_embd 4096, n_head 32, n_head_kv 32, n_layer 32, n_ff 11008, n_ctx_train 2048)
    "OpenLLaMA-7B-v2": "models.llama_2_7b { max_context = 2048 token }",
    # LLaMA (v1) 7B: Llama 2 7B's shape with 2048 positions (Touvron et al. 2023, "LLaMA", Table 2: dimension 4096,
    # 32 heads, 32 layers; llama-bench prints 6.74 B params, as for Llama 2 7B)
    "LLaMA-7B": "models.llama_2_7b { max_context = 2048 token }",
}

GPUS: dict[str, str] = {
    "A100-SXM4-80GB": "gpus.a100_80gb_sxm",
    "A100-SXM4-40GB": "gpus.a100_40gb_sxm",
    "A100-PCIE-80GB": "gpus.a100_80gb_pcie",            # XiongjieDai README: 'A100 PCIe 80GB'
    "H100-PCIE-80GB": "gpus.h100_pcie",                 # XiongjieDai README: 'H100 PCIe 80GB'
    "A40-48GB": "gpus.a40",
    "H100-SXM5-80GB": "gpus.h100_sxm",
    "H200-SXM-141GB": "gpus.h200_sxm",
    "B200-180GB": "gpus.b200",                          # DGX B200 (perf-overview.md: 'B200 180GB (DGX B200)')
    "L40S-48GB": "gpus.l40s",
    "L40-48GB": "gpus.l40",                            # nvidia-smi 'L40' (DLI TensorRT-LLM 0.9.0 sweep)
    "H100-NVL-94GB": "gpus.h100_nvl",                  # nvidia-smi 'H100 NVL' (94 GB; same sweep)
    "RTX-PRO-6000-Server": "gpus.rtx_pro_6000_server",  # perf-overview.md: 'RTX 6000 Pro Blackwell Server Edition'
    "RTX-3090-24GB": "gpus.rtx_3090",
    "RTX-4090-24GB": "gpus.rtx_4090",
    "Apple-M2-Ultra-76c-192GB": "gpus.apple_m2_ultra",  # 76-core GPU variant
    # 40-core GPU variant with 64 GB (400 GB/s; the 30-core part has 300 GB/s)
    "Apple-M3-Max-40c-64GB": "gpus.apple_m3_max { memory = 64 GB }",
    "MI250X-1GCD": "gpus.mi250x_gcd",
    "MI300X-192GB": "gpus.mi300x",
    # the PCIe card: 16 GB and 112 TFLOPS of fp16 tensor math (NVIDIA V100 datasheet, PCIe column; the
    # SXM2 entry's 125); the same 900 GB/s
    "V100-PCIE-16GB": ("gpus.v100 { memory = 16 GB, fp16_flops = 112 TFLOPS, bf16_flops = 112 TFLOPS, "
                       "fp8_flops = 112 TFLOPS, fp4_flops = 112 TFLOPS }"),
    # VM2's card: 22.07 GiB reported is a 24 GB GDDR6 part with ECC on (24 GiB x 15/16 less the
    # driver's share), an A10/L4-class card: gpus.a10 (docs/serving.md, device_memory).
    "24GB-class GPU reporting 22.07 GiB": "gpus.a10",
}

PRECISIONS: dict[str, str] = {
    "bf16": "precisions.bf16",
    "fp16": "precisions.fp16",                           # llama.cpp F16 GGUF weights and its default F16 KV cache too
    "fp8": "precisions.fp8",
    "nvfp4": "precisions.nvfp4",                         # ModelOpt NVFP4 checkpoints (nvidia/*-FP4)
    "int8": "precisions.int8",                           # weight-only int8
    # gpt-fast int4, group size 32: a bf16 scale and a bf16 zero per group (quantize.py pack_scales_and_zeros)
    "int4-g32": "precisions.int4_bf16_zeros { group_size = 32 }",
    # MLC q4f16_1: int4 with one fp16 scale per 32 and no zero point (mlc-llm quantization registry)
    "int4-g32-sym": "precisions.int4 { group_size = 32, scale_bits = 16 }",
    # llama.cpp GGUF Q4_0: blocks of 32 4-bit weights with one fp16 scale, no zero point (ggml-common.h
    # block_q4_0: ggml_half d; uint8_t qs[16]): 4.5 bits a weight, the MLC q4f16_1 layout
    "q4_0": "precisions.int4 { group_size = 32, scale_bits = 16 }",
    # AWQ int4, group 128 (lmdeploy lite auto_awq --w-group-size 128 default): an fp16 scale and a zero
    # per group; precisions.int4 counts the zero packed as 4 bits (TurboMind's own layout may keep it wider)
    "int4-awq-g128": "precisions.int4",
    # GGUF Q8_0: 32 int8 weights and one fp16 scale (8.5 bits); Q4_1: 32 4-bit weights, an fp16 scale and an fp16
    # minimum (5 bits) (ggml-common.h block_q8_0, block_q4_1)
    "q8_0": "precisions.int8 { group_size = 32, scale_bits = 16 }",
    "q4_1": "precisions.int4 { group_size = 32, scale_bits = 32 }",
}


def _num(x: float) -> str:
    """A number as .infer text: integers bare, else up to 12 significant digits."""
    if float(x) == int(x):
        return str(int(x))
    return f"{x:.12g}"


# ================================================================================== CSV rows
@dataclass(frozen=True)
class Row:
    """One line of measured.csv, as read (strings) plus the numbers it states."""

    id: str
    model: str
    gpu: str
    gpu_count: int
    weights: str
    kv_cache: str
    tp: int
    batch: int | None
    prompt: int | None
    output: int | None
    framework: str
    metric: str
    value: float
    unit: str
    confidence: str
    source: str
    note: str
    pp: int = 1          # pipeline stages, from an optional `pp` column; other GPUs are replicas


COLUMNS = ("id", "model", "gpu", "gpu_count", "weights", "kv_cache", "tp", "batch", "prompt_tokens",
           "output_tokens", "framework", "metric", "value", "unit", "confidence", "source", "note")


class MissingCSV(Exception):
    """The measurements file is not where it was looked for."""


def default_csv() -> Path:
    """validation/measured.csv: inside the installed package (the wheel ships it as
    lang/validation/), or in the source tree this package runs from."""
    here = Path(__file__).resolve().parent.parent
    for path in (here / "lang" / "validation" / "measured.csv", here / "validation" / "measured.csv"):
        if path.is_file():
            return path
    raise MissingCSV(
        f"no measurements at {here / 'validation' / 'measured.csv'}: pass --csv FILE "
        "(the repository's validation/measured.csv)")


def _int(text: str, column: str, rid: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"row {rid}: `{column}` is `{text}`, not a number") from None
    if not math.isfinite(value) or value != int(value) or value < 0:
        raise ValueError(f"row {rid}: `{column}` is `{text}`, not a whole number")
    return int(value)


def read_records(path: Path, columns: Sequence[str], prefix: str = "") -> list[tuple[int, dict[Any, Any]]]:
    """The CSV's records as (line number, column -> text), those whose `id` starts with `prefix`;
    ValueError when a column is missing. One reader for measured.csv and features.csv."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
        return [(reader.line_num, raw) for raw in reader if (raw.get("id") or "").strip().startswith(prefix)]


def load_rows(path: Path) -> list[Row]:
    """Read measured.csv; ValueError names the first malformed row."""
    rows = []
    for line, raw in read_records(path, COLUMNS):
        try:
            rows.append(_row(raw))
        except ValueError as err:
            raise ValueError(f"{path}:{line}: {err}") from None
    ids = [r.id for r in rows]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"{path}: duplicate row id{'s' if len(dup) > 1 else ''} {', '.join(dup)}")
    return rows


def _row(raw: dict[Any, Any]) -> Row:
    """One CSV record as a Row; ValueError says what is wrong with it."""
    short = [c for c in COLUMNS if raw.get(c) is None]
    if short:
        raise ValueError(f"the row has {len(COLUMNS) - len(short)} of {len(COLUMNS)} columns "
                         f"(no {', '.join(short)})")
    if raw.get(None):
        raise ValueError(f"the row has {len(raw[None])} more column{'s' if len(raw[None]) > 1 else ''} "
                         "than the header")
    rid = raw["id"].strip()
    try:
        value = float(raw["value"])
    except ValueError:
        raise ValueError(f"row {rid}: value `{raw['value']}` is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"row {rid}: value `{raw['value']}` is not a finite number")
    return Row(
        id=rid, model=raw["model"].strip(), gpu=raw["gpu"].strip(),
        gpu_count=_int(raw["gpu_count"], "gpu_count", rid) or 1,
        weights=raw["weights"].strip(), kv_cache=raw["kv_cache"].strip(),
        tp=_int(raw["tp"], "tp", rid) or 1, batch=_int(raw["batch"], "batch", rid),
        prompt=_int(raw["prompt_tokens"], "prompt_tokens", rid),
        output=_int(raw["output_tokens"], "output_tokens", rid),
        framework=raw["framework"].strip(), metric=raw["metric"].strip(), value=value,
        unit=raw["unit"].strip(), confidence=raw["confidence"].strip(),
        source=raw["source"].strip(), note=(raw["note"] or "").strip(),
        pp=_int(raw.get("pp") or "", "pp", rid) or 1)


# ================================================================================== engines
@dataclass(frozen=True)
class Setting:
    """One serving.deployment input a row sets: its .infer text."""

    name: str
    text: str


# The row's `framework` column -> the stdlib/engines.infer record that serves it. Every engine
# rule (memory, batching, LM-head sharding and quantisation, attention kernels, the unit its
# logs print) lives in that record; this table only names it. Matched by prefix, first match
# wins, case-insensitive ("vLLM V0 (~0.7)" is vllm_v0, any other "vLLM ..." is V1).
ENGINES: tuple[tuple[str, str], ...] = (
    ("gpt-fast", "gpt_fast"),
    ("tensorrt-llm 0.5", "tensorrt_llm_0_6"),
    ("tensorrt-llm 0.6", "tensorrt_llm_0_6"),
    ("tensorrt-llm 0.7", "tensorrt_llm_0_7"),
    ("tensorrt-llm 0.9", "tensorrt_llm_0_9"),
    ("tensorrt-llm trtllm-bench", "tensorrt_llm_bench"),
    ("tensorrt-llm", "tensorrt_llm"),
    ("trt-llm", "tensorrt_llm"),
    ("nim", "tensorrt_llm"),
    ("vllm v0 (rocm", "vllm_v0_rocm"),
    ("vllm v0", "vllm_v0"),
    ("vllm", "vllm"),
    ("sglang", "sglang"),
    ("lmdeploy v0.1", "lmdeploy_0_1"),
    ("lmdeploy turbomind v0.1", "lmdeploy_0_1"),
    ("lmdeploy", "lmdeploy"),
    ("llama.cpp build 1391", "llama_cpp_2023"),     # Oct 2023: no soft_max_ext (25 kernels)
    ("llama.cpp (aug 2023)", "llama_cpp_2023"),
    ("llama.cpp (may 2024)", "llama_cpp_2024"),     # unfused graph, CUDA graphs (PR 6766)
    ("llama.cpp", "llama_cpp"),                     # current master (Oct 2025: fused CUDA graph)
    ("fastertransformer", "faster_transformer"),
)


def engine_for(framework: str) -> str | None:
    """The engines.infer record name for a `framework` column, or None."""
    key = framework.strip().lower()
    for prefix, name in ENGINES:
        if key.startswith(prefix):
            return name
    return None


# Engines a row names that have no stdlib/engines.infer record: a record is added only with a
# sourced figure for its memory rule and overheads, so their rows are listed as unmapped.
UNRECORDED_ENGINES: dict[str, str] = {
    "mlc llm": ("no `engines.mlc_llm` record: MLC LLM's memory rule and per-step overhead have no "
                "sourced figure in the repository yet (and the row states neither prompt nor output length)"),
}

# The quantity a row with no batch is read as: throughput at the largest batch that fits.
SATURATION_QUANTITY = "max_throughput_per_gpu"


def unmapped_reason(row: Row) -> str | None:
    """Why a well-formed row is not predicted (listed in the report, never dropped), or None.

    Rows with no batch are predicted at `max_throughput_per_gpu` only when their note says they
    are throughput at saturation ("max load") with fixed lengths; the model reads one prompt and
    one output length, and TP (with dp replicas), not expert parallelism with attention DP."""
    key = row.framework.strip().lower()
    for prefix, reason in UNRECORDED_ENGINES.items():
        if key.startswith(prefix):
            return reason
    if row.batch is None and row.metric == "output_tokens_per_s_per_gpu":
        note = row.note.lower()
        if re.search(r"lengths vary|vary per request", note) or not (row.prompt and row.output):
            return ("throughput over requests of varying prompt and output lengths (the dataset's "
                    "distribution): `serving.deployment` reads one prompt and one output length")
        if "max load" not in note:
            return "no batch, and the note does not say the figure is throughput at saturation (max load)"
        if re.search(r"--ep\b|attention dp", note):
            return ("expert parallelism with attention data parallelism: `serving.deployment` models "
                    "tensor parallelism (and dp replicas of a whole TP group), not EP + attention DP")
    return None


def quantity_of(row: Row) -> str:
    """The serving.deployment field a row is compared with: its metric's, or, for throughput
    measured at max load (no batch), the throughput at the largest batch that fits."""
    if row.batch is None and row.metric == "output_tokens_per_s_per_gpu":
        return SATURATION_QUANTITY
    return METRICS[row.metric].quantity


def _note_number(row: Row, pattern: str) -> float | None:
    m = re.search(pattern, row.note)
    return float(m.group(1)) if m else None


# Hardware a source states it ran differently from the datasheet: (gpu column, power cap in W)
# -> memory bandwidth sustained. gpt-fast's README: A100s power-capped at 330 W, "Empirically,
# seems like peak bandwidth is about 1700 GB/s" (pytorch-labs/gpt-fast README.md @32971d3).
# That is a peak streaming figure, what BabelStream measures (gpus.infer `stream_bandwidth`:
# 1.75 TB/s uncapped), so it replaces serving.infer's `memory_bandwidth` (the sustained stream)
# and decode kernels reach `mbu` of it, as on every other row.
POWER_CAPS: dict[tuple[str, int], str] = {("A100-SXM4-80GB", 330): "1.7 TB/s"}
# Sources whose every run states a power cap once, for all its tables: gpt-fast's README and
# mixtral-moe/README.md ("8xA100-80GB, power limited to 330W").
SOURCE_POWER_CAP: dict[str, int] = {"pytorch-labs/gpt-fast": 330}


def stated_settings(row: Row) -> list[Setting]:
    """Settings the row's note states (generic, not per engine): the engine with a stated
    memory fraction (`--mem-fraction-static F`, `gpu_memory_utilization F`), `max_model_len N`,
    a batch limit the run's log prints (`Max Runtime Batch Size: N`, rows at max load), and a
    stated power cap of a card whose capped bandwidth is known."""
    engine = engine_for(row.framework)
    s: list[Setting] = []
    fraction = _note_number(row, r"(?:--mem-fraction-static|gpu[_-]memory[_-]utilization|"
                                 r"free[_-]gpu[_-]mem(?:ory)?[_-]fraction)[\s=:]+([0-9.]+)")
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f"the stated memory fraction {fraction} is not a fraction")
    # the run's shape, for an engine that sizes its buffers for the batch it is set up for
    # (engines.infer `static_batch`, `static_prompt`; unused by continuous-batching engines)
    shape = [f"static_batch = {row.batch}"] if row.batch else []
    shape += [f"static_prompt = {row.prompt} token"] if row.prompt else []
    # a run at max load whose log prints the engine's batch limit (trtllm-bench's 'Max Runtime
    # Batch Size'): the limit of that run's engine build, in place of the record's default
    max_batch = _note_number(row, r"Max Runtime Batch Size:?\s*(\d+)")
    if max_batch is not None and row.batch is None:
        shape.append(f"max_sequences = {int(max_batch)}")
    s.append(Setting("engine", f"engines.{engine}" + (f" {{ {', '.join(shape)} }}" if shape else "")))
    if fraction is not None:
        s.append(Setting("memory_utilization", f"{_num(100 * fraction)} %"))
    length = _note_number(row, r"max[_-]model[_-]len\s*[=:]?\s*(\d+)")
    if length is not None:
        s.append(Setting("max_model_len", f"{int(length)} token"))
    watts = _note_number(row, r"(\d+) W\b")
    if watts is None:
        watts = next((w for src, w in SOURCE_POWER_CAP.items() if row.source.startswith(src)), None)
    if watts is not None and (row.gpu, int(watts)) in POWER_CAPS:
        s.append(Setting("memory_bandwidth", POWER_CAPS[(row.gpu, int(watts))]))
    return s


# =================================================================================== metrics
@dataclass(frozen=True)
class Metric:
    name: str
    quantity: str                     # the serving.deployment field the metric reads
    kind: str                         # "time" (lower is faster), "rate" (higher is faster), "size"
    units: tuple[str, ...]            # units the CSV may give
    reads: str                        # how the prediction is formed (docs)


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("decode_tokens_per_s", "itl", "rate", ("token/s",), "1 token / `itl`"),
    Metric("ttft", "ttft", "time", ("ms", "s"), "`ttft`"),
    # one sequence's time between tokens at the row's batch (a median where the source gives percentiles)
    Metric("itl", "itl", "time", ("ms",), "`itl`"),
    Metric("output_tokens_per_s_per_gpu", "static_throughput_per_gpu", "rate", ("token/s",),
           "`static_throughput_per_gpu` (a row at max load, with no batch: `max_throughput_per_gpu`, "
           "the throughput at the largest batch that fits)"),
    Metric("peak_memory", "memory_per_gpu", "size", ("GB", "GiB"), "`memory_per_gpu`"),
    Metric("kv_cache_blocks", "kv_capacity_tokens", "size", ("block",), "`kv_capacity_tokens` / `block_size`"),
    Metric("kv_cache_tokens", "kv_capacity_tokens", "size", ("token",), "`kv_capacity_tokens`"),
)}


@dataclass(frozen=True)
class Target:
    kind: str          # "mape": the metric's MAPE; "each": every row (known outliers excepted)
    limit: float
    label: str


TARGETS: dict[str, Target] = {
    "decode_tokens_per_s": Target("mape", 0.15, "batch-1 decode: MAPE <= 15 %"),
    "ttft": Target("mape", 0.25, "TTFT: MAPE <= 25 %"),
    "output_tokens_per_s_per_gpu": Target("mape", 0.25, "static-batch throughput: MAPE <= 25 %"),
    "kv_cache_blocks": Target("each", 0.02, "KV capacity: each row within 2 %"),
    "kv_cache_tokens": Target("each", 0.02, "KV capacity: each row within 2 %"),
}

# A row is "far off" beyond these; each far row should have its reason in KNOWN_OUTLIERS.
FAR = {"time": 0.15, "rate": 0.15, "size": 0.05}
