"""Named data sets: one registry of named :class:`~couponbound.Prior` objects.

The command, the tables and the figures all take their data sets from here,
so a data set has one name everywhere (``"ImageNet-1k (uniform)"`` in the
printed table, in Table 3 and in the figures' file names and legends).

* :data:`DATASETS` -- every built-in data set by name;
* :data:`NS21_DATASETS` -- the data sets of NS21's Table 3, in its order;
* :data:`DEFAULT_DATASETS` -- the figures' defaults (CIFAR-10, CIFAR-100,
  ImageNet scale);
* :func:`dataset` -- look one up by name;
* :func:`as_named_prior` / :func:`as_named_priors` -- turn the convenient
  specifications (``10``, ``("CIFAR-10", 10)``, ``("mine", {"counts": [...]})``)
  into named priors;
* :func:`ceil_expected_batch` -- NS21's ``E[K+1]``, rounded up as Table 3
  prints it.

Every prior here is uniform: NS21 used ImageNet's real, non-uniform
training-set counts (``E[K+1] = 7709``); the uniform 1000-class prior gives
7486, hence the name ``"ImageNet-1k (uniform)"``.  For a real class
histogram use ``Prior.from_counts(counts, name="ImageNet-1k")``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from couponbound._prior import Prior
from couponbound._validate import short_repr
from couponbound.coverage import expected_draws

__all__ = [
    "DATASETS",
    "DEFAULT_DATASETS",
    "NS21_DATASETS",
    "as_named_prior",
    "as_named_priors",
    "ceil_expected_batch",
    "dataset",
]

#: NS21's data sets (Table 3, in its order), each a named uniform prior.
NS21_DATASETS: tuple[Prior, ...] = (
    Prior.uniform(2, name="binary"),
    Prior.uniform(4, name="AG News"),
    Prior.uniform(10, name="CIFAR-10"),
    Prior.uniform(100, name="CIFAR-100"),
    Prior.uniform(1000, name="ImageNet-1k (uniform)"),
    Prior.uniform(3029, name="Wiki-3029"),
)

#: Every built-in data set by name.
DATASETS: dict[str, Prior] = {p.label: p for p in NS21_DATASETS}

#: The figures' defaults: CIFAR-10, CIFAR-100 and ImageNet scale (uniform priors).
DEFAULT_DATASETS: tuple[Prior, ...] = tuple(
    DATASETS[n] for n in ("CIFAR-10", "CIFAR-100", "ImageNet-1k (uniform)"))


def dataset(name: str) -> Prior:
    """The built-in data set called *name*, a named :class:`~couponbound.Prior`.

    Raises
    ------
    KeyError
        For an unknown name, listing the known ones.

    Examples
    --------
    >>> dataset("CIFAR-100")
    Prior.uniform(100, name='CIFAR-100')
    """
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise KeyError(f"no data set named {short_repr(name)}; known: {', '.join(DATASETS)}") from None


_SPEC_HELP = ("a data set must be a Prior, an int C, (name, C), (name, {'counts': ...}), "
              "(name, probs-or-counts) or a mapping with 'name'")


def _named(name: Any, prior: Any) -> Prior:
    """*prior* (an int ``C``, a mapping with one of ``C``/``probs``/``counts``, a
    sequence of numbers or a Prior) as a Prior called *name*."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"a data set's name must be a non-empty str, got {short_repr(name)}")
    if isinstance(prior, Prior):
        return _rename(prior, name)
    if isinstance(prior, numbers.Integral) and not isinstance(prior, bool):
        return Prior.uniform(int(prior), name=name)
    if isinstance(prior, Mapping):
        keys = set(prior)
        if len(keys) != 1 or not keys <= {"C", "probs", "counts"}:
            raise TypeError(f"the prior of data set {name!r} must be a mapping with one key of "
                            f"'C', 'probs', 'counts', got keys {sorted(keys)}")
        (key, value), = prior.items()
        if key == "C":
            return Prior.uniform(value, name=name)
        if key == "probs":
            return Prior.from_probs(value, name=name)
        return Prior.from_counts(value, name=name)
    if isinstance(prior, Sequence | np.ndarray) and not isinstance(prior, str | bytes):
        arr = np.asarray(prior)
        if arr.dtype.kind in "iu":
            return Prior.from_counts(arr.ravel().tolist(), name=name)
        return Prior.from_probs(arr.ravel(), name=name)
    raise TypeError(f"{_SPEC_HELP}; got {short_repr((name, prior))}")


def _rename(prior: Prior, name: str) -> Prior:
    if prior.name == name:
        return prior
    if prior.counts is not None:
        return Prior.from_counts(prior.counts, replacement=prior.replacement, name=name)
    if prior.is_uniform:
        return Prior.uniform(prior.C, name=name)
    return Prior.from_probs(prior.probs, name=name)


def as_named_prior(spec: Any) -> Prior:
    """Turn a data-set specification into a named :class:`~couponbound.Prior`.

    Accepted: a :class:`~couponbound.Prior` (an unnamed one is called by its
    :attr:`~couponbound.Prior.label`); an ``int`` ``C`` (named ``"C = 10"``);
    a pair ``(name, C)``; a pair ``(name, prior)`` where *prior* is a Prior, a
    mapping with one of the keys ``"C"``, ``"probs"``, ``"counts"``, or a
    sequence of numbers (integers are class counts, anything else
    probabilities); a mapping with ``"name"`` and one of those keys.

    Raises
    ------
    TypeError
        For anything else, naming the value.
    ValueError
        From the prior's validation, naming the argument.

    Examples
    --------
    >>> as_named_prior(100)
    Prior.uniform(100, name='C = 100')
    >>> as_named_prior(("ImageNet-1k", 1000)).name
    'ImageNet-1k'
    >>> as_named_prior(("long tail", [50, 30, 20])).counts
    (50, 30, 20)
    """
    if isinstance(spec, Prior):
        return spec if spec.name is not None else _rename(spec, spec.label)
    if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
        return Prior.uniform(int(spec), name=f"C = {int(spec)}")
    if isinstance(spec, Mapping):
        extra = set(spec) - {"name", "C", "probs", "counts"}
        if extra or "name" not in spec or len(spec) != 2:
            raise TypeError("a data set given as a mapping needs 'name' and one of 'C', 'probs', "
                            f"'counts' (and nothing else), got keys {sorted(spec)}")
        return _named(spec["name"], {k: v for k, v in spec.items() if k != "name"})
    if isinstance(spec, tuple | list) and len(spec) == 2 and isinstance(spec[0], str):
        return _named(spec[0], spec[1])
    raise TypeError(f"{_SPEC_HELP}; got {short_repr(spec)}")


def as_named_priors(specs: Any, name: str = "datasets") -> list[Prior]:
    """One data set or a sequence of them (see :func:`as_named_prior`) as a list of named priors.

    Parameters
    ----------
    specs : data set or sequence of data sets
    name : str
        The argument's name in error messages.

    Raises
    ------
    TypeError
        If *specs* is neither a data set nor a sequence of them.
    ValueError
        If the sequence is empty.

    Examples
    --------
    >>> [p.label for p in as_named_priors([10, ("CIFAR-100", 100)])]
    ['C = 10', 'CIFAR-100']
    """
    if isinstance(specs, Prior | numbers.Integral | Mapping) or (
        isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[0], str)
    ):
        specs = [specs]
    if isinstance(specs, str | bytes) or not isinstance(specs, Iterable):
        raise TypeError(f"{name} must be a data set or a sequence of them, got {short_repr(specs)}")
    out = [as_named_prior(s) for s in specs]
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def ceil_expected_batch(prior: Prior) -> int:
    """NS21's expected batch size ``E[K+1] = E[T]``, rounded up as their Table 3 prints it.

    Exact for the uniform prior (``ceil(C H_C)`` in rationals, so ``C = 2``
    gives 3, not 4 from a float a hair above 3); from
    :func:`couponbound.expected_draws` otherwise.  See :ref:`math-completion-time`.

    Examples
    --------
    >>> [ceil_expected_batch(dataset(n)) for n in ("binary", "AG News", "CIFAR-10")]
    [3, 9, 30]
    """
    if prior.is_uniform:
        c = prior.C
        # harmonic number H_C as a Fraction (the maths layer's harmonic_fraction after merge)
        return math.ceil(c * sum((Fraction(1, j) for j in range(1, c + 1)), Fraction(0)))
    return math.ceil(float(expected_draws(prior)) * (1.0 - 1e-12))
