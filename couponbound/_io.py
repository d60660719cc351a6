"""Safe file outputs and inputs shared by the writers and the command.

Three small tools, used by :mod:`couponbound.paper` and :mod:`couponbound.cli`:

* **Atomic outputs.**  :func:`atomic_write_bytes`, :func:`atomic_write_text`,
  :func:`atomic_open`, :func:`atomic_output` and :func:`save_figure_atomic`
  write into a fresh temporary file in the destination's own folder
  (``tempfile.mkstemp``: a name no concurrent writer can share), flush and
  ``fsync`` it, then ``os.replace`` it onto the destination.  A reader, a
  concurrent writer or a ``kill -9`` therefore only ever sees the old complete
  file or the new complete file, never a truncated one.  A symbolic link at the
  destination is *replaced* by the new file, never followed, so a planted link
  cannot redirect the write to another file.  The new file gets the mode of a
  newly created file (``0o666 & ~umask``).  On any error the temporary file is
  removed and the destination is left as it was.  A process killed with
  ``SIGKILL`` cannot clean up: it may leave a hidden temporary file named
  ``.<name>.<random>.tmp<suffix>`` next to the destination
  (:func:`is_temp_name` recognises them); the destination itself is intact.

* **A bounded JSON reader.**  :func:`load_json_file` and :func:`loads_json`
  refuse, with a ``ValueError`` naming the source and the problem, inputs
  larger than ``max_bytes`` (checked before reading; at most ``max_bytes + 1``
  bytes are ever read), nesting deeper than ``max_depth`` (checked by a linear
  scan *before* parsing, so no ``RecursionError`` is possible), non-finite
  numbers (``NaN``, ``Infinity``, ``-Infinity`` and literals such as ``1e400``
  that overflow to infinity), integers longer than ``max_int_digits`` digits,
  duplicate keys in an object, invalid UTF-8 and invalid JSON (with line and
  column).  :func:`strict_bool` accepts only true booleans, so
  ``"holds": "false"`` is refused rather than read as ``True``.

* **A quiet closed pipe.**  :func:`run_cli_quietly` runs the command's ``main``
  so that ``couponbound ... | head`` ends quietly: no traceback, no
  ``error: Broken pipe``, exit status :data:`EXIT_BROKEN_PIPE` (141, what a
  shell reports for a program ended by ``SIGPIPE``, so ``set -o pipefail``
  scripts treat it like ``cat`` or ``grep`` in the same place).

Nothing heavy is imported here: matplotlib only inside
:func:`save_figure_atomic`, and only for the figure it is given.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import numbers
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._validate import check_positive_int, short_repr

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_INT_DIGITS",
    "DEFAULT_MAX_JSON_BYTES",
    "EXIT_BROKEN_PIPE",
    "MAX_FIGURE_PIXELS",
    "atomic_open",
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "is_temp_name",
    "load_json_file",
    "loads_json",
    "run_cli_quietly",
    "save_figure_atomic",
    "strict_bool",
]

#: Largest JSON input :func:`load_json_file` reads by default (16 MiB; a saved
#: monitor state is a few kilobytes per thousand classes).
DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024
#: Deepest nesting of arrays/objects accepted by default (a saved run needs 4).
DEFAULT_MAX_DEPTH = 64
#: Hard ceiling on ``max_depth``: well below Python's recursion limit, so the
#: parser can never recurse out of stack.
_DEPTH_CEILING = 500
#: Longest integer literal accepted by default (int64 needs 19 digits).
DEFAULT_MAX_INT_DIGITS = 64
#: Exit status of :func:`run_cli_quietly` when standard output is a closed
#: pipe: 128 + SIGPIPE (13), as a shell reports for ``cat`` killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + 13
#: Largest raster image (width x height in pixels) :func:`save_figure_atomic`
#: renders: 100 megapixels, i.e. 400 MB of RGBA.
MAX_FIGURE_PIXELS = 100_000_000

_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.[^.]*)?$")
_RASTER_FORMATS = frozenset({"png", "jpg", "jpeg", "tif", "tiff", "webp", "raw", "rgba", "gif"})


# --------------------------------------------------------------------------
# atomic outputs
# --------------------------------------------------------------------------


def _destination(path: Any) -> Path:
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {short_repr(path)}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"path must be a str or os.PathLike of str, got {short_repr(path)}")
    if text == "" or text.endswith(("/", os.sep)):
        raise ValueError(f"path must name a file, got {short_repr(path)}")
    return Path(text)


def _current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Fallback: set a *stricter* mask for an instant (a thread creating a file
    # meanwhile gets fewer permissions, never more), then restore it.
    old = os.umask(0o077)
    os.umask(old)
    return old


def is_temp_name(name: str) -> bool:
    """Whether *name* (a file name, not a path) is one of our temporary files.

    Only a writer killed with ``SIGKILL`` (or a power cut) leaves one behind;
    such files are safe to delete once no writer is running.

    Examples
    --------
    >>> is_temp_name(".fig.pdf.k2x_9abc.tmp.pdf"), is_temp_name("fig.pdf")
    (True, False)
    """
    return bool(_TEMP_RE.match(name))


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    if os.name != "posix":  # pragma: no cover - Windows has no directory fsync
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def _make_temp(dest: Path) -> tuple[int, Path]:
    folder = dest.parent
    name = dest.name
    fd, tmp = tempfile.mkstemp(
        prefix="." + name[:100] + ".", suffix=".tmp" + dest.suffix[:16], dir=folder
    )
    try:
        mode = 0o666 & ~_current_umask()
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        else:  # pragma: no cover - Windows before 3.13
            os.chmod(tmp, mode)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return fd, Path(tmp)


def _commit(tmp: Path, dest: Path) -> None:
    """fsync *tmp* (whoever wrote it), then rename it onto *dest*."""
    st = os.lstat(tmp)  # FileNotFoundError if the body removed it
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"temporary file {tmp} is no longer a regular file")
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Context manager yielding a temporary path that becomes *path* on success.

    Write the file under the yielded name (with any library: it is a real,
    empty, regular file in the same folder, ending in the destination's
    suffix).  When the block ends normally the file is ``fsync``-ed and
    renamed onto *path* in one step; if the block raises, the temporary file
    is removed and *path* is untouched.  A symbolic link at *path* is
    replaced, not followed.  The folder must exist.

    Parameters
    ----------
    path : str or os.PathLike
        The destination file.

    Yields
    ------
    pathlib.Path
        The temporary file to write.

    Raises
    ------
    TypeError
        If *path* is not a path.
    OSError
        If the folder does not exist or the rename fails (nothing is left
        behind).

    Examples
    --------
    >>> import tempfile, os, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_output(os.path.join(d, "x.txt")) as tmp:
    ...         _ = tmp.write_text("hello")
    ...     sorted(os.listdir(d)), pathlib.Path(d, "x.txt").read_text()
    (['x.txt'], 'hello')
    """
    dest = _destination(path)
    fd, tmp = _make_temp(dest)
    os.close(fd)
    try:
        yield tmp
        _commit(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Like ``open(path, mode)`` for writing, but atomic (see :func:`atomic_output`).

    Parameters
    ----------
    path : str or os.PathLike
        The destination file; its folder must exist.
    mode : {"wb", "w"}
        Binary or text.
    encoding, newline : str, optional
        As for :func:`open` in text mode (``encoding`` defaults to UTF-8).

    Yields
    ------
    file object
        Open on a temporary file in the destination's folder.

    Examples
    --------
    >>> import tempfile, os, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_open(os.path.join(d, "t.csv"), "w", newline="") as fh:
    ...         _ = fh.write("a,b\\r\\n")
    ...     pathlib.Path(d, "t.csv").read_bytes()
    b'a,b\\r\\n'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {short_repr(mode)}")
    dest = _destination(path)
    fd, tmp = _make_temp(dest)
    try:
        if mode == "w":
            fh: IO[Any] = open(fd, "w", encoding=encoding or "utf-8", newline=newline)
        else:
            fh = open(fd, "wb")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    try:
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> Path:
    """Write *data* to *path* atomically (see :func:`atomic_output`); return the path.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_bytes(os.path.join(d, "b.bin"), b"\\x00\\x01")
    ...     p.name, p.read_bytes()
    ('b.bin', b'\\x00\\x01')
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {short_repr(data)}")
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return _destination(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write *text* to *path* atomically (see :func:`atomic_output`); return the path.

    Newlines are written as given (no platform translation), so the same text
    gives the same bytes everywhere.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_text(os.path.join(d, "t.md"), "| a |\\n")
    ...     p.read_text()
    '| a |\\n'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {short_repr(text)}")
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str, got {short_repr(encoding)}")
    try:
        data = text.encode(encoding)
    except LookupError as exc:
        raise ValueError(f"encoding {encoding!r} is unknown") from exc
    except UnicodeEncodeError as exc:
        raise ValueError(f"text cannot be encoded as {encoding}: {exc.reason} at index {exc.start}") from exc
    return atomic_write_bytes(path, data)


def save_figure_atomic(fig: Any, path: str | os.PathLike[str], **savefig_kwargs: Any) -> Path:
    """``fig.savefig(path, ...)``, atomically; the format comes from the suffix.

    The figure is rendered into a temporary file in the same folder with an
    explicit ``format=`` (from ``savefig_kwargs["format"]`` or the suffix of
    *path*), then renamed into place, so a killed or failing render never
    leaves a truncated image and a symbolic link at *path* is replaced, not
    followed.  Raster outputs larger than :data:`MAX_FIGURE_PIXELS` are
    refused before anything is rendered.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or os.PathLike
        The destination, e.g. ``"out/fig1.pdf"``; its folder must exist.
    **savefig_kwargs
        Passed to ``Figure.savefig`` (``dpi``, ``metadata``, ``bbox_inches``...).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the format is missing or unsupported, or ``dpi`` is not a positive
        finite number or would make a raster image too large.

    Examples
    --------
    >>> import tempfile, os, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_figure_atomic(fig, os.path.join(d, "fig.png"), dpi=50)
    ...     p.read_bytes()[:4]
    b'\\x89PNG'
    >>> plt.close(fig)
    """
    dest = _destination(path)
    fmt = savefig_kwargs.pop("format", None)
    if fmt is None:
        fmt = dest.suffix[1:].lower()
    if not isinstance(fmt, str) or not fmt:
        raise ValueError(f"format must be given or implied by the suffix of path, got path {str(dest)!r}")
    fmt = fmt.lower()
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"format {fmt!r} is not supported; use one of {', '.join(sorted(supported))}"
        )
    dpi = savefig_kwargs.get("dpi", None)
    if dpi is None or dpi == "figure":
        dpi_value = float(fig.dpi)
    else:
        if isinstance(dpi, bool | np.bool_) or not isinstance(dpi, numbers.Real):
            raise TypeError(f"dpi must be a positive number, got {short_repr(dpi)}")
        try:
            dpi_value = float(dpi)
        except OverflowError:
            dpi_value = math.inf
        if not math.isfinite(dpi_value) or dpi_value <= 0:
            raise ValueError(f"dpi must be a positive finite number, got {short_repr(dpi)}")
    if fmt in _RASTER_FORMATS:
        width, height = (float(v) for v in fig.get_size_inches())
        pixels = width * dpi_value * height * dpi_value
        if not pixels <= MAX_FIGURE_PIXELS:
            raise ValueError(
                f"dpi={short_repr(dpi)} makes a {width:g}x{height:g} inch figure "
                f"{pixels:.3g} pixels, more than the limit of {MAX_FIGURE_PIXELS:,}; "
                "use a smaller dpi or a vector format (pdf, svg)"
            )
    with atomic_open(dest, "wb") as fh:
        fig.savefig(fh, format=fmt, **savefig_kwargs)
    return dest


# --------------------------------------------------------------------------
# bounded JSON input
# --------------------------------------------------------------------------

# A complete JSON string (disjoint alternatives: linear, no catastrophic
# backtracking), a bracket, or a lone quote (an unterminated string).
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|"', re.DOTALL)


class _NonFinite(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _LongInt(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _locate(text: str, literal: str) -> str:
    """``" at line L, column C"`` of the first *literal* outside strings, or ``""``."""
    pattern = re.compile(
        r'"[^"\\]*(?:\\.[^"\\]*)*"|(?<![0-9A-Za-z.+\-])' + re.escape(literal), re.DOTALL
    )
    for match in pattern.finditer(text):
        if not match.group().startswith('"'):
            line, col = _line_col(text, match.start())
            return f" at line {line}, column {col}"
    return ""  # pragma: no cover - the parser saw it, so it is there


def _check_depth(text: str, where: str, max_depth: int) -> None:
    """Refuse nesting deeper than *max_depth*: one linear pass, no recursion."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token == "[" or token == "{":
            depth += 1
            if depth > max_depth:
                line, col = _line_col(text, match.start())
                raise ValueError(
                    f"{where}: nesting deeper than max_depth={max_depth} at line {line}, column {col}"
                )
        elif token == "]" or token == "}":
            depth -= 1
        elif token == '"':
            # An unterminated string: the rest is invalid JSON, which the
            # parser reports with its position (scanning on could cost O(n^2)).
            return


def loads_json(data: str | bytes, *, where: str = "<input>",
               max_bytes: int = DEFAULT_MAX_JSON_BYTES, max_depth: int = DEFAULT_MAX_DEPTH,
               max_int_digits: int = DEFAULT_MAX_INT_DIGITS, allow_nan: bool = False) -> Any:
    """Parse JSON text with the limits of :func:`load_json_file`.

    Parameters
    ----------
    data : str or bytes
        The JSON text (bytes must be UTF-8; a leading byte-order mark is skipped).
    where : str
        What to call the input in error messages (a file name, ``"--accuracy"``).
    max_bytes, max_depth, max_int_digits : int
        See :func:`load_json_file`.
    allow_nan : bool, default False
        Read the literals ``NaN``, ``Infinity`` and ``-Infinity`` -- what
        ``json.dump`` writes for non-finite floats (``allow_nan`` as in
        :func:`json.dumps`), e.g. ``BoundReport.to_dict()``'s missing ``K``
        or a vacuous bound -- as floats; the caller then checks each field.
        Number literals that overflow (``1e400``) stay refused: no writer
        produces them.

    Returns
    -------
    object
        ``dict``/``list``/``str``/``int``/``float`` (finite)/``bool``/``None``.

    Raises
    ------
    ValueError
        Naming *where* and the problem (with line and column where one exists).

    Examples
    --------
    >>> loads_json('{"holds": true, "K": 31, "x": [0.5]}')
    {'holds': True, 'K': 31, 'x': [0.5]}
    >>> loads_json('[1e400]', where="run.json")
    Traceback (most recent call last):
    ...
    ValueError: run.json: non-finite number 1e400 at line 1, column 2; only finite numbers are allowed
    """
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    max_depth = check_positive_int(max_depth, "max_depth")
    max_int_digits = check_positive_int(max_int_digits, "max_int_digits")
    if max_depth > _DEPTH_CEILING:
        raise ValueError(f"max_depth must be at most {_DEPTH_CEILING}, got {max_depth}")
    if not isinstance(where, str):
        raise TypeError(f"where must be a str, got {short_repr(where)}")
    if isinstance(data, bytes | bytearray):
        if len(data) > max_bytes:
            raise ValueError(f"{where}: larger than the limit of {max_bytes:,} bytes")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = bytes(data)
            line = raw.count(b"\n", 0, exc.start) + 1
            col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            raise ValueError(
                f"{where}: not valid UTF-8 ({exc.reason}) at line {line}, column {col}"
            ) from None
    elif isinstance(data, str):
        text = data
        # A str of n characters has at least n UTF-8 bytes.
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise ValueError(f"{where}: larger than the limit of {max_bytes:,} bytes")
    else:
        raise TypeError(f"data must be str or bytes, got {short_repr(data)}")
    if text.startswith("\ufeff"):
        text = text[1:]

    _check_depth(text, where, max_depth)

    def parse_constant(literal: str) -> Any:
        if allow_nan:
            return float(literal)  # "NaN", "Infinity", "-Infinity"
        raise _NonFinite(literal)

    def parse_float(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            raise _NonFinite(literal)
        return value

    def parse_int(literal: str) -> int:
        if len(literal.lstrip("-")) > max_int_digits:
            raise _LongInt(literal)
        return int(literal)

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _DuplicateKey(key)
                seen.add(key)
        return out

    try:
        return json.loads(
            text,
            parse_constant=parse_constant,
            parse_float=parse_float,
            parse_int=parse_int,
            object_pairs_hook=pairs_hook,
        )
    except _NonFinite as exc:
        raise ValueError(
            f"{where}: non-finite number {exc.literal}{_locate(text, exc.literal)}; "
            "only finite numbers are allowed"
        ) from None
    except _LongInt as exc:
        shown = exc.literal if len(exc.literal) <= 24 else exc.literal[:20] + "..."
        raise ValueError(
            f"{where}: integer {shown} has {len(exc.literal.lstrip('-'))} digits, more than "
            f"max_int_digits={max_int_digits}"
        ) from None
    except _DuplicateKey as exc:
        raise ValueError(f"{where}: duplicate key {short_repr(exc.key)} in an object") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{where}: invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. int() beyond sys.get_int_max_str_digits()
        raise ValueError(f"{where}: {exc}") from None
    except RecursionError:  # pragma: no cover - excluded by the depth scan
        raise ValueError(f"{where}: nesting too deep") from None


def load_json_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_JSON_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_int_digits: int = DEFAULT_MAX_INT_DIGITS,
    allow_nan: bool = False,
) -> Any:
    """Read a JSON file with limits on size, depth and numbers.

    Parameters
    ----------
    path : str or os.PathLike
        The file (a regular file, or a pipe such as ``/dev/stdin``).
    max_bytes : int
        Largest accepted file size.  The size is checked before reading, and
        at most ``max_bytes + 1`` bytes are read whatever the file claims.
    max_depth : int
        Deepest accepted nesting of arrays and objects (at most 500).
    max_int_digits : int
        Longest accepted integer literal, in digits.
    allow_nan : bool, default False
        Read ``NaN`` and ``Infinity`` as floats (see :func:`loads_json`).

    Returns
    -------
    object
        The parsed document; every float in it is finite (unless *allow_nan*).

    Raises
    ------
    ValueError
        Naming the file and the problem: cannot be read, too large, too deeply
        nested, a non-finite number (``NaN``, ``Infinity``, ``1e400``), an
        over-long integer, a duplicate key, invalid UTF-8 or invalid JSON
        (with line and column).
    TypeError
        If *path* is not a path.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = atomic_write_text(os.path.join(d, "run.json"), '{"runs": [{"K": 31}]}')
    ...     load_json_file(p)
    {'runs': [{'K': 31}]}
    """
    dest = _destination(path)
    where = str(dest)
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    try:
        with open(dest, "rb") as fh:
            try:
                st = os.fstat(fh.fileno())
            except OSError:  # pragma: no cover
                st = None
            if st is not None and st.st_size > max_bytes:
                if stat.S_ISREG(st.st_mode):
                    raise ValueError(
                        f"{where}: {st.st_size:,} bytes, larger than the limit of {max_bytes:,} bytes"
                    )
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {where}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise ValueError(f"{where}: larger than the limit of {max_bytes:,} bytes")
    return loads_json(
        data, where=where, max_bytes=max_bytes, max_depth=max_depth, max_int_digits=max_int_digits,
        allow_nan=allow_nan,
    )


def strict_bool(value: Any, where: str) -> bool:
    """Return *value* if it is a real boolean, else raise ``TypeError`` naming *where*.

    JSON ``"false"`` (a string), ``0`` or ``null`` are refused: ``bool("false")``
    is ``True``, which is how a report once printed "held" for a run that did not.
    numpy booleans are accepted.

    Examples
    --------
    >>> strict_bool(False, "holds")
    False
    >>> strict_bool("false", "runs[0].holds")
    Traceback (most recent call last):
    ...
    TypeError: runs[0].holds must be a boolean (true or false), got 'false'
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{where} must be a boolean (true or false), got {short_repr(value)}")


# --------------------------------------------------------------------------
# closed pipes
# --------------------------------------------------------------------------


def _silence_stdout() -> None:
    """Point standard output at /dev/null so the exit-time flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        # No real file descriptor (captured, replaced or closed): swap the object.
        sys.stdout = open(os.devnull, "w", encoding="utf-8")


def run_cli_quietly(main: Callable[..., int | None], *args: Any, **kwargs: Any) -> int:
    """Run ``main(*args, **kwargs)``; end quietly if standard output is a closed pipe.

    Returns what *main* returns (``None`` counts as 0).  If writing to standard
    output fails with ``BrokenPipeError`` -- while *main* runs or when its
    buffered output is flushed -- standard output is pointed at ``/dev/null``
    (so the interpreter's own flush at exit cannot fail again), nothing is
    printed, and :data:`EXIT_BROKEN_PIPE` (141) is returned.  ``SystemExit``
    raised by *main* (argparse's ``--help``) passes through after the flush.
    This is the recipe of the Python documentation (``signal``, "Note on
    SIGPIPE"); the command's ``main`` must let ``BrokenPipeError`` propagate
    rather than report it as an ``OSError``.

    Examples
    --------
    >>> run_cli_quietly(lambda argv: 3 if argv else 0, ["x"])
    3

    The command's ``__main__`` then reads ``raise SystemExit(run_cli_quietly(main))``.
    """
    try:
        try:
            result = main(*args, **kwargs)
        except SystemExit:
            sys.stdout.flush()
            raise
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    return 0 if result is None else int(result)
