"""Every spec in specs/ and every acceptance spec checks, evaluates and solves each of its goals.

The acceptance specs (`tests/acceptance/`) are the project's copies of the specs its design fixed as
user-visible contracts; tests never read outside the repository.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from solver.api import Spec

ACCEPTANCE = REPO / "tests" / "acceptance"
SPECS = sorted((REPO / "specs").glob("*.infer")) + sorted(ACCEPTANCE.glob("*.infer"))


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


def test_acceptance_specs_are_in_the_repo() -> None:
    assert {p.name for p in ACCEPTANCE.glob("*.infer")} >= {"chat.infer", "rag.infer", "gpu-choice.infer",
                                                            "from-scratch.infer"}


def test_acceptance_answers() -> None:
    chat = Spec.load(ACCEPTANCE / "chat.infer")
    assert chat.eval().quantities["chat.kv_per_token"].text == "327680 B/token"
    solution = chat.solve("max_batch")
    assert solution.binding is not None
    assert any(s.kind == "answer" and "needs" in s.note for s in solution.steps), \
        "the next whole batch is shown breaking the binding requirement"
    rag = Spec.load(ACCEPTANCE / "rag.infer").solve("max_prompt")
    assert rag.binding is not None and rag.unit == "token"
    cheapest = Spec.load(ACCEPTANCE / "gpu-choice.infer").solve("cheapest")
    assert cheapest.candidates and cheapest.choice
