"""The one door to files a build did not write: sources, pictures, theme files, fonts.

Every such file is opened here, against a *root* (the source folder, the theme's folder, a
fonts folder).  The door opens first and checks what it opened: the real path of the open
descriptor must lie inside the root's real path, and it must be a regular file.  A link that
stays inside the root is followed; a link that leads out, a FIFO, a device or a folder is
refused.  Because the check is made on the descriptor, a file swapped for a link after an
earlier look cannot be read through it.

Folders are listed through :func:`entries`, which leaves out (with the reason) every entry
that leads outside the root.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

from .errors import IngestError

__all__ = ["OutsideRoot", "LeadsOut", "real_root", "roots_resolved", "is_inside", "open_inside", "read_inside", "entries",
           "check_inside", "link_out", "leads_out", "open_descriptor_inside"]

_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)


class OutsideRoot(IngestError):
    """A file or folder that leads outside its root (a link out), or is not a regular file."""


class LeadsOut(OutsideRoot):
    """A file or folder that is a link leading outside its root, or is reached through one."""


#: Within :func:`roots_resolved`: each root's real path, by the name it was given as; else None.
_RESOLVED: ContextVar[dict[str, Path] | None] = ContextVar("broadsheet_resolved_roots", default=None)


@contextlib.contextmanager
def roots_resolved() -> Iterator[None]:
    """Within this block each root's real path is worked out once, the first time it is asked for, and kept: a
    reading of many files against one root (an issue folder's articles and pictures) no longer resolves the
    root's path for each file (0.1–0.2 s for a thousand articles).  Links in the root's own path are the user's
    choice, taken as they were when the reading began; every file is still checked as it is opened, on its
    descriptor."""
    token = _RESOLVED.set({})
    try:
        yield
    finally:
        _RESOLVED.reset(token)


def real_root(root: Path | str) -> Path:
    """Return the real path of ``root`` (links in the root's own path are the user's choice)."""
    resolved = _RESOLVED.get()
    if resolved is None:
        return Path(os.path.realpath(root))
    name = os.fspath(root)
    real = resolved.get(name)
    if real is None:
        real = resolved[name] = Path(os.path.realpath(root))
    return real


def is_inside(path: Path | str, root: Path | str) -> bool:
    """True when ``path``, every link resolved, lies inside ``root`` (or is the root)."""
    real = Path(os.path.realpath(path))
    return real.is_relative_to(real_root(root))


def check_inside(path: Path | str, root: Path | str, what: str = "file") -> Path:
    """Return the real path of ``path``, or raise :class:`OutsideRoot` when it leads out of ``root``."""
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(real_root(root)):
        raise leads_out(path, root, what, "its folder")
    return real


def link_out(path: Path | str, root: Path | str) -> tuple[Path, Path] | None:
    """The link that takes ``path`` outside ``root`` and the real path it leads to: ``path`` itself
    or the deepest of its folders that is such a link; None when no link is found."""
    base = real_root(root)
    path = Path(path)
    for candidate in (path, *path.parents):
        if os.path.islink(candidate):
            target = Path(os.path.realpath(candidate))
            if not target.is_relative_to(base):
                return candidate, target
    return None


def _describe_link(path: Path | str, root: Path | str) -> str:
    """Where a path that leads outside ``root`` goes: "a link to /etc/passwd", or "through
    ed/pics, a link to /srv/pictures" when one of its folders is the link."""
    found = link_out(path, root)
    if found is None:
        return "through a linked folder"
    link, target = found
    return f"a link to {target}" if link == Path(path) else f"through {link}, a link to {target}"


def leads_out(path: Path | str, root: Path | str, what: str = "", folder: str = "the source folder") -> LeadsOut:
    """The one-line refusal of a file or folder that leads outside ``root`` (``what`` names it)."""
    return LeadsOut(f"{what + ' ' if what else ''}leads outside {folder} ({_describe_link(path, root)}); not read",
                    path)


def _fd_path(fd: int, fallback: Path | str) -> Path:
    """The real path of an open descriptor (Linux's /proc), else of the name that was opened."""
    proc = f"/proc/self/fd/{fd}"
    try:
        return Path(os.readlink(proc))
    except OSError:
        real = os.path.realpath(fallback)
        opened, named = os.fstat(fd), os.stat(real)
        if (opened.st_dev, opened.st_ino) != (named.st_dev, named.st_ino):
            raise OutsideRoot("changed while it was opened; not read", fallback) from None
        return Path(real)


def _check_descriptor(fd: int, path: Path | str, root: Path | str, what: str) -> None:
    """Raise :class:`OutsideRoot` unless ``fd`` is a regular file whose real path lies inside ``root``."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise OutsideRoot(f"{kind}; not read", path)
    if not _fd_path(fd, path).is_relative_to(real_root(root)):
        raise leads_out(path, root, what, "its folder")


def _open_checked(path: Path | str, root: Path | str, what: str) -> int:
    """Open ``path`` for reading, a regular file inside ``root``, or raise.  Where the system can,
    look first without opening (``O_PATH``: no device or FIFO is ever opened, so none can act on
    being opened) and open the very file that was checked; elsewhere open, then check."""
    o_path = getattr(os, "O_PATH", 0)
    if not o_path or not os.path.isdir("/proc/self/fd"):
        fd = os.open(path, _FLAGS)
        try:
            _check_descriptor(fd, path, root, what)
        except BaseException:
            os.close(fd)
            raise
        return fd
    probe = os.open(path, o_path | getattr(os, "O_CLOEXEC", 0))
    try:
        _check_descriptor(probe, path, root, what)
        return os.open(f"/proc/self/fd/{probe}", _FLAGS)  # the very file that was checked
    finally:
        os.close(probe)


@contextlib.contextmanager
def open_inside(path: Path | str, root: Path | str, what: str = "file") -> Iterator[BinaryIO]:
    """Open ``path`` for reading in binary mode if it is a regular file inside ``root``.

    Raises :class:`OutsideRoot` for a link out, a folder, a FIFO or a device, and
    :class:`~broadsheet.errors.IngestError` (naming the file) when it cannot be read.
    """
    try:
        fd = _open_checked(path, root, what)
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        os.set_blocking(fd, True)  # opened without blocking (a FIFO would wait for a writer)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_inside(path: Path | str, root: Path | str, max_bytes: int | None = None, what: str = "file") -> bytes:
    """Read a whole file through the door; a file over ``max_bytes`` is refused by name."""
    with open_inside(path, root, what) as handle:
        if max_bytes is not None and (size := os.fstat(handle.fileno()).st_size) > max_bytes:
            raise IngestError(f"file is {size:,} bytes, more than the limit of {max_bytes:,}", path)
        try:
            data = handle.read(-1 if max_bytes is None else max_bytes + 1)
        except OSError as exc:
            raise IngestError(f"cannot read: {exc.strerror or exc}", path) from None
    if max_bytes is not None and len(data) > max_bytes:  # grew while it was read
        raise IngestError(f"file is more than the limit of {max_bytes:,} bytes", path)
    return data


def entries(folder: Path, root: Path | str) -> tuple[list[Path], list[Path]]:
    """List ``folder`` (sorted): the entries inside ``root``, and those that lead outside it
    (:func:`leads_out` says why)."""
    kept: list[Path] = []
    refused: list[Path] = []
    base = real_root(root)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise IngestError(f"cannot list: {exc.strerror or exc}", folder) from None
    inside = Path(os.path.realpath(folder))
    for name in names:
        path = folder / name
        try:  # an entry that is no link is where its folder really is; a link is followed to its end
            real = inside / name if not stat.S_ISLNK(os.lstat(path).st_mode) else Path(os.path.realpath(path))
        except OSError:  # gone meanwhile
            real = Path(os.path.realpath(path))
        if real.is_relative_to(base):
            kept.append(path)
        else:
            refused.append(path)
    return kept, refused


def open_descriptor_inside(path: Path | str, root: Path | str) -> int:
    """The open descriptor (blocking, read-only) of ``path`` if it is a regular file inside ``root``; the
    caller closes it.  Raises :class:`OutsideRoot` as :func:`open_inside` does, and OSError as ``open``."""
    fd = _open_checked(path, root, "file")
    try:
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
