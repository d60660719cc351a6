"""Named data sets: one registry of named :class:`~couponbound.Prior` objects.

The command, the tables and the figures all take their data sets from here,
so a data set has one name everywhere (``"ImageNet-1k (uniform)"`` in the
printed table, in Table 3 and in the figures' file names and legends).

* :data:`DATASETS` -- every built-in data set by name (the registry,
  :data:`BUILTIN_DATASETS`, independent of what the tables print);
* :data:`NS21_DATASETS` -- the data sets of NS21's Table 3, in its order;
* :data:`LONG_TAILED_DATASETS` -- CIFAR-10-LT and CIFAR-100-LT for the
  imbalance ratios 10, 50 and 100;
* :data:`TABLE_DATASETS` -- the rows of the main table and of Table 3 (NS21's
  data sets, then the long-tailed ones), chosen by name (:data:`TABLE_NAMES`);
* :data:`DEFAULT_DATASETS` -- the figures' defaults (CIFAR-10, CIFAR-100,
  ImageNet scale);
* :func:`dataset` -- look one up by name;
* :func:`long_tailed_counts` -- the exponential class profile of the
  long-tailed benchmarks;
* :func:`as_named_prior` / :func:`as_named_priors` -- turn the convenient
  specifications (``10``, ``("CIFAR-10", 10)``, ``("mine", {"counts": [...]})``)
  into named priors;
* :func:`ceil_expected_batch` -- NS21's ``E[K+1]``, rounded up as Table 3
  prints it.

The training-set class counts (sources in :doc:`/paper`): CIFAR-10 has 5,000
images per class and CIFAR-100 500; AG News 30,000 news articles per class
(4 classes); Wiki-3029 is taken as uniform over its 3029 classes;
CIFAR-10-LT and CIFAR-100-LT keep ``floor(n_max r^(-i/(C-1)))`` images of
class ``i`` (``n_max`` = 5,000 or 500, imbalance ratio ``r``).  ImageNet-1k is
a uniform approximation: NS21 used ImageNet's real, non-uniform training-set
counts (``E[K+1] = 7709``), which are not shipped here; the uniform
1000-class prior gives 7486, hence the name ``"ImageNet-1k (uniform)"``.  For
a real class histogram use ``Prior.from_counts(counts, name="ImageNet-1k")``.
"""

from __future__ import annotations

import decimal
import math
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from couponbound._combinatorics import harmonic_fraction
from couponbound._prior import Prior
from couponbound._validate import check_positive_int, check_real, short_repr
from couponbound.coverage import expected_draws

__all__ = [
    "BUILTIN_DATASETS",
    "DATASETS",
    "DEFAULT_DATASETS",
    "IMBALANCE_RATIOS",
    "LONG_TAILED_DATASETS",
    "MAX_CLASSES",
    "NS21_DATASETS",
    "TABLE_DATASETS",
    "TABLE_NAMES",
    "UnknownDatasetError",
    "as_named_prior",
    "as_named_priors",
    "ceil_expected_batch",
    "dataset",
    "long_tailed_counts",
]

#: Most classes a data set of the tables, the figures and the command may have:
#: their exact columns cost seconds up to here.  For more classes use the
#: named approximations of :mod:`couponbound.asymptotic`.
MAX_CLASSES = 10**6

#: The imbalance ratios ``r = n_max / n_min`` of the long-tailed benchmarks.
IMBALANCE_RATIOS: tuple[int, ...] = (10, 50, 100)


_LT_NAMES = ("n_max", "C", "r")


def long_tailed_counts(*args: Any, n_max: Any = None, C: Any = None, r: Any = None) -> list[int]:
    """The exponential long-tailed profile ``n_i = floor(n_max r^(-i/(C-1)))``, ``i = 0..C-1``.

    The class sizes of CIFAR-10-LT and CIFAR-100-LT (Cao et al. 2019, "LDAM";
    Cui et al. 2019): the largest class keeps ``n_max`` samples, the smallest
    ``floor(n_max / r)``, and the sizes fall geometrically in between.  Each
    size is the exact floor (decimal arithmetic wherever a float could round
    across an integer, so any ``n_max`` up to 1.8e308 gives ``n_0 = n_max``).

    Parameters
    ----------
    n_max : int, keyword-only
        Size of the largest class (5,000 for CIFAR-10, 500 for CIFAR-100).
    C : int, keyword-only
        Number of classes (at least 2).
    r : float, keyword-only
        Imbalance ratio ``n_max / n_min``, at least 1.

    The arguments are keyword-only: the positional order ``(n_max, C, r)`` was
    easy to swap silently; positional calls still work and warn
    (``DeprecationWarning``).

    Raises
    ------
    TypeError, ValueError
        Naming the argument and the value.

    Examples
    --------
    >>> long_tailed_counts(n_max=5000, C=10, r=100)
    [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
    >>> sum(long_tailed_counts(n_max=500, C=100, r=100))
    10847
    """
    given = {"n_max": n_max, "C": C, "r": r}
    if args:
        if len(args) > 3:
            raise TypeError(f"long_tailed_counts takes 3 arguments (n_max, C, r), got {len(args)}")
        warnings.warn("long_tailed_counts(n_max, C, r) with positional arguments is deprecated; "
                      "write long_tailed_counts(n_max=..., C=..., r=...)", DeprecationWarning,
                      stacklevel=2)
        for name, value in zip(_LT_NAMES, args, strict=False):
            if given[name] is not None:
                raise TypeError(f"long_tailed_counts got {name} twice (by position and keyword)")
            given[name] = value
    missing = [name for name in _LT_NAMES if given[name] is None]
    if missing:
        raise TypeError(f"long_tailed_counts needs the keyword arguments {', '.join(missing)}")
    top = check_positive_int(given["n_max"], "n_max")
    classes = check_positive_int(given["C"], "C")
    if classes < 2:
        raise ValueError(f"C must be at least 2 for a long-tailed profile, got {classes}")
    if classes > 10**6:
        raise ValueError(f"C must be at most 10**6, got {classes}")
    try:
        ratio = check_real(given["r"], "r")
    except (TypeError, ValueError):
        raise ValueError(f"r must be a finite number >= 1, got {short_repr(given['r'])}") from None
    if ratio < 1:
        raise ValueError(f"r must be a finite number >= 1, got {short_repr(given['r'])}")
    if top < ratio:
        raise ValueError(f"n_max / r must be at least 1 (every class needs a sample), got "
                         f"n_max={top}, r={short_repr(given['r'])}")
    return [_lt_size(top, ratio, i, classes - 1) for i in range(classes)]


def _lt_size(n_max: int, r: float, i: int, last: int) -> int:
    """``floor(n_max r^(-i/last))`` exactly: in floats when they cannot round across an
    integer, else in decimal arithmetic with digits to spare."""
    if i == 0:
        return n_max
    if n_max < 2**50:
        x = n_max * r ** (-i / last)
        if abs(x - round(x)) > 1e-6 * max(x, 1.0):
            return math.floor(x)
    with decimal.localcontext() as ctx:
        ctx.prec = len(str(n_max)) + 30
        value = decimal.Decimal(n_max) * decimal.Decimal(r) ** (decimal.Decimal(-i) / last)
        return int(value.to_integral_value(rounding=decimal.ROUND_FLOOR))


#: NS21's data sets (Table 3, in its order), each a named prior.
NS21_DATASETS: tuple[Prior, ...] = (
    Prior.uniform(2, name="binary"),
    Prior.from_counts([30_000] * 4, name="AG News"),
    Prior.from_counts([5_000] * 10, name="CIFAR-10"),
    Prior.from_counts([500] * 100, name="CIFAR-100"),
    Prior.uniform(1000, name="ImageNet-1k (uniform)"),
    Prior.uniform(3029, name="Wiki-3029"),
)

#: CIFAR-10-LT and CIFAR-100-LT (:func:`long_tailed_counts`) for each of
#: :data:`IMBALANCE_RATIOS`, named ``"CIFAR-10-LT (r=100)"`` and so on.
LONG_TAILED_DATASETS: tuple[Prior, ...] = tuple(
    Prior.from_counts(long_tailed_counts(n_max=n_max, C=C, r=r), name=f"CIFAR-{C}-LT (r={r})")
    for C, n_max in ((10, 5_000), (100, 500)) for r in IMBALANCE_RATIOS
)

#: Every built-in data set, the registry behind :data:`DATASETS`, :func:`dataset` and
#: the command's ``--dataset NAME``.  A new data set is added here (a named Prior);
#: that changes no printed table: the tables choose their rows by name below.
BUILTIN_DATASETS: tuple[Prior, ...] = NS21_DATASETS + LONG_TAILED_DATASETS

#: Every built-in data set by name.
DATASETS: dict[str, Prior] = {p.label: p for p in BUILTIN_DATASETS}

#: The names of the rows of the main table and of Table 3: NS21's data sets, then the
#: long-tailed ones.
TABLE_NAMES: tuple[str, ...] = (
    "binary", "AG News", "CIFAR-10", "CIFAR-100", "ImageNet-1k (uniform)", "Wiki-3029",
    *(f"CIFAR-{C}-LT (r={r})" for C in (10, 100) for r in IMBALANCE_RATIOS),
)

#: The rows of the main table and of Table 3 (:data:`TABLE_NAMES` from the registry).
TABLE_DATASETS: tuple[Prior, ...] = tuple(DATASETS[name] for name in TABLE_NAMES)

#: The figures' defaults: CIFAR-10, CIFAR-100 and ImageNet scale.
DEFAULT_DATASETS: tuple[Prior, ...] = tuple(
    DATASETS[n] for n in ("CIFAR-10", "CIFAR-100", "ImageNet-1k (uniform)"))


def dataset(name: str) -> Prior:
    """The built-in data set called *name*, a named :class:`~couponbound.Prior`.

    Raises
    ------
    TypeError
        If *name* is not a str (``None``, a number...).
    KeyError
        For an unknown name, listing the known ones (an
        :class:`UnknownDatasetError`, which is also a ``ValueError``).

    Examples
    --------
    >>> dataset("CIFAR-100").counts[:3]
    (500, 500, 500)
    >>> dataset("CIFAR-100-LT (r=100)").N
    10847
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str naming a data set, got {short_repr(name)}; known: "
                        f"{', '.join(DATASETS)}")
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"no data set named {short_repr(name)}; known: {', '.join(DATASETS)}") from None


class UnknownDatasetError(KeyError, ValueError):
    """An unknown data-set name: a lookup miss (``KeyError``) and bad input (``ValueError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


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

    Every data set may have at most :data:`MAX_CLASSES` classes (the tables
    and figures then answer within seconds).

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
        If the sequence is empty or a data set has more than
        :data:`MAX_CLASSES` classes.

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
    out = []
    for spec in specs:
        # refuse a huge C before a prior (or anything else) is built for it
        size = spec[1] if isinstance(spec, tuple | list) and len(spec) == 2 else spec
        if isinstance(size, numbers.Integral) and not isinstance(size, bool) \
                and int(size) > MAX_CLASSES:
            label = spec[0] if size is not spec and isinstance(spec[0], str) else f"C = {size}"
            raise ValueError(_too_many(name, label, int(size)))
        prior = as_named_prior(spec)
        if prior.C > MAX_CLASSES:
            raise ValueError(_too_many(name, prior.label, prior.C))
        out.append(prior)
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _too_many(name: str, label: str, C: int) -> str:
    c = f"{C:,}" if C < 10**12 else f"about 1e{len(str(C)) - 1}"
    return (f"{name}: data set {label!r} has {c} classes, more than the {MAX_CLASSES:,} the "
            "tables and figures take; for larger C use couponbound.asymptotic "
            "(gumbel_coverage, poisson_coverage)")


def ceil_expected_batch(prior: Prior) -> int:
    """NS21's expected batch size ``E[K+1] = E[T]``, rounded up as their Table 3 prints it.

    Exact for the uniform prior up to 5,000 classes (``ceil(C H_C)`` in
    rationals, so ``C = 2`` gives 3, not 4 from a float a hair above 3); from
    :func:`couponbound.expected_draws` otherwise.  See :ref:`math-completion-time`.

    Examples
    --------
    >>> [ceil_expected_batch(dataset(n)) for n in ("binary", "AG News", "CIFAR-10")]
    [3, 9, 30]
    """
    if not isinstance(prior, Prior):
        raise TypeError(f"prior must be a Prior, got {short_repr(prior)}")
    if prior.is_uniform and prior.C <= 5_000:
        return math.ceil(prior.C * harmonic_fraction(prior.C))
    return math.ceil(float(expected_draws(prior)) * (1.0 - 1e-12))
