"""Values and scopes: what a name means while a spec is resolved.

- a *value* is what an expression denotes: a quantity (`Scalar`: sympy formula,
  dimension, display unit), a record (a stack of `Layer`s), a package, the records
  behind a `one of [...]` choice, a unit, or an `Opaque` input nobody supplied;
- a *scope* maps a name to a value: a module's members then its imports
  (`ModuleScope`), a record's final fields then the enclosing scope (`FieldScope`,
  late binding), or a `--set` value's view (`OverrideScope`);
- `ResolverBase` holds the state one resolution pass shares across its stages
  (`lang/imports.py`, `lang/fields.py`, `lang/check_units.py`, `lang/lower.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Union

import sympy

from lang import reads
from lang import syntax as ast
from lang.diagnostics import Collector, SourceMap, Span
from lang.graph import GoalDef, Node, Requirement
from lang.units import BOOL, TEXT, Dim, format_dim

# --- values ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """A quantity-valued expression: formula, dimension, and the unit to name it by."""

    expr: sympy.Expr
    dim: Dim | None
    unit: str | None
    deps: frozenset[str]
    span: Span
    origin: str | None = None        # the node it names, when it is a single name

    @property
    def unit_text(self) -> str:
        if self.dim is None:
            return "?"
        if self.dim == TEXT or self.dim == BOOL:
            return format_dim(self.dim)
        return self.unit or format_dim(self.dim)


@dataclass
class Layer:
    members: dict[str, ast.NamedMember]
    requires: list[ast.Require]
    goals: list[ast.Goal]
    env: Scope


@dataclass(eq=False)
class RecordVal:
    path: str
    layers: tuple[Layer, ...]
    span: Span
    is_module: bool = False

    def member(self, name: str) -> tuple[ast.NamedMember, Layer] | None:
        for layer in reversed(self.layers):
            if name in layer.members:
                return layer.members[name], layer
        return None

    def field_names(self) -> list[str]:
        names: dict[str, None] = {}
        for layer in self.layers:
            names.update(dict.fromkeys(layer.members))
        return list(names)


@dataclass(frozen=True)
class PackageVal:
    """`import a.b` binds `a`; its attribute `b` is the module."""

    path: str
    children: dict[str, Value]


@dataclass(frozen=True)
class ChoiceRecord:
    """Records reached through a `one of [...]` choice: one per option, one index."""

    path: str
    index: sympy.Symbol
    index_node: str
    options: tuple[RecordVal, ...]


@dataclass(frozen=True)
class Opaque:
    """A record input that nothing supplied: any use of it is 'needs X'."""

    missing: str
    span: Span


@dataclass(frozen=True)
class Poison(Opaque):
    """What a name bound by a failed import holds: uses stay silent, the import already erred."""


@dataclass(frozen=True)
class UnitVal:
    name: str
    factor: Fraction
    dim: Dim
    span: Span


Value = Union[Scalar, RecordVal, PackageVal, ChoiceRecord, Opaque, UnitVal]


# --- scopes -----------------------------------------------------------------------


class Scope:
    def lookup(self, name: str, span: Span) -> Value | None:
        raise NotImplementedError

    def visible(self) -> Iterable[str]:
        raise NotImplementedError


class ModuleScope(Scope):
    """A module's own members, then what it imported."""

    def __init__(self, resolver: ResolverBase, module: RecordVal | None = None):
        self.resolver = resolver
        self.module = module
        self.imports: dict[str, Callable[[], Value]] = {}

    def lookup(self, name: str, span: Span) -> Value | None:
        if self.module is not None and self.module.member(name):
            return self.resolver.field_value(self.module, name, span)
        if name in self.imports:
            return self.imports[name]()
        return None

    def visible(self) -> Iterable[str]:
        if self.module is not None:
            yield from self.module.field_names()
        yield from self.imports


class FieldScope(Scope):
    """Inside a record: the final record's fields (late binding), then the lexical scope."""

    def __init__(self, resolver: ResolverBase, record: RecordVal, outer: Scope):
        self.resolver = resolver
        self.record = record
        self.outer = outer

    def lookup(self, name: str, span: Span) -> Value | None:
        if self.record.member(name):
            return self.resolver.field_value(self.record, name, span)
        return self.outer.lookup(name, span)

    def visible(self) -> Iterable[str]:
        yield from self.record.field_names()
        yield from self.outer.visible()


class OverrideScope(Scope):
    """Where a `--set` value is read: the spec's top level, then any module by name.

    `--set chat.kv_cache=precisions.fp8` works in a spec that only wrote
    `from precisions import bf16`: a command line should not need the spec edited.
    """

    def __init__(self, resolver: ResolverBase, root: Scope):
        self.resolver = resolver
        self.root = root

    def lookup(self, name: str, span: Span) -> Value | None:
        found = self.root.lookup(name, span)
        if found is not None:
            return found
        return self.resolver.module_by_name(name, span)

    def visible(self) -> Iterable[str]:
        yield from self.root.visible()
        yield from (p.stem for p in self.resolver.stdlib.glob("*.infer"))


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def rational(value: Fraction) -> sympy.Expr:
    return sympy.Rational(value.numerator, value.denominator)


def respan(value: Scalar, span: Span) -> Scalar:
    return Scalar(value.expr, value.dim, value.unit, value.deps, span, value.origin)


@dataclass
class Override:
    """`--set path=value` from the command line (or the API)."""

    path: str
    value: ast.Expr
    span: Span
    used: bool = False


@dataclass
class LoadedModule:
    name: str
    file: Path
    record: RecordVal
    scope: ModuleScope


class NeedsRecord(Exception):
    """Unwinds an expression that reads an unsupplied record input."""

    def __init__(self, opaque: Opaque):
        self.opaque = opaque


class ResolverBase:
    """The state of one resolution pass; each stage module adds its methods (see lang/resolve.py)."""

    def __init__(self, root_file: Path, sources: SourceMap, overrides: list[Override]):
        self.root_dir = reads.resolve(root_file).parent
        self.sources = sources
        self.diag = Collector()
        self.nodes: dict[str, Node] = {}
        self.requirements: list[Requirement] = []
        self.goals: list[GoalDef] = []
        self.texts: list[str] = []
        self.modules: dict[Path, LoadedModule] = {}
        self.loading: list[tuple[Path, Span | None]] = []
        self.field_cache: dict[tuple[int, str], Value] = {}
        self.in_progress: list[tuple[str, Span]] = []
        self.cycles_seen: set[frozenset[str]] = set()
        self.overrides = {o.path: o for o in overrides}
        self.anon = 0
        self.selects: dict[str, Value] = {}
        self.missing: dict[str, str] = {}
        self.refs: dict[tuple[str, Span], str] = {}
        self.root_member_names: set[str] = set()
        self.templates: set[str] = set()
        self.context = ""            # what a name read now is read for (see Graph.refs)

    stdlib: Path                     # set by the import stage, which knows where it lives
    _root_scope: Scope

    def _add_node(self, node: Node) -> None:
        self.nodes[node.name] = node

    if TYPE_CHECKING:      # the stages call one another; lang/resolve.py joins them
        def _collect_members(self, members: Iterable[ast.Member], layer: Layer, path: str,
                             module: LoadedModule | None = None) -> None: ...

        def load_module(self, file: Path, name: str, span: Span | None) -> LoadedModule | None: ...

        def module_by_name(self, name: str, span: Span) -> RecordVal | Poison | None: ...

        def field_value(self, record: RecordVal, name: str, use: Span) -> Value: ...
