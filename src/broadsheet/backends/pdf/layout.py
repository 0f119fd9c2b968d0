"""What a PDF layout process runs: light to import (WeasyPrint is imported by the zygote, see
``pdf_worker``), and picklable (module-level functions and plain settings), so that a layout
process needs neither the configuration nor the renderer.

``settings`` is a dict: ``grayscale`` (bool), ``bleed_pt`` (the bleed in points, for the
BleedBox), ``variant`` (a WeasyPrint PDF variant or None).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_URL = "file:///broadsheet-edition/"
MIN_DPI = 150
PT_PER_MM = 72 / 25.4
log = logging.getLogger("broadsheet")


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


def asset_fetcher(assets: dict[str, tuple[bytes | None, Path | None, str, Path | None]], grayscale: bool):
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
            data, source, media_type, root = assets[name]
            from ..rendered import read_asset  # a picture file: read again through the file door

            body = read_asset(data, source, root)
            if grayscale and media_type.startswith("image/") and media_type != "image/svg+xml":
                body, media_type = _grayscale(body, media_type)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    return AssetOnlyFetcher()


def bleed_finisher(bleed_pt: float):
    """A WeasyPrint finisher that sets every page's BleedBox to ``bleed_pt`` around its TrimBox."""

    def finish(document, pdf) -> None:
        import pydyf

        for obj in pdf.objects:
            if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Page" and "TrimBox" in obj:
                left, top, right, bottom = (float(v) for v in obj["TrimBox"])
                obj["BleedBox"] = pydyf.Array([left - bleed_pt, top - bleed_pt, right + bleed_pt, bottom + bleed_pt])

    return finish


def check_resolution(laid_out, pictures: dict) -> None:
    """Warn about every picture printed at less than MIN_DPI at its placed size."""
    from weasyprint.formatting_structure import boxes

    warned: set[str] = set()
    for page in laid_out.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            stack.extend(getattr(box, "children", ()))
            element = getattr(box, "element", None)
            if not isinstance(box, boxes.ReplacedBox) or element is None or not box.width:
                continue
            src = element.get("src", "")
            if src not in pictures or src in warned:
                continue
            width, source_path, image_src = pictures[src]
            dpi = width / (box.width / 96)  # CSS px are 1/96 in
            if dpi < MIN_DPI:
                warned.add(src)
                log.warning("%s: image %r prints at %d dpi (%d px over %.0f mm); %d dpi or more is wanted",
                            source_path, image_src, dpi, width, box.width / 96 * 25.4, MIN_DPI)


def render_whole(settings: dict, pictures: dict, assets: dict, html: str) -> bytes:
    """Lay out the whole print HTML (in a layout process) and return the PDF."""
    import weasyprint

    from .cjk_justify import install

    install()
    fetcher = asset_fetcher(assets, settings["grayscale"])
    laid_out = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    check_resolution(laid_out, pictures)
    return laid_out.write_pdf(uncompressed_pdf=False, custom_metadata=False, pdf_identifier=False,
                              pdf_variant=settings["variant"], finisher=bleed_finisher(settings["bleed_pt"]))


def render_part(settings: dict, pictures: dict, assets: dict, html: str, role: str, report):
    """Lay out one part (in its own process); return its PDF and its bookmarks and faces.

    ``report`` is given the page of each anchor as soon as the part is laid out."""
    import weasyprint

    from .cjk_justify import install
    from .pdf_fonts import defer_font_programs

    install()
    faces = defer_font_programs()
    fetcher = asset_fetcher(assets, settings["grayscale"])
    laid_out = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    anchors: dict[str, int] = {}
    for number, page in enumerate(laid_out.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
    report(anchors)
    if role == "section":
        check_resolution(laid_out, pictures)
    if role == "contents":
        # The contents link to anchors in the sections: stand-ins keep the links, the
        # assembled PDF points the names at the real places.
        anchors = {name for page in laid_out.pages for name in page.anchors}
        for page in laid_out.pages:
            for kind, name, _, _ in page.links:
                if kind == "internal" and name not in anchors:
                    laid_out.pages[0].anchors[name] = (0, 0, 0, 0)
                    anchors.add(name)
    pdf = laid_out.write_pdf(uncompressed_pdf=False, custom_metadata=False, pdf_identifier=False,
                             finisher=bleed_finisher(settings["bleed_pt"]))
    return pdf, {"bookmarks": laid_out.make_bookmark_tree(0.75, transform_pages=True), "fonts": faces}
