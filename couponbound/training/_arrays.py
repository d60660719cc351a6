"""Array-API shims of the training layer (private).

What :mod:`couponbound.training` needs to work on arrays of any library that
speaks the array API (numpy, PyTorch on CPU or GPU, JAX, CuPy) through
``array-api-compat``: host copies, detaching from autograd, shapes, the
working dtype, labels and class means moved to a batch's device.  No
framework is imported unless its arrays are passed in.
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Callable
from typing import Any

import array_api_compat as aac
import numpy as np
from numpy.typing import NDArray

from couponbound._validate import short_repr

__all__ = [
    "UNIT_SLACK",
    "AllReduce",
    "check_unit_rows",
    "class_means_to_numpy",
    "detach",
    "first_bad_row",
    "fingerprint",
    "index_dtype",
    "is_array",
    "label_error",
    "labels_on",
    "means_on",
    "namespace",
    "row_norms",
    "shape_of",
    "to_numpy",
    "work_dtype",
]

#: A function that sums a float64 vector elementwise over all processes and
#: returns the result (it may reduce in place and return its argument).
AllReduce = Callable[[NDArray[np.float64]], Any]


#: numpy 2 implements, in its own namespace, every array-API function used here
#: (``astype``, ``concat``, ``isdtype``, ``asarray(device=)``, ...).
_NUMPY_IS_ARRAY_API = int(np.__version__.split(".")[0]) >= 2


def namespace(*arrays: Any) -> Any:
    """The array-API namespace of *arrays*: ``numpy`` itself for numpy arrays under
    numpy 2 (array-api-compat's numpy wrapper costs about 50 ms on its first use in a
    process: it clones numpy's namespace, which imports ``numpy.f2py`` and
    ``numpy.testing``), else ``array_api_compat.array_namespace``."""
    if _NUMPY_IS_ARRAY_API and arrays and all(type(a) is np.ndarray for a in arrays):
        return np
    return aac.array_namespace(*arrays)


def to_numpy(x: Any) -> NDArray[Any]:
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


def detach(x: Any) -> Any:
    """Drop the autograd graph of a torch tensor (the monitor never backpropagates)."""
    if aac.is_torch_array(x):
        return x.detach()
    return x


def is_array(x: Any) -> bool:
    return aac.is_array_api_obj(x) and not isinstance(x, numbers.Number)


def shape_of(x: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in x.shape)


def work_dtype(xp: Any, arrays: list[Any], names: list[str]) -> Any:
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


def labels_on(xp: Any, labels: Any, device: Any, n: int) -> Any:
    """Labels as an integer array of the namespace *xp* on *device*, checked for shape/dtype.

    The dtype is the namespace's default integer (int64; int32 for JAX
    without x64, which would truncate an explicit int64 with a warning).
    """
    if isinstance(labels, (bool, str, bytes)) or labels is None:
        raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
    try:
        same = is_array(labels) and namespace(labels) is xp
    except TypeError:
        same = False
    if same:
        lab = detach(labels)
        if aac.device(lab) != device:
            lab = aac.to_device(lab, device)
    else:
        host = to_numpy(labels) if is_array(labels) else np.asarray(labels)
        if host.dtype == object:
            raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
        if host.dtype.kind not in "iu":
            raise TypeError(f"labels must have an integer dtype, got dtype {host.dtype}")
        lab = xp.asarray(host.astype(np.int64), dtype=index_dtype(xp), device=device)
    if not xp.isdtype(lab.dtype, "integral"):
        raise TypeError(f"labels must have an integer dtype, got dtype {lab.dtype}")
    if shape_of(lab) != (n,):
        raise ValueError(f"labels must have shape ({n},) to match anchor, got {shape_of(lab)}")
    idx = index_dtype(xp)
    return lab if lab.dtype == idx else xp.astype(lab, idx)


def index_dtype(xp: Any) -> Any:
    """The default integer dtype of the namespace *xp* (int64, or int32 for JAX without x64)."""
    return xp.asarray(0).dtype


def class_means_to_numpy(class_means: Any, num_classes: int | None = None) -> NDArray[np.float64]:
    """Validate class means ``mu`` (any array library) as a finite ``(C, d)`` float64 array.

    Examples
    --------
    >>> class_means_to_numpy([[1.0, 0.0], [0.0, 1.0]], 2).shape
    (2, 2)
    """
    if class_means is None or isinstance(class_means, (str, bytes, bool)):
        raise TypeError(f"class_means must be a (C, d) array, got {short_repr(class_means)}")
    host = to_numpy(class_means) if is_array(class_means) else np.asarray(class_means)
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


#: Rows of class means or mean features whose norm exceeds ``1 + UNIT_SLACK`` are refused:
#: both are means of L2-normalised features (NS21), so of norm <= 1 up to rounding.
UNIT_SLACK = 1e-6

_UNIT_WHY = {
    "mean_features": "zbar is the mean of L2-normalised views (norm <= 1), e.g. "
                     "(z0 / |z0| + z1 / |z1|) / 2; normalise the features first",
    "class_means": "class means are means of mean features zbar of norm <= 1 (NS21); "
                   "estimate them from normalised features, e.g. with fit_class_means()",
}


def row_norms(x: NDArray[Any]) -> NDArray[np.float64]:
    """Euclidean norms of the rows of a host array, scaled first (no overflow or underflow)."""
    with np.errstate(all="ignore"):
        h = np.asarray(x, dtype=np.float64)
        scale = np.max(np.abs(h), axis=1)
        safe = np.where(scale > 0, scale, 1.0)
        return np.asarray(scale * np.sqrt(np.sum((h / safe[:, None]) ** 2, axis=1)))


def check_unit_rows(x: Any, name: str) -> None:
    """Refuse a ``(n, d)`` array (any library) with a row of norm above 1.

    The one rule for class means and mean features on every route (the
    monitor's constructor, attribute, ``update``, ``fit_class_means``,
    ``load_state_dict``, and :func:`~couponbound.training.batch.batch_terms`):
    NS21's mean classifier and ``d`` assume them; means of norm 20 would move
    the bound by an order of magnitude without any other sign.
    """
    host = to_numpy(x) if is_array(x) else np.asarray(x)
    if host.dtype.kind not in "iuf" or host.ndim != 2 or host.size == 0:
        return
    norms = row_norms(host)
    big = np.flatnonzero(np.isfinite(norms) & (norms > 1.0 + UNIT_SLACK))  # non-finite: elsewhere
    if big.size:
        i = int(big[0])
        raise ValueError(f"{name} row {i} has norm {norms[i]:.4g} > 1: {_UNIT_WHY[name]} "
                         f"({big.size} row(s) too long)")


def fingerprint(arr: NDArray[np.float64] | None) -> str:
    """SHA-256 of a float64 array's shape and bytes (``"none"`` for ``None``)."""
    if arr is None:
        return "none"
    a = np.ascontiguousarray(arr, dtype=np.float64)
    h = hashlib.sha256(repr(a.shape).encode())
    h.update(a.tobytes())
    return h.hexdigest()


def first_bad_row(x: Any, *, norm: bool = False) -> int:
    """Index of the first row of *x* (any library) that is non-finite (or, with
    ``norm=True``, whose norm is 0 or overflows in the array's dtype)."""
    h = to_numpy(x)
    with np.errstate(all="ignore"):
        if norm:
            norms = np.sqrt(np.sum(h * h, axis=1))
            bad = ~(norms > 0) | ~np.isfinite(norms)
        else:
            bad = ~np.isfinite(h).all(axis=1)
    return int(np.flatnonzero(bad)[0]) if bad.any() else -1


def label_error(labels: Any, C: int) -> ValueError:
    host = to_numpy(labels) if is_array(labels) else np.asarray(labels)
    host = host.astype(np.int64).ravel()
    bad = np.flatnonzero((host < 0) | (host >= C))
    i = int(bad[0]) if bad.size else 0
    return ValueError(
        f"labels must be integers in [0, num_classes) = [0, {C}), "
        f"got labels[{i}] = {int(host[i])} ({bad.size} out of range)"
    )


def means_on(xp: Any, mu: Any, device: Any, dtype: Any, C: int, dim: int) -> Any:
    """Class means as an array of *xp* on *device* with *dtype*."""
    try:
        same = is_array(mu) and namespace(mu) is xp
    except TypeError:
        same = False
    if same and aac.device(mu) == device:
        out = detach(mu)
        if shape_of(out) != (C, dim):
            raise ValueError(f"class_means must have shape ({C}, {dim}), got {shape_of(out)}")
        return out if out.dtype == dtype else xp.astype(out, dtype)
    host = class_means_to_numpy(mu, C)
    if host.shape != (C, dim):
        raise ValueError(f"class_means must have shape ({C}, {dim}), got {host.shape}")
    return xp.asarray(host, dtype=dtype, device=device)
