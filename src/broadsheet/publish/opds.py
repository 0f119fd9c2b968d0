"""The catalog in OPDS 1.2 (Atom) and OPDS 2.0 (JSON), its OpenSearch description and ``catalog.json``.

Every feed lies in ``opds/``; links are relative to the feed (``../zzrb-2012-07-06.epub``) unless a base
URL is given, then absolute.  File names tell a server the type (keep them): ``*.nav.atom`` navigation
feeds, ``*.atom`` acquisition feeds, ``*.opds.json`` OPDS 2 feeds, ``opensearch.xml``.  Search cannot be a
static file: ``search?q=`` and ``search.opds.json?query=`` are answered by ``broadsheet serve`` from
``catalog.json`` (:func:`search_feed` builds the answer from it).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from lxml import etree

from ..clock import EPOCH_FLOOR
from ..xhtml import remove_keep_tail
from .library import Edition, clean

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/terms/"
OPDS = "http://opds-spec.org/2010/catalog"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
NSMAP = {None: ATOM, "dc": DC, "opds": OPDS, "opensearch": OPENSEARCH}
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPDS2 = "application/opds+json"
OPENSEARCH_TYPE = "application/opensearchdescription+xml"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
IMAGE = "http://opds-spec.org/image"
THUMBNAIL = "http://opds-spec.org/image/thumbnail"
CATALOG_FORMAT = "broadsheet-catalog/1"
#: the searches ``broadsheet serve`` answers (relative to opds/): OPDS 1.2's, named by the OpenSearch
#: description, and OPDS 2's, a templated ``search`` link of every OPDS 2 feed (:func:`search_feed` answers both)
SEARCH_ATOM = "search?q={searchTerms}"
SEARCH_OPDS2 = "search.opds.json{?query}"
ROOT_NAV, ROOT_OPDS2, OPENSEARCH_NAME, CATALOG_NAME = "root.nav.atom", "root.opds.json", "opensearch.xml", "catalog.json"


@dataclass(frozen=True)
class Links:
    """Where a file of the library is, seen from a feed in ``opds/``."""

    base_url: str | None = None

    def __call__(self, path: str) -> str:
        """``path`` is relative to the library's root, already quoted."""
        if self.base_url:
            return self.base_url + path
        return path.removeprefix("opds/") if path.startswith("opds/") else "../" + path


def file_path(name: str) -> str:
    return quote(name, safe="")


def cover_path(edition: Edition, thumbnail: bool = False) -> str:
    return f"covers/{edition.key}{'-thumb' if thumbnail else ''}.jpg"


def page_name(stem: str, page: int, suffix: str) -> str:
    """``latest.atom``, ``latest-p2.atom`` …"""
    return f"{stem}{'' if page == 1 else f'-p{page}'}{suffix}"


def feed_stem(publication_key: str | None) -> str:
    return "latest" if publication_key is None else f"pub-{publication_key}"


def updated(editions: Sequence[Edition]) -> dt.datetime:
    """When a feed changed, from its editions alone: the latest issue date (or SOURCE_DATE_EPOCH, or 1980)."""
    dates = [e.issued for e in editions if e.issued]
    if dates:
        return max(dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) for d in dates)
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    try:
        return max(dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc), EPOCH_FLOOR)
    except (ValueError, OverflowError, OSError):
        return EPOCH_FLOOR


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _urn(library: str, name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'broadsheet:{library}:{name}')}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attributes.items()})
    if text is not None:
        element.text = text
    return element


def _link(parent, rel: str, href: str, type_: str, title: str | None = None, **extra: str) -> etree._Element:
    attributes = {"rel": rel, "href": href, "type": type_, **extra}
    if title:
        attributes["title"] = title
    return _sub(parent, f"{{{ATOM}}}link", **attributes)


def atom_entry(edition: Edition, links: Links, html_page: str) -> etree._Element:
    """One edition as an OPDS 1.2 acquisition entry."""
    entry = etree.Element(f"{{{ATOM}}}entry", nsmap=NSMAP)
    _sub(entry, f"{{{ATOM}}}title", edition.title)
    _sub(entry, f"{{{ATOM}}}id", edition.identifier)
    _sub(entry, f"{{{ATOM}}}updated", _stamp(updated([edition])))
    if edition.publisher:
        author = _sub(entry, f"{{{ATOM}}}author")
        _sub(author, f"{{{ATOM}}}name", edition.publisher)
        _sub(entry, f"{{{DC}}}publisher", edition.publisher)
    if edition.issued:
        _sub(entry, f"{{{DC}}}issued", edition.issued.isoformat())
    _sub(entry, f"{{{DC}}}language", edition.language)
    for section in edition.sections[:50]:
        _sub(entry, f"{{{ATOM}}}category", term=section.name or "-", label=section.name or "-")
    summary = edition.summary or edition.description
    if summary:
        _sub(entry, f"{{{ATOM}}}summary", summary, type="text")
    _link(entry, IMAGE, links(cover_path(edition)), "image/jpeg")
    _link(entry, THUMBNAIL, links(cover_path(edition, True)), "image/jpeg")
    for file in edition.files:
        _link(entry, OPEN_ACCESS, links(file_path(file.name)), file.type, file.label, length=str(file.size))
    _link(entry, "alternate", links(html_page), "text/html", edition.title)
    return entry


def _feed(library: str, name: str, title: str, editions: Sequence[Edition], links: Links) -> etree._Element:
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)
    _sub(feed, f"{{{ATOM}}}id", _urn(library, name))
    _sub(feed, f"{{{ATOM}}}title", title)
    _sub(feed, f"{{{ATOM}}}updated", _stamp(updated(editions)))
    author = _sub(feed, f"{{{ATOM}}}author")
    _sub(author, f"{{{ATOM}}}name", library)
    return feed


def _xml(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def root_navigation(library: str, publications: Sequence[tuple[str, str, list[Edition]]],
                    editions: Sequence[Edition], links: Links) -> bytes:
    """``root.nav.atom``: the latest editions, then one entry per publication."""
    feed = _feed(library, ROOT_NAV, library, editions, links)
    _link(feed, "self", links(f"opds/{ROOT_NAV}"), NAVIGATION)
    _link(feed, "start", links(f"opds/{ROOT_NAV}"), NAVIGATION)
    _link(feed, "search", links(f"opds/{OPENSEARCH_NAME}"), OPENSEARCH_TYPE)
    _link(feed, "alternate", links("index.html"), "text/html")
    rows = [("latest", "Latest editions", f"{len(editions)} editions, newest first", editions)]
    rows += [(feed_stem(key), title, f"{len(items)} editions", items) for key, title, items in publications]
    for stem, title, content, items in rows:
        entry = _sub(feed, f"{{{ATOM}}}entry")
        _sub(entry, f"{{{ATOM}}}title", title)
        _sub(entry, f"{{{ATOM}}}id", _urn(library, stem))
        _sub(entry, f"{{{ATOM}}}updated", _stamp(updated(items)))
        _sub(entry, f"{{{ATOM}}}content", content, type="text")
        _link(entry, "subsection", links(f"opds/{page_name(stem, 1, '.atom')}"), ACQUISITION)
    return _xml(feed)


def pages(editions: Sequence[Edition], per_page: int) -> list[list[Edition]]:
    return [list(editions[i:i + per_page]) for i in range(0, len(editions), per_page)] or [[]]


def _pagination(parent, stem: str, page: int, count: int, suffix: str, type_: str, links: Links, add) -> None:
    add(parent, "first", links(f"opds/{page_name(stem, 1, suffix)}"), type_)
    add(parent, "last", links(f"opds/{page_name(stem, count, suffix)}"), type_)
    if page > 1:
        add(parent, "previous", links(f"opds/{page_name(stem, page - 1, suffix)}"), type_)
    if page < count:
        add(parent, "next", links(f"opds/{page_name(stem, page + 1, suffix)}"), type_)


def acquisition_feeds(library: str, stem: str, title: str, editions: Sequence[Edition], per_page: int,
                      links: Links, html_pages: dict[str, str]) -> dict[str, bytes]:
    """Every page of one acquisition feed (``latest``, ``pub-KEY``): {file name in opds/: bytes}."""
    chunks = pages(editions, per_page)
    out = {}
    for number, chunk in enumerate(chunks, start=1):
        name = page_name(stem, number, ".atom")
        feed = _feed(library, name, title if number == 1 else f"{title} ({number}/{len(chunks)})", chunk, links)
        _link(feed, "self", links(f"opds/{name}"), ACQUISITION)
        _link(feed, "start", links(f"opds/{ROOT_NAV}"), NAVIGATION)
        _link(feed, "up", links(f"opds/{ROOT_NAV}"), NAVIGATION)
        _link(feed, "search", links(f"opds/{OPENSEARCH_NAME}"), OPENSEARCH_TYPE)
        _pagination(feed, stem, number, len(chunks), ".atom", ACQUISITION, links, _link)
        _sub(feed, f"{{{OPENSEARCH}}}totalResults", str(len(editions)))
        _sub(feed, f"{{{OPENSEARCH}}}itemsPerPage", str(per_page))
        _sub(feed, f"{{{OPENSEARCH}}}startIndex", str((number - 1) * per_page + 1))
        for edition in chunk:
            feed.append(atom_entry(edition, links, html_pages[edition.key]))
        out[name] = _xml(feed)
    return out


def opds2_publication(edition: Edition, links: Links, html_page: str, sizes: dict[str, tuple]) -> dict:
    """One edition as an OPDS 2 publication."""
    metadata: dict = {"@type": "http://schema.org/PublicationIssue" if edition.kind == "issue" else
                      "http://schema.org/Book", "title": edition.title, "identifier": edition.identifier,
                      "language": edition.language, "modified": _stamp(updated([edition]))}
    if edition.publisher:
        metadata["publisher"] = {"name": edition.publisher}
    if edition.issued:
        metadata["published"] = edition.issued.isoformat()
    if edition.summary or edition.description:
        metadata["description"] = edition.summary or edition.description
    if edition.sections:
        metadata["subject"] = [{"name": s.name} for s in edition.sections[:50] if s.name]
    metadata["belongsTo"] = {"series": [{"name": edition.publication_title}]}
    acquisition = [{"rel": OPEN_ACCESS, "href": links(file_path(f.name)), "type": f.type, "title": f.label}
                   for f in edition.files]
    cover, thumbnail = sizes.get(edition.key, ((0, 0), (0, 0)))
    images = [{"href": links(cover_path(edition)), "type": "image/jpeg", "rel": "cover"},
              {"href": links(cover_path(edition, True)), "type": "image/jpeg", "rel": "http://opds-spec.org/image/thumbnail"}]
    for image, (width, height) in zip(images, (cover, thumbnail), strict=True):
        if width and height:
            image.update(width=width, height=height)
    return {"metadata": metadata,
            "links": [*acquisition, {"rel": "alternate", "href": links(html_page), "type": "text/html"}],
            "images": images}


def _search_link(links: Links) -> dict:
    """OPDS 2's search, answered by ``broadsheet serve``: ``search.opds.json?query=`` (a URI template)."""
    return {"rel": "search", "href": links(f"opds/{SEARCH_OPDS2}"), "type": OPDS2, "templated": True}


def opds2_feeds(title: str, stem: str, editions: Sequence[Edition], per_page: int, links: Links,
                html_pages: dict[str, str], sizes: dict) -> dict[str, bytes]:
    chunks = pages(editions, per_page)
    out = {}
    for number, chunk in enumerate(chunks, start=1):
        name = page_name(stem, number, ".opds.json")
        # RWPM wants the self link absolute: it is with --base-url; readers resolve a relative one
        feed_links: list[dict] = [{"rel": "self", "href": links(f"opds/{name}"), "type": OPDS2},
                                  {"rel": "start", "href": links(f"opds/{ROOT_OPDS2}"), "type": OPDS2},
                                  {"rel": "up", "href": links(f"opds/{ROOT_OPDS2}"), "type": OPDS2},
                                  _search_link(links)]

        def add(parent, rel, href, type_):
            parent.append({"rel": rel, "href": href, "type": type_})

        _pagination(feed_links, stem, number, len(chunks), ".opds.json", OPDS2, links, add)
        out[name] = _json({
            "metadata": {"title": title, "numberOfItems": len(editions), "itemsPerPage": per_page,
                         "currentPage": number, "modified": _stamp(updated(chunk))},
            "links": feed_links,
            "publications": [opds2_publication(e, links, html_pages[e.key], sizes) for e in chunk]})
    return out


def opds2_root(library: str, publications: Sequence[tuple[str, str, list[Edition]]], editions, links: Links) -> bytes:
    navigation = [{"href": links(f"opds/{page_name('latest', 1, '.opds.json')}"), "title": "Latest editions",
                   "type": OPDS2, "rel": "http://opds-spec.org/sort/new"}]
    navigation += [{"href": links(f"opds/{page_name(feed_stem(key), 1, '.opds.json')}"), "title": title,
                    "type": OPDS2, "rel": "subsection"} for key, title, _ in publications]
    return _json({
        "metadata": {"title": library, "modified": _stamp(updated(editions))},
        "links": [{"rel": "self", "href": links(f"opds/{ROOT_OPDS2}"), "type": OPDS2},
                  {"rel": "start", "href": links(f"opds/{ROOT_OPDS2}"), "type": OPDS2},
                  {"rel": "alternate", "href": links("index.html"), "type": "text/html"},
                  _search_link(links)],
        "navigation": navigation})


def opensearch(library: str, links: Links) -> bytes:
    root = etree.Element(f"{{{OPENSEARCH}}}OpenSearchDescription", nsmap={None: OPENSEARCH})
    _sub(root, f"{{{OPENSEARCH}}}ShortName", clean(library, 16))
    _sub(root, f"{{{OPENSEARCH}}}LongName", clean(library, 48))
    _sub(root, f"{{{OPENSEARCH}}}Description", clean(f"Search the editions of {library} by title", 1024))
    _sub(root, f"{{{OPENSEARCH}}}InputEncoding", "UTF-8")
    _sub(root, f"{{{OPENSEARCH}}}OutputEncoding", "UTF-8")
    _sub(root, f"{{{OPENSEARCH}}}Url", type=ACQUISITION, template=links(f"opds/{SEARCH_ATOM}"))
    return _xml(root)


def catalog(library: str, editions: Sequence[Edition], links: Links, html_pages: dict[str, str],
            sizes: dict, base_url: str | None) -> bytes:
    """``catalog.json``: every edition, newest first, with its OPDS 1.2 entry and OPDS 2 publication ready
    to put in a search feed (links as in the feeds of ``opds/``)."""
    rows = []
    for edition in editions:
        rows.append({
            "key": edition.key, "stem": edition.stem, "kind": edition.kind, "identifier": edition.identifier,
            "title": edition.title, "issued": edition.issued.isoformat() if edition.issued else None,
            "publication": {"key": edition.publication_key, "id": edition.publication_id,
                            "title": edition.publication_title},
            "publisher": edition.publisher, "language": edition.language,
            "sections": [{"name": s.name, "page": s.page, "articles": s.articles} for s in edition.sections],
            "files": [{"format": f.format, "href": links(file_path(f.name)), "type": f.type, "length": f.size}
                      for f in edition.files],
            "cover": links(cover_path(edition)), "thumbnail": links(cover_path(edition, True)),
            "page": links(html_pages[edition.key]), "summary": edition.summary or edition.description,
            "updated": _stamp(updated([edition])),
            # every link of the entry, as a search answer lists them (relative ones: to this file)
            "links": [*({"rel": OPEN_ACCESS, "href": links(file_path(f.name)), "type": f.type}
                        for f in edition.files),
                      {"rel": IMAGE, "href": links(cover_path(edition)), "type": "image/jpeg"},
                      {"rel": THUMBNAIL, "href": links(cover_path(edition, True)), "type": "image/jpeg"},
                      {"rel": "alternate", "href": links(html_pages[edition.key]), "type": "text/html"}],
            "atom_entry": etree.tostring(atom_entry(edition, links, html_pages[edition.key]),
                                         encoding="unicode"),
            "opds2": opds2_publication(edition, links, html_pages[edition.key], sizes),
        })
    return _json({"catalog": CATALOG_FORMAT, "title": library, "base_url": base_url,
                  "updated": _stamp(updated(editions)),
                  "search": {"atom": SEARCH_ATOM, "opds2": SEARCH_OPDS2, "fields": ["title", "publication"]},
                  "editions": rows})


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _field(value: object) -> str:
    """A catalog field as text: a string, or an object's title or name; anything else is empty."""
    if isinstance(value, dict):
        value = value.get("title") if isinstance(value.get("title"), str) else value.get("name")
    return value if isinstance(value, str) else ""


def matches(row: dict, query: str) -> bool:
    """Whether a ``catalog.json`` edition answers ``query``: every word of it in the title or publication."""
    words = _folded(query).split()
    haystack = _folded(f"{_field(row.get('title'))} {_field(row.get('publication'))}")
    return bool(words) and all(word in haystack for word in words)


def safe_href(value: object) -> str | None:
    """A link a search answer may carry: relative, or http(s); anything else (``javascript:``, ``file:``,
    not text) is None."""
    if not isinstance(value, str) or not value.strip() or _NOT_URL.search(value):
        return None
    try:
        scheme = urlsplit(value.strip()).scheme
    except ValueError:
        return None
    return value.strip() if scheme.lower() in ("", "http", "https") else None


_NOT_URL = re.compile(r"[\x00-\x1f\x7f\\\\]")


def _safe_entry(text: object) -> etree._Element | None:
    """A catalog row's ``atom_entry`` read back: an Atom entry with no comment, instruction or entity
    left, and no link but relative or http(s) ones; None when it is none of that."""
    from ..xhtml import parse

    if not isinstance(text, str):
        return None
    try:
        entry = parse(text)
    except (etree.XMLSyntaxError, ValueError, UnicodeError):
        return None
    if entry.tag != f"{{{ATOM}}}entry":
        return None
    for node in list(entry.iter()):
        parent = node.getparent()
        if parent is None:
            continue
        if not isinstance(node.tag, str):  # comments, processing instructions, unresolved entities
            remove_keep_tail(node)
        elif any(name in node.attrib and safe_href(node.get(name)) is None for name in ("href", "src")):
            parent.remove(node)
    return entry


def _safe_publication(value: object) -> dict | None:
    """A catalog row's ``opds2`` publication, keeping only its relative or http(s) links and images."""
    if not isinstance(value, dict) or not isinstance(value.get("metadata"), dict):
        return None
    publication = dict(value)
    for key in ("links", "images"):
        items = value.get(key) if isinstance(value.get(key), list) else []
        publication[key] = [item for item in items if isinstance(item, dict) and safe_href(item.get("href"))]
    return publication


def _stamp_of(value: object) -> str:
    """A catalog's ``updated`` when it is an RFC 3339 moment, else the floor."""
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return _stamp(moment if moment.tzinfo is None else moment.astimezone(dt.timezone.utc))
    return _stamp(EPOCH_FLOOR)


def search_feed(catalog_data: object, query: str, *, opds2: bool = False, page: int = 1,
                per_page: int = 50) -> bytes:
    """The answer to ``opds/search?q=QUERY`` (OPDS 1.2 acquisition feed) or ``opds/search.opds.json?query=``
    (OPDS 2), both with ``&page=N``, made from ``catalog.json``'s data: the entries of the static feeds, with
    links as the catalog wrote them (relative to ``opds/``, where the search is answered).  For ``broadsheet
    serve``, which hands it whatever the file held: a catalog of another shape gives an empty feed, an edition
    whose entry is not well formed is left out, and only relative and http(s) links are kept."""
    data = catalog_data if isinstance(catalog_data, dict) else {}
    query = clean(query, 200)
    rows = [row for row in (data.get("editions") if isinstance(data.get("editions"), list) else [])
            if isinstance(row, dict) and matches(row, query)]
    count = max(1, math.ceil(len(rows) / per_page))
    page = min(max(1, page), count)
    chunk = rows[(page - 1) * per_page: page * per_page]
    library = clean(data.get("title") if isinstance(data.get("title"), str) else "Library") or "Library"
    base = safe_href(data.get("base_url")) or ""
    prefix = f"{base}opds/" if base else ""
    title = f"{library}: {query}"
    if opds2:
        def at(number: int) -> str:
            return f"{prefix}search.opds.json?query={quote(query, safe='')}&page={number}"

        feed_links: list[dict] = [{"rel": "self", "href": at(page), "type": OPDS2},
                                  {"rel": "start", "href": f"{prefix}{ROOT_OPDS2}", "type": OPDS2},
                                  {"rel": "search", "href": f"{prefix}{SEARCH_OPDS2}", "type": OPDS2,
                                   "templated": True}]
        for rel, number in (("first", 1), ("last", count), ("previous", page - 1), ("next", page + 1)):
            if 1 <= number <= count and (rel in ("first", "last") or number != page):
                feed_links.append({"rel": rel, "href": at(number), "type": OPDS2})
        publications = [p for p in (_safe_publication(row.get("opds2")) for row in chunk) if p is not None]
        text = json.dumps({"metadata": {"title": title, "numberOfItems": len(rows), "itemsPerPage": per_page,
                                        "currentPage": page},
                           "links": feed_links, "publications": publications}, ensure_ascii=False, indent=2)
        return (text + "\n").encode("utf-8", "replace")
    feed = etree.Element(f"{{{ATOM}}}feed", nsmap=NSMAP)
    _sub(feed, f"{{{ATOM}}}id", _urn(library, f"search:{query}"))
    _sub(feed, f"{{{ATOM}}}title", title)
    _sub(feed, f"{{{ATOM}}}updated", _stamp_of(data.get("updated")))
    author = _sub(feed, f"{{{ATOM}}}author")
    _sub(author, f"{{{ATOM}}}name", library)
    _link(feed, "self", f"{prefix}search?q={quote(query, safe='')}&page={page}", ACQUISITION)
    _link(feed, "start", f"{prefix}{ROOT_NAV}", NAVIGATION)
    _link(feed, "up", f"{prefix}{ROOT_NAV}", NAVIGATION)
    _link(feed, "search", f"{prefix}{OPENSEARCH_NAME}", OPENSEARCH_TYPE)
    for rel, number in (("first", 1), ("last", count), ("previous", page - 1), ("next", page + 1)):
        if 1 <= number <= count and (rel in ("first", "last") or number != page):
            _link(feed, rel, f"{prefix}search?q={quote(query, safe='')}&page={number}", ACQUISITION)
    _sub(feed, f"{{{OPENSEARCH}}}totalResults", str(len(rows)))
    _sub(feed, f"{{{OPENSEARCH}}}itemsPerPage", str(per_page))
    _sub(feed, f"{{{OPENSEARCH}}}startIndex", str((page - 1) * per_page + 1))
    for row in chunk:
        entry = _safe_entry(row.get("atom_entry"))
        if entry is not None:
            feed.append(entry)
    return _xml(feed)
