"""`infer sweep` from the spec's compiled form: new `--vary` values without sympy, lark or pint.

Method: a sweep's columns are sympy formulas composed down to the varied names, every other value
a number, and lambdified to NumPy source (solver.sweep). After a full-pipeline sweep, that source is
kept with what showing it needs (each column's unit, dimension and texts; each varied quantity's
unit, whole-ness and options), keyed by the spec as its compiled form is (solver.fastpath) and by
the question's shape: the names varied as typed, the `--report` text and the `--set` list, whose
numbers the source holds. A later sweep of that shape, over other bare-number ranges or lists or
other options of a choice, runs the stored NumPy code on its grid and shows it with the same
code (solver.sweep_output, solver.sweep_vary): the same bytes, by construction. The entry is kept
only when it reproduces the table just printed; it is read only from the private cache folder,
after its SHA-256 and every file look of the run that built it (`lang.reads`) check out. Another
shape, a value with a unit (`16GB`: the parser reads it), a spec with warnings, or anything that
fails takes the full pipeline, which refreshes the entry.
"""

from __future__ import annotations

import argparse
import builtins
import functools
import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, cast

from solver import fastpath
from solver.fastpath import Fallback, debug

FORMAT = 1
MAX_ENTRIES, MAX_BYTES = 2000, 64 << 20      # of the compiled-form folder, trimmed when an entry is added
_NUM = r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*"
# What `solver.sweep_vary` reads without the parser: A..B[:STEP | :*F], [x, y, ...], one number.
_BARE = re.compile(rf"{_NUM}\.\.{_NUM}(?::\s*[*x]?{_NUM})?|\[{_NUM}(?:,{_NUM})*,?\s*\]|{_NUM}")


class Unsupported(Exception):
    """A sweep whose columns cannot be stored as plain NumPy code."""


def enabled() -> bool:
    return fastpath.enabled()


def shape(args: argparse.Namespace) -> list[Any]:
    """The question's shape: what the stored columns depend on besides the files."""
    return [[text.partition("=")[0] for text in args.vary], args.report, list(args.sets)]


def _key(spec: str | Path, question: list[Any], kind: str) -> str:
    text = json.dumps([FORMAT, kind, fastpath.entry_key(spec), question])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _path(spec: str | Path, question: list[Any], kind: str = "sweep") -> Path | None:
    """Where a stored question of this kind (`sweep`, `sim`: solver.fastsim) lives."""
    folder = fastpath._folder()
    return None if folder is None else folder / f"{kind}-{_key(spec, question, kind)}.json"


# --- answering ----------------------------------------------------------------------------------


def answer(args: argparse.Namespace) -> Any:
    """`infer sweep`'s `SweepOutput` from a stored sweep of this shape, or None (the full pipeline)."""
    if not enabled():
        return None
    loaded = load(args.spec, shape(args))
    if loaded is None:
        return None
    data, namespace = loaded
    for text in args.vary:
        typed, _, body = text.partition("=")
        node = data["nodes"].get(dict(data["vary"]).get(typed.strip(), ""))
        if node is None or (node["kind"] != "choice" and _BARE.fullmatch(body) is None):
            debug(f"full pipeline: `--vary {text}` is not bare numbers")
            return None
    try:
        return run(data, namespace, args)
    except Exception as err:        # a diagnostic (bad step, empty list...): the full pipeline writes it
        debug(f"full pipeline: {type(err).__name__}: {err}")
        return None


def run(data: dict[str, Any], namespace: dict[str, Any], args: argparse.Namespace) -> Any:
    """The sweep's output from stored columns: the full pipeline's own option reading and table."""
    from lang.diagnostics import SourceMap, Span
    from lang.graph import Graph, Node, Option
    from lang.units import Dim
    from solver.sweep import Column, grid_runner
    from solver.sweep_output import sweep_command

    where = Span("<compiled>", 1, 1, 1, 1)
    nodes = {}
    for name, n in data["nodes"].items():
        nodes[name] = Node(name, n["kind"], cast(Any, None), None, None if n["dim"] is None else
                           Dim((str(k), int(v)) for k, v in n["dim"]), n["unit"], False, where, None, (),
                           bool(n["whole"]), tuple(Option(str(label), cast(Any, float(value)))
                                                   for label, value in n["options"]))
    sources = SourceMap()
    graph = Graph(nodes, [], [], list(data["texts"]), [full for _, full in data["vary"]], [], sources,
                  path=data["path"])
    columns = []
    for i, c in enumerate(data["columns"]):
        fn: Any = namespace[f"_c{i}"] if c["fn"] == "code" else _constant(c.get("value"))
        columns.append(Column(c["name"], c["kind"], nodes[c["node"]] if c["node"] else None, fn))

    def stored(spec: Any, names: list[str], report: list[str], spans: Any) -> Any:
        if names != [full for _, full in data["vary"]] or report != data["report"]:
            raise Fallback("another sweep")
        return grid_runner(columns, names, graph)

    class Loaded:           # what sweep_command reads of a `Spec`
        def __init__(self) -> None:
            self.graph, self.sources = graph, sources

    return sweep_command(cast(Any, Loaded()), args, stored)


def _constant(value: bool | None) -> Any:
    import numpy as np

    if value is None:           # solver.evaluate._undefined: nan throughout
        return lambda *a: np.full(np.asarray(a[0], dtype=float).shape if a else (), np.nan)
    return lambda *a: np.asarray(value)


def load(spec: str | Path, question: list[Any], kind: str = "sweep"
         ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(data, namespace of its code), or None: missing, altered, or a file it read changed."""
    from lang.cachedir import read_private
    from lang.reads import holds, stored

    path = _path(spec, question, kind)
    raw = read_private(path, fastpath.MAX_ENTRY_BYTES) if path is not None else None
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        data, source, reads = entry["data"], entry["source"], entry["reads"]
        if not (isinstance(data, dict) and isinstance(source, str) and isinstance(reads, list)) or \
                entry.get("sha") != fastpath.seal(data, source) or data.get("format") != FORMAT or \
                data.get("question") != question:
            debug("sweep: hash mismatch: rebuilt")
            return None
        log = stored(reads)
        namespace = _namespace(data["globals"])
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    if log is None or not holds(log):
        debug("sweep: a file it read has changed: rebuilt")
        return None
    exec(compile(source, f"<infer compiled {kind}>", "exec"), namespace)
    return data, namespace


def store(path: Path, reads: Any, data: dict[str, Any], source: str) -> bool:
    """Atomically, sealed, with the file looks of the run that built it; the folder is then
    trimmed to its most recently written entries (one per question shape adds up)."""
    from lang.cachedir import trim, write_atomic

    entries = [[k, p, v] for (k, p), v in sorted(reads.entries.items())]
    blob = json.dumps({"reads": entries, "data": data, "source": source,
                       "sha": fastpath.seal(data, source)}).encode()
    if len(blob) > fastpath.MAX_ENTRY_BYTES or not write_atomic(path, blob):
        return False
    trim(path.parent, MAX_ENTRIES, MAX_BYTES)
    return True


def _namespace(recipes: dict[str, list[str]]) -> dict[str, Any]:
    """The globals the lambdified code reads, each rebuilt from where it was found at build time."""
    import numpy

    namespace: dict[str, Any] = {}
    for name, (where, attribute) in recipes.items():
        if where == "numpy":
            namespace[name] = numpy if attribute == "" else getattr(numpy, attribute)
        elif where == "builtins":
            namespace[name] = getattr(builtins, attribute)
        elif where == "math":
            namespace[name] = getattr(math, attribute)
        elif where == "functools" and attribute == "reduce":
            namespace[name] = functools.reduce
        else:
            raise ValueError(f"no recipe `{where}`")
    return namespace


# --- building (after a full-pipeline sweep; imports sympy) --------------------------------------


def build(args: argparse.Namespace, table: str) -> bool:
    """Store this sweep's columns, checked to reproduce `table` (the full pipeline's); False where
    nothing is stored (the reason under INFER_DEBUG)."""
    from lang.reads import recording
    from solver.api import Spec
    from solver.sweep import compile_sweep
    from solver.sweep_output import sweep_command

    question = shape(args)
    path = _path(args.spec, question)
    if path is None:
        return False
    quiet = argparse.Namespace(**{**vars(args), "csv": None, "plot": None})
    captured: dict[str, Any] = {}

    def capture(spec: Any, names: list[str], report: list[str], spans: Any) -> Any:
        fn = compile_sweep(spec, names, report, spans)
        captured.update(names=list(names), report=list(report), fn=fn)
        return fn

    try:
        with recording() as log:
            spec = Spec.load(args.spec, list(args.sets))
            _ = spec.graph             # built here, where its file looks are logged (Spec.load may defer it)
        if spec.graph.warnings:
            raise Unsupported("the spec has warnings")
        if sweep_command(spec, quiet, capture).table != table or not log.consistent or not log.entries:
            raise Unsupported("the spec or its files changed while it was read")
        data, source = form(spec.graph, captured, question, args.vary)
        namespace = _namespace(data["globals"])
        exec(compile(source, "<infer compiled sweep>", "exec"), namespace)
        if run(data, namespace, quiet).table != table:
            raise Unsupported("its table differs from the full pipeline's")
    except Exception as err:        # a sweep not stored is answered by the full pipeline next time
        debug(f"sweep not kept: {type(err).__name__}: {err}")
        return False
    return store(path, log, data, source)


def form(graph: Any, captured: dict[str, Any], question: list[Any], vary: list[str]) -> tuple[dict[str, Any], str]:
    """The stored sweep: its columns' NumPy source (`_c0`, `_c1`, ...) and the data to show them."""
    import inspect

    from solver.evaluate import _undefined

    names: list[str] = captured["names"]
    nodes: dict[str, Any] = {}

    def keep(node: Any) -> str:
        nodes[node.name] = {"kind": node.kind, "unit": node.unit, "whole": node.whole,
                            "dim": None if node.dim is None else [list(e) for e in node.dim.exps],
                            "options": [[o.label, float(o.value)] for o in node.options]}
        return str(node.name)

    for name in names:
        keep(graph.nodes[name])
    columns, sources = [], []
    recipes: dict[str, list[str]] = {}
    for i, col in enumerate(captured["fn"].columns):
        item: dict[str, Any] = {"name": col.name, "kind": col.kind,
                                "node": keep(col.node) if col.node is not None else None, "fn": "code"}
        fn = col.fn
        if fn is _undefined:
            item.update(fn="constant", value=None)
        elif getattr(fn, "__name__", "") != "_lambdifygenerated":
            value = fn()
            if col.kind != "requirement" or value.shape != () or value.dtype != bool:
                raise Unsupported(f"column `{col.name}` is not NumPy code")
            item.update(fn="constant", value=bool(value))
        else:
            text = inspect.getsource(fn)
            if not text.startswith("def _lambdifygenerated("):
                raise Unsupported(f"column `{col.name}`: unexpected source")
            sources.append(text.replace("def _lambdifygenerated(", f"def _c{i}(", 1))
            recipes.update(_recipes(fn))
        columns.append(item)
    data = {"format": FORMAT, "question": question, "path": graph.path, "texts": list(graph.texts),
            "vary": [[text.partition("=")[0].strip(), full] for text, full in zip(vary, names)],
            "report": captured["report"], "nodes": nodes, "columns": columns, "globals": recipes}
    return data, "\n".join(sources)


def _recipes(fn: Any) -> dict[str, list[str]]:
    """Where each global the code reads comes from (NumPy, `math`, functools.reduce, a builtin);
    anything else (a sympy object, a printer's helper) is not stored."""
    import numpy

    read: set[str] = set()
    stack = [fn.__code__]
    while stack:
        code = stack.pop()
        read.update(code.co_names)
        stack += [c for c in code.co_consts if hasattr(c, "co_names")]
    out: dict[str, list[str]] = {}
    for name in sorted(read):
        if name not in fn.__globals__:
            if not hasattr(builtins, name):
                continue            # an attribute name (`numpy.select`'s `select`)
            out[name] = ["builtins", name]
            continue
        obj = fn.__globals__[name]
        if obj is numpy:
            out[name] = ["numpy", ""]
        elif getattr(numpy, name, None) is obj:
            out[name] = ["numpy", name]
        elif obj is functools.reduce:
            out[name] = ["functools", "reduce"]
        elif obj is math:
            raise Unsupported("the code reads the `math` module itself")
        elif getattr(math, name, None) is obj:
            out[name] = ["math", name]
        elif getattr(builtins, name, None) is obj:
            out[name] = ["builtins", name]
        else:
            found = next((n for n in getattr(numpy, "__all__", []) if getattr(numpy, n, None) is obj), None)
            if found is None:
                raise Unsupported(f"the code reads `{name}`, not from NumPy")
            out[name] = ["numpy", found]
    return out
