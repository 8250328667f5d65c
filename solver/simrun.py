"""`infer simulate`: from command-line options to a workload, a simulation and its report.

One point (a trace, or a rate and a duration) runs here, in-process; several rates or replica
counts (`--rate 2,4,8 --replicas 1,2`) make a grid that `solver/simgrid.py` sends through Dask.
With `--autoscale` the fleet follows the spec's policy record, and the same workload is also run
on a static fleet of the autoscaler's peak size, the provisioning it is compared against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from solver.simreport import Fleet, SimulationReport, meets_slo, render_text, report, write_csv, write_plots
from solver.simulate import SimResult, simulate
from solver.stepcost import StepCost, compile_step_cost
from solver.traces import Workload, generate, read_trace

__all__ = ["SimOptions", "SimUsage", "parse_duration", "run_point", "workload_for"]


class SimUsage(Exception):
    """An option that cannot be read: exit code 2."""


@dataclass(frozen=True)
class SimOptions:
    trace: str | None = None
    rate: float | None = None            # request/s
    duration: float = 600.0              # s
    arrival_cv: float = 1.0
    replicas: int = 1
    autoscale: str | None = None         # "" = the spec's only policy; a name picks one
    curve: str | None = None
    router: str = "least"
    static: bool = False
    deployment: str | None = None
    seed: int = 0
    speedup: float = 1.0
    prompt_cv: float = 0.0
    output_cv: float = 0.0


def parse_duration(text: str) -> float:
    """`600`, `600s`, `10m`, `1.5h` → seconds."""
    t = text.strip().lower()
    scale = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
    for suffix in ("min", "s", "m", "h"):
        if t.endswith(suffix):
            t, factor = t[: -len(suffix)], scale[suffix]
            break
    else:
        factor = 1.0
    try:
        value = float(t) * factor
    except ValueError:
        raise SimUsage(f"cannot read the duration `{text}` (examples: 600, 10m, 1h)") from None
    if not value > 0:
        raise SimUsage("the duration must be positive")
    return value


def workload_for(spec, cost: StepCost, opt: SimOptions) -> Workload:  # type: ignore[no-untyped-def]
    if opt.trace:
        work = read_trace(opt.trace)
        if opt.speedup != 1.0:
            work = work.speedup(opt.speedup)
        return work
    if opt.curve is not None:
        from solver.autoscale import curve_workload

        return curve_workload(spec, opt.curve or None, opt.duration, opt.seed, cost.prompt, cost.output, None,
                              opt.prompt_cv, opt.output_cv)
    if opt.rate is None:
        raise SimUsage("give a workload: --trace FILE, --rate R [--duration D], or --curve [NAME]")
    if not opt.rate > 0:
        raise SimUsage("--rate must be positive")
    return generate(opt.rate * opt.speedup, opt.duration, opt.arrival_cv, int(cost.prompt), int(cost.output),
                    opt.seed, None, opt.prompt_cv, opt.output_cv)


def _fleet(res: SimResult, static_res: SimResult, autoscaler) -> Fleet:  # type: ignore[no-untyped-def]
    cost = res.cost
    end = float(np.nanmax(res.finish)) if np.isfinite(res.finish).any() else 0.0
    peak = max(n for _, n in res.scale_events)
    ok = meets_slo(res)
    at_risk = np.zeros(len(res.arrival), dtype=bool)
    for asked, ready in autoscaler.starting_windows:
        at_risk |= (res.arrival >= asked) & (res.arrival < ready)
    static_seconds = peak * end
    return Fleet(
        replicas_over_time=[(float(t), int(n)) for t, n in res.scale_events], peak_replicas=peak,
        gpu_hours=res.replica_seconds * cost.gpu_count / 3600,
        cost_usd=res.replica_seconds / 3600 * cost.price_per_hour,
        static_gpu_hours=static_seconds * cost.gpu_count / 3600,
        static_cost_usd=static_seconds / 3600 * cost.price_per_hour,
        slo_violations_while_starting=int((at_risk & ~ok).sum()),
        static_goodput_share=float(meets_slo(static_res).mean()) if len(static_res.arrival) else None)


def run_point(spec, opt: SimOptions, cost: StepCost | None = None  # type: ignore[no-untyped-def]
              ) -> tuple[SimulationReport, SimResult]:
    """Simulate one configuration; returns the report and the raw per-request result."""
    cost = cost or compile_step_cost(spec, opt.deployment)
    work = workload_for(spec, cost, opt)
    if not work.count:
        raise SimUsage("the workload holds no requests (a longer --duration or a higher --rate?)")
    started = time.perf_counter()
    if opt.autoscale is not None:
        from solver.autoscale import Autoscaler, read_policy

        policy = read_policy(spec, opt.autoscale or None)
        scaler = Autoscaler(policy, cost.cold_start)
        res = simulate(cost, work, policy.min_replicas, opt.router, opt.static, scaler)
        wall = time.perf_counter() - started
        peak = max(n for _, n in res.scale_events)
        static_res = simulate(cost, work, peak, opt.router, opt.static)
        rep = report(res, work.source, wall, policy.min_replicas, _fleet(res, static_res, scaler))
        return rep, res
    res = simulate(cost, work, opt.replicas, opt.router, opt.static)
    wall = time.perf_counter() - started
    return report(res, work.source, wall, opt.replicas), res


def run_simulation(spec, opt: SimOptions, json_out: bool, csv_path: Path | None,  # type: ignore[no-untyped-def]
                   plot_dir: Path | None, cost: StepCost | None = None) -> tuple[str, list[str]]:
    """The text (or JSON) to print, and notes on files written (for stderr); `cost`: the step cost
    compiled already (a stored one: solver.fastsim)."""
    rep, res = run_point(spec, opt, cost)
    notes = []
    if csv_path is not None:
        write_csv(res, csv_path)
        notes.append(f"wrote {csv_path} ({len(res.arrival):,} requests)")
    if plot_dir is not None:
        try:
            paths = write_plots(res, plot_dir)
        except ImportError:
            raise SimUsage("--plot needs matplotlib: pip install 'infer-planner[plot]'") from None
        notes += [f"wrote {p}" for p in paths]
    return (rep.model_dump_json(indent=2) if json_out else render_text(rep)), notes


def with_point(opt: SimOptions, rate: float | None, replicas: int, autoscale: str | None) -> SimOptions:
    return replace(opt, rate=rate, replicas=replicas, autoscale=autoscale)
