"""Per-batch estimates of the terms of NS21's bound (:ref:`math-measurement`).

The functions here turn one batch of a contrastive trainer -- two views of
``K + 1`` samples, their labels, the per-sample mean features and the class
means -- into the handful of *sums over anchors* that
:class:`couponbound.training.monitor.BoundMonitor` accumulates.  They work on arrays of
any library that speaks the array API (numpy, PyTorch on CPU or GPU, JAX,
CuPy) through ``array-api-compat``: the arithmetic runs where the arrays live
and only a dozen scalars travel to the host, once per batch.  No framework is
imported unless its arrays are passed in.

Definitions (NS21 Sections 2-4, :ref:`math-losses`).  Features are
L2-normalised, ``z = f(a(x)) / ||f(a(x))||``; the anchor of sample ``i`` is
view 0, its positive view 1 of the same sample, its negatives view 1 of the
other ``K`` samples of the batch.  With temperature ``t``:

- ``l_Info(i) = -ln softmax_j(z0_i . z1_j / t)[i]``;
- ``l^mu(i; Y) = -ln softmax_{c in Y}(z0_i . mu_c / t)[y_i]`` with ``Y`` all
  ``C`` classes (``sup``) or the classes present in the batch (``sub``);
- ``d(i) = min(0, z0_i . (mu_{y_i} - zbar_i)) / t``;
- ``Col(i) + 1 = n_{y_i}``, the number of samples in the batch with label ``y_i``.

References
----------
NS21: K. Nozawa, I. Sato. Understanding Negative Samples in Instance
Discriminative Self-supervised Representation Learning. NeurIPS 2021
(arXiv:2102.06866), Sections 2-4 and the measurement protocol of Section 5.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_positive_int, short_repr
from couponbound.training._arrays import (
    _is_array,
    _label_error,
    _mu_on,
    _shape,
    _to_numpy,
    class_means_to_numpy,
)
from couponbound.training._inputs import _batch_inputs
from couponbound.training._kernel import batch_sums

__all__ = [
    "BatchTerms",
    "batch_terms",
    "batch_terms_from_losses",
    "check_temperature",
]

# ----------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------

def check_temperature(value: Any, name: str = "temperature") -> float:
    """Return the temperature as a finite ``float > 0`` or raise naming it.

    Examples
    --------
    >>> check_temperature(0.5)
    0.5
    >>> check_temperature(0)
    Traceback (most recent call last):
    ...
    ValueError: temperature must be a finite number > 0, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number > 0, got {short_repr(value)}")
    t = float(value)
    if not (math.isfinite(t) and t > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {short_repr(value)}")
    return t


# ----------------------------------------------------------------------------
# the per-batch sums
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchTerms:
    """Sums over the anchors of one batch: the increments of NS21's estimators.

    All ``sum_*`` fields are sums over the ``n`` anchors of the batch (divide
    by ``n`` for batch means, see :meth:`means`).  ``sum_sub`` and ``sum_arora``
    use the mean classifier restricted to the classes present in the batch.

    Attributes
    ----------
    n : int
        Anchors in the batch (``K + 1``).
    num_classes : int
        ``C``.
    n_present : int
        Distinct labels in the batch; the batch *covers* all classes when
        ``n_present == num_classes``.
    n_repeat : int
        Anchors whose label occurs more than once in the batch (``Col >= 1``).
    sum_contrastive : float
        ``sum_i l_Info(i)``.
    sum_sup : float
        ``sum_i l^mu(i; all classes)``.
    sum_sub : float
        ``sum_i l^mu(i; classes present)`` (equal to ``sum_sup`` on covered batches).
    sum_arora : float
        ``sum_{i : label unique} l^mu(i; classes present)`` (ARORA19's sub-class
        loss on collision-free anchors); ``nan`` when per-anchor losses were not
        available.
    sum_collision : float
        ``sum_i ln n_{y_i} = sum_y n_y ln n_y`` (``= sum_i ln(1 + Col_i)``).
    sum_d : float
        ``sum_i min(0, z0_i . (mu_{y_i} - zbar_i)) / t`` (<= 0).

    Examples
    --------
    >>> bt = BatchTerms(n=2, num_classes=2, n_present=2, n_repeat=0, sum_contrastive=1.0,
    ...                 sum_sup=1.2, sum_sub=1.2, sum_arora=1.2, sum_collision=0.0, sum_d=-0.4)
    >>> bt.covered, bt.n_unique
    (True, 2)
    >>> bt.means()["d"]
    -0.2
    """

    n: int
    num_classes: int
    n_present: int
    n_repeat: int
    sum_contrastive: float
    sum_sup: float
    sum_sub: float
    sum_arora: float
    sum_collision: float
    sum_d: float

    @property
    def covered(self) -> bool:
        """``True`` when the batch contains every one of the ``C`` classes."""
        return self.n_present == self.num_classes

    @property
    def n_unique(self) -> int:
        """Anchors whose label occurs exactly once in the batch."""
        return self.n - self.n_repeat

    def means(self) -> dict[str, float]:
        """Per-anchor means of the sums, and the batch's coverage and collision rate."""
        n = float(self.n)
        return {
            "contrastive": self.sum_contrastive / n,
            "sup": self.sum_sup / n,
            "sub": self.sum_sub / n,
            "collision": self.sum_collision / n,
            "d": self.sum_d / n,
            "covered": float(self.covered),
            "tau": self.n_repeat / n,
        }

    def to_dict(self) -> dict[str, Any]:
        """The fields as a flat ``dict`` of plain Python numbers."""
        return asdict(self)


def batch_terms(anchor: Any, positive: Any, labels: Any, class_means: Any, *,
                temperature: float, mean_features: Any = None) -> BatchTerms:
    """The sums of NS21's estimators (:ref:`math-measurement`) over one batch.

    Parameters
    ----------
    anchor, positive : array (n, d)
        Two views of the ``n = K + 1`` samples (any array-API library; the
        features are L2-normalised here).  Anchor ``i`` is ``anchor[i]``, its
        positive ``positive[i]``, its ``K`` negatives the other rows of
        ``positive``.
    labels : array (n,) of int
        Latent class of each sample, in ``[0, C)``.
    class_means : array (C, d)
        ``mu_c``, the mean over class ``c`` of the samples' mean features.
    temperature : float
        ``t > 0``.
    mean_features : array (n, d), optional
        ``zbar_i``, the mean over augmentations of sample ``i``'s normalised
        features.  Default: the mean of the two normalised views.

    Returns
    -------
    BatchTerms
        Sums over the batch's anchors; the arithmetic runs in the inputs'
        floating dtype (at least float32) on their device.

    Raises
    ------
    ValueError
        Mismatched shapes, labels outside ``[0, C)``, non-finite or zero-norm
        features, an empty batch or ``temperature <= 0``.
    TypeError
        Arrays of different libraries, or labels that are not integers.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.eye(3)
    >>> bt = batch_terms(z, z, [0, 1, 1], np.eye(3)[:2], temperature=1.0)
    >>> bt.n, bt.n_present, bt.covered, bt.n_repeat
    (3, 2, True, 2)
    >>> round(bt.sum_collision, 6)  # 2 ln 2: label 1 occurs twice
    1.386294
    """
    t = check_temperature(temperature)
    mu_host = None if _is_array(class_means) else class_means_to_numpy(class_means)
    mu_src = mu_host if mu_host is not None else class_means
    mu_shape = _shape(mu_src)
    if len(mu_shape) != 2 or mu_shape[0] < 1:
        raise ValueError(f"class_means must be a (C, d) array, got shape {mu_shape}")
    C, dim = mu_shape
    inp = _batch_inputs(anchor, positive, labels, mean_features, dim)
    mu_dev = _mu_on(inp.xp, mu_src, inp.device, inp.dtype, C, dim)
    return BatchTerms(**batch_sums(inp, mu_dev, t, C))


# ----------------------------------------------------------------------------
# from losses a trainer already computed
# ----------------------------------------------------------------------------

def _loss_input(value: Any, name: str, n: int, *,
                sign: int = 1) -> tuple[float, NDArray[Any] | None]:
    """``(sum, per_anchor or None)`` from per-anchor losses (n,) or a batch mean (scalar)."""
    if value is None or isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{name} must be a number or an array of n = {n} numbers, "
                        f"got {short_repr(value)}")
    host = _to_numpy(value) if _is_array(value) else np.asarray(value)
    if host.dtype == object or host.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers, got {short_repr(value)}")
    arr = host.astype(np.float64)
    if arr.ndim == 0:
        mean = float(arr)
        vals = None
        check = np.array([mean])
    elif arr.ndim == 1 and arr.shape[0] == n:
        vals = arr
        check = arr
    else:
        raise ValueError(f"{name} must be a scalar (batch mean) or have shape ({n},), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(check)):
        i = int(np.flatnonzero(~np.isfinite(check))[0])
        raise ValueError(f"{name} must be finite, got {check[i]!r} at index {i}")
    if sign > 0 and np.any(check < 0):
        i = int(np.flatnonzero(check < 0)[0])
        raise ValueError(f"{name} is a loss and must be >= 0, got {check[i]!r} at index {i}")
    if sign < 0 and np.any(check > 0):
        i = int(np.flatnonzero(check > 0)[0])
        raise ValueError(f"{name} is NS21's d = min(0, ...) / t and must be <= 0, "
                         f"got {check[i]!r} at index {i}")
    total = float(math.fsum(vals)) if vals is not None else mean * n
    return total, vals


def batch_terms_from_losses(*, contrastive: Any, sup: Any, d: Any, num_classes: int,
                            sub: Any = None, labels: Any = None,
                            batch_counts: Any = None) -> BatchTerms:
    """The sums of :func:`batch_terms` from losses a trainer has already computed.

    Each loss is either per anchor (shape ``(n,)``) or the batch mean (a
    scalar).  Give ``labels`` (per anchor) or ``batch_counts`` (per class).

    Parameters
    ----------
    contrastive : array (n,) or float
        InfoNCE losses ``l_Info(i)`` (>= 0).
    sup : array (n,) or float
        Mean-classifier losses over all ``C`` classes, ``l^mu(i; all)`` (>= 0).
    d : array (n,) or float
        ``min(0, z0_i . (mu_{y_i} - zbar_i)) / t`` (<= 0).
    num_classes : int
        ``C``.
    sub : array (n,) or float, optional
        Mean-classifier losses over the classes present in the batch,
        ``l^mu(i; present)``.  Required when the batch misses a class; on a
        batch that covers every class it equals ``sup``, the default.
    labels : array (n,) of int, optional
        Latent classes of the anchors, in ``[0, C)``.
    batch_counts : array (C,) of int, optional
        How many anchors of each class the batch holds (instead of ``labels``).

    Returns
    -------
    BatchTerms
        ``sum_arora`` (ARORA19's collision-free sub-class loss) needs per-anchor
        ``labels`` and per-anchor ``sub`` (or ``sup`` on a covered batch);
        otherwise it is ``nan``.

    Raises
    ------
    ValueError
        Losses that are negative or non-finite, ``d > 0``, shapes that disagree,
        labels outside ``[0, C)``, an empty batch, or a missing ``sub`` on a
        batch that misses a class.

    Examples
    --------
    >>> bt = batch_terms_from_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=-0.5,
    ...                              labels=[0, 1], num_classes=2)
    >>> bt.covered, bt.sum_contrastive, bt.sum_d, bt.sum_arora
    (True, 4.2, -1.0, 2.4)
    """
    C = check_positive_int(num_classes, "num_classes")
    if (labels is None) == (batch_counts is None):
        raise TypeError("give exactly one of labels= (per anchor) and batch_counts= (per class)")
    lab: NDArray[np.int64] | None = None
    if labels is not None:
        if isinstance(labels, (bool, str, bytes)):
            raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
        host = _to_numpy(labels) if _is_array(labels) else np.asarray(labels)
        if host.ndim != 1:
            raise ValueError(f"labels must be 1-d (n,), got shape {host.shape}")
        if host.size == 0:
            raise ValueError("labels is an empty batch (0 anchors); a batch needs n >= 1")
        if host.dtype == object or host.dtype.kind not in "iu":
            raise TypeError(f"labels must have an integer dtype, got {short_repr(labels)}")
        lab = host.astype(np.int64)
        if np.any((lab < 0) | (lab >= C)):
            raise _label_error(lab, C)
        counts = np.bincount(lab, minlength=C).astype(np.int64)
    else:
        if isinstance(batch_counts, (bool, str, bytes)):
            raise TypeError(f"batch_counts must be an array of C integers, "
                            f"got {short_repr(batch_counts)}")
        host = _to_numpy(batch_counts) if _is_array(batch_counts) else np.asarray(batch_counts)
        if host.dtype == object or host.dtype.kind not in "iuf":
            raise TypeError(f"batch_counts must be integers, got {short_repr(batch_counts)}")
        if host.shape != (C,):
            raise ValueError(f"batch_counts must have shape (num_classes,) = ({C},), "
                             f"got {host.shape}")
        fl = host.astype(np.float64)
        if not np.all(np.isfinite(fl)) or np.any(fl < 0) or np.any(fl != np.floor(fl)):
            raise ValueError(f"batch_counts must be integers >= 0, got {short_repr(batch_counts)}")
        counts = host.astype(np.int64)
        if counts.sum() == 0:
            raise ValueError("batch_counts sums to 0: an empty batch; a batch needs n >= 1")
    n = int(counts.sum())
    covered = bool(np.all(counts > 0))
    s_con, _ = _loss_input(contrastive, "contrastive", n)
    s_sup, v_sup = _loss_input(sup, "sup", n)
    s_d, _ = _loss_input(d, "d", n, sign=-1)
    if sub is None:
        if not covered:
            missing = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(
                f"sub (losses over the classes present) is required: the batch misses "
                f"class {missing} of num_classes = {C}"
            )
        s_sub, v_sub = s_sup, v_sup
    else:
        s_sub, v_sub = _loss_input(sub, "sub", n)
    pos = counts[counts > 0]
    s_coll = float(math.fsum((pos * np.log(pos)).tolist()))
    n_repeat = int(counts[counts >= 2].sum())
    if lab is not None and v_sub is not None:
        unique = counts[lab] == 1
        s_arora = float(math.fsum(v_sub[unique].tolist()))
    else:
        s_arora = math.nan
    return BatchTerms(
        n=n, num_classes=C, n_present=int(np.count_nonzero(counts)), n_repeat=n_repeat,
        sum_contrastive=s_con, sum_sup=s_sup, sum_sub=s_sub, sum_arora=s_arora,
        sum_collision=s_coll, sum_d=s_d,
    )
