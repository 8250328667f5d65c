"""The language's limits (docs/language.md §11), each defined once, and the stack they need.

A limit refuses input that no capacity plan needs but that would exhaust the
machine: a deep expression overflows Python's stack, a huge literal or power
takes minutes, a long name cannot be a file name. Each is checked where the text
first enters (the post-lexer, `--set`, an import) with a positioned diagnostic;
the passes after that can then rely on it. `deep_stack()` gives the recursive
passes (resolution, pickling the AST, printing it) room for every accepted input.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager

MAX_NESTING = 64            # brackets inside brackets: far past any real spec
MAX_TREE_DEPTH = 400        # operator chains: keeps every later recursive pass safe
MAX_EXPONENT_DIGITS = 4     # `1e9999` is a typo, not a capacity figure (3 digits pass)
MAX_NUMBER_LENGTH = 400     # characters in a number literal: `1e999` needs 5, a written-out googol 101
MAX_NAME_LENGTH = 200       # characters in a name: a module name must also fit a file name (255 bytes)
MAX_POWER_DIGITS = 999      # the range a literal can write (1e999); `10^10^10` would take the machine
MAX_EXP_ARGUMENT = MAX_POWER_DIGITS * math.log(10)    # exp(x) stays below 10^999 too
MAX_VARIABLE_EXPONENT = 64  # a constant exponent on a non-constant base
MAX_UNIT_EXPONENT = 16      # `GB^3` is rare; `GB^99999999` is a factor of 10^900000000
MAX_CHAIN = 1000            # quantities each defined by the next: `x0 = x1 + 1`, `x1 = x2 + 1`, ...
MAX_RECORD_DEPTH = 64      # records inside records: `thing = { other = thing { x = 5 } }` never ends

# Each level of a chain of definitions costs the lazy resolver about ten Python frames,
# an operator chain three; pickle and the printers recurse once or twice per AST level.
_RECURSION_LIMIT = 12 * MAX_CHAIN + 8 * MAX_TREE_DEPTH + 2000


@contextmanager
def deep_stack() -> Iterator[None]:
    """Raise Python's recursion limit for a pass over accepted input, then restore it.

    >>> with deep_stack():
    ...     sys.getrecursionlimit() >= 12 * MAX_CHAIN
    True
    """
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
