"""The engine's targets (issue 19), each as a measured ratio from one run.

Run ``python benchmarks/bench_engine.py`` (about two minutes on an idle machine; ``--quick`` for a
smoke run with fewer repeats).  BLAS and OpenMP are single-threaded (set
before numpy is imported).

The unit is the floor ``u``: one numpy pass of ``log1p(-exp(-x)).sum()`` over
10^5 values, with the allocator warm (a 16 MB array allocated and freed first,
which moves glibc's mmap threshold; cold, ``u`` is 3-4x slower).  Every measurement is the median of the
same number of repeats, and the methods compared with each other (and with
``u``) are run interleaved, round by round, in a rotating order, so that a
load change on the machine hits them alike.  The points are the unfavourable
ones: left tails, spread curves, priors of C = 10^3 (where the long-tail engine
used to pay an O(C x nodes) direct sum), the moments, and dense curves against
the vectorised O(K C) dynamic programme (docs: math-coverage).

A single-prior call is timed with the :class:`~couponbound.Prior` built once
(its validation is O(C)) and the engine's per-prior caches cleared before each
repeat, so the Chebyshev set-up is paid every time; ``cold`` rows also build
the prior from ``probs=`` on every call.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from couponbound import Prior, completion_time, coverage_prob, expected_draws  # noqa: E402

_coverage = __import__("couponbound.coverage", fromlist=["_"])


def clear_caches() -> None:
    """Forget every per-prior cache of the engine (moments, Chebyshev set-ups)."""
    _coverage._LONGTAIL_CACHE.clear()
    _coverage._LONGTAIL_LAST.clear()
    _coverage._MOMENTS_CACHE.clear()


Timed = Callable[[], Any] | tuple[Callable[[], Any], Callable[[], Any]]


def interleaved(fns: dict[str, Timed], repeats: int, warmup: bool = True) -> dict[str, float]:
    """Median seconds of each function over ``repeats`` rounds, run interleaved.

    A ``(prepare, fn)`` pair runs ``prepare`` untimed right before each timing
    of ``fn`` (to re-create the state ``fn`` is meant to see, e.g. warm caches).
    """
    names = list(fns)

    def parts(name: str) -> tuple[Callable[[], Any] | None, Callable[[], Any]]:
        f = fns[name]
        return (f[0], f[1]) if isinstance(f, tuple) else (None, f)

    for name in names if warmup else ():  # warm-up: first use of every code path
        prep, fn = parts(name)
        if prep is not None:
            prep()
        fn()
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            prep, fn = parts(name)
            if prep is not None:
                prep()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


X_FLOOR = np.random.default_rng(0).exponential(size=100_000) * 5.0


def warm_allocator() -> None:
    """Allocate and free a 16 MB array: glibc then raises its mmap threshold to that size,
    so the 0.8 MB temporaries of ``u`` (and of the engine) come from the heap instead of
    fresh page-faulting mappings.  A cold floor is 3-4x slower and flatters every ratio.
    (An array above 32 MB would not move the threshold.)"""
    big = np.ones(2_000_000)
    del big


def floor() -> float:
    return float(np.log1p(-np.exp(-X_FLOOR)).sum())


def markov_dp(n_max: int, C: int) -> np.ndarray:
    """Vectorised Markov chain on the number of distinct classes (docs: math-coverage)."""
    p = np.zeros(C + 1)
    p[0] = 1.0
    j = np.arange(C + 1)
    stay = j / C
    move = (C - j + 1) / C
    out = np.empty(n_max + 1)
    out[0] = p[C]
    for n in range(1, n_max + 1):
        new = p * stay
        new[1:] += p[:-1] * move[1:]
        p = new
        out[n] = p[C]
    return out


RESULTS: list[tuple[str, float, str, bool]] = []


def target(what: str, value: float, op: str, limit: float, unit: str = "u") -> None:
    ok = value <= limit if op == "<=" else value >= limit
    RESULTS.append((what, value, f"{op} {limit:g} {unit}", ok))
    print(f"  {what:<62} {value:10.3g} {unit:<3} target {op} {limit:<6g} {'PASS' if ok else 'FAIL'}",
          flush=True)


def info(what: str, value: float, unit: str = "u") -> None:
    print(f"  {what:<62} {value:10.3g} {unit}", flush=True)


def dirichlet(C: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(C))


def zipf(C: int, s: float = 1.1) -> np.ndarray:
    p = 1.0 / np.arange(1, C + 1) ** s
    return p / p.sum()


def single_point(name: str, p: np.ndarray | int, K: int, limit: float, reps: int) -> None:
    prior = Prior.uniform(p) if isinstance(p, int) else Prior.from_probs(p)

    def warm() -> None:
        clear_caches()
        coverage_prob(K, prior)

    def prime() -> None:  # the state after a first call with this prior
        clear_caches()
        coverage_prob(K + 1, prior)

    fns: dict[str, Timed] = {"u": floor, "warm": warm}
    if not isinstance(p, int):
        fns["cold"] = lambda: (clear_caches(), coverage_prob(K, probs=p))
        fns["cached"] = (prime, lambda: coverage_prob(K, prior))
    t = interleaved(fns, reps)
    if isinstance(p, int):
        target(f"{name}: one point K = {K}", t["warm"] / t["u"], "<=", limit)
    else:
        target(f"{name}: one point K = {K}, prior seen before", t["cached"] / t["u"], "<=", limit)
        info("    the same, the engine's set-up (Chebyshev moments) included", t["warm"] / t["u"])
        info("    the same, cold (Prior.from_probs on every call)", t["cold"] / t["u"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    reps = 3 if args.quick else 9
    warm_allocator()
    big_reps = 1 if args.quick else 3
    t_u = interleaved({"u": floor}, 21)["u"]
    print(f"floor u = one numpy pass of log1p(-exp(-x)).sum() over 1e5 values: {t_u * 1e3:.3f} ms")
    print(f"(medians of {reps} interleaved repeats; {big_reps} for the Dirichlet curve, "
          "1 for the Zipf curve and the scalar loops)\n")

    print("single points")
    C = 100_000
    single_point("uniform C = 1e5, left tail", C, 901_292, 2, reps)
    k_med = completion_time(C).median() - 1
    single_point("uniform C = 1e5, bulk (median)", C, k_med, 1, reps)
    for name, p, limit in (("Dirichlet(1) C = 1e3", dirichlet(1000), 3),
                           ("Zipf(1.1) C = 1e3", zipf(1000), 3),
                           ("Dirichlet(1) C = 1e5", dirichlet(100_000), 10)):
        k_med = completion_time(probs=p).median() - 1
        single_point(f"{name}, median", p, k_med, limit, reps)

    print("\ncurves, C = 1e5")
    pd = dirichlet(100_000)
    prior_d = Prior.from_probs(pd)
    ks = np.unique(np.geomspace(1e5, 1e12, 1000).astype(np.int64))

    def geo() -> None:
        clear_caches()
        coverage_prob(ks, prior_d)

    t = interleaved({"u": floor, "curve": geo}, big_reps, warmup=False)
    target(f"Dirichlet(1): {ks.size}-point geometric curve K = 1e5..1e12", t["curve"] / t["u"], "<=", 1000)
    pz = zipf(100_000)
    prior_z = Prior.from_probs(pz)
    Tz = completion_time(prior_z)
    # K spread over the quantiles 0.0005 .. 0.9995 of T: exact quantiles at 11
    # levels, linear in between
    levels = np.array([0.0005, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.9995])
    qk = np.array([Tz.ppf(float(q)) for q in levels], dtype=float)
    kz = np.unique(np.interp(np.linspace(0.0005, 0.9995, 1000), levels, qk).astype(np.int64)) - 1

    def zc() -> None:
        clear_caches()
        coverage_prob(kz, prior_z)

    def zl() -> None:
        clear_caches()
        for k in kz.tolist():
            coverage_prob(k, prior_z)

    t = interleaved({"u": floor, "vec": zc, "loop": zl}, 1, warmup=False)
    target(f"Zipf(1.1): {kz.size} quantile-spread points, vectorised", t["vec"] / t["u"], "<=", 2000)
    target("Zipf(1.1): vectorised / scalar loop", t["vec"] / t["loop"], "<=", 1, unit="x")
    t = interleaved({"u": floor, "vec": geo,
                     "loop": lambda: (clear_caches(), [coverage_prob(k, prior_d) for k in ks.tolist()])},
                    1, warmup=False)
    target("Dirichlet(1) geometric curve: vectorised / scalar loop", t["vec"] / t["loop"], "<=", 1, unit="x")

    print("\nmoments, Dirichlet(1) C = 1e5")

    def ed() -> None:
        clear_caches()
        expected_draws(prior_d)

    T = completion_time(prior_d)
    T.mean()
    t = interleaved({"u": floor, "ed": ed, "again": T.mean,
                     "var": lambda: (clear_caches(), completion_time(prior_d).var())}, reps)
    target("expected_draws (engine set-up included)", t["ed"] / t["u"], "<=", 20)
    target("a second CompletionTime.mean()", t["again"] / t["u"], "<=", 1)
    info("  Var[T] on a new CompletionTime (set-up included)", t["var"] / t["u"])

    print("\ndense uniform curves against the vectorised DP (ratio DP time / couponbound time)")
    for C_, kmax, limit in ((1000, 100_000, 10), (100, 1260, 2)):
        K = np.arange(kmax + 1)
        t = interleaved({"cb": lambda C_=C_, K=K: coverage_prob(K, C_),
                         "dp": lambda C_=C_, kmax=kmax: markov_dp(kmax + 1, C_)},
                        big_reps if C_ == 1000 else reps)
        ref = markov_dp(kmax + 1, C_)[1:]
        got = coverage_prob(K, C_)
        pos = ref > 1e-300
        err = float(np.max(np.abs(got[pos] / ref[pos] - 1)))
        target(f"uniform C = {C_}, K = 0..{kmax}: DP / couponbound (max rel diff {err:.1e})",
               t["dp"] / t["cb"], ">=", limit, unit="x")

    fails = [r for r in RESULTS if not r[3]]
    print(f"\n{len(RESULTS) - len(fails)} of {len(RESULTS)} targets hold" +
          ("" if not fails else "; FAIL: " + "; ".join(r[0] for r in fails)))


if __name__ == "__main__":
    main()
