"""Speed and accuracy of the distinct-class count (``couponbound.occupancy``).

Run ``python benchmarks/bench_occupancy.py`` (``--quick`` for fewer repeats).
Every method is timed in this process, interleaved (one repeat of each method
in turn), with the same number of repeats, and the median is reported; every
error is measured against an exact oracle in the same run:

1. ``E[D]`` for a Dirichlet(1) prior with ``C = 10^5`` at batch sizes from
   256 to 10^7 (the unfavourable points included), against the floor ``u``
   (one numpy pass of ``log1p(-exp(-x)).sum()`` over 10^5 values, allocator
   warm, one thread) and a naive ``sum(1 - (1 - p)**n)``; errors against
   ``mpmath`` at 40 digits;
2. the whole pmf (every value float64 holds) for a uniform prior against the
   O(n C) Markov-chain dynamic programme, and for Dirichlet(1) / Zipf(1.1)
   priors with ``C = 1000`` at small, middle and large batches, with its
   sum and mean checked against 1 and the closed-form ``E[D]``; exact integer
   counting for a 14-class prior gives the error of every value;
3. one pmf value of a uniform prior with ``C = 10^6``;
4. ``required_negatives(..., classes=m)`` for a uniform prior (checked
   against the dynamic programme's answer), CIFAR-100-LT without replacement
   and a Dirichlet prior; and Monte Carlo (``rvs``) as the method a user would
   otherwise reach for, with its error.

Ratios are "other method's time / couponbound's time" unless stated.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import mpmath  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import couponbound as cb  # noqa: E402
from couponbound.paper.datasets import dataset  # noqa: E402
from tests import occupancy_oracles as oracle  # noqa: E402


def interleaved(methods: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[float, Any]]:
    """Median time and last result of each method, one repeat of each in turn."""
    times: dict[str, list[float]] = {k: [] for k in methods}
    out: dict[str, Any] = {}
    for fn in methods.values():  # one untimed call each: imports and caches of first use
        fn()
    for _ in range(repeats):
        for name, fn in methods.items():
            t0 = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - t0)
    return {k: (statistics.median(v), out[k]) for k, v in times.items()}


def floor_unit(repeats: int) -> float:
    """u: one numpy pass of log1p(-exp(-x)).sum() over 1e5 values, allocator warm."""
    big = np.ones(2_000_000)  # 16 MB: glibc's mmap threshold moves to it (above 32 MB it would not)
    del big
    x = np.random.default_rng(0).random(100_000) * 5 + 1e-3
    return interleaved({"u": lambda: np.log1p(-np.exp(-x)).sum()}, max(repeats, 21))["u"][0]


def markov_pmf(n: int, C: int) -> np.ndarray:
    """P(D_n = j), j = 0..C, uniform prior: the O(n C) Markov chain on the number seen."""
    p = np.zeros(C + 1)
    p[0] = 1.0
    j = np.arange(C + 1)
    stay = j / C
    move = (C - j + 1) / C
    for _ in range(n):
        new = p * stay
        new[1:] += p[:-1] * move[1:]
        p = new
    return p


def section(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    reps = 3 if args.quick else 7
    u = floor_unit(reps)
    print(f"floor u = one numpy pass over 1e5 values: {u * 1e3:.3f} ms")
    rng = np.random.default_rng(0)

    # 1. E[D], Dirichlet C = 1e5 -----------------------------------------------
    section("1. E[D], Dirichlet(1) prior, C = 10^5")
    p = rng.dirichlet(np.ones(100_000))
    prior = cb.Prior.from_probs(p)
    cb.expected_classes(0, prior)  # groups once (the prior's one-time set-up)
    mpmath.mp.dps = 40
    mp_p = [mpmath.mpf(float(v)) for v in prior.probs]
    for n in (256, 10_000, 1_000_000, 10_000_000):
        res = interleaved({
            "couponbound": lambda n=n: cb.expected_classes(n - 1, prior),
            "naive sum(1-(1-p)**n)": lambda n=n: float(np.sum(1.0 - (1.0 - prior.probs) ** n)),
        }, reps)
        exact = float(mpmath.fsum(1 - (1 - q) ** n for q in mp_p))
        t_cb, v_cb = res["couponbound"]
        t_nv, v_nv = res["naive sum(1-(1-p)**n)"]
        print(f"  n = {n:>9,}: couponbound {t_cb * 1e3:7.3f} ms = {t_cb / u:5.1f} u, "
              f"rel. err {abs(v_cb - exact) / exact:.1e} | naive {t_nv * 1e3:7.3f} ms, "
              f"rel. err {abs(v_nv - exact) / exact:.1e}")

    # 2a. whole pmf, uniform, against the Markov DP --------------------------------
    section("2a. whole pmf, uniform prior, against the O(n C) Markov DP (same run)")
    for C, K in ((100, 299), (1000, 999), (1000, 2999), (1000, 9999)):
        def ours(C: int = C, K: int = K) -> tuple[int, np.ndarray]:
            return cb.distinct_classes(K, C)._window()

        res = interleaved({"couponbound": ours, "Markov DP": lambda C=C, K=K: markov_pmf(K + 1, C)},
                          reps)
        (t_cb, (a, lp)), (t_dp, dp) = res["couponbound"], res["Markov DP"]
        js = np.arange(a, a + lp.size)
        ok = dp[js] > 1e-290
        err = float(np.max(np.abs(np.exp(lp[ok]) - dp[js][ok]) / dp[js][ok]))
        print(f"  C = {C:>5}, K+1 = {K + 1:>6}: {lp.size} values; couponbound {t_cb * 1e3:7.1f} ms, "
              f"DP {t_dp * 1e3:7.1f} ms (DP / couponbound {t_dp / t_cb:5.2f}x); "
              f"max rel. difference {err:.1e}")
    ex = oracle.uniform_pmf(300, 100)
    lp = cb.distinct_classes(299, 100).logpmf(np.arange(101))
    dp = markov_pmf(300, 100)
    e_cb = max(abs(lp[j] - float(mpmath.log(mpmath.mpf(ex[j].numerator) / ex[j].denominator)))
               / max(1.0, abs(lp[j])) for j in range(1, 101))
    e_dp = max(abs(dp[j] - float(ex[j])) / float(ex[j]) for j in range(1, 101) if ex[j] > 1e-290)
    print(f"  exact (Stirling numbers), C = 100, K+1 = 300: couponbound log-pmf error {e_cb:.1e} "
          f"at every j (down to pmf {float(min(x for x in ex if x > 0)):.1e}); DP relative "
          f"error {e_dp:.1e} where it does not underflow")

    # 2b. whole pmf, non-uniform, C = 1000 ---------------------------------------------
    section("2b. whole pmf (every value float64 holds), non-uniform, C = 1000")
    zipf = 1.0 / np.arange(1, 1001) ** 1.1
    priors = {"Dirichlet(1)": cb.Prior.from_probs(rng.dirichlet(np.ones(1000))),
              "Zipf(1.1)": cb.Prior.from_probs(zipf / zipf.sum())}
    for label, pr in priors.items():
        med = cb.completion_time(pr).median()
        for K in (255, 2047, med - 1):
            def whole(pr: cb.Prior = pr, K: int = K) -> tuple[int, np.ndarray]:
                return cb.distinct_classes(K, pr)._window()

            res = interleaved({"couponbound": whole}, max(1, reps // 2))
            t, (a, lp) = res["couponbound"]
            D = cb.distinct_classes(K, pr)
            total = float(np.sum(np.exp(lp)))
            mean = float(np.sum(np.arange(a, a + lp.size) * np.exp(lp)))
            print(f"  {label:>12}, K+1 = {K + 1:>6}: {lp.size:4d} values in {t:6.3f} s; "
                  f"|sum - 1| = {abs(total - 1):.1e}, |mean - E[D]| / E[D] = "
                  f"{abs(mean - D.mean()) / D.mean():.1e}")
    w = [int(x) for x in rng.integers(1, 9, size=14)]
    worst = 0.0
    for n in (5, 14, 40, 90):
        ex = oracle.weighted_pmf(w, n)
        lp = cb.distinct_classes(n - 1, counts=w).logpmf(np.arange(15))
        for j in range(1, min(n, 14) + 1):
            ref = float(mpmath.log(mpmath.mpf(ex[j].numerator) / ex[j].denominator))
            worst = max(worst, abs(lp[j] - ref) / max(1.0, abs(ref)))
    print(f"  exact integer counting, 14 classes of weights {w}, n = 5..90: worst log-pmf error "
          f"{worst:.1e}")

    # 3. one value, uniform C = 1e6 -------------------------------------------------------
    section("3. one pmf value, uniform C = 10^6")
    for K, j in ((999_999, 632_000), (4_999_999, 993_300), (99, 99)):
        res = interleaved({"couponbound": lambda K=K, j=j: cb.distinct_classes(K, 10**6).logpmf(j)},
                          reps)
        t, v = res["couponbound"]
        print(f"  K+1 = {K + 1:>9,}, j = {j:>7,}: {t * 1e3:6.2f} ms  (log pmf {v:.6g})")

    # 4. required_negatives(classes=) ---------------------------------------------------------
    section("4. required_negatives(..., classes=m), 99 %")
    C, m = 1000, 900

    def dp_answer() -> int:
        pvec = np.zeros(C + 1)
        pvec[0] = 1.0
        j = np.arange(C + 1)
        n = 0
        while True:
            n += 1
            new = pvec * (j / C)
            new[1:] += pvec[:-1] * ((C - j[:-1]) / C)
            pvec = new
            if pvec[m:].sum() >= 0.99:
                return n - 1

    res = interleaved({"couponbound": lambda: cb.required_negatives(C, classes=m),
                       "Markov DP (step until reached)": dp_answer}, max(1, reps // 2))
    (t_cb, k_cb), (t_dp, k_dp) = res["couponbound"], res["Markov DP (step until reached)"]
    print(f"  uniform C = 1000, m = 900: K = {k_cb} in {t_cb * 1e3:.1f} ms; DP K = {k_dp} in "
          f"{t_dp * 1e3:.1f} ms (DP / couponbound {t_dp / t_cb:.2f}x); agree: {k_cb == k_dp}")
    lt = dataset("CIFAR-100-LT (r=100)").with_replacement(False)
    for m in (50, 90, 99):
        res = interleaved({"couponbound": lambda m=m: cb.required_negatives(lt, classes=m)},
                          max(1, reps // 2))
        t, k = res["couponbound"]
        print(f"  CIFAR-100-LT (r=100), shuffled loader, m = {m:>3}: K = {k:>5} in {t * 1e3:7.1f} ms")
    pr = priors["Dirichlet(1)"]
    res = interleaved({"couponbound": lambda: cb.required_negatives(pr, classes=900)},
                      max(1, reps // 3))
    t, k = res["couponbound"]
    print(f"  Dirichlet(1) C = 1000, m = 900: K = {k} in {t:.2f} s")

    section("5. Monte Carlo (rvs) as a user's alternative, Dirichlet(1) C = 1000, K+1 = 2048")
    D = cb.distinct_classes(2047, pr)
    res = interleaved({"couponbound pmf window": lambda: D.__class__(D.K, D.prior)._window(),
                       "Monte Carlo 10^4 batches": lambda: D.rvs(10_000, random_state=1)},
                      max(1, reps // 2))
    (t_cb, _), (t_mc, x) = res["couponbound pmf window"], res["Monte Carlo 10^4 batches"]
    q95 = int(D.ppf(0.95))
    mc95 = float(np.mean(x <= q95))
    print(f"  couponbound {t_cb:.3f} s (exact); Monte Carlo {t_mc:.3f} s ({t_mc / t_cb:.1f}x) with "
          f"P(D <= {q95}) = {mc95:.4f} against the exact {float(D.cdf(q95)):.4f} "
          f"(standard error {math.sqrt(mc95 * (1 - mc95) / x.size):.4f})")


if __name__ == "__main__":
    main()
