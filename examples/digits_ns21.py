"""
NS21's bound on real data: scikit-learn's digits, on a CPU
==========================================================

Nozawa & Sato (NS21, NeurIPS 2021) check their bound on CIFAR-10/100 and AG
News with SimCLR.  This example does the same, end to end, on a data set that
ships with scikit-learn (1,797 8x8 handwritten digits, 10 classes, no
download), in a few minutes on a 2-core CPU:

1. split the digits 70/30 into a training and a validation split (stratified,
   the same split for every seed);
2. for every batch size ``K + 1`` and seed, train a small MLP encoder ``f``
   with the InfoNCE loss of NS21 (docs: math-losses) at temperature 0.5 (an
   anchor's other view is its positive, the other views of the ``K`` other
   samples of the batch its negatives; symmetrised over the two views) under
   random one-pixel shifts, random erasing of a 3x3 square and pixel noise;
3. measure as NS21 section 5 prescribes (docs: math-measurement): class means from
   the training split (:meth:`couponbound.BoundMonitor.fit_class_means`), then
   :class:`couponbound.BoundMonitor` over several passes of the validation
   split, reshuffled and freshly augmented each pass, in batches of ``K + 1``;
4. compare the measured coverage and collision rates with the theory, with
   and without replacement (a reshuffled finite split is sampled *without*
   replacement: :func:`couponbound.coverage_prob` and
   :func:`couponbound.collision_prob` with ``replacement=False``);
5. write the analogues of NS21's Figure 1 and Table 2, the decomposition
   figure, a JSON with every number, and print a summary that says what the
   run shows.

Run ``python examples/digits_ns21.py`` (about 4 minutes on 2 cores) or
``python examples/digits_ns21.py --quick`` (two batch sizes, one seed, a few
epochs: about 10 seconds).  Same command, same numbers: every random draw comes
from a seeded generator, and torch runs deterministic algorithms on a fixed
number of threads (the number of worker processes does not change the
numbers).  Needs the ``examples`` extra: ``pip install "couponbound[examples]"``
(torch and scikit-learn).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import couponbound
from couponbound import BoundMonitor, BoundReport, collision_prob, coverage_prob, expected_log_collision

TEMPERATURE = 0.5
NUM_CLASSES = 10
FULL_BATCH_SIZES = (8, 16, 32, 64, 128, 256)
QUICK_BATCH_SIZES = (16, 128)
FULL_SEEDS = 3
FULL_EPOCHS = 100
QUICK_EPOCHS = 6
FULL_PASSES = 200
QUICK_PASSES = 15
N_AUG_MEAN = 8  # augmentations averaged into each sample's mean feature zbar
VAL_FRACTION = 0.3
SPLIT_SEED = 0
FEATURE_DIM = 64
HIDDEN = 256
LR = 1e-3
CONSISTENT_Z = 2.0  # |measured - theory| <= 2 s.e. counts as a match


def _need(module: str) -> Any:
    """Import an optional dependency of the example, or exit with how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"this example needs {module}: pip install '.[examples]' in a clone of "
                 "couponbound (torch and scikit-learn)")


# ----------------------------------------------------------------------------
# data and augmentations
# ----------------------------------------------------------------------------

def load_split() -> dict[str, Any]:
    """The digits as float32 tensors in [0, 1], shape (n, 8, 8), split 70/30 (stratified)."""
    torch = _need("torch")
    datasets = _need("sklearn.datasets")
    model_selection = _need("sklearn.model_selection")
    X, y = datasets.load_digits(return_X_y=True)
    idx_tr, idx_va = model_selection.train_test_split(
        np.arange(len(y)), test_size=VAL_FRACTION, stratify=y, random_state=SPLIT_SEED)
    idx_tr, idx_va = np.sort(idx_tr), np.sort(idx_va)
    images = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 8, 8)
    return {
        "x_train": images[idx_tr], "y_train": np.asarray(y[idx_tr], dtype=np.int64),
        "x_val": images[idx_va], "y_val": np.asarray(y[idx_va], dtype=np.int64),
    }


def augment(x: Any, gen: Any) -> Any:
    """One random view of each 8x8 image, flattened to 64 values.

    Random shift by up to one pixel in each direction (zero padding, then an
    8x8 crop), with probability 1/2 a 3x3 square erased, then Gaussian pixel
    noise of standard deviation 0.1.  Every draw comes from ``gen``.
    """
    torch = _need("torch")
    F = torch.nn.functional
    n = x.shape[0]
    r = torch.arange(8)
    padded = F.pad(x, (1, 1, 1, 1))
    dy = torch.randint(0, 3, (n,), generator=gen)
    dx = torch.randint(0, 3, (n,), generator=gen)
    rows = (dy[:, None] + r[None, :])[:, :, None]
    cols = (dx[:, None] + r[None, :])[:, None, :]
    out = padded[torch.arange(n)[:, None, None], rows, cols]
    ey = torch.randint(0, 6, (n,), generator=gen)
    ex = torch.randint(0, 6, (n,), generator=gen)
    erase = torch.rand(n, generator=gen) < 0.5
    in_y = (r[None, :] >= ey[:, None]) & (r[None, :] < ey[:, None] + 3)
    in_x = (r[None, :] >= ex[:, None]) & (r[None, :] < ex[:, None] + 3)
    out = out.masked_fill(in_y[:, :, None] & in_x[:, None, :] & erase[:, None, None], 0.0)
    out = out + 0.1 * torch.randn(out.shape, generator=gen)
    return out.reshape(n, 64)


# ----------------------------------------------------------------------------
# model and training
# ----------------------------------------------------------------------------

def make_encoder(seed: int) -> Any:
    """The encoder f: an MLP 64 -> 256 -> 256 -> 64 (features normalised by the caller).

    There is no separate projection head: the bound, the mean classifier and
    the linear probe all concern the same f.  Its initialisation depends on the
    seed only, so within a seed every batch size starts from the same weights.
    """
    torch = _need("torch")
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, FEATURE_DIM))


def contrastive_loss(z0: Any, z1: Any, t: float = TEMPERATURE) -> Any:
    """InfoNCE with K negatives (docs: math-losses), symmetrised over the two views.

    Row i of ``z0 z1^T / t`` is anchor i's logits: its positive on the diagonal,
    its K negatives the other samples' second views; the same for ``z1 z0^T``.
    """
    torch = _need("torch")
    F = torch.nn.functional
    logits = z0 @ z1.T / t
    target = torch.arange(z0.shape[0])
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def embed(model: Any, x: Any) -> Any:
    """L2-normalised features of flattened inputs, float64, no gradient."""
    torch = _need("torch")
    with torch.no_grad():
        return torch.nn.functional.normalize(model(x).double(), dim=1)


def train(x_train: Any, batch_size: int, seed: int, epochs: int,
          steps: int | None = None) -> tuple[Any, list[float], int]:
    """Train a fresh encoder with batches of ``batch_size = K + 1``.

    Each epoch reshuffles the training split and drops its last partial batch.
    With ``steps`` the run stops after that many optimiser steps instead of
    ``epochs`` epochs (the same number of updates for every batch size).

    Returns the encoder, the mean training loss of each (possibly partial)
    epoch and the number of optimiser steps taken.
    """
    torch = _need("torch")
    F = torch.nn.functional
    model = make_encoder(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(10_000 * seed + batch_size)
    n = x_train.shape[0]
    per_epoch = n // batch_size
    total_steps = steps if steps is not None else epochs * per_epoch
    history: list[float] = []
    done = 0
    model.train()
    while done < total_steps:
        perm = torch.randperm(n, generator=gen)
        total, count = 0.0, 0
        for s in range(min(per_epoch, total_steps - done)):
            xb = x_train[perm[s * batch_size:(s + 1) * batch_size]]
            z0 = F.normalize(model(augment(xb, gen)), dim=1)
            z1 = F.normalize(model(augment(xb, gen)), dim=1)
            loss = contrastive_loss(z0, z1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            count += 1
        done += count
        history.append(total / count)
    model.eval()
    return model, history, done


# ----------------------------------------------------------------------------
# measurement (NS21 section 5; docs: math-measurement)
# ----------------------------------------------------------------------------

def mean_features(model: Any, x: Any, gen: Any, n_aug: int = N_AUG_MEAN) -> Any:
    """zbar: mean over ``n_aug`` random views of each sample's normalised features."""
    acc = embed(model, augment(x, gen))
    for _ in range(n_aug - 1):
        acc = acc + embed(model, augment(x, gen))
    return acc / n_aug


def measure(model: Any, data: dict[str, Any], batch_size: int, seed: int, passes: int,
            n_aug: int) -> tuple[BoundReport, BoundMonitor, dict[str, dict[str, float]]]:
    """NS21's protocol: class means from the training split, then ``passes`` passes over
    the validation split, reshuffled and freshly augmented, in batches of ``K + 1``
    (a pass drops its last partial batch, so every batch has ``K + 1`` samples and
    is a uniformly random subset of the split, drawn without replacement).

    Returns the monitor's report, the monitor, and the coverage, collision rate and
    ``E ln(1+Col)`` per pass (mean and standard error over passes), from the
    :class:`couponbound.training.batch.BatchTerms` that :meth:`BoundMonitor.update` returns.
    """
    torch = _need("torch")
    gen = torch.Generator().manual_seed(10_000 * seed + batch_size + 5_000)
    rng = np.random.default_rng([seed, batch_size, 1])
    y_val = data["y_val"]
    # batches are drawn without replacement from the split: the theory columns must say so
    monitor = BoundMonitor(NUM_CLASSES, TEMPERATURE, counts=np.bincount(y_val, minlength=NUM_CLASSES),
                           replacement=False)
    monitor.fit_class_means(mean_features(model, data["x_train"], gen, n_aug).numpy(),
                            data["y_train"])
    x_val = data["x_val"]
    zbar = mean_features(model, x_val, gen, n_aug).numpy()
    n = x_val.shape[0]
    per_pass = np.zeros((passes, 3))  # covered anchors, repeated anchors, sum ln(1 + Col)
    for p in range(passes):
        perm = rng.permutation(n)
        xp = x_val[torch.from_numpy(perm)]
        z0 = embed(model, augment(xp, gen)).numpy()
        z1 = embed(model, augment(xp, gen)).numpy()
        for s in range(n // batch_size):
            sl = slice(s * batch_size, (s + 1) * batch_size)
            bt = monitor.update(anchor=z0[sl], positive=z1[sl], labels=y_val[perm[sl]],
                                mean_features=zbar[perm[sl]])
            per_pass[p] += (bt.n if bt.covered else 0, bt.n_repeat, bt.sum_collision)
    # Passes are independent (fresh permutation); the batches of one pass are not (they
    # share the split), so the rates' standard errors are taken over passes as well.
    rates = per_pass / ((n // batch_size) * batch_size)
    pass_se = rates.std(axis=0, ddof=1) / math.sqrt(passes) if passes > 1 else np.full(3, math.nan)
    by_pass = {q: {"mean": float(rates[:, i].mean()), "se": float(pass_se[i])}
               for i, q in enumerate(("upsilon", "tau", "collision"))}
    return monitor.compute(), monitor, by_pass


def accuracies(model: Any, monitor: BoundMonitor, data: dict[str, Any]) -> dict[str, float]:
    """Validation accuracy of the mean classifier (argmax_c z . mu_c with the monitor's
    class means) and of a linear probe (logistic regression fitted on the training
    split), both on the clean (unaugmented) images' normalised features."""
    linear_model = _need("sklearn.linear_model")
    exceptions = _need("sklearn.exceptions")
    z_tr = embed(model, data["x_train"].reshape(-1, 64)).numpy()
    z_va = embed(model, data["x_val"].reshape(-1, 64)).numpy()
    mu = monitor.class_means
    assert mu is not None
    mean_acc = float(np.mean(np.argmax(z_va @ mu.T, axis=1) == data["y_val"]))
    probe = linear_model.LogisticRegression(C=10.0, max_iter=2000)
    with warnings.catch_warnings():  # the probe's accuracy is reported either way
        warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
        probe.fit(z_tr, data["y_train"])
    probe_acc = float(np.mean(probe.predict(z_va) == data["y_val"]))
    return {"mean_classifier": mean_acc, "linear_probe": probe_acc}


# ----------------------------------------------------------------------------
# theory and comparison
# ----------------------------------------------------------------------------

def theory(batch_size: int, val_counts: Sequence[int]) -> dict[str, float]:
    """upsilon_{K+1}, tau_K and E ln(1+Col) three ways: i.i.d. uniform (NS21's setting),
    i.i.d. from the validation split's class proportions, and without replacement from
    the validation split (what a reshuffled finite split actually does)."""
    K = batch_size - 1
    counts = list(val_counts)
    return {
        "upsilon_uniform": coverage_prob(K, NUM_CLASSES),
        "upsilon_with_replacement": coverage_prob(K, counts=counts),
        "upsilon_without_replacement": coverage_prob(K, counts=counts, replacement=False),
        "tau_uniform": collision_prob(K, NUM_CLASSES),
        "tau_with_replacement": collision_prob(K, counts=counts),
        "tau_without_replacement": collision_prob(K, counts=counts, replacement=False),
        "collision_uniform": expected_log_collision(K, NUM_CLASSES),
        "collision_with_replacement": expected_log_collision(K, counts=counts),
        "collision_without_replacement": expected_log_collision(K, counts=counts,
                                                                replacement=False),
    }


def compare(measured: float, se: float, expected: float, count: int) -> dict[str, Any]:
    """Is a measured rate consistent with a theoretical one?

    ``z = (measured - expected) / se`` and a match when ``|z| <= 2``.  When the
    s.e. is 0 (every pass gave the same value, e.g. coverage 1 at large K) the
    rule of three applies instead: a match when ``|measured - expected| <= 3 / count``
    (``count``: batches).
    """
    diff = measured - expected
    if se > 0:
        z = diff / se
        return {"z": z, "consistent": bool(abs(z) <= CONSISTENT_Z)}
    return {"z": None, "consistent": bool(abs(diff) <= 3.0 / max(count, 1))}


def pooled(values: Sequence[float], ses: Sequence[float]) -> tuple[float, float]:
    """Mean of independent equal-size estimates (one per seed) and its standard error."""
    v = np.asarray(values, dtype=float)
    s = np.nan_to_num(np.asarray(ses, dtype=float), nan=0.0)
    return float(v.mean()), float(math.sqrt(float(np.sum(s * s))) / len(v))


def _jsonable(x: Any) -> Any:
    """Plain JSON: numpy scalars to Python, non-finite floats to ``None``."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    return x


def _fits(with_rep: dict[str, Any], without_rep: dict[str, Any]) -> str:
    """Which theoretical form the measurement is consistent with."""
    if with_rep["z"] is None and without_rep["z"] is None and with_rep["consistent"] \
            and without_rep["consistent"]:
        return "degenerate"
    if without_rep["consistent"] and not with_rep["consistent"]:
        return "without replacement"
    if with_rep["consistent"] and not without_rep["consistent"]:
        return "with replacement"
    if with_rep["consistent"]:
        return "both"
    return "neither"


def _stat(values: Sequence[float]) -> dict[str, float]:
    """Mean, s.d., min and max over seeds (``inf`` when some seed's value is infinite)."""
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        inf = math.inf if np.any(v == math.inf) else math.nan
        return {"mean": inf, "sd": math.nan, "min": float(v.min()), "max": float(v.max())}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else math.nan,
            "min": float(v.min()), "max": float(v.max())}


def _trend(values: Sequence[float], sds: Sequence[float]) -> str:
    """'rises', 'falls' or 'flat' from the first to the last value (flat: the change is
    within the larger seed-to-seed s.d. of the two ends)."""
    first, last = values[0], values[-1]
    noise = max((s for s in (sds[0], sds[-1]) if math.isfinite(s)), default=0.0)
    if abs(last - first) <= noise:
        return "flat"
    return "rises" if last > first else "falls"


def _ratio(last: float, first: float) -> float:
    return last / first if math.isfinite(first) and first > 0 else math.nan


def summarise(runs: list[dict[str, Any]], batch_sizes: Sequence[int],
              val_counts: Sequence[int]) -> dict[str, Any]:
    """Aggregate the runs per batch size and test the claims of NS21.

    Losses and bounds: mean and s.d. over seeds.  Rates (coverage, collision
    probability, ``E ln(1+Col)``): pooled over seeds, with the standard error
    over validation passes (``se``; the batches of one pass share the split and
    are not independent) next to the monitor's s.e. over batches (``se_batches``).
    """
    per_k: list[dict[str, Any]] = []
    for b in batch_sizes:
        rs = [r for r in runs if r["batch_size"] == b]
        reps = [r["report"] for r in rs]
        th = theory(b, val_counts)
        n_batches = int(sum(x["n_batches"] for x in reps))
        row: dict[str, Any] = {
            "batch_size": b, "K": b - 1, "seeds": len(rs), "n_batches": n_batches,
            "n_anchors": int(sum(x["n_anchors"] for x in reps)),
            "train_steps": rs[0]["train_steps"],
            "bound_holds_all_seeds": all(x["holds"] for x in reps),
        }
        for key in ("contrastive", "ns21_bound", "margin", "sup", "sub", "collision", "d",
                    "sup_all", "arora_sub", "arora_bound", "ns21_sup_upper", "arora_sup_upper"):
            row[key] = _stat([x[key] for x in reps])
        for key in ("mean_classifier", "linear_probe"):
            row[f"{key}_acc"] = _stat([r["accuracy"][key] for r in rs])
        for q in ("upsilon", "tau", "collision"):
            est, se = pooled([r["rates_by_pass"][q]["mean"] for r in rs],
                             [r["rates_by_pass"][q]["se"] for r in rs])
            _, se_b = pooled([x[q] for x in reps], [x[f"{q}_se"] for x in reps])
            entry: dict[str, Any] = {"measured": est, "se": se, "se_batches": se_b,
                                     "theory_uniform": th[f"{q}_uniform"]}
            for form in ("with_replacement", "without_replacement"):
                entry[f"theory_{form}"] = th[f"{q}_{form}"]
                entry[form] = compare(est, se, th[f"{q}_{form}"], n_batches)
            entry["fits"] = _fits(entry["with_replacement"], entry["without_replacement"])
            row[f"{q}_vs_theory"] = entry
        per_k.append(row)

    def means(key: str) -> list[float]:
        return [row[key]["mean"] for row in per_k]

    def sds(key: str) -> list[float]:
        return [row[key]["sd"] for row in per_k]

    arora_up, ns21_up = means("arora_sup_upper"), means("ns21_sup_upper")
    covered = [i for i, row in enumerate(per_k) if row["upsilon_vs_theory"]["measured"] >= 0.5]
    arora_cov = [arora_up[i] for i in covered]
    ns21_cov = [ns21_up[i] for i in covered]
    vacuous: dict[str, dict[str, str]] = {"ns21": {}, "arora": {}}
    for row, rs_ in ((row, [r for r in runs if r["batch_size"] == row["batch_size"]]) for row in per_k):
        key = str(row["batch_size"])
        if any(r["report"]["upsilon"] == 0.0 for r in rs_):
            why = "no batch covers every class (upsilon-hat = 0)"
            vacuous["ns21"][key] = vacuous["arora"][key] = why
        elif any(r["report"]["tau"] == 1.0 for r in rs_):
            vacuous["arora"][key] = "every anchor's class repeats in its batch (tau-hat = 1)"
    claims: dict[str, Any] = {
        "ns21_bound_below_L_info_every_K_and_seed": all(r["report"]["holds"] for r in runs),
        "smallest_margin_L_info_minus_bound": min(r["report"]["margin"] for r in runs),
        "batch_sizes": list(batch_sizes),
        "arora_sup_upper_by_K": arora_up,
        "ns21_sup_upper_by_K": ns21_up,
        "vacuous": vacuous,
        "batch_sizes_upsilon_ge_half": [batch_sizes[i] for i in covered],
        "arora_sup_upper_nondecreasing_where_upsilon_ge_half": bool(
            len(arora_cov) > 1 and all(y >= x for x, y in zip(arora_cov, arora_cov[1:], strict=False))),
        "arora_sup_upper_last_over_first_where_upsilon_ge_half": (
            _ratio(arora_cov[-1], arora_cov[0]) if arora_cov else math.nan),
        "ns21_sup_upper_range_where_upsilon_ge_half": (
            [min(ns21_cov), max(ns21_cov)] if ns21_cov else None),
        "ns21_sup_upper_last_over_first_where_upsilon_ge_half": (
            _ratio(ns21_cov[-1], ns21_cov[0]) if ns21_cov else math.nan),
        "mean_classifier_acc_by_K": means("mean_classifier_acc"),
        "linear_probe_acc_by_K": means("linear_probe_acc"),
        "mean_classifier_acc_trend": _trend(means("mean_classifier_acc"), sds("mean_classifier_acc")),
        "linear_probe_acc_trend": _trend(means("linear_probe_acc"), sds("linear_probe_acc")),
    }
    for q in ("upsilon", "tau", "collision"):
        claims[f"{q}_fits"] = {str(row["batch_size"]): row[f"{q}_vs_theory"]["fits"] for row in per_k}
    claims["family"] = _family(per_k)
    return {"per_batch_size": per_k, "claims": claims, "val_counts": list(val_counts)}


def _family(per_k: list[dict[str, Any]]) -> dict[str, Any]:
    """All non-degenerate comparisons of one theoretical form at once.

    About 5 % of correct comparisons exceed ``|z| = 2`` by chance; with ``M``
    comparisons, Bonferroni's family-wise 5 % threshold is
    ``z* = Phi^-1(1 - 0.025 / M)``.  A form is consistent with the whole run
    when its largest ``|z|`` stays below ``z*``.
    """
    from scipy.stats import norm

    out: dict[str, Any] = {}
    for form in ("with_replacement", "without_replacement"):
        zs = [abs(row[f"{q}_vs_theory"][form]["z"]) for row in per_k for q in ("upsilon", "tau", "collision")
              if row[f"{q}_vs_theory"][form]["z"] is not None]
        m = len(zs)
        z_star = float(norm.isf(0.025 / m)) if m else math.nan
        out[form] = {
            "comparisons": m, "above_2": sum(z > CONSISTENT_Z for z in zs),
            "max_abs_z": max(zs) if zs else math.nan, "bonferroni_threshold": z_star,
            "consistent_familywise": bool(m and max(zs) <= z_star),
        }
    return out


def _f(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    if x != 0 and abs(x) < 10.0 ** -digits:
        return f"{x:.1e}"
    return f"{x:.{digits}f}"


def _pm(stat: dict[str, float], digits: int = 3) -> str:
    sd = stat["sd"]
    return _f(stat["mean"], digits) + ("" if not math.isfinite(sd) else f" ± {_f(sd, digits)}")


def _seq(values: Sequence[float], digits: int = 2) -> str:
    return ", ".join(_f(v, digits) for v in values)


_FIT_PHRASE = {
    "without replacement": "only the without-replacement form fits",
    "with replacement": "only the with-replacement form fits",
    "both": "both forms fit (they differ by less than the s.e.)",
    "degenerate": "every pass gave the same value, as both forms predict",
    "neither": "NEITHER form fits",
}


def format_summary(result: dict[str, Any]) -> str:
    """The printed summary: per-K tables and the claims in plain words."""
    cfg, summ = result["config"], result["summary"]
    rows, cl = summ["per_batch_size"], summ["claims"]
    budget = f"{cfg['steps']} steps" if cfg.get("steps") else f"{cfg['epochs']} epochs"
    out = [
        f"NS21 on scikit-learn digits: {cfg['n_train']} train / {cfg['n_val']} validation samples, "
        f"C = {NUM_CLASSES}, t = {cfg['temperature']}, {cfg['seeds']} seed(s), {budget} per run, "
        f"{cfg['passes']} validation passes per run.",
        "",
        "Losses, bounds and accuracies: mean ± s.d. over seeds.",
        "",
        "| K+1 | L_Info | NS21 bound | L_Info − bound | d | ARORA19 bound | NS21 bound on L^μ_sup "
        "| ARORA19 bound on L^μ_sup | measured L^μ_sup | mean-clf acc | linear-probe acc |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r['batch_size']} | {_pm(r['contrastive'])} | {_pm(r['ns21_bound'])} | "
            f"{_pm(r['margin'])} | {_pm(r['d'])} | {_pm(r['arora_bound'])} | "
            f"{_pm(r['ns21_sup_upper'], 2)} | {_pm(r['arora_sup_upper'], 2)} | {_pm(r['sup_all'])} | "
            f"{_pm(r['mean_classifier_acc'])} | {_pm(r['linear_probe_acc'])} |")
    out += [
        "",
        "Measured rates, pooled over seeds (s.e. over validation passes), against theory: "
        "i.i.d. draws (with replacement, the validation split's class proportions) and draws "
        "without replacement from the validation split; z = (measured − theory) / s.e.",
        "",
        "| K+1 | quantity | measured | s.e. | theory with repl. | z | theory without repl. | z "
        "| fits |",
        "|---:|:--|---:|---:|---:|---:|---:|---:|:--|",
    ]
    names = {"upsilon": "υ̂ vs υ_{K+1}", "tau": "τ̂ vs τ_K", "collision": "E ln(1+Col)"}
    for r in rows:
        for q, name in names.items():
            e = r[f"{q}_vs_theory"]
            zw, zn = e["with_replacement"]["z"], e["without_replacement"]["z"]
            out.append(
                f"| {r['batch_size']} | {name} | {_f(e['measured'], 4)} | {_f(e['se'], 4)} | "
                f"{_f(e['theory_with_replacement'], 4)} | {_f(zw, 1)} | "
                f"{_f(e['theory_without_replacement'], 4)} | {_f(zn, 1)} | {e['fits']} |")
    holds = cl["ns21_bound_below_L_info_every_K_and_seed"]
    cov = cl["batch_sizes_upsilon_ge_half"]
    out += [
        "",
        "What this run shows:",
        f"- NS21's bound is below the measured L_Info for every K and seed: "
        f"{'YES' if holds else 'NO'} (smallest margin L_Info − bound = "
        f"{_f(cl['smallest_margin_L_info_minus_bound'])}).",
        f"- Bounds on the supervised loss L^μ_sup by K+1 = {', '.join(map(str, cl['batch_sizes']))}: "
        f"ARORA19 {_seq(cl['arora_sup_upper_by_K'])}; NS21 {_seq(cl['ns21_sup_upper_by_K'])}.",
    ]
    for name, key in (("NS21's", "ns21"), ("ARORA19's", "arora")):
        for k, why in cl["vacuous"][key].items():
            out.append(f"  {name} is vacuous (inf) at K+1 = {k}: {why}.")
    if len(cov) > 1:
        grows = cl["arora_sup_upper_nondecreasing_where_upsilon_ge_half"]
        lo, hi = cl["ns21_sup_upper_range_where_upsilon_ge_half"]
        out.append(
            f"- Where most batches cover every class (υ̂ ≥ 0.5: K+1 = {', '.join(map(str, cov))}), "
            f"ARORA19's bound {'grows with K' if grows else 'does NOT grow monotonically with K'} "
            f"(last/first = {_f(cl['arora_sup_upper_last_over_first_where_upsilon_ge_half'], 2)}), "
            f"while NS21's stays within [{_f(lo, 2)}, {_f(hi, 2)}] (last/first = "
            f"{_f(cl['ns21_sup_upper_last_over_first_where_upsilon_ge_half'], 2)}).")
    for q, name in (("upsilon", "υ̂"), ("tau", "τ̂"), ("collision", "E ln(1+Col)")):
        groups: dict[str, list[str]] = {}
        for k, v in cl[f"{q}_fits"].items():
            groups.setdefault(v, []).append(k)
        out.append(f"- {name} against theory (fit: |z| ≤ {CONSISTENT_Z:g}): "
                   + "; ".join(f"at K+1 = {', '.join(ks)} {_FIT_PHRASE[v]}" for v, ks in groups.items())
                   + ".")
    for form, name in (("without_replacement", "without"), ("with_replacement", "with")):
        fam = cl["family"][form]
        if fam["comparisons"]:
            out.append(
                f"- All {fam['comparisons']} non-degenerate comparisons with the {name}-replacement "
                f"form together: {fam['above_2']} exceed |z| = 2 (about 5 % would by chance), "
                f"largest |z| = {_f(fam['max_abs_z'], 1)} against the family-wise (Bonferroni, "
                f"5 %) threshold {_f(fam['bonferroni_threshold'], 2)}: "
                + ("consistent." if fam["consistent_familywise"] else "REJECTED."))
    mt, pt = cl["mean_classifier_acc_trend"], cl["linear_probe_acc_trend"]
    verdict = ("rises with K" if mt == pt == "rises" else
               "does NOT rise with K on this data set" if "rises" not in (mt, pt) else
               "rises with K for one classifier only")
    out.append(
        f"- Accuracy {verdict}: mean classifier {_seq(cl['mean_classifier_acc_by_K'], 3)} "
        f"({mt} from the smallest to the largest K); linear probe "
        f"{_seq(cl['linear_probe_acc_by_K'], 3)} ({pt})"
        + ("; flat: the change is within the seed-to-seed s.d. " if "flat" in (mt, pt) else ". ")
        + f"Optimiser steps per K: {', '.join(str(r['train_steps']) for r in rows)}.")
    return "\n".join(out)


# ----------------------------------------------------------------------------
# figures and tables (couponbound.paper.plots, .style, .tables)
# ----------------------------------------------------------------------------

def mean_terms(runs: list[dict[str, Any]], batch_sizes: Sequence[int]) -> list[Any]:
    """One :class:`couponbound.BoundTerms` per batch size: each measured term averaged
    over seeds (what the figures and Table 2 show)."""
    terms = []
    for b in batch_sizes:
        reps = [r["report"] for r in runs if r["batch_size"] == b]

        def avg(key: str, reps_: list[dict[str, Any]] = reps) -> float:
            return float(np.mean([x[key] for x in reps_]))

        terms.append(couponbound.BoundTerms(
            contrastive=avg("contrastive"), sup=avg("sup"), sub=avg("sub"),
            collision=avg("collision"), d=min(0.0, avg("d")), upsilon=avg("upsilon"),
            tau=avg("tau"), arora_sub=avg("arora_sub"), K=b - 1, C=NUM_CLASSES))
    return terms


def write_figures_and_tables(out: Path, runs: list[dict[str, Any]], batch_sizes: Sequence[int],
                             summary: dict[str, Any]) -> list[Path]:
    """Figure 1 and Table 2 analogues and the decomposition figure, from seed-mean terms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from couponbound.paper.plots import find_artists, plot_bound_comparison, plot_bound_decomposition
    from couponbound.paper.style import paper_style, save_figure
    from couponbound.paper.tables import decomposition_table

    terms = mean_terms(runs, batch_sizes)
    cl = summary["claims"]
    mean_acc = cl["mean_classifier_acc_by_K"]
    probe_acc = cl["linear_probe_acc_by_K"]
    written: list[Path] = []
    with paper_style("neurips", columns=1, height=2.6):
        fig, ax = plt.subplots()
        plot_bound_comparison(terms, accuracy=mean_acc, ax=ax, legend=False)
        # plot_bound_comparison draws one accuracy series; the linear probe joins it
        # on the same twin axis.
        (acc_line,) = find_artists(ax, "accuracy")
        acc_line.set_label("mean-classifier acc.")
        ax2 = acc_line.axes
        x = np.arange(len(batch_sizes), dtype=float)
        (probe_line,) = ax2.plot(x, 100.0 * np.asarray(probe_acc), "s--", color="#009E73",
                                 lw=1.0, ms=3.5, label="linear-probe acc.")
        probe_line.set_gid("accuracy/linear_probe")
        both = 100.0 * np.concatenate([mean_acc, probe_acc])
        span = max(float(both.max() - both.min()), 2.0)
        ax2.set_ylim(max(0.0, float(both.min()) - 1.5 * span), min(100.0, float(both.max()) + 0.5 * span))
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(handles + h2, labels + l2, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                  ncol=2, fontsize="x-small", frameon=False)
        written += save_figure(fig, out / "figure1_bound_comparison")
        plt.close(fig)
        fig, ax = plt.subplots()
        plot_bound_decomposition(terms, ax=ax)
        written += save_figure(fig, out / "bound_decomposition")
        plt.close(fig)
    table = decomposition_table(terms)
    n_seeds = len({r["seed"] for r in runs})
    note = (f"scikit-learn digits, SimCLR-style MLP at t = {TEMPERATURE}; every measured term "
            f"averaged over {n_seeds} seed(s) before the bounds are formed.")
    caption = ("NS21's bound on the contrastive loss, term by term (the analogue of NS21's "
               "Table 2) on " + note)
    for suffix, text in (("md", f"{table.to_markdown()}\n\nData: {note}"),
                         ("tex", table.to_latex(caption=caption, label="tab:digits-ns21"))):
        path = out / f"table2.{suffix}"
        path.write_text(text + "\n")
        written.append(path)
    return written


# ----------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------

_DATA: dict[str, Any] = {}


def _init_worker(threads: int) -> None:
    """Fix torch's threads and algorithms (in the main process or a worker)."""
    torch = _need("torch")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def run_one(batch_size: int, seed: int, epochs: int, steps: int | None, passes: int,
            n_aug: int) -> dict[str, Any]:
    """Train and measure one (batch size, seed); everything it draws is seeded by both."""
    if not _DATA:
        _DATA.update(load_split())
    data = _DATA
    t0 = time.perf_counter()
    model, history, done = train(data["x_train"], batch_size, seed, epochs, steps)
    report, monitor, by_pass = measure(model, data, batch_size, seed, passes, n_aug)
    acc = accuracies(model, monitor, data)
    return {
        "batch_size": batch_size, "K": batch_size - 1, "seed": seed, "train_steps": done,
        "train_loss_first_epoch": history[0], "train_loss_last_epoch": history[-1],
        "report": report.to_dict(), "rates_by_pass": by_pass, "accuracy": acc,
        "_seconds": time.perf_counter() - t0,
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Reproduce NS21's empirical claim on scikit-learn's digits (CPU).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"batch sizes {list(QUICK_BATCH_SIZES)}, one seed, {QUICK_EPOCHS} epochs, "
                        f"{QUICK_PASSES} validation passes")
    p.add_argument("--seeds", type=int, default=None,
                   help=f"number of seeds, 0 .. n-1 (default {FULL_SEEDS}; 1 with --quick)")
    p.add_argument("--epochs", type=int, default=None,
                   help=f"training epochs (default {FULL_EPOCHS}; {QUICK_EPOCHS} with --quick)")
    p.add_argument("--steps", type=int, default=None,
                   help="train every batch size for this many optimiser steps instead of a "
                        "number of epochs (NS21 trains for a fixed number of epochs)")
    p.add_argument("--passes", type=int, default=None,
                   help=f"passes over the validation split (default {FULL_PASSES}; "
                        f"{QUICK_PASSES} with --quick)")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=None, metavar="K+1",
                   help=f"batch sizes (default {list(FULL_BATCH_SIZES)}; "
                        f"{list(QUICK_BATCH_SIZES)} with --quick)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes training (batch size, seed) pairs in parallel (default 2; 1 "
                        "with --quick, where starting processes costs more than it saves); the "
                        "numbers do not depend on it")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads per process (fixed, for determinism)")
    p.add_argument("--out", type=Path, default=Path("./digits-ns21-output"), help="output directory")
    args = p.parse_args(argv)
    if args.seeds is None:
        args.seeds = 1 if args.quick else FULL_SEEDS
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else FULL_EPOCHS
    if args.passes is None:
        args.passes = QUICK_PASSES if args.quick else FULL_PASSES
    if args.batch_sizes is None:
        args.batch_sizes = list(QUICK_BATCH_SIZES if args.quick else FULL_BATCH_SIZES)
    if args.workers is None:
        args.workers = 1 if args.quick else 2
    args.batch_sizes = sorted(set(args.batch_sizes))
    if args.steps is not None and args.steps < 1:
        p.error(f"--steps must be >= 1, got {args.steps}")
    for name in ("seeds", "epochs", "passes", "workers", "threads"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1, got {getattr(args, name)}")
    n_val = round(VAL_FRACTION * 1797)
    if min(args.batch_sizes) < 2 or max(args.batch_sizes) > n_val:
        p.error(f"--batch-sizes must lie in [2, {n_val}] (an anchor needs a negative; a batch "
                f"must fit in the validation split), got {args.batch_sizes}")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the experiment; write ``results.json``, figures, tables and ``summary.md``."""
    args = parse_args(argv)
    torch = _need("torch")
    sklearn = _need("sklearn")
    _init_worker(args.threads)
    start = time.perf_counter()
    n_aug = 4 if args.quick else N_AUG_MEAN
    # Small batches train longest: start them first.
    tasks = [(b, s) for b in args.batch_sizes for s in range(args.seeds)]
    results: dict[tuple[int, int], dict[str, Any]] = {}

    def done(run: dict[str, Any]) -> None:
        results[(run["batch_size"], run["seed"])] = run
        print(f"  done K+1 = {run['batch_size']:3d}, seed {run['seed']} "
              f"({run['_seconds']:.1f} s; {len(results)}/{len(tasks)})", file=sys.stderr, flush=True)

    workers = min(args.workers, len(tasks))
    if workers == 1:
        for b, s in tasks:
            done(run_one(b, s, args.epochs, args.steps, args.passes, n_aug))
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                    initializer=_init_worker, initargs=(args.threads,)) as pool:
            futures = [pool.submit(run_one, b, s, args.epochs, args.steps, args.passes, n_aug)
                       for b, s in tasks]
            for fut in cf.as_completed(futures):
                done(fut.result())
    runs = [results[(b, s)] for s in range(args.seeds) for b in args.batch_sizes]
    for r in runs:
        r.pop("_seconds")
    if not _DATA:
        _DATA.update(load_split())
    val_counts = np.bincount(_DATA["y_val"], minlength=NUM_CLASSES).tolist()
    summary = summarise(runs, args.batch_sizes, val_counts)
    result = {
        "config": {
            "quick": args.quick, "seeds": args.seeds,
            "epochs": None if args.steps is not None else args.epochs, "steps": args.steps,
            "passes": args.passes, "batch_sizes": args.batch_sizes, "threads": args.threads,
            "temperature": TEMPERATURE, "n_aug_mean_features": n_aug, "lr": LR,
            "feature_dim": FEATURE_DIM, "hidden": HIDDEN, "val_fraction": VAL_FRACTION,
            "split_seed": SPLIT_SEED, "n_train": len(_DATA["y_train"]), "n_val": len(_DATA["y_val"]),
            "versions": {"couponbound": couponbound.__version__, "torch": torch.__version__,
                         "sklearn": sklearn.__version__, "numpy": np.__version__},
        },
        "runs": runs,
        "summary": summary,
    }
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    files = write_figures_and_tables(out, runs, args.batch_sizes, summary)
    text = format_summary(result)
    (out / "summary.md").write_text(text + "\n")
    files.append(out / "summary.md")
    result["files"] = sorted(p.name for p in files) + ["results.json"]
    (out / "results.json").write_text(json.dumps(_jsonable(result), indent=1, allow_nan=False) + "\n")
    print(text)
    print(f"\nwrote {', '.join(result['files'])} to {out}")
    print(f"total {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
