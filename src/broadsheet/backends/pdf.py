"""PDF backend: WeasyPrint lays out the print HTML; only the issue's own assets are served.

Print features are options (``PdfConfig``): page boxes for a bleed (WeasyPrint's
MediaBox/TrimBox, and a BleedBox set to the configured bleed), crop and cross marks
outside the bleed, WeasyPrint's PDF variants (PDF/A, PDF/UA, PDF/X), grayscale pictures
for newsprint, and a booklet imposition written beside the PDF.
"""

from __future__ import annotations

import functools
import io
import logging
import os
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from ..config import PdfConfig, to_mm
from ..errors import BackendError
from ..output import atomic_path
from ..render import RenderedIssue
from .pdf_fonts import FontUnavailable, defer_font_programs

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


def _asset_fetcher(assets: dict[str, tuple[bytes | None, Path | None, str]], grayscale: bool):
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
            if grayscale and media_type.startswith("image/") and media_type != "image/svg+xml":
                body, media_type = _grayscale(body, media_type)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": media_type})

    return AssetOnlyFetcher()


class PdfBackend:
    name: ClassVar[str] = "pdf"
    suffix: ClassVar[str] = ".pdf"
    media_type: ClassVar[str] = "application/pdf"
    remote_resources: ClassVar[bool] = False

    def __init__(self, options: PdfConfig | None = None, cache_folder: Path | None = None) -> None:
        self.options = options or PdfConfig()
        self.cache_folder = cache_folder

    def write_all(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        pdf = self._lay_out_by_sections(rendered, target) if self.options.layout == "sections" else None
        if pdf is None:
            pdf = self._lay_out_whole(rendered, target)
        with atomic_path(target) as temporary:
            temporary.write_bytes(pdf)
        written = [target]
        if self.options.impose == "booklet":
            from .impose import impose_booklet

            booklet = target.with_name(f"{target.stem}-booklet{target.suffix}")
            with atomic_path(booklet) as temporary:
                temporary.write_bytes(impose_booklet(pdf))
            written.append(booklet)
        return written

    def _lay_out_whole(self, rendered: RenderedIssue, target: Path) -> bytes:
        from .sandbox import LayoutFailed, LayoutTimeout, run_limited

        try:
            return run_limited(self.render_pdf, rendered, target, timeout=self.options.timeout,
                               memory_mb=self.options.memory_mb)
        except LayoutTimeout as exc:
            raise BackendError(f"PDF layout stopped: it {exc} (raise [pdf] timeout, or look for a layout "
                               "trap in the theme or article CSS)", target) from None
        except LayoutFailed as exc:
            raise BackendError(f"PDF layout failed: {exc}", target) from None

    def _lay_out_by_sections(self, rendered: RenderedIssue, target: Path) -> bytes | None:
        """Lay the front matter and each section out in parallel processes; ``None`` if this
        edition must be laid out whole (see ``pdf_parallel``)."""
        from . import pdf_parallel

        html = rendered.documents[0].content.decode("utf-8")
        parts = pdf_parallel.split_edition(html)
        stylesheets = [(a.data or a.path.read_bytes()).decode("utf-8", "replace") for a in rendered.assets
                       if a.media_type == "text/css"]
        jobs = self.options.jobs or len(os.sched_getaffinity(0))
        reason = "its template has no part markers" if parts is None else pdf_parallel.splittable(
            self.options.variant, stylesheets, parts, jobs)
        if reason:
            log.info("%s: laid out as one document: %s", target.name, reason)
            return None
        assets = {a.name: (a.data, a.path, a.media_type) for a in rendered.assets}
        cache = pdf_parallel.PartCache(
            self.cache_folder / "pdf" if self.cache_folder else None,
            salt=self._cache_salt(stylesheets),
            assets={name: data if data is not None else source.read_bytes()
                    for name, (data, source, media_type) in assets.items() if media_type != "text/css"},
        )
        render = functools.partial(self._render_part, _pictures(rendered), assets)
        try:
            pdf, laid_out, count = pdf_parallel.lay_out_in_parts(parts, render, jobs, self.options.timeout,
                                                                 self.options.memory_mb, cache)
        except (pdf_parallel.Repaginate, FontUnavailable) as exc:
            log.info("%s: laid out as one document: %s", target.name, exc)
            return None
        except TimeoutError as exc:
            raise BackendError(f"PDF layout stopped: it {exc} (raise [pdf] timeout, or look for a layout "
                               "trap in the theme or article CSS)", target) from None
        except RuntimeError as exc:
            raise BackendError(f"PDF layout failed: {exc}", target) from None
        log.info("%s: %d of %d parts laid out (%d at a time), the rest from the cache", target.name,
                 laid_out, count, jobs)
        return pdf

    def _cache_salt(self, stylesheets: list[str]) -> str:
        from importlib.metadata import version

        from .. import __version__

        return "\0".join([__version__, version("weasyprint"), version("pydyf"), self.options.model_dump_json(exclude={"jobs"}),
                           *stylesheets, _fonts_fingerprint()])

    def _render_part(self, pictures, assets, html: str, role: str, report):
        """Lay out one part (in its own process); return its PDF and its bookmarks.

        ``report`` is given the page of each anchor as soon as the part is laid out."""
        import weasyprint

        from .cjk_justify import install

        install()
        faces = defer_font_programs()
        fetcher = _asset_fetcher(assets, self.options.grayscale)
        laid_out = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
        anchors: dict[str, int] = {}
        for number, page in enumerate(laid_out.pages):
            for name in page.anchors:
                anchors.setdefault(name, number)
        report(anchors)
        if role == "section":
            self._check_resolution(laid_out, pictures)
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
                                 finisher=self._finish)
        return pdf, {"bookmarks": laid_out.make_bookmark_tree(0.75, transform_pages=True), "fonts": faces}

    def write(self, rendered: RenderedIssue, target: Path) -> Path:
        """Lay out the print HTML and write the PDF atomically."""
        return self.write_all(rendered, target)[0]

    def render_pdf(self, rendered: RenderedIssue, target: Path) -> bytes:
        import weasyprint

        from .cjk_justify import install

        install()
        document = rendered.documents[0]
        assets = {a.name: (a.data, a.path, a.media_type) for a in rendered.assets}
        fetcher = _asset_fetcher(assets, self.options.grayscale)
        try:
            html = weasyprint.HTML(string=document.content.decode("utf-8"), base_url=BASE_URL, url_fetcher=fetcher)
            laid_out = html.render()
            self._check_resolution(laid_out, _pictures(rendered))
            return laid_out.write_pdf(
                uncompressed_pdf=False,
                custom_metadata=False,
                pdf_identifier=False,
                pdf_variant=self.options.variant,
                finisher=self._finish,
            )
        except Exception as exc:  # noqa: BLE001 - WeasyPrint raises many kinds
            raise BackendError(f"PDF layout failed: {exc}", target) from None

    def _finish(self, document, pdf) -> None:
        """Set every page's BleedBox to the configured bleed around its TrimBox."""
        import pydyf

        bleed = to_mm(self.options.bleed) * PT_PER_MM
        for obj in pdf.objects:
            if isinstance(obj, pydyf.Dictionary) and obj.get("Type") == "/Page" and "TrimBox" in obj:
                left, top, right, bottom = (float(v) for v in obj["TrimBox"])
                obj["BleedBox"] = pydyf.Array([left - bleed, top - bleed, right + bleed, bottom + bleed])

    def _check_resolution(self, laid_out, pictures: dict) -> None:
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


def _pictures(rendered: RenderedIssue) -> dict[str, tuple[int, str, str]]:
    """Each picture of the print HTML: its width in pixels, article source and name, for the
    resolution warning (small and picklable, for the layout processes)."""
    return {f"images/{image.name}": (image.width, str(article.source_path), image.src)
            for article in rendered.issue.articles for image in article.images}


def _fonts_fingerprint() -> str:
    """Name the installed fonts' state: the font folders and their modification times."""
    folders = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
               Path.home() / ".local/share/fonts"]
    seen = []
    for folder in folders:
        for path, _, _ in os.walk(folder):
            try:
                seen.append(f"{path}:{os.stat(path).st_mtime_ns}")
            except OSError:
                pass
    return "\n".join(seen)
