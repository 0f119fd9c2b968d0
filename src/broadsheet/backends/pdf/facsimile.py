"""The facsimile pages finished: page PDFs drawn as vector graphics, link annotations given their regions' shapes.

Where a section's facsimile has a page PDF (a Founder site's ``…/XXRB2024060301.pdf``), the print
HTML leaves the picture's box empty (``facsimile-vector``) and this step draws the page PDF's first
page into it, scaled to fit and centred as the picture would have been (``Facsimile.placed``), with
pikepdf: the page's content becomes a form XObject of the finished PDF; nothing is rasterised.  The
facsimile page is found by its named destination ``fac-<section id>``; its link annotations stay, each
given ``/QuadPoints`` that trace its region (WeasyPrint links a box; a polygon's box may overlap another
region, the quadrilaterals do not).  In a tagged PDF (``--pdf-variant pdf/ua-1``, ``pdf/ua-2``) the page PDF
drawn is marked content of a ``/Figure`` whose ``/Alt`` is the box's text alternative (its ``aria-label``
in the print HTML), put where WeasyPrint tagged the empty box.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math

from ...errors import BackendError
from ...rendered import RenderedIssue, read_asset

log = logging.getLogger("broadsheet")
POINTS_PER_MM = 72 / 25.4


def with_page_pdfs(pdf: bytes, rendered: RenderedIssue) -> bytes:
    """``pdf`` with each section's page PDF drawn on its facsimile page, and each region's link annotation
    given the region's own shape (``/QuadPoints``: the link box is the region's bounding box, the quadrilaterals
    the polygon or circle itself); unchanged when no section has a facsimile."""
    sections = [s for s in rendered.issue.sections if s.facsimile is not None]
    if not sections:
        return pdf
    import pikepdf

    # the page PDFs stay open until the edition is saved: qpdf copies their streams' data when it writes
    with pikepdf.open(io.BytesIO(pdf)) as document, contextlib.ExitStack() as sources:
        return _finished(document, sources, sections, rendered, pdf)


def _finished(document, sources: contextlib.ExitStack, sections, rendered: RenderedIssue, pdf: bytes) -> bytes:
    import pikepdf

    names = document.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return pdf
    dests = pikepdf.NameTree(names.Dests)
    pages = {page.objgen: index for index, page in enumerate(document.pages)}
    tagged = "/StructTreeRoot" in document.Root and "/ParentTree" in document.Root.StructTreeRoot
    alts = _vector_alts(rendered) if tagged else {}
    titles = {a.id: a.title for a in rendered.issue.articles}
    for section in sections:
        facsimile = section.facsimile
        dest = dests.get(f"fac-{section.id}")
        if dest is None:  # a theme's template without facsimile pages
            continue
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.D
        index = pages.get(dest[0].objgen)
        if index is None:
            continue
        page = document.pages[index]
        trim = [float(v) for v in page.obj.get("/TrimBox", page.mediabox)]
        width_mm = (trim[2] - trim[0]) / POINTS_PER_MM
        height_mm = (trim[3] - trim[1]) / POINTS_PER_MM
        left, top, width, height = facsimile.placed(width_mm, height_mm)
        box = (trim[0] + left * POINTS_PER_MM, trim[3] - (top + height) * POINTS_PER_MM,
               width * POINTS_PER_MM, height * POINTS_PER_MM)
        _shape_links(page, facsimile, box, titles)
        if facsimile.pdf is None:
            continue
        try:
            source = pikepdf.open(io.BytesIO(read_asset(None, facsimile.pdf, facsimile.pdf_root)))
        except Exception as exc:  # noqa: BLE001 - a page PDF that changed since it was read
            raise BackendError(f"page PDF {facsimile.pdf.name} cannot be read: {exc}") from None
        sources.enter_context(source)
        figure = _figure_of(document, page, alts.get(section.id)) if tagged else None
        _draw(document, page, source.pages[0], box, f"/BroadsheetPage{section.id}", figure)
    out = io.BytesIO()
    document.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _shape_links(page, facsimile, box: tuple[float, float, float, float], titles: dict[str, str]) -> None:
    """Give each region's link annotation (found by its target and its box) the region's quadrilaterals, and
    its article's title as its description (``/Contents``: what a screen reader says of the link)."""
    import pikepdf

    x, y, width, _ = box
    scale = width / facsimile.picture.width

    def to_page(px: float, py: float) -> tuple[float, float]:  # picture pixels (y down) → PDF points (y up)
        return x + px * scale, y + (facsimile.picture.height - py) * scale

    links = [a for a in page.obj.get("/Annots", []) if a.get("/Subtype") == "/Link" and "/Dest" in a]
    for region in facsimile.regions:
        x0, y0 = to_page(region.box[0], region.box[3])
        x1, y1 = to_page(region.box[2], region.box[1])
        match = next((a for a in links if str(a.Dest) == f"art-{region.article}" and "/QuadPoints" not in a
                      and all(abs(float(v) - w) < 1.0 for v, w in zip(_normal(a.Rect), (x0, y0, x1, y1)))), None)
        if match is None:
            continue
        quads = []
        for (ax, ay), (bx, by), (cx, cy), (dx, dy) in region_quads(region):
            for px, py in ((ax, ay), (bx, by), (dx, dy), (cx, cy)):  # upper left, upper right, lower left, lower right
                quads.extend(round(v, 3) for v in to_page(px, py))
        match.QuadPoints = pikepdf.Array(quads)
        if region.article in titles:
            match.Contents = pikepdf.String(titles[region.article])


def _normal(rect) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in rect)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


#: Slices a circle is cut into (each a trapezoid).
CIRCLE_SLICES = 12


def region_quads(region) -> list[tuple[tuple[float, float], ...]]:
    """The region as trapezoids, each (upper left, upper right, lower right, lower left) in the picture's pixels
    (y down): the polygon cut at each vertex's height (exact for any simple polygon), the circle in slices."""
    if region.shape == "rect":
        left, top, right, bottom = region.coords
        return [((left, top), (right, top), (right, bottom), (left, bottom))]
    if region.shape == "circle":
        cx, cy, r = region.coords
        out = []
        for n in range(CIRCLE_SLICES):
            y0, y1 = cy - r + 2 * r * n / CIRCLE_SLICES, cy - r + 2 * r * (n + 1) / CIRCLE_SLICES
            h0, h1 = (math.sqrt(max(r * r - (v - cy) ** 2, 0.0)) for v in (y0, y1))
            out.append(((cx - h0, y0), (cx + h0, y0), (cx + h1, y1), (cx - h1, y1)))
        return out
    points = region.points
    edges = list(zip(points, points[1:] + points[:1]))
    heights = sorted({p[1] for p in points})
    out = []
    for y0, y1 in zip(heights, heights[1:]):
        middle = (y0 + y1) / 2
        crossing = []
        for (ax, ay), (bx, by) in edges:
            if min(ay, by) < middle < max(ay, by):
                at = lambda v: ax + (bx - ax) * (v - ay) / (by - ay)  # noqa: E731 - x of the edge at height v
                crossing.append((at(middle), at(y0), at(y1)))
        crossing.sort()
        for (_, l0, l1), (_, r0, r1) in zip(crossing[0::2], crossing[1::2]):
            out.append(((l0, y0), (r0, y0), (r1, y1), (l1, y1)))
    return out


def _vector_alts(rendered: RenderedIssue) -> dict[str, str]:
    """Section id → the text alternative of its page PDF's box, as the print HTML gives it."""
    import lxml.html

    tree = lxml.html.fromstring(rendered.documents[0].content)
    alts = {}
    for box in tree.xpath("//div[starts-with(@id, 'fac-')]/div[contains(@class, 'facsimile-vector')]"):
        alts[box.getparent().get("id").removeprefix("fac-")] = box.get("aria-label") or ""
    return alts


def _figure_of(document, page, alt: str | None) -> int | None:
    """Make the empty structure element WeasyPrint gave the page PDF's box (the first childless ``/Div`` of
    the page) a ``/Figure`` with ``alt``; return the marked-content id its drawing takes, or None."""
    import pikepdf

    if alt is None or "/StructParents" not in page.obj:
        return None
    parents = pikepdf.NumberTree(document.Root.StructTreeRoot.ParentTree)
    key = int(page.obj.StructParents)
    marked = parents.get(key)
    if marked is None:
        return None
    element = _empty_div(document.Root.StructTreeRoot.K, page.obj.objgen)
    if element is None:
        return None
    mcid = len(marked)
    element.S = pikepdf.Name.Figure
    element.Alt = pikepdf.String(alt)
    element.K = pikepdf.Array([mcid])
    marked.append(element)
    return mcid


def _empty_div(node, page: tuple[int, int], depth: int = 0):
    """The first ``/Div`` structure element of ``page`` without children, depth first."""
    import pikepdf

    if depth > 64:
        return None
    if isinstance(node, pikepdf.Array):
        for child in node:
            found = _empty_div(child, page, depth + 1)
            if found is not None:
                return found
        return None
    if not isinstance(node, pikepdf.Dictionary) or "/S" not in node:
        return None
    kids = node.get("/K")
    if (node.S == "/Div" and "/Pg" in node and node.Pg.objgen == page
            and (kids is None or (isinstance(kids, pikepdf.Array) and len(kids) == 0))):
        return node
    return _empty_div(kids, page, depth + 1) if kids is not None else None


def _draw(document, page, source_page, box: tuple[float, float, float, float], name: str,
          mcid: int | None = None) -> None:
    """Draw ``source_page`` as a form XObject named ``name``, scaled to fit ``box`` (x, y, width, height in
    points) and centred: under a name of its own, so the bytes are the same from one build to the next.
    With ``mcid``, the drawing is marked content of that id (a ``/Figure``)."""
    import pikepdf

    form = document.copy_foreign(source_page.as_form_xobject())
    x0, y0, x1, y1 = (float(v) for v in source_page.mediabox)
    x, y, width, height = box
    scale = min(width / (x1 - x0), height / (y1 - y0))
    dx = x + (width - (x1 - x0) * scale) / 2 - x0 * scale
    dy = y + (height - (y1 - y0) * scale) / 2 - y0 * scale
    resources = page.obj.get("/Resources")
    if resources is None:
        resources = page.obj.Resources = pikepdf.Dictionary()
    else:  # the resources may be shared by other pages: this page gets its own copy
        resources = page.obj.Resources = pikepdf.Dictionary(resources)
    xobjects = pikepdf.Dictionary(resources.get("/XObject", pikepdf.Dictionary()))
    xobjects[name] = form
    resources.XObject = xobjects
    page.contents_add(document.make_stream(b"q\n"), prepend=True)
    drawing = f"q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm {name} Do Q"
    if mcid is not None:
        drawing = f"/Figure <</MCID {mcid}>> BDC {drawing} EMC"
    page.contents_add(document.make_stream(f"Q {drawing}\n".encode()), prepend=False)
