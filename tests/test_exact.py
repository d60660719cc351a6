"""couponbound.exact and couponbound._combinatorics against independent oracles."""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import (
    expected_T_subsets,
    frac_log,
    hypergeometric_ie,
    subsets_ie,
    subsets_ie_probs,
    uniform_ie,
)

import couponbound._saddle as saddle
from couponbound import Prior, completion_time, coverage_prob, exact
from couponbound._combinatorics import harmonic, harmonic_fraction, subset_sums

# ---------------------------------------------------------------------------
# _combinatorics
# ---------------------------------------------------------------------------


def test_harmonic_numbers() -> None:
    for n in (0, 1, 2, 10, 1000):
        h = sum((Fraction(1, j) for j in range(1, n + 1)), Fraction(0))
        assert harmonic_fraction(n) == h
        # fsum of the rounded terms 1/j: within a few ulps of the exact value
        assert harmonic(n) == pytest.approx(float(h), rel=4e-16, abs=0)
        h2 = sum((Fraction(1, j * j) for j in range(1, n + 1)), Fraction(0))
        assert harmonic_fraction(n, order=2) == h2
        assert harmonic(n, order=2) == pytest.approx(float(h2), rel=4e-16, abs=0)
    # beyond 1e5: digamma(n + 1) + gamma, against mpmath
    n = 3 * 10**6
    with mpmath.workdps(30):
        assert harmonic(n) == pytest.approx(float(mpmath.harmonic(n)), rel=1e-15)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=0, max_size=9))
def test_subset_sums_brute_force(weights: list[int]) -> None:
    want: dict[int, int] = {}
    for r in range(len(weights) + 1):
        for S in combinations(weights, r):
            want[sum(S)] = want.get(sum(S), 0) + (-1) ** r
    assert subset_sums(weights) == {s: a for s, a in want.items() if a}


def test_subset_sums_fractions_and_guard() -> None:
    half = Fraction(1, 2)
    assert subset_sums([half, half]) == {0: 1, half: -2, 1: 1}
    with pytest.raises(ValueError, match=r"2\.1e\+06 subset sums \(more than 2000000\)"):
        subset_sums([Fraction(1, p) for p in range(2, 23)])
    with pytest.raises(ValueError, match="more than 10"):
        subset_sums([1, 2, 4, 8], max_terms=10)


# ---------------------------------------------------------------------------
# coverage
# ---------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 12), min_size=1, max_size=7), data=st.data())
def test_coverage_exact_against_oracles(counts: list[int], data: st.DataObject) -> None:
    K = data.draw(st.integers(0, 80), label="K")
    assert exact.coverage_prob(K, counts=counts) == subsets_ie(K + 1, counts)
    assert exact.coverage_prob(K, counts=counts, include_anchor=False) == subsets_ie(K, counts)
    Kw = data.draw(st.integers(0, sum(counts) - 1), label="K without replacement")
    assert exact.coverage_prob(Kw, counts=counts, replacement=False) == hypergeometric_ie(Kw + 1, counts)


def test_coverage_exact_uniform_and_probs() -> None:
    for C, K in [(1, 0), (2, 3), (10, 31), (100, 127)]:
        assert exact.coverage_prob(K, C) == uniform_ie(K + 1, C)
    probs = [0.1, 0.2, 0.3, 0.4]
    fr = [Fraction(p) for p in probs]
    fr = [f / sum(fr) for f in fr]
    assert exact.coverage_prob(9, probs=probs) == subsets_ie_probs(10, fr)


def test_coverage_mp_and_log() -> None:
    e = uniform_ie(128, 100)
    for dps in (15, 40, 80):
        m = exact.coverage_prob_mp(127, 100, dps=dps)
        assert isinstance(m, mpmath.mpf)
        with mpmath.workdps(dps + 20):
            ref = mpmath.mpf(e.numerator) / e.denominator
            assert abs(m / ref - 1) < mpmath.mpf(10) ** (1 - dps)
    assert float(exact.log_coverage_prob_mp(127, 100, dps=40)) == frac_log(e)
    assert exact.coverage_prob_mp(5, 10) == 0
    w = exact.coverage_prob_mp(5, counts=[3, 3, 2], replacement=False, dps=30)
    with mpmath.workdps(40):
        assert abs(w - mpmath.mpf(27) / 28) < mpmath.mpf(10) ** -29


def test_exact_is_scalar_and_validates() -> None:
    assert type(exact.coverage_prob(np.int64(3), 2)) is Fraction
    assert exact.coverage_prob(3.0, 2) == Fraction(7, 8)
    with pytest.raises(TypeError, match="single integer"):
        exact.coverage_prob([3, 4], 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="single integer"):
        exact.coverage_prob_mp(np.array([3]), 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="K"):
        exact.coverage_prob(-1, 2)
    with pytest.raises(ValueError, match="dps"):
        exact.coverage_prob_mp(3, 2, dps=0)
    with pytest.raises(TypeError, match="include_anchor"):
        exact.coverage_prob(3, 2, include_anchor="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="N = 5"):
        exact.coverage_prob(5, counts=[2, 3], replacement=False)
    # the up-front guard: 2^22 distinct subset sums of irregular float probabilities
    probs = np.random.default_rng(1).dirichlet(np.ones(22))
    with pytest.raises(ValueError, match="subset sums"):
        exact.coverage_prob(50, probs=probs)
    with pytest.raises(ValueError, match="subset sums"):
        exact.coverage_prob_mp(50, probs=probs)
    # ... which integer counts avoid: 40 classes, 2^40 subsets, 821 distinct sums
    counts = list(range(1, 41))
    assert exact.coverage_prob(100, counts=counts) > 0


# ---------------------------------------------------------------------------
# completion time
# ---------------------------------------------------------------------------


def test_completion_time_pmf_and_mean() -> None:
    for prior in (Prior.uniform(4), Prior.from_counts([1, 2, 3])):
        T = completion_time(prior)
        w = list(prior.counts) if prior.counts else [1] * prior.C
        total = Fraction(0)
        for n in range(0, 40):
            p = exact.completion_time_pmf(n, prior)
            assert p == subsets_ie(n, w) - (subsets_ie(n - 1, w) if n else 0)
            total += p
            if p:
                assert T.pmf(n) == pytest.approx(float(p), rel=1e-11)
        assert 1 - total == 1 - subsets_ie(39, w)
    assert exact.expected_draws(10) == 10 * harmonic_fraction(10)
    assert exact.expected_draws(counts=[5, 1, 1, 2]) == expected_T_subsets([5, 1, 1, 2])
    assert exact.expected_draws(probs=[0.25, 0.75]) == Fraction(13, 3)
    assert math.ceil(exact.expected_draws(3029)) == 26030  # NS21 Table 3


# ---------------------------------------------------------------------------
# the float fast path falls back to couponbound.exact
# ---------------------------------------------------------------------------


def test_float_path_falls_back_to_mpmath(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = [1, 2, 3, 10]
    K = np.array([5, 9, 20])
    want = [float(subsets_ie(int(k) + 1, counts)) for k in K]

    def broken(gf: object, targets: np.ndarray) -> np.ndarray:
        return np.full(targets.shape, np.nan)

    monkeypatch.setattr(saddle, "log_coefficients", broken)
    got = coverage_prob(K, counts=counts)
    np.testing.assert_allclose(got, want, rtol=1e-15)
    w = coverage_prob(8, counts=[3, 4, 5], replacement=False)
    assert w == pytest.approx(float(hypergeometric_ie(9, [3, 4, 5])), rel=1e-15)


def test_fraction_results_refuse_huge_integers_up_front() -> None:
    """issue 11: exact.* with astronomically many draws answered after minutes (or never)."""
    import time

    t0 = time.perf_counter()
    for call in (lambda: exact.coverage_prob(1_935_814_408, 2),
                 lambda: exact.coverage_prob(10**6, 10),
                 lambda: exact.completion_time_pmf(10**7, 3),
                 lambda: exact.collision_prob(10**12, counts=[3, 5, 7])):
        with pytest.raises(ValueError, match="bits"):
            call()
    assert time.perf_counter() - t0 < 1.0
    # just below the limit still answers, and agrees with mpmath
    got = exact.coverage_prob(10**5, 60)
    assert abs(float(got) - float(exact.coverage_prob_mp(10**5, 60))) < 1e-15
