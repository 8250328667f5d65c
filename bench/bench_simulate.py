"""Benchmark of `infer simulate` (a script, not a test): one hour of the Azure traces through a deployment.

    python bench/bench_simulate.py [--runs N] [--no-write]

For each case: the spec is loaded and its step formulas compiled once (timed apart), then the whole
trace (validation/traces/, Azure LLM inference 2023, CC-BY 4.0) is simulated N times; the table
gives the median CPU time of the process (one core: the simulator is single-threaded), the wall
time, events per second (arrivals and engine-step events, a run of identical decode steps being
one event) and simulated engine steps per second. The target is <= 10 s for the conversation
hour (19,366 requests) on one core. Writes the section `## infer simulate` at the end of
bench/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASES = [
    ("specs/traffic-chat.infer", "Llama 3.1 8B, 1x H100 SXM", "azure-llm-2023-conv.csv"),
    ("specs/traffic-chat.infer", "Llama 3.1 8B, 1x H100 SXM", "azure-llm-2023-code.csv"),
    ("specs/chat.infer", "Llama 3.1 70B FP8, 4x H100 SXM", "azure-llm-2023-conv.csv"),
]
MARK = "## infer simulate"


def run_case(spec_path: str, trace: str, runs: int) -> dict[str, float]:
    from solver.api import Spec
    from solver.simulate import simulate
    from solver.stepcost import compile_step_cost
    from solver.traces import read_trace

    t0 = time.perf_counter()
    spec = Spec.load(REPO / spec_path)
    cost = compile_step_cost(spec)
    compile_s = time.perf_counter() - t0
    work = read_trace(REPO / "validation" / "traces" / trace)
    cpu, wall, events, steps = [], [], 0, 0
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        res = simulate(cost, work)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        events, steps = res.events, res.steps
    c = statistics.median(cpu)
    return {"requests": work.count, "compile": compile_s, "cpu": c, "wall": statistics.median(wall),
            "events": events, "steps": steps, "events_per_s": events / c, "steps_per_s": steps / c}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    for spec, label, trace in CASES:
        r = run_case(spec, trace, args.runs)
        rows.append(f"| {Path(spec).name} ({label}) | {trace} | {r['requests']:,} | {r['compile'] * 1e3:.0f} ms | "
                     f"{r['cpu']:.2f} s | {r['wall']:.2f} s | {r['events']:,} | {r['events_per_s']:,.0f} | "
                     f"{r['steps']:,} | {r['steps_per_s']:,.0f} |")
        print(rows[-1], flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    section = "\n".join([
        MARK, "",
        f"Written by `python bench/bench_simulate.py` ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load}; median of {args.runs} runs). One hour of each "
        "Azure 2023 trace, one replica; CPU time is the process's own (the simulator uses one core). "
        "Target: the conversation hour in <= 10 s.", "",
        "| spec (deployment) | trace | requests | load + compile | CPU | wall | events | events/s (CPU) | "
        "engine steps | steps/s (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows, ""])
    if not args.no_write:
        path = REPO / "bench" / "RESULTS.md"
        text = path.read_text(encoding="utf-8")
        if MARK in text:
            text = text[: text.index(MARK)].rstrip() + "\n"
        path.write_text(text.rstrip() + "\n\n" + section, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
