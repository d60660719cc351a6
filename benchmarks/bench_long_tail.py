"""Long-tailed priors through the public API, with oracle errors in the same run.

Run ``python benchmarks/bench_long_tail.py`` (``--quick`` for a smaller run).
For CIFAR-100-LT (C = 100, n_i = floor(500 * 100^(-i/99)), i = 0..99), Zipf
C = 10^4 (p ~ 1/r) and Dirichlet(1) C = 10^5 (``numpy.random.default_rng(0)``)
it times the public functions:

* ``coverage_prob`` for one value: the first call (prior validation and the
  long-tail engine's set-up included) and a second call (best of three), with
  ``probs=`` and with a prebuilt ``Prior``;
* a 1,000-point curve as one vectorised call, and the same points one scalar
  call at a time (the maximum relative difference of the two is printed:
  targets within a standard deviation share one integral, so it is ~1e-14);
* ``required_negatives(confidence=0.99)`` and ``0.999999``, against the
  engine's own search (``couponbound._longtail.required_draws``);
* ``completion_time(prior).sf`` at a point in the far right tail;
* ``completion_time(prior).pmf`` at one point, in a subprocess with a timeout
  (``timeout`` is printed when it does not finish).

Errors are measured against oracles in the same run: the exact
zero-truncated-Poisson convolution (``tests/longtail_oracles.ztp_convolution``)
for CIFAR-100-LT; for every prior the engine with direct class sums and half
the quadrature step (:func:`reference`); for ``sf`` the Bonferroni bracket
``S1 - S2 <= 1 - upsilon <= S1 - S2 + S3``
(``tests/longtail_oracles.miss_bonferroni``, O(C^3): CIFAR-100-LT only) and,
for the large priors, ``S1 - S1^2/2 <= 1 - upsilon <= S1`` (``S2 <= S1^2/2``
since ``1 - a - b <= (1 - a)(1 - b)``) summed in mpmath.  Ratios are
"API time / other time" (below 1: the API is faster).  The done-when targets
of issue 12 (Dirichlet(1), C = 10^5) are then measured again in a fresh
process, so that its peak memory is theirs alone, and printed as PASS/FAIL.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import math
import resource
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

import couponbound._longtail as lt
from couponbound import Prior, completion_time, coverage_prob, log_coverage_prob, required_negatives

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from longtail_oracles import miss_bonferroni, ztp_convolution  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_coverage import timed  # noqa: E402

_coverage = importlib.import_module("couponbound.coverage")

#: issue 12's done-when targets for Dirichlet(1), C = 10^5
TARGET_ONE_S = 0.050
TARGET_CURVE_S = 2.0
TARGET_SEARCH_S = 1.0
TARGET_RSS_MB = 1024.0
ONE_K = {"CIFAR-100-LT": 2000, "Zipf": 2 * 10**5, "Dirichlet(1)": 2 * 10**6}


# ---------------------------------------------------------------------------
# the priors
# ---------------------------------------------------------------------------

def cifar_counts() -> np.ndarray:
    return np.floor(500 * 100.0 ** (-np.arange(100) / 99)).astype(np.int64)


def build(name: str) -> np.ndarray:
    """The prior's class probabilities (float64, summing to 1 within rounding)."""
    if name == "CIFAR-100-LT":
        c = cifar_counts()
        return c / c.sum()
    if name == "Zipf":
        w = 1.0 / np.arange(1, 10**4 + 1)
        return w / w.sum()
    if name == "Dirichlet(1)":
        return np.random.default_rng(0).dirichlet(np.ones(10**5))
    raise ValueError(name)


def exact_probs(name: str, p: np.ndarray) -> list[Fraction]:
    """Rational probabilities: the counts over their total, or the floats renormalised exactly."""
    if name == "CIFAR-100-LT":
        c = cifar_counts()
        total = int(c.sum())
        return [Fraction(int(k), total) for k in c]
    fr = [Fraction(float(x)) for x in p]
    s = sum(fr, Fraction(0))
    return [f / s for f in fr]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------



def rss_mb() -> float:
    """Peak resident memory of this process in MB: ``VmHWM`` (Linux; unlike ``ru_maxrss``
    it is not inherited across ``fork``/``exec`` from the parent), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def engine_prior(p: np.ndarray) -> lt.LongTailPrior:
    vals, mult = np.unique(p, return_counts=True)
    return lt.LongTailPrior(vals, mult.astype(float))


def reference(pr: lt.LongTailPrior, n: np.ndarray) -> np.ndarray:
    """The engine with direct class sums, no tail power series, and half the quadrature step."""
    ref = lt.LongTailPrior(pr.p, pr.w, direct_max=10**12)
    saved = lt._H, lt._SERIES
    lt._H, lt._SERIES = saved[0] / 2, False
    try:
        return lt.log_coverage_many(n, ref.p, ref.w, prior=ref)
    finally:
        lt._H, lt._SERIES = saved


def max_rel(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |a - b| / |b| (0 where both are 0)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    both_zero = (a == 0) & (b == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(both_zero, 0.0, np.abs(a - b) / np.abs(b))
    return float(np.max(r)) if r.size else 0.0


def miss_s1_bracket(n: int, probs: list[Fraction]) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(S1 - S1^2/2, S1)``, a bracket of ``1 - upsilon_n``, in O(C) mpmath work.

    ``S1 = sum_c (1 - p_c)^n``; ``S2 <= S1^2 / 2`` because ``1 - a - b <= (1 - a)(1 - b)``.
    Classes whose term is below ``e^-140`` times the largest are bounded, not
    summed (their total widens the upper end)."""
    pf = np.array([float(f) for f in probs])
    logs = n * np.log1p(-pf)
    top = float(logs.max())
    keep = np.flatnonzero(logs >= top - 140.0)
    dropped = len(probs) - keep.size
    with mpmath.workdps(40):
        s1 = mpmath.fsum(mpmath.power(1 - mpmath.mpf(probs[i].numerator) / probs[i].denominator, n)
                         for i in keep.tolist())
        slack = dropped * mpmath.exp(mpmath.mpf(top) - 140 + 1)
        return s1 - s1 * s1 / 2, s1 + slack


def far_tail_n(p: np.ndarray, log_s1: float) -> int:
    """About where ``log S1 = log_s1`` (the rarest class alone)."""
    return int(math.ceil(log_s1 / math.log1p(-float(p.min()))))


def ratio(a: float, b: float) -> str:
    return f"{a / b:.3g}" if b > 0 else "-"


def row(what: str, t: float | None, rat: str = "", note: str = "") -> None:
    tt = "" if t is None else (f"{t * 1e3:10.2f} ms" if t < 1 else f"{t:10.3f} s ")
    print(f"  {what:<46} {tt:>13} {rat:>10}  {note}")


# ---------------------------------------------------------------------------
# pmf and done-when targets in subprocesses
# ---------------------------------------------------------------------------

def pmf_worker(name: str, n: int) -> None:
    prior = Prior.from_probs(build(name))
    T = completion_time(prior)
    t, v = timed(lambda: T.pmf(n))
    print(json.dumps({"t": t, "v": v, "rss_mb": rss_mb()}))


def run_pmf(name: str, n: int, timeout: float) -> dict[str, Any] | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--pmf-worker", name, str(n)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return res


def targets_worker(points: int) -> None:
    """Issue 12's three Dirichlet(1) targets, in a fresh process (peak memory theirs alone)."""
    p = build("Dirichlet(1)")
    coverage_prob(2000, probs=build("CIFAR-100-LT"))  # first use of the code paths, another prior
    t_one, _ = timed(lambda: coverage_prob(ONE_K["Dirichlet(1)"], probs=p))
    prior = Prior.from_probs(p)
    t_search, k99 = timed(lambda: required_negatives(prior, confidence=0.99))
    ks = np.unique(np.linspace(prior.C - 1, 1.5 * k99, points).astype(np.int64))
    t_curve, _ = timed(lambda: coverage_prob(ks, prior))
    print(json.dumps({"one": t_one, "search": t_search, "curve": t_curve, "points": int(ks.size),
                      "rss_mb": rss_mb()}))


# ---------------------------------------------------------------------------
# one prior
# ---------------------------------------------------------------------------

def case(name: str, quick: bool, pmf_timeout: float) -> dict[str, float]:
    p = build(name)
    C = p.size
    K1 = ONE_K[name]
    print(f"\n== {name}: C = {C}, {np.unique(p).size} distinct probabilities, "
          f"smallest {p.min():.3g}")
    print(f"  {'task':<46} {'time':>13} {'API/other':>10}  result")
    _coverage._LONGTAIL_CACHE.clear()
    # --- one value ---
    t_first, v1 = timed(lambda: coverage_prob(K1, probs=p))
    t_second, _ = timed(lambda: coverage_prob(K1, probs=p), repeat=3)
    prior = Prior.from_probs(p)
    t_prior, _ = timed(lambda: coverage_prob(K1, prior), repeat=3)
    lv1 = float(log_coverage_prob(K1, prior))
    row(f"coverage_prob(K = {K1}), first call", t_first, "", f"upsilon = {v1:.12g}")
    row("  second call, probs= (best of 3)", t_second, ratio(t_second, t_first), "vs first call")
    row("  second call, a Prior (best of 3)", t_prior, ratio(t_prior, t_first),
        f"log upsilon = {lv1:.15g}")
    # --- required_negatives ---
    epr = engine_prior(p)
    out: dict[str, float] = {"one": t_first}
    searches = {}
    for conf in (0.99, 0.999999):
        t_rn, k_rn = timed(functools.partial(required_negatives, prior, confidence=conf))
        t_eng, n_eng = timed(functools.partial(lt.required_draws, conf, prior=epr))
        agree = "same K" if n_eng - 1 == k_rn else f"engine K = {n_eng - 1}"
        row(f"required_negatives(confidence={conf})", t_rn, ratio(t_rn, t_eng),
            f"K = {k_rn} (vs engine search: {agree}, {t_eng * 1e3:.1f} ms)")
        searches[conf] = k_rn
        if conf == 0.99:
            out["search"] = t_rn
    k99 = searches[0.99]
    # --- curve ---
    points = 200 if quick else 1000
    ks = np.unique(np.linspace(C - 1, 1.5 * k99, points).astype(np.int64))
    t_curve, curve = timed(lambda: coverage_prob(ks, prior))
    t_scalar, scal = timed(lambda: np.array([coverage_prob(int(k), prior) for k in ks]))
    nz = int(np.count_nonzero(curve))
    row(f"curve, {ks.size} points (one vectorised call)", t_curve, "",
        f"K = {ks[0]}..{ks[-1]}, {nz} values > 0")
    row("  the same points one scalar call at a time", t_scalar, ratio(t_curve, t_scalar),
        f"max rel diff vectorised vs scalar {max_rel(curve, scal):.1e}")
    # the same in log: where upsilon ~ 1e-160 its relative difference is the absolute
    # difference of log upsilon (~ 1e-15 of |log upsilon| each way)
    lv = log_coverage_prob(ks, prior)
    ls = np.array([log_coverage_prob(int(k), prior) for k in ks])
    fin = np.isfinite(ls)
    dlog = np.abs(lv[fin] - ls[fin])
    print(f"    log upsilon, vectorised vs scalar: max |diff| {float(dlog.max()):.1e}, "
          f"max |diff| / max(1, |log upsilon|) "
          f"{float(np.max(dlog / np.maximum(1.0, np.abs(ls[fin])))):.1e}")
    out["curve"] = t_curve
    # --- sf in the far right tail ---
    n_far = far_tail_n(p, math.log(1e-40))
    T = completion_time(prior)
    t_sf, sf = timed(lambda: T.sf(n_far), repeat=3)
    _, lsf = timed(lambda: T.logsf(n_far))
    row(f"completion_time.sf(n = {n_far})", t_sf, "", f"sf = {sf:.15g}")
    # --- oracles ---
    print("  -- errors against oracles (same run)")
    fr = exact_probs(name, p)
    if C <= 100:
        t_or, (lo, hi) = timed(lambda: miss_bonferroni(n_far, fr))
        kind = "Bonferroni S1-S2 <= 1-u <= S1-S2+S3 (miss_bonferroni)"
    else:
        t_or, (lo, hi) = timed(lambda: miss_s1_bracket(n_far, fr))
        kind = "bracket S1 - S1^2/2 <= 1-u <= S1 (mpmath)"
    with mpmath.workdps(60):
        mid = (lo + hi) / 2
        width = float((hi - lo) / mid)
        err = float(abs(mpmath.mpf(lsf) - mpmath.log(mid)) / abs(mpmath.log(mid)))
        err_sf = float(abs(mpmath.mpf(sf) / mid - 1))
    wtxt = f"{width:.1e}" if width > 0 else "< 1e-60"
    row(f"  sf oracle: {kind}", t_or, ratio(t_sf, t_or),
        f"bracket rel width {wtxt}; rel err sf {err_sf:.1e}, logsf {err:.1e}")
    sample = ks[np.linspace(0, ks.size - 1, 4 if quick else 10).astype(int)]
    sample = np.unique(np.concatenate([sample[sample >= C], [K1]]))
    t_api, ours = timed(lambda: np.asarray(log_coverage_prob(sample, prior)))
    t_ref, ref = timed(lambda: reference(epr, sample + 1))
    fin = np.isfinite(ref)
    d_log = np.abs(ours[fin] - ref[fin])
    rel_log = float(np.max(d_log / np.maximum(np.abs(ref[fin]), 1e-300)))
    rel_u = float(np.max(np.abs(np.expm1(d_log))))
    row(f"  direct sums, half step ({sample.size} points)", t_ref, ratio(t_api, t_ref),
        f"max rel err log u {rel_log:.1e}, of u {rel_u:.1e}")
    out["err_ref"] = rel_log
    if name == "CIFAR-100-LT":
        pf = [float(f) for f in fr]
        for n in ([301, K1 + 1] if quick else [301, K1 + 1, 4001]):
            t_o, o_mp = timed(functools.partial(ztp_convolution, n, pf))
            t_a, a_api = timed(functools.partial(log_coverage_prob, n - 1, prior), repeat=3)
            o, a = float(o_mp), float(a_api)
            row(f"  ZTP convolution, n = {n}", t_o, ratio(t_a, t_o),
                f"rel err log u {abs(a - o) / abs(o):.1e}, log u = {o:.12g}")
    # --- pmf in a subprocess ---
    n_pmf = k99 + 1
    res = run_pmf(name, n_pmf, pmf_timeout)
    if res is None:
        row(f"completion_time.pmf(n = {n_pmf}) in a subprocess", None, "",
            f"timeout (> {pmf_timeout:.0f} s)")
    else:
        s0, s1 = np.asarray(T.sf([n_pmf - 1, n_pmf])).tolist()
        diff = s0 - s1
        bound = 1e-12 * s0 / res["v"] if res["v"] > 0 else math.inf
        row(f"completion_time.pmf(n = {n_pmf}) in a subprocess", res["t"], "",
            f"pmf = {res['v']:.12g}; vs sf(n-1) - sf(n): {abs(res['v'] - diff) / res['v']:.1e} "
            f"(that difference good to ~{bound:.0e}); worker RSS {res['rss_mb']:.0f} MB")
    print(f"  peak RSS of this process so far: {rss_mb():.0f} MB")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200-point curves, fewer oracle points")
    ap.add_argument("--pmf-worker", nargs=2, metavar=("PRIOR", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--targets-worker", type=int, metavar="POINTS", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.pmf_worker:
        pmf_worker(args.pmf_worker[0], int(args.pmf_worker[1]))
        return
    if args.targets_worker:
        targets_worker(args.targets_worker)
        return
    pmf_timeout = 30.0 if args.quick else 120.0
    results = {name: case(name, args.quick, pmf_timeout) for name in ONE_K}
    print(f"\npeak RSS of this process: {rss_mb():.0f} MB")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--targets-worker", "1000"]
    runs = [json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True,
                                      timeout=600).stdout.strip().splitlines()[-1])
            for _ in range(1 if args.quick else 3)]
    # best of the fresh processes (the machine's load only ever adds time); memory: the largest
    fresh = {key: min(r[key] for r in runs) for key in ("one", "search", "curve")}
    fresh["points"] = runs[0]["points"]
    fresh["rss_mb"] = max(r["rss_mb"] for r in runs)
    d = results["Dirichlet(1)"]
    print(f"\nissue 12 done-when, Dirichlet(1) C = 10^5: best of {len(runs)} fresh process(es), each "
          "after one call on\nanother prior; this run's figure in brackets")
    rows = [
        ("one value K = 2*10^6, first call", fresh["one"], d["one"], TARGET_ONE_S),
        (f"{fresh['points']}-point curve", fresh["curve"], d["curve"] if not args.quick else math.nan,
         TARGET_CURVE_S),
        ("required_negatives(confidence=0.99)", fresh["search"], d["search"], TARGET_SEARCH_S),
    ]
    for what, t, t_run, target in rows:
        verdict = "PASS" if t <= target else "FAIL"
        run = f"({t_run:.3f} s)" if math.isfinite(t_run) else "(-)"
        print(f"  {what:<38} {t:9.3f} s  {run:>11}  target <= {target:g} s  {verdict}")
    verdict = "PASS" if fresh["rss_mb"] <= TARGET_RSS_MB else "FAIL"
    print(f"  {'peak RSS of that process':<38} {fresh['rss_mb']:7.0f} MB {'':>11}  target <= "
          f"{TARGET_RSS_MB:.0f} MB  {verdict}")


if __name__ == "__main__":
    main()
