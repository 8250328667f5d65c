"""The abstract syntax tree: frozen dataclasses, each node with its span.

The parser builds these from Lark's parse tree; every later stage reads them
and none changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Union

from lang.diagnostics import Span

# --- units as written ----------------------------------------------------------


@dataclass(frozen=True)
class UnitName:
    name: str
    span: Span


@dataclass(frozen=True)
class UnitProduct:
    """`a*b`, `a/b`: op is '*' or '/'."""

    op: Literal["*", "/"]
    left: UnitExpr
    right: UnitExpr
    span: Span


@dataclass(frozen=True)
class UnitPower:
    base: UnitExpr
    exponent: int
    span: Span


UnitExpr = Union[UnitName, UnitProduct, UnitPower]


def unit_text(unit: UnitExpr) -> str:
    """The unit as the user would write it.

    >>> s = Span("f", 1, 1, 1, 2)
    >>> unit_text(UnitProduct("/", UnitName("TB", s), UnitName("s", s), s))
    'TB/s'
    """
    if isinstance(unit, UnitName):
        return unit.name
    if isinstance(unit, UnitPower):
        return f"{unit_text(unit.base)}^{unit.exponent}"
    right = unit_text(unit.right)
    if isinstance(unit.right, UnitProduct):
        right = f"({right})"
    return f"{unit_text(unit.left)}{unit.op}{right}"


# --- expressions -----------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Fraction
    text: str
    span: Span


@dataclass(frozen=True)
class Quantity:
    """A number with a unit: `80 GB`, `3.35 TB/s`."""

    value: Fraction
    text: str
    unit: UnitExpr
    span: Span


@dataclass(frozen=True)
class Text:
    value: str
    span: Span


@dataclass(frozen=True)
class Name:
    name: str
    span: Span


@dataclass(frozen=True)
class Attribute:
    """`obj.name`: reaches into a record or a module."""

    obj: Expr
    name: str
    span: Span
    name_span: Span


@dataclass(frozen=True)
class Unary:
    op: Literal["-", "+", "not"]
    operand: Expr
    span: Span


@dataclass(frozen=True)
class Binary:
    """Arithmetic (+ - * / ^), comparison (< <= > >= == !=) and logic (and, or)."""

    op: str
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@dataclass(frozen=True)
class Conditional:
    test: Expr
    then: Expr
    otherwise: Expr
    span: Span


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span
    func_span: Span


@dataclass(frozen=True)
class RecordLiteral:
    members: tuple[Member, ...]
    span: Span


@dataclass(frozen=True)
class Extend:
    """`base { overrides }`: a new record from base with late binding."""

    base: Expr
    body: RecordLiteral
    span: Span


Expr = Union[Number, Quantity, Text, Name, Attribute, Unary, Binary, Conditional, Call,
             RecordLiteral, Extend]

# --- members (statements) --------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """`name = expr` or `name: UNIT = expr`."""

    name: str
    name_span: Span
    unit: UnitExpr | None
    value: Expr
    span: Span


@dataclass(frozen=True)
class Unknown:
    """`name: UNIT`: a quantity with no value, for the solver to find."""

    name: str
    name_span: Span
    unit: UnitExpr
    span: Span


@dataclass(frozen=True)
class RecordInput:
    """`name: record`: a record-valued input that an extension must supply."""

    name: str
    name_span: Span
    span: Span


@dataclass(frozen=True)
class Choice:
    """`name: one of [a, b, c]`."""

    name: str
    name_span: Span
    options: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Require:
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Goal:
    name: str
    name_span: Span
    sense: Literal["maximize", "minimize"]
    expr: Expr
    span: Span


@dataclass(frozen=True)
class Import:
    """`import a.b [as c]`."""

    module: tuple[str, ...]
    alias: str | None
    span: Span


@dataclass(frozen=True)
class FromImport:
    """`from a import x, y`."""

    module: tuple[str, ...]
    names: tuple[tuple[str, Span], ...]
    span: Span


Member = Union[Binding, Unknown, RecordInput, Choice, Require, Goal, Import, FromImport]
NamedMember = Union[Binding, Unknown, RecordInput, Choice]
NAMED_MEMBERS = (Binding, Unknown, RecordInput, Choice)


@dataclass(frozen=True)
class Module:
    path: str
    members: tuple[Member, ...]
