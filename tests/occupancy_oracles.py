"""Exact oracles for the number of distinct classes (integers and fractions only).

Independent of the package: each counts batches directly.

* with replacement and integer weights ``w_c`` (``p_c = w_c / S``): the number
  of weighted sequences of ``n`` draws whose set of classes has size ``j``,
  by a recursion over the classes on ``(classes so far, draws so far)`` with
  binomial placements, divided by ``S^n``;
* uniform priors: ``C! / (C - j)! S(n, j) / C^n`` with Stirling numbers of the
  second kind;
* without replacement: the integer coefficients of
  ``prod_c (1 + u ((1 + x)^{n_c} - 1))`` divided by ``binom(N, n)``.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, factorial


def stirling2(n: int, j: int) -> int:
    """Stirling number of the second kind by its row recursion."""
    row = [1] + [0] * j
    for m in range(1, n + 1):
        new = [0] * (j + 1)
        for k in range(1, min(m, j) + 1):
            new[k] = k * row[k] + row[k - 1]
        row = new
    return row[j]


def uniform_pmf(n: int, C: int) -> list[Fraction]:
    """``P(D_n = j)`` for ``j = 0..C``, uniform prior with replacement."""
    return [Fraction(factorial(C) // factorial(C - j) * stirling2(n, j), C**n) if j <= n else
            Fraction(0) for j in range(C + 1)]


def weighted_pmf(weights: list[int], n: int) -> list[Fraction]:
    """``P(D_n = j)``, ``j = 0..C``, for ``p_c = w_c / sum(w)`` with replacement."""
    C = len(weights)
    S = sum(weights)
    # P[j][k]: weighted number of sequences of length k using exactly j (chosen) classes
    P = [[0] * (n + 1) for _ in range(C + 1)]
    P[0][0] = 1
    for w in weights:
        Q = [row[:] for row in P]
        for j in range(C):
            for k in range(n + 1):
                v = P[j][k]
                if not v:
                    continue
                for i in range(1, n - k + 1):  # i draws of this class, placed among k + i
                    Q[j + 1][k + i] += v * comb(k + i, i) * w**i
        P = Q
    return [Fraction(P[j][n], S**n) for j in range(C + 1)]


def hypergeometric_pmf(counts: list[int], n: int) -> list[Fraction]:
    """``P(D_n = j)``, ``j = 0..C``, for n draws without replacement."""
    C = len(counts)
    N = sum(counts)
    P = [[0] * (n + 1) for _ in range(C + 1)]
    P[0][0] = 1
    for m in counts:
        Q = [row[:] for row in P]
        for j in range(C):
            for k in range(n + 1):
                v = P[j][k]
                if not v:
                    continue
                for i in range(1, min(m, n - k) + 1):
                    Q[j + 1][k + i] += v * comb(m, i)
        P = Q
    return [Fraction(P[j][n], comb(N, n)) for j in range(C + 1)]


def expected_classes(n: int, weights: list[int] | None = None, counts: list[int] | None = None,
                     replacement: bool = True) -> Fraction:
    """``E[D_n]`` as a fraction (weights or counts give the prior)."""
    if replacement:
        w = weights if weights is not None else counts
        assert w is not None
        S = sum(w)
        return sum((1 - (1 - Fraction(x, S)) ** n for x in w), Fraction(0))
    assert counts is not None
    N = sum(counts)
    return sum((1 - Fraction(comb(N - m, n), comb(N, n)) for m in counts), Fraction(0))


