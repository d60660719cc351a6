"""The Prior value object, and every maths function taking it in place of C."""

from __future__ import annotations

import math
import pickle
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from couponbound import Prior, exact, symbolic
from couponbound._prior import as_prior
from couponbound.asymptotic import (
    coverage_bounds,
    expected_log_collision_expansion,
    gumbel_coverage,
    log_gumbel_coverage,
    log_poisson_coverage,
    poisson_coverage,
    tail_coverage,
)
from couponbound.collision import collision_pmf, collision_prob, expected_log_collision
from couponbound.coverage import (
    completion_time,
    coverage_prob,
    expected_draws,
    log_coverage_prob,
    required_negatives,
)

# ---------------------------------------------------------------------------
# the value object
# ---------------------------------------------------------------------------


def test_constructors_and_attributes() -> None:
    u = Prior.uniform(4, name="four")
    assert (u.C, u.is_uniform, u.replacement, u.counts, u.N, u.name, u.label) == (
        4, True, True, None, None, "four", "four")
    assert u.probs.tolist() == [0.25] * 4
    p = Prior.from_probs([0.5, 0.3, 0.2])
    assert (p.C, p.is_uniform, p.counts, p.label) == (3, False, None, "C = 3 (probs)")
    assert p.fractions() == [Fraction(0.5), Fraction(0.3), Fraction(0.2)] or \
        sum(p.fractions()) == 1
    c = Prior.from_counts([50, 30, 20], replacement=False)
    assert (c.C, c.N, c.counts, c.replacement) == (3, 100, (50, 30, 20), False)
    assert c.fractions() == [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    assert c.probs.tolist() == [0.5, 0.3, 0.2]
    # all-equal probabilities are recognised as uniform
    assert Prior.from_probs([0.25] * 4).is_uniform
    assert Prior.from_counts([7, 7, 7]).is_uniform


def test_groups() -> None:
    p = Prior.from_counts([1, 2, 1, 4])
    vals, mult = p.groups()
    assert vals.tolist() == [0.125, 0.25, 0.5] and mult.tolist() == [2, 1, 1]
    sizes, smult = p.count_groups()
    assert sizes.tolist() == [1, 2, 4] and smult.tolist() == [2, 1, 1]
    a_vals, weights = p.anchor_groups()
    assert a_vals.tolist() == vals.tolist()
    assert weights.tolist() == [0.25, 0.25, 0.5]
    # uniform: the anchor's weight is exactly 1, whatever 1/C rounds to
    assert Prior.uniform(49).anchor_groups()[1].tolist() == [1.0]
    with pytest.raises(ValueError, match="counts"):
        Prior.uniform(3).count_groups()


def test_equality_hash_and_name() -> None:
    a = Prior.from_counts([1, 3], name="a")
    b = Prior.from_counts([1, 3], name="b")
    assert a == b and hash(a) == hash(b)  # the name is not compared
    assert a != Prior.from_counts([1, 3], replacement=False)
    assert a != Prior.from_counts([3, 1])
    assert Prior.uniform(3) == Prior.from_probs([1 / 3] * 3)
    assert Prior.from_probs([0.25, 0.75]) == Prior.from_probs(np.array([0.25, 0.75]))
    assert Prior.uniform(3) != 3
    assert len({Prior.uniform(3), Prior.uniform(3), Prior.uniform(4)}) == 2


def test_immutable() -> None:
    p = Prior.from_probs([0.25, 0.75])
    with pytest.raises(AttributeError, match="immutable"):
        p.C = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p._C = 3  # noqa: SLF001
    with pytest.raises(ValueError, match="read-only"):
        p.probs[0] = 0.5
    with pytest.raises(ValueError, match="read-only"):
        Prior.uniform(2).probs[0] = 0.9
    with pytest.raises(TypeError, match="Prior.uniform"):
        Prior()


@pytest.mark.parametrize("prior", [
    Prior.uniform(5, name="five"),
    Prior.from_probs([0.1, 0.2, 0.7]),
    Prior.from_counts([3, 3, 2], replacement=False, name="tiny"),
])
def test_pickle_and_to_dict(prior: Prior) -> None:
    back = pickle.loads(pickle.dumps(prior))
    assert back == prior and back.name == prior.name and back.replacement == prior.replacement
    d = prior.to_dict()
    assert d["C"] == prior.C and d["replacement"] == prior.replacement
    assert repr(prior).startswith("Prior.")


def test_with_replacement() -> None:
    c = Prior.from_counts([2, 3])
    w = c.with_replacement(False)
    assert not w.replacement and w.counts == c.counts
    assert w.with_replacement(True) == c
    assert c.with_replacement(True) is c
    with pytest.raises(ValueError, match="counts"):
        Prior.uniform(3).with_replacement(False)
    with pytest.raises(TypeError, match="replacement"):
        c.with_replacement("no")  # type: ignore[arg-type]


@pytest.mark.parametrize(("build", "exc", "match"), [
    (lambda: Prior.uniform(0), ValueError, "C"),
    (lambda: Prior.uniform(2.5), ValueError, "C"),
    (lambda: Prior.uniform("3"), TypeError, "C"),
    (lambda: Prior.uniform(True), TypeError, "C"),
    (lambda: Prior.from_probs([0.5, 0.6]), ValueError, "sum"),
    (lambda: Prior.from_probs([1.5, -0.5]), ValueError, r"probs\[1\]"),
    (lambda: Prior.from_probs([0.5, float("nan")]), ValueError, "probs"),
    (lambda: Prior.from_probs([]), ValueError, "probs"),
    (lambda: Prior.from_probs([[0.5, 0.5]]), ValueError, "probs"),
    (lambda: Prior.from_probs("0.5"), TypeError, "probs"),
    (lambda: Prior.from_probs([True, False]), TypeError, "probs"),
    (lambda: Prior.from_probs(np.array([True, False])), TypeError, "probs"),
    (lambda: Prior.from_probs(np.array(["0.5", "0.5"])), TypeError, "probs"),
    (lambda: Prior.from_counts([1, 2.5]), ValueError, "counts"),
    (lambda: Prior.from_counts([1, 0]), ValueError, "counts"),
    (lambda: Prior.from_counts(["1", "2"]), TypeError, "counts"),
    (lambda: Prior.from_counts(np.array([True, True])), TypeError, "counts"),
    (lambda: Prior.from_counts(None), TypeError, "counts"),
    (lambda: Prior.from_counts([1, 2], replacement="no"), TypeError, "replacement"),
    (lambda: Prior.from_counts([1, 2], name=3), TypeError, "name"),
    (lambda: Prior.uniform(2, name=""), TypeError, "name"),
])
def test_errors_name_the_argument(build: Callable[[], Any], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        build()


def test_as_prior_conversions_and_conflicts() -> None:
    p = Prior.from_counts([1, 2])
    assert as_prior(p) is p
    assert as_prior(3) == Prior.uniform(3)
    assert as_prior(counts=[1, 2], replacement=False) == p.with_replacement(False)
    assert as_prior(2, counts=[1, 2]) == p
    with pytest.raises(ValueError, match="contradicts the Prior"):
        as_prior(p, replacement=False)
    with pytest.raises(ValueError, match="give the prior once"):
        as_prior(p, probs=[0.5, 0.5])
    with pytest.raises(ValueError, match="contradicts"):
        as_prior(3, counts=[1, 2])
    with pytest.raises(ValueError, match="counts"):
        as_prior(3, replacement=False)
    with pytest.raises(TypeError, match="replacement"):
        as_prior(3, replacement=1)


# ---------------------------------------------------------------------------
# a Prior in place of C: same values as the keyword sugar, everywhere
# ---------------------------------------------------------------------------

K_ARRAY = np.array([[0, 3, 7], [12, 30, 63]])
SUGAR: list[dict[str, Any]] = [
    {"C": 5},
    {"probs": [0.1, 0.2, 0.3, 0.4]},
    {"counts": [3, 1, 4, 1, 5]},
]
#: Public functions of K and a prior.
K_FUNCTIONS: list[Callable[..., Any]] = [
    coverage_prob, log_coverage_prob, collision_prob, expected_log_collision,
    poisson_coverage, log_poisson_coverage, tail_coverage, expected_log_collision_expansion,
]


def _prior_of(kw: dict[str, Any], replacement: bool = True) -> Prior:
    if "C" in kw:
        return Prior.uniform(kw["C"])
    if "probs" in kw:
        return Prior.from_probs(kw["probs"])
    return Prior.from_counts(kw["counts"], replacement=replacement)


@pytest.mark.parametrize("kw", SUGAR)
@pytest.mark.parametrize("func", K_FUNCTIONS)
def test_prior_equals_sugar(func: Callable[..., Any], kw: dict[str, Any]) -> None:
    prior = _prior_of(kw)
    np.testing.assert_array_equal(func(K_ARRAY, prior), func(K_ARRAY, **kw))
    assert func(30, prior) == func(30, **kw)


@pytest.mark.parametrize("kw", SUGAR)
def test_prior_equals_sugar_other_functions(kw: dict[str, Any]) -> None:
    prior = _prior_of(kw)
    assert coverage_bounds(K_ARRAY, prior) == coverage_bounds(K_ARRAY, **kw)
    assert required_negatives(prior, confidence=0.9) == required_negatives(confidence=0.9, **kw)
    assert expected_draws(prior) == expected_draws(**kw)
    np.testing.assert_array_equal(collision_pmf(9, prior), collision_pmf(9, **kw))
    T, T_kw = completion_time(prior), completion_time(**kw)
    assert T == T_kw and T.cdf(20) == T_kw.cdf(20) and T.mean() == T_kw.mean()
    assert exact.coverage_prob(12, prior) == exact.coverage_prob(12, **kw)
    assert exact.coverage_prob_mp(12, prior) == exact.coverage_prob_mp(12, **kw)
    assert exact.collision_prob(5, prior) == exact.collision_prob(5, **kw)
    assert exact.expected_draws(prior) == exact.expected_draws(**kw)
    assert exact.completion_time_pmf(8, prior) == exact.completion_time_pmf(8, **kw)
    assert symbolic.coverage_prob_expr(prior, K=6) == symbolic.coverage_prob_expr(K=6, **kw)


WITHOUT: list[Callable[..., Any]] = [
    coverage_prob, log_coverage_prob, collision_prob, expected_log_collision,
]


@pytest.mark.parametrize("func", WITHOUT)
def test_without_replacement_prior_equals_sugar(func: Callable[..., Any]) -> None:
    n = [3, 1, 4, 1, 5]
    prior = Prior.from_counts(n, replacement=False)
    K = np.arange(0, 13)
    np.testing.assert_array_equal(func(K, prior), func(K, counts=n, replacement=False))
    # and it is the without-replacement law, not the independent one
    assert not np.array_equal(func(K, prior), func(K, counts=n))


def test_without_replacement_others() -> None:
    n = [3, 1, 4, 1, 5]
    prior = Prior.from_counts(n, replacement=False)
    assert coverage_prob(9, prior) == coverage_prob(9, counts=n, replacement=False)
    assert required_negatives(prior, confidence=0.5) == required_negatives(
        counts=n, replacement=False, confidence=0.5)
    np.testing.assert_array_equal(collision_pmf(6, prior),
                                  collision_pmf(6, counts=n, replacement=False))
    assert exact.coverage_prob(9, prior) == exact.coverage_prob(9, counts=n, replacement=False)
    assert exact.collision_pmf(6, prior) == exact.collision_pmf(6, counts=n, replacement=False)
    # replacement=None keeps the Prior's scheme; a contradiction is an error
    assert coverage_prob(9, prior, replacement=None) == coverage_prob(9, prior)
    with pytest.raises(ValueError, match="contradicts"):
        coverage_prob(9, prior, replacement=True)


REFUSE_WITHOUT: list[tuple[str, Callable[[Prior], Any]]] = [
    ("poisson_coverage", lambda p: poisson_coverage(3, p)),
    ("log_poisson_coverage", lambda p: log_poisson_coverage(3, p)),
    ("tail_coverage", lambda p: tail_coverage(3, p)),
    ("coverage_bounds", lambda p: coverage_bounds(3, p)),
    ("expected_log_collision_expansion", lambda p: expected_log_collision_expansion(3, p)),
    ("expected_draws", lambda p: exact.expected_draws(p)),
    ("completion_time_pmf", lambda p: exact.completion_time_pmf(3, p)),
    ("coverage_prob_expr", lambda p: symbolic.coverage_prob_expr(p)),
    ("collision_prob_expr", lambda p: symbolic.collision_prob_expr(p)),
    ("expected_draws_expr", lambda p: symbolic.expected_draws_expr(p)),
]


@pytest.mark.parametrize(("name", "call"), REFUSE_WITHOUT, ids=[n for n, _ in REFUSE_WITHOUT])
def test_refuses_without_replacement_with_one_message(name: str, call: Callable[[Prior], Any]) -> None:
    prior = Prior.from_counts([2, 3], replacement=False)
    with pytest.raises(ValueError, match=f"^{name} models independent draws.*does not support "
                                         "replacement=False"):
        call(prior)


@pytest.mark.parametrize("func", [coverage_prob, log_coverage_prob, poisson_coverage,
                                  exact.coverage_prob, exact.coverage_prob_mp])
def test_include_anchor_none_is_refused(func: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match="include_anchor must be True or False, got None"):
        func(3, 3, include_anchor=None)


def test_uniform_only_forms() -> None:
    assert gumbel_coverage(30, Prior.uniform(10)) == gumbel_coverage(30, 10)
    assert log_gumbel_coverage(30, Prior.from_counts([2] * 10)) == log_gumbel_coverage(30, 10)
    for f in (gumbel_coverage, log_gumbel_coverage):
        with pytest.raises(ValueError, match="uniform"):
            f(30, Prior.from_probs([0.5, 0.25, 0.25]))
        with pytest.raises(ValueError, match="does not support replacement=False"):
            f(3, Prior.from_counts([2, 2], replacement=False))


# ---------------------------------------------------------------------------
# scalar -> float, array -> ndarray, for every public numeric function
# ---------------------------------------------------------------------------

SCALAR_ARRAY: list[tuple[str, Callable[[Any], Any]]] = [
    ("coverage_prob", lambda K: coverage_prob(K, 10)),
    ("log_coverage_prob", lambda K: log_coverage_prob(K, 10)),
    ("coverage_prob without replacement",
     lambda K: coverage_prob(K, Prior.from_counts([30] * 10, replacement=False))),
    ("collision_prob", lambda K: collision_prob(K, 10)),
    ("collision_prob without replacement",
     lambda K: collision_prob(K, Prior.from_counts([30] * 10, replacement=False))),
    ("expected_log_collision", lambda K: expected_log_collision(K, 10)),
    ("expected_log_collision without replacement",
     lambda K: expected_log_collision(K, Prior.from_counts([30] * 10, replacement=False))),
    ("expected_log_collision_expansion", lambda K: expected_log_collision_expansion(K, 10)),
    ("gumbel_coverage", lambda K: gumbel_coverage(K, 10)),
    ("log_gumbel_coverage", lambda K: log_gumbel_coverage(K, 10)),
    ("poisson_coverage", lambda K: poisson_coverage(K, 10)),
    ("log_poisson_coverage", lambda K: log_poisson_coverage(K, 10)),
    ("tail_coverage", lambda K: tail_coverage(K, 10)),
    ("coverage_bounds.lower", lambda K: coverage_bounds(K, 10).lower),
    ("coverage_bounds.upper", lambda K: coverage_bounds(K, 10).upper),
    ("CompletionTime.cdf", lambda K: completion_time(10).cdf(K)),
    ("CompletionTime.logcdf", lambda K: completion_time(10).logcdf(K)),
    ("CompletionTime.sf", lambda K: completion_time(10).sf(K)),
    ("CompletionTime.logsf", lambda K: completion_time(10).logsf(K)),
    ("CompletionTime.pmf", lambda K: completion_time(probs=[0.5, 0.5]).pmf(K)),
    ("CompletionTime.logpmf", lambda K: completion_time(10).logpmf(K)),
]


@pytest.mark.parametrize(("name", "f"), SCALAR_ARRAY, ids=[n for n, _ in SCALAR_ARRAY])
def test_scalar_gives_float_array_gives_ndarray(name: str, f: Callable[[Any], Any]) -> None:
    for scalar in (31, np.int64(31), 31.0, np.array(31)):
        v = f(scalar)
        assert type(v) is float, (name, type(v))
    arr = f([[31, 63], [100, 200]])
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.shape == (2, 2)
    # the saddle-point path evaluates a batch of n together: equal to ~1e-15, not bitwise
    assert arr[0, 0] == pytest.approx(f(31), rel=1e-13)
    one = f([31])
    assert isinstance(one, np.ndarray) and one.shape == (1,)
    assert not math.isnan(f(0))


# ---------------------------------------------------------------------------
# the validation vocabulary (issue 20): one rule for every public function
# ---------------------------------------------------------------------------


def _masked(values, mask):
    return np.ma.masked_array(values, mask=mask)


@pytest.mark.parametrize("call", [
    lambda m: coverage_prob(5, counts=m),
    lambda m: coverage_prob(5, probs=_masked([0.5, 0.3, 0.2], [0, 0, 1])),
    lambda m: Prior.from_counts(m, replacement=False),
    lambda m: coverage_prob(_masked([3, 5], [0, 1]), 3),
    lambda m: log_coverage_prob(_masked([3, 5], [0, 1]), 3),
    lambda m: completion_time(3).cdf(_masked([3, 5], [0, 1])),
    lambda m: completion_time(3).sf(_masked([3, 5], [0, 1])),
    lambda m: completion_time(3).pmf(_masked([3, 5], [0, 1])),
    lambda m: completion_time(3).ppf(_masked([0.3, 0.5], [0, 1])),
    lambda m: required_negatives(3, confidence=np.ma.masked),
])
def test_masked_entries_are_refused_everywhere(call):
    with pytest.raises(TypeError, match="masked"):
        call(_masked([3, 3, 2], [0, 0, 1]))


def test_masked_arrays_without_masked_entries_are_their_data():
    m = np.ma.masked_array([3, 3, 2], mask=[0, 0, 0])
    assert coverage_prob(5, counts=m) == coverage_prob(5, counts=[3, 3, 2])
    assert np.array_equal(coverage_prob(np.ma.masked_array([3, 5]), 3), coverage_prob([3, 5], 3))


@pytest.mark.parametrize("call", [
    lambda: coverage_prob(31, 10**400),
    lambda: coverage_prob(10**400, 10),
    lambda: Prior.uniform(10**400),
    lambda: Prior.from_counts([10**400, 1]),
    lambda: required_negatives(10, confidence=Fraction(10**400, 3)),
])
def test_integers_beyond_the_float_range_are_value_errors(call):
    with pytest.raises(ValueError, match=r"10000000000|1\.8e308|must be"):
        call()


@pytest.mark.parametrize("K", [b"10", {10: 1}, np.datetime64("2020"), np.timedelta64(3, "D"),
                               "10", None, 1j])
def test_bytes_dicts_and_dates_are_not_numbers(K):
    with pytest.raises(TypeError, match="K must be"):
        coverage_prob(K, 10)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int8, np.uint64])
def test_narrow_dtypes_of_K_answer_without_warning(dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert coverage_prob(dtype(10), 10) == coverage_prob(10, 10)
        assert np.array_equal(coverage_prob(np.array([10, 31], dtype=dtype), 10),
                              coverage_prob([10, 31], 10))


def test_messages_show_numpy_scalars_as_numbers():
    from couponbound._validate import short_repr

    assert short_repr(np.float64(0.0)) == "0.0" and short_repr([np.int64(3)]) == "[3]"
    with pytest.raises(ValueError) as info:
        coverage_prob(5, probs=np.array([0.5, 0.5, 0.0]))
    assert "np.float64" not in str(info.value) and "= 0.0" in str(info.value)


def test_check_real_array_is_the_vocabulary_for_reals():
    from couponbound._validate import check_real_array

    arr = check_real_array(np.float16(2), "x")
    assert arr.ndim == 0 and arr.dtype == np.float64 and float(arr) == 2.0
    arr = check_real_array([1, Fraction(1, 2)], "x", minimum=0.0)
    assert arr.tolist() == [1.0, 0.5]
    assert check_real_array(np.ma.masked_array([1.0, 2.0]), "x").tolist() == [1.0, 2.0]
    assert check_real_array([], "x", allow_empty=True).size == 0
    for bad, exc in [(True, TypeError), (b"1", TypeError), ({1: 2}, TypeError),
                     (np.datetime64("2020"), TypeError), ([], ValueError), (math.nan, ValueError),
                     (10**400, ValueError), ([1, 10**400], ValueError), (-1, ValueError),
                     (_masked([1.0, 2.0], [0, 1]), TypeError), ([1, "2"], TypeError)]:
        with pytest.raises(exc, match="x"):
            check_real_array(bad, "x", minimum=0.0)
