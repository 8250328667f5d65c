"""Shared test set-up: tests never read or write the result cache, so they see the code as it is."""

import os
from pathlib import Path

os.environ["INFER_CACHE"] = "0"

REPO = Path(__file__).resolve().parent.parent
