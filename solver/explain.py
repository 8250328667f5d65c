"""Derivation steps: each formula as written, with its numbers substituted, and its result."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import sympy
from sympy.printing.str import StrPrinter

from lang import syntax as ast
from lang.graph import Graph, Node
from lang.resolve import source_text
from lang.units import format_dim
from solver import results
from solver.quantities import convert

_PRECEDENCE = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "^": 8}
_SHOW_OP = {"*": "·", "<=": "<=", ">=": ">=", "!=": "!="}


def value_of(graph: Graph, node: Node | None, value: sympy.Basic | None, unit: str | None = None,
             dim: object = None) -> results.Value:
    """A value as data: the number in its display unit, the text, and the canonical figure."""
    the_dim = node.dim if node is not None else dim
    the_unit = unit if unit is not None else display_unit(node)
    shown = convert(value, the_dim, the_unit, graph.texts)  # type: ignore[arg-type]
    if node is not None and node.is_text:
        return results.Value(value=shown.text, unit="", text=shown.text)
    if isinstance(value, sympy.logic.boolalg.BooleanAtom):
        return results.Value(value=bool(value), unit="", text=shown.text)
    if is_flag(node, graph.nodes) and value is not None and value.is_number and value in (0, 1):
        return results.Value(value=bool(value), unit="", text="true" if value else "false")
    si = _json_number(_float(value), value) if value is not None and value.is_number else None
    number: int | float | None = _json_number(shown.value, shown.exact)
    if number is not None and shown.exact is not None and getattr(shown.exact, "is_Integer", False) \
            and abs(int(shown.exact)) < 2 ** 53:
        number = int(shown.exact)
    return results.Value(value=number, unit=shown.unit, text=shown.text, si_value=si,
                         si_unit=format_dim(the_dim) if the_dim is not None else "")  # type: ignore[arg-type]


def is_flag(node: Node | None, nodes: Mapping[str, Node] | None = None) -> bool:
    """An input written as `true` or `false` (the language stores a flag as 1 or 0), or, given the
    graph's `nodes`, a field that only names one (`shard_lm_head = engine.shard_lm_head`) or, on
    the page, picks one of several by a choice."""
    formula = node.formula if node is not None else None
    if node is None:
        return False
    if node.kind == "input" and isinstance(formula, ast.Number):
        return formula.text in ("true", "false")
    if nodes is None or node.kind != "derived" or any(d not in nodes or d == node.name for d in node.deps):
        return False
    if isinstance(formula, (ast.Name, ast.Attribute)) and len(node.deps) == 1:
        return is_flag(nodes[node.deps[0]], nodes)
    if formula is None:      # the page's widened catalog field: one of the entries' flags, by a choice
        options = [d for d in node.deps if nodes[d].kind != "choice"]
        return bool(options) and all(is_flag(nodes[d], nodes) for d in options)
    return False


def _float(value: sympy.Basic) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _json_number(number: float | None, exact: object) -> float | None:
    """A float JSON can hold that still says what the exact value says: none for a magnitude
    beyond a double (1e1998 is not infinite, 1e-1998 is not zero); `text` carries it then."""
    if number is None or not math.isfinite(number):
        return None
    if number == 0 and exact is not None and getattr(exact, "is_zero", True) is False:
        return None
    return number


def display_unit(node: Node | None) -> str | None:
    """The unit a quantity is shown in: as declared or as its literal was written; a derived
    quantity with no annotation gets a readable unit for its magnitude instead."""
    if node is None:
        return None
    if node.declared or node.kind != "derived" or node.unit == "%":
        return node.unit       # a share computed from shares reads best as one
    return None


def show_formula(expr: ast.Expr, context: str, graph: Graph,
                 values: Mapping[str, sympy.Basic] | None = None, parent: int = 0) -> str:
    """The expression as written; with `values`, each name read is replaced by its value."""
    if values is None:
        return print_formula(expr, context, graph, lambda ref, p: None, parent)

    def value_text(ref: str, p: int) -> str | None:
        if ref not in values:
            return None
        node = graph.nodes[ref]
        text = convert(values[ref], node.dim, display_unit(node), graph.texts).text
        return f"({text})" if p >= 6 and " " in text and "/" in text else text

    return print_formula(expr, context, graph, value_text, parent)


def print_formula(expr: ast.Expr, context: str, graph: Graph,
                  leaf: Callable[[str, int], str | None], parent: int = 0) -> str:
    """The expression as written, each name read (a quantity of the graph) shown as `leaf` says;
    a leaf of None prints the name. `parent` is the precedence around the expression."""
    def again(e: ast.Expr, p: int = 0) -> str:
        return print_formula(e, context, graph, leaf, p)

    if isinstance(expr, (ast.Name, ast.Attribute)):
        ref = graph.refs.get((context, expr.span))
        shown = leaf(ref, parent) if ref is not None else None
        if shown is not None:
            return shown
    if isinstance(expr, ast.Attribute):
        return f"{again(expr.obj, 9)}.{expr.name}"
    if isinstance(expr, ast.Unary):
        inner = again(expr.operand, 7)
        return f"not {inner}" if expr.op == "not" else f"{expr.op}{inner}"
    if isinstance(expr, ast.Binary):
        prec = _PRECEDENCE[expr.op]
        left = again(expr.left, prec + (1 if expr.op == "^" else 0))
        right = again(expr.right, prec + (0 if expr.op == "^" else 1))
        text = f"{left} {_SHOW_OP.get(expr.op, expr.op)} {right}"
        return f"({text})" if parent > prec else text
    if isinstance(expr, ast.Conditional):
        text = f"if {again(expr.test)} then {again(expr.then)} else {again(expr.otherwise)}"
        return f"({text})" if parent else text
    if isinstance(expr, ast.Call):
        return f"{expr.func}({', '.join(again(a) for a in expr.args)})"
    return source_text(expr, parent)


class _NamePrinter(StrPrinter):
    """sympy → the spec's notation: `·` for products, names shortened, values in place."""

    def __init__(self, names: Mapping[sympy.Symbol, str]):
        super().__init__({"order": "none"})
        self.names = names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self.names.get(expr, expr.name)

    def _print_Mul(self, expr: sympy.Mul) -> str:
        return super()._print_Mul(expr).replace("*", " · ")

    def _print_Pow(self, expr: sympy.Pow, rational: bool = False) -> str:
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Rational(self, expr: sympy.Rational) -> str:
        from solver.quantities import format_number

        return format_number(expr)

    def _print_Float(self, expr: sympy.Float) -> str:
        from solver.quantities import format_number

        return format_number(expr)


def print_sympy(expr: sympy.Basic, names: Mapping[sympy.Symbol, str] | None = None) -> str:
    """sympy in the spec's notation; names (or values with units) stand in for symbols."""
    names = dict(names or {})
    # Placeholders keep a value's own `/` (`128 KiB/token`) apart from the formula's.
    slots = {sym: f"\x00{i}\x00" for i, sym in enumerate(names)}
    text = _NamePrinter(slots).doprint(expr)
    text = text.replace("/", " / ").replace("  ", " ")
    for sym, slot in slots.items():
        text = text.replace(slot, names[sym])
    return text


def short_names(graph: Graph, symbols: set[sympy.Symbol], owner: str = "") -> dict[sympy.Symbol, str]:
    """Names relative to a record (`chat.ttft` → `ttft` inside `chat`), unless that would clash."""
    by_symbol = graph.by_symbol()
    out: dict[sympy.Symbol, str] = {}
    for sym in symbols:
        node = by_symbol.get(sym)
        name = node.name if node else sym.name
        if owner and name.startswith(owner + "."):
            name = name[len(owner) + 1:]
        out[sym] = name
    if len(set(out.values())) < len(out):
        return {s: (by_symbol[s].name if s in by_symbol else s.name) for s in symbols}
    return out


def forward_steps(graph: Graph, names: list[str], values: Mapping[str, sympy.Basic],
                  owner: str = "") -> list[results.Step]:
    """A step for each derived quantity in `names` (inputs are shown in the substitutions)."""
    steps = []
    mine = [n for n in names if not owner or n.startswith(owner + ".")]
    read_directly = {d for n in mine for d in graph.nodes[n].deps}
    for name in names:
        node = graph.nodes[name]
        if node.kind != "derived" or node.formula is None:
            continue
        shown = _short(name, owner)
        result = value_of(graph, node, values.get(name)) if name in values else None
        if owner and not name.startswith(owner + ".") and result is not None:
            if name not in read_directly:
                continue        # a catalog's intermediate: its result appears where it is read
            # A catalog's own derived figure (a model's parameter count): its value is what this
            # derivation needs; its formula belongs to the catalog, checked by its own tests.
            steps.append(results.Step(name=shown, formula=result.text, result=result, kind="input"))
            continue
        formula = show_formula(node.formula, name, graph)
        substituted = show_formula(node.formula, name, graph, values) if name in values else ""
        if substituted == formula or isinstance(node.formula, (ast.Name, ast.Attribute, ast.Conditional)):
            substituted = ""   # an alias, or a branch: the result says it all
        steps.append(results.Step(name=shown, formula=formula, substituted=substituted, result=result))
    return steps


def _short(name: str, owner: str) -> str:
    return name[len(owner) + 1:] if owner and name.startswith(owner + ".") else name
