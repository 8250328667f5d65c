"""The results are plain dataclasses on the hot path; their JSON and schema are still pydantic's."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from conftest import REPO, fresh_python

from solver import results
from solver.api import Spec
from solver.results_schema import twin


def test_a_derivation_as_text_imports_no_pydantic() -> None:
    """Importing pydantic and building its validators costs ~0.1 s of a first run."""
    probe = ("import sys\nfrom solver.api import Spec\nfrom solver.render import render_solution\n"
             "render_solution(Spec.load('specs/chat.infer').solve('max_batch'))\n"
             "print([m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')][:3])")
    done = fresh_python(probe)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("spec, target", [("specs/chat.infer", "max_batch"), ("specs/kv-budget.infer", "max_context")])
def test_the_json_is_what_the_pydantic_model_writes(spec: str, target: str) -> None:
    """Each result, validated by its pydantic twin, dumps to the same data and the same JSON."""
    loaded = Spec.load(REPO / spec)
    for result in (loaded.solve(target), loaded.eval()):
        model = twin(type(result)).model_validate(result.model_dump())
        assert model.model_dump(mode="json") == result.model_dump(mode="json")
        assert json.loads(model.model_dump_json()) == json.loads(result.model_dump_json())
        assert type(result).model_validate(result.model_dump()) == result


def test_values_are_coerced_as_pydantic_coerces_them() -> None:
    given: Any
    for given in (np.float64(1.5), np.int64(2), 3, 2.5, True, "memory", None):
        ours = results.Value(value=given, unit="", text="x", si_value=4)
        theirs = twin(results.Value)(value=given, unit="", text="x", si_value=4)
        assert ours.model_dump() == theirs.model_dump()
        assert [type(v) for v in ours.model_dump().values()] == [type(v) for v in theirs.model_dump().values()]
    nan = results.Value(value=float("nan"), unit="", text="undefined")
    assert json.loads(nan.model_dump_json()) == json.loads(twin(results.Value).model_validate(
        nan.model_dump()).model_dump_json())


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError):
        results.Value.model_validate({"value": 1, "unit": "", "text": "1", "colour": "red"})


def test_nested_results_given_as_dicts_are_built_as_pydantic_builds_them() -> None:
    step = {"name": "x", "formula": "x = 2", "result": {"value": 2, "unit": "", "text": "2"}}
    sol = results.Solution(spec="a", target="x", kind="forward", value=2, unit="", text="2",
                           steps=[step])  # type: ignore[list-item]
    assert isinstance(sol.steps[0], results.Step) and isinstance(sol.steps[0].result, results.Value)
    assert sol == results.Solution.model_validate(sol.model_dump())
    assert sol.model_dump() == twin(results.Solution)(**sol.model_dump()).model_dump()
