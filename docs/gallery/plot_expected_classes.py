"""
How many classes does a batch see?
==================================

Full coverage is all or nothing; :func:`couponbound.distinct_classes` gives
the whole law of the number :math:`D` of distinct classes among the anchor
and its :math:`K` negatives, and :func:`couponbound.expected_classes` its
mean.  Solid lines are :math:`\\mathbb{E}[D]`, shaded bands hold the middle
90 % of batches (from the exact 5 % and 95 % quantiles), dotted lines the
number of classes :math:`C`.  On CIFAR-100-LT (:math:`r = 100`) a batch of
512 sees about 76 of the 100 classes, whether the loader draws independently
or shuffles the 10,847 images (dashed); the two laws part only when the batch
becomes a large share of the data set.
"""

import matplotlib.pyplot as plt

from couponbound import distinct_classes
from couponbound.paper.datasets import DATASETS
from couponbound.paper.plots import plot_expected_classes
from couponbound.paper.style import paper_style

with paper_style("neurips", columns=1, height=2.6):
    fig, ax = plt.subplots()
    plot_expected_classes(ax=ax)

counts = DATASETS["CIFAR-100-LT (r=100)"].counts
for replacement in (True, False):
    D = distinct_classes(511, counts=counts, replacement=replacement)
    print(f"replacement={replacement}: E[D] = {D.mean():.2f}, "
          f"90 % of batches see {D.ppf(0.05)} to {D.ppf(0.95)} classes")

plt.show()
