"""Rendered article XHTML kept on disk between builds, addressed by content.

A key is what the document is made of (the article's model, its section and issue, the
template's name); the salt is what makes it (broadsheet's version and every file of the
templates and themes in use).  Files are written atomically and begin with the SHA-256 of
their own name and what follows, so a damaged entry, or another key's entry copied over it,
is a miss (made again, with a ``-v`` note).  The folder is used only through
:class:`~broadsheet.output.CacheFolder`: never through a link, and only its own entries are
ever removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from ..output import HEX_NAME, CacheFolder, seal, unseal
from ..version import __version__

__all__ = ["DiskCache", "folder_digest", "seal", "unseal"]


def folder_digest(folders) -> str:
    """Hash every file under ``folders`` (names and bytes), in a stable order; each file is read
    through the file door (a link out of its folder, a FIFO or a device is named, not read)."""
    from ..errors import IngestError
    from ..files import read_inside

    digest = hashlib.sha256()
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
            try:
                data = read_inside(path, folder, what="theme file")
            except IngestError as exc:
                data = f"\0refused: {exc.message}".encode()
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


class DiskCache:
    """A dict-like store of bytes under ``folder``; ``salt`` is part of every key."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.folder = folder
        self.store = CacheFolder(folder, HEX_NAME)
        self.salt = f"{__version__}\0{salt}"
        self.memory: dict[str, bytes] = {}
        self.used: set[str] = set()
        self.pending: dict[str, bytes] = {}

    def _name(self, key) -> str:
        return hashlib.sha256(f"{self.salt}\0{key!r}".encode()).hexdigest()

    def _load(self, key) -> bytes | None:
        name = self._name(key)
        if name in self.memory:
            return self.memory[name]
        data = unseal(name, self.store.read(name), self.folder)
        if data is None:  # absent, damaged or another entry's: a miss
            return None
        self.memory[name] = data
        self.used.add(name)
        return data

    def __contains__(self, key) -> bool:
        return self._load(key) is not None

    def __getitem__(self, key) -> bytes:
        data = self._load(key)
        if data is None:
            raise KeyError(key)
        return data

    def __setitem__(self, key, value: bytes) -> None:
        name = self._name(key)
        self.memory[name] = value
        self.used.add(name)
        self.pending[name] = value

    def commit(self, days: float = 30) -> None:
        """Once the build has succeeded: write what it rendered, touch what it used, and
        remove what no build has used for ``days`` (a failed build leaves nothing behind)."""
        self.store.commit(_Sealed(self.pending), self.used, days)
        self.pending.clear()


class _Sealed(Mapping):
    """``pending`` as the entries written: each sealed when it is written, not all of them at once (a copy of
    every article's XHTML, hundreds of megabytes for a digest of an archive, held beside the rendered book)."""

    def __init__(self, pending: dict[str, bytes]) -> None:
        self.pending = pending

    def __getitem__(self, name: str) -> bytes:
        return seal(name, self.pending[name])

    def __contains__(self, name: object) -> bool:
        return name in self.pending

    def __iter__(self):
        return iter(self.pending)

    def __len__(self) -> int:
        return len(self.pending)
