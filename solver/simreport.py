"""What a simulation reports: percentiles, throughput, goodput, fleet cost; table, JSON, CSV, PNG.

Latencies per request, as vLLM's benchmark_serving defines them: TTFT = first token - arrival;
TPOT (the per-request inter-token latency) = (finish - first token) / (output - 1); e2e =
finish - arrival. Percentiles are NumPy's linear interpolation over completed requests. Goodput
is the rate of requests meeting every latency requirement the deployment states (`require ttft
<= 2 s`, `itl` is judged on TPOT, `e2e_latency` on e2e), counted over the run's span.
The JSON leaves the program, so it is a pydantic model (`SimulationReport`).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from solver.simulate import SimResult

__all__ = ["Percentiles", "SimulationReport", "render_text", "report", "write_csv", "write_plots"]


class Percentiles(BaseModel):
    mean: float | None
    p50: float | None
    p90: float | None
    p99: float | None


class Fleet(BaseModel):
    replicas_over_time: list[tuple[float, int]]
    peak_replicas: int
    gpu_hours: float
    cost_usd: float
    static_gpu_hours: float          # the peak's replicas held for the whole run
    static_cost_usd: float
    slo_violations_while_starting: int
    static_goodput_share: float | None = None   # the same workload on the static peak fleet


class SimulationReport(BaseModel):
    deployment: str
    workload: str
    requests: int
    completed: int
    duration_s: float
    replicas: int
    ttft_s: Percentiles
    tpot_s: Percentiles
    e2e_s: Percentiles
    request_throughput: float        # completed requests / span
    output_token_throughput: float
    goodput: float                   # requests/s meeting every SLO
    goodput_share: float
    slo: dict[str, float]
    preemptions: int
    rejected: int                    # prompts longer than the KV cache: never served
    kv_utilisation_mean: float
    kv_utilisation_max: float
    queue_mean: float
    queue_max: int
    steps: int
    events: int
    wall_s: float
    events_per_s: float
    # queue and KV over time, at most TIMELINE_POINTS samples: (s, waiting, running, KV share, replicas)
    timeline: list[tuple[float, int, int, float, int]] = []
    fleet: Fleet | None = None


TIMELINE_POINTS = 300


def _pct(x: np.ndarray) -> Percentiles:
    x = x[np.isfinite(x)]
    if not len(x):
        return Percentiles(mean=None, p50=None, p90=None, p99=None)
    p50, p90, p99 = np.percentile(x, [50, 90, 99])
    return Percentiles(mean=float(x.mean()), p50=float(p50), p90=float(p90), p99=float(p99))


def latencies(res: SimResult) -> dict[str, np.ndarray]:
    ttft = res.first_token - res.arrival
    tpot = np.where(res.output > 1, (res.finish - res.first_token) / np.maximum(res.output - 1, 1), np.nan)
    return {"ttft": ttft, "tpot": tpot, "e2e": res.finish - res.arrival}


def meets_slo(res: SimResult) -> np.ndarray:
    lat = latencies(res)
    ok = np.isfinite(lat["e2e"])
    for key, bound in res.cost.slo.items():
        v = lat[key]
        ok &= np.where(np.isfinite(v), v <= bound * (1 + 1e-9), key == "tpot")
    return ok


def report(res: SimResult, workload: str, wall: float, replicas: int,
           fleet: Fleet | None = None) -> SimulationReport:
    lat = latencies(res)
    done = np.isfinite(res.finish)
    span = float(np.nanmax(res.finish) - res.arrival.min()) if done.any() else 0.0
    ok = meets_slo(res)
    samples = res.samples
    # time-weighted KV and queue: each sample holds until the next
    if len(samples) > 1:
        weights = np.diff(samples[:, 0], append=samples[-1, 0])
        total = weights.sum() or 1.0
        kv_mean = float((samples[:, 3] * weights).sum() / total)
        q_mean = float((samples[:, 1] * weights).sum() / total)
    else:
        kv_mean = q_mean = 0.0
    return SimulationReport(
        deployment=res.cost.name, workload=workload, requests=len(res.arrival), completed=int(done.sum()),
        duration_s=span, replicas=replicas,
        ttft_s=_pct(lat["ttft"]), tpot_s=_pct(lat["tpot"]), e2e_s=_pct(lat["e2e"]),
        request_throughput=float(done.sum() / span) if span else 0.0,
        output_token_throughput=float(res.output[done].sum() / span) if span else 0.0,
        goodput=float(ok.sum() / span) if span else 0.0, goodput_share=float(ok.mean()) if len(ok) else 0.0,
        slo=dict(res.cost.slo), preemptions=res.preemptions, rejected=res.rejected,
        kv_utilisation_mean=kv_mean, kv_utilisation_max=float(samples[:, 3].max()) if len(samples) else 0.0,
        queue_mean=q_mean, queue_max=int(samples[:, 1].max()) if len(samples) else 0,
        steps=res.steps, events=res.events, wall_s=wall, events_per_s=res.events / wall if wall > 0 else 0.0,
        timeline=_timeline(samples), fleet=fleet)


def _timeline(samples: np.ndarray) -> list[tuple[float, int, int, float, int]]:
    if not len(samples):
        return []
    pick = np.unique(np.linspace(0, len(samples) - 1, min(TIMELINE_POINTS, len(samples))).astype(int))
    return [(round(float(t), 3), int(w), int(r), round(float(k), 4), int(n)) for t, w, r, k, n in samples[pick]]


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1e3:,.1f} ms" if v < 1 else f"{v:,.2f} s"


def render_text(rep: SimulationReport) -> str:
    lines = [f"simulated {rep.deployment}: {rep.workload}, {rep.requests:,} requests on "
             f"{rep.replicas} replica{'s' if rep.replicas != 1 else ''}"
             + (" (autoscaled)" if rep.fleet else ""), ""]
    lines.append(f"  {'':<6} {'mean':>11} {'p50':>11} {'p90':>11} {'p99':>11}")
    for label, p in (("TTFT", rep.ttft_s), ("TPOT", rep.tpot_s), ("e2e", rep.e2e_s)):
        lines.append(f"  {label:<6} {_ms(p.mean):>11} {_ms(p.p50):>11} {_ms(p.p90):>11} {_ms(p.p99):>11}")
    lines.append("")
    slo = ", ".join(f"{k} <= {_ms(v)}" for k, v in rep.slo.items()) or "none stated"
    lines += [
        f"  completed            {rep.completed:,} of {rep.requests:,} in {rep.duration_s:,.1f} s",
        f"  throughput           {rep.request_throughput:.3g} request/s, {rep.output_token_throughput:,.0f} token/s",
        f"  goodput              {rep.goodput:.3g} request/s ({rep.goodput_share:.1%} meet the SLO: {slo})",
        f"  queue                mean {rep.queue_mean:.3g}, max {rep.queue_max:,} waiting",
        f"  KV cache             mean {rep.kv_utilisation_mean:.1%}, max {rep.kv_utilisation_max:.1%}",
        f"  preemptions          {rep.preemptions:,}" + (f"; {rep.rejected:,} requests rejected (prompt "
                                                           "larger than the KV cache)" if rep.rejected else ""),
        f"  engine steps         {rep.steps:,} ({rep.events:,} events, {rep.wall_s:.2f} s, "
        f"{rep.events_per_s:,.0f} events/s)",
    ]
    if rep.fleet:
        f = rep.fleet
        saved = 1 - f.cost_usd / f.static_cost_usd if f.static_cost_usd else 0.0
        lines += [
            "",
            f"  replicas             peak {f.peak_replicas}; changes: " + ", ".join(
                f"{t / 3600:.2f} h→{n}" for t, n in f.replicas_over_time[:12])
            + (" ..." if len(f.replicas_over_time) > 12 else ""),
            f"  autoscaled           {f.gpu_hours:,.1f} GPU-hours, {f.cost_usd:,.2f} USD",
            f"  static at peak       {f.static_gpu_hours:,.1f} GPU-hours, {f.static_cost_usd:,.2f} USD "
            f"({saved:.0%} saved by scaling)"
            + (f", goodput {f.static_goodput_share:.1%}" if f.static_goodput_share is not None else ""),
            f"  SLO misses while replicas start   {f.slo_violations_while_starting:,}",
        ]
    return "\n".join(lines)


def write_csv(res: SimResult, path: Path) -> None:
    lat = latencies(res)
    ok = meets_slo(res)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["request", "arrival_s", "prompt", "output", "replica", "ttft_s", "tpot_s", "e2e_s",
                    "preemptions", "meets_slo"])
        for i in range(len(res.arrival)):
            w.writerow([i, f"{res.arrival[i]:.6f}", int(res.prompt[i]), int(res.output[i]), int(res.replica[i]),
                        _num(lat["ttft"][i]), _num(lat["tpot"][i]), _num(lat["e2e"][i]), int(res.preempted[i]),
                        str(bool(ok[i])).lower()])


def _num(v: float) -> str:
    return "" if not np.isfinite(v) else f"{v:.6f}"


def write_plots(res: SimResult, folder: Path) -> list[Path]:
    """latency-cdf.png, queue-kv.png (and replicas.png when autoscaled). Needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    lat = latencies(res)
    out = []
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in ("ttft", "e2e"):
        v = np.sort(lat[key][np.isfinite(lat[key])])
        if len(v):
            ax.plot(v, np.arange(1, len(v) + 1) / len(v), label=key.upper())
    ax.set_xscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("share of requests")
    ax.set_title(f"{res.cost.name}: latency CDF")
    ax.grid(True, alpha=0.3)
    ax.legend()
    out.append(folder / "latency-cdf.png")
    fig.savefig(out[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    s = res.samples
    if len(s):
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(s[:, 0] / 60, s[:, 1], lw=0.8, label="waiting requests")
        ax.set_xlabel("minutes")
        ax.set_ylabel("waiting requests")
        ax2 = ax.twinx()
        ax2.plot(s[:, 0] / 60, s[:, 3] * 100, lw=0.8, color="tab:orange", label="KV cache used (%)")
        ax2.set_ylabel("KV cache used (%)")
        ax.set_title(f"{res.cost.name}: queue and KV cache over time")
        fig.legend(loc="upper right")
        out.append(folder / "queue-kv.png")
        fig.savefig(out[-1], dpi=110, bbox_inches="tight")
        plt.close(fig)
    if len(res.scale_events) > 1:
        fig, ax = plt.subplots(figsize=(7, 3))
        ev = res.scale_events + [(float(np.nanmax(res.finish)), res.scale_events[-1][1])]
        ax.step([t / 3600 for t, _ in ev], [n for _, n in ev], where="post")
        ax.set_xlabel("hours")
        ax.set_ylabel("replicas")
        ax.set_title(f"{res.cost.name}: replicas over time")
        out.append(folder / "replicas.png")
        fig.savefig(out[-1], dpi=110, bbox_inches="tight")
        plt.close(fig)
    return out
