"""Booklet imposition: pages two-up on landscape sheets in saddle-stitch order.

Print the result duplex (flip on the short edge), fold the stack in half and staple on the
fold.  The page count is padded with blank pages to a multiple of four.  Each page is
placed by its TrimBox and clipped to it, so a bleed never spills onto its neighbour: it is
drawn as a form XObject (pikepdf, qpdf), whose bounding box is the page's TrimBox.
"""

from __future__ import annotations

import io


def sheet_order(count: int) -> list[tuple[int | None, int | None]]:
    """Return (left, right) 0-based page indices for each sheet side; None is a blank page."""
    padded = count + (-count) % 4
    sides = []
    for k in range(padded // 2):
        left, right = (padded - 1 - k, k) if k % 2 == 0 else (k, padded - 1 - k)
        sides.append(tuple(i if i < count else None for i in (left, right)))
    return sides


def impose_booklet(pdf: bytes) -> bytes:
    """Return the booklet PDF for ``pdf``."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, Rectangle, String

    source = pikepdf.Pdf.open(io.BytesIO(pdf))
    pages = list(source.pages)
    trim = Rectangle(pages[0].trimbox)
    width, height = trim.width, trim.height
    booklet = pikepdf.Pdf.new()
    for left, right in sheet_order(len(pages)):
        booklet.add_blank_page(page_size=(2 * width, height))
        sheet = booklet.pages[-1]
        content = b""
        for slot, index in ((0, left), (1, right)):
            if index is None:
                continue
            page = pages[index]
            form = booklet.copy_foreign(page.as_form_xobject())  # its /BBox is the page's TrimBox
            name = sheet.add_resource(form, Name.XObject, Name(f"/Page{index + 1}"))
            box = Rectangle(page.trimbox)
            # At its own size, the lower left corner of its TrimBox on the slot's.
            content += sheet.calc_form_xobject_placement(
                form, name, Rectangle(slot * width, 0, slot * width + box.width, box.height),
                allow_shrink=False, allow_expand=False)
        sheet.obj.Contents = booklet.make_stream(content)
        sheet.obj.TrimBox = Array([0, 0, 2 * width, height])
    info = {key: String(str(value)) for key, value in source.docinfo.items() if isinstance(value, String)}
    if info:
        booklet.docinfo = booklet.make_indirect(Dictionary(info))
    out = io.BytesIO()
    booklet.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()
