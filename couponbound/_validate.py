"""Argument checking shared by the whole package.

Every public function funnels its user-facing arguments through these helpers
so that bad input always raises a ``ValueError``/``TypeError`` that names the
argument, its value and what is allowed (DESIGN.md, "Errors").
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Prior",
    "check_int_array",
    "check_positive_int",
    "check_probability",
    "resolve_prior",
    "short_repr",
]

#: Probabilities given by the user must sum to 1 within this tolerance.
PROB_SUM_TOL = 1e-9


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` of *value*, cut to *limit* characters for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return *value* as a Python ``int`` ``>= minimum`` or raise naming *name*."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    if isinstance(value, numbers.Integral):
        ivalue = int(value)
    else:
        fvalue = float(value)
        if not math.isfinite(fvalue) or fvalue != math.floor(fvalue):
            raise ValueError(
                f"{name} must be an integer >= {minimum}, got {short_repr(value)}"
            )
        ivalue = int(fvalue)
    if ivalue < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    return ivalue


def check_int_array(value: Any, name: str, *, minimum: int = 0) -> tuple[NDArray[np.int64], bool]:
    """Validate a scalar or array of non-negative integers.

    Returns ``(array, is_scalar)`` where ``array`` is an ``int64`` ndarray (0-d
    for scalars).  Integral floats (``3.0``) are accepted; ``bool``, strings,
    NaN, infinities, fractions and values below *minimum* are rejected.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}") from exc
    is_scalar = arr.ndim == 0
    if arr.dtype == object:
        try:
            items = [check_positive_int(v, name, minimum=minimum) for v in arr.ravel()]
        except OverflowError as exc:  # pragma: no cover
            raise ValueError(f"{name} is too large: {short_repr(value)}") from exc
        if any(v > np.iinfo(np.int64).max for v in items):
            raise ValueError(f"{name} must fit in int64, got {short_repr(value)}")
        out = np.array(items, dtype=np.int64).reshape(arr.shape)
        return out, is_scalar
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be an integer or array of integers >= {minimum}, "
            f"got {short_repr(value)} (dtype {arr.dtype})"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got {short_repr(value)}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite integers >= {minimum}, got {short_repr(value)}")
        if np.any(arr != np.floor(arr)):
            raise ValueError(f"{name} must be integers >= {minimum}, got {short_repr(value)}")
        if np.any(np.abs(arr) > 2.0**62):
            raise ValueError(f"{name} must fit in int64, got {short_repr(value)}")
    out = arr.astype(np.int64)
    if np.any(out < minimum):
        bad = out[out < minimum].ravel()[0]
        raise ValueError(f"{name} must be integers >= {minimum}, got {int(bad)} in {short_repr(value)}")
    return out, is_scalar


def check_probability(value: Any, name: str, *, open_left: bool = True, open_right: bool = True) -> float:
    """A real number in (0, 1) (or with closed ends) as ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {short_repr(value)}")
    v = float(value)
    lo_ok = v > 0 if open_left else v >= 0
    hi_ok = v < 1 if open_right else v <= 1
    if not (math.isfinite(v) and lo_ok and hi_ok):
        lo = "(0" if open_left else "[0"
        hi = "1)" if open_right else "1]"
        raise ValueError(f"{name} must be in {lo}, {hi}, got {short_repr(value)}")
    return v


@dataclass(frozen=True)
class Prior:
    """A validated class prior.

    Attributes
    ----------
    C : int
        Number of classes.
    probs : ndarray or None
        Class probabilities (float64, sum 1), or ``None`` for the uniform prior.
    counts : tuple of int or None
        The integer class counts when the user gave ``counts=``; exact
        arithmetic and the without-replacement model use them.
    raw_probs : tuple of float or None
        The probabilities exactly as the user gave them; exact arithmetic
        takes their binary values as rationals and renormalises exactly.
    """

    C: int
    probs: NDArray[np.float64] | None
    counts: tuple[int, ...] | None = None
    raw_probs: tuple[float, ...] | None = None

    @property
    def uniform(self) -> bool:
        """``True`` when every class has probability ``1/C``."""
        return self.probs is None

    def prob_array(self) -> NDArray[np.float64]:
        """Probabilities as a float64 array (``1/C`` each when uniform)."""
        if self.probs is None:
            return np.full(self.C, 1.0 / self.C)
        return self.probs

    def fractions(self) -> list[Fraction]:
        """Probabilities as exact fractions (from counts when given)."""
        if self.counts is not None:
            total = sum(self.counts)
            return [Fraction(c, total) for c in self.counts]
        if self.probs is None:
            return [Fraction(1, self.C)] * self.C
        source = self.raw_probs if self.raw_probs is not None else tuple(self.probs)
        fr = [Fraction(float(p)) for p in source]
        ftotal = sum(fr, Fraction(0))
        return [f / ftotal for f in fr]

    def distinct(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Distinct probabilities and their multiplicities (sorted ascending)."""
        vals, mult = np.unique(self.prob_array(), return_counts=True)
        return vals, mult.astype(np.int64)


def resolve_prior(
    C: Any = None,
    probs: Any = None,
    counts: Any = None,
) -> Prior:
    """Turn the ``C`` / ``probs=`` / ``counts=`` trio into a :class:`Prior`.

    Exactly one way to give the prior: ``C`` alone (uniform), or ``probs`` or
    ``counts`` (then ``C``, if given, must equal their length).  Probabilities
    must be finite, positive and sum to 1 (within 1e-9; they are then
    renormalised); counts must be positive integers.  A prior whose classes
    are all equally likely is recognised as uniform.
    """
    if probs is not None and counts is not None:
        raise ValueError("give at most one of probs= and counts=, got both")
    if probs is None and counts is None:
        if C is None:
            raise TypeError("give the number of classes C, or probs=, or counts=")
        c = check_positive_int(C, "C")
        return Prior(C=c, probs=None)
    source = "probs" if probs is not None else "counts"
    raw = probs if probs is not None else counts
    if isinstance(raw, str | bytes):
        raise TypeError(f"{source} must be a 1-d sequence of numbers, got {short_repr(raw)}")
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{source} must be a 1-d sequence of numbers, got {short_repr(raw)}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{source} must be a non-empty 1-d sequence, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source} must be finite, got {short_repr(raw)}")
    if np.any(arr <= 0):
        i = int(np.flatnonzero(arr <= 0)[0])
        raise ValueError(
            f"{source} must be positive (a class that never occurs is never covered), "
            f"got {source}[{i}] = {arr[i]!r}"
        )
    if C is not None:
        c = check_positive_int(C, "C")
        if c != arr.size:
            raise ValueError(f"C = {c} contradicts {source}= of length {arr.size}")
    int_counts: tuple[int, ...] | None = None
    if source == "counts":
        if np.any(arr != np.floor(arr)):
            raise ValueError(f"counts must be positive integers, got {short_repr(raw)}")
        raw_list = list(np.ravel(np.asarray(raw, dtype=object)))
        int_counts = tuple(int(v) for v in raw_list)
        total = sum(int_counts)
        p = np.array([Fraction(v, total) for v in int_counts], dtype=float)
    else:
        s = float(math.fsum(arr))
        if abs(s - 1.0) > PROB_SUM_TOL:
            raise ValueError(
                f"probs must sum to 1 (within {PROB_SUM_TOL:g}), got sum {s!r}; "
                "pass counts= for unnormalised weights"
            )
        p = arr / s
    if np.all(p == p[0]) or (int_counts is not None and len(set(int_counts)) == 1):
        return Prior(C=int(arr.size), probs=None, counts=int_counts)
    raw = tuple(float(v) for v in arr) if source == "probs" else None
    return Prior(C=int(arr.size), probs=p, counts=int_counts, raw_probs=raw)
