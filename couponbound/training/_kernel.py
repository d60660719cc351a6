"""The device side of one batch: every sum of NS21's estimators in one pass (private).

:func:`batch_sums` runs the arithmetic where the arrays live, in their dtype,
and brings a dozen scalars to the host, once per batch; a batch that is not
finite, has zero-norm features or labels out of range is diagnosed on the
host (error path only).  The definitions are those of :ref:`math-losses` and
:ref:`math-measurement`.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat as aac
import numpy as np

from couponbound.training._arrays import (
    _first_bad_row,
    _label_error,
    _shape,
    _to_numpy,
    class_means_to_numpy,
)
from couponbound.training._inputs import _BatchInputs

# Order of the scalars one batch sends to the host (see _device_vector).
_SLOTS = (
    "contrastive", "sup_all", "sub_all", "arora", "collision", "d", "dv_sum",
    "n_present", "n_repeat", "bad_labels", "norm0_min", "norm0_sum", "norm1_min", "norm1_sum",
)
_SLOT = {name: i for i, name in enumerate(_SLOTS)}


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
    arora = xp.sum(xp.where(per_anchor_count == 1, sub_i, 0.0))
    c1 = xp.where(present, counts, 1.0)
    collision = xp.sum(c1 * xp.log(c1))
    n_repeat = xp.sum(xp.where(counts >= 2, counts, 0.0))
    n_present = xp.sum(xp.astype(present, ft))
    dv = cl_y - xp.sum(a * zbar, axis=1)
    d = xp.sum(xp.where(dv < 0, dv, 0.0))
    bad_labels = n - xp.sum(counts)
    parts = [
        contrastive, xp.sum(sup_i), xp.sum(sub_i), arora, collision, d, xp.sum(dv),
        n_present, n_repeat, bad_labels,
        xp.min(norm0), xp.sum(norm0), xp.min(norm1), xp.sum(norm1),
    ]
    return xp.stack([xp.astype(p, ft) if p.dtype != ft else p for p in parts])


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
                "L2-normalised (as in NS21) and a zero vector has no direction"
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


def batch_sums(inp: _BatchInputs, mu_dev: Any, t: float, C: int) -> dict[str, Any]:
    """Run the batch on its device, bring the scalars home and validate them.

    Returns the fields of :class:`couponbound.training.batch.BatchTerms`, by name.
    """
    z0, z1, zbar = inp.arrays["anchor"], inp.arrays["positive"], inp.arrays["mean_features"]
    with np.errstate(all="ignore"):
        vec = _device_vector(inp.xp, z0, z1, inp.lab, zbar, mu_dev, t, C)
        v = _to_numpy(vec).astype(np.float64)
    s = {name: float(v[i]) for name, i in _SLOT.items()}
    sums = [s[k] for k in ("contrastive", "sup_all", "sub_all", "arora", "collision", "d")]
    finite = all(math.isfinite(x) for x in sums + [s["dv_sum"], s["norm0_sum"], s["norm1_sum"]])
    if not finite or not (s["norm0_min"] > 0 and s["norm1_min"] > 0) or s["bad_labels"] != 0:
        _diagnose(inp, mu_dev, C, t, sums)
    return {
        "n": inp.n, "num_classes": C, "n_present": int(round(s["n_present"])),
        "n_repeat": int(round(s["n_repeat"])),
        "sum_contrastive": s["contrastive"], "sum_sup": s["sup_all"], "sum_sub": s["sub_all"],
        "sum_arora": s["arora"], "sum_collision": s["collision"], "sum_d": min(0.0, s["d"]),
    }
