"""The `infer` executable's process settings: what a short run pays for and does not need.

1. The cyclic garbage collector runs every 50,000 allocations instead of CPython's 700: a first
   run builds about a million small sympy objects, nearly all of them alive until the end and
   none in a cycle, and the default collector traverses them again and again (~0.1 s of CPU, an
   eighth of a first run). Cycles are still collected, so a long `infer lsp` stays bounded.
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


def prepare() -> None:
    from lang.lean import install

    gc.set_threshold(*GC_THRESHOLDS)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    install()
