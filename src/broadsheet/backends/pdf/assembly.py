"""The laid-out parts joined into one PDF with pikepdf (qpdf).

Blank pages go where a section must open on a recto (drawn by WeasyPrint with the edition's
own ``@page :blank`` rules, marks included); the PDF gets one outline and one table of named
destinations, so the contents' links work, and one subset of each font for all parts
(``fonts``).
"""

from __future__ import annotations

import io
import warnings

from .cache import PartCache
from .fonts import share_font_programs
from .parts import BLANK_LEFT, BLANK_RIGHT, Job, right_hand


def assemble(contents: Job, sections: list[Job], blank: Job, cache: PartCache | None = None) -> bytes:
    """Join the parts' pages, blank pages between them, one outline and one name tree (qpdf)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.Pdf.new()
    sources: list[tuple[Job, pikepdf.Pdf, int]] = []  # each part, its PDF, its first page index

    def append(job: Job) -> None:
        source = pikepdf.Pdf.open(io.BytesIO(job.pdf))
        sources.append((job, source, len(pdf.pages)))
        with warnings.catch_warnings():  # named destinations are rebuilt below
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning if hasattr(pikepdf, "PageCopyWarning")
                                  else UserWarning)
            pdf.pages.extend(source.pages)

    blanks = pikepdf.Pdf.open(io.BytesIO(blank.pdf)) if blank.pdf else None
    append(contents)
    for section in sections:
        while len(pdf.pages) + 1 < section.start:
            pdf.pages.append(blanks.pages[BLANK_RIGHT if right_hand(len(pdf.pages) + 1, contents.right) else BLANK_LEFT])
        append(section)

    front = sources[0][1]
    pdf.docinfo = pdf.make_indirect(Dictionary({key: value for key, value in front.docinfo.items()}))
    if Name.Lang in front.Root:
        pdf.Root.Lang = String(str(front.Root.Lang))

    # Named destinations: the first anchor of each name wins, the sections' before the stand-ins
    # of the contents (which point at anchors that live in the sections).
    destinations: dict[str, Array] = {}
    for job, source, first in sources[1:] + sources[:1]:
        index = {page.objgen: i for i, page in enumerate(source.pages)}
        names = source.Root.get(Name.Names)
        dests = names.get(Name.Dests) if names is not None else None
        array = dests.get(Name.Names, Array()) if dests is not None else Array()
        for i in range(0, len(array), 2):
            name, destination = str(array[i]), array[i + 1]
            if name in destinations:
                continue
            page = pdf.pages[first + index[destination[0].objgen]]
            destinations[name] = Array([page.obj, *list(destination)[1:]])
    if destinations:
        array = Array()
        for name in sorted(destinations):
            array.append(String(name))
            array.append(destinations[name])
        pdf.Root.Names = Dictionary(Dests=Dictionary(Names=array))

    # One outline, as WeasyPrint writes it for a whole document.
    bookmarks = []
    for job, _, first in sources:
        bookmarks.extend(_shift(job.meta.get("bookmarks", []), first))

    def add(items, parent):
        count = len(items)
        outlines = []
        for title, (page, x, y), children, state in items:
            outline = pdf.make_indirect(Dictionary(
                Title=String(title), Dest=Array([pdf.pages[page].obj, Name.XYZ, x, y, 0])))
            child_outlines, child_count = add(children, outline)
            outline.Count = -child_count if state == "closed" else child_count
            if state != "closed":
                count += child_count
            if outlines:
                outline.Prev = outlines[-1]
                outlines[-1].Next = outline
            if child_outlines:
                outline.First = child_outlines[0]
                outline.Last = child_outlines[-1]
            if parent is not None:
                outline.Parent = parent
            outlines.append(outline)
        return outlines, count

    if bookmarks:
        top, count = add(bookmarks, None)
        root = pdf.make_indirect(Dictionary(Count=count, First=top[0], Last=top[-1]))
        for outline in top:
            outline.Parent = root
        pdf.Root.Outlines = root

    ends = [first for _, _, first in sources[1:]] + [len(pdf.pages)]
    share_font_programs(pdf, [(list(pdf.pages)[first:end], job.meta.get("fonts", {}))
                              for (job, _, first), end in zip(sources, ends)], cache)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _shift(bookmarks: list, first: int) -> list:
    return [(label, (page + first, x, y), _shift(children, first), state)
            for label, (page, x, y), children, state in bookmarks]
