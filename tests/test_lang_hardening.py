"""Issue 8's language-side reproducers: each ends in a positioned diagnostic or a right answer, fast.

Value domain (undefined and huge constants), Python's own limits (int-from-text, recursion,
file-name length), resource bombs, and the two module holes: `--set` reaching a file outside
the spec's folder, and a local module taking the place of the stdlib's module of that name.
Every case runs the CLI in-process, in a temporary folder, and must finish well inside 5 s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from solver.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOUND_S = 5.0


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def infer(folder: Path, capsys: pytest.CaptureFixture[str], spec: str, *argv: str,
          command: str = "eval", bound: float = BOUND_S) -> tuple[int, str]:
    (folder / "s.infer").write_text(spec + "\n", encoding="utf-8")
    capsys.readouterr()
    start = time.perf_counter()
    code = main([command, "s.infer", *argv])
    elapsed = time.perf_counter() - start
    captured = capsys.readouterr()
    output = captured.err + captured.out
    assert "Traceback" not in output
    assert elapsed < bound, f"{elapsed:.1f} s"
    return code, output


@pytest.mark.parametrize(("spec", "code", "message", "where"), [
    ("x = sqrt(-1)", "E0314", "the square root of a negative number", "s.infer:1:5"),
    ("x = 0 ^ -1", "E0314", "zero to a negative power", "s.infer:1:5"),
    ("x = log(0)", "E0314", "the logarithm of zero", "s.infer:1:5"),
    ("x = log(-2 * 3)", "E0314", "the logarithm of a negative number", "s.infer:1:5"),
    ("x = min(1, sqrt(-1))", "E0314", "the square root of a negative number", "s.infer:1:12"),
    ("require log(0) < 15", "E0314", "the logarithm of zero", "s.infer:1:9"),
    ("x = (-8) ^ 0.5", "E0314", "a negative number to a fractional power", "s.infer:1:5"),
    ("x = exp(2400)", "E0106", "number too large", "s.infer:1:5"),
    ("x = exp(-2400)", "E0106", "number too small", "s.infer:1:5"),
    ("x = 1e-999 ^ 2", "E0106", "number too small", "s.infer:1:5"),
    ("x = exp(exp(exp(exp(10))))", "E0106", "number too large", "s.infer:1:13"),
    ("x = floor(exp(2400))", "E0106", "number too large", "s.infer:1:11"),
    ("require floor(exp(2400)) != 1", "E0106", "number too large", "s.infer:1:15"),
    ("x = 1 GB^99999999", "E0106", "unit exponent too large", "s.infer:1:9"),
    ("x: GB^99999999", "E0106", "unit exponent too large", "s.infer:1:4"),
    ("x = " + "1" * 4301, "E0106", "number longer than 400 characters", "s.infer:1:5"),
    ("import " + "a" * 300, "E0107", "name longer than 200 characters", "s.infer:1:8"),
    ("x = " + "b" * 100_000, "E0107", "name longer than 200 characters", "s.infer:1:5"),
    ("import " + ".".join(["a" * 199] * 25), "E0401", "no module named", "s.infer:1:1"),
    ("from " + ".".join(["a" * 199] * 25) + " import x", "E0401", "no module named", "s.infer:1:1"),
])
@pytest.mark.parametrize("command", ["eval", "check"])
def test_constant_out_of_domain_is_a_positioned_diagnostic(
        folder: Path, capsys: pytest.CaptureFixture[str], spec: str, code: str, message: str,
        where: str, command: str) -> None:
    status, output = infer(folder, capsys, spec, command=command)
    assert status == 1
    assert f"error[{code}]: " in output and message in output, output[:400]
    assert f"--> {where}" in output, output[:400]


@pytest.mark.parametrize(("spec", "shown"), [
    ("x = 1.000001 ^ 100000000", "2.68798e+43"),     # e^100: a 30-digit Float, not 600 M digits
    ("x = 1.0001 ^ 100000", "22015.46"),
    ("x = floor(exp(600))", "3.77302e+260"),         # exact integer part of a 261-digit number
    ("a = 710\nx = exp(a)", "2.23399e+308"),          # past a float, still the right number
    ("a = 1000\nx = floor(exp(a))", "1.97007e+434"),
    ("x = 10 ^ 300", "1e+300"),
    ("x = exp(710)", "2.23399e+308"),               # a constant past a float: as exact as an input
    ("x = floor(exp(1000))", "1.97007e+434"),
    ("x = 10 ^ 999", "1.00000e+999"),                     # the largest power a literal could also write
    ("n = 100000000\nx = 1.000001 ^ n", "2.68798e+43"),   # the same power, met while evaluating
    ("n = 100000000\nx = 3 ^ n", "2.96460e+47712125"),
])
def test_huge_finite_values_are_right(folder: Path, capsys: pytest.CaptureFixture[str], spec: str,
                                      shown: str) -> None:
    status, output = infer(folder, capsys, spec)
    assert status == 0, output
    assert output.splitlines()[-1].split()[-1] == shown


@pytest.mark.parametrize(("spec", "name", "reason"), [
    ("a = -1\nx = sqrt(a)", "x", "not a real number"),
    ("a = 0\nx = log(a)", "x", "a division by zero (or the logarithm of zero)"),
    ("a = -8\nx = a ^ (1/3)", "x", "not a real number"),
    ("a = 10\nx = exp(exp(exp(exp(a))))", "x", "too large to compute"),
    ("a = 0\nb = 1/a\nc = b + 1", "c", "reads `b`, a division by zero"),
    ("a = 3\nb = 100000000\nx = log(a - 3) * 7 ^ b", "x", "the logarithm of zero"),   # and no 7^(10^8)
])
def test_undefined_at_evaluation_says_why(folder: Path, capsys: pytest.CaptureFixture[str], spec: str,
                                          name: str, reason: str) -> None:
    status, output = infer(folder, capsys, spec)
    assert status == 0, output
    line = next(row for row in output.splitlines() if row.split()[:1] == [name])
    assert "? (undefined: " in line and reason in line, line


def test_definitions_written_top_down(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chain = "\n".join([f"x{i} = x{i + 1} + 1" for i in range(999)] + ["x999 = 1"])
    status, output = infer(folder, capsys, chain)
    assert status == 0, output[:400]
    assert output.splitlines()[0].split() == ["x0", "1000"]


def test_longest_accepted_operator_chain_works(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 397 chained operators is the documented limit (docs/language.md §11): accepted, so it must work.
    status, output = infer(folder, capsys, "x = " + " + ".join(["1"] * 398))
    assert status == 0, output[:400]
    assert output.split() == ["x", "398"]


@pytest.mark.parametrize(("setting", "code", "where"), [
    ("x=" + "1" * 4301, "E0106", "<--set>:1:3"),
    ("x=" + "a" * 300, "E0107", "<--set>:1:3"),
    ("a" * 300 + "=1", "E0107", "<--set>:1:1"),
    ("x=1 B^99999999", "E0106", "<--set>:1:6"),
    ("x=sqrt(-4)", "E0314", "<--set>:1:3"),
])
def test_set_obeys_the_same_limits(folder: Path, capsys: pytest.CaptureFixture[str], setting: str, code: str,
                                   where: str) -> None:
    status, output = infer(folder, capsys, "x: count", "--set", setting)
    assert status == 1
    assert f"error[{code}]" in output and f"--> {where}" in output, output[:400]


def test_where_obeys_the_same_limits(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = infer(folder, capsys, "x: count\ny = 2 * x", "--for", "x", "--where",
                           "y=" + "1" * 4301, command="solve")
    assert status == 1
    assert "error[E0106]" in output, output[:400]


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ"])
def test_set_cannot_read_a_file_outside_the_folder(folder: Path, capsys: pytest.CaptureFixture[str],
                                                   target: str) -> None:
    if os.name != "posix" or not Path(target).exists():
        pytest.skip(f"needs {target}")
    (folder / "pw.infer").symlink_to(target)
    secret = Path(target).read_bytes()[:40].decode("utf-8", "replace").split(":")[0].split("=")[0]
    status, output = infer(folder, capsys, "x: count", "--set", "x=pw.root")
    assert status == 1
    assert "error[E0404]: module `pw` is outside the spec's folder" in output
    assert len(secret) < 3 or secret not in output.replace("pw.root", "")
    # the same rule as an `import` written in the spec
    status, output = infer(folder, capsys, "import pw\nx = pw.root")
    assert status == 1 and "error[E0404]" in output


def test_a_symlink_inside_the_folder_still_works(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "real").mkdir()
    (folder / "real" / "lib.infer").write_text("size = 3 GB\n", encoding="utf-8")
    (folder / "lib.infer").symlink_to(folder / "real" / "lib.infer")
    status, output = infer(folder, capsys, "import lib\ny = 2 * lib.size")
    assert status == 0 and output.split()[-2:] == ["6", "GB"], output
    status, output = infer(folder, capsys, "y: GB", "--set", "y=2 * lib.size")
    assert status == 0 and output.split()[-2:] == ["6", "GB"], output


def test_a_local_module_does_not_replace_the_stdlibs(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A `precisions.infer` beside a spec is the spec's; the stdlib's `serving` keeps its own."""
    stdlib = (ROOT / "stdlib" / "precisions.infer").read_text(encoding="utf-8")
    planted = stdlib.replace("bits = 16                             # bfloat16", "bits = 1600  # bfloat16")
    assert planted != stdlib
    (folder / "precisions.infer").write_text(planted, encoding="utf-8")
    spec = ("import gpus\nimport models\nimport serving\nfrom precisions import bf16\n"
            "local = bf16.bytes_per_element\n"
            "chat = serving.deployment {\n  model = models.llama_3_1_70b\n  gpu = gpus.h100_sxm\n  tp = 4\n"
            "  prompt = 2048 token\n  output = 512 token\n  batch = 1\n}\n"
            "head = chat.head_weights.bytes_per_element\n")
    status, output = infer(folder, capsys, spec, bound=60)     # the serving model: not a bomb
    assert status == 0, output[:1000]
    rows = {row.split()[0]: row.split()[1:] for row in output.splitlines() if row.strip()}
    assert rows["local"] == ["200", "B"]
    assert rows["head"] == ["2", "B"]
    # and the `--set` path names the local module, as the spec's own import does
    status, output = infer(folder, capsys, spec, "--set", "chat.kv_cache=precisions.bf16", bound=60)
    assert status == 0, output[:1000]


@pytest.mark.parametrize("spec", [
    "a = -1\nrequire sqrt(a) < 1",
    "a = 0\nrequire log(a) < 15",
    "a = 0\nrequire 1/a < 15",
    "a = 10\nrequire exp(exp(exp(exp(a)))) > 1",
])
def test_a_requirement_on_an_undefined_value_is_unknown(folder: Path, capsys: pytest.CaptureFixture[str],
                                                        spec: str) -> None:
    """Neither met nor broken: `?`, with no margin computed from a number that does not exist."""
    status, output = infer(folder, capsys, spec)
    assert status == 0, output
    row = next(line for line in output.splitlines() if "require" in line)
    assert row.startswith("?") and "spare" not in row and "over" not in row, row
