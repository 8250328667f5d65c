"""How a derivation names the max/min branches it fixed to reach a closed form.

A goal's binding requirement is solved in closed form on the branch of every max/min that is
active at the answer (solver/optimize.py; the compiled form records the same picks,
solver/goalbuild.py). The derivation says which branch each took; both writers use these two
functions, so the compiled form prints the bytes the full pipeline prints. No sympy here: the
compiled form's answers import neither.

>>> pick_note("max", ["1", "batch / pp"], 1)
'max(1, batch / pp) = batch / pp'
>>> pick_note("max", ["batch · kv_per_token · kv_bytes / memory_bandwidth",
...                   "2 · batch · attention_width / peak_flops"], 0)[:60]
'max(batch · kv_per_token · kv_bytes / memor…, 2 · batch · at'
>>> method("")
'closed form'
>>> method("max(1, batch / pp) = batch / pp")
'closed form (on the branches active at the answer, shown in the derivation)'
"""

from __future__ import annotations

from collections.abc import Sequence

WHOLE = 90      # a pick written out in full up to this many characters of arguments ...
ARGUMENT = 40   # ... else each argument cut to this many


def _cut(text: str) -> str:
    return text if len(text) <= ARGUMENT else text[:ARGUMENT - 1] + "…"


def pick_note(kind: str, shown: Sequence[str], k: int) -> str:
    """`kind(args) = the argument taken` (`kind` is max or min, `k` the argument taken)."""
    args = list(shown) if len(", ".join(shown)) < WHOLE else [_cut(a) for a in shown]
    return f"{kind}({', '.join(args)}) = {args[k]}"


def method(branch_note: str) -> str:
    """The method line of a goal solved in closed form (branch notes go with the closed-form step)."""
    return "closed form" + (" (on the branches active at the answer, shown in the derivation)"
                            if branch_note else "")
