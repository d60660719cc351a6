"""Argument checking shared by the whole package.

Every public function funnels its user-facing arguments through these helpers
so that bad input always raises a ``ValueError``/``TypeError`` that names the
argument, its value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MAX_FLOAT_INT",
    "MAX_INT",
    "check_flag",
    "check_int_array",
    "check_positive_int",
    "check_probability",
    "check_probability_array",
    "check_real",
    "check_real_array",
    "check_size",
    "plain",
    "short_repr",
    "unmasked",
]

#: Largest number of draws / negatives / classes the numeric core accepts:
#: ``2**62`` (about 4.6e18), so that ``K + 1`` and sums of two such numbers
#: never overflow ``int64``.
MAX_INT = 2**62
#: Largest integer any argument may hold (``int(sys.float_info.max)``, about
#: 1.8e308): every count, size or number of classes must convert to a float.
MAX_FLOAT_INT = int(sys.float_info.max)


def plain(value: Any) -> Any:
    """*value* with numpy scalars (also inside a list or tuple) as Python numbers, for messages."""
    if isinstance(value, np.number | np.bool_):
        return value.item()
    if isinstance(value, list | tuple) and len(value) <= 100:
        return type(value)(v.item() if isinstance(v, np.number | np.bool_) else v for v in value)
    return value


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` of *value*, cut to *limit* characters for error messages.

    numpy scalars show as the numbers they hold (``0.0``, not ``np.float64(0.0)``).
    """
    try:
        text = repr(plain(value))
    except Exception:  # noqa: BLE001 - a message must never fail
        text = object.__repr__(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unmasked(value: Any, name: str) -> Any:
    """*value*, or the data of a masked array without masked entries.

    A ``numpy.ma`` masked array (or the masked constant) with any masked entry
    is refused with a ``TypeError``: computing with the hidden values would be silently wrong, and
    dropping them would change the argument's meaning (the number of classes,
    which ``K`` is meant).
    """
    if isinstance(value, np.ma.MaskedArray) or value is np.ma.masked:
        if value is np.ma.masked or np.ma.count_masked(value):
            raise TypeError(f"{name} must be a real number or array of them without masked "
                            f"entries, got a masked array {short_repr(value)}; pass the values "
                            f"to use (e.g. {name}.compressed())")
        return np.ma.getdata(value)
    if isinstance(value, list | tuple) and any(v is np.ma.masked for v in value):
        raise TypeError(f"{name} must be a real number or array of them, got a masked value "
                        f"in {short_repr(value)}")
    return value


def _too_large(name: str, minimum: int, value: Any) -> ValueError:
    return ValueError(f"{name} must be an integer in [{minimum}, 1.8e308] (a float must hold "
                      f"it), got {short_repr(value)}")


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return *value* as a Python ``int`` ``>= minimum`` (and at most
    :data:`MAX_FLOAT_INT`) or raise naming *name*."""
    value = unmasked(value, name)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    if isinstance(value, numbers.Integral):
        ivalue = int(value)
        if ivalue > MAX_FLOAT_INT:
            raise _too_large(name, minimum, value)
    else:
        try:
            fvalue = float(value)
        except OverflowError as exc:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}") from exc
        if not math.isfinite(fvalue) or fvalue != math.floor(fvalue):
            raise ValueError(
                f"{name} must be an integer >= {minimum}, got {short_repr(value)}"
            )
        ivalue = int(fvalue)
    if ivalue < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {short_repr(value)}")
    return ivalue


def check_int_array(value: Any, name: str, *, minimum: int = 0,
                    maximum: int = MAX_INT) -> tuple[NDArray[np.int64], bool]:
    """Validate a scalar or array of integers in ``[minimum, maximum]``.

    Returns ``(array, is_scalar)`` where ``array`` is an ``int64`` ndarray (0-d
    for scalars).  Python and numpy integers (any width, signed or not) and
    integral floats (``3.0``) are accepted; ``bool``, strings, NaN,
    infinities, fractions, empty arrays and values outside the range are
    refused with an error that shows the value as given.
    """
    what = f"{name} must be an integer or array of integers in [{minimum}, {maximum}]"
    value = unmasked(value, name)
    if isinstance(value, bool | np.bool_ | str | bytes | dict) or value is None:
        raise TypeError(f"{what}, got {short_repr(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nesting, exotic objects
        raise TypeError(f"{what}, got {short_repr(value)}") from exc
    is_scalar = arr.ndim == 0
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got {short_repr(value)}")
    if arr.dtype == object:
        items = []
        for v in arr.ravel():
            if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real):
                raise TypeError(f"{what}, got {short_repr(v)} in {short_repr(value)}")
            if isinstance(v, numbers.Integral):
                items.append(int(v))
            else:
                try:
                    fv = float(v)
                except OverflowError:
                    fv = math.inf
                if not math.isfinite(fv) or fv != math.floor(fv):
                    raise ValueError(f"{what}, got {short_repr(v)} in {short_repr(value)}")
                items.append(int(fv))
        for iv in items:
            if not minimum <= iv <= maximum:
                raise ValueError(f"{what}, got {iv} in {short_repr(value)}")
        return np.array(items, dtype=np.int64).reshape(arr.shape), is_scalar
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{what}, got {short_repr(value)} (dtype {arr.dtype})")
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64)  # float16/float32: compare in float64, no overflow in casts
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite integers, got {short_repr(value)}")
        if np.any(arr != np.floor(arr)):
            raise ValueError(f"{what}, got {short_repr(value)}")
        lo_bad = arr < minimum
        hi_bad = arr > float(maximum)
    else:
        # compare as Python ints: no wrap-around for uint64 above int64's range
        lo_bad = np.array([int(v) < minimum for v in arr.ravel()]).reshape(arr.shape) \
            if arr.dtype.kind == "u" else arr < minimum
        hi_bad = np.array([int(v) > maximum for v in arr.ravel()]).reshape(arr.shape) \
            if arr.dtype.kind == "u" else arr > maximum
    bad = np.asarray(lo_bad | hi_bad)
    if np.any(bad):
        first = arr.ravel()[int(np.argmax(bad.ravel()))]
        shown = int(first) if arr.dtype.kind in "iu" else float(first)
        raise ValueError(f"{what}, got {shown} in {short_repr(value)}")
    return arr.astype(np.int64), is_scalar


def check_size(value: Any, name: str = "size", *, limit: int = 10**8) -> tuple[int, ...] | None:
    """A ``size=`` argument of a sampler: ``None``, an int ``>= 0`` or a tuple of them.

    Returns the shape (``None`` for a single draw); refuses more than
    *limit* draws in all.
    """
    if value is None:
        return None
    items = value if isinstance(value, tuple | list) else (value,)
    shape = []
    for v in items:
        if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be None, an int >= 0 or a tuple of them, "
                            f"got {short_repr(value)}")
        if int(v) < 0:
            raise ValueError(f"{name} must be >= 0, got {short_repr(value)}")
        shape.append(int(v))
    if math.prod(shape) > limit:
        raise ValueError(f"{name} asks for {math.prod(shape)} draws; at most {limit} per call")
    return tuple(shape) if isinstance(value, tuple | list) else (shape[0],)


def _as_float(value: Any, name: str, allowed: str) -> float:
    """``float(value)`` for a real number (not bool, not str), else a named error."""
    value = unmasked(value, name)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {allowed}, got {short_repr(value)}")
    try:
        return float(value)
    except OverflowError as exc:
        raise ValueError(f"{name} must be {allowed}, got {short_repr(value)}") from exc


def check_real(value: Any, name: str, *, positive: bool = False,
               nonfinite: bool = False) -> float:
    """A finite real number (Python or numpy; not bool, not str) as ``float``;
    ``positive=True`` also requires it to be > 0; ``nonfinite=True`` lets
    NaN and infinities through (an integer beyond the float range is still
    refused)."""
    allowed = ("a real number" if nonfinite else "a finite real number") + \
        (" > 0" if positive else "")
    v = _as_float(value, name, allowed)
    if nonfinite and not math.isfinite(v):
        if math.isnan(v) or not positive or v > 0:
            return v
    if not math.isfinite(v) or (positive and v <= 0):
        raise ValueError(f"{name} must be {allowed}, got {short_repr(value)}")
    return v


def check_probability_array(value: Any, name: str) -> tuple[NDArray[np.float64], bool]:
    """A scalar or array of reals in (0, 1) (not bool, not str); ``(array, is_scalar)``."""
    value = unmasked(value, name)
    if isinstance(value, bool | np.bool_ | str | bytes | dict) or value is None:
        raise TypeError(f"{name} must be a real number in (0, 1), got {short_repr(value)}")
    try:
        raw = np.asarray(value)
    except Exception as exc:
        raise TypeError(f"{name} must be a real number in (0, 1), got {short_repr(value)}") from exc
    if raw.size == 0:
        raise ValueError(f"{name} must not be empty, got {short_repr(value)}")
    if raw.dtype == object:
        vals = [check_probability(v, name) for v in raw.ravel()]
        return np.array(vals, dtype=float).reshape(raw.shape), raw.ndim == 0
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number in (0, 1), got {short_repr(value)} "
                        f"(dtype {raw.dtype})")
    arr = raw.astype(float)
    bad = ~((arr > 0) & (arr < 1))
    if np.any(bad):
        raise ValueError(f"{name} must be in (0, 1), got {float(arr.ravel()[int(np.argmax(bad.ravel()))])!r}")
    return arr, raw.ndim == 0


def check_flag(value: Any, name: str) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or numpy bools) are accepted."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


def check_probability(value: Any, name: str, *, open_left: bool = True, open_right: bool = True) -> float:
    """A real number in (0, 1) (or with closed ends) as ``float``."""
    v = _as_float(value, name, "a real number in (0, 1)")
    lo_ok = v > 0 if open_left else v >= 0
    hi_ok = v < 1 if open_right else v <= 1
    if not (math.isfinite(v) and lo_ok and hi_ok):
        lo = "(0" if open_left else "[0"
        hi = "1)" if open_right else "1]"
        raise ValueError(f"{name} must be in {lo}, {hi}, got {short_repr(value)}")
    return v


def check_real_array(value: Any, name: str, *, minimum: float | None = None,
                     maximum: float | None = None, why: str = "",
                     allow_empty: bool = False) -> NDArray[np.float64]:
    """A finite real number or array of them (not bool, str, bytes, a mapping, a
    date, masked entries) as a float64 ndarray, optionally in ``[minimum,
    maximum]``; *why* is added to the range message (``"NS21's d(f) <= 0"``,
    say); ``allow_empty`` accepts an empty array.  A masked array without
    masked entries is its data; an integer beyond the float range is a
    ``ValueError``."""
    what = f"{name} must be a real number or array of them"
    value = unmasked(value, name)
    if isinstance(value, bool | np.bool_ | str | bytes | dict) or value is None:
        raise TypeError(f"{what}, got {short_repr(value)}")
    try:
        raw = np.asarray(value)
        if raw.dtype.kind not in "iuf" and raw.dtype != object:
            raise TypeError(f"dtype {raw.dtype}")
        arr = raw.astype(np.float64)
    except OverflowError as exc:  # 10**400
        raise ValueError(f"{name} must be finite, got {short_repr(value)}") from exc
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what}, got {short_repr(value)}") from exc
    if raw.dtype == object and any(isinstance(v, bool | np.bool_) for v in raw.ravel()):
        raise TypeError(f"{what}, got {short_repr(value)}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got {short_repr(value)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {short_repr(value)}")
    for bound, bad in ((minimum, arr < (minimum or 0.0)), (maximum, arr > (maximum or 0.0))):
        if bound is not None and np.any(bad):
            sign = ">=" if bound is minimum else "<="
            first = float(arr[bad].ravel()[0])
            raise ValueError(f"{name} must be {sign} {bound:g}{why}, got {first!r} in "
                             f"{short_repr(value)}")
    return arr
