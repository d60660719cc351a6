"""The number of distinct classes in a batch, against exact oracles and the laws it obeys."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import couponbound as cb
from couponbound import Prior
from tests import occupancy_oracles as oracle


def log_err(got: float, exact: Fraction) -> float:
    """Error of a log-probability against an exact positive fraction, relative to max(1, |log|)."""
    ref = float(mpmath.log(mpmath.mpf(exact.numerator) / exact.denominator)) if exact > 0 else -math.inf
    if ref == -math.inf:
        return 0.0 if got == -math.inf else math.inf
    return abs(got - ref) / max(1.0, abs(ref))


# --------------------------------------------------------------------------
# E[D]
# --------------------------------------------------------------------------

def test_expected_classes_against_fractions() -> None:
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(60):
        C = int(rng.integers(1, 12))
        w = [int(x) for x in rng.integers(1, 40, size=C)]
        N = sum(w)
        for rep in (True, False):
            n = int(rng.integers(0, N + 1)) if not rep else int(rng.integers(0, 400))
            got = cb.expected_classes(n, counts=w, replacement=rep, include_anchor=False)
            ex = oracle.expected_classes(n, counts=w, replacement=rep)
            worst = max(worst, abs(got - float(ex)) / max(float(ex), 1e-300))
    assert worst < 1e-13


def test_expected_classes_large_and_tiny() -> None:
    # uniform C = 10**6: C (1 - (1 - 1/C)^n) in 50 digits, from one draw to the far right tail
    mpmath.mp.dps = 50
    C = 10**6
    for n in (1, 2, 10, 1000, 10**6, 2 * 10**7):
        ref = C * (1 - (1 - mpmath.mpf(1) / C) ** n)
        got = cb.expected_classes(n - 1, C)
        assert abs(got - float(ref)) <= 1e-14 * float(ref)
    # a large data set, a tiny class: 1 - binom(N - 1, n) / binom(N, n) = n / N exactly
    counts = [1] + [10**6] * 5
    N = sum(counts)
    for n in (1, 7, 1000):
        ex = oracle.expected_classes(n, counts=counts, replacement=False)
        got = cb.expected_classes(n - 1, counts=counts, replacement=False)
        assert abs(got - float(ex)) <= 1e-14 * float(ex), (n, got, float(ex))
    assert cb.expected_classes(0, C) == 1.0
    assert cb.expected_classes(N - 1, counts=counts, replacement=False) == 6.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 30), min_size=1, max_size=8), st.booleans(),
       st.integers(0, 60))
def test_expected_classes_monotone_and_bounded(w: list[int], rep: bool, k: int) -> None:
    N = sum(w)
    ks = np.arange(0, (N if not rep else k + 40))
    e = cb.expected_classes(ks, counts=w, replacement=rep)
    assert np.all(np.diff(e) >= -1e-12 * e[1:])
    assert np.all(e >= 1.0 - 1e-14) and np.all(e <= len(w) * (1 + 1e-14))
    # order of the classes does not matter
    e2 = cb.expected_classes(ks, counts=w[::-1], replacement=rep)
    np.testing.assert_allclose(e, e2, rtol=1e-14)


# --------------------------------------------------------------------------
# the pmf against exact oracles
# --------------------------------------------------------------------------

def test_pmf_uniform_against_stirling() -> None:
    worst = 0.0
    for C in (1, 2, 3, 7, 10, 25):
        for n in (1, 2, 5, C, 2 * C + 3, 60):
            ex = oracle.uniform_pmf(n, C)
            D = cb.distinct_classes(n - 1, C)
            js = np.arange(0, C + 1)
            got = D.logpmf(js)
            for j in js:
                worst = max(worst, log_err(float(got[j]), ex[j]))
    assert worst < 1e-12


def test_pmf_weighted_against_exact_counting() -> None:
    rng = np.random.default_rng(5)
    worst = 0.0
    for _ in range(25):
        C = int(rng.integers(2, 7))
        w = [int(x) for x in rng.integers(1, 12, size=C)]
        n = int(rng.integers(1, 30))
        ex = oracle.weighted_pmf(w, n)
        got = cb.distinct_classes(n - 1, counts=w).logpmf(np.arange(C + 1))
        for j in range(C + 1):
            worst = max(worst, log_err(float(got[j]), ex[j]))
    assert worst < 1e-12


def test_pmf_without_replacement_against_exact_counting() -> None:
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(25):
        C = int(rng.integers(2, 8))
        counts = [int(x) for x in rng.integers(1, 10, size=C)]
        N = sum(counts)
        n = int(rng.integers(1, N + 1))
        ex = oracle.hypergeometric_pmf(counts, n)
        got = cb.distinct_classes(n - 1, counts=counts, replacement=False).logpmf(np.arange(C + 1))
        for j in range(C + 1):
            worst = max(worst, log_err(float(got[j]), ex[j]))
    assert worst < 1e-12


@pytest.mark.slow
def test_pmf_larger_priors_against_exact_counting() -> None:
    """Forty classes of two to nine samples (N ~ 200), batches across the whole range; far tails."""
    rng = np.random.default_rng(3)
    counts = [int(x) for x in rng.integers(2, 10, size=40)]
    N = sum(counts)
    worst = 0.0
    for n in (5, 30, N // 3, N // 2, N - 40):
        ex = oracle.hypergeometric_pmf(counts, n)
        got = cb.distinct_classes(n - 1, counts=counts, replacement=False).logpmf(np.arange(41))
        for j in range(41):
            worst = max(worst, log_err(float(got[j]), ex[j]))
    assert worst < 1e-12
    w = [int(x) for x in rng.integers(1, 6, size=14)]
    assert max(worst, _worst_weighted(w, (3, 14, 40, 70))) < 1e-12


def _worst_weighted(w: list[int], ns: tuple[int, ...]) -> float:
    """Worst log-pmf error, with replacement (``p_c = w_c / sum w``), against exact counting."""
    worst = 0.0
    for n in ns:
        ex = oracle.weighted_pmf(w, n)
        got = cb.distinct_classes(n - 1, counts=w).logpmf(np.arange(len(w) + 1))
        for j in range(len(w) + 1):
            worst = max(worst, log_err(float(got[j]), ex[j]))
    return worst


def test_uniform_large_C_closed_products() -> None:
    """C = 10**6: all distinct, and exactly one repeat, as products in 50 digits."""
    mpmath.mp.dps = 50
    C = 10**6
    for n in (10, 1000, 3000):
        D = cb.distinct_classes(n - 1, C)
        alld = mpmath.fprod([1 - mpmath.mpf(i) / C for i in range(n)])
        one = mpmath.binomial(n, 2) * mpmath.fprod([1 - mpmath.mpf(i) / C for i in range(n - 1)]) / C
        assert abs(D.logpmf(n) - float(mpmath.log(alld))) <= 1e-12 * max(1, abs(float(mpmath.log(alld))))
        assert abs(D.logpmf(n - 1) - float(mpmath.log(one))) <= 1e-12 * max(1, abs(float(mpmath.log(one))))


def test_equal_sizes_without_replacement_against_exact_counting() -> None:
    """Equal class sizes take the one-group path (no recursion)."""
    worst = 0.0
    for C, m in ((5, 4), (20, 3), (40, 7)):
        counts = [m] * C
        N = C * m
        for n in (2, N // 3, N // 2, N - m - 1):
            ex = oracle.hypergeometric_pmf(counts, n)
            got = cb.distinct_classes(n - 1, counts=counts, replacement=False).logpmf(np.arange(C + 1))
            for j in range(C + 1):
                worst = max(worst, log_err(float(got[j]), ex[j]))
    assert worst < 1e-12


@pytest.mark.parametrize("C, K", [(10**5, 3 * 10**5), (10**5, 2 * 10**4), (3000, 2999)])
def test_large_uniform_sums_to_one(C: int, K: int) -> None:
    """The window of a large uniform prior: total mass 1 and mean E[D] to 1e-12."""
    D = cb.distinct_classes(K, C)
    a, lp = D._window()
    w = np.exp(lp)
    assert abs(float(np.sum(w)) - 1.0) < 1e-12
    assert float(np.sum(np.arange(a, a + lp.size) * w)) == pytest.approx(D.mean(), rel=1e-12)
    assert float(np.sum((np.arange(a, a + lp.size) - D.mean()) ** 2 * w)) == pytest.approx(
        D.var(), rel=1e-9)


def test_pmf_at_C_is_coverage() -> None:
    for prior in (Prior.uniform(10), Prior.from_counts([5, 3, 2, 9]),
                  Prior.from_counts([5, 3, 2, 9], replacement=False),
                  Prior.from_probs(np.random.default_rng(1).dirichlet(np.ones(60)))):
        for K in (prior.C - 1, prior.C + 3, 3 * prior.C):
            if not prior.replacement and K + 1 > (prior.N or 0):
                continue
            D = cb.distinct_classes(K, prior)
            assert D.pmf(prior.C) == cb.coverage_prob(K, prior)
            assert D.sf(prior.C - 1) == pytest.approx(cb.coverage_prob(K, prior), rel=1e-13)


def test_moments_and_tails_against_oracle() -> None:
    counts = [4, 1, 7, 3, 3, 9]
    for rep in (True, False):
        for n in (2, 6, 15):
            ex = (oracle.weighted_pmf(counts, n) if rep
                  else oracle.hypergeometric_pmf(counts, n))
            D = cb.distinct_classes(n - 1, counts=counts, replacement=rep)
            mean = sum(j * p for j, p in enumerate(ex))
            var = sum((j - mean) ** 2 * p for j, p in enumerate(ex))
            assert D.mean() == pytest.approx(float(mean), rel=1e-13)
            assert D.var() == pytest.approx(float(var), rel=1e-10, abs=1e-13)
            for j in range(-1, 8):
                cdf = sum(ex[: max(0, min(j, 6) + 1)], Fraction(0))
                assert D.cdf(j) == pytest.approx(float(cdf), rel=1e-12, abs=1e-300)
                assert D.sf(j) == pytest.approx(float(1 - cdf), rel=1e-12, abs=1e-300)
            for q in (0.01, 0.3, 0.5, 0.77, 0.999):
                run = Fraction(0)
                j = 0
                for jj, p in enumerate(ex):
                    run += p
                    j = jj
                    if run >= Fraction(q):
                        break
                assert D.ppf(q) == j
                # isf(q): smallest j with P(D > j) <= q
                k = next(j for j in range(7) if 1 - sum(ex[: j + 1], Fraction(0)) <= Fraction(q))
                assert D.isf(q) == k


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 25), st.integers(1, 200_000), st.data())
def test_uniform_extremes_against_inclusion_exclusion(C: int, n: int, data) -> None:  # type: ignore[no-untyped-def]
    """Uniform priors from one draw to far beyond coverage, every j (60-digit oracle)."""
    mpmath.mp.dps = 60
    j = data.draw(st.integers(1, min(n, C)))
    ref = (mpmath.log(mpmath.binomial(C, j)) + n * mpmath.log(mpmath.mpf(j) / C)
           + mpmath.log(mpmath.fsum((-1) ** i * mpmath.binomial(j, i) * (1 - mpmath.mpf(i) / j) ** n
                                    for i in range(j + 1))))
    got = cb.distinct_classes(n - 1, C).logpmf(j)
    assert abs(got - float(ref)) <= 1e-12 * max(1.0, abs(float(ref)))


def _ie_log_pmf(probs: list[float], n: int) -> list[float]:
    """log P(D_n = j), j = 1..C, by inclusion-exclusion over subsets in 80 digits."""
    mpmath.mp.dps = 80
    pm = [mpmath.mpf(x) for x in probs]
    total = mpmath.fsum(pm)
    pm = [x / total for x in pm]
    C = len(pm)
    by_size: dict[int, list] = {}
    for mask in range(1, 1 << C):
        rho = mpmath.fsum(pm[i] for i in range(C) if mask >> i & 1)
        by_size.setdefault(bin(mask).count("1"), []).append(rho ** n)
    sums = {k: mpmath.fsum(v) for k, v in by_size.items()}
    out = []
    for j in range(1, C + 1):
        v = mpmath.fsum((-1) ** (j - k) * mpmath.binomial(C - k, j - k) * sums[k]
                        for k in range(1, j + 1))
        out.append(float(mpmath.log(v)) if v > 0 else -math.inf)
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 9), st.sampled_from([0.1, 0.3, 1.0, 5.0]), st.integers(0, 10**6),
       st.floats(0.0, 5.0))
def test_skewed_priors_against_inclusion_exclusion(C: int, alpha: float, seed: int,
                                                   log_n: float) -> None:
    """Priors with classes of probability down to 1e-7, one draw to 1e5 draws: every j.

    (This found a lost complement: counting absent classes, a presence
    probability near 0 was taken as 1 minus its complement.)
    """
    probs = np.random.default_rng(seed).dirichlet(np.full(C, alpha))
    probs = np.maximum(probs, 1e-7)
    probs = probs / probs.sum()
    n = max(1, int(10 ** log_n))
    prior = Prior.from_probs(probs)
    ref = _ie_log_pmf([float(x) for x in prior.probs], n)
    got = cb.distinct_classes(n - 1, prior).logpmf(np.arange(1, C + 1))
    for j in range(1, min(n, C) + 1):
        if ref[j - 1] > -1e5:
            assert abs(got[j - 1] - ref[j - 1]) <= 1e-12 * max(1.0, abs(ref[j - 1])), (j, got, ref)


def test_absent_count_with_tiny_classes() -> None:
    """Two classes of probability ~1e-6 among twelve, 7,790 draws: counting absent
    classes must keep the presence probability of the tiny ones (once 1e-9 off)."""
    rest = np.random.default_rng(5).dirichlet(np.ones(10)) * (1 - 7.2e-7 - 3.7e-6)
    probs = np.concatenate([[7.2e-7, 3.7e-6], rest])
    prior = Prior.from_probs(probs / probs.sum())
    n = 7790
    ref = _ie_log_pmf([float(x) for x in prior.probs], n)
    got = cb.distinct_classes(n - 1, prior).logpmf(np.arange(1, 13))
    for j in range(6, 13):
        assert abs(got[j - 1] - ref[j - 1]) <= 1e-12 * max(1.0, abs(ref[j - 1])), (j, got, ref)


def test_tails_far_beyond_coverage() -> None:
    """C = 10, 10,001 draws: every class is seen; the tails are still exact in logs."""
    D = cb.distinct_classes(10_000, 10)
    assert D.ppf(0.05) == 10 and D.ppf(0.95) == 10
    assert D.logcdf(9) == pytest.approx(-1051.407932000926, rel=1e-12)
    assert D.logpmf(1) == pytest.approx(math.log(10) - 10_001 * math.log(10), rel=1e-12)


def test_far_left_tail_logcdf() -> None:
    """P(D <= 1) = sum_c p_c^n far below float64, in logs."""
    w = [3, 5, 9, 2]
    n = 1500
    D = cb.distinct_classes(n - 1, counts=w)
    S = sum(w)
    ref = mpmath.log(sum(mpmath.mpf(x) ** n for x in w)) - n * mpmath.log(S)
    assert D.logcdf(1) == pytest.approx(float(ref), rel=1e-12)
    assert D.pmf(1) == 0.0 and D.logpmf(1) == pytest.approx(float(ref), rel=1e-12)


# --------------------------------------------------------------------------
# laws (hypothesis)
# --------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=2, max_size=7), st.integers(0, 40), st.booleans(),
       st.randoms(use_true_random=False))
def test_pmf_laws(counts: list[int], k: int, rep: bool, rnd) -> None:  # type: ignore[no-untyped-def]
    N = sum(counts)
    if not rep:
        k = k % N
    D = cb.distinct_classes(k, counts=counts, replacement=rep)
    js = np.arange(len(counts) + 1)
    p = D.pmf(js)
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(np.sum(js * p)) == pytest.approx(D.mean(), rel=1e-12)
    shuffled = counts[:]
    rnd.shuffle(shuffled)
    p2 = cb.distinct_classes(k, counts=shuffled, replacement=rep).pmf(js)
    np.testing.assert_allclose(p, p2, rtol=1e-12, atol=1e-300)
    if k >= 1:  # one more draw sees stochastically more classes
        prev = cb.distinct_classes(k - 1, counts=counts, replacement=rep)
        assert np.all(D.cdf(js) <= prev.cdf(js) + 1e-12)


def test_rvs_matches_mean() -> None:
    for kw in ({"counts": [40, 10, 5, 1, 1]}, {"counts": [40, 10, 5, 1, 1], "replacement": False}):
        D = cb.distinct_classes(11, **kw)
        x = D.rvs(size=20000, random_state=1)
        se = D.std() / math.sqrt(x.size)
        assert abs(x.mean() - D.mean()) < 5 * se
        assert x.min() >= D.support()[0] and x.max() <= D.support()[1]
    assert isinstance(cb.distinct_classes(3, 5).rvs(random_state=0), int)


# --------------------------------------------------------------------------
# partial coverage: required_negatives(classes=)
# --------------------------------------------------------------------------

def _brute_required(C: int, m: int, q: Fraction) -> int:
    n = m
    while True:
        pmf = oracle.uniform_pmf(n, C)
        if sum(pmf[m:], Fraction(0)) >= q:
            return n - 1
        n += 1


def test_required_negatives_classes_against_stirling() -> None:
    for C, m, q in ((10, 8, Fraction(99, 100)), (10, 10, Fraction(1, 2)), (12, 3, Fraction(9, 10)),
                    (20, 17, Fraction(1, 10)), (6, 6, Fraction(999, 1000))):
        got = cb.required_negatives(C, classes=m, confidence=float(q))
        assert got == _brute_required(C, m, q), (C, m, q)
    assert cb.required_negatives(100, classes=100) == cb.required_negatives(100)
    assert cb.required_negatives(counts=[3, 3, 2], replacement=False, classes=3, confidence=0.9) == \
        cb.required_negatives(counts=[3, 3, 2], replacement=False, confidence=0.9)


def test_required_negatives_classes_nonuniform_against_exact() -> None:
    """The search's answer is the first batch size whose exact P(D >= m) reaches q."""
    w = [9, 5, 3, 2, 1, 1]
    for rep in (True, False):
        for m, q in ((3, 0.9), (5, 0.5), (6, 0.99), (4, 0.2)):
            K = cb.required_negatives(counts=w, replacement=rep, classes=m, confidence=q)

            def reach(n: int, rep: bool = rep, m: int = m) -> Fraction:
                ex = oracle.weighted_pmf(w, n) if rep else oracle.hypergeometric_pmf(w, n)
                return sum(ex[m:], Fraction(0))

            assert reach(K + 1) >= Fraction(q), (rep, m, q, K)
            assert reach(K) < Fraction(q), (rep, m, q, K)


def test_required_negatives_expected() -> None:
    counts = [50, 20, 5, 5, 1]
    for rep in (True, False):
        for m in (2, 3, 4):
            K = cb.required_negatives(counts=counts, replacement=rep, classes=m, expected=True)
            assert oracle.expected_classes(K + 1, counts=counts, replacement=rep) >= m
            assert oracle.expected_classes(K, counts=counts, replacement=rep) < m


def test_required_negatives_classes_refusals() -> None:
    with pytest.raises(ValueError, match="classes"):
        cb.required_negatives(10, classes=11)
    with pytest.raises(ValueError, match="classes"):
        cb.required_negatives(10, classes=0)
    with pytest.raises(ValueError, match="classes="):
        cb.required_negatives(10, expected=True)
    with pytest.raises(ValueError, match="confidence"):
        cb.required_negatives(10, classes=5, expected=True, confidence=0.9)
    with pytest.raises(ValueError, match="E\\[D\\]"):
        cb.required_negatives(10, classes=10, expected=True)


# --------------------------------------------------------------------------
# false negatives
# --------------------------------------------------------------------------

def test_false_negative_rate_exact() -> None:
    counts = [7, 1, 4, 4]
    N = sum(counts)
    assert cb.false_negative_rate(counts=counts) == pytest.approx(
        float(sum(Fraction(c, N) ** 2 for c in counts)), rel=1e-15)
    assert cb.false_negative_rate(counts=counts, replacement=False) == pytest.approx(
        float(Fraction(sum(c * (c - 1) for c in counts), N * (N - 1))), rel=1e-15)
    np.testing.assert_allclose(cb.false_negative_rate(counts=counts, per_class=True),
                               [c / N for c in counts], rtol=1e-15)
    np.testing.assert_allclose(cb.false_negative_rate(counts=counts, replacement=False, per_class=True),
                               [(c - 1) / (N - 1) for c in counts], rtol=1e-15)
    # the anchor-weighted per-class rate is the overall rate
    per = cb.false_negative_rate(counts=counts, replacement=False, per_class=True)
    assert float(np.dot(np.array(counts) / N, per)) == pytest.approx(
        cb.false_negative_rate(counts=counts, replacement=False), rel=1e-14)
    # the expected number of same-class negatives is the mean of collision_pmf
    for rep in (True, False):
        K = 9
        pmf = cb.collision_pmf(K, counts=counts, replacement=rep)
        mean = float(np.dot(np.arange(pmf.size), pmf))
        got = cb.expected_false_negatives(K, counts=counts, replacement=rep)
        assert got == pytest.approx(mean, rel=1e-12)
    assert cb.false_negative_rate(1000) == 0.001
    assert cb.expected_false_negatives([0, 4096], 1000).tolist() == [0.0, 4.096]


def test_distinct_classes_refusals() -> None:
    with pytest.raises(TypeError, match="K"):
        cb.distinct_classes([1, 2], 10)
    with pytest.raises(ValueError, match="N = 8"):
        cb.distinct_classes(8, counts=[3, 3, 2], replacement=False)
    with pytest.raises(ValueError, match="K"):
        cb.distinct_classes(-1, 10)
    with pytest.raises(TypeError):
        cb.distinct_classes(3, 10).pmf("a")
    with pytest.raises(ValueError, match="limit"):
        big = Prior.from_counts([1] * 20000 + [2] * 20000)
        cb.distinct_classes(30000, big).pmf(20000)
    with pytest.raises(ValueError, match="N = 1"):
        cb.false_negative_rate(counts=[1], replacement=False)


def test_whole_data_set_but_one() -> None:
    """Three of four samples (sizes 1, 1, 2): P(D = 2) = P(D = 3) = 1/2.  At the
    saddle point a class's factor 1 + odds vanishes on the circle (once 0.4912)."""
    D = cb.distinct_classes(2, counts=[1, 1, 2], replacement=False)
    assert D.pmf(2) == pytest.approx(0.5, rel=1e-13)
    assert D.pmf(3) == pytest.approx(0.5, rel=1e-13)


def test_off_integer_and_outside_support() -> None:
    D = cb.distinct_classes(5, 10)
    assert D.pmf(3.5) == 0.0 and D.pmf(-1) == 0.0 and D.pmf(11) == 0.0 and D.pmf(7) == 0.0
    assert D.cdf(3.5) == D.cdf(3)
    assert D.support() == (1, 6)
    Dw = cb.distinct_classes(5, counts=[5, 2, 1], replacement=False)
    assert Dw.support() == (2, 3)
    assert Dw.pmf(1) == 0.0


def _mp_poisson_binomial(b: list[complex], a: list[complex], J: int) -> list[mpmath.mpc]:
    """Coefficients 0..J of prod (a_c + b_c u), term by term in 50-digit complex arithmetic."""
    with mpmath.workdps(50):
        P = [mpmath.mpc(1)] + [mpmath.mpc(0)] * J
        for bc, ac in zip(b, a, strict=True):
            bm, am = mpmath.mpc(bc), mpmath.mpc(ac)
            for i in range(J, 0, -1):
                P[i] = P[i] * am + P[i - 1] * bm
            P[0] = P[0] * am
        return P


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 150), st.integers(0, 160), st.integers(0, 2**32 - 1), st.booleans())
def test_blocked_recursion_against_50_digits(G: int, J: int, seed: int, real: bool) -> None:
    """The Poisson-binomial recursion, taken a block of classes at a time, against the
    class-by-class recursion in 50-digit arithmetic: several blocks, a partial last block,
    repeated classes, rows at the real point (relative accuracy of every coefficient,
    far tails included) and off the real axis (accuracy relative to the row's largest)."""
    from couponbound._occupancy import _pb_dp

    rng = np.random.default_rng(seed)
    mult = rng.integers(1, 3, size=G).astype(np.int64)
    pi = rng.uniform(0.0, 1.0, size=(2, G)) ** 3
    if real:
        b = pi.astype(complex)
        a = (1.0 - pi).astype(complex)
    else:
        ph = np.exp(1j * rng.uniform(-1.0, 1.0, size=(2, G)))
        b = pi * ph
        a = (1.0 - pi) * np.conj(ph)
    J = min(J, int(mult.sum()))
    P, log_scale = _pb_dp(b, a, mult, J)
    for row in range(2):
        bb = [complex(x) for x, k in zip(b[row], mult, strict=True) for _ in range(int(k))]
        aa = [complex(x) for x, k in zip(a[row], mult, strict=True) for _ in range(int(k))]
        ref = _mp_poisson_binomial(bb, aa, J)
        with mpmath.workdps(50):
            got = [mpmath.mpc(complex(x)) * mpmath.exp(float(log_scale[row])) for x in P[row]]
            top = max(abs(x) for x in ref)
            for i in range(J + 1):
                if real:
                    if ref[i] == 0:
                        assert got[i] == 0
                        continue
                    if abs(ref[i]) < mpmath.mpf(10) ** -290 * top:
                        continue  # below what the scaled float row can hold
                    assert abs(got[i] - ref[i]) <= 1e-12 * abs(ref[i]), (i, got[i], ref[i])
                else:
                    assert abs(got[i] - ref[i]) <= 1e-13 * top, (i, got[i], ref[i])


@pytest.mark.slow
def test_pmf_many_classes_with_replacement_against_exact_counting() -> None:
    """Forty classes of distinct weights (the recursion runs over more than one block),
    batches from 2 to 50 draws, against exact counting of weighted sequences."""
    rng = np.random.default_rng(11)
    w = [int(x) for x in rng.permutation(np.arange(1, 200))[:40]]
    assert _worst_weighted(w, (2, 9, 25, 50)) < 1e-12


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=12), st.integers(1, 300), st.booleans(),
       st.lists(st.floats(1e-3, 1 - 1e-3), min_size=1, max_size=5))
def test_quantiles_from_the_shallow_window_equal_the_full(counts, k, rep, qs) -> None:  # type: ignore[no-untyped-def]
    """ppf / isf at 1e-3 <= q <= 1 - 1e-3 read a window down to e^-60 of the mode; they
    equal the quantiles of the full window (down to e^-760)."""
    if not rep:
        k = min(k, sum(counts) - 1)
    shallow = cb.distinct_classes(k, counts=counts, replacement=rep)
    full = cb.distinct_classes(k, counts=counts, replacement=rep)
    full._tails()  # the full window, cached: every later quantile reads it
    q = np.array(qs)
    assert np.array_equal(shallow.ppf(q), full.ppf(q))
    assert np.array_equal(shallow.isf(q), full.isf(q))
    assert ("tails", 60.0) in shallow._cache and "tails" not in shallow._cache
