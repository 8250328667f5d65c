"""The `infer` command: the only place that prints or exits.

Exit codes: 0 success; 1 the spec has errors or the problem has no solution
(explained), or `eval --strict` found a requirement that does not hold; 2 bad
command-line use (including a file named on the command line that cannot be
written or read); 3 an internal error (a bug: one line on stderr, the traceback
with INFER_TRACEBACK=1).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lang.diagnostics import InferError, SourceMap, render_all, sorted_diagnostics
from solver.cliargs import build_parser

if TYPE_CHECKING:
    from solver.validation_report import Refit

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


# --- commands ---------------------------------------------------------------------------


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from solver.api import Spec

    spec = Spec.load(args.spec, getattr(args, "sets", []))
    _warn(spec)
    return spec



def _warn(spec) -> None:  # type: ignore[no-untyped-def]
    if spec.warnings:
        print(render_all(spec.warnings, spec.sources), file=sys.stderr)
        print(file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    spec = _load(args)
    g = spec.graph
    print(f"ok: {args.spec}: {len(g.root_names)} quantities, {len(g.requirements)} requirements, "
          f"{len(g.goals)} goals")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from solver import fastpath

    if fastpath.enabled():      # the spec's compiled form answers (INFER_COMPILED=0: never)
        answer = fastpath.answer_eval(args.spec, args.sets, args.json, getattr(args, "strict", False))
        if answer is not None:
            print(answer)
            return EXIT_OK
    from solver.render import render_evaluation

    spec = _load(args)
    evaluation = spec.eval()
    print(render_evaluation(evaluation, "json" if args.json else "text"))
    if fastpath.enabled():
        from solver.fastbuild import ensure

        _after_answer(lambda: ensure(args.spec, None if args.sets else spec))
    if getattr(args, "strict", False):
        broken = [r for r in evaluation.requirements if r.holds is False]
        undecided = [r for r in evaluation.requirements if r.holds is None]
        if broken or undecided:
            print(f"error: --strict: {len(broken)} requirement{'s' if len(broken) != 1 else ''} fail, "
                  f"{len(undecided)} cannot be decided", file=sys.stderr)
            return EXIT_SPEC
    return EXIT_OK


def _where(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq:
            raise _Usage(f"--where takes NAME=VALUE, not `{item}`")
        out[name.strip()] = value
    return out


class _Usage(Exception):
    pass


def cmd_solve(args: argparse.Namespace) -> int:
    from solver import fastpath

    fmt = "json" if args.json else args.format
    if fastpath.enabled():      # a quantity's derivation or a goal, compiled (INFER_COMPILED=0: never)
        answer = fastpath.answer_solve(args.spec, args.sets, args.target, fmt, args.where, args.unit)
        if answer is not None:
            print(answer)
            return EXIT_OK
    from solver.optimize import SolveError
    from solver.render import render_solution

    spec = _load(args)
    try:
        solution = spec.solve(args.target, _where(args.where), args.unit)
    except SolveError as err:
        if err.solution is not None:
            print(render_solution(err.solution, fmt))
        if fmt != "json" or err.solution is None:
            print(f"error[E0800]: no solution: {err}", file=sys.stderr)
        return EXIT_SPEC
    print(render_solution(solution, fmt))
    if fastpath.enabled():
        from solver.fastbuild import ensure

        goal = solution.target if solution.kind == "goal" and not args.where and not args.unit else None
        _after_answer(lambda: ensure(args.spec, None if args.sets else spec, goal, spec, args.sets, solution))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from solver import api  # api.SolveError is looked up only when one is raised (no sympy before)
    from solver.render import render_solution

    spec = _load(args)          # a cached spec answers from its compiled form (solver.formspec)
    try:
        solution = spec.solve(args.target, _where(args.where))
    except api.SolveError as err:
        print(f"error[E0800]: no solution: {err}", file=sys.stderr)
        return EXIT_SPEC
    body = render_solution(solution, args.format)
    if args.format == "latex":
        title = f"\\subsection*{{{solution.target.replace('_', chr(92) + '_')}}}\n"
        intro = f"From \\texttt{{{Path(args.spec).name.replace('_', chr(92) + '_')}}}.\n\n"
        text = title + intro + body
    else:
        text = f"## {solution.target}\n\nFrom `{Path(args.spec).name}`.\n\n" + body
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text, end="")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    from solver import fastsweep
    from solver.sweep import SweepUsage
    from solver.sweep_output import sweep_command

    out = fastsweep.answer(args)      # this sweep's stored NumPy columns, where it has them
    if out is None:
        spec = _load(args)
        try:
            out = sweep_command(spec, args)
        except SweepUsage as err:
            print(render_all(err.diagnostics, spec.sources) if err.diagnostics else f"error: {err}",
                  file=sys.stderr)
            return EXIT_USAGE
        if fastsweep.enabled():
            table = out.table
            _after_answer(lambda: fastsweep.build(args, table))
    print(out.table)
    for path in out.wrote:
        print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    from solver.graphviz import render_graph

    spec = _load(args)
    print(render_graph(spec.graph, args.format))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from lang.hf import import_config

    print(import_config(args.config, args.name), end="")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from solver.catalog import list_catalog

    print(list_catalog(args.catalog, args.json))
    return EXIT_OK


def cmd_page(args: argparse.Namespace) -> int:
    from solver.page import build_page

    html, spec = build_page(args.spec)
    out = args.output or Path(spec.stem + ".html")
    try:
        out.write_text(html, encoding="utf-8")
    except OSError as err:
        raise _Usage(f"cannot write {out}: {err.strerror or err}") from None
    print(f"wrote {out} ({len(html.encode()) // 1024} KiB): open it in a browser, offline")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    if getattr(args, "feature", None) == "vision":
        return _validate_vision(args)
    if getattr(args, "feature", None) == "speculation":
        return _validate_speculation(args)
    if args.load:
        from solver.validate_traffic import tables

        print(tables())
        return EXIT_OK
    from solver import validation, validation_report

    try:
        v = validation.run(getattr(args, "csv", None))
    except (validation.MissingCSV, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.refit:
        return _refit(validation_report.refit(v), args.write)
    _report(validation_report.markdown(v) if args.markdown else validation_report.text_report(v), args.output)
    for line in validation_report.problems(v):
        print(line, file=sys.stderr)
    return EXIT_OK if v.ok else 1


def _refit(fit: Refit | None, write: bool) -> int:
    """`infer validate --refit [--write]`: print the changed stdlib lines; --write writes them."""
    if fit is None:
        print("error: no timing row could be fitted", file=sys.stderr)
        return 1
    for old, new in fit.changes:
        print(f"- {old.strip()}\n+ {new.strip()}")
    if not fit.changes:
        print("stdlib/serving.infer already holds the fit")
    elif write:
        fit.path.write_text(fit.text, encoding="utf-8")
        print(f"wrote {fit.path} ({len(fit.changes)} factor(s) refitted); "
              "regenerate docs/validation.md next")
    return EXIT_OK


def _report(text: str, output: Path | None) -> None:
    """A validation report: written to `-o FILE` (and said so), else printed."""
    if output:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}")
    else:
        print(text, end="")


def _validate_vision(args: argparse.Namespace) -> int:
    """`infer validate --feature vision`: exit 1 when a VL row misses its target."""
    from solver import validate_vision

    rows = validate_vision.predict(getattr(args, "csv", None))
    _report(validate_vision.markdown(rows) if args.markdown else validate_vision.text_report(rows), args.output)
    return EXIT_OK if all(r.met for r in rows if r.predicted is not None) else 1


def _validate_speculation(args: argparse.Namespace) -> int:
    """`infer validate --feature speculation`: 1 when a target is missed, 2 when the CSV is unreadable."""
    from solver import validate_speculation

    try:
        v = validate_speculation.run(getattr(args, "csv", None))
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    _report(validate_speculation.markdown(v) if args.markdown else validate_speculation.text_report(v), args.output)
    for r in v.failures:
        print(f"error: row {r.row.id} could not be predicted: {r.reason}", file=sys.stderr)
    return EXIT_OK if v.ok else 1


def cmd_simulate(args: argparse.Namespace) -> int:
    from solver import fastsim
    from solver.simgrid import options_from_args, run_from_args
    from solver.simrun import SimUsage

    fast = fastsim.answer(args)         # a stored step cost, where it has one
    if fast is not None:
        text, notes = fast
    else:
        spec = _load(args)
        try:
            text, notes = run_from_args(spec, args, options_from_args(args))
        except SimUsage as err:
            raise _Usage(str(err)) from None
        if fastsim.enabled():
            _after_answer(lambda: fastsim.build(args))
    print(text)
    for note in notes:
        print(note, file=sys.stderr)
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    from lang.format import check, format_source

    errors: list[tuple[InferError, str, str]] = []
    unformatted = 0
    names = [str(f) for n in args.files
             for f in (sorted(Path(n).rglob("*.infer")) if n != "-" and Path(n).is_dir() else [n])]
    for name in names:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _Usage(f"cannot read `{name}`: {exc}") from None
        shown = "stdin" if name == "-" else name
        try:
            if args.check:
                diff = check(text, shown)
                unformatted += bool(diff)
                sys.stdout.write(diff)
            elif name == "-":
                sys.stdout.write(format_source(text, shown))
            else:
                formatted = format_source(text, shown)
                if formatted != text:
                    Path(name).write_text(formatted, encoding="utf-8")
                    print(f"formatted {name}", file=sys.stderr)
        except InferError as err:
            errors.append((err, shown, text))
    for failed, shown, text in errors:
        sources = SourceMap()
        sources.add(shown, text)
        print(render_all(failed.diagnostics, sources), file=sys.stderr)
    if args.check and unformatted:
        print(f"{unformatted} file{'s' if unformatted != 1 else ''} not formatted", file=sys.stderr)
    return EXIT_SPEC if errors or (args.check and unformatted) else EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from solver.diff import DiffError, diff_revision, diff_specs, render_diff

    if (args.new is None) == (args.rev is None):
        raise _Usage("give two specs (infer diff OLD NEW) or one spec and --rev GITREV")
    try:
        result = diff_revision(args.old, args.rev) if args.rev else diff_specs(args.old, args.new)
    except DiffError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_SPEC
    print(render_diff(result, "json" if args.json else args.format), end="")
    return EXIT_OK


def cmd_lsp(args: argparse.Namespace) -> int:
    from solver.lsp import serve

    serve()
    return EXIT_OK



# Work the answer does not wait for: building the spec's compiled form after a full-pipeline
# answer (solver.fastbuild). `main` runs it before it returns; the `infer` executable (`run`)
# prints the answer, then builds in a detached child so the shell gets its prompt back at once.
_AFTER: list[Callable[[], object]] = []


# what each subcommand of solver/cliargs.py runs
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": cmd_check,
    "eval": cmd_eval,
    "solve": cmd_solve,
    "export": cmd_export,
    "sweep": cmd_sweep,
    "graph": cmd_graph,
    "import": cmd_import,
    "list": cmd_list,
    "page": cmd_page,
    "validate": cmd_validate,
    "simulate": cmd_simulate,
    "fmt": cmd_fmt,
    "diff": cmd_diff,
    "lsp": cmd_lsp,
}


def _after_answer(task: Callable[[], object]) -> None:
    _AFTER.append(task)


def _finish_after() -> None:
    """Run the deferred work; it never changes the answer or the exit code, so it never fails."""
    tasks, _AFTER[:] = list(_AFTER), []
    for task in tasks:
        try:
            task()
        except Exception:       # a form not built is rebuilt next time; nothing to report
            pass


def main(argv: Sequence[str] | None = None, *, defer: bool = False) -> int:
    from solver.terminal import plain_streams

    argv = list(sys.argv[1:] if argv is None else argv)
    plain_streams()
    try:
        return _cached_main(argv)
    except Exception as err:        # the cache's own failure, outside _main's guard: still a bug
        return _internal_error(err)
    finally:
        if not defer:
            _finish_after()


def _cached_main(argv: list[str]) -> int:
    from solver import memo

    if memo.enabled(argv):
        import contextlib
        import io

        from lang.reads import recording

        entry = memo.key(argv)
        hit = memo.lookup(entry)
        if hit is not None:
            out, err, code = hit
            sys.stdout.write(out)
            sys.stderr.write(err)
            return code
        out_buf, err_buf = io.StringIO(), io.StringIO()
        try:
            with recording() as log, contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
                code = _main(argv)
        finally:
            sys.stdout.write(out_buf.getvalue())
            sys.stderr.write(err_buf.getvalue())
        memo.store(entry, argv, log, out_buf.getvalue(), err_buf.getvalue(), code)
        return code
    return _main(argv)


def _main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    run = COMMANDS[args.command]
    try:
        return run(args)
    except InferError as err:
        sources = err.sources or SourceMap()
        print(render_all(sorted_diagnostics(err.diagnostics), sources), file=sys.stderr)
        errors = sum(1 for d in err.diagnostics if d.is_error)
        print(f"\n{errors} error{'s' if errors != 1 else ''}", file=sys.stderr)
        return EXIT_SPEC
    except _Usage as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as err:
        # A path named on the command line (-o, --csv, --plot, CONFIG.json) that cannot be used.
        where = f" `{err.filename}`" if err.filename else ""
        print(f"error: cannot use{where}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # the last guard: a bug, never a spec finding
        return _internal_error(err)


def _internal_error(err: BaseException) -> int:
    """A bug: one line that says so, exit 3 (so a CI gate tells it from a finding, exit 1)."""
    import os
    import traceback

    print(f"internal error (please report it, with the command): {type(err).__name__}: "
          f"{str(err)[:200]}", file=sys.stderr)
    if os.environ.get("INFER_TRACEBACK"):
        traceback.print_exception(err, file=sys.stderr)
    else:
        print("set INFER_TRACEBACK=1 to see the traceback", file=sys.stderr)
    return EXIT_INTERNAL


def run() -> None:
    """The `infer` executable: `main`, then out without tearing the interpreter down.

    Freeing sympy's and NumPy's modules and caches at exit costs ~0.2 s of CPU, a fifth of a
    new question, and buys nothing: every file is closed by then, only the standard streams
    need flushing. (`main` itself returns, for tests and callers in the same process.) A
    compiled form to build after the answer is built in a detached child (see `_AFTER`).
    """
    from solver.startup import prepare

    prepare(sys.argv[1] if len(sys.argv) > 1 else None)     # garbage collection, BLAS threads: solver.startup
    code = main(defer=True)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:      # a reader that stopped early, as `| head` does
        pass
    if _AFTER:
        # Build the compiled form in a detached child (POSIX): the answer is out, the parent exits
        # now. The child lets go of the standard streams first, so a pipe reading the answer
        # (`$(infer ...)`, subprocess) sees its end at once. INFER_COMPILE_WAIT=1 builds in place.
        if hasattr(os, "fork") and os.environ.get("INFER_COMPILE_WAIT") != "1":
            if os.fork() != 0:
                os._exit(code)          # the parent: the answer is out
            try:
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                _finish_after()
            finally:
                os._exit(0)
        _finish_after()
    os._exit(code)


if __name__ == "__main__":
    run()
