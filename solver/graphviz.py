"""The quantity graph as Graphviz `dot` or Mermaid text: `infer graph SPEC [--format dot|mermaid]`.

Only the root spec's quantities are drawn, with what they read. Everything a
catalog holds collapses to one node per record (`models.llama_3_1_70b`), and
the fields of a choice of records (`svc.gpu.memory`) fold into the choice, so
the picture stays readable. Shapes and colours tell the kinds apart:

=============  ==============================  ==========================
kind           dot                             mermaid
=============  ==============================  ==========================
input          grey box                        rectangle
derived        white rounded box               rounded rectangle
unknown        gold box, double border         hexagon
choice         orange diamond                  rhombus
catalog record blue folder                     cylinder
requirement    red octagon                     flag
goal           green house                     stadium
=============  ==============================  ==========================

Records of the root spec (`chat = serving.deployment { ... }`) become
clusters (`subgraph`), and their fields show their short names.

>>> from pathlib import Path
>>> from solver.api import Spec
>>> spec = Spec.load(Path(__file__).parent.parent / "specs" / "kv-budget.infer")
>>> print(render_graph(spec.graph, "mermaid").splitlines()[0])
flowchart LR
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lang.graph import Graph, Node
from lang.units import BOOL, DIMENSIONLESS, TEXT, format_dim

__all__ = ["collapse", "render_graph"]


@dataclass
class _Vertex:
    key: str                 # the full name (or `require#N`, `goal NAME`)
    kind: str                # input, derived, unknown, choice, record, requirement, goal
    label: str               # first line: the short name (or the requirement's text)
    unit: str = ""           # second line
    cluster: str = ""        # the root record it is drawn inside


@dataclass
class Picture:
    """What is drawn: vertices in order, and edges between their keys."""

    vertices: dict[str, _Vertex] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def add_edge(self, src: str, dst: str) -> None:
        if src != dst and (src, dst) not in self._seen:
            self._seen.add((src, dst))
            self.edges.append((src, dst))

    def __post_init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()


def _unit(node: Node) -> str:
    if node.dim == TEXT:
        return "text"
    if node.dim == BOOL:
        return "bool"
    if node.kind == "choice":
        return "one of " + str(len(node.options))
    if node.unit:
        return node.unit
    if node.dim is None or node.dim == DIMENSIONLESS:
        return ""
    return format_dim(node.dim)


def collapse(graph: Graph) -> Picture:
    """The root spec's quantities and what they read, catalog records folded to one vertex each."""
    nodes = graph.nodes
    roots = list(graph.root_names)
    prefixes = {n.split(".")[0] for n in roots}
    # Choices of the root spec (`svc.gpu: one of [...]`) are drawn even when not root names.
    choices = [n for n, node in nodes.items() if node.kind == "choice" and n.split(".")[0] in prefixes
               and n not in roots]
    roots += choices
    root_set = set(roots)
    choice_set = {n for n in root_set if nodes[n].kind == "choice"}

    def home(name: str) -> str:
        """The vertex a node is drawn as: itself, its choice, or its catalog record."""
        if name in root_set:
            return name
        for c in choice_set:                 # a field of a choice of records → the choice
            if name.startswith(c + "."):
                return c
        node = nodes.get(name)
        if node is None:
            return name
        if name.split(".")[0] in prefixes:   # an intermediate of a root record: drawn itself
            return name
        if node.owner:
            return node.owner
        return name.rsplit(".", 1)[0] if "." in name else name

    pic = Picture()

    def cluster_of(name: str) -> str:
        return name.split(".")[0] if "." in name else ""

    def short(name: str) -> str:
        cluster = cluster_of(name)
        return name[len(cluster) + 1:] if cluster else name

    def vertex(name: str) -> str:
        key = home(name)
        if key in pic.vertices:
            return key
        node = nodes.get(key)
        if node is not None and (key in root_set or key == name):
            pic.vertices[key] = _Vertex(key, node.kind, short(key), _unit(node), cluster_of(key))
        else:
            pic.vertices[key] = _Vertex(key, "record", key)
        return key

    pending = list(roots)
    done: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in done:
            continue
        done.add(name)
        dst = vertex(name)
        node = nodes[name]
        deps = list(node.deps)
        if node.kind == "choice":
            # what the choice's record fields read: the options' records
            deps = [d for n in nodes if n.startswith(name + ".") for d in nodes[n].deps]
            for o in node.options:
                if "." in o.label:
                    pic.add_edge(vertex_record(pic, o.label), dst)
        for dep in deps:
            src = vertex(dep)
            pic.add_edge(src, dst)
            if pic.vertices[src].kind != "record" and dep not in done and home(dep) == dep:
                pending.append(dep)
    for i, r in enumerate(graph.requirements):
        key = f"require#{i + 1}"
        pic.vertices[key] = _Vertex(key, "requirement", f"require {r.text}", "",
                                    r.owner.split(".")[0] if r.owner else "")
        for dep in r.deps:
            pic.add_edge(vertex(dep), key)
    for g in graph.goals:
        key = f"goal {g.name}"
        pic.vertices[key] = _Vertex(key, "goal", f"{g.name}: {g.sense} {g.text}", g.unit or "")
        for dep in g.deps:
            pic.add_edge(vertex(dep), key)
    return pic


def vertex_record(pic: Picture, label: str) -> str:
    if label not in pic.vertices:
        pic.vertices[label] = _Vertex(label, "record", label)
    return label


# --- dot ----------------------------------------------------------------------------------

_DOT_STYLE = {
    "input": 'shape=box, style="filled", fillcolor="#e8e8e8"',
    "derived": 'shape=box, style="rounded"',
    "unknown": 'shape=box, style="filled,bold", peripheries=2, fillcolor="#ffe08a"',
    "choice": 'shape=diamond, style="filled", fillcolor="#ffc285"',
    "record": 'shape=folder, style="filled", fillcolor="#d7e6f7"',
    "requirement": 'shape=octagon, style="filled", fillcolor="#f6b3b3"',
    "goal": 'shape=house, style="filled", fillcolor="#b9e4b3"',
}


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(pic: Picture, title: str) -> str:
    out = [f"digraph {_dot_quote(title)} {{",
           "  rankdir=LR;",
           '  node [fontname="Helvetica", fontsize=10];',
           '  edge [color="#777777", arrowsize=0.6];']
    clusters: dict[str, list[_Vertex]] = {}
    for v in pic.vertices.values():
        clusters.setdefault(v.cluster, []).append(v)

    def line(v: _Vertex, indent: str) -> str:
        label = v.label + (f"\\n{v.unit}" if v.unit else "")
        quoted = '"' + label.replace('"', '\\"') + '"'
        return f"{indent}{_dot_quote(v.key)} [label={quoted}, {_DOT_STYLE[v.kind]}];"

    for v in clusters.pop("", []):
        out.append(line(v, "  "))
    for name, members in clusters.items():
        out.append(f"  subgraph {_dot_quote('cluster_' + name)} {{")
        out.append(f"    label={_dot_quote(name)}; style=rounded; color=\"#999999\";")
        out.extend(line(v, "    ") for v in members)
        out.append("  }")
    out.extend(f"  {_dot_quote(a)} -> {_dot_quote(b)};" for a, b in pic.edges)
    out.append("}")
    return "\n".join(out)


# --- mermaid ------------------------------------------------------------------------------

_MERMAID_SHAPE = {
    "input": ('["', '"]'),
    "derived": ('("', '")'),
    "unknown": ('{{"', '"}}'),
    "choice": ('{"', '"}'),
    "record": ('[("', '")]'),
    "requirement": ('>"', '"]'),
    "goal": ('(["', '"])'),
}
_MERMAID_CLASS = {
    "input": "fill:#e8e8e8,stroke:#666",
    "derived": "fill:#ffffff,stroke:#666",
    "unknown": "fill:#ffe08a,stroke:#a07800,stroke-width:2px",
    "choice": "fill:#ffc285,stroke:#a05a00",
    "record": "fill:#d7e6f7,stroke:#4a6f99",
    "requirement": "fill:#f6b3b3,stroke:#a33",
    "goal": "fill:#b9e4b3,stroke:#3a7a33",
}


def _mermaid_text(text: str) -> str:
    for a, b in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(a, b)
    return text


def _mermaid(pic: Picture) -> str:
    ids: dict[str, str] = {}
    used: set[str] = set()
    for key in pic.vertices:
        base = "n_" + re.sub(r"\W+", "_", key).strip("_")
        ident, k = base, 2
        while ident in used:
            ident, k = f"{base}_{k}", k + 1
        used.add(ident)
        ids[key] = ident
    out = ["flowchart LR"]

    def line(v: _Vertex, indent: str) -> str:
        left, right = _MERMAID_SHAPE[v.kind]
        label = _mermaid_text(v.label) + (f"<br/>{_mermaid_text(v.unit)}" if v.unit else "")
        return f"{indent}{ids[v.key]}{left}{label}{right}"

    clusters: dict[str, list[_Vertex]] = {}
    for v in pic.vertices.values():
        clusters.setdefault(v.cluster, []).append(v)
    for v in clusters.pop("", []):
        out.append(line(v, "  "))
    for name, members in clusters.items():
        out.append(f"  subgraph {'c_' + re.sub(r'[^A-Za-z0-9_]+', '_', name)} [\"{_mermaid_text(name)}\"]")
        out.extend(line(v, "    ") for v in members)
        out.append("  end")
    out.extend(f"  {ids[a]} --> {ids[b]}" for a, b in pic.edges)
    for kind, style in _MERMAID_CLASS.items():
        idents = [ids[v.key] for v in pic.vertices.values() if v.kind == kind]
        if idents:
            out.append(f"  classDef {kind} {style}")
            out.append(f"  class {','.join(idents)} {kind}")
    return "\n".join(out)


def render_graph(graph: Graph, fmt: str = "dot") -> str:
    """The root spec's quantity graph as Graphviz `dot` or Mermaid `flowchart` text."""
    pic = collapse(graph)
    if fmt == "mermaid":
        return _mermaid(pic)
    if fmt != "dot":
        raise ValueError(f"unknown graph format `{fmt}`: dot or mermaid")
    title = re.sub(r"\.infer$", "", graph.path.rsplit("/", 1)[-1]) if graph.path else "infer"
    return _dot(pic, title)
