"""`infer page` in a real browser: Debian's headless Chromium, driven by Playwright.

The page must print what the Python API prints for the same inputs (values within a relative
1e-9, the same units and texts), solve its goals to `infer solve`'s answers, and fetch nothing.
`INFER_REGEN=1` also rewrites the screenshots in docs/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from solver.api import Spec
from solver.page import build_page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOW = "install Chromium and Playwright: apt-get install -y chromium && pip install playwright"

sync_api = pytest.importorskip("playwright.sync_api", reason=f"playwright is missing; {HOW}")
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}; {HOW}", allow_module_level=True)

CHAT = REPO / "specs" / "chat.infer"
CALC = REPO / "specs" / "calculator.infer"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("pages")
    files = {}
    for name, spec in (("chat", CHAT), ("calculator", None), ("gpu-choice", REPO / "specs" / "gpu-choice.infer")):
        html, _ = build_page(spec)
        files[name] = out / f"{name}.html"
        files[name].write_text(html, encoding="utf-8")
    return files


class Opened:
    """A page loaded from file://, with every request it made and every script error."""

    def __init__(self, browser: object, file: Path, width: int = 1280, height: int = 1500):
        self.page = browser.new_page(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(file.as_uri())
        self.page.wait_for_selector("body[data-ready]")

    def renders(self) -> str:
        return self.page.get_attribute("body", "data-ready") or ""

    def settle(self, before: str) -> None:
        """Wait for the render that follows a control change made after `before` was read."""
        self.page.wait_for_function(f"document.body.dataset.ready !== '{before}'", timeout=10000)
        # A render queued before the change may have been the one that landed: renders run on
        # animation frames, so two more frames leave none pending.
        self.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")

    def set(self, name: str, value: str) -> None:
        before = self.renders()
        control = self.page.locator(f'[data-input="{name}"]')
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(label=value)
        else:
            control.fill(value)
            control.dispatch_event("change")
        self.settle(before)

    def quantities(self) -> dict[str, tuple[str, str]]:
        rows = self.page.eval_on_selector_all(
            "#quantities tr", "rs => rs.map(r => [r.dataset.name, r.dataset.value, r.cells[1].textContent])")
        return {name: (value, text) for name, value, text in rows}

    def answer(self, goal: str) -> str:
        return self.page.get_attribute(f'[data-goal="{goal}"] [data-answer]', "data-answer") or ""

    def fetched(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(("file://", "data:"))]

    def close(self) -> None:
        self.page.close()


def _agree(opened: Opened, spec: Path, sets: list[str]) -> int:
    """Every quantity the API evaluates, as the page shows it; returns how many were compared."""
    evaluation = Spec.load(spec, sets).eval()
    shown = opened.quantities()
    compared = 0
    for name, q in evaluation.quantities.items():
        assert name in shown, f"{name} is not on the page"
        value, text = shown[name]
        if isinstance(q.value, (int, float)) and not isinstance(q.value, bool):
            assert value != "", name
            assert float(value) == pytest.approx(q.value, rel=1e-9, abs=1e-300), (name, value, q.text)
            assert text.split(" ", 1)[1:] == q.text.split(" ", 1)[1:], (name, text, q.text)   # the unit
        assert text == q.text, (name, text, q.text)
        compared += 1
    return compared


def test_chat_page_matches_the_api_and_fetches_nothing(browser: object, pages: dict[str, Path]) -> None:
    page = Opened(browser, pages["chat"])
    try:
        assert page.errors == []
        _screenshot(page, "page-chat.png")                 # as it opens: the spec's own plan
        solution = Spec.load(CHAT).solve("max_batch")
        assert page.answer("max_batch") == solution.text      # the answer, as the API gives it
        assert "itl <= 50 ms" in page.page.inner_text('[data-goal="max_batch"]')
        assert _agree(page, CHAT, [f"chat.batch={solution.text}"]) > 100
        # Move the controls: another GPU, a longer prompt, a wider TP and a smaller batch.
        sets = ["chat.gpu=gpus.h200_sxm", "chat.prompt=8192 token", "chat.tp=8", "chat.batch=24"]
        page.set("chat.gpu", "gpus.h200_sxm")
        page.set("chat.prompt", "8192")
        page.set("chat.tp", "8")
        page.set("chat.batch", "24")
        assert _agree(page, CHAT, sets) > 100
        held = Spec.load(CHAT, sets[:3]).solve("max_batch")
        assert page.answer("max_batch") == held.text
        assert f"binding: {held.binding}" in page.page.inner_text('[data-goal="max_batch"]')
        # Requirements with their margins, as `infer eval` reports them.
        api = {r.text: r for r in Spec.load(CHAT, sets).eval().requirements}
        for item in page.page.query_selector_all("#requirements li"):
            text = item.get_attribute("data-requirement")
            assert item.get_attribute("data-holds") == str(api[text].holds).lower(), text
            assert item.query_selector(".margin").text_content() == api[text].margin, text
        # The derivation opens on the binding requirement's quantity, with the current values in it.
        shown = page.quantities()
        lines = page.page.inner_text("#derivation-body pre").splitlines()
        assert lines[0] == "itl = token_time + prefill_interference"
        assert lines[1].split("= ")[1] == f"{shown['chat.token_time'][1]} + {shown['chat.prefill_interference'][1]}"
        assert lines[2].endswith(shown["chat.itl"][1])
        page.page.click('#quantities tr[data-name="chat.kv_memory"] a')
        # Wait for the derivation itself: a render queued before the click may land first.
        page.page.wait_for_selector('#derivation-body pre[data-derivation="chat.kv_memory"]', timeout=10000)
        lines = page.page.inner_text("#derivation-body pre").splitlines()
        assert lines[0] == "kv_memory = batch · kv_tokens_per_sequence · kv_per_token_per_gpu"
        assert lines[1].split("= ")[1].startswith("24 · ")
        for chart in ("roofline", "latency", "memory", "cost"):
            assert page.page.locator(f"#chart-{chart} svg").count() == 1, chart
        assert page.fetched() == [], page.fetched()
        assert page.errors == []
    finally:
        page.close()


def test_calculator_page_solves_as_infer_solve(browser: object, pages: dict[str, Path]) -> None:
    page = Opened(browser, pages["calculator"])
    try:
        assert page.answer("max_batch") == Spec.load(CALC).solve("max_batch").text
        sets = ["calc.model=models.qwen2_5_32b", "calc.gpu=gpus.a100_80gb_sxm", "calc.weights=precisions.fp8",
                "calc.tp=2", "calc.output=1024 token"]
        for item in sets:
            name, value = item.split("=")
            page.set(name, value.split(" ")[0])
        solution = Spec.load(CALC, sets).solve("max_batch")
        assert page.answer("max_batch") == solution.text
        batch = str(solution.value)
        page.set("calc.batch", batch)
        assert _agree(page, CALC, [*sets, f"calc.batch={batch}"]) > 100
        assert page.fetched() == [] and page.errors == []
        _screenshot(page, "page-calculator.png")
    finally:
        page.close()


def test_choices_are_enumerated_and_the_page_fits_a_phone(browser: object, pages: dict[str, Path]) -> None:
    page = Opened(browser, pages["gpu-choice"], width=390, height=844)
    try:
        solution = Spec.load(REPO / "specs" / "gpu-choice.infer").solve("cheapest")
        assert page.answer("cheapest") == solution.text
        assert f"chosen: {solution.choice['svc.gpu']}" in page.page.inner_text('[data-goal="cheapest"]')
        assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.fetched() == [] and page.errors == []
    finally:
        page.close()


EQUALITY = """# An equality pins the unknown: how much memory makes the KV cache exactly a quarter of it?
memory: GB
kv = memory / 4 - 1.5 GB
require kv == 18 GB
require memory <= 200 GB
goal sized = maximize memory
"""


def test_an_equality_pins_the_unknown_as_in_infer_solve(browser: object, tmp_path: Path) -> None:
    spec = tmp_path / "pinned.infer"
    spec.write_text(EQUALITY, encoding="utf-8")
    html, _ = build_page(spec)
    (tmp_path / "pinned.html").write_text(html, encoding="utf-8")
    page = Opened(browser, tmp_path / "pinned.html")
    try:
        solution = Spec.load(spec).solve("sized")
        assert page.answer("sized") == solution.text == "78 GB"
        # The slider moves the unknown off its answer: the equality breaks, by the margin eval reports.
        before = page.renders()
        page.page.locator('input[aria-label="memory slider"]').fill("700")
        page.settle(before)
        memory = page.page.input_value('[data-input="memory"]')
        api = {r.text: r for r in Spec.load(spec, [f"memory={memory} GB"]).eval().requirements}
        item = page.page.locator('[data-requirement="kv == 18 GB"]')
        assert item.get_attribute("data-holds") == "false" == str(api["kv == 18 GB"].holds).lower()
        assert item.locator(".margin").text_content() == api["kv == 18 GB"].margin
        assert page.fetched() == [] and page.errors == []
    finally:
        page.close()


def _screenshot(page: Opened, name: str) -> None:
    shot = page.page.screenshot(full_page=False)
    assert len(shot) > 20_000          # a blank page compresses to far less
    if os.environ.get("INFER_REGEN"):
        (REPO / "docs" / name).write_bytes(shot)
