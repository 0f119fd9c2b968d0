"""Atomic output: write beside the target, then rename; never leave a half-written file.

Each temporary is named after the process that writes it (``.NAME.PID.RANDOM.part``) and, in a
supervised build, recorded in the supervisor's journal before it is made, so that the
supervisor can remove exactly what a stopped build left and nothing of another build writing
into the same folder.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

_journal: int | None = None
#: What of the target's name a temporary keeps (a name may be at most 255 bytes).
_NAME_CHARS = 80


def open_journal() -> int:
    """A new journal of partial outputs (an anonymous file the supervised child inherits)."""
    try:
        fd = os.memfd_create("broadsheet-partials", os.MFD_CLOEXEC)
        os.set_inheritable(fd, False)
    except (AttributeError, OSError):
        import tempfile

        fd, name = tempfile.mkstemp(prefix="broadsheet-partials-")
        os.unlink(name)
    import fcntl

    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    return fd


def use_journal(fd: int | None) -> None:
    """Record every partial output this process (and those it forks) makes in ``fd``."""
    global _journal
    _journal = fd


def remember_temporary(path: Path) -> None:
    """Record a temporary file or folder this build makes outside ``atomic_path`` (a download
    folder, say), before making it: a stopped build's supervisor removes it if it is left."""
    _record(path)


def _record(*fields: Path) -> None:
    if _journal is not None:
        line = "\t".join(os.fsencode(os.path.abspath(f)).hex() for f in fields) + "\n"
        os.write(_journal, line.encode("ascii"))


def remove_partials(fd: int) -> list[Path]:
    """In the supervisor, once the child has ended: remove what it left half-written.  A
    folder being replaced that was already moved aside is put back; return what was removed."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    removed = []
    for line in b"".join(chunks).decode("ascii").splitlines():
        try:
            fields = [Path(os.fsdecode(bytes.fromhex(f))) for f in line.split("\t")]
        except ValueError:
            continue
        path = fields[0]
        try:
            if len(fields) == 2 and not os.path.lexists(fields[1]) and path.is_dir() and not path.is_symlink():
                os.replace(path, fields[1])  # an old folder moved aside: yesterday's output stays
            elif path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
                removed.append(path)
            elif os.path.lexists(path):
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


#: A build's tag for its temporaries (:func:`temporaries_tagged`), and what follows it in a temporary's name: its
#: random part and the suffix.
_TAG = re.compile(r"[0-9a-z-]{1,40}")
_LEFT = re.compile(r"[0-9a-f]{8}\.part")
#: What this thread's temporaries are named after besides their target, instead of the process's id
#: (:func:`temporaries_tagged`).
_tag: contextvars.ContextVar[str | None] = contextvars.ContextVar("broadsheet_temporary_tag", default=None)


@contextlib.contextmanager
def temporaries_tagged(tag: str) -> Iterator[None]:
    """Within the block, the temporaries this thread makes are named after ``tag`` (``.NAME.TAG.RANDOM.part``)
    rather than after this process: another process, which knows the tag, can then remove exactly those a
    writer killed half-way left (:func:`sweep`), and nothing of another build writing in the same folder."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"not a temporary's tag: {tag!r}")
    token = _tag.set(tag)
    try:
        yield
    finally:
        _tag.reset(token)



def sweep(folder: Path, names: Iterable[str] | None, tag: str) -> list[Path]:
    """Remove from ``folder`` the temporaries of the files ``names`` (None: of any file) made under ``tag``
    (:func:`temporaries_tagged`) and left there: a writer killed before its rename.  Return what was removed."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"not a temporary's tag: {tag!r}")
    stems = None if names is None else {name[:_NAME_CHARS] for name in names}
    try:
        listing = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in listing:
        stem, dot, rest = entry.name[1:].rpartition(f".{tag}.")
        if not (entry.name.startswith(".") and dot and stem and (stems is None or stem in stems)
                and _LEFT.fullmatch(rest)):
            continue
        with contextlib.suppress(OSError):
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed



def written(write, out: Path) -> list[Path]:
    """``write()`` (a write into the output folder ``out``), a full disk or a folder that cannot be written
    named by that folder (``errors.write_error``)."""
    from .errors import write_error

    try:
        return write()
    except OSError as exc:
        fault = write_error(exc, out)
        if fault is None:
            raise
        raise fault from None


def _temporary_name(target: Path, suffix: str) -> Path:
    stem = target.name[:_NAME_CHARS]
    return target.parent / f".{stem}.{_tag.get() or os.getpid()}.{secrets.token_hex(4)}{suffix}"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = _temporary_name(target, ".part")
        _record(temporary)
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
            break
        except FileExistsError:
            continue
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


@contextlib.contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``folder``; put it in the place of ``folder`` on success
    (an earlier folder is moved aside, then removed)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temporary = _temporary_name(folder, ".part")
        _record(temporary)
        try:
            os.mkdir(temporary, 0o700)
            break
        except FileExistsError:
            continue
    try:
        yield temporary
        old = None
        if os.path.lexists(folder):
            old = _temporary_name(folder, ".old")
            _record(old, folder)
            os.replace(folder, old)
        os.replace(temporary, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


class CacheFolder:
    """One folder of the build cache (``<out>/.broadsheet-cache/<part>``), reached and used
    without ever following a link.

    The folder above ``.broadsheet-cache`` is the user's choice and is opened as named; from
    ``.broadsheet-cache`` down, every folder is opened with ``O_NOFOLLOW`` and must be a real
    folder owned by this user, else the cache is not used there (one warning) and nothing is
    read, written or removed in it.  Entries are opened through the folder's descriptor with
    ``O_NOFOLLOW``, written to a temporary name and renamed, and only regular files whose names
    match ``names`` (the names this cache writes) are ever removed.
    """

    ANCHOR = ".broadsheet-cache"
    _warned: set[str] = set()

    def __init__(self, folder: Path, names: re.Pattern[str]) -> None:
        self.folder = Path(folder)
        self.names = names
        self._fd: int | None = None

    def _open(self, create: bool) -> int | None:
        """A descriptor of the real cache folder, or None (not there yet, or refused)."""
        if self._fd is not None:
            return self._fd
        parts = self.folder.parts
        anchor = parts.index(self.ANCHOR) if self.ANCHOR in parts else len(parts) - 1
        base, guarded = Path(*parts[:anchor]) if anchor else Path("."), parts[anchor:]
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        if create:
            base.mkdir(parents=True, exist_ok=True)
        elif not base.is_dir():
            return None
        fd = os.open(base, flags)
        try:
            reached = base
            for name in guarded:
                reached = reached / name
                try:
                    info = os.lstat(name, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        os.close(fd)
                        return None
                    os.mkdir(name, 0o755, dir_fd=fd)
                    info = os.lstat(name, dir_fd=fd)
                if stat.S_ISLNK(info.st_mode) or (stat.S_ISDIR(info.st_mode) and info.st_uid != os.geteuid()):
                    self._refuse(reached, "is a link" if stat.S_ISLNK(info.st_mode) else "is not owned by this user")
                    os.close(fd)
                    return None
                child = os.open(name, flags | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = child
                opened = os.fstat(fd)
                if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
                    self._refuse(reached, "changed while it was opened")
                    os.close(fd)
                    return None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return fd

    def _refuse(self, folder: Path, why: str) -> None:
        if str(folder) not in self._warned:
            self._warned.add(str(folder))
            logging.getLogger("broadsheet").warning(
                "%s: %s; the cache is not used there (nothing read, written or removed)", folder, why)

    def read(self, name: str) -> bytes | None:
        """The bytes of entry ``name``; None when there is none (or it is not a regular file)."""
        if not self.names.fullmatch(name):
            return None
        try:
            folder = self._open(create=False)
            if folder is None:
                return None
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            os.set_blocking(fd, True)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                return handle.read()
        except OSError:
            return None
        finally:
            os.close(fd)

    def _unwritable(self, exc: OSError) -> None:
        from .errors import os_fault

        logging.getLogger("broadsheet").warning(
            "%s: not cached (the cache folder cannot be written: %s); the next build does this work again",
            self.folder, os_fault(exc) or exc.strerror or exc)

    def identity(self) -> tuple[int, int] | None:
        """The cache folder's (device, inode), the folder made if it is not there yet; None when it is
        refused or cannot be made (said, as for a commit: the cache is then not used)."""
        try:
            fd = self._open(create=True)
            return None if fd is None else (os.fstat(fd).st_dev, os.fstat(fd).st_ino)
        except OSError as exc:
            self._unwritable(exc)
            return None
        finally:
            self.close()

    def commit(self, pending: Mapping[str, bytes], used: set[str], days: float = 30) -> None:
        """Write ``pending`` (each atomically), touch the entries in ``used`` and remove this
        cache's entries no build has used for ``days``.  A cache that cannot be written is a
        warning, not a failed build."""
        log = logging.getLogger("broadsheet")
        try:
            folder = self._open(create=bool(pending))
            if folder is None:
                return
            for name, data in pending.items():
                if not self.names.fullmatch(name):
                    raise ValueError(f"not a cache entry name: {name!r}")
                temporary = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.part"
                _record(self.folder / temporary)  # a stopped build's supervisor removes it
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o644, dir_fd=folder)
                try:
                    with os.fdopen(fd, "wb", closefd=False) as handle:
                        handle.write(data)
                    os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temporary, dir_fd=folder)
                    raise
                finally:
                    os.close(fd)
        except OSError as exc:
            self._unwritable(exc)
        if self._fd is None:
            return
        now = time.time()
        try:
            listing = list(os.scandir(self._fd))
        except OSError:
            listing = []
        for entry in listing:
            temporary = _TEMPORARY.fullmatch(entry.name)
            if temporary is not None and self.names.fullmatch(temporary.group(1)):
                # left by a build killed while it wrote the cache: removed after an hour
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > 3600:
                        os.unlink(entry.name, dir_fd=self._fd)
                continue
            if not self.names.fullmatch(entry.name):
                continue  # never a file this cache did not write
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.name in used or entry.name in pending:
                    os.utime(entry.name, (now, now), dir_fd=self._fd, follow_symlinks=False)
                elif now - entry.stat(follow_symlinks=False).st_mtime > days * 86400:
                    os.unlink(entry.name, dir_fd=self._fd)
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


#: A cache entry being written: ``.<name>.<pid>.<8 hex digits>.part``.
_TEMPORARY = re.compile(r"\.(.+)\.[0-9]+\.[0-9a-f]{8}\.part")
#: The names of the article XHTML cache's entries.
HEX_NAME = re.compile(r"[0-9a-f]{64}")


def seal(name: str, data: bytes) -> bytes:
    """``data`` as a cache entry named ``name``: the SHA-256 of the name and the data, then the data."""
    return hashlib.sha256(name.encode() + b"\0" + data).digest() + data


def unseal(name: str, stored: bytes | None, folder: Path) -> bytes | None:
    """The data of a stored entry, or None when it is not what ``seal(name, …)`` wrote (a note)."""
    if stored is None:
        return None
    data = stored[32:]
    if len(stored) < 32 or stored[:32] != hashlib.sha256(name.encode() + b"\0" + data).digest():
        logging.getLogger("broadsheet").info("%s: damaged or misplaced cache entry; made again", Path(folder) / name)
        return None
    return data
