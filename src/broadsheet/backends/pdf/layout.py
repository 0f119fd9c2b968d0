"""What a PDF layout process runs: light to import (WeasyPrint is imported by the zygote, which
preloads ``preload``, see ``processes``), and picklable (module-level functions and plain
settings), so that a layout process needs neither the configuration nor the renderer, nor the
scheduler that hands out its work.

``render_whole`` lays out the whole print HTML; ``lay_out`` runs ``render_part`` for one part
of it, with WeasyPrint patched to ask the parent for the part's first page number before it
draws the folios (``scheduler``).

``settings`` is a dict: ``grayscale`` (bool), ``bleed_pt`` (the bleed in points, for the
BleedBox), ``variant`` (a WeasyPrint PDF variant or None).
"""

from __future__ import annotations

import copy
import gc
import logging
from collections.abc import Callable

from ..processes import child_process
from .fetcher import BASE_URL, asset_fetcher

#: The module a layout process's zygote imports first (``processes.warm_up``).
PRELOAD = "broadsheet.backends.pdf.preload"
MIN_DPI = 150
PT_PER_MM = 72 / 25.4
log = logging.getLogger("broadsheet")


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

    from . import justify, leaders, stylesheets

    justify.install()
    leaders.install()
    stylesheets.install()
    fetcher = asset_fetcher(assets, settings["grayscale"])
    laid_out = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    check_resolution(laid_out, pictures)
    return laid_out.write_pdf(uncompressed_pdf=False, custom_metadata=False, pdf_identifier=False,
                              pdf_variant=settings["variant"], finisher=bleed_finisher(settings["bleed_pt"]))


def warm_up() -> None:
    """Lay out and write a one-word document once, so that every layout process forked after it finds
    fontconfig, Pango and the PDF writer set up (about 0.03 s of processor time a process, for 0.045 s
    once; a document under the shipped stylesheets in both scripts saved 0.05 s a process for 0.33 s
    once).  What it sets up is state no document's layout or bytes depend on."""
    import weasyprint

    weasyprint.HTML(string='<p style="font-family: serif">a</p>', base_url=BASE_URL,
                    url_fetcher=asset_fetcher({}, False)).render().write_pdf()


def render_part(settings: dict, pictures: dict, assets: dict, html: str, role: str, parent):
    """Lay out one part (in its own process); return its PDF and its bookmarks and faces.

    ``parent.anchors(dict)`` is given the page of each anchor as soon as the part is laid out.
    The contents then ask ``parent.page_numbers()`` for the page of each entry's target and
    write them over their placeholders (``contents.fill_in``); ``None`` means they are
    written in already.  If they cannot be written in without a new layout, the part is
    ``Stale``."""
    import weasyprint

    from . import justify, leaders, stylesheets
    from .contents import fill_in
    from .fonts import defer_font_programs
    from .parts import PLACEHOLDER

    justify.install()
    leaders.install()
    stylesheets.install()
    faces = defer_font_programs()
    fetcher = asset_fetcher(assets, settings["grayscale"])
    laid_out = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render()
    anchors: dict[str, int] = {}
    for number, page in enumerate(laid_out.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
    parent.anchors(anchors)
    if role == "section":
        check_resolution(laid_out, pictures)
    if role == "contents":
        pages = parent.page_numbers()
        if pages is not None and not fill_in(laid_out, pages, PLACEHOLDER):
            raise Stale
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


# -- one part of an edition ------------------------------------------------------------------

class Stale(Exception):
    """The contents' page numbers cannot be written in without laying them out again."""


class _Parent:
    """What a layout process tells its parent about its part, and asks it."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def anchors(self, anchors: dict[str, int]) -> None:
        self.connection.send(("anchors", anchors))

    def page_numbers(self) -> dict[str, int] | None:
        self.connection.send(("numbers",))
        return self.connection.recv()


class _Folios:
    """WeasyPrint patched (once in a process) to ask the parent for a part's first page number
    before it draws the margin boxes, and to draw the folios from there."""

    def __init__(self, connection) -> None:
        import weasyprint.layout as layout

        self.asking = False
        self.offset: int | None = None
        original = layout.make_margin_boxes

        def make_margin_boxes(context, page, state):
            if not self.asking:
                return original(context, page, state)
            if self.offset is None:
                connection.send(("pages", len(context.page_maker) - 1, bool(context.page_maker[0][2])))
                self.offset = connection.recv() - 1
            if self.offset:
                state = copy.deepcopy(state)
                counters = state[1]
                counters["page"] = [value + self.offset for value in counters.get("page", [0])]
            return original(context, page, state)

        layout.make_margin_boxes = make_margin_boxes

    def part(self, role: str) -> None:
        """A new part: its first page number not known yet (the blank pages have no folios)."""
        self.asking = role != "blank"
        self.offset = None


def lay_out(connection, memory_bytes: int, render: Callable, html: str, role: str, log_level: int) -> None:
    """Child process: lay out one part, report its pages, wait for its first folio, send the PDF;
    then wait for the next part (``(html, role)``) and do the same, until told to end (``None``,
    or the pipe closed).  A process that lays out part after part pays its start once, and finds
    its caches warm (fontconfig's and Pango's, the faces found on disk).

    ``render(html, role, parent)`` lays the part out and returns its PDF and a dict of facts
    about it ("bookmarks": WeasyPrint's bookmark tree, "fonts": the faces embedded); it calls
    ``parent.anchors(anchors)`` before writing the PDF (the page of each anchor in the part)
    and, for the contents, ``parent.page_numbers()``.  Contents that must be laid out again
    with their numbers send ``("stale",)`` instead of a PDF, and the process ends.
    """
    with child_process(connection, memory_bytes, log_level):
        folios = _Folios(connection)
        while True:
            folios.part(role)
            try:
                pdf, meta = render(html, role, _Parent(connection))
            except Stale:
                connection.send(("stale",))
                return
            connection.send(("done", pdf, meta))
            try:
                following = connection.recv()
            except EOFError:
                return
            if following is None:
                return
            html, role = following
            # The last part's boxes hold one another in cycles: freed now, not at the collector's next
            # full pass, so that a process holds one part's layout at a time, as a fresh one does.
            gc.collect()
