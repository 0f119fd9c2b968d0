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
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lxml import etree, html as lxml_html

from ..errors import IngestError
from ..model import Article, Block, Heading, ListBlock, Paragraph
from .base import Context, Draft, DraftSection, import_tables, language_tag, log, slug
from .encoding import read_text

from .html import clean_text, flatten_raw, html_to_blocks, markup_depth, remove_keep_tail, warn_flattened
from .images import ImageResolver

if TYPE_CHECKING:
    from . import sites

KIND = "article"
SUFFIXES = {".htm", ".html", ".xhtml", ".shtml"}
MAX_BYTES = 32 * 1024 * 1024
MIN_TEXT = 20  # characters of text outside links: less is a menu or a footer, not an article

_START = re.compile(
    rb"^(?:\s|\xef\xbb\xbf|<\?xml[^>]*>|<!--.*?-->)*<(?:!DOCTYPE\s+html|html|head|body|meta|title)[\s>/]", re.I | re.S)
_XML_DECLARATION = re.compile(r"^\s*(?:\ufeff)?<\?xml[^>]*\?>", re.I)
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)\s*(https?://[^\s>]+?)\s*-->", re.I)
_SPACE = re.compile(r"\s+")
_WORDS = re.compile(r"\w+")
POOR_LENGTH = 80  # characters of text (without spaces): less is worth a warning
POOR_LINKS = 0.5  # share of the text inside links above which the text is worth a warning
POOR_MENU = 0.5  # share of the lines that repeat the navigation above which the text is worth a warning
_MENUS = ("//nav | //header | //*[@role='navigation'] | //*[contains(@class, 'nav') or contains(@id, 'nav') or "
          "contains(@class, 'menu') or contains(@id, 'menu')]")
#: Hidden blocks of machine-readable data (schema.org microdata kept out of sight): never text.
_HIDDEN_DATA = "//*[@itemscope or @itemprop][contains(translate(@style, ' ', ''), 'display:none')]"
LINK_RUN = 2  # blocks of links only, in a row, that make a list of other stories
AGREEMENT = 0.5
STRICT_MAX = 4_000_000  # characters of markup: a larger page is read once (the second reading would double the time)
SEARCH_BUDGET = 50_000_000  # characters × words: above, texts are compared by word pairs without searching
SHORT_LINE = 100  # characters: a line this short between agreed blocks is kept though the stricter reading dropped it  # share of a block's text the stricter reading must hold for the block to stay
_BYLINE = re.compile(r"^(?:by|von|par|por|door)\s+(.{2,80})$", re.I)
_TITLE_SEPARATORS = re.compile(r"\s+[|–—-]\s+|\s*[_|｜]\s*|(?<=[\u3400-\u9fff])-{1,2}(?=[\u3400-\u9fff])")
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
    from . import boilerplate, sites  # their patterns compile on import: not imported for detection

    text = _read(path, ctx.root)
    trafilatura = import_tables("trafilatura")

    markup = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses text that declares its encoding
    page = _parse(markup, path)
    if _too_deep(page):  # libxml2 stops at 256 levels: what is deeper is flattened, its text kept
        markup, flattened = flatten_raw(markup)
        if flattened:
            warn_flattened(path)
            page = _parse(markup, path)
    url = _page_url(page, text)
    site = sites.match(page, url)
    found = sites.read(site, page, _scripts(page), url) if site is not None else None
    if found is not None and (found.body is None or _own_text_length(found.body, link="a") < MIN_TEXT):
        found.body = None  # the family's body selector found no text: the general reading decides
    # The page's text, never a URL: trafilatura fetches nothing.
    try:
        document = trafilatura.bare_extraction(
            markup, include_images=True, include_formatting=True, include_links=True, include_tables=True,
            include_comments=False, with_metadata=True, deduplicate=False, prune_xpath=_HIDDEN_DATA,
            # dates only from markup and visible dates, never a guess such as "© 2024" → 2024-01-01
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
        # A second reading of the text alone, stricter about what is text: pictures and links make trafilatura
        # keep the blocks around them (teasers of other stories, galleries), which this reading leaves out.
        strict = None
        if (found is None or found.body is None) and len(markup) <= STRICT_MAX:
            strict = trafilatura.bare_extraction(
                markup, include_images=False, include_formatting=False, include_links=False, include_tables=True,
                include_comments=False, with_metadata=False, deduplicate=False, favor_precision=True,
                prune_xpath=_HIDDEN_DATA)
    except Exception as exc:  # noqa: BLE001 - a fault of the extractor on this page is a fault of the page
        if found is None or found.body is None:
            raise IngestError(f"no article text found (the extractor failed: {exc})", path) from None
        document = strict = None
    if document is None:
        document = _NO_DOCUMENT
    resolver = ImageResolver(path, ctx.root, remote=ctx.allow_remote, remote_hosts=ctx.remote_hosts)
    meta = _page_meta(page)
    if found is not None and found.body is not None:
        body = found.body
        title = _clean(found.title) or meta.headline or _clean(document.title) or _clean(page.findtext(".//title"))
        blocks = html_to_blocks(etree.tostring(body, encoding="unicode", method="html"), resolver, path)
    else:
        if document.body is None or _own_text_length(document.body) < MIN_TEXT:
            raise IngestError("no article text found", path)
        _drop_link_runs(document.body, sites.host_of(url))
        if strict is not None and strict.body is not None:
            _keep_agreed(document.body, strict.body)
            if len(_squeeze("".join(document.body.itertext()))) < AGREEMENT * len(_squeeze(
                    "".join(strict.body.itertext()))):
                document.body = strict.body  # the fuller reading took a wrong turn (a dump of the whole page)
        title = next((t for t in (_clean(found.title if found is not None else None), _clean(document.title),
                                  meta.headline, _title_head(page), _clean(_first_heading(document.body)))
                      if t and not _in_sidebar(page, t)), None) or _clean(page.findtext(".//title"))
        body = _to_html(document.body, _captions(page))
        blocks = html_to_blocks(etree.tostring(body, encoding="unicode", method="html"), resolver, path)
    if blocks and isinstance(blocks[0], Heading) and title and _same(blocks[0].content.text, title):
        blocks = blocks[1:]
    blocks = _list_as_paragraphs(blocks)
    tidied = boilerplate.tidy(blocks, title)
    blocks = tidied.blocks
    blocks, byline = _take_byline(blocks)
    credit = tidied.credit
    if not byline and credit is not None:
        byline = credit.byline
    source_name = (found.source if found is not None else None) or tidied.source
    byline = byline or source_name
    if not any(isinstance(b, Paragraph) and b.content.text for b in blocks):
        raise IngestError("no article text found", path)
    title = title or _first_words(blocks) or path.stem
    _warn_if_poor(path, blocks, body, page)

    authors = ((found.authors if found is not None else ()) or _authors(document.author)
               or _authors(_meta(page, "author")) or meta.authors)
    if not authors and credit is not None and credit.authors:
        authors = credit.authors
    if not authors and byline:
        match = _BYLINE.match(byline)
        names = re.split(r"\s*(?:,|;|&|、|\band\b)\s*", match.group(1)) if match else []
        authors = _authors("; ".join(names))
    publication = _publication(found, meta, page, title, url)
    title = _without_site(title, publication)
    authors = tuple(a for a in authors if a not in {publication, source_name})  # an outlet is no author
    from .language import resolve  # the text outweighs a declaration it clearly contradicts

    page_language = resolve(language_tag(page.get("lang")) or language_tag(page.get("xml:lang"))
                            or language_tag(_meta(page, "content-language", "http-equiv"))
                            or language_tag(document.language) or ctx.language, title + " " + " ".join(
        b.content.text for b in blocks[:12] if isinstance(b, Paragraph)))
    language = ctx.language or page_language
    article = Article(
        id=slug(title) or "article", title=title, lang=page_language,
        subtitle=_subtitle(document.description, title, blocks), authors=authors, byline=byline,
        dateline=tidied.dateline,
        tags=_tags(document.tags), source=_source(document.url or url, text), source_path=path, blocks=blocks,
    )
    date = (found.date if found is not None else None) or _date(document.date) or meta.date
    return [Draft(
        source=path, kind=KIND, publication=publication,
        language=language, date=date,
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
            element.tail = "\n" + (element.tail or "").lstrip("\n")  # lines apart in the text too, not run together
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


def _keep_agreed(body: etree._Element, reference: etree._Element) -> None:
    """Drop the blocks of ``body`` whose text the stricter reading ``reference`` does not hold.

    Nothing is dropped when the stricter reading kept less than half the text (it missed the article rather
    than its surroundings).  Between blocks both readings hold, a short line without links stays (the stricter
    reading leaves out short paragraphs).  A picture goes with the blocks around it: when the text on both sides
    is dropped.  Texts are compared as sets of word pairs, in time linear in their length.
    """
    kept = _squeeze("".join(reference.itertext()))
    total = _squeeze("".join(body.itertext()))
    if not kept or len(kept) < AGREEMENT * len(total):
        return
    words = _WORDS.findall("".join(reference.itertext()))
    small = len(kept) * len(_WORDS.findall("".join(body.itertext()))) <= SEARCH_BUDGET
    known = _Known(text=kept if small else None, words=set(words), pairs=set(zip(words, words[1:])))
    verdicts: list[bool | None] = []  # per child: kept, dropped, or None for a picture (decided by its neighbours)
    children = list(body)
    for child in children:
        if child.tag == "graphic":
            verdicts.append(None)
            continue
        if child.tag == "list":
            items = [item for item in child if isinstance(item.tag, str)]
            for item in items:
                if not _held(item, known):
                    remove_keep_tail(item)
            verdicts.append(bool(_squeeze("".join(child.itertext()))) or not items)
            continue
        verdicts.append(_held(child, known))
    agreed = [i for i, v in enumerate(verdicts) if v]
    if agreed:
        for index in range(agreed[0] + 1, agreed[-1]):
            child = children[index]
            if verdicts[index] is False and child.tag in {"p", "head", "quote"} and child.find(".//ref") is None \
                    and len(_squeeze("".join(child.itertext()))) <= SHORT_LINE:
                verdicts[index] = True
    before: list[bool] = []  # the verdict of the nearest block of text before each child, and after it
    last = False
    for verdict in verdicts:
        before.append(last)
        last = last if verdict is None else verdict
    after: list[bool] = []
    last = False
    for verdict in reversed(verdicts):
        after.append(last)
        last = last if verdict is None else verdict
    after.reverse()
    for index, (child, verdict) in enumerate(zip(children, verdicts)):
        if verdict is None:
            verdict = before[index] or after[index]
        if not verdict:
            remove_keep_tail(child)


@dataclass
class _Known:
    """A text without its spaces (None when too long to search), its words and its word pairs."""

    text: str | None
    words: set[str]
    pairs: set[tuple[str, str]]


def _held(element: etree._Element, known: _Known) -> bool:
    """Whether the text of ``element`` is in the other reading (spaces aside), or most of its word pairs are
    (side by side in it, when it is short enough to search; else anywhere in it)."""
    raw = "".join(element.itertext())
    words = _WORDS.findall(raw)
    if known.text is not None:
        text = _squeeze(raw)
        if not text or text in known.text:
            return True
        pairs = [a + b for a, b in zip(words, words[1:])] or words
        return sum(pair in known.text for pair in pairs) >= AGREEMENT * len(pairs)
    if len(words) < 2:
        return not words or words[0] in known.words
    pairs = list(zip(words, words[1:]))
    return sum(pair in known.pairs for pair in pairs) >= AGREEMENT * len(pairs)


def _drop_link_runs(body: etree._Element, host: str | None) -> None:
    """Drop runs of blocks that are links to the site's own pages and nothing else (teasers of other stories,
    "related" lists): two or more in a row, pictures between them counted with them.  A single link alone may be
    the article's own; links to other sites are sources and references."""
    children = [c for c in body if isinstance(c.tag, str)]
    run: list[etree._Element] = []

    def flush() -> None:
        if sum(c.tag != "graphic" for c in run) >= LINK_RUN:
            for child in run:
                remove_keep_tail(child)
        run.clear()

    for child in children:
        if child.tag == "graphic":
            if run:
                run.append(child)
            continue
        text = _squeeze("".join(child.itertext()))
        refs = list(child.iter("ref"))
        if text and refs and _own_text_length(child) == 0 and all(
                r.get("target") and _same_site(r.get("target"), host) for r in refs):
            run.append(child)
        else:
            while run and run[-1].tag == "graphic":
                run.pop()
            flush()
    flush()


def _same_site(target: str, host: str | None) -> bool:
    """Whether a link leads to the page's own site (a relative link does; any link when the site is unknown)."""
    from . import sites

    other = sites.host_of(target) if re.match(r"^(?:https?:)?//", target, re.I) else None
    if other is None or host is None:
        return True
    strip = re.compile(r"^(?:www\d*|m|amp)\.")
    return strip.sub("", other).endswith(strip.sub("", host)) or strip.sub("", host).endswith(strip.sub("", other))


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)


def _retag(element: etree._Element, tag: str) -> None:
    element.tag = tag
    for key in list(element.attrib):
        if not (tag == "a" and key == "href"):
            del element.attrib[key]


def _own_text_length(body: etree._Element, link: str = "ref") -> int:
    """Count the characters of ``body`` that are not link text (links are ``link`` elements)."""
    total = 0
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.text and element.tag != link and not any(a.tag == link for a in element.iterancestors()):
            total += len(_SPACE.sub("", element.text))
        if element.tail and element is not body and not any(a.tag == link for a in element.iterancestors()):
            total += len(_SPACE.sub("", element.tail))
    return total


def _list_as_paragraphs(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """An article laid out as a list (one ``<li>`` per paragraph) when nothing else is text: its items are its
    paragraphs."""
    if any(isinstance(b, Paragraph) and b.content.text for b in blocks):
        return blocks
    lists = [b for b in blocks if isinstance(b, ListBlock)]
    items = [i for b in lists for i in b.items if i.text]
    if not items or sum(len(i.text) for i in items) < MIN_TEXT:
        return blocks
    out: list[Block] = []
    for block in blocks:
        if isinstance(block, ListBlock):
            out.extend(Paragraph(content=item) for item in block.items if item.text)
        else:
            out.append(block)
    return tuple(out)


def _warn_if_poor(path: Path, blocks: tuple[Block, ...], body: etree._Element, page: etree._Element) -> None:
    """Say when what was read looks like no article: too short, mostly links, or the site's navigation."""
    from . import boilerplate

    texts = [t for t in (boilerplate.block_text(b) for b in blocks) if t and t.strip()]
    length = sum(len(_SPACE.sub("", t)) for t in texts)
    if length < POOR_LENGTH:
        log.warning("%s: only %d characters of article text found; the page may not have been read well",
                    path, length)
        return
    links = len(_SPACE.sub("", "".join("".join(a.itertext()) for a in body.iter("a"))))
    total = len(_SPACE.sub("", "".join(body.itertext())))
    if total and links > POOR_LINKS * total:
        log.warning("%s: most of the article text found is links (%d%%); the page may not have been read well",
                    path, round(100 * links / total))
        return
    menu = {_normalise(a.text_content()) for container in page.xpath(_MENUS) for a in container.iter("a")}
    menu.discard("")
    lines = [_normalise(line) for t in texts for line in t.split("\n") if line.strip()]
    if menu and len(lines) >= 3 and sum(line in menu for line in lines) > POOR_MENU * len(lines):
        log.warning("%s: the article text found repeats the site's navigation; the page may not have been read well",
                    path)


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
    from . import sites

    if not value or re.match(r"^https?://", value.strip()):
        return ()
    found: list[str] = []
    for name in re.split(r"\s*;\s*", value):
        name = _clean(re.sub(r"^(?:by|von|par)\s+", "", name.strip(), flags=re.I))
        if name and name not in found and sites.plausible_name(name):  # never an account number (104363)
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


_NOT_A_NAME = re.compile(r"版权|版權|copyright|©|all rights|reserved|ICP|备案|備案|https?://", re.I)
_NO_DOCUMENT = SimpleNamespace(title=None, author=None, url=None, description=None, sitename=None, date=None,
                               tags=None, language=None, body=None)


@dataclass
class PageMeta:
    """What the page says of itself in its head: Open Graph, ``article:`` and JSON-LD."""

    site_name: str | None = None
    publisher: str | None = None
    headline: str | None = None
    authors: tuple[str, ...] = ()
    date: dt.date | None = None


def _page_meta(page: etree._Element) -> PageMeta:
    from . import sites

    meta = PageMeta(site_name=_clean(_meta(page, "og:site_name", "property") or _meta(page, "og:site_name")) or None)
    for data in _json_ld(page):
        kind = data.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(k, str) and (k.endswith("Article") or k in {"BlogPosting", "Report", "WebPage"})
                   for k in kinds):
            continue
        publisher = data.get("publisher")
        if isinstance(publisher, list) and publisher:
            publisher = publisher[0]
        if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
            meta.publisher = meta.publisher or _clean(publisher["name"]) or None
        if isinstance(data.get("headline"), str) and not meta.headline:
            meta.headline = _clean(data["headline"]) or None
        author = data.get("author")
        names = [a.get("name") if isinstance(a, dict) else a for a in (author if isinstance(author, list) else [author])]
        names = [_clean(n) for n in names if isinstance(n, str) and sites.plausible_name(_clean(n))]
        meta.authors = meta.authors or tuple(dict.fromkeys(names))
        if isinstance(data.get("datePublished"), str):
            meta.date = meta.date or _date(data["datePublished"])
    meta.date = meta.date or _date(_meta(page, "article:published_time", "property"))
    return meta


def _json_ld(page: etree._Element) -> list[dict]:
    """The JSON-LD objects of the page (a ``@graph`` is opened; what does not parse is skipped)."""
    found: list[dict] = []
    for script in page.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):  # not JSON, or nested past what the parser follows
            continue
        stack = [data]
        while stack and len(found) < 64:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                found.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
    return found


def _page_url(page: etree._Element, text: str) -> str | None:
    """Where the page was saved from: ``og:url``, the canonical link, or the browser's "saved from" note."""
    candidates = [_meta(page, "og:url", "property"), _meta(page, "og:url")]
    candidates += [link.get("href") for link in page.iter("link") if (link.get("rel") or "").lower() == "canonical"]
    for candidate in candidates:
        if candidate and re.match(r"^https?://", candidate.strip(), re.I):
            return candidate.strip()
    match = _SAVED_FROM.search(text[:4096])
    return match.group(1) if match else None


def _scripts(page: etree._Element) -> str:
    return "\n".join(script.text or "" for script in page.iter("script"))[:2_000_000]


def _publication(found: sites.Found | None, meta: PageMeta, page: etree._Element, title: str,
                 url: str | None) -> str | None:
    """The publication's name: the site family's, the page's own (og:site_name, the JSON-LD publisher), the end
    of a "headline | site" title, else the domain of the page's address; never a copyright or footer line."""
    from . import sites

    family = found.site.publication_name if found is not None else None
    by_host = found is not None and found.by_host
    for name in ((found.publication if found is not None else None), meta.site_name, meta.publisher,
                 family if by_host else None, _site_from_title(page, title), family):
        name = _clean(name)
        if name and len(name) <= 60 and not _NOT_A_NAME.search(name):
            return name
    host = sites.host_of(url)
    return re.sub(r"^(?:www\d*|m|wap)\.", "", host) if host else None


_SIDEBAR = re.compile(r"(?:^|[\s_-])(?:side|sidebar|aside|right|hot|rank|ranking|related|recommend|popular|"
                      r"nav|menu|footer|widget|ph_list)(?:$|[\s_-]|\d)", re.I)


def _in_sidebar(page: etree._Element, title: str) -> bool:
    """Whether the headline is only ever printed in a sidebar, a list of other stories or the navigation."""
    key = _normalise(title)
    seen = False
    for element in page.xpath("//h1 | //h2 | //h3 | //h4"):
        if _normalise(element.text_content()) != key:
            continue
        seen = True
        if not any(a.tag in {"aside", "nav", "footer"} or _SIDEBAR.search(f"{a.get('class', '')} {a.get('id', '')}")
                   for a in element.iterancestors()):
            return False
    return seen


def _title_head(page: etree._Element) -> str | None:
    """The headline as the ``<title>`` gives it before the site's name ("Headline | Site", "标题_栏目_网站")."""
    full = _clean(page.findtext(".//title"))
    parts = [p for p in _TITLE_SEPARATORS.split(full) if p.strip()]
    return _clean(parts[0]) if len(parts) > 1 else None


def _without_site(title: str, publication: str | None) -> str:
    """The headline without the site's name that some pages append ("Headline | Site", "标题_网站")."""
    if not publication:
        return title
    match = re.match(rf"^(.+?)(?:\s+[|–—-]\s+|\s*[_|｜]\s*){re.escape(publication)}\s*$", title, re.I)
    return _clean(match.group(1)) if match and _clean(match.group(1)) else title


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
