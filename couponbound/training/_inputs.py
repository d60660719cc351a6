"""One batch's inputs, validated and moved to their device (private).

Shared by :func:`couponbound.training.batch.batch_terms`,
:class:`couponbound.training.class_means.ClassMeanEstimator` and
:class:`couponbound.training.monitor.BoundMonitor`.
"""

from __future__ import annotations

from typing import Any

import array_api_compat as aac

from couponbound._validate import short_repr
from couponbound.training._arrays import _detach, _is_array, _labels_on, _shape, _work_dtype


class _BatchInputs:
    """Validated, device-resident inputs of one batch (internal).

    *arrays* maps argument names to ``(n, d)`` arrays (``None`` for an absent
    optional one); the first is the reference for shape, device and library.
    """

    __slots__ = ("xp", "arrays", "lab", "n", "dim", "dtype", "device", "raw_labels")

    def __init__(self, arrays: dict[str, Any], labels: Any, dim: int | None = None) -> None:
        given = {k: v for k, v in arrays.items() if v is not None}
        for name, arr in given.items():
            if not _is_array(arr):
                raise TypeError(f"{name} must be a 2-d array (n, d), got {short_repr(arr)}")
        try:
            xp = aac.array_namespace(*given.values())
        except TypeError as exc:
            raise TypeError(
                f"{', '.join(given)} must come from the same array library: {exc}"
            ) from exc
        ref_name = next(iter(given))
        det = {k: _detach(v) for k, v in given.items()}
        shape = _shape(det[ref_name])
        if len(shape) != 2:
            raise ValueError(f"{ref_name} must be 2-d (n, d), got shape {shape}")
        n, d = shape
        if n == 0:
            raise ValueError(f"{ref_name} is an empty batch (0 rows); a batch needs n >= 1")
        if d == 0:
            raise ValueError(f"{ref_name} has feature dimension 0, got shape {shape}")
        if dim is not None and d != dim:
            raise ValueError(f"{ref_name} has feature dimension {d}, the class means have {dim}")
        device = aac.device(det[ref_name])
        for name, arr in det.items():
            if _shape(arr) != shape:
                raise ValueError(
                    f"{name} must have the shape of {ref_name} {shape}, got {_shape(arr)}"
                )
            if aac.device(arr) != device:
                raise ValueError(
                    f"{name} is on device {aac.device(arr)}, {ref_name} on {device}; "
                    "put them on the same device"
                )
        ft = _work_dtype(xp, list(det.values()), list(det))
        self.xp = xp
        self.lab = _labels_on(xp, labels, device, n)
        self.raw_labels = labels
        self.arrays = {k: (None if k not in det else
                           det[k] if det[k].dtype == ft else xp.astype(det[k], ft))
                       for k in arrays}
        self.n, self.dim, self.dtype, self.device = n, d, ft, device


def _batch_inputs(anchor: Any, positive: Any, labels: Any, mean_features: Any,
                  dim: int | None) -> _BatchInputs:
    return _BatchInputs({"anchor": anchor, "positive": positive,
                         "mean_features": mean_features}, labels, dim)
