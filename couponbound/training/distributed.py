"""``torch.distributed`` glue for :class:`couponbound.training.monitor.BoundMonitor`.

The monitor's :meth:`~couponbound.training.monitor.BoundMonitor.sync` and
``compute(all_reduce=...)`` take any function that sums a float64 vector over
processes; :func:`make_all_reduce` builds one from ``torch.distributed``
(gloo on CPU, NCCL on the current CUDA device, or any backend with a device
you name).  Nothing here imports torch: if the program has not imported
``torch.distributed``, no process group can exist and the all-reduce is the
identity.

Examples
--------
>>> import numpy as np
>>> from couponbound.training.distributed import all_reduce_sum
>>> all_reduce_sum(np.array([1.0, 2.0]))  # not distributed: the identity
array([1., 2.])
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch

    from couponbound.training.monitor import BoundMonitor

__all__ = ["all_reduce_sum", "is_distributed", "make_all_reduce", "sync"]


def is_distributed(group: Any = None) -> bool:
    """``True`` when ``torch.distributed`` is initialised with more than one process."""
    dist = _initialised_dist()
    return dist is not None and dist.get_world_size(group) > 1


def _initialised_dist() -> Any:
    """``torch.distributed`` if a process group is initialised, else ``None`` (no import)."""
    dist = sys.modules.get("torch.distributed")
    if dist is None or not (dist.is_available() and dist.is_initialized()):
        return None
    return dist


def _reduce_device(group: Any) -> torch.device:
    """The device the collective runs on: CPU for gloo/MPI, the current GPU for NCCL."""
    import torch
    import torch.distributed as dist

    backend = str(dist.get_backend(group)).lower()
    if "gloo" in backend or "mpi" in backend:
        return torch.device("cpu")
    if "nccl" in backend:
        return torch.device("cuda", torch.cuda.current_device())
    accel = getattr(torch, "accelerator", None)
    if accel is not None and accel.is_available():
        current = accel.current_accelerator()
        if current is not None:
            return torch.device(current)
    return torch.device("cpu")


def all_reduce_sum(values: NDArray[np.float64], *, group: Any = None,
                   device: Any = None) -> NDArray[np.float64]:
    """Elementwise sum of a float64 vector over the processes of *group*.

    Parameters
    ----------
    values : ndarray
        This process's vector.
    group : ProcessGroup, optional
        Default: the world.
    device : torch.device or str, optional
        Where the collective runs; default chosen from the backend (CPU for
        gloo, the current CUDA device for NCCL).

    Returns
    -------
    ndarray
        The sum over processes (a copy of *values* when ``torch.distributed``
        is not initialised, so single-process code needs no special case).
    """
    arr = np.asarray(values, dtype=np.float64)
    dist = _initialised_dist()
    if dist is None:
        return arr.copy()
    import torch

    dev = _reduce_device(group) if device is None else torch.device(device)
    t = torch.as_tensor(arr.copy(), dtype=torch.float64, device=dev)
    dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
    return np.asarray(t.cpu().numpy(), dtype=np.float64)


def make_all_reduce(group: Any = None, device: Any = None
                    ) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """An ``all_reduce`` function for ``BoundMonitor.sync`` / ``compute(all_reduce=...)``."""
    def reduce(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return all_reduce_sum(values, group=group, device=device)

    return reduce


def sync(monitor: BoundMonitor, group: Any = None, device: Any = None) -> None:
    """``monitor.sync`` over ``torch.distributed``: every rank then holds the totals.

    Every rank must call it at the same point.  For a periodic report that
    leaves the local state alone use
    ``monitor.compute(all_reduce=make_all_reduce())``.
    """
    monitor.sync(make_all_reduce(group, device))
