"""Tests of couponbound.bounds: NS21, ARORA19, ASH22 and BAO22 (docs: math-bounds).

The oracle for the theoretical curves is written here from the definitions
(docs: math-coverage, math-collisions) with Python integers (exact
inclusion-exclusion for upsilon, exact binomial weights for E ln(1+Col)),
independently of couponbound.coverage / couponbound.collision.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from couponbound import Prior
from couponbound.bounds import (
    BoundTerms,
    NS21Decomposition,
    RestatedBoundWarning,
    SupUpperBounds,
    VacuousBoundWarning,
    arora_lower_bound,
    arora_sup_upper_bound,
    bao22_min_contrastive,
    decompose,
    ns21_bound_curve,
    ns21_lower_bound,
    ns21_sup_upper_bound,
    sup_upper_bounds,
)
from couponbound.collision import collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob
from couponbound.testing import bound_terms, negatives, priors

SETTINGS = settings(max_examples=60, deadline=None, database=None)


# ---------------------------------------------------------------------------
# independent oracle (uniform prior), from the definitions of math-coverage and math-collisions
# ---------------------------------------------------------------------------


def oracle_upsilon(C: int, K_max: int) -> np.ndarray:
    """upsilon_{K+1} for K = 0..K_max by exact integer inclusion-exclusion."""
    powers = [1] * (C + 1)  # (C - i)^n, n = 0
    signs = [(-1) ** i * math.comb(C, i) for i in range(C + 1)]
    out = []
    for n in range(1, K_max + 2):
        powers = [p * (C - i) for i, p in enumerate(powers)]
        num = sum(s * p for s, p in zip(signs, powers, strict=True))
        out.append(num / C**n)  # int / int: correctly rounded
    return np.array(out)


def oracle_miss(C: int, K_max: int) -> np.ndarray:
    """1 - tau_K = ((C - 1) / C)^K for K = 0..K_max, exactly rounded."""
    return np.array([(C - 1) ** k / C**k for k in range(K_max + 1)])


def oracle_collision(C: int, K_max: int) -> np.ndarray:
    """E ln(1 + Col), Col ~ Binomial(K, 1/C), for K = 0..K_max.

    Integer weights W_K(m) = binom(K, m) (C - 1)^(K - m) by Pascal's rule; the
    expectation is a sum of positive terms W_K(m) / C^K * ln(1 + m).
    """
    logs = [math.log1p(m) for m in range(K_max + 1)]
    w = [1]
    out = [0.0]
    for k in range(1, K_max + 1):
        w = [(C - 1) * (w[m] if m < k else 0) + (w[m - 1] if m > 0 else 0) for m in range(k + 1)]
        ck = C**k
        out.append(math.fsum(w[m] / ck * logs[m] for m in range(1, k + 1)))
    return np.array(out)


def harmonic(n: int) -> Fraction:
    return sum((Fraction(1, j) for j in range(1, n + 1)), Fraction(0))


def inf_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(den == 0, np.inf, num / den)


def assert_same(actual: Any, expected: Any, rtol: float = 1e-9) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert not np.isnan(actual).any()
    np.testing.assert_array_equal(np.isposinf(actual), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(actual), np.isneginf(expected))
    fin = np.isfinite(expected)
    np.testing.assert_allclose(actual[fin], expected[fin], rtol=rtol, atol=1e-12)


def cifar10_row() -> BoundTerms:
    """NS21 Table 2, CIFAR-10, K + 1 = 32 (SimCLR, t = 0.5)."""
    return BoundTerms(contrastive=2.02, sup=1.26 / 0.69, sub=0.52 / 0.31, collision=1.32,
                      d=-1.16, upsilon=0.69, tau=0.96, arora_sub=0.06 / 0.04, K=31, C=10)


# ---------------------------------------------------------------------------
# measured-term bounds
# ---------------------------------------------------------------------------


def test_ns21_published_cifar10_row() -> None:
    t = cifar10_row()
    bound = ns21_lower_bound(t)
    assert abs(bound - 0.39) <= 0.01
    assert bound < t.contrastive
    parts = decompose(t)
    # NS21's Table 2 prints the halves: L_sup row 0.63, L_sub row 0.26.
    assert round(parts.sup_term, 2) == 0.63
    assert round(parts.sub_term, 2) == 0.26
    assert parts.collision_term == pytest.approx(0.66)
    assert parts.d == -1.16


def test_arora_published_cifar10_row() -> None:
    # NS21 Table 2 (same column): ARORA19 bound 0.23 from S_arora = 0.05 + 0.01
    # (printed rounded), collision 1.32, d = -1.16.
    t = cifar10_row()
    assert abs(arora_lower_bound(t) - 0.23) <= 0.015
    assert arora_lower_bound(t) < t.contrastive


def test_ns21_hand_values() -> None:
    t = BoundTerms(contrastive=3.0, sup=2.0, sub=1.0, collision=0.5, d=-0.25, upsilon=0.75)
    # 0.5 * (0.75*2 + 0.25*1 + 0.5) - 0.25 = 0.875
    assert ns21_lower_bound(t) == pytest.approx(0.875, abs=1e-15)
    # (2*(3 + 0.25) - 0.25*1 - 0.5) / 0.75 = 5.75 / 0.75
    assert ns21_sup_upper_bound(t) == pytest.approx(5.75 / 0.75, rel=1e-15)
    assert isinstance(ns21_lower_bound(t), float)
    # the terms one by one: 0.5*0.75*2, 0.5*0.25*1, 0.5*0.5, d
    assert decompose(t).to_dict() == pytest.approx(
        {"sup_term": 0.75, "sub_term": 0.125, "collision_term": 0.25, "d": -0.25}, abs=1e-15)


def test_arora_hand_values() -> None:
    t = BoundTerms(contrastive=3.0, sup=2.0, sub=1.0, collision=0.5, d=-0.25, upsilon=0.8,
                   tau=0.5, arora_sub=1.5)
    assert arora_lower_bound(t) == pytest.approx(0.5 * 1.5 + 0.5 - 0.25, abs=1e-15)
    assert arora_sup_upper_bound(t) == pytest.approx((3.0 - 0.5 + 0.25) / (0.5 * 0.8), rel=1e-15)


def test_decompose_is_a_frozen_dataclass() -> None:
    parts = decompose(cifar10_row())
    assert isinstance(parts, NS21Decomposition)
    assert set(parts.to_dict()) == {"sup_term", "sub_term", "collision_term", "d"}
    assert math.fsum(parts.to_dict().values()) == pytest.approx(parts.total, abs=1e-15)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.d = 0.0  # type: ignore[misc]
    assert "sup_term=" in repr(parts)


def test_ns21_sup_upper_bound_vacuous_when_upsilon_zero() -> None:
    t = BoundTerms(contrastive=2.0, sup=0.0, sub=1.5, collision=0.7, d=-1.0, upsilon=0.0)
    with pytest.warns(VacuousBoundWarning, match="upsilon = 0"):
        assert ns21_sup_upper_bound(t) == math.inf


@pytest.mark.parametrize(("tau", "upsilon", "match"), [(1.0, 0.5, "tau = 1"),
                                                        (0.5, 0.0, "upsilon = 0")])
def test_arora_sup_upper_bound_vacuous(tau: float, upsilon: float, match: str) -> None:
    t = BoundTerms(contrastive=2.0, sup=1.0, sub=1.5, collision=0.7, d=-1.0, upsilon=upsilon,
                   tau=tau, arora_sub=1.0)
    with pytest.warns(VacuousBoundWarning, match=match):
        assert arora_sup_upper_bound(t) == math.inf


def test_arora_needs_tau_and_arora_sub() -> None:
    base = BoundTerms(contrastive=2.0, sup=1.0, sub=1.5, collision=0.7, d=-1.0, upsilon=0.5)
    with pytest.raises(ValueError, match="tau"):
        arora_lower_bound(base)
    with pytest.raises(ValueError, match="tau"):
        arora_sup_upper_bound(base)
    with pytest.raises(ValueError, match="arora_sub"):
        arora_lower_bound(dataclasses.replace(base, tau=0.5))
    # tau = 1: the sub-class term has weight 0, so an unmeasured arora_sub is fine.
    assert arora_lower_bound(dataclasses.replace(base, tau=1.0)) == pytest.approx(0.7 - 1.0)


@pytest.mark.parametrize("func", [ns21_lower_bound, ns21_sup_upper_bound, arora_lower_bound,
                                  arora_sup_upper_bound, decompose])
def test_measured_bounds_reject_non_terms(func) -> None:
    with pytest.raises(TypeError, match="BoundTerms"):
        func({"contrastive": 1.0})


@pytest.mark.parametrize(
    ("field", "value"),
    [("upsilon", 1.5), ("upsilon", -0.1), ("tau", 2.0), ("sup", -1.0), ("sub", -0.5),
     ("collision", -1e-3), ("contrastive", -2.0), ("arora_sub", -1.0), ("d", 0.5),
     ("sup", math.nan), ("d", math.nan), ("upsilon", math.nan), ("contrastive", math.inf)],
)
def test_invalid_terms_name_the_field(field: str, value: float) -> None:
    kwargs: dict[str, Any] = dict(contrastive=2.0, sup=1.0, sub=1.0, collision=0.5, d=-0.5,
                                  upsilon=0.5)
    kwargs[field] = value
    with pytest.raises(ValueError, match=f"BoundTerms.{field}"):
        BoundTerms(**kwargs)


_TERMS = dict(contrastive=2.0, sup=1.0, sub=1.0, collision=0.5, d=-0.5, upsilon=0.5)


@pytest.mark.parametrize(
    ("field", "value", "exc"),
    [("contrastive", 10**400, ValueError), ("sup", -(10**400), ValueError),
     ("tau", Fraction(10**400, 3), ValueError), ("contrastive", True, TypeError),
     ("d", np.False_, TypeError), ("sup", "1.5", TypeError), ("upsilon", b"0.5", TypeError),
     ("collision", None, TypeError), ("sub", [1.0], TypeError), ("sub", 1 + 0j, TypeError),
     ("K", 31.0, TypeError), ("K", True, TypeError), ("C", "10", TypeError),
     ("K", -1, ValueError), ("C", np.int64(0), ValueError)],
)
def test_terms_refuse_what_is_not_a_real_number(field: str, value: Any, exc: type) -> None:
    kwargs: dict[str, Any] = dict(_TERMS)
    kwargs[field] = value
    with pytest.raises(exc, match=f"BoundTerms.{field}") as info:
        BoundTerms(**kwargs)
    assert not isinstance(info.value, OverflowError)


def test_terms_accept_numpy_and_fraction_numbers() -> None:
    t = BoundTerms(contrastive=np.float32(2.0), sup=Fraction(1, 2), sub=np.float64(1.0),
                   collision=np.int64(1), d=-0.5, upsilon=np.float16(0.5), K=np.int64(31),
                   C=np.uint8(10))
    assert (t.K, t.C) == (31, 10) and type(t.K) is int and type(t.C) is int
    assert t.sup == 0.5 and type(t.sup) is float and type(t.contrastive) is float
    assert t == BoundTerms(2.0, 0.5, 1.0, 1.0, -0.5, 0.5, K=31, C=10)


@SETTINGS
@given(bound_terms(), st.sampled_from(["sup", "sub", "collision", "d"]),
       st.floats(0.0, 5.0, allow_nan=False))
def test_ns21_lower_bound_non_decreasing_in_each_term(t: BoundTerms, field: str,
                                                      step: float) -> None:
    new = getattr(t, field) + step
    if field == "d":
        new = min(new, 0.0)
    bigger = dataclasses.replace(t, **{field: new})
    assert ns21_lower_bound(bigger) >= ns21_lower_bound(t)


@SETTINGS
@given(bound_terms(with_arora=True), st.sampled_from(["arora_sub", "collision", "d"]),
       st.floats(0.0, 5.0, allow_nan=False))
def test_arora_lower_bound_non_decreasing(t: BoundTerms, field: str, step: float) -> None:
    new = getattr(t, field) + step
    if field == "d":
        new = min(new, 0.0)
    bigger = dataclasses.replace(t, **{field: new})
    assert arora_lower_bound(bigger) >= arora_lower_bound(t)


@SETTINGS
@given(bound_terms())
def test_ns21_sup_upper_bound_inverts_the_lower_bound(t: BoundTerms) -> None:
    # At L_Info equal to the bound, the supervised upper bound is L_sup itself.
    assume(t.upsilon >= 1e-3)
    lower = ns21_lower_bound(t)
    assume(lower >= 0.0)
    tight = dataclasses.replace(t, contrastive=lower)
    scale = 1.0 + t.sup + t.sub + t.collision - t.d
    assert ns21_sup_upper_bound(tight) == pytest.approx(t.sup, abs=1e-12 * scale / t.upsilon)


@SETTINGS
@given(bound_terms(holds=True))
def test_sup_upper_bound_covers_sup_when_the_bound_holds(t: BoundTerms) -> None:
    assume(t.upsilon > 0.0)
    scale = 1.0 + t.contrastive + t.sup + t.sub + t.collision - t.d
    assert ns21_sup_upper_bound(t) >= t.sup - 1e-12 * scale / t.upsilon


@SETTINGS
@given(bound_terms(with_arora=True))
def test_arora_sup_upper_bound_inverts_its_bound(t: BoundTerms) -> None:
    # L = (1 - tau) upsilon S + coll + d  =>  upper bound = S.
    den = (1.0 - t.tau) * t.upsilon
    assume(den >= 1e-3)
    target = t.sup
    contrastive = den * target + t.collision + t.d
    assume(contrastive >= 0.0)
    tight = dataclasses.replace(t, contrastive=contrastive)
    scale = 1.0 + t.sup + t.collision - t.d
    assert arora_sup_upper_bound(tight) == pytest.approx(target, abs=1e-12 * scale / den)


@SETTINGS
@given(bound_terms(with_arora=True))
def test_measured_bounds_are_floats_never_nan(t: BoundTerms) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VacuousBoundWarning)
        values = [ns21_lower_bound(t), ns21_sup_upper_bound(t), arora_lower_bound(t),
                  arora_sup_upper_bound(t), decompose(t).total]
    for v in values:
        assert type(v) is float
        assert not math.isnan(v)


# ---------------------------------------------------------------------------
# theoretical curves: the oracle for the table of math-comparison
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[10, 100])
def curves(request):
    C = request.param
    K = np.arange(1, 1001)
    ups = oracle_upsilon(C, 1000)[1:]
    miss = oracle_miss(C, 1000)[1:]
    coll = oracle_collision(C, 1000)[1:]
    return C, K, ups, miss, coll


@pytest.mark.parametrize("L", [3.0, 6.0])
def test_sup_upper_bounds_match_the_table(curves, L: float) -> None:
    C, K, ups, miss, coll = curves
    got = sup_upper_bounds(L, K, C, warn=False)
    # The theoretical terms themselves.
    assert_same(got.upsilon, ups, rtol=1e-10)
    assert_same(got.tau, 1.0 - miss, rtol=1e-12)
    assert_same(got.collision, coll, rtol=1e-10)
    # the table of math-comparison, uniform prior, B = 1.
    H = float(harmonic(C - 1))
    assert_same(got.arora, inf_div(L - coll, miss * ups))
    assert_same(got.ns21, inf_div(2 * L - coll, ups))
    assert_same(got.ash, 2 * np.maximum(1.0, 2 * (C - 1) * H / K) * (L - coll) / miss)
    lc = math.log(math.cosh(1.0))
    assert_same(got.bao, L + np.log((1 / C) * C**2 * math.cosh(1.0) ** 2 / K), rtol=1e-12)
    assert_same(got.bao_lower, L + math.log(C) + np.log(K) - 2 * np.log(1 + K) - 2 * lc,
                rtol=1e-12)
    np.testing.assert_array_equal(got.K, K)


def test_sup_upper_bounds_bao_constants_against_bao22_script() -> None:
    # BAO22's compare_upper_bound.py / plot_k_msuploss.py with b = 1, C = 100:
    # delta = log(pi.max() * c**2 * cosh(b**2)**2 / k),
    # gamma = entropy(pi) + log(k) - 2 log(1 + k) - 2 log(cosh(b**2)).
    k, c = 40, 100
    delta = math.log(0.01 * c**2 * math.cosh(1.0) ** 2 / k)
    gamma = math.log(c) + math.log(k) - 2 * math.log(1 + k) - 2 * math.log(math.cosh(1.0))
    got = sup_upper_bounds(5.0, k, c, warn=False)
    assert got.bao == pytest.approx(5.0 + delta, rel=1e-14)
    assert got.bao_lower == pytest.approx(5.0 + gamma, rel=1e-14)
    # B enters as cosh(B^2).
    got2 = sup_upper_bounds(5.0, k, c, B=2.0, warn=False)
    assert got2.bao - got.bao == pytest.approx(2 * (math.log(math.cosh(4.0)) - math.log(
        math.cosh(1.0))), rel=1e-12)


def test_sup_upper_bounds_non_uniform_bao_terms() -> None:
    p = np.array([0.5, 0.3, 0.2])
    got = sup_upper_bounds(2.0, 7, probs=p, warn=False)
    H = -float(np.sum(p * np.log(p)))
    assert got.bao == pytest.approx(2.0 + math.log(0.5 * 9 * math.cosh(1.0) ** 2 / 7), rel=1e-13)
    assert got.bao_lower == pytest.approx(
        2.0 + H + math.log(7) - 2 * math.log(8) - 2 * math.log(math.cosh(1.0)), rel=1e-13)
    # independent exact oracles (math-coverage, math-collisions) with rho = (1/2, 3/10, 1/5)
    rho = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    ups = sum(((-1) ** r * (1 - sum(S, Fraction(0))) ** 8
               for r in range(4) for S in itertools.combinations(rho, r)), Fraction(0))
    tau = 1 - sum(r * (1 - r) ** 7 for r in rho)
    assert got.upsilon == pytest.approx(float(ups), rel=1e-12)
    assert got.tau == pytest.approx(float(tau), rel=1e-12)
    assert got.upsilon == pytest.approx(coverage_prob(7, probs=p), rel=1e-12)
    assert got.tau == pytest.approx(collision_prob(7, probs=p), rel=1e-12)


def oracle_terms_counts(counts: list[int], K: int) -> tuple[float, float, float]:
    """upsilon_{K+1}, 1 - tau_K and E ln(1 + Col) for a prior given by counts
    (math-coverage, math-collisions),
    in integers / Fractions; the collision term with fsum of exactly rounded terms."""
    N = sum(counts)
    n = K + 1
    ups = Fraction(sum((-1) ** r * (N - sum(S)) ** n for r in range(len(counts) + 1)
                       for S in itertools.combinations(counts, r)), N**n)
    miss = sum((Fraction(c, N) * Fraction(N - c, N) ** K for c in counts), Fraction(0))
    coll = math.fsum(float(Fraction(c * math.comb(K, m) * c**m * (N - c) ** (K - m), N ** (K + 1)))
                     * math.log1p(m) for c in counts for m in range(1, K + 1))
    return float(ups), float(miss), coll


@pytest.mark.parametrize("counts", [[1, 2, 3], [5, 1, 1, 1], [2, 2, 7], [1, 9], [3, 3, 3, 1, 1]])
def test_non_uniform_curves_match_the_oracle(counts: list[int]) -> None:
    for K in (0, 1, 2, 5, 17, 60, 200):
        ups, miss, coll = oracle_terms_counts(counts, K)
        b = sup_upper_bounds(3.0, K, counts=counts, warn=False)
        assert_same(b.upsilon, ups, rtol=1e-12)
        assert_same(b.tau, 1.0 - miss, rtol=1e-12)
        assert_same(b.collision, coll, rtol=1e-12)
        assert_same(b.arora, inf_div(np.float64(3.0 - coll), np.float64(miss * ups)), rtol=1e-12)
        assert_same(b.ns21, inf_div(np.float64(6.0 - coll), np.float64(ups)), rtol=1e-12)
        curve = ns21_bound_curve(1.8, 1.1, -0.4, K, counts=counts)
        assert curve == pytest.approx(0.5 * (ups * 1.8 + (1 - ups) * 1.1 + coll) - 0.4,
                                      rel=1e-12, abs=1e-15)


def test_sup_upper_bounds_shapes_and_types() -> None:
    scalar = sup_upper_bounds(3.0, 31, 10, warn=False)
    assert isinstance(scalar, SupUpperBounds)
    want = {"K": int, "setting": str, "sub": type(None)}
    for name, value in scalar.to_dict().items():
        assert type(value) is want.get(name, float), name
    assert scalar.setting == "BAO22 (d = 0)" and scalar.d == 0.0
    vec = sup_upper_bounds([2.0, 3.0, 4.0], 31, 10, warn=False)
    assert np.shape(vec.arora) == (3,) and np.shape(vec.K) == (3,)
    grid = sup_upper_bounds(np.array([[2.0], [3.0]]), np.array([10, 20, 30]), 5, warn=False)
    assert np.shape(grid.ns21) == (2, 3)
    assert isinstance(grid.to_dict()["ash"], list)
    assert "SupUpperBounds(" in repr(grid) and "ns21=" in repr(grid)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scalar.arora = 0.0  # type: ignore[misc]
    # numpy integer scalars count as scalars
    assert type(sup_upper_bounds(3.0, np.int64(31), 10, warn=False).ash) is float


def test_sup_upper_bounds_edge_cases_are_inf_not_nan() -> None:
    b = sup_upper_bounds(0.0, [0, 1, 2, 3], 3, warn=False)
    for name, value in b.to_dict().items():
        if name not in ("setting", "sub"):
            assert not np.isnan(np.asarray(value, dtype=float)).any()
    assert np.isposinf(np.asarray(b.ns21)[:2]).all()  # upsilon = 0 for K + 1 < C
    assert np.isposinf(np.asarray(b.ash)[0]) and np.isposinf(np.asarray(b.bao)[0])
    assert np.isneginf(np.asarray(b.bao_lower)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # collision.py's log1p(-1) for C = 1
        one = np.asarray(sup_upper_bounds(1.0, [0, 5], 1, warn=False).arora)  # every negative collides
    assert one[0] == pytest.approx(1.0) and np.isposinf(one[1])


def test_arora_keeps_precision_where_tau_rounds_to_one() -> None:
    # C = 10, K = 999: 1 - tau = 0.9^999 = 1.7e-46, tau rounds to 1.0 in float64.
    b = sup_upper_bounds(10.0, 999, 10, warn=False)
    ups = oracle_upsilon(10, 999)[-1]
    coll = oracle_collision(10, 999)[-1]
    assert b.upsilon == pytest.approx(ups, rel=1e-12)
    assert b.collision == pytest.approx(coll, rel=1e-12)
    # 1 - tau = 0.9^999 exactly rounded: no float 1 - tau involved
    miss = Fraction(9, 10) ** 999
    expected = (10.0 - coll) / (float(miss) * ups)
    assert b.arora == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(b.ash)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(contrastive=-1.0, K=5, C=3), ValueError, "contrastive"),
        (dict(contrastive=[1.0, math.nan], K=5, C=3), ValueError, "contrastive"),
        (dict(contrastive="a", K=5, C=3), TypeError, "contrastive"),
        (dict(contrastive=1.0, K=-1, C=3), ValueError, "K"),
        (dict(contrastive=1.0, K=2.5, C=3), ValueError, "K"),
        (dict(contrastive=1.0, K=5, C=0), ValueError, "C"),
        (dict(contrastive=1.0, K=5), TypeError, "C"),
        (dict(contrastive=1.0, K=5, C=3, B=0.0), ValueError, "B must"),
        (dict(contrastive=1.0, K=5, C=3, B=True), TypeError, "B must"),
        (dict(contrastive=1.0, K=5, C=3, B=math.inf), ValueError, "B must"),
        (dict(contrastive=1.0, K=5, C=3, B="1"), TypeError, "B must"),
        (dict(contrastive=1.0, K=5, C=3, d=0.5), ValueError, "d must be <= 0"),
        (dict(contrastive=1.0, K=5, C=3, d=[0.0, math.nan]), ValueError, "d must be finite"),
        (dict(contrastive=1.0, K=5, C=3, d="0"), TypeError, "d must"),
        (dict(contrastive=1.0, K=5, C=3, sub=-1.0), ValueError, "sub must be >= 0 \\(a loss\\)"),
        (dict(contrastive=1.0, K=5, C=3, sub=True), TypeError, "sub must"),
        (dict(contrastive=1.0, K=5, C=3, warn=1), TypeError, "warn must"),
        (dict(contrastive=1.0, K=[1, 2], C=3, d=[-1.0, -1.0, -1.0]), ValueError, "d \\(3,\\)"),
        (dict(contrastive=[1.0, 2.0], K=[1, 2, 3], C=3), ValueError, "contrastive"),
        (dict(contrastive=1.0, K=5, probs=[0.5, 0.6]), ValueError, "probs"),
    ],
)
def test_sup_upper_bounds_validation(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        sup_upper_bounds(**kwargs)


@SETTINGS
@given(priors(max_classes=12), st.lists(negatives(max_value=300), min_size=1, max_size=5),
       st.floats(0.0, 20.0, allow_nan=False), st.floats(0.1, 3.0, allow_nan=False))
def test_sup_upper_bounds_never_nan_and_bao_ordered(prior, Ks, L, B) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # collision.py's log1p(-1) for C = 1
        b = sup_upper_bounds(L, np.array(Ks), B=B, warn=False, **prior)
    for name, value in b.to_dict().items():
        if name in ("setting", "sub"):
            continue
        assert not np.isnan(np.asarray(value, dtype=float)).any(), name
    assert np.all(b.bao_lower <= b.bao)


def test_ns21_upper_bound_non_increasing_in_K_for_fixed_L() -> None:
    # the NS21 row of math-comparison with fixed L: (2L - coll_K) / upsilon_{K+1} decreases once
    # upsilon > 0, as long as the bound stays meaningful (2L >= coll_K).
    for C in (10, 100):
        K = np.arange(C - 1, 3000)
        b = sup_upper_bounds(5.0, K, C, warn=False)
        coll, ns = np.asarray(b.collision), np.asarray(b.ns21)
        assert np.all(2 * 5.0 >= coll)
        assert np.all(np.diff(ns) <= 1e-12 * ns[1:])
        assert ns[-1] == pytest.approx(10.0 - coll[-1], rel=1e-9)


@SETTINGS
@given(bound_terms(), st.integers(1, 50), st.integers(2, 12))
def test_measured_ns21_upper_bound_non_increasing_in_K(t: BoundTerms, K0: int, C: int) -> None:
    # Measured form with theoretical upsilon and collision: non-increasing in K once
    # upsilon > 0, over K where the bound is >= L_sub (inputs consistent with the bound).
    K = np.arange(max(K0, C - 1), K0 + 60)
    ups = np.asarray(coverage_prob(K, C))
    coll = np.asarray(expected_log_collision(K, C))
    values = np.array([
        ns21_sup_upper_bound(dataclasses.replace(t, upsilon=float(u), collision=float(c)))
        for u, c in zip(ups, coll, strict=True)
    ])
    assume(np.all(values >= t.sub))
    assert np.all(np.diff(values) <= 1e-9 * (1 + np.abs(values[1:])))


def test_arora_upper_bound_grows_without_bound() -> None:
    # For fixed L (here well above the collision term over the whole range), ARORA19's
    # bound grows exponentially in K while NS21's settles near 2L - coll.
    for C in (10, 100):
        K = np.arange(C, 2000)
        b = sup_upper_bounds(50.0, K, C, warn=False)
        arora, coll = np.asarray(b.arora), np.asarray(b.collision)
        assert np.all(50.0 > coll)
        # increasing once upsilon is near 1 (past the coupon collector's bulk C ln C)
        late = K >= 2 * C * math.log(C)
        assert np.all(np.diff(arora[late]) > 0)
        assert arora[-1] > 1e6 * np.asarray(b.ns21)[-1]
        assert arora[-1] > (1e80 if C == 10 else 1e7)
        # the coefficient 1 / ((1 - tau) upsilon) alone: exactly (C/(C-1))^K / upsilon
        coef = arora / (50.0 - coll)
        np.testing.assert_allclose(coef, (C / (C - 1)) ** K / b.upsilon, rtol=1e-9)


def test_arora_measured_upper_bound_explodes_with_theoretical_tau() -> None:
    t = cifar10_row()
    values = []
    for K in (31, 63, 127, 255):  # at K = 511, tau rounds to 1.0 in float64
        tau = collision_prob(K, 10)
        ups = coverage_prob(K, 10)
        coll = expected_log_collision(K, 10)
        values.append(arora_sup_upper_bound(dataclasses.replace(
            t, tau=tau, upsilon=ups, collision=coll, contrastive=coll + 1.0)))
    assert all(b > a for a, b in zip(values, values[1:], strict=False))
    assert values[-1] > 1e10


# ---------------------------------------------------------------------------
# laws of the theoretical terms (from coupon.py / collision.py)
# ---------------------------------------------------------------------------


@SETTINGS
@given(priors(max_classes=12), negatives(max_value=400))
def test_upsilon_tau_collision_non_decreasing_in_K(prior, K0) -> None:
    K = np.arange(K0, K0 + 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ups = np.asarray(coverage_prob(K, **prior))
        tau = np.asarray(collision_prob(K, **prior))
        coll = np.asarray(expected_log_collision(K, **prior))
    for name, arr in (("upsilon", ups), ("tau", tau), ("collision", coll)):
        assert np.all(np.diff(arr) >= -1e-12 * np.abs(arr[1:])), name
        assert not np.isnan(arr).any(), name


# ---------------------------------------------------------------------------
# ns21_bound_curve
# ---------------------------------------------------------------------------


def test_ns21_bound_curve_exact_matches_oracle(curves) -> None:
    C, K, ups, miss, coll = curves
    got = ns21_bound_curve(1.8, 1.6, -1.1, K, C)
    expected = 0.5 * (ups * 1.8 + (1 - ups) * 1.6 + coll) - 1.1
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-13)


def test_ns21_bound_curve_asymptotic_forms_match_their_formulas() -> None:
    K = np.array([5, 50, 500])
    C = 10
    n = K + 1
    tail = np.clip(1 - C * (1 - 1 / C) ** n, 0, 1)
    gumbel = np.exp(-C * np.exp(-n / C))
    lead = np.log(1 + K / C)
    got_k = ns21_bound_curve(2.0, 1.0, -0.5, K, C, form="asymptotic")
    got_c = ns21_bound_curve(2.0, 1.0, -0.5, K, C, form="asymptotic", regime="large_C")
    np.testing.assert_allclose(got_k, 0.5 * (2 * tail + (1 - tail) + lead) - 0.5, rtol=1e-13)
    np.testing.assert_allclose(got_c, 0.5 * (2 * gumbel + (1 - gumbel) + lead) - 0.5,
                               rtol=1e-13)
    # non-uniform prior: Poisson product and sum_c rho_c ln(1 + K rho_c)
    p = np.array([0.2, 0.3, 0.5])
    poisson = np.prod(1 - np.exp(-np.outer(n, p)), axis=1)
    lead_p = np.log1p(np.outer(K, p)) @ p
    got_p = ns21_bound_curve(2.0, 1.0, -0.5, K, probs=p, form="asymptotic", regime="large_C")
    np.testing.assert_allclose(got_p, 0.5 * (2 * poisson + (1 - poisson) + lead_p) - 0.5,
                               rtol=1e-13)
    # and the large-K regime (the tail of math-asymptotic: upsilon ~ 1 - sum_c (1 - rho_c)^n, clipped)
    tail_p = np.clip(1 - ((1 - p)[None, :] ** n[:, None]).sum(axis=1), 0, 1)
    got_pk = ns21_bound_curve(2.0, 1.0, -0.5, K, probs=p, form="asymptotic")
    np.testing.assert_allclose(got_pk, 0.5 * (2 * tail_p + (1 - tail_p) + lead_p) - 0.5,
                               rtol=1e-13)


@pytest.mark.parametrize(("C", "K"), [(10, [20, 50, 100, 1000, 10_000, 100_000]),
                                      (100, [500, 1000, 10_000, 100_000])])
@pytest.mark.parametrize("regime", ["large_K", "large_C"])
def test_exact_and_asymptotic_meet_as_K_grows(C, K, regime) -> None:
    K = np.array(K)
    exact = ns21_bound_curve(1.9, 1.2, -1.0, K, C)
    asym = ns21_bound_curve(1.9, 1.2, -1.0, K, C, form="asymptotic", regime=regime)
    rel = np.abs(asym - exact) / np.abs(exact)
    assert np.all(np.diff(rel) < 0), rel
    assert rel[-1] < 1e-4


@pytest.mark.parametrize("C", [3, 10, 50])
def test_asymptotic_error_within_the_documented_bound(C) -> None:
    # |B_a - B| <= S2 |sup - sub| / 2 + (C - 1) / (2 (K + 1)) in the large-K regime,
    # and the collision part is one-sided (Jensen).
    K = np.unique(np.geomspace(1, 20_000, 60).astype(int))
    sup, sub = 2.5, 0.5
    exact = ns21_bound_curve(sup, sub, 0.0, K, C)
    asym = ns21_bound_curve(sup, sub, 0.0, K, C, form="asymptotic")
    s2 = math.comb(C, 2) * (1 - 2 / C) ** (K + 1)
    assert np.all(np.abs(asym - exact) <= 0.5 * s2 * abs(sup - sub) + (C - 1) / (2 * (K + 1))
                  + 1e-12)
    coll_exact = np.asarray(expected_log_collision(K, C))
    assert np.all(np.log1p(K / C) >= coll_exact - 1e-12)
    assert np.all(np.log1p(K / C) - coll_exact <= (C - 1) / (K + 1) + 1e-12)


def test_ns21_bound_curve_shapes_and_types() -> None:
    assert type(ns21_bound_curve(1.0, 1.0, -0.5, 10, 3)) is float
    assert type(ns21_bound_curve(1.0, 1.0, -0.5, 10, 3, form="asymptotic")) is float
    out = ns21_bound_curve([1.0, 2.0], 1.0, -0.5, [[10], [20]], 3)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((1.0, 1.0, 0.5, 10, 3), {}, ValueError, "d must be <= 0"),
        ((-1.0, 1.0, -0.5, 10, 3), {}, ValueError, "sup"),
        ((1.0, math.inf, -0.5, 10, 3), {}, ValueError, "sub"),
        ((1.0, 1.0, -0.5, -2, 3), {}, ValueError, "K"),
        ((1.0, 1.0, -0.5, 10, 3), {"form": "approx"}, ValueError, "form"),
        ((1.0, 1.0, -0.5, 10, 3), {"regime": "small"}, ValueError, "regime"),
        ((1.0, 1.0, -0.5, 10), {}, TypeError, "C"),
        (([1.0, 2.0], 1.0, -0.5, [1, 2, 3], 3), {}, ValueError, "broadcast"),
    ],
)
def test_ns21_bound_curve_validation(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        ns21_bound_curve(*args, **kwargs)


@SETTINGS
@given(priors(max_classes=10), st.lists(negatives(max_value=500), min_size=1, max_size=4),
       st.sampled_from(["exact", "asymptotic"]), st.sampled_from(["large_K", "large_C"]))
def test_ns21_bound_curve_never_nan(prior, Ks, form, regime) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = ns21_bound_curve(1.5, 2.0, -0.7, np.array(Ks), form=form, regime=regime, **prior)
    assert np.shape(out) == (len(Ks),)
    assert np.all(np.isfinite(out))
    # the bound lies between its smallest and largest possible value
    assert np.all(out >= 0.5 * 1.5 - 0.7 - 1e-12)
    assert np.all(out <= 0.5 * (2.0 + np.log1p(np.array(Ks))) - 0.7 + 1e-12)


# ---------------------------------------------------------------------------
# the prior as an object; ARORA19's "measured" test
# ---------------------------------------------------------------------------


def test_a_prior_object_in_place_of_C() -> None:
    counts = [5, 3, 2]
    prior = Prior.from_counts(counts)
    K = np.array([2, 7, 30])
    a = sup_upper_bounds(2.5, K, prior, warn=False)
    b = sup_upper_bounds(2.5, K, counts=counts, warn=False)
    for name, value in a.to_dict().items():
        assert np.array_equal(value, b.to_dict()[name]), name
    assert np.array_equal(ns21_bound_curve(1.5, 1.0, -0.2, K, prior),
                          ns21_bound_curve(1.5, 1.0, -0.2, K, counts=counts))
    assert ns21_bound_curve(1.5, 1.0, -0.2, 31, Prior.uniform(10)) == \
        ns21_bound_curve(1.5, 1.0, -0.2, 31, 10)


def test_ns21_bound_curve_without_replacement_by_hand() -> None:
    # data set {a, a, b}, K = 1: the anchor and one negative drawn without replacement.
    # upsilon_2 = 1 - P(a, a) = 1 - (2/3)(1/2) = 2/3;
    # Col = 1 only when anchor and negative are both a: E ln(1+Col) = (1/3) ln 2.
    sup, sub, d = 1.2, 0.6, -0.1
    want = 0.5 * ((2 / 3) * sup + (1 / 3) * sub + math.log(2) / 3) + d
    got = ns21_bound_curve(sup, sub, d, 1, counts=[2, 1], replacement=False)
    assert got == pytest.approx(want, rel=1e-14)
    prior = Prior.from_counts([2, 1], replacement=False)
    assert ns21_bound_curve(sup, sub, d, 1, prior) == got


def test_without_replacement_refused_where_the_formulas_assume_independent_draws() -> None:
    prior = Prior.from_counts([4, 3, 3], replacement=False)
    with pytest.raises(ValueError, match="sup_upper_bounds models independent draws"):
        sup_upper_bounds(2.0, 5, prior)
    with pytest.raises(ValueError, match="independent draws"):
        ns21_bound_curve(1.0, 1.0, 0.0, 5, counts=[4, 3, 3], replacement=False,
                         form="asymptotic")


def test_arora_measured() -> None:
    base = BoundTerms(2.0, 1.0, 1.0, 0.5, -0.5, upsilon=0.7)
    assert not base.arora_measured
    assert not dataclasses.replace(base, arora_sub=1.0).arora_measured  # tau missing
    assert not dataclasses.replace(base, tau=0.5).arora_measured  # arora_sub missing, weight 0.5
    assert dataclasses.replace(base, tau=1.0).arora_measured  # weight 1 - tau = 0
    assert dataclasses.replace(base, tau=0.5, arora_sub=1.0).arora_measured
    # exactly the terms arora_lower_bound accepts
    for t in (base, dataclasses.replace(base, tau=0.5), dataclasses.replace(base, tau=1.0)):
        if t.arora_measured:
            arora_lower_bound(t)
        else:
            with pytest.raises(ValueError, match="not measured"):
                arora_lower_bound(t)


# ---------------------------------------------------------------------------
# sup_upper_bounds: the setting (d, L_sub) and RestatedBoundWarning
# ---------------------------------------------------------------------------


def test_sup_upper_bounds_settings_on_ns21_table2_cifar10() -> None:
    # NS21 Table 2, CIFAR-10, K + 1 = 32: L = 2.02, d = -1.16, (1 - upsilon) L_sub = 0.52.
    L, d, sub = 2.02, -1.16, 0.52 / 0.31
    ups = float(oracle_upsilon(10, 31)[-1])
    coll = float(oracle_collision(10, 31)[-1])
    full = sup_upper_bounds(L, 31, 10, d=d, sub=sub)
    assert full.setting == "with d and L_sub" and full.d == d and full.sub == sub
    terms = BoundTerms(contrastive=L, sup=0.0, sub=sub, collision=coll, d=d, upsilon=ups)
    assert full.ns21 == pytest.approx(ns21_sup_upper_bound(terms), rel=1e-12)
    assert round(full.ns21, 2) == 6.55
    with_d = sup_upper_bounds(L, 31, 10, d=d)
    assert with_d.setting == "with d" and with_d.sub is None
    assert with_d.ns21 == pytest.approx((2 * (L - d) - coll) / ups, rel=1e-12)
    assert round(with_d.ns21, 2) == 7.30
    with pytest.warns(RestatedBoundWarning, match="d was left at 0"):
        bao = sup_upper_bounds(L, 31, 10)
    assert bao.setting == "BAO22 (d = 0)"
    assert bao.ns21 == pytest.approx((2 * L - coll) / ups, rel=1e-12)
    assert round(bao.ns21, 2) == 3.94
    # the BAO22-setting value is not an upper bound once d < 0: the valid ones are larger
    assert bao.ns21 < full.ns21 < with_d.ns21
    # ARORA19 and ASH22 with d: L - coll becomes L - coll - d
    miss = (9 / 10) ** 31
    assert with_d.arora == pytest.approx((L - coll - d) / (miss * ups), rel=1e-12)
    assert full.arora == with_d.arora and full.ash == with_d.ash
    assert with_d.ash / bao.ash == pytest.approx((L - coll - d) / (L - coll), rel=1e-12)
    # BAO22's own rows do not depend on d
    assert (full.bao, full.bao_lower) == (bao.bao, bao.bao_lower)


def test_restated_bound_warning_when_and_only_when_d_is_left_at_zero() -> None:
    assert issubclass(RestatedBoundWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RestatedBoundWarning)
        sup_upper_bounds(2.0, 31, 10, d=-0.1)                       # d given
        sup_upper_bounds([2.0, 3.0], 31, 10, d=[0.0, -0.3])          # d non-zero somewhere
        sup_upper_bounds(2.0, 31, 10, warn=False)                   # switched off
        sup_upper_bounds(0.0, 31, 10)                               # no contrastive loss
    with pytest.warns(RestatedBoundWarning):
        sup_upper_bounds(2.0, 31, 10, sub=1.0)                      # L_sub but d = 0
    with pytest.warns(RestatedBoundWarning):
        sup_upper_bounds([0.0, 1.0], [5, 31], 10, d=0.0)           # d = 0 passed explicitly


def test_sup_upper_bounds_d_and_sub_broadcast() -> None:
    K = np.array([15, 31, 63])
    d = np.array([[-1.0], [-0.5]])
    b = sup_upper_bounds(2.5, K, 10, d=d, sub=1.5)
    assert np.shape(b.ns21) == (2, 3) and np.shape(b.d) == (2, 3) and np.shape(b.sub) == (2, 3)
    for i in range(2):
        for j, k in enumerate(K):
            one = sup_upper_bounds(2.5, int(k), 10, d=float(d[i, 0]), sub=1.5)
            assert b.ns21[i, j] == one.ns21 and b.arora[i, j] == one.arora
    assert isinstance(b.to_dict()["sub"], list) and b.to_dict()["setting"] == "with d and L_sub"


@SETTINGS
@given(st.floats(0.0, 10.0), st.floats(-5.0, 0.0), st.floats(0.0, 10.0), st.integers(0, 300),
       st.integers(1, 30))
def test_sup_upper_bounds_ns21_row_is_the_measured_bound(L, d, sub, K, C) -> None:
    b = sup_upper_bounds(L, K, C, d=d, sub=sub, warn=False)
    if b.upsilon == 0:
        assert math.isinf(b.ns21)
        return
    t = BoundTerms(contrastive=L, sup=0.0, sub=sub, collision=b.collision, d=d, upsilon=b.upsilon)
    assert b.ns21 == pytest.approx(ns21_sup_upper_bound(t), rel=1e-12, abs=1e-12)
    # dropping L_sub keeps a valid (larger) bound; d < 0 only ever raises it
    assert sup_upper_bounds(L, K, C, d=d, warn=False).ns21 >= b.ns21 - 1e-12
    assert b.ns21 >= sup_upper_bounds(L, K, C, sub=sub, warn=False).ns21 - 1e-12


@pytest.mark.parametrize(("d", "sub", "setting"), [
    (0.0, None, "BAO22 (d = 0)"),
    (0.0, 0.52 / 0.31, "BAO22 (d = 0) with L_sub"),
    (-1.16, None, "with d"),
    (-1.16, 0.52 / 0.31, "with d and L_sub"),
])
def test_setting_and_warning_agree(d, sub, setting) -> None:  # type: ignore[no-untyped-def]
    """Issue 22: with d = 0 and sub given the result said 'with d and L_sub' while its
    warning said 'BAO22 (d = 0)'.  Now the setting follows d and sub independently, and
    the warning (issued exactly when d = 0) names the setting the result carries."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        b = sup_upper_bounds(2.02, 31, 10, d=d, sub=sub)
    assert b.setting == setting
    restated = [w for w in caught if issubclass(w.category, RestatedBoundWarning)]
    assert len(restated) == (1 if d == 0 else 0)
    if restated:
        assert f"(setting {setting!r})" in str(restated[0].message)
        assert ("NS21 row uses L_sub" in str(restated[0].message)) == (sub is not None)
    # the NS21 row uses L_sub exactly when the setting says so
    ups, coll = b.upsilon, b.collision
    want = (2 * (2.02 - d) - (1 - ups) * (sub or 0.0) - coll) / ups
    assert b.ns21 == pytest.approx(want, rel=1e-13)


# ---------------------------------------------------------------------------
# one vectorisation layer: each argument validated once
# ---------------------------------------------------------------------------


def _count_calls(monkeypatch, module, name):  # type: ignore[no-untyped-def]
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, name)
    calls: list[object] = []

    def counting(value, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(mod, name, counting)
    return calls


@pytest.mark.parametrize("call", [
    lambda: sup_upper_bounds([2.0, 3.0], [[31], [63]], 10, d=-0.5, sub=1.0),
    lambda: sup_upper_bounds(2.0, 31, counts=[1, 2, 3], d=-0.5),
    lambda: ns21_bound_curve(1.8, 1.7, -1.0, [100, 1000], 10),
    lambda: ns21_bound_curve(1.8, 1.7, -1.0, [100, 1000], 10, form="asymptotic"),
    lambda: bao22_min_contrastive([1, 10, 99], 10),
])
def test_K_is_validated_exactly_once(monkeypatch, call) -> None:  # type: ignore[no-untyped-def]
    """K goes through check_int_array once; the maths functions the bounds call take the
    validated Negatives as they are (before: four times in sup_upper_bounds)."""
    calls = _count_calls(monkeypatch, "couponbound._vectorize", "check_int_array")
    call()
    assert len(calls) == 1


def test_real_arguments_are_validated_exactly_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import couponbound.bounds as bounds_mod

    calls: list[str] = []
    real = bounds_mod.check_real_array

    def counting(value, name, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(name)
        return real(value, name, **kwargs)

    monkeypatch.setattr(bounds_mod, "_LOSS", functools.partial(counting, minimum=0.0))
    monkeypatch.setattr(bounds_mod, "_D", functools.partial(counting, maximum=0.0))
    sup_upper_bounds([2.0, 3.0], 31, 10, d=-0.5, sub=1.0)
    assert sorted(calls) == ["contrastive", "d", "sub"]


def test_restated_warning_points_at_the_caller() -> None:
    with pytest.warns(RestatedBoundWarning) as rec:
        sup_upper_bounds(2.0, 31, 10)
    assert rec[0].filename == __file__


@pytest.mark.parametrize("bad", [
    np.ma.masked_array([2.0, 3.0], mask=[0, 1]), np.datetime64("2020"), b"2.0", True,
])
def test_curves_refuse_masked_dates_bytes_and_bools(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TypeError, match="contrastive must be a real number"):
        sup_upper_bounds(bad, 31, 10, d=-0.5)
    with pytest.raises(TypeError, match="sup must be a real number"):
        ns21_bound_curve(bad, 1.0, -0.5, 31, 10)


def test_huge_real_argument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="contrastive must be finite"):
        sup_upper_bounds(10**400, 31, 10, d=-0.5)


def test_each_formula_is_written_once() -> None:
    """BAO22's and ASH22's arithmetic lives in _formulas only: bounds.py and symbolic.py
    call it (the numbers and the sympy forms share one definition)."""
    import inspect

    import couponbound.bounds as b
    import couponbound.symbolic as s

    for mod in (b, s):
        src = inspect.getsource(mod)
        for pattern in ("exp(-2.0 * Bf", "exp(-2 * b", "log1p(m +", "log(1 + m +", "(k - m) * e",
                        "(c - 1) * sympy.exp", "2 * max(", "2.0 * np.maximum", "2.0 * lc"):
            assert pattern not in src, (mod.__name__, pattern)


@pytest.mark.parametrize(("C", "K"), [(2, 1), (10, 31), (10, 5), (100, 127), (3, 1000)])
def test_ash22_row_against_exact_arithmetic(C: int, K: int) -> None:
    """ASH22: 2 max(1, 2 (C-1) H_{C-1} / K) (L - coll - d) / (1 - tau), H exact."""
    h = sum(Fraction(1, j) for j in range(1, C))
    factor = 2 * max(Fraction(1), 2 * (C - 1) * h / K)
    miss = Fraction(C - 1, C) ** K
    b = sup_upper_bounds(2.5, K, C, d=-0.75)
    want = float(factor) * (2.5 - b.collision + 0.75) / float(miss)
    assert b.ash == pytest.approx(want, rel=1e-12)


@SETTINGS
@given(data=st.data())
def test_curves_broadcast_like_numpy_and_agree_with_scalar_calls(data) -> None:  # type: ignore[no-untyped-def]
    """The one broadcast layer: any broadcastable shapes of L, K, d give numpy's broadcast
    shape, and each element equals the scalar call on that element's arguments."""
    from hypothesis.extra.numpy import mutually_broadcastable_shapes

    shapes = data.draw(mutually_broadcastable_shapes(num_shapes=3, max_dims=2, max_side=3))
    L = data.draw(st.floats(0.0, 5.0)) + np.zeros(shapes.input_shapes[0])
    K = np.asarray(data.draw(st.integers(0, 60))) + np.arange(
        int(np.prod(shapes.input_shapes[1])), dtype=np.int64).reshape(shapes.input_shapes[1])
    d = -np.abs(np.linspace(0.0, 1.0, int(np.prod(shapes.input_shapes[2])))).reshape(
        shapes.input_shapes[2])
    b = sup_upper_bounds(L, K, 4, d=d, warn=False)
    curve = ns21_bound_curve(L, 1.0, d, K, 4)
    assert np.shape(b.ns21) == np.shape(curve) == shapes.result_shape
    Lb, Kb, db = np.broadcast_arrays(L, K, d)
    for idx in np.ndindex(*shapes.result_shape):
        one = sup_upper_bounds(float(Lb[idx]), int(Kb[idx]), 4, d=float(db[idx]), warn=False)
        assert np.asarray(b.ns21)[idx] == one.ns21 and np.asarray(b.ash)[idx] == one.ash
        assert np.asarray(curve)[idx] == ns21_bound_curve(float(Lb[idx]), 1.0, float(db[idx]),
                                                          int(Kb[idx]), 4)


def test_without_replacement_K_is_checked_against_the_data_set_once() -> None:
    with pytest.raises(ValueError, match=r"K = 7 needs 8 distinct samples.*N = 6"):
        ns21_bound_curve(1.0, 1.0, -0.5, [3, 7], counts=[2, 2, 2], replacement=False)
    got = ns21_bound_curve(1.0, 1.0, -0.5, [2, 5], counts=[2, 2, 2], replacement=False)
    assert got.shape == (2,) and np.all(np.isfinite(got))
