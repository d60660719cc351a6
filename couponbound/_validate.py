"""Argument checking shared by the whole package.

Every public function funnels its user-facing arguments through these helpers
so that bad input always raises a ``ValueError``/``TypeError`` that names the
argument, its value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "check_flag",
    "check_int_array",
    "check_positive_int",
    "check_probability",
    "short_repr",
]


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


def check_flag(value: Any, name: str) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or numpy bools) are accepted."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


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
