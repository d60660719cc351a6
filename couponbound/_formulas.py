r"""Each bound's formula, written once, as plain arithmetic.

The functions here use only ``+ - * /`` on their arguments, so the same code
serves Python floats, numpy arrays and sympy expressions: :mod:`couponbound.bounds`
(numbers and curves), :mod:`couponbound.training` (measured terms) and
:mod:`couponbound.symbolic` (closed forms) all call them.  Guards (vacuous
denominators, unmeasured terms) belong to the callers.

The formulas are explained in the documentation, :ref:`math-bounds`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "arora_bound",
    "arora_sup_upper",
    "ns21_bound",
    "ns21_parts",
    "ns21_sup_upper",
]


def ns21_parts(upsilon: Any, sup: Any, sub: Any, collision: Any) -> tuple[Any, Any, Any]:
    """The three halves NS21's bound adds to ``d``:
    ``(upsilon*L_sup/2, (1 - upsilon)*L_sub/2, E ln(1+Col)/2)``.

    >>> ns21_parts(0.5, 2.0, 1.0, 0.5)
    (0.5, 0.25, 0.25)
    """
    return upsilon * sup / 2, (1 - upsilon) * sub / 2, collision / 2


def ns21_bound(upsilon: Any, sup: Any, sub: Any, collision: Any, d: Any) -> Any:
    """NS21's lower bound on ``L_Info``:
    ``(upsilon*L_sup + (1 - upsilon)*L_sub + E ln(1+Col)) / 2 + d``.

    With measured sums (``S_sup = upsilon*L_sup``, ``S_sub = (1-upsilon)*L_sub``)
    pass ``upsilon=1, sup=S_sup + S_sub, sub=0``.

    >>> ns21_bound(0.69, 1.26 / 0.69, 0.52 / 0.31, 1.32, -1.16)
    0.39...
    """
    sup_term, sub_term, collision_term = ns21_parts(upsilon, sup, sub, collision)
    return sup_term + sub_term + collision_term + d


def ns21_sup_upper(contrastive: Any, upsilon: Any, sub: Any, collision: Any, d: Any) -> Any:
    """NS21's bound solved for ``L_sup``:
    ``(2 (L_Info - d) - (1 - upsilon) L_sub - E ln(1+Col)) / upsilon``.

    >>> round(ns21_sup_upper(2.02, 0.69, 1.68, 1.32, -1.16), 2)
    6.55
    """
    return (2 * (contrastive - d) - (1 - upsilon) * sub - collision) / upsilon


def arora_bound(tau: Any, arora_sub: Any, collision: Any, d: Any) -> Any:
    """ARORA19's lower bound on ``L_Info`` as NS21 restate it:
    ``(1 - tau) L_sub,distinct + E ln(1+Col) + d``.

    >>> round(arora_bound(0.96, 1.75, 1.32, -1.16), 2)
    0.23
    """
    return (1 - tau) * arora_sub + collision + d


def arora_sup_upper(contrastive: Any, tau: Any, upsilon: Any, collision: Any, d: Any) -> Any:
    """ARORA19's bound solved for ``L_sup``:
    ``(L_Info - E ln(1+Col) - d) / ((1 - tau) upsilon)``.

    >>> round(arora_sup_upper(2.02, 0.96, 0.69, 1.32, -1.16), 1)
    67.4
    """
    return (contrastive - collision - d) / ((1 - tau) * upsilon)
