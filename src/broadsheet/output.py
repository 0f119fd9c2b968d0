"""Atomic output: write beside the target, then rename; never leave a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


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
        from .errors import os_fault

        logging.getLogger("broadsheet").warning("%s: not cached (the cache folder cannot be written: %s); "
                                                "the next build does this work again", folder,
                                                os_fault(exc) or exc.strerror or exc)
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
