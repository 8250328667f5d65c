"""Lowering: expressions to sympy formulas, checked as they are built.

An expression becomes a `Value`; arithmetic on quantities becomes a sympy
formula over the symbols of the nodes it reads, built with sympy constructors
from the AST (never from text), with units checked by `lang.check_units` as each
operator is lowered. A field reached through a `one of [records]` choice is a
`Piecewise` over the options.
"""

from __future__ import annotations

import math

import sympy

from lang import syntax as ast
from lang.check_units import UnitStage, kind_of, product_unit
from lang.diagnostics import Label, Span, did_you_mean
from lang.exprbuild import compare as build_relation
from lang.exprbuild import minmax
from lang.graph import Node
from lang.limits import MAX_EXP_ARGUMENT, MAX_POWER_DIGITS, MAX_VARIABLE_EXPONENT
from lang.parser import KEYWORDS
from lang.scopes import (
    ChoiceRecord,
    Layer,
    NeedsRecord,
    Opaque,
    PackageVal,
    Poison,
    RecordVal,
    Scalar,
    Scope,
    UnitVal,
    Value,
    join,
    rational,
    respan,
)
from lang.units import BOOL, DIMENSIONLESS, TEXT, Dim, format_dim, lookup

FUNCTIONS = ("min", "max", "ceil", "floor", "sqrt", "log", "exp", "abs")
_EXACT_POWER_BITS = 4096    # a rational power larger than this is computed as a 30-digit Float


class LowerStage(UnitStage):
    # -- expressions --

    def compile(self, expr: ast.Expr, env: Scope, path: str | None) -> Value:
        """An expression → a value. `path` names a record the expression creates."""
        if isinstance(expr, ast.Number):
            return Scalar(rational(expr.value), DIMENSIONLESS, None, frozenset(), expr.span)
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
                return Scalar(rational(expr.value), None, None, frozenset(), expr.span)
            unit = self.unit_of(expr.unit)
            if unit is None:
                return Scalar(rational(expr.value), None, None, frozenset(), expr.span)
            return Scalar(rational(expr.value * unit.factor), unit.dim, unit.name, frozenset(), expr.span)
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
            return self._defined(self._binary(expr, env), expr)
        if isinstance(expr, ast.Conditional):
            return self._conditional(expr, env)
        assert isinstance(expr, ast.Call)
        return self._defined(self._call(expr, env), expr)

    def _defined(self, value: Value, expr: ast.Expr) -> Value:
        """A constant result must be a real number: `sqrt(-1)`, `0 ^ -1` or `log(0)` is undefined.

        Arguments are checked before the call where the reason is specific (see `_call`,
        `_power`); this catches what is left, such as a fractional power of a negative number.
        """
        if not isinstance(value, Scalar) or value.deps or value.dim is None or value.dim in (TEXT, BOOL):
            return value
        if not value.expr.is_number or (value.expr.is_real is not False and \
                not value.expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)):
            return value
        self.diag.error("E0314", "undefined value: not a real number", expr.span, label="undefined",
                        help=("a square root, logarithm or power whose argument is outside its domain",))
        return Scalar(sympy.Integer(0), None, None, value.deps, expr.span)

    def _out_of_range(self, large: bool, what: str, span: Span, deps: frozenset[str], more: str = "") -> Scalar:
        """E0106 for a constant result past 10^±999: `10^10^10`, `exp(2400)`, `1e-999 ^ 2`."""
        self.diag.error("E0106", f"number too {'large' if large else 'small'}", span,
                        label=f"more than {MAX_POWER_DIGITS} digits" + ("" if large else " after the point"),
                        help=(f"{what} limited to results between 1e-{MAX_POWER_DIGITS} and "
                              f"1e{MAX_POWER_DIGITS}{more}",))
        return Scalar(sympy.Integer(0), None, None, deps, span)

    def _undefined(self, reason: str, span: Span, deps: frozenset[str], label: str = "undefined") -> Scalar:
        self.diag.error("E0314", f"undefined value: {reason}", span, label=label)
        return Scalar(sympy.Integer(0), None, None, deps, span)

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
            return respan(value, expr.span)
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
                return respan(value, expr.span) if isinstance(value, Scalar) and expr else value
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
            pieces = [(v.expr, build_relation(sympy.Eq, choice.index, sympy.Integer(i))) for i, v in enumerate(scalars)]
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
            raise NeedsRecord(value)
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
        except NeedsRecord as need:
            return need.opaque
        if expr.op == "not":
            self._expect(operand, BOOL, "`not` needs a truth value")
            return Scalar(sympy.Not(operand.expr) if operand.dim == BOOL else operand.expr,
                          BOOL, None, operand.deps, expr.span)
        if operand.dim in (TEXT, BOOL):
            self.diag.error("E0306", f"cannot negate {kind_of(operand.dim)}", expr.span,
                            label=format_dim(operand.dim))
        sign = -1 if expr.op == "-" else 1
        return Scalar(sign * operand.expr, operand.dim, operand.unit, operand.deps, expr.span)

    def _binary(self, expr: ast.Binary, env: Scope) -> Value:
        try:
            left = self._scalar(self.compile(expr.left, env, None), expr.left.span, f"with `{expr.op}`")
            right = self._scalar(self.compile(expr.right, env, None), expr.right.span, f"with `{expr.op}`")
        except NeedsRecord as need:
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
                    self.diag.error("E0306", f"cannot use `{op}` on {kind_of(odd.dim)}", expr.op_span,
                                    label=f"`{op}` needs quantities",
                                    secondary=(Label(odd.span, kind_of(odd.dim)),))
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
            compare = {"<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge,
                       "==": sympy.Eq, "!=": sympy.Ne}[op]
            try:
                relation = build_relation(compare, left.expr, right.expr)     # as sympy builds it, faster
            except (TypeError, ValueError, ArithmeticError):
                # sympy could not decide two constants (`floor(exp(1000)) != 1` exhausts its
                # precision): keep the relation unevaluated; evaluation reports it undecided.
                relation = compare(left.expr, right.expr, evaluate=False)
            return Scalar(relation, BOOL, None, deps, expr.span)
        for side in (left, right):
            if side.dim in (TEXT, BOOL):
                self.diag.error("E0306", f"cannot use `{op}` on {kind_of(side.dim)}", side.span,
                                label=format_dim(side.dim))
                return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        dim: Dim | None
        if op == "*":
            dim = left.dim * right.dim if left.dim is not None and right.dim is not None else None
            return Scalar(left.expr * right.expr, dim, product_unit(left, right, "*", dim), deps, expr.span)
        if op == "/":
            dim = left.dim / right.dim if left.dim is not None and right.dim is not None else None
            if right.expr == 0 and not right.deps and right.dim is not None:    # None: an error already said
                self.diag.error("E0308", "division by zero", expr.right.span, label="this is zero")
                return Scalar(sympy.Integer(0), dim, None, deps, expr.span)
            return Scalar(left.expr / right.expr, dim, product_unit(left, right, "/", dim), deps, expr.span)
        assert op == "^"
        return self._power(left, right, expr, deps)

    def _power(self, left: Scalar, right: Scalar, expr: ast.Binary, deps: frozenset[str]) -> Scalar:
        if right.dim is not None and not right.dim.dimensionless:
            self.diag.error("E0309", f"an exponent must be a plain number, not `{right.unit_text}`",
                            expr.right.span, label=f"`{right.unit_text}`")
            return Scalar(sympy.Integer(0), None, None, deps, expr.span)
        power: sympy.Expr | None = None
        if left.expr.is_Number and right.expr.is_Number:
            if left.expr == 0 and right.expr.is_negative:
                return self._undefined("zero to a negative power", expr.span, deps, "a division by zero")
            if left.expr.is_negative and not right.expr.is_integer:
                return self._undefined("a negative number to a fractional power", expr.span, deps)
            digits = right.expr * _log10(abs(left.expr)) if left.expr != 0 else 0
            if abs(digits) > MAX_POWER_DIGITS:
                return self._out_of_range(digits > 0, "powers are", expr.span, deps)
            power = power_of_numbers(left.expr, right.expr)
        elif right.expr.is_Number and abs(right.expr) > MAX_VARIABLE_EXPONENT:
            self.diag.error("E0106", "exponent too large", expr.right.span,
                            label=f"at most {MAX_VARIABLE_EXPONENT}")
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
        return Scalar(left.expr ** right.expr if power is None else power, dim, unit, deps, expr.span)

    def _conditional(self, expr: ast.Conditional, env: Scope) -> Value:
        try:
            test = self._scalar(self.compile(expr.test, env, None), expr.test.span, "as a condition")
            then = self._scalar(self.compile(expr.then, env, None), expr.then.span, "as a branch")
            other = self._scalar(self.compile(expr.otherwise, env, None), expr.otherwise.span, "as a branch")
        except NeedsRecord as need:
            return need.opaque
        if test.dim == DIMENSIONLESS:       # a flag: `if tied_embeddings then ...`
            test = Scalar(build_relation(sympy.Ne, test.expr, sympy.Integer(0)), BOOL, None, test.deps, test.span)
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
        except NeedsRecord as need:
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
            return Scalar(minmax(func, tuple(a.expr for a in args)), first.dim, unit, deps, expr.span)
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
                ratio = f"{expr.func}({source_text(expr.args[0], 6)} / (1 {arg.unit_text}))"
                self.diag.error("E0310", f"`{expr.func}` needs a plain number, not `{arg.unit_text}`",
                                arg.span, label=f"`{arg.unit_text}`",
                                help=(f"divide by a reference quantity first: `{ratio}`",))
            if not arg.deps and arg.expr.is_number:
                sign = _sign(arg.expr)
                if expr.func == "log" and sign is not None and sign <= 0:
                    what = "zero" if sign == 0 else "a negative number"
                    return self._undefined(f"the logarithm of {what}", expr.span, deps)
                if expr.func == "exp" and _exceeds(abs(arg.expr), MAX_EXP_ARGUMENT):
                    return self._out_of_range(sign == 1, "`exp` is", expr.span, deps,
                                              f": its argument to ±{MAX_EXP_ARGUMENT:.1f}")
            func = sympy.log if expr.func == "log" else sympy.exp
            return Scalar(func(arg.expr), DIMENSIONLESS, None, deps, expr.span)
        if expr.func == "sqrt":
            dim = arg.dim.root(2) if arg.dim is not None else None
            if arg.dim is not None and dim is None:
                self.diag.error("E0309", f"`{arg.unit_text}` has no square root", arg.span,
                                label=f"`{arg.unit_text}` ({format_dim(arg.dim)})")
            if not arg.deps and arg.expr.is_number and _sign(arg.expr) == -1:
                return self._undefined("the square root of a negative number", expr.span, deps)
            return Scalar(sympy.sqrt(arg.expr), dim, None, deps, expr.span)
        func = {"ceil": sympy.ceiling, "floor": sympy.floor, "abs": sympy.Abs}[expr.func]
        return Scalar(func(arg.expr), arg.dim, arg.unit, deps, expr.span)


def _sign(value: sympy.Expr) -> int | None:
    """-1, 0 or 1 for a constant sympy knows the sign of (exactly, or by evaluating it)."""
    try:
        if value.is_zero:
            return 0
        if value.is_negative:
            return -1
        if value.is_positive:
            return 1
    except (TypeError, ValueError, ArithmeticError):
        pass
    return None


def _exceeds(value: sympy.Expr, bound: float) -> bool:
    """Whether a constant is above `bound`; one too large to even evaluate is."""
    try:
        return bool(value > bound)
    except (TypeError, ValueError, ArithmeticError):
        return True


def _log10(value: sympy.Expr) -> float:
    """log10 of a positive constant, also beyond a float's range (`1e999`)."""
    if value.is_Rational:        # math.log10 takes integers of any size
        return math.log10(int(value.p)) - math.log10(int(value.q))  # type: ignore[attr-defined]
    return math.log10(float(value))


def power_of_numbers(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr | None:
    """`base ^ exponent` for two constants, or None to let sympy build it exactly.

    Exact rationals are kept while they stay small: `1.000001 ^ 100000000` is a 30-digit
    Float (e^100 ≈ 2.69e43), not a rational of 600 million digits.
    """
    if not (base.is_Rational and exponent.is_Rational):
        return None
    size = max(int(base.p).bit_length(), int(base.q).bit_length())  # type: ignore[attr-defined]
    if abs(int(exponent.p)) * size <= _EXACT_POWER_BITS:  # type: ignore[attr-defined]
        return None
    return sympy.Float(base, 30) ** exponent


_PRECEDENCE = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "^": 8}


def source_text(expr: ast.Expr, parent: int = 0) -> str:
    """The expression as text, in the language's own syntax (for derivations and messages).

    >>> from lang.parser import parse_expression
    >>> source_text(parse_expression("2 * (a + b) / token", "t"))
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
        obj = source_text(expr.obj, 9)
        if isinstance(expr.obj, (ast.Number, ast.Quantity)):
            obj = f"({obj})"              # `2.a` would read as the number 2 in the unit `a`
        return f"{obj}.{expr.name}"
    if isinstance(expr, ast.Unary):
        inner = source_text(expr.operand, 7 if expr.op != "not" else 3)
        text = f"not {inner}" if expr.op == "not" else f"{expr.op}{inner}"
        return f"({text})" if parent > (7 if expr.op != "not" else 3) else text
    if isinstance(expr, ast.Binary):
        prec = _PRECEDENCE[expr.op]
        right_prec = prec + (0 if expr.op == "^" else 1)
        # `^` groups to the right; comparisons do not chain: `(a < b) < c` keeps its parentheses
        left_prec = prec + (1 if expr.op == "^" or prec == 4 else 0)
        text = f"{source_text(expr.left, left_prec)} {expr.op} {source_text(expr.right, right_prec)}"
        return f"({text})" if parent > prec else text
    if isinstance(expr, ast.Conditional):
        text = (f"if {source_text(expr.test)} then {source_text(expr.then)} else {source_text(expr.otherwise)}")
        return f"({text})" if parent else text
    if isinstance(expr, ast.Call):
        return f"{expr.func}({', '.join(source_text(a) for a in expr.args)})"
    if isinstance(expr, ast.Extend):
        return f"{source_text(expr.base, 9)} {{ ... }}"
    return "{ ... }"
