"""Coefficients of generating functions with non-negative coefficients.

The coverage probability is a normalised Taylor coefficient of a generating
function whose coefficients are all non-negative (:ref:`math-saddle`):

* with replacement, ``upsilon_n = n! [t^n] prod_c (exp(rho_c t) - 1)``;
* without replacement, ``upsilon_n = [x^n] prod_c ((1 + x)^{n_c} - 1) / binom(N, n)``;
* the tail ``1 - upsilon_n = n! [t^n] (e^t - prod_c (exp(rho_c t) - 1))``.

Such a coefficient is computed here by Cauchy's integral on the circle of
radius ``r`` through the saddle point, discretised by the trapezoidal rule,
that is one inverse FFT on ``L`` points (the "saddle-circle DFT").  On that
circle ``a_k r^k / G(r)`` is a probability distribution in ``k`` (the
exponentially tilted one) concentrated around ``n`` with standard deviation
``sigma``; with ``L >= 40 sigma`` the aliased terms ``a_{n +- jL}`` are below
``1e-100`` of the wanted one, and because no terms cancel, rounding errors
stay at a few ``eps * sqrt(n)`` relative.  One FFT yields every coefficient
within a few ``sigma`` of the centre, so a whole curve costs
``O(N_max * G)`` complex operations for ``G`` distinct class probabilities.

All the large pieces (``log G(r)``, ``n log r``, ``log n!``) are combined
analytically into Loader's deviance form (``stirlerr`` and ``bd0``) so the
result keeps full relative accuracy at ``n = 10^6`` and beyond.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------
# accurate elementary pieces
# --------------------------------------------------------------------------

def clog1p(z: ComplexArray) -> ComplexArray:
    """``log(1 + z)`` for complex ``z``, accurate for small ``|z|``.

    numpy's complex ``log1p`` loses relative accuracy near 0; this one does not.
    """
    a = z.real
    b = z.imag
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        small = 0.5 * np.log1p(2.0 * a + a * a + b * b)  # accurate near z = 0
        big = np.log(np.hypot(1.0 + a, b))  # no overflow for large |z|; -inf at z = -1
    re = np.where(np.abs(a) + np.abs(b) < 0.5, small, big)
    im = np.arctan2(b, 1.0 + a)
    return re + 1j * im


def log1mexp(x: FloatArray) -> FloatArray:
    """``log(1 - exp(-x))`` for ``x >= 0`` without cancellation (``-inf`` at 0).

    ``log(-expm1(-x))`` below ``log 2`` and ``log1p(-exp(-x))`` above: the
    latter keeps the relative accuracy of tiny values such as ``log(1 -
    e^{-14})``, which ``log(-expm1(-x))`` rounds to a few digits (a loss that a
    class multiplicity of ``10^6`` turns into ``1e-11`` of ``log upsilon``).
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", under="ignore"):
        small = x < _LOG2
        out: FloatArray = np.where(small, np.log(-np.expm1(-np.where(small, x, 1.0))),
                                   np.log1p(-np.exp(-np.where(small, 1.0, x))))
    return out


_LOG2 = math.log(2.0)


def stirlerr(n: FloatArray) -> FloatArray:
    """``log(n!) - [(n + 1/2) log n - n + log sqrt(2 pi)]`` (Loader 2000)."""
    n = np.asarray(n, dtype=float)
    out = np.empty_like(n)
    big = n >= 16
    nb = n[big]
    inv = 1.0 / nb
    inv2 = inv * inv
    out[big] = inv * (
        1.0 / 12
        - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 / 1188)))
    )
    small = ~big
    for idx in np.flatnonzero(small):
        v = float(n.flat[idx])
        if v == 0:
            out.flat[idx] = -_HALF_LOG_2PI  # log 0! - [0 - 0 + log sqrt(2 pi)], with 0 log 0 = 0
        else:
            out.flat[idx] = math.lgamma(v + 1.0) - ((v + 0.5) * math.log(v) - v + _HALF_LOG_2PI)
    return out


def bd0(x: FloatArray, m: FloatArray) -> FloatArray:
    """Deviance ``x log(x / m) + m - x >= 0``, accurate when ``x ~ m`` (Loader 2000)."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    x, m = np.broadcast_arrays(x, m)
    out = np.empty(x.shape)
    u = (x - m) / m
    near = np.abs(u) < 0.1
    un = u[near]
    # (1 + u) log1p(u) - u = sum_{k>=2} (-1)^k u^k / (k (k - 1))
    acc = np.zeros_like(un)
    p = un * un
    # |u|^(k-2) <= 1e-17 ends the series (relative to its first term, u^2 / 2)
    umax = float(np.max(np.abs(un))) if un.size else 0.0
    k_end = 40 if umax >= 0.1 else (3 if umax == 0.0 else min(40, 3 + int(17.0 / -math.log10(umax))))
    for k in range(2, k_end + 1):
        acc += (p if k % 2 == 0 else -p) / (k * (k - 1))
        p = p * un
    out[near] = m[near] * acc
    far = ~near
    xf = x[far]
    mf = m[far]
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.where(xf > 0, xf * np.log(np.where(xf > 0, xf, 1.0) / mf), 0.0) + mf - xf
    out[far] = val
    return out


def log_poisson_norm(n: FloatArray, r: float | FloatArray) -> FloatArray:
    """``log(n!) + r - n log r`` = ``-log Poisson(n; r)``, without cancellation
    (``r`` a number or an array of ``n``'s shape)."""
    n = np.asarray(n, dtype=float)
    rr = np.broadcast_to(np.asarray(r, dtype=float), n.shape)
    out = np.empty_like(n)
    pos = n > 0
    npos = n[pos]
    out[pos] = _HALF_LOG_2PI + 0.5 * np.log(npos) + stirlerr(npos) + bd0(npos, rr[pos])
    out[~pos] = rr[~pos]
    return out


def log_binom_pmf_neg(n: FloatArray, N: int, p: float, q: float) -> FloatArray:
    """``-log Binomial(n; N, p)`` by Loader's saddle-point formula (0 < n < N, q = 1 - p)."""
    n = np.asarray(n, dtype=float)
    nn = N - n
    val = (
        stirlerr(np.full_like(n, float(N)))
        - stirlerr(n)
        - stirlerr(nn)
        - bd0(n, np.full_like(n, N * p))
        - bd0(nn, np.full_like(n, N * q))
    )
    log_pmf = val + 0.5 * (math.log(N) - np.log(n) - np.log(nn)) - _HALF_LOG_2PI
    return -log_pmf


def log_binom_pmf(x: FloatArray, y: FloatArray, p: FloatArray, q: FloatArray) -> FloatArray:
    """``log Binomial(x; x + y, p)`` (``q = 1 - p`` given separately), Loader's form.

    ``x, y >= 0`` are the numbers of successes and failures (floats holding
    integers, possibly huge); ``0 < p < 1``.  Every piece is either small or a
    deviance (``bd0``), so the absolute error is a few ``eps`` times
    ``max(1, |result|)``: no differences of ``lgamma`` of huge arguments.
    """
    x, y, p, q = (np.asarray(a, dtype=float) for a in (x, y, p, q))
    x, y, p, q = np.broadcast_arrays(x, y, p, q)
    n = x + y
    out = np.zeros(x.shape)
    z0 = (x == 0) & (n > 0)
    if np.any(z0):  # q^n
        n0, p0, q0 = n[z0], p[z0], q[z0]
        out[z0] = np.where(p0 < 0.1, -bd0(n0, n0 * q0) - n0 * p0, n0 * np.log(q0))
    zn = (y == 0) & (x > 0)
    if np.any(zn):  # p^n
        n1, p1, q1 = n[zn], p[zn], q[zn]
        out[zn] = np.where(q1 < 0.1, -bd0(n1, n1 * p1) - n1 * q1, n1 * np.log(p1))
    mid = (x > 0) & (y > 0)
    if np.any(mid):
        xm, ym, nm, pm, qm = x[mid], y[mid], n[mid], p[mid], q[mid]
        lc = stirlerr(nm) - stirlerr(xm) - stirlerr(ym) - bd0(xm, nm * pm) - bd0(ym, nm * qm)
        out[mid] = lc - 0.5 * (2.0 * _HALF_LOG_2PI + np.log(xm) + np.log(ym) - np.log(nm))
    return out


def log_hyper_miss(N: int, m: NDArray[np.int64], n: NDArray[np.int64]) -> FloatArray:
    """``log[binom(N - m, n) / binom(N, n)]`` for every pair ``(m[i], n[j])``: shape ``(len(m), len(n))``.

    The probability that a class of ``m`` samples is absent from ``n`` draws
    without replacement out of ``N`` (:ref:`math-without-replacement`),
    written as the hypergeometric probability of zero,
    ``Bin(0; m, p) Bin(n; N - m, p) / Bin(n; N, p)`` with ``p = n / N``, each
    factor in Loader's form (:func:`log_binom_pmf`).  Absolute error a few
    ``eps * max(1, |result|)`` for ``N`` up to ``2**62``; ``-inf`` where
    ``n > N - m``, exactly ``0`` at ``n = 0``.
    """
    mi = np.asarray(m, dtype=np.int64)[:, None]
    ni = np.asarray(n, dtype=np.int64)[None, :]
    mi, ni = np.broadcast_arrays(mi, ni)
    out = np.full(mi.shape, -np.inf)
    out[ni == 0] = 0.0
    ok = (ni > 0) & (ni <= N - mi)
    if np.any(ok):
        mo, no = mi[ok], ni[ok]
        p = no / N
        q = (N - no) / N
        rest = N - mo - no  # >= 0, exact in int64
        out[ok] = (log_binom_pmf(np.zeros(mo.shape), mo.astype(float), p, q)
                   + log_binom_pmf(no.astype(float), rest.astype(float), p, q)
                   - log_binom_pmf(no.astype(float), (N - no).astype(float), p, q))
    return np.minimum(out, 0.0)


#: log_hyper_zero sums the shorter product term by term up to this length.
_ZERO_DIRECT_MAX = 64


def _em_power_sum(x: float, h: int, j: int) -> float:
    """``x^j sum_{t < h} (x + t)^{-j}`` by Euler-Maclaurin (``x >= 8000``: remainder < 1e-20).

    Every difference ``x^{-p} - (x + h)^{-p}`` is formed as
    ``-expm1(-p log1p(h / x)) x^{-p}``, so nothing cancels.
    """
    L = math.log1p(h / x)

    def e(p: int) -> float:
        return -math.expm1(-p * L)

    main = x * L if j == 1 else x * e(j - 1) / (j - 1)
    return (main + e(j) / 2 + j * e(j + 1) / (12 * x)
            - j * (j + 1) * (j + 2) * e(j + 3) / (720 * x**3)
            + j * (j + 1) * (j + 2) * (j + 3) * (j + 4) * e(j + 5) / (30240 * x**5))


def log_hyper_zero(M: int, a: int, K: int) -> float:
    """``log[binom(M - a, K) / binom(M, K)]`` with full relative accuracy, in O(1).

    The probability that none of ``a`` marked items is among ``K`` drawn
    without replacement from ``M`` (``P(Col = 0)`` of :ref:`math-collisions`),
    ``= sum_{i < s} log1p(-l / (M - i))`` with ``s = min(a, K)``,
    ``l = max(a, K)``.  Short products (``s <= 64``) are summed term by term;
    otherwise Loader's form (:func:`log_hyper_miss`, absolute error a few
    ``eps``) is used when the result is at most ``-1/2``, and closer to 0 the
    series ``-sum_j l^j H_j / j`` with the power sums ``H_j = sum_{i<s} (M - i)^{-j}``
    by Euler-Maclaurin (there ``l / (M - s) < 0.01`` and ``M > 8000``), so
    that ``-expm1`` of the result keeps full relative accuracy.  ``-inf`` if
    ``K > M - a``.
    """
    if a <= 0 or K <= 0:
        return 0.0
    if K > M - a:
        return -math.inf
    s, big = (a, K) if a <= K else (K, a)
    if s <= _ZERO_DIRECT_MAX:
        # each factor (M - i - l) / (M - i) from exact integers (int / int rounds once)
        return math.fsum(math.log1p(-big / (M - i)) if 2 * big <= M - i
                         else math.log((M - i - big) / (M - i)) for i in range(s))
    v = float(log_hyper_miss(M, np.array([a]), np.array([K]))[0, 0])
    if v <= -0.5:
        return v
    x = float(M - s + 1)
    r = big / x
    total = 0.0
    j = 1
    rj = r
    while True:
        term = rj * _em_power_sum(x, s, j) / j
        total += term
        if term <= 1e-18 * total or j > 60:
            return -total
        j += 1
        rj *= r


def log_falling_ratio(N: int, C: int) -> float:
    """``log[N! / ((N - C)! N^C)] = sum_{j < C} log(1 - j / N)``, without cancellation."""
    if C <= 1:
        return 0.0
    if C <= 100_000:
        return float(math.fsum(np.log1p(-np.arange(1, C, dtype=float) / N)))
    # binom(N, C) = Bin(C; N, p) / (p^C q^(N - C)), p = C / N
    p = C / N
    q = (N - C) / N
    lpmf = float(log_binom_pmf(np.array([float(C)]), np.array([float(N - C)]), np.array([p]),
                               np.array([q]))[0])
    # log binom(N, C) + log C! - C log N, with C log p + C log N = C log C
    return lpmf - C * math.log(C) - (N - C) * math.log1p(-p) + math.lgamma(C + 1)


def log_expm1_ratio(x: float, d: ComplexArray) -> ComplexArray:
    """``log(expm1(x + d) / expm1(x))`` for real ``x > 0`` and complex ``d``.

    For ``x > 1/2`` as ``d + log(1 - e^{-(x+d)}) - log(1 - e^{-x})``, which
    stays accurate where the ratio is tiny (large ``x``, ``Re d << 0``); for
    small ``x`` as ``log1p(expm1(d) / (1 - e^{-x}))``, whose argument is then
    bounded away from -1.  Zeros of ``expm1`` give ``-inf``.
    """
    # exp overflows only where |expm1(x + d) / expm1(x)| < e^{-x} < e^{-354}: a
    # factor that is zero in double precision, given as -inf below
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if x > 0.5:
            out = d + clog1p(-np.exp(-(x + d))) - math.log1p(-math.exp(-x))
        else:
            out = clog1p(np.asarray(np.expm1(d) / (-math.expm1(-x)), dtype=complex))
    return np.where(np.isfinite(out), out, -np.inf + 0j)


# --------------------------------------------------------------------------
# the generating functions
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class GF:
    """A generating function ``G`` with non-negative coefficients, seen on circles.

    ``log_g(r)`` is ``log G(r)``; ``log_ratio(r, theta)`` is
    ``log(G(r e^{i theta}) / G(r))`` computed accurately; ``log_scale(n, r)``
    turns ``log([t^n] G(rt) / G(r))`` into the wanted log-probability;
    ``min_degree``/``max_degree`` bound the support of the coefficients.
    """

    log_g: Callable[[float], float]
    log_ratio: Callable[[float, FloatArray], ComplexArray]
    log_scale: Callable[[FloatArray, float], FloatArray]
    mean: Callable[[float], float]
    var: Callable[[float], float]
    min_degree: int
    max_degree: float
    #: ``(lo, hi)`` bracketing ``log r`` of the saddle point for a degree ``n``, if known
    bracket: Callable[[float], tuple[float, float]] | None = None


def _neg_expm1(x: FloatArray) -> FloatArray:
    return -np.expm1(-x)


def egf_coverage(p: FloatArray, k: FloatArray) -> GF:
    """``prod_g (exp(p_g t) - 1)^{k_g}``; scaled coefficient is ``upsilon_n``."""
    p = np.asarray(p, dtype=float)
    k = np.asarray(k, dtype=float)
    C = int(round(float(k.sum())))

    def log_rest(r: float) -> float:
        # log G(r) - r  (sum p k = 1)
        return float(np.sum(k * log1mexp(p * r)))

    def log_g(r: float) -> float:
        return r + log_rest(r)

    if p.size == 1:  # one group (the uniform prior): scalar arithmetic, no arrays
        p1, k1 = float(p[0]), float(k[0])

        def mean(r: float) -> float:
            x = p1 * r
            return k1 * x / -math.expm1(-x)

        def var(r: float) -> float:
            x = p1 * r
            m = x / -math.expm1(-x)
            return k1 * m * (1.0 + x - m)
    else:
        def mean(r: float) -> float:
            x = p * r
            return float(np.sum(k * x / _neg_expm1(x)))

        def var(r: float) -> float:
            x = p * r
            m = x / _neg_expm1(x)
            return float(np.sum(k * m * (1.0 + x - m)))

    def bracket(n: float) -> tuple[float, float]:
        # x / (1 - e^{-x}) lies in [1 + x/2, 1 + x], so the mean lies in
        # [C + r/2, C + r] (sum_g k_g p_g = 1): r in [n - C, 2 (n - C)]
        excess = max(n - C, 1e-300)
        return math.log(excess) - 1e-3, math.log(2.0 * excess) + 1e-3

    def log_ratio(r: float, theta: FloatArray) -> ComplexArray:
        e = np.expm1(1j * theta)  # e^{i theta} - 1, accurate
        out = np.zeros(theta.shape, dtype=complex)
        for pg, kg in zip(p, k, strict=True):
            x = float(pg * r)
            v = log_expm1_ratio(x, x * e)  # w - x = x (e^{i theta} - 1)
            out += kg * v.real + 1j * (kg * v.imag)  # real scaling: -inf stays -inf + 0j
        return out

    def log_scale(n: FloatArray, r: float) -> FloatArray:
        return log_rest(r) + log_poisson_norm(n, r)

    return GF(log_g, log_ratio, log_scale, mean, var, C, math.inf, bracket)


def _log_neg_a(p: FloatArray, k: FloatArray, z: ComplexArray) -> ComplexArray:
    """``log(-A(z))`` with ``A(z) = sum_g k_g log(1 - e^{-p_g z})``, no underflow.

    ``-A = sum_g k_g u_g phi(u_g)`` with ``u = e^{-p z}`` and
    ``phi(u) = -log(1 - u) / u``; the sum is taken as a log-sum-exp.
    """
    z = np.asarray(z, dtype=complex)
    # every group at once: rows are groups, columns the points z
    lu = -np.asarray(p, dtype=float).reshape(-1, 1) * z.reshape(1, -1)  # log u
    small = lu.real < math.log(1e-8)
    right = lu.real > 0.0  # |u| > 1 (possible on the circle of log(1 + x))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        u = np.exp(np.where(small, lu, -1.0))
        series = lu + np.log(1.0 + u / 2.0 + u * u / 3.0)  # log(-log(1 - u)), u tiny
        # log(1 - u): -expm1(lu) exactly near u = 1; u expm1(-lu) for |u| > 1, no overflow
        uf = np.exp(np.where(right, -1.0, lu))
        # |u| < 1/2: log1p(-u) accurate to a relative eps (a complex log of 1 - u
        # would lose log10(1/|u|) digits)
        inner = np.where(right, lu + np.log(np.expm1(-np.where(right, lu, 0.0))),
                         np.where(np.abs(uf) < 0.5, clog1p(-uf),
                                  np.log(-np.expm1(np.where(right, -1.0, lu)))))
        general = np.log(-inner)
    stack = np.log(np.asarray(k, dtype=float)).reshape(-1, 1) + np.where(small, series, general)
    m = np.max(stack.real, axis=0)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        out = m + np.log(np.sum(np.exp(stack - m), axis=0))
    return out.reshape(z.shape)


def _log_expm1_over(a: ComplexArray) -> ComplexArray:
    """``log(expm1(a) / a)`` (with the limit 0 at ``a = 0``)."""
    a = np.asarray(a, dtype=complex)
    small = np.abs(a) < 1e-4
    safe = np.where(small, 1.0, a)
    series = a / 2.0 + a * a / 24.0
    right = safe.real > 0.5
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # Re a > 1/2: expm1(a) = e^a (1 - e^{-a}), never overflowing; only exp(.) of the
        # result is used, so the branch of the complex log does not matter
        big = safe + clog1p(-np.exp(-np.where(right, safe, 1.0))) - np.log(safe)
        plain = np.log(np.expm1(np.where(right, 0.0, safe)) / safe)
    return np.where(small, series, np.where(right, big, plain))


def _numeric_moments(log_g: Callable[[float], float]
                     ) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """Mean and variance of the tilted coefficient law, ``d/du`` and ``d^2/du^2`` of
    ``log_g(e^u)``, by central differences (steps 1e-5 and 1e-3)."""

    def deriv(r: float, h: float) -> tuple[float, float]:
        f0 = log_g(r)
        fp = log_g(r * math.exp(h))
        fm = log_g(r * math.exp(-h))
        return (fp - fm) / (2 * h), max((fp - 2 * f0 + fm) / (h * h), 1e-12)

    return (lambda r: deriv(r, 1e-5)[0]), (lambda r: deriv(r, 1e-3)[1])


def ogf_tail(m: FloatArray, k: FloatArray) -> GF:
    """``(1 + x)^N - prod_g ((1 + x)^{m_g} - 1)^{k_g}``; scaled coefficient is
    ``1 - upsilon_n`` without replacement (:ref:`math-without-replacement`).

    The tail factor is ``1 - prod_g (1 - e^{-m_g z})^{k_g}`` at ``z = log(1 + x)``.
    """
    m = np.asarray(m, dtype=float)
    k = np.asarray(k, dtype=float)
    N = int(round(float(np.sum(m * k))))

    def log_tail_factor(z: ComplexArray) -> ComplexArray:
        lna = _log_neg_a(m, k, z)
        return lna + _log_expm1_over(-np.exp(lna))

    def log_rest(r: float) -> float:
        return float(log_tail_factor(np.array([math.log1p(r) + 0j]))[0].real)

    def log_g(r: float) -> float:
        return N * math.log1p(r) + log_rest(r)

    mean, var = _numeric_moments(log_g)

    def log_ratio(r: float, theta: FloatArray) -> ComplexArray:
        delta = clog1p(r * np.expm1(1j * theta) / (1.0 + r))  # log1p(w) - log1p(r)
        return N * delta + log_tail_factor(math.log1p(r) + delta) - log_rest(r)

    def log_scale(n: FloatArray, r: float) -> FloatArray:
        return log_rest(r) + log_binom_pmf_neg(n, N, r / (1.0 + r), 1.0 / (1.0 + r))

    return GF(log_g, log_ratio, log_scale, mean, var, 0, float(N))


def ogf_hypergeometric(m: FloatArray, k: FloatArray) -> GF:
    """``prod_g ((1 + x)^{m_g} - 1)^{k_g}``; scaled coefficient is the
    without-replacement coverage ``[x^n] G / binom(N, n)``."""
    m = np.asarray(m, dtype=float)
    k = np.asarray(k, dtype=float)
    C = int(round(float(k.sum())))
    N = int(round(float(np.sum(m * k))))

    def log_rest(r: float) -> float:
        # log G(r) - N log(1 + r)
        lr = math.log1p(r)
        return float(np.sum(k * log1mexp(m * lr)))

    def log_g(r: float) -> float:
        return N * math.log1p(r) + log_rest(r)

    def mean(r: float) -> float:
        lr = math.log1p(r)
        return float(np.sum(k * m * (r / (1.0 + r)) / _neg_expm1(m * lr)))

    def var(r: float) -> float:
        h = 1e-3
        s = math.log(r)
        mp = mean(math.exp(s + h))
        mm = mean(math.exp(s - h))
        return max((mp - mm) / (2 * h), 1e-12)

    def log_ratio(r: float, theta: FloatArray) -> ComplexArray:
        lr = math.log1p(r)
        delta = clog1p(r * np.expm1(1j * theta) / (1.0 + r))  # log1p(w) - log1p(r)
        out = np.zeros(theta.shape, dtype=complex)
        for mg, kg in zip(m, k, strict=True):
            # ((1+w)^m - 1)/((1+r)^m - 1) = expm1(a + m delta)/expm1(a), a = m log1p(r)
            v = log_expm1_ratio(float(mg * lr), mg * delta)
            out += kg * v.real + 1j * (kg * v.imag)
        return out

    def log_scale(n: FloatArray, r: float) -> FloatArray:
        # log G(r) - n log r - log binom(N, n)
        #   = N log(1+r) - n log r - log binom(N, n) + log_rest
        #   = -log Binomial(n; N, r/(1+r)) + log_rest
        return log_rest(r) + log_binom_pmf_neg(n, N, r / (1.0 + r), 1.0 / (1.0 + r))

    return GF(log_g, log_ratio, log_scale, mean, var, C, float(N))


def ogf_completion_pmf(m: FloatArray, k: FloatArray) -> GF:
    """``F(x) H(x)`` with ``F = prod_g ((1 + x)^{m_g} - 1)^{k_g}`` and
    ``H = sum_g k_g m_g / ((1 + x)^{m_g} - 1)``: a polynomial with non-negative
    coefficients, ``sum_c n_c prod_{d != c} ((1 + x)^{n_d} - 1)``, whose scaled
    coefficient ``[x^j] F H / (binom(N, j) (N - j))`` is ``P(T = j + 1)`` for the
    completion time without replacement (the first ``j`` samples miss exactly
    one class, sample ``j + 1`` is of that class).

    On the circle ``|w| = r`` each term obeys ``|F(w) h_c(w)| <= F(r) h_c(r)``
    (non-negative coefficients), so the sum ``H(w)`` loses at most ``eps``
    of ``F(r) H(r)``, which is all the trapezoidal rule needs.  Degrees
    ``C - 1 .. N - min_g m_g``.
    """
    m = np.asarray(m, dtype=float)
    k = np.asarray(k, dtype=float)
    base = ogf_hypergeometric(m, k)
    N = int(round(float(np.sum(m * k))))

    def log_h(r: float) -> float:
        # log sum_g k_g m_g e^{-z} / (1 - e^{-z}), z = m_g log1p(r), as a log-sum-exp
        z = m * math.log1p(r)
        terms = np.log(k * m) - z - log1mexp(z)
        top = float(np.max(terms))
        return top + math.log(float(np.sum(np.exp(terms - top))))

    def log_g(r: float) -> float:
        return base.log_g(r) + log_h(r)

    mean, var = _numeric_moments(log_g)

    def log_ratio(r: float, theta: FloatArray) -> ComplexArray:
        lr = math.log1p(r)
        delta = clog1p(r * np.expm1(1j * theta) / (1.0 + r))  # log1p(w) - log1p(r)
        # H(w) / H(r), every term scaled by H(r) (no overflow: 1/expm1 of a large
        # argument underflows to 0, a negligible term)
        lhr = log_h(r)
        hsum = np.zeros(theta.shape, dtype=complex)
        for mg, kg in zip(m, k, strict=True):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
                zc = mg * (lr + delta)
                term = np.exp(math.log(kg * mg) - lhr - zc) / -np.expm1(-zc)
            hsum += np.where(np.isfinite(term), term, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lh = np.log(hsum)
        out = base.log_ratio(r, theta) + lh
        return np.where(np.isfinite(out), out, -np.inf + 0j)

    def log_scale(n: FloatArray, r: float) -> FloatArray:
        return base.log_scale(n, r) + log_h(r) - np.log(N - np.asarray(n, dtype=float))

    return GF(log_g, log_ratio, log_scale, mean, var, base.min_degree - 1,
              float(N - float(np.min(m))))


# --------------------------------------------------------------------------
# the engine
# --------------------------------------------------------------------------

def solve_saddle(gf: GF, n: float) -> float:
    """Radius ``r`` whose tilted distribution has mean ``n``."""
    if gf.bracket is not None and n > gf.min_degree:
        lo, hi = gf.bracket(n)
        s = lo + 0.4 * (hi - lo)
    else:
        lo, hi = -60.0, math.log(max(n, 1.0)) + 5.0
        while gf.mean(math.exp(hi)) < n:
            hi += 5.0
            if hi > 700:  # pragma: no cover - defensive
                break
        s = math.log(max(n, 1e-300))
        s = min(max(s, lo), hi)
    for _ in range(200):
        r = math.exp(s)
        mu = gf.mean(r)
        if mu < n:
            lo = s
        else:
            hi = s
        v = gf.var(r)
        step = (n - mu) / v if v > 0 else 0.0
        s_new = s + step
        if not (lo < s_new < hi) or not math.isfinite(s_new):
            s_new = 0.5 * (lo + hi)
        if abs(s_new - s) < 1e-13 * max(1.0, abs(s)):
            s = s_new
            break
        s = s_new
    return math.exp(s)


#: One FFT serves the targets within this many standard deviations of its
#: centre; a target ``d`` sd away loses about ``exp(d^2 / 2)`` in relative
#: rounding error, so vectorised and scalar calls agree to ~1e-14 (issue 12, D4).
_BAND_SD = 1.0


#: Largest FFT (points) the saddle-point method may use: above it, a ValueError.
MAX_FFT = 2**24


#: The walk over the circle's nodes stops after two consecutive nodes below this
#: (relative to the integrand's value 1 at theta = 0).
_NEGLIGIBLE = 1e-20
#: Bands of at most this many degrees are summed directly over the walked nodes;
#: wider ones take one inverse FFT (its cost does not grow with the band).
_DIRECT_MAX_TARGETS = 32
#: Nodes in the walk's first stretch (then doubled); with ``L ~ 24 sigma`` the
#: integrand ``~ exp(-(sigma theta)^2 / 2)`` is below 1e-20 after about 35 nodes.
_WALK_FIRST = 48


def _circle_coefficients(gf: GF, r: float, L: int, band: NDArray[np.int64]) -> FloatArray:
    """``[x^n] G(r x) / G(r)`` for the degrees ``n`` in ``band``: the trapezoidal rule
    on ``L`` nodes of the circle of radius ``r``.

    The integrand is evaluated only where it matters: nodes are walked outwards
    from ``theta = 0`` (in stretches of ``_WALK_FIRST``, then doubling) until two
    consecutive ones fall below ``1e-20``, and each coefficient is the direct sum
    over those nodes (its phases ``2 pi (j n mod L) / L`` formed exactly in
    integers).  Only a walk that reaches ``theta = pi`` (a band far wider than the
    integrand's peak, or a flat integrand) ends in one inverse FFT over the whole
    circle, as before.
    """
    half = L // 2
    chunks: list[ComplexArray] = []
    j0 = 0
    stretch = _WALK_FIRST
    while j0 <= half:
        j1 = min(half, j0 + stretch - 1)
        theta = 2.0 * math.pi * np.arange(j0, j1 + 1) / L
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            v = np.exp(gf.log_ratio(r, theta))
        chunks.append(v)
        if j1 == half:
            break
        if np.all(np.abs(v[-2:]) < _NEGLIGIBLE) and np.all(np.isfinite(v[-2:])):
            break
        j0 = j1 + 1
        stretch *= 2
    vals = np.concatenate(chunks)
    if vals.size == half + 1 or band.size > _DIRECT_MAX_TARGETS:
        # the whole circle, or a band so wide that one inverse FFT (the nodes not
        # walked are below 1e-20: zeros) is cheaper than the direct sums
        full = np.zeros(half + 1, dtype=complex)
        full[:vals.size] = vals
        coef = np.fft.irfft(np.conj(full), L)
        return np.asarray(coef[band % L], dtype=np.float64)
    vals = np.where(np.isfinite(vals), vals, np.nan)
    j = np.arange(vals.size, dtype=np.int64)
    weight = np.where(j == 0, 1.0, 2.0)
    phase_idx = (j[None, :] * (band % L)[:, None]) % L  # j < 2**24, n mod L < 2**24
    rot = np.exp(-2j * math.pi * phase_idx / L)
    return np.asarray(((vals[None, :] * rot).real @ weight) / L, dtype=np.float64)


def log_coefficients(gf: GF, targets: NDArray[np.int64]) -> FloatArray:
    """``log`` of the scaled coefficient for each (sorted, unique) target degree.

    Targets must lie strictly between ``gf.min_degree`` and ``gf.max_degree``.
    Non-finite results (which signal a numerical failure) are returned as
    ``nan`` for the caller to re-do with arbitrary precision.
    """
    targets = np.asarray(targets, dtype=np.int64)
    out = np.full(targets.shape, np.nan)
    i = 0
    nt = targets.size
    top = gf.max_degree
    while i < nt:
        n0 = float(targets[i])
        r0 = solve_saddle(gf, n0)
        s0 = math.sqrt(max(gf.var(r0), 1e-12))
        nc = min(n0 + _BAND_SD * s0, float(targets[-1]))
        if math.isfinite(top):
            nc = min(nc, 0.5 * (n0 + top))
        rc = solve_saddle(gf, nc) if nc != n0 else r0
        sc = math.sqrt(max(gf.var(rc), 1e-12))
        if nc - n0 > 1.25 * _BAND_SD * sc:  # the spread shrinks ahead (near the top degree)
            nc, rc, sc = n0, r0, s0
        sig = max(sc, 1.0)
        hi_edge = nc + _BAND_SD * sc
        j = max(int(np.searchsorted(targets, hi_edge, side="right")), i + 1)
        band = targets[i:j]
        width = float(band[-1] - band[0])
        L = 64
        need = 24.0 * sig + 2.0 * width + 64.0
        if need > MAX_FFT:
            raise ValueError(
                f"n = {int(band[0])} draws: the saddle-point FFT would need {need:.3g} points, "
                f"above the limit of {MAX_FFT} (2**24, 256 MiB); this happens near the bulk of "
                "the completion time of a uniform prior with C above about 10**11, or without "
                "replacement with a class of a few samples in a data set of N above about "
                "10**12; couponbound.asymptotic has forms for such sizes")
        while L < need:
            L *= 2
        c = _circle_coefficients(gf, rc, L, band)
        with np.errstate(divide="ignore", invalid="ignore"):
            logc = np.where(c > 0, np.log(np.where(c > 0, c, 1.0)), np.nan)
        out[i:j] = logc + gf.log_scale(band.astype(float), rc)
        i = j
    return out
