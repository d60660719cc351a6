"""Coverage levels as the tables name them (private): ``0.99`` -> ``"99"``."""

from __future__ import annotations

import numbers
from typing import Any

from couponbound._validate import short_repr


def pct(q: float) -> str:
    """A coverage level in percent, as in the column key ``K_for_99``."""
    return f"{q * 100:g}"


def check_confidences(confidences: Any) -> tuple[float, ...]:
    """One number or a sequence of numbers in (0, 1), as a tuple of floats."""
    if isinstance(confidences, numbers.Real):
        confidences = (confidences,)
    try:
        qs = tuple(confidences)
    except TypeError as exc:
        raise TypeError(f"confidences must be a sequence of numbers in (0, 1), got "
                        f"{short_repr(confidences)}") from exc
    for q in qs:
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0.0 < float(q) < 1.0:
            raise ValueError(f"confidences must lie in (0, 1), got {short_repr(q)} in "
                             f"{short_repr(confidences)}")
    return tuple(float(q) for q in qs)
