"""Section-by-section PDF layout: parts laid out in parallel processes, one PDF assembled.

The print HTML marks its parts (``<!--broadsheet:part-->``): the front matter (title page and
contents) and each section, which opens on a page of known side (a recto).  Laid out on its
own, a section therefore breaks into exactly the pages it gets in the whole document; only
its folios depend on what comes before it.  So:

1. Each part is laid out in its own child process, at most ``jobs`` at a time, in order.
   Small sections are grouped into one part (``MIN_PART``), and a small edition is laid out
   whole (``MIN_SPLIT``): a part has a fixed cost.  How the edition is cut depends on the
   document alone, never on ``jobs``: the parts, their font subsets and so every byte of the
   PDF are the same whatever the number of processes.
2. When a child has made its pages, and before WeasyPrint draws the margin boxes, it reports
   how many pages it has and on which side it opens; the parent, which by then knows where
   the part before it ends, answers with the part's first page number.  The child draws its
   folios from there (the ``page`` counter is offset), writes its PDF and sends it back.
3. The contents are laid out last with their true page numbers written in (``data-page``);
   a first pass with three-digit placeholder numbers gave its page count.
4. The parent joins the pages with pikepdf (qpdf), puts blank pages where a section must open
   on a recto (drawn by WeasyPrint with the edition's own ``@page :blank`` rules, marks
   included), writes one outline and one table of named destinations, so the contents' links
   work, and embeds one subset of each font for all parts (``pdf_fonts``).
5. Laid-out parts are cached (``PartCache``): an edition edited in one article lays out only
   the part that holds it (and the contents, if their numbers moved).

A child only waits for parts before it, which started before it: no deadlock with any
number of jobs.  Layout holds one part per process at a time, so memory follows the largest
section, not the edition.  Themes whose page rules depend on the page's place in the whole
document (``@page :first``, ``:nth()``, ``counter(pages)``) and the PDF variants with a
single structure or output intent are laid out whole instead (``splittable``).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

log = logging.getLogger("broadsheet")

PART = "<!--broadsheet:part-->"
END = "<!--broadsheet:end-->"
#: Page rules that make a page's look depend on its place in the whole document.
WHOLE_DOCUMENT_CSS = re.compile(r":first\b|:nth\(|counter\(\s*pages\s*\)|counters\(\s*pages\b")
TOC_LINK = re.compile(r'<a href="#([^"]+)"')
#: A page before a forced ``right`` break is a blank left page, before a forced ``left`` one a
#: blank right page: pages 2 and 5 of this body.
BLANK_MAKER = ('<div></div><div style="break-before: right"></div><div style="break-before: left"></div>'
               '<div style="break-before: left"></div>')
BLANK_LEFT, BLANK_RIGHT = 1, 4


#: A part's fixed cost (a process, the stylesheets, the fonts) is about what laying out 8 KB of
#: sections costs: smaller sections are grouped into parts of at least this much HTML, and an
#: edition with less than MIN_SPLIT of sections is laid out whole.
MIN_PART = 16 * 1024
MIN_SPLIT = 64 * 1024

@dataclass
class Parts:
    head: str
    front: str
    sections: list[str]
    tail: str

    def document(self, body: str) -> str:
        return self.head + body + self.tail


def split_edition(html: str) -> Parts | None:
    """Cut the print HTML at its part markers; ``None`` when it has none (a theme's own template)."""
    if PART not in html or END not in html:
        return None
    head, _, rest = html.partition(PART)
    body, _, tail = rest.partition(END)
    front, *sections = body.split(PART)
    if not sections:
        return None
    return Parts(head=head, front=front, sections=sections, tail=tail)


def group_sections(sections: list[str], minimum: int = MIN_PART) -> list[str]:
    """Join consecutive sections into parts of at least ``minimum`` bytes (the last may be less)."""
    parts: list[str] = []
    current = ""
    for section in sections:
        current += section
        if len(current.encode()) >= minimum:
            parts.append(current)
            current = ""
    if current:
        if parts and len(current.encode()) < minimum // 2:
            parts[-1] += current
        else:
            parts.append(current)
    return parts


def splittable(variant: str | None, stylesheets: list[str], parts: Parts | None = None) -> str | None:
    """Return why this edition is laid out whole, or ``None`` when it is split.

    The answer depends on the document only (not on how many processes lay it out), so that
    ``--jobs`` never changes the PDF's bytes."""
    if variant:
        return f"{variant} wants one structure for the whole document"
    for css in stylesheets:
        found = WHOLE_DOCUMENT_CSS.search(css)
        if found:
            return f"the stylesheet uses {found.group(0).strip()!r}"
    if parts is not None:
        size = sum(len(section.encode()) for section in parts.sections)
        if size < MIN_SPLIT:
            return f"{size // 1024} KB of sections are laid out faster at once"
    return None


def with_page_numbers(front: str, pages: dict[str, int] | None, digits: int = 3) -> str:
    """Write the page of each link's target into the contents (``data-page``)."""
    def number(match: re.Match) -> str:
        target = match.group(1)
        value = "0" * digits if pages is None else pages.get(target)
        return match.group(0) if value is None else f'{match.group(0)} data-page="{value}"'

    return TOC_LINK.sub(number, front)


# -- the child side ----------------------------------------------------------------------------

class _Counted(Exception):
    """The parent wanted only the page count."""


def _offset_folios(connection) -> None:
    """Make WeasyPrint ask the parent for the first page number before it draws margin boxes."""
    import weasyprint.layout as layout

    original = layout.make_margin_boxes
    offset: list[int] = []

    def make_margin_boxes(context, page, state):
        if not offset:
            connection.send(("pages", len(context.page_maker) - 1, bool(context.page_maker[0][2])))
            first = connection.recv()
            if first < 0:
                raise _Counted
            offset.append(first - 1)
        if offset[0]:
            state = copy.deepcopy(state)
            counters = state[1]
            counters["page"] = [value + offset[0] for value in counters.get("page", [0])]
        return original(context, page, state)

    layout.make_margin_boxes = make_margin_boxes


def _lay_out(connection, memory_bytes: int, render: Callable, html: str, role: str, log_level: int) -> None:
    """Child process: lay out one part, report its pages, wait for its first folio, send the PDF.

    ``render(html, role, report)`` lays the part out and returns its PDF and a dict of facts
    about it ("bookmarks": WeasyPrint's bookmark tree, "fonts": the faces embedded); it calls
    ``report(anchors)`` before writing the PDF (the page of each anchor in the part).
    """
    from .sandbox import child_process

    with child_process(connection, memory_bytes, log_level):
        if role != "blank":
            _offset_folios(connection)
        try:
            pdf, meta = render(html, role, lambda anchors: connection.send(("anchors", anchors)))
        except _Counted:
            pdf, meta = b"", {}
        connection.send(("done", pdf, meta))


# -- the parent side ---------------------------------------------------------------------------

@dataclass
class _Job:
    index: int
    role: str  # "front" (page count only), "section", "contents", "blank"
    html: str | None  # None until ``prepare`` can make it
    key: str = ""
    prepare: Callable[[], str | None] | None = None
    pages: int | None = None
    right: bool | None = None
    start: int | None = None
    told: bool = False
    anchors: dict[str, int] | None = None
    pdf: bytes | None = None
    meta: dict = field(default_factory=dict)
    worker: object = None  # pdf_worker.Worker
    connection: object = None


class PartCache:
    """Laid-out parts on disk (``folder``), addressed by what they are made of and where they start.

    A part's key covers its HTML, the pictures it names, and ``salt`` (versions, options,
    stylesheets, installed fonts).  Its shape (page count, first side) is stored apart from
    its PDF, which depends on the first page number too.  ``folder=None`` turns it off.

    Every entry (shape, PDF, metadata, font subset) is stored sealed with the SHA-256 of its
    name and bytes (``render.cache.seal``): flipped bytes, an edited entry or another part's
    entry copied over it is a miss, laid out again with a ``-v`` note.  The folder is used only
    through :class:`~broadsheet.output.CacheFolder` (no links followed, only its own entries
    removed).
    """

    NAMES = re.compile(r"(?:font-[0-9a-f]{64}\.bin|[0-9a-f]{64}(?:-[0-9]+\.(?:pdf|json)|\.json))")

    def __init__(self, folder: Path | None, salt: str, assets: dict[str, bytes] | None = None) -> None:
        from ..output import CacheFolder

        self.folder = folder
        self.disk = CacheFolder(folder, self.NAMES) if folder is not None else None
        self.salt = salt
        self.assets = {name: hashlib.sha256(data).digest() for name, data in (assets or {}).items()}
        self.used: set[str] = set()  # names of the entries this build read
        self.pending: dict[str, bytes] = {}

    def key(self, html: str, role: str) -> str:
        digest = hashlib.sha256(f"{self.salt}\0{role}\0{html}".encode())
        for name in sorted(self.assets):
            if name in html:
                digest.update(f"\0{name}\0".encode() + self.assets[name])
        return digest.hexdigest()

    def _read(self, name: str) -> bytes | None:
        if self.disk is None:
            return None
        from ..render.cache import unseal

        data = unseal(name, self.disk.read(name), self.folder)
        if data is not None:
            self.used.add(name)
        return data

    def shape(self, key: str) -> tuple[int, bool] | None:
        data = self._read(f"{key}.json")
        try:
            shape = json.loads(data)
            return int(shape["pages"]), bool(shape["right"])
        except (TypeError, ValueError, KeyError):
            return None

    def load(self, job: _Job) -> bool:
        """Fill ``job`` from the cache: its PDF, bookmarks and anchors at its first page."""
        shape = self.shape(job.key)
        pdf = self._read(f"{job.key}-{job.start}.pdf")
        meta = self._read(f"{job.key}-{job.start}.json")
        if shape is None or pdf is None or meta is None or not pdf.startswith(b"%PDF-") or b"%%EOF" not in pdf[-64:]:
            return False
        try:
            data = json.loads(meta)
            job.anchors = dict(data.pop("anchors"))
            data["bookmarks"] = _tuples(data.get("bookmarks", []))
            job.meta = data
        except (TypeError, ValueError, KeyError, AttributeError):
            return False
        job.pdf = pdf
        job.pages, job.right = shape
        return True

    def store(self, job: _Job) -> None:
        """Keep ``job``'s shape and PDF, to be written when the build has succeeded."""
        if self.folder is None or not job.key:
            return
        self.stage(f"{job.key}.json", json.dumps({"pages": job.pages, "right": job.right}).encode())
        if job.pdf:
            meta = {**job.meta, "anchors": job.anchors or {}}
            self.stage(f"{job.key}-{job.start}.json", json.dumps(meta).encode())
            self.stage(f"{job.key}-{job.start}.pdf", job.pdf)

    def stage(self, name: str, data: bytes) -> None:
        if self.folder is not None:
            self.pending[name] = data

    def read(self, name: str) -> bytes | None:
        """A file of the cache (or staged for it) by name; ``None`` when there is none."""
        return self.pending.get(name) or self._read(name)

    def commit(self, days: float = 30) -> None:
        """Once the PDF is made: write what this build laid out, touch what it used, and remove
        what no build has used for ``days`` (a failed build leaves nothing behind)."""
        if self.disk is not None:
            from ..render.cache import seal

            self.disk.commit({name: seal(name, data) for name, data in self.pending.items()}, self.used, days)
        self.pending.clear()


def _tuples(bookmarks: list) -> list:
    return [(label, tuple(target), _tuples(children), state) for label, target, children, state in bookmarks]


class Scheduler:
    """Run the parts' layouts, at most ``jobs`` at once, and number their pages in order.

    ``flow`` are the parts in document order from page 1; ``extra`` are parts outside the
    numbering (the contents, which are made once the sections' anchors are known, and the
    blank pages).  Parts start in order; one whose shape is cached needs no process to be
    numbered, so it is started only once its first page is known, and only if its PDF is
    not cached as well.
    """

    def __init__(self, render: Callable, jobs: int, timeout: float, memory_mb: int, cache: PartCache) -> None:
        self.render = render
        self.jobs = max(1, jobs)
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.memory_bytes = memory_mb * 2**20
        self.cache = cache
        self.laid_out = 0

    def run(self, flow: list[_Job], extra: tuple[_Job, ...] = ()) -> None:
        waiting = [*flow, *extra]
        running: list[_Job] = []
        for job in flow:
            if (shape := self.cache.shape(job.key)) is not None:
                job.pages, job.right = shape
        try:
            while waiting or running:
                self._number(flow)
                for job in list(waiting):
                    if job.html is None and job.prepare is not None and (html := job.prepare()) is not None:
                        job.html, job.key = html, self.cache.key(html, job.role)
                    if job.html is None:
                        continue
                    if job.role == "front" and job.pages is not None:
                        waiting.remove(job)  # its page count is all that is wanted, and it is known
                    elif job.start is not None and self.cache.load(job):
                        waiting.remove(job)
                startable = [job for job in waiting if job.html is not None
                             and (job.pages is None or job.start is not None)]
                while startable and len(running) < self.jobs:
                    job = startable.pop(0)
                    waiting.remove(job)
                    self._start(job)
                    running.append(job)
                if not running:
                    if waiting:  # a part waits for nothing that could still come
                        raise RuntimeError("layout parts left waiting: " + ", ".join(j.role for j in waiting))
                    break
                remaining = self.deadline - time.monotonic()
                ready = wait([job.connection for job in running], timeout=max(0, remaining))
                if not ready:
                    raise TimeoutError(f"took longer than {self.timeout:g} s")
                for connection in ready:
                    job = next(j for j in running if j.connection is connection)
                    if self._receive(job):
                        running.remove(job)
                        self._stop(job)
                self._number(flow)
                for job in running:
                    if job.pages is not None and job.start is not None and not job.told:
                        job.connection.send(-1 if job.role == "front" else job.start)
                        job.told = True
        finally:
            for job in running:
                self._stop(job)

    def _number(self, flow: list[_Job]) -> None:
        """Give each part whose predecessors are placed its first page; a blank page goes before
        a section that would otherwise open on the wrong side."""
        previous_end = 0
        first_right = None
        for job in flow:
            if job.pages is None:
                return
            if first_right is None:
                first_right = job.right
            if job.start is None:
                start = previous_end + 1
                if job.role == "section" and _right(start, first_right) != job.right:
                    start += 1
                job.start = start
            previous_end = job.start + job.pages - 1

    def _start(self, job: _Job) -> None:
        from .pdf_worker import start

        level = logging.getLogger("broadsheet").getEffectiveLevel()
        job.worker = start(_lay_out, self.memory_bytes, self.render, job.html, job.role, level)
        job.connection = job.worker.connection
        self.laid_out += 1

    def _receive(self, job: _Job) -> bool:
        """Read one message from ``job``'s child; return True when the child is finished."""
        try:
            message = job.connection.recv()
        except EOFError:
            raise RuntimeError("the layout process died") from None
        from .pdf_worker import tell

        if tell(message):
            return False
        if message[0] == "pages":
            _, job.pages, job.right = message
            return False
        if message[0] == "anchors":
            job.anchors = message[1]
            return False
        if message[0] == "error":
            raise RuntimeError(message[1])
        _, job.pdf, job.meta = message
        self.cache.store(job)
        return True

    @staticmethod
    def _stop(job: _Job) -> None:
        if job.worker is not None:
            job.worker.stop()


def _right(page: int, first_right: bool) -> bool:
    """Whether page ``page`` is a right-hand page, page 1 being one if ``first_right``."""
    return first_right if page % 2 else not first_right


class Repaginate(Exception):
    """The contents changed length once their page numbers were written in."""


def lay_out_in_parts(parts: Parts, render: Callable, jobs: int, timeout: float, memory_mb: int,
                     cache: PartCache) -> tuple[bytes, int, int]:
    """Lay the parts out and join them; return the PDF, how many parts were laid out anew and
    how many there were.  ``render(html, role, report)`` runs in the layout processes: it is
    pickled (see ``_lay_out``).  What was laid out is staged in ``cache``: the caller commits it
    once the PDF is written, so a build that fails to write it leaves no cache behind."""
    scheduler = Scheduler(render, jobs, timeout, memory_mb, cache)

    def job(index: int, role: str, body: str) -> _Job:
        html = parts.document(body)
        return _Job(index=index, role=role, html=html, key=cache.key(html, role))

    front = job(0, "front", with_page_numbers(parts.front, None))
    sections = [job(i + 1, "section", body) for i, body in enumerate(group_sections(parts.sections))]
    blank = job(-1, "blank", BLANK_MAKER)
    blank.pages, blank.right, blank.start = 0, False, 0

    def contents_html() -> str | None:
        if any(s.start is None or s.anchors is None for s in sections):
            return None
        pages: dict[str, int] = {}
        for section in sections:
            for name, page in section.anchors.items():
                pages.setdefault(name, section.start + page)
        return parts.document(with_page_numbers(parts.front, pages))

    contents = _Job(index=len(sections) + 1, role="contents", html=None, prepare=contents_html, start=1)
    scheduler.run([front, *sections], extra=(contents, blank))
    if contents.pages != front.pages:
        raise Repaginate(f"the contents took {contents.pages} pages with their numbers, {front.pages} without")
    pdf = assemble(contents, sections, blank, cache)
    return pdf, scheduler.laid_out, len(sections) + 3


# -- assembling --------------------------------------------------------------------------------

def assemble(contents: _Job, sections: list[_Job], blank: _Job, cache: PartCache | None = None) -> bytes:
    """Join the parts' pages, blank pages between them, one outline and one name tree (qpdf)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.Pdf.new()
    sources: list[tuple[_Job, pikepdf.Pdf, int]] = []  # each part, its PDF, its first page index

    def append(job: _Job) -> None:
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
            pdf.pages.append(blanks.pages[BLANK_RIGHT if _right(len(pdf.pages) + 1, contents.right) else BLANK_LEFT])
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

    from .pdf_fonts import share_font_programs

    ends = [first for _, _, first in sources[1:]] + [len(pdf.pages)]
    share_font_programs(pdf, [(list(pdf.pages)[first:end], job.meta.get("fonts", {}))
                              for (job, _, first), end in zip(sources, ends)], cache)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def _shift(bookmarks: list, first: int) -> list:
    return [(label, (page + first, x, y), _shift(children, first), state)
            for label, (page, x, y), children, state in bookmarks]
