"""The `infer` command line as argparse reads it: subcommands, their arguments and help.

`build_parser` is the grammar of argv; `solver/cli.py` maps each subcommand (`args.command`) to
the function that runs it and is the only module that prints. A usage error exits 2, the
`--version` line exits 0, as every other usage error and answer of the CLI do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


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
    p = sub.add_parser("eval", help="evaluate every quantity and requirement")
    _spec_arg(p)
    _set_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 unless every requirement holds (one that cannot be decided fails too)")
    p = sub.add_parser("solve", help="answer a goal, a quantity, or an inversion, with its derivation")
    _spec_arg(p)
    p.add_argument("--for", dest="target", required=True, metavar="NAME", help="goal or quantity")
    _set_arg(p)
    p.add_argument("--where", action="append", default=[], metavar="NAME=VALUE",
                   help="hold a derived quantity at a value and solve --for the unknown")
    p.add_argument("--in", dest="unit", metavar="UNIT", help="show the answer in this unit")
    p.add_argument("--format", choices=["text", "markdown", "latex", "json"], default="text")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p = sub.add_parser("export", help="a derivation as a document section (LaTeX or Markdown)")
    _spec_arg(p)
    p.add_argument("--for", dest="target", required=True, metavar="NAME")
    _set_arg(p)
    p.add_argument("--where", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=["latex", "markdown"], default="markdown")
    p.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    p = sub.add_parser("sweep", help="evaluate quantities over a grid of inputs (vectorized)")
    _spec_arg(p)
    _set_arg(p)
    p.add_argument("--vary", action="append", required=True, metavar="NAME=A..B[:STEP]|NAME=[x,y]")
    p.add_argument("--report", required=True, metavar="NAME,NAME")
    p.add_argument("--csv", type=Path, metavar="FILE")
    p.add_argument("--plot", type=Path, metavar="FILE.png|FILE.svg")
    p = sub.add_parser("graph", help="the quantity graph as Graphviz dot or Mermaid")
    _spec_arg(p)
    p.add_argument("--format", choices=["dot", "mermaid"], default="dot")
    p = sub.add_parser("import", help="import a model from a Hugging Face config.json")
    p.add_argument("source", choices=["hf"])
    p.add_argument("config", type=Path, metavar="CONFIG.json")
    p.add_argument("--name", help="the record's name (default: from the file or model type)")
    p = sub.add_parser("list", help="what the catalogs hold")
    p.add_argument("catalog", choices=["gpus", "models", "precisions", "interconnects", "clouds", "engines"])
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("page", help="the spec as an interactive calculator in one offline HTML file")
    p.add_argument("spec", type=Path, nargs="?", help="a .infer file (default: a calculator over the stdlib)")
    p.add_argument("-o", "--output", type=Path, help="where to write it (default: the spec's name, .html)")
    p = sub.add_parser("validate", help="predict every published measurement and report the error")
    p.add_argument("--csv", type=Path, help="measurements (default: validation/measured.csv)")
    p.add_argument("--markdown", action="store_true", help="print the docs/validation.md table")
    p.add_argument("--load", action="store_true",
                   help="latency under load: the LQ rows and formula-vs-simulation tables (docs/validation-load.md)")
    p.add_argument("-o", "--output", type=Path)
    p.add_argument("--refit", action="store_true",
                   help="fit the shared factors and print the stdlib/serving.infer lines that change")
    p.add_argument("--write", action="store_true", help="with --refit: update stdlib/serving.infer")
    p.add_argument("--feature", choices=["speculation", "vision"],
                   help="validate one feature's rows of validation/features.csv instead")
    p = sub.add_parser("simulate", help="replay a trace or random arrivals through the deployment's engine")
    _spec_arg(p)
    _set_arg(p)
    w = p.add_mutually_exclusive_group()
    w.add_argument("--trace", metavar="FILE", help="Azure trace CSV, or CSV/JSONL of arrival,prompt,output")
    w.add_argument("--rate", metavar="R[,R...]", help="request/s of generated arrivals (a list makes a grid)")
    w.add_argument("--curve", nargs="?", const="", metavar="NAME", help="arrivals following a load curve record")
    p.add_argument("--duration", default="600", help="seconds of generated traffic (600, 10m, 1h)")
    p.add_argument("--arrivals", default="poisson", help="poisson | gamma:CV (bursty when CV > 1)")
    p.add_argument("--length-cv", default="0,0", metavar="P,O", help="CV of generated prompt and output lengths")
    p.add_argument("--replicas", default="1", metavar="N[,N...]", help="replicas behind the router")
    p.add_argument("--autoscale", nargs="?", const="", metavar="POLICY", help="follow the spec's scaling policy")
    p.add_argument("--router", choices=["least", "round-robin"], default="least")
    p.add_argument("--batching", choices=["continuous", "static"], default="continuous")
    p.add_argument("--deployment", metavar="NAME", help="which deployment, when the spec holds several")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--speedup", type=float, default=1.0, help="replay K times faster")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler for a grid (default: a local one)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--csv", type=Path, metavar="FILE", help="per-request results")
    p.add_argument("--plot", type=Path, metavar="DIR", help="latency CDF, queue and KV over time (PNG)")
    p = sub.add_parser("fmt", help="rewrite .infer files in the canonical layout")
    p.add_argument("files", nargs="+", metavar="FILE", help="files (or folders) to rewrite in place; `-` reads stdin")
    p.add_argument("--check", action="store_true", help="change nothing; print a diff and exit 1 if unformatted")
    p = sub.add_parser("diff", help="what changed between two versions of a spec, and what it did")
    p.add_argument("old", type=Path, metavar="OLD.infer")
    p.add_argument("new", type=Path, nargs="?", metavar="NEW.infer")
    p.add_argument("--rev", metavar="GITREV", help="compare SPEC as it was at this git revision with now")
    p.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    p.add_argument("--json", action="store_true", help="same as --format json")
    p = sub.add_parser("lsp", help="a Language Server Protocol server on stdin/stdout")
    return parser


class _Version(argparse.Action):
    """--version, read only when asked: importlib.metadata costs 40 ms of every start."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"infer {_version()}")
        raise SystemExit(0)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("infer-planner")
    except Exception:
        return "0+checkout"
