"""Measuring NS21's bound on a running trainer.

The training layer turns a trainer's batches (embeddings and labels, or the
losses it already computes) into the terms of NS21's bound and accumulates
them in a :class:`BoundMonitor`, whose :meth:`~BoundMonitor.compute` returns a
:class:`BoundReport`.  Frameworks are imported only by the submodules that
adapt to them:

- :mod:`couponbound.training.distributed` -- ``torch.distributed`` all-reduce
  for :meth:`BoundMonitor.sync` and ``compute(all_reduce=...)``;
- :mod:`couponbound.training.lightning` -- a Lightning ``Callback`` that feeds
  the monitor and logs its report.
"""

from __future__ import annotations

from couponbound.training.monitor import BoundMonitor, BoundReport

__all__ = ["BoundMonitor", "BoundReport"]
