r"""The coupon collector's problem as NS21 uses it (:ref:`math-coverage`).

:math:`\upsilon_{K+1}` (NS21's notation) is the probability that an
anchor and its ``K`` negatives, drawn i.i.d. from the class prior, together
contain every one of the ``C`` latent classes; equivalently :math:`P(T \le K + 1)`
for the completion time ``T`` of the coupon collector
(:ref:`math-completion-time`).

Three exact representations are used:

* inclusion-exclusion, :math:`\upsilon_n = \sum_S (-1)^{|S|} (1 - \rho(S))^n`, which
  cancels catastrophically in floating point (:ref:`math-cancellation`) and
  is used here only where its terms decrease fast enough to be harmless (its
  exact and arbitrary-precision evaluations live in :mod:`couponbound.exact`);
* the exponential generating function
  :math:`\upsilon_n = n!\,[t^n] \prod_c (e^{\rho_c t} - 1)`, whose coefficients are
  all non-negative; its Cauchy integral on the saddle-point circle
  (:ref:`math-saddle`), one FFT per band of ``n`` (see
  the private module ``couponbound._saddle``), is the fast, accurate path;
* for batches drawn without replacement from a finite data set with class
  counts :math:`n_c` (:ref:`math-without-replacement`), the multivariate
  hypergeometric analogue :math:`\upsilon_n = [x^n] \prod_c ((1 + x)^{n_c} - 1) / \binom{N}{n}`.

Every function takes the prior as ``C`` (an int, or a :class:`~couponbound.Prior`)
or as the keyword sugar ``probs=``/``counts=``/``replacement=``; every
numeric function returns a Python ``float`` for a scalar ``K`` and an ndarray
for an array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _display, _longtail, _saddle
from ._combinatorics import harmonic
from ._occupancy import smallest_draws_for_classes, validated_classes
from ._prior import Prior, as_prior
from ._validate import check_flag, check_probability, check_probability_array, check_size
from ._vectorize import ArrayIn, FloatOrArray, ScalarIn, evaluate

__all__ = [
    "CompletionTime",
    "completion_time",
    "coverage_prob",
    "expected_draws",
    "log_coverage_prob",
    "required_negatives",
]

#: Uniform prior: inclusion-exclusion in float is used while the first term
#: ``t1 = C (1 - 1/C)^n`` is at most this; its condition number is about
#: ``exp(2 t1)`` (:ref:`math-cancellation`), i.e. at most ~400 here.
_IE_T1_MAX = 3.0
#: Largest C for which required_negatives / ppf search the number of draws.
_SMALLEST_N_MAX_C = 10**16
#: Largest Poisson mean ``rvs`` simulates (numpy's generator refuses far larger ones).
_RVS_MAX = 1e15
#: rvs simulates every class (O(C) work and memory per draw): at most this many classes.
_RVS_MAX_C = 10**7
#: Digits of the arbitrary-precision fallback (:mod:`couponbound.exact`).
_FALLBACK_DPS = 20


# --------------------------------------------------------------------------
# kernels: log upsilon_n for sorted distinct draw counts n
# --------------------------------------------------------------------------

def _uniform_ie_tail(n: NDArray[np.float64], C: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``1 - upsilon_n = t_1 (1 - t_2/t_1 + t_3/t_1 - ...)`` for the uniform prior.

    Returns ``(log t_1, S)`` with ``1 - upsilon_n = exp(log t_1) * S``, so the
    tail stays available in log space where ``t_1`` underflows.
    ``t_i = binom(C, i) (1 - i/C)^n``; the ratios follow
    ``t_{i+1}/t_i = (C - i)/(i + 1) ((C - i - 1)/(C - i))^n`` (relative error
    ``O(i eps)``).  Use only where ``t_1`` is small: the sum's condition number
    is about ``exp(2 t_1)`` (:ref:`math-cancellation`).  Each ``n`` stops once the ratios
    fall below ``1e-18``, so far-right values cost one or two terms.
    """
    n = np.asarray(n, dtype=float)
    log_t1 = math.log(C) + n * math.log1p(-1.0 / C)
    ratio = np.ones_like(n)
    total = np.ones_like(n)
    active = np.arange(n.size)
    sign = 1.0
    for i in range(1, C - 1):
        if active.size == 0:
            break
        factor = (C - i) / (i + 1)
        r_act = ratio[active] * factor * np.exp(n[active] * math.log1p(-1.0 / (C - i)))
        ratio[active] = r_act
        sign = -sign
        total[active] += sign * r_act
        active = active[r_act > 1e-18]
    return log_t1, total


#: The blocked Markov chain serves uniform priors of at most this many classes ...
_CHAIN_MAX_C = 256
#: ... for requests of at least this many draw counts, spanning at most this many
#: chain steps per requested value (its cost is O(n_max C), not O(#values)) ...
_CHAIN_MIN_VALUES = 48
_CHAIN_STEPS_PER_VALUE = 64
#: ... and its values above e^-600 (far above the subnormal range: a component
#: lost to underflow changes them by less than 1e-30 relative).
_CHAIN_MIN_LOG = -600.0


def _blocked_chain_pays(n: NDArray[np.int64], C: int) -> bool:
    return bool(C <= _CHAIN_MAX_C and n.size >= _CHAIN_MIN_VALUES
                and int(n[-1]) <= _CHAIN_STEPS_PER_VALUE * n.size)


def _uniform_chain_blocked(n: NDArray[np.int64], C: int) -> NDArray[np.float64]:
    """``log upsilon_n`` for a uniform prior by the Markov chain on the number of
    distinct classes (:ref:`math-coverage`), in blocks of ``B`` steps.

    ``s_m`` (the law of the number of distinct classes after ``m`` draws) is
    advanced ``B`` draws at a time by the matrix ``M^B`` (repeated squaring), and
    ``upsilon_{m + k} = s_m M^k e_C`` for ``k < B`` is one matrix product of the
    stacked block states with the columns ``M^k e_C``.  Every entry is a sum of
    non-negative terms, so nothing cancels: the relative error is a few ``eps``
    per sequential step, ``B + n_max / B ~ 2 sqrt(n_max)`` of them.  Sorted
    ``n``; values that underflow give ``-inf``.
    """
    n_max = int(n[-1])
    B = 1
    while B * B < n_max:
        B *= 2
    j = np.arange(C + 1, dtype=float)
    stay = j / C  # M[j, j]
    move = (C - j[1:] + 1) / C  # M[j - 1, j]
    M = np.diag(stay)
    M[np.arange(C), np.arange(1, C + 1)] = move
    # columns M^k e_C, k < B
    R = np.empty((C + 1, B))
    col = np.zeros(C + 1)
    col[C] = 1.0
    for k in range(B):
        R[:, k] = col
        nxt = stay * col
        nxt[:-1] += move * col[1:]
        col = nxt
    MB = M
    step = 1
    while step < B:
        MB = MB @ MB
        step *= 2
    blocks = n_max // B + 1
    S = np.empty((blocks, C + 1))
    state = np.zeros(C + 1)
    state[0] = 1.0
    with np.errstate(under="ignore"):
        for m in range(blocks):
            S[m] = state
            state = state @ MB
        U = (S @ R).ravel()  # U[m B + k] = upsilon_{m B + k}
        with np.errstate(divide="ignore"):
            return np.asarray(np.log(U[n]), dtype=np.float64)


def _uniform_t1(n: NDArray[np.float64], C: int) -> NDArray[np.float64]:
    return C * np.exp(n * math.log1p(-1.0 / C)) if C > 1 else np.zeros_like(n)


def _upsilon_mp(n: int, prior: Prior, dps: int) -> Any:
    """``upsilon_n`` as an ``mpmath.mpf``: the fast path's fallback and tie-breaker."""
    from .exact import coverage_prob_mp

    return coverage_prob_mp(n, prior, include_anchor=False, dps=dps)


def _log_min_degree(prior: Prior) -> float:
    """log upsilon at n = C (every draw a new class)."""
    C = prior.C
    if not prior.replacement:
        # upsilon_C = prod_c n_c / binom(N, C) = C! prod_c (n_c / N) / prod_{j<C} (1 - j/N)
        counts = np.asarray(prior.counts, dtype=float)
        N = prior.N
        assert N is not None
        return float(math.lgamma(C + 1) + math.fsum(np.log(counts / N))
                     - _saddle.log_falling_ratio(N, C))
    if prior.is_uniform:
        return float(math.fsum(math.log(c / C) for c in range(1, C + 1)))
    p = prior.probs
    return float(math.lgamma(C + 1) + math.fsum(np.log(p)))


def _float_groups(prior: Prior) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct probabilities (or class sizes, without replacement) and multiplicities, as floats."""
    vals, mult = prior.groups() if prior.replacement else prior.count_groups()
    return vals.astype(np.float64), mult.astype(np.float64)


#: Independent draws from a prior with at least this many distinct
#: probabilities go to the long-tail engine (couponbound._longtail): its cost
#: per point does not grow with the number of classes or with sqrt(n).
_LONGTAIL_MIN_GROUPS = 32
#: ... and so do all draw counts above this (the FFT's length grows like sqrt(n)).
_LONGTAIL_MIN_DRAWS = 10**9
_LONGTAIL_CACHE: dict[Prior, Any] = {}
#: The prior last served and its engine object, found by identity.
_LONGTAIL_LAST: dict[str, tuple[Prior, Any]] = {}


def _use_longtail(prior: Prior) -> bool:
    return (prior.replacement and not prior.is_uniform
            and prior.groups()[0].size >= _LONGTAIL_MIN_GROUPS)


def _engine_serves(prior: Prior, n: NDArray[np.int64]) -> bool:
    """Whether the long-tail engine evaluates these draw counts: many distinct
    probabilities, or a non-uniform prior with replacement beyond ``10^9`` draws."""
    return _use_longtail(prior) or (prior.replacement and not prior.is_uniform
                                    and n.size > 0 and int(n.max()) > _LONGTAIL_MIN_DRAWS)


def _longtail_args(prior: Prior) -> tuple[Any, Any, Any]:
    """``(probs, mult, prepared)`` for the long-tail engine; the prepared prior is cached."""
    vals, mult = prior.groups()
    last = _LONGTAIL_LAST.get("prior")
    if last is not None and last[0] is prior:  # the same object: no O(C) hash of the prior
        return vals, mult, last[1]
    pr = _LONGTAIL_CACHE.get(prior)
    if pr is None:
        if len(_LONGTAIL_CACHE) >= 8:
            _LONGTAIL_CACHE.clear()
        pr = _LONGTAIL_CACHE[prior] = _longtail.LongTailPrior(vals.astype(float), mult.astype(float))
    _LONGTAIL_LAST["prior"] = (prior, pr)
    return vals, mult, pr


def _fill_engine_and_top(n: NDArray[np.int64], todo: NDArray[np.bool_], out: NDArray[np.float64],
                         prior: Prior, *, miss: bool) -> None:
    """Fill ``out[todo]`` with ``log upsilon`` (``miss=True``: ``log(1 - upsilon)``)
    where the long-tail engine applies, or exactly near ``n = N`` without
    replacement; clears those entries of ``todo``."""
    if not np.any(todo):
        return
    if _engine_serves(prior, n[todo]):
        engine = _longtail.log_miss_many if miss else _longtail.log_coverage_many
        out[todo] = engine(n[todo], *_longtail_args(prior))
        todo[:] = False
    elif not prior.replacement:
        tail = _hyper_tail_near_top(n[todo], prior)
        done = np.isfinite(tail)
        if np.any(done):
            idx = np.flatnonzero(todo)[done]
            with np.errstate(divide="ignore"):
                out[idx] = np.log(tail[done]) if miss else np.log1p(-tail[done])
            todo[idx] = False


def _log_two_classes(n: NDArray[np.int64], prior: Prior) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(log upsilon_n, log(1 - upsilon_n))`` for ``C = 2`` in closed form, ``n >= 2`` (and ``n < N``).

    ``upsilon = 1 - a - b`` with ``a`` (``b``) the probability that the rarer
    (commoner) class is missing; ``1 - a`` is formed without cancellation and
    ``b / (1 - a) <= 1/3``, so both logs keep full relative accuracy at any
    imbalance (``probs=[1e-300, 1 - 1e-300]``, ``counts=[1, 10**12]``).
    """
    nf = n.astype(float)
    if prior.replacement:
        p_small = float(np.min(prior.probs))
        log_a = nf * math.log1p(-p_small)
        log_b = nf * math.log(p_small)
        log_not_a = _saddle.log1mexp(-log_a)
    else:
        assert prior.N is not None
        sizes = sorted(int(c) for c in np.asarray(prior.counts).tolist())
        zero = [(_saddle.log_hyper_zero(prior.N, sizes[0], int(k)),
                 _saddle.log_hyper_zero(prior.N, sizes[1], int(k))) for k in n.tolist()]
        log_a = np.array([z[0] for z in zero])
        log_b = np.array([z[1] for z in zero])
        with np.errstate(divide="ignore"):
            log_not_a = _saddle.log1mexp(-log_a)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_up = log_not_a + np.log1p(-np.exp(log_b - log_not_a))
    log_sf = np.logaddexp(log_a, log_b)
    return np.minimum(log_up, 0.0), np.minimum(log_sf, 0.0)


def _log_upsilon_unique(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """log upsilon_n for sorted unique draw counts ``n`` (float64, -inf for 0)."""
    out = np.full(n.shape, -np.inf)
    C = prior.C
    nf = n.astype(float)
    pos = n >= C
    if C == 1:
        out[n >= 1] = 0.0
        return out
    top = prior.N if not prior.replacement else None
    if top is not None:
        out[n == top] = 0.0
        pos &= n < top
    at_min = n == C
    if np.any(at_min & pos):
        out[at_min & pos] = _log_min_degree(prior)
    work = pos & ~at_min
    if C == 2 and np.any(work):  # closed form: any imbalance in O(1)
        out[work] = _log_two_classes(n[work], prior)[0]
        work[:] = False
    if prior.replacement and prior.is_uniform:
        t1 = _uniform_t1(nf, C)
        ie = work & (t1 <= _IE_T1_MAX)
        if np.any(ie):
            log_t1, ssum = _uniform_ie_tail(nf[ie], C)
            out[ie] = np.log1p(-np.exp(log_t1) * ssum)
        work &= ~ie
        if _blocked_chain_pays(n[work], C):
            idx = np.flatnonzero(work)
            lu = _uniform_chain_blocked(n[idx], C)
            ok = lu > _CHAIN_MIN_LOG
            out[idx[ok]] = lu[ok]
            work[idx[ok]] = False
    _fill_engine_and_top(n, work, out, prior, miss=False)
    if np.any(work):
        # far right tail: 1 - S1 <= upsilon <= 1 - S1 + S2 with S2 <= S1^2 / 2
        # (Bonferroni; (1 - a - b) <= (1 - a)(1 - b), and negative association
        # without replacement), so upsilon = 1 - S1 to 1e-15 once S1 < 1e-8
        log_s1 = _log_miss_one(n[work], prior)
        tiny = log_s1 < math.log(1e-8)
        if np.any(tiny):
            far = np.flatnonzero(work)[tiny]
            out[far] = np.log1p(-np.exp(log_s1[tiny]))
            work[far] = False
    if np.any(work):
        vals, mult = _float_groups(prior)
        if prior.replacement:
            gf = _saddle.egf_coverage(vals, mult)
        else:
            gf = _saddle.ogf_hypergeometric(vals, mult)
        res = _saddle.log_coefficients(gf, n[work])
        out[work] = res
        bad = work.copy()
        bad[work] = ~np.isfinite(res)
        if np.any(bad):  # numerical failure: redo in arbitrary precision
            import mpmath

            for i_bad in np.flatnonzero(bad):
                val = _upsilon_mp(int(n[i_bad]), prior, _FALLBACK_DPS)
                out[i_bad] = float(mpmath.log(val)) if val > 0 else -np.inf
    return np.minimum(out, 0.0)


def _log_miss_one(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log S1``, ``S1 = sum_c P(class c missing from n draws)``."""
    vals, mult = _float_groups(prior)
    nf = n.astype(float)[None, :]
    if prior.replacement:
        logs = np.log(mult)[:, None] + nf * _log_one_minus_probs(vals, mult)[:, None]
    else:
        # log binom(N - m, n) - log binom(N, n), without lgamma differences
        assert prior.N is not None
        sizes, size_mult = prior.count_groups()
        logs = np.log(size_mult.astype(float))[:, None] + _saddle.log_hyper_miss(prior.N, sizes, n)
    return _logsumexp_rows(logs)


def _log_one_minus_probs(vals: NDArray[np.float64], mult: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log(1 - p_g)`` per group; for a class above one half (at most one, the
    last) ``1 - p`` is the other classes' mass, which keeps its relative accuracy
    where ``p`` rounds to 1 (``probs=[1e-20, 1e-20, 1]``: ``1 - p = 2e-20``, not 0)."""
    out = np.log1p(-np.minimum(vals, 0.5))
    if vals.size and float(vals[-1]) > 0.5:
        rest = math.fsum((vals[:-1] * mult[:-1]).tolist()) + (float(mult[-1]) - 1.0) * float(vals[-1])
        total = rest + float(vals[-1])  # the groups' sum (1 up to rounding)
        out[-1] = math.log(rest / total) if rest > 0 else -math.inf
    return out


def _logsumexp_rows(logs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log sum_i exp(logs[i, j])`` per column, ``-inf`` where every entry is."""
    top = np.max(logs, axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(top), safe + np.log(np.sum(np.exp(logs - safe), axis=0)), -np.inf)


#: Without replacement, ``1 - upsilon_n`` is summed exactly over the missing
#: classes' total size ``s <= N - n`` while ``N - n`` is at most this.
_NEAR_TOP_MAX = 256


def _hyper_tail_near_top(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``1 - upsilon_n`` without replacement for ``n`` close to ``N`` (``nan`` elsewhere).

    Only sets of classes of total size ``s <= N - n`` can be missing, so
    inclusion-exclusion is ``-sum_{s=1}^{N-n} a_s binom(N - n, s) / binom(N, s)``
    with ``a_s = [x^s] prod_c (1 - x^{n_c})`` (exact integers).  Used where
    ``N - n <= _NEAR_TOP_MAX`` and the sum is well conditioned (its terms
    are then at most 1e3 times the result).
    """
    N = prior.N
    assert N is not None
    out = np.full(n.shape, np.nan)
    gap = N - n
    use = (gap >= 0) & (gap <= _NEAR_TOP_MAX)
    if not np.any(use):
        return out
    D = int(gap[use].max())
    sizes, mult = prior.count_groups()
    if int(mult[sizes <= D].sum()) > 64:  # many small classes: not this regime
        return out
    coef = [0] * (D + 1)
    coef[0] = 1
    for m, k in zip(sizes.tolist(), mult.tolist(), strict=True):
        if m > D:
            continue
        factor = [0] * (D + 1)  # (1 - x^m)^k truncated
        for j in range(min(k, D // m) + 1):
            factor[j * m] = (-1) ** j * math.comb(k, j)
        new = [0] * (D + 1)
        for i, ci in enumerate(coef):
            if ci:
                for j in range(0, D + 1 - i, m):
                    if factor[j]:
                        new[i + j] += ci * factor[j]
        coef = new
    for idx in np.flatnonzero(use):
        g = int(gap[idx])
        terms = []
        ratio = 1.0
        for s_ in range(1, g + 1):
            ratio *= (g - s_ + 1) / (N - s_ + 1)
            if coef[s_]:
                terms.append(-float(coef[s_]) * ratio)
        tail = math.fsum(terms)
        if tail == 0.0 or math.fsum(abs(t) for t in terms) <= 1e3 * abs(tail):
            out[idx] = max(tail, 0.0)
    return out


def _upsilon_unique(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    return np.exp(_log_upsilon_unique(n, prior))


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------

@overload
def coverage_prob(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None,
                  include_anchor: bool = True) -> float: ...
@overload
def coverage_prob(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None,
                  include_anchor: bool = True) -> NDArray[np.float64]: ...
@overload
def coverage_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None,
                  include_anchor: bool = True) -> FloatOrArray: ...
def coverage_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None,
                  include_anchor: bool = True) -> FloatOrArray:
    r"""Coverage probability :math:`\upsilon_{K+1}` of NS21.

    The probability that the anchor's class and the classes of its ``K``
    negatives (``K + 1`` i.i.d. draws from the class prior; **the anchor is
    included**) contain all ``C`` classes: :math:`P(T \le K + 1)` for the coupon
    collector's completion time ``T`` (NS21, Section 4; :ref:`math-coverage`).

    Parameters
    ----------
    K : int or array_like of int
        Number of negative samples (>= 0).  Vectorised: an array gives an
        ndarray of the same shape.
    C : int or Prior, optional
        Number of classes, for the uniform prior :math:`\rho_c = 1/C`, or a
        :class:`~couponbound.Prior`.
    probs : array_like, optional
        Class probabilities (positive, summing to 1); ``C`` is their length.
    counts : array_like of int, optional
        Class counts (e.g. a data set's class histogram), normalised into the
        prior.  Required when ``replacement=False``.
    replacement : bool, optional
        ``True`` by default (or the :class:`~couponbound.Prior`'s own scheme).
        ``False``: the ``K + 1`` samples are drawn without replacement from a
        finite data set with class sizes ``counts`` (what a shuffled data
        loader does); the law is multivariate hypergeometric and the value is
        :math:`[x^n] \prod_c ((1 + x)^{n_c} - 1) / \binom{N}{n}`
        (:ref:`math-without-replacement`).
    include_anchor : bool, default True
        ``True``: ``K + 1`` draws (NS21's :math:`\upsilon_{K+1}`).  ``False``:
        ``K`` draws, :math:`P(T \le K)`.

    Returns
    -------
    float or ndarray
        A Python ``float`` for scalar ``K``, an ndarray for array ``K``;
        relative error below 1e-12 wherever float64 can hold the value (values
        below ~1e-308 underflow to 0.0; use :func:`log_coverage_prob`).  The
        exact value (a ``Fraction``) and an ``mpmath`` one are
        :func:`couponbound.exact.coverage_prob` and
        :func:`couponbound.exact.coverage_prob_mp`; the named approximations
        are in :mod:`couponbound.asymptotic`.

    Raises
    ------
    ValueError
        Negative or non-integer ``K``; ``C < 1``; invalid ``probs``/``counts``
        or ``C`` contradicting them; ``K + 1 > N`` without replacement.
    TypeError
        ``K`` or ``C`` of a non-numeric type; neither ``C`` nor a prior given.

    Notes
    -----
    The fast path never evaluates inclusion-exclusion where it cancels (for
    ``C = 100, K + 1 = 128`` the true value is 1.5036e-22 while naive float
    inclusion-exclusion returns about 4.5e-4, the value NS21 printed;
    :ref:`math-cancellation`).  It uses the exponential generating function's
    Cauchy integral on the saddle-point circle (all coefficients non-negative,
    hence no cancellation; :ref:`math-saddle`), and, for a uniform prior far
    enough in the right tail, inclusion-exclusion whose terms then decrease fast.

    References
    ----------
    NS21, Section 4 and Table 3; ER61; FGT92.

    Examples
    --------
    >>> from couponbound import Prior, coverage_prob
    >>> coverage_prob(31, 10)
    0.6909756324...
    >>> coverage_prob(127, 100)
    1.5036...e-22
    >>> coverage_prob([9, 31], 10)
    array([0.00036288, 0.69097563])
    >>> coverage_prob(5, counts=[3, 3, 2], replacement=False)  # 1 - 1/binom(8, 6)
    0.9642857142...
    >>> coverage_prob(5, Prior.from_counts([3, 3, 2], replacement=False))
    0.9642857142...
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return evaluate(_upsilon_unique, K, prior, include_anchor=include_anchor)


@overload
def log_coverage_prob(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                      counts: ArrayLike | None = None, replacement: bool | None = None,
                      include_anchor: bool = True) -> float: ...
@overload
def log_coverage_prob(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                      counts: ArrayLike | None = None, replacement: bool | None = None,
                      include_anchor: bool = True) -> NDArray[np.float64]: ...
@overload
def log_coverage_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                      counts: ArrayLike | None = None, replacement: bool | None = None,
                      include_anchor: bool = True) -> FloatOrArray: ...
def log_coverage_prob(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                      counts: ArrayLike | None = None, replacement: bool | None = None,
                      include_anchor: bool = True) -> FloatOrArray:
    r"""Natural logarithm of :math:`\upsilon_{K+1}`, finite far below 1e-300.

    Same arguments as :func:`coverage_prob`.  ``-inf`` where the coverage is
    exactly zero (fewer draws than classes).  The absolute error of the log is
    below ``1e-12 * max(1, |log upsilon|)``; :func:`couponbound.exact.log_coverage_prob_mp`
    gives it to any number of digits.

    Examples
    --------
    >>> from couponbound import log_coverage_prob
    >>> log_coverage_prob(1499, 1000)     # upsilon ~ 1e-154
    -355.34559426...
    >>> log_coverage_prob(1099, 1000)     # far below the float64 range
    -731.41869241...
    >>> log_coverage_prob(0, 3)
    -inf
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return evaluate(_log_cdf_unique, K, prior, include_anchor=include_anchor)


def _log_cdf_unique(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log upsilon_n`` with full relative accuracy also near ``upsilon = 1``:
    where ``1 - upsilon < _SF_FROM_CDF`` it is ``log1p(-(1 - upsilon))`` with the
    survival function (the long-tail engine already works this way)."""
    lu = _log_upsilon_unique(n, prior)
    if _engine_serves(prior, n):
        return lu
    near = (lu > math.log1p(-_SF_FROM_CDF)) & (lu < 0.0)
    if np.any(near):
        lu[near] = np.log1p(-np.exp(_log_sf_unique(n[near], prior)))
    return lu


# --------------------------------------------------------------------------
# completion time
# --------------------------------------------------------------------------

#: Where ``S1`` (the sum of the single-class miss probabilities) is below this,
#: ``1 - upsilon = S1`` to ``S1 / 2`` relative (Bonferroni, ``S2 <= S1^2 / 2``).
_S1_IS_TAIL = 1e-13


#: ``1 - upsilon`` at least this is taken as the complement of ``upsilon``.
_SF_FROM_CDF = 0.1
#: Below this ``S1``, ``1 - upsilon = S1 - S2`` to ``S1^2 / 6`` relative.
_S1_TWO_TERMS = 1e-6
#: ``S2`` sums over pairs of groups: used for at most this many groups.
_S2_MAX_GROUPS = 300


def _log_miss_two(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log S2``, ``S2 = sum_{c < d} P(classes c and d both missing from n draws)``."""
    if prior.replacement:
        vals, mult = _float_groups(prior)
    else:
        sizes, imult = prior.count_groups()
        vals, mult = sizes.astype(float), imult.astype(float)
    G = vals.size
    ii, jj = np.triu_indices(G)
    weight = np.where(ii == jj, mult[ii] * (mult[ii] - 1.0) / 2.0, mult[ii] * mult[jj])
    keep = weight > 0
    ii, jj, weight = ii[keep], jj[keep], weight[keep]
    if ii.size == 0:
        return np.full(n.shape, -np.inf)
    if prior.replacement:
        q = 1.0 - vals[ii] - vals[jj]  # the pair's miss probability per draw
        with np.errstate(divide="ignore"):
            logs = np.log(weight)[:, None] + n.astype(float)[None, :] * np.where(
                q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)[:, None]
        logs = np.where(q[:, None] > 0, logs, -np.inf)
    else:
        assert prior.N is not None
        pair = (prior.count_groups()[0][ii] + prior.count_groups()[0][jj]).astype(np.int64)
        logs = np.log(weight)[:, None] + _saddle.log_hyper_miss(prior.N, pair, n)
    return _logsumexp_rows(logs)


def _log_sf_unique(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """log(1 - upsilon_n) without cancellation near upsilon = 1, for every prior."""
    if prior.C == 2:
        out2 = np.zeros(n.shape)
        two = n >= 2
        if prior.N is not None and not prior.replacement:
            out2[n >= prior.N] = -np.inf
            two &= n < prior.N
        if np.any(two):
            out2[two] = _log_two_classes(n[two], prior)[1]
        return out2
    lu = _log_upsilon_unique(n, prior)
    out = np.empty(n.shape)
    # upsilon is accurate to a few eps relative, so 1 - upsilon is good to ~1e-14
    # while >= _SF_FROM_CDF; below, the right tail is computed directly
    lo = lu < math.log1p(-_SF_FROM_CDF)
    out[lo] = np.log(-np.expm1(lu[lo]))
    hi = ~lo
    if not np.any(hi):
        return out
    C = prior.C
    top = prior.N if not prior.replacement else None
    if C == 1 or top is not None:
        done = n >= (1 if C == 1 or top is None else top)
        out[hi & done] = -np.inf
        hi &= ~done
    nf = n.astype(float)
    if np.any(hi) and prior.replacement and prior.is_uniform:
        t1 = _uniform_t1(nf, C)
        ie = hi & (t1 <= _IE_T1_MAX)
        if np.any(ie):
            log_t1, ssum = _uniform_ie_tail(nf[ie], C)
            out[ie] = log_t1 + np.log(ssum)
        hi &= ~ie
    _fill_engine_and_top(n, hi, out, prior, miss=True)
    if np.any(hi):
        base = np.flatnonzero(hi)  # positions of n[hi], fixed before hi changes
        log_s1 = _log_miss_one(n[hi], prior)
        tiny = log_s1 < math.log(_S1_IS_TAIL)
        if np.any(tiny):
            idx = base[tiny]
            out[idx] = log_s1[tiny]
            hi[idx] = False
        two = ~tiny & (log_s1 < math.log(_S1_TWO_TERMS))
        groups = (prior.groups() if prior.replacement else prior.count_groups())[0].size
        if np.any(two) and groups <= _S2_MAX_GROUPS:
            idx = base[two]
            # S1 - S2 <= 1 - upsilon <= S1 - S2 + S3, S3 <= S1^3 / 6
            log_s2 = _log_miss_two(n[idx], prior)
            out[idx] = log_s1[two] + np.log1p(-np.exp(log_s2 - log_s1[two]))
            hi[idx] = False
    if np.any(hi) and prior.replacement:
        # non-uniform (a uniform prior with 1 - upsilon < 0.1 has S1 <= -log 0.9 < 3,
        # served above): the long-tail engine's right-tail integral, a node count
        # set by the accuracy, any number of groups
        out[hi] = _longtail.log_miss_many(n[hi], *_longtail_args(prior))
        hi[:] = False
    if np.any(hi):
        sizes, size_mult = prior.count_groups()
        gf = _saddle.ogf_tail(sizes.astype(float), size_mult.astype(float))
        res = _saddle.log_coefficients(gf, n[hi])
        bad = ~np.isfinite(res)
        if np.any(bad):  # fall back to the (less accurate) complement
            res[bad] = np.log(-np.expm1(lu[hi][bad]))
        out[hi] = res
    return out


def _logpmf_unique(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log P(T = n)``; positive-term formula, no differencing of the cdf."""
    # T = n  <=>  the first n-1 draws cover exactly C-1 classes (missing c)
    # and draw n is c:  P = sum_c rho_c (1-rho_c)^{n-1} upsilon_{n-1}(prior without c)
    C = prior.C
    if C == 1:
        return np.where(n == 1, 0.0, -np.inf)
    m = n - 1
    valid = m >= C - 1
    out = np.full(n.shape, -np.inf)
    if not np.any(valid):
        return out
    mv = m[valid]
    if not prior.replacement:
        out[valid] = _logpmf_without(mv, prior)
        return out
    if prior.is_uniform:
        out[valid] = mv * math.log1p(-1.0 / C) + _log_upsilon_unique(mv, Prior.uniform(C - 1))
        return out
    if _engine_serves(prior, mv):
        # one Cauchy integral of a positive series per value, O(G) (not one per class)
        out[valid] = _longtail.log_pmf_many(n[valid], *_longtail_args(prior))
    else:
        out[valid] = _logpmf_by_classes(mv, prior)
    return out


def _logpmf_by_classes(mv: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log P(T = m + 1)`` as ``sum_c p_c (1 - p_c)^m upsilon_m(prior without c)``:
    one coverage evaluation per distinct probability (for few groups)."""
    vals, mult = prior.groups()
    parts = []
    p_all = prior.probs
    for pg, kg in zip(vals, mult.astype(np.float64), strict=True):
        sub = _reduced_prior(prior, pg)
        # log(1 - p_g) from the other classes' mass: exact even where p_g rounds to 1
        log_q = math.log(math.fsum(p_all[p_all != pg]) + (kg - 1.0) * pg)
        parts.append(math.log(kg * pg) + mv * log_q + _log_upsilon_unique(mv, sub))
    return _logsumexp_rows(np.stack(parts))


def _logpmf_without(mv: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log P(T = m + 1)`` without replacement (``m >= C - 1``, ``C >= 2``), from positive terms.

    ``P(T = C) = upsilon_C``, ``P(T = N - n_min + 1) = k_min / binom(N, n_min)``
    (a class of the smallest size at the end); in between, one Cauchy integral of
    the polynomial :func:`couponbound._saddle.ogf_completion_pmf` on the saddle
    circle per band of values, and where that fails the sum over classes of
    :func:`_logpmf_by_sizes`.
    """
    N = prior.N
    assert N is not None
    sizes, mult = prior.count_groups()
    top = N - int(sizes[0])
    out = np.full(mv.shape, -np.inf)
    low = mv == prior.C - 1
    if np.any(low):  # P(T = C) = upsilon_C (exactly 1 when every class has one sample)
        out[low] = float(_log_upsilon_unique(np.array([prior.C], dtype=np.int64), prior)[0])
    at_top = (mv == top) & ~low
    if np.any(at_top):
        out[at_top] = math.log(int(mult[0])) + float(_saddle.log_hyper_miss(  # 1/binom(N, n_min)
            N, np.array([int(sizes[0])], dtype=np.int64),
            np.array([N - int(sizes[0])], dtype=np.int64))[0, 0])
    mid = (mv > prior.C - 1) & (mv < top)
    if np.any(mid):
        gf = _saddle.ogf_completion_pmf(sizes.astype(float), mult.astype(float))
        res = _saddle.log_coefficients(gf, mv[mid])
        bad = ~np.isfinite(res)
        if np.any(bad):
            res[bad] = _logpmf_by_sizes(mv[mid][bad], prior)
        out[mid] = res
    return out


def _logpmf_by_sizes(mv: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``log P(T = m + 1)`` without replacement as a sum over the class sizes.

    ``T = m + 1`` when the first ``m`` samples of the permutation miss exactly
    one class ``c`` and sample ``m + 1`` is of class ``c``:
    ``sum_c n_c / (N - m) * binom(N - n_c, m) / binom(N, m) * upsilon_m(the other classes)``,
    the last factor the without-replacement coverage of the data set without
    class ``c`` (one evaluation per distinct class size).
    """
    N = prior.N
    assert N is not None and prior.counts is not None
    sizes, mult = prior.count_groups()
    counts = list(prior.counts)
    parts = []
    for size, k in zip(sizes.tolist(), mult.tolist(), strict=True):
        part = np.full(mv.shape, -np.inf)
        ok = mv <= N - size  # the first m samples avoid class c
        if np.any(ok):
            rest = counts.copy()
            rest.remove(size)
            sub = Prior.from_counts(rest, replacement=False)
            mo = mv[ok]
            log_miss = _saddle.log_hyper_miss(N, np.array([size], dtype=np.int64), mo)[0]
            part[ok] = (math.log(k * size) - np.log((N - mo).astype(float)) + log_miss
                        + _log_upsilon_unique(mo, sub))
        parts.append(part)
    return _logsumexp_rows(np.stack(parts))


def _reduced_prior(prior: Prior, group_value: float) -> Prior:
    """The prior with one class of the given probability removed, renormalised."""
    p = prior.probs
    idx = int(np.flatnonzero(p == group_value)[0])
    rest = np.delete(p, idx)
    return Prior.from_probs(rest / rest.sum())


def _exp_of(kernel: Any) -> Any:
    return lambda n, prior: np.exp(kernel(n, prior))


@dataclass(frozen=True)
class CompletionTime:
    r"""Distribution of the coupon collector's completion time ``T``.

    ``T`` is the number of i.i.d. draws from the class prior until every class
    has appeared (:ref:`math-completion-time`), so ``cdf(n)`` :math:`= P(T \le n)` is
    NS21's :math:`\upsilon_n` and ``K + 1`` draws (anchor + ``K`` negatives)
    cover all classes with probability ``cdf(K + 1)``.  Modelled on a frozen
    ``scipy.stats`` distribution: ``pmf, cdf, sf, logpmf, logcdf, logsf, ppf,
    mean, var, std, median, rvs``; the functions of ``n`` return a Python
    ``float`` for a scalar and an ndarray for an array.  Create it with
    :func:`completion_time`.

    Examples
    --------
    >>> from couponbound import completion_time
    >>> T = completion_time(10)
    >>> T
    CompletionTime(Prior.uniform(10))
    >>> T.mean()
    29.289682539682538
    >>> T.cdf(32)
    0.6909756324...
    >>> T.ppf(0.99)
    66
    """

    prior: Prior

    def __post_init__(self) -> None:
        if not isinstance(self.prior, Prior):
            raise TypeError("build a CompletionTime with completion_time(C or Prior, ...)")

    @property
    def C(self) -> int:
        """Number of classes."""
        return self.prior.C

    def __repr__(self) -> str:
        return f"CompletionTime({self.prior!r})"

    def _repr_html_(self) -> str:  # notebooks: prior, mean, std and quantiles
        return _display.completion_time_html(self)

    def _repr_markdown_(self) -> str:
        return _display.completion_time_markdown(self)

    def _apply(self, n: Any, kernel: Any) -> FloatOrArray:
        arr = np.asarray(n)
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.any(arr != np.floor(arr)):
            # scipy convention: a discrete cdf is a step function
            n = np.floor(arr) if arr.ndim else float(np.floor(arr))
        return evaluate(kernel, n, self.prior, include_anchor=False, name="n")

    @overload
    def logcdf(self, n: ScalarIn) -> float: ...
    @overload
    def logcdf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def logcdf(self, n: ArrayLike) -> FloatOrArray: ...
    def logcdf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`\\log P(T \\le n)`, with full relative accuracy also near 0."""
        return self._apply(n, _log_cdf_unique)

    @overload
    def cdf(self, n: ScalarIn) -> float: ...
    @overload
    def cdf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def cdf(self, n: ArrayLike) -> FloatOrArray: ...
    def cdf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`P(T \\le n)`, NS21's :math:`\\upsilon_n`."""
        return self._apply(n, _upsilon_unique)

    @overload
    def logsf(self, n: ScalarIn) -> float: ...
    @overload
    def logsf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def logsf(self, n: ArrayLike) -> FloatOrArray: ...
    def logsf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`\\log P(T > n)`, accurate in the far right tail."""
        return self._apply(n, _log_sf_unique)

    @overload
    def sf(self, n: ScalarIn) -> float: ...
    @overload
    def sf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def sf(self, n: ArrayLike) -> FloatOrArray: ...
    def sf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`P(T > n) = 1 - \\upsilon_n`, without cancellation near 1."""
        return self._apply(n, _exp_of(_log_sf_unique))

    def _apply_pmf(self, n: Any, log: bool) -> FloatOrArray:
        arr = np.asarray(n)
        kernel = _logpmf_unique if log else _exp_of(_logpmf_unique)
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.any(arr != np.floor(arr)):
            # scipy convention: a discrete pmf is zero off the integers
            off = arr != np.floor(arr)
            vals = np.asarray(evaluate(kernel, np.floor(arr), self.prior, include_anchor=False,
                                       name="n"), dtype=np.float64)
            vals = np.where(off, -np.inf if log else 0.0, vals)
            return float(vals) if arr.ndim == 0 else vals
        return evaluate(kernel, n, self.prior, include_anchor=False, name="n")

    @overload
    def logpmf(self, n: ScalarIn) -> float: ...
    @overload
    def logpmf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def logpmf(self, n: ArrayLike) -> FloatOrArray: ...
    def logpmf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`\\log P(T = n)`; positive-term formula, no differencing of the cdf."""
        return self._apply_pmf(n, log=True)

    @overload
    def pmf(self, n: ScalarIn) -> float: ...
    @overload
    def pmf(self, n: ArrayIn) -> NDArray[np.float64]: ...
    @overload
    def pmf(self, n: ArrayLike) -> FloatOrArray: ...
    def pmf(self, n: ArrayLike) -> FloatOrArray:
        """:math:`P(T = n)`, ``0`` off the integers (exactly:
        :func:`couponbound.exact.completion_time_pmf`).

        Computed from positive terms (no difference of the cdf): with replacement
        :math:`P(T = n) = \\sum_c \\rho_c (1 - \\rho_c)^{n-1} \\upsilon_{n-1}^{(-c)}`
        and without replacement :math:`\\sum_c \\frac{n_c}{N - n + 1}
        \\frac{\\binom{N - n_c}{n - 1}}{\\binom{N}{n - 1}} \\upsilon_{n-1}^{(-c)}`, where
        :math:`\\upsilon^{(-c)}` is the coverage of the other classes.
        """
        return self._apply_pmf(n, log=False)

    @overload
    def ppf(self, q: float | np.floating[Any]) -> int: ...
    @overload
    def ppf(self, q: ArrayIn) -> NDArray[np.int64]: ...
    @overload
    def ppf(self, q: ArrayLike) -> int | NDArray[np.int64]: ...
    def ppf(self, q: ArrayLike) -> int | NDArray[np.int64]:
        """Smallest ``n`` with ``cdf(n) >= q`` (``q`` in (0, 1)); an int for scalar ``q``."""
        arr, _ = check_probability_array(q, "q")
        flat = arr.ravel()
        res = np.empty(flat.shape, dtype=np.int64)
        for i, qi in enumerate(flat):
            res[i] = _smallest_n(self.prior, float(qi))
        return int(res[0]) if arr.ndim == 0 else res.reshape(arr.shape)

    def median(self) -> int:
        """The median, ``ppf(0.5)``."""
        return int(self.ppf(0.5))

    @cached_property
    def _moments(self) -> tuple[float, float]:
        return _moments(self.prior)

    def mean(self) -> float:
        """:math:`E[T]` (NS21's :math:`E[K + 1]`); see :func:`expected_draws` (computed once)."""
        return self._moments[0]

    def var(self) -> float:
        """:math:`\\mathrm{Var}[T]` (computed once; ``inf`` beyond the float range)."""
        return self._moments[1]

    def std(self) -> float:
        """Standard deviation of ``T``."""
        return math.sqrt(self.var())

    def support(self) -> tuple[int, float]:
        """``(C, inf)``; without replacement :math:`(C, N - \\min_c n_c + 1)` (the rarest
        class's samples all at the end of the permutation)."""
        if not self.prior.replacement:
            assert self.prior.N is not None and self.prior.counts is not None
            return self.C, float(self.prior.N - min(self.prior.counts) + 1)
        return self.C, math.inf

    def _rvs_without(self, rng: np.random.Generator, total: int) -> NDArray[np.int64]:
        """Completion times of random permutations, ``O(C)`` per sample.

        Give every sample an independent uniform arrival time; a class of
        ``n_c`` samples first arrives at ``M_c = 1 - V^{1/n_c}`` (the minimum of
        ``n_c`` uniforms), its other samples are uniform on ``(M_c, 1)``, and
        the collection ends at ``tau = max_c M_c``.  So ``T = C + sum_c
        Binomial(n_c - 1, (tau - M_c)/(1 - M_c))``: the first arrivals plus the
        later samples that arrive before ``tau`` (none for the last class).
        """
        assert self.prior.counts is not None
        n_c = np.asarray(self.prior.counts, dtype=np.int64)
        C = self.C
        out = np.empty(total, dtype=np.int64)
        chunk = max(1, 2_000_000 // C)
        for lo in range(0, total, chunk):
            m = min(chunk, total - lo)
            first = -np.expm1(np.log(rng.random(size=(m, C))) / n_c[None, :])
            tau = first.max(axis=1, keepdims=True)
            frac = np.clip((tau - first) / (1.0 - first), 0.0, 1.0)
            out[lo:lo + m] = C + rng.binomial(n_c[None, :] - 1, frac).sum(axis=1)
        return out

    def rvs(self, size: int | tuple[int, ...] | None = None,
            random_state: Any = None) -> int | NDArray[np.int64]:
        """Random completion times (exact simulation).

        Uniform prior: a sum of independent geometric variables
        (:ref:`math-completion-time`).  Non-uniform: Poisson embedding, the
        first arrival of class ``c`` at rate ``rho_c``, the last class's arrival
        ending the collection and the other classes' later arrivals Poisson.
        Without replacement: random permutations of the data set, summarised
        per class by uniform arrival times (``O(C)`` per sample, not ``O(N)``).
        """
        checked = check_size(size, "size")
        if self.C > _RVS_MAX_C:
            raise ValueError(
                f"rvs: C = {self.C} classes is above the limit C <= {_RVS_MAX_C:.0e} (exact "
                "simulation draws every class's waiting time, O(C) work and memory per "
                "sample); for such C, ER61's limit law is couponbound.asymptotic.gumbel_coverage")
        rng = np.random.default_rng(random_state)
        shape = () if checked is None else checked
        total = int(np.prod(shape)) if shape else 1
        C = self.C
        if not self.prior.replacement:
            out = self._rvs_without(rng, total)
        elif self.prior.is_uniform:
            pj = (C - np.arange(C)) / C
            out = np.zeros(total, dtype=np.int64)
            for lo in range(0, C, 4096):
                out += rng.geometric(pj[lo:lo + 4096][None, :], size=(total, min(4096, C - lo))).sum(axis=1)
        else:
            p = self.prior.probs
            out = np.empty(total, dtype=np.int64)
            chunk = max(1, 2_000_000 // C)
            for lo in range(0, total, chunk):
                m = min(chunk, total - lo)
                first = rng.exponential(size=(m, C)) / p[None, :]
                t_end = first.max(axis=1)
                lam = ((t_end[:, None] - first) * p[None, :]).sum(axis=1)
                if np.any(lam > _RVS_MAX):
                    raise ValueError(
                        f"rvs: this prior's completion times exceed {_RVS_MAX:.0e} draws "
                        f"(smallest probability {float(p.min())!r}), beyond exact simulation; "
                        "use cdf/sf/ppf instead")
                out[lo:lo + m] = C + rng.poisson(lam)
        return int(out[0]) if not shape else out.reshape(shape)


def completion_time(C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                    counts: ArrayLike | None = None,
                    replacement: bool | None = None) -> CompletionTime:
    r"""The completion time ``T`` of the coupon collector as a frozen distribution.

    Parameters
    ----------
    C : int or Prior, optional
        Number of classes (uniform prior), or a :class:`~couponbound.Prior`
        (with replacement: ``T`` counts independent draws).
    probs, counts : array_like, optional
        A non-uniform class prior (probabilities, or counts to normalise).
    replacement : bool, optional
        ``False``: draws without replacement from a data set of class sizes
        ``counts``: ``T`` is the position in a random permutation of the data
        set at which the last class first appears, :math:`C \le T \le N - \min_c n_c + 1`.

    Returns
    -------
    CompletionTime
        With ``pmf, cdf, sf, logpmf, logcdf, logsf, ppf, median, mean, var, std,
        rvs`` in ``scipy.stats`` style; ``cdf(K + 1) == coverage_prob(K, ...)``.

    Raises
    ------
    ValueError
        An invalid prior.

    Examples
    --------
    >>> from couponbound import completion_time
    >>> completion_time(100).mean()
    518.737751763962
    >>> completion_time(probs=[0.5, 0.25, 0.25]).cdf(3)   # 3! * 0.5 * 0.25 * 0.25
    0.1875...
    """
    return CompletionTime(as_prior(C, probs=probs, counts=counts, replacement=replacement))


#: Relative margin within which the float decision ``upsilon_n >= q`` (or
#: ``1 - upsilon_n <= 1 - q``) is re-checked in high precision.
_DECIDE_MARGIN = 1e-10
#: Largest number of draws required_negatives / ppf may answer (the K limit).
_MAX_DRAWS = 2**62


#: Largest inclusion-exclusion (distinct subset sums) evaluated at a boundary.
_DECIDE_MP_TERMS = 20_000
#: An exact tie ``upsilon_n == q`` is settled in rational arithmetic up to this ``n``.
_DECIDE_EXACT_MAX_N = 10_000


def _ie_terms(prior: Prior) -> int:
    """An upper bound on the number of distinct subset sums of the prior's weights."""
    if prior.replacement and prior.is_uniform:
        return prior.C + 1
    _, mult = prior.groups() if prior.replacement else prior.count_groups()
    bound = 1
    for k in mult.tolist():
        bound *= int(k) + 1
        if bound > 10**12:
            break
    if prior.counts is not None:
        bound = min(bound, int(sum(int(c) for c in prior.counts)) + 1)
    return bound


def _bonferroni_mp(n: int, prior: Prior, q: float) -> bool | None:
    """Decide ``upsilon_n >= q`` from ``1 - S1 <= upsilon_n <= 1 - S1 + S2`` in mpmath.

    ``S1``/``S2`` sum the miss probabilities of single classes / pairs
    (exact rational probabilities, 40 digits; ``S2`` only for at most
    ``_S2_MAX_GROUPS`` groups).  ``None`` when the bracket straddles ``q``.
    """
    import mpmath

    from ._combinatorics import prior_weights

    weights, total = prior_weights(prior)
    groups: dict[Any, int] = {}
    for w in weights:
        groups[w] = groups.get(w, 0) + 1
    items = list(groups.items())
    with mpmath.workdps(40):
        if prior.replacement:
            def mpf(x: Any) -> Any:  # a Fraction or an int, exactly to 40 digits
                return mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else mpmath.mpf(x)

            tot = mpf(total)

            def miss(w: Any) -> Any:
                return (1 - mpf(w) / tot) ** n
        else:
            N = int(total)
            lg = mpmath.loggamma
            base = lg(N + 1) - lg(N - n + 1)

            def miss(w: Any) -> Any:
                w = int(w)
                if N - w < n:
                    return mpmath.mpf(0)
                return mpmath.exp(lg(N - w + 1) - lg(N - w - n + 1) - base)

        s1 = mpmath.fsum(k * miss(w) for w, k in items)
        qm = mpmath.mpf(q)
        tol = mpmath.mpf(10) ** -30  # ties (upsilon_n == q) are left to exact arithmetic
        if 1 - s1 >= qm + tol:
            return True
        if len(items) > _S2_MAX_GROUPS:
            return None
        terms = []
        for i, (w, k) in enumerate(items):
            if k > 1:
                terms.append(k * (k - 1) / 2 * miss(2 * w))
            for w2, k2 in items[i + 1:]:
                terms.append(k * k2 * miss(w + w2))
        if 1 - s1 + mpmath.fsum(terms) < qm - tol:
            return False
        return None


def _smallest_n(prior: Prior, q: float) -> int:
    """Smallest number of draws n with upsilon_n >= q.

    Each step decides in float64, comparing ``log upsilon_n`` with ``log q``
    or, for ``q >= 1/2``, ``log(1 - upsilon_n)`` (the survival function,
    accurate down to 1e-300) with ``log(1 - q)``; only where the two are
    within a relative ``1e-10`` is the decision re-made in high precision
    (Bonferroni brackets in mpmath, then the exact inclusion-exclusion when
    it is small enough).
    """
    C = prior.C
    if C == 1:
        return 1
    if C > _SMALLEST_N_MAX_C:
        raise ValueError(
            f"required_negatives/ppf: C = {C} is above the limit C <= {_SMALLEST_N_MAX_C:.0e} "
            "(the answer, about C log C, must stay below 2**62 draws); "
            "use couponbound.asymptotic.gumbel_coverage for such C")
    use_sf = q >= 0.5
    target = math.log1p(-q) if use_sf else math.log(q)  # 1 - q is exact for q >= 1/2
    top = prior.N if not prior.replacement else None
    if top is None:
        # the rarest class alone must be seen: 1 - (1 - p_min)^n >= q
        p_min = float(prior.groups()[0][0])  # ascending; no C-length array for a uniform prior
        floor_n = math.log1p(-q) / math.log1p(-p_min) if p_min < 1 else 1.0
        if not floor_n <= _MAX_DRAWS:
            raise ValueError(
                f"required_negatives/ppf: the answer is at least {floor_n:.3g} draws (the rarest "
                f"class has probability {p_min:.3g}), above the limit 2**62; "
                "lower confidence or merge the rarest classes")

    if top is None and _use_longtail(prior):
        # many distinct probabilities: the engine's own search (union and product
        # bounds, then a safeguarded regula falsi), decided in float64; the
        # high-precision re-checks below have no exact form to fall back on here
        found = _longtail.required_draws(q, prior=_longtail_args(prior)[2])
        if found > _MAX_DRAWS:
            raise ValueError(
                "required_negatives/ppf: the answer is above the limit of 2**62 draws; "
                "lower confidence")
        return found

    def ok(n: int) -> bool:
        arr = np.array([n], dtype=np.int64)
        val = float((_log_sf_unique if use_sf else _log_upsilon_unique)(arr, prior)[0])
        if abs(val - target) < _DECIDE_MARGIN:  # too close to call in float64
            verdict = _bonferroni_mp(n, prior, q)
            if verdict is not None:
                return verdict
            if _ie_terms(prior) <= _DECIDE_MP_TERMS:
                import mpmath

                diff = _upsilon_mp(n, prior, 40) - mpmath.mpf(q)
                if abs(diff) > mpmath.mpf(10) ** -30 or n > _DECIDE_EXACT_MAX_N:
                    return bool(diff >= 0)
                from .exact import coverage_prob as exact_coverage

                return bool(exact_coverage(n, prior, include_anchor=False) >= Fraction(q))
            # inclusion-exclusion too large: keep the float decision (accurate to ~1e-12)
        return val <= target if use_sf else val >= target

    lo = C - 1  # upsilon_{C-1} = 0 < q
    hi = max(C, 2 * C)
    if top is not None:
        hi = min(hi, top)
    while not ok(hi):
        lo = hi
        if top is None and hi >= _MAX_DRAWS:
            raise ValueError(
                "required_negatives/ppf: the answer is above the limit of 2**62 draws; "
                "lower confidence")
        hi = min(hi * 2, _MAX_DRAWS) if top is None else min(hi * 2, top)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def required_negatives(C: int | Prior | None = None, *, confidence: float | None = None,
                       probs: ArrayLike | None = None, counts: ArrayLike | None = None,
                       replacement: bool | None = None, include_anchor: bool = True,
                       classes: int | None = None, expected: bool = False) -> int:
    """Smallest number of negatives ``K`` with :math:`\\upsilon_{K+1} \\ge` ``confidence``.

    "How many negatives do I need" (:ref:`math-required`): the batch then
    holds ``K + 1`` samples, anchor included.  Each step of the search is
    decided in float64 (on ``1 - upsilon`` for ``confidence >= 1/2``, so
    ``confidence = 1 - 1e-15`` is resolved), and in ``mpmath`` only when the
    float value is within a relative 1e-10 of the target.

    Parameters
    ----------
    C : int or Prior, optional
        Number of classes (uniform prior), or a :class:`~couponbound.Prior`.
    confidence : float, default 0.99
        Target coverage probability in (0, 1).
    probs, counts : array_like, optional
        A non-uniform prior; ``counts`` also serve ``replacement=False``.
    replacement : bool, optional
        ``True`` by default (or the Prior's own scheme).  ``False``: batches
        drawn without replacement from a data set of class sizes ``counts``.
    include_anchor : bool, default True
        Count the anchor among the draws (NS21's convention).
    classes : int, optional
        Partial coverage (:ref:`math-occupancy`): the smallest ``K`` whose
        batch holds at least ``classes`` distinct classes with probability
        ``>= confidence``, ``P(D >= classes) >= confidence``
        (:func:`~couponbound.distinct_classes`).  ``None`` (default) means
        every class, ``classes = C``: the coverage question above.
    expected : bool, default False
        With ``classes``: the smallest ``K`` with ``E[D] >= classes``
        (:func:`~couponbound.expected_classes`) instead; ``confidence`` must
        then not be given.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``confidence`` outside (0, 1), ``classes`` outside ``1..C``, or an
        invalid prior.

    Examples
    --------
    >>> from couponbound import required_negatives
    >>> required_negatives(10)
    65
    >>> required_negatives(100, confidence=0.5)
    496
    >>> required_negatives(100, classes=90)          # 90 of 100 classes, 99 % of batches
    291
    >>> required_negatives(100, classes=90, expected=True)
    229
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    anchor = check_flag(include_anchor, "include_anchor")
    if check_flag(expected, "expected"):
        if classes is None:
            raise ValueError("expected=True needs classes= (the number of distinct classes "
                             "whose expectation is to be reached)")
        if confidence is not None:
            raise ValueError(f"expected=True asks for E[D] >= classes; confidence = "
                             f"{confidence!r} does not apply (leave it out)")
    conf = check_probability(0.99 if confidence is None else confidence, "confidence")
    if classes is not None:
        m = validated_classes(classes, prior)
        want_mean = check_flag(expected, "expected")
        if m == prior.C and not want_mean:  # every class: the coverage question itself
            n = _smallest_n(prior, conf)
        else:
            n = smallest_draws_for_classes(
                prior, m, conf, want_mean,
                lambda k: float(_log_upsilon_unique(np.array([k], dtype=np.int64), prior)[0]))
    else:
        n = _smallest_n(prior, conf)
    return n - 1 if anchor else n


# --------------------------------------------------------------------------
# moments
# --------------------------------------------------------------------------

def _uniform_var(C: int) -> float:
    # in floats: beyond C ~ 1e154 the variance exceeds float64 and is inf
    c = float(C)
    h1, h2 = float(harmonic(C)), float(harmonic(C, order=2))
    return math.inf if c > 1e150 else c * c * h2 - c * h1


#: Moments of recent priors (a prior is immutable, so its moments never change).
_MOMENTS_CACHE: dict[Prior, tuple[float, float]] = {}


def _moments(prior: Prior) -> tuple[float, float]:
    """``(E[T], Var[T])``: closed forms for a uniform prior with replacement,
    else the long-tail engine's one-dimensional integrals
    (:func:`couponbound._longtail.completion_moments`, :ref:`math-completion-time`)."""
    if prior.replacement and prior.is_uniform:
        C = prior.C
        mean = float(C) * float(harmonic(C))  # inf beyond float64's range, not an error
        return mean, _uniform_var(C)
    hit = _MOMENTS_CACHE.get(prior)
    if hit is not None:
        return hit
    if prior.replacement:
        vals, mult = _float_groups(prior)
        pr = _LONGTAIL_CACHE.get(prior) if _use_longtail(prior) else None
        res = _longtail.completion_moments(pr if pr is not None else _longtail.LongTailPrior(vals, mult))
    else:
        sizes, mult = _float_groups(prior)
        res = _longtail.completion_moments(_longtail.LongTailPrior(sizes, mult), N=prior.N)
    if len(_MOMENTS_CACHE) >= 32:
        _MOMENTS_CACHE.clear()
    _MOMENTS_CACHE[prior] = res
    return res


def expected_draws(C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> float:
    r"""Expected completion time :math:`E[T]`: NS21's :math:`E[K + 1]` (Table 3).

    The expected number of draws, anchor included, until every class has been
    seen (:ref:`math-completion-time`); the expected number of negatives is one less.

    Parameters
    ----------
    C : int or Prior, optional
        Number of classes (uniform prior): :math:`E[T] = C H_C`; or a
        :class:`~couponbound.Prior`.
    probs, counts : array_like, optional
        A non-uniform prior: :math:`E[T] = \int_0^\infty (1 - \prod_c (1 - e^{-\rho_c t}))\,dt`
        (FGT92).
    replacement : bool, optional
        ``False``: draws without replacement from a data set of class sizes
        ``counts`` (a random permutation read until every class has appeared),
        :math:`E[T] = \sum_{n < N} (1 - \upsilon_n) = (N + 1) \int_0^1 (1 - \prod_c (1 - x^{n_c}))\,dx`.

    Returns
    -------
    float
        Relative error below 1e-12.  The integrals are evaluated by a
        trapezoidal rule in :math:`\log t` whose class sums use the long-tail
        engine's Chebyshev moments, about one pass over the classes.  The exact
        value, a ``Fraction``, is :func:`couponbound.exact.expected_draws`.

    Examples
    --------
    >>> from couponbound import expected_draws
    >>> expected_draws(10)
    29.289682539682538
    >>> round(expected_draws(probs=[0.5, 0.5]), 12)
    3.0
    >>> round(expected_draws(counts=[3, 3, 2], replacement=False), 12)   # 59/14
    4.214285714286
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return _moments(prior)[0]
