"""Shared test set-up: tests never read or write the result cache, so they see the code as it is."""

import os
import subprocess
from pathlib import Path

os.environ["INFER_CACHE"] = "0"
# A compiled form is built before the command exits (not in a detached child), so a test that
# runs the CLI and then reads the form finds it; test_fastpath checks the detached build itself.
os.environ["INFER_COMPILE_WAIT"] = "1"

REPO = Path(__file__).resolve().parent.parent


def fresh_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`code` run in a fresh interpreter at the repository root, the caches off unless `env`
    says otherwise."""
    import sys

    return subprocess.run([sys.executable, "-c", code], cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), "INFER_CACHE": "0", **env},
                          capture_output=True, text=True, timeout=120)
