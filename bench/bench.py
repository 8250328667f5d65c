"""Benchmark of `infer` (a script, not a test): solve wall time cold and warm, and sweep speed.

    python bench/bench.py [--runs N] [--points N] [--no-write]

Measures, for specs/kv-budget.infer and (when present and working)
/work/shared/acceptance/chat.infer:

- cold `infer solve`: a fresh Python process per run, median of N,
  (a) with no on-disk caches (an empty XDG_CACHE_HOME: the grammar tables, the
      unit look-ups and the result cache all start empty),
  (b) with the grammar and unit caches warm but the result cache off
      (INFER_CACHE=0: every run parses, checks and solves),
  (c) with every cache warm (the result cache replays the output);
- warm `solve` in-process (imports done, the spec loaded again each time, and
  solving alone on a loaded spec), median of N;
- sweep points per second: the formulas compiled once (`compile_sweep`) and
  evaluated on a grid of about a million points; the target is > 1e6 points/s.

It prints a table with the machine, and writes bench/RESULTS.md (the date,
the machine, the table) unless --no-write is given. The caches under test
live in temporary folders, so ~/.cache/infer is neither read nor changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

KV = ("specs/kv-budget.infer", "max_context",
      {"batch": (1, 1000), "context": (1, 1000)}, ["kv_total"])
CHAT = ("/work/shared/acceptance/chat.infer", "max_batch",
        {"chat.batch": (1, 1024), "chat.prompt": (128, 1127)}, ["chat.itl", "chat.throughput"])


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    if not cpu or cpu == platform.machine():
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
    try:
        load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        load = "load average unknown"
    return {"cpu": cpu or platform.machine(), "cpus": str(os.cpu_count()),
            "python": platform.python_version(), "os": f"{platform.system()} {platform.release()}",
            "load": load}


def _cli(spec: str, target: str) -> list[str]:
    return [sys.executable, "-m", "solver.cli", "solve", spec, "--for", target]


def _run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def cold(spec: str, target: str, runs: int) -> dict[str, float]:
    base = {k: v for k, v in os.environ.items() if k not in ("INFER_CACHE", "XDG_CACHE_HOME")}
    argv = _cli(spec, target)
    out: dict[str, float] = {}
    empty = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            empty.append(_run_once(argv, {**base, "XDG_CACHE_HOME": tmp}))
    out["cold, no caches"] = statistics.median(empty)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**base, "XDG_CACHE_HOME": tmp}
        _run_once(argv, env)                               # fill the caches
        no_memo = {**env, "INFER_CACHE": "0"}
        out["cold, parse/unit caches (INFER_CACHE=0)"] = statistics.median(
            _run_once(argv, no_memo) for _ in range(runs))
        out["cold, every cache warm"] = statistics.median(_run_once(argv, env) for _ in range(runs))
    return out


def warm(spec: str, target: str, runs: int) -> dict[str, float]:
    from solver.api import Spec

    path = REPO / spec if not Path(spec).is_absolute() else Path(spec)
    Spec.load(path).solve(target)                        # imports and first-use work
    load_solve = []
    for _ in range(runs):
        start = time.perf_counter()
        Spec.load(path).solve(target)
        load_solve.append(time.perf_counter() - start)
    loaded = Spec.load(path)
    loaded.solve(target)
    solve_only = []
    for _ in range(runs):
        start = time.perf_counter()
        loaded.solve(target)
        solve_only.append(time.perf_counter() - start)
    return {"warm, load + solve (in-process)": statistics.median(load_solve),
            "warm, solve a loaded spec": statistics.median(solve_only)}


def sweep_speed(spec: str, vary: dict[str, tuple[int, int]], report: list[str], runs: int,
                points: int) -> dict[str, float]:
    from solver.api import Spec
    from solver.sweep import compile_sweep

    path = REPO / spec if not Path(spec).is_absolute() else Path(spec)
    loaded = Spec.load(path)
    side = max(2, round(points ** (1 / len(vary))))
    axes = [np.linspace(lo, hi, side).round() for lo, hi in vary.values()]
    total = side ** len(vary)
    start = time.perf_counter()
    fn = compile_sweep(loaded, list(vary), report)
    compile_s = time.perf_counter() - start
    fn(*axes)
    evals = []
    for _ in range(runs):
        start = time.perf_counter()
        out = fn(*axes)
        evals.append(time.perf_counter() - start)
    finite = all(np.isfinite(out[r]).all() for r in report)
    best = statistics.median(evals)
    return {"points": float(total), "compile s": compile_s, "evaluate s": best,
            "points/s": total / best, "end-to-end points/s": total / (compile_s + best),
            "all finite": float(finite)}


def _works(spec: str, target: str) -> str | None:
    path = Path(spec) if Path(spec).is_absolute() else REPO / spec
    if not path.is_file():
        return "not present"
    try:
        from solver.api import Spec

        Spec.load(path).solve(target)
    except Exception as err:
        return f"does not solve: {str(err).splitlines()[0][:120]}"
    return None


def _fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="runs per measurement (median)")
    ap.add_argument("--points", type=int, default=1_000_000, help="sweep grid size")
    ap.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = ap.parse_args()
    os.chdir(REPO)

    info = machine()
    rows: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for spec, target, vary, report in (KV, CHAT):
        why = _works(spec, target)
        name = Path(spec).name
        if why:
            skipped.append(f"{name}: {why}")
            continue
        shown = spec if not Path(spec).is_absolute() else name
        for label, value in {**cold(spec, target, args.runs), **warm(spec, target, args.runs)}.items():
            rows.append((f"{name} `solve --for {target}`", label, _fmt_s(value)))
        s = sweep_speed(spec, vary, report, args.runs, args.points)
        grid = " × ".join(vary)
        rows.append((f"{name} sweep {grid} → {', '.join(report)}",
                     f"{int(s['points']):,} points: compile / evaluate",
                     f"{_fmt_s(s['compile s'])} / {_fmt_s(s['evaluate s'])}"))
        rows.append((f"{name} sweep", "points/s (evaluate; target > 1e6)",
                     f"{s['points/s']:.3g}" + ("" if s["all finite"] else " (some not finite)")))
        rows.append((f"{name} sweep", "points/s (compile + evaluate)", f"{s['end-to-end points/s']:.3g}"))
        del shown

    header = (f"machine: {info['cpu']}, {info['cpus']} CPUs, Python {info['python']}, {info['os']}; "
              f"{info['load']} at the start; median of {args.runs} runs")
    widths = [max(len(r[i]) for r in rows + [("what", "measure", "time")]) for i in range(3)]
    lines = [header, "",
             "  ".join(h.ljust(w) for h, w in zip(("what", "measure", "time"), widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    lines += [f"skipped {s}" for s in skipped]
    print("\n".join(lines))

    if not args.no_write:
        today = dt.date.today().isoformat()
        md = [f"# Benchmark results ({today})", "",
              "Written by `python bench/bench.py`; rerun it to refresh.", "",
              f"- Machine: {info['cpu']}, {info['cpus']} CPUs, {info['os']}",
              f"- Python {info['python']}; median of {args.runs} runs",
              f"- {info['load']} when the run started (1, 5, 15 min): other work on a shared machine",
              "  inflates the cold-start rows most; compare rows of one run, not across runs", "",
              "| what | measure | time |", "|---|---|---|"]
        md += [f"| {a} | {b} | {c} |" for a, b, c in rows]
        md += [""] + [f"Skipped: {s}" for s in skipped]
        (REPO / "bench" / "RESULTS.md").write_text("\n".join(md).rstrip() + "\n", encoding="utf-8")
        print("\nwrote bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
