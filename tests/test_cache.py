"""The on-disk caches: private folder only, no pickle from a shared place, corrupt entries are misses,
and the result cache never replays a stale answer."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from lang import astcache, units
from lang.cachedir import private_dir
from lang.parser import parse_module
from lang.reads import ReadLog
from solver import cli, memo
from tests.conftest import REPO


class _Plant:
    """Unpickling this creates the marker file: proof that a planted pickle ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "solver.cli", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=120)


# --- the private folder, and no pickle from a shared one ---------------------------------------


def test_planted_pickles_in_the_old_shared_fallbacks_are_never_loaded(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    (shared / "ast").mkdir(parents=True)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Plant(marker))
    (shared / "infer-grammar-lalr.cache").write_bytes(payload)
    spec = tmp_path / "s.infer"
    spec.write_text("x = 1 GB\n")
    for name in ("0" * 32, "f" * 32, "planted"):
        (shared / "ast" / f"{name}.pickle").write_bytes(payload)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")          # the cache folder cannot be created under a file
    # An audit hook proves nothing under the shared temp folder is even opened.
    hook = ("import sys; seen = []; sys.addaudithook(lambda e, a: seen.append(str(a[0])) "
            "if e == 'open' and str(a[0]).startswith(sys.argv[1]) else None)\n"
            "from solver import cli\ncode = cli.main(sys.argv[2:])\n"
            "print('OPENED', seen, file=sys.stderr)\nsys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(shared), "XDG_CACHE_HOME": str(blocker / "c"),
           "HOME": str(blocker), "INFER_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", hook, str(shared), "eval", str(spec)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 GB" in done.stdout
    assert "OPENED []" in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize("mode", [0o777, 0o775])
def test_a_cache_folder_others_can_write_is_not_used(tmp_path: Path, mode: int) -> None:
    base = tmp_path / "cache"
    (base / "infer" / "ast").mkdir(parents=True)
    marker = tmp_path / "pwned"
    (base / "infer" / "grammar-lalr.cache").write_bytes(pickle.dumps(_Plant(marker)))
    os.chmod(base / "infer", mode)
    spec = tmp_path / "s.infer"
    spec.write_text("x = 2 GB\n")
    done = _run(["eval", str(spec)], {"XDG_CACHE_HOME": str(base), "INFER_CACHE": "1"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 GB" in done.stdout and not marker.exists()
    assert oct(os.stat(base / "infer").st_mode & 0o777) == oct(mode)     # left alone, not trusted
    assert list((base / "infer" / "ast").iterdir()) == []                 # and nothing written into it


def test_a_shared_parent_folder_is_refused_and_a_private_one_created_0700(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    os.chmod(loose, 0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(loose))
    assert private_dir("results") is None
    os.chmod(loose, 0o777 | 0o1000)      # sticky, like /tmp: nobody can rename our folder away
    made = private_dir("results")
    assert made is not None and os.stat(made).st_mode & 0o777 == 0o700
    os.chmod(loose, 0o700)


# --- corrupt entries of the right syntax but the wrong shape are misses ------------------------


_M = parse_module("x: GB = 80 GB / 2\nrequire x <= 1 TB\ny = min(x, 2 GB)\n", "a.infer")


@pytest.mark.parametrize("bad", [
    None, [], {}, "Module", ["Module"], ["Module", "a.infer"], ["Module", "a.infer", {}],
    ["Module", "b.infer", []],                                          # another file's spans
    ["Module", "a.infer", [["Binding", "x", [1, 1, 1, 2], None, ["Number", "1/0", "1", [1, 1, 1, 2]],
                            [1, 1, 1, 2]]]],                           # zero denominator
    ["Module", "a.infer", [["Binding", "x", [1, 1, 1, 2], None, ["Name", 5, [1, 1, 1, 2]], [1, 1, 1, 2]]]],
    ["Module", "a.infer", [["Binding", "x", [1, 1], None, ["Name", "y", [1, 1, 1, 2]], [1, 1, 1, 2]]]],
    ["Module", "a.infer", [["Goal", "g", [1, 1, 1, 2], "most", ["Name", "y", [1, 1, 1, 2]], [1, 1, 1, 2]]]],
    ["Module", "a.infer", [["Span", 1, 1, 1, 1]]],                      # not a member
    ["Module", "a.infer", [["Binding", "x", [1, 1, 1, 2], None, ["Binding"], [1, 1, 1, 2]]]],
])
def test_a_parsed_module_of_the_wrong_shape_is_a_miss(bad: object) -> None:
    assert astcache.decode_module(bad, "a.infer") is None


def test_parsed_modules_round_trip_through_the_checked_cache() -> None:
    for file in sorted((REPO / "stdlib").glob("*.infer")):
        module = parse_module(file.read_text(encoding="utf-8"), file.name)
        data = json.loads(json.dumps(astcache.encode_module(module)))
        assert astcache.decode_module(data, file.name) == module


def _cache_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("INFER_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    units.registry.cache_clear()
    return tmp_path / "cache" / "infer"


def test_corrupt_parsed_module_files_are_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = _cache_env(tmp_path, monkeypatch)
    monkeypatch.setenv("INFER_CACHE", "0")
    (tmp_path / "s.infer").write_text("x = 3 GB\n")
    assert cli.main(["eval", "s.infer"]) == 0
    entries = list((folder / "ast").glob("*.json"))
    assert entries
    for junk in ('["Module", "s.infer", [["Binding", 1]]]', "[]", '{"a": 1}', "[[[[", "\x00\x01"):
        for e in entries:
            e.write_text(junk)
        capsys.readouterr()
        assert cli.main(["eval", "s.infer"]) == 0
        assert "3 GB" in capsys.readouterr().out


@pytest.mark.parametrize("junk", [
    {"GB": [1, 0, []]}, {"GB": "GB"}, {"GB": [1, 1]}, {"GB": [1, 1, [["B"]]]}, {"GB": [1.5, 1, []]},
    {"__known_names__": 3}, [], "x", 7,
])
def test_corrupt_unit_cache_entries_are_looked_up_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          junk: object) -> None:
    folder = _cache_env(tmp_path, monkeypatch)
    assert private_dir() == folder
    (folder / f"units-{units._definitions_key()}.json").write_text(json.dumps(junk))
    found = units.lookup("GB")
    assert found is not None and found.factor == 10**9
    assert units.known_unit_names()
    units.registry.cache_clear()


@pytest.mark.parametrize("junk", [
    [], {"reads": []}, {"reads": 1, "stdout": "x", "stderr": "", "code": 0},
    {"reads": [["read", "s.infer"]], "stdout": "x", "stderr": "", "code": 0},
    {"reads": [["exec", "s.infer", "1"]], "stdout": "x", "stderr": "", "code": 0},
    {"reads": [["file", "s.infer", "1"]], "stdout": 1, "stderr": "", "code": 0},
    {"reads": [["file", "s.infer", "1"]], "stdout": "x", "stderr": "", "code": "0"},
    {"reads": [["file", "s.infer", "1"]], "stdout": "x", "stderr": "", "code": 1},
    {"reads": [["file", "s.infer", "1"]], "stdout": "x", "stderr": "", "code": True},
])
def test_corrupt_result_entries_are_misses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], junk: object) -> None:
    _cache_env(tmp_path, monkeypatch)
    (tmp_path / "s.infer").write_text("x = 4 GB\n")
    argv = ["eval", "s.infer"]
    folder = private_dir("results")
    assert folder is not None
    (folder / f"{memo.key(argv)}.json").write_text(json.dumps(junk))
    assert memo.lookup(memo.key(argv)) is None
    assert cli.main(argv) == 0
    assert "4 GB" in capsys.readouterr().out


# --- the result cache never replays a stale answer ---------------------------------------------


def _answer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    code = cli.main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def _stored(argv: list[str]) -> bool:
    return memo.lookup(memo.key(argv)) is not None


def test_a_module_that_appears_after_a_run_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _cache_env(tmp_path, monkeypatch)
    (tmp_path / "g.infer").write_text("import gpus\nm = gpus.h100_sxm.memory\n")
    argv = ["eval", "g.infer"]
    assert "80 GB" in _answer(argv, capsys)
    assert _stored(argv)
    (tmp_path / "gpus.infer").write_text("h100_sxm = { memory = 1 GB }\n")
    assert "1 GB" in _answer(argv, capsys)


def test_a_repointed_spec_symlink_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _cache_env(tmp_path, monkeypatch)
    for folder, size in (("a", 5), ("b", 6)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "s.infer").write_text("import m\nx = m.v\n")    # the same text in both
        (tmp_path / folder / "m.infer").write_text(f"v = {size} GB\n")
    (tmp_path / "s.infer").symlink_to(tmp_path / "a" / "s.infer")
    argv = ["eval", "s.infer"]
    assert "5 GB" in _answer(argv, capsys) and _stored(argv)
    (tmp_path / "s.infer").unlink()
    (tmp_path / "s.infer").symlink_to(tmp_path / "b" / "s.infer")
    assert "6 GB" in _answer(argv, capsys)


def test_a_repointed_package_folder_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _cache_env(tmp_path, monkeypatch)
    for folder, size in (("v1", 7), ("v2", 8)):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.infer").write_text(f"v = {size} GB\n")
    (tmp_path / "pkg").symlink_to(tmp_path / "v1")
    (tmp_path / "s.infer").write_text("import pkg.m as m\nx = m.v\n")
    argv = ["eval", "s.infer"]
    assert "7 GB" in _answer(argv, capsys) and _stored(argv)
    (tmp_path / "pkg").unlink()
    (tmp_path / "pkg").symlink_to(tmp_path / "v2")
    assert "8 GB" in _answer(argv, capsys)


def test_a_spec_edited_while_a_run_is_in_progress_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from solver.api import Spec

    _cache_env(tmp_path, monkeypatch)
    spec = tmp_path / "s.infer"
    spec.write_text("x = 9 GB\n")
    load = Spec.load.__func__  # type: ignore[attr-defined]

    def load_then_edit(cls, path, set=()):  # type: ignore[no-untyped-def]
        loaded = load(cls, path, set)
        spec.write_text("x = 10 GB\n")         # the user saves while the solver is still running
        return loaded

    monkeypatch.setattr(Spec, "load", classmethod(load_then_edit))
    argv = ["eval", "s.infer"]
    assert "9 GB" in _answer(argv, capsys)
    monkeypatch.undo()
    _cache_env(tmp_path, monkeypatch)
    assert not _stored(argv)
    assert "10 GB" in _answer(argv, capsys)


def test_an_edited_stdlib_module_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    import lang.imports

    stdlib = tmp_path / "stdlib"
    shutil.copytree(REPO / "stdlib", stdlib)
    monkeypatch.setattr(lang.imports, "stdlib_path", lambda: stdlib)
    _cache_env(tmp_path, monkeypatch)
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "s.infer").write_text("import gpus\nm = gpus.h100_sxm.memory\n")
    argv = ["eval", "spec/s.infer"]
    assert "80 GB" in _answer(argv, capsys) and _stored(argv)
    gpus = stdlib / "gpus.infer"
    gpus.write_text(gpus.read_text().replace("memory = 80 GB", "memory = 81 GB"))
    assert "81 GB" in _answer(argv, capsys)


def test_the_code_version_and_installed_packages_are_in_the_key(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_env(tmp_path, monkeypatch)
    argv = ["eval", "s.infer"]
    before = memo.key(argv)
    site = tmp_path / "site"
    (site / "sympy-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    with_old = memo.key(argv)
    (site / "sympy-1.0.dist-info").rename(site / "sympy-2.0.dist-info")
    assert len({before, with_old, memo.key(argv)}) == 3
    monkeypatch.setattr(memo, "code_stamp", lambda: "another version")
    assert memo.key(argv) not in (before, with_old)


def test_environment_that_changes_output_is_in_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    _cache_env(tmp_path, monkeypatch)
    argv = ["eval", "s.infer"]
    first = memo.key(argv)
    monkeypatch.setenv("INFER_ANYTHING", "1")
    assert memo.key(argv) != first
    monkeypatch.delenv("INFER_ANYTHING")
    assert memo.key(argv) == first
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert memo.key(argv) != first          # `PYTHONIOENCODING=ascii` prints other text


def test_failures_are_never_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    folder = _cache_env(tmp_path, monkeypatch)
    (tmp_path / "s.infer").write_text("c: GB\nrequire c >= 2 GB\nrequire c <= 1 GB\ngoal g = maximize c\n")
    assert cli.main(["solve", "s.infer", "--for", "g"]) == 1
    assert "E0800" in capsys.readouterr().err
    assert cli.main(["eval", "nope.infer"]) == 1
    assert not list((folder / "results").glob("*.json"))


def test_the_result_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_env(tmp_path, monkeypatch)
    spec = tmp_path / "s.infer"
    spec.write_text("x = 1\n")
    log = ReadLog({("read", str(spec)): memo.hashlib.sha256(spec.read_bytes()).hexdigest()})
    folder = private_dir("results")
    assert folder is not None
    for i in range(12):
        argv = ["eval", "s.infer", f"--set=x={i}"]
        assert memo.store(memo.key(argv), argv, log, f"{i:02d}\n" * 1000, "", 0)
        os.utime(folder / f"{memo.key(argv)}.json", (i, i))
    memo.trim(folder, max_entries=5)
    kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    assert len(kept) == 5 and kept[0].stat().st_mtime == 7       # the least recently used went first
    memo.trim(folder, max_bytes=2 * kept[0].stat().st_size + 1)
    assert len(list(folder.glob("*.json"))) == 2
    huge = "x" * (memo.MAX_ENTRY_BYTES + 1)
    assert memo.store(memo.key(["eval", "big"]), ["eval", "big"], log, huge, "", 0) is False


def test_a_replayed_answer_imports_neither_sympy_nor_lark_nor_pint(tmp_path: Path) -> None:
    spec = tmp_path / "chat.infer"
    spec.write_text((REPO / "specs" / "chat.infer").read_text())
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"}
    argv = ["solve", str(spec), "--for", "max_batch", "--set", "chat.prompt=1000token"]
    first = _run(argv, env, tmp_path)
    assert first.returncode == 0, first.stderr
    probe = ("import sys\nfrom solver import cli\ncode = cli.main(sys.argv[1:])\n"
             "heavy = sorted(m for m in ('sympy', 'lark', 'pint', 'numpy', 'pydantic') if m in sys.modules)\n"
             "print('HEAVY', code, heavy, file=sys.stderr)")
    again = subprocess.run([sys.executable, "-c", probe, *argv], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(REPO), **env}, capture_output=True, text=True,
                           timeout=120)
    assert "HEAVY 0 []" in again.stderr, again.stderr
    assert again.stdout == first.stdout


def test_the_parsed_module_cache_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _cache_env(tmp_path, monkeypatch)
    monkeypatch.setattr(astcache, "MAX_ENTRIES", 2)
    for i in range(5):
        assert astcache.parse_cached(f"x{i} = {i}\n", "a.infer").members
    kept = list((folder / "ast").iterdir())
    assert len(kept) == 2
    assert astcache.parse_cached("x4 = 4\n", "a.infer") == parse_module("x4 = 4\n", "a.infer")
