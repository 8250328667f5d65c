"""Every look at the file system that can change an answer, recorded while a run lasts.

A cache of answers is only as good as its key. The resolver reaches files in
three ways: it asks whether a candidate module exists (`is_file`, which is
also how a *missing* module is found missing), follows symlinks to a real path
(`resolve`, which decides the spec's own folder and what may be imported), and
reads text (`read_text`). Inside `recording()` each of these is logged with its
outcome — the content hash of the bytes actually read, not of the file as it
is later — so a cache can replay an answer only while `holds(log)` finds every
outcome unchanged: an edited module, a module that appeared where none was, a
re-pointed symlink all make it a miss. Outside `recording()` the functions
only do their job.

Inside `overlay(reader)` the texts come from `reader` instead of the disk: an
editor's unsaved buffers (solver/lsp.py), or the files as they were at a git
revision (solver/diff.py). A run that reads through an overlay is never
cached: the disk is not what it read.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d:
...     spec = pathlib.Path(d) / "s.infer"
...     _ = spec.write_text("x = 1\\n")
...     with recording() as log:
...         text, found = read_text(spec), is_file(pathlib.Path(d) / "gpus.infer")
...     before = holds(log)
...     _ = (pathlib.Path(d) / "gpus.infer").write_text("h100 = 1\\n")
...     (text, found, before, holds(log))
('x = 1\\n', False, True, False)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("read", "file", "real")


@dataclass
class ReadLog:
    """(kind, path) → outcome: a content hash, "1"/"0" for existence, a real path."""

    entries: dict[tuple[str, str], str] = field(default_factory=dict)
    consistent: bool = True      # false when one file gave two answers within the run

    def note(self, kind: str, path: Path, outcome: str) -> None:
        key = (kind, str(path))
        previous = self.entries.setdefault(key, outcome)
        if previous != outcome:
            self.consistent = False


def stored(looks: object) -> ReadLog | None:
    """A log as a cache entry stores it (`[kind, path, outcome]` each), or None when it is not
    that shape or holds no look: one reader for every cache that keys on the files it read."""
    if not isinstance(looks, list):
        return None
    log = ReadLog()
    for look in looks:
        if not (isinstance(look, list) and len(look) == 3 and look[0] in KINDS
                and isinstance(look[1], str) and isinstance(look[2], str)):
            return None
        log.entries[(look[0], look[1])] = look[2]
    return log if log.entries else None


_current: ContextVar[ReadLog | None] = ContextVar("infer_reads", default=None)

# A file's text by its resolved path, or None where it does not exist.
SourceReader = Callable[[Path], "str | None"]
_overlay: ContextVar[SourceReader | None] = ContextVar("infer_overlay", default=None)


@contextlib.contextmanager
def overlay(reader: SourceReader | None) -> Iterator[None]:
    """Read modules through `reader` (None: the disk) while the block runs."""
    token = _overlay.set(reader)
    log = _current.get()
    if reader is not None and log is not None:
        log.consistent = False
    try:
        yield
    finally:
        _overlay.reset(token)


@contextlib.contextmanager
def recording() -> Iterator[ReadLog]:
    log = ReadLog()
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)


def current() -> ReadLog | None:
    """The log of the `recording()` in progress, if any."""
    return _current.get()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes) -> str:
    """As `Path.read_text(encoding="utf-8")` reads: universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """A module's text (raises OSError or UnicodeDecodeError as `Path.read_text` does)."""
    reader = _overlay.get()
    if reader is not None:
        text = reader(path.resolve())
        if text is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return text
    data = path.read_bytes()
    log = _current.get()
    if log is not None:
        log.note("read", path, _digest(data))
    return _decode(data)


def is_file(path: Path) -> bool:
    reader = _overlay.get()
    if reader is not None:
        return reader(path.resolve()) is not None
    found = path.is_file()
    log = _current.get()
    if log is not None:
        log.note("file", path, "1" if found else "0")
    return found


def resolve(path: Path) -> Path:
    real = path.resolve()
    log = _current.get()
    if log is not None:
        log.note("real", path, str(real))
    return real


def outcome(kind: str, path: str) -> str | None:
    """What the file system answers now for one logged look (None: the file cannot be read)."""
    p = Path(path)
    try:
        if kind == "read":
            return _digest(p.read_bytes())
        if kind == "file":
            return "1" if p.is_file() else "0"
        if kind == "real":
            return str(p.resolve())
    except (OSError, RuntimeError, ValueError):
        return None
    return None


def holds(log: ReadLog) -> bool:
    """Every look in the log would see the same today."""
    return log.consistent and all(outcome(k, p) == v for (k, p), v in log.entries.items())
