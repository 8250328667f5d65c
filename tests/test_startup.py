"""The `infer` executable (`solver.cli.run`) leaves without tearing the interpreter down: what it
prints and the exit code must be exactly what `main` gives."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout

import pytest
from conftest import REPO, fresh_python

from solver import cli


@pytest.mark.parametrize("argv, code", [
    (["eval", "specs/chat.infer", "--json"], 0),
    (["solve", "specs/kv-budget.infer", "--for", "max_context"], 0),
    (["solve", "specs/chat.infer", "--for", "no_such_goal"], 1),
])
def test_run_prints_all_main_prints_and_exits_with_its_code(argv: list[str], code: int) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert cli.main(argv) == code
    done = subprocess.run([sys.executable, "-c", "from solver.cli import run; run()", *argv], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == code
    assert done.stdout == out.getvalue()
    assert done.stderr == err.getvalue()


def test_the_cli_module_imports_only_what_a_subcommand_needs() -> None:
    """`import solver.cli` (every `infer` start) loads no solver, parser or numeric library: each
    subcommand imports its own modules when it runs."""
    probe = ("import sys, solver.cli\n"
             "heavy = [m for m in ('sympy', 'numpy', 'lark', 'pint', 'pydantic', 'networkx', 'solver.api',"
             " 'lang.resolve', 'lang.parser') if m in sys.modules]\n"
             "print(heavy)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_goal_leaves_numpys_optional_submodules_alone() -> None:
    """The solver's grids are deduplicated without `np.unique`, whose masked-array check imports
    `numpy.ma` (~15 ms at every start)."""
    probe = ("import sys\nfrom solver.api import Spec\n"
             "Spec.load('specs/kv-budget.infer').solve('max_context')\n"
             "print([m for m in ('numpy.ma', 'numpy.random', 'numpy.testing') if m in sys.modules])")
    done = fresh_python(probe)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
