"""Figures for papers: coverage, collisions and the NS21 bounds.

Every function takes ``ax=None`` (a new figure is made when it is ``None``),
returns the :class:`~matplotlib.axes.Axes` it drew on, and never calls
``plt.show()``.  matplotlib is imported inside the functions, so
``import couponbound.paper.plots`` stays cheap and picks no backend.

* :func:`plot_coverage` -- ``upsilon_{K+1}`` against ``K`` (NS21, Section 4);
* :func:`plot_collision` -- ``tau_K`` and ``E ln(1+Col)`` against ``K``;
* :func:`plot_sup_upper_bounds` -- the upper bounds on the supervised loss of
  ARORA19, NS21, ASH22 and BAO22 against ``K`` (BAO22's comparison);
* :func:`plot_bound_comparison` -- NS21's Figure 1: ARORA19's and NS21's bounds on
  the supervised loss per batch size, with validation accuracy;
* :func:`plot_bound_decomposition` -- NS21's bound, term by term, against the
  measured contrastive loss.

Publication settings (column widths, font sizes, TrueType fonts in PDF) and
writing files are in :mod:`couponbound.paper.style`
(:func:`~couponbound.paper.style.paper_style`,
:func:`~couponbound.paper.style.save_figure`).  Data sets are named
:class:`~couponbound.Prior` objects (:mod:`couponbound.paper.datasets`).

Each plotted artist carries a ``gid`` naming what it shows (e.g.
``"coverage/CIFAR-10"``), so tests and users can find it with
:func:`find_artists`.

The papers (NS21, ARORA19, ASH22, BAO22, ER61) are cited in full in
:ref:`math-references`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from couponbound._prior import Prior, as_prior
from couponbound._validate import check_flag, short_repr
from couponbound.paper._layout import (
    axes_or_new,
    color,
    family,
    freeze_style,
    k_array,
    k_grid,
    legend_above,
    twin,
)
from couponbound.paper._levels import check_accuracy as _check_accuracy
from couponbound.paper._runs import Run, summarize_runs
from couponbound.paper.datasets import DEFAULT_DATASETS, as_named_priors, ceil_expected_batch

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = [
    "find_artists",
    "plot_bound_comparison",
    "plot_bound_decomposition",
    "plot_collision",
    "plot_coverage",
    "plot_sup_upper_bounds",
]

#: Each bound of :func:`plot_sup_upper_bounds`: legend label, colour, line style.
_BOUND_STYLE = {
    "arora": ("Arora et al. 2019 (CURL)", "#D55E00", "-"),
    "ns21": ("Nozawa & Sato 2021", "#0072B2", "-"),
    "ash": ("Ash et al. 2022", "#009E73", "--"),
    "bao": ("Bao et al. 2022", "#CC79A7", "-."),
}

_K_LABEL = r"negatives $K$ (batch size $K+1$)"


def find_artists(ax: Axes, gid: str) -> list[Artist]:
    """Artists of *ax* (and its twin axes) whose ``gid`` equals or starts with *gid*.

    A ``gid`` ending in ``"/"`` matches the prefix, e.g. ``"coverage/"``.

    Examples
    --------
    >>> ax = plot_coverage([9, 31, 99], [10], expected=False, confidence=None)
    >>> [a.get_gid() for a in find_artists(ax, "coverage/")]
    ['coverage/C = 10']
    """
    if not hasattr(ax, "get_children") or not hasattr(ax, "get_shared_x_axes"):
        raise TypeError(f"ax must be a matplotlib Axes, got {short_repr(ax)}")
    if not isinstance(gid, str):
        raise TypeError(f"gid must be a str, got {short_repr(gid)}")
    out = []
    for a in family(ax):
        for art in a.get_children():
            g = art.get_gid()
            if g is not None and (g == gid or (gid.endswith("/") and g.startswith(gid))):
                out.append(art)
    return out


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------


def plot_coverage(
    K: ArrayLike | None = None,
    C: Any = DEFAULT_DATASETS,
    *,
    gumbel: bool = True,
    expected: bool = True,
    confidence: float | None = 0.99,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Coverage ``upsilon_{K+1}`` against the number of negatives ``K`` (log x axis).

    ``upsilon_{K+1}`` is the probability that the anchor and its ``K``
    negatives -- ``K + 1`` draws, **anchor included** -- contain every class
    (NS21, Section 4; :func:`couponbound.coverage_prob`; :ref:`math-coverage`).  Per data set: the
    exact curve (solid), its large-``C`` approximation (dashed: ER61's Gumbel
    law for uniform classes, :func:`couponbound.asymptotic.gumbel_coverage`;
    Poissonisation otherwise, :func:`couponbound.asymptotic.poisson_coverage`;
    :ref:`math-asymptotic`),
    a circle at NS21's ``E[K+1]`` rounded up (Table 3; ``K = ceil(E[T]) - 1``)
    and a square at the smallest ``K`` with ``upsilon_{K+1} >= confidence``.

    Parameters
    ----------
    K : array_like of int, optional
        Numbers of negatives; default: about 300 values from ``0.3 C_min``
        (at least 1; the coverage is 0 below ``C - 1``) to beyond every data
        set's 99.99 % point.
    C : int, Prior, data set, or sequence of them, default DEFAULT_DATASETS
        Named priors (:data:`~couponbound.paper.datasets.DEFAULT_DATASETS`:
        CIFAR-10, CIFAR-100, ImageNet scale), ``[10, 100, 1000]``, or anything
        :func:`~couponbound.paper.datasets.as_named_prior` accepts --
        ``("ImageNet-1k", {"counts": counts})`` for a non-uniform prior.  Curves
        are labelled by each prior's :attr:`~couponbound.Prior.label`.
    gumbel : bool, default True
        Draw the approximation.
    expected : bool, default True
        Mark ``E[K+1]``.
    confidence : float or None, default 0.99
        Mark the smallest ``K`` reaching this coverage (``None``: no mark).
    legend : bool, default True
        Draw the legends.
    ax : Axes, optional
        Where to draw the coverage curves; a new figure when ``None``.

    Returns
    -------
    Axes
        Artists' gids: ``coverage/<name>``, ``approx/<name>``,
        ``expected/<name>``, ``quantile/<name>``.

    Raises
    ------
    ValueError, TypeError
        Bad ``K``, data set, ``confidence`` outside (0, 1), or ``ax``.

    Examples
    --------
    >>> ax = plot_coverage([9, 31, 99, 299], [10, 100])
    >>> ax.get_xscale(), ax.get_ylabel()
    ('log', 'coverage $\\\\upsilon_{K+1}$')
    >>> line = find_artists(ax, "coverage/C = 10")[0]
    >>> [round(float(v), 4) for v in line.get_ydata()]
    [0.0004, 0.691, 0.9997, 1.0]
    """
    from couponbound.asymptotic import gumbel_coverage, poisson_coverage
    from couponbound.coverage import coverage_prob, required_negatives

    sets = as_named_priors(C, "C")
    if confidence is not None:
        from couponbound._validate import check_probability

        confidence = check_probability(confidence, "confidence")
    if K is None:
        top = max(required_negatives(p, confidence=0.9999) for p in sets)
        bottom = max(1, round(0.3 * min(p.C for p in sets)))  # υ = 0 below C - 1
        Ks = k_grid(1.3 * top, bottom)
    else:
        Ks = k_array(K)
    ax = axes_or_new(ax)
    Kx = np.maximum(Ks, 0).astype(np.float64)
    any_nonuniform = False
    for i, prior in enumerate(sets):
        name = prior.label
        col = color(i)
        ups = np.asarray(coverage_prob(Ks, prior), dtype=np.float64)
        (ln,) = ax.plot(Kx, ups, color=col, lw=1.4, label=name)
        ln.set_gid(f"coverage/{name}")
        if gumbel:
            if prior.is_uniform:
                approx = gumbel_coverage(Ks, prior.C)
            else:
                any_nonuniform = True
                approx = poisson_coverage(Ks, prior)
            (la,) = ax.plot(Kx, np.asarray(approx, dtype=np.float64), color=col, lw=1.0,
                            ls=(0, (4, 2)), alpha=0.9, label="_nolegend_")
            la.set_gid(f"approx/{name}")
        if expected:
            k_e = max(ceil_expected_batch(prior) - 1, 0)
            (le,) = ax.plot([k_e], [float(coverage_prob(k_e, prior))], "o", color=col, ms=4.5,
                            mfc="white", mew=1.2, zorder=4, label="_nolegend_")
            le.set_gid(f"expected/{name}")
        if confidence is not None:
            k_q = required_negatives(prior, confidence=confidence)
            (lq,) = ax.plot([k_q], [float(coverage_prob(k_q, prior))], "s", color=col, ms=4.0,
                            zorder=4, label="_nolegend_")
            lq.set_gid(f"quantile/{name}")
    positive = Kx[Kx > 0]
    ax.set_xscale("log")
    if positive.size:
        ax.set_xlim(positive.min(), positive.max())
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_K_LABEL)
    ax.set_ylabel(r"coverage $\upsilon_{K+1}$")
    ax.grid(True, which="major", lw=0.4, alpha=0.4)
    if legend:
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        if gumbel:
            name = "Poisson approx." if all(not p.is_uniform for p in sets) else (
                "Gumbel/Poisson approx." if any_nonuniform else "Gumbel approx.")
            handles.append(Line2D([], [], color="0.2", lw=1.0, ls=(0, (4, 2))))
            labels.append(name)
        if expected:
            handles.append(Line2D([], [], color="0.2", marker="o", mfc="white", ls="", ms=4.5))
            labels.append(r"$\lceil\mathbb{E}[K+1]\rceil$")
        if confidence is not None:
            handles.append(Line2D([], [], color="0.2", marker="s", ls="", ms=4.0))
            labels.append(f"{confidence * 100:g} % coverage")
        legend_above(ax, handles, labels)
    return freeze_style(ax)


# ---------------------------------------------------------------------------
# collisions
# ---------------------------------------------------------------------------


def plot_collision(
    K: ArrayLike | None = None,
    C: Any = DEFAULT_DATASETS,
    *,
    which: str = "both",
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """ARORA19's collision probability ``tau_K`` and NS21's ``E ln(1+Col)`` against ``K``.

    ``Col`` counts the negatives that share the anchor's class:
    ``tau_K = P(Col >= 1)`` (:func:`couponbound.collision_prob`) is the factor
    that makes ARORA19's bound explode, ``E ln(1 + Col)``
    (:func:`couponbound.expected_log_collision`) is the collision term of
    NS21's bound, which grows like ``ln(1 + K/C)`` (:ref:`math-collisions`).

    Parameters
    ----------
    K : array_like of int, optional
        Numbers of negatives; default: about 300 values from 1 to ``10 C_max``.
    C : int, Prior, data set, or sequence of them, default DEFAULT_DATASETS
        As in :func:`plot_coverage`.
    which : {"both", "tau", "collision"}
        ``"both"``: ``tau_K`` solid on the left axis, ``E ln(1+Col)`` dashed on
        a twin right axis; otherwise only the one quantity.
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw the collision curves; a new figure when ``None``.

    Returns
    -------
    Axes
        The left axes (its twin, for ``"both"``, shares the x axis; see
        :func:`find_artists`).  Gids: ``tau/<name>``, ``collision/<name>``.

    Examples
    --------
    >>> ax = plot_collision([31, 127], [10, 100])
    >>> [round(float(v), 3) for v in find_artists(ax, "collision/C = 10")[0].get_ydata()]
    [1.317, 2.585]
    >>> [round(float(v), 3) for v in find_artists(ax, "tau/C = 100")[0].get_ydata()]
    [0.268, 0.721]
    """
    from couponbound.collision import collision_prob, expected_log_collision

    if which not in ("both", "tau", "collision"):
        raise ValueError(f"which must be 'both', 'tau' or 'collision', got {short_repr(which)}")
    sets = as_named_priors(C, "C")
    Ks = k_grid(10 * max(p.C for p in sets)) if K is None else k_array(K)
    ax = axes_or_new(ax)
    Kx = Ks.astype(np.float64)
    ax2 = twin(ax) if which == "both" else ax
    for i, prior in enumerate(sets):
        name = prior.label
        col = color(i)
        if which in ("both", "tau"):
            tau = np.asarray(collision_prob(Ks, prior), dtype=np.float64)
            (lt,) = ax.plot(Kx, tau, color=col, lw=1.4, label=name)
            lt.set_gid(f"tau/{name}")
        if which in ("both", "collision"):
            coll = np.asarray(expected_log_collision(Ks, prior), dtype=np.float64)
            (lc,) = ax2.plot(Kx, coll, color=col, lw=1.2,
                             ls=(0, (4, 2)) if which == "both" else "-",
                             label=name if which == "collision" else "_nolegend_")
            lc.set_gid(f"collision/{name}")
    for a in {ax, ax2}:
        a.set_xscale("log")
    if Kx[Kx > 0].size:
        ax.set_xlim(Kx[Kx > 0].min(), Kx.max())
    ax.set_xlabel(_K_LABEL)
    solid, dashed = (" (solid)", " (dashed)") if which == "both" else ("", "")
    tau_label = r"collision probability $\tau_K$" + solid
    coll_label = r"$\mathbb{E}\ln(1+\mathrm{Col})$ (nats)" + dashed
    if which == "collision":
        ax.set_ylabel(coll_label)
        ax.set_ylim(bottom=0)
    else:
        ax.set_ylabel(tau_label)
        ax.set_ylim(-0.02, 1.02)
    if which == "both":
        ax2.set_ylabel(coll_label)
        ax2.set_ylim(bottom=0)
    ax.grid(True, which="major", lw=0.4, alpha=0.4)
    if legend:
        src = ax2 if which == "collision" else ax
        legend_above(ax, *src.get_legend_handles_labels())
    return freeze_style(ax)


# ---------------------------------------------------------------------------
# theoretical upper bounds (BAO22's comparison)
# ---------------------------------------------------------------------------


def plot_sup_upper_bounds(
    contrastive: float | ArrayLike | Callable[[NDArray[np.int64]], ArrayLike] | None = None,
    K: ArrayLike | None = None,
    C: int | Prior | None = 10,
    *,
    probs: ArrayLike | None = None, counts: ArrayLike | None = None,
    d: ArrayLike = 0.0, sub: ArrayLike | None = None, B: float = 1.0, warn: bool = True,
    bounds: Sequence[str] = ("arora", "ns21", "ash", "bao"),
    show_contrastive: bool = True,
    ylim: tuple[float, float] | None = None,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Upper bounds on the supervised loss ``L^mu_sup`` against ``K`` (log y axis).

    For a contrastive loss ``L``, the bounds of ARORA19, NS21, ASH22 and
    BAO22 on the mean-classifier loss, as BAO22 lay them side by side
    (:func:`couponbound.sup_upper_bounds`; formulas in :ref:`math-bounds`),
    each in the most complete form ``d`` and ``sub`` allow.  By default
    ``L`` is BAO22's minimum contrastive loss ``R*_cont(K)``
    (:func:`couponbound.bounds.bao22_min_contrastive`), the loss of BAO22's
    setting (``d = 0``).  A dotted vertical line marks ``K + 1 = C``: with
    fewer draws no batch covers every class, ``upsilon_{K+1} = 0`` and the
    bounds that divide by it are vacuous.  Where a bound is infinite or not
    positive (``L`` below the collision term: possible only for a
    hypothetical ``L``), it is not drawn.

    Parameters
    ----------
    contrastive : float, array_like, callable or None
        ``L``: one value, one value per ``K``, or a function of the ``K``
        array (e.g. ``lambda K: np.log1p(K)``, the loss of an encoder that
        maps everything to one point); ``None`` (default) for BAO22's
        ``R*_cont(K)`` with feature norm *B*.
    K : array_like of int, optional
        Numbers of negatives; default ``1 .. 10 C`` (about 300 values).
    C, probs, counts : optional
        The class prior: an ``int`` or a :class:`~couponbound.Prior` as *C*, or
        ``probs=``/``counts=`` (default: 10 uniform classes, BAO22's setting).
    d, sub : float or array_like, optional
        NS21's ``d(f) <= 0`` and ``L^mu_sub``, one value or one per ``K``, as
        in :func:`couponbound.sup_upper_bounds`.
    B : float, default 1.0
        The feature-norm bound of BAO22's bound (their setting).
    warn : bool, default True
        Issue a :class:`~couponbound.bounds.RestatedBoundWarning` when a
        positive *contrastive* is given and ``d`` is left at 0 (never for
        the default ``R*_cont``, which is BAO22's setting by construction).
    bounds : sequence of str
        Which of ``"arora"``, ``"ns21"``, ``"ash"``, ``"bao"`` to draw.
    show_contrastive : bool, default True
        Also draw ``L`` itself (thin grey).
    ylim : (float, float), optional
        y limits; default from the drawn values, the top capped at
        ``1000 max(L)`` or ten times the largest of the bounds' minima
        (whichever is higher), so that an exploding bound does not flatten
        the rest while every bound's best value stays in view.
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw the bounds; a new figure when ``None``.

    Returns
    -------
    Axes
        Gids: ``bound/<name>`` (name from *bounds*), ``contrastive``,
        ``coverage_threshold``.

    Raises
    ------
    ValueError, TypeError
        Bad arguments, naming them.

    Warns
    -----
    RestatedBoundWarning
        As :func:`couponbound.sup_upper_bounds`, unless ``warn=False``.

    Examples
    --------
    >>> ax = plot_sup_upper_bounds(K=[15, 31, 63], C=10)       # L = R*_cont(K)
    >>> ax.get_yscale()
    'log'
    >>> from couponbound import sup_upper_bounds
    >>> ax = plot_sup_upper_bounds(2.5, [15, 31, 63], 10, d=-1.0)
    >>> y = find_artists(ax, "bound/ns21")[0].get_ydata()
    >>> bool(np.allclose(y, sup_upper_bounds(2.5, [15, 31, 63], 10, d=-1.0).ns21))
    True
    """
    import warnings

    from couponbound.bounds import (
        RestatedBoundWarning,
        bao22_min_contrastive,
        sup_upper_bounds,
    )

    allowed = tuple(_BOUND_STYLE)
    if isinstance(bounds, str):
        bounds = (bounds,)
    for b in bounds:
        if b not in allowed:
            raise ValueError(f"bounds must name some of {', '.join(allowed)}; got {short_repr(b)}")
    if probs is not None or counts is not None:
        C = None
    prior = as_prior(C, probs=probs, counts=counts)
    c = prior.C
    Ks = k_grid(10 * c) if K is None else k_array(K)
    check_flag(warn, "warn")
    if contrastive is None:
        L: Any = bao22_min_contrastive(Ks, prior, B=B)
    elif callable(contrastive):
        L = np.asarray(contrastive(Ks), dtype=np.float64)
        if L.shape not in ((), Ks.shape):
            raise ValueError(f"contrastive(K) must return one value per K ({Ks.size}), "
                             f"got shape {L.shape}")
    else:
        L = contrastive
    res = sup_upper_bounds(L, Ks, prior, d=d, sub=sub, B=B, warn=False)
    if (warn and contrastive is not None and not np.any(np.asarray(res.d) != 0)
            and np.any(np.asarray(res.contrastive) > 0)):
        warnings.warn(
            "plot_sup_upper_bounds: d was left at 0, so the NS21, ARORA19 and ASH22 curves are "
            "BAO22's restatements (setting 'BAO22 (d = 0)'), upper bounds only when positives "
            "are drawn from the anchor's class; pass the measured d= (and sub=), or warn=False "
            "if BAO22's setting is meant",
            RestatedBoundWarning, stacklevel=2,
        )
    ax = axes_or_new(ax)
    Kx = Ks.astype(np.float64)
    drawn = []
    for b in bounds:
        label, col, ls = _BOUND_STYLE[b]
        if b == "bao" and res.setting != "BAO22 (d = 0)":
            label += r" (its setting, $d = 0$)"  # BAO22's bound has no d-corrected form
        y = np.broadcast_to(np.asarray(getattr(res, b), dtype=np.float64), Kx.shape)
        shown = np.where(np.isfinite(y) & (y > 0), y, np.nan)
        (ln,) = ax.plot(Kx, shown, color=col, ls=ls, lw=1.4, label=label)
        ln.set_gid(f"bound/{b}")
        drawn.append(shown)
    Lb = np.broadcast_to(np.asarray(res.contrastive, dtype=np.float64), Kx.shape)
    if show_contrastive:
        lab = r"$L = R^*_\mathrm{cont}$ (BAO22)" if contrastive is None else r"contrastive loss $L$"
        (lc,) = ax.plot(Kx, Lb, color="0.45", lw=0.9, ls=":", label=lab)
        lc.set_gid("contrastive")
    if c >= 2 and (Kx.min() <= c - 1 <= Kx.max()):
        vl = ax.axvline(c - 1, color="0.3", lw=0.8, ls=(0, (1, 1.5)))
        vl.set_gid("coverage_threshold")
        ax.annotate(r"$K+1=C$", xy=(c - 1, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(3, 3), textcoords="offset points", ha="left", va="bottom",
                    fontsize="small", color="0.3")
    ax.set_xlim(Kx.min(), Kx.max())
    # Limits before the log scale: autoscaling a log axis over an exploding
    # bound (1e300 for ARORA19 at C = 1000) overflows.
    if ylim is None:
        vals = np.concatenate([d[np.isfinite(d)] for d in drawn] + [Lb[Lb > 0]])
        lo, hi = 0.1, 10.0
        if vals.size:
            lo = float(vals.min()) / 1.5
            # every bound's minimum stays in view; an exploding branch is cut
            lows = [float(d[np.isfinite(d)].min()) for d in drawn if np.isfinite(d).any()]
            cap = max([1000.0 * float(Lb.max())] + [10.0 * v for v in lows])
            hi = min(float(vals.max()) * 1.5, cap)
        ax.set_ylim(lo, max(hi, lo * 10))
    else:
        ax.set_ylim(*ylim)
    ax.set_yscale("log")
    ax.set_xlabel(r"negatives $K$")
    ax.set_ylabel(r"upper bound on $L^\mu_\mathrm{sup}$")
    ax.grid(True, which="major", lw=0.4, alpha=0.4)
    if legend:
        legend_above(ax, *ax.get_legend_handles_labels())
    return freeze_style(ax)


# ---------------------------------------------------------------------------
# measured runs (BoundReport / BoundTerms)
# ---------------------------------------------------------------------------


def _batch_labels(runs: list[Run]) -> list[str]:
    """x tick labels: the batch size ``K + 1`` where a run has the default label."""
    return [str(r.K + 1) if r.K is not None and r.label == f"K+1 = {r.K + 1}" else r.label
            for r in runs]


def plot_bound_comparison(
    reports: Any,
    accuracy: ArrayLike | None = None,
    *,
    labels: Sequence[str] | None = None,
    show_measured: bool = True,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """NS21's Figure 1: ARORA19's and NS21's upper bounds on ``L^mu_sup`` per batch size.

    Per run (usually one per batch size ``K + 1``), two bars on a log y axis:
    ARORA19's bound (the "CURL" bars of NS21's figure) on the supervised loss
    (:func:`couponbound.arora_sup_upper_bound`), which explodes as ``K``
    grows, and NS21's (:func:`couponbound.ns21_sup_upper_bound`), which does
    not.  A diamond marks the measured supervised loss, and the validation
    accuracy, if given, is drawn on a twin right axis.

    Parameters
    ----------
    reports : sequence of BoundReport or BoundTerms, or mapping label -> run
        From :meth:`BoundMonitor.compute <couponbound.BoundMonitor.compute>`,
        or :class:`~couponbound.BoundTerms` (with ``tau`` for ARORA19's bound).
    accuracy : array_like or mapping str -> array_like, optional
        Validation accuracy per run: fractions in [0, 1] or percentages
        (when some value exceeds 1); shown in percent.  A mapping draws one
        series per entry, labelled by its key (e.g. ``{"mean classifier":
        [...], "linear probe": [...]}``).
    labels : sequence of str, optional
        x tick labels; default the batch size ``K + 1`` of each run.
    show_measured : bool, default True
        Mark the measured supervised loss (``BoundReport.sup_all``, the
        mean-classifier loss on every anchor; ``BoundTerms.sup``).
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw the bars; a new figure when ``None``.

    Returns
    -------
    Axes
        The bar axes.  Gids: ``bar/arora``, ``bar/ns21`` (bar containers'
        patches), ``measured``, ``accuracy`` (on the twin axes;
        ``accuracy/<key>`` for a mapping),
        ``vacuous`` (text where a bound is infinite or not positive).

    Examples
    --------
    >>> from couponbound import BoundTerms
    >>> runs = [BoundTerms(contrastive=2.0 + 0.1 * i, sup=1.8, sub=1.6, collision=c, d=-1.1,
    ...                    upsilon=u, tau=t, K=k, C=10)
    ...         for i, (c, u, t, k) in enumerate([(1.32, 0.69, 0.96, 31), (2.0, 0.99, 1 - 1e-4, 127)])]
    >>> ax = plot_bound_comparison(runs, accuracy=[0.80, 0.82])
    >>> [round(float(p.get_height()), 2) for p in find_artists(ax, "bar/ns21")]
    [6.35, 4.43]
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['32', '128']
    """
    runs = summarize_runs(reports, labels, "reports")
    if isinstance(accuracy, Mapping):
        if not accuracy:
            raise ValueError("accuracy must not be an empty mapping")
        accs = [(str(k), _check_accuracy(v, len(runs))) for k, v in accuracy.items()]
    else:
        one = _check_accuracy(accuracy, len(runs))
        accs = [] if one is None else [("val. accuracy", one)]
    ax = axes_or_new(ax)
    x = np.arange(len(runs), dtype=np.float64)
    w = 0.38
    series = (("arora", "arora_sup_upper", "ARORA19 (CURL, Arora et al.)", "#D55E00", "//"),
              ("ns21", "ns21_sup_upper", "NS21 (Nozawa & Sato)", "#0072B2", None))
    finite_vals: list[float] = []
    for r in runs:
        for _, key, _, _, _ in series:
            v = r[key]
            if math.isfinite(v) and v > 0:
                finite_vals.append(v)
        if show_measured and math.isfinite(r["sup_measured"]) and r["sup_measured"] > 0:
            finite_vals.append(r["sup_measured"])
    lo = min(finite_vals) / 3.0 if finite_vals else 0.1
    hi = max(finite_vals) * 3.0 if finite_vals else 10.0
    for j, (tag, key, label, col, hatch) in enumerate(series):
        heights = np.array([r[key] for r in runs], dtype=np.float64)
        ok = np.isfinite(heights) & (heights > 0)
        xs = x + (j - 0.5) * w
        bars = ax.bar(xs[ok], heights[ok], width=w, bottom=0, color=col, alpha=0.85,
                      edgecolor="white" if hatch is None else col, hatch=hatch, lw=0.5,
                      label=label, fill=hatch is None)
        for p in bars.patches:
            p.set_gid(f"bar/{tag}")
        for xi, hv, good in zip(xs, heights, ok, strict=True):
            if not good:
                txt = "∞" if (math.isinf(hv) and hv > 0) else ("n/a" if math.isnan(hv) else "≤0")
                t = ax.text(xi, lo, txt, ha="center", va="bottom", fontsize="small", color=col)
                t.set_gid("vacuous")
    if show_measured:
        ys = np.array([r["sup_measured"] for r in runs], dtype=np.float64)
        (lm,) = ax.plot(x, np.where(ys > 0, ys, np.nan), "D", color="black", ms=4, zorder=5,
                        label=r"measured $L^\mu_\mathrm{sup}$")
        lm.set_gid("measured")
    ax.set_ylim(lo, hi)
    ax.set_yscale("log")
    ax.set_xticks(x, _batch_labels(runs))
    ax.set_xlim(-0.6, len(runs) - 0.4)
    ax.set_xlabel(r"batch size $K+1$" if labels is None else "run")
    ax.set_ylabel(r"upper bound on $L^\mu_\mathrm{sup}$")
    ax.grid(True, axis="y", which="major", lw=0.4, alpha=0.4)
    handles, texts = ax.get_legend_handles_labels()
    if accs:
        ax2 = twin(ax)
        styles = ("o-", "s--", "^:", "v-.")
        for i, (name, acc) in enumerate(accs):
            assert acc is not None
            (la,) = ax2.plot(x, acc, styles[i % len(styles)], color="#009E73", lw=1.2 - 0.2 * (i > 0),
                             ms=4, label=name)
            la.set_gid("accuracy" if not isinstance(accuracy, Mapping) else f"accuracy/{name}")
            handles.append(la)
            texts.append(name)
        ax2.set_ylabel("validation accuracy (%)", color="#009E73")
        ax2.tick_params(axis="y", colors="#009E73")
        every = np.concatenate([a for _, a in accs if a is not None])
        span = max(float(every.max() - every.min()), 2.0)
        ax2.set_ylim(max(0.0, float(every.min()) - 1.5 * span),
                     min(100.0, float(every.max()) + 0.5 * span))
    if legend:
        legend_above(ax, handles, texts)
    return freeze_style(ax)


def plot_bound_decomposition(
    reports: Any,
    *,
    labels: Sequence[str] | None = None,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """NS21's bound term by term, against the measured contrastive loss, per run.

    Per run, a stacked bar of the terms of NS21's lower bound on ``L_Info``
    (:func:`couponbound.decompose`): ``υ L^μ_sup / 2``, ``(1-υ) L^μ_sub / 2``
    and ``E ln(1+Col) / 2`` stacked upwards from 0, ``d <= 0`` downwards; a
    black bar marks their sum, the bound; next to it an outlined bar shows the
    measured ``L_Info`` (with its standard error for a
    :class:`~couponbound.BoundReport`).  The theorem says the bound never
    exceeds ``L_Info``.

    Parameters
    ----------
    reports : sequence of BoundReport or BoundTerms, or mapping label -> run
        Usually one per batch size.
    labels : sequence of str, optional
        x tick labels; default the batch size ``K + 1`` of each run.
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw the stacked terms; a new figure when ``None``.

    Returns
    -------
    Axes
        Gids: ``term/sup_term``, ``term/sub_term``, ``term/collision_term``,
        ``term/d`` (patches), ``bound`` (the sum), ``contrastive`` (patches).

    Examples
    --------
    >>> from couponbound import BoundTerms
    >>> t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32, d=-1.16,
    ...                upsilon=0.69, K=31, C=10)
    >>> ax = plot_bound_decomposition([t])
    >>> [round(float(p.get_height()), 3) for p in find_artists(ax, "term/")]
    [0.631, 0.26, 0.66, -1.16]
    """
    runs = summarize_runs(reports, labels, "reports")
    ax = axes_or_new(ax)
    x = np.arange(len(runs), dtype=np.float64)
    w = 0.36
    xs, xl = x - w / 2 - 0.02, x + w / 2 + 0.02
    terms = (("sup_term", r"$\upsilon L^\mu_\mathrm{sup}/2$", "#0072B2"),
             ("sub_term", r"$(1-\upsilon) L^\mu_\mathrm{sub}/2$", "#56B4E9"),
             ("collision_term", r"$\mathbb{E}\ln(1+\mathrm{Col})/2$", "#E69F00"),
             ("d", r"$d$", "#CC79A7"))
    bottom = np.zeros(len(runs))
    for key, label, col in terms:
        h = np.array([r[key] for r in runs], dtype=np.float64)
        base = np.zeros(len(runs)) if key == "d" else bottom
        bars = ax.bar(xs, h, width=w, bottom=base, color=col, edgecolor="white", lw=0.5, label=label)
        for p in bars.patches:
            p.set_gid(f"term/{key}")
        if key != "d":
            bottom = bottom + h
    total = np.array([r["ns21_bound"] for r in runs], dtype=np.float64)
    (lb,) = ax.plot(xs, total, "_", color="black", ms=14, mew=2.0, zorder=5,
                    label="NS21 bound (sum)")
    lb.set_gid("bound")
    L = np.array([r["contrastive"] for r in runs], dtype=np.float64)
    se = np.array([r["contrastive_se"] for r in runs], dtype=np.float64)
    bars = ax.bar(xl, L, width=w, color="white", edgecolor="black", lw=0.9,
                  label=r"measured $L_\mathrm{Info}$")
    for p in bars.patches:
        p.set_gid("contrastive")
    if np.any(np.isfinite(se)):
        eb = ax.errorbar(xl, L, yerr=np.where(np.isfinite(se), se, 0.0), fmt="none",
                         ecolor="black", elinewidth=0.8, capsize=2)
        for part in eb.lines[2]:
            part.set_gid("contrastive_se")
    ax.axhline(0.0, color="black", lw=0.6)
    ax.set_xticks(x, _batch_labels(runs))
    ax.set_xlim(-0.6, len(runs) - 0.4)
    ax.set_xlabel(r"batch size $K+1$" if labels is None else "run")
    ax.set_ylabel("loss (nats)")
    ax.grid(True, axis="y", lw=0.4, alpha=0.4)
    top = float(max(np.max(bottom), np.max(L + np.nan_to_num(se))))
    low = float(min(0.0, np.min([r["d"] for r in runs])))
    ax.set_ylim(low - 0.08 * (top - low), top + 0.08 * (top - low))
    if legend:
        legend_above(ax, *ax.get_legend_handles_labels())
    return freeze_style(ax)
