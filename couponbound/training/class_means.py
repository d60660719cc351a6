"""Class means ``mu_c``: the mean feature of each latent class (NS21's mean classifier).

NS21 estimate the class means on a training split and apply them on an
evaluation split (:ref:`math-measurement`).  :class:`ClassMeanEstimator`
streams them (mergeable, syncable over data-parallel processes);
:func:`estimate_class_means` is one pass over ``(mean_features, labels)``
batches; :func:`class_means_to_numpy` validates means given by the user.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_positive_int
from couponbound.training._arrays import (
    AllReduce,
    class_means_to_numpy,
    first_bad_row,
    is_array,
    label_error,
    to_numpy,
)
from couponbound.training._inputs import BatchInputs, feature_label_pairs

__all__ = ["ClassMeanEstimator", "class_means_to_numpy", "estimate_class_means"]


#: Most classes a class-mean estimator keeps (one count and one sum each).
MAX_CLASSES = 10**7
#: Most running-sum entries (classes x feature dimension), about 800 MB of float64.
MAX_SUM_ENTRIES = 10**8

class ClassMeanEstimator:
    """Streaming class means ``mu_c`` = mean of ``zbar_x`` over the samples of class ``c``.

    NS21 estimates the class means on a training split and applies them on an
    evaluation split.  The state is one ``(C, d)`` sum and ``C`` counts, each
    reduced by addition, so estimators on several processes :meth:`merge` or
    :meth:`sync` exactly.

    Parameters
    ----------
    num_classes : int
        ``C``.
    dim : int, optional
        Feature dimension ``d``; taken from the first batch when not given.

    Examples
    --------
    >>> import numpy as np
    >>> est = ClassMeanEstimator(2)
    >>> est.update(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), [0, 1, 0])
    >>> est.compute()
    array([[1. , 0.5],
           [0. , 1. ]])
    >>> est.counts.tolist()
    [2, 1]
    """

    def __init__(self, num_classes: int, dim: int | None = None) -> None:
        self.num_classes = check_positive_int(num_classes, "num_classes")
        if self.num_classes > MAX_CLASSES:
            raise ValueError(f"num_classes must be at most {MAX_CLASSES:,} (one count and one "
                             f"running sum per class), got {self.num_classes}")
        self.dim = None if dim is None else check_positive_int(dim, "dim")
        if self.dim is not None and self.num_classes * self.dim > MAX_SUM_ENTRIES:
            raise ValueError(f"num_classes * dim = {self.num_classes * self.dim:,} running sums is "
                             f"above the limit {MAX_SUM_ENTRIES:,} (800 MB of float64)")
        self.reset()

    def reset(self) -> None:
        """Forget every sample seen."""
        self.counts = np.zeros(self.num_classes, dtype=np.int64)
        self._sums: NDArray[np.float64] | None = (
            None if self.dim is None else np.zeros((self.num_classes, self.dim))
        )

    def update(self, mean_features: Any, labels: Any) -> None:
        """Add a batch of mean features ``zbar`` (n, d) with their labels (n,).

        Raises
        ------
        ValueError
            Shapes that disagree, labels outside ``[0, C)``, non-finite features
            or an empty batch; the estimator is then unchanged.
        """
        if not is_array(mean_features):
            mean_features = np.asarray(mean_features, dtype=np.float64)
        inp = BatchInputs({"mean_features": mean_features}, labels, self.dim)
        xp, C = inp.xp, self.num_classes
        zbar = inp.arrays["mean_features"]
        with np.errstate(all="ignore"):
            classes = xp.arange(C, dtype=inp.lab.dtype, device=inp.device)
            oh = xp.astype(inp.lab[:, None] == classes[None, :], inp.dtype)
            sums = to_numpy(oh.T @ zbar).astype(np.float64)
            cnt = to_numpy(xp.sum(oh, axis=0)).astype(np.float64)
        if cnt.sum() != inp.n:
            raise label_error(labels, C)
        if not np.all(np.isfinite(sums)):
            raise ValueError(
                f"mean_features must be finite, row {first_bad_row(zbar)} has NaN or inf"
            )
        if self._sums is None:
            if C * inp.dim > MAX_SUM_ENTRIES:
                raise ValueError(f"num_classes * dim = {C * inp.dim:,} running sums is above the "
                                 f"limit {MAX_SUM_ENTRIES:,} (800 MB of float64)")
            self.dim = inp.dim
            self._sums = np.zeros((C, inp.dim))
        self._sums += sums
        self.counts += np.rint(cnt).astype(np.int64)

    def compute(self) -> NDArray[np.float64]:
        """The class means, a ``(C, d)`` float64 array.

        Raises
        ------
        ValueError
            When some class has no sample yet (its mean is undefined).
        """
        missing = np.flatnonzero(self.counts == 0)
        if self._sums is None or missing.size:
            shown = missing[:10].tolist()
            raise ValueError(
                f"class means are undefined for {missing.size} class(es) with no sample, "
                f"e.g. {shown}; feed samples of every class in [0, {self.num_classes})"
            )
        return self._sums / self.counts[:, None]

    def merge(self, other: ClassMeanEstimator) -> None:
        """Add the samples seen by *other* (same ``num_classes`` and ``dim``)."""
        if not isinstance(other, ClassMeanEstimator):
            raise TypeError(f"can only merge a ClassMeanEstimator, got {type(other).__name__}")
        if other.num_classes != self.num_classes:
            raise ValueError(f"cannot merge: num_classes {other.num_classes} != "
                             f"{self.num_classes}")
        if other._sums is None:
            return
        if self.dim is not None and other.dim != self.dim:
            raise ValueError(f"cannot merge: dim {other.dim} != {self.dim}")
        if self._sums is None:
            self.dim = other.dim
            self._sums = np.zeros_like(other._sums)
        self._sums += other._sums
        self.counts += other.counts

    def sync(self, all_reduce: AllReduce) -> None:
        """Replace the local sums by their totals over all processes.

        ``all_reduce`` sums a float64 vector over processes (see
        :func:`couponbound.training.distributed.all_reduce_sum`).  Every process
        must know ``dim`` (pass it to the constructor if a process may see no
        sample).
        """
        if self._sums is None or self.dim is None:
            raise ValueError("sync needs the feature dimension: pass dim= to ClassMeanEstimator")
        vec = np.concatenate([self.counts.astype(np.float64), self._sums.ravel()])
        out = np.asarray(to_numpy(all_reduce(vec.copy())), dtype=np.float64)
        if out.shape != vec.shape or not np.all(np.isfinite(out)):
            raise ValueError(f"all_reduce returned shape {out.shape} or non-finite values; "
                             f"expected a finite vector of shape {vec.shape}")
        C = self.num_classes
        counts = out[:C]
        if np.any(counts != np.rint(counts)) or np.any(counts < self.counts):
            raise ValueError("all_reduce returned class counts that are not sums of the "
                             "local counts")
        self.counts = np.rint(counts).astype(np.int64)
        self._sums = out[C:].reshape(C, self.dim).copy()

    def state_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot (plain lists and numbers)."""
        return {
            "format": "couponbound.ClassMeanEstimator", "version": 1,
            "num_classes": self.num_classes, "dim": self.dim,
            "counts": self.counts.tolist(),
            "sums": None if self._sums is None else self._sums.tolist(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (same ``num_classes``); unchanged on error."""
        if not isinstance(state, dict) or state.get("format") != "couponbound.ClassMeanEstimator":
            raise ValueError("state is not a ClassMeanEstimator state_dict")
        if state.get("num_classes") != self.num_classes:
            raise ValueError(f"state from another configuration: num_classes "
                             f"{state.get('num_classes')!r} != {self.num_classes}")
        try:
            counts = np.asarray(state["counts"])
            sums = None if state["sums"] is None else np.asarray(state["sums"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"state is not a valid ClassMeanEstimator state_dict: {exc}") from exc
        if (counts.shape != (self.num_classes,) or counts.dtype.kind not in "iu"
                or np.any(counts < 0)):
            raise ValueError("state['counts'] must be num_classes integers >= 0")
        if sums is None and np.any(counts):
            raise ValueError("state['sums'] is missing but state['counts'] is not zero")
        if sums is not None and (sums.ndim != 2 or sums.shape[0] != self.num_classes
                                 or not np.all(np.isfinite(sums))):
            raise ValueError("state['sums'] must be a finite (num_classes, dim) array")
        if sums is not None and self.dim is not None and sums.shape[1] != self.dim:
            raise ValueError(f"state from another configuration: dim {sums.shape[1]} != {self.dim}")
        self.counts = counts.astype(np.int64)
        if sums is not None:
            self._sums = sums
            self.dim = int(sums.shape[1])
        elif self.dim is not None:
            self._sums = np.zeros((self.num_classes, self.dim))
        else:
            self._sums = None


def estimate_class_means(batches: Iterable[tuple[Any, Any]], num_classes: int, *,
                         all_reduce: AllReduce | None = None) -> NDArray[np.float64]:
    """Class means from an iterable of ``(mean_features, labels)`` batches (one pass).

    Parameters
    ----------
    batches : iterable of (array (n, d), array (n,))
        Mean features ``zbar`` (means over augmentations of the normalised
        features) and labels, e.g. a pass over the training split.
    num_classes : int
        ``C``.
    all_reduce : callable, optional
        Sum the statistics over data-parallel processes before dividing.

    Returns
    -------
    ndarray (C, d)

    Examples
    --------
    >>> import numpy as np
    >>> batches = [(np.array([[1.0, 0.0]]), [0]), (np.array([[0.0, 2.0], [0.0, 4.0]]), [1, 1])]
    >>> estimate_class_means(batches, 2)
    array([[1., 0.],
           [0., 3.]])
    """
    est = ClassMeanEstimator(num_classes)
    for zbar, y in feature_label_pairs(batches):
        est.update(zbar, y)
    if all_reduce is not None:
        est.sync(all_reduce)
    return est.compute()
