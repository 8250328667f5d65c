"""A time-bounded fuzz of the command line, run in-process: generated command lines, mutated
specs and mutated config.json files must each end in a result (exit 0) or a diagnostic (exit 1
or 2), never a traceback and never exit 3 (an internal error).

Deterministic (`derandomize=True`: the same examples on every run) and small (a few seconds
per test); the classes of input come from issue 8's fuzzing: extreme numbers, long names,
odd paths, malformed values.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.cli import main

REPO = Path(__file__).resolve().parent.parent
KV = str(REPO / "specs" / "kv-budget.infer")

FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=40,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _main(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:          # argparse: bad use
            code = int(stop.code or 0)
    return code, err.getvalue()


def _assert_handled(argv: list[str]) -> None:
    code, err = _main(argv)
    assert code in (0, 1, 2), (argv, code, err[-2000:])
    assert "Traceback" not in err, (argv, err[-2000:])


# --- command lines ------------------------------------------------------------------------

NUMBERS = st.sampled_from(["0", "-1", "1", "0.5", "1e999", "1e-999", "1e308", "-1e308", "inf", "nan",
                           "exp(710)", "exp(exp(100))", "1/0", "sqrt(2)", "10 GB", "1 s", "3 token",
                           "99999999999999999999", "1e12 + 1", "()", "", "x" * 300, "·", "1 GB^99"])
NAMES = st.sampled_from(["batch", "context", "budget", "kv_total", "kv_per_token", "layers", "max_context",
                         "nope", "kv_bytes", "", "a.b.c", "x" * 300])
UNITS = st.sampled_from(["GB", "s^-1", "token", "KiB/token", "furlong", "", "GB^99999999", "%"])
PATHS = st.sampled_from(["no/such/dir.md", ".", "out.md", "", "/dev/null/x"])


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(["eval", "solve", "sweep", "export", "check", "graph"]))
    argv = [command, KV]
    for _ in range(draw(st.integers(0, 2))):
        argv += ["--set", f"{draw(NAMES)}={draw(NUMBERS)}"]
    if command in ("solve", "export"):
        argv += ["--for", draw(NAMES)]
        if draw(st.booleans()):
            argv += ["--where", f"{draw(NAMES)}={draw(NUMBERS)}"]
    if command == "solve" and draw(st.booleans()):
        argv += ["--in", draw(UNITS)]
    if command == "solve" and draw(st.booleans()):
        argv += ["--format", draw(st.sampled_from(["json", "latex", "markdown", "text"]))]
    if command == "eval":
        argv += draw(st.sampled_from([[], ["--json"], ["--strict"], ["--json", "--strict"]]))
    if command == "sweep":
        values = draw(st.sampled_from(["[1, 2]", "1..4", "1..1e999", "[1e999]", "1..8:*2", "[]", "5..1:1",
                                       "1..2:0"]))
        argv += ["--vary", f"{draw(NAMES)}={values}", "--report", draw(NAMES)]
    if command == "export" and draw(st.booleans()):
        argv += ["-o", draw(PATHS)]
    return argv


@FUZZ
@given(argv=command_lines())
def test_command_lines(argv: list[str], tmp_path_factory: Any) -> None:
    with contextlib.chdir(tmp_path_factory.mktemp("cli")):
        _assert_handled(argv)


# --- spec mutations -----------------------------------------------------------------------

SPEC = """\
c: token
kv = 2 * 32 * 8 * 128 * 2 B / token
total: GB = 16 * c * kv
budget = 24 GB
require total <= budget
require c >= 1 token
goal g = maximize c
"""

LITERALS = st.sampled_from(["1e999", "1e-999", "0", "-1", "1e308", "exp(800)", "1/0", "0 token",
                            "1e12 + 1", "7000 token", "(1)", "10.2 GB", "c", "c * 1e300", "max(c, 1 token)",
                            "floor(c / 3 token) * 3 token", "if c > 5 token then c else 5 token"])


@st.composite
def specs(draw: st.DrawFn) -> str:
    lines = SPEC.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["number", "drop", "dup", "require"]))
        if kind == "number":
            numbers = [w for w in lines[i].split() if w[:1].isdigit()]
            if numbers:
                lines[i] = lines[i].replace(draw(st.sampled_from(numbers)), draw(LITERALS), 1)
        elif kind == "drop" and len(lines) > 2:
            lines.pop(i)
        elif kind == "dup":
            lines.insert(i, lines[i])
        else:
            op = draw(st.sampled_from(["<=", ">=", "=="]))
            lines.append(f"require c {op} {draw(LITERALS)}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=specs(), command=st.sampled_from([["eval", "--json"], ["solve", "--for", "g"],
                                              ["solve", "--for", "g", "--format", "json"], ["eval"]]))
def test_spec_mutations(text: str, command: list[str], tmp_path_factory: Any) -> None:
    folder = tmp_path_factory.mktemp("spec")
    path = folder / "s.infer"
    path.write_text(text, encoding="utf-8")
    _assert_handled([command[0], str(path), *command[1:]])


# --- config.json mutations ----------------------------------------------------------------

CONFIGS: list[dict[str, Any]] = [
    {"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096, "num_attention_heads": 32,
     "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256,
     "max_position_embeddings": 131072, "tie_word_embeddings": False},
    {"model_type": "qwen3_moe", "num_hidden_layers": 48, "hidden_size": 2048, "num_attention_heads": 32,
     "num_key_value_heads": 4, "head_dim": 128, "intermediate_size": 6144, "moe_intermediate_size": 768,
     "num_experts": 128, "num_experts_per_tok": 8, "vocab_size": 151936, "max_position_embeddings": 40960,
     "decoder_sparse_step": 1, "mlp_only_layers": [], "use_sliding_window": False,
     "max_window_layers": 48, "sliding_window": None},
    {"model_type": "deepseek_v3", "num_hidden_layers": 61, "hidden_size": 7168, "num_attention_heads": 128,
     "num_key_value_heads": 128, "intermediate_size": 18432, "moe_intermediate_size": 2048,
     "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8, "first_k_dense_replace": 3,
     "moe_layer_freq": 1, "kv_lora_rank": 512, "q_lora_rank": 1536, "qk_rope_head_dim": 64,
     "qk_nope_head_dim": 128, "v_head_dim": 128, "vocab_size": 129280, "max_position_embeddings": 163840},
    {"model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
     "text_config": {"num_hidden_layers": 34, "hidden_size": 2560, "num_attention_heads": 8,
                     "num_key_value_heads": 4, "head_dim": 256, "intermediate_size": 10240,
                     "sliding_window": 1024, "sliding_window_pattern": 6}},
]

JSON_VALUES = st.one_of(
    st.sampled_from([0, -1, 1.5, 1e10, 10**30, float("nan"), float("inf"), True, False, None, "abc",
                     "128 }\nsecret = { x = 1", [], [1], [1.5, "x"], {}, {"a": [1]}, 2**63]),
    st.integers(-10, 10**6), st.text(max_size=20))


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    cfg = json.loads(json.dumps(draw(st.sampled_from(CONFIGS))))
    for _ in range(draw(st.integers(1, 3))):
        inner = cfg.get("text_config")
        target = inner if isinstance(inner, dict) and inner and draw(st.booleans()) else cfg
        if not target:
            break
        key = draw(st.sampled_from(sorted(target)))
        if draw(st.integers(0, 5)) == 0:
            del target[key]
        else:
            target[key] = draw(JSON_VALUES)
    return cfg  # type: ignore[no-any-return]


@settings(FUZZ, max_examples=80)
@given(cfg=configs())
def test_config_mutations(cfg: dict[str, Any], tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("hf") / "config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    code, err = _main(["import", "hf", str(path)])
    assert code in (0, 1), (cfg, code, err[-2000:])
    assert "Traceback" not in err
