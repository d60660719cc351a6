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

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from longtail_oracles import ztp_log_pmf_T

from couponbound import Prior, completion_time
from couponbound.coverage import _logpmf_by_classes


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
