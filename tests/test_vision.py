"""Vision-language models (stdlib/vision.infer): image tokens, encoder cost, memory, validation.

One spec holds a deployment per case and is loaded once for the module.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from conftest import REPO

from solver import validate_vision as VV
from solver.api import Spec

CASES = {
    # name: (model, width, height, images)
    "qwen7_1080p": ("vision.qwen2_5_vl_7b", 1920, 1080, 2),
    "qwen7_none": ("vision.qwen2_5_vl_7b", 1920, 1080, 0),
    "qwen7_tiny": ("vision.qwen2_5_vl_7b", 20, 20, 1),
    "qwen7_huge": ("vision.qwen2_5_vl_7b", 8000, 6000, 1),
    "llava": ("vision.llava_1_5_7b", 1280, 720, 1),
    "llava_next": ("vision.llava_next_7b", 1920, 1080, 1),
    "gemma": ("vision.gemma_3_27b_vision", 1280, 720, 1),
    "pixtral_square": ("vision.pixtral_12b", 1024, 1024, 1),
    "pixtral_1080p": ("vision.pixtral_12b", 1920, 1080, 1),
    "internvl_one_tile": ("vision.internvl3_38b", 448, 448, 1),
    "internvl_1080p": ("vision.internvl3_38b", 1920, 1080, 1),
    "mllama_1080p": ("vision.llama_3_2_11b_vision", 1920, 1080, 1),
    "mllama_none": ("vision.llama_3_2_11b_vision", 1920, 1080, 0),
}

VLMS = ["qwen2_5_vl_3b", "qwen2_5_vl_7b", "qwen2_5_vl_72b", "llama_3_2_11b_vision", "llama_3_2_90b_vision",
        "llava_1_5_7b", "llava_next_7b", "gemma_3_27b_vision", "internvl3_38b", "pixtral_12b"]


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    body = ["import gpus", "import models", "import serving", "import vision"]
    for name, (model, w, h, n) in CASES.items():
        body += [f"{name} = vision.deployment {{", f"  model = {model}", "  gpu = gpus.h100_sxm",
                 "  tp = 2" if "internvl" in name else "",
                 f"  image = {{ width = {w} px, height = {h} px }}", f"  images = {n}",
                 "  text_prompt = 512 token, output = 128 token, batch = 8", "}"]
    body += ["text = serving.deployment {", "  model = vision.qwen2_5_vl_7b", "  gpu = gpus.h100_sxm",
             "  prompt = 512 token, output = 128 token, batch = 8", "}"]
    for name in VLMS:
        body += [f"text_{name} = vision.{name}.params", f"tower_{name} = vision.{name}.vision.params",
                 f"error_{name} = vision.{name}.params_error"]
    path = Path(tmp_path_factory.mktemp("vision")) / "cases.infer"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return Spec.load(path).evaluator.values()  # type: ignore[return-value]


def _tokens(values: dict[str, object], case: str) -> int:
    v = values[f"{case}.tokens_per_image"]
    assert Fraction(str(v)).denominator == 1, f"{case}: {v} tokens is not whole"
    return int(v)  # type: ignore[call-overload]


@pytest.mark.parametrize(("case", "tokens"), [
    ("qwen7_1080p", 39 * 69),        # 1920 x 1080 -> 1932 x 1092 (smart_resize): 69 x 39 tokens
    ("qwen7_tiny", 4),               # below min_pixels 3136: grown to 56 x 56, 2 x 2 tokens
    ("qwen7_huge", 110 * 147),       # above max_pixels: beta = sqrt(48e6 / 12845056), 3080 x 4116
    ("llava", 576),                  # (336 / 14)^2
    ("llava_next", 5 * 576),         # 2 x 2 grid + base image, newline tokens left out
    ("gemma", 256),                  # 64 x 64 patches pooled 4 x 4
    ("pixtral_square", 64 * 65),     # 64 rows of 64 patches + a break token per row
    ("pixtral_1080p", 36 * 65),      # fitted to 1024 x 576
    ("internvl_one_tile", 256),      # one 448 tile, no thumbnail
    ("internvl_1080p", 13 * 256),    # 12 tiles (capped) + the thumbnail
    ("mllama_1080p", 4 * 1601),      # 4 tiles of (560 / 14)^2 + CLS
])
def test_image_tokens(values: dict[str, object], case: str, tokens: int) -> None:
    assert _tokens(values, case) == tokens


def test_dynamic_resolution_stays_within_max_pixels(values: dict[str, object]) -> None:
    h, w = values["qwen7_huge.resized_height"], values["qwen7_huge.resized_width"]
    assert h * w <= 12845056 and h % 28 == 0 and w % 28 == 0  # type: ignore[operator]


def test_image_tokens_join_the_prompt(values: dict[str, object]) -> None:
    assert values["qwen7_1080p.prompt"] == 512 + 2 * 2691
    assert values["qwen7_none.prompt"] == 512
    # cross-attention: the states stay out of the prompt and cache their own K/V in 8 of 40 layers
    assert values["mllama_1080p.prompt"] == 512
    cached = values["mllama_1080p.cached_tokens"]
    cross = values["mllama_1080p.cross_tokens"]
    assert cross == 6416                                       # 6404 states in whole 16-token blocks
    assert values["mllama_1080p.kv_tokens_per_sequence"] == (32 * cached + 8 * cross) / Fraction(40)  # type: ignore[operator]


def test_encoder_costs_time_in_prefill(values: dict[str, object]) -> None:
    assert values["qwen7_none.encoder_time"] == 0
    assert values["qwen7_1080p.encoder_time"] > 0  # type: ignore[operator]
    assert values["qwen7_1080p.ttft"] > values["qwen7_none.ttft"] + values["qwen7_1080p.encoder_time"]  # type: ignore[operator]
    assert values["mllama_1080p.encoder_time"] > 0  # type: ignore[operator]


def test_vision_memory_shrinks_the_kv_pool(values: dict[str, object]) -> None:
    # the tower's weights and vLLM's profiling of the largest image are charged with or without images
    assert values["qwen7_none.vision_memory"] == values["qwen7_1080p.vision_memory"]
    assert values["qwen7_none.kv_budget"] < values["text.kv_budget"]  # type: ignore[operator]
    assert values["qwen7_1080p.max_concurrency"] < values["qwen7_none.max_concurrency"]  # type: ignore[operator]
    assert values["qwen7_1080p.image_kv_memory"] > 0  # type: ignore[operator]


def test_text_deployment_hooks_default_to_zero(values: dict[str, object]) -> None:
    for name in ("encoder_time", "vision_memory", "extra_kv_tokens"):
        assert values[f"text.{name}"] == 0


def test_catalog_sizes_match_published(values: dict[str, object]) -> None:
    for name in VLMS:
        assert abs(float(values[f"error_{name}"])) < 0.01, (name, values[f"error_{name}"])  # type: ignore[arg-type]
    # Gemma 3 report: a 417M vision encoder; Qwen2.5-VL 7B card: 8.29B = 7.61B text + the tower
    assert abs(float(values["tower_gemma_3_27b_vision"]) / 417e6 - 1) < 0.01  # type: ignore[arg-type]
    total = float(values["text_qwen2_5_vl_7b"]) + float(values["tower_qwen2_5_vl_7b"])  # type: ignore[arg-type]
    assert abs(total / 8.29e9 - 1) < 0.01


# ================================================================================ validation
@pytest.fixture(scope="module")
def rows() -> list[VV.VisionRow]:
    return VV.predict()


def test_every_vl_row_is_predicted_or_explained(rows: list[VV.VisionRow]) -> None:
    assert {r.id for r in rows} >= {"VL1", "VL2", "VL3", "VL10", "VL11", "VL12", "VL13"}
    for r in rows:
        assert (r.predicted is None) == bool(r.reason), r.id
    assert sum(r.predicted is not None for r in rows) >= 5


def test_vl_targets(rows: list[VV.VisionRow]) -> None:
    for r in rows:
        if r.predicted is None:
            continue
        if VV.METRICS[r.metric].kind == "tokens":
            assert r.predicted == r.value, f"{r.id}: {r.predicted} tokens, published {r.value}"
        else:
            assert r.met, f"{r.id}: {r.error:+.1%} misses 5 %"


def test_docs_vision_section_is_up_to_date(rows: list[VV.VisionRow]) -> None:
    doc = (REPO / "docs" / "validation.md").read_text(encoding="utf-8")
    assert VV.markdown(rows) in doc, \
        "run `infer validate --feature vision --markdown` and replace the section of docs/validation.md"
