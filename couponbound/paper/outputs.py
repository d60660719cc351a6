"""Writing the paper's files: figures, tables and the main job's output directory.

* :func:`write_figures` -- the coverage, collision and upper-bound figures;
* :func:`write_report` -- NS21's Table 2 and the bound figures from saved runs;
* :func:`write_main` -- what bare ``couponbound`` writes: the printed table as
  CSV, NS21's Table 3 and the figures;
* :func:`write_table` -- a :class:`~couponbound.paper.tables.Table` as
  ``.md``, ``.tex`` and ``.csv``.

Figures are made with :func:`~couponbound.paper.style.paper_style` and
without pyplot, so no matplotlib backend is selected.  Every function checks
all its arguments before it writes the first file, writes every file
atomically (a temporary file in the same folder, renamed into place: a killed
or concurrent run leaves each file complete, a symbolic link at the
destination is replaced rather than followed) and returns the paths it wrote.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from couponbound._validate import short_repr
from couponbound.paper._atomic import atomic_write_text
from couponbound.paper._levels import check_accuracy
from couponbound.paper.datasets import DEFAULT_DATASETS, TABLE_DATASETS, as_named_priors
from couponbound.paper.summary import DatasetRow, render_summary
from couponbound.paper.tables import Table, coverage_table, decomposition_table

__all__ = [
    "DEFAULT_OUT",
    "figure_slug",
    "write_figures",
    "write_main",
    "write_report",
    "write_table",
]

#: Where the main job, ``figures`` and ``report`` write their files.
DEFAULT_OUT = "couponbound-output"

Progress = Callable[[str], None]

#: The resolution of the PNG files (``save_figure``'s default).
_SAVE_DPI = 300


def _quiet(msg: str) -> None:
    """A progress callback that says nothing."""


def figure_slug(name: str) -> str:
    """A file-name stem from a data set's name: ``"ImageNet-1k (uniform)"`` -> ``"imagenet-1k-uniform"``.

    Examples
    --------
    >>> figure_slug("ImageNet-1k (uniform)")
    'imagenet-1k-uniform'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {short_repr(name)}")
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in name)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "figure"


def long_tail_shuffled() -> Any:
    """CIFAR-100-LT (r = 100) drawn without replacement (a shuffled loader over its 10,847 images).

    The long-tailed data set of the default coverage figure: its class counts
    are finite, so the batch law is the exact one of a data loader that
    shuffles the data set (``replacement=False``).
    """
    from couponbound._prior import Prior
    from couponbound.paper.datasets import DATASETS

    lt = DATASETS["CIFAR-100-LT (r=100)"]
    return Prior.from_counts(lt.counts, replacement=False,
                             name="CIFAR-100-LT (r=100), without replacement")


def _new_figure(style: Any) -> tuple[Any, Any]:
    """A figure and axes outside pyplot: no backend is chosen or changed."""
    from matplotlib.figure import Figure

    # drawn at the resolution it is saved at: the layout measured while
    # drawing (legend columns, constrained layout) and the PNG share the text
    # metrics matplotlib caches per resolution, instead of measuring twice
    fig = Figure(figsize=style.figsize, dpi=_SAVE_DPI, layout="constrained")
    return fig, fig.add_subplot()


def _out_dir(out: Any) -> Path:
    if isinstance(out, bytes) or not isinstance(out, str | os.PathLike) or not os.fspath(out):
        raise TypeError(f"out must be a directory path (str or os.PathLike), got {short_repr(out)}")
    return Path(out)


def _draw_all(jobs: Sequence[tuple[str, Callable[[Any], Any]]], target: Path, *, venue: str,
              columns: int, formats: Sequence[str], say: Progress) -> list[Path]:
    """Draw each ``(name, draw(ax))`` job in a styled figure and save it as *target*/name.

    The venue, columns and formats are checked before the first figure is drawn."""
    from couponbound.paper.style import check_figure_formats, paper_style, save_figure

    formats = check_figure_formats(formats)
    written: list[Path] = []
    with paper_style(venue, columns) as style:
        for i, (name, draw) in enumerate(jobs, 1):
            say(f"[{i}/{len(jobs)}] figure {name}")
            fig, ax = _new_figure(style)
            draw(ax)
            written += save_figure(fig, target / name, formats, dpi=_SAVE_DPI)
    return written


def write_figures(
    out: str | os.PathLike[str] = DEFAULT_OUT,
    datasets: Any = None,
    *,
    venue: str = "neurips",
    columns: int = 2,
    formats: Sequence[str] = ("pdf", "png"),
    contrastive: float | None = None,
    d: float = 0.0,
    sub: float | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the coverage, collision and upper-bound figures; return the files.

    ``coverage``: :func:`~couponbound.paper.plots.plot_coverage` (by default
    with CIFAR-100-LT (r = 100) drawn without replacement added to the data
    sets); ``expected_classes``:
    :func:`~couponbound.paper.plots.plot_expected_classes` (by default its own
    data sets, long tail included); ``collision``:
    :func:`~couponbound.paper.plots.plot_collision`; ``sup_upper_bounds_<name>``
    (name from :func:`figure_slug`):
    :func:`~couponbound.paper.plots.plot_sup_upper_bounds`, one per data set,
    for the contrastive loss *contrastive* (default BAO22's minimum
    contrastive loss ``R*_cont(K)``, :func:`couponbound.bounds.bao22_min_contrastive`)
    and NS21's ``d`` and ``L^mu_sub`` when given.  With ``d = 0`` the curves
    are in BAO22's setting (positives drawn from the anchor's class), and the
    legend says so.

    Parameters
    ----------
    out : path
        Directory (created).
    datasets : data sets, optional
        Named priors (default :data:`~couponbound.paper.datasets.DEFAULT_DATASETS`),
        or anything :func:`~couponbound.paper.datasets.as_named_priors` accepts.
    venue, columns : optional
        As in :func:`~couponbound.paper.style.paper_style`.
    formats : sequence of str
        As in :func:`~couponbound.paper.style.save_figure`.
    contrastive : float, optional
        The contrastive loss of the upper-bound figures (positive).
    d : float, default 0.0
        NS21's ``d(f) <= 0`` measured with the loss (0: BAO22's setting).
    sub : float, optional
        NS21's ``L^mu_sub >= 0``, for NS21's complete bound.
    progress : callable, optional
        Called with a short message before each figure.
    """
    from couponbound.paper.plots import (
        plot_collision,
        plot_coverage,
        plot_expected_classes,
        plot_sup_upper_bounds,
    )
    from couponbound.paper.style import check_figure_formats, paper_style

    # every argument is checked before the first figure is written
    target = _out_dir(out)
    sets = as_named_priors(DEFAULT_DATASETS if datasets is None else datasets, "datasets")
    formats = check_figure_formats(formats)
    with paper_style(venue, columns):
        pass
    if contrastive is not None and (
            isinstance(contrastive, bool) or not isinstance(contrastive, numbers.Real)
            or not math.isfinite(contrastive) or contrastive <= 0):
        raise ValueError(f"contrastive must be a finite positive loss, got {short_repr(contrastive)}")
    if isinstance(d, bool) or not isinstance(d, numbers.Real) or not math.isfinite(d) or d > 0:
        raise ValueError(f"d must be a finite number <= 0, got {short_repr(d)}")
    if sub is not None and (isinstance(sub, bool) or not isinstance(sub, numbers.Real)
                            or not math.isfinite(sub) or sub < 0):
        raise ValueError(f"sub must be a finite number >= 0, got {short_repr(sub)}")
    # the default loss is named in the figure's legend
    loss = "" if contrastive is None else f"$L={contrastive:g}$"
    parts = [loss] if loss else []
    if d != 0:
        parts.append(f"$d={d:g}$")
    elif contrastive is not None:
        parts.append("$d=0$ (BAO22's setting)")
    if sub is not None:
        parts.append(rf"$L^\mu_\mathrm{{sub}}={sub:g}$")
    loss = ", ".join(parts)

    def bounds_for(prior: Any) -> Callable[[Any], Any]:
        def draw(ax: Any) -> Any:
            # d = 0 is stated in the legend, so no RestatedBoundWarning.  The bounds
            # and BAO22's least loss are stated for independent draws: a data set
            # given without replacement is drawn with its i.i.d. prior, and says so
            iid = prior.with_replacement(True)
            plot_sup_upper_bounds(contrastive, None, iid, d=d, sub=sub, warn=False, ax=ax)
            name = prior.label if prior.label.startswith("C = ") else f"{prior.label}, C = {prior.C}"
            if not prior.replacement:
                name += " (bounds for independent draws)"
            ax.get_legend().set_title(f"{name}; {loss}" if loss else name)
            return ax

        return draw

    # the default coverage figure also shows a long tail, the case where the
    # exact values matter most, with a shuffled loader's law (finite counts)
    coverage_sets = sets if datasets is not None else [*sets, long_tail_shuffled()]
    jobs: list[tuple[str, Callable[[Any], Any]]] = [
        ("coverage", lambda ax: plot_coverage(C=coverage_sets, ax=ax)),
        ("collision", lambda ax: plot_collision(C=sets, ax=ax)),
    ]
    # the number of distinct classes a batch sees; bands (exact quantiles at
    # ten batch sizes) for the defaults and for uniform priors, whose
    # distributions cost milliseconds
    classes_sets = None if datasets is None else sets
    band_for = None if datasets is None else [p.label for p in sets]
    jobs.append(("expected_classes", lambda ax: plot_expected_classes(
        C=classes_sets, band_for=band_for, ax=ax)))
    jobs += [(f"sup_upper_bounds_{figure_slug(p.label)}", bounds_for(p)) for p in sets]
    return _draw_all(jobs, target, venue=venue, columns=columns, formats=formats,
                     say=progress or _quiet)


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text + "\n")
    return path


def write_table(out: str | os.PathLike[str], stem: str, table: Table) -> list[Path]:
    """Write *table* as ``stem.md``, ``stem.tex`` and ``stem.csv`` in *out*; return the paths."""
    target = _out_dir(out)
    if not isinstance(stem, str) or not stem or os.sep in stem or stem in (".", ".."):
        raise ValueError(f"stem must be a file name without a folder, got {short_repr(stem)}")
    if not isinstance(table, Table):
        raise TypeError(f"table must be a Table, got {short_repr(table)}")
    return [_write_text(target / f"{stem}.md", table.to_markdown()),
            _write_text(target / f"{stem}.tex", table.to_latex()),
            _write_text(target / f"{stem}.csv", table.to_csv())]


def _tick_labels(runs: Sequence[tuple[str, Any]]) -> list[str] | None:
    """``None`` (batch sizes on the x axis) when every label is the default ``K+1 = n``."""
    if all(rep.K is not None and lab == f"K+1 = {rep.K + 1}" for lab, rep in runs):
        return None
    return [lab for lab, _ in runs]


def write_report(
    runs: Sequence[tuple[str, Any]],
    out: str | os.PathLike[str] = DEFAULT_OUT,
    *,
    accuracy: Sequence[float] | None = None,
    venue: str = "neurips",
    columns: int = 2,
    formats: Sequence[str] = ("pdf", "png"),
    figures: bool = True,
    progress: Progress | None = None,
) -> list[Path]:
    """Write NS21's Table 2 and, with *figures*, NS21's Figure 1 for saved runs.

    Files: ``decomposition.md/.tex/.csv``
    (:func:`~couponbound.paper.tables.decomposition_table`), ``bound_comparison``
    (:func:`~couponbound.paper.plots.plot_bound_comparison`) and
    ``bound_decomposition`` (:func:`~couponbound.paper.plots.plot_bound_decomposition`)
    for ``(label, BoundReport)`` pairs such as
    :func:`~couponbound.paper.reports.load_reports` returns.  Returns the files.
    """
    from couponbound.paper.style import check_figure_formats, paper_style

    say = progress or _quiet
    target = _out_dir(out)
    labels = [lab for lab, _ in runs]
    reports = [rep for _, rep in runs]
    table = decomposition_table(reports, labels)
    if not isinstance(figures, bool):
        raise TypeError(f"figures must be True or False, got {short_repr(figures)}")
    if figures:
        check_figure_formats(formats)
        with paper_style(venue, columns):
            pass
        if isinstance(accuracy, Mapping):
            for acc in accuracy.values():
                check_accuracy(acc, len(reports))
        else:
            check_accuracy(accuracy, len(reports))
    say("table decomposition")
    written = write_table(target, "decomposition", table)
    if figures:
        from couponbound.paper.plots import plot_bound_comparison, plot_bound_decomposition

        ticks = _tick_labels(runs)
        jobs: list[tuple[str, Callable[[Any], Any]]] = [
            ("bound_comparison",
             lambda ax: plot_bound_comparison(reports, accuracy, labels=ticks, ax=ax)),
            ("bound_decomposition",
             lambda ax: plot_bound_decomposition(reports, labels=ticks, ax=ax)),
        ]
        written += _draw_all(jobs, target, venue=venue, columns=columns, formats=formats,
                             say=say)
    return written


def write_main(
    out: str | os.PathLike[str],
    rows: Sequence[DatasetRow],
    *,
    venue: str = "neurips",
    columns: int = 2,
    progress: Progress | None = None,
) -> list[Path]:
    """What bare ``couponbound`` writes: ``coverage_summary.csv`` (the printed
    table, *rows* from :func:`~couponbound.paper.summary.dataset_table`), NS21's
    Table 3 as ``table3.md/.tex/.csv`` for
    :data:`~couponbound.paper.datasets.TABLE_DATASETS`, and :func:`write_figures`
    for the default data sets.  Returns the files."""
    from couponbound.paper.style import paper_style

    say = progress or _quiet
    target = _out_dir(out)
    with paper_style(venue, columns):  # checked before anything is written
        pass
    summary = render_summary(rows, "csv")
    table3 = coverage_table(TABLE_DATASETS)
    say(f"writing figures and tables to {target}/")
    written = [_write_text(target / "coverage_summary.csv", summary)]
    written += write_table(target, "table3", table3)
    written += write_figures(target, venue=venue, columns=columns, progress=say)
    return written
