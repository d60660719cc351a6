"""BoundMonitor: NS21's bound measured on a running trainer (:ref:`math-measurement`).

The monitor is a streaming, mergeable statistic in the manner of
``torchmetrics.Metric``: :meth:`BoundMonitor.update` once per batch,
:meth:`BoundMonitor.compute` for a :class:`BoundReport`, and :meth:`reset`,
:meth:`merge`, :meth:`state_dict` / :meth:`load_state_dict` and :meth:`sync`
for checkpoints and data-parallel training.

Its state is a fixed, declared set of named sums and counts (``STATE_SPEC``),
each reduced by addition, kept twice: cumulative totals and the current window
(:meth:`BoundMonitor.compute_window`).  Merging, syncing, saving and loading
are one loop over that declaration and memory stays ``O(C d)`` (the class
means) plus a few hundred numbers, whatever the length of the run.  Standard errors over batches
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
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from couponbound._formulas import arora_bound, ns21_bound
from couponbound._prior import Prior, as_prior
from couponbound._validate import check_flag, check_positive_int, check_probability, short_repr
from couponbound.bounds import BoundTerms
from couponbound.training._arrays import (
    AllReduce,
    check_unit_rows,
    class_means_to_numpy,
    fingerprint,
    is_array,
    means_on,
    to_numpy,
)
from couponbound.training._inputs import batch_inputs, feature_label_pairs
from couponbound.training._kernel import batch_sums, class_sums
from couponbound.training._theory import null_variances, occupancy_values, theory_values
from couponbound.training.batch import (
    BatchTerms,
    batch_terms_from_losses,
    check_loss,
    check_temperature,
)
from couponbound.training.class_means import estimate_class_means
from couponbound.training.report import BoundReport

__all__ = ["STATE_SPEC", "BoundMonitor", "NonRandomBatchWarning"]

# ----------------------------------------------------------------------------
# the declared state
# ----------------------------------------------------------------------------

#: Denominators of the ratio estimators: anchors, anchors whose draw covers
#: every class, anchors whose draw misses one, anchors with no collision.
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
    "classes": "anchors",
    "false_negative": "anchors",
}

#: Plain anchor-weighted sums of the theoretical values at each batch's ``K``.
_THEORY = ("theory_upsilon", "theory_tau", "theory_collision", "theory_classes",
           "theory_false_negative")

#: The rates tested against their theory for non-random batches.
_TESTED = ("upsilon", "tau", "collision")

#: The monitor's state: ``(name, type)``; every entry is reduced by addition.
STATE_SPEC: tuple[tuple[str, type], ...] = (
    ("n_batches", int),
    ("n_batches_no_arora", int),
    ("n_batches_no_occupancy", int),
    *((f"n_{den}{suffix}", int) for den in _DENOMS for suffix in ("", "_sq")),
    ("sum_K", int),
    ("sum_K_sq", int),
    *((f"{kind}_{q}", float) for q in _RATIOS for kind in ("sum", "sumsq", "sumx")),
    *((f"sum_{name}", float) for name in _THEORY),
    *((f"null_var_{q}", float) for q in _TESTED),
    ("sum_diagnostic", float),
    ("n_diagnostic", int),
)
_STATE_NAMES = tuple(name for name, _ in STATE_SPEC)
_INT_STATES = frozenset(name for name, kind in STATE_SPEC if kind is int)
#: Float states that are sums of non-negative (or non-positive) terms.
_NONNEG = frozenset({"sum_contrastive", "sum_sup", "sum_sub", "sum_collision", "sum_tau",
                     "sum_classes", "sum_false_negative",
                     "sum_upsilon", "sum_arora_sub", "sum_sup_all", "sum_diagnostic",
                     *(f"sum_{name}" for name in _THEORY),
                     *(f"sumsq_{q}" for q in _RATIOS), *(f"null_var_{q}" for q in _TESTED)})
_NONPOS = frozenset({"sum_d"})
#: Integers above this are refused (they could not pass through a float64 all-reduce).
_INT_MAX = 2**53

_FORMAT = "couponbound.BoundMonitor"
#: The top-level entries of a state_dict().
_TOP_KEYS = ("format", "version", "config", "class_means", "state", "window")
_VERSION = 3
#: Older versions that load_state_dict still reads (without what they did not measure).
_OLD_VERSIONS = (2,)
_CACHE_MAX = 256

#: Two-sided critical value of the test for non-random batches: 4 standard
#: errors, a false-alarm rate of about 6e-5 per rate (2e-4 for the three).
_Z_CRIT = 4.0
#: The test needs this many batches: below it a single rare batch (say one
#: that misses a class when coverage is 0.995) moves a rate by many standard
#: errors and the normal approximation does not hold.
_MIN_BATCHES = 20


class NonRandomBatchWarning(UserWarning):
    """The batches do not look like random draws from the class prior.

    Raised (as a warning) by :meth:`BoundMonitor.compute` and
    :meth:`BoundMonitor.compute_window` when the measured coverage
    ``upsilon``, collision rate ``tau`` or collision term ``E ln(1 + Col)``
    lies more than four standard errors from its theoretical value, the
    standard error being that of the batches seen under the hypothesis that
    they (and their negatives) are random draws from the prior; it is made
    only once at least 20 batches are behind the report.  A
    class-sorted or class-balanced loader, or a prior that is not the data's,
    triggers it; NS21's bound is still a valid inequality for each batch, but
    its theory columns do not describe the batches.  Silence it with
    ``BoundMonitor(..., warn_nonrandom=False)`` or the ``warnings`` filters.
    """


def _increments(bt: BatchTerms, theory: tuple[float, ...],
                null: tuple[float, float, float]) -> dict[str, int | float]:
    """What one batch adds to every state (:ref:`math-measurement`)."""
    n, cov = bt.n, bt.n_covered
    m = {"anchors": n, "covered": cov, "uncovered": n - cov, "unique": bt.n_unique}
    arora_ok = not math.isnan(bt.sum_arora)
    arora = bt.sum_arora if arora_ok else 0.0
    occ_ok = not (math.isnan(bt.sum_classes) or math.isnan(bt.sum_col))
    sup, sub = bt.sum_sup_covered, bt.sum_sub_uncovered
    # The bounds on sums over anchors: S_sup + S_sub in the place of upsilon L_sup, with
    # upsilon = 1 and L_sub = 0; S_arora in the place of (1 - tau) L_sub with tau = 0.
    ns21 = ns21_bound(1.0, sup + sub, 0.0, bt.sum_collision, bt.sum_d)
    s = {
        "contrastive": bt.sum_contrastive,
        "upsilon": float(cov),
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
        # per batch: sum_i D_i and sum_i Col_i / K (the false-negative fraction times n)
        "classes": bt.sum_classes if occ_ok else 0.0,
        "false_negative": (bt.sum_col / bt.K if bt.K else 0.0) if occ_ok else 0.0,
    }
    inc: dict[str, int | float] = {"n_batches": 1, "n_batches_no_arora": 0 if arora_ok else 1,
                                   "n_batches_no_occupancy": 0 if occ_ok else 1,
                                   "sum_K": bt.K, "sum_K_sq": bt.K * bt.K}
    for den, v in m.items():
        inc[f"n_{den}"] = v
        inc[f"n_{den}_sq"] = v * v
    with np.errstate(over="ignore"):
        for q, den in _RATIOS.items():
            x = s[q]
            inc[f"sum_{q}"] = x
            inc[f"sumsq_{q}"] = x * x
            inc[f"sumx_{q}"] = x * m[den]
    for name, value in zip(_THEORY, theory, strict=True):
        inc[f"sum_{name}"] = n * value
    for q, var in zip(_TESTED, null, strict=True):
        inc[f"null_var_{q}"] = n * n * var
    inc["sum_diagnostic"] = bt.sum_diagnostic
    inc["n_diagnostic"] = bt.n_diagnostic
    return inc


def _scheme(bt: BatchTerms) -> str:
    """How the batch's negatives relate to its anchors (see ``_theory.SCHEMES``)."""
    if bt.loss == "nt_xent":
        return "nt_xent"
    if bt.shared_negatives:
        return "queue"
    return "batch" if bt.K == bt.n - 1 else "independent"


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
        ``t > 0`` of the contrastive and mean-classifier losses.
    class_means : array (C, d), optional
        ``mu_c``: mean over class ``c`` of the mean features ``zbar`` (NS21
        estimates them on a training split).  Any array library; kept as a
        float64 numpy array and moved to each batch's device once.  May also
        be set later (attribute, :meth:`fit_class_means`, or ``update(...,
        class_means=)``), at the start of a window only (see Notes).  Class
        means are means of mean features of norm <= 1, so rows of norm > 1
        are refused, by every route (the constructor, the attribute,
        ``update``, :meth:`fit_class_means`, :meth:`load_state_dict`), as
        are given ``mean_features`` rows of norm > 1.
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
    loss : {"infonce", "nt_xent"}, default "infonce"
        The contrastive loss measured.  ``"infonce"``: anchor ``i`` is view 0
        of sample ``i``, its positive view 1, its negatives view 1 of the
        other samples (``K = n - 1``) or a queue (``update(...,
        negatives=)``).  ``"nt_xent"`` (SimCLR): both views are anchors
        (``2N`` per batch of ``N`` samples), anchor ``i``'s negatives are
        both views of every other sample (``K = 2N - 2``).
    class_means_ema : float, optional
        ``beta`` in ``(0, 1)``: after each :meth:`update`, move the class means
        of the classes in the batch towards the batch's class means of
        ``zbar``, ``mu_c <- beta mu_c + (1 - beta) mean_{i in c} zbar_i``
        (needs initial means).  Default: the means stay as set.
    collision_diagnostic : bool, default False
        Also measure NS21's collision diagnostic
        (:func:`~couponbound.training.batch.collision_diagnostic`) on every
        :meth:`update`; reported as ``BoundReport.collision_diagnostic``.
    warn_nonrandom : bool, default True
        Warn (:class:`NonRandomBatchWarning`) from :meth:`compute` and
        :meth:`compute_window` when the measured coverage, collision rate or
        collision term is far from its theory by a test over the batches seen.

    Notes
    -----
    Batches enter through :meth:`update` (embeddings; every term computed
    here, on the arrays' device, in their dtype, at least float32) or
    :meth:`update_losses` (losses the trainer computed).  A batch that fails
    validation, or whose sums would overflow the running totals, raises
    ``ValueError``/``TypeError`` and changes nothing.

    The monitor keeps two sets of totals: the cumulative ones (:meth:`compute`)
    and those of the current *window*, the batches since the previous
    :meth:`compute_window` (which reports them and starts a new window).
    Class means may change only when the current window is empty (after
    construction, :meth:`reset` or :meth:`compute_window`), by any route:
    a window's sums are all measured with the same means.  With
    ``class_means_ema`` they change after every batch by design.

    **NT-Xent.**  NS21's steps (Jensen's inequality for the log-sum-exp over
    the negatives, class means in place of the negatives' expected features,
    grouping by class) hold for any joint law of the negatives, so the bound
    keeps its form with ``K = 2N - 2`` dependent negatives; what changes is
    which labels count (:ref:`math-measurement`): the draw is the ``N``
    samples' classes (theory ``upsilon`` with ``N - 1`` draws besides the
    anchor), ``Col_i = 2 #{j != i : y_j = y_i}`` (both views of each
    same-class sample), so the theory of the collision term is
    ``E ln(1 + 2 Bin(N - 1, rho_y))`` over ``y ~ rho`` and
    ``tau = sum_y rho_y (1 - (1 - rho_y)^(N - 1))``.

    **Queues.**  With ``update(..., negatives=q, negative_labels=l)`` every
    anchor's negatives are the ``M`` keys: ``K = M``, the draw is
    ``{y_i} + {l_m}``, ``Col_i = #{m : l_m = y_i}``, the theory that of ``M``
    independent draws.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(3, 8))
    >>> mu = 0.8 * centres / np.linalg.norm(centres, axis=1, keepdims=True)  # norm <= 1
    >>> mon = BoundMonitor(num_classes=3, temperature=0.5, class_means=mu)
    >>> for _ in range(4):
    ...     y = rng.integers(0, 3, size=16)
    ...     z0 = centres[y] + 0.3 * rng.normal(size=(16, 8))
    ...     z1 = centres[y] + 0.3 * rng.normal(size=(16, 8))
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
                 probs: Any = None, counts: Any = None, replacement: bool | None = None,
                 loss: str = "infonce", class_means_ema: float | None = None,
                 collision_diagnostic: bool = False, warn_nonrandom: bool = True) -> None:
        if not isinstance(num_classes, Prior):
            num_classes = check_positive_int(num_classes, "num_classes")
        self._prior: Prior = as_prior(num_classes, probs=probs, counts=counts,
                                      replacement=replacement)
        self._C = self._prior.C
        self._t = check_temperature(temperature)
        self._loss = check_loss(loss)
        self._ema: float | None = None
        if class_means_ema is not None:
            self._ema = check_probability(class_means_ema, "class_means_ema")
        self._diagnostic = check_flag(collision_diagnostic, "collision_diagnostic")
        self.warn_nonrandom = check_flag(warn_nonrandom, "warn_nonrandom")
        self._mu: NDArray[np.float64] | None = None
        self._mu_cache: dict[tuple[int, str, str], Any] = {}
        self._theory_cache: dict[tuple[str, int], tuple[float, ...]] = {}
        self._null_cache: dict[tuple[str, int, int], tuple[float, float, float]] = {}
        self._state: dict[str, int | float] = {}
        self._window: dict[str, int | float] = {}
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
    def loss(self) -> str:
        """The contrastive loss measured, ``"infonce"`` or ``"nt_xent"``."""
        return self._loss

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
        mu = None if value is None else _host_means(value, self._C)
        self._set_means(mu)

    def _set_means(self, mu: NDArray[np.float64] | None) -> None:
        self._check_means_change(mu)
        self._mu = mu
        self._mu_cache.clear()

    def _check_means_change(self, mu: NDArray[np.float64] | None) -> None:
        if self._window["n_batches"] and not _same_means(mu, self._mu):
            raise ValueError(
                f"cannot change class_means in the middle of a window "
                f"({self._window['n_batches']} batch(es) since the last compute_window()): "
                "they were measured with the old means; call compute_window() (which "
                "starts a new window) or reset() first"
            )

    def _config(self) -> dict[str, Any]:
        probs = None if self._prior.is_uniform else [float(p) for p in self._prior.probs]
        config: dict[str, Any] = {"num_classes": self._C, "temperature": self._t, "probs": probs,
                                  "replacement": self._prior.replacement, "loss": self._loss,
                                  "class_means_ema": self._ema}
        if not self._prior.replacement:
            assert self._prior.counts is not None
            config["counts"] = list(self._prior.counts)
        return config

    def _config_hash(self) -> float:
        """A number in [1, 2) that identifies the configuration and class means."""
        mu = None if self._ema is not None else self._mu
        text = json.dumps(self._config(), sort_keys=True) + fingerprint(mu)
        return 1.0 + int(hashlib.sha256(text.encode()).hexdigest()[:13], 16) / 16.0**13

    @property
    def n_batches(self) -> int:
        """Batches accumulated so far."""
        return int(self._state["n_batches"])

    @property
    def n_anchors(self) -> int:
        """Anchors accumulated so far."""
        return int(self._state["n_anchors"])

    @property
    def window_batches(self) -> int:
        """Batches since the last :meth:`compute_window` (or :meth:`reset`)."""
        return int(self._window["n_batches"])

    def __repr__(self) -> str:
        mu = "None" if self._mu is None else f"<{self._mu.shape[0]}x{self._mu.shape[1]}>"
        prior = "uniform" if self._prior.is_uniform else "custom"
        return (f"BoundMonitor(num_classes={self._C}, temperature={self._t:g}, "
                f"loss={self._loss!r}, class_means={mu}, prior={prior}, "
                f"n_batches={self.n_batches}, n_anchors={self.n_anchors})")

    # -- feeding ------------------------------------------------------------

    def _theory(self, bt: BatchTerms) -> tuple[float, ...]:
        """``(upsilon, tau, E ln(1 + Col), E[D], tau_1)`` in theory for the batch's scheme
        (cached)."""
        key = (bt.loss, bt.K)
        hit = self._theory_cache.get(key)
        if hit is None:
            hit = (theory_values(bt.K, self._prior, bt.loss)
                   + occupancy_values(bt.K, self._prior, bt.loss))
            if len(self._theory_cache) >= _CACHE_MAX:
                self._theory_cache.clear()
            self._theory_cache[key] = hit
        return hit

    def _null(self, bt: BatchTerms) -> tuple[float, float, float]:
        """Variances of the batch's measured rates if it were a random draw (cached)."""
        if not self.warn_nonrandom:
            return (0.0, 0.0, 0.0)
        scheme = _scheme(bt)
        key = (scheme, bt.n, bt.K)
        hit = self._null_cache.get(key)
        if hit is None:
            vu, vt, vc = null_variances(scheme, bt.n, bt.K, self._prior)
            # A queue shared by consecutive batches is refreshed only every M / n
            # batches, so their rates are correlated over about that many batches.
            inflate = max(1.0, bt.K / bt.n) if scheme == "queue" else 1.0
            hit = (vu * inflate, vt * inflate, vc * inflate)
            if len(self._null_cache) >= _CACHE_MAX:
                self._null_cache.clear()
            self._null_cache[key] = hit
        return hit

    def _add(self, bt: BatchTerms) -> None:
        """Add a batch's increments to both totals, or refuse it (state unchanged)."""
        if bt.loss != self._loss:
            raise ValueError(f"the batch measured loss = {bt.loss!r}, this monitor "
                             f"loss = {self._loss!r}")
        inc = _increments(bt, self._theory(bt), self._null(bt))
        new_state, new_window = dict(self._state), dict(self._window)
        for name, value in inc.items():
            new_state[name] += value
            new_window[name] += value
        for name in _STATE_NAMES:
            v = new_state[name]
            if name in _INT_STATES:
                if v > _INT_MAX:
                    raise ValueError(f"the running count {name!r} would exceed 2**53; "
                                     "call reset() or compute_window() and start afresh")
            elif not math.isfinite(v):
                raise ValueError(
                    f"this batch would make the running sum {name!r} overflow float64 "
                    f"(its increment is {inc.get(name, 0.0)!r}): losses this large are not "
                    "measurable; the monitor is unchanged")
        self._state, self._window = new_state, new_window

    def _device_means(self, inp: Any) -> Any:
        assert self._mu is not None
        key = (id(inp.xp), str(inp.device), str(inp.dtype))
        mu = self._mu_cache.get(key)
        if mu is None:
            mu = means_on(inp.xp, self._mu, inp.device, inp.dtype, self._C, self._mu.shape[1])
            if len(self._mu_cache) >= 8:
                self._mu_cache.clear()
            self._mu_cache[key] = mu
        return mu

    def update(self, anchor: Any, positive: Any, labels: Any, mean_features: Any = None, *,
               negatives: Any = None, negative_labels: Any = None,
               class_means: Any = None) -> BatchTerms:
        """Add one batch of embeddings; every term of :ref:`math-measurement` is computed here.

        Parameters
        ----------
        anchor, positive : array (n, d)
            View 0 and view 1 of the ``n`` samples (numpy, torch, JAX, CuPy
            ...; normalised here).  Feed the features the loss is computed on
            (the projector's output for SimCLR/MoCo).  Anchor ``i``'s positive
            is ``positive[i]``; its negatives the other rows of ``positive``
            (``loss="infonce"``), the rows of ``negatives``, or both views of
            the other samples (``loss="nt_xent"``).  Batches must be random
            subsets of the data for the theory columns to apply.
        labels : array (n,) of int
            Latent classes in ``[0, C)`` (any library; moved to the anchors' device).
        mean_features : array (n, d), optional
            ``zbar_i``: mean over augmentations of sample ``i``'s normalised
            features.  Default: ``(u0_i + u1_i) / 2``, the mean of the two
            normalised views.  That includes the anchor's own view, so ``d``
            comes out more negative than with NS21's separately augmented
            views, by about ``(1 - s) / (2 t)`` for an anchor-positive cosine
            ``s``.
        negatives : array (M, d), optional
            Negatives shared by every anchor, e.g. a MoCo queue of keys
            (``K = M``); ``loss="infonce"`` only.
        negative_labels : array (M,) of int, optional
            The latent classes of ``negatives`` (required with them).
        class_means : array (C, d), optional
            Set the monitor's class means first (as the attribute would:
            allowed at the start of a window, or when equal to the current ones).

        Returns
        -------
        BatchTerms
            This batch's sums, and its ``ns21_bound`` / ``arora_bound`` (handy
            for per-step logging).

        Raises
        ------
        ValueError
            Mismatched shapes, labels outside ``[0, C)``, non-finite or
            zero-norm features, an empty batch, no class means, new class
            means in the middle of a window; the monitor is then unchanged.
        TypeError
            Arrays of different libraries or non-integer labels.

        Examples
        --------
        A MoCo-style queue of 64 keys:

        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> mu = np.eye(4)
        >>> mon = BoundMonitor(4, 0.2, class_means=mu)
        >>> y, keys_y = rng.integers(0, 4, 8), rng.integers(0, 4, 64)
        >>> bt = mon.update(mu[y] + rng.normal(size=(8, 4)), mu[y] + rng.normal(size=(8, 4)), y,
        ...                 negatives=mu[keys_y] + rng.normal(size=(64, 4)),
        ...                 negative_labels=keys_y)
        >>> bt.K, mon.compute().K
        (64, 64)
        """
        new_mu = None
        if class_means is not None:
            host = to_numpy(class_means) if is_array(class_means) else class_means
            new_mu = _host_means(host, self._C)
            if _same_means(new_mu, self._mu):
                new_mu = None
            else:
                self._check_means_change(new_mu)
        if new_mu is None and self._mu is None:
            raise ValueError(
                "class_means are needed: pass class_means= to BoundMonitor or update(), "
                "or call fit_class_means() first"
            )
        if self._loss == "nt_xent" and (negatives is not None or negative_labels is not None):
            raise ValueError("loss='nt_xent' takes its negatives from the batch (both views of "
                             "the other samples); negatives= is for loss='infonce' with a queue")
        mu_host = self._mu if new_mu is None else new_mu
        assert mu_host is not None
        dim = int(mu_host.shape[1])
        inp = batch_inputs(anchor, positive, labels, mean_features, dim, negatives,
                            negative_labels)
        if new_mu is None:
            mu_dev = self._device_means(inp)
        else:
            mu_dev = means_on(inp.xp, new_mu, inp.device, inp.dtype, self._C, dim)
        bt = BatchTerms(**batch_sums(inp, mu_dev, self._t, self._C, loss=self._loss,
                                     diagnostic=self._diagnostic))
        ema = None
        if self._ema is not None:
            sums, cnt = class_sums(inp, self._C)
            ema = mu_host.copy()
            seen = cnt > 0
            ema[seen] = self._ema * ema[seen] + (1 - self._ema) * (sums[seen] / cnt[seen, None])
        self._add(bt)
        if ema is not None or new_mu is not None:  # the batch is in: commit the means
            self._mu = ema if ema is not None else new_mu
            self._mu_cache.clear()
        return bt

    def update_losses(self, *, contrastive: Any, sup: Any, d: Any, sub: Any = None,
                      labels: Any = None, batch_counts: Any = None,
                      negative_labels: Any = None, K: int | None = None,
                      in_batch: bool | None = None) -> BatchTerms:
        """Add one batch from losses the trainer already computed.

        The losses must be those of the negatives the trainer used, and the
        call names them (losses alone cannot tell a queue from the batch):
        ``in_batch=True`` for the other anchors of the batch (``K = n - 1``;
        ``K=`` also says so, checked), or the negatives' labels
        (``negative_labels``, a queue or each anchor's own), from which
        ``K``, the coverage and the collisions are counted.  With
        ``loss="nt_xent"`` the negatives are always both views of the other
        samples (``K = 2N - 2``).  With per-anchor losses and
        ``labels`` the report equals :meth:`update`'s on the embeddings; with
        ``batch_counts`` or batch means ARORA19's terms (``arora_sub``,
        ``arora_bound``) become ``nan``.

        Parameters
        ----------
        contrastive : array (n,) or float
            InfoNCE (NT-Xent) losses.
        sup : array (n,) or float
            Mean-classifier losses over all ``C`` classes.
        d : array (n,) or float
            ``min(0, z0 . (mu_y - zbar)) / t`` (<= 0).
        sub : array (n,) or float, optional
            Mean-classifier losses over the classes present in each anchor's
            draw (required when some draw misses a class).
        labels : array (n,) of int, optional
            Per-anchor labels (for ``loss="nt_xent"``: the ``N`` samples'
            labels; the ``2N`` losses are view 0 of every sample, then view 1) ...
        batch_counts : array (C,) of int, optional
            ... or per-class counts.
        negative_labels : array (M,) or (n, K) of int, optional
            The negatives' labels: a queue shared by the anchors, or each
            anchor's own negatives.
        K : int, optional
            Negatives per anchor, checked: a ``K`` the batch's own labels cannot
            describe (not batch size - 1) needs ``negative_labels``.
        in_batch : bool, optional
            ``True``: the negatives were the batch's other samples.

        Returns
        -------
        BatchTerms

        Raises
        ------
        ValueError
            See :func:`~couponbound.training.batch.batch_terms_from_losses`;
            also a batch whose losses would overflow the running sums.  The
            monitor is then unchanged.

        Examples
        --------
        >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
        >>> _ = mon.update_losses(contrastive=[2.0, 2.2], sup=[1.0, 1.4], d=[-0.5, -0.5],
        ...                       labels=[0, 1], in_batch=True)
        >>> r = mon.compute()
        >>> r.contrastive, r.upsilon, r.sup, r.ns21_bound
        (2.1, 1.0, 1.2, 0.1)

        Losses against a queue of 1,024 keys need the keys' labels:

        >>> import numpy as np
        >>> q = BoundMonitor(num_classes=2, temperature=0.5)
        >>> _ = q.update_losses(contrastive=[7.0, 7.2], sup=[1.0, 1.4], d=-0.5, labels=[0, 1],
        ...                     negative_labels=np.arange(1024) % 2)
        >>> q.compute().K
        1024
        >>> q.update_losses(contrastive=7.0, sup=1.0, d=-0.5, labels=[0, 1], K=1024)
        Traceback (most recent call last):
        ...
        ValueError: K = 1024 negatives per anchor, but the batch's own labels describe K = ...
        """
        bt = batch_terms_from_losses(contrastive=contrastive, sup=sup, d=d, sub=sub,
                                     labels=labels, batch_counts=batch_counts,
                                     num_classes=self._C, negative_labels=negative_labels,
                                     K=K, loss=self._loss, in_batch=in_batch)
        self._add(bt)
        return bt

    def fit_class_means(self, mean_features: Any, labels: Any = None, *,
                        all_reduce: AllReduce | None = None) -> NDArray[np.float64]:
        """Estimate and set the class means from a pass over data (NS21: the training split).

        Allowed whenever the current window is empty: before the first batch,
        after :meth:`reset`, or right after :meth:`compute_window` -- the way
        to refresh the means during training (one window per set of means).

        Parameters
        ----------
        mean_features : array (n, d), or iterable of (array (n, d), array (n,))
            The mean features ``zbar`` of the samples (means of L2-normalised
            views, so of norm <= 1), or (when ``labels`` is ``None``) an
            iterable of ``(zbar, labels)`` batches.
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
            When the current window holds batches (call :meth:`compute_window`
            or :meth:`reset`), some class has no sample, or a row of
            ``mean_features`` has norm > 1 (raw features: normalise each view
            first, ``zbar = (z0 / |z0| + z1 / |z1|) / 2``).

        Examples
        --------
        >>> import numpy as np
        >>> mon = BoundMonitor(num_classes=2, temperature=0.5)
        >>> mon.fit_class_means(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.5]]), [0, 1, 1])
        array([[1.  , 0.  ],
               [0.  , 0.75]])
        """
        if self._window["n_batches"]:
            raise ValueError(
                f"fit_class_means() in the middle of a window ({self._window['n_batches']} "
                "batch(es) since the last compute_window()) would mix class means within it; "
                "call compute_window() (which starts a new window) or reset() first"
            )
        batches: Iterable[tuple[Any, Any]]
        batches = mean_features if labels is None else [(mean_features, labels)]
        mu = estimate_class_means(_unit_checked(batches), self._C, all_reduce=all_reduce)
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

        Warns
        -----
        NonRandomBatchWarning
            When the batches do not look like random draws from the prior
            (unless ``warn_nonrandom=False``).
        """
        if all_reduce is not None:
            other = self.copy()
            other.sync(all_reduce)
            return other.compute()
        if not self._state["n_batches"]:
            raise ValueError("no batch yet: call update() or update_losses() before compute()")
        return self._report(self._state)

    def compute_window(self, all_reduce: AllReduce | None = None) -> BoundReport:
        """The report over the batches since the previous ``compute_window()``; starts a new window.

        The cumulative totals (:meth:`compute`) carry on.  Use it for periodic
        logging ("every 500 steps") without mixing the untrained encoder with
        the trained one, and to change the class means between windows.

        Parameters
        ----------
        all_reduce : callable, optional
            Report over all data-parallel processes (every process must call
            it at the same point; each starts a new local window).

        Raises
        ------
        ValueError
            If the window holds no batch.

        Examples
        --------
        >>> mon = BoundMonitor(2, 0.5)
        >>> _ = mon.update_losses(contrastive=3.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
        >>> mon.compute_window().contrastive
        3.0
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
        >>> mon.compute_window().contrastive, mon.compute().contrastive
        (2.0, 2.5)
        """
        if all_reduce is not None:
            other = self.copy()
            other.sync(all_reduce)
            report = other.compute_window()
            self._window = _zero_state()
            return report
        if not self._window["n_batches"]:
            raise ValueError("no batch in this window: call update() or update_losses() "
                             "after the previous compute_window()")
        report = self._report(self._window)
        self._window = _zero_state()
        return report

    def _report(self, st: dict[str, int | float]) -> BoundReport:
        B = int(st["n_batches"])
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
        occ_ok = st["n_batches_no_occupancy"] == 0
        sum_k, sum_k2 = int(st["sum_K"]), int(st["sum_K_sq"])
        K = sum_k // B if B * sum_k2 == sum_k * sum_k else None
        terms = BoundTerms(
            contrastive=ratio("contrastive"), sup=ratio("sup"), sub=ratio("sub"),
            collision=ratio("collision"), d=min(0.0, ratio("d")), upsilon=ratio("upsilon"),
            tau=ratio("tau"), arora_sub=ratio("arora_sub") if arora_ok else math.nan,
            K=K, C=self._C,
        )
        se = {q: stderr(q) for q in _RATIOS}
        if not arora_ok:
            se["arora_sub"] = se["arora_bound"] = math.nan
        if not occ_ok:
            se["classes"] = se["false_negative"] = math.nan
        n_diag = int(st["n_diagnostic"])
        theory = {q: float(st[f"sum_theory_{q}"]) / N
                  for q in (*_TESTED, "classes", "false_negative")}
        report = BoundReport.from_terms(
            terms, prior=self._prior, sup_all=ratio("sup_all"),
            theory_upsilon=theory["upsilon"], theory_tau=theory["tau"],
            theory_collision=theory["collision"],
            classes=ratio("classes") if occ_ok else math.nan,
            false_negative=ratio("false_negative") if occ_ok else math.nan,
            theory_classes=theory["classes"] if occ_ok else math.nan,
            theory_false_negative=theory["false_negative"] if occ_ok else math.nan,
            temperature=self._t, n_anchors=N, n_batches=B, standard_errors=se,
            collision_diagnostic=float(st["sum_diagnostic"]) / n_diag if n_diag else math.nan,
        )
        if self.warn_nonrandom:
            self._check_random(st, {q: getattr(report, q) for q in _TESTED}, theory)
        return report

    def _check_random(self, st: dict[str, int | float], measured: dict[str, float],
                      theory: dict[str, float]) -> None:
        """Warn when a measured rate is further than _Z_CRIT null standard errors from theory."""
        N = float(st["n_anchors"])
        if st["n_batches"] < _MIN_BATCHES:
            return
        far = []
        for q in _TESTED:
            diff = measured[q] - theory[q]
            se = math.sqrt(max(float(st[f"null_var_{q}"]), 0.0)) / N
            if (se > 0 and abs(diff) > _Z_CRIT * se) or (se == 0 and abs(diff) > 1e-9):
                z = f"{diff / se:+.1f} s.e." if se > 0 else "exactly determined"
                far.append(f"{q} {measured[q]:.4g} vs theory {theory[q]:.4g} ({z})")
        if far:
            warnings.warn(NonRandomBatchWarning(
                f"batches do not look like random draws from the prior over "
                f"{int(st['n_batches'])} batches: {'; '.join(far)}. Is the loader sorted or "
                "class-balanced, or the prior not the data's? (warn_nonrandom=False silences "
                "this)"), stacklevel=3)

    # -- state --------------------------------------------------------------

    def reset(self) -> None:
        """Forget every batch, cumulative and window (configuration and class means stay)."""
        self._state = _zero_state()
        self._window = _zero_state()

    def copy(self) -> BoundMonitor:
        """An independent monitor with the same configuration, class means and state."""
        new = copy.copy(self)
        new._state = dict(self._state)
        new._window = dict(self._window)
        new._mu = None if self._mu is None else self._mu.copy()
        new._mu_cache = {}
        new._theory_cache = dict(self._theory_cache)
        new._null_cache = dict(self._null_cache)
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
        if (self._ema is None and mu is not None and self._mu is not None
                and not _same_means(mu, self._mu)):
            raise ValueError(f"{what} was measured with other class_means than this monitor's")

    def merge(self, other: BoundMonitor) -> None:
        """Add another monitor's batches to this one (same configuration and class means).

        Both the cumulative totals and the current windows are added.  Monitors
        of different ``loss`` kinds (or other configurations) are refused.

        Examples
        --------
        >>> a = BoundMonitor(2, 0.5)
        >>> b = BoundMonitor(2, 0.5)
        >>> _ = a.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
        >>> _ = b.update_losses(contrastive=3.0, sup=1.0, d=-0.5, labels=[1, 0], in_batch=True)
        >>> a.merge(b)
        >>> a.compute().contrastive, a.n_batches
        (2.5, 2)
        """
        if not isinstance(other, BoundMonitor):
            raise TypeError(f"can only merge a BoundMonitor, got {type(other).__name__}")
        self._check_compatible(other._config(), other._mu, "the other monitor")
        state = {k: self._state[k] + other._state[k] for k in _STATE_NAMES}
        window = {k: self._window[k] + other._window[k] for k in _STATE_NAMES}
        _check_state(state, "merged state")
        _check_state(window, "merged window")
        if self._mu is None and other._mu is not None:
            self._mu = other._mu.copy()
            self._mu_cache.clear()
        self._state, self._window = state, window

    def state_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot: configuration, class means, the totals and the window.

        Examples
        --------
        >>> import json
        >>> mon = BoundMonitor(2, 0.5)
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
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
            "window": dict(self._window),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`, e.g. after a crash (same configuration).

        A monitor with no batch yet adopts the state's class means (a resumed
        run may have refreshed them); one with batches must have the same.

        Raises
        ------
        ValueError
            For a state from another configuration (``num_classes``,
            ``temperature``, ``loss``, prior or class means), missing or
            unknown entries, or impossible values (negative counts or sums
            of squares, more covered than anchors, ``sum_d > 0``, non-finite
            or unbounded numbers, squared counts that no batches could give),
            naming the entry; the monitor is then unchanged.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {short_repr(state)}")
        unknown = sorted(map(str, set(state) - set(_TOP_KEYS)))
        if unknown:
            raise ValueError(f"state has unknown entries {unknown}; a state_dict() has "
                             f"{list(_TOP_KEYS)}")
        version = state.get("version")
        if state.get("format") != _FORMAT or version not in (_VERSION, *_OLD_VERSIONS) \
                or isinstance(version, bool):
            raise ValueError(
                f"state is not a {_FORMAT} state_dict of version {_VERSION}: format = "
                f"{short_repr(state.get('format'))}, version = {short_repr(version)}"
            )
        raw_mu = state.get("class_means")
        mu = None if raw_mu is None else _host_means(raw_mu, self._C)
        fresh = self._state["n_batches"] == 0
        self._check_compatible(state.get("config"), None if fresh else mu, "state")
        new = _parse_state(_upgraded(state.get("state"), version), "state['state']")
        window = _parse_state(_upgraded(state.get("window"), version), "state['window']")
        for name in _INT_STATES:
            if window[name] > new[name]:
                raise ValueError(f"state['window'][{name!r}] = {window[name]} exceeds the "
                                 f"cumulative {new[name]}")
        if mu is not None and (fresh or self._mu is None or self._ema is not None):
            self._mu = mu
            self._mu_cache.clear()
        self._state, self._window = new, window

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> BoundMonitor:
        """A monitor rebuilt from a :meth:`state_dict`: its configuration, class means and state.

        Examples
        --------
        >>> mon = BoundMonitor(2, 0.5, loss="nt_xent")
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
        >>> BoundMonitor.from_state_dict(mon.state_dict()).compute() == mon.compute()
        True
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {short_repr(state)}")
        config = state.get("config")
        if not isinstance(config, dict):
            raise ValueError(f"state has no configuration dict, got {short_repr(config)}")
        try:
            if config.get("counts") is not None:
                prior = Prior.from_counts(config["counts"],
                                          replacement=bool(config.get("replacement", True)))
            elif config.get("probs") is not None:
                prior = Prior.from_probs(config["probs"])
            else:
                prior = Prior.uniform(config["num_classes"])
            mon = cls(prior, config["temperature"], loss=config.get("loss", "infonce"),
                      class_means_ema=config.get("class_means_ema"))
        except KeyError as exc:
            raise ValueError(f"state's configuration lacks {exc}") from exc
        mon.load_state_dict(state)
        return mon

    def sync(self, all_reduce: AllReduce) -> None:
        """Replace the local state (totals and window) by its sum over all processes.

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
        ``compute(all_reduce=...)`` or ``compute_window(all_reduce=...)``,
        which sync a copy.

        Examples
        --------
        Two processes that saw the same batches, simulated by doubling:

        >>> mon = BoundMonitor(2, 0.5)
        >>> _ = mon.update_losses(contrastive=2.0, sup=1.0, d=-0.5, labels=[0, 1], in_batch=True)
        >>> mon.sync(lambda v: 2 * v)
        >>> mon.n_batches, mon.n_anchors
        (2, 4)
        """
        h = self._config_hash()
        local = np.array([float(self._state[k]) for k in _STATE_NAMES]
                         + [float(self._window[k]) for k in _STATE_NAMES] + [1.0, h, h * h])
        try:
            out = np.asarray(to_numpy(all_reduce(local.copy())), dtype=np.float64).reshape(-1)
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
                "temperature, loss, prior) or class_means"
            )
        S = len(_STATE_NAMES)
        parts = []
        for offset, mine in ((0, self._state), (S, self._window)):
            new: dict[str, int | float] = {}
            for i, (name, kind) in enumerate(STATE_SPEC):
                v = float(out[offset + i])
                if kind is int:
                    if v != round(v) or v < mine[name]:
                        raise ValueError(f"all_reduce returned {v} for the count {name!r}, "
                                         "which is not a sum of the processes' counts")
                    new[name] = int(round(v))
                else:
                    new[name] = v
            _check_state(new, "all_reduce result")
            parts.append(new)
        self._state, self._window = parts


def _upgraded(values: Any, version: Any) -> Any:
    """A version-2 state's entries with those it did not measure: the distinct classes
    and false negatives (issue 18), zero, its batches marked as not measuring them."""
    if version == _VERSION or not isinstance(values, dict):
        return values
    out = dict(values)
    new = [name for name in _STATE_NAMES if name not in values and (
        name in ("n_batches_no_occupancy",) or name.endswith(("_classes", "_false_negative")))]
    for name in new:
        out[name] = 0.0 if name not in _INT_STATES else 0
    if "n_batches_no_occupancy" in new:
        out["n_batches_no_occupancy"] = values.get("n_batches", 0)
    return out


def _zero_state() -> dict[str, int | float]:
    return {name: (0 if kind is int else 0.0) for name, kind in STATE_SPEC}


def _unit_checked(batches: Iterable[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """The ``(mean_features, labels)`` batches, refusing rows of norm > 1."""
    for zbar, y in feature_label_pairs(batches):
        check_unit_rows(zbar, "mean_features")
        yield zbar, y


def _host_means(value: Any, C: int) -> NDArray[np.float64]:
    """Class means from the user (any library) as a validated ``(C, d)`` host array."""
    mu = class_means_to_numpy(value, C)
    check_unit_rows(mu, "class_means")
    return mu


def _same_means(a: NDArray[np.float64] | None, b: NDArray[np.float64] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _parse_state(values: Any, what: str) -> dict[str, int | float]:
    """A state's entries, type-checked and bounded, then checked for consistency."""
    if not isinstance(values, dict):
        raise ValueError(f"{what} must be a dict, got {short_repr(values)}")
    missing = [k for k in _STATE_NAMES if k not in values]
    unknown = [k for k in values if k not in _STATE_NAMES]
    if missing or unknown:
        raise ValueError(f"{what} does not match this monitor: missing {missing}, "
                         f"unknown {unknown}")
    new: dict[str, int | float] = {}
    for name, kind in STATE_SPEC:
        v = values[name]
        if kind is int:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= _INT_MAX:
                raise ValueError(f"{what}[{name!r}] must be an integer in [0, 2**53], "
                                 f"got {short_repr(v)}")
            new[name] = int(v)
        else:
            try:
                ok = (not isinstance(v, bool) and isinstance(v, int | float)
                      and math.isfinite(float(v)))
            except OverflowError:  # an int beyond float64
                ok = False
            if not ok:
                raise ValueError(f"{what}[{name!r}] must be a finite number, "
                                 f"got {short_repr(v)}")
            new[name] = float(v)
    _check_state(new, what)
    return new


def _check_state(st: dict[str, int | float], what: str) -> None:
    """The invariants every sum of batches satisfies, naming the entry that breaks one."""
    def bad(name: str, why: str) -> ValueError:
        return ValueError(f"{what}[{name!r}] = {short_repr(st[name])}: {why}")

    for name in _STATE_NAMES:
        v = st[name]
        if name in _INT_STATES and v < 0:
            raise bad(name, "a count must be >= 0")
        if name not in _INT_STATES and not math.isfinite(v):
            raise bad(name, "must be finite")
    for name in _NONNEG:
        if st[name] < 0:
            raise bad(name, "a sum of non-negative terms must be >= 0")
    for name in _NONPOS:
        if st[name] > 0:
            raise bad(name, "NS21's d is <= 0, so its sum must be <= 0")
    B, N = int(st["n_batches"]), int(st["n_anchors"])
    if (B == 0) != (N == 0) or N < B:
        raise bad("n_anchors", f"disagrees with n_batches = {B} (every batch has an anchor)")
    if st["n_covered"] > N:
        raise bad("n_covered", f"more covered anchors than n_anchors = {N}")
    if st["n_covered"] + st["n_uncovered"] != N:
        raise bad("n_uncovered", f"n_covered + n_uncovered must equal n_anchors = {N}")
    if st["n_unique"] > N:
        raise bad("n_unique", f"exceeds n_anchors = {N}")
    if st["n_batches_no_arora"] > B:
        raise bad("n_batches_no_arora", f"exceeds n_batches = {B}")
    if st["n_batches_no_occupancy"] > B:
        raise bad("n_batches_no_occupancy", f"exceeds n_batches = {B}")
    if st["sum_upsilon"] != st["n_covered"]:
        raise bad("sum_upsilon", f"must equal n_covered = {st['n_covered']}")
    if st["sum_tau"] + st["n_unique"] != N:
        raise bad("sum_tau", f"repeated + unique anchors must equal n_anchors = {N}")
    if st["n_diagnostic"] > N:
        raise bad("n_diagnostic", f"exceeds n_anchors = {N}")
    # Sums of squares of B per-batch values x_b: S^2 / B <= sum x_b^2 (<= S^2 for x_b >= 0).
    for s_name, sq_name in [(f"n_{den}", f"n_{den}_sq") for den in _DENOMS] + [
            ("sum_K", "sum_K_sq")]:
        s, sq = int(st[s_name]), int(st[sq_name])
        if sq > s * s or (B and sq * B < s * s) or (not B and sq):
            raise bad(sq_name, f"no {B} batches with a total {s_name} = {s} have this sum "
                               "of squares")
    for q in _RATIOS:
        x, xx = float(st[f"sum_{q}"]), float(st[f"sumsq_{q}"])
        if B and math.isfinite(x * x) and xx * B < x * x * (1 - 1e-9) - 1e-300:
            raise bad(f"sumsq_{q}", f"is below sum^2 / n_batches = {x * x / B:.6g}")
