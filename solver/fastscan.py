"""A compiled goal's coarse scan with every point at once, over NumPy arrays (solver.fastgoal, step 1).

Method: goalbuild writes each goal's formulas a third time, over arrays (`vcode`, the sides'
`lv`/`hv`: solver.fastbuild.code with `vector`); the scan puts the unknown's 121 points into one
array, runs that code once, and takes every requirement's normalized margin on all points with
the float code's arithmetic (+ − · / are rounded as Python's floats are; a power may differ in
its last bit, which the scan, a guide whose edge is checked exactly, does not see). What the
scalar scan raises on (a division by zero, an overflow, a value that is not a number, an if with
no branch taken) raises `Fallback` here too (`np.errstate`), and so do a few things it lets by
(an overflow that a later division hides, a division by zero in an if's branch not taken): a
fallback is always correct. Used only where NumPy is loaded already (the Python API loads it
with the full pipeline); the command line keeps the scalar scan rather than pay NumPy's import.

>>> import numpy as np
>>> _vif(np.array([True, False]), 1.0, np.array([5.0, 6.0])).tolist()
[1.0, 6.0]
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from solver.fastpath import Fallback

_VUNDEF = object()      # an if's missing else: taken on any point, the scalar code raises there


def _vif(cond: Any, then: Any, otherwise: Any) -> Any:
    if otherwise is _VUNDEF:
        if not np.all(cond):
            raise Fallback("a branch with no value")
        return then
    return np.where(cond, then, otherwise)


def _vmax(*args: Any) -> Any:
    return functools.reduce(np.maximum, args)


def _vmin(*args: Any) -> Any:
    return functools.reduce(np.minimum, args)


def _vand(*args: Any) -> Any:
    return functools.reduce(np.logical_and, args)


def _vor(*args: Any) -> Any:
    return functools.reduce(np.logical_or, args)


def _vs(side: Any) -> Any:
    """A requirement's side as an array (of floats, or of truths: see `margins`)."""
    return np.asarray(side)


RUNTIME: dict[str, Any] = {"_VUNDEF": _VUNDEF, "_vif": _vif, "_vmax": _vmax, "_vmin": _vmin, "_vand": _vand,
                           "_vor": _vor, "_vnot": np.logical_not, "_vpow": np.power, "_vceil": np.ceil,
                           "_vfloor": np.floor, "_vs": _vs}


def margins(goal: dict[str, Any], ns: dict[str, Any], fbase: dict[str, Any], points: list[int]) -> Any:
    """Every requirement's normalized margin at every point: an array (requirements × points),
    as solver.fastgoal._normalized gives them one by one; Fallback where the scalar code raises."""
    if "_vif" not in ns:
        ns.update(RUNTIME)              # the form's code finds these in its own namespace
    v = dict(fbase)
    v[goal["var"]] = np.array(points, dtype=float)
    rows = np.empty((len(goal["reqs"]), len(points)))
    try:
        with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
            ns[goal["vcode"]](v)
            for i, r in enumerate(goal["reqs"]):
                lv, rv = ns[r["lv"]](v), ns[r["hv"]](v)
                if lv.dtype == bool and rv.dtype == bool:   # the scalar scan may get no float there
                    raise Fallback("a comparison of truths")
                lv, rv = lv.astype(float, copy=False), rv.astype(float, copy=False)
                sense = r["sense"]
                diff = -np.abs(rv - lv) if sense == 0 else (rv - lv) if sense > 0 else (lv - rv)
                scale = np.abs(rv) + np.abs(lv)
                rows[i] = np.divide(diff, scale, out=np.array(diff, dtype=float), where=scale > 0)
    except (FloatingPointError, ZeroDivisionError, OverflowError) as err:
        raise Fallback(f"the scan: {err}") from None
    if not np.isfinite(rows).all():
        raise Fallback("a margin that is not a finite number")
    return rows
