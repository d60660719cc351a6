"""Kill a writer with SIGKILL at random moments: every output is complete or absent.

:func:`kill_during` is generic: it takes the command, the output files and a
validator, so the same harness drives a toy writer (here) and the main job
(``python -m couponbound --out DIR``) once its writers go through
``couponbound.paper._atomic``.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from couponbound.paper._atomic import is_temp_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork need POSIX")

REPO = Path(__file__).resolve().parents[1]

#: ``validate(path, data)`` returns ``None`` for a complete version, else why not.
Validator = Callable[[Path, bytes], "str | None"]


@dataclass
class KillTrial:
    """What one kill left behind."""

    delay: float
    was_running: bool
    states: dict[str, str] = field(default_factory=dict)  # name -> complete / absent / corrupt: why
    strays: list[str] = field(default_factory=list)  # unexpected files that are not our temporaries

    def corrupt(self) -> dict[str, str]:
        return {k: v for k, v in self.states.items() if v.startswith("corrupt")}

    def absent(self) -> list[str]:
        return [k for k, v in self.states.items() if v == "absent"]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), MPLBACKEND="Agg")
    env.pop("PYTHONSTARTUP", None)
    return env


def _wait_for_line(proc: subprocess.Popen[bytes], marker: bytes, timeout: float) -> None:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while marker + b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {marker!r} from the child within {timeout} s")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"child ended (rc={proc.wait()}) before printing {marker!r}")
            buf += chunk


def kill_during(
    command: Sequence[str],
    outputs: Sequence[Path],
    validate: Validator,
    *,
    delay: float,
    ready: bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> KillTrial:
    """Run *command*, SIGKILL it *delay* seconds later, then inspect *outputs*.

    If *ready* is given, the clock starts when the child prints that line.
    Every output must afterwards be absent or pass *validate*; any other file
    in the outputs' folders that is not one of our temporary files (which
    only a SIGKILL can leave) is reported as a stray.
    """
    proc = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE if ready else subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        cwd=cwd,
    )
    try:
        if ready is not None:
            _wait_for_line(proc, ready, timeout)
        time.sleep(delay)
        was_running = proc.poll() is None
        if was_running:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:  # pragma: no cover - only if an assertion fired
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    trial = KillTrial(delay=delay, was_running=was_running)
    names = {p.name for p in outputs}
    for path in outputs:
        if not os.path.lexists(path):
            trial.states[path.name] = "absent"
            continue
        why = validate(path, path.read_bytes())
        trial.states[path.name] = "complete" if why is None else f"corrupt: {why}"
    for folder in {p.parent for p in outputs}:
        if folder.is_dir():
            trial.strays += [n for n in os.listdir(folder) if n not in names and not is_temp_name(n)]
    return trial


# ---------------------------------------------------------------------------
# a toy writer: several large files rewritten in a loop
# ---------------------------------------------------------------------------

def _toy_version(name: str, v: int, payload: bytes) -> bytes:
    """Version *v* of file *name*: header, payload, checksum footer."""
    header = b"COUPONBOUND-TEST %s v=%d len=%d\n" % (name.encode(), v, len(payload))
    digest = hashlib.sha256(payload).hexdigest().encode()
    check = hashlib.sha256(header + digest).hexdigest().encode()
    return header + payload + b"\nEND " + check + b"\n"


_WRITER = "import hashlib\n" + inspect.getsource(_toy_version) + textwrap.dedent(
    """
    import os, random, sys, time
    from couponbound.paper._atomic import atomic_open, atomic_write_bytes
    folder, mode, nfiles, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    payloads = [random.Random(k).randbytes(size) for k in range(nfiles)]

    def slowly(fh, data):                 # a renderer streaming its output
        for i in range(0, len(data), 65536):
            fh.write(data[i:i + 65536])
            time.sleep(0.001)

    def plain_write(path, data):          # the non-atomic way, for the control test
        with open(path, "wb") as fh:
            slowly(fh, data)

    def atomic_slow_write(path, data):
        with atomic_open(path, "wb") as fh:
            slowly(fh, data)

    write = {"atomic": atomic_write_bytes, "atomic_slow": atomic_slow_write, "plain": plain_write}[mode]
    v = 0
    while True:
        v += 1
        for k in range(nfiles):
            name = "out%d.bin" % k
            write(os.path.join(folder, name), _toy_version(name, v, payloads[k]))
        if v == 1:
            print("ready", flush=True)
    """
)

_HEADER = re.compile(rb"COUPONBOUND-TEST (\S+) v=(\d+) len=(\d+)\n")


def _toy_validate(path: Path, data: bytes) -> str | None:
    m = _HEADER.match(data)
    if m is None:
        return f"no header ({len(data)} bytes)"
    if m.group(1).decode() != path.name:
        return "header names another file"
    size = int(m.group(3))
    header, payload, rest = data[: m.end()], data[m.end() : m.end() + size], data[m.end() + size :]
    if len(payload) < size:
        return f"truncated payload ({len(payload)} of {size} bytes)"
    check = hashlib.sha256(header + hashlib.sha256(payload).digest().hex().encode()).hexdigest()
    if rest != b"\nEND " + check.encode() + b"\n":
        return "bad footer or checksum"
    return None


def _toy_trials(tmp_path: Path, mode: str, trials: int, seed: int) -> list[KillTrial]:
    rng = random.Random(seed)
    folder = tmp_path / mode
    folder.mkdir()
    outputs = [folder / f"out{k}.bin" for k in range(4)]
    command = [sys.executable, "-c", _WRITER, str(folder), mode, str(len(outputs)), str(1 << 20)]
    return [
        kill_during(command, outputs, _toy_validate, delay=rng.uniform(0.0, 0.25), ready=b"ready")
        for _ in range(trials)
    ]


def test_toy_validator_is_sharp(tmp_path: Path) -> None:
    p = tmp_path / "out0.bin"
    good = _toy_version("out0.bin", 3, bytes(range(256)) * 4)
    header_len = len(b"COUPONBOUND-TEST out0.bin v=3 len=1024\n")
    assert _toy_validate(p, good) is None
    assert _toy_validate(p, good[:-1]) == "bad footer or checksum"
    assert _toy_validate(p, good[:500]) == f"truncated payload ({500 - header_len} of 1024 bytes)"
    assert _toy_validate(p, b"") == "no header (0 bytes)"
    assert _toy_validate(tmp_path / "out1.bin", good) == "header names another file"
    other = _toy_version("out0.bin", 4, bytes(range(256))[::-1] * 4)
    assert _toy_validate(p, good[:100] + other[100:]) == "bad footer or checksum"


@pytest.mark.parametrize("mode", ["atomic", "atomic_slow"])
def test_killed_atomic_writer_leaves_every_file_complete(tmp_path: Path, mode: str) -> None:
    results = _toy_trials(tmp_path, mode, trials=5, seed=11)
    for trial in results:
        assert trial.was_running, trial
        # A complete version existed before each kill, so none may be missing.
        assert trial.absent() == [], trial
        assert trial.corrupt() == {}, trial
        assert trial.strays == [], trial


def test_killed_plain_writer_is_caught_by_the_harness(tmp_path: Path) -> None:
    # The control: without the atomic writers the same kills leave torn files, so the test
    # above would fail if atomic_write_bytes were not atomic.
    # The slow writer spends nearly all its time inside a write, so each kill
    # tears a file with high probability; five clean trials in a row would
    # mean the harness is blind.
    results = _toy_trials(tmp_path, "plain", trials=5, seed=12)
    assert all(t.was_running for t in results)
    assert sum(bool(t.corrupt()) for t in results) >= 2, results


# ---------------------------------------------------------------------------
# the real main job
# ---------------------------------------------------------------------------


def _writers_use_atomic() -> list[str]:
    """The paper modules that write files through couponbound.paper._atomic."""
    pattern = re.compile(r"from (couponbound\.paper|\.)?\._atomic import|from \. import _atomic\b")
    return sorted(f.name for f in (REPO / "couponbound" / "paper").glob("*.py")
                  if f.name != "_atomic.py" and pattern.search(f.read_text(encoding="utf-8")))


def test_the_writers_write_atomically() -> None:
    # the tables (outputs.py) and the figures (style.py) go through the atomic writer
    assert {"outputs.py", "style.py"} <= set(_writers_use_atomic())


def main_job_trials(tmp_path: Path, trials: int, seed: int) -> list[KillTrial]:
    """Kill ``python -m couponbound --out DIR`` at random moments.

    A reference run gives the expected bytes of every output (the writers are
    deterministic).  Odd trials start from a complete earlier run (which must
    survive: every file present and complete), even trials from an empty
    folder (every file absent or complete).
    """
    rng = random.Random(seed)
    ref = tmp_path / "reference"
    command = [sys.executable, "-m", "couponbound", "-q", "--out"]
    start = time.monotonic()
    done = subprocess.run([*command, str(ref)], env=_env(), capture_output=True, timeout=300)
    duration = time.monotonic() - start
    assert done.returncode == 0, done.stderr.decode()
    expected = {p.name: p.read_bytes() for p in sorted(ref.iterdir())}
    assert len(expected) >= 4, sorted(expected)

    def validate(path: Path, data: bytes) -> str | None:
        want = expected[path.name]
        if data == want:
            return None
        return f"{len(data)} bytes, expected {len(want)} (differs from the reference run)"

    results = []
    for i in range(trials):
        out = tmp_path / f"out{i}"
        if i % 2:
            shutil.copytree(ref, out)
        else:
            out.mkdir()
        outputs = [out / name for name in expected]
        trial = kill_during([*command, str(out)], outputs, validate, delay=rng.uniform(0.3, duration))
        trial.states["(from earlier run)"] = "yes" if i % 2 else "no"
        results.append(trial)
    return results


@pytest.mark.slow
def test_killed_main_job_leaves_every_output_complete_or_absent(tmp_path: Path) -> None:
    results = main_job_trials(tmp_path, trials=4, seed=2024)
    assert any(t.was_running for t in results)
    for trial in results:
        assert trial.corrupt() == {}, trial
        assert trial.strays == [], trial
        if trial.states["(from earlier run)"] == "yes":
            assert trial.absent() == [], trial


@pytest.mark.slow
def test_concurrent_main_jobs_leave_each_file_equal_to_one_complete_version(tmp_path: Path) -> None:
    """Two main jobs into the same --out: every file equals one run's complete version.

    The two runs differ (--venue neurips vs --venue icml changes every figure),
    so a file mixing both, or one truncated by the other, is caught.
    """
    runs = {"neurips": tmp_path / "ref-neurips", "icml": tmp_path / "ref-icml"}
    base = [sys.executable, "-m", "couponbound", "-q", "--csv", "--out"]
    versions: dict[str, set[bytes]] = {}
    for venue, ref in runs.items():
        done = subprocess.run([*base, str(ref), "--venue", venue], env=_env(),
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        for p in ref.iterdir():
            versions.setdefault(p.name, set()).add(p.read_bytes())
    assert sum(len(v) == 2 for v in versions.values()) >= 5  # the figures differ
    shared = tmp_path / "shared"
    procs = [subprocess.Popen([*base, str(shared), "--venue", venue], env=_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for venue in runs]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    names = sorted(p.name for p in shared.iterdir())
    assert names == sorted(versions)  # no temporary file is left behind
    for name in names:
        assert (shared / name).read_bytes() in versions[name], name
