"""Page PDFs drawn on the facsimile pages: the printed page as vector graphics, not a picture.

Where a section's facsimile has a page PDF (a Founder site's ``…/XXRB2024060301.pdf``), the print
HTML leaves the picture's box empty (``facsimile-vector``) and this step draws the page PDF's first
page into it, scaled to fit and centred as the picture would have been (``Facsimile.placed``), with
pikepdf: the page's content becomes a form XObject of the finished PDF; nothing is rasterised.  The
facsimile page is found by its named destination ``fac-<section id>``; its link annotations stay.
"""

from __future__ import annotations

import io
import logging

from ...errors import BackendError
from ...rendered import RenderedIssue, read_asset

log = logging.getLogger("broadsheet")
POINTS_PER_MM = 72 / 25.4


def with_page_pdfs(pdf: bytes, rendered: RenderedIssue) -> bytes:
    """``pdf`` with each section's page PDF drawn on its facsimile page; unchanged when there is none."""
    sections = [s for s in rendered.issue.sections if s.facsimile is not None and s.facsimile.pdf is not None]
    if not sections:
        return pdf
    import pikepdf

    document = pikepdf.open(io.BytesIO(pdf))
    names = document.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return pdf
    dests = pikepdf.NameTree(names.Dests)
    pages = {page.objgen: index for index, page in enumerate(document.pages)}
    for section in sections:
        facsimile = section.facsimile
        dest = dests.get(f"fac-{section.id}")
        if dest is None:
            continue
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.D
        index = pages.get(dest[0].objgen)
        if index is None:
            continue
        try:
            source = pikepdf.open(io.BytesIO(read_asset(None, facsimile.pdf, facsimile.pdf_root)))
        except Exception as exc:  # noqa: BLE001 - a page PDF that changed since it was read
            raise BackendError(f"page PDF {facsimile.pdf.name} cannot be read: {exc}") from None
        page = document.pages[index]
        trim = [float(v) for v in page.obj.get("/TrimBox", page.mediabox)]
        width_mm = (trim[2] - trim[0]) / POINTS_PER_MM
        height_mm = (trim[3] - trim[1]) / POINTS_PER_MM
        left, top, width, height = facsimile.placed(width_mm, height_mm)
        box = (trim[0] + left * POINTS_PER_MM, trim[3] - (top + height) * POINTS_PER_MM,
               width * POINTS_PER_MM, height * POINTS_PER_MM)
        _draw(document, page, source.pages[0], box, f"/BroadsheetPage{section.id}")
    out = io.BytesIO()
    document.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _draw(document, page, source_page, box: tuple[float, float, float, float], name: str) -> None:
    """Draw ``source_page`` as a form XObject named ``name``, scaled to fit ``box`` (x, y, width, height in
    points) and centred: under a name of its own, so the bytes are the same from one build to the next."""
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
    page.contents_add(document.make_stream(
        f"Q q {scale:.6f} 0 0 {scale:.6f} {dx:.4f} {dy:.4f} cm {name} Do Q\n".encode()), prepend=False)
