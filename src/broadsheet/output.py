"""Atomic output: write beside the target, then rename; never leave a half-written file.

Each temporary is named after the process that writes it (``.NAME.PID.RANDOM.part``) and, in a
supervised build, recorded in the supervisor's journal before it is made, so that the
supervisor can remove exactly what a stopped build left and nothing of another build writing
into the same folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
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


def _temporary_name(target: Path, suffix: str) -> Path:
    stem = target.name[:_NAME_CHARS]
    return target.parent / f".{stem}.{os.getpid()}.{secrets.token_hex(4)}{suffix}"


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


def commit_cache(folder: Path, pending: dict[str, bytes], used: set[str], days: float = 30) -> None:
    """Write a cache's new entries (each atomically), touch the entries a build used (``used``,
    by name) and remove those no build has used for ``days``.  Called once a build has
    succeeded; a cache that cannot be written is a warning, not a failed build."""
    import logging
    import time

    try:
        for name, data in pending.items():
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(folder / name) as temporary:
                temporary.write_bytes(data)
    except OSError as exc:
        logging.getLogger("broadsheet").warning("%s: not cached: %s", folder, exc.strerror or exc)
    if not folder.is_dir():
        return
    now = time.time()
    for entry in os.scandir(folder):
        try:
            if entry.name in used or entry.name in pending:
                os.utime(entry.path, (now, now))
            elif now - entry.stat().st_mtime > days * 86400:
                os.unlink(entry.path)
        except OSError:
            pass
