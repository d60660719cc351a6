r"""How many classes does a batch see?  The distinct-class count and false negatives.

Full coverage (:func:`~couponbound.coverage_prob`) is all or nothing: for a
long-tailed data set it is astronomically small at every practical batch size,
although most classes are in every batch.  This module answers the partial
question (:ref:`math-occupancy`):

* :func:`distinct_classes` -- the law of :math:`D`, the number of distinct
  classes among the :math:`K + 1` draws (anchor and negatives), as a frozen
  distribution in ``scipy.stats`` style; :math:`P(D = C)` is the coverage
  probability :math:`\upsilon_{K+1}`;
* :func:`expected_classes` -- :math:`E[D]` in closed form, for any prior;
* :func:`false_negative_rate` -- the probability that one negative shares the
  anchor's class (and, per class, Chuang et al.'s :math:`\tau^+`);
  :func:`expected_false_negatives` -- the expected number of same-class
  negatives among ``K``.  The law of that count is
  :func:`~couponbound.collision_pmf`.

Every function takes the prior as ``C`` (an int, or a
:class:`~couponbound.Prior`) or as ``probs=``/``counts=``/``replacement=``;
``replacement=False`` models a shuffled data loader (batches drawn without
replacement from a finite data set of class sizes ``counts``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _occupancy
from ._docs import fill_doc
from ._prior import Prior, as_prior
from ._validate import (
    check_flag,
    check_int_array,
    check_probability_array,
    check_size,
)
from ._vectorize import ArrayIn, FloatArray, FloatOrArray, ScalarIn, draws, evaluate, finish
from .coverage import log_coverage_prob

__all__ = [
    "DistinctClasses",
    "distinct_classes",
    "expected_classes",
    "expected_false_negatives",
    "false_negative_rate",
]

#: rvs simulates every class (O(C) work per sample): at most this many classes.
_RVS_MAX_C = 10**7
#: A window of the pmf is kept down to this many e-folds below its mode.
_WINDOW_DEPTH = 760.0
#: Quantiles between _SHALLOW_Q and 1 - _SHALLOW_Q are read from a window down to
#: e^{-_SHALLOW_DEPTH} of the mode (what it leaves out is below 1e-23 of them).
_SHALLOW_Q = 1e-3
_SHALLOW_DEPTH = 60.0
#: Tail probabilities below e^-650 are summed from the pmf's logs, not from the window.
_LOG_TINY = -650.0
#: ... and holds at most this many values (else cdf/sf/ppf sum on demand).
_WINDOW_MAX = 200_000


# --------------------------------------------------------------------------
# E[D] and false negatives
# --------------------------------------------------------------------------

@overload
def expected_classes(K: ScalarIn, C: int | Prior | None = None, *,
                     probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                     replacement: bool | None = None, include_anchor: bool = True) -> float: ...
@overload
def expected_classes(K: ArrayIn, C: int | Prior | None = None, *,
                     probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                     replacement: bool | None = None, include_anchor: bool = True) -> FloatArray: ...
@overload
def expected_classes(K: ArrayLike, C: int | Prior | None = None, *,
                     probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                     replacement: bool | None = None,
                     include_anchor: bool = True) -> FloatOrArray: ...
@fill_doc
def expected_classes(K: ArrayLike, C: int | Prior | None = None, *,
                     probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                     replacement: bool | None = None, include_anchor: bool = True) -> FloatOrArray:
    r"""Expected number of distinct classes among the anchor and ``K`` negatives.

    :math:`E[D] = \sum_c 1 - (1 - p_c)^n` for independent draws and
    :math:`\sum_c 1 - \binom{N - n_c}{n} / \binom{N}{n}` for a batch drawn
    without replacement from a data set of class sizes :math:`n_c`
    (:ref:`math-occupancy`), with :math:`n = K + 1`.  A sum of positive
    terms, each with full relative accuracy: one pass over the distinct class
    probabilities per value of ``K``.

    Parameters
    ----------
    {docs.negatives}
    {docs.prior}
    {docs.include_anchor}

    Returns
    -------
    float or ndarray

    Raises
    ------
    ValueError
        An invalid ``K`` or prior; without replacement, a batch larger than the
        data set.

    Examples
    --------
    >>> from couponbound import expected_classes
    >>> expected_classes(9, 10)                 # 10 * (1 - 0.9**10)
    6.51321559...
    >>> expected_classes([0, 2], counts=[3, 3, 2], replacement=False)   # 3 - (10 + 10 + 20) / 56
    array([1.        , 2.28571429])
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return evaluate(_occupancy.expected_classes_unique, K, prior, include_anchor=include_anchor)


@fill_doc
def false_negative_rate(C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                        counts: ArrayLike | None = None, replacement: bool | None = None,
                        per_class: bool = False) -> float | NDArray[np.float64]:
    r"""Probability that one negative shares the anchor's class (a false negative).

    With independent draws :math:`\tau = \sum_c p_c^2` (NS21's collision
    probability of one negative); for a batch drawn without replacement from a
    data set of class sizes :math:`n_c`,
    :math:`\tau = \sum_c n_c (n_c - 1) / (N (N - 1))`.  With
    ``per_class=True`` the rate given the anchor's class :math:`y` is returned
    for each class instead: :math:`\tau^+_y = p_y` (resp.
    :math:`(n_y - 1)/(N - 1)`), the class prior that debiased contrastive
    learning (Chuang et al., 2020) needs.  The number of same-class negatives
    among ``K`` has mean ``K * tau`` (:func:`expected_false_negatives`); its
    law is :func:`~couponbound.collision_pmf`.

    Parameters
    ----------
    {docs.prior}
    per_class : bool, default False
        Return the per-class rates :math:`\tau^+_y` (an array of length ``C``).

    Returns
    -------
    float or ndarray

    Raises
    ------
    ValueError
        An invalid prior; a data set of one sample without replacement.

    Examples
    --------
    >>> from couponbound import false_negative_rate
    >>> false_negative_rate(100)
    0.01
    >>> false_negative_rate(counts=[3, 3, 2], replacement=False)     # (6 + 6 + 2) / 56
    0.25
    >>> false_negative_rate(counts=[3, 1], per_class=True)
    array([0.75, 0.25])
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    flag = check_flag(per_class, "per_class")
    total, per = _occupancy.false_negative_rates(prior)
    if flag:
        if prior.is_uniform and prior.replacement:
            return np.full(prior.C, per[0])
        return per
    return total


@overload
def expected_false_negatives(K: ScalarIn, C: int | Prior | None = None, *,
                             probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                             replacement: bool | None = None) -> float: ...
@overload
def expected_false_negatives(K: ArrayIn, C: int | Prior | None = None, *,
                             probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                             replacement: bool | None = None) -> FloatArray: ...
@overload
def expected_false_negatives(K: ArrayLike, C: int | Prior | None = None, *,
                             probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                             replacement: bool | None = None) -> FloatOrArray: ...
@fill_doc
def expected_false_negatives(K: ArrayLike, C: int | Prior | None = None, *,
                             probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                             replacement: bool | None = None) -> FloatOrArray:
    r"""Expected number of negatives that share the anchor's class, ``K * tau``.

    For a MoCo queue of ``M`` keys, ``K = M``.  Without replacement the ``K``
    negatives and the anchor are one batch, so ``K + 1 <= N``.

    Parameters
    ----------
    {docs.negatives}
    {docs.prior}

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> from couponbound import expected_false_negatives
    >>> expected_false_negatives(4096, 1000)           # a 4,096-key queue, 1,000 classes
    4.096
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    k, scalar = draws(K, prior, negatives_only=True)
    total, _ = _occupancy.false_negative_rates(prior)
    return finish(k.astype(float) * total, scalar)


# --------------------------------------------------------------------------
# the distribution of D
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DistinctClasses:
    r"""Law of the number ``D`` of distinct classes among the anchor and ``K`` negatives.

    Modelled on a frozen ``scipy.stats`` distribution: ``pmf, logpmf, cdf,
    sf, logcdf, logsf, ppf, isf, mean, var, std, support, rvs``; the functions
    of ``j`` are vectorised and return a Python ``float`` for a scalar.
    ``pmf(C)`` is the coverage probability :math:`\upsilon_{K+1}` (computed by
    the same engine as :func:`~couponbound.coverage_prob`).  Create it with
    :func:`distinct_classes`; the algorithm and its limits are in
    :ref:`math-occupancy`.

    Examples
    --------
    >>> from couponbound import distinct_classes
    >>> D = distinct_classes(9, 10)
    >>> D
    DistinctClasses(K=9, prior=Prior.uniform(10))
    >>> D.pmf(10)                               # 10! / 10**10
    0.00036288...
    >>> D.mean()
    6.51321559...
    >>> D.support()
    (1, 10)
    """

    K: int
    prior: Prior
    include_anchor: bool = True
    _cache: dict[str | tuple[str, float], Any] = field(default_factory=dict, init=False, repr=False,
                                                       compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.prior, Prior):
            raise TypeError("build a DistinctClasses with distinct_classes(K, C or Prior, ...)")

    def __repr__(self) -> str:
        anchor = "" if self.include_anchor else ", include_anchor=False"
        return f"DistinctClasses(K={self.K}, prior={self.prior!r}{anchor})"

    # -- basic facts ------------------------------------------------------------

    @property
    def n(self) -> int:
        """Number of draws: ``K + 1`` with the anchor, else ``K``."""
        return self.K + 1 if self.include_anchor else self.K

    @property
    def C(self) -> int:
        """Number of classes."""
        return self.prior.C

    def support(self) -> tuple[int, int]:
        """Smallest and largest possible number of distinct classes."""
        return _occupancy.support(self.n, self.prior)

    # -- the kernel -------------------------------------------------------------

    def _log_pmf_exact_targets(self, j: NDArray[np.int64]) -> NDArray[np.float64]:
        """``log P(D = j)`` for sorted distinct integers (any, outside the support -> -inf)."""
        prior = self.prior
        return _occupancy.log_pmf(self.n, j, prior,
                                  lambda n: float(log_coverage_prob(n - 1, prior)))

    def _logpmf_int(self, j: NDArray[np.int64]) -> NDArray[np.float64]:
        """Cached ``log P(D = j)`` for integer ``j`` (any order, repeats allowed)."""
        memo: dict[int, float] = self._cache.setdefault("logpmf", {})
        flat = j.ravel()
        need = np.array(sorted({int(v) for v in flat if int(v) not in memo}), dtype=np.int64)
        if need.size:
            vals = self._log_pmf_exact_targets(need)
            memo.update(zip((int(v) for v in need), (float(v) for v in vals), strict=True))
        return np.array([memo[int(v)] for v in flat], dtype=float).reshape(j.shape)

    def _window(self, depth: float = _WINDOW_DEPTH) -> tuple[int, NDArray[np.float64]]:
        """``(first j, log pmf)`` over the window holding the mass down to ``e^{-depth}``
        of the mode (``e^{-760}``: every value float64 holds)."""
        cached = self._cache.get("window")  # the full window serves every depth
        if cached is None and depth < _WINDOW_DEPTH:
            cached = self._cache.get(("window", depth))
        if cached is not None:
            return cached
        lo, hi = self.support()
        mu = float(self.mean())
        sd = math.sqrt(max(self._var_closed() or 0.0, 0.0))
        centre = min(max(int(round(mu)), lo), hi)
        step = max(16, int(4 * sd) + 1)
        a = max(lo, centre - step)
        b = min(hi, centre + step)
        lp = self._logpmf_int(np.arange(a, b + 1, dtype=np.int64))
        while True:
            top = float(np.max(lp))
            grow_left = a > lo and lp[0] > top - depth
            grow_right = b < hi and lp[-1] > top - depth
            if not (grow_left or grow_right) or (b - a + 1) >= _WINDOW_MAX:
                break
            if grow_left:
                na = max(lo, a - step)
                lp = np.concatenate([self._logpmf_int(np.arange(na, a, dtype=np.int64)), lp])
                a = na
            if grow_right:
                nb = min(hi, b + step)
                lp = np.concatenate([lp, self._logpmf_int(np.arange(b + 1, nb + 1, dtype=np.int64))])
                b = nb
        self._cache["window" if depth >= _WINDOW_DEPTH else ("window", depth)] = (a, lp)
        return a, lp

    def _tails(self, depth: float = _WINDOW_DEPTH) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """``(first j, log P(D <= j), log P(D > j))`` over the window of that depth."""
        cached = self._cache.get("tails")
        if cached is None and depth < _WINDOW_DEPTH:
            cached = self._cache.get(("tails", depth))
        if cached is not None:
            return cached
        a, lp = self._window(depth)
        top = float(np.max(lp))
        w = np.exp(lp - top)
        with np.errstate(divide="ignore"):
            lcdf = np.log(np.cumsum(w)) + top
            rev = np.cumsum(w[::-1])[::-1]  # P(D >= j) over the window
            lsf = np.concatenate([np.log(rev[1:]), [-np.inf]]) + top
        total = float(lcdf[-1])  # the window's mass (1 up to the far tails left out)
        lcdf = lcdf - total
        lsf = lsf - total
        self._cache["tails" if depth >= _WINDOW_DEPTH else ("tails", depth)] = (a, lcdf, lsf)
        return a, lcdf, lsf

    def _quantile_tails(self, q: NDArray[np.float64]) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """The tails that decide the quantiles *q*: for ``1e-3 <= q <= 1 - 1e-3`` the window
        down to ``e^{-60}`` of the mode (the mass left out is below 1e-23 of ``q`` and
        ``1 - q``), else the full one."""
        if q.size and float(np.min(q)) >= _SHALLOW_Q and float(np.max(q)) <= 1.0 - _SHALLOW_Q:
            return self._tails(_SHALLOW_DEPTH)
        return self._tails()

    # -- public -------------------------------------------------------------------

    def _ints(self, j: ArrayLike, name: str = "j") -> tuple[NDArray[np.float64], bool, NDArray[np.bool_]]:
        arr = np.asarray(j)
        if arr.dtype == object or arr.dtype.kind not in "iuf" or arr.size == 0:
            check_int_array(j, name, minimum=-(2**62))  # raises with the package's message
        vals = np.asarray(arr, dtype=float)
        if np.any(np.isnan(vals)):
            raise ValueError(f"{name} must be numbers, got NaN in {arr!r}")
        integral = vals == np.floor(vals)
        return vals, arr.ndim == 0, integral

    def logpmf(self, j: ArrayLike) -> FloatOrArray:
        """``log P(D = j)``, accurate far below float64's range (``-inf`` off the support)."""
        vals, scalar, integral = self._ints(j)
        out = np.full(vals.shape, -np.inf)
        lo, hi = self.support()
        ok = integral & (vals >= lo) & (vals <= hi)
        if np.any(ok):
            out[ok] = self._logpmf_int(vals[ok].astype(np.int64))
        return finish(out, scalar)

    def pmf(self, j: ArrayLike) -> FloatOrArray:
        """``P(D = j)``: 0 off the integers and outside the support."""
        return finish(np.exp(np.asarray(self.logpmf(j), dtype=float)), np.ndim(j) == 0)

    def _log_side(self, j: NDArray[np.int64], lower: bool) -> NDArray[np.float64]:
        """``log P(D <= j)`` (``lower``) or ``log P(D > j)``, for integers in the support."""
        a, lcdf, lsf = self._tails()
        b = a + lcdf.size - 1
        lo, hi = self.support()
        out = np.empty(j.shape)
        for i, vv in enumerate(j.ravel()):
            v = int(vv)
            if lower:
                if v >= hi:
                    out.flat[i] = 0.0
                elif v < lo:
                    out.flat[i] = -np.inf
                elif a <= v <= b and (v > a or a == lo) and lcdf[v - a] > _LOG_TINY:
                    out.flat[i] = lcdf[v - a] if lcdf[v - a] < math.log(0.5) else math.log1p(
                        -math.exp(lsf[v - a]))
                else:  # below the window: sum the far tail down from v
                    out.flat[i] = self._tail_sum(v, -1)
            else:
                if v >= hi:
                    out.flat[i] = -np.inf
                elif v < lo:
                    out.flat[i] = 0.0
                elif a <= v <= b and (v < b - 1 or b == hi) and lsf[v - a] > _LOG_TINY:
                    out.flat[i] = lsf[v - a] if lsf[v - a] < math.log(0.5) else math.log1p(
                        -math.exp(lcdf[v - a]))
                else:  # above the window: sum from v + 1 up
                    out.flat[i] = self._tail_sum(v + 1, +1)
        return out

    def _tail_sum(self, start: int, direction: int) -> float:
        """``log sum`` of the pmf from ``start`` outward (``direction`` -1 or +1) until negligible."""
        lo, hi = self.support()
        return _occupancy.log_tail_sum(self._logpmf_int, lo, hi, start, direction)

    def _side(self, j: ArrayLike, lower: bool) -> FloatOrArray:
        """``log P(D <= j)`` or ``log P(D > j)`` for real ``j`` (a step function)."""
        vals, scalar, _ = self._ints(j)
        steps = np.clip(np.floor(vals), -1, self.C + 1).astype(np.int64)
        return finish(self._log_side(steps, lower), scalar)

    def logcdf(self, j: ArrayLike) -> FloatOrArray:
        """``log P(D <= j)``, with full relative accuracy in the left tail."""
        return self._side(j, True)

    def cdf(self, j: ArrayLike) -> FloatOrArray:
        """``P(D <= j)`` (a step function of real ``j``)."""
        return finish(np.exp(np.asarray(self.logcdf(j), dtype=float)), np.ndim(j) == 0)

    def logsf(self, j: ArrayLike) -> FloatOrArray:
        """``log P(D > j)``, with full relative accuracy in the right tail."""
        return self._side(j, False)

    def sf(self, j: ArrayLike) -> FloatOrArray:
        """``P(D > j)``; ``sf(C - 1)`` is the coverage probability."""
        return finish(np.exp(np.asarray(self.logsf(j), dtype=float)), np.ndim(j) == 0)

    def ppf(self, q: ArrayLike) -> int | NDArray[np.int64]:
        """Smallest ``j`` with ``P(D <= j) >= q`` (``q`` in (0, 1)); an int for scalar ``q``."""
        arr, _ = check_probability_array(q, "q")
        a, lcdf, lsf = self._quantile_tails(np.asarray(arr, dtype=float))
        lo, hi = self.support()
        res = np.empty(arr.shape, dtype=np.int64)
        for i, qi in enumerate(arr.ravel()):
            if qi <= 0.5:
                k = int(np.searchsorted(lcdf, math.log(qi), side="left"))
            else:
                # P(D <= j) >= q  <=>  P(D > j) <= 1 - q
                k = int(np.argmax(lsf <= math.log1p(-qi))) if np.any(lsf <= math.log1p(-qi)) \
                    else lcdf.size
            res.flat[i] = min(max(a + k, lo), hi)
        return int(res.reshape(())) if arr.ndim == 0 else res

    def isf(self, q: ArrayLike) -> int | NDArray[np.int64]:
        """Smallest ``j`` with ``P(D > j) <= q`` (``q`` in (0, 1))."""
        arr, _ = check_probability_array(q, "q")
        a, lcdf, lsf = self._quantile_tails(np.asarray(arr, dtype=float))
        lo, hi = self.support()
        res = np.empty(arr.shape, dtype=np.int64)
        for i, qi in enumerate(arr.ravel()):
            hit = lsf <= math.log(qi)
            k = int(np.argmax(hit)) if np.any(hit) else lsf.size
            res.flat[i] = min(max(a + k, lo), hi)
        return int(res.reshape(())) if arr.ndim == 0 else res

    def median(self) -> int:
        """The median, ``ppf(0.5)``."""
        return int(self.ppf(0.5))

    def mean(self) -> float:
        """``E[D]`` in closed form (:func:`expected_classes`)."""
        cached = self._cache.get("mean")
        if cached is None:
            cached = float(_occupancy.expected_classes_unique(np.array([self.n]), self.prior)[0]) \
                if self.n > 0 else 0.0
            self._cache["mean"] = cached
        return float(cached)

    def _var_closed(self) -> float | None:
        if "var_closed" not in self._cache:
            self._cache["var_closed"] = (_occupancy.var_classes(self.n, self.prior)
                                         if self.n > 0 else 0.0)
        v = self._cache["var_closed"]
        if v is None:  # a rough scale for the window: the binomial bound on D
            mu = self.mean()
            return mu * max(0.0, 1.0 - mu / self.C)
        return float(v)

    def var(self) -> float:
        """``Var[D]``: closed form with replacement (``G <= 3000`` groups), else from the pmf."""
        self._var_closed()  # computes (and caches) the closed form once
        v = self._cache["var_closed"]
        if v is not None:
            return float(v)
        a, lp = self._window()
        j = np.arange(a, a + lp.size, dtype=float)
        w = np.exp(lp)
        mu = self.mean()
        return float(np.sum(w * (j - mu) ** 2))

    def std(self) -> float:
        """Standard deviation of ``D``."""
        return math.sqrt(self.var())

    def rvs(self, size: int | tuple[int, ...] | None = None,
            random_state: Any = None) -> int | NDArray[np.int64]:
        """Random numbers of distinct classes, by exact simulation of the batch.

        With replacement the class counts are multinomial, without replacement
        multivariate hypergeometric; ``D`` is the number of non-zero counts.
        """
        checked = check_size(size, "size")
        if self.C > _RVS_MAX_C:
            raise ValueError(f"rvs: C = {self.C} classes is above the limit C <= {_RVS_MAX_C:.0e} "
                             "(exact simulation draws every class's count)")
        rng = np.random.default_rng(random_state)
        shape = () if checked is None else checked
        total = int(np.prod(shape)) if shape else 1
        out = np.empty(total, dtype=np.int64)
        chunk = max(1, 2_000_000 // self.C)
        for lo in range(0, total, chunk):
            m = min(chunk, total - lo)
            if self.prior.replacement:
                counts = rng.multinomial(self.n, self.prior.probs, size=m)
            else:
                cts = np.asarray(self.prior.counts, dtype=np.int64)
                counts = rng.multivariate_hypergeometric(cts, self.n, size=m)
            out[lo:lo + m] = np.count_nonzero(counts, axis=1)
        return int(out[0]) if not shape else out.reshape(shape)


@fill_doc
def distinct_classes(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, replacement: bool | None = None,
                     include_anchor: bool = True) -> DistinctClasses:
    r"""The number of distinct classes in a batch, as a frozen distribution.

    ``D`` counts the classes present among the anchor and its ``K``
    negatives (:ref:`math-occupancy`).  Its pmf is a coefficient of
    :math:`\prod_c (1 + u(e^{p_c t} - 1))` (independent draws) or of
    :math:`\prod_c (1 + u((1 + x)^{n_c} - 1))` (without replacement), computed
    exactly up to rounding (1e-12 relative where float64 holds the value;
    ``logpmf``, ``logcdf`` and ``logsf`` beyond).

    Parameters
    ----------
    K : int
        Number of negatives (``>= 0``).
    {docs.prior}
    {docs.include_anchor}

    Returns
    -------
    DistinctClasses

    Raises
    ------
    ValueError
        An invalid ``K`` or prior; without replacement, a batch larger than
        the data set.  The pmf of a prior with many distinct class
        probabilities costs ``C x (range of j)`` per node and is refused above
        ``couponbound._occupancy.MAX_DP_WORK`` (the message says so);
        uniform priors, equal class sizes and :func:`expected_classes` have no
        such limit.

    Examples
    --------
    How many of CIFAR-100-LT's classes does a batch of 512 see, when a shuffled
    loader draws it from the 10,847 training images?

    >>> from couponbound import distinct_classes
    >>> from couponbound.paper.datasets import long_tailed_counts
    >>> counts = long_tailed_counts(n_max=500, C=100, r=100)   # 500 ... 5 images per class
    >>> D = distinct_classes(511, counts=counts, replacement=False)
    >>> round(D.mean(), 2), D.ppf(0.05), D.ppf(0.95)
    (76.09, 71, 81)
    >>> D.pmf(100) < 1e-15                                # full coverage: hopeless
    True
    """
    k_arr, scalar = check_int_array(K, "K", minimum=0)
    if not scalar:
        raise TypeError(f"K must be one integer (a frozen distribution has one batch size), "
                        f"got an array of shape {k_arr.shape}")
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    anchor = check_flag(include_anchor, "include_anchor")
    draws(K, prior, include_anchor=anchor)  # a batch larger than the data set is refused
    return DistinctClasses(int(k_arr), prior, anchor)
