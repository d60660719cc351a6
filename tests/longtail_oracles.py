"""Independent oracles for the long-tail coverage engine (tests/test_longtail.py).

Nothing here imports couponbound.  Three textbook routes:

* :func:`grouped_ie` -- inclusion-exclusion grouped by distinct probability,
  ``upsilon_n = sum_k prod_g binom(m_g, k_g) (-1)^{|k|} (1 - sum_g k_g p_g)^n``,
  in mpmath with the precision raised until two runs agree to 1e-25 (few
  distinct probabilities, small multiplicities);
* :func:`ztp_convolution` -- Poissonisation: with independent class counts
  ``X_c ~ Poisson(p_c lam)``, ``P(all X_c >= 1, sum X_c = n) = Poi(n; lam) upsilon_n``,
  and given ``X_c >= 1`` the ``X_c`` are zero-truncated Poissons, so
  ``upsilon_n = P(sum Y_c = n) prod_c (1 - e^{-p_c lam}) / Poi(n; lam)``;
  ``P(sum Y_c = n)`` is an exact convolution of non-negative long-double pmfs
  (no cancellation, relative error ~ C * 1e-19), the pmfs from mpmath;
* :func:`miss_bonferroni` -- ``1 - upsilon_n`` bracketed by the Bonferroni
  inequalities ``S1 - S2 <= 1 - upsilon <= S1 - S2 + S3`` in mpmath, for the far
  right tail where the bracket is narrower than the accuracy tested.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np


def grouped_ie(n: int, probs: list[Fraction], mult: list[int], miss: bool = False) -> mpmath.mpf:
    """``upsilon_n`` (or ``1 - upsilon_n``) by grouped inclusion-exclusion, exact rationals in."""
    def run(dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps):
            total = mpmath.mpf(0)
            for ks in itertools.product(*[range(m + 1) for m in mult]):
                if miss and not any(ks):
                    continue
                s = sum((k * p for k, p in zip(ks, probs, strict=True)), Fraction(0))
                if s >= 1:
                    continue
                coef = math.prod(math.comb(m, k) for m, k in zip(mult, ks, strict=True))
                sign = -1 if sum(ks) % 2 else 1
                rest = 1 - s
                total += sign * coef * mpmath.power(mpmath.mpf(rest.numerator) / rest.denominator, n)
            return -total if miss else total

    dps = 40
    prev = run(dps)
    while True:
        dps *= 2
        cur = run(dps)
        if prev != 0 and abs(cur - prev) <= abs(cur) * mpmath.mpf(10) ** -25:
            return cur
        if dps > 3000:
            raise RuntimeError("grouped_ie did not stabilise")
        prev = cur


def _ztp_log_pmf(k: np.ndarray, mu: float) -> np.ndarray:
    """log P(Y = k), Y zero-truncated Poisson(mu), k >= 1, in mpmath."""
    lmu = mpmath.log(mu)
    lnorm = mpmath.log(-mpmath.expm1(-mu))
    return np.array([float(-mu + int(kk) * lmu - mpmath.loggamma(int(kk) + 1) - lnorm) for kk in k])


def _ztp_rel_pmf(k: np.ndarray, mu: float) -> tuple[np.ndarray, mpmath.mpf]:
    """``(P(Y = k) / M, log M)`` for ``Y ~ ZTP(mu)``: the ratios from log differences
    taken in mpmath (30 digits), so they keep full accuracy for large ``k``."""
    with mpmath.workdps(30):
        lmu = mpmath.log(mu)
        lnorm = mpmath.log(-mpmath.expm1(-mpmath.mpf(mu)))
        logs = [-mu + int(kk) * lmu - mpmath.loggamma(int(kk) + 1) - lnorm for kk in k]
        mx = max(logs)
        rel = np.array([float(v - mx) for v in logs], dtype=np.longdouble)
    return np.exp(rel), mx


def ztp_convolution(n: int, probs: list[float]) -> mpmath.mpf:
    """``log upsilon_n`` by the exact convolution of zero-truncated Poisson pmfs."""
    C = len(probs)
    if n < C:
        return mpmath.mpf("-inf")
    lam = _rate_for(n, probs)
    top = n - C + 1  # support of Y_c - 1 that can matter
    k = np.arange(1, top + 1)
    acc = np.zeros(1, dtype=np.longdouble)
    acc[0] = 1.0
    log_scale = mpmath.mpf(0)
    for p in probs:
        lp = _ztp_log_pmf(k, p * lam)
        m = float(lp.max())
        pmf = np.exp((lp - m).astype(np.longdouble))
        log_scale += m
        acc = np.convolve(acc, pmf)[:top]
        _, e = np.frexp(acc.max())  # rescale by an exact power of two
        acc = np.ldexp(acc, -int(e))
        log_scale += int(e) * mpmath.log(2)
    val = acc[n - C]
    if val <= 0:
        return mpmath.mpf("-inf")
    with mpmath.workdps(30):
        log_sum = log_scale + mpmath.log(mpmath.mpf(np.format_float_scientific(val, precision=21)))
        log_prod = mpmath.fsum(mpmath.log(-mpmath.expm1(-mpmath.mpf(p) * lam)) for p in probs)
        log_poi = -lam + n * mpmath.log(lam) - mpmath.loggamma(n + 1)
        return log_sum + log_prod - log_poi


def miss_bonferroni(n: int, probs: list[Fraction]) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(S1 - S2, S1 - S2 + S3)``, a bracket of ``1 - upsilon_n``."""
    with mpmath.workdps(60):
        q = [mpmath.mpf(p.numerator) / p.denominator for p in probs]
        C = len(q)
        s1 = mpmath.fsum(mpmath.power(1 - a, n) for a in q)
        s2 = mpmath.fsum(mpmath.power(1 - q[i] - q[j], n) for i in range(C) for j in range(i + 1, C))
        s3 = mpmath.fsum(mpmath.power(1 - q[i] - q[j] - q[k], n)
                         for i in range(C) for j in range(i + 1, C) for k in range(j + 1, C))
        return s1 - s2, s1 - s2 + s3


def _rate_for(n: int, probs: list[float]) -> float:
    """A Poisson rate at which the zero-truncated counts have mean about ``n`` (bisection)."""
    lo, hi = 1e-9, 10.0 * n
    for _ in range(200):
        lam = math.sqrt(lo * hi)
        mean = sum(p * lam / -math.expm1(-p * lam) for p in probs)
        if mean < n:
            lo = lam
        else:
            hi = lam
    return math.sqrt(lo * hi)


def ztp_log_pmf_T(n: int, probs: list[float]) -> mpmath.mpf:
    """``log P(T = n)`` of the completion time by exact zero-truncated-Poisson convolutions.

    ``P(T = n) = sum_c p_c (n-1)! [t^{n-1}] prod_{d != c} (e^{p_d t} - 1)`` and, with
    ``Y_d ~ ZTP(p_d lam)``, ``m! [t^m] prod_{d != c} (e^{p_d t} - 1) = m! lam^{-m}
    prod_{d != c} (e^{p_d lam} - 1) P(sum_{d != c} Y_d = m)``.  The ``C`` sums leave
    one class out each, so prefix and suffix convolutions (non-negative long
    doubles, exact power-of-two rescaling) serve them all.
    """
    C = len(probs)
    m = n - 1
    if m < C - 1:
        return mpmath.mpf("-inf")
    lam = _rate_for(max(m, C), probs)
    top = m - (C - 1) + 1  # support of sum (Y_d - 1) that can matter
    k = np.arange(1, top + 1)
    pmfs = []
    scales = []
    for p in probs:
        rel, mx = _ztp_rel_pmf(k, p * lam)
        pmfs.append(rel)
        scales.append(mx)

    def chain(order: list[int]) -> list[tuple[np.ndarray, mpmath.mpf]]:
        acc = np.zeros(top, dtype=np.longdouble)
        acc[0] = 1.0
        scale = mpmath.mpf(0)
        out = [(acc.copy(), scale)]
        for i in order:
            acc = np.convolve(acc, pmfs[i])[:top]
            scale += scales[i]
            _, e = np.frexp(acc.max())
            acc = np.ldexp(acc, -int(e))
            scale += int(e) * mpmath.log(2)
            out.append((acc.copy(), scale))
        return out

    pre = chain(list(range(C)))  # pre[c]: classes 0..c-1
    suf = chain(list(range(C - 1, -1, -1)))  # suf[j]: the last j classes
    with mpmath.workdps(30):
        log_e = [mpmath.log(mpmath.expm1(mpmath.mpf(p) * lam)) for p in probs]
        total_log_e = mpmath.fsum(log_e)
        terms = []
        for c in range(C):
            a, sa = pre[c]
            b, sb = suf[C - 1 - c]
            val = np.sum(a[: top] * b[top - 1:: -1][: top])
            if val <= 0:
                continue
            lv = mpmath.log(mpmath.mpf(np.format_float_scientific(val, precision=21)))
            terms.append(mpmath.log(probs[c]) + total_log_e - log_e[c] + sa + sb + lv)
        if not terms:
            return mpmath.mpf("-inf")
        mx = max(terms)
        log_sum = mx + mpmath.log(mpmath.fsum(mpmath.exp(t - mx) for t in terms))
        return log_sum + mpmath.loggamma(m + 1) - m * mpmath.log(lam)


def _circle_mp(n: int, probs: list[float], radius: float, width: float, dps: int,
               miss: bool) -> mpmath.mpf:
    """``log(n! [t^n] G(t))`` for ``G = e^t (1 - prod_c (1 - e^{-p_c t}))`` (``miss``) or
    ``prod_c (e^{p_c t} - 1)``: the Cauchy integral on ``|t| = radius`` by mpmath's
    adaptive quadrature at ``dps`` digits, split at multiples of ``width`` in theta
    (every product and difference in that precision; no series, no Chebyshev sums)."""
    with mpmath.workdps(dps):
        P = [mpmath.mpf(float(x)) for x in probs]
        s = mpmath.fsum(P)
        P = [x / s for x in P]
        r = mpmath.mpf(radius)

        def f(th: mpmath.mpf) -> mpmath.mpf:
            t = r * mpmath.expj(th)
            prod = mpmath.mpf(1)
            for x in P:
                prod *= -mpmath.expm1(-x * t)
            g = (1 - prod) if miss else prod
            return (mpmath.exp(t - r) * g * mpmath.expj(-n * th)).real

        w = mpmath.mpf(width)
        pts = [-mpmath.pi] + [k * w for k in (-40, -10, -3, 0, 3, 10, 40)] + [mpmath.pi]
        val = mpmath.quad(f, pts) / (2 * mpmath.pi)
        return mpmath.log(val) + mpmath.loggamma(n + 1) - n * mpmath.log(r) + r


def miss_circle_mp(n: int, probs: list[float], dps: int = 30) -> mpmath.mpf:
    """``log(1 - upsilon_n) = log(n! [t^n] e^t (1 - prod_c (1 - e^{-p_c t})))`` on
    ``|t| = n`` (:func:`_circle_mp`).  A few seconds for 100 classes."""
    return _circle_mp(n, probs, float(n), 1.0 / math.sqrt(n), dps, miss=True)


def cover_circle_mp(n: int, probs: list[float], radius: float, sigma: float,
                    dps: int = 30) -> mpmath.mpf:
    """``log upsilon_n = log(n! [t^n] prod_c (e^{p_c t} - 1))`` on ``|t| = radius``
    (:func:`_circle_mp`; any radius gives the same value; near the saddle point the
    integrand is peaked, about ``1 / sigma`` wide, and nothing cancels)."""
    return _circle_mp(n, probs, radius, 1.0 / sigma, dps, miss=False)
