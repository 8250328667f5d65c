"""A result cache for the command line, in the spirit of ccache.

Importing sympy alone takes ~0.2 s, so a solve cannot start faster than that.
When the same command is run again on the same files (the common loop of
editing a design doc, or a script calling `infer` per row), the cached output
is replayed without importing sympy at all.

The key covers the command line, the working directory, the installed code
(path and mtime of every module of `lang` and `solver`) and the content hash of
every file the spec read, so any edit to a spec, an imported module or the
stdlib is a miss. `INFER_CACHE=0` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

CACHEABLE = {"check", "eval", "solve", "export"}


def _root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "infer" / "results"


def enabled(argv: Sequence[str]) -> bool:
    if os.environ.get("INFER_CACHE", "1") in ("0", "false", "no"):
        return False
    if not argv or argv[0] not in CACHEABLE:
        return False
    return not any(a in ("-o", "--output") or a.startswith("--output=") for a in argv)


def _code_stamp() -> str:
    here = Path(__file__).resolve().parent
    parts = []
    for folder in (here, here.parent / "lang"):
        for f in sorted(folder.glob("*")):
            if f.suffix in (".py", ".lark", ".txt"):
                st = f.stat()
                parts.append(f"{f}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def key(argv: Sequence[str]) -> str:
    text = json.dumps([list(argv), os.getcwd(), _code_stamp()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def lookup(argv: Sequence[str]) -> tuple[str, str, int] | None:
    """The replayed (stdout, stderr, exit code), or None on a miss."""
    try:
        entry = json.loads((_root() / f"{key(argv)}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for path, digest in entry.get("files", {}).items():
        if _digest(path) != digest:
            return None
    return entry["stdout"], entry["stderr"], int(entry["code"])


def store(argv: Sequence[str], files: Sequence[str], stdout: str, stderr: str, code: int) -> None:
    digests = {f: _digest(f) for f in files}
    if any(d is None for d in digests.values()):
        return
    folder = _root()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"files": digests, "stdout": stdout, "stderr": stderr, "code": code}),
                       encoding="utf-8")
        tmp.replace(folder / f"{key(argv)}.json")
    except OSError:
        pass  # a read-only cache only costs speed
