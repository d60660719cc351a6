"""Tests for couponbound.collision against exact (Fraction / mpmath) oracles."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from couponbound import Prior, exact
from couponbound.asymptotic import expected_log_collision_expansion
from couponbound.collision import collision_pmf, collision_prob, expected_log_collision

# ---------------------------------------------------------------------------
# oracles, written independently of the package
# ---------------------------------------------------------------------------


def priors(counts: list[int]) -> list[Fraction]:
    N = sum(counts)
    return [Fraction(c, N) for c in counts]


def exact_tau(counts: list[int], K: int) -> Fraction:
    """ARORA19 / math-collisions: 1 - sum_c rho_c (1 - rho_c)^K."""
    return 1 - sum(r * (1 - r) ** K for r in priors(counts))


def exact_pmf(counts: list[int], K: int) -> list[Fraction]:
    """sum_c rho_c Binom(m; K, rho_c) in Fractions."""
    out = [Fraction(0)] * (K + 1)
    for r in priors(counts):
        for m in range(K + 1):
            out[m] += r * math.comb(K, m) * r**m * (1 - r) ** (K - m)
    return out


def mp_elog(counts: list[int], K: int) -> mpmath.mpf:
    """NS21's E ln(1 + Col) at 40 digits from the exact pmf."""
    with mpmath.workdps(40):
        total = mpmath.mpf(0)
        N = sum(counts)
        for c in counts:
            r = mpmath.mpf(c) / N
            total += r * mpmath.fsum(
                mpmath.binomial(K, m) * r**m * (1 - r) ** (K - m) * mpmath.log(1 + m)
                for m in range(K + 1)
            )
        return total


def mp_elog_binomial_window(K: int, p: mpmath.mpf, half: int) -> mpmath.mpf:
    """E ln(1 + X), X ~ Binomial(K, p), over mode +- half, by the term-ratio recurrence."""
    with mpmath.workdps(40):
        mode = int(K * p)
        lo, hi = max(0, mode - half), min(K, mode + half)
        term = mpmath.binomial(K, lo) * p**lo * (1 - p) ** (K - lo)
        ratio = p / (1 - p)
        acc = mpmath.mpf(0)
        mass = mpmath.mpf(0)
        for m in range(lo, hi + 1):
            acc += term * mpmath.log(1 + m)
            mass += term
            term *= mpmath.mpf(K - m) / (m + 1) * ratio
        assert abs(mass - 1) < mpmath.mpf(10) ** -30
        return acc


def hyper_pmf_comb(counts: list[int], K: int) -> list[Fraction]:
    """Without replacement: sum_c (n_c/N) C(n_c-1, m) C(N-n_c, K-m) / C(N-1, K)."""
    N = sum(counts)
    out = [Fraction(0)] * (K + 1)
    for n_c in counts:
        for m in range(K + 1):
            out[m] += Fraction(n_c, N) * Fraction(
                math.comb(n_c - 1, m) * math.comb(N - n_c, K - m), math.comb(N - 1, K))
    return out


def hyper_pmf_enumerate(counts: list[int], K: int) -> list[Fraction]:
    """Brute force: every anchor, every K-subset of the other samples."""
    labels = [c for c, n_c in enumerate(counts) for _ in range(n_c)]
    N = len(labels)
    tally = [0] * (K + 1)
    total = 0
    for i in range(N):
        others = labels[:i] + labels[i + 1 :]
        for subset in itertools.combinations(others, K):
            tally[sum(1 for y in subset if y == labels[i])] += 1
            total += 1
    return [Fraction(t, total) for t in tally]


def fixed_point_elog(K: int, counts: list[int], n_sd: float = 12.0, pad: int = 30) -> Fraction:
    """E ln(1 + Col), Col | c ~ Binomial(K, n_c / N), over mode +- (n_sd sd + pad) per class.

    Binomial terms by their exact integer ratio recurrence in 640-bit fixed point
    (a window's first term may be ~1e-90), logs at 220 digits in 256-bit fixed
    point: Python integers only, fast enough for thousands of classes.
    """
    one = 1 << 640
    lone = 1 << 256
    N = sum(counts)
    windows = []
    for c in counts:
        mode = K * c // N
        half = int(n_sd * math.sqrt(K * c / N) + pad)
        windows.append((c, max(0, mode - half), min(K, mode + half)))
    top = max(hi for _, _, hi in windows)
    with mpmath.workdps(220):
        logs = [int(mpmath.log1p(m) * lone) for m in range(top + 1)]
        num = 0
        for c, lo, hi in windows:
            p = mpmath.mpf(c) / N
            term = int(mpmath.binomial(K, lo) * p**lo * (1 - p) ** (K - lo) * one)
            acc = mass = 0
            for m in range(lo, hi):
                acc += term * logs[m]
                mass += term
                term = term * ((K - m) * c) // ((m + 1) * (N - c))
            acc += term * logs[hi]
            mass += term
            assert abs(mass - one) < one >> 95, (c, float(Fraction(mass - one, one)))
            num += c * acc
    return Fraction(num, N * one * lone)


def elog_from_pmf(pmf: list[Fraction]) -> float:
    return math.fsum(float(p) * math.log1p(m) for m, p in enumerate(pmf))


counts_strategy = st.lists(st.integers(1, 40), min_size=1, max_size=8)


# ---------------------------------------------------------------------------
# sanity values of math-collisions (NS21's CIFAR numbers)
# ---------------------------------------------------------------------------


def test_sanity_values_from_math_md() -> None:
    assert round(expected_log_collision(31, 10), 3) == 1.317
    assert round(collision_prob(31, 10), 3) == 0.962
    assert round(expected_log_collision(511, 10), 3) == 3.945
    assert round(expected_log_collision(127, 100), 3) == 0.697
    assert round(collision_prob(127, 100), 3) == 0.721
    # and to full precision against the oracles
    assert collision_prob(31, 10) == pytest.approx(float(exact_tau([1] * 10, 31)), rel=1e-14, abs=0)
    assert expected_log_collision(31, 10) == pytest.approx(float(mp_elog([1] * 10, 31)),
                                                           rel=1e-13, abs=0)
    assert expected_log_collision(127, 100) == pytest.approx(
        float(mp_elog_binomial_window(127, mpmath.mpf(1) / 100, 127)), rel=1e-13, abs=0)


# ---------------------------------------------------------------------------
# tau_K
# ---------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(counts=counts_strategy, K=st.integers(0, 400))
def test_tau_matches_fraction_oracle(counts: list[int], K: int) -> None:
    got = collision_prob(K, counts=counts)
    want = exact_tau(counts, K)
    assert got == pytest.approx(float(want), rel=1e-13, abs=0 if want else 1e-300)


def test_tau_tiny_keeps_relative_accuracy() -> None:
    # K = 1: tau = sum rho^2 = 1/C; naive 1 - sum rho (1 - rho) loses ~10 digits
    assert collision_prob(1, 10**6) == pytest.approx(1e-6, rel=1e-14, abs=0)
    assert collision_prob(3, 10**9) == pytest.approx(
        float(1 - (1 - Fraction(1, 10**9)) ** 3), rel=1e-14, abs=0)
    counts = [1] * 1000 + [3]
    assert collision_prob(2, counts=counts) == pytest.approx(
        float(exact_tau(counts, 2)), rel=1e-14, abs=0)


def test_tau_edge_cases() -> None:
    assert collision_prob(0, 10) == 0.0
    assert collision_prob(0, 1) == 0.0
    assert collision_prob(5, 1) == 1.0  # one class: every negative collides
    assert collision_prob(10**12, 7) == 1.0
    assert collision_prob([[0, 1], [2, 3]], 2).tolist() == [[0.0, 0.5], [0.75, 0.875]]


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 1000), min_size=1, max_size=50),
       K=st.integers(0, 10**6))
def test_tau_laws(counts: list[int], K: int) -> None:
    t0, t1 = collision_prob([K, K + 1], counts=counts)
    assert 0.0 <= t0 <= t1 <= 1.0
    perm = sorted(counts) + []
    assert collision_prob(K, counts=perm) == pytest.approx(t0, rel=1e-14, abs=1e-300)
    assert collision_prob(K, probs=np.array(counts) / sum(counts)) == pytest.approx(t0, rel=1e-12, abs=0)


# ---------------------------------------------------------------------------
# pmf of Col
# ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(counts=counts_strategy, K=st.integers(0, 60))
def test_pmf_matches_fraction_oracle(counts: list[int], K: int) -> None:
    got = collision_pmf(K, counts=counts)
    want = [float(x) for x in exact_pmf(counts, K)]
    assert got.shape == (K + 1,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    # consistency with the other two functions
    assert 1.0 - got[0] == pytest.approx(collision_prob(K, counts=counts), rel=1e-12, abs=1e-15)
    assert math.fsum(got * np.log1p(np.arange(K + 1))) == pytest.approx(
        expected_log_collision(K, counts=counts), rel=1e-12, abs=1e-300)


def test_pmf_large_K_moments() -> None:
    K, C = 200_000, 7
    pmf = collision_pmf(K, C)
    m = np.arange(K + 1)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-13, abs=0)
    assert (pmf * m).sum() == pytest.approx(K / C, rel=1e-12, abs=0)  # E Col = K sum rho^2
    counts = [1, 2, 3, 5, 8]
    pmf = collision_pmf(K, counts=counts)
    want_mean = K * sum(float(r) ** 2 for r in priors(counts))
    assert (pmf * m).sum() == pytest.approx(want_mean, rel=1e-12, abs=0)
    assert collision_pmf(0, 5).tolist() == [1.0]
    # K (K + 1) x 5 groups > 4e6: the windowed path, against 40-digit values at each
    # component's mean and 5 sd out
    K = 10**6
    pmf = collision_pmf(K, counts=counts)
    assert pmf.sum() == pytest.approx(1.0, rel=1e-13, abs=0)
    m = np.arange(K + 1)
    want_mean = K * sum(float(r) ** 2 for r in priors(counts))
    assert (pmf * m).sum() == pytest.approx(want_mean, rel=1e-12, abs=0)
    N = sum(counts)
    with mpmath.workdps(40):
        for c in counts:
            sd = math.sqrt(K * c * (N - c)) / N
            for mm in (K * c // N, int(K * c / N + 5 * sd)):
                want = mpmath.fsum(mpmath.mpf(w) / N * mpmath.binomial(K, mm)
                                   * (mpmath.mpf(w) / N) ** mm * (1 - mpmath.mpf(w) / N) ** (K - mm)
                                   for w in counts)
                assert pmf[mm] == pytest.approx(float(want), rel=1e-12, abs=0), (c, mm)
    assert collision_pmf(4, 1).tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


# ---------------------------------------------------------------------------
# E ln(1 + Col), the accurate value
# ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 40), min_size=1, max_size=5), K=st.integers(0, 250))
def test_elog_exact_matches_mpmath(counts: list[int], K: int) -> None:
    got = expected_log_collision(K, counts=counts)
    want = mp_elog(counts, K)
    assert got == pytest.approx(float(want), rel=1e-12, abs=0 if want else 1e-300)


@pytest.mark.parametrize(("K", "C"), [(10**6, 10), (3 * 10**5, 3), (10**6, 10**4), (3 * 10**6, 3)])
def test_elog_exact_large_K_against_mpmath(K: int, C: int) -> None:
    p = mpmath.mpf(1) / C
    sd = math.sqrt(K / C)
    want = mp_elog_binomial_window(K, p, int(12 * sd + 30))
    assert expected_log_collision(K, C) == pytest.approx(float(want), rel=1e-12, abs=0)


@pytest.mark.parametrize(("K", "counts"), [(3 * 10**6, [1, 1000]), (10**7, [1, 30])])
def test_elog_exact_mixed_expansion_and_sum(K: int, counts: list[int]) -> None:
    # one component has K rho_c >= 1e6 (moment expansion inside the accurate value),
    # the other is summed term by term: the mixture against 40-digit windows
    N = sum(counts)
    with mpmath.workdps(40):
        want = mpmath.mpf(0)
        for c in counts:
            p = mpmath.mpf(c) / N
            sd = math.sqrt(K * c * (N - c)) / N
            want += p * mp_elog_binomial_window(K, p, int(12 * sd + 30))
    assert max(K * c / N for c in counts) >= 1e6 > min(K * c / N for c in counts)
    assert expected_log_collision(K, counts=counts) == pytest.approx(float(want), rel=1e-13, abs=0)


def test_elog_tiny_and_edges() -> None:
    # K = 1: E ln(1+Col) = ln 2 * sum rho^2 = ln 2 / C, no cancellation
    assert expected_log_collision(1, 10**6) == pytest.approx(math.log(2) / 1e6, rel=1e-14, abs=0)
    assert expected_log_collision(0, 10) == 0.0
    assert expected_log_collision(7, 1) == pytest.approx(math.log(8), rel=1e-15, abs=0)
    assert expected_log_collision(10**7, 1) == pytest.approx(math.log1p(1e7), rel=1e-15, abs=0)


def test_elog_fast_case_runs() -> None:
    # K = 1e7 with 1e5 classes (one group) and 2,000 distinct class sizes
    v = expected_log_collision(10**7, 10**5)
    assert v == pytest.approx(float(mp_elog_binomial_window(10**7, mpmath.mpf(1) / 10**5, 500)),
                              rel=1e-12, abs=0)
    # the fixed-point oracle agrees with the plain 40-digit one where both apply
    assert float(fixed_point_elog(300, [1, 2, 3, 5])) == pytest.approx(
        float(mp_elog([1, 2, 3, 5], 300)), rel=1e-15, abs=0)
    counts = np.arange(1, 2001)
    w = expected_log_collision(10**6, counts=counts)
    want = fixed_point_elog(10**6, counts.tolist())
    assert w == pytest.approx(float(want), rel=1e-12, abs=0)
    a = expected_log_collision_expansion(10**6, counts=counts)
    assert abs(w - a) < 1e-3 * w


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 100), min_size=1, max_size=20),
       K=st.integers(0, 5000))
def test_elog_laws(counts: list[int], K: int) -> None:
    e0, e1 = expected_log_collision([K, K + 1], counts=counts)
    assert 0.0 <= e0 <= math.log1p(K) * (1 + 2**-52)  # numpy's log1p(2) is 1 ulp above libm's
    assert e1 >= e0 * (1 - 1e-14)  # non-decreasing in K
    rev = counts[::-1]
    assert expected_log_collision(K, counts=rev) == pytest.approx(e0, rel=1e-13, abs=1e-300)
    # Jensen: E ln(1+Col) <= ln(1 + E Col)
    mean = K * sum(float(r) ** 2 for r in priors(counts))
    assert e0 <= math.log1p(mean) * (1 + 1e-12)


# ---------------------------------------------------------------------------
# E ln(1 + Col), the large-K expansion (couponbound.asymptotic)
# ---------------------------------------------------------------------------


def test_asymptotic_error_rate_uniform() -> None:
    """Error of the four-moment expansion is O((C/K)^3); leading term alone O(C/K)."""
    C = 10
    errs, lead = [], []
    Ks = [200, 400, 800, 1600, 3200]
    for K in Ks:
        want = float(mp_elog_binomial_window(K, mpmath.mpf(1) / C, K))
        errs.append(abs(expected_log_collision_expansion(K, C) - want))
        lead.append(math.log1p(K / C) - want)
    for a, b in itertools.pairwise(errs):
        assert 6.0 < a / b < 10.0  # halving C/K divides the error by ~8
    for K, e in zip(Ks, errs, strict=True):
        assert 0.2 < e * (K / C) ** 3 < 0.8
    # math-collisions: E ln(1+Col) = ln(1 + K/C) + O(C/K), here (1 - 1/C)/2 * C/K to leading order
    scaled = [abs(e * K / C - 0.45) for K, e in zip(Ks, lead, strict=True)]
    assert all(a > b for a, b in itertools.pairwise(scaled))
    assert scaled[-1] < 0.01


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(1, 20), min_size=1, max_size=10), data=st.data())
def test_expansion_agrees(counts: list[int], data: st.DataObject) -> None:
    # K is drawn so that every class has K rho_c >= 20 (the expansion's regime):
    # the comparison below runs on every example instead of being skipped.
    N = sum(counts)
    K = data.draw(st.integers(max(10**3, -(-20 * N // min(counts))), 10**7), label="K")
    rho = [float(r) for r in priors(counts)]
    assert K * min(rho) >= 20
    accurate = expected_log_collision(K, counts=counts)
    approx = expected_log_collision_expansion(K, counts=counts)
    bound = sum(r * (K * r) ** -3 for r in rho)  # the stated O(sum rho (K rho)^-3)
    assert abs(approx - accurate) <= 2.0 * bound + 1e-12 * accurate


def test_asymptotic_is_vectorised_and_clipped() -> None:
    v = expected_log_collision_expansion(np.array([[0, 1], [10, 10**6]]), 10)
    assert v.shape == (2, 2)
    assert v[0, 0] == 0.0
    assert np.all(v >= 0) and np.all(v <= np.log1p([[0, 1], [10, 10**6]]))


# ---------------------------------------------------------------------------
# without replacement
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("counts", "K"), [([2, 2], 1), ([2, 2], 3), ([3, 1, 2], 2),
                                            ([1, 4, 2], 4), ([2, 3, 3], 5), ([5], 3)])
def test_without_replacement_enumeration(counts: list[int], K: int) -> None:
    want = hyper_pmf_enumerate(counts, K)
    assert want == hyper_pmf_comb(counts, K)  # the two oracles agree
    np.testing.assert_allclose(collision_pmf(K, counts=counts, replacement=False),
                               [float(x) for x in want], rtol=1e-13, atol=1e-300)
    assert collision_prob(K, counts=counts, replacement=False) == pytest.approx(
        float(1 - want[0]), rel=1e-13, abs=1e-300)
    assert expected_log_collision(K, counts=counts, replacement=False) == pytest.approx(
        elog_from_pmf(want), rel=1e-13, abs=1e-300)


@settings(max_examples=50, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=8), data=st.data())
def test_without_replacement_comb_oracle(counts: list[int], data: st.DataObject) -> None:
    N = sum(counts)
    K = data.draw(st.integers(0, N - 1))
    want = hyper_pmf_comb(counts, K)
    np.testing.assert_allclose(collision_pmf(K, counts=counts, replacement=False),
                               [float(x) for x in want], rtol=1e-12, atol=1e-300)
    assert collision_prob(K, counts=counts, replacement=False) == pytest.approx(
        float(1 - want[0]), rel=1e-12, abs=1e-300)
    assert expected_log_collision(K, counts=counts, replacement=False) == pytest.approx(
        elog_from_pmf(want), rel=1e-12, abs=1e-300)


def test_without_replacement_whole_dataset_and_tiny_tau() -> None:
    counts = [3, 7, 1, 9]
    N = sum(counts)
    # a batch that is the whole dataset: Col = n_c - 1 for sure (math-measurement's coll)
    want = sum(n * math.log(n) for n in counts) / N
    assert expected_log_collision(N - 1, counts=counts, replacement=False) == pytest.approx(
        want, rel=1e-14, abs=0)
    # tau = P(anchor in the pair) * P(the other one drawn): 2/N * 1/(N-1)
    big = [2] + [1] * 99_999
    Nb = sum(big)
    assert collision_prob(1, counts=big, replacement=False) == pytest.approx(
        float(Fraction(2, Nb) * Fraction(1, Nb - 1)), rel=1e-14, abs=0)


def test_without_replacement_approaches_with_replacement() -> None:
    K, C = 31, 10
    with_r = expected_log_collision(K, C)
    gaps = [abs(expected_log_collision(K, counts=[n] * C, replacement=False) - with_r)
            for n in (100, 10_000, 1_000_000)]
    assert gaps[0] > 50 * gaps[1] > 2500 * gaps[2]
    assert gaps[2] < 1e-5
    tau_gap = abs(collision_prob(K, counts=[10**6] * C, replacement=False)
                  - collision_prob(K, C))
    assert tau_gap < 1e-5


def test_without_replacement_large() -> None:
    counts = [40_000, 25_000, 35_000]
    K = 5_000
    got = expected_log_collision(K, counts=counts, replacement=False)
    N = sum(counts)
    with mpmath.workdps(40):
        want = mpmath.mpf(0)
        for n_c in counts:
            a, b = n_c - 1, N - n_c
            mean = K * a / (N - 1)
            lo, hi = max(0, int(mean) - 700), min(K, int(mean) + 700)
            denom = mpmath.binomial(N - 1, K)
            want += mpmath.mpf(n_c) / N * mpmath.fsum(
                mpmath.binomial(a, m) * mpmath.binomial(b, K - m) / denom * mpmath.log(1 + m)
                for m in range(lo, hi + 1))
    assert got == pytest.approx(float(want), rel=1e-12, abs=0)


# ---------------------------------------------------------------------------
# API contract and errors
# ---------------------------------------------------------------------------


def test_scalar_and_array_contract() -> None:
    for f in (collision_prob, expected_log_collision):
        v = f(31, 10)
        assert type(v) is float
        a = f([[31, 63]], 10)
        assert isinstance(a, np.ndarray) and a.shape == (1, 2) and a[0, 0] == v
        assert f(np.int64(31), 10) == v
        assert f(31.0, 10) == v
    assert isinstance(collision_pmf(3, 2), np.ndarray)


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="K"):
        collision_prob(-1, 10)
    with pytest.raises(ValueError, match="K"):
        expected_log_collision([1, 2.5], 10)
    with pytest.raises(TypeError, match="K"):
        collision_prob("3", 10)
    with pytest.raises(TypeError, match="K"):
        collision_pmf([1, 2], 10)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="method"):
        expected_log_collision(3, 10, method="exact")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="replacement"):
        collision_prob(3, 10, replacement="no")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="counts"):
        collision_prob(3, 10, replacement=False)
    with pytest.raises(ValueError, match="counts"):
        expected_log_collision(3, probs=[0.5, 0.5], replacement=False)
    with pytest.raises(ValueError, match=r"K.*N = 5|N = 5.*K"):
        collision_prob(5, counts=[2, 3], replacement=False)
    with pytest.raises(ValueError, match="K"):
        collision_pmf(5, counts=[2, 3], replacement=False)
    with pytest.raises(ValueError, match="expected_log_collision_expansion.*replacement"):
        expected_log_collision_expansion(3, Prior.from_counts([2, 3], replacement=False))
    with pytest.raises(ValueError, match="probs"):
        collision_prob(3, probs=[0.5, 0.6])
    with pytest.raises(TypeError, match="C .or a Prior., or probs=, or counts="):
        collision_prob(3)
    # valid extremes never give NaN
    for K in (0, 1, 10**15):
        assert not math.isnan(collision_prob(K, counts=[1, 10**9]))
        assert not math.isnan(expected_log_collision_expansion(K, 1))


# ---------------------------------------------------------------------------
# couponbound.exact against the oracles
# ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=6), data=st.data())
def test_exact_collision_functions(counts: list[int], data: st.DataObject) -> None:
    K = data.draw(st.integers(0, 60), label="K")
    assert exact.collision_prob(K, counts=counts) == exact_tau(counts, K)
    assert exact.collision_pmf(K, counts=counts) == exact_pmf(counts, K)
    with mpmath.workdps(40):
        assert abs(exact.expected_log_collision(K, counts=counts, dps=35) - mp_elog(counts, K)) \
            < mpmath.mpf(10) ** -33 * max(1, abs(mp_elog(counts, K)))
    Kw = data.draw(st.integers(0, sum(counts) - 1), label="K without replacement")
    prior = Prior.from_counts(counts, replacement=False)
    want = hyper_pmf_comb(counts, Kw)
    assert exact.collision_pmf(Kw, prior) == want
    assert exact.collision_prob(Kw, prior) == 1 - want[0]
    with mpmath.workdps(40):
        ref = mpmath.fsum(mpmath.mpf(p.numerator) / p.denominator * mpmath.log1p(m)
                          for m, p in enumerate(want))
        assert abs(exact.expected_log_collision(Kw, prior, dps=35) - ref) \
            < mpmath.mpf(10) ** -33 * max(1, abs(ref))


def test_exact_collision_edges_and_errors() -> None:
    with mpmath.workdps(40):
        assert abs(exact.expected_log_collision(7, 1) - mpmath.log(8)) < mpmath.mpf(10) ** -29
    assert exact.collision_prob(0, 10) == 0
    assert exact.collision_prob(1, 10**6) == Fraction(1, 10**6)
    with pytest.raises(TypeError, match="single integer"):
        exact.collision_prob([1, 2], 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="N = 5"):
        exact.collision_prob(5, counts=[2, 3], replacement=False)
    with pytest.raises(ValueError, match="more than"):
        exact.collision_pmf(10**6, 10)
    with pytest.raises(ValueError, match="dps"):
        exact.expected_log_collision(3, 10, dps=0)


# ---------------------------------------------------------------------------
# issue 12, D10 / D12: huge data sets without replacement
# ---------------------------------------------------------------------------

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import oracles  # noqa: E402


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(("K", "counts"), [
    (1000, [10**9] * 10),                       # K a b overflowed int64: returned 0.0
    (10**6, [10**9] * 10),                      # NaN
    (10**7, [10**6 + i for i in range(10)]),    # 2.9e-6 relative
    (10**5, [10**15] * 10),
    (10**9, [10**17, 1, 5, 10**9]),
    (2 * 10**7, [10**7] * 3),                   # moment expansion with a wide pmf
    (500, [3, 1000, 20000, 7]),
])
def test_elog_without_replacement_huge_datasets(K: int, counts: list[int]) -> None:
    got = expected_log_collision(K, counts=counts, replacement=False)
    want = oracles.hyper_elog_mp(K, counts)
    assert math.isfinite(got)
    assert abs(got / float(want) - 1) < 1e-12


def test_hypergeometric_expansion_moments() -> None:
    """The expansion's moments are the hypergeometric ones (summed exactly here)."""
    from couponbound.asymptotic import hypergeometric_log1p_expansion

    M, a, K = 60, 17, 25
    b = M - a
    pmf = [Fraction(math.comb(a, m) * math.comb(b, K - m), math.comb(M, K)) for m in range(K + 1)]
    mu = Fraction(K * a, M)
    m2, m3, m4 = (float(sum(p * (m - mu) ** j for m, p in enumerate(pmf))) for j in (2, 3, 4))
    x = 1.0 + float(mu)
    want = math.log1p(float(mu)) - m2 / (2 * x**2) + m3 / (3 * x**3) - m4 / (4 * x**4)
    assert hypergeometric_log1p_expansion(K, a, b) == pytest.approx(want, rel=1e-14)


def _tau_mp(K: int, counts: list[int]) -> mpmath.mpf:
    N = sum(counts)
    with mpmath.workdps(60):
        return mpmath.fsum(mpmath.mpf(n_c) / N * -mpmath.expm1(oracles.hyper_miss_log_mp(K, n_c, N))
                           for n_c in counts)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.data())
@settings(max_examples=60, deadline=None)
def test_tau_without_replacement_exact_integers(counts: list[int], data: st.DataObject) -> None:
    N = sum(counts)
    K = data.draw(st.integers(0, N - 1))
    want = oracles.hyper_tau_exact(K, counts)
    got = collision_prob(K, counts=counts, replacement=False)
    assert abs(got - float(want)) <= 4.5e-16 * float(want) + 1e-300  # 2 ulps


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(("K", "counts"), [
    (10**8, [10**15] * 3 + [10**9, 7]),
    (10**8, [10**7 + i for i in range(20)]),
    (1, [10**17, 1, 2]),                           # tau ~ 1e-17: relative accuracy
    (10**5, [10**5] * 10**3 + [1]),
    (3 * 10**8, [10**8] * 4),
    (2**40, [10**18 - 1, 2**50, 12345]),
    (10**6, [10**12, 99, 10**6 + 1]),
])
def test_tau_without_replacement_huge_K(K: int, counts: list[int]) -> None:
    import time

    t0 = time.perf_counter()
    got = collision_prob(K, counts=counts, replacement=False)
    assert time.perf_counter() - t0 < 2.0   # O(1) per class: was 12.8 s at K = 10^8
    want = _tau_mp(K, counts)
    assert abs(got / float(want) - 1) < 1e-13
