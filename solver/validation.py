"""`infer validate`: predict every published measurement in validation/measured.csv and report the error.

Each CSV row becomes one `serving.deployment` record, written as .infer text by this module
(from explicit name tables and numbers parsed from the CSV, never by evaluating CSV text) and
read back by the ordinary parser and resolver. What a row does not state is filled in by the
rule of its ENGINE (the `framework` column), the same for every row of that engine: nothing
here is keyed by a row id.

All rows go into ONE spec (`r_GF1 = serving.deployment {...}`, `r_GF2 = ...`), so the stdlib
is parsed and resolved once: measured on the 42-row set (2-core machine), the whole run takes
~2 s this way against ~8 s loading one spec per row (each load re-reads the stdlib). The
physical bound is evaluated on the same graph with the efficiency inputs held at 1 and the
per-layer overhead at 0 (`Evaluator.values(fixed=...)`), so it costs no second load. When the
combined spec does not load, the rows are taken one by one so each failure names its own row.

The result: for every row the predicted value in the CSV's unit, error = predicted / measured
- 1, and the bound; per metric the count, MAPE and worst row, checked against TARGETS.
`--markdown` renders docs/validation.md (solver.validation_report). The rows, names and
metrics are solver.measured; the known outliers with their reasons, solver.outliers.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sympy

from solver.measured import (
    COLUMNS,
    ENGINES,
    FAR,
    GPUS,
    METRICS,
    MODELS,
    PRECISIONS,
    TARGETS,
    MissingCSV,
    Row,
    Setting,
    Target,
    _num,
    default_csv,
    engine_for,
    load_rows,
    quantity_of,
    stated_settings,
    unmapped_reason,
)
from solver.outliers import KNOWN_OUTLIERS

__all__ = [
    "BOUND_INPUTS", "COLUMNS", "ENGINES", "FAR", "GPUS", "KNOWN_OUTLIERS", "METRICS", "MODELS", "PRECISIONS",
    "TARGETS", "MetricSummary", "MissingCSV", "Row", "RowResult", "Setting", "Target", "Validation", "default_csv",
    "engine_for", "load_rows", "quantity_of", "row_spec", "run", "spec_text", "stated_settings",
    "unmapped_reason",
]

# The roofline at efficiency 1: every efficiency factor of serving.deployment at 100 % and the
# per-layer overhead at 0 (canonical values: a fraction, seconds).
BOUND_INPUTS: dict[str, int] = {
    "mfu": 1, "mfu_8bit": 1, "mbu": 1, "dequant_efficiency": 1, "overlap_residual": 0,
    "comm_efficiency": 1, "attention_efficiency": 1, "kernel_overhead": 0, "kernel_launch": 0,
    "kernel_gap": 0,
}

GiB = 2 ** 30


# ============================================================================ spec generation
def record_name(row: Row) -> str:
    return "r_" + re.sub(r"\W", "_", row.id)


def row_inputs(row: Row) -> list[Setting]:
    """The serving.deployment inputs of a row: what it states, then its engine's rule.

    Raises ValueError for what cannot be mapped (unknown names, an engine without a rule).
    """
    problems = []
    if row.model not in MODELS:
        problems.append(f"model `{row.model}` is not in the MODELS table")
    if row.gpu not in GPUS:
        problems.append(f"gpu `{row.gpu}` is not in the GPUS table")
    for col, name in (("weights", row.weights), ("kv_cache", row.kv_cache)):
        if name not in PRECISIONS:
            problems.append(f"{col} `{name}` is not in the PRECISIONS table")
    if row.metric not in METRICS:
        problems.append(f"metric `{row.metric}` is not one of {', '.join(METRICS)}")
    elif row.unit not in METRICS[row.metric].units:
        problems.append(f"unit `{row.unit}` for {row.metric} (expected {' or '.join(METRICS[row.metric].units)})")
    engine = engine_for(row.framework)
    if engine is None:
        problems.append(f"no engine record for framework `{row.framework}` (ENGINES: "
                        f"{', '.join(sorted({p for p, _ in ENGINES}))})")
    if row.tp < 1 or row.pp < 1 or row.gpu_count % (row.tp * row.pp):
        problems.append(f"gpu_count {row.gpu_count} is not a multiple of tp {row.tp} x pp {row.pp}")
    if not row.value > 0:
        problems.append(f"measured value {row.value} is not positive")
    if problems:
        raise ValueError("; ".join(problems))
    # GPUs beyond tp x pp are data-parallel replicas: each serves its own requests, so none of
    # the metrics (per request, per GPU, per instance's KV pool) changes with their number.
    pp = row.pp
    s = [Setting("model", MODELS[row.model]), Setting("gpu", GPUS[row.gpu]), Setting("tp", str(row.tp))]
    if pp > 1:
        s.append(Setting("pp", str(pp)))
    s += [Setting("weights", PRECISIONS[row.weights]), Setting("kv_cache", PRECISIONS[row.kv_cache]),
          Setting("prompt", f"{row.prompt or 1} token"), Setting("output", f"{row.output or 1} token"),
          Setting("batch", str(row.batch or 1))]
    return s + stated_settings(row)


def row_spec(row: Row) -> str:
    """The row as one `serving.deployment` record (no imports)."""
    comment = re.sub(r"\s+", " ", f"{row.id}: {row.metric} = {_num(row.value)} {row.unit} ({row.source})")
    lines = [f"# {comment}"]
    lines.append(f"{record_name(row)} = serving.deployment {{")
    for setting in row_inputs(row):
        lines.append(f"  {setting.name} = {setting.text}")
    lines.append("}")
    return "\n".join(lines) + "\n"


HEADER = "import models\nimport gpus\nimport serving\nimport precisions\nimport engines\n\n"


def spec_text(rows: Sequence[Row]) -> str:
    """One spec holding every row as its own record."""
    return HEADER + "\n".join(row_spec(r) for r in rows)


# ================================================================================ evaluation
@dataclass
class RowResult:
    row: Row
    spec: str = ""
    measured: float = math.nan                 # in the CSV's unit
    predicted: float | None = None             # in the CSV's unit
    bound: float | None = None                 # the roofline at efficiency 1, in the CSV's unit
    failure: str | None = None
    unmapped: str | None = None                # why a well-formed row is not predicted

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def metric(self) -> str:
        return self.row.metric

    @property
    def error(self) -> float | None:
        """predicted / measured - 1."""
        return None if self.predicted is None else self.predicted / self.measured - 1

    @property
    def bound_ok(self) -> bool | None:
        """False when the measurement beats the physical bound (a wrong input, or wrong physics)."""
        if self.bound is None:
            return None
        kind = METRICS[self.metric].kind
        return self.measured >= self.bound if kind == "time" else self.measured <= self.bound

    @property
    def far(self) -> bool:
        e = self.error
        return e is not None and abs(e) > FAR[METRICS[self.metric].kind]


@dataclass
class MetricSummary:
    metric: str
    count: int
    mape: float
    worst: RowResult
    target: Target | None
    met: bool | None
    excepted: list[str] = field(default_factory=list)


@dataclass
class Validation:
    csv: Path
    rows: list[RowResult]
    seconds: float
    load_seconds: float
    generalisation: Any = None        # calibrate.Generalisation: the fit and leave-one-source-out
    defaults: dict[str, float] = field(default_factory=dict)   # the stdlib's shared factors

    @property
    def failures(self) -> list[RowResult]:
        return [r for r in self.rows if r.failure is not None]

    @property
    def predicted(self) -> list[RowResult]:
        return [r for r in self.rows if r.failure is None and r.unmapped is None]

    @property
    def unmapped(self) -> list[RowResult]:
        return [r for r in self.rows if r.unmapped is not None]

    @property
    def violations(self) -> list[RowResult]:
        return [r for r in self.rows if r.bound_ok is False]

    def by_metric(self) -> list[MetricSummary]:
        order = list(METRICS) + sorted({r.metric for r in self.predicted} - set(METRICS))
        out = []
        for metric in order:
            rows = [r for r in self.predicted if r.metric == metric]
            if not rows:
                continue
            errors = [abs(r.error) for r in rows if r.error is not None]
            worst = max(rows, key=lambda r: abs(r.error or 0))
            target = TARGETS.get(metric)
            met: bool | None = None
            excepted: list[str] = []
            mape = sum(errors) / len(errors)
            if target is not None and target.kind == "mape":
                met = mape <= target.limit
            elif target is not None:
                excepted = [r.id for r in rows if abs(r.error or 0) > target.limit and r.id in KNOWN_OUTLIERS]
                met = all(abs(r.error or 0) <= target.limit for r in rows if r.id not in excepted)
            out.append(MetricSummary(metric, len(rows), mape, worst, target, met, excepted))
        return out

    def overall(self) -> tuple[int, float, RowResult | None]:
        rows = self.predicted
        if not rows:
            return 0, math.nan, None
        return (len(rows), sum(abs(r.error or 0) for r in rows) / len(rows),
                max(rows, key=lambda r: abs(r.error or 0)))

    @property
    def ok(self) -> bool:
        return not self.failures and not self.violations and all(s.met is not False for s in self.by_metric())


def _measured_factor(row: Row, values: Mapping[str, sympy.Basic]) -> float:
    """Canonical units (B, s, token) per one of the row's unit. A "GB" is 10^9 B unless the
    row's engine record says its logs print "GB" for 2^30 B (`reports_gib`)."""
    if row.unit == "GB":
        return GiB if bool(values[f"{record_name(row)}.engine.reports_gib"]) else 1e9
    return {"GiB": GiB, "ms": 1e-3, "s": 1.0, "token/s": 1.0, "token": 1.0, "block": 1.0}[row.unit]


def _reads(row: Row) -> list[str]:
    rec = record_name(row)
    names = [f"{rec}.{quantity_of(row)}"]
    if row.metric == "kv_cache_blocks":
        names.append(f"{rec}.block_size")
    if row.unit == "GB":
        names.append(f"{rec}.engine.reports_gib")
    return names


def _value(row: Row, values: Mapping[str, sympy.Basic]) -> float:
    """The metric in canonical units from a graph's values (KeyError when not computed)."""
    rec = record_name(row)
    q = float(values[f"{rec}.{quantity_of(row)}"])
    if row.metric == "decode_tokens_per_s":
        return 1.0 / q                                      # 1 token / itl
    if row.metric == "kv_cache_blocks":
        return q / float(values[f"{rec}.block_size"])
    return q


def _bound_fixed(rows: Sequence[Row], graph_nodes: Mapping[str, object]) -> dict[str, sympy.Expr]:
    fixed: dict[str, sympy.Expr] = {}
    for row in rows:
        for name, v in BOUND_INPUTS.items():
            key = f"{record_name(row)}.{name}"
            if key not in graph_nodes:
                raise KeyError(f"serving.deployment has no input `{name}` to hold at its bound")
            fixed[key] = sympy.Integer(v)
    return fixed


def _evaluate(rows: Sequence[Row], results: Mapping[str, RowResult], directory: Path, name: str) -> Any:
    """Load one spec holding `rows`, fill in their predictions and bounds; return the spec."""
    from solver.api import Spec

    path = directory / name
    path.write_text(spec_text(rows), encoding="utf-8")
    spec = Spec.load(path)
    nodes = spec.graph.nodes
    reads = [n for r in rows for n in _reads(r)]
    values = spec.evaluator.values(only=reads)
    timed = [r for r in rows if METRICS[r.metric].kind != "size"]
    bounds: Mapping[str, sympy.Basic] = {}
    if timed:
        bounds = spec.evaluator.values(fixed=_bound_fixed(timed, nodes),
                                       only=[n for r in timed for n in _reads(r)])
    for row in rows:
        res = results[row.id]
        try:
            factor = _measured_factor(row, values)
            res.predicted = _value(row, values) / factor
        except (KeyError, TypeError, ZeroDivisionError) as err:
            res.failure = f"could not evaluate {', '.join(_reads(row))}: {err}"
            continue
        if METRICS[row.metric].kind != "size":
            try:
                res.bound = _value(row, bounds) / factor
            except (KeyError, TypeError, ZeroDivisionError) as err:
                res.failure = f"could not evaluate the bound: {err}"
    return spec


_CANONICAL = {"ms": 1e-3, "s": 1.0, "token/s": 1.0}


def _generalise(spec: Any, rows: Sequence[Row], results: Mapping[str, RowResult]) -> tuple[Any, dict[str, float]]:
    """Fit the shared factors on the timing rows and leave each source out (solver/calibrate.py)."""
    from solver import calibrate

    timed = [r for r in rows if METRICS[r.metric].kind != "size" and results[r.id].failure is None
             and r.unit in _CANONICAL]
    if not timed:
        return None, {}
    compiled = calibrate.compile_rows(spec, [
        (r.id, r.metric, calibrate.source_of(r.source), f"{record_name(r)}.{quantity_of(r)}",
         r.value * _CANONICAL[r.unit], r.metric == "decode_tokens_per_s") for r in timed], list(calibrate.FACTORS))
    return (calibrate.generalisation(compiled, list(METRICS)),
            calibrate.defaults(spec, record_name(timed[0])))


def run(csv_path: Path | None = None) -> Validation:
    """Predict every row of the CSV. Rows that cannot be mapped or evaluated are failures."""
    from lang.diagnostics import InferError

    start = time.perf_counter()
    path = csv_path or default_csv()
    rows = load_rows(path)
    results: dict[str, RowResult] = {}
    good: list[Row] = []
    for row in rows:
        res = results[row.id] = RowResult(row)
        res.unmapped = unmapped_reason(row)
        if res.unmapped is not None:
            continue
        try:
            res.spec = row_spec(row)
            res.measured = row.value
            good.append(row)
        except ValueError as err:
            res.failure = str(err)
    load_start = time.perf_counter()
    generalisation: Any = None
    factors: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="infer-validate-") as tmp:
        try:
            spec = _evaluate(good, results, Path(tmp), "validation.infer")
            generalisation, factors = _generalise(spec, good, results)
        except (InferError, KeyError) as err:
            # Something in the combined spec does not load: take the rows one by one, so every
            # row that can be predicted still is and each failure names its own cause.
            first = str(err)
            for row in good:
                try:
                    _evaluate([row], results, Path(tmp), f"{record_name(row)}.infer")
                except (InferError, KeyError) as row_err:
                    results[row.id].failure = str(row_err).strip() or first
    load_seconds = time.perf_counter() - load_start
    return Validation(csv=path, rows=[results[r.id] for r in rows],
                      seconds=time.perf_counter() - start, load_seconds=load_seconds,
                      generalisation=generalisation, defaults=factors)
