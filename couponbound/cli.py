"""The ``couponbound`` command.

Bare ``couponbound`` runs the main job: for the class counts of NS21's data
sets it prints the expected batch size ``E[K+1]`` (NS21 Table 3), the number
of negatives ``K`` needed for 50/90/99/99.9 % coverage, and the coverage
``upsilon_{K+1}`` at ``K + 1 = 256, 4096, 65536``, with, for the data sets
known by their counts, what a shuffled data loader needs (batches drawn
without replacement) and the expected number of distinct classes per batch;
then it writes the paper's
figures (PDF and PNG) and tables (Markdown, LaTeX, CSV) for the built-in
CIFAR-10 / CIFAR-100 / ImageNet-scale defaults into ``./couponbound-output/``
and prints the list of files.

``--json``, ``--csv`` and ``--latex`` print the table only, for machines, and
write no files unless ``--out DIR`` is given as well (the file list then goes
to standard error, so standard output stays machine-readable).

Subcommands: ``coverage``, ``required``, ``table``, ``figures``, ``report``
(see ``couponbound <command> --help``).  Data sets are given by number of
classes (``-C``), class counts or probabilities (``--counts``/``--probs``:
numbers, or ``@FILE``; a number is never read as a file name) or
``--dataset`` (a built-in name or ``NAME=SPEC``); ``--without-replacement``
draws batches from the data set as a shuffled loader does.  Bad arguments exit with code 2 and a
one-line message, before any file is written; a closed standard output
(``couponbound | head``) ends the command quietly.  Every file is written
atomically (see :mod:`couponbound.paper.outputs`).
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # the parser (--help, --version) imports nothing but argparse
    from ._prior import Prior

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "console_main", "main", "run_cli_quietly"]

#: Largest file of numbers ``--counts``/``--probs``/``--dataset NAME=@FILE`` read.
MAX_NUMBERS_BYTES = 16 * 1024 * 1024
#: Exit status of :func:`run_cli_quietly` when standard output is a closed
#: pipe: 128 + SIGPIPE (13), as a shell reports for ``cat`` killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + 13


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


_DATASET_HELP = ("a data set: a built-in name (e.g. 'CIFAR-100-LT (r=100)'), NAME=C (uniform), "
                 "NAME=@FILE (class counts from a file) or NAME=n1,n2,... (class counts); "
                 "repeatable")
_WOR_HELP = ("batches drawn without replacement from the data set (a shuffled data loader); "
             "needs class counts (--counts, or a --dataset with counts)")


def _add_prior(p: argparse.ArgumentParser, *, default_C: list[int] | None) -> None:
    p.add_argument("-C", "--classes", dest="C", type=int, nargs="+", metavar="C", default=None,
                   help="number(s) of classes, uniform prior" +
                   (f" (default: {' '.join(map(str, default_C))})" if default_C else ""))
    p.add_argument("--counts", metavar="COUNTS",
                   help="a non-uniform prior from class counts: comma-separated numbers, or "
                        "@FILE for a file of numbers (whitespace/comma separated, or a JSON "
                        "list; @- reads standard input)")
    p.add_argument("--probs", metavar="PROBS",
                   help="a non-uniform prior from class probabilities (same forms as --counts)")
    _add_dataset(p)
    p.add_argument("--without-replacement", action="store_true", help=_WOR_HELP)


def _add_dataset(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", action="append", default=[], metavar="NAME[=SPEC]",
                   help=_DATASET_HELP)


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
         "couponbound coverage --counts 3,3,2 -K 5 --without-replacement   0.964",
         "couponbound coverage --dataset 'CIFAR-100-LT (r=100)' -K 4095 --without-replacement",
         "couponbound coverage -C 10 -K 31 --no-anchor   P(T <= K) instead")),
    "required": (
        "smallest K reaching a coverage",
        "The smallest number of negatives K with upsilon_{K+1} >= confidence, and "
        "the expected batch size E[K+1] that first covers every class.",
        ("couponbound required -C 10                     K = 65 for 99 %",
         "couponbound required -C 100 1000 --confidence 0.9 0.99 0.999",
         "couponbound required --counts @counts.txt --without-replacement",
         "couponbound required --dataset 'CIFAR-100-LT (r=100)' --confidence 0.5 0.99")),
    "table": (
        "NS21's Table 3 for data sets",
        "NS21's Table 3: classes, expected batch size E[K+1] (rounded up) and "
        "the K needed for each coverage level, per data set.",
        ("couponbound table                              NS21's data sets",
         "couponbound table --latex > table3.tex",
         "couponbound table --dataset CIFAR-10=10 --dataset mine=@counts.txt",
         "couponbound table --dataset 'CIFAR-100-LT (r=100)' --without-replacement",
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
        "(NS21 Table 2) and write the bound figures (NS21 Figure 1) and tables.  "
        "RUN.json '-' reads standard input.",
        ("couponbound report run.json",
         "python train.py --dump-state | couponbound report - --no-figures",
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
    _add_formats(p, markdown=True)

    p = cmd["table"]
    _add_dataset(p)
    p.add_argument("-C", "--classes", dest="C", type=int, nargs="+", metavar="C",
                   help="uniform data sets by number of classes")
    p.add_argument("--without-replacement", action="store_true", help=_WOR_HELP)
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
    """The text of a file of numbers (``-``: standard input), bounded in size and time."""
    from .paper._inputs import read_bounded

    data = read_bounded(path, MAX_NUMBERS_BYTES, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{what}: {path!r} is not UTF-8 text") from exc


def _numbers(text: str, what: str) -> list[float]:
    """Finite numbers from ``"1,2,3"``, or from a file given as ``@path``.

    A number is never read as a file name: only ``@path`` reads a file.
    """
    source = text
    if text.startswith("@"):
        path = text[1:]
        if not path:
            raise _UsageError(f"{what}: '@' must be followed by a file name (@- reads standard "
                              "input)")
        source = _read_numbers_file(path, what)
        stripped = source.strip()
        if stripped.startswith("["):
            from .paper._inputs import loads_json

            items = loads_json(stripped, where=f"{what} {path!r}")
            if not isinstance(items, list) or any(
                    isinstance(v, bool) or not isinstance(v, int | float) for v in items):
                raise _UsageError(f"{what}: {path!r} is not a JSON list of numbers")
            values = [float(v) for v in items]
            _check_finite(values, text, what)
            if not values:
                raise _UsageError(f"{what}: {path!r} holds no numbers")
            return values
    parts = [t for t in source.replace(",", " ").split() if t]
    try:
        values = [float(t) for t in parts]
    except (ValueError, OverflowError) as exc:
        hint = ""
        if not text.startswith("@"):
            hint = (f"; to read the file {text!r} write {what} @{text}" if os.path.isfile(text)
                    else f"; a file is read only as @FILE (and file not found: {text!r})")
        raise _UsageError(f"{what} must be numbers separated by commas or spaces, got "
                          f"{text[:40]!r}{hint}") from exc
    if not values:
        raise _UsageError(f"{what} is empty: give numbers separated by commas or spaces, or "
                          "@FILE")
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


def _parse_dataset(spec: str) -> Prior:
    """``--dataset``: a registry name, ``NAME=C``, ``NAME=@FILE`` or ``NAME=n1,n2,...``.

    A registry name may itself hold ``=`` (``"CIFAR-100-LT (r=100)"``), so the
    whole text is looked up first; then ``NAME=@FILE`` splits at the first
    ``=@`` and the other forms at the last ``=`` (a count list holds none).
    """
    from ._prior import Prior
    from .paper.datasets import DATASETS

    if spec in DATASETS:
        return DATASETS[spec]
    if "=@" in spec:
        name, _, value = spec.partition("=@")
        value = "@" + value
    else:
        name, _, value = spec.rpartition("=")
    if not name or not value:
        raise _UsageError(f"--dataset must be a built-in name ({', '.join(DATASETS)}), NAME=C, "
                          f"NAME=@FILE or NAME=n1,n2,...; got {spec!r}")
    if value.isdigit():
        if len(value) > 18:
            raise _UsageError(f"--dataset {name}: {value[:20]}... classes is far more than the "
                              "tables take (at most 1,000,000)")
        return Prior.uniform(int(value), name=name)
    return Prior.from_counts(_counts(value, f"--dataset {name}"), name=name)


def _without_replacement(priors: list[Prior], args: argparse.Namespace) -> list[Prior]:
    """The priors drawn without replacement when ``--without-replacement`` is given."""
    if not getattr(args, "without_replacement", False):
        return priors
    bare = [p.label for p in priors if p.counts is None]
    if bare:
        raise _UsageError("--without-replacement needs the data set's class counts (--counts, "
                          "or a --dataset with counts); no counts for "
                          + ", ".join(repr(b) for b in bare[:3]))
    return [p.with_replacement(False) for p in priors]


def _source_name(text: str, default: str) -> str:
    """A prior's label: the file's name without its suffix (``@my500.txt`` -> ``my500``),
    else *default* (numbers given inline; standard input)."""
    if text.startswith("@") and text not in ("@", "@-"):
        return Path(text[1:]).stem or default
    return default


def _priors(args: argparse.Namespace, default_C: Sequence[int] | None) -> list[Prior]:
    """The priors named by ``-C``, ``--counts``, ``--probs`` and ``--dataset``."""
    from ._prior import Prior

    given = [x for x in (args.C, args.counts, args.probs) if x is not None]
    if len(given) > 1:
        raise _UsageError("give one of -C, --counts, --probs")
    sets = [_parse_dataset(s) for s in args.dataset]
    if args.counts is not None:
        sets.insert(0, Prior.from_counts(_counts(args.counts, "--counts"),
                                         name=_source_name(args.counts, "counts")))
    elif args.probs is not None:
        sets.insert(0, Prior.from_probs(_numbers(args.probs, "--probs"),
                                        name=_source_name(args.probs, "probs")))
    elif args.C or not sets:
        Cs = args.C if args.C else default_C
        if not Cs:
            raise _UsageError("give the number of classes with -C, or --counts / --probs / "
                              "--dataset")
        sets[:0] = [Prior.uniform(c, name=f"C = {c}") for c in Cs]
    return _without_replacement(sets, args)


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
    out = Path(args.out if args.out is not None else DEFAULT_OUT)
    if out.exists() and not out.is_dir():
        raise _UsageError(f"--out {str(out)!r} is a file, not a directory: give a directory "
                          "to write the figures and tables into (it is created if missing)")
    return out


# ---------------------------------------------------------------------------
# commands: each parses its options into library calls (couponbound.paper)
# ---------------------------------------------------------------------------


def _cmd_main(args: argparse.Namespace) -> int:
    out = None if args.fmt is not None and args.out is None else _out(args)
    from .paper.outputs import write_main
    from .paper.summary import dataset_table, render_summary

    rows = dataset_table()
    fmt = args.fmt
    sys.stdout.write(render_summary(rows, fmt or "text") + "\n")
    sys.stdout.flush()
    if out is None:
        return 0
    written = write_main(out, rows, venue=args.venue, columns=args.columns,
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
    _emit(required_table(priors, args.confidence), args.fmt)
    return 0


def _cmd_table(args: argparse.Namespace) -> int:
    from ._prior import Prior
    from .paper.datasets import TABLE_DATASETS
    from .paper.tables import coverage_table

    sets = [_parse_dataset(s) for s in args.dataset]
    sets += [Prior.uniform(c, name=f"C = {c}") for c in (args.C or [])]
    if not sets:
        sets = [p for p in TABLE_DATASETS if p.counts is not None] if args.without_replacement \
            else list(TABLE_DATASETS)
    _emit(coverage_table(_without_replacement(sets, args), args.confidence), args.fmt)
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    out = _out(args)
    given = args.C or args.counts is not None or args.probs is not None or args.dataset
    sets = _priors(args, None) if given else None
    if sets is None and args.without_replacement:
        raise _UsageError("--without-replacement needs data sets with class counts (--counts "
                          "or --dataset)")
    from .paper.outputs import write_figures

    written = write_figures(out, sets, venue=args.venue, columns=args.columns,
                            formats=args.formats, contrastive=args.contrastive, d=args.d,
                            sub=args.sub, progress=_progress(args.quiet))
    _file_list(written, sys.stdout)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    out = None if args.fmt is not None and args.out is None else _out(args)
    from .paper.outputs import write_report
    from .paper.reports import load_reports
    from .paper.tables import decomposition_table

    runs = load_reports(args.run)  # bounded: size, depth, finite numbers, strict types
    where = "standard input" if args.run == "-" else args.run
    if args.accuracy is not None and len(args.accuracy) != len(runs):
        raise _UsageError(f"--accuracy has {len(args.accuracy)} values but {where} holds "
                          f"{len(runs)} runs")
    _emit(decomposition_table([r for _, r in runs], [lab for lab, _ in runs]), args.fmt)
    if out is None:
        return 0
    written = write_report(runs, out, accuracy=args.accuracy, venue=args.venue,
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
    if getattr(args, "quiet", False):
        # matplotlib reports a rebuilt font cache or an unwritable config folder
        # through logging: -q silences it with the command's own progress
        logging.getLogger("matplotlib").setLevel(logging.ERROR)
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


# --------------------------------------------------------------------------
# closed pipes
# --------------------------------------------------------------------------


def _silence_stdout() -> None:
    """Point standard output at /dev/null so the exit-time flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        # No real file descriptor (captured, replaced or closed): swap the object.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")


def run_cli_quietly(main: Callable[..., int | None], *args: Any, **kwargs: Any) -> int:
    """Run ``main(*args, **kwargs)``; end quietly if standard output is a closed pipe.

    Returns what *main* returns (``None`` counts as 0).  If writing to standard
    output fails with ``BrokenPipeError`` -- while *main* runs or when its
    buffered output is flushed -- standard output is pointed at ``/dev/null``
    (so the interpreter's own flush at exit cannot fail again), nothing is
    printed, and :data:`EXIT_BROKEN_PIPE` (141) is returned.  ``SystemExit``
    raised by *main* (argparse's ``--help``) passes through after the flush.
    This is the recipe of the Python documentation (``signal``, "Note on
    SIGPIPE"); the command's ``main`` must let ``BrokenPipeError`` propagate
    rather than report it as an ``OSError``.

    Examples
    --------
    >>> run_cli_quietly(lambda argv: 3 if argv else 0, ["x"])
    3

    The command's ``__main__`` then reads ``raise SystemExit(run_cli_quietly(main))``.
    """
    try:
        try:
            result = main(*args, **kwargs)
        except SystemExit:
            sys.stdout.flush()
            raise
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return 0 if result is None else int(result)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(console_main())
