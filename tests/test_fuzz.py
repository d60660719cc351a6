"""Fuzz the public maths API (issue 11): only ValueError / TypeError may escape, fast.

Every public function of the maths layer (coverage, collision, asymptotic,
exact, the Prior constructors and the CompletionTime methods) is called with
arguments drawn mostly from *valid* inputs -- uniform priors up to 10**15
classes, Dirichlet-like probabilities spanning up to 300 orders of magnitude,
class counts up to 10**15 drawn with or without replacement, ``K`` from 0 to
2**62 as ints, numpy integers and arrays, confidences up to 1 - 1e-12 -- with
a smaller share of junk (wrong types, bools, strings, bytes, None, non-finite
and huge numbers, empty, nested and ragged sequences).

Every call is classified before it is made:

* ``JUNK``: anything may happen but an answer must be in range and a refusal
  a ``ValueError``/``TypeError`` with a message;
* ``VALID``: the input is in the documented domain (:ref:`math-limits`), so a
  refusal fails the test;
* ``LIMITED``: valid, but may hit a documented limit (answers above 2**62
  draws, the size limits of :mod:`couponbound.exact`, ...) and be refused;
* ``REFUSED``: valid arguments a function documents it refuses (a
  without-replacement prior for a with-replacement-only function).

Any other exception, a warning, NaN, a value outside its range, a broken law
(monotone coverage, ``sf + cdf = 1``, the definition of
``required_negatives``, agreement with the exact rational value) or a call
over ``BUDGET`` seconds fails the test.  ``test_fuzz_reaches_valid_input``
asserts that most drawn calls are valid and answered.  The examples are
derandomised, so a run is reproducible; the whole module takes well under 60 s.
"""

from __future__ import annotations

import math
import signal
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from couponbound import Prior, asymptotic, collision, coverage, exact

#: Seconds one call may take.
BUDGET = 10.0
#: Bytes of address space one call may add (Linux; a MemoryError then fails the test).
MEMORY_BUDGET = 2 * 2**30
#: Largest K / number of draws the numeric core accepts.
MAX_K = 2**62

resource = pytest.importorskip("resource")  # POSIX, as signal.setitimer

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")

# the classification of a call (see the module docstring)
JUNK, VALID, LIMITED, REFUSED = "junk", "valid", "limited", "refused"

#: Module-level tally of the calls made by probe(): (classification, answered) -> count.
TALLY: Counter[tuple[str, bool]] = Counter()


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


def _address_space() -> int | None:
    """Bytes of address space this process uses now (``None`` where /proc is unavailable)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover
        pass
    return None  # pragma: no cover


@contextmanager
def memory_budget(extra: int) -> Iterator[None]:
    """Cap the address space at its current size plus ``extra`` bytes (soft RLIMIT_AS),
    so that a call building a huge array fails at once instead of swamping the machine."""
    now = _address_space()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if now is None or (hard != resource.RLIM_INFINITY and now + extra > hard):  # pragma: no cover
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (now + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _call_repr(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return f"{getattr(func, '__qualname__', func)}(*{args!r:.400}, **{kwargs!r:.400})"


def probe(kind: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func``; return its value or ``None`` if it refused with ValueError/TypeError.

    ``kind`` classifies the call: a ``VALID`` call must answer, a ``REFUSED``
    one must refuse with a ``ValueError``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning / IntegrationWarning may reach users
        try:
            with budget(BUDGET):
                value = func(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            assert str(exc), f"{func.__name__} refused with an empty message"
            TALLY[kind, False] += 1
            assert kind != VALID, f"valid call refused: {_call_repr(func, args, kwargs)}: {exc!r}"
            assert kind != REFUSED or isinstance(exc, ValueError), exc
            return None
        except OverBudget:
            pytest.fail(f"{_call_repr(func, args, kwargs)} took more than {BUDGET} s")
        except MemoryError as exc:
            pytest.fail(f"{_call_repr(func, args, kwargs)} needs more than {MEMORY_BUDGET / 2**30:g} GiB: "
                        f"{exc!r:.300}")
    TALLY[kind, True] += 1
    assert kind != REFUSED, f"documented refusal answered: {_call_repr(func, args, kwargs)}"
    return value


def check_float_result(value: Any, lo: float = 0.0, hi: float = 1.0) -> None:
    """A numeric answer lies in [lo, hi] and is never NaN."""
    if value is None:
        return
    arr = np.asarray(value, dtype=float)
    assert not np.any(np.isnan(arr)), value
    assert np.all((arr >= lo) & (arr <= hi)), value


# ---------------------------------------------------------------------------
# junk
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
    np.array([0.5, 0.5], dtype=np.float32), [0.3, 0.3, 0.3], [2**62 + 1], -(2**62),
]

junk = st.one_of(
    st.sampled_from(_SPECIAL),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.one_of(st.integers(-5, 10**6), st.floats(-1, 2)), max_size=4),
)


def _chance(draw: st.DrawFn, percent: int) -> bool:
    """``True`` with probability ``percent`` / 100 (shrinks towards ``True``)."""
    return draw(st.integers(0, 99)) < percent


# ---------------------------------------------------------------------------
# priors
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PriorCase:
    """The prior arguments of one call: ``C`` positionally, ``probs=``/``counts=``, ``replacement=``.

    ``prior`` is the :class:`Prior` they denote (``None`` for junk); the
    ``replacement`` keyword is kept apart because not every function takes it.
    """

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    replacement: Any = None
    prior: Prior | None = field(default=None, compare=False)

    def call(self, with_replacement: bool = True) -> tuple[tuple[Any, ...], dict[str, Any]]:
        kwargs = dict(self.kwargs)
        if with_replacement and self.replacement is not None:
            kwargs["replacement"] = self.replacement
        return self.args, kwargs

    def effective(self, with_replacement: bool = True) -> Prior | None:
        """The prior a function sees (without its ``replacement=`` keyword, counts are drawn
        with replacement unless the Prior object itself says otherwise)."""
        if self.prior is None or with_replacement or self.replacement is None:
            return self.prior
        return self.prior.with_replacement(True) if "counts" in self.kwargs else self.prior

    def __repr__(self) -> str:
        return f"PriorCase(args={self.args!r}, kwargs={self.kwargs!r}, replacement={self.replacement!r})"


def _log_uniform_int(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integers in [lo, hi], roughly uniform in their number of digits."""
    return st.integers(len(str(lo)), len(str(hi))).flatmap(
        lambda d: st.integers(max(lo, 10 ** (d - 1)), min(hi, 10**d - 1)))


#: Largest uniform C drawn (see test_uniform_huge_C_near_bulk and
#: test_required_negatives_uniform_huge_C).
UNIFORM_MAX_C = 10**7
uniform_C = st.one_of(st.integers(1, 40), st.integers(1, 40), st.integers(41, 5000),
                      _log_uniform_int(5001, UNIFORM_MAX_C))


@st.composite
def dirichlet_probs(draw: st.DrawFn, max_C: int = 48) -> list[float]:
    """Probabilities of 1..max_C classes: log-normal, Gamma (Dirichlet) or few-level weights,
    with a dynamic range up to e^-35 (about 1e-15), rarely e^-700 (about 1e-304)."""
    C = draw(st.one_of(st.integers(1, 8), st.integers(2, max_C)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    style = draw(st.sampled_from(["lognormal", "gamma", "levels"]))
    if style == "lognormal":
        logw = rng.standard_normal(C) * draw(st.floats(0.0, 8.0))
    elif style == "gamma":
        with np.errstate(divide="ignore"):
            logw = np.log(rng.gamma(draw(st.floats(0.05, 5.0)), size=C))
    else:
        levels = rng.uniform(-40.0, 0.0, size=draw(st.integers(1, 4)))
        logw = levels[rng.integers(0, levels.size, size=C)]
    span = draw(st.sampled_from([3.0, 20.0, 35.0, 35.0, 35.0, 700.0]))
    logw = np.maximum(logw - np.max(logw), -span)
    w = np.exp(logw)
    return [float(v) for v in w / math.fsum(w)]


counts_list = st.lists(st.one_of(st.integers(1, 50), _log_uniform_int(1, 10**15),
                                 st.sampled_from([1, 10**15, 10**15 - 1])),
                       min_size=1, max_size=40)
#: Largest class count drawn without replacement (see test_without_replacement_huge_N_tiny_class).
WITHOUT_REPLACEMENT_MAX_COUNT = 2 * 10**8
small_counts_list = st.lists(st.integers(1, 12), min_size=1, max_size=6)


def _as_sequence(draw: st.DrawFn, values: list[Any]) -> Any:
    form = draw(st.sampled_from(["list", "tuple", "array"]))
    return values if form == "list" else tuple(values) if form == "tuple" else np.array(values)


@st.composite
def valid_prior(draw: st.DrawFn, small: bool = False) -> PriorCase:
    """A valid prior in one of its six spellings (``small``: cheap for exact arithmetic)."""
    source = draw(st.sampled_from(["uniform", "probs", "counts"]))
    as_object = draw(st.booleans())
    if source == "uniform":
        C = draw(st.integers(1, 12) if small else uniform_C)
        if as_object:
            return PriorCase((Prior.uniform(C),), {}, None, Prior.uniform(C))
        spelled = draw(st.sampled_from([C, np.int64(C), float(C) if C < 2**53 else C]))
        rep = draw(st.sampled_from([None, True, np.bool_(True)]))
        return PriorCase((spelled,), {}, rep, Prior.uniform(C))
    if source == "probs":
        p = draw(dirichlet_probs(max_C=6 if small else 48))
        prior = Prior.from_probs(p)
        if as_object:
            return PriorCase((prior,), {}, None, prior)
        args = (len(p),) if draw(st.booleans()) else ()
        return PriorCase(args, {"probs": _as_sequence(draw, p)},
                         draw(st.sampled_from([None, True])), prior)
    counts = draw(small_counts_list if small else counts_list)
    rep = draw(st.sampled_from([None, True, False, np.bool_(False)]))
    if rep is not None and not rep:
        # known bug (test_without_replacement_huge_N_tiny_class): without replacement, data
        # sets above ~1e11 samples with a tiny class take minutes and gigabytes
        counts = [min(c, WITHOUT_REPLACEMENT_MAX_COUNT) for c in counts]
    prior = Prior.from_counts(counts, replacement=True if rep is None else bool(rep))
    if as_object:
        return PriorCase((prior,), {}, None, prior)
    args = (len(counts),) if draw(st.booleans()) else ()
    return PriorCase(args, {"counts": _as_sequence(draw, counts)}, rep, prior)


@st.composite
def junk_prior(draw: st.DrawFn) -> PriorCase:
    """Junk somewhere in the prior arguments (possibly all of them)."""
    C = draw(st.one_of(st.none(), st.integers(1, 60), junk))
    probs = draw(st.one_of(st.none(), junk))
    counts = draw(st.one_of(st.none(), st.lists(st.integers(1, 50), min_size=1, max_size=6), junk))
    kwargs: dict[str, Any] = {}
    if probs is not None:
        kwargs["probs"] = probs
    if counts is not None:
        kwargs["counts"] = counts
    args = (C,) if C is not None and (not kwargs or draw(st.booleans())) else ()
    return PriorCase(args, kwargs, draw(st.one_of(st.none(), st.booleans(), junk)))


def prior_cases(small: bool = False, valid_percent: int = 90) -> st.SearchStrategy[PriorCase]:
    return st.integers(0, 99).flatmap(
        lambda r: valid_prior(small) if r < valid_percent else junk_prior())


# ---------------------------------------------------------------------------
# K, flags, confidences
# ---------------------------------------------------------------------------

def _p_min(prior: Prior) -> float:
    if prior.is_uniform:
        return 1.0 / prior.C  # (prior.probs would build an array of C floats)
    if prior.counts is not None:
        return min(prior.counts) / sum(prior.counts)
    return float(np.min(prior.probs))


#: Smallest class probability for which the moments are asked (see test_moments_tiny_class_warns).
MOMENTS_MIN_P = 1e-12


def _moments_ok(prior: Prior | None) -> bool:
    return prior is None or _p_min(prior) >= MOMENTS_MIN_P


#: Largest K drawn for a non-uniform prior with replacement (see test_longtail_huge_K_warns).
NON_UNIFORM_MAX_K = 2**58


def _k_cap(prior: Prior | None, limit: int = MAX_K) -> int:
    """Largest valid K for every function (without replacement: K + 1 <= N)."""
    if prior is None or prior.replacement:
        return limit
    assert prior.N is not None
    return min(limit, prior.N - 1)


@st.composite
def valid_k_scalar(draw: st.DrawFn, prior: Prior | None, limit: int = MAX_K) -> int:
    """A valid K, mostly on the scale where the coverage moves (``n ~ log C / p_min``)."""
    cap = _k_cap(prior, limit)
    if prior is not None and prior.replacement and not prior.is_uniform:
        cap = min(cap, NON_UNIFORM_MAX_K)  # known bug: see test_longtail_huge_K_warns
    C = prior.C if prior is not None else 10
    mid = max(float(C), (math.log(C) + 0.5772) / _p_min(prior)) if prior is not None else 30.0
    how = draw(st.sampled_from(["scale", "scale", "scale", "small", "any", "near_C", "edge"]))
    if how == "scale":
        k = int(mid * 10 ** draw(st.floats(-2.0, 2.0)))
    elif how == "small":
        k = draw(st.integers(0, 300))
    elif how == "any":
        k = draw(_log_uniform_int(1, cap)) if cap >= 1 else 0
    elif how == "near_C":
        k = C - 3 + draw(st.integers(0, 6))
    else:
        k = cap - draw(st.integers(0, 2))
    return min(max(k, 0), cap)


def _spell_int(draw: st.DrawFn, k: int) -> Any:
    forms: list[Any] = [k, k, np.int64(k), np.uint64(k)]
    if k < 2**31:
        forms.append(np.int32(k))
    if k < 2**53:
        forms.append(float(k))
    return draw(st.sampled_from(forms))


@st.composite
def valid_k(draw: st.DrawFn, prior: Prior | None, limit: int = MAX_K, scalar_only: bool = False) -> Any:
    """A valid K: a scalar (int, numpy int or integral float) or an array of them."""
    if scalar_only or _chance(draw, 60):
        return _spell_int(draw, draw(valid_k_scalar(prior, limit)))
    ks = draw(st.lists(valid_k_scalar(prior, limit), min_size=1, max_size=6))
    form = draw(st.sampled_from(["list", "array", "array2d"]))
    if form == "list":
        return [_spell_int(draw, k) for k in ks]
    arr = np.array(ks, dtype=draw(st.sampled_from([np.int64, np.uint64])))
    return arr.reshape(2, -1) if form == "array2d" and arr.size % 2 == 0 else arr


def k_values(pc: PriorCase, limit: int = MAX_K, scalar_only: bool = False,
             valid_percent: int = 92) -> st.SearchStrategy[tuple[Any, bool]]:
    """``(K, K is valid for pc's prior)``."""
    return st.integers(0, 99).flatmap(
        lambda r: valid_k(pc.prior, limit, scalar_only).map(lambda k: (k, True)) if r < valid_percent
        else junk.map(lambda k: (k, False)))


flag_values = st.integers(0, 99).flatmap(
    lambda r: st.sampled_from([(None, True), (True, True), (False, True), (np.bool_(False), True)])
    if r < 95 else junk.map(lambda v: (v, v is None or isinstance(v, bool | np.bool_))))

confidence_values = st.integers(0, 99).flatmap(
    lambda r: st.one_of(st.floats(1e-6, 1 - 1e-6),
                        st.sampled_from([0.5, 0.9, 0.99, 0.999, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12,
                                         1e-12, 0.01, np.float64(0.95)])).map(lambda q: (q, True))
    if r < 92 else junk.map(lambda q: (q, False)))


@dataclass(frozen=True)
class Case:
    """One call's prior, K and include_anchor, and whether all of them are valid."""

    pc: PriorCase
    K: Any
    anchor: Any
    valid: bool


def cases(small: bool = False, limit: int = MAX_K, scalar_only: bool = False) -> st.SearchStrategy[Case]:
    @st.composite
    def build(draw: st.DrawFn) -> Case:
        pc = draw(prior_cases(small))
        K, k_ok = draw(k_values(pc, limit, scalar_only))
        anchor, a_ok = draw(flag_values)
        return Case(pc, K, anchor, pc.prior is not None and k_ok and a_ok)
    return build()


#: No shrinking: a failing example is printed whole (its repr is a complete reproducer),
#: and shrinking the nested strategies could take minutes.
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def _kind(valid: bool, prior: Prior | None, *, needs_replacement: bool = False,
          limited: bool = False) -> str:
    if not valid or prior is None:
        return JUNK
    if needs_replacement and not prior.replacement:
        return REFUSED
    return LIMITED if limited else VALID


# ---------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------

#: (function, takes replacement=, takes include_anchor=, bounds, replacement only, monotone in K)
_K_FUNCS = [
    (coverage.coverage_prob, True, True, (0.0, 1.0), False, True),
    (coverage.log_coverage_prob, True, True, (-math.inf, 0.0), False, True),
    (collision.collision_prob, True, False, (0.0, 1.0), False, True),
    (collision.expected_log_collision, True, False, (0.0, math.inf), False, True),
    (asymptotic.poisson_coverage, False, True, (0.0, 1.0), True, True),
    (asymptotic.log_poisson_coverage, False, True, (-math.inf, 0.0), True, True),
    (asymptotic.tail_coverage, False, True, (-math.inf, 1.0), True, True),
    (asymptotic.expected_log_collision_expansion, False, False, (0.0, math.inf), True, False),
]


def _sorted_ks(K: Any) -> NDArray[np.int64]:
    return np.sort(np.asarray(K, dtype=np.int64).ravel())


@pytest.mark.parametrize(("func", "has_replacement", "has_anchor", "bounds", "independent", "monotone"),
                         _K_FUNCS, ids=[f[0].__name__ for f in _K_FUNCS])
@FUZZ
@given(case=cases(), extra=st.data())
def test_fuzz_functions_of_K(func: Callable[..., Any], has_replacement: bool, has_anchor: bool,
                             bounds: tuple[float, float], independent: bool, monotone: bool,
                             case: Case, extra: st.DataObject) -> None:
    args, kwargs = case.pc.call(has_replacement)
    prior = case.pc.effective(has_replacement)
    valid = case.valid
    if has_anchor and case.anchor is not None:
        kwargs["include_anchor"] = case.anchor
    kind = _kind(valid, prior, needs_replacement=independent)
    value = probe(kind, func, case.K, *args, **kwargs)
    check_float_result(value, *bounds)
    if value is None or kind != VALID or not monotone:
        return
    # monotone non-decreasing in K on a sorted array
    assert prior is not None
    ks = np.sort(np.concatenate([_sorted_ks(case.K),
                                 np.array(extra.draw(st.lists(valid_k_scalar(prior), min_size=1,
                                                              max_size=6)), dtype=np.int64)]))
    values = probe(VALID, func, ks, *args, **kwargs)
    check_float_result(values, *bounds)
    arr = np.asarray(values)
    # coverage: exactly monotone; the other functions within 2 ulps of 1 (collision_prob
    # gives 1.0 at K = 228261 and 1 - 2**-53 at K = 2.9e17 for a 48-class prior)
    slack = 0.0 if func in (coverage.coverage_prob, coverage.log_coverage_prob) else 4.5e-16
    floor = arr[:-1] - slack * np.abs(arr[:-1]) if slack else arr[:-1]  # (0 * inf is nan)
    assert np.all(arr[1:] >= floor), (
        f"{func.__name__} decreases: K = {ks.tolist()} -> {arr.tolist()}")


@FUZZ
@given(case=cases())
def test_fuzz_coverage_bounds_and_gumbel(case: Case) -> None:
    args, kwargs = case.pc.call(False)
    prior = case.pc.effective(False)
    if case.anchor is not None:
        kwargs["include_anchor"] = case.anchor
    b = probe(_kind(case.valid, prior, needs_replacement=True), asymptotic.coverage_bounds, case.K,
              *args, **kwargs)
    if b is not None:
        assert np.all(np.asarray(b.lower) <= np.asarray(b.upper))
        assert np.all(np.asarray(b.log_lower) <= np.asarray(b.log_upper))
    anchor_kw = {"include_anchor": case.anchor} if case.anchor is not None else {}
    C = case.pc.args[0] if case.pc.args else None
    if C is None or case.pc.kwargs:
        C = prior if prior is not None else C  # the Prior itself, when spelled as probs=/counts=
    gumbel_kind = JUNK
    if case.valid and prior is not None:
        gumbel_kind = VALID if prior.replacement and prior.is_uniform else REFUSED
    for func in (asymptotic.gumbel_coverage, asymptotic.log_gumbel_coverage):
        value = probe(gumbel_kind, func, case.K, C, **anchor_kw)
        check_float_result(value, -math.inf, 1.0)


@FUZZ
@given(case=cases(limit=10**5, scalar_only=True))
def test_fuzz_collision_pmf(case: Case) -> None:
    args, kwargs = case.pc.call()
    value = probe(_kind(case.valid, case.pc.prior), collision.collision_pmf, case.K, *args, **kwargs)
    check_float_result(value)
    if value is not None and case.valid:
        assert len(value) == int(case.K) + 1
        assert math.isclose(math.fsum(value), 1.0, rel_tol=1e-9)


@settings(FUZZ, max_examples=25)
@given(pc=prior_cases(), conf=confidence_values, anchor=flag_values)
def test_fuzz_required_negatives_and_expected_draws(pc: PriorCase, conf: tuple[Any, bool],
                                                    anchor: tuple[Any, bool]) -> None:
    args, kwargs = pc.call(False)
    draws = None
    if _moments_ok(pc.prior):
        draws = probe(_kind(pc.prior is not None, pc.effective(False), needs_replacement=True),
                      coverage.expected_draws, *args, **kwargs)
    if draws is not None:
        assert draws >= 1.0 and math.isfinite(draws)
    args, kwargs = pc.call()
    if anchor[0] is not None:
        kwargs["include_anchor"] = anchor[0]
    valid = pc.prior is not None and conf[1] and anchor[1]
    K = probe(_kind(valid, pc.prior, limited=True), coverage.required_negatives, *args,
              confidence=conf[0], **kwargs)
    if K is None:
        return
    assert isinstance(K, int) and 0 <= K <= MAX_K
    if not valid:
        return
    # the definition: the smallest K with coverage_prob(K) >= confidence
    q = float(conf[0])
    at = probe(VALID, coverage.coverage_prob, K, *args, **kwargs)
    assert at >= q * (1 - 1e-9), f"coverage_prob({K}) = {at!r} < confidence {q!r}"
    if K >= 1:
        below = probe(VALID, coverage.coverage_prob, K - 1, *args, **kwargs)
        assert below < q * (1 + 1e-9), f"coverage_prob({K - 1}) = {below!r} >= confidence {q!r}"


@settings(FUZZ, max_examples=25)
@given(pc=prior_cases(), extra=st.data(),
       q=st.one_of(st.floats(1e-6, 1 - 1e-6), st.floats(1e-6, 1 - 1e-6), st.sampled_from(
           [0.5, 1 - 1e-12, 1e-12, np.float64(0.99)]), junk),
       size=st.one_of(st.none(), st.integers(0, 5), st.just((2, 3)), junk))
def test_fuzz_completion_time(pc: PriorCase, extra: st.DataObject, q: Any, size: Any) -> None:
    args, kwargs = pc.call()
    prior = pc.prior
    T = probe(_kind(prior is not None, prior), coverage.completion_time, *args, **kwargs)
    if T is None:
        return
    n, n_ok = extra.draw(k_values(pc))
    kind = _kind(n_ok, prior)
    values = {}
    for name in ("cdf", "sf", "logcdf", "logsf"):
        values[name] = probe(kind, getattr(T, name), n)
    for name in ("pmf", "logpmf"):
        values[name] = probe(kind, getattr(T, name), n)
    for name in ("cdf", "sf", "pmf"):
        check_float_result(values[name])
    for name in ("logcdf", "logsf", "logpmf"):
        check_float_result(values[name], -math.inf, 0.0)
    if values["cdf"] is not None and values["sf"] is not None:
        cdf, sf = np.asarray(values["cdf"]), np.asarray(values["sf"])
        both = (cdf > 1e-3) & (sf > 1e-3)
        assert np.all(np.abs(cdf + sf - 1)[both] <= 1e-12), (n, cdf, sf)
    q_ok = isinstance(q, float) and 0 < q < 1
    value = probe(_kind(q_ok, prior, limited=True), T.ppf, q)
    if value is not None:
        assert np.all(np.asarray(value) >= T.C)
    probe(_kind(True, prior, limited=True), T.median)
    for name in ("mean", "var", "std") if _moments_ok(prior) else ():
        value = probe(_kind(True, prior), getattr(T, name))
        if value is not None:
            assert math.isfinite(value) and value >= 0
    if prior is not None and not prior.replacement:
        assert T.support()[0] == T.C and T.support()[1] <= prior.N
    else:
        assert T.support() == (T.C, math.inf)
    # uniform rvs builds arrays of length C: bounded here (see test_rvs_uniform_huge_C)
    if prior is None or not prior.is_uniform or prior.C <= 10**5:
        size_ok = size is None or (type(size) is int and 0 <= size <= 5) or (
            type(size) is tuple and size == (2, 3))
        probe(_kind(size_ok, prior, limited=True), T.rvs, size,
              random_state=0)


def test_rvs_uniform_huge_C() -> None:
    """Found by fuzzing: rvs built C-length arrays (C = 10**10: numpy's MemoryError);
    above C = 10**7 it now refuses up front."""
    with pytest.raises(ValueError, match=r"C = 10000000000 classes is above the limit"):
        coverage.completion_time(10**10).rvs(random_state=0)
    assert probe(LIMITED, coverage.completion_time(10**5).rvs, random_state=0) > 10**5


# ---------------------------------------------------------------------------
# valid calls that fail today: reproducers of what the fuzzing found, kept out
# of the strategies above (NON_UNIFORM_MAX_K, WITHOUT_REPLACEMENT_MAX_COUNT, the
# C bound of rvs) until the library is fixed
# ---------------------------------------------------------------------------

def test_longtail_huge_K_warns() -> None:
    """Found by fuzzing: RuntimeWarning('invalid value encountered in matmul') from the
    long-tail engine's tail integral for K >= 2**59."""
    assert probe(VALID, coverage.coverage_prob, 2**59, probs=[0.2, 0.3, 0.5]) == 1.0


def _in_child(code: str, seconds: float = 2 * BUDGET, memory: int = 3 * 2**30) -> str:
    """Run ``code`` in a child Python capped at ``memory`` bytes of address space and
    ``seconds``; return its stdout, or fail with what went wrong (a call that needs
    gigabytes must not swamp the machine running the tests)."""
    import os
    import subprocess
    import sys

    # the child caps itself: a preexec_fn would make subprocess fork the test process,
    # and frameworks imported by other tests (JAX) warn at every fork
    capped = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n{code}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    try:
        done = subprocess.run([sys.executable, "-W", "error", "-c", capped], capture_output=True,
                              text=True, timeout=seconds, env=env, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{code!r} took more than {seconds} s")
    assert done.returncode == 0, f"{code!r} failed: {done.stderr[-500:]}"
    return done.stdout


_TIMED = ("import time; from couponbound import coverage_prob; t = time.perf_counter(); "
          "v = {call}; print(v, time.perf_counter() - t)")


_REFUSED_OR_TIMED = ("import time; from couponbound import coverage_prob; t = time.perf_counter()\n"
                     "try:\n    v = {call}\nexcept ValueError as e:\n    v = 'refused'\n"
                     "    assert 'above the limit of 16777216' in str(e), e\n"
                     "print(v, time.perf_counter() - t)")


@pytest.mark.slow
def test_without_replacement_huge_N_tiny_class() -> None:
    """Found by fuzzing: a tiny class among huge ones sent the saddle FFT to 2**27+ points
    (12-16 s at N = 2e12, a 4 GiB MemoryError at N = 2e13); beyond 2**24 points the call
    is refused up front, and N = 2e11 still answers."""
    out = _in_child(_REFUSED_OR_TIMED.format(
        call="coverage_prob(10**13, counts=[10**13, 10**13, 1], replacement=False)"))
    value, seconds = out.split()
    assert value == "refused" and float(seconds) <= 1.0
    out = _in_child(_REFUSED_OR_TIMED.format(
        call="coverage_prob(10**11, counts=[10**11, 10**11, 1], replacement=False)"))
    value, seconds = out.split()
    # the tiny class is seen with probability n / N, the big ones almost surely
    assert math.isclose(float(value), (10**11 + 1) / (2 * 10**11 + 1), rel_tol=1e-9)


@pytest.mark.slow
def test_uniform_huge_C_near_bulk() -> None:
    """Found by fuzzing: coverage_prob(7590937796715116, 10**15) asked for an 8 GiB array;
    FFTs above 2**24 points are now refused up front (the documented limit)."""
    out = _in_child(_REFUSED_OR_TIMED.format(call="coverage_prob(7590937796715116, 10**15)"))
    value, seconds = out.split()
    assert value == "refused" and float(seconds) <= 1.0


def test_without_replacement_saddle_warns() -> None:
    """Found by fuzzing: RuntimeWarning('divide by zero encountered in log1p') from clog1p."""
    probe(VALID, coverage.coverage_prob, 10**9, counts=[10**9, 1, 10**9, 7], replacement=False)


def test_required_negatives_uniform_huge_C() -> None:
    """Found by fuzzing: required_negatives(10**9) built prior.probs (7.45 GiB)."""
    out = _in_child("from couponbound import required_negatives; "
                    "print(required_negatives(10**9, confidence=0.5))")
    assert int(out) > 10**9


def test_moments_tiny_class_warns() -> None:
    """Found by fuzzing: RuntimeWarning('divide by zero encountered in log1p') from the
    moments when a class has probability below ~1e-13."""
    value = probe(VALID, coverage.expected_draws, probs=[1 - 1e-14, 1e-14])
    assert value == pytest.approx(1e14, rel=1e-12)  # 1/p1 + 1/p2 - 1


def test_exact_dps_huge_float() -> None:
    """Found by fuzzing: dps=1e300 raised OverflowError; dps is limited to 10**4."""
    assert probe(JUNK, exact.coverage_prob_mp, 3, 2, dps=1e300) is None


def test_exact_dps_huge_int() -> None:
    """Found by fuzzing: dps = 2481895 ran for minutes; now refused up front."""
    assert probe(JUNK, exact.log_coverage_prob_mp, 34, 6, dps=2481895) is None


_EXACT_K_FUNCS = [exact.coverage_prob, exact.coverage_prob_mp, exact.log_coverage_prob_mp,
                  exact.collision_prob, exact.collision_pmf, exact.expected_log_collision,
                  exact.completion_time_pmf]

#: The float function each exact one is checked against (relative tolerance 1e-12 where
#: the value is a normal float), and whether the exact function takes include_anchor.
_FLOAT_OF = {exact.coverage_prob: coverage.coverage_prob,
             exact.collision_prob: collision.collision_prob}


@pytest.mark.parametrize("func", _EXACT_K_FUNCS, ids=[f.__name__ for f in _EXACT_K_FUNCS])
@FUZZ
@given(case=cases(small=True, limit=200, scalar_only=True),
       dps=st.one_of(st.none(), st.integers(5, 40),
                     junk.filter(lambda d: not isinstance(d, float | int) or not abs(d) > 10**5)))
def test_fuzz_exact(func: Callable[..., Any], case: Case, dps: Any) -> None:
    with_replacement = func is not exact.completion_time_pmf
    args, kwargs = case.pc.call(with_replacement)
    prior = case.pc.effective(with_replacement)
    dps_ok = True
    if dps is not None and func in (exact.coverage_prob_mp, exact.log_coverage_prob_mp,
                                    exact.expected_log_collision):
        kwargs["dps"] = dps
        dps_ok = isinstance(dps, int) and not isinstance(dps, bool) and 5 <= dps <= 40
    anchor_ok = True
    if case.anchor is not None and func in (exact.coverage_prob, exact.coverage_prob_mp,
                                            exact.log_coverage_prob_mp):
        kwargs["include_anchor"] = case.anchor
        anchor_ok = case.valid
    valid = case.valid and dps_ok and anchor_ok
    kind = _kind(valid, prior, needs_replacement=func is exact.completion_time_pmf, limited=True)
    value = probe(kind, func, case.K, *args, **kwargs)
    if value is None or kind != LIMITED or func not in _FLOAT_OF:
        return
    # exactness is the oracle: the float function agrees to 1e-12 relative
    assert isinstance(value, Fraction) and 0 <= value <= 1
    fast = probe(VALID, _FLOAT_OF[func], case.K, *args, **kwargs)
    if value > Fraction(1, 10**300):
        assert abs(Fraction(fast) - value) <= value * Fraction(1, 10**12), (float(value), fast)
    else:
        assert fast <= 1e-299


@FUZZ
@given(pc=prior_cases(small=True))
def test_fuzz_exact_expected_draws(pc: PriorCase) -> None:
    args, kwargs = pc.call(False)
    prior = pc.effective(False)
    kind = _kind(prior is not None, prior, needs_replacement=True, limited=True)
    value = probe(kind, exact.expected_draws, *args, **kwargs)
    if value is not None:
        assert value >= 1
    if value is not None and kind == LIMITED:
        fast = probe(VALID, coverage.expected_draws, *args, **kwargs)
        assert abs(Fraction(fast) - value) <= value * Fraction(1, 10**10), (float(value), fast)


@FUZZ
@given(value=st.one_of(st.integers(-3, 100), junk, dirichlet_probs(), counts_list,
                       st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=6)),
       replacement=st.one_of(st.none(), st.booleans(), junk),
       name=st.one_of(st.none(), st.text(max_size=5), junk))
def test_fuzz_prior_constructors(value: Any, replacement: Any, name: Any) -> None:
    probe(JUNK, Prior.uniform, value, name=name)
    probe(JUNK, Prior.from_probs, value, name=name)
    probe(JUNK, Prior.from_counts, value, replacement=replacement, name=name)
    prior = probe(JUNK, Prior.from_counts, value, replacement=True)
    if prior is not None:
        assert prior.C >= 1 and math.isclose(float(np.sum(prior.probs)), 1.0, rel_tol=1e-9)
        probe(JUNK, prior.with_replacement, replacement)
        prior.to_dict()


# ---------------------------------------------------------------------------
# how often the fuzzing reaches valid input
# ---------------------------------------------------------------------------

#: Fraction of the drawn calls that must be valid, and answered.
MIN_VALID = 0.6


def test_fuzz_reaches_valid_input() -> None:
    """Over a fixed seeded sample of ``cases()``, most calls are valid and coverage_prob answers them."""
    drawn: list[tuple[bool, bool]] = []

    @settings(FUZZ, max_examples=200)
    @given(case=cases())
    def sample(case: Case) -> None:
        args, kwargs = case.pc.call()
        if case.anchor is not None:
            kwargs["include_anchor"] = case.anchor
        kind = _kind(case.valid, case.pc.prior)
        drawn.append((case.valid, probe(kind, coverage.coverage_prob, case.K, *args, **kwargs)
                      is not None))

    sample()
    valid = sum(v for v, _ in drawn) / len(drawn)
    answered = sum(a for _, a in drawn) / len(drawn)
    print(f"\nfuzz sample: {len(drawn)} calls, {valid:.0%} valid, {answered:.0%} answered")
    assert len(drawn) >= 150
    assert valid >= MIN_VALID and answered >= MIN_VALID, (valid, answered)


@pytest.fixture(scope="module", autouse=True)
def _report_tally() -> Iterator[None]:
    """Print the module's tally of calls (shown with ``pytest -s``)."""
    yield
    total = sum(TALLY.values())
    if total:
        valid = sum(n for (kind, _), n in TALLY.items() if kind != JUNK)
        answered = sum(n for (_, ok), n in TALLY.items() if ok)
        print(f"\nfuzz tally: {total} calls, {valid / total:.1%} valid, {answered / total:.1%} "
              f"answered; " + ", ".join(f"{k}/{'ok' if ok else 'refused'}={n}"
                                        for (k, ok), n in sorted(TALLY.items())))
