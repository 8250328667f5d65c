"""The Python API on a spec's compiled form: `Spec.load` of a cached spec without sympy, lark or pint.

Method: `Spec.load(path, set)` finds the spec's compiled form (solver.fastpath: kept in the private
cache, hash- and file-checked) and, where it takes the overrides (`--set NUMBER UNIT` on inputs),
returns a Spec whose graph is not built. `eval()` and `solve(QUANTITY | GOAL)` then come from the
form's code as the same pydantic results the full pipeline builds (requirements with both sides
as values; a side that reads an unknown has none, as there). Whatever the form cannot answer
(`--where`, `--in`, a goal it has not compiled, a fallback of its exact arithmetic, any use of
`spec.graph`) builds the graph then, and the full pipeline answers from there on.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from solver import fastpath, results
from solver.fastpath import Fallback

_ARITHMETIC = (Fallback, ZeroDivisionError, OverflowError, ValueError, TypeError)


def takes(form: tuple[Any, ...]) -> bool:
    """Whether the form answers with these overrides (else the graph is built at load)."""
    data, _, sets = form
    try:
        fastpath.overrides(list(sets), data["inputs"])
    except Fallback:
        return False
    return True


def evaluation(form: tuple[Any, ...] | None) -> results.Evaluation | None:
    """`Spec.eval()` from the form, or None (the graph answers)."""
    if form is None:
        return None
    data, ns, sets = form
    texts = data["texts"]
    try:
        v = ns["values"](fastpath.overrides(list(sets), data["inputs"]))
        quantities = {}
        for name, show in data["quantities"]:
            value, unit, text = fastpath.value_of(v[name], show, texts)
            quantities[name] = results.Quantity(value=value, unit=unit, text=text)
        reqs = []
        for r in data["requirements"]:
            entry = fastpath._requirement(r, v, ns, texts)
            sides = r.get("sides") if r["static"] else r if r["split"] else None
            if r["static"] and "sides" not in r:
                return None         # its sides could not be stored: the full pipeline shows them
            lhs = _side(sides, "lhs", v, ns, texts)
            rhs = _side(sides, "rhs", v, ns, texts)
            reqs.append(results.Requirement(**entry, lhs=lhs, rhs=rhs))
    except (*_ARITHMETIC, KeyError) as why:
        fastpath.debug(f"Spec.eval: full pipeline: {why}")
        return None
    return results.Evaluation(spec=data["spec"], quantities=quantities, requirements=reqs,
                              unknown=dict(data["unknown"]))


def _side(sides: dict[str, Any] | None, which: str, v: dict[str, Any], ns: dict[str, Any],
          texts: list[str]) -> results.Value | None:
    if sides is None:
        return None
    try:
        value = ns[sides[which]](v)
    except KeyError:            # it reads an unknown: not a number, as substitute leaves it
        return None
    if isinstance(value, bool):
        raise Fallback("a comparison of truths")
    return results.Value(**fastpath.value_data(value, sides["side"], texts))


def solution(form: tuple[Any, ...] | None, target: str, unit: str | None = None) -> results.Solution | None:
    """`Spec.solve(target)` from the form (a compiled goal, or a quantity forward, `unit` as
    `in_unit` can show it), or None."""
    if form is None:
        return None
    data, ns, sets = form
    goal = data.get("goal_names", {}).get(target)
    if goal is not None and unit:
        return None
    if goal is not None:
        found: results.Solution | None = fastpath.api_goal(form, goal)
        return found
    if target not in data.get("forward", {}):
        return None
    try:
        answer = fastpath.forward_solution(data, ns, list(sets), target)
        if unit:
            answer = in_unit(data, answer, target, unit)
    except _ARITHMETIC as why:
        fastpath.debug(f"Spec.solve: full pipeline: {why}")
        return None
    steps = [results.Step(**{**s, "result": results.Value(**s["result"]) if s.get("result") else None})
             for s in answer["steps"]]
    return results.Solution(**{**answer, "steps": steps})


def in_unit(data: dict[str, Any], answer: dict[str, Any], target: str, unit: str) -> dict[str, Any]:
    """A forward answer shown in `unit`, as `Spec._in_unit` shows it, where that is exact: the
    shown value is a whole number, which `sympy.nsimplify` returns as it is. (A fraction goes
    through nsimplify's search for a simple rational near the float: Fallback.) An unknown unit or
    one of another dimension is the full pipeline's diagnostic: Fallback."""
    from lang.units import format_dim
    from solver.quantities import unit_factor

    value = answer["value"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Fallback("--in on a value that is not a whole number")
    found = unit_factor(unit)
    si = data["shows"][target].get("si", "")
    if found is None or not si or format_dim(found[1]) != si:
        raise Fallback(f"--in `{unit}`: a unit the full pipeline refuses or checks itself")
    current = unit_factor(answer["unit"]) if answer["unit"] else None
    canonical = Fraction(value) * current[0] if current else Fraction(value)
    show = {"k": "fixed", "unit": unit, "p": found[0].numerator, "q": found[0].denominator}
    shown_value, _, shown_unit, text = fastpath.convert(canonical, show, data["texts"])
    return {**answer, "value": shown_value, "unit": shown_unit, "text": text}
