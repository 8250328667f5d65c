"""What a loaded spec compiles once (margins as NumPy code, closed forms, evaluated points) never
changes an answer: every question asked again on a spec that has already answered others gives,
byte for byte, what a freshly loaded spec gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from solver.api import Spec
from solver.optimize import SolveError

SPECS = sorted((REPO / "specs").glob("*.infer"))

# (spec, --set, --for, --where): questions beyond each spec's own goals
QUESTIONS = [
    ("chat.infer", ["chat.prompt=1000token"], "max_batch", {}),
    ("chat.infer", ["chat.batch=64"], "chat.itl", {}),
    ("chat.infer", ["chat.batch=32"], "chat.prompt", {"chat.ttft": "1 s"}),
    ("kv-budget.infer", ["batch=exp(3)"], "max_context", {}),
]


class _NeverKeep(dict):  # type: ignore[type-arg]
    """A memo that keeps nothing: every question runs the whole pipeline, as before any compiling."""

    def __setitem__(self, key: object, value: object) -> None:
        pass


def _uncompiled(path: Path, sets: list[str] | None = None) -> Spec:
    spec = Spec.load(path, sets or [])
    spec._compiled = _NeverKeep()
    spec.evaluator._known = _NeverKeep()
    return spec


def _answer(spec: Spec, target: str, where: dict[str, str] | None = None) -> str:
    try:
        return spec.solve(target, where).model_dump_json()
    except SolveError as err:
        return f"SolveError: {err}: {err.solution.model_dump_json() if err.solution else ''}"


def _questions(path: Path) -> list[tuple[str, dict[str, str]]]:
    spec = Spec.load(path)
    return [(g.name, {}) for g in spec.graph.goals] + [(spec.graph.root_names[-1], {})]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_answers_on_a_spec_that_answered_before_match_a_fresh_spec(path: Path) -> None:
    questions = _questions(path)
    shared = Spec.load(path)
    first = [_answer(shared, t, w) for t, w in questions] + [shared.eval().model_dump_json()]
    again = [_answer(shared, t, w) for t, w in reversed(questions)][::-1] + [shared.eval().model_dump_json()]
    # The first question on `shared` found nothing compiled yet: it is its own fresh reference.
    fresh = first[:1] + [_answer(_uncompiled(path), t, w) for t, w in questions[1:]] + \
        [_uncompiled(path).eval().model_dump_json()]
    assert first == fresh
    assert again == fresh


@pytest.mark.parametrize("name, sets, target, where", QUESTIONS)
def test_set_for_and_where_questions_match_a_fresh_spec(name: str, sets: list[str], target: str,
                                                        where: dict[str, str]) -> None:
    path = REPO / "specs" / name
    shared = Spec.load(path, sets)
    for goal in shared.graph.goals:
        _answer(shared, goal.name)         # compiled pieces of other questions are in place
    twice = [_answer(shared, target, where) for _ in range(2)]
    assert twice == [_answer(_uncompiled(path, sets), target, where)] * 2
