"""The quantity graph: what the language hands the solver.

One node per fully qualified scalar quantity (`chat.ttft`,
`models.llama_3_1_70b.layers`), each holding a sympy formula over the symbols
of the quantities it reads, in canonical units (see lang.units). Edges point
from an input to the quantities that read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from lang import syntax as ast
from lang.diagnostics import Diagnostic, SourceMap, Span
from lang.units import TEXT, Dim

if TYPE_CHECKING:
    import networkx as nx
    import sympy

NodeKind = Literal["input", "derived", "unknown", "choice"]


@dataclass(frozen=True)
class Option:
    """One alternative of a `one of [...]` choice: its label and the value the symbol takes."""

    label: str
    value: sympy.Expr


@dataclass(frozen=True)
class Node:
    name: str
    kind: NodeKind
    symbol: sympy.Symbol
    expr: sympy.Expr | None          # None for unknowns and choices
    dim: Dim | None                  # None only where an error was already reported
    unit: str | None                 # display unit: the annotation, or the literal's unit
    declared: bool                   # the unit comes from an annotation
    span: Span
    formula: ast.Expr | None         # the expression as written, for derivations
    deps: tuple[str, ...]
    whole: bool = False              # counted in count/token/request: whole when chosen
    options: tuple[Option, ...] = ()
    owner: str = ""                  # the record the quantity belongs to

    @property
    def is_text(self) -> bool:
        return self.dim == TEXT


@dataclass(frozen=True)
class Requirement:
    text: str                        # as written, with the owner's prefix for display
    expr: sympy.Basic                # a relational (or and/or/not of them)
    span: Span
    owner: str
    deps: tuple[str, ...]
    formula: ast.Expr
    side_dim: Dim | None = None       # the dimension both sides of the comparison share
    side_unit: str | None = None      # the unit a side was written in, for showing margins


@dataclass(frozen=True)
class GoalDef:
    name: str
    sense: Literal["maximize", "minimize"]
    expr: sympy.Expr
    dim: Dim | None
    unit: str | None
    text: str
    target: str | None               # the node named, when the goal is a single quantity
    span: Span
    deps: tuple[str, ...]


@dataclass
class Graph:
    nodes: dict[str, Node]
    requirements: list[Requirement]
    goals: list[GoalDef]
    texts: list[str]                 # text values are coded as their index here
    root_names: list[str]            # nodes of the root spec, in source order
    warnings: list[Diagnostic]
    sources: SourceMap
    missing: dict[str, str] = field(default_factory=dict)   # root field → record input it needs
    path: str = ""
    # (context, span of a name in a formula) → the node it read. The context is
    # the node being defined, or `require@SPAN` / `goal@SPAN`.
    refs: dict[tuple[str, Span], str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)   # every file read, for caches

    def ref_context(self, requirement: Requirement) -> str:
        return f"require@{requirement.owner}@{requirement.span}"

    def digraph(self) -> nx.DiGraph:
        import networkx as nx

        g = nx.DiGraph()
        for node in self.nodes.values():
            g.add_node(node.name, kind=node.kind)
            for dep in node.deps:
                g.add_edge(dep, node.name)
        return g

    def symbol(self, name: str) -> sympy.Symbol:
        return self.nodes[name].symbol

    def by_symbol(self) -> dict[sympy.Symbol, Node]:
        return {n.symbol: n for n in self.nodes.values()}

    def upstream(self, names: list[str] | tuple[str, ...]) -> list[str]:
        """Every node the given ones depend on (themselves included), inputs first."""
        seen: dict[str, None] = {}
        order: list[str] = []

        def visit(start: str) -> None:
            stack: list[tuple[str, bool]] = [(start, False)]
            while stack:
                name, done = stack.pop()
                if done:
                    order.append(name)
                    continue
                if name in seen:
                    continue
                seen[name] = None
                stack.append((name, True))
                for dep in reversed(self.nodes[name].deps):
                    if dep not in seen:
                        stack.append((dep, False))

        for n in names:
            visit(n)
        return order

    def text_of(self, code: int) -> str:
        return self.texts[code] if 0 <= code < len(self.texts) else f"<text {code}>"
