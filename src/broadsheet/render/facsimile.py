"""Page facsimiles (版面图) for the templates: what a page view and a facsimile page draw.

The model gives each region in the picture's own pixels; the EPUB page view draws the picture
in an SVG whose ``viewBox`` is that pixel space (so the picture may be downscaled for e-readers
without moving a region), each region an SVG ``<a>`` over it.  The print page places the
picture scaled into the trim (``Facsimile.placed``) and each region as a link box in millimetres over
it (its bounding box: WeasyPrint makes one rectangular link annotation of each ``<a>``; the PDF backend then
traces the region's own shape in it, ``backends/pdf/facsimile.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Section
from ..lang import no_word_spaces
from .labels import labels_for

#: The CSS of the EPUB page view (written into the page view only: other documents are unchanged).
EPUB_CSS = """\
.facsimile-view { margin: 0; padding: 0; }
.facsimile-title { font-size: 1em; text-align: center; margin: 0.3em 0; }
.facsimile-picture { text-align: center; margin: 0; page-break-inside: avoid; break-inside: avoid; }
.facsimile-picture svg { display: block; margin: 0 auto; width: 100%; height: auto; max-height: 92vh; }
.facsimile-picture .region { fill: #8c1d24; fill-opacity: 0; stroke: none; }
.facsimile-picture a:hover .region, .facsimile-picture a:focus .region { fill-opacity: 0.18; }
.facsimile-articles { margin-top: 1em; }
.facsimile-link { font-size: 0.85em; margin: 0 0 0.5em 0; }
"""


@dataclass(frozen=True)
class SvgRegion:
    """One region as the page view draws it: an SVG shape element's name and attributes, and its link."""

    element: str  # polygon, rect or circle
    attributes: tuple[tuple[str, str], ...]
    article: str
    title: str


@dataclass(frozen=True)
class PrintRegion:
    """One region as the print page links it: a box in millimetres from the trim's top left corner."""

    article: str
    title: str
    left: float
    top: float
    width: float
    height: float


def page_view_name(section: Section) -> str:
    """The page view's document name, beside the section's (text/)."""
    return f"{section.id}-page.xhtml"


def picture_alt(section: Section, lang: str) -> str:
    """The page picture's text alternative: the page, its name and its articles."""
    labels = labels_for(lang)
    separator = "、" if no_word_spaces(lang) else "; "
    titles = separator.join(a.title for a in section.articles)
    where = labels["page"].format(page=section.page) if section.page else section.name
    return labels["facsimile_alt"].format(page=where, name=section.name, titles=titles)


def link_label(section: Section, lang: str) -> str:
    """The words of an article's link back to its page view: 见第15版版面, Page view."""
    labels = labels_for(lang)
    return labels["facsimile_link"].format(page=section.page) if section.page else labels["facsimile_view"]


def svg_regions(section: Section, titles: dict[str, str]) -> list[SvgRegion]:
    """The regions of ``section``'s facsimile as SVG shapes, each with its article's id and title
    (``titles``: article id → title, of the whole issue)."""
    facsimile = section.facsimile
    if facsimile is None:
        return []
    out = []
    for region in facsimile.regions:
        c = region.coords
        if region.shape == "rect":
            element, attributes = "rect", (("x", str(c[0])), ("y", str(c[1])), ("width", str(c[2] - c[0])),
                                           ("height", str(c[3] - c[1])))
        elif region.shape == "circle":
            element, attributes = "circle", (("cx", str(c[0])), ("cy", str(c[1])), ("r", str(c[2])))
        else:
            element, attributes = "polygon", (("points", " ".join(f"{x},{y}" for x, y in region.points)),)
        out.append(SvgRegion(element, attributes, region.article, titles.get(region.article, region.article)))
    return out


def print_regions(section: Section, width_mm: float, height_mm: float, titles: dict[str, str]) -> list[PrintRegion]:
    """The regions as link boxes over the picture placed by ``Facsimile.placed``; the larger first, so
    that a smaller region lying over a larger one's box is the one a click finds."""
    facsimile = section.facsimile
    if facsimile is None:
        return []
    left, top, width, _ = facsimile.placed(width_mm, height_mm)
    scale = width / facsimile.picture.width
    out = []
    for region in facsimile.regions:
        x0, y0, x1, y1 = region.box
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, facsimile.picture.width), min(y1, facsimile.picture.height)
        if x1 <= x0 or y1 <= y0:
            continue
        out.append(PrintRegion(region.article, titles.get(region.article, region.article),
                               round(left + x0 * scale, 3), round(top + y0 * scale, 3),
                               round((x1 - x0) * scale, 3), round((y1 - y0) * scale, 3)))
    return sorted(out, key=lambda r: -(r.width * r.height))
