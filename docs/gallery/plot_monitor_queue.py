"""
The monitor on a MoCo queue
===========================

With a memory queue (MoCo) an anchor's negatives are the :math:`K` keys of
the queue, not the other samples of its batch.
:meth:`couponbound.BoundMonitor.update` takes them as ``negatives=`` with
their labels as ``negative_labels=``; the monitor then measures the
coverage of the queue and the collisions with it, and NS21's bound applies
with :math:`K` the queue length.  Here a stand-in encoder (features scattered
around 10 class means) fills a queue of 256 keys batch by batch; each point
is one window of 4 batches (:meth:`~couponbound.BoundMonitor.compute_window`),
drawn with :func:`couponbound.paper.plots.plot_run_history`.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound import BoundMonitor
from couponbound.paper.plots import plot_run_history
from couponbound.paper.style import paper_style

rng = np.random.default_rng(1)
C, dim, batch, queue_len = 10, 16, 32, 256
means = rng.normal(size=(C, dim))
means /= np.linalg.norm(means, axis=1, keepdims=True)


def features(y, spread):
    z = means[y] + spread * rng.normal(size=(len(y), dim))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


monitor = BoundMonitor(num_classes=C, temperature=0.2, class_means=means)
keys = features(rng.integers(0, C, size=queue_len), 1.0)
key_labels = rng.integers(0, C, size=queue_len)
windows, steps = [], []
for step in range(1, 41):
    spread = 1.0 / (1.0 + 0.1 * step)  # the "encoder" sharpens as training goes on
    y = rng.integers(0, C, size=batch)
    anchor, positive = features(y, spread), features(y, spread)
    monitor.update(anchor=anchor, positive=positive, labels=y,
                   negatives=keys, negative_labels=key_labels)
    keys = np.concatenate([positive, keys])[:queue_len]  # enqueue the batch's keys
    key_labels = np.concatenate([y, key_labels])[:queue_len]
    if step % 4 == 0:
        windows.append(monitor.compute_window())
        steps.append(step)

with paper_style("neurips", columns=1, height=2.4):
    fig, ax = plt.subplots()
    plot_run_history(windows, steps=steps, ax=ax)

print(windows[-1])

plt.show()
