"""Device profiles: what each family of reading systems gets wrong, as data, and how to apply it.

Every profile's EPUB is still plain, valid EPUB 3 (EPUBCheck: 0 errors, 0 warnings); a
profile only chooses among valid forms.  docs/profiles.md gives the source of each quirk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ebooklib import epub
from lxml import etree

from ...paper import parse_size
from ...xhtml import parse as parse_xml
from ...names import EPUB_PROFILES
from ...rendered import NavEntry, RenderedIssue

_XHTML = "http://www.w3.org/1999/xhtml"
_OPS = "http://www.idpf.org/2007/ops"
_NS = {"x": _XHTML, "epub": _OPS}
IBOOKS = "http://vocabulary.itunes.apple.com/rdf/ibooks/vocabulary-extensions-1.0/"
_FONT_TYPES = re.compile(r"^(font/|application/(font-|x-font-|vnd\.ms-opentype))")


@dataclass(frozen=True)
class Profile:
    """The quirks of one family of reading systems."""

    name: str
    title: str
    #: The cover page: "linear" (in reading order) or "nonlinear" (``linear="no"``, reachable
    #: from the landmarks and the guide; readers that show the cover image suppress the page).
    cover_page: str = "linear"
    #: Also write the EPUB 2 ``<guide>`` (cover, contents) that converters still read.
    guide: bool = False
    #: "nested" (sections → articles) or "flat" (one level) in the nav document and the NCX.
    toc: str = "nested"
    #: Keep the landmarks nav (some readers list it as contents entries).
    landmarks: bool = True
    #: What ``dc:creator`` holds: "publisher", or "date" where the library shows the creator
    #: under the cover and the issue date is what tells issues apart.
    creator: str = "publisher"
    #: Default size budget when --max-size is not given.
    max_size: str | None = None
    #: Pictures: long side cap (on top of [epub] max_image_px) and area cap, in pixels.
    max_image_px: int | None = None
    max_image_pixels: int | None = None
    #: Flatten transparent pictures onto white.
    opaque_images: bool = False
    #: With embedded fonts, declare ``ibooks:specified-fonts`` so they are used.
    specified_fonts: bool = False

    @property
    def max_bytes(self) -> int | None:
        return parse_size(self.max_size) if self.max_size else None


#: what each of names.EPUB_PROFILES means
PROFILES: dict[str, Profile] = {
    "generic": Profile(
        name="generic", title="Any EPUB 3 reading system",
    ),
    "kindle": Profile(
        name="kindle", title="Amazon Kindle through Send to Kindle",
        cover_page="nonlinear", guide=True, creator="date", max_size="50MB",
    ),
    "kobo": Profile(
        name="kobo", title="Kobo e-readers and apps (sideloaded EPUB)",
        toc="flat", landmarks=False, opaque_images=True,
    ),
    "apple": Profile(
        name="apple", title="Apple Books",
        max_image_pixels=4_000_000, opaque_images=True, specified_fonts=True,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown EPUB profile {name!r}; expected one of {', '.join(EPUB_PROFILES)}") from None


def flat_nav(entries: tuple[NavEntry, ...]) -> list[NavEntry]:
    """Return sections and their articles as one level, in reading order."""
    flat: list[NavEntry] = []
    for entry in entries:
        flat.append(NavEntry(entry.title, entry.href))
        flat.extend(flat_nav(entry.children))
    return flat


def apply_profile(profile: Profile, book: epub.EpubBook, rendered: RenderedIssue) -> None:
    """Change the ebooklib book of ``rendered`` for the reading systems of ``profile``."""
    documents = {document.kind: document for document in rendered.documents}
    cover = documents.get("cover")
    nav = documents.get("nav")
    if profile.toc == "flat":
        book.toc = [epub.Link(entry.href, entry.title, _uid(entry.href)) for entry in flat_nav(rendered.nav)]
    if nav is not None and (profile.toc == "flat" or not profile.landmarks):
        item = book.get_item_with_id(nav.id)
        if item is not None:
            item.content = _rewrite_nav(item.content, flat=profile.toc == "flat", landmarks=profile.landmarks)
    if profile.cover_page == "nonlinear" and cover is not None and _links_to(book, nav, cover.name):
        book.spine = [(item, "no") if getattr(item, "id", None) == cover.id else item for item in book.spine]
    if profile.guide:
        if cover is not None:
            book.guide.append({"type": "cover", "href": cover.name, "title": cover.title})
        if nav is not None:
            toc_id = re.search(rb"""<nav\b[^>]*\bid=["']([^"']+)["'][^>]*epub:type=["']toc["']|"""
                               rb"""<nav\b[^>]*epub:type=["']toc["'][^>]*\bid=["']([^"']+)["']""", nav.content)
            fragment = "#" + (toc_id.group(1) or toc_id.group(2)).decode() if toc_id else ""
            book.guide.append({"type": "toc", "href": nav.name + fragment, "title": nav.title})
    if profile.creator == "date" and rendered.metadata.date is not None:
        creators = book.metadata.get(epub.NAMESPACES["DC"], {}).get("creator", [])
        book.metadata[epub.NAMESPACES["DC"]]["creator"] = [(rendered.metadata.date.isoformat(), attributes)
                                                          for _value, attributes in creators[:1]]
    if profile.specified_fonts and any(_FONT_TYPES.match(item.media_type or "") for item in book.get_items()):
        book.add_prefix("ibooks", IBOOKS)
        book.add_metadata(None, "meta", "true", {"property": "ibooks:specified-fonts"})


def _links_to(book: epub.EpubBook, nav, name: str) -> bool:
    """A non-linear page must stay reachable: the nav document (its landmarks) links to it."""
    item = book.get_item_with_id(nav.id) if nav is not None else None
    return item is not None and re.search(rb"""href=["']""" + re.escape(name.encode()) + rb"""["'#]""",
                                          item.content) is not None


def _uid(href: str) -> str:
    return "nav-" + re.sub(r"[^A-Za-z0-9]+", "-", href).strip("-")


def _rewrite_nav(content: bytes, *, flat: bool, landmarks: bool) -> bytes:
    root = parse_xml(content)
    if flat:
        for toc in root.iterfind(".//x:nav[@epub:type='toc']", _NS):
            top = toc.find("x:ol", _NS)
            if top is None:
                continue
            items = [li for li in top.iter(f"{{{_XHTML}}}li")]
            for li in items:
                for nested in li.findall("x:ol", _NS):
                    li.remove(nested)
                li.tail = "\n"
            for child in list(top):
                top.remove(child)
            top.text = "\n"
            top.extend(items)
    if not landmarks:
        for nav in root.findall(".//x:nav[@epub:type='landmarks']", _NS):
            _drop(nav)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="utf-8")


def _drop(element: etree._Element) -> None:
    """Remove ``element`` but keep the text that follows it."""
    parent = element.getparent()
    previous = element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
