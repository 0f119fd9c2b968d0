"""Saved e-paper sites (数字报): Founder 方正 pages and People's Daily layouts, as HTML.

A source is either one HTML file — an article page (one article) or a page (版面) whose
article list names article files beside it — or a folder holding a saved site: every page
found in it, in printed page order, each page one section holding the articles of its
article list in list order.  Articles are read only from files inside the source folder;
nothing is ever fetched.

Site rules are data: one :class:`Layout` per layout family gives the XPath selectors of
the page list, the article list, the page banner and the article fields; a generic table
(:data:`GENERIC`) follows the family's own selectors.  One code path applies whichever
family matches a file (by its path first, then by markers in its markup).

All markup reaches the model through :func:`.html.html_to_blocks`; titles and other
fields are plain text.
"""

from __future__ import annotations

import copy
import datetime as dt
import html as html_lib
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree, html as lxml_html

from ..errors import IngestError
from ..files import is_inside, open_inside, read_inside
from ..model import Article, Block, Figure, Paragraph
from .base import Context, Draft, DraftSection, find_date, guess_language, log, page_sort_key, slug
from . import credits
from .encoding import decode, looks_binary
from .html import flatten_raw, html_to_blocks, remove_keep_tail
from .images import ImageResolver

KIND = "epaper"
HTML_SUFFIXES = {".htm", ".html", ".shtml", ".xhtml"}
MAX_FILES = 5000  # files looked at when searching a folder
MAX_BYTES = 16 * 1024 * 1024  # per page
ENPCONTENT = "<!--enpcontent-->"  # body selector: the markup between the ENP comment markers
_RE_NS = {"re": "http://exslt.org/regular-expressions"}


def _cls(name: str) -> str:
    """XPath test: the element's class list holds ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@dataclass(frozen=True)
class Layout:
    """The selectors of one layout family (XPath 1.0 with EXSLT ``re:``; lxml has no CSS)."""

    name: str
    page_file: str = r"(?!)"  # regex searched in a file's '/'-separated path: a page (版面)
    article_file: str = r"(?!)"  # … an article page
    markers: tuple[str, ...] = ()  # regexes over the markup that show the family
    page_links: tuple[str, ...] = ()  # → <a> of the page list ("第01版：要闻")
    article_links: tuple[str, ...] = ()  # → <a>/<area> of a page's article list, in list order
    banner: tuple[str, ...] = ()  # → the current page's label text
    title: tuple[str, ...] = ()
    kicker: tuple[str, ...] = ()  # 引题
    subtitle: tuple[str, ...] = ()  # 副题
    author: tuple[str, ...] = ()
    body: tuple[str, ...] = ()  # XPaths or ENPCONTENT; the first holding text or pictures wins
    pictures: tuple[str, ...] = ()  # "//…" paths of picture containers (img + caption)
    date: tuple[str, ...] = ()
    publication: tuple[str, ...] = ()


_FONT01 = f"td[{_cls('font01')}]"
_FONT02 = f"td[{_cls('font02')}]"
_CONTENT_LINK = r"(^|/)content_\d+(_\d+)?\.html?([?#]|$)"
_PD_ARTICLE = (f"//div[{_cls('article')}]", f"//div[{_cls('text_c')}]")

#: Founder classic (zynews, Hainan Daily …): html/YYYY-MM/DD/node_N.htm + content_N.htm.
FOUNDER = Layout(
    name="founder",
    page_file=r"(?:^|/)node_[A-Za-z]?\d+\.html?$",
    article_file=r"(?:^|/)content_\d+(?:_\d+)?\.html?$",
    markers=(r"<founder-(?:content|title|author|date|pagenum)\b", r"<!--\s*enp(?:content|property)\b"),
    page_links=("//a[@id='pageLink']",),
    article_links=(f"//a[re:test(@href, '{_CONTENT_LINK}')]", f"//area[re:test(@href, '{_CONTENT_LINK}')]"),
    banner=("//founder-pagenum", f"//td[{_cls('px12')}]"),
    title=("//founder-title", f"//{_FONT01}"),
    kicker=(f"(//{_FONT01})[1]/ancestor::table[1]//{_FONT02}[following::{_FONT01}]",),
    subtitle=(f"(//{_FONT01})[1]/ancestor::table[1]//{_FONT02}[preceding::{_FONT01}]",),
    author=("//founder-author",),
    body=("//founder-content", ENPCONTENT, "//div[@id='ozoom']"),
    pictures=("//table[translate(@bgcolor, 'ABCDEF', 'abcdef')='#d8d9bd']", "//table[@id='newspic']",
              "//div[@class='attachment']"),
    date=("//founder-date",),
)

#: People's Daily 2021 – Nov 2024 (and 中国青年报 …): html/YYYY-MM/DD/nbs.D110000renmrb_NN.htm + nw.….htm.
PEOPLES_DAILY = Layout(
    name="peoples-daily",
    page_file=r"(?:^|/)nbs\.D\d+[A-Za-z]+_[A-Za-z]?\d+\.html?$",
    article_file=r"(?:^|/)nw\.D\d+[A-Za-z]+_\d{8}_\d+-[A-Za-z]?\d+\.html?$",
    markers=(r"\b(?:nbs|nw)\.D\d{6}", r"\bid\s*=\s*[\"']?ozoom\b", r"usemap\s*=\s*[\"']?#PagePicMap"),
    page_links=(f"//div[@id='pageList']//div[{_cls('right_title-name')}]//a", "//div[@id='pageList']//a",
                f"//div[{_cls('swiper-slide')}]//a"),
    article_links=("//div[@id='titleList']//a", f"//ul[{_cls('news-list')}]//a", "//map[@name='PagePicMap']//area"),
    banner=(f"//div[{_cls('paper-bot')}]//p[{_cls('ban')}]", f"//div[{_cls('l_t')}]"),
    title=tuple(f"{a}//h1" for a in _PD_ARTICLE),
    kicker=tuple(f"{a}//h3[following::h1]" for a in _PD_ARTICLE),  # the h3 above the h1
    subtitle=tuple(f"{a}//h2[preceding::h1]" for a in _PD_ARTICLE),  # the h2 below it
    author=tuple(f"{a}//p[{_cls('sec')}]" for a in _PD_ARTICLE),
    body=(ENPCONTENT, "//div[@id='ozoom']"),
    pictures=(f"//table[{_cls('pic_c')}]", f"//table[{_cls('pci_c')}]", f"//div[{_cls('attachment')}]"),
    date=(f"//div[{_cls('date-box')}]//p[{_cls('date')}]", f"//div[{_cls('article')}]//p[{_cls('sec')}]"),
    publication=(f"//div[{_cls('date-box')}]//p[{_cls('date')}]",),
)

#: People's Daily from Dec 2024 (and other Founder "pc" editions): pc/layout/YYYYMM/DD/node_NN.html.
PEOPLES_DAILY_PC = Layout(
    name="peoples-daily-pc",
    page_file=r"(?:^|/)pc/layout/\d{6}/\d{2}/node_[A-Za-z]?\d+\.html?$",
    article_file=r"(?:^|/)pc/content/\d{6}/\d{2}/content_\d+\.html?$",
    markers=(r"/pc/(?:layout|content)/\d{6}/",),
    page_links=PEOPLES_DAILY.page_links,
    article_links=PEOPLES_DAILY.article_links,
    banner=PEOPLES_DAILY.banner,
    title=PEOPLES_DAILY.title,
    kicker=PEOPLES_DAILY.kicker,
    subtitle=PEOPLES_DAILY.subtitle,
    author=PEOPLES_DAILY.author,
    body=PEOPLES_DAILY.body,
    pictures=PEOPLES_DAILY.pictures,
    date=PEOPLES_DAILY.date,
    publication=PEOPLES_DAILY.publication,
)

#: Selectors tried after the family's own (other Founder-built papers).
GENERIC = Layout(
    name="generic",
    markers=(r"\bid\s*=\s*[\"']?pageLink\b",),
    page_links=("//a[@id='pageLink']",),
    article_links=("//div[@id='titleList']//a", f"//ul[{_cls('news-list')}]//a"),
    banner=("//founder-pagenum", f"//div[{_cls('paper-bot')}]//p[{_cls('ban')}]", f"//div[{_cls('l_t')}]",
            f"//td[{_cls('px12')}]"),
    title=("//founder-title", *PEOPLES_DAILY.title, "//h2[@id='Title']", f"//h2[{_cls('art-title')}]",
           "//h2[@id='APP-Title']", f"//div[{_cls('bmnr_con_biaoti')}]", f"//{_FONT01}"),
    kicker=("//p[@id='PreTitle']", f"//p[{_cls('introtitle')}]", f"//h2[{_cls('leading_title')}]",
            f"//div[{_cls('bmnr_con_yinti')}]"),
    subtitle=("//p[@id='SubTitle']", f"//p[{_cls('subtitle')}]"),
    author=("//founder-author", f"//p[{_cls('author')}]"),
    body=("//founder-content", ENPCONTENT, "//div[@id='ozoom']", "//*[@id='articleContent']",
          f"//*[{_cls('article-content')}]", f"//div[{_cls('bmnr_con_con')}]"),
    pictures=(f"//table[{_cls('pic_c')}]", f"//table[{_cls('pci_c')}]", "//table[@id='newspic']",
              f"//div[{_cls('attachment')}]", f"//div[{_cls('pic')}]",
              "//table[translate(@bgcolor, 'ABCDEF', 'abcdef')='#d8d9bd']"),
    date=("//founder-date", f"//p[{_cls('date')}]", "//div[@id='riqi_']", "//div[@id='paperdatediv']"),
)

#: Most specific first: a file is read with the first family whose file pattern (or marker) matches.
LAYOUTS = (PEOPLES_DAILY_PC, PEOPLES_DAILY, FOUNDER)

#: Issue dates written into saved paths: html/2024-05/01/, pc/layout/202405/01/, nw…_20240501_1-01.htm.
DATE_PATHS = (r"(?:^|/)(\d{4})-(\d{2})/(\d{2})/", r"(?:^|/)(\d{4})(\d{2})/(\d{2})/", r"_(\d{4})(\d{2})(\d{2})_",
              r"(?:^|/)(\d{4})-(\d{2})-(\d{2})(?:/|$)")

_WEAK_MARKER = re.compile(r"""href\s*=\s*["']?[^"'>\s]*(?:node_[A-Za-z]?\d+|content_\d+(?:_\d+)?)\.html?\b""", re.I)
_STRONG_MARKERS = tuple(re.compile(m, re.I) for layout in (*LAYOUTS, GENERIC) for m in layout.markers)
_HTML_HEAD = re.compile(r"<(?:!doctype\s+html|html|head|body)\b", re.I)
_PARSER = lxml_html.HTMLParser(no_network=True, remove_pis=True, recover=True)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ENP = re.compile(r"<!--\s*enpproperty\b(.*?)/enpproperty\s*-->", re.S | re.I)
_ENP_FIELD = re.compile(r"<([A-Za-z]+)>(.*?)</\1>", re.S)
_ENP_BODY = re.compile(r"<!--\s*enpcontent\s*-->(.*?)<!--\s*/enpcontent\s*-->", re.S | re.I)
_ENP_OPEN = re.compile(r"^(?:\s*<!--\s*enpcontent\s*-->)+", re.I)
_NPM = re.compile(r"<!--\s*</?npm:[^>]*>\s*-->", re.I)
_BANNER = re.compile(r"(?:第\s*([A-Za-z]?\s*\d{1,3})\s*版|(?:^|[\s|])([A-Za-z]?\d{1,3})\s*版)")
_CREDIT = re.compile(r"(?:^|[一二三四五六七八九十0-9本])版责编[：:]")
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
_MIN_PICTURE = 16  # pixels: smaller pictures are spacers, dots and arrows
_MAX_BODY_DEPTH = 32  # elements below the body container; deeper ones are unwrapped

# Bylines, datelines and author notes: the shared rules in credits.py.
_PRINT_CREDIT = re.compile(r"《[^》]{1,20}》\s*[（(][^（()）]*[）)]")


# ---------------------------------------------------------------- detection


def detect(path: Path, head: bytes) -> int:
    """95 for Founder / People's Daily markup; 70 for pages that only link node_N/content_N files."""
    text = head.decode("latin-1")
    if path.suffix.lower() not in HTML_SUFFIXES and not _HTML_HEAD.search(text):
        return 0
    if any(marker.search(text) for marker in _STRONG_MARKERS):
        return 95
    if _WEAK_MARKER.search(text):
        return 70
    return 0


def claims_folder(folder: Path) -> bool:
    """True when ``folder`` (searched recursively) holds pages of a saved e-paper site."""
    try:
        files = _walk(folder, quiet=True)
    except OSError:
        return False
    checked = 0
    for rel, path in files:
        if _page_layout(rel) is not None:
            return True
    for rel, path in files:
        if _article_layout(rel) is None:
            continue
        try:
            with open_inside(path, folder, "page") as handle:  # never a FIFO, never a link out
                head = handle.read(64 * 1024).decode("latin-1")
        except (OSError, IngestError):
            continue
        if any(marker.search(head) for marker in _STRONG_MARKERS):
            return True
        checked += 1
        if checked >= 3:
            break
    return False


def _walk(folder: Path, *, quiet: bool = False) -> list[tuple[str, Path]]:
    """Return (path relative to ``folder`` with '/', path) of the HTML files below ``folder``, bounded."""
    found: list[tuple[str, Path]] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
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


def _page_layout(rel: str) -> Layout | None:
    return next((layout for layout in LAYOUTS if re.search(layout.page_file, rel)), None)


def _article_layout(rel: str) -> Layout | None:
    return next((layout for layout in LAYOUTS if re.search(layout.article_file, rel)), None)


# ---------------------------------------------------------------- parsed pages


@dataclass
class _Doc:
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


def _parse(path: Path, root: Path) -> _Doc | None:
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
    raw = _flatten_raw(_XML_DECL.sub("", _NPM.sub("", _CDATA.sub(lambda m: m.group(1), raw))))
    try:
        tree = lxml_html.document_fromstring(raw, parser=_PARSER)
    except (etree.ParserError, ValueError):
        log.warning("%s: not an HTML page; skipped", path)
        return None
    where = path.as_posix()
    layout = _page_layout(where) or _article_layout(where)
    if layout is None:
        head = raw[:65536]
        layout = next((l for l in LAYOUTS if any(re.search(m, head, re.I) for m in l.markers)), FOUNDER)
    return _Doc(path=path, raw=raw, tree=tree, layout=layout, enp=_enpproperty(raw))


def _flatten_raw(raw: str) -> str:
    """Drop the tags (never the text) nested deeper than the policy allows: libxml2 drops such content silently."""
    return flatten_raw(raw)[0]


def _enpproperty(raw: str) -> dict[str, str]:
    match = _ENP.search(raw)
    if not match:
        return {}
    fields: dict[str, str] = {}
    for name, value in _ENP_FIELD.findall(match.group(1)):
        value = re.sub(r"<br\s*/?>", " ", value, flags=re.I)
        value = html_lib.unescape(re.sub(r"<[^>]*>", "", value))
        value = _clean(value)
        if value:
            fields.setdefault(name.lower(), value)
    return fields


def _clean(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _text(el) -> str:
    """Plain text of an element (or an XPath string result); <br> counts as a space."""
    if not isinstance(el, etree._Element):
        return _clean(str(el))
    el = copy.deepcopy(el)
    el.tail = None
    for br in el.iter("br"):
        br.tail = " " + (br.tail or "")
    for bad in el.xpath(".//script|.//style|.//comment()"):
        remove_keep_tail(bad)
    return _clean("".join(el.itertext()))


def _texts(doc: _Doc, name: str) -> list[str]:
    """Texts of the elements that the selectors of field ``name`` find, in selector order."""
    out = []
    for expr in doc.select(name):
        for el in doc.xpath(expr):
            text = _text(el)
            if text:
                out.append(text)
    return out


def _banner(text: str) -> tuple[str, str | None] | None:
    """Parse '第01版：要闻' (or '01版:要闻', '第 A05 版(体育)') into ('01', '要闻')."""
    match = _BANNER.search(text)
    if not match:
        return None
    label = re.sub(r"\s+", "", match.group(1) or match.group(2)).upper()
    rest = text[match.end():].lstrip(" :：（(【[\u3000\xa0")
    rest = re.split(r"上一版|下一版|PDF|\s{2,}|\|", rest, maxsplit=1)[0]
    name = rest.strip(" :：（()）【】[]\u3000\xa0-—").strip()
    return label, (name[:30] or None)


def _doc_banner(doc: _Doc) -> tuple[str | None, str | None]:
    """The page label and name that a page states about itself."""
    node = doc.enp.get("nodename")
    if node:
        parsed = _banner(node)
        if parsed:
            return parsed
    for text in _texts(doc, "banner"):
        parsed = _banner(text)
        if parsed:
            return parsed
    for part in _title_parts(doc):
        parsed = _banner(part)
        if parsed:
            return parsed
    return None, node


def _title_parts(doc: _Doc) -> list[str]:
    titles = doc.tree.xpath("//title")
    text = _text(titles[0]) if titles else ""
    return [part for part in _TITLE_SPLIT.split(text) if part]


def _doc_date(doc: _Doc, *, page: bool) -> dt.date | None:
    for source in (doc.enp.get("date"), *_texts(doc, "date")):
        found = find_date(source) if source else None
        if found:
            return found
    for pattern in DATE_PATHS:
        match = re.search(pattern, doc.path.as_posix())
        if match:
            found = find_date("-".join(match.groups()))
            if found:
                return found
    found = find_date(" ".join(_title_parts(doc)))
    if found or not page:
        return found
    match = re.search(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日", _text(doc.tree))
    return find_date(match.group(0)) if match else None


def _doc_publication(doc: _Doc, titles: list[str]) -> str | None:
    for text in _texts(doc, "publication"):
        name = _clean(_WEEKDAY.sub("", re.split(r"\d{4}\s*年", text)[0]))
        if name:
            return name
    parts = [p for p in _title_parts(doc) if not _banner(p) and p not in titles and len(p) <= 20]
    if not parts:
        return None
    return next((p for p in parts if re.search(r"(?:报|刊|周刊|Daily|News|Times|Post)$", p)), parts[0])


# ---------------------------------------------------------------- links


def _links(doc: _Doc, name: str) -> list[tuple[str, str]]:
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
            text = _text(el) or _clean(el.get("title") or el.get("alt") or "")
            if name == "page_links" and not _banner(text):
                parent = el.getparent()
                text = _text(parent) if parent is not None else text
            found.append((href, text))
        if found:
            return found
    return []


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
        if not relative or relative.endswith("/"):
            return None, "not a page"
        if not (scheme or parts.netloc or relative.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", relative)):
            candidate = (page.parent / relative).resolve()
            if not candidate.is_relative_to(self.root):
                return None, "points outside the source folder; not read"
            if candidate.is_file():
                return candidate, ""
        # A saved site may keep absolute URLs or move files: the same file name in the folder.
        same = self.by_name.get(Path(relative).name, [])
        if len(same) == 1:
            return same[0], ""
        return None, "not in the folder; skipped"


# ---------------------------------------------------------------- articles


def _body(doc: _Doc):
    """Return (a detached copy of the body container, the container in the page or None)."""
    for expr in doc.select("body"):
        if expr == ENPCONTENT:
            match = _ENP_BODY.search(doc.raw)
            if not match:
                continue
            fragment = _ENP_OPEN.sub("", match.group(1))
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


def _figures(container, seen: set[str]) -> list:
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
        alt = _clean(img.get("alt") or img.get("title") or "")
        if alt:
            picture.set("alt", alt)
        if caption:
            etree.SubElement(figure, "figcaption").text = caption
        figures.append(figure)
    return figures


def _picture_exprs(doc: _Doc) -> list[str]:
    return doc.select("pictures")


def _prepare(body, doc: _Doc, seen: set[str]) -> str:
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
    for expr in _picture_exprs(doc):
        for container in doc.xpath("." + expr, body):
            if container.getparent() is None or any(a.tag == "figure" for a in container.iterancestors()):
                continue
            figures = _figures(container, seen)
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


def _credits(blocks: list[Block], resolver: ImageResolver) -> tuple[list[Block], credits.Credit, str | None]:
    """Move bylines from the first paragraphs, a dateline prefix and a closing credit or author note out of the body."""
    found: list[credits.Credit] = []
    index, seen_paragraphs = 0, 0
    while index < len(blocks) and seen_paragraphs < 4:
        block = blocks[index]
        if not isinstance(block, Paragraph):
            index += 1
            continue
        seen_paragraphs += 1
        following = next((b.content.text for b in blocks[index + 1:] if isinstance(b, Paragraph)), "")
        credit = credits.credit_line(block.content.text, alone=not found and credits.is_text(following)) \
            if len(found) < 3 else None
        if credit:
            found.append(credit)
            del blocks[index]
            continue
        opening = credits.opening(block.content.html)
        if opening:
            found.append(opening[0])
            rest = opening[1]
            replacement = list(html_to_blocks(f"<p>{rest}</p>", resolver)) if rest.strip() else []
            blocks[index:index + 1] = replacement
        break
    author_note = None
    for position in range(len(blocks) - 1, -1, -1):
        block = blocks[position]
        if isinstance(block, Figure):
            continue
        if isinstance(block, Paragraph):
            author_note = credits.author_note(block.content.text)
            closing = None if author_note else credits.closing(block.content.html)
            if author_note or (closing and not closing[1].strip()):
                del blocks[position]
            elif closing:
                blocks[position:position + 1] = list(html_to_blocks(f"<p>{closing[1]}</p>", resolver))
            if closing:
                found.append(closing[0])
        break
    return blocks, credits.combine(*found), author_note


def _read_article(doc: _Doc, ctx: Context, *, hint: str = "", publication: str | None = None) -> Article | None:
    """Read one article page; warn and return None when it holds no article."""
    path = doc.path
    candidates = _texts(doc, "title")
    title = doc.enp.get("title") or next((t for t in candidates if t != publication), None) or hint or None
    if not title:
        parts = [p for p in _title_parts(doc) if not _banner(p)]
        title = parts[0] if parts else None
    if not title:
        log.warning("%s: no article title found; skipped", path)
        return None
    kicker = doc.enp.get("introtitle") or next(iter(_texts(doc, "kicker")), None)
    subtitle = doc.enp.get("subtitle") or next(iter(_texts(doc, "subtitle")), None)
    kicker = kicker if kicker and kicker != title else None
    subtitle = subtitle if subtitle and subtitle not in {title, kicker} else None

    resolver = ImageResolver(path, ctx.root, remote=ctx.allow_remote, remote_hosts=ctx.remote_hosts)
    seen: set[str] = set()
    body, original = _body(doc)
    markup = _prepare(body, doc, seen) if body is not None else ""
    outside = []
    for expr in _picture_exprs(doc):
        for container in doc.xpath(expr):
            if original is not None and any(a is original for a in container.iterancestors()):
                continue
            outside.extend(_figures(container, seen))
    markup = "".join(etree.tostring(f, encoding="unicode", method="html") for f in outside) + markup
    blocks = list(html_to_blocks(markup, resolver)) if markup else []
    blocks = [b for b in blocks if not (isinstance(b, Figure) and min(b.image.width, b.image.height) < _MIN_PICTURE)]
    half = len(blocks) // 2
    if half and len(blocks) % 2 == 0 and blocks[:half] == blocks[half:]:
        blocks = blocks[:half]  # the body printed twice
    while blocks and isinstance(blocks[0], Paragraph) and blocks[0].content.text in {title, kicker, subtitle}:
        del blocks[0]
    blocks, credit, author_note = _credits(blocks, resolver)
    if not blocks:
        log.warning("%s: article %r has no text; skipped", path, title)
        return None

    meta_author = doc.enp.get("author") or next(iter(_texts(doc, "author")), None)
    if meta_author:
        meta_author = _clean(_PRINT_CREDIT.sub(" ", meta_author)) or None
    meta_credit = credits.credit_line(meta_author) if meta_author else None
    authors = credit.authors or (meta_credit.authors if meta_credit else ()) or ()
    if not authors and meta_author:
        tokens = [t for t in re.split(r"[\s、,，;；]+", meta_author) if t]
        if tokens and all(re.fullmatch(r"[\u4e00-\u9fff·]{2,4}", t) for t in tokens):
            authors = tuple(tokens)  # metadata that holds names only: 李响 王芳
    tags = tuple(t for t in re.split(r"[;；,，\s]+", doc.enp.get("keyword", "")) if t)
    text_sample = title + " " + " ".join(b.content.text for b in blocks[:20] if isinstance(b, Paragraph))
    try:
        return Article(
            id=slug(path.stem) or "article", title=title, lang=ctx.language or guess_language(text_sample),
            subtitle=subtitle, kicker=kicker, authors=authors, byline=credit.byline or meta_author,
            author_note=author_note, dateline=credit.dateline, tags=tags, source_path=path,
            blocks=tuple(blocks),
        )
    except ValueError as exc:
        log.warning("%s: invalid article (%s); skipped", path, exc)
        return None


# ---------------------------------------------------------------- loading


@dataclass
class _Page:
    doc: _Doc
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
    kept = []
    for rel, path in files:
        if not is_inside(path, root):
            if not quiet:
                log.warning("%s: leads outside the source folder; not read", path)
            continue
        kept.append((rel, path.resolve()))
    return kept


def _section_name(label: str | None, name: str | None) -> str | None:
    return name or (f"第{label}版" if label else None)


def _load_folder(folder: Path, ctx: Context, root: Path) -> list[Draft]:
    files = _inside(_walk(folder), root)
    resolve = _Resolver(root, [p for _, p in files])
    page_files = [(rel, p) for rel, p in files if _page_layout(rel)]
    page_set = {p for _, p in page_files}

    pages: list[_Page] = []
    listed: dict[Path, tuple[str | None, str | None]] = {}
    missing_pages: dict[str, tuple[Path, str, str]] = {}  # file name → (page, href, why)
    for rel, path in page_files:
        doc = _parse(path, root)
        if doc is None:
            continue
        for href, text in _links(doc, "page_links"):
            target, why = resolve(href, path)
            if target is None:
                missing_pages.setdefault(Path(urlsplit(href).path).name or href, (path, href, why))
                continue
            if target not in listed:
                parsed = _banner(text)
                listed[target] = parsed if parsed else (None, text or None)
            missing_pages.pop(target.name, None)
        label, name = _doc_banner(doc)
        pages.append(_Page(doc, rel, label, name, _doc_date(doc, page=True),
                           [(h, t) for h, t in _links(doc, "article_links") if not _CREDIT.search(t)]))
    present = {p.name for p in page_set}
    for name, (where, href, why) in missing_pages.items():
        if name not in present:
            log.warning("%s: page %r of the page list %s", where, href, why)

    for page in pages:
        label, name = listed.get(page.doc.path, (None, None))
        page.label = label or page.label
        page.name = name or page.name
    pages.sort(key=lambda p: (page_sort_key(p.label), _natural(p.rel)))

    publications = Counter(filter(None, (_doc_publication(p.doc, []) for p in pages)))
    publication = publications.most_common(1)[0][0] if publications else None

    used: set[Path] = set(page_set)
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
            doc = _parse(target, root)
            article = _read_article(doc, ctx, hint=text, publication=publication) if doc else None
            if article is not None:
                section.articles.append(article)
        sections.append((page, section))

    # Article pages that no page list names (their page not saved): placed by their own banner.
    for rel, path in files:
        if path in used or not _article_layout(rel):
            continue
        used.add(path)
        doc = _parse(path, root)
        article = _read_article(doc, ctx, publication=publication) if doc else None
        if article is None:
            continue
        label, name = _doc_banner(doc)
        target = next((s for _, s in sections if label and page_sort_key(s.page) == page_sort_key(label)), None)
        if target is None:
            target = DraftSection(name=_section_name(label, name), page=label)
            page = _Page(doc, rel, label, name, _doc_date(doc, page=False), [])
            sections.append((page, target))
        target.articles.append(article)
        if publication is None:
            publication = _doc_publication(doc, [article.title])

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
    doc = _parse(path.resolve(), root)
    if doc is None:
        raise IngestError("cannot be read as an HTML page", path)
    label, name = _doc_banner(doc)
    date = _doc_date(doc, page=False)
    body, _ = _body(doc)
    links = [(h, t) for h, t in _links(doc, "article_links") if not _CREDIT.search(t)]
    if body is not None or not links:
        publication = _doc_publication(doc, _texts(doc, "title") + ([doc.enp["title"]] if "title" in doc.enp else []))
        article = _read_article(doc, ctx, publication=publication)
        if article is None:
            raise IngestError("no article found (expected a Founder or People's Daily e-paper page)", path)
        articles = [article]
    else:  # a page (版面): its articles beside it
        publication = _doc_publication(doc, [])
        resolve = _Resolver(root, [p for _, p in _inside(_walk(path.parent, quiet=True), root, quiet=True)])
        articles = []
        seen: set[Path] = set()
        for href, text in links:
            target, why = resolve(href, doc.path)
            if target is None:
                log.warning("%s: linked article %r %s", path, href, why)
                continue
            if target in seen or target == doc.path:
                continue
            seen.add(target)
            article_doc = _parse(target, root)
            article = _read_article(article_doc, ctx, hint=text, publication=publication) if article_doc else None
            if article is not None:
                articles.append(article)
        if not articles:
            raise IngestError("no articles found beside this e-paper page", path)
        date = _doc_date(doc, page=True)
    language = ctx.language or guess_language(" ".join(a.title + " " + a.text[:500] for a in articles))
    return [Draft(source=path, kind=KIND, publication=publication, language=language, date=date,
                  sections=[DraftSection(name=_section_name(label, name), page=label, articles=articles)])]
