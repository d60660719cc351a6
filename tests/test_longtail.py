"""The long-tail coverage engine (couponbound._longtail) against independent oracles.

References, per test: grouped inclusion-exclusion in mpmath (few distinct
probabilities, both tails), the exact zero-truncated-Poisson convolution (many
distinct probabilities), Bonferroni brackets in mpmath (far right tail), and
for C = 10^5 the engine's direct class sums (no Chebyshev moments) and the
current saddle engine of coverage.py.  Run with ``-W error::RuntimeWarning``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from longtail_oracles import cover_circle_mp, grouped_ie, miss_bonferroni, miss_circle_mp, ztp_convolution

from couponbound._longtail import LongTailPrior, log_coverage_many, log_miss_many

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def rel(a: float, b: mpmath.mpf) -> float:
    return float(abs((mpmath.mpf(a) - b) / b))


TWO_LEVEL = ([Fraction(1, 50), Fraction(1, 10)], [25, 5])
THREE_LEVEL = ([Fraction(1, 200), Fraction(3, 200), Fraction(3, 50)], [20, 20, 10])


@pytest.mark.parametrize("levels", [TWO_LEVEL, THREE_LEVEL])
@pytest.mark.parametrize("n", [31, 51, 80, 150, 300, 600, 1500, 5000])
def test_grouped_ie_both_tails(levels, n):
    probs, mult = levels
    C = sum(mult)
    n = max(n, C + 1)  # the first point just above the minimum degree
    p = np.array([float(x) for x in probs])
    m = np.array(mult)
    exact = grouped_ie(n, probs, mult)
    miss = grouped_ie(n, probs, mult, miss=True)
    lu = log_coverage_many(np.array([n]), p, m)[0]
    lm = log_miss_many(np.array([n]), p, m)[0]
    assert rel(lu, mpmath.log(exact)) < 1e-12 or abs(lu - float(mpmath.log(exact))) < 1e-14
    assert rel(math.exp(lm), miss) < 1e-12


def test_min_degree_and_below():
    p = np.array([0.2, 0.3, 0.5])
    out = log_coverage_many(np.array([1, 2, 3]), p, np.ones(3))
    assert out[0] == -math.inf and out[1] == -math.inf
    assert out[2] == pytest.approx(math.log(6 * 0.2 * 0.3 * 0.5), rel=1e-15)
    miss = log_miss_many(np.array([2]), p, np.ones(3))
    assert miss[0] == 0.0


@pytest.mark.parametrize("seed", range(4))
def test_far_right_tail_bonferroni(seed):
    """1 - upsilon down to 1e-300 and below: the Bonferroni bracket is far narrower than 1e-12."""
    rng = np.random.default_rng(seed)
    w = rng.integers(1, 40, size=12)
    probs = [Fraction(int(x), int(w.sum())) for x in w]
    p = np.array([float(x) for x in probs])
    for n in [2000, 20000, 200000]:
        lo, hi = miss_bonferroni(n, probs)
        assert (hi - lo) < 1e-14 * lo
        lm = log_miss_many(np.array([n]), p, np.ones(p.size))[0]
        assert abs(lm - float(mpmath.log(lo))) < 1e-12 * max(1.0, abs(float(mpmath.log(lo))))


@pytest.mark.parametrize("seed", range(3))
def test_many_distinct_ztp_convolution(seed):
    rng = np.random.default_rng(seed)
    C = 80
    p = rng.dirichlet(np.ones(C) * 0.7)
    mean_t = sum(1.0 / x for x in p) / C  # crude scale of the coverage time
    for n in sorted({C + 5, int(3 * C), int(C * math.log(C) * 2), int(min(1200, mean_t))}):
        if n < C or n > 1500:
            continue
        oracle = ztp_convolution(n, list(p))
        lu = log_coverage_many(np.array([n]), p, np.ones(C))[0]
        assert rel(lu, oracle) < 1e-12, (n, lu, oracle)


def test_zipf_convolution():
    C = 100
    w = 1.0 / np.arange(1, C + 1)
    p = w / w.sum()
    for n in [120, 400, 1000, 2000]:
        oracle = ztp_convolution(n, list(p))
        lu = log_coverage_many(np.array([n]), p, np.ones(C))[0]
        assert rel(lu, oracle) < 1e-12, (n, lu, oracle)


def agree(vec: np.ndarray, one: np.ndarray) -> bool:
    """Vectorised and scalar logs agree to 1e-13 relative in the value (1e-13 of |log| far out)."""
    both = np.isfinite(one)
    return bool(np.all(np.isfinite(vec) == both)
                and np.all(np.abs(vec[both] - one[both]) <= 1e-13 * np.maximum(1.0, np.abs(one[both]))))


def test_vectorised_agrees_with_scalar():
    """A dense curve is served by bands of one integral each (targets within one standard
    deviation of where it is taken); every value agrees with its own scalar evaluation."""
    p = np.array([1e-4, 3e-4, 0.2, 0.7997])
    n = np.concatenate([np.arange(4, 60), np.arange(990, 1400), np.arange(20000, 20500), [80000]])
    vec = log_coverage_many(n, p, np.ones(4))
    vec_m = log_miss_many(n, p, np.ones(4))
    one = np.array([log_coverage_many(np.array([ni]), p, np.ones(4))[0] for ni in n])
    one_m = np.array([log_miss_many(np.array([ni]), p, np.ones(4))[0] for ni in n])
    assert agree(vec, one) and agree(vec_m, one_m)


@pytest.mark.parametrize("seed", [3, 4])
def test_band_targets_against_ztp_convolution(seed):
    """Targets away from the band's centre, against the exact convolution."""
    p = np.random.default_rng(seed).dirichlet(np.full(40, 0.5))
    pr = LongTailPrior(p, np.ones(40))
    n = np.arange(300, 420)  # a dense window: several targets per integral
    got = log_coverage_many(n, p, np.ones(40), prior=pr)
    for k in (0, 17, 45, 80, 119):
        assert rel(got[k], ztp_convolution(int(n[k]), list(p))) < 1e-13


def test_moments_agree_with_direct_sums_large_g():
    """Chebyshev class sums vs direct sums over 20,000 classes (same integral, other summation)."""
    p = np.random.default_rng(7).dirichlet(np.ones(20000))
    fast = LongTailPrior(p, np.ones(p.size))
    direct = LongTailPrior(p, np.ones(p.size), direct_max=10**9)
    n = np.array([30000, 100000, 10**6, 10**7, 10**8])
    a = log_coverage_many(n, p, np.ones(p.size), prior=fast)
    b = log_coverage_many(n, p, np.ones(p.size), prior=direct)
    assert fast._moments is not None
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.slow
def test_dirichlet_1e5_against_finer_direct_variant(monkeypatch):
    """C = 10^5: reference is the same integral with direct class sums (no Chebyshev
    moments, no tail power series) and half the quadrature step (twice the nodes).  (coverage.py's current
    engine takes well over 60 s per value here, issue 12 D6.)"""
    import couponbound._longtail as lt

    p = np.random.default_rng(0).dirichlet(np.ones(10**5))
    vals, mult = np.unique(p, return_counts=True)
    n = np.array([2 * 10**6 + 1, 10**8, 10**10])
    ours = log_coverage_many(n, vals, mult)
    direct = LongTailPrior(vals, mult.astype(float), direct_max=10**12)
    monkeypatch.setattr(lt, "_H", lt._H / 2)
    monkeypatch.setattr(lt, "_SERIES", False)
    ref = log_coverage_many(n, vals, mult, prior=direct)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)


@pytest.mark.parametrize(("levels", "n"), [(TWO_LEVEL, n) for n in [300, 600, 1500, 5000, 20000]]
                         + [(THREE_LEVEL, n) for n in [1500, 5000, 20000]])
def test_tail_power_series_against_grouped_ie(levels, n, monkeypatch):
    """The right tail's power series in 1 - e^{i theta} (forced on for few classes)."""
    import couponbound._longtail as lt

    monkeypatch.setattr(lt, "_SERIES_MIN", 1)
    probs, mult = levels
    p = np.array([float(x) for x in probs])
    pr = LongTailPrior(p, np.array(mult, dtype=float))
    miss = grouped_ie(n, probs, mult, miss=True)
    assert lt._side_right(pr, float(n))
    lm = lt._log_miss_one(pr, n)
    assert rel(math.exp(lm), miss) < 1e-12


def test_tail_power_series_equals_direct_zipf(monkeypatch):
    """Zipf C = 2000: the series (thousands of kept classes) against the direct per-node sum."""
    import couponbound._longtail as lt

    w = 1.0 / np.arange(1, 2001)
    pr = LongTailPrior(w / w.sum(), np.ones(w.size))
    for n in [150000, 300000, 10**6, 10**7]:
        assert lt._side_right(pr, float(n))
        a = lt._log_miss_one(pr, n)
        monkeypatch.setattr(lt, "_SERIES", False)
        b = lt._log_miss_one(pr, n)
        monkeypatch.setattr(lt, "_SERIES", True)
        assert abs(a - b) <= 1e-12 * abs(b), (n, a, b)


def test_both_integrals_agree_where_the_side_switches():
    """Near S1 = 1/2 both the coverage and the tail integral are accurate: they must agree."""
    import couponbound._longtail as lt

    p = np.random.default_rng(3).dirichlet(np.ones(3000))
    pr = LongTailPrior(p, np.ones(p.size))
    lo, hi = 3000, 10**12
    while hi - lo > 1:  # first n on the right side
        mid = (lo + hi) // 2
        if lt._side_right(pr, float(mid)):
            hi = mid
        else:
            lo = mid
    for n in [hi - 2000, hi - 1, hi, hi + 2000]:
        lu = lt._log_coverage_one(pr, n)
        lm = lt._log_miss_one(pr, n)
        assert 0.3 < math.exp(lu) < 0.7
        assert abs(math.log1p(-math.exp(lm)) - lu) < 1e-12 * abs(lu)
        assert abs(math.log(-math.expm1(lu)) - lm) < 3e-12 * abs(lm)


def test_log_rest_chebyshev_against_fsum():
    p = np.random.default_rng(11).dirichlet(np.ones(30000))
    pr = LongTailPrior(p, np.ones(p.size))
    for r in [1e3, 1e5, 1e7, 1e9, 1e11]:
        exact = math.fsum((np.log(-np.expm1(-pr.p * r))).tolist())
        got = pr.log_rest(r)
        assert abs(got - exact) <= 1e-13 * max(1.0, abs(exact)) + 1e-14, (r, got, exact)
    assert pr._moments is not None and pr._moments.shape[0] > 1  # several pieces


@pytest.mark.parametrize("confidence", [0.01, 0.5, 0.9, 0.99, 1 - 1e-9])
@pytest.mark.parametrize("levels", [TWO_LEVEL, THREE_LEVEL])
def test_required_draws_against_grouped_ie(levels, confidence):
    from couponbound._longtail import required_draws

    probs, mult = levels
    p = np.array([float(x) for x in probs])
    n = required_draws(confidence, p, np.array(mult))
    conf = mpmath.mpf(confidence)
    assert grouped_ie(n, probs, mult) >= conf
    assert grouped_ie(n - 1, probs, mult) < conf


def test_required_draws_many_classes():
    """Dirichlet C = 3000: the answer is the first n whose evaluated value reaches the confidence."""
    import couponbound._longtail as lt

    p = np.random.default_rng(5).dirichlet(np.ones(3000))
    pr = LongTailPrior(p, np.ones(p.size))
    for confidence in [0.05, 0.5, 0.99]:
        n = lt.required_draws(confidence, prior=pr)
        lu, lm = lt._one(pr, n)
        lu1, lm1 = lt._one(pr, n - 1)
        if confidence > 0.5:
            assert lm <= math.log1p(-confidence) < lm1
        else:
            assert lu >= math.log(confidence) > lu1


def test_required_draws_rejects_bad_confidence():
    from couponbound._longtail import required_draws

    for bad in [0.0, 1.0, -0.5, 1.5]:
        with pytest.raises(ValueError, match="confidence"):
            required_draws(bad, np.array([0.5, 0.5]), np.ones(2))


def test_vectorised_agrees_with_scalar_large_g():
    p = np.random.default_rng(9).dirichlet(np.ones(5000))
    pr = LongTailPrior(p, np.ones(p.size))
    n = np.concatenate([[5000, 5001], np.arange(20000, 20400, 7), [10**6, 3 * 10**7, 10**8, 10**9]])
    vec = log_coverage_many(n, p, np.ones(p.size), prior=pr)
    vec_m = log_miss_many(n, p, np.ones(p.size), prior=pr)
    one = np.array([log_coverage_many(np.array([ni]), p, np.ones(p.size), prior=pr)[0] for ni in n])
    one_m = np.array([log_miss_many(np.array([ni]), p, np.ones(p.size), prior=pr)[0] for ni in n])
    assert agree(vec, one) and agree(vec_m, one_m)


def _uniform_ie_mp(n: int, C: int, miss: bool) -> mpmath.mpf:
    """``upsilon_n`` (or ``1 - upsilon_n``) for ``C`` equally likely classes by
    inclusion-exclusion in mpmath (terms fall like ``t1^j / j!``, ``t1 = C (1 - 1/C)^n``)."""
    with mpmath.workdps(60):
        total, binom = mpmath.mpf(0), mpmath.mpf(1)
        for j in range(1 if miss else 0, 400):
            binom = binom * (C - j + 1) / j if j else binom
            term = binom * mpmath.exp(n * mpmath.log1p(-mpmath.mpf(j) / C))
            total += term * (-1) ** (j + (1 if miss else 0))
            if j > 10 and term < mpmath.mpf(10) ** -50:
                break
        return total


@pytest.mark.parametrize("factor", [12.0, 13.8, 15.0])
def test_huge_multiplicity_keeps_its_digits(factor):
    """One group of 10^6 classes: the class sums multiply each term's rounding by 10^6,
    so ``log(1 - e^{-x})`` must keep the relative accuracy of its tiny value (it lost
    1e-11 of ``log upsilon`` when taken as ``log(-expm1(-x))``)."""
    C = 10**6
    n = int(factor * C)
    pr = LongTailPrior(np.array([1.0 / C]), np.array([float(C)]))
    want_cov = mpmath.log(_uniform_ie_mp(n, C, miss=False))
    want_miss = mpmath.log(_uniform_ie_mp(n, C, miss=True))
    got_cov = log_coverage_many(np.array([n]), pr.p, pr.w, prior=pr)[0]
    got_miss = log_miss_many(np.array([n]), pr.p, pr.w, prior=pr)[0]
    assert rel(got_cov, want_cov) < 1e-13
    assert rel(got_miss, want_miss) < 1e-13


@pytest.mark.parametrize("seed", range(2))
def test_far_left_tail_power_series(seed):
    """n a little above C: the saddle radius r has p_max r <= 2 and the class sum is the
    power series in p r (power sums, Bernoulli coefficients); every node of the
    circle counts.  Against the zero-truncated-Poisson convolution, and with the
    series switched off (direct sums over the classes) as a second check."""
    import couponbound._longtail as lt

    rng = np.random.default_rng(100 + seed)
    C = 60
    p = rng.dirichlet(np.ones(C) * 0.5)
    pr = LongTailPrior(p, np.ones(C))
    ns = np.array([n for n in range(C + 1, C + 40)
                   if float(pr.p[-1]) * lt._coverage_saddle(pr, float(n))[0] <= lt._POWER_X_MAX])
    assert ns.size >= 3  # the series path is the one tested
    ns = ns[np.linspace(0, ns.size - 1, 4).astype(int)]
    lu = log_coverage_many(ns, p, np.ones(C), prior=pr)
    for n, got in zip(ns.tolist(), lu.tolist(), strict=True):
        oracle = ztp_convolution(n, list(p))
        assert rel(got, oracle) < 1e-12, (n, got, oracle)
    th = np.linspace(0.01, math.pi, 11)
    for n in ns.tolist():
        r, _ = lt._coverage_saddle(pr, float(n))
        a = np.exp(pr._series_log_factor(r, th) - 1j * C * th)
        b = np.exp(pr._direct_log_factor(r, th) - 1j * C * th)
        assert np.max(np.abs(a - b)) <= 1e-13 * np.max(np.abs(b))


def test_engine_imports_scipy_only_when_used():
    """Issue 19 (start-up): the engine's DCT imports scipy.fft on first use."""
    import subprocess
    import sys

    code = ("import sys, couponbound._longtail, couponbound.coverage; "
            "print(sorted(m for m in sys.modules if m.startswith('scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["zipf", "dirichlet"])
def test_right_tail_chebyshev_sums_against_mpmath(kind, monkeypatch):
    """The right tail's class sums through the Chebyshev moments (forced on for 100
    classes), against the Cauchy integral in 30-digit arithmetic (mpmath's adaptive
    quadrature), for 1 - upsilon from about 0.3 down to 1e-6.  The direct class sums
    (``_tail_classes``) must not be needed.  (The zero-truncated Poisson convolution,
    exact to ~1e-12 in log upsilon, cannot give 1 - upsilon to 1e-12 here.)"""
    import couponbound._longtail as lt

    monkeypatch.setattr(lt, "_MIN_PER_TERM", 0)
    monkeypatch.setattr(lt, "_DCT_COST", -1.0)  # every piece gets moments, at no cost
    calls = []
    real_classes = lt._tail_classes
    monkeypatch.setattr(lt, "_tail_classes", lambda *a: calls.append(a) or real_classes(*a))
    C = 100
    if kind == "zipf":
        w = 1.0 / np.arange(1, C + 1) ** 1.1
        p = w / w.sum()
        ns = (3000, 9000)
    else:
        p = np.random.default_rng(4).dirichlet(np.ones(C) * 3.0)
        ns = (3000, 7000)
    pr = LongTailPrior(p, np.ones(C))
    for n in ns:
        want = miss_circle_mp(n, list(p))
        assert math.log(1e-6) < want < math.log(0.35), (n, want)
        got = log_miss_many(np.array([n]), p, np.ones(C), prior=pr)[0]
        assert pr._moments is not None
        assert rel(got, want) < 1e-12, (n, got, want)
    assert not calls, "the Chebyshev sums should have served every right-tail sum"


@pytest.mark.slow
def test_zipf_1e5_right_tail_against_direct_finer_variant(monkeypatch):
    """Zipf(1.1), C = 10^5, right tail from 1 - upsilon = 0.5 to 1e-40: the Chebyshev class
    sums against direct sums over every class that matters, no power series, half the step."""
    import couponbound._longtail as lt

    w = 1.0 / np.arange(1, 10**5 + 1) ** 1.1
    p = w / w.sum()
    n = np.array([22_500_000, 26_000_000, 31_000_000, 40_000_000, 100_000_000, 300_000_000])
    ours = log_miss_many(n, p, np.ones(p.size))
    direct = LongTailPrior(p, np.ones(p.size), direct_max=10**12)
    monkeypatch.setattr(lt, "_H", lt._H / 2)
    monkeypatch.setattr(lt, "_SERIES", False)
    ref = log_miss_many(n, p, np.ones(p.size), prior=direct)
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert ref[-1] < math.log(1e-40) < ref[0]


@pytest.mark.parametrize("kind", ["dirichlet", "zipf"])
def test_many_left_values_at_once_agree_with_bands(kind):
    """The vectorised left side (saddle points together, the class sum as a Taylor
    series in z - 1 from Chebyshev moments) against one integral per band with the
    class sums taken node by node: 1e-13 relative, and it serves most of a spread curve."""
    import couponbound._longtail as lt

    C = 2000
    if kind == "zipf":
        w = 1.0 / np.arange(1, C + 1) ** 1.1
        p = w / w.sum()
    else:
        p = np.random.default_rng(8).dirichlet(np.ones(C))
    pr = LongTailPrior(p, np.ones(C))
    n = np.unique(np.geomspace(3 * C, 3000 * C, 60).astype(np.int64))
    n = n[:lt._first_right(pr, n)]
    fast, done = lt._left_many(pr, n)
    assert done.mean() >= 0.7, done
    ref = lt._bands(pr, n[done], right=False)
    np.testing.assert_allclose(fast[done], ref, rtol=1e-13)
    # and the public path (which falls back where the series does not serve) equals both
    got = log_coverage_many(n, p, np.ones(C), prior=pr)
    np.testing.assert_allclose(got[done], ref, rtol=1e-13)


@pytest.mark.slow
def test_many_left_values_against_mpmath():
    """The vectorised left side against the Cauchy integral in 35-digit arithmetic
    (mpmath's adaptive quadrature at the saddle radius), Dirichlet(1) with 300 classes,
    log upsilon from -13 to -1."""
    import couponbound._longtail as lt

    p = np.random.default_rng(2).dirichlet(np.ones(300))
    pr = LongTailPrior(p, np.ones(300))
    n = np.unique(np.geomspace(8e3, 3e5, 12).astype(np.int64))
    n = n[:lt._first_right(pr, n)]
    fast, done = lt._left_many(pr, n)
    for i, dps in ((1, 35), (n.size - 2, 30)):  # digits to spare where log upsilon is -10
        assert done[i]
        r, sigma = lt._coverage_saddle(pr, float(n[i]))
        want = cover_circle_mp(int(n[i]), list(p), r, sigma, dps=dps)
        assert rel(fast[i], want) < 1e-13, (n[i], fast[i], want)


@settings(max_examples=12, deadline=None)
@given(st.integers(300, 4000), st.floats(0.2, 3.0), st.integers(0, 2**32 - 1), st.booleans())
def test_fast_sums_agree_with_direct_sums_on_random_priors(C, alpha, seed, ties):
    """Random Dirichlet(alpha) priors (some with tied probabilities): the vectorised left side
    and the right tail's Chebyshev class sums against the same integrals with every class
    sum taken directly (``direct_max``), 1e-12 relative in log upsilon and log(1 - upsilon)."""

    rng = np.random.default_rng(seed)
    p = np.maximum(rng.dirichlet(np.full(C, alpha)), 1e-9 / C)  # no class beyond ~1e10 draws
    p /= p.sum()
    if ties:
        p = np.round(p, 6) + 1e-7
        p /= p.sum()
    vals, mult = np.unique(p, return_counts=True)
    fast = LongTailPrior(vals, mult.astype(float))
    slow = LongTailPrior(vals, mult.astype(float), direct_max=10**12)
    # from 2 C draws to far into the right tail (the rarest class seen e^-30 short of surely)
    n = np.unique(np.geomspace(2 * C, 30.0 / float(vals[0]), 24).astype(np.int64))
    a = log_coverage_many(n, vals, mult, prior=fast)
    b = log_coverage_many(n, vals, mult, prior=slow)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    a = log_miss_many(n, vals, mult, prior=fast)
    b = log_miss_many(n, vals, mult, prior=slow)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)


def test_subnormal_class_probability():
    """A class of probability 1e-320 (subnormal): upsilon is proportional to that
    probability while n * p is tiny, so log upsilon equals the value with 1e-300 plus
    log(1e-20), by one value at a time and by a vectorised curve, with no warning.
    (1/x overflowed in the circle's per-class factor and zeroed its nodes: 1.43 off.)"""
    import couponbound as cb

    rest = np.random.default_rng(0).dirichlet(np.ones(3000))
    K = np.unique(np.geomspace(2e4, 2e6, 12).astype(np.int64))
    logs, smallest = {}, {}
    for eps in (1e-300, 1e-320):
        p = np.concatenate([[eps], rest])
        prior = cb.Prior.from_probs(p / p.sum())
        vec = np.asarray(cb.log_coverage_prob(K, prior))
        one = np.array([cb.log_coverage_prob(int(k), prior) for k in K[::4]])
        np.testing.assert_allclose(vec[::4], one, rtol=1e-12)
        logs[eps] = vec
        smallest[eps] = float(np.min(prior.probs))  # 1e-320 is stored as 9.99989e-321
    shift = math.log(smallest[1e-320]) - math.log(smallest[1e-300])
    # p r is itself subnormal (about 4e-316 here, held to ~1e-8 relative), and log upsilon
    # moves one for one with log(p r): 1e-7 absolute is what float64 can give
    np.testing.assert_allclose(logs[1e-320], logs[1e-300] + shift, rtol=0, atol=1e-7)
