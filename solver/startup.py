"""The `infer` executable's process settings: what a short run pays for and does not need.

1. Garbage collection. A first run builds about a million small sympy objects, nearly all alive
   until the end and almost none in a cycle (~1,000 objects of cyclic garbage per run), and
   CPython's collector, run every 700 allocations, traverses the survivors again and again
   (~0.15 s of CPU, a sixth of a first run). A command that answers and exits (`check`, `eval`,
   `solve`, ...) runs without it; the others, which may run long (`lsp` serves for hours,
   `simulate`, `sweep`, `validate`, `page`), collect every 50,000 allocations, so cycles are
   still freed.
2. NumPy's OpenBLAS starts one thread per core at import (~30 ms of CPU); the solver's array
   arithmetic is elementwise and never calls BLAS. A user's own setting wins.
3. sympy's first sum imports its tensor module for an `isinstance` check (`lang.lean`).

Only the executable (`solver.cli.run`) calls `prepare`: a notebook's or a test's process keeps
its own settings.
"""

from __future__ import annotations

import gc
import os

GC_THRESHOLDS = (50_000, 20, 100)
# Subcommands that answer and exit: bounded work, so no collector at all.
SHORT_COMMANDS = frozenset({"check", "eval", "solve", "export", "graph", "list", "fmt", "diff", "import"})


def prepare(command: str | None = None) -> None:
    """Set up the process for `infer COMMAND ...` (the command as typed: `sys.argv[1]`)."""
    from lang.lean import install

    if command in SHORT_COMMANDS:
        gc.disable()
    else:
        gc.set_threshold(*GC_THRESHOLDS)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    install()
