"""The ``couponbound`` command.

Bare ``couponbound`` runs the main job: for the class counts of NS21's data
sets it prints the expected batch size ``E[K+1]`` (NS21 Table 3), the number
of negatives ``K`` needed for 50/90/99/99.9 % coverage, and the coverage
``upsilon_{K+1}`` at ``K + 1 = 256, 4096, 65536``; then it writes the paper's
figures (PDF and PNG) and tables (Markdown, LaTeX, CSV) for the built-in
CIFAR-10 / CIFAR-100 / ImageNet-scale defaults into ``./couponbound-output/``
and prints the list of files.

``--json``, ``--csv`` and ``--latex`` print the table only, for machines, and
write no files unless ``--out DIR`` is given as well (the file list then goes
to standard error, so standard output stays machine-readable).

Subcommands: ``coverage``, ``required``, ``table``, ``figures``, ``report``
(see ``couponbound <command> --help``).  Bad arguments exit with code 2 and a
one-line message, before any file is written; a closed standard output
(``couponbound | head``) ends the command quietly.  Every file is written
atomically (see :mod:`couponbound.paper.outputs`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ._io import loads_json, run_cli_quietly
from ._prior import Prior

__all__ = ["build_parser", "console_main", "main"]

#: Largest file of numbers ``--counts``/``--probs``/``--dataset NAME=@FILE`` read.
MAX_NUMBERS_BYTES = 16 * 1024 * 1024


# ---------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------

#: Where the main job, ``figures`` and ``report`` write their files (the same
#: as :data:`couponbound.paper.outputs.DEFAULT_OUT`, kept here so that parsing
#: imports nothing from the paper layer).
DEFAULT_OUT = "couponbound-output"


class _UsageError(Exception):
    """A bad argument found after parsing (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        msg = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {msg} (see '{self.prog} --help')\n")


_FMT = argparse.RawDescriptionHelpFormatter


# Options shared by the main parser and a subcommand are given a default only
# on the main parser (SUPPRESS on the subcommand), so they work on either side
# of the command name: "couponbound -q figures" and "couponbound figures -q".
_SHARED = argparse.SUPPRESS


def _add_formats(p: argparse.ArgumentParser, markdown: bool = False) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", dest="fmt", action="store_const", const="json", default=_SHARED,
                   help="print JSON")
    g.add_argument("--csv", dest="fmt", action="store_const", const="csv", default=_SHARED,
                   help="print CSV")
    g.add_argument("--latex", dest="fmt", action="store_const", const="latex", default=_SHARED,
                   help="print a LaTeX booktabs tabular")
    if markdown:
        g.add_argument("--markdown", dest="fmt", action="store_const", const="markdown",
                       default=_SHARED, help="print a Markdown table (the default)")


def _add_prior(p: argparse.ArgumentParser, *, default_C: list[int] | None) -> None:
    p.add_argument("-C", "--classes", dest="C", type=int, nargs="+", metavar="C", default=None,
                   help="number(s) of classes, uniform prior" +
                   (f" (default: {' '.join(map(str, default_C))})" if default_C else ""))
    p.add_argument("--counts", metavar="COUNTS",
                   help="a non-uniform prior from class counts: comma-separated numbers, or a "
                        "file of numbers (whitespace/comma separated, or a JSON list)")
    p.add_argument("--probs", metavar="PROBS",
                   help="a non-uniform prior from class probabilities (same forms as --counts)")


def _add_output_options(p: argparse.ArgumentParser, *, main: bool) -> None:
    """``--out``, ``--venue``, ``--columns``, ``-q``: with their defaults on the main
    parser (*main*), SUPPRESS on a subcommand (see ``_SHARED``)."""
    def default(value: Any) -> Any:
        return value if main else _SHARED

    out_help = (f"write figures and tables here (default: ./{DEFAULT_OUT}/; with "
                "--json/--csv/--latex nothing is written unless --out is given)" if main
                else f"directory for the files (default: ./{DEFAULT_OUT}/)")
    p.add_argument("--out", metavar="DIR", default=default(None), help=out_help)
    p.add_argument("--venue", choices=("neurips", "icml", "iclr", "arxiv"),
                   default=default("neurips"),
                   help="page layout for the figures' size and fonts (default: neurips)")
    p.add_argument("--columns", type=int, choices=(1, 2), default=default(2),
                   help="figure width: 2 = the full text width, 1 = half of it / one ICML "
                        "column (default: 2)")
    if not main:
        p.add_argument("--format", dest="formats", nargs="+", choices=("pdf", "png", "svg"),
                       default=["pdf", "png"], help="figure file formats (default: pdf png)")
    p.add_argument("-q", "--quiet", action="store_true", default=default(False),
                   help="no progress on standard error")


#: Each subcommand's one-line help, description and examples (for ``--help``).
_SUBCOMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "coverage": (
        "coverage upsilon_{K+1} for given K and C",
        "The probability upsilon_{K+1} that the anchor and its K negatives "
        "(K+1 draws, anchor included) contain every class.",
        ("couponbound coverage -C 10 -K 31            0.691 (NS21: CIFAR-10, batch 32)",
         "couponbound coverage -C 100 -K 127 511 --csv",
         "couponbound coverage --counts 50,30,20 -K 5 10",
         "couponbound coverage -C 10 -K 31 --no-anchor   P(T <= K) instead")),
    "required": (
        "smallest K reaching a coverage",
        "The smallest number of negatives K with upsilon_{K+1} >= confidence, and "
        "the expected batch size E[K+1] that first covers every class.",
        ("couponbound required -C 10                     K = 65 for 99 %",
         "couponbound required -C 100 1000 --confidence 0.9 0.99 0.999",
         "couponbound required --counts counts.txt --without-replacement")),
    "table": (
        "NS21's Table 3 for data sets",
        "NS21's Table 3: classes, expected batch size E[K+1] (rounded up) and "
        "the K needed for each coverage level, per data set.",
        ("couponbound table                              NS21's data sets",
         "couponbound table --latex > table3.tex",
         "couponbound table --dataset CIFAR-10=10 --dataset mine=@counts.txt",
         "couponbound table -C 10 100 --confidence 0.5 0.9 0.99")),
    "figures": (
        "write the paper's figures",
        "Write the coverage, collision and upper-bound figures (PDF and PNG) "
        "for the given classes (default: CIFAR-10, CIFAR-100, ImageNet scale).",
        ("couponbound figures                            ./couponbound-output/*.pdf|png",
         "couponbound figures --venue icml --columns 1 --out figs",
         "couponbound figures -C 10 100 --contrastive 3.0 --format pdf",
         "couponbound figures -C 10 --contrastive 2.02 --d -1.16 --sub 1.68")),
    "report": (
        "table + figures from a saved run",
        "Read a saved BoundMonitor state_dict() or BoundReport.to_dict() (JSON: "
        "one, a list, or a mapping label -> run), print NS21's bound term by term "
        "(NS21 Table 2) and write the bound figures (NS21 Figure 1) and tables.",
        ("couponbound report run.json",
         "couponbound report runs.json --accuracy 80.1 82.4 83.0 --out figs",
         "couponbound report runs.json --latex > table2.tex    (no files written)")),
}


def _examples(lines: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``couponbound`` command (with its subcommands)."""
    parser = _Parser(
        prog="couponbound",
        description=(
            "Coupon-collector coverage for contrastive learning (Nozawa & Sato, NeurIPS 2021): "
            "how many negatives a batch needs to contain every latent class, and what the "
            "theory then promises.\n\n"
            "Without a command: print the table for NS21's data sets and write the paper's "
            f"figures and tables to ./{DEFAULT_OUT}/ (--json/--csv/--latex: the table only)."
        ),
        epilog=_examples((
            "couponbound                      table + figures and tables in ./couponbound-output/",
            "couponbound --json               the table as JSON (no files written)",
            "couponbound --csv > coverage.csv",
            "couponbound coverage -C 10 -K 31 127",
            "couponbound required -C 100 1000 --confidence 0.9 0.99",
            "couponbound table --latex > table3.tex",
            "couponbound figures --venue icml --columns 1 --out figs",
            "couponbound report run.json --accuracy 0.80 0.83 0.85",
        )) + "\n\nBad arguments exit with code 2.",
        formatter_class=_FMT,
    )
    _add_formats(parser)
    parser.set_defaults(fmt=None)
    _add_output_options(parser, main=True)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    cmd = {name: sub.add_parser(name, help=h, description=d, epilog=_examples(ex),
                                formatter_class=_FMT)
           for name, (h, d, ex) in _SUBCOMMANDS.items()}

    p = cmd["coverage"]
    _add_prior(p, default_C=None)
    p.add_argument("-K", "--negatives", dest="K", type=int, nargs="+", required=True, metavar="K",
                   help="number(s) of negatives K >= 0")
    p.add_argument("--no-anchor", action="store_true", help="count K draws, not K+1")
    _add_formats(p, markdown=True)

    p = cmd["required"]
    _add_prior(p, default_C=[10, 100, 1000])
    p.add_argument("--confidence", type=float, nargs="+", default=[0.99], metavar="Q",
                   help="target coverage(s) in (0, 1) (default: 0.99)")
    p.add_argument("--without-replacement", action="store_true",
                   help="batches drawn without replacement from a data set of the given --counts")
    _add_formats(p, markdown=True)

    p = cmd["table"]
    p.add_argument("--dataset", action="append", default=[], metavar="NAME=SPEC",
                   help="a data set: NAME=C (uniform), NAME=@FILE (class counts from a file) "
                        "or NAME=n1,n2,... (class counts); repeatable")
    p.add_argument("-C", "--classes", dest="C", type=int, nargs="+", metavar="C",
                   help="uniform data sets by number of classes")
    p.add_argument("--confidence", type=float, nargs="+", default=[0.9, 0.99], metavar="Q",
                   help="coverage levels in (0, 1) (default: 0.9 0.99)")
    _add_formats(p, markdown=True)

    p = cmd["figures"]
    _add_prior(p, default_C=[10, 100, 1000])
    p.add_argument("--contrastive", type=float, default=None, metavar="L",
                   help="contrastive loss for the upper-bound figures (default: BAO22's "
                        "minimum contrastive loss R*_cont(K))")
    p.add_argument("--d", type=float, default=0.0, metavar="D",
                   help="NS21's d(f) <= 0 measured with the loss (default 0: BAO22's setting, "
                        "positives drawn from the anchor's class)")
    p.add_argument("--sub", type=float, default=None, metavar="L_SUB",
                   help="NS21's L^mu_sub, for NS21's complete bound")
    _add_output_options(p, main=False)

    p = cmd["report"]
    p.add_argument("run", metavar="RUN.json", help="the saved run(s)")
    p.add_argument("--accuracy", type=float, nargs="+", metavar="ACC",
                   help="validation accuracy per run (fractions or percent), for the figure")
    p.add_argument("--no-figures", action="store_true",
                   help="write the tables (decomposition.md/.tex/.csv) but no figures")
    _add_formats(p, markdown=True)
    _add_output_options(p, main=False)
    return parser


def _version() -> str:
    from . import __version__

    return f"couponbound {__version__}"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _read_numbers_file(path: str, what: str) -> str:
    """The text of a file of numbers, refused before reading if it is too large."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_NUMBERS_BYTES:
                raise _UsageError(f"{what}: {path!r} has {size:,} bytes, more than the limit of "
                                  f"{MAX_NUMBERS_BYTES:,}")
            data = fh.read(MAX_NUMBERS_BYTES + 1)
    except OSError as exc:
        raise _UsageError(f"{what}: cannot read {path!r}: {exc.strerror or exc}") from exc
    if len(data) > MAX_NUMBERS_BYTES:
        raise _UsageError(f"{what}: {path!r} is larger than the limit of {MAX_NUMBERS_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{what}: {path!r} is not UTF-8 text") from exc


def _numbers(text: str, what: str) -> list[float]:
    """Finite numbers from ``"1,2,3"``, or from a file (``@path`` or an existing path)."""
    source = text
    if text.startswith("@") or os.path.exists(text):
        path = text[1:] if text.startswith("@") else text
        source = _read_numbers_file(path, what)
        stripped = source.strip()
        if stripped.startswith("["):
            try:
                items = loads_json(stripped, where=f"{what} {path!r}")
            except ValueError as exc:
                raise _UsageError(str(exc)) from exc
            if not isinstance(items, list) or any(
                    isinstance(v, bool) or not isinstance(v, int | float) for v in items):
                raise _UsageError(f"{what}: {path!r} is not a JSON list of numbers")
            values = [float(v) for v in items]
            _check_finite(values, text, what)
            return values
    parts = [t for t in source.replace(",", " ").split() if t]
    try:
        values = [float(t) for t in parts]
    except ValueError as exc:
        raise _UsageError(f"{what} must be numbers separated by commas or spaces, got "
                          f"{text[:40]!r}") from exc
    if not values:
        raise _UsageError(f"{what} is empty")
    _check_finite(values, text, what)
    return values


def _check_finite(values: list[float], text: str, what: str) -> None:
    bad = next((v for v in values if not math.isfinite(v)), None)
    if bad is not None:
        raise _UsageError(f"{what} must be finite numbers, got {bad!r} in {text[:40]!r} "
                          "(a value beyond 1.8e308 reads as inf)")


def _counts(text: str, what: str) -> list[int]:
    vals = _numbers(text, what)
    if any(v != int(v) for v in vals):
        raise _UsageError(f"{what} must be whole numbers (class counts), got {text[:40]!r}")
    return [int(v) for v in vals]


def _source_name(text: str, default: str) -> str:
    """A prior's label: the file's name without its suffix (``my500.txt`` -> ``my500``), else *default*."""
    if text.startswith("@") or os.path.exists(text):
        return Path(text.removeprefix("@")).stem or default
    return default


def _priors(args: argparse.Namespace, default_C: Sequence[int] | None) -> list[Prior]:
    given = [x for x in (args.C, args.counts, args.probs) if x]
    if len(given) > 1:
        raise _UsageError("give one of -C, --counts, --probs")
    if args.counts:
        return [Prior.from_counts(_counts(args.counts, "--counts"), name=_source_name(args.counts, "counts"))]
    if args.probs:
        return [Prior.from_probs(_numbers(args.probs, "--probs"), name=_source_name(args.probs, "probs"))]
    Cs = args.C if args.C else default_C
    if not Cs:
        raise _UsageError("give the number of classes with -C, or --counts / --probs")
    return [Prior.uniform(c, name=f"C = {c}") for c in Cs]


def _emit(table: Any, fmt: str | None) -> None:
    sys.stdout.write(str(table.render(fmt or "markdown")) + "\n")
    sys.stdout.flush()


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda msg: None
    stream = sys.stderr

    def say(msg: str) -> None:
        stream.write(f"couponbound: {msg}\n")
        stream.flush()

    return say


def _file_list(paths: Sequence[Path], stream: Any) -> None:
    stream.write(f"\nwrote {len(paths)} files:\n")
    for p in paths:
        stream.write(f"  {p}\n")


def _out(args: argparse.Namespace) -> Path:
    return Path(args.out if args.out is not None else DEFAULT_OUT)


# ---------------------------------------------------------------------------
# commands: each parses its options into library calls (couponbound.paper)
# ---------------------------------------------------------------------------


def _cmd_main(args: argparse.Namespace) -> int:
    from .paper.outputs import write_main
    from .paper.summary import dataset_table, render_summary

    rows = dataset_table()
    fmt = args.fmt
    sys.stdout.write(render_summary(rows, fmt or "text") + "\n")
    sys.stdout.flush()
    if fmt is not None and args.out is None:
        return 0
    written = write_main(_out(args), rows, venue=args.venue, columns=args.columns,
                         progress=_progress(args.quiet))
    _file_list(written, sys.stderr if fmt is not None else sys.stdout)
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .paper.summary import coverage_values_table

    priors = _priors(args, None)
    if any(k < 0 for k in args.K):
        raise _UsageError(f"-K must be >= 0, got {min(args.K)}")
    _emit(coverage_values_table(priors, args.K, include_anchor=not args.no_anchor), args.fmt)
    return 0


def _cmd_required(args: argparse.Namespace) -> int:
    from .paper.summary import required_table

    priors = _priors(args, [10, 100, 1000])
    if args.without_replacement and not args.counts:
        raise _UsageError("--without-replacement needs --counts (the data set's class sizes)")
    _emit(required_table(priors, args.confidence, replacement=not args.without_replacement),
          args.fmt)
    return 0


def _parse_dataset(spec: str) -> Prior:
    name, sep, value = spec.partition("=")
    if not sep or not name or not value:
        raise _UsageError(f"--dataset must be NAME=C, NAME=@FILE or NAME=n1,n2,...; got {spec!r}")
    if value.isdigit():
        if len(value) > 18:
            raise _UsageError(f"--dataset {name}: {value[:20]}... classes is far more than the "
                              "tables take (at most 1,000,000)")
        return Prior.uniform(int(value), name=name)
    return Prior.from_counts(_counts(value, f"--dataset {name}"), name=name)


def _cmd_table(args: argparse.Namespace) -> int:
    from .paper.datasets import TABLE_DATASETS
    from .paper.tables import coverage_table

    sets = [_parse_dataset(s) for s in args.dataset]
    sets += [Prior.uniform(c, name=f"C = {c}") for c in (args.C or [])]
    _emit(coverage_table(sets or TABLE_DATASETS, args.confidence), args.fmt)
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from .paper.outputs import write_figures

    sets = _priors(args, None) if (args.C or args.counts or args.probs) else None
    written = write_figures(_out(args), sets, venue=args.venue, columns=args.columns,
                            formats=args.formats, contrastive=args.contrastive, d=args.d,
                            sub=args.sub, progress=_progress(args.quiet))
    _file_list(written, sys.stdout)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .paper.outputs import write_report
    from .paper.reports import load_reports
    from .paper.tables import decomposition_table

    runs = load_reports(args.run)  # bounded: size, depth, finite numbers, strict types
    if args.accuracy is not None and len(args.accuracy) != len(runs):
        raise _UsageError(f"--accuracy has {len(args.accuracy)} values but {args.run} holds "
                          f"{len(runs)} runs")
    _emit(decomposition_table([r for _, r in runs], [lab for lab, _ in runs]), args.fmt)
    if args.fmt is not None and args.out is None:
        return 0
    written = write_report(runs, _out(args), accuracy=args.accuracy, venue=args.venue,
                           columns=args.columns, formats=args.formats,
                           figures=not args.no_figures, progress=_progress(args.quiet))
    _file_list(written, sys.stderr if args.fmt is not None else sys.stdout)
    return 0


_COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: _cmd_main,
    "coverage": _cmd_coverage,
    "required": _cmd_required,
    "table": _cmd_table,
    "figures": _cmd_figures,
    "report": _cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``couponbound`` command; returns the exit code.

    Exit codes: 0 on success, 2 on bad arguments (one line on standard error),
    1 if a file could not be written.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = "couponbound" + (f" {args.command}" if args.command else "")
    try:
        return _COMMANDS[args.command](args)
    except (_UsageError, ValueError, TypeError, OverflowError) as exc:
        msg = " ".join(str(exc).split())
        sys.stderr.write(f"{prog}: error: {msg[:500]}\n")
        return 2
    except BrokenPipeError:
        raise  # run_cli_quietly ends the command quietly
    except OSError as exc:
        sys.stderr.write(f"{prog}: error: {exc.strerror or exc}: {exc.filename or ''}\n")
        return 1


def console_main() -> int:
    """The ``couponbound`` console script: :func:`main` with a quiet closed pipe.

    ``couponbound | head`` ends without a traceback or an error message
    (exit status 141, as a shell reports a program ended by ``SIGPIPE``).
    """
    return run_cli_quietly(main)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(console_main())
