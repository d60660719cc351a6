"""Harmonic numbers, signed subset sums and windowed pmfs, written once for the whole package.

:mod:`couponbound.exact` (Fractions, mpmath), :mod:`couponbound.coverage`
(moments), :mod:`couponbound.bounds` and :mod:`couponbound.symbolic` (sympy)
all take them from here.  The inclusion-exclusion sums they serve are
explained in :ref:`math-coverage` and :ref:`math-completion-time`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # pragma: no cover
    from couponbound._prior import Prior

__all__ = [
    "MAX_SUBSET_TERMS",
    "harmonic",
    "harmonic_fraction",
    "prior_weights",
    "subset_sums",
    "window_weights",
]

#: Subset sums expanded by the exact and arbitrary-precision paths, at most.
MAX_SUBSET_TERMS = 2_000_000
#: :func:`window_weights` caps log-ratios here (``exp(-1e4)`` is 0 in float64).
_LOG_RATIO_CAP = 1e4
#: Above this ``n``, :func:`harmonic` uses ``digamma(n + 1) + gamma``.
_HARMONIC_SUM_MAX = 100_000


def harmonic(n: int, order: int = 1) -> float:
    """The harmonic number ``H^{(order)}_n = sum_{j<=n} 1/j^order`` as a float (``H_0 = 0``).

    Correctly rounded sums (``math.fsum``); for ``order=1`` beyond
    ``n = 10**5``, ``digamma(n + 1) + euler_gamma`` (and ``order=2``:
    ``pi**2/6 - trigamma(n + 1)``), relative error ~1e-16.

    >>> harmonic(4)
    2.083333333333333
    >>> harmonic(2, order=2)
    1.25
    >>> harmonic(0)
    0.0
    """
    if order == 2 and n > _HARMONIC_SUM_MAX:
        from scipy.special import polygamma

        # H^(2)_n = zeta(2) - trigamma(n + 1), relative error ~1e-16
        return math.pi**2 / 6.0 - float(polygamma(1, n + 1.0))
    if order != 1:
        return math.fsum(1.0 / j**order for j in range(1, n + 1))
    if n <= _HARMONIC_SUM_MAX:
        return math.fsum(1.0 / j for j in range(1, n + 1))
    from scipy.special import digamma

    return float(digamma(n + 1.0)) + 0.57721566490153286061


def harmonic_fraction(n: int, order: int = 1) -> Fraction:
    """The generalised harmonic number ``H^{(order)}_n = sum_{j<=n} 1/j^order``, exactly.

    >>> harmonic_fraction(4)
    Fraction(25, 12)
    >>> harmonic_fraction(2, order=2)
    Fraction(5, 4)
    """
    return sum((Fraction(1, j**order) for j in range(1, n + 1)), Fraction(0))


def prior_weights(prior: Prior) -> tuple[list[Any], Any]:
    """Class weights for exact arithmetic and their total.

    Integer class sizes when the prior has counts (total ``N``), ones for a
    uniform prior (total ``C``), exact fractions of the probabilities
    otherwise (total 1); ``weight / total`` is each class's probability.
    Integer weights let :func:`subset_sums` collapse to at most ``total + 1``
    distinct sums.
    """
    if prior.counts is not None:
        return list(prior.counts), sum(prior.counts)
    if prior.is_uniform:
        return [1] * prior.C, prior.C
    return prior.fractions(), Fraction(1)


def subset_sums(weights: Iterable[Any], *, max_terms: int = MAX_SUBSET_TERMS) -> dict[Any, int]:
    r"""The signed subset-sum polynomial ``prod_c (1 - x^{w_c})`` as ``{sum: coefficient}``.

    The coefficient of ``x^s`` is ``sum_{S : w(S) = s} (-1)^{|S|}``, so
    inclusion-exclusion over the subsets of classes reads
    ``sum_S (-1)^{|S|} f(w(S)) = sum_s a_s f(s)``.  Equal weights are grouped
    (``(1 - x^w)^k`` by the binomial theorem); zero coefficients are dropped.

    Parameters
    ----------
    weights : iterable of int or Fraction
        One weight per class.
    max_terms : int
        Refuse (``ValueError``) when the number of distinct sums may exceed this.

    Raises
    ------
    ValueError
        When the expansion would exceed ``max_terms`` terms: its message says
        how many and suggests integer counts (whose sums collapse).

    Examples
    --------
    >>> subset_sums([1, 1, 2])     # (1 - x)^2 (1 - x^2)
    {0: 1, 1: -2, 3: 2, 4: -1}
    """
    groups: dict[Any, int] = {}
    for w in weights:
        groups[w] = groups.get(w, 0) + 1
    size = math.prod(k + 1 for k in groups.values())
    if all(isinstance(w, int) for w in groups):
        size = min(size, sum(w * k for w, k in groups.items()) + 1)
    if size > max_terms:
        raise ValueError(
            f"exact inclusion-exclusion for this prior needs about {size:.3g} subset sums "
            f"(more than {max_terms}); give the prior as integer class counts "
            "(Prior.from_counts, whose sums collapse to integers), or use the float functions"
        )
    poly: dict[Any, int] = {0: 1}
    for w, k in groups.items():
        new: dict[Any, int] = {}
        for j in range(k + 1):
            cj = (-1) ** j * math.comb(k, j)
            shift = j * w
            for s, a in poly.items():
                key = s + shift
                new[key] = new.get(key, 0) + a * cj
        poly = {s: a for s, a in new.items() if a != 0}
    return poly


def _segment_cumsum(y: NDArray[np.float64], starts: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cumulative sums of *y* restarting at *starts* (where ``y`` is 0).

    Each start takes back the previous segment's total, so the running sum
    stays as small as one segment's partial sums (rounding does not grow
    with the number of segments); the small remainder left at each start is
    then subtracted, so every segment starts at exactly 0.
    """
    if starts.size == 0:
        return np.cumsum(y)
    if starts.size > 1:
        y = y.copy()
        y[starts[1:]] = -np.add.reduceat(y, starts)[:-1]
    cs = np.cumsum(y)
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, y.size)))
    return cs - cs[starts][seg]


def window_weights(lo: NDArray[np.int64], hi: NDArray[np.int64], mode: NDArray[np.float64],
                   log_ratio: Callable[[NDArray[np.int64], NDArray[np.int64]],
                                       NDArray[np.float64]],
                   ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    r"""Relative probabilities of a discrete law on the windows ``[lo_g, hi_g]`` of groups ``g``.

    For every group the weights ``w(m)`` are built from the ratios of
    consecutive probabilities, ``log_ratio(m, g) = ln P_g(m + 1) / P_g(m)``,
    by cumulative sums that start at the group's *mode* (clipped to its
    window) and run outwards, so that the running sums, and their rounding,
    are no larger than the log-weights themselves; each group's weights are
    scaled so that its largest is 1.  Normalising by a group's sum gives its
    probabilities with a relative error of a few ulps per step from the
    mode: what binomial, hypergeometric and Poisson expectations need, in
    numpy alone.

    Returns ``(m, group, w)``: every integer of the windows, its group and
    its weight.

    Examples
    --------
    >>> import numpy as np
    >>> m, g, w = window_weights(np.array([0]), np.array([2]), np.array([1.0]),
    ...                          lambda m, g: np.log((2 - m) / (m + 1.0)))  # Binomial(2, 1/2)
    >>> (w / w.sum()).tolist()
    [0.25, 0.5, 0.25]
    """
    sizes = (hi - lo + 1).astype(np.int64)
    group = np.repeat(np.arange(lo.size), sizes)
    starts = np.cumsum(sizes) - sizes
    m = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(starts - lo, sizes)
    if m.size == 0:
        return m, group, np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lr = np.asarray(log_ratio(m, group), dtype=np.float64)
    # a degenerate law (ratio 0 or inf: p = 0 or 1) puts its mass at one end
    lr = np.where(np.isnan(lr), -_LOG_RATIO_CAP, np.clip(lr, -_LOG_RATIO_CAP, _LOG_RATIO_CAP))
    a = np.clip(np.floor(np.nan_to_num(mode)), lo, hi).astype(np.int64)[group]
    lw = np.empty(m.size)
    # upwards from the mode: ln w(m) - ln w(m - 1) = lr(m - 1)
    up = np.flatnonzero(m >= a)
    y = lr[np.maximum(up - 1, 0)]
    at = m[up] == a[up]
    y[at] = 0.0
    lw[up] = _segment_cumsum(y, np.flatnonzero(at))
    # downwards from the mode, walked in reverse: ln w(m) - ln w(m + 1) = -lr(m)
    down = np.flatnonzero(m <= a)[::-1]
    y = -lr[down]
    at = m[down] == a[down]
    y[at] = 0.0
    lw[down] = _segment_cumsum(y, np.flatnonzero(at))
    with np.errstate(invalid="ignore"):
        top = np.maximum.reduceat(lw, starts)
        w = np.exp(lw - top[group])
    return m, group, np.where(np.isfinite(w), w, 0.0)
