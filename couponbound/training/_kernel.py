"""The device side of one batch: every sum of NS21's estimators in one pass (private).

:func:`batch_sums` runs the arithmetic where the arrays live, in their dtype,
and brings a few dozen scalars to the host, once per batch; a batch that is
not finite, has zero-norm features, labels out of range or given mean
features of norm > 1 is diagnosed on the host (error path only).  The
definitions are those of :ref:`math-losses` and :ref:`math-measurement`;
:func:`draw_terms` describes the negative schemes once (in-batch, a queue,
NT-Xent, per-anchor negatives) for this kernel and for the losses route.
"""
from __future__ import annotations

import math
from typing import Any

import array_api_compat as aac
import numpy as np

from couponbound.training._arrays import (
    UNIT_SLACK,
    check_unit_rows,
    class_means_to_numpy,
    first_bad_row,
    label_error,
    shape_of,
    to_numpy,
)
from couponbound.training._inputs import BatchInputs

__all__ = ["batch_sums", "class_sums", "device_vector", "draw_terms"]

# Order of the scalars one batch sends to the host (see device_vector).
_SLOTS = (
    # per-anchor columns, reduced in one sum
    "sup_all", "sub_all", "sup_covered", "sub_uncovered", "arora", "collision", "d", "dv_sum",
    "n_covered", "n_repeat", "norm0_ok", "norm0_sum", "norm1_ok", "norm1_sum", "col_sum",
    "classes_sum",
    # the rest
    "contrastive", "n_present", "bad_labels", "normq_ok", "normq_sum", "diag_sum", "diag_n",
    "zbar_sq_max",
)
_SLOT = {name: i for i, name in enumerate(_SLOTS)}


def _lse_bound(t: float) -> float | None:
    """``1/t`` bounds every cosine logit (unit features, class means of norm <= 1); usable
    as the stabiliser of every log-sum-exp while ``2/t <= 80`` (no term underflows)."""
    return 1.0 / t if 2.0 / t <= 80.0 else None


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


def _in_range(xp: Any, lab: Any, C: int) -> Any:
    """Labels with those outside ``[0, C)`` replaced by 0 (such a batch is refused later;
    this only keeps gathers from reading out of bounds on a device)."""
    return xp.where((lab >= 0) & (lab < C), lab, xp.zeros_like(lab))


def draw_terms(xp: Any, lab: Any, counts: Any, C: int, *, loss: str = "infonce",
               queue_counts: Any = None, per_anchor_counts: Any = None
               ) -> tuple[Any, Any, Any, Any, Any]:
    """What the negative scheme makes of each anchor's draw, in any array namespace.

    The one description of the four schemes (:ref:`math-measurement`), shared
    by the device kernel (:func:`device_vector`) and the losses route
    (:func:`couponbound.training.batch.batch_terms_from_losses`).  An anchor's
    *draw* is its own class and its negatives' classes.

    Parameters
    ----------
    lab : array (g,) of int
        The class of each anchor (or anchor group), in ``[0, C)``.
    counts : array (C,)
        The batch's samples per class.
    loss : {"infonce", "nt_xent"}
        ``"nt_xent"``: the negatives are both views of the other samples.
    queue_counts : array (C,), optional
        Keys per class of a queue shared by every anchor.
    per_anchor_counts : array (g, C), optional
        Each anchor's own negatives per class.

    Returns
    -------
    col, covered, classes, present, n_present
        Per anchor: ``Col`` (negatives of its class), whether its draw holds
        every class, the number of distinct classes in its draw; the classes
        present in every anchor's draw (a boolean ``(C,)`` mask, ``None`` for
        per-anchor negatives), and the number of distinct classes among the
        batch's samples (among the negatives for a queue or per-anchor
        negatives).

    Notes
    -----
    - in-batch InfoNCE: ``Col_i = n_{y_i} - 1``, the draw is the batch;
    - NT-Xent: ``Col_i = 2 (n_{y_i} - 1)`` (both views of each class-mate),
      the draw is the ``N`` samples' classes;
    - a queue of keys ``q``: ``Col_i = q_{y_i}``, the draw is
      ``{y_i} + {classes of the keys}``;
    - per-anchor negatives: ``Col_i`` and the draw from anchor ``i``'s row.
    """
    ft = counts.dtype
    if per_anchor_counts is not None:
        own = _one_hot(xp, lab, C, per_anchor_counts.dtype)
        col = xp.sum(per_anchor_counts * own, axis=1)
        in_draw = (per_anchor_counts + own) > 0
        classes = xp.sum(xp.astype(in_draw, ft), axis=1)
        n_present = xp.sum(xp.astype(xp.sum(per_anchor_counts, axis=0) > 0, ft))
        return col, classes == C, classes, None, n_present
    if queue_counts is not None:
        present = queue_counts > 0
        n_present = xp.sum(xp.astype(present, ft))
        col = xp.take(queue_counts, lab)
        classes = n_present + xp.astype(col == 0, ft)
        return col, classes == C, classes, present, n_present
    present = counts > 0
    n_present = xp.sum(xp.astype(present, ft))
    same = xp.take(counts, lab) - 1
    col = 2 * same if loss == "nt_xent" else same
    classes = xp.zeros_like(same) + n_present
    return col, classes == C, classes, present, n_present


def _exp_shifted(xp: Any, L: Any, shift: Any) -> Any:
    """``exp(L - shift)``, in place for numpy (``L`` is not used again)."""
    if isinstance(L, np.ndarray):
        np.subtract(L, shift, out=L)
        return np.exp(L, out=L)
    return xp.exp(L - shift)


def _row_max(xp: Any, x: Any) -> Any:
    m = xp.max(x, axis=1, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


def _row_lse(xp: Any, x: Any, bound: float | None) -> Any:
    """``log sum_j exp(x[i, j])`` per row (``x`` is consumed).

    Stabilised by ``bound`` (a known upper bound of every entry, with no
    underflow over a row, saves a pass) or by the row maxima.
    """
    if bound is not None:
        return bound + xp.log(xp.sum(_exp_shifted(xp, x, bound), axis=1))
    m = _row_max(xp, x)
    return m[:, 0] + xp.log(xp.sum(xp.exp(x - m), axis=1))


def _contrastive_sum(xp: Any, logits: Any, pos: Any, loss: str, queue: bool,
                     bound: float | None) -> Any:
    """The contrastive loss summed over anchors from the candidates' logits (consumed).

    In-batch: candidate ``i`` of anchor ``i`` is its positive; NT-Xent: its
    partner view (the diagonal, the anchor itself, is ``-inf``); a queue: the
    candidates are the keys and the positive ``pos`` besides them.
    """
    n = shape_of(logits)[0]
    if aac.is_torch_namespace(xp):  # torch's fused, vectorised log-softmax
        import torch

        if queue:  # lse over the keys from one log-softmax entry, then the positive
            lse = torch.logaddexp(logits[:, 0] - torch.log_softmax(logits, dim=1)[:, 0], pos)
            return torch.sum(lse - pos)
        if loss == "nt_xent":
            target = torch.arange(n, device=logits.device).roll(n // 2)
        else:
            target = torch.arange(n, device=logits.device)
        return torch.nn.functional.cross_entropy(logits, target, reduction="sum")
    if loss == "nt_xent" and n == 2:  # N = 1: the partner is the only candidate
        return xp.sum(pos - pos)
    lse = _row_lse(xp, logits, bound)
    if queue:
        top = xp.maximum(lse, pos)
        lse = top + xp.log(xp.exp(lse - top) + xp.exp(pos - top))
    return xp.sum(lse - pos)


def _drop_diagonal(xp: Any, L: Any) -> Any:
    """``L`` with ``L[i, i] = -inf`` (an NT-Xent anchor is not its own candidate)."""
    if isinstance(L, np.ndarray):
        np.fill_diagonal(L, -math.inf)
        return L
    if aac.is_torch_namespace(xp):
        L.fill_diagonal_(-math.inf)
        return L
    idx = xp.arange(shape_of(L)[0], device=aac.device(L))
    return xp.where(idx[:, None] == idx[None, :], -math.inf, L)


def device_vector(inp: BatchInputs, mu: Any, t: float, C: int, loss: str, diagnostic: bool,
                  arrays: dict[str, Any]) -> Any:
    """All per-batch sums and validity checks as one 1-d array (order: ``_SLOTS``).

    Two matrix products give every logit the batch needs: the anchors
    (``A = u0 / t``) against the candidates (the positives, the queue's
    keys, or both views) and against the class means, ``A mu^T``; the
    mean classifier's log-sum-exps over all classes and over the classes of
    each anchor's draw come from one exponential of ``A mu^T`` (shifted by
    ``1/t``, which bounds every logit) and a matrix-vector product with the
    mask of present classes; no per-row work.  Non-finite inputs need no
    full scan: they make a row norm, a loss sum or ``dv_sum`` non-finite,
    which the host sees in this vector.
    """
    xp = inp.xp
    z0, z1, zbar, zq = (arrays["anchor"], arrays["positive"], arrays["mean_features"],
                        arrays.get("negatives"))
    n = inp.n
    ft = z0.dtype
    zero = xp.asarray(0.0, dtype=ft, device=aac.device(z0))
    u0, norm0 = _normalise(xp, z0)
    u1, norm1 = _normalise(xp, z1)
    if zbar is None:
        zbar = (u0 + u1) * 0.5
        zbar_sq_max = zero
    else:  # given mean features must have norm <= 1 (checked on the host)
        zbar_sq_max = xp.max(xp.sum(zbar * zbar, axis=1))
    lab = _in_range(xp, inp.lab, C)
    counts = _class_counts(xp, inp.lab, C, ft)  # the batch's samples per class
    bad_labels = n - xp.sum(counts)
    normq_ok = normq_sum = zero
    qcounts = None
    bound = _lse_bound(t)
    if loss == "nt_xent":
        U = xp.concat([u0, u1], axis=0)
        A = U * (1.0 / t)
        pos = xp.sum(A * xp.concat([u1, u0], axis=0), axis=1)
        lab_a = xp.concat([lab, lab])
        zb = xp.concat([zbar, zbar], axis=0)
        contrastive = _contrastive_sum(xp, _drop_diagonal(xp, A @ U.T), pos, loss, False,
                                       bound)
    else:
        A = u0 * (1.0 / t)
        pos = xp.sum(A * u1, axis=1)
        lab_a, zb = lab, zbar
        if zq is None:
            contrastive = _contrastive_sum(xp, A @ u1.T, pos, loss, False, bound)
        else:
            uq, normq = _normalise(xp, zq)
            normq_ok = xp.sum(xp.astype(normq > 0, ft)) - shape_of(zq)[0]
            normq_sum = xp.sum(normq)
            qcounts = _class_counts(xp, inp.qlab, C, ft)
            bad_labels = bad_labels + (shape_of(zq)[0] - xp.sum(qcounts))
            contrastive = _contrastive_sum(xp, A @ uq.T, pos, loss, True, bound)
    col, covered, classes, present, n_present = draw_terms(
        xp, lab_a, counts, C, loss=loss, queue_counts=qcounts)
    # Mean classifier: one product for its logits, one exponential for its sums.
    cl = A @ mu.T
    oh = _one_hot(xp, lab_a, C, ft)
    cl_y = xp.sum(cl * oh, axis=1)  # z . mu_y / t (one-hot: no gather on a device)
    dv = cl_y - xp.sum(A * zb, axis=1)
    if bound is not None:
        shift: Any = bound
        E = _exp_shifted(xp, cl, bound)
    else:
        top = _row_max(xp, cl)
        E = _exp_shifted(xp, cl, top)
        shift = top[:, 0]
    s_all = xp.sum(E, axis=1)
    pres = xp.astype(present, ft)
    s_sub = E @ pres + xp.exp(cl_y - shift) * (1.0 - xp.take(pres, lab_a))
    s_sub = xp.where(covered, s_all, s_sub)
    # -ln softmax >= 0: clip the rounding of an anchor whose class dominates its row
    sup_i = xp.maximum(shift + xp.log(s_all) - cl_y, 0.0)
    sub_i = xp.maximum(shift + xp.log(s_sub) - cl_y, 0.0)
    sub_i = xp.where(xp.isfinite(sub_i), sub_i, 0.0)  # a row of an out-of-range label
    unique = col == 0.0
    if diagnostic:
        oh_b = _one_hot(xp, lab, C, ft)
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
    colc = xp.where(col > 0, col, 0.0)
    cols = [
        sup_i, sub_i, xp.where(covered, sup_i, 0.0), xp.where(covered, 0.0, sub_i),
        xp.where(unique, sub_i, 0.0), xp.log1p(colc),
        xp.where(dv < 0, dv, 0.0), dv, covered,
        col >= 0.5, norm0 > 0, norm0, norm1 > 0, norm1, colc, classes,
    ]
    per_anchor = xp.sum(xp.stack([xp.astype(c, ft) if c.dtype != ft else c for c in cols],
                                 axis=1), axis=0)
    rest = [contrastive, n_present, bad_labels, normq_ok, normq_sum, diag_sum, diag_n,
            zbar_sq_max]
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
        vec = device_vector(inp, mu_dev, t, C, loss, diagnostic, arrays)
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
    if (inp.arrays["mean_features"] is not None
            and not s["zbar_sq_max"] <= (1.0 + UNIT_SLACK) ** 2):
        check_unit_rows(inp.arrays["mean_features"], "mean_features")
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
        "sum_col": max(0.0, s["col_sum"]), "sum_classes": max(0.0, s["classes_sum"]),
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
