"""One saved page: read through the file door and parsed, then asked for its parts.

The ENP ``enpproperty`` comment, ``founder-*`` tags, headings, the page banner, the date
and publication, the page's link lists, and the body container with its pictures and
captions, found with the selectors of the page's layout family (:mod:`.layouts`).
"""

from __future__ import annotations

import copy
import datetime as dt
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree, html as lxml_html

from ...errors import IngestError
from ...files import read_inside
from ..base import find_date, log
from ..encoding import decode, looks_binary
from ..html import flatten_raw, remove_keep_tail
from .layouts import DATE_PATHS, ENPCONTENT, FOUNDER, GENERIC, Layout, article_layout, family_shown, page_layout

MAX_BYTES = 16 * 1024 * 1024  # per page
_RE_NS = {"re": "http://exslt.org/regular-expressions"}
_PARSER = lxml_html.HTMLParser(no_network=True, remove_pis=True, recover=True)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ENP_START = re.compile(r"<!--\s*enpproperty\b", re.I)
_ENP_END = re.compile(r"/enpproperty\s*-->", re.I)
_ENP_FIELD = re.compile(r"<([A-Za-z]+)>(.*?)</\1>", re.S)
_ENP_BODY_START = re.compile(r"<!--\s*enpcontent\s*-->", re.I)
_ENP_BODY_END = re.compile(r"<!--\s*/enpcontent\s*-->", re.I)
_ENP_OPEN = re.compile(r"^(?:\s*<!--\s*enpcontent\s*-->)+", re.I)
_NPM = re.compile(r"<!--\s*</?npm:[^>]*>\s*-->", re.I)
_BANNER = re.compile(r"(?:第\s*([A-Za-z]?\s*\d{1,3})\s*版|(?:^|[\s|])([A-Za-z]?\d{1,3})\s*版)")
_TITLE_SPLIT = re.compile(r"\s*(?:--|——|－－|_|\s-\s|\s\|\s)\s*")
_WEEKDAY = re.compile(r"(?:星期|周|礼拜)[一二三四五六日天]")
_SPACES = re.compile(r"[\s\u3000\xa0]+")
_INDENT = re.compile(r"^[\s\u3000\xa0]+")
_DROP = ("script", "style", "noscript", "template", "iframe", "frame", "object", "applet", "button", "select",
         "textarea", "map", "svg", "math")
# Void in HTML5 but not always to libxml2, which may nest the rest of the body inside: drop the tag only.
_UNWRAP = ("embed", "input", "area", "link", "meta", "base", "source", "track", "param", "keygen", "wbr")
_HIDDEN = ("[contains(translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz'), 'display:none')"
           " or contains(translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz'),"
           " 'visibility:hidden') or @hidden]")
_BLOCKISH = {"p", "div", "td", "th", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table",
             "tr", "tbody", "ul", "ol", "section", "article", "center", "figure", "figcaption", "founder-content"}
_MAX_BODY_DEPTH = 32  # elements below the body container; deeper ones are unwrapped


@dataclass
class Doc:
    """One parsed page: its path, markup, tree, layout family and ``enpproperty`` fields."""

    path: Path
    raw: str
    tree: lxml_html.HtmlElement
    layout: Layout
    enp: dict[str, str]

    def select(self, name: str) -> list[str]:
        """The selectors for field ``name``: the family's, then the generic ones."""
        own = getattr(self.layout, name)
        return list(dict.fromkeys((*own, *getattr(GENERIC, name))))

    def xpath(self, expr: str, node=None) -> list:
        try:
            return (node if node is not None else self.tree).xpath(expr, namespaces=_RE_NS)
        except etree.XPathError:
            return []


def parse_page(path: Path, root: Path) -> Doc | None:
    """Read (through the file door, inside ``root``) and parse one page; warn and return None
    when it cannot be read as HTML."""
    try:
        data = read_inside(path, root, MAX_BYTES, "page")
    except IngestError as exc:
        if "more than the limit" in exc.message:
            log.warning("%s: larger than %d bytes; skipped", path, MAX_BYTES)
        else:
            log.warning("%s: %s; skipped", path, exc.message)
        return None
    except OSError as exc:
        log.warning("%s: cannot read: %s; skipped", path, exc.strerror)
        return None
    if looks_binary(data):
        log.warning("%s: not an HTML page; skipped", path)
        return None
    raw = decode(data, path)
    raw = _flatten_raw(_XML_DECL.sub("", _NPM.sub("", _without_cdata_marks(raw))))
    try:
        tree = lxml_html.document_fromstring(raw, parser=_PARSER)
    except (etree.ParserError, ValueError):
        log.warning("%s: not an HTML page; skipped", path)
        return None
    where = path.as_posix()
    layout = page_layout(where) or article_layout(where)
    if layout is None:
        head = raw[:65536]
        layout = family_shown(head) or FOUNDER
    return Doc(path=path, raw=raw, tree=tree, layout=layout, enp=_enpproperty(raw))


def _flatten_raw(raw: str) -> str:
    """Drop the tags (never the text) nested deeper than the policy allows: libxml2 drops such content silently."""
    return flatten_raw(raw)[0]


def _between(text: str, start: re.Pattern, end: re.Pattern) -> str | None:
    """The text between the first ``start`` and the first ``end`` after it, or None: found in one pass
    (a lazy ``start(.*?)end`` pattern scans to the end again from every ``start`` when no ``end`` follows)."""
    opened = start.search(text)
    closed = end.search(text, opened.end()) if opened else None
    return text[opened.end():closed.start()] if closed else None


def _without_cdata_marks(raw: str) -> str:
    """``<![CDATA[text]]>`` → ``text``, each section found from where the last one ended."""
    parts, position = [], 0
    while (start := raw.find("<![CDATA[", position)) >= 0 and (end := raw.find("]]>", start + 9)) >= 0:
        parts += [raw[position:start], raw[start + 9:end]]
        position = end + 3
    return "".join(parts) + raw[position:] if parts else raw


def _enpproperty(raw: str) -> dict[str, str]:
    block = _between(raw, _ENP_START, _ENP_END)
    if block is None:
        return {}
    fields: dict[str, str] = {}
    for name, value in _ENP_FIELD.findall(block):
        value = re.sub(r"<br\s*/?>", " ", value, flags=re.I)
        value = html_lib.unescape(re.sub(r"<[^>]*>", "", value))
        value = clean(value)
        if value:
            fields.setdefault(name.lower(), value)
    return fields


def clean(text: str) -> str:
    """Collapse runs of white space (ideographic and no-break spaces too) and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def _text(el) -> str:
    """Plain text of an element (or an XPath string result); <br> counts as a space."""
    if not isinstance(el, etree._Element):
        return clean(str(el))
    el = copy.deepcopy(el)
    el.tail = None
    for br in el.iter("br"):
        br.tail = " " + (br.tail or "")
    for bad in el.xpath(".//script|.//style|.//comment()"):
        remove_keep_tail(bad)
    return clean("".join(el.itertext()))


def texts(doc: Doc, name: str) -> list[str]:
    """Texts of the elements that the selectors of field ``name`` find, in selector order."""
    out = []
    for expr in doc.select(name):
        for el in doc.xpath(expr):
            text = _text(el)
            if text:
                out.append(text)
    return out


def parse_banner(text: str) -> tuple[str, str | None] | None:
    """Parse '第01版：要闻' (or '01版:要闻', '第 A05 版(体育)') into ('01', '要闻')."""
    match = _BANNER.search(text)
    if not match:
        return None
    label = re.sub(r"\s+", "", match.group(1) or match.group(2)).upper()
    rest = text[match.end():].lstrip(" :：（(【[\u3000\xa0")
    rest = re.split(r"上一版|下一版|PDF|\s{2,}|\|", rest, maxsplit=1)[0]
    name = rest.strip(" :：（()）【】[]\u3000\xa0-—").strip()
    return label, (name[:30] or None)


def doc_banner(doc: Doc) -> tuple[str | None, str | None]:
    """The page label and name that a page states about itself."""
    node = doc.enp.get("nodename")
    if node:
        parsed = parse_banner(node)
        if parsed:
            return parsed
    for text in texts(doc, "banner"):
        parsed = parse_banner(text)
        if parsed:
            return parsed
    for part in title_parts(doc):
        parsed = parse_banner(part)
        if parsed:
            return parsed
    return None, node


def title_parts(doc: Doc) -> list[str]:
    """The parts of the page's <title>, split at the usual separators."""
    titles = doc.tree.xpath("//title")
    text = _text(titles[0]) if titles else ""
    return [part for part in _TITLE_SPLIT.split(text) if part]


def doc_date(doc: Doc, *, page: bool) -> dt.date | None:
    for source in (doc.enp.get("date"), *texts(doc, "date")):
        found = find_date(source) if source else None
        if found:
            return found
    for pattern in DATE_PATHS:
        match = re.search(pattern, doc.path.as_posix())
        if match:
            found = find_date("-".join(match.groups()))
            if found:
                return found
    found = find_date(" ".join(title_parts(doc)))
    if found or not page:
        return found
    match = re.search(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", _text(doc.tree))
    return find_date(match.group(0)) if match else None


def doc_publication(doc: Doc, titles: list[str]) -> str | None:
    for text in texts(doc, "publication"):
        name = clean(_WEEKDAY.sub("", re.split(r"\d{4}\s*年", text)[0]))
        if name:
            return name
    parts = [p for p in title_parts(doc) if not parse_banner(p) and p not in titles and len(p) <= 20]
    if not parts:
        return None
    return next((p for p in parts if re.search(r"(?:报|刊|周刊|Daily|News|Times|Post)$", p)), parts[0])


def find_links(doc: Doc, name: str) -> list[tuple[str, str]]:
    """(href, text) of the first selector of ``name`` that finds links, duplicates dropped."""
    for expr in doc.select(name):
        found: list[tuple[str, str]] = []
        seen: set[str] = set()
        for el in doc.xpath(expr):
            if not isinstance(el, etree._Element):
                continue
            href = (el.get("href") or "").strip()
            if not href or href.startswith("#"):
                continue
            key = href.split("#")[0]
            if key in seen:
                continue
            seen.add(key)
            text = _text(el) or clean(el.get("title") or el.get("alt") or "")
            if name == "page_links" and not parse_banner(text):
                parent = el.getparent()
                text = _text(parent) if parent is not None else text
            found.append((href, text))
        if found:
            return found
    return []


def find_body(doc: Doc):
    """Return (a detached copy of the body container, the container in the page or None)."""
    for expr in doc.select("body"):
        if expr == ENPCONTENT:
            inner = _between(doc.raw, _ENP_BODY_START, _ENP_BODY_END)
            if inner is None:
                continue
            fragment = _ENP_OPEN.sub("", inner)
            try:
                el = lxml_html.fragment_fromstring(fragment, create_parent="div", parser=_PARSER)
            except (etree.ParserError, ValueError):
                continue
            if _has_content(el):
                return el, None
            continue
        for el in doc.xpath(expr):
            if isinstance(el, etree._Element) and _has_content(el):
                return copy.deepcopy(el), el
    return None, None


def _has_content(el) -> bool:
    return bool(_text(el)) or any(img.get("src") for img in el.iter("img"))


def make_figures(container, seen: set[str]) -> list:
    """Figure elements for the pictures of a picture container; caption from the container's text."""
    images = [img for img in container.iter("img") if (img.get("src") or "").strip() and not img.get("usemap")
              and "阴影" not in (img.get("alt") or "")]
    figures = []
    for img in images:
        src = img.get("src").strip()
        if src in seen:
            continue
        seen.add(src)
        if len(images) == 1:
            caption = _text(container)
        else:
            row = next((a for a in img.iterancestors() if a.tag == "tr"), None)
            following = row.getnext() if row is not None else None
            caption = _text(following) if following is not None and not list(following.iter("img")) else ""
        figure = etree.Element("figure")
        picture = etree.SubElement(figure, "img", src=src)
        alt = clean(img.get("alt") or img.get("title") or "")
        if alt:
            picture.set("alt", alt)
        if caption:
            etree.SubElement(figure, "figcaption").text = caption
        figures.append(figure)
    return figures


def picture_exprs(doc: Doc) -> list[str]:
    """The selectors of picture containers (a picture with its caption)."""
    return doc.select("pictures")


def prepare_body(body, doc: Doc, seen: set[str]) -> str:
    """Clean the body copy in place and return its markup (still to be sanitised)."""
    body.tag = "div"
    for name in list(body.attrib):
        del body.attrib[name]
    for bad in body.xpath(".//comment()|.//processing-instruction()"):
        remove_keep_tail(bad)
    for void in body.xpath("|".join(f".//{t}" for t in _UNWRAP)):
        void.drop_tag()
    for bad in body.xpath("|".join(f".//{t}" for t in _DROP) + "|.//*" + _HIDDEN):
        if bad.getparent() is not None:
            remove_keep_tail(bad)
    _limit_depth(body)
    # Picture tables inside the body become figures where they stand.
    for expr in picture_exprs(doc):
        for container in doc.xpath("." + expr, body):
            if container.getparent() is None or any(a.tag == "figure" for a in container.iterancestors()):
                continue
            figures = make_figures(container, seen)
            tail = container.tail
            parent = container.getparent()
            index = parent.index(container)
            parent.remove(container)
            for offset, figure in enumerate(figures):
                parent.insert(index + offset, figure)
            if figures:
                figures[-1].tail = tail
            elif tail:
                if index > 0:
                    parent[index - 1].tail = (parent[index - 1].tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
    for img in body.iter("img"):
        if img.get("src"):
            seen.add(img.get("src").strip())
    # <br> runs and <br> + indentation separate paragraphs in Founder bodies.
    for br in list(body.iter("br")):
        tail = br.tail or ""
        following, previous = br.getnext(), br.getprevious()
        run = (not tail.strip() and following is not None and following.tag in {"br", "p-break"}) or (
            previous is not None and previous.tag == "p-break" and not (previous.tail or "").strip())
        if run or re.match(r"^(?:[\u3000]|[\xa0 \t]{2,})", tail.lstrip("\r\n")):
            marker = etree.Element("p-break")
            marker.tail = br.tail
            br.getparent().replace(br, marker)
    # Indentation (U+3000, &nbsp;) at the start of each paragraph.
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("text", "tail"):
            value = getattr(el, attr)
            if value and "\xa0" in value:
                setattr(el, attr, value.replace("\xa0", " "))
    for el in list(body.iter()):
        if not isinstance(el.tag, str):
            continue
        if el.tag in _BLOCKISH or el is body:
            _lstrip_first(el)
        if el.tag in _BLOCKISH or el.tag in {"br", "p-break", "figure"}:
            if el.tail:
                el.tail = _INDENT.sub("", el.tail)
    markup = etree.tostring(body, encoding="unicode", method="html")
    return re.sub(r"(?:<p-break></p-break>\s*)+", "</p><p>", markup)


def _limit_depth(body, limit: int = _MAX_BODY_DEPTH) -> None:
    """Unwrap the elements nested deeper than ``limit`` below ``body`` (their text stays)."""
    deep, stack = [], [(body, 0)]
    while stack:
        el, depth = stack.pop()
        for child in el:
            if isinstance(child.tag, str):
                if depth >= limit:
                    deep.append(child)
                stack.append((child, depth + 1))
    for el in deep:
        el.drop_tag()


def _lstrip_first(el, depth: int = 0) -> bool:
    """Strip leading indentation from the first text inside ``el``; True once text was found."""
    if depth > 64:
        return True
    if el.text:
        el.text = _INDENT.sub("", el.text)
        if el.text:
            return True
    for child in el:
        if not isinstance(child.tag, str) or child.tag in _BLOCKISH or child.tag in {"img", "figure"}:
            return True
        if child.tag in {"br", "p-break"}:
            return True
        if _lstrip_first(child, depth + 1):
            return True
        if child.tail:
            child.tail = _INDENT.sub("", child.tail)
            if child.tail:
                return True
    return False

