"""Workloads for `infer simulate`: request traces read from files, or arrivals drawn at random.

A workload is three equal-length arrays: arrival time (s from the first request), prompt tokens
and output tokens, sorted by arrival. Readers:

- the Azure LLM inference trace format (`TIMESTAMP,ContextTokens,GeneratedTokens`, Patel et al.,
  Splitwise, ISCA 2024; `validation/traces/`): timestamps are wall-clock date-times;
- a plain CSV with a header `arrival,prompt,output` (arrival in seconds);
- JSON Lines, one object a line with keys `arrival`, `prompt`, `output`.

A malformed row is an `E1001` diagnostic that names the file, line and column. Random workloads
draw inter-arrival gaps from an exponential (Poisson arrivals) or a gamma with a chosen CV
(bursty when CV > 1), and lengths from the spec's mean lengths or by resampling a trace, with a
NumPy generator seeded by `--seed`, so a run is reproducible.

>>> w = from_rows([(0.0, 10, 5), (0.5, 20, 3)], "demo")
>>> w.count, float(w.duration)
(2, 0.5)
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from lang.diagnostics import Diagnostic, InferError, Span

__all__ = ["Workload", "from_rows", "generate", "parse_arrivals", "read_trace"]


@dataclass(frozen=True)
class Workload:
    """Requests sorted by arrival: seconds from the first, prompt and output tokens."""

    arrival: np.ndarray
    prompt: np.ndarray
    output: np.ndarray
    source: str

    @property
    def count(self) -> int:
        return len(self.arrival)

    @property
    def duration(self) -> float:
        return float(self.arrival[-1] - self.arrival[0]) if self.count else 0.0

    def speedup(self, factor: float) -> Workload:
        """The same requests arriving `factor` times faster."""
        return Workload(self.arrival / factor, self.prompt, self.output, f"{self.source} x{factor:g}")

    def head(self, seconds: float) -> Workload:
        """Only the requests that arrive in the first `seconds`."""
        keep = self.arrival <= seconds
        return Workload(self.arrival[keep], self.prompt[keep], self.output[keep], self.source)


def from_rows(rows: list[tuple[float, int, int]], source: str) -> Workload:
    data = sorted(rows, key=lambda r: r[0])
    arrival = np.array([r[0] for r in data], dtype=float)
    if len(arrival):
        arrival = arrival - arrival[0]
    return Workload(arrival, np.array([r[1] for r in data], dtype=np.int64),
                    np.array([r[2] for r in data], dtype=np.int64), source)


def _error(path: str, line: int, text: str, message: str, column: int = 1, width: int = 0,
           help: tuple[str, ...] = ()) -> InferError:
    end = column + max(width, len(text) - column + 1, 1)
    return InferError([Diagnostic("E1001", message, Span(path, line, column, line, end),
                                  label="cannot read this row", help=help)])


_AZURE = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
_PLAIN = ("arrival", "prompt", "output")


def read_trace(path: str | Path) -> Workload:
    """Read an Azure-format CSV, a plain CSV or a JSON Lines trace; E1001 names a bad row."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InferError([Diagnostic("E1001", f"cannot read trace `{name}`: {exc}", None)]) from None
    if name.endswith((".jsonl", ".ndjson")):
        rows = _read_jsonl(name, text)
    else:
        rows = _read_csv(name, text)
    if not rows:
        raise InferError([Diagnostic("E1001", f"trace `{name}` holds no requests", Span(name, 1, 1, 1, 2),
                                     label="empty")])
    return from_rows(rows, Path(name).name)


def _tokens(name: str, number: int, line: str, field: str, value: object, minimum: int) -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        col = line.find(str(value)) + 1 if str(value) and str(value) in line else 1
        raise _error(name, number, line, f"`{field}` must be a whole number of tokens, found `{value}`",
                     col, len(str(value))) from None
    if count < minimum:
        col = line.find(str(value)) + 1 if str(value) in line else 1
        raise _error(name, number, line, f"`{field}` must be at least {minimum}, found {count}", col,
                     len(str(value)))
    return count


def _read_csv(name: str, text: str) -> list[tuple[float, int, int]]:
    lines = text.splitlines()
    if not lines:
        return []
    header = [h.strip() for h in next(csv.reader([lines[0]]))]
    if tuple(header[:3]) == _AZURE:
        azure = True
    elif tuple(h.lower() for h in header[:3]) == _PLAIN:
        azure = False
    else:
        raise _error(name, 1, lines[0], "unknown trace header", help=(
            "expected `TIMESTAMP,ContextTokens,GeneratedTokens` (Azure LLM inference trace) "
            "or `arrival,prompt,output` (arrival in seconds)",))
    rows: list[tuple[float, int, int]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = next(csv.reader([line]))
        if len(cells) < 3:
            raise _error(name, number, line, f"expected 3 columns, found {len(cells)}")
        stamp = cells[0].strip()
        try:
            t = _azure_time(stamp) if azure else float(stamp)
        except ValueError:
            raise _error(name, number, line, f"cannot read the arrival time `{stamp}`", 1, len(cells[0]),
                         help=("Azure traces hold `YYYY-MM-DD HH:MM:SS.fffffff`; plain traces seconds",)
                         ) from None
        if t != t or t in (float("inf"), float("-inf")):
            raise _error(name, number, line, f"the arrival time `{stamp}` is not a finite number", 1, len(stamp))
        rows.append((t, _tokens(name, number, line, header[1], cells[1], 1),
                     _tokens(name, number, line, header[2], cells[2], 1)))
    return rows


def _azure_time(stamp: str) -> float:
    # Seven fractional digits (.NET ticks) are one more than datetime reads: cut to microseconds.
    head, _, frac = stamp.partition(".")
    moment = datetime.strptime(head, "%Y-%m-%d %H:%M:%S")
    return moment.timestamp() + (float("0." + frac) if frac else 0.0)


def _read_jsonl(name: str, text: str) -> list[tuple[float, int, int]]:
    rows: list[tuple[float, int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _error(name, number, line, f"not JSON: {exc.msg}", exc.colno, 1) from None
        if not isinstance(obj, dict) or any(k not in obj for k in _PLAIN):
            raise _error(name, number, line, "each line must be an object with `arrival`, `prompt`, `output`")
        try:
            t = float(obj["arrival"])
        except (TypeError, ValueError):
            raise _error(name, number, line, f"cannot read the arrival time `{obj['arrival']}`") from None
        rows.append((t, _tokens(name, number, line, "prompt", obj["prompt"], 1),
                     _tokens(name, number, line, "output", obj["output"], 1)))
    return rows


def parse_arrivals(text: str) -> float:
    """`poisson` → CV 1; `gamma:CV` → that CV. A ValueError says what is wrong."""
    text = text.strip().lower()
    if text == "poisson":
        return 1.0
    if text.startswith("gamma:"):
        cv = float(text[6:])
        if not cv > 0:
            raise ValueError("the CV of a gamma arrival process must be positive")
        return cv
    raise ValueError(f"unknown arrival process `{text}`: use `poisson` or `gamma:CV`")


def generate(rate: float, duration: float, cv: float, prompt: int, output: int, seed: int,
             lengths: Workload | None = None, prompt_cv: float = 0.0, output_cv: float = 0.0) -> Workload:
    """Requests at `rate`/s for `duration` s: gamma gaps with the given CV (1 = Poisson).

    Lengths are resampled from `lengths` when given, else lognormal around the mean lengths with
    the given CVs (0: every request the same length).
    """
    rng = np.random.default_rng(seed)
    expected = int(rate * duration * 1.2 + 10 * np.sqrt(rate * duration + 1) + 10)
    shape = 1.0 / (cv * cv)
    gaps = rng.gamma(shape, 1.0 / (rate * shape), size=expected)
    arrival = np.cumsum(gaps) - gaps[0]
    arrival = arrival[arrival <= duration]
    n = len(arrival)
    if lengths is not None and lengths.count:
        pick = rng.integers(0, lengths.count, size=n)
        p, o = lengths.prompt[pick], lengths.output[pick]
    else:
        p, o = _lognormal(rng, prompt, prompt_cv, n), _lognormal(rng, output, output_cv, n)
    return Workload(arrival, p.astype(np.int64), o.astype(np.int64), f"{'poisson' if cv == 1 else f'gamma:{cv:g}'} "
                    f"{rate:g}/s x {duration:g} s")


def _lognormal(rng: np.random.Generator, mean: int, cv: float, n: int) -> np.ndarray:
    if cv <= 0:
        return np.full(n, max(int(mean), 1))
    sigma2 = np.log1p(cv * cv)
    draw = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), size=n)
    return np.maximum(np.rint(draw), 1)
