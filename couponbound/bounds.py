"""Bounds of NS21 and its peers (ARORA19, ASH22, BAO22); see MATH.md section 5."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["BoundTerms"]

_LOSS_FIELDS = ("contrastive", "sup", "sub", "collision", "curl_sub")
_PROB_FIELDS = ("upsilon", "tau")


@dataclass(frozen=True)
class BoundTerms:
    """The measured (or assumed) quantities that NS21's and ARORA19's bounds combine.

    Parameters
    ----------
    contrastive : float
        ``L_Info``, the InfoNCE loss with ``K`` negatives (>= 0).
    sup : float
        ``L^mu_sup``, the mean-classifier loss over all ``C`` classes, averaged
        over the draws that cover every class (>= 0; ignored when
        ``upsilon == 0``).
    sub : float
        ``L^mu_sub``, the mean-classifier loss over the classes present, averaged
        over the draws that miss a class (>= 0; ignored when ``upsilon == 1``).
    collision : float
        ``E ln(1 + Col)`` (>= 0).
    d : float
        NS21's ``d(f) <= 0``.
    upsilon : float
        ``upsilon_{K+1}`` in [0, 1], coverage probability (anchor included).
    tau : float, default nan
        ARORA19's collision probability ``tau_K`` in [0, 1]; ``nan`` if unknown.
    curl_sub : float, default nan
        ``L^mu_sub`` over draws in which no negative shares the anchor's class
        (ARORA19); ``nan`` if unknown.
    K : int or None
        Number of negatives (``K + 1`` samples per draw, anchor included).
    C : int or None
        Number of latent classes.

    Raises
    ------
    ValueError
        Naming the field, when a loss is negative or non-finite, ``d > 0``, or a
        probability is outside [0, 1].  ``tau`` and ``curl_sub`` may be ``nan``
        (meaning "not measured"); nothing else may.
    """

    contrastive: float
    sup: float
    sub: float
    collision: float
    d: float
    upsilon: float
    tau: float = math.nan
    curl_sub: float = math.nan
    K: int | None = None
    C: int | None = None
    _optional: tuple[str, ...] = field(default=("tau", "curl_sub"), init=False, repr=False,
                                       compare=False)

    def __post_init__(self) -> None:
        for name in _LOSS_FIELDS + _PROB_FIELDS + ("d",):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(value)
                except (TypeError, ValueError) as exc:
                    raise TypeError(f"BoundTerms.{name} must be a real number, got {value!r}") from exc
            value = float(value)
            object.__setattr__(self, name, value)
            if math.isnan(value) and name in self._optional:
                continue
            if not math.isfinite(value):
                raise ValueError(f"BoundTerms.{name} must be finite, got {value!r}")
            if name in _LOSS_FIELDS and value < 0:
                raise ValueError(f"BoundTerms.{name} is a loss and must be >= 0, got {value!r}")
            if name in _PROB_FIELDS and not 0.0 <= value <= 1.0:
                raise ValueError(f"BoundTerms.{name} is a probability and must be in [0, 1], got {value!r}")
            if name == "d" and value > 0:
                raise ValueError(f"BoundTerms.d must be <= 0 (NS21's d(f) = E min(0, ...)), got {value!r}")
        for name in ("K", "C"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"BoundTerms.{name} must be an int or None, got {value!r}")
            lo = 0 if name == "K" else 1
            if value < lo:
                raise ValueError(f"BoundTerms.{name} must be >= {lo}, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a flat ``dict`` of plain Python numbers."""
        out = asdict(self)
        out.pop("_optional", None)
        return out
