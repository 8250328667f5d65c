"""docs/llama-cpp-f16-hbm.md: the evidence behind the llama.cpp F16 HBM outliers (XD8-XD13).

The page quotes measured steps of validation/measured.csv rows; these tests keep its table in step
with the CSV and keep the outlier reason pointing at the page.
"""

from __future__ import annotations

import re

from conftest import REPO

from solver import validation as V
from solver.outliers import KNOWN_OUTLIERS

PAGE = REPO / "docs" / "llama-cpp-f16-hbm.md"
HBM_ROWS = ("XD8", "XD9", "XD10", "XD11", "XD12", "XD13")


def _table_rows() -> dict[str, tuple[str, float]]:
    """Row id -> (GPU column, measured step in ms) from the page's "What the rows show" table."""
    text = PAGE.read_text()
    section = text[text.index("## What the rows show"):text.index("## Hypotheses tested")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and re.fullmatch(r"[A-Z]+\d+", cells[0]):
            rows[cells[0]] = (cells[1], float(cells[2].removesuffix(" ms")))
    return rows


def test_page_quotes_the_csv():
    quoted = _table_rows()
    assert {"XD8", "XD10", "XD12", "XD1", "XD2", "LG1"} <= set(quoted)
    measured = {r.id: r for r in V.load_rows(V.default_csv())}
    for row_id, (_, step_ms) in quoted.items():
        row = measured[row_id]
        assert row.metric == "decode_tokens_per_s" and row.framework.startswith("llama.cpp")
        assert abs(1000 / row.value - step_ms) < 0.006, (row_id, 1000 / row.value, step_ms)


def test_outlier_reason_points_at_the_page():
    for row_id in HBM_ROWS:
        assert "docs/llama-cpp-f16-hbm.md" in KNOWN_OUTLIERS[row_id]
    assert PAGE.is_file()
