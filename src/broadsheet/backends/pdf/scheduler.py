"""Section-by-section PDF layout: parts laid out in parallel processes, one PDF assembled.

The print HTML marks its parts (``<!--broadsheet:part-->``): the front matter (title page and
contents) and each section, which opens on a page of known side (a recto).  Laid out on its
own, a section therefore breaks into exactly the pages it gets in the whole document; only
its folios depend on what comes before it.  So:

1. Each part (``parts``) is laid out in a child process (``layout``), at most ``jobs`` at a
   time, in order; a process done with a small part is handed the next one (it pays its
   start once and keeps its caches warm, ``parts.REUSE_BYTES``), and ends when no part is
   left to start.  How the edition is cut depends on the document alone, never on
   ``jobs``: the parts, their font subsets and so every byte of the PDF are the same whatever
   the number of processes.
2. When a child has made its pages, and before WeasyPrint draws the margin boxes, it reports
   how many pages it has and on which side it opens; the parent, which by then knows where
   the part before it ends, answers with the part's first page number.  The child draws its
   folios from there (the ``page`` counter is offset), writes its PDF and sends it back.
3. The front matter (title page and contents) is the first part, laid out at the same time
   as the sections with a placeholder for each page number (``parts.PLACEHOLDER``): its page
   count, and so every section's first page, is known as soon as it is laid out.  It then
   waits, idle and not counted among the ``jobs``, until the sections have told on which
   pages their anchors fall, and writes the numbers over the placeholders before drawing
   (``contents.fill_in``).  Should an entry need a new layout for its number (a title that
   wraps, say), the contents are laid out again with their numbers written in; if that
   changes their page count, the edition is laid out whole (``Repaginate``).
4. The parent joins the pages (``assembly``).
5. Laid-out parts are cached (``cache.PartCache``): an edition edited in one article lays out
   only the part that holds it (and the contents, if their numbers moved; their page count
   is cached apart, so the sections need not wait for them).

A child only waits for parts before it, which started before it, or, for the contents, for
sections that need no free place to run: no deadlock with any number of jobs.  Layout holds one part per process at a time, so memory follows the largest
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
from .parts import BLANK_MAKER, REUSE_BYTES, Job, Parts, group_sections, right_hand, with_page_numbers

log = logging.getLogger("broadsheet")


class Scheduler:
    """Run the parts' layouts, at most ``jobs`` at once, and number their pages in order.

    ``flow`` are the parts in document order from page 1, the contents first; ``extra`` are
    parts outside the numbering (the blank pages).  Parts start in order; one whose shape is
    cached needs no process to be numbered, so it is started only once its first page is
    known, and only if its PDF is not cached as well.  The contents ask for their page
    numbers (``Job.answer``) once laid out, and are answered when the sections are placed;
    cached contents wait for their numbers (``Job.final``) before their PDF is looked up.
    """

    def __init__(self, render: Callable, jobs: int, timeout: float, memory_mb: int, cache: PartCache) -> None:
        self.render = render
        self.jobs = max(1, jobs)
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.memory_bytes = memory_mb * 2**20
        self.cache = cache
        self.laid_out = 0
        self.contents: Job | None = None  # the contents laid out again with their numbers
        self.idle: list = []  # layout processes done with their part, ready for the next (processes.Worker)
        self.carried: dict[int, int] = {}  # bytes of HTML each process (by pid) has been given

    def run(self, flow: list[Job], extra: tuple[Job, ...] = ()) -> None:
        waiting = [*flow, *extra]
        running: list[Job] = []
        deferred: set[int] = set()  # contents whose page count is cached: made once their numbers are known
        for job in flow:
            if (shape := self.cache.shape(job.key)) is not None:
                job.pages, job.right = shape
                if job.role == "contents":
                    deferred.add(id(job))
        try:
            while waiting or running:
                self._number(flow)
                before = len(waiting)
                for job in list(waiting):
                    if job.html is None and job.prepare is not None and (html := job.prepare()) is not None:
                        job.html, job.key = html, self.cache.key(html, job.role)
                    if job.html is None:
                        continue
                    if id(job) in deferred:
                        if (final := job.final()) is None:
                            continue
                        deferred.discard(id(job))
                        if self._load_contents(job, final):
                            waiting.remove(job)
                    elif job.role != "contents" and job.start is not None and self.cache.load(job):
                        waiting.remove(job)
                startable = [job for job in waiting if job.html is not None and id(job) not in deferred
                             and (job.pages is None or job.start is not None)]
                self._tell(running)
                while startable and sum(not job.asking for job in running) < self.jobs:
                    job = startable.pop(0)
                    waiting.remove(job)
                    self._start(job)
                    running.append(job)
                if not startable:  # nothing to hand them now: no process is kept beyond those running
                    self._retire()
                if not running:
                    if len(waiting) < before:  # parts came from the cache: others may follow from them
                        continue
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
                        if job.pdf is not None and self.carried[job.worker.pid] < REUSE_BYTES:
                            self.idle.append(job.worker)  # it waits for another part
                            job.worker = None
                        self._stop(job)
                        if job.pdf is None:  # stale contents: again, with their numbers written in
                            self.contents = Job(index=job.index, role="contents", html=job.final(), start=1,
                                                answer=lambda: (True, None))
                            self.contents.key = self.cache.key(self.contents.html, "contents")
                            waiting.append(self.contents)
                self._number(flow)
                self._tell(running)
        finally:
            for job in running:
                self._stop(job)
            self._retire()

    @staticmethod
    def _tell(running: list[Job]) -> None:
        """Answer the children that wait: each its first page number, the contents their page numbers."""
        for job in running:
            if job.pages is not None and job.start is not None and not job.told:
                job.connection.send(job.start)
                job.told = True
            if job.asking and (answer := job.answer())[0]:
                job.connection.send(answer[1])
                job.asking = False

    def _load_contents(self, job: Job, final: str) -> bool:
        """Fill ``job`` with the contents PDF cached for the page numbers ``final`` holds."""
        cached = Job(index=job.index, role="contents", html=final, key=self.cache.key(final, "contents"), start=1)
        if not self.cache.load(cached):
            return False
        job.pdf, job.meta, job.anchors, job.key = cached.pdf, cached.meta, cached.anchors, cached.key
        return True

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
        """Hand ``job`` to a process done with its last part, or to a new one."""
        while self.idle:
            worker = self.idle.pop()
            try:
                worker.connection.send((job.html, job.role))
            except OSError:  # it ended meanwhile
                worker.stop()
                continue
            job.worker = worker
            break
        else:
            level = logging.getLogger("broadsheet").getEffectiveLevel()
            job.worker = start(PRELOAD, lay_out, self.memory_bytes, self.render, job.html, job.role, level)
        job.connection = job.worker.connection
        self.carried[job.worker.pid] = self.carried.get(job.worker.pid, 0) + len(job.html.encode())
        self.laid_out += 1

    def _retire(self) -> None:
        """End the processes that wait for a part."""
        while self.idle:
            self.idle.pop().stop()

    def _receive(self, job: Job) -> bool:
        """Read one message from ``job``'s child; return True when the child is finished (a
        contents part that must be laid out again has no PDF)."""
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
        if message[0] == "numbers":
            job.asking = True
            return False
        if message[0] == "stale":
            log.info("the contents are laid out again, their page numbers written in")
            return True
        if message[0] == "error":
            raise RuntimeError(message[1])
        _, job.pdf, job.meta = message
        if job.role == "contents" and job.final is not None:  # its PDF goes with its numbers
            self.cache.store_shape(job)
            job.key = self.cache.key(job.final(), "contents")
        self.cache.store(job)
        return True

    @staticmethod
    def _stop(job: Job) -> None:
        if job.worker is not None:
            job.worker.stop()


class Repaginate(Exception):
    """The contents changed length once their page numbers were written in."""


def lay_out_in_parts(parts: Parts, render: Callable, jobs: int, timeout: float, memory_mb: int,
                     cache: PartCache) -> tuple[bytes, int, int, int]:
    """Lay the parts out and join them; return the PDF, how many parts were laid out anew, how
    many there were and how many layout processes laid them out.  ``render(html, role, parent)`` runs in the layout processes: it is
    pickled (see ``layout.lay_out``).  What was laid out is staged in ``cache``: the caller commits it
    once the PDF is written, so a build that fails to write it leaves no cache behind."""
    scheduler = Scheduler(render, jobs, timeout, memory_mb, cache)

    def job(index: int, role: str, body: str) -> Job:
        html = parts.document(body)
        return Job(index=index, role=role, html=html, key=cache.key(html, role))

    sections = [job(i + 1, "section", body) for i, body in enumerate(group_sections(parts.sections))]
    blank = job(-1, "blank", BLANK_MAKER)
    blank.pages, blank.right, blank.start = 0, False, 0
    blank.told = True  # no folios: its process never asks for its first page

    def page_numbers() -> dict[str, int] | None:
        """The page of each anchor of the sections, once every section is placed."""
        if any(s.start is None or s.anchors is None for s in sections):
            return None
        pages: dict[str, int] = {}
        for section in sections:
            for name, page in section.anchors.items():
                pages.setdefault(name, section.start + page)
        return pages

    def numbered() -> str | None:
        """The front matter with its page numbers written in, once they are known."""
        pages = page_numbers()
        return None if pages is None else parts.document(with_page_numbers(parts.front, pages))

    placeholders = parts.document(with_page_numbers(parts.front, None))
    front = Job(index=0, role="contents", html=placeholders, key=cache.key(placeholders, "front"),
                answer=lambda: (page_numbers() is not None, page_numbers()), final=numbered)
    scheduler.run([front, *sections], extra=(blank,))
    contents = scheduler.contents or front
    if contents.pages != front.pages:
        raise Repaginate(f"the contents took {contents.pages} pages with their numbers, {front.pages} without")
    pdf = assemble(contents, sections, blank, cache)
    return pdf, scheduler.laid_out, len(sections) + 2 + (scheduler.contents is not None), len(scheduler.carried)
