"""Axes helpers shared by the figures (private): new axes, twins, colours,
``K`` grids, the legend above the axes, and freezing the tick style."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_int_array

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

# Colour-blind-safe palette (Okabe & Ito), one colour per data set or bound.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def axes_or_new(ax: Any) -> Axes:
    """*ax*, or the axes of a new figure when it is ``None``."""
    if ax is None:
        _, ax = pyplot().subplots()
        return ax
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def family(ax: Axes) -> list[Axes]:
    """*ax* and the axes that share its x axis (twins), *ax* first."""
    sib = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    return [ax, *sib]


def freeze_style(ax: Axes) -> Axes:
    """Store the current tick style in *ax* and its twins.

    Tick labels are created when the figure is drawn, from the rcParams of
    that moment; a figure made inside :func:`~couponbound.paper.style.paper_style`
    but saved after the ``with`` block (as sphinx-gallery and notebooks do)
    would get default ticks.  Fixing them now keeps the figure as it was styled.
    """
    import matplotlib as mpl

    rc: Any = mpl.rcParams
    for a in family(ax):
        for axis in ("x", "y"):
            for which in ("major", "minor"):
                a.tick_params(axis=axis, which=which, labelsize=rc[f"{axis}tick.labelsize"],
                              width=rc[f"{axis}tick.{which}.width"],
                              length=rc[f"{axis}tick.{which}.size"],
                              pad=rc[f"{axis}tick.{which}.pad"])
    return ax


def _renderer(fig: Any) -> Any:
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()


def _legend_above_class() -> Any:
    """The :class:`~matplotlib.legend.Legend` subclass :func:`legend_above` draws (made once)."""
    global _LEGEND_ABOVE
    if _LEGEND_ABOVE is not None:
        return _LEGEND_ABOVE
    from matplotlib.legend import Legend

    class LegendAbove(Legend):
        """A legend above the axes that carries the axes' title as its own heading.

        Above the axes the legend and a title set with ``ax.set_title`` (before
        or after the legend: e.g. on each axes of ``plt.subplots(1, 2)``)
        would occupy the same place.  The centre title is shown as the first
        line of the legend's heading instead, above the entries, and the axes'
        own title text is hidden (``ax.get_title()`` still returns it).
        """

        _own_title = ""
        _syncing = False

        def set_title(self, title: str, prop: Any = None) -> None:
            self._own_title = title or ""
            self._title_prop = prop
            self._sync()

        def _sync(self) -> None:
            if self._syncing:
                return
            self._syncing = True
            try:
                ax = self.axes
                head = ax.get_title() if ax is not None and ax.get_legend() is self else ""
                if head:
                    ax.title.set_visible(False)
                text = "\n".join(t for t in (head, self._own_title) if t)
                prop = getattr(self, "_title_prop", None)
                if head and prop is None:
                    prop = ax.title.get_fontproperties()
                Legend.set_title(self, text, prop)
            finally:
                self._syncing = False

        def get_window_extent(self, renderer: Any = None) -> Any:
            self._sync()
            return super().get_window_extent(renderer)

        def get_tightbbox(self, renderer: Any = None) -> Any:
            self._sync()
            return super().get_tightbbox(renderer)

        def draw(self, renderer: Any) -> None:
            self._sync()
            super().draw(renderer)

        def remove(self) -> None:
            ax = self.axes
            super().remove()
            if ax is not None:
                ax.title.set_visible(True)

    _LEGEND_ABOVE = LegendAbove
    return LegendAbove


_LEGEND_ABOVE: Any = None


def _place_legend(ax: Axes, handles: list[Any], labels: list[str], **kw: Any) -> Any:
    cls = _legend_above_class()
    old = ax.get_legend()
    if old is not None:
        old.remove()
    leg = cls(ax, handles, labels, **kw)
    ax.legend_ = leg
    leg._remove_method = ax._remove_legend  # type: ignore[attr-defined]
    # the title hides itself behind the legend's heading as soon as it is set
    title = ax.title
    if not getattr(title, "_couponbound_watched", False):
        previous = title.stale_callback

        def watch(artist: Any, val: Any) -> None:
            current = artist.axes.get_legend() if artist.axes is not None else None
            if isinstance(current, cls):
                current._sync()
            if previous is not None:
                previous(artist, val)

        title.stale_callback = watch
        title._couponbound_watched = True  # type: ignore[attr-defined]
    leg._sync()
    return leg


def legend_above(ax: Axes, handles: list[Any], labels: list[str]) -> Any:
    """A frameless legend centred above *ax*, in as few rows as fit its width.

    Outside the data area, so no curve or bar can run through it; the number
    of columns is the largest that keeps the legend no wider than the axes,
    then balanced (6 entries in 2 rows of 3, not 4 + 2).  A title of *ax*
    (``ax.set_title``, before or after) becomes the legend's heading, so the
    two never overlap.
    """
    n = len(handles)
    kw: dict[str, Any] = {"loc": "lower center", "bbox_to_anchor": (0.5, 1.01), "frameon": False,
          "borderaxespad": 0.0, "columnspacing": 1.2, "handletextpad": 0.5}
    try:
        fig: Any = ax.figure
        renderer = _renderer(fig)
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.execute(fig)  # the axes' final width, before the legend exists
        avail = 1.1 * ax.get_window_extent(renderer).width
    except Exception:  # pragma: no cover - a canvas without a renderer
        return _place_legend(ax, handles, labels, ncol=min(n, 2), **kw)
    ncol = 1
    for cand in range(n, 0, -1):
        leg = _place_legend(ax, handles, labels, ncol=cand, **kw)
        if leg.get_window_extent(renderer).width <= avail:
            ncol = cand
            break
    rows = math.ceil(n / ncol)
    return _place_legend(ax, handles, labels, ncol=math.ceil(n / rows), **kw)


def twin(ax: Axes) -> Axes:
    """A twin axes on the right, its spine shown even under ``paper_style``."""
    ax2 = ax.twinx()
    ax2.spines["right"].set_visible(True)
    ax.spines["right"].set_visible(True)
    return ax2


def k_array(K: Any, name: str = "K") -> NDArray[np.int64]:
    """*K* as sorted unique non-negative integers (a non-empty 1-d array)."""
    arr, _ = check_int_array(K, name, minimum=0)
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence of integers >= 0, got shape {arr.shape}")
    return np.unique(arr)


def k_grid(top: float, bottom: int = 1, points: int = 300) -> NDArray[np.int64]:
    """About *points* integers, geometrically spaced from *bottom* to *top*."""
    top = max(float(top), bottom + 2.0)
    return np.unique(np.round(np.geomspace(bottom, top, points)).astype(np.int64))


def color(i: int) -> str:
    """The *i*-th colour of the palette (cycling)."""
    return COLORS[i % len(COLORS)]

