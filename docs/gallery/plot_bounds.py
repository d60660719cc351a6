"""
Upper bounds on the supervised loss, by paper
=============================================

For a contrastive loss :math:`L`, the bounds of ARORA19, NS21, ASH22 and BAO22
on the mean classifier's supervised loss, as BAO22 compare them (10 classes,
features of norm 1).  To the left of the dotted line, :math:`K + 1 < C`: no
batch covers every class and NS21's bound is vacuous.  ARORA19's and ASH22's
bounds grow exponentially in :math:`K`; NS21's settles, BAO22's stays flat.

The contrastive loss here is BAO22's :math:`R^*_\\mathrm{cont}(K)`, the
smallest contrastive loss features of norm 1 can reach; in BAO22's setting
(positives drawn from the anchor's class) :math:`d(f) = 0`, so the restated
rows of the table are the valid bounds.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound.paper.plots import plot_sup_upper_bounds
from couponbound.paper.style import paper_style

with paper_style("neurips", columns=1, height=2.6):
    fig, ax = plt.subplots()
    plot_sup_upper_bounds(K=np.arange(1, 100), C=10, ax=ax)

# %%
# More classes
# ------------
#
# With 100 classes every bound needs more negatives before it says anything,
# and the gap between NS21's and ARORA19's bounds widens.

with paper_style("neurips", columns=2):
    fig, ax = plt.subplots()
    plot_sup_upper_bounds(C=100, ax=ax)

plt.show()
