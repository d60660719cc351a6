"""Atomic outputs (couponbound.paper._atomic), the bounded inputs (couponbound.paper._inputs)
and the command's quiet closed pipe (couponbound.cli)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from couponbound import cli
from couponbound.cli import EXIT_BROKEN_PIPE, run_cli_quietly
from couponbound.paper import _atomic
from couponbound.paper._atomic import (
    atomic_open,
    atomic_output,
    atomic_write_bytes,
    atomic_write_text,
    is_temp_name,
    save_figure_atomic,
)
from couponbound.paper._inputs import load_json_file, loads_json, read_bounded, strict_bool

POSIX = os.name == "posix"
REPO = Path(__file__).resolve().parents[1]


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _versioned(tag: bytes, size: int = 50_000) -> bytes:
    """A recognisable complete version: header, payload, sha256 footer."""
    body = b"BEGIN " + tag + b"\n" + (tag * (size // max(len(tag), 1) + 1))[:size]
    return body + b"\nEND " + hashlib.sha256(body).hexdigest().encode() + b"\n"


def _is_complete(data: bytes) -> bool:
    head, sep, tail = data.rpartition(b"\nEND ")
    expected = hashlib.sha256(head).hexdigest().encode() + b"\n"
    return bool(sep) and head.startswith(b"BEGIN ") and tail == expected


# ---------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------


def _write_bytes(p: Path, data: bytes) -> None:
    atomic_write_bytes(p, data)


def _write_text(p: Path, data: bytes) -> None:
    atomic_write_text(p, data.decode("latin-1"), encoding="latin-1")


def _write_output(p: Path, data: bytes) -> None:
    with atomic_output(p) as tmp:
        tmp.write_bytes(data)


def _write_open(p: Path, data: bytes) -> None:
    with atomic_open(p, "wb") as fh:
        fh.write(data)


WRITERS = [_write_bytes, _write_text, _write_output, _write_open]


@pytest.mark.parametrize("write", WRITERS)
def test_writes_and_replaces_leaving_nothing_else(tmp_path: Path, write) -> None:
    dest = tmp_path / "out.bin"
    write(dest, b"first\n")
    assert dest.read_bytes() == b"first\n"
    write(dest, b"second, longer\r\n")
    assert dest.read_bytes() == b"second, longer\r\n"
    assert _listing(tmp_path) == ["out.bin"]


def test_write_returns_the_destination(tmp_path: Path) -> None:
    assert atomic_write_bytes(tmp_path / "a", b"x") == tmp_path / "a"
    assert atomic_write_text(str(tmp_path / "b.md"), "y") == tmp_path / "b.md"


def test_text_is_encoded_as_asked_without_newline_translation(tmp_path: Path) -> None:
    dest = tmp_path / "t.txt"
    atomic_write_text(dest, "é\r\nx\n")
    assert dest.read_bytes() == "é\r\nx\n".encode()
    atomic_write_text(dest, "é", encoding="latin-1")
    assert dest.read_bytes() == b"\xe9"
    with atomic_open(dest, "w", encoding="utf-16-le", newline="") as fh:
        fh.write("a\n")
    assert dest.read_bytes() == b"a\x00\n\x00"


@pytest.mark.skipif(not POSIX, reason="symbolic links need POSIX")
@pytest.mark.parametrize("write", WRITERS)
def test_symlink_at_destination_is_replaced_not_followed(tmp_path: Path, write) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    victim.chmod(0o644)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "fig.pdf"
    dest.symlink_to(victim)
    write(dest, b"new contents")
    assert victim.read_bytes() == b"precious"
    assert stat.S_ISREG(os.lstat(dest).st_mode)
    assert dest.read_bytes() == b"new contents"
    assert _listing(out) == ["fig.pdf"]


@pytest.mark.skipif(not POSIX, reason="symbolic links need POSIX")
def test_dangling_symlink_and_symlink_to_folder_are_replaced(tmp_path: Path) -> None:
    dangling = tmp_path / "a.csv"
    dangling.symlink_to(tmp_path / "elsewhere" / "nothing.csv")
    atomic_write_text(dangling, "x")
    assert not (tmp_path / "elsewhere").exists()
    assert stat.S_ISREG(os.lstat(dangling).st_mode)

    folder = tmp_path / "folder"
    folder.mkdir()
    link = tmp_path / "b.csv"
    link.symlink_to(folder)
    atomic_write_text(link, "y")
    assert link.read_text() == "y" and not link.is_symlink()
    assert _listing(folder) == []


@pytest.mark.skipif(not POSIX, reason="umask is POSIX")
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002, 0o027])
def test_mode_is_that_of_a_new_file(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        reference = tmp_path / "plain"
        reference.write_bytes(b"")
        dest = tmp_path / "atomic"
        atomic_write_bytes(dest, b"x")
        with atomic_output(tmp_path / "ctx") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert stat.S_IMODE(os.stat(reference).st_mode) == expected
    assert stat.S_IMODE(os.stat(dest).st_mode) == expected
    assert stat.S_IMODE(os.stat(tmp_path / "ctx").st_mode) == expected


def test_umask_reader_agrees_with_the_process(tmp_path: Path) -> None:
    old = os.umask(0o037)
    try:
        assert _atomic._current_umask() == 0o037
    finally:
        os.umask(old)


def test_temporary_file_is_a_hidden_sibling_with_the_suffix(tmp_path: Path) -> None:
    seen = []
    with atomic_output(tmp_path / "coverage.png") as tmp:
        seen.append(tmp)
        assert tmp.parent == tmp_path and tmp.exists() and tmp.stat().st_size == 0
        assert tmp.name.startswith(".coverage.png.") and tmp.suffix == ".png"
        assert is_temp_name(tmp.name)
        tmp.write_bytes(b"png")
    assert not seen[0].exists()
    assert not is_temp_name("coverage.png") and not is_temp_name(".hidden")


def test_long_names_still_get_a_valid_temporary_name(tmp_path: Path) -> None:
    dest = tmp_path / ("x" * 240 + ".pdf")
    atomic_write_bytes(dest, b"%PDF")
    assert dest.read_bytes() == b"%PDF"


def test_error_in_the_block_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    dest = tmp_path / "table.tex"
    dest.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_output(dest) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("boom")
    with pytest.raises(KeyboardInterrupt), atomic_open(dest, "w") as fh:
        fh.write("half")
        raise KeyboardInterrupt
    assert dest.read_text() == "old"
    assert _listing(tmp_path) == ["table.tex"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failing_rename_or_fsync_keeps_the_old_file(tmp_path: Path, monkeypatch, failing: str) -> None:
    dest = tmp_path / "fig.png"
    dest.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, fail)
    for write in WRITERS:
        with pytest.raises(OSError, match="No space"):
            write(dest, b"new")
    monkeypatch.undo()
    assert dest.read_bytes() == b"old"
    assert _listing(tmp_path) == ["fig.png"]


def test_block_that_removes_its_temporary_file_fails_cleanly(tmp_path: Path) -> None:
    dest = tmp_path / "x"
    with pytest.raises(FileNotFoundError), atomic_output(dest) as tmp:
        tmp.unlink()
    assert _listing(tmp_path) == []


def test_destination_that_is_a_folder_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("k")
    with pytest.raises(IsADirectoryError):
        atomic_write_text(tmp_path / "out", "x")
    assert _listing(tmp_path) == ["out"] and _listing(tmp_path / "out") == ["keep"]


def test_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "no" / "such" / "f", b"x")
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda d: atomic_write_bytes(b"/tmp/x", b""), TypeError, "path"),
        (lambda d: atomic_write_bytes(3, b""), TypeError, "path"),
        (lambda d: atomic_write_bytes(None, b""), TypeError, "path"),
        (lambda d: atomic_write_bytes("", b""), ValueError, "path"),
        (lambda d: atomic_write_bytes(str(d) + "/", b""), ValueError, "path"),
        (lambda d: atomic_write_bytes(d / "f", "text"), TypeError, "data"),
        (lambda d: atomic_write_text(d / "f", b"bytes"), TypeError, "text"),
        (lambda d: atomic_write_text(d / "f", "x", encoding="no-such-codec"), ValueError, "encoding"),
        (lambda d: atomic_write_text(d / "f", "é", encoding="ascii"), ValueError, "ascii"),
        (lambda d: atomic_open(d / "f", "a").__enter__(), ValueError, "mode"),
    ],
)
def test_bad_arguments_are_named_and_write_nothing(tmp_path: Path, call, exc, match) -> None:
    with pytest.raises(exc, match=match):
        call(tmp_path)
    assert _listing(tmp_path) == []


def test_concurrent_writers_always_leave_one_complete_version(tmp_path: Path) -> None:
    """Two writers and a reader on one path: every read is a complete version."""
    dest = tmp_path / "shared.bin"
    versions = {tag: _versioned(tag, 200_000) for tag in (b"alpha", b"omega")}
    atomic_write_bytes(dest, versions[b"alpha"])
    stop = threading.Event()
    reads: list[bytes] = []
    errors: list[BaseException] = []

    def writer(tag: bytes) -> None:
        try:
            for _ in range(60):
                atomic_write_bytes(dest, versions[tag])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        while not stop.is_set():
            reads.append(dest.read_bytes())

    threads = [threading.Thread(target=writer, args=(t,)) for t in versions]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert not errors
    assert len(reads) > 10
    assert all(r in versions.values() for r in reads)
    assert dest.read_bytes() in versions.values()
    assert _listing(tmp_path) == ["shared.bin"]


_WRITER_CHILD = textwrap.dedent(
    """
    import hashlib, sys
    from couponbound.paper._atomic import atomic_write_bytes
    dest, tag, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    body = b"BEGIN " + tag + b"\\n" + (tag * 100_000)[:300_000]
    data = body + b"\\nEND " + hashlib.sha256(body).hexdigest().encode() + b"\\n"
    for _ in range(n):
        atomic_write_bytes(dest, data)
    """
)


@pytest.mark.skipif(not POSIX, reason="process test uses POSIX paths")
def test_concurrent_processes_always_leave_one_complete_version(tmp_path: Path) -> None:
    dest = tmp_path / "shared.bin"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER_CHILD, str(dest), tag, "80"], env=env)
        for tag in ("left", "right")
    ]
    reads = 0
    while any(p.poll() is None for p in procs):
        try:
            data = dest.read_bytes()
        except FileNotFoundError:
            continue
        assert _is_complete(data), data[:40]
        reads += 1
    assert [p.returncode for p in procs] == [0, 0]
    assert _is_complete(dest.read_bytes())
    assert _listing(tmp_path) == ["shared.bin"]
    assert reads > 0


def test_is_complete_validator_rejects_torn_versions() -> None:
    good = _versioned(b"v1")
    assert _is_complete(good)
    assert not _is_complete(good[:-1])
    assert not _is_complete(good[: len(good) // 2])
    assert not _is_complete(b"")
    torn = good[:100] + _versioned(b"v2")[100:]
    assert not _is_complete(torn)


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------


@pytest.fixture
def fig():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(2.0, 1.5))
    ax.plot([0, 1], [1, 0])
    yield figure
    plt.close(figure)


@pytest.mark.parametrize(
    ("name", "magic"),
    [("f.png", b"\x89PNG\r\n\x1a\n"), ("f.pdf", b"%PDF-"), ("f.svg", b"<?xml"), ("f.PDF", b"%PDF-")],
)
def test_figure_format_follows_the_suffix(tmp_path: Path, fig, name: str, magic: bytes) -> None:
    dest = save_figure_atomic(fig, tmp_path / name, dpi=40)
    assert dest == tmp_path / name
    assert dest.read_bytes().startswith(magic)
    assert _listing(tmp_path) == [name]


def test_figure_explicit_format_wins_over_the_suffix(tmp_path: Path, fig) -> None:
    dest = save_figure_atomic(fig, tmp_path / "figure.data", format="png", dpi=30)
    assert dest.read_bytes().startswith(b"\x89PNG")


def test_figure_matches_a_plain_savefig(tmp_path: Path, fig) -> None:
    meta = {"CreationDate": None}
    fig.savefig(tmp_path / "plain.pdf", format="pdf", metadata=meta)
    save_figure_atomic(fig, tmp_path / "atomic.pdf", metadata=meta)
    assert (tmp_path / "plain.pdf").read_bytes() == (tmp_path / "atomic.pdf").read_bytes()


@pytest.mark.skipif(not POSIX, reason="symbolic links need POSIX")
def test_figure_symlink_is_replaced(tmp_path: Path, fig) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    (tmp_path / "fig.png").symlink_to(victim)
    save_figure_atomic(fig, tmp_path / "fig.png", dpi=20)
    assert victim.read_bytes() == b"keep"
    assert (tmp_path / "fig.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("name", "kwargs", "exc", "match"),
    [
        ("fig", {}, ValueError, "format"),
        ("fig.xyz", {}, ValueError, "'xyz' is not supported"),
        ("fig.png", {"dpi": 1e6}, ValueError, "pixels"),
        ("fig.png", {"dpi": 10**400}, ValueError, "dpi"),
        ("fig.png", {"dpi": float("nan")}, ValueError, "dpi"),
        ("fig.pdf", {"dpi": -1}, ValueError, "dpi"),
        ("fig.pdf", {"dpi": 0}, ValueError, "dpi"),
        ("fig.png", {"dpi": True}, TypeError, "dpi"),
        ("fig.png", {"dpi": "300"}, TypeError, "dpi"),
    ],
)
def test_figure_bad_arguments_write_nothing(tmp_path: Path, fig, name, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        save_figure_atomic(fig, tmp_path / name, **kwargs)
    assert _listing(tmp_path) == []


def test_figure_huge_dpi_is_fine_for_vector_formats(tmp_path: Path, fig) -> None:
    save_figure_atomic(fig, tmp_path / "f.pdf", dpi=1e5)
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")


def test_figure_render_error_keeps_the_old_file(tmp_path: Path, fig, monkeypatch) -> None:
    dest = tmp_path / "f.png"
    dest.write_bytes(b"old")

    def broken(fh, **kwargs):
        fh.write(b"\x89PNG partial")
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="renderer"):
        save_figure_atomic(fig, dest)
    assert dest.read_bytes() == b"old"
    assert _listing(tmp_path) == ["f.png"]


# ---------------------------------------------------------------------------
# bounded JSON
# ---------------------------------------------------------------------------


def _file(tmp_path: Path, content: str | bytes, name: str = "run.json") -> Path:
    p = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    p.write_bytes(content)
    return p


def test_reads_a_valid_document(tmp_path: Path) -> None:
    doc = {"runs": [{"K": 31, "loss": -0.5, "holds": False, "name": "CIFAR-10 ✓", "x": None}]}
    assert load_json_file(_file(tmp_path, json.dumps(doc))) == doc
    assert load_json_file(_file(tmp_path, b"\xef\xbb\xbf" + json.dumps(doc).encode())) == doc
    assert loads_json("1e308") == 1e308 and loads_json("-4.9e-324") == -5e-324


@pytest.mark.parametrize(
    "literal", ["Infinity", "-Infinity", "NaN", "1e400", "-1e400", "1E+999", "123456789e999"]
)
def test_non_finite_numbers_are_refused_with_their_position(tmp_path: Path, literal: str) -> None:
    p = _file(tmp_path, '{"a": "Infinity 1e400 NaN",\n "b": [0.5, ' + literal + "]}")
    with pytest.raises(ValueError, match="non-finite") as info:
        load_json_file(p)
    msg = str(info.value)
    assert str(p) in msg and literal in msg and "line 2, column 13" in msg


@pytest.mark.parametrize("opener", ["[", '{"a":', '[{"k": '])
def test_hundred_thousand_nested_brackets_are_refused_without_recursion(tmp_path: Path, opener: str) -> None:
    p = _file(tmp_path, opener * 100_000)
    with pytest.raises(ValueError, match="nesting deeper than max_depth=64") as info:
        load_json_file(p)
    assert str(p) in str(info.value)


@pytest.mark.parametrize("depth", [1, 2, 10, 64, 500])
def test_depth_limit_is_exact(depth: int) -> None:
    doc = "[" * depth + "]" * depth
    assert loads_json(doc, max_depth=depth) is not None
    with pytest.raises(ValueError, match=f"max_depth={depth - 1}"):
        if depth > 1:
            loads_json(doc, max_depth=depth - 1)
        else:
            raise ValueError("max_depth=0")


def test_brackets_and_escaped_quotes_inside_strings_do_not_count() -> None:
    doc = '{"k": "[[[{{{ \\" [[[[ \\\\", "l": ["]]]]", "\\\\\\"[["]}'
    assert loads_json(doc, max_depth=2) == json.loads(doc)
    with pytest.raises(ValueError, match="max_depth=1"):
        loads_json(doc, max_depth=1)


def _depth(value) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_tricky_text = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=6)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**18), 10**18)
    | st.floats(allow_nan=False, allow_infinity=False) | _tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_tricky_text, children, max_size=3),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, limit=st.integers(1, 8), indent=st.sampled_from([None, 1]))
def test_depth_check_agrees_with_the_parsed_depth(value, limit: int, indent) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if _depth(value) <= limit:
        assert loads_json(text, max_depth=limit) == value
    else:
        with pytest.raises(ValueError, match=f"max_depth={limit}"):
            loads_json(text, max_depth=limit)


def test_size_limit_is_exact_and_checked(tmp_path: Path) -> None:
    p = _file(tmp_path, "[" + "0," * 49 + "0]")  # 101 bytes
    assert len(load_json_file(p, max_bytes=101)) == 50
    with pytest.raises(ValueError, match="101 bytes, larger than the limit of 100 bytes"):
        load_json_file(p, max_bytes=100)
    with pytest.raises(ValueError, match="larger than the limit of 100 bytes"):
        loads_json(p.read_bytes(), max_bytes=100)
    with pytest.raises(ValueError, match="larger than the limit"):
        loads_json("é" * 60, max_bytes=100)  # 60 characters, 120 bytes


def test_huge_sparse_file_is_refused_before_reading(tmp_path: Path) -> None:
    p = tmp_path / "huge.json"
    with open(p, "wb") as fh:
        fh.truncate(100 * 1024**3)  # 100 GiB, sparse: reading it would take minutes
    with pytest.raises(ValueError, match="107,374,182,400 bytes, larger than the limit of 16,777,216"):
        load_json_file(p)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_stream_is_read_only_up_to_the_limit() -> None:
    # /dev/zero claims size 0 and never ends: only a bounded read can return.
    with pytest.raises(ValueError, match="larger than the limit of 1,000 bytes"):
        load_json_file("/dev/zero", max_bytes=1000)


def test_invalid_utf8_and_invalid_json_give_line_and_column(tmp_path: Path) -> None:
    p = _file(tmp_path, b'{"a": 1,\n "b": "\xff"}')
    with pytest.raises(ValueError, match=r"not valid UTF-8 .* at line 2, column 8") as info:
        load_json_file(p)
    assert str(p) in str(info.value)
    p = _file(tmp_path, '{"a": 1,\n "b": }')
    with pytest.raises(ValueError, match="invalid JSON: Expecting value at line 2, column 7"):
        load_json_file(p)
    for bad in ['"unterminated', '"\\"' * 10_000, "", "[1,]", "{'a': 1}", "[1] [2]"]:
        with pytest.raises(ValueError, match="invalid JSON"):
            loads_json(bad)


def test_duplicate_keys_and_long_integers_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate key 'holds'"):
        loads_json('{"holds": true, "x": {"holds": 1, "holds": 2}}')
    assert loads_json(str(2**63 - 1)) == 2**63 - 1
    assert loads_json("-" + "9" * 64) == -(10**64 - 1)
    with pytest.raises(ValueError, match="65 digits, more than max_int_digits=64"):
        loads_json("[" + "9" * 65 + "]")
    with pytest.raises(ValueError, match="max_int_digits=3"):
        loads_json("1234", max_int_digits=3)
    with pytest.raises(ValueError, match="where.json"):
        loads_json("9" * 5000, max_int_digits=10_000, where="where.json")


def test_unreadable_sources_are_value_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file not found: .*missing.json"):
        load_json_file(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="is a directory"):
        load_json_file(tmp_path)


# ---------------------------------------------------------------------------
# non-regular inputs and outputs: bounded in bytes and time, never replaced
# ---------------------------------------------------------------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")


@needs_fifo
def test_fifo_without_writer_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    result: list[BaseException | bytes] = []

    def read() -> None:
        try:
            result.append(read_bounded(fifo, 100, what="--counts", timeout=0.2))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            result.append(exc)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "read_bounded blocked on a FIFO without a writer"
    assert isinstance(result[0], ValueError) and "no data for 0.2 s" in str(result[0])
    assert "--counts" in str(result[0]) and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@needs_fifo
def test_fifo_with_writer_is_read_with_the_byte_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def write(data: bytes) -> None:
        with open(fifo, "wb") as fh:  # blocks until the reader opens
            fh.write(data)

    t = threading.Thread(target=write, args=(b"[1, 2, 3]",), daemon=True)
    t.start()
    deadline = 50
    while deadline and not t.is_alive():  # pragma: no cover - the thread starts at once
        deadline -= 1
    # the reader may open before the writer: retry until the writer has written
    for _ in range(100):
        try:
            data = read_bounded(fifo, 100, timeout=2.0)
        except ValueError:
            continue
        if data:
            break
    t.join(10)
    assert data == b"[1, 2, 3]"
    t = threading.Thread(target=write, args=(b"x" * 5000,), daemon=True)
    t.start()
    with pytest.raises(ValueError, match="larger than the limit of 1,000 bytes"):
        for _ in range(100):
            if read_bounded(fifo, 1000, timeout=2.0):
                break
    t.join(10)


def test_standard_input_is_read_for_a_dash() -> None:
    code = ("from couponbound.paper._inputs import load_json_file; "
            "print(load_json_file('-'))")
    res = subprocess.run([sys.executable, "-c", code], input=b'{"a": [1, 2]}',
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().strip() == "{'a': [1, 2]}"
    code = ("from couponbound.paper._inputs import read_bounded; "
            "read_bounded('-', 10)")
    res = subprocess.run([sys.executable, "-c", code], input=b"0" * 100, capture_output=True,
                         timeout=60)
    assert b"standard input: larger than the limit of 10 bytes" in res.stderr


@needs_fifo
@pytest.mark.parametrize("writer", ["bytes", "text", "output"])
def test_non_regular_destination_is_refused_and_kept(tmp_path: Path, writer: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="is a FIFO; only a regular file"):
        if writer == "bytes":
            atomic_write_bytes(fifo, b"x")
        elif writer == "text":
            atomic_write_text(fifo, "x")
        else:
            with atomic_output(fifo) as tmp:
                tmp.write_text("x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _listing(tmp_path) == ["fifo"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_device_destination_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "null"
    with pytest.raises(ValueError, match="is a device node"):
        atomic_write_text("/dev/null", "x")
    # a symbolic link to a device is replaced, never followed (the old rule)
    os.symlink("/dev/null", link)
    atomic_write_text(link, "x")
    assert link.read_text() == "x" and not link.is_symlink()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"max_bytes": 0}, ValueError, "max_bytes"),
        ({"max_bytes": True}, TypeError, "max_bytes"),
        ({"max_bytes": "10"}, TypeError, "max_bytes"),
        ({"max_depth": 0}, ValueError, "max_depth"),
        ({"max_depth": 501}, ValueError, "max_depth must be at most 500"),
        ({"max_int_digits": 1.5}, ValueError, "max_int_digits"),
        ({"where": 3}, TypeError, "where"),
    ],
)
def test_limit_arguments_are_checked(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        loads_json("[]", **kwargs)


def test_loads_json_refuses_non_text() -> None:
    with pytest.raises(TypeError, match="data"):
        loads_json(["[]"])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_strict_bool_accepts_booleans(value) -> None:
    out = strict_bool(value, "holds")
    assert out is bool(value)


@pytest.mark.parametrize("value", ["false", "true", "", 0, 1, 1.0, None, [], np.int64(1), math.nan])
def test_strict_bool_refuses_everything_else(value) -> None:
    with pytest.raises(TypeError, match=r"^runs\[2\]\.holds must be a boolean"):
        strict_bool(value, "runs[2].holds")


def test_false_as_a_string_is_not_true() -> None:
    doc = loads_json('{"holds": "false"}')
    assert bool(doc["holds"]) is True  # what a careless reader would print
    with pytest.raises(TypeError, match="'false'"):
        strict_bool(doc["holds"], "holds")


# ---------------------------------------------------------------------------
# closed pipes
# ---------------------------------------------------------------------------


def test_run_cli_quietly_passes_results_and_exceptions_through(monkeypatch) -> None:
    silenced = []
    monkeypatch.setattr(cli, "_silence_stdout", lambda: silenced.append(True))
    assert run_cli_quietly(lambda: None) == 0
    assert run_cli_quietly(lambda a, b=0: a + b, 1, b=2) == 3
    with pytest.raises(SystemExit, match="2"):
        run_cli_quietly(lambda: sys.exit(2))
    with pytest.raises(ValueError, match="bad"):
        run_cli_quietly(lambda: (_ for _ in ()).throw(ValueError("bad")))
    assert silenced == []

    def closed() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    assert run_cli_quietly(closed) == EXIT_BROKEN_PIPE == 141
    assert silenced == [True]


_PIPE_CHILD = textwrap.dedent(
    """
    import os, sys
    from couponbound.cli import run_cli_quietly
    case = sys.argv[1]
    if case != "stream":
        # Deterministic closed pipe: its reading end is closed before we write.
        r, w = os.pipe()
        os.close(r)
        os.dup2(w, 1)
        os.close(w)

    def main():
        if case == "stream":
            for i in range(1_000_000):
                print("row", i)
            return 0
        print("a small table that stays in the buffer")
        if case == "exit":
            raise SystemExit(0)
        return 0

    if os.environ.get("UNGUARDED"):
        raise SystemExit(main())
    raise SystemExit(run_cli_quietly(main))
    """
)


def _pipe_child(case: str, guarded: bool = True) -> tuple[int, bytes, bytes]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("UNGUARDED", None)
    if not guarded:
        env["UNGUARDED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-c", _PIPE_CHILD, case], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline() if case == "stream" else b""
    proc.stdout.close()  # like `head -1` exiting
    err = proc.stderr.read()
    proc.stderr.close()
    return proc.wait(timeout=60), first, err


@pytest.mark.skipif(not POSIX, reason="pipes and SIGPIPE are POSIX")
@pytest.mark.parametrize("case", ["stream", "buffered", "exit"])
def test_closed_pipe_exits_quietly(case: str) -> None:
    rc, first, err = _pipe_child(case)
    assert (rc, err) == (EXIT_BROKEN_PIPE, b"")
    if case == "stream":
        assert first == b"row 0\n"


@pytest.mark.skipif(not POSIX, reason="pipes and SIGPIPE are POSIX")
@pytest.mark.parametrize("case", ["stream", "buffered"])
def test_closed_pipe_without_the_guard_is_noisy(case: str) -> None:
    # The control: the same child without run_cli_quietly prints a traceback
    # or "Exception ignored", so the test above can tell the difference.
    rc, _, err = _pipe_child(case, guarded=False)
    assert rc != 0 and b"BrokenPipeError" in err


def test_allow_nan_reads_the_constants_json_dump_writes_but_not_overflow():
    from couponbound.paper._inputs import loads_json

    got = loads_json('[NaN, Infinity, -Infinity, 1.5]', allow_nan=True)
    assert math.isnan(got[0]) and got[1:] == [math.inf, -math.inf, 1.5]
    with pytest.raises(ValueError, match="non-finite number 1e400"):
        loads_json("[1e400]", allow_nan=True)
    with pytest.raises(ValueError, match="non-finite number NaN"):
        loads_json("[NaN]")
