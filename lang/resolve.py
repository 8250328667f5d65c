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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Union

import sympy

from lang import syntax as ast
from lang.diagnostics import (
    Collector,
    Diagnostic,
    InferError,
    Label,
    SourceMap,
    Span,
    did_you_mean,
    sorted_diagnostics,
)
from lang.graph import GoalDef, Graph, Node, NodeKind, Option, Requirement
from lang.parser import KEYWORDS, parse_expression, parse_module_cached
from lang.units import BOOL, DIMENSIONLESS, TEXT, Dim, format_dim, known_unit_names, lookup

FUNCTIONS = ("min", "max", "ceil", "floor", "sqrt", "log", "exp", "abs")
WHOLE_DIMS = {DIMENSIONLESS, Dim([("token", 1)]), Dim([("request", 1)])}
MAX_POWER_DIGITS = 300      # `10^10^10` would take the machine; no capacity figure needs more


def stdlib_path() -> Path:
    """The shipped stdlib: inside the installed package, or the repo's `stdlib/`."""
    here = Path(__file__).resolve().parent
    packaged = here / "stdlib"
    return packaged if packaged.is_dir() else here.parent / "stdlib"


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

    def __init__(self, resolver: Resolver, module: RecordVal | None = None):
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

    def __init__(self, resolver: Resolver, record: RecordVal, outer: Scope):
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


class _OverrideScope(Scope):
    """Where a `--set` value is read: the spec's top level, then any module by name.

    `--set chat.kv_cache=precisions.fp8` works in a spec that only wrote
    `from precisions import bf16`: a command line should not need the spec edited.
    """

    def __init__(self, resolver: Resolver, root: Scope):
        self.resolver = resolver
        self.root = root

    def lookup(self, name: str, span: Span) -> Value | None:
        found = self.root.lookup(name, span)
        if found is not None:
            return found
        for base in (self.resolver.root_dir, self.resolver.stdlib):
            candidate = base / f"{name}.infer"
            if self.resolver.exists(candidate):
                module = self.resolver.load_module(candidate, name, span)
                return module.record if module is not None else None
        return None

    def visible(self) -> Iterable[str]:
        yield from self.root.visible()
        yield from (p.stem for p in self.resolver.stdlib.glob("*.infer"))


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


# --- the resolver ---------------------------------------------------------------------


@dataclass
class Override:
    """`--set path=value` from the command line (or the API)."""

    path: str
    value: ast.Expr
    span: Span
    used: bool = False


@dataclass
class _Module:
    name: str
    file: Path
    record: RecordVal
    scope: ModuleScope


# A file's text by its resolved path, or None where it does not exist: an editor's unsaved
# buffers, or a spec as it was at a git revision (solver/diff.py). None reads the disk.
SourceReader = Callable[[Path], "str | None"]


class Resolver:
    def __init__(self, root_file: Path, sources: SourceMap, overrides: list[Override],
                 reader: SourceReader | None = None):
        self.reader = reader
        self.root_dir = root_file.resolve().parent
        self.stdlib = stdlib_path().resolve()
        self.sources = sources
        self.diag = Collector()
        self.nodes: dict[str, Node] = {}
        self.requirements: list[Requirement] = []
        self.goals: list[GoalDef] = []
        self.texts: list[str] = []
        self.modules: dict[Path, _Module] = {}
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

    # -- modules and imports --

    def exists(self, file: Path) -> bool:
        return self.reader(file.resolve()) is not None if self.reader else file.is_file()

    def load_module(self, file: Path, name: str, span: Span | None) -> _Module | None:
        file = file.resolve()
        if file in self.modules:
            return self.modules[file]
        if any(f == file for f, _ in self.loading):
            chain = [f for f, _ in self.loading] + [file]
            start = chain.index(file)
            names = " → ".join(p.stem for p in chain[start:])
            labels = tuple(Label(s, f"`{f.stem}` imports the next") for f, s in self.loading[start + 1:] if s)
            self.diag.error("E0403", f"import cycle: {names}", span, label="imported here",
                            secondary=labels,
                            help=("move the shared definitions into a module both can import",))
            return None
        try:
            text = self.reader(file) if self.reader else file.read_text(encoding="utf-8")
            if text is None:
                raise FileNotFoundError(2, "No such file or directory")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.diag.error("E0402", f"cannot read module `{name}`: {reason}", span)
            return None
        display = _display_path(file)
        self.sources.add(display, text)
        try:
            module_ast = parse_module_cached(text, display)
        except InferError as err:
            self.diag.items.extend(err.diagnostics)
            return None
        self.loading.append((file, span))
        if not self.modules and not self.root_member_names:
            self.root_member_names = {m.name for m in module_ast.members if isinstance(m, ast.NAMED_MEMBERS)}
        elif name in self.root_member_names:
            name = f"{name}@module"   # the spec binds the same name: keep the two quantities apart
        scope = ModuleScope(self)
        layer = Layer({}, [], [], scope)
        record = RecordVal(name, (layer,), Span(display, 1, 1, 1, 1), is_module=True)
        scope.module = record
        mod = _Module(name, file, record, scope)
        self._collect_members(module_ast.members, layer, record.path, module=mod)
        self.loading.pop()
        self.modules[file] = mod
        return mod

    def _find_module(self, parts: tuple[str, ...], importer: Path, span: Span) -> Path | None:
        rel = Path(*parts).with_suffix(".infer")
        for base in (importer.parent, self.stdlib):
            candidate = base / rel
            if self.exists(candidate):
                real = candidate.resolve()
                if not (_inside(real, self.root_dir) or _inside(real, self.stdlib)):
                    self.diag.error("E0404", f"module `{'.'.join(parts)}` is outside the spec's folder",
                                    span, label="not allowed",
                                    help=("a spec may import files in its own folder tree and the stdlib",))
                    return None
                return candidate
        # What could have been meant: modules in the same folder (`a.b` looks in `a/`), not this file.
        folder = Path(*parts[:-1])
        prefix = "".join(f"{p}." for p in parts[:-1])
        stems = sorted({p.stem for base in (importer.parent, self.stdlib)
                        for p in (base / folder).glob("*.infer") if p.resolve() != importer.resolve()})
        hint = did_you_mean(parts[-1], stems)
        if hint and prefix:
            hint = (hint[0].replace("`", f"`{prefix}", 1),)
        shown = ", ".join(prefix + s for s in stems[:12]) + (
            f", and {len(stems) - 12} more" if len(stems) > 12 else "")
        self.diag.error("E0401", f"no module named `{'.'.join(parts)}`", span,
                        label="not found beside this file nor in the stdlib",
                        help=hint or ((f"modules available: {shown}",) if stems else ()))
        return None

    def _collect_members(self, members: Iterable[ast.Member], layer: Layer, path: str,
                         module: _Module | None = None) -> None:
        for member in members:
            if isinstance(member, (ast.Import, ast.FromImport)):
                if module is None:
                    self.diag.error("E0405", "imports belong at the top level of a file", member.span)
                    continue
                self._bind_import(member, module)
            elif isinstance(member, ast.Require):
                layer.requires.append(member)
            elif isinstance(member, ast.Goal):
                if member.name in KEYWORDS:
                    self.diag.error("E0212", f"`{member.name}` is a keyword and cannot name a goal",
                                    member.name_span, label="a keyword, not a name",
                                    help=(f"rename it, for example `{member.name}_goal`",))
                    continue
                if any(g.name == member.name for g in layer.goals):
                    self.diag.error("E0206", f"goal `{member.name}` is defined twice", member.name_span,
                                    label="defined again here")
                    continue
                layer.goals.append(member)
            else:
                previous = layer.members.get(member.name)
                if previous is not None:
                    self.diag.error("E0206", f"`{join(path, member.name)}` is defined twice",
                                    member.name_span, label="defined again here",
                                    secondary=(Label(previous.name_span, "first defined here"),),
                                    help=("to change a record's field, extend it: `base { name = ... }`",))
                    continue
                if member.name in KEYWORDS:      # `true = 2` would never be read back: `true` is 1
                    self.diag.error("E0212", f"`{member.name}` is a keyword and cannot name a binding",
                                    member.name_span, label="a keyword, not a name",
                                    help=(f"rename it, for example `{member.name}_value`",))
                    continue
                if module is not None and member.name in module.scope.imports:
                    self.diag.error("E0206", f"`{member.name}` is already bound by an import", member.name_span,
                                    label="bound again here", help=("rename the binding or import with `as`",))
                    continue
                layer.members[member.name] = member
                self._check_shadow(member.name, member.name_span)

    def _check_shadow(self, name: str, span: Span) -> None:
        # Exact unit names and symbols only: a field called `bits` (pint's plural) is no trap.
        # One-letter names are common (`a`, `b`, `h`); only `B` and `s` are worth the warning.
        if name in _unit_names() and name not in FUNCTIONS and (len(name) > 1 or name in ("B", "s")):
            self.diag.warn("W0201", f"`{name}` shadows the unit `{name}`", span,
                           label="this binding hides the unit in this scope",
                           help=(f"rename it, or write the unit as `1 {name}` where you mean the unit",))

    def _bind_import(self, stmt: ast.Import | ast.FromImport, module: _Module) -> None:
        file = self._find_module(stmt.module, module.file, stmt.span)
        dotted = ".".join(stmt.module)
        target = self.load_module(file, dotted, stmt.span) if file is not None else None
        if target is None:
            poison = Poison(dotted, stmt.span)
            if isinstance(stmt, ast.Import):
                names = [stmt.alias or stmt.module[0]]
            else:
                names = [n for n, _ in stmt.names]
            for bound in names:
                module.scope.imports[bound] = lambda p=poison: p  # type: ignore[misc]
            return
        scope = module.scope
        if isinstance(stmt, ast.Import):
            if stmt.alias in KEYWORDS:
                self.diag.error("E0212", f"`{stmt.alias}` is a keyword and cannot name a module", stmt.span,
                                help=("choose another name after `as`",))
                return
            if stmt.alias or len(stmt.module) == 1:
                bound = stmt.alias or stmt.module[0]
                rec = target.record
                scope.imports[bound] = lambda rec=rec: rec  # type: ignore[misc]
            else:
                head = stmt.module[0]
                existing = scope.imports.get(head)
                package = existing() if existing else None
                if not isinstance(package, PackageVal):
                    package = PackageVal(head, {})
                node = package
                for part in stmt.module[1:-1]:
                    child = node.children.get(part)
                    if not isinstance(child, PackageVal):
                        child = PackageVal(join(node.path, part), {})
                        node.children[part] = child
                    node = child
                node.children[stmt.module[-1]] = target.record
                scope.imports[head] = lambda p=package: p  # type: ignore[misc]
            return
        for name, span in stmt.names:
            if not target.record.member(name):
                self.diag.error("E0402", f"module `{dotted}` has no member `{name}`", span,
                                label="not defined there",
                                help=did_you_mean(name, target.record.field_names()))
                poison = Poison(f"{dotted}.{name}", span)     # its uses stay silent: this erred
                scope.imports[name] = lambda p=poison: p  # type: ignore[misc]
                continue
            rec, nm, sp = target.record, name, span
            scope.imports[name] = lambda rec=rec, nm=nm, sp=sp: self.field_value(rec, nm, sp)  # type: ignore[misc]

    # -- fields --

    def field_value(self, record: RecordVal, name: str, use: Span) -> Value:
        key = (id(record), name)
        if key in self.field_cache:
            return self.field_cache[key]
        found = record.member(name)
        assert found is not None
        member, layer = found
        path = join(record.path, name)
        for i, (p, _) in enumerate(self.in_progress):
            if p == path:
                self._report_cycle(i, path, use)
                return Scalar(sympy.Symbol(path, real=True), None, None, frozenset({path}), use, path)
        self.in_progress.append((path, member.name_span))
        try:
            value = self._field(record, name, member, layer, path)
        finally:
            self.in_progress.pop()
        self.field_cache[key] = value
        return value

    def _report_cycle(self, start: int, path: str, use: Span) -> None:
        chain = self.in_progress[start:]
        names = [p for p, _ in chain]
        key = frozenset(names)
        if key in self.cycles_seen:
            return
        self.cycles_seen.add(key)
        arrow = " → ".join(f"`{n}`" for n in names + [path])
        labels = tuple(Label(s, f"`{p}` is defined here") for p, s in chain[1:])
        what = f"`{path}` depends on itself" if len(names) > 1 else f"`{path}` is defined in terms of itself"
        self.diag.error("E0501", what, chain[0][1], label="defined here",
                        secondary=labels + (Label(use, "and used here"),),
                        help=(f"the cycle: {arrow}",
                              "give one of these quantities a value, or make it an unknown `name: UNIT`"))

    def _field(self, record: RecordVal, name: str, member: ast.NamedMember, layer: Layer, path: str) -> Value:
        override = self.overrides.get(path)
        env = FieldScope(self, record, layer.env) if not record.is_module else layer.env
        if override is not None:
            override.used = True
            return self._override(record, member, path, override, env)
        if isinstance(member, ast.Binding):
            value = self.compile(member.value, env, path)
            return self._bind(path, member, value, record)
        if isinstance(member, ast.Unknown):
            unit = self.unit_of(member.unit)
            if unit is None:
                return Opaque(path, member.span)
            dim = unit.dim
            symbol = sympy.Symbol(path, real=True)
            self._add_node(Node(path, "unknown", symbol, None, dim, ast.unit_text(member.unit), True,
                                member.name_span, None, (), whole=dim in WHOLE_DIMS and unit.factor == 1,
                                owner=record.path))
            return Scalar(symbol, dim, ast.unit_text(member.unit), frozenset({path}), member.span, path)
        if isinstance(member, ast.RecordInput):
            return Opaque(path, member.name_span)
        assert isinstance(member, ast.Choice)
        return self._choice(path, member, env, record)

    def _override(self, record: RecordVal, member: ast.NamedMember, path: str, override: Override,
                  env: Scope) -> Value:
        expr = override.value
        unit = self._expected_unit(record, member.name)
        takes_record = self._takes_record(record, member, env)
        if unit is not None and not takes_record:    # a bare number takes the unit declared for the input
            expr = _with_unit(expr, unit)
        value = self.compile(expr, _OverrideScope(self, self._root_scope), path)
        if isinstance(value, UnitVal):
            value = self._unit_scalar(value)
        if takes_record and isinstance(value, Scalar):
            self.diag.error("E0207", f"`{path}` takes a record, not a quantity", override.span,
                            label="a quantity", help=("name a catalog entry, e.g. `gpus.h100_sxm`",))
            return Opaque(path, override.span)
        if isinstance(value, Scalar) and value.dim is not None:
            expected = self._expected_dim(record, member, env, unit)
            if expected is not None and expected[0] != value.dim:
                self.diag.error("E0301", f"cannot set `{path}` ({expected[1]}) to a value in `{value.unit_text}`",
                                override.value.span, label=f"`{value.unit_text}`",
                                secondary=(Label(member.name_span, f"`{path}` is in `{expected[1]}`"),),
                                help=_conversion_hint(value.dim, expected[0]))
            if isinstance(member, ast.Choice) and not value.deps:
                options = [self.compile(o, env, None) for o in member.options]
                allowed = [o.expr for o in options if isinstance(o, Scalar)]
                if allowed and not any(value.expr == a for a in allowed):
                    self.diag.error("E0207", f"`{path}` is one of [{', '.join(_source(o) for o in member.options)}]",
                                    override.value.span, label="not an option",
                                    secondary=(Label(member.span, "the options"),))
        binding = _as_binding(member, expr)
        if isinstance(member, ast.Choice):
            binding = ast.Binding(member.name, member.name_span, None, expr, member.span)
        return self._bind(path, binding, value, record)

    def _takes_record(self, record: RecordVal, member: ast.NamedMember, env: Scope) -> bool:
        """Whether a field holds a record: declared so in some layer, or bound to one."""
        for layer in record.layers:
            m = layer.members.get(member.name)
            if isinstance(m, ast.RecordInput) or (isinstance(m, ast.Choice) and _choice_of_records(m)):
                return True
        if isinstance(member, ast.Binding) and isinstance(member.value, (ast.Name, ast.Attribute, ast.Extend,
                                                                          ast.RecordLiteral)):
            return isinstance(self.compile(member.value, env, None), (RecordVal, ChoiceRecord))
        return False

    def _expected_unit(self, record: RecordVal, name: str) -> ast.UnitExpr | None:
        """The unit the last layer that says one gives a field (annotation, unknown, or literal)."""
        for layer in reversed(record.layers):
            member = layer.members.get(name)
            unit = _declared_unit(member) if member is not None else None
            if isinstance(member, ast.Choice) and isinstance(member.options[0], ast.Quantity):
                unit = member.options[0].unit
            if unit is not None:
                return unit
        return None

    def _expected_dim(self, record: RecordVal, member: ast.NamedMember, env: Scope,
                      unit: ast.UnitExpr | None) -> tuple[Dim, str] | None:
        if unit is not None:
            info = self.unit_of(unit, report=False)
            return (info.dim, ast.unit_text(unit)) if info is not None else None
        if isinstance(member, ast.Binding):
            original = self.compile(member.value, env, None)   # to learn its dimension only
            if isinstance(original, Scalar) and original.dim is not None:
                return original.dim, original.unit_text
        if isinstance(member, ast.Choice):
            first = self.compile(member.options[0], env, None)
            if isinstance(first, Scalar) and first.dim is not None:
                return first.dim, first.unit_text
        return None

    def _bind(self, path: str, member: ast.Binding, value: Value, record: RecordVal) -> Value:
        if isinstance(value, UnitVal):
            value = self._unit_scalar(value)
        if not isinstance(value, Scalar):
            if member.unit is not None and not isinstance(value, Opaque):
                self.diag.error("E0302", f"`{path}` has a unit annotation but holds a record",
                                member.unit.span, label="a unit annotation",
                                help=(f"records have no unit: write `{member.name} = {{ ... }}`",))
            return value
        dim, unit, declared = value.dim, value.unit, False
        if member.unit is not None:
            want = self.unit_of(member.unit)
            if want is not None:
                declared, unit = True, ast.unit_text(member.unit)
                if value.dim is not None and value.dim != want.dim:
                    self.diag.error(
                        "E0302",
                        f"`{path}` is declared in `{unit}` but its value is in `{value.unit_text}`",
                        value.span, label=f"this is `{value.unit_text}` ({format_dim(value.dim)})",
                        secondary=(Label(member.unit.span, f"declared `{unit}` ({format_dim(want.dim)})"),),
                        help=_conversion_hint(value.dim, want.dim))
                dim = want.dim
        base = self._declared_dim(record, member.name)
        if base is not None and dim is not None and base[0] != dim:
            self.diag.error("E0303", f"`{path}` must be in `{base[1]}`, as its base record declares, "
                            f"but its value is in `{value.unit_text}`",
                            value.span, label=f"`{value.unit_text}`",
                            secondary=(Label(base[2], f"declared `{base[1]}` here"),))
        kind: NodeKind = "derived" if value.deps else "input"
        if kind == "input" and dim is not None and not dim.dimensionless and dim not in (TEXT, BOOL) \
                and _literal(member.value) and value.expr.is_number and value.expr.is_negative:
            # Memory, time, FLOPs, tokens, money and power are amounts: a negative one written as
            # such is a typo. (A difference of amounts may be negative: only literals are checked.)
            self.diag.error("E0313", f"`{path}` is negative: a quantity in `{value.unit_text}` is an amount",
                            value.span, label="negative", help=("quantities with units cannot be below zero",))
        symbol = sympy.Symbol(path, real=True)
        if not unit and value.origin and value.origin in self.nodes:
            unit = self.nodes[value.origin].unit
        self._add_node(Node(path, kind, symbol, value.expr, dim, unit, declared, member.name_span,
                            member.value, tuple(sorted(value.deps)), whole=False, owner=record.path))
        return Scalar(symbol, dim, unit, frozenset({path}), value.span, path)

    def _declared_dim(self, record: RecordVal, name: str) -> tuple[Dim, str, Span] | None:
        """The unit an earlier layer declared for a field that a later layer overrides."""
        for layer in record.layers[:-1]:
            member = layer.members.get(name)
            unit = _declared_unit(member) if member is not None else None
            if unit is not None and (isinstance(member, ast.Unknown) or
                                     (isinstance(member, ast.Binding) and member.unit is not None)):
                info = self.unit_of(unit, report=False)
                if info is not None:
                    return info.dim, ast.unit_text(unit), unit.span
        return None

    def _choice(self, path: str, member: ast.Choice, env: Scope, record: RecordVal) -> Value:
        values = [self.compile(opt, env, None) for opt in member.options]
        values = [self._unit_scalar(v) if isinstance(v, UnitVal) else v for v in values]
        index = sympy.Symbol(path, integer=True)
        labels = tuple(_source(opt) for opt in member.options)
        if all(isinstance(v, RecordVal) for v in values):
            options = tuple(Option(lbl, sympy.Integer(i)) for i, lbl in enumerate(labels))
            self._add_node(Node(path, "choice", index, None, DIMENSIONLESS, None, False,
                                member.name_span, None, (), options=options, owner=record.path))
            return ChoiceRecord(path, index, path, tuple(v for v in values if isinstance(v, RecordVal)))
        if all(isinstance(v, Scalar) for v in values):
            scalars = [v for v in values if isinstance(v, Scalar)]
            first = scalars[0]
            for v in scalars[1:]:
                if first.dim is not None and v.dim is not None and v.dim != first.dim:
                    self.diag.error("E0304", "the options of a choice must share a unit",
                                    v.span, label=f"`{v.unit_text}`",
                                    secondary=(Label(first.span, f"`{first.unit_text}`"),))
            varying = next((v for v in scalars if v.deps), None)
            if varying is not None:
                self.diag.error("E0208", "a choice's options must be constants", varying.span,
                                label="depends on other quantities",
                                help=("list the values themselves: `one of [1, 2, 4, 8]`",))
            symbol = sympy.Symbol(path, real=True)
            options = tuple(Option(lbl, v.expr) for lbl, v in zip(labels, scalars))
            self._add_node(Node(path, "choice", symbol, None, first.dim, first.unit, False,
                                member.name_span, None, (), whole=first.dim in WHOLE_DIMS,
                                options=options, owner=record.path))
            return Scalar(symbol, first.dim, first.unit, frozenset({path}), member.span, path)
        self.diag.error("E0304", "a choice holds either records or quantities, not both", member.span)
        return Opaque(path, member.span)

    def _add_node(self, node: Node) -> None:
        self.nodes[node.name] = node

    # -- units --

    def unit_of(self, unit: ast.UnitExpr, report: bool = True) -> UnitVal | None:
        if isinstance(unit, ast.UnitName):
            info = lookup(unit.name)
            if report and unit.name.endswith("FLOPs") and info is not None:
                # pint reads `TFLOPs` as the plural of TFLOP: work, not a rate. Datasheets mean a rate.
                self.diag.warn("W0202", f"`{unit.name}` is an amount of work ({unit.name[:-1]}), not a rate",
                               unit.span, label="a plural of FLOP",
                               help=(f"for a rate write `{unit.name[:-1]}S` ({unit.name[:-1]} per second)",))
            if info is None:
                if report:
                    self._unknown_unit(unit.name, unit.span)
                return None
            return UnitVal(unit.name, info.factor, info.dim, unit.span)
        if isinstance(unit, ast.UnitPower):
            base = self.unit_of(unit.base, report)
            if base is None:
                return None
            return UnitVal(ast.unit_text(unit), base.factor ** unit.exponent, base.dim ** unit.exponent,
                           unit.span)
        left, right = self.unit_of(unit.left, report), self.unit_of(unit.right, report)
        if left is None or right is None:
            return None
        if unit.op == "*":
            return UnitVal(ast.unit_text(unit), left.factor * right.factor, left.dim * right.dim, unit.span)
        return UnitVal(ast.unit_text(unit), left.factor / right.factor, left.dim / right.dim, unit.span)

    def _unknown_unit(self, name: str, span: Span) -> None:
        if name.endswith("s") and len(name) > 2 and lookup(name[:-1]) is not None:
            # `80 GBs`, `bandwidth: TBs`: a plural, or a rate missing its `/`
            hints: tuple[str, ...] = (f"did you mean `{name[:-1]}`? (a rate is written `{name[:-1]}/s`)",)
        else:
            hints = did_you_mean(name, known_unit_names())
        self.diag.error("E0202", f"unknown unit `{name}`", span, label="not a unit",
                        help=hints or ("units are listed in docs/language.md",))

    def _unit_scalar(self, unit: UnitVal) -> Scalar:
        return Scalar(_rational(unit.factor), unit.dim, unit.name, frozenset(), unit.span)

    # -- expressions --

    def compile(self, expr: ast.Expr, env: Scope, path: str | None) -> Value:
        """An expression → a value. `path` names a record the expression creates."""
        if isinstance(expr, ast.Number):
            return Scalar(_rational(expr.value), DIMENSIONLESS, None, frozenset(), expr.span)
        if isinstance(expr, ast.Quantity):
            if (isinstance(expr.unit, ast.UnitName) and lookup(expr.unit.name) is None
                    and expr.unit.name in set(env.visible())):
                # `2 layers` reads as a number in the unit `layers`: a missing `*`
                number = expr.text[:-len(expr.unit.name)].rstrip() if expr.text.endswith(
                    expr.unit.name) else expr.text
                self.diag.error("E0202", f"unknown unit `{expr.unit.name}`", expr.unit.span,
                                label="read as the unit of the number before it",
                                help=(f"`{expr.unit.name}` is a name here: to multiply, write "
                                      f"`{number} * {expr.unit.name}`",))
                return Scalar(_rational(expr.value), None, None, frozenset(), expr.span)
            unit = self.unit_of(expr.unit)
            if unit is None:
                return Scalar(_rational(expr.value), None, None, frozenset(), expr.span)
            return Scalar(_rational(expr.value * unit.factor), unit.dim, unit.name, frozenset(), expr.span)
        if isinstance(expr, ast.Text):
            if expr.value not in self.texts:
                self.texts.append(expr.value)
            return Scalar(sympy.Integer(self.texts.index(expr.value)), TEXT, None, frozenset(), expr.span)
        if isinstance(expr, ast.Name):
            return self._name(expr, env)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, env)
        if isinstance(expr, (ast.RecordLiteral, ast.Extend)):
            return self._record(expr, env, path or self._anon_path())
        if isinstance(expr, ast.Unary):
            return self._unary(expr, env)
        if isinstance(expr, ast.Binary):
            return self._binary(expr, env)
        if isinstance(expr, ast.Conditional):
            return self._conditional(expr, env)
        assert isinstance(expr, ast.Call)
        return self._call(expr, env)

    def _anon_path(self) -> str:
        self.anon += 1
        owner = self.in_progress[-1][0] if self.in_progress else ""
        return f"{owner}~{self.anon}"

    def _name(self, expr: ast.Name, env: Scope) -> Value:
        value = env.lookup(expr.name, expr.span)
        if value is not None:
            if not isinstance(value, Scalar):
                return value
            self._note_ref(expr.span, value)
            return _respan(value, expr.span)
        info = lookup(expr.name) if expr.name not in KEYWORDS else None
        if info is not None:
            return UnitVal(expr.name, info.factor, info.dim, expr.span)
        if expr.name in FUNCTIONS:
            self.diag.error("E0201", f"`{expr.name}` is a function, not a value", expr.span,
                            label="a function", help=(f"call it: `{expr.name}(...)`",))
            return Scalar(sympy.Integer(0), None, None, frozenset(), expr.span)
        hints = did_you_mean(expr.name, list(env.visible()) + list(FUNCTIONS))
        self.diag.error("E0201", f"unknown name `{expr.name}`", expr.span, label="not defined",
                        help=hints)
        return Scalar(sympy.Integer(0), None, None, frozenset(), expr.span)

    def _attribute(self, expr: ast.Attribute, env: Scope) -> Value:
        obj = self.compile(expr.obj, env, None)
        value = self.attribute_of(obj, expr.name, expr.name_span, expr)
        if isinstance(value, Scalar):
            self._note_ref(expr.span, value)
        return value

    def _note_ref(self, span: Span, value: Scalar) -> None:
        """Which node a name in a formula read, so derivations can show its value in place."""
        if value.origin:
            context = self.in_progress[-1][0] if self.in_progress else self.context
            self.refs[(context, span)] = value.origin

    def attribute_of(self, obj: Value, name: str, span: Span, expr: ast.Attribute | None = None) -> Value:
        if isinstance(obj, RecordVal):
            if obj.member(name):
                value = self.field_value(obj, name, span)
                return _respan(value, expr.span) if isinstance(value, Scalar) and expr else value
            kind = "module" if obj.is_module else "record"
            self.diag.error("E0203", f"{kind} `{obj.path or 'the spec'}` has no field `{name}`", span,
                            label="no such field", help=did_you_mean(name, obj.field_names()))
            return Scalar(sympy.Integer(0), None, None, frozenset(), span)
        if isinstance(obj, PackageVal):
            if name in obj.children:
                return obj.children[name]
            self.diag.error("E0203", f"package `{obj.path}` has no module `{name}`", span,
                            help=did_you_mean(name, obj.children))
            return Scalar(sympy.Integer(0), None, None, frozenset(), span)
        if isinstance(obj, ChoiceRecord):
            return self._select(obj, name, span)
        if isinstance(obj, Opaque):
            return obj
        if isinstance(obj, Scalar) and obj.dim is None:
            return obj
        what = "a unit" if isinstance(obj, UnitVal) else "a quantity"
        self.diag.error("E0205", f"cannot take `.{name}` of {what}", span,
                        label="only records and modules have fields")
        return Scalar(sympy.Integer(0), None, None, frozenset(), span)

    def _select(self, choice: ChoiceRecord, name: str, span: Span) -> Value:
        path = join(choice.path, name)
        if path in self.selects:
            return self.selects[path]
        missing = [o.path for o in choice.options if not o.member(name)]
        if missing:
            self.diag.error("E0203", f"option `{missing[0]}` of `{choice.path}` has no field `{name}`",
                            span, label="not in every option",
                            help=did_you_mean(name, choice.options[0].field_names()))
            return Scalar(sympy.Integer(0), None, None, frozenset(), span)
        values = [self.field_value(o, name, span) for o in choice.options]
        values = [self._unit_scalar(v) if isinstance(v, UnitVal) else v for v in values]
        result: Value
        if all(isinstance(v, RecordVal) for v in values):
            result = ChoiceRecord(path, choice.index, choice.index_node,
                                  tuple(v for v in values if isinstance(v, RecordVal)))
        elif all(isinstance(v, Scalar) for v in values):
            scalars = [v for v in values if isinstance(v, Scalar)]
            dims = {v.dim for v in scalars if v.dim is not None}
            if len(dims) > 1:
                self.diag.error("E0304", f"`{path}` has different units in different options", span,
                                label=", ".join(sorted({v.unit_text for v in scalars})))
            pieces = [(v.expr, sympy.Eq(choice.index, i)) for i, v in enumerate(scalars)]
            expr = sympy.Piecewise(*pieces[:-1], (pieces[-1][0], True))
            deps = frozenset().union(*(v.deps for v in scalars)) | {choice.index_node}
            first = scalars[0]
            symbol = sympy.Symbol(path, real=True)
            self._add_node(Node(path, "derived", symbol, expr, first.dim, first.unit, False, span,
                                None, tuple(sorted(deps)), owner=choice.path))
            result = Scalar(symbol, first.dim, first.unit, frozenset({path}), span, path)
        else:
            opaque = next((v for v in values if isinstance(v, Opaque)), None)
            if opaque is not None:
                return opaque
            self.diag.error("E0304", f"`{path}` is a record in some options and a quantity in others", span)
            result = Scalar(sympy.Integer(0), None, None, frozenset(), span)
        self.selects[path] = result
        return result

    def _record(self, expr: ast.RecordLiteral | ast.Extend, env: Scope, path: str) -> Value:
        if isinstance(expr, ast.RecordLiteral):
            layer = Layer({}, [], [], env)
            self._collect_members(expr.members, layer, path)
            return RecordVal(path, (layer,), expr.span)
        base = self.compile(expr.base, env, None)
        if isinstance(base, Opaque):
            return base
        if isinstance(base, ChoiceRecord):
            self.diag.error("E0209", "cannot extend a choice of records", expr.base.span,
                            help=("extend each option, then choose among them",))
            return Opaque(path, expr.span)
        if isinstance(base, Scalar) and base.dim is None:
            return Poison(path, expr.span)      # the base's own error is already reported
        if not isinstance(base, RecordVal):
            self.diag.error("E0209", "only records can be extended", expr.span,
                            label="this is not a record",
                            help=("`base { ... }` makes a new record from the record `base`",))
            return Opaque(path, expr.span)
        layer = Layer({}, [], [], env)
        self._collect_members(expr.body.members, layer, path)
        return RecordVal(path, base.layers + (layer,), expr.span)

    def _scalar(self, value: Value, span: Span, role: str) -> Scalar:
        """Coerce an operand to a quantity, reporting records used as numbers."""
        if isinstance(value, Scalar):
            return value
        if isinstance(value, UnitVal):
            return self._unit_scalar(value)
        if isinstance(value, Opaque):
            raise _NeedsRecord(value)
        what = {RecordVal: "a record", PackageVal: "a module", ChoiceRecord: "a choice of records"}
        kind = what.get(type(value), "not a quantity")
        if isinstance(value, RecordVal) and value.is_module:
            kind = "a module"
        self.diag.error("E0305", f"{kind} cannot be used {role}", span, label=kind,
                        help=("reach a field with a dot: `record.field`",))
        return Scalar(sympy.Integer(0), None, None, frozenset(), span)

    def _unary(self, expr: ast.Unary, env: Scope) -> Value:
        try:
            operand = self._scalar(self.compile(expr.operand, env, None), expr.operand.span, "here")
        except _NeedsRecord as need:
            return need.opaque
        if expr.op == "not":
            self._expect(operand, BOOL, "`not` needs a truth value")
            return Scalar(sympy.Not(operand.expr) if operand.dim == BOOL else operand.expr,
                          BOOL, None, operand.deps, expr.span)
        if operand.dim in (TEXT, BOOL):
            self.diag.error("E0306", f"cannot negate {_a(operand.dim)}", expr.span,
                            label=format_dim(operand.dim))
        sign = -1 if expr.op == "-" else 1
        return Scalar(sign * operand.expr, operand.dim, operand.unit, operand.deps, expr.span)

    def _expect(self, value: Scalar, dim: Dim, message: str) -> bool:
        if value.dim is not None and value.dim != dim:
            self.diag.error("E0307", message, value.span, label=f"this is `{value.unit_text}`")
            return False
        return True

    def _binary(self, expr: ast.Binary, env: Scope) -> Value:
        try:
            left = self._scalar(self.compile(expr.left, env, None), expr.left.span, f"with `{expr.op}`")
            right = self._scalar(self.compile(expr.right, env, None), expr.right.span, f"with `{expr.op}`")
        except _NeedsRecord as need:
            return need.opaque
        deps = left.deps | right.deps
        op = expr.op
        if op in ("and", "or"):
            ok = self._expect(left, BOOL, f"`{op}` needs truth values on both sides")
            ok = self._expect(right, BOOL, f"`{op}` needs truth values on both sides") and ok
            combined = (sympy.And if op == "and" else sympy.Or)(left.expr, right.expr) if ok else sympy.true
            return Scalar(combined, BOOL, None, deps, expr.span)
        if op in ("+", "-") or op in ("<", "<=", ">", ">=", "==", "!="):
            odd = next((side for side in (left, right) if side.dim in (TEXT, BOOL)), None)
            if op in ("+", "-"):
                if odd is not None:          # one error, not a unit mismatch as well
                    self.diag.error("E0306", f"cannot use `{op}` on {_a(odd.dim)}", expr.op_span,
                                    label=f"`{op}` needs quantities",
                                    secondary=(Label(odd.span, _a(odd.dim)),))
                else:
                    self._same_dims(left, right, expr)
                unit = left.unit if left.unit == right.unit or not right.unit else (left.unit or right.unit)
                result = left.expr + right.expr if op == "+" else left.expr - right.expr
                return Scalar(result, left.dim if left.dim is not None else right.dim, unit, deps, expr.span)
            if op not in ("==", "!=") and TEXT in (left.dim, right.dim):
                self.diag.error("E0306", "text can only be compared with `==` or `!=`", expr.op_span,
                                label="an ordering needs quantities")
            else:
                self._same_dims(left, right, expr)
            relation = {"<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge,
                        "==": sympy.Eq, "!=": sympy.Ne}[op](left.expr, right.expr)
            return Scalar(relation, BOOL, None, deps, expr.span)
        for side in (left, right):
            if side.dim in (TEXT, BOOL):
                self.diag.error("E0306", f"cannot use `{op}` on {_a(side.dim)}", side.span,
                                label=format_dim(side.dim))
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        dim: Dim | None
        if op == "*":
            dim = left.dim * right.dim if left.dim is not None and right.dim is not None else None
            return Scalar(left.expr * right.expr, dim, _product_unit(left, right, "*", dim), deps, expr.span)
        if op == "/":
            dim = left.dim / right.dim if left.dim is not None and right.dim is not None else None
            if right.expr == 0 and not right.deps:
                self.diag.error("E0308", "division by zero", expr.right.span, label="this is zero")
                return Scalar(sympy.Integer(0), dim, None, deps, expr.span)
            return Scalar(left.expr / right.expr, dim, _product_unit(left, right, "/", dim), deps, expr.span)
        assert op == "^"
        return self._power(left, right, expr, deps)

    def _power(self, left: Scalar, right: Scalar, expr: ast.Binary, deps: frozenset[str]) -> Scalar:
        if right.dim is not None and not right.dim.dimensionless:
            self.diag.error("E0309", f"an exponent must be a plain number, not `{right.unit_text}`",
                            expr.right.span, label=f"`{right.unit_text}`")
            return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        if left.expr.is_Number and right.expr.is_Number:
            base, exponent = abs(float(left.expr)), float(right.expr)
            if base not in (0.0, 1.0) and abs(exponent * math.log10(base)) > MAX_POWER_DIGITS:
                self.diag.error("E0106", "number too large", expr.span,
                                label=f"more than {MAX_POWER_DIGITS} digits",
                                help=("powers are limited to results below 1e300",))
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        elif right.expr.is_Number and abs(float(right.expr)) > 64:
            self.diag.error("E0106", "exponent too large", expr.right.span, label="at most 64")
            return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        dim: Dim | None = left.dim
        if left.dim is not None and not left.dim.dimensionless:
            exponent_value = right.expr
            if not exponent_value.is_Rational or right.deps:
                self.diag.error("E0309", f"a quantity in `{left.unit_text}` can only be raised to a "
                                "constant power", expr.right.span, label="not a constant",
                                help=("write the power as a number: `x ^ 2`",))
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
            rational = sympy.Rational(exponent_value)
            dim = left.dim ** int(rational.p)
            dim = dim.root(int(rational.q)) if rational.q != 1 else dim
            if dim is None:
                self.diag.error("E0309", f"`{left.unit_text}` has no such root", expr.span)
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        unit = f"{left.unit}^{right.expr}" if left.unit else None
        return Scalar(left.expr ** right.expr, dim, unit, deps, expr.span)

    def _same_dims(self, left: Scalar, right: Scalar, expr: ast.Binary) -> None:
        if left.dim is None or right.dim is None or left.dim == right.dim:
            return
        verb = {"+": "add", "-": "subtract"}.get(expr.op)
        message = (f"cannot {verb} `{left.unit_text}` and `{right.unit_text}`" if verb else
                   f"cannot compare `{left.unit_text}` with `{right.unit_text}`")
        labels = [Label(left.span, f"`{left.unit_text}`"), Label(right.span, f"`{right.unit_text}`")]
        for side in (left, right):
            if side.origin and side.origin in self.nodes:
                node = self.nodes[side.origin]
                if node.span.file != "<--set>":
                    labels.append(Label(node.span, f"`{side.origin}` is declared here"))
        self.diag.error("E0301", message, expr.op_span, label=f"`{left.unit_text}` {expr.op} "
                        f"`{right.unit_text}`", secondary=tuple(labels),
                        help=_conversion_hint(left.dim, right.dim))

    def _conditional(self, expr: ast.Conditional, env: Scope) -> Value:
        try:
            test = self._scalar(self.compile(expr.test, env, None), expr.test.span, "as a condition")
            then = self._scalar(self.compile(expr.then, env, None), expr.then.span, "as a branch")
            other = self._scalar(self.compile(expr.otherwise, env, None), expr.otherwise.span, "as a branch")
        except _NeedsRecord as need:
            return need.opaque
        if test.dim == DIMENSIONLESS:       # a flag: `if tied_embeddings then ...`
            test = Scalar(sympy.Ne(test.expr, 0), BOOL, None, test.deps, test.span)
        self._expect(test, BOOL, "the condition of `if` must be a comparison or a flag")
        if then.dim is not None and other.dim is not None and then.dim != other.dim:
            self.diag.error("E0304", f"the branches of `if` differ: `{then.unit_text}` and "
                            f"`{other.unit_text}`", expr.span, label="both branches need one unit",
                            secondary=(Label(then.span, f"`{then.unit_text}`"),
                                       Label(other.span, f"`{other.unit_text}`")))
        cond = test.expr if test.dim == BOOL else sympy.true
        value = sympy.Piecewise((then.expr, cond), (other.expr, True))
        return Scalar(value, then.dim if then.dim is not None else other.dim, then.unit or other.unit,
                      test.deps | then.deps | other.deps, expr.span)

    def _call(self, expr: ast.Call, env: Scope) -> Value:
        if expr.func not in FUNCTIONS:
            bound = env.lookup(expr.func, expr.func_span)
            message = (f"`{expr.func}` is not a function" if bound is not None
                       else f"unknown function `{expr.func}`")
            self.diag.error("E0210", message, expr.func_span, label="not a function",
                            help=did_you_mean(expr.func, FUNCTIONS) or
                            (f"functions: {', '.join(FUNCTIONS)}",))
            return Scalar(sympy.Integer(0), None, None, frozenset(), expr.span)
        try:
            args = [self._scalar(self.compile(a, env, None), a.span, f"in `{expr.func}`")
                    for a in expr.args]
        except _NeedsRecord as need:
            return need.opaque
        deps = frozenset().union(*(a.deps for a in args)) if args else frozenset()
        if expr.func in ("min", "max"):
            if len(args) < 2:
                self.diag.error("E0211", f"`{expr.func}` takes at least two arguments", expr.span,
                                label=f"{len(args)} argument{'s' if len(args) != 1 else ''}",
                                help=(f"`{expr.func}(a, b, ...)` gives the "
                                      f"{'least' if expr.func == 'min' else 'greatest'} of its arguments",))
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
            first = args[0]
            for other in args[1:]:
                if first.dim is not None and other.dim is not None and other.dim != first.dim:
                    self.diag.error("E0301", f"`{expr.func}` of `{first.unit_text}` and "
                                    f"`{other.unit_text}`", other.span,
                                    label=f"`{other.unit_text}`",
                                    secondary=(Label(first.span, f"`{first.unit_text}`"),))
            func = sympy.Min if expr.func == "min" else sympy.Max
            unit = next((a.unit for a in args if a.unit), None)
            return Scalar(func(*(a.expr for a in args)), first.dim, unit, deps, expr.span)
        if len(args) != 1:
            self.diag.error("E0211", f"`{expr.func}` takes one argument, not {len(args)}", expr.span,
                            label=f"{len(args)} arguments")
            return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        (arg,) = args
        if arg.dim in (TEXT, BOOL):
            self.diag.error("E0306", f"`{expr.func}` needs a number", arg.span)
            return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        if expr.func in ("log", "exp"):
            if arg.dim is not None and not arg.dim.dimensionless:
                ratio = f"{expr.func}({_source(expr.args[0], 6)} / (1 {arg.unit_text}))"
                self.diag.error("E0310", f"`{expr.func}` needs a plain number, not `{arg.unit_text}`",
                                arg.span, label=f"`{arg.unit_text}`",
                                help=(f"divide by a reference quantity first: `{ratio}`",))
            func = sympy.log if expr.func == "log" else sympy.exp
            return Scalar(func(arg.expr), DIMENSIONLESS, None, deps, expr.span)
        if expr.func == "sqrt":
            dim = arg.dim.root(2) if arg.dim is not None else None
            if arg.dim is not None and dim is None:
                self.diag.error("E0309", f"`{arg.unit_text}` has no square root", arg.span,
                                label=f"`{arg.unit_text}` ({format_dim(arg.dim)})")
            return Scalar(sympy.sqrt(arg.expr), dim, None, deps, expr.span)
        func = {"ceil": sympy.ceiling, "floor": sympy.floor, "abs": sympy.Abs}[expr.func]
        return Scalar(func(arg.expr), arg.dim, arg.unit, deps, expr.span)

    # -- the root --

    _root_scope: Scope

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
        except _NeedsRecord as need:
            self.missing[f"require {_source(req.expr)}"] = need.opaque.missing
            return
        if value.dim is not None and value.dim != BOOL:
            self.diag.error("E0311", "a requirement must be a comparison", req.expr.span,
                            label=f"this is `{value.unit_text}`",
                            help=("write it as `a <= b`",))
            return
        if value.dim is None:
            return
        text = _source(req.expr)
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
        except _NeedsRecord as need:
            if isinstance(need.opaque, Poison):
                return
            self.diag.error("E0204", f"goal `{goal.name}` needs `{need.opaque.missing}`, which has no value",
                            goal.expr.span, secondary=(Label(need.opaque.span, "declared here"),))
            return
        if value.dim in (BOOL, TEXT):
            self.diag.error("E0312", f"goal `{goal.name}` must be a quantity to {goal.sense}",
                            goal.expr.span, label=f"this is {_a(value.dim)}",
                            help=(f"{goal.sense} the quantity itself, and state the limit as a "
                                  "requirement: `require x <= limit`",))
            return
        target = value.origin if value.origin in self.nodes else None
        self.goals.append(GoalDef(join(record.path, goal.name), goal.sense, value.expr, value.dim,
                                  value.unit, _source(goal.expr), target, goal.span,
                                  tuple(sorted(value.deps))))


class _NeedsRecord(Exception):
    """Unwinds an expression that reads an unsupplied record input."""

    def __init__(self, opaque: Opaque):
        self.opaque = opaque


# --- helpers ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _unit_names() -> frozenset[str]:
    return frozenset(known_unit_names())


def _rational(value: Fraction) -> sympy.Expr:
    return sympy.Rational(value.numerator, value.denominator)


def _respan(value: Scalar, span: Span) -> Scalar:
    return Scalar(value.expr, value.dim, value.unit, value.deps, span, value.origin)


def _product_unit(left: Scalar, right: Scalar, op: str, dim: Dim | None) -> str | None:
    """The unit to show a product or quotient in: an operand's own when the dimension is
    unchanged (`80 GB * (1 GiB / 1 GB)` stays in GB), none for plain numbers (`96 % * 83 %`),
    else the units joined."""
    if dim is None or dim.dimensionless:
        return None
    for side in (left, right):
        if side.dim == dim and side.unit:
            return side.unit
    return _unit_join(left, right, op)


def _unit_join(left: Scalar, right: Scalar, op: str) -> str | None:
    if left.unit and right.unit:
        r = right.unit if "/" not in right.unit and "*" not in right.unit else f"({right.unit})"
        return f"{left.unit}{op}{r}"
    if op == "*":
        return left.unit or right.unit
    if left.unit:
        return left.unit
    return f"1/{right.unit}" if right.unit else None


def _declared_unit(member: ast.Member | None) -> ast.UnitExpr | None:
    if isinstance(member, ast.Unknown):
        return member.unit
    if isinstance(member, ast.Binding):
        if member.unit is not None:
            return member.unit
        if isinstance(member.value, ast.Quantity):
            return member.value.unit
    return None


def _literal(expr: ast.Expr) -> bool:
    """A quantity as written, possibly negated: `80 GB`, `-5 token`."""
    if isinstance(expr, ast.Unary) and expr.op in ("-", "+"):
        return _literal(expr.operand)
    return isinstance(expr, ast.Quantity)


def _with_unit(expr: ast.Expr, unit: ast.UnitExpr) -> ast.Expr:
    """`--set batch=32` on `batch: count`, `--set context=-5` on `context: token`: add the unit."""
    if isinstance(expr, ast.Number):
        return ast.Quantity(expr.value, f"{expr.text} {ast.unit_text(unit)}", unit, expr.span)
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.Number):
        return ast.Unary("-", _with_unit(expr.operand, unit), expr.span)
    return expr


def _as_binding(member: ast.Member, value: ast.Expr) -> ast.Binding:
    unit = member.unit if isinstance(member, (ast.Binding, ast.Unknown)) else None
    return ast.Binding(member.name, member.name_span, unit, value, member.span)  # type: ignore[union-attr]


def _choice_of_records(member: ast.Choice) -> bool:
    return all(isinstance(o, (ast.Name, ast.Attribute, ast.Extend, ast.RecordLiteral)) for o in member.options)


def _a(dim: Dim | None) -> str:
    """`text` or `a truth value`, for messages."""
    if dim is None:
        return "a value"
    return "text" if dim == TEXT else f"a {format_dim(dim)}"


def _conversion_hint(have: Dim | None, want: Dim | None) -> tuple[str, ...]:
    if have is None or want is None or have == want or {have, want} & {TEXT, BOOL}:
        return ()
    ratio = have / want
    return (f"the two sides differ by `{format_dim(ratio)}`: multiply or divide by a quantity in that unit",)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _display_path(file: Path) -> str:
    stdlib = stdlib_path().resolve()
    if _inside(file, stdlib):
        return f"<stdlib>/{file.relative_to(stdlib)}"
    try:
        return str(file.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)


_PRECEDENCE = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "^": 8}


def _source(expr: ast.Expr, parent: int = 0) -> str:
    """The expression as text, in the language's own syntax (for derivations and messages).

    >>> _source(parse_expression("2 * (a + b) / token", "t"))
    '2 * (a + b) / token'
    """
    if isinstance(expr, ast.Number):
        return expr.text
    if isinstance(expr, ast.Quantity):
        return expr.text
    if isinstance(expr, ast.Text):
        return f'"{expr.value}"'
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Attribute):
        obj = _source(expr.obj, 9)
        if isinstance(expr.obj, (ast.Number, ast.Quantity)):
            obj = f"({obj})"              # `2.a` would read as the number 2 in the unit `a`
        return f"{obj}.{expr.name}"
    if isinstance(expr, ast.Unary):
        inner = _source(expr.operand, 7 if expr.op != "not" else 3)
        text = f"not {inner}" if expr.op == "not" else f"{expr.op}{inner}"
        return f"({text})" if parent > (7 if expr.op != "not" else 3) else text
    if isinstance(expr, ast.Binary):
        prec = _PRECEDENCE[expr.op]
        right_prec = prec + (0 if expr.op == "^" else 1)
        # `^` groups to the right; comparisons do not chain: `(a < b) < c` keeps its parentheses
        left_prec = prec + (1 if expr.op == "^" or prec == 4 else 0)
        text = f"{_source(expr.left, left_prec)} {expr.op} {_source(expr.right, right_prec)}"
        return f"({text})" if parent > prec else text
    if isinstance(expr, ast.Conditional):
        text = (f"if {_source(expr.test)} then {_source(expr.then)} else {_source(expr.otherwise)}")
        return f"({text})" if parent else text
    if isinstance(expr, ast.Call):
        return f"{expr.func}({', '.join(_source(a) for a in expr.args)})"
    if isinstance(expr, ast.Extend):
        return f"{_source(expr.base, 9)} {{ ... }}"
    return "{ ... }"


source_text = _source


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
    offset = len(text) - len(text.split("=", 1)[1])
    try:
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

    `reader` supplies files' texts instead of the disk (see SourceReader).

    Raises InferError with every diagnostic found; warnings travel on the graph.
    """
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
        resolver = Resolver(file, sources, parsed, reader)
        if not resolver.exists(file):
            raise InferError([Diagnostic("E0400", f"no such spec file `{file}`", None,
                                         help=("give the path of a .infer file",))])
        return resolver.resolve_root(file)
    except InferError as err:
        err.sources = sources    # so the one place that renders can quote every line
        raise


def constant_value(text: str, label: str = "<--where>") -> tuple[sympy.Expr, Dim, str | None, Span]:
    """A constant from the command line (`24GB`, `50 ms`, `2 * 8 GiB`): value, dimension, unit.

    >>> v, d, u, _ = constant_value("24GB")
    >>> v, u
    (24000000000, 'GB')
    """
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
