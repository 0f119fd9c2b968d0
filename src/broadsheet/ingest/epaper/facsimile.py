"""A saved page's facsimile (版面图): its page picture, its image map and the page PDF it links.

A Founder page shows the printed page as ``<img src=… USEMAP=#PagePicMap>`` over
``<map name=PagePicMap>``, one ``<area shape=polygon|rect|circle coords=… href=content_N.htm?div=-1>``
per article; many pages also link the page as a PDF (``<a href=../../../page/…/XX01.pdf>``).
The picture is read through the picture door (``ingest/images.py``), only from inside the
source folder; the PDF is kept by its path, checked to lie inside the folder.  Each area's link
is resolved like the page's article links; an area that links no article read is dropped with a
note (``-v``).

Real sites vary the markup: the map before or after the picture, named by ``name`` or ``id`` in any
case, beside other maps (the page picture's is the one linking the most articles); ``poly``/``POLY``,
``rect``/``RECT``, ``circ`` shapes; coordinates with spaces or a trailing comma; a link a script opens
(``onclick="window.open('content_3.htm')"``); an area given twice
(``?div=0`` and ``?div=-1``: kept once); ``nohref`` areas (dropped); absolute links to the site's own
pages (kept when their path is the path of a saved file; nothing is fetched).  An area that is no
shape (a polygon of fewer than three points) or lies wholly outside the picture is dropped with a note;
one running off the picture is kept on it.
"""

from __future__ import annotations

import itertools
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
#: a link an area's script opens: ``onclick="window.open('content_3.htm','_self')"``, ``location.href='…'``
_SCRIPTED = re.compile(r"""(?:window\.open\s*\(|location(?:\.href)?\s*=)\s*['"]([^'"]+)['"]""")
MAX_REGIONS = 500  # areas kept from one page's map
MAX_AREAS = 4 * MAX_REGIONS  # areas looked at in one map
MAX_MAPS = 20  # pictures with maps looked at on one page
MAX_PDF_BYTES = 64 * 1024 * 1024  # one page PDF


def page_facsimile(doc: Doc, ctx: Context, root: Path, resolve: Callable[[str, Path], tuple[Path | None, str]],
                   articles: dict[Path, Article]) -> DraftFacsimile | None:
    """The facsimile of page ``doc``, or None when it shows no page picture with a map.

    ``resolve`` turns a link of the page into a file of the folder; ``articles`` names the article read
    from each file.  Of several pictures with maps, the page picture is the one whose map links the most
    articles (a page may also map a small navigation picture)."""
    candidates = []
    for img, area_map in itertools.islice(_pictures_and_maps(doc), MAX_MAPS):
        areas = list(_areas(doc, area_map, root, resolve, articles))
        candidates.append((sum(1 for a in areas if a[2] is not None), img, areas))
    if not candidates:
        return None
    _, img, areas = max(candidates, key=lambda c: c[0])  # the first of the best
    picture = _PageResolver(doc.path, root)((img.get("src") or "").strip(), "", None)
    if picture is None:
        return None
    scale_x, scale_y = _display_scale(img, picture.width, picture.height)
    regions: list[DraftRegion] = []
    kept: set[tuple] = set()
    for shape, numbers, article, href in areas:
        if article is None:
            continue
        if len(regions) >= MAX_REGIONS:
            log.info("%s: more than %d areas in the page's map; the rest are not kept", doc.path, MAX_REGIONS)
            break
        coords = _scaled(shape, numbers, scale_x, scale_y, picture.width, picture.height)
        if not _has_area(shape, coords):
            log.info("%s: map area %r lies outside the page picture (%dx%d); dropped", doc.path, href,
                     picture.width, picture.height)
            continue
        if (shape, coords, id(article)) in kept:  # the same area twice (?div=0 and ?div=-1)
            continue
        kept.add((shape, coords, id(article)))
        regions.append(DraftRegion(shape, coords, article))
    pdf = _page_pdf(doc, root, picture.path)
    return DraftFacsimile(picture=picture, regions=regions, pdf=pdf, pdf_root=root if pdf else None,
                          source=doc.path)


def _areas(doc: Doc, area_map, root: Path, resolve, articles: dict[Path, Article]):
    """(shape, numbers, article or None, href) of each area of ``area_map`` that is a shape with a link;
    what is dropped is noted (``-v``)."""
    for count, area in enumerate(area_map.iter("area")):
        if count >= MAX_AREAS:
            log.info("%s: more than %d areas in a map of the page; the rest are not looked at", doc.path, MAX_AREAS)
            return
        href = (area.get("href") or "").strip()
        if not href or href.lower().startswith("javascript:"):  # the link given by a script: window.open('…')
            found = _SCRIPTED.search(area.get("onclick") or "") or _SCRIPTED.search(href)
            href = found.group(1).strip() if found else ("" if href.lower().startswith("javascript:") else href)
        shape = _SHAPE_NAMES.get((area.get("shape") or "rect").strip().lower())
        numbers = [float(n) for n in _NUMBER.findall(area.get("coords") or "")]
        if shape == "polygon" and len(numbers) % 2:
            numbers = numbers[:-1]  # an odd number left over is not a point: browsers ignore it too
        if shape is None or not _fits(shape, numbers):
            log.info("%s: map area %r (shape %r, coords %r) is not a polygon of three points or more, a rectangle "
                     "or a circle; dropped", doc.path, href, area.get("shape"), area.get("coords"))
            continue
        if area.get("nohref") is not None:
            log.info("%s: map area %r marked nohref; dropped", doc.path, href)
            continue
        if not href or href.startswith("#"):
            log.info("%s: map area without a link; dropped", doc.path)
            continue
        target, why = _resolve_area(href, doc.path, root, resolve)
        article = articles.get(target) if target is not None else None
        if article is None:
            log.info("%s: map area %r links no article read (%s); dropped", doc.path, href,
                     why or "not an article of the issue")
        yield shape, numbers, article, href


def _resolve_area(href: str, page: Path, root: Path, resolve) -> tuple[Path | None, str]:
    """The file an area links: a relative link as every link of the page; an absolute one (``http://host/…``
    or ``/…``) only when its path ends with the path of a file saved in the folder — nothing is fetched."""
    parts = urlsplit(href)
    if not (parts.scheme or parts.netloc or parts.path.startswith("/")):
        return resolve(href, page)
    if parts.scheme.lower() not in ("", "http", "https"):
        return None, f"{parts.scheme}: links are not followed"
    target, why = resolve(href, page)
    if target is None:
        return None, why
    path = "/" + unquote(parts.path).lstrip("/")
    try:
        saved = target.relative_to(root).as_posix()
    except ValueError:
        return None, "not in the folder"
    if not path.endswith("/" + saved):
        return None, f"its path is not the path of {saved} in the folder"
    return target, ""


def _has_area(shape: str, coords: tuple[int, ...]) -> bool:
    """Whether the shape, kept on the picture, still covers something."""
    if shape == "circle":
        return coords[2] > 0
    if shape == "rect":
        return coords[2] > coords[0] and coords[3] > coords[1]
    points = list(zip(coords[0::2], coords[1::2]))
    twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]))
    return twice != 0


class _PageResolver(ImageResolver):
    """Page pictures are read as every picture is; one not saved (a site saved without its images/ folder)
    is a note under ``-v``, not a warning on every page: the edition is whole without it."""

    def _warn(self, src: str, reason: str) -> None:
        from ...limits import quote

        log.info("%s: page picture %s not used: %s", self.article_path, quote(src), reason)


def _pictures_and_maps(doc: Doc):
    """Each ``<img usemap>`` of the page with a source and the ``<map>`` it names, in the page's order.

    The map may come before or after the picture; ``usemap="#name"`` names a map by its ``name`` or
    its ``id``, whatever their case (browsers match them so)."""
    maps = {}
    for element in doc.xpath("//map"):
        for key in (element.get("name"), element.get("id")):
            if key and key.strip():
                maps.setdefault(key.strip().casefold(), element)
    for img in doc.xpath("//img[@usemap]"):
        name = (img.get("usemap") or "").strip().removeprefix("#").strip().casefold()
        found = maps.get(name)
        if found is not None and (img.get("src") or "").strip() and any(True for _ in found.iter("area")):
            yield img, found


def _fits(shape: str, numbers: list[float]) -> bool:
    if shape == "polygon":
        return len(numbers) >= 6 and len(numbers) % 2 == 0
    return len(numbers) == _COUNTS[shape] and (shape != "circle" or numbers[2] > 0)


def _display_scale(img, width: int, height: int) -> tuple[float, float]:
    """How the picture's pixels relate to the coordinates of the map: the map is drawn over the picture at
    the size the page shows it (``width``/``height`` attributes), which may not be its own."""
    def given(name: str) -> float | None:
        value = (img.get(name) or "").strip().lower().removesuffix("px").strip()
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
        x, y, r = round(numbers[0] * sx), round(numbers[1] * sy), max(round(numbers[2] * sx), 1)
        outside = x + r <= 0 or y + r <= 0 or x - r >= width or y - r >= height
        return (min(max(x, 0), width), min(max(y, 0), height), 0 if outside else r)
    out = []
    for index, value in enumerate(numbers):
        x_axis = index % 2 == 0
        out.append(min(max(round(value * (sx if x_axis else sy)), 0), width if x_axis else height))
    if shape == "rect":  # left, top, right, bottom whichever corners the map gave
        left, top, right, bottom = out
        out = [min(left, right), min(top, bottom), max(left, right), max(top, bottom)]
    return tuple(out)


def _page_pdf(doc: Doc, root: Path, picture: Path) -> Path | None:
    """The page PDF the page links (``<a href=…/KJRB2023021001.pdf>``), when it is saved inside the folder.

    A page may link the PDF of every page (People's Daily lists them beside the page list): the one named
    like the page picture (``rmrb2017101601_b.jpg`` → ``rmrb2017101601.pdf``), or the only one lying beside
    it, is this page's; else the page's only PDF link."""
    links: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    for link in doc.xpath("//a[@href]"):
        href = (link.get("href") or "").strip()
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.lower().endswith(".pdf"):
            continue
        relative = unquote(parts.path)
        if relative.startswith("/") or "\x00" in relative:
            continue
        candidate = Path(os.path.normpath(doc.path.parent / relative))
        if candidate not in seen:
            seen.add(candidate)
            links.append((href, candidate))
    stem = re.sub(r"[_-]?(?:b|big|brief|s|small|p)$", "", picture.stem, flags=re.I).lower()
    beside = [link for link in links if link[1].parent == picture.parent]
    mine = [link for link in links if link[1].stem.lower() == stem] or (beside if len(beside) == 1 else [])
    if not mine and len(links) > 1:
        log.info("%s: the page links %d PDFs, none named like its picture; the page picture stands for them",
                 doc.path, len(links))
        return None
    for href, candidate in (mine or links)[:1]:
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
