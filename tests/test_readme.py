"""The README's two commands are the contract with a new user; CI runs the second verbatim."""

import re

from conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", text, flags=re.S)
    return [b.strip() for b in blocks[:2]]


def test_readme_opens_with_two_commands() -> None:
    run, test = _commands()
    assert "pip install" in run and "infer " in run
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = _commands()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci


def test_tests_read_nothing_outside_the_repository() -> None:
    # A user's clone has only the repository: whatever a test needs is copied into it.
    outside = re.compile(r"""\.\./shared|parent\s*/\s*["']shared["']|/work/shared""")
    offenders = [p.relative_to(REPO).as_posix() for p in (REPO / "tests").rglob("*.py")
                 if p.name != "test_readme.py" and outside.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
