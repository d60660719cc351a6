"""One batch's inputs, validated and moved to their device (private).

Shared by :func:`couponbound.training.batch.batch_terms`,
:class:`couponbound.training.class_means.ClassMeanEstimator` and
:class:`couponbound.training.monitor.BoundMonitor`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import array_api_compat as aac

from couponbound._validate import short_repr
from couponbound.training._arrays import detach, is_array, labels_on, namespace, shape_of, work_dtype

__all__ = ["BatchInputs", "batch_inputs", "feature_label_pairs", "select_keys"]

class BatchInputs:
    """Validated, device-resident inputs of one batch (internal).

    *arrays* maps argument names to ``(n, d)`` arrays (``None`` for an absent
    optional one); the first is the reference for shape, device and library.
    """

    __slots__ = ("xp", "arrays", "lab", "n", "dim", "dtype", "device", "qlab")

    def __init__(self, arrays: dict[str, Any], labels: Any, dim: int | None = None) -> None:
        given = {k: v for k, v in arrays.items() if v is not None}
        for name, arr in given.items():
            if not is_array(arr):
                raise TypeError(f"{name} must be a 2-d array (n, d), got {short_repr(arr)}")
        try:
            xp = namespace(*given.values())
        except TypeError as exc:
            raise TypeError(
                f"{', '.join(given)} must come from the same array library: {exc}"
            ) from exc
        ref_name = next(iter(given))
        det = {k: detach(v) for k, v in given.items()}
        shape = shape_of(det[ref_name])
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
            if shape_of(arr) != shape:
                raise ValueError(
                    f"{name} must have the shape of {ref_name} {shape}, got {shape_of(arr)}"
                )
            if aac.device(arr) != device:
                raise ValueError(
                    f"{name} is on device {aac.device(arr)}, {ref_name} on {device}; "
                    "put them on the same device"
                )
        ft = work_dtype(xp, list(det.values()), list(det))
        self.xp = xp
        self.lab = labels_on(xp, labels, device, n)
        self.arrays = {k: (None if k not in det else
                           det[k] if det[k].dtype == ft else xp.astype(det[k], ft))
                       for k in arrays}
        self.n, self.dim, self.dtype, self.device = n, d, ft, device
        self.qlab: Any = None

    def add_negatives(self, negatives: Any, negative_labels: Any) -> None:
        """Validate a shared set of ``M`` negatives (a queue) and their labels."""
        if negative_labels is None:
            raise ValueError("negatives= needs negative_labels= (the latent class of each "
                             "negative): coverage and collisions are counted on them")
        if not is_array(negatives):
            raise TypeError(f"negatives must be a 2-d array (M, d), got {short_repr(negatives)}")
        try:
            same = namespace(negatives) is self.xp
        except TypeError:
            same = False
        if not same:
            raise TypeError("negatives must come from the same array library as anchor")
        q = detach(negatives)
        shape = shape_of(q)
        if len(shape) != 2 or shape[1] != self.dim:
            raise ValueError(f"negatives must have shape (M, {self.dim}) to match anchor, "
                             f"got {shape}")
        if shape[0] == 0:
            raise ValueError("negatives is empty (0 rows); give M >= 1 negatives or "
                             "leave negatives=None for in-batch negatives")
        if aac.device(q) != self.device:
            raise ValueError(f"negatives is on device {aac.device(q)}, anchor on "
                             f"{self.device}; put them on the same device")
        ft = work_dtype(self.xp, [q, self.arrays["anchor"]], ["negatives", "anchor"])
        if ft != self.dtype:
            self.arrays = {k: (None if v is None else self.xp.astype(v, ft))
                           for k, v in self.arrays.items()}
            self.dtype = ft
        self.arrays["negatives"] = q if q.dtype == ft else self.xp.astype(q, ft)
        try:
            self.qlab = labels_on(self.xp, negative_labels, self.device, shape[0])
        except (TypeError, ValueError) as exc:
            msg = str(exc).replace("labels", "negative_labels", 1).replace(
                "to match anchor", "to match negatives")
            raise type(exc)(msg) from exc


def batch_inputs(anchor: Any, positive: Any, labels: Any, mean_features: Any,
                  dim: int | None, negatives: Any = None,
                  negative_labels: Any = None) -> BatchInputs:
    inp = BatchInputs({"anchor": anchor, "positive": positive,
                        "mean_features": mean_features}, labels, dim)
    if negatives is not None:
        inp.add_negatives(negatives, negative_labels)
    elif negative_labels is not None:
        raise ValueError("negative_labels= without negatives=: give the negatives' features "
                         "too (or use update_losses(..., negative_labels=...))")
    return inp


def select_keys(keys: Any, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    """The names a ``to_dict(keys=...)`` call asked for, each one of *known*."""
    if isinstance(keys, str):
        raise TypeError(f"keys must be an iterable of {what}, got {keys!r}")
    names = tuple(keys)
    unknown = [k for k in names if k not in known]
    if unknown:
        raise ValueError(f"keys has unknown {what} {unknown}; known: {list(known)}")
    return names


def feature_label_pairs(batches: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """``(mean_features, labels)`` pairs from *batches*, or a TypeError naming the item."""
    for item in batches:
        try:
            zbar, y = item
        except (TypeError, ValueError) as exc:
            raise TypeError(f"batches must yield (mean_features, labels) pairs, "
                            f"got {short_repr(item)}") from exc
        yield zbar, y
