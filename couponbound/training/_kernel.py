"""The device side of one batch: every sum of NS21's estimators in one pass (private).

:func:`batch_sums` runs the arithmetic where the arrays live, in their dtype,
and brings a few dozen scalars to the host, once per batch; a batch that is
not finite, has zero-norm features or labels out of range is diagnosed on the
host (error path only).  The definitions are those of :ref:`math-losses` and
:ref:`math-measurement`; three negative-sampling schemes share the
mean-classifier part:

- in-batch InfoNCE: anchor ``i`` is ``z0_i``, its candidates ``z1_j`` for
  every ``j`` (``K = n - 1`` negatives), ``Col_i = n_{y_i} - 1``;
- a queue (MoCo): anchor ``i``'s negatives are the ``M`` keys ``q_m`` with
  labels ``l_m`` (``K = M``), ``Col_i = #{m : l_m = y_i}``, the draw covers
  the classes ``{y_i} + {l_m}``;
- NT-Xent (SimCLR): the ``2N`` anchors are both views, anchor ``i``'s
  negatives both views of every other sample (``K = 2N - 2``),
  ``Col_i = 2 (n_{y_i} - 1)``, the draw covers the ``N`` samples' classes.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat as aac
import numpy as np

from couponbound.training._arrays import (
    class_means_to_numpy,
    first_bad_row,
    label_error,
    shape_of,
    to_numpy,
)
from couponbound.training._inputs import BatchInputs

# Order of the scalars one batch sends to the host (see _device_vector).
_SLOTS = (
    # per-anchor columns, reduced in one sum
    "sup_all", "sub_all", "sup_covered", "sub_uncovered", "arora", "collision", "d", "dv_sum",
    "n_covered", "n_repeat", "norm0_ok", "norm0_sum", "norm1_ok", "norm1_sum",
    # the rest
    "contrastive", "n_present", "bad_labels", "normq_ok", "normq_sum", "diag_sum", "diag_n",
)
_SLOT = {name: i for i, name in enumerate(_SLOTS)}


def _row_logsumexp(xp: Any, x: Any, bound: float | None = None) -> Any:
    """``log sum_j exp(x[i, j])`` per row.

    Stabilised by the row maximum, or by a known upper bound of every entry
    (``bound``), which saves a pass over ``x``; the caller guarantees that
    ``exp(x - bound)`` cannot underflow for a whole row.
    """
    if aac.is_torch_namespace(xp):  # one fused kernel
        import torch

        return torch.logsumexp(x, dim=1)
    if bound is not None:
        return bound + xp.log(xp.sum(xp.exp(x - bound), axis=1))
    m = xp.max(x, axis=1, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0)
    return m[:, 0] + xp.log(xp.sum(xp.exp(x - m), axis=1))


def _lse_bound(t: float) -> float | None:
    """``1/t`` bounds every cosine logit; usable as stabiliser while ``2/t <= 80``."""
    return 1.0 / t if 2.0 / t <= 80.0 else None


def _infonce_sum(xp: Any, logits: Any, n: int, t: float) -> Any:
    """``sum_i (logsumexp_j logits[i, j] - logits[i, i])``: InfoNCE summed over anchors."""
    if aac.is_torch_namespace(xp):  # torch's fused log-softmax kernel
        import torch

        target = torch.arange(n, device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target, reduction="sum")
    diag = xp.reshape(logits, (n * n,))[:: n + 1]
    return xp.sum(_row_logsumexp(xp, logits, _lse_bound(t)) - diag)


def _queue_sum(xp: Any, a: Any, u1: Any, uq: Any, t: float) -> Any:
    """InfoNCE with a queue: candidates ``u1_i`` (the positive) and the keys ``uq``."""
    pos = xp.sum(a * u1, axis=1)
    neg = a @ uq.T
    if aac.is_torch_namespace(xp):
        import torch

        logits = torch.cat([pos[:, None], neg], dim=1)
        target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target, reduction="sum")
    bound = _lse_bound(t)
    if bound is None:
        m = xp.maximum(xp.max(neg, axis=1), pos) if shape_of(neg)[1] else pos
    else:
        m = bound
    lse = m + xp.log(xp.exp(pos - m) + xp.sum(xp.exp(neg - (m if bound is not None
                                                              else m[:, None])), axis=1))
    return xp.sum(lse - pos)


def _nt_xent_sum(xp: Any, U: Any, A: Any, N: int, t: float) -> Any:
    """NT-Xent summed over the ``2N`` anchors ``U`` (both views; ``A = U / t``)."""
    sim = A @ U.T
    idx = xp.arange(2 * N, device=aac.device(U))
    partner = xp.concat([idx[N:], idx[:N]])
    if aac.is_torch_namespace(xp):
        import torch

        sim = sim.clone()
        sim.fill_diagonal_(-math.inf)
        return torch.nn.functional.cross_entropy(sim, partner, reduction="sum")
    eye = idx[:, None] == idx[None, :]
    sim = xp.where(eye, -math.inf, sim)
    pos = xp.sum(A * xp.concat([U[N:, :], U[:N, :]], axis=0), axis=1)
    if N == 1:  # the positive is the only candidate
        return xp.sum(pos - pos)
    return xp.sum(_row_logsumexp(xp, sim, _lse_bound(t)) - pos)


def _normalise(xp: Any, z: Any) -> tuple[Any, Any]:
    if aac.is_torch_namespace(xp):  # one fused kernel for the norms
        import torch

        norm = torch.linalg.vector_norm(z, dim=1)
    else:
        norm = xp.sqrt(xp.sum(z * z, axis=1))
    return z / norm[:, None], norm


def _class_counts(xp: Any, lab: Any, C: int, ft: Any) -> Any:
    """How many labels fall in each class ``0..C-1`` (labels out of range count nowhere)."""
    if aac.is_torch_namespace(xp):
        import torch

        valid = (lab >= 0) & (lab < C)
        return torch.bincount(torch.where(valid, lab, 0), weights=valid.to(ft), minlength=C)
    return xp.sum(_one_hot(xp, lab, C, ft), axis=0)


def _one_hot(xp: Any, lab: Any, C: int, ft: Any) -> Any:
    classes = xp.arange(C, dtype=lab.dtype, device=aac.device(lab))
    return xp.astype(lab[:, None] == classes[None, :], ft)


def _device_vector(xp: Any, z0: Any, z1: Any, lab: Any, zbar: Any, mu: Any, t: float,
                   C: int, loss: str, zq: Any, qlab: Any, diagnostic: bool) -> Any:
    """All per-batch sums and validity checks as one 1-d array (order: ``_SLOTS``).

    Non-finite inputs need no full scan: they make a row norm, a loss sum or
    ``dv_sum`` non-finite, which the host sees in this vector.
    """
    n = shape_of(z0)[0]
    ft = z0.dtype
    zero = xp.asarray(0.0, dtype=ft, device=aac.device(z0))
    u0, norm0 = _normalise(xp, z0)
    u1, norm1 = _normalise(xp, z1)
    if zbar is None:
        zbar = (u0 + u1) * 0.5
    oh_b = _one_hot(xp, lab, C, ft)
    counts = xp.sum(oh_b, axis=0)  # the batch's samples per class
    present_b = counts > 0
    bad_labels = n - xp.sum(counts)
    normq_ok = normq_sum = zero
    if loss == "nt_xent":
        U = xp.concat([u0, u1], axis=0)
        A = U * (1.0 / t)
        contrastive = _nt_xent_sum(xp, U, A, n, t)
        oh = xp.concat([oh_b, oh_b], axis=0)
        zb = xp.concat([zbar, zbar], axis=0)
        same = oh @ counts - 1.0  # the other samples of the anchor's class
        col = 2.0 * same
        present = present_b[None, :]
        covered = xp.all(present_b) & (col >= 0.0)
    else:
        A = u0 * (1.0 / t)
        oh, zb = oh_b, zbar
        if zq is None:
            contrastive = _infonce_sum(xp, A @ u1.T, n, t)
            col = oh @ counts - 1.0
            present = present_b[None, :]
            covered = xp.all(present_b) & (col >= 0.0)
        else:
            uq, normq = _normalise(xp, zq)
            normq_ok = xp.sum(xp.astype(normq > 0, ft)) - shape_of(zq)[0]
            normq_sum = xp.sum(normq)
            contrastive = _queue_sum(xp, A, u1, uq, t)
            qcounts = _class_counts(xp, qlab, C, ft)
            bad_labels = bad_labels + (shape_of(zq)[0] - xp.sum(qcounts))
            col = oh @ qcounts
            present = (qcounts > 0)[None, :] | (oh > 0)
            missing = xp.astype(qcounts == 0, ft)
            covered = (xp.sum(missing) - oh @ missing) == 0.0
            present_b = qcounts > 0
    # Mean classifier: logits z . mu_c / t, one-hot labels (no integer gather,
    # so an out-of-range label cannot trigger a device-side assertion).
    cl = A @ mu.T
    cl_y = xp.sum(cl * oh, axis=1)
    sup_i = _row_logsumexp(xp, cl) - cl_y
    sub_i = _row_logsumexp(xp, xp.where(present, cl, -math.inf)) - cl_y
    sub_i = xp.where(xp.isnan(sub_i), 0.0, sub_i)  # a row of an out-of-range label
    unique = col == 0.0
    dv = cl_y - xp.sum(A * zb, axis=1)
    if diagnostic:
        S = u0 @ u1.T
        own = xp.sum(u0 * u1, axis=1)
        same_cls = oh_b @ oh_b.T
        cnt = oh_b @ counts
        per_j = xp.sum(same_cls * xp.abs(S - own[None, :]), axis=0)
        many = cnt >= 2.0
        diag_sum = xp.sum(xp.where(many, per_j / xp.where(many, cnt - 1.0, 1.0), 0.0))
        diag_n = xp.sum(xp.astype(many, ft))
    else:
        diag_sum = diag_n = zero
    if loss == "nt_xent":
        norm0, norm1 = xp.concat([norm0, norm1]), xp.concat([norm1, norm0])
    cols = [
        sup_i, sub_i, xp.where(covered, sup_i, 0.0), xp.where(covered, 0.0, sub_i),
        xp.where(unique, sub_i, 0.0), xp.log1p(xp.where(col > 0, col, 0.0)),
        xp.where(dv < 0, dv, 0.0), dv, xp.astype(covered & (col >= 0.0), ft),
        xp.astype(col >= 0.5, ft), xp.astype(norm0 > 0, ft), norm0,
        xp.astype(norm1 > 0, ft), norm1,
    ]
    per_anchor = xp.sum(xp.stack([xp.astype(c, ft) if c.dtype != ft else c for c in cols],
                                 axis=1), axis=0)
    rest = [contrastive, xp.sum(xp.astype(present_b, ft)), bad_labels, normq_ok, normq_sum,
            diag_sum, diag_n]
    parts = [per_anchor, xp.stack([xp.astype(p, ft) if p.dtype != ft else p for p in rest])]
    return xp.concat(parts)


def _diagnose(inp: BatchInputs, mu_dev: Any, C: int, t: float, sums: list[float]) -> None:
    """Raise the ValueError that names what is wrong with a batch (host-side, error path)."""
    names = ["anchor", "positive"] + (["negatives"] if "negatives" in inp.arrays
                                      and inp.arrays["negatives"] is not None else [])
    for name in names:
        row = first_bad_row(inp.arrays[name])
        if row >= 0:
            raise ValueError(f"{name} must be finite, row {row} has NaN or inf")
    for name in names:
        row = first_bad_row(inp.arrays[name], norm=True)
        if row >= 0:
            raise ValueError(
                f"{name} row {row} has norm 0; features are L2-normalised (as in NS21) "
                "and a zero vector has no direction"
            )
    if inp.arrays["mean_features"] is not None:
        row = first_bad_row(inp.arrays["mean_features"])
        if row >= 0:
            raise ValueError(f"mean_features must be finite, row {row} has NaN or inf")
    class_means_to_numpy(mu_dev)  # raises, naming a non-finite row
    lab = to_numpy(inp.lab)
    if np.any((lab < 0) | (lab >= C)):
        raise label_error(lab, C)
    if inp.qlab is not None:
        q = to_numpy(inp.qlab)
        if np.any((q < 0) | (q >= C)):
            err = label_error(q, C)
            raise ValueError(str(err).replace("labels", "negative_labels", 1))
    raise ValueError(
        "the batch's losses are not finite (features or class means too large for "
        f"dtype {inp.dtype} at temperature {t}); got sums {sums}"
    )


def _rescaled(xp: Any, z: Any) -> Any:
    """Rows divided by their largest magnitude (so that squaring cannot under- or overflow)."""
    if z is None:
        return None
    m = xp.max(xp.abs(z), axis=1, keepdims=True)
    return z / xp.where(m > 0, m, 1.0)


def _run(inp: BatchInputs, mu_dev: Any, t: float, C: int, loss: str, diagnostic: bool,
         arrays: dict[str, Any]) -> dict[str, float]:
    with np.errstate(all="ignore"):
        vec = _device_vector(inp.xp, arrays["anchor"], arrays["positive"], inp.lab,
                             arrays["mean_features"], mu_dev, t, C, loss,
                             arrays.get("negatives"), inp.qlab, diagnostic)
        v = to_numpy(vec).astype(np.float64)
    return {name: float(v[i]) for name, i in _SLOT.items()}


def batch_sums(inp: BatchInputs, mu_dev: Any, t: float, C: int, *, loss: str = "infonce",
               diagnostic: bool = False) -> dict[str, Any]:
    """Run the batch on its device, bring the scalars home and validate them.

    Returns the fields of :class:`couponbound.training.batch.BatchTerms`, by name.
    """
    s = _run(inp, mu_dev, t, C, loss, diagnostic, inp.arrays)
    n_anchors = 2 * inp.n if loss == "nt_xent" else inp.n
    has_q = inp.arrays.get("negatives") is not None
    norm_names = ["norm0", "norm1"] + (["normq"] if has_q else [])

    n_rows = {"norm0": n_anchors, "norm1": n_anchors, "normq": 0}

    def norms_ok(s: dict[str, float]) -> bool:
        return all(s[f"{k}_ok"] == n_rows[k] and math.isfinite(s[f"{k}_sum"])
                   for k in norm_names)

    if not norms_ok(s):
        # Tiny or huge features: normalise after scaling each row by its largest entry.
        with np.errstate(all="ignore"):
            scaled = {k: (_rescaled(inp.xp, v) if k in ("anchor", "positive", "negatives")
                          else v) for k, v in inp.arrays.items()}
            s = _run(inp, mu_dev, t, C, loss, diagnostic, scaled)
    sums = [s[k] for k in ("contrastive", "sup_all", "sub_all", "arora", "collision", "d")]
    finite = all(math.isfinite(x) for x in sums + [s["dv_sum"], s["sup_covered"],
                                                   s["sub_uncovered"], s["diag_sum"]])
    if not finite or not norms_ok(s) or s["bad_labels"] != 0:
        _diagnose(inp, mu_dev, C, t, sums)
    if has_q:
        K = shape_of(inp.arrays["negatives"])[0]
    else:
        K = 2 * inp.n - 2 if loss == "nt_xent" else inp.n - 1
    return {
        "n": n_anchors, "num_classes": C, "n_present": int(round(s["n_present"])),
        "n_repeat": int(round(s["n_repeat"])),
        "sum_contrastive": max(0.0, s["contrastive"]), "sum_sup": s["sup_all"],
        "sum_sub": s["sub_all"], "sum_arora": s["arora"], "sum_collision": s["collision"],
        "sum_d": min(0.0, s["d"]), "K": K, "n_covered": int(round(s["n_covered"])),
        "sum_sup_covered": s["sup_covered"], "sum_sub_uncovered": s["sub_uncovered"],
        "loss": loss, "shared_negatives": K if has_q else 0,
        "sum_diagnostic": s["diag_sum"], "n_diagnostic": int(round(s["diag_n"])),
    }


def class_sums(inp: BatchInputs, C: int) -> tuple[Any, Any]:
    """Per-class sums ``(C, d)`` of the batch's mean features ``zbar`` and counts ``(C,)``, on the host.

    ``zbar`` is ``mean_features`` if given, else the mean of the two normalised views.
    """
    xp = inp.xp
    zbar = inp.arrays["mean_features"]
    with np.errstate(all="ignore"):
        if zbar is None:
            u0, _ = _normalise(xp, _rescaled(xp, inp.arrays["anchor"]))
            u1, _ = _normalise(xp, _rescaled(xp, inp.arrays["positive"]))
            zbar = (u0 + u1) * 0.5
        oh = _one_hot(xp, inp.lab, C, inp.dtype)
        return (to_numpy(oh.T @ zbar).astype(np.float64),
                to_numpy(xp.sum(oh, axis=0)).astype(np.float64))
