"""The layout families of saved e-paper sites, as data.

One :class:`Layout` per family gives the XPath selectors of the page list, the article
list, the page banner and the article fields, and the file patterns and markup markers
that show the family; a generic table (:data:`GENERIC`) follows the family's own
selectors.  Nothing here reads a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ENPCONTENT = "<!--enpcontent-->"  # body selector: the markup between the ENP comment markers


def _cls(name: str) -> str:
    """XPath test: the element's class list holds ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@dataclass(frozen=True)
class Layout:
    """The selectors of one layout family (XPath 1.0 with EXSLT ``re:``; lxml has no CSS)."""

    name: str
    page_file: str = r"(?!)"  # regex searched in a file's '/'-separated path: a page (版面)
    article_file: str = r"(?!)"  # … an article page
    markers: tuple[str, ...] = ()  # regexes over the markup that show the family (searched ignoring case)
    #: for each marker, strings (in lower case) one of which every text the marker matches holds: a text that
    #: holds none is not searched (a case-blind search from every place of 64 KB costs a millisecond)
    marker_needles: tuple[tuple[str, ...], ...] = ()
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
    marker_needles=(("<founder-",), ("enpcontent", "enpproperty")),
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
    marker_needles=(("nbs.d", "nw.d"), ("ozoom",), ("#pagepicmap",)),
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
    marker_needles=(("/pc/layout/", "/pc/content/"),),
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
    marker_needles=(("pagelink",),),
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


def page_layout(rel: str) -> Layout | None:
    """The family whose page (版面) file pattern matches the '/'-separated path ``rel``."""
    return next((layout for layout in LAYOUTS if re.search(layout.page_file, rel)), None)


def article_layout(rel: str) -> Layout | None:
    """The family whose article file pattern matches the '/'-separated path ``rel``."""
    return next((layout for layout in LAYOUTS if re.search(layout.article_file, rel)), None)


#: Letters that a case-blind search takes for an ASCII one and ``str.lower`` does not make one (it makes the
#: Kelvin sign a "k"): İ and ı for "i", ſ for "s".
_FOLDED = {0x130: "i", 0x131: "i", 0x17F: "s"}
_FOLDED_CHARS = "".join(map(chr, _FOLDED))


def family_shown(text: str, layouts: tuple[Layout, ...] = LAYOUTS) -> Layout | None:
    """The first of ``layouts`` one of whose markers is found in ``text`` (ignoring case), else None.  A marker is
    searched only where the text holds one of its needles (``Layout.marker_needles``): the same answer as a
    search of the whole text for each marker, without a case-blind search from every place of it."""
    lowered = text.lower()
    if any(char in text for char in _FOLDED_CHARS):
        lowered = text.translate(_FOLDED).lower()
    for layout in layouts:
        for marker, needles in zip(layout.markers, layout.marker_needles, strict=True):
            if any(needle in lowered for needle in needles) and re.search(marker, text, re.I):
                return layout
    return None
