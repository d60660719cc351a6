"""Per-batch estimates of the terms of NS21's bound (MATH.md section 6).

The functions here turn one batch of a contrastive trainer -- two views of
``K + 1`` samples, their labels, the per-sample mean features and the class
means -- into the handful of *sums over anchors* that
:class:`couponbound.training.monitor.BoundMonitor` accumulates.  They work on arrays of
any library that speaks the array API (numpy, PyTorch on CPU or GPU, JAX,
CuPy) through ``array-api-compat``: the arithmetic runs where the arrays live
and only a dozen scalars travel to the host, once per batch.  No framework is
imported unless its arrays are passed in.

Definitions (NS21 Sections 2-4, MATH.md sections 4 and 6).  Features are
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

import hashlib
import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import array_api_compat as aac
import numpy as np
from numpy.typing import NDArray

from couponbound._validate import check_positive_int, short_repr

__all__ = [
    "AllReduce",
    "BatchTerms",
    "ClassMeanEstimator",
    "batch_terms",
    "batch_terms_from_losses",
    "check_temperature",
    "estimate_class_means",
]

#: A function that sums a float64 vector elementwise over all processes and
#: returns the result (it may reduce in place and return its argument).
AllReduce = Callable[[NDArray[np.float64]], Any]

# Order of the scalars one batch sends to the host (see _device_vector).
_SLOTS = (
    "contrastive", "sup_all", "sub_all", "curl", "collision", "d", "dv_sum",
    "n_present", "n_repeat", "bad_labels", "norm0_min", "norm0_sum", "norm1_min", "norm1_sum",
)
_SLOT = {name: i for i, name in enumerate(_SLOTS)}


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


def _to_numpy(x: Any) -> NDArray[Any]:
    """A host numpy copy (or view) of an array from any library."""
    if isinstance(x, np.ndarray):
        return x
    if aac.is_torch_array(x):
        return x.detach().cpu().numpy()
    if aac.is_cupy_array(x):
        return x.get()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):  # pragma: no cover - exotic
        return np.from_dlpack(x)


def _detach(x: Any) -> Any:
    """Drop the autograd graph of a torch tensor (the monitor never backpropagates)."""
    if aac.is_torch_array(x):
        return x.detach()
    return x


def _is_array(x: Any) -> bool:
    return aac.is_array_api_obj(x) and not isinstance(x, numbers.Number)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in x.shape)


def _work_dtype(xp: Any, arrays: list[Any], names: list[str]) -> Any:
    """The floating dtype the batch is computed in: the inputs' (>= float32)."""
    for a, name in zip(arrays, names, strict=True):
        if not (xp.isdtype(a.dtype, "real floating") or xp.isdtype(a.dtype, "integral")):
            raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    dt = xp.result_type(*[a.dtype for a in arrays])
    if xp.isdtype(dt, "integral"):
        return xp.float64
    if xp.finfo(dt).bits < 32:
        return xp.float32
    return dt


def _labels_on(xp: Any, labels: Any, device: Any, n: int) -> Any:
    """Labels as an int64 array of the namespace *xp* on *device*, checked for shape/dtype."""
    if isinstance(labels, (bool, str, bytes)) or labels is None:
        raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
    try:
        same = _is_array(labels) and aac.array_namespace(labels) is xp
    except TypeError:
        same = False
    if same:
        lab = _detach(labels)
        if aac.device(lab) != device:
            lab = aac.to_device(lab, device)
    else:
        host = _to_numpy(labels) if _is_array(labels) else np.asarray(labels)
        if host.dtype == object:
            raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
        if host.dtype.kind not in "iu":
            raise TypeError(f"labels must have an integer dtype, got dtype {host.dtype}")
        lab = xp.asarray(host.astype(np.int64), device=device)
    if not xp.isdtype(lab.dtype, "integral"):
        raise TypeError(f"labels must have an integer dtype, got dtype {lab.dtype}")
    if _shape(lab) != (n,):
        raise ValueError(f"labels must have shape ({n},) to match anchor, got {_shape(lab)}")
    return xp.astype(lab, xp.int64)


def class_means_to_numpy(class_means: Any, num_classes: int | None = None) -> NDArray[np.float64]:
    """Validate class means ``mu`` (any array library) as a finite ``(C, d)`` float64 array.

    Examples
    --------
    >>> class_means_to_numpy([[1.0, 0.0], [0.0, 1.0]], 2).shape
    (2, 2)
    """
    if class_means is None or isinstance(class_means, (str, bytes, bool)):
        raise TypeError(f"class_means must be a (C, d) array, got {short_repr(class_means)}")
    host = _to_numpy(class_means) if _is_array(class_means) else np.asarray(class_means)
    if host.dtype == object or host.dtype.kind not in "iuf":
        raise TypeError(f"class_means must be a real (C, d) array, got dtype {host.dtype}")
    mu = np.array(host, dtype=np.float64)
    if mu.ndim != 2 or mu.shape[0] < 1 or mu.shape[1] < 1:
        raise ValueError(f"class_means must be a non-empty 2-d array (C, d), got shape {mu.shape}")
    if num_classes is not None and mu.shape[0] != num_classes:
        raise ValueError(
            f"class_means must have num_classes = {num_classes} rows, got shape {mu.shape}"
        )
    if not np.all(np.isfinite(mu)):
        i = int(np.flatnonzero(~np.isfinite(mu).all(axis=1))[0])
        raise ValueError(f"class_means must be finite, row {i} is {short_repr(mu[i].tolist())}")
    return mu


def _fingerprint(arr: NDArray[np.float64] | None) -> str:
    """SHA-256 of a float64 array's shape and bytes (``"none"`` for ``None``)."""
    if arr is None:
        return "none"
    a = np.ascontiguousarray(arr, dtype=np.float64)
    h = hashlib.sha256(repr(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------
# the per-batch sums
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchTerms:
    """Sums over the anchors of one batch: the increments of NS21's estimators.

    All ``sum_*`` fields are sums over the ``n`` anchors of the batch (divide
    by ``n`` for batch means, see :meth:`means`).  ``sum_sub`` and ``sum_curl``
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
    sum_curl : float
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
    ...                 sum_sup=1.2, sum_sub=1.2, sum_curl=1.2, sum_collision=0.0, sum_d=-0.4)
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
    sum_curl: float
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


def _row_logsumexp(xp: Any, x: Any, bound: float | None = None) -> Any:
    """``log sum_j exp(x[i, j])`` per row.

    Stabilised by the row maximum, or by a known upper bound of every entry
    (``bound``), which saves a pass over ``x``; the caller guarantees that
    ``exp(x - bound)`` cannot underflow for a whole row.
    """
    if bound is not None:
        return bound + xp.log(xp.sum(xp.exp(x - bound), axis=1))
    m = xp.max(x, axis=1, keepdims=True)
    return m[:, 0] + xp.log(xp.sum(xp.exp(x - m), axis=1))


def _infonce_sum(xp: Any, logits: Any, n: int, t: float) -> Any:
    """``sum_i (logsumexp_j logits[i, j] - logits[i, i])``: InfoNCE summed over anchors.

    ``logits`` are cosines over ``t``, so every entry lies in ``[-1/t, 1/t]``;
    for ``2/t <= 80`` (no float32 underflow of a whole row) ``1/t`` serves as
    the stabiliser and the row maxima are not computed.
    """
    if aac.is_torch_namespace(xp):  # torch's fused log-softmax kernel
        import torch

        target = torch.arange(n, device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target, reduction="sum")
    diag = xp.reshape(logits, (n * n,))[:: n + 1]
    bound = 1.0 / t if 2.0 / t <= 80.0 else None
    return xp.sum(_row_logsumexp(xp, logits, bound) - diag)


def _device_vector(xp: Any, z0: Any, z1: Any, lab: Any, zbar: Any, mu: Any, t: float,
                   C: int) -> Any:
    """All per-batch sums and validity checks as one 1-d array (order: ``_SLOTS``).

    Non-finite inputs need no full scan: they make a row norm, a loss sum or
    ``dv_sum`` non-finite, which the host sees in this vector.
    """
    n = _shape(z0)[0]
    ft = z0.dtype
    norm0 = xp.sqrt(xp.sum(z0 * z0, axis=1))
    norm1 = xp.sqrt(xp.sum(z1 * z1, axis=1))
    u0 = z0 / norm0[:, None]
    u1 = z1 / norm1[:, None]
    a = u0 * (1.0 / t)
    # InfoNCE: cross-entropy over row i of z0 z1^T / t, target i.
    contrastive = _infonce_sum(xp, a @ u1.T, n, t)
    if zbar is None:
        zbar = (u0 + u1) * 0.5
    # Mean classifier: logits z0 . mu_c / t, one-hot labels (no integer gather,
    # so an out-of-range label cannot trigger a device-side assertion).
    cl = a @ mu.T
    classes = xp.arange(C, dtype=lab.dtype, device=aac.device(lab))
    oh = xp.astype(lab[:, None] == classes[None, :], ft)
    counts = xp.sum(oh, axis=0)
    present = counts > 0
    cl_y = xp.sum(cl * oh, axis=1)
    sup_i = _row_logsumexp(xp, cl) - cl_y
    sub_i = _row_logsumexp(xp, xp.where(present[None, :], cl, -math.inf)) - cl_y
    per_anchor_count = oh @ counts
    curl = xp.sum(xp.where(per_anchor_count == 1, sub_i, 0.0))
    c1 = xp.where(present, counts, 1.0)
    collision = xp.sum(c1 * xp.log(c1))
    n_repeat = xp.sum(xp.where(counts >= 2, counts, 0.0))
    n_present = xp.sum(xp.astype(present, ft))
    dv = cl_y - xp.sum(a * zbar, axis=1)
    d = xp.sum(xp.where(dv < 0, dv, 0.0))
    bad_labels = n - xp.sum(counts)
    parts = [
        contrastive, xp.sum(sup_i), xp.sum(sub_i), curl, collision, d, xp.sum(dv),
        n_present, n_repeat, bad_labels,
        xp.min(norm0), xp.sum(norm0), xp.min(norm1), xp.sum(norm1),
    ]
    return xp.stack([xp.astype(p, ft) if p.dtype != ft else p for p in parts])


def _first_bad_row(x: Any, *, norm: bool = False) -> int:
    """Index of the first row of *x* (any library) that is non-finite (or, with
    ``norm=True``, whose norm is 0 or overflows in the array's dtype)."""
    h = _to_numpy(x)
    with np.errstate(all="ignore"):
        if norm:
            norms = np.sqrt(np.sum(h * h, axis=1))
            bad = ~(norms > 0) | ~np.isfinite(norms)
        else:
            bad = ~np.isfinite(h).all(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else -1


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


def _label_error(labels: Any, C: int) -> ValueError:
    host = _to_numpy(labels) if _is_array(labels) else np.asarray(labels)
    host = host.astype(np.int64).ravel()
    bad = np.flatnonzero((host < 0) | (host >= C))
    i = int(bad[0]) if bad.size else 0
    return ValueError(
        f"labels must be integers in [0, num_classes) = [0, {C}), "
        f"got labels[{i}] = {int(host[i])} ({bad.size} out of range)"
    )


def _mu_on(xp: Any, mu: Any, device: Any, dtype: Any, C: int, dim: int) -> Any:
    """Class means as an array of *xp* on *device* with *dtype*."""
    try:
        same = _is_array(mu) and aac.array_namespace(mu) is xp
    except TypeError:
        same = False
    if same and aac.device(mu) == device:
        out = _detach(mu)
        if _shape(out) != (C, dim):
            raise ValueError(f"class_means must have shape ({C}, {dim}), got {_shape(out)}")
        return out if out.dtype == dtype else xp.astype(out, dtype)
    host = class_means_to_numpy(mu, C)
    if host.shape != (C, dim):
        raise ValueError(f"class_means must have shape ({C}, {dim}), got {host.shape}")
    return xp.asarray(host, dtype=dtype, device=device)


def _diagnose(inp: _BatchInputs, mu_dev: Any, C: int, t: float, sums: list[float]) -> None:
    """Raise the ValueError that names what is wrong with a batch (host-side, error path)."""
    for name in ("anchor", "positive"):
        row = _first_bad_row(inp.arrays[name])
        if row >= 0:
            raise ValueError(f"{name} must be finite, row {row} has NaN or inf")
    for name in ("anchor", "positive"):
        row = _first_bad_row(inp.arrays[name], norm=True)
        if row >= 0:
            raise ValueError(
                f"{name} row {row} has norm 0 (or its norm overflows); features are "
                "L2-normalised (NS21, MATH.md section 4) and a zero vector has no direction"
            )
    if inp.arrays["mean_features"] is not None:
        row = _first_bad_row(inp.arrays["mean_features"])
        if row >= 0:
            raise ValueError(f"mean_features must be finite, row {row} has NaN or inf")
    class_means_to_numpy(mu_dev)  # raises, naming a non-finite row
    lab = _to_numpy(inp.lab)
    if np.any((lab < 0) | (lab >= C)):
        raise _label_error(lab, C)
    raise ValueError(
        "the batch's losses are not finite (features or class means too large for "
        f"dtype {inp.dtype} at temperature {t}); got sums {sums}"
    )


def _compute_batch(inp: _BatchInputs, mu_dev: Any, t: float, C: int) -> BatchTerms:
    """Run the batch on its device, bring the scalars home and validate them."""
    z0, z1, zbar = inp.arrays["anchor"], inp.arrays["positive"], inp.arrays["mean_features"]
    with np.errstate(all="ignore"):
        vec = _device_vector(inp.xp, z0, z1, inp.lab, zbar, mu_dev, t, C)
        v = _to_numpy(vec).astype(np.float64)
    s = {name: float(v[i]) for name, i in _SLOT.items()}
    sums = [s[k] for k in ("contrastive", "sup_all", "sub_all", "curl", "collision", "d")]
    finite = all(math.isfinite(x) for x in sums + [s["dv_sum"], s["norm0_sum"], s["norm1_sum"]])
    if not finite or not (s["norm0_min"] > 0 and s["norm1_min"] > 0) or s["bad_labels"] != 0:
        _diagnose(inp, mu_dev, C, t, sums)
    return BatchTerms(
        n=inp.n, num_classes=C, n_present=int(round(s["n_present"])),
        n_repeat=int(round(s["n_repeat"])),
        sum_contrastive=s["contrastive"], sum_sup=s["sup_all"], sum_sub=s["sub_all"],
        sum_curl=s["curl"], sum_collision=s["collision"], sum_d=min(0.0, s["d"]),
    )


def _batch_inputs(anchor: Any, positive: Any, labels: Any, mean_features: Any,
                  dim: int | None) -> _BatchInputs:
    return _BatchInputs({"anchor": anchor, "positive": positive,
                         "mean_features": mean_features}, labels, dim)


def batch_terms(anchor: Any, positive: Any, labels: Any, class_means: Any, *,
                temperature: float, mean_features: Any = None) -> BatchTerms:
    """The sums of NS21's estimators (MATH.md section 6) over one batch.

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
    return _compute_batch(inp, mu_dev, t, C)


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
                            class_counts: Any = None) -> BatchTerms:
    """The sums of :func:`batch_terms` from losses a trainer has already computed.

    Each loss is either per anchor (shape ``(n,)``) or the batch mean (a
    scalar).  Give ``labels`` (per anchor) or ``class_counts`` (per class).

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
    class_counts : array (C,) of int, optional
        How many anchors of each class the batch holds (instead of ``labels``).

    Returns
    -------
    BatchTerms
        ``sum_curl`` (ARORA19's collision-free sub-class loss) needs per-anchor
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
    >>> bt.covered, bt.sum_contrastive, bt.sum_d, bt.sum_curl
    (True, 4.2, -1.0, 2.4)
    """
    C = check_positive_int(num_classes, "num_classes")
    if (labels is None) == (class_counts is None):
        raise TypeError("give exactly one of labels= (per anchor) and class_counts= (per class)")
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
        if isinstance(class_counts, (bool, str, bytes)):
            raise TypeError(f"class_counts must be an array of C integers, "
                            f"got {short_repr(class_counts)}")
        host = _to_numpy(class_counts) if _is_array(class_counts) else np.asarray(class_counts)
        if host.dtype == object or host.dtype.kind not in "iuf":
            raise TypeError(f"class_counts must be integers, got {short_repr(class_counts)}")
        if host.shape != (C,):
            raise ValueError(f"class_counts must have shape (num_classes,) = ({C},), "
                             f"got {host.shape}")
        fl = host.astype(np.float64)
        if not np.all(np.isfinite(fl)) or np.any(fl < 0) or np.any(fl != np.floor(fl)):
            raise ValueError(f"class_counts must be integers >= 0, got {short_repr(class_counts)}")
        counts = host.astype(np.int64)
        if counts.sum() == 0:
            raise ValueError("class_counts sums to 0: an empty batch; a batch needs n >= 1")
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
        s_curl = float(math.fsum(v_sub[unique].tolist()))
    else:
        s_curl = math.nan
    return BatchTerms(
        n=n, num_classes=C, n_present=int(np.count_nonzero(counts)), n_repeat=n_repeat,
        sum_contrastive=s_con, sum_sup=s_sup, sum_sub=s_sub, sum_curl=s_curl,
        sum_collision=s_coll, sum_d=s_d,
    )


# ----------------------------------------------------------------------------
# class means
# ----------------------------------------------------------------------------

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
        self.dim = None if dim is None else check_positive_int(dim, "dim")
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
        if not _is_array(mean_features):
            mean_features = np.asarray(mean_features, dtype=np.float64)
        inp = _BatchInputs({"mean_features": mean_features}, labels, self.dim)
        xp, C = inp.xp, self.num_classes
        zbar = inp.arrays["mean_features"]
        with np.errstate(all="ignore"):
            classes = xp.arange(C, dtype=inp.lab.dtype, device=inp.device)
            oh = xp.astype(inp.lab[:, None] == classes[None, :], inp.dtype)
            sums = _to_numpy(oh.T @ zbar).astype(np.float64)
            cnt = _to_numpy(xp.sum(oh, axis=0)).astype(np.float64)
        if cnt.sum() != inp.n:
            raise _label_error(labels, C)
        if not np.all(np.isfinite(sums)):
            raise ValueError(
                f"mean_features must be finite, row {_first_bad_row(zbar)} has NaN or inf"
            )
        if self._sums is None:
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
        out = np.asarray(_to_numpy(all_reduce(vec.copy())), dtype=np.float64)
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
    for item in batches:
        try:
            zbar, y = item
        except (TypeError, ValueError) as exc:
            raise TypeError(f"batches must yield (mean_features, labels) pairs, "
                            f"got {short_repr(item)}") from exc
        est.update(zbar, y)
    if all_reduce is not None:
        est.sync(all_reduce)
    return est.compute()
