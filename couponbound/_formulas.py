r"""Each bound's formula, written once, as plain arithmetic: NS21, ARORA19, ASH22, BAO22.

Every formula of a bound lives here and nowhere else.  The functions use only
``+ - * /`` on their arguments, plus the ``log``, ``log1p``, ``exp`` or
``maximum`` their caller passes in, so the same code serves Python floats,
numpy arrays and sympy expressions: :mod:`couponbound.bounds` (numbers and
curves, passing numpy's functions), :mod:`couponbound.training` (measured
terms) and :mod:`couponbound.symbolic` (closed forms, passing sympy's) all
call them.  Guards (vacuous denominators, unmeasured terms, ``K = 0``) belong
to the callers.

The formulas are explained in the documentation, :ref:`math-bounds` and
:ref:`math-comparison`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "arora_bound",
    "arora_sup_upper",
    "ash22_factor",
    "ash22_sup_upper",
    "bao22_col_loss",
    "bao22_lower_gap",
    "bao22_min_sup_loss",
    "bao22_upper_gap",
    "bao22_weight",
    "ns21_bound",
    "ns21_parts",
    "ns21_sup_upper",
]

#: A one-argument function passed in: ``math.log1p``, ``np.log1p``, ``lambda x: sympy.log(1 + x)``.
Unary = Callable[[Any], Any]


def ns21_parts(upsilon: Any, sup: Any, sub: Any, collision: Any) -> tuple[Any, Any, Any]:
    """The three halves NS21's bound adds to ``d``:

    .. math::

        (\\upsilon L_\\mathrm{sup}/2,\\ (1 - \\upsilon) L_\\mathrm{sub}/2,\\
        \\mathbb{E}\\ln(1+\\mathrm{Col})/2)

    >>> ns21_parts(0.5, 2.0, 1.0, 0.5)
    (0.5, 0.25, 0.25)
    """
    return upsilon * sup / 2, (1 - upsilon) * sub / 2, collision / 2


def ns21_bound(upsilon: Any, sup: Any, sub: Any, collision: Any, d: Any) -> Any:
    """NS21's lower bound on :math:`L_\\mathrm{Info}`:

    .. math::

        (\\upsilon L_\\mathrm{sup} + (1 - \\upsilon) L_\\mathrm{sub}
        + \\mathbb{E}\\ln(1+\\mathrm{Col})) / 2 + d

    With measured sums (:math:`S_\\mathrm{sup} = \\upsilon L_\\mathrm{sup}`,
    :math:`S_\\mathrm{sub} = (1-\\upsilon) L_\\mathrm{sub}`) pass ``upsilon=1, sup=S_sup + S_sub, sub=0``.

    >>> ns21_bound(0.69, 1.26 / 0.69, 0.52 / 0.31, 1.32, -1.16)
    0.39...
    """
    sup_term, sub_term, collision_term = ns21_parts(upsilon, sup, sub, collision)
    return sup_term + sub_term + collision_term + d


def ns21_sup_upper(contrastive: Any, upsilon: Any, sub: Any, collision: Any, d: Any) -> Any:
    """NS21's bound solved for :math:`L_\\mathrm{sup}`:

    .. math::

        (2 (L_\\mathrm{Info} - d) - (1 - \\upsilon) L_\\mathrm{sub}
        - \\mathbb{E}\\ln(1+\\mathrm{Col})) / \\upsilon

    >>> round(ns21_sup_upper(2.02, 0.69, 1.68, 1.32, -1.16), 2)
    6.55
    """
    return (2 * (contrastive - d) - (1 - upsilon) * sub - collision) / upsilon


def arora_bound(tau: Any, arora_sub: Any, collision: Any, d: Any) -> Any:
    """ARORA19's lower bound on :math:`L_\\mathrm{Info}` as NS21 restate it:
    :math:`(1 - \\tau) L_\\mathrm{sub,distinct} + \\mathbb{E}\\ln(1+\\mathrm{Col}) + d`.

    >>> round(arora_bound(0.96, 1.75, 1.32, -1.16), 2)
    0.23
    """
    return (1 - tau) * arora_sub + collision + d


def arora_sup_upper(contrastive: Any, tau: Any, upsilon: Any, collision: Any, d: Any) -> Any:
    """ARORA19's bound solved for :math:`L_\\mathrm{sup}`:
    :math:`(L_\\mathrm{Info} - \\mathbb{E}\\ln(1+\\mathrm{Col}) - d) / ((1 - \\tau)\\,\\upsilon)`.

    >>> round(arora_sup_upper(2.02, 0.96, 0.69, 1.32, -1.16), 1)
    67.4
    """
    return (contrastive - collision - d) / ((1 - tau) * upsilon)


def ash22_factor(C: Any, harmonic_c1: Any, K: Any, maximum: Callable[[Any, Any], Any]) -> Any:
    """ASH22's coefficient :math:`2 \\max(1, 2 (C-1) H_{C-1} / K)` (``K > 0``).

    ``harmonic_c1`` is :math:`H_{C-1}`; :math:`2 (C-1) H_{C-1}` is twice the
    expected number of draws to collect :math:`C - 1` classes.

    >>> ash22_factor(10, 2.8289682539682537, 31, max)
    3.2853...
    """
    return 2 * maximum(1, 2 * (C - 1) * harmonic_c1 / K)


def ash22_sup_upper(contrastive: Any, miss: Any, collision: Any, d: Any, factor: Any) -> Any:
    """ASH22's bound on :math:`L_\\mathrm{sup}` (ARORA19's decomposition, so ``d`` enters as there):
    :math:`\\mathrm{factor} \\cdot (L - \\mathbb{E}\\ln(1+\\mathrm{Col}) - d) / (1 - \\tau)`,
    with ``miss`` :math:`= 1 - \\tau` passed as computed.

    >>> round(ash22_sup_upper(2.02, 0.0382, 1.32, -1.16, 3.285), 1)
    160.0
    """
    return factor * (contrastive - collision - d) / miss


def bao22_weight(B: Any, exp: Unary) -> Any:
    """:math:`e^{-2B^2}`, the least weight of a negative of another class in BAO22's loss.

    >>> import math; round(bao22_weight(1.0, math.exp), 4)
    0.1353
    """
    return exp(-2 * B**2)


def bao22_col_loss(m: Any, K: Any, weight: Any, log1p: Unary) -> Any:
    """BAO22's least loss of a draw with ``m`` of the ``K`` negatives in the anchor's class:
    :math:`\\ln(1 + m + (K - m) e^{-2B^2})` (``weight`` :math:`= e^{-2B^2}`); its mean over
    the law of :math:`\\mathrm{Col}` is :math:`R^*_\\mathrm{cont}(K)`.

    >>> import math; round(bao22_col_loss(1, 3, 0.5, math.log1p), 4)   # ln(1 + 1 + 2 * 0.5)
    1.0986
    """
    return log1p(m + (K - m) * weight)


def bao22_min_sup_loss(C: Any, weight: Any, log1p: Unary) -> Any:
    """BAO22's minimum supervised loss :math:`\\ln(1 + (C - 1) e^{-2B^2})`.

    >>> import math; round(bao22_min_sup_loss(100, math.exp(-2), math.log1p), 4)
    2.6671
    """
    return log1p((C - 1) * weight)


def bao22_upper_gap(log_rho_max_c2: Any, log_cosh_b2: Any, log_K: Any) -> Any:
    """BAO22's :math:`\\Delta_U = \\ln(\\rho_{\\max} C^2 \\cosh^2(B^2) / K)`, from its logarithms:
    ``log_rho_max_c2`` :math:`= \\ln(\\rho_{\\max} C^2)`, ``log_cosh_b2``
    :math:`= \\ln\\cosh B^2`, ``log_K`` :math:`= \\ln K`.

    >>> import math; bao22_upper_gap(math.log(10), 0.0, math.log(10))
    0.0
    """
    return log_rho_max_c2 + 2 * log_cosh_b2 - log_K


def bao22_lower_gap(entropy: Any, log_K: Any, log1p_K: Any, log_cosh_b2: Any) -> Any:
    """BAO22's :math:`\\Gamma = H(\\rho) + \\ln K - 2\\ln(1+K) - 2\\ln\\cosh B^2`.

    >>> import math; round(bao22_lower_gap(math.log(10), math.log(31), math.log(32), 0.0), 4)
    -1.1949
    """
    return entropy + log_K - 2 * log1p_K - 2 * log_cosh_b2
