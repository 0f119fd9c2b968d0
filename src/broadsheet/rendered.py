"""The render → backends contract: what a renderer hands a backend, and nothing more.

:class:`RenderedIssue` holds one issue rendered for one target: its :class:`Metadata`, its
:class:`Document` s, the :class:`Asset` s they refer to and the navigation (:class:`NavEntry`).
The counterpart of :mod:`broadsheet.model` between ingest and render: a leaf that imports only
leaves (the model, the file door), so a backend needs nothing of the renderer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .model import Issue, Publication

__all__ = ["RenderedIssue", "Document", "Asset", "NavEntry", "Metadata", "read_asset"]


@dataclass(frozen=True)
class Document:
    """One rendered document: an EPUB content document, or the whole print HTML."""

    name: str
    id: str
    title: str
    kind: str
    content: bytes
    lang: str
    linear: bool = True  # in the reading order; False: reached by its links only (spine linear="no")


@dataclass(frozen=True)
class Asset:
    """A file the documents refer to by ``name`` (relative to the documents)."""

    name: str
    id: str
    media_type: str
    data: bytes | None = None
    path: Path | None = None
    root: Path | None = None  # a file read from ``path`` must lie inside this folder (``broadsheet.files``)

    def read(self) -> bytes:
        """The asset's bytes; a file is read again through the file door, inside its root."""
        return read_asset(self.data, self.path, self.root)


def read_asset(data: bytes | None, path: Path | None, root: Path | None) -> bytes:
    """``data``, else the file ``path`` read inside ``root``: a picture swapped for a link out
    after ingest looked at it is refused (:class:`~broadsheet.files.OutsideRoot`), never read."""
    if data is not None:
        return data
    assert path is not None
    if root is None:
        return path.read_bytes()
    from .files import read_inside

    return read_inside(path, root, what="picture")


@dataclass(frozen=True)
class NavEntry:
    title: str
    href: str
    children: tuple["NavEntry", ...] = ()


@dataclass(frozen=True)
class Metadata:
    title: str
    publication: str
    language: str
    identifier: str
    publisher: str | None
    date: dt.date | None
    number: str | None
    modified: dt.datetime
    subjects: tuple[str, ...]
    description: str
    print_source: str  # the print edition the page labels refer to (dc:source)
    summary: str  # accessibility summary


@dataclass(frozen=True)
class RenderedIssue:
    publication: Publication
    issue: Issue
    target: str
    metadata: Metadata
    documents: tuple[Document, ...]
    assets: tuple[Asset, ...]
    nav: tuple[NavEntry, ...]
    cover: Asset | None = None
    landmarks: tuple[tuple[str, str, str], ...] = field(default=())
    page_list: tuple[tuple[str, str], ...] = field(default=())  # (printed page label, href of its marker)
