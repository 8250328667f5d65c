"""Where a new question's second goes, and the issue-15 targets side by side (a script, not a test).

    python bench/startup.py [--runs N] [--no-write] [--yardstick PYTHON | --install-yardstick]

For `infer solve specs/chat.infer --for max_batch --set chat.prompt=<n>token`:

1. wall and CPU time of the command line in a fresh process, median of N, each in one run:
   a new question on a spec whose modules are cached (another `--set` value each
   time: the result cache misses) through the full pipeline and through the compiled
   form (the CLI as it is with `INFER_COMPILED=1`: whatever the compiled form answers,
   it answers; the rest falls back), the first run of a spec never seen (its own text
   new; the stdlib's parse and unit caches warm), the first run with every cache
   empty, and the same question again (the result cache replays it);
2. in-process: solving `max_batch` on a loaded spec, and evaluating every quantity: the median
   CPU time of IN_PROCESS_CALLS calls after IN_PROCESS_WARMUP (nothing of one call's answer
   is kept for the next: each call does a new question's work), with the ratio to the
   issue's target, and whether the compiled form answered or the full pipeline did
   (`--in-process` prints these rows alone, and writes nothing);
3. the stages of one new question, timed inside one fresh process (imports of each
   dependency, loading the spec, solving, rendering);
4. import time per top-level package of the command (`python -X importtime`), and the
   command's heaviest imports as `-X importtime` lists them.

Rows are shown as ratios to the yardstick the issue names: llm-analysis's CLI answering one
configuration (Llama-2-70B from its own model table, H100 SXM, TP 4, batch 64, 1000 + 512
tokens), timed in the same run the same way (median of N fresh processes, wall and CPU). It
runs from its own virtual environment: `--install-yardstick` makes one
(`pip install llm-analysis==0.2.2` into ~/.cache/infer-bench/llm-analysis), `--yardstick
PYTHON` names another interpreter that has it. Without either, the issue's figure (0.47 s wall
on the same kind of machine) stands in. Writes bench/STARTUP.md unless --no-write.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
YARDSTICK_S = 0.47          # llm-analysis, one configuration, CLI (issue 15, same machine class)
YARDSTICK_VERSION = "0.2.2"
YARDSTICK_VENV = Path.home() / ".cache" / "infer-bench" / "llm-analysis"
# One configuration, from llm-analysis's own tables (no download): the model closest to chat.infer's.
YARDSTICK_ARGS = ["-m", "llm_analysis.analysis", "infer", "--model_name", "upstage_Llama-2-70b-instruct-v2",
                  "--gpu_name", "h100-sxm-80gb", "--dtype_name", "w16a16e16", "--tp_size", "4",
                  "--batch_size_per_gpu", "64", "--seq_len", "1000", "--num_tokens_to_generate", "512",
                  "--log_level", "ERROR"]

STAGES = r"""
import time, json, sys
t0 = time.process_time(); marks = []
def mark(name): marks.append((name, time.process_time()))
import solver.startup; solver.startup.prepare()     # as the `infer` executable starts (GC, BLAS threads)
import numpy; mark("import numpy")
import sympy; mark("import sympy")
import lark; mark("import lark")
import solver.cli, solver.api, solver.optimize, solver.render, solver.results; mark("import lang/solver modules")
spec = solver.api.Spec.load(sys.argv[1], [sys.argv[2]]); mark("load: parse (cached), resolve, unit-check")
sol = spec.solve("max_batch"); mark("solve max_batch (first, in this process)")
solver.render.render_solution(sol, "text"); mark("render text")
prev, out = t0, []
for name, t in marks:
    out.append([name, t - prev]); prev = t
print(json.dumps(out))
"""


def _env(cache: Path, result_cache: bool, compiled: bool = False) -> dict[str, str]:
    """The environment of one timed run (INFER_COMPILED=1 is the CLI's default)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), PYTHONPATH=str(REPO))
    env["INFER_COMPILED"] = "1" if compiled else "0"
    # As a user's Python runs: with bytecode caches (some sandboxes turn them off, and then every
    # start compiles our 10,000 lines again, ~0.1 s).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["INFER_CACHE"] = "1" if result_cache else "0"
    return env


def _wall(argv: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of a command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def _cli(spec: str, prompt: int) -> list[str]:
    return [sys.executable, "-m", "solver.cli", "solve", spec, "--for", "max_batch",
            "--set", f"chat.prompt={prompt}token"]


def _eval(spec: str, prompt: int) -> list[str]:
    return [sys.executable, "-m", "solver.cli", "eval", spec, "--set", f"chat.prompt={prompt}token"]


def eval_rows(runs: int, work: Path) -> dict[str, tuple[float, float]]:
    """`infer eval` with a new `--set` value: the full pipeline, and the compiled form."""
    full_env, fast_env = _env(work / "cache", True), _env(work / "cache", True, compiled=True)
    _wall(_eval("specs/chat.infer", 999), fast_env)            # builds the compiled form
    _wall(_eval("specs/chat.infer", 998), full_env)
    full = [_wall(_eval("specs/chat.infer", 2000 + i), full_env) for i in range(runs)]
    fast = [_wall(_eval("specs/chat.infer", 3000 + i), fast_env) for i in range(runs)]
    first = []
    for i in range(runs):
        copy = work / f"chat-eval-{i}.infer"
        copy.write_text((REPO / "specs" / "chat.infer").read_text() + f"\n# copy {i}\n")
        first.append(_wall(_eval(str(copy), 1000), fast_env))
    def derive(prompt: int) -> list[str]:
        return [sys.executable, "-m", "solver.cli", "solve", "specs/chat.infer", "--for", "chat.prefill_time",
                "--set", f"chat.prompt={prompt}token"]

    fwd_full = [_wall(derive(4000 + i), full_env) for i in range(runs)]
    fwd_fast = [_wall(derive(5000 + i), fast_env) for i in range(runs)]
    return {"full": _median(full), "fast": _median(fast), "first": _median(first),
            "fwd_full": _median(fwd_full), "fwd_fast": _median(fwd_fast)}


def reach_rows(runs: int, work: Path) -> dict[str, tuple[float, float]]:
    """Commands beyond eval/solve on a cached spec (issue 15: "the same compiled form serves..."):
    each a new question, full pipeline (`INFER_COMPILED=0`) then compiled (`INFER_COMPILED=1`)."""
    full_env, fast_env = _env(work / "cache", True), _env(work / "cache", True, compiled=True)
    cli = [sys.executable, "-m", "solver.cli"]
    api = ("import sys\nfrom solver.api import Spec\nspec = Spec.load('specs/chat.infer', [sys.argv[1]])\n"
           "spec.eval(), spec.solve('chat.prefill_time')")
    questions = {
        "sweep": lambda i: [*cli, "sweep", "specs/chat.infer", "--vary", f"chat.batch=1..{64 + i}",
                            "--report", "chat.ttft,chat.itl", "--set", "chat.prompt=2000token"],
        "simulate": lambda i: [*cli, "simulate", "specs/traffic-chat.infer", "--rate", f"{1 + i / 1000}",
                               "--duration", "60"],
        "api": lambda i: [sys.executable, "-c", api, f"chat.prompt={3000 + i}token"],
        "export": lambda i: [*cli, "export", "specs/chat.infer", "--for", "chat.prefill_time",
                             "--set", f"chat.prompt={4000 + i}token"],
        "in": lambda i: [*cli, "solve", "specs/chat.infer", "--for", "chat.kv_per_token", "--in", "B/token",
                         "--set", f"chat.prompt={5000 + i}token"],
    }
    out: dict[str, tuple[float, float]] = {}
    for name, argv in questions.items():
        if name in ("api", "export"):       # the Python API reads the form the CLI's eval keeps
            _wall([*cli, "eval", "specs/chat.infer"], fast_env)
        _wall(argv(900), fast_env)          # the full pipeline answers and stores what it can
        out[f"{name}_full"] = _median([_wall(argv(100 + i), full_env) for i in range(runs)])
        out[f"{name}_fast"] = _median([_wall(argv(200 + i), fast_env) for i in range(runs)])
    return out


def reach_lines(reach: dict[str, tuple[float, float]], cell: Callable[[tuple[float, float]], str]) -> list[str]:
    shown = {"sweep": "`sweep specs/chat.infer --vary chat.batch=1..N --report chat.ttft,chat.itl --set …`, "
                      "new N",
             "simulate": "`simulate specs/traffic-chat.infer --rate R --duration 60`, new R",
             "api": "Python: `Spec.load('specs/chat.infer', [new --set])`, `.eval()`, `.solve('chat.prefill_time')`",
             "export": "`export specs/chat.infer --for chat.prefill_time --set …`, new value",
             "in": "`solve specs/chat.infer --for chat.kv_per_token --in B/token --set …`, new value"}
    lines = ["## Other commands, a new question on a cached spec: full pipeline and compiled form", "",
             "| command | wall | CPU | wall vs llm-analysis | CPU vs llm-analysis | target |",
             "|---|---|---|---|---|---|"]
    for name, text in shown.items():
        lines += [f"| {text}, full pipeline (`INFER_COMPILED=0`) | {cell(reach[name + '_full'])} | — |",
                  f"| {text}, compiled form | {cell(reach[name + '_fast'])} | ≤ 0.25 s |"]
    return lines + [""]


IN_PROCESS_CALLS = 200      # calls timed per in-process row (CPU time, median) ...
IN_PROCESS_WARMUP = 20      # ... after these, untimed


def _cpu_median(call: Callable[[int], object], calls: int = IN_PROCESS_CALLS) -> float:
    """Median CPU time of `call(i)` over `calls` calls, after IN_PROCESS_WARMUP untimed ones."""
    for i in range(IN_PROCESS_WARMUP):
        call(i)
    times = []
    for i in range(calls):
        t = time.process_time()       # CPU time: on a shared machine, wall time measures the others
        call(i)
        times.append(time.process_time() - t)
    return statistics.median(times)


def in_process_compiled(work: Path) -> float:
    """CPU time of evaluating every quantity and requirement from a loaded compiled form (a new
    `--set` value each call)."""
    os.environ["XDG_CACHE_HOME"] = str(work / "inproc")
    from solver import fastbuild, fastpath

    chat = REPO / "specs" / "chat.infer"
    if not fastbuild.refresh(chat):
        return float("nan")
    found = fastpath.load(chat)
    assert found is not None
    data, namespace = found
    return _cpu_median(lambda i: fastpath.evaluate(data, namespace, [f"chat.prompt={1000 + i}token"]))


def install_yardstick() -> Path:
    """A virtual environment holding llm-analysis (from PyPI), made once."""
    python = YARDSTICK_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(YARDSTICK_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"llm-analysis=={YARDSTICK_VERSION}"],
                       check=True)
    return python


def yardstick_run(python: Path | None) -> Callable[[], tuple[float, float]] | None:
    """One run of llm-analysis's CLI, one configuration (after one to compile its bytecode);
    offline, as its model and GPU come from its own tables."""
    if python is None or not python.exists():
        return None
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPATH", None)
    argv = [str(python), *YARDSTICK_ARGS]
    _wall(argv, env, cwd=Path(tempfile.gettempdir()))
    return lambda: _wall(argv, env, cwd=Path(tempfile.gettempdir()))


def cli_rows(runs: int, work: Path, yard: Callable[[], tuple[float, float]] | None
             ) -> dict[str, tuple[float, float]]:
    cache = work / "cache"
    warm = _env(cache, True)
    _wall(_cli("specs/chat.infer", 999), warm)                 # stdlib parse and unit caches filled
    # The yardstick's runs alternate with the main row's, so both see the same load.
    new_q, yards = [], []
    for i in range(runs):
        if yard is not None:
            yards.append(yard())
        new_q.append(_wall(_cli("specs/chat.infer", 1000 + i), warm))
    compiled = _env(cache, True, compiled=True)
    _wall(_cli("specs/chat.infer", 998), compiled)            # builds the compiled form, if it is built
    new_compiled = [_wall(_cli("specs/chat.infer", 6000 + i), compiled) for i in range(runs)]
    replay = [_wall(_cli("specs/chat.infer", 1000), warm) for _ in range(runs)]
    unseen, unseen_default = [], []
    for i in range(runs):
        copy = work / f"chat-{i}.infer"
        copy.write_text((REPO / "specs" / "chat.infer").read_text() + f"\n# copy {i}\n")
        unseen.append(_wall(_cli(str(copy), 1000), warm))
        # as a user runs it: the compiled form on, built by a detached child after the answer
        copy = work / f"chat-default-{i}.infer"
        copy.write_text((REPO / "specs" / "chat.infer").read_text() + f"\n# default copy {i}\n")
        unseen_default.append(_wall(_cli(str(copy), 1000), compiled))
        time.sleep(2)                                          # the child's build, not timed
    empty = []
    for i in range(runs):
        fresh = work / f"empty-{i}"
        empty.append(_wall(_cli("specs/chat.infer", 1000), _env(fresh, True)))
        shutil.rmtree(fresh, ignore_errors=True)
    rows = {"new": _median(new_q), "compiled": _median(new_compiled), "unseen": _median(unseen),
            "unseen_default": _median(unseen_default),
            "empty": _median(empty), "replay": _median(replay)}
    if yards:
        rows["yardstick"] = _median(yards)
    return rows


IN_PROCESS_COMPILED = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from bench.startup import _cpu_median
from solver import fastpath
from solver.api import Spec
spec = Spec.load(sys.argv[2], sys.argv[3:])
compiled = fastpath.api_goal(spec._form, "max_batch") is not None   # else the full pipeline answers
print(json.dumps([_cpu_median(lambda i: spec.solve("max_batch")), compiled]))
"""


def in_process_api(work: Path) -> tuple[float, bool]:
    """CPU time of `Spec.solve("max_batch")` on a spec whose compiled form is cached (the API
    loads it: the goal is answered from it), in a fresh process with the caches on; and whether
    the compiled form answered. The CLI builds the form asking for a 2000-token prompt; the API
    asks chat.infer as written (2048 tokens: max_batch = 121, the acceptance answer), a new
    question that the same closed form answers (a prompt under ~1100 tokens takes another branch
    of a min, which the form learns only once the CLI is asked it)."""
    env = _env(work / "api-cache", True, compiled=True)
    env["INFER_COMPILE_WAIT"] = "1"
    chat = str(REPO / "specs" / "chat.infer")
    _wall(_cli(chat, 2000), env)                     # the form and its goal, built in place
    done = subprocess.run([sys.executable, "-c", IN_PROCESS_COMPILED, str(REPO), chat],
                          env=env, cwd=REPO, capture_output=True, text=True, check=True)
    median, compiled = json.loads(done.stdout.strip().splitlines()[-1])
    return float(median), bool(compiled)


def in_process() -> dict[str, float]:
    """The full pipeline in-process (caches off, so no compiled form): solve and eval."""
    cache = os.environ.get("INFER_CACHE")
    os.environ["INFER_CACHE"] = "0"
    from solver.api import Spec

    spec = Spec.load(REPO / "specs" / "chat.infer")
    calls = IN_PROCESS_CALLS // 4         # ~15 ms each
    out = {"solve": _cpu_median(lambda i: spec.solve("max_batch"), calls),
           "eval": _cpu_median(lambda i: spec.eval(), calls)}
    if cache is None:
        os.environ.pop("INFER_CACHE")
    else:
        os.environ["INFER_CACHE"] = cache
    return out


def in_process_rows(work: Path) -> list[str]:
    """The in-process rows of the tables (CPU time; the target's ratio beside each)."""
    (api_solve, compiled), compiled_eval, proc = in_process_api(work), in_process_compiled(work), in_process()
    answered = "" if compiled else " — NOTE: the compiled form fell back, the full pipeline answered"

    def vs(secs: float, target: float) -> str:
        return f"≤ {target * 1000:g} ms ({secs / target:.2f}× the target)"

    return [
        f"| in-process: `Spec.solve(\"max_batch\")` on chat.infer loaded with its compiled form (built "
        f"for another prompt; CPU, median of {IN_PROCESS_CALLS}){answered} | | {api_solve * 1000:.2f} ms | | | "
        f"{vs(api_solve, 0.005)} |",
        f"| in-process: evaluate every quantity and requirement from the compiled form (CPU, median of "
        f"{IN_PROCESS_CALLS}) | | {compiled_eval * 1000:.2f} ms | | | {vs(compiled_eval, 0.002)} |",
        f"| in-process, full pipeline: solve `max_batch` on a loaded spec (CPU, median of {IN_PROCESS_CALLS // 4}) "
        f"| | {proc['solve'] * 1000:.1f} ms | | | — |",
        f"| in-process, full pipeline: evaluate every quantity (CPU, median of {IN_PROCESS_CALLS // 4}) | | "
        f"{proc['eval'] * 1000:.1f} ms | | | — |",
    ]


def stages(work: Path) -> list[tuple[str, float]]:
    env = _env(work / "cache", False)
    proc = subprocess.run([sys.executable, "-c", STAGES, "specs/chat.infer", "chat.prompt=1001token"],
                          cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return [(name, secs) for name, secs in json.loads(proc.stdout)]


def import_times(work: Path) -> tuple[list[tuple[str, float]], list[tuple[str, float, float]]]:
    """Cumulative import time of each heavy dependency, and the self time of our own modules; and
    the command's imports that cost most, as `-X importtime` lists them (outermost only)."""
    env = _env(work / "cache", False)
    proc = subprocess.run([sys.executable, "-X", "importtime", *_cli("specs/chat.infer", 1002)[1:]],
                          cwd=REPO, env=env, capture_output=True, text=True, check=True)
    outer: list[tuple[str, float, float]] = []
    for line in proc.stderr.splitlines():
        parts = line[len("import time:"):].split("|") if line.startswith("import time:") else []
        if len(parts) == 3 and parts[1].strip().isdigit() and parts[2].startswith(" ") and \
                not parts[2].startswith("  "):
            outer.append((parts[2].strip(), int(parts[0]) / 1e6, int(parts[1]) / 1e6))
    outer.sort(key=lambda row: -row[2])
    heavy = ("sympy", "mpmath", "numpy", "pydantic", "pydantic_core", "lark", "pint", "networkx")
    totals: dict[str, float] = {}
    own = 0.0
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_us, cumulative, name = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue
        name = name.strip()
        if name in heavy:
            totals[name] = max(totals.get(name, 0.0), int(cumulative) / 1e6)
        if name.split(".")[0] in ("lang", "solver"):
            own += int(self_us) / 1e6
    rows = [(f"`{n}` (cumulative)", totals[n]) for n in heavy if n in totals]
    rows.append(("`lang.*`, `solver.*` (own code, self time)", own))
    rows += [(f"`{n}`: not imported", 0.0) for n in heavy if n not in totals]
    return rows, outer[:15]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--yardstick", type=Path, metavar="PYTHON",
                    help="an interpreter with llm-analysis installed (default: ~/.cache/infer-bench/llm-analysis)")
    ap.add_argument("--install-yardstick", action="store_true",
                    help=f"pip install llm-analysis=={YARDSTICK_VERSION} into ~/.cache/infer-bench/llm-analysis first")
    ap.add_argument("--in-process", action="store_true", help="print the in-process rows alone (nothing written)")
    args = ap.parse_args()
    if args.in_process:
        with tempfile.TemporaryDirectory() as tmp:
            print("\n".join(in_process_rows(Path(tmp))))
        return
    python = install_yardstick() if args.install_yardstick else \
        (args.yardstick or YARDSTICK_VENV / "bin" / "python")
    load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cli = cli_rows(args.runs, work, yardstick_run(python))
        yard = cli.get("yardstick")
        evals = eval_rows(args.runs, work)
        inproc = in_process_rows(work)
        reach = reach_rows(args.runs, work)
        stage = stages(work)
        imports, heaviest = import_times(work)
    yard_wall, yard_cpu = yard if yard is not None else (YARDSTICK_S, YARDSTICK_S)

    def cell(row: tuple[float, float]) -> str:
        wall, cpu = row
        return f"{wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {wall / yard_wall:.2f}× | {cpu / yard_cpu:.2f}×"

    rows = [
        ("new question on a cached spec (`--set` value never asked), the CLI as it runs (compiled form)",
         cli["compiled"], "≤ 0.25 s, ≤ 0.5×"),
        ("new question on a cached spec, full pipeline (`INFER_COMPILED=0`)", cli["new"], "—"),
        ("first run of a spec never seen (stdlib caches warm), the CLI as it runs (the form is built "
         "after the answer, by a detached child)", cli["unseen_default"], "≤ 0.8 s"),
        ("first run of a spec never seen, full pipeline (`INFER_COMPILED=0`)", cli["unseen"], "—"),
        ("first run, every cache empty", cli["empty"], "—"),
        ("the same question again (result cache)", cli["replay"], "—"),
    ]
    if yard is not None:
        yardstick = (f"Yardstick: llm-analysis {YARDSTICK_VERSION} (PyPI), one configuration from its CLI "
                     f"(`python {' '.join(YARDSTICK_ARGS)}`, offline: its model and GPU come from its own "
                     f"tables), timed in this run as the rows are, each of its runs alternating with one of the first "
                     f"row's: {yard_wall * 1000:.0f} ms wall, "
                     f"{yard_cpu * 1000:.0f} ms CPU. Ratios divide wall by its wall and CPU by its CPU.")
        table_rows = [f"| llm-analysis, one configuration (the yardstick) | {cell(yard)} | 1× |"]
    else:
        yardstick = (f"Yardstick: llm-analysis, one configuration from its CLI: {YARDSTICK_S:.2f} s (the issue's "
                     "figure on the same kind of machine; not installed here: `python bench/startup.py "
                     "--install-yardstick` measures it in the same run). Both ratios divide by that figure.")
        table_rows = []
    lines = [
        f"# Start-up and new-question timings ({dt.date.today().isoformat()})",
        "",
        "Written by `python bench/startup.py`; rerun it to refresh. Median of "
        f"{args.runs} fresh processes per row; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"{load} at the start (a shared machine: compare rows of one run, not across runs).",
        "",
        yardstick,
        "",
        "CPU time (user + system) is shown beside wall time: on a loaded machine wall time mostly measures "
        "the other processes, CPU time much less so.",
        "",
        "| `infer solve specs/chat.infer --for max_batch --set chat.prompt=…` | wall | CPU | wall vs llm-analysis "
        "| CPU vs llm-analysis | target |",
        "|---|---|---|---|---|---|",
        *table_rows,
        *(f"| {name} | {cell(row)} | {target} |" for name, row, target in rows),
        *inproc,
        "",
        "## `infer eval specs/chat.infer --set chat.prompt=…`: the compiled form (on by default)",
        "",
        "The compiled form answers `eval`, `solve --for QUANTITY` and goals that maximize one "
        "whole-number unknown, with `--set` numbers on inputs; the rest takes the full pipeline "
        "(`INFER_COMPILED=0` turns it off). Same run, same machine as the table above.",
        "",
        "| `infer eval specs/chat.infer --set chat.prompt=…` | wall | CPU | wall vs llm-analysis "
        "| CPU vs llm-analysis | target |",
        "|---|---|---|---|---|---|",
        f"| new question, full pipeline (`INFER_COMPILED=0`) | {cell(evals['full'])} | — |",
        f"| new question, compiled form (`INFER_COMPILED=1`) | {cell(evals['fast'])} | ≤ 0.25 s |",
        f"| first run of a spec never seen, building its compiled form | {cell(evals['first'])} | ≤ 0.8 s |",
        f"| `solve --for chat.prefill_time`, new `--set`, full pipeline | {cell(evals['fwd_full'])} | — |",
        f"| `solve --for chat.prefill_time`, new `--set`, compiled form | {cell(evals['fwd_fast'])} | ≤ 0.25 s |",
        inproc[1],
        f"| compiled form vs full pipeline, new question (wall) | {evals['fast'][0] / evals['full'][0]:.2f}× | "
        f"{evals['fast'][1] / evals['full'][1]:.2f}× (CPU) | | | |",
        "",
        *reach_lines(reach, cell),
        "## Where a new question's time goes (one fresh process, stage by stage, CPU time)",
        "",
        "| stage | ms |",
        "|---|---|",
        *(f"| {name} | {secs * 1000:.0f} |" for name, secs in stage),
        f"| total | {sum(s for _, s in stage) * 1000:.0f} |",
        "",
        "## Import time per package (`python -X importtime` of the command; nested imports counted in each)",
        "",
        "| package | ms |",
        "|---|---|",
        *(f"| {name} | {secs * 1000:.0f} |" for name, secs in imports),
        "",
        "## The command's heaviest imports (`python -X importtime`, outermost imports, one process)",
        "",
        "An import listed at the outermost level ran where the code first needed it (a lazy import); "
        "self is the module's own code, cumulative adds everything it imported first.",
        "",
        "| module | self ms | cumulative ms |",
        "|---|---|---|",
        *(f"| `{name}` | {own * 1000:.1f} | {total * 1000:.1f} |" for name, own, total in heaviest),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (REPO / "bench" / "STARTUP.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
