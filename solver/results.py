"""Results that leave the program, with a published JSON schema.

`infer solve --format json` prints a `Solution`; `infer eval --json` prints an
`Evaluation`. `python -m solver.results` prints both schemas.

The results are frozen dataclasses with pydantic's method names (`model_dump`,
`model_dump_json`, `model_copy`, `model_validate`, `model_json_schema`): importing
pydantic and building its validators costs ~0.1 s, a tenth of a new question, and
a derivation printed as text needs neither. A value is coerced as pydantic coerced it
(a NumPy number to `float`, a whole `si_value` to `float`, a tuple to a list), so the
JSON is the same; the schema comes from pydantic models made from these classes on
demand (`solver.results_schema`), so it stays pydantic's.

>>> v = Value(value=2, unit="GB", text="2 GB", si_value=2000000000)
>>> v.si_value, Value.model_validate(v.model_dump()) == v
(2000000000.0, True)
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

_R = TypeVar("_R", bound="_Result")
_PLAIN = (int, float, str, bool, type(None))


def _plain(value: Any) -> int | float | str | bool | None:
    """A scalar as pydantic's `int | float | str | bool | None` keeps it (a NumPy number: float)."""
    if type(value) in _PLAIN:
        return value          # type: ignore[no-any-return]
    if isinstance(value, (bool, str)):
        return value          # type: ignore[no-any-return]
    return float(value)


def _about(text: str) -> dict[str, str]:
    """A field's description, for the schema."""
    return {"description": text}


class _Result:
    """pydantic's methods, for the few callers that use them."""

    # field name -> (nested result class, "one" | "list" | "dict"): what `model_validate` rebuilds
    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {}

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def model_dump_json(self, indent: int | None = None) -> str:
        data = _finite(self.model_dump(mode="json"))
        if indent is None:
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(data, indent=indent, ensure_ascii=False)

    def model_copy(self: _R, update: dict[str, Any] | None = None) -> _R:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]

    @classmethod
    def model_validate(cls: type[_R], data: Any) -> _R:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            raise TypeError(f"{cls.__name__}: expected a dict, not {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        extra = set(data) - names
        if extra:
            raise TypeError(f"{cls.__name__}: unexpected fields {sorted(extra)}")
        return cls(**data)          # nested results given as dicts are built by `_nest`

    def _nest(self) -> None:
        """Nested results given as dicts become their classes, as pydantic builds them; the lists
        and dicts that hold them are copies."""
        for name, (kind, shape) in self._NESTED.items():
            value = getattr(self, name)
            if value is None:
                continue
            nested = _CLASSES[kind]
            if shape == "one":
                value = value if isinstance(value, nested) else nested.model_validate(value)
            elif shape == "list":
                value = [v if isinstance(v, nested) else nested.model_validate(v) for v in value]
            else:
                value = {k: v if isinstance(v, nested) else nested.model_validate(v) for k, v in value.items()}
            object.__setattr__(self, name, value)

    @classmethod
    def model_json_schema(cls) -> dict[str, Any]:
        from solver.results_schema import twin

        return twin(cls).model_json_schema()    # type: ignore[no-any-return]


def _dump(value: Any) -> Any:
    if isinstance(value, _Result):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _finite(data: Any) -> Any:
    """pydantic's JSON: a float JSON cannot hold (inf, nan) becomes null."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    return data




@dataclass(frozen=True, kw_only=True)
class Value(_Result):
    value: int | float | str | bool | None = field(metadata=_about(
        "the number in `unit` (text for text values, true/false for flags); null when it is "
        "undefined or its magnitude is beyond a double (1e1998, 1e-1998): `text` then shows it"))
    unit: str = field(metadata=_about("the unit `value` is in; empty for plain numbers"))
    text: str = field(metadata=_about("value and unit as shown to people"))
    si_value: float | None = field(default=None, metadata=_about(
        "the value in canonical base units (B, s, FLOP, token, USD)"))
    si_unit: str = ""

    def __post_init__(self) -> None:
        if type(self.value) not in _PLAIN:
            object.__setattr__(self, "value", _plain(self.value))
        if self.si_value is not None and type(self.si_value) is not float:
            object.__setattr__(self, "si_value", float(self.si_value))


@dataclass(frozen=True, kw_only=True)
class Step(_Result):
    """One line of a derivation: a formula, the numbers put into it, and what comes out."""

    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {"result": ("Value", "one")}

    name: str
    formula: str = field(metadata=_about("the formula as written, in the spec's names"))
    substituted: str = field(default="", metadata=_about("the formula with each name replaced by its value"))
    result: Value | None = None
    note: str = ""
    kind: Literal["input", "formula", "closed-form", "bound", "numeric", "answer", "check", "choice"] = "formula"

    def __post_init__(self) -> None:
        self._nest()


@dataclass(frozen=True, kw_only=True)
class Candidate(_Result):
    """One option of a discrete choice, with its objective and verdict."""

    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {"objective": ("Value", "one"), "decision": ("Value", "one")}

    option: str
    objective: Value | None
    feasible: bool
    broken: str | None = field(default=None, metadata=_about(
        "the first requirement this option breaks, with the margin"))
    binding: str | None = field(default=None, metadata=_about(
        "for a feasible option, the requirement that limits it"))
    decision: Value | None = field(default=None, metadata=_about(
        "the continuous unknown's best value for this option"))

    def __post_init__(self) -> None:
        self._nest()


@dataclass(frozen=True, kw_only=True)
class Requirement(_Result):
    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {"lhs": ("Value", "one"), "rhs": ("Value", "one")}

    text: str
    record: str = field(default="", metadata=_about(
        "the record the requirement belongs to; empty for the spec's own"))
    holds: bool | None = field(metadata=_about("null when it depends on an unknown"))
    lhs: Value | None = None
    rhs: Value | None = None
    margin: str = ""

    def __post_init__(self) -> None:
        self._nest()


@dataclass(frozen=True, kw_only=True)
class Solution(_Result):
    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {
        "steps": ("Step", "list"), "candidates": ("Candidate", "list"), "requirements": ("Requirement", "list")}

    spec: str
    target: str
    kind: Literal["forward", "inverse", "goal"]
    value: int | float | str | bool | None
    unit: str
    text: str
    binding: str | None = field(default=None, metadata=_about("the requirement that limits the answer"))
    method: str = ""
    steps: list[Step] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requirements: list[Requirement] = field(default_factory=list)
    choice: dict[str, str] = field(default_factory=dict, metadata=_about("the options chosen, by choice name"))

    def __post_init__(self) -> None:
        if type(self.value) not in _PLAIN:
            object.__setattr__(self, "value", _plain(self.value))
        self._nest()
        object.__setattr__(self, "notes", list(self.notes))      # a copy, as pydantic makes
        object.__setattr__(self, "choice", dict(self.choice))


@dataclass(frozen=True, kw_only=True)
class Quantity(_Result):
    value: int | float | str | bool | None = field(metadata=_about(
        "as Value.value: null when undefined or beyond a double; `text` always shows it"))
    unit: str
    text: str

    def __post_init__(self) -> None:
        if type(self.value) not in _PLAIN:
            object.__setattr__(self, "value", _plain(self.value))


@dataclass(frozen=True, kw_only=True)
class Evaluation(_Result):
    _NESTED: ClassVar[dict[str, tuple[str, str]]] = {
        "quantities": ("Quantity", "dict"), "requirements": ("Requirement", "list")}

    spec: str
    quantities: dict[str, Quantity]
    requirements: list[Requirement]
    unknown: dict[str, str] = field(default_factory=dict, metadata=_about(
        "quantities left open, with what they need"))

    def __post_init__(self) -> None:
        self._nest()
        object.__setattr__(self, "unknown", dict(self.unknown))


_CLASSES: dict[str, type[_Result]] = {c.__name__: c for c in (Value, Step, Candidate, Requirement, Solution,
                                                               Quantity, Evaluation)}


def schemas() -> str:
    return json.dumps({"Solution": Solution.model_json_schema(),
                       "Evaluation": Evaluation.model_json_schema()}, indent=2)


if __name__ == "__main__":  # pragma: no cover
    print(schemas())
