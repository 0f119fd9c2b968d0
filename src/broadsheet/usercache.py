"""The user's cache (``$XDG_CACHE_HOME/broadsheet``, else ``~/.cache/broadsheet``): what is costly to work out
from what is installed (fonts' coverage, the language identifier's model), kept between builds.

Each entry is one file under its own SHA-256: a file whose digest does not check out (damaged, cut short,
written by something else) is not read, and whoever asked works it out again and writes it anew.  Files are
written atomically; an entry made from something no longer installed is removed when its successor is
written.  A cache that cannot be read or written is no fault: nothing is kept.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def folder(name: str) -> Path:
    """The cache folder ``name``: ``$XDG_CACHE_HOME/broadsheet/<name>``, else ``~/.cache/broadsheet/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "broadsheet" / name


def read(name: str, file: str, magic: bytes) -> memoryview | None:
    """The body of the entry ``file`` of the cache folder ``name``, written with ``magic``; None when there is
    none, or it does not check out."""
    try:
        data = (folder(name) / file).read_bytes()
    except (OSError, RuntimeError):  # RuntimeError: no home folder to find the cache in
        return None
    head = len(magic) + 32
    if not data.startswith(magic):
        return None
    body = memoryview(data)[head:]
    if hashlib.sha256(body).digest() != data[len(magic):head]:
        return None
    return body


def write(name: str, file: str, magic: bytes, body: bytes, others: str) -> None:
    """Keep ``body`` as the entry ``file`` of the cache folder ``name``, atomically, and remove the entries
    matching the pattern ``others`` (made from something no longer installed)."""
    try:
        where = folder(name)
        where.mkdir(parents=True, exist_ok=True)
        from .output import atomic_path  # journalled: a stopped build leaves no temporary

        with atomic_path(where / file) as temporary:
            temporary.write_bytes(magic + hashlib.sha256(body).digest() + body)
        for old in where.glob(others):
            if old.name != file:
                old.unlink(missing_ok=True)
    except (OSError, RuntimeError):
        pass
