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
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._formulas import arora_bound, ns21_bound
from couponbound._validate import check_flag, check_positive_int, check_real, short_repr
from couponbound.training._arrays import (
    check_unit_rows,
    class_means_to_numpy,
    is_array,
    label_error,
    means_on,
    namespace,
    shape_of,
    to_numpy,
)
from couponbound.training._inputs import batch_inputs, select_keys
from couponbound.training._kernel import batch_sums, draw_terms
from couponbound.training._theory import LOSSES

__all__ = [
    "BatchTerms",
    "batch_terms",
    "batch_terms_from_losses",
    "check_loss",
    "check_temperature",
    "collision_diagnostic",
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
    ValueError: temperature must be a finite real number > 0, got 0
    """
    return check_real(value, name, positive=True)


# ----------------------------------------------------------------------------
# the per-batch sums
# ----------------------------------------------------------------------------

#: The fields and properties :meth:`BatchTerms.to_dict` can log.
_BATCH_KEYS = (
    "n", "num_classes", "n_present", "n_repeat", "sum_contrastive", "sum_sup", "sum_sub",
    "sum_arora", "sum_collision", "sum_d", "K", "n_covered", "sum_sup_covered",
    "sum_sub_uncovered", "shared_negatives", "sum_diagnostic", "n_diagnostic",
    "sum_col", "sum_classes",
    "contrastive", "ns21_bound", "arora_bound", "upsilon", "tau", "collision", "d",
    "collision_diagnostic", "classes", "false_negative",
)


@dataclass(frozen=True)
class BatchTerms:
    """Sums over the anchors of one batch: the increments of NS21's estimators.

    All ``sum_*`` fields are sums over the ``n`` anchors of the batch (divide
    by ``n`` for batch means, see :meth:`means`).  ``sum_sub`` and ``sum_arora``
    use the mean classifier restricted to the classes present in each
    anchor's draw (its own class and its negatives' classes).

    Attributes
    ----------
    n : int
        Anchors in the batch (``K + 1`` with in-batch negatives, ``2N`` for
        NT-Xent on ``N`` samples, the batch size with a queue).
    num_classes : int
        ``C``.
    n_present : int
        Distinct labels among the batch's samples (among the queue's keys when
        the negatives are a queue).
    n_repeat : int
        Anchors whose class occurs among their negatives (``Col >= 1``).
    sum_contrastive : float
        ``sum_i l_Info(i)`` (InfoNCE, or NT-Xent).
    sum_sup : float
        ``sum_i l^mu(i; all classes)``.
    sum_sub : float
        ``sum_i l^mu(i; classes present)`` (equal to ``sum_sup`` on covered anchors).
    sum_arora : float
        ``sum_{i : Col_i = 0} l^mu(i; classes present)`` (ARORA19's sub-class
        loss on collision-free anchors); ``nan`` when per-anchor losses were not
        available.
    sum_collision : float
        ``sum_i ln(1 + Col_i)``.
    sum_d : float
        ``sum_i min(0, z0_i . (mu_{y_i} - zbar_i)) / t`` (<= 0).
    K : int, optional
        Negatives per anchor; default ``n - 1`` (in-batch negatives).
    n_covered : int, optional
        Anchors whose draw (the anchor and its negatives) contains every class;
        default ``n`` when ``n_present == num_classes``, else 0.
    sum_sup_covered : float, optional
        ``sum_sup`` over the covered anchors (NS21's ``S_sup``); default from
        ``n_covered``.
    sum_sub_uncovered : float, optional
        ``sum_sub`` over the other anchors (NS21's ``S_sub``).
    loss : {"infonce", "nt_xent"}
        The contrastive loss measured.
    shared_negatives : int
        ``M`` when the anchors shared one set of ``M`` negatives (a queue), else 0.
    sum_diagnostic, n_diagnostic : float, int
        NS21's collision diagnostic summed over the samples ``j`` whose class
        occurs at least twice in the batch, and their number (0 when not
        measured); see :func:`collision_diagnostic`.
    sum_col : float
        ``sum_i Col_i``, the negatives that share their anchor's class (false
        negatives) over all anchors (``nan`` when not measured).
    sum_classes : float
        ``sum_i D_i``, where ``D_i`` is the number of distinct classes in
        anchor ``i``'s draw (its class and its negatives' classes: the
        batch's classes for in-batch negatives and NT-Xent, ``{y_i}`` and
        the keys' classes for a queue); ``nan`` when not measured.

    Examples
    --------
    >>> bt = BatchTerms(n=2, num_classes=2, n_present=2, n_repeat=0, sum_contrastive=1.0,
    ...                 sum_sup=1.2, sum_sub=1.2, sum_arora=1.2, sum_collision=0.0, sum_d=-0.4)
    >>> bt.covered, bt.n_unique, bt.K
    (True, 2, 1)
    >>> bt.means()["d"]
    -0.2
    >>> round(bt.ns21_bound, 12)  # NS21's bound on the batch's mean loss: (0.6 + 0) / 2 - 0.2
    0.1
    >>> bt.to_dict(keys=["contrastive", "upsilon"], prefix="step/")
    {'step/contrastive': 0.5, 'step/upsilon': 1.0}
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
    K: int = -1
    n_covered: int = -1
    sum_sup_covered: float = math.nan
    sum_sub_uncovered: float = math.nan
    loss: str = "infonce"
    shared_negatives: int = 0
    sum_diagnostic: float = 0.0
    n_diagnostic: int = 0
    sum_col: float = math.nan
    sum_classes: float = math.nan

    def __post_init__(self) -> None:
        if self.K < 0:
            object.__setattr__(self, "K", self.n - 1)
        if self.n_covered < 0:
            cov = self.n_present == self.num_classes
            object.__setattr__(self, "n_covered", self.n if cov else 0)
        all_cov = self.n_covered == self.n
        none_cov = self.n_covered == 0
        if math.isnan(self.sum_sup_covered):
            object.__setattr__(self, "sum_sup_covered",
                               self.sum_sup if all_cov else 0.0 if none_cov else math.nan)
        if math.isnan(self.sum_sub_uncovered):
            object.__setattr__(self, "sum_sub_uncovered",
                               0.0 if all_cov else self.sum_sub if none_cov else math.nan)

    @property
    def covered(self) -> bool:
        """``True`` when every anchor's draw contains all ``C`` classes."""
        return self.n_covered == self.n

    @property
    def n_unique(self) -> int:
        """Anchors with no negative of their own class (``Col = 0``)."""
        return self.n - self.n_repeat

    @property
    def ns21_bound(self) -> float:
        """NS21's bound on this batch's mean contrastive loss, ``(S_sup + S_sub + coll) / 2 + d``."""
        return float(ns21_bound(1.0, (self.sum_sup_covered + self.sum_sub_uncovered) / self.n,
                                0.0, self.sum_collision / self.n, self.sum_d / self.n))

    @property
    def arora_bound(self) -> float:
        """ARORA19's bound on this batch's mean contrastive loss (``nan`` without ``sum_arora``)."""
        return float(arora_bound(0.0, self.sum_arora / self.n, self.sum_collision / self.n,
                                 self.sum_d / self.n))

    @property
    def classes(self) -> float:
        """Mean number of distinct classes in an anchor's draw (``nan`` when not measured)."""
        return self.sum_classes / self.n

    @property
    def false_negative(self) -> float:
        """Fraction of the negatives that share their anchor's class, ``sum_i Col_i / (n K)``
        (0 without negatives, ``nan`` when not measured)."""
        return self.sum_col / (self.n * self.K) if self.K else 0.0 * self.sum_col

    @property
    def collision_diagnostic(self) -> float:
        """NS21's collision diagnostic of the batch (``nan`` when not measured)."""
        return self.sum_diagnostic / self.n_diagnostic if self.n_diagnostic else math.nan

    def means(self) -> dict[str, float]:
        """Per-anchor means of the sums, the batch's coverage and collision rates, its bounds."""
        n = float(self.n)
        return {
            "contrastive": self.sum_contrastive / n,
            "sup": self.sum_sup / n,
            "sub": self.sum_sub / n,
            "collision": self.sum_collision / n,
            "d": self.sum_d / n,
            "covered": self.n_covered / n,
            "tau": self.n_repeat / n,
            "classes": self.classes,
            "false_negative": self.false_negative,
            "ns21_bound": self.ns21_bound,
            "arora_bound": self.arora_bound,
        }

    def to_dict(self, keys: Iterable[str] | None = None, prefix: str = "") -> dict[str, float]:
        """The numbers as a flat ``{prefix + name: float}`` for any logger.

        Parameters
        ----------
        keys : iterable of str, optional
            Log only these: any field (except ``loss``) or ``contrastive``,
            ``ns21_bound``, ``arora_bound``, ``upsilon``, ``tau``,
            ``collision``, ``d``, ``collision_diagnostic``, ``classes``,
            ``false_negative`` (batch means).
            Default: every field but ``loss``, and the batch's bounds.
        prefix : str, default ""
            Prepended to every name.
        """
        if keys is None:
            names: tuple[str, ...] = tuple(f.name for f in fields(self) if f.name != "loss") + (
                "ns21_bound", "arora_bound")
        else:
            names = select_keys(keys, tuple(_BATCH_KEYS), "names")
        m = self.means()
        derived = {"upsilon": m["covered"], "contrastive": m["contrastive"],
                   "collision": m["collision"], "d": m["d"], "tau": m["tau"],
                   "classes": m["classes"], "false_negative": m["false_negative"]}
        out: dict[str, float] = {}
        for k in names:
            v = derived[k] if k in derived else getattr(self, k)
            out[prefix + k] = float(v)
        return out


def check_loss(value: Any) -> str:
    """The contrastive loss kind, ``"infonce"`` or ``"nt_xent"``, or raise naming ``loss``."""
    if not isinstance(value, str) or value not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {short_repr(value)}")
    return value


def batch_terms(anchor: Any, positive: Any, labels: Any, class_means: Any, *,
                temperature: float, mean_features: Any = None, negatives: Any = None,
                negative_labels: Any = None, loss: str = "infonce",
                diagnostic: bool = False) -> BatchTerms:
    """The sums of NS21's estimators (:ref:`math-measurement`) over one batch.

    Parameters
    ----------
    anchor, positive : array (n, d)
        Two views of the ``n`` samples (any array-API library; the features
        are L2-normalised here).  Anchor ``i`` is ``anchor[i]``, its positive
        ``positive[i]``; its negatives are the other rows of ``positive``
        (``K = n - 1``), or ``negatives``, or (``loss="nt_xent"``) both views
        of the other samples.
    labels : array (n,) of int
        Latent class of each sample, in ``[0, C)``.
    class_means : array (C, d)
        ``mu_c``, the mean over class ``c`` of the samples' mean features.
    temperature : float
        ``t > 0``.
    mean_features : array (n, d), optional
        ``zbar_i``, the mean over augmentations of sample ``i``'s normalised
        features.  Default: ``(u0_i + u1_i) / 2``, the mean of the two
        normalised views -- which includes the anchor's own view, so ``d``
        comes out more negative (by about ``(1 - s) / (2 t)`` for an
        anchor-positive cosine ``s``) than with separately augmented views.
    negatives : array (M, d), optional
        A set of ``M`` negatives shared by every anchor (a MoCo queue or memory
        bank): ``K = M``.  Needs ``negative_labels``.
    negative_labels : array (M,) of int, optional
        The latent classes of ``negatives``.
    loss : {"infonce", "nt_xent"}, default "infonce"
        ``"nt_xent"``: SimCLR's loss; both views are anchors (``2n`` anchors),
        anchor ``i``'s negatives are both views of the ``n - 1`` other
        samples (``K = 2n - 2``).
    diagnostic : bool, default False
        Also measure NS21's collision diagnostic (:func:`collision_diagnostic`).

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
    >>> q = batch_terms(z, z, [0, 1, 1], np.eye(3)[:2], temperature=1.0,
    ...                 negatives=np.eye(3)[[0, 0]], negative_labels=[0, 0])
    >>> q.K, q.n_covered, q.n_repeat  # a queue of two keys of class 0
    (2, 2, 1)
    """
    t = check_temperature(temperature)
    loss = check_loss(loss)
    if loss == "nt_xent" and negatives is not None:
        raise ValueError("loss='nt_xent' takes its negatives from the batch; "
                         "negatives= is for InfoNCE with a queue")
    mu_host = None if is_array(class_means) else class_means_to_numpy(class_means)
    mu_src = mu_host if mu_host is not None else class_means
    check_unit_rows(mu_src, "class_means")
    mu_shape = shape_of(mu_src)
    if len(mu_shape) != 2 or mu_shape[0] < 1:
        raise ValueError(f"class_means must be a (C, d) array, got shape {mu_shape}")
    C, dim = mu_shape
    inp = batch_inputs(anchor, positive, labels, mean_features, dim, negatives,
                        negative_labels)
    mu_dev = means_on(inp.xp, mu_src, inp.device, inp.dtype, C, dim)
    return BatchTerms(**batch_sums(inp, mu_dev, t, C, loss=loss, diagnostic=diagnostic))


def collision_diagnostic(z0: Any, z1: Any, labels: Any) -> float:
    """NS21's collision diagnostic (their ``notebooks/collision.ipynb``), measured on a batch.

    Features are L2-normalised; for each class ``c`` with ``n_c >= 2``
    samples and each sample ``j`` of ``c``,
    ``(1 / (n_c - 1)) sum_{i in c} |z0_i . z1_j - z0_j . z1_j|`` (the term
    ``i = j`` is 0): how far the similarities of ``j``'s positive to the
    anchors of its own class lie from its own anchor's.  The result is the
    mean over all such ``j`` (:ref:`math-collisions`).

    Parameters
    ----------
    z0, z1 : array (n, d)
        Two views of ``n`` samples (any array-API library).
    labels : array (n,) of int
        Their latent classes (non-negative integers).

    Returns
    -------
    float
        ``nan`` when no class occurs twice.

    Examples
    --------
    >>> import numpy as np
    >>> z0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    >>> z1 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> collision_diagnostic(z0, z1, [0, 0, 1])  # j = 0: |0 - 1|; j = 1: |1 - 0|
    1.0
    """
    host = to_numpy(labels) if is_array(labels) else np.asarray(labels)
    if host.dtype == object or host.dtype.kind not in "iu":
        raise TypeError(f"labels must be an array of integers, got {short_repr(labels)}")
    if host.ndim != 1:
        raise ValueError(f"labels must be 1-d (n,), got shape {host.shape}")
    if np.any(host < 0):
        raise ValueError(f"labels must be integers >= 0, got {short_repr(host.tolist())}")
    C = int(host.max()) + 1 if host.size else 1
    inp = batch_inputs(z0, z1, host.astype(np.int64), None, None)
    mu = inp.xp.zeros((C, inp.dim), dtype=inp.dtype, device=inp.device)
    bt = BatchTerms(**batch_sums(inp, mu, 1.0, C, diagnostic=True))
    return bt.collision_diagnostic


# ----------------------------------------------------------------------------
# from losses a trainer already computed
# ----------------------------------------------------------------------------

#: Largest batch (anchors, or negatives per anchor) the losses route accepts.
_MAX_COUNT = 2**40


def _loss_input(value: Any, name: str, n: int, *,
                sign: int = 1) -> tuple[float, NDArray[Any] | None]:
    """``(sum, per_anchor or None)`` from per-anchor losses (n,) or a batch mean (scalar)."""
    if value is None or isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{name} must be a number or an array of n = {n} numbers, "
                        f"got {short_repr(value)}")
    host = to_numpy(value) if is_array(value) else np.asarray(value)
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
    try:
        total = float(math.fsum(vals.tolist())) if vals is not None else mean * n
    except OverflowError:
        total = math.inf
    if not math.isfinite(total):
        raise ValueError(f"{name}: the batch's sum overflows float64 (values up to "
                         f"{float(np.max(np.abs(check))):.3g} over n = {n} anchors)")
    return total, vals


def _labels_host(labels: Any, name: str, C: int, ndim: tuple[int, ...] = (1,)) -> NDArray[np.int64]:
    if isinstance(labels, (bool, str, bytes)):
        raise TypeError(f"{name} must be an array of integers, got {short_repr(labels)}")
    host = to_numpy(labels) if is_array(labels) else np.asarray(labels)
    if host.ndim not in ndim:
        want = " or ".join(f"{k}-d" for k in ndim)
        raise ValueError(f"{name} must be {want}, got shape {host.shape}")
    if host.size == 0:
        raise ValueError(f"{name} is an empty batch (0 entries); a batch needs n >= 1")
    if host.dtype == object or host.dtype.kind not in "iu":
        raise TypeError(f"{name} must have an integer dtype, got {short_repr(labels)}")
    lab = host.astype(np.int64)
    if np.any((lab < 0) | (lab >= C)):
        err = label_error(lab.ravel(), C)
        raise ValueError(str(err).replace("labels", name, 1) if name != "labels" else str(err))
    return lab


def _counts_host(batch_counts: Any, C: int) -> NDArray[np.int64]:
    if isinstance(batch_counts, (bool, str, bytes)):
        raise TypeError(f"batch_counts must be an array of C integers, "
                        f"got {short_repr(batch_counts)}")
    host = to_numpy(batch_counts) if is_array(batch_counts) else np.asarray(batch_counts)
    if host.dtype == object or host.dtype.kind not in "iuf":
        raise TypeError(f"batch_counts must be integers, got {short_repr(batch_counts)}")
    if host.shape != (C,):
        raise ValueError(f"batch_counts must have shape (num_classes,) = ({C},), "
                         f"got {host.shape}")
    if host.dtype.kind == "f":
        fl = host.astype(np.float64)
        if not np.all(np.isfinite(fl)) or np.any(fl < 0) or np.any(fl != np.floor(fl)):
            raise ValueError(f"batch_counts must be integers >= 0, "
                             f"got {short_repr(batch_counts)}")
        if np.any(fl > _MAX_COUNT):
            raise ValueError(f"batch_counts must be integers in [0, 2**40], "
                             f"got {short_repr(batch_counts)}")
    elif np.any(host < 0):
        raise ValueError(f"batch_counts must be integers >= 0, got {short_repr(batch_counts)}")
    big = [int(v) for v in host.tolist()]
    if any(v > _MAX_COUNT for v in big) or sum(big) > _MAX_COUNT:
        raise ValueError(f"batch_counts must be integers in [0, 2**40] with a sum of at most "
                         f"2**40, got {short_repr(batch_counts)}")
    counts = np.array(big, dtype=np.int64)
    if counts.sum() == 0:
        raise ValueError("batch_counts sums to 0: an empty batch; a batch needs n >= 1")
    return counts


def _part(vals: NDArray[Any] | None, total: float, mask: NDArray[np.bool_],
          weights: NDArray[np.int64], name: str, what: str) -> float:
    """The sum of a loss over the anchors in *mask* (all or none needs no per-anchor values)."""
    if not np.any(mask[weights > 0]):
        return 0.0
    if np.all(mask[weights > 0]):
        return total
    if vals is None or vals.shape[0] != mask.shape[0]:
        raise ValueError(f"{name} must be per anchor (with labels=): only some anchors' "
                         f"draws {what}, and a batch mean cannot be split between them")
    return float(math.fsum(vals[mask].tolist()))


def batch_terms_from_losses(*, contrastive: Any, sup: Any, d: Any, num_classes: int,
                            sub: Any = None, labels: Any = None, batch_counts: Any = None,
                            negative_labels: Any = None, K: int | None = None,
                            loss: str = "infonce", in_batch: bool | None = None) -> BatchTerms:
    """The sums of :func:`batch_terms` from losses a trainer has already computed.

    Each loss is either per anchor (shape ``(n,)``) or the batch mean (a
    scalar).  Give ``labels`` (per anchor) or ``batch_counts`` (per class).
    Coverage, ``Col`` and ``K`` are those of the negatives the trainer's loss
    used, which the call must name, since losses alone cannot tell a
    4,096-key queue from the batch: ``negative_labels`` (a queue or each
    anchor's negatives), or ``in_batch=True`` (the other samples of the
    batch, ``K = n - 1``), or ``K`` (checked against the batch's own
    ``n - 1``).  With ``loss="nt_xent"`` the negatives are always both
    views of the other samples.

    Parameters
    ----------
    contrastive : array (n,) or float
        InfoNCE (or NT-Xent) losses ``l_Info(i)`` (>= 0).
    sup : array (n,) or float
        Mean-classifier losses over all ``C`` classes, ``l^mu(i; all)`` (>= 0).
    d : array (n,) or float
        ``min(0, z0_i . (mu_{y_i} - zbar_i)) / t`` (<= 0).
    num_classes : int
        ``C``.
    sub : array (n,) or float, optional
        Mean-classifier losses over the classes present in each anchor's
        draw, ``l^mu(i; present)``.  Required when some draw misses a class;
        on anchors whose draw covers every class it equals ``sup``, the default.
    labels : array (n,) of int, optional
        Latent classes of the anchors, in ``[0, C)`` (with ``loss="nt_xent"``:
        of the ``N`` samples, whose ``2N`` anchors are view 0 of every sample
        then view 1 of every sample).
    batch_counts : array (C,) of int, optional
        How many anchors (samples, for NT-Xent) of each class the batch holds
        (instead of ``labels``).
    negative_labels : array (M,) or (n, K) of int, optional
        The latent classes of the negatives: one set shared by every anchor
        (a queue of ``M`` keys: ``K = M``), or each anchor's own ``K``.
    K : int, optional
        Negatives per anchor, a check: without ``negative_labels`` it must be
        the batch's own ``n - 1`` (``2N - 2`` for NT-Xent), and it then says
        that the negatives were the batch.
    loss : {"infonce", "nt_xent"}, default "infonce"
        Which loss ``contrastive`` is.
    in_batch : bool, optional
        ``True``: the negatives were the batch's other samples (in-batch
        InfoNCE).  Needed (or ``K``) when ``negative_labels`` is not given.

    Returns
    -------
    BatchTerms
        ``sum_arora`` (ARORA19's collision-free sub-class loss) needs per-anchor
        ``labels`` and per-anchor ``sub`` (or ``sup`` on covered anchors);
        otherwise it is ``nan``.

    Raises
    ------
    ValueError
        Losses that are negative or non-finite (or whose sum overflows),
        ``d > 0``, shapes that disagree, labels outside ``[0, C)``, an empty
        batch, a missing ``sub`` where some draw misses a class, InfoNCE
        losses whose negatives are not named (no ``negative_labels``,
        ``in_batch`` or ``K``), or a ``K`` that the batch's own labels cannot
        describe without ``negative_labels``.

    Examples
    --------
    >>> bt = batch_terms_from_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=-0.5,
    ...                              labels=[0, 1], num_classes=2, in_batch=True)
    >>> bt.covered, bt.sum_contrastive, bt.sum_d, bt.sum_arora
    (True, 4.2, -1.0, 2.4)

    A queue of three keys, two of class 0 and one of class 1:

    >>> q = batch_terms_from_losses(contrastive=[5.0, 5.2], sup=[1.0, 1.4], d=-0.5,
    ...                             labels=[0, 1], negative_labels=[0, 0, 1], num_classes=2)
    >>> q.K, q.n_repeat, round(q.sum_collision, 4)  # ln 3 + ln 2
    (3, 2, 1.7918)
    >>> q.false_negative, q.classes  # 3 of the 6 (anchor, key) pairs share a class
    (0.5, 2.0)
    """
    C = check_positive_int(num_classes, "num_classes")
    loss = check_loss(loss)
    if in_batch is not None:
        in_batch = check_flag(in_batch, "in_batch")
    if (labels is None) == (batch_counts is None):
        raise TypeError("give exactly one of labels= (per anchor) and batch_counts= (per class)")
    if negative_labels is not None and in_batch:
        raise ValueError("in_batch=True says the negatives were the batch's other samples, "
                         "but negative_labels= names other negatives; give one of them")
    if in_batch is False and negative_labels is None and loss == "infonce":
        raise ValueError("in_batch=False needs negative_labels= (the negatives' classes)")
    if loss == "infonce" and negative_labels is None and not in_batch and K is None:
        raise ValueError(
            "which negatives did the InfoNCE losses use? Losses alone cannot tell a queue "
            "from the batch: pass negative_labels= (the labels of a queue, shape (M,), or of "
            "each anchor's negatives, shape (n, K)), or in_batch=True (the batch's other "
            "samples, K = n - 1), or K= (checked against the batch)")
    lab: NDArray[np.int64] | None = None
    if labels is not None:
        lab = _labels_host(labels, "labels", C)
        counts = np.bincount(lab, minlength=C).astype(np.int64)
    else:
        counts = _counts_host(batch_counts, C)
    n_samples = int(counts.sum())
    # Anchors as weighted groups: one per anchor (labels) or one per class (counts).
    if lab is not None:
        g_lab, w = lab, np.ones(lab.shape[0], dtype=np.int64)
    else:
        g_lab, w = np.arange(C), counts
    xp = namespace(counts)
    fcounts = counts.astype(np.float64)
    shared = 0
    if loss == "nt_xent":
        if negative_labels is not None:
            raise ValueError("loss='nt_xent' takes its negatives from the batch (both views "
                             "of the other samples); negative_labels= is for InfoNCE")
        n, k_true = 2 * n_samples, 2 * n_samples - 2
        if lab is not None:
            g_lab, w = np.concatenate([lab, lab]), np.ones(n, dtype=np.int64)
        else:
            w = 2 * counts
        col, cov, classes, _, n_pres = draw_terms(xp, g_lab, fcounts, C, loss="nt_xent")
    elif negative_labels is None:
        n, k_true = n_samples, n_samples - 1
        col, cov, classes, _, n_pres = draw_terms(xp, g_lab, fcounts, C)
    else:
        n = n_samples
        neg = _labels_host(negative_labels, "negative_labels", C, ndim=(1, 2))
        if neg.ndim == 1:
            k_true, shared = int(neg.shape[0]), int(neg.shape[0])
            q = np.bincount(neg, minlength=C).astype(np.float64)
            col, cov, classes, _, n_pres = draw_terms(xp, g_lab, fcounts, C, queue_counts=q)
        else:
            if lab is None:
                raise ValueError("negative_labels of shape (n, K) (each anchor's own "
                                 "negatives) needs labels= per anchor, not batch_counts=")
            if neg.shape[0] != n:
                raise ValueError(f"negative_labels must have shape ({n}, K) to match labels, "
                                 f"got {neg.shape}")
            k_true = int(neg.shape[1])
            rows = np.repeat(np.arange(n), k_true)
            per = np.bincount(rows * C + neg.ravel(), minlength=n * C).reshape(n, C)
            col, cov, classes, _, n_pres = draw_terms(
                xp, g_lab, fcounts, C, per_anchor_counts=per.astype(np.float64))
    n_present = int(n_pres)
    if K is not None:
        k_given = check_positive_int(K, "K", minimum=0)
        if k_given != k_true:
            if negative_labels is None:
                own = "2N - 2" if loss == "nt_xent" else "batch size - 1"
                raise ValueError(
                    f"K = {k_given} negatives per anchor, but the batch's own labels describe "
                    f"K = {own} = {k_true}: the negatives are not the batch's other samples, "
                    "so pass negative_labels= (the labels of the queue, shape (M,), or of "
                    "each anchor's negatives, shape (n, K)) instead of letting the batch "
                    "stand in for them")
            raise ValueError(f"K = {k_given} contradicts negative_labels, which give "
                             f"K = {k_true} negatives per anchor")
    if k_true > _MAX_COUNT:
        raise ValueError(f"K = {k_true} negatives per anchor is too large (at most 2**40)")
    s_con, _ = _loss_input(contrastive, "contrastive", n)
    s_sup, v_sup = _loss_input(sup, "sup", n)
    s_d, _ = _loss_input(d, "d", n, sign=-1)
    n_covered = int(np.sum(w[cov]))
    if sub is None:
        if n_covered < n:
            what = (f"the batch misses class {int(np.flatnonzero(counts == 0)[0])}"
                    if negative_labels is None else "some anchor's draw misses a class")
            raise ValueError(
                f"sub (losses over the classes present) is required: {what} of "
                f"num_classes = {C}"
            )
        s_sub, v_sub = s_sup, v_sup
    else:
        s_sub, v_sub = _loss_input(sub, "sub", n)
    per_anchor = lab is not None
    s_sup_cov = _part(v_sup if per_anchor else None, s_sup, cov, w, "sup",
                      "cover every class")
    s_sub_unc = _part(v_sub if per_anchor else None, s_sub, ~cov, w, "sub",
                      "miss a class")
    col = np.maximum(col, 0.0)  # classes absent from the batch (weight 0)
    s_coll = float(math.fsum((w * np.log1p(col)).tolist()))
    n_repeat = int(np.sum(w[col >= 1]))
    s_col = float(np.dot(w, col))
    s_classes = float(np.dot(w, classes))
    if per_anchor and v_sub is not None:
        s_arora = float(math.fsum(v_sub[col == 0].tolist()))
    else:
        s_arora = math.nan
    return BatchTerms(
        n=n, num_classes=C, n_present=n_present, n_repeat=n_repeat,
        sum_contrastive=s_con, sum_sup=s_sup, sum_sub=s_sub, sum_arora=s_arora,
        sum_collision=s_coll, sum_d=s_d, K=k_true, n_covered=n_covered,
        sum_sup_covered=s_sup_cov, sum_sub_uncovered=s_sub_unc, loss=loss,
        shared_negatives=shared, sum_col=s_col, sum_classes=s_classes,
    )
