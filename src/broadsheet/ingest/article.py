"""An article page saved from a web browser: the story without the site around it.

trafilatura finds the main text and the metadata (title, authors, date, site name,
description); it is given the page's text only, never a URL, so nothing is fetched.
Pictures are used only when the file sits beside the page (a browser's ``<name>_files/``
folder is fine); captions come from the page's ``figure``/``figcaption`` (trafilatura drops
them) or else the picture's ``alt`` text.  Founder/People's Daily e-paper pages are the
"epaper" ingester's, which scores them higher.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
from pathlib import Path
from urllib.parse import unquote

from lxml import etree, html as lxml_html

from ..errors import IngestError
from ..model import Article, Block, Heading, Paragraph
from .base import Context, Draft, DraftSection, guess_language, language_tag, log, slug
from .encoding import read_text

from .html import clean_text, flatten_raw, html_to_blocks, markup_depth, remove_keep_tail, warn_flattened
from .images import ImageResolver

KIND = "article"
SUFFIXES = {".htm", ".html", ".xhtml", ".shtml"}
MAX_BYTES = 32 * 1024 * 1024
MIN_TEXT = 20  # characters of text outside links: less is a menu or a footer, not an article

_START = re.compile(
    rb"^(?:\s|\xef\xbb\xbf|<\?xml[^>]*>|<!--.*?-->)*<(?:!DOCTYPE\s+html|html|head|body|meta|title)[\s>/]", re.I | re.S)
_XML_DECLARATION = re.compile(r"^\s*(?:\ufeff)?<\?xml[^>]*\?>", re.I)
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.I)
_SPACE = re.compile(r"\s+")
_BYLINE = re.compile(r"^(?:by|von|par|por|door)\s+(.{2,80})$", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s*[_|｜]\s*")
_CAPTION_CLASS = re.compile(r"(?:^|[\s_-])(?:wp-caption-text|caption|figcaption|image-caption|img-caption|photo-caption)"
                            r"(?:$|[\s_-])", re.I)
_HI = {"#b": "b", "#i": "i", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}

# trafilatura reports what it discards at WARNING level; broadsheet reports what matters itself.
for _name in ("trafilatura", "htmldate", "courlan", "justext", "readability"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.ERROR)


def detect(path: Path, head: bytes) -> int:
    """50 for any HTML page (the e-paper ingester claims Founder pages with a higher score)."""
    sample = head[:4096].replace(b"\x00", b"")  # UTF-16 markup reads as ASCII without its zero bytes
    if _START.match(sample) or path.suffix.lower() in SUFFIXES:
        return 50
    return 0


def load(path: Path, ctx: Context) -> list[Draft]:
    text = _read(path, ctx.root)
    import trafilatura

    markup = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses text that declares its encoding
    page = _parse(markup, path)
    if _too_deep(page):  # libxml2 stops at 256 levels: what is deeper is flattened, its text kept
        markup, flattened = flatten_raw(markup)
        if flattened:
            warn_flattened(path)
            page = _parse(markup, path)
    # The page's text, never a URL: trafilatura fetches nothing.
    try:
        document = trafilatura.bare_extraction(
            markup, include_images=True, include_formatting=True, include_links=True, include_tables=True,
            include_comments=False, with_metadata=True, deduplicate=False,
            # dates only from markup and visible dates, never a guess such as "© 2024" → 2024-01-01
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # noqa: BLE001 - a fault of the extractor on this page is a fault of the page
        raise IngestError(f"no article text found (the extractor failed: {exc})", path) from None
    if document is None or document.body is None or _own_text_length(document.body) < MIN_TEXT:
        raise IngestError("no article text found", path)

    title = _clean(document.title) or _clean(_first_heading(document.body)) or _clean(page.findtext(".//title"))
    resolver = ImageResolver(path, ctx.root, remote=ctx.allow_remote, remote_hosts=ctx.remote_hosts)
    captions = _captions(page)
    body = _to_html(document.body, captions)
    blocks = html_to_blocks(etree.tostring(body, encoding="unicode", method="html"), resolver, path)
    if blocks and isinstance(blocks[0], Heading) and title and _same(blocks[0].content.text, title):
        blocks = blocks[1:]
    blocks, byline = _take_byline(blocks)
    if not any(isinstance(b, Paragraph) and b.content.text for b in blocks):
        raise IngestError("no article text found", path)
    title = title or _first_words(blocks) or path.stem

    authors = _authors(document.author) or _authors(_meta(page, "author"))
    if not authors and byline:
        match = _BYLINE.match(byline)
        names = re.split(r"\s*(?:,|;|&|、|\band\b)\s*", match.group(1)) if match else []
        authors = _authors("; ".join(names))
    from .language import resolve  # the text outweighs a declaration it clearly contradicts

    page_language = resolve(language_tag(page.get("lang")) or language_tag(page.get("xml:lang"))
                            or language_tag(_meta(page, "content-language", "http-equiv"))
                            or language_tag(document.language) or ctx.language, title + " " + " ".join(
        b.content.text for b in blocks[:12] if isinstance(b, Paragraph)))
    language = ctx.language or page_language
    article = Article(
        id=slug(title) or "article", title=title, lang=page_language,
        subtitle=_subtitle(document.description, title, blocks), authors=authors, byline=byline,
        tags=_tags(document.tags), source=_source(document.url, text), source_path=path, blocks=blocks,
    )
    return [Draft(
        source=path, kind=KIND, publication=_clean(document.sitename) or _site_from_title(page, title),
        language=language, date=_date(document.date),
        sections=[DraftSection(name=None, articles=[article])],  # the loader names it
        order=(10**9, path.name),
    )]


def _parse(markup: str, path: Path) -> lxml_html.HtmlElement:
    try:
        return lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        raise IngestError("not an HTML page", path) from None


def _too_deep(page: lxml_html.HtmlElement) -> bool:
    """Whether the page nests as deep as the markup depth (counted by libxml2, without a pass in Python)."""
    return bool(page.xpath(f"boolean(//*[count(ancestor::*) >= {markup_depth() - 1}])"))


def _read(path: Path, root: Path) -> str:
    return read_text(path, root, max_bytes=MAX_BYTES)


# --- body ----------------------------------------------------------------------------------


def _to_html(body: etree._Element, captions: dict[str, str]) -> etree._Element:
    """Return trafilatura's XML body as HTML, pictures in figures with their captions."""
    root = copy.deepcopy(body)
    root.tag = "div"
    root.attrib.clear()
    used: set[str] = set()
    for graphic in list(root.iter("graphic")):
        src = graphic.get("src") or ""
        img = etree.Element("img", src=src)
        for attribute in ("alt", "title"):
            if graphic.get(attribute):
                img.set(attribute, graphic.get(attribute))
        caption = captions.get(_src_key(src))
        figure = etree.Element("figure")
        figure.append(img)
        if caption:
            etree.SubElement(figure, "figcaption").text = caption
            used.add(_normalise(caption))
        figure.tail = graphic.tail
        graphic.getparent().replace(graphic, figure)
    for element in list(root.iter()):
        tag = element.tag
        if not isinstance(tag, str) or element is root:
            continue
        rend = element.get("rend", "")
        if tag == "head":
            level = rend[1:] if re.fullmatch(r"h[1-6]", rend) else "3"
            _retag(element, f"h{level}")
        elif tag == "hi":
            _retag(element, _HI.get(rend, "span"))
        elif tag == "list":
            _retag(element, "ol" if rend == "ol" else "ul")
        elif tag == "item":
            _retag(element, "li")
        elif tag == "quote":
            _retag(element, "blockquote")
        elif tag == "code":
            _retag(element, "pre")
        elif tag == "lb":
            _retag(element, "br")
        elif tag == "ref":
            target = element.get("target", "")
            _retag(element, "a")
            if target:
                element.set("href", target)
        elif tag == "row":
            _retag(element, "tr")
        elif tag == "cell":
            _retag(element, "th" if element.get("role") == "head" else "td")
        elif tag in {"del", "p", "table"}:
            _retag(element, tag)
    # A caption that trafilatura kept as a paragraph of its own is now in its figure.
    for paragraph in list(root.iter("p")):
        if used and _normalise(paragraph.xpath("string()")) in used and paragraph.getparent() is not None:
            remove_keep_tail(paragraph)
    return root


def _retag(element: etree._Element, tag: str) -> None:
    element.tag = tag
    for key in list(element.attrib):
        if not (tag == "a" and key == "href"):
            del element.attrib[key]


def _own_text_length(body: etree._Element) -> int:
    """Count the characters of ``body`` that are not link text."""
    total = 0
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.text and element.tag != "ref" and not any(a.tag == "ref" for a in element.iterancestors()):
            total += len(_SPACE.sub("", element.text))
        if element.tail and element is not body and not any(a.tag == "ref" for a in element.iterancestors()):
            total += len(_SPACE.sub("", element.tail))
    return total


def _captions(page: etree._Element) -> dict[str, str]:
    """Map each picture's source to its caption in the page (figcaption, or a caption element next to it)."""
    found: dict[str, str] = {}
    for img in page.iter("img"):
        caption = ""
        figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
        if figure is not None:
            element = next(figure.iter("figcaption"), None)
            caption = _clean(element.text_content()) if element is not None else ""
        if not caption:
            for ancestor in list(img.iterancestors())[:2]:
                element = next((e for e in ancestor.iter() if isinstance(e.tag, str) and e is not img
                                and _CAPTION_CLASS.search(e.get("class", "")) and not list(e.iter("img"))), None)
                if element is not None:
                    caption = _clean(element.text_content())
                    break
        if caption:
            for attribute, value in img.attrib.items():
                if attribute == "src" or attribute.startswith("data-src"):
                    found.setdefault(_src_key(value), caption)
    return found


def _src_key(src: str) -> str:
    src = unquote(src.strip())
    if src.startswith("//"):
        src = "http:" + src
    return src


# --- metadata ------------------------------------------------------------------------------


def _take_byline(blocks: tuple[Block, ...]) -> tuple[tuple[Block, ...], str | None]:
    for index, block in enumerate(blocks[:3]):
        if isinstance(block, Paragraph) and _BYLINE.match(block.content.text):
            return blocks[:index] + blocks[index + 1:], block.content.text
    return blocks, None


def _first_heading(body: etree._Element) -> str | None:
    head = body.find(".//head")
    return head.xpath("string()") if head is not None else None


def _first_words(blocks: tuple[Block, ...]) -> str:
    text = next((b.content.text for b in blocks if isinstance(b, Paragraph) and b.content.text), "")
    words = text.split()
    if len(words) <= 1:
        return text[:16] + ("…" if len(text) > 16 else "")
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


def _authors(value: str | None) -> tuple[str, ...]:
    if not value or re.match(r"^https?://", value.strip()):
        return ()
    found: list[str] = []
    for name in re.split(r"\s*;\s*", value):
        name = _clean(re.sub(r"^(?:by|von|par)\s+", "", name.strip(), flags=re.I))
        if name and name not in found:
            found.append(name)
    return tuple(found)


def _tags(values) -> tuple[str, ...]:
    found: list[str] = []
    for value in values or ():
        for tag in re.split(r"\s*[,，;；、]\s*", value or ""):
            tag = _clean(tag)
            if tag and tag not in found:
                found.append(tag)
    return tuple(found)


def _subtitle(description: str | None, title: str, blocks: tuple[Block, ...]) -> str | None:
    """Use the page's description as a standfirst unless it only repeats the title or the opening."""
    description = _clean(description)
    if not description or _same(description, title):
        return None
    opening = " ".join(b.content.text for b in blocks[:3] if isinstance(b, Paragraph))
    stem = description.rstrip("….").strip()
    if stem and _normalise(stem) in _normalise(opening):
        return None
    return description


def _source(url: str | None, text: str) -> str | None:
    if url and re.match(r"^https?://", url):
        return url
    match = _SAVED_FROM.search(text[:4096])
    return match.group(1) if match else None


def _site_from_title(page: etree._Element, title: str) -> str | None:
    """Take the site's name from a ``<title>`` like "Headline | Site" or "标题_栏目_网站名"."""
    full = _clean(page.findtext(".//title"))
    if not full or _same(full, title):
        return None
    parts = [p for p in _TITLE_SEPARATORS.split(full) if p.strip()]
    if len(parts) > 1 and _same(parts[0], title):
        return _clean(parts[-1])
    return None


def _meta(page: etree._Element, name: str, attribute: str = "name") -> str | None:
    for meta in page.iter("meta"):
        if (meta.get(attribute) or "").lower() == name and meta.get("content"):
            return meta.get("content")
    return None


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        log.info("unreadable date %r", value)
        return None


def _clean(value: str | None) -> str:
    return _SPACE.sub(" ", clean_text(value or "")).strip()


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", clean_text(text)).strip().casefold()


def _same(a: str, b: str) -> bool:
    return _normalise(a) == _normalise(b)
