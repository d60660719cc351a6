"""Harmonic numbers and signed subset sums, written once for the whole package.

:mod:`couponbound.exact` (Fractions, mpmath), :mod:`couponbound.coverage`
(moments), :mod:`couponbound.bounds` and :mod:`couponbound.symbolic` (sympy)
all take them from here.  The inclusion-exclusion sums they serve are
explained in :ref:`math-coverage` and :ref:`math-completion-time`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from couponbound._prior import Prior

__all__ = [
    "MAX_SUBSET_TERMS",
    "harmonic",
    "harmonic_fraction",
    "prior_weights",
    "subset_sums",
]

#: Subset sums expanded by the exact and arbitrary-precision paths, at most.
MAX_SUBSET_TERMS = 2_000_000
#: Above this ``n``, :func:`harmonic` uses ``digamma(n + 1) + gamma``.
_HARMONIC_SUM_MAX = 100_000


def harmonic(n: int, order: int = 1) -> float:
    """The harmonic number ``H^{(order)}_n = sum_{j<=n} 1/j^order`` as a float (``H_0 = 0``).

    Correctly rounded sums (``math.fsum``); for ``order=1`` beyond
    ``n = 10**5``, ``digamma(n + 1) + euler_gamma`` (and ``order=2``:
    ``pi**2/6 - trigamma(n + 1)``), relative error ~1e-16.

    >>> harmonic(4)
    2.083333333333333
    >>> harmonic(2, order=2)
    1.25
    >>> harmonic(0)
    0.0
    """
    if order == 2 and n > _HARMONIC_SUM_MAX:
        from scipy.special import polygamma

        # H^(2)_n = zeta(2) - trigamma(n + 1), relative error ~1e-16
        return math.pi**2 / 6.0 - float(polygamma(1, n + 1.0))
    if order != 1:
        return math.fsum(1.0 / j**order for j in range(1, n + 1))
    if n <= _HARMONIC_SUM_MAX:
        return math.fsum(1.0 / j for j in range(1, n + 1))
    from scipy.special import digamma

    return float(digamma(n + 1.0)) + 0.57721566490153286061


def harmonic_fraction(n: int, order: int = 1) -> Fraction:
    """The generalised harmonic number ``H^{(order)}_n = sum_{j<=n} 1/j^order``, exactly.

    >>> harmonic_fraction(4)
    Fraction(25, 12)
    >>> harmonic_fraction(2, order=2)
    Fraction(5, 4)
    """
    return sum((Fraction(1, j**order) for j in range(1, n + 1)), Fraction(0))


def prior_weights(prior: Prior) -> tuple[list[Any], Any]:
    """Class weights for exact arithmetic and their total.

    Integer class sizes when the prior has counts (total ``N``), ones for a
    uniform prior (total ``C``), exact fractions of the probabilities
    otherwise (total 1); ``weight / total`` is each class's probability.
    Integer weights let :func:`subset_sums` collapse to at most ``total + 1``
    distinct sums.
    """
    if prior.counts is not None:
        return list(prior.counts), sum(prior.counts)
    if prior.is_uniform:
        return [1] * prior.C, prior.C
    return prior.fractions(), Fraction(1)


def subset_sums(weights: Iterable[Any], *, max_terms: int = MAX_SUBSET_TERMS) -> dict[Any, int]:
    r"""The signed subset-sum polynomial ``prod_c (1 - x^{w_c})`` as ``{sum: coefficient}``.

    The coefficient of ``x^s`` is ``sum_{S : w(S) = s} (-1)^{|S|}``, so
    inclusion-exclusion over the subsets of classes reads
    ``sum_S (-1)^{|S|} f(w(S)) = sum_s a_s f(s)``.  Equal weights are grouped
    (``(1 - x^w)^k`` by the binomial theorem); zero coefficients are dropped.

    Parameters
    ----------
    weights : iterable of int or Fraction
        One weight per class.
    max_terms : int
        Refuse (``ValueError``) when the number of distinct sums may exceed this.

    Raises
    ------
    ValueError
        When the expansion would exceed ``max_terms`` terms: its message says
        how many and suggests integer counts (whose sums collapse).

    Examples
    --------
    >>> subset_sums([1, 1, 2])     # (1 - x)^2 (1 - x^2)
    {0: 1, 1: -2, 3: 2, 4: -1}
    """
    groups: dict[Any, int] = {}
    for w in weights:
        groups[w] = groups.get(w, 0) + 1
    size = math.prod(k + 1 for k in groups.values())
    if all(isinstance(w, int) for w in groups):
        size = min(size, sum(w * k for w, k in groups.items()) + 1)
    if size > max_terms:
        raise ValueError(
            f"exact inclusion-exclusion for this prior needs about {size:.3g} subset sums "
            f"(more than {max_terms}); give the prior as integer class counts "
            "(Prior.from_counts, whose sums collapse to integers), or use the float functions"
        )
    poly: dict[Any, int] = {0: 1}
    for w, k in groups.items():
        new: dict[Any, int] = {}
        for j in range(k + 1):
            cj = (-1) ** j * math.comb(k, j)
            shift = j * w
            for s, a in poly.items():
                key = s + shift
                new[key] = new.get(key, 0) + a * cj
        poly = {s: a for s, a in new.items() if a != 0}
    return poly
