"""The compiled form of a spec: a new `eval` or `solve --for QUANTITY|GOAL` without sympy, lark or pint.

On by default (issue 15); `INFER_COMPILED=0` turns it off. It answers `eval`, a quantity's forward
derivation, and a goal that maximizes a whole-number unknown (solver.fastgoal); choices, continuous
unknowns, `--where` and `--in` still take the full pipeline.

Method: after a full `eval` or `solve`, `solver.fastbuild` writes, for the spec with no overrides,
every quantity's formula as Python source over `fractions.Fraction` (exact, as sympy's Rationals
are), how each value is shown (unit, factor, ladder), the requirements' sides, and each formula's
printed text with a slot for every value it reads. It answers the spec's own questions both ways
and keeps the form only when the bytes agree. A later question with `--set NAME=NUMBER UNIT` on
inputs loads that form — from the private cache folder only, after its hash and every file look
of the run that built it (`lang.reads`) check out — and runs it. Anything it cannot do exactly as
the full pipeline (a division by zero, a number past 512 bits, a large power, an override that is
not a plain positive number in the input's own unit, a record override, `--strict`) raises
`Fallback`, and the full pipeline answers: a clean fallback is always correct.

Known limit: a requirement that reads an unknown is shown undecided (`?`), as sympy leaves it for
every override this accepts unless an override makes the unknown's coefficient cancel exactly;
zero overrides fall back for that reason, but a cancellation between two inputs is not detected.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import math
import os
import re
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from solver.decimals import exact_decimal, format_float

FORMAT = 1          # of a compiled form; part of its key
MAX_ENTRY_BYTES = 8 << 20


class Fallback(Exception):
    """The compiled form cannot answer this exactly as the full pipeline would."""


def enabled() -> bool:
    """On unless `INFER_COMPILED=0` (or the caches are off: `INFER_CACHE=0`)."""
    return os.environ.get("INFER_COMPILED", "1") not in ("0", "false", "no") and \
        os.environ.get("INFER_CACHE", "1") not in ("0", "false", "no")


def debug(message: str) -> None:
    if os.environ.get("INFER_DEBUG"):
        print(f"infer: compiled form: {message}", file=sys.stderr)


def entry_key(spec: str | Path) -> str:
    """The spec as named, where it was named from, the code, the installed packages, the
    environment (as the result cache keys a command line); the files are checked on load."""
    from solver import memo

    # Only what changes the answers: the CLI's stdout settings and INFER_DEBUG, INFER_COMPILED,
    # INFER_COMPILE_WAIT do not, so `infer` and the Python API (`Spec.load`) share one form.
    answers = [kv for kv in memo.environment()[0]
               if kv[0] not in ("INFER_DEBUG", "INFER_COMPILED", "INFER_COMPILE_WAIT")]
    text = json.dumps([FORMAT, "compiled", str(spec), os.getcwd(), memo.code_stamp(), _installed(), answers])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _installed() -> list[str]:
    """As solver.memo.installed, with the environment's folder for the interpreter's path and
    without the first import path entry (the script's folder): `infer` (run as `python3`),
    `python -c`, `python -m` and a user's script then share one form."""
    from solver import memo

    return memo.installed(sys.prefix, sys.path[1:])


def seal(data: dict[str, Any], source: str) -> str:
    return hashlib.sha256(json.dumps([data, source], sort_keys=True).encode()).hexdigest()


def _folder() -> Path | None:
    from lang.cachedir import private_dir

    return private_dir("compiled")


def _code_sha(blob: bytes) -> str:
    """The bytecode's hash, with the interpreter that wrote it (marshal's format is per version)."""
    return hashlib.sha256(f"{sys.implementation.cache_tag} {sys.version}\0".encode() + blob).hexdigest()


def store(spec: str | Path, reads: list[list[str]], data: dict[str, Any], source: str) -> bool:
    """The form as checked JSON, and its source compiled once (`.code`: bytecode whose hash the
    JSON records, so a later question skips `compile()`)."""
    from lang.cachedir import write_atomic

    folder = _folder()
    if folder is None:
        return False
    key = entry_key(spec)
    code = marshal.dumps(compile(source, "<infer compiled form>", "exec"))
    code_sha = _code_sha(code) if len(code) <= MAX_ENTRY_BYTES and write_atomic(folder / f"{key}.code", code) else ""
    blob = json.dumps({"reads": reads, "data": data, "source": source, "code": code_sha,
                       "sha": seal(data, source + code_sha)}).encode()
    return len(blob) <= MAX_ENTRY_BYTES and write_atomic(folder / f"{key}.json", blob)


def store_refusal(spec: str | Path, reads: list[list[str]], reason: str) -> bool:
    """A spec the compiled form cannot answer (a square root, say): kept in the form's place so
    that every question does not try to build it again, until a file it read changes."""
    from lang.cachedir import write_atomic

    folder = _folder()
    if folder is None:
        return False
    blob = json.dumps({"reads": reads, "refused": reason, "sha": seal({"refused": reason}, "")}).encode()
    return len(blob) <= MAX_ENTRY_BYTES and write_atomic(folder / f"{entry_key(spec)}.json", blob)


def refused(spec: str | Path) -> bool:
    """Whether a sound refusal stands in the form's place (see `store_refusal`)."""
    from lang.cachedir import read_private
    from lang.reads import holds, stored

    folder = _folder()
    raw = read_private(folder / f"{entry_key(spec)}.json", MAX_ENTRY_BYTES) if folder is not None else None
    if raw is None:
        return False
    try:
        entry = json.loads(raw)
        reason = entry["refused"]
        if not isinstance(reason, str) or entry.get("sha") != seal({"refused": reason}, ""):
            return False
        log = stored(entry["reads"])
    except (ValueError, KeyError, TypeError, RecursionError):
        return False
    return log is not None and holds(log)


def load(spec: str | Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(data, namespace of the compiled code), or None: missing, altered, or its files changed."""
    found = load_entry(spec)
    return None if found is None else (found[0], found[1])


def load_entry(spec: str | Path) -> tuple[dict[str, Any], dict[str, Any], list[list[str]], str] | None:
    """`load`, with the file looks and the source it was stored with (to add a goal to it)."""
    from lang.cachedir import read_private
    from lang.reads import holds, stored

    folder = _folder()
    if folder is None:
        return None
    raw = read_private(folder / f"{entry_key(spec)}.json", MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        data, source, reads = entry["data"], entry["source"], entry["reads"]
        if not (isinstance(data, dict) and isinstance(source, str) and isinstance(reads, list)):
            return None
        code_sha = entry.get("code", "")
        if not isinstance(code_sha, str) or entry.get("sha") != seal(data, source + code_sha) or \
                data.get("format") != FORMAT:
            debug("hash mismatch: rebuilt")
            return None
        log = stored(reads)
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if log is None or not holds(log):
        debug("a file it read has changed: rebuilt")
        return None
    namespace: dict[str, Any] = dict(RUNTIME)
    exec(_code(folder / f"{entry_key(spec)}.code", code_sha, source), namespace)
    return data, namespace, reads, source


def _code(path: Path, code_sha: str, source: str) -> Any:
    """The form's bytecode where its hash is the one recorded; else its source, compiled now."""
    from lang.cachedir import read_private

    blob = read_private(path, MAX_ENTRY_BYTES) if code_sha else None
    if blob is not None and _code_sha(blob) == code_sha:
        try:
            return marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            pass
    return compile(source, "<infer compiled form>", "exec")


# --- what the generated code calls -------------------------------------------------------


def _settle(value: Any) -> Any:
    """As solver.evaluate: a rational past 512 bits becomes a Float there — not here."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, Fraction):
        value = Fraction(value)
    if value.numerator.bit_length() > 512 or value.denominator.bit_length() > 512:
        raise Fallback("a number past 512 bits")
    return value


def _pow(base: Fraction, exponent: Fraction, limit: int) -> Fraction:
    if isinstance(exponent, bool) or Fraction(exponent).denominator != 1:
        raise Fallback("a fractional power")
    whole = int(exponent)
    size = max(base.numerator.bit_length(), base.denominator.bit_length())
    if abs(whole) * size > limit:
        raise Fallback("a power computed as a Float")
    if whole < 0 and base == 0:
        raise Fallback("a division by zero")
    return Fraction(Fraction(base) ** whole)


def _ceil(a: Fraction) -> Fraction:
    return Fraction(math.ceil(a))


def _floor(a: Fraction) -> Fraction:
    return Fraction(math.floor(a))


def _undefined() -> Fraction:
    raise Fallback("a branch with no value")


def _float(value: Any) -> Any:
    """A value in the float code (a goal's coarse scan): finite, or the scan falls back."""
    if isinstance(value, bool):
        return value
    value = float(value)
    if not math.isfinite(value):
        raise Fallback("a float past its range")
    return value


def _fpow(base: float, exponent: float) -> float:
    try:
        return float(base ** exponent)
    except (OverflowError, ZeroDivisionError):
        raise Fallback("a power past a float") from None


def _fceil(a: float) -> float:
    return float(math.ceil(a))


def _ffloor(a: float) -> float:
    return float(math.floor(a))


RUNTIME: dict[str, Any] = {"__builtins__": {"max": max, "min": min, "bool": bool}, "F": Fraction, "_s": _settle,
                           "_pow": _pow, "_ceil": _ceil, "_floor": _floor, "_undefined": _undefined,
                           "_fs": _float, "_fpow": _fpow, "_fceil": _fceil, "_ffloor": _ffloor}


# --- showing a value, as solver.quantities and solver.explain do ------------------------------


def format_number(value: Fraction | float) -> str:
    if isinstance(value, Fraction):
        text = exact_decimal(value)
        if text is not None:
            return text
        number = float(value)           # OverflowError: past a float, sympy prints it — fall back
        if (number == 0 and value != 0) or math.isinf(number):
            raise Fallback("a number beyond a float's range")
    else:
        number = float(value)
    if math.isinf(number) or math.isnan(number):
        raise Fallback("not a finite number")
    return format_float(number)


def convert(value: Fraction | float | bool, show: dict[str, Any], texts: list[str]) -> tuple[Any, Any, str, str]:
    """(shown value, exact, unit, text), as solver.quantities.convert with a stored display."""
    kind = show["k"]
    if kind == "text":
        code = int(value) if isinstance(value, Fraction) and value.denominator == 1 else -1
        return None, value, "", texts[code] if 0 <= code < len(texts) else str(value)
    if kind == "bool" or isinstance(value, bool):
        return None, value, "", "true" if value else "false"
    if kind == "plain":
        return float(value), value, "", format_number(value)
    if kind == "ladder":
        number = float(value)
        chosen, p, q, _ = show["rungs"][0]
        for unit, up, uq, has_factor in show["rungs"]:
            if has_factor and abs(number) >= up / uq * 0.9999999:     # int / int: rounded once, as float(F)
                chosen, p, q = unit, up, uq
    else:
        chosen, p, q = show["unit"], show["p"], show["q"]
    # value / Fraction(p, q), without the operator's dispatch (p/q is in lowest terms, q > 0)
    if isinstance(value, Fraction):
        scaled: Fraction | float = value if p == q else Fraction(value.numerator * q, value.denominator * p)
    else:
        scaled = value / (p / q)
    number_text = format_number(scaled)
    text = f"{number_text} {chosen}".rstrip() if chosen not in ("", "count") else number_text
    if chosen == "%":
        text = f"{number_text} %"
    return float(scaled), scaled, "" if chosen == "count" else chosen, text


def _json_number(number: float | None, exact: Any) -> float | None:
    if number is None or not math.isfinite(number):
        return None
    if number == 0 and exact is not None and exact != 0:
        return None
    return number


def value_data(value: Fraction | bool, show: dict[str, Any], texts: list[str],
               converted: tuple[Any, Any, str, str] | None = None) -> dict[str, Any]:
    """The fields of a `results.Value`, as solver.explain.value_of fills them (`converted`:
    `convert(value, show, texts)`, where the caller has it already)."""
    number, unit, text = value_of(value, show, texts, converted)
    if show["k"] == "text" or isinstance(value, bool) or (show.get("flag") and value in (0, 1)):
        return {"value": number, "unit": unit, "text": text}
    try:
        canonical: float | None = float(value)
    except OverflowError:
        canonical = None
    return {"value": number, "unit": unit, "text": text, "si_value": _json_number(canonical, value),
            "si_unit": show["si"]}


def value_of(value: Fraction | bool, show: dict[str, Any], texts: list[str],
             converted: tuple[Any, Any, str, str] | None = None) -> tuple[Any, str, str]:
    """(value, unit, text) as solver.explain.value_of gives them."""
    shown_value, exact, unit, text = converted or convert(value, show, texts)
    if show["k"] == "text":
        return text, "", text
    if isinstance(value, bool):
        return value, "", text
    if show.get("flag") and value in (0, 1):
        return bool(value), "", "true" if value else "false"
    number: Any = _json_number(shown_value, exact)
    if number is not None and isinstance(exact, Fraction) and exact.denominator == 1 and abs(int(exact)) < 2 ** 53:
        number = int(exact)
    return number, unit, text


# --- the question ------------------------------------------------------------------------------

_OVERRIDE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]{0,199})=([0-9]{1,24}(?:\.[0-9]{1,24})?)"
                       r" ?([A-Za-z%][A-Za-z0-9/%_]{0,30})?")


def overrides(sets: list[str], inputs: dict[str, Any]) -> dict[str, Fraction]:
    """`--set NAME=NUMBER UNIT` on inputs, in the input's own unit; anything else falls back."""
    out: dict[str, Fraction] = {}
    for item in sets:
        m = _OVERRIDE.fullmatch(item)
        if m is None:
            raise Fallback(f"override `{item}` is not a plain number")
        name, number, unit = m.group(1), m.group(2), m.group(3) or ""
        found = inputs.get(name)
        if found is None or name in out:
            raise Fallback(f"override of `{name}`: not a plain input")
        if unit != found["unit"]:
            raise Fallback(f"override `{item}`: another unit than the input's `{found['unit']}`")
        value = Fraction(number) * Fraction(found["p"], found["q"])
        if value <= 0:
            raise Fallback("a zero override (a requirement may decide itself)")
        out[name] = value
    return out


def _requirement(r: dict[str, Any], v: dict[str, Any], ns: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    if r["static"]:
        return {"text": r["text"], "record": r["record"], "holds": r["holds"], "margin": r["margin"]}
    truth = ns[r["truth"]](v)
    if not isinstance(truth, bool):
        raise Fallback("a requirement that is not true or false")
    holds = truth
    margin = ""
    if r["split"]:
        lv, rv = ns[r["lhs"]](v), ns[r["rhs"]](v)
        if isinstance(lv, bool) or isinstance(rv, bool):
            raise Fallback("a comparison of truths")
        sense = r["sense"]
        exact_diff = (rv - lv) * (1 if sense >= 0 else -1)
        diff = float(exact_diff)
        gap = abs(diff)
        shown = convert(gap, r["gap"], texts)
        if shown[0] is not None and 0 < abs(shown[0]) < 0.01:
            shown = convert(gap, r["tiny"], texts)
        over = shown[3]
        pct = abs(diff) / abs(float(rv)) * 100 if float(rv) else float("inf")
        lt, rt = value_of(lv, r["side"], texts)[2], value_of(rv, r["side"], texts)[2]
        if sense == 0:
            margin = "" if holds else f"{lt} is not {rt} (off by {over})"
        elif holds is False:
            share = f" ({pct:.3g} %)" if math.isfinite(pct) else ""
            side = "over" if sense > 0 else "short of"
            margin = f"{lt} is {over}{share} {side} {rt}"
        else:
            margin = f"{over} to spare"
    return {"text": r["text"], "record": r["record"], "holds": holds, "margin": margin}


def evaluate(data: dict[str, Any], ns: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """Every quantity and requirement, as `Spec.eval` gives them (as plain data)."""
    fixed = overrides(sets, data["inputs"])
    try:
        v = ns["values"](fixed)
        texts = data["texts"]
        quantities = {}
        for name, show in data["quantities"]:
            value, unit, text = value_of(v[name], show, texts)
            quantities[name] = {"value": value, "unit": unit, "text": text}
        reqs = [_requirement(r, v, ns, texts) for r in data["requirements"]]
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, KeyError) as err:
        raise Fallback(f"{type(err).__name__}: {err}") from None
    return {"quantities": quantities, "requirements": reqs, "unknown": dict(data["unknown"])}


def render(result: dict[str, Any], as_json: bool) -> str:
    from solver.evaltext import evaluation_text

    return evaluation_text(result["quantities"], result["requirements"], result["unknown"],
                           "json" if as_json else "text")


def fill(formula: dict[str, Any], v: dict[str, Any], conv: dict[str, Any], texts: list[str],
         shown: dict[str, str] | None = None) -> str:
    """A formula with its values in place, as solver.explain.show_formula writes it ("" where
    that says nothing more than the formula: an alias, a branch). `shown`: each value's text
    in `conv`'s display, kept across the calls of one answer (one `v`): a value read by many
    formulas is formatted once."""
    if formula["alias"]:
        return ""
    out = formula["pieces"]
    for i, (ref, parent) in enumerate(formula["slots"]):
        text = shown.get(ref) if shown is not None else None
        if text is None:
            text = convert(v[ref], conv[ref], texts)[3]
            if shown is not None:
                shown[ref] = text
        if parent >= 6 and " " in text and "/" in text:
            text = f"({text})"
        out = out.replace(f"\x01{i}\x01", text, 1)
    return "" if out == formula["formula"] else out


def forward_solution(data: dict[str, Any], ns: dict[str, Any], sets: list[str], target: str) -> dict[str, Any]:
    """`solve --for QUANTITY` as the fields of a `results.Solution` (steps as dicts)."""
    entry = data["forward"][target]
    fixed = overrides(sets, data["inputs"])
    texts, shows = data["texts"], data["shows"]
    try:
        v = ns["values"](fixed)
        steps: list[dict[str, Any]] = []
        memo: dict[str, str] = {}
        for kind, n, shown in entry["steps"]:
            result = value_data(v[n], shows[n], texts)
            if kind == "c":
                steps.append({"name": shown, "formula": result["text"], "result": result, "kind": "input"})
            else:
                formula = data["formulas"][n]
                steps.append({"name": shown, "formula": formula["formula"],
                              "substituted": fill(formula, v, data["conv"], texts, memo),
                              "result": result})
        answer = value_data(v[target], shows[target], texts)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError, KeyError) as err:
        raise Fallback(f"{type(err).__name__}: {err}") from None
    if entry["input"]:
        steps.append({"name": target, "formula": f"{target} = {answer['text']}", "kind": "input"})
    return {"spec": data["spec"], "target": target, "kind": "forward", "value": answer["value"],
            "unit": answer["unit"], "text": answer["text"], "method": "forward evaluation", "steps": steps}


def forward_text(solution: dict[str, Any]) -> str:
    """A forward derivation in text, as solver.render writes it (without importing pydantic)."""
    steps = solution["steps"]
    width = min(max((len(s["name"]) for s in steps), default=0), 28)
    lines = []
    for s in steps:  # as solver.render._text
        result = s.get("result")
        head = f"  {s['name']:<{width}} = {s['formula']}"
        tail = f" = {result['text']}" if result else ""
        if s.get("substituted"):
            lines.append(head)
            lines.append(f"{' ' * (2 + width)} = {s['substituted']}{tail}")
        else:
            lines.append(head + (tail if result and result["text"] != s["formula"] else ""))
    lines += ["", f"{solution['target']} = {solution['text']}", f"method: {solution['method']}"]
    return "\n".join(lines)


def render_solution(solution: dict[str, Any], fmt: str) -> str:
    if fmt == "text":
        return forward_text(solution)
    from solver import results
    from solver.render import render_solution as render

    steps = [results.Step(**{**s, "result": results.Value(**s["result"]) if s.get("result") else None})
             for s in solution["steps"]]
    return render(results.Solution(**{**solution, "steps": steps}), fmt)


def answer_solve(spec: str | Path, sets: list[str], target: str, fmt: str, where: list[str],
                 unit: str | None) -> str | None:
    """The printed answer of `infer solve --for QUANTITY`, or None for the full pipeline."""
    if where:
        return None
    found = load(spec)
    if found is None:
        return None
    data, ns = found
    goal = data.get("goal_names", {}).get(target)
    if goal is not None and unit:
        return None
    if goal is not None:
        from solver import fastgoal

        try:
            return fastgoal.render(fastgoal.solve(data, ns, list(sets), goal), fmt)
        except Fallback as why:
            debug(f"full pipeline: {why}")
            return None
        except (ZeroDivisionError, OverflowError, ValueError, TypeError, KeyError) as err:
            debug(f"full pipeline: {type(err).__name__}: {err}")
            return None
    if target not in data.get("forward", {}):
        debug(f"full pipeline: `{target}` is a goal, an unknown, or not compiled")
        return None
    try:
        solution = forward_solution(data, ns, list(sets), target)
        if unit:        # `--in UNIT` where the full pipeline's conversion is exact (solver.formspec)
            from solver.formspec import in_unit

            solution = in_unit(data, solution, target, unit)
        return render_solution(solution, fmt)
    except Fallback as why:
        debug(f"full pipeline: {why}")
        return None


def answer_eval(spec: str | Path, sets: list[str], as_json: bool, strict: bool) -> str | None:
    """The printed answer of `infer eval`, or None where the full pipeline must answer."""
    if strict:
        return None
    found = load(spec)
    if found is None:
        return None
    data, ns = found
    try:
        result = evaluate(data, ns, list(sets))
    except Fallback as why:
        debug(f"full pipeline: {why}")
        return None
    result["spec"] = data["spec"]
    return render(result, as_json)


def for_api(spec: str | Path, sets: list[str]) -> tuple[Any, ...] | None:
    """What `Spec.load` keeps of the compiled form (None where it is off or missing): loaded with
    the spec's files, so the form and the graph read the same contents."""
    if not enabled():
        return None
    found = load(spec)
    return None if found is None else (found[0], found[1], list(sets))


def api_goal(form: tuple[Any, ...] | None, goal: str) -> Any:
    """`Spec.solve(GOAL)` from the compiled form: the same `results.Solution`, or None."""
    if form is None or goal not in form[0].get("goals", {}):
        return None
    import numpy  # noqa: F401  (the API pays NumPy's import once: the scan then runs on arrays, fastgoal.fastscan_ready)

    from solver import fastgoal, results

    data, ns, sets = form
    try:
        return results.Solution.model_validate(fastgoal.solve(data, ns, sets, goal))
    except (Fallback, ZeroDivisionError, OverflowError, ValueError, TypeError, KeyError) as why:
        debug(f"full pipeline: {why}")
        return None
