"""`infer simulate` from a stored step cost (solver.fastsim): the full pipeline's report (less the
simulator's own wall time) for new rates, replicas and durations, without sympy, lark or pint."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from solver import fastsim
from solver.api import Spec
from solver.simgrid import options_from_args, run_from_args
from solver.stepcost import compile_step_cost
from tests.conftest import REPO

SPECS = sorted((REPO / "specs").glob("*.infer"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("INFER_CACHE", "1")


def _args(path: Path, rate: str, replicas: str = "1", duration: str = "30", as_json: bool = False,
          **more: object) -> argparse.Namespace:
    base = {"spec": path, "sets": [], "trace": None, "rate": rate, "curve": None, "duration": duration,
            "arrivals": "poisson", "length_cv": "0,0", "replicas": replicas, "autoscale": None,
            "router": "least", "batching": "continuous", "deployment": None, "seed": 0, "speedup": 1.0,
            "scheduler": None, "json": as_json, "csv": None, "plot": None}
    return argparse.Namespace(**{**base, **more})


def _timeless(text: str) -> str:
    """The report less the simulator's own wall time (the one thing two runs differ in)."""
    if text.startswith("{"):
        data = json.loads(text)
        data.pop("wall_s"), data.pop("events_per_s")
        return json.dumps(data)
    return re.sub(r"events, [0-9.]+ s, [0-9,]+ events/s", "events", text)


def _full(args: argparse.Namespace) -> str:
    return _timeless(run_from_args(Spec.load(args.spec, args.sets), args, options_from_args(args))[0])


def _simulated(path: Path) -> bool:
    """Whether the full pipeline simulates the spec (some hold no deployment, or one with a choice)."""
    try:
        compile_step_cost(Spec.load(path))
    except Exception:
        return False
    return True


@pytest.mark.parametrize("path", [p for p in SPECS if p.stem in ("chat", "traffic-chat", "gpu-choice")],
                         ids=lambda p: p.stem)
def test_a_stored_step_cost_simulates_as_the_full_pipeline(path: Path) -> None:
    first = _args(path, "3")
    try:
        _full(first)
    except Exception as err:        # a spec the simulator refuses: nothing is stored for it
        assert not fastsim.build(first), err
        return
    assert fastsim.answer(first) is None
    assert fastsim.build(first)
    for args in (_args(path, "7", duration="20"), _args(path, "2.5", replicas="2", as_json=True),
                 _args(path, "4", arrivals="gamma:2", length_cv="0.5,0.5", seed=3)):
        fast = fastsim.answer(args)
        assert fast is not None and fast[1] == []
        assert _timeless(fast[0]) == _full(args)


def test_most_deployments_store_their_step_cost() -> None:
    kept = [fastsim.build(_args(p, "1")) for p in SPECS if _simulated(p)]
    assert len(kept) >= 3 and all(kept), kept


def test_what_reads_more_of_the_spec_takes_the_full_pipeline() -> None:
    chat = REPO / "specs" / "traffic-chat.infer"
    assert fastsim.build(_args(chat, "1"))
    assert fastsim.answer(_args(chat, "1,2")) is None                 # a grid
    assert fastsim.answer(_args(chat, "1", autoscale="")) is None     # the spec's scaling policy
    assert fastsim.answer(_args(chat, None, curve="")) is None        # the spec's load curve
    assert fastsim.answer(_args(chat, "1", sets=["chat.prompt=10token"])) is None   # another --set
    assert fastsim.answer(_args(chat, "-1")) is None                  # the full pipeline's usage error


def test_a_new_simulation_imports_neither_sympy_nor_lark_nor_pint(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "INFER_COMPILED"}, "PYTHONPATH": str(REPO),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"}
    spec = str(REPO / "specs" / "traffic-chat.infer")
    first = subprocess.run([sys.executable, "-m", "solver.cli", "simulate", spec, "--rate", "2", "--duration", "20"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    probe = ("import sys\nfrom solver import cli\ncode = cli.main(sys.argv[1:])\n"
             "heavy = sorted(m for m in ('sympy', 'lark', 'pint') if m in sys.modules)\n"
             "print('HEAVY', code, heavy, file=sys.stderr)")
    argv = ["simulate", spec, "--rate", "3", "--duration", "20", "--json"]
    fast = subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True, timeout=120)
    assert "HEAVY 0 []" in fast.stderr, fast.stderr
    full = subprocess.run([sys.executable, "-m", "solver.cli", *argv], env={**env, "INFER_COMPILED": "0"},
                          capture_output=True, text=True, timeout=120)
    assert _timeless(fast.stdout) == _timeless(full.stdout) and full.returncode == 0
