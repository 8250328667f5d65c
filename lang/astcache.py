"""Parsed modules cached as plain JSON data, checked against the AST's own types on load.

Lark's parse of the stdlib catalogs costs ~0.2 s; reading them back from JSON
costs a fraction of that. The cache holds data, never code: a module is
written as nested lists (`[class name, field, ...]`, spans as four integers,
fractions as `"n/d"` text) and rebuilt into the frozen AST by walking the type
annotations of `lang.syntax`, so every value is checked against the type its
field declares (a union accepts only its own classes, a `Literal` only its
values). Anything that does not fit, from a truncated file to a list where a
name belongs, is a miss and the file is parsed again. Entries live only in the
private cache directory (`lang.cachedir`), at most 1,000 files and 64 MB, least
recently used dropped first; the key is the text, the path shown in spans, and
the sources of the grammar, parser and AST.

>>> from lang.parser import parse_module
>>> m = parse_module("x: GB = 80 GB / 2\\nrequire x <= 1 TB\\n", "a.infer")
>>> decode_module(encode_module(m), "a.infer") == m
True
>>> decode_module(["Module", "a.infer", [["Binding", 1]]], "a.infer") is None
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from lang import syntax as ast
from lang.cachedir import private_dir, read_private, touch, trim, write_atomic
from lang.diagnostics import Span


class _Mismatch(Exception):
    """The cached data does not have the shape the AST declares."""


def _classes() -> dict[str, type]:
    return {name: obj for name, obj in vars(ast).items()
            if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == ast.__name__}


_CLASSES = _classes()
_FIELDS: dict[type, list[tuple[str, Any]]] = {}


def _fields(cls: type) -> list[tuple[str, Any]]:
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls, vars(ast))
        found = _FIELDS[cls] = [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    return found


# --- encode ------------------------------------------------------------------------


def encode_module(module: ast.Module) -> Any:
    return _encode(module, module.path)


def _encode(value: Any, path: str) -> Any:
    if isinstance(value, Span):
        spot = [value.line, value.column, value.end_line, value.end_column]
        return spot if value.file == path else [value.file, *spot]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, tuple):
        return [_encode(v, path) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, *(_encode(getattr(value, f.name), path) for f in dataclasses.fields(value))]
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise _Mismatch(f"cannot encode {type(value).__name__}")


# --- decode, checking every value against its declared type ----------------------


def decode_module(data: Any, path: str) -> ast.Module | None:
    """The module `data` encodes, or None when anything in it has the wrong shape."""
    try:
        module = _decoder(ast.Module)(data, path)
    except (_Mismatch, RecursionError, ValueError, ZeroDivisionError, TypeError):
        return None
    return module if isinstance(module, ast.Module) and module.path == path else None


Decoder = Callable[[Any, str], Any]
_DECODERS: dict[Any, Decoder] = {}


def _decoder(tp: Any) -> Decoder:
    """A function that checks data against `tp` and builds the value (built once per type)."""
    found = _DECODERS.get(tp)
    if found is None:
        found = _DECODERS[tp] = _make_decoder(tp)
    return found


def _span(data: Any, path: str) -> Span:
    if type(data) is list and len(data) == 4:
        file, spot = path, data
    elif type(data) is list and len(data) == 5 and type(data[0]) is str:
        file, spot = data[0], data[1:]
    else:
        raise _Mismatch("span")
    for n in spot:
        if type(n) is not int:
            raise _Mismatch("span")
    return Span(file, *spot)


def _fraction(data: Any, path: str) -> Fraction:
    if type(data) is not str or data.count("/") != 1:
        raise _Mismatch("fraction")
    num, den = data.split("/")
    return Fraction(int(num), int(den))     # a zero denominator raises, and is a miss


def _exactly(kind: type) -> Decoder:
    def check(data: Any, path: str) -> Any:
        if type(data) is not kind:
            raise _Mismatch(kind.__name__)
        return data
    return check


def _make_decoder(tp: Any) -> Decoder:
    if tp is Span:
        return _span
    if tp is Fraction:
        return _fraction
    if tp in (str, int, float, bool, type(None)):
        return _exactly(tp)
    if isinstance(tp, type) and tp in _FIELDS_OK:
        return _class_decoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        records = {cls.__name__: cls for cls in args if isinstance(cls, type) and cls in _FIELDS_OK}
        others = [a for a in args if a is not type(None) and a not in records.values()]
        optional = type(None) in args

        def union(data: Any, path: str) -> Any:
            if data is None and optional:
                return None
            if type(data) is list and data and type(data[0]) is str and data[0] in records:
                return _decoder(records[data[0]])(data, path)
            for arg in others:             # non-record members of the union (`str | None`)
                try:
                    return _decoder(arg)(data, path)
                except _Mismatch:
                    continue
            raise _Mismatch("union")
        return union
    if origin is typing.Literal:
        allowed = set(args)
        kind = type(args[0])

        def literal(data: Any, path: str) -> Any:
            if type(data) is not kind or data not in allowed:
                raise _Mismatch("literal")
            return data
        return literal
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = args[0]

            def sequence(data: Any, path: str) -> tuple[Any, ...]:
                if type(data) is not list:
                    raise _Mismatch("tuple")
                each = _decoder(item)
                return tuple([each(v, path) for v in data])
            return sequence

        def fixed(data: Any, path: str) -> tuple[Any, ...]:
            if type(data) is not list or len(data) != len(args):
                raise _Mismatch("tuple")
            return tuple([_decoder(a)(v, path) for a, v in zip(args, data)])
        return fixed
    raise _Mismatch(f"unsupported type {tp!r}")


def _class_decoder(cls: type) -> Decoder:
    name = cls.__name__
    field_types = [tp for _, tp in _fields(cls)]
    width = len(field_types) + 1
    decoders: list[Decoder] = []

    def record(data: Any, path: str) -> Any:
        if type(data) is not list or len(data) != width or data[0] != name:
            raise _Mismatch(name)
        if not decoders:        # resolved on first use: the AST's types refer to each other
            decoders.extend(_decoder(tp) for tp in field_types)
        return cls(*[d(v, path) for d, v in zip(decoders, data[1:])])
    return record


_FIELDS_OK = set(_CLASSES.values())


# --- the cache ------------------------------------------------------------------------


MAX_ENTRIES = 1000
MAX_BYTES = 64 << 20


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """The grammar, the parser and the AST as this process runs them."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("grammar.lark", "parser.py", "syntax.py", "diagnostics.py", "astcache.py", "version.py", "limits.py"):
        h.update((here / name).read_bytes() + b"\0")
    return h.digest()


def _key(text: str, path: str) -> str:
    return hashlib.sha256(b"\0".join([text.encode(), path.encode(), _code_digest()])).hexdigest()[:32]


def parse_cached(text: str, path: str) -> ast.Module:
    """`parse_module`, memoized in the private cache directory; without one, parsed every time."""
    from lang.parser import parse_module

    folder = private_dir("ast")
    if folder is None:
        return parse_module(text, path)
    file = folder / f"{_key(text, path)}.json"
    raw = read_private(file)
    if raw is not None:
        try:
            module = decode_module(json.loads(raw), path)
        except (ValueError, RecursionError):
            module = None
        if module is not None:
            touch(file)
            return module
    module = parse_module(text, path)
    try:
        data = json.dumps(encode_module(module), separators=(",", ":")).encode()
    except (_Mismatch, ValueError, RecursionError):
        return module       # too deep or too large to cache: it is parsed each time
    if write_atomic(file, data):
        trim(folder, MAX_ENTRIES, MAX_BYTES)
    return module
