"""`infer validate --refit`: the stdlib lines a refit changes, one per factor, comments kept."""

from __future__ import annotations

from pathlib import Path

from solver.calibrate import FACTORS, refit_lines

STDLIB = Path(__file__).resolve().parent.parent / "stdlib" / "serving.infer"


def test_every_factor_has_one_stdlib_line() -> None:
    text = STDLIB.read_text(encoding="utf-8")
    # a fit far from every stdlib value changes exactly one line per factor
    moved = {n: (f.low + f.high) / 2 * 1.01 for n, f in FACTORS.items()}
    changes = refit_lines(text, moved)
    assert sorted(new.split("=")[0].strip() for _, new in changes) == sorted(FACTORS)


def test_refit_keeps_the_comment_column_and_units() -> None:
    line = "  kernel_overhead = 6.1 us              # fixed GPU-side cost per kernel"
    [(old, new)] = refit_lines(line + "\n", {"kernel_overhead": 4.73e-6})
    assert old == line
    assert new == "  kernel_overhead = 4.73 us             # fixed GPU-side cost per kernel"
    assert new.index("#") == line.index("#")
    assert refit_lines(line + "\n", {"kernel_overhead": 6.1e-6}) == []     # already the fit
    [(_, pct)] = refit_lines("  mbu = 94 %   # x\n", {"mbu": 0.9312})
    assert pct == "  mbu = 93.1 % # x"
