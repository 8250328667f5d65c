"""The result cache never replays a stale answer, end to end, for each change issue 15 names: an
edit to the spec, an edit to an imported stdlib module (tests/test_cache.py), a change of the code
(its stamp follows every source file), and an environment that changes what a run prints.

Each test first shows the answer *was* stored, so a miss afterwards is the key or the file check
at work, not a cache that never stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from solver import memo
from tests.conftest import REPO
from tests.test_cache import _answer, _cache_env, _stored  # the same set-up as the cache tests


def test_an_edited_spec_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    _cache_env(tmp_path, monkeypatch)
    spec = tmp_path / "s.infer"
    spec.write_text("c: GB\nrequire c <= 3 GB\ngoal most = maximize c\n")
    argv = ["solve", "s.infer", "--for", "most"]
    assert "3 GB" in _answer(argv, capsys) and _stored(argv)
    assert "3 GB" in _answer(argv, capsys)                 # replayed
    spec.write_text("c: GB\nrequire c <= 5 GB\ngoal most = maximize c\n")    # same size, same command
    assert not _stored(argv)
    assert "5 GB" in _answer(argv, capsys)


def test_the_code_stamp_follows_every_source_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit to any module of lang/ or solver/ (or the grammar, or the unit definitions), and a
    module added, is a new stamp, so the key of every stored answer changes."""
    for folder in ("lang", "solver"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(memo, "__file__", str(tmp_path / "solver" / "memo.py"))
    stamps = [memo.code_stamp()]
    for edited in ("lang/exprbuild.py", "solver/optimize.py", "lang/grammar.lark", "lang/units.txt"):
        path = tmp_path / edited
        path.write_text(path.read_text() + "\n")
        stamps.append(memo.code_stamp())
    (tmp_path / "solver" / "new_module.py").write_text("")
    stamps.append(memo.code_stamp())
    assert len(set(stamps)) == len(stamps)
    argv = ["eval", "s.infer"]
    keys = set()
    for stamp in stamps[:2]:
        monkeypatch.setattr(memo, "code_stamp", lambda stamp=stamp: stamp)
        keys.add(memo.key(argv))
    assert len(keys) == 2


def test_an_environment_that_changes_the_output_is_not_replayed(tmp_path: Path) -> None:
    """A run whose streams cannot show `·` prints ASCII: the UTF-8 answer stored before is not
    replayed to it (nor an `INFER_*` setting's answer to a run without it)."""
    (tmp_path / "s.infer").write_text("a = 3 GB\nb = a * 2\n")
    # INFER_COMPILED=0: the result cache alone (an answer from the compiled form reads no file
    # through lang.reads, so the result cache does not store it: it is fast without it)
    base = {**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "INFER_CACHE": "1", "INFER_COMPILED": "0"}
    base.pop("PYTHONIOENCODING", None)

    def run(**env: str) -> str:
        done = subprocess.run([sys.executable, "-m", "solver.cli", "solve", "s.infer", "--for", "b"],
                              cwd=tmp_path, env={**base, **env}, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.decode("utf-8")

    first = run(PYTHONIOENCODING="utf-8")
    assert "·" in first
    assert run(PYTHONIOENCODING="utf-8") == first
    entries = list((tmp_path / "cache" / "infer" / "results").glob("*.json"))
    assert len(entries) == 1                                # stored once, replayed once
    plain = run(PYTHONIOENCODING="ascii")
    assert "·" not in plain and "6 GB" in plain
    run(PYTHONIOENCODING="utf-8", INFER_ANY_SETTING="1")
    assert len(list((tmp_path / "cache" / "infer" / "results").glob("*.json"))) == 3
