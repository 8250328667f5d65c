"""`Spec.load` of a cached spec (solver.formspec): eval and solve from the compiled form give the
full pipeline's results field for field, without sympy, lark or pint; the graph is built only
when something needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from solver import fastbuild, fastpath
from solver.api import Spec
from solver.optimize import SolveError
from tests.conftest import REPO

SPECS = sorted((REPO / "specs").glob("*.infer"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bool]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("formspec")))
        mp.setenv("INFER_CACHE", "1")
        yield {p.name: fastbuild.refresh(p) for p in SPECS}


def _answers(spec: Spec, targets: list[str]) -> list[str]:
    out = [spec.eval().model_dump_json()]
    for target in targets:
        try:
            out.append(spec.solve(target).model_dump_json())
        except SolveError as err:
            out.append(f"SolveError: {err}")
    return out


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_a_cached_spec_loads_without_its_graph_and_answers_as_the_full_pipeline(
        path: Path, cache: dict[str, bool], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ["XDG_CACHE_HOME"])
    lazy = Spec.load(path)
    if not cache[path.name]:
        assert lazy._graph is not None
        return
    assert lazy._graph is None and lazy.warnings == []
    data = fastpath.load(path)
    assert data is not None
    forward = list(data[0]["forward"])
    targets = forward[-2:] + list(data[0]["goal_names"])[:2]
    own = [n for n, _ in data[0]["quantities"] if n in data[0]["inputs"]][:1]
    questions: list[list[str]] = [[]]
    for name in own:
        unit = data[0]["inputs"][name]["unit"]
        questions.append([f"{name}=3{unit}"])
    for sets in questions:
        fast = Spec.load(path, sets)
        got = _answers(fast, targets)
        with monkeypatch.context() as mp:
            mp.setenv("INFER_COMPILED", "0")
            full = Spec.load(path, sets)
            assert full._graph is not None
            assert got == _answers(full, targets), (path.name, sets)


def test_what_the_form_cannot_answer_builds_the_graph(cache: dict[str, bool],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ["XDG_CACHE_HOME"])
    chat = REPO / "specs" / "chat.infer"
    spec = Spec.load(chat)
    assert spec._graph is None
    assert spec.solve("chat.kv_per_token", unit="KiB/token").unit == "KiB/token"    # a whole number
    assert spec._graph is None
    assert spec.solve("chat.prefill_time", unit="us").unit == "us"      # a fraction: nsimplify's, the graph
    assert spec._graph is not None and spec._form is not None
    assert Spec.load(chat, ["chat.prompt=1ktoken"])._graph is not None      # another unit: the graph
    assert len(Spec.load(chat).graph.nodes) > 10                           # built when asked for


def test_a_loaded_spec_imports_neither_sympy_nor_lark_nor_pint(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"}
    chat = str(REPO / "specs" / "chat.infer")
    built = subprocess.run([sys.executable, "-m", "solver.cli", "eval", chat], env=env, capture_output=True,
                           text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    probe = ("import sys\nfrom solver.api import Spec\n"
             f"spec = Spec.load({chat!r}, ['chat.prompt=1500token'])\n"
             "print(spec.eval().quantities['chat.prefill_time'].text, spec.solve('chat.prefill_time').text)\n"
             "print(sorted(m for m in ('sympy', 'lark', 'pint') if m in sys.modules))")
    fast = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    full = subprocess.run([sys.executable, "-c", probe], env={**env, "INFER_COMPILED": "0"}, capture_output=True,
                          text=True, timeout=120)
    assert fast.stdout.splitlines()[-1] == "[]", fast.stdout + fast.stderr
    assert fast.stdout.splitlines()[0] == full.stdout.splitlines()[0]
    # `infer export` loads the spec as the API does: a derivation document without sympy either
    cli = ("import sys\nfrom solver import cli\ncode = cli.main(sys.argv[1:])\n"
           "print('HEAVY', code, sorted(m for m in ('sympy', 'lark', 'pint') if m in sys.modules), file=sys.stderr)")
    argv = ["export", chat, "--for", "chat.prefill_time", "--set", "chat.prompt=1500token", "--format", "latex"]
    fast = subprocess.run([sys.executable, "-c", cli, *argv], env=env, capture_output=True, text=True, timeout=120)
    full = subprocess.run([sys.executable, "-m", "solver.cli", *argv], env={**env, "INFER_COMPILED": "0"},
                          capture_output=True, text=True, timeout=120)
    assert "HEAVY 0 []" in fast.stderr, fast.stderr
    assert fast.stdout == full.stdout and "subsection" in full.stdout


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_in_unit_from_the_form_is_the_full_pipelines(path: Path, cache: dict[str, bool],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`solve --for QUANTITY --in UNIT` on the compiled form (a whole-number value: exact), in
    every format, as the full pipeline prints it; anything else falls back."""
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ["XDG_CACHE_HOME"])
    from solver.render import render_solution

    found = fastpath.load(path)
    if found is None:
        return
    data = found[0]
    for target in list(data["forward"])[-6:]:
        unit = data["shows"][target].get("si", "")
        if not unit:
            continue
        for fmt in ("text", "json", "markdown", "latex"):
            fast = fastpath.answer_solve(path, [], target, fmt, [], unit)
            if fast is not None:
                answered.add(path.name)
                with monkeypatch.context() as mp:
                    mp.setenv("INFER_COMPILED", "0")
                    full = render_solution(Spec.load(path).solve(target, unit=unit), fmt)
                assert fast == full, (target, unit, fmt)


answered: set[str] = set()


def test_in_unit_is_answered_on_most_specs() -> None:
    assert "chat.infer" in answered and len(answered) >= 4, answered
