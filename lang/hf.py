"""`infer import hf CONFIG.json`: a Hugging Face `config.json` as a model record.

The output is a whole `.infer` module that extends the stdlib's base record::

    import models

    my_model = models.transformer {
      layers = 32                           # num_hidden_layers
      ...
    }

Saved beside a spec as `my_model.infer`, it is imported like any module:
`from my_model import my_model` (or `import my_model` and `my_model.my_model`).
Every value carries a comment naming the config key it came from, or the
library default / modelling code that fixes it when the config is silent.

Families: Llama 1/2/3, Mistral, Mixtral, Qwen2/2.5, Qwen3, Qwen3-MoE,
DeepSeek-V2/V3 (MLA), Gemma 1/2/3 (Gemma 3's `text_config`), Phi-3, Falcon
(RefinedWeb and `falcon` configs), GPT-J, gpt-oss. An unknown `model_type` or
a missing key is an `InferError` (E0601) naming the keys; nothing here prints.

Every value read is checked before it is written: numbers must be whole, finite
and in range (a layer count at most 100,000, anything else at most 10^12), lists
and flags of the right type, each with a message naming the key. The generated
module holds only numbers, `true`/`false`, quoted text with quotes, newlines and
control characters removed, and one-line comments; it names the config by its
file name, not the path it was read from.

>>> import json, tempfile, pathlib
>>> cfg = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
...        "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100,
...        "max_position_embeddings": 512}
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.json"
>>> _ = path.write_text(json.dumps(cfg))
>>> print(next(line for line in import_config(path).splitlines() if "layers =" in line))
  layers = 2                            # num_hidden_layers
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lang.diagnostics import Diagnostic, InferError, SourceMap, Span
from lang.parser import KEYWORDS
from lang.units import lookup

__all__ = ["FAMILIES", "import_config", "read_config", "record_fields"]

COMMENT_COLUMN = 40

# model_type → family. The family decides which keys are read and which defaults apply.
FAMILIES: dict[str, str] = {
    "llama": "llama",
    "mistral": "mistral",
    "mixtral": "mixtral",
    "qwen2": "qwen2",
    "qwen3": "qwen2",
    "qwen3_moe": "qwen3_moe",
    "deepseek_v2": "deepseek",
    "deepseek_v3": "deepseek",
    "gemma": "gemma",
    "gemma2": "gemma2",
    "gemma3": "gemma3",
    "gemma3_text": "gemma3",
    "phi3": "phi3",
    "falcon": "falcon",
    "RefinedWebModel": "falcon",
    "RefinedWeb": "falcon",
    "gptj": "gptj",
    "gpt_oss": "gpt_oss",
}

# The transformers config class whose defaults fill keys a config.json leaves out.
_CONFIG_CLASS = {
    "llama": "LlamaConfig", "mistral": "MistralConfig", "mixtral": "MixtralConfig",
    "qwen2": "Qwen2Config", "qwen3_moe": "Qwen3MoeConfig", "deepseek": "DeepseekV3Config",
    "gemma": "GemmaConfig", "gemma2": "Gemma2Config", "gemma3": "Gemma3TextConfig",
    "phi3": "Phi3Config", "falcon": "FalconConfig", "gptj": "GPTJConfig", "gpt_oss": "GptOssConfig",
}

# Spellings of the core keys per family (the first is the one an error names).
_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "layers": {"falcon": ("num_hidden_layers", "n_layer"), "gptj": ("n_layer",)},
    "hidden": {"gptj": ("n_embd",)},
    "heads": {"falcon": ("num_attention_heads", "n_head"), "gptj": ("n_head",)},
}

# The largest value a key may hold: no model has more layers; nothing counts past 10^12.
_MAX_LAYERS = 100_000
_MAX_WHOLE = 10**12
_LAYER_KEYS = ("num_hidden_layers", "n_layer")

# tie_word_embeddings when the config omits it (each class's default).
_TIED_DEFAULT = {"gemma": True, "gemma2": True, "gemma3": True, "falcon": True}


@dataclass
class Line:
    field: str
    value: str
    comment: str


@dataclass
class _Reader:
    """Reads keys from one (possibly nested) config dict and remembers what was missing."""

    cfg: dict[str, Any]
    prefix: str = ""
    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)      # present, but of the wrong type or range

    def has(self, key: str) -> bool:
        return self.cfg.get(key) is not None

    def key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def first(self, *keys: str, minimum: int = 1) -> tuple[int, str] | None:
        """The first of `keys` present, as a checked whole number (a bad one is recorded, and
        reads as absent so nothing is built from it)."""
        for k in keys:
            if self.cfg.get(k) is not None:
                value = self.whole(k, minimum)
                return None if value is None else (value, self.key(k))
        return None

    def whole(self, key: str, minimum: int = 1, default: int | None = None) -> int | None:
        """cfg[key] as a whole number in range; a wrong type or value is recorded."""
        value = self.cfg.get(key)
        if value is None:
            return default
        limit = _MAX_LAYERS if key in _LAYER_KEYS else _MAX_WHOLE
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
            self.invalid.append(f"`{self.key(key)}` must be a whole number, not {_shown(value)}")
            return None
        number = int(value)
        if not minimum <= number <= limit:
            self.invalid.append(f"`{self.key(key)}` must be between {minimum} and {limit:,}, not {_shown(value)}")
            return None
        return number

    def whole_list(self, key: str, below: int) -> list[int]:
        """cfg[key] as a list of layer indices (0 <= i < below)."""
        value = self.cfg.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > _MAX_LAYERS or not all(
                isinstance(v, int) and not isinstance(v, bool) and 0 <= v < below for v in value):
            self.invalid.append(f"`{self.key(key)}` must be a list of layer indices 0..{below - 1}, "
                                f"not {_shown(value)}")
            return []
        return list(value)

    def need(self, *keys: str) -> tuple[int, str]:
        """The first of `keys` present; a missing one is recorded (all its spellings)."""
        if not any(self.cfg.get(k) is not None for k in keys):
            alt = f" (or {', '.join(f'`{self.key(k)}`' for k in keys[1:])})" if len(keys) > 1 else ""
            self.missing.append(f"`{self.key(keys[0])}`{alt}")
            return 0, self.key(keys[0])
        found = self.first(*keys)
        return found if found is not None else (0, self.key(keys[0]))


def _shown(value: Any) -> str:
    """A config value quoted in a message: short, one line, never the whole of a deep structure."""
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'list'}"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    text = json.dumps(value) if isinstance(value, (str, bool, int, float)) else type(value).__name__
    if len(text) > 40:
        text = text[:37] + "..."
    return _comment(text)


def read_config(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed JSON object and its text; unreadable or invalid files are InferErrors."""
    display = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InferError([Diagnostic("E0603", f"cannot read `{display}`: "
                                     f"{getattr(exc, 'strerror', None) or exc}", None,
                                     help=("give the path of a Hugging Face config.json",))]) from None
    sources = SourceMap()
    sources.add(display, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        span = Span(display, exc.lineno, exc.colno, exc.lineno, exc.colno + 1)
        raise InferError([Diagnostic("E0603", f"`{display}` is not valid JSON: {exc.msg.lower()}", span,
                                     label="here")], sources) from None
    except RecursionError:
        raise InferError([Diagnostic("E0603", f"`{display}` nests too deeply to read", None,
                                     help=("a config.json is a flat object of keys",))]) from None
    except ValueError as exc:      # an integer beyond Python's 4,300-digit limit
        raise InferError([Diagnostic("E0603", f"`{display}` holds a number too long to read", None,
                                     help=(str(exc).partition(":")[0],))]) from None
    if not isinstance(data, dict):
        raise InferError([Diagnostic("E0603", f"`{display}` holds no JSON object", None,
                                     help=("a config.json is one object of keys",))], sources)
    return data, text


def _key_span(display: str, text: str, key: str) -> Span | None:
    """Where `"key": value` sits in the file, for carets under the value."""
    m = re.search(r'"' + re.escape(key) + r'"\s*:\s*("[^"\n]*"|[^,\n}]+)', text)
    if m is None:
        return None
    line = text.count("\n", 0, m.start(1)) + 1
    col = m.start(1) - (text.rfind("\n", 0, m.start(1)) + 1) + 1
    return Span(display, line, col, line, col + len(m.group(1).rstrip()))


def _ident(text: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    name = re.sub(r"_+", "_", name)
    if not name:
        return "model"
    if name[0].isdigit():
        name = f"m_{name}"
    return name


def _check_name(name: str) -> None:
    problem = None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        problem = "is not a name (letters, digits and `_`, not starting with a digit)"
    elif name in KEYWORDS:
        problem = "is a keyword of the language"
    elif name == "models":
        problem = "is the stdlib module the record extends"
    elif lookup(name) is not None:
        problem = "is a unit name and would shadow the unit"
    if problem:
        raise InferError([Diagnostic("E0602", f"`{name}` {problem}", None,
                                     help=(f"try `--name {_ident(name)}_model`",))])


def _text(value: object) -> str:
    """A string literal of the language: no quotes, newlines or control characters inside."""
    return '"' + _comment(str(value)).replace('"', "'")[:200] + '"'


def _comment(text: str) -> str:
    """Text that stays on its line: control characters (newlines too) become spaces."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", " ", text)


def _int(value: int | float) -> str:
    """A checked whole number as the generated module writes it: digits only."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), text
    return text


def record_fields(cfg: dict[str, Any], display: str = "config.json",
                  text: str = "") -> tuple[list[Line], str, list[str]]:
    """The record's lines, the family name and notes for the header.

    Raises InferError (E0601) for an unknown model_type or missing keys.
    """
    model_type = cfg.get("model_type")
    sources = SourceMap()
    if text:
        sources.add(display, text)
    family = FAMILIES.get(model_type) if isinstance(model_type, str) else None
    if family is None:
        known = ", ".join(sorted(FAMILIES))
        if model_type is None:
            message = "config has no `model_type` key"
            span = None
        else:
            message = f"unknown model_type `{model_type}`"
            span = _key_span(display, text, "model_type") if text else None
        raise InferError([Diagnostic("E0601", message, span, label="not a supported family",
                                     help=(f"supported model_type values: {known}",
                                           "or copy the shape into `name = models.transformer { ... }` by hand"))],
                         sources)

    notes: list[str] = []
    r = _Reader(cfg)
    if family == "gemma3" and isinstance(cfg.get("text_config"), dict):
        r = _Reader(cfg["text_config"], "text_config.")
        notes.append("the text decoder of a multimodal config (`text_config`); the vision tower is left out")
    defaults = _CONFIG_CLASS[family]
    lines: list[Line] = []

    def add(name: str, value: str, comment: str) -> None:
        lines.append(Line(name, value, comment))

    # --- shape ----------------------------------------------------------------------
    layers, k_layers = r.need(*_KEYS["layers"].get(family, ("num_hidden_layers",)))
    hidden, k_hidden = r.need(*_KEYS["hidden"].get(family, ("hidden_size",)))
    heads, k_heads = r.need(*_KEYS["heads"].get(family, ("num_attention_heads",)))
    if family == "gemma3" and not r.has("vocab_size"):
        vocab, k_vocab = 262208, f"{defaults} default vocab_size (the config omits it)"
    else:
        vocab, k_vocab = r.need("vocab_size")
    if r.missing or r.invalid:
        _missing(r, model_type, display, sources, text)

    add("layers", _int(layers), k_layers)
    add("hidden", _int(hidden), k_hidden)
    add("heads", _int(heads), k_heads)

    # key/value heads
    if family == "falcon":
        new_arch = bool(cfg.get("new_decoder_architecture"))
        found = r.first("num_kv_heads", "n_head_kv") if new_arch or not cfg.get("multi_query") else None
        if found is not None:
            add("kv_heads", _int(found[0]), found[1])
        elif cfg.get("multi_query") and not new_arch:
            add("kv_heads", "1", "multi_query: true -> one shared K/V head")
        elif new_arch:
            add("kv_heads", _int(heads), "new_decoder_architecture without num_kv_heads: "
                "FalconConfig default num_kv_heads = num_attention_heads")
        else:
            add("kv_heads", _int(heads), "multi_query false: one K/V head per query head")
    elif family == "deepseek":
        kv = r.first("num_key_value_heads")
        add("kv_heads", _int(kv[0] if kv else heads),
            (kv[1] if kv else "default num_attention_heads") + " (meaningless for the MLA cache)")
    else:
        kv = r.first("num_key_value_heads")
        if kv is not None:
            add("kv_heads", _int(kv[0]), kv[1])
        else:
            add("kv_heads", _int(heads), f"no num_key_value_heads: {defaults} default = num_attention_heads (MHA)")

    # head_dim
    if family == "deepseek":
        nope, k_nope = r.need("qk_nope_head_dim")
        rope, k_rope = r.need("qk_rope_head_dim")
        add("head_dim", _int(nope + rope), f"q/k head width = {k_nope} + {k_rope} (no head_dim key)")
    elif r.has("head_dim") and (found := r.first("head_dim")) is not None:
        explicit = found[0]
        implied = hidden / heads if heads else 0
        note = "" if explicit == implied else f"; hidden/heads would be {_int(round(implied, 2))}"
        add("head_dim", _int(explicit), f"{r.key('head_dim')} (explicit{note})")
    elif family == "gemma3":
        add("head_dim", "256", f"{defaults} default head_dim (the config omits it)")

    # MLP width
    if family == "falcon":
        found = r.first("ffn_hidden_size")
        if found is not None:
            add("intermediate", _int(found[0]), found[1])
        else:
            add("intermediate", _int(4 * hidden), "4 x hidden_size: FalconConfig ffn_hidden_size default "
                "(modelling_RW.py hard-codes 4 x hidden)")
        add("mlp_matrices", "2", "dense_h_to_4h, dense_4h_to_h (GELU, not gated)")
    elif family == "gptj":
        found = r.first("n_inner")
        if found is not None:
            add("intermediate", _int(found[0]), found[1])
        else:
            add("intermediate", _int(4 * hidden), "n_inner null -> 4 x n_embd (GPTJConfig / modeling_gptj.py)")
        add("mlp_matrices", "2", "fc_in, fc_out (gelu_new, not gated)")
    else:
        inter, k_inter = r.need("intermediate_size")
        suffix = " (one expert)" if family in ("mixtral", "gpt_oss") else ""
        if family in ("qwen3_moe", "deepseek"):
            suffix = " (the MLP of layers without experts)"
        add("intermediate", _int(inter), k_inter + suffix)

    add("vocab", _int(vocab), k_vocab)

    # context
    found = r.first("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length")
    if found is not None:
        add("max_context", f"{_int(found[0])} token", found[1])
    elif family == "falcon":
        add("max_context", "2048 token", "no key: FalconConfig default max_position_embeddings 2048 "
            "(model cards: sequence length 2048)")
    elif family == "gemma3":
        add("max_context", "131072 token", f"{defaults} default max_position_embeddings (the config omits it)")
    else:
        r.need("max_position_embeddings", "n_positions")

    # tied embeddings
    tie = cfg.get("tie_word_embeddings") if "tie_word_embeddings" in cfg else r.cfg.get("tie_word_embeddings")
    if tie is not None:
        where = "tie_word_embeddings" if "tie_word_embeddings" in cfg else r.key("tie_word_embeddings")
        add("tied_embeddings", "true" if tie else "false", where)
    else:
        tied = _TIED_DEFAULT.get(family, False)
        base = "PretrainedConfig" if family == "falcon" else defaults
        add("tied_embeddings", "true" if tied else "false", f"no key: {base} default tie_word_embeddings = {tied}")

    # --- mixture of experts ---------------------------------------------------------------
    if family in ("mixtral", "qwen3_moe", "deepseek", "gpt_oss"):
        experts, k_experts = r.need("num_local_experts", "num_experts", "n_routed_experts")
        per_token, k_per_token = r.need("num_experts_per_tok", "experts_per_token")
        add("experts", _int(experts), k_experts)
        add("experts_per_token", _int(per_token), k_per_token)
        if family == "deepseek":
            shared = r.first("n_shared_experts")
            if shared is not None and shared[0]:
                add("shared_experts", _int(shared[0]), shared[1])
        found = r.first("moe_intermediate_size")
        if found is not None:
            add("moe_intermediate", _int(found[0]), found[1])
        dense = _dense_layers(r, family, int(layers))
        if dense is not None:
            add("dense_layers", _int(dense[0]), dense[1])

    # --- MLA ----------------------------------------------------------------------------
    if family == "deepseek":
        rank, k_rank = r.need("kv_lora_rank")
        add("kv_lora_rank", _int(rank), k_rank)
        q_rank = r.first("q_lora_rank")
        if q_rank is not None:
            add("q_lora_rank", _int(q_rank[0]), q_rank[1])
        else:
            add("q_lora_rank", "0", "q_lora_rank null: full-rank q_proj")
        for name in ("qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"):
            value, key = r.need(name)
            add(name, _int(value), key)

    # --- sliding window ---------------------------------------------------------------------
    window = _sliding(r, cfg, family, int(layers))
    if window is not None:
        (size, k_size), (count, k_count) = window
        add("sliding_window", f"{_int(size)} token", k_size)
        add("sliding_layers", _int(count), k_count)

    # --- norms ------------------------------------------------------------------------------
    if family in ("gemma2", "gemma3"):
        add("norms_per_layer", "4", "pre- and post-norms around attention and MLP (Gemma 2/3 decoder layer)")
    elif family == "gptj":
        add("norms_per_layer", "1", "parallel attention + MLP share ln_1")
    elif family == "falcon" and not cfg.get("new_decoder_architecture") and cfg.get("parallel_attn", True):
        add("norms_per_layer", "1", "parallel_attn: one input_layernorm per layer")

    if r.missing or r.invalid:
        _missing(r, model_type, display, sources, text)
    return lines, family, notes


def _dense_layers(r: _Reader, family: str, layers: int) -> tuple[int, str] | None:
    if family == "deepseek":
        found = r.first("first_k_dense_replace", minimum=0)
        freq = r.whole("moe_layer_freq", 1, default=1)
        if freq is not None and freq != 1:
            first = found[0] if found else 0
            moe = sum(1 for i in range(first, layers) if i % freq == 0)
            return layers - moe, f"first_k_dense_replace and moe_layer_freq {freq}: {layers - moe} dense layers"
        return (found[0], found[1]) if found is not None and found[0] else None
    if family == "qwen3_moe":
        only = r.whole_list("mlp_only_layers", layers)
        step = r.whole("decoder_sparse_step", 0, default=1) or 1
        excluded = set(only)
        moe = sum(1 for i in range(layers) if i not in excluded and (i + 1) % step == 0)
        if moe == layers:
            return None
        return layers - moe, (f"layers without experts: mlp_only_layers {only}, decoder_sparse_step {step} "
                              "(counted; their position does not change the totals)")
    return None


def _sliding(r: _Reader, cfg: dict[str, Any], family: str,
             layers: int) -> tuple[tuple[Any, str], tuple[int, str]] | None:
    """(window, key), (layers that use it, how that was found), or None for no window."""
    found = r.first("sliding_window")
    types = r.cfg.get("layer_types")
    if isinstance(types, list) and types and len(types) <= _MAX_LAYERS:
        count = sum(1 for t in types if t == "sliding_attention")
        if found is None or count == 0:
            return None
        return found, (count, f"{r.key('layer_types')}: {count} of {len(types)} are sliding_attention")
    if family in ("qwen2", "qwen3_moe"):
        if not r.cfg.get("use_sliding_window") or found is None:
            return None
        start = r.whole("max_window_layers", 0, default=layers)
        if start is None:
            return None
        count = max(0, layers - start)
        return found, (count, f"use_sliding_window true: layers from max_window_layers ({start}) on")
    if family in ("mistral", "mixtral", "phi3"):
        if found is None:
            return None
        return found, (layers, "applied in every layer")
    if family == "gemma2":
        if found is None:
            return None
        count = (layers + 1) // 2
        return found, (count, "Gemma 2 alternates local and global layers (even layers local)")
    if family == "gemma3":
        pattern_key = "sliding_window_pattern" if r.has("sliding_window_pattern") else "_sliding_window_pattern"
        given = r.whole(pattern_key)
        key = r.key(pattern_key) if given else "Gemma3TextConfig default sliding_window_pattern"
        pattern = given or 6
        if found is None:
            found = (4096, "Gemma3TextConfig default sliding_window (the config omits it)")
        count = layers - layers // pattern
        return found, (count, f"{key} {pattern}: {pattern - 1} local then 1 global; "
                              f"{layers} layers -> {layers // pattern} global")
    if family == "gpt_oss":
        if found is None:
            return None
        count = (layers + 1) // 2
        return found, (count, "GptOssConfig default layer_types: sliding and full attention alternate")
    return None


def _missing(r: _Reader, model_type: object, display: str, sources: SourceMap, text: str) -> None:
    diagnostics = []
    if r.missing:
        keys = ", ".join(dict.fromkeys(r.missing))
        plural = "s" if len(dict.fromkeys(r.missing)) > 1 else ""
        diagnostics.append(Diagnostic("E0601", f"config.json is missing key{plural} {keys} "
                                      f"(model_type `{model_type}`)", None,
                                      help=(f"in `{display}`: add the key{plural}, or write the record by hand",)))
    for problem in dict.fromkeys(r.invalid):
        key = problem.split("`")[1].rpartition(".")[2]
        diagnostics.append(Diagnostic("E0601", f"config.json: {problem}",
                                      _key_span(display, text, key) if text else None, label="this value",
                                      help=(f"in `{display}`: fix the value, or write the record by hand",)))
    raise InferError(diagnostics, sources)


def import_config(path: str | Path, name: str | None = None) -> str:
    """A `.infer` module holding one model record read from a Hugging Face config.json."""
    path = Path(path)
    cfg, text = read_config(path)
    display = str(path)
    from lang.hf_vision import import_vision_config, is_vision_config  # VLMs: text + vision tower

    if is_vision_config(cfg):
        return import_vision_config(cfg, text, path, name)
    lines, _family, notes = record_fields(cfg, display, text)
    inner = cfg.get("text_config")
    text_config: dict[str, Any] = inner if isinstance(inner, dict) else {}
    named = cfg.get("_name_or_path") if isinstance(cfg.get("_name_or_path"), str) else None
    source = named or text_config.get("_name_or_path") or path.name
    if name is None:
        stem = path.stem
        if stem.lower() in ("config", "config.json", "") and named:
            stem = named.rstrip("/").rpartition("/")[2]
        elif stem.lower() == "config":
            stem = str(cfg.get("model_type"))
        name = _ident(stem)
    _check_name(name)
    arch = cfg.get("architectures")
    arch_text = f", {_comment(arch[0])[:80]}" if isinstance(arch, list) and arch and isinstance(arch[0], str) else ""
    label = named or name
    file_name = _comment(path.name)     # the file's name: the module must not carry where it was read

    out = [
        f"# {name}.infer — a model record imported from a Hugging Face config.json",
        f"#   by `infer import hf {file_name} --name {name}`",
        f"#   from {file_name} (model_type `{cfg.get('model_type')}`{arch_text})",
        "#",
        f"# Save it beside your spec as `{name}.infer`, then write in the spec",
        f"#   from {name} import {name}      (or: `import {name}` and use `{name}.{name}`)",
        f"# and use `{name}` wherever a model record goes (`model = {name}`).",
        "#",
        "# Each number names the config.json key it came from, or the default that fills it.",
        "# config.json holds no parameter count: set `published_params` from the model card",
        "# to check the derived `params` (`params_error`).",
    ]
    for note in notes:
        out.append(f"# Note: {note}.")
    out += ["", "import models", "", f"{name} = models.transformer {{"]
    out.append(_line("label", _text(label), ""))
    out.append(_line("source", _text(source), "config.json _name_or_path" if cfg.get("_name_or_path") else ""))
    for line in lines:
        out.append(_line(line.field, line.value, line.comment))
    out.append(f"{'  # published_params = ...'.ljust(COMMENT_COLUMN - 2)}  # the model card's total parameter count")
    out.append("}")
    return "\n".join(out) + "\n"


def _line(name: str, value: str, comment: str) -> str:
    body = f"  {name} = {value}"
    if not comment:
        return body
    return f"{body.ljust(COMMENT_COLUMN - 2)}  # {_comment(comment)}"
