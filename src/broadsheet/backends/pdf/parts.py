"""The print HTML cut into parts, laid out apart (``scheduler``) and joined (``assembly``).

The print HTML marks its parts (``<!--broadsheet:part-->``): the front matter (title page and
contents) and each section, which opens on a page of known side (a recto).  Small sections
are grouped into one part (``MIN_PART``), and a small edition is laid out whole
(``MIN_SPLIT``): a part has a fixed cost.  How the edition is cut depends on the document
alone, never on the number of processes, so that ``--jobs`` never changes the PDF's bytes.
A :class:`Job` is one part on its way through layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

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
#: A layout process is handed another part while it has laid out less than this much HTML: small
#: parts gain most from a process that has started already and whose caches are warm; after large
#: ones a fresh process is faster (a heap grown by one large layout makes the next one slower).
REUSE_BYTES = 128 * 1024

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


#: What the contents hold in place of each page number until the sections are laid out.
PLACEHOLDER = "000"


def with_page_numbers(front: str, pages: dict[str, int] | None) -> str:
    """Write the page of each link's target into the contents (``data-page``); with ``pages``
    None, the placeholder."""
    def number(match: re.Match) -> str:
        target = match.group(1)
        value = PLACEHOLDER if pages is None else pages.get(target)
        return match.group(0) if value is None else f'{match.group(0)} data-page="{value}"'

    return TOC_LINK.sub(number, front)


@dataclass
class Job:
    index: int
    role: str  # "contents" (the front matter), "section", "blank"
    html: str | None  # None until ``prepare`` can make it
    key: str = ""
    prepare: Callable[[], str | None] | None = None
    pages: int | None = None
    right: bool | None = None
    start: int | None = None
    told: bool = False
    asking: bool = False  # waits for the contents' page numbers
    answer: Callable[[], tuple[bool, dict[str, int] | None]] | None = None  # (known yet, the numbers)
    final: Callable[[], str | None] | None = None  # the contents' HTML with the numbers, once known
    anchors: dict[str, int] | None = None
    pdf: bytes | None = None
    meta: dict = field(default_factory=dict)
    worker: object = None  # processes.Worker
    connection: object = None


def right_hand(page: int, first_right: bool) -> bool:
    """Whether page ``page`` is a right-hand page, page 1 being one if ``first_right``."""
    return first_right if page % 2 else not first_right
