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
        module = _decode(ast.Module, data, path)
    except (_Mismatch, RecursionError, ValueError, ZeroDivisionError, TypeError):
        return None
    return module if isinstance(module, ast.Module) and module.path == path else None


def _decode(tp: Any, data: Any, path: str) -> Any:
    if tp is Span:
        if isinstance(data, list) and len(data) == 4:
            file, spot = path, data
        elif isinstance(data, list) and len(data) == 5 and isinstance(data[0], str):
            file, spot = data[0], data[1:]
        else:
            raise _Mismatch("span")
        if not all(type(n) is int for n in spot):
            raise _Mismatch("span")
        return Span(file, *spot)
    if tp is str or tp is float or tp is bool:
        if type(data) is not tp:
            raise _Mismatch(tp.__name__)
        return data
    if tp is int:
        if type(data) is not int:
            raise _Mismatch("int")
        return data
    if tp is type(None):
        if data is not None:
            raise _Mismatch("None")
        return None
    if tp is Fraction:
        if not isinstance(data, str) or data.count("/") != 1:
            raise _Mismatch("fraction")
        num, den = data.split("/")
        return Fraction(int(num), int(den))     # a zero denominator raises, and is a miss
    if isinstance(tp, type) and tp in _FIELDS_OK:
        return _decode_class(tp, data, path)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        if data is None and type(None) in args:
            return None
        if isinstance(data, list) and data and isinstance(data[0], str):
            cls = _CLASSES.get(data[0])
            if cls is not None and cls in args:
                return _decode_class(cls, data, path)
        for arg in args:             # non-record members of the union (`str | None`)
            if arg is not type(None) and not (isinstance(arg, type) and arg in _FIELDS_OK):
                try:
                    return _decode(arg, data, path)
                except _Mismatch:
                    continue
        raise _Mismatch("union")
    if origin is typing.Literal:
        if data not in args or type(data) is not type(args[0]):
            raise _Mismatch("literal")
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise _Mismatch("tuple")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], v, path) for v in data)
        if len(args) != len(data):
            raise _Mismatch("tuple")
        return tuple(_decode(a, v, path) for a, v in zip(args, data))
    raise _Mismatch(f"unsupported type {tp!r}")


def _decode_class(cls: type, data: Any, path: str) -> Any:
    fields = _fields(cls)
    if not isinstance(data, list) or len(data) != len(fields) + 1 or data[0] != cls.__name__:
        raise _Mismatch(cls.__name__)
    return cls(*(_decode(tp, v, path) for (_, tp), v in zip(fields, data[1:])))


_FIELDS_OK = set(_CLASSES.values())


# --- the cache ------------------------------------------------------------------------


MAX_ENTRIES = 1000
MAX_BYTES = 64 << 20


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """The grammar, the parser and the AST as this process runs them."""
    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in ("grammar.lark", "parser.py", "syntax.py", "diagnostics.py", "astcache.py"):
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
