"""Overhead of BoundMonitor.update against computing the InfoNCE loss alone.

Run ``python benchmarks/bench_monitor.py [--repeats 40]``.  For each array
library it times, on the same batch (K + 1 = 1024 anchors, d = 128, C = 100
classes, float32):

- ``infonce``: the InfoNCE loss alone, written natively (normalise both views,
  ``z0 z1^T / t``, log-sum-exp per row minus the diagonal, mean);
- ``update``: ``BoundMonitor.update(anchor, positive, labels, mean_features)``,
  which computes that loss and every other term of NS21's measurement protocol;
- ``update_losses``: ``BoundMonitor.update_losses`` from per-anchor losses.

and prints each as a ratio to ``infonce`` measured in the same run (medians of
interleaved repeats).  The target is ``update / infonce <= 1.5``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from couponbound.training import BoundMonitor

N, D, C, T = 1024, 128, 100, 0.5


def make_batch(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(C, D))
    y = rng.integers(0, C, N)
    z0 = (centers[y] + rng.normal(size=(N, D))).astype(np.float32)
    z1 = (centers[y] + rng.normal(size=(N, D))).astype(np.float32)
    zbar = (0.5 * (z0 / np.linalg.norm(z0, axis=1, keepdims=True)
                   + z1 / np.linalg.norm(z1, axis=1, keepdims=True))).astype(np.float32)
    mu = np.stack([zbar[y == c].mean(axis=0) if np.any(y == c) else np.zeros(D, np.float32)
                   for c in range(C)])
    return z0, z1, y, zbar, mu


def infonce_numpy(z0: np.ndarray, z1: np.ndarray) -> float:
    a = z0 / np.linalg.norm(z0, axis=1, keepdims=True)
    b = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    logits = (a @ b.T) / T
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - np.diagonal(logits)))


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


def bench_numpy(repeats: int) -> dict[str, float]:
    z0, z1, y, zbar, mu = make_batch()
    mon = BoundMonitor(C, T, class_means=mu)
    con = np.full(N, 2.0)
    return timeit({
        "infonce": lambda: infonce_numpy(z0, z1),
        "update": lambda: mon.update(z0, z1, y, zbar),
        "update_losses": lambda: mon.update_losses(contrastive=con, sup=con, sub=con, d=-con,
                                                   labels=y),
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
    mon = BoundMonitor(C, T, class_means=mu)

    def infonce() -> float:
        with torch.no_grad():
            logits = F.normalize(z0, dim=1) @ F.normalize(z1, dim=1).T / T
            return float(F.cross_entropy(logits, target))

    con = torch.full((N,), 2.0)
    return timeit({
        "infonce": infonce,
        "update": lambda: mon.update(z0, z1, y, zbar),
        "update_losses": lambda: mon.update_losses(contrastive=con, sup=con, sub=con, d=-con,
                                                   labels=y),
    }, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads is not None:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    print(f"K+1 = {N}, d = {D}, C = {C}, float32; medians of {args.repeats} interleaved runs")
    print(f"{'library':<8}{'infonce [ms]':>14}{'update/infonce':>16}{'update_losses/infonce':>23}")
    for name, bench in (("numpy", bench_numpy), ("torch", bench_torch)):
        res = bench(args.repeats)
        if res is None:
            print(f"{name:<8}{'(not installed)':>14}")
            continue
        base = res["infonce"]
        print(f"{name:<8}{1e3 * base:>14.3f}{res['update'] / base:>16.2f}"
              f"{res['update_losses'] / base:>23.2f}")


if __name__ == "__main__":
    main()
