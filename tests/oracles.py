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


def hyper_elog_mp(K: int, counts: list[int], dps: int = 30) -> mpmath.mpf:
    """E ln(1 + Col) without replacement (math-collisions): for each class c,
    Col ~ Hypergeom(N - 1, n_c - 1, K); the pmf is walked outwards from its mode
    by the exact term ratio in mpmath (normalised by its own sum, stopping where
    terms fall below 10^-(dps + 10) of the mode), weighted by n_c / N."""
    N = sum(counts)
    total = mpmath.mpf(0)
    with mpmath.workdps(dps + 10):
        for n_c in sorted(set(counts)):
            mult = counts.count(n_c)
            a, b = n_c - 1, N - n_c
            lo_sup, hi_sup = max(0, K - b), min(K, a)
            mode = min(max((K + 1) * (a + 1) // (a + b + 2), lo_sup), hi_sup)
            tiny = mpmath.mpf(10) ** (-(dps + 10))
            num = mpmath.log1p(mode)
            den = mpmath.mpf(1)
            t = mpmath.mpf(1)
            for m in range(mode, hi_sup):  # upwards: P(m+1)/P(m)
                t *= mpmath.mpf((a - m) * (K - m)) / ((m + 1) * (b - K + m + 1))
                num += t * mpmath.log1p(m + 1)
                den += t
                if t < tiny:
                    break
            t = mpmath.mpf(1)
            for m in range(mode, lo_sup, -1):  # downwards: P(m-1)/P(m)
                t *= mpmath.mpf(m * (b - K + m)) / ((a - m + 1) * (K - m + 1))
                num += t * mpmath.log1p(m - 1)
                den += t
                if t < tiny:
                    break
            total += mpmath.mpf(mult * n_c) / N * num / den
    return total


def hyper_miss_log_mp(K: int, n_c: int, N: int, dps: int = 40) -> mpmath.mpf:
    """log P(Col = 0 | class of size n_c) = log[binom(N - n_c, K) / binom(N - 1, K)]
    by mpmath log-gamma at high precision (exact integers would be too big for
    huge K); -inf when K > N - n_c."""
    if K > N - n_c:
        return mpmath.mpf("-inf")
    with mpmath.workdps(dps + len(str(N)) + 10):
        lg = mpmath.loggamma
        return (lg(N - n_c + 1) - lg(N - n_c - K + 1) - lg(N) + lg(N - K))


def hyper_tau_exact(K: int, counts: list[int]) -> Fraction:
    """tau_K without replacement by exact integers: 1 - sum_c (n_c/N) binom(N-n_c, K)/binom(N-1, K)."""
    N = sum(counts)
    den = math.comb(N - 1, K)
    return 1 - sum(Fraction(n_c * math.comb(N - n_c, K), N * den) for n_c in counts)


def expected_T2_subsets(weights: list[int]) -> Fraction:
    """E[T^2] with replacement: sum_n (2n + 1) P(T > n) = sum_S (-1)^{|S|+1} (2 - rho_S) / rho_S^2."""
    N = sum(weights)
    acc = Fraction(0)
    for r in range(1, len(weights) + 1):
        for S in combinations(weights, r):
            rho = Fraction(sum(S), N)
            acc += (-1) ** (r + 1) * (2 - rho) / rho**2
    return acc


def hyper_pmf(counts: list[int]) -> list[Fraction]:
    """Without replacement: P(T = n), n = 0..N, as differences of hypergeometric_ie."""
    N = sum(counts)
    cdf = [hypergeometric_ie(n, counts) for n in range(N + 1)]
    return [cdf[0]] + [cdf[n] - cdf[n - 1] for n in range(1, N + 1)]


def permutation_pmf(counts: list[int]) -> dict[int, Fraction]:
    """Without replacement by brute force: T over every ordering of the N samples."""
    from itertools import permutations

    labels = [c for c, m in enumerate(counts) for _ in range(m)]
    C = len(counts)
    tally: dict[int, int] = {}
    total = 0
    for perm in permutations(labels):
        seen = set()
        for pos, lab in enumerate(perm, start=1):
            seen.add(lab)
            if len(seen) == C:
                tally[pos] = tally.get(pos, 0) + 1
                break
        total += 1
    return {t: Fraction(k, total) for t, k in tally.items()}


def hyper_moments(counts: list[int]) -> tuple[Fraction, Fraction]:
    """Without replacement: (E[T], E[T^2]) exactly, for data sets of any size.

    P(T > n) = sum_{S nonempty} (-1)^{|S|+1} binom(N - m_S, n) / binom(N, n) and,
    summed over n (hockey stick), sum_n binom(N - m, n) / binom(N, n) = (N + 1)/(m + 1),
    sum_n (2n + 1) binom(N - m, n) / binom(N, n) = (N + 1)(2N + 2 - m)/((m + 1)(m + 2)).
    The signed subset sums come from the integer polynomial prod_c (1 - x^{n_c});
    everything is summed over one common denominator (integers only).
    """
    N = sum(counts)
    poly = {0: 1}
    for m in counts:
        new = dict(poly)
        for s, a in poly.items():
            new[s + m] = new.get(s + m, 0) - a
        poly = {s: a for s, a in new.items() if a}
    den = math.lcm(*range(1, N + 3))
    s1 = 0
    s2 = 0
    for s, a in poly.items():
        if s == 0:
            continue
        s1 -= a * (den // (s + 1))
        s2 -= a * (2 * N + 2 - s) * (den // ((s + 1) * (s + 2)))
    return Fraction((N + 1) * s1, den), Fraction((N + 1) * s2, den)
