"""
Coverage against the number of negatives
========================================

The probability :math:`\\upsilon_{K+1}` that an anchor and its :math:`K`
negatives contain every latent class (NS21, Section 4), for CIFAR-10,
CIFAR-100 and an ImageNet-scale data set of 1000 equally likely classes.
Circles mark NS21's expected batch size :math:`\\lceil \\mathrm{E}[K+1]
\\rceil` (their Table 3), squares the smallest :math:`K` with 99 % coverage;
dashed lines are ER61's Gumbel approximation :math:`\\exp(-C e^{-(K+1)/C})`,
which is close once :math:`C` is large.
"""

import matplotlib.pyplot as plt

from couponbound import Prior
from couponbound.paper.datasets import DEFAULT_DATASETS
from couponbound.paper.plots import plot_coverage
from couponbound.paper.style import paper_style

with paper_style("neurips", columns=1, height=2.6):
    fig, ax = plt.subplots()
    plot_coverage(C=DEFAULT_DATASETS, ax=ax)

# %%
# Non-uniform class priors
# ------------------------
#
# A long-tailed prior needs many more negatives: the rarest class sets the
# pace.  Here 100 classes with counts falling like :math:`1/c`, next to the
# uniform prior.  For a non-uniform prior the approximation is
# Poissonisation, :math:`\prod_c (1 - e^{-(K+1)\rho_c})`; an approximation
# is drawn only where it differs visibly (by more than 0.005) from the exact
# curve, which Poissonisation here does not.

counts = [round(1000 / c) for c in range(1, 101)]
with paper_style("neurips", columns=2):
    fig, ax = plt.subplots()
    plot_coverage(C=[Prior.uniform(100, name="uniform, C = 100"),
                     Prior.from_counts(counts, name="long tail, C = 100")], ax=ax)

plt.show()
