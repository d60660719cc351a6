"""
NS21's Figure 1 and Table 2 from measured runs
==============================================

:class:`~couponbound.BoundMonitor` measures every term of NS21's bound on the
batches of a trained encoder.  Here a stand-in for one: features scattered
around ten class means, measured at five batch sizes.  With a real encoder,
pass its embeddings (numpy, PyTorch, JAX) the same way.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound import BoundMonitor
from couponbound.paper.plots import plot_bound_comparison, plot_bound_decomposition
from couponbound.paper.style import paper_style
from couponbound.paper.tables import decomposition_table

rng = np.random.default_rng(0)
C, dim = 10, 32
means = rng.normal(size=(C, dim))
means /= np.linalg.norm(means, axis=1, keepdims=True)

reports = []
for batch in (32, 64, 128, 256, 512):
    monitor = BoundMonitor(num_classes=C, temperature=0.5, class_means=means)
    for _ in range(20):
        y = rng.integers(0, C, size=batch)
        view0 = means[y] + 0.3 * rng.normal(size=(batch, dim))
        view1 = means[y] + 0.3 * rng.normal(size=(batch, dim))
        monitor.update(anchor=view0, positive=view1, labels=y)
    reports.append(monitor.compute())

print(reports[0])

# %%
# NS21's Figure 1: ARORA19's bound on the supervised loss (NS21's "CURL"
# bars) explodes as the
# batch grows (and becomes vacuous, :math:`\infty`, once every anchor's class
# repeats in its batch), NS21's does not.  The accuracy values are made up
# for the illustration; pass your linear-evaluation accuracies.

with paper_style("neurips", columns=1, height=2.6):
    fig, ax = plt.subplots()
    plot_bound_comparison(reports, accuracy=[0.80, 0.82, 0.83, 0.84, 0.845], ax=ax)

# %%
# NS21's bound, term by term, against the measured contrastive loss: the
# bound (black bar) stays below :math:`L_\mathrm{Info}` at every batch size,
# and the collision term grows with it.

with paper_style("neurips", columns=2):
    fig, ax = plt.subplots()
    plot_bound_decomposition(reports, ax=ax)

# %%
# The same numbers as NS21's Table 2, in Markdown (``to_latex()`` for the paper):

print(decomposition_table(reports).to_markdown())

plt.show()
