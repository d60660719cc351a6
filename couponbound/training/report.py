"""BoundReport: what a :class:`~couponbound.training.monitor.BoundMonitor` measured.

A report holds every term of NS21's bound as measured (:ref:`math-measurement`),
the NS21 and ARORA19 bounds on the contrastive loss and the supervised-loss
upper bounds they imply (:ref:`math-bounds`), the theoretical values of the
measured rates under the class prior, and standard errors.
:meth:`BoundReport.from_terms` builds one from a
:class:`~couponbound.bounds.BoundTerms` -- what the monitor does at the end of
:meth:`~couponbound.training.monitor.BoundMonitor.compute`, and what tables
of measured or published terms need.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from couponbound import _display
from couponbound._display import fmt
from couponbound._prior import Prior
from couponbound._validate import check_positive_int, short_repr
from couponbound.bounds import (
    BoundTerms,
    VacuousBoundWarning,
    arora_lower_bound,
    arora_sup_upper_bound,
    ns21_lower_bound,
    ns21_sup_upper_bound,
)
from couponbound.training._inputs import select_keys
from couponbound.training._theory import occupancy_values, theory_values

__all__ = ["LOG_KEYS", "REPORT_FIELDS", "BoundReport"]


@dataclass(frozen=True, repr=False)
class BoundReport:
    """Everything the monitor measured, with NS21's and ARORA19's bounds.

    The first ten fields carry the names of :class:`couponbound.bounds.BoundTerms`
    (see :attr:`terms`).  Losses are per-anchor means; ``*_se`` are standard
    errors over batches (delta method for ratio estimators; ``nan`` with fewer
    than two batches or an empty denominator).

    Attributes
    ----------
    contrastive : float
        ``L_Info``, the InfoNCE loss.
    upsilon : float
        ``upsilon-hat``: fraction of anchors in a batch that contains all C classes.
    sup : float
        ``L^mu_sup`` over covered batches (``S_sup / upsilon``; 0.0 when ``upsilon == 0``).
    sub : float
        ``L^mu_sub`` over the other batches (``S_sub / (1 - upsilon)``; 0.0 when
        ``upsilon == 1``).
    collision : float
        ``E ln(1 + Col)`` measured: ``(1/N) sum_batches sum_y n_y ln n_y``.
    d : float
        NS21's ``d(f) <= 0``.
    tau : float
        ``tau-hat``: fraction of anchors whose label repeats in their batch.
    arora_sub : float
        ARORA19's sub-class loss over anchors with a unique label
        (``S_arora / (1 - tau)``; 0.0 when ``tau == 1``; ``nan`` if some batch
        came without per-anchor losses).
    K : int or None
        Negatives per anchor (batch size - 1) when every batch had the same
        size, else ``None``.
    C : int
        Number of classes.
    ns21_bound : float
        NS21's lower bound on ``L_Info``, ``(S_sup + S_sub + coll) / 2 + d``.
    arora_bound : float
        ARORA19's lower bound, ``S_arora + coll + d``.
    ns21_sup_upper, arora_sup_upper : float
        The bounds solved for ``L^mu_sup`` (``inf`` when vacuous).
    holds : bool
        ``ns21_bound <= contrastive``.
    arora_holds : bool
        ``arora_bound <= contrastive`` (``False`` when ``arora_bound`` is ``nan``).
    margin : float
        ``contrastive - ns21_bound``.
    sup_all : float
        The mean-classifier loss over all C classes on every anchor.
    theory_upsilon, theory_tau, theory_collision : float
        ``upsilon_{K+1}``, ``tau_K`` and ``E ln(1 + Col)`` under the class prior
        for the batch size (anchor-weighted over batch sizes if they varied):
        what ``upsilon``, ``tau`` and ``collision`` estimate.
    temperature : float
        ``t``.
    n_anchors, n_batches : int
        Anchors and batches seen.
    collision_diagnostic : float
        NS21's collision diagnostic (mean over the samples whose class occurs
        at least twice in their batch), when the monitor measured it; else ``nan``.
    classes : float
        Distinct classes in an anchor's draw (its class and its negatives'),
        averaged over anchors: the batch's distinct classes for in-batch
        negatives and NT-Xent, those of the anchor and the keys for a queue.
    false_negative : float
        Fraction of the negatives that share their anchor's class (false
        negatives), ``sum_i Col_i / K`` over anchors, averaged over anchors.
    theory_classes, theory_false_negative : float
        Their values under the class prior for the batches' scheme and size:
        ``E[D]`` (:func:`~couponbound.expected_classes`) and
        :func:`~couponbound.false_negative_rate`.
    classes_se, false_negative_se : float
        Their standard errors over batches.

    Examples
    --------
    Two batches of three anchors, ``C = 2``: the first covers both classes,
    the second misses class 1.

    >>> from couponbound.training import BoundMonitor
    >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
    >>> _ = mon.update_losses(contrastive=[2.0, 2.2, 2.4], sup=[1.0, 1.2, 0.8],
    ...                       d=[-0.3, -0.1, 0.0], labels=[0, 1, 1], in_batch=True)
    >>> _ = mon.update_losses(contrastive=[2.1, 2.3, 1.9], sup=[0.9, 1.1, 1.0],
    ...                       sub=[0.5, 0.4, 0.6], d=-0.2, labels=[0, 0, 0], in_batch=True)
    >>> report = mon.compute()
    >>> print(report)
    BoundReport: C=2, K+1=3, t=0.5, 2 batches, 6 anchors
    term                           measured        s.e.      theory
    L_Info (contrastive)             2.1500      0.0500           -
    upsilon (coverage)               0.5000      0.5000      0.7500
    L^mu_sup (covered)               1.0000      0.0000           -
    L^mu_sub (not covered)           0.5000      0.0000           -
    E ln(1+Col)                      0.7804      0.3183      0.6212
    d                               -0.1667      0.0333           -
    tau (collision prob.)            0.8333      0.1667      0.7500
    distinct classes D               1.5000      0.5000      1.7500
    false-negative rate              0.6667      0.3333      0.5000
    L^mu_sub (ARORA19)               1.0000      0.0000           -
    L^mu_sup (all anchors)           1.0000      0.0000           -
    NS21 bound on L_Info             0.5985   7.952e-04           -
    ARORA19 bound on L_Info          0.7804      0.1183           -
    L_Info - NS21 bound              1.5515      0.0508           -
    NS21 bound on L^mu_sup           7.2060           -           -
    ARORA19 bound on L^mu_sup       18.4357           -           -
    NS21 bound holds (bound <= L_Info): yes
    >>> report.terms.upsilon, report.holds, report.to_dict()["holds"]
    (0.5, True, 1.0)
    """

    contrastive: float
    upsilon: float
    sup: float
    sub: float
    collision: float
    d: float
    tau: float
    arora_sub: float
    K: int | None
    C: int | None
    ns21_bound: float
    arora_bound: float
    ns21_sup_upper: float
    arora_sup_upper: float
    holds: bool
    arora_holds: bool
    margin: float
    sup_all: float
    theory_upsilon: float
    theory_tau: float
    theory_collision: float
    temperature: float
    n_anchors: int
    n_batches: int
    contrastive_se: float
    upsilon_se: float
    sup_se: float
    sub_se: float
    collision_se: float
    d_se: float
    tau_se: float
    arora_sub_se: float
    sup_all_se: float
    ns21_bound_se: float
    arora_bound_se: float
    margin_se: float
    collision_diagnostic: float = math.nan
    classes: float = math.nan
    false_negative: float = math.nan
    theory_classes: float = math.nan
    theory_false_negative: float = math.nan
    classes_se: float = math.nan
    false_negative_se: float = math.nan

    @classmethod
    def from_terms(
        cls,
        terms: BoundTerms,
        *,
        prior: Prior | None = None,
        theory_upsilon: float | None = None,
        theory_tau: float | None = None,
        theory_collision: float | None = None,
        sup_all: float | None = None,
        temperature: float = math.nan,
        n_anchors: int = 0,
        n_batches: int = 0,
        standard_errors: Mapping[str, float] | None = None,
        collision_diagnostic: float = math.nan,
        classes: float = math.nan,
        false_negative: float = math.nan,
        theory_classes: float | None = None,
        theory_false_negative: float | None = None,
    ) -> BoundReport:
        """The report of measured (or published) terms: every bound, the theory, ``holds``.

        ``ns21_bound`` is :func:`~couponbound.bounds.ns21_lower_bound`,
        ``ns21_sup_upper`` :func:`~couponbound.bounds.ns21_sup_upper_bound`;
        ``arora_bound`` is :func:`~couponbound.bounds.arora_lower_bound` when
        :attr:`BoundTerms.arora_measured <couponbound.bounds.BoundTerms.arora_measured>`
        (else ``nan``) and ``arora_sup_upper``
        :func:`~couponbound.bounds.arora_sup_upper_bound` when ``tau`` is
        measured (else ``nan``); vacuous upper bounds are ``inf`` without a
        warning.  ``holds`` is ``ns21_bound <= contrastive``, ``arora_holds``
        likewise (``False`` when ``arora_bound`` is ``nan``), ``margin`` is
        ``contrastive - ns21_bound``.

        Parameters
        ----------
        terms : BoundTerms
            The measured terms.
        prior : Prior, optional
            The class prior of the theoretical values; default uniform over
            ``terms.C`` classes.
        theory_upsilon, theory_tau, theory_collision : float, optional
            ``upsilon_{K+1}``, ``tau_K`` and ``E ln(1 + Col)`` in theory;
            computed for ``terms.K`` and the prior when not given, ``nan`` when
            ``terms.K`` or the prior is unknown.
        sup_all : float, optional
            The mean-classifier loss over all anchors; default ``terms.sup``.
        temperature : float, default nan
            ``t``, if known.
        n_anchors, n_batches : int, default 0
            How many anchors and batches the terms were measured on.
        standard_errors : mapping, optional
            Standard errors by quantity, e.g. ``{"contrastive": 0.01}``, for any
            of the report's ``*_se`` fields (named without ``_se``); the others
            are ``nan``.
        collision_diagnostic : float, default nan
            NS21's collision diagnostic, if measured.
        classes, false_negative : float, default nan
            Measured distinct classes per draw and false-negative fraction.
        theory_classes, theory_false_negative : float, optional
            Their theory; computed for ``terms.K`` and the prior (in-batch
            negatives) when not given.

        Returns
        -------
        BoundReport

        Raises
        ------
        TypeError
            If *terms* is not a :class:`~couponbound.bounds.BoundTerms` or
            *prior* not a :class:`~couponbound.Prior`.
        ValueError
            If ``prior.C`` contradicts ``terms.C``, or *standard_errors* names
            an unknown quantity.

        Examples
        --------
        NS21's CIFAR-10 row at ``K + 1 = 32`` (Table 2):

        >>> from couponbound import BoundTerms
        >>> t = BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31,
        ...                collision=1.32, d=-1.16, upsilon=0.69, tau=0.96,
        ...                arora_sub=1.5, K=31, C=10)
        >>> r = BoundReport.from_terms(t)
        >>> round(r.ns21_bound, 2), round(r.arora_bound, 2), r.holds
        (0.39, 0.22, True)
        >>> round(r.theory_upsilon, 4), round(r.ns21_sup_upper, 2)
        (0.691, 6.55)
        """
        if not isinstance(terms, BoundTerms):
            raise TypeError(f"BoundReport.from_terms() takes a BoundTerms, got "
                            f"{type(terms).__name__}: {short_repr(terms)}")
        C = terms.C
        if prior is not None:
            if not isinstance(prior, Prior):
                raise TypeError(f"prior must be a Prior or None, got {short_repr(prior)}")
            if C is not None and prior.C != C:
                raise ValueError(f"prior has C = {prior.C} classes, but terms.C = {C}")
            C = prior.C
        elif C is not None:
            prior = Prior.uniform(C)
        theory = (math.nan,) * 3
        wanted = (theory_upsilon, theory_tau, theory_collision)
        if any(v is None for v in wanted) and terms.K is not None and prior is not None:
            theory = theory_values(terms.K, prior)
        occupancy = (math.nan,) * 2
        if ((theory_classes is None or theory_false_negative is None) and terms.K is not None
                and prior is not None):
            occupancy = occupancy_values(terms.K, prior)
        se = dict(standard_errors or {})
        unknown = sorted(set(se) - set(_SE_NAMES))
        if unknown:
            raise ValueError(f"standard_errors has unknown quantities {unknown}; "
                             f"known: {list(_SE_NAMES)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=VacuousBoundWarning)
            ns21 = ns21_lower_bound(terms)
            ns21_up = ns21_sup_upper_bound(terms)
            arora = arora_lower_bound(terms) if terms.arora_measured else math.nan
            arora_up = math.nan if math.isnan(terms.tau) else arora_sup_upper_bound(terms)
        return cls(
            contrastive=terms.contrastive, upsilon=terms.upsilon, sup=terms.sup,
            sub=terms.sub, collision=terms.collision, d=terms.d, tau=terms.tau,
            arora_sub=terms.arora_sub, K=terms.K, C=C,
            ns21_bound=ns21, arora_bound=arora, ns21_sup_upper=ns21_up,
            arora_sup_upper=arora_up, holds=bool(ns21 <= terms.contrastive),
            arora_holds=bool(arora <= terms.contrastive), margin=terms.contrastive - ns21,
            sup_all=terms.sup if sup_all is None else float(sup_all),
            theory_upsilon=theory[0] if theory_upsilon is None else float(theory_upsilon),
            theory_tau=theory[1] if theory_tau is None else float(theory_tau),
            theory_collision=theory[2] if theory_collision is None else float(theory_collision),
            temperature=float(temperature),
            n_anchors=check_positive_int(n_anchors, "n_anchors", minimum=0),
            n_batches=check_positive_int(n_batches, "n_batches", minimum=0),
            **{f"{q}_se": float(se.get(q, math.nan)) for q in _SE_NAMES},
            collision_diagnostic=float(collision_diagnostic),
            classes=float(classes), false_negative=float(false_negative),
            theory_classes=occupancy[0] if theory_classes is None else float(theory_classes),
            theory_false_negative=(occupancy[1] if theory_false_negative is None
                                   else float(theory_false_negative)),
        )

    @property
    def terms(self) -> BoundTerms:
        """The measured terms as a :class:`couponbound.bounds.BoundTerms`."""
        return BoundTerms(
            contrastive=self.contrastive, sup=self.sup, sub=self.sub,
            collision=self.collision, d=self.d, upsilon=self.upsilon, tau=self.tau,
            arora_sub=self.arora_sub, K=self.K, C=self.C,
        )

    def to_dict(self, prefix: str = "", keys: Iterable[str] | None = None) -> dict[str, float]:
        """The fields as a flat ``{prefix + name: float}`` for any logger.

        Booleans become 1.0 / 0.0 and ``K = None`` becomes ``nan``.

        Parameters
        ----------
        prefix : str, default ""
            Prepended to every name.
        keys : iterable of str, optional
            Only these fields (e.g. ``couponbound.training.LOG_KEYS``, what changes during
            training); default every field.

        Examples
        --------
        >>> from couponbound import BoundTerms
        >>> r = BoundReport.from_terms(BoundTerms(contrastive=2.0, sup=1.0, sub=0.0,
        ...                                       collision=0.5, d=-0.2, upsilon=1.0, K=7, C=2))
        >>> r.to_dict("bound/", keys=["contrastive", "ns21_bound"])
        {'bound/contrastive': 2.0, 'bound/ns21_bound': 0.55}
        """
        if keys is None:
            names: tuple[str, ...] = _FIELD_NAMES
        else:
            names = select_keys(keys, _FIELD_NAMES, "fields")
        out: dict[str, float] = {}
        for name in names:
            v = getattr(self, name)
            out[prefix + name] = math.nan if v is None else float(v)
        return out

    def _repr_html_(self) -> str:  # notebooks: the table of str(report), typeset
        return _display.report_html(self)

    def _repr_markdown_(self) -> str:
        return _display.report_markdown(self)

    def to_pandas(self) -> Any:
        """The table of ``str(report)`` as a ``pandas.DataFrame`` (index: term; measured, se, theory).

        Needs pandas (``pip install 'couponbound[pandas]'``)."""
        return _display.report_frame(self)

    def __repr__(self) -> str:
        keys = ("contrastive", "ns21_bound", "holds", "upsilon", "sup", "sub", "collision",
                "d", "tau", "arora_bound", "K", "C", "n_anchors", "n_batches")
        body = ", ".join(f"{k}={fmt(getattr(self, k))}" for k in keys)
        return f"BoundReport({body})"

    def __str__(self) -> str:
        size = "varies" if self.K is None else str(self.K + 1)
        head = (f"BoundReport: C={self.C}, K+1={size}, t={self.temperature:g}, "
                f"{self.n_batches} batches, {self.n_anchors} anchors")
        rows = [
            ("L_Info (contrastive)", self.contrastive, self.contrastive_se, None),
            ("upsilon (coverage)", self.upsilon, self.upsilon_se, self.theory_upsilon),
            ("L^mu_sup (covered)", self.sup, self.sup_se, None),
            ("L^mu_sub (not covered)", self.sub, self.sub_se, None),
            ("E ln(1+Col)", self.collision, self.collision_se, self.theory_collision),
            ("d", self.d, self.d_se, None),
            ("tau (collision prob.)", self.tau, self.tau_se, self.theory_tau),
            ("distinct classes D", self.classes, self.classes_se, self.theory_classes),
            ("false-negative rate", self.false_negative, self.false_negative_se,
             self.theory_false_negative),
            ("L^mu_sub (ARORA19)", self.arora_sub, self.arora_sub_se, None),
            ("L^mu_sup (all anchors)", self.sup_all, self.sup_all_se, None),
            ("NS21 bound on L_Info", self.ns21_bound, self.ns21_bound_se, None),
            ("ARORA19 bound on L_Info", self.arora_bound, self.arora_bound_se, None),
            ("L_Info - NS21 bound", self.margin, self.margin_se, None),
            ("NS21 bound on L^mu_sup", self.ns21_sup_upper, None, None),
            ("ARORA19 bound on L^mu_sup", self.arora_sup_upper, None, None),
        ]
        lines = [head, f"{'term':<27}{'measured':>12}{'s.e.':>12}{'theory':>12}"]
        for name, value, se, th in rows:
            lines.append(f"{name:<27}{fmt(value):>12}{fmt(se):>12}{fmt(th):>12}")
        if not math.isnan(self.collision_diagnostic):
            lines.append(f"{'collision diagnostic':<27}{fmt(self.collision_diagnostic):>12}")
        lines.append(f"NS21 bound holds (bound <= L_Info): {fmt(self.holds)}")
        return "\n".join(lines)


#: The quantities with a standard error: the ``*_se`` fields, without ``_se``.
_SE_NAMES = tuple(f.name[:-3] for f in fields(BoundReport) if f.name.endswith("_se"))
_FIELD_NAMES = tuple(f.name for f in fields(BoundReport))

#: The names of every :class:`BoundReport` field (what ``to_dict(keys=...)`` accepts).
REPORT_FIELDS = _FIELD_NAMES

#: The fields worth logging every few steps: the terms, the bounds and their margin
#: (``BoundReport.to_dict(keys=LOG_KEYS)``); the rest are constants or standard errors.
LOG_KEYS = ("contrastive", "ns21_bound", "arora_bound", "margin", "upsilon", "sup", "sub",
            "collision", "d", "tau", "classes", "false_negative", "n_batches")
