"""Shared test set-up: tests never read or write the result cache, so they see the code as it is."""

import os
from pathlib import Path

os.environ["INFER_CACHE"] = "0"
# A compiled form is built before the command exits (not in a detached child), so a test that
# runs the CLI and then reads the form finds it; test_fastpath checks the detached build itself.
os.environ["INFER_COMPILE_WAIT"] = "1"

REPO = Path(__file__).resolve().parent.parent
