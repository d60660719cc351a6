r"""Exact (``Fraction``) and arbitrary-precision (``mpmath``) values: the oracles users can call.

The functions here carry the names of the float functions of
:mod:`couponbound.coverage` and :mod:`couponbound.collision`, take the same
prior arguments (an int ``C`` or a :class:`~couponbound.Prior`, or the
keyword sugar ``probs=``/``counts=``/``replacement=``) and a **scalar** ``K``:

coverage_prob
    :math:`\upsilon_{K+1}` as a :class:`fractions.Fraction`, by
    inclusion-exclusion over integers (:ref:`math-coverage`).
coverage_prob_mp, log_coverage_prob_mp
    :math:`\upsilon_{K+1}` and its log as ``mpmath.mpf`` correct to ``dps``
    significant digits (the working precision is raised until the
    cancellation of :ref:`math-cancellation` is paid for).
completion_time_pmf, expected_draws
    :math:`P(T = n)` and :math:`\mathbb{E}[T]` exactly (:ref:`math-completion-time`).
collision_prob, collision_pmf, expected_log_collision
    :math:`\tau_K` and the law of :math:`\mathrm{Col}` as Fractions, :math:`\mathbb{E}\ln(1+\mathrm{Col})` in
    mpmath (:ref:`math-collisions`).

Probabilities given as floats (``probs=``) are taken as the exact binary
fractions they are, renormalised; give integer ``counts=`` for exact
rational priors.  The cost grows with the number of distinct subset sums of
the prior: beyond ``2e6`` of them the functions refuse with a ``ValueError``
instead of running for hours.  The Fraction results also refuse, up front,
integers above 1e6 bits per term or 5e7 bits in all (for example
``coverage_prob(10**6, 10)``); the mpmath functions have no such limit.

Examples
--------
>>> from couponbound import exact
>>> exact.coverage_prob(3, 2)
Fraction(7, 8)
>>> exact.expected_draws(10)
Fraction(7381, 252)
>>> float(exact.coverage_prob_mp(127, 100, dps=20))
1.50362050781977...e-22
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from typing import Any

from numpy.typing import ArrayLike

from couponbound._combinatorics import MAX_SUBSET_TERMS, harmonic_fraction, prior_weights, subset_sums
from couponbound._prior import Prior, as_prior, require_replacement
from couponbound._validate import check_positive_int, short_repr
from couponbound._vectorize import draws

__all__ = [
    "collision_pmf",
    "collision_prob",
    "completion_time_pmf",
    "coverage_prob",
    "coverage_prob_mp",
    "expected_draws",
    "expected_log_collision",
    "log_coverage_prob_mp",
]

#: Default significant digits of the mpmath functions.
DEFAULT_DPS = 30
#: ``collision_pmf`` builds at most this many Fractions (their size grows with ``K``).
_MAX_PMF_TERMS = 20_000
#: ``expected_log_collision`` sums at most this many mpmath terms.
_MAX_MP_TERMS = 2_000_000


def _mp() -> Any:
    import mpmath

    return mpmath


def _one_n(K: Any, prior: Prior, include_anchor: Any = True, *, negatives_only: bool = False,
           name: str = "K") -> int:
    """The number of draws for a scalar ``K`` (validated; fits the data set without replacement).

    See :func:`couponbound._vectorize.draws` for ``negatives_only`` (collisions).
    """
    n, scalar = draws(K, prior, include_anchor=include_anchor, negatives_only=negatives_only,
                      name=name)
    if not scalar:
        raise TypeError(f"{name} must be a single integer in couponbound.exact (use the float "
                        f"functions for arrays), got {short_repr(K)}")
    return int(n)


#: Largest number of digits the mpmath functions accept (their cost grows faster
#: than linearly in the digits; beyond this a call would run for minutes).
MAX_DPS = 10_000


def _dps(dps: Any) -> int:
    digits = check_positive_int(dps, "dps")
    if digits > MAX_DPS:
        raise ValueError(f"dps must be at most {MAX_DPS}, got {short_repr(dps)}")
    return digits


def _log_comb(N: int, k: int) -> float:
    return math.lgamma(N + 1) - math.lgamma(k + 1) - math.lgamma(N - k + 1)


# --------------------------------------------------------------------------
# upsilon_n by inclusion-exclusion
# --------------------------------------------------------------------------

#: Exact (Fraction) results refuse integers above this many bits ...
_MAX_EXACT_BITS = 1_000_000
#: ... and sums whose terms hold more than this many bits in all.
_MAX_EXACT_TOTAL_BITS = 50_000_000


def _term_bits(n: int, prior: Prior) -> float:
    """About how many bits each inclusion-exclusion term of :math:`\\upsilon_n` holds."""
    if not prior.replacement:
        N = int(prior.N or 0)
        return (_log_comb(N, min(n, N)) + math.log(max(N, 2))) / math.log(2)
    weights, total = prior_weights(prior)
    if isinstance(total, int):
        return n * math.log2(max(total, 2))
    return n * max(math.log2(max(w.denominator, 2)) for w in weights)


def _check_exact_size(n: int, prior: Prior, func: str, terms: int) -> None:
    """Refuse, up front, an exact result whose integers would take minutes to build."""
    bits = _term_bits(n, prior)
    if bits > _MAX_EXACT_BITS or bits * terms > _MAX_EXACT_TOTAL_BITS:
        raise ValueError(
            f"exact.{func} with {n} draws needs {terms} rational terms of about {bits:.3g} bits "
            f"(limits {_MAX_EXACT_BITS:.0e} bits per term, {_MAX_EXACT_TOTAL_BITS:.0e} in all); "
            "use the mpmath functions in couponbound.exact (coverage_prob_mp) or the float ones")


def _upsilon_exact(n: int, prior: Prior, func: str = "coverage_prob") -> Fraction:
    C = prior.C
    if n < C:
        return Fraction(0)
    _check_exact_size(n, prior, func, C + 1 if prior.is_uniform else C)
    if prior.replacement and prior.is_uniform:
        s = sum((-1) ** i * math.comb(C, i) * (C - i) ** n for i in range(C + 1))
        return Fraction(s, C**n)
    weights, total = prior_weights(prior)
    poly = subset_sums(weights, max_terms=MAX_SUBSET_TERMS)
    if not prior.replacement:
        N = int(total)
        s = sum(a * math.comb(N - m, n) for m, a in poly.items() if N - m >= n)
        return Fraction(s, math.comb(N, n))
    if isinstance(total, int):
        s = sum(a * (total - m) ** n for m, a in poly.items())
        return Fraction(s, total**n)
    return sum((Fraction(a) * (1 - m) ** n for m, a in poly.items()), Fraction(0))


def _upsilon_mp(n: int, prior: Prior, dps: int) -> Any:
    """upsilon_n to ``dps`` significant digits by inclusion-exclusion in mpmath,
    the working precision raised until the cancellation is paid for."""
    mpmath = _mp()
    C = prior.C
    if n < C:
        return mpmath.mpf(0)
    items: list[tuple[int, Any]]
    if prior.replacement and prior.is_uniform:
        items = [((-1) ** i * math.comb(C, i), Fraction(C - i, C)) for i in range(C + 1)]
    else:
        weights, total = prior_weights(prior)
        poly = subset_sums(weights, max_terms=MAX_SUBSET_TERMS)
        if not prior.replacement:
            N = int(total)
            items = [(a, m) for m, a in poly.items() if N - m >= n]
        else:
            items = [(a, 1 - Fraction(m, 1) / total) for m, a in poly.items()]
    # magnitudes of the terms, in float logs, to set the precision
    N = prior.N or 0
    logs = []
    for a, b in items:
        if not prior.replacement:
            mag = math.log(abs(a)) + _log_comb(N - b, n) - _log_comb(N, n)
        else:
            mag = math.log(abs(a)) + (n * math.log(b) if b > 0 else -math.inf)
        logs.append(mag)
    log_max = max(logs)
    extra = 10
    guess_digits = 0.0
    while True:
        work = dps + extra + int(guess_digits) + int(max(log_max, 0) / math.log(10)) + 5
        with mpmath.workdps(work):
            cutoff = log_max - (work + 5) * math.log(10)
            acc = mpmath.mpf(0)
            abs_sum = mpmath.mpf(0)
            for (a, b), lg in zip(items, logs, strict=True):
                if lg < cutoff:
                    continue
                if not prior.replacement:
                    t = mpmath.mpf(a) * mpmath.binomial(N - b, n) / mpmath.binomial(N, n)
                else:
                    bb = mpmath.mpf(b.numerator) / b.denominator
                    t = mpmath.mpf(a) * bb**n
                acc += t
                abs_sum += abs(t)
            if acc <= 0:
                lost = float(work)
            else:
                lost = float(mpmath.log10(abs_sum / acc))
            if lost + dps + 5 <= work:
                with mpmath.workdps(dps):
                    return +acc
            guess_digits = lost + 5
            if work > 200_000:  # pragma: no cover - defensive
                raise RuntimeError("mpmath precision needed exceeds 200000 digits")


def coverage_prob(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None,
                  include_anchor: bool = True) -> Fraction:
    r"""NS21's :math:`\upsilon_{K+1}` as an exact :class:`fractions.Fraction`.

    Inclusion-exclusion over integers (:ref:`math-coverage`), grouped by equal
    class weights; without replacement the multivariate hypergeometric
    analogue ``sum_S (-1)^{|S|} binom(N - n(S), n) / binom(N, n)``
    (:ref:`math-without-replacement`).  Same arguments as
    :func:`couponbound.coverage_prob`, with a scalar ``K``.

    Raises
    ------
    TypeError, ValueError
        As :func:`couponbound.coverage_prob`; also an array ``K``, or a prior
        whose inclusion-exclusion needs more than 2e6 distinct subset sums.

    Examples
    --------
    >>> from couponbound import exact
    >>> exact.coverage_prob(3, 2)
    Fraction(7, 8)
    >>> exact.coverage_prob(5, counts=[3, 3, 2], replacement=False)   # 1 - 1/binom(8, 6)
    Fraction(27, 28)
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    return _upsilon_exact(_one_n(K, prior, include_anchor), prior)


def coverage_prob_mp(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, replacement: bool | None = None,
                     include_anchor: bool = True, dps: int = DEFAULT_DPS) -> Any:
    r""":math:`\upsilon_{K+1}` as an ``mpmath.mpf`` correct to ``dps`` significant digits.

    Inclusion-exclusion in mpmath, the working precision raised until the
    cancellation is paid for (:ref:`math-cancellation`).  Same arguments as
    :func:`couponbound.coverage_prob`, with a scalar ``K``.

    Examples
    --------
    >>> from couponbound import exact
    >>> print(exact.coverage_prob_mp(31, 10, dps=15))
    0.690975632446819
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    digits = _dps(dps)
    return _upsilon_mp(_one_n(K, prior, include_anchor), prior, digits)


def log_coverage_prob_mp(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                         counts: ArrayLike | None = None, replacement: bool | None = None,
                         include_anchor: bool = True, dps: int = DEFAULT_DPS) -> Any:
    r"""``log upsilon_{K+1}`` as an ``mpmath.mpf`` to ``dps`` digits (``-inf`` when it is 0).

    Examples
    --------
    >>> from couponbound import exact
    >>> print(exact.log_coverage_prob_mp(127, 100, dps=15))
    -50.2489961741082
    >>> exact.log_coverage_prob_mp(5, 10)
    mpf('-inf')
    """
    mpmath = _mp()
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    digits = _dps(dps)
    u = _upsilon_mp(_one_n(K, prior, include_anchor), prior, digits)
    with mpmath.workdps(digits):
        return mpmath.log(u) if u > 0 else mpmath.mpf("-inf")


# --------------------------------------------------------------------------
# completion time
# --------------------------------------------------------------------------

def completion_time_pmf(n: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                        counts: ArrayLike | None = None) -> Fraction:
    """:math:`P(T = n)` for the coupon collector's completion time, exactly.

    ``upsilon_n - upsilon_{n-1}`` in rational arithmetic (the float
    :meth:`couponbound.CompletionTime.pmf` uses a positive-term formula
    instead); independent draws only (:ref:`math-completion-time`).

    Examples
    --------
    >>> from couponbound import exact
    >>> exact.completion_time_pmf(3, 2)     # first two draws equal, third new
    Fraction(1, 4)
    """
    prior = as_prior(C, probs=probs, counts=counts)
    require_replacement(prior, "completion_time_pmf")
    m = _one_n(n, prior, False, name="n")
    prev = _upsilon_exact(m - 1, prior, "completion_time_pmf") if m > 0 else Fraction(0)
    return _upsilon_exact(m, prior, "completion_time_pmf") - prev


def expected_draws(C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None) -> Fraction:
    """:math:`\\mathbb{E}[T]` (NS21's ``E[K + 1]``) as an exact :class:`fractions.Fraction`.

    ``C H_C`` for the uniform prior, ``sum_{S != {}} (-1)^{|S|+1} / rho(S)``
    (FGT92) otherwise; see :ref:`math-completion-time`.

    Examples
    --------
    >>> from couponbound import exact
    >>> exact.expected_draws(2)
    Fraction(3, 1)
    >>> exact.expected_draws(counts=[1, 3])     # rho = (1/4, 3/4)
    Fraction(13, 3)
    """
    prior = as_prior(C, probs=probs, counts=counts)
    require_replacement(prior, "expected_draws")
    if prior.is_uniform:
        if prior.C > MAX_HARMONIC_C:
            raise ValueError(f"expected_draws: C = {prior.C} is above {MAX_HARMONIC_C} for an exact "
                             "harmonic number (about 1.44 C bits); couponbound.expected_draws gives "
                             "the float")
        return prior.C * harmonic_fraction(prior.C)
    weights, total = prior_weights(prior)
    poly = subset_sums(weights, max_terms=MAX_SUBSET_TERMS)
    # E[T] = sum_{S nonempty} (-1)^{|S|+1} / rho(S); poly holds prod_c (1 - x^{w_c})
    acc = Fraction(0)
    for s, a in poly.items():
        if s == 0:
            continue
        acc -= Fraction(a) / (Fraction(s) / total)
    return acc


# --------------------------------------------------------------------------
# collisions
# --------------------------------------------------------------------------

#: Largest uniform C whose exact harmonic number expected_draws builds.
MAX_HARMONIC_C = 20_000

def _fraction_groups(prior: Prior) -> list[tuple[Fraction, int]]:
    """Distinct exact class probabilities and how many classes share each."""
    if prior.is_uniform and prior.counts is None:  # no C-long list of equal fractions
        return [(Fraction(1, prior.C), prior.C)]
    groups: dict[Fraction, int] = {}
    for f in prior.fractions():
        groups[f] = groups.get(f, 0) + 1
    return sorted(groups.items())


def _size_groups(prior: Prior) -> tuple[int, list[tuple[int, int]]]:
    """``N`` and the distinct class sizes (ascending) with their multiplicities, as ints."""
    sizes, mult = prior.count_groups()
    return int(prior.N or 0), [(int(s), int(m)) for s, m in zip(sizes, mult, strict=True)]


def _check_terms(K: int, groups: int, func: str, limit: int) -> None:
    if (K + 1) * groups > limit:
        raise ValueError(
            f"{func} with K = {K} and {groups} distinct classes needs {(K + 1) * groups:.3g} "
            f"terms (more than {limit}); use the float function in couponbound.collision"
        )


def collision_prob(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                   counts: ArrayLike | None = None, replacement: bool | None = None) -> Fraction:
    r"""ARORA19's collision probability :math:`\tau_K = P(\mathrm{Col} \ge 1)` as a Fraction.

    ``1 - sum_c rho_c (1 - rho_c)^K`` with replacement; without replacement
    ``1 - sum_c (n_c / N) binom(N - n_c, K) / binom(N - 1, K)``
    (:ref:`math-collisions`).

    Examples
    --------
    >>> from couponbound import exact
    >>> exact.collision_prob(2, counts=[1, 3])
    Fraction(13, 16)
    >>> exact.collision_prob(1, counts=[2, 2], replacement=False)
    Fraction(1, 3)
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    k = _one_n(K, prior, negatives_only=True)
    _check_exact_size(k, prior, "collision_prob", prior.C)
    if not prior.replacement:
        assert prior.counts is not None
        N = sum(prior.counts)
        miss = sum((Fraction(n_c * math.comb(N - n_c, k), N) for n_c in prior.counts), Fraction(0))
        return 1 - miss / math.comb(N - 1, k)
    return 1 - sum((m * p * (1 - p) ** k for p, m in _fraction_groups(prior)), Fraction(0))


def _pmf_components(k: int, prior: Prior, func: str) -> list[tuple[Fraction, list[Fraction]]]:
    """``(weight, pmf)`` of :math:`\\mathrm{Col}` given the anchor's class group, exactly."""
    if not prior.replacement:
        N, sizes = _size_groups(prior)
        _check_terms(k, len(sizes), func, _MAX_PMF_TERMS)
        denom = math.comb(N - 1, k)
        return [(Fraction(mult * n_c, N),
                 [Fraction(math.comb(n_c - 1, m) * math.comb(N - n_c, k - m), denom)
                  for m in range(k + 1)])
                for n_c, mult in sizes]
    groups = _fraction_groups(prior)
    _check_terms(k, len(groups), func, _MAX_PMF_TERMS)
    return [(mult * p, [math.comb(k, m) * p**m * (1 - p) ** (k - m) for m in range(k + 1)])
            for p, mult in groups]


def collision_pmf(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, replacement: bool | None = None) -> list[Fraction]:
    r"""The law of :math:`\mathrm{Col}` exactly: entry ``m`` is :math:`P(\mathrm{Col} = m)`, ``m = 0..K``.

    A mixture over the anchor's class of ``Binomial(K, rho_c)`` (with
    replacement) or ``Hypergeom(N - 1, n_c - 1, K)`` (without);
    :ref:`math-collisions`.

    Examples
    --------
    >>> from couponbound import exact
    >>> exact.collision_pmf(2, 2)
    [Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)]
    """
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    k = _one_n(K, prior, negatives_only=True)
    out = [Fraction(0)] * (k + 1)
    for weight, pmf in _pmf_components(k, prior, "collision_pmf"):
        for m, pm in enumerate(pmf):
            out[m] += weight * pm
    return out


def _hyper_ratio(mpf: Any, k: int, a: int, b: int, m: int) -> Any:
    """``P(X = m + 1) / P(X = m)`` for ``X ~ Hypergeom(a + b, a, k)``."""
    return mpf((a - m) * (k - m)) / ((m + 1) * (b - k + m + 1))


def _binom_ratio(k: int, odds: Any, m: int) -> Any:
    """``P(X = m + 1) / P(X = m)`` for ``X ~ Binomial(k, p)``, ``odds = p / (1 - p)``."""
    return odds * (k - m) / (m + 1)


def expected_log_collision(K: int, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                           counts: ArrayLike | None = None, replacement: bool | None = None,
                           dps: int = DEFAULT_DPS) -> Any:
    r"""NS21's collision term :math:`\mathbb{E}\ln(1+\mathrm{Col})` as an ``mpmath.mpf`` to ``dps`` digits.

    ``sum_m P(Col = m) ln(1 + m)`` over the exact law of :math:`\mathrm{Col}`
    (:func:`collision_pmf`), every term evaluated in mpmath by the pmf's
    term-ratio recurrence; all terms are positive, so a few guard digits
    suffice (:ref:`math-collisions`).

    Examples
    --------
    >>> from couponbound import exact
    >>> print(exact.expected_log_collision(31, 10, dps=15))
    1.31688692576192
    >>> exact.expected_log_collision(3, counts=[2, 2], replacement=False, dps=15)
    mpf('0.693147180559945')
    """
    mpmath = _mp()
    prior = as_prior(C, probs=probs, counts=counts, replacement=replacement)
    digits = _dps(dps)
    k = _one_n(K, prior, negatives_only=True)
    if not prior.replacement:
        N, sizes = _size_groups(prior)
        groups: list[tuple[Fraction, int, int]] = [
            (Fraction(mult * n_c, N), n_c - 1, N - n_c) for n_c, mult in sizes]
    else:
        groups = [(mult * p, -1, -1) for p, mult in _fraction_groups(prior)]
        probs_of = [p for p, _ in _fraction_groups(prior)]
    _check_terms(k, len(groups), "expected_log_collision", _MAX_MP_TERMS)
    with mpmath.workdps(digits + 10 + len(str(k))):
        total = mpmath.mpf(0)
        for g, (weight, a, b) in enumerate(groups):
            ratio: Callable[[int], Any]
            if a >= 0:  # hypergeometric: Col ~ Hypergeom(N - 1, a, k)
                lo, hi = max(0, k - b), min(k, a)
                term = (mpmath.binomial(a, lo) * mpmath.binomial(b, k - lo)
                        / mpmath.binomial(a + b, k))
                ratio = partial(_hyper_ratio, mpmath.mpf, k, a, b)
            else:  # binomial: Col ~ Binomial(k, p)
                p = probs_of[g]
                if p == 1:
                    total += mpmath.log1p(k)
                    continue
                pm = mpmath.mpf(p.numerator) / p.denominator
                qm = mpmath.mpf(p.denominator - p.numerator) / p.denominator
                lo, hi = 0, k
                term = qm**k
                ratio = partial(_binom_ratio, k, pm / qm)
            acc = mpmath.mpf(0)
            for m in range(lo, hi + 1):
                acc += term * mpmath.log1p(m)
                if m < hi:
                    term *= ratio(m)
            total += mpmath.mpf(weight.numerator) / weight.denominator * acc
    with mpmath.workdps(digits):
        return +total
