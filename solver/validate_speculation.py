"""`infer validate --feature speculation`: predict the speculative-decoding rows (SD*) of
validation/features.csv from the serving model, never from a per-row fit.

Method. Each row's free-text `setting` is read by plain functions (`method_of`, `accepted_length_of`,
`batch_of`, `engine_rule`) into one `serving.deployment` record with `speculation = speculative.<m>`;
where the row states the mean accepted length, `accepted_length` is set to it (α is then unused), else
the method's default α from stdlib/speculative.infer applies. All rows go into ONE generated spec;
the prediction is `speculation_speedup` = (plain ITL) / (speculative ITL) of the same deployment.
Targets: batch-1 speedup rows MAPE <= 15 %; every row with batch > 1: the sign of the change
(speedup > 1 or < 1) right. Rows that cannot be mapped are listed with the reason.

>>> accepted_length_of("EAGLE-2; mean accepted tokens per step=4.34 (stated)")
4.34
>>> batch_of("foo; concurrency 16; bar")
(16, 'stated')
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from solver.measured import read_records

__all__ = ["FEATURE_COLUMNS", "MAPE_TARGET", "LengthCheck", "Mapped", "SDResult", "SDRow",
           "SpeculationValidation", "accepted_length_of", "alpha_for", "batch_of", "default_csv", "engine_rule",
           "expected_tokens", "fit_overheads", "length_checks", "load_sd_rows", "map_row", "markdown",
           "method_of", "run", "spec_text", "text_report"]

MAPE_TARGET = 0.15

FEATURE_COLUMNS = ("id", "feature", "model", "gpu", "gpu_count", "tp", "precision", "engine", "setting",
                   "metric", "value", "unit", "confidence", "source", "note")

# CSV names -> catalog entries. Explicit: a name not here is an unmapped row, never a guess.
MODELS: dict[str, str] = {
    "Vicuna-7B-v1.3": "speculative.vicuna_7b",
    "Vicuna-13B-v1.3": "speculative.vicuna_13b",
    "Vicuna-33B-v1.3": "speculative.vicuna_33b",
    # Llama 3 70B has Llama 3.1 70B's shapes (config.json) with an 8,192-token context
    "Llama-3-70B": "models.llama_3_1_70b { max_context = 8192 token }",
    "Llama-3.1-8B-Instruct": "models.llama_3_1_8b",
    "gpt-oss-20b": "models.gpt_oss_20b",
}
GPUS: dict[str, str] = {
    "A100-80GB": "gpus.a100_80gb_sxm",
    "H100": "gpus.h100_sxm",
    "B200": "gpus.b200",
    "MI355X": "gpus.mi355x",
}
PRECISIONS: dict[str, str] = {
    "fp16": "precisions.fp16",
    "bf16": "precisions.bf16",
    "not stated (bf16 default)": "precisions.bf16",
}
DRAFTERS: dict[str, str] = {
    "vicuna-68m": "speculative.vicuna_68m",
    "Qwama-0.5B-Instruct": "speculative.qwama_0_5b",
}

# Measured value -> speedup (plain time per token / speculative time per token).
SPEEDUP_METRICS: dict[str, bool] = {          # metric -> the value is a slowdown (invert it)
    "speedup_vs_autoregressive_overall": False,
    "tpot_speedup": False,
    "tpot_slowdown": True,
    "per_user_output_throughput_speedup": False,
    "output_throughput_speedup_min_over_sweep": False,
    "output_throughput_speedup_max_over_sweep": False,
}


# ================================================================================== CSV rows
@dataclass(frozen=True)
class SDRow:
    """One SD* line of features.csv, as read."""

    id: str
    model: str
    gpu: str
    gpu_count: int
    tp: str
    precision: str
    engine: str
    setting: str
    metric: str
    value: float
    unit: str
    confidence: str
    source: str
    note: str


def default_csv() -> Path:
    here = Path(__file__).resolve().parent.parent
    for path in (here / "lang" / "validation" / "features.csv", here / "validation" / "features.csv"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"no measurements at {here / 'validation' / 'features.csv'}: pass --csv FILE")


def load_sd_rows(path: Path) -> list[SDRow]:
    """The SD* rows of features.csv; ValueError names a malformed row."""
    rows = []
    for _, raw in read_records(path, FEATURE_COLUMNS, "SD"):
        rid = raw["id"].strip()
        try:
            value = float(raw["value"])
            gpu_count = int(raw["gpu_count"] or 1)
        except ValueError:
            raise ValueError(f"row {rid}: value `{raw['value']}` or gpu_count is not a number") from None
        rows.append(SDRow(rid, raw["model"].strip(), raw["gpu"].strip(), gpu_count, raw["tp"].strip(),
                          raw["precision"].strip(), raw["engine"].strip(), raw["setting"].strip(),
                          raw["metric"].strip(), value, raw["unit"].strip(), raw["confidence"].strip(),
                          raw["source"].strip(), (raw["note"] or "").strip()))
    return rows


# ========================================================================= reading a setting
def method_of(setting: str) -> tuple[str, list[str]] | None:
    """The speculative.* method a setting names, and the method overrides it states."""
    s = setting
    if re.search(r"P-EAGLE", s):
        return None                       # parallel drafting with a 4-layer drafter: no record
    m = re.search(r"draft(?: model)?\s+(?:[\w.-]+/)?([\w.-]+)", s)
    if re.search(r"\bSpS\b|draft model", s) and m and m.group(1) in DRAFTERS:
        return "speculative.draft_model", [f"drafter = {DRAFTERS[m.group(1)]}"]
    if re.search(r"EAGLE[- ]?3", s):
        name = "speculative.eagle3"
    elif re.search(r"EAGLE-2", s):
        name = "speculative.eagle2"
    elif re.search(r"EAGLE-1|EAGLE \(", s):
        # EAGLE-1's default tree is Medusa's mc_sim_7b_63 (63 candidates, 5 deep), drafted
        # level by level (SafeAILab/EAGLE v1 model/choices.py)
        return "speculative.eagle", ["tree_tokens = 63"]
    elif re.search(r"Medusa", s):
        name = "speculative.medusa"
    elif re.search(r"\bPLD\b|n-gram|prompt lookup", s):
        name = "speculative.ngram"
    elif re.search(r"Lookahead", s):
        name = "speculative.lookahead"
    else:
        return None
    overrides = []
    tree = re.search(r"total_token=(\d+), depth=(\d+), top_k=(\d+)", s)
    if tree:
        overrides += [f"tree_tokens = {tree.group(1)}", f"pass_tokens = {tree.group(3)}"]
    elif name == "speculative.eagle3" and "default tree" in s:
        # Spec-Bench's EAGLE-3 defaults (evaluation/inference_eagle3.py): total_token 60,
        # depth 5, top_k 10 -- a tree, where vLLM's eagle3 is a chain of 3
        overrides += ["tree_tokens = 60", "pass_tokens = 10", "draft_tokens = 5"]
    return name, overrides


def draft_tokens_of(setting: str, method: str) -> tuple[int | None, str]:
    """k: stated (k=, num_speculative_tokens=, depth=), else None (the method's default)."""
    for pattern in (r"\bk=(\d+)", r"num_speculative_tokens=(\d+)", r"depth=(\d+)"):
        m = re.search(pattern, setting)
        if m:
            return int(m.group(1)), "stated"
    return None, "method default"


def accepted_length_of(setting: str) -> float | None:
    """The stated mean accepted tokens per step, or None."""
    m = re.search(r"mean accepted tokens per step=([\d.]+)", setting)
    return float(m.group(1)) if m else None


# Little's law for the vLLM blog's QPS figures (docs/validation.md, speculative decoding):
# QPS 1 with ShareGPT/CNN-DM requests of ~3-4 s each holds ~4 in flight; "high QPS" saturates
# the scheduler at vLLM's max_num_seqs (256).
QPS_BATCH = {"QPS=1": (4, "QPS 1 x ~4 s per request, Little's law"),
             "high QPS": (256, "saturated: vLLM max_num_seqs")}


def batch_of(setting: str) -> tuple[int | None, str]:
    """Sequences decoded together: stated (batch size, concurrency), or from QPS by a rule."""
    for pattern in (r"batch size (\d+)", r"concurrency (\d+)", r"batch (\d+)"):
        m = re.search(pattern, setting)
        if m:
            return int(m.group(1)), "stated"
    for text, (batch, why) in QPS_BATCH.items():
        if text in setting:
            return batch, why
    return None, "not stated"


@dataclass(frozen=True)
class Rule:
    name: str
    why: str
    settings: tuple[str, ...]


# Engine rules: what an engine does that a row does not restate; the same for every row of it.
ENGINE_RULES: dict[str, Rule] = {
    "Spec-Bench": Rule(
        "Spec-Bench (HF transformers, eager PyTorch)",
        "eager PyTorch without CUDA graphs: every kernel is a Python-dispatched launch. Two shared "
        "factors, fitted once on the 12 Spec-Bench rows together (least squares on log error over a "
        "grid, `fit_overheads`): layer_overhead = 300 us (a decoder layer's ~10-15 kernels at "
        "~20-30 us of eager dispatch each, against 60 us under CUDA graphs) and draft_pass_overhead = "
        "1.3 ms (per draft pass: the drafter's logits, top-k, tree masks and index bookkeeping, ~50 "
        "small eager ops). Spec-Bench's six "
        "tasks: prompt 512, output 256 tokens (MT-Bench turns to CNN/DM articles; mean read off the "
        "task mix)",
        ("prompt = 512 token", "output = 256 token", "layer_overhead = 300 us",
         "draft_pass_overhead = 1.3 ms")),
    "vLLM ~v0.6": Rule(
        "vLLM V0 (~0.6, Oct 2024)",
        "the V0 spec-decode worker verifies by batch expansion (spec_decode/batch_expansion.py): "
        "each of the k+1 verify tokens is scored as its own sequence, so the KV is read k+1 times "
        "(kv_per_query); k = 5, the blog's example setting; ShareGPT/CNN-DM: prompt 512, output 256",
        ("prompt = 512 token", "output = 256 token")),
}


def engine_rule(engine: str) -> Rule | None:
    for prefix, rule in ENGINE_RULES.items():
        if engine.startswith(prefix):
            return rule
    return None


# ================================================================================== mapping
@dataclass(frozen=True)
class Mapped:
    """A row as one serving.deployment: its .infer members and how each input was obtained."""

    members: tuple[str, ...]
    batch: int
    method: str
    k: str
    accepted: str
    speedup: float                 # measured, as a speedup (slowdowns inverted)
    batch_how: str = "stated"      # or the rule that gave the batch


def map_row(row: SDRow) -> Mapped | str:
    """The row's deployment, or the reason it cannot be mapped."""
    problems = []
    if row.metric not in SPEEDUP_METRICS:
        problems.append(f"metric `{row.metric}` is not a speedup of speculation over plain decoding")
    if row.model not in MODELS:
        problems.append(f"model `{row.model}` is not in the catalog")
    if row.gpu not in GPUS:
        problems.append(f"gpu `{row.gpu}` is not in the catalog")
    if row.precision not in PRECISIONS:
        problems.append(f"precision `{row.precision}` is not mapped")
    rule = engine_rule(row.engine)
    if rule is None:
        problems.append(f"no engine rule for `{row.engine}`")
    method = method_of(row.setting)
    if method is None:
        problems.append("the method in `setting` has no speculative.* record")
    batch, batch_how = batch_of(row.setting)
    if batch is None:
        problems.append("batch / concurrency not stated")
    if problems:
        return "; ".join(problems)
    assert rule is not None and method is not None and batch is not None
    name, overrides = method
    k, k_how = draft_tokens_of(row.setting, name)
    if k is None and rule.name.startswith("vLLM V0"):
        k, k_how = 5, "engine rule (blog example)"
    tp = int(re.match(r"\d+", row.tp).group(0)) if re.match(r"\d+", row.tp) else 1  # type: ignore[union-attr]
    accepted = accepted_length_of(row.setting)
    extra = list(overrides)
    if rule.name.startswith("vLLM V0"):
        extra.append("kv_per_query = true")
    spec = f"{name} {{ {', '.join(extra)} }}" if extra else name
    members = [f"model = {MODELS[row.model]}", f"gpu = {GPUS[row.gpu]}", f"tp = {tp}",
               f"weights = {PRECISIONS[row.precision]}", f"kv_cache = {PRECISIONS[row.precision]}",
               f"batch = {batch}", f"speculation = {spec}"]
    if k is not None:
        members.append(f"draft_tokens = {k}")
    if accepted is not None:
        members.append(f"accepted_length = {accepted}")
    members += list(rule.settings)
    measured = 1 / row.value if SPEEDUP_METRICS[row.metric] else row.value
    return Mapped(tuple(members), batch, name.split(".")[-1] + (f" ({', '.join(overrides)})" if overrides else ""),
                  f"{k} ({k_how})" if k is not None else "method default",
                  f"{accepted} (stated)" if accepted is not None else "method's default α",
                  measured, batch_how)


def record_name(row: SDRow) -> str:
    return "r_" + re.sub(r"\W", "_", row.id)


HEADER = "import models\nimport gpus\nimport serving\nimport precisions\nimport speculative\n\n"


def spec_text(rows: Sequence[tuple[SDRow, Mapped]]) -> str:
    out = [HEADER]
    for row, m in rows:
        out.append(f"# {row.id}\n{record_name(row)} = serving.deployment {{\n"
                   + "".join(f"  {line}\n" for line in m.members) + "}\n")
    return "\n".join(out)


# =============================================================================== evaluation
@dataclass
class SDResult:
    row: SDRow
    mapped: Mapped | None = None
    reason: str | None = None          # why not mapped / not evaluated
    predicted: float | None = None     # speedup
    limit: str | None = None

    @property
    def error(self) -> float | None:
        if self.predicted is None or self.mapped is None:
            return None
        return self.predicted / self.mapped.speedup - 1

    @property
    def kind(self) -> str:
        if self.mapped is None:
            return "unmapped"
        return "batch-1 speedup" if self.mapped.batch == 1 else "sign (batch > 1)"

    @property
    def sign_right(self) -> bool | None:
        if self.predicted is None or self.mapped is None:
            return None
        return (self.predicted > 1) == (self.mapped.speedup > 1)


@dataclass(frozen=True)
class LengthCheck:
    """A mean accepted length at one k predicted from the same benchmark's length at another k,
    through α: the i.i.d. acceptance behind E = (1 - α^(k+1)) / (1 - α)."""

    row: SDRow
    base: SDRow
    k: int
    base_k: int
    alpha: float
    predicted: float

    @property
    def error(self) -> float:
        return self.predicted / self.row.value - 1


@dataclass
class SpeculationValidation:
    csv: Path
    results: list[SDResult] = field(default_factory=list)
    lengths: list[LengthCheck] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[SDResult]:
        return [r for r in self.results if r.kind == kind and r.predicted is not None]

    @property
    def mape(self) -> float:
        rows = self.of_kind("batch-1 speedup")
        return sum(abs(r.error or 0) for r in rows) / len(rows) if rows else math.nan

    @property
    def signs(self) -> tuple[int, int]:
        rows = self.of_kind("sign (batch > 1)")
        return sum(1 for r in rows if r.sign_right), len(rows)

    @property
    def failures(self) -> list[SDResult]:
        return [r for r in self.results if r.mapped is not None and r.predicted is None]

    @property
    def ok(self) -> bool:
        right, total = self.signs
        return not self.failures and self.mape <= MAPE_TARGET and right == total


def _evaluate(pairs: Sequence[tuple[SDRow, Mapped]], results: Mapping[str, SDResult], directory: Path) -> None:
    from solver.api import Spec

    path = directory / "speculation.infer"
    path.write_text(spec_text(pairs), encoding="utf-8")
    spec = Spec.load(path)
    names = [f"{record_name(r)}.{q}" for r, _ in pairs for q in ("speculation_speedup", "speculation_limit")]
    values = spec.evaluator.values(only=names)
    for row, _ in pairs:
        res = results[row.id]
        try:
            res.predicted = float(values[f"{record_name(row)}.speculation_speedup"])
        except (KeyError, TypeError) as err:
            res.reason = f"could not evaluate: {err}"
            continue
        code = values.get(f"{record_name(row)}.speculation_limit")
        if code is not None:
            res.limit = spec.graph.text_of(int(code))


def expected_tokens(alpha: float, k: int) -> float:
    """E = (1 - α^(k+1)) / (1 - α): serving.deployment's `accepted_length`, in Python for the
    acceptance check (tests/test_speculation.py holds the two equal).

    >>> round(expected_tokens(0.7, 3), 4)
    2.533
    """
    return float(k + 1) if alpha >= 1 else (1 - alpha ** (k + 1)) / (1 - alpha)


def alpha_for(length: float, k: int) -> float:
    """The α whose E at k is `length` (bisection; E rises with α from 1 to k + 1)."""
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expected_tokens(mid, k) < length else (lo, mid)
    return (lo + hi) / 2


def length_checks(rows: Sequence[SDRow]) -> list[LengthCheck]:
    """Each stated mean accepted length at a larger k, predicted from the row of the same model,
    engine and benchmark (the setting with its k removed) at the smallest k."""
    def key(r: SDRow) -> tuple[str, str, str]:
        return r.model, r.engine, re.sub(r"\bk=\d+", "k", r.setting)

    stated = [(r, k) for r in rows if r.metric == "mean_accepted_length"
              and (k := draft_tokens_of(r.setting, "")[0]) is not None]
    checks = []
    for row, k in stated:
        bases = [(b, bk) for b, bk in stated if key(b) == key(row) and bk < k]
        if not bases:
            continue
        base, base_k = min(bases, key=lambda p: p[1])
        alpha = alpha_for(base.value, base_k)
        checks.append(LengthCheck(row, base, k, base_k, alpha, expected_tokens(alpha, k)))
    return checks


def run(csv_path: Path | None = None) -> SpeculationValidation:
    from lang.diagnostics import InferError

    path = csv_path or default_csv()
    v = SpeculationValidation(path)
    pairs = []
    for row in load_sd_rows(path):
        res = SDResult(row)
        mapped = map_row(row)
        if isinstance(mapped, str):
            res.reason = mapped
        else:
            res.mapped = mapped
            pairs.append((row, mapped))
        v.results.append(res)
    v.lengths = length_checks([r.row for r in v.results])
    by_id = {r.row.id: r for r in v.results}
    for check in v.lengths:
        by_id[check.row.id].reason = (f"a mean accepted length, not a speedup: predicted from "
                                      f"{check.base.id} (k = {check.base_k}) in the accepted-length check")
    with tempfile.TemporaryDirectory(prefix="infer-spec-") as tmp:
        try:
            _evaluate(pairs, by_id, Path(tmp))
        except InferError as err:
            for row, _ in pairs:
                by_id[row.id].reason = f"the generated spec does not load: {str(err).strip()[:200]}"
    return v


def fit_overheads(layer_us: Sequence[int], pass_us: Sequence[int],
                  csv_path: Path | None = None) -> list[tuple[float, int, int]]:
    """(sum of squared log errors, layer_overhead us, draft_pass_overhead us) over a grid, best
    first, for the batch-1 rows of the Spec-Bench engine: how its two shared factors were chosen."""
    import sympy

    from solver.api import Spec

    rule = ENGINE_RULES["Spec-Bench"]
    pairs = [(r, m) for r in load_sd_rows(csv_path or default_csv())
             if engine_rule(r.engine) is rule and isinstance(m := map_row(r), Mapped) and m.batch == 1]
    with tempfile.TemporaryDirectory(prefix="infer-spec-fit-") as tmp:
        path = Path(tmp) / "fit.infer"
        path.write_text(spec_text(pairs), encoding="utf-8")
        spec = Spec.load(path)
        names = [f"{record_name(r)}.speculation_speedup" for r, _ in pairs]
        out = []
        for lo in layer_us:
            for dp in pass_us:
                fixed = {}
                for r, _ in pairs:
                    fixed[f"{record_name(r)}.layer_overhead"] = sympy.Rational(lo, 10 ** 6)
                    fixed[f"{record_name(r)}.draft_pass_overhead"] = sympy.Rational(dp, 10 ** 6)
                values = spec.evaluator.values(fixed=fixed, only=names)
                sse = sum(math.log(float(values[n]) / m.speedup) ** 2 for n, (_, m) in zip(names, pairs))
                out.append((sse, lo, dp))
    return sorted(out)


# ================================================================================ rendering
def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _pct(e: float | None) -> str:
    return "—" if e is None else f"{100 * e:+.1f} %"


def _how(m: Mapped) -> str:
    return "" if m.batch_how == "stated" else f" ({m.batch_how})"


def markdown(v: SpeculationValidation) -> str:
    """The `## Speculative decoding` section of docs/validation.md."""
    right, total = v.signs
    n1 = len(v.of_kind("batch-1 speedup"))
    out = [
        "## Speculative decoding (features.csv, SD rows)\n",
        "Generated by `infer validate --feature speculation --markdown` (`solver/validate_speculation.py`). "
        "Every SD row of `validation/features.csv` becomes a `serving.deployment` with `speculation = "
        "speculative.<method>`; where the row states the mean accepted length, `accepted_length` is set to "
        "it (α is not fitted per row); the prediction is `speculation_speedup`, plain ITL over "
        "speculative ITL of the same deployment. Slowdowns are compared as speedups below 1.\n",
        f"**Batch-1 speedup: MAPE {100 * v.mape:.1f} % over {n1} rows** (target <= {100 * MAPE_TARGET:.0f} %). "
        f"**Sign of the change at batch > 1: {right} of {total} right** (target: all).\n",
        "Engine rules (the same for every row of the engine):\n",
    ]
    out += [f"- **{r.name}**: {r.why}.\n" for r in ENGINE_RULES.values()]
    out.append("| id | source | method | k | accepted length | batch | measured | predicted | error | "
               "sign right | limit |")
    out.append("|---|---|---|---|---|---:|---:|---:|---:|---|---|")
    for r in v.results:
        if r.mapped is None:
            continue
        m = r.mapped
        sign = "—" if m.batch == 1 else {True: "yes", False: "**NO**", None: "—"}[r.sign_right]
        out.append(f"| {r.row.id} | {r.row.source} | {m.method} | {m.k} | {m.accepted} | {m.batch}{_how(m)} | "
                   f"{m.speedup:.2f}x | {_f(r.predicted)}x | {_pct(r.error)} | {sign} | {r.limit or '—'} |")
    out.append("")
    if v.lengths:
        mape = sum(abs(c.error) for c in v.lengths) / len(v.lengths)
        out.append("**Accepted length against k** (no target; a check of the i.i.d. acceptance behind E): "
                   "each stated mean accepted length at a larger k, predicted from the same model, engine and "
                   f"benchmark at the smallest k through α. MAPE {100 * mape:.1f} %: acceptance falls along "
                   "the draft faster than a constant α says, so measure `accepted_length` at the k you run.\n")
        out.append("| id | from | k | α (from the smaller k) | measured | predicted | error |")
        out.append("|---|---|---:|---:|---:|---:|---:|")
        out += [f"| {c.row.id} | {c.base.id} (k = {c.base_k}, {c.base.value:.2f}) | {c.k} | {c.alpha:.3f} | "
                f"{c.row.value:.2f} | {c.predicted:.2f} | {_pct(c.error)} |" for c in v.lengths]
        out.append("")
    unmapped = [r for r in v.results if r.mapped is None or r.predicted is None]
    if unmapped:
        out.append("Rows not predicted, and why:\n")
        out += [f"- **{r.row.id}** ({r.row.model}, {r.row.metric}): {r.reason}" for r in unmapped]
        out.append("")
    return "\n".join(out) + "\n"


def text_report(v: SpeculationValidation) -> str:
    head = f"{'id':5} {'method':32} {'batch':>5} {'measured':>8} {'predicted':>9} {'error':>8}  sign"
    lines = [head, "-" * len(head)]
    for r in v.results:
        if r.mapped is None:
            lines.append(f"{r.row.id:5} not mapped: {r.reason}")
            continue
        sign = "" if r.mapped.batch == 1 else {True: "ok", False: "WRONG", None: "?"}[r.sign_right]
        lines.append(f"{r.row.id:5} {r.mapped.method[:32]:32} {r.mapped.batch:>5} {r.mapped.speedup:>7.2f}x "
                     f"{_f(r.predicted):>8}x {_pct(r.error):>8}  {sign}")
    for c in v.lengths:
        lines.append(f"{c.row.id:5} accepted length at k={c.k} from {c.base.id} (k={c.base_k}, α={c.alpha:.3f}): "
                     f"measured {c.row.value:.2f}, predicted {c.predicted:.2f} ({_pct(c.error)})")
    right, total = v.signs
    lines += ["", f"batch-1 speedup MAPE {100 * v.mape:.1f} % over {len(v.of_kind('batch-1 speedup'))} rows "
              f"(target <= {100 * MAPE_TARGET:.0f} %); sign at batch > 1: {right} of {total} right"]
    return "\n".join(lines) + "\n"
