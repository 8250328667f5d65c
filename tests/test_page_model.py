"""`infer page` without a browser: widening, the compiled formulas, the file's contract (no URL, its size).

tests/test_page.py checks the page in Chromium; these run everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import sympy
from conftest import REPO

from solver.cli import main
from solver.page import build_page, to_js, widen

CHAT = REPO / "specs" / "chat.infer"


def test_catalog_fields_widen_to_every_entry_of_their_catalog() -> None:
    text, widened = widen(CHAT)
    fields = {w.path: w for w in widened}
    assert set(fields) == {"chat.model", "chat.gpu", "chat.weights", "chat.kv_cache", "chat.engine"}
    assert fields["chat.engine"].current == "vllm" and "tensorrt_llm" in fields["chat.engine"].entries
    assert fields["chat.gpu"].current == "h100_sxm" and "a100_80gb_sxm" in fields["chat.gpu"].entries
    assert "accelerator" not in fields["chat.gpu"].entries          # a template is not an entry
    assert fields["chat.weights"].current == "fp8"                    # `from precisions import fp8`
    assert text.startswith("import precisions\n")
    assert re.search(r"gpu: one of \[gpus\.t4, .*gpus\.h100_sxm", text)


def test_formulas_compile_to_javascript_that_reads_slots() -> None:
    x, y = sympy.symbols("x y", real=True)
    slots = {x: 0, y: 1}
    assert to_js(sympy.Min(x, y) + sympy.ceiling(x), slots) == "Math.ceil(v[0]) + Math.min(v[0], v[1])"
    assert to_js(sympy.And(x <= y, sympy.Eq(x, 2)), slots) == "v[0] == 2 && v[0] <= v[1]"
    assert to_js(sympy.Integer(2) ** 60 * x, slots) == "1.152921504606847e+18*v[0]"


def test_the_page_is_one_file_that_names_no_url(tmp_path: Path) -> None:
    out = tmp_path / "chat.html"
    assert main(["page", str(CHAT), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    # ~400 KiB: the formulas of every catalog entry (25+ GPUs, 40+ models, engines); a phone loads it offline
    assert len(html.encode()) < 600_000
    names = html.replace('"http://www.w3.org/2000/svg"', "")      # SVG's namespace: a name, never fetched
    assert not re.search(r"https?://|//cdn|<link|<script src|fetch\(|XMLHttpRequest|import\(", names)
    assert "default-src 'none'" in html          # the browser refuses any request, too
    assert "FORMULA" in html and "Llama 3.1 70B" in html
    assert '"name":"chat.gpu","kind":"choice"' in html            # the widened field, built


def test_page_with_no_spec_is_the_stdlib_calculator(tmp_path: Path) -> None:
    html, spec = build_page(None)
    assert spec.name == "calculator.infer"
    assert '"calc.gpu"' in html and "gpus.b200" in html and "models.qwen3_32b" in html


def test_a_spec_with_errors_reports_them_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.infer"
    bad.write_text("x = 1 GB +\n", encoding="utf-8")
    assert main(["page", str(bad), "-o", str(tmp_path / "bad.html")]) == 1
    assert not (tmp_path / "bad.html").exists()
