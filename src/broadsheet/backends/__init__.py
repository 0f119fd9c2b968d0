"""Backends: each writes one output format from a RenderedIssue."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # a layout process imports backend modules without the configuration or the renderer
    from ..config import EpubConfig, PdfConfig
    from ..rendered import RenderedIssue


class Backend(Protocol):
    name: ClassVar[str]
    suffix: ClassVar[str]
    media_type: ClassVar[str]

    def write(self, rendered: RenderedIssue, target: Path) -> Path:
        """Write one file atomically and return its path."""

    def write_all(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        """Write the file and any companions (a booklet), returning every path."""


def get_backend(name: str, print_options: PdfConfig | None = None, epub_options: EpubConfig | None = None,
                cache_folder: Path | None = None) -> Backend:
    from ..config import EpubConfig, PdfConfig

    if name == "epub":
        from .epub import EpubBackend

        return EpubBackend(epub_options or EpubConfig())
    if name == "pdf":
        from .pdf import PdfBackend

        return PdfBackend(print_options or PdfConfig(), cache_folder)
    if name == "html":
        from .html import HtmlBackend

        return HtmlBackend()
    raise KeyError(name)


#: the rendering (names.RENDERINGS) each format (names.FORMATS) is made from ("html" is the print HTML the PDF
#: is laid out from)
RENDER_TARGETS = {"epub": "epub", "pdf": "pdf", "html": "pdf"}
