"""Latency under load: predict the `LQ*` rows of validation/features.csv with the formula and the simulation.

The rows are vLLM v0.8.5 `benchmark_serving.py` runs (IOG-Foundation/llm-inference-benchmarks):
200 ShareGPT prompts sent as a Poisson stream at 1-32 request/s to Llama 3 8B on one H100 PCIe
and Llama 3 70B on two. Each row is predicted twice:

- formula: `traffic.load` (stdlib/traffic.infer) around a `serving.deployment` of the row's
  model and GPU, at the row's rate; a rate at or past its `saturation_rate` has no steady state,
  reported as such;
- simulation: the same deployment through `solver/simulate.py`, 200 requests drawn as the
  benchmark draws them (Poisson, lognormal lengths with the dataset's means), averaged over
  SEEDS seeds; throughput as the benchmark counts it (completed / time from first arrival to
  last completion).

What the rows do not state is fixed here once, for every row: the mean lengths (prompt 205.8
tokens from the row's setting; output from the rows' own token totals, LENGTH_NOTE), a length
CV of 1 for both (ShareGPT's spread is not in the rows: an assumption), vLLM 0.8.5's server
defaults (max_num_batched_tokens 2048 for `vllm serve` under the V1 engine, max_num_seqs 256,
gpu_memory_utilization 0.9). The Azure trace rows (LQ56-LQ61) check the trace reader instead:
request rate and median lengths recomputed from validation/traces/.
"""

from __future__ import annotations

import math
import re
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy

from solver.measured import read_records

__all__ = ["SETUPS", "LqResult", "agreement", "agreement_markdown", "markdown", "predict", "tables", "trace_checks"]

REPO = Path(__file__).resolve().parent.parent
FEATURES = REPO / "validation" / "features.csv"
TRACES = REPO / "validation" / "traces"

# features.csv model name -> (catalog model, catalog GPU, tp). Llama 3 70B is Llama 3.1 70B's
# architecture (models.infer has no separate entry; only the context window differs).
SETUPS: dict[str, tuple[str, str, int]] = {
    "Meta-Llama-3-8B-Instruct": ("models.llama_3_8b", "gpus.h100_pcie", 1),
    "Meta-Llama-3-70B-Instruct": ("models.llama_3_1_70b", "gpus.h100_pcie", 2),
}
PROMPT_MEAN = 41169 / 200          # the rows' setting: 41,169 input tokens over 200 prompts
LENGTH_CV = 1.0                    # assumed for ShareGPT prompts and outputs
LENGTH_NOTE = "total token throughput"
SEEDS = 5
REQUESTS = 200
VLLM_SERVE = "max_batched_tokens = 2048 token"   # vLLM 0.8.5 V1 `vllm serve` default
METRICS = ("ttft_mean", "ttft_p99", "tpot_mean", "request_throughput")
_NO_SIM = {m: math.nan for m in METRICS}


@dataclass(frozen=True)
class LqResult:
    id: str
    model: str
    rate: float
    metric: str
    measured: float              # ms, or req/s for throughput
    formula: float | None        # None: past the formula's saturation rate (no steady state)
    simulated: float
    saturated: bool              # the measured run was past its saturation (the row's note says where)

    def error(self, which: str) -> float | None:
        value = self.formula if which == "formula" else self.simulated
        return None if value is None else value / self.measured - 1


def _rows() -> list[dict[str, str]]:
    return [raw for _, raw in read_records(FEATURES, ("id",), "LQ")]


def _rate(setting: str) -> float | None:
    m = re.search(r"Poisson (?:request rate )?([\d.]+) req/s", setting)
    return float(m.group(1)) if m else None


def output_mean(rows: list[dict[str, str]]) -> float:
    """Output tokens per request from the rows' totals: tokens/s / requests/s - prompt mean."""
    per = []
    for r in rows:
        m = re.search(r"total token throughput ([\d.]+) tok/s", r["note"])
        if r["metric"] == "request_throughput" and m:
            per.append(float(m.group(1)) / float(r["value"]) - PROMPT_MEAN)
    return statistics.mean(per)


def _spec_text(rates: dict[str, list[float]], output: float) -> str:
    lines = ["import gpus", "import models", "import serving", "import traffic", ""]
    for i, (name, (model, gpu, tp)) in enumerate(SETUPS.items()):
        lines += [f"d{i} = serving.deployment {{", f"  model = {model}", f"  gpu = {gpu}", f"  tp = {tp}",
                  f"  prompt = {PROMPT_MEAN:.4f} token", f"  output = {output:.4f} token", "  batch: count",
                  f"  {VLLM_SERVE}", "}"]
        if rates.get(name):      # one load record a model; each rate is set when it is evaluated
            lines += [f"l{i} = traffic.load {{", f"  deployment = d{i}", "  request_rate: request/s",
                      f"  prompt_cv = {LENGTH_CV:g}", f"  output_cv = {LENGTH_CV:g}", "}"]
    return "\n".join(lines) + "\n"


def _simulate(cost, rate: float, output: float) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from solver.simulate import simulate
    from solver.traces import Workload, generate

    out: dict[str, list[float]] = {m: [] for m in METRICS}
    for seed in range(SEEDS):
        w = generate(rate, 3 * REQUESTS / rate, 1.0, round(PROMPT_MEAN), round(output), seed, None,
                     LENGTH_CV, LENGTH_CV)
        w = Workload(w.arrival[:REQUESTS], w.prompt[:REQUESTS], w.output[:REQUESTS], w.source)
        res = simulate(cost, w)
        ttft = (res.first_token - res.arrival) * 1e3
        many = res.output > 1
        tpot = (res.finish[many] - res.first_token[many]) / (res.output[many] - 1) * 1e3
        out["ttft_mean"].append(float(np.mean(ttft)))
        out["ttft_p99"].append(float(np.percentile(ttft, 99)))
        out["tpot_mean"].append(float(np.mean(tpot)))
        out["request_throughput"].append(len(w.arrival) / float(np.max(res.finish) - w.arrival[0]))
    return {m: statistics.mean(v) for m, v in out.items()}


def _steady_capacity(cost, rate: float, output: float, window: float = 900.0) -> float:  # type: ignore[no-untyped-def]
    """Requests/s the simulated replica completes in a long overloaded run (its steady capacity)."""
    from solver.simulate import simulate
    from solver.traces import generate

    w = generate(rate, window, 1.0, round(PROMPT_MEAN), round(output), 0, None, LENGTH_CV, LENGTH_CV)
    res = simulate(cost, w)
    late = (res.finish > window / 3) & (res.finish <= window)     # completions once the queue has formed
    return float(late.sum() / (window - window / 3))


def predict(simulation: bool = True) -> tuple[list[LqResult], dict[str, tuple[float, float, float]]]:
    """Every latency row, and per model the formula's and the simulation's saturation rate.

    Without `simulation` the simulated figures are NaN (the formula alone takes a few seconds).
    """
    from solver.api import Spec
    from solver.stepcost import compile_step_cost

    rows = [r for r in _rows() if r["model"] in SETUPS and r["metric"] in METRICS and _rate(r["setting"])]
    output = output_mean(_rows())
    rates: dict[str, list[float]] = {}
    for r in rows:
        rate = _rate(r["setting"])
        assert rate is not None
        if rate not in rates.setdefault(r["model"], []):
            rates[r["model"]].append(rate)
    with tempfile.TemporaryDirectory(prefix="infer-lq-") as tmp:
        path = Path(tmp) / "lq.infer"
        path.write_text(_spec_text(rates, output), encoding="utf-8")
        spec = Spec.load(path)
        values: dict[str, sympy.Basic] = {}
        for i, name in enumerate(SETUPS):
            for j, rate in enumerate(rates.get(name, [])):
                at = spec.evaluator.values(
                    fixed={f"l{i}.request_rate": sympy.Float(rate)},
                    only=[f"l{i}.{q}" for q in ("utilisation", "ttft_mean", "ttft_p99", "itl", "saturation_rate")])
                values.update({f"l{i}_{j}.{k.split('.', 1)[1]}": v for k, v in at.items() if k.startswith(f"l{i}.")})
        costs = {name: compile_step_cost(spec, f"d{i}") for i, name in enumerate(SETUPS)}

    def num(name: str) -> float | None:
        v = values.get(name)
        return float(v) if v is not None and v.is_number else None

    sims: dict[tuple[str, float], dict[str, float]] = {}
    results: list[LqResult] = []
    saturation: dict[str, tuple[float, float, float]] = {}
    for i, name in enumerate(SETUPS):
        if name not in rates:
            continue
        sat_formula = num(f"l{i}_0.saturation_rate") or float("nan")
        top = max(rates[name])
        sims[(name, top)] = _simulate(costs[name], top, output) if simulation else _NO_SIM
        saturation[name] = (sat_formula, sims[(name, top)]["request_throughput"],
                            _steady_capacity(costs[name], 1.5 * sat_formula, output) if simulation else math.nan)
    for r in rows:
        name, rate = r["model"], _rate(r["setting"])
        assert rate is not None
        i = list(SETUPS).index(name)
        j = rates[name].index(rate)
        if (name, rate) not in sims:
            sims[(name, rate)] = _simulate(costs[name], rate, output) if simulation else _NO_SIM
        load = f"l{i}_{j}"
        steady = (num(f"{load}.utilisation") or 2.0) < 1
        formula = {
            "ttft_mean": num(f"{load}.ttft_mean"), "ttft_p99": num(f"{load}.ttft_p99"),
            "tpot_mean": num(f"{load}.itl"), "request_throughput": None,
        }[r["metric"]]
        if formula is not None and r["metric"] != "request_throughput":
            formula *= 1e3
        if not steady:
            formula = None
        # request_throughput of a 200-request run includes its drain tail: a transient, which the
        # steady-state formula does not describe (compared with the simulation only).
        results.append(LqResult(r["id"], name, rate, r["metric"], float(r["value"]), formula,
                                sims[(name, rate)][r["metric"]], _known_saturated(name, rate)))
    return results, saturation


def _known_saturated(model: str, rate: float) -> bool:
    # LQ21-25's note: the 70B deployment "saturates near 3 req/s" (its throughput tops out at 3.10).
    return model.endswith("70B-Instruct") and rate > 3.1


def trace_checks() -> list[tuple[str, str, float, float]]:
    """(row id, metric, published, recomputed by solver/traces.py) for the Azure trace rows."""
    from solver.traces import read_trace

    out = []
    for r in _rows():
        if not r["id"].startswith("LQ") or "trace" not in r["model"]:
            continue
        kind = "code" if "coding" in r["setting"] else "conv"
        w = read_trace(TRACES / f"azure-llm-2023-{kind}.csv")
        value = {"mean_arrival_rate": w.count / w.duration,     # as published: requests / (last - first)
                 "median_context_tokens": float(np.median(w.prompt)),
                 "median_generated_tokens": float(np.median(w.output))}.get(r["metric"])
        if value is not None:
            out.append((r["id"], r["metric"], float(r["value"]), value))
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:+.0%}"


def markdown(results: list[LqResult], saturation: dict[str, tuple[float, float, float]],
             traces: list[tuple[str, str, float, float]]) -> str:
    lines = ["| row | model | rate (req/s) | metric | measured | formula | error | simulation | error |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        unit = "req/s" if r.metric == "request_throughput" else "ms"
        f = ("n/a (transient)" if r.metric == "request_throughput" else "saturated") if r.formula is None \
            else f"{r.formula:.3g}"
        lines.append(f"| {r.id} | {r.model.replace('Meta-', '').replace('-Instruct', '')} | {r.rate:g} | "
                     f"{r.metric} | {r.measured:.4g} {unit} | {f} | {_pct(r.error('formula'))} | "
                     f"{r.simulated:.4g} | {_pct(r.error('simulation'))} |")
    lines += ["", "| metric (below saturation) | rows | formula MAPE | simulation MAPE |", "|---|---|---|---|"]
    for metric in METRICS:
        sel = [r for r in results if r.metric == metric and not r.saturated]
        fe = [abs(e) for r in sel if (e := r.error("formula")) is not None]
        se = [abs(e) for r in sel if (e := r.error("simulation")) is not None]
        lines.append(f"| {metric} | {len(sel)} | {statistics.mean(fe):.0%} ({len(fe)} rows) | "
                     f"{statistics.mean(se):.0%} |" if fe else f"| {metric} | {len(sel)} | — | "
                     f"{statistics.mean(se):.0%} |" if se else f"| {metric} | 0 | — | — |")
    lines += ["", "| model | measured (req/s) | formula `saturation_rate` | error | simulated, same 200-request "
              "run | error | simulated steady capacity |", "|---|---|---|---|---|---|---|"]
    for name, (formula, simulated, steady) in saturation.items():
        measured = max((r.measured for r in results if r.model == name and r.metric == "request_throughput"
                        and r.saturated), default=None)
        short = name.replace("Meta-", "").replace("-Instruct", "")
        if measured is None:
            lines.append(f"| {short} | not saturated up to the top rate | {formula:.3g} | — | "
                         f"{simulated:.3g} | — | {steady:.3g} |")
        else:
            lines.append(f"| {short} | {measured:.3g} | {formula:.3g} | {formula / measured - 1:+.0%} | "
                         f"{simulated:.3g} | {simulated / measured - 1:+.0%} | {steady:.3g} |")
    lines += ["", "| row | trace statistic | published | recomputed |", "|---|---|---|---|"]
    lines += [f"| {rid} | {metric} | {pub:g} | {ours:.4g} |" for rid, metric, pub, ours in traces]
    return "\n".join(lines)


# Formula against simulation on the worked example (specs/traffic-chat.infer): where the
# approximation's assumptions hold, and where they do not (docs/traffic.md).
SCENARIOS: list[tuple[str, float, float, float]] = [     # label, rate (req/s), arrival CV, length CV
    ("Poisson, fixed lengths, light load", 5.0, 1.0, 0.0),
    ("Poisson, fixed lengths, moderate load", 10.0, 1.0, 0.0),
    ("Poisson, fixed lengths, heavy load", 15.0, 1.0, 0.0),
    ("Poisson, trace-like lengths (CV 0.96 / 0.77)", 10.0, 1.0, -1.0),
    ("bursts: gamma arrivals, CV 3", 10.0, 3.0, 0.0),
    ("heavy tails: lengths CV 2", 10.0, 1.0, 2.0),
    ("near saturation (the p99 SLO's rate)", 19.29, 1.0, -1.0),
]
COMPARED = ("ttft_mean", "ttft_p99", "itl", "e2e_p99")


def agreement(spec_path: Path | None = None, duration: float = 600.0, seeds: int = 3
              ) -> list[tuple[str, float, dict[str, tuple[float, float]]]]:
    """(scenario, utilisation, {quantity: (formula, simulation)}) for each scenario, seconds."""
    from solver.api import Spec
    from solver.simulate import simulate
    from solver.stepcost import compile_step_cost
    from solver.traces import generate

    path = spec_path or REPO / "specs" / "traffic-chat.infer"
    out = []
    cost = None
    for label, rate, arrival_cv, length_cv in SCENARIOS:
        p_cv, o_cv = (0.96, 0.77) if length_cv < 0 else (length_cv, length_cv)
        spec = Spec.load(path, [f"peak.request_rate={rate}", f"peak.arrival_cv={arrival_cv}",
                                f"peak.prompt_cv={p_cv}", f"peak.output_cv={o_cv}"])
        v = spec.evaluator.values(only=[f"peak.{q}" for q in (*COMPARED, "utilisation")])
        cost = cost or compile_step_cost(spec)
        sims: dict[str, list[float]] = {q: [] for q in COMPARED}
        for seed in range(seeds):
            res = simulate(cost, generate(rate, duration, arrival_cv, 1155, 211, seed, None, p_cv, o_cv))
            ttft, e2e = res.first_token - res.arrival, res.finish - res.arrival
            many = res.output > 1
            sims["ttft_mean"].append(float(ttft.mean()))
            sims["ttft_p99"].append(float(np.percentile(ttft, 99)))
            sims["itl"].append(float(np.mean((res.finish[many] - res.first_token[many]) / (res.output[many] - 1))))
            sims["e2e_p99"].append(float(np.percentile(e2e, 99)))
        out.append((label, float(v["peak.utilisation"]),
                    {q: (float(v[f"peak.{q}"]), statistics.mean(sims[q])) for q in COMPARED}))
    return out


def agreement_markdown(rows: list[tuple[str, float, dict[str, tuple[float, float]]]]) -> str:
    head = "| scenario | utilisation | " + " | ".join(f"{q}: formula / simulation (error)" for q in COMPARED) + " |"
    lines = [head, "|---|---|" + "---|" * len(COMPARED)]
    for label, util, cells in rows:
        parts = []
        for q in COMPARED:
            f, s = cells[q]
            unit, k = ("s", 1.0) if max(f, s) >= 1 else ("ms", 1e3)
            parts.append(f"{f * k:.3g} / {s * k:.3g} {unit} ({f / s - 1:+.0%})")
        lines.append(f"| {label} | {util:.0%} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def tables() -> str:
    """Every table of docs/validation-load.md and docs/traffic.md (`infer validate --load`)."""
    results, saturation = predict()
    return markdown(results, saturation, trace_checks()) + "\n\n" + agreement_markdown(agreement())
