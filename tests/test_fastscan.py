"""The compiled goal's shortcuts decide as the slow ways do: the scan over NumPy arrays
(solver.fastscan) as the scan point by point, and the float decisions of solver.fastgoal (a
max/min's branch, the binding margin's direction) as exact arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import fastbuild, fastgoal, fastpath, fastscan
from solver.api import Spec
from tests.conftest import REPO

CHAT = REPO / "specs" / "chat.infer"


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """chat.infer's compiled form, every goal compiled (the spec as written)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("fastscan")))
        assert fastbuild.refresh(CHAT)
        found = fastpath.load(CHAT)
    assert found is not None and "max_batch" in found[0]["goals"]
    yield found


def _scans(data: dict[str, Any], ns: dict[str, Any], sets: list[str]) -> tuple[object, object]:
    goal = data["goals"]["max_batch"]
    fbase = fastgoal.start(data, ns, sets)["\x00float"]
    out: list[object] = []
    for scan in (fastgoal._scan, fastgoal._scan_vector):
        try:
            out.append(scan(goal, ns, fbase))
        except fastpath.Fallback:
            out.append("fallback")
    return out[0], out[1]


@given(prompt=st.integers(min_value=1, max_value=200_000), output=st.sampled_from([1, 64, 512, 4096]),
       tp=st.sampled_from([1, 2, 4, 8]))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_scan_over_arrays_decides_as_the_scan_point_by_point(
        form: tuple[dict[str, Any], dict[str, Any]], prompt: int, output: int, tp: int) -> None:
    data, ns = form
    sets = [f"chat.prompt={prompt}token", f"chat.output={output}token", f"chat.tp={tp}"]
    one_by_one, at_once = _scans(data, ns, sets)
    assert at_once == one_by_one
    if at_once != "fallback":
        goal = data["goals"]["max_batch"]
        fbase = fastgoal.start(data, ns, sets)["\x00float"]
        rows = fastscan.margins(goal, ns, fbase, fastgoal.SCAN)
        for j, x in enumerate(fastgoal.SCAN):
            scalar = fastgoal._margins(goal, ns, fbase, float(x), ("lf", "hf"))[1]
            assert rows[:, j].tolist() == pytest.approx(scalar, rel=1e-12, abs=1e-15)


def test_a_scan_that_divides_by_zero_falls_back(form: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, ns = form
    goal = data["goals"]["max_batch"]
    fbase = dict(fastgoal.start(data, ns, [])["\x00float"])
    pp = next(n for n in fbase if n.endswith("chat.pp"))
    fbase[pp] = 0.0                                      # batch / pp: no number, in either scan
    with pytest.raises((fastpath.Fallback, ZeroDivisionError)):
        fastgoal._scan(goal, ns, fbase)
    with pytest.raises(fastpath.Fallback):
        fastgoal._scan_vector(goal, ns, fbase)


@pytest.mark.parametrize("prompt", [1500, 2048, 6000])
def test_float_decisions_give_the_answer_exact_arithmetic_gives(form: tuple[dict[str, Any], dict[str, Any]],
                                                                 prompt: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data, ns = form
    sets = [f"chat.prompt={prompt}token"]
    try:
        quick = fastgoal.solve(data, ns, sets, "max_batch")
    except fastpath.Fallback:
        pytest.skip("a branch this form has not recorded")      # the prompt the form was built at answers
    monkeypatch.setattr(fastgoal, "FLOAT_CLEAR", float("inf"))   # nothing is clear enough for floats
    monkeypatch.setattr(fastgoal, "PICK_CLEAR", float("inf"))
    monkeypatch.setattr(fastgoal, "fastscan_ready", lambda goal: False)
    assert fastgoal.solve(data, ns, sets, "max_batch") == quick
    if prompt == 2048:                                   # the spec as written: the full pipeline's answer
        monkeypatch.setenv("INFER_COMPILED", "0")
        full = Spec.load(REPO / "specs" / "chat.infer").solve("max_batch")
        assert quick["value"] == full.value and f"{full.value + 1} needs" in quick["steps"][-1]["note"]
        assert quick["steps"][-1]["note"] == full.steps[-1].note
