"""Publication style: figure sizes per venue, fonts, and writing figure files.

* :func:`paper_style` -- a context manager with the venue's column widths,
  font sizes, thin lines, TrueType fonts in PDF and constrained layout;
* :func:`save_figure` -- writes PDF, PNG, ... with embedded TrueType fonts
  and no creation date (the same figure gives the same bytes);
* :data:`VENUES` -- text width, column gap and font size per venue.

matplotlib is imported only inside the functions.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from couponbound._validate import short_repr

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "DPI_RANGE",
    "FIGURE_FORMATS",
    "VENUES",
    "PaperStyle",
    "check_dpi",
    "check_figure_formats",
    "paper_style",
    "save_figure",
]

#: Text width and column gap (inches) per venue; see :func:`paper_style`.
VENUES: dict[str, dict[str, float]] = {
    "neurips": {"text": 5.5, "gap": 0.25, "font": 8.0},
    "iclr": {"text": 5.5, "gap": 0.25, "font": 8.0},
    "icml": {"text": 6.75, "gap": 0.25, "font": 8.0},
    "arxiv": {"text": 6.5, "gap": 0.25, "font": 8.5},
}


@dataclass(frozen=True)
class PaperStyle:
    """What :func:`paper_style` set: the venue, the columns and the figure size.

    Attributes
    ----------
    venue : str
    columns : int
    width, height : float
        Figure size in inches (also the default ``figure.figsize``).
    fontsize : float
        Base font size in points (tick labels and legends are one point smaller).
    """

    venue: str
    columns: int
    width: float
    height: float
    fontsize: float

    @property
    def figsize(self) -> tuple[float, float]:
        """``(width, height)`` in inches."""
        return (self.width, self.height)


@contextlib.contextmanager
def paper_style(
    venue: str = "neurips",
    columns: int = 1,
    *,
    height: float | None = None,
    fontsize: float | None = None,
) -> Iterator[PaperStyle]:
    """Publication settings for figures printed at their real size.

    Inside the ``with`` block new figures have the venue's width, fonts of
    8-8.5 pt (tick labels and legends 1 pt smaller), thin lines, TrueType
    (Type 42) fonts embedded in PDF and PS (as conference checkers demand),
    300 dpi PNG, and constrained layout so that nothing is clipped.  Include
    the PDF at its natural size (``\\includegraphics{fig.pdf}``, no
    ``width=``) and the fonts come out at the stated size.

    ============  ==========  ===============  ================
    venue         text width  ``columns=2``    ``columns=1``
    ============  ==========  ===============  ================
    ``neurips``   5.5 in      5.5 in (full)    2.625 in (half)
    ``iclr``      5.5 in      5.5 in (full)    2.625 in (half)
    ``icml``      6.75 in     6.75 in (full)   3.25 in (column)
    ``arxiv``     6.5 in      6.5 in (full)    3.125 in (half)
    ============  ==========  ===============  ================

    ``columns`` is the width in columns of a two-column grid over the text
    width: ``columns=2`` spans the text width (ICML's ``figure*``);
    ``columns=1`` is one ICML column, or one of two side-by-side figures in
    the one-column NeurIPS, ICLR and arXiv layouts.

    Parameters
    ----------
    venue : {"neurips", "icml", "iclr", "arxiv"}
        The venue.
    columns : {1, 2}
        Width in columns (see the table).
    height : float, optional
        Figure height in inches; default ``0.75 width`` for one column and
        ``0.36 width`` for two.
    fontsize : float, optional
        Base font size in points (default: the venue's).

    Yields
    ------
    PaperStyle
        The settings (``.figsize`` for ``plt.subplots(figsize=...)``).

    Raises
    ------
    ValueError
        Unknown venue, columns not 1 or 2, a non-positive size.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from couponbound.paper.plots import plot_coverage
    >>> with paper_style("icml", columns=1) as style:
    ...     fig, ax = plt.subplots()
    ...     _ = plot_coverage([9, 31, 99], [10], ax=ax)
    >>> style.width, [float(v) for v in fig.get_size_inches()]
    (3.25, [3.25, 2.4375])
    >>> plt.close(fig)
    """
    style = _style(venue, columns, height, fontsize)
    import matplotlib as mpl

    with mpl.rc_context(_rc(style)):  # type: ignore[arg-type]
        yield style


def _style(venue: Any, columns: Any, height: Any, fontsize: Any) -> PaperStyle:
    if not isinstance(venue, str) or venue.lower() not in VENUES:
        raise ValueError(f"venue must be one of {', '.join(VENUES)}; got {short_repr(venue)}")
    venue = venue.lower()
    if isinstance(columns, bool) or columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, got {short_repr(columns)}")
    v = VENUES[venue]
    width = v["text"] if columns == 2 else (v["text"] - v["gap"]) / 2.0
    if height is None:
        height = width * (0.75 if columns == 1 else 0.36)
    for name, value in (("height", height), ("fontsize", fontsize)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                  or not math.isfinite(value) or value <= 0):
            raise ValueError(f"{name} must be a positive number, got {short_repr(value)}")
    fs = float(fontsize) if fontsize is not None else v["font"]
    return PaperStyle(venue, int(columns), float(width), float(height), fs)


def _rc(style: PaperStyle) -> dict[str, Any]:
    fs = style.fontsize
    return {
        "figure.figsize": style.figsize,
        "figure.dpi": 150,
        "figure.constrained_layout.use": True,
        "figure.constrained_layout.h_pad": 0.02,
        "figure.constrained_layout.w_pad": 0.02,
        "savefig.dpi": 300,
        "savefig.bbox": "standard",
        "savefig.pad_inches": 0.02,
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        # named fonts, not the generic "serif": a Text keeps its family, but a
        # generic one would be resolved again when the figure is drawn
        "font.family": ["STIXGeneral", "DejaVu Serif"],
        "mathtext.fontset": "stix",
        "font.size": fs,
        "axes.titlesize": fs,
        "axes.labelsize": fs,
        "xtick.labelsize": fs - 1,
        "ytick.labelsize": fs - 1,
        "legend.fontsize": fs - 1,
        "legend.title_fontsize": fs - 1,
        "legend.handlelength": 1.8,
        "legend.borderaxespad": 0.3,
        "legend.labelspacing": 0.3,
        "axes.linewidth": 0.6,
        "xtick.major.width": 0.6,
        "ytick.major.width": 0.6,
        "xtick.minor.width": 0.4,
        "ytick.minor.width": 0.4,
        "xtick.major.size": 3.0,
        "ytick.major.size": 3.0,
        "xtick.minor.size": 1.8,
        "ytick.minor.size": 1.8,
        "lines.linewidth": 1.2,
        "lines.markersize": 4.0,
        "hatch.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


#: What :func:`save_figure` writes.
FIGURE_FORMATS: tuple[str, ...] = ("pdf", "png", "svg", "eps")
#: The resolutions :func:`save_figure` accepts, in dots per inch.
DPI_RANGE: tuple[float, float] = (10.0, 2400.0)


def check_figure_formats(formats: Any) -> tuple[str, ...]:
    """*formats* (one name or a sequence of them) as a tuple of :data:`FIGURE_FORMATS`.

    Raises
    ------
    ValueError, TypeError
        An unknown or empty format list, naming the value.

    Examples
    --------
    >>> check_figure_formats("pdf"), check_figure_formats(["pdf", "png"])
    (('pdf',), ('pdf', 'png'))
    """
    if isinstance(formats, str):
        formats = (formats,)
    try:
        items = tuple(formats)
    except TypeError:
        raise TypeError(f"formats must be a str or a sequence of str, got {short_repr(formats)}") from None
    if not items:
        raise ValueError("formats must name at least one format")
    for fmt in items:
        if fmt not in FIGURE_FORMATS:
            raise ValueError(f"formats must be some of {', '.join(FIGURE_FORMATS)}; got {short_repr(fmt)}")
    return items


def check_dpi(dpi: Any) -> float:
    """*dpi* as a float in :data:`DPI_RANGE` (10 to 2400 dots per inch).

    Raises
    ------
    TypeError
        Not a real number (``bool`` refused).
    ValueError
        Outside the range, or not finite.
    """
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real):
        raise TypeError(f"dpi must be a number of dots per inch, got {short_repr(dpi)}")
    try:
        value = float(dpi)
    except OverflowError:
        value = math.inf
    lo, hi = DPI_RANGE
    if not lo <= value <= hi:
        raise ValueError(f"dpi must be between {lo:g} and {hi:g} dots per inch, got {short_repr(dpi)}")
    return value


def save_figure(
    fig: Figure,
    path: str | os.PathLike[str],
    formats: Sequence[str] = ("pdf", "png"),
    *,
    dpi: float = 300,
) -> list[Path]:
    """Write *fig* as ``path.pdf``, ``path.png``, ... (directories are created).

    Fonts are embedded as TrueType (Type 42) even outside :func:`paper_style`,
    and PDFs are written without a creation date, so the same figure gives the
    same bytes.  Every file is written atomically (a temporary file in the
    same folder renamed into place): a killed run leaves each file complete or
    absent, and a symbolic link at the destination is replaced, not followed.
    All arguments are checked before the first file is written.  Returns the
    paths written.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        The destination without its suffix.
    formats : sequence of str
        Some of :data:`FIGURE_FORMATS`.
    dpi : float, default 300
        Resolution of raster formats, between 10 and 2400 (:data:`DPI_RANGE`).

    Raises
    ------
    ValueError, TypeError
        An unknown format or a *dpi* out of range, naming the value.

    Examples
    --------
    >>> import os, tempfile, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in save_figure(fig, os.path.join(d, "fig"))]
    ['fig.pdf', 'fig.png']
    >>> save_figure(fig, "never-written", dpi=1e6)
    Traceback (most recent call last):
    ...
    ValueError: dpi must be between 10 and 2400 dots per inch, got 1000000.0
    >>> plt.close(fig)
    """
    import matplotlib as mpl

    from couponbound.paper._atomic import save_figure_atomic

    if not (hasattr(fig, "savefig") and hasattr(fig, "canvas")):
        raise TypeError(f"fig must be a matplotlib Figure, got {short_repr(fig)}")
    fmts = check_figure_formats(formats)
    value = check_dpi(dpi)
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {short_repr(path)}")
    base = Path(path)
    if not base.name:
        raise ValueError(f"path must name a file, got {short_repr(path)}")
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    # One layout for every format: the first file's draw runs the figure's
    # layout engine (constrained layout, at the raster resolution when a PNG
    # is written), then the engine is switched off so the other formats are
    # rendered from the same arrangement instead of solving it again.  A PNG
    # is encoded from the pixels of that first draw.  The engine is restored
    # afterwards, so the figure behaves as before for the caller.
    engine = fig.get_layout_engine()
    order = sorted(fmts, key=lambda f: f != "png")  # the PNG (if any) draws first
    try:
        for i, fmt in enumerate(order):
            target = base.with_name(base.name + "." + fmt)
            if fmt == "png":
                _save_png_once(fig, target, value)
            else:
                meta: dict[str, Any] = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt, {})
                with mpl.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42}):
                    save_figure_atomic(fig, target, format=fmt, dpi=value, metadata=meta or None)
            out.append(target)
            if i == 0 and engine is not None and len(order) > 1:
                fig.set_layout_engine("none")
    finally:
        if engine is not None and fig.get_layout_engine() is not engine:
            fig.set_layout_engine(engine)
    return [out[order.index(f)] for f in fmts]


def _save_png_once(fig: Figure, target: Path, dpi: float) -> None:
    """Draw *fig* once with Agg at *dpi* and write those pixels as a PNG, atomically.

    The same bytes ``savefig(format="png")`` writes (matplotlib's own PNG
    writer and metadata), from one draw whose layout the other formats reuse.
    """
    import io

    import matplotlib as mpl
    from matplotlib import image as mimage
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from couponbound.paper._atomic import MAX_FIGURE_PIXELS, atomic_write_bytes

    width, height = (float(v) for v in fig.get_size_inches())
    if not width * dpi * height * dpi <= MAX_FIGURE_PIXELS:
        raise ValueError(
            f"dpi={dpi:g} makes a {width:g}x{height:g} inch figure {width * dpi * height * dpi:.3g} "
            f"pixels, more than the limit of {MAX_FIGURE_PIXELS:,}; use a smaller dpi or a "
            "vector format (pdf, svg)")
    old_canvas, old_dpi = fig.canvas, fig.dpi
    try:
        canvas = FigureCanvasAgg(fig)
        fig.dpi = dpi
        face, edge = mpl.rcParams["savefig.facecolor"], mpl.rcParams["savefig.edgecolor"]
        old_face, old_edge = fig.get_facecolor(), fig.get_edgecolor()
        if face != "auto":
            fig.set_facecolor(face)
        if edge != "auto":
            fig.set_edgecolor(edge)
        try:
            canvas.draw()
            pixels = canvas.buffer_rgba()
            buf = io.BytesIO()
            mimage.imsave(buf, pixels, format="png", dpi=dpi,
                             metadata={"Software": f"Matplotlib version{mpl.__version__}, "
                                                   "https://matplotlib.org/"})
        finally:
            fig.set_facecolor(old_face)
            fig.set_edgecolor(old_edge)
    finally:
        fig.dpi = old_dpi
        fig.set_canvas(old_canvas)
    atomic_write_bytes(target, buf.getvalue())
