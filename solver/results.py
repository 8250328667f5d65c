"""Results that leave the program: pydantic models, so their JSON schema is published and stable.

`infer solve --format json` prints a `Solution`; `infer eval --json` prints an
`Evaluation`. `python -m solver.results` prints both schemas.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class Value(_Frozen):
    value: int | float | str | bool | None = Field(
        description="the number in `unit` (text for text values, true/false for flags); null when it is "
        "undefined or its magnitude is beyond a double (1e1998, 1e-1998): `text` then shows it")
    unit: str = Field(description="the unit `value` is in; empty for plain numbers")
    text: str = Field(description="value and unit as shown to people")
    si_value: float | None = Field(None, description="the value in canonical base units (B, s, FLOP, token, USD)")
    si_unit: str = ""


class Step(_Frozen):
    """One line of a derivation: a formula, the numbers put into it, and what comes out."""

    name: str
    formula: str = Field(description="the formula as written, in the spec's names")
    substituted: str = Field("", description="the formula with each name replaced by its value")
    result: Value | None = None
    note: str = ""
    kind: Literal["input", "formula", "closed-form", "bound", "numeric", "answer", "check", "choice"] = "formula"


class Candidate(_Frozen):
    """One option of a discrete choice, with its objective and verdict."""

    option: str
    objective: Value | None
    feasible: bool
    broken: str | None = Field(None, description="the first requirement this option breaks, with the margin")
    binding: str | None = Field(None, description="for a feasible option, the requirement that limits it")
    decision: Value | None = Field(None, description="the continuous unknown's best value for this option")


class Requirement(_Frozen):
    text: str
    record: str = Field("", description="the record the requirement belongs to; empty for the spec's own")
    holds: bool | None = Field(description="null when it depends on an unknown")
    lhs: Value | None = None
    rhs: Value | None = None
    margin: str = ""


class Solution(_Frozen):
    spec: str
    target: str
    kind: Literal["forward", "inverse", "goal"]
    value: int | float | str | bool | None
    unit: str
    text: str
    binding: str | None = Field(None, description="the requirement that limits the answer")
    method: str = ""
    steps: list[Step] = []
    candidates: list[Candidate] = []
    notes: list[str] = []
    requirements: list[Requirement] = []
    choice: dict[str, str] = Field(default_factory=dict, description="the options chosen, by choice name")


class Quantity(_Frozen):
    value: int | float | str | bool | None = Field(
        description="as Value.value: null when undefined or beyond a double; `text` always shows it")
    unit: str
    text: str


class Evaluation(_Frozen):
    spec: str
    quantities: dict[str, Quantity]
    requirements: list[Requirement]
    unknown: dict[str, str] = Field(default_factory=dict, description="quantities left open, with what they need")


def schemas() -> str:
    return json.dumps({"Solution": Solution.model_json_schema(),
                       "Evaluation": Evaluation.model_json_schema()}, indent=2)


if __name__ == "__main__":  # pragma: no cover
    print(schemas())
