"""The URL fetcher of a PDF layout: only the issue's own assets are served, each picture read
again through the file door, and made gray for newsprint when asked."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_URL = "file:///broadsheet-edition/"


def _grayscale(body: bytes, media_type: str) -> tuple[bytes, str]:
    from PIL import Image

    with Image.open(io.BytesIO(body)) as picture:
        gray = picture.convert("LA" if picture.mode in ("RGBA", "LA", "P") and media_type == "image/png" else "L")
        out = io.BytesIO()
        if gray.mode == "LA":
            gray.save(out, format="PNG", optimize=True)
            return out.getvalue(), "image/png"
        gray.save(out, format="JPEG", quality=85, optimize=True)
        return out.getvalue(), "image/jpeg"


def _asset_name(url: str) -> str | None:
    """The edition's asset ``url`` names (under :data:`BASE_URL`), or None for any other URL."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme != "file" or not path.startswith("/broadsheet-edition/"):
        return None
    return path[len("/broadsheet-edition/"):]


def asset_fetcher(assets: dict[str, tuple[bytes | None, Path | None, str, Path | None]], grayscale: bool):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetOnlyFetcher(URLFetcher):
        """Serve the rendered issue's own assets; refuse every other URL (files, network)."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=5)

        def stylesheet(self, url) -> bytes | None:
            """The text of the stylesheet ``url`` names, held in memory (``stylesheets.py`` keeps its parse
            by it); None for any other URL."""
            name = _asset_name(url)
            if name not in assets:
                return None
            data, _, media_type, _ = assets[name]
            return data if media_type == "text/css" and isinstance(data, bytes) else None

        def fetch(self, url, headers=None):
            name = _asset_name(url)
            if name is None:
                raise ValueError(f"refused: {url} is not an asset of this edition")
            if name not in assets:
                raise ValueError(f"refused: {name} is not an asset of this edition")
            data, source, media_type, root = assets[name]
            from ...rendered import read_asset  # a picture file: read again through the file door

            body = read_asset(data, source, root)
            if grayscale and media_type.startswith("image/") and media_type != "image/svg+xml":
                body, media_type = _grayscale(body, media_type)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    return AssetOnlyFetcher()
