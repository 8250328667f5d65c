"""`infer page`: a spec as one self-contained, offline HTML calculator.

The method:

1. a record field the spec binds to a catalog entry (`gpu = gpus.h100_sxm`) is
   widened to a choice over every entry of that catalog with the same base, so
   the page can offer every GPU, model and precision; the widened copy of the
   spec is built like any other (a choice is a `Piecewise` over its options);
2. every node's sympy formula is compiled once to JavaScript by sympy's
   JavaScript code printer, names becoming slots of one Float64Array, in
   topological order: the page recomputes the whole graph on every change;
3. display units, ladders and factors come from `solver.quantities`, so the page
   shows numbers exactly as `infer eval` does; goals are solved in the page as
   `solver.optimize` does (enumerate choices, grid then bisection on the margins);
4. the data, the compiled graph, `page.js` and `page.css` are inlined into
   `page.html`: no network request, opens from `file://`.

A widened choice is held at its select's value when a goal is solved, so the
page answers what `infer solve SPEC --set chat.gpu=gpus.a100_80gb_sxm` answers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from lang import syntax as ast
from lang.diagnostics import InferError, SourceMap
from lang.graph import Graph, Node
from lang.parser import parse_module
from lang.resolve import build_graph, stdlib_path
from lang.units import BOOL, TEXT, Dim, format_dim
from solver.evaluate import Evaluator
from solver.explain import display_unit, is_flag, show_formula
from solver.optimize import GRID_POINTS, WHOLE_MAX, X_MAX, X_MIN, _split
from solver.quantities import _LADDERS, unit_factor

HERE = Path(__file__).resolve().parent
CATALOGS = ("gpus", "models", "precisions", "interconnects", "clouds", "engines")


def default_spec() -> Path:
    """The calculator `infer page` builds with no spec: specs/calculator.infer (shipped in the wheel)."""
    for base in (stdlib_path().parent / "specs", HERE.parent / "specs"):
        if (base / "calculator.infer").is_file():
            return base / "calculator.infer"
    return HERE.parent / "specs" / "calculator.infer"


# --- 1. widening catalog records to choices ---------------------------------------------


@dataclass(frozen=True)
class Widened:
    """A field bound to a catalog entry, offered as a choice over the catalog."""

    path: str            # `chat.gpu`
    module: str          # `gpus`
    entries: tuple[str, ...]
    current: str         # the entry the spec names


def _catalog_entries(module: str) -> dict[str, str | None]:
    """Entry → base record, for a stdlib catalog (templates and grouping records left out)."""
    from solver.catalog import _records

    file = stdlib_path() / f"{module}.infer"
    if not file.is_file():
        return {}
    records = _records(parse_module(file.read_text(encoding="utf-8"), str(file)).members, "")
    bases = {r.base for r in records if r.base}
    parents = {r.path.rpartition(".")[0] for r in records if "." in r.path}
    return {r.path: r.base for r in records if r.path not in bases and r.path not in parents}


def _offset(text: str, line: int, column: int) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[:line - 1]) + column - 1


def _options_of_choices(members: tuple[ast.Member, ...]) -> set[str]:
    """Records the spec lists in a `one of [...]`: a choice cannot have choices in its options."""
    named: set[str] = set()
    for m in members:
        if isinstance(m, ast.Choice):
            named |= {o.name for o in m.options if isinstance(o, ast.Name)}
        elif isinstance(m, ast.Binding) and isinstance(m.value, (ast.Extend, ast.RecordLiteral)):
            body = m.value.body if isinstance(m.value, ast.Extend) else m.value
            named |= _options_of_choices(body.members)
    return named


def widen(path: Path) -> tuple[str, list[Widened]]:
    """The spec's text with catalog-bound fields of its top-level records turned into choices."""
    text = path.read_text(encoding="utf-8")
    module = parse_module(text, str(path))
    listed = _options_of_choices(module.members)
    imported: dict[str, str] = {}             # a name the spec imported with `from m import x` → m
    plain: set[str] = set()                   # modules imported whole, by name
    for m in module.members:
        if isinstance(m, ast.FromImport) and len(m.module) == 1:
            imported.update({name: m.module[0] for name, _ in m.names})
        elif isinstance(m, ast.Import) and len(m.module) == 1 and m.alias is None:
            plain.add(m.module[0])
    edits: list[tuple[int, int, str]] = []
    widened: list[Widened] = []
    catalogs: dict[str, dict[str, str | None]] = {}
    for m in module.members:
        if not isinstance(m, ast.Binding) or not isinstance(m.value, (ast.Extend, ast.RecordLiteral)) \
                or m.name in listed:
            continue
        body = m.value.body if isinstance(m.value, ast.Extend) else m.value
        for f in body.members:
            if not isinstance(f, ast.Binding) or f.unit is not None:
                continue
            value = f.value
            if isinstance(value, ast.Attribute) and isinstance(value.obj, ast.Name) and value.obj.name in plain:
                mod, entry = value.obj.name, value.name
            elif isinstance(value, ast.Name) and value.name in imported:
                mod, entry = imported[value.name], value.name
            else:
                continue
            if mod not in CATALOGS:
                continue
            entries = catalogs.setdefault(mod, _catalog_entries(mod))
            if entry not in entries:
                continue
            same = tuple(e for e, base in entries.items() if base == entries[entry])
            if len(same) < 2:
                continue
            start = _offset(text, f.name_span.line, f.name_span.column)
            end = _offset(text, value.span.end_line, value.span.end_column)
            options = ", ".join(f"{mod}.{e}" for e in same)
            edits.append((start, end, f"{f.name}: one of [{options}]"))
            widened.append(Widened(f"{m.name}.{f.name}", mod, same, entry))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    needed = sorted({w.module for w in widened} - plain)
    return "".join(f"import {mod}\n" for mod in needed) + text, widened


def load_widened(path: Path) -> tuple[Graph, list[Widened]]:
    """The spec's graph with catalog fields widened (or as written, where widening is refused)."""
    if not path.is_file():
        return build_graph(path, (), SourceMap()), []    # E0400, as every command reports it
    text, widened = widen(path)
    if not widened:
        return build_graph(path, (), SourceMap()), []
    with tempfile.TemporaryDirectory(prefix="infer-page-") as tmp:
        for sibling in path.resolve().parent.glob("*.infer"):    # local imports resolve as before
            shutil.copy(sibling, Path(tmp) / sibling.name)
        copy = Path(tmp) / path.name
        copy.write_text(text, encoding="utf-8")
        try:
            graph = build_graph(copy, (), SourceMap())
        except InferError:
            # The spec's own errors, at its own lines (or, if it has none, the page without selects).
            return build_graph(path, (), SourceMap()), []
    graph.path = str(path)
    return graph, widened


# --- 2. formulas to JavaScript ------------------------------------------------------------


class _Printer(JavascriptCodePrinter):
    """sympy's JavaScript printer, names read from the slots of `v`, truth values as JS booleans."""

    def __init__(self, slots: dict[sympy.Symbol, int]):
        super().__init__()
        self.slots = slots

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return f"v[{self.slots[expr]}]"

    def _print_BooleanTrue(self, expr: object) -> str:
        return "true"

    def _print_BooleanFalse(self, expr: object) -> str:
        return "false"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return repr(float(expr))

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return repr(float(expr)) if abs(int(expr)) >= 2 ** 53 else str(int(expr))

    def _print_Float(self, expr: sympy.Float) -> str:
        return repr(float(expr))

    def _print_NaN(self, expr: object) -> str:
        return "NaN"

    def _print_ComplexInfinity(self, expr: object) -> str:
        return "NaN"


def to_js(expr: sympy.Basic, slots: dict[sympy.Symbol, int]) -> str:
    """One formula as a JavaScript expression over `v`.

    >>> x, y = sympy.symbols("x y", real=True)
    >>> to_js(sympy.Piecewise((sympy.Max(x, 1), x > y), (sympy.floor(y / 3), True)), {x: 0, y: 1})
    '((v[0] > v[1]) ? (Math.max(1, v[0])) : (Math.floor((0.3333333333333333)*v[1])))'
    """
    text = _Printer(slots).doprint(expr)
    return " ".join(line.strip() for line in text.splitlines()).replace("( ", "(").replace(" )", ")")


# --- 3. the page model ---------------------------------------------------------------------


def _dim_key(dim: Dim | None) -> str | None:
    return None if dim is None else format_dim(dim)


def _factor(unit: str | None, dim: Dim | None) -> float | None:
    """The factor of a display unit, when it names a unit of the quantity's dimension."""
    if not unit:
        return None
    found = unit_factor(unit)
    if found is None or (dim is not None and found[1] != dim):
        return None
    return float(found[0])


def _ladders(dims: set[str]) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = {}
    for key in dims:
        ladder = _LADDERS.get(key)
        if ladder:
            out[key] = [(u, float(f[0])) for u in ladder if (f := unit_factor(u)) is not None]
        else:
            found = unit_factor(key) if key not in ("", "count") else None
            out[key] = [(key if key != "count" else "", float(found[0]) if found else 1.0)]
    return out


def _slider(node: Node, value: float, factor: float) -> dict[str, object]:
    """A range for a numeric input, in its display unit: a log scale around the spec's value."""
    shown = value / factor
    whole = node.dim is not None and format_dim(node.dim) in ("count", "token", "request") and \
        float(shown).is_integer()
    if node.unit == "%":
        return {"scale": "lin", "min": 0, "max": 100, "whole": False}
    if shown > 0:
        lo, hi = shown / 64, shown * 64
        if whole:
            lo = max(1.0, lo)
        return {"scale": "log", "min": lo, "max": hi, "whole": whole}
    return {"scale": "lin", "min": 2 * min(shown, 0), "max": max(shown, 0) + 10, "whole": whole}


def _template(node: Node, graph: Graph, slots: dict[str, int]) -> str:
    """The formula as written with each name read replaced by `@slot@`, filled in by the page.

    A truth value keeps its name: `show_formula` prints any non-number it is given as `true`.
    """
    assert node.formula is not None

    class _Marks(dict):  # type: ignore[type-arg]
        def __contains__(self, key: object) -> bool:
            return key in slots and graph.nodes[str(key)].dim != BOOL

        def __getitem__(self, key: str) -> sympy.Basic:
            return sympy.Symbol(f"@{slots[key]}@")

    return show_formula(node.formula, node.name, graph, _Marks())


def _widened_nodes(graph: Graph, widened: list[Widened]) -> dict[str, Widened]:
    """Every choice node a widening made: the field itself, and its copies in records extending it."""
    by_field: dict[tuple[str, tuple[str, ...]], list[Widened]] = {}
    for w in widened:
        key = (w.path.rpartition(".")[2], tuple(f"{w.module}.{e}" for e in w.entries))
        by_field.setdefault(key, []).append(w)
    out = {}
    for node in graph.nodes.values():
        found = by_field.get((node.name.rpartition(".")[2], tuple(o.label for o in node.options)))
        if node.kind == "choice" and found:
            out[node.name] = next((w for w in found if w.path == node.name), found[0])
    return out


def page_model(graph: Graph, widened: list[Widened], title: str) -> dict[str, object]:
    """Everything the page needs, as JSON-ready data plus the compiled graph."""
    order = graph.upstream(list(graph.nodes))
    slots = {name: i for i, name in enumerate(order)}
    sym_slots = {graph.nodes[n].symbol: i for n, i in slots.items()}
    wide = _widened_nodes(graph, widened)
    owners = {graph.nodes[n].owner for n in graph.root_names} | {""}     # "": the spec's top level
    nodes = []
    dims: set[str] = set()
    body: dict[int, str] = {}
    for name in order:
        node = graph.nodes[name]
        key = _dim_key(node.dim)
        if key is not None:
            dims.add(key)
        unit = display_unit(node)
        entry: dict[str, object] = {
            "name": name, "kind": node.kind, "dim": key, "unit": unit, "factor": _factor(unit, node.dim),
            "text": node.dim == TEXT, "bool": node.dim == BOOL or is_flag(node, graph.nodes),
            "owner": node.owner if node.owner in owners else None,
            "root": name in graph.root_names or (node.kind == "choice" and node.owner in owners),
            "deps": [slots[d] for d in node.deps],
            "whole": node.whole, "own": Path(node.span.file).name == Path(graph.path).name,
        }
        if node.kind == "input" and node.expr is not None:
            entry["value"] = float(node.expr) if node.expr.is_number else 0.0
        if node.kind == "derived" and node.expr is not None:
            body[slots[name]] = to_js(node.expr, sym_slots)
            if node.formula is not None and node.owner in owners:     # derivations of the spec's records
                entry["formula"] = show_formula(node.formula, name, graph)
                entry["template"] = _template(node, graph, slots)
        if node.kind == "choice":
            entry["options"] = [o.label for o in node.options]
            entry["values"] = [float(o.value) for o in node.options]
            if name in wide:
                entry["widened"] = True
                entry["value"] = float(node.options[list(wide[name].entries).index(wide[name].current)].value)
            else:
                entry["value"] = float(node.options[0].value)
        if node.kind == "input" and name in graph.root_names and entry.get("value") is not None \
                and not entry["text"] and not entry["bool"]:
            factor = entry["factor"] or 1.0
            entry["slider"] = _slider(node, float(entry["value"]), float(factor))  # type: ignore[arg-type]
        if node.kind == "input" and node.owner not in owners:
            del entry["name"]          # a catalog's figure: read through its record's choice, never named
        # Defaults left out (the page reads a missing key as false): the catalogs hold ~1,800 nodes.
        nodes.append({k: x for k, x in entry.items() if x is not None and x is not False and x != [] and x != ""})
    requirements = []
    for r in graph.requirements:
        parts = _split(r.expr)
        req: dict[str, object] = {"text": r.text, "owner": r.owner, "deps": [slots[d] for d in r.deps],
                                  "truth": to_js(r.expr, sym_slots)}
        if parts is not None:
            lhs, rhs, sense, strict = parts
            unit, dim = r.side_unit, r.side_dim
            if dim is None:
                single = next((graph.nodes[str(s)] for s in (lhs, rhs) if isinstance(s, sympy.Symbol)
                               and str(s) in graph.nodes), None)
                unit = single.unit if single else None
                dim = single.dim if single else None
            key = _dim_key(dim)
            if key is not None:
                dims.add(key)
            if isinstance(lhs, sympy.Symbol) and str(lhs) in slots:
                req["side"] = slots[str(lhs)]      # the quantity the requirement limits
                if not rhs.free_symbols:
                    req["node"] = slots[str(lhs)]  # `itl <= 50 ms`: a line on the charts
            req.update({"lhs": to_js(lhs, sym_slots), "rhs": to_js(rhs, sym_slots), "sense": sense,
                        "strict": strict, "unit": unit, "dim": key, "factor": _factor(unit, dim)})
        requirements.append(req)
    goals = []
    free_of = Evaluator(graph).free_of
    for g in graph.goals:
        # The goal's scope as GoalSolver.solve draws it, with widened fields held at their selects.
        goal_free = {n for n in free_of(g.deps) if n not in wide}
        scope = [i for i, r in enumerate(graph.requirements)
                 if not (r_free := {n for n in free_of(r.deps) if n not in wide}) or r_free & goal_free
                 or not goal_free]
        deps = list(g.deps) + [d for i in scope for d in graph.requirements[i].deps]
        free = [n for n in free_of(deps) if n not in wide]
        key = _dim_key(g.dim)
        target = graph.nodes.get(g.target) if g.target else None
        if key is not None:
            dims.add(key)
        goals.append({"name": g.name, "sense": g.sense, "text": g.text, "objective": to_js(g.expr, sym_slots),
                      "scope": scope, "choices": [slots[n] for n in free if graph.nodes[n].kind == "choice"],
                      "unknowns": [slots[n] for n in free if graph.nodes[n].kind == "unknown"],
                      "deps": [slots[d] for d in g.deps], "target": slots[g.target] if g.target else None,
                      "unit": display_unit(target) if target else g.unit, "dim": key,
                      "factor": _factor(display_unit(target) if target else g.unit, g.dim)})
    return {
        "title": title, "spec": graph.path, "texts": graph.texts, "nodes": nodes,
        "requirements": requirements, "goals": goals, "ladders": _ladders(dims),
        "grid": {"points": GRID_POINTS, "whole_max": WHOLE_MAX, "x_min": X_MIN, "x_max": X_MAX},
        # Slot → formula, in topological order: the page compiles the whole graph and, per goal,
        # only what its unknown moves.
        "js": "const FORMULA = {\n" + ",\n".join(f"{k}: {json.dumps(x)}" for k, x in body.items()) + "\n};",
    }


# --- 4. the file ---------------------------------------------------------------------------


def _title(path: Path) -> str:
    """The first paragraph of the spec's opening comment: the question it answers."""
    lines: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#") or (lines and not line.strip("# ")):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(lines) or path.stem


def render_page(model: dict[str, object]) -> str:
    html = (HERE / "page.html").read_text(encoding="utf-8")
    script = "\n".join((HERE / name).read_text(encoding="utf-8") for name in ("page.js", "page_charts.js"))
    style = (HERE / "page.css").read_text(encoding="utf-8")
    compiled = str(model.pop("js"))
    data = json.dumps(model, separators=(",", ":")).replace("</", "<\\/")
    title = str(model["title"]).replace("&", "&amp;").replace("<", "&lt;")
    return (html.replace("/*STYLE*/", style).replace("__TITLE__", title)
            .replace("/*DATA*/", f"const PAGE = {data};\n{compiled}\n").replace("/*SCRIPT*/", script))


def build_page(spec: Path | None) -> tuple[str, Path]:
    """The page's HTML for a spec (or the stdlib calculator), and the spec it was made from."""
    path = spec if spec is not None else default_spec()
    graph, widened = load_widened(path)
    model = page_model(graph, widened, _title(path))
    model["spec"] = path.name
    return render_page(model), path
