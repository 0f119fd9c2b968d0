"""The ingest interface: every source kind turns files into Drafts; the loader assembles issues.

An ingester is a module with

- ``KIND``: its name for ``--from``, one of ``names.SOURCE_KINDS``;
- ``detect(path: Path, head: bytes) -> int``: how sure it is (0–100) that the file at
  ``path``, whose first bytes are ``head``, is its kind (``claims_folder`` for folders);
- ``load(path: Path, ctx: Context) -> list[Draft]``: read the source.

A Draft is what one source contributes to an issue: sections holding finished model
Articles (their ids are provisional; the loader makes them unique within the issue) plus
hints about the publication, the date and the language.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..model import LANG_RE, Article, Image
from .language import guess_language, resolve as resolve_language  # noqa: F401 - the ingesters' names for them

log = logging.getLogger("broadsheet")


@dataclass(frozen=True)
class Context:
    """What every ingester may rely on."""

    root: Path  # pictures and linked pages are read only from inside this folder
    language: str | None = None  # the publication's language when configured
    since: dt.date | None = None
    until: dt.date | None = None
    allow_remote: bool = False  # fetch http(s) pictures (ingest/remote.py); nothing is fetched otherwise
    remote_hosts: tuple[str, ...] = ()  # hosts whose addresses may be internal (--allow-remote-hosts)


@dataclass
class DraftRegion:
    """A hot spot of a page facsimile, as a source gives it: the article it links is one of the draft's
    articles (the loader gives it its id in the issue), or an article id as the source names it."""

    shape: str
    coords: tuple[int, ...]
    article: Article | str


@dataclass
class DraftFacsimile:
    """A section's printed page (版面图) as a source gives it: see ``model.Facsimile``."""

    picture: Image
    regions: list[DraftRegion] = field(default_factory=list)
    pdf: Path | None = None  # the page PDF, inside ``pdf_root``
    pdf_root: Path | None = None
    source: Path | None = None  # the file that named it, for messages


@dataclass
class DraftSection:
    name: str | None  # None: the loader gives the default section
    page: str | None = None
    articles: list[Article] = field(default_factory=list)
    facsimile: DraftFacsimile | None = None


@dataclass
class Draft:
    """What one source contributes to an issue."""

    source: Path
    kind: str
    publication: str | None = None
    language: str | None = None
    date: dt.date | None = None
    number: str | None = None
    sections: list[DraftSection] = field(default_factory=list)
    order: tuple = ()  # sort key among drafts of one issue (e.g. a Markdown article's ``order``)
    #: ``id(article)`` → what identifies that article as an entry of a feed (its id, link, title and text): the
    #: same entry in two feeds of one site (Atom and RSS) is kept once.
    entry_keys: dict[int, tuple[str, ...]] = field(default_factory=dict)
    summaries: set[int] = field(default_factory=set)  # ``id(article)`` of feed entries given only as a summary


def language_tag(value: str | None) -> str | None:
    """Return ``value`` as a well-formed BCP 47 tag in canonical case (``en_us`` → ``en-US``), else None."""
    if not value or not isinstance(value, str):
        return None
    parts = [p for p in re.split(r"[-_]", value.strip()) if p]
    if not parts or not re.fullmatch(r"[A-Za-z]{2,3}", parts[0]):
        return None
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    tag = "-".join(out)
    return tag if LANG_RE.match(tag) and all(2 <= len(p) <= 8 for p in out[1:]) else None


_PAGE_LABEL = re.compile(r"^([A-Za-z]*)0*(\d+)$")


def page_sort_key(page: str | None) -> tuple:
    """Sort page labels as printed: A1 < A2 < A10 < B1; labels without a number last."""
    if page is None:
        return (2, "", 0, "")
    match = _PAGE_LABEL.match(page.strip())
    if match:
        return (0, match.group(1).upper(), int(match.group(2)), "")
    return (1, "", 0, page)


def slug(text: str) -> str:
    """Return an ASCII id fragment (may be empty for text without Latin letters)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].strip("-")
    return re.sub(r"^[^a-z]+", "", value)


def import_tables(name: str):
    """Import the library ``name``, one that loads large tables as it is imported (pypinyin's readings, some
    150,000 lists and strings; trafilatura's and its helpers' lists of names and patterns), and the first time,
    move what the process then holds out of the cyclic garbage collector's reach
    (``processes.out_of_the_collector``, without a collection first: the import made little garbage).  Every
    full collection walks every object in its reach: with pypinyin's tables, 40 ms a time, a fifth of a small
    e-paper build; with trafilatura's, a tenth of a one-page build."""
    import importlib

    from ..processes import out_of_the_collector

    first = name not in sys.modules
    module = importlib.import_module(name)
    if first:
        out_of_the_collector(collect=False)
    return module


def publication_id(title: str) -> str:
    """Return a file-name-safe id for a publication: ``the-harbour-gazette``, or for Chinese titles the
    initials of their pinyin, as papers name themselves (郑州日报 → ``zzrb``)."""
    latin = slug(title)
    if latin:
        return latin
    if re.search(r"[\u4e00-\u9fff]", title):
        pypinyin = import_tables("pypinyin")
        Style, lazy_pinyin = pypinyin.Style, pypinyin.lazy_pinyin

        initials = "".join(p[:1] for p in lazy_pinyin(title, style=Style.FIRST_LETTER, errors="ignore"))
        initials = re.sub(r"[^a-z0-9]", "", initials.lower())
        if initials[:1].isalpha():
            return initials[:24]
    import hashlib

    return "p" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:10]


_DATE = re.compile(r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})")


def find_date(text: str) -> dt.date | None:
    """Return the first calendar date written as 2012-07-06, 2012/7/6 or 2012年7月6日."""
    for match in _DATE.finditer(text):
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            continue
    return None
