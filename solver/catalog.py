"""`infer list CATALOG`: what a stdlib catalog holds, as an aligned table or JSON.

A catalog is a stdlib module (`stdlib/gpus.infer`, ...). Its entries are the
records it defines; the base records other entries extend (`accelerator`,
`transformer`, `precision`, `interconnect`, `instance`) are templates and are
left out (the table's footer names them). A record that only groups other
records (a cloud provider in `clouds.infer`) is not an entry either: its
records are, and each carries the group's name (`provider` for clouds).

Every value comes from the language itself: the module is built with
`lang.resolve.build_graph` and evaluated with `solver.evaluate.Evaluator`, so
a derived field (`params`, `ridge_point`, `price_per_gpu`) is exactly what a
spec would see. Errors in a catalog surface as `InferError` with the usual
diagnostics.

>>> print(list_catalog("precisions", False).splitlines()[0].split()[:3])
['name', 'label', 'bits']
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sympy

from lang import syntax as ast
from lang.diagnostics import Diagnostic, InferError, SourceMap
from lang.graph import Graph, Node
from lang.parser import parse_module
from lang.resolve import build_graph, stdlib_path
from lang.units import DIMENSIONLESS, TEXT
from solver.evaluate import Evaluator
from solver.explain import value_of
from solver.quantities import convert, format_number

__all__ = ["Catalog", "Entry", "catalog_names", "list_catalog", "load_catalog"]


# --- the catalog as data --------------------------------------------------------------


@dataclass
class Entry:
    """One record of a catalog: its fields (graph nodes) and record-valued references."""

    name: str                                  # path inside the module: `h100_sxm`, `aws.p5_48xlarge`
    base: str | None                           # the template it extends, if any
    group: str = ""                            # the grouping record (`aws`), if any
    fields: dict[str, Node] = field(default_factory=dict)     # field name → node
    refs: dict[str, str] = field(default_factory=dict)        # field name → record it names


@dataclass
class Catalog:
    name: str
    file: Path
    graph: Graph
    values: dict[str, sympy.Basic]
    entries: list[Entry]
    templates: list[str]                       # base records left out of the listing
    groups: dict[str, dict[str, Node]]         # grouping record → its own scalar fields
    linked: dict[str, Catalog] = field(default_factory=dict)   # other catalogs read for a column

    def value(self, entry: Entry, name: str) -> sympy.Basic | None:
        node = entry.fields.get(name)
        return self.values.get(node.name) if node is not None else None


def catalog_names() -> list[str]:
    return sorted(p.stem for p in stdlib_path().glob("*.infer"))


def load_catalog(name: str) -> Catalog:
    """Build, check and evaluate `stdlib/<name>.infer`, and find its entries."""
    file = stdlib_path() / f"{name}.infer"
    if not file.is_file():
        available = ", ".join(catalog_names())
        raise InferError([Diagnostic("E0401", f"no catalog named `{name}`", None,
                                     help=(f"catalogs: {available}",))])
    sources = SourceMap()
    graph = build_graph(file, (), sources)
    module = parse_module(file.read_text(encoding="utf-8"), str(file))
    records = _records(module.members, "")
    bases = {r.base for r in records if r.base}
    paths = {r.path for r in records}
    # A template is a record that another record of the same module extends.
    templates = [r.path for r in records if r.path in bases]
    parents = {r.path.rpartition(".")[0] for r in records if "." in r.path}
    owned: dict[str, dict[str, Node]] = {}
    for node in graph.nodes.values():
        owned.setdefault(node.owner, {})[node.name.rpartition(".")[2]] = node
    entries: list[Entry] = []
    groups: dict[str, dict[str, Node]] = {}
    by_path = {r.path: r for r in records}
    for rec in records:
        if rec.path in templates:
            continue
        if rec.path in parents:
            groups[rec.path] = owned.get(rec.path, {})
            continue
        entry = Entry(rec.path, rec.base, rec.path.rpartition(".")[0],
                      dict(owned.get(rec.path, {})), _refs(rec, by_path, paths, graph))
        entries.append(entry)
    wanted = [n.name for e in entries for n in e.fields.values()]
    wanted += [n.name for g in groups.values() for n in g.values()]
    values = Evaluator(graph).values(only=wanted)
    return Catalog(name, file, graph, values, entries, templates, groups)


@dataclass(frozen=True)
class _Record:
    path: str
    base: str | None
    body: ast.RecordLiteral


def _records(members: tuple[ast.Member, ...] | tuple[object, ...], prefix: str) -> list[_Record]:
    """Every record bound in a module, nested ones included, in source order."""
    out: list[_Record] = []
    for m in members:
        if not isinstance(m, ast.Binding):
            continue
        value = m.value
        path = f"{prefix}.{m.name}" if prefix else m.name
        if isinstance(value, ast.RecordLiteral):
            out.append(_Record(path, None, value))
            out += _records(value.members, path)
        elif isinstance(value, ast.Extend):
            base = _dotted(value.base)
            out.append(_Record(path, base, value.body))
            out += _records(value.body.members, path)
    return out


def _dotted(expr: ast.Expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.name
    if isinstance(expr, ast.Attribute):
        head = _dotted(expr.obj)
        return f"{head}.{expr.name}" if head else None
    return None


def _refs(rec: _Record, by_path: dict[str, _Record], paths: set[str], graph: Graph) -> dict[str, str]:
    """Fields that name another record (`link = interconnects.nvlink4`), own or inherited."""
    out: dict[str, str] = {}
    chain: list[_Record] = []
    seen: set[str] = set()
    current: _Record | None = rec
    while current is not None and current.path not in seen:
        seen.add(current.path)
        chain.append(current)
        base = current.base
        current = by_path.get(base) if base else None
    for layer in reversed(chain):          # the extension's own binding wins
        for m in layer.body.members:
            if isinstance(m, ast.Binding) and f"{rec.path}.{m.name}" not in graph.nodes:
                target = _dotted(m.value)
                if target is not None:
                    out[m.name] = target
    return out


# --- columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Catalog, Entry], str]
    numeric: bool = True


def _field(name: str, unit: str | None = None, bare: bool = True) -> Callable[[Catalog, Entry], str]:
    """A field shown in `unit` (or its own display unit); `bare` drops the unit from the cell."""
    def cell(cat: Catalog, entry: Entry) -> str:
        node = entry.fields.get(name)
        if node is None:
            ref = entry.refs.get(name)
            return ref.rpartition(".")[2] if ref else "-"
        value = cat.values.get(node.name)
        if value is None:
            return "?"
        if node.dim == TEXT:
            return convert(value, node.dim, None, cat.graph.texts).text
        shown = convert(value, node.dim, unit or node.unit)
        if bare and shown.value is not None:
            return format_number(shown.exact if shown.exact is not None else shown.value)
        return shown.text
    return cell


def _ref(name: str) -> Callable[[Catalog, Entry], str]:
    def cell(cat: Catalog, entry: Entry) -> str:
        ref = entry.refs.get(name)
        return ref.rpartition(".")[2] if ref else "-"
    return cell


def _number(value: sympy.Basic | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except TypeError:
        return None


def _billions(name: str) -> Callable[[Catalog, Entry], str]:
    def cell(cat: Catalog, entry: Entry) -> str:
        number = _number(cat.value(entry, name))
        return "?" if number is None else f"{number / 1e9:.2f}"
    return cell


def _int(name: str) -> Callable[[Catalog, Entry], str]:
    def cell(cat: Catalog, entry: Entry) -> str:
        number = _number(cat.value(entry, name))
        if number is None:
            return "?"
        return f"{number:.0f}" if number == int(number) else format_number(number)
    return cell


def kv_bytes_per_token(cat: Catalog, entry: Entry, element_bytes: int = 2) -> sympy.Expr | None:
    """Bytes of KV cache one token adds across all layers (bf16 = 2 B per element)."""
    layers = cat.value(entry, "layers")
    per_layer = cat.value(entry, "kv_elements_per_layer")
    if layers is None or per_layer is None:
        return None
    return sympy.nsimplify(layers * per_layer * element_bytes)


def _kv(cat: Catalog, entry: Entry) -> str:
    value = kv_bytes_per_token(cat, entry)
    if value is None:
        return "?"
    return format_number(sympy.Rational(value) / 1024)


def _heads(cat: Catalog, entry: Entry) -> str:
    heads, kv = _number(cat.value(entry, "heads")), _number(cat.value(entry, "kv_heads"))
    if heads is None:
        return "?"
    if _number(cat.value(entry, "kv_lora_rank")):
        return f"{heads:.0f}/MLA"
    return f"{heads:.0f}/{kv:.0f}" if kv is not None else f"{heads:.0f}"


def _experts(cat: Catalog, entry: Entry) -> str:
    experts = _number(cat.value(entry, "experts")) or 1
    if experts <= 1:
        return "-"
    active = _number(cat.value(entry, "experts_per_token")) or 1
    shared = _number(cat.value(entry, "shared_experts")) or 0
    return f"{experts:.0f}/{active:.0f}" + (f"+{shared:.0f}" if shared else "")


def _window(cat: Catalog, entry: Entry) -> str:
    node = entry.fields.get("sliding_window")
    window = _number(cat.value(entry, "sliding_window"))
    if node is None or not window:
        return "-"
    layers = _number(cat.value(entry, "sliding_layers")) or 0
    total = _number(cat.value(entry, "layers")) or 0
    return f"{window:.0f} x {layers:.0f}/{total:.0f}"


def _context(cat: Catalog, entry: Entry) -> str:
    number = _number(cat.value(entry, "max_context"))
    if number is None:
        return "?"
    return f"{number / 1024:g}k" if number >= 1024 and number % 1024 == 0 else f"{number:.0f}"


def _text(name: str) -> Callable[[Catalog, Entry], str]:
    return _field(name)


def _flag(name: str) -> Callable[[Catalog, Entry], str]:
    """A truth-valued field as yes / no."""
    def cell(cat: Catalog, entry: Entry) -> str:
        value = cat.value(entry, name)
        return "?" if value is None else ("yes" if bool(value) else "no")
    return cell


COLUMNS: dict[str, list[Column]] = {
    "gpus": [
        Column("label", _text("label"), numeric=False),
        Column("memory", _field("memory", bare=False)),
        Column("TB/s", _field("memory_bandwidth", "TB/s")),
        Column("bf16 TFLOPS", _field("bf16_flops", "TFLOPS")),
        Column("fp8 TFLOPS", _field("fp8_flops", "TFLOPS")),
        Column("fp4 TFLOPS", _field("fp4_flops", "TFLOPS")),
        Column("link", _ref("link"), numeric=False),
        Column("link GB/s", lambda c, e: _linked(c, e, "link", "bandwidth")),
        Column("TDP W", _field("tdp", "W")),
        Column("USD/h", _field("price", "USD/hour")),
    ],
    "models": [
        Column("params B", _billions("params")),
        Column("active B", _billions("active_params")),
        Column("layers", _int("layers")),
        Column("hidden", _int("hidden")),
        Column("heads/kv", _heads),
        Column("head_dim", _int("head_dim")),
        Column("experts", _experts),
        Column("KV KiB/token bf16", _kv),
        Column("window x layers", _window),
        Column("context", _context),
    ],
    "precisions": [
        Column("label", _text("label"), numeric=False),
        Column("bits", _int("bits")),
        Column("group", _int("group_size")),
        Column("scale bits", _int("scale_bits")),
        Column("bytes/element", _field("bytes_per_element", "B")),
        Column("compute bits", _int("compute_bits")),
    ],
    "interconnects": [
        Column("label", _text("label"), numeric=False),
        Column("GB/s per direction", _field("bandwidth", "GB/s")),
        Column("GB/s bidirectional", _field("bidirectional", "GB/s")),
        Column("latency us", _field("latency", "us")),
    ],
    "clouds": [
        Column("label", _text("label"), numeric=False),
        Column("gpu", _ref("gpu"), numeric=False),
        Column("GPUs", _int("gpu_count")),
        Column("memory", _field("memory", "GB", bare=False)),
        Column("USD/h", _field("price", "USD/hour")),
        Column("USD/GPU-h", _field("price_per_gpu", "USD/hour")),
    ],
}

COLUMNS["engines"] = [
    Column("label", _text("label"), numeric=False),
    Column("memory share", _field("memory_fraction", "%")),
    Column("of free memory", _flag("kv_share_of_free"), numeric=False),
    Column("KV block", _int("block_size")),
    Column("continuous", _flag("continuous_batching"), numeric=False),
    Column("CUDA graphs", _flag("cuda_graphs"), numeric=False),
    Column("custom AR", _flag("custom_allreduce"), numeric=False),
    Column("max seqs", _int("max_sequences")),
]

NOTES: dict[str, str] = {
    "engines": "memory share: of TOTAL memory (vLLM), of memory free at start (SGLang, per TP size at TP1), "
               "or of memory free after weights (TRT-LLM, LMDeploy: 'of free memory'); KV block in tokens",
    "gpus": "dense tensor throughput (sparse datasheet figures halved); price: reference on-demand USD per GPU-hour",
    "models": "params/active in billions; KV per token across all layers at bf16 (sliding-window layers "
              "stop growing past the window); heads/kv: query/key-value heads",
    "precisions": "bytes/element includes per-group scale overhead",
    "interconnects": "bandwidth per GPU per direction; latency per hop (NCCL's hardware floor)",
    "clouds": "on-demand list prices per instance-hour; see each provider's source and date in clouds.infer",
}


def _linked(cat: Catalog, entry: Entry, ref: str, name: str) -> str:
    """A field of the record another catalog's entry names (`link` → interconnects)."""
    target = entry.refs.get(ref)
    if not target or "." not in target:
        return "-"
    module, _, record = target.rpartition(".")
    other = cat.linked.get(module)
    if other is None:
        try:
            other = cat.linked[module] = load_catalog(module)
        except InferError:
            return "?"
    found = next((e for e in other.entries if e.name == record), None)
    node = found.fields.get(name) if found else None
    value = other.values.get(node.name) if node else None
    if node is None or value is None:
        return "?"
    shown = convert(value, node.dim, node.unit)
    return format_number(shown.exact if shown.exact is not None else shown.value)


def _generic_columns(cat: Catalog) -> list[Column]:
    names: dict[str, None] = {}
    for entry in cat.entries:
        names.update(dict.fromkeys(entry.fields))
        names.update(dict.fromkeys(entry.refs))
    return [Column(n, _field(n, bare=False), numeric=n not in ("label", "source")) for n in names]


# --- rendering ------------------------------------------------------------------------------


def render_table(cat: Catalog) -> str:
    columns = [Column("name", lambda c, e: e.name, numeric=False)]
    columns += COLUMNS.get(cat.name) or _generic_columns(cat)
    rows = [[col.cell(cat, e) for col in columns] for e in cat.entries]
    widths = [max([len(col.header)] + [len(r[i]) for r in rows]) for i, col in enumerate(columns)]

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if col.numeric else c.ljust(w) for c, w, col in zip(cells, widths, columns)]
        return "  ".join(parts).rstrip()

    out = [line([c.header for c in columns]), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    count = f"{len(cat.entries)} {cat.name}"
    if cat.groups:
        count = f"{len(cat.entries)} entries in {len(cat.groups)} groups ({', '.join(cat.groups)})"
        if cat.name == "clouds":
            count = f"{len(cat.entries)} instance shapes from {len(cat.groups)} providers"
    footer = [count]
    if cat.templates:
        base = ", ".join(f"`{t}`" for t in cat.templates)
        footer.append(f"base record{'s' if len(cat.templates) > 1 else ''} {base} (extend it to add an entry)")
    note = NOTES.get(cat.name)
    out.append("")
    out.append("; ".join(footer) + ".")
    if note:
        out.append(f"{note[0].upper()}{note[1:]}.")
    out.append(f"Source: {cat.file.name} in the stdlib; `infer list {cat.name} --json` gives every field.")
    return "\n".join(out)


def _json_value(cat: Catalog, node: Node) -> object:
    value = cat.values.get(node.name)
    if node.dim == TEXT:
        return convert(value, node.dim, None, cat.graph.texts).text if value is not None else None
    if value is None:
        return {"value": None, "unit": node.unit or "", "text": "?"}
    v = value_of(cat.graph, node, value)
    unit = v.unit if node.dim != DIMENSIONLESS else ""
    return {"value": v.value, "unit": unit, "text": v.text}


def render_json(cat: Catalog) -> str:
    out = []
    for entry in cat.entries:
        obj: dict[str, object] = {"name": entry.name}
        if entry.base:
            obj["base"] = entry.base
        if entry.group:
            key = "provider" if cat.name == "clouds" else "group"
            obj[key] = entry.group
            group = cat.groups.get(entry.group, {})
            for fname, node in group.items():
                if node.dim == TEXT:
                    obj[f"{key}_{fname}"] = _json_value(cat, node)
        for fname, node in entry.fields.items():
            if fname not in obj:
                obj[fname] = _json_value(cat, node)
        for fname, target in entry.refs.items():
            obj.setdefault(fname, target)
        if cat.name == "models":
            kv = kv_bytes_per_token(cat, entry)
            if kv is not None:
                obj.setdefault("kv_bytes_per_token_bf16", {"value": int(kv) if kv.is_Integer else float(kv),
                                                           "unit": "B/token", "text": f"{kv} B/token"})
        out.append(obj)
    return json.dumps(out, indent=2)


def list_catalog(name: str, as_json: bool = False) -> str:
    """The entries of `stdlib/<name>.infer`: an aligned table, or a JSON array of objects."""
    cat = load_catalog(name)
    return render_json(cat) if as_json else render_table(cat)
