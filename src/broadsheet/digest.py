"""Digest editions: select, dedupe and re-section articles across many issues.

``make_digest(editions, spec)`` returns a new Publication with one Issue: the articles of
every issue that pass the filters (date range, sections, tags, text), each once — reprints
across issues or sections are merged, keeping the earliest — grouped by section, date,
source or not at all, each carrying where it came from (``Article.source``:
"郑州日报 2012-07-06 第15版").  Pure model work: no I/O, no rendering.

Duplicates: an article's text is normalised (NFKC, case folded, white space and punctuation
removed); equal normalised texts are duplicates; otherwise two articles are near-duplicates
when the Jaccard similarity of their character 5-gram sets is at least ``similarity``
(default 0.8) — which tolerates a changed sentence or a corrected figure in a long article
while keeping different articles on the same subject apart.  Which pairs to compare is found in
linear time by ``shingles.candidates``; each pair it names is compared exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from typing import Literal

from pydantic import Field

from .config import _Schema
from .ingest import Edition
from .ingest.base import publication_id
from .lang import no_word_spaces, primary
from .model import Article, Issue, Publication, Section, one_line
from .names import GROUPINGS

SHINGLE = 5


class DigestSpec(_Schema):
    """What a digest selects and how it is arranged (a recipe's keys, or command-line options)."""

    title: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    max_articles: int | None = Field(default=None, ge=1)
    group_by: Literal[GROUPINGS] = "section"
    similarity: float = Field(default=0.8, gt=0, le=1)


@dataclass(frozen=True)
class Merged:
    """A reprint left out of the digest: its provenance, the copy kept, and how alike they were."""

    dropped: str
    kept: str
    similarity: float


@dataclass
class DigestReport:
    considered: int = 0
    selected: int = 0
    merged: list[Merged] = field(default_factory=list)


@dataclass
class _Candidate:
    article: Article
    publication: Publication
    issue: Issue
    section: Section
    position: int
    provenance: str


def provenance(publication: Publication, issue: Issue, section: Section) -> str:
    """Return where an article was printed: "郑州日报 2012-07-06 第15版" or "The Gazette, 2026-11-20, page A1"."""
    chinese = no_word_spaces(publication.language)
    parts = [publication.title]
    if issue.date:
        parts.append(issue.date.isoformat())
    if section.page:
        parts.append(f"第{section.page}版" if chinese else f"page {section.page}")
    elif section.name:
        parts.append(section.name)
    return " ".join(parts) if chinese else ", ".join(parts)


_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", text).casefold())


def _grams(key: str) -> frozenset:
    if len(key) <= SHINGLE:
        return frozenset([key])
    return frozenset(key[i:i + SHINGLE] for i in range(len(key) - SHINGLE + 1))


def similarity(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class _Filter:
    """``spec``'s filters, their words case-folded once."""

    def __init__(self, spec: DigestSpec) -> None:
        self.since, self.until = spec.since, spec.until
        self.sections = {s.casefold() for s in spec.sections}
        self.tags = {t.casefold() for t in spec.tags}
        self.match = [term.casefold() for term in spec.match]

    def wants(self, candidate: _Candidate) -> bool:
        date = candidate.issue.date
        if self.since and (date is None or date < self.since):
            return False
        if self.until and (date is None or date > self.until):
            return False
        if self.sections and candidate.section.name.casefold() not in self.sections:
            return False
        article = candidate.article
        if self.tags and not {t.casefold() for t in article.tags} & self.tags:
            return False
        if self.match:
            haystack = " ".join([article.title, article.subtitle or "", article.kicker or "",
                                 article.text]).casefold()
            if not any(term in haystack for term in self.match):
                return False
        return True


def make_digest(editions: list[Edition], spec: DigestSpec) -> tuple[Publication, DigestReport]:
    """Select, dedupe and arrange articles of ``editions`` into one digest issue."""
    report = DigestReport()
    report.considered, chosen = _choose(editions, spec)
    kept = _merge_reprints(chosen, spec.similarity, report)
    if spec.max_articles is not None:
        kept = kept[: spec.max_articles]
    report.selected = len(kept)
    return _assemble(kept, editions, spec), report


def _choose(editions: list[Edition], spec: DigestSpec) -> tuple[int, list[_Candidate]]:
    """(how many articles ``editions`` hold, those that pass the filters by date, then as printed)."""
    candidates: list[_Candidate] = []
    position = 0
    for edition in editions:
        publication = edition.publication
        for issue in publication.issues:
            for section in issue.sections:
                where = provenance(publication, issue, section)
                for article in section.articles:
                    position += 1
                    candidates.append(_Candidate(article, publication, issue, section, position, where))
    wanted = _Filter(spec)
    chosen = [c for c in candidates if wanted.wants(c)]
    chosen.sort(key=lambda c: (c.issue.date or dt.date.min, c.position))
    return len(candidates), chosen


def _merge_reprints(chosen: list[_Candidate], threshold: float, report: DigestReport) -> list[_Candidate]:
    """The candidates that are no reprint of an earlier one kept, in order; each reprint left out is
    reported with the first kept copy it reprints.  A reprint has the same normalised title and text as
    a kept copy, or a text whose 5-grams are ``threshold`` alike with one's (the first in order).

    The same merges as comparing each candidate with every kept one, found in linear time: only the
    pairs ``shingles.candidates`` names are compared, each with the exact similarity."""
    import hashlib

    from .shingles import candidates

    texts = [normalise(c.article.text) for c in chosen]
    titles = [normalise(c.article.title) for c in chosen]  # NFKC, case and deletion work character by
    # character, and "\n" joins nothing: normalise(title + "\n" + text) == normalise(title) + normalise(text)
    near = candidates([text or title + text for title, text in zip(titles, texts)], threshold)
    kept: list[_Candidate] = []
    by_key: dict[bytes, int] = {}  # a hash of a kept candidate's key → its index in ``chosen``
    is_kept = [False] * len(chosen)

    @functools.lru_cache(maxsize=64)  # a text's 5-gram set is some 50 times its size: the recent ones only
    def grams_of(n: int) -> frozenset:
        return _grams(texts[n] or titles[n] + texts[n])

    for n, candidate in enumerate(chosen):
        key = titles[n] + texts[n]
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        first = by_key.get(digest)
        if first is not None and titles[first] + texts[first] == key:
            report.merged.append(Merged(candidate.provenance, chosen[first].provenance, 1.0))
            continue
        twin = None
        for other in near.get(n, ()):
            if is_kept[other] and (score := similarity(grams_of(n), grams_of(other))) >= threshold:
                twin = other, score
                break
        if twin is not None:
            report.merged.append(Merged(candidate.provenance, chosen[twin[0]].provenance, round(twin[1], 3)))
            continue
        by_key.setdefault(digest, n)
        is_kept[n] = True
        kept.append(candidate)
    return kept


def _group_name(candidate: _Candidate, group_by: str, default: str) -> tuple[tuple, str]:
    """Return (sort key, section name) of the group a candidate goes to."""
    if group_by == "section":
        return (candidate.section.name,), candidate.section.name
    if group_by == "date":
        date = candidate.issue.date
        return (date or dt.date.min,), date.isoformat() if date else default
    if group_by == "source":
        return (candidate.publication.title,), candidate.publication.title
    return (), default


#: A digest's own name in its language, when it gathers several publications and is given no --title.
_DIGEST = {"zh": "文摘", "ja": "ダイジェスト", "ko": "다이제스트", "en": "Digest"}


def digest_language(kept: list[_Candidate], editions: list[Edition]) -> str:
    """The language of most of the digest's articles (each article's own, not its publication's): the
    primary language with the most articles, then its most common tag; a tie goes to the one met first."""
    tags = [c.article.lang or c.publication.language for c in kept] \
        or [e.publication.language for e in editions] or ["en"]
    by_primary: dict[str, list[str]] = {}
    for tag in tags:
        by_primary.setdefault(primary(tag), []).append(tag)
    most = max(by_primary.values(), key=len)  # max keeps the first of equals: the order articles are met in
    return max(dict.fromkeys(most), key=most.count)


def _assemble(kept: list[_Candidate], editions: list[Edition], spec: DigestSpec) -> Publication:
    language = digest_language(kept, editions)
    chinese = no_word_spaces(language)
    default = "文章" if chinese else "Articles"
    titles = list(dict.fromkeys(c.publication.title for c in kept)) or [e.publication.title for e in editions]
    if one_line(spec.title or ""):
        title = one_line(spec.title or "")
    elif len(titles) == 1:  # one publication's digest keeps its name
        title = f"{titles[0]} 文摘" if chinese else f"{titles[0]} digest"
    else:  # several: named by none of them, in the digest's language (the date range follows the title)
        title = _DIGEST.get(primary(language), _DIGEST["en"])
    groups: dict[str, list[_Candidate]] = {}
    order: dict[str, tuple] = {}
    for candidate in kept:
        sort_key, name = _group_name(candidate, spec.group_by, default)
        groups.setdefault(name, []).append(candidate)
        order.setdefault(name, sort_key + (len(order),))
    names = sorted(groups, key=lambda n: order[n]) if spec.group_by == "date" else list(groups)
    used: set[str] = set()
    suffix: dict[str, int] = {}  # an id → the first of its numbered forms that may be free (those below are used)
    sections = []
    for number, name in enumerate(names, start=1):
        articles = []
        for candidate in groups[name]:
            base = candidate.article.id
            unique, n = base, suffix.get(base, 2)
            while unique in used:
                unique = f"{base}-{n}"
                n += 1
            suffix[base] = n
            used.add(unique)
            articles.append(candidate.article.model_copy(update={"id": unique, "source": candidate.provenance}))
        sections.append(Section(id=f"s{number:02d}", name=name, articles=tuple(articles)))
    dates = sorted({c.issue.date for c in kept if c.issue.date})
    first = spec.since or (dates[0] if dates else None)
    last = spec.until or (dates[-1] if dates else None)
    span = None
    if first and last:
        span = first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
    issue = Issue(date=last, edition=span, sections=tuple(sections))
    return Publication(id=publication_id(title), title=title, language=language, issues=(issue,))


__all__ = ["DigestSpec", "DigestReport", "Merged", "make_digest", "provenance", "normalise", "similarity"]
