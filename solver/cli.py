"""The `infer` command: the only place that prints or exits.

Exit codes: 0 success; 1 the spec has errors or the problem has no solution
(explained); 2 bad command-line use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from lang.diagnostics import InferError, SourceMap, render_all, sorted_diagnostics

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _spec_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", type=Path, help="a .infer file")


def _set_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                   help="override an input: --set chat.batch=32, --set rag.gpu=gpus.a100_80gb_sxm")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="infer", description="Capacity planning for LLM inference, from physics.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("check", help="parse, resolve and unit-check a spec")
    _spec_arg(p)
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("eval", help="evaluate every quantity and requirement")
    _spec_arg(p)
    _set_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("solve", help="answer a goal, a quantity, or an inversion, with its derivation")
    _spec_arg(p)
    p.add_argument("--for", dest="target", required=True, metavar="NAME", help="goal or quantity")
    _set_arg(p)
    p.add_argument("--where", action="append", default=[], metavar="NAME=VALUE",
                   help="hold a derived quantity at a value and solve --for the unknown")
    p.add_argument("--in", dest="unit", metavar="UNIT", help="show the answer in this unit")
    p.add_argument("--format", choices=["text", "markdown", "latex", "json"], default="text")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(run=cmd_solve)

    p = sub.add_parser("export", help="a derivation as a document section (LaTeX or Markdown)")
    _spec_arg(p)
    p.add_argument("--for", dest="target", required=True, metavar="NAME")
    _set_arg(p)
    p.add_argument("--where", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=["latex", "markdown"], default="markdown")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("sweep", help="evaluate quantities over a grid of inputs (vectorized)")
    _spec_arg(p)
    _set_arg(p)
    p.add_argument("--vary", action="append", required=True, metavar="NAME=A..B[:STEP]|NAME=[x,y]")
    p.add_argument("--report", required=True, metavar="NAME,NAME")
    p.add_argument("--csv", type=Path, metavar="FILE")
    p.add_argument("--plot", type=Path, metavar="FILE.png|FILE.svg")
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser("graph", help="the quantity graph as Graphviz dot or Mermaid")
    _spec_arg(p)
    p.add_argument("--format", choices=["dot", "mermaid"], default="dot")
    p.set_defaults(run=cmd_graph)

    p = sub.add_parser("import", help="import a model from a Hugging Face config.json")
    p.add_argument("source", choices=["hf"])
    p.add_argument("config", type=Path, metavar="CONFIG.json")
    p.add_argument("--name", help="the record's name (default: from the file or model type)")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("list", help="what the catalogs hold")
    p.add_argument("catalog", choices=["gpus", "models", "precisions", "interconnects", "clouds"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_list)

    p = sub.add_parser("validate", help="predict every published measurement and report the error")
    p.add_argument("--csv", type=Path, help="measurements (default: validation/measured.csv)")
    p.add_argument("--markdown", action="store_true", help="print the docs/validation.md table")
    p.add_argument("-o", "--output", type=Path)
    p.set_defaults(run=cmd_validate)

    p = sub.add_parser("fmt", help="rewrite .infer files in the canonical layout")
    p.add_argument("files", nargs="+", metavar="FILE", help="files (or folders) to rewrite in place; `-` reads stdin")
    p.add_argument("--check", action="store_true", help="change nothing; print a diff and exit 1 if unformatted")
    p.set_defaults(run=cmd_fmt)

    p = sub.add_parser("diff", help="what changed between two versions of a spec, and what it did")
    p.add_argument("old", type=Path, metavar="OLD.infer")
    p.add_argument("new", type=Path, nargs="?", metavar="NEW.infer")
    p.add_argument("--rev", metavar="GITREV", help="compare SPEC as it was at this git revision with now")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p.set_defaults(run=cmd_diff)

    p = sub.add_parser("lsp", help="a Language Server Protocol server on stdin/stdout")
    p.set_defaults(run=cmd_lsp)
    return parser


class _Version(argparse.Action):
    """--version, read only when asked: importlib.metadata costs 40 ms of every start."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"infer {_version()}")
        raise SystemExit(EXIT_OK)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("infer-planner")
    except Exception:
        return "0+checkout"


# --- commands ---------------------------------------------------------------------------


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from solver.api import Spec

    spec = Spec.load(args.spec, getattr(args, "sets", []))
    _files_read.extend(spec.graph.files)   # failures are not cached: a fixed import must show
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
    from solver.render import render_evaluation

    spec = _load(args)
    print(render_evaluation(spec.eval(), "json" if args.json else "text"))
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
    from solver.optimize import SolveError
    from solver.render import render_solution

    spec = _load(args)
    fmt = "json" if args.json else args.format
    try:
        solution = spec.solve(args.target, _where(args.where), args.unit)
    except SolveError as err:
        if err.solution is not None:
            print(render_solution(err.solution, fmt))
        if fmt != "json" or err.solution is None:
            print(f"error[E0800]: no solution: {err}", file=sys.stderr)
        return EXIT_SPEC
    print(render_solution(solution, fmt))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from solver.optimize import SolveError
    from solver.render import render_solution

    spec = _load(args)
    try:
        solution = spec.solve(args.target, _where(args.where))
    except SolveError as err:
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
    from solver.sweep import run_sweep

    spec = _load(args)
    return run_sweep(spec, args)


def cmd_graph(args: argparse.Namespace) -> int:
    from solver.graphviz import render_graph

    spec = _load(args)
    print(render_graph(spec.graph, args.format))
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from solver.hf import import_config

    print(import_config(args.config, args.name), end="")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from solver.catalog import list_catalog

    print(list_catalog(args.catalog, args.json))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from solver.validation import run_validation

    return run_validation(args)


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


_files_read: list[str] = []


def main(argv: Sequence[str] | None = None) -> int:
    from solver import memo

    argv = list(sys.argv[1:] if argv is None else argv)
    if memo.enabled(argv):
        hit = memo.lookup(argv)
        if hit is not None:
            out, err, code = hit
            sys.stdout.write(out)
            sys.stderr.write(err)
            return code
        import contextlib
        import io

        out_buf, err_buf = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
                code = _main(argv)
        finally:
            sys.stdout.write(out_buf.getvalue())
            sys.stderr.write(err_buf.getvalue())
        if _files_read and code in (EXIT_OK, EXIT_SPEC):
            memo.store(argv, _files_read, out_buf.getvalue(), err_buf.getvalue(), code)
        return code
    return _main(argv)


def _main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    _files_read.clear()
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


if __name__ == "__main__":
    raise SystemExit(main())
