"""BoundMonitor: NS21's bound measured on a running trainer (MATH.md section 6).

The monitor is a streaming, mergeable statistic in the manner of
``torchmetrics.Metric``: :meth:`BoundMonitor.update` once per batch,
:meth:`BoundMonitor.compute` for a :class:`BoundReport`, and :meth:`reset`,
:meth:`merge`, :meth:`state_dict` / :meth:`load_state_dict` and :meth:`sync`
for checkpoints and data-parallel training.

Its state is a fixed, declared set of named sums and counts (``STATE_SPEC``),
each reduced by addition, so merging, syncing, saving and loading are one loop
over that declaration and memory stays ``O(C d)`` (the class means) plus a few
dozen numbers, whatever the length of the run.  Standard errors over batches
come from per-batch sums of squares and cross products kept as further states
(ratio estimators, delta method).

References
----------
NS21: K. Nozawa, I. Sato. Understanding Negative Samples in Instance
Discriminative Self-supervised Representation Learning. NeurIPS 2021
(arXiv:2102.06866).  ARORA19: S. Arora et al. A Theoretical Analysis of
Contrastive Unsupervised Representation Learning. ICML 2019.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound import bounds as _bounds
from couponbound._prior import Prior, as_prior
from couponbound._validate import check_positive_int, short_repr
from couponbound.bounds import BoundTerms
from couponbound.training.batch import (
    AllReduce,
    BatchTerms,
    _batch_inputs,
    _compute_batch,
    _fingerprint,
    _is_array,
    _mu_on,
    _shape,
    _to_numpy,
    batch_terms_from_losses,
    check_temperature,
    class_means_to_numpy,
    estimate_class_means,
)

__all__ = ["STATE_SPEC", "BoundMonitor", "BoundReport"]

# ----------------------------------------------------------------------------
# the declared state
# ----------------------------------------------------------------------------

#: Denominators of the ratio estimators: anchors, anchors in covered batches,
#: anchors in batches that miss a class, anchors whose label is unique.
_DENOMS = ("anchors", "covered", "uncovered", "unique")

#: Ratio estimators (name -> denominator); each keeps its sum over batches, the
#: sum of squares of its per-batch sums and their products with the denominator.
_RATIOS: dict[str, str] = {
    "contrastive": "anchors",
    "upsilon": "anchors",
    "sup": "covered",
    "sub": "uncovered",
    "collision": "anchors",
    "d": "anchors",
    "tau": "anchors",
    "curl_sub": "unique",
    "sup_all": "anchors",
    "ns21_bound": "anchors",
    "curl_bound": "anchors",
    "margin": "anchors",
}

#: Plain anchor-weighted sums of the theoretical values at each batch's size.
_THEORY = ("theory_upsilon", "theory_tau", "theory_collision")

#: The monitor's state: ``(name, type)``; every entry is reduced by addition.
STATE_SPEC: tuple[tuple[str, type], ...] = (
    ("n_batches", int),
    ("n_batches_no_curl", int),
    *((f"n_{den}{suffix}", int) for den in _DENOMS for suffix in ("", "_sq")),
    *((f"{kind}_{q}", float) for q in _RATIOS for kind in ("sum", "sumsq", "sumx")),
    *((f"sum_{name}", float) for name in _THEORY),
)
_STATE_NAMES = tuple(name for name, _ in STATE_SPEC)
_INT_STATES = frozenset(name for name, kind in STATE_SPEC if kind is int)

_FORMAT = "couponbound.BoundMonitor"
_VERSION = 1
_THEORY_CACHE_MAX = 256


def _increments(bt: BatchTerms, theory: tuple[float, float, float]) -> dict[str, int | float]:
    """What one batch adds to every state (MATH.md section 6)."""
    n, cov = bt.n, bt.covered
    m = {"anchors": n, "covered": n if cov else 0, "uncovered": 0 if cov else n,
         "unique": bt.n_unique}
    curl_ok = not math.isnan(bt.sum_curl)
    curl = bt.sum_curl if curl_ok else 0.0
    sup = bt.sum_sup if cov else 0.0
    sub = 0.0 if cov else bt.sum_sub
    ns21 = 0.5 * (sup + sub + bt.sum_collision) + bt.sum_d
    s = {
        "contrastive": bt.sum_contrastive,
        "upsilon": float(m["covered"]),
        "sup": sup,
        "sub": sub,
        "collision": bt.sum_collision,
        "d": bt.sum_d,
        "tau": float(bt.n_repeat),
        "curl_sub": curl,
        "sup_all": bt.sum_sup,
        "ns21_bound": ns21,
        "curl_bound": curl + bt.sum_collision + bt.sum_d,
        "margin": bt.sum_contrastive - ns21,
    }
    inc: dict[str, int | float] = {"n_batches": 1, "n_batches_no_curl": 0 if curl_ok else 1}
    for den, v in m.items():
        inc[f"n_{den}"] = v
        inc[f"n_{den}_sq"] = v * v
    for q, den in _RATIOS.items():
        x = s[q]
        inc[f"sum_{q}"] = x
        inc[f"sumsq_{q}"] = x * x
        inc[f"sumx_{q}"] = x * m[den]
    for name, value in zip(_THEORY, theory, strict=True):
        inc[f"sum_{name}"] = n * value
    return inc


# ----------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------

def _fmt(x: float | int | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3e}"
    return f"{x:.4f}"


@dataclass(frozen=True, repr=False)
class BoundReport:
    """Everything the monitor measured, with NS21's and ARORA19's bounds.

    The first ten fields carry the names of :class:`couponbound.bounds.BoundTerms`
    (see :attr:`terms`).  Losses are per-anchor means; ``*_se`` are standard
    errors over batches (delta method for ratio estimators; ``nan`` with fewer
    than two batches or an empty denominator).

    Attributes
    ----------
    contrastive : float
        ``L_Info``, the InfoNCE loss.
    upsilon : float
        ``upsilon-hat``: fraction of anchors in a batch that contains all C classes.
    sup : float
        ``L^mu_sup`` over covered batches (``S_sup / upsilon``; 0.0 when ``upsilon == 0``).
    sub : float
        ``L^mu_sub`` over the other batches (``S_sub / (1 - upsilon)``; 0.0 when
        ``upsilon == 1``).
    collision : float
        ``E ln(1 + Col)`` measured: ``(1/N) sum_batches sum_y n_y ln n_y``.
    d : float
        NS21's ``d(f) <= 0``.
    tau : float
        ``tau-hat``: fraction of anchors whose label repeats in their batch.
    curl_sub : float
        ARORA19's sub-class loss over anchors with a unique label
        (``S_curl / (1 - tau)``; 0.0 when ``tau == 1``; ``nan`` if some batch
        came without per-anchor losses).
    K : int or None
        Negatives per anchor (batch size - 1) when every batch had the same
        size, else ``None``.
    C : int
        Number of classes.
    ns21_bound : float
        NS21's lower bound on ``L_Info``, ``(S_sup + S_sub + coll) / 2 + d``.
    curl_bound : float
        ARORA19's lower bound, ``S_curl + coll + d``.
    ns21_sup_upper, curl_sup_upper : float
        The bounds solved for ``L^mu_sup`` (``inf`` when vacuous).
    holds : bool
        ``ns21_bound <= contrastive``.
    curl_holds : bool
        ``curl_bound <= contrastive`` (``False`` when ``curl_bound`` is ``nan``).
    margin : float
        ``contrastive - ns21_bound``.
    sup_all : float
        The mean-classifier loss over all C classes on every anchor.
    theory_upsilon, theory_tau, theory_collision : float
        ``upsilon_{K+1}``, ``tau_K`` and ``E ln(1 + Col)`` under the class prior
        for the batch size (anchor-weighted over batch sizes if they varied):
        what ``upsilon``, ``tau`` and ``collision`` estimate.
    temperature : float
        ``t``.
    n_anchors, n_batches : int
        Anchors and batches seen.

    Examples
    --------
    Two batches of three anchors, ``C = 2``: the first covers both classes,
    the second misses class 1.

    >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
    >>> _ = mon.update_losses(contrastive=[2.0, 2.2, 2.4], sup=[1.0, 1.2, 0.8],
    ...                       d=[-0.3, -0.1, 0.0], labels=[0, 1, 1])
    >>> _ = mon.update_losses(contrastive=[2.1, 2.3, 1.9], sup=[0.9, 1.1, 1.0],
    ...                       sub=[0.5, 0.4, 0.6], d=-0.2, labels=[0, 0, 0])
    >>> report = mon.compute()
    >>> print(report)
    BoundReport: C=2, K+1=3, t=0.5, 2 batches, 6 anchors
    term                           measured        s.e.      theory
    L_Info (contrastive)             2.1500      0.0500           -
    upsilon (coverage)               0.5000      0.5000      0.7500
    L^mu_sup (covered)               1.0000      0.0000           -
    L^mu_sub (not covered)           0.5000      0.0000           -
    E ln(1+Col)                      0.7804      0.3183      0.6212
    d                               -0.1667      0.0333           -
    tau (collision prob.)            0.8333      0.1667      0.7500
    L^mu_sub (CURL, distinct)        1.0000      0.0000           -
    L^mu_sup (all anchors)           1.0000      0.0000           -
    NS21 bound on L_Info             0.5985   7.952e-04           -
    CURL bound on L_Info             0.7804      0.1183           -
    L_Info - NS21 bound              1.5515      0.0508           -
    NS21 bound on L^mu_sup           7.2060           -           -
    CURL bound on L^mu_sup          18.4357           -           -
    NS21 bound holds (bound <= L_Info): yes
    >>> report.terms.upsilon, report.holds, report.to_dict()["holds"]
    (0.5, True, 1.0)
    """

    contrastive: float
    upsilon: float
    sup: float
    sub: float
    collision: float
    d: float
    tau: float
    curl_sub: float
    K: int | None
    C: int
    ns21_bound: float
    curl_bound: float
    ns21_sup_upper: float
    curl_sup_upper: float
    holds: bool
    curl_holds: bool
    margin: float
    sup_all: float
    theory_upsilon: float
    theory_tau: float
    theory_collision: float
    temperature: float
    n_anchors: int
    n_batches: int
    contrastive_se: float
    upsilon_se: float
    sup_se: float
    sub_se: float
    collision_se: float
    d_se: float
    tau_se: float
    curl_sub_se: float
    sup_all_se: float
    ns21_bound_se: float
    curl_bound_se: float
    margin_se: float

    @property
    def terms(self) -> BoundTerms:
        """The measured terms as a :class:`couponbound.bounds.BoundTerms`."""
        return BoundTerms(
            contrastive=self.contrastive, sup=self.sup, sub=self.sub,
            collision=self.collision, d=self.d, upsilon=self.upsilon, tau=self.tau,
            curl_sub=self.curl_sub, K=self.K, C=self.C,
        )

    def to_dict(self, prefix: str = "") -> dict[str, float]:
        """Every field as a flat ``{prefix + name: float}`` for any logger.

        Booleans become 1.0 / 0.0 and ``K = None`` becomes ``nan``.
        """
        out: dict[str, float] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[prefix + f.name] = math.nan if v is None else float(v)
        return out

    def __repr__(self) -> str:
        keys = ("contrastive", "ns21_bound", "holds", "upsilon", "sup", "sub", "collision",
                "d", "tau", "curl_bound", "K", "C", "n_anchors", "n_batches")
        body = ", ".join(f"{k}={_fmt(getattr(self, k))}" for k in keys)
        return f"BoundReport({body})"

    def __str__(self) -> str:
        size = "varies" if self.K is None else str(self.K + 1)
        head = (f"BoundReport: C={self.C}, K+1={size}, t={self.temperature:g}, "
                f"{self.n_batches} batches, {self.n_anchors} anchors")
        rows = [
            ("L_Info (contrastive)", self.contrastive, self.contrastive_se, None),
            ("upsilon (coverage)", self.upsilon, self.upsilon_se, self.theory_upsilon),
            ("L^mu_sup (covered)", self.sup, self.sup_se, None),
            ("L^mu_sub (not covered)", self.sub, self.sub_se, None),
            ("E ln(1+Col)", self.collision, self.collision_se, self.theory_collision),
            ("d", self.d, self.d_se, None),
            ("tau (collision prob.)", self.tau, self.tau_se, self.theory_tau),
            ("L^mu_sub (CURL, distinct)", self.curl_sub, self.curl_sub_se, None),
            ("L^mu_sup (all anchors)", self.sup_all, self.sup_all_se, None),
            ("NS21 bound on L_Info", self.ns21_bound, self.ns21_bound_se, None),
            ("CURL bound on L_Info", self.curl_bound, self.curl_bound_se, None),
            ("L_Info - NS21 bound", self.margin, self.margin_se, None),
            ("NS21 bound on L^mu_sup", self.ns21_sup_upper, None, None),
            ("CURL bound on L^mu_sup", self.curl_sup_upper, None, None),
        ]
        lines = [head, f"{'term':<27}{'measured':>12}{'s.e.':>12}{'theory':>12}"]
        for name, value, se, th in rows:
            lines.append(f"{name:<27}{_fmt(value):>12}{_fmt(se):>12}{_fmt(th):>12}")
        lines.append(f"NS21 bound holds (bound <= L_Info): {_fmt(self.holds)}")
        return "\n".join(lines)


# ----------------------------------------------------------------------------
# the monitor
# ----------------------------------------------------------------------------

class BoundMonitor:
    """Accumulate NS21's bound terms over the batches of a contrastive trainer.

    Parameters
    ----------
    num_classes : int
        ``C``, the number of latent classes; labels lie in ``[0, C)``.
    temperature : float
        ``t > 0`` of the InfoNCE and mean-classifier losses.
    class_means : array (C, d), optional
        ``mu_c``: mean over class ``c`` of the mean features ``zbar`` (NS21
        estimates them on a training split).  Any array library; kept as a
        float64 numpy array and moved to each batch's device once.  May also
        be set later (attribute, :meth:`fit_class_means`) or passed per batch.
    probs, counts : array (C,), optional
        The class prior for the theoretical ``upsilon``, ``tau`` and
        ``E ln(1 + Col)`` (default uniform).
    replacement : bool, default True
        ``False``: the theoretical values are those of batches drawn without
        replacement from a finite data set whose class sizes are ``counts``
        (what one shuffled pass of a data loader does; multivariate
        hypergeometric, see :func:`couponbound.coverage_prob`).  Requires
        ``counts``.

    Notes
    -----
    Batches enter through :meth:`update` (embeddings; every term computed
    here, on the arrays' device, in their dtype, at least float32) or
    :meth:`update_losses` (losses the trainer computed).  A batch that fails
    validation raises ``ValueError``/``TypeError`` and changes nothing.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> mu = rng.normal(size=(3, 8))
    >>> mon = BoundMonitor(num_classes=3, temperature=0.5, class_means=mu)
    >>> for _ in range(4):
    ...     y = rng.integers(0, 3, size=16)
    ...     z0 = mu[y] + 0.3 * rng.normal(size=(16, 8))
    ...     z1 = mu[y] + 0.3 * rng.normal(size=(16, 8))
    ...     _ = mon.update(anchor=z0, positive=z1, labels=y)
    >>> report = mon.compute()
    >>> report.n_batches, report.n_anchors, report.K, report.C
    (4, 64, 15, 3)
    >>> report.holds
    True
    >>> sorted(report.to_dict())[:3]
    ['C', 'K', 'collision']
    """

    def __init__(self, num_classes: int, temperature: float, class_means: Any = None, *,
                 probs: Any = None, counts: Any = None, replacement: bool = True) -> None:
        self._C = check_positive_int(num_classes, "num_classes")
        self._t = check_temperature(temperature)
        self._prior: Prior = as_prior(self._C, probs=probs, counts=counts)
        if not isinstance(replacement, bool | np.bool_):
            raise TypeError(f"replacement must be True or False, got {replacement!r}")
        if not replacement and self._prior.counts is None:
            raise ValueError("replacement=False needs the data set's class sizes: pass counts=")
        self._replacement = bool(replacement)
        self._mu: NDArray[np.float64] | None = None
        self._mu_cache: dict[tuple[int, str, str], Any] = {}
        self._theory_cache: dict[int, tuple[float, float, float]] = {}
        self._state: dict[str, int | float] = {}
        self.reset()
        if class_means is not None:
            self.class_means = class_means

    # -- configuration ------------------------------------------------------

    @property
    def num_classes(self) -> int:
        """``C``."""
        return self._C

    @property
    def temperature(self) -> float:
        """``t``."""
        return self._t

    @property
    def prior(self) -> Prior:
        """The class prior used for the theoretical values."""
        return self._prior

    @property
    def class_means(self) -> NDArray[np.float64] | None:
        """The class means ``mu`` as a ``(C, d)`` float64 array (a copy), or ``None``."""
        return None if self._mu is None else self._mu.copy()

    @class_means.setter
    def class_means(self, value: Any) -> None:
        mu = None if value is None else class_means_to_numpy(value, self._C)
        if self._state["n_batches"] and not _same_means(mu, self._mu):
            raise ValueError(
                "cannot change class_means after update(): the accumulated sums were measured "
                "with the old means; call reset() first"
            )
        self._mu = mu
        self._mu_cache.clear()

    def _config(self) -> dict[str, Any]:
        probs = None if self._prior.is_uniform else [float(p) for p in self._prior.probs]
        config: dict[str, Any] = {"num_classes": self._C, "temperature": self._t, "probs": probs,
                                  "replacement": self._replacement}
        if not self._replacement:
            assert self._prior.counts is not None
            config["counts"] = list(self._prior.counts)
        return config

    def _config_hash(self) -> float:
        """A number in [1, 2) that identifies the configuration and class means."""
        text = json.dumps(self._config(), sort_keys=True) + _fingerprint(self._mu)
        return 1.0 + int(hashlib.sha256(text.encode()).hexdigest()[:13], 16) / 16.0**13

    @property
    def n_batches(self) -> int:
        """Batches accumulated so far."""
        return int(self._state["n_batches"])

    @property
    def n_anchors(self) -> int:
        """Anchors accumulated so far."""
        return int(self._state["n_anchors"])

    def __repr__(self) -> str:
        mu = "None" if self._mu is None else f"<{self._mu.shape[0]}x{self._mu.shape[1]}>"
        prior = "uniform" if self._prior.is_uniform else "custom"
        return (f"BoundMonitor(num_classes={self._C}, temperature={self._t:g}, "
                f"class_means={mu}, prior={prior}, n_batches={self.n_batches}, "
                f"n_anchors={self.n_anchors})")

    # -- feeding ------------------------------------------------------------

    def _theory(self, n: int) -> tuple[float, float, float]:
        """``(upsilon_{K+1}, tau_K, E ln(1+Col))`` for a batch of ``n = K + 1``."""
        hit = self._theory_cache.get(n)
        if hit is not None:
            return hit
        from couponbound.collision import collision_prob, expected_log_collision
        from couponbound.coverage import coverage_prob

        prior = self._prior
        kw: dict[str, Any]
        if not self._replacement:
            assert prior.counts is not None
            kw = {"counts": list(prior.counts), "replacement": False}
        elif prior.is_uniform:
            kw = {"C": self._C}
        elif prior.counts is not None:
            kw = {"counts": list(prior.counts)}
        else:
            kw = {"probs": prior.probs}
        K = n - 1
        value = (float(coverage_prob(K, **kw)), float(collision_prob(K, **kw)),
                 float(expected_log_collision(K, **kw)))
        if len(self._theory_cache) >= _THEORY_CACHE_MAX:
            self._theory_cache.clear()
        self._theory_cache[n] = value
        return value

    def _add(self, bt: BatchTerms) -> None:
        inc = _increments(bt, self._theory(bt.n))
        for name, value in inc.items():
            self._state[name] += value

    def _device_means(self, inp: Any) -> Any:
        assert self._mu is not None
        key = (id(inp.xp), str(inp.device), str(inp.dtype))
        mu = self._mu_cache.get(key)
        if mu is None:
            mu = _mu_on(inp.xp, self._mu, inp.device, inp.dtype, self._C, self._mu.shape[1])
            if len(self._mu_cache) >= 8:
                self._mu_cache.clear()
            self._mu_cache[key] = mu
        return mu

    def update(self, anchor: Any, positive: Any, labels: Any, mean_features: Any = None, *,
               class_means: Any = None) -> BatchTerms:
        """Add one batch of embeddings; every term of MATH.md section 6 is computed here.

        Parameters
        ----------
        anchor, positive : array (n, d)
            View 0 and view 1 of the ``n = K + 1`` samples (numpy, torch, JAX,
            CuPy ...; normalised here).  Anchor ``i``'s positive is
            ``positive[i]``, its negatives the other rows of ``positive``.
        labels : array (n,) of int
            Latent classes in ``[0, C)`` (any library; moved to the anchors' device).
        mean_features : array (n, d), optional
            ``zbar_i``: mean over augmentations of sample ``i``'s normalised
            features.  Default: the mean of the two normalised views.
        class_means : array (C, d), optional
            Class means for this batch only, instead of the monitor's.

        Returns
        -------
        BatchTerms
            This batch's sums (handy for per-step logging).

        Raises
        ------
        ValueError
            Mismatched shapes, labels outside ``[0, C)``, non-finite or
            zero-norm features, an empty batch, no class means; the monitor is
            then unchanged.
        TypeError
            Arrays of different libraries or non-integer labels.
        """
        if class_means is None:
            if self._mu is None:
                raise ValueError(
                    "class_means are needed: pass class_means= to BoundMonitor or update(), "
                    "or call fit_class_means() first"
                )
            dim = int(self._mu.shape[1])
        else:
            shape = _shape(class_means) if _is_array(class_means) else np.shape(class_means)
            if len(shape) != 2 or shape[0] != self._C:
                raise ValueError(
                    f"class_means must have shape ({self._C}, d), got {tuple(shape)}"
                )
            dim = int(shape[1])
        inp = _batch_inputs(anchor, positive, labels, mean_features, dim)
        if class_means is None:
            mu_dev = self._device_means(inp)
        else:
            mu_dev = _mu_on(inp.xp, class_means, inp.device, inp.dtype, self._C, dim)
        bt = _compute_batch(inp, mu_dev, self._t, self._C)
        self._add(bt)
        return bt

    def update_losses(self, *, contrastive: Any, sup: Any, d: Any, sub: Any = None,
                      labels: Any = None, class_counts: Any = None) -> BatchTerms:
        """Add one batch from losses the trainer already computed.

        Each loss is per anchor (shape ``(n,)``) or the batch mean (scalar);
        see :func:`couponbound.training.batch.batch_terms_from_losses`.  Per-anchor
        losses with per-anchor ``labels`` give the same report as
        :meth:`update` on the embeddings; with ``class_counts`` or batch means
        the CURL terms (``curl_sub``, ``curl_bound``) become ``nan``.

        Parameters
        ----------
        contrastive : array (n,) or float
            InfoNCE losses.
        sup : array (n,) or float
            Mean-classifier losses over all ``C`` classes.
        d : array (n,) or float
            ``min(0, z0 . (mu_y - zbar)) / t`` (<= 0).
        sub : array (n,) or float, optional
            Mean-classifier losses over the classes present (required when the
            batch misses a class).
        labels : array (n,) of int, optional
            Per-anchor labels ...
        class_counts : array (C,) of int, optional
            ... or per-class counts.

        Returns
        -------
        BatchTerms

        Examples
        --------
        >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
        >>> _ = mon.update_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=[-0.5, -0.5],
        ...                       labels=[0, 1])
        >>> r = mon.compute()
        >>> r.contrastive, r.upsilon, r.sup, r.ns21_bound
        (2.1, 1.0, 1.2, 0.1)
        """
        bt = batch_terms_from_losses(contrastive=contrastive, sup=sup, d=d, sub=sub,
                                     labels=labels, class_counts=class_counts,
                                     num_classes=self._C)
        self._add(bt)
        return bt

    def fit_class_means(self, mean_features: Any, labels: Any = None, *,
                        all_reduce: AllReduce | None = None) -> NDArray[np.float64]:
        """Estimate and set the class means from a first pass (NS21: the training split).

        Parameters
        ----------
        mean_features : array (n, d), or iterable of (array (n, d), array (n,))
            The mean features ``zbar`` of the samples, or (when ``labels`` is
            ``None``) an iterable of ``(zbar, labels)`` batches.
        labels : array (n,) of int, optional
            Labels of ``mean_features``.
        all_reduce : callable, optional
            Sum the per-class statistics over data-parallel processes first.

        Returns
        -------
        ndarray (C, d)
            The class means, now the monitor's.

        Raises
        ------
        ValueError
            When batches were already accumulated (call :meth:`reset`), or some
            class has no sample.

        Examples
        --------
        >>> import numpy as np
        >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
        >>> mon.fit_class_means(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.5]]), [0, 1, 1])
        array([[1.  , 0.  ],
               [0.  , 0.75]])
        """
        if self._state["n_batches"]:
            raise ValueError(
                "fit_class_means() after update(): the accumulated sums used other class "
                "means; call reset() first"
            )
        batches: Iterable[tuple[Any, Any]]
        batches = mean_features if labels is None else [(mean_features, labels)]
        mu = estimate_class_means(batches, self._C, all_reduce=all_reduce)
        self.class_means = mu
        return mu

    # -- reporting ----------------------------------------------------------

    def compute(self, all_reduce: AllReduce | None = None) -> BoundReport:
        """The report over every batch so far.

        Parameters
        ----------
        all_reduce : callable, optional
            If given, report over all data-parallel processes (a synced copy;
            this monitor keeps its local state, so calling it every N steps
            never double-counts).

        Raises
        ------
        ValueError
            If no batch was accumulated.
        """
        if all_reduce is not None:
            other = self.copy()
            other.sync(all_reduce)
            return other.compute()
        st = self._state
        B = int(st["n_batches"])
        if B == 0:
            raise ValueError("no batch yet: call update() or update_losses() before compute()")
        N = int(st["n_anchors"])

        def ratio(q: str) -> float:
            den = int(st[f"n_{_RATIOS[q]}"])
            return float(st[f"sum_{q}"]) / den if den > 0 else 0.0

        def stderr(q: str) -> float:
            den = _RATIOS[q]
            M = float(st[f"n_{den}"])
            if B < 2 or M == 0:
                return math.nan
            R = float(st[f"sum_{q}"]) / M
            v = float(st[f"sumsq_{q}"]) - 2.0 * R * float(st[f"sumx_{q}"]) \
                + R * R * float(st[f"n_{den}_sq"])
            return math.sqrt(max(v, 0.0) * B / (B - 1)) / M

        curl_ok = st["n_batches_no_curl"] == 0
        sum_n, sum_n2 = int(st["n_anchors"]), int(st["n_anchors_sq"])
        K = sum_n // B - 1 if B * sum_n2 == sum_n * sum_n else None
        terms = BoundTerms(
            contrastive=ratio("contrastive"), sup=ratio("sup"), sub=ratio("sub"),
            collision=ratio("collision"), d=min(0.0, ratio("d")), upsilon=ratio("upsilon"),
            tau=ratio("tau"), curl_sub=ratio("curl_sub") if curl_ok else math.nan,
            K=K, C=self._C,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=_bounds.VacuousBoundWarning)
            ns21 = _bounds.ns21_lower_bound(terms)
            ns21_up = _bounds.ns21_sup_upper_bound(terms)
            curl_up = _bounds.arora_sup_upper_bound(terms)
            curl = _bounds.arora_lower_bound(terms) if curl_ok else math.nan
        se = {q: stderr(q) for q in _RATIOS}
        if not curl_ok:
            se["curl_sub"] = se["curl_bound"] = math.nan
        return BoundReport(
            contrastive=terms.contrastive, upsilon=terms.upsilon, sup=terms.sup,
            sub=terms.sub, collision=terms.collision, d=terms.d, tau=terms.tau,
            curl_sub=terms.curl_sub, K=K, C=self._C,
            ns21_bound=ns21, curl_bound=curl, ns21_sup_upper=ns21_up, curl_sup_upper=curl_up,
            holds=bool(ns21 <= terms.contrastive), curl_holds=bool(curl <= terms.contrastive),
            margin=terms.contrastive - ns21, sup_all=ratio("sup_all"),
            theory_upsilon=float(st["sum_theory_upsilon"]) / N,
            theory_tau=float(st["sum_theory_tau"]) / N,
            theory_collision=float(st["sum_theory_collision"]) / N,
            temperature=self._t, n_anchors=N, n_batches=B,
            **{f"{q}_se": se[q] for q in _RATIOS},
        )

    # -- state --------------------------------------------------------------

    def reset(self) -> None:
        """Forget every batch (configuration and class means stay)."""
        self._state = {name: (0 if kind is int else 0.0) for name, kind in STATE_SPEC}

    def copy(self) -> BoundMonitor:
        """An independent monitor with the same configuration, class means and state."""
        new = copy.copy(self)
        new._state = dict(self._state)
        new._mu = None if self._mu is None else self._mu.copy()
        new._mu_cache = {}
        new._theory_cache = dict(self._theory_cache)
        return new

    def _check_compatible(self, config: Any, mu: NDArray[np.float64] | None, what: str) -> None:
        mine = self._config()
        if not isinstance(config, dict):
            raise ValueError(f"{what} has no configuration dict, got {short_repr(config)}")
        for key in sorted(set(mine) | set(config)):
            value = mine.get(key)
            if config.get(key) != value:
                raise ValueError(
                    f"{what} comes from another configuration: {key} = "
                    f"{short_repr(config.get(key))} there, {short_repr(value)} here"
                )
        if mu is not None and self._mu is not None and not _same_means(mu, self._mu):
            raise ValueError(f"{what} was measured with other class_means than this monitor's")

    def merge(self, other: BoundMonitor) -> None:
        """Add another monitor's batches to this one (same configuration and class means).

        Examples
        --------
        >>> a = BoundMonitor(2, 0.5)
        >>> b = BoundMonitor(2, 0.5)
        >>> _ = a.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1])
        >>> _ = b.update_losses(contrastive=3.0, sup=1.0, d=-0.5, labels=[1, 0])
        >>> a.merge(b)
        >>> a.compute().contrastive, a.n_batches
        (2.5, 2)
        """
        if not isinstance(other, BoundMonitor):
            raise TypeError(f"can only merge a BoundMonitor, got {type(other).__name__}")
        self._check_compatible(other._config(), other._mu, "the other monitor")
        if self._mu is None and other._mu is not None:
            self._mu = other._mu.copy()
            self._mu_cache.clear()
        for name in _STATE_NAMES:
            self._state[name] += other._state[name]

    def state_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot: configuration, class means and every state.

        Examples
        --------
        >>> import json
        >>> mon = BoundMonitor(2, 0.5)
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1])
        >>> other = BoundMonitor(2, 0.5)
        >>> other.load_state_dict(json.loads(json.dumps(mon.state_dict())))
        >>> other.compute() == mon.compute()
        True
        """
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "config": self._config(),
            "class_means": None if self._mu is None else self._mu.tolist(),
            "state": dict(self._state),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`, e.g. after a crash (same configuration).

        Raises
        ------
        ValueError
            For a state from another configuration (``num_classes``,
            ``temperature``, prior or class means), missing or unknown
            entries, or impossible values; the monitor is then unchanged.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {short_repr(state)}")
        if state.get("format") != _FORMAT or state.get("version") != _VERSION:
            raise ValueError(
                f"state is not a {_FORMAT} state_dict of version {_VERSION}: format = "
                f"{short_repr(state.get('format'))}, version = {short_repr(state.get('version'))}"
            )
        raw_mu = state.get("class_means")
        mu = None if raw_mu is None else class_means_to_numpy(raw_mu, self._C)
        self._check_compatible(state.get("config"), mu, "state")
        values = state.get("state")
        if not isinstance(values, dict):
            raise ValueError(f"state['state'] must be a dict, got {short_repr(values)}")
        missing = [k for k in _STATE_NAMES if k not in values]
        unknown = [k for k in values if k not in _STATE_NAMES]
        if missing or unknown:
            raise ValueError(f"state['state'] does not match this monitor: missing {missing}, "
                             f"unknown {unknown}")
        new: dict[str, int | float] = {}
        for name, kind in STATE_SPEC:
            v = values[name]
            if kind is int:
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise ValueError(f"state['state'][{name!r}] must be an integer >= 0, "
                                     f"got {short_repr(v)}")
                new[name] = int(v)
            else:
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise ValueError(f"state['state'][{name!r}] must be a finite number, "
                                     f"got {short_repr(v)}")
                new[name] = float(v)
        _check_consistent(new, "state")
        if mu is not None and self._mu is None:
            self._mu = mu
            self._mu_cache.clear()
        self._state = new

    def sync(self, all_reduce: AllReduce) -> None:
        """Replace the local state by its sum over all data-parallel processes.

        Parameters
        ----------
        all_reduce : callable
            Takes a 1-d float64 numpy array and returns (any array library) its
            elementwise sum over the processes; e.g.
            :func:`couponbound.training.distributed.all_reduce_sum`.  Every
            process must call :meth:`sync` at the same point.

        Raises
        ------
        ValueError
            If the processes' monitors differ in configuration or class means,
            or ``all_reduce`` returns something that is not a sum of states;
            the monitor is then unchanged.

        Notes
        -----
        After :meth:`sync` every process holds the global totals; further
        updates followed by another :meth:`sync` would count the other
        processes' earlier batches again.  For periodic reports use
        ``compute(all_reduce=...)``, which syncs a copy.

        Examples
        --------
        Two processes that saw the same batches, simulated by doubling:

        >>> mon = BoundMonitor(2, 0.5)
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1])
        >>> mon.sync(lambda v: 2 * v)
        >>> mon.n_batches, mon.n_anchors
        (2, 4)
        """
        h = self._config_hash()
        local = np.array([float(self._state[k]) for k in _STATE_NAMES] + [1.0, h, h * h])
        try:
            out = np.asarray(_to_numpy(all_reduce(local.copy())), dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"all_reduce did not return a numeric vector: {exc}") from exc
        if out.shape != local.shape or not np.all(np.isfinite(out)):
            raise ValueError(f"all_reduce returned shape {out.shape} (or non-finite values); "
                             f"expected a finite vector of shape {local.shape}")
        world, s1, s2 = out[-3], out[-2], out[-1]
        if world < 1 or world != round(world):
            raise ValueError(f"all_reduce returned a process count of {world}, not an integer >= 1")
        if abs(world * s2 - s1 * s1) > 1e-9 * s1 * s1:
            raise ValueError(
                "sync: the processes' monitors differ in configuration (num_classes, "
                "temperature, prior) or class_means"
            )
        new: dict[str, int | float] = {}
        for i, (name, kind) in enumerate(STATE_SPEC):
            v = float(out[i])
            if kind is int:
                if v != round(v) or v < self._state[name]:
                    raise ValueError(f"all_reduce returned {v} for the count {name!r}, "
                                     "which is not a sum of the processes' counts")
                new[name] = int(round(v))
            else:
                new[name] = v
        _check_consistent(new, "all_reduce result")
        self._state = new


def _same_means(a: NDArray[np.float64] | None, b: NDArray[np.float64] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _check_consistent(st: dict[str, int | float], what: str) -> None:
    """Counts that must agree with each other (covered + uncovered = anchors, ...)."""
    if st["n_covered"] + st["n_uncovered"] != st["n_anchors"]:
        raise ValueError(f"{what}: n_covered + n_uncovered != n_anchors")
    if st["n_unique"] > st["n_anchors"] or st["n_batches_no_curl"] > st["n_batches"]:
        raise ValueError(f"{what}: inconsistent counts")
    if st["n_anchors"] < st["n_batches"] or (st["n_batches"] == 0) != (st["n_anchors"] == 0):
        raise ValueError(f"{what}: n_anchors and n_batches disagree")
