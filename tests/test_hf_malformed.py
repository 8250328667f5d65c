"""`infer import hf` on malformed configs: a diagnostic naming the key, never a traceback or a
hang, and nothing from the config reaches the generated module except numbers and escaped text."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from lang.hf import import_config
from solver.cli import main

BASE: dict[str, Any] = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
                        "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
                        "max_position_embeddings": 512}
DEEPSEEK = dict(BASE, model_type="deepseek_v3", n_routed_experts=8, num_experts_per_tok=2,
                qk_nope_head_dim=128, qk_rope_head_dim=64, kv_lora_rank=512, v_head_dim=128)
QWEN_MOE = dict(BASE, model_type="qwen3_moe", num_experts=8, num_experts_per_tok=2)


def _import(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    start = time.monotonic()
    code = main(["import", "hf", str(path)])
    assert time.monotonic() - start < 5
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests too deeply"),
    ('{"model_type": "llama", "num_hidden_layers": ' + "9" * 5000 + "}", "number too long"),
])
def test_unreadable_json(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: str) -> None:
    code, _, err = _import(capsys, _write(tmp_path, text))
    assert code == 1 and "error[E0603]" in err and expected in err


@pytest.mark.parametrize(("config", "key"), [
    (dict(BASE, num_hidden_layers=float("nan")), "num_hidden_layers"),
    (dict(BASE, num_hidden_layers=float("inf")), "num_hidden_layers"),
    (dict(BASE, hidden_size=-64), "hidden_size"),
    (dict(BASE, vocab_size=10**30), "vocab_size"),
    (dict(DEEPSEEK, moe_layer_freq=0), "moe_layer_freq"),
    (dict(DEEPSEEK, moe_layer_freq=False), "moe_layer_freq"),
    (dict(QWEN_MOE, mlp_only_layers=1.5), "mlp_only_layers"),
    (dict(QWEN_MOE, mlp_only_layers=[0, 99]), "mlp_only_layers"),
    (dict(BASE, model_type="qwen2", use_sliding_window=True, sliding_window=4096, max_window_layers="abc"),
     "max_window_layers"),
    (dict(QWEN_MOE, num_hidden_layers=1e10), "num_hidden_layers"),
    (dict(BASE, head_dim="128 }\nsecret = { x = 1"), "head_dim"),
    (dict(BASE, model_type="gemma3", num_hidden_layers=6, sliding_window_pattern=0), "sliding_window_pattern"),
])
def test_bad_field_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, config: dict[str, Any],
                            key: str) -> None:
    code, out, err = _import(capsys, _write(tmp_path, json.dumps(config)))
    assert code == 1 and out == ""
    assert "error[E0601]" in err and f"`{key}`" in err


def test_text_config_not_an_object(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = dict(BASE, model_type="gemma3", text_config=[1])
    code, out, _ = _import(capsys, _write(tmp_path, json.dumps(config)))
    assert code == 0 and "layers = 2" in out


def test_strings_cannot_inject(tmp_path: Path) -> None:
    config = dict(BASE, _name_or_path='x"\n}\nsecret = { x = 1 }\n#', architectures=["A\nsecret = 2"])
    path = tmp_path / "sub" / "inj.json"
    path.parent.mkdir()
    path.write_text(json.dumps(config), encoding="utf-8")
    text = import_config(path)
    assert str(tmp_path) not in text and "from inj.json" in text
    for line in text.splitlines():
        code = re.sub(r'"[^"\n]*"', '""', line).split("#", 1)[0]     # outside strings and comments
        assert "secret" not in code, line
    # and it loads as one record
    (tmp_path / "inj.infer").write_text(text, encoding="utf-8")
    spec = tmp_path / "use.infer"
    spec.write_text("from inj import inj\nx = inj.layers\n", encoding="utf-8")
    from solver.api import Spec

    loaded = Spec.load(spec)
    assert not any(name.startswith("secret") or ".secret" in name for name in loaded.graph.nodes)
