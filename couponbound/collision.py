"""Collisions between the anchor and its negatives (:ref:`math-collisions`).

:math:`\\mathrm{Col}` is the number of the ``K`` negatives whose class equals the anchor's
class.  Drawing with replacement from the class prior :math:`\\rho` (the model of
NS21 and ARORA19), :math:`\\mathrm{Col} \\mid c \\sim \\mathrm{Binomial}(K, \\rho_c)` given the anchor's class
``c``.  Drawing without replacement from a finite dataset with ``n_c`` samples
of class ``c`` (``replacement=False``, :ref:`math-without-replacement`),
``Col | c ~ Hypergeometric(N - 1, n_c - 1, K)``.

Public functions
----------------
collision_prob
    ARORA19's collision probability :math:`\\tau_K = P(\\mathrm{Col} \\ge 1)`.
collision_pmf
    The distribution of :math:`\\mathrm{Col}`.
expected_log_collision
    NS21's collision term :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})`.

Each takes the prior as ``C`` (an int or a :class:`~couponbound.Prior`) or as
``probs=``/``counts=``/``replacement=``.  Exact values (Fractions, mpmath) are
in :mod:`couponbound.exact`; the large-``K`` expansion of :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` is
:func:`couponbound.asymptotic.expected_log_collision_expansion`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from couponbound._combinatorics import window_weights
from couponbound._docs import fill_doc
from couponbound._prior import Prior, as_prior
from couponbound._saddle import log_hyper_zero
from couponbound._validate import short_repr
from couponbound._vectorize import ArrayIn, FloatArray, FloatOrArray, ScalarIn, draws, evaluate
from couponbound.asymptotic import binomial_log1p_expansion, hypergeometric_log1p_expansion

__all__ = ["collision_pmf", "collision_prob", "expected_log_collision"]

#: ``expected_log_collision`` sums the pmf over mean +- (_TAIL_SD sd + _TAIL_PAD);
#: the mass left out is below 1e-30 of the total (Chernoff bound).
_TAIL_SD = 15.0
_TAIL_PAD = 30.0
#: ``collision_pmf`` windows, used only when the full table would be huge;
#: what they leave out underflows or is below 1e-100.
_PMF_TAIL_SD = 40.0
_PMF_TAIL_PAD = 60.0
_PMF_FULL_MAX = 4_000_000
#: Components with ``K rho_c`` at least this use the moment expansion in
#: :func:`expected_log_collision` (its truncation error is below 1e-18 there).
_EXPANSION_EXACT_MU = 1e6
#: Maximum number of pmf terms evaluated in one vectorised call.
_CHUNK = 1 << 21


# ---------------------------------------------------------------------------
# the prior, grouped for collisions
# ---------------------------------------------------------------------------


#: Largest K whose whole Col distribution collision_pmf returns (an array of K + 1 floats).
_PMF_MAX_K = 10**7


def _hyper_groups(prior: Prior) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Without replacement: ``a_g = n_g - 1`` (the anchor's class-mates), ``b_g = N - n_g``
    (the others) and the anchor's chance ``m_g n_g / N`` of a class of size ``n_g``."""
    sizes, mult = prior.count_groups()
    N = prior.N
    assert N is not None
    a = sizes - 1
    weight = np.array([int(m) * int(s) / N for s, m in zip(sizes, mult, strict=True)])
    return a, N - 1 - a, weight


def _per_value(n: NDArray[np.int64], func: Callable[[int], float]) -> NDArray[np.float64]:
    """A scalar function of ``K`` on the distinct values the vectorisation layer passes."""
    return np.array([func(int(k)) for k in n], dtype=np.float64)


# ---------------------------------------------------------------------------
# pmf windows (vectorised over groups)
# ---------------------------------------------------------------------------


def _windows(mean: NDArray[np.float64], sd: NDArray[np.float64], lo_sup: NDArray[np.int64],
             hi_sup: NDArray[np.int64], n_sd: float, pad: float
             ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    lo = np.maximum(lo_sup, np.floor(mean - n_sd * sd - pad).astype(np.int64))
    hi = np.minimum(hi_sup, np.ceil(mean + n_sd * sd + pad).astype(np.int64))
    return lo, np.maximum(hi, lo)


def _chunks(sizes: NDArray[np.int64]) -> list[slice]:
    """Split groups into consecutive runs of at most ``_CHUNK`` terms."""
    out: list[slice] = []
    start, total = 0, 0
    for g, s in enumerate(sizes.tolist()):
        if total and total + s > _CHUNK:
            out.append(slice(start, g))
            start, total = g, 0
        total += s
    out.append(slice(start, sizes.size))
    return out


def _binom_terms(K: int, p: NDArray[np.float64], lo: NDArray[np.int64], hi: NDArray[np.int64]
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Unnormalised ``Binomial(K, p_g)`` weights on the windows (callers normalise per group).

    Built from the ratios ``(K - m) p / ((m + 1) (1 - p))`` in numpy (no scipy
    import on the monitor's first batch); relative error a few ulps per step.
    """
    with np.errstate(divide="ignore"):
        odds = p / (1.0 - p)  # inf for p = 1: all the mass at K

    def log_ratio(m: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.log((K - m) * odds[g] / (m + 1.0))

    return window_weights(lo, hi, K * p, log_ratio)


def _hyper_terms(K: int, a: NDArray[np.int64], b: NDArray[np.int64], lo: NDArray[np.int64],
                 hi: NDArray[np.int64]
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Unnormalised hypergeometric weights ``binom(a, x) binom(b, K - x)`` on the windows.

    Proportional to ``Hypergeom(x; a + b, a, K)`` within a group; callers
    normalise each group by its sum.  Built from the ratios
    ``(a - x)(K - x) / ((x + 1)(b - K + x + 1))`` in numpy.
    """
    af, bf = a.astype(np.float64), b.astype(np.float64)

    def log_ratio(x: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
        xf = x.astype(np.float64)
        return np.log((af[g] - xf) * (K - xf) / ((xf + 1.0) * (bf[g] - K + xf + 1.0)))

    return window_weights(lo, hi, K * af / np.maximum(af + bf, 1.0), log_ratio)


def _binom_window(K: int, p: NDArray[np.float64], n_sd: float, pad: float
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    mean = K * p
    sd = np.sqrt(K * p * np.maximum(0.0, 1.0 - p))
    zeros = np.zeros(p.size, dtype=np.int64)
    return _windows(mean, sd, zeros, zeros + K, n_sd, pad)


def _hyper_window(K: int, a: NDArray[np.int64], b: NDArray[np.int64], n_sd: float, pad: float
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # in floats, as fractions of the population: K a b alone overflows int64
    af = a.astype(np.float64)
    bf = b.astype(np.float64)
    pop = np.maximum(af + bf, 1.0)
    mean = K * (af / pop)
    var = mean * (bf / pop) * (np.maximum(pop - K, 0.0) / np.maximum(pop - 1.0, 1.0))
    lo_sup = np.maximum(0, K - b)
    hi_sup = np.minimum(K, a)
    return _windows(mean, np.sqrt(var), lo_sup, hi_sup, n_sd, pad)


_Terms = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]


def _group_expectations(terms: Callable[[slice], _Terms], sizes: NDArray[np.int64]
                        ) -> NDArray[np.float64]:
    """``sum w ln(1+m) / sum w`` per group, computed in chunks of groups."""
    out = np.empty(sizes.size)
    for sl in _chunks(sizes):
        m, group, w = terms(sl)
        ngroups = sl.stop - sl.start
        num = np.bincount(group, weights=w * np.log1p(m), minlength=ngroups)
        den = np.bincount(group, weights=w, minlength=ngroups)
        out[sl] = num / den
    return out


# ---------------------------------------------------------------------------
# tau_K
# ---------------------------------------------------------------------------


def _tau_with(K: NDArray[np.int64], p: NDArray[np.float64], weight: NDArray[np.float64]
              ) -> NDArray[np.float64]:
    flat = K.ravel().astype(np.float64)
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-p)  # -inf for p == 1 (a single class)
    out = np.empty(flat.size)
    step = max(1, _CHUNK // max(1, p.size))
    with np.errstate(invalid="ignore"):
        for i in range(0, flat.size, step):
            k = flat[i : i + step, None]
            hit = -np.expm1(k * log_keep)  # 1 - (1 - p)^K, no cancellation
            hit = np.where(k == 0, 0.0, hit)
            out[i : i + step] = hit @ weight
    return np.clip(out, 0.0, 1.0).reshape(K.shape)


def _tau_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    if prior.replacement:
        return _tau_with(n, *prior.anchor_groups())
    a, _, weight = _hyper_groups(prior)
    N = prior.N or 0

    def tau_one(k: int) -> float:
        # sum of positive terms w_g (1 - P(Col = 0 | g)): no cancellation
        # P(Col = 0 | g) = C(N-1-a, K) / C(N-1, K), in O(1) with full relative accuracy of 1 - P
        return math.fsum(w * -math.expm1(log_hyper_zero(N - 1, int(ag), k))
                         for ag, w in zip(a, weight.tolist(), strict=True))

    return _per_value(n, tau_one)


@overload
def collision_prob(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> float: ...


@overload
def collision_prob(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> FloatArray: ...


@overload
def collision_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> FloatOrArray: ...


@fill_doc
def collision_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> FloatOrArray:
    r"""ARORA19's collision probability :math:`\tau_K = P(\mathrm{Col} \ge 1)`.

    The probability that at least one of the ``K`` negatives has the anchor's
    class (the anchor itself is not counted among the ``K``).

    With replacement (ARORA19, section 4; :ref:`math-collisions`):

    .. math::

        \tau_K = 1 - \sum_c \rho_c (1 - \rho_c)^K
        = \sum_c \rho_c \bigl[-\mathrm{expm1}\bigl(K\,\mathrm{log1p}(-\rho_c)\bigr)\bigr]

    The right-hand form has no cancellation, so a tiny ``tau`` (``K = 1``,
    ``C = 10**6``) keeps full relative accuracy.

    Without replacement (``replacement=False``, a dataset of ``N = sum n_c``
    samples, the anchor uniform among them and the ``K`` negatives a uniform
    subset of the other ``N - 1``):

    .. math::

        \tau_K = 1 - \sum_c \frac{n_c}{N} \binom{N - n_c}{K} \Big/ \binom{N - 1}{K}

    Parameters
    ----------
    {docs.negatives}
    {docs.prior}

    Returns
    -------
    float or ndarray
        :math:`\tau_K` in ``[0, 1]``; a Python ``float`` for scalar ``K``, else an
        array with the shape of ``K``.  The exact value is
        :func:`couponbound.exact.collision_prob`.

    Raises
    ------
    TypeError
        If ``K`` is not integral, no prior is given, or ``replacement`` is not a bool.
    ValueError
        If ``K < 0``, the prior is invalid, ``replacement=False`` without
        ``counts``, or ``K > N - 1`` without replacement.

    References
    ----------
    ARORA19: the collision probability ``tau`` of its bound with ``K``
    negatives (``tau_K = P(c^+ in {c_1^-, ..., c_K^-})``), as restated in NS21.

    Examples
    --------
    >>> round(collision_prob(31, 10), 3)
    0.962
    >>> round(collision_prob(127, 100), 3)
    0.721
    >>> collision_prob(1, 10**6)  # = 1/C, no cancellation
    1e-06
    >>> collision_prob([0, 1, 2], counts=[1, 1]).tolist()
    [0.0, 0.5, 0.75]
    >>> collision_prob(1, counts=[2, 2], replacement=False)  # 1 of 3 others matches
    0.3333333333333333
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return evaluate(_tau_kernel, K, prior, negatives_only=True)


# ---------------------------------------------------------------------------
# pmf of Col
# ---------------------------------------------------------------------------


def collision_pmf(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None) -> NDArray[np.float64]:
    r"""The distribution of :math:`\mathrm{Col}`, the negatives that share the anchor's class.

    A mixture over the anchor's class (:ref:`math-collisions`):

    .. math::

        P(\mathrm{Col} = m) = \sum_c \rho_c \,\mathrm{Binom}(m; K, \rho_c)
        \quad\text{(with replacement)}, \qquad
        P(\mathrm{Col} = m) = \sum_c \frac{n_c}{N} \,\mathrm{Hypergeom}(m; N - 1, n_c - 1, K)
        \quad\text{(without)}.

    Parameters
    ----------
    K : int
        Number of negatives (``>= 0``), a scalar.
    C, probs, counts, replacement
        The prior, as in :func:`collision_prob`.

    Returns
    -------
    ndarray
        Length :math:`K + 1`; entry ``m`` is :math:`P(\mathrm{Col} = m)`.  The binomial and
        hypergeometric probabilities come from the ratios of consecutive
        terms, normalised (relative error ~1e-14 near the mode); for very large ``K`` times the
        number of distinct class probabilities (above 4e6) only the window
        ``mean +- (40 sd + 60)`` of each component is evaluated and entries
        below ~1e-100 may be returned as 0.  Exactly:
        :func:`couponbound.exact.collision_pmf`.

    Raises
    ------
    TypeError, ValueError
        As :func:`collision_prob`; also for an array ``K``.

    References
    ----------
    ARORA19 and NS21 (the distribution of :math:`\mathrm{Col}` behind :math:`\tau_K` and the
    collision term).

    Examples
    --------
    >>> collision_pmf(2, 2)                  # Binomial(2, 1/2)
    array([0.25, 0.5 , 0.25])
    >>> collision_pmf(2, counts=[2, 2], replacement=False)
    array([0.33333333, 0.66666667, 0.        ])
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    Karr, is_scalar = draws(K, prior, negatives_only=True)
    if not is_scalar:
        raise TypeError(f"K must be a single integer for collision_pmf, got {short_repr(K)}")
    k = int(Karr)
    if k > _PMF_MAX_K:
        raise ValueError(
            f"collision_pmf returns all K + 1 probabilities; K = {k} is above its limit "
            f"K <= {_PMF_MAX_K}; use collision_prob or expected_log_collision, which do not "
            "need the whole distribution")
    out = np.zeros(k + 1)
    if not prior.replacement:
        a, b, weight = _hyper_groups(prior)

        def window(full: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
            if full:
                return np.maximum(0, k - b), np.minimum(k, a)
            return _hyper_window(k, a, b, _PMF_TAIL_SD, _PMF_TAIL_PAD)

        def terms(sl: slice, lo: NDArray[np.int64], hi: NDArray[np.int64]
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
            return _hyper_terms(k, a[sl], b[sl], lo[sl], hi[sl])
    else:
        p, weight = prior.anchor_groups()
        zero = np.zeros(p.size, dtype=np.int64)

        def window(full: bool) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
            if full:
                return zero, zero + k
            return _binom_window(k, p, _PMF_TAIL_SD, _PMF_TAIL_PAD)

        def terms(sl: slice, lo: NDArray[np.int64], hi: NDArray[np.int64]
                  ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
            return _binom_terms(k, p[sl], lo[sl], hi[sl])

    lo, hi = window(full=weight.size * (k + 1) <= _PMF_FULL_MAX)
    for sl in _chunks(hi - lo + 1):
        m, group, w = terms(sl, lo, hi)
        ngroups = sl.stop - sl.start
        norm = np.bincount(group, weights=w, minlength=ngroups)
        out += np.bincount(m, weights=w * (weight[sl] / norm)[group], minlength=k + 1)
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------------------
# E ln(1 + Col)
# ---------------------------------------------------------------------------


def _elog_binom(k: int, p: NDArray[np.float64]) -> NDArray[np.float64]:
    """:math:`\\mathbb{E}\\ln(1 + X)`, ``X ~ Binomial(k, p_g)``, for every group ``g``."""
    if k == 0:
        return np.zeros(p.size)
    out = np.empty(p.size)
    # where K p >= 1e6 the four-moment expansion is exact to double precision
    # (truncation error ~0.5 (K p)^-3 < 1e-18): no need to sum ~1e5+ terms
    big = k * p >= _EXPANSION_EXACT_MU
    out[big] = binomial_log1p_expansion(np.array(float(k)), p[big])
    small = np.flatnonzero(~big)
    if small.size:
        ps = p[small]
        lo, hi = _binom_window(k, ps, _TAIL_SD, _TAIL_PAD)
        out[small] = _group_expectations(lambda sl: _binom_terms(k, ps[sl], lo[sl], hi[sl]),
                                         hi - lo + 1)
    return out


def _elog_hyper(k: int, a: NDArray[np.int64], b: NDArray[np.int64]) -> NDArray[np.float64]:
    """:math:`\\mathbb{E}\\ln(1 + X)`, ``X ~ Hypergeom(a_g + b_g, a_g, k)``, for every group ``g``."""
    if k == 0:
        return np.zeros(a.size)
    out = np.empty(a.size)
    # mean >= 1e6: the four-moment expansion, exact to double precision (as _elog_binom)
    big = k * (a / np.maximum(a + b, 1).astype(np.float64)) >= _EXPANSION_EXACT_MU
    out[big] = hypergeometric_log1p_expansion(float(k), a[big], b[big])
    small = np.flatnonzero(~big)
    if small.size:
        asm, bsm = a[small], b[small]
        lo, hi = _hyper_window(k, asm, bsm, _TAIL_SD, _TAIL_PAD)
        out[small] = _group_expectations(
            lambda sl: _hyper_terms(k, asm[sl], bsm[sl], lo[sl], hi[sl]), hi - lo + 1)
    return out


def _elog_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    if prior.replacement:
        p, weight = prior.anchor_groups()
        vals = _per_value(n, lambda k: float(_elog_binom(k, p) @ weight))
    else:
        a, b, hweight = _hyper_groups(prior)
        vals = _per_value(n, lambda k: float(_elog_hyper(k, a, b) @ hweight))
    return np.clip(vals, 0.0, np.log1p(n.astype(np.float64)))


@overload
def expected_log_collision(K: ScalarIn, C: int | Prior | None = None, *,
                           probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                           replacement: bool | None = None) -> float: ...


@overload
def expected_log_collision(K: ArrayIn, C: int | Prior | None = None, *,
                           probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                           replacement: bool | None = None) -> FloatArray: ...


@overload
def expected_log_collision(K: ArrayLike, C: int | Prior | None = None, *,
                           probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                           replacement: bool | None = None) -> FloatOrArray: ...


@fill_doc
def expected_log_collision(K: ArrayLike, C: int | Prior | None = None, *,
                           probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                           replacement: bool | None = None) -> FloatOrArray:
    r"""NS21's collision term :math:`\mathbb{E}\ln(1+\mathrm{Col})`.

    NS21 (the term :math:`\mathbb{E}\ln(1+\mathrm{Col})` of its main lower bound;
    :ref:`math-collisions`, :ref:`math-ns21-bound`):

    .. math::

        \mathbb{E}\ln(1 + \mathrm{Col}) = \sum_c \rho_c \sum_{m=0}^{K}
        \mathrm{Binom}(m; K, \rho_c) \ln(1 + m)

    and with ``replacement=False`` the binomial is replaced by
    ``Hypergeom(m; N - 1, n_c - 1, K)`` and ``rho_c`` by ``n_c / N``.

    The pmf is summed over ``mean +- (15 sd + 30)`` of each component (the
    omitted mass is below 1e-30), grouping classes with equal probability;
    components with ``K rho_c >= 1e6`` use the four-moment expansion
    (:func:`couponbound.asymptotic.binomial_log1p_expansion`, or
    :func:`~couponbound.asymptotic.hypergeometric_log1p_expansion` without
    replacement, where the mean ``K (n_c - 1) / (N - 1)`` decides), whose
    truncation error (``< 1e-18``) is then under double precision.  Relative error about
    1e-13; fast for ``K`` up to 1e7 and ``C`` up to 1e5 (and beyond, with
    replacement).  The value to any number of digits is
    :func:`couponbound.exact.expected_log_collision`; the large-``K`` expansion
    alone is :func:`couponbound.asymptotic.expected_log_collision_expansion`.
    Errors as for :func:`collision_prob`.

    Parameters
    ----------
    {docs.negatives}
    {docs.prior}

    Returns
    -------
    float or ndarray
        :math:`\mathbb{E}\ln(1+\mathrm{Col})` in :math:`[0, \ln(1 + K)]`; a Python ``float`` for scalar
        ``K``, else an array with the shape of ``K``.

    References
    ----------
    NS21, the collision term :math:`\mathbb{E}\ln(1+\mathrm{Col})` of its main lower bound on
    :math:`L_\mathrm{Info}`; ARORA19 for the model of :math:`\mathrm{Col}`.

    Examples
    --------
    >>> expected_log_collision([31, 511], 10).round(3)    # NS21's CIFAR-10 batches
    array([1.317, 3.945])
    >>> round(expected_log_collision(127, 100), 3)
    0.697
    >>> round(expected_log_collision(10**5, 10), 6)
    9.210395
    >>> import math; expected_log_collision(3, counts=[2, 2], replacement=False) == math.log(2)
    True
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return evaluate(_elog_kernel, K, prior, negatives_only=True)
