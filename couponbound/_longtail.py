"""Coverage probability for priors with many distinct class probabilities.

``upsilon_n = n! [t^n] prod_c (e^{p_c t} - 1)`` (:ref:`math-coverage`) is the
Cauchy integral of the generating function on the circle ``|t| = r`` through
the saddle point (:ref:`math-saddle`).  Writing ``sigma`` for the standard
deviation of the exponentially tilted distribution and ``u = sigma * theta``,
the integrand is ``~ exp(-u^2/2)`` times a smooth factor; this module

* places the nodes of the trapezoidal rule on the circle with a step of
  ``0.6`` in ``u`` (``L = max(64, 2 pi sigma / 0.6)`` nodes on the whole circle;
  the rule is exact up to the aliased coefficients ``n +- L``, ``10.5 sigma``
  away, ``~ e^{-2 pi^2 / 0.6^2} ~ 1e-24`` relative for a Gaussian profile;
  checked against a step of ``0.2`` to ``1e-14`` on skewed small priors) and
  evaluates only the nodes where the integrand is not negligible, walking
  outwards until it has dropped below ``1e-18`` (checked, not assumed), so the
  node count is set by the accuracy and not by ``n``; a vectorised call groups
  its targets into bands, each served by one set of nodes taken at a point one
  standard deviation above the band's first target (a target ``d`` standard
  deviations away keeps its accuracy up to ``e^{d^2/2}``, so vectorised and
  scalar values agree to ~1e-14, and a dense curve costs one integral per two
  standard deviations of ``n``);
* evaluates the class sum ``sum_c w_c f(p_c r)`` of each smooth per-class
  function ``f`` (the tilted mean and variance, ``log(1 - e^{-p r})``, and the
  integrand's per-class factor on the arc ``|theta| <= 1/4``) through piecewise
  Chebyshev moments in ``y = log p``: the prior's ``log p`` range is cut into
  pieces of width ``<= 1.5``, ``f(e^y r)`` is interpolated at the Chebyshev
  points of each piece (about 40 terms: the nearest singularity is
  ``pi/2 - 1/4`` away from the real axis) and ``sum_c w_c T_j(y_c)`` is
  computed once per prior (one pass per term, about 10 ms for ``G = 10^5``);
  a point then costs ``O(pieces x terms)`` instead of ``O(G)``.  The truncation
  error of each sum, estimated from the last coefficients weighted by the
  moments, must be below ``1e-14`` (else the sum is taken directly); pieces
  with few classes are summed directly, and so is every class sum where the
  moments would cost more than the G classes.  Pieces starting above
  ``p r = 52`` (each class there changes the sum by less than ``e^{-50}``)
  are not evaluated;
* for eight or more values on the coverage side at once (:func:`_left_many`):
  all saddle points by one vectorised Newton iteration, bands anchored at
  requested values, and the class sum on the arc as its Taylor series in
  ``z - 1`` (coefficients ``A_k`` from the Chebyshev moments for every anchor
  at once), served only where its truncation, the moments' error and the
  integrand's decay are checked; the rest take one integral per band;
* decides the side with one pass over the classes near the smallest
  probability: where ``S1 = sum_c (1 - p_c)^n <= 1/2`` the union bound gives
  ``1 - upsilon <= 1/2`` and the right tail is computed; otherwise the product
  bound (negative association) gives ``upsilon <= e^{-S1} < 0.61`` and the
  coverage integral is used.  Either way only one integral is evaluated and
  both ``log upsilon`` and ``log(1 - upsilon)`` keep full relative accuracy;
* computes the right tail ``1 - upsilon_n = n! [t^n] (e^t - prod_c (e^{p_c t} - 1))``
  by the same rule on the generating function ``e^t (1 - prod_c (1 - e^{-p_c t}))``
  (non-negative coefficients), with ``-log prod_c (1 - e^{-p_c t})`` summed
  in scaled form (relative to the largest ``e^{-p_c r}``), so it keeps its
  relative accuracy down to ``1e-300`` and below; only the classes within
  ``e^{-50}`` of the largest term are kept (a prefix of the sorted ``p``).
  Those sums (at the real point for the saddle and the scale, and at each node
  with ``|theta| <= 1/4``) go through the Chebyshev moments of the pieces
  within ``e^{-50}`` (:meth:`LongTailPrior.sums_at`), with an estimated error
  (truncation plus rounding) below ``4e-15`` of the sum at ``theta = 0``; a
  node or sum above it is taken directly, where with many kept classes the
  sum is a power series in ``zeta = 1 - e^{i theta}``
  (``sum_m (1/m) e^{x0 - m x0 z} sum_k b_{m,k} zeta^k``, coefficients from one
  pass; truncation checked to ``1e-17``), so a node costs ``O(terms)``;
* computes the completion time's pmf ``P(T = n) = (n-1)! [t^{n-1}] F(t) h(t)``,
  ``F = prod_c (e^{p_c t} - 1)``, ``h = sum_c p_c / (e^{p_c t} - 1)`` (a series
  with non-negative coefficients) by the same rule at the saddle point of
  ``F h``, one direct pass over the classes that matter per node
  (:func:`log_pmf_many`);
* finds the smallest ``n`` with ``upsilon_n >= confidence``
  (:func:`required_draws`) inside a bracket from the union and product
  bounds, with a few full evaluations (regula falsi).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._saddle import clog1p, log1mexp, log_poisson_norm

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
IntArray = NDArray[np.int64]

__all__ = ["LongTailPrior", "cexpm1", "completion_moments", "log_coverage_many", "log_miss_many",
           "log_pmf_many", "required_draws"]

_H = 0.6  # trapezoidal step in u = sigma * theta
_U_FIRST = 11.0  # first stretch of nodes, in u
_NEGLIGIBLE = 1e-18  # |integrand| / integrand(0) below which a node is dropped
_CHEB_THETA = 0.25  # largest |theta| the Chebyshev class sums serve
_CHEB_TOL = 1e-14  # estimated truncation error allowed in a Chebyshev class sum
# ... in the right tail's sums (relative to the sum at theta = 0; the rounding
# estimate of a sum of 1e5 positive terms is about 1.3e-15 of it)
_TAIL_TOL = 4e-15
# classes with p r above this add less than ~e^{-50} each to the left side's class sums
# (log(1 - e^{-x}), x / (e^x - 1) and the per-node factor): they are not summed
_X_NEGLIGIBLE = 52.0
_PIECE_WIDTH = 1.5  # widest piece of the log p range served by one Chebyshev series
_MIN_PER_TERM = 2  # a piece gets a series when it holds >= this many classes per term
_DCT_COST = 0.5  # cost of a series' DCT and contraction per term, in class evaluations
# the factor's power series in p r (the far left tail): used while p_max r <= 2, where
# its terms fall like (2 / 2 pi)^k: 64 terms leave C * 0.32^64 < 1e-26 relative
_POWER_X_MAX = 2.0
_POWER_TERMS = 64


@functools.lru_cache(maxsize=1)
def _bernoulli_even(count: int) -> FloatArray:
    """``B_{2j} / (2j (2j)!)`` for ``j = 1 .. count``: the coefficients of
    ``log((e^x - 1)/x) - x/2`` (Bernoulli numbers by their recurrence, exactly)."""
    from fractions import Fraction

    n_max = 2 * count
    B = [Fraction(1)]
    for m in range(1, n_max + 1):
        B.append(-sum((math.comb(m + 1, k) * B[k] for k in range(m)), Fraction(0)) / (m + 1))
    return np.array([float(B[2 * j] / (2 * j * math.factorial(2 * j))) for j in range(1, count + 1)])



_DIRECT_CHUNK = 2_000_000  # elements per block of a direct (classes x nodes) sum
_TAIL_PRUNE = 50.0  # tail: classes with e^{-p r} < e^{-50} * the largest are dropped
_LOG_HALF = math.log(0.5)
_SERIES = True  # right tail: power series in 1 - e^{i theta} where it serves
_SERIES_MIN = 64  # ... and the tail keeps at least this many distinct classes


# --------------------------------------------------------------------------
# elementary complex pieces
# --------------------------------------------------------------------------

def _dct(a: FloatArray, type: int, axis: int) -> FloatArray:  # noqa: A002 - scipy's name
    """scipy's DCT, imported on first use (``import couponbound`` loads no scipy module)."""
    import scipy.fft

    return np.asarray(scipy.fft.dct(a, type=type, axis=axis), dtype=np.float64)


def cexpm1(z: ComplexArray) -> ComplexArray:
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
    xa = np.asarray(x, dtype=float)
    ta = np.asarray(theta, dtype=float)
    if bool(np.all(np.cos(ta) >= 0.0)) and bool(np.all(xa <= 700.0)):
        # the common case (nodes near the peak): e^{i theta} - 1 once per node, the
        # per-class factors once per class, and one broadcast product
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            ea = cexpm1(np.asarray(1j * ta, dtype=np.complex128))
            return _log_factor_front(xa, ta, ea)
    x, theta = np.broadcast_arrays(xa, ta)
    out = np.empty(x.shape, dtype=complex)
    e = cexpm1(np.asarray(1j * theta, dtype=np.complex128))
    front = np.cos(theta) >= 0.0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        if np.any(front):
            xf = x[front]
            big = xf > 700.0
            val = np.empty(xf.shape, dtype=complex)
            sm = ~big
            val[sm] = _log_factor_front(xf[sm], theta[front][sm], e[front][sm])
            if np.any(big):
                wb = xf[big] * np.exp(1j * theta[front][big])
                val[big] = clog1p(-np.exp(-wb)) - np.log1p(-np.exp(-xf[big]))
            out[front] = val
        back = ~front
        if np.any(back):
            xb = x[back]
            w = xb * np.exp(1j * theta[back])
            val = -w + 1j * math.pi + np.log(-cexpm1(w)) - log1mexp(xb)
            out[back] = np.where(np.isfinite(val), val, -np.inf + 0j)
    return out


_X_TINY = 1e-100  # below it log((1 - e^{-xz}) / (1 - e^{-x})) = i theta - x (z - 1)/2 to 1e-200


def _log_factor_front(x: FloatArray, theta: FloatArray, ea: ComplexArray) -> ComplexArray:
    """``log1p(-b(x) expm1(-x (z - 1)))`` (``z - 1 = ea``, broadcast), the front arc of
    :func:`_log_factor`, written ``expm1(.) / expm1(x)`` so no ``1/x`` is formed; for
    ``x < 1e-100`` (a class of subnormal probability) its series ``i theta - x (z - 1)/2``."""
    tiny = x < _X_TINY
    xs = np.where(tiny, 1.0, x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        val = clog1p(-cexpm1(-xs * ea) / np.expm1(xs))
        return np.where(tiny, 1j * theta - 0.5 * x * ea, val)


def _mean_term(x: FloatArray) -> FloatArray:
    """``B(x) = x / (e^x - 1)``: a class's tilted mean minus ``x`` (``x / expm1(x)`` below 1,
    so a subnormal ``x`` gives 1, not ``x`` times an overflowed ``1/x``)."""
    with np.errstate(under="ignore"):
        small = x < 1.0
        return np.where(small, x / np.expm1(np.where(small, x, 1.0)), x * _bose(np.where(small, 1.0, x)))


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

    Holds what every evaluation shares: ``log p``, ``-log(1 - p)``, and (built
    on first use) the piecewise Chebyshev moments: the prior's ``log p`` range
    is cut into pieces of width at most ``_PIECE_WIDTH`` and, for every piece
    holding enough classes, ``M_j = sum_c w_c T_j(t_c)`` with ``t_c`` the
    class's ``log p`` scaled to ``[-1, 1]`` within its piece; the classes of the
    other pieces are summed directly.  The moments are used when their estimated
    cost per evaluation (terms per piece, plus the classes summed directly) is
    below the number of distinct probabilities ``G``; ``direct_max`` (for
    references and tests) forces direct sums up to that ``G``.
    """

    p: FloatArray
    w: FloatArray
    direct_max: int | None = None
    S: float = field(init=False)
    C: float = field(init=False)
    y: FloatArray = field(init=False)
    lq: FloatArray = field(init=False, repr=False)
    _setup_done: bool = field(init=False, default=False, repr=False)
    _moments: FloatArray | None = field(init=False, default=None, repr=False)
    _cheb_y: FloatArray | None = field(init=False, default=None, repr=False)
    _dp: FloatArray | None = field(init=False, default=None, repr=False)
    _dw: FloatArray | None = field(init=False, default=None, repr=False)
    _psums: FloatArray | None = field(init=False, default=None, repr=False)
    _piece_lo: FloatArray | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        p = np.asarray(self.p, dtype=float)
        w = np.asarray(self.w, dtype=float)
        if p.size > 1 and not bool(np.all(p[1:] >= p[:-1])):  # groups come sorted
            order = np.argsort(p, kind="stable")
            p, w = p[order], w[order]
        self.p, self.w = p, w
        # probabilities renormalised to sum to 1 (numpy's pairwise sum: relative error
        # O(eps log G), which moves every p by the same factor, as a change of n by
        # that factor would: ~1e-16 relative in log upsilon and log(1 - upsilon))
        total = float(np.sum(self.p * self.w))
        self.p = self.p / total
        self.S = 1.0
        self.C = float(self.w.sum())
        self.y = np.log(self.p)
        with np.errstate(divide="ignore"):
            self.lq = -np.log1p(-self.p)  # -log(1 - p), ascending

    @property
    def G(self) -> int:
        return int(self.p.size)

    # ---- Chebyshev class sums ----------------------------------------------
    def _cheb_setup(self) -> bool:
        """Build the piecewise moments (once); False when every sum is direct."""
        if self._setup_done:
            return self._moments is not None
        self._setup_done = True
        lo, hi = float(self.y[0]), float(self.y[-1])
        if (self.direct_max is not None and self.G <= self.direct_max) or hi - lo <= 0.0:
            return False
        n_pieces = max(1, int(math.ceil((hi - lo) / _PIECE_WIDTH)))
        width = (hi - lo) / n_pieces
        half = 0.5 * width
        delta = 0.5 * math.pi - _CHEB_THETA  # distance of the nearest singularity in y
        rho = (delta + math.sqrt(delta * delta + half * half)) / half
        n_terms = max(24, int(math.ceil(math.log(1e16) / math.log(rho))) + 12)
        piece = np.minimum(((self.y - lo) / width).astype(np.int64), n_pieces - 1)
        counts = np.bincount(piece, minlength=n_pieces)
        use = counts >= _MIN_PER_TERM * n_terms
        # a node costs about (1 + _DCT_COST) * n_terms per piece with moments and
        # one evaluation per other class, against G evaluations summed directly
        cheb_cost = (1.0 + _DCT_COST) * n_terms * int(use.sum()) + int(counts[~use].sum())
        if not np.any(use) or cheb_cost >= self.G:
            return False
        in_cheb = use[piece]
        self._dp = self.p[~in_cheb]
        self._dw = self.w[~in_cheb]
        yc = self.y[in_cheb]
        wc = self.w[in_cheb]
        kept = np.flatnonzero(use)
        # classes are sorted, so each kept piece is a contiguous run of yc
        starts = np.concatenate(([0], np.cumsum(counts[kept])[:-1]))
        centre = lo + width * (kept + 0.5)
        t = (yc - np.repeat(centre, counts[kept])) / half
        np.clip(t, -1.0, 1.0, out=t)
        mom = np.empty((kept.size, n_terms))
        two_t = 2.0 * t
        prev = wc.copy()  # w T_0
        cur = wc * t  # w T_1
        buf = np.empty_like(t)
        mom[:, 0] = np.add.reduceat(prev, starts)
        mom[:, 1] = np.add.reduceat(cur, starts)
        for j in range(2, n_terms):
            np.multiply(two_t, cur, out=buf)
            buf -= prev
            prev, cur, buf = cur, buf, prev
            mom[:, j] = np.add.reduceat(cur, starts)
        k = np.arange(n_terms)
        nodes = np.cos(math.pi * (k + 0.5) / n_terms)
        self._cheb_y = centre[:, None] + half * nodes[None, :]
        self._piece_lo = np.asarray(centre - half, dtype=np.float64)
        self._moments = mom
        return True

    def class_sum(self, f: Callable[[FloatArray], FloatArray], r: float, checked: bool = True) -> float:
        """``sum_c w_c f(p_c r)`` for a real bounded smooth ``f`` that is below
        ``e^{-50}`` in size for ``p_c r > _X_NEGLIGIBLE`` (those classes are not summed)."""
        res = self.sums_at(lambda x: f(x)[None], np.array([r]), _X_NEGLIGIBLE / r)
        if res is not None:
            total, err = float(res[0][0, 0]), float(res[1][0, 0])
            # relative to the sum where it is large (log_rest in the far left tail,
            # where log upsilon is itself large: 1e-15 of the sum is <= 1e-13 of it)
            if not checked or err <= _CHEB_TOL * max(1.0, 0.1 * abs(total)):
                return total
        return float(self.w @ f(self.p * r))

    def _low(self, p_max: float) -> tuple[NDArray[np.bool_], int]:
        """The pieces of moments that start at or below ``p_max`` and the number of
        directly summed classes with ``p <= p_max`` (a prefix: both are sorted)."""
        assert self._piece_lo is not None and self._dp is not None
        lp = math.log(p_max) if p_max > 0.0 else -math.inf
        return self._piece_lo <= lp, int(np.searchsorted(self._dp, p_max, side="right"))

    def sums_at(self, f: Callable[[FloatArray], NDArray[Any]], r: FloatArray, p_max: float,
                rounding: bool = False) -> tuple[NDArray[Any], FloatArray] | None:
        """``sum_c w_c f_e(p_c r_i)`` for several functions ``f_e`` (real or complex: a
        function per node of the circle, say) and many radii ``r_i`` at once, over the
        classes with ``p_c <= p_max`` (pieces of moments that start above it are
        skipped whole), with the estimated error of each sum; None without moments.

        ``f`` maps ``x`` of any shape to ``(E,) + x.shape``; both results have shape
        ``(E, len(r))``.  The error is the truncation (the last coefficients weighted
        by the moments), plus with ``rounding`` ``4 eps`` times the sum of the terms'
        magnitudes."""
        if not self._cheb_setup():
            return None
        assert self._cheb_y is not None and self._moments is not None
        assert self._dp is not None and self._dw is not None
        sel, k = self._low(p_max)
        rr = np.asarray(r, dtype=float)
        direct = f(self._dp[:k, None] * rr[None, :])  # (E, k, N)
        total: NDArray[Any] = np.einsum("ekn,k->en", direct, self._dw[:k])
        err = np.zeros(total.shape)
        if np.any(sel):
            mom = self._moments[sel]
            vals = f(np.exp(self._cheb_y[sel])[:, :, None] * rr[None, None, :])  # (E, P, T, N)
            coef: NDArray[Any]
            if np.iscomplexobj(vals):
                coef = (_dct(np.asarray(vals.real, dtype=np.float64), type=2, axis=2)
                        + 1j * _dct(np.asarray(vals.imag, dtype=np.float64), type=2, axis=2))
            else:
                coef = _dct(np.asarray(vals, dtype=np.float64), type=2, axis=2)
            coef /= vals.shape[2]
            coef[:, :, 0] *= 0.5
            total = total + np.einsum("eptn,pt->en", coef, mom)
            err = np.einsum("eptn,pt->en", np.abs(coef[:, :, -8:]), np.abs(mom[:, -8:]))
            if rounding:
                err = err + 4e-16 * np.einsum("eptn,pt->en", np.abs(coef), np.abs(mom))
        return total, err

    def _power_sums(self) -> FloatArray:
        """``P_k = sum_c w_c p_c^k`` for ``k = 0 .. _POWER_TERMS`` (built on first use)."""
        if self._psums is None:
            ps = np.empty(_POWER_TERMS + 1)
            ps[0] = self.C
            term = self.w.copy()
            with np.errstate(under="ignore"):
                for k in range(1, _POWER_TERMS + 1):
                    term *= self.p
                    ps[k] = float(term.sum())
            self._psums = ps
        return self._psums

    def _series_log_factor(self, r: float, theta: FloatArray) -> ComplexArray:
        """:meth:`log_factor_sum` where ``p_max r <= _POWER_X_MAX``, in ``O(terms)`` per node.

        ``1 - e^{-x z} = x z e^{-x z} phi(x z)`` with ``phi(x) = (e^x - 1)/x`` and
        ``log phi(x) = x/2 + sum_j B_{2j} x^{2j} / (2j (2j)!)`` (radius ``2 pi``), so
        the sum over classes is ``C i theta - r (z - 1) + sum_k a_k r^k P_k (z^k - 1)``
        with the power sums ``P_k``: its terms fall like ``(p_max r / 2 pi)^k`` on the
        whole circle, so nothing cancels (the far left tail, ``n`` a little above
        ``C``, where the integrand is not peaked and every node of the circle counts).
        """
        ps = self._power_sums()
        ks = np.arange(2, _POWER_TERMS + 1, 2)
        coef = _bernoulli_even(_POWER_TERMS // 2) * np.exp(ks * math.log(r)) * ps[ks]  # a_k r^k P_k, k even
        e1 = cexpm1(np.asarray(1j * theta, dtype=np.complex128))  # z - 1
        zk_minus_1 = cexpm1(np.asarray(1j * np.outer(theta, ks), dtype=np.complex128))  # z^k - 1
        out = (1j * self.C) * theta - r * e1 + 0.5 * r * ps[1] * e1 + zk_minus_1 @ coef
        return np.asarray(out, dtype=np.complex128)

    def log_factor_sum(self, r: float, theta: FloatArray) -> ComplexArray:
        """``sum_c w_c log((1 - e^{-p_c r e^{i theta}}) / (1 - e^{-p_c r}))`` per node."""
        theta = np.asarray(theta, dtype=float)
        if float(self.p[-1]) * r <= _POWER_X_MAX:
            return self._series_log_factor(r, theta)
        out = np.empty(theta.shape, dtype=complex)
        todo = np.ones(theta.shape, dtype=bool)
        near = np.abs(theta) <= _CHEB_THETA
        if np.any(near) and self._cheb_setup():
            assert self._cheb_y is not None and self._moments is not None
            assert self._dp is not None and self._dw is not None
            # classes with p r cos(theta) > 50 change the sum by less than e^{-50} each
            sel, k = self._low(_X_NEGLIGIBLE / (r * math.cos(_CHEB_THETA)))
            mom = self._moments[sel]
            xs = np.exp(self._cheb_y[sel]) * r  # (pieces, terms)
            th = theta[near]
            vals = _log_factor(xs[:, :, None], th[None, None, :])
            coef = _dct(vals.real, type=2, axis=1) + 1j * _dct(vals.imag, type=2, axis=1)
            coef /= xs.shape[1]
            coef[:, 0, :] *= 0.5
            err = np.einsum("pjn,pj->n", np.abs(coef[:, -8:, :]), np.abs(mom[:, -8:]))
            good = err <= _CHEB_TOL
            idx = np.flatnonzero(near)
            if np.any(good):
                part = np.einsum("pjn,pj->n", coef[:, :, good], mom)
                if k:
                    part = part + self._dw[:k] @ _log_factor(self._dp[:k, None] * r, th[good][None, :])
                out[idx[good]] = part
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
        """``log prod_c (1 - e^{-p_c r})^{w_c}`` (every term ``<= 0``, so no cancellation).

        By the Chebyshev moments when they serve (``log(1 - e^{-e^y r})`` is
        analytic in ``|Im y| < pi/2``; the truncation error is checked to be below
        ``1e-14`` absolute, and this sum is only used where ``|log upsilon| >
        0.49``), else directly.
        """
        return self.class_sum(_log_one_minus_exp, r)

    def class_sums2(self, f: Callable[[FloatArray], FloatArray], r: float) -> tuple[float, float]:
        """Two class sums at once, ``f`` returning both functions stacked on a first axis
        of length 2 (the tilted mean and variance; unchecked, as ``class_sum(checked=False)``)."""
        res = self.sums_at(f, np.array([r]), _X_NEGLIGIBLE / r)
        if res is not None:
            return float(res[0][0, 0]), float(res[0][1, 0])
        both = f(self.p * r) @ self.w
        return float(both[0]), float(both[1])

    def log_rest_many(self, t: FloatArray) -> FloatArray:
        """``L(t) = sum_c w_c log(1 - e^{-p_c t})`` at many radii ``t`` (one vectorised pass).

        The Chebyshev class sums serve the nodes where their estimated error
        (truncation and rounding) changes ``1 - e^L`` by less than ``1e-14``
        relative; the others (near ``L = 0`` an absolute error is a large relative
        one) are summed directly over the classes that matter, ``p t <= p_0 t + 50``
        (a prefix of the sorted classes).
        """
        t = np.asarray(t, dtype=float)
        out = np.empty(t.shape)
        todo = np.ones(t.shape, dtype=bool)
        if t.size and self._cheb_setup():
            assert self._cheb_y is not None and self._moments is not None
            assert self._dp is not None and self._dw is not None
            xs = np.exp(self._cheb_y)[:, :, None] * t[None, None, :]
            vals = log1mexp(xs)
            coef = _dct(vals, type=2, axis=1) / vals.shape[1]
            coef[:, 0, :] *= 0.5
            mom = self._moments
            # truncation (the last coefficients) and rounding (eps times the terms)
            err = (np.einsum("pjn,pj->n", np.abs(coef[:, -8:, :]), np.abs(mom[:, -8:]))
                   + 4e-16 * np.einsum("pjn,pj->n", np.abs(coef), np.abs(mom)))
            lv = np.einsum("pjn,pj->n", coef, mom)
            if self._dp.size:
                lv = lv + self._dw @ log1mexp(self._dp[:, None] * t[None, :])
            # an error d in L moves 1 - e^L by e^L d: relative to 1 - e^L that is
            # d / (e^{-L} - 1), which must stay below the tolerance
            with np.errstate(over="ignore"):
                good = err <= _CHEB_TOL * np.expm1(-np.minimum(lv, 0.0))
            out[good] = lv[good]
            todo &= ~good
        p0 = float(self.p[0])
        for i in np.flatnonzero(todo).tolist():
            ti = float(t[i])
            k = max(1, int(np.searchsorted(self.p, p0 + _TAIL_PRUNE / ti, side="right")))
            with np.errstate(under="ignore"):
                out[i] = float(self.w[:k] @ log1mexp(self.p[:k] * ti))
        return out


def _log_one_minus_exp(x: FloatArray) -> FloatArray:
    """``log(1 - e^{-x})`` for ``x > 0``, keeping the relative accuracy of tiny values."""
    return log1mexp(x)


# --------------------------------------------------------------------------
# the trapezoidal rule on the saddle circle
# --------------------------------------------------------------------------

@dataclass
class _Nodes:
    """The evaluated nodes ``theta_j = 2 pi j / L`` (``j >= 1``) of the trapezoidal rule,
    the integrand's values there (1 at ``theta = 0``) and ``L``."""

    theta: FloatArray
    vals: ComplexArray
    big_l: int

    def coef(self, shift: FloatArray | None = None) -> FloatArray:
        """``(1/2 pi) int e^{-i d theta} (integrand) d theta`` for each shift ``d`` (default 0).

        The integrand is conjugate-symmetric, so the nodes at ``-theta_j`` are the
        conjugates; ``d`` is the distance of a target degree from the one whose
        phase the integrand carries (a coefficient ``d`` standard deviations away
        keeps its accuracy up to ``e^{d^2 / 2}``, see :func:`_bands`).
        """
        weights = np.where(np.arange(1, self.theta.size + 1) == self.big_l // 2, 1.0, 2.0)
        if shift is None:
            return np.array([(1.0 + float(np.sum(weights * self.vals.real))) / self.big_l])
        d = np.asarray(shift, dtype=float)[:, None]
        rot = (self.vals[None, :] * np.exp(-1j * d * self.theta[None, :])).real
        return (1.0 + rot @ weights) / self.big_l


def _circle_nodes(log_integrand: Callable[[FloatArray], ComplexArray], sigma: float) -> _Nodes:
    """Nodes ``2 pi j / L`` with ``L = max(64, 2 pi sigma / h)``, walked outwards from
    ``theta = 0`` until two consecutive nodes fall below ``1e-18`` (``log_integrand(0)``
    must be 0 and the integrand conjugate-symmetric)."""
    big_l = max(64, int(math.ceil(2.0 * math.pi * max(sigma, 0.0) / _H)))
    big_l += big_l % 2
    half = big_l // 2
    dtheta = 2.0 * math.pi / big_l
    thetas: list[FloatArray] = []
    values: list[ComplexArray] = []
    j0 = 1
    stretch = max(4, int(math.ceil(_U_FIRST / _H)))
    while j0 <= half:
        j1 = min(half, j0 + stretch - 1)
        js = np.arange(j0, j1 + 1)
        th = np.asarray(js * dtheta, dtype=np.float64)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            vals = np.exp(log_integrand(th))
        vals = np.where(np.isfinite(vals), vals, 0.0)
        thetas.append(th)
        values.append(vals)
        if j1 == half:
            break
        if vals.size >= 2 and np.all(np.abs(vals[-2:]) < _NEGLIGIBLE):
            break
        j0 = j1 + 1
        stretch *= 2
    return _Nodes(np.concatenate(thetas), np.concatenate(values).astype(complex), big_l)


def _circle_integral(
    log_integrand: Callable[[FloatArray], ComplexArray], sigma: float
) -> float:
    """``(1/2 pi) int_{-pi}^{pi} e^{log_integrand(theta)} d theta`` for a real-valued integral."""
    return float(_circle_nodes(log_integrand, sigma).coef()[0])


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
    return _solve_var(mean_var, n, s_lo, s_hi)[0]


def _solve_var(mean_var: Callable[[float], tuple[float, float]], n: float, s_lo: float, s_hi: float,
               tol: float = 1e-12) -> tuple[float, float]:
    """:func:`_solve` with the variance at the last point evaluated (within a step of
    relative size ``tol`` of the answer), so that ``sigma`` costs no further class sum."""
    s = min(max(math.log(n), s_lo), s_hi)
    var = math.nan
    for _ in range(200):
        mu, var = mean_var(math.exp(s))
        if mu < n:
            s_lo = s
        else:
            s_hi = s
        step = (n - mu) / var if var > 0 else math.inf
        if abs(step) < tol * max(1.0, abs(s)):  # converged (before the bracket test:
            return s + step, var  # a step below the spacing of floats leaves s unchanged)
        s_new = s + step
        if not (s_lo < s_new < s_hi) or not math.isfinite(s_new):
            s_new = 0.5 * (s_lo + s_hi)
        if s_hi - s_lo < 1e-14 * max(1.0, abs(s)):
            return s_new, mean_var(math.exp(s_new))[1]
        s = s_new
    return s, var


# --------------------------------------------------------------------------
# log upsilon_n (left side and middle)
# --------------------------------------------------------------------------

def _mean_var_terms(x: FloatArray) -> FloatArray:
    """``B(x)`` and ``B (1 - x - B)`` stacked on a new first axis (one pass for both)."""
    bb = _mean_term(x)
    return np.stack((bb, bb * (1.0 - x - bb)))


def _coverage_mean_var(pr: LongTailPrior) -> Callable[[float], tuple[float, float]]:
    def mv(r: float) -> tuple[float, float]:
        m, v = pr.class_sums2(_mean_var_terms, r)
        return pr.S * r + m, max(pr.S * r + v, 1e-300)
    return mv


def _coverage_saddle(pr: LongTailPrior, n: float) -> tuple[float, float]:
    """``(r, sigma)``: the saddle point of the coverage integral for ``n`` draws."""
    mv = _coverage_mean_var(pr)
    # mean(r) lies in [C + r S / 2, C + r S]: so r in [(n - C)/S, 2(n - C)/S] roughly
    excess = max(n - pr.C, 1e-300)
    # the saddle point only places the circle (any radius gives the exact integral):
    # log r to 1e-7 is ample, and the variance comes with the last Newton step
    s, var = _solve_var(mv, n, math.log(excess / pr.S) - 1.0, math.log(2.0 * n / pr.S) + 1.0,
                        tol=1e-7)
    return math.exp(s), math.sqrt(var)


def _log_coverage_band(pr: LongTailPrior, n: int, targets: IntArray,
                       saddle: tuple[float, float] | None = None) -> FloatArray:
    """``log upsilon_t`` for the ``targets`` near ``n`` from the integral at ``n``'s
    saddle point (``saddle``: its ``(r, sigma)`` when already known)."""
    nf = float(n)
    r, sigma = saddle if saddle is not None else _coverage_saddle(pr, nf)

    def log_integrand(theta: FloatArray) -> ComplexArray:
        return _theta_phase(pr.S * r, nf, theta) + pr.log_factor_sum(r, theta)

    tf = np.asarray(targets, dtype=float)
    coef = _circle_nodes(log_integrand, sigma).coef(tf - nf)
    log_norm = log_poisson_norm(tf, pr.S * r) + tf * math.log(pr.S)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(coef > 0.0, np.log(np.where(coef > 0.0, coef, 1.0)), np.nan) \
            + pr.log_rest(r) + log_norm


def _log_coverage_one(pr: LongTailPrior, n: int) -> float:
    return float(_log_coverage_band(pr, n, np.array([n]))[0])


def _log_min_degree(pr: LongTailPrior) -> float:
    """``log upsilon_C = log(C! prod p_c)``."""
    return math.lgamma(pr.C + 1.0) + math.fsum((pr.w * pr.y).tolist())


# --------------------------------------------------------------------------
# log P(T = n): the completion time's pmf
# --------------------------------------------------------------------------

def _scaled_bose_terms(pr: LongTailPrior, r: float) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """``(x, w, v, x0)`` for the classes that matter to ``h(r) = sum_c w_c p_c / (e^{p_c r} - 1)``.

    ``x = p r`` (ascending), ``x0 = x[0]`` and ``v = w B(x) e^{x0}`` with
    ``B(x) = x / (e^x - 1)``, so the largest ``v`` is not below ``w[0] x0 /
    (e^{x0} - 1) e^{x0}`` and nothing underflows.  Classes with ``v < 1e-20 *
    max(v)`` (a suffix: ``v`` falls with ``x``) are dropped: each class's term
    of ``F(z) h(z)`` is bounded on the whole circle by its value at ``theta = 0``
    (non-negative coefficients), so they change the pmf by less than ``G * 1e-20``.
    """
    x = pr.p * r
    x0 = float(x[0])
    with np.errstate(under="ignore"):
        v = pr.w * x * np.exp(-(x - x0)) / -np.expm1(-x)
    k = int(np.count_nonzero(v >= 1e-20 * float(v.max())))
    return x[:k], pr.w[:k], v[:k], x0


def _pmf_mean_var(pr: LongTailPrior) -> Callable[[float], tuple[float, float]]:
    """Mean and variance of the tilted distribution of ``F(t) h(t)`` at ``t = r``.

    ``log F(r) = r + sum_c w_c log(1 - e^{-x_c})`` contributes ``r + sum w B``
    and ``r + sum w B (1 - x - B)``; ``log h(r) = -log r + log sum_c w_c B(x_c)``
    contributes ``-<x + B>`` and ``-<x + B (1 - x - B)> + Var(x + B)``, the
    averages weighted by ``w B(x)``.
    """
    def mv(r: float) -> tuple[float, float]:
        b_all = _mean_term(pr.p * r)
        mean_f = r + float(pr.w @ b_all)
        var_f = r + float(pr.w @ (b_all * (1.0 - pr.p * r - b_all)))
        x, _, v, _ = _scaled_bose_terms(pr, r)
        b = b_all[:x.size]
        vs = float(v.sum())
        g = x + b
        mean_g = float(v @ g) / vs
        var_g = float(v @ (g - mean_g) ** 2) / vs
        dg = float(v @ (x + b * (1.0 - x - b))) / vs
        return mean_f - mean_g, max(var_f - dg + var_g, 1e-300)
    return mv


def _complex_bose_sum(x: FloatArray, w: FloatArray, x0: float, theta: FloatArray) -> ComplexArray:
    """``sum_c w_c e^{x0} B(x_c e^{i theta})`` per node, ``B(z) = z / (e^z - 1) =
    z e^{-z} / (1 - e^{-z})`` (nodes where it overflows, far from the peak, give
    a non-finite value that the circle rule drops)."""
    out = np.zeros(theta.shape, dtype=complex)
    step = max(1, _DIRECT_CHUNK // max(1, x.size))
    for i in range(0, theta.size, step):
        z = x[:, None] * np.exp(1j * theta[i:i + step])[None, :]
        with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
            val = z * np.exp(x0 - z) / -cexpm1(-z)
        out[i:i + step] = w @ val
    return out


def _log_pmf_one(pr: LongTailPrior, n: int) -> float:
    """``log P(T = n)`` for ``n > C``: ``(n - 1)! [t^{n-1}] F(t) h(t)`` on the saddle circle.

    ``P(T = n) = sum_c p_c (n - 1)! [t^{n-1}] prod_{d != c} (e^{p_d t} - 1)``
    (the first ``n - 1`` draws miss exactly class ``c``, draw ``n`` is ``c``),
    and ``sum_c p_c prod_{d != c} (e^{p_d t} - 1) = F(t) h(t)`` with ``F(t) =
    prod_c (e^{p_c t} - 1)`` and ``h(t) = sum_c p_c / (e^{p_c t} - 1)``: one
    Cauchy integral of a series with non-negative coefficients, so no
    cancellation and one pass over the classes per node.
    """
    m = n - 1
    mf = float(m)
    mv = _pmf_mean_var(pr)
    s_lo = math.log(max(mf - pr.C + 1.0, 1e-300)) - 1.0
    s_hi = math.log((mf + 2.0) / max(1.0 - float(pr.p[-1]), 1e-300)) + 1.0
    s = _solve(mv, mf, s_lo, s_hi)
    r = math.exp(s)
    sigma = math.sqrt(mv(r)[1])
    x, w, v, x0 = _scaled_bose_terms(pr, r)
    v_sum = float(v.sum())

    def log_integrand(theta: FloatArray) -> ComplexArray:
        ratio = _complex_bose_sum(x, w, x0, theta) / v_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            lh = np.log(ratio) - 1j * theta
        return _theta_phase(r, mf, theta) + pr.log_factor_sum(r, theta) + lh

    coef = _circle_integral(log_integrand, sigma)
    if not coef > 0.0:  # pragma: no cover - defensive
        return math.nan
    log_h = -math.log(r) - x0 + math.log(v_sum)
    return math.log(coef) + pr.log_rest(r) + float(log_poisson_norm(np.array([mf]), r)[0]) + log_h


def log_pmf_many(n: IntArray, probs: FloatArray, mult: NDArray[np.integer] | FloatArray,
                 prior: LongTailPrior | None = None) -> FloatArray:
    """``log P(T = n)`` of the completion time (``-inf`` for ``n < C``)."""
    pr = prior if prior is not None else _as_prior(probs, mult)
    C = int(round(pr.C))
    n = np.asarray(n, dtype=np.int64)
    out = np.full(n.shape, -math.inf)
    for i, ni in enumerate(n.tolist()):
        if ni < C:
            continue
        if C == 1:
            out[i] = 0.0 if ni == 1 else -math.inf
        elif ni == C:
            out[i] = _log_min_degree(pr)
        else:
            out[i] = _log_pmf_one(pr, ni)
    return out


# --------------------------------------------------------------------------
# log(1 - upsilon_n) (right side)
# --------------------------------------------------------------------------

@dataclass
class _TailSums:
    log_abs_a: float  # log |A|, A = sum w log(1 - e^{-x}) < 0
    ratio_s: float  # A_s / |A|
    ratio_ss: float  # A_ss / |A|


def _tail_classes(pr: LongTailPrior, r: float, theta_max: float) -> tuple[FloatArray, FloatArray]:
    """The classes whose missing-probability terms matter at radius ``r``.

    Those with ``p r cos(theta_max) - p_0 r < 50`` (``p_0`` the smallest
    probability): a prefix of the ascending ``p``, found by bisection.
    """
    c = math.cos(min(theta_max, math.pi / 2))
    if c <= 1e-300:
        return pr.p, pr.w
    bound = (_TAIL_PRUNE + float(pr.p[0]) * r) / (r * c)
    k = max(1, int(np.searchsorted(pr.p, bound, side="left")))
    return pr.p[:k], pr.w[:k]


def _tail_sums(p: FloatArray, w: FloatArray, r: float) -> _TailSums:
    x = p * r
    x0 = float(x[0])
    # x ascending: below x = 18.43 (e^{-x} >= 1e-8) the exact forms, above it the
    # series -log(1 - u)/u = 1 + u/2 and 1 - u (errors below u^2 / 3 < 1e-16)
    k8 = int(np.searchsorted(x, 18.43, side="left"))
    with np.errstate(under="ignore"):
        e_scaled = np.exp(x0 - x)  # e^{-x} / e^{-x0}
        u = e_scaled * math.exp(-x0) if x0 < 700.0 else np.zeros_like(x)
        one_minus = 1.0 - u
        phi = 1.0 + 0.5 * u  # -log(1 - u) / u
    if k8:
        one_minus[:k8] = -np.expm1(-x[:k8])
        phi[:k8] = -np.log1p(-u[:k8]) / u[:k8]
    a_scaled = float(w @ (e_scaled * phi))  # |A| e^{x0}
    b_scaled = e_scaled / one_minus  # b(x) e^{x0}
    xb = x * b_scaled
    as_scaled = float(w @ xb)
    ass_scaled = float(w @ (xb * (1.0 - x / one_minus)))
    return _TailSums(math.log(a_scaled) - x0, as_scaled / a_scaled, ass_scaled / a_scaled)


def _tail_terms(x0: float) -> Callable[[FloatArray], FloatArray]:
    """The three per-class terms of :func:`_tail_sums` (scaled by ``e^{x0}``), stacked
    on a first axis: ``e^{x0 - x} phi(x)``, ``x b e^{x0}`` and ``x b (1 - x / (1 - e^{-x})) e^{x0}``."""

    def f(x: FloatArray) -> FloatArray:
        with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
            e_scaled = np.exp(x0 - x)
            u = e_scaled * math.exp(-x0) if x0 < 700.0 else np.zeros_like(x)
            near = x < 18.43
            one_minus = np.where(near, -np.expm1(-x), 1.0 - u)
            phi = np.where(near, -np.log1p(-np.where(near, u, 0.0)) / np.where(near, u, 1.0),
                           1.0 + 0.5 * u)
            b_scaled = e_scaled / one_minus
            xb = x * b_scaled
            return np.stack([e_scaled * phi, xb, xb * (1.0 - x / one_minus)])
    return f


def _tail_sums_pr(pr: LongTailPrior, r: float, tol: float, tol_ratios: float) -> _TailSums:
    """:func:`_tail_sums` over the classes that matter at ``r``, by the Chebyshev moments
    where their estimated error is below ``tol`` (relative, for ``|A|``) and
    ``tol_ratios`` (for the two ratios), else directly."""
    x0 = float(pr.p[0]) * r
    res = pr.sums_at(_tail_terms(x0), np.array([r]), (x0 + _TAIL_PRUNE) / r, rounding=True)
    if res is not None:
        tot, err = res[0][:, 0], res[1][:, 0]
        a, a_s, a_ss = (float(v) for v in tot)
        if (a > 0.0 and err[0] <= tol * a and err[1] <= tol_ratios * abs(a_s)
                and err[2] <= tol_ratios * max(abs(a_ss), abs(a_s))):
            return _TailSums(math.log(a) - x0, a_s / a, a_ss / a)
    p, w = _tail_classes(pr, r, 0.0)
    return _tail_sums(p, w, r)


def _tail_node_terms(x0: float, z: ComplexArray) -> Callable[[FloatArray], ComplexArray]:
    """``e^{x0 - x z} phi(e^{-x z})``, ``phi(v) = -log(1 - v) / v``, per class and node
    (``z = e^{i theta}``): the terms of ``-A(z) e^{x0}``; 0 where they underflow."""

    def f(x: FloatArray) -> ComplexArray:
        xz = z.reshape((-1,) + (1,) * x.ndim) * x[None]  # (nodes,) + x.shape
        lu = x0 - xz
        with np.errstate(under="ignore", over="ignore", invalid="ignore", divide="ignore"):
            uu = np.exp(-xz)
            small = np.abs(uu) < 1e-8
            phi = np.where(small, 1.0 + 0.5 * uu,
                           -clog1p(-np.where(small, 0.0, uu)) / np.where(small, 1.0, uu))
            return np.where(lu.real < -745.0, 0.0, np.exp(lu) * phi)
    return f


def _f1(abs_a: float) -> float:
    """``|A| / expm1(|A|)``."""
    return 1.0 / (1.0 + abs_a / 2.0) if abs_a < 1e-8 else abs_a / math.expm1(abs_a)


def _log_one_minus_exp_over(a: float) -> float:
    """``log((1 - e^{-a}) / a)`` for ``a >= 0``."""
    if a < 1e-4:
        return -a / 2.0 + a * a / 24.0
    return math.log(-math.expm1(-a) / a)



@dataclass
class _TailSeries:
    """``-A(z) e^{x0} = sum_m (1/m) e^{x0 - m x0 z} sum_k b_{m,k} zeta^k`` with
    ``z = e^{i theta}``, ``zeta = 1 - z`` and
    ``b_{m,k} = sum_c w_c e^{-m d_c} (m d_c)^k / k!``, ``d_c = x_c - x0``
    (from ``-log(1 - u) = sum_m u^m / m`` and ``e^{-m d z} = e^{-m d} e^{m d zeta}``),
    valid (truncation below ``1e-17`` of the value at ``theta = 0``, checked) for
    ``|theta| <= theta_max``."""

    x0: float
    theta_max: float
    coefs: list[FloatArray]  # b_{m, .} for m = 1, 2, ...

    def __call__(self, theta: FloatArray) -> ComplexArray:
        zeta = -cexpm1(np.asarray(1j * theta, dtype=np.complex128))
        out = np.zeros(theta.shape, dtype=complex)
        for m, b in enumerate(self.coefs, start=1):
            poly = np.zeros(theta.shape, dtype=complex)
            for c in b[::-1]:  # Horner
                poly = poly * zeta + c
            with np.errstate(under="ignore"):
                out += np.exp(self.x0 * (1 - m) + m * self.x0 * zeta) * poly / m
        return out


def _tail_series(x: FloatArray, w: FloatArray, x0: float, theta_max: float) -> _TailSeries | None:
    """The power series of the tail's class sum in ``zeta = 1 - e^{i theta}``,
    or None where it would be long or lose accuracy (``d_max |zeta| > 3``)."""
    zeta_max = 2.0 * math.sin(0.5 * min(theta_max, math.pi))
    d = x - x0
    if float(d[-1]) * zeta_max > 3.0 or x.size < _SERIES_MIN:
        return None
    coefs: list[FloatArray] = []
    total0 = 0.0
    m = 1
    while True:
        # weight of the m-th term relative to the first, at the largest |zeta|
        log_wm = x0 * (1 - m) + m * x0 * zeta_max - math.log(m)
        if m > 1 and log_wm < math.log(total0) - 41.0:
            break
        k_end = int(np.searchsorted(d, _TAIL_PRUNE / m, side="right"))
        md = m * d[:k_end]
        with np.errstate(under="ignore"):
            t = w[:k_end] * np.exp(-md)
        bound = float(md[-1]) * zeta_max if md.size else 0.0
        b = []
        k = 0
        while True:
            c = float(t.sum())
            b.append(c)
            if m == 1 and k == 0:
                total0 = c
            k += 1
            if k > 2.0 * bound + 2 and c * zeta_max ** (k - 1) * math.exp(log_wm) < 1e-17 * total0:
                break
            if k > 120:
                return None
            t = t * md / k
        coefs.append(np.array(b))
        m += 1
        if m > 200:
            return None
    return _TailSeries(x0, theta_max, coefs)


def _miss_mean_var(pr: LongTailPrior) -> Callable[[float], tuple[float, float]]:
    """Mean and variance of the tilted law of the right tail's generating function."""
    S = pr.S

    def mv(r: float) -> tuple[float, float]:
        # the saddle point needs no more than a few digits: any radius gives the exact
        # integral, the saddle only makes it short and well conditioned
        ts = _tail_sums_pr(pr, r, 1e-9, 1e-9)
        abs_a = math.exp(ts.log_abs_a)
        f1 = _f1(abs_a)
        mean = S * r - ts.ratio_s * f1
        var = S * r - ts.ratio_ss * f1 - ts.ratio_s**2 * f1 * f1 * math.exp(abs_a)
        return mean, max(var, 1e-300)
    return mv


def _miss_saddle(pr: LongTailPrior, n: float) -> tuple[float, float]:
    """``(r, sigma)``: the saddle point of the right tail's integral for ``n`` draws."""
    mv = _miss_mean_var(pr)
    s_lo = math.log(max(n, 1.0) / pr.S) - 2.0
    s_hi = math.log((n + pr.C + 50.0) / (pr.S * float(pr.p[0]))) + 60.0
    r = math.exp(_solve(mv, n, s_lo, s_hi))
    return r, math.sqrt(mv(r)[1])


def _log_miss_one(pr: LongTailPrior, n: int) -> float:
    return float(_log_miss_band(pr, n, np.array([n]))[0])


def _log_miss_band(pr: LongTailPrior, n: int, targets: IntArray,
                   saddle: tuple[float, float] | None = None) -> FloatArray:
    """``log(1 - upsilon_t)`` for the ``targets`` near ``n`` from the integral at ``n``'s
    saddle point (``saddle``: its ``(r, sigma)`` when already known)."""
    nf = float(n)
    S = pr.S
    r, sigma = saddle if saddle is not None else _miss_saddle(pr, nf)
    theta_span = min(math.pi, 40.0 / max(sigma, 1e-300))
    ts0 = _tail_sums_pr(pr, r, _TAIL_TOL, 1.0)
    x0 = float(pr.p[0]) * r
    abs_a0 = math.exp(ts0.log_abs_a)
    a_scaled0 = math.exp(ts0.log_abs_a + x0)
    lexp0 = _log_one_minus_exp_over(abs_a0)
    slow: dict[str, object] = {}

    def prepared() -> tuple[FloatArray, FloatArray, _TailSeries | None]:
        # the classes that matter on the arc and the power series: only where the
        # Chebyshev sums do not serve a node
        if not slow:
            p, w = _tail_classes(pr, r, theta_span)
            x_ = p * r
            slow["x"], slow["w"] = x_, w
            slow["series"] = (_tail_series(x_, w, x0, 12.0 / max(sigma, 1e-300))
                              if _SERIES else None)
        return slow["x"], slow["w"], slow["series"]  # type: ignore[return-value]

    def a_direct(theta: FloatArray) -> ComplexArray:
        x, w, _ = prepared()
        z = np.exp(1j * theta)
        lu = -x[:, None] * z[None, :] + x0  # log(e^{-p z} / e^{-x0})
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            uu = np.exp(-x[:, None] * z[None, :])
            small = np.abs(uu) < 1e-8
            phi = np.where(small, 1.0 + 0.5 * uu,
                           -clog1p(-np.where(small, 0.0, uu)) / np.where(small, 1.0, uu))
            # a class whose scaled term underflows contributes exactly 0 (phi may
            # be nan there, at arguments of size 1e17 and beyond)
            terms = np.where(lu.real < -745.0, 0.0, np.exp(lu) * phi)
            return np.asarray(w @ terms, dtype=complex)  # -A(z) e^{x0}

    def a_slow(theta: FloatArray) -> ComplexArray:
        series = prepared()[2]
        if series is None:
            return a_direct(theta)
        out = np.empty(theta.shape, dtype=complex)
        near = np.abs(theta) <= series.theta_max
        out[near] = series(theta[near])
        if not np.all(near):
            out[~near] = a_direct(theta[~near])
        return out

    def log_integrand(theta: FloatArray) -> ComplexArray:
        a_sc = np.empty(theta.shape, dtype=complex)
        todo = np.ones(theta.shape, dtype=bool)
        near = np.abs(theta) <= _CHEB_THETA
        if np.any(near):
            # Chebyshev class sums, node by node, where their estimated error is
            # below _TAIL_TOL of the sum at theta = 0 (the integrand's scale)
            res = pr.sums_at(_tail_node_terms(x0, np.exp(1j * theta[near])), np.array([r]),
                             (x0 + _TAIL_PRUNE) / r, rounding=True)
            if res is not None:
                tot, err = res[0][:, 0], res[1][:, 0]
                good = err <= _TAIL_TOL * a_scaled0
                idx = np.flatnonzero(near)[good]
                a_sc[idx] = tot[good]
                todo[idx] = False
        if np.any(todo):
            a_sc[todo] = a_slow(theta[todo])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            log_ratio_a = np.log(a_sc / a_scaled0)
            a_z = a_sc * math.exp(-x0) if x0 < 700 else a_sc * 0.0
            small_a = np.abs(a_z) < 1e-4
            safe = np.where(small_a, 1.0, a_z)
            # log((1 - e^{-a}) / a), a = -A(z)
            lexp = np.where(small_a, -a_z / 2.0 + a_z * a_z / 24.0, np.log(-cexpm1(-safe) / safe))
        out = _theta_phase(S * r, nf, theta) + log_ratio_a + lexp - lexp0
        return np.where(np.isfinite(out), out, -np.inf + 0j)

    tf = np.asarray(targets, dtype=float)
    coef = _circle_nodes(log_integrand, sigma).coef(tf - nf)
    log_norm = log_poisson_norm(tf, S * r) + tf * math.log(S)
    log_tail_r = ts0.log_abs_a + lexp0  # log(1 - prod(1 - e^{-x}))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(coef > 0.0, np.log(np.where(coef > 0.0, coef, 1.0)), np.nan) \
            + log_tail_r + log_norm


# --------------------------------------------------------------------------
# public (package-internal) entry points
# --------------------------------------------------------------------------

def _as_prior(probs: FloatArray, mult: NDArray[np.integer] | FloatArray) -> LongTailPrior:
    return LongTailPrior(np.asarray(probs, dtype=float), np.asarray(mult, dtype=float))


def _log_s1(pr: LongTailPrior, n: float) -> float:
    """``log S1``, ``S1 = sum_c w_c (1 - p_c)^n`` (the expected number of missed classes).

    Only the prefix of classes within ``e^{-50}`` of the largest term is summed
    (the rest changes ``S1`` by less than ``G e^{-50}`` relative).
    """
    lq = pr.lq
    lq0 = float(lq[0])
    k = max(1, int(np.searchsorted(lq, lq0 + _TAIL_PRUNE / n, side="left")))
    with np.errstate(under="ignore"):
        s = float(pr.w[:k] @ np.exp(-n * (lq[:k] - lq0)))
    return math.log(s) - n * lq0


def _log_product_bound(pr: LongTailPrior, n: float) -> float:
    """``log prod_c (1 - (1 - p_c)^n)^{w_c}``, an upper bound on ``log upsilon_n``.

    (The events "class c drawn" are negatively associated.)  Terms with
    ``(1 - p)^n < e^{-745}`` underflow to 0 and are not summed.
    """
    lq = pr.lq
    k = int(np.searchsorted(lq, 745.0 / n, side="left"))
    with np.errstate(divide="ignore"):
        return float(pr.w[:k] @ np.log(-np.expm1(-n * lq[:k])))


def _side_right(pr: LongTailPrior, n: float) -> bool:
    """True when ``1 - upsilon_n <= 1/2`` is certain (``S1 <= 1/2``, union bound).

    Otherwise ``upsilon_n <= e^{-S1} < 0.61`` (product bound), so the coverage
    integral keeps ``1 - upsilon_n`` accurate too.
    """
    if pr.w[0] * math.exp(-n * float(pr.lq[0])) > 0.5:
        return False
    return _log_s1(pr, n) <= _LOG_HALF


def _one(pr: LongTailPrior, n: int) -> tuple[float, float]:
    """``(log upsilon_n, log(1 - upsilon_n))``, the accurate one computed, the other derived."""
    C = int(round(pr.C))
    if n < C:
        return -math.inf, 0.0
    if C == 1:
        return 0.0, -math.inf
    if n == C:
        lu = _log_min_degree(pr)
        return lu, math.log(-math.expm1(lu))
    if _side_right(pr, float(n)):
        lm = _log_miss_one(pr, n)
        return math.log1p(-math.exp(lm)), lm
    lu = _log_coverage_one(pr, n)
    return lu, math.log(-math.expm1(lu))


#: One integral serves the targets within this many standard deviations above the
#: point where it is taken (which sits that far above the band's first target): a
#: coefficient ``d`` standard deviations from the centre loses at most a factor
#: ``e^{d^2 / 2}`` (1.65) of relative accuracy, so vectorised and scalar calls agree
#: to about 1e-14, and a dense curve costs one integral per two standard deviations.
_BAND_SD = 1.0


def _bands(pr: LongTailPrior, n: IntArray, right: bool) -> FloatArray:
    """``log upsilon`` (``right``: ``log(1 - upsilon)``) for sorted draw counts ``n``
    on one side, grouped into bands that share one integral."""
    saddle = _miss_saddle if right else _coverage_saddle
    band = _log_miss_band if right else _log_coverage_band
    out = np.empty(n.shape)
    i = 0
    while i < n.size:
        n0 = int(n[i])
        at0 = saddle(pr, float(n0))
        nc = min(n0 + int(_BAND_SD * at0[1]), int(n[-1]))
        if i + 1 == n.size or int(n[i + 1]) > n0 + 2.5 * _BAND_SD * at0[1]:
            nc = n0  # the band would hold n0 alone: its own saddle point, one solve
        atc = saddle(pr, float(nc)) if nc != n0 else at0
        if nc - n0 > 1.25 * _BAND_SD * atc[1]:  # the spread shrinks ahead
            nc, atc = n0, at0
        j = int(np.searchsorted(n, nc + _BAND_SD * atc[1], side="right"))
        j = max(j, i + 1)
        out[i:j] = band(pr, nc, n[i:j], atc)
        i = j
    return out


def _first_right(pr: LongTailPrior, n: IntArray) -> int:
    """Index of the first (sorted) draw count on the right side (``n.size`` if none)."""
    lo, hi = 0, n.size  # invariant: n[:lo] on the left, n[hi:] on the right
    while lo < hi:
        mid = (lo + hi) // 2
        if _side_right(pr, float(n[mid])):
            hi = mid
        else:
            lo = mid + 1
    return lo


# --------------------------------------------------------------------------
# many left-side values at once: the class sum as a Taylor series in e^{i theta} - 1
# --------------------------------------------------------------------------

_TAYLOR_K = 24  # most terms of the series in z - 1 (its radius is 1: the zero of 1 - e^{-x z} at z = 0)


@functools.lru_cache(maxsize=1)
def _taylor_coefficients(K: int) -> FloatArray:
    """``c[k, j] = (-1)^(k-1) (j-1)! S(k, j) / k!`` (``S`` Stirling numbers of the second
    kind), so that ``x^k b^(k-1)(x) / k! = sum_j c[k, j] x^(k-j) (x b)^j`` with
    ``b = 1/(e^x - 1)``: the derivatives of ``b`` are polynomials in ``b`` with
    positive coefficients (no cancellation), computed exactly in integers."""
    S = [[0] * (K + 1) for _ in range(K + 1)]
    S[0][0] = 1
    for k in range(1, K + 1):
        for j in range(1, k + 1):
            S[k][j] = j * S[k - 1][j] + S[k - 1][j - 1]
    c = np.zeros((K + 1, K + 1))
    for k in range(1, K + 1):
        for j in range(1, k + 1):
            c[k, j] = (-1) ** (k - 1) * math.factorial(j - 1) * S[k][j] / math.factorial(k)
    return c


def _taylor_terms(x: FloatArray, K: int) -> FloatArray:
    """``log(1 - e^{-x})`` and ``x^k b^(k-1)(x) / k!`` for ``k = 1 .. K``, stacked on a
    new first axis: the class terms of ``L(r z) - L(r) = sum_k A_k (z - 1)^k``,
    ``L(t) = sum_c w_c log(1 - e^{-p_c t})``."""
    c = _taylor_coefficients(_TAYLOR_K)
    # a class whose x underflows to 0 gives nan here: its anchors fail the finiteness
    # check and take one integral per band
    with np.errstate(under="ignore", over="ignore", invalid="ignore", divide="ignore"):
        xb = _mean_term(x)
        xp = [np.ones_like(x)]
        for _ in range(K - 1):
            xp.append(xp[-1] * x)
        bp = [np.ones_like(x), xb]
        for _ in range(K - 1):
            bp.append(bp[-1] * xb)
        out = np.empty((K + 1,) + x.shape)
        out[0] = log1mexp(x)
        for k in range(1, K + 1):
            acc = c[k, k] * bp[k]
            for j in range(k - 1, 0, -1):
                acc = acc + c[k, j] * xp[k - j] * bp[j]
            out[k] = acc
    return out


def _coverage_saddles(pr: LongTailPrior, n: FloatArray) -> tuple[FloatArray, FloatArray] | None:
    """The saddle points ``(r, sigma)`` of the coverage integrals of many ``n`` at once:
    safeguarded Newton steps in ``log r``, all points together (as :func:`_solve`)."""
    S = pr.S
    lo = np.log(np.maximum(n - pr.C, 1e-300) / S) - 1.0
    hi = np.log(2.0 * n / S) + 1.0
    s = np.clip(np.log(n), lo, hi)
    active = np.ones(n.shape, dtype=bool)
    for _ in range(100):
        r = np.exp(s)
        res = pr.sums_at(_mean_var_terms, r, _X_NEGLIGIBLE / float(r.min()))
        if res is None:
            return None
        mean = S * r + res[0][0]
        var = np.maximum(S * r + res[0][1], 1e-300)
        below = mean < n
        lo = np.where(active & below, s, lo)
        hi = np.where(active & ~below, s, hi)
        step = (n - mean) / var
        conv = np.abs(step) < 1e-12 * np.maximum(1.0, np.abs(s))
        s_new = s + step
        outside = ~((lo < s_new) & (s_new < hi)) | ~np.isfinite(s_new)
        s_new = np.where(outside & ~conv, 0.5 * (lo + hi), s_new)
        s = np.where(active, s_new, s)
        active &= ~(conv | (hi - lo < 1e-14 * np.maximum(1.0, np.abs(s))))
        if not np.any(active):
            break
    r = np.exp(s)
    res = pr.sums_at(_mean_var_terms, r, _X_NEGLIGIBLE / float(r.min()))
    if res is None:
        return None
    return r, np.sqrt(np.maximum(S * r + res[0][1], 1e-300))


def _left_many(pr: LongTailPrior, n: IntArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    """``log upsilon`` for sorted left-side ``n`` (``> C``), many at once where it serves.

    In chunks of consecutive ``n`` (:func:`_left_chunk`): the saddle points by one
    vectorised Newton iteration; bands of ``n`` within a standard deviation of an
    anchor that is one of them; and per anchor the class sum ``L(r z) - L(r)``
    on the arc as its Taylor series ``sum_k A_k (z - 1)^k`` (the ``A_k`` class
    sums through the Chebyshev moments, every anchor of the chunk in one pass),
    so a node costs ``K`` operations.  A band is served only where the series'
    last two terms at the arc's end are below ``1e-18``, the moments' estimated
    truncation error below ``1e-14`` and the integrand below ``1e-18`` at the
    last two nodes; the others (returned as not done) take :func:`_bands`.
    """
    out = np.full(n.shape, np.nan)
    done = np.zeros(n.shape, dtype=bool)
    if n.size == 0 or not pr._cheb_setup():
        return out, done
    for lo in range(0, n.size, _CHUNK_POINTS):
        sl = slice(lo, min(n.size, lo + _CHUNK_POINTS))
        out[sl], done[sl] = _left_chunk(pr, n[sl].astype(float))
    return out, done


_MANY_MIN = 8  # left-side values from which the vectorised path is taken
_CHUNK_POINTS = 64  # points per vectorised chunk: the classes summed follow each chunk's radii


def _taylor_order(theta_end: float, C: float) -> int | None:
    """Terms needed for ``C theta^K / K < 1e-20`` (the terms ``A_k`` are at most about
    ``C / k``), or None above ``_TAYLOR_K``."""
    if not theta_end < 1.0:
        return None
    K = int(math.ceil(math.log(1e-20 / max(C, 1.0)) / math.log(theta_end)))
    return max(4, K) if K <= _TAYLOR_K else None


def _left_chunk(pr: LongTailPrior, nf: FloatArray) -> tuple[FloatArray, NDArray[np.bool_]]:
    out = np.full(nf.shape, np.nan)
    done = np.zeros(nf.shape, dtype=bool)
    sad = _coverage_saddles(pr, nf)
    if sad is None:
        return out, done
    r_all, sig_all = sad
    # bands: anchor = the last n within sigma of the first, then every n within the
    # anchor's sigma above it (each target within about one sigma of its anchor)
    anchors: list[int] = []
    band_of = np.empty(nf.shape, dtype=np.int64)
    i = 0
    while i < nf.size:
        a = max(int(np.searchsorted(nf, nf[i] + sig_all[i], side="right")) - 1, i)
        b = max(int(np.searchsorted(nf, nf[a] + sig_all[a], side="right")), a + 1)
        band_of[i:b] = len(anchors)
        anchors.append(a)
        i = b
    ai = np.array(anchors)
    ra, sa, na = r_all[ai], sig_all[ai], nf[ai]
    big_l = np.maximum(64, np.ceil(2.0 * math.pi * sa / _H)).astype(np.int64)
    big_l += big_l % 2
    J = np.minimum(big_l // 2, max(4, int(math.ceil(_U_FIRST / _H))))
    dtheta = 2.0 * math.pi / big_l
    theta_end = J * dtheta
    # the anchors whose arc the longest series reaches; the order set by the widest of them
    reach = theta_end <= (1e-20 / max(pr.C, 1.0)) ** (1.0 / _TAYLOR_K)
    if not np.any(reach):
        return out, done
    K = _taylor_order(float(theta_end[reach].max()), pr.C)
    if K is None:
        return out, done
    res = pr.sums_at(lambda x: _taylor_terms(x, K), ra,
                     _X_NEGLIGIBLE / (float(ra.min()) * math.cos(_CHEB_THETA)))
    if res is None:
        return out, done
    A, err = res  # (K + 1, anchors)
    tpow = theta_end[None, :] ** np.arange(1, K + 1)[:, None]  # (K, anchors)
    trunc = np.abs(A[K - 1]) * tpow[K - 2] + np.abs(A[K]) * tpow[K - 1]
    ok = (reach & (trunc <= 1e-18) & (np.sum(err[1:] * tpow, axis=0) <= _CHEB_TOL)
          & (theta_end <= _CHEB_THETA) & np.isfinite(A).all(axis=0)
          & (err[0] <= _CHEB_TOL * np.maximum(1.0, 0.1 * np.abs(A[0]))))
    jj = np.arange(1, int(J.max()) + 1)
    theta = dtheta[:, None] * jj[None, :]  # (anchors, nodes)
    valid = jj[None, :] <= J[:, None]
    zeta = cexpm1(np.asarray(1j * theta, dtype=np.complex128))
    poly = np.zeros(theta.shape, dtype=complex)
    for k in range(K, 0, -1):  # Horner in z - 1
        poly = (poly + A[k][:, None]) * zeta
    Sr = pr.S * ra
    with np.errstate(under="ignore", over="ignore"):
        vals = np.exp(_theta_phase(Sr[:, None], na[:, None], theta) + poly)
    vals = np.where(valid, vals, 0.0)
    rows = np.arange(ai.size)
    ok &= ((np.abs(vals[rows, J - 1]) < _NEGLIGIBLE)
           & (np.abs(vals[rows, np.maximum(J - 2, 0)]) < _NEGLIGIBLE) & np.isfinite(vals).all(axis=1))
    weights = np.where(jj[None, :] == (big_l // 2)[:, None], 1.0, 2.0) * valid
    # every target at once: its band's nodes, rotated by its distance from the anchor
    bt = band_of
    d = (nf - na[bt])[:, None]
    with np.errstate(invalid="ignore", over="ignore"):  # bands not served may hold inf
        rot = (vals[bt] * np.exp(-1j * d * theta[bt])).real
        coef = (1.0 + np.sum(rot * weights[bt], axis=1)) / big_l[bt]
    log_norm = log_poisson_norm(nf, Sr[bt]) + nf * math.log(pr.S)
    with np.errstate(divide="ignore", invalid="ignore"):
        val = np.where(coef > 0.0, np.log(np.where(coef > 0.0, coef, 1.0)), np.nan) + A[0][bt] + log_norm
    good = ok[bt] & np.isfinite(val)
    out[good] = val[good]
    done[good] = True
    return out, done


def _both(pr: LongTailPrior, n: IntArray, want_miss: bool) -> FloatArray:
    n = np.asarray(n, dtype=np.int64)
    uniq, inverse = np.unique(n, return_inverse=True)
    vals = np.empty(uniq.shape)
    C = int(round(pr.C))
    general = uniq > C if C > 1 else np.zeros(uniq.shape, dtype=bool)
    for k in np.flatnonzero(~general).tolist():
        vals[k] = _one(pr, int(uniq[k]))[1 if want_miss else 0]
    g = uniq[general]
    if g.size:
        split = _first_right(pr, g)
        res = np.empty(g.shape)
        if split:
            if split >= _MANY_MIN:
                lu, fast = _left_many(pr, g[:split])
            else:  # a few values: one saddle point and one integral each is cheaper
                lu, fast = np.empty(split), np.zeros(split, dtype=bool)
            if not np.all(fast):
                lu[~fast] = _bands(pr, g[:split][~fast], right=False)
            with np.errstate(divide="ignore"):
                res[:split] = np.log(-np.expm1(lu)) if want_miss else lu
        if split < g.size:
            lm = _bands(pr, g[split:], right=True)
            res[split:] = lm if want_miss else np.log1p(-np.exp(lm))
        vals[general] = res
    return vals[inverse.reshape(n.shape)]


def log_coverage_many(n: IntArray, probs: FloatArray, mult: NDArray[np.integer] | FloatArray,
                      prior: LongTailPrior | None = None) -> FloatArray:
    """``log upsilon_n`` for draw counts ``n`` under distinct probabilities ``probs``
    with multiplicities ``mult`` (``-inf`` for ``n < C``).

    Targets within a standard deviation share one integral (:func:`_bands`); where ``upsilon_n >= 1/2`` the
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


def _first_true(pred: Callable[[int], bool], lo: int, hi: int | None, rel: float) -> tuple[int, int]:
    """A bracket ``(a, b)`` with ``pred(a)`` false (or ``a == lo``) and ``pred(b)`` true,
    for a monotone ``pred`` (false, then true) on the integers above ``lo``;
    narrowed until ``b - a <= max(1, rel * b)``.  ``pred(lo)`` is assumed false."""
    a = lo
    if hi is None:
        b = max(2 * lo, lo + 1)
        while not pred(b):
            a, b = b, 2 * b
    else:
        b = hi
    while b - a > max(1, int(rel * b)):
        m = (a + b) // 2
        if pred(m):
            b = m
        else:
            a = m
    return a, b


def required_draws(confidence: float, probs: FloatArray | None = None,
                   mult: NDArray[np.integer] | FloatArray | None = None,
                   prior: LongTailPrior | None = None) -> int:
    """The smallest ``n`` with ``upsilon_n >= confidence`` (``0 < confidence < 1``).

    The answer is first bracketed by cheap one-pass bounds, monotone in ``n``:
    ``upsilon_n >= 1 - S1(n)`` (union bound) and ``upsilon_n <= prod_c (1 - (1 -
    p_c)^n)`` (negative association), each with a ``1e-12`` safety margin; inside
    the bracket a safeguarded regula falsi on the full evaluation (``log(1 -
    upsilon)`` against ``log(1 - confidence)`` above ``1/2``, ``log upsilon``
    against ``log confidence`` below) needs only a few evaluations.  The
    comparison is made in float: a value within about ``1e-12`` relative of the
    confidence is not resolved further here.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    pr = prior if prior is not None else _as_prior(np.asarray(probs), np.asarray(mult))
    C = int(round(pr.C))
    if C == 1:
        return 1
    right = confidence > 0.5
    log_target = math.log1p(-confidence) if right else math.log(confidence)

    def g(n: int) -> float:
        """Decreasing in ``n``; ``<= 0`` exactly when ``upsilon_n >= confidence``."""
        lu, lm = _one(pr, n)
        return lm - log_target if right else log_target - lu

    if g(C) <= 0.0:
        return C
    margin = 1e-12
    # upper end: S1(n) <= 1 - confidence guarantees upsilon_n >= confidence
    log_miss_max = math.log1p(-confidence) - margin
    _, hi = _first_true(lambda n: _log_s1(pr, float(n)) <= log_miss_max, C, None, 1e-4)
    # lower end: the product bound below the confidence rules n out
    log_conf = math.log(confidence)
    lo, _ = _first_true(
        lambda n: _log_product_bound(pr, float(n)) >= log_conf - margin * max(1.0, abs(log_conf)),
        C, hi, 1e-4)
    # invariant: g(lo) > 0 (or lo == C, already checked), g(hi) <= 0
    g_lo = g(lo) if lo > C else math.inf
    g_hi = g(hi)
    if g_hi > 0.0:  # pragma: no cover - the union bound guarantees it
        raise RuntimeError("required_draws: the union bound bracket failed")
    side = 0
    while hi - lo > 1:
        if math.isfinite(g_lo) and g_lo > g_hi:
            m = lo + int(round((hi - lo) * g_lo / (g_lo - g_hi)))
        else:
            m = (lo + hi) // 2
        m = min(max(m, lo + 1), hi - 1)
        width = hi - lo
        gm = g(m)
        if gm <= 0.0:
            hi, g_hi = m, gm
            if side == 1:
                g_lo *= 0.5  # Illinois: the retained end's value is halved
            side = 1
        else:
            lo, g_lo = m, gm
            if side == -1:
                g_hi *= 0.5
            side = -1
        if hi - lo > 0.5 * width and hi - lo > 1:  # slow progress: one bisection step
            m = (lo + hi) // 2
            gm = g(m)
            if gm <= 0.0:
                hi, g_hi = m, gm
            else:
                lo, g_lo = m, gm
            side = 0
    return hi


# --------------------------------------------------------------------------
# the moments of the completion time
# --------------------------------------------------------------------------

#: First trapezoidal step in ``u = log t`` for the moment integrals; halved until
#: two successive steps agree to ``_MOM_AGREE`` (the rule converges geometrically
#: in ``1/h``: the integrand is analytic in ``|Im u| < pi/2``).
_MOM_H0 = 0.5
_MOM_AGREE = 1e-9
_MOM_MAX_HALVINGS = 6


def completion_moments(pr: LongTailPrior, N: int | None = None) -> tuple[float, float]:
    """``(E[T], Var[T])`` of the completion time, through one-dimensional integrals.

    With ``Q(t) = 1 - prod_c (1 - e^{-p_c t})^{w_c}`` (the probability that a
    Poisson process of rate 1 stopped at ``t`` has missed a class):

    * independent draws (``N=None``): ``E[T] = int_0^inf Q dt`` and
      ``E[T^2] = int_0^inf (2 t - 1) Q dt`` (the Poisson embedding);
    * without replacement from ``N`` samples (``p_c = n_c / N``):
      ``E[T] = (N + 1)/N int e^{-t/N} Q dt`` and ``E[T^2] = (N + 1)/N int
      e^{-t/N} ((2N + 4)(1 - e^{-t/N}) - 1) Q dt`` (from ``sum_n binom(N - m, n)
      / binom(N, n) = (N + 1)/(m + 1)`` and its first moment, summed by
      inclusion-exclusion over the missing classes).

    Each integral is a trapezoidal rule in ``u = log t`` (spectrally accurate:
    the integrand is analytic in a strip and decays at both ends), the class
    sum ``log prod_c (1 - e^{-p_c t})`` of all nodes taken at once by the
    Chebyshev moments (:meth:`LongTailPrior.log_rest_many`); the step is halved
    until two steps agree.  Where ``prod_c p_c t < e^{-80}`` the product is
    zero to float precision and no class sum is needed.  With replacement the
    variable is scaled by the smallest probability, so ``E[T]`` stays finite up
    to ``1/p_min ~ 10^308`` (a variance beyond the float range is ``inf``).
    """
    p0 = float(pr.p[0])
    C = pr.C
    scale = 1.0 if N is not None else p0  # work in tau = scale * t
    sum_wlogp = float(pr.w @ pr.y)
    # prod_c (p_c t)^{w_c} <= e^{-80} below t_left: Q(t) = 1 exactly in float
    log_t_left = (-80.0 - sum_wlogp) / C
    # above t_right, t * Q(t) <= t C e^{-p0 t} is below 1e-22 of E[T] >= 1/p0
    a = 60.0 + math.log(C)
    log_t_right = math.log((a + math.log(a)) / p0)
    if N is not None:
        log_t_right = min(log_t_right, math.log(80.0 * N))  # weight e^{-t/N}
    lo_u = log_t_left - 55.0  # t * weight below e^{-55} of its value at t_left
    span = log_t_right - lo_u
    cache: dict[float, tuple[float, float]] = {}

    def weights(t: FloatArray) -> tuple[FloatArray, FloatArray]:
        if N is None:
            return np.ones_like(t), 2.0 * t - 1.0
        e = np.exp(-t / N)
        return (N + 1.0) / N * e, (N + 1.0) / N * e * ((2.0 * N + 4.0) * -np.expm1(-t / N) - 1.0)

    def node_sums(us: FloatArray) -> None:
        t = np.exp(us)
        q = np.ones_like(t)
        need = us > log_t_left
        if np.any(need):
            with np.errstate(under="ignore"):
                q[need] = -np.expm1(pr.log_rest_many(t[need]))
        w1, w2 = weights(t)
        # d t = t d u; in scaled units tau = scale t: E = (1/scale) int ..., E[T^2] = (1/scale^2) ...
        f1 = t * scale * w1 * q
        if N is None:
            f2 = t * scale * (2.0 * t * scale - scale) * q  # (2 tau - scale) tau Q
        else:
            f2 = t * w2 * q
        for u, a1, a2 in zip(us.tolist(), f1.tolist(), f2.tolist(), strict=True):
            cache[u] = (a1, a2)

    def rule(h: float) -> tuple[float, float]:
        k = np.arange(0, int(math.ceil(span / h)) + 1)
        us = lo_u + k * h
        new = np.array([u for u in us.tolist() if u not in cache])
        if new.size:
            node_sums(new)
        s1 = math.fsum(cache[u][0] for u in us.tolist())
        s2 = math.fsum(cache[u][1] for u in us.tolist())
        return h * s1, h * s2

    h = _MOM_H0
    prev = rule(h)
    for _ in range(_MOM_MAX_HALVINGS):
        h *= 0.5
        cur = rule(h)
        # the mean and the variance (the quantity wanted, not E[T^2]) must both agree
        d_mean = abs(cur[0] - prev[0])
        d_var = abs((cur[1] - cur[0] ** 2) - (prev[1] - prev[0] ** 2))
        prev = cur
        if d_mean <= _MOM_AGREE * abs(cur[0]) and d_var <= _MOM_AGREE * abs(cur[1]):
            break
    i1, i2 = prev
    var_scaled = max(i2 - i1 * i1, 0.0)
    # E = i1 / scale, Var = var_scaled / scale^2 (inf beyond the float range)
    return i1 / scale, var_scaled / scale / scale
