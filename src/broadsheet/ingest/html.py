"""Sanitise untrusted article HTML and turn it into model blocks.

This module is the only producer of :class:`broadsheet.model.Inline`: every fragment of
markup that reaches a template has passed through :func:`sanitize` (nh3) and been
re-serialised as well-formed XML by lxml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Iterator

import nh3
from lxml import etree, html as lxml_html

from .. import limits
from ..model import Block, Figure, Heading, Inline, ListBlock, Paragraph, Preformatted, Quote, Rule
from ..xhtml import remove_keep_tail

log = logging.getLogger("broadsheet")

INLINE_TAGS = {
    "a", "abbr", "b", "br", "cite", "code", "del", "em", "i", "ins", "kbd", "mark",
    "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var",
}
BLOCK_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "pre", "hr",
    "figure", "figcaption", "img", "div", "section", "article", "header", "footer", "main",
    "aside", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "dl", "dt", "dd",
}
_CLEANER = nh3.Cleaner(
    tags=INLINE_TAGS | BLOCK_TAGS,
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"},
    attributes={
        "*": {"lang", "title"},
        "a": {"href"},
        "img": {"src", "alt", "title", "width", "height"},
        "time": {"datetime"},
        "ol": {"start"},
    },
    # file: and data: survive sanitising only so that the image resolver can name what it drops;
    # links keep http(s) and mailto only (see _strip_to_inline).
    url_schemes={"http", "https", "mailto", "file", "data"},
    link_rel=None,
    strip_comments=True,
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_SPACE = re.compile(r"[ \t\r\n\f]+")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
# A line break between two CJK characters is no space (CSS Text 3, segment break transformation).
_CJK_BREAK = re.compile(rf"(?<=[{_CJK}])[ \t]*[\r\n]+[ \t]*(?=[{_CJK}])")
_STRING = etree.XPath("string()")  # the text of an element and all it holds
MAX_DEPTH = 64

ImageResolver = Callable[[str, str, "Inline | None"], "Image | None"]


def clean_text(text: str) -> str:
    """Drop characters that XML 1.0 cannot carry (C0 controls, lone surrogates)."""
    return _CONTROL.sub("", text)


def sanitize(markup: str) -> str:
    """Return ``markup`` with everything outside the allow-list removed."""
    return _CLEANER.clean(clean_text(markup))


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_VOID = {"br", "hr", "img", "wbr", "col", "area", "input", "source", "track", "meta", "link", "base"}
MAX_TAG_DEPTH = 200  # libxml2 drops content nested deeper than 256 levels


def flatten_deep(markup: str, limit: int = MAX_TAG_DEPTH) -> str:
    """Drop the tags (never the text) of elements nested deeper than ``limit``.

    ``markup`` must be balanced, as nh3's serialiser writes it.
    """
    if markup.count("<") < limit:
        return markup
    out: list[str] = []
    stack: list[bool] = []  # for each open element: was its tag kept?
    position = 0
    for match in _TAG.finditer(markup):
        out.append(markup[position:match.start()])
        position = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name in _VOID:
            out.append(match.group(0))
        elif not closing:
            keep = len(stack) < limit
            stack.append(keep)
            if keep:
                out.append(match.group(0))
        elif stack and stack.pop():
            out.append(match.group(0))
    out.append(markup[position:])
    return "".join(out)


_RAW_TOKEN = re.compile(r"<!--(?:[^-]|-(?!->))*(?:-->|\Z)|<(/?)([A-Za-z][A-Za-z0-9:-]*)\b[^>]*?(/?)>")
_RAW_VOID = _VOID | {"param", "keygen", "embed"}
_RAW_AUTOCLOSE = {"p", "li", "td", "th", "tr", "dt", "dd", "option"}
_RAW_TEXT = {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"}
_DROPPED_WHOLE = {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"}
_END_SEARCH = 16  # how far down the open elements an end tag looks for its start


def markup_depth() -> int:
    """Element nesting kept: the policy's, never more than libxml2 keeps."""
    from .. import limits

    return min(limits.current().markup_depth, MAX_TAG_DEPTH)


def flatten_raw(raw: str, limit: int | None = None) -> tuple[str, bool]:
    """Drop the tags (never the text) of elements nested deeper than ``limit`` in raw HTML/XML.

    One pass over the tags, linear in the length whatever the nesting: what reaches an HTML
    parser (html5ever in nh3, libxml2) is never deeper than ``limit``, where both take time
    (or drop content) growing with the depth.  Elements whose content is removed anyway
    (script, svg, …) are removed whole when they start too deep.  Comments are left alone.
    Returns the markup and whether anything was dropped.
    """
    limit = markup_depth() if limit is None else limit
    if raw.count("<") < limit:
        return raw, False
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open elements: (name, tag kept)
    position, changed = 0, False
    skip: str | None = None  # an element removed whole: its name
    skip_level = 0
    end = raw.rfind(">") + 1  # no tag after the last ">": a "<" there cannot start one (and scanning for it
    scan = 0                  # from every "<" would take time growing with the square of the length)
    while (match := _RAW_TOKEN.search(raw, scan, end)) is not None:
        scan = match.end()
        name = (match.group(2) or "").lower()
        if skip is not None:
            if name == skip and not match.group(3):
                skip_level += -1 if match.group(1) else (0 if skip in _RAW_TEXT else 1)
                if skip_level == 0:
                    skip, position = None, match.end()
            continue
        out.append(raw[position:match.start()])
        position = match.end()
        if not name:  # a comment
            out.append(match.group(0))
        elif name in _RAW_VOID or match.group(3):
            if len(stack) < limit or name in _VOID:
                out.append(match.group(0))
            else:
                changed = True
        elif not match.group(1):
            if name in _RAW_AUTOCLOSE and stack and stack[-1][0] == name:
                stack.pop()  # <p>…<p>: the first one ends
            keep = len(stack) < limit
            if not keep and name in _DROPPED_WHOLE:
                skip, skip_level, changed = name, 1, True
                continue
            stack.append((name, keep))
            changed |= not keep
            if keep:
                out.append(match.group(0))
                if name in _RAW_TEXT:  # script, style, title …: text up to its end tag, never markup
                    close = re.compile(rf"</{re.escape(name)}\s*>", re.I).search(raw, scan)
                    stop = close.start() if close else len(raw)
                    out.append(raw[scan:stop])
                    position = scan = stop
                    if close is None:
                        break
        else:
            bottom = max(-1, len(stack) - 1 - _END_SEARCH)
            index = next((i for i in range(len(stack) - 1, bottom, -1) if stack[i][0] == name), None)
            if index is None:
                if len(stack) <= limit:
                    out.append(match.group(0))  # a stray end tag: the parser's business
            else:
                if stack[index][1]:
                    out.append(match.group(0))
                del stack[index:]
    if skip is None:
        out.append(raw[position:])
    return ("".join(out), True) if changed else (raw, False)


def html_to_blocks(markup: str, resolve_image: ImageResolver, where: object = None) -> tuple[Block, ...]:
    """Sanitise an HTML body fragment and return its blocks in reading order.

    Markup nested deeper than the policy allows is flattened first, with a warning naming
    ``where`` (the source).
    """
    markup, flattened = flatten_raw(markup)
    if flattened:
        warn_flattened(where)
    clean = flatten_deep(sanitize(markup))
    if not clean.strip():
        return ()
    root = lxml_html.fragment_fromstring(clean, create_parent="div")
    return tuple(_blocks(root, resolve_image, 0))


def warn_flattened(where: object) -> None:
    log.warning("%s: markup nested more than %d elements deep; the deeper tags were dropped, their text kept",
                where or "an article", markup_depth())


def inline_from_text(text: str) -> Inline:
    """Return an Inline holding plain text (escaped)."""
    text = clean_text(text)
    element = etree.Element("span")
    element.text = text
    return Inline(html=_inner_xml(element), text=_normalise(text))


def _blocks(container: etree._Element, resolve_image: ImageResolver, depth: int) -> Iterator[Block]:
    pending: list[etree._Element | str] = []
    if container.text and container.text.strip():
        pending.append(container.text)
    for child in container:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in INLINE_TAGS:
            pending.append(child)
            continue
        yield from _flush(pending, resolve_image)
        pending = []
        yield from _block(child, tag, resolve_image, depth)
        if child.tail and child.tail.strip():
            pending.append(child.tail)
    yield from _flush(pending, resolve_image)


def _flush(pending: list, resolve_image: ImageResolver) -> Iterator[Block]:
    if not pending:
        return
    wrapper = etree.Element("p")
    for part in pending:
        if isinstance(part, str):
            _append_text(wrapper, part)
        else:
            tail = part.tail
            part.tail = None
            wrapper.append(part)
            if tail:
                _append_text(wrapper, tail)
    yield from _paragraph(wrapper, resolve_image)


def _append_text(element: etree._Element, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _block(el: etree._Element, tag: str, resolve_image: ImageResolver, depth: int) -> Iterator[Block]:
    if tag == "p":
        yield from _paragraph(el, resolve_image)
    elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
        content = _inline(el)
        if content.text:
            yield Heading(level=max(2, int(tag[1])), content=content)
    elif tag == "blockquote":
        inner = list(_blocks(el, resolve_image, depth + 1)) if depth < MAX_DEPTH else [Paragraph(content=_inline(el))]
        paragraphs = tuple(p for b in inner for p in _inlines_of(b) if p.text)
        if paragraphs:
            yield Quote(paragraphs=paragraphs)
        yield from (b for b in inner if isinstance(b, Figure))  # pictures quoted are shown after the quote
    elif tag in {"ul", "ol"}:
        items = tuple(i for i in (_inline(li) for li in el if li.tag == "li") if i.text)
        if items:
            yield ListBlock(ordered=tag == "ol", items=items)
    elif tag == "pre":
        text = clean_text(el.text_content()).strip("\n")
        if text.strip():
            yield Preformatted(text=text)
    elif tag == "hr":
        yield Rule()
    elif tag == "img":
        figure = _figure(el, None, resolve_image)
        if figure:
            yield figure
    elif tag == "figure":
        caption_el = next((c for c in el if c.tag == "figcaption"), None)
        caption = _inline(caption_el) if caption_el is not None else None
        images = el.findall(".//img")
        for img in images:
            figure = _figure(img, caption if caption and caption.text else None, resolve_image)
            if figure:
                yield figure
        if not images and caption is not None and caption.text:
            yield Paragraph(content=caption)
    elif tag == "tr":
        cells = [_inline(c) for c in el if c.tag in {"td", "th"}]
        text = " | ".join(c.text for c in cells if c.text)
        if text:
            yield Paragraph(content=_inline_from_parts(cells))
    elif depth >= MAX_DEPTH:
        content = _inline(el)
        if content.text:
            yield Paragraph(content=content)
    else:  # div, section, table, lists of definitions…: their children carry the blocks
        yield from _blocks(el, resolve_image, depth + 1)


def _inlines_of(block: Block) -> tuple[Inline, ...]:
    """Return the text-bearing parts of a block, for containers that hold only paragraphs."""
    if isinstance(block, (Paragraph, Heading)):
        return (block.content,)
    if isinstance(block, Quote):
        return block.paragraphs
    if isinstance(block, ListBlock):
        return block.items
    if isinstance(block, Preformatted):
        return (inline_from_text(block.text),)
    return ()


def _paragraph(el: etree._Element, resolve_image: ImageResolver) -> Iterator[Block]:
    images = [img for img in el.iter("img")]
    for img in images:
        remove_keep_tail(img)
    content = _inline(el)
    if content.text:
        yield Paragraph(content=content)
    for img in images:
        figure = _figure(img, None, resolve_image)
        if figure:
            yield figure


def _figure(img: etree._Element, caption: Inline | None, resolve_image: ImageResolver) -> Figure | None:
    src = (img.get("src") or "").strip()
    alt = _normalise(clean_text(img.get("alt") or ""))
    if caption is None:
        title = _normalise(clean_text(img.get("title") or ""))
        if title or alt:
            caption = inline_from_text(title or alt)
    image = resolve_image(src, alt, caption)
    return Figure(image=image) if image is not None else None


def _inline(el: etree._Element) -> Inline:
    """Return the sanitised inline content of ``el`` (block children are flattened)."""
    copy = etree.Element("span")
    copy.text = el.text
    for child in el:
        copy.append(_inline_copy(child, 0))
    _strip_to_inline(copy)
    html = _inner_xml(copy).strip()
    return Inline(html=html, text=_normalise(_STRING(copy)))


def _inline_from_parts(parts: list[Inline]) -> Inline:
    html = " | ".join(p.html for p in parts if p.text)
    text = " | ".join(p.text for p in parts if p.text)
    return Inline(html=html, text=text)


def _inline_copy(el: etree._Element, depth: int) -> etree._Element:
    new = etree.Element(el.tag if isinstance(el.tag, str) else "span")
    for key, value in el.attrib.items():
        new.set(key, value)
    new.text = el.text
    new.tail = el.tail
    if depth < MAX_DEPTH:
        for child in el:
            new.append(_inline_copy(child, depth + 1))
    else:
        new.text = "".join(el.itertext())
    return new


def _strip_to_inline(root: etree._Element) -> None:
    """Unwrap block elements and links that do not point outside the book."""
    for el in list(root.iter()):
        if el is root or el.getparent() is None:
            continue
        if el.tag == "img":
            remove_keep_tail(el)
        elif el.tag not in INLINE_TAGS:
            if el.tag in {"li", "p", "div", "td", "th", "dd", "dt", "tr"} and el.getprevious() is not None:
                el.text = " " + (el.text or "")
            _unwrap(el)
        elif el.tag == "a":
            href = normalise_link(el.get("href", ""))
            if href is None:
                if re.match(r"^\s*(https?:|mailto:)", el.get("href", ""), re.I):
                    log.warning("link %s is no valid URL; its text is kept without it", limits.quote(el.get("href"), 120))
                _unwrap(el)
            else:
                el.set("href", href)
    for el in root.iter():
        for text_attr in ("text", "tail"):
            value = getattr(el, text_attr)
            if value:
                setattr(el, text_attr, _join_cjk_lines(clean_text(value)))


# what may stand unescaped in each part of a URL (RFC 3986); "%" stays when it starts an escape
_UNRESERVED = "-._~"
_SUB_DELIMS = "!$&'()*+,;="
_SAFE_PATH = _UNRESERVED + _SUB_DELIMS + ":@/%"
_SAFE_QUERY = _UNRESERVED + _SUB_DELIMS + ":@/?%"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_VALID_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%\[\]]*$")


def normalise_link(href: str) -> str | None:
    """An article's link as a valid URI, or None when it cannot be one (or leads nowhere a reader can go).

    Only absolute http(s) and mailto links are kept.  Spaces, non-ASCII characters and a second ``#`` are
    percent-encoded, an internationalised host name is written in its ASCII (IDNA) form, a stray ``%`` is
    escaped; user names and passwords are dropped.
    """
    from urllib.parse import quote, urlsplit, urlunsplit

    text = clean_text(href).strip()
    if not re.match(r"^(https?:|mailto:)", text, re.I) or len(text) > 8192:
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
        host = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if _VALID_URI.match(text) and text.count("#") <= 1 and not _STRAY_PERCENT.search(text) \
            and not parts.username and not parts.password and ("@" in text if scheme == "mailto" else host):
        return text  # already a valid URI: kept as written

    def escaped(value: str, safe: str) -> str:
        return quote(_STRAY_PERCENT.sub("%25", value), safe=safe)

    if scheme == "mailto":
        address = escaped(parts.path, _UNRESERVED + "!$'*+=@%")
        return f"mailto:{address}" if "@" in address else None
    if not host or any(c in host for c in " <>\"\\^`{|}"):
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if ":" in ascii_host:  # an IPv6 address
        ascii_host = f"[{ascii_host}]"
    netloc = ascii_host + (f":{port}" if port is not None else "")
    return urlunsplit((scheme, netloc, escaped(parts.path, _SAFE_PATH), escaped(parts.query, _SAFE_QUERY),
                       escaped(parts.fragment, _SAFE_QUERY)))


def _unwrap(el: etree._Element) -> None:
    """Replace ``el`` by its text and children, in place."""
    parent = el.getparent()
    index = parent.index(el)
    text, tail = el.text or "", el.tail or ""
    children = list(el)
    if index == 0:
        parent.text = (parent.text or "") + text
    else:
        previous = parent[index - 1]
        previous.tail = (previous.tail or "") + text
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    # el is now after its former children
    last = children[-1] if children else (parent[index - 1] if index > 0 else None)
    parent.remove(el)
    if last is None:
        parent.text = (parent.text or "") + tail
    else:
        last.tail = (last.tail or "") + tail


def _inner_xml(element: etree._Element) -> str:
    text = etree.tostring(element, encoding="unicode", method="xml", with_tail=False)
    # Strip the wrapper element: "<span>…</span>" or "<span/>".
    if text.endswith("/>") and text.count("<") == 1:
        return ""
    start = text.index(">") + 1
    end = text.rindex("</")
    return text[start:end]


def _normalise(text: str) -> str:
    text = _join_cjk_lines(text)
    if "  " in text or "\t" in text or "\n" in text or "\r" in text or "\f" in text:  # else each run is one space
        text = _SPACE.sub(" ", text)
    return text.strip()


def _join_cjk_lines(text: str) -> str:
    """Remove the line breaks between two CJK characters (text without a line break has none)."""
    return _CJK_BREAK.sub("", text) if "\n" in text or "\r" in text else text
