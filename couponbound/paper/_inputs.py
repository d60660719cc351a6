"""Bounded inputs for the command and the saved-run reader.

* :func:`read_bounded` reads a file (or standard input, ``"-"``) with a limit
  on its size, checked before reading where the size is known, and never
  reads more than ``max_bytes + 1`` bytes.  A regular file is read as usual;
  a FIFO, a character device or a pipe is opened without blocking and read
  with the same byte limit and an idle timeout, so a FIFO without a writer or
  a silent device cannot hang the caller; a directory or socket is refused.
  A missing file is reported as "file not found".
* :func:`load_json_file` and :func:`loads_json` refuse, with a
  ``ValueError`` naming the source and the problem, inputs larger than
  ``max_bytes``, nesting deeper than ``max_depth`` (checked by a linear scan
  *before* parsing, so no ``RecursionError`` is possible), non-finite numbers
  (``NaN``, ``Infinity``, ``-Infinity`` and literals such as ``1e400`` that
  overflow to infinity), integers longer than ``max_int_digits`` digits,
  duplicate keys in an object, invalid UTF-8 and invalid JSON (with line and
  column).  :func:`strict_bool` accepts only true booleans, so
  ``"holds": "false"`` is refused rather than read as ``True``.
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import stat
import sys
import time
from typing import Any

import numpy as np

from couponbound._validate import check_positive_int, check_real, short_repr

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_INT_DIGITS",
    "DEFAULT_MAX_JSON_BYTES",
    "IDLE_TIMEOUT",
    "load_json_file",
    "loads_json",
    "read_bounded",
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
#: Seconds :func:`read_bounded` waits for the next bytes from a FIFO, a pipe or
#: a device before giving up.
IDLE_TIMEOUT = 5.0

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISBLK, "a block device"))


def _kind(mode: int) -> str | None:
    """What a non-readable kind of file is called, or ``None`` for a readable one."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return None


def _read_stream(fd: int, max_bytes: int, where: str, timeout: float | None) -> bytes:
    """At most ``max_bytes + 1`` bytes from a non-regular *fd*, waiting at most
    *timeout* seconds (``None``: for ever) for each chunk."""
    chunks: list[bytes] = []
    total = 0
    while total <= max_bytes:
        if timeout is not None:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise ValueError(f"{where}: no data for {timeout:g} s (a FIFO or device without "
                                 "a writer?); give a regular file")
        try:
            chunk = os.read(fd, min(1 << 16, max_bytes + 1 - total))
        except BlockingIOError:  # pragma: no cover - select said it was ready
            time.sleep(0.01)
            continue
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_bounded(path: str | os.PathLike[str], max_bytes: int, *, what: str = "",
                 timeout: float | None = None) -> bytes:
    """The bytes of *path* (``"-"``: standard input), at most *max_bytes* of them.

    Parameters
    ----------
    path : str or os.PathLike
        A file; ``"-"`` reads standard input.
    max_bytes : int
        Largest accepted input; a regular file's size is checked before
        reading, and at most ``max_bytes + 1`` bytes are ever read.
    what : str
        What the input is called in messages (``"--counts"``); the path is
        added.
    timeout : float, optional
        For a FIFO, a pipe or a device: seconds to wait for more bytes
        (default :data:`IDLE_TIMEOUT`; standard input, ``"-"``, always waits).

    Raises
    ------
    ValueError
        Not found, not readable, a directory or socket, too large, or silent
        for *timeout* seconds; the message names *what* and the path.

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "n.txt")
    ...     _ = pathlib.Path(p).write_text("1 2 3")
    ...     read_bounded(p, 100)
    b'1 2 3'
    >>> read_bounded("/no/such/file", 100, what="--counts")
    Traceback (most recent call last):
    ...
    ValueError: --counts: file not found: '/no/such/file'
    """
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    wait = IDLE_TIMEOUT if timeout is None else check_real(timeout, "timeout", positive=True)
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {short_repr(path)}")
    text = os.fspath(path)
    prefix = f"{what}: " if what else ""
    if text == "-":
        where = f"{prefix}standard input"
        data = _read_stream(sys.stdin.fileno(), max_bytes, where, None)
    else:
        where = f"{prefix}{text!r}"
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
        try:
            fd = os.open(text, flags)
        except FileNotFoundError:
            raise ValueError(f"{prefix}file not found: {text!r}") from None
        except OSError as exc:
            raise ValueError(f"{prefix}cannot read {text!r}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            kind = _kind(st.st_mode)
            if kind is not None:
                raise ValueError(f"{where} is {kind}, not a file of data")
            if stat.S_ISREG(st.st_mode):
                if st.st_size > max_bytes:
                    raise ValueError(f"{where}: {st.st_size:,} bytes, larger than the limit of "
                                     f"{max_bytes:,} bytes")
                os.set_blocking(fd, True)
                data = _read_stream(fd, max_bytes, where, None)
            else:  # a FIFO, a pipe or a character device: bounded in bytes and in time
                data = _read_stream(fd, max_bytes, where, wait)
        except OSError as exc:
            raise ValueError(f"{prefix}cannot read {text!r}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)
    if len(data) > max_bytes:
        raise ValueError(f"{where}: larger than the limit of {max_bytes:,} bytes")
    return data


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
    timeout: float | None = None,
) -> Any:
    """Read a JSON file with limits on size, depth and numbers.

    Parameters
    ----------
    path : str or os.PathLike
        The file (a regular file, a pipe such as ``/dev/stdin``, or ``"-"``
        for standard input), read by :func:`read_bounded`.
    max_bytes : int
        Largest accepted file size.  The size is checked before reading, and
        at most ``max_bytes + 1`` bytes are read whatever the file claims.
    max_depth : int
        Deepest accepted nesting of arrays and objects (at most 500).
    max_int_digits : int
        Longest accepted integer literal, in digits.
    allow_nan : bool, default False
        Read ``NaN`` and ``Infinity`` as floats (see :func:`loads_json`).
    timeout : float or None
        Idle timeout for a FIFO, pipe or device (see :func:`read_bounded`).

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
    >>> import os, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "run.json")
    ...     _ = pathlib.Path(p).write_text('{"runs": [{"K": 31}]}')
    ...     load_json_file(p)
    {'runs': [{'K': 31}]}
    """
    if isinstance(path, bytes) or not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {short_repr(path)}")
    where = os.fspath(path)
    if not isinstance(where, str) or not where:
        raise TypeError(f"path must name a file, got {short_repr(path)}")
    max_bytes = check_positive_int(max_bytes, "max_bytes")
    data = read_bounded(where, max_bytes, timeout=timeout)
    where = "standard input" if where == "-" else where
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
