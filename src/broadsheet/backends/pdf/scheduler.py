"""Section-by-section PDF layout: parts laid out in parallel processes, one PDF assembled.

The print HTML marks its parts (``<!--broadsheet:part-->``): the front matter (title page and
contents) and each section, which opens on a page of known side (a recto).  Laid out on its
own, a section therefore breaks into exactly the pages it gets in the whole document; only
its folios depend on what comes before it.  So:

1. Each part (``parts``) is laid out in its own child process (``layout``), at most ``jobs``
   at a time, in order.  How the edition is cut depends on the document alone, never on
   ``jobs``: the parts, their font subsets and so every byte of the PDF are the same whatever
   the number of processes.
2. When a child has made its pages, and before WeasyPrint draws the margin boxes, it reports
   how many pages it has and on which side it opens; the parent, which by then knows where
   the part before it ends, answers with the part's first page number.  The child draws its
   folios from there (the ``page`` counter is offset), writes its PDF and sends it back.
3. The contents are laid out last with their true page numbers written in (``data-page``);
   a first pass with three-digit placeholder numbers gave its page count.
4. The parent joins the pages (``assembly``).
5. Laid-out parts are cached (``cache.PartCache``): an edition edited in one article lays out
   only the part that holds it (and the contents, if their numbers moved).

A child only waits for parts before it, which started before it: no deadlock with any
number of jobs.  Layout holds one part per process at a time, so memory follows the largest
section, not the edition.  Themes whose page rules depend on the page's place in the whole
document (``@page :first``, ``:nth()``, ``counter(pages)``) and the PDF variants with a
single structure or output intent are laid out whole instead (``parts.splittable``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from multiprocessing.connection import wait

from ..processes import start, tell
from .assembly import assemble
from .cache import PartCache
from .layout import PRELOAD, lay_out
from .parts import BLANK_MAKER, Job, Parts, group_sections, right_hand, with_page_numbers

log = logging.getLogger("broadsheet")


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

    def run(self, flow: list[Job], extra: tuple[Job, ...] = ()) -> None:
        waiting = [*flow, *extra]
        running: list[Job] = []
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

    def _number(self, flow: list[Job]) -> None:
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
                if job.role == "section" and right_hand(start, first_right) != job.right:
                    start += 1
                job.start = start
            previous_end = job.start + job.pages - 1

    def _start(self, job: Job) -> None:
        level = logging.getLogger("broadsheet").getEffectiveLevel()
        job.worker = start(PRELOAD, lay_out, self.memory_bytes, self.render, job.html, job.role, level)
        job.connection = job.worker.connection
        self.laid_out += 1

    def _receive(self, job: Job) -> bool:
        """Read one message from ``job``'s child; return True when the child is finished."""
        try:
            message = job.connection.recv()
        except EOFError:
            raise RuntimeError("the layout process died") from None
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
    def _stop(job: Job) -> None:
        if job.worker is not None:
            job.worker.stop()


class Repaginate(Exception):
    """The contents changed length once their page numbers were written in."""


def lay_out_in_parts(parts: Parts, render: Callable, jobs: int, timeout: float, memory_mb: int,
                     cache: PartCache) -> tuple[bytes, int, int]:
    """Lay the parts out and join them; return the PDF, how many parts were laid out anew and
    how many there were.  ``render(html, role, report)`` runs in the layout processes: it is
    pickled (see ``layout.lay_out``).  What was laid out is staged in ``cache``: the caller commits it
    once the PDF is written, so a build that fails to write it leaves no cache behind."""
    scheduler = Scheduler(render, jobs, timeout, memory_mb, cache)

    def job(index: int, role: str, body: str) -> Job:
        html = parts.document(body)
        return Job(index=index, role=role, html=html, key=cache.key(html, role))

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

    contents = Job(index=len(sections) + 1, role="contents", html=None, prepare=contents_html, start=1)
    scheduler.run([front, *sections], extra=(contents, blank))
    if contents.pages != front.pages:
        raise Repaginate(f"the contents took {contents.pages} pages with their numbers, {front.pages} without")
    pdf = assemble(contents, sections, blank, cache)
    return pdf, scheduler.laid_out, len(sections) + 3
