"""`infer lsp`: the analysis behind each request in-process, and one session over pipes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from solver.lsp import InferAnalysis

REPO = Path(__file__).resolve().parent.parent
CHAT = (REPO / "specs" / "chat.infer").resolve()
BROKEN = "import gpus\nmemory = gpus.h100_sxm.memory\nper_gpu = memory * tpp\n"


@pytest.fixture(scope="module")
def chat() -> tuple[InferAnalysis, str, list[str]]:
    analysis = InferAnalysis()
    text = CHAT.read_text(encoding="utf-8")
    analysis.update(CHAT.as_uri(), text)
    return analysis, CHAT.as_uri(), text.split("\n")


def position(lines: list[str], needle: str, offset: int = 0) -> tuple[int, int]:
    row = next(i for i, line in enumerate(lines) if needle in line)
    return row, lines[row].index(needle) + offset


def test_an_error_is_published_with_its_code_and_help(tmp_path: Path) -> None:
    analysis = InferAnalysis()
    uri = (tmp_path / "broken.infer").resolve().as_uri()      # never saved: the buffer is what is read
    analysis.update(uri, BROKEN)
    (diag,) = analysis.diagnostics(uri)[uri]
    assert diag.code == "E0201" and "`tpp`" in diag.message
    assert (diag.range.start.line, diag.range.start.character) == (2, 19)
    assert diag.severity == types.DiagnosticSeverity.Error
    analysis.update(uri, BROKEN.replace("tpp", "2"))           # fixed as the user types
    assert analysis.diagnostics(uri)[uri] == []


def test_errors_in_an_imported_file_are_shown_there_and_cleared_when_fixed(tmp_path: Path) -> None:
    analysis = InferAnalysis()
    spec, part = (tmp_path / "spec.infer").resolve(), (tmp_path / "part.infer").resolve()
    part.write_text("size = 2 GB\nhalf = size * count_typo\n", encoding="utf-8")
    analysis.update(spec.as_uri(), "import part\ntotal = part.half * 2\n")
    found = analysis.diagnostics(spec.as_uri())
    assert [d.code for d in found[part.as_uri()]] == ["E0201"]
    analysis.update(part.as_uri(), "size = 2 GB\nhalf = size / 2\n")     # fixed in the editor, unsaved
    assert analysis.diagnostics(spec.as_uri()) == {part.as_uri(): [], spec.as_uri(): []}


def test_secondary_spans_become_related_information(tmp_path: Path) -> None:
    analysis = InferAnalysis()
    uri = (tmp_path / "units.infer").resolve().as_uri()
    analysis.update(uri, "a = 2 GB\nb = 3 s\nc = a + b\n")
    (diag,) = analysis.diagnostics(uri)[uri]
    assert diag.code == "E0301"
    assert diag.related_information and {r.location.uri for r in diag.related_information} == {uri}


def test_hover_on_chat_itl_shows_value_formula_and_a_derivation_line(chat: tuple) -> None:
    analysis, uri, lines = chat
    hover = analysis.hover(uri, *position(lines, "require itl", 9))
    text = hover.contents.value
    assert text.startswith("**chat.itl** · `ms`")
    assert " ms** at the goals' answer (chat.batch = " in text
    assert "itl = token_time + prefill_interference" in text
    assert "`= " in text                                     # the substituted line


def test_hover_on_a_unit_and_on_a_catalog_record(chat: tuple) -> None:
    analysis, uri, lines = chat
    unit = analysis.hover(uri, *position(lines, "2048 token", 6)).contents.value
    assert "unit `token`" in unit and "token = [token]" in unit
    record = analysis.hover(uri, *position(lines, "h100_sxm", 2)).contents.value
    assert "h100_sxm = accelerator {" in record and "# H100 datasheet" in record


def test_definition_of_a_catalog_record_lands_in_the_stdlib(chat: tuple) -> None:
    analysis, uri, lines = chat
    loc = analysis.definition(uri, *position(lines, "h100_sxm", 3))
    assert loc.uri.endswith("/stdlib/gpus.infer")
    target = (REPO / "stdlib" / "gpus.infer").read_text(encoding="utf-8").split("\n")[loc.range.start.line]
    assert target.startswith("h100_sxm = ")
    field = analysis.definition(uri, *position(lines, "require itl", 9))      # late-bound: the base's field
    assert field.uri.endswith("/stdlib/serving.infer")


def test_completion_after_models_dot_lists_the_catalog(chat: tuple) -> None:
    analysis, uri, lines = chat
    row, col = position(lines, "models.llama_3_1_70b", len("models."))
    edited = list(lines)
    edited[row] = edited[row][:col]                            # the user has typed `models.` only
    analysis.update(uri, "\n".join(edited))
    try:
        labels = {i.label for i in analysis.completion(uri, row, col).items}
        assert {"llama_3_1_70b", "llama_3_1_8b", "transformer"} <= labels
        units = {i.label for i in analysis.completion(uri, *position(lines, "2048 token", 5)).items}
        assert {"token", "GB", "ms"} <= units
        names = {i.label for i in analysis.completion(uri, *position(lines, "require ttft", 10)).items}
        assert {"ttft", "batch", "max", "if"} <= names
    finally:
        analysis.update(uri, "\n".join(lines))


def test_symbols_and_formatting(chat: tuple) -> None:
    analysis, uri, lines = chat
    outline = analysis.symbols(uri)
    assert [s.name for s in outline] == ["chat", "max_batch"]
    assert "batch" in [c.name for c in outline[0].children or []]
    edits = analysis.formatting(uri)
    assert edits is not None
    from lang.format import format_source
    assert all(e.new_text == format_source("\n".join(lines)) for e in edits)


def test_a_session_over_pipes(tmp_path: Path) -> None:
    """Start `infer lsp` as a subprocess: initialize, open a broken document, get its diagnostic, hover."""
    from pygls.lsp.client import LanguageClient

    uri = (tmp_path / "broken.infer").resolve().as_uri()
    published: asyncio.Queue = asyncio.Queue()

    async def session() -> tuple[list[types.Diagnostic], types.Hover | None]:
        client = LanguageClient("infer-test", "0")

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            published.put_nowait(params)

        await client.start_io(sys.executable, "-m", "solver.cli", "lsp", cwd=str(REPO))
        try:
            await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
            client.initialized(types.InitializedParams())
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="infer", version=1, text=BROKEN)))
            params = await asyncio.wait_for(published.get(), 60)
            hover = await client.text_document_hover_async(types.HoverParams(
                types.TextDocumentIdentifier(uri), types.Position(1, 20)))
            await client.shutdown_async(None)
            client.exit(None)
        finally:
            await client.stop()
        return params.diagnostics, hover

    diagnostics, hover = asyncio.run(session())
    assert [d.code for d in diagnostics] == ["E0201"]
    assert hover is not None and "h100_sxm" in hover.contents.value
