"""An evaluation as text or JSON, from plain data (no pydantic: the compiled form prints it too).

Both `infer eval` paths print through `evaluation_text`: the full pipeline (solver.render) and
the compiled form (solver.fastpath), so their bytes agree by construction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any


def dumps(data: object) -> str:
    """Strict JSON: a float JSON cannot hold (inf, nan) becomes null; `text` fields carry the value."""
    return json.dumps(_finite(data), indent=2, allow_nan=False)


def _finite(data: object) -> object:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def evaluation_text(quantities: Mapping[str, Mapping[str, Any]], requirements: Sequence[Mapping[str, Any]],
                    unknown: Mapping[str, str], fmt: str = "text") -> str:
    """`quantities`: name → {value, unit, text}; `requirements`: {text, record, holds, margin}."""
    if fmt == "json":
        data: dict[str, Any] = {
            "quantities": {k: {"value": q["value"], "unit": q["unit"], "text": q["text"]}
                           for k, q in quantities.items()},
            "requirements": [{"text": r["text"], "record": r["record"], "holds": r["holds"], "margin": r["margin"]}
                             for r in requirements]}
        if unknown:
            data["unknown"] = dict(unknown)
        return dumps(data)
    width = min(max((len(k) for k in [*quantities, *unknown]), default=0), 40)
    lines = [f"{k:<{width}}  {q['text']}" for k, q in quantities.items()]
    for k, why in unknown.items():
        lines.append(f"{k:<{width}}  ? ({why})")
    if requirements:
        lines.append("")
        for r in requirements:
            mark = {True: "ok  ", False: "FAIL", None: "?   "}[r["holds"]]
            lines.append(f"{mark} require {r['text']}" + (f"  ({r['margin']})" if r["margin"] else ""))
    return "\n".join(lines)
