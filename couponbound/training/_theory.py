"""The theoretical values of the rates a monitor measures, and their null spread (private).

``upsilon``, ``tau`` and ``E ln(1 + Col)`` (:ref:`math-coverage`,
:ref:`math-collisions`) for one negative-sampling scheme under a class prior,
shared by :class:`~couponbound.training.monitor.BoundMonitor` and
:meth:`~couponbound.training.report.BoundReport.from_terms`; and the variance
of one batch's measured rates when batches are random draws from the prior,
for the monitor's test of non-random batches.

Schemes (:ref:`math-measurement`):

``"infonce"``
    ``K`` negatives per anchor: ``(upsilon_{K+1}, tau_K, E ln(1 + Col))``
    with ``Col ~ Bin(K, rho_y)`` (in-batch negatives, a queue of ``K`` keys,
    or per-anchor negatives alike).
``"nt_xent"``
    ``K = 2N - 2``: both views of the ``N - 1`` other samples.  Coverage and
    ``tau`` are those of ``N - 1`` draws besides the anchor, and
    ``Col = 2 Bin(N - 1, rho_y)``, so the collision term is
    ``E ln(1 + 2 Bin(N - 1, rho_y))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._combinatorics import window_weights
from couponbound._prior import Prior
from couponbound.collision import collision_pmf, collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob
from couponbound.occupancy import expected_classes, false_negative_rate

__all__ = ["LOSSES", "null_variances", "occupancy_values", "theory_values"]

#: The loss kinds a monitor measures.
LOSSES = ("infonce", "nt_xent")

#: How a batch's negatives relate to its anchors, for the null variances:
#: ``"batch"`` (the other rows of the batch), ``"nt_xent"`` (both views of the
#: other samples), ``"queue"`` (one set of ``K`` keys shared by the batch's
#: anchors), ``"independent"`` (each anchor its own ``K`` negatives).
SCHEMES = ("batch", "nt_xent", "queue", "independent")


def theory_values(K: int, prior: Prior, loss: str = "infonce") -> tuple[float, float, float]:
    """``(upsilon, tau, E ln(1 + Col))`` for ``K`` negatives per anchor under *prior*
    (drawn with or without replacement, as the prior says)."""
    if loss == "nt_xent":
        m = K // 2  # the N - 1 other samples
        pmf = collision_pmf(m, prior)
        coll = math.fsum((pmf * np.log1p(2.0 * np.arange(m + 1))).tolist())
        return (float(coverage_prob(m, prior)), float(collision_prob(m, prior)), coll)
    return (float(coverage_prob(K, prior)), float(collision_prob(K, prior)),
            float(expected_log_collision(K, prior)))


def occupancy_values(K: int, prior: Prior, loss: str = "infonce") -> tuple[float, float]:
    """``(E[D], tau)``: the theory of the monitor's distinct classes and false negatives.

    ``D`` is the number of distinct classes in an anchor's draw, its class and
    its negatives' classes: the ``K + 1`` samples of the batch (in-batch
    InfoNCE), the anchor and the ``M = K`` keys of a queue, or the ``N``
    samples of an NT-Xent batch (``K = 2N - 2``: both views of each other
    sample carry one class, so ``N - 1`` draws besides the anchor).  ``tau``
    is the chance that one negative shares the anchor's class, the same for
    every scheme (an NT-Xent negative is a view of one of the other ``N - 1``
    samples): the expected fraction of false negatives,
    ``E[Col] / K``.
    """
    draws = K // 2 if loss == "nt_xent" else K
    return (float(expected_classes(draws, prior)), float(false_negative_rate(prior)))


# ---------------------------------------------------------------------------
# the null spread: analytic, no simulation
# ---------------------------------------------------------------------------

#: Cell laws are summed over mean +- (_SD sd + _PAD); what is left out is below 1e-30.
_SD, _PAD = 15.0, 30.0


class _Cells:
    """The class counts of ``s`` draws as independent cells (Poissonisation).

    With replacement the count of a class of probability ``p`` is taken as
    ``Poisson(s p)``; without replacement (class size ``n_c`` out of ``N``)
    as ``Binomial(n_c, s / N)``.  Conditioned on their sum ``s`` these are
    exactly the multinomial (multivariate hypergeometric) counts; the
    variance of a sum over cells, conditioned on ``s``, follows by Holst's
    correction (:meth:`cond_var`).  Classes are grouped by their probability
    (or size): ``mult[g]`` classes share group ``g``.
    """

    def __init__(self, prior: Prior, s: int) -> None:
        if prior.replacement:
            vals, mult = prior.groups()
            self.p = np.asarray(vals, dtype=np.float64)
            lam = s * self.p
            self.mean, self.var = lam, lam
            lo = np.maximum(0, np.floor(lam - _SD * np.sqrt(lam) - _PAD)).astype(np.int64)
            hi = np.ceil(lam + _SD * np.sqrt(lam) + _PAD).astype(np.int64)

            def log_ratio(m: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
                return np.log(lam[g] / (m + 1.0))
        else:
            sizes, mult = prior.count_groups()
            N = prior.N
            assert N is not None
            size = sizes.astype(np.float64)
            self.p = size / N
            r = min(s / N, 1.0)
            self.mean, self.var = size * r, size * r * (1.0 - r)
            sd = np.sqrt(self.var)
            lo = np.maximum(0, np.floor(self.mean - _SD * sd - _PAD)).astype(np.int64)
            hi = np.minimum(sizes, np.ceil(self.mean + _SD * sd + _PAD)).astype(np.int64)
            odds = r / (1.0 - r) if r < 1.0 else math.inf

            def log_ratio(m: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
                return np.log((size[g] - m) * odds / (m + 1.0))
        self.mult = np.asarray(mult, dtype=np.float64)
        self.m, self.group, w = window_weights(lo, hi, self.mean, log_ratio)
        self.prob = w / np.bincount(self.group, weights=w, minlength=self.p.size)[self.group]
        self.x = self.m.astype(np.float64)

    def expect(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``E f(X_g)`` per group, for ``values = f(m)`` on the cells' support points."""
        return np.bincount(self.group, weights=self.prob * values,
                           minlength=self.p.size).astype(np.float64)

    def cond_var(self, f: NDArray[np.float64]) -> float:
        """``Var sum_c f(X_c)`` given ``sum_c X_c = s`` (Holst's first-order formula).

        ``sum Var f(X_c) - (sum Cov(f(X_c), X_c))^2 / sum Var X_c``: exact
        when ``f`` is linear, first-order accurate otherwise (the covariance
        that fixing the batch size induces between classes).
        """
        ef, eff, efx = self.expect(f), self.expect(f * f), self.expect(f * self.x)
        var_f = float(np.dot(self.mult, np.maximum(eff - ef * ef, 0.0)))
        cov = float(np.dot(self.mult, efx - ef * self.mean))
        var_x = float(np.dot(self.mult, self.var))
        return max(var_f - (cov * cov / var_x if var_x > 0 else 0.0), 0.0)


def _law(n: NDArray[np.float64], succ: NDArray[np.float64] | None, draws: NDArray[np.float64],
         r: NDArray[np.float64] | None) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                                 NDArray[np.float64]]:
    """Points, groups and probabilities of ``Binomial(draws_g, r_g)`` (``succ is None``) or
    ``Hypergeom(population n_g, successes succ_g, draws_g)`` on windows of +- 15 sd + 30."""
    if succ is None:
        assert r is not None
        mean, var = draws * r, draws * r * (1.0 - r)
        lo_sup, hi_sup = np.zeros(draws.size), draws
        with np.errstate(divide="ignore"):
            odds = r / (1.0 - r)

        def log_ratio(m: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
            return np.log((draws[g] - m) * odds[g] / (m + 1.0))
    else:
        q = succ / np.maximum(n, 1.0)
        mean = draws * q
        var = mean * (1.0 - q) * np.maximum(n - draws, 0.0) / np.maximum(n - 1.0, 1.0)
        lo_sup, hi_sup = np.maximum(0.0, draws - (n - succ)), np.minimum(draws, succ)

        def log_ratio(m: NDArray[np.int64], g: NDArray[np.int64]) -> NDArray[np.float64]:
            x = m.astype(np.float64)
            return np.log((succ[g] - x) * (draws[g] - x)
                          / ((x + 1.0) * (n[g] - succ[g] - draws[g] + x + 1.0)))
    sd = np.sqrt(var)
    lo = np.maximum(lo_sup, np.floor(mean - _SD * sd - _PAD)).astype(np.int64)
    hi = np.minimum(hi_sup, np.ceil(mean + _SD * sd + _PAD)).astype(np.int64)
    m, g, w = window_weights(lo, np.maximum(hi, lo), mean, log_ratio)
    return m, g, w / np.bincount(g, weights=w, minlength=lo.size)[g]


def _marginals(prior: Prior, s: int) -> tuple[NDArray[np.int64], NDArray[np.int64],
                                              NDArray[np.float64], NDArray[np.float64],
                                              NDArray[np.float64]]:
    """The law of one class's count among ``s`` draws, per group of classes.

    Returns the points, their group, their probabilities, each group's class
    probability and how many classes share it (binomial, or hypergeometric
    without replacement).
    """
    if prior.replacement:
        vals, mult = prior.groups()
        pg = np.asarray(vals, dtype=np.float64)
        m, grp, prob = _law(np.zeros(pg.size), None, np.full(pg.size, float(s)), pg)
    else:
        sizes, mult = prior.count_groups()
        N = float(prior.N or 0)
        ng = sizes.astype(np.float64)
        pg = ng / N
        m, grp, prob = _law(np.full(ng.size, N), ng, np.full(ng.size, float(s)), None)
    return m, grp, prob, pg, np.asarray(mult, dtype=np.float64)


#: Exact pair sums are used while they take at most this many terms (and groups).
_EXACT_TERMS = 3_000_000
_EXACT_GROUPS = 24


def _exact_sum_var(prior: Prior, s: int,
                   f: Callable[[int, NDArray[np.float64]], NDArray[np.float64]]) -> float | None:
    """``Var sum_c f_c(X_c)`` for the class counts ``X`` of ``s`` draws, exactly.

    Sums over the law of every class count and, for each pair of classes, of
    one count given the other (binomial, or hypergeometric without
    replacement).  ``f(g, x)`` is the function of a class of group ``g``.
    Returns ``None`` when that would take more than :data:`_EXACT_TERMS`
    terms.  Adding ``beta x`` to every ``f_c`` changes nothing (the counts
    sum to ``s``), so each is first reduced by its regression on ``x`` and
    centred: the pair sums then cancel far less.
    """
    m, grp, prob, pg, mult = _marginals(prior, s)
    G = pg.size
    if not prior.replacement:
        N = float(prior.N or 0)
        ng = pg * N
    mult = np.asarray(mult, dtype=np.float64)
    width = np.bincount(grp, minlength=G).astype(np.float64)
    if G > _EXACT_GROUPS or float(np.sum(width)) ** 2 > _EXACT_TERMS:
        return None
    x = m.astype(np.float64)
    fx = np.concatenate([f(g, x[grp == g]) for g in range(G)])  # grp is sorted
    ex = np.bincount(grp, weights=prob * x, minlength=G)
    efx = np.bincount(grp, weights=prob * fx * x, minlength=G)
    ef = np.bincount(grp, weights=prob * fx, minlength=G)
    exx = np.bincount(grp, weights=prob * x * x, minlength=G)
    var_x = float(np.dot(mult, exx - ex * ex))
    beta = float(np.dot(mult, efx - ef * ex)) / var_x if var_x > 0 else 0.0
    shift = ef - beta * ex

    def tilde(g: int, xs: NDArray[np.float64]) -> NDArray[np.float64]:
        return f(g, xs) - beta * xs - shift[g]

    ft = fx - beta * x - shift[grp]
    total = float(np.dot(mult, np.bincount(grp, weights=prob * ft * ft, minlength=G)))
    for g in range(G):
        sel = grp == g
        a, pa, fa = m[sel].astype(np.float64), prob[sel], ft[sel]
        for h in range(G):
            pairs = mult[g] * (mult[h] - (1.0 if h == g else 0.0))
            if pairs <= 0:
                continue
            rest = s - a
            if prior.replacement:
                r = np.full(a.size, min(pg[h] / (1.0 - pg[g]), 1.0) if pg[g] < 1 else 0.0)
                mb, gb, pb = _law(np.zeros(a.size), None, rest, r)
            else:
                mb, gb, pb = _law(np.full(a.size, N - ng[g]), np.full(a.size, ng[h]), rest,
                                  None)
            phi = np.bincount(gb, weights=pb * tilde(h, mb.astype(np.float64)),
                              minlength=a.size)
            total += pairs * float(np.dot(pa * fa, phi))
    return max(total, 0.0)


def _sum_var(prior: Prior, s: int,
             f: Callable[[int, NDArray[np.float64]], NDArray[np.float64]]) -> float:
    """``Var sum_c f_c(X_c)``: exact pair sums when affordable, else Holst's formula."""
    exact = _exact_sum_var(prior, s, f)
    if exact is not None:
        return exact
    cells = _Cells(prior, s)
    vals = np.empty(cells.x.size)
    for g in range(cells.p.size):
        sel = cells.group == g
        vals[sel] = f(g, cells.x[sel])
    return cells.cond_var(vals)


def _only_missing(prior: Prior, M: int) -> tuple[NDArray[Any], NDArray[Any],
                                                 NDArray[Any]] | None:
    """Per group: a class's probability, how many share it, and the chance that ``M``
    draws miss that class and no other (``None`` when there are too many groups)."""
    if prior.replacement:
        vals, mult = prior.groups()
        pg = np.asarray(vals, dtype=np.float64)
    else:
        sizes, mult = prior.count_groups()
        pg = sizes.astype(np.float64) / float(prior.N or 1)
    mult = np.asarray(mult, dtype=np.float64)
    if pg.size > _EXACT_GROUPS or prior.C < 2:
        return None if prior.C >= 2 else (pg, mult, np.zeros(pg.size))
    only = np.empty(pg.size)
    for g in range(pg.size):
        left = mult.copy()
        left[g] -= 1
        keep = left > 0
        if prior.replacement:
            probs = np.repeat(pg[keep], left[keep].astype(np.int64))
            miss = math.exp(M * math.log1p(-pg[g])) if pg[g] < 1 else 0.0
            rest = float(coverage_prob(M - 1, probs=probs / probs.sum())) if M >= 1 else 0.0
        else:
            N = int(prior.N or 0)
            size = int(round(pg[g] * N))
            sizes_left = np.repeat(np.round(pg[keep] * N).astype(np.int64),
                                   left[keep].astype(np.int64))
            i = np.arange(M, dtype=np.float64)
            miss = float(np.exp(np.sum(np.log1p(-size / (N - i))))) if M <= N - size else 0.0
            rest = (float(coverage_prob(M - 1, counts=sizes_left.tolist(), replacement=False))
                    if 1 <= M <= N - size else 0.0)
        only[g] = miss * rest
    return pg, mult, only


def _queue_coverage_var(prior: Prior, n: int, M: int) -> float:
    """Variance of the covered fraction of ``n`` anchors against one queue of ``M`` keys.

    Anchor ``i`` is covered when the keys miss no class but ``y_i``; given the
    keys, the ``n`` anchors are independent, so with ``P_c`` the chance that the
    keys miss class ``c`` alone, ``E upsilon-hat^2 = upsilon_M + sum_c P_c (p_c / n
    + (1 - 1/n) p_c^2)``.  With more than :data:`_EXACT_GROUPS` distinct class
    probabilities ``p_c^2 <= p_max p_c`` is used (an upper bound).
    """
    u_m = float(coverage_prob(M - 1, prior)) if M >= 1 else 0.0
    u_m1 = float(coverage_prob(M, prior))
    per = _only_missing(prior, M)
    if per is None:
        a1 = max(u_m1 - u_m, 0.0)
        pg = prior.groups()[0] if prior.replacement else \
            np.asarray(prior.count_groups()[0], dtype=np.float64) / float(prior.N or 1)
        a2 = float(np.max(pg)) * a1
    else:
        pg, mult, only = per
        a1 = float(np.dot(mult * only, pg))
        a2 = float(np.dot(mult * only, pg * pg))
    second = u_m + a1 / n + (1.0 - 1.0 / n) * a2
    return max(second - (u_m + a1) ** 2, 0.0)


def null_variances(scheme: str, n: int, K: int, prior: Prior) -> tuple[float, float, float]:
    """Variance of one batch's anchor-mean coverage, repeat rate and ``ln(1 + Col)``.

    Under the null hypothesis that the batch (and its negatives) are random
    draws from *prior*, for the :data:`SCHEMES` (``n`` anchors, ``K``
    negatives each).  Analytic, no simulation:

    - ``"independent"`` (each anchor its own ``K`` negatives): the variances
      of means of ``n`` i.i.d. anchors;
    - coverage in ``"batch"`` and ``"nt_xent"``: ``upsilon (1 - upsilon)``
      (every anchor of the batch shares one draw);
    - coverage with a ``"queue"`` of ``M = K`` keys:
      :func:`_queue_coverage_var`;
    - the repeat rate and the collision term are sums over classes of a
      function of the class counts (``n_c 1[n_c >= 2]``, ``n_c ln n_c``,
      ``n_c ln(1 + 2 (n_c - 1))`` for NT-Xent; with a queue, given the keys
      ``q``, the anchors are i.i.d. and ``E(T | q) = sum_c p_c h(q_c)``):
      their variances come from the law of one class count and of a second
      given the first (:func:`_exact_sum_var`), or, beyond
      :data:`_EXACT_GROUPS` distinct class probabilities or
      :data:`_EXACT_TERMS` terms, from Holst's conditioned-Poisson formula
      (:class:`_Cells`), first-order accurate where many classes make each
      pair's dependence small.

    All of them are exact (to rounding) for priors with at most
    :data:`_EXACT_GROUPS` distinct class probabilities.
    """
    if scheme == "independent":
        ups = float(coverage_prob(K, prior))
        tau = float(collision_prob(K, prior))
        pmf = collision_pmf(K, prior)
        lg = np.log1p(np.arange(K + 1, dtype=np.float64))
        m1 = float(np.dot(pmf, lg))
        m2 = float(np.dot(pmf, lg * lg))
        return (ups * (1 - ups) / n, tau * (1 - tau) / n, max(m2 - m1 * m1, 0.0) / n)
    if scheme == "queue":
        M = K
        var_u = _queue_coverage_var(prior, n, M)
        m, grp, prob, pa, mult = _marginals(prior, M)
        x = m.astype(np.float64)
        out = [var_u]
        for h in (lambda x: (x >= 1.0).astype(np.float64), np.log1p):
            # anchors i.i.d. from the prior given the keys: T = mean_i h(q_{y_i}),
            # Var T = E Var(T | keys) + Var S with S = sum_c p_c h(q_c) = E(T | keys)
            hx = h(x)
            eh = np.bincount(grp, weights=prob * hx, minlength=pa.size)
            ehh = np.bincount(grp, weights=prob * hx * hx, minlength=pa.size)
            es = float(np.dot(mult * pa, eh))

            def f(g: int, x: NDArray[np.float64], h: Any = h) -> NDArray[np.float64]:
                return np.asarray(pa[g] * h(x), dtype=np.float64)

            var_s = _sum_var(prior, M, f)
            within = max(float(np.dot(mult * pa, ehh)) - es * es - var_s, 0.0) / n
            out.append(within + var_s)
        return out[0], out[1], out[2]
    N = n // 2 if scheme == "nt_xent" else n  # samples in the batch
    ups = float(coverage_prob(N - 1, prior))

    def rep(g: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.where(x >= 2.0, x, 0.0)

    def col(g: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
        if scheme == "nt_xent":
            return x * np.log1p(2.0 * np.maximum(x - 1.0, 0.0))
        return x * np.log(np.maximum(x, 1.0))

    return (ups * (1.0 - ups), _sum_var(prior, N, rep) / (N * N),
            _sum_var(prior, N, col) / (N * N))
