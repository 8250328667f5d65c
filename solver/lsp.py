"""`infer lsp`: a Language Server Protocol server over stdio (pygls), on the compiler's own passes.

Method: every open document is compiled the way `infer check` compiles it (build_graph, with the
editor's unsaved buffers read before the disk), and its diagnostics are published with their
codes, help lines and secondary spans as related information. Hover on a quantity evaluates the
graph at the spec's inputs (or, where it needs an unknown, at the goals' answer) and shows the
value, the formula and one substituted line; on a unit, its definition; on a record or module, its
source comment. Definitions, completion after `.` and the outline come from lang.navigate
(syntax), falling back to the graph's node spans for scalars; formatting is lang.format.
`InferAnalysis` holds the logic with no pygls in it, so tests drive it directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import sympy
from lsprotocol import types

from lang import syntax as ast
from lang.diagnostics import Diagnostic, InferError, SourceMap, Span
from lang.format import format_source
from lang.graph import Graph
from lang.navigate import Navigator, Target, contains, path_at, symbols
from lang.parser import KEYWORDS, parse_module
from lang.resolve import build_graph, source_text, stdlib_path
from lang.units import format_dim, known_unit_names, lookup
from solver.api import Spec
from solver.explain import show_formula, value_of

_SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}
_KIND = {"record": types.CompletionItemKind.Struct, "quantity": types.CompletionItemKind.Field,
         "unknown": types.CompletionItemKind.Variable, "choice": types.CompletionItemKind.Enum,
         "record input": types.CompletionItemKind.Interface, "module": types.CompletionItemKind.Module,
         "imported": types.CompletionItemKind.Reference, "function": types.CompletionItemKind.Function,
         "keyword": types.CompletionItemKind.Keyword, "unit": types.CompletionItemKind.Unit}
_SYMBOL = {"record": types.SymbolKind.Struct, "quantity": types.SymbolKind.Field,
           "unknown": types.SymbolKind.Variable, "choice": types.SymbolKind.Enum,
           "record input": types.SymbolKind.Interface, "goal": types.SymbolKind.Event}


def path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path)).resolve()


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def file_of(display: str) -> Path | None:
    """A span's file as the resolver shows it (`<stdlib>/gpus.infer`, a cwd-relative path) → a path."""
    if display.startswith("<stdlib>/"):
        return (stdlib_path() / display[len("<stdlib>/"):]).resolve()
    if display.startswith("<"):
        return None
    return Path(display).resolve()


def to_range(span: Span | None) -> types.Range:
    if span is None:
        return types.Range(types.Position(0, 0), types.Position(0, 1))
    return types.Range(types.Position(span.line - 1, span.column - 1),
                       types.Position(span.end_line - 1, max(span.end_column - 1, span.column)))


@dataclass
class _Compiled:
    text: str
    graph: Graph | None
    sources: SourceMap
    errors: list[Diagnostic]
    spec: Spec | None = None
    point: dict[str, sympy.Expr] | None = None          # the goals' answer, solved on first need
    values: dict[str, sympy.Basic] = field(default_factory=dict)


class InferAnalysis:
    """The documents an editor has open, and every question it asks about them."""

    def __init__(self) -> None:
        self.texts: dict[Path, str] = {}
        self.compiled: dict[Path, _Compiled] = {}
        self.modules: dict[Path, ast.Module] = {}          # last AST that parsed, per document
        self.reported: dict[Path, set[str]] = {}          # other files a document's errors were shown in
        self.nav = Navigator(self.read)

    def read(self, path: Path) -> str | None:
        if path in self.texts:
            return self.texts[path]
        try:
            return path.read_text(encoding="utf-8") if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            return None

    def update(self, uri: str, text: str) -> None:
        path = path_of(uri)
        self.texts[path] = text
        self.compiled.clear()        # any open spec may import this file
        try:
            self.modules[path] = parse_module(text, str(path))
        except InferError:
            pass

    def close(self, uri: str) -> None:
        path = path_of(uri)
        for table in (self.texts, self.compiled, self.modules):
            table.pop(path, None)   # type: ignore[attr-defined]

    def compile(self, path: Path) -> _Compiled:
        text = self.read(path) or ""
        done = self.compiled.get(path)
        if done is not None and done.text == text:
            return done
        sources = SourceMap()
        try:
            graph = build_graph(path, (), sources, self.read)
            done = _Compiled(text, graph, sources, list(graph.warnings), Spec(graph, sources))
        except InferError as err:
            done = _Compiled(text, None, sources, list(err.diagnostics))
        self.compiled[path] = done
        return done

    # -- diagnostics --

    def diagnostics(self, uri: str) -> dict[str, list[types.Diagnostic]]:
        """Diagnostics by document: the open one always (maybe empty), and any other file they point into."""
        path = path_of(uri)
        # Files this document's errors pointed into last time are cleared when they no longer do.
        out: dict[str, list[types.Diagnostic]] = {u: [] for u in self.reported.get(path, ())}
        out[uri] = []
        for d in self.compile(path).errors:
            where = file_of(d.span.file) if d.span else path
            target = uri_of(where) if where else uri
            out.setdefault(target, []).append(self._diagnostic(d))
        self.reported[path] = {u for u, diags in out.items() if diags and u != uri}
        return out

    def _diagnostic(self, d: Diagnostic) -> types.Diagnostic:
        related = []
        for label in d.secondary:
            where = file_of(label.span.file)
            if where is not None:
                related.append(types.DiagnosticRelatedInformation(
                    types.Location(uri_of(where), to_range(label.span)), label.message))
        message = d.message + (f": {d.label}" if d.label else "")
        message += "".join(f"\nhelp: {h}" for h in d.help)
        return types.Diagnostic(range=to_range(d.span), message=message, code=d.code, source="infer",
                                severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
                                related_information=related or None)

    # -- hover --

    def hover(self, uri: str, line0: int, char0: int) -> types.Hover | None:
        path = path_of(uri)
        line, column = line0 + 1, char0 + 1
        compiled = self.compile(path)
        name = self._node_at(compiled, path, line, column)
        if name is not None and compiled.graph is not None:
            return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, self._quantity(compiled, name)))
        module = self.modules.get(path)
        if module is None:
            return None
        node = path_at(module, line, column)[-1]
        if isinstance(node, ast.UnitName):
            return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, _unit_hover(node.name)))
        target = self.nav.definition(path, module, line, column)
        if target is None:
            return None
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, self._source_comment(target)))

    def _node_at(self, compiled: _Compiled, path: Path, line: int, column: int) -> str | None:
        graph = compiled.graph
        if graph is None:
            return None
        here = [(span, name) for (_, span), name in graph.refs.items()
                if file_of(span.file) == path and contains(span, line, column)]
        here += [(n.span, n.name) for n in graph.nodes.values()
                 if file_of(n.span.file) == path and n.span.line == line and n.span.column <= column
                 < n.span.column + len(n.name.rsplit(".", 1)[-1])]
        if not here:
            return None
        _, name = min(here, key=lambda h: (h[0].end_line - h[0].line, h[0].end_column - h[0].column))
        return name

    def _values(self, compiled: _Compiled, name: str) -> tuple[dict[str, sympy.Basic], str]:
        """Values at the spec's inputs; where `name` needs an unknown, at the goals' answer."""
        assert compiled.spec is not None
        if not compiled.values:
            compiled.values = dict(compiled.spec.evaluator.values())
        if name in compiled.values:
            return compiled.values, "at the spec's inputs"
        if compiled.point is None:
            from solver.diff import answer_point

            compiled.point = answer_point(compiled.spec)
        if not compiled.point:
            return compiled.values, ""
        values = dict(compiled.spec.evaluator.values(compiled.point))
        graph = compiled.spec.graph
        shown = ", ".join(f"{n} = {value_of(graph, graph.nodes[n], v).text}" for n, v in compiled.point.items()
                          if graph.nodes[n].kind == "unknown")
        return values, f"at the goals' answer ({shown})" if shown else "at the goals' answer"

    def _quantity(self, compiled: _Compiled, name: str) -> str:
        graph = compiled.graph
        assert graph is not None
        node = graph.nodes[name]
        values, where = self._values(compiled, name)
        unit = node.unit or (format_dim(node.dim) if node.dim is not None else "?")
        lines = [f"**{name}** · `{unit}` · {node.kind}"]
        if name in values:
            lines.append(f"\n= **{value_of(graph, node, values[name]).text}** {where}")
        else:
            needs = [n for n in compiled.spec.evaluator.free_of([name])] if compiled.spec else []
            lines.append("\nno value: needs " + ", ".join(f"`{n}`" for n in needs) if needs else "\nno value")
        if node.formula is not None and node.kind == "derived":
            short = name.rsplit(".", 1)[-1]
            lines.append(f"\n```infer\n{short} = {source_text(node.formula)}\n```")
            if name in values:
                substituted = show_formula(node.formula, name, graph, values)
                if substituted != source_text(node.formula):
                    lines.append(f"\n`= {substituted} = {value_of(graph, node, values[name]).text}`")
        return "\n".join(lines)

    def _source_comment(self, target: Target) -> str:
        text = self.read(target.file) or ""
        src = text.split("\n")
        if target.member is None:
            header = []
            for line in src:
                if not line.startswith("#"):
                    break
                header.append(line)
            return f"**module `{target.file.stem}`**\n\n```infer\n" + "\n".join(header[:16]) + "\n```"
        start, end = target.member.span.line, target.member.span.end_line
        above: list[str] = []
        k = start - 2
        while k >= 0 and src[k].lstrip().startswith("#") and len(above) < 8:
            above.insert(0, src[k])
            k -= 1
        body = src[start - 1:min(end, start + 15)]
        more = ["  ..."] if end > start + 15 else []
        where = _shown_path(target.file)
        return f"**{target.member.name}** · {where}:{start}\n\n```infer\n" + "\n".join(above + body + more) + "\n```"

    # -- definition --

    def definition(self, uri: str, line0: int, char0: int) -> types.Location | None:
        path = path_of(uri)
        line, column = line0 + 1, char0 + 1
        module = self.modules.get(path)
        if module is not None:
            target = self.nav.definition(path, module, line, column)
            if target is not None:
                return types.Location(uri_of(target.file), to_range(target.span))
        compiled = self.compile(path)
        name = self._node_at(compiled, path, line, column)
        if name is not None and compiled.graph is not None:
            span = compiled.graph.nodes[name].span
            where = file_of(span.file)
            if where is not None:
                return types.Location(uri_of(where), to_range(span))
        return None

    # -- completion --

    def completion(self, uri: str, line0: int, char0: int) -> types.CompletionList:
        path = path_of(uri)
        text = self.read(path) or ""
        lines = text.split("\n")
        before = lines[line0][:char0] if line0 < len(lines) else ""
        dotted = re.search(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.\w*$", before)
        number = re.search(r"(?:^|[^\w.])(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[ \t]*[A-Za-z_µ]*$", before)
        annotation = re.search(r"^\s*[A-Za-z_]\w*\s*:\s*[A-Za-z_/*^\d]*$", before)
        if dotted:
            items = self._fields_after(path, dotted.group(1), line0 + 1, dotted.start(1) + 1)
        elif number or annotation:
            items = [types.CompletionItem(u, kind=_KIND["unit"]) for u in known_unit_names()]
        else:
            items = self._names(path, line0 + 1, char0 + 1)
        return types.CompletionList(is_incomplete=False, items=items)

    def _fields_after(self, path: Path, chain: str, line: int, column: int) -> list[types.CompletionItem]:
        module = self.modules.get(path)
        if module is None:
            return []
        from lang.navigate import context_of

        context = context_of(path_at(module, line, column), module)
        parts = chain.split(".")
        target = self.nav.lookup(parts[0], path, module, context)
        for part in parts[1:]:
            target = self.nav.field(target, part) if target is not None else None
        if target is None:
            return []
        from lang.navigate import _kind

        return [types.CompletionItem(n, kind=_KIND.get(_kind(t.member), None), detail=_kind(t.member))
                for n, t in self.nav.fields(target).items()]

    def _names(self, path: Path, line: int, column: int) -> list[types.CompletionItem]:
        module = self.modules.get(path)
        names = self.nav.visible(path, module, line, column) if module is not None else {}
        items = [types.CompletionItem(n, kind=_KIND.get(k), detail=k) for n, k in names.items()]
        items += [types.CompletionItem(k, kind=_KIND["keyword"]) for k in sorted(KEYWORDS)]
        return items

    # -- outline and formatting --

    def symbols(self, uri: str) -> list[types.DocumentSymbol]:
        module = self.modules.get(path_of(uri))
        if module is None:
            return []

        def convert(entries: list) -> list[types.DocumentSymbol]:  # type: ignore[type-arg]
            return [types.DocumentSymbol(name=name, kind=_SYMBOL.get(kind, types.SymbolKind.Field), detail=kind,
                                         range=to_range(span), selection_range=to_range(name_span),
                                         children=convert(children) or None)
                    for name, kind, span, name_span, children in entries]

        return convert(symbols(module))

    def formatting(self, uri: str) -> list[types.TextEdit] | None:
        path = path_of(uri)
        text = self.read(path) or ""
        try:
            formatted = format_source(text, str(path))
        except InferError:
            return None
        if formatted == text:
            return []
        end = text.split("\n")
        return [types.TextEdit(types.Range(types.Position(0, 0), types.Position(len(end), 0)), formatted)]


def _unit_hover(name: str) -> str:
    info = lookup(name)
    if info is None:
        return f"`{name}`: not a unit"
    factor = info.factor
    magnitude = f"{float(factor):.6g}" if factor.denominator != 1 or factor.numerator > 10 ** 6 else str(factor)
    base = format_dim(info.dim)
    definition = _units_line(name)
    lines = [f"**unit `{name}`** · dimension `{base}`", "", f"1 {name} = {magnitude} {base}"]
    if definition:
        lines += ["", f"```\n{definition}\n```"]
    return "\n".join(lines)


def _units_line(name: str) -> str | None:
    """The line of lang/units.txt that defines the unit (or its prefix-less base)."""
    text = (Path(__file__).resolve().parent.parent / "lang" / "units.txt")
    try:
        lines = text.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        names = [p.strip() for p in line.split("#", 1)[0].split("=")]
        if len(names) > 1 and name in (names[0], *names[2:]):
            return line.strip()
    return None


def _shown_path(file: Path) -> str:
    try:
        return f"<stdlib>/{file.relative_to(stdlib_path().resolve())}"
    except ValueError:
        try:
            return str(file.relative_to(Path.cwd()))
        except ValueError:
            return str(file)


# --- the pygls server ----------------------------------------------------------------------------


def make_server():  # type: ignore[no-untyped-def]
    from pygls.lsp.server import LanguageServer

    server = LanguageServer("infer", "0.2", text_document_sync_kind=types.TextDocumentSyncKind.Full)
    analysis = InferAnalysis()
    server.analysis = analysis  # type: ignore[attr-defined]

    def publish(uri: str) -> None:
        # The edited document first, then every other open one: it may import the edited file.
        for doc in [uri, *(uri_of(p) for p in analysis.texts if uri_of(p) != uri)]:
            for target, diags in analysis.diagnostics(doc).items():
                server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=target, diagnostics=diags))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        analysis.update(params.text_document.uri, params.text_document.text)
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = server.workspace.get_text_document(params.text_document.uri)
        analysis.update(params.text_document.uri, doc.source)
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        analysis.compiled.clear()    # a saved file may be imported by another open spec
        publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        analysis.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: types.HoverParams) -> types.Hover | None:
        return analysis.hover(params.text_document.uri, params.position.line, params.position.character)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(params: types.DefinitionParams) -> types.Location | None:
        return analysis.definition(params.text_document.uri, params.position.line, params.position.character)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["."]))
    def completion(params: types.CompletionParams) -> types.CompletionList:
        return analysis.completion(params.text_document.uri, params.position.line, params.position.character)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        return analysis.symbols(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        return analysis.formatting(params.text_document.uri)

    return server


def serve() -> None:
    make_server().start_io()
