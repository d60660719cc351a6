"""Tests of couponbound.symbolic: closed forms against exact arithmetic."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from oracles import expected_T_subsets, subsets_ie, uniform_ie

from couponbound import Prior, exact
from couponbound._formulas import ns21_bound
from couponbound.collision import collision_prob, expected_log_collision
from couponbound.coverage import coverage_prob
from couponbound.symbolic import (
    as_fraction,
    collision_prob_expr,
    completion_time_var_expr,
    coverage_prob_expr,
    expected_draws_expr,
    expected_log_collision_expr,
    latex,
    ns21_lower_bound_expr,
    ns21_sup_upper_bound_expr,
    symbol,
)

K = symbol("K")


def stirling2(n: int, k: int) -> int:
    """Stirling numbers of the second kind by their recurrence (positive terms only)."""
    row = [1] + [0] * k  # S(0, j)
    for i in range(1, n + 1):
        new = [0] * (k + 1)
        for j in range(1, min(i, k) + 1):
            new[j] = j * row[j] + row[j - 1]
        row = new
    return row[k]


def mp_elog(weights: list[int], k: int) -> mpmath.mpf:
    """math-collisions: sum_c rho_c sum_m Binom(m; k, rho_c) ln(1 + m), at 40 digits."""
    N = sum(weights)
    with mpmath.workdps(40):
        return mpmath.fsum(
            mpmath.mpf(w) / N * mpmath.fsum(
                mpmath.binomial(k, m) * (mpmath.mpf(w) / N) ** m * (1 - mpmath.mpf(w) / N)
                ** (k - m) * mpmath.log(1 + m) for m in range(k + 1))
            for w in weights)


@pytest.mark.parametrize("C", [1, 2, 3, 7, 10])
def test_coverage_expr_agrees_with_exact_coverage_prob(C: int) -> None:
    expr = coverage_prob_expr(C)
    assert expr.free_symbols <= {K}
    for k in [0, 1, C - 2, C - 1, C, 31, 200]:
        if k < 0:
            continue
        value = as_fraction(expr.subs(K, k))
        assert value == exact.coverage_prob(k, C)
        # and C! S2(n, C) / C^n (math-coverage), by a recurrence with no cancellation
        n = k + 1
        assert value == Fraction(math.factorial(C) * stirling2(n, C), C**n)


def test_coverage_expr_cancellation_case() -> None:
    # math-cancellation: C = 100, K + 1 = 128 has upsilon = 1.5036e-22.
    value = as_fraction(coverage_prob_expr(100, K=127))
    assert value == exact.coverage_prob(127, 100)
    assert float(value) == pytest.approx(1.5036e-22, rel=1e-4)


@pytest.mark.parametrize("C", [2, 5])
def test_coverage_expr_without_anchor(C: int) -> None:
    expr = coverage_prob_expr(C, include_anchor=False)
    for k in [0, 1, C, 12]:
        value = as_fraction(expr.subs(K, k))
        assert value == exact.coverage_prob(k, C, include_anchor=False)
        assert value == uniform_ie(k, C)  # independent oracle: n = K draws


@pytest.mark.parametrize("counts", [[1, 2, 3], [2, 2, 5, 5], [1, 1, 1, 4]])
def test_coverage_expr_non_uniform(counts) -> None:
    expr = coverage_prob_expr(counts=counts)
    for k in [0, 2, 5, 17]:
        value = as_fraction(expr.subs(K, k))
        assert value == exact.coverage_prob(k, counts=counts)
        assert value == subsets_ie(k + 1, counts)  # independent oracle, math-coverage


def test_coverage_expr_general_and_unexpanded_forms() -> None:
    general = coverage_prob_expr()
    assert isinstance(general, sympy.Sum)
    assert as_fraction(general.subs(symbol("C"), 4).subs(K, 9).doit()) == uniform_ie(10, 4)
    unexpanded = coverage_prob_expr(6, expand=False)
    assert isinstance(unexpanded, sympy.Sum)
    assert as_fraction(unexpanded.subs(K, 11).doit()) == uniform_ie(12, 6)


def test_expected_completion_time_and_variance() -> None:
    for C in [1, 2, 10, 100]:
        H = sum((Fraction(1, j) for j in range(1, C + 1)), Fraction(0))
        H2 = sum((Fraction(1, j * j) for j in range(1, C + 1)), Fraction(0))
        assert as_fraction(expected_draws_expr(C)) == C * H
        assert as_fraction(completion_time_var_expr(C)) == C * C * H2 - C * H
        # as a sum of independent geometrics, p_j = (C - j) / C
        var = sum((Fraction(1) - Fraction(C - j, C)) / Fraction(C - j, C) ** 2
                  for j in range(C))
        assert as_fraction(completion_time_var_expr(C)) == var
    # NS21 Table 3 lists E[K + 1] rounded up
    assert math.ceil(as_fraction(expected_draws_expr(10))) == 30
    assert math.ceil(as_fraction(expected_draws_expr(100))) == 519
    assert math.ceil(as_fraction(expected_draws_expr(4))) == 9


def test_expected_completion_time_non_uniform() -> None:
    # rho = (1/4, 3/4): E[T] = 4 + 4/3 - 1 (FGT92)
    assert as_fraction(expected_draws_expr(counts=[1, 3])) == Fraction(13, 3)
    for weights in ([1, 2, 2], [1, 1, 3, 5], [2, 7, 7, 7, 9]):
        assert as_fraction(expected_draws_expr(counts=weights)) == expected_T_subsets(weights)
    # E[T] = sum_n P(T > n) = sum_n (1 - upsilon_n), truncated where negligible
    counts = [1, 2, 2]
    closed = as_fraction(expected_draws_expr(counts=counts))
    approx = sum(1 - exact.coverage_prob(n, counts=counts, include_anchor=False)
                 for n in range(0, 400))
    assert abs(float(closed - approx)) < 1e-30


def test_collision_exprs() -> None:
    tau = collision_prob_expr(10)
    for k in [0, 1, 31, 500]:
        assert as_fraction(tau.subs(K, k)) == 1 - Fraction(9, 10) ** k
        assert float(tau.subs(K, k)) == pytest.approx(collision_prob(k, 10), rel=1e-14)
    assert as_fraction(collision_prob_expr(counts=[1, 3], K=2)) == Fraction(13, 16)
    assert as_fraction(collision_prob_expr(counts=[1, 2, 2], K=3)) == 1 - sum(
        Fraction(w, 5) * (1 - Fraction(w, 5)) ** 3 for w in (1, 2, 2))
    for C, k in [(10, 31), (10, 511), (100, 127), (3, 0)]:
        value = float(expected_log_collision_expr(C, K=k).evalf(30))
        assert value == pytest.approx(float(mp_elog([1] * C, k)), rel=1e-14, abs=1e-300)
        assert value == pytest.approx(expected_log_collision(k, C), rel=1e-12, abs=1e-300)
    assert round(float(expected_log_collision_expr(10, K=31).evalf(20)), 3) == 1.317
    mixed = float(expected_log_collision_expr(counts=[1, 3], K=6).evalf(30))
    assert mixed == pytest.approx(float(mp_elog([1, 3], 6)), rel=1e-14)
    assert mixed == pytest.approx(expected_log_collision(6, counts=[1, 3]), rel=1e-12)
    symbolic = expected_log_collision_expr(10)
    assert float(symbolic.subs(K, 31).doit().evalf(30)) == pytest.approx(
        float(mp_elog([1] * 10, 31)), rel=1e-14)


def test_ns21_bound_expr_matches_the_numeric_bound() -> None:
    expr = ns21_lower_bound_expr(10, K=31)
    values = {symbol("L_sup"): sympy.Rational(183, 100), symbol("L_sub"): sympy.Rational(168, 100),
              symbol("d"): sympy.Rational(-116, 100)}
    value = float(expr.subs(values).evalf(30))
    numeric = ns21_bound(coverage_prob(31, 10), 1.83, 1.68, expected_log_collision(31, 10), -1.16)
    assert value == pytest.approx(numeric, rel=1e-12)
    # math-ns21-bound by hand: 1/2 [ups L_sup + (1 - ups) L_sub + coll] + d, exact ups, 40-digit coll
    ups = uniform_ie(32, 10)
    with mpmath.workdps(40):
        want = (mpmath.mpf(ups.numerator) / ups.denominator * (mpmath.mpf(183) / 100 - mpmath.mpf(
            168) / 100) + mpmath.mpf(168) / 100 + mp_elog([1] * 10, 31)) / 2 - mpmath.mpf(116) / 100
    assert value == pytest.approx(float(want), rel=1e-14)
    general = ns21_lower_bound_expr()
    assert general.free_symbols == {symbol(n) for n in ("L_sup", "L_sub", "d", "upsilon",
                                                        "collision")}


def test_ns21_sup_upper_bound_expr_inverts_the_bound() -> None:
    upper = ns21_sup_upper_bound_expr()
    at_bound = upper.subs(symbol("L_Info"), ns21_lower_bound_expr())
    assert sympy.simplify(at_bound - symbol("L_sup")) == 0
    # numerically, against math-ns21-bound with an exact upsilon and a 40-digit collision term
    values = {symbol("L_Info"): sympy.Rational(202, 100), symbol("L_sub"): sympy.Rational(168, 100),
              symbol("d"): sympy.Rational(-116, 100)}
    got = float(ns21_sup_upper_bound_expr(10, K=31).subs(values).evalf(30))
    ups = uniform_ie(32, 10)
    with mpmath.workdps(40):
        u = mpmath.mpf(ups.numerator) / ups.denominator
        want = (2 * (mpmath.mpf(202) / 100 + mpmath.mpf(116) / 100)
                - (1 - u) * mpmath.mpf(168) / 100 - mp_elog([1] * 10, 31)) / u
    assert got == pytest.approx(float(want), rel=1e-14)
    upper10 = ns21_sup_upper_bound_expr(3, K=5)
    assert sympy.simplify(upper10.subs(symbol("L_Info"), ns21_lower_bound_expr(3, K=5))
                          - symbol("L_sup")) == 0


def test_latex_output() -> None:
    assert latex(expected_draws_expr()) == "C H_{C}"
    assert latex(completion_time_var_expr()) == "C^{2} H^{(2)}_{C} - C H_{C}"
    tex = latex(coverage_prob_expr(), lhs=r"\upsilon_{K+1}", environment="equation")
    assert tex.startswith("\\begin{equation}\n\\upsilon_{K+1} = \\sum_{i=0}^{C}")
    assert tex.endswith("\\end{equation}")
    assert r"\binom{C}{i}" in tex and r"\left(1 - \frac{i}{C}\right)^{K + 1}" in tex
    coll = latex(expected_log_collision_expr())
    assert r"\ln{\left(m + 1 \right)}" in coll and r"\sum_{m=0}^{K}" in coll
    assert r"\log" in latex(expected_log_collision_expr(), ln_notation=False)
    bound = latex(ns21_lower_bound_expr())
    for piece in (r"L^{\mu}_{\mathrm{sup}}", r"L^{\mu}_{\mathrm{sub}}", r"\upsilon_{K+1}",
                  r"\mathbb{E}\ln(1+\mathrm{Col})"):
        assert piece in bound
    assert latex(symbol("K"), lhs=symbol("C")) == "C = K"


def test_symbolic_errors() -> None:
    with pytest.raises(ValueError, match="symbol name"):
        symbol("nope")
    with pytest.raises(TypeError, match="rational"):
        as_fraction(K + 1)
    with pytest.raises(TypeError, match="rational"):
        as_fraction(0.5)
    with pytest.raises(ValueError, match="C"):
        coverage_prob_expr(0)
    with pytest.raises(ValueError, match="K"):
        coverage_prob_expr(3, K=-1)
    with pytest.raises(TypeError, match="include_anchor"):
        coverage_prob_expr(3, include_anchor=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="probs"):
        coverage_prob_expr(probs=[0.5, 0.6])
    with pytest.raises(ValueError, match="subset sums"):
        coverage_prob_expr(probs=np.random.default_rng(0).dirichlet(np.ones(20)))
    with pytest.raises(ValueError, match="coverage_prob_expr.*replacement"):
        coverage_prob_expr(Prior.from_counts([1, 2], replacement=False))
    with pytest.raises(TypeError, match="environment"):
        latex(K, environment=3)  # type: ignore[arg-type]


def test_import_couponbound_does_not_import_sympy() -> None:
    code = ("import sys, couponbound, couponbound.bounds; "
            "assert 'sympy' not in sys.modules, 'sympy'; "
            "assert 'hypothesis' not in sys.modules, 'hypothesis'; "
            "import couponbound.symbolic; assert 'sympy' not in sys.modules; "
            "couponbound.symbolic.symbol('K'); assert 'sympy' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_float_probs_become_exact_rationals() -> None:
    p = np.array([0.25, 0.75])
    assert as_fraction(collision_prob_expr(probs=p, K=2)) == Fraction(13, 16)


def test_integer_counts_collapse_subset_sums() -> None:
    # 29 distinct class sizes: 2**29 subsets, but only 436 distinct subset sums
    counts = list(range(1, 30))
    expr = coverage_prob_expr(counts=counts, K=60)
    assert as_fraction(expr) == exact.coverage_prob(60, counts=counts)


def test_prior_objects_are_accepted() -> None:
    prior = Prior.from_counts([1, 1, 2])
    assert coverage_prob_expr(prior, K=2) == coverage_prob_expr(counts=[1, 1, 2], K=2)
    assert collision_prob_expr(prior, K=3) == collision_prob_expr(counts=[1, 1, 2], K=3)
    assert expected_draws_expr(prior) == expected_draws_expr(counts=[1, 1, 2])
    assert expected_log_collision_expr(prior, K=2) == expected_log_collision_expr(counts=[1, 1, 2], K=2)
    assert coverage_prob_expr(Prior.uniform(4)) == coverage_prob_expr(4)
    assert completion_time_var_expr(Prior.uniform(4)) == completion_time_var_expr(4)
    with pytest.raises(ValueError, match="uniform"):
        completion_time_var_expr(prior)
    with pytest.raises(ValueError, match="give the prior once"):
        coverage_prob_expr(prior, counts=[1, 2])


def test_strings_are_never_evaluated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """sympy.sympify evaluates strings as Python: as_fraction and latex refuse them."""
    marker = tmp_path / "ran"
    payload = f"__import__('pathlib').Path({str(marker)!r}).write_text('x')"
    with pytest.raises(TypeError, match="string"):
        as_fraction(payload)
    with pytest.raises(TypeError, match="string"):
        latex(payload)
    with pytest.raises(TypeError, match="string"):
        latex(payload.encode())
    with pytest.raises(TypeError, match="string"):
        as_fraction(np.str_("1/2"))
    with pytest.raises(TypeError, match="expr"):
        latex(object())
    assert not marker.exists()
    # numbers, Fractions and sympy objects still work
    assert as_fraction(sympy.Integer(3)) == 3
    assert as_fraction(np.int64(4)) == 4
    assert latex(Fraction(1, 2)) == r"\frac{1}{2}"
    assert latex(3) == "3"
    assert latex(K, lhs="x") == "x = K"  # a string lhs is LaTeX verbatim, never parsed


# ---------------------------------------------------------------------------
# BAO22's minimum losses
# ---------------------------------------------------------------------------


def test_bao22_minima_expr_match_the_numeric_functions() -> None:
    from couponbound.bounds import bao22_min_contrastive, bao22_min_supervised
    from couponbound.symbolic import bao22_min_contrastive_expr, bao22_min_supervised_expr

    for C, K, B in [(10, 31, 1), (3, 7, sympy.Rational(1, 2)), (50, 20, 2)]:
        e = bao22_min_contrastive_expr(C, K=K, B=B)
        assert e.free_symbols == set()
        assert float(e.evalf(40)) == pytest.approx(bao22_min_contrastive(K, C, B=float(B)),
                                                   rel=1e-13)
        s = bao22_min_supervised_expr(C, B=B)
        assert float(s.evalf(40)) == pytest.approx(bao22_min_supervised(C, B=float(B)), rel=1e-14)
    # a non-uniform prior: the anchor's class y ~ rho, m ~ Bin(K, rho_y)
    e = bao22_min_contrastive_expr(counts=[1, 3], K=4, B=1)
    assert float(e.evalf(40)) == pytest.approx(bao22_min_contrastive(4, counts=[1, 3]), rel=1e-13)
    assert bao22_min_supervised_expr(counts=[1, 3], B=1) == bao22_min_supervised_expr(2, B=1)


def test_bao22_minima_expr_symbolic_forms() -> None:
    from couponbound.symbolic import bao22_min_contrastive_expr, bao22_min_supervised_expr

    B = symbol("B")
    general = bao22_min_contrastive_expr(10)
    assert general.has(sympy.Sum) and {K, B} <= general.free_symbols
    # K = 0: no negatives, ln 1 = 0; B -> oo: R*_cont -> E ln(1 + Col)
    assert bao22_min_contrastive_expr(10, K=0) == 0
    lim = bao22_min_contrastive_expr(3, K=4).subs(sympy.exp(-2 * B**2), 0)
    assert sympy.simplify(lim - expected_log_collision_expr(3, K=4)) == 0
    sup = bao22_min_supervised_expr()
    assert sup.free_symbols == {symbol("C"), B}
    assert sup.subs({symbol("C"): 1}) == 0
    assert B.is_positive


@pytest.mark.parametrize("bad", ["1", 0, -1, sympy.oo, True])
def test_bao22_minima_expr_refuse_bad_B(bad) -> None:
    from couponbound.symbolic import bao22_min_contrastive_expr, bao22_min_supervised_expr

    with pytest.raises((TypeError, ValueError), match="B"):
        bao22_min_supervised_expr(10, B=bad)
    with pytest.raises((TypeError, ValueError), match="B"):
        bao22_min_contrastive_expr(10, K=3, B=bad)


# ---------------------------------------------------------------------------
# size limits: every call returns within seconds or refuses, naming the limit
# ---------------------------------------------------------------------------


def test_huge_C_with_few_draws_is_exactly_zero() -> None:
    """K + 1 < C draws cannot cover C classes: 0 at once, whatever the size of C."""
    assert coverage_prob_expr(10**30, K=31) == 0
    assert coverage_prob_expr(counts=[1, 2, 3, 4], K=2) == 0


@pytest.mark.parametrize(("func", "args", "kwargs", "limit"), [
    (completion_time_var_expr, (10**30,), {}, "C <= 20000"),
    (expected_draws_expr, (), {"counts": [1] * 100_000}, "C <= 20000"),
    (expected_draws_expr, (10**30,), {}, "C <= 20000"),
    (coverage_prob_expr, (10**30,), {}, "2000 terms"),
    (coverage_prob_expr, (10,), {"K": 10**40}, "1e+06 bits per number"),
    (coverage_prob_expr, (), {"counts": [1, 2] * 3, "K": 40}, None),
    (collision_prob_expr, (10,), {"K": 10**9}, "1e+06 bits per number"),
    (expected_log_collision_expr, (10,), {"K": 10**6}, "2000 terms"),
])
def test_oversized_expressions_are_refused_naming_the_limit(func, args, kwargs, limit) -> None:  # type: ignore[no-untyped-def]
    if limit is None:  # a small case of the same kind still works
        assert func(*args, **kwargs) is not None
        return
    with pytest.raises(ValueError, match=func.__name__) as info:
        func(*args, **kwargs)
    assert limit in str(info.value)


def test_exact_harmonic_numbers_by_binary_splitting() -> None:
    """The binary-split H_C and H^(2)_C equal the Fractions summed term by term."""
    from couponbound._combinatorics import harmonic_fraction

    for c in (1, 2, 7, 100, 1234):
        assert as_fraction(expected_draws_expr(c)) == c * harmonic_fraction(c)
        assert as_fraction(completion_time_var_expr(c)) == (
            c * c * harmonic_fraction(c, 2) - c * harmonic_fraction(c))
    # the largest C allowed is computed, and agrees with the float value
    big = expected_draws_expr(20_000)
    assert float(big) == pytest.approx(20_000 * (math.log(20_000) + 0.5772156649015329
                                                 + 1 / 40_000 - 1 / (12 * 20_000**2)),
                                      rel=1e-14)
