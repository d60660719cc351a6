"""Tests of couponbound.testing: the strategies draw what they promise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from couponbound import Prior
from couponbound.bounds import BoundTerms, ns21_lower_bound
from couponbound.coverage import coverage_prob
from couponbound.testing import (
    bound_terms,
    class_counts,
    class_probs,
    negatives,
    num_classes,
    priors,
)

SETTINGS = settings(max_examples=60, deadline=None, database=None)


@SETTINGS
@given(num_classes(2, 7), negatives(3, 9))
def test_ranges(C: int, K: int) -> None:
    assert 2 <= C <= 7 and 3 <= K <= 9
    assert type(C) is int and type(K) is int


@SETTINGS
@given(class_probs(min_classes=1, max_classes=15))
def test_class_probs_are_valid_priors(p: np.ndarray) -> None:
    assert p.dtype == np.float64 and p.ndim == 1 and 1 <= p.size <= 15
    assert np.all(p > 0)
    assert abs(math.fsum(p) - 1.0) < 1e-12
    assert p.min() >= 1e-3 * p.max() * (1 - 1e-12)
    assert Prior.from_probs(p).C == p.size


@SETTINGS
@given(class_probs(5, min_ratio=0.5))
def test_class_probs_fixed_C_and_ratio(p: np.ndarray) -> None:
    assert p.size == 5
    assert p.min() >= 0.5 * p.max() * (1 - 1e-12)


@SETTINGS
@given(class_counts(max_classes=6, max_count=50))
def test_class_counts(counts: list[int]) -> None:
    assert 1 <= len(counts) <= 6
    assert all(type(n) is int and 1 <= n <= 50 for n in counts)
    assert Prior.from_counts(counts).C == len(counts)


@SETTINGS
@given(priors(max_classes=8), negatives(max_value=60))
def test_priors_feed_the_package(prior: dict, K: int) -> None:
    assert len(prior) == 1 and set(prior) <= {"C", "probs", "counts"}
    ups = coverage_prob(K, **prior)
    assert 0.0 <= ups <= 1.0


@SETTINGS
@given(st.data())
def test_priors_kinds(data: st.DataObject) -> None:
    for kind, key in (("uniform", "C"), ("probs", "probs"), ("counts", "counts")):
        assert set(data.draw(priors(kinds=(kind,)))) == {key}


@SETTINGS
@given(bound_terms())
def test_bound_terms_are_valid(t: BoundTerms) -> None:
    assert isinstance(t, BoundTerms)
    for name in ("contrastive", "sup", "sub", "collision"):
        assert 0.0 <= getattr(t, name) <= 10.0  # max_loss defaults to 10
    assert -5.0 <= t.d <= 0.0 and 0.0 <= t.upsilon <= 1.0
    assert math.isnan(t.tau) == math.isnan(t.curl_sub)


@pytest.mark.parametrize(
    ("strategy", "condition"),
    [
        (bound_terms(), lambda t: t.upsilon == 0.0),
        (bound_terms(), lambda t: t.upsilon == 1.0),
        (bound_terms(), lambda t: math.isnan(t.tau)),
        (bound_terms(), lambda t: not math.isnan(t.tau)),
        (bound_terms(), lambda t: t.d == 0.0),
        (bound_terms(), lambda t: t.contrastive < ns21_lower_bound(t)),
        (bound_terms(), lambda t: t.contrastive > ns21_lower_bound(t)),
        (bound_terms(with_curl=True), lambda t: t.tau == 1.0),
        (priors(), lambda p: "C" in p),
        (priors(), lambda p: "probs" in p and p["probs"].size > 1),
        (priors(), lambda p: "counts" in p and len(set(p["counts"])) > 1),
    ],
)
def test_strategies_reach_the_interesting_cases(strategy, condition) -> None:
    # the documented boundary values ("boundary values included") and every
    # kind of prior are actually drawn, so property tests built on them can fail there
    find(strategy, condition, settings=settings(max_examples=2000, database=None))


@SETTINGS
@given(bound_terms(with_curl=True, K=31, C=10))
def test_bound_terms_with_curl(t: BoundTerms) -> None:
    assert 0.0 <= t.tau <= 1.0 and t.curl_sub >= 0.0
    assert (t.K, t.C) == (31, 10)


@SETTINGS
@given(bound_terms(with_curl=False))
def test_bound_terms_without_curl(t: BoundTerms) -> None:
    assert math.isnan(t.tau) and math.isnan(t.curl_sub)


@SETTINGS
@given(bound_terms(holds=True))
def test_bound_terms_that_hold(t: BoundTerms) -> None:
    assert ns21_lower_bound(t) <= t.contrastive


@SETTINGS
@given(bound_terms(holds=False))
def test_bound_terms_that_fail(t: BoundTerms) -> None:
    assert t.contrastive < ns21_lower_bound(t)


@SETTINGS
@given(bound_terms(max_loss=1.0, max_abs_d=0.1))
def test_bound_terms_ranges(t: BoundTerms) -> None:
    assert max(t.sup, t.sub, t.collision, t.contrastive) <= 1.0
    assert t.d >= -0.1


def test_invalid_strategy_arguments() -> None:
    with pytest.raises(ValueError, match="min_value"):
        num_classes(0, 5)
    with pytest.raises(ValueError, match="max_value"):
        negatives(5, 2)
    with pytest.raises(ValueError, match="min_ratio"):
        class_probs(min_ratio=0.0)
    with pytest.raises(ValueError, match="kinds"):
        priors(kinds=("gaussian",))
    with pytest.raises(ValueError, match="max_count"):
        class_counts(max_count=0)
