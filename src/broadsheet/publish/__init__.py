"""``broadsheet publish DIR``: a folder of built editions becomes a static library any web server can serve.

What it writes into DIR (names are a contract with ``broadsheet serve``; keep them)::

    index.html                       the library: publications, latest editions, downloads
    library.css
    publications/<pub>.html          one page per publication, every edition
    covers/<edition>.jpg             cover (the EPUB's own, else drawn) and thumbnail
    covers/<edition>-thumb.jpg
    opds/root.nav.atom               OPDS 1.2 navigation feed (latest editions, one entry per publication)
    opds/latest.atom                 OPDS 1.2 acquisition feeds, newest first, paginated:
    opds/latest-p2.atom …              latest-pN.atom, pub-<pub>.atom, pub-<pub>-pN.atom
    opds/pub-<pub>.atom
    opds/root.opds.json              the same as OPDS 2.0: root (navigation), latest*.opds.json,
    opds/latest.opds.json …            pub-<pub>*.opds.json
    opds/opensearch.xml              OpenSearch description: search?q={searchTerms} (answered by serve)
    opds/catalog.json                every edition, for a server's search (``opds.search_feed``): serve
                                       answers search?q= and search.opds.json?query= from it
    .broadsheet/published.json       what publish wrote, so that what is no longer wanted is removed

Each file is written only when its bytes change, atomically (a temporary beside it, renamed over it); feeds
are written before the feeds and pages that link to them, and the root feeds and index.html last, so a
reader never follows a link to a file not yet there.  The same folder gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BroadsheetError, write_error

log = logging.getLogger("broadsheet")

STATE = Path(".broadsheet") / "published.json"
_OWN_FOLDERS = ("opds", "covers", "publications")
_OWN_FILES = ("index.html", "library.css")
DEFAULT_PER_PAGE = 50


class PublishError(BroadsheetError):
    """The library cannot be written (a link where a folder of it must be, a bad --base-url)."""


@dataclass
class Report:
    editions: int = 0
    publications: int = 0
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    removed: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def base_url(value: str | None) -> str | None:
    """A checked ``--base-url``: http(s), a host, no query or fragment; ends with ``/``."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or any(
            c.isspace() or c in "<>\"'\\" for c in value):
        raise PublishError(f"--base-url must be an http(s) address such as https://example.org/papers/, "
                           f"not {value[:200]!r}")
    return value if value.endswith("/") else value + "/"


class _Writer:
    """Writes files under the library's root: only what changed, each atomically, never through a link."""

    def __init__(self, root: Path, report: Report) -> None:
        self.root = root
        self.report = report
        self.made: list[str] = []

    def _folder(self, relative: Path) -> None:
        path = self.root
        for part in relative.parts:
            path = path / part
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o755)
                continue
            if not stat.S_ISDIR(info.st_mode):
                raise PublishError("is a link or a file where the library needs a folder; nothing written there",
                                   path)

    def keep(self, *relative: str) -> None:
        """Files left as they are, still the library's own."""
        self.made.extend(relative)
        self.report.unchanged += len(relative)

    def put(self, relative: str, data: bytes) -> None:
        from ..output import atomic_path

        self.made.append(relative)
        target = self.root / relative
        self._folder(Path(relative).parent)
        try:
            info = os.lstat(target)
            if stat.S_ISREG(info.st_mode) and info.st_size == len(data):
                with open(target, "rb") as handle:
                    if handle.read(len(data) + 1) == data:
                        self.report.unchanged += 1
                        return
        except FileNotFoundError:
            pass
        with atomic_path(target) as temporary:
            temporary.write_bytes(data)
        self.report.written.append(target)


def _state(root: Path, part: str):
    """What the last publish wrote: ``files`` (only names inside the library's own files and folders), or
    ``covers`` (edition key → what its cover was made from, its sizes and the SHA-256 of its files)."""
    path = root / STATE
    data = None
    try:
        if not os.path.islink(path) and not os.path.islink(path.parent):
            with open(path, "rb") as handle:
                data = json.loads(handle.read(16 * 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return [] if part == "files" else {}
    if part == "covers":
        covers = data.get("covers")
        return covers if isinstance(covers, dict) else {}
    names = data.get("files", [])
    return [n for n in names if isinstance(n, str) and _own(n)] if isinstance(names, list) else []


def _unchanged(root: Path, paths: tuple[str, str], known: dict) -> bool:
    """Whether the cover files are there, regular files, with the bytes the last publish recorded."""
    digests = known.get("sha256")
    sizes = known.get("sizes")
    if not (isinstance(digests, list) and len(digests) == 2 and isinstance(sizes, list) and len(sizes) == 2
            and all(isinstance(s, list) and len(s) == 2 and all(isinstance(n, int) for n in s) for s in sizes)):
        return False
    for name, digest in zip(paths, digests, strict=True):
        try:
            if not stat.S_ISREG(os.lstat(root / name).st_mode):
                return False
            with open(root / name, "rb") as handle:
                if hashlib.sha256(handle.read(64 * 1024 * 1024)).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True


def _own(name: str) -> bool:
    parts = Path(name).parts
    return (not Path(name).is_absolute() and ".." not in parts and bool(parts)
            and (name in _OWN_FILES or (len(parts) == 2 and parts[0] in _OWN_FOLDERS)))


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.0f} {unit}" if size >= 10 else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def publish(folder: Path, *, base: str | None = None, title: str | None = None,
            per_page: int = DEFAULT_PER_PAGE) -> Report:
    """Publish the editions in ``folder`` as a static library (see the module's description)."""
    from urllib.parse import quote

    from ..resources import data_dir
    from . import covers, opds
    from .library import clean, gather, newest_first

    base = base_url(base)
    root = Path(os.path.realpath(folder))
    gathered = gather(folder)
    report = Report(skipped=list(gathered.skipped))
    editions = newest_first(gathered.editions)
    publications: dict[str, list] = {}
    for edition in editions:
        publications.setdefault(edition.publication_key, []).append(edition)
    ordered = sorted(publications.items(), key=lambda item: (item[1][0].publication_title, item[0]))
    titles = {e.publication_title for e in editions}
    library = clean(title) if title else (next(iter(titles)) if len(titles) == 1 else "Library")
    links = opds.Links(base)
    html_pages = {e.key: f"publications/{e.publication_key}.html#{e.key}" for e in editions}
    report.editions, report.publications = len(editions), len(publications)

    writer = _Writer(root, report)
    try:
        # covers first, then the pages and feeds that show them
        sizes: dict = {}
        made_before = _state(root, "covers")
        made_now: dict[str, dict] = {}
        for edition in editions:
            source = covers.source_digest(edition)
            paths = (opds.cover_path(edition), opds.cover_path(edition, True))
            known = made_before.get(edition.key)
            if isinstance(known, dict) and known.get("source") == source and _unchanged(root, paths, known):
                writer.keep(*paths)  # made from the same picture: the same bytes, not made again
                made_now[edition.key] = known
            else:
                cover, thumbnail, cover_size, thumb_size = covers.make(edition)
                writer.put(paths[0], cover)
                writer.put(paths[1], thumbnail)
                made_now[edition.key] = {"source": source, "sizes": [list(cover_size), list(thumb_size)],
                                         "sha256": [hashlib.sha256(cover).hexdigest(),
                                                    hashlib.sha256(thumbnail).hexdigest()]}
            sizes[edition.key] = tuple(tuple(size) for size in made_now[edition.key]["sizes"])
        writer.put("library.css", (data_dir("styles") / "library.css").read_bytes())

        def card(edition) -> dict:
            thumb = sizes[edition.key][1]
            files = [{"href": quote(f.name, safe=""), "type": f.type, "label": f.label, "size": _size(f.size)}
                     for f in edition.files]
            return {"key": edition.key, "title": edition.title, "language": edition.language,
                    "issued": edition.issued.isoformat() if edition.issued else None, "edition": edition.edition,
                    "number": edition.number, "publisher": edition.publisher,
                    "publication_title": edition.publication_title,
                    "publication_page": f"publications/{edition.publication_key}.html",
                    "sections": [{"name": s.name, "articles": s.articles} for s in edition.sections[:50]],
                    "files": files, "primary": f"#{edition.key}",
                    "thumbnail": opds.cover_path(edition, True), "thumb_width": thumb[0], "thumb_height": thumb[1]}

        environment = _environment(data_dir("templates") / "library")
        per_publication = []
        for key, items in ordered:
            first = items[0]
            stem = opds.feed_stem(key)
            for name, data in opds.acquisition_feeds(library, stem, first.publication_title, items, per_page,
                                                     links, html_pages).items():
                writer.put(f"opds/{name}", data)
            for name, data in opds.opds2_feeds(first.publication_title, stem, items, per_page, links, html_pages,
                                               sizes).items():
                writer.put(f"opds/{name}", data)
            page = environment.get_template("publication.html").render(
                library=library, root="../", editions=[card(e) for e in items],
                publication={"title": first.publication_title, "language": first.language,
                             "publisher": first.publisher})
            writer.put(f"publications/{key}.html", page.encode("utf-8"))
            thumb = sizes[first.key][1]
            per_publication.append({"title": first.publication_title, "language": first.language,
                                    "page": f"publications/{key}.html", "count": len(items),
                                    "latest": first.issued.isoformat() if first.issued else None,
                                    "thumbnail": opds.cover_path(first, True), "thumb_width": thumb[0],
                                    "thumb_height": thumb[1]})
        for name, data in opds.acquisition_feeds(library, "latest", "Latest editions", editions, per_page, links,
                                                 html_pages).items():
            writer.put(f"opds/{name}", data)
        for name, data in opds.opds2_feeds("Latest editions", "latest", editions, per_page, links, html_pages,
                                           sizes).items():
            writer.put(f"opds/{name}", data)
        writer.put(f"opds/{opds.CATALOG_NAME}", opds.catalog(library, editions, links, html_pages, sizes, base))
        writer.put(f"opds/{opds.OPENSEARCH_NAME}", opds.opensearch(library, links))
        listing = [(key, items[0].publication_title, items) for key, items in ordered]
        writer.put(f"opds/{opds.ROOT_NAV}", opds.root_navigation(library, listing, editions, links))
        writer.put(f"opds/{opds.ROOT_OPDS2}", opds.opds2_root(library, listing, editions, links))
        latest = editions[:per_page]
        index = environment.get_template("index.html").render(
            library=library, root="", editions=editions, publications=per_publication,
            latest=[card(e) for e in latest], more=len(editions) > len(latest))
        writer.put("index.html", index.encode("utf-8"))
        # what the last publish wrote and this one did not: removed, once nothing links to it
        wanted = set(writer.made)
        for name in sorted(set(_state(root, "files")) - wanted):
            path = root / name
            if os.path.lexists(path) and not os.path.isdir(path) and not os.path.islink(path.parent):
                os.unlink(path)
                report.removed.append(path)
        writer.put(str(STATE), (json.dumps({"files": sorted(wanted), "covers": made_now}, indent=1, sort_keys=True)
                                + "\n").encode("utf-8"))
    except OSError as exc:
        fault = write_error(exc, root)
        if fault is None:
            raise
        raise fault from None
    return report


def _environment(folder: Path):
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, lstrip_blocks=True)


def search_feed(catalog_data: dict, query: str, **options) -> bytes:
    """The answer to a search of the catalog (``opds.search_feed``): for ``broadsheet serve``."""
    from .opds import search_feed as feed

    return feed(catalog_data, query, **options)
