"""The results' JSON schema: a pydantic model made from each dataclass of `solver.results`.

Only `model_json_schema` (and `python -m solver.results`) import pydantic: each field becomes
a pydantic field with the same type, default and description, each class a frozen
`BaseModel` of the same name and docstring, so the schema is the one pydantic publishes.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from solver import results


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


@cache
def _twins() -> dict[str, type[BaseModel]]:
    made: dict[str, type[BaseModel]] = {}
    for name, cls in results._CLASSES.items():
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(cls):      # type: ignore[arg-type]
            about = f.metadata.get("description")
            if f.default is not dataclasses.MISSING:
                info = Field(f.default, description=about)
            elif f.default_factory is list:         # pydantic copies a mutable default: `[]` as written
                info = Field([], description=about)
            elif f.default_factory is not dataclasses.MISSING:
                info = Field(default_factory=f.default_factory, description=about)
            else:
                info = Field(description=about)
            fields[f.name] = (f.type, info)     # the annotation's text, resolved below
        doc = cls.__doc__ if not (cls.__doc__ or "").startswith(f"{name}(") else None   # not dataclass's own
        made[name] = create_model(name, __base__=_Frozen, __doc__=doc, **fields)
    namespace: dict[str, Any] = {**made, "Literal": Literal}
    for model in made.values():
        model.model_rebuild(_types_namespace=namespace)
    return made


def twin(cls: type) -> type[BaseModel]:
    """The pydantic model of one results class."""
    return _twins()[cls.__name__]
