"""The coupon-collector core against exact oracles (issue 2)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import (
    expected_T2_subsets,
    expected_T_subsets,
    frac_log,
    hypergeometric_ie,
    mp_uniform_log,
    rel_err_log,
    subsets_ie,
    subsets_ie_probs,
    uniform_ie,
    uniform_stirling,
)

from couponbound import Prior, exact
from couponbound.coverage import (
    completion_time,
    coverage_prob,
    expected_draws,
    log_coverage_prob,
    required_negatives,
)

TOL = 1e-12


def rel(a: float, b: Fraction) -> float:
    if b == 0:
        return abs(a)
    with mpmath.workdps(40):
        return abs(float(mpmath.mpf(a) / (mpmath.mpf(b.numerator) / b.denominator) - 1))


# ---------------------------------------------------------------------------
# the oracles agree with each other (so a bug in one cannot hide)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("C,n", [(1, 1), (2, 5), (5, 5), (7, 30), (12, 40), (30, 100)])
def test_oracles_agree(C: int, n: int) -> None:
    assert uniform_ie(n, C) == uniform_stirling(n, C)
    if C <= 12:
        assert subsets_ie(n, [1] * C) == uniform_ie(n, C)
    assert abs(float(mp_uniform_log(n, C)) - frac_log(uniform_ie(n, C))) < 1e-13


# ---------------------------------------------------------------------------
# sanity values of the mathematics (the documentation's worked examples)
# ---------------------------------------------------------------------------

def test_math_md_sanity_values() -> None:
    assert coverage_prob(31, 10) == pytest.approx(0.6909756324, rel=1e-10)
    ie = uniform_ie(128, 100)
    assert rel(coverage_prob(127, 100), ie) < TOL
    assert coverage_prob(127, 100) == pytest.approx(1.5036e-22, rel=1e-4)
    # the cancellation of the documentation's math-cancellation section: naive float inclusion-exclusion
    naive = sum((-1) ** i * math.comb(100, i) * (1 - i / 100) ** 128 for i in range(101))
    assert abs(naive - float(ie)) > 1e-8  # garbage, many orders above the true value
    # upsilon_n = 0 below C and C!/C^C at n = C
    assert coverage_prob(8, 10) == 0.0
    assert rel(coverage_prob(9, 10), Fraction(math.factorial(10), 10**10)) < TOL


def test_ns21_table3_expected_draws() -> None:
    # NS21 Table 3: E[K+1] rounded up
    for C, want in [(2, 3), (4, 9), (10, 30), (100, 519), (3029, 26030)]:
        assert math.ceil(expected_draws(C)) == want
        mean = C * sum(Fraction(1, j) for j in range(1, C + 1))
        assert completion_time(C).mean() == pytest.approx(float(mean), rel=1e-14)


# ---------------------------------------------------------------------------
# accuracy: uniform prior
# ---------------------------------------------------------------------------

def test_uniform_exact_small_all_n() -> None:
    """Every n from C - 1 to far right for small C, against integers."""
    worst = 0.0
    for C in (2, 3, 5, 10, 17, 40):
        ns = np.arange(C - 1, int(8 * C * math.log(C)) + 30)
        fast = coverage_prob(ns - 1, C)
        for n, f in zip(ns, fast, strict=True):
            e = uniform_ie(int(n), C)
            if e == 0:
                assert f == 0.0
                continue
            worst = max(worst, rel(float(f), e))
    assert worst < TOL


def test_uniform_random_large_C_against_mpmath() -> None:
    """C up to 10^4 and n = C ln C + x C with x from -0.6 ln C (upsilon ~ exp(-C^0.6),
    the saddle-point path) to beyond 5 C ln C (inclusion-exclusion path), against
    inclusion-exclusion at adaptive precision."""
    rng = np.random.default_rng(20211206)
    worst = 0.0
    regions = {"left": 0, "right": 0}
    for i in range(120):
        C = int(np.exp(rng.uniform(math.log(2), math.log(10_000))))
        if i % 3 == 2:
            n = int(rng.integers(C, int(6 * C * math.log(C)) + C + 2))
        else:
            lo = -0.6 * math.log(C)
            x = rng.uniform(lo, -1.2) if (i % 3 == 0 and lo < -1.3) else rng.uniform(-1.2, 5.0)
            n = max(C, int(C * math.log(C) + x * C))
        t1 = C * math.exp(n * math.log1p(-1 / C)) if C > 1 else 0.0
        regions["left" if t1 > 3 else "right"] += 1
        lf = log_coverage_prob(n - 1, C)
        lm = mp_uniform_log(n, C)
        worst = max(worst, rel_err_log(lf, lm))
    assert worst < TOL
    assert min(regions.values()) >= 30  # both numerical paths were exercised


def test_uniform_far_tails_log() -> None:
    """log upsilon where upsilon is ~1e-300 and far below (float64 underflows)."""
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(10):
        C = int(rng.integers(150, 700))
        n = int(rng.integers(C, int(1.6 * C)))
        lf = log_coverage_prob(n - 1, C)
        lm = mp_uniform_log(n, C)
        assert float(lm) < -40
        assert abs(lf - float(lm)) <= TOL * abs(float(lm))
        worst = max(worst, abs(lf - float(lm)) / abs(float(lm)))
    # values just above the float64 underflow: the float itself is accurate
    C = 1000
    n = 1500
    lm = mp_uniform_log(n, C)
    assert -700 < float(lm) < -300  # 1e-300 > upsilon > 1e-308
    assert rel_err_log(math.log(coverage_prob(n - 1, C)), lm) < TOL


def test_uniform_near_one_and_tail_sf() -> None:
    """Right tail: 1 - upsilon down to 1e-200 by completion_time().sf, relative."""
    for C, n in [(10, 300), (10, 4000), (100, 2000), (100, 40000), (1000, 200000)]:
        sf = completion_time(C).sf(n)
        with mpmath.workdps(60):
            exact_tail = mpmath.mpf(0)
            for i in range(1, min(C, 60) + 1):
                t = mpmath.binomial(C, i) * (mpmath.mpf(C - i) / C) ** n
                exact_tail += t if i % 2 else -t
            assert abs(float(mpmath.mpf(sf) / exact_tail - 1)) < TOL


def test_large_C_single_value() -> None:
    """C = 10^5, K = 1.2e6 (ImageNet-22k scale) against high precision."""
    C, K = 100_000, 1_200_000
    v = coverage_prob(K, C)
    with mpmath.workdps(40):
        acc = mpmath.mpf(0)
        for i in range(0, 80):
            t = mpmath.binomial(C, i) * (mpmath.mpf(C - i) / C) ** (K + 1)
            acc += t if i % 2 == 0 else -t
        assert abs(float(mpmath.mpf(v) / acc - 1)) < TOL


# ---------------------------------------------------------------------------
# accuracy: non-uniform priors, without replacement
# ---------------------------------------------------------------------------

def test_nonuniform_random_counts_small_C() -> None:
    rng = np.random.default_rng(11)
    worst = 0.0
    for _ in range(120):
        C = int(rng.integers(2, 11))
        counts = [int(c) for c in rng.integers(1, 50, size=C)]
        K = int(rng.integers(C - 1, 60 * C))
        e = subsets_ie(K + 1, counts)
        f = coverage_prob(K, counts=counts)
        if e == 0:
            assert f == 0.0
            continue
        worst = max(worst, rel(f, e))
    assert worst < TOL


def test_nonuniform_probs_exact_rationals() -> None:
    rng = np.random.default_rng(5)
    for _ in range(20):
        C = int(rng.integers(2, 9))
        raw = rng.dirichlet(np.ones(C) * 0.7)
        raw = np.maximum(raw, 1e-3)
        probs = raw / raw.sum()
        fr = [Fraction(float(p)) for p in probs]
        total = sum(fr, Fraction(0))
        fr = [f / total for f in fr]
        K = int(rng.integers(C, 30 * C))
        e = subsets_ie_probs(K + 1, fr)
        assert rel(coverage_prob(K, probs=probs), e) < 1e-11  # probs renormalised in float
        assert exact.coverage_prob(K, probs=probs) == e


def _two_level_log(n: int, k1: int, k2: int, w1: int, w2: int) -> mpmath.mpf:
    """log upsilon_n for k1 classes of weight w1 and k2 of weight w2: grouped
    inclusion-exclusion sum_{j1,j2} (-1)^{j1+j2} C(k1,j1) C(k2,j2) (1 - (j1 w1 + j2 w2)/N)^n,
    at a precision that covers the largest term, checked by doubling it."""
    N = k1 * w1 + k2 * w2
    mags = [
        math.lgamma(k1 + 1) - math.lgamma(j1 + 1) - math.lgamma(k1 - j1 + 1)
        + math.lgamma(k2 + 1) - math.lgamma(j2 + 1) - math.lgamma(k2 - j2 + 1)
        + (n * math.log1p(-(j1 * w1 + j2 * w2) / N) if j1 * w1 + j2 * w2 < N else -math.inf)
        for j1 in range(k1 + 1) for j2 in range(k2 + 1)
    ]
    top = max(mags) / math.log(10)
    results = []
    for dps in (int(top) + 400, int(top) + 800):
        with mpmath.workdps(dps):
            acc = mpmath.mpf(0)
            idx = 0
            for j1 in range(k1 + 1):
                for j2 in range(k2 + 1):
                    mag = mags[idx]
                    idx += 1
                    if mag / math.log(10) < top - dps - 5:
                        continue
                    t = mpmath.binomial(k1, j1) * mpmath.binomial(k2, j2) * (
                        mpmath.mpf(N - j1 * w1 - j2 * w2) / N) ** n
                    acc += t if (j1 + j2) % 2 == 0 else -t
            results.append(mpmath.log(acc))
    assert abs(results[0] - results[1]) < 1e-20
    return results[1]


@pytest.mark.slow
def test_nonuniform_large_C_few_distinct() -> None:
    """C = 150 and 300 with two distinct probabilities, against mpmath."""
    for k1, k2, w1, w2 in [(50, 100, 3, 1), (60, 240, 2, 1)]:
        counts = [w1] * k1 + [w2] * k2
        C = k1 + k2
        N = sum(counts)
        for n in [C + 5, C + 60, int(C * math.log(C)), 2 * int(N * math.log(C))]:
            lf = log_coverage_prob(n - 1, counts=counts)
            assert rel_err_log(lf, _two_level_log(n, k1, k2, w1, w2)) < TOL


def test_without_replacement_random() -> None:
    rng = np.random.default_rng(3)
    worst = 0.0
    for _ in range(100):
        C = int(rng.integers(1, 8))
        counts = [int(c) for c in rng.integers(1, 30, size=C)]
        N = sum(counts)
        K = int(rng.integers(0, N))
        e = hypergeometric_ie(K + 1, counts)
        f = coverage_prob(K, counts=counts, replacement=False)
        if e == 0:
            assert f == 0.0
            continue
        worst = max(worst, rel(f, e))
        assert exact.coverage_prob(K, counts=counts, replacement=False) == e
        assert exact.coverage_prob(K, Prior.from_counts(counts, replacement=False)) == e
    assert worst < TOL


def test_without_replacement_tends_to_with_replacement() -> None:
    small = [coverage_prob(20, counts=[m, m, 2 * m], replacement=False) for m in (10, 100, 10_000)]
    with_r = coverage_prob(20, counts=[1, 1, 2])
    gaps = [abs(s - with_r) for s in small]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-4


# ---------------------------------------------------------------------------
# exact, mpmath and float agree
# ---------------------------------------------------------------------------

def test_exact_mpmath_and_float_agree() -> None:
    for K, C in [(0, 1), (9, 10), (31, 10), (127, 100), (600, 100)]:
        e = exact.coverage_prob(K, C)
        assert e == uniform_ie(K + 1, C)
        m = exact.coverage_prob_mp(K, C, dps=40)
        assert isinstance(m, mpmath.mpf)
        if e == 0:
            assert m == 0
            continue
        with mpmath.workdps(50):
            assert abs(m / (mpmath.mpf(e.numerator) / e.denominator) - 1) < mpmath.mpf(10) ** -38
        assert rel(coverage_prob(K, C), e) < TOL


def test_log_exact_and_mpmath() -> None:
    e = uniform_ie(128, 100)
    assert float(exact.log_coverage_prob_mp(127, 100, dps=40)) == frac_log(e)
    lm = exact.log_coverage_prob_mp(127, 100, dps=30)
    assert isinstance(lm, mpmath.mpf)
    assert abs(float(lm) - frac_log(e)) < 1e-13
    assert exact.log_coverage_prob_mp(5, 10) == -math.inf
    assert abs(log_coverage_prob(127, 100) - frac_log(e)) < TOL * abs(frac_log(e))


def test_include_anchor_false() -> None:
    assert coverage_prob(32, 10, include_anchor=False) == coverage_prob(31, 10)
    assert coverage_prob(0, 1, include_anchor=False) == 0.0
    assert coverage_prob(0, 1) == 1.0


def test_vectorised_shapes_and_types() -> None:
    out = coverage_prob([[9, 31], [100, 200]], 10)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    assert isinstance(coverage_prob(31, 10), float)
    assert isinstance(coverage_prob(np.int64(31), 10), float)
    assert exact.coverage_prob(3, 2) == Fraction(7, 8)
    with pytest.raises(TypeError, match="K must be a single integer"):
        exact.coverage_prob([3, 4], 2)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# completion time, expected draws, required negatives
# ---------------------------------------------------------------------------

def test_completion_time_pmf_cdf_exact() -> None:
    for C, weights in [(6, None), (4, [1, 2, 3, 6])]:
        T = completion_time(C) if weights is None else completion_time(counts=weights)
        w = [1] * C if weights is None else weights
        for n in range(C - 1, 12 * C):
            e = subsets_ie(n, w)
            e_prev = subsets_ie(n - 1, w) if n > 0 else Fraction(0)
            assert rel(T.cdf(n), e) < TOL
            assert rel(T.pmf(n), e - e_prev) < 1e-11
            assert rel(T.sf(n), 1 - e) < TOL
            if e > 0:
                assert T.logcdf(n) == pytest.approx(frac_log(e), abs=1e-13 * max(1, abs(frac_log(e))))


def test_completion_time_moments_exact() -> None:
    for weights in ([1, 2, 3], [5, 1, 1, 2, 7, 3], [1] * 9):
        T = completion_time(counts=weights)
        mean = expected_T_subsets(weights)
        assert T.mean() == pytest.approx(float(mean), rel=1e-12)
        assert exact.expected_draws(counts=weights) == mean
        # E[T^2] from the exact pmf (long tail summed exactly far enough)
        N = sum(weights)
        C = len(weights)
        m2 = Fraction(0)
        m1 = Fraction(0)
        prev = Fraction(0)
        for n in range(C, 60 * N):
            cur = subsets_ie(n, weights) if len(set(weights)) > 1 else uniform_ie(n, C)
            p = cur - prev
            prev = cur
            m1 += n * p
            m2 += n * n * p
        assert float(m1) == pytest.approx(float(mean), rel=1e-9)
        assert T.var() == pytest.approx(float(m2 - m1 * m1), rel=1e-8)
        var = expected_T2_subsets(weights) - mean**2  # exact
        assert abs(float(var) - float(m2 - m1 * m1)) < 1e-8 * float(var)
        assert T.var() == pytest.approx(float(var), rel=1e-12)
    T = completion_time(10)
    h1 = sum(Fraction(1, j) for j in range(1, 11))
    h2 = sum(Fraction(1, j * j) for j in range(1, 11))
    assert T.var() == pytest.approx(float(100 * h2 - 10 * h1), rel=1e-14)


def test_expected_draws_large_C_nonuniform() -> None:
    """1e-10 relative for C up to 1e5: two-level prior against the closed form
    E[T] = int (1 - (1-e^{-a t})^k1 (1-e^{-b t})^k2) dt computed in mpmath."""
    for k1, k2 in [(50, 950), (20_000, 80_000)]:
        counts = [2] * k1 + [1] * k2
        N = sum(counts)
        a, b = 2 / N, 1 / N
        with mpmath.workdps(30):

            def f(t: mpmath.mpf, k1: int = k1, k2: int = k2, a: float = a, b: float = b) -> mpmath.mpf:
                return -mpmath.expm1(k1 * mpmath.log1p(-mpmath.exp(-a * t))
                                     + k2 * mpmath.log1p(-mpmath.exp(-b * t)))

            pts = [0] + [N * x for x in (0.5, 2, 5, 8, 10, 12, 14, 16, 20, 30, 60)] + [mpmath.inf]
            ref = mpmath.quad(f, pts)
        assert expected_draws(counts=counts) == pytest.approx(float(ref), rel=1e-12)


@pytest.mark.parametrize("kind", ["dirichlet", "zipf"])
@pytest.mark.parametrize("C", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_moments_many_classes_against_a_fine_direct_rule(kind: str, C: int) -> None:
    """E[T] and Var[T] for many distinct probabilities against an independent
    evaluation: the trapezoidal rule in log t with a fine step (h = 0.02) and every
    class summed directly in long double (no Chebyshev sums, no step control)."""
    if kind == "dirichlet":
        p = np.random.default_rng(7).dirichlet(np.ones(C))
    else:
        p = 1.0 / np.arange(1, C + 1) ** 1.1
        p /= p.sum()
    T = completion_time(probs=p)
    p = p / math.fsum(p.tolist())
    p0 = float(p.min())
    h = 0.02
    # the whole line of nodes from t = 1e-22 / p_max (no truncated end: the rule's
    # endpoint error would be O(h^2)); below 0.01 / p_max, prod(1 - e^{-p t}) <
    # 0.01^C and Q = 1 exactly, so no class sum is needed there
    u = np.arange(math.log(1e-22 / p.max()), math.log(120.0 / p0), h)
    t = np.exp(u.astype(np.longdouble))
    q = np.ones(t.shape, dtype=np.longdouble)
    pl = p.astype(np.longdouble)
    need = np.flatnonzero(t * np.longdouble(p.max()) >= 0.01)
    for chunk in np.array_split(need, 40):
        x = pl[:, None] * t[chunk][None, :]
        with np.errstate(under="ignore", divide="ignore"):
            q[chunk] = -np.expm1(np.sum(np.log(-np.expm1(-x)), axis=0))
    tau = t * np.longdouble(p0)  # units tau = p0 t
    i1 = np.sum(tau * q) * np.longdouble(h)
    i2 = np.sum(tau * (2 * tau - np.longdouble(p0)) * q) * np.longdouble(h)
    mean = float(i1) / p0
    var = float(i2 - i1 * i1) / p0 / p0
    assert T.mean() == pytest.approx(mean, rel=1e-11)
    assert T.var() == pytest.approx(var, rel=1e-10)


def test_rvs_matches_moments() -> None:
    for T in (completion_time(20), completion_time(probs=[0.1, 0.2, 0.3, 0.4])):
        x = T.rvs(size=20_000, random_state=0)
        assert x.shape == (20_000,)
        se = T.std() / math.sqrt(x.size)
        assert abs(x.mean() - T.mean()) < 5 * se
        assert x.min() >= T.C


def test_ppf_and_required_negatives_minimal() -> None:
    for C, conf in [(2, 0.5), (10, 0.99), (10, 0.999), (30, 0.9), (100, 0.5)]:
        K = required_negatives(C, confidence=conf)
        assert uniform_ie(K + 1, C) >= Fraction(conf)
        assert uniform_ie(K, C) < Fraction(conf)
        assert completion_time(C).ppf(conf) == K + 1
    counts = [1, 2, 3, 10]
    K = required_negatives(counts=counts, confidence=0.9)
    assert subsets_ie(K + 1, counts) >= Fraction(0.9) > subsets_ie(K, counts)
    K = required_negatives(counts=[3, 5, 9], confidence=0.9, replacement=False)
    assert hypergeometric_ie(K + 1, [3, 5, 9]) >= Fraction(0.9) > hypergeometric_ie(K, [3, 5, 9])


# ---------------------------------------------------------------------------
# laws (hypothesis)
# ---------------------------------------------------------------------------

small_C = st.integers(min_value=1, max_value=60)
weights_st = st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(C=small_C, K=st.integers(min_value=0, max_value=3000))
def test_law_in_unit_interval_and_monotone(C: int, K: int) -> None:
    v = coverage_prob([K, K + 1, K + 7], C)
    assert np.all((v >= 0) & (v <= 1))
    assert v[0] <= v[1] <= v[2]
    # non-increasing in C
    assert coverage_prob(K, C + 1) <= v[0]


@settings(max_examples=60, deadline=None)
@given(w=weights_st, K=st.integers(min_value=0, max_value=400), seed=st.integers(0, 2**32 - 1))
def test_law_order_invariance_and_schur(w: list[int], K: int, seed: int) -> None:
    v = coverage_prob(K, counts=w)
    perm = list(np.random.default_rng(seed).permutation(w))
    assert coverage_prob(K, counts=perm) == pytest.approx(v, rel=1e-12, abs=1e-300)
    # uniform prior maximises coverage (Schur-concavity)
    assert v <= coverage_prob(K, len(w)) * (1 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(w=weights_st, K=st.integers(min_value=0, max_value=300))
def test_law_cdf_equals_coverage(w: list[int], K: int) -> None:
    T = completion_time(counts=w)
    assert T.cdf(K + 1) == pytest.approx(coverage_prob(K, counts=w), rel=1e-13, abs=1e-300)
    if len(w) <= 6 and K < 120:
        assert rel(coverage_prob(K, counts=w), subsets_ie(K + 1, w)) < TOL


@settings(max_examples=40, deadline=None)
@given(w=weights_st, K=st.integers(min_value=0, max_value=100))
def test_law_without_replacement_dominates(w: list[int], K: int) -> None:
    """Sampling without replacement covers at least as well (negative dependence)."""
    N = sum(w)
    K = min(K, N - 1)
    a = coverage_prob(K, counts=w, replacement=False)
    b = coverage_prob(K, counts=w)
    assert a >= b * (1 - 1e-12)
    assert 0.0 <= a <= 1.0


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"K": -1, "C": 10}, ValueError, "K"),
        ({"K": 2.5, "C": 10}, ValueError, "K"),
        ({"K": "3", "C": 10}, TypeError, "K"),
        ({"K": True, "C": 10}, TypeError, "K"),
        ({"K": float("nan"), "C": 10}, ValueError, "K"),
        ({"K": [1, -2], "C": 10}, ValueError, "K"),
        ({"K": 3, "C": 0}, ValueError, "C"),
        ({"K": 3, "C": 2.5}, ValueError, "C"),
        ({"K": 3}, TypeError, "C"),
        ({"K": 3, "probs": [0.5, 0.6]}, ValueError, "sum"),
        ({"K": 3, "probs": [0.5, -0.5, 1.0]}, ValueError, "probs"),
        ({"K": 3, "probs": [0.5, float("nan")]}, ValueError, "probs"),
        ({"K": 3, "C": 3, "probs": [0.5, 0.5]}, ValueError, "contradicts"),
        ({"K": 3, "counts": [1, 2.5]}, ValueError, "counts"),
        ({"K": 3, "counts": [1, 0]}, ValueError, "counts"),
        ({"K": 3, "probs": [0.5, 0.5], "counts": [1, 1]}, ValueError, "at most one"),
        ({"K": 3, "C": 3, "method": "exact"}, TypeError, "method"),
        ({"K": 3, "C": 3, "dps": 20}, TypeError, "dps"),
        ({"K": 3, "C": 3, "replacement": False}, ValueError, "counts"),
        ({"K": 10, "counts": [2, 3], "replacement": False}, ValueError, "N = 5"),
        ({"K": 3, "C": 3, "include_anchor": "yes"}, TypeError, "include_anchor"),
    ],
)
def test_bad_input(kwargs: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        coverage_prob(**kwargs)
    with pytest.raises(exc, match=match):
        log_coverage_prob(**kwargs)


def test_bad_input_other_functions() -> None:
    with pytest.raises(ValueError, match="confidence"):
        required_negatives(10, confidence=1.0)
    with pytest.raises(ValueError, match="confidence"):
        required_negatives(10, confidence=0)
    with pytest.raises(TypeError, match="confidence"):
        required_negatives(10, confidence="high")
    with pytest.raises(ValueError, match="q"):
        completion_time(10).ppf(1.5)
    with pytest.raises(ValueError, match="n"):
        completion_time(10).cdf(-1)
    with pytest.raises(TypeError, match="method"):
        expected_draws(10, method="exact")  # type: ignore[call-arg]


def test_named_approximations_live_in_asymptotic() -> None:
    from couponbound.asymptotic import gumbel_coverage, poisson_coverage

    # approximations approach the exact value in their regime (ER61: C -> infinity)
    errs = []
    for C in (10, 100, 1000):
        K = int(C * math.log(C))
        errs.append(abs(gumbel_coverage(K, C) / coverage_prob(K, C) - 1))
    assert errs[0] > errs[1] > errs[2]
    p = [0.1, 0.2, 0.7]
    with pytest.raises(ValueError, match="uniform"):
        gumbel_coverage(30, Prior.from_probs(p))
    with pytest.raises(ValueError, match="replacement"):
        poisson_coverage(3, Prior.from_counts([2, 3], replacement=False))


def test_huge_K_does_not_hang() -> None:
    """The far right tail uses the Bonferroni bracket, 1 - S1 exact to 1e-15."""
    assert coverage_prob(10**15, probs=[0.2, 0.3, 0.5]) == 1.0
    K = 400
    v = coverage_prob(K, counts=[1, 2, 30, 4])
    assert rel(v, subsets_ie(K + 1, [1, 2, 30, 4])) < TOL
    assert coverage_prob(10**12, 10**6) == pytest.approx(1.0)


# --------------------------------------------------------------------------
# issue 12 / 11: huge data sets without replacement, the right tail, huge K
# --------------------------------------------------------------------------

def _hyper_ie_exact(n: int, counts: list[int]) -> Fraction:
    """upsilon_n without replacement by exact inclusion-exclusion over subsets (small C)."""
    from itertools import combinations

    N = sum(counts)
    total = Fraction(0)
    for j in range(len(counts) + 1):
        for sub in combinations(counts, j):
            total += (-1) ** j * Fraction(math.comb(N - sum(sub), n), math.comb(N, n))
    return total


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("m", [10**6, 10**10, 10**12, 10**15, 10**17])
def test_without_replacement_min_degree_huge_N(m: int) -> None:
    """D1: K + 1 = C, upsilon = m^C / binom(C m, C), to 1e-12 (was 9.5e-9 at N = 1e7)."""
    exact = Fraction(m**10, math.comb(10 * m, 10))
    got = coverage_prob(9, counts=[m] * 10, replacement=False)
    assert got == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("K", "m"), [(197, 10**12), (10, 10**15), (60, 10**16), (300, 10**16)])
def test_without_replacement_right_tail_huge_N(K: int, m: int) -> None:
    """D2: both tails of a huge finite data set against exact integer inclusion-exclusion."""
    exact = _hyper_ie_exact(K + 1, [m] * 10)
    assert coverage_prob(K, counts=[m] * 10, replacement=False) == pytest.approx(float(exact), rel=1e-12)
    sf = completion_time(Prior.from_counts([m] * 10, replacement=False)).sf(K + 1)
    assert sf == pytest.approx(float(1 - exact), rel=1e-12)


@pytest.mark.filterwarnings("error")
def test_without_replacement_near_top() -> None:
    """D3: K + 1 = N - 1 with one singleton class: upsilon = 1 - 1/N exactly."""
    counts = [1, 2, 3, 10**6]
    N = sum(counts)
    assert coverage_prob(N - 2, counts=counts, replacement=False) == pytest.approx(1 - 1 / N, rel=1e-15)
    T = completion_time(Prior.from_counts(counts, replacement=False))
    assert T.sf(N - 1) == pytest.approx(1 / N, rel=1e-13)
    assert T.sf(N) == 0.0


@pytest.mark.filterwarnings("error")
def test_without_replacement_sf_every_n_small_data_set() -> None:
    """sf/logsf exist for replacement=False and match exact Fractions at every n."""
    counts = [3, 5, 7, 20]
    prior = Prior.from_counts(counts, replacement=False)
    T = completion_time(prior)
    for n in range(1, sum(counts) + 1):
        exact = 1 - _hyper_ie_exact(n, counts)
        got = T.sf(n)
        if exact == 0:
            assert got == 0.0
        else:
            assert got == pytest.approx(float(exact), rel=1e-13), n
            assert T.logsf(n) == pytest.approx(math.log(exact), abs=1e-13 * max(1, -math.log(exact)))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("replacement", [True, False])
def test_sf_mid_size_against_mpmath(replacement: bool) -> None:
    """1 - upsilon against 80-digit inclusion-exclusion over the whole tail (measured worst ~3e-11)."""
    from couponbound.exact import coverage_prob_mp

    prior = Prior.from_counts([30, 50, 70, 200, 1000, 40], replacement=replacement)
    T = completion_time(prior)
    for n in range(50, 1390, 61):
        exact = 1 - coverage_prob_mp(n - 1, prior, dps=80)
        assert T.sf(n) == pytest.approx(float(exact), rel=1e-10), n


@pytest.mark.filterwarnings("error")
def test_sf_two_level_no_overflow_warning() -> None:
    """D7: the tail factor no longer overflows (was 1e-8 relative via the complement)."""
    from couponbound.exact import coverage_prob_mp

    prior = Prior.from_counts([1] * 5 + [10] * 5)
    exact = 1 - coverage_prob_mp(1049, prior, dps=60)
    assert completion_time(prior).sf(1050) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.filterwarnings("error")
def test_K_limit_exact_integers() -> None:
    """D11: K up to 2**62 works; above, a ValueError showing the value as given."""
    assert coverage_prob(2**62, 10) == 1.0
    assert log_coverage_prob(2**62, 10) == 0.0
    with pytest.raises(ValueError, match="9223372036854775807"):
        coverage_prob(2**63 - 1, 10)
    with pytest.raises(ValueError, match="9223372036854775813"):
        coverage_prob(np.uint64(2**63 + 5), 10)
    with pytest.raises(ValueError, match="2\\*\\*62"):
        Prior.from_counts([10**18] * 5, replacement=False)


@pytest.mark.filterwarnings("error")
def test_completion_time_refusals_and_extremes() -> None:
    """Issue 11: size and q checked by name; extreme priors give a value or a clear refusal."""
    T = completion_time(5)
    for bad in ("3", 3.5, True):
        with pytest.raises(TypeError, match="size"):
            T.rvs(bad)
    with pytest.raises(ValueError, match="size"):
        T.rvs(-1)
    with pytest.raises(TypeError, match="q"):
        T.ppf("0.5")
    ext = completion_time(probs=[1e-300, 1 - 1e-300])
    assert ext.pmf(10) == pytest.approx(1e-300, rel=1e-12)  # (1 - 1e-300)^9 1e-300
    with pytest.raises(ValueError, match="rvs"):
        ext.rvs(3)
    with pytest.raises(ValueError, match="C <="):
        required_negatives(10**30)
    assert completion_time(10**30).mean() == pytest.approx(
        1e30 * (math.log(1e30) + 0.5772156649015329), rel=1e-14)


# ---------------------------------------------------------------------------
# issue 12 D9 / issue 11: required_negatives fast at extreme confidences and priors
# ---------------------------------------------------------------------------

import time  # noqa: E402

import oracles  # noqa: E402


def _uniform_sf_bracket(n: int, C: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """S1 - S2 <= 1 - upsilon_n <= S1 for the uniform prior, 50 digits."""
    with mpmath.workdps(50):
        s1 = C * (1 - mpmath.mpf(1) / C) ** n
        s2 = mpmath.binomial(C, 2) * (1 - mpmath.mpf(2) / C) ** n
        return s1 - s2, s1


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_required_negatives_extreme_confidence_fast() -> None:
    t0 = time.perf_counter()
    K = required_negatives(10**7, confidence=1 - 1e-15)   # ran mpmath on every step
    assert time.perf_counter() - t0 < 5.0
    eps = mpmath.mpf(1) - mpmath.mpf(1 - 1e-15)           # 1 - confidence, exactly
    assert _uniform_sf_bracket(K + 1, 10**7)[1] <= eps    # covered with K negatives
    assert _uniform_sf_bracket(K, 10**7)[0] > eps         # not with K - 1


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_required_negatives_two_extreme_classes() -> None:
    t0 = time.perf_counter()
    # one sample of the rare class must be in the batch: n / N >= 0.99
    N = 10**12 + 1
    assert required_negatives(counts=[1, 10**12], replacement=False) == -(-99 * N // 100) - 1
    assert completion_time(counts=[1, 10**12], replacement=False).ppf(0.5) == -(-N // 2)
    with pytest.raises(ValueError, match=r"2\*\*62"):
        required_negatives(probs=[1e-300, 1 - 1e-300])
    with pytest.raises(ValueError, match=r"2\*\*62"):
        completion_time(probs=[1e-30, 1 - 1e-30]).ppf(0.5)
    # 1 - (1 - p)^n - p^n, p = 1e-300 (its exact binary value), n = 10^12 + 1
    got = coverage_prob(10**12, probs=[1e-300, 1 - 1e-300])
    with mpmath.workdps(60):
        p = mpmath.mpf(1e-300)
        want = -mpmath.expm1((10**12 + 1) * mpmath.log1p(-p))
    assert abs(got / float(want) - 1) < 2e-13   # exp of a log of -663: |log| eps
    assert time.perf_counter() - t0 < 3.0   # was 31 s and 1.7 GB


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(a=st.integers(1, 50), b=st.integers(1, 50), n=st.integers(2, 120), repl=st.booleans())
def test_two_classes_closed_form(a: int, b: int, n: int, repl: bool) -> None:
    if not repl and n > a + b:
        n = a + b
    exact_up = oracles.subsets_ie(n, [a, b]) if repl else oracles.hypergeometric_ie(n, [a, b])
    got = coverage_prob(n, counts=[a, b], replacement=repl, include_anchor=False)
    sf = completion_time(counts=[a, b], replacement=repl).sf(n)
    assert abs(got - float(exact_up)) <= 1e-13 * float(exact_up)
    assert abs(sf - float(1 - exact_up)) <= 1e-13 * float(1 - exact_up)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 6), min_size=2, max_size=5), data=st.data(),
       repl=st.booleans())
def test_required_negatives_at_the_boundary(counts: list[int], data: st.DataObject, repl: bool) -> None:
    """confidence set to an exact upsilon_n (rounded): the high-precision tie-break decides."""
    N = sum(counts)
    top = 3 * N if repl else N
    n0 = data.draw(st.integers(len(counts), top))
    ie = oracles.subsets_ie if repl else oracles.hypergeometric_ie
    q = float(ie(n0, counts))
    if not 0 < q < 1:
        return
    got = required_negatives(counts=counts, replacement=repl, confidence=q, include_anchor=False)
    want = next(n for n in range(len(counts), 10 * top) if ie(n, counts) >= Fraction(q))
    assert got == want


# ---------------------------------------------------------------------------
# issue 12 D4: vectorised and scalar calls agree
# ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(("kw", "K"), [
    (dict(counts=[max(1, round(1000 / r)) for r in range(1, 51)]), range(100, 4000, 97)),
    (dict(counts=[1] * 5 + [10] * 5), range(10, 1200, 17)),
    (dict(counts=[10**6, 10**6 + 1, 30]), range(10**4, 3 * 10**5, 9999)),
    (dict(counts=[50, 70, 90, 200], replacement=False), range(4, 400, 7)),
    (dict(counts=[10**12 - 1, 1]), [10**11 - 1, 10**12]),   # the issue's reproducer
])
def test_vectorised_matches_scalar(kw: dict, K: range) -> None:
    ks = list(K)
    vec = coverage_prob(ks, **kw)
    for k, v in zip(ks, vec, strict=True):
        s = coverage_prob(k, **kw)
        assert abs(v - s) <= 1e-13 * s


def test_huge_draw_counts_go_to_the_long_tail_engine_exactly():
    """Issue 12, D5: counts=[10**15]*9 + [1] at K ~ 10**16 (the FFT path would
    need 16 GiB); grouped inclusion-exclusion in 60-digit mpmath as the oracle."""
    import mpmath

    counts = [10**15] * 9 + [1]
    N = sum(counts)
    with mpmath.workdps(60):
        a, b = mpmath.mpf(10**15) / N, mpmath.mpf(1) / N

        def log_ups(n):
            s = sum((-1) ** (i + j) * mpmath.binomial(9, i) * mpmath.binomial(1, j)
                    * (1 - i * a - j * b) ** n
                    for i in range(10) for j in range(2) if 1 - i * a - j * b > 0)
            return float(mpmath.log(s))

        draws = [3 * 10**12, 9 * 10**15, 2 * 10**16]
        want = [log_ups(n) for n in draws]
    got = log_coverage_prob([n - 1 for n in draws], counts=counts)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(probs=[1e-20, 1e-20, 1.0]), dict(counts=[10**17, 1, 1]),
                                dict(counts=[10**17, 1, 1], replacement=False)], ids=str)
def test_a_class_of_probability_near_one_issue_20(kw: dict[str, object]) -> None:
    """Issue 20: 'divide by zero in log1p' from the single-class miss sum where a
    probability rounds to 1; every entry point, scalar and vectorised, against exact values."""
    want = [exact.coverage_prob(k, **kw) for k in (3, 4, 9)]
    got = coverage_prob(np.array([3, 4, 9]), **kw)
    for g, w in zip(got.tolist(), want, strict=True):
        assert rel(g, w) < 1e-12
    assert rel(coverage_prob(3, **kw), want[0]) < 1e-12
    assert log_coverage_prob(3, **kw) == pytest.approx(frac_log(want[0]), rel=1e-13)
    T = completion_time(**kw)
    assert rel(T.cdf(4), want[0]) < 1e-12
    assert T.logcdf(np.array([4, 5]))[0] == pytest.approx(frac_log(want[0]), rel=1e-13)
    assert rel(T.sf(4), 1 - want[0]) < 1e-12
    assert T.logsf(4) == pytest.approx(frac_log(1 - want[0]), abs=1e-15)


def test_expected_draws_extreme_probability_issue_20() -> None:
    """Issue 20: expected_draws(probs=[1e-300, 1]) ran for more than 30 s.
    E[T] = 1/p1 + 1/p2 - 1/(p1 + p2) (FGT92), so 1e300 to float precision."""
    assert expected_draws(probs=[1e-300, 1]) == pytest.approx(1e300, rel=1e-12)
    assert expected_draws(probs=[1e-200, 1]) == pytest.approx(1e200, rel=1e-12)
    T = completion_time(probs=[1e-100, 1])
    # Var[T] = (1 - p1)/p1^2 + (1 - p2)/p2^2 - ... : about 1e200 here, beyond the range below
    assert T.var() == pytest.approx(1e200, rel=1e-10)
    assert completion_time(probs=[1e-300, 1]).var() == math.inf  # 1e600: beyond float64


@pytest.mark.parametrize("C", [3, 17, 100, 256])
def test_dense_uniform_curve_against_stirling_numbers(C: int) -> None:
    """A dense uniform curve (the blocked Markov chain for C <= 256, the saddle point
    and inclusion-exclusion beyond) against C! S2(n, C) / C^n in integers, every n."""
    N = 12 * C + 40
    got = log_coverage_prob(np.arange(N), C, include_anchor=False)
    vals = coverage_prob(np.arange(N), C, include_anchor=False)
    row = [1] + [0] * C  # S2(n, k), k = 0..C
    fact = math.factorial(C)
    for n in range(1, N):
        new = [0] * (C + 1)
        for k in range(1, C + 1):
            new[k] = k * row[k] + row[k - 1]
        row = new
        if n < C:
            assert got[n] == -math.inf and vals[n] == 0.0
            continue
        e = Fraction(fact * row[C], C**n)
        assert got[n] == pytest.approx(frac_log(e), abs=1e-13 * max(1.0, abs(frac_log(e))))
        assert rel(vals[n], e) < 1e-12 or e < Fraction(1, 10**300)
    # the same values one at a time (saddle point or inclusion-exclusion)
    for n in (C + 1, 2 * C, 5 * C, N - 1):
        assert log_coverage_prob(n, C, include_anchor=False) == pytest.approx(got[n], rel=1e-13, abs=1e-300)


@pytest.mark.slow
def test_user_code_types_under_mypy_strict(tmp_path: Path) -> None:
    """Issue 21: scalars type as float, arrays as NDArray[np.float64] (overloads)."""
    import subprocess
    import sys

    user = tmp_path / "user.py"
    user.write_text(
        "import numpy as np\n"
        "from numpy.typing import NDArray\n"
        "from couponbound import completion_time, coverage_prob, expected_draws, log_coverage_prob\n"
        "x: float = coverage_prob(31, 10)\n"
        "y: np.ndarray = coverage_prob([1, 2], 10)\n"
        "z: NDArray[np.float64] = log_coverage_prob(np.arange(5), 3)\n"
        "w: float = log_coverage_prob(np.int64(31), probs=[0.5, 0.5])\n"
        "T = completion_time(counts=[3, 3, 2], replacement=False)\n"
        "a: float = T.cdf(4)\n"
        "b: NDArray[np.float64] = T.pmf(np.array([3, 4]))\n"
        "c: int = T.ppf(0.5)\n"
        "d: float = expected_draws(10) + T.mean()\n"
        "bad: float = coverage_prob([1, 2], 10)\n"
    )
    root = Path(__file__).resolve().parent.parent
    res = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                          "--no-incremental", str(user)], capture_output=True, text=True,
                         cwd=root, env={"MYPYPATH": str(root), "PATH": "/usr/bin:/bin"})
    # exactly one error: the array assigned to a float (the test can fail both ways)
    assert res.stdout.count("error:") == 1, res.stdout
    assert "user.py:13: error: Incompatible types in assignment" in res.stdout, res.stdout
