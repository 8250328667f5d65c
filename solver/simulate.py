"""Discrete-event simulation of replicas serving a workload: `infer simulate`.

The method, in five lines:
1. Each replica runs an engine loop of steps; a step's duration is the spec's own formulas at the
   step's actual batch and context (`solver/stepcost.py`), so the physics is serving.infer's.
2. Continuous batching (vLLM V1's scheduler): every running sequence decodes one token a step;
   the rest of the per-step token budget goes to prefill chunks, first of sequences already
   admitted, then FCFS from the waiting queue while sequences (`max_seqs`) and KV tokens allow;
   when the KV cache cannot hold the next tokens the latest admitted sequence is preempted and
   recomputed later (vLLM's RECOMPUTE). Static batching runs a batch to completion instead.
3. Between events nothing but contexts change, so a run of pure-decode steps up to the next
   arrival, completion or KV exhaustion is advanced at once: k steps cost k x decode_step at the
   run's mean context (exact for decode_step affine in the context, as serving.infer's is).
4. Arrivals go to replicas through a router (round robin, or least outstanding requests); an
   autoscaler (`solver/autoscale.py`) may add replicas, which serve after the cold start.
5. Results per request (TTFT, TPOT, e2e), samples of queue and KV over time, preemptions.

KV is counted in tokens in aggregate (each sequence's last block half full on average), which
keeps a step O(events) instead of O(running sequences). Deterministic for a given workload.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from solver.stepcost import StepCost
from solver.traces import Workload

__all__ = ["Replica", "SimResult", "simulate"]


@dataclass
class _Seq:
    rid: int
    prompt: int            # tokens to prefill (grows by the generated ones after a preemption)
    remaining: int         # output tokens still to generate
    prefilled: int = 0
    epoch: int = 0         # bumped on preemption: stale heap entries are skipped
    c0: int = 0            # context when decoding started, and the decode counter then
    k0: int = 0


class Replica:
    """One engine: a waiting queue, running sequences, a clock."""

    def __init__(self, cost: StepCost, index: int, ready_at: float = 0.0, static: bool = False):
        self.cost = cost
        self.index = index
        self.ready_at = ready_at
        self.static = static
        self.waiting: deque[_Seq] = deque()
        self.prefilling: list[_Seq] = []
        self.decoding: dict[int, _Seq] = {}
        self.order: list[_Seq] = []                 # running, in admission order (preempt the last)
        self.finish_heap: list[tuple[int, int, int]] = []   # (decode counter at finish, epoch, rid)
        self.k = 0                                  # decode steps so far
        self.ctx_offset = 0                         # sum over decoding of (c0 - k0)
        self.prefill_tokens = 0                     # KV held by partly prefilled sequences
        self.busy_until: float | None = None
        self.draining = False
        self.retired_at: float | None = None
        self.preemptions = 0
        self.steps = 0

    @property
    def outstanding(self) -> int:
        return len(self.waiting) + len(self.prefilling) + len(self.decoding)

    def kv_used(self) -> float:
        n = len(self.decoding)
        half_block = (self.cost.block_size - 1) / 2
        return self.ctx_offset + n * self.k + self.prefill_tokens + (n + len(self.prefilling)) * half_block


@dataclass(frozen=True)
class SimResult:
    """Per request: arrival, first token and finish times (s), lengths, replica; and time series."""

    arrival: np.ndarray
    first_token: np.ndarray
    finish: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    replica: np.ndarray
    preempted: np.ndarray
    samples: np.ndarray                       # columns: time, waiting, running, kv used share, replicas
    preemptions: int
    steps: int
    events: int
    replica_seconds: float                    # replica-time paid for (starting, serving, draining)
    static_peak_replicas: int
    cost: StepCost
    scale_events: list[tuple[float, int]] = field(default_factory=list)   # (time, replicas)
    rejected: int = 0                         # prompts longer than the whole KV cache


class _Sim:
    def __init__(self, cost: StepCost, work: Workload, replicas: int, router: str, static: bool,
                 autoscaler=None):  # type: ignore[no-untyped-def]
        self.cost = cost
        self.work = work
        self.router = router
        self.static = static
        self.n = work.count
        self.first = np.full(self.n, np.nan)
        self.finish = np.full(self.n, np.nan)
        self.where = np.full(self.n, -1, dtype=np.int64)
        self.preempted = np.zeros(self.n, dtype=np.int64)
        self.fleet: list[Replica] = [Replica(cost, i, 0.0, static) for i in range(replicas)]
        self.every: dict[int, Replica] = {r.index: r for r in self.fleet}   # released ones too
        self.rr = 0
        self.samples: list[tuple[float, int, int, float, int]] = []
        self.events = 0
        self.rejected = 0
        self.autoscaler = autoscaler
        self.scale_events: list[tuple[float, int]] = [(0.0, replicas)]
        # Queue and KV are sampled at most ~20,000 times a run (every step for short runs).
        self.sample_every = work.duration / 20_000 if work.count else 0.0

    # --- routing ------------------------------------------------------------------------
    def route(self, now: float) -> Replica:
        if len(self.fleet) == 1:
            return self.fleet[0]
        if self.autoscaler is None:
            live = self.fleet
        else:
            open_ = [r for r in self.fleet if r.retired_at is None and not r.draining]
            live = [r for r in open_ if r.ready_at <= now]
            if not live:     # every replica still starting: queue at the one ready first
                live = sorted(open_, key=lambda r: r.ready_at)[:1] or [self.fleet[0]]
        if self.router == "least":
            return min(live, key=lambda r: (r.outstanding, r.index))
        self.rr += 1
        return live[self.rr % len(live)]

    # --- the event loop ---------------------------------------------------------------------
    def run(self) -> None:
        arrival = self.work.arrival
        i = 0
        clock: list[tuple[float, int]] = []          # (time a replica is free, replica index)
        next_control = 0.0 if self.autoscaler else math.inf
        next_sample = 0.0
        while True:
            t_arr = float(arrival[i]) if i < self.n else math.inf
            t_rep = clock[0][0] if clock else math.inf
            if t_arr == math.inf and t_rep == math.inf:
                break
            if next_control <= min(t_arr, t_rep) and self.autoscaler is not None:
                now = next_control
                next_control = now + self.autoscaler.interval
                for r in self.autoscaler.control(self, now):
                    if r.index not in self.every:
                        self.every[r.index] = r
                        self.fleet.append(r)
                    if r.busy_until is None and r.outstanding:
                        start = max(now, r.ready_at)
                        heapq.heappush(clock, (start, r.index))
                        r.busy_until = start
                if t_arr == math.inf and not clock and all(r.outstanding == 0 for r in self.fleet):
                    break
                continue
            self.events += 1
            if t_arr <= t_rep:
                r = self.route(t_arr)
                r.waiting.append(_Seq(i, int(self.work.prompt[i]), int(self.work.output[i])))
                self.where[i] = r.index
                if r.busy_until is None:
                    start = max(t_arr, r.ready_at)
                    r.busy_until = start
                    heapq.heappush(clock, (start, r.index))
                i += 1
                continue
            now, index = heapq.heappop(clock)
            r = self.every[index]
            end = self.step(r, now, t_arr)
            if end is None:
                r.busy_until = None
            else:
                r.busy_until = end
                heapq.heappush(clock, (end, index))
            if now >= next_sample:
                next_sample = now + self.sample_every
                self.sample(now)

    def sample(self, now: float) -> None:
        live = [r for r in self.fleet if r.retired_at is None]
        serving = [r for r in live if r.ready_at <= now] or live[:1]
        running = sum(len(x.decoding) + len(x.prefilling) for x in live)
        waiting = sum(len(x.waiting) for x in live)
        kv = sum(x.kv_used() for x in serving) / (self.cost.kv_tokens * max(1, len(serving)))
        self.samples.append((now, waiting, running, kv, len(serving)))

    # --- one engine step (or a run of identical decode steps) --------------------------------
    def step(self, r: Replica, now: float, horizon: float) -> float | None:
        if self.static:
            return self.static_batch(r, now)
        cost = self.cost
        n_dec = len(r.decoding)
        # Room for one more token per decoding sequence, else preempt the latest admitted.
        while n_dec and r.kv_used() + n_dec > cost.kv_tokens:
            self.preempt(r)
            n_dec = len(r.decoding)
        budget = cost.token_budget - n_dec
        chunks: list[tuple[_Seq, int, int]] = []
        free = cost.kv_tokens - r.kv_used() - n_dec      # KV left once every decode has its token
        for s in r.prefilling:
            take = min(s.prompt - s.prefilled, budget, int(free))
            if take <= 0:
                break
            chunks.append((s, s.prefilled, s.prefilled + take))
            budget -= take
            free -= take
        while r.waiting and budget > 0 and len(r.decoding) + len(r.prefilling) < cost.max_seqs:
            s = r.waiting[0]
            if s.prompt + cost.block_size > cost.kv_tokens:     # can never fit: the engine rejects it
                r.waiting.popleft()
                self.rejected += 1
                continue
            take = min(s.prompt, budget)
            if take + cost.block_size > free:
                break
            r.waiting.popleft()
            r.prefilling.append(s)
            r.order.append(s)
            chunks.append((s, 0, take))
            budget -= take
            free -= take + cost.block_size
        if not n_dec and not chunks:
            if r.prefilling and len(r.prefilling) > 1:
                self.preempt(r)          # partial prefills hold the whole cache: free the latest
                return now
            return None
        context = (r.ctx_offset + n_dec * r.k) / n_dec if n_dec else 0.0
        if not chunks and n_dec:
            k = self.decode_run(r, now, horizon, n_dec, context)
            dt = k * cost.decode(n_dec, context + (k - 1) / 2)
        else:
            k = 1
            dt = cost.decode(n_dec, context) + sum(cost.chunk(a, b) for _, a, b in chunks)
        end = now + dt
        r.steps += k
        # decodes: every running sequence made k tokens
        if n_dec:
            r.k += k
            heap = r.finish_heap
            while heap and heap[0][0] <= r.k:
                _, epoch, rid = heapq.heappop(heap)
                seq = r.decoding.get(rid)
                if seq is None or seq.epoch != epoch:
                    continue
                self.done(r, seq, end)
        # prefill chunks: a prompt whose last chunk ran emits its first token at the step's end
        for s, a, b in chunks:
            s.prefilled = b
            r.prefill_tokens += b - a
            if b >= s.prompt:
                r.prefilling.remove(s)
                r.prefill_tokens -= s.prompt
                if math.isnan(self.first[s.rid]):
                    self.first[s.rid] = end
                s.remaining -= 1
                if s.remaining <= 0:
                    r.order.remove(s)
                    self.finish[s.rid] = end
                    continue
                s.c0, s.k0 = s.prompt + 1, r.k
                r.ctx_offset += s.c0 - s.k0
                r.decoding[s.rid] = s
                heapq.heappush(r.finish_heap, (r.k + s.remaining, s.epoch, s.rid))
        return end

    def decode_run(self, r: Replica, now: float, horizon: float, n_dec: int, context: float) -> int:
        """How many identical decode steps can run before anything else happens."""
        cost = self.cost
        k_finish = max(1, r.finish_heap[0][0] - r.k) if r.finish_heap else 1
        room = cost.kv_tokens - r.kv_used()
        k_kv = max(1, int(room // n_dec))
        one = cost.decode(n_dec, context)
        k_arrival = max(1, math.ceil((horizon - now) / one)) if horizon < math.inf else k_finish
        # Admission blocked (by KV or max_seqs) stays blocked until a finish frees room.
        return max(1, min(k_finish, k_kv, k_arrival))

    def done(self, r: Replica, s: _Seq, end: float) -> None:
        del r.decoding[s.rid]
        r.ctx_offset -= s.c0 - s.k0
        self.finish[s.rid] = end
        _remove_fast(r.order, s)

    def preempt(self, r: Replica) -> None:
        while r.order:
            s = r.order.pop()
            if s.rid in r.decoding:
                del r.decoding[s.rid]
                r.ctx_offset -= s.c0 - s.k0
                generated = r.k - s.k0 + 1
                s.prompt, s.prefilled = s.c0 - 1 + generated, 0
                s.remaining = max(s.remaining - (r.k - s.k0), 1)
            elif s in r.prefilling:
                r.prefilling.remove(s)
                r.prefill_tokens -= s.prefilled
                s.prefilled = 0
            else:
                continue
            s.epoch += 1
            r.waiting.appendleft(s)
            r.preemptions += 1
            self.preempted[s.rid] += 1
            return

    # --- static batching: a batch runs to its longest output ---------------------------------
    def static_batch(self, r: Replica, now: float) -> float | None:
        if not r.waiting:
            return None
        cost = self.cost
        batch: list[_Seq] = []
        tokens = 0
        while r.waiting and len(batch) < cost.max_seqs:
            s = r.waiting[0]
            if batch and tokens + s.prompt + s.remaining > cost.kv_tokens:
                break
            batch.append(r.waiting.popleft())
            tokens += s.prompt + s.remaining
        n = len(batch)
        start_ctx = sum(s.prompt for s in batch) / n
        t = now + cost.decode(1, 0.0) + sum(cost.prefill(s.prompt) for s in batch)
        longest = max(s.remaining for s in batch)
        for s in batch:
            self.first[s.rid] = t
            self.finish[s.rid] = t + (s.remaining - 1) * cost.decode(n, start_ctx + s.remaining / 2)
        r.steps += longest
        return t + (longest - 1) * cost.decode(n, start_ctx + longest / 2)


def _remove_fast(order: list[_Seq], s: _Seq) -> None:
    # Sequences finish roughly in admission order: search from the front.
    for j, x in enumerate(order):
        if x is s:
            del order[j]
            return


def simulate(cost: StepCost, work: Workload, replicas: int = 1, router: str = "least",
             static: bool = False, autoscaler=None) -> SimResult:  # type: ignore[no-untyped-def]
    """Run the workload through `replicas` engines (or an autoscaled fleet) and collect results."""
    sim = _Sim(cost, work, max(1, replicas), router, static, autoscaler)
    sim.run()
    end = float(np.nanmax(sim.finish)) if work.count and not np.all(np.isnan(sim.finish)) else 0.0
    paid = 0.0
    for r in sim.every.values():
        stop = r.retired_at if r.retired_at is not None else end
        born = r.ready_at - (cost.cold_start if autoscaler is not None and r.ready_at > 0 else 0.0)
        paid += max(0.0, stop - born)
    peak = max((n for _, n in sim.scale_events), default=replicas)
    return SimResult(work.arrival, sim.first, sim.finish, work.prompt, work.output, sim.where, sim.preempted,
                     np.array(sim.samples, dtype=float).reshape(-1, 5), sum(r.preemptions for r in sim.every.values()),
                     sum(r.steps for r in sim.every.values()), sim.events, paid, peak, cost, sim.scale_events,
                     sim.rejected)
