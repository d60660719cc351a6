"""
NS21's bound during MoCo training on scikit-learn's digits, window by window
=============================================================================

A MoCo-style model (He et al., 2020) learns the 8x8 digits of scikit-learn
(1,797 images, 10 classes, no download): a query encoder trained by SGD, a key
encoder that follows it as an exponential moving average, and a queue of the
keys of the last few batches as negatives, decoupled from the batch size.
:class:`couponbound.BoundMonitor` measures every term of NS21's bound on the
training batches as they go by:

1. every anchor's negatives are the ``M`` keys of the queue
   (``update(..., negatives=queue, negative_labels=queue_labels)``), so
   ``K = M`` and the theory columns are those of ``M`` negatives drawn without
   replacement from the training split (``Prior.from_counts(counts,
   replacement=False)``);
2. the class means are refreshed at the start of every epoch from the current
   encoder (mean feature of each training sample over a few augmented views,
   :meth:`~couponbound.BoundMonitor.fit_class_means`);
3. each epoch is a window: :meth:`~couponbound.BoundMonitor.compute_window`
   reports over that epoch's batches only, while the cumulative totals carry
   on; every step also logs the batch's own bound
   (:attr:`couponbound.training.batch.BatchTerms.ns21_bound`);
4. the monitor's measured ``L_Info`` is checked against the loss the
   optimiser minimised, and NS21's bound against ``L_Info`` in every window.

Run ``python examples/moco_digits.py`` (about half a minute on 2 cores) or
``python examples/moco_digits.py --quick`` (4 epochs, a queue of 128 keys:
about 10 seconds).  It writes ``moco_windows.json`` (configuration, every
window's full report, per-step batch values), ``moco_windows.csv`` (one row per
window), ``moco_bound.png``/``.pdf`` (the figure) and prints a summary.  Needs
the ``examples`` extra (torch and scikit-learn): ``pip install ".[examples]"``
in a clone of the repository.  Same command, same numbers (seeded generators, deterministic
torch on a fixed number of threads).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from couponbound import BoundMonitor, Prior

# the digits, their 70/30 split and the optional-dependency guard are the NS21
# digits example's (a sibling script: python puts this folder on sys.path)
sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_ns21 import _need, load_split  # noqa: E402

TEMPERATURE = 0.2  # MoCo v2's temperature
NUM_CLASSES = 10
BATCH = 64
FULL = {"epochs": 40, "queue": 512}
QUICK = {"epochs": 4, "queue": 128}
MOMENTUM = 0.99  # key encoder: theta_k <- m theta_k + (1 - m) theta_q
LR = 1e-3
N_AUG_MEAN = 4  # augmented views averaged into each sample's mean feature (class means)
SEED = 0
FEATURE_DIM = 64
HIDDEN = 256
#: The columns of moco_windows.csv, in order (report fields, then the example's own).
CSV_COLUMNS = (
    "window", "epoch", "steps", "n_batches", "n_anchors", "K", "contrastive", "contrastive_se",
    "train_loss", "ns21_bound", "ns21_bound_se", "margin", "holds", "sup", "sub", "collision",
    "d", "upsilon", "tau", "theory_upsilon", "theory_tau", "theory_collision", "sup_all",
    "ns21_sup_upper", "mean_classifier_acc",
)
#: What each step logs of its batch (BatchTerms.to_dict(keys=...)).
STEP_KEYS = ("contrastive", "ns21_bound", "collision", "d")


# ----------------------------------------------------------------------------
# data, augmentations, encoder
# ----------------------------------------------------------------------------

def augment(x: Any, gen: Any) -> Any:
    """One random view of each 8x8 image, flattened: a shift by up to one pixel
    (zero padding, 8x8 crop), a 3x3 square erased with probability 1/2, pixel noise."""
    torch = _need("torch")
    n, r = x.shape[0], torch.arange(8)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    dy, dx = torch.randint(0, 3, (n,), generator=gen), torch.randint(0, 3, (n,), generator=gen)
    out = padded[torch.arange(n)[:, None, None], (dy[:, None] + r)[:, :, None],
                 (dx[:, None] + r)[:, None, :]]
    ey, ex = torch.randint(0, 6, (n,), generator=gen), torch.randint(0, 6, (n,), generator=gen)
    erase = torch.rand(n, generator=gen) < 0.5
    in_y = (r >= ey[:, None]) & (r < ey[:, None] + 3)
    in_x = (r >= ex[:, None]) & (r < ex[:, None] + 3)
    out = out.masked_fill(in_y[:, :, None] & in_x[:, None, :] & erase[:, None, None], 0.0)
    return (out + 0.1 * torch.randn(out.shape, generator=gen)).reshape(n, 64)


def make_encoder(seed: int) -> Any:
    """An MLP 64 -> 256 -> 256 -> 64; the features are normalised by :func:`embed`."""
    torch = _need("torch")
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, FEATURE_DIM))


def embed(model: Any, x: Any) -> Any:
    """L2-normalised features of flattened images."""
    return _need("torch").nn.functional.normalize(model(x), dim=1)


def moco_loss(q: Any, k: Any, queue: Any, t: float = TEMPERATURE) -> Any:
    """MoCo's InfoNCE: anchor ``q[i]``, positive ``k[i]``, the queue's keys as negatives."""
    torch = _need("torch")
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.T], dim=1) / t
    return torch.nn.functional.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))


def mean_features(model: Any, x: Any, gen: Any, n_aug: int = N_AUG_MEAN) -> Any:
    """``zbar``: each sample's normalised feature averaged over ``n_aug`` augmented views."""
    torch = _need("torch")
    with torch.no_grad():
        return torch.stack([embed(model, augment(x, gen)) for _ in range(n_aug)]).mean(0)


def mean_classifier_accuracy(model: Any, class_means: Any, x: Any, y: Any) -> float:
    """Accuracy of ``argmax_c f(x) . mu_c`` on clean images."""
    torch = _need("torch")
    with torch.no_grad():
        z = embed(model, x.reshape(len(x), 64))
    pred = (z @ class_means.T).argmax(1).numpy()
    return float(np.mean(pred == y))


# ----------------------------------------------------------------------------
# training with the monitor
# ----------------------------------------------------------------------------

def run(epochs: int, queue_size: int, seed: int = SEED, threads: int = 1) -> dict[str, Any]:
    """Train MoCo for ``epochs`` epochs; one window of the monitor per epoch."""
    torch = _need("torch")
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    data = load_split()
    x_tr, y_tr = data["x_train"], data["y_train"]
    n_train = len(y_tr)
    if not BATCH <= queue_size <= n_train - BATCH:
        raise ValueError(f"queue_size must lie in [{BATCH}, {n_train - BATCH}], got {queue_size}")
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    f_q = make_encoder(seed)
    f_k = make_encoder(seed)
    f_k.load_state_dict(f_q.state_dict())
    for p in f_k.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(f_q.parameters(), lr=LR)

    # The queue starts with the keys of a random subset of the training split, so
    # that every key has a label from the first step on.
    start = rng.choice(n_train, size=queue_size, replace=False)
    with torch.no_grad():
        queue = embed(f_k, augment(x_tr[start].reshape(-1, 8, 8), gen))
    queue_y = torch.as_tensor(y_tr[start])

    # A shuffled pass over a finite split draws without replacement: the theory
    # columns (upsilon_{M+1}, tau_M, E ln(1+Col)) use the split's class sizes.
    counts = np.bincount(y_tr, minlength=NUM_CLASSES)
    prior = Prior.from_counts(counts, replacement=False, name="digits (training split)")
    monitor = BoundMonitor(prior, temperature=TEMPERATURE)

    windows: list[dict[str, Any]] = []
    steps: list[dict[str, float]] = []
    step = 0
    y_tr_t = torch.as_tensor(y_tr)
    zbar = mean_features(f_q, x_tr, gen)
    for epoch in range(epochs):
        # A new window: class means of the current encoder, from the training split.
        monitor.fit_class_means(zbar, y_tr_t)
        losses = []
        order = rng.permutation(n_train)
        for b in range(n_train // BATCH):  # drop the last partial batch: random subsets only
            idx = order[b * BATCH:(b + 1) * BATCH]
            x, y = x_tr[idx], torch.as_tensor(y_tr[idx])
            q = embed(f_q, augment(x, gen))
            with torch.no_grad():  # zbar: the query encoder on two further views (NS21)
                zbar_batch = (embed(f_q, augment(x, gen)) + embed(f_q, augment(x, gen))) / 2
            with torch.no_grad():
                for pk, pq in zip(f_k.parameters(), f_q.parameters(), strict=True):
                    pk.mul_(MOMENTUM).add_(pq.detach(), alpha=1.0 - MOMENTUM)
                k = embed(f_k, augment(x, gen))
            loss = moco_loss(q, k, queue)
            opt.zero_grad()
            loss.backward()
            opt.step()
            # What the optimiser just minimised, measured term by term: same anchors,
            # positives and queue (the queue is updated after the measurement).
            bt = monitor.update(anchor=q.detach(), positive=k, labels=y, mean_features=zbar_batch,
                                negatives=queue, negative_labels=queue_y)
            steps.append({"step": step, "epoch": epoch, **bt.to_dict(keys=STEP_KEYS)})
            losses.append(float(loss.detach()))
            queue = torch.cat([k, queue])[:queue_size]
            queue_y = torch.cat([y, queue_y])[:queue_size]
            step += 1
        report = monitor.compute_window()
        # The encoder at the window's end: its class means (the next window's) and the
        # validation accuracy of its mean classifier.
        zbar = mean_features(f_q, x_tr, gen)
        mu = torch.stack([zbar[y_tr_t == c].mean(0) for c in range(NUM_CLASSES)])
        row = {"window": len(windows), "epoch": epoch, "steps": step,
               "train_loss": float(np.mean(losses)),
               "mean_classifier_acc": mean_classifier_accuracy(
                   f_q, mu, data["x_val"], data["y_val"]),
               "report": report}
        windows.append(row)
    return {"windows": windows, "steps": steps, "total": monitor.compute(),
            "prior": prior, "n_train": n_train}


# ----------------------------------------------------------------------------
# outputs
# ----------------------------------------------------------------------------

def _plain(x: Any) -> Any:
    """JSON-safe: NaN and infinities become ``None``."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, bool | int | str) or x is None:
        return x
    x = float(x)
    return x if math.isfinite(x) else None


def window_row(w: dict[str, Any]) -> dict[str, Any]:
    """One CSV row: the report's fields and the example's own columns."""
    report = w["report"]
    row = {**report.to_dict(), **{k: v for k, v in w.items() if k != "report"}}
    for key in ("n_batches", "n_anchors", "K"):  # counts stay integers
        row[key] = getattr(report, key)
    row["holds"] = int(report.holds)
    return {c: row[c] for c in CSV_COLUMNS}


def write_outputs(out: Path, result: dict[str, Any], config: dict[str, Any]) -> list[Path]:
    """``moco_windows.json``, ``moco_windows.csv`` and the figure."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [window_row(w) for w in result["windows"]]
    with (out / "moco_windows.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    doc = {"config": config, "prior": result["prior"].to_dict(),
           "windows": [{**{k: v for k, v in w.items() if k != "report"},
                        "report": w["report"].to_dict()} for w in result["windows"]],
           "total": result["total"].to_dict(), "steps": result["steps"]}
    (out / "moco_windows.json").write_text(
        json.dumps(_plain(doc), indent=1, allow_nan=False) + "\n")
    return [out / "moco_windows.csv", out / "moco_windows.json", *plot(out, result, config)]


def plot(out: Path, result: dict[str, Any], config: dict[str, Any]) -> list[Path]:
    """Three panels over training: the bound and L_Info; its terms; the supervised side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from couponbound.paper.style import paper_style, save_figure

    wins = result["windows"]
    reps = [w["report"] for w in wins]
    steps_per_window = config["steps_per_epoch"]
    x = np.array([w["steps"] for w in wins], dtype=float)  # the step at each window's end
    st = result["steps"]
    sx = np.array([s["step"] for s in st], dtype=float) + 1

    def col(name: str) -> np.ndarray:
        return np.array([getattr(r, name) for r in reps], dtype=float)

    with paper_style("neurips", columns=2, height=2.7):
        fig, axes = plt.subplots(1, 3, layout="constrained")
        ax = axes[0]
        ax.plot(sx, [s["contrastive"] for s in st], lw=0.5, color="C0", alpha=0.35)
        ax.plot(sx, [s["ns21_bound"] for s in st], lw=0.5, color="C3", alpha=0.35)
        ax.errorbar(x, col("contrastive"), yerr=2 * col("contrastive_se"), fmt="o-", ms=2.5,
                    lw=1, color="C0", label=r"$L_\mathrm{Info}$ (window)")
        ax.errorbar(x, col("ns21_bound"), yerr=2 * col("ns21_bound_se"), fmt="s-", ms=2.5,
                    lw=1, color="C3", label="NS21 bound (window)")
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("nats")
        ax.set_title(f"(a) bound, K = {config['queue']} keys", fontsize="small")
        ax.legend(fontsize="xx-small", frameon=False, ncol=2, loc="upper center",
                  bbox_to_anchor=(0.5, -0.28))

        ax = axes[1]
        ax.plot(x, 0.5 * (col("upsilon") * col("sup") + (1 - col("upsilon")) * col("sub")), "o-",
                ms=2.5, lw=1, label=r"$\frac{1}{2}(\hat\upsilon L^\mu_\mathrm{sup}"
                                    r" + (1-\hat\upsilon) L^\mu_\mathrm{sub})$")
        ax.plot(x, 0.5 * col("collision"), "^-", ms=2.5, lw=1,
                label=r"$\frac{1}{2}\,\mathrm{E}\ln(1+\mathrm{Col})$")
        ax.plot(x, 0.5 * col("theory_collision"), ":", lw=1, color="C1", label="(theory)")
        ax.plot(x, col("d"), "v-", ms=2.5, lw=1, label=r"$d(f)$")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("nats")
        ax.set_title("(b) NS21's bound, term by term", fontsize="small")
        ax.legend(fontsize="xx-small", frameon=False, ncol=2, loc="upper center",
                  bbox_to_anchor=(0.5, -0.28))

        ax = axes[2]
        ax.plot(x, col("sup_all"), "o-", ms=2.5, lw=1, label=r"$L^\mu_\mathrm{sup}$ measured")
        ax.plot(x, col("ns21_sup_upper"), "s-", ms=2.5, lw=1, color="C3",
                label=r"NS21 bound on $L^\mu_\mathrm{sup}$")
        ax.set_yscale("log")
        ax.set_xlabel("optimiser step")
        ax.set_title("(c) supervised loss", fontsize="small")
        ax2 = ax.twinx()
        ax2.plot(x, [100 * w["mean_classifier_acc"] for w in wins], "d--", ms=2.5, lw=1,
                 color="C2", label="mean-clf. acc. (val.)")
        ax2.set_ylabel("accuracy (%)")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize="xx-small", frameon=False, ncol=2,
                  loc="upper center", bbox_to_anchor=(0.5, -0.28))
        for a in axes[:2]:
            a.set_xlim(0, x[-1] + steps_per_window / 2)
        paths = save_figure(fig, out / "moco_bound")
        plt.close(fig)
    return list(paths)


def summary(result: dict[str, Any], config: dict[str, Any]) -> str:
    """A few lines that say what the run shows."""
    wins = result["windows"]
    first, last = wins[0], wins[-1]
    r0, r1, tot = first["report"], last["report"], result["total"]
    gaps = [w["report"].margin for w in wins]
    diff = max(abs(w["report"].contrastive - w["train_loss"]) for w in wins)
    lines = [
        f"MoCo on digits: {config['epochs']} epochs x {config['steps_per_epoch']} steps, "
        f"batch {BATCH}, queue of {config['queue']} keys (K = {r1.K}), t = {TEMPERATURE}",
        f"L_Info   window 0 {r0.contrastive:.3f} -> window {last['window']} {r1.contrastive:.3f}"
        f"   (optimiser's loss {first['train_loss']:.3f} -> {last['train_loss']:.3f}; "
        f"largest difference {diff:.1e})",
        f"NS21 bound        {r0.ns21_bound:.3f} -> {r1.ns21_bound:.3f}; holds in "
        f"{sum(w['report'].holds for w in wins)} of {len(wins)} windows "
        f"(smallest gap {min(gaps):.3f})",
        f"terms, last window: upsilon {r1.upsilon:.3f} (theory {r1.theory_upsilon:.3f}), "
        f"tau {r1.tau:.3f} (theory {r1.theory_tau:.3f}), E ln(1+Col) {r1.collision:.3f} "
        f"(theory {r1.theory_collision:.3f}), d {r1.d:.3f}",
        f"mean-classifier accuracy {first['mean_classifier_acc']:.3f} -> "
        f"{last['mean_classifier_acc']:.3f}; NS21 bound on L_sup {r1.ns21_sup_upper:.2f} "
        f"(measured {r1.sup_all:.3f})",
        f"cumulative over all {tot.n_batches} batches: L_Info {tot.contrastive:.3f}, "
        f"NS21 bound {tot.ns21_bound:.3f} (mixes every stage of training: use windows)",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("moco-digits-output"),
                   help="output directory (default ./moco-digits-output)")
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK['epochs']} epochs, a queue of {QUICK['queue']} keys")
    p.add_argument("--epochs", type=int, default=None, help="epochs (= windows)")
    p.add_argument("--queue", type=int, default=None, help="keys in the queue (K)")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Train, measure, write the outputs, print the summary."""
    args = parse_args(argv)
    base = QUICK if args.quick else FULL
    epochs = base["epochs"] if args.epochs is None else args.epochs
    queue = base["queue"] if args.queue is None else args.queue
    if epochs < 1:
        raise SystemExit(f"--epochs must be >= 1, got {epochs}")
    t0 = time.perf_counter()
    try:
        result = run(epochs, queue, seed=args.seed, threads=args.threads)
    except ValueError as exc:
        raise SystemExit(f"moco_digits.py: {exc}") from None
    config = {"epochs": epochs, "queue": queue, "batch": BATCH, "temperature": TEMPERATURE,
              "momentum": MOMENTUM, "lr": LR, "seed": args.seed, "n_train": result["n_train"],
              "steps_per_epoch": result["n_train"] // BATCH, "n_aug_mean": N_AUG_MEAN}
    files = write_outputs(args.out, result, config)
    text = summary(result, config)
    print(text)
    print(f"wrote {', '.join(p.name for p in files)} to {args.out} "
          f"in {time.perf_counter() - t0:.1f} s")
    return {"result": result, "config": config, "files": files}


if __name__ == "__main__":
    main()
