"""The compiled form of a spec (solver.fastpath, on unless INFER_COMPILED=0) answers `eval`, `solve
--for QUANTITY` and `solve --for GOAL` with the full pipeline's bytes, imports none of sympy, lark,
pint, numpy or pydantic, and is never replayed stale: an edited spec or imported module, another
code version or environment rebuilds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import fastbuild, fastpath, memo
from solver.api import Spec
from solver.optimize import GoalSolver, SolveError
from solver.render import render_evaluation, render_solution
from tests.conftest import REPO

SPECS = sorted((REPO / "specs").glob("*.infer")) + sorted((REPO / "tests" / "acceptance").glob("*.infer"))
NUMBERS = ["3", "17.5", "4096"]
FORMATS = ["text", "json", "markdown", "latex"]
answered: dict[str, int] = {}


def _id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _full(path: Path, sets: list[str], targets: list[str] = ()) -> tuple[str, ...] | None:  # type: ignore[assignment]
    """The full pipeline's `eval` text and JSON, and `solve --for` each target in text."""
    try:
        spec = Spec.load(path, sets)
    except Exception:      # an override the spec refuses: the fast path must have refused it too
        return None
    evaluation = spec.eval()
    out = [render_evaluation(evaluation, "text"), render_evaluation(evaluation, "json")]
    for target in targets:
        try:
            solution = spec.solve(target)
            out += [render_solution(solution, fmt) for fmt in FORMATS]
        except SolveError as err:
            out += [f"SolveError: {err}"] * len(FORMATS)
    return tuple(out)


def _fast(path: Path, sets: list[str], targets: list[str] = ()) -> tuple[str, ...] | None:  # type: ignore[assignment]
    text, as_json = (fastpath.answer_eval(path, sets, j, False) for j in (False, True))
    assert (text is None) == (as_json is None)
    solved = [fastpath.answer_solve(path, sets, t, fmt, [], None) for t in targets for fmt in FORMATS]
    assert all((s is None) == (text is None) for s in solved), "one value undefined: all fall back"
    if text is None or as_json is None:
        return None
    return (text, as_json, *(s or "" for s in solved))


def _targets(path: Path) -> list[str]:
    """Quantities to derive forward: the spec's last two with a value, and one a record's input."""
    found = fastpath.load(path)
    assert found is not None
    names = list(found[0]["forward"])
    return names[-2:] + [n for n in names if found[0]["forward"][n]["input"]][:1]


def _questions(path: Path, count: int) -> list[list[str]]:
    """`--set` questions on the spec's own inputs (a new number in each input's unit)."""
    found = fastpath.load(path)
    assert found is not None
    data, _ = found
    own = [n for n, _ in data["quantities"] if n in data["inputs"]]
    out = []
    for i, name in enumerate(own[:count]):
        unit = data["inputs"][name]["unit"]
        out.append([f"{name}={NUMBERS[i % len(NUMBERS)]}{(' ' + unit) if unit and i % 2 else unit}"])
    if len(own) > count:        # two at once, from the end of the spec
        last, before = own[-1], own[-2]
        out.append([f"{last}=7{data['inputs'][last]['unit']}", f"{before}=2.25{data['inputs'][before]['unit']}"])
    return out


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bool]]:
    """Every spec's compiled form, built once (each build checks the spec's own `eval`)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("compiled")))
        yield {_id(p): fastbuild.refresh(p) for p in SPECS}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: _id(p))
def test_the_compiled_form_answers_eval_with_the_full_pipelines_bytes(path: Path, compiled: dict[str, bool],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", os.environ.get("XDG_CACHE_HOME", ""))
    if not compiled[_id(path)]:
        assert fastpath.answer_eval(path, [], False, False) is None
        return
    targets = _targets(path)
    for sets in _questions(path, 3 if _id(path) == "specs/chat.infer" else 1):
        fast = _fast(path, sets, targets)
        if fast is not None:
            assert fast == _full(path, sets, targets), sets
            answered[_id(path)] = answered.get(_id(path), 0) + 1


def test_most_specs_compile_and_answer_new_questions(compiled: dict[str, bool]) -> None:
    kept = [name for name, ok in compiled.items() if ok]
    assert "specs/chat.infer" in kept and len(kept) >= len(SPECS) - 4, compiled
    assert answered.get("specs/chat.infer", 0) >= 3 and len(answered) >= len(kept) - 3, answered


def test_chat_answers_new_prompts_and_derivations_with_the_full_pipelines_bytes(compiled: dict[str, bool]) -> None:
    chat = REPO / "specs" / "chat.infer"
    targets = ["chat.kv_per_token", "chat.prefill_time", "chat.prompt"]
    for prompt in ("1000token", "3000 token", "8192.5token"):
        sets = [f"chat.prompt={prompt}"]
        fast = _fast(chat, sets, targets)
        assert fast is not None and fast == _full(chat, sets, targets)
    # a quantity that reads the unknown, a name not in the spec, --where and a wrong --in: the full pipeline
    for target in ("chat.itl", "chat.nope"):
        assert fastpath.answer_solve(chat, [], target, "text", [], None) is None
    assert fastpath.answer_solve(chat, [], "chat.kv_per_token", "text", [], "s") is None   # --in: E0301
    assert fastpath.answer_solve(chat, [], "chat.prompt", "text", ["chat.ttft=1 s"], None) is None


@pytest.mark.parametrize("sets", [["chat.prompt=1ktoken"], ["chat.prompt=1000 s"], ["chat.prompt=0token"],
                                  ["chat.gpu=gpus.a100_80gb_sxm"], ["chat.prompt=2e3token"],
                                  ["chat.batch=8"], ["chat.ttft=1s"], ["chat.prompt=1token", "chat.prompt=2token"]])
def test_what_the_compiled_form_cannot_do_exactly_falls_back(sets: list[str], compiled: dict[str, bool]) -> None:
    chat = REPO / "specs" / "chat.infer"
    assert fastpath.answer_eval(chat, sets, False, False) is None
    assert fastpath.answer_eval(chat, [], False, True) is None        # --strict


def _spec_with_module(tmp_path: Path, value: str) -> Path:
    (tmp_path / "parts.infer").write_text(f"base = {value} GB\n")
    spec = tmp_path / "s.infer"
    spec.write_text("import parts\nextra = 3 GB\ntotal = parts.base + extra\nrequire total <= 100 GB\n")
    return spec


@pytest.mark.usefixtures("_private_cache")
def test_an_edited_spec_or_imported_module_is_never_replayed(tmp_path: Path) -> None:
    spec = _spec_with_module(tmp_path, "10")
    assert fastbuild.refresh(spec)
    assert "14 GB" in fastpath.answer_eval(spec, ["extra=4 GB"], False, False)  # type: ignore[operator]
    (tmp_path / "parts.infer").write_text("base = 20 GB\n")
    assert fastpath.load(spec) is None
    assert fastbuild.refresh(spec)
    assert "24 GB" in fastpath.answer_eval(spec, ["extra=4 GB"], False, False)  # type: ignore[operator]
    spec.write_text(spec.read_text().replace("extra = 3 GB", "extra = 3 GB\nmore = 1 GB"))
    assert fastpath.load(spec) is None


@pytest.mark.usefixtures("_private_cache")
def test_the_stdlib_files_a_spec_imports_are_checked(tmp_path: Path) -> None:
    chat = tmp_path / "chat.infer"
    chat.write_text((REPO / "specs" / "chat.infer").read_text())
    assert fastbuild.refresh(chat)
    folder = tmp_path / "cache" / "infer" / "compiled"
    entry = json.loads(next(folder.glob("*.json")).read_text())
    read = {p for k, p, _ in entry["reads"] if k == "read"}
    assert any(p.endswith("stdlib/serving.infer") for p in read), read
    # A changed stdlib file is a changed outcome: the form is not loaded.
    entry["reads"] = [[k, p, "0" * 64 if p.endswith("stdlib/serving.infer") else v] for k, p, v in entry["reads"]]
    next(folder.glob("*.json")).write_text(json.dumps(entry))
    assert fastpath.load(chat) is None


@pytest.mark.usefixtures("_private_cache")
def test_another_code_version_or_environment_is_another_form(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec_with_module(tmp_path, "10")
    assert fastbuild.refresh(spec)
    assert fastpath.load(spec) is not None
    monkeypatch.setenv("INFER_SOMETHING", "1")
    assert fastpath.load(spec) is None
    monkeypatch.delenv("INFER_SOMETHING")
    assert fastpath.load(spec) is not None
    monkeypatch.setattr(memo, "code_stamp", lambda: "another version")
    assert fastpath.load(spec) is None


@pytest.mark.usefixtures("_private_cache")
def test_a_tampered_form_is_never_run(tmp_path: Path) -> None:
    spec = _spec_with_module(tmp_path, "10")
    assert fastbuild.refresh(spec)
    path = next((tmp_path / "cache" / "infer" / "compiled").glob("*.json"))
    entry = json.loads(path.read_text())
    entry["source"] = entry["source"].replace("return v", "raise SystemExit(9)")
    path.write_text(json.dumps(entry))
    assert fastpath.load(spec) is None
    os.chmod(path, 0o666)
    assert fastpath.load(spec) is None


def _goal_questions(path: Path) -> tuple[list[str], list[list[str]]]:
    """Each of the spec's first inputs a little off its own value (the own values are checked as
    each goal is built): the interactive loop's questions."""
    found = fastpath.load(path)
    assert found is not None
    data, namespace = found
    own = [n for n, _ in data["quantities"] if n in data["inputs"] and data["inputs"][n]["unit"]]   # not tp, pp
    values = namespace["values"]({})
    questions = []
    for i, name in enumerate(own[:3 if _id(path) == "specs/chat.infer" else 2]):
        unit = data["inputs"][name]
        shown = values[name] / Fraction(unit["p"], unit["q"]) * [Fraction(11, 10), Fraction(4, 5), Fraction(3, 2)][i]
        questions.append([f"{name}={float(shown):.4f}".rstrip("0").rstrip(".") + unit["unit"]])
    return list(data["goals"]), questions


goals_answered: dict[str, int] = {}


@pytest.mark.parametrize("path", [p for p in SPECS if "acceptance" not in p.parts], ids=lambda p: _id(p))
def test_the_compiled_form_answers_goals_with_the_full_pipelines_bytes(path: Path, compiled: dict[str, bool]) -> None:
    if not compiled[_id(path)]:
        return
    goals, questions = _goal_questions(path)
    for goal in goals:
        for sets in questions:
            fast = [fastpath.answer_solve(path, sets, goal, fmt, [], None) for fmt in FORMATS]
            assert all(f is None for f in fast) or None not in fast
            if fast[0] is None:
                continue
            solution = Spec.load(path, sets).solve(goal)
            assert fast == [render_solution(solution, fmt) for fmt in FORMATS], (goal, sets)
            goals_answered[_id(path)] = goals_answered.get(_id(path), 0) + 1


def test_most_goals_compile_and_answer_new_questions(compiled: dict[str, bool]) -> None:
    # maximize a whole-number unknown, no choice: chat, calculator, kv-budget, long-context-kv,
    # multi-node (2 goals), rag
    assert goals_answered.get("specs/chat.infer", 0) >= 2, goals_answered
    assert len(goals_answered) >= 4, goals_answered


@given(prompt=st.integers(min_value=200, max_value=30000), output=st.sampled_from([128, 512, 2048]))
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_chat_max_batch_is_the_full_pipelines_or_falls_back(prompt: int, output: int,
                                                            compiled: dict[str, bool]) -> None:
    chat = REPO / "specs" / "chat.infer"
    sets = [f"chat.prompt={prompt}token", f"chat.output={output}token"]
    fast = fastpath.answer_solve(chat, sets, "max_batch", "json", [], None)
    if fast is not None:
        try:
            full = render_solution(Spec.load(chat, sets).solve("max_batch"), "json")
        except SolveError as err:       # the compiled form answers only where there is an answer
            pytest.fail(f"compiled answer where the full pipeline finds none: {err}")
        assert fast == full


@pytest.mark.parametrize("sets, shown", [([], False), (["chat.draft_tokens=3"], True)])
def test_a_verdict_an_input_settles_is_not_noted_at_the_answer(sets: list[str], shown: bool,
                                                              compiled: dict[str, bool]) -> None:
    # With no draft, `speculation_limit = off` whatever the batch: not a finding of the answer.
    # With one, which limit binds moves with the batch, so both paths note it; `bottleneck` always.
    chat = REPO / "specs" / "chat.infer"
    full = render_solution(Spec.load(chat, sets).solve("max_batch"), "text")
    fast = fastpath.answer_solve(chat, sets, "max_batch", "text", [], None)
    for out in [full] + ([fast] if fast is not None else []):
        assert "note: at the answer, chat.bottleneck = memory" in out
        assert ("chat.speculation_limit" in out) == shown, out
    assert fast is None or fast == full


def test_a_goal_that_is_not_compiled_takes_the_full_pipeline(compiled: dict[str, bool]) -> None:
    choice = REPO / "specs" / "gpu-choice.infer"      # a choice to enumerate
    assert compiled[_id(choice)]
    assert fastpath.answer_solve(choice, [], "cheapest", "text", [], None) is None
    chat = REPO / "specs" / "chat.infer"
    assert fastpath.answer_solve(chat, ["chat.tp=3"], "max_batch", "text", [], None) is None   # no answer


def test_a_new_question_imports_neither_sympy_nor_lark_nor_pint(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "INFER_COMPILED"}, "PYTHONPATH": str(REPO),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"}      # on by default
    chat = str(REPO / "specs" / "chat.infer")
    for argv in (["eval", chat], ["solve", chat, "--for", "max_batch"]):    # builds the form, then the goal
        first = subprocess.run([sys.executable, "-m", "solver.cli", *argv], env=env, capture_output=True,
                               text=True, timeout=120)
        assert first.returncode == 0, first.stderr
    probe = ("import sys\nfrom solver import cli\ncode = cli.main(sys.argv[1:])\n"
             "heavy = sorted(m for m in ('sympy', 'lark', 'pint', 'numpy', 'pydantic') if m in sys.modules)\n"
             "print('HEAVY', code, heavy, file=sys.stderr)")
    # a prompt that keeps the answer on the recorded branches: at 1234 tokens max_batch reaches 184, where
    # the 4 x H100's FP8 GEMMs turn compute-bound and the full pipeline answers, as it should
    for argv in (["eval", chat, "--set", "chat.prompt=1800token"],
                 ["solve", chat, "--for", "chat.prefill_time", "--set", "chat.prompt=1800token"],
                 ["solve", chat, "--for", "max_batch", "--set", "chat.prompt=1800token"]):
        fast = subprocess.run([sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True,
                              timeout=120)
        assert "HEAVY 0 []" in fast.stderr, fast.stderr
        full = subprocess.run([sys.executable, "-m", "solver.cli", *argv], env={**env, "INFER_COMPILED": "0"},
                              capture_output=True, text=True, timeout=120)
        assert fast.stdout == full.stdout and full.returncode == 0
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert fastpath.load(chat) is not None     # the Python API (Spec.load) finds the form the CLI built


def test_the_executable_builds_the_form_after_the_answer_in_a_detached_child(tmp_path: Path) -> None:
    """`infer` prints a full-pipeline answer and exits; the form is built by a child the caller
    does not wait for (its pipe closes at once), and the next question finds it."""
    import time

    env = {k: v for k, v in os.environ.items() if k not in ("INFER_COMPILED", "INFER_COMPILE_WAIT")}
    env.update({"PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(tmp_path / "cache"), "INFER_CACHE": "1"})
    chat = str(REPO / "specs" / "chat.infer")
    done = subprocess.run([sys.executable, "-m", "solver.cli", "solve", chat, "--for", "max_batch"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "max_batch = " in done.stdout, done.stderr
    probe = ("import os, sys\nfrom solver import fastpath\n"
             "print('FOUND' if fastpath.load_entry(sys.argv[1]) else 'NONE')")
    deadline = time.monotonic() + 90
    while True:
        found = subprocess.run([sys.executable, "-c", probe, chat], env=env, capture_output=True, text=True,
                               timeout=60)
        if "FOUND" in found.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "FOUND" in found.stdout, found.stderr
    again = subprocess.run([sys.executable, "-m", "solver.cli", "solve", chat, "--for", "max_batch", "--set",
                            "chat.prompt=2100token"], env={**env, "INFER_DEBUG": "1"}, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "max_batch = " in again.stdout, again.stderr


def test_override_values_are_exact_in_the_inputs_unit() -> None:
    inputs = {"a": {"unit": "ms", "p": 1, "q": 1000}}
    assert fastpath.overrides(["a=2.5ms"], inputs) == {"a": Fraction(1, 400)}
    with pytest.raises(fastpath.Fallback):
        fastpath.overrides(["a=2.5s"], inputs)


@pytest.mark.usefixtures("_private_cache")
def test_a_sound_form_is_not_rebuilt_after_a_question_it_fell_back_on(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec_with_module(tmp_path, "10")
    assert fastbuild.ensure(spec)
    monkeypatch.setattr(fastbuild, "refresh", lambda *a: pytest.fail("rebuilt"))
    assert fastbuild.ensure(spec)


@pytest.mark.usefixtures("_private_cache")
def test_spec_load_of_a_compiled_spec_answers_its_goal_from_the_compiled_form(monkeypatch: pytest.MonkeyPatch) -> None:
    chat = REPO / "specs" / "chat.infer"
    monkeypatch.setenv("INFER_CACHE", "1")
    assert fastbuild.refresh(chat)
    sets = ["chat.prompt=2500token"]
    monkeypatch.setenv("INFER_COMPILED", "0")
    expected = Spec.load(chat, sets).solve("max_batch")
    monkeypatch.delenv("INFER_COMPILED")
    spec = Spec.load(chat, sets)
    monkeypatch.setattr(GoalSolver, "solve", lambda *a: pytest.fail("the full pipeline's search ran"))
    assert spec.solve("max_batch") == expected


@pytest.mark.usefixtures("_private_cache")
def test_a_goal_is_compiled_when_first_asked_and_tried_once(monkeypatch: pytest.MonkeyPatch) -> None:
    chat = REPO / "specs" / "chat.infer"
    spec = Spec.load(chat)
    assert fastbuild.ensure(chat, None)              # as after `infer eval`: no goal compiled yet
    assert fastpath.answer_solve(chat, [], "max_batch", "text", [], None) is None
    sets = ["chat.prompt=2000token"]
    asked = Spec.load(chat, sets)
    solution = asked.solve("max_batch")
    assert fastbuild.ensure(chat, spec, "max_batch", asked, sets, solution)
    assert fastpath.answer_solve(chat, sets, "max_batch", "text", [], None) == render_solution(solution, "text")
    found = fastpath.load(chat)
    assert found is not None and found[0]["goals_tried"] == ["max_batch"]
    monkeypatch.setattr(fastbuild, "add_goal", lambda *a: pytest.fail("tried again"))
    assert fastbuild.ensure(chat, spec, "max_batch", asked, sets, solution)


@pytest.mark.usefixtures("_private_cache")
def test_a_compiled_goal_adds_the_closed_form_of_another_branch_once_asked() -> None:
    chat = REPO / "specs" / "chat.infer"
    assert fastbuild.refresh(chat)
    sets = ["chat.prompt=250token"]          # a short prompt: another branch of a min is active
    assert fastpath.answer_solve(chat, sets, "max_batch", "text", [], None) is None
    asked = Spec.load(chat, sets)
    solution = asked.solve("max_batch")
    assert fastbuild.ensure(chat, None, "max_batch", asked, sets, solution)
    for prompt in ("250token", "260token"):
        sets = [f"chat.prompt={prompt}"]
        expected = render_solution(Spec.load(chat, sets).solve("max_batch"), "json")
        assert fastpath.answer_solve(chat, sets, "max_batch", "json", [], None) == expected


@pytest.mark.usefixtures("_private_cache")
def test_a_spec_the_form_cannot_answer_is_not_tried_again_until_it_changes(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "s.infer"
    spec.write_text("a = 2 GB\nb = sqrt(a * 1 GB)\n")      # a square root: not compiled
    assert not fastbuild.ensure(spec)
    assert fastpath.refused(spec) and fastpath.load(spec) is None
    monkeypatch.setattr(fastbuild, "build", lambda *a: pytest.fail("tried again"))
    assert not fastbuild.ensure(spec)
    spec.write_text("a = 2 GB\nb = a * 2\n")
    assert not fastpath.refused(spec)
