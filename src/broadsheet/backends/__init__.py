"""Backends: each writes one output format from a RenderedIssue."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

from ..render import RenderedIssue


class Backend(Protocol):
    name: ClassVar[str]
    suffix: ClassVar[str]
    media_type: ClassVar[str]

    def write(self, rendered: RenderedIssue, target: Path) -> Path:
        """Write one file atomically and return its path."""


def get_backend(name: str) -> Backend:
    if name == "epub":
        from .epub import EpubBackend

        return EpubBackend()
    if name == "pdf":
        from .pdf import PdfBackend

        return PdfBackend()
    raise KeyError(name)


FORMATS = ("epub", "pdf")
