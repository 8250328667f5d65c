"""The `infer` executable's process settings (solver.startup) and its stand-in for sympy's tensor module (lang.lean)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

_ENV = {**os.environ, "PYTHONPATH": str(REPO), "INFER_CACHE": "0", "INFER_COMPILED": "0"}


def test_a_first_run_does_not_load_sympys_tensors_and_prints_the_same() -> None:
    argv = ["solve", "specs/chat.infer", "--for", "max_batch", "--set", "chat.prompt=1500token"]
    probe = ("import sys, io, contextlib\nfrom lang.lean import install\ninstall()\nfrom solver.cli import main\n"
             "out = io.StringIO()\nwith contextlib.redirect_stdout(out):\n    main(sys.argv[1:])\n"
             "print(type(sys.modules['sympy.tensor.tensor']).__name__, 'sympy.combinatorics' in sys.modules)\n"
             "print(out.getvalue())")
    lean = subprocess.run([sys.executable, "-c", probe, *argv], cwd=REPO, env=_ENV, capture_output=True, text=True,
                          timeout=120)
    first, _, printed = lean.stdout.partition("\n")
    assert first == "_StandIn False", lean.stdout + lean.stderr
    plain = subprocess.run([sys.executable, "-m", "solver.cli", *argv], cwd=REPO, env=_ENV, capture_output=True,
                           text=True, timeout=120)
    assert printed.rstrip("\n") == plain.stdout.rstrip("\n")


def test_tensors_still_work_after_the_stand_in() -> None:
    probe = ("from lang.lean import install\ninstall()\nimport sympy\nx = sympy.Symbol('x')\n"
             "assert str(x + 1) == 'x + 1'\n"
             "from sympy.tensor.tensor import TensorIndexType, tensor_indices, TensorHead, TensAdd\n"
             "L = TensorIndexType('L'); i = tensor_indices('i', L)\nA, B = TensorHead('A', [L]), TensorHead('B', [L])\n"
             "assert isinstance(A(i) + B(i), TensAdd)\nprint(2 * A(i) + x * A(i))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=_ENV, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == "(x + 2)*A(i)", done.stdout + done.stderr


@pytest.mark.parametrize("command, collects", [("solve", "False"), ("lsp", "True"), ("simulate", "True")])
def test_a_short_command_runs_without_the_collector_a_long_one_collects_less_often(command: str,
                                                                                 collects: str) -> None:
    probe = ("import gc, sys\nfrom solver import startup\nstartup.prepare(sys.argv[1])\n"
             "print(gc.isenabled(), not gc.isenabled() or gc.get_threshold() == startup.GC_THRESHOLDS)")
    done = subprocess.run([sys.executable, "-c", probe, command], cwd=REPO, env=_ENV, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.split() == [collects, "True"], done.stdout + done.stderr


def test_the_executable_runs_one_blas_thread_unless_the_user_says_otherwise() -> None:
    probe = "import os\nfrom solver import startup\nstartup.prepare('solve')\nprint(os.environ['OPENBLAS_NUM_THREADS'])"
    for given, expected in ((None, "1"), ("4", "4")):
        env = {k: v for k, v in _ENV.items() if k != "OPENBLAS_NUM_THREADS"}
        if given is not None:
            env["OPENBLAS_NUM_THREADS"] = given
        done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.stdout.strip() == expected, done.stdout + done.stderr
