"""`infer sweep` from stored NumPy columns (solver.fastsweep): the full pipeline's bytes (table
and CSV) for new `--vary` values on every spec, no sympy, lark or pint, and never a stale entry."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from solver import fastsweep
from solver.api import Spec
from solver.sweep_output import sweep_command
from solver.sweep_vary import _display
from tests.conftest import REPO

SPECS = sorted((REPO / "specs").glob("*.infer"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("INFER_CACHE", "1")


def _args(path: Path, vary: list[str], report: str, sets: list[str] = (), csv: Path | None = None  # type: ignore[assignment]
          ) -> argparse.Namespace:
    return argparse.Namespace(spec=path, vary=vary, report=report, sets=list(sets), csv=csv, plot=None)


def _full(args: argparse.Namespace) -> tuple[str, str]:
    out = sweep_command(Spec.load(args.spec, args.sets), args)
    return out.table, args.csv.read_text(encoding="utf-8") if args.csv else ""


def _fast(args: argparse.Namespace) -> tuple[str, str] | None:
    out = fastsweep.answer(args)
    if out is None:
        return None
    return out.table, args.csv.read_text(encoding="utf-8") if args.csv else ""


def _question(path: Path) -> tuple[str, list[tuple[float, ...]], str] | None:
    """The spec's first numeric input of its own, three value lists around its value, and a report:
    its last two quantities with a value and its first requirement."""
    spec = Spec.load(path)
    values = spec.evaluator.values()
    graph = spec.graph
    inputs = [n for n in graph.root_names if graph.nodes[n].kind == "input" and n in values
              and values[n].is_Rational and values[n] > 0 and not graph.nodes[n].is_text
              and graph.nodes[n].dim is not None and "[" not in str(graph.nodes[n].dim)]
    if not inputs:
        return None
    name = inputs[0]
    shown = float(values[name]) / _display(graph.nodes[name])[1]
    lists = [(shown, 2 * shown), (shown / 2, shown, 3 * shown), (1.0, 7.0)]
    report = [n for n in graph.root_names if n in values and n != name][-2:]
    report += [r.text for r in graph.requirements if r.text.count(",") == 0 and all(d in values for d in r.deps)][:1]
    return name, lists, ",".join(report)


def _axis(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_a_stored_sweep_answers_new_values_with_the_full_pipelines_bytes(path: Path, tmp_path: Path) -> None:
    found = _question(path)
    if found is None:
        pytest.skip("no numeric input of its own")
    name, lists, report = found
    first = _args(path, [f"{name}={_axis(lists[0])}"], report)
    table, _ = _full(first)
    assert fastsweep.answer(first) is None              # nothing stored yet
    kept = fastsweep.build(first, table)
    for values in lists[1:]:
        again = _args(path, [f"{name}={_axis(values)}"], report, csv=tmp_path / "fast.csv")
        fast = _fast(again)
        assert (fast is not None) == kept, path
        if fast is not None:
            full = _full(_args(path, again.vary, report, csv=tmp_path / "full.csv"))
            assert fast == full


def test_most_specs_store_their_sweeps() -> None:
    kept = []
    for path in SPECS:
        found = _question(path)
        if found is not None:
            name, lists, report = found
            args = _args(path, [f"{name}={_axis(lists[0])}"], report)
            kept.append(fastsweep.build(args, _full(args)[0]))
    assert len(kept) >= len(SPECS) - 3 and sum(kept) >= len(kept) - 2, kept


def test_ranges_choices_and_sets_as_the_full_pipeline(tmp_path: Path) -> None:
    kv = REPO / "specs" / "kv-budget.infer"
    report = "kv_total,kv_total <= budget"
    shape = [["batch", "context"], report, ["context=5"]]
    stored = _args(kv, ["batch=1..4", "context=[1024, 2048]"], report, ["context=5"])
    assert fastsweep.build(stored, _full(stored)[0])
    for vary in (["batch=1..64:*2", "context=1024..8192:1024"], ["batch=3", "context=1e3..1e5"],
                 ["batch=1..3:0.5", "context=[7]"]):
        args = _args(kv, vary, report, ["context=5"])
        assert fastsweep.shape(args) == shape
        assert _fast(args) == _full(args), vary
    # a value with a unit needs the parser; a bad step is the full pipeline's diagnostic
    assert fastsweep.answer(_args(kv, ["batch=1..4", "context=[1kB]"], report, ["context=5"])) is None
    assert fastsweep.answer(_args(kv, ["batch=4..1:1", "context=[1]"], report, ["context=5"])) is None
    # another --set, another report or another order of names is another sweep
    assert fastsweep.answer(_args(kv, ["batch=1..4", "context=[1]"], report, ["context=6"])) is None
    assert fastsweep.answer(_args(kv, ["batch=1..4", "context=[1]"], "kv_total", ["context=5"])) is None
    assert fastsweep.answer(_args(kv, ["context=[1]", "batch=1..4"], report, ["context=5"])) is None


CHOICE_SPEC = """\
import gpus
import models

svc = {
  model = models.llama_3_1_8b
  gpu: one of [gpus.l4, gpus.h100_sxm, gpus.a100_80gb_sxm]
  batch: count
  prompt = 1024 token
  kv_per_token: KiB/token = 2 * model.layers * model.kv_heads * model.head_dim * 2 B / token
  kv_total: GB = batch * prompt * kv_per_token
  require kv_total <= gpu.memory
}
"""


def test_a_sweep_over_a_choice_as_the_full_pipeline(tmp_path: Path) -> None:
    spec = tmp_path / "choice.infer"
    spec.write_text(CHOICE_SPEC, encoding="utf-8")
    report = "kv_total,kv_total <= gpu.memory"
    first = _args(spec, ["gpu=[gpus.l4, h100_sxm]", "batch=[1, 256]"], report)
    assert fastsweep.build(first, _full(first)[0])
    for vary in (["gpu=all", "batch=[1, 64, 256]"], ["gpu=[a100_80gb_sxm]", "batch=1..3"]):
        args = _args(spec, vary, report)
        fast = _fast(args)
        assert fast is not None and fast == _full(args)
    # an edit to the spec is never answered from the stored sweep
    spec.write_text(CHOICE_SPEC.replace("1024 token", "4096 token"), encoding="utf-8")
    assert fastsweep.answer(_args(spec, ["gpu=all", "batch=[1]"], report)) is None


def test_a_tampered_sweep_is_never_run(tmp_path: Path) -> None:
    kv = REPO / "specs" / "kv-budget.infer"
    args = _args(kv, ["batch=1..4", "context=[1024]"], "kv_total")
    assert fastsweep.build(args, _full(args)[0])
    (entry,) = (tmp_path / "cache" / "infer" / "compiled").glob("sweep-*.json")
    entry.write_text(entry.read_text().replace("131072", "131073"))
    assert fastsweep.answer(args) is None


def test_a_new_sweep_imports_neither_sympy_nor_lark_nor_pint(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "INFER_COMPILED"}, "PYTHONPATH": str(REPO),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"}
    chat = str(REPO / "specs" / "chat.infer")
    base = ["sweep", chat, "--report", "chat.ttft,chat.itl", "--set", "chat.prompt=2000token"]
    first = subprocess.run([sys.executable, "-m", "solver.cli", *base, "--vary", "chat.batch=[1, 8]"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    probe = ("import sys\nfrom solver import cli\ncode = cli.main(sys.argv[1:])\n"
             "heavy = sorted(m for m in ('sympy', 'lark', 'pint', 'pydantic') if m in sys.modules)\n"
             "print('HEAVY', code, heavy, file=sys.stderr)")
    argv = [*base, "--vary", "chat.batch=1..256:*2"]
    fast = subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True,
                          timeout=120)
    assert "HEAVY 0 []" in fast.stderr, fast.stderr
    full = subprocess.run([sys.executable, "-m", "solver.cli", *argv], env={**env, "INFER_COMPILED": "0"},
                          capture_output=True, text=True, timeout=120)
    assert fast.stdout == full.stdout and full.returncode == 0 and fast.stdout.count("\n") > 5
