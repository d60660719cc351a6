r"""Figures for papers: coverage, collisions and the NS21 bounds.

Every function takes ``ax=None`` (a new figure is made when it is ``None``),
returns the :class:`~matplotlib.axes.Axes` it drew on, and never calls
``plt.show()``.  matplotlib is imported inside the functions, so
``import couponbound.paper.plots`` stays cheap and picks no backend.

* :func:`plot_coverage` -- :math:`\upsilon_{K+1}` against ``K`` (NS21, Section 4);
* :func:`plot_collision` -- :math:`\tau_K` and :math:`\mathbb{E}\ln(1+\mathrm{Col})` against ``K``;
* :func:`plot_expected_classes` -- the number of distinct classes in a batch
  against ``K``, with its 5-95 % band, with or without replacement;
* :func:`plot_sup_upper_bounds` -- the upper bounds on the supervised loss of
  ARORA19, NS21, ASH22 and BAO22 against ``K`` (BAO22's comparison);
* :func:`plot_bound_comparison` -- NS21's Figure 1: ARORA19's and NS21's bounds on
  the supervised loss per batch size, with validation accuracy;
* :func:`plot_bound_decomposition` -- NS21's bound, term by term, against the
  measured contrastive loss;
* :func:`plot_run_history` -- NS21's bound against the measured contrastive
  loss over training, from logged windows (TensorBoard) or reports.

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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    "plot_expected_classes",
    "plot_run_history",
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

#: plot_sup_upper_bounds' default x axis is logarithmic when its range
#: reaches beyond this many times C (a long-tailed prior).
_LOG_X_FROM = 30

#: The coverage where :func:`plot_coverage`'s default ``K`` range starts.
_VISIBLE = 1e-3
#: An approximation closer than this to the exact coverage everywhere is not
#: drawn (it would hide under the exact curve).
_APPROX_VISIBLE = 5e-3


def _smallest_k(prior: Prior, confidence: float) -> int:
    """The smallest ``K`` with coverage at least *confidence* (where to draw a mark).

    :func:`couponbound.required_negatives` for independent draws; for a prior
    drawn without replacement a bisection on the float coverage over
    ``C - 1 <= K <= N - 1`` (about 14 evaluations, where the exact search
    takes seconds near 1 for a data set of 10^4 samples).
    """
    from couponbound.coverage import coverage_prob, required_negatives

    if prior.replacement:
        return int(required_negatives(prior, confidence=confidence))
    lo, hi = max(prior.C - 2, 0), int(sum(prior.counts or ())) - 1  # cov(lo) < conf <= cov(hi)
    if float(coverage_prob(lo, prior)) >= confidence:
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if float(coverage_prob(mid, prior)) >= confidence:
            hi = mid
        else:
            lo = mid
    return hi


def _narrow_log_ticks(ax: Axes, lo: float, hi: float) -> None:
    """On a log x axis spanning less than 1.5 decades: ticks at 1, 2, 5 x 10^k as plain numbers.

    matplotlib would otherwise label every minor tick (2x10^3, 3x10^3, ...),
    and the labels run into each other.
    """
    if not (lo > 0 and hi / lo < 10**1.5):
        return
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


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
    r"""Coverage :math:`\upsilon_{K+1}` against the number of negatives :math:`K` (log x axis).

    :math:`\upsilon_{K+1}` is the probability that the anchor and its
    :math:`K` negatives -- :math:`K + 1` draws, **anchor included** -- contain
    every class (NS21, Section 4; :func:`couponbound.coverage_prob`;
    :ref:`math-coverage`).  Per data set: the exact curve (solid), its
    large-:math:`C` approximation (dashed: ER61's Gumbel law for uniform
    classes, :func:`couponbound.asymptotic.gumbel_coverage`; Poissonisation
    otherwise, :func:`couponbound.asymptotic.poisson_coverage`;
    :ref:`math-asymptotic`) where it differs visibly from the exact curve
    (by more than 0.005 somewhere: the Poisson approximation of a
    non-uniform prior usually does not, and is then left out, legend entry
    included), a circle at NS21's :math:`\mathbb{E}[K+1]` rounded up (Table
    3; :math:`K = \lceil \mathbb{E}[T]\rceil - 1`) and a square at the
    smallest :math:`K` with :math:`\upsilon_{K+1} \ge` ``confidence``.

    A prior drawn without replacement (``Prior.from_counts(counts,
    replacement=False)``: a shuffled loader over a finite data set) is drawn
    with that model up to the whole data set, :math:`K + 1 \le N`, without
    approximation and without the :math:`\mathbb{E}[K+1]` mark (NS21's
    expectation is for independent draws).

    Parameters
    ----------
    K : array_like of int, optional
        Numbers of negatives; default: about 300 values from where the first
        curve becomes visible (coverage 0.1 %, less 30 %; for a long tail far
        above ``C``) to beyond every data set's 99.99 % point.
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
    ('log', 'coverage $\\upsilon_{K+1}$')
    >>> line = find_artists(ax, "coverage/C = 10")[0]
    >>> [round(float(v), 4) for v in line.get_ydata()]
    [0.0004, 0.691, 0.9997, 1.0]
    """
    from couponbound.asymptotic import gumbel_coverage, poisson_coverage
    from couponbound.coverage import coverage_prob

    sets = as_named_priors(C, "C")
    if confidence is not None:
        from couponbound._validate import check_probability

        confidence = check_probability(confidence, "confidence")
    default_K = K is None
    if K is None:
        top = max(_smallest_k(p, 0.9999) for p in sets)
        # start where the first curve becomes visible (coverage 0.1 %), not at
        # a fixed fraction of C: for a long tail that is far above C
        first = min(_smallest_k(p, _VISIBLE) for p in sets)
        bottom = max(1, round(0.7 * first))
        Ks = k_grid(1.3 * top, bottom)
    else:
        Ks = k_array(K)
    ax = axes_or_new(ax)
    Kx = np.maximum(Ks, 0).astype(np.float64)
    approx_kinds: set[str] = set()
    for i, prior in enumerate(sets):
        name = prior.label
        col = color(i)
        Kp = Ks
        if not prior.replacement:
            # a batch holds at most N samples of a finite data set
            n_all = int(sum(prior.counts or ()))
            Kp = Ks[Ks <= n_all - 1]
            if default_K and Kp.size and Kp[-1] < n_all - 1 and n_all - 1 <= Ks[-1]:
                Kp = np.append(Kp, n_all - 1)
        Kpx = Kp.astype(np.float64)
        ups = np.asarray(coverage_prob(Kp, prior), dtype=np.float64)
        (ln,) = ax.plot(Kpx, ups, color=col, lw=1.4, label=name)
        ln.set_gid(f"coverage/{name}")
        if gumbel and prior.replacement:
            if prior.is_uniform:
                approx, kind = gumbel_coverage(Kp, prior.C), "Gumbel"
            else:
                approx, kind = poisson_coverage(Kp, prior), "Poisson"
            approx = np.asarray(approx, dtype=np.float64)
            # drawn only where a reader can see it apart from the exact curve
            if Kp.size and float(np.max(np.abs(approx - ups))) > _APPROX_VISIBLE:
                (la,) = ax.plot(Kpx, approx, color=col, lw=1.0,
                                ls=(0, (4, 2)), alpha=0.9, label="_nolegend_")
                la.set_gid(f"approx/{name}")
                approx_kinds.add(kind)
        if expected and prior.replacement:
            k_e = max(ceil_expected_batch(prior) - 1, 0)
            (le,) = ax.plot([k_e], [float(coverage_prob(k_e, prior))], "o", color=col, ms=4.5,
                            mfc="white", mew=1.2, zorder=4, label="_nolegend_")
            le.set_gid(f"expected/{name}")
        if confidence is not None:
            k_q = _smallest_k(prior, confidence)
            (lq,) = ax.plot([k_q], [float(coverage_prob(k_q, prior))], "s", color=col, ms=4.0,
                            zorder=4, label="_nolegend_")
            lq.set_gid(f"quantile/{name}")
    positive = Kx[Kx > 0]
    if not positive.size:
        raise ValueError(f"K must hold at least one positive value (the K axis is "
                         f"logarithmic), got {short_repr(Kx.tolist())}")
    ax.set_xscale("log")
    if positive.size:
        ax.set_xlim(positive.min(), positive.max())
        _narrow_log_ticks(ax, float(positive.min()), float(positive.max()))
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(_K_LABEL)
    ax.set_ylabel(r"coverage $\upsilon_{K+1}$")
    ax.grid(True, which="major", lw=0.4, alpha=0.4)
    if legend:
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        if approx_kinds:
            name = "/".join(k for k in ("Gumbel", "Poisson") if k in approx_kinds) + " approx."
            handles.append(Line2D([], [], color="0.2", lw=1.0, ls=(0, (4, 2))))
            labels.append(name)
        if expected and any(p.replacement for p in sets):
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


#: Below this K the default collision curves pass smoothly through the integers.
_SMOOTH_BELOW = 16


def _through_integers(K: NDArray[np.float64], y: NDArray[np.float64],
                      smooth: bool) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The points to draw for values *y* defined at the integers *K*.

    On a log axis, straight segments between K = 1, 2, 3, 4 show as kinks.
    With *smooth*, a monotone cubic in ``log K`` (PCHIP) through the exact
    values fills the gaps between consecutive integers below
    :data:`_SMOOTH_BELOW`; every exact point stays on the line.
    """
    if not smooth or K.size < 3 or K[0] < 1:
        return K, y
    small = K < _SMOOTH_BELOW
    if small.sum() < 2:
        return K, y
    from scipy.interpolate import PchipInterpolator

    lk = np.log(K)
    f = PchipInterpolator(lk, y)
    top = int(np.flatnonzero(small)[-1])
    fine = np.unique(np.concatenate([np.linspace(lk[j], lk[j + 1], 9) for j in range(top)]))
    xs = np.concatenate([np.exp(fine), K[top + 1:]])
    ys = np.concatenate([f(fine), y[top + 1:]])
    # exact values at the integers (exp(log K) may differ from K in the last bit)
    on = np.isin(np.round(xs), K[:top + 1]) & np.isclose(xs, np.round(xs), rtol=0, atol=1e-9)
    xs[on] = np.round(xs[on])
    ys[on] = y[np.searchsorted(K, xs[on])]
    return xs, ys


def plot_collision(
    K: ArrayLike | None = None,
    C: Any = DEFAULT_DATASETS,
    *,
    which: str = "both",
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    r"""ARORA19's collision probability :math:`\tau_K` and NS21's :math:`\mathbb{E}\ln(1+\mathrm{Col})`.

    Both against the number of negatives :math:`K`.

    ``Col`` counts the negatives that share the anchor's class:
    :math:`\tau_K = P(\mathrm{Col} \ge 1)` (:func:`couponbound.collision_prob`) is the factor
    that makes ARORA19's bound explode, :math:`\mathbb{E}\ln(1+\mathrm{Col})`
    (:func:`couponbound.expected_log_collision`) is the collision term of
    NS21's bound, which grows like :math:`\ln(1 + K/C)` (:ref:`math-collisions`).

    Parameters
    ----------
    K : array_like of int, optional
        Numbers of negatives; default: about 300 values from 1 to ``10 C_max``
        (below ``K = 16`` the lines pass through every integer ``K`` along a
        monotone cubic in ``log K``, so that they do not kink on the log axis;
        the quantities are defined at integers only).
    C : int, Prior, data set, or sequence of them, default DEFAULT_DATASETS
        As in :func:`plot_coverage`.
    which : {"both", "tau", "collision"}
        ``"both"``: :math:`\tau_K` solid on the left axis, :math:`\mathbb{E}\ln(1+\mathrm{Col})` dashed on
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
    smooth = K is None
    Ks = k_grid(10 * max(p.C for p in sets)) if K is None else k_array(K)
    ax = axes_or_new(ax)
    Kx = Ks.astype(np.float64)
    ax2 = twin(ax) if which == "both" else ax
    for i, prior in enumerate(sets):
        name = prior.label
        col = color(i)
        if which in ("both", "tau"):
            tau = np.asarray(collision_prob(Ks, prior), dtype=np.float64)
            (lt,) = ax.plot(*_through_integers(Kx, tau, smooth), color=col, lw=1.4, label=name)
            lt.set_gid(f"tau/{name}")
        if which in ("both", "collision"):
            coll = np.asarray(expected_log_collision(Ks, prior), dtype=np.float64)
            (lc,) = ax2.plot(*_through_integers(Kx, coll, smooth), color=col, lw=1.2,
                             ls=(0, (4, 2)) if which == "both" else "-",
                             label=name if which == "collision" else "_nolegend_")
            lc.set_gid(f"collision/{name}")
    if not Kx[Kx > 0].size:
        raise ValueError(f"K must hold at least one positive value (the K axis is "
                         f"logarithmic), got {short_repr(Kx.tolist())}")
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
    r"""Upper bounds on the supervised loss :math:`L^\mu_\mathrm{sup}` against :math:`K` (log y axis).

    For a contrastive loss ``L``, the bounds of ARORA19, NS21, ASH22 and
    BAO22 on the mean-classifier loss, as BAO22 lay them side by side
    (:func:`couponbound.sup_upper_bounds`; formulas in :ref:`math-bounds`),
    each in the most complete form ``d`` and ``sub`` allow.  By default
    ``L`` is BAO22's minimum contrastive loss :math:`R^*_\mathrm{cont}(K)`,
    the least contrastive loss any encoder of feature norm at most *B* can
    reach (:func:`couponbound.bounds.bao22_min_contrastive`; the legend
    says so), the loss of BAO22's setting (``d = 0``).  A dotted vertical
    line, named in the legend, marks :math:`K + 1 = C`: with fewer draws no
    batch covers every class, :math:`\upsilon_{K+1} = 0` and the bounds that
    divide by it are vacuous.  Where a bound is infinite or not
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
        Numbers of negatives; default about 300 values from 1 to where
        NS21's bound has settled: ``max(10 C, 1.5 K_99)``, ``K_99`` the
        smallest ``K`` with coverage 99 % (for a long-tailed prior far
        beyond ``10 C``; the x axis is then logarithmic, from ``30 C`` on).
    C, probs, counts : optional
        The class prior: an ``int`` or a :class:`~couponbound.Prior` as *C*, or
        ``probs=``/``counts=`` (default: 10 uniform classes, BAO22's setting).
    d, sub : float or array_like, optional
        NS21's :math:`d(f) \le 0` and :math:`L^\mu_\mathrm{sub}`, one value or one per ``K``, as
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
    if K is None:

        # up to where NS21's bound has settled (coverage 99 %), at least 10 C
        top = max(10 * c, 1.5 * _smallest_k(prior, 0.99))
        Ks = k_grid(top)
        log_x = top > _LOG_X_FROM * c  # a long tail: K spans decades above C
    else:
        Ks = k_array(K)
        log_x = False
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
        lab = (r"$L$ = least contrastive loss $R^*_\mathrm{cont}$ (BAO22)" if contrastive is None
               else r"contrastive loss $L$")
        (lc,) = ax.plot(Kx, Lb, color="0.45", lw=0.9, ls=":", label=lab)
        lc.set_gid("contrastive")
    threshold = ""
    if c >= 2 and (Kx.min() <= c - 1 <= Kx.max()):
        # named in the legend, never written over the curves
        vl = ax.axvline(c - 1, color="0.3", lw=0.8, ls=(0, (1, 1.5)), label="_nolegend_")
        vl.set_gid("coverage_threshold")
        threshold = r"$K+1=C$: the smallest batch holding every class"
    if Kx.min() == Kx.max():
        raise ValueError(f"K must hold at least two different values (a curve), got "
                         f"{short_repr(Kx.tolist())}")
    if log_x:
        ax.set_xscale("log")
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
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        if threshold:  # a vertical tick, unlike the dotted curve of L
            handles.append(Line2D([], [], color="0.3", marker="|", ls="", ms=9, mew=0.9))
            labels.append(threshold)
        legend_above(ax, handles, labels)
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
    r"""NS21's Figure 1: ARORA19's and NS21's upper bounds on :math:`L^\mu_\mathrm{sup}` per batch size.

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
    r"""NS21's bound term by term, against the measured contrastive loss, per run.

    Per run, a stacked bar of the terms of NS21's lower bound on :math:`L_\mathrm{Info}`
    (:func:`couponbound.decompose`): :math:`\upsilon L^\mu_\mathrm{sup}/2`,
    :math:`(1-\upsilon) L^\mu_\mathrm{sub}/2` and
    :math:`\mathbb{E}\ln(1+\mathrm{Col})/2` stacked upwards from 0,
    :math:`d \le 0` downwards; a black bar marks their sum, the bound; next to it an outlined bar shows the
    measured :math:`L_\mathrm{Info}` (with its standard error for a
    :class:`~couponbound.BoundReport`).  The theorem says the bound never
    exceeds :math:`L_\mathrm{Info}`.

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


# ---------------------------------------------------------------------------
# a run's history (logged windows)
# ---------------------------------------------------------------------------

#: What :func:`plot_run_history` draws by default: key, legend label, colour, style.
_HISTORY_STYLE = {
    "contrastive": (r"measured $L_\mathrm{Info}$", "black", "-"),
    "ns21_bound": ("NS21 lower bound", "#0072B2", "-"),
    "arora_bound": ("ARORA19 lower bound", "#D55E00", "--"),
}


def _history_series(history: Any, steps: ArrayLike | None, keys: Sequence[str],
                    prefix: str) -> tuple[dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
                                          dict[str, NDArray[np.float64]]]:
    """``{key: (steps, values)}`` and ``{key: standard errors}`` from the accepted forms."""
    from couponbound.training import BoundReport

    series: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    errors: dict[str, NDArray[np.float64]] = {}
    if isinstance(history, Mapping):
        for key in keys:
            events = history.get(prefix + key, history.get(key))
            if events is None:
                continue
            ev = list(events)
            if ev and hasattr(ev[0], "step") and hasattr(ev[0], "value"):
                xs = [float(e.step) for e in ev]
                ys = [float(e.value) for e in ev]
            else:
                try:
                    xs, ys = (list(map(float, c)) for c in zip(*ev, strict=True)) if ev else ([], [])
                except (TypeError, ValueError):
                    raise TypeError(f"history[{key!r}] must hold (step, value) pairs or events with "
                                    f".step and .value, got {short_repr(ev[:2])}") from None
            series[key] = (np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64))
        if "contrastive" not in series:
            raise ValueError(f"history has no {prefix}contrastive series; keys: "
                             f"{short_repr(sorted(history))}")
        return series, errors
    reports = list(history) if isinstance(history, Iterable) else None
    if not reports or not all(isinstance(r, BoundReport) for r in reports):
        raise TypeError("history must be a sequence of BoundReport (e.g. compute_window() results) "
                        "or a mapping of logged names to (step, value) pairs or scalar events, got "
                        f"{short_repr(history)}")
    if steps is None:
        x = np.arange(1, len(reports) + 1, dtype=np.float64)
    else:
        x = np.asarray(steps, dtype=np.float64)
        if x.shape != (len(reports),):
            raise ValueError(f"steps must give one step per report ({len(reports)}), got shape {x.shape}")
    for key in keys:
        series[key] = (x, np.array([float(getattr(r, key)) for r in reports]))
        se = key + "_se"
        if hasattr(reports[0], se):
            errors[key] = np.array([float(getattr(r, se)) for r in reports])
    return series, errors


def plot_run_history(
    history: Any,
    steps: ArrayLike | None = None,
    *,
    prefix: str = "bound/",
    bounds: Sequence[str] = ("ns21_bound", "arora_bound"),
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    r"""NS21's lower bound against the measured contrastive loss over training.

    One point per logged window (the batches between two logs, as
    :meth:`BoundMonitor.compute_window <couponbound.BoundMonitor.compute_window>`
    reports them and the Lightning callback logs them): the measured InfoNCE
    loss :math:`L_\mathrm{Info}` (black, with a band of :math:`\pm 2` standard
    errors when the reports carry them), NS21's lower bound on it (blue; the
    theorem says it stays below the loss) and ARORA19's (orange, dashed,
    where measured).  The gap between the loss and NS21's bound is shaded.

    Parameters
    ----------
    history : sequence of BoundReport, or mapping
        The windows' reports (e.g. ``[monitor.compute_window() for ...]``), or
        what a logger recorded: a mapping from the logged names
        (``"bound/contrastive"``, ``"bound/ns21_bound"``, ... with or without
        *prefix*) to ``(step, value)`` pairs or to scalar events with
        ``.step`` and ``.value`` (TensorBoard's ``EventAccumulator.Scalars``).
    steps : array_like, optional
        The training step of each report (default 1, 2, ...); ignored for a
        mapping, whose events carry their steps.
    prefix : str, default "bound/"
        The callback's prefix of the logged names.
    bounds : sequence of str, default ("ns21_bound", "arora_bound")
        Which lower bounds to draw (a series that is missing or all ``nan`` is
        skipped).
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw; a new figure when ``None``.

    Returns
    -------
    Axes
        Gids: ``history/contrastive``, ``history/<bound>``, ``history/gap``,
        ``history/se``.

    Raises
    ------
    TypeError, ValueError
        A history of another form, or no contrastive series.

    Examples
    --------
    >>> from couponbound import BoundMonitor
    >>> mon = BoundMonitor(2, 0.5)
    >>> windows = []
    >>> for loss in (3.0, 2.5, 2.2):
    ...     _ = mon.update_losses(contrastive=loss, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
    ...     windows.append(mon.compute_window())
    >>> ax = plot_run_history(windows, steps=[10, 20, 30])
    >>> [float(v) for v in find_artists(ax, "history/contrastive")[0].get_ydata()]
    [3.0, 2.5, 2.2]
    >>> logged = {"bound/contrastive": [(10, 3.0), (20, 2.5)], "bound/ns21_bound": [(10, 1.0), (20, 1.1)]}
    >>> [float(v) for v in find_artists(plot_run_history(logged), "history/ns21_bound")[0].get_ydata()]
    [1.0, 1.1]
    """
    if isinstance(bounds, str):
        bounds = (bounds,)
    for b in bounds:
        if b not in ("ns21_bound", "arora_bound"):
            raise ValueError(f"bounds must name some of ns21_bound, arora_bound; got {short_repr(b)}")
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, got {short_repr(prefix)}")
    series, errors = _history_series(history, steps, ("contrastive", *bounds), prefix)
    ax = axes_or_new(ax)
    x, L = series["contrastive"]
    label, col, ls = _HISTORY_STYLE["contrastive"]
    (lc,) = ax.plot(x, L, color=col, ls=ls, lw=1.4, marker="o", ms=2.5, label=label)
    lc.set_gid("history/contrastive")
    se = errors.get("contrastive")
    if se is not None and np.any(np.isfinite(se)):
        band = ax.fill_between(x, L - 2 * np.nan_to_num(se), L + 2 * np.nan_to_num(se),
                               color="0.5", alpha=0.25, lw=0, label=r"$\pm 2$ s.e.")
        band.set_gid("history/se")
    for b in bounds:
        if b not in series:
            continue
        xb, yb = series[b]
        if not np.any(np.isfinite(yb)):
            continue
        label, col, ls = _HISTORY_STYLE[b]
        (lb,) = ax.plot(xb, yb, color=col, ls=ls, lw=1.2, marker="s" if b == "ns21_bound" else None,
                        ms=2.5, label=label)
        lb.set_gid(f"history/{b}")
        if b == "ns21_bound" and xb.shape == x.shape and np.array_equal(xb, x):
            gap = ax.fill_between(x, yb, L, where=L >= yb, color="#0072B2", alpha=0.12, lw=0,
                                  label=r"$L_\mathrm{Info}$ $-$ NS21 bound")
            gap.set_gid("history/gap")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (nats)")
    ax.grid(True, lw=0.4, alpha=0.4)
    if legend:
        legend_above(ax, *ax.get_legend_handles_labels())
    return freeze_style(ax)


# ---------------------------------------------------------------------------
# distinct classes in a batch
# ---------------------------------------------------------------------------


def plot_expected_classes(
    K: ArrayLike | None = None,
    C: Any = None,
    *,
    band: tuple[float, float] | None = (0.05, 0.95),
    band_points: int = 24,
    band_for: Sequence[str] | None = None,
    legend: bool = True,
    ax: Axes | None = None,
) -> Axes:
    r"""Expected number of distinct classes :math:`\mathbb{E}[D]` in a batch against :math:`K`.

    :math:`D` counts the classes present among the anchor and its :math:`K`
    negatives (:func:`couponbound.distinct_classes`); a batch covers every
    class when :math:`D = C`.  Per data set: :math:`\mathbb{E}[D]`
    (:func:`couponbound.expected_classes`, solid; dashed for a data set drawn
    without replacement, a shuffled loader) and, with *band*, the band between
    two quantiles of :math:`D` (default 5 % and 95 %: nine batches in ten fall
    inside), computed exactly at *band_points* values of :math:`K` spread
    geometrically over the range and joined by straight lines.  A dotted line
    per data set marks :math:`C`.

    Parameters
    ----------
    K : array_like of int, optional
        Numbers of negatives; default about 200 values from 1 to where the
        slowest data set's 99 % coverage point lies (for a finite data set
        drawn without replacement, at most its size minus one).
    C : int, Prior, data set, or sequence of them, optional
        As in :func:`plot_coverage`; a :class:`~couponbound.Prior` made with
        ``replacement=False`` is drawn without replacement.  Default: CIFAR-10
        and CIFAR-100 (with bands), and CIFAR-100-LT (r = 100) with and
        without replacement (its 10,847 images through a shuffled loader).
    band : (float, float) or None, default (0.05, 0.95)
        The quantiles of the band (``None``: no band).
    band_points : int, default 24
        How many values of :math:`K` the band is computed at (each costs one
        exact distribution of :math:`D`: milliseconds for a uniform prior, up
        to a second for a long tail of 100 classes).
    band_for : sequence of str, optional
        The names of the data sets that get a band (default: all).
    legend : bool, default True
        Draw the legend.
    ax : Axes, optional
        Where to draw; a new figure when ``None``.

    Returns
    -------
    Axes
        Gids: ``classes/<name>`` (the mean), ``band/<name>``, ``C/<name>``.

    Raises
    ------
    ValueError, TypeError
        Bad ``K``, data sets, quantiles or ``band_points``.

    Examples
    --------
    >>> ax = plot_expected_classes([0, 9, 31], [10], band_points=3)
    >>> [round(float(v), 3) for v in find_artists(ax, "classes/C = 10")[0].get_ydata()]
    [1.0, 6.513, 9.657]
    """

    from couponbound._prior import Prior as _Prior
    from couponbound._validate import check_positive_int, check_probability
    from couponbound.occupancy import distinct_classes, expected_classes

    if C is None:
        from couponbound.paper.datasets import DATASETS

        c100 = DATASETS["CIFAR-100"]
        lt = DATASETS["CIFAR-100-LT (r=100)"]
        C = [DATASETS["CIFAR-10"], c100, lt,
             _Prior.from_counts(lt.counts, replacement=False,
                                name="CIFAR-100-LT (r=100), without replacement")]
        if band_for is None:
            band_for = ("CIFAR-10", "CIFAR-100", "CIFAR-100-LT (r=100), without replacement")
    sets = as_named_priors(C, "C")
    banded = {p.label for p in sets} if band_for is None else set(band_for)
    if band is not None:
        try:
            lo_q, hi_q = (check_probability(q, "band") for q in band)
        except TypeError:
            raise TypeError(f"band must be two quantiles (lo, hi) or None, got {short_repr(band)}") from None
        if not lo_q < hi_q:
            raise ValueError(f"band must be (lo, hi) with lo < hi, got {short_repr(band)}")
    points = check_positive_int(band_points, "band_points", minimum=2)

    def limit(prior: Prior) -> int | None:
        return None if prior.replacement else int(sum(prior.counts or ())) - 1

    if K is None:
        tops = []
        for p in sets:
            top = int(1.3 * _smallest_k(p, 0.99))
            cap = limit(p)
            tops.append(top if cap is None else min(top, cap))
        Ks = k_grid(max(tops), 1, points=200)
    else:
        Ks = k_array(K)
    ax = axes_or_new(ax)
    for i, prior in enumerate(sets):
        name = prior.label
        col = color(i)
        cap = limit(prior)
        Kp = Ks if cap is None else Ks[Ks <= cap]
        if Kp.size == 0:
            continue
        mean = np.asarray(expected_classes(Kp, prior), dtype=np.float64)
        ls = "-" if prior.replacement else (0, (4, 2))
        (lm,) = ax.plot(np.maximum(Kp, 0).astype(np.float64), mean, color=col, lw=1.4, ls=ls,
                        label=name)
        lm.set_gid(f"classes/{name}")
        if band is not None and name in banded:
            idx = np.unique(np.round(np.geomspace(1, Kp.size, min(points, Kp.size))).astype(int) - 1)
            kb = Kp[idx]
            kept, rows = [], []
            for k in kb:
                rows.append(distinct_classes(int(k), prior).ppf([lo_q, hi_q]))
                kept.append(k)
            if kept:
                q = np.array(rows, dtype=np.float64)
                fb = ax.fill_between(np.maximum(np.array(kept), 0).astype(np.float64), q[:, 0],
                                     q[:, 1], color=col, alpha=0.18, lw=0, label="_nolegend_")
                fb.set_gid(f"band/{name}")
        lc = ax.axhline(prior.C, color=col, lw=0.7, ls=":", label="_nolegend_")
        lc.set_gid(f"C/{name}")
    ax.set_xscale("log")
    positive = Ks[Ks > 0]
    if positive.size:
        ax.set_xlim(float(positive.min()), float(Ks.max()))
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.9)
    ax.set_xlabel(_K_LABEL)
    ax.set_ylabel(r"distinct classes $D$ in the batch")
    ax.grid(True, which="major", lw=0.4, alpha=0.4)
    if legend:
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles, labels = ax.get_legend_handles_labels()
        handles = [Line2D([], [], color=h.get_color(), lw=1.4, ls="-") if hasattr(h, "get_color")
                   else h for h in handles]
        if band is not None:
            handles.append(Patch(color="0.5", alpha=0.3, lw=0))
            labels.append(f"{lo_q * 100:g}-{hi_q * 100:g} % of batches")
        if any(not p.replacement for p in sets):
            handles.append(Line2D([], [], color="0.2", lw=1.2, ls=(0, (4, 2))))
            labels.append("without replacement")
        handles.append(Line2D([], [], color="0.2", lw=0.7, ls=":"))
        labels.append(r"$D = C$: every class")
        legend_above(ax, handles, labels)
    return freeze_style(ax)
