"""Speed and accuracy of ``coverage_prob`` against other ways to compute it.

Run ``python benchmarks/bench_coverage.py`` (``--quick`` for a smaller run).
Every timing is taken in this process, and every method's maximum relative
error is measured against an exact / high-precision oracle on sample points:

1. the whole curve upsilon_{K+1}, K = 0..10^5, uniform C = 1000, against
   a vectorised O(K C) Markov-chain DP (docs: math-coverage), naive float
   inclusion-exclusion, a pure-Python DP, mpmath inclusion-exclusion and Monte
   Carlo (the last three on samples, per point);
2. one value at C = 10^5, K = 1.2 10^6;
3. a non-uniform prior, C = 1000 classes with an ImageNet-like histogram of
   class sizes (732..1300 images), the curve for K <= 2 10^4, checked against
   the Cauchy integral evaluated by mpmath quadrature at 30 digits.

The printed ratios are "other method's time / couponbound's time".
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from couponbound import coverage_prob, log_coverage_prob

mpmath.mp.dps = 30


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best = math.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


# ---------------------------------------------------------------------------
# competitors
# ---------------------------------------------------------------------------

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


def naive_ie(n: np.ndarray, C: int) -> np.ndarray:
    """Inclusion-exclusion in float64 (docs: math-coverage), vectorised over n."""
    out = np.zeros(n.shape)
    for i in range(C + 1):
        out += (-1) ** i * math.comb(C, i) * (1.0 - i / C) ** n.astype(float)
    return out


def python_dp(n: int, C: int) -> float:
    p = [0.0] * (C + 1)
    p[0] = 1.0
    for _ in range(n):
        new = [0.0] * (C + 1)
        for j in range(C + 1):
            if p[j]:
                new[j] += p[j] * j / C
                if j < C:
                    new[j + 1] += p[j] * (C - j) / C
        p = new
    return p[C]


def mp_ie_log(n: int, C: int, digits: int = 20) -> mpmath.mpf:
    """Oracle: inclusion-exclusion in mpmath at adaptive precision (log)."""
    if n < C:
        return mpmath.mpf("-inf")
    logs = [math.lgamma(C + 1) - math.lgamma(i + 1) - math.lgamma(C - i + 1) + n * math.log1p(-i / C)
            for i in range(C)]
    top = max(logs) / math.log(10)
    extra = 20
    while True:
        prec = digits + extra + int(top) + 10
        with mpmath.workdps(prec):
            acc = mpmath.mpf(0)
            for i in range(C):
                if logs[i] / math.log(10) < top - prec - 5:
                    continue
                t = mpmath.binomial(C, i) * (mpmath.mpf(C - i) / C) ** n
                acc += t if i % 2 == 0 else -t
            if acc > 0:
                lost = top - float(mpmath.log10(acc))
                if lost + digits + 5 <= prec:
                    return mpmath.log(acc)
            else:
                lost = prec
        extra = int(lost) + 20


def monte_carlo(n: int, C: int, trials: int, rng: np.random.Generator) -> float:
    hits = 0
    for _ in range(trials):
        hits += len(np.unique(rng.integers(0, C, size=n))) == C
    return hits / trials


def max_rel_err(values: np.ndarray, ref_logs: list[Any], floor: float = 1e-300) -> float:
    """Max relative error over reference points whose value float64 can hold."""
    worst = 0.0
    for v, lr in zip(values, ref_logs, strict=True):
        ref = float(mpmath.exp(lr))
        if ref < floor:
            continue
        with mpmath.workdps(40):
            err = abs(float(mpmath.mpf(float(v)) / mpmath.exp(lr) - 1)) if v > 0 else 1.0
        worst = max(worst, err)
    return worst


# ---------------------------------------------------------------------------
# non-uniform reference: Cauchy integral by mpmath quadrature
# ---------------------------------------------------------------------------

def mp_cauchy_log(n: int, probs_groups: list[tuple[float | Fraction, int]]) -> mpmath.mpf:
    """log upsilon_n = log( n!/(2 pi r^n) int F(r e^{i t}) e^{-i n t} dt ), F = prod (e^{p z} - 1)^k,
    r the saddle point; mpmath Gauss-Legendre on [0, pi] split finely near 0."""
    ps = [mpmath.mpf(p.numerator) / p.denominator if isinstance(p, Fraction) else mpmath.mpf(p)
          for p, _ in probs_groups]
    ks = [k for _, k in probs_groups]

    def mean(r: mpmath.mpf) -> mpmath.mpf:
        return sum(k * p * r / (-mpmath.expm1(-p * r)) for p, k in zip(ps, ks, strict=True))

    lo, hi = mpmath.mpf(1e-6), mpmath.mpf(10 * n)
    for _ in range(200):
        mid = mpmath.sqrt(lo * hi)
        if mean(mid) < n:
            lo = mid
        else:
            hi = mid
    r = mpmath.sqrt(lo * hi)
    var = sum(k * (p * r / (-mpmath.expm1(-p * r))) * (1 + p * r - p * r / (-mpmath.expm1(-p * r)))
              for p, k in zip(ps, ks, strict=True))
    sig = mpmath.sqrt(var)
    logF_r = sum(k * mpmath.log(mpmath.expm1(p * r)) for p, k in zip(ps, ks, strict=True))

    def integrand(t: mpmath.mpf) -> mpmath.mpf:
        z = r * mpmath.expj(t)
        lg = sum(k * mpmath.log(mpmath.expm1(p * z)) for p, k in zip(ps, ks, strict=True))
        return mpmath.re(mpmath.exp(lg - logF_r - 1j * n * t))

    pts = [mpmath.mpf(0)] + [j / sig for j in (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 14, 20, 30, 40)]
    pts = [p for p in pts if p < mpmath.pi] + [mpmath.pi]
    integral = mpmath.quad(integrand, pts, method="gauss-legendre")
    return mpmath.loggamma(n + 1) + logF_r - n * mpmath.log(r) + mpmath.log(integral / mpmath.pi)


# ---------------------------------------------------------------------------

def bench_uniform_curve(K_max: int, C: int, quick: bool) -> None:
    print(f"\n[1] whole curve upsilon_{{K+1}}, K = 0..{K_max}, uniform C = {C}")
    K = np.arange(K_max + 1)
    t_cb, ours = timed(lambda: coverage_prob(K, C), repeat=3)
    t_dp, dp = timed(lambda: markov_dp(K_max + 1, C)[1:], repeat=1)
    t_ie, ie = timed(lambda: naive_ie(K + 1, C), repeat=1)
    # oracle on sample points: dense in the left tail, spread over the rest
    sample = np.unique(np.concatenate([
        np.linspace(C - 1, 3 * C * math.log(C), 25 if quick else 50).astype(int),
        np.geomspace(C, K_max, 10 if quick else 20).astype(int),
    ]))
    sample = sample[sample <= K_max]
    t_or, ref = timed(lambda: [mp_ie_log(int(k) + 1, C) for k in sample])
    # per-point methods, on a few points
    few = sample[:: max(1, len(sample) // (4 if quick else 8))]
    mid = np.flatnonzero((ours > 0.05) & (ours < 0.95))
    mc_pts = mid[np.linspace(0, mid.size - 1, 4).astype(int)]
    t_py, py = timed(lambda: [python_dp(int(k) + 1, C) for k in few[:2]])
    t_cb_py, _ = timed(lambda: [coverage_prob(int(k), C) for k in few[:2]], repeat=3)
    rng = np.random.default_rng(0)
    trials = 2000 if quick else 10000
    t_mc, mc = timed(lambda: [monte_carlo(int(k) + 1, C, trials, rng) for k in mc_pts])
    t_cb_mc, _ = timed(lambda: [coverage_prob(int(k), C) for k in mc_pts], repeat=3)
    ref_few = [mp_ie_log(int(k) + 1, C) for k in few]
    ref_mc = [mp_ie_log(int(k) + 1, C) for k in mc_pts]
    print(f"  {'method':<34} {'time':>10} {'ratio':>10} {'max rel err':>12}")
    rows = [
        ("couponbound.coverage_prob (curve)", t_cb, 1.0, max_rel_err(ours[sample], ref)),
        ("vectorised Markov DP (curve)", t_dp, t_dp / t_cb, max_rel_err(dp[sample], ref)),
        ("naive float IE (curve)", t_ie, t_ie / t_cb, max_rel_err(ie[sample], ref)),
        (f"mpmath IE ({len(sample)} points)", t_or, t_or / t_cb, 0.0),
        (f"pure-Python DP ({2} points) vs ours", t_py, t_py / t_cb_py,
         max_rel_err(np.array(py), ref_few[:2])),
        (f"Monte Carlo {trials} ({len(mc_pts)} pts) vs ours", t_mc, t_mc / t_cb_mc,
         max_rel_err(np.array(mc), ref_mc)),
    ]
    for name, t, ratio, err in rows:
        print(f"  {name:<34} {t:>9.4f}s {ratio:>10.1f} {err:>12.2e}")
    print(f"  speed-up over the vectorised DP: {t_dp / t_cb:.1f}x (target >= 5x)")
    lt = log_coverage_prob(C - 1, C)
    print(f"  far left tail kept in log space: log upsilon_C = {lt:.6f} "
          f"(exact {float(mp_ie_log(C, C)):.6f}); the DP and float IE give 0 or garbage there")


def bench_single_large(C: int, K: int) -> None:
    print(f"\n[2] one value, C = {C}, K = {K}")
    t, v = timed(lambda: coverage_prob(K, C), repeat=5)
    ref = mp_ie_log(K + 1, C)
    err = abs(float(mpmath.mpf(v) / mpmath.exp(ref) - 1))
    t_mp, _ = timed(lambda: mp_ie_log(K + 1, C))
    print(f"  couponbound: {v:.15g} in {t * 1e3:.2f} ms (target <= 20 ms); rel err {err:.1e}")
    print(f"  mpmath IE oracle: {t_mp * 1e3:.1f} ms (ratio {t_mp / t:.0f})")


def imagenet_like_counts(seed: int = 0) -> np.ndarray:
    """1000 classes, 1300 images for most, 732..1299 for 15 %: ImageNet-1k's shape."""
    rng = np.random.default_rng(seed)
    counts = np.full(1000, 1300)
    counts[:150] = rng.integers(732, 1300, size=150)
    return counts


def bench_nonuniform(K_max: int, quick: bool) -> None:
    counts = imagenet_like_counts()
    probs = counts / counts.sum()
    vals, mult = np.unique(probs, return_counts=True)
    print(f"\n[3] non-uniform: C = 1000, ImageNet-like counts ({len(vals)} distinct sizes), "
          f"K = 0..{K_max}")
    K = np.arange(K_max + 1)
    t_cb, ours = timed(lambda: coverage_prob(K, counts=counts), repeat=2)
    # exact probabilities: float ones summing to 1 + 1e-16 would move upsilon_n by ~n * 1e-16
    sizes, size_mult = np.unique(counts, return_counts=True)
    total = int(counts.sum())
    groups: list[tuple[float | Fraction, int]] = [
        (Fraction(int(c), total), int(k)) for c, k in zip(sizes, size_mult, strict=True)]
    sample = np.unique(np.linspace(1200, K_max, 3 if quick else 6).astype(int))
    with mpmath.workdps(20):
        t_ref, ref = timed(lambda: [mp_cauchy_log(int(k) + 1, groups) for k in sample])
    err = max_rel_err(ours[sample], ref, floor=0.0)
    # the same curve on the grouped FFT path (one FFT per band of targets), which
    # coverage_prob used for this prior before the long-tail engine took over
    # priors with >= 32 distinct probabilities: faster on dense curves, less exact
    import couponbound.coverage as cov

    saved = cov._LONGTAIL_MIN_GROUPS
    cov._LONGTAIL_MIN_GROUPS = 10**9
    try:
        t_fft, fft = timed(lambda: coverage_prob(K, counts=counts), repeat=2)
    finally:
        cov._LONGTAIL_MIN_GROUPS = saved
    err_fft = max_rel_err(fft[sample], ref, floor=0.0)
    rng = np.random.default_rng(1)
    trials = 500 if quick else 2000
    mid = np.flatnonzero((ours[sample] > 0.05) & (ours[sample] < 0.95))
    mc_idx = mid if mid.size else np.arange(len(sample))[-2:]
    mc_pts = sample[mc_idx]
    t_mc, mc = timed(lambda: [np.mean([len(np.unique(rng.choice(1000, size=int(k) + 1, p=probs))) == 1000
                                       for _ in range(trials)]) for k in mc_pts])
    err_mc = max_rel_err(np.array(mc), [ref[i] for i in mc_idx], floor=0.0)
    print(f"  couponbound curve (long-tail engine, one integral per band): {t_cb:.3f} s; "
          f"max rel err vs mpmath Cauchy integral on {len(sample)} points: {err:.1e} (target 1e-12)")
    print(f"  grouped FFT path (one FFT per band):  {t_fft:.3f} s (ratio {t_fft / t_cb:.2f}); "
          f"max rel err {err_fft:.1e}")
    print(f"  mpmath Cauchy integral: {t_ref / len(sample):.2f} s per point "
          f"(ratio per point {t_ref / len(sample) / (t_cb / len(K)):.0f})")
    print(f"  Monte Carlo {trials} batches x {len(mc_pts)} points: {t_mc:.2f} s, max rel err {err_mc:.1e}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about 20 s)")
    args = ap.parse_args()
    if args.quick:
        bench_uniform_curve(20_000, 300, quick=True)
        bench_single_large(100_000, 1_200_000)
        bench_nonuniform(10_000, quick=True)
    else:
        bench_uniform_curve(100_000, 1000, quick=False)
        bench_single_large(100_000, 1_200_000)
        bench_nonuniform(20_000, quick=False)


if __name__ == "__main__":
    main()
