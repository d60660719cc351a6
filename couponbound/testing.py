"""Hypothesis strategies for couponbound's inputs, for your own property tests.

Like :mod:`hypothesis.extra.numpy`, this module ships strategies with the
library: numbers of classes and negatives, class priors (probabilities or
integer counts, any of the three ways to give a prior as keyword arguments, or
:class:`~couponbound.Prior` objects) and valid
:class:`~couponbound.bounds.BoundTerms`.  It imports :mod:`hypothesis`, which
``import couponbound`` never does; import it from your tests (``pip install
"couponbound[test]"`` installs it).

Examples
--------
A law of NS21's bound, checked on 50 random measurements:

>>> from hypothesis import given, settings
>>> from couponbound.bounds import ns21_lower_bound
>>> from couponbound.testing import bound_terms
>>> @settings(max_examples=50, database=None)
... @given(bound_terms(holds=True))
... def test_measured_bound_holds(terms):
...     assert ns21_lower_bound(terms) <= terms.contrastive
>>> test_measured_bound_holds()

Any way of giving a prior, fed to a function as keyword arguments:

>>> from couponbound.testing import negatives, priors
>>> from couponbound.collision import collision_prob
>>> @settings(max_examples=30, database=None)
... @given(priors(max_classes=8), negatives(max_value=50))
... def test_tau_is_a_probability(prior, K):
...     assert 0.0 <= collision_prob(K, **prior) <= 1.0
>>> test_tau_is_a_probability()

Or as :class:`~couponbound.Prior` objects, passed where ``C`` goes:

>>> from couponbound.testing import prior_objects
>>> @settings(max_examples=30, database=None)
... @given(prior_objects(max_classes=8), negatives(max_value=50))
... def test_tau_of_a_prior(prior, K):
...     assert 0.0 <= collision_prob(K, prior) <= 1.0
>>> test_tau_of_a_prior()
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    from hypothesis import assume
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "couponbound.testing needs hypothesis, which couponbound itself does not install: "
        'pip install "couponbound[test]"'
    ) from exc

from couponbound._prior import Prior
from couponbound._validate import check_flag, check_positive_int
from couponbound.bounds import BoundTerms, ns21_lower_bound

__all__ = [
    "bound_terms",
    "negatives",
    "num_classes",
    "prior_counts",
    "prior_objects",
    "prior_probs",
    "priors",
]

_KINDS = ("uniform", "probs", "counts")


def num_classes(min_value: int = 1, max_value: int = 20) -> st.SearchStrategy[int]:
    """Numbers of classes ``C`` in ``[min_value, max_value]`` (``min_value >= 1``).

    Examples
    --------
    >>> from hypothesis import find
    >>> find(num_classes(3, 10), lambda c: True)
    3
    """
    lo = check_positive_int(min_value, "min_value", minimum=1)
    hi = check_positive_int(max_value, "max_value", minimum=lo)
    return st.integers(lo, hi)


def negatives(min_value: int = 0, max_value: int = 200) -> st.SearchStrategy[int]:
    """Numbers of negatives ``K`` in ``[min_value, max_value]`` (the anchor is not counted).

    Examples
    --------
    >>> from hypothesis import find
    >>> find(negatives(), lambda k: k > 5)
    6
    """
    lo = check_positive_int(min_value, "min_value", minimum=0)
    hi = check_positive_int(max_value, "max_value", minimum=lo)
    return st.integers(lo, hi)


def _classes(C: int | None, min_classes: int, max_classes: int) -> st.SearchStrategy[int]:
    if C is not None:
        return st.just(check_positive_int(C, "C"))
    return num_classes(min_classes, max_classes)


def prior_probs(
    C: int | None = None,
    *,
    min_classes: int = 1,
    max_classes: int = 20,
    min_ratio: float = 1e-3,
) -> st.SearchStrategy[NDArray[np.float64]]:
    """Class probabilities: positive float64 arrays that sum to 1.

    Parameters
    ----------
    C : int, optional
        Number of classes; drawn from ``[min_classes, max_classes]`` if omitted.
    min_classes, max_classes : int
        Range of ``C`` when it is drawn.
    min_ratio : float, default 1e-3
        The smallest class is at least this fraction of the largest, keeping
        priors away from classes that (almost) never occur.

    Examples
    --------
    >>> from hypothesis import find
    >>> p = find(prior_probs(4), lambda p: True)
    >>> p.shape, bool(abs(p.sum() - 1) < 1e-12), bool((p > 0).all())
    ((4,), True, True)
    """
    if not (isinstance(min_ratio, float | int) and 0 < min_ratio <= 1):
        raise ValueError(f"min_ratio must be in (0, 1], got {min_ratio!r}")
    weight = st.floats(min_value=float(min_ratio), max_value=1.0, allow_nan=False)

    def build(c: int) -> st.SearchStrategy[NDArray[np.float64]]:
        return st.lists(weight, min_size=c, max_size=c).map(
            lambda w: np.asarray(w, dtype=np.float64) / math.fsum(w)
        )

    return _classes(C, min_classes, max_classes).flatmap(build)


def prior_counts(
    C: int | None = None,
    *,
    min_classes: int = 1,
    max_classes: int = 20,
    max_count: int = 1000,
) -> st.SearchStrategy[list[int]]:
    """Class sizes of a data set (a prior's ``counts``): lists of ``C`` positive
    integers up to *max_count*.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(prior_counts(3, max_count=9), lambda n: True)
    [1, 1, 1]
    """
    hi = check_positive_int(max_count, "max_count", minimum=1)
    return _classes(C, min_classes, max_classes).flatmap(
        lambda c: st.lists(st.integers(1, hi), min_size=c, max_size=c)
    )


def priors(
    *,
    min_classes: int = 1,
    max_classes: int = 20,
    kinds: tuple[str, ...] = _KINDS,
    max_count: int = 1000,
) -> st.SearchStrategy[dict[str, Any]]:
    """Class priors in any of the package's three forms, as keyword arguments.

    Draws ``{"C": c}`` (uniform), ``{"probs": p}`` or ``{"counts": n}``, so a
    test can call ``coverage_prob(K, **prior)``.

    Parameters
    ----------
    min_classes, max_classes : int
        Range of the number of classes.
    kinds : tuple of str
        Which forms to draw, among ``"uniform"``, ``"probs"``, ``"counts"``.
    max_count : int
        Largest class count for ``"counts"``.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(priors(kinds=("counts",), max_classes=3), lambda p: len(p["counts"]) == 3)
    {'counts': [1, 1, 1]}
    """
    if not kinds or any(k not in _KINDS for k in kinds):
        raise ValueError(f"kinds must be a non-empty tuple of {_KINDS}, got {kinds!r}")
    options: list[st.SearchStrategy[dict[str, Any]]] = []
    if "uniform" in kinds:
        options.append(num_classes(min_classes, max_classes).map(lambda c: {"C": c}))
    if "probs" in kinds:
        options.append(prior_probs(min_classes=min_classes, max_classes=max_classes)
                       .map(lambda p: {"probs": p}))
    if "counts" in kinds:
        options.append(prior_counts(min_classes=min_classes, max_classes=max_classes,
                                    max_count=max_count).map(lambda n: {"counts": n}))
    return st.one_of(*options)


def prior_objects(
    *,
    min_classes: int = 1,
    max_classes: int = 20,
    kinds: tuple[str, ...] = _KINDS,
    max_count: int = 1000,
    replacement: bool | None = True,
) -> st.SearchStrategy[Prior]:
    """Class priors as :class:`~couponbound.Prior` objects.

    The same priors as :func:`priors`, built with :meth:`~couponbound.Prior.uniform`,
    :meth:`~couponbound.Prior.from_probs` or :meth:`~couponbound.Prior.from_counts`, so a test can call
    ``coverage_prob(K, prior)``.

    Parameters
    ----------
    min_classes, max_classes, kinds, max_count
        As for :func:`priors`.
    replacement : bool or None, default True
        ``True``: independent draws.  ``False``: priors from counts drawn
        without replacement (``kinds`` must then include ``"counts"``; the
        other kinds are not drawn).  ``None``: counts priors of either kind.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(prior_objects(kinds=("counts",), replacement=False, max_classes=3),
    ...      lambda p: p.C == 3)
    Prior.from_counts([1, 1, 1], replacement=False)
    """
    if replacement is not None:
        check_flag(replacement, "replacement")
    if replacement is False:
        if "counts" not in kinds:
            raise ValueError(f"replacement=False needs 'counts' in kinds, got {kinds!r}")
        kinds = ("counts",)
    flags = st.just(True) if replacement else (st.just(False) if replacement is False
                                               else st.booleans())

    def build(kw: dict[str, Any]) -> st.SearchStrategy[Prior]:
        if "C" in kw:
            return st.just(Prior.uniform(kw["C"]))
        if "probs" in kw:
            return st.just(Prior.from_probs(kw["probs"]))
        return flags.map(lambda r: Prior.from_counts(kw["counts"], replacement=r))

    return priors(min_classes=min_classes, max_classes=max_classes, kinds=kinds,
                  max_count=max_count).flatmap(build)


def _unit() -> st.SearchStrategy[float]:
    return st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def bound_terms(
    draw: st.DrawFn,
    *,
    max_loss: float = 10.0,
    max_abs_d: float = 5.0,
    with_arora: bool | None = None,
    holds: bool | None = None,
    K: int | None = None,
    C: int | None = None,
) -> BoundTerms:
    """Valid :class:`~couponbound.bounds.BoundTerms`.

    Losses in ``[0, max_loss]``, ``d`` in ``[-max_abs_d, 0]``, :math:`\\upsilon`
    (and ``tau``) in ``[0, 1]``, boundary values included.

    Parameters
    ----------
    max_loss, max_abs_d : float
        Ranges of the losses and of ``-d``.
    with_arora : bool, optional
        ``True``: ``tau`` and ``arora_sub`` are measured; ``False``: both
        ``nan``; ``None`` (default): either.
    holds : bool, optional
        ``True``: ``contrastive >= ns21_lower_bound(terms)`` (the measured
        encoder obeys NS21's bound); ``False``: it violates it (only terms
        whose bound is positive); ``None``: anything.
    K, C : int, optional
        Stored on the terms as given (``None`` by default).

    Examples
    --------
    >>> from hypothesis import find
    >>> from couponbound.bounds import ns21_lower_bound
    >>> t = find(bound_terms(holds=False), lambda t: True)
    >>> bool(t.contrastive < ns21_lower_bound(t))
    True
    """
    loss = st.floats(min_value=0.0, max_value=float(max_loss), allow_nan=False)
    sup = draw(loss)
    sub = draw(loss)
    collision = draw(loss)
    d = draw(st.floats(min_value=-float(max_abs_d), max_value=0.0, allow_nan=False))
    upsilon = draw(_unit())
    arora = with_arora if with_arora is not None else draw(st.booleans())
    tau = draw(_unit()) if arora else math.nan
    arora_sub = draw(loss) if arora else math.nan
    base = BoundTerms(contrastive=0.0, sup=sup, sub=sub, collision=collision, d=d,
                      upsilon=upsilon, tau=tau, arora_sub=arora_sub, K=K, C=C)
    lower = ns21_lower_bound(base)  # the very float the law will be checked against
    if holds is None:
        contrastive = draw(loss)
    elif holds:
        contrastive = max(0.0, lower) + draw(loss)
    else:
        assume(lower > 0.0)
        contrastive = draw(st.floats(0.0, lower, exclude_max=True, allow_nan=False))
    return replace(base, contrastive=contrastive)
