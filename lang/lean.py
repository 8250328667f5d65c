"""Start-up: a stand-in for the one sympy module a first run imports and never uses.

sympy's `Add.flatten` imports `sympy.tensor.tensor` at the first sum of a process, only to ask
whether a term is a tensor (`isinstance(o, TensExpr)`); that module imports sympy's
combinatorics, ~60 ms of CPU, a twelfth of a first run. The `infer` executable, which builds no
tensor, puts a stand-in under that name before sympy is imported: its `TensExpr` and `TensAdd`
are classes nothing is an instance of, so every sum is built as before. Any other name asked of
it loads the real module in its place (from then on `Add.flatten` sees the real classes), so
code that does use tensors in the same process still gets them (only `TensExpr` or `TensAdd`
asked for first, before any other name, would be the stand-in's).

>>> import sys
>>> install() in (True, False)
True
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

NAME = "sympy.tensor.tensor"


class _StandIn(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if sys.modules.get(NAME) is self:
            del sys.modules[NAME]
        real = importlib.import_module(NAME)
        self.__dict__.update(vars(real))        # a reference to the stand-in now reads the real names
        return getattr(real, attr)


def install() -> bool:
    """Put the stand-in in place unless sympy's tensors are loaded already (True: it is)."""
    if NAME in sys.modules:
        return isinstance(sys.modules[NAME], _StandIn)
    module = _StandIn(NAME, "stand-in until a tensor is used (lang.lean)")
    module.TensExpr = type("TensExpr", (), {})      # type: ignore[attr-defined]
    module.TensAdd = type("TensAdd", (), {})        # type: ignore[attr-defined]
    sys.modules[NAME] = module
    return True
