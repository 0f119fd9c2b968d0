"""A saved e-paper site on disk: detecting it, walking its folder, resolving its links,
putting its pages in printed order and loading them into drafts.

Files are read only inside the source folder, through the file door; nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ...errors import IngestError
from ...files import is_inside, leads_out, open_inside
from ...model import Article
from ..base import Context, Draft, DraftSection, guess_language, log, page_sort_key
from .facsimile import page_facsimile
from .layouts import GENERIC, LAYOUTS, article_layout, family_shown, page_layout
from .page import Doc, doc_banner, doc_date, doc_publication, find_body, find_links, parse_banner, parse_page, texts

KIND = "epaper"
HTML_SUFFIXES = {".htm", ".html", ".shtml", ".xhtml"}
MAX_FILES = 5000  # files looked at when searching a folder
_WEAK_MARKER = re.compile(r"""href\s*=\s*["']?[^"'>\s]*(?:node_[A-Za-z]?\d+|content_\d+(?:_\d+)?)\.html?\b""", re.I)
_HTML_HEAD = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.I)
_CREDIT = re.compile(r"(?:^|[一二三四五六七八九十0-9本])版责编[：:]")


def detect(path: Path, head: bytes) -> int:
    """95 for Founder / People's Daily markup; 70 for pages that only link node_N/content_N files."""
    text = head.decode("latin-1")
    if path.suffix.lower() not in HTML_SUFFIXES and not _HTML_HEAD.search(text):
        return 0
    if shows_a_family(text):
        return 95
    if _WEAK_MARKER.search(text):
        return 70
    return 0


def shows_a_family(text: str) -> bool:
    """Whether one of the families' markers is found in ``text`` (``layouts.family_shown``)."""
    return family_shown(text, (*LAYOUTS, GENERIC)) is not None


def claims_folder(folder: Path) -> bool:
    """True when ``folder`` (searched recursively) holds pages of a saved e-paper site."""
    try:
        files = _walk(folder, quiet=True)
    except OSError:
        return False
    checked = 0
    for rel, path in files:
        if page_layout(rel) is not None:
            return True
    for rel, path in files:
        if article_layout(rel) is None:
            continue
        try:
            with open_inside(path, folder, "page") as handle:  # never a FIFO, never a link out
                head = handle.read(64 * 1024).decode("latin-1")
        except (OSError, IngestError):
            continue
        if shows_a_family(head):
            return True
        checked += 1
        if checked >= 3:
            break
    return False


def _walk(folder: Path, *, quiet: bool = False, root: Path | None = None) -> list[tuple[str, Path]]:
    """Return (path relative to ``folder`` with '/', path) of the HTML files below ``folder``, bounded.

    Linked folders are not walked; with ``root`` (and not ``quiet``) one that leads outside
    ``root`` is refused by name."""
    found: list[tuple[str, Path]] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if root is not None and not quiet:
            for name in dirnames:
                linked = Path(dirpath) / name
                if linked.is_symlink() and not is_inside(linked, root):
                    raise leads_out(linked, root)
        for name in sorted(filenames, key=_natural):
            seen += 1
            if seen > MAX_FILES:
                if not quiet:
                    log.warning("%s: more than %d files; the rest are not looked at", folder, MAX_FILES)
                return found
            if name.startswith(".") or Path(name).suffix.lower() not in HTML_SUFFIXES:
                continue
            path = Path(dirpath) / name
            found.append((path.relative_to(folder).as_posix(), path))
    return found


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class _Resolver:
    """Resolve links of saved pages to files inside the root; never outside, never fetched."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root
        self.by_name: dict[str, list[Path]] = {}
        for path in files:
            self.by_name.setdefault(path.name, []).append(path)

    def __call__(self, href: str, page: Path) -> tuple[Path | None, str]:
        parts = urlsplit(href)
        scheme = parts.scheme.lower()
        if scheme and scheme not in {"http", "https"}:
            return None, f"{scheme}: links are not followed"
        relative = unquote(parts.path)
        if not relative or relative.endswith("/") or "\x00" in relative:
            return None, "not a page"
        if not (scheme or parts.netloc or relative.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", relative)):
            named = page.parent / relative
            candidate = named.resolve()
            if not candidate.is_relative_to(self.root):
                if Path(os.path.normpath(named)).is_relative_to(self.root):  # a link in the folder leads out
                    raise leads_out(named, self.root)
                return None, "points outside the source folder; not read"  # the page's own ../ reference
            if candidate.is_file():
                return candidate, ""
        # A saved site may keep absolute URLs or move files: the same file name in the folder.
        same = self.by_name.get(Path(relative).name, [])
        if len(same) == 1:
            return same[0], ""
        return None, "not in the folder; skipped"


@dataclass
class _Page:
    doc: Doc
    rel: str
    label: str | None
    name: str | None
    date: dt.date | None
    articles: list[tuple[str, str]]  # (href, list text)


def load(path: Path, ctx: Context) -> list[Draft]:
    root = ctx.root.resolve()
    if path.is_dir():
        return _load_folder(path, ctx, root)
    return _load_file(path, ctx, root)


def _inside(files: list[tuple[str, Path]], root: Path, *, quiet: bool = False) -> list[tuple[str, Path]]:
    """The files that lie inside ``root``, resolved; a link out is refused by name (left out when ``quiet``)."""
    kept = []
    for rel, path in files:
        if not is_inside(path, root):
            if not quiet:
                raise leads_out(path, root)
            continue
        kept.append((rel, path.resolve()))
    return kept


def _section_name(label: str | None, name: str | None) -> str | None:
    return name or (f"第{label}版" if label else None)


def _load_folder(folder: Path, ctx: Context, root: Path) -> list[Draft]:
    from .article import read_article  # its credit rules: imported when a page is read

    files = _inside(_walk(folder, root=root), root)
    resolve = _Resolver(root, [p for _, p in files])
    page_files = [(rel, p) for rel, p in files if page_layout(rel)]
    page_set = {p for _, p in page_files}

    pages: list[_Page] = []
    listed: dict[Path, tuple[str | None, str | None]] = {}
    missing_pages: dict[str, tuple[Path, str, str]] = {}  # file name → (page, href, why)
    for rel, path in page_files:
        doc = parse_page(path, root)
        if doc is None:
            continue
        for href, text in find_links(doc, "page_links"):
            target, why = resolve(href, path)
            if target is None:
                missing_pages.setdefault(Path(urlsplit(href).path).name or href, (path, href, why))
                continue
            if target not in listed:
                parsed = parse_banner(text)
                listed[target] = parsed if parsed else (None, text or None)
            missing_pages.pop(target.name, None)
        label, name = doc_banner(doc)
        pages.append(_Page(doc, rel, label, name, doc_date(doc, page=True),
                           [(h, t) for h, t in find_links(doc, "article_links") if not _CREDIT.search(t)]))
    present = {p.name for p in page_set}
    for name, (where, href, why) in missing_pages.items():
        if name not in present:
            log.warning("%s: page %r of the page list %s", where, href, why)

    for page in pages:
        label, name = listed.get(page.doc.path, (None, None))
        page.label = label or page.label
        page.name = name or page.name
    pages.sort(key=lambda p: (page_sort_key(p.label), _natural(p.rel)))

    publications = Counter(filter(None, (doc_publication(p.doc, []) for p in pages)))
    publication = publications.most_common(1)[0][0] if publications else None

    used: set[Path] = set(page_set)
    read: dict[Path, Article] = {}  # the article read from each file: what a page's map links
    sections: list[tuple[_Page | None, DraftSection]] = []
    for page in pages:
        section = DraftSection(name=_section_name(page.label, page.name), page=page.label)
        for href, text in page.articles:
            target, why = resolve(href, page.doc.path)
            if target is None:
                log.warning("%s: linked article %r %s", page.doc.path, href, why)
                continue
            if target in used:
                continue
            used.add(target)
            doc = parse_page(target, root)
            article = read_article(doc, ctx, hint=text, publication=publication) if doc else None
            if article is not None:
                section.articles.append(article)
                read[target] = article
        sections.append((page, section))

    # Article pages that no page list names (their page not saved): placed by their own banner.
    for rel, path in files:
        if path in used or not article_layout(rel):
            continue
        used.add(path)
        doc = parse_page(path, root)
        article = read_article(doc, ctx, publication=publication) if doc else None
        if article is None:
            continue
        label, name = doc_banner(doc)
        target = next((s for _, s in sections if label and page_sort_key(s.page) == page_sort_key(label)), None)
        if target is None:
            target = DraftSection(name=_section_name(label, name), page=label)
            page = _Page(doc, rel, label, name, doc_date(doc, page=False), [])
            sections.append((page, target))
        target.articles.append(article)
        read[path] = article
        if publication is None:
            publication = doc_publication(doc, [article.title])

    for page, section in sections:  # each page's picture and map, once every article is read
        if page is not None and page.doc.path in page_set:
            section.facsimile = page_facsimile(page.doc, ctx, root, resolve, read)

    drafts: dict[dt.date | None, Draft] = {}
    for page, section in sections:
        if not section.articles:
            continue
        date = page.date if page is not None else None
        draft = drafts.get(date)
        if draft is None:
            draft = drafts[date] = Draft(source=folder, kind=KIND, publication=publication, date=date)
        draft.sections.append(section)
    if not drafts:
        raise IngestError("no articles found in the saved e-paper pages", folder)
    for draft in drafts.values():
        draft.language = ctx.language or guess_language(
            " ".join(a.title + " " + a.text[:500] for s in draft.sections for a in s.articles))
    return sorted(drafts.values(), key=lambda d: (d.date or dt.date.min))


def _load_file(path: Path, ctx: Context, root: Path) -> list[Draft]:
    from .article import read_article  # its credit rules: imported when a page is read

    doc = parse_page(path.resolve(), root)
    if doc is None:
        raise IngestError("cannot be read as an HTML page", path)
    label, name = doc_banner(doc)
    date = doc_date(doc, page=False)
    body, _ = find_body(doc)
    links = [(h, t) for h, t in find_links(doc, "article_links") if not _CREDIT.search(t)]
    if body is not None or not links:
        publication = doc_publication(doc, texts(doc, "title") + ([doc.enp["title"]] if "title" in doc.enp else []))
        article = read_article(doc, ctx, publication=publication)
        if article is None:
            raise IngestError("no article found (expected a Founder or People's Daily e-paper page)", path)
        articles = [article]
        facsimile = None
    else:  # a page (版面): its articles beside it
        publication = doc_publication(doc, [])
        resolve = _Resolver(root, [p for _, p in _inside(_walk(path.parent, quiet=True), root, quiet=True)])
        articles = []
        read: dict[Path, Article] = {}
        seen: set[Path] = set()
        for href, text in links:
            target, why = resolve(href, doc.path)
            if target is None:
                log.warning("%s: linked article %r %s", path, href, why)
                continue
            if target in seen or target == doc.path:
                continue
            seen.add(target)
            article_doc = parse_page(target, root)
            article = read_article(article_doc, ctx, hint=text, publication=publication) if article_doc else None
            if article is not None:
                articles.append(article)
                read[target] = article
        if not articles:
            raise IngestError("no articles found beside this e-paper page", path)
        date = doc_date(doc, page=True)
        facsimile = page_facsimile(doc, ctx, root, resolve, read)
    language = ctx.language or guess_language(" ".join(a.title + " " + a.text[:500] for a in articles))
    return [Draft(source=path, kind=KIND, publication=publication, language=language, date=date,
                  sections=[DraftSection(name=_section_name(label, name), page=label, articles=articles,
                                         facsimile=facsimile)])]

