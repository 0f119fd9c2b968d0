"""Backends: each writes one output format from a RenderedIssue.

``BACKENDS[fmt]`` is the class that writes format ``fmt`` (``names.FORMATS``); its module is
imported on lookup, so importing this package imports neither WeasyPrint nor ebooklib.

  epub/       EpubBackend (ebooklib, the deterministic zip), its pictures and device profiles
  pdf/        PdfBackend (WeasyPrint): the print HTML cut into parts, laid out in processes,
              scheduled, cached and assembled (pikepdf), fonts shared, booklets imposed
  html.py     HtmlBackend: the print HTML and its assets as a folder
  processes.py  the fork server, workers with time and memory limits, their logs told
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # a layout process imports backend modules without the configuration or the renderer
    from ..config import EpubConfig, PdfConfig
    from ..rendered import RenderedIssue


class Backend(Protocol):
    name: ClassVar[str]  # "epub" | "pdf" | "html" (names.FORMATS)
    suffix: ClassVar[str]  # ".epub" | ".pdf" | ".html"
    render_target: ClassVar[str]  # the rendering it is made from (names.RENDERINGS): "epub" | "pdf"

    def __init__(self, *, pdf: PdfConfig, epub: EpubConfig, cache_folder: Path | None = None) -> None: ...

    @classmethod
    def warm_up(cls) -> None:
        """Start what writing will need while the sources are read (a no-op for most)."""

    def write(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        """Write the file and any companions (a booklet) atomically; return every path written."""

    # Optional: ``start(rendered, target) -> Pending`` begins writing and returns at once (the PDF's
    # layout process); the pipeline finishes the outputs in order (``pipeline.write_editions``).
    # ``sharing()`` (a static method) returns a context within which the outputs of one build share what
    # they can (the EPUB's picture workers).


class Pending:
    """An output on its way (``Backend.start``): ``finish()`` waits for it if it is ``running``, writes it
    and returns the paths written, or raises the output's fault; ``cancel()`` ends what still runs for
    it.  One not ``running`` does all its work in ``finish()``, in its turn; one ``alone`` is written as
    soon as those before it are, before anything after it starts (it keeps every process busy itself).
    At most ``jobs`` running outputs run at once, this one included."""

    def __init__(self, finish: Callable[[], list[Path]], *, running: bool = False, jobs: int = 1,
                 alone: bool = False, cancel: Callable[[], None] | None = None) -> None:
        self.finish = finish
        self.running = running
        self.jobs = max(1, jobs)
        self.alone = alone
        self.cancel = cancel or (lambda: None)


class _Backends(Mapping[str, type[Backend]]):
    """Format name → backend class, each module imported when its format is looked up."""

    _WHERE = {"epub": ("epub.backend", "EpubBackend"), "pdf": ("pdf.backend", "PdfBackend"),
              "html": ("html", "HtmlBackend")}

    def __getitem__(self, name: str) -> type[Backend]:
        module, cls = self._WHERE[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(self._WHERE)

    def __len__(self) -> int:
        return len(self._WHERE)


BACKENDS: Mapping[str, type[Backend]] = _Backends()
