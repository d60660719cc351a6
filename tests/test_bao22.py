"""Tests of BAO22's minimum losses (docs: math-comparison).

``R*_cont(K) = E_{y ~ rho} E_{m ~ Bin(K, rho_y)} ln(1 + m + (K - m) e^{-2B^2})`` and
``R*_mu-supv = ln(1 + (C - 1) e^{-2B^2})`` (BAO22, ``scripts/plot_k_msuploss.py``).

The oracle sums the binomial pmf in mpmath at 40 digits, building it by the
ratio recursion ``P(m+1)/P(m) = (K - m) p / ((m + 1)(1 - p))`` (positive terms
only), independently of couponbound.collision.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from couponbound import Prior
from couponbound.bounds import (
    RestatedBoundWarning,
    bao22_min_contrastive,
    bao22_min_supervised,
    sup_upper_bounds,
)
from couponbound.collision import expected_log_collision
from couponbound.testing import priors

SETTINGS = settings(max_examples=40, deadline=None, database=None)


def oracle_contrastive(K_values: range | list[int], probs: list[Fraction], B: float = 1.0
                       ) -> np.ndarray:
    """R*_cont for each K, as an mpmath sum over m of the exact binomial pmf (per class)."""
    out = []
    with mpmath.workdps(40):
        e = mpmath.exp(-2 * mpmath.mpf(B) ** 2)
        tiny = mpmath.mpf(10) ** -45
        groups: dict[Fraction, int] = {}
        for p in probs:
            groups[p] = groups.get(p, 0) + 1
        for K in K_values:
            total = mpmath.mpf(0)
            for p, mult in groups.items():
                pm = mpmath.mpf(p.numerator) / p.denominator
                if pm == 1:
                    total += mult * pm * mpmath.log(1 + K)
                    continue
                w = (1 - pm) ** K  # P(m = 0)
                ratio = pm / (1 - pm)
                inner = mpmath.mpf(0)
                for m in range(K + 1):
                    if w > tiny:  # terms below 1e-45 cannot move a float result
                        inner += w * mpmath.log(1 + m + (K - m) * e)
                    elif m > K * pm:  # past the mode the pmf only decreases
                        break
                    w = w * (K - m) * ratio / (m + 1)
                total += mult * pm * inner
            out.append(float(total))
    return np.array(out)


# ---------------------------------------------------------------------------
# against the oracle
# ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("C", [10, 50, 100])
def test_min_contrastive_matches_mpmath_for_K_up_to_1000(C: int) -> None:
    K = np.arange(1, 1001)
    got = bao22_min_contrastive(K, C)
    want = oracle_contrastive(range(1, 1001), [Fraction(1, C)] * C)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("C", [10, 50, 100])
def test_min_contrastive_matches_mpmath_sparse(C: int) -> None:
    K = [1, 2, 3, 9, 31, 99, 127, 500]
    got = bao22_min_contrastive(K, C)
    np.testing.assert_allclose(got, oracle_contrastive(K, [Fraction(1, C)] * C), rtol=1e-12)


@pytest.mark.parametrize("B", [0.25, 1.0, 2.0, 5.0])
def test_min_contrastive_other_B_and_non_uniform(B: float) -> None:
    counts = [1, 2, 3, 10]
    probs = [Fraction(c, 16) for c in counts]
    K = [0, 1, 5, 40, 200]
    got = bao22_min_contrastive(K, counts=counts, B=B)
    np.testing.assert_allclose(got, oracle_contrastive(K, probs, B), rtol=1e-12, atol=1e-300)
    prior = Prior.from_counts(counts)
    np.testing.assert_array_equal(bao22_min_contrastive(K, prior, B=B), got)


def test_min_contrastive_by_hand() -> None:
    # K = 1, C = 2: m ~ Bin(1, 1/2): (ln(1 + e^-2) + ln 2) / 2
    want = 0.5 * (math.log1p(math.exp(-2.0)) + math.log(2.0))
    assert bao22_min_contrastive(1, 2) == pytest.approx(want, rel=1e-15)
    # one class: every negative is of the anchor's class, R* = ln(1 + K)
    assert bao22_min_contrastive(7, 1) == pytest.approx(math.log(8.0), rel=1e-15)
    assert bao22_min_contrastive(0, 10) == 0.0


def test_min_supervised_matches_the_formula() -> None:
    for C in (1, 2, 10, 50, 100, 10**6):
        for B in (0.1, 1.0, 3.0):
            with mpmath.workdps(40):
                want = float(mpmath.log(1 + (C - 1) * mpmath.exp(-2 * mpmath.mpf(B) ** 2)))
            assert bao22_min_supervised(C, B=B) == pytest.approx(want, rel=1e-14, abs=0)
    assert bao22_min_supervised(100) == pytest.approx(math.log(1 + 99 * math.exp(-2.0)), rel=1e-15)
    # a non-uniform prior enters through its number of classes only
    assert bao22_min_supervised(probs=[0.7, 0.2, 0.1]) == bao22_min_supervised(3)
    assert bao22_min_supervised(Prior.from_counts([5, 1])) == bao22_min_supervised(2)
    assert type(bao22_min_supervised(10)) is float


# ---------------------------------------------------------------------------
# BAO22's figure: R*_cont + Delta_U against R*_mu-supv
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("C", [50, 100])
def test_bao22_figure_values(C: int) -> None:
    K = np.arange(1, 100)
    r = bao22_min_contrastive(K, C)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RestatedBoundWarning)
        upper = sup_upper_bounds(r, K, C, warn=False)
    delta_u = np.log((1 / C) * C**2 * math.cosh(1.0) ** 2 / K)  # plot_k_msuploss.py's ub_intercept
    np.testing.assert_allclose(upper.bao, r + delta_u, rtol=1e-13)
    s = bao22_min_supervised(C)
    # BAO22's surrogate bounds sandwich the supervised minimum
    assert np.all(upper.bao >= s) and np.all(upper.bao_lower <= s)
    # the gap closes as K grows
    assert np.all(np.diff(upper.bao - s) < 0)


# ---------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------


@SETTINGS
@given(priors(max_classes=15), st.lists(st.integers(0, 400), min_size=1, max_size=6),
       st.floats(0.05, 4.0))
def test_min_contrastive_range_and_shape(prior, Ks, B) -> None:
    got = bao22_min_contrastive(np.array(Ks), B=B, **prior)
    Kf = np.array(Ks, dtype=float)
    assert isinstance(got, np.ndarray) and got.shape == (len(Ks),)
    e = math.exp(-2 * B * B)
    assert np.all(got >= np.log1p(Kf * e)) and np.all(got <= np.log1p(Kf))
    assert np.all(got >= 0)
    one = bao22_min_contrastive(Ks[0], B=B, **prior)
    assert type(one) is float and one == got[0]


@SETTINGS
@given(priors(max_classes=15), st.integers(1, 300), st.floats(0.05, 3.0), st.floats(1.01, 3.0))
def test_min_contrastive_decreases_in_B_increases_in_K(prior, K, B, factor) -> None:
    a = bao22_min_contrastive(K, B=B, **prior)
    b = bao22_min_contrastive(K, B=B * factor, **prior)
    assert b <= a * (1 + 1e-13)
    more = bao22_min_contrastive(K + 1, B=B, **prior)
    # one more negative adds at least e^{-2B^2} inside the logarithm
    assert more > a
    assert bao22_min_supervised(B=B * factor, **prior) <= bao22_min_supervised(B=B, **prior)


@SETTINGS
@given(st.integers(1, 200), st.integers(1, 60), st.floats(0.05, 3.0))
def test_min_contrastive_decreases_with_more_uniform_classes(K, C, B) -> None:
    # fewer negatives share the anchor's class, and each of those costs more than the others
    assert bao22_min_contrastive(K, C + 1, B=B) <= bao22_min_contrastive(K, C, B=B) * (1 + 1e-13)
    assert bao22_min_supervised(C + 1, B=B) > bao22_min_supervised(C, B=B)


def test_min_contrastive_limits_in_B() -> None:
    K = np.array([1, 10, 100, 1000])
    # B -> infinity: e^{-2B^2} underflows and R*_cont is NS21's collision term E ln(1 + Col)
    np.testing.assert_allclose(bao22_min_contrastive(K, 10, B=30.0),
                               expected_log_collision(K, 10), rtol=1e-12)
    # B -> 0: every negative costs 1, R*_cont -> ln(1 + K)
    np.testing.assert_allclose(bao22_min_contrastive(K, 10, B=1e-9), np.log1p(K), rtol=1e-12)


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((-1, 10), {}, ValueError, "K"),
        ((2.5, 10), {}, ValueError, "K"),
        (("3", 10), {}, TypeError, "K"),
        ((True, 10), {}, TypeError, "K"),
        ((10**8, 10), {}, ValueError, "K too large"),
        ((list(range(9_000_000, 9_000_004)), 10), {}, ValueError, "K too large"),
        ((3, 0), {}, ValueError, "C"),
        ((3,), {}, TypeError, "C"),
        ((3, 10), {"B": 0.0}, ValueError, "B must"),
        ((3, 10), {"B": math.nan}, ValueError, "B must"),
        ((3, 10), {"B": 10**400}, ValueError, "B must"),
        ((3, 10), {"B": True}, TypeError, "B must"),
        ((3, 10), {"B": "1"}, TypeError, "B must"),
        ((3, Prior.from_counts([3, 3], replacement=False)), {}, ValueError, "independent draws"),
    ],
)
def test_min_contrastive_refuses_bad_arguments(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        bao22_min_contrastive(*args, **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [((0,), {}, ValueError, "C"), (("10",), {}, TypeError, "C"), ((), {}, TypeError, "C"),
     ((10,), {"B": -1.0}, ValueError, "B must"), ((10,), {"B": None}, TypeError, "B must")],
)
def test_min_supervised_refuses_bad_arguments(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        bao22_min_supervised(*args, **kwargs)


def test_min_contrastive_large_K_is_fast_and_in_range() -> None:
    got = bao22_min_contrastive(10**6, 100)
    mean_field = math.log1p(10**6 * (math.exp(-2.0) + 0.01 * (1 - math.exp(-2.0))))
    # Jensen: below the mean-field value, by O(1/K)
    assert mean_field - 1e-5 < got <= mean_field


# ---------------------------------------------------------------------------
# plot_sup_upper_bounds: R*_cont by default, d and sub passed through
# ---------------------------------------------------------------------------


def test_plot_sup_upper_bounds_default_loss_and_setting() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from couponbound.paper.plots import find_artists, plot_sup_upper_bounds

    K = np.arange(1, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RestatedBoundWarning)
        ax = plot_sup_upper_bounds(K=K, C=10)        # BAO22's setting by construction: no warning
    r = bao22_min_contrastive(K, 10)
    np.testing.assert_array_equal(find_artists(ax, "contrastive")[0].get_ydata(), r)
    want = sup_upper_bounds(r, K, 10, warn=False)
    y = np.asarray(find_artists(ax, "bound/bao")[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(y, want.bao)
    plt.close("all")
    with pytest.warns(RestatedBoundWarning, match="plot_sup_upper_bounds"):
        plot_sup_upper_bounds(2.0, K, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RestatedBoundWarning)
        ax = plot_sup_upper_bounds(2.0, K, 10, d=-1.0, sub=1.5, B=2.0)
        plot_sup_upper_bounds(2.0, K, 10, warn=False)
    want = sup_upper_bounds(2.0, K, 10, d=-1.0, sub=1.5, B=2.0)
    y = np.asarray(find_artists(ax, "bound/ns21")[0].get_ydata(), dtype=float)
    ok = np.isfinite(want.ns21) & (want.ns21 > 0)
    np.testing.assert_array_equal(y[ok], want.ns21[ok])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("its setting" in t for t in labels)  # BAO22's curve stays in BAO22's setting
    with pytest.raises(TypeError, match="warn"):
        plot_sup_upper_bounds(2.0, K, 10, warn="no")
    plt.close("all")
