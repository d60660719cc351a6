"""Atomic file outputs for the paper's writers and the command.

:func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_open`,
:func:`atomic_output` and :func:`save_figure_atomic` write into a fresh
temporary file in the destination's own folder (``tempfile.mkstemp``: a name
no concurrent writer can share), flush and ``fsync`` it, then ``os.replace``
it onto the destination.  A reader, a concurrent writer or a ``kill -9``
therefore only ever sees the old complete file or the new complete file, never
a truncated one.  A symbolic link at the destination is *replaced* by the new
file, never followed, so a planted link cannot redirect the write to another
file; any other non-regular destination (a FIFO, a device node, a socket) is refused with a
``ValueError`` before anything is written (a directory with ``IsADirectoryError``).  The
new file gets the mode of a newly created file (``0o666 & ~umask``).  On any
error the temporary file is removed and the destination is left as it was.  A
process killed with ``SIGKILL`` cannot clean up: it may leave a hidden
temporary file named ``.<name>.<random>.tmp<suffix>`` next to the destination
(:func:`is_temp_name` recognises them); the destination itself is intact.

Nothing heavy is imported here: matplotlib only inside
:func:`save_figure_atomic`, and only for the figure it is given.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from couponbound._validate import short_repr

__all__ = [
    "MAX_FIGURE_PIXELS",
    "atomic_open",
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "is_temp_name",
    "save_figure_atomic",
]

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


def _check_replaceable(dest: Path) -> None:
    """Refuse a destination that exists and is neither a regular file nor a symbolic link.

    Replacing a FIFO, a device node or a socket by a regular file would
    silently change what other programs read from that name.
    """
    try:
        mode = os.lstat(dest).st_mode
    except FileNotFoundError:
        return
    except OSError:
        return  # the temporary file's creation reports the real problem
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode):
        return  # a directory: the rename raises IsADirectoryError
    kind = ("a FIFO" if stat.S_ISFIFO(mode)
            else "a device node" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise ValueError(f"path {str(dest)!r} is {kind}; only a regular file (or a symbolic link, "
                     "which is replaced) can be overwritten")


def _make_temp(dest: Path) -> tuple[int, Path]:
    _check_replaceable(dest)
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
    ValueError
        If *path* exists and is not a regular file or a symbolic link.
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
