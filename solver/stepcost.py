"""The cost of one engine step, from the spec's own formulas, compiled once for the simulator.

A simulated step carries `n` decoding sequences whose mean context is `c` tokens, plus prefill
chunks. Its duration is the deployment's own formulas (stdlib/serving.infer), never a second
model written here:

- `decode_step` composed down to a formula in `batch`, `prompt` and `output` only (everything
  else a number, `Evaluator.compose`, as `solver/sweep.py` does) and called with batch = n,
  prompt = c, output = 0: serving's `decode_context = prompt + output / 2` is then exactly the
  mean context the step's attention reads;
- `prefill_work` composed in `prompt`: the work of a prompt of x tokens, W(x). A chunk covering
  tokens [a, b) of a prompt costs W(b) - W(a) (W is cumulative: causal attention's triangle up
  to b minus the one up to a), the first chunk W(b), which carries the prompt's fixed costs.

A step with prefills and no decodes still streams the weights and pays the launch overheads:
`decode_step` at batch 1 and context 0 is that floor. Engine limits (KV capacity in tokens,
`max_seqs`, `max_batched_tokens`, `block_size`, a fixed `batch` as the cap) and the deployment's
latency requirements (for goodput) are read from the same graph.

Formulas are compiled with `math`-module lambdas: the simulator calls them on scalars hundreds
of thousands of times, where NumPy's per-call overhead would dominate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lang.diagnostics import Diagnostic, InferError
from lang.graph import Graph

if TYPE_CHECKING:   # imported where formulas are compiled: a stored step cost (solver.fastsim) runs without
    import sympy

__all__ = ["StepCost", "compile_step_cost", "find_deployment"]

_NEEDED = ("decode_step", "prefill_work", "batch", "prompt", "output", "kv_capacity_tokens", "max_seqs")
_SLO_FIELDS = {"ttft": "ttft", "itl": "tpot", "e2e_latency": "e2e"}


@dataclass(frozen=True)
class StepCost:
    """One replica's engine: step time in seconds, capacity in tokens and sequences."""

    name: str                                  # the deployment record, e.g. `chat`
    decode: Callable[[float, float], float]    # (running decodes, mean context) -> s
    prefill: Callable[[float], float]          # prompt tokens -> s of prefill work W(x)
    kv_tokens: int                             # KV-cache capacity of one replica
    max_seqs: int                              # running sequences at most (max_seqs, or a fixed batch)
    token_budget: int                          # max_batched_tokens per step
    block_size: int
    gpu_count: int
    price_per_hour: float                      # USD per replica-hour
    cold_start: float                          # s from scale-up to serving
    prompt: float                              # the spec's mean lengths (for generated traffic)
    output: float
    slo: dict[str, float] = field(default_factory=dict)   # ttft / tpot / e2e upper bounds, s

    def chunk(self, start: int, end: int) -> float:
        """Prefill work of prompt tokens [start, end)."""
        return self.prefill(end) - (self.prefill(start) if start > 0 else 0.0)


def find_deployment(graph: Graph, name: str | None = None) -> str:
    """The one top-level record of the spec that is a serving.deployment (or the one named)."""
    found = sorted({n.rsplit(".", 1)[0] for n in graph.nodes
                    if n.count(".") == 1 and n.endswith(".decode_step")
                    and all(f"{n.rsplit('.', 1)[0]}.{f}" in graph.nodes for f in _NEEDED)})
    if name is not None:
        if name in found:
            return name
        raise InferError([Diagnostic("E1002", f"`{name}` is not a serving.deployment of this spec", None,
                                     help=(f"deployments here: {', '.join(found) or 'none'}",))])
    if len(found) == 1:
        return found[0]
    if not found:
        raise InferError([Diagnostic("E1002", "the spec holds no serving.deployment to simulate", None,
                                     help=("extend `serving.deployment` at the top level of the spec",))])
    raise InferError([Diagnostic("E1002", f"the spec holds several deployments: {', '.join(found)}", None,
                                 help=(f"name one with `--deployment {found[0]}`",))])


def _fn(expr: sympy.Basic, symbols: list[sympy.Symbol]) -> Callable[..., float]:
    import sympy

    expr = expr.xreplace({sympy.zoo: sympy.nan})
    return sympy.lambdify(symbols, expr, modules=["math"])  # type: ignore[no-any-return]


def compile_step_cost(spec, deployment: str | None = None,  # type: ignore[no-untyped-def]
                      prompt: float | None = None, output: float | None = None) -> StepCost:
    """Compile the deployment's step formulas; `prompt`/`output` stand in where the spec has none."""
    import sympy

    graph: Graph = spec.graph
    ev = spec.evaluator
    d = find_deployment(graph, deployment)
    node = graph.nodes
    sym = {f: node[f"{d}.{f}"].symbol for f in ("batch", "prompt", "output")}
    free = [f"{d}.batch", f"{d}.prompt", f"{d}.output"]

    def number(field_name: str, at: dict[str, float]) -> float:
        expr = ev.compose(f"{d}.{field_name}", free)
        _check(spec, d, field_name, expr, set(sym.values()))
        value = expr.xreplace({sym[k]: sympy.Float(v) for k, v in at.items()})
        try:
            return float(value)
        except TypeError:
            raise InferError([Diagnostic("E1003", f"`{d}.{field_name}` has no numeric value", None)]) from None

    means = {"prompt": _known(spec, f"{d}.prompt", prompt), "output": _known(spec, f"{d}.output", output)}
    batch_known = node[f"{d}.batch"].kind != "unknown" and f"{d}.batch" not in spec.graph.missing
    at = {**means, "batch": 1.0}
    decode_expr = ev.compose(f"{d}.decode_step", free)
    _check(spec, d, "decode_step", decode_expr, set(sym.values()))
    decode_raw = _fn(decode_expr, [sym["batch"], sym["prompt"], sym["output"]])
    prefill_expr = ev.compose(f"{d}.prefill_work", free)
    _check(spec, d, "prefill_work", prefill_expr, set(sym.values()))
    prefill_raw = _fn(prefill_expr, [sym["prompt"]]) if not (prefill_expr.free_symbols - {sym["prompt"]}) \
        else _fn(prefill_expr.xreplace({sym["batch"]: 1, sym["output"]: sympy.Float(means["output"])}),
                 [sym["prompt"]])

    decode, prefill = step_functions(decode_raw, prefill_raw)
    cap = int(number("max_seqs", at))
    if batch_known:
        fixed = ev.values(only=[f"{d}.batch"]).get(f"{d}.batch")
        if fixed is not None and fixed.is_number:
            cap = min(cap, max(1, int(fixed)))
    kv = int(number("kv_capacity_tokens", at))
    if kv <= 0:
        raise InferError([Diagnostic("E1003", f"`{d}` has no room for a KV cache "
                                     f"(kv_capacity_tokens = {kv}): the weights do not fit", None)])
    names = set(graph.nodes)
    budget = int(number("max_batched_tokens", at)) if f"{d}.max_batched_tokens" in names else 8192
    block = int(number("block_size", at)) if f"{d}.block_size" in names else 16
    gpus = int(number("gpu_count", at)) if f"{d}.gpu_count" in names else 1
    price = number("cost_per_hour", at) * 3600.0 if f"{d}.cost_per_hour" in names else 0.0
    cold = number("cold_start", at) if f"{d}.cold_start" in names else 0.0
    return StepCost(d, decode, prefill, kv, max(cap, 1), max(budget, 1), max(block, 1), gpus,
                    price if math.isfinite(price) else 0.0, cold, means["prompt"], means["output"],
                    _slos(graph, d))


def step_functions(decode_raw: Callable[..., float], prefill_raw: Callable[..., float]
                   ) -> tuple[Callable[[float, float], float], Callable[[float], float]]:
    """A step's decode time (n running sequences, mean context) and prefill work, from the compiled
    formulas (also how a stored step cost, solver.fastsim, is rebuilt)."""
    def decode(n: float, context: float) -> float:
        return float(decode_raw(n if n >= 1 else 1.0, context, 0.0))

    def prefill(tokens: float) -> float:
        return float(prefill_raw(tokens))

    return decode, prefill


def _known(spec, name: str, fallback: float | None) -> float:  # type: ignore[no-untyped-def]
    node = spec.graph.nodes[name]
    if node.kind != "unknown" and name not in spec.graph.missing:
        value = spec.evaluator.values(only=[name]).get(name)
        if value is not None and value.is_number:
            return float(value)
    if fallback is not None:
        return float(fallback)
    raise InferError([Diagnostic("E1003", f"`{name}` has no value and the workload gives none", node.span,
                                 label="unknown", help=(f"set it: --set {name}=1024", ))], spec.sources)


def _check(spec, d: str, field_name: str, expr: sympy.Basic, allowed: set[sympy.Symbol]) -> None:  # type: ignore[no-untyped-def]
    by_symbol = spec.graph.by_symbol()
    missing = sorted(by_symbol[s].name for s in expr.free_symbols - allowed if s in by_symbol)
    if missing:
        raise InferError([Diagnostic(
            "E1003", f"`{d}.{field_name}` depends on {', '.join(f'`{m}`' for m in missing)}, which "
            "the simulation cannot choose", spec.graph.nodes[missing[0]].span, label="no value",
            help=(f"give it one: --set {missing[0]}=VALUE",))], spec.sources)


def _slos(graph: Graph, d: str) -> dict[str, float]:
    """Upper bounds the deployment requires on ttft, itl and e2e_latency (`require ttft <= 2 s`)."""
    import sympy

    out: dict[str, float] = {}
    for req in graph.requirements:
        rel = req.expr
        if not isinstance(rel, (sympy.core.relational.LessThan, sympy.core.relational.StrictLessThan)):
            continue
        lhs, rhs = rel.lhs, rel.rhs
        for fname, key in _SLO_FIELDS.items():
            target = graph.nodes.get(f"{d}.{fname}")
            if target is not None and lhs == target.symbol and rhs.is_number:
                out[key] = min(out.get(key, math.inf), float(rhs))
    return out
