"""Overhead of BoundMonitor against computing the contrastive loss alone.

Run ``python benchmarks/bench_monitor.py [--repeats 40] [--threads 1] [--skip-lightning]``.
Every number is a ratio to a baseline measured in the same run (medians of
interleaved repeats, float32); BLAS and torch run single-threaded (the
environment is set before numpy is imported) unless ``--threads`` says
otherwise, and every timed function runs a few times first (imports, caches,
the allocator warm):

0. Start-up and the test of non-random batches.  ``u`` is one numpy pass of
   ``log1p(-exp(-x)).sum()`` over 10^5 values.  The first
   ``BoundMonitor.update`` in a fresh process (no scipy import on its path),
   in units of ``u`` measured in that process (median over fresh processes).
   Target: ``<= 50 u``.  A MoCo queue filling over 16 steps (B = 256 per
   step, up to M = 4,096 keys: 16 queue lengths, each a new theory and a new
   null variance) with the default ``warn_nonrandom=True`` against
   ``warn_nonrandom=False``, each run on a fresh monitor.  Target: ``<= 3``.

1. In-batch InfoNCE (K + 1 = 1024 anchors, d = 128, C = 100): ``update``
   (which computes the loss and every other term of NS21's measurement
   protocol) and ``update_losses`` against the InfoNCE loss alone, written
   natively.  Target: ``update / infonce <= 1.5``.
2. A MoCo queue (B = 256 anchors, M = 4,096 keys, d = 128, C = 100):
   ``update(..., negatives=queue, negative_labels=queue_labels)`` against the
   queue InfoNCE alone (``l_pos = q.k``, ``l_neg = q queue^T``, cross-entropy
   over ``[l_pos, l_neg] / t``, with the queries and keys normalised and the
   queue stored normalised, as MoCo does).  Target: ``<= 1.3``.
3. The Lightning callback: small contrastive models (an MLP 64-256-128, whose
   step is little more than the InfoNCE loss itself, and a small CNN on
   3x16x16 images: two 3x3 convolutions with 16 and 32 channels, pooling, a
   linear projection to 128), batch 256, in-batch InfoNCE, SGD, trained for a
   fixed number of steps with and without ``BoundMonitorCallback(every_n_steps=10)``
   (CSV logger, logging every 10 steps).  Target: the callback adds ``<= 20 %``
   to a small model's step.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # single-threaded BLAS, set before numpy loads it
    _THREADS = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1])
                     if a == "--threads"), "1")
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _THREADS

import argparse
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from couponbound.training import BoundMonitor

N, D, C, T = 1024, 128, 100, 0.5
QB, QM = 256, 4096


def make_batch(n: int = N, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(C, D))
    y = rng.integers(0, C, n)
    z0 = (centers[y] + rng.normal(size=(n, D))).astype(np.float32)
    z1 = (centers[y] + rng.normal(size=(n, D))).astype(np.float32)
    zbar = (0.5 * (z0 / np.linalg.norm(z0, axis=1, keepdims=True)
                   + z1 / np.linalg.norm(z1, axis=1, keepdims=True))).astype(np.float32)
    mu = np.stack([zbar[y == c].mean(axis=0) if np.any(y == c) else np.zeros(D, np.float32)
                   for c in range(C)])
    return z0, z1, y, zbar, mu


def make_queue(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = np.random.default_rng(0).normal(size=(C, D))
    ql = rng.integers(0, C, QM)
    keys = centers[ql] + rng.normal(size=(QM, D))
    keys /= np.linalg.norm(keys, axis=1, keepdims=True)
    return keys.astype(np.float32), ql


def infonce_numpy(z0: np.ndarray, z1: np.ndarray) -> float:
    a = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    b = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    logits = (a @ b.T) / T
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - np.diagonal(logits)))


def queue_infonce_numpy(q: np.ndarray, k: np.ndarray, queue: np.ndarray) -> float:
    a = q / np.linalg.norm(q, axis=1, keepdims=True)
    b = k / np.linalg.norm(k, axis=1, keepdims=True)
    logits = np.concatenate([np.sum(a * b, axis=1, keepdims=True), a @ queue.T], axis=1) / T
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - logits[:, 0]))


def timeit(funcs: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    for f in funcs.values():  # warm up (caches, first-call imports, thread pools)
        for _ in range(3):
            f()
    samples: dict[str, list[float]] = {k: [] for k in funcs}
    for _ in range(repeats):
        for name, f in funcs.items():
            t0 = time.perf_counter()
            f()
            samples[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in samples.items()}


#: Run in a fresh interpreter: u, then the first update of a new monitor, in seconds.
_FIRST_UPDATE = """
import time
import numpy as np
big = np.ones(2_000_000)  # the allocator warm: glibc's mmap threshold moves to 16 MB
del big
x = np.random.default_rng(0).random(100_000) + 0.01
for _ in range(5):
    np.log1p(-np.exp(-x)).sum()
ts = []
for _ in range(101):
    t0 = time.perf_counter()
    np.log1p(-np.exp(-x)).sum()
    ts.append(time.perf_counter() - t0)
u = sorted(ts)[50]
from couponbound.training import BoundMonitor
rng = np.random.default_rng(0)
mu = rng.normal(size=(10, 16))
mu /= 2 * np.linalg.norm(mu, axis=1, keepdims=True)
y = rng.integers(0, 10, 64)
z0, z1 = rng.normal(size=(64, 16)), rng.normal(size=(64, 16))
mon = BoundMonitor(10, 0.5, class_means=mu)
t0 = time.perf_counter()
mon.update(z0, z1, y)
t = time.perf_counter() - t0
import sys
print(u, t, int(any(m == "scipy.stats" or m.startswith("scipy.stats.") for m in sys.modules)))
"""


def bench_first_update(processes: int) -> dict[str, float]:
    """The first update in a fresh process, in units of u measured in that process."""
    ratios, us, ts, stats = [], [], [], 0
    for _ in range(processes):
        out = subprocess.run([sys.executable, "-c", _FIRST_UPDATE], capture_output=True,
                             text=True, check=True, env=os.environ.copy()).stdout.split()
        u, t, st = float(out[0]), float(out[1]), int(out[2])
        ratios.append(t / u)
        us.append(u)
        ts.append(t)
        stats += st
    return {"ratio": statistics.median(ratios), "u": statistics.median(us),
            "t": statistics.median(ts), "scipy_stats": stats}


def bench_queue_fill(repeats: int) -> dict[str, float]:
    """A MoCo queue filling over 16 steps, with and without the test of non-random batches."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(C, D))
    y = rng.integers(0, C, QB)
    z0 = (centers[y] + rng.normal(size=(QB, D))).astype(np.float32)
    z1 = (centers[y] + rng.normal(size=(QB, D))).astype(np.float32)
    ql = rng.integers(0, C, QM)
    keys = (centers[ql] + rng.normal(size=(QM, D))).astype(np.float32)
    mu = centers / (2 * np.linalg.norm(centers, axis=1, keepdims=True))

    def fill(warn: bool) -> None:
        mon = BoundMonitor(C, T, class_means=mu, warn_nonrandom=warn)
        for step in range(1, QM // QB + 1):
            m = step * QB
            mon.update(z0, z1, y, negatives=keys[:m], negative_labels=ql[:m])

    return timeit({"warn": lambda: fill(True), "quiet": lambda: fill(False)}, repeats)


def bench_numpy(repeats: int) -> dict[str, float]:
    z0, z1, y, zbar, mu = make_batch()
    mon = BoundMonitor(C, T, class_means=mu, warn_nonrandom=False)
    con = np.full(N, 2.0)
    qz0, qz1, qy, qzbar, _ = make_batch(QB, seed=2)
    keys, ql = make_queue()
    qmon = BoundMonitor(C, T, class_means=mu, warn_nonrandom=False)
    return timeit({
        "infonce": lambda: infonce_numpy(z0, z1),
        "update": lambda: mon.update(z0, z1, y, zbar),
        "update_losses": lambda: mon.update_losses(contrastive=con, sup=con, sub=con, d=-con,
                                                   labels=y, in_batch=True),
        "queue_infonce": lambda: queue_infonce_numpy(qz0, qz1, keys),
        "queue_update": lambda: qmon.update(qz0, qz1, qy, qzbar, negatives=keys,
                                            negative_labels=ql),
    }, repeats)


def bench_torch(repeats: int) -> dict[str, float] | None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    z0n, z1n, yn, zbarn, mu = make_batch()
    z0, z1, y, zbar = (torch.from_numpy(a) for a in (z0n, z1n, yn, zbarn))
    target = torch.arange(N)
    mon = BoundMonitor(C, T, class_means=mu, warn_nonrandom=False)
    qz0, qz1, qy, qzbar = (torch.from_numpy(a) for a in make_batch(QB, seed=2)[:4])
    keys_n, ql_n = make_queue()
    keys, ql = torch.from_numpy(keys_n), torch.from_numpy(ql_n)
    qmon = BoundMonitor(C, T, class_means=mu, warn_nonrandom=False)
    zeros = torch.zeros(QB, dtype=torch.long)

    def infonce() -> float:
        with torch.no_grad():
            logits = F.normalize(z0, dim=1) @ F.normalize(z1, dim=1).T / T
            return float(F.cross_entropy(logits, target))

    def queue_infonce() -> float:  # MoCo's loss (the queue is stored normalised)
        with torch.no_grad():
            q, k = F.normalize(qz0, dim=1), F.normalize(qz1, dim=1)
            logits = torch.cat([(q * k).sum(1, keepdim=True), q @ keys.T], dim=1) / T
            return float(F.cross_entropy(logits, zeros))

    con = torch.full((N,), 2.0)
    return timeit({
        "infonce": infonce,
        "update": lambda: mon.update(z0, z1, y, zbar),
        "update_losses": lambda: mon.update_losses(contrastive=con, sup=con, sub=con, d=-con,
                                                   labels=y, in_batch=True),
        "queue_infonce": queue_infonce,
        "queue_update": lambda: qmon.update(qz0, qz1, qy, qzbar, negatives=keys,
                                            negative_labels=ql),
    }, repeats)


def bench_lightning(steps: int, rounds: int, model: str = "mlp") -> dict[str, float] | None:
    """Seconds per training step with and without the callback (medians over rounds)."""
    try:
        import lightning.pytorch as pl
        import torch
        import torch.nn.functional as F
        from lightning.pytorch.loggers import CSVLogger

        from couponbound.training.lightning import BoundMonitorCallback
    except ImportError:
        return None
    import logging

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    n, Cs = 256, 10
    shape = (64,) if model == "mlp" else (3, 16, 16)
    gen = torch.Generator().manual_seed(0)
    centers = torch.randn(Cs, *shape, generator=gen)
    y_all = torch.randint(0, Cs, (n * steps,), generator=gen)
    x_all = centers[y_all] + torch.randn(n * steps, *shape, generator=gen)
    data = torch.utils.data.TensorDataset(x_all, y_all)
    nn = torch.nn

    class Model(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            if model == "mlp":
                self.enc: Any = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128))
            else:
                self.enc = nn.Sequential(
                    nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                    nn.Flatten(), nn.Linear(32 * 4 * 4, 128))

        def training_step(self, batch: Any, batch_idx: int) -> dict[str, Any]:
            x, y = batch
            z0 = self.enc(x + 0.1 * torch.randn_like(x))
            z1 = self.enc(x + 0.1 * torch.randn_like(x))
            logits = F.normalize(z0) @ F.normalize(z1).T / T
            loss = F.cross_entropy(logits, torch.arange(len(y)))
            return {"loss": loss, "anchor": z0, "positive": z1, "labels": y}

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    mu = np.random.default_rng(0).normal(size=(Cs, 128)) * 0.05

    def run(with_callback: bool) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            callbacks = ([BoundMonitorCallback(BoundMonitor(Cs, T, class_means=mu),
                                               every_n_steps=10)] if with_callback else [])
            trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1,
                                 logger=CSVLogger(tmp), log_every_n_steps=10,
                                 enable_checkpointing=False, enable_progress_bar=False,
                                 enable_model_summary=False, callbacks=callbacks,
                                 num_sanity_val_steps=0)
            loader = torch.utils.data.DataLoader(data, batch_size=n, shuffle=True)
            t0 = time.perf_counter()
            trainer.fit(Model(), loader)
            return (time.perf_counter() - t0) / steps

    run(False)
    run(True)  # warm up
    without, with_cb = [], []
    for _ in range(rounds):
        without.append(run(False))
        with_cb.append(run(True))
    return {"without": statistics.median(without), "with": statistics.median(with_cb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads and torch.set_num_threads (default 1)")
    parser.add_argument("--processes", type=int, default=7,
                        help="fresh processes timing the first update")
    parser.add_argument("--lightning-steps", type=int, default=100,
                        help="training steps per run (the CNN runs a fifth of them)")
    parser.add_argument("--lightning-rounds", type=int, default=3)
    parser.add_argument("--skip-lightning", action="store_true")
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} cores, load average {load:.2f} at the start "
          "(other processes inflate medians of short kernels)")
    first = bench_first_update(args.processes)
    print(f"first update in a fresh process: {1e3 * first['t']:.1f} ms = {first['ratio']:.1f} u "
          f"(u = {1e3 * first['u']:.3f} ms; median of {args.processes} processes; "
          f"scipy.stats imported in {first['scipy_stats']} of them)  target <= 50 u")
    fill = bench_queue_fill(max(3, args.repeats // 8))
    print(f"queue filling over {QM // QB} steps (B = {QB}, M up to {QM}): "
          f"{1e3 * fill['warn']:.0f} ms with warn_nonrandom=True, "
          f"{1e3 * fill['quiet']:.0f} ms without: {fill['warn'] / fill['quiet']:.2f}x  "
          "target <= 3")
    print(f"in-batch: K+1 = {N}; queue: B = {QB}, M = {QM}; d = {D}, C = {C}, float32; "
          f"medians of {args.repeats} interleaved runs")
    print("targets: update/infonce <= 1.5, queue update/loss <= 1.3")
    print(f"{'library':<8}{'infonce [ms]':>14}{'update/infonce':>16}{'update_losses/infonce':>23}"
          f"{'queue loss [ms]':>17}{'queue update/loss':>19}")
    for name, bench in (("numpy", bench_numpy), ("torch", bench_torch)):
        res = bench(args.repeats)
        if res is None:
            print(f"{name:<8}{'(not installed)':>14}")
            continue
        base, qbase = res["infonce"], res["queue_infonce"]
        print(f"{name:<8}{1e3 * base:>14.3f}{res['update'] / base:>16.2f}"
              f"{res['update_losses'] / base:>23.2f}{1e3 * qbase:>17.3f}"
              f"{res['queue_update'] / qbase:>19.2f}")
    if not args.skip_lightning:
        for model, steps in (("mlp", args.lightning_steps),
                             ("cnn", max(20, args.lightning_steps // 5))):
            lt = bench_lightning(steps, args.lightning_rounds, model)
            if lt is None:
                print("lightning: (not installed)")
                break
            print(f"lightning {model}: {1e3 * lt['without']:.2f} ms/step without the callback, "
                  f"{1e3 * lt['with']:.2f} ms/step with it (every_n_steps=10): "
                  f"{100 * (lt['with'] / lt['without'] - 1):+.1f} %")


if __name__ == "__main__":
    main()
