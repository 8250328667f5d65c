"""Grids of simulations (rates x replica counts x policies) through Dask.

A grid point is independent of every other, so the grid is an embarrassingly parallel map: each
point is a task that loads the spec, compiles its step formulas and simulates (the spec is
loaded once per worker and kept). Dask's `distributed` runs the map on a cluster when the user
passes `--scheduler ADDRESS`, and on a local cluster of this machine's cores otherwise; the
results come back in grid order, so a grid is as deterministic as a single run (each point has
its own seed-derived stream, independent of where it ran).

>>> expand([1.0, 2.0], [1, 2], [None])
[(1.0, 1, None), (1.0, 2, None), (2.0, 1, None), (2.0, 2, None)]
"""

from __future__ import annotations

import argparse
import threading
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from solver.simrun import SimOptions, SimUsage, parse_duration, run_point, run_simulation
from solver.traces import parse_arrivals

__all__ = ["expand", "options_from_args", "render_grid", "run_from_args", "run_grid", "simulate_point"]

_load_lock = threading.Lock()


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SimUsage(f"{option} takes numbers separated by commas, not `{text}`") from None
    if not values:
        raise SimUsage(f"{option} needs a value")
    return values


def options_from_args(args: argparse.Namespace) -> SimOptions:
    try:
        cv = parse_arrivals(args.arrivals)
    except ValueError as err:
        raise SimUsage(f"--arrivals: {err}") from None
    lengths = _floats(args.length_cv, "--length-cv")
    if len(lengths) != 2 or min(lengths) < 0:
        raise SimUsage("--length-cv takes two CVs >= 0: prompt,output (for example 0.96,0.77)")
    if not args.speedup > 0:
        raise SimUsage("--speedup must be positive")
    return SimOptions(trace=args.trace, duration=parse_duration(args.duration), arrival_cv=cv,
                      autoscale=args.autoscale, curve=args.curve, router=args.router,
                      static=args.batching == "static", deployment=args.deployment, seed=args.seed,
                      speedup=args.speedup, prompt_cv=lengths[0], output_cv=lengths[1])


def expand(rates: list[float | None], replicas: list[int], policies: list[str | None]
           ) -> list[tuple[float | None, int, str | None]]:
    """The grid's points, rates varying slowest."""
    return [(r, n, p) for r in rates for n in replicas for p in policies]


def run_from_args(spec, args: argparse.Namespace, opt: SimOptions) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    rates: list[float | None] = list(_floats(args.rate, "--rate")) if args.rate else [None]
    replicas = [int(v) for v in _floats(args.replicas, "--replicas")]
    if any(n < 1 for n in replicas):
        raise SimUsage("--replicas must be at least 1")
    if len(rates) == 1 and len(replicas) == 1:
        return run_simulation(spec, replace(opt, rate=rates[0], replicas=replicas[0]), args.json, args.csv,
                              args.plot)
    if args.csv or args.plot:
        raise SimUsage("--csv and --plot take one simulation; a grid prints its table (or --json)")
    points = expand(rates, replicas, [opt.autoscale])
    reports = run_grid(str(args.spec), list(args.sets), opt, points, args.scheduler)
    if args.json:
        import json

        return json.dumps(reports, indent=2), []
    return render_grid(reports), []


@lru_cache(maxsize=8)
def _spec(path: str, sets: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from solver.api import Spec

    return Spec.load(Path(path), list(sets))


def simulate_point(path: str, sets: tuple[str, ...], opt: SimOptions) -> dict[str, Any]:
    """One grid point, run on a Dask worker: a plain dict comes back."""
    with _load_lock:
        spec = _spec(path, sets)
    rep, _ = run_point(spec, opt)
    out = rep.model_dump()
    out["point"] = {"rate": opt.rate, "replicas": opt.replicas, "autoscale": opt.autoscale}
    return out


def run_grid(path: str, sets: list[str], opt: SimOptions, points: list[tuple[float | None, int, str | None]],
             scheduler: str | None = None, cluster: Any = None) -> list[dict[str, Any]]:
    """Every point through Dask: `scheduler` is an address, `cluster` a running cluster (tests)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SimUsage("a grid runs on Dask: pip install 'infer-planner[grid]'") from None
    own = None
    if scheduler:
        client = Client(scheduler)
    elif cluster is not None:
        client = Client(cluster)
    else:
        own = LocalCluster(n_workers=min(len(points), _cores()), threads_per_worker=1, processes=True,
                           dashboard_address=None)
        client = Client(own)
    try:
        futures = [client.submit(simulate_point, path, tuple(sets),
                                 replace(opt, rate=r, replicas=n, autoscale=p), pure=False)
                   for r, n, p in points]
        return list(client.gather(futures))
    finally:
        client.close()
        if own is not None:
            own.close()


def _cores() -> int:
    import os

    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def render_grid(reports: list[dict[str, Any]]) -> str:
    head = f"{'rate':>8} {'replicas':>8} {'TTFT p50':>10} {'TTFT p99':>10} {'TPOT mean':>10} " \
           f"{'e2e p99':>10} {'goodput':>9} {'thru':>8}"
    lines = [head]
    for r in reports:
        pt = r["point"]
        rate = "trace" if pt["rate"] is None else f"{pt['rate']:g}"
        reps = "auto" if pt["autoscale"] is not None else str(pt["replicas"])

        def ms(v: float | None) -> str:
            return "—" if v is None else f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.2f} s"
        lines.append(f"{rate:>8} {reps:>8} {ms(r['ttft_s']['p50']):>10} {ms(r['ttft_s']['p99']):>10} "
                     f"{ms(r['tpot_s']['mean']):>10} {ms(r['e2e_s']['p99']):>10} "
                     f"{r['goodput_share']:>9.1%} {r['request_throughput']:>8.3g}")
    return "\n".join(lines)
