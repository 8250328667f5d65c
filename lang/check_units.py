"""Unit checking: unit expressions to factors and dimensions, and the checks on operands.

Every quantity is computed in the base unit of its dimension; a unit in the
source is an exact factor and a dimension (`lang.units`). Here unit expressions
(`GB/s`, `token^2`) are looked up and combined, and operands are checked to
agree (E0301) with a hint that names the dimension they differ by.
"""

from __future__ import annotations

from functools import lru_cache

from lang import syntax as ast
from lang.diagnostics import Label, Span, did_you_mean
from lang.limits import MAX_UNIT_EXPONENT
from lang.scopes import ResolverBase, Scalar, UnitVal, rational
from lang.units import BOOL, TEXT, Dim, format_dim, known_unit_names, lookup


class UnitStage(ResolverBase):
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
            if abs(unit.exponent) > MAX_UNIT_EXPONENT:   # `GB^99999999`: a factor of 900 million digits
                if report:
                    self.diag.error("E0106", "unit exponent too large", unit.span,
                                    label=f"at most {MAX_UNIT_EXPONENT}")
                return None
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
        return Scalar(rational(unit.factor), unit.dim, unit.name, frozenset(), unit.span)

    def _expect(self, value: Scalar, dim: Dim, message: str) -> bool:
        if value.dim is not None and value.dim != dim:
            self.diag.error("E0307", message, value.span, label=f"this is `{value.unit_text}`")
            return False
        return True

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
                        help=conversion_hint(left.dim, right.dim))

@lru_cache(maxsize=1)
def unit_names() -> frozenset[str]:
    return frozenset(known_unit_names())


def product_unit(left: Scalar, right: Scalar, op: str, dim: Dim | None) -> str | None:
    """The unit to show a product or quotient in: an operand's own when the dimension is
    unchanged (`80 GB * (1 GiB / 1 GB)` stays in GB), none for plain numbers (`96 % * 83 %`),
    else the units joined."""
    if dim is None or dim.dimensionless:
        return None
    for side in (left, right):
        if side.dim == dim and side.unit:
            return side.unit
    return unit_join(left, right, op)


def unit_join(left: Scalar, right: Scalar, op: str) -> str | None:
    if left.unit and right.unit:
        r = right.unit if "/" not in right.unit and "*" not in right.unit else f"({right.unit})"
        return f"{left.unit}{op}{r}"
    if op == "*":
        return left.unit or right.unit
    if left.unit:
        return left.unit
    return f"1/{right.unit}" if right.unit else None


def kind_of(dim: Dim | None) -> str:
    """`text` or `a truth value`, for messages."""
    if dim is None:
        return "a value"
    return "text" if dim == TEXT else f"a {format_dim(dim)}"


def conversion_hint(have: Dim | None, want: Dim | None) -> tuple[str, ...]:
    if have is None or want is None or have == want or {have, want} & {TEXT, BOOL}:
        return ()
    ratio = have / want
    return (f"the two sides differ by `{format_dim(ratio)}`: multiply or divide by a quantity in that unit",)
