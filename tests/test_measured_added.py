"""validation/measured_added.csv and validation/names.csv: the measurements collected for issue 9.

The rows are not in `infer validate`'s default run yet (validation/README.md says why); these
tests keep them loadable by solver.validation, sourced and settings-stated, and check that every
name they use maps (names.csv) to a catalog entry that exists.
"""

from __future__ import annotations

import csv
import re

import pytest
from conftest import REPO

from solver import validation as V
from solver.catalog import load_catalog

ADDED = REPO / "validation" / "measured_added.csv"
NAMES = REPO / "validation" / "names.csv"
SEED = REPO / "validation" / "measured.csv"


@pytest.fixture(scope="module")
def rows() -> list[V.Row]:
    return V.load_rows(ADDED)


@pytest.fixture(scope="module")
def names() -> dict[tuple[str, str], str]:
    with open(NAMES, newline="", encoding="utf-8") as f:
        return {(r["kind"], r["name"]): r["catalog"] for r in csv.DictReader(f)}


def test_same_columns_as_the_seed() -> None:
    with open(SEED, encoding="utf-8") as a, open(ADDED, encoding="utf-8") as b:
        assert a.readline() == b.readline()


def test_ids_are_unique_across_both_files(rows: list[V.Row]) -> None:
    seed = {r.id for r in V.load_rows(SEED)}
    clash = seed & {r.id for r in rows}
    assert not clash, f"row ids used in both files: {sorted(clash)}"


def test_size_and_spread(rows: list[V.Row]) -> None:
    """Issue 9's floor for the merged set: >= 100 rows from >= 8 sources."""
    seed = V.load_rows(SEED)
    assert len(seed) + len(rows) >= 100
    sources = {re.split(r"\s@|\s\(", r.source)[0] for r in seed + rows}
    assert len(sources) >= 8, sorted(sources)
    gpus = {r.gpu for r in rows}
    for wanted in ("H100-SXM5-80GB", "H200-SXM-141GB", "B200-180GB", "A100-SXM4-80GB", "L40S-48GB",
                   "RTX-4090-24GB", "MI300X-192GB"):
        assert wanted in gpus, wanted
    assert {1, 2, 4, 8} <= {r.tp for r in rows}
    engines = " ".join(r.framework.lower() for r in rows)
    for engine in ("vllm", "sglang", "tensorrt-llm"):
        assert engine in engines, engine


def test_every_row_is_sourced_and_graded(rows: list[V.Row]) -> None:
    for r in rows:
        assert r.source and r.note, r.id
        assert r.confidence in ("H", "M", "L"), (r.id, r.confidence)
        assert r.metric in V.METRICS, (r.id, r.metric)
        assert r.unit in V.METRICS[r.metric].units, (r.id, r.unit)
        assert r.value > 0, r.id


def test_per_gpu_values_state_the_published_figure(rows: list[V.Row]) -> None:
    """A value divided by the GPU count keeps the source's own figure in the note, and agrees with it."""
    for r in rows:
        m = re.search(r"([\d.]+) token/s for (?:the )?(\d+) GPU", r.note)
        if m:
            total, gpus = float(m.group(1)), int(m.group(2))
            assert gpus == r.gpu_count, r.id
            assert r.value == pytest.approx(total / gpus, rel=1e-4), r.id


def test_every_name_maps_to_an_existing_catalog_entry(rows: list[V.Row],
                                                      names: dict[tuple[str, str], str]) -> None:
    entries = {cat: {e.name for e in load_catalog(cat).entries}
               for cat in ("models", "gpus", "precisions")}
    used = ({("model", r.model) for r in V.load_rows(SEED) + rows}
            | {("gpu", r.gpu) for r in V.load_rows(SEED) + rows}
            | {("precision", p) for r in V.load_rows(SEED) + rows for p in (r.weights, r.kv_cache)})
    missing = sorted(used - set(names))
    assert not missing, f"names without a catalog mapping in names.csv: {missing}"
    for (kind, name), expr in names.items():
        catalog, entry = expr.split("{")[0].strip().split(".")
        assert entry in entries[catalog], f"{kind} {name}: {expr} is not in stdlib/{catalog}.infer"


def test_names_agree_with_the_validators_tables(names: dict[tuple[str, str], str]) -> None:
    """Where solver/validation.py already maps a name, names.csv maps it to the same entry
    (int4-g32 excepted: the validator still reads gpt-fast's int4 as the GPTQ layout)."""
    tables = {"model": getattr(V, "MODELS", {}), "gpu": getattr(V, "GPUS", {}),
              "precision": getattr(V, "PRECISIONS", {})}
    for kind, table in tables.items():
        for name, expr in table.items():
            if (kind, name) == ("precision", "int4-g32"):
                continue
            assert names.get((kind, name)) == expr, (kind, name)
