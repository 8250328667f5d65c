"""`infer import hf` for vision-language configs: the text model plus a `vision.tower` record.

A VLM's config.json holds a text model (top-level keys, or `text_config`) and a `vision_config`.
The text part goes through the ordinary importer (`lang.hf.record_fields`, as the text family
it is); the vision part is read here, key by key, into a `vision = vision.tower { ... }` field
of the same record, in stdlib/vision.infer's format. Two families are read:

- `qwen2_5_vl` (Qwen2.5-VL): dynamic resolution, 2x2 merger, window attention.
- `mllama` (Llama 3.2 Vision): 560 px tiles, cross-attention layers.

Any other config with a `vision_config` (llava, llava_next, internvl_chat, pixtral, qwen2_vl, ...)
is an E0604 naming what cannot be imported and how to write it by hand; Gemma 3 keeps its
text-only import (lang.hf notes that its tower is left out).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lang.diagnostics import Diagnostic, InferError, SourceMap
from lang.hf import COMMENT_COLUMN, Line, _check_name, _ident, _line, _Reader, _text, record_fields

__all__ = ["VISION_FAMILIES", "import_vision_config", "is_vision_config"]

# model_type of the whole config -> (the text family lang.hf reads, where the text keys are)
VISION_FAMILIES: dict[str, str] = {"qwen2_5_vl": "qwen2", "mllama": "llama"}

# Qwen2VLImageProcessor defaults (preprocessor_config.json, not config.json, holds them)
_QWEN_MIN_PIXELS = 3136
_QWEN_MAX_PIXELS = 12845056


def is_vision_config(cfg: dict[str, Any]) -> bool:
    """A VLM this module handles, or one it must refuse (a vision_config lang.hf cannot read)."""
    from lang.hf import FAMILIES

    model_type = cfg.get("model_type")
    if not isinstance(model_type, str):  # lang.hf says what is wrong with it
        return False
    if model_type in VISION_FAMILIES:
        return True
    return isinstance(cfg.get("vision_config"), dict) and model_type not in FAMILIES


def _refuse(cfg: dict[str, Any], display: str) -> None:
    model_type = cfg.get("model_type")
    raise InferError([Diagnostic(
        "E0604", f"`{display}` is a vision-language model (model_type `{model_type}`) whose "
        "vision_config this importer cannot read", None,
        help=(f"the vision_config of model_types {', '.join(sorted(VISION_FAMILIES))} is imported",
              "import the text model alone: save its `text_config` (or llm_config) as a config.json "
              "and run `infer import hf` on that",
              "then add `vision = vision.tower { rule = ..., layers = ..., ... }` by hand "
              "(stdlib/vision.infer shows every field, with LLaVA, InternVL and Pixtral written out)"))])


def _text_config(cfg: dict[str, Any], family: str) -> tuple[dict[str, Any], str]:
    """The text model's keys as a config lang.hf reads, and where they came from."""
    inner = cfg.get("text_config")
    if isinstance(inner, dict) and inner.get("hidden_size") is not None:
        text = dict(inner)
        where = "text_config"
        if "tie_word_embeddings" not in text and "tie_word_embeddings" in cfg:
            text["tie_word_embeddings"] = cfg["tie_word_embeddings"]
    else:
        text = {k: v for k, v in cfg.items() if k != "vision_config"}
        where = "the top-level keys"
    text["model_type"] = family
    return text, where


def _vision_lines(cfg: dict[str, Any], model_type: str, text: dict[str, Any]) -> list[Line]:
    r = _Reader(cfg["vision_config"], "vision_config.")
    lines: list[Line] = []

    def add(name: str, value: str, comment: str) -> None:
        lines.append(Line(name, value, comment))

    if model_type == "qwen2_5_vl":
        depth, k_depth = r.need("depth")
        hidden, k_hidden = r.need("hidden_size")
        heads, k_heads = r.need("num_heads")
        inter, k_inter = r.need("intermediate_size")
        patch, k_patch = r.need("patch_size")
        merge, k_merge = r.need("spatial_merge_size")
        out, k_out = r.need("out_hidden_size")
        add("rule", '"dynamic"', "native resolution, spatial_merge_size x spatial_merge_size patches a token")
        add("layers", str(depth), k_depth)
        add("hidden", str(hidden), k_hidden)
        add("heads", str(heads), k_heads)
        add("intermediate", str(inter), k_inter)
        add("mlp_matrices", "3", "gated MLP: gate_proj, up_proj, down_proj")
        add("patch", f"{patch} px", k_patch)
        temporal = r.first("temporal_patch_size")
        if temporal is not None:
            add("temporal_patch", str(temporal[0]), temporal[1])
        add("merge", str(merge), k_merge)
        add("min_pixels", f"{_QWEN_MIN_PIXELS} px^2", "Qwen2VLImageProcessor default min_pixels")
        add("max_pixels", f"{_QWEN_MAX_PIXELS} px^2", "Qwen2VLImageProcessor default max_pixels")
        full = r.cfg.get("fullatt_block_indexes")
        window = r.first("window_size")
        if isinstance(full, list) and window is not None and patch:
            add("full_attention_layers", str(len(full)), f"len(vision_config.fullatt_block_indexes) {full}")
            add("window_patches", str(int(window[0] // patch) ** 2),
                f"({window[1]} {window[0]} px / {patch} px)^2")
        add("attention_buffers", "12", "vLLM's Qwen2.5-VL vision attention rotates q, k in fp32")
        add("text_hidden", str(out), k_out)
        add("projector_params", "(4 * hidden) * (4 * hidden) + (4 * hidden) * text_hidden",
            "merger: Linear(4 x hidden, 4 x hidden), GELU, Linear(4 x hidden, out_hidden_size)")
    else:  # mllama
        local, k_local = r.need("num_hidden_layers")
        glob, k_glob = r.need("num_global_layers")
        hidden, k_hidden = r.need("hidden_size")
        heads, k_heads = r.need("attention_heads", "num_attention_heads")
        inter, k_inter = r.need("intermediate_size")
        patch, k_patch = r.need("patch_size")
        size, k_size = r.need("image_size")
        tiles, k_tiles = r.need("max_num_tiles")
        out, k_out = r.need("vision_output_dim")
        cross = text.get("cross_attention_layers")
        add("rule", '"cross"', "image states feed cross-attention layers, not the prompt")
        add("layers", str(local + glob), f"{k_local} {local} + {k_glob} {glob}")
        add("hidden", str(hidden), k_hidden)
        add("heads", str(heads), k_heads)
        add("intermediate", str(inter), k_inter)
        add("patch", f"{patch} px", k_patch)
        add("image_size", f"{size} px", k_size)
        add("max_tiles", str(tiles), k_tiles)
        add("extra_tokens_per_tile", "1", "the class embedding of each tile")
        add("text_hidden", str(text.get("hidden_size")), "text_config.hidden_size")
        add("projector_params", f"{out} * text_hidden", f"multi_modal_projector: {k_out} -> hidden_size")
        if isinstance(cross, list):
            add("cross_layers", str(len(cross)), "len(text_config.cross_attention_layers)")
        else:
            r.missing.append("`text_config.cross_attention_layers`")
    if r.missing:
        raise InferError([Diagnostic("E0601", f"config.json is missing key{'s' if len(r.missing) > 1 else ''} "
                                     f"{', '.join(dict.fromkeys(r.missing))} (model_type `{model_type}`)", None,
                                     help=("add the keys, or write the `vision.tower` record by hand",))])
    return lines


def import_vision_config(cfg: dict[str, Any], text: str, path: Path, name: str | None) -> str:
    """The `.infer` module for a vision-language config.json (see the module docstring)."""
    display = str(path)
    model_type = str(cfg.get("model_type"))
    if model_type not in VISION_FAMILIES or not isinstance(cfg.get("vision_config"), dict):
        _refuse(cfg, display)
    text_cfg, where = _text_config(cfg, VISION_FAMILIES[model_type])
    sources = SourceMap()
    sources.add(display, text)
    lines, _family, notes = record_fields(text_cfg, display)
    vision_lines = _vision_lines(cfg, model_type, text_cfg)
    if name is None:
        stem = path.stem
        if stem.lower() == "config":
            stem = str(cfg.get("_name_or_path") or model_type).rstrip("/").rpartition("/")[2]
        name = _ident(stem)
    _check_name(name)
    if name in ("vision", "tower"):
        raise InferError([Diagnostic("E0602", f"`{name}` names what the record's tower is imported from",
                                     None, help=(f"try `--name {name}_model`",))])
    arch = cfg.get("architectures")
    arch_text = f", {arch[0]}" if isinstance(arch, list) and arch else ""
    label = str(cfg.get("_name_or_path") or name)
    out = [
        f"# {name}.infer — a vision-language model imported from a Hugging Face config.json",
        f"#   by `infer import hf {path.name} --name {name}`",
        f"#   from {display} (model_type `{model_type}`{arch_text})",
        "#",
        f"# Save it beside your spec as `{name}.infer`, then write `from {name} import {name}` and",
        "# use it as the model of a `vision.deployment` (stdlib/vision.infer).",
        "#",
        f"# The text model is read from {where}; the tower from vision_config.",
        "# config.json holds no parameter count: set `published_params` from the model card",
        "# (the text model's) to check the derived `params` (`params_error`).",
    ]
    out += [f"# Note: {note}." for note in notes]
    out += ["", "import models", "from vision import tower", "", f"{name} = models.transformer {{",
            _line("label", _text(label), ""), _line("source", _text(label), "")]
    prefix = "text_config." if where == "text_config" else ""
    for line in lines:
        key = line.comment.split(" ", 1)[0]
        comment = prefix + line.comment if prefix and key in text_cfg else line.comment
        out.append(_line(line.field, line.value, comment))
    out.append(f"{'  # published_params = ...'.ljust(COMMENT_COLUMN - 2)}  # the model card's text-model count")
    out.append("  vision = tower {")
    out += ["  " + _line(line.field, line.value, line.comment) for line in vision_lines]
    out += ["  }", "}"]
    return "\n".join(out) + "\n"
