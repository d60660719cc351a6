"""Independent exact oracles for the coupon collector, written for the tests.

Nothing here imports couponbound: these are the textbook formulas in exact
(Python integers, fractions) or adaptive high-precision (mpmath) arithmetic,
against which every fast path is checked.
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import combinations

import mpmath


def uniform_ie(n: int, C: int) -> Fraction:
    """Uniform prior (math-coverage) by integers: sum_i (-1)^i binom(C, i) (C - i)^n / C^n."""
    s = sum((-1) ** i * math.comb(C, i) * (C - i) ** n for i in range(C + 1))
    return Fraction(s, C**n)


def uniform_stirling(n: int, C: int) -> Fraction:
    """Uniform prior (math-coverage) the other way: C! S2(n, C) / C^n with S2 by its recurrence."""
    if n < C:
        return Fraction(0)
    row = [1] + [0] * C  # S2(0, k)
    for _ in range(n):
        new = [0] * (C + 1)
        for k in range(1, C + 1):
            new[k] = k * row[k] + row[k - 1]
        row = new
    return Fraction(math.factorial(C) * row[C], C**n)


def subsets_ie(n: int, weights: list[int]) -> Fraction:
    """Inclusion-exclusion (math-coverage) over all subsets, prior proportional to integer weights."""
    N = sum(weights)
    s = 0
    for r in range(len(weights) + 1):
        for S in combinations(weights, r):
            s += (-1) ** r * (N - sum(S)) ** n
    return Fraction(s, N**n)


def subsets_ie_probs(n: int, probs: list[Fraction]) -> Fraction:
    """Inclusion-exclusion (math-coverage) over all subsets with exact rational probabilities."""
    total = Fraction(0)
    for r in range(len(probs) + 1):
        for S in combinations(probs, r):
            total += (-1) ** r * (1 - sum(S, Fraction(0))) ** n
    return total


def hypergeometric_ie(n: int, counts: list[int]) -> Fraction:
    """Without replacement: P(a uniform n-subset of the data set hits every class)."""
    N = sum(counts)
    s = 0
    for r in range(len(counts) + 1):
        for S in combinations(counts, r):
            s += (-1) ** r * math.comb(N - sum(S), n)
    return Fraction(s, math.comb(N, n))


def expected_T_subsets(weights: list[int]) -> Fraction:
    """FGT92: E[T] = sum_{S nonempty} (-1)^{|S|+1} / rho(S)."""
    N = sum(weights)
    acc = Fraction(0)
    for r in range(1, len(weights) + 1):
        for S in combinations(weights, r):
            acc += (-1) ** (r + 1) * Fraction(N, sum(S))
    return acc


def frac_log(x: Fraction) -> float:
    """The float nearest log(x) for a positive fraction (40 digits)."""
    with mpmath.workdps(40):
        return float(mpmath.log(mpmath.mpf(x.numerator)) - mpmath.log(mpmath.mpf(x.denominator)))


def mp_uniform_log(n: int, C: int, digits: int = 25) -> mpmath.mpf:
    """log upsilon_n for the uniform prior by inclusion-exclusion in mpmath, the
    working precision raised until the cancellation is paid for (-inf if 0)."""
    if n < C:
        return mpmath.mpf("-inf")
    if C == 1:
        return mpmath.mpf(0)
    logs = []
    for i in range(C):
        logs.append(math.lgamma(C + 1) - math.lgamma(i + 1) - math.lgamma(C - i + 1)
                    + n * math.log1p(-i / C))
    log_max = max(logs)
    extra = 20
    while True:
        prec = digits + extra + int(log_max / math.log(10)) + 10
        with mpmath.workdps(prec):
            cutoff = log_max - (prec + 5) * math.log(10)
            acc = mpmath.mpf(0)
            for i in range(C):
                if logs[i] < cutoff:
                    continue
                t = mpmath.binomial(C, i) * (mpmath.mpf(C - i) / C) ** n
                acc += t if i % 2 == 0 else -t
            if acc > 0:
                lost = log_max / math.log(10) - float(mpmath.log10(acc))
                if lost + digits + 5 <= prec:
                    return mpmath.log(acc)
            else:
                lost = prec
        extra = int(lost) + 20


def rel_err_log(log_fast: float, log_exact: mpmath.mpf) -> float:
    """|upsilon_fast / upsilon_exact - 1| from the two logs."""
    with mpmath.workdps(40):
        return abs(float(mpmath.expm1(mpmath.mpf(log_fast) - log_exact)))
