"""Tests for couponbound.asymptotic against exact rational / high-precision oracles."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import couponbound.asymptotic as asy
from couponbound import log_coverage_prob
from couponbound.asymptotic import (
    CoverageBounds,
    coverage_bounds,
    gumbel_coverage,
    log_gumbel_coverage,
    log_poisson_coverage,
    poisson_coverage,
    tail_coverage,
)

# ---------------------------------------------------------------------------
# exact oracles (written here, independent of the package)
# ---------------------------------------------------------------------------


def _subset_sums(counts: list[int]) -> Counter[int]:
    """sum over subsets S of (-1)^|S|, keyed by the number of samples in S."""
    coef: Counter[int] = Counter()
    for mask in range(1 << len(counts)):
        s = sum(c for i, c in enumerate(counts) if mask >> i & 1)
        coef[s] += -1 if bin(mask).count("1") % 2 else 1
    return coef


def exact_upsilon_counts(counts: list[int], n: int) -> Fraction:
    """Inclusion-exclusion over subsets (math-coverage), in integers."""
    N = sum(counts)
    num = sum(k * (N - s) ** n for s, k in _subset_sums(counts).items())
    return Fraction(num, N**n)


def exact_upsilon_uniform(C: int, n: int) -> Fraction:
    """Uniform prior (math-coverage): sum_i (-1)^i binom(C, i) (1 - i/C)^n."""
    num = sum((-1) ** i * math.comb(C, i) * (C - i) ** n for i in range(C + 1))
    return Fraction(num, C**n)


def exact_s1_s2_prod(probs: list[Fraction], n: int) -> tuple[Fraction, Fraction, Fraction]:
    s1 = sum(((1 - p) ** n for p in probs), Fraction(0))
    s2 = sum(((1 - p - q) ** n for p, q in itertools.combinations(probs, 2)), Fraction(0))
    prod = Fraction(1)
    for p in probs:
        prod *= 1 - (1 - p) ** n
    return s1, s2, prod


def mp_upsilon_uniform(C: int, n: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return mpmath.fsum(
            (-1) ** i * mpmath.binomial(C, i) * (1 - mpmath.mpf(i) / C) ** n for i in range(C + 1)
        )


def mp_upsilon_two_groups(m1: int, w1: int, m2: int, w2: int, n: int) -> mpmath.mpf:
    """m1 classes of weight w1 and m2 of weight w2: grouped inclusion-exclusion."""
    with mpmath.workdps(60):
        total = m1 * w1 + m2 * w2
        return mpmath.fsum(
            (-1) ** (i + j) * mpmath.binomial(m1, i) * mpmath.binomial(m2, j)
            * (mpmath.mpf(total - i * w1 - j * w2) / total) ** n
            for i in range(m1 + 1)
            for j in range(m2 + 1)
        )


def assert_brackets(b_lower: float, b_upper: float, exact: Fraction) -> None:
    assert 0.0 <= b_lower <= b_upper <= 1.0
    assert Fraction(b_lower) <= exact, (b_lower, float(exact))
    assert exact <= Fraction(b_upper), (b_upper, float(exact))


# ---------------------------------------------------------------------------
# the oracles themselves
# ---------------------------------------------------------------------------


def test_oracles_agree_and_match_known_values() -> None:
    for C in range(1, 7):
        for n in range(0, 15):
            assert exact_upsilon_counts([1] * C, n) == exact_upsilon_uniform(C, n)
    # math-coverage: upsilon_C = C!/C^C and 0 below C; C = 100, n = 128 ~ 1.5036e-22
    assert exact_upsilon_uniform(5, 5) == Fraction(math.factorial(5), 5**5)
    assert exact_upsilon_uniform(5, 4) == 0
    assert float(exact_upsilon_uniform(100, 128)) == pytest.approx(1.5036e-22, rel=1e-4, abs=0)
    assert float(exact_upsilon_uniform(10, 32)) == pytest.approx(0.6909756324, rel=1e-9, abs=0)


# ---------------------------------------------------------------------------
# coverage_bounds: rigorous bracket
# ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    counts=st.lists(st.integers(1, 30), min_size=1, max_size=9),
    n=st.integers(0, 250),
)
def test_bounds_bracket_exact_counts(counts: list[int], n: int) -> None:
    b = coverage_bounds(n, counts=counts, include_anchor=False)
    exact = exact_upsilon_counts(counts, n)
    assert_brackets(b.lower, b.upper, exact)
    # and they are the math-asymptotic formulas (not just 0 and 1): compare to exact S1, S2, product
    C = len(counts)
    if C > 1 and n >= C:
        N = sum(counts)
        s1, s2, prod = exact_s1_s2_prod([Fraction(c, N) for c in counts], n)
        assert b.lower == pytest.approx(float(max(Fraction(0), 1 - s1)), abs=1e-12)
        assert b.upper == pytest.approx(float(min(1 - s1 + s2, prod)), rel=1e-12, abs=1e-12)


@settings(max_examples=120, deadline=None)
@given(C=st.integers(1, 60), n=st.integers(0, 600))
def test_bounds_bracket_exact_uniform(C: int, n: int) -> None:
    b = coverage_bounds(n - 1, C) if n >= 1 else coverage_bounds(0, C, include_anchor=False)
    assert_brackets(b.lower, b.upper, exact_upsilon_uniform(C, n))


@pytest.mark.parametrize("C", [2, 3, 4])
def test_bounds_rigorous_where_bonferroni_is_exact(C: int) -> None:
    # for C = 2 and 3 the two-term Bonferroni bound *is* upsilon, so naive
    # rounding would put 1 - S1 above upsilon once upsilon rounds to 1
    for n in [C, C + 1, 20, 53, 54, 60, 100, 400, 2000]:
        b = coverage_bounds(n, C, include_anchor=False)
        assert_brackets(b.lower, b.upper, exact_upsilon_uniform(C, n))


def test_bounds_width_small_late_and_correct_early() -> None:
    b = coverage_bounds(31, 10)
    exact = 0.6909756324  # the documented value of upsilon_32 for C = 10
    assert b.lower < exact < b.upper
    assert b.upper - b.lower < 0.04
    late = coverage_bounds(400, 10)
    assert late.upper - late.lower < 1e-15
    # C = 100, n = 128: tiny upsilon (1.5e-22); upper bound is the product bound
    tiny = coverage_bounds(127, 100)
    assert tiny.lower == 0.0
    assert 1.5e-22 <= tiny.upper < 1e-13


def test_bounds_edge_cases() -> None:
    # C = 1: upsilon_0 = 0, upsilon_n = 1 for n >= 1
    assert coverage_bounds(0, 1, include_anchor=False) == CoverageBounds(0.0, 0.0)
    assert coverage_bounds(0, 1) == CoverageBounds(1.0, 1.0)
    assert coverage_bounds([0, 5], counts=[7], include_anchor=False).to_dict() == {
        "lower": [0.0, 1.0], "upper": [0.0, 1.0], "log_lower": [-math.inf, 0.0],
        "log_upper": [-math.inf, 0.0]}
    # n < C: no draw covers every class
    b = coverage_bounds(np.arange(9), 10)  # n = 1..9
    assert np.all(b.lower == 0.0) and np.all(b.upper == 0.0)
    # n = C: upsilon_C = C!/C^C
    b = coverage_bounds(9, 10)
    assert_brackets(b.lower, b.upper, Fraction(math.factorial(10), 10**10))


def test_bounds_nonuniform_large_groups_and_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    counts = [3, 3, 3, 5, 5, 8, 1, 1]
    exact = {n: exact_upsilon_counts(counts, n) for n in (8, 20, 60, 200)}
    full = coverage_bounds(list(exact), counts=counts, include_anchor=False)
    # beyond the S2 limit the upper bound is the product alone: still a bracket
    monkeypatch.setattr(asy, "_S2_MAX_DISTINCT", 2)
    fallback = coverage_bounds(list(exact), counts=counts, include_anchor=False)
    N = sum(counts)
    for i, (n, ex) in enumerate(exact.items()):
        assert_brackets(full.lower[i], full.upper[i], ex)
        assert_brackets(fallback.lower[i], fallback.upper[i], ex)
        _, _, prod = exact_s1_s2_prod([Fraction(c, N) for c in counts], n)
        assert fallback.upper[i] == pytest.approx(float(prod), rel=1e-12, abs=0)
        assert fallback.upper[i] >= full.upper[i]


def test_bounds_many_distinct_probabilities() -> None:
    # 300 distinct class sizes: S2 over 45,150 pairs in chunks; compare with
    # the formulas evaluated in mpmath
    counts = list(range(1, 301))
    N = sum(counts)
    with mpmath.workdps(40):
        for n in (40_000, 150_000):
            b = coverage_bounds(n, counts=counts, include_anchor=False)
            s1 = mpmath.fsum((1 - mpmath.mpf(c) / N) ** n for c in counts)
            s2 = mpmath.fsum((1 - mpmath.mpf(c + d) / N) ** n
                             for c, d in itertools.combinations(counts, 2))
            prod = mpmath.fprod(1 - (1 - mpmath.mpf(c) / N) ** n for c in counts)
            assert b.lower == pytest.approx(float(max(0, 1 - s1)), abs=1e-12)
            assert b.upper == pytest.approx(float(min(1 - s1 + s2, prod)), rel=1e-12, abs=0)
            assert b.lower <= b.upper <= 1.0


def test_coverage_bounds_dataclass() -> None:
    b = coverage_bounds(31, 10)
    assert isinstance(b.lower, float) and isinstance(b.upper, float)
    assert repr(b).startswith("CoverageBounds(lower=0.65")
    assert set(b.to_dict()) == {"lower", "upper", "log_lower", "log_upper"}
    assert b.log_lower == pytest.approx(math.log(b.lower)) and b.log_upper == pytest.approx(math.log(b.upper))
    assert CoverageBounds(0.5, 1.0).log_lower == math.log(0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.lower = 0.0  # type: ignore[misc]
    arr = coverage_bounds([[31, 63], [127, 255]], 10)
    assert isinstance(arr.lower, np.ndarray) and arr.lower.shape == (2, 2)
    assert not arr.lower.flags.writeable
    assert arr.to_dict()["upper"][0][0] == b.upper
    assert arr == coverage_bounds(np.array([[31, 63], [127, 255]]), 10)
    assert arr != b


# ---------------------------------------------------------------------------
# Gumbel and Poisson approximations approach the exact value in their regime
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("x", [-1.0, 0.0, 1.0])
def test_gumbel_and_poisson_converge_uniform(x: float) -> None:
    """ER61: at n = C ln C + xC the relative error falls roughly tenfold per decade of C."""
    gum, poi = [], []
    for C in (10, 100, 1000):
        n = round(C * math.log(C) + x * C)
        exact = mp_upsilon_uniform(C, n)
        gum.append(float(abs(gumbel_coverage(n, C, include_anchor=False) - exact) / exact))
        poi.append(float(abs(poisson_coverage(n, C, include_anchor=False) - exact) / exact))
    for errs in (gum, poi):
        assert errs[0] > 4 * errs[1] > 16 * errs[2]
        assert errs[2] < 0.02
    # the limit itself: exp(-e^{-x})
    assert gumbel_coverage(round(1000 * math.log(1000) + x * 1000), 1000,
                           include_anchor=False) == pytest.approx(math.exp(-math.exp(-x)),
                                                                  rel=2e-3, abs=0)


def test_gumbel_error_at_large_C() -> None:
    C = 10_000
    n = round(C * math.log(C))
    exact = float(mp_upsilon_uniform(C, n))
    assert exact == pytest.approx(0.36784621459514, rel=1e-12, abs=0)
    assert abs(gumbel_coverage(n - 1, C) - exact) / exact < 1e-4
    assert abs(poisson_coverage(n - 1, C) - exact) / exact < 1e-6


def test_poisson_converges_nonuniform() -> None:
    """Two class weights (1 and 2), C = 8, 24, 48: n near the median of T."""
    errs = []
    for m in (4, 12, 24):
        counts = [1] * m + [2] * m
        total = 3 * m
        n = round(total * (math.log(m) + 0.5))
        exact = mp_upsilon_two_groups(m, 1, m, 2, n)
        errs.append(float(abs(poisson_coverage(n, counts=counts, include_anchor=False) - exact)
                          / exact))
        assert 0.05 < float(exact) < 0.95
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 0.02


def test_tail_form_relative_error_vanishes() -> None:
    """1 - upsilon_n ~ S1: the ratio tends to 1 as n grows (C = 10)."""
    ratios = []
    for n in (40, 80, 160):
        miss = 1 - exact_upsilon_uniform(10, n)
        approx_miss = 1.0 - tail_coverage(n, 10, include_anchor=False)
        ratios.append(abs(approx_miss / float(miss) - 1.0))
    assert ratios[0] > ratios[1] > ratios[2]
    assert ratios[2] < 1e-6
    assert tail_coverage(9, 2) == 1 - 2 * 0.5**10


def test_poisson_log_space_and_values() -> None:
    # value by hand: (1 - e^{-32/10})^10
    assert poisson_coverage(31, 10) == pytest.approx((1 - math.exp(-3.2)) ** 10, rel=1e-14, abs=0)
    # non-uniform by hand
    p = [0.2, 0.3, 0.5]
    want = math.prod(1 - math.exp(-50 * q) for q in p)
    assert poisson_coverage(49, probs=p) == pytest.approx(want, rel=1e-14, abs=0)
    # log form where the value underflows
    lp = log_poisson_coverage(9999, 10**5)
    assert lp == pytest.approx(10**5 * math.log(-math.expm1(-0.1)), rel=1e-13, abs=0)
    assert poisson_coverage(9999, 10**5) == 0.0
    # tiny x = n rho keeps relative accuracy (no log(1 - (1 - x)))
    assert log_poisson_coverage(0, 10**9) == pytest.approx(10**9 * math.log(-math.expm1(-1e-9)),
                                                           rel=1e-13, abs=0)
    assert poisson_coverage(0, 3, include_anchor=False) == 0.0
    assert log_poisson_coverage(0, 3, include_anchor=False) == -math.inf
    assert log_gumbel_coverage(999, 100) == pytest.approx(-100 * math.exp(-10), rel=1e-15, abs=0)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 50), min_size=1, max_size=30),
    K=st.integers(1, 2000),
)
def test_approximations_laws(counts: list[int], K: int) -> None:
    perm = counts[::-1]
    for f in (poisson_coverage, tail_coverage):
        v = f(K, counts=counts)
        assert 0.0 <= v <= 1.0
        assert v == pytest.approx(f(K, counts=perm), rel=1e-12, abs=1e-300)
        assert f(K, counts=counts) >= f(K - 1, counts=counts)  # non-decreasing in n
        # include_anchor shifts n by one
        assert f(K, counts=counts, include_anchor=False) == f(K - 1, counts=counts)
    # and the values are math-asymptotic's formulas, evaluated exactly / at 40 digits
    N, n = sum(counts), K + 1
    s1 = sum((Fraction(N - c, N) ** n for c in counts), Fraction(0))
    tail = min(Fraction(1), max(Fraction(0), 1 - s1))
    assert tail_coverage(K, counts=counts) == pytest.approx(float(tail), rel=1e-12, abs=1e-15)
    with mpmath.workdps(40):
        poi = mpmath.fprod(-mpmath.expm1(-n * mpmath.mpf(c) / N) for c in counts)
    assert poisson_coverage(K, counts=counts) == pytest.approx(float(poi), rel=1e-12, abs=1e-300)
    b = coverage_bounds(K, counts=counts)
    assert b.lower <= b.upper
    b_perm = coverage_bounds(K, counts=perm)
    assert b.lower == pytest.approx(b_perm.lower, rel=1e-12, abs=1e-15)
    assert b.upper == pytest.approx(b_perm.upper, rel=1e-12, abs=1e-15)
    # and a rigorous bracket of the exact value (small priors only: 2^C subsets)
    if len(counts) <= 10:
        assert_brackets(b.lower, b.upper, exact_upsilon_counts(counts, n))


# ---------------------------------------------------------------------------
# API contract
# ---------------------------------------------------------------------------


def test_scalar_and_array_contract() -> None:
    for f in (poisson_coverage, log_poisson_coverage, tail_coverage, gumbel_coverage,
              log_gumbel_coverage):
        v = f(31, 10)
        assert type(v) is float
        a = f([[31], [63]], 10)
        assert isinstance(a, np.ndarray) and a.shape == (2, 1)
        assert a[0, 0] == v
        assert f(np.int64(31), 10) == v
        assert f(31.0, 10) == v


def test_errors_name_the_argument() -> None:
    with pytest.raises(ValueError, match="K"):
        coverage_bounds(-1, 10)
    with pytest.raises(ValueError, match="K"):
        poisson_coverage([3, -2], 10)
    with pytest.raises(TypeError, match="K"):
        tail_coverage("5", 10)
    with pytest.raises(ValueError, match="K"):
        gumbel_coverage(2.5, 10)
    with pytest.raises(ValueError, match="C"):
        gumbel_coverage(5, 0)
    with pytest.raises(TypeError, match="include_anchor"):
        coverage_bounds(5, 10, include_anchor="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="probs"):
        coverage_bounds(5, probs=[0.5, 0.6])
    with pytest.raises(ValueError, match="counts"):
        poisson_coverage(5, counts=[1, 0])
    with pytest.raises(TypeError, match="probs"):
        gumbel_coverage(5, probs=[0.5, 0.5])  # type: ignore[call-arg]
    # never NaN from valid input
    for K in (0, 1, 10**15):
        for f in (poisson_coverage, tail_coverage, gumbel_coverage):
            assert not math.isnan(f(K, 1))
        b = coverage_bounds(K, counts=[1, 2])
        assert not (math.isnan(b.lower) or math.isnan(b.upper))


# ---------------------------------------------------------------------------
# issue 12, D13: the bracket in log space never excludes the truth
# ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=120, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=8), n=st.integers(0, 200))
def test_log_bounds_bracket_exact_counts(counts: list[int], n: int) -> None:
    b = coverage_bounds(n, counts=counts, include_anchor=False)
    exact = exact_upsilon_counts(counts, n)
    if exact == 0:
        assert b.log_lower == b.log_upper == -math.inf and b.upper == 0.0
        return
    with mpmath.workdps(40):
        log_exact = mpmath.log(mpmath.mpf(exact.numerator)) - mpmath.log(exact.denominator)
    assert b.log_lower <= log_exact <= b.log_upper
    assert b.lower <= math.exp(b.log_lower) * (1 + 1e-14) + 1e-300
    assert 0.0 < b.upper


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_log_bounds_where_upsilon_underflows() -> None:
    # uniform C = 1000, n = C: upsilon = C!/C^C = e^-994.6, below the smallest double
    C = 1000
    b = coverage_bounds(C, C, include_anchor=False)
    with mpmath.workdps(40):
        log_exact = mpmath.loggamma(C + 1) - C * mpmath.log(C)
    assert b.upper > 0.0          # was 0.0: the bracket excluded the truth
    assert b.log_lower == -math.inf and log_exact <= b.log_upper <= 0.0
    # the reproducer: p ~ 1/r, r = 1..10^4, K = 10^5 (log upsilon ~ -1699)
    r = np.arange(1, 10**4 + 1)
    p = (1 / r) / np.sum(1 / r)
    b = coverage_bounds(10**5, probs=p)
    assert b.upper > 0.0 and -1699.05 < b.log_upper < 0.0
    assert b.log_upper >= log_coverage_prob(10**5, probs=p)
