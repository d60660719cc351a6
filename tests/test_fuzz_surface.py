"""Fuzz every public function of every public module, and the command (issue 20).

The rule is the package's: whatever the arguments, a public function answers
or refuses with a ``ValueError``/``TypeError`` whose message is not empty,
within a time budget and without a stray warning (the package's own named
warnings, e.g. :class:`~couponbound.VacuousBoundWarning`, are part of its
contract and allowed).  The command answers with exit code 0 or refuses with
exit code 2 and a one-line message; no traceback, no other code, no blocked
read, whatever the arguments and input files.

The functions are found by introspection (each public module's ``__all__``),
so a new public function is fuzzed without a change here;
:func:`test_every_public_module_is_fuzzed` fails when a public module is
missing from :data:`MODULES`.  Arguments mix junk (wrong types, bools,
strings, bytes, dicts, dates, masked arrays, NaN, 10**400, nested and empty
sequences) with plausible values (small ``C`` and ``K``, counts, priors with
and without replacement), so many calls get past validation.  The quick runs
draw a few examples per function; the ``slow`` ones many more, and the
figure-drawing modules.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import math
import os
import pkgutil
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import couponbound

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer")

#: Seconds one call may take (symbolic's exact forms get a smaller one).
BUDGET = 10.0
SYMBOLIC_BUDGET = 5.0
#: Drawing and saving figures (the default write_figures draws five, PDF and PNG).
FIGURE_BUDGET = 90.0
#: Bytes of address space one call may add (Linux): a MemoryError then fails the test.
MEMORY_BUDGET = 2 * 2**30

#: Public modules fuzzed here, with how many examples per function in the quick run
#: (0: only in the slow run).
MODULES: dict[str, int] = {
    "couponbound": 6,
    "couponbound.asymptotic": 6,
    "couponbound.bounds": 6,
    "couponbound.collision": 6,
    "couponbound.coverage": 6,
    "couponbound.exact": 4,
    "couponbound.occupancy": 6,
    "couponbound.symbolic": 4,
    "couponbound.testing": 3,
    "couponbound.paper.datasets": 6,
    "couponbound.paper.summary": 4,
    "couponbound.paper.tables": 4,
    "couponbound.paper.reports": 4,
    "couponbound.paper.style": 4,
    "couponbound.paper.outputs": 0,
    "couponbound.paper.plots": 0,
    "couponbound.training": 4,
    "couponbound.training.batch": 4,
    "couponbound.training.class_means": 4,
    "couponbound.training.monitor": 4,
    "couponbound.training.report": 4,
}
#: Public modules that are not fuzzed here, and why.
NOT_FUZZED = {
    "couponbound.cli": "fuzzed through its argument list below",
    "couponbound.paper": "a package with no functions of its own",
    "couponbound.training.distributed": "torch.distributed collectives need a process group",
    "couponbound.training.lightning": "a Lightning callback, driven by a Trainer",
}
#: Modules whose functions write files: an OSError (a folder that does not exist,
#: no permission) is their documented answer to a path that cannot be written.
WRITERS = {"couponbound.paper.outputs", "couponbound.paper.style"}


class OverBudget(BaseException):  # noqa: N818 - BaseException: the code under test cannot catch it
    """Raised in the main thread when a call exceeds its time budget."""


@contextlib.contextmanager
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


@contextlib.contextmanager
def memory_budget(extra: int = MEMORY_BUDGET) -> Iterator[None]:
    """Cap the address space at its current size plus *extra* bytes (soft RLIMIT_AS): a
    call that builds a huge array fails with MemoryError instead of swamping the machine."""
    import resource

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


def _own_warning(category: type[Warning]) -> bool:
    """A named warning of the package (or a deprecation it announces)."""
    return category.__module__.startswith("couponbound") or issubclass(category,
                                                                       DeprecationWarning)


def _public_modules() -> list[str]:
    names = ["couponbound"]
    for info in pkgutil.walk_packages(couponbound.__path__, "couponbound."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return sorted(names)


#: Classes a user builds from their own values (the others are records the package
#: returns, such as CoverageBounds or BoundReport, or need a classmethod: Prior).
INPUT_CLASSES = {"BoundMonitor", "BoundTerms", "ClassMeanEstimator"}
#: Constructors that are classmethods, fuzzed as functions.
CLASSMETHODS = {"couponbound": [("Prior", "uniform"), ("Prior", "from_probs"),
                                ("Prior", "from_counts")]}


def _functions(module: str) -> list[tuple[str, str]]:
    mod = importlib.import_module(module)
    out = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if isinstance(obj, type) and name not in INPUT_CLASSES:
            continue  # a record, a warning or an error class
        if callable(obj):
            out.append((module, name))
    out += [(module, f"{cls}.{meth}") for cls, meth in CLASSMETHODS.get(module, [])]
    return out


def _resolve(module: str, name: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


FUNCTIONS = [f for m in MODULES for f in _functions(m)]


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

_JUNK: list[Any] = [
    None, True, False, 0, 1, 2, -1, 3.0, 2.5, -0.0, math.nan, math.inf, -math.inf, 1e308, 1e-320,
    2**62, 2**63, 10**30, 10**400, -(10**400), "3", "0.5", "", "CIFAR-10", b"10", 1j,
    Fraction(1, 3), Fraction(10**400, 3), [], [[]], [[1, 2], [3]], (), {}, {10: 1}, object(),
    [True, False], [0.5, None], [math.nan, 0.5], [1e-300, 1 - 1e-300], [-0.5, 1.5],
    np.int64(5), np.uint64(2**64 - 1), np.float16(10), np.float32(2.0), np.bool_(True),
    np.datetime64("2020"), np.timedelta64(3, "D"), np.array([]), np.array([[1, 2], [3, 4]]),
    np.array(["a", "b"]), np.array(np.nan), np.ma.masked_array([3, 3, 2], mask=[0, 0, 1]),
    np.ma.masked_array([0.5, 0.5], mask=[0, 1]), np.ma.masked, range(3), slice(1), [10**19, 1],
    [2**62 + 1], np.array([1.5, 2.5]),
]

_PLAUSIBLE: list[Any] = [
    0, 1, 3, 5, 10, 31, 100, 0.5, 0.9, 0.99, 1.0, -1.16, 2.02, 1.26, [3, 3, 2], [50, 30, 20],
    [0.5, 0.3, 0.2], np.array([1, 5, 31]), np.array([0.9, 0.99]),
    couponbound.Prior.uniform(10), couponbound.Prior.from_counts([3, 3, 2]),
    couponbound.Prior.from_counts([3, 3, 2], replacement=False),
    couponbound.Prior.from_probs([0.7, 0.2, 0.1]), ("CIFAR-10", 10), "CIFAR-100",
    [("A", 2), ("B", 4)], np.zeros((4, 3)), np.ones((4, 3)) / 2, np.array([0, 1, 0, 1]),
]

value = st.one_of(st.sampled_from(_JUNK), st.sampled_from(_PLAUSIBLE),
                  st.integers(-5, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                  st.lists(st.integers(-2, 60), max_size=5))


def _arguments(draw: st.DrawFn, func: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]]:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # pragma: no cover - a builtin without a signature
        return [draw(value)], {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for p in sig.parameters.values():
        required = p.default is inspect.Parameter.empty
        if p.kind is p.VAR_POSITIONAL:
            args.extend(draw(st.lists(value, max_size=3)))
        elif p.kind is p.VAR_KEYWORD:
            continue
        elif p.kind is p.KEYWORD_ONLY:
            if required or draw(st.integers(0, 2)) == 0:
                kwargs[p.name] = draw(value)
        elif required and not kwargs:
            args.append(draw(value))
        elif required:
            kwargs[p.name] = draw(value)
        elif draw(st.integers(0, 2)) == 0:
            kwargs[p.name] = draw(value)
    return args, kwargs


def call(module: str, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any],
         seconds: float) -> Any:
    """Call *func*; only an answer, a ValueError/TypeError (OSError for writers) may come back."""
    shown = f"{module}.{getattr(func, '__qualname__', func)}(*{args!r:.300}, **{kwargs!r:.300})"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with budget(seconds), memory_budget():
                result = func(*args, **kwargs)
        except MemoryError as exc:
            pytest.fail(f"{shown} needs more than {MEMORY_BUDGET / 2**30:g} GiB: {exc!r:.200}")
        except (ValueError, TypeError) as exc:
            assert str(exc), f"{shown} refused with an empty message"
            result = None
        except OSError as exc:
            assert module in WRITERS, f"{shown} raised {exc!r}"
            result = None
        except OverBudget:
            pytest.fail(f"{shown} took more than {seconds} s")
        except Exception as exc:  # noqa: BLE001 - the point: report anything else
            pytest.fail(f"{shown} raised {type(exc).__name__}: {exc!s:.300}")
    stray = [w for w in caught if not _own_warning(w.category)]
    assert not stray, f"{shown} warned {stray[0].category.__name__}: {stray[0].message!s:.300}"
    return result


def _fuzz(module: str, name: str, data: st.DataObject, tmp: Path) -> None:
    func = _resolve(module, name)
    args, kwargs = _arguments(data.draw, func)
    seconds = (SYMBOLIC_BUDGET if module.endswith("symbolic") else
               FIGURE_BUDGET if module.endswith(("plots", "outputs", "style")) else BUDGET)
    with contextlib.chdir(tmp):
        result = call(module, func, args, kwargs, seconds)
    close_figures(result)


def close_figures(result: Any) -> None:
    import sys

    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


_QUICK = [f for f in FUNCTIONS if MODULES[f[0]] > 0]


@pytest.mark.parametrize(("module", "name"), _QUICK, ids=[f"{m}.{n}" for m, n in _QUICK])
def test_fuzz_public_function(module: str, name: str, tmp_path: Path) -> None:
    @settings(max_examples=MODULES[module], deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _fuzz(module, name, data, tmp_path)

    run()


#: The long fuzz runs on request (``COUPONBOUND_FUZZ_LONG=1``): with many random
#: examples it keeps finding new slow corners (exact arithmetic of huge C), so it is
#: a hunting tool, not a gate; the quick fuzz above covers every function in CI.
LONG = pytest.mark.skipif(not os.environ.get("COUPONBOUND_FUZZ_LONG"),
                          reason="the long fuzz runs with COUPONBOUND_FUZZ_LONG=1")


@pytest.mark.slow
@LONG
@pytest.mark.parametrize(("module", "name"), FUNCTIONS, ids=[f"{m}.{n}" for m, n in FUNCTIONS])
def test_fuzz_public_function_at_length(module: str, name: str, tmp_path: Path) -> None:
    # exact arithmetic and figures spend seconds on a valid call (exact.collision_pmf(2,
    # C=10**6) takes about 8 s): fewer examples there
    examples = 30 if module.endswith(("plots", "outputs", "exact", "symbolic")) else 150

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        _fuzz(module, name, data, tmp_path)

    run()


def test_every_public_module_is_fuzzed() -> None:
    assert set(_public_modules()) == set(MODULES) | set(NOT_FUZZED)
    assert len(FUNCTIONS) > 90  # the introspection found the API


def test_the_harness_catches_what_it_should() -> None:
    # the controls: an OverflowError, a stray RuntimeWarning and a hang are each reported
    def overflow(x: Any) -> float:
        return float(10**400)

    def warns(x: Any) -> float:
        warnings.warn("overflow", RuntimeWarning, stacklevel=1)
        return 0.0

    def hangs(x: Any) -> None:
        while True:
            pass

    for func in (overflow, warns):
        with pytest.raises((pytest.fail.Exception, AssertionError)):
            call("couponbound.coverage", func, [1], {}, BUDGET)
    with pytest.raises(pytest.fail.Exception, match="took more than 0.2 s"):
        call("couponbound.coverage", hangs, [1], {}, 0.2)
    assert call("couponbound.coverage", lambda x: int(x), ["x"], {}, BUDGET) is None


# ---------------------------------------------------------------------------
# the frozen distributions' methods
# ---------------------------------------------------------------------------

_METHODS = ("pmf", "logpmf", "cdf", "sf", "logcdf", "logsf", "ppf", "isf", "rvs", "mean",
            "var", "std", "support")


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["completion_time", "distinct_classes"]),
       st.sampled_from(_PLAUSIBLE[:3] + _PLAUSIBLE[19:23]), st.sampled_from(_METHODS),
       st.lists(value, max_size=2))
def test_fuzz_distribution_methods(factory: str, prior: Any, method: str, args: list[Any]) -> None:
    make = getattr(couponbound, factory)
    made_args = [prior] if factory == "completion_time" else [5, prior]
    dist = call("couponbound", make, made_args, {}, BUDGET)
    if dist is None or not hasattr(dist, method):
        return
    call("couponbound", getattr(dist, method), args, {}, BUDGET)


# ---------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------

_FILE_CONTENTS: list[bytes] = [
    b"", b"5 3 2", b"[50, 30, 20]", b"[1, true]", b"[1e400]", b"1,2,x", b"\xff\xfe", b"[" * 5000,
    b'{"runs": []}', b"[]", b"NaN", b"0 0 0", b"1.5 2", b"-3 4", b"9" * 400, b"1 " * 10_000,
    b'{"contrastive": 1.0}', b'{"format": "couponbound.BoundMonitor", "version": 99}',
]

_OPTIONS: dict[str, list[str]] = {
    "coverage": ["-C", "-K", "--counts", "--probs", "--dataset", "--without-replacement",
                 "--no-anchor", "--json", "--csv", "--latex", "--markdown"],
    "required": ["-C", "--counts", "--probs", "--dataset", "--without-replacement",
                 "--confidence", "--json", "--csv", "--latex"],
    "table": ["-C", "--dataset", "--without-replacement", "--confidence", "--json", "--csv"],
    "report": ["--accuracy", "--no-figures", "--json", "--csv", "--latex"],
}

_WORDS = ["10", "3", "0", "-1", "31", "4095", "3029", "0.5", "0.99", "0.9999999999999999", "1",
          "1.5", "nan", "inf", "1e400", "9" * 25, "", " ", "3,3,2", "50,30,20", "0.5,0.5",
          "0.7,0.2,0.1", "@", "@-", "@{file}", "{file}", "CIFAR-10", "CIFAR-100-LT (r=100)",
          "x=4", "mine=@{file}", "a=b=3", "x=", "=3", "--", "-q", "--help"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    sub = draw(st.sampled_from(sorted(_OPTIONS)))
    argv = [sub]
    if sub == "report":
        argv.append(draw(st.sampled_from(["{file}", "@{file}", "-", "", "/nonexistent.json"])))
    for _ in range(draw(st.integers(0, 5))):
        argv.append(draw(st.sampled_from(_OPTIONS[sub])))
        argv.extend(draw(st.lists(st.sampled_from(_WORDS), max_size=2)))
    if draw(st.integers(0, 3)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(st.text(max_size=6)))
    return argv


def run_command(argv: list[str], seconds: float = BUDGET) -> tuple[int, str, str]:
    """``main(argv)`` in this process: (exit code, stdout, stderr)."""
    from couponbound.cli import main

    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with budget(seconds), memory_budget(), contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(err):
                code = main(argv)
        except SystemExit as exc:  # argparse: --help (0) and bad usage (2)
            code = exc.code if isinstance(exc.code, int) else 2
        except OverBudget:
            pytest.fail(f"couponbound {argv!r} took more than {seconds} s")
        except Exception as exc:  # noqa: BLE001 - the point: report anything else
            pytest.fail(f"couponbound {argv!r} raised {type(exc).__name__}: {exc!s:.300}")
    stray = [w for w in caught if not _own_warning(w.category)]
    assert not stray, f"couponbound {argv!r} warned {stray[0].category.__name__}: {stray[0].message}"
    return code, out.getvalue(), err.getvalue()


def _check_command(argv: list[str], contents: bytes, tmp: Path) -> None:
    path = tmp / "input"
    path.write_bytes(contents)
    argv = [a.replace("{file}", str(path)) for a in argv]
    code, out, err = run_command(argv)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.count("\n") == 1 and "error:" in err and "Traceback" not in err, (argv, err)
    elif "--help" not in argv:
        assert out.strip(), argv
        if "--json" in argv:
            json.loads(out)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(command_lines(), st.sampled_from(_FILE_CONTENTS))
def test_fuzz_command(argv: list[str], contents: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d, contextlib.chdir(d):
        _check_command(argv, contents, Path(d))
        assert sorted(os.listdir(d)) == ["input"]  # the tabular commands write nothing


@pytest.mark.slow
@LONG
@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(command_lines(), st.one_of(st.sampled_from(_FILE_CONTENTS), st.binary(max_size=200)))
def test_fuzz_command_at_length(argv: list[str], contents: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d, contextlib.chdir(d):
        _check_command(argv, contents, Path(d))


def test_command_harness_sees_a_failure() -> None:
    # the control: an exit code other than 0/2 or a second line of error is caught
    with pytest.raises(AssertionError):
        assert run_command(["coverage", "-C", "10", "-K", "31"])[0] == 2
    code, out, err = run_command(["coverage", "-C", "10", "-K", "31", "--json"])
    assert code == 0 and json.loads(out)[0]["K"] == 31 and err == ""
