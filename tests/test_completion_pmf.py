"""``CompletionTime.pmf`` / ``logpmf`` for priors with many distinct probabilities.

The long-tail engine computes ``P(T = n)`` as one Cauchy integral of a series
with non-negative coefficients (``couponbound._longtail.log_pmf_many``), O(G)
per value.  References, none of which uses that integral:

* exact zero-truncated-Poisson convolutions with one class left out at a time
  (``tests/longtail_oracles.ztp_log_pmf_T``, long double, no cancellation);
* the closed form ``P(T = C + 1) = C! prod_c p_c (C - 1) / 2`` (any prior);
* in the far right tail, a Bonferroni bracket in mpmath:
  ``sum_c p_c (1 - p_c)^{n-1} (1 - S1) <= P(T = n) <= sum_c p_c (1 - p_c)^{n-1}``;
* the laws ``sum_{C <= n <= M} P(T = n) = cdf(M)`` and ``sum_{n > M} P(T = n) = sf(M)``;
* the positive-term sum over classes ``sum_c p_c (1 - p_c)^{n-1} upsilon_{n-1}(prior
  without c)`` (``coverage._logpmf_by_classes``: one coverage integral per class).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from longtail_oracles import ztp_log_pmf_T
from oracles import frac_log, hyper_moments, hyper_pmf, permutation_pmf

from couponbound import Prior, completion_time, coverage_prob, expected_draws
from couponbound.coverage import _logpmf_by_classes, _logpmf_by_sizes


def zipf(C: int, s: float) -> np.ndarray:
    p = 1.0 / np.arange(1, C + 1) ** s
    return p / p.sum()


def mp_probs(p: np.ndarray) -> list[mpmath.mpf]:
    """The float probabilities as exact mpmath numbers, renormalised at high precision."""
    q = [mpmath.mpf(float(x)) for x in p]
    tot = mpmath.fsum(q)
    return [x / tot for x in q]


@pytest.mark.parametrize(("C", "s"), [(32, 1.1), (40, 1.5)])
@pytest.mark.parametrize("mult", [1, 3, 10])
def test_logpmf_against_ztp_convolution(C, s, mult):
    p = zipf(C, s)
    n = C + 1 if mult == 1 else mult * C
    want = ztp_log_pmf_T(n, list(p))
    got = completion_time(probs=p).logpmf(n)
    assert abs(got - float(want)) <= 1e-12 * max(1.0, abs(float(want)))


@pytest.mark.slow
@pytest.mark.parametrize(("C", "s", "n"), [(32, 1.5, 3200), (36, 0.5, 720)])
def test_logpmf_against_ztp_convolution_further(C, s, n):
    p = zipf(C, s)
    want = ztp_log_pmf_T(n, list(p))
    got = completion_time(probs=p).logpmf(n)
    assert abs(got - float(want)) <= 1e-12 * max(1.0, abs(float(want)))


@pytest.mark.parametrize("C", [40, 2000])
def test_first_value_after_the_minimum_closed_form(C):
    rng = np.random.default_rng(C)
    p = rng.dirichlet(np.full(C, 0.7))
    q = mp_probs(p)
    with mpmath.workdps(40):
        want = (mpmath.loggamma(C + 1) + mpmath.fsum(mpmath.log(x) for x in q)
                + mpmath.log(mpmath.mpf(C - 1) / 2))
    got = completion_time(probs=p).logpmf(C + 1)
    assert abs(got - float(want)) <= 1e-12 * abs(float(want))


def assert_far_tail(T, q: list[mpmath.mpf], n: int) -> None:
    """``first * (1 - S1) <= P(T = n) <= first`` with ``first = sum_c p_c (1 - p_c)^{n-1}``:
    where the bracket is narrower than 1e-13, ``logpmf(n)`` must match it to 1e-12."""
    first = mpmath.fsum(x * (1 - x) ** (n - 1) for x in q)
    s1 = mpmath.fsum((1 - x) ** (n - 1) for x in q)
    lo, hi = first * (1 - s1), first
    assert (hi - lo) / hi < 1e-13
    want = float(mpmath.log(hi))
    assert abs(T.logpmf(n) - want) <= 1e-12 * abs(want)


@pytest.mark.parametrize("s", [1.0, 1.5])
def test_far_right_tail_many_classes(s):
    C = 500
    p = zipf(C, s)
    q = mp_probs(p)
    T = completion_time(probs=p)
    with mpmath.workdps(40):
        for target in (1e-16, 1e-40, 1e-200):
            # n where S1 ~ target: (1 - p_min)^n ~ target
            assert_far_tail(T, q, int(math.log(target) / math.log1p(-float(p.min()))))


@pytest.mark.slow
def test_far_right_tail_dirichlet_1e5():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(100_000))
    T = completion_time(probs=p)
    order = np.argsort(p)[:50]  # only the rarest classes matter in the far tail
    with mpmath.workdps(40):
        q_all = mp_probs(p)
        q = [q_all[i] for i in order]
        assert_far_tail(T, q, int(math.log(1e-16) / math.log1p(-float(p.min()))))


@pytest.mark.slow
def test_pmf_sums_to_cdf_and_sf():
    C = 40
    p = zipf(C, 1.2)
    T = completion_time(probs=p)
    last = int(math.log(1e-19) / math.log1p(-float(p.min())))  # sf(last) < 1e-17
    n = np.arange(C, last + 1)
    pmf = T.pmf(n)
    for M in (300, 900, 2500):
        head = math.fsum(pmf[: M - C + 1].tolist())
        assert head == pytest.approx(T.cdf(M), rel=1e-12, abs=0)
        tail = math.fsum(pmf[M - C + 1:].tolist())
        assert tail == pytest.approx(T.sf(M), rel=1e-11, abs=0)
    assert T.sf(last) < 1e-17  # the truncated sum misses nothing visible


@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), G=st.integers(32, 48), alpha=st.sampled_from([0.3, 1.0, 3.0]),
       scale=st.sampled_from([1.0, 3.0, 30.0]))
def test_engine_agrees_with_the_sum_over_classes(seed, G, alpha, scale):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(G, alpha))
    prior = Prior.from_probs(p)
    n = np.array([G + 1, G + 2, int(scale * G * math.log(G)) + G])
    got = completion_time(prior).logpmf(n)
    want = _logpmf_by_classes(n - 1, prior)
    assert np.all(np.abs(got - want) <= 1e-11 * np.maximum(1.0, np.abs(want)))


def test_vectorised_equals_scalar():
    p = zipf(300, 1.1)
    T = completion_time(probs=p)
    n = np.array([301, 900, 3000, 12000, 60000])
    vec = T.logpmf(n)
    for ni, v in zip(n.tolist(), vec.tolist(), strict=True):
        assert v == T.logpmf(ni)


@pytest.mark.slow
def test_zipf_300_reproducer_against_the_sum_over_classes():
    """Issue 12 D8: 7.3 s per value at Zipf C = 300 with the per-class sum."""
    prior = Prior.from_probs(zipf(300, 1.1))
    n = np.array([3000, 60000])
    got = completion_time(prior).logpmf(n)
    want = _logpmf_by_classes(n - 1, prior)
    assert np.all(np.abs(got - want) <= 1e-11 * np.abs(want))


# --------------------------------------------------------------------------
# without replacement: T is the position in a random permutation of the data set
# at which the last class first appears (issue 18)
# --------------------------------------------------------------------------

WITHOUT_CASES = [[3, 3, 2], [1, 2, 3, 4], [5, 1, 1, 2], [1, 7, 7, 30, 2, 2], [4] * 6, [1, 40],
                 [9, 1, 12, 3, 3, 3, 5]]


def _rel(a: float, b: Fraction) -> float:
    return abs(a - float(b)) / float(b) if b else abs(a)


@pytest.mark.parametrize("counts", WITHOUT_CASES, ids=str)
def test_without_replacement_pmf_cdf_exact(counts):
    T = completion_time(counts=counts, replacement=False)
    N = sum(counts)
    want = hyper_pmf(counts)
    n = np.arange(N + 1)
    pmf = T.pmf(n)
    logpmf = T.logpmf(n)
    cdf = T.cdf(n)
    acc = Fraction(0)
    for j in range(N + 1):
        acc += want[j]
        assert _rel(pmf[j], want[j]) < 1e-12, (j, pmf[j], want[j])
        assert _rel(cdf[j], acc) < 1e-12
        if want[j]:
            assert logpmf[j] == pytest.approx(frac_log(want[j]), abs=1e-12 * max(1, abs(frac_log(want[j]))))
        else:
            assert logpmf[j] == -math.inf
    lo, hi = T.support()
    assert lo == min(j for j in range(N + 1) if want[j]) == len(counts)
    assert hi == max(j for j in range(N + 1) if want[j]) == N - min(counts) + 1
    assert math.fsum(pmf.tolist()) == pytest.approx(1.0, abs=1e-13)


@pytest.mark.parametrize("counts", [[3, 3, 2], [1, 2, 3], [2, 2, 1, 1, 1], [1, 1, 1, 1]], ids=str)
def test_without_replacement_against_permutations(counts):
    """Brute force over all N! orderings of the samples."""
    T = completion_time(Prior.from_counts(counts, replacement=False))
    law = permutation_pmf(counts)
    for t, prob in law.items():
        assert _rel(T.pmf(t), prob) < 1e-12
    mean = sum(t * prob for t, prob in law.items())
    var = sum(t * t * prob for t, prob in law.items()) - mean**2
    assert _rel(T.mean(), mean) < 1e-12
    assert _rel(T.var(), var) < 1e-12


@pytest.mark.parametrize("counts", WITHOUT_CASES, ids=str)
def test_without_replacement_moments_exact(counts):
    T = completion_time(counts=counts, replacement=False)
    law = hyper_pmf(counts)
    mean = sum(j * p for j, p in enumerate(law))
    var = sum(j * j * p for j, p in enumerate(law)) - mean**2
    m1, m2 = hyper_moments(counts)
    assert (m1, m2 - m1**2) == (mean, var)  # the two oracles agree exactly
    assert _rel(T.mean(), mean) < 1e-12
    assert _rel(expected_draws(counts=counts, replacement=False), mean) < 1e-12
    assert _rel(T.var(), var) < 1e-12
    assert T.std() == pytest.approx(math.sqrt(float(var)), rel=1e-12)
    # E[T] = sum_{n < N} (1 - upsilon_n)
    N = sum(counts)
    assert _rel(math.fsum(T.sf(np.arange(N)).tolist()), mean) < 1e-12


def test_without_replacement_cifar100_lt():
    """The command's case: CIFAR-100-LT (r = 100), N = 10847, against the exact moments."""
    counts = np.floor(500 * 100.0 ** (-np.arange(100) / 99)).astype(int).tolist()
    assert sum(counts) == 10847
    m1, m2 = hyper_moments(counts)
    prior = Prior.from_counts(counts, replacement=False)
    assert _rel(expected_draws(prior), m1) < 1e-12
    assert _rel(completion_time(prior).var(), m2 - m1 * m1) < 1e-12
    assert expected_draws(prior) < expected_draws(counts=counts)
    T = completion_time(prior)
    n = np.array([100, 4323, 7765, 10000, 10847 - 5 + 1])
    by_sizes = np.exp(_logpmf_by_sizes(n - 1, prior))
    np.testing.assert_allclose(T.pmf(n), by_sizes, rtol=1e-12, atol=0)


def test_without_replacement_huge_data_set():
    """Two classes, N = 10^12 + 1: E[T] = (N + 1)(1/2 + 1/(10^12 + 1) - 1/(N + 1))."""
    N = 10**12 + 1
    mean = (N + 1) * (Fraction(1, 2) + Fraction(1, 10**12 + 1) - Fraction(1, N + 1))
    assert _rel(expected_draws(counts=[1, 10**12], replacement=False), mean) < 1e-12


@settings(max_examples=40, deadline=None, derandomize=True)
@given(counts=st.lists(st.integers(1, 12), min_size=1, max_size=6))
def test_without_replacement_laws(counts):
    T = completion_time(counts=counts, replacement=False)
    lo, hi = T.support()
    n = np.arange(lo, int(hi) + 1)
    pmf = T.pmf(n)
    assert math.fsum(pmf.tolist()) == pytest.approx(1.0, abs=1e-12)
    assert T.mean() == pytest.approx(math.fsum((n * pmf).tolist()), rel=1e-11)
    assert T.mean() <= expected_draws(counts=counts) * (1 + 1e-12)
    np.testing.assert_allclose(T.cdf(n), coverage_prob(n, counts=counts, replacement=False,
                                                       include_anchor=False), rtol=1e-13, atol=0)
    # invariance to class order
    assert completion_time(counts=counts[::-1], replacement=False).mean() == pytest.approx(
        T.mean(), rel=1e-13)


def test_without_replacement_rvs():
    counts = [1, 7, 7, 30, 2, 2]
    T = completion_time(counts=counts, replacement=False)
    x = T.rvs(size=(400, 50), random_state=3)
    assert x.shape == (400, 50) and x.dtype == np.int64
    assert x.min() >= T.support()[0] and x.max() <= T.support()[1]
    se = math.sqrt(T.var() / x.size)
    assert abs(x.mean() - T.mean()) < 5 * se
    # the empirical law against the exact pmf (chi-square-like bound per value)
    law = hyper_pmf(counts)
    for t in (6, 20, 40):
        frac = float(np.mean(x == t))
        p = float(law[t])
        assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / x.size) + 1e-9
    assert isinstance(T.rvs(random_state=0), int)


def test_pmf_is_zero_off_the_integers():
    """Issue 20: completion_time(10).pmf(30.5) was pmf(30); scipy's convention is 0."""
    T = completion_time(10)
    assert T.pmf(30.5) == 0.0
    assert T.logpmf(30.5) == -math.inf
    got = T.pmf(np.array([30.0, 30.5, 31.0]))
    assert got[1] == 0.0 and got[0] == T.pmf(30) and got[2] == T.pmf(31)
    W = completion_time(counts=[3, 3, 2], replacement=False)
    assert W.pmf(4.5) == 0.0 and W.pmf(4.0) > 0


def test_without_replacement_nearly_all_singletons():
    """T = N for singletons only; with one pair, T = C exactly when the pair's other
    sample is last (probability 2/N).  P(T = C) = upsilon_C without cancellation."""
    T = completion_time(counts=[1] * 100_000, replacement=False)
    assert T.pmf(100_000) == 1.0 and T.pmf(99_999) == 0.0
    assert T.mean() == pytest.approx(100_000, rel=1e-14) and T.var() == pytest.approx(0.0, abs=1e-3)
    N = 100_001
    T = completion_time(counts=[1] * 99_999 + [2], replacement=False)
    got = T.pmf(np.array([100_000, 100_001]))
    assert got[0] == pytest.approx(2 / N, rel=1e-12)
    assert got[1] == pytest.approx(1 - 2 / N, rel=1e-12)
    assert T.mean() == pytest.approx(100_000 + 1 - 2 / N, rel=1e-14)
