"""Bounds of NS21 and its peers (ARORA19, ASH22, BAO22); see :ref:`math-bounds`.

Two kinds of bound live here.

*Measured-term bounds* combine quantities measured on a trained encoder (a
:class:`BoundTerms`): :func:`ns21_lower_bound` and :func:`arora_lower_bound`
bound the contrastive loss :math:`L_\\mathrm{Info}` from below; :func:`ns21_sup_upper_bound`
and :func:`arora_sup_upper_bound` are the same inequalities solved for the
supervised loss :math:`L^\\mu_\\mathrm{sup}`; :func:`decompose` splits NS21's bound into its
additive terms.

*Theoretical curves* need no trainer: :func:`sup_upper_bounds` lays the upper
bounds on :math:`L^\\mu_\\mathrm{sup}` implied by a contrastive loss side by side (as BAO22's
comparison figure does, or with NS21's :math:`d(f)` and :math:`L^\\mu_\\mathrm{sub}` for a loss
measured on an augmentation-trained encoder; :class:`RestatedBoundWarning`
flags BAO22's setting), :func:`bao22_min_contrastive` and
:func:`bao22_min_supervised` are BAO22's minimum losses, and
:func:`ns21_bound_curve` evaluates NS21's lower bound as ``K`` varies, in exact
or asymptotic form.

Every ``K`` is the number of *negatives*; the anchor is counted on top, so a
draw has :math:`K + 1` samples and the coverage probability is :math:`\\upsilon_{K+1}`.

Every formula is written once, as plain arithmetic, in
``couponbound._formulas`` (shared with the training monitor and the sympy
closed forms); this module adds the checks, the vacuous cases and the
theoretical terms.  The papers (NS21, ARORA19, ASH22, BAO22) are listed in
:ref:`math-references`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import Any, Literal, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from couponbound import _display
from couponbound._combinatorics import harmonic
from couponbound._docs import fill_doc
from couponbound._formulas import (
    arora_bound,
    arora_sup_upper,
    ash22_factor,
    ash22_sup_upper,
    bao22_col_loss,
    bao22_lower_gap,
    bao22_min_sup_loss,
    bao22_upper_gap,
    bao22_weight,
    ns21_bound,
    ns21_parts,
    ns21_sup_upper,
)
from couponbound._prior import Prior, as_prior, require_replacement
from couponbound._validate import check_flag, check_real, check_real_array, short_repr
from couponbound._vectorize import (
    ArrayIn,
    FloatArray,
    FloatOrArray,
    Negatives,
    ScalarIn,
    evaluate,
    evaluate_broadcast,
    finish_shape,
    negatives,
)
from couponbound.asymptotic import gumbel_coverage, poisson_coverage, tail_coverage
from couponbound.collision import collision_pmf, collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob

__all__ = [
    "BoundTerms",
    "NS21Decomposition",
    "RestatedBoundWarning",
    "SupUpperBounds",
    "VacuousBoundWarning",
    "arora_lower_bound",
    "arora_sup_upper_bound",
    "bao22_min_contrastive",
    "bao22_min_supervised",
    "decompose",
    "ns21_bound_curve",
    "ns21_lower_bound",
    "ns21_sup_upper_bound",
    "sup_upper_bounds",
]
_LOSS_FIELDS = ("contrastive", "sup", "sub", "collision", "arora_sub")
_PROB_FIELDS = ("upsilon", "tau")


def _real_field(value: Any, name: str) -> float:
    """A ``BoundTerms`` field as a ``float``: real numbers only (no bool, no string).

    A number too large for a float (``10**400``) is a ``ValueError`` naming
    the field, not an ``OverflowError``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"BoundTerms.{name} must be a real number, got {short_repr(value)}")
    try:
        return float(value)
    except OverflowError as exc:
        raise ValueError(
            f"BoundTerms.{name} must be finite, got {short_repr(value)} (too large for a float)"
        ) from exc


@dataclass(frozen=True)
class BoundTerms:
    """The measured (or assumed) quantities that NS21's and ARORA19's bounds combine.

    Parameters
    ----------
    contrastive : float
        :math:`L_\\mathrm{Info}`, the InfoNCE loss with ``K`` negatives (>= 0).
    sup : float
        :math:`L^\\mu_\\mathrm{sup}`, the mean-classifier loss over all ``C`` classes, averaged
        over the draws that cover every class (>= 0; ignored when
        :math:`\\upsilon = 0`).
    sub : float
        :math:`L^\\mu_\\mathrm{sub}`, the mean-classifier loss over the classes present, averaged
        over the draws that miss a class (>= 0; ignored when ``upsilon == 1``).
    collision : float
        :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` (>= 0).
    d : float
        NS21's :math:`d(f) \\le 0`.
    upsilon : float
        :math:`\\upsilon_{K+1}` in [0, 1], coverage probability (anchor included).
    tau : float, default nan
        ARORA19's collision probability :math:`\\tau_K` in [0, 1]; ``nan`` if unknown.
    arora_sub : float, default nan
        :math:`L^\\mu_\\mathrm{sub}` over draws in which no negative shares the anchor's class
        (ARORA19); ``nan`` if unknown.
    K : int or None
        Number of negatives (:math:`K + 1` samples per draw, anchor included).
    C : int or None
        Number of latent classes.

    Raises
    ------
    ValueError
        Naming the field, when a loss is negative, non-finite or too large for
        a float (``10**400``), ``d > 0``, or a probability is outside [0, 1].
        ``tau`` and ``arora_sub`` may be ``nan`` (meaning "not measured");
        nothing else may.
    TypeError
        Naming the field, when a number field is not a real number (a
        ``bool`` or a string such as ``"1.5"`` is refused, not converted), or
        ``K``/``C`` is not an integer (Python or numpy) or ``None``.

    Examples
    --------
    >>> t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32,
    ...                d=-1.16, upsilon=0.69, K=np.int64(31), C=10)
    >>> t.K, type(t.K).__name__
    (31, 'int')
    >>> BoundTerms(10**400, 1.0, 1.0, 0.5, -0.5, upsilon=0.7)
    Traceback (most recent call last):
    ...
    ValueError: BoundTerms.contrastive must be finite, got 1000... (too large for a float)
    """

    contrastive: float
    sup: float
    sub: float
    collision: float
    d: float
    upsilon: float
    tau: float = math.nan
    arora_sub: float = math.nan
    K: int | None = None
    C: int | None = None
    _optional: tuple[str, ...] = field(default=("tau", "arora_sub"), init=False, repr=False,
                                       compare=False)

    def __post_init__(self) -> None:
        for name in _LOSS_FIELDS + _PROB_FIELDS + ("d",):
            value = _real_field(getattr(self, name), name)
            object.__setattr__(self, name, value)
            if math.isnan(value) and name in self._optional:
                continue
            if not math.isfinite(value):
                raise ValueError(f"BoundTerms.{name} must be finite, got {value!r}")
            if name in _LOSS_FIELDS and value < 0:
                raise ValueError(f"BoundTerms.{name} is a loss and must be >= 0, got {value!r}")
            if name in _PROB_FIELDS and not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"BoundTerms.{name} is a probability and must be in [0, 1], got {value!r}"
                )
            if name == "d" and value > 0:
                raise ValueError(
                    f"BoundTerms.d must be <= 0 (NS21's d(f) = E min(0, ...)), got {value!r}"
                )
        for name in ("K", "C"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
                raise TypeError(
                    f"BoundTerms.{name} must be an int or None, got {short_repr(value)}"
                )
            value = int(value)
            lo = 0 if name == "K" else 1
            if value < lo:
                raise ValueError(f"BoundTerms.{name} must be >= {lo}, got {value!r}")
            object.__setattr__(self, name, value)

    @property
    def arora_measured(self) -> bool:
        """Whether ARORA19's lower bound can be evaluated on these terms.

        ``tau`` must be measured, and ``arora_sub`` too unless :math:`\\tau = 1`
        (then its weight :math:`1 - \\tau` is 0).  ARORA19's supervised upper bound
        needs ``tau`` only.

        Examples
        --------
        >>> from dataclasses import replace
        >>> t = BoundTerms(2.0, 1.0, 1.0, 0.5, -0.5, upsilon=0.7)
        >>> t.arora_measured, replace(t, tau=1.0).arora_measured
        (False, True)
        """
        if math.isnan(self.tau):
            return False
        return self.tau == 1.0 or not math.isnan(self.arora_sub)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a flat ``dict`` of plain Python numbers."""
        out = asdict(self)
        out.pop("_optional", None)
        return out


# ---------------------------------------------------------------------------
# Measured-term bounds
# ---------------------------------------------------------------------------


class VacuousBoundWarning(RuntimeWarning):
    """A bound was asked for where it says nothing, so ``inf`` was returned.

    Raised as a warning (not an error) by the supervised upper bounds when the
    coefficient that multiplies :math:`L^\\mu_\\mathrm{sup}` is zero: :math:`\\upsilon = 0` for
    NS21 (no draw covers every class), :math:`(1 - \\tau)\\,\\upsilon = 0` for
    ARORA19.  Silence it with :func:`warnings.simplefilter` if ``inf`` is
    what you expect.
    """


def _check_terms(terms: Any, func: str) -> BoundTerms:
    if not isinstance(terms, BoundTerms):
        raise TypeError(
            f"{func}() takes a BoundTerms, got {type(terms).__name__}: {short_repr(terms)}"
        )
    return terms


def _require_measured(terms: BoundTerms, name: str, func: str) -> None:
    if math.isnan(getattr(terms, name)):
        raise ValueError(
            f"BoundTerms.{name} is nan (not measured), but {func}() needs it; "
            f"pass {name}= when building the BoundTerms"
        )


@dataclass(frozen=True)
class NS21Decomposition:
    """The four additive terms of NS21's lower bound on :math:`L_\\mathrm{Info}`.

    ``total`` is their sum, the value of :func:`ns21_lower_bound`; ``to_dict``
    gives the terms alone (not ``total``), so a stacked bar of its items adds
    up to the bound.

    Attributes
    ----------
    sup_term : float
        ``upsilon * L^mu_sup / 2``, the supervised part.
    sub_term : float
        ``(1 - upsilon) * L^mu_sub / 2``, the sub-class part.
    collision_term : float
        ``E ln(1 + Col) / 2``, the collision part.
    d : float
        NS21's :math:`d(f) \\le 0`.
    """

    sup_term: float
    sub_term: float
    collision_term: float
    d: float

    @property
    def total(self) -> float:
        """The NS21 lower bound on :math:`L_\\mathrm{Info}`: the sum of the four terms."""
        return self.sup_term + self.sub_term + self.collision_term + self.d

    def to_dict(self) -> dict[str, float]:
        """The four terms as a ``dict`` (``total`` is not included)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    def _repr_html_(self) -> str:  # notebooks: the terms and their sum, typeset
        return _display.decomposition_html(self)

    def _repr_markdown_(self) -> str:
        return _display.decomposition_markdown(self)


def decompose(terms: BoundTerms) -> NS21Decomposition:
    """Split NS21's lower bound on :math:`L_\\mathrm{Info}` into its additive terms.

    ``L_Info >= upsilon*L_sup/2 + (1-upsilon)*L_sub/2 + E ln(1+Col)/2 + d``
    (NS21, main theorem, Section 4; :ref:`math-ns21-bound`).  NS21's Table 2 prints
    the first two terms in its :math:`L^\\mu_\\mathrm{sup}` and :math:`L^\\mu_\\mathrm{sub}` rows.

    Parameters
    ----------
    terms : BoundTerms
        The measured quantities.

    Returns
    -------
    NS21Decomposition
        The terms; ``.total`` equals :func:`ns21_lower_bound`.

    Raises
    ------
    TypeError
        If *terms* is not a :class:`BoundTerms` (e.g. a ``dict`` of its fields).

    Examples
    --------
    NS21's CIFAR-10 row at :math:`K + 1 = 32` (Table 2): :math:`\\upsilon = 0.69`,
    :math:`\\upsilon L_\\mathrm{sup} = 1.26`, :math:`(1-\\upsilon) L_\\mathrm{sub} = 0.52`:

    >>> t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31,
    ...                collision=1.32, d=-1.16, upsilon=0.69, K=31, C=10)
    >>> parts = decompose(t)
    >>> round(parts.sup_term, 2), round(parts.sub_term, 2), round(parts.total, 2)
    (0.63, 0.26, 0.39)
    >>> sorted(parts.to_dict())
    ['collision_term', 'd', 'sub_term', 'sup_term']
    """
    t = _check_terms(terms, "decompose")
    sup_term, sub_term, collision_term = ns21_parts(t.upsilon, t.sup, t.sub, t.collision)
    return NS21Decomposition(sup_term=sup_term, sub_term=sub_term,
                             collision_term=collision_term, d=t.d)


def ns21_lower_bound(terms: BoundTerms) -> float:
    """NS21's lower bound on the contrastive loss :math:`L_\\mathrm{Info}`.

    .. math::

        L_\\mathrm{Info}(f) \\ge \\tfrac12\\big[\\upsilon_{K+1} L^\\mu_\\mathrm{sup}(f)
        + (1-\\upsilon_{K+1}) L^\\mu_\\mathrm{sub}(f)
        + \\mathbb{E}\\ln(1+\\mathrm{Col})\\big] + d(f)

    (NS21, main theorem, Section 4 -- the "proposed bound" of its Table 2;
    :ref:`math-ns21-bound`).  :math:`\\upsilon_{K+1}` counts the anchor: it is the
    probability that the anchor and its ``K`` negatives cover all ``C``
    classes.  With measured terms this is the estimate
    ``(S_sup + S_sub + coll) / 2 + d`` of :ref:`math-measurement`.

    Parameters
    ----------
    terms : BoundTerms
        The measured quantities (``tau`` and ``arora_sub`` are not used).

    Returns
    -------
    float
        The bound.  It never exceeds ``terms.contrastive`` when NS21's
        theorem applies to the measured encoder.

    Raises
    ------
    TypeError
        If *terms* is not a :class:`BoundTerms`.

    See Also
    --------
    decompose : the same bound, term by term.
    ns21_sup_upper_bound : the bound solved for :math:`L^\\mu_\\mathrm{sup}`.

    Examples
    --------
    NS21's CIFAR-10 row at :math:`K + 1 = 32` (Table 2) gives a bound of 0.39
    below ``L_Info = 2.02``:

    >>> t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31,
    ...                collision=1.32, d=-1.16, upsilon=0.69)
    >>> round(ns21_lower_bound(t), 2)
    0.39
    """
    t = _check_terms(terms, "ns21_lower_bound")
    return float(ns21_bound(t.upsilon, t.sup, t.sub, t.collision, t.d))


def ns21_sup_upper_bound(terms: BoundTerms) -> float:
    """NS21's bound solved for the supervised loss :math:`L^\\mu_\\mathrm{sup}`.

    .. math::

        L^\\mu_\\mathrm{sup}(f) \\le \\frac{2[L_\\mathrm{Info}(f) - d(f)]
        - (1-\\upsilon_{K+1}) L^\\mu_\\mathrm{sub}(f) - \\mathbb{E}\\ln(1+\\mathrm{Col})}
        {\\upsilon_{K+1}}

    (NS21, Eq. (10) -- the "proposed" supervised-loss bound of its Figure 1;
    :ref:`math-ns21-bound`).  The measured ``sup`` field is not used: this is what
    the other terms promise about it.

    Parameters
    ----------
    terms : BoundTerms
        The measured quantities (``sup``, ``tau`` and ``arora_sub`` are not used).

    Returns
    -------
    float
        The upper bound; ``inf`` (with a :class:`VacuousBoundWarning`) when
        :math:`\\upsilon = 0`, since then no draw covers all classes and the bound
        says nothing about :math:`L^\\mu_\\mathrm{sup}`.

    Raises
    ------
    TypeError
        If *terms* is not a :class:`BoundTerms`.

    Examples
    --------
    >>> t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32,
    ...                d=-1.16, upsilon=0.69)
    >>> round(ns21_sup_upper_bound(t), 2)
    6.55

    When no draw covers every class the bound is vacuous:

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", VacuousBoundWarning)
    ...     ns21_sup_upper_bound(BoundTerms(2.0, 0.0, 1.5, 0.7, -1.0, upsilon=0.0))
    inf
    """
    t = _check_terms(terms, "ns21_sup_upper_bound")
    if t.upsilon == 0.0:
        warnings.warn(
            "ns21_sup_upper_bound: upsilon = 0 (no draw of the anchor and its K negatives "
            "covers all classes), so NS21's bound says nothing about L^mu_sup; returning inf. "
            "Use more negatives (K + 1 >= C) for a finite bound.",
            VacuousBoundWarning,
            stacklevel=2,
        )
        return math.inf
    return float(ns21_sup_upper(t.contrastive, t.upsilon, t.sub, t.collision, t.d))


def arora_lower_bound(terms: BoundTerms) -> float:
    """ARORA19's lower bound on :math:`L_\\mathrm{Info}`, with NS21's :math:`d(f)`.

    .. math::

        L_\\mathrm{Info}(f) \\ge (1-\\tau_K) L^\\mu_\\mathrm{sub,distinct}(f)
        + \\tau_K\\,\\mathbb{E}[\\ln(1+\\mathrm{Col}) \\mid \\mathrm{Col}\\ge 1] + d(f)

    (ARORA19, Section 6.1 on multiple negatives, the decomposition behind its
    bound for the logistic loss, as restated for InfoNCE in NS21, Section 3;
    :ref:`math-arora-bound`).  Because ``ln(1 + 0) = 0``,
    ``tau_K * E[ln(1+Col) | Col >= 1] = E ln(1+Col)``, the ``collision``
    field, so the bound is ``(1 - tau) * arora_sub + collision + d``, the
    estimate ``S_arora + coll + d`` of :ref:`math-measurement` (NS21's code
    computes it so).

    Parameters
    ----------
    terms : BoundTerms
        The measured quantities; ``tau`` and ``arora_sub`` must be measured
        (``arora_sub`` may stay ``nan`` when :math:`\\tau = 1`: its weight is 0).

    Returns
    -------
    float
        The bound.

    Raises
    ------
    ValueError
        If ``terms.tau`` (or, when ``tau < 1``, ``terms.arora_sub``) is ``nan``.
    TypeError
        If *terms* is not a :class:`BoundTerms`.

    Examples
    --------
    >>> t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32,
    ...                d=-1.16, upsilon=0.69, tau=0.96, arora_sub=1.75)
    >>> round(arora_lower_bound(t), 2)
    0.23
    """
    t = _check_terms(terms, "arora_lower_bound")
    _require_measured(t, "tau", "arora_lower_bound")
    if not t.arora_measured:
        _require_measured(t, "arora_sub", "arora_lower_bound")
    # tau == 1: the sub-class term has weight 0, whether or not arora_sub was measured.
    sub = 0.0 if t.tau == 1.0 else t.arora_sub
    return float(arora_bound(t.tau, sub, t.collision, t.d))


def arora_sup_upper_bound(terms: BoundTerms) -> float:
    """ARORA19's bound solved for the supervised loss :math:`L^\\mu_\\mathrm{sup}`.

    .. math::

        L^\\mu_\\mathrm{sup}(f) \\le \\frac{L_\\mathrm{Info}(f) - \\mathbb{E}\\ln(1+\\mathrm{Col})
        - d(f)}{(1-\\tau_K)\\,\\upsilon_{K+1}}

    ARORA19 (Section 6.1, multiple negatives) bound the sub-class loss over draws
    free of collisions by ``(L - tau E[ln(1+Col) | Col >= 1] - d) / (1 - tau)``
    (NS21, Eq. (8)); a draw must also cover every class for that loss to be
    :math:`L^\\mu_\\mathrm{sup}`, which costs the factor :math:`\\upsilon_{K+1}`, as in BAO22's
    comparison of the bounds (its Figure comparing upper bounds; the table of
    :ref:`math-comparison`, here with ``d``).  The coefficient :math:`1 / ((1 - \\tau_K)\\,\\upsilon)`
    grows exponentially in ``K``: the contradiction NS21 resolves.

    Parameters
    ----------
    terms : BoundTerms
        The measured quantities; ``tau`` must be measured (``arora_sub`` and
        ``sup`` are not used).

    Returns
    -------
    float
        The upper bound; ``inf`` (with a :class:`VacuousBoundWarning`) when
        :math:`\\tau = 1` or :math:`\\upsilon = 0`.

    Raises
    ------
    ValueError
        If ``terms.tau`` is ``nan``.
    TypeError
        If *terms* is not a :class:`BoundTerms`.

    Notes
    -----
    NS21's released code divides by :math:`1 - \\tau` only, after also subtracting
    the part of ARORA19's sub-class loss measured on draws that miss a class;
    a :class:`BoundTerms` does not carry that split, so the coverage factor
    :math:`\\upsilon` is used instead, as BAO22 do.

    Examples
    --------
    >>> t = BoundTerms(contrastive=2.02, sup=1.83, sub=1.68, collision=1.32,
    ...                d=-1.16, upsilon=0.69, tau=0.96)
    >>> round(arora_sup_upper_bound(t), 1)
    67.4
    """
    t = _check_terms(terms, "arora_sup_upper_bound")
    _require_measured(t, "tau", "arora_sup_upper_bound")
    denominator = (1.0 - t.tau) * t.upsilon
    if denominator == 0.0:
        why = "tau = 1 (every anchor's class repeats among its negatives)" if t.tau == 1.0 else (
            "upsilon = 0 (no draw covers all classes)"
        )
        warnings.warn(
            f"arora_sup_upper_bound: {why}, so ARORA19's bound says nothing about L^mu_sup; "
            "returning inf.",
            VacuousBoundWarning,
            stacklevel=2,
        )
        return math.inf
    return float(arora_sup_upper(t.contrastive, t.tau, t.upsilon, t.collision, t.d))


# ---------------------------------------------------------------------------
# Theoretical curves
# ---------------------------------------------------------------------------

#: Checkers of the curves' real arguments (see ``couponbound._vectorize.arguments``).
_LOSS = partial(check_real_array, minimum=0.0, why=" (a loss)")
_D = partial(check_real_array, maximum=0.0, why=" (NS21's d(f) = E min(0, ...))")


def _vacuous(value: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    """*value* (a quotient by *den*) where ``den > 0``; ``+inf`` (a vacuous bound) where ``den == 0``."""
    return np.where(den == 0, np.inf, value)


def _log_cosh(x: float) -> float:
    """``ln cosh(x)`` without overflow."""
    x = abs(x)
    return x + math.log1p(math.exp(-2.0 * x)) - math.log(2.0)


def _theory_terms(
    K: Negatives, prior: Prior, *, tau: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64]]:
    """:math:`\\upsilon_{K+1}`, :math:`\\tau_K` (``None`` unless *tau*) and
    :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` for the prior.

    Exact floats, each of the shape of ``K``; ``K`` was validated once, by
    the bound's ``evaluate_broadcast``, and is not checked again.
    """
    ups = np.asarray(coverage_prob(K, prior), dtype=np.float64)
    tau_K = np.asarray(collision_prob(K, prior), dtype=np.float64) if tau else None
    coll = np.asarray(expected_log_collision(K, prior), dtype=np.float64)
    return ups, tau_K, coll


def _no_collision_prob(K: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``1 - tau_K = sum_c rho_c (1 - rho_c)^K``, computed directly.

    ``1 - collision_prob(...)`` would round to 0 once :math:`\\tau_K` rounds to 1
    (``C = 10, K = 999``: ``1 - tau = 1.7e-46``), turning ARORA19's and
    ASH22's finite bounds into ``inf``.
    """
    Kf = K.astype(np.float64)
    vals, mult = prior.groups()
    out = np.zeros_like(Kf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for v, m in zip(vals, mult, strict=True):
            keep = np.exp(Kf * np.log1p(-v))  # (1 - v)^K; 0 for v = 1 and K >= 1
            out = out + m * v * np.where(Kf == 0, 1.0, keep)
    return np.clip(out, 0.0, 1.0)


def _repr_value(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=4, threshold=6, edgeitems=2, separator=", ")
    return repr(value)


#: The values of :attr:`SupUpperBounds.setting`: which form of the bounds was used.
SETTING_BAO22 = "BAO22 (d = 0)"
SETTING_BAO22_WITH_SUB = "BAO22 (d = 0) with L_sub"
SETTING_WITH_D = "with d"
SETTING_WITH_D_AND_SUB = "with d and L_sub"


def _setting(d_zero: bool, with_sub: bool) -> str:
    """The :attr:`SupUpperBounds.setting` for ``d`` zero everywhere or not, ``sub`` given or not."""
    if d_zero:
        return SETTING_BAO22_WITH_SUB if with_sub else SETTING_BAO22
    return SETTING_WITH_D_AND_SUB if with_sub else SETTING_WITH_D


class RestatedBoundWarning(UserWarning):
    """Upper bounds on :math:`L^\\mu_\\mathrm{sup}` were evaluated in BAO22's setting (:math:`d = 0`).

    Issued by :func:`sup_upper_bounds` and
    :func:`couponbound.paper.plots.plot_sup_upper_bounds` when a positive
    contrastive loss is passed and NS21's :math:`d(f)` is left at 0.  The NS21,
    ARORA19 and ASH22 rows are then BAO22's restatements of those bounds
    (:ref:`math-comparison`), which hold where the positive sample is drawn
    from the anchor's class, so that :math:`d = 0`.  For a loss measured on an
    encoder trained with data augmentation (``d < 0``) they are not
    guaranteed to be upper bounds: on NS21's Table 2 row for CIFAR-10 the NS21
    row gives 3.94 where the valid bound is 7.30 (6.55 with :math:`L^\\mu_\\mathrm{sub}`).

    Pass the measured ``d=`` (and ``sub=``), or ``warn=False`` when BAO22's
    setting is the one you mean, e.g. for BAO22's minimum
    :func:`bao22_min_contrastive` or the loss ``ln(1 + K)`` of an encoder
    that maps everything to one point (both have :math:`d = 0`).
    """


def _restated_message(func: str, setting: str = SETTING_BAO22) -> str:
    """The :class:`RestatedBoundWarning` text; it names the *setting* the result carries."""
    rows = ("the ARORA19 and ASH22 rows are BAO22's restatements and the NS21 row uses L_sub "
            "with d = 0" if setting == SETTING_BAO22_WITH_SUB
            else "the NS21, ARORA19 and ASH22 rows are BAO22's restatements")
    return (
        f"{func}: d was left at 0, so {rows} (setting {setting!r}), upper bounds only when "
        "positives are drawn from the anchor's class; for a loss measured on an "
        "augmentation-trained encoder pass the measured d= (and sub=), or warn=False if "
        "BAO22's setting is meant"
    )


@dataclass(frozen=True, repr=False)
class SupUpperBounds:
    """Upper bounds on :math:`L^\\mu_\\mathrm{sup}` implied by a contrastive loss, side by side.

    Every numeric field is a ``float`` when the inputs were scalars, else an
    ndarray of their broadcast shape.  ``inf`` marks a vacuous bound (e.g.
    :math:`\\upsilon_{K+1} = 0` for :math:`K + 1 < C`); no field is ever ``nan``.

    Attributes
    ----------
    K : int or ndarray of int
        Number of negatives (anchor not included).
    contrastive : float or ndarray
        The contrastive loss ``L`` the bounds were evaluated at.
    upsilon, tau, collision : float or ndarray
        :math:`\\upsilon_{K+1}` (anchor included), :math:`\\tau_K` and
        :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})`.
    arora : float or ndarray
        ARORA19: :math:`(L - \\mathrm{coll} - d) / ((1 - \\tau)\\,\\upsilon)`.
    ns21 : float or ndarray
        NS21: :math:`(2[L - d] - (1 - \\upsilon) L_\\mathrm{sub} - \\mathrm{coll}) / \\upsilon`, with
        ``L_sub = 0`` when ``sub`` was not given.
    ash : float or ndarray
        ASH22: ``2 max(1, 2(C-1)H_{C-1}/K) (L - coll - d) / (1 - tau)``.
    bao : float or ndarray
        BAO22's upper bound :math:`L + \\Delta_U` (BAO22's setting, whatever ``d``).
    bao_lower : float or ndarray
        BAO22's lower bound :math:`L + \\Gamma` (``<= bao`` always).
    d : float or ndarray
        NS21's :math:`d(f) \\le 0` the bounds were evaluated with.
    sub : float, ndarray or None
        :math:`L^\\mu_\\mathrm{sub}` used by the NS21 row; ``None`` when not given.
    setting : str
        The form used, from ``d`` (0 everywhere or not) and ``sub`` (given or
        not): ``"BAO22 (d = 0)"`` (BAO22's restatements), ``"BAO22 (d = 0)
        with L_sub"`` (the same, except that the NS21 row uses :math:`L^\\mu_\\mathrm{sub}`),
        ``"with d"`` or ``"with d and L_sub"``.  The
        :class:`RestatedBoundWarning` of a :math:`d = 0` setting names it.
    """

    K: int | NDArray[np.int64]
    contrastive: FloatOrArray
    upsilon: FloatOrArray
    tau: FloatOrArray
    collision: FloatOrArray
    arora: FloatOrArray
    ns21: FloatOrArray
    ash: FloatOrArray
    bao: FloatOrArray
    bao_lower: FloatOrArray
    d: FloatOrArray
    sub: FloatOrArray | None
    setting: str

    def to_dict(self) -> dict[str, Any]:
        """The fields as a ``dict`` of Python objects (arrays become lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def __repr__(self) -> str:
        body = ", ".join(f"{f.name}={_repr_value(getattr(self, f.name))}" for f in fields(self))
        return f"SupUpperBounds({body})"


def _check_B(value: Any) -> float:
    """BAO22's feature-norm bound ``B``: a finite real number > 0 (not a bool)."""
    return check_real(value, "B", positive=True)


@fill_doc
def sup_upper_bounds(
    contrastive: ArrayLike,
    K: ArrayLike,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    d: ArrayLike = 0.0,
    sub: ArrayLike | None = None,
    B: float = 1.0,
    warn: bool = True,
) -> SupUpperBounds:
    """The upper bounds on :math:`L^\\mu_\\mathrm{sup}` that a contrastive loss implies, by paper.

    With :math:`L` the contrastive loss,
    :math:`\\mathrm{coll} = \\mathbb{E}\\ln(1+\\mathrm{Col})`, :math:`\\tau = \\tau_K`
    and :math:`\\upsilon = \\upsilon_{K+1}` (anchor included) computed exactly for the
    class prior (:ref:`math-coverage`, :ref:`math-collisions`), NS21's
    :math:`d = d(f) \\le 0`, :math:`L_\\mathrm{sub} = L^\\mu_\\mathrm{sub}` and ``B`` the feature norm:

    ============  =========================================================
    ARORA19       :math:`(L - \\mathrm{coll} - d) / ((1 - \\tau)\\,\\upsilon)`
    NS21          :math:`(2[L - d] - (1 - \\upsilon) L_\\mathrm{sub} - \\mathrm{coll}) / \\upsilon`
    ASH22         :math:`2 \\max(1, 2(C-1) H_{C-1} / K)\\,(L - \\mathrm{coll} - d) / (1 - \\tau)`
    BAO22 upper   :math:`L + \\Delta_U`, :math:`\\Delta_U = \\ln(\\rho_{\\max} C^2 \\cosh^2(B^2) / K)`
    BAO22 lower   :math:`L + \\Gamma`, :math:`\\Gamma = H(\\rho) + \\ln K - 2 \\ln(1+K) - 2 \\ln\\cosh(B^2)`
    ============  =========================================================

    Each row uses the most complete form the inputs allow.  With :math:`d = 0`
    and no ``sub`` these are the rows of BAO22's comparison (its figure of
    upper bounds against ``K``; the table of :ref:`math-comparison`), which
    hold in BAO22's setting only: positives drawn from the anchor's class, so
    :math:`d = 0`.  A loss measured on an encoder trained with augmentations
    needs its measured ``d`` (:class:`RestatedBoundWarning` says so when
    ``d`` is left at 0), and ``sub`` makes NS21's row tighter: with both, it
    is NS21's Eq. (10), :func:`ns21_sup_upper_bound` on the same terms.
    Leaving :math:`L_\\mathrm{sub}` out (``sub=None``) keeps a valid, looser bound, since
    :math:`(1 - \\upsilon) L_\\mathrm{sub} \\ge 0`.  ARORA19's row is its Section 6.1 bound /
    NS21 Eq. (8) with the coverage factor (see :func:`arora_sup_upper_bound`),
    ASH22's is its collision-coverage bound for uniform classes (ARORA19's
    decomposition, so ``d`` enters the same way), BAO22's are its surrogate
    upper and lower bounds, stated in BAO22's setting (``d`` does not enter).
    The constants were checked against BAO22's released scripts
    ``compare_upper_bound.py`` and ``plot_k_msuploss.py``; the former
    approximates :math:`H_{C-1}` by ``ln(C-1) + 0.577``, here :math:`H_{C-1}` is
    exact.  (Equation numbers of NS21 follow its Figure 1 caption; those of
    the other papers could not be checked against their text and are given
    by section.)

    Parameters
    ----------
    contrastive : float or array_like
        The contrastive loss :math:`L \\ge 0`; broadcast against ``K``, ``d`` and ``sub``.
    {docs.negatives}
    {docs.prior_independent}
        ASH22 state their bound for uniform classes; its constant is applied
        as is to a non-uniform prior.
    d : float or array_like, default 0.0
        NS21's :math:`d(f) \\le 0` of the encoder (:ref:`math-losses`); 0 is
        BAO22's setting.
    sub : float or array_like, optional
        :math:`L^\\mu_\\mathrm{sub} \\ge 0`, the mean-classifier loss over the draws that miss
        a class; used by NS21's row only.
    B : float, default 1.0
        A bound on the feature norm in BAO22's (temperature-free) loss.
        For L2-normalised features at temperature ``t`` use ``t ** -0.5``.
    warn : bool, default True
        Issue a :class:`RestatedBoundWarning` when ``d`` is 0 everywhere and
        some ``L > 0``.

    Returns
    -------
    SupUpperBounds
        Floats for scalar input, arrays otherwise; ``inf`` where a bound is
        vacuous (:math:`\\upsilon = 0`, :math:`\\tau = 1`, ``K = 0``), never ``nan``;
        ``.setting`` names the form used.

    Raises
    ------
    ValueError
        Naming the argument: negative or non-finite ``contrastive`` or
        ``sub``, ``d > 0``, ``K < 0``, a bad prior (or one without
        replacement), ``B <= 0``, shapes that do not broadcast.
    TypeError
        For arguments of the wrong type.

    Warns
    -----
    RestatedBoundWarning
        ``d`` left at 0 with a positive contrastive loss (unless ``warn=False``).

    Examples
    --------
    NS21's Table 2 row for CIFAR-10 (:math:`K + 1 = 32`: :math:`L = 2.02`,
    :math:`d = -1.16`, :math:`(1 - \\upsilon) L_\\mathrm{sub} = 0.52`), with the theoretical
    :math:`\\upsilon` and collision term:

    >>> b = sup_upper_bounds(2.02, 31, 10, d=-1.16, sub=0.52 / 0.31)
    >>> b.setting, round(b.upsilon, 3), round(b.ns21, 2)
    ('with d and L_sub', 0.691, 6.55)
    >>> round(sup_upper_bounds(2.02, 31, 10, d=-1.16).ns21, 2)
    7.3
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     b = sup_upper_bounds(2.02, 31, 10)
    >>> b.setting, round(b.ns21, 2), caught[0].category.__name__
    ('BAO22 (d = 0)', 3.94, 'RestatedBoundWarning')
    >>> b.bao_lower <= b.bao
    True
    >>> sup_upper_bounds([2.0, 3.0], [31, 127], 10, warn=False).arora.shape
    (2,)
    """
    Bf = _check_B(B)
    check_flag(warn, "warn")
    named: dict[str, Any] = {"contrastive": (contrastive, _LOSS), "K": (K, negatives),
                             "d": (d, _D)}
    if sub is not None:
        named["sub"] = (sub, _LOSS)
    return evaluate_broadcast(partial(_sup_upper_kernel, B=Bf, warn=warn),
                              (C, probs, counts, None), **named)


def _sup_upper_kernel(args: dict[str, Any], shape: tuple[int, ...], prior: Prior, *, B: float,
                      warn: bool) -> SupUpperBounds:
    """:func:`sup_upper_bounds` on its validated arguments (see ``evaluate_broadcast``)."""
    require_replacement(prior, "sup_upper_bounds")
    L, Kn, d_a = args["contrastive"], args["K"], args["d"]
    sub_a = args.get("sub")
    d_zero = not np.any(d_a != 0)
    setting = _setting(d_zero, sub_a is not None)
    if warn and d_zero and np.any(L > 0):
        # stacklevel 4: this kernel, evaluate_broadcast, sup_upper_bounds, the caller
        warnings.warn(_restated_message("sup_upper_bounds", setting), RestatedBoundWarning,
                      stacklevel=4)
    Karr = Kn.array
    ups, tau, coll = _theory_terms(Kn, prior)
    Kf = Karr.astype(np.float64)
    Lb = np.broadcast_to(L, shape)
    miss = _no_collision_prob(Karr, prior)  # 1 - tau, without cancellation
    sub_b = np.zeros(()) if sub_a is None else sub_a

    c = prior.C
    h = harmonic(c - 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # ARORA19's coefficient 1 / ((1 - tau) upsilon), with 1 - tau passed inside
        # upsilon (tau = 0) so that it keeps its digits when tau rounds to 1.
        arora = _vacuous(arora_sup_upper(Lb, 0.0, miss * ups, coll, d_a), miss * ups)
        ns21 = _vacuous(ns21_sup_upper(Lb, ups, sub_b, coll, d_a), ups)
        # K = 0: ASH22's factor 2 max(1, 2 (C-1) H_{C-1} / K) is infinite (2 for C = 1)
        factor = np.where(Kf > 0, ash22_factor(c, h, np.where(Kf > 0, Kf, 1.0), np.maximum),
                          np.inf if c > 1 else 2.0)
        ash = np.where(np.isinf(factor), np.inf,
                       _vacuous(ash22_sup_upper(Lb, miss, coll, d_a, factor), miss))

    p = prior.probs
    log_rho_max_c2 = math.log(c) if prior.is_uniform else math.log(float(p.max())) + 2.0 * math.log(c)
    entropy = math.log(c) if prior.is_uniform else float(-np.sum(p * np.log(p)))
    lc = _log_cosh(B * B)
    with np.errstate(divide="ignore"):
        logK = np.log(Kf)
    delta_u = bao22_upper_gap(log_rho_max_c2, lc, logK)  # +inf at K = 0
    gamma = bao22_lower_gap(entropy, logK, np.log1p(Kf), lc)  # -inf at K = 0

    k_out: int | NDArray[np.int64] = (
        int(Karr) if shape == () else np.broadcast_to(Karr, shape).copy()
    )
    out = partial(finish_shape, shape=shape)
    return SupUpperBounds(
        K=k_out, contrastive=out(Lb), upsilon=out(ups), tau=out(tau), collision=out(coll),
        arora=out(arora), ns21=out(ns21), ash=out(ash), bao=out(Lb + delta_u),
        bao_lower=out(Lb + gamma), d=out(d_a), sub=None if sub_a is None else out(sub_a),
        setting=setting,
    )


# ---------------------------------------------------------------------------
# BAO22's minimum losses
# ---------------------------------------------------------------------------

#: :func:`bao22_min_contrastive` sums over the ``K + 1`` values of ``Col``:
#: at most this ``K``, and this many terms over all distinct ``K`` of one call.
_BAO22_MAX_K = 10**7
_BAO22_MAX_TERMS = 3 * 10**7


def _bao22_contrastive_kernel(n: NDArray[np.int64], prior: Prior, e: float) -> NDArray[np.float64]:
    """``E ln(1 + Col + (K - Col) e)`` for each ``K`` in *n*, over the exact pmf of :math:`\\mathrm{Col}`.

    *n* holds the distinct ``K`` of one call, sorted; their size is checked
    here, on the values ``evaluate`` validated, so ``K`` is validated once.
    """
    if int(n[-1]) > _BAO22_MAX_K or int(np.sum(n + 1)) > _BAO22_MAX_TERMS:
        raise ValueError(
            f"K too large for bao22_min_contrastive, got K up to {int(n[-1])} "
            f"({int(np.sum(n + 1))} terms over the distinct K): it sums over the K + 1 "
            f"values of Col and allows K <= {_BAO22_MAX_K:.0e} ({_BAO22_MAX_TERMS:.0e} terms "
            "over the distinct K of one call); for larger K, E_y ln(1 + K e^(-2 B^2) + K rho_y "
            "(1 - e^(-2 B^2))) is an upper bound within O(1/K)"
        )
    out = np.empty(n.size)
    for i, k in enumerate(n.tolist()):
        # K validated once already: collision_pmf takes the Negatives as they are
        once = cast(int, Negatives(np.asarray(k, dtype=np.int64), scalar=True))
        pmf = collision_pmf(once, prior)
        m = np.arange(k + 1, dtype=np.float64)
        out[i] = math.fsum(pmf * bao22_col_loss(m, k, e, np.log1p))
    # f(m) = ln(1 + m + (K - m) e) runs from ln(1 + K e) (m = 0) to ln(1 + K) (m = K)
    kf = n.astype(np.float64)
    return np.clip(out, np.log1p(kf * e), np.log1p(kf))


@overload
def bao22_min_contrastive(
    K: ScalarIn,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    B: float = 1.0,
) -> float: ...


@overload
def bao22_min_contrastive(
    K: ArrayIn,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    B: float = 1.0,
) -> FloatArray: ...


@overload
def bao22_min_contrastive(
    K: ArrayLike,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    B: float = 1.0,
) -> FloatOrArray: ...


@fill_doc
def bao22_min_contrastive(
    K: ArrayLike,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    B: float = 1.0,
) -> FloatOrArray:
    """BAO22's minimum contrastive loss :math:`R^*_\\mathrm{cont}(K)`.

    .. math::

        R^*_\\mathrm{cont}(K) = \\mathbb{E}_{y \\sim \\rho}\\,
        \\mathbb{E}_{m \\sim \\mathrm{Bin}(K, \\rho_y)}
        \\ln\\bigl(1 + m + (K - m)\\, e^{-2B^2}\\bigr)

    the smallest InfoNCE loss (temperature-free, features of norm at most
    ``B``, positives drawn from the anchor's class) that any encoder can
    reach with ``K`` negatives: each of the ``m`` negatives of the anchor's
    class costs at least ``e^0 = 1`` inside the logarithm and every other one
    at least :math:`e^{-2B^2}` (BAO22, its ``scripts/plot_k_msuploss.py``, which
    evaluates it for uniform classes, ``m ~ Bin(K, 1/C)``; for a non-uniform
    prior the anchor's class ``y`` is drawn from :math:`\\rho`).  ``m`` is NS21's
    :math:`\\mathrm{Col}` (:ref:`math-collisions`), so the expectation is a sum over the
    pmf of :func:`couponbound.collision_pmf` (scipy's binomial pmf, full
    relative precision) in ``math.fsum``: relative error about ``1e-15``.
    See :ref:`math-comparison`.

    Parameters
    ----------
    K : int or array_like of int
        Number of negatives, ``0 <= K <= 10**7`` (at most ``3 * 10**7``
        summed over the distinct values of one call).
    {docs.prior_independent}
    B : float, default 1.0
        The feature-norm bound (BAO22's figure uses 1).

    Returns
    -------
    float or ndarray
        :math:`R^*_\\mathrm{cont}` in ``[ln(1 + K e^{-2B^2}), ln(1 + K)]``: a float for
        scalar ``K``, else an array of its shape.

    Raises
    ------
    ValueError
        Naming the argument: ``K < 0`` or above the limits (for larger ``K``,
        :math:`\\mathbb{E}_y \\ln(1 + K e^{-2B^2} + K \\rho_y (1 - e^{-2B^2}))` is an upper
        bound within ``O(1/K)``, by Jensen), a bad prior or one without
        replacement, ``B <= 0``.
    TypeError
        For arguments of the wrong type.

    See Also
    --------
    bao22_min_supervised : BAO22's minimum supervised loss.
    couponbound.symbolic.bao22_min_contrastive_expr : the sympy form.

    Examples
    --------
    >>> round(bao22_min_contrastive(0, 10), 12), round(bao22_min_contrastive(31, 10), 4)
    (0.0, 2.0472)
    >>> bao22_min_contrastive([1, 10, 99], 100).round(4)
    array([0.1326, 0.8868, 2.7233])
    """
    prior = as_prior(C, probs=probs, counts=counts)
    require_replacement(prior, "bao22_min_contrastive")
    Bf = _check_B(B)
    e = bao22_weight(Bf, math.exp)
    return evaluate(partial(_bao22_contrastive_kernel, e=e), K, prior, negatives_only=True)


def bao22_min_supervised(
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    B: float = 1.0,
) -> float:
    """BAO22's minimum mean-classifier loss :math:`R^*_{\\mu\\text{-supv}} = \\ln(1 + (C - 1) e^{-2B^2})`.

    With features and class means of norm at most ``B``, each of the
    ``C - 1`` wrong classes gets at least :math:`e^{-2B^2}` times the weight of
    the right one in the mean classifier's softmax, so no encoder's
    supervised loss goes below this (BAO22, ``scripts/plot_k_msuploss.py``,
    for uniform classes; :ref:`math-comparison`).  The argument holds sample
    by sample, whatever the sample's class, so for a non-uniform prior the
    value is the same: it depends on the prior only through ``C``.

    Parameters
    ----------
    C : int or Prior, optional
        Number of classes or a :class:`~couponbound.Prior`, unless *probs* or
        *counts* is given.
    probs, counts : array_like, optional
        A class prior (only its number of classes matters).
    B : float, default 1.0
        The feature-norm bound.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        Naming the argument: a bad prior, ``B <= 0`` or not a real number.

    Examples
    --------
    >>> round(bao22_min_supervised(100), 4), round(bao22_min_supervised(50), 4)
    (2.6671, 2.0323)
    >>> bao22_min_supervised(1)
    0.0
    """
    prior = as_prior(C, probs=probs, counts=counts)
    Bf = _check_B(B)
    return float(bao22_min_sup_loss(prior.C, bao22_weight(Bf, math.exp), math.log1p))


def _asymptotic_upsilon(K: Negatives, prior: Prior, regime: str) -> NDArray[np.float64]:
    """Large-K (tail) or large-C (Gumbel / Poisson) form of :math:`\\upsilon_{K+1}`."""
    if regime == "large_K":
        return np.asarray(tail_coverage(K, prior), dtype=np.float64)
    if prior.is_uniform:
        return np.asarray(gumbel_coverage(K, prior.C), dtype=np.float64)
    return np.asarray(poisson_coverage(K, prior), dtype=np.float64)


def _asymptotic_collision(K: NDArray[np.int64], prior: Prior) -> NDArray[np.float64]:
    """``sum_c rho_c ln(1 + K rho_c)``; :math:`\\ln(1 + K/C)` for the uniform prior."""
    Kf = K.astype(np.float64)
    if prior.is_uniform:
        return np.log1p(Kf / prior.C)
    vals, mult = prior.groups()
    out = np.zeros_like(Kf)
    for v, m in zip(vals, mult, strict=True):
        out = out + m * v * np.log1p(Kf * v)
    return out


@overload
def ns21_bound_curve(
    sup: ScalarIn,
    sub: ScalarIn,
    d: ScalarIn,
    K: ScalarIn,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    replacement: bool | None = None,
    form: Literal["exact", "asymptotic"] = "exact",
    regime: Literal["large_K", "large_C"] = "large_K",
) -> float: ...


@overload
def ns21_bound_curve(
    sup: ArrayLike,
    sub: ArrayLike,
    d: ArrayLike,
    K: ArrayIn,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    replacement: bool | None = None,
    form: Literal["exact", "asymptotic"] = "exact",
    regime: Literal["large_K", "large_C"] = "large_K",
) -> FloatArray: ...


@overload
def ns21_bound_curve(
    sup: ArrayLike,
    sub: ArrayLike,
    d: ArrayLike,
    K: ArrayLike,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    replacement: bool | None = None,
    form: Literal["exact", "asymptotic"] = "exact",
    regime: Literal["large_K", "large_C"] = "large_K",
) -> FloatOrArray: ...


@fill_doc
def ns21_bound_curve(
    sup: ArrayLike,
    sub: ArrayLike,
    d: ArrayLike,
    K: ArrayLike,
    C: int | Prior | None = None,
    *,
    probs: ArrayLike | None = None,
    counts: ArrayLike | None = None,
    replacement: bool | None = None,
    form: Literal["exact", "asymptotic"] = "exact",
    regime: Literal["large_K", "large_C"] = "large_K",
) -> FloatOrArray:
    """NS21's lower bound on :math:`L_\\mathrm{Info}` as the number of negatives ``K`` varies.

    .. math::

        B(K) = \\tfrac12\\big[\\upsilon_{K+1} L^\\mu_\\mathrm{sup}
        + (1-\\upsilon_{K+1}) L^\\mu_\\mathrm{sub} + \\mathbb{E}\\ln(1+\\mathrm{Col})\\big] + d

    (NS21, main theorem, Section 4; :ref:`math-ns21-bound`) with the losses and
    ``d`` held fixed and :math:`\\upsilon_{K+1}` (anchor included) and
    :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` taken from theory for the class prior.

    ``form="exact"`` computes both exactly (:func:`couponbound.coverage.coverage_prob`,
    :func:`couponbound.collision.expected_log_collision`).  ``form="asymptotic"``
    replaces them by their leading-order closed forms (for :math:`\\mathbb{E}\\ln(1+\\mathrm{Col})` the
    leading term only, not the delta-method series of
    ``expected_log_collision(method="asymptotic")``):

    * ``E ln(1+Col) -> sum_c rho_c ln(1 + K rho_c)``, :math:`\\ln(1 + K/C)` for
      uniform classes.  By Jensen it never falls below the exact value, and
      by ``ln u >= 1 - 1/u`` with ``E[1/(1+X)] = (1-(1-p)^{K+1})/((K+1)p)``
      for :math:`X \\sim \\mathrm{Binomial}(K, p)` it exceeds it by at most ``(C-1)/(K+1)``
      (asymptotically ``(C-1)/(2K)`` for the uniform prior).
    * ``regime="large_K"``: ``upsilon_{K+1} -> max(0, 1 - S1)``,
      ``S1 = sum_c (1 - rho_c)^{K+1}`` (the tail of :ref:`math-asymptotic`,
      :func:`couponbound.asymptotic.tail_coverage`); by
      Bonferroni the error is at most ``S2 = sum_{c<c'} (1 - rho_c - rho_c')^{K+1}``,
      which decays like ``(1 - 2 rho_min)^{K+1}``.
    * ``regime="large_C"``: ``upsilon_{K+1} -> exp(-C e^{-(K+1)/C})``
      (ER61's Gumbel limit, :func:`couponbound.asymptotic.gumbel_coverage`) for
      uniform classes, ``prod_c (1 - e^{-(K+1) rho_c})`` (Poissonisation,
      :func:`couponbound.asymptotic.poisson_coverage`) otherwise; a limit in
      ``C``, accurate to ``O(ln C / C)``
      around the bulk ``K + 1 ~ C ln C``, not a bound.

    Hence, in the large-K regime, the asymptotic bound ``B_a`` satisfies

    .. math::

        |B_a(K) - B(K)| \\le \\tfrac12 S_2 |L^\\mu_\\mathrm{sup} - L^\\mu_\\mathrm{sub}|
        + \\tfrac{C-1}{2(K+1)},

    and ``B(K) = ½[L^mu_sup + ln(1 + K/C)] + d + O(C/K)`` for uniform classes.

    Parameters
    ----------
    sup, sub : float or array_like
        :math:`L^\\mu_\\mathrm{sup}` and :math:`L^\\mu_\\mathrm{sub}` (``>= 0``), broadcast against ``K``.
    d : float or array_like
        NS21's :math:`d(f) \\le 0`.
    {docs.negatives}
    {docs.prior}
        Without replacement: ``form="exact"`` only.
    form : {"exact", "asymptotic"}
        Exact terms, or the closed forms above.
    regime : {"large_K", "large_C"}
        Which asymptotic form of :math:`\\upsilon` to use (``form="asymptotic"`` only).

    Returns
    -------
    float or ndarray
        The bound: a float for scalar input, an array of the broadcast shape
        otherwise.

    Raises
    ------
    ValueError
        Naming the argument: a negative or non-finite loss, ``d > 0``,
        ``K < 0``, a bad prior, an unknown ``form`` or ``regime``, a prior
        without replacement with ``form="asymptotic"``.
    TypeError
        For arguments of the wrong type.

    Examples
    --------
    NS21's CIFAR-10 losses at :math:`K + 1 = 32` (Table 2) with the theoretical
    :math:`\\upsilon_{32} = 0.691` and :math:`\\mathbb{E}\\ln(1+\\mathrm{Col}) = 1.317`:

    >>> round(ns21_bound_curve(1.83, 1.68, -1.16, 31, 10), 2)
    0.39
    >>> exact = ns21_bound_curve(1.8, 1.7, -1.0, [100, 10_000], 10)
    >>> asym = ns21_bound_curve(1.8, 1.7, -1.0, [100, 10_000], 10, form="asymptotic")
    >>> bool(abs(asym[1] - exact[1]) < abs(asym[0] - exact[0]))
    True
    """
    if form not in ("exact", "asymptotic"):
        raise ValueError(f"form must be 'exact' or 'asymptotic', got {short_repr(form)}")
    if regime not in ("large_K", "large_C"):
        raise ValueError(f"regime must be 'large_K' or 'large_C', got {short_repr(regime)}")
    kernel = partial(_ns21_curve_kernel, form=form, regime=regime)
    return evaluate_broadcast(kernel, (C, probs, counts, replacement), sup=(sup, _LOSS),
                              sub=(sub, _LOSS), d=(d, _D), K=(K, negatives))


def _ns21_curve_kernel(args: dict[str, Any], shape: tuple[int, ...], prior: Prior, *, form: str,
                       regime: str) -> FloatOrArray:
    """:func:`ns21_bound_curve` on its validated arguments (see ``evaluate_broadcast``)."""
    Kn = args["K"]
    if form == "asymptotic":
        require_replacement(prior, "ns21_bound_curve(form='asymptotic')")
    if form == "exact":
        ups, _, coll = _theory_terms(Kn, prior, tau=False)
    else:
        ups = _asymptotic_upsilon(Kn, prior, regime)
        coll = _asymptotic_collision(Kn.array, prior)
    return finish_shape(ns21_bound(ups, args["sup"], args["sub"], coll, args["d"]), shape)
