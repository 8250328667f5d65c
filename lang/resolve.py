"""Names, imports, records and units: the AST of a spec → the quantity graph.

One lazy walk does resolution, unit checking and formula building, so each
quantity is visited once and every diagnostic knows both places involved:

- a *module* is a record whose members are its top-level statements;
- a *record value* is a stack of layers (`base { overrides }` adds one); a
  field is looked up in the last layer that defines it, and names inside any
  layer see the final record first (late binding), then the layer's lexical
  scope, then units;
- a scalar field becomes a graph node named by its path (`chat.ttft`); a field
  holding another record is an alias (`chat.model` → `models.llama_3_1_70b`);
- a `one of [records]` choice is an index symbol, and a field reached through
  it is a Piecewise over the options.

Nothing is evaluated from user text: formulas are built node by node from the
AST with sympy constructors.

This module is the driver; the walk's stages live beside it, each a mixin of
`Resolver`: `lang/scopes.py` (values, scopes, the shared state),
`lang/imports.py` (finding and loading modules), `lang/fields.py` (record
fields and `--set` overrides), `lang/check_units.py` and `lang/lower.py`
(expressions to checked sympy formulas). Limits are in `lang/limits.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sympy

from lang import reads
from lang import syntax as ast
from lang.check_units import kind_of
from lang.diagnostics import Diagnostic, InferError, Label, SourceMap, Span, did_you_mean, sorted_diagnostics
from lang.fields import WHOLE_DIMS, FieldStage
from lang.graph import GoalDef, Graph, Requirement
from lang.imports import stdlib_path
from lang.limits import MAX_NAME_LENGTH, MAX_RECORD_DEPTH, deep_stack
from lang.lower import FUNCTIONS, MAX_POWER_DIGITS, source_text
from lang.parser import parse_expression
from lang.reads import SourceReader
from lang.scopes import (
    FieldScope,
    ModuleScope,
    NeedsRecord,
    Opaque,
    Override,
    Poison,
    RecordVal,
    Scalar,
    Scope,
    UnitVal,
    join,
)
from lang.units import BOOL, TEXT, Dim

__all__ = [
    "FUNCTIONS",
    "MAX_POWER_DIGITS",
    "WHOLE_DIMS",
    "Override",
    "Resolver",
    "SourceReader",
    "build_graph",
    "constant_value",
    "parse_override",
    "source_text",
    "stdlib_path",
]


class Resolver(FieldStage):
    """One pass over a spec: the stages' methods, driven from the root module."""

    def resolve_root(self, file: Path) -> Graph:
        mod = self.load_module(file, "", None)
        if mod is None:
            raise InferError(sorted_diagnostics(self.diag.items))
        self._root_scope = mod.scope
        self.root_names: list[str] = []
        self.templates = {m.value.base.name for m in mod.record.layers[0].members.values()
                          if isinstance(m, ast.Binding) and isinstance(m.value, ast.Extend)
                          and isinstance(m.value.base, ast.Name)}
        self._materialize(mod.record, owned=True, user_instance=False)
        for o in self.overrides.values():
            if not o.used:
                self._unused_override(o)
        errors = [d for d in self.diag.items if d.is_error]
        if errors:
            raise InferError(sorted_diagnostics(self.diag.items))
        return Graph(self.nodes, self.requirements, self.goals, self.texts, self.root_names,
                     sorted_diagnostics(d for d in self.diag.items if not d.is_error), self.sources,
                     self.missing, str(file), self.refs, [str(m.file) for m in self.modules.values()])

    def _unused_override(self, o: Override) -> None:
        candidates = list(self.nodes)
        head, _, _ = o.path.rpartition(".")
        if head and head in self.nodes:
            message = f"cannot set `{o.path}`: `{head}` is a quantity, not a record"
        else:
            message = f"cannot set `{o.path}`: no such input"
        alias_hint: tuple[str, ...] = ()
        for name, node in self.nodes.items():
            if name.endswith("." + o.path.rpartition(".")[2]) and node.kind == "input" and \
                    not name.startswith(head + "."):
                alias_hint = (f"`{o.path}` may belong to a catalog record; set `{name}` instead",)
                break
        self.diag.error("E0207", message, o.span, label="not an input of the spec",
                        help=did_you_mean(o.path, candidates) or alias_hint)

    def _materialize(self, record: RecordVal, owned: bool, user_instance: bool) -> None:
        if record.path.count(".") >= MAX_RECORD_DEPTH:
            # Only a record that holds an instance of itself nests this deep: stop, say where.
            outer = record.path.split(".")[0]
            self.diag.error("E0105", f"records nested more than {MAX_RECORD_DEPTH} deep", record.span,
                            label="made again inside itself",
                            help=(f"a field of `{outer}` builds `{outer}` again, which builds it again, without end",
                                  "give the inner record a base of its own instead of the record being defined"))
            return
        for name in record.field_names():
            path = join(record.path, name)
            value = self.field_value(record, name, record.span)
            if isinstance(value, Scalar) and path in self.nodes:
                self.root_names.append(path)
            elif isinstance(value, RecordVal) and value.path == path:
                # A record other records extend is a template: its empty inputs are for them to fill.
                instance = (user_instance or len(value.layers) > 1) and path not in self.templates
                self._materialize(value, owned, instance)
            elif isinstance(value, Poison):
                continue
            elif isinstance(value, Opaque):
                found = record.member(name)
                member = found[0] if found else None
                if value.missing == path and isinstance(member, ast.RecordInput):
                    if user_instance:
                        self.diag.error("E0204", f"`{path}` needs a value", member.name_span,
                                        label="a record input with no value",
                                        secondary=(Label(record.span, f"`{record.path}` is made here"),),
                                        help=(f"supply it when extending: `{name} = ...`",))
                else:
                    self.missing[path] = value.missing
        for layer in record.layers:
            env = FieldScope(self, record, layer.env) if not record.is_module else layer.env
            for req in layer.requires:
                self._requirement(req, env, record)
            for goal in layer.goals:
                self._goal(goal, env, record)

    def _requirement(self, req: ast.Require, env: Scope, record: RecordVal) -> None:
        if isinstance(req.expr, ast.Binary) and req.expr.op == "and":
            # `require a and b` is two requirements: each can bind, and each reports its own margin.
            for part in (req.expr.left, req.expr.right):
                self._requirement(ast.Require(part, part.span), env, record)
            return
        self.context = f"require@{record.path}@{req.span}"
        try:
            value = self._scalar(self.compile(req.expr, env, None), req.expr.span, "as a requirement")
        except NeedsRecord as need:
            self.missing[f"require {source_text(req.expr)}"] = need.opaque.missing
            return
        if value.dim is not None and value.dim != BOOL:
            self.diag.error("E0311", "a requirement must be a comparison", req.expr.span,
                            label=f"this is `{value.unit_text}`",
                            help=("write it as `a <= b`",))
            return
        if value.dim is None:
            return
        text = source_text(req.expr)
        side_dim, side_unit = None, None
        if isinstance(req.expr, ast.Binary) and req.expr.op in ("<", "<=", ">", ">=", "==", "!="):
            sides = [self.compile(e, env, None) for e in (req.expr.left, req.expr.right)]
            scalars = [v for v in sides if isinstance(v, Scalar) and v.dim is not None]
            if scalars:
                side_dim = scalars[0].dim
                side_unit = next((v.unit for v in reversed(scalars) if v.unit and not v.deps), None) or \
                    next((v.unit for v in scalars if v.unit), None)
        self.requirements.append(Requirement(text, value.expr, req.span, record.path,
                                             tuple(sorted(value.deps)), req.expr, side_dim, side_unit))

    def _goal(self, goal: ast.Goal, env: Scope, record: RecordVal) -> None:
        self.context = f"goal@{goal.span}"
        try:
            value = self._scalar(self.compile(goal.expr, env, None), goal.expr.span, "as a goal")
        except NeedsRecord as need:
            if isinstance(need.opaque, Poison):
                return
            self.diag.error("E0204", f"goal `{goal.name}` needs `{need.opaque.missing}`, which has no value",
                            goal.expr.span, secondary=(Label(need.opaque.span, "declared here"),))
            return
        if value.dim in (BOOL, TEXT):
            self.diag.error("E0312", f"goal `{goal.name}` must be a quantity to {goal.sense}",
                            goal.expr.span, label=f"this is {kind_of(value.dim)}",
                            help=(f"{goal.sense} the quantity itself, and state the limit as a "
                                  "requirement: `require x <= limit`",))
            return
        target = value.origin if value.origin in self.nodes else None
        self.goals.append(GoalDef(join(record.path, goal.name), goal.sense, value.expr, value.dim,
                                  value.unit, source_text(goal.expr), target, goal.span,
                                  tuple(sorted(value.deps))))


# --- entry points ------------------------------------------------------------------------


def parse_override(text: str, index: int = 0) -> Override:
    """`chat.batch=32` → an Override; errors point into the option's own text."""
    name, eq, value = text.partition("=")
    display = "<--set>" if index == 0 else f"<--set #{index + 1}>"
    name = name.strip()
    span = Span(display, 1, 1, 1, len(text) + 1)
    if not eq or not name or not all(p.isidentifier() for p in name.split(".")):
        raise InferError([Diagnostic("E0700", f"`{text}` is not of the form NAME=VALUE", span,
                                     label="expected NAME=VALUE",
                                     help=("for example `--set chat.batch=32` or `--set \"context=8192 token\"`",))])
    if len(name) > MAX_NAME_LENGTH * 8 or any(len(p) > MAX_NAME_LENGTH for p in name.split(".")):
        raise InferError([Diagnostic("E0107", f"name longer than {MAX_NAME_LENGTH} characters", span,
                                     label="too long", help=("give the path of an input of the spec",))])
    offset = len(text) - len(text.split("=", 1)[1])
    try:
        with deep_stack():
            expr = parse_expression(value, display)
    except InferError as err:
        raise InferError([_shift(d, offset) for d in err.diagnostics]) from None
    return Override(name, _shift_expr(expr, offset), span)


def _shift(d: Diagnostic, offset: int) -> Diagnostic:
    def moved(s: Span) -> Span:
        return Span(s.file, s.line, s.column + offset, s.end_line, s.end_column + offset)

    if d.span is None:
        return d
    secondary = tuple(Label(moved(lab.span), lab.message) for lab in d.secondary)
    return Diagnostic(d.code, d.message, moved(d.span), d.severity, d.label, secondary, d.help)


def _shift_expr(expr: ast.Expr, offset: int) -> ast.Expr:
    """Spans of a `--set` value, moved past `NAME=` so carets land on the value."""
    import dataclasses

    def shift_span(s: Span) -> Span:
        return Span(s.file, s.line, s.column + offset, s.end_line, s.end_column + offset)

    def walk(node: object) -> object:
        if isinstance(node, Span):
            return shift_span(node)
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            changes = {f.name: walk(getattr(node, f.name)) for f in dataclasses.fields(node)}
            return dataclasses.replace(node, **changes)  # type: ignore[type-var]
        if isinstance(node, tuple):
            return tuple(walk(n) for n in node)
        return node

    return walk(expr)  # type: ignore[return-value]


def build_graph(path: str | Path, overrides: Iterable[str] = (), sources: SourceMap | None = None,
                reader: SourceReader | None = None) -> Graph:
    """Parse a spec and everything it imports, check it, and build its quantity graph.

    `reader` supplies files' texts instead of the disk (lang.reads.SourceReader: an editor's
    unsaved buffers, a spec at a git revision). Raises InferError with every diagnostic found;
    warnings travel on the graph.
    """
    with deep_stack(), reads.overlay(reader):   # the lazy walk recurses once per level of definitions
        return _build_graph(path, overrides, sources)


def _build_graph(path: str | Path, overrides: Iterable[str], sources: SourceMap | None) -> Graph:
    file = Path(path)
    sources = sources or SourceMap()
    parsed: list[Override] = []
    errors: list[Diagnostic] = []
    for i, text in enumerate(overrides):
        sources.add("<--set>" if i == 0 else f"<--set #{i + 1}>", text)   # quoted even when it fails
        try:
            o = parse_override(text, i)
        except InferError as err:
            errors.extend(err.diagnostics)
            continue
        parsed.append(o)
    try:
        if errors:
            raise InferError(errors)
        if not _is_file(file):
            raise InferError([Diagnostic("E0400", f"no such spec file `{file}`", None,
                                         help=("give the path of a .infer file",))])
        return Resolver(file, sources, parsed).resolve_root(file)
    except InferError as err:
        err.sources = sources    # so the one place that renders can quote every line
        raise


def _is_file(file: Path) -> bool:
    try:
        return reads.is_file(file)
    except OSError:            # a name too long for the file system is no file either
        return False


def constant_value(text: str, label: str = "<--where>") -> tuple[sympy.Expr, Dim, str | None, Span]:
    """A constant from the command line (`24GB`, `50 ms`, `2 * 8 GiB`): value, dimension, unit.

    >>> v, d, u, _ = constant_value("24GB")
    >>> v, u
    (24000000000, 'GB')
    """
    with deep_stack():
        expr = parse_expression(text, label)
    resolver = Resolver(Path(label), SourceMap(), [])
    resolver._root_scope = ModuleScope(resolver)
    value = resolver.compile(expr, resolver._root_scope, None)
    if isinstance(value, UnitVal):
        value = resolver._unit_scalar(value)
    if resolver.diag.has_errors:
        raise InferError(resolver.diag.items)
    if not isinstance(value, Scalar) or value.deps or value.dim is None or not value.expr.is_number:
        raise InferError([Diagnostic("E0701", "expected a constant quantity such as `24 GB`",
                                     getattr(expr, "span", None), label="not a constant")])
    return value.expr, value.dim, value.unit, expr.span  # type: ignore[union-attr]
