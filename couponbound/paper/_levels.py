"""Checked levels (private): coverage levels as the tables name them (``0.99`` ->
``"99"``) and validation accuracies, shared by the figures and the writers."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_probability, short_repr, unmasked


def pct(q: float) -> str:
    """A coverage level in percent, as in the column key ``K_for_99``.

    Six significant digits, or as many more as it takes to tell the level
    from 100 % and 0 % (``0.9999999999999999`` is ``"99.99999999999999"``,
    never ``"100"``).
    """
    for digits in range(6, 18):
        text = f"{q * 100:.{digits}g}"
        if 0.0 < float(text) < 100.0:
            return text
    return repr(q * 100)  # pragma: no cover - 17 digits tell every float in (0, 1) apart


def check_confidences(confidences: Any) -> tuple[float, ...]:
    """One number or a sequence of numbers in (0, 1), as a tuple of floats."""
    confidences = unmasked(confidences, "confidences")
    if isinstance(confidences, numbers.Real) or (
            isinstance(confidences, np.ndarray) and confidences.ndim == 0):
        confidences = (confidences,)
    if isinstance(confidences, str | bytes | dict) or confidences is None:
        raise TypeError(f"confidences must be a sequence of numbers in (0, 1), got "
                        f"{short_repr(confidences)}")
    try:
        qs = tuple(confidences)
    except TypeError as exc:
        raise TypeError(f"confidences must be a sequence of numbers in (0, 1), got "
                        f"{short_repr(confidences)}") from exc
    if not qs:
        raise ValueError("confidences must not be empty")
    out = []
    for q in qs:
        try:
            out.append(check_probability(q, "confidences"))
        except ValueError:
            raise ValueError(f"confidences must lie in (0, 1), got {short_repr(q)} in "
                             f"{short_repr(confidences)}") from None
    return tuple(out)


def check_accuracy(accuracy: Any, n: int) -> NDArray[np.float64] | None:
    """``None``, or *n* accuracies in [0, 1] (fractions) or [0, 100] (percent) as percent."""
    if accuracy is None:
        return None
    if isinstance(accuracy, str | bytes):
        raise TypeError(f"accuracy must be a sequence of numbers, got {short_repr(accuracy)}")
    try:
        acc = np.asarray(accuracy, dtype=np.float64).ravel()
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"accuracy must be a sequence of numbers, got {short_repr(accuracy)}") from exc
    if acc.size != n:
        raise ValueError(f"accuracy has {acc.size} values but there are {n} runs")
    if not np.all(np.isfinite(acc)) or np.any(acc < 0) or np.any(acc > 100):
        raise ValueError(f"accuracy must lie in [0, 1] (fractions) or [0, 100] (percent), "
                         f"got {short_repr(accuracy)}")
    return acc * 100.0 if np.all(acc <= 1.0) else acc
