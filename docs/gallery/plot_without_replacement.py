"""
Without replacement: what a shuffled data loader draws
======================================================

A data loader that shuffles a finite data set draws a batch *without*
replacement: the :math:`K + 1` samples are distinct, and the number per class
is multivariate hypergeometric.  Coverage then comes sooner than NS21's model
of independent draws predicts, and reaches 1 once the batch holds the whole
data set (:func:`couponbound.coverage_prob` with ``replacement=False``,
:ref:`math-without-replacement`).  Here CIFAR-100-LT (:math:`r = 100`, 10,847
images): the batch size for 99 % coverage is 7,766 from a shuffled loader and
13,653 under independent draws.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound import Prior, coverage_prob, required_negatives
from couponbound.paper.datasets import DATASETS
from couponbound.paper.plots import plot_coverage
from couponbound.paper.style import paper_style

counts = DATASETS["CIFAR-100-LT (r=100)"].counts
iid = Prior.from_counts(counts, name="independent draws")
shuffled = Prior.from_counts(counts, replacement=False, name="shuffled loader")

with paper_style("neurips", columns=1, height=2.4):
    fig, ax = plt.subplots()
    plot_coverage(C=[iid, shuffled], ax=ax, expected=False)

print("K for 99 %:", required_negatives(iid), "(independent),",
      required_negatives(shuffled), "(shuffled)")

# %%
# The difference in coverage
# --------------------------
#
# How much coverage the model of independent draws misses at each batch
# size of the shuffled loader.

K = np.unique(np.geomspace(1500, sum(counts) - 1, 200).astype(int))
with paper_style("neurips", columns=1):
    fig, ax = plt.subplots()
    ax.plot(K, coverage_prob(K, counts=counts, replacement=False)
            - coverage_prob(K, counts=counts), color="#CC79A7")
    ax.set_xscale("log")
    ax.set_xlabel(r"negatives $K$")
    ax.set_ylabel(r"$\upsilon_{K+1}$: shuffled $-$ independent")
    ax.grid(True, lw=0.4, alpha=0.4)

plt.show()
