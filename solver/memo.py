"""A result cache for the command line, in the spirit of ccache.

Importing sympy alone takes ~0.2 s, so a solve cannot start faster than that.
When the same command is run again on the same files (the common loop of
editing a design doc, or a script calling `infer` per row), the cached output
is replayed without importing sympy at all.

An entry is found by a key over everything outside the files that can change
the output: the command line, the working directory, the content of the code
(`lang/`, `solver/`), the Python and every installed distribution's name and
version, the output encoding, and the environment variables the program reads
(`INFER_*` but the switch itself). It is replayed only while every look the
run took at the file system (`lang.reads`: the bytes each module read had,
each module looked for and not found, each symlink followed) still sees the
same; a run during which a file changed is not stored. Only successes are
stored, a whole entry is at most 1 MB, and the folder is trimmed to the
most recently used entries (`MAX_ENTRIES`, `MAX_BYTES`). Entries are checked
JSON in the private cache folder (`lang.cachedir`). `INFER_CACHE=0` turns the
cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lang import cachedir
from lang.cachedir import private_dir, read_private, write_atomic
from lang.reads import ReadLog, holds, stored

CACHEABLE = {"check", "eval", "solve", "export"}
MAX_ENTRY_BYTES = 1 << 20
MAX_ENTRIES = 2000
MAX_BYTES = 32 << 20
FORMAT = 2      # of an entry; part of the key


def enabled(argv: Sequence[str]) -> bool:
    if os.environ.get("INFER_CACHE", "1") in ("0", "false", "no"):
        return False
    if not argv or argv[0] not in CACHEABLE:
        return False
    return not any(a in ("-o", "--output") or a.startswith("--output=") for a in argv)


def code_stamp() -> str:
    """The content of the running code: an edit, a checkout or an upgrade is a new stamp."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for folder in (here, here.parent / "lang"):
        for f in sorted(folder.iterdir()):
            if f.suffix in (".py", ".lark", ".txt"):
                h.update(f.name.encode() + b"\0")
                try:
                    h.update(f.read_bytes())
                except OSError:
                    h.update(b"\1unreadable")
    return h.hexdigest()


def installed(interpreter: str | None = None, paths: Sequence[str] | None = None) -> list[str]:
    """The interpreter and every distribution on the import path, with its version (from the
    `*.dist-info` folder names: one directory listing per path entry, nothing imported).
    `interpreter` and `paths` default to `sys.executable` and `sys.path`."""
    found = [sys.version, sys.executable if interpreter is None else interpreter]
    for entry in sys.path if paths is None else paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        found += sorted(n for n in names if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth")))
    return found


def environment() -> list[Any]:
    """The parts of the environment that change what a run prints."""
    answers = sorted((k, v) for k, v in os.environ.items() if k.startswith("INFER_") and k != "INFER_CACHE")
    return [answers, getattr(sys.stdout, "encoding", None), getattr(sys.stdout, "errors", None)]


def key(argv: Sequence[str]) -> str:
    text = json.dumps([FORMAT, list(argv), os.getcwd(), code_stamp(), installed(), environment()])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _folder() -> Path | None:
    return private_dir("results")


def _checked(entry: Any) -> tuple[ReadLog, str, str, int] | None:
    """An entry's parts, or None when its shape is not the one `store` writes."""
    if not isinstance(entry, dict):
        return None
    looks, out, err, code = entry.get("reads"), entry.get("stdout"), entry.get("stderr"), entry.get("code")
    if not (isinstance(looks, list) and isinstance(out, str) and isinstance(err, str) and code == 0
            and type(code) is int):
        return None
    log = stored(looks)
    return None if log is None else (log, out, err, code)


def lookup(entry_key: str) -> tuple[str, str, int] | None:
    """The replayed (stdout, stderr, exit code), or None on a miss."""
    folder = _folder()
    if folder is None:
        return None
    path = folder / f"{entry_key}.json"
    raw = read_private(path, MAX_ENTRY_BYTES)
    if raw is None:
        return None
    try:
        found = _checked(json.loads(raw))
    except (ValueError, RecursionError):
        found = None
    if found is None:
        return None
    log, out, err, code = found
    if not holds(log):
        return None
    cachedir.touch(path)      # most recently used: the last to be trimmed
    return out, err, code


def store(entry_key: str, argv: Sequence[str], log: ReadLog, stdout: str, stderr: str, code: int) -> bool:
    """Keep a successful run's output; False where it is not kept (and why is in the code)."""
    if code != 0 or not log.entries:
        return False            # failures are never replayed: a fixed import must show at once
    if not holds(log) or key(argv) != entry_key:
        return False            # a file, the code or the environment changed while it ran
    folder = _folder()
    if folder is None:
        return False
    looks = [[k, p, v] for (k, p), v in sorted(log.entries.items())]
    data = json.dumps({"reads": looks, "stdout": stdout, "stderr": stderr, "code": code}).encode()
    if len(data) > MAX_ENTRY_BYTES:
        return False
    if not write_atomic(folder / f"{entry_key}.json", data):
        return False
    trim(folder)
    return True


def trim(folder: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Drop the least recently used entries until the folder is within both bounds."""
    cachedir.trim(folder, max_entries, max_bytes)
