"""Laid-out parts kept on disk between builds (``PartCache``): an edition edited in one article
lays out only the part that holds it (and the contents, if their numbers moved)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from ...output import CacheFolder, seal, unseal
from .parts import Job


class PartCache:
    """Laid-out parts on disk (``folder``), addressed by what they are made of and where they start.

    A part's key covers its HTML, the pictures it names, and ``salt`` (versions, options,
    stylesheets, installed fonts).  Its shape (page count, first side) is stored apart from
    its PDF, which depends on the first page number too.  ``folder=None`` turns it off.

    Every entry (shape, PDF, metadata, font subset) is stored sealed with the SHA-256 of its
    name and bytes (``output.seal``): flipped bytes, an edited entry or another part's
    entry copied over it is a miss, laid out again with a ``-v`` note.  The folder is used only
    through :class:`~broadsheet.output.CacheFolder` (no links followed, only its own entries
    removed).
    """

    NAMES = re.compile(r"(?:font-[0-9a-f]{64}\.bin|[0-9a-f]{64}(?:-[0-9]+\.(?:pdf|json)|\.json))")

    def __init__(self, folder: Path | None, salt: str, assets: dict[str, bytes] | None = None) -> None:
        self.folder = folder
        self.disk = CacheFolder(folder, self.NAMES) if folder is not None else None
        self.salt = salt
        self.assets = {name: hashlib.sha256(data).digest() for name, data in (assets or {}).items()}
        self.used: set[str] = set()  # names of the entries this build read
        self.pending: dict[str, bytes] = {}

    def key(self, html: str, role: str) -> str:
        digest = hashlib.sha256(f"{self.salt}\0{role}\0{html}".encode())
        for name in sorted(self.assets):
            if name in html:
                digest.update(f"\0{name}\0".encode() + self.assets[name])
        return digest.hexdigest()

    def _read(self, name: str) -> bytes | None:
        if self.disk is None:
            return None
        data = unseal(name, self.disk.read(name), self.folder)
        if data is not None:
            self.used.add(name)
        return data

    def shape(self, key: str) -> tuple[int, bool] | None:
        data = self._read(f"{key}.json")
        try:
            shape = json.loads(data)
            return int(shape["pages"]), bool(shape["right"])
        except (TypeError, ValueError, KeyError):
            return None

    def load(self, job: Job) -> bool:
        """Fill ``job`` from the cache: its PDF, bookmarks and anchors at its first page."""
        shape = self.shape(job.key)
        pdf = self._read(f"{job.key}-{job.start}.pdf")
        meta = self._read(f"{job.key}-{job.start}.json")
        if shape is None or pdf is None or meta is None or not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-64:]:
            return False
        try:
            data = json.loads(meta)
            job.anchors = dict(data.pop("anchors"))
            data["bookmarks"] = _tuples(data.get("bookmarks", []))
            job.meta = data
        except (TypeError, ValueError, KeyError, AttributeError):
            return False
        job.pdf = pdf
        job.pages, job.right = shape
        return True

    def store_shape(self, job: Job) -> None:
        """Keep ``job``'s shape alone (the contents' page count, under the key of their placeholders)."""
        if self.folder is not None and job.key:
            self.stage(f"{job.key}.json", json.dumps({"pages": job.pages, "right": job.right}).encode())

    def store(self, job: Job) -> None:
        """Keep ``job``'s shape and PDF, to be written when the build has succeeded."""
        if self.folder is None or not job.key:
            return
        self.store_shape(job)
        if job.pdf:
            meta = {**job.meta, "anchors": job.anchors or {}}
            self.stage(f"{job.key}-{job.start}.json", json.dumps(meta).encode())
            self.stage(f"{job.key}-{job.start}.pdf", job.pdf)

    def stage(self, name: str, data: bytes) -> None:
        if self.folder is not None:
            self.pending[name] = data

    def read(self, name: str) -> bytes | None:
        """A file of the cache (or staged for it) by name; ``None`` when there is none."""
        return self.pending.get(name) or self._read(name)

    def commit(self, days: float = 30) -> None:
        """Once the PDF is made: write what this build laid out, touch what it used, and remove
        what no build has used for ``days`` (a failed build leaves nothing behind)."""
        if self.disk is not None:
            self.disk.commit({name: seal(name, data) for name, data in self.pending.items()}, self.used, days)
        self.pending.clear()


def _tuples(bookmarks: list) -> list:
    return [(label, tuple(target), _tuples(children), state) for label, target, children, state in bookmarks]
