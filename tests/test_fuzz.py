"""Fuzz the public maths API (issue 11): only ValueError / TypeError may escape, fast.

Every public function of the maths layer (coverage, collision, asymptotic,
exact, the Prior constructors and the CompletionTime methods) is called with
arguments drawn from a mixture of valid values and junk: wrong types, bools,
strings, bytes, None, non-finite and huge numbers, empty and nested and ragged
sequences, numpy scalars and arrays.  A call may answer or refuse with a
``ValueError``/``TypeError``; any other exception, a warning, or a call that
takes longer than ``BUDGET`` seconds fails the test.  The examples are
derandomised, so a run is reproducible; the whole module takes well under 60 s.
"""

from __future__ import annotations

import math
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from couponbound import Prior, asymptotic, collision, coverage, exact

#: Seconds one call may take.
BUDGET = 10.0

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")


class OverBudget(BaseException):  # noqa: N818 - BaseException: the code under test cannot catch it
    """Raised in the main thread when a call exceeds its time budget."""


@contextmanager
def budget(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise OverBudget(f"call exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def probe(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; return its value or ``None`` if it refused with ValueError/TypeError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning / IntegrationWarning may reach users
        try:
            with budget(BUDGET):
                return func(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            assert str(exc), f"{func.__name__} refused with an empty message"
            return None
        except OverBudget:
            pytest.fail(f"{func.__name__}(*{args!r:.200}, **{kwargs!r:.200}) took more than {BUDGET} s")


def check_float_result(value: Any, lo: float = 0.0, hi: float = 1.0) -> None:
    """A numeric answer lies in [lo, hi] and is never NaN."""
    if value is None:
        return
    arr = np.asarray(value, dtype=float)
    assert not np.any(np.isnan(arr))
    assert np.all((arr >= lo) & (arr <= hi))


# ---------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------

_SPECIAL: list[Any] = [
    None, True, False, 0, 1, 2, -1, 3.0, 2.5, -0.0, math.nan, math.inf, -math.inf, 1e308, 1e-320,
    2**62, 2**63 - 1, 2**63, 2**64, 10**18, 10**30, 10**400, "3", "0.5", "", b"3", 1j,
    Fraction(1, 3), [], [[]], [[1, 2], [3]], [1, [2, 3]], (), {}, {1: 2}, object(), [True, False],
    ["0.5", "0.5"], [0.5, None], [math.nan, 0.5], [math.inf, 1.0], [1e-300, 1 - 1e-300],
    [0.0, 1.0], [-0.5, 1.5], np.int64(5), np.uint64(2**64 - 1), np.float32(2.0), np.bool_(True),
    np.array([]), np.array([[1, 2], [3, 4]]), np.array([2**63 - 1, 1]), np.array([1.5, 2.5]),
    np.array(["a", "b"]), np.array([True, False]), np.array(7), np.array(np.nan), range(3),
    [10**19, 1], [1e30, 1, 1], [3, 4, 0], [1, 1, 1], [10**12, 1], slice(1),
]

junk = st.one_of(
    st.sampled_from(_SPECIAL),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.one_of(st.integers(-5, 10**6), st.floats(-1, 2)), max_size=4),
)
small_K = st.one_of(st.integers(0, 300), st.lists(st.integers(0, 300), min_size=1, max_size=4))
K_value = st.one_of(small_K, st.integers(0, 2**62), junk)
C_value = st.one_of(st.integers(1, 60), st.builds(Prior.uniform, st.integers(1, 30)), junk)
probs_value = st.one_of(
    st.none(),
    st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=6).map(lambda p: list(np.array(p) / sum(p))),
    junk,
)
counts_value = st.one_of(st.none(), st.lists(st.integers(1, 50), min_size=1, max_size=6), junk)
flag_value = st.one_of(st.none(), st.booleans(), junk)
prob_value = st.one_of(st.floats(0.01, 0.99), junk)

FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def _prior_kwargs(C: Any, probs: Any, counts: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Pass ``C`` positionally only when no keyword prior is given (else it would be ambiguous)."""
    kwargs: dict[str, Any] = {}
    if probs is not None:
        kwargs["probs"] = probs
    if counts is not None:
        kwargs["counts"] = counts
    return ((C,) if not kwargs else ()), kwargs


# ---------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------

_K_FUNCS = [
    (coverage.coverage_prob, True, (0.0, 1.0)),
    (coverage.log_coverage_prob, True, (-math.inf, 0.0)),
    (collision.collision_prob, True, (0.0, 1.0)),
    (collision.expected_log_collision, True, (0.0, math.inf)),
    (asymptotic.poisson_coverage, False, (0.0, 1.0)),
    (asymptotic.log_poisson_coverage, False, (-math.inf, 0.0)),
    (asymptotic.tail_coverage, False, (-math.inf, 1.0)),
    (asymptotic.expected_log_collision_expansion, False, (0.0, math.inf)),
]


@pytest.mark.parametrize(("func", "has_replacement", "bounds"), _K_FUNCS,
                         ids=[f.__name__ for f, _, _ in _K_FUNCS])
@FUZZ
@given(K=K_value, C=C_value, probs=probs_value, counts=counts_value, replacement=flag_value,
       anchor=flag_value, use_C=st.booleans())
def test_fuzz_functions_of_K(func: Callable[..., Any], has_replacement: bool,
                             bounds: tuple[float, float], K: Any, C: Any, probs: Any, counts: Any,
                             replacement: Any, anchor: Any, use_C: bool) -> None:
    args, kwargs = _prior_kwargs(C if use_C else None, probs, counts)
    if has_replacement and replacement is not None:
        kwargs["replacement"] = replacement
    if anchor is not None and func not in (collision.collision_prob, collision.expected_log_collision):
        kwargs["include_anchor"] = anchor
    value = probe(func, K, *args, **kwargs)
    check_float_result(value, *bounds)


@FUZZ
@given(K=K_value, C=C_value, probs=probs_value, counts=counts_value, anchor=flag_value)
def test_fuzz_coverage_bounds_and_gumbel(K: Any, C: Any, probs: Any, counts: Any, anchor: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    if anchor is not None:
        kwargs["include_anchor"] = anchor
    b = probe(asymptotic.coverage_bounds, K, *args, **kwargs)
    if b is not None:
        assert np.all(np.asarray(b.lower) <= np.asarray(b.upper))
        assert np.all(np.asarray(b.log_lower) <= np.asarray(b.log_upper))
    for func in (asymptotic.gumbel_coverage, asymptotic.log_gumbel_coverage):
        value = probe(func, K, C, **({"include_anchor": anchor} if anchor is not None else {}))
        check_float_result(value, -math.inf, 1.0)


@FUZZ
@given(K=st.one_of(st.integers(0, 40), st.integers(0, 10**9), junk), C=C_value, probs=probs_value,
       counts=counts_value, replacement=flag_value)
def test_fuzz_collision_pmf(K: Any, C: Any, probs: Any, counts: Any, replacement: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    if replacement is not None:
        kwargs["replacement"] = replacement
    value = probe(collision.collision_pmf, K, *args, **kwargs)
    check_float_result(value)


@FUZZ
@given(C=C_value, probs=probs_value, counts=counts_value, replacement=flag_value,
       confidence=prob_value, anchor=flag_value)
def test_fuzz_required_negatives_and_expected_draws(C: Any, probs: Any, counts: Any, replacement: Any,
                                                    confidence: Any, anchor: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    draws = probe(coverage.expected_draws, *args, **kwargs)
    if draws is not None:
        assert draws >= 1.0 and math.isfinite(draws)
    if replacement is not None:
        kwargs["replacement"] = replacement
    if anchor is not None:
        kwargs["include_anchor"] = anchor
    K = probe(coverage.required_negatives, *args, confidence=confidence, **kwargs)
    if K is not None:
        assert isinstance(K, int) and 0 <= K <= 2**62


@FUZZ
@given(C=C_value, probs=probs_value, counts=counts_value, replacement=flag_value,
       n=st.one_of(small_K, junk), q=st.one_of(st.floats(0.01, 0.99), junk),
       size=st.one_of(st.none(), st.integers(0, 5), junk))
def test_fuzz_completion_time(C: Any, probs: Any, counts: Any, replacement: Any, n: Any, q: Any,
                              size: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    if replacement is not None:
        kwargs["replacement"] = replacement
    T = probe(coverage.completion_time, *args, **kwargs)
    if T is None:
        return
    for name in ("cdf", "sf", "pmf"):
        check_float_result(probe(getattr(T, name), n))
    for name in ("logcdf", "logsf", "logpmf"):
        check_float_result(probe(getattr(T, name), n), -math.inf, 0.0)
    value = probe(T.ppf, q)
    if value is not None:
        assert np.all(np.asarray(value) >= T.C)
    for name in ("mean", "var", "std", "median", "support"):
        probe(getattr(T, name))
    probe(T.rvs, size, random_state=0)


_EXACT_K_FUNCS = [exact.coverage_prob, exact.coverage_prob_mp, exact.log_coverage_prob_mp,
                  exact.collision_prob, exact.collision_pmf, exact.expected_log_collision,
                  exact.completion_time_pmf]


@pytest.mark.parametrize("func", _EXACT_K_FUNCS, ids=[f.__name__ for f in _EXACT_K_FUNCS])
@FUZZ
@given(K=st.one_of(st.integers(0, 60), st.integers(0, 10**12), junk), C=C_value,
       probs=probs_value, counts=counts_value, replacement=flag_value,
       dps=st.one_of(st.none(), st.integers(5, 40), junk))
def test_fuzz_exact(func: Callable[..., Any], K: Any, C: Any, probs: Any, counts: Any,
                    replacement: Any, dps: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    if replacement is not None and func is not exact.completion_time_pmf:
        kwargs["replacement"] = replacement
    if dps is not None and func in (exact.coverage_prob_mp, exact.log_coverage_prob_mp,
                                    exact.expected_log_collision):
        kwargs["dps"] = dps
    probe(func, K, *args, **kwargs)


@FUZZ
@given(C=C_value, probs=probs_value, counts=counts_value)
def test_fuzz_exact_expected_draws(C: Any, probs: Any, counts: Any) -> None:
    args, kwargs = _prior_kwargs(C, probs, counts)
    value = probe(exact.expected_draws, *args, **kwargs)
    if value is not None:
        assert value >= 1


@FUZZ
@given(value=st.one_of(st.integers(-3, 100), junk, probs_value, counts_value), replacement=flag_value,
       name=st.one_of(st.none(), st.text(max_size=5), junk))
def test_fuzz_prior_constructors(value: Any, replacement: Any, name: Any) -> None:
    probe(Prior.uniform, value, name=name)
    probe(Prior.from_probs, value, name=name)
    probe(Prior.from_counts, value, replacement=replacement, name=name)
    prior = probe(Prior.from_counts, value, replacement=True)
    if prior is not None:
        assert prior.C >= 1 and math.isclose(float(np.sum(prior.probs)), 1.0, rel_tol=1e-9)
        probe(prior.with_replacement, replacement)
        prior.to_dict()
