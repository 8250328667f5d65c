"""Auto-scaling a fleet of replicas over a day: the policy, the load curve, the controller.

A policy is a record in the spec (`traffic.autoscaling` in stdlib/traffic.infer): a target of
outstanding requests per replica, the least and most replicas, a scale-down cooldown and a
control interval. Every interval the controller (Knative's concurrency autoscaler in miniature:
desired = ceil(outstanding / target), clamped) compares the fleet with the demand:

- scale up at once: each new replica pays the deployment's `cold_start` (weights from storage at
  `storage_bandwidth` plus `engine_startup`) before the router may use it;
- scale down only when the fleet has been too large for a whole `scale_down_cooldown`: the excess
  replicas stop taking requests, finish what they hold, and are released.

A replica costs from the moment it is requested (it is billed while it starts) until it is
released. The load curve is a record with an input `clock_hour` and a `rate` formula (for example
`traffic.diurnal`): the simulator compiles `rate` as a function of `clock_hour`, once, and draws
Poisson arrivals hour by hour (piecewise constant within each hour), seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy

from lang.diagnostics import Diagnostic, InferError
from solver.simulate import Replica
from solver.traces import Workload

__all__ = ["Autoscaler", "Policy", "curve_workload", "find_record", "read_policy"]

_POLICY = ("target_concurrency", "min_replicas", "max_replicas", "scale_down_cooldown", "control_interval")


@dataclass(frozen=True)
class Policy:
    target_concurrency: float        # outstanding requests per replica the policy aims for
    min_replicas: int
    max_replicas: int
    scale_down_cooldown: float       # s
    control_interval: float          # s


def find_record(graph, fields: tuple[str, ...], name: str | None, what: str, example: str) -> str:  # type: ignore[no-untyped-def]
    """The one top-level record holding every field in `fields` (or the one named)."""
    found = sorted({n.rsplit(".", 1)[0] for n in graph.nodes
                    if n.count(".") == 1 and all(f"{n.rsplit('.', 1)[0]}.{f}" in graph.nodes for f in fields)})
    if name:
        if name in found:
            return name
        raise InferError([Diagnostic("E1004", f"`{name}` is not {what} of this spec", None,
                                     help=(f"{what}s here: {', '.join(found) or 'none'}",))])
    if len(found) == 1:
        return found[0]
    if not found:
        raise InferError([Diagnostic("E1004", f"the spec holds no {what}", None,
                                     help=(f"add one, for example `{example}`",))])
    raise InferError([Diagnostic("E1004", f"the spec holds several {what}s: {', '.join(found)}", None,
                                 help=(f"name one: {found[0]}",))])


def _number(spec, name: str) -> float:  # type: ignore[no-untyped-def]
    value = spec.evaluator.values(only=[name]).get(name)
    if value is None or not value.is_number:
        node = spec.graph.nodes[name]
        raise InferError([Diagnostic("E1004", f"`{name}` needs a value", node.span, label="no value")],
                         spec.sources)
    return float(value)


def read_policy(spec, name: str | None = None) -> Policy:  # type: ignore[no-untyped-def]
    p = find_record(spec.graph, _POLICY, name, "an auto-scaling policy",
                    "scaling = traffic.autoscaling { max_replicas = 8 }")
    v = {f: _number(spec, f"{p}.{f}") for f in _POLICY}
    if not (v["target_concurrency"] > 0 and 1 <= v["min_replicas"] <= v["max_replicas"]
            and v["control_interval"] > 0 and v["scale_down_cooldown"] >= 0):
        raise InferError([Diagnostic(
            "E1004", f"policy `{p}` is inconsistent: it needs target_concurrency > 0, "
            "1 <= min_replicas <= max_replicas, control_interval > 0, scale_down_cooldown >= 0",
            spec.graph.nodes[f"{p}.target_concurrency"].span, label="in this record")], spec.sources)
    return Policy(v["target_concurrency"], int(v["min_replicas"]), int(v["max_replicas"]),
                  v["scale_down_cooldown"], v["control_interval"])


def curve_workload(spec, name: str | None, duration: float, seed: int, prompt: float, output: float,  # type: ignore[no-untyped-def]
                   lengths: Workload | None, prompt_cv: float, output_cv: float) -> Workload:
    """Poisson arrivals following the curve's `rate` at each hour, for `duration` seconds."""
    from solver.traces import generate

    c = find_record(spec.graph, ("clock_hour", "rate"), name, "a load curve",
                    "day = traffic.diurnal { peak_rate = 20 request/s }")
    hour = f"{c}.clock_hour"
    if spec.graph.nodes[hour].kind == "derived":
        raise InferError([Diagnostic("E1004", f"`{hour}` must be an input (the simulator sets it)",
                                     spec.graph.nodes[hour].span)], spec.sources)
    expr = spec.evaluator.compose(f"{c}.rate", [hour])
    extra = expr.free_symbols - {spec.graph.nodes[hour].symbol}
    if extra:
        raise InferError([Diagnostic("E1004", f"`{c}.rate` depends on unknowns other than `clock_hour`",
                                     spec.graph.nodes[f"{c}.rate"].span)], spec.sources)
    rate_at = sympy.lambdify([spec.graph.nodes[hour].symbol], expr, modules=["math"])
    parts: list[Workload] = []
    hours = math.ceil(duration / 3600)
    for h in range(hours):
        span = min(3600.0, duration - 3600.0 * h)
        rate = float(rate_at(float(h)))
        if not rate > 0 or span <= 0:
            continue
        w = generate(rate, span, 1.0, int(prompt), int(output), seed * 1000 + h, lengths, prompt_cv, output_cv)
        # generate() starts at the first arrival; a Poisson stream's start is itself a gap from 0
        start = 3600.0 * h + float(np.random.default_rng(seed * 1000 + h).exponential(1 / rate))
        parts.append(Workload(w.arrival + start, w.prompt, w.output, w.source))
    if not parts:
        raise InferError([Diagnostic("E1004", f"the load curve `{c}` has no positive rate in "
                                     f"the first {hours} h", spec.graph.nodes[f"{c}.rate"].span)], spec.sources)
    keep = [p for p in parts if p.count]
    arrival = np.concatenate([p.arrival for p in keep])
    order = np.argsort(arrival, kind="stable")
    return Workload(arrival[order], np.concatenate([p.prompt for p in keep])[order],
                    np.concatenate([p.output for p in keep])[order], f"curve `{c}` over {duration / 3600:g} h")


class Autoscaler:
    """Called by the simulator every `interval` seconds; returns replicas it created or changed."""

    def __init__(self, policy: Policy, cold_start: float):
        self.policy = policy
        self.interval = policy.control_interval
        self.cold_start = cold_start
        self.too_big_since: float | None = None
        self.starting_windows: list[tuple[float, float]] = []   # (asked, ready): SLO at risk in between

    def control(self, sim, now: float) -> list[Replica]:  # type: ignore[no-untyped-def]
        changed: list[Replica] = []
        # Released replicas leave the fleet (`sim.every` keeps them, and their bill).
        sim.fleet[:] = [r for r in sim.fleet if r.retired_at is None]
        for r in sim.fleet:
            if r.draining and r.retired_at is None and r.outstanding == 0 and r.busy_until is None:
                r.retired_at = now
        active = [r for r in sim.fleet if r.retired_at is None and not r.draining]
        demand = sum(r.outstanding for r in sim.fleet)
        p = self.policy
        desired = min(p.max_replicas, max(p.min_replicas, math.ceil(demand / p.target_concurrency)))
        if desired > len(active):
            self.too_big_since = None
            for _ in range(desired - len(active)):
                r = Replica(sim.cost, len(sim.every) + len(changed), now + self.cold_start, sim.static)
                changed.append(r)
            self.starting_windows.append((now, now + self.cold_start))
            sim.scale_events.append((now, desired))
        elif desired < len(active):
            if self.too_big_since is None:
                self.too_big_since = now
            elif now - self.too_big_since >= p.scale_down_cooldown:
                # release the excess: those that hold the least work first
                for r in sorted(active, key=lambda x: (x.outstanding, -x.index))[:len(active) - desired]:
                    r.draining = True
                    if r.outstanding == 0 and r.busy_until is None:
                        r.retired_at = now
                self.too_big_since = None
                sim.scale_events.append((now, desired))
        else:
            self.too_big_since = None
        return changed
