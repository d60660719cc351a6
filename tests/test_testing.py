"""Tests of couponbound.testing: the strategies draw what they promise."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from couponbound import Prior
from couponbound.bounds import BoundTerms, ns21_lower_bound
from couponbound.coverage import coverage_prob
from couponbound.testing import (
    bound_terms,
    negatives,
    num_classes,
    prior_counts,
    prior_objects,
    prior_probs,
    priors,
)

SETTINGS = settings(max_examples=60, deadline=None, database=None)


@SETTINGS
@given(num_classes(2, 7), negatives(3, 9))
def test_ranges(C: int, K: int) -> None:
    assert 2 <= C <= 7 and 3 <= K <= 9
    assert type(C) is int and type(K) is int


@SETTINGS
@given(prior_probs(min_classes=1, max_classes=15))
def test_prior_probs_are_valid_priors(p: np.ndarray) -> None:
    assert p.dtype == np.float64 and p.ndim == 1 and 1 <= p.size <= 15
    assert np.all(p > 0)
    assert abs(math.fsum(p) - 1.0) < 1e-12
    assert p.min() >= 1e-3 * p.max() * (1 - 1e-12)
    assert Prior.from_probs(p).C == p.size


@SETTINGS
@given(prior_probs(5, min_ratio=0.5))
def test_prior_probs_fixed_C_and_ratio(p: np.ndarray) -> None:
    assert p.size == 5
    assert p.min() >= 0.5 * p.max() * (1 - 1e-12)


@SETTINGS
@given(prior_counts(max_classes=6, max_count=50))
def test_prior_counts(counts: list[int]) -> None:
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
    assert math.isnan(t.tau) == math.isnan(t.arora_sub)


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
        (bound_terms(with_arora=True), lambda t: t.tau == 1.0),
        (priors(), lambda p: "C" in p),
        (priors(), lambda p: "probs" in p and p["probs"].size > 1),
        (priors(), lambda p: "counts" in p and len(set(p["counts"])) > 1),
        (prior_objects(), lambda p: p.is_uniform and p.counts is None),
        (prior_objects(), lambda p: p.counts is None and not p.is_uniform),
        (prior_objects(), lambda p: p.counts is not None and not p.is_uniform),
        (prior_objects(replacement=None), lambda p: not p.replacement and not p.is_uniform),
        (prior_objects(replacement=None), lambda p: p.replacement and p.counts is not None),
    ],
)
def test_strategies_reach_the_interesting_cases(strategy, condition) -> None:
    # the documented boundary values ("boundary values included") and every
    # kind of prior are actually drawn, so property tests built on them can fail there
    find(strategy, condition, settings=settings(max_examples=2000, database=None))


@SETTINGS
@given(bound_terms(with_arora=True, K=31, C=10))
def test_bound_terms_with_arora(t: BoundTerms) -> None:
    assert 0.0 <= t.tau <= 1.0 and t.arora_sub >= 0.0
    assert (t.K, t.C) == (31, 10)


@SETTINGS
@given(bound_terms(with_arora=False))
def test_bound_terms_without_arora(t: BoundTerms) -> None:
    assert math.isnan(t.tau) and math.isnan(t.arora_sub)


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


@SETTINGS
@given(prior_objects(max_classes=8), negatives(max_value=60))
def test_prior_objects_feed_the_package(prior: Prior, K: int) -> None:
    assert isinstance(prior, Prior) and prior.replacement
    assert 1 <= prior.C <= 8
    assert 0.0 <= coverage_prob(K, prior) <= 1.0


@SETTINGS
@given(prior_objects(max_classes=5, max_count=9, replacement=False), st.data())
def test_prior_objects_without_replacement(prior: Prior, data: st.DataObject) -> None:
    assert not prior.replacement and prior.counts is not None
    assert all(1 <= n <= 9 for n in prior.counts)
    N = prior.N
    assert N is not None
    K = data.draw(st.integers(0, N - 1))
    ups = coverage_prob(K, prior)
    assert ups == coverage_prob(K, counts=list(prior.counts), replacement=False)
    if K + 1 == N:
        assert ups == 1.0  # the whole data set is drawn: every class is covered


@SETTINGS
@given(st.data())
def test_prior_objects_match_priors_kinds(data: st.DataObject) -> None:
    for kind in ("uniform", "probs", "counts"):
        p = data.draw(prior_objects(kinds=(kind,), max_classes=6))
        assert (p.counts is not None) == (kind == "counts")
        if kind == "uniform":
            assert p.is_uniform


def test_import_without_hypothesis_says_what_to_install() -> None:
    # hypothesis hidden by a meta-path finder that refuses it, in a fresh interpreter
    code = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'hypothesis' or name.startswith('hypothesis.'):\n"
        "            raise ImportError('No module named ' + repr(name))\n"
        "sys.meta_path.insert(0, Hide())\n"
        "import couponbound\n"
        "try:\n"
        "    import couponbound.testing\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
        "else:\n"
        "    print('imported')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.startswith("ImportError:"), res.stdout + res.stderr
    assert 'pip install "couponbound[test]"' in res.stdout


def test_invalid_strategy_arguments() -> None:
    with pytest.raises(ValueError, match="min_value"):
        num_classes(0, 5)
    with pytest.raises(ValueError, match="max_value"):
        negatives(5, 2)
    with pytest.raises(ValueError, match="min_ratio"):
        prior_probs(min_ratio=0.0)
    with pytest.raises(ValueError, match="kinds"):
        priors(kinds=("gaussian",))
    with pytest.raises(ValueError, match="max_count"):
        prior_counts(max_count=0)
    with pytest.raises(ValueError, match="replacement=False needs 'counts'"):
        prior_objects(kinds=("uniform", "probs"), replacement=False)
    with pytest.raises(TypeError, match="replacement"):
        prior_objects(replacement="no")  # type: ignore[arg-type]
