"""A saved page's facsimile (版面图): its page picture, its image map and the page PDF it links.

A Founder page shows the printed page as ``<img src=… USEMAP=#PagePicMap>`` over
``<map name=PagePicMap>``, one ``<area shape=polygon|rect|circle coords=… href=content_N.htm?div=-1>``
per article; many pages also link the page as a PDF (``<a href=../../../page/…/XX01.pdf>``).
The picture is read through the picture door (``ingest/images.py``), only from inside the
source folder; the PDF is kept by its path, checked to lie inside the folder.  Each area's link
is resolved like the page's article links; an area that links no article read is dropped with a
note (``-v``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ...errors import IngestError
from ...files import check_inside, read_inside
from ...model import Article
from ..base import Context, DraftFacsimile, DraftRegion, log
from ..images import ImageResolver
from .page import Doc

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SHAPE_NAMES = {"poly": "polygon", "polygon": "polygon", "rect": "rect", "rectangle": "rect", "circle": "circle",
                "circ": "circle"}
_COUNTS = {"rect": 4, "circle": 3}
MAX_REGIONS = 500  # areas kept from one page's map
MAX_PDF_BYTES = 64 * 1024 * 1024  # one page PDF


def page_facsimile(doc: Doc, ctx: Context, root: Path, resolve: Callable[[str, Path], tuple[Path | None, str]],
                   articles: dict[Path, Article]) -> DraftFacsimile | None:
    """The facsimile of page ``doc``, or None when it shows no page picture with a map.

    ``resolve`` turns a link of the page into a file of the folder; ``articles`` names the article read
    from each file."""
    found = _picture_and_map(doc)
    if found is None:
        return None
    img, area_map = found
    picture = _PageResolver(doc.path, root)((img.get("src") or "").strip(), "", None)
    if picture is None:
        return None
    scale_x, scale_y = _display_scale(img, picture.width, picture.height)
    regions: list[DraftRegion] = []
    for area in area_map.iter("area"):
        if len(regions) >= MAX_REGIONS:
            log.info("%s: more than %d areas in the page's map; the rest are not kept", doc.path, MAX_REGIONS)
            break
        href = (area.get("href") or "").strip()
        shape = _SHAPE_NAMES.get((area.get("shape") or "rect").strip().lower())
        numbers = [float(n) for n in _NUMBER.findall(area.get("coords") or "")]
        if shape is None or not _fits(shape, numbers):
            log.info("%s: map area %r (shape %r, coords %r) is not a polygon, rectangle or circle; dropped",
                     doc.path, href, area.get("shape"), area.get("coords"))
            continue
        if not href or href.startswith("#"):
            log.info("%s: map area without a link; dropped", doc.path)
            continue
        target, why = resolve(href, doc.path)
        article = articles.get(target) if target is not None else None
        if article is None:
            log.info("%s: map area %r links no article read (%s); dropped", doc.path, href,
                     why or "not an article of the issue")
            continue
        regions.append(DraftRegion(shape, _scaled(shape, numbers, scale_x, scale_y, picture.width, picture.height),
                                   article))
    pdf = _page_pdf(doc, root)
    return DraftFacsimile(picture=picture, regions=regions, pdf=pdf, pdf_root=root if pdf else None,
                          source=doc.path)


class _PageResolver(ImageResolver):
    """Page pictures are read as every picture is; one not saved (a site saved without its images/ folder)
    is a note under ``-v``, not a warning on every page: the edition is whole without it."""

    def _warn(self, src: str, reason: str) -> None:
        from ...limits import quote

        log.info("%s: page picture %s not used: %s", self.article_path, quote(src), reason)


def _picture_and_map(doc: Doc):
    """The ``<img usemap>`` of the page and the ``<map>`` it names, or None."""
    maps = {}
    for element in doc.xpath("//map"):
        for key in (element.get("name"), element.get("id")):
            if key:
                maps.setdefault(key.strip(), element)
    for img in doc.xpath("//img[@usemap]"):
        name = (img.get("usemap") or "").strip().lstrip("#")
        found = maps.get(name)
        if found is not None and (img.get("src") or "").strip() and any(True for _ in found.iter("area")):
            return img, found
    return None


def _fits(shape: str, numbers: list[float]) -> bool:
    if shape == "polygon":
        return len(numbers) >= 6 and len(numbers) % 2 == 0
    return len(numbers) == _COUNTS[shape] and (shape != "circle" or numbers[2] > 0)


def _display_scale(img, width: int, height: int) -> tuple[float, float]:
    """How the picture's pixels relate to the coordinates of the map: the map is drawn over the picture at
    the size the page shows it (``width``/``height`` attributes), which may not be its own."""
    def given(name: str) -> float | None:
        value = (img.get(name) or "").strip()
        return float(value) if re.fullmatch(r"\d+(?:\.\d+)?", value) and float(value) > 0 else None

    shown_w, shown_h = given("width"), given("height")
    if shown_w and not shown_h:
        shown_h = shown_w * height / width
    if shown_h and not shown_w:
        shown_w = shown_h * width / height
    return (width / shown_w if shown_w else 1.0), (height / shown_h if shown_h else 1.0)


def _scaled(shape: str, numbers: list[float], sx: float, sy: float, width: int, height: int) -> tuple[int, ...]:
    """The coordinates in the picture's own pixels, kept on the picture."""
    if shape == "circle":
        x, y, r = numbers
        return (min(max(round(x * sx), 0), width), min(max(round(y * sy), 0), height), max(round(r * sx), 1))
    out = []
    for index, value in enumerate(numbers):
        x_axis = index % 2 == 0
        out.append(min(max(round(value * (sx if x_axis else sy)), 0), width if x_axis else height))
    if shape == "rect":  # left, top, right, bottom whichever corners the map gave
        left, top, right, bottom = out
        out = [min(left, right), min(top, bottom), max(left, right), max(top, bottom)]
    return tuple(out)


def _page_pdf(doc: Doc, root: Path) -> Path | None:
    """The page PDF the page links (``<a href=…/KJRB2023021001.pdf>``), when it is saved inside the folder."""
    for link in doc.xpath("//a[@href]"):
        href = (link.get("href") or "").strip()
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.lower().endswith(".pdf"):
            continue
        relative = unquote(parts.path)
        if relative.startswith("/") or "\x00" in relative:
            continue
        candidate = Path(os.path.normpath(doc.path.parent / relative))
        if not candidate.is_relative_to(root) or not candidate.is_file():
            log.info("%s: page PDF %r not in the folder; the page picture stands for it", doc.path, href)
            continue
        real = check_inside(candidate, root, "page PDF")  # a link out of the folder is refused by name
        why = _not_a_page_pdf(real, root)
        if why:
            log.warning("%s: page PDF %r %s; the page picture stands for it", doc.path, href, why)
            continue
        return real
    return None


def _not_a_page_pdf(path: Path, root: Path) -> str | None:
    """Why the file cannot be drawn as a page (read through the file door, opened with pikepdf), or None."""
    import io

    import pikepdf

    try:
        data = read_inside(path, root, MAX_PDF_BYTES, "page PDF")
    except IngestError as exc:
        return exc.message
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) < 1:
                return "has no page"
            if pdf.is_encrypted:
                return "is encrypted"
    except Exception:  # noqa: BLE001 - whatever qpdf cannot read is not a usable page
        return "is not a PDF that can be read"
    return None
