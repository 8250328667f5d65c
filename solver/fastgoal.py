"""A goal answered from the compiled form (solver.goalbuild wrote it): no sympy, numpy or pydantic
(where NumPy is loaded already, as under the Python API, the scan uses it: solver.fastscan).

Method, for `maximize` of one whole-number unknown x (what goalbuild compiles):

1. every requirement's normalized margin (rhs − lhs) / (|lhs| + |rhs|) is scanned over floats on
   8 points a decade from 1 to 1e15; each margin must move one way only and the feasible points
   must be one run that ends before 1e15 — else the full pipeline's finer grid might see more
   (only the quantities the margins read are computed; all points at once over arrays, or
   point by point);
2. the run's end is bisected over the integers (floats), and the edge checked in exact
   arithmetic (Fractions): x holds and x + 1 does not, as GoalSolver decides it (normalized
   margin >= −1e-12);
3. the binding requirement is the first one broken at x + 1; its closed form is the one recorded
   for it, once every max/min/if in it picks the branch recorded, and its root picks itself.

Any decision closer to its threshold than floats can tell apart (a margin within 1e-11 of the
tolerance, a near tie between branches) raises Fallback: the full pipeline answers instead.
A max/min's branch and the binding margin's direction are decided in floats where they are
clear of a tie by far more than floats blur (PICK_CLEAR, FLOAT_CLEAR), else exactly; the
spec's values are computed once per loaded form, each value's text once per answer.
"""

from __future__ import annotations

import itertools
import math
import sys
from fractions import Fraction
from typing import Any

from solver.branchnotes import method
from solver.evaltext import dumps
from solver.fastpath import Fallback, _requirement, convert, fill, overrides, value_data

SCAN = sorted({round(10 ** (i / 8)) for i in range(121)})
SLACK = 1e-12
BAND = 5e-13          # floats through a chain of formulas are good to ~1e-14 of a normalized margin
FLOAT_CLEAR = 1e-9    # a float decision this far from its threshold is taken without exact arithmetic
PICK_CLEAR = 1e-6     # a max/min whose arguments differ by this (relative) is decided in floats


def _normalized(sense: int, lv: Any, rv: Any) -> Any:
    diff = -abs(rv - lv) if sense == 0 else (rv - lv) if sense > 0 else (lv - rv)
    scale = abs(rv) + abs(lv)
    return diff / scale if scale > 0 else diff


def _holds(item: dict[str, Any], n: Any) -> bool:
    return bool(n > SLACK) if item["strict"] else bool(n >= -SLACK)


def _guard(item: dict[str, Any], n: Fraction) -> None:
    """A margin this close to a decision may be decided otherwise by the full pipeline's floats."""
    if (item["moves"] or n != 0) and abs(n - (SLACK if item["strict"] else -SLACK)) < BAND:
        raise Fallback("a margin at the tolerance")


def _margins(goal: dict[str, Any], ns: dict[str, Any], base: dict[str, Any], x: Any,
             sides: tuple[str, str] = ("lhs", "rhs"), whole: bool = True) -> tuple[dict[str, Any], list[Any]]:
    """The values at x and each requirement's normalized margin (exact ones kept for the question).
    Exact values are computed `whole` (every quantity the unknown moves: the answer's) or only
    those the margins read (`rcode`, where the form has it; floats always take those alone)."""
    exact = sides[0] == "lhs"
    seen = base.get("\x00seen") if exact else None
    if seen is not None:
        found = seen.get(x) or (None if whole else seen.get(("margins", x)))
        if found is not None:
            return found  # type: ignore[no-any-return]
    v = dict(base)
    v[goal["var"]] = x
    ns[goal["fcode"] if not exact else goal["code"] if whole else goal.get("rcode", goal["code"])](v)
    out = v, [_normalized(r["sense"], ns[r[sides[0]]](v), ns[r[sides[1]]](v)) for r in goal["reqs"]]
    if seen is not None:
        seen[x if whole else ("margins", x)] = out
    return out


def _feasible_exact(goal: dict[str, Any], ns: dict[str, Any], base: dict[str, Any], x: int,
                    whole: bool = False) -> bool:
    _, ns_ = _margins(goal, ns, base, Fraction(x), whole=whole)
    for r, n in zip(goal["reqs"], ns_):
        _guard(r, n)
    return all(_holds(r, n) for r, n in zip(goal["reqs"], ns_))


def start(data: dict[str, Any], ns: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """The values with `sets` in place: exact, with the same as floats (the scan's) and a memo of
    the exact points evaluated (the search's edge is the answer's derivation) under private keys.
    The values depend on `sets` alone: they are computed once per loaded form (kept in its
    namespace, as the full pipeline's Evaluator keeps its values), the memo once per question."""
    kept = ns.setdefault("\x00values", {})
    key = tuple(sets)
    if key not in kept:
        exact = ns["values"](overrides(sets, data["inputs"]))
        kept[key] = exact, {k: float(x) if isinstance(x, Fraction) else x for k, x in exact.items()}
    exact, floats = kept[key]
    base = dict(exact)
    base["\x00float"] = floats
    base["\x00seen"] = {}
    return base


def search(goal: dict[str, Any], ns: dict[str, Any], base: dict[str, Any]) -> int:
    """The largest whole x where every requirement holds (steps 1 and 2 of the method)."""
    fbase = base["\x00float"]
    ok = _scan_vector(goal, ns, fbase) if fastscan_ready(goal) else _scan(goal, ns, fbase)
    if True not in ok:
        raise Fallback("no answer (the full pipeline explains why)")
    last = len(ok) - 1 - ok[::-1].index(True)
    first = ok.index(True)
    if last == len(ok) - 1 or not all(ok[first:last + 1]):
        raise Fallback("unbounded, or more than one stretch holds")
    lo, hi = SCAN[last], SCAN[last + 1]
    while hi - lo > 1:          # over floats first (fast); exact arithmetic then checks the edge
        mid = (lo + hi) // 2
        row = _margins(goal, ns, fbase, float(mid), ("lf", "hf"))[1]
        if all(_holds(r, n) for r, n in zip(goal["reqs"], row)):
            lo = mid
        else:
            hi = mid
    if _feasible_exact(goal, ns, base, lo, whole=True) and not _feasible_exact(goal, ns, base, hi):
        return lo           # (lo's values are the answer's, computed whole once)
    lo, hi = SCAN[last], SCAN[last + 1]     # floats blur the edge: bisect it exactly
    if not _feasible_exact(goal, ns, base, lo) or _feasible_exact(goal, ns, base, hi):
        raise Fallback("the scan and exact arithmetic disagree")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _feasible_exact(goal, ns, base, mid):
            lo = mid
        else:
            hi = mid
    return lo


def _scan(goal: dict[str, Any], ns: dict[str, Any], fbase: dict[str, Any]) -> list[bool]:
    """Step 1, point by point: where every requirement holds, after the checks of the method."""
    rows = []
    for x in SCAN:
        _, row = _margins(goal, ns, fbase, float(x), ("lf", "hf"))
        if not all(isinstance(n, float) and math.isfinite(n) for n in row):
            raise Fallback("a margin that is not a finite number")
        rows.append(row)
    for i in range(len(goal["reqs"])):
        steps = [b[i] - a[i] for a, b in itertools.pairwise(rows)]
        if any(s > 1e-12 for s in steps) and any(s < -1e-12 for s in steps):
            raise Fallback("a margin that turns")
    return [all(_holds(r, n) for r, n in zip(goal["reqs"], row)) for row in rows]


def fastscan_ready(goal: dict[str, Any]) -> bool:
    """Whether the scan may run on arrays (solver.fastscan): NumPy loaded already, the code there."""
    return "numpy" in sys.modules and "vcode" in goal


def _scan_vector(goal: dict[str, Any], ns: dict[str, Any], fbase: dict[str, Any]) -> list[bool]:
    """`_scan` with every point at once: the same checks on the same margins (solver.fastscan)."""
    import numpy as np

    from solver import fastscan

    rows = fastscan.margins(goal, ns, fbase, SCAN)
    steps = np.diff(rows, axis=1)
    if ((steps > 1e-12).any(axis=1) & (steps < -1e-12).any(axis=1)).any():
        raise Fallback("a margin that turns")
    strict = np.array([bool(r["strict"]) for r in goal["reqs"]])[:, None]
    holds = np.where(strict, rows > SLACK, rows >= -SLACK)
    return [bool(b) for b in holds.all(axis=0)]


def _picks(closed: dict[str, Any], ns: dict[str, Any], v: dict[str, Any], fv: dict[str, Any]) -> bool:
    """Whether every max/min/if of the closed form takes the branch it took when it was recorded
    (Fallback where a near tie leaves that to the full pipeline's floats). A max or min whose
    arguments differ by far more than floats blur (`fv`: the values as floats) is decided in
    floats; a closer one, and every if, in exact arithmetic (`v`)."""
    for p in closed["picks"]:
        if p["kind"] == "if":
            truths = [ns[a](v) for a in p["args"]]
            if any(t is not False for t in truths[:-1]) or truths[-1] is not True:
                return False
            continue
        if "fargs" in p:
            fvals = [ns[a](fv) for a in p["fargs"]]
            k = fvals.index((max if p["kind"] == "max" else min)(fvals))
            if all(abs(w - fvals[k]) > PICK_CLEAR * max(abs(w), abs(fvals[k]))
                   for i, w in enumerate(fvals) if i != k):
                if k != p["pick"]:
                    return False
                continue
        vals = [ns[a](v) for a in p["args"]]
        chosen = (max if p["kind"] == "max" else min)(vals)
        if any(w != chosen and abs(w - chosen) <= 1e-9 * max(abs(w), abs(chosen)) for w in vals):
            raise Fallback(f"a near tie in a {p['kind']}")
        if vals.index(chosen) != p["pick"]:
            return False
    return True


def _fill_root(root: dict[str, Any], v: dict[str, Any], texts: list[str]) -> str:
    out = root["pieces"]
    for i, (name, show) in enumerate(root["slots"]):
        out = out.replace(f"\x01{i}\x01", convert(v[name], show, texts)[3], 1)
    return out


def _closed_steps(goal: dict[str, Any], bind: dict[str, Any], ns: dict[str, Any], v: dict[str, Any],
                  best: int, req: dict[str, Any], base: dict[str, Any], data: dict[str, Any],
                  out: dict[str, Any]) -> list[dict[str, Any]]:
    """closedform.closed_form for the binding requirement, from what goalbuild recorded."""
    closed = bind["closed"]
    texts = data["texts"]
    if closed["kind"] == "none":
        out["notes"].append("no closed form for the binding requirement; solved by bisection to a "
                            "relative 1e-12")
        return []
    slack = 1e-2 if closed["relaxed"] else 1e-6
    tolerance = slack * max(abs(best), 1) + 1
    target = None
    for root in closed["roots"]:
        value = ns[root["code"]](v)
        distance = abs(float(value) - best)
        if abs(distance - tolerance) <= 1e-9 * tolerance:
            raise Fallback("a root at the edge of matching the answer")
        if distance <= tolerance:
            target, exact = root, value
            break
    if target is None:
        out["notes"].append("the closed form misses the answer (a ceil/floor or branch changes it); "
                            "solved by bisection")
        return []
    direction = _direction(goal, ns, base, best, req["index"])
    xname = target["xname"]
    formula = f"{xname} {direction} {target['text']}"
    show = data["shows"][goal["var"]]
    result = value_data(exact, show, texts)
    branch = closed["branch"]
    out["method"] = method(branch)
    if closed["relaxed"]:
        out["notes"].append("ceil/floor relaxed to solve; the whole-number check below is exact")
    coefficients = closed["coefficients"]
    if len(formula) > 160 and coefficients is not None:
        numeric = _coefficient_form(coefficients, ns, v, goal["var"], xname, direction, result, branch, texts)
        if numeric:
            return numeric
    return [_step(xname, formula, _fill_root(target, v, texts), result, branch, "closed-form")]


def _direction(goal: dict[str, Any], ns: dict[str, Any], base: dict[str, Any], best: int, index: int) -> str:
    """Which way the binding margin moves at the answer (GoalSolver: a relative step of 1e-6 each
    way, flat within 1e-9). Floats decide where the step is far beyond their error (the margins
    are normalized: good to ~1e-14, FLOAT_CLEAR allows 1e-9); exact arithmetic otherwise."""
    below, above = best * (1 - 1e-6), best * (1 + 1e-6)
    f0 = _margins(goal, ns, base["\x00float"], below, ("lf", "hf"))[1][index]
    f1 = _margins(goal, ns, base["\x00float"], above, ("lf", "hf"))[1][index]
    if abs(f1 - f0) > 2e-9 * (abs(f0) + abs(f1)) + FLOAT_CLEAR:
        return "<=" if f1 < f0 else ">="
    n0 = _margins(goal, ns, base, Fraction(below), whole=False)[1][index]
    n1 = _margins(goal, ns, base, Fraction(above), whole=False)[1][index]
    if abs(n1 - n0) <= 1e-9 * (abs(n0) + abs(n1)):
        raise Fallback("a flat margin at the answer")
    return "<=" if n1 <= n0 else ">="


def _coefficient_form(c: dict[str, Any], ns: dict[str, Any], v: dict[str, Any], var: str, xname: str,
                      direction: str, result: dict[str, Any], branch: str, texts: list[str]) -> list[dict[str, Any]]:
    """The requirement as c0 + c1 · x with every other quantity a number (closedform.coefficient_form)."""
    ys = []
    for t in range(max(c["degree"], 1) + 1):
        w = dict(v)
        w[var] = Fraction(t)
        ys.append(ns[c["side"]](w))
    c0, c1 = ys[0], ys[1] - ys[0]
    if any(y != c0 + c1 * t for t, y in enumerate(ys)):
        raise Fallback("a coefficient form that is not linear")
    if c1 == 0:
        return []
    rhs = ns[c["rside"]](v)
    c0_text = convert(float(c0), c["c0"], texts)[3]
    c1_text = convert(float(c1), c["c1"], texts)[3]
    rhs_text = convert(rhs, c["rhs"], texts)[3]
    limit = c["limit"]
    poly = _step(c["lhs_name"], f"{c0_text} + {c1_text} · {xname}", "", None,
                 "every other quantity at its value", "formula")
    solved = _step(xname, f"{xname} {direction} ({limit} - {c0_text}) / {c1_text}",
                   "" if rhs_text == limit else f"({rhs_text} - {c0_text}) / {c1_text}", result, branch, "closed-form")
    return [poly, solved]


def _step(name: str, formula: str, substituted: str = "", result: dict[str, Any] | None = None, note: str = "",
          kind: str = "formula") -> dict[str, Any]:
    return {"name": name, "formula": formula, "substituted": substituted, "result": result, "note": note,
            "kind": kind}


def _value(data: dict[str, Any], value: Any, show: dict[str, Any],
           converted: tuple[Any, Any, str, str] | None = None) -> dict[str, Any]:
    out = value_data(value, show, data["texts"], converted)
    return {"value": out["value"], "unit": out["unit"], "text": out["text"], "si_value": out.get("si_value"),
            "si_unit": out.get("si_unit", "")}


def _report(goal: dict[str, Any], ns: dict[str, Any], v: dict[str, Any], data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for r in goal["reqs"]:
        entry = _requirement(r, v, ns, data["texts"])
        lv, rv = ns[r["lhs"]](v), ns[r["rhs"]](v)
        out.append({"text": entry["text"], "record": entry["record"], "holds": entry["holds"],
                    "lhs": _value(data, lv, r["side"]), "rhs": _value(data, rv, r["side"]), "margin": entry["margin"]})
    return out


def solve(data: dict[str, Any], ns: dict[str, Any], sets: list[str], name: str) -> dict[str, Any]:
    """`solve --for GOAL` as the fields of a `results.Solution`, in its order (plain data)."""
    goal = data["goals"][name]
    texts = data["texts"]
    var = goal["var"]
    base = start(data, ns, sets)
    best = search(goal, ns, base)
    v = _margins(goal, ns, base, Fraction(best))[0]
    after, beyond = _margins(goal, ns, base, Fraction(best + 1), whole=False)
    index = next((i for i, n in enumerate(beyond) if not n >= 0), None)
    if index is None or any(abs(n) < BAND and (r["moves"] or n != 0)
                            for r, n in zip(goal["reqs"][:index + 1], beyond)):
        raise Fallback("no clear binding requirement")
    fv = _margins(goal, ns, base["\x00float"], float(best), ("lf", "hf"))[0]
    bind = next((b for b in goal["binds"].get(str(index), []) if _picks(b["closed"], ns, v, fv)), None)
    if bind is None:
        raise Fallback("a requirement binds, or a branch is active, that no recorded closed form has")
    req = dict(goal["reqs"][index], index=index)
    out: dict[str, Any] = {"method": "bisection on the feasible edge", "notes": []}
    memo: dict[str, str] = {}       # each value's text in a formula, formatted once
    same = _shown_alike(data, ns)
    steps = [_step(shown, **_derived(data, v, kind, n, memo, same)) for kind, n, shown in bind["steps"]]
    entry = _requirement(req, v, ns, texts)
    note = ("holds" if entry["holds"] else "fails" if entry["holds"] is False else "") + \
        (f"; {entry['margin']}" if entry["margin"] else "")
    steps.append(_step("binding", req["text"], fill(bind["check"], v, data["conv"], texts, memo), None, note,
                       "check"))
    steps += _closed_steps(goal, bind, ns, v, best, req, base, data, out)
    lt = value_data(ns[req["lhs"]](after), req["side"], texts)["text"]
    rt = value_data(ns[req["rhs"]](after), req["side"], texts)["text"]
    op = {1: ">", -1: "<", 0: "!="}[req["sense"]]
    shown = convert(Fraction(best), goal["whole_show"], texts)[3]
    steps.append(_step(var, f"{var} = {shown}", "", None,
                       f"whole {goal['unit_word']}; {best + 1} needs {lt} {op} {rt}", "answer"))
    binding = req["text"]
    header = _step(name, f"{goal['sense']} {goal['goal_text']}  subject to  {binding}")
    answer = _value(data, Fraction(best), data["shows"][var])
    notes = out["notes"] + [f"at the answer, {t} = {value_data(v[t], data['shows'][t], texts)['text']}"
                            for t, decided in goal["texts"] if ns[decided](v)] + goal["notes"]
    return {"spec": data["spec"], "target": name, "kind": "goal", "value": answer["value"], "unit": answer["unit"],
            "text": answer["text"], "binding": binding, "method": out["method"], "steps": [header] + steps,
            "candidates": [], "notes": notes, "requirements": _report(goal, ns, v, data), "choice": {}}


def _derived(data: dict[str, Any], v: dict[str, Any], kind: str, n: str, memo: dict[str, str],
             same: set[str]) -> dict[str, Any]:
    """A step of the derivation; `memo` holds each value's text in a formula (`fill`), which is
    its own result's text where the two are shown alike (`same`)."""
    converted = convert(v[n], data["shows"][n], data["texts"])
    if n in same:
        memo.setdefault(n, converted[3])
    result = _value(data, v[n], data["shows"][n], converted)
    if kind == "c":
        return {"formula": result["text"], "result": result, "kind": "input"}
    formula = data["formulas"][n]
    return {"formula": formula["formula"], "substituted": fill(formula, v, data["conv"], data["texts"], memo),
            "result": result}


def _shown_alike(data: dict[str, Any], ns: dict[str, Any]) -> set[str]:
    """The quantities shown alike as a result and inside a formula (most: a few take a readable
    unit in formulas): found once per loaded form, kept in its namespace."""
    if "\x00alike" not in ns:
        conv, shows = data["conv"], data["shows"]
        ns["\x00alike"] = {n for n, show in conv.items() if shows.get(n) == show}
    return ns["\x00alike"]  # type: ignore[no-any-return]


def text(sol: dict[str, Any]) -> str:
    """A goal's solution in text, as solver.render writes one (no candidates: no choices)."""
    steps = sol["steps"]
    width = min(max((len(s["name"]) for s in steps[1:] if s["kind"] in ("formula", "input")), default=0), 28)
    lines = [f"{steps[0]['name']} = {steps[0]['formula']}"]
    for step in steps[1:]:
        result = step["result"]
        if step["kind"] in ("formula", "input"):
            head = f"  {step['name']:<{width}} = {step['formula']}"
            pad = " " * (2 + width)
            if step["substituted"]:
                lines.append(head)
                lines.append(f"{pad} = {step['substituted']}" + (f" = {result['text']}" if result else ""))
            else:
                lines.append(head + (f" = {result['text']}" if result and result["text"] != step["formula"] else ""))
        elif step["kind"] == "check":
            lines.append(f"  {step['name']}: {step['formula']}" + (f"  ({step['note']})" if step["note"] else ""))
            if step["substituted"]:
                lines.append(f"  {' ' * len(step['name'])}  {step['substituted']}")
        elif step["kind"] == "closed-form":
            lines.append(f"  {step['formula']}")
            pad = " " * (2 + len(step["name"]) + 1)
            tail = f" = {result['text']}" if result else ""
            if step["substituted"]:
                lines.append(f"{pad}= {step['substituted']}{tail}")
            elif tail:
                lines.append(f"{pad}{tail.strip()}")
            if step["note"]:
                lines.append(f"{pad}({step['note']})")
        else:
            lines.append(f"  {step['formula']}" + (f"  ({step['note']})" if step["note"] else ""))
    lines += ["", f"{sol['target']} = {sol['text']}" + (f"   [binding: {sol['binding']}]" if sol["binding"] else "")]
    if sol["method"]:
        lines.append(f"method: {sol['method']}")
    lines += [f"note: {note}" for note in sol["notes"]]
    return "\n".join(lines)


def render(sol: dict[str, Any], fmt: str) -> str:
    if fmt == "text":
        return text(sol)
    if fmt == "json":
        return dumps(sol)
    from solver import results
    from solver.render import render_solution

    return render_solution(results.Solution.model_validate(sol), fmt)
