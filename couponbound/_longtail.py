"""Coverage probability for priors with many distinct class probabilities.

``upsilon_n = n! [t^n] prod_c (e^{p_c t} - 1)`` (:ref:`math-coverage`) is the
Cauchy integral of the generating function on the circle ``|t| = r`` through
the saddle point (:ref:`math-saddle`).  Writing ``sigma`` for the standard
deviation of the exponentially tilted distribution and ``u = sigma * theta``,
the integrand is ``~ exp(-u^2/2)`` times a smooth factor; this module

* places the nodes of the trapezoidal rule on the circle with a step of
  ``0.4`` in ``u`` (``L = max(64, 2 pi sigma / 0.4)`` nodes on the whole circle;
  the rule is exact up to the aliased coefficients ``n +- L``, ``12 sigma``
  away, below ``1e-20`` relative) and evaluates only the nodes where the
  integrand is not negligible, walking outwards until it has dropped below
  ``1e-18`` (checked, not assumed), so the node count is set by the accuracy
  and not by ``n``; every target ``n`` is evaluated at its own saddle point;
* evaluates the class sum ``sum_c w_c f(p_c r)`` of each smooth bounded
  per-class function ``f`` (the tilted mean and variance, and the integrand's
  per-class factor on the arc ``|theta| <= 1/4``) through Chebyshev moments in
  ``y = log p``: ``f(e^y r)`` is interpolated at Chebyshev points of the
  prior's ``log p`` range and ``sum_c w_c T_j(y_c)`` is computed once per prior,
  so after that set-up a point costs ``O(N)`` (``N`` ~ 100-300 Chebyshev
  terms) instead of ``O(G)``.  The truncation error of each interpolant,
  weighted by the actual moments, is estimated from its last coefficients and
  must be below ``1e-14``; otherwise (and for small ``G``) the sum is taken
  directly over the classes.  ``log prod_c (1 - e^{-p_c r})`` is always summed
  directly (one pass over the classes), because its terms are not small;
* computes the right tail ``1 - upsilon_n = n! [t^n] (e^t - prod_c (e^{p_c t} - 1))``
  by the same rule on the generating function ``e^t (1 - prod_c (1 - e^{-p_c t}))``
  (non-negative coefficients), with ``-log prod_c (1 - e^{-p_c t})`` summed
  in scaled form (relative to the largest ``e^{-p_c r}``), so it keeps its
  relative accuracy down to ``1e-300`` and below; only the classes within
  ``e^{-50}`` of the largest term are summed.

The left tail uses the coverage integral and the right tail (``upsilon >= 1/2``)
the tail integral, so ``log upsilon`` and ``log(1 - upsilon)`` both keep full
relative accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.fft
from numpy.typing import NDArray

from couponbound._saddle import clog1p, log_poisson_norm

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
IntArray = NDArray[np.int64]

__all__ = ["LongTailPrior", "log_coverage_many", "log_miss_many"]

_H = 0.4  # trapezoidal step in u = sigma * theta
_U_FIRST = 11.0  # first stretch of nodes, in u
_NEGLIGIBLE = 1e-18  # |integrand| / integrand(0) below which a node is dropped
_CHEB_THETA = 0.25  # largest |theta| the Chebyshev class sums serve
_CHEB_TOL = 1e-14  # estimated truncation error allowed in a Chebyshev class sum
_DIRECT_CHUNK = 2_000_000  # elements per block of a direct (classes x nodes) sum
_TAIL_PRUNE = 50.0  # tail: classes with e^{-p r} < e^{-50} * the largest are dropped
_LOG_HALF = math.log(0.5)


# --------------------------------------------------------------------------
# elementary complex pieces
# --------------------------------------------------------------------------

def _cexpm1(z: ComplexArray) -> ComplexArray:
    """``e^z - 1`` for complex ``z``, accurate near 0."""
    a = z.real
    b = z.imag
    with np.errstate(over="ignore", invalid="ignore"):
        re = np.expm1(a) * np.cos(b) - 2.0 * np.sin(0.5 * b) ** 2
        im = np.exp(a) * np.sin(b)
    return re + 1j * im


def _bose(x: FloatArray) -> FloatArray:
    """``1 / (e^x - 1)`` for ``x > 0`` without overflow."""
    return np.exp(-x) / -np.expm1(-x)


def _log_factor(x: FloatArray, theta: FloatArray) -> ComplexArray:
    """``log((1 - e^{-x e^{i theta}}) / (1 - e^{-x}))`` (any branch), broadcast.

    For ``cos theta >= 0`` as ``log1p(-b(x) expm1(-x (e^{i theta} - 1)))`` with
    ``b = 1/(e^x - 1)``: the argument is ``O(theta)`` for every ``x``, so the
    value keeps its relative accuracy near ``theta = 0``.  For ``cos theta < 0``
    (only needed far from the peak, where absolute accuracy suffices) through
    ``1 - e^{-w} = -e^{-w} (e^w - 1)``.
    """
    x, theta = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(theta, dtype=float))
    out = np.empty(x.shape, dtype=complex)
    e = _cexpm1(np.asarray(1j * theta, dtype=np.complex128))
    front = np.cos(theta) >= 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if np.any(front):
            xf = x[front]
            big = xf > 700.0
            val = np.empty(xf.shape, dtype=complex)
            sm = ~big
            val[sm] = clog1p(-_bose(xf[sm]) * _cexpm1(-xf[sm] * e[front][sm]))
            if np.any(big):
                wb = xf[big] * np.exp(1j * theta[front][big])
                val[big] = clog1p(-np.exp(-wb)) - np.log1p(-np.exp(-xf[big]))
            out[front] = val
        back = ~front
        if np.any(back):
            xb = x[back]
            w = xb * np.exp(1j * theta[back])
            val = -w + 1j * math.pi + np.log(-_cexpm1(w)) - np.log(-np.expm1(-xb))
            out[back] = np.where(np.isfinite(val), val, -np.inf + 0j)
    return out


def _mean_term(x: FloatArray) -> FloatArray:
    """``B(x) = x / (e^x - 1)``: a class's tilted mean minus ``x``."""
    return x * _bose(x)


def _var_term(x: FloatArray) -> FloatArray:
    """``B (1 - x - B)``: a class's tilted variance minus ``x``."""
    bb = _mean_term(x)
    return bb * (1.0 - x - bb)


# --------------------------------------------------------------------------
# the prior, with its Chebyshev moments in log p
# --------------------------------------------------------------------------

@dataclass
class LongTailPrior:
    """Distinct class probabilities ``p`` (ascending) with multiplicities ``w``.

    Holds what every evaluation shares: ``log p``, and (built on first use)
    the Chebyshev moments ``M_j = sum_c w_c T_j(t_c)`` of the classes' scaled
    ``log p``.  ``direct_max`` is the number of distinct probabilities up to
    which class sums are taken directly (no moments).
    """

    p: FloatArray
    w: FloatArray
    direct_max: int = 1500
    S: float = field(init=False)
    C: float = field(init=False)
    y: FloatArray = field(init=False)
    _moments: FloatArray | None = field(init=False, default=None, repr=False)
    _cheb_y: FloatArray | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        order = np.argsort(self.p, kind="stable")
        self.p = np.asarray(self.p, dtype=float)[order]
        self.w = np.asarray(self.w, dtype=float)[order]
        total = math.fsum((self.p * self.w).tolist())
        self.p = self.p / total  # probabilities: renormalised to sum exactly 1
        self.S = 1.0
        self.C = float(self.w.sum())
        self.y = np.log(self.p)

    @property
    def G(self) -> int:
        return int(self.p.size)

    # ---- Chebyshev class sums ----------------------------------------------
    def _cheb_setup(self) -> bool:
        """Build the moments (once); False when direct sums are the better deal."""
        if self._moments is not None:
            return True
        lo, hi = float(self.y[0]), float(self.y[-1])
        if self.G <= self.direct_max or hi - lo <= 0.0:
            return False
        half = 0.5 * (hi - lo)
        delta = 0.5 * math.pi - _CHEB_THETA  # distance of the nearest singularity in y
        rho = (delta + math.sqrt(delta * delta + half * half)) / half
        n_terms = int(math.ceil(math.log(1e16) / math.log(rho))) + 12
        n_terms = max(32, n_terms)
        if n_terms * 4 > self.G:
            return False
        t = (2.0 * self.y - (lo + hi)) / (hi - lo)
        t = np.clip(t, -1.0, 1.0)
        mom = np.empty(n_terms)
        w = self.w
        t_prev = np.ones_like(t)
        t_cur = t.copy()
        buf = np.empty_like(t)
        mom[0] = float(w.sum())
        mom[1] = float(w @ t_cur)
        two_t = 2.0 * t
        for j in range(2, n_terms):
            np.multiply(two_t, t_cur, out=buf)
            buf -= t_prev
            t_prev, t_cur, buf = t_cur, buf, t_prev
            mom[j] = float(w @ t_cur)
        k = np.arange(n_terms)
        nodes = np.cos(math.pi * (k + 0.5) / n_terms)
        self._cheb_y = 0.5 * (lo + hi) + 0.5 * (hi - lo) * nodes
        self._moments = mom
        return True

    def class_sum(self, f: Callable[[FloatArray], FloatArray], r: float, checked: bool = True) -> float:
        """``sum_c w_c f(p_c r)`` for a real bounded smooth ``f``."""
        if self._cheb_setup():
            assert self._cheb_y is not None and self._moments is not None
            vals = f(np.exp(self._cheb_y) * r)
            coef = scipy.fft.dct(vals, type=2) / vals.size
            coef[0] *= 0.5
            if not checked or _tail_ok(coef, self._moments):
                return float(coef @ self._moments)
        return float(self.w @ f(self.p * r))

    def log_factor_sum(self, r: float, theta: FloatArray) -> ComplexArray:
        """``sum_c w_c log((1 - e^{-p_c r e^{i theta}}) / (1 - e^{-p_c r}))`` per node."""
        theta = np.asarray(theta, dtype=float)
        out = np.empty(theta.shape, dtype=complex)
        todo = np.ones(theta.shape, dtype=bool)
        near = np.abs(theta) <= _CHEB_THETA
        if np.any(near) and self._cheb_setup():
            assert self._cheb_y is not None and self._moments is not None
            xs = np.exp(self._cheb_y) * r
            vals = _log_factor(xs[:, None], theta[near][None, :])
            coef = scipy.fft.dct(vals.real, type=2, axis=0) + 1j * scipy.fft.dct(vals.imag, type=2, axis=0)
            coef /= xs.size
            coef[0] *= 0.5
            err = np.abs(coef[-8:]).T @ np.abs(self._moments[-8:])
            good = err <= _CHEB_TOL
            idx = np.flatnonzero(near)
            out[idx[good]] = self._moments @ coef[:, good]
            todo[idx[good]] = False
        if np.any(todo):
            out[todo] = self._direct_log_factor(r, theta[todo])
        return out

    def _direct_log_factor(self, r: float, theta: FloatArray) -> ComplexArray:
        x = self.p * r
        out = np.zeros(theta.shape, dtype=complex)
        step = max(1, _DIRECT_CHUNK // max(1, x.size))
        for i in range(0, theta.size, step):
            th = theta[i:i + step]
            out[i:i + step] = self.w @ _log_factor(x[:, None], th[None, :])
        return out

    def log_rest(self, r: float) -> float:
        """``log prod_c (1 - e^{-p_c r})^{w_c}``, summed directly."""
        return float(self.w @ np.log(-np.expm1(-self.p * r)))


def _tail_ok(coef: FloatArray, moments: FloatArray) -> bool:
    return float(np.abs(coef[-8:]) @ np.abs(moments[-8:])) <= _CHEB_TOL


# --------------------------------------------------------------------------
# the trapezoidal rule on the saddle circle
# --------------------------------------------------------------------------

def _circle_integral(
    log_integrand: Callable[[FloatArray], ComplexArray], sigma: float
) -> float:
    """``(1/2 pi) int_{-pi}^{pi} e^{log_integrand(theta)} d theta`` for a real-valued integral.

    ``log_integrand(0)`` must be 0 and the integrand conjugate-symmetric.
    Nodes ``2 pi j / L`` with ``L = max(64, 2 pi sigma / h)``, walked outwards
    from ``theta = 0`` until two consecutive nodes fall below ``1e-18``.
    """
    big_l = max(64, int(math.ceil(2.0 * math.pi * max(sigma, 0.0) / _H)))
    big_l += big_l % 2
    half = big_l // 2
    dtheta = 2.0 * math.pi / big_l
    total = 1.0  # node 0
    j0 = 1
    stretch = max(4, int(math.ceil(_U_FIRST / _H)))
    while j0 <= half:
        j1 = min(half, j0 + stretch - 1)
        js = np.arange(j0, j1 + 1)
        with np.errstate(under="ignore"):
            vals = np.exp(log_integrand(np.asarray(js * dtheta, dtype=np.float64)))
        vals = np.where(np.isfinite(vals), vals, 0.0)
        weights = np.where(js == half, 1.0, 2.0)
        total += float(np.sum(weights * vals.real))
        if j1 == half:
            break
        if vals.size >= 2 and np.all(np.abs(vals[-2:]) < _NEGLIGIBLE):
            break
        j0 = j1 + 1
        stretch *= 2
    return total / big_l


def _theta_phase(r: float, n: float, theta: FloatArray) -> ComplexArray:
    """``r (e^{i theta} - 1) - i n theta`` without cancelling ``r sin theta - n theta``."""
    re = -2.0 * r * np.sin(0.5 * theta) ** 2
    small = np.abs(theta) < 0.1
    t2 = theta * theta
    # theta - sin theta by its series where theta is small
    series = theta * t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0 * (1.0 - t2 / 110.0))))
    th_minus_sin = np.where(small, series, theta - np.sin(theta))
    im = (r - n) * theta - r * th_minus_sin
    return re + 1j * im


def _solve(mean_var: Callable[[float], tuple[float, float]], n: float, s_lo: float, s_hi: float) -> float:
    """``s = log r`` with ``mean(e^s) = n``: Newton in ``s`` kept inside a bracket."""
    s = min(max(math.log(n), s_lo), s_hi)
    for _ in range(200):
        mu, var = mean_var(math.exp(s))
        if mu < n:
            s_lo = s
        else:
            s_hi = s
        step = (n - mu) / var if var > 0 else 0.0
        s_new = s + step
        if not (s_lo < s_new < s_hi) or not math.isfinite(s_new):
            s_new = 0.5 * (s_lo + s_hi)
        if abs(s_new - s) < 1e-12 * max(1.0, abs(s)) or s_hi - s_lo < 1e-14 * max(1.0, abs(s)):
            return s_new
        s = s_new
    return s


# --------------------------------------------------------------------------
# log upsilon_n (left side and middle)
# --------------------------------------------------------------------------

def _coverage_mean_var(pr: LongTailPrior) -> Callable[[float], tuple[float, float]]:
    def mv(r: float) -> tuple[float, float]:
        return (pr.S * r + pr.class_sum(_mean_term, r, checked=False),
                max(pr.S * r + pr.class_sum(_var_term, r, checked=False), 1e-300))
    return mv


def _log_coverage_one(pr: LongTailPrior, n: int) -> float:
    nf = float(n)
    mv = _coverage_mean_var(pr)
    # mean(r) lies in [C + r S / 2, C + r S]: so r in [(n - C)/S, 2(n - C)/S] roughly
    excess = max(nf - pr.C, 1e-300)
    s_lo = math.log(excess / pr.S) - 1.0
    s_hi = math.log(2.0 * nf / pr.S) + 1.0
    s = _solve(mv, nf, s_lo, s_hi)
    r = math.exp(s)
    var = mv(r)[1]
    sigma = math.sqrt(var)

    def log_integrand(theta: FloatArray) -> ComplexArray:
        return _theta_phase(pr.S * r, nf, theta) + pr.log_factor_sum(r, theta)

    coef = _circle_integral(log_integrand, sigma)
    if not coef > 0.0:  # pragma: no cover - defensive
        return math.nan
    log_norm = float(log_poisson_norm(np.array([nf]), pr.S * r)[0]) + nf * math.log(pr.S)
    return math.log(coef) + pr.log_rest(r) + log_norm


def _log_min_degree(pr: LongTailPrior) -> float:
    """``log upsilon_C = log(C! prod p_c)``."""
    return math.lgamma(pr.C + 1.0) + math.fsum((pr.w * pr.y).tolist())


# --------------------------------------------------------------------------
# log(1 - upsilon_n) (right side)
# --------------------------------------------------------------------------

@dataclass
class _TailSums:
    log_abs_a: float  # log |A|, A = sum w log(1 - e^{-x}) < 0
    ratio_s: float  # A_s / |A|
    ratio_ss: float  # A_ss / |A|


def _tail_classes(pr: LongTailPrior, r: float, theta_max: float) -> tuple[FloatArray, FloatArray]:
    """The classes whose missing-probability terms matter at radius ``r``."""
    x = pr.p * r
    x0 = float(x[0])
    keep = (x - x0) - x * (1.0 - math.cos(min(theta_max, math.pi / 2))) < _TAIL_PRUNE
    keep[0] = True
    return pr.p[keep], pr.w[keep]


def _tail_sums(p: FloatArray, w: FloatArray, r: float) -> _TailSums:
    x = p * r
    x0 = float(x[0])
    with np.errstate(under="ignore"):
        e_scaled = np.exp(-(x - x0))  # e^{-x} / e^{-x0}
        one_minus = -np.expm1(-x)  # 1 - e^{-x}
        u = np.exp(-x)
    # -log(1 - u) / u, accurate for small u
    tiny = u < 1e-8
    phi = np.where(tiny, 1.0 + 0.5 * u, -np.log1p(-np.where(tiny, 0.0, u)) / np.where(tiny, 1.0, u))
    a_scaled = float(w @ (e_scaled * phi))  # |A| e^{x0}
    b_scaled = e_scaled / one_minus  # b(x) e^{x0}
    as_scaled = float(w @ (x * b_scaled))
    ass_scaled = float(w @ (x * b_scaled * (1.0 - x / one_minus)))
    return _TailSums(math.log(a_scaled) - x0, as_scaled / a_scaled, ass_scaled / a_scaled)


def _f1(abs_a: float) -> float:
    """``|A| / expm1(|A|)``."""
    return 1.0 / (1.0 + abs_a / 2.0) if abs_a < 1e-8 else abs_a / math.expm1(abs_a)


def _log_one_minus_exp_over(a: float) -> float:
    """``log((1 - e^{-a}) / a)`` for ``a >= 0``."""
    if a < 1e-4:
        return -a / 2.0 + a * a / 24.0
    return math.log(-math.expm1(-a) / a)


def _log_miss_one(pr: LongTailPrior, n: int) -> float:
    nf = float(n)
    S = pr.S

    def mv(r: float) -> tuple[float, float]:
        p, w = _tail_classes(pr, r, 0.0)
        ts = _tail_sums(p, w, r)
        abs_a = math.exp(ts.log_abs_a)
        f1 = _f1(abs_a)
        mean = S * r - ts.ratio_s * f1
        var = S * r - ts.ratio_ss * f1 - ts.ratio_s**2 * f1 * f1 * math.exp(abs_a)
        return mean, max(var, 1e-300)

    s_lo = math.log(max(nf, 1.0) / S) - 2.0
    s_hi = math.log((nf + pr.C + 50.0) / (S * float(pr.p[0]))) + 60.0
    s = _solve(mv, nf, s_lo, s_hi)
    r = math.exp(s)
    sigma = math.sqrt(mv(r)[1])
    theta_span = min(math.pi, 40.0 / max(sigma, 1e-300))
    p, w = _tail_classes(pr, r, theta_span)
    ts0 = _tail_sums(p, w, r)
    x = p * r
    x0 = float(x[0])
    abs_a0 = math.exp(ts0.log_abs_a)
    a_scaled0 = math.exp(ts0.log_abs_a + x0)
    lexp0 = _log_one_minus_exp_over(abs_a0)

    def log_integrand(theta: FloatArray) -> ComplexArray:
        z = np.exp(1j * theta)
        lu = -x[:, None] * z[None, :] + x0  # log(e^{-p z} / e^{-x0})
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            uu = np.exp(-x[:, None] * z[None, :])
            small = np.abs(uu) < 1e-8
            phi = np.where(small, 1.0 + 0.5 * uu,
                           -clog1p(-np.where(small, 0.0, uu)) / np.where(small, 1.0, uu))
            terms = np.exp(lu) * phi
        a_sc = w @ terms  # -A(z) e^{x0}
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_ratio_a = np.log(a_sc / a_scaled0)
            a_z = a_sc * math.exp(-x0) if x0 < 700 else a_sc * 0.0
            small_a = np.abs(a_z) < 1e-4
            safe = np.where(small_a, 1.0, a_z)
            # log((1 - e^{-a}) / a), a = -A(z)
            lexp = np.where(small_a, -a_z / 2.0 + a_z * a_z / 24.0, np.log(-_cexpm1(-safe) / safe))
        out = _theta_phase(S * r, nf, theta) + log_ratio_a + lexp - lexp0
        return np.where(np.isfinite(out), out, -np.inf + 0j)

    coef = _circle_integral(log_integrand, sigma)
    log_norm = float(log_poisson_norm(np.array([nf]), S * r)[0]) + nf * math.log(S)
    log_tail_r = ts0.log_abs_a + lexp0  # log(1 - prod(1 - e^{-x}))
    return math.log(coef) + log_tail_r + log_norm


# --------------------------------------------------------------------------
# public (package-internal) entry points
# --------------------------------------------------------------------------

def _as_prior(probs: FloatArray, mult: NDArray[np.integer] | FloatArray) -> LongTailPrior:
    return LongTailPrior(np.asarray(probs, dtype=float), np.asarray(mult, dtype=float))


def _both(pr: LongTailPrior, n: IntArray, want_miss: bool) -> FloatArray:
    n = np.asarray(n, dtype=np.int64)
    out = np.empty(n.shape)
    C = int(round(pr.C))
    for i, ni in enumerate(n.tolist()):
        if ni < C:
            out[i] = 0.0 if want_miss else -math.inf
            continue
        if C == 1:
            out[i] = -math.inf if want_miss else 0.0
            continue
        lu = _log_min_degree(pr) if ni == C else _log_coverage_one(pr, ni)
        if lu < _LOG_HALF:
            out[i] = math.log(-math.expm1(lu)) if want_miss else lu
        else:
            lm = _log_miss_one(pr, ni)
            out[i] = lm if want_miss else math.log1p(-math.exp(lm))
    return out


def log_coverage_many(n: IntArray, probs: FloatArray, mult: NDArray[np.integer] | FloatArray,
                      prior: LongTailPrior | None = None) -> FloatArray:
    """``log upsilon_n`` for draw counts ``n`` under distinct probabilities ``probs``
    with multiplicities ``mult`` (``-inf`` for ``n < C``).

    Each ``n`` is evaluated at its own saddle point; where ``upsilon_n >= 1/2`` the
    value is ``log1p(-miss)`` with the miss probability of :func:`log_miss_many`,
    so ``log upsilon`` keeps its relative accuracy near 0.  Pass a prebuilt
    ``prior`` (a :class:`LongTailPrior`) to reuse its Chebyshev moments.
    """
    pr = prior if prior is not None else _as_prior(probs, mult)
    return _both(pr, n, want_miss=False)


def log_miss_many(n: IntArray, probs: FloatArray, mult: NDArray[np.integer] | FloatArray,
                  prior: LongTailPrior | None = None) -> FloatArray:
    """``log(1 - upsilon_n)`` (``0`` for ``n < C``), accurate to ~1e-12 relative
    also where ``1 - upsilon_n`` is far below ``1e-300``."""
    pr = prior if prior is not None else _as_prior(probs, mult)
    return _both(pr, n, want_miss=True)
