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
one-line message.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

from .coverage import completion_time, coverage_prob, expected_draws, required_negatives

__all__ = [
    "BATCH_SIZES",
    "CONFIDENCES",
    "DATASETS",
    "DEFAULT_OUT",
    "DatasetRow",
    "build_parser",
    "dataset_table",
    "main",
    "write_figures",
    "write_report",
]

#: NS21's data sets by number of latent classes (uniform prior).
DATASETS: tuple[tuple[str, int], ...] = (
    ("binary", 2),
    ("AG News", 4),
    ("CIFAR-10", 10),
    ("CIFAR-100", 100),
    ("ImageNet-1k", 1000),
    ("Wiki-3029", 3029),
)
CONFIDENCES: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)
BATCH_SIZES: tuple[int, ...] = (256, 4096, 65536)


@dataclass(frozen=True)
class DatasetRow:
    """One row of the main job's table (uniform class prior)."""

    dataset: str
    classes: int
    expected_batch: float
    negatives_for: dict[str, int]
    coverage_at: dict[str, float]
    miss_at: dict[str, float]
    log10_miss_at: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """Flat dict: ``K_for_99`` for the K needed, ``upsilon_at_256`` for the coverage
        and ``miss_at_256`` for ``1 - upsilon`` (exact in the far tail, not rounded to 0)."""
        out: dict[str, object] = {
            "dataset": self.dataset,
            "classes": self.classes,
            "expected_batch": self.expected_batch,
        }
        out.update({f"K_for_{k}": v for k, v in self.negatives_for.items()})
        out.update({f"upsilon_at_{k}": v for k, v in self.coverage_at.items()})
        out.update({f"miss_at_{k}": v for k, v in self.miss_at.items()})
        out.update({f"log10_miss_at_{k}": v for k, v in self.log10_miss_at.items()})
        return out


def _pct(conf: float) -> str:
    return f"{conf * 100:g}"


def dataset_table(
    datasets: Sequence[tuple[str, int]] = DATASETS,
    confidences: Sequence[float] = CONFIDENCES,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> list[DatasetRow]:
    """The numbers of the main job, one :class:`DatasetRow` per data set.

    Examples
    --------
    >>> row = dataset_table([("CIFAR-10", 10)], [0.99], [32])[0]
    >>> row.negatives_for, round(row.coverage_at["32"], 4)
    ({'99': 65}, 0.691)
    """
    rows = []
    for name, C in datasets:
        need = {_pct(q): required_negatives(C, confidence=q) for q in confidences}
        cov = {str(b): coverage_prob(b - 1, C) for b in batch_sizes}
        T = completion_time(C)
        miss = {str(b): T.sf(b) for b in batch_sizes}
        lmiss = {str(b): T.logsf(b) / math.log(10) for b in batch_sizes}
        rows.append(DatasetRow(name, C, expected_draws(C), need, cov, miss, lmiss))
    return rows


def _format_text(rows: list[DatasetRow]) -> str:
    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    head = ["data set", "C", "E[K+1]"] + [f"K@{c}%" for c in confs] + [f"u(K+1={s})" for s in sizes]
    body = []
    for r in rows:
        cells = [r.dataset, str(r.classes), f"{r.expected_batch:.1f}"]
        cells += [str(v) for v in r.negatives_for.values()]
        cells += [_fmt_prob(v, m, lm) for v, m, lm in
                  zip(r.coverage_at.values(), r.miss_at.values(), r.log10_miss_at.values(), strict=True)]
        body.append(cells)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]

    def join(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)

    lines = [join(head), "  ".join("-" * w for w in widths)] + [join(b) for b in body]
    notes = [
        "",
        "Uniform class prior; K = negatives per anchor, K+1 = batch draws with the anchor (NS21).",
        "E[K+1] = C*H_C (NS21 Table 3); K@q% = smallest K with coverage upsilon_{K+1} >= q;",
        "u(K+1=b) = upsilon_{K+1}, the probability that a batch of b samples contains every class.",
    ]
    return "\n".join(lines + notes)


def _fmt_prob(v: float, miss: float, log10_miss: float) -> str:
    if v == 0.0:
        return "0"
    if v < 1e-3:
        return f"{v:.3e}"
    if miss >= 1e-6:
        return f"{v:.6f}"
    if miss > 0:
        return f"1-{miss:.1e}"
    expo = math.floor(log10_miss)
    mant = round(10 ** (log10_miss - expo), 1)
    if mant >= 10.0:
        mant, expo = mant / 10.0, expo + 1
    return f"1-{mant:.1f}e{expo}"


def _format_csv(rows: list[DatasetRow]) -> str:
    buf = io.StringIO()
    dicts = [r.to_dict() for r in rows]
    writer = csv.DictWriter(buf, fieldnames=list(dicts[0]), lineterminator="\n")
    writer.writeheader()
    for d in dicts:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in d.items()})
    return buf.getvalue().rstrip("\n")


def _format_json(rows: list[DatasetRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2, allow_nan=False)


def _format_latex(rows: list[DatasetRow]) -> str:
    from .paper.tables import Column, Table

    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    recs = []
    for r in rows:
        rec: dict[str, object] = {"dataset": r.dataset, "classes": r.classes,
                                  "expected_batch": f"{r.expected_batch:.1f}"}
        rec.update({f"K_for_{c}": v for c, v in r.negatives_for.items()})
        rec.update({f"u_{s}": _fmt_prob(v, m, lm) for (s, v), m, lm in zip(
            r.coverage_at.items(), r.miss_at.values(), r.log10_miss_at.values(), strict=True)})
        recs.append(rec)
    cols = [Column("dataset", "data set", "data set", str, "l"), Column("classes", "C", "$C$"),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$", str)]
    cols += [Column(f"K_for_{c}", f"K@{c}%", rf"$K_{{{c}\%}}$") for c in confs]
    cols += [Column(f"u_{s}", f"u({s})", rf"$\upsilon_{{{s}}}$", str) for s in sizes]
    return Table(tuple(cols), tuple(recs)).to_latex()


# ---------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------

#: Where the main job, ``figures`` and ``report`` write their files.
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


def _add_figure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", default=_SHARED,
                   help=f"directory for the files (default: ./{DEFAULT_OUT}/)")
    p.add_argument("--venue", choices=("neurips", "icml", "iclr", "arxiv"), default=_SHARED,
                   help="page layout for the figures' size and fonts (default: neurips)")
    p.add_argument("--columns", type=int, choices=(1, 2), default=_SHARED,
                   help="figure width: 2 = the full text width, 1 = half of it / one ICML "
                        "column (default: 2)")
    p.add_argument("--format", dest="formats", nargs="+", choices=("pdf", "png", "svg"),
                   default=["pdf", "png"], help="figure file formats (default: pdf png)")
    p.add_argument("-q", "--quiet", action="store_true", default=_SHARED,
                   help="no progress on standard error")


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
        epilog=(
            "examples:\n"
            "  couponbound                      table + figures and tables in ./couponbound-output/\n"
            "  couponbound --json               the table as JSON (no files written)\n"
            "  couponbound --csv > coverage.csv\n"
            "  couponbound coverage -C 10 -K 31 127\n"
            "  couponbound required -C 100 1000 --confidence 0.9 0.99\n"
            "  couponbound table --latex > table3.tex\n"
            "  couponbound figures --venue icml --columns 1 --out figs\n"
            "  couponbound report run.json --accuracy 0.80 0.83 0.85\n\n"
            "Bad arguments exit with code 2."
        ),
        formatter_class=_FMT,
    )
    _add_formats(parser)
    parser.set_defaults(fmt=None)
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"write figures and tables here (default: ./{DEFAULT_OUT}/; with "
                             "--json/--csv/--latex nothing is written unless --out is given)")
    parser.add_argument("--venue", choices=("neurips", "icml", "iclr", "arxiv"), default="neurips",
                        help="page layout for the figures (default: neurips)")
    parser.add_argument("--columns", type=int, choices=(1, 2), default=2,
                        help="figure width in columns (default: 2, the full text width)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on standard error")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "coverage", help="coverage upsilon_{K+1} for given K and C", formatter_class=_FMT,
        description="The probability upsilon_{K+1} that the anchor and its K negatives "
                    "(K+1 draws, anchor included) contain every class.",
        epilog="examples:\n"
               "  couponbound coverage -C 10 -K 31            0.691 (NS21: CIFAR-10, batch 32)\n"
               "  couponbound coverage -C 100 -K 127 511 --csv\n"
               "  couponbound coverage --counts 50,30,20 -K 5 10\n"
               "  couponbound coverage -C 10 -K 31 --no-anchor   P(T <= K) instead",
    )
    _add_prior(p, default_C=None)
    p.add_argument("-K", "--negatives", dest="K", type=int, nargs="+", required=True, metavar="K",
                   help="number(s) of negatives K >= 0")
    p.add_argument("--no-anchor", action="store_true", help="count K draws, not K+1")
    _add_formats(p, markdown=True)

    p = sub.add_parser(
        "required", help="smallest K reaching a coverage", formatter_class=_FMT,
        description="The smallest number of negatives K with upsilon_{K+1} >= confidence, and "
                    "the expected batch size E[K+1] that first covers every class.",
        epilog="examples:\n"
               "  couponbound required -C 10                     K = 65 for 99 %\n"
               "  couponbound required -C 100 1000 --confidence 0.9 0.99 0.999\n"
               "  couponbound required --counts counts.txt --without-replacement",
    )
    _add_prior(p, default_C=[10, 100, 1000])
    p.add_argument("--confidence", type=float, nargs="+", default=[0.99], metavar="Q",
                   help="target coverage(s) in (0, 1) (default: 0.99)")
    p.add_argument("--without-replacement", action="store_true",
                   help="batches drawn without replacement from a data set of the given --counts")
    _add_formats(p, markdown=True)

    p = sub.add_parser(
        "table", help="NS21's Table 3 for data sets", formatter_class=_FMT,
        description="NS21's Table 3: classes, expected batch size E[K+1] (rounded up) and "
                    "the K needed for each coverage level, per data set.",
        epilog="examples:\n"
               "  couponbound table                              NS21's data sets\n"
               "  couponbound table --latex > table3.tex\n"
               "  couponbound table --dataset CIFAR-10=10 --dataset mine=@counts.txt\n"
               "  couponbound table -C 10 100 --confidence 0.5 0.9 0.99",
    )
    p.add_argument("--dataset", action="append", default=[], metavar="NAME=SPEC",
                   help="a data set: NAME=C (uniform), NAME=@FILE (class counts from a file) "
                        "or NAME=n1,n2,... (class counts); repeatable")
    p.add_argument("-C", "--classes", dest="C", type=int, nargs="+", metavar="C",
                   help="uniform data sets by number of classes")
    p.add_argument("--confidence", type=float, nargs="+", default=[0.9, 0.99], metavar="Q",
                   help="coverage levels in (0, 1) (default: 0.9 0.99)")
    _add_formats(p, markdown=True)

    p = sub.add_parser(
        "figures", help="write the paper's figures", formatter_class=_FMT,
        description="Write the coverage, collision and upper-bound figures (PDF and PNG) "
                    "for the given classes (default: CIFAR-10, CIFAR-100, ImageNet scale).",
        epilog="examples:\n"
               "  couponbound figures                            ./couponbound-output/*.pdf|png\n"
               "  couponbound figures --venue icml --columns 1 --out figs\n"
               "  couponbound figures -C 10 100 --contrastive 3.0 --format pdf",
    )
    _add_prior(p, default_C=[10, 100, 1000])
    p.add_argument("--contrastive", type=float, default=None, metavar="L",
                   help="contrastive loss for the upper-bound figures (default: ln(K+1), "
                        "the loss of an encoder that maps every input to one point)")
    _add_figure_options(p)

    p = sub.add_parser(
        "report", help="table + figures from a saved run", formatter_class=_FMT,
        description="Read a saved BoundMonitor state_dict() or BoundReport.to_dict() (JSON: "
                    "one, a list, or a mapping label -> run), print NS21's bound term by term "
                    "(NS21 Table 2) and write the bound figures (NS21 Figure 1) and tables.",
        epilog="examples:\n"
               "  couponbound report run.json\n"
               "  couponbound report runs.json --accuracy 80.1 82.4 83.0 --out figs\n"
               "  couponbound report runs.json --latex > table2.tex    (no files written)",
    )
    p.add_argument("run", metavar="RUN.json", help="the saved run(s)")
    p.add_argument("--accuracy", type=float, nargs="+", metavar="ACC",
                   help="validation accuracy per run (fractions or percent), for the figure")
    p.add_argument("--no-figures", action="store_true",
                   help="write the tables (decomposition.md/.tex/.csv) but no figures")
    _add_formats(p, markdown=True)
    _add_figure_options(p)
    return parser


def _version() -> str:
    from . import __version__

    return f"couponbound {__version__}"


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _numbers(text: str, what: str) -> list[float]:
    """Numbers from ``"1,2,3"``, or from a file (``@path`` or an existing path)."""
    source = text
    if text.startswith("@") or os.path.exists(text):
        path = text[1:] if text.startswith("@") else text
        try:
            with open(path, encoding="utf-8") as fh:
                source = fh.read()
        except OSError as exc:
            raise _UsageError(f"{what}: cannot read {path!r}: {exc.strerror or exc}") from exc
        stripped = source.strip()
        if stripped.startswith("["):
            try:
                return [float(v) for v in json.loads(stripped)]
            except (ValueError, TypeError) as exc:
                raise _UsageError(f"{what}: {path!r} is not a JSON list of numbers") from exc
    parts = [t for t in source.replace(",", " ").split() if t]
    try:
        values = [float(t) for t in parts]
    except ValueError as exc:
        raise _UsageError(f"{what} must be numbers separated by commas or spaces, got "
                          f"{text[:40]!r}") from exc
    if not values:
        raise _UsageError(f"{what} is empty")
    return values


def _counts(text: str, what: str) -> list[int]:
    vals = _numbers(text, what)
    if any(v != int(v) for v in vals):
        raise _UsageError(f"{what} must be whole numbers (class counts), got {text[:40]!r}")
    return [int(v) for v in vals]


def _prior_datasets(args: argparse.Namespace, default_C: Sequence[int] | None) -> list[Any]:
    from .paper.tables import Dataset

    given = [x for x in (args.C, args.counts, args.probs) if x]
    if len(given) > 1:
        raise _UsageError("give one of -C, --counts, --probs")
    if args.counts:
        return [Dataset("counts", counts=tuple(_counts(args.counts, "--counts")))]
    if args.probs:
        return [Dataset("probs", probs=tuple(_numbers(args.probs, "--probs")))]
    Cs = args.C if args.C else default_C
    if not Cs:
        raise _UsageError("give the number of classes with -C, or --counts / --probs")
    return [Dataset(f"C = {c}", c) for c in Cs]


def _emit(table: Any, fmt: str | None) -> str:
    return str(table.render(fmt or "markdown"))


def _progress(quiet: bool) -> Callable[[str], None]:
    if quiet:
        return lambda msg: None
    stream = sys.stderr

    def say(msg: str) -> None:
        stream.write(f"couponbound: {msg}\n")
        stream.flush()

    return say


def _slug(name: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "figure"


def _new_figure(style: Any) -> tuple[Any, Any]:
    """A figure and axes outside pyplot: no backend is chosen or changed."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=style.figsize, layout="constrained")
    return fig, fig.add_subplot()


def write_figures(
    out: str | os.PathLike[str] = DEFAULT_OUT,
    datasets: Sequence[Any] | None = None,
    *,
    venue: str = "neurips",
    columns: int = 2,
    formats: Sequence[str] = ("pdf", "png"),
    contrastive: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the coverage, collision and upper-bound figures; return the files.

    ``coverage``: :func:`couponbound.paper.plots.plot_coverage`; ``collision``:
    :func:`couponbound.paper.plots.plot_collision`; ``sup_upper_bounds_<name>``:
    :func:`couponbound.paper.plots.plot_sup_upper_bounds`, one per data set, for the
    contrastive loss *contrastive* (default ``ln(K+1)``, the loss of an encoder
    that maps every input to the same point, so every bound is defined).
    Figures are made with :func:`couponbound.paper.plots.paper_style` and without
    pyplot, so no matplotlib backend is selected.
    """
    import numpy as np

    from .paper.plots import paper_style, plot_collision, plot_coverage, plot_sup_upper_bounds, save_figure
    from .paper.tables import DEFAULT_DATASETS, _datasets

    sets = _datasets(DEFAULT_DATASETS if datasets is None else datasets, "datasets")
    say = progress or (lambda msg: None)
    target = Path(out)
    L: Any = contrastive if contrastive is not None else (lambda K: np.log1p(K))
    jobs: list[tuple[str, Callable[[Any], Any]]] = [
        ("coverage", lambda ax: plot_coverage(C=sets, ax=ax)),
        ("collision", lambda ax: plot_collision(C=sets, ax=ax)),
    ]
    def bounds_for(ds: Any) -> Callable[[Any], Any]:
        def draw(ax: Any) -> Any:
            plot_sup_upper_bounds(L, None, **ds.prior_kwargs(), ax=ax)
            name = ds.name if ds.name.startswith("C = ") else f"{ds.name}, C = {ds.num_classes}"
            loss = r"$L=\ln(K+1)$" if contrastive is None else f"$L={contrastive:g}$"
            ax.get_legend().set_title(f"{name}; {loss}")
            return ax

        return draw

    jobs += [(f"sup_upper_bounds_{_slug(ds.name)}", bounds_for(ds)) for ds in sets]
    written: list[Path] = []
    with paper_style(venue, columns) as style:
        for i, (name, draw) in enumerate(jobs, 1):
            say(f"[{i}/{len(jobs)}] figure {name}")
            fig, ax = _new_figure(style)
            draw(ax)
            written += save_figure(fig, target / name, formats)
    return written


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _write_table(out: Path, stem: str, table: Any) -> list[Path]:
    return [_write_text(out / f"{stem}.md", table.to_markdown()),
            _write_text(out / f"{stem}.tex", table.to_latex()),
            _write_text(out / f"{stem}.csv", table.to_csv())]


def write_report(
    runs: Sequence[tuple[str, Any]],
    out: str | os.PathLike[str] = DEFAULT_OUT,
    *,
    accuracy: Sequence[float] | None = None,
    venue: str = "neurips",
    columns: int = 2,
    formats: Sequence[str] = ("pdf", "png"),
    figures: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write NS21's Table 2 (``decomposition.md/.tex/.csv``) and, with *figures*,
    ``bound_comparison`` (NS21 Figure 1) and ``bound_decomposition`` for
    ``(label, BoundReport)`` pairs such as :func:`couponbound.paper.tables.load_reports`
    returns; return the files."""
    from .paper.tables import decomposition_table

    say = progress or (lambda msg: None)
    target = Path(out)
    labels = [lab for lab, _ in runs]
    reports = [rep for _, rep in runs]
    table = decomposition_table(reports, labels)
    say("table decomposition")
    written = _write_table(target, "decomposition", table)
    if figures:
        from .paper.plots import paper_style, plot_bound_comparison, plot_bound_decomposition, save_figure

        with paper_style(venue, columns) as style:
            say("[1/2] figure bound_comparison")
            fig, ax = _new_figure(style)
            plot_bound_comparison(reports, accuracy, labels=_tick_labels(runs), ax=ax)
            written += save_figure(fig, target / "bound_comparison", formats)
            say("[2/2] figure bound_decomposition")
            fig, ax = _new_figure(style)
            plot_bound_decomposition(reports, labels=_tick_labels(runs), ax=ax)
            written += save_figure(fig, target / "bound_decomposition", formats)
    return written


def _tick_labels(runs: Sequence[tuple[str, Any]]) -> list[str] | None:
    """``None`` (batch sizes on the x axis) when every label is the default ``K+1 = n``."""
    if all(rep.K is not None and lab == f"K+1 = {rep.K + 1}" for lab, rep in runs):
        return None
    return [lab for lab, _ in runs]


def _file_list(paths: Sequence[Path], stream: Any) -> None:
    stream.write(f"\nwrote {len(paths)} files:\n")
    for p in paths:
        stream.write(f"  {p}\n")


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------


def _cmd_main(args: argparse.Namespace) -> int:
    say = _progress(args.quiet)
    rows = dataset_table()
    fmt = args.fmt
    if fmt == "json":
        sys.stdout.write(_format_json(rows) + "\n")
    elif fmt == "csv":
        sys.stdout.write(_format_csv(rows) + "\n")
    elif fmt == "latex":
        sys.stdout.write(_format_latex(rows) + "\n")
    else:
        sys.stdout.write(_format_text(rows) + "\n")
        sys.stdout.flush()
    if fmt is not None and args.out is None:
        return 0
    from .paper.tables import NS21_DATASETS, coverage_table

    out = Path(args.out if args.out is not None else DEFAULT_OUT)
    say(f"writing figures and tables to {out}/")
    written = [_write_text(out / "coverage_summary.csv", _format_csv(rows))]
    written += _write_table(out, "table3", coverage_table(NS21_DATASETS))
    written += write_figures(out, venue=args.venue, columns=args.columns, progress=say)
    _file_list(written, sys.stderr if fmt is not None else sys.stdout)
    return 0


def _cmd_coverage(args: argparse.Namespace) -> int:
    from .coverage import completion_time, coverage_prob
    from .paper.tables import Column, Table

    sets = _prior_datasets(args, None)
    if any(k < 0 for k in args.K):
        raise _UsageError(f"-K must be >= 0, got {min(args.K)}")
    rows = []
    for ds in sets:
        kw = ds.prior_kwargs()
        T = completion_time(**kw)
        for k in args.K:
            n = k if args.no_anchor else k + 1
            rows.append({"prior": ds.name, "classes": ds.num_classes, "K": k, "draws": n,
                         "upsilon": float(coverage_prob(k, **kw, include_anchor=not args.no_anchor)),
                         "miss": float(T.sf(n)), "log10_miss": float(T.logsf(n)) / math.log(10)})

    def prob(v: Any) -> str:
        return f"{v:.6g}"

    cols = (Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("K", "K", "$K$"), Column("draws", "draws", "draws"),
            Column("upsilon", "upsilon", r"$\upsilon$", prob),
            Column("miss", "1 - upsilon", r"$1-\upsilon$", prob))
    cap = ("upsilon: probability that the draws (K negatives" +
           (")" if args.no_anchor else " + the anchor)") + " contain every class.")
    sys.stdout.write(_emit(Table(cols, tuple(rows), caption=cap), args.fmt) + "\n")
    return 0


def _cmd_required(args: argparse.Namespace) -> int:
    from .coverage import expected_draws, required_negatives
    from .paper.tables import Column, Table, _check_confidences, _pct

    sets = _prior_datasets(args, [10, 100, 1000])
    qs = _check_confidences(args.confidence)
    if args.without_replacement and not args.counts:
        raise _UsageError("--without-replacement needs --counts (the data set's class sizes)")
    rows = []
    for ds in sets:
        kw = ds.prior_kwargs()
        row: dict[str, Any] = {"prior": ds.name, "classes": ds.num_classes,
                               "expected_batch": float(expected_draws(**kw))}
        for q in qs:
            row[f"K_for_{_pct(q)}"] = required_negatives(
                confidence=q, replacement=not args.without_replacement, **kw)
        rows.append(row)
    cols = [Column("prior", "prior", "prior", str, "l"), Column("classes", "C", "$C$"),
            Column("expected_batch", "E[K+1]", r"$\mathrm{E}[K+1]$")]
    cols += [Column(f"K_for_{_pct(q)}", f"K ({_pct(q)} %)", rf"$K_{{{_pct(q)}\%}}$") for q in qs]
    cap = ("K (q %): smallest number of negatives K with coverage upsilon_{K+1} >= q "
           "(anchor included)" + (", batches drawn without replacement from the data set"
                                   if args.without_replacement else "")
           + "; E[K+1]: expected draws (with replacement) until every class appears.")
    sys.stdout.write(_emit(Table(tuple(cols), tuple(rows), caption=cap), args.fmt) + "\n")
    return 0


def _parse_dataset(spec: str) -> Any:
    from .paper.tables import Dataset

    name, sep, value = spec.partition("=")
    if not sep or not name or not value:
        raise _UsageError(f"--dataset must be NAME=C, NAME=@FILE or NAME=n1,n2,...; got {spec!r}")
    if value.isdigit():
        return Dataset(name, int(value))
    return Dataset(name, counts=tuple(_counts(value, f"--dataset {name}")))


def _cmd_table(args: argparse.Namespace) -> int:
    from .paper.tables import NS21_DATASETS, Dataset, coverage_table

    sets: list[Any] = [_parse_dataset(s) for s in args.dataset]
    sets += [Dataset(f"C = {c}", c) for c in (args.C or [])]
    table = coverage_table(sets or NS21_DATASETS, args.confidence)
    sys.stdout.write(_emit(table, args.fmt) + "\n")
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from .paper.tables import DEFAULT_DATASETS

    say = _progress(args.quiet)
    sets = _prior_datasets(args, None) if (args.C or args.counts or args.probs) else list(DEFAULT_DATASETS)
    out = Path(args.out if args.out is not None else DEFAULT_OUT)
    written = write_figures(out, sets, venue=args.venue, columns=args.columns,
                            formats=args.formats, contrastive=args.contrastive, progress=say)
    _file_list(written, sys.stdout)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from .paper.tables import decomposition_table, load_reports

    say = _progress(args.quiet)
    runs = load_reports(args.run)
    if args.accuracy is not None and len(args.accuracy) != len(runs):
        raise _UsageError(f"--accuracy has {len(args.accuracy)} values but {args.run} holds "
                          f"{len(runs)} runs")
    table = decomposition_table([r for _, r in runs], [lab for lab, _ in runs])
    sys.stdout.write(_emit(table, args.fmt) + "\n")
    sys.stdout.flush()
    if args.fmt is not None and args.out is None:
        return 0
    out = Path(args.out if args.out is not None else DEFAULT_OUT)
    written = write_report(runs, out, accuracy=args.accuracy, venue=args.venue,
                           columns=args.columns, formats=args.formats,
                           figures=not args.no_figures, progress=say)
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
    except (_UsageError, ValueError, TypeError) as exc:
        msg = " ".join(str(exc).split())
        sys.stderr.write(f"{prog}: error: {msg}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"{prog}: error: {exc.strerror or exc}: {exc.filename or ''}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
