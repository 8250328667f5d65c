"""Where a name points, what a position holds, what a record offers: syntax-only navigation.

Method: the editor features that need no values (go to definition of records and modules,
completion after `.`, document symbols) read the parser's AST. A position is found by walking
spans down to the innermost node; the lexical context there is the chain of record bodies
around it (a body that extends a base also sees the base's fields), then the module's
top-level members and its imports. A dotted name resolves link by link: a module's top-level
member, a record literal's member, an extension's body over its base's fields, an alias's
target. Scalars are better served by the compiler's graph (lang.graph `refs`, node spans);
this module covers what the graph folds away: records, modules and imports.

>>> from lang.parser import parse_module
>>> nav = Navigator()
>>> m = parse_module("import gpus\\nx = gpus.h100_sxm\\n", "a.infer")
>>> t = nav.definition(Path("a.infer"), m, 2, 11)
>>> t.file.name, t.member.name
('gpus.infer', 'h100_sxm')
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lang import syntax as ast
from lang.diagnostics import InferError, Span
from lang.parser import parse_module_cached
from lang.resolve import FUNCTIONS, SourceReader, stdlib_path

MAX_HOPS = 24        # alias chains and extension chains: far past any real catalog


@dataclass(frozen=True)
class Scope:
    members: tuple[ast.Member, ...]
    base: ast.Expr | None = None          # the record an extension's body extends


@dataclass(frozen=True)
class Target:
    """A definition: a module (member None) or a named member, with the scopes it was written in."""

    file: Path
    module: ast.Module
    member: ast.NamedMember | None
    context: tuple[Scope, ...]

    @property
    def span(self) -> Span:
        return self.member.name_span if self.member is not None else Span(str(self.file), 1, 1, 1, 1)


def contains(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column) or \
        (span.line, span.column) == (line, column)


def path_at(node: object, line: int, column: int) -> list[object]:
    """AST nodes from `node` down to the innermost one whose span holds the position."""
    found: list[object] = [node]
    current = node
    while True:
        child = next((c for c in _children(current) if contains(c.span, line, column)), None)  # type: ignore[attr-defined]
        if child is None:
            return found
        found.append(child)
        current = child


def _children(node: object) -> Iterator[object]:
    if isinstance(node, ast.Module):
        yield from node.members
        return
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if dataclasses.is_dataclass(item) and not isinstance(item, (Span, type)) and hasattr(item, "span"):
                yield item


def context_of(path: list[object], module: ast.Module) -> tuple[Scope, ...]:
    """The scopes at the end of `path`, innermost first."""
    scopes = [Scope(module.members)]
    for parent, node in itertools.pairwise(path):
        if isinstance(node, ast.RecordLiteral):
            base = parent.base if isinstance(parent, ast.Extend) and parent.body is node else None
            scopes.append(Scope(node.members, base))
    return tuple(reversed(scopes))


class Navigator:
    """Resolves names across files; `read` supplies unsaved editor buffers (see lang.resolve.SourceReader)."""

    def __init__(self, read: SourceReader | None = None):
        self.read = read

    def module(self, file: Path) -> ast.Module | None:
        file = file.resolve()
        text = self.read(file) if self.read else None
        if text is None:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        try:
            return parse_module_cached(text, str(file))
        except InferError:
            return None

    def find_module(self, parts: tuple[str, ...], importer: Path) -> Path | None:
        rel = Path(*parts).with_suffix(".infer")
        for base in (importer.resolve().parent, stdlib_path()):
            candidate = base / rel
            if (self.read and self.read(candidate.resolve()) is not None) or candidate.is_file():
                return candidate.resolve()
        return None

    # -- names --

    def definition(self, file: Path, module: ast.Module, line: int, column: int) -> Target | None:
        """What the name at a position refers to (a module, a record, a field)."""
        path = path_at(module, line, column)
        node = path[-1]
        context = context_of(path, module)
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.resolve(node, file, module, context)
        if isinstance(node, (ast.Import, ast.FromImport)):
            found = self.find_module(node.module, file)
            target_module = self.module(found) if found else None
            if found is None or target_module is None:
                return None
            if isinstance(node, ast.FromImport):
                for name, span in node.names:
                    if contains(span, line, column):
                        return self.field(Target(found, target_module, None, ()), name)
            return Target(found, target_module, None, ())
        if isinstance(node, ast.NAMED_MEMBERS):
            return Target(file, module, node, context)
        return None

    def resolve(self, expr: ast.Expr, file: Path, module: ast.Module, context: tuple[Scope, ...],
                hops: int = 0) -> Target | None:
        if hops > MAX_HOPS:
            return None
        if isinstance(expr, ast.Name):
            return self.lookup(expr.name, file, module, context, hops)
        if isinstance(expr, ast.Attribute):
            owner = self.resolve(expr.obj, file, module, context, hops + 1)
            return self.field(owner, expr.name, hops + 1) if owner is not None else None
        return None

    def lookup(self, name: str, file: Path, module: ast.Module, context: tuple[Scope, ...],
               hops: int = 0) -> Target | None:
        for i, scope in enumerate(context):
            for m in scope.members:
                if isinstance(m, ast.NAMED_MEMBERS) and m.name == name:
                    return Target(file, module, m, context[i:])
            if scope.base is not None:
                base = self.resolve(scope.base, file, module, context[i + 1:], hops + 1)
                found = self.field(base, name, hops + 1) if base is not None else None
                if found is not None:
                    return found
        for m in module.members:
            if isinstance(m, ast.Import) and (m.alias or m.module[0]) == name and (m.alias or len(m.module) == 1):
                found_file = self.find_module(m.module, file)
                target_module = self.module(found_file) if found_file else None
                if found_file and target_module:
                    return Target(found_file, target_module, None, ())
            if isinstance(m, ast.FromImport) and any(n == name for n, _ in m.names):
                found_file = self.find_module(m.module, file)
                target_module = self.module(found_file) if found_file else None
                if found_file and target_module:
                    return self.field(Target(found_file, target_module, None, ()), name, hops + 1)
        return None

    def fields(self, target: Target, hops: int = 0) -> dict[str, Target]:
        """The named members a module or record offers, later layers over earlier ones."""
        if hops > MAX_HOPS:
            return {}
        if target.member is None:
            scope = (Scope(target.module.members),)
            return {m.name: Target(target.file, target.module, m, scope)
                    for m in target.module.members if isinstance(m, ast.NAMED_MEMBERS)}
        if not isinstance(target.member, ast.Binding):
            return {}
        value = target.member.value
        if isinstance(value, ast.RecordLiteral):
            inner = (Scope(value.members),) + target.context
            return {m.name: Target(target.file, target.module, m, inner)
                    for m in value.members if isinstance(m, ast.NAMED_MEMBERS)}
        if isinstance(value, ast.Extend):
            base = self.resolve(value.base, target.file, target.module, target.context, hops + 1)
            out = self.fields(base, hops + 1) if base is not None else {}
            inner = (Scope(value.body.members, value.base),) + target.context
            out.update({m.name: Target(target.file, target.module, m, inner)
                        for m in value.body.members if isinstance(m, ast.NAMED_MEMBERS)})
            return out
        if isinstance(value, (ast.Name, ast.Attribute)):
            alias = self.resolve(value, target.file, target.module, target.context, hops + 1)
            return self.fields(alias, hops + 1) if alias is not None else {}
        return {}

    def field(self, target: Target, name: str, hops: int = 0) -> Target | None:
        return self.fields(target, hops).get(name)

    def visible(self, file: Path, module: ast.Module, line: int, column: int) -> dict[str, str]:
        """Names in scope at a position, each with what it is (for completion)."""
        path = path_at(module, line, column)
        names: dict[str, str] = {}
        for i, scope in enumerate(context_of(path, module)):
            for m in scope.members:
                if isinstance(m, ast.NAMED_MEMBERS):
                    names.setdefault(m.name, _kind(m))
            if scope.base is not None:
                base = self.resolve(scope.base, file, module, context_of(path, module)[i + 1:])
                for n, t in (self.fields(base) if base else {}).items():
                    names.setdefault(n, _kind(t.member))
        for m in module.members:
            if isinstance(m, ast.Import):
                names.setdefault(m.alias or m.module[0], "module")
            elif isinstance(m, ast.FromImport):
                for n, _ in m.names:
                    names.setdefault(n, "imported")
        for f in FUNCTIONS:
            names.setdefault(f, "function")
        return names


def _kind(member: ast.Member | None) -> str:
    if isinstance(member, ast.Binding):
        return "record" if isinstance(member.value, (ast.RecordLiteral, ast.Extend)) else "quantity"
    if isinstance(member, ast.Unknown):
        return "unknown"
    if isinstance(member, ast.Choice):
        return "choice"
    if isinstance(member, ast.RecordInput):
        return "record input"
    return "module"


def symbols(module: ast.Module) -> list[tuple[str, str, Span, Span, list]]:  # type: ignore[type-arg]
    """Document outline: (name, kind, span, name span, children) for every named member, records nested."""
    def walk(members: tuple[ast.Member, ...]) -> list:  # type: ignore[type-arg]
        out = []
        for m in members:
            if isinstance(m, ast.NAMED_MEMBERS):
                body = None
                if isinstance(m, ast.Binding) and isinstance(m.value, ast.RecordLiteral):
                    body = m.value.members
                elif isinstance(m, ast.Binding) and isinstance(m.value, ast.Extend):
                    body = m.value.body.members
                out.append((m.name, _kind(m), m.span, m.name_span, walk(body) if body else []))
            elif isinstance(m, ast.Goal):
                out.append((m.name, "goal", m.span, m.name_span, []))
        return out

    return walk(module.members)
