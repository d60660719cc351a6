"""The number of distinct classes in a batch: kernels (:ref:`math-occupancy`).

``D_n`` is the number of distinct classes among ``n`` draws (the anchor and
its ``K = n - 1`` negatives).  Its law is a coefficient of a bivariate
generating function whose coefficients are all non-negative:

* with replacement, ``P(D_n = j) = n! [t^n u^j] prod_c (1 + u (e^{p_c t} - 1))``;
* without replacement (a data set of ``N`` samples, ``n_c`` of class ``c``),
  ``P(D_n = j) = [x^n u^j] prod_c (1 + u ((1 + x)^{n_c} - 1)) / binom(N, n)``.

Writing ``1 + u a = (1 + a)(1 - beta + beta u)`` with ``beta = a / (1 + a)``
turns the product into a *base* factor (``e^t``, or ``(1 + x)^N``) times the
probability generating function of a Poisson-binomial variable: the number
of classes present when each class ``c`` is present independently with
probability ``beta_c(t) = 1 - e^{-p_c t}`` (resp. ``1 - (1 + x)^{-n_c}``).
So

``P(D_n = j) = PB_j(r) / w(n; r) * A_j(r)``,

where ``w`` is the Poisson (resp. binomial) probability of ``n`` at the
radius ``r``, ``PB_j(r)`` the Poisson-binomial probability of ``j`` at the
real point, and ``A_j`` the mean over the circle ``|t| = r`` of
``base(t) / base(r) * (r / t)^n * PB_j(t) / PB_j(r)``, which is 1 plus a
small correction when ``r`` is chosen well.  Here

* ``PB_j`` is computed exactly for every ``j`` at once by the
  Poisson-binomial recursion over the classes (32 classes a step, positive
  terms at the real point), *tilted* by a factor ``s`` so that the
  probabilities of the targets are of order one (no underflow);
* ``j = 1`` is the closed form ``sum_c p_c^n`` (resp.
  ``sum_c binom(n_c, n) / binom(N, n)``);
* ``r`` is chosen per band of targets from the two-dimensional saddle point
  ``(r, s)`` of the tilted joint law of (draws, classes present), so that the
  draws given ``j`` classes are centred on ``n`` within one conditional
  standard deviation;
* the circle mean is the trapezoidal rule with a step of ``0.6`` conditional
  standard deviations, walked outward from ``theta = 0`` (in one pass to ten
  standard deviations, then further if needed) until the integrand is below
  ``1e-18`` of its peak and falling (as in the coverage engine).

For a uniform prior (or a data set of equal class sizes) the Poisson-binomial
law is binomial and the integrand is ``((e^{w} - 1) / (e^{w_0} - 1))^j e^{-in theta}``,
the coverage integral of ``j`` classes, written without any recursion, so
one value costs a few dozen nodes whatever ``C``.

The first two moments have closed forms: ``E[D] = sum_c 1 - (1 - p_c)^n``
(resp. ``1 - binom(N - n_c, n) / binom(N, n)``) and the pair terms of the
variance as ``a_c a_d expm1(n log1p(-p_c p_d / ((1 - p_c)(1 - p_d))))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from couponbound._longtail import cexpm1
from couponbound._prior import Prior
from couponbound._saddle import (
    bd0,
    clog1p,
    log1mexp,
    log_binom_pmf,
    log_binom_pmf_neg,
    log_hyper_miss,
    log_hyper_zero,
    log_poisson_norm,
    stirlerr,
)
from couponbound._validate import check_int_array, check_probability

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
IntArray = NDArray[np.int64]

__all__ = [
    "MAX_DP_WORK",
    "expected_classes_unique",
    "log_pmf",
    "log_pmf_classes",
    "log_tail_sum",
    "logsumexp",
    "smallest_draws_for_classes",
    "support",
    "validated_classes",
    "var_classes",
    "false_negative_rates",
]

#: The Poisson-binomial recursion costs ``C x (targets' range)`` complex
#: multiply-adds per node of the circle; priors above this product are refused
#: (about 10 s on one core).  Uniform priors and equal class sizes are not limited.
MAX_DP_WORK = 2 * 10**8

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_SHORT = 64  # absence probabilities of at most this many factors are multiplied out
_H = 0.6  # trapezoidal step, in conditional standard deviations
_U_FIRST = 10.0  # walk at least this far (in conditional standard deviations)
_NEGLIGIBLE = 1e-18
_CHUNK = 8  # nodes per further recursion pass (the first reaches u = _U_FIRST)
_BAND_SD = 3.0  # targets within this many conditional sd of the band's anchor
_COND_FAIL = 1e3  # ... and above this even at the target itself, an error
_COND_MAX = 8.0  # a circle sum magnifying rounding errors more is redone nearer its target
_BAND_SD_D = 3.0  # ... and within this many sd of the tilted class count


# --------------------------------------------------------------------------
# the class groups of a prior
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Groups:
    """Distinct per-class parameters and multiplicities.

    ``par`` is ``p_g`` (with replacement) or the class size ``m_g``
    (without); ``N`` is the data set's size (``0`` with replacement).
    """

    par: FloatArray
    mult: IntArray
    replacement: bool
    N: int

    @property
    def C(self) -> int:
        return int(self.mult.sum())


def groups_of(prior: Prior) -> _Groups:
    if prior.replacement:
        p, k = prior.groups()
        return _Groups(np.asarray(p, dtype=float), np.asarray(k, dtype=np.int64), True, 0)
    m, k = prior.count_groups()
    N = prior.N
    assert N is not None
    return _Groups(m.astype(float), k.astype(np.int64), False, int(N))


# --------------------------------------------------------------------------
# E[D], Var[D], false negatives
# --------------------------------------------------------------------------

def _log_absent(n: IntArray, g: _Groups) -> FloatArray:
    """``log P(class of group g absent from n draws)``, shape ``(G, len(n))``.

    With replacement ``n log1p(-p)``; without, ``log[binom(N - m, n) / binom(N, n)]``
    with full relative accuracy of ``1 - P`` (short products term by term,
    values close to 0 refined by :func:`couponbound._saddle.log_hyper_zero`).
    """
    nf = np.asarray(n, dtype=float)
    if g.replacement:
        with np.errstate(divide="ignore"):
            return np.log1p(-g.par)[:, None] * nf[None, :]
    m = g.par.astype(np.int64)
    ni = np.asarray(n, dtype=np.int64)
    N = g.N
    out = log_hyper_miss(N, m, ni)
    # short products term by term: sum_{i < s} log(1 - l / (N - i)), s = min(m, n),
    # l = max(m, n), every factor from exact integers (vectorised over the pairs)
    mm, nn = np.broadcast_arrays(m[:, None], ni[None, :])
    sh = np.minimum(mm, nn)
    lg = np.maximum(mm, nn)
    short = (sh <= _SHORT) & (sh > 0) & (nn <= N - mm)
    if np.any(short) and N < 2**53:
        ss, ll = sh[short], lg[short].astype(float)
        width = int(ss.max())
        i = np.arange(width, dtype=float)[None, :]
        denom = np.maximum(N - i, 1.0)  # i < s <= N - l: N - i >= l + 1 where it counts
        x = ll[:, None] / denom
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(x <= 0.5, np.log1p(-np.minimum(x, 0.5)),
                             np.log(np.maximum(denom - ll[:, None], 0.0) / denom))
        terms = np.where(i < ss[:, None], terms, 0.0)
        out[short] = np.sum(terms, axis=1)
    # values close to 0 (a class almost surely absent) have an absolute error of a
    # few eps; E[D] sums 1 - e^v, so that is an absolute error of a few eps per
    # class, negligible beside E[D] >= ~n / 2 once n > 64; a few such values are
    # still refined to full relative accuracy, one Euler-Maclaurin series each
    near = (out > -1e-2) & (out < 0.0) & ~short
    if np.count_nonzero(near) <= 100:
        for gi, nj in zip(*np.nonzero(near), strict=True):
            out[gi, nj] = log_hyper_zero(N, int(m[gi]), int(ni[nj]))
    return out


def expected_classes_unique(n: IntArray, prior: Prior) -> FloatArray:
    """``E[D_n] = sum_c P(class c present)``, a sum of positive terms."""
    g = groups_of(prior)
    present = -np.expm1(_log_absent(n, g))
    return np.asarray(np.sum(g.mult[:, None] * present, axis=0), dtype=float)


def var_classes(n: int, prior: Prior) -> float | None:
    """``Var[D_n]`` in closed form with replacement (``None``: too many groups or without).

    ``Var = sum_c a_c (1 - a_c) + sum_{c != d} a_c a_d expm1(n log1p(-x_c x_d))``
    with ``a_c = (1 - p_c)^n`` and ``x_c = p_c / (1 - p_c)``; every pair term
    is computed without cancellation.  ``O(G^2)``.
    """
    g = groups_of(prior)
    if not g.replacement or g.par.size > 3000:
        return None
    p = g.par
    k = g.mult.astype(float)
    if np.any(p >= 1.0):
        return 0.0
    la = n * np.log1p(-p)
    a = np.exp(la)
    first = float(np.sum(k * a * -np.expm1(la)))
    x = p / (1.0 - p)
    weight = np.outer(k, k) - np.diag(k)
    xx = np.outer(x, x)
    # x_c x_d >= 1 only on the diagonal of a group of one class (weight 0), or when two
    # classes are everything (x_c x_d = 1: the pair can never be absent together)
    safe = np.where((weight > 0) & (xx < 1.0), xx, 0.0)
    with np.errstate(divide="ignore"):
        lg = np.where(xx < 1.0, np.log1p(-safe), -np.inf)
    pair = np.where(weight > 0, np.exp(la[:, None] + la[None, :]) * np.expm1(n * lg), 0.0)
    return max(first + float(np.sum(weight * pair)), 0.0)


def false_negative_rates(prior: Prior) -> tuple[float, FloatArray]:
    """The probability that one negative shares the anchor's class, and ``tau^+_y`` per class.

    With replacement ``sum_c p_c^2`` and ``p_y``; without replacement
    ``sum_c n_c (n_c - 1) / (N (N - 1))`` and ``(n_y - 1) / (N - 1)``.
    """
    if prior.replacement:
        if prior.is_uniform:
            C = prior.C
            return 1.0 / C, np.full(1, 1.0 / C)
        p = prior.probs
        return float(math.fsum(p * p)), np.asarray(p, dtype=float)
    counts = prior.counts
    N = prior.N
    assert counts is not None and N is not None
    if N < 2:
        raise ValueError(f"a data set of N = {N} sample has no negatives (need N >= 2)")
    num = sum(c * (c - 1) for c in counts)
    per = np.array([(c - 1) / (N - 1) for c in counts], dtype=float)
    return num / (N * (N - 1)), per


# --------------------------------------------------------------------------
# the tilted joint law of (draws, classes present)
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Tilt:
    r: float
    log_s: float
    mean_n: float
    mean_d: float
    var_n: float
    var_d: float
    cov: float

    @property
    def slope(self) -> float:
        """Change of the conditional mean of the draws per class."""
        return self.cov / self.var_d if self.var_d > 0 else 0.0

    @property
    def sd_cond(self) -> float:
        """Standard deviation of the draws given the number of classes."""
        if self.var_d <= 0:
            return math.sqrt(max(self.var_n, 0.0))
        return math.sqrt(max(self.var_n - self.cov * self.cov / self.var_d, 1e-300))


def _real_parts(r: float, g: _Groups) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log(1 - beta)``, ``log beta``, and the per-class count's mean and second moment
    given presence, at the real point ``r``."""
    if g.replacement:
        lam = g.par * r
        log_omb = -lam
        mean = lam
        second = lam + lam * lam
    else:
        m = g.par
        q = r / (1.0 + r)
        log_omb = -m * math.log1p(r)
        mean = m * q
        second = mean * (1.0 - q) + mean * mean
    log_beta = log1mexp(-log_omb)
    with np.errstate(over="ignore"):
        inv_beta = np.exp(-log_beta)
    return log_omb, log_beta, mean * inv_beta, second * inv_beta


def _presence(log_omb: FloatArray, log_beta: FloatArray, log_s: float
              ) -> tuple[FloatArray, FloatArray]:
    """``pi = s beta / (1 - beta + s beta)`` and ``1 - pi``, each without cancellation."""
    z = log_omb - (log_s + log_beta)
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(z))  # in (0, 1]
    pi = np.where(z > 0, e / (1.0 + e), 1.0 / (1.0 + e))
    omp = np.where(z > 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return pi, omp


def _tilt(r: float, log_s: float, g: _Groups) -> _Tilt:
    log_omb, log_beta, mu, m2 = _real_parts(r, g)
    pi, omp = _presence(log_omb, log_beta, log_s)
    k = g.mult.astype(float)
    en = float(np.sum(k * pi * mu))
    ed = float(np.sum(k * pi))
    # Var of a class's count: pi E[X^2] - (pi mu)^2 = pi (E[X^2] - mu^2) + pi (1 - pi) mu^2
    vn = float(np.sum(k * (pi * (m2 - mu * mu) + pi * omp * mu * mu)))
    vd = float(np.sum(k * pi * omp))
    cv = float(np.sum(k * pi * omp * mu))
    return _Tilt(r, log_s, en, ed, max(vn, 0.0), max(vd, 0.0), cv)


def _solve_tilt(n: float, j: float, g: _Groups, start: _Tilt | None = None) -> _Tilt:
    """The radius ``r`` and tilt ``s`` whose joint law has means ``(n, j)``.

    The tilt is first set for the classes alone (bisection in ``log s`` at the
    starting radius), then both are refined by damped Newton steps on
    ``(log r, log s)``, whose Jacobian is the covariance of (draws, classes).
    ``start`` (a solved tilt for nearby means, e.g. the previous band's) is
    taken as the starting point instead, with no separate solve for the classes.
    """
    C = g.C
    jt = min(max(j, 1.0 + 1e-9), C - 1e-9) if C > 1 else j
    nt = max(n, jt + 1e-9)
    if g.replacement:
        a = math.log(max(nt, 1e-300))
    else:
        nt = min(nt, g.N - 1e-9)
        a = math.log(nt / (g.N - nt))
    if start is not None and math.isfinite(start.log_s) and start.r > 0:
        warm = _newton_tilt(nt, jt, g, math.log(start.r), start.log_s)
        if warm is not None:
            return warm
    # classes alone: E[D](s) is increasing in log s, with slope Var[classes]
    t = _newton_tilt(nt, jt, g, a, _classes_tilt(a, jt, g))
    if t is not None:
        return t
    return _solve_tilt_nested(nt, jt, g, a)


def _newton_tilt(nt: float, jt: float, g: _Groups, a: float, b: float) -> _Tilt | None:
    """Damped Newton steps on ``(log r, log s)`` from ``(a, b)``; None where they stall
    (the best point is more than ``1e-6`` standard deviations off)."""
    best: tuple[float, _Tilt] | None = None
    for _ in range(100):
        t = _tilt(math.exp(a), b, g)
        fn, fd = t.mean_n - nt, t.mean_d - jt
        err = abs(fn) / max(1.0, math.sqrt(t.var_n)) + abs(fd) / max(1e-3, math.sqrt(t.var_d))
        if best is None or err < best[0]:
            best = (err, t)
        if abs(fn) <= 1e-10 * max(1.0, nt) and abs(fd) <= 1e-10 * max(1.0, jt):
            break
        det = t.var_n * t.var_d - t.cov * t.cov
        if not det > 0 or not math.isfinite(det):
            break
        da = (t.var_d * fn - t.cov * fd) / det
        db = (t.var_n * fd - t.cov * fn) / det
        scale = max(abs(da), abs(db))
        step = 2.0 / scale if scale > 2.0 else 1.0
        a = min(max(a - step * da, -700.0), 700.0)
        lim = _tilt_limit(math.exp(a), g)
        b = min(max(b - step * db, -lim), lim)
    assert best is not None
    return best[1] if best[0] <= 1e-6 else None


def _tilt_limit(r: float, g: _Groups) -> float:
    """A bound on ``|log s|`` that holds every class's presence odds within ``e^{+-800}``:
    the odds are ``s (e^w - 1)``, ``w = p r`` (or ``m log(1 + r)``)."""
    w = float(np.max(g.par)) * r if g.replacement else float(np.max(g.par)) * math.log1p(r)
    return w + abs(math.log(max(w, 1e-300))) + 800.0 + math.log(g.C)


def _classes_tilt(a: float, jt: float, g: _Groups, b0: float = 0.0) -> float:
    """``log s`` with ``E[classes] = jt`` at ``r = e^a``: safeguarded Newton steps from ``b0``."""
    bhi = _tilt_limit(math.exp(a), g)
    blo = -bhi
    b = min(max(b0, blo), bhi)
    for _ in range(100):
        t = _tilt(math.exp(a), b, g)
        f = t.mean_d - jt
        if f < 0:
            blo = b
        else:
            bhi = b
        if abs(f) <= 1e-12 * max(1.0, jt) or bhi - blo < 1e-12:
            break
        nb = b - f / t.var_d if t.var_d > 0 else 0.5 * (blo + bhi)
        if not (blo < nb < bhi) or not math.isfinite(nb):
            nb = 0.5 * (blo + bhi)
        b = nb
    return b


def _tilt_for_classes(a: float, jt: float, g: _Groups, b0: float = 0.0) -> _Tilt:
    return _tilt(math.exp(a), _classes_tilt(a, jt, g, b0), g)


def _solve_tilt_nested(nt: float, jt: float, g: _Groups, a0: float) -> _Tilt:
    """Fallback near the ends of the support (where ``Var[classes]`` vanishes): for each
    ``log r`` the tilt is set for the classes alone (Newton, from the previous tilt), and
    ``log r`` by safeguarded Newton steps on the draws, whose slope at a fixed mean of
    classes is the conditional variance of the draws (bisection where a step leaves
    the bracket)."""
    alo, ahi = a0 - 30.0, a0 + 30.0
    a, b = a0, 0.0
    t = _tilt_for_classes(a, jt, g, b)
    for _ in range(200):
        f = t.mean_n - nt
        if f < 0:
            alo = a
        else:
            ahi = a
        if abs(f) <= 1e-10 * max(1.0, nt) or ahi - alo < 1e-12:
            break
        slope = t.sd_cond ** 2
        a_new = a - f / slope if slope > 0 else math.nan
        if not alo < a_new < ahi:
            a_new = 0.5 * (alo + ahi)
        a, b = a_new, t.log_s
        t = _tilt_for_classes(a, jt, g, b)
    return t


# --------------------------------------------------------------------------
# the circle: base factor and Poisson-binomial recursion at complex points
# --------------------------------------------------------------------------

def _log_norm_pi(log_omb: ComplexArray, log_beta: ComplexArray, log_s: float
                 ) -> tuple[ComplexArray, ComplexArray, ComplexArray]:
    """``log(1 - beta + s beta)``, ``pi = s beta / (1 - beta + s beta)`` and ``1 - pi``.

    With ``z = log(1 - beta) - log(s beta)``: ``pi = 1 / (1 + e^z)``, both
    branches chosen so that no exponential overflows.
    """
    z = log_omb - (log_s + log_beta)
    pos = z.real > 0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        ez = np.exp(np.where(pos, -z, z))  # |ez| <= 1
        one_p = 1.0 + ez
        pi = np.where(pos, ez / one_p, 1.0 / one_p)
        omp = np.where(pos, 1.0 / one_p, ez / one_p)
        lnorm = np.where(pos, log_omb + clog1p(ez), log_s + log_beta + clog1p(ez))
    return lnorm, pi, omp


_BLOCK = 32  # classes per step of the blocked recursion


def _pb_dp(pi: ComplexArray, omp: ComplexArray, mult: IntArray, J: int
           ) -> tuple[ComplexArray, FloatArray]:
    """Poisson-binomial probabilities ``0..J`` of the classes present, for each row of ``pi``.

    ``pi`` has shape ``(nodes, G)`` (presence probabilities, complex off the
    real axis) and ``omp`` holds ``1 - pi``, computed on its own so that a
    probability close to 1 keeps the relative accuracy of its complement;
    class ``g`` is repeated ``mult[g]`` times.  The recursion
    ``P_new[i] = (1 - pi) P[i] + pi P[i - 1]`` is taken ``_BLOCK`` classes at
    a time: the coefficients of each block's polynomial
    ``prod (1 - pi + pi u)`` are formed for all blocks at once, and each
    step convolves the rows with one block's polynomial (a batched
    matrix-vector product over sliding windows).  At the real point every
    term is positive, as in the class-by-class recursion.  Off the real axis
    the rows can grow; after every block each row is divided by its largest
    modulus, and the log of the scale is returned beside the rows.
    """
    rows = pi.shape[0]
    B = _BLOCK
    b = np.repeat(pi, mult, axis=1)
    a = np.repeat(omp, mult, axis=1)
    nb = -(-b.shape[1] // B)
    pad = nb * B - b.shape[1]
    if pad:  # identity factors (1 + 0 u) fill the last block
        a = np.concatenate([a, np.ones((rows, pad), dtype=complex)], axis=1)
        b = np.concatenate([b, np.zeros((rows, pad), dtype=complex)], axis=1)
    A = a.reshape(rows, nb, B)
    Bm = b.reshape(rows, nb, B)
    Q = np.zeros((rows, nb, B + 1), dtype=complex)
    Q[..., 0] = 1.0
    for k in range(B):
        tmp = Q[..., :k + 1] * Bm[..., k, None]
        Q[..., :k + 2] *= A[..., k, None]
        Q[..., 1:k + 2] += tmp
    q_rev = np.ascontiguousarray(Q[..., ::-1])
    # P[:, B + i] holds coefficient i; the B leading zeros let every window be full
    P = np.zeros((rows, B + J + 1), dtype=complex)
    P[:, B] = 1.0
    log_scale = np.zeros(rows)
    top = 0
    windows = sliding_window_view(P, B + 1, axis=1)  # a view: sees every update of P
    for blk in range(nb):
        top = min(J, top + B)
        new = np.matmul(windows[:, :top + 1], q_rev[:, blk, :, None])[..., 0]
        m = np.max(np.abs(new), axis=1)
        m = np.where(m > 0, m, 1.0)
        P[:, B:B + top + 1] = new / m[:, None]
        log_scale += np.log(m)
    return P[:, B:], log_scale


def _log_expm1_ratio(w0: FloatArray, d: ComplexArray) -> ComplexArray:
    """``log(expm1(w0 + d) / expm1(w0))`` for real ``w0 > 0`` (per column) and complex ``d``.

    ``d + log1p(-e^{-(w0+d)}) - log1p(-e^{-w0})`` for ``w0 > 1/2``, else
    ``log1p(expm1(d) / (1 - e^{-w0}))``: both keep the relative accuracy of a
    small result.
    """
    big = np.broadcast_to(w0 > 0.5, d.shape)
    out = np.empty(d.shape, dtype=complex)
    wfull = np.broadcast_to(w0, d.shape)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if np.any(big):  # each branch only where it is used
            wb, db = wfull[big], d[big]
            out[big] = db + clog1p(-np.exp(-(wb + db))) - np.log1p(-np.exp(-wb))
        small = ~big
        if np.any(small):
            out[small] = clog1p(cexpm1(d[small]) / -np.expm1(-wfull[small]))
    return out


def _node_terms(theta: FloatArray, r: float, g: _Groups, log_s: float
                ) -> tuple[ComplexArray, ComplexArray, FloatArray, FloatArray]:
    """Per node and group: ``z - z0`` and ``log(1 - beta + s beta)`` minus its value at 0,
    and the presence probabilities ``pi0``, ``1 - pi0`` at the real point.

    ``z = log(1 - beta) - log(s beta)`` (so ``pi = 1 / (1 + e^z)``), with
    ``1 - beta = e^{-w}``, ``w = p t`` or ``m log(1 + x)``.  Every difference
    from the real point is formed directly (``w - w0`` from ``expm1(i theta)``,
    ``log beta - log beta0`` as a ratio of ``expm1``), so a group of many
    classes multiplies no rounding error of a large log.
    """
    e = np.expm1(1j * theta)
    if g.replacement:
        w0 = g.par * r
        dw = np.outer(r * e, g.par)
    else:
        w0 = g.par * math.log1p(r)
        dw = np.outer(clog1p(r * e / (1.0 + r)), g.par)
    log_beta0 = log1mexp(w0)
    pi0, omp0 = _presence(-w0, log_beta0, log_s)
    dlog_beta = -dw + _log_expm1_ratio(w0[None, :], dw)
    dz = -dw - dlog_beta
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # log(1 - beta + s beta) - its value at 0, less -(w - w0): the base factor's
        # ratio is exp(sum_g k_g (w - w0)) exactly, so the two cancel analytically
        dlnorm = clog1p(pi0[None, :] * cexpm1(-dz))
    return dz, dlnorm, pi0, omp0


def _band(n: int, targets: IntArray, anchor: _Tilt, g: _Groups, absent: bool
          ) -> tuple[FloatArray, FloatArray]:
    """``log P(D_n = j)`` for the targets of one band, at the anchor's ``(r, s)``.

    Also returns each target's condition number ``sum |f| / |sum f|`` of the
    circle sum: the factor by which rounding errors of the nodes are magnified.
    A prior of one group (equal classes) has a binomial Poisson-binomial law,
    written in closed form; otherwise the recursion over the classes is used.
    """
    r = anchor.r
    C = g.C
    one_group = g.par.size == 1
    idx = (C - targets) if absent else targets
    J = int(idx.max())
    sd = max(anchor.sd_cond, 1e-3)
    # a target d conditional sd off the anchor has its law of draws centred about
    # d sd away from n, so an aliased coefficient n +- L is only L - d sd from that
    # centre; L / sd >= 2 d + sqrt(92 + 4 d^2) keeps it below ~1e-20 of the target
    # with a margin for tails heavier than Gaussian (checked against exact counts)
    d = float(np.max(np.abs(targets - anchor.mean_d))) * abs(anchor.slope) / sd
    L = max(64, int(math.ceil(sd * max(2.0 * math.pi / _H,
                                       2.0 * d + math.sqrt(92.0 + 4.0 * d * d)))))
    if L % 2:
        L += 1
    dtheta = 2.0 * math.pi / L
    half = L // 2
    k_first = int(math.ceil(_U_FIRST * L / (2.0 * math.pi * sd)))  # nodes to u = _U_FIRST
    log_s = anchor.log_s
    w0 = g.par * r if g.replacement else g.par * math.log1p(r)
    lnorm0 = _log_norm_pi(-w0[None, :].astype(complex), log1mexp(w0)[None, :].astype(complex),
                          log_s)[0][0].real
    total = np.zeros(targets.shape, dtype=complex)
    absum = np.zeros(targets.shape)
    bad = np.zeros(targets.shape, dtype=bool)
    ref: FloatArray | None = None
    ref_log = 0.0
    k0 = 0
    done = False
    while not done and k0 <= half:
        ks = np.arange(k0, min(k0 + (k_first + 1 if k0 == 0 else _CHUNK), half + 1))
        theta = np.asarray(ks * dtheta, dtype=np.float64)
        dz, dlnorm, pi0, omp0 = _node_terms(theta, r, g, log_s)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            lb = -1j * n * theta + np.sum(g.mult[None, :] * dlnorm, axis=1)
            if one_group:
                # a binomial law: the integrand is e^{-i n theta} ((e^w - 1) / (e^w0 - 1))^j,
                # i.e. exp(-i n theta - j (z - z0)): the coverage integral of j classes
                f = np.exp(-1j * n * theta[:, None] - targets[None, :] * dz[:, 0][:, None])
                if ref is None:
                    # log PB_j(r) itself, untilted: Binomial(j; C, beta0) in Loader's form
                    # (1 - beta0 = e^{-w0}; where it underflows, term by term)
                    x0 = float(w0[0])
                    beta0 = -math.expm1(-x0)
                    if x0 < 700.0:
                        ref = np.asarray(log_binom_pmf(
                            targets.astype(float), (C - targets).astype(float),
                            np.full(targets.shape, beta0), np.full(targets.shape, math.exp(-x0))),
                            dtype=float)
                    else:
                        ref = (_log_binom_coef(C, targets) + targets * math.log(beta0)
                               - (C - targets) * x0)
            else:
                z0 = -w0 - log_s - log1mexp(w0)
                # the nodes: each class's factor (1 + odds u), odds = e^{-z} = s (e^w - 1),
                # divided by c = 1 + odds (presence probabilities pi, 1 - pi: the
                # normalised recursion), except where 1 + odds nearly vanishes on the
                # circle, where c = max(1, |odds|) instead (no pole, no lost digits)
                lo = -(z0[None, :] + dz)
                with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                    zz = z0[None, :] + dz
                    pos = zz.real > 0
                    ez = np.exp(np.where(pos, -zz, zz))
                    one_p = 1.0 + ez
                    pi = np.where(pos, ez / one_p, 1.0 / one_p)
                    omp = np.where(pos, 1.0 / one_p, ez / one_p)
                    big = np.maximum(lo.real, 0.0)
                    near_pole = np.abs(one_p) < 0.25
                    a_p = np.where(near_pole, np.exp(-big), omp)   # 1 / c
                    b_p = np.where(near_pole, np.exp(lo - big), pi)  # odds / c
                    # log(c / c0): the normalised factor's ratio, or max(1, |odds|) / (1 + odds0)
                    lc = np.where(near_pole, big - np.log1p(np.exp(-z0))[None, :], dlnorm)
                if ref is None:
                    # the real point rides along as an extra first row: the normalised
                    # recursion (presence probabilities pi0, all terms positive) gives
                    # log PB'_j with full relative accuracy
                    a_p = np.vstack([omp0[None, :].astype(complex), a_p])
                    b_p = np.vstack([pi0[None, :].astype(complex), b_p])
                P, log_scale = (_pb_dp(a_p, b_p, g.mult, J) if absent
                                else _pb_dp(b_p, a_p, g.mult, J))
                if ref is None:
                    ref = np.log(P[0, idx].real) + float(log_scale[0])
                    P, log_scale = P[1:], log_scale[1:]
                lb = -1j * n * theta + np.sum(g.mult[None, :] * lc, axis=1) + log_scale
                vals = P[:, idx]
                if k0 == 0:
                    ref_log = lb[0].real
                    ref_scale = vals[0].real.copy()
                f = np.exp(lb - ref_log)[:, None] * vals / ref_scale[None, :]
        finite = np.isfinite(f)
        bad |= ~np.all(finite, axis=0)
        f = np.where(finite, f, 0.0)
        w = np.where((ks == 0) | (ks == half), 1.0, 2.0)
        total += np.sum(w[:, None] * f, axis=0)
        absum += np.sum(w[:, None] * np.abs(f), axis=0)
        mag = np.max(np.abs(f), axis=1)
        k_end = int(ks[-1])
        k0 = k_end + 1
        if k_end >= half:
            break
        if k_end >= k_first and np.all(mag[-2:] < _NEGLIGIBLE) and mag[-1] <= mag[-2]:
            done = True
    assert ref is not None
    # at the real point: PB_j(r) = P'_j prod(1 - beta + s beta) / s^j
    mean = total.real / L
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pb = ref if one_group else ref + float(np.sum(g.mult * lnorm0)) - targets * log_s
        la = np.log(mean)
    if g.replacement:
        lw = log_poisson_norm(np.array([float(n)]), r)[0]
    else:
        p = r / (1.0 + r)
        lw = float(log_binom_pmf_neg(np.array([float(n)]), g.N, p, 1.0 / (1.0 + r))[0])
    value = log_pb + lw
    if one_group:
        # where the radius is far from n (few repeats among many classes) the two logs
        # above are huge and cancel; the split of the closed form is then smaller
        alt = _one_group_split(n, targets, r, g)
        value = np.where(np.abs(alt[1]) < np.abs(log_pb) + abs(lw), alt[0], value)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where((mean > 0) & ~bad, absum / (L * np.abs(mean)), np.inf)
    return np.asarray(value + la, dtype=float), cond


def _one_group_split(n: int, targets: IntArray, r: float, g: _Groups) -> tuple[FloatArray, FloatArray]:
    """The real-point factor of a one-group prior split as ``binom(C, j)`` times the
    probability that the draws fall in ``j`` given classes times a coverage factor.

    With replacement ``binom(C, j) (j/C)^n / Pois(n; j r / C) (1 - e^{-r/C})^j``;
    without, ``binom(C, j) binom(jm, n) / binom(N, n) / Bin(n; jm, r/(1+r))
    (1 - (1+r)^{-m})^j``.  Returns the value and the sum of the magnitudes of
    its terms (the scale of its rounding error).
    """
    C = g.C
    j = targets.astype(float)
    lbc = _log_binom_coef(C, targets)
    if g.replacement:
        x = r / C
        frac = targets / C
        lin = n * np.where(frac < 0.5, np.log(frac), np.log1p(-(C - targets) / C))
        nn = np.full(j.shape, float(n))
        lpn = _HALF_LOG_2PI + 0.5 * math.log(n) + stirlerr(nn) + bd0(nn, j * x)
        cov = j * float(log1mexp(np.array([x]))[0])
    else:
        m = int(g.par[0])
        N = g.N
        lin = log_hyper_miss(N, ((C - targets) * m).astype(np.int64),
                             np.array([n], dtype=np.int64))[:, 0]
        p = r / (1.0 + r)
        jm = j * m
        with np.errstate(invalid="ignore"):
            lpn = np.where(jm > n, -log_binom_pmf(np.full(j.shape, float(n)), jm - n,
                                                  np.full(j.shape, p), np.full(j.shape, 1.0 / (1.0 + r))),
                           np.nan)
        cov = j * float(log1mexp(np.array([m * math.log1p(r)]))[0])
    value = lbc + lin + lpn + cov
    scale = np.abs(lbc) + np.abs(lin) + np.abs(lpn) + np.abs(cov)
    scale = np.where(np.isfinite(value), scale, np.inf)
    return value, scale


def _log_binom_coef(C: int, j: IntArray) -> FloatArray:
    """``log binom(C, j)`` as Loader's binomial pmf at ``p = j / C`` (its mode), less
    ``j log p + (C - j) log(1 - p)``: absolute error a few ``eps * max(1, result)``."""
    out = np.zeros(j.shape)
    mid = (j > 0) & (j < C)
    if np.any(mid):
        ji = np.asarray(j[mid], dtype=np.int64)
        rest = (C - ji).astype(float)  # exact integers: C - j survives C > 2**53
        jm = ji.astype(float)
        p = jm / C
        q = rest / C
        lp = log_binom_pmf(jm, rest, p, q)
        log_q = np.where(p < 0.5, np.log1p(-np.minimum(p, 0.5)), np.log(q))
        out[mid] = lp - jm * np.log(p) - rest * log_q
    return out


def _band_width(t: _Tilt, sds: float) -> float:
    """Half-width (in classes) of the band a tilt serves: one conditional sd of the draws,
    at most three sd of the classes present."""
    width_t = sds * t.sd_cond / abs(t.slope) if t.slope != 0 else math.inf
    return min(width_t, _BAND_SD_D * math.sqrt(max(t.var_d, 0.0)))


def log_pmf_classes(n: int, targets: IntArray, prior: Prior) -> FloatArray:
    """``log P(D_n = j)`` for sorted, distinct ``targets`` in the support, ``j < C``,
    by bands of the circle integral (module docstring)."""
    g = groups_of(prior)
    C = g.C
    targets = np.asarray(targets, dtype=np.int64)
    out = np.full(targets.shape, np.nan)
    pending = np.arange(targets.size)
    if targets.size and targets[0] == 1 and C > 1:
        # one class holds every draw: sum_c p_c^n, or sum_c binom(n_c, n) / binom(N, n)
        if g.replacement:
            terms = n * np.log(g.par)
        else:
            terms = log_hyper_miss(g.N, (g.N - g.par).astype(np.int64),
                                   np.array([n], dtype=np.int64))[:, 0]
        out[0] = logsumexp(np.log(g.mult.astype(float)) + terms)
        pending = pending[1:]
    cautious = False
    last: _Tilt | None = None  # the previous band's tilt: the next solve starts there
    while pending.size:
        tg = targets[pending]
        j0 = int(tg[0])
        t0 = _solve_tilt(float(n), float(j0), g, last)
        w0 = _band_width(t0, 1.0 if cautious else _BAND_SD)
        jc = min(j0 + 0.5 * w0, float(tg[-1]), min(n, C) - 0.5)
        anchor, hi_edge = t0, j0 + w0
        if jc > j0 + 0.5 and not cautious:
            ta = _solve_tilt(float(n), jc, g, t0)
            wa = _band_width(ta, _BAND_SD)
            if jc - wa <= j0:
                anchor, hi_edge = ta, jc + wa
        sel = tg <= hi_edge
        sel[0] = True
        band = tg[sel]
        hi = int(band.max())
        lo = int(band.min())
        absent = (C - lo) < hi
        work = C * (min(hi, C - lo) + 1)
        if work > MAX_DP_WORK and g.par.size > 1:
            raise ValueError(
                f"the distribution of distinct classes of this prior (C = {C} classes, "
                f"{g.par.size} distinct {'probabilities' if g.replacement else 'sizes'}) needs "
                f"{work:.3g} recursion steps per node, above the limit {MAX_DP_WORK:.0e}; "
                "uniform priors and equal class sizes have no such limit, and "
                "expected_classes (the mean) is available for any prior")
        vals, cond = _band(n, band, anchor, g, absent)
        last = anchor
        ok = cond <= _COND_MAX
        if anchor is t0 and cautious:
            # anchored at the target itself: the best this rule can do, if it is sound
            if not (cond[0] <= _COND_FAIL and np.isfinite(vals[0])):
                raise ValueError(
                    f"P(D = {int(band[0])}) for n = {n} draws could not be computed to the "
                    f"package's accuracy (condition number {cond[0]:.3g} of its circle sum); "
                    "this is a defect of couponbound: please report it with the prior")
            ok[0] = True
        idx = pending[sel]
        out[idx[ok]] = vals[ok]
        cautious = not bool(ok[0])
        done = np.zeros(targets.size, dtype=bool)
        done[idx[ok]] = True
        pending = pending[~done[pending]]
    return out


# --------------------------------------------------------------------------
# the law of D: support, values, tails
# --------------------------------------------------------------------------

def support(n: int, prior: Prior) -> tuple[int, int]:
    """Smallest and largest possible number of distinct classes among ``n`` draws."""
    C = prior.C
    if n == 0:
        return 0, 0
    if prior.replacement:
        return 1, min(n, C)
    counts = sorted(prior.counts or (), reverse=True)
    acc = 0
    lo = 0
    for c in counts:  # the fewest classes that can hold n samples
        acc += c
        lo += 1
        if acc >= n:
            break
    return lo, min(n, C)


def log_pmf(n: int, j: IntArray, prior: Prior, log_cover: Callable[[int], float]) -> FloatArray:
    """``log P(D_n = j)`` for sorted distinct integers ``j`` (``-inf`` off the support).

    ``j = C`` is the coverage probability, ``log_cover(n)`` (the coverage
    engine, passed in by the caller); every other value comes from the bands
    of :func:`log_pmf_classes`.
    """
    lo, hi = support(n, prior)
    out = np.full(j.shape, -np.inf)
    if n == 0:
        out[j == 0] = 0.0
        return out
    inside = (j >= lo) & (j <= hi)
    tj = j[inside]
    if tj.size == 0:
        return out
    vals = np.empty(tj.shape)
    full = tj == prior.C
    if np.any(full):
        vals[full] = log_cover(n)
    if np.any(~full):
        vals[~full] = log_pmf_classes(n, tj[~full], prior)
    out[inside] = vals
    return out


def logsumexp(values: FloatArray) -> float:
    """``log sum exp(values)``; ``-inf`` when every value is ``-inf``."""
    top = float(np.max(values))
    if top == -math.inf:
        return -math.inf
    return top + math.log(float(np.sum(np.exp(values - top))))


def log_tail_sum(lp: Callable[[IntArray], FloatArray], lo: int, hi: int, start: int,
                 direction: int) -> float:
    """``log sum`` of ``exp(lp(j))`` from ``start`` outward (``direction`` -1 or +1)
    within ``lo..hi``, in doubling blocks, until the terms are below ``e^-40`` of the sum."""
    total = -math.inf
    v = start
    block = 8
    while lo <= v <= hi:
        end = max(lo, v - block + 1) if direction < 0 else min(hi, v + block - 1)
        idx = np.arange(min(v, end), max(v, end) + 1, dtype=np.int64)
        vals = lp(idx)
        total = logsumexp(np.concatenate([[total], vals]))
        edge = vals[0] if direction < 0 else vals[-1]
        if edge < total - 40.0:
            break
        v = end - 1 if direction < 0 else end + 1
        block *= 2
    return total


# --------------------------------------------------------------------------
# partial coverage: the smallest batch that sees m classes
# --------------------------------------------------------------------------

def validated_classes(classes: Any, prior: Prior) -> int:
    """``classes`` as an int in ``1..C`` (the ``classes=`` of ``required_negatives``)."""
    c_arr, scalar = check_int_array(classes, "classes", minimum=1)
    if not scalar:
        raise TypeError("classes must be one integer")
    m = int(c_arr)
    if m > prior.C:
        raise ValueError(f"classes = {m} is more than the prior's C = {prior.C} classes "
                         f"(allowed: 1 <= classes <= {prior.C})")
    return m


def smallest_draws_for_classes(prior: Prior, classes: Any, confidence: Any, expected: bool,
                               log_cover: Callable[[int], float]) -> int:
    """Smallest number of draws ``n`` with ``P(D_n >= classes) >= confidence`` (or ``E[D_n] >= classes``).

    Used by :func:`couponbound.required_negatives` (``classes=``), which passes
    ``log_cover(n)``, the coverage engine's ``log upsilon_n`` (``P(D_n = C)``).
    """
    m = validated_classes(classes, prior)
    top = prior.N if not prior.replacement else None

    if expected:
        if m == prior.C and prior.replacement:
            raise ValueError(f"E[D] < C = {prior.C} for every finite batch drawn with "
                             "replacement: no K reaches classes = C in expectation")
        return _first_true(lambda n: _mean_reaches(prior, n, m), m, top,
                           _guess_draws(prior, m, top), None)
    q = check_probability(confidence, "confidence")
    margin = _margin(prior, m, q, log_cover)
    return _first_true(lambda n: margin(n) >= 0, m, top, _guess_draws(prior, m, top), margin)


def _mean_reaches(prior: Prior, n: int, m: int) -> bool:
    """``E[D_n] >= m``, decided exactly (in fractions) when the float is within 1e-12."""
    v = float(expected_classes_unique(np.array([n]), prior)[0])
    if abs(v - m) > 1e-12 * m or prior.C * max(n, 1) > 10**6:
        return v >= m
    if prior.replacement:
        exact = sum((1 - (1 - f) ** n for f in prior.fractions()), Fraction(0))
    else:
        counts = prior.counts
        N = prior.N
        assert counts is not None and N is not None
        exact = sum((1 - Fraction(math.comb(N - c, n), math.comb(N, n)) for c in counts),
                    Fraction(0))
    return exact >= m


def _guess_draws(prior: Prior, m: int, top: int | None) -> int:
    """Smallest ``n`` with ``E[D_n] >= m`` (or ``m - 1/2`` for ``m = C``), a starting point."""
    target = m - 0.5 if (m == prior.C and prior.replacement) else float(m)

    def mean(n: int) -> float:
        return float(expected_classes_unique(np.array([n]), prior)[0])

    lo, hi = m - 1, m
    while mean(hi) < target:
        lo, hi = hi, hi * 2
        if top is not None and hi >= top:
            hi = top
            break
        if hi > 2**62:
            return 2**62
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mean(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def _margin(prior: Prior, m: int, q: float, log_cover: Callable[[int], float]
            ) -> Callable[[int], float]:
    """``f(n)``, increasing in ``n``, with ``f(n) >= 0`` exactly when ``P(D_n >= m) >= q``."""
    def f(n: int) -> float:
        lo, hi = support(n, prior)
        if m <= lo:
            return math.inf
        if m > hi:
            return -math.inf

        def lp(j: IntArray) -> FloatArray:
            return log_pmf(n, j, prior, log_cover)

        if q >= 0.5:  # P(D <= m - 1) <= 1 - q, on the small side
            return math.log1p(-q) - log_tail_sum(lp, lo, hi, m - 1, -1)
        return log_tail_sum(lp, lo, hi, m, +1) - math.log(q)
    return f


def _first_true(ok: Callable[[int], bool], lo_n: int, top: int | None, guess: int,
                margin: Callable[[int], float] | None) -> int:
    """Smallest ``n >= lo_n`` with ``ok(n)`` (monotone), starting from ``guess``.

    With a smooth ``margin`` (``>= 0`` exactly where ``ok``) the bracket is
    narrowed by regula falsi on it (Illinois), so a search takes a handful of
    evaluations; the answer is then confirmed at ``n`` and ``n - 1``.
    """
    guess = max(lo_n, guess if top is None else min(guess, top))
    cache: dict[int, float] = {}

    def val(n: int) -> float:
        if n not in cache:
            cache[n] = margin(n) if margin is not None else (1.0 if ok(n) else -1.0)
        return cache[n]

    # bracket: a < answer <= b, with val(a) < 0 <= val(b)
    step = max(1, int(math.sqrt(guess)))
    if val(guess) >= 0:
        b = guess
        a = b - step
        while a >= lo_n and val(a) >= 0:
            b = a
            step *= 2
            a = b - step
        if a < lo_n:
            if val(lo_n) >= 0:
                return lo_n
            a = lo_n
    else:
        a = guess
        b = a + step
        while True:
            if top is not None and b >= top:
                b = top
                if val(b) < 0:
                    raise AssertionError("unreachable: the whole data set holds every class")
                break
            if b > 2**62:
                raise ValueError("no batch size up to 2**62 reaches that target")
            if val(b) >= 0:
                break
            a = b
            step *= 2
            b = a + step
    fa, fb = val(a), val(b)
    side = 0
    while b - a > 1:
        if margin is not None and math.isfinite(fa) and math.isfinite(fb) and fb > fa:
            c = int(round(b - fb * (b - a) / (fb - fa)))
            c = min(max(c, a + 1), b - 1)
        else:
            c = (a + b) // 2
        fc = val(c)
        if fc >= 0:
            b, fb = c, fc
            if side == +1:
                fa /= 2.0
            side = +1
        else:
            a, fa = c, fc
            if side == -1:
                fb /= 2.0
            side = -1
    return b
