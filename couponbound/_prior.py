"""The class prior: one value object for every function that takes one.

A :class:`Prior` holds the latent classes' probabilities and how a batch is
drawn from them (independently, or without replacement from a finite data set
of known class sizes).  Public functions accept a ``Prior`` where they accept
the number of classes ``C``; the keyword sugar ``probs=``/``counts=``/
``replacement=`` is turned into a ``Prior`` once, by :func:`as_prior`, at the
boundary of each public function.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_flag, check_positive_int, short_repr, unmasked

__all__ = ["PROB_SUM_TOL", "Prior", "as_prior", "require_replacement"]

#: Probabilities given by the user must sum to 1 within this tolerance.
PROB_SUM_TOL = 1e-9
#: Largest data set (sum of the counts) allowed without replacement.
MAX_N = 2**62


def _numbers(value: Any, source: str) -> NDArray[np.float64]:
    """A non-empty 1-d float array of finite positive numbers, or a named error."""
    value = unmasked(value, source)
    if isinstance(value, str | bytes | dict) or value is None:
        raise TypeError(f"{source} must be a 1-d sequence of numbers, got {short_repr(value)}")
    raw = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind in "bUSVMmc" or (raw.dtype == object and any(
            isinstance(v, bool | np.bool_ | str | bytes) or not isinstance(v, numbers.Real)
            for v in raw.ravel())):
        raise TypeError(f"{source} must be a 1-d sequence of real numbers (not bool or str), "
                        f"got {short_repr(value)}")
    try:
        arr = np.asarray(value, dtype=float)
    except OverflowError as exc:
        raise ValueError(f"{source} must be finite (each at most 1.8e308), got "
                         f"{short_repr(value)}") from exc
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{source} must be a 1-d sequence of numbers, got {short_repr(value)}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{source} must be a non-empty 1-d sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source} must be finite, got {short_repr(value)}")
    if np.any(arr <= 0):
        i = int(np.flatnonzero(arr <= 0)[0])
        raise ValueError(
            f"{source} must be positive (a class that never occurs is never covered), "
            f"got {source}[{i}] = {float(arr[i])!r}"
        )
    return arr


class Prior:
    """A class prior over ``C`` latent classes, and how batches are drawn from it.

    Build one with :meth:`~couponbound.Prior.uniform`, :meth:`~couponbound.Prior.from_probs` or
    :meth:`~couponbound.Prior.from_counts`;
    every function of couponbound that takes a number of classes ``C`` takes a
    ``Prior`` in its place.  Instances are immutable and compare equal when
    they describe the same distribution and sampling scheme (the ``name`` is
    not compared).

    Attributes
    ----------
    C : int
        Number of classes.
    probs : ndarray
        Class probabilities (float64, read-only, summing to 1).
    counts : tuple of int or None
        Integer class sizes when the prior came from counts; exact arithmetic
        and the without-replacement model use them.
    replacement : bool
        ``True``: the draws are independent (the model of NS21).  ``False``:
        a batch is drawn without replacement from a finite data set with
        class sizes ``counts`` (what a shuffled data loader does).
    name : str or None
        What tables and legends call it.

    Examples
    --------
    >>> from couponbound import Prior, coverage_prob
    >>> Prior.uniform(10)
    Prior.uniform(10)
    >>> p = Prior.from_counts([3, 3, 2], replacement=False)
    >>> p.C, p.N, p.is_uniform
    (3, 8, False)
    >>> coverage_prob(5, p)  # 1 - 1/binom(8, 6)
    0.9642857142...
    """

    __slots__ = ("_C", "_probs", "_counts", "_replacement", "_name", "_raw", "_uniform", "_groups_cache",
                 "_hash")

    _C: int
    _probs: NDArray[np.float64] | None
    _counts: tuple[int, ...] | None
    _replacement: bool
    _name: str | None
    _raw: NDArray[np.float64] | None
    _uniform: bool

    def __init__(self) -> None:  # pragma: no cover - use the constructors
        raise TypeError("build a Prior with Prior.uniform(C), Prior.from_probs(p) or "
                        "Prior.from_counts(n)")

    # -- construction -------------------------------------------------------

    @classmethod
    def _make(cls, C: int, probs: NDArray[np.float64] | None, counts: tuple[int, ...] | None,
              replacement: bool, name: str | None, raw: NDArray[np.float64] | None,
              uniform: bool) -> Prior:
        if not replacement and counts is not None and sum(counts) > MAX_N:
            raise ValueError(
                f"replacement=False supports data sets of at most N = 2**62 samples, got "
                f"N = {sum(counts)}; at that size the draws are independent to within "
                "n/N: use replacement=True"
            )
        self = object.__new__(cls)
        p = None
        if probs is not None and not uniform:
            p = np.array(probs, dtype=np.float64)
            p.setflags(write=False)
        for key, value in (("_C", C), ("_probs", p), ("_counts", counts),
                           ("_replacement", replacement), ("_name", name), ("_raw", raw),
                           ("_uniform", uniform)):
            object.__setattr__(self, key, value)
        return self

    @staticmethod
    def _check_name(name: Any) -> str | None:
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(f"name must be a non-empty str or None, got {short_repr(name)}")
        return name

    @classmethod
    def uniform(cls, C: int, *, name: str | None = None) -> Prior:
        """``C`` equally likely classes, drawn independently.

        Raises
        ------
        TypeError, ValueError
            ``C`` not an integer >= 1.

        Examples
        --------
        >>> Prior.uniform(4).probs
        array([0.25, 0.25, 0.25, 0.25])
        """
        c = check_positive_int(C, "C")
        return cls._make(c, None, None, True, cls._check_name(name), None, True)

    @classmethod
    def from_probs(cls, probs: Any, *, name: str | None = None) -> Prior:
        """Class probabilities: positive, finite, summing to 1 (within 1e-9).

        They are renormalised to sum to 1; a vector whose entries are all equal
        is recognised as the uniform prior.

        Raises
        ------
        TypeError, ValueError
            ``probs`` not a 1-d sequence of positive, finite reals summing to 1
            (bool and str refused); the message names the offending value.

        Examples
        --------
        >>> Prior.from_probs([0.5, 0.3, 0.2]).C
        3
        """
        arr = _numbers(probs, "probs")
        # the sum correctly rounded (fsum), or within a unit of it in extended precision
        s = float(math.fsum(arr)) if arr.size <= 10_000 else float(np.sum(arr, dtype=np.longdouble))
        if abs(s - 1.0) > PROB_SUM_TOL:
            raise ValueError(f"probs must sum to 1 (within {PROB_SUM_TOL:g}), got sum {s!r}; "
                             "pass counts= for unnormalised weights")
        p = arr / s
        nm = cls._check_name(name)
        if np.all(p == p[0]):
            return cls._make(int(arr.size), np.full(arr.size, 1.0 / arr.size), None, True, nm,
                             None, True)
        raw = np.array(arr, dtype=np.float64)
        raw.setflags(write=False)
        return cls._make(int(arr.size), p, None, True, nm, raw, False)

    @classmethod
    def from_counts(cls, counts: Any, *, replacement: bool = True, name: str | None = None) -> Prior:
        """Class sizes of a data set (positive integers), normalised into the prior.

        Parameters
        ----------
        counts : sequence of int
            Number of samples of each class.
        replacement : bool, default True
            ``False``: batches are drawn without replacement from this finite
            data set (multivariate hypergeometric law).
        name : str, optional
            What tables and legends call it.

        Raises
        ------
        TypeError, ValueError
            Naming ``counts`` and the offending value.

        Examples
        --------
        >>> Prior.from_counts([50, 30, 20]).probs
        array([0.5, 0.3, 0.2])
        """
        flag = check_flag(replacement, "replacement")
        arr = _numbers(counts, "counts")
        if np.any(arr != np.floor(arr)):
            raise ValueError(f"counts must be positive integers, got {short_repr(counts)}")
        items = list(np.ravel(np.asarray(counts, dtype=object)))
        ints = tuple(int(v) for v in items)
        if max(ints) > 10**18:
            raise ValueError(f"counts must be at most 10**18 each, got {short_repr(counts)}")
        total = sum(ints)
        nm = cls._check_name(name)
        if len(set(ints)) == 1:
            return cls._make(len(ints), np.full(len(ints), 1.0 / len(ints)), ints, flag, nm, None,
                             True)
        p = np.array([Fraction(v, total) for v in ints], dtype=float)
        return cls._make(len(ints), p, ints, flag, nm, None, False)

    # -- attributes -----------------------------------------------------------

    @property
    def C(self) -> int:
        """Number of classes."""
        return self._C

    @property
    def probs(self) -> NDArray[np.float64]:
        """Class probabilities, float64, read-only (built on request for a uniform prior)."""
        if self._probs is None:
            p = np.full(self._C, 1.0 / self._C)
            p.setflags(write=False)
            return p
        return self._probs

    @property
    def counts(self) -> tuple[int, ...] | None:
        """Integer class sizes, or ``None`` when the prior was not given as counts."""
        return self._counts

    @property
    def N(self) -> int | None:
        """Total number of samples (the sum of ``counts``), or ``None`` without counts."""
        return None if self._counts is None else sum(self._counts)

    @property
    def replacement(self) -> bool:
        """``True``: independent draws.  ``False``: batches are drawn without
        replacement from the data set of class sizes ``counts``."""
        return self._replacement

    @property
    def label(self) -> str:
        """The name, or a short description when the prior has none."""
        if self._name is not None:
            return self._name
        if self._uniform and self._counts is None:
            return f"C = {self._C}"
        return f"C = {self._C} ({'counts' if self._counts is not None else 'probs'})"

    @property
    def name(self) -> str | None:
        """The prior's name, or ``None``."""
        return self._name

    @property
    def is_uniform(self) -> bool:
        """``True`` when every class has probability ``1/C``."""
        return self._uniform

    def groups(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Distinct class probabilities (ascending) and how many classes share each."""
        if self._uniform:
            if self._C > 2**62:
                raise ValueError(f"C = {self._C} is above 2**62, the largest number of classes "
                                 "this computation handles; see couponbound.asymptotic for "
                                 "forms in C")
            return np.array([1.0 / self._C]), np.array([self._C], dtype=np.int64)
        cached = getattr(self, "_groups_cache", None)  # np.unique once per prior
        if cached is None:
            vals, mult64 = np.unique(self.probs, return_counts=True)
            mult64 = mult64.astype(np.int64)
            vals.setflags(write=False)
            mult64.setflags(write=False)
            cached = (vals, mult64)
            object.__setattr__(self, "_groups_cache", cached)
        return cached

    def anchor_groups(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Distinct class probabilities ``p_g`` and the anchor's chance ``m_g p_g`` of each group.

        The weights sum to 1 (exactly 1.0 for a uniform prior); quantities
        conditioned on the anchor's class (collisions, :ref:`math-collisions`)
        are averaged with them.
        """
        vals, mult = self.groups()
        if self._uniform:
            return vals, np.ones(1)
        return vals, mult * vals

    def count_groups(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Distinct class sizes (ascending) and how many classes share each.

        Raises
        ------
        ValueError
            When the prior was not given as counts.
        """
        if self._counts is None:
            raise ValueError("this prior has no class counts; build it with Prior.from_counts")
        vals, mult = np.unique(np.asarray(self._counts, dtype=object).astype(np.float64)
                               if max(self._counts) > 2**62 else np.asarray(self._counts),
                               return_counts=True)
        return vals.astype(np.int64), mult.astype(np.int64)

    def fractions(self) -> list[Fraction]:
        """Class probabilities as exact fractions (from counts when given)."""
        if self._counts is not None:
            total = sum(self._counts)
            return [Fraction(c, total) for c in self._counts]
        if self._uniform:
            return [Fraction(1, self._C)] * self._C
        assert self._raw is not None
        fr = [Fraction(float(v)) for v in self._raw]
        ftotal = sum(fr, Fraction(0))
        return [f / ftotal for f in fr]

    def with_replacement(self, replacement: bool) -> Prior:
        """The same prior with the other sampling scheme.

        Raises
        ------
        ValueError
            ``replacement=False`` for a prior without class counts.
        """
        flag = check_flag(replacement, "replacement")
        if flag == self._replacement:
            return self
        if not flag and self._counts is None:
            raise ValueError(_NEEDS_COUNTS)
        return Prior._make(self._C, self._probs, self._counts, flag, self._name, self._raw,
                           self._uniform)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description: ``name``, ``C``, ``counts`` or ``probs``, ``replacement``."""
        out: dict[str, Any] = {"name": self._name, "C": self._C, "replacement": self._replacement}
        if self._counts is not None:
            out["counts"] = list(self._counts)
        elif not self._uniform:
            out["probs"] = [float(v) for v in self.probs]
        return out

    # -- value semantics ------------------------------------------------------

    def _key(self) -> tuple[Any, ...]:
        if self._counts is not None:
            return ("counts", self._counts, self._replacement)
        if self._uniform:
            return ("uniform", self._C)
        return ("probs", self.probs.tobytes())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prior):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        # computed once (the prior is immutable): hashing a long probability vector
        # reads all of it, and the engine's caches look a prior up several times a call
        try:
            return int(object.__getattribute__(self, "_hash"))
        except AttributeError:
            h = hash(self._key())
            object.__setattr__(self, "_hash", h)
            return h

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Prior is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.to_dict(),))

    def __repr__(self) -> str:
        nm = "" if self._name is None else f", name={self._name!r}"
        if self._counts is not None:
            rep = "" if self._replacement else ", replacement=False"
            return f"Prior.from_counts({short_repr(list(self._counts), 50)}{rep}{nm})"
        if self._uniform:
            return f"Prior.uniform({self._C}{nm})"
        return f"Prior.from_probs({short_repr([float(v) for v in self.probs], 50)}{nm})"


def _rebuild(d: dict[str, Any]) -> Prior:
    if "counts" in d:
        return Prior.from_counts(d["counts"], replacement=d["replacement"], name=d["name"])
    if "probs" in d:
        return Prior.from_probs(d["probs"], name=d["name"])
    return Prior.uniform(d["C"], name=d["name"])


_NEEDS_COUNTS = ("replacement=False needs the data set's class sizes: pass counts= "
                 "(number of samples of each class) or Prior.from_counts(n, replacement=False), "
                 "not C or probs=")


def as_prior(C: Any = None, *, probs: Any = None, counts: Any = None,
             replacement: Any = None) -> Prior:
    """Turn a public function's prior arguments into a :class:`Prior`, once.

    ``C`` is an int (uniform classes) or a :class:`Prior`; ``probs=`` and
    ``counts=`` are keyword sugar (then ``C``, if given, must equal their
    length).  ``replacement=None`` keeps the prior's own scheme (``True``
    for ``C`` and ``probs``); ``False`` needs class counts.
    """
    if replacement is not None:
        check_flag(replacement, "replacement")
    if isinstance(C, Prior):
        if probs is not None or counts is not None:
            raise ValueError("give the prior once: a Prior, or probs=/counts=, not both")
        if replacement is not None and bool(replacement) != C.replacement:
            raise ValueError(
                f"replacement={bool(replacement)} contradicts the Prior's replacement="
                f"{C.replacement}; use prior.with_replacement({bool(replacement)})"
            )
        return C
    if probs is not None and counts is not None:
        raise ValueError("give at most one of probs= and counts=, got both")
    rep = True if replacement is None else bool(replacement)
    if probs is None and counts is None:
        if C is None:
            raise TypeError("give the number of classes C (or a Prior), or probs=, or counts=")
        if not rep:
            raise ValueError(_NEEDS_COUNTS)
        return Prior.uniform(C)
    prior = (Prior.from_probs(probs) if probs is not None
             else Prior.from_counts(counts, replacement=rep))
    if C is not None:
        c = check_positive_int(C, "C")
        if c != prior.C:
            source = "probs" if probs is not None else "counts"
            raise ValueError(f"C = {c} contradicts {source}= of length {prior.C}")
    if not rep and prior.counts is None:
        raise ValueError(_NEEDS_COUNTS)
    return prior


def require_replacement(prior: Prior, func: str) -> None:
    """Refuse a without-replacement prior, with the package's one message."""
    if not prior.replacement:
        raise ValueError(
            f"{func} models independent draws (replacement=True); it does not support "
            "replacement=False (batches drawn without replacement from a finite data set)"
        )
