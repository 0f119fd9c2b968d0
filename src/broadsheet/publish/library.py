"""What an output folder holds: its editions, from their manifests or read back from the files.

Nothing in the folder is trusted.  Files are reached through the file door (``files.py``: a link out of the
folder is refused, never followed), every read is bounded (a manifest, an EPUB's OPF and cover, a PDF's
document information), every text is cut to a length and cleaned of what XML cannot carry, and every name
that becomes part of a URL or a file name is either a plain safe word or replaced by a hash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import os
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import manifest as manifests
from ..errors import BroadsheetError, IngestError
from ..files import entries, open_inside

log = logging.getLogger("broadsheet")

SUFFIXES = {".epub": "epub", ".pdf": "pdf"}
MEDIA_TYPES = {"epub": "application/epub+zip", "pdf": "application/pdf", "booklet": "application/pdf"}
FORMAT_LABELS = {"epub": "EPUB", "pdf": "PDF", "booklet": "PDF booklet"}
#: what one EPUB may make us read: its container and package documents, its cover picture
MAX_PACKAGE_BYTES = 2 * 1024 * 1024
MAX_COVER_BYTES = 20 * 1024 * 1024
MAX_TEXT = 500  # characters kept of a title, a publisher, a section name
MAX_DESCRIPTION = 2000
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# what XML 1.0 cannot carry: C0 controls but tab, line feed and carriage return; lone surrogates; U+FFFE/F
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")

NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "c": "urn:oasis:names:tc:opendocument:xmlns:container"}


def clean(text: object, limit: int = MAX_TEXT) -> str:
    """``text`` as something any page or feed can carry: NFC, no control characters, white space
    collapsed, at most ``limit`` characters."""
    value = unicodedata.normalize("NFC", str(text or ""))
    value = _NOT_XML.sub(" ", value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def safe_key(name: str, prefix: str) -> str:
    """``name`` when it is a plain word usable in a file name and a URL, else ``prefix`` and a hash of it."""
    if _SAFE.match(name) and ".." not in name:
        return name
    return f"{prefix}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


@dataclass(frozen=True)
class File:
    format: str  # epub, pdf, booklet
    name: str  # a file name directly inside the folder
    type: str
    size: int

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self.format]


@dataclass(frozen=True)
class Section:
    name: str
    page: str | None
    articles: int | None


@dataclass(frozen=True)
class Edition:
    stem: str
    key: str  # safe for file names and URLs
    kind: str  # issue, digest
    identifier: str
    title: str
    issued: dt.date | None
    number: str | None
    edition: str | None
    description: str
    publication_id: str
    publication_key: str
    publication_title: str
    publisher: str | None
    language: str
    sections: tuple[Section, ...]
    files: tuple[File, ...]
    cover: bytes | None = field(default=None, repr=False, compare=False)  # the picture as found, if any

    @property
    def summary(self) -> str:
        """The sections and their articles: ``理论 (1) · 要闻 (3)``."""
        parts = [f"{s.name} ({s.articles})" if s.articles is not None else s.name for s in self.sections]
        return clean(" · ".join(parts), MAX_DESCRIPTION)

    @property
    def articles(self) -> int | None:
        counts = [s.articles for s in self.sections]
        return sum(counts) if counts and None not in counts else None


@dataclass
class Gathered:
    editions: list[Edition]
    skipped: list[str]  # one line per file left out, naming it and why


def gather(folder: Path) -> Gathered:
    """Every edition in ``folder`` (its top level): from manifests where they are, else read from the files."""
    root = Path(os.path.realpath(folder))
    if not root.is_dir():
        raise IngestError("not a folder", folder)
    kept, refused = entries(root, root)
    skipped = [f"{path}: leads outside the folder; not published" for path in refused
               if path.suffix.lower() in SUFFIXES]
    candidates: dict[str, int] = {}
    for path in kept:
        name = path.name
        if name.startswith(".") or path.suffix.lower() not in SUFFIXES:
            continue
        try:
            name.encode("utf-8")
            info = os.stat(path)
        except (UnicodeEncodeError, OSError):
            skipped.append(f"{os.fsencode(path)!r}: a name that is not UTF-8, or unreadable; not published")
            continue
        if os.path.isfile(path):
            candidates[name] = info.st_size
    claimed: set[str] = set()
    editions: list[Edition] = []
    for path in manifests.listing(root):
        try:
            record = manifests.read(path, root)
        except BroadsheetError as exc:
            skipped.append(f"{exc}; the files are read instead")
            continue
        names = [f.name for f in record.files if f.format != "html"]
        names += [record.stem + ".epub", record.stem + ".pdf", record.stem + "-booklet.pdf"]
        files = _files(dict.fromkeys(n for n in names if "/" not in n and n in candidates and n not in claimed),
                       candidates)
        if not files:
            continue  # the outputs it describes are gone
        claimed.update(f.name for f in files)
        try:
            editions.append(_from_manifest(record, files, root))
        except BroadsheetError as exc:
            skipped.append(str(exc))
    manifested = len(editions)
    groups: dict[str, list[str]] = {}
    for name in sorted(candidates):
        if name in claimed:
            continue
        stem, suffix = name.rsplit(".", 1)
        if suffix.lower() == "pdf" and stem.endswith("-booklet") and any(
                f"{stem[:-8]}.{s}" in candidates for s in ("epub", "pdf", "EPUB", "PDF")):
            stem = stem[:-8]
        groups.setdefault(stem, []).append(name)
    for stem, names in groups.items():
        files = _files(names, candidates)
        try:
            editions.append(_from_files(stem, files, root))
        except BroadsheetError as exc:
            skipped.append(f"{exc}; not published")
    # an edition read from its files joins the publication of that title that a manifest names
    named = {e.publication_title: (e.publication_id, e.publication_key) for e in reversed(editions[:manifested])}
    for n, edition in enumerate(editions[manifested:], start=manifested):
        if edition.publication_title in named:
            publication_id, key = named[edition.publication_title]
            editions[n] = dataclasses.replace(edition, publication_id=publication_id, publication_key=key)
    # a copied file shares its identifier with the original: each entry of a feed needs its own
    seen: set[str] = set()
    for n, edition in enumerate(editions):
        if edition.identifier in seen:
            editions[n] = dataclasses.replace(edition, identifier=f"urn:broadsheet:{edition.key}")
        seen.add(editions[n].identifier)
    return Gathered(editions, skipped)


def _files(names, candidates: dict[str, int]) -> tuple[File, ...]:
    found = []
    for name in names:
        stem, suffix = name.rsplit(".", 1)
        fmt = SUFFIXES["." + suffix.lower()]
        if fmt == "pdf" and stem.endswith("-booklet"):
            fmt = "booklet"
        found.append(File(fmt, name, MEDIA_TYPES[fmt], candidates[name]))
    order = {"epub": 0, "pdf": 1, "booklet": 2}
    return tuple(sorted(found, key=lambda f: (order[f.format], f.name)))


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    match = _DATE.search(text)
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups()))
    except ValueError:
        return None


def _from_manifest(record: manifests.Manifest, files: tuple[File, ...], root: Path) -> Edition:
    cover = None
    names = {f.name for f in files}
    if record.cover is not None and record.cover.file in names:
        try:
            with open_inside(root / record.cover.file, root, "edition") as handle:
                cover = _member(zipfile.ZipFile(handle), record.cover.member, MAX_COVER_BYTES, root / record.cover.file)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, RuntimeError, EOFError, BroadsheetError) as exc:
            log.warning("%s: cover not read (%s)", root / record.cover.file, clean(exc, 200))
    elif any(f.format == "epub" for f in files):
        epub = next(f for f in files if f.format == "epub")
        cover = _read_epub(root / epub.name, root).get("cover")
    publication = record.publication
    return Edition(
        stem=record.stem, key=safe_key(record.stem, "e"), kind=record.kind,
        identifier=clean(record.identifier) or f"urn:broadsheet:{safe_key(record.stem, 'e')}",
        title=clean(record.title), issued=_date(record.issued), number=clean(record.number) or None,
        edition=clean(record.edition) or None, description=clean(record.description, MAX_DESCRIPTION),
        publication_id=clean(publication.id, 200), publication_key=safe_key(publication.id, "p"),
        publication_title=clean(publication.title), publisher=clean(publication.publisher) or None,
        language=clean(publication.language, 64) or "und",
        sections=tuple(Section(clean(s.name), clean(s.page) or None, s.articles) for s in record.sections),
        files=files, cover=cover)


def _member(archive: zipfile.ZipFile, name: str, limit: int, path: Path) -> bytes:
    """One member of an archive, at most ``limit`` bytes whatever its header says."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise IngestError(f"{name} is {info.file_size:,} bytes, more than {limit:,}", path)
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise IngestError(f"{name} is more than {limit:,} bytes", path)
    return data


def _read_epub(path: Path, root: Path) -> dict:
    """An EPUB's metadata from its package document (the safe parser, bounded reads) and its cover."""
    from lxml import etree

    from ..xhtml import parse

    found: dict = {}
    try:
        with open_inside(path, root, "edition") as handle:
            archive = zipfile.ZipFile(handle)
            container = parse(_member(archive, "META-INF/container.xml", MAX_PACKAGE_BYTES, path))
            opf_name = container.xpath("string(//c:rootfile/@full-path)", namespaces=NS)
            package = parse(_member(archive, opf_name, MAX_PACKAGE_BYTES, path))

            def text(xpath: str) -> str:
                return str(package.xpath(f"string({xpath})", namespaces=NS))

            found["title"] = text("//opf:metadata/dc:title[1]")
            found["language"] = text("//opf:metadata/dc:language[1]")
            found["publisher"] = text("//opf:metadata/dc:publisher[1]") or text("//opf:metadata/dc:creator[1]")
            found["date"] = text("//opf:metadata/dc:date[1]")
            found["identifier"] = text("//opf:metadata/dc:identifier[1]")
            found["description"] = text("//opf:metadata/dc:description[1]")
            found["collection"] = text("//opf:metadata/opf:meta[@property='belongs-to-collection'][1]")
            found["subjects"] = [str(s) for s in package.xpath("//opf:metadata/dc:subject/text()",
                                                               namespaces=NS)][:200]
            href = text("//opf:manifest/opf:item[contains(concat(' ', @properties, ' '), ' cover-image ')][1]/@href")
            if not href:
                cover_id = text("//opf:metadata/opf:meta[@name='cover'][1]/@content")
                if cover_id:
                    href = str(package.xpath("string(//opf:manifest/opf:item[@id=$i][1]/@href)", namespaces=NS,
                                             i=cover_id))
            if href and "://" not in href:
                member = posixpath.normpath(posixpath.join(posixpath.dirname(opf_name), href.split("#")[0]))
                if not member.startswith(("../", "/")):
                    try:
                        found["cover"] = _member(archive, member, MAX_COVER_BYTES, path)
                    except (KeyError, BroadsheetError, zipfile.BadZipFile, OSError) as exc:
                        log.warning("%s: cover not read (%s)", path, clean(exc, 200))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError, OSError, ValueError, RuntimeError,
            EOFError) as exc:
        raise IngestError(f"not a readable EPUB ({clean(exc, 200)})", path) from None
    return found


def _read_pdf(path: Path, root: Path) -> dict:
    """A PDF's document information (title, author, subject, keywords), read with pikepdf."""
    import pikepdf

    try:
        with open_inside(path, root, "edition") as handle, pikepdf.open(handle) as pdf:
            info = pdf.docinfo
            found = {}
            for key, name in (("/Title", "title"), ("/Author", "publisher"), ("/Subject", "description"),
                              ("/Keywords", "keywords"), ("/CreationDate", "created")):
                value = info.get(key)
                if value is not None:
                    found[name] = str(value)[:MAX_DESCRIPTION]
            return found
    except (pikepdf.PdfError, OSError, ValueError, RuntimeError) as exc:
        raise IngestError(f"not a readable PDF ({clean(exc, 200)})", path) from None


def _from_files(stem: str, files: tuple[File, ...], root: Path) -> Edition:
    """An edition with no manifest: its EPUB's package document, else its PDF's document information."""
    epub = next((f for f in files if f.format == "epub"), None)
    if epub is not None:
        meta = _read_epub(root / epub.name, root)
        sections = tuple(Section(clean(s), None, None) for s in meta.get("subjects", ()))
    else:
        pdf = next(f for f in files if f.format in ("pdf", "booklet"))
        meta = _read_pdf(root / pdf.name, root)
        sections = tuple(Section(clean(s), None, None) for s in (meta.get("keywords") or "").split(",")
                         if clean(s))[:200]
    title = clean(meta.get("title")) or clean(stem)
    issued = _date(meta.get("date")) or _date(title) or _date(stem)
    publication = clean(meta.get("collection")) or clean(_DATE.sub("", title).strip(" -–·")) or title
    return Edition(
        stem=stem, key=safe_key(stem, "e"), kind="issue",
        identifier=clean(meta.get("identifier")) or f"urn:broadsheet:{safe_key(stem, 'e')}",
        title=title, issued=issued, number=None, edition=None,
        description=clean(meta.get("description"), MAX_DESCRIPTION),
        publication_id=publication, publication_key=safe_key(_slug(publication), "p"),
        publication_title=publication, publisher=clean(meta.get("publisher")) or None,
        language=clean(meta.get("language"), 64) or "und", sections=sections, files=files,
        cover=meta.get("cover"))


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug if slug and slug.isascii() else title


def newest_first(editions: list[Edition]) -> list[Edition]:
    """Dated editions newest first, then the undated; ties by title and name, so the order is the folder's."""
    return sorted(editions, key=lambda e: (e.issued is not None, e.issued or dt.date.min, e.title, e.stem),
                  reverse=True)
