"""
Watch NS21's bound in TensorBoard while Lightning trains on the digits
======================================================================

A small encoder is trained with the InfoNCE loss on scikit-learn's digits
(1,797 8x8 images, 10 classes, no download) by a Lightning ``Trainer`` with a
``TensorBoardLogger``.  :class:`couponbound.training.lightning.BoundMonitorCallback`
feeds a :class:`couponbound.BoundMonitor` from every training step and logs
the report of the batches since its previous log (a *window*) every few steps
under ``bound/``; at the end of every epoch it refits the class means with the
current encoder.  Afterwards the script

1. reads the event file back with TensorBoard's ``EventAccumulator``,
2. checks the logged numbers against the monitor's own report (the last
   window equals ``callback.last_report``; the windows, weighted by their
   batches, average to ``monitor.compute()``, the report over the whole run),
3. draws the bound against the measured loss over training with
   :func:`couponbound.paper.plots.plot_run_history` (``history.png``).

Run ``python examples/tensorboard_digits.py --out tb-digits`` (about half a
minute on a CPU), then ``tensorboard --logdir tb-digits`` to see the same
curves in TensorBoard.  Needs ``pip install "couponbound[tensorboard]"``
(torch, Lightning, TensorBoard, scikit-learn).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from couponbound import BoundMonitor
from couponbound.training import LOG_KEYS

TEMPERATURE = 0.5
NUM_CLASSES = 10
PREFIX = "bound/"


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(f"this example needs {module}: pip install 'couponbound[tensorboard]'")


def load_digits() -> tuple[Any, Any]:
    """The digits as float32 features in [0, 1] and int64 labels (torch tensors)."""
    torch = _need("torch")
    datasets = _need("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    return (torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y, dtype=torch.int64))


def make_module(x_all: Any, y_all: Any, lr: float) -> Any:
    """A LightningModule: an MLP encoder trained with InfoNCE on two noisy views."""
    torch = _need("torch")
    pl = _need("lightning.pytorch")
    F = torch.nn.functional

    class Digits(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(),
                                               torch.nn.Linear(128, 32))

        def embed(self, x: Any) -> Any:
            return F.normalize(self.encoder(x), dim=1)

        def _view(self, x: Any) -> Any:
            return (x + 0.15 * torch.randn_like(x)).clamp(0.0, 1.0)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            z0, z1 = self.embed(self._view(x)), self.embed(self._view(x))
            logits = z0 @ z1.T / TEMPERATURE  # NS21's InfoNCE: the other samples are negatives
            loss = F.cross_entropy(logits, torch.arange(len(y)))
            # what the callback feeds to BoundMonitor.update
            return {"loss": loss, "anchor": z0.detach(), "positive": z1.detach(), "labels": y}

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=lr)

    return Digits()


def class_mean_batches(module: Any, x_all: Any, y_all: Any) -> list[tuple[Any, Any]]:
    """One batch ``(features, labels)`` of the whole data set with the current encoder."""
    torch = _need("torch")
    with torch.no_grad():
        return [(module.embed(x_all), y_all)]


def read_scalars(logdir: Path) -> dict[str, list[Any]]:
    """Every scalar series of the run's event files, by logged name (TensorBoard's reader)."""
    acc_mod = _need("tensorboard.backend.event_processing.event_accumulator")
    acc = acc_mod.EventAccumulator(str(logdir), size_guidance={acc_mod.SCALARS: 0})
    acc.Reload()
    return {tag: list(acc.Scalars(tag)) for tag in acc.Tags()["scalars"]}


def run(out: Path, *, epochs: int = 8, batch_size: int = 64, every_n_steps: int = 5,
        lr: float = 3e-3, seed: int = 0) -> dict[str, Any]:
    """Train, log to TensorBoard, read the events back, check them and draw the history."""
    torch = _need("torch")
    pl = _need("lightning.pytorch")
    loggers = _need("lightning.pytorch.loggers")
    from couponbound.training.lightning import BoundMonitorCallback

    pl.seed_everything(seed, verbose=False)
    torch.set_num_threads(1)
    x_all, y_all = load_digits()
    module = make_module(x_all, y_all, lr)
    monitor = BoundMonitor(NUM_CLASSES, TEMPERATURE)
    monitor.fit_class_means(class_mean_batches(module, x_all, y_all))  # the untrained encoder

    callback = BoundMonitorCallback(
        monitor, every_n_steps=every_n_steps, prefix=PREFIX, log_keys=LOG_KEYS,
        refit_class_means=lambda trainer, m: class_mean_batches(m, x_all, y_all))
    logger = loggers.TensorBoardLogger(save_dir=str(out), name="digits", version=0,
                                       default_hp_metric=False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_all, y_all),
                                         batch_size=batch_size, shuffle=True, drop_last=True,
                                         generator=torch.Generator().manual_seed(seed))
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=logger,
                         callbacks=[callback], enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         log_every_n_steps=every_n_steps, deterministic=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*The number of training batches.*")
        trainer.fit(module, loader)
    logger.finalize("success")

    scalars = read_scalars(Path(logger.log_dir))
    contrastive = scalars[PREFIX + "contrastive"]
    bound = scalars[PREFIX + "ns21_bound"]
    n_batches = scalars[PREFIX + "n_batches"]
    # 1. the last logged window is the callback's last report (float32 in the event file)
    last = callback.last_report
    assert last is not None
    checks = {
        "last_contrastive": (contrastive[-1].value, last.contrastive),
        "last_ns21_bound": (bound[-1].value, last.ns21_bound),
        "last_upsilon": (scalars[PREFIX + "upsilon"][-1].value, last.upsilon),
    }
    # 2. the windows cover every batch once: their batch-weighted mean is the whole-run report
    weights = np.array([e.value for e in n_batches])
    whole = monitor.compute()
    checks["run_contrastive"] = (float(np.average([e.value for e in contrastive], weights=weights)),
                                 whole.contrastive)
    checks["run_batches"] = (float(weights.sum()), float(whole.n_batches))
    worst = max(abs(a - b) / max(abs(b), 1e-12) for a, b in checks.values())

    figure = out / "history.png"
    _draw(scalars, figure)
    holds = sum(b.value <= c.value for b, c in zip(bound, contrastive, strict=True))
    return {
        "logdir": str(logger.log_dir), "windows": len(contrastive), "figure": str(figure),
        "checks": {k: [float(a), float(b)] for k, (a, b) in checks.items()},
        "max_relative_difference": float(worst), "bound_holds_in": [int(holds), len(bound)],
        "first": {"step": contrastive[0].step, "contrastive": contrastive[0].value,
                  "ns21_bound": bound[0].value},
        "last": {"step": contrastive[-1].step, "contrastive": contrastive[-1].value,
                 "ns21_bound": bound[-1].value},
    }


def _draw(scalars: dict[str, list[Any]], path: Path) -> None:
    from matplotlib.figure import Figure

    from couponbound.paper.plots import plot_run_history
    from couponbound.paper.style import paper_style, save_figure

    with paper_style("neurips", 2):
        fig = Figure(layout="constrained")
        ax = plot_run_history(scalars, prefix=PREFIX, ax=fig.add_subplot())
        ax.set_title("digits, batch size 64: NS21's bound during training")
        save_figure(fig, path.with_suffix(""), ["png"])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description="NS21's bound in TensorBoard (digits, Lightning)")
    ap.add_argument("--out", default="tb-digits", help="log and figure directory")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--every", type=int, default=5, help="log every this many steps")
    args = ap.parse_args(argv)
    result = run(Path(args.out), epochs=args.epochs, every_n_steps=args.every)
    print(json.dumps(result, indent=2))
    if not result["max_relative_difference"] < 1e-6:
        sys.exit("the logged numbers differ from the monitor's report")
    print(f"\nTensorBoard: tensorboard --logdir {args.out}   figure: {result['figure']}")
    assert math.isfinite(result["max_relative_difference"])
    return result


if __name__ == "__main__":
    main()
