"""Records, fields and overrides: the lazy walk over record instances.

A record value is a stack of layers (`base { overrides }` adds one); a field is
looked up in the last layer that defines it and resolved the first time some
instance reads it, then cached per instance. A scalar field becomes a graph node
named by its path (`chat.ttft`); a field found "in progress" is a cycle (E0501).
A `--set` override replaces a field's value where it is read, takes the unit the
field declares when given a bare number, and must keep its dimension.
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy

from lang import syntax as ast
from lang.check_units import conversion_hint, unit_names
from lang.diagnostics import Label, Span
from lang.graph import Node, NodeKind, Option
from lang.imports import ImportStage
from lang.limits import MAX_CHAIN
from lang.lower import FUNCTIONS, LowerStage, source_text
from lang.parser import KEYWORDS
from lang.scopes import (
    ChoiceRecord,
    FieldScope,
    Layer,
    LoadedModule,
    Opaque,
    Override,
    OverrideScope,
    RecordVal,
    Scalar,
    Scope,
    UnitVal,
    Value,
    join,
)
from lang.units import BOOL, DIMENSIONLESS, TEXT, Dim, format_dim

WHOLE_DIMS = {DIMENSIONLESS, Dim([("token", 1)]), Dim([("request", 1)])}


class FieldStage(LowerStage, ImportStage):
    def _collect_members(self, members: Iterable[ast.Member], layer: Layer, path: str,
                         module: LoadedModule | None = None) -> None:
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
        if name in unit_names() and name not in FUNCTIONS and (len(name) > 1 or name in ("B", "s")):
            self.diag.warn("W0201", f"`{name}` shadows the unit `{name}`", span,
                           label="this binding hides the unit in this scope",
                           help=(f"rename it, or write the unit as `1 {name}` where you mean the unit",))

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
        if len(self.in_progress) >= MAX_CHAIN:      # x0 = x1 + 1, x1 = x2 + 1, ... past any real spec
            if not any(d.code == "E0105" and d.span == member.name_span for d in self.diag.items):
                self.diag.error("E0105", f"quantities defined in terms of others more than {MAX_CHAIN} deep",
                                member.name_span, label="too deep here",
                                help=("a chain of definitions this long is generated, not written: "
                                      "give an intermediate quantity a value",))
            return Scalar(sympy.Integer(0), None, None, frozenset(), use)
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
        value = self.compile(expr, OverrideScope(self, self._root_scope), path)
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
                                help=conversion_hint(value.dim, expected[0]))
            if isinstance(member, ast.Choice) and not value.deps:
                options = [self.compile(o, env, None) for o in member.options]
                allowed = [o.expr for o in options if isinstance(o, Scalar)]
                if allowed and not any(value.expr == a for a in allowed):
                    listed = ", ".join(source_text(o) for o in member.options)
                    self.diag.error("E0207", f"`{path}` is one of [{listed}]",
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
                        help=conversion_hint(value.dim, want.dim))
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
        labels = tuple(source_text(opt) for opt in member.options)
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
