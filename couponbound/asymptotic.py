"""Approximations and rigorous brackets for the coverage probability, and named expansions.

See :ref:`math-asymptotic`.  :math:`\\upsilon_n` is
the probability that ``n`` i.i.d. draws from the class prior :math:`\\rho` contain
every one of the ``C`` classes; NS21's :math:`\\upsilon_{K+1}` counts the anchor
and its ``K`` negatives, :math:`n = K + 1` (``include_anchor=False`` gives
``n = K``).  The accurate value lives in :mod:`couponbound.coverage` (exact
ones in :mod:`couponbound.exact`); this module holds the cheap closed forms,
each named for what it is:

gumbel_coverage, log_gumbel_coverage
    ER61's Gumbel limit (uniform prior, :math:`C \\to \\infty`).
poisson_coverage, log_poisson_coverage
    Poissonization, :math:`\\prod_c (1 - e^{-n\\rho_c})`.
tail_coverage
    ``1 - sum_c (1 - rho_c)^n``, the :math:`n \\to \\infty` form.
coverage_bounds
    A rigorous bracket :math:`\\mathrm{lower} \\le \\upsilon_n \\le \\mathrm{upper}` for every ``n``.
expected_log_collision_expansion, binomial_log1p_expansion, hypergeometric_log1p_expansion
    The large-``K`` (delta-method) expansion of NS21's collision term
    :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` (:ref:`math-collisions`).

All are models of independent draws: a :class:`~couponbound.Prior` drawn
without replacement is refused.  Scalar ``K`` gives a Python ``float``, an
array an ndarray.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from couponbound._docs import fill_doc
from couponbound._prior import Prior, as_prior, require_replacement
from couponbound._saddle import log1mexp
from couponbound._validate import check_real_array
from couponbound._vectorize import ArrayIn, FloatArray, FloatOrArray, ScalarIn, draws, evaluate, finish

__all__ = [
    "CoverageBounds",
    "binomial_log1p_expansion",
    "coverage_bounds",
    "expected_log_collision_expansion",
    "gumbel_coverage",
    "hypergeometric_log1p_expansion",
    "log_gumbel_coverage",
    "log_poisson_coverage",
    "poisson_coverage",
    "tail_coverage",
]

_EPS = float(np.finfo(np.float64).eps)
#: Above this many distinct class probabilities the O(G^2) pair sum S2 is
#: skipped and the upper bound is the product bound alone (still rigorous).
_S2_MAX_DISTINCT = 10_000
#: Up to this many distinct probabilities S2 is evaluated wherever it may help.
_S2_ALWAYS_DISTINCT = 1_000
#: Maximum number of matrix entries evaluated at once.
_CHUNK = 1 << 21


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _independent(C: Any, probs: Any, counts: Any, func: str) -> Prior:
    """The prior of a with-replacement approximation, refused without replacement."""
    prior = as_prior(C, probs=probs, counts=counts)
    require_replacement(prior, func)
    return prior


def _uniform(C: Any, func: str) -> Prior:
    """The prior of ER61's uniform-prior forms."""
    prior = _independent(C, None, None, func)
    if not prior.is_uniform:
        raise ValueError(f"{func} (ER61) is for the uniform prior; use poisson_coverage "
                         "for a non-uniform one")
    return prior


def _float_groups(prior: Prior) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct class probabilities and their multiplicities (as floats)."""
    vals, mult = prior.groups()
    return vals, mult.astype(np.float64)




def _miss_sum(p: NDArray[np.float64], m: NDArray[np.float64], n: NDArray[np.float64]
              ) -> NDArray[np.float64]:
    """:math:`S_1 = \\sum_c (1 - \\rho_c)^n` in floating point (``0^0 = 1``)."""
    out = np.empty(n.size)
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-p)  # -inf for p == 1
    step = max(1, _CHUNK // p.size)
    with np.errstate(invalid="ignore"):
        for i in range(0, n.size, step):
            nn = n[i : i + step, None]
            a = np.where(nn == 0, 0.0, nn * log_keep)
            out[i : i + step] = np.exp(a) @ m
    return out


def _log_poisson_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``sum_c m_c log(1 - exp(-n rho_c))`` for each ``n``."""
    p, m = _float_groups(prior)
    flat = n.astype(np.float64)
    out = np.empty(flat.size)
    step = max(1, _CHUNK // p.size)
    for i in range(0, flat.size, step):
        x = flat[i : i + step, None] * p
        out[i : i + step] = log1mexp(x) @ m
    return out


def _poisson_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    return np.exp(_log_poisson_kernel(n, prior))


def _log_gumbel_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    c = float(prior.C)
    out: NDArray[np.float64] = -c * np.exp(-n.astype(np.float64) / c)
    return out


def _gumbel_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    return np.exp(_log_gumbel_kernel(n, prior))


def _tail_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    p, m = _float_groups(prior)
    return np.clip(1.0 - _miss_sum(p, m, n.astype(np.float64)), 0.0, 1.0)


# ---------------------------------------------------------------------------
# Gumbel (ER61)
# ---------------------------------------------------------------------------


@overload
def log_gumbel_coverage(K: ScalarIn, C: int | Prior, *, include_anchor: bool = True) -> float: ...


@overload
def log_gumbel_coverage(K: ArrayIn, C: int | Prior, *, include_anchor: bool = True) -> FloatArray: ...


@overload
def log_gumbel_coverage(K: ArrayLike, C: int | Prior, *, include_anchor: bool = True) -> FloatOrArray: ...


def log_gumbel_coverage(K: ArrayLike, C: int | Prior, *, include_anchor: bool = True) -> FloatOrArray:
    r"""Log of ER61's Gumbel approximation of :math:`\upsilon`: ``-C exp(-n / C)``.

    Same arguments and errors as :func:`gumbel_coverage`; returns ``-C exp(-n/C)``
    (``<= 0``), a Python ``float`` for scalar ``K``.  This form does not underflow.

    References
    ----------
    ER61 (the limit law ``P(T <= C ln C + xC) -> exp(-e^{-x})``).

    Examples
    --------
    >>> log_gumbel_coverage(999, 100)
    -0.004539992976248485
    """
    prior = _uniform(C, "log_gumbel_coverage")
    return evaluate(_log_gumbel_kernel, K, prior, include_anchor=include_anchor)


@overload
def gumbel_coverage(K: ScalarIn, C: int | Prior, *, include_anchor: bool = True) -> float: ...


@overload
def gumbel_coverage(K: ArrayIn, C: int | Prior, *, include_anchor: bool = True) -> FloatArray: ...


@overload
def gumbel_coverage(K: ArrayLike, C: int | Prior, *, include_anchor: bool = True) -> FloatOrArray: ...


@fill_doc
def gumbel_coverage(K: ArrayLike, C: int | Prior, *, include_anchor: bool = True) -> FloatOrArray:
    r"""ER61's Gumbel approximation of :math:`\upsilon_n` (uniform prior).

    ER61 prove, for the uniform prior, ``P(T <= C ln C + x C) -> exp(-e^{-x})``
    as :math:`C \to \infty` with ``x`` fixed.  Writing ``n = C ln C + x C`` gives
    :math:`e^{-x} = C e^{-n/C}`, hence

    .. math::

        \upsilon_n \approx \exp\bigl(-C e^{-n/C}\bigr)

    Valid in the regime :math:`C \to \infty` with :math:`n = C \ln C + O(C)`; at
    fixed ``x`` the relative error falls roughly like :math:`1/C` (measured
    against the exact value at ``x = 0``: 5e-3, 5e-4, 5e-5 for ``C = 100,
    1000, 10000``; larger where :math:`\upsilon` is small, 1.8e-2 at ``C = 1000,
    x = -1``).  Outside that regime it is only a rough guide: e.g. it is
    positive for ``n < C``, where ``upsilon_n = 0``.
    Draws :math:`n = K + 1` (anchor included) unless ``include_anchor=False``.

    Parameters
    ----------
    {docs.negatives}
    C : int or Prior
        Number of classes (uniform prior only), or a uniform :class:`~couponbound.Prior`.
    {docs.include_anchor}

    Returns
    -------
    float or ndarray
        The approximation in ``(0, 1)``; Python ``float`` for scalar ``K``.

    Raises
    ------
    TypeError
        If ``K`` or ``C`` is not an integer or ``include_anchor`` not a bool.
    ValueError
        If ``K < 0`` or ``C < 1``, or a non-uniform or without-replacement prior.

    References
    ----------
    ER61, the limit theorem for the coupon collector (Gumbel law);
    :ref:`math-asymptotic`.

    Examples
    --------
    >>> round(gumbel_coverage(999, 100), 4)   # exact upsilon_1000 = 0.99569...
    0.9955
    >>> round(gumbel_coverage(99, 10), 5)     # exact upsilon_100 = 0.99973...
    0.99955
    """
    prior = _uniform(C, "gumbel_coverage")
    return evaluate(_gumbel_kernel, K, prior, include_anchor=include_anchor)


# ---------------------------------------------------------------------------
# Poissonization
# ---------------------------------------------------------------------------


@overload
def log_poisson_coverage(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                         counts: ArrayLike | None = None, include_anchor: bool = True) -> float: ...


@overload
def log_poisson_coverage(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                         counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatArray: ...


@overload
def log_poisson_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                         counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray: ...


def log_poisson_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                         counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray:
    r"""Log of the Poissonized coverage, ``sum_c ln(1 - exp(-n rho_c))``.

    Same arguments and errors as :func:`poisson_coverage`.  Each term is evaluated as
    ``log(-expm1(-x))`` or ``log1p(-exp(-x))`` (``x = n rho_c``), whichever
    has no cancellation, so the result keeps full relative accuracy where
    the coverage itself underflows.  ``-inf`` for ``n = 0``.

    References
    ----------
    FGT92 (Poissonization of the coupon collector); :ref:`math-asymptotic`.

    Examples
    --------
    >>> log_poisson_coverage(1099, 1000)   # the approximation is ~1e-176
    -404.77...
    """
    prior = _independent(C, probs, counts, "log_poisson_coverage")
    return evaluate(_log_poisson_kernel, K, prior, include_anchor=include_anchor)


@overload
def poisson_coverage(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, include_anchor: bool = True) -> float: ...


@overload
def poisson_coverage(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatArray: ...


@overload
def poisson_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray: ...


@fill_doc
def poisson_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                     counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray:
    r"""Poissonized approximation of :math:`\upsilon_n`: :math:`\prod_c (1 - e^{-n\rho_c})`.

    If the number of draws is Poisson with mean ``n`` instead of fixed, the
    class counts become independent ``Poisson(n rho_c)`` and coverage has
    exactly this probability (FGT92's Poissonization; :ref:`math-asymptotic`).
    For fixed ``n`` it is an approximation, accurate when every ``n rho_c``
    is large; for the uniform prior its relative error vanishes as
    :math:`C \to \infty` in ER61's regime :math:`n = C \ln C + O(C)` (both tend to
    ``exp(-e^{-x})``).  :math:`n = K + 1` draws (anchor included) unless
    ``include_anchor=False``.

    Parameters
    ----------
    {docs.negatives}
    {docs.prior_independent}
    {docs.include_anchor}

    Returns
    -------
    float or ndarray
        The approximation in ``[0, 1]``; ``0`` for ``n = 0``.

    Raises
    ------
    TypeError
        If ``K`` is not integral, no prior is given or ``include_anchor`` is not a bool.
    ValueError
        If ``K < 0``, the prior is invalid or drawn without replacement.

    References
    ----------
    FGT92 (Poissonization; the integral ``E[T] = int (1 - prod_c (1 - e^{-rho_c t})) dt``
    uses the same product); :ref:`math-asymptotic`.

    Examples
    --------
    >>> round(poisson_coverage(31, 10), 4)     # exact upsilon_32 = 0.6910
    0.6596
    >>> poisson_coverage([0, 1000], counts=[1, 3], include_anchor=False).tolist()
    [0.0, 1.0]
    """
    prior = _independent(C, probs, counts, "poisson_coverage")
    return evaluate(_poisson_kernel, K, prior, include_anchor=include_anchor)


# ---------------------------------------------------------------------------
# tail form
# ---------------------------------------------------------------------------


@overload
def tail_coverage(K: ScalarIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, include_anchor: bool = True) -> float: ...


@overload
def tail_coverage(K: ArrayIn, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatArray: ...


@overload
def tail_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray: ...


@fill_doc
def tail_coverage(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                  counts: ArrayLike | None = None, include_anchor: bool = True) -> FloatOrArray:
    r"""Large-``n`` approximation ``upsilon_n ~= max(0, 1 - sum_c (1 - rho_c)^n)``.

    ``1 - upsilon_n ~ sum_c (1 - rho_c)^n`` as :math:`n \to \infty` (the first
    inclusion-exclusion term, :ref:`math-asymptotic`): the relative error of
    ``1 - upsilon_n`` is ``O(C max_{c != c'} ((1 - rho_c - rho_c') /
    (1 - rho_c))^n)``, exponentially small.  It is also the first Bonferroni
    inequality, so it never exceeds :math:`\upsilon_n` (up to rounding; use
    :func:`coverage_bounds` for a bracket that is rigorous in floating point).
    Errors as for :func:`poisson_coverage`.

    Parameters
    ----------
    {docs.negatives}
    {docs.prior_independent}
    {docs.include_anchor}

    Returns
    -------
    float or ndarray
        The approximation in ``[0, 1]``.

    References
    ----------
    :ref:`math-coverage` (inclusion-exclusion, its first term); FGT92.

    Examples
    --------
    >>> tail_coverage(9, 2)                 # exact: 1 - 2 (1/2)^10
    0.998046875
    >>> round(tail_coverage(31, 10), 4)     # exact upsilon_32 = 0.6910
    0.6566
    """
    prior = _independent(C, probs, counts, "tail_coverage")
    return evaluate(_tail_kernel, K, prior, include_anchor=include_anchor)


# ---------------------------------------------------------------------------
# rigorous bracket
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CoverageBounds:
    """A rigorous bracket :math:`\\mathrm{lower} \\le \\upsilon_n \\le \\mathrm{upper}`, also in log form.

    Attributes
    ----------
    lower : float or ndarray
        Lower bound on the coverage probability (Python ``float`` for a scalar
        ``K``, else a read-only array with the shape of ``K``).
    upper : float or ndarray
        Upper bound, same type and shape.  Where the bound is below the
        smallest double it is the smallest positive double (never ``0`` for a
        positive :math:`\\upsilon_n`).
    log_lower, log_upper : float or ndarray
        ``log_lower <= log upsilon_n <= log_upper``, computed in log space so
        that the bracket holds where :math:`\\upsilon_n` underflows (``-inf`` where
        the bound is ``0``).  When not given they are the logs of ``lower``
        and ``upper``.
    """

    lower: float | NDArray[np.float64]
    upper: float | NDArray[np.float64]
    log_lower: float | NDArray[np.float64] | None = None
    log_upper: float | NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        for name, source in (("lower", "lower"), ("upper", "upper"),
                             ("log_lower", "lower"), ("log_upper", "upper")):
            value = getattr(self, name)
            if value is None:
                with np.errstate(divide="ignore"):
                    value = np.log(getattr(self, source))
            if isinstance(value, np.ndarray):
                arr = np.array(value, dtype=np.float64)
                arr.flags.writeable = False
                object.__setattr__(self, name, arr)
            else:
                object.__setattr__(self, name, float(value))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CoverageBounds):
            return NotImplemented
        return all(bool(np.array_equal(getattr(self, k), getattr(other, k))) for k in _BOUND_FIELDS)

    def to_dict(self) -> dict[str, Any]:
        """``lower``, ``upper``, ``log_lower``, ``log_upper`` as plain Python floats (lists for arrays)."""
        out: dict[str, Any] = {}
        for name in _BOUND_FIELDS:
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


_BOUND_FIELDS = ("lower", "upper", "log_lower", "log_upper")
#: Smallest positive normal double: below it ``exp`` has an absolute, not relative, error.
_TINY = float(np.finfo(np.float64).tiny)


def _keep_bounds(p: NDArray[np.float64], n: NDArray[np.float64]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Outward-rounded ``(1 - rho_c)^n``: arrays ``t_lo <= t <= t_hi``, shape (len(n), G).

    The float ``p`` stands for a probability within ``p (1 +- eps)`` (a count
    ratio or :math:`1/C` rounded once); ``log1p``, ``exp`` and the products are
    each within two ulps, covered by the ``8 eps`` and ``4 eps`` factors.
    """
    nn = n[:, None]
    log_hi = np.log1p(-p * (1.0 - _EPS)) * (1.0 - 8.0 * _EPS)
    with np.errstate(divide="ignore"):
        log_lo = np.log1p(-np.minimum(1.0, p * (1.0 + _EPS))) * (1.0 + 8.0 * _EPS)
    with np.errstate(invalid="ignore"):
        a_hi = np.where(nn == 0, 0.0, nn * log_hi)
        a_lo = np.where(nn == 0, 0.0, nn * log_lo)
    t_hi = np.minimum(1.0, np.exp(a_hi) * (1.0 + 4.0 * _EPS))
    t_lo = np.exp(a_lo) * (1.0 - 4.0 * _EPS)
    return t_lo, t_hi


def _pair_sum_hi(p: NDArray[np.float64], m: NDArray[np.float64], n: NDArray[np.float64]
                 ) -> NDArray[np.float64]:
    """Upper estimate of :math:`S_2 = \\sum_{c<c'} (1 - \\rho_c - \\rho_{c'})^n` for each ``n``.

    Classes are grouped by equal probability: ``binom(m_g, 2)`` pairs inside
    group ``g`` (``s = 2 p_g``) and ``m_g m_h`` pairs across ``g < h``; the
    ``O(G^2)`` pair table is built in row chunks.
    """
    G = p.size
    if G > _S2_MAX_DISTINCT:
        return np.full(n.size, np.inf)
    out = np.zeros(n.size)
    cols = np.arange(G)
    rows_per = max(1, _CHUNK // (G * max(1, n.size)))
    with np.errstate(divide="ignore"):
        for i0 in range(0, G, rows_per):
            rows = np.arange(i0, min(G, i0 + rows_per))
            s = p[rows, None] + p[None, :]
            w = np.where(cols[None, :] > rows[:, None], m[rows, None] * m[None, :], 0.0)
            w[np.arange(rows.size), rows] = m[rows] * (m[rows] - 1.0) / 2.0
            keep = w > 0
            if not keep.any():
                continue
            sv, wv = s[keep], w[keep]
            # true s >= computed s (1 - 4 eps); log1p(-1) = -inf gives 0^n = 0
            logq = np.log1p(-np.minimum(1.0, sv * (1.0 - 4.0 * _EPS))) * (1.0 - 8.0 * _EPS)
            with np.errstate(invalid="ignore"):
                terms = np.exp(n[:, None] * logq)
            out += terms @ wv
    npairs = G * (G + 1) / 2.0
    return out * (1.0 + 4.0 * _EPS) * (1.0 + (npairs + 4.0) * _EPS)


def coverage_bounds(K: ArrayLike, C: int | Prior | None = None, *, probs: ArrayLike | None = None,
                    counts: ArrayLike | None = None, include_anchor: bool = True) -> CoverageBounds:
    r"""Rigorous two-sided bracket on the coverage probability :math:`\upsilon_n`.

    With :math:`S_1 = \sum_c (1 - \rho_c)^n` and :math:`S_2 = \sum_{c<c'} (1 - \rho_c - \rho_{c'})^n`
    (:ref:`math-asymptotic`):

    .. math::

        \max(0, 1 - S_1) \le \upsilon_n \le
        \min\Bigl(1 - S_1 + S_2,\ \prod_c \bigl(1 - (1 - \rho_c)^n\bigr)\Bigr)

    The outer terms are the Bonferroni inequalities truncating the
    inclusion-exclusion sum ``upsilon_n = sum_S (-1)^|S| (1 - rho(S))^n`` after
    one and two terms; the product holds because multinomial counts are
    negatively associated (Joag-Dev and Proschan 1983), so the events
    "class ``c`` seen" are negatively correlated.  For ``n < C`` no draw can
    cover every class and both bounds are ``0``; for ``C = 1`` and ``n >= 1``
    both are ``1``.

    For the uniform prior ``S1 = C (1 - 1/C)^n`` and ``S2 = binom(C, 2)
    (1 - 2/C)^n``; for other priors classes of equal probability are grouped
    and :math:`S_2` costs ``O(G^2)`` for ``G`` distinct probabilities; it is only
    evaluated where ``1 - S1`` is below the product bound (and, for
    ``G > 1000``, ``S1 < 2``).  Beyond ``G = 10**4`` the :math:`S_2` term is
    skipped and the upper bound is the product alone.  Skipping :math:`S_2` never
    breaks rigour; it can only leave the upper bound a little looser.

    The bracket is rigorous in floating point, not just on paper: every term
    is rounded outward (by a few ulps plus the error bound of ``(1 - rho)^n``),
    so :math:`\mathrm{lower} \le \upsilon_n \le \mathrm{upper}` holds for the exact rational
    :math:`\upsilon_n` of the given prior (probabilities taken within ``1 +- eps``
    relative).  :math:`n = K + 1` draws (anchor included) unless
    ``include_anchor=False``.  The
    arguments and errors are those of :func:`poisson_coverage`.

    The same bounds are also returned in log space (``log_lower``,
    ``log_upper``: ``log(1 - S1)`` and the smaller of ``log(1 - S1 + S2)``
    and ``sum_c log(1 - (1 - rho_c)^n)``, rounded outward), which stay
    informative where :math:`\upsilon_n` underflows; there ``upper`` is the
    smallest positive double rather than ``0``.

    Returns
    -------
    CoverageBounds
        ``lower`` and ``upper`` (Python floats for scalar ``K``, else arrays
        with the shape of ``K``), ``0 <= lower <= upper <= 1``, and
        ``log_lower <= log upsilon_n <= log_upper``.

    References
    ----------
    :ref:`math-asymptotic` (Bonferroni inequalities on the inclusion-exclusion
    formula; negative association of multinomial counts, Joag-Dev and Proschan,
    Ann. Statist. 11 (1983)); FGT92 for the inclusion-exclusion form.

    Examples
    --------
    >>> b = coverage_bounds(31, 10)        # exact upsilon_32 = 0.690975...
    >>> round(b.lower, 4), round(b.upper, 4)
    (0.6566, 0.6923)
    >>> coverage_bounds(63, 2)             # exact 1 - 2**-63, rounded outward
    CoverageBounds(lower=0.999999999999999..., upper=1.0, log_lower=-8.8...e-16, log_upper=0.0)
    >>> b = coverage_bounds(1999, 2000)     # upsilon = 2000!/2000**2000 = exp(-1991.3)
    >>> b.upper, round(b.log_upper, 1)      # the product bound, below the smallest double
    (5e-324, -917.1)
    >>> coverage_bounds([0, 5], 10).to_dict()
    {'lower': [0.0, 0.0], 'upper': [0.0, 0.0], 'log_lower': [-inf, -inf], 'log_upper': [-inf, -inf]}
    """
    prior = _independent(C, probs, counts, "coverage_bounds")
    n_int, is_scalar = draws(K, prior, include_anchor=include_anchor)
    p, m = _float_groups(prior)
    flat = n_int.ravel()
    lower = np.zeros(flat.size)
    upper = np.zeros(flat.size)
    log_lower = np.full(flat.size, -np.inf)
    log_upper = np.full(flat.size, -np.inf)

    if prior.C == 1:
        lower[flat >= 1] = 1.0
        upper[flat >= 1] = 1.0
        log_lower[flat >= 1] = 0.0
        log_upper[flat >= 1] = 0.0
    else:
        todo = np.flatnonzero(flat >= prior.C)  # upsilon_n = 0 for n < C
        G = p.size
        step = max(1, _CHUNK // G)
        for i in range(0, todo.size, step):
            idx = todo[i : i + step]
            n = flat[idx].astype(np.float64)
            t_lo, t_hi = _keep_bounds(p, n)
            grow = 1.0 + (G + 4.0) * _EPS
            s1_hi = (t_hi @ m) * grow
            s1_lo = (t_lo @ m) / grow
            low = 1.0 - s1_hi - 4.0 * _EPS * (1.0 + s1_hi)
            log_prod = np.log1p(-t_lo) @ m  # <= 0, every term of one sign
            prod_hi = np.exp(log_prod * (1.0 - (G + 8.0) * _EPS)) * (1.0 + 4.0 * _EPS)
            # 1 - S1 + S2 >= 1 - S1: the O(G^2) sum S2 can only help where the
            # product bound is above 1 - S1; with many distinct probabilities it
            # is also skipped where S1 >= 2 (there it rarely beats the product)
            need = prod_hi > 1.0 - s1_lo
            if G > _S2_ALWAYS_DISTINCT:
                need &= s1_lo < 2.0
            s2_hi = np.full(n.size, np.inf)
            if need.any():
                s2_hi[need] = _pair_sum_hi(p, m, n[need])
            with np.errstate(invalid="ignore"):
                bonf = 1.0 - s1_lo + s2_hi + 4.0 * _EPS * (1.0 + s1_lo + s2_hi)
            bonf = np.where(np.isnan(bonf), np.inf, bonf)
            hi = np.clip(np.minimum(bonf, prod_hi), 0.0, 1.0)
            # the same bounds in log space (rounded outward), where they do not underflow
            log_prod_hi = log_prod * (1.0 - (G + 8.0) * _EPS) + 4.0 * _EPS
            with np.errstate(divide="ignore", invalid="ignore"):
                log_bonf = np.log(bonf)
                log_bonf = log_bonf + 2.0 * _EPS * np.abs(log_bonf) + 2.0 * _EPS
                log_hi = np.minimum(0.0, np.minimum(np.where(np.isnan(log_bonf), np.inf, log_bonf),
                                                     log_prod_hi))
                miss_hi = s1_hi + 4.0 * _EPS * (1.0 + s1_hi)
                log_lo = np.where(miss_hi < 1.0, np.log1p(-np.minimum(miss_hi, 1.0)), -np.inf)
                log_lo = np.where(np.isfinite(log_lo), log_lo * (1.0 + 4.0 * _EPS) - 4.0 * _EPS * _TINY,
                                  -np.inf)
            log_lo = np.minimum(log_lo, log_hi)
            # exp has an absolute error of one subnormal ulp below _TINY: round up by one
            hi = np.where(hi < _TINY, np.nextafter(hi, 1.0), hi)
            lower[idx] = np.minimum(np.clip(low, 0.0, 1.0), hi)
            upper[idx] = hi
            log_lower[idx] = log_lo
            log_upper[idx] = log_hi

    shape = n_int.shape
    return CoverageBounds(lower=finish(lower.reshape(shape), is_scalar),
                          upper=finish(upper.reshape(shape), is_scalar),
                          log_lower=finish(log_lower.reshape(shape), is_scalar),
                          log_upper=finish(log_upper.reshape(shape), is_scalar))


# ---------------------------------------------------------------------------
# the collision term for large K
# ---------------------------------------------------------------------------


#: Largest K, a or b of the log1p expansions: the numeric core's 2**62.
_MAX_COUNT = float(2**62)


def _broadcastable(*arrays: NDArray[np.float64], names: str) -> None:
    try:
        np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as exc:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"{names} must broadcast together, got shapes {shapes}") from exc


def binomial_log1p_expansion(K: ArrayLike, p: ArrayLike) -> NDArray[np.float64]:
    """Delta-method expansion of :math:`\\mathbb{E}\\ln(1 + X)`, to the fourth moment, for
    :math:`X \\sim \\mathrm{Binomial}(K, p)`.

    ``f(x) = ln(1 + x)`` expanded about ``mu = K p``:
    ``E f(X) = f(mu) + sum_j f^(j)(mu) E(X - mu)^j / j!`` with
    ``f^(j)(mu) = (-1)^(j+1) (j-1)! / (1+mu)^j`` and the binomial central
    moments ``m2 = K p q``, ``m3 = m2 (q - p)``, ``m4 = 3 m2^2 + m2 (1 - 6 p q)``
    (``q = 1 - p``); the truncation error is ``O((K p)^-3)``, about
    ``0.5 (K p)^-3``.  Elementwise over broadcast ``K`` and ``p``: the
    building block of :func:`expected_log_collision_expansion` and of
    :func:`couponbound.expected_log_collision` for huge ``K p``.

    Raises
    ------
    TypeError, ValueError
        ``K`` not real numbers in ``[0, 2**62]`` or ``p`` not in ``[0, 1]`` (bool,
        strings, bytes, dates, masked entries, NaN refused), or shapes that
        do not broadcast; the message names the argument.

    Examples
    --------
    >>> float(binomial_log1p_expansion(10**6, 0.5))   # ln(1 + 5e5) - 1/(2e6) + ...
    13.12236...
    """
    k = check_real_array(K, "K", minimum=0.0, maximum=_MAX_COUNT, allow_empty=True)
    pp = check_real_array(p, "p", minimum=0.0, maximum=1.0, allow_empty=True)
    _broadcastable(k, pp, names="K, p")
    mu = k * pp
    q = 1.0 - pp
    m2 = mu * q
    m3 = m2 * (q - pp)
    m4 = 3.0 * m2**2 + m2 * (1.0 - 6.0 * pp * q)
    x = 1.0 + mu
    out = np.log1p(mu) - m2 / (2.0 * x**2) + m3 / (3.0 * x**3) - m4 / (4.0 * x**4)
    return np.asarray(out, dtype=np.float64)


def hypergeometric_log1p_expansion(K: ArrayLike, a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Delta-method expansion of :math:`\\mathbb{E}\\ln(1 + X)`, to the fourth moment, for
    :math:`X \\sim \\mathrm{Hypergeom}(a + b, a, K)`.

    ``X`` is the number of marked items among ``K`` drawn without replacement
    from ``a`` marked and ``b`` unmarked ones.  As
    :func:`binomial_log1p_expansion`, with the hypergeometric central moments
    (``M = a + b``, ``p = a / M``, ``q = b / M``, ``f = (M - K) / (M - 1)``)
    ``m2 = K p q f``, ``m3 = m2 (q - p) (M - 2K) / (M - 2)`` and
    ``m4 = m2^2 (3 + excess kurtosis)``.  The hypergeometric law is more
    concentrated than the binomial one with the same mean, so the truncation
    error is again about ``0.5 (K p)^-3`` or less.  Elementwise over broadcast
    arguments (reals ``>= 0``, usually integers up to ``2**62``; ``a + b > 0``).

    Raises
    ------
    TypeError, ValueError
        An argument not whole numbers in ``[0, 2**62]`` (bool, strings, bytes, dates,
        masked entries, NaN refused), ``a + b = 0``, or shapes that do not
        broadcast; the message names the argument.

    Examples
    --------
    >>> float(hypergeometric_log1p_expansion(10**6, 10**12, 10**12))  # ~ the binomial one
    13.12236...
    """
    k = check_real_array(K, "K", minimum=0.0, maximum=_MAX_COUNT, allow_empty=True)
    af = check_real_array(a, "a", minimum=0.0, maximum=_MAX_COUNT, allow_empty=True)
    bf = check_real_array(b, "b", minimum=0.0, maximum=_MAX_COUNT, allow_empty=True)
    for name, arr in (("K", k), ("a", af), ("b", bf)):
        if np.any(arr != np.floor(arr)):
            bad = float(arr[arr != np.floor(arr)].ravel()[0])
            raise ValueError(f"{name} counts items and must be a whole number, got {bad!r}")
    _broadcastable(k, af, bf, names="K, a, b")
    M = af + bf
    if not np.all(M > 0):
        raise ValueError("a + b must be > 0 (a population to draw from), got "
                         f"{float(np.min(M))!r}")
    p = af / M
    q = bf / M
    mu = k * p
    rest = np.maximum(M - k, 0.0)  # the items left behind
    m2 = mu * q * (rest / np.maximum(M - 1.0, 1.0))
    m3 = m2 * (q - p) * ((M - 2.0 * k) / np.maximum(M - 2.0, 1.0))
    # excess kurtosis, every product scaled by M to stay within float range
    kp, kq, rp = k / M, rest / M, (M - 1.0) / M
    with np.errstate(divide="ignore", invalid="ignore"):
        num = (rp * ((M + 1.0) / M - 6.0 * p * q - 6.0 * kp * kq)
               + 6.0 * kp * p * q * kq * (5.0 - 6.0 / M))
        den = kp * p * q * kq * ((M - 2.0) / M) * ((M - 3.0) / M) * M
        excess = np.where(den > 0, num / den, 0.0)
    m4 = m2 * m2 * (3.0 + excess)
    x = 1.0 + mu
    out = np.log1p(mu) - m2 / (2.0 * x**2) + m3 / (3.0 * x**3) - m4 / (4.0 * x**4)
    return np.asarray(out, dtype=np.float64)


def _elog_expansion_kernel(n: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    p, weight = prior.anchor_groups()
    kf = n.astype(np.float64)
    vals = np.asarray(binomial_log1p_expansion(kf[:, None], p) @ weight)
    return np.clip(vals, 0.0, np.log1p(kf))


@overload
def expected_log_collision_expansion(K: ScalarIn, C: int | Prior | None = None, *,
                                     probs: ArrayLike | None = None, counts: ArrayLike | None = None
                                    ) -> float: ...


@overload
def expected_log_collision_expansion(K: ArrayIn, C: int | Prior | None = None, *,
                                     probs: ArrayLike | None = None, counts: ArrayLike | None = None
                                    ) -> FloatArray: ...


@overload
def expected_log_collision_expansion(K: ArrayLike, C: int | Prior | None = None, *,
                                     probs: ArrayLike | None = None, counts: ArrayLike | None = None
                                    ) -> FloatOrArray: ...


def expected_log_collision_expansion(K: ArrayLike, C: int | Prior | None = None, *,
                                     probs: ArrayLike | None = None, counts: ArrayLike | None = None
                                    ) -> FloatOrArray:
    r"""Large-``K`` expansion of NS21's collision term :math:`\mathbb{E}\ln(1+\mathrm{Col})`.

    The delta-method (Taylor) expansion of :math:`\ln(1 + x)` about
    ``mu_c = K rho_c`` (:func:`binomial_log1p_expansion`), averaged over the
    anchor's class, with the binomial central moments
    ``sigma^2 = K rho_c (1 - rho_c)``, ``kappa_3 = sigma^2 (1 - 2 rho_c)``,
    ``m_4 = 3 sigma^4 + sigma^2 (1 - 6 rho_c (1 - rho_c))``:

    .. math::

        \mathbb{E}\ln(1 + X) = \ln(1 + \mu) - \frac{\sigma^2}{2 (1 + \mu)^2}
        + \frac{\kappa_3}{3 (1 + \mu)^3} - \frac{m_4}{4 (1 + \mu)^4} + O(\mu^{-3})

    The leading term alone is NS21's ``ln(1 + K/C) + O(C/K)`` (uniform prior,
    :ref:`math-collisions`); with the ``sigma^2`` term the error is
    ``O((C/K)^2)`` and with all four ``O((C/K)^3)`` (about ``0.5 (C/K)^3`` for
    ``C = 10``).  For a general prior the error is
    ``O(sum_c rho_c (K rho_c)^-3)``: the expansion needs ``K rho_c >> 1`` for
    every class.  The result is clipped to :math:`[0, \ln(1 + K)]`.  The accurate
    value is :func:`couponbound.expected_log_collision`.  Arguments and errors as for
    :func:`poisson_coverage` (without ``include_anchor``: ``K`` counts the negatives).

    Returns
    -------
    float or ndarray
        A Python ``float`` for scalar ``K``, else an array with the shape of ``K``.

    References
    ----------
    NS21, the collision term of its main bound and its :math:`\ln(1 + K/C)` asymptotics.

    Examples
    --------
    >>> from couponbound import expected_log_collision
    >>> K = 10**5
    >>> abs(expected_log_collision_expansion(K, 10) - expected_log_collision(K, 10)) < 1e-12
    True
    """
    prior = _independent(C, probs, counts, "expected_log_collision_expansion")
    return evaluate(_elog_expansion_kernel, K, prior, negatives_only=True)
