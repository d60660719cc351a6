"""The right tail ``1 - upsilon_n`` (``CompletionTime.sf``/``logsf``) and ``log upsilon_n``
near 0, against exact arithmetic, over the whole tail: from 1/2 down to 1e-300.

Oracles (none shares code with the package):

* with replacement: grouped inclusion-exclusion in mpmath with exact rational
  probabilities (``tests/longtail_oracles.grouped_ie``, precision raised until
  stable);
* without replacement: the exact integer coefficients of ``prod_c ((1 + x)^{n_c}
  - 1)``, which count the batches that see every class, so ``1 - upsilon_n`` is
  the exact fraction ``(binom(N, n) - a_n) / binom(N, n)``.

The band ``1e-6 < 1 - upsilon < 1e-1`` is where the package once lost up to
1e-9 (a complex logarithm of ``1 - u`` near 1, and the complement of
``upsilon`` used down to 1e-3).
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from longtail_oracles import grouped_ie

from couponbound import Prior, completion_time, log_coverage_prob


def exact_hits(counts: list[int]) -> list[int]:
    """``a_n = [x^n] prod_c ((1 + x)^{n_c} - 1)``: n-subsets that hit every class."""
    poly = [1]
    for c in counts:
        row = [math.comb(c, j) for j in range(c + 1)]
        new = [0] * (len(poly) + c)
        for i, a in enumerate(poly):
            if a:
                for j in range(1, c + 1):
                    new[i + j] += a * row[j]
        poly = new
    return poly


def mp_ratio(num: int, den: int) -> mpmath.mpf:
    return mpmath.mpf(num) / den


WITHOUT = [[40] * 12, [30, 40, 50, 60] * 5, [100] * 8 + [300] * 4, [25] * 30, [3, 5, 8, 13, 21, 34, 55, 89]]


@pytest.mark.parametrize("counts", WITHOUT, ids=lambda c: f"{len(c)}classes-N{sum(c)}")
def test_without_replacement_whole_tail(counts):
    hits = exact_hits(counts)
    N = sum(counts)
    T = completion_time(Prior.from_counts(counts, replacement=False))
    n = np.arange(len(counts), N + 1)
    logsf = T.logsf(n)
    logcdf = log_coverage_prob(n - 1, counts=counts, replacement=False)
    checked = 0
    with mpmath.workdps(60):
        for i, ni in enumerate(n.tolist()):
            B = math.comb(N, ni)
            miss = B - hits[ni]
            if hits[ni] == 0:
                continue
            if miss == 0:
                assert logsf[i] == -math.inf and logcdf[i] == 0.0
                continue
            m = mp_ratio(miss, B)
            if m < mpmath.mpf("1e-300"):
                continue
            if m <= 0.5:
                want = mpmath.log(m)
                assert abs(logsf[i] - float(want)) <= 1e-12, (ni, float(m))
                checked += 1
            want_cdf = mpmath.log1p(-m)
            assert abs(logcdf[i] - float(want_cdf)) <= 1e-12 * abs(float(want_cdf)), (ni, float(m))
    assert checked >= 20


LEVELS = [
    ([Fraction(1, 55), Fraction(10, 55)], [5, 5]),
    ([Fraction(1, 103), Fraction(50, 103)], [3, 2]),
    ([Fraction(3, 21), Fraction(7, 21), Fraction(11, 21)], [1, 1, 1]),
    ([Fraction(1, 200), Fraction(3, 200), Fraction(3, 50)], [20, 20, 10]),
]


@pytest.mark.parametrize("levels", [*LEVELS[:3], pytest.param(LEVELS[3], marks=pytest.mark.slow)],
                         ids=["two-level", "1-vs-50", "three-classes", "three-level"])
def test_with_replacement_whole_tail(levels):
    probs, mult = levels
    p = np.repeat([float(x) for x in probs], mult)
    T = completion_time(probs=p / p.sum())
    p_min = float(min(probs))
    first = int(math.ceil(math.log(0.5) / math.log1p(-p_min)))
    last = int(math.log(1e-290) / math.log1p(-p_min))
    n = np.unique(np.geomspace(first, last, 40).astype(np.int64))
    logsf = T.logsf(n)
    logcdf = T.logcdf(n)
    for i, ni in enumerate(n.tolist()):
        miss = grouped_ie(ni, probs, mult, miss=True)
        if miss > 0.5 or miss < mpmath.mpf("1e-300"):
            continue
        assert abs(logsf[i] - float(mpmath.log(miss))) <= 1e-12, (ni, float(miss))
        with mpmath.workdps(60):
            want = mpmath.log1p(-miss)
        assert abs(logcdf[i] - float(want)) <= 1e-12 * abs(float(want)), (ni, float(miss))


def test_sf_plus_cdf_is_one_in_the_band():
    """``sf`` is not ``1 - cdf`` rounded, yet the two add up to 1 within their accuracy."""
    T = completion_time(counts=[1] * 5 + [10] * 5)
    n = np.arange(100, 1500, 7)
    sf, cdf = T.sf(n), T.cdf(n)
    # cdf carries a few units of rounding (1e-16 absolute), sf 1e-13 of itself
    assert np.all(np.abs(sf + cdf - 1.0) <= 1e-13 * np.minimum(sf, cdf) + 4e-15)


@pytest.mark.parametrize("fraction", [0.99, 0.9954, 0.9999])
def test_log_upsilon_near_zero_huge_data_set(fraction):
    """Beyond 10^9 draws without replacement ``log upsilon`` near 0 is ``log1p(-sf)`` too
    (it was off by 2e-8 relative when only priors with replacement were refined).  With
    class sizes (10^12, 10^12, 3) and ``n > 10^12`` only the 3-sample class can be
    missed: ``1 - upsilon_n = prod_{i<3} (N - n - i) / (N - i)`` exactly."""
    counts = [10**12, 10**12, 3]
    N = sum(counts)
    n = int(fraction * N)
    with mpmath.workdps(50):
        miss = mpmath.fprod(mpmath.mpf(N - n - i) / (N - i) for i in range(3))
        want = float(mpmath.log1p(-miss))
    got = log_coverage_prob(n - 1, counts=counts, replacement=False)
    assert abs(got / want - 1) < 1e-13
