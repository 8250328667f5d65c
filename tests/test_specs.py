"""Every spec in specs/ and every acceptance spec checks, evaluates and solves each of its goals."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from solver.api import Spec

SHARED = REPO.parent / "shared" / "acceptance"
SPECS = sorted((REPO / "specs").glob("*.infer")) + sorted(SHARED.glob("*.infer"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_spec_solves_every_goal(path: Path) -> None:
    spec = Spec.load(path)
    evaluation = spec.eval()
    assert evaluation.quantities, "a spec with nothing to compute"
    assert spec.graph.goals, f"{path.name} states no goal"
    for goal in spec.graph.goals:
        solution = spec.solve(goal.name)
        assert solution.value is not None
        assert solution.steps, "every answer explains itself"


def test_acceptance_answers() -> None:
    chat = Spec.load(SHARED / "chat.infer")
    assert chat.eval().quantities["chat.kv_per_token"].text == "327680 B/token"
    solution = chat.solve("max_batch")
    assert solution.binding is not None
    assert any(s.kind == "answer" and "needs" in s.note for s in solution.steps), \
        "the next whole batch is shown breaking the binding requirement"
    rag = Spec.load(SHARED / "rag.infer").solve("max_prompt")
    assert rag.binding is not None and rag.unit == "token"
    cheapest = Spec.load(SHARED / "gpu-choice.infer").solve("cheapest")
    assert cheapest.candidates and cheapest.choice
