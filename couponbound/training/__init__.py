"""Measuring NS21's bound on a running trainer.

The training layer turns a trainer's batches (embeddings and labels, or the
losses it already computes) into the terms of NS21's bound
(:ref:`math-measurement`) and accumulates them in a :class:`BoundMonitor`,
whose :meth:`~BoundMonitor.compute` returns a :class:`BoundReport`.  One job
per module:

- ``couponbound.training.batch`` -- one batch's sums (:class:`BatchTerms`),
  from embeddings (:func:`batch_terms`: in-batch negatives, a queue, or
  NT-Xent) or from losses (:func:`batch_terms_from_losses`), and NS21's
  :func:`collision_diagnostic`;
- ``couponbound.training.class_means`` -- the class means of NS21's mean
  classifier (:class:`ClassMeanEstimator`, :func:`estimate_class_means`);
- ``couponbound.training.monitor`` -- :class:`BoundMonitor`, the streaming,
  mergeable accumulator (cumulative and windowed), and
  :class:`NonRandomBatchWarning`;
- ``couponbound.training.report`` -- :class:`BoundReport`, what it
  reports (also built from any :class:`~couponbound.bounds.BoundTerms`);
- :mod:`couponbound.training.distributed` -- ``torch.distributed`` all-reduce
  for :meth:`BoundMonitor.sync` and ``compute(all_reduce=...)``;
- :mod:`couponbound.training.lightning` -- a Lightning ``Callback`` that feeds
  the monitor and logs its report.

Frameworks are imported only by the modules that adapt to them.
"""

from __future__ import annotations

from couponbound.training._arrays import AllReduce
from couponbound.training.batch import (
    BatchTerms,
    batch_terms,
    batch_terms_from_losses,
    collision_diagnostic,
)
from couponbound.training.class_means import (
    ClassMeanEstimator,
    class_means_to_numpy,
    estimate_class_means,
)
from couponbound.training.monitor import BoundMonitor, NonRandomBatchWarning
from couponbound.training.report import LOG_KEYS, BoundReport

__all__ = [
    "LOG_KEYS",
    "AllReduce",
    "BatchTerms",
    "BoundMonitor",
    "BoundReport",
    "ClassMeanEstimator",
    "NonRandomBatchWarning",
    "batch_terms",
    "batch_terms_from_losses",
    "class_means_to_numpy",
    "collision_diagnostic",
    "estimate_class_means",
]
