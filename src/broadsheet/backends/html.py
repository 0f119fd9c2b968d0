"""HTML backend: the print HTML exactly as the PDF backend gives it to WeasyPrint, with its assets.

Writes a folder ``<name>/`` holding ``index.html``, ``styles/print.css`` and ``images/``: open
it in a browser to design a theme, or lay it out with another engine.  The folder is written
beside its target under a temporary name and renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import BackendError
from ..output import atomic_folder
from ..rendered import RenderedIssue

if TYPE_CHECKING:
    from ..config import EpubConfig, PdfConfig


class HtmlBackend:
    name: ClassVar[str] = "html"
    suffix: ClassVar[str] = ".html"
    remote_resources: ClassVar[bool] = False
    render_target: ClassVar[str] = "pdf"  # the print rendering

    def __init__(self, *, pdf: PdfConfig, epub: EpubConfig, cache_folder: Path | None = None) -> None:
        pass

    @classmethod
    def warm_up(cls) -> None:
        """Nothing to start ahead."""

    def write(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        """Write the folder; return its path (the one path written)."""
        folder = target.with_suffix("") if target.suffix == ".html" else target
        if os.path.lexists(folder) and not folder.is_dir():
            raise BackendError("exists and is not a folder", folder)
        with atomic_folder(folder) as temporary:
            (temporary / "index.html").write_bytes(rendered.documents[0].content)
            for asset in rendered.assets:
                path = temporary / asset.name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(asset.read())
            for path in [temporary, *temporary.rglob("*")]:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        return [folder]
