"""`infer validate --feature vision`: predict the `VL*` rows of validation/features.csv.

Method, in five lines:
1. Read the VL rows; map each by explicit tables (model name -> `vision.*` record, GPU name ->
   `gpus.*`, metric -> the quantity that predicts it), never by evaluating CSV text.
2. What the row leaves to its engine comes from one rule per engine (vLLM V0 and V1 defaults for
   `max_num_batched_tokens`); a row that names no GPU but quotes a text model's figure on the
   same setup gets its usable memory from that figure (the same model predicts both).
3. Write one spec holding a record per row, load it once, evaluate the quantities read.
4. error = predicted / measured - 1; targets: image-token counts exact, memory within 5 %.
5. Rows outside the model (video profiling, models not in the catalog) are listed with the reason.

>>> sorted(TARGETS)
['memory', 'tokens']
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from solver.measured import read_records

__all__ = ["GPUS", "METRICS", "MODELS", "TARGETS", "VisionRow", "default_csv", "load_rows",
           "markdown", "predict", "spec_text", "text_report"]

# CSV model names -> catalog records. A name not here is an unmapped row, never a guess.
MODELS: dict[str, str] = {
    "Qwen2.5-VL-3B-Instruct": "vision.qwen2_5_vl_3b",
    "Qwen2-VL / Qwen2.5-VL": "vision.qwen2_5_vl_7b",
    "llava-hf/llava-1.5-7b-hf": "vision.llava_1_5_7b",
    "Gemma 3 (4B and larger)": "vision.gemma_3_27b_vision",
}
GPUS: dict[str, str] = {"A100-40GB": "gpus.a100_40gb_sxm"}

# A text model named in a row's note as measured "on the same setup" -> its catalog record.
COMPANIONS: dict[str, str] = {"Meta-Llama-3-8B-Instruct": "models.llama_3_8b"}


@dataclass(frozen=True)
class Metric:
    kind: str          # "tokens" (exact) or "memory" (within 5 %)
    quantity: str      # the record's field that predicts it
    unit: str


METRICS: dict[str, Metric] = {
    "image_tokens_per_image": Metric("tokens", "tokens_per_image", "token"),
    "max_image_tokens_per_image": Metric("tokens", "max_item_tokens", "token"),
    "max_tokens_per_image_reserved_for_profiling": Metric("tokens", "max_item_tokens", "token"),
    "available_kv_cache_memory": Metric("memory", "kv_budget", "GiB"),
    "num_gpu_blocks": Metric("memory", "kv_capacity_tokens", "block"),
}
TARGETS: dict[str, float] = {"tokens": 0.0, "memory": 0.05}

GiB = 2 ** 30


@dataclass
class VisionRow:
    id: str
    model: str
    gpu: str
    engine: str
    setting: str
    metric: str
    value: float
    unit: str
    note: str
    source: str
    spec: str = ""
    predicted: float | None = None
    reason: str = ""                      # why the row is not mapped

    @property
    def error(self) -> float | None:
        if self.predicted is None or not self.value:
            return None
        return self.predicted / self.value - 1

    @property
    def met(self) -> bool | None:
        if self.error is None:
            return None
        return abs(self.error) <= TARGETS[METRICS[self.metric].kind] + 1e-12


def default_csv() -> Path:
    return Path(__file__).resolve().parent.parent / "validation" / "features.csv"


def load_rows(path: Path | None = None) -> list[VisionRow]:
    return [VisionRow(r["id"], r["model"], r["gpu"], r["engine"], r["setting"], r["metric"],
                      float(r["value"]), r["unit"], r["note"], r["source"])
            for _, r in read_records(path or default_csv(), ("id", "value"), "VL")]


# ================================================================================ engine rules
def _batched_tokens(row: VisionRow, max_model_len: int) -> int:
    """vLLM's default max_num_batched_tokens. V0 (0.5.x, no chunked prefill): max(max_model_len,
    2048) (SchedulerConfig). V1 `vllm serve` below 70 GiB of device memory: 2048 (arg_utils
    default for the OpenAI server)."""
    version = re.search(r"vLLM (\d+)\.(\d+)", row.engine)
    if version and (int(version[1]), int(version[2])) < (0, 6):
        return max(max_model_len, 2048)
    return 2048


def _image(setting: str) -> tuple[int, int] | None:
    m = re.search(r"(\d{2,5})\s*x\s*(\d{2,5})\s*input resolution", setting)
    return (int(m[1]), int(m[2])) if m else None


def _companion(note: str) -> tuple[str, int] | None:
    for name, record in COMPANIONS.items():
        m = re.search(re.escape(name) + r" on the same setup: (\d+) blocks", note)
        if m:
            return record, int(m[1])
    return None


def _unmapped(row: VisionRow) -> str:
    """Why a row is outside the model ("" when it maps)."""
    if row.model not in MODELS:
        return f"`{row.model}` is not in stdlib/vision.infer (nor is its metric `{row.metric}` predicted)"
    if row.metric not in METRICS:
        return f"metric `{row.metric}` is not predicted"
    if "video" in row.setting and '"video": 0' not in row.setting:
        return "profiles a maximum-size video as well: video inputs are not modelled"
    if METRICS[row.metric].kind == "memory" and row.gpu not in GPUS and _companion(row.note) is None:
        return f"GPU `{row.gpu}` is not stated and no figure on the same setup fixes its memory"
    return ""


# ================================================================================ spec
def _record(row: VisionRow) -> str:
    name = f"r_{row.id}"
    model = MODELS[row.model]
    metric = METRICS[row.metric]
    if metric.kind == "tokens":
        width, height = _image(row.setting) or (1, 1)
        return "\n".join([
            f"{name} = vision.deployment {{",
            f"  model = {model}",
            "  gpu = gpus.h100_sxm",
            f"  image = {{ width = {width} px, height = {height} px }}",
            "  text_prompt = 1 token, output = 1 token, batch = 1",
            "  max_item_tokens = vit.max_tokens_per_image",
            "}"])
    max_len = {"vision.qwen2_5_vl_3b": 128000, "vision.llava_1_5_7b": 4096}[model]
    lines = [f"{name} = vision.deployment {{", f"  model = {model}",
             "  text_prompt = 1 token, output = 1 token, batch = 1",
             f"  max_batched_tokens = {_batched_tokens(row, max_len)} token"]
    companion = _companion(row.note) if row.gpu not in GPUS else None
    if companion is None:
        lines.append(f"  gpu = {GPUS[row.gpu]}")
        return "\n".join([*lines, "}"])
    # No GPU stated: the engine's budget is what the companion text model used, as predicted.
    record, blocks = companion
    text = f"{name}_text"
    lines += [f"  gpu = {text}.gpu",
              f"  usable_memory = {text}.weight_memory + {text}.activation_memory + {text}.runtime_memory"
              f" + {blocks} * {text}.block_size * {text}.kv_per_token_per_gpu"]
    companion_len = 8192
    return "\n".join([
        f"{text} = serving.deployment {{", f"  model = {record}", "  gpu = gpus.a100_80gb_sxm",
        "  prompt = 1 token, output = 1 token, batch = 1",
        f"  max_batched_tokens = {_batched_tokens(row, companion_len)} token", "}", *lines, "}"])


def spec_text(rows: list[VisionRow]) -> str:
    body = ["# Generated by solver/validate_vision.py from validation/features.csv (VL rows).",
            "import gpus", "import models", "import serving", "import vision", ""]
    return "\n".join(body + [_record(r) + "\n" for r in rows])


def predict(path: Path | None = None) -> list[VisionRow]:
    """Every VL row with its prediction (in the CSV's unit) or the reason it is not mapped."""
    from solver.api import Spec

    rows = load_rows(path)
    mapped = []
    for row in rows:
        row.reason = _unmapped(row)
        if not row.reason:
            row.spec = _record(row)
            mapped.append(row)
    if not mapped:
        return rows
    with tempfile.TemporaryDirectory(prefix="infer-vision-") as tmp:
        spec_path = Path(tmp) / "vision_validation.infer"
        spec_path.write_text(spec_text(mapped), encoding="utf-8")
        spec = Spec.load(spec_path)
        reads = [f"r_{r.id}.{METRICS[r.metric].quantity}" for r in mapped]
        reads += [f"r_{r.id}.block_size" for r in mapped]
        values = spec.evaluator.values(only=reads)
    for row in mapped:
        q = float(values[f"r_{row.id}.{METRICS[row.metric].quantity}"])
        if row.metric == "num_gpu_blocks":
            q /= float(values[f"r_{row.id}.block_size"])
        elif row.unit == "GiB":
            q /= GiB
        row.predicted = q
    return rows


# ================================================================================ reports
def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"


def _err(row: VisionRow) -> str:
    e = row.error
    return "—" if e is None else f"{e * 100:+.1f} %"


def text_report(rows: list[VisionRow]) -> str:
    out = [f"{'id':<5} {'model':<26} {'metric':<44} {'measured':>10} {'predicted':>10} {'error':>8}  target"]
    for r in rows:
        if r.predicted is None:
            out.append(f"{r.id:<5} {r.model[:26]:<26} {r.metric[:44]:<44} {_num(r.value):>10} {'—':>10} "
                       f"{'—':>8}  not mapped: {r.reason}")
            continue
        ok = "ok" if r.met else "MISSED"
        out.append(f"{r.id:<5} {r.model[:26]:<26} {r.metric[:44]:<44} {_num(r.value):>10} "
                   f"{_num(r.predicted):>10} {_err(r):>8}  {ok}")
    return "\n".join(out) + "\n"


def markdown(rows: list[VisionRow]) -> str:
    """The section of docs/validation.md on vision-language models."""
    done = [r for r in rows if r.predicted is not None]
    out = [
        "## Vision-language models (`infer validate --feature vision`)\n",
        "Generated by `infer validate --feature vision --markdown` from the `VL*` rows of "
        "`validation/features.csv` (`solver/validate_vision.py`; the model is `stdlib/vision.infer`, "
        "written up in `docs/vision.md`). Targets: image-token counts exact, memory within 5 %. "
        f"{len(done)} of {len(rows)} rows are predicted; "
        f"{sum(1 for r in done if r.met)} meet their target.\n",
        "Each row is a `vision.deployment` (one generated spec). What the row leaves to its engine "
        "follows one rule per engine: vLLM before 0.6 (V0) batches max(max_model_len, 2048) tokens in "
        "its profiling pass, later `vllm serve` on a GPU under 70 GiB 2,048; the encoder budget and "
        "the profiled images follow vLLM V1's `compute_encoder_budget`. A row that names no GPU but "
        "quotes a text model's figure on the same setup takes its usable memory from that figure, as "
        "the same model predicts it (the text model's weights, activations and quoted KV blocks).\n",
        "| id | model | GPU | engine | metric | measured | predicted | error | target met |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for r in done:
        out.append(f"| {r.id} | {r.model} | {r.gpu} | {r.engine} | {r.metric} | {_num(r.value)} {r.unit} | "
                   f"{_num(r.predicted or 0)} | {_err(r)} | {'yes' if r.met else 'no'} |")
    skipped = [r for r in rows if r.predicted is None]
    if skipped:
        out.append("\nRows not mapped, and why:\n")
        out += [f"- **{r.id}** ({r.model}, {r.metric}): {r.reason}." for r in skipped]
    return "\n".join(out) + "\n"
