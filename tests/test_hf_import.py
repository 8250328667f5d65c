"""`infer import hf`: every fixture config.json imports to the same model as the catalog entry.

Each fixture in tests/fixtures/hf/ is imported, written beside a small spec that imports
it (the documented convention: `from NAME import NAME`), and evaluated in the language;
its parameter count and KV bytes per token must match the stdlib's entry for the model
(KV exactly, parameters within 0.5 %). Broken configs are diagnostics, never tracebacks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from lang.diagnostics import InferError
from lang.hf import FAMILIES, import_config
from lang.resolve import build_graph
from solver.cli import main
from solver.evaluate import Evaluator

FIXTURES = REPO / "tests" / "fixtures" / "hf"

# fixture file stem → the stdlib entry for the same model
CATALOG_NAME = {
    "deepseek_v3": "deepseek_v3",
    "falcon_7b": "falcon_7b",
    "gemma_2_9b": "gemma_2_9b",
    "gpt_j_6b": "gpt_j_6b",
    "llama_3_1_70b": "llama_3_1_70b",
    "llama_3_1_8b": "llama_3_1_8b",
    "mistral_7b": "mistral_7b",
    "mixtral_8x7b": "mixtral_8x7b",
    "phi_3_mini_4k": "phi_3_mini",
    "qwen2_5_7b": "qwen2_5_7b",
    "qwen3_235b_a22b": "qwen3_235b_a22b",
    "qwen3_8b": "qwen3_8b",
}
EXPECTED_FIXTURES = set(CATALOG_NAME)

# Inputs that must agree field by field (the import reads the same config.json keys the
# catalog entry was written from).
SHAPE = ["layers", "hidden", "heads", "kv_heads", "head_dim", "intermediate", "vocab", "max_context",
         "tied_embeddings", "mlp_matrices", "experts", "experts_per_token", "shared_experts",
         "moe_intermediate", "dense_layers", "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim",
         "qk_nope_head_dim", "v_head_dim", "sliding_window", "sliding_layers", "norms_per_layer"]

# The text_config of google/gemma-3-27b-it's config.json, as quoted verbatim in a public
# repository (a Gemma 3 reimplementation's GEMMA3_27B_TEXT constant), wrapped the way the
# multimodal config.json wraps it. Gemma 3 has no fixture file of its own.
GEMMA_3_27B = {
    "architectures": ["Gemma3ForConditionalGeneration"],
    "model_type": "gemma3",
    "text_config": {
        "architectures": ["Gemma3ForCausalLM"], "head_dim": 128, "hidden_size": 5376,
        "intermediate_size": 21504, "model_type": "gemma3_text", "num_attention_heads": 32,
        "num_hidden_layers": 62, "num_key_value_heads": 16, "query_pre_attn_scalar": 168,
        "rope_scaling": {"factor": 8.0, "rope_type": "linear"}, "sliding_window": 1024,
        "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0",
    },
    "vision_config": {"hidden_size": 1152, "model_type": "siglip_vision_model"},
}

# gpt-oss-120b: the shape keys of openai/gpt-oss-120b's config.json (trimmed: rope, quantization
# and token ids left out), as the catalog entry records them.
GPT_OSS_120B = {
    "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "hidden_size": 2880,
    "intermediate_size": 2880, "head_dim": 64, "num_attention_heads": 64, "num_key_value_heads": 8,
    "num_hidden_layers": 36, "num_local_experts": 128, "num_experts_per_tok": 4, "experts_per_token": 4,
    "vocab_size": 201088, "max_position_embeddings": 131072, "sliding_window": 128,
    "tie_word_embeddings": False,
    "layer_types": ["sliding_attention", "full_attention"] * 18,
}


# Vision-language configs import to stdlib/vision.infer's records: tests/test_hf_vision.py covers them.
VISION_FIXTURES = {"qwen2_5_vl_7b", "llama_3_2_90b_vision"}


def _fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*.json") if p.stem not in VISION_FIXTURES)


def test_fixture_set_is_complete() -> None:
    present = {p.stem for p in _fixtures()}
    assert EXPECTED_FIXTURES <= present, f"missing fixtures: {sorted(EXPECTED_FIXTURES - present)}"


def _evaluate(tmp_path: Path, config: Path, name: str, catalog: str) -> dict[str, object]:
    """Import `config` as `name.infer`, evaluate it beside the catalog entry, return values."""
    (tmp_path / f"{name}.infer").write_text(import_config(config, name), encoding="utf-8")
    fields = ["params", "active_params", "kv_elements_per_layer", *SHAPE]
    body = [f"from {name} import {name}", "import models", "from precisions import bf16"]
    body.append(f"imported_kv: B = {name}.layers * {name}.kv_elements_per_layer * bf16.bytes_per_element")
    body.append(f"catalog_kv: B = models.{catalog}.layers * models.{catalog}.kv_elements_per_layer"
                " * bf16.bytes_per_element")
    for f in fields:
        body.append(f"imported_{f} = {name}.{f}")
        body.append(f"catalog_{f} = models.{catalog}.{f}")
    spec = tmp_path / "spec.infer"
    spec.write_text("\n".join(body) + "\n", encoding="utf-8")
    graph = build_graph(spec)
    assert not [w for w in graph.warnings if w.span and w.span.file.endswith(f"{name}.infer")], \
        "the imported record checks without warnings"
    return Evaluator(graph).values()  # type: ignore[return-value]


def _compare(values: dict[str, object], label: str) -> None:
    assert values["imported_kv"] == values["catalog_kv"], (
        f"{label}: KV bytes/token {values['imported_kv']} vs catalog {values['catalog_kv']}")
    imported, catalog = values["imported_params"], values["catalog_params"]
    assert abs(float(imported) / float(catalog) - 1) <= 0.005, (  # type: ignore[arg-type]
        f"{label}: params {imported} vs catalog {catalog}")
    differ = [f for f in SHAPE if values[f"imported_{f}"] != values[f"catalog_{f}"]]
    assert not differ, {f: (values[f"imported_{f}"], values[f"catalog_{f}"]) for f in differ}


@pytest.mark.parametrize("config", _fixtures(), ids=lambda p: p.stem)
def test_import_matches_catalog(tmp_path: Path, config: Path) -> None:
    catalog = CATALOG_NAME.get(config.stem)
    assert catalog is not None, f"map fixture {config.name} to its catalog entry in CATALOG_NAME"
    values = _evaluate(tmp_path, config, config.stem, catalog)
    _compare(values, config.stem)


@pytest.mark.parametrize(("config", "catalog"), [(GEMMA_3_27B, "gemma_3_27b"), (GPT_OSS_120B, "gpt_oss_120b")],
                         ids=["gemma_3_27b", "gpt_oss_120b"])
def test_import_inline_configs(tmp_path: Path, config: dict[str, object], catalog: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    values = _evaluate(tmp_path, path, f"imported_{catalog}", catalog)
    _compare(values, catalog)


def test_kv_exact_values(tmp_path: Path) -> None:
    values = _evaluate(tmp_path, FIXTURES / "llama_3_1_70b.json", "llama_3_1_70b", "llama_3_1_70b")
    assert values["imported_kv"] == 327680
    values = _evaluate(tmp_path, FIXTURES / "deepseek_v3.json", "deepseek_v3", "deepseek_v3")
    assert values["imported_kv"] == 61 * (512 + 64) * 2 == 70272


def test_output_format(tmp_path: Path) -> None:
    text = import_config(FIXTURES / "falcon_7b.json", "falcon_7b")
    assert "\nimport models\n" in text
    assert "\nfalcon_7b = models.transformer {\n" in text
    assert "from falcon_7b import falcon_7b" in text, "the header says how to import it"
    fields = [line for line in text.splitlines() if line.startswith("  ") and " = " in line
              and not line.lstrip().startswith("#")]
    for line in fields:
        value = re.sub(r'"[^"]*"', '""', line.split("#")[0].split("=", 1)[1])
        if any(ch.isdigit() for ch in value):
            assert "#" in line, f"a number without the key it came from: {line}"
    assert "n_layer" in text and "multi_query" in text and "kv_heads = 1" in text


def test_default_name(tmp_path: Path) -> None:
    text = import_config(FIXTURES / "mistral_7b.json")
    assert "\nmistral_7b = models.transformer {" in text
    cfg = json.loads((FIXTURES / "phi_3_mini_4k.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    # a file called config.json is named after its `_name_or_path`
    assert "\nphi_3_mini_4k_instruct = models.transformer {" in import_config(tmp_path / "config.json")


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", "hf", str(FIXTURES / "qwen3_8b.json"), "--name", "my_model"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("# my_model.infer")
    (tmp_path / "my_model.infer").write_text(out)
    (tmp_path / "spec.infer").write_text("import my_model\nimport models\n"
                                         "params = my_model.my_model.params\n"
                                         "catalog = models.qwen3_8b.params\n")
    values = Evaluator(build_graph(tmp_path / "spec.infer")).values()
    assert values["params"] == values["catalog"] == 8190726144


def test_every_family_is_documented() -> None:
    doc = (REPO / "docs" / "stdlib.md").read_text(encoding="utf-8")
    assert "## Importing a Hugging Face config" in doc
    section = doc.split("## Importing a Hugging Face config", 1)[1]
    for model_type in FAMILIES:
        assert f"`{model_type}`" in section, f"model_type {model_type} is not listed in docs/stdlib.md"


# --- errors ------------------------------------------------------------------------------------------


def _write(tmp_path: Path, data: object, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_unknown_model_type(tmp_path: Path) -> None:
    path = _write(tmp_path, {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12})
    with pytest.raises(InferError) as info:
        import_config(path)
    (d,) = info.value.diagnostics
    assert d.code == "E0601" and "bert" in d.message and d.message[0].islower()
    assert d.span is not None and d.span.line == 2, "the carets point at the model_type value"
    assert any("llama" in h for h in d.help)


def test_missing_keys_are_named(tmp_path: Path) -> None:
    cfg = json.loads((FIXTURES / "llama_3_1_8b.json").read_text())
    del cfg["num_hidden_layers"]
    del cfg["vocab_size"]
    with pytest.raises(InferError) as info:
        import_config(_write(tmp_path, cfg))
    (d,) = info.value.diagnostics
    assert d.code == "E0601"
    assert "num_hidden_layers" in d.message and "vocab_size" in d.message
    assert d.message == d.message[0].lower() + d.message[1:]


def test_missing_mla_key(tmp_path: Path) -> None:
    cfg = json.loads((FIXTURES / "deepseek_v3.json").read_text())
    del cfg["kv_lora_rank"]
    with pytest.raises(InferError, match="kv_lora_rank"):
        import_config(_write(tmp_path, cfg))


@pytest.mark.parametrize(("data", "code", "words"), [
    ({"model_type": "bert"}, "E0601", ["bert"]),
    ({"model_type": "llama", "hidden_size": 4096, "num_attention_heads": 32, "vocab_size": 32000,
      "intermediate_size": 11008, "max_position_embeddings": 4096}, "E0601", ["num_hidden_layers"]),
    ({"hidden_size": 4096}, "E0601", ["model_type"]),
    ("not json {", "E0603", ["not valid json"]),
    ([1, 2], "E0603", ["no json object"]),
])
def test_cli_errors_exit_1_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             data: object, code: str, words: list[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    status = main(["import", "hf", str(path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert out == ""
    assert f"error[{code}]" in err and "Traceback" not in err
    for word in words:
        assert word in err.lower()


def test_cli_bad_name_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "hf", str(FIXTURES / "qwen3_8b.json"), "--name", "3d-model"]) == 1
    assert "error[E0602]" in capsys.readouterr().err
    assert main(["import", "hf", str(FIXTURES / "qwen3_8b.json"), "--name", "GB"]) == 1
    assert "unit" in capsys.readouterr().err
    assert main(["import", "hf", str(tmp_path / "absent.json")]) == 1
    assert "error[E0603]" in capsys.readouterr().err


def test_console_script_exit_code(tmp_path: Path) -> None:
    """The installed command: exit 1 and a diagnostic on stderr, no Python traceback."""
    path = _write(tmp_path, {"model_type": "llama", "hidden_size": 64})
    proc = subprocess.run([sys.executable, "-m", "solver.cli", "import", "hf", str(path)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 1
    assert "error[E0601]" in proc.stderr and "Traceback" not in proc.stderr
    assert "num_hidden_layers" in proc.stderr
