"""The user's private cache directory, or none at all.

Every on-disk cache of `infer` lives under `$XDG_CACHE_HOME/infer` (default
`~/.cache/infer`), and only when that folder is private: a real directory (not
a symlink), owned by the user running `infer`, writable by nobody else (mode
0700; an older folder of ours that others could only read is tightened), inside a parent that
others cannot rename it out of (owned by the user or root, and not writable by
others unless sticky, like `/tmp`). Anything else means no cache at all: there
is no fallback to a shared temporary folder, because a file there could be
planted by another user. Files are written atomically (`write_atomic`: a 0600
temporary file in the same folder, then a rename), read only when they are
regular files of ours (`read_private`), and each folder is kept to a bounded
size, least recently used first (`trim`, `touch`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _base() -> Path | None:
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    home = os.path.expanduser("~")
    return Path(home) / ".cache" if os.path.isabs(home) else None


def _owned_private(path: Path, uid: int) -> bool:
    """A real directory of ours that nobody else could write; a readable one of ours is tightened."""
    try:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
            return False
        if st.st_mode & 0o022:
            return False         # others could have planted files in it: tightening would not remove them
        if st.st_mode & 0o077:
            os.chmod(path, 0o700)
        return True
    except OSError:
        return False


def _safe_parent(path: Path, uid: int) -> bool:
    """Others cannot swap our folder out of this one."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    if st.st_uid not in (uid, 0):
        return False
    return not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or bool(st.st_mode & stat.S_ISVTX)


def private_dir(*parts: str, base: Path | None = None) -> Path | None:
    """`<cache>/infer/<parts...>`, created 0700, or None where no private folder can be had.

    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = private_dir("ast", base=Path(d))
    ...     (p.name, oct(os.stat(p).st_mode & 0o777), oct(os.stat(p.parent).st_mode & 0o777))
    ('ast', '0o700', '0o700')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.chmod(d, 0o777)           # a folder anyone can write, not sticky: no cache
    ...     private_dir(base=Path(d)) is None
    True
    """
    getuid = getattr(os, "getuid", None)
    base = base or _base()
    if getuid is None or base is None:
        return None
    uid = getuid()
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if not _safe_parent(base, uid):
        return None
    folder = base / "infer"
    for name in ("", *parts):
        if name:
            if "/" in name or name in (".", ".."):
                return None
            folder = folder / name
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            return None
        if not _owned_private(folder, uid):
            return None
    return folder


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` in one rename, readable by the user only; False where it failed."""
    # tempfile.mkstemp's way (a random name, created exclusively, mode 0600) without importing
    # tempfile, whose shutil, lzma and random cost ~5 ms of every run that writes a cache file
    tmp = str(path.parent / f".tmp-{os.urandom(8).hex()}")
    try:
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def read_private(path: Path, limit: int = 64 << 20) -> bytes | None:
    """A cache file's bytes, only if it is a regular file of ours that nobody else can write."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != getuid() or st.st_mode & 0o022 \
                or st.st_size > limit:
            return None
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            return fh.read(limit + 1)
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def trim(folder: Path, max_entries: int, max_bytes: int) -> None:
    """Drop the least recently used files (oldest modification time first) until the folder holds
    at most `max_entries` files and `max_bytes` bytes."""
    files = []
    try:
        for e in os.scandir(folder):
            if e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                files.append((st.st_mtime_ns, st.st_size, e.path))
    except OSError:
        return
    total = sum(size for _, size, _ in files)
    files.sort()
    while files and (len(files) > max_entries or total > max_bytes):
        _, size, path = files.pop(0)
        try:
            os.unlink(path)
        except OSError:
            pass
        total -= size


def touch(path: Path) -> None:
    """Mark a cache file as just used, so `trim` keeps it longest."""
    try:
        os.utime(path)
    except OSError:
        pass
