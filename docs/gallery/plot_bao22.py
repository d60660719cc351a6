"""
BAO22's minimum losses: the surrogate gap closes as K grows
===========================================================

BAO22 bound the supervised loss by the contrastive loss plus a gap,
:math:`L^\\mu_\\mathrm{sup} \\le L + \\Delta_U` with
:math:`\\Delta_U = \\ln(\\rho_\\mathrm{max} C^2 \\cosh^2(B^2) / K)`.  At the
smallest contrastive loss any encoder with features of norm at most
:math:`B` can reach,

.. math::

   R^*_\\mathrm{cont}(K) = \\mathbb{E}_{m \\sim \\mathrm{Bin}(K, 1/C)}
   \\ln\\bigl(1 + m + (K - m) e^{-2B^2}\\bigr),

the bound (solid) comes down towards the smallest supervised loss,
:math:`R^*_{\\mu\\text{-supv}} = \\ln(1 + (C - 1) e^{-2B^2})` (dotted), as
the number of negatives :math:`K` grows: BAO22's figure, for
:math:`C = 50` and :math:`100`, :math:`K = 1, \\dots, 99`, :math:`B = 1`
(:func:`couponbound.bounds.bao22_min_contrastive`,
:func:`couponbound.bounds.bao22_min_supervised`,
:func:`couponbound.sup_upper_bounds`).  The minimum is BAO22's own setting
(:math:`d = 0`), hence ``warn=False``.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound import sup_upper_bounds
from couponbound.bounds import bao22_min_contrastive, bao22_min_supervised
from couponbound.paper.style import paper_style

K = np.arange(1, 100)
with paper_style("neurips", columns=1):
    fig, ax = plt.subplots()
    for C, color in ((50, "#D55E00"), (100, "#0072B2")):
        r_cont = bao22_min_contrastive(K, C, B=1.0)
        upper = sup_upper_bounds(r_cont, K, C, B=1.0, warn=False).bao  # R* + Delta_U
        r_sup = bao22_min_supervised(C, B=1.0)
        ax.plot(K, upper, "-", color=color, lw=1.6,
                label=rf"$R^*_\mathrm{{cont}} + \Delta_U$ ($C={C}$)")
        ax.plot(K, np.full(K.shape, r_sup), ":", color=color, lw=1.6,
                label=rf"$R^*_{{\mu\text{{-supv}}}}$ ($C={C}$)")
    ax.set_xlabel(r"negatives $K$")
    ax.set_ylabel("loss")
    ax.set_xlim(1, 99)
    ax.set_ylim(1.5, 6.5)
    ax.legend(fontsize="small", loc="upper right")
    ax.grid(True, lw=0.4, alpha=0.4)

plt.show()
