"""Thin adapters between :class:`couponbound.monitor.BoundMonitor` and training frameworks.

Nothing is imported here: each submodule imports its framework when you
import it.

- :mod:`couponbound.integrations.torch` -- ``torch.distributed`` all-reduce for
  :meth:`BoundMonitor.sync <couponbound.monitor.BoundMonitor.sync>` and
  ``compute(all_reduce=...)``.
- :mod:`couponbound.integrations.lightning` -- a Lightning ``Callback`` that
  feeds the monitor and logs its report every N steps and at the end of each
  validation epoch.
"""

from __future__ import annotations

__all__: list[str] = []
