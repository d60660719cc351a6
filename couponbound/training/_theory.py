"""The theoretical values of the rates a monitor measures (private).

``upsilon_{K+1}`` (:ref:`math-coverage`), ``tau_K`` and ``E ln(1 + Col)``
(:ref:`math-collisions`) for one batch size under a class prior; shared by
:class:`~couponbound.training.monitor.BoundMonitor` and
:meth:`~couponbound.training.report.BoundReport.from_terms`.
"""

from __future__ import annotations

from couponbound._prior import Prior
from couponbound.collision import collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob

__all__ = ["theory_values"]


def theory_values(K: int, prior: Prior) -> tuple[float, float, float]:
    """``(upsilon_{K+1}, tau_K, E ln(1 + Col))`` for ``K`` negatives under *prior*."""
    # replacement= repeats the prior's own scheme: collision.py on main still reads
    # it from the keyword (drop it once collision takes the Prior's).
    rep = prior.replacement
    return (float(coverage_prob(K, prior)),
            float(collision_prob(K, prior, replacement=rep)),
            float(expected_log_collision(K, prior, replacement=rep)))
