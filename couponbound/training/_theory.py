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

import numpy as np
from numpy.typing import NDArray

from couponbound._prior import Prior
from couponbound.collision import collision_pmf, collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob

__all__ = ["LOSSES", "null_variances", "theory_values"]

#: The loss kinds a monitor measures.
LOSSES = ("infonce", "nt_xent")

#: How a batch's negatives relate to its anchors, for the null variances:
#: ``"batch"`` (the other rows of the batch), ``"nt_xent"`` (both views of the
#: other samples), ``"queue"`` (one set of ``K`` keys shared by the batch's
#: anchors), ``"independent"`` (each anchor its own ``K`` negatives).
SCHEMES = ("batch", "nt_xent", "queue", "independent")


def theory_values(K: int, prior: Prior, loss: str = "infonce") -> tuple[float, float, float]:
    """``(upsilon, tau, E ln(1 + Col))`` for ``K`` negatives per anchor under *prior*."""
    rep = prior.replacement
    if loss == "nt_xent":
        m = K // 2  # the N - 1 other samples
        pmf = collision_pmf(m, prior, replacement=rep)
        coll = math.fsum((pmf * np.log1p(2.0 * np.arange(m + 1))).tolist())
        return (float(coverage_prob(m, prior)),
                float(collision_prob(m, prior, replacement=rep)), coll)
    # replacement= repeats the prior's own scheme: collision.py on main still reads
    # it from the keyword (drop it once collision takes the Prior's).
    return (float(coverage_prob(K, prior)),
            float(collision_prob(K, prior, replacement=rep)),
            float(expected_log_collision(K, prior, replacement=rep)))


def _draw_counts(rng: np.random.Generator, prior: Prior, n: int, size: int
                 ) -> NDArray[np.float64]:
    """``size`` class-count vectors of batches of ``n`` draws from *prior*."""
    if not prior.replacement:
        assert prior.counts is not None
        pool = np.asarray(prior.counts, dtype=np.int64)
        return rng.multivariate_hypergeometric(pool, n, size=size).astype(np.float64)
    return rng.multinomial(n, np.asarray(prior.probs, dtype=np.float64),
                           size=size).astype(np.float64)


def _simulations(C: int) -> int:
    return int(min(4000, max(128, 4_000_000 // max(C, 1))))


def null_variances(scheme: str, n: int, K: int, prior: Prior, seed: int = 0
                   ) -> tuple[float, float, float, int]:
    """Variance of one batch's anchor-mean coverage, repeat rate and ``ln(1 + Col)``.

    Under the null hypothesis that the batch (and its negatives) are random
    draws from *prior*.  ``"independent"`` is exact (``n`` i.i.d. anchors);
    the others are Monte Carlo over simulated batches of class counts (fixed
    seed, so deterministic).  Returns ``(var_upsilon, var_tau, var_collision,
    simulations)`` (``simulations = 0`` when exact).
    """
    rep = prior.replacement
    if scheme == "independent":
        ups = float(coverage_prob(K, prior))
        tau = float(collision_prob(K, prior, replacement=rep))
        pmf = collision_pmf(K, prior, replacement=rep)
        lg = np.log1p(np.arange(K + 1, dtype=np.float64))
        m1 = float(np.dot(pmf, lg))
        m2 = float(np.dot(pmf, lg * lg))
        return (ups * (1 - ups) / n, tau * (1 - tau) / n, max(m2 - m1 * m1, 0.0) / n, 0)
    S = _simulations(prior.C)
    rng = np.random.default_rng(seed)
    if scheme == "queue":
        q = _draw_counts(rng, prior, K, S)
        a = _draw_counts(rng, prior, n, S)
        missing = (q == 0).astype(np.float64)
        n_missing = missing.sum(axis=1, keepdims=True)
        ups = np.sum(a * ((n_missing - missing) == 0), axis=1) / n
        tau = np.sum(a * (q >= 1), axis=1) / n
        coll = np.sum(a * np.log1p(q), axis=1) / n
    else:
        N = n // 2 if scheme == "nt_xent" else n
        c = _draw_counts(rng, prior, N, S)
        ups = np.all(c > 0, axis=1).astype(np.float64)
        tau = np.sum(np.where(c >= 2, c, 0.0), axis=1) / N
        if scheme == "nt_xent":
            coll = np.sum(c * np.log1p(2.0 * np.maximum(c - 1.0, 0.0)), axis=1) / N
        else:
            coll = np.sum(c * np.log(np.maximum(c, 1.0)), axis=1) / N
    return (float(np.var(ups, ddof=1)), float(np.var(tau, ddof=1)),
            float(np.var(coll, ddof=1)), S)
