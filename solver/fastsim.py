"""`infer simulate` from a stored step cost: a new `--rate`, `--replicas`, `--duration` or trace
on a cached spec without sympy, lark or pint.

Method: the simulator needs numbers only — the deployment's step cost (solver.stepcost: decode
time and prefill work as formulas lambdified over `math`, the KV capacity, limits, price and
latency bounds). After a full-pipeline simulation that step cost is stored (its two functions'
source, every other field as a number), keyed by the spec as its compiled form is and by the
`--set` list and `--deployment`, and checked to rebuild equal to the one just used. A later
simulation of one point (`--curve`, `--autoscale` and grids read more of the spec and take the
full pipeline) rebuilds it and runs the same simulator and report code (solver.simrun).
Storage, hashing and file checks as solver.fastsweep.
"""

from __future__ import annotations

import argparse
import inspect
from dataclasses import replace
from typing import Any

from solver import fastpath, fastsweep
from solver.fastpath import debug

_FIELDS = ("name", "kv_tokens", "max_seqs", "token_budget", "block_size", "gpu_count", "price_per_hour",
           "cold_start", "prompt", "output", "slo")


def enabled() -> bool:
    return fastpath.enabled()


def shape(args: argparse.Namespace) -> list[Any]:
    return [list(args.sets), args.deployment]


def _single(args: argparse.Namespace) -> bool:
    """One simulation from the step cost alone (no load curve, no scaling policy, no grid)."""
    return args.curve is None and args.autoscale is None and "," not in (args.rate or "") and \
        "," not in str(args.replicas)


def answer(args: argparse.Namespace) -> tuple[str, list[str]] | None:
    """(text, notes) as `run_from_args` gives them, from a stored step cost; None: the full pipeline."""
    if not enabled() or not _single(args):
        return None
    loaded = fastsweep.load(args.spec, shape(args), "sim")
    if loaded is None:
        return None
    from solver.simgrid import _floats, options_from_args
    from solver.simrun import run_simulation

    try:
        cost = rebuild(*loaded)
        rates: list[float | None] = list(_floats(args.rate, "--rate")) if args.rate else [None]
        replicas = [int(v) for v in _floats(args.replicas, "--replicas")]
        if len(rates) != 1 or len(replicas) != 1 or replicas[0] < 1:
            return None
        opt = replace(options_from_args(args), rate=rates[0], replicas=replicas[0])
        return run_simulation(None, opt, args.json, args.csv, args.plot, cost)
    except Exception as err:        # a usage error or anything else: the full pipeline reports it
        debug(f"simulate: full pipeline: {type(err).__name__}: {err}")
        return None


def rebuild(data: dict[str, Any], namespace: dict[str, Any]) -> Any:
    from solver.stepcost import StepCost, step_functions

    fields = dict(data["cost"])
    decode, prefill = step_functions(namespace["_decode"], namespace["_prefill"])
    return StepCost(**{**fields, "slo": dict(fields["slo"]), "decode": decode, "prefill": prefill})


def build(args: argparse.Namespace) -> bool:
    """Store the step cost of this spec, `--set` list and deployment (False: not stored)."""
    from lang.reads import recording
    from solver.api import Spec
    from solver.stepcost import compile_step_cost

    question = shape(args)
    path = fastsweep._path(args.spec, question, "sim")
    if path is None:
        return False
    try:
        with recording() as log:
            spec = Spec.load(args.spec, list(args.sets))
            _ = spec.graph             # built here, where its file looks are logged (Spec.load may defer it)
        if spec.graph.warnings or not log.consistent or not log.entries:
            raise fastsweep.Unsupported("the spec has warnings, or a file changed while it was read")
        cost = compile_step_cost(spec, args.deployment)
        sources, recipes = [], {}
        for field, raw_name, name in (("decode", "decode_raw", "_decode"), ("prefill", "prefill_raw", "_prefill")):
            raw = inspect.getclosurevars(getattr(cost, field)).nonlocals[raw_name]
            text = inspect.getsource(raw)
            if not text.startswith("def _lambdifygenerated("):
                raise fastsweep.Unsupported(f"{field}: unexpected source")
            sources.append(text.replace("def _lambdifygenerated(", f"def {name}(", 1))
            recipes.update(fastsweep._recipes(raw))
        data = {"format": fastsweep.FORMAT, "question": question, "globals": recipes,
                "cost": {f: getattr(cost, f) for f in _FIELDS}}
        source = "\n".join(sources)
        namespace = fastsweep._namespace(recipes)
        exec(compile(source, "<infer compiled sim>", "exec"), namespace)
        again = rebuild(data, namespace)
        points = [(n, c) for n in (0.0, 1.0, 7.0, 256.0) for c in (0.0, 100.0, 4096.0)]
        if any(getattr(again, f) != getattr(cost, f) for f in _FIELDS) or \
                [again.decode(n, c) for n, c in points] != [cost.decode(n, c) for n, c in points] or \
                [again.prefill(c) for _, c in points] != [cost.prefill(c) for _, c in points]:
            raise fastsweep.Unsupported("the rebuilt step cost differs")
    except Exception as err:        # not stored: the full pipeline answers next time
        debug(f"simulate: not kept: {type(err).__name__}: {err}")
        return False
    return fastsweep.store(path, log, data, source)
