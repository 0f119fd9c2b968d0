"""Booklet imposition: pages two-up on landscape sheets in saddle-stitch order.

Print the result duplex (flip on the short edge), fold the stack in half and staple on the
fold.  The page count is padded with blank pages to a multiple of four.  Each page is
placed by its TrimBox and clipped to it, so a bleed never spills onto its neighbour.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import ContentStream, FloatObject, NameObject, RectangleObject


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
    reader = PdfReader(io.BytesIO(pdf))
    source = PdfWriter(clone_from=reader)
    pages = list(source.pages)
    trim = pages[0].trimbox
    width, height = float(trim.width), float(trim.height)
    writer = PdfWriter()
    for left, right in sheet_order(len(pages)):
        sheet = writer.add_blank_page(width=2 * width, height=height)
        for slot, index in ((0, left), (1, right)):
            if index is None:
                continue
            page = pages[index]
            box = page.trimbox
            content = ContentStream(page.get_contents(), source)
            clip = [FloatObject(v) for v in (box.left, box.bottom, box.width, box.height)]
            content.operations[0:0] = [(clip, b"re"), ([], b"W"), ([], b"n")]
            page.replace_contents(content)
            offset = Transformation().translate(slot * width - float(box.left), -float(box.bottom))
            sheet.merge_transformed_page(page, offset)
        sheet[NameObject("/TrimBox")] = RectangleObject((0, 0, 2 * width, height))
    if reader.metadata:
        writer.add_metadata({k: v for k, v in reader.metadata.items() if isinstance(v, str)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
