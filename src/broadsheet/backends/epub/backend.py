"""EPUB 3 backend: ebooklib builds the package; broadsheet fixes what it leaves wrong.

ebooklib writes the OPF (metadata, manifest, spine) and the NCX.  broadsheet hands it
finished XHTML as plain items (ebooklib would re-parse ``EpubHtml`` with an HTML parser),
supplies its own nav document, removes the random identifier and generator stamp, and
re-packs the zip deterministically (``zip``).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path
from typing import ClassVar

from ebooklib import epub

from ...config import EpubConfig, PdfConfig
from ...errors import BackendError
from ...output import atomic_path
from ...rendered import Document, NavEntry, RenderedIssue
from .pictures import fit_budget, picture_limits, prepare_pictures
from .profiles import apply_profile, get_profile
from .zip import repack

_SVG = re.compile(rb"<svg[\s>]")
_MATHML = re.compile(rb"<math[\s>]")


class EpubBackend:
    name: ClassVar[str] = "epub"
    suffix: ClassVar[str] = ".epub"
    render_target: ClassVar[str] = "epub"
    remote_resources: ClassVar[bool] = False

    def __init__(self, *, pdf: PdfConfig, epub: EpubConfig, cache_folder: Path | None = None) -> None:
        self.options = epub

    @classmethod
    def warm_up(cls) -> None:
        """Nothing to start ahead."""

    @staticmethod
    def sharing():
        """While the EPUBs of one build are written: the picture workers are kept from one to the next."""
        from .pictures import keep_workers

        return keep_workers()

    def write(self, rendered: RenderedIssue, target: Path) -> list[Path]:
        """Write one EPUB 3 file atomically; return its path (the one path written).

        Pictures are made for e-readers first (pictures.py); over the size budget they are
        compressed further and the book is packed again, all before the one rename.
        """
        profile = get_profile(self.options.profile)
        limits = picture_limits(self.options, profile)
        prepared = prepare_pictures(rendered, limits)
        with atomic_path(target) as temporary:
            self._pack(prepared, temporary, target)
            budget = self.options.max_bytes or profile.max_bytes
            if budget is not None and temporary.stat().st_size > budget:
                fit_budget(rendered, prepared, limits, budget, self.options.max_size or profile.max_size or "",
                           lambda smaller: self._pack(smaller, temporary, target), temporary, target)
        return [target]

    def _pack(self, rendered: RenderedIssue, path: Path, target: Path) -> None:
        """Build the book and write it to ``path``, packed deterministically."""
        book = self.build_book(rendered)
        # ebooklib's zip goes to a nameless file beside the output, not to memory: uncompressed, it is the
        # size of every document of the book (hundreds of megabytes for a digest of an archive)
        with tempfile.TemporaryFile(dir=path.parent) as raw:
            writer = epub.EpubWriter(raw, book, {"epub3_pages": False, "mtime": rendered.metadata.modified,
                                                 # vertical (竖排) books turn their pages right to left
                                                 "spine_direction": self.options.writing_mode == "vertical",
                                                 "package_direction": False,
                                                 # not compressed here: repack() compresses each entry once
                                                 "compresslevel": 0})
            try:
                writer.process()
                writer.write()
            except OSError:  # a full disk: told as the output folder's fault, like any write
                with contextlib.suppress(Exception):  # the zip ebooklib left open is closed while its file is
                    writer.out.close()
                raise
            except Exception as exc:  # noqa: BLE001 - ebooklib raises bare exceptions
                raise BackendError(f"ebooklib could not write the EPUB: {exc}", target) from None
            raw.seek(0)
            repack(raw, path, rendered.metadata.modified.timetuple()[:6])

    def build_book(self, rendered: RenderedIssue) -> epub.EpubBook:
        meta = rendered.metadata
        book = epub.EpubBook()
        if self.options.writing_mode == "vertical":
            book.direction = "rtl"  # page-progression-direction="rtl" on the spine
        opf = epub.NAMESPACES["OPF"]
        book.metadata.get(opf, {}).pop("generator", None)
        book.set_identifier(meta.identifier)
        book.set_title(meta.title)
        book.set_language(meta.language)
        book.add_author(meta.publisher or meta.publication)
        if meta.publisher:
            book.add_metadata("DC", "publisher", meta.publisher)
        if meta.date:
            book.add_metadata("DC", "date", meta.date.isoformat())
        for subject in meta.subjects:
            book.add_metadata("DC", "subject", subject)
        if meta.description:
            book.add_metadata("DC", "description", meta.description)
        book.add_metadata(None, "meta", meta.publication, {"property": "belongs-to-collection", "id": "collection"})
        book.add_metadata(None, "meta", "series", {"refines": "#collection", "property": "collection-type"})
        if meta.number and meta.number.isdigit():
            book.add_metadata(None, "meta", meta.number, {"refines": "#collection", "property": "group-position"})
        if rendered.page_list:
            book.add_metadata("DC", "source", meta.print_source)
        for prop, value in accessibility_metadata(rendered):
            book.add_metadata(None, "meta", value, {"property": prop})

        for asset in rendered.assets:
            book.add_item(epub.EpubItem(uid=asset.id, file_name=asset.name, media_type=asset.media_type,
                                        content=asset.read()))
        if rendered.cover is not None:
            cover = epub.EpubItem(uid=rendered.cover.id, file_name=rendered.cover.name,
                                  media_type=rendered.cover.media_type, content=rendered.cover.read())
            cover.properties = ["cover-image"]
            book.add_item(cover)
            book.add_metadata(None, "meta", "", {"name": "cover", "content": rendered.cover.id})

        spine = []
        for document in rendered.documents:
            item = epub.EpubItem(uid=document.id, file_name=document.name, media_type="application/xhtml+xml",
                                 content=document.content)
            item.properties = _properties(document)
            book.add_item(item)
            spine.append(item if document.linear else (item, "no"))
        book.spine = spine
        book.toc = [_toc_entry(entry) for entry in rendered.nav]
        book.add_item(epub.EpubNcx())
        apply_profile(get_profile(self.options.profile), book, rendered)  # device quirks: profiles.py
        return book


def _properties(document: Document) -> list[str]:
    properties = ["nav"] if document.kind == "nav" else []
    if _SVG.search(document.content):
        properties.append("svg")
    if _MATHML.search(document.content):
        properties.append("mathml")
    return properties


def _toc_entry(entry: NavEntry):
    if not entry.children:
        return epub.Link(entry.href, entry.title, _uid(entry.href))
    return (epub.Section(entry.title, entry.href), [_toc_entry(child) for child in entry.children])


def _uid(href: str) -> str:
    return "nav-" + re.sub(r"[^A-Za-z0-9]+", "-", href).strip("-")


def accessibility_metadata(rendered: RenderedIssue) -> list[tuple[str, str]]:
    """Return the schema.org accessibility properties of the book (EPUB Accessibility 1.1).

    Only what the book really has is claimed: alternative text when every picture has its own
    (an alt or a caption from the source, not one made up from the title), print page numbers
    when there is a page list; text alone as sufficient unless a page facsimile has a region whose article
    has no text.
    """
    pictures = [img for article in rendered.issue.articles for img in article.images]
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if pictures and all(img.alt.strip() for img in pictures):
        features.append("alternativeText")
    if rendered.page_list:
        features.append("printPageNumbers")
    # Page facsimiles are pictures to look at; the text alone suffices only when every region's article has
    # its text in the book (not a region over an article given as a picture alone).
    facsimiles = [s.facsimile for s in rendered.issue.sections if s.facsimile is not None]
    texts = {a.id for a in rendered.issue.articles if a.text.strip()}
    textual = all(r.article in texts for f in facsimiles for r in f.regions)
    visual = bool(pictures or facsimiles) or rendered.cover is not None
    properties = [("schema:accessMode", "textual")]
    if visual:
        properties.append(("schema:accessMode", "visual"))
    if textual:
        properties.append(("schema:accessModeSufficient", "textual"))
    if visual:
        properties.append(("schema:accessModeSufficient", "textual,visual"))
    properties += [("schema:accessibilityFeature", feature) for feature in features]
    properties.append(("schema:accessibilityHazard", "none"))
    properties.append(("schema:accessibilitySummary", rendered.metadata.summary))
    return properties
