"""BoundMonitor: NS21's bound measured on a running trainer (:ref:`math-measurement`).

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
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._formulas import arora_bound, ns21_bound
from couponbound._prior import Prior, as_prior
from couponbound._validate import check_positive_int, short_repr
from couponbound.bounds import BoundTerms
from couponbound.training._arrays import (
    AllReduce,
    _fingerprint,
    _is_array,
    _mu_on,
    _shape,
    _to_numpy,
    class_means_to_numpy,
)
from couponbound.training._inputs import _batch_inputs
from couponbound.training._kernel import batch_sums
from couponbound.training._theory import theory_values
from couponbound.training.batch import BatchTerms, batch_terms_from_losses, check_temperature
from couponbound.training.class_means import estimate_class_means
from couponbound.training.report import BoundReport

__all__ = ["STATE_SPEC", "BoundMonitor"]

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
    "arora_sub": "unique",
    "sup_all": "anchors",
    "ns21_bound": "anchors",
    "arora_bound": "anchors",
    "margin": "anchors",
}

#: Plain anchor-weighted sums of the theoretical values at each batch's size.
_THEORY = ("theory_upsilon", "theory_tau", "theory_collision")

#: The monitor's state: ``(name, type)``; every entry is reduced by addition.
STATE_SPEC: tuple[tuple[str, type], ...] = (
    ("n_batches", int),
    ("n_batches_no_arora", int),
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
    """What one batch adds to every state (:ref:`math-measurement`)."""
    n, cov = bt.n, bt.covered
    m = {"anchors": n, "covered": n if cov else 0, "uncovered": 0 if cov else n,
         "unique": bt.n_unique}
    arora_ok = not math.isnan(bt.sum_arora)
    arora = bt.sum_arora if arora_ok else 0.0
    sup = bt.sum_sup if cov else 0.0
    sub = 0.0 if cov else bt.sum_sub
    # The bounds on sums over anchors: S_sup + S_sub in the place of upsilon L_sup, with
    # upsilon = 1 and L_sub = 0; S_arora in the place of (1 - tau) L_sub with tau = 0.
    ns21 = ns21_bound(1.0, sup + sub, 0.0, bt.sum_collision, bt.sum_d)
    s = {
        "contrastive": bt.sum_contrastive,
        "upsilon": float(m["covered"]),
        "sup": sup,
        "sub": sub,
        "collision": bt.sum_collision,
        "d": bt.sum_d,
        "tau": float(bt.n_repeat),
        "arora_sub": arora,
        "sup_all": bt.sum_sup,
        "ns21_bound": ns21,
        "arora_bound": arora_bound(0.0, arora, bt.sum_collision, bt.sum_d),
        "margin": bt.sum_contrastive - ns21,
    }
    inc: dict[str, int | float] = {"n_batches": 1, "n_batches_no_arora": 0 if arora_ok else 1}
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
# the monitor
# ----------------------------------------------------------------------------

class BoundMonitor:
    """Accumulate NS21's bound terms over the batches of a contrastive trainer.

    Parameters
    ----------
    num_classes : int or Prior
        ``C``, the number of latent classes (labels lie in ``[0, C)``), or a
        :class:`~couponbound.Prior` over them for the theoretical values.
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
    replacement : bool, optional
        ``False``: the theoretical values are those of batches drawn without
        replacement from a finite data set whose class sizes are ``counts``
        (what one shuffled pass of a data loader does; multivariate
        hypergeometric, see :func:`couponbound.coverage_prob`).  Requires
        ``counts``.  Default: the prior's own scheme (independent draws for
        ``num_classes``, ``probs`` and ``counts``).

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
    ['C', 'K', 'arora_bound']
    """

    def __init__(self, num_classes: int | Prior, temperature: float, class_means: Any = None, *,
                 probs: Any = None, counts: Any = None, replacement: bool | None = None) -> None:
        if not isinstance(num_classes, Prior):
            num_classes = check_positive_int(num_classes, "num_classes")
        self._prior: Prior = as_prior(num_classes, probs=probs, counts=counts,
                                      replacement=replacement)
        self._C = self._prior.C
        self._t = check_temperature(temperature)
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
                                  "replacement": self._prior.replacement}
        if not self._prior.replacement:
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
        """``(upsilon_{K+1}, tau_K, E ln(1+Col))`` for a batch of ``n = K + 1`` (cached)."""
        hit = self._theory_cache.get(n)
        if hit is None:
            hit = theory_values(n - 1, self._prior)
            if len(self._theory_cache) >= _THEORY_CACHE_MAX:
                self._theory_cache.clear()
            self._theory_cache[n] = hit
        return hit

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
        """Add one batch of embeddings; every term of :ref:`math-measurement` is computed here.

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
        bt = BatchTerms(**batch_sums(inp, mu_dev, self._t, self._C))
        self._add(bt)
        return bt

    def update_losses(self, *, contrastive: Any, sup: Any, d: Any, sub: Any = None,
                      labels: Any = None, batch_counts: Any = None) -> BatchTerms:
        """Add one batch from losses the trainer already computed.

        Each loss is per anchor (shape ``(n,)``) or the batch mean (scalar);
        see :func:`~couponbound.training.batch_terms_from_losses`.  Per-anchor
        losses with per-anchor ``labels`` give the same report as
        :meth:`update` on the embeddings; with ``batch_counts`` or batch means
        ARORA19's terms (``arora_sub``, ``arora_bound``) become ``nan``.

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
        batch_counts : array (C,) of int, optional
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
                                     labels=labels, batch_counts=batch_counts,
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

        arora_ok = st["n_batches_no_arora"] == 0
        sum_n, sum_n2 = int(st["n_anchors"]), int(st["n_anchors_sq"])
        K = sum_n // B - 1 if B * sum_n2 == sum_n * sum_n else None
        terms = BoundTerms(
            contrastive=ratio("contrastive"), sup=ratio("sup"), sub=ratio("sub"),
            collision=ratio("collision"), d=min(0.0, ratio("d")), upsilon=ratio("upsilon"),
            tau=ratio("tau"), arora_sub=ratio("arora_sub") if arora_ok else math.nan,
            K=K, C=self._C,
        )
        se = {q: stderr(q) for q in _RATIOS}
        if not arora_ok:
            se["arora_sub"] = se["arora_bound"] = math.nan
        return BoundReport.from_terms(
            terms, prior=self._prior, sup_all=ratio("sup_all"),
            theory_upsilon=float(st["sum_theory_upsilon"]) / N,
            theory_tau=float(st["sum_theory_tau"]) / N,
            theory_collision=float(st["sum_theory_collision"]) / N,
            temperature=self._t, n_anchors=N, n_batches=B, standard_errors=se,
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
    if st["n_unique"] > st["n_anchors"] or st["n_batches_no_arora"] > st["n_batches"]:
        raise ValueError(f"{what}: inconsistent counts")
    if st["n_anchors"] < st["n_batches"] or (st["n_batches"] == 0) != (st["n_anchors"] == 0):
        raise ValueError(f"{what}: n_anchors and n_batches disagree")
