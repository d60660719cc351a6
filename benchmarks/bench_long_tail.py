"""Long-tailed priors: the new engine (couponbound._longtail) vs coverage_prob.

Run ``python benchmarks/bench_long_tail.py`` (``--skip-current`` to leave out
the current engine entirely).  For CIFAR-100-LT (C = 100, n_i = floor(500 *
100^(-i/99))), Zipf C = 10^4 (p ~ 1/r) and Dirichlet(1) C = 10^5 (seed 0) it
prints, in one run: the time of one value (prior set-up included), of a
1,000-point curve, of the search for the smallest K with upsilon_{K+1} >= 0.99
(``required_draws``),
the same for the current ``couponbound.coverage_prob`` where it finishes within
about 60 s (the others are skipped, using the issue's measured times), the
ratios, and the maximum relative error of log upsilon against a reference:
the exact zero-truncated-Poisson convolution (CIFAR-100-LT), and for the large
priors the engine itself with direct class sums, no tail power series and half
the quadrature step (twice the nodes), plus the current engine at the points
where it was run.  Peak memory (max RSS) is printed at the end.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import couponbound._longtail as lt
from couponbound import coverage_prob

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from longtail_oracles import ztp_convolution  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def search_099(pr: lt.LongTailPrior, C: int) -> int:
    """Smallest n with upsilon_n >= 0.99 (bracketed by the union and product bounds)."""
    return lt.required_draws(0.99, prior=pr)


def reference(pr: lt.LongTailPrior, n: np.ndarray) -> np.ndarray:
    """The engine with direct class sums, no tail power series, and half the quadrature step."""
    ref = lt.LongTailPrior(pr.p, pr.w, direct_max=10**12)
    saved = lt._H, lt._SERIES
    lt._H, lt._SERIES = saved[0] / 2, False
    try:
        return lt.log_coverage_many(n, ref.p, ref.w, prior=ref)
    finally:
        lt._H, lt._SERIES = saved


def rel(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def case(name: str, probs: np.ndarray, one_n: int, current: dict[str, bool], ztp_points: list[int]) -> None:
    print(f"\n== {name}: C = {probs.size}")
    C = probs.size

    def build() -> lt.LongTailPrior:
        vals, mult = np.unique(probs, return_counts=True)
        return lt.LongTailPrior(vals, mult.astype(float))

    def one() -> tuple[lt.LongTailPrior, float]:
        q = build()
        return q, float(lt.log_coverage_many(np.array([one_n]), q.p, q.w, prior=q)[0])

    t_one, (pr, v_one) = timed(one)
    print(f"one value, n = {one_n}: {t_one * 1e3:9.1f} ms  log upsilon = {v_one:.15g}")
    t_search, n99 = timed(lambda: search_099(pr, C))
    print(f"0.99 search: {t_search * 1e3:9.1f} ms  K = {n99 - 1}")
    curve_n = np.unique(np.linspace(C, int(1.5 * n99), 1000).astype(np.int64))
    t_curve, curve = timed(lambda: lt.log_coverage_many(curve_n, pr.p, pr.w, prior=pr))
    print(f"curve ({curve_n.size} points, n = {C}..{curve_n[-1]}): {t_curve:8.3f} s")
    sample = curve_n[:: max(1, curve_n.size // 12)]
    t_ref, ref = timed(lambda: reference(pr, sample))
    ours = lt.log_coverage_many(sample, pr.p, pr.w, prior=pr)
    finite = np.isfinite(ref)
    print(f"max rel err of log upsilon vs direct sums with half the step ({sample.size} points, "
          f"{t_ref:.1f} s): {rel(ours[finite], ref[finite]):.2e}")
    miss = lt.log_miss_many(sample[-3:], pr.p, pr.w, prior=pr)
    print(f"log(1 - upsilon) at the last three sample points: {miss}")
    for n in ztp_points:
        t_o, o = timed(lambda n=n: float(ztp_convolution(n, list(pr.p.repeat(pr.w.astype(int))))))
        ours_n = lt.log_coverage_many(np.array([n]), pr.p, pr.w, prior=pr)[0]
        err = abs(ours_n - o) / abs(o)
        print(f"  ZTP-convolution oracle n = {n}: rel err {err:.2e} (oracle {t_o:.1f} s)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if current.get("one"):
            t_cur, cur = timed(lambda: coverage_prob(one_n - 1, probs=probs))
            ours_u = math.exp(v_one)
            err = abs(ours_u - cur) / cur if cur > 0 else float("nan")
            print(f"current coverage_prob, one value: {t_cur * 1e3:9.1f} ms "
                  f"(ratio {t_cur / t_one:.1f}x), rel err of upsilon vs it {err:.2e}")
        else:
            print("current coverage_prob, one value: skipped (> 60 s, issue 12 D6)")
        if current.get("curve"):
            t_cur, cur = timed(lambda: coverage_prob(curve_n - 1, probs=probs))
            pos = cur > 1e-300
            print(f"current curve: {t_cur:8.3f} s (ratio {t_cur / t_curve:.1f}x), max rel err of upsilon "
                  f"vs it {rel(np.exp(curve[pos]), cur[pos]):.2e}")
        else:
            print("current curve: skipped (> 60 s, issue 12 D6)")
        if current.get("search"):
            from couponbound import required_negatives
            t_cur, k_cur = timed(lambda: required_negatives(probs=probs, confidence=0.99))
            print(f"current required_negatives: {t_cur * 1e3:9.1f} ms (ratio {t_cur / t_search:.1f}x), "
                  f"K = {k_cur} (ours {n99 - 1})")
        else:
            print("current required_negatives: skipped (> 60 s, issue 12 D9)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-current", action="store_true")
    args = ap.parse_args()
    on = not args.skip_current
    counts = np.floor(500 * 100.0 ** (-np.arange(100) / 99)).astype(float)
    case("CIFAR-100-LT", counts / counts.sum(), 2000,
         {"one": on, "curve": on, "search": on}, [300, 1500])
    w = 1.0 / np.arange(1, 10**4 + 1)
    case("Zipf", w / w.sum(), 2 * 10**5, {"one": on, "curve": False, "search": False}, [])
    p = np.random.default_rng(0).dirichlet(np.ones(10**5))
    case("Dirichlet(1)", p, 2 * 10**6, {"one": False, "curve": False, "search": False}, [])
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
