"""PDF backend: WeasyPrint lays out the print HTML; only the issue's own assets are served."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from ..errors import BackendError
from ..output import atomic_path
from ..render import RenderedIssue

BASE_URL = "file:///broadsheet-edition/"
log = logging.getLogger("broadsheet")


def _asset_fetcher(assets: dict[str, tuple[bytes | None, Path | None, str]]):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetOnlyFetcher(URLFetcher):
        """Serve the rendered issue's own assets; refuse every other URL (files, network)."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=5)

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            path = unquote(parts.path)
            if parts.scheme != "file" or not path.startswith("/broadsheet-edition/"):
                raise ValueError(f"refused: {url} is not an asset of this edition")
            name = path[len("/broadsheet-edition/"):]
            if name not in assets:
                raise ValueError(f"refused: {name} is not an asset of this edition")
            data, source, media_type = assets[name]
            body = data if data is not None else source.read_bytes()
            return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    return AssetOnlyFetcher()


class PdfBackend:
    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"
    media_type: ClassVar[str] = "application/pdf"
    remote_resources: ClassVar[bool] = False

    def write(self, rendered: RenderedIssue, target: Path) -> Path:
        """Lay out the print HTML and write the PDF atomically."""
        import weasyprint

        from .cjk_justify import install

        install()
        document = rendered.documents[0]
        assets = {a.name: (a.data, a.path, a.media_type) for a in rendered.assets}
        fetcher = _asset_fetcher(assets)
        try:
            html = weasyprint.HTML(string=document.content.decode("utf-8"), base_url=BASE_URL, url_fetcher=fetcher)
            pdf = html.write_pdf(
                uncompressed_pdf=False,
                custom_metadata=False,
                pdf_identifier=False,
                lang=rendered.metadata.language,
            )
        except Exception as exc:  # noqa: BLE001 - WeasyPrint raises many kinds
            raise BackendError(f"PDF layout failed: {exc}", target) from None
        with atomic_path(target) as temporary:
            temporary.write_bytes(pdf)
        return target
