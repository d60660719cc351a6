"""
Collisions: ARORA19's probability and NS21's log term
=====================================================

A collision is a negative of the anchor's own class.  ARORA19's collision
probability :math:`\\tau_K` (solid, left axis) reaches 1 after a few times
:math:`C` negatives, which makes their bound explode; NS21's term
:math:`\\mathrm{E}\\ln(1 + \\mathrm{Col})` (dashed, right axis) grows only
like :math:`\\ln(1 + K/C)`.
"""

import matplotlib.pyplot as plt

from couponbound.paper.datasets import DEFAULT_DATASETS
from couponbound.paper.plots import plot_collision
from couponbound.paper.style import paper_style

with paper_style("neurips", columns=1, height=2.6):
    fig, ax = plt.subplots()
    plot_collision(C=DEFAULT_DATASETS, ax=ax)

plt.show()
