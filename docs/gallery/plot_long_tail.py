"""
Long-tailed data sets: the rarest class sets the batch size
===========================================================

On a long-tailed data set (CIFAR-100-LT with imbalance ratio
:math:`r` = largest / smallest class) a batch covers every class only once it
has drawn the rarest one, so the coverage :math:`\\upsilon_{K+1}` needs many
times more negatives than for balanced classes: NS21's expected batch size
:math:`\\mathbb{E}[K+1]` grows from 519 (balanced CIFAR-100) to 5,981 at
:math:`r = 100`.  The exact values come from the same function as for uniform
priors, :func:`couponbound.coverage_prob`; the x axis starts where the first
curve becomes visible.
"""

import matplotlib.pyplot as plt

from couponbound import expected_draws
from couponbound.paper.datasets import DATASETS
from couponbound.paper.plots import plot_coverage
from couponbound.paper.style import paper_style

sets = [DATASETS[n] for n in ("CIFAR-100", "CIFAR-100-LT (r=10)", "CIFAR-100-LT (r=50)",
                              "CIFAR-100-LT (r=100)")]
with paper_style("neurips", columns=1, height=2.4):
    fig, ax = plt.subplots()
    plot_coverage(C=sets, ax=ax)

for prior in sets:
    print(f"{prior.label:22s} E[K+1] = {expected_draws(prior):8.1f}")

# %%
# The same data sets over two columns, where the legend fits in one row
# of names.

with paper_style("neurips", columns=2):
    fig, ax = plt.subplots()
    plot_coverage(C=sets, ax=ax, expected=False)

plt.show()
