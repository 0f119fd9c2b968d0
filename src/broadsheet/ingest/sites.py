"""The families of article pages whose markup is known, as data: Chinese portals and WeChat articles.

One :class:`Site` per family gives the hosts it serves, the markup that shows it when the page does not say
where it was saved from, and the XPath selectors of the body, the headline, the date, the author, the source and
the publication.  A page of a family is read with these selectors; what they do not find is left to the general
reading (trafilatura), and so is the whole page when the body selector finds no text.  Nothing here reads a file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from . import credits
from .html import remove_keep_tail


def _cls(name: str) -> str:
    """XPath test: the element's class list holds ``name``."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _cls_prefix(prefix: str) -> str:
    """XPath test: a class of the element starts with ``prefix`` (class names a build tool suffixes with a hash)."""
    return f"contains(concat(' ', normalize-space(@class)), ' {prefix}')"


@dataclass(frozen=True)
class Site:
    """The selectors of one family of article pages (XPath 1.0; the first that finds text wins)."""

    name: str
    hosts: tuple[str, ...] = ()  # host names (or their parent domains) of the page's address
    markers: tuple[str, ...] = ()  # XPaths that all match on a page of the family, whatever its address
    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    date: tuple[str, ...] = ()  # elements whose text holds the date (2023-11-20, 2023年11月20日)
    date_scripts: tuple[str, ...] = ()  # regexes over the page's scripts: a date or a Unix time (group 1)
    author: tuple[str, ...] = ()
    source: tuple[str, ...] = ()  # elements whose text holds 来源：… (or only the source's name)
    source_scripts: tuple[str, ...] = ()  # regexes over the page's scripts: the source's name (group 1)
    publication: tuple[str, ...] = ()  # elements whose text names the publication (a WeChat account)
    publication_name: str | None = None  # the publication when no element names it
    drop: tuple[str, ...] = ()  # elements inside the body that are no text (share bars, editor lines, QR codes)


_BODY_NOISE = ("//script", "//style", "//noscript", "//iframe", "//form", "//button")

WECHAT = Site(
    name="wechat",
    hosts=("mp.weixin.qq.com",),
    markers=("//*[@id='js_content']", "//*[@id='activity-name']"),
    body=("//*[@id='js_content']",),
    title=("//*[@id='activity-name']", f"//h1[{_cls('rich_media_title')}]"),
    date=("//*[@id='publish_time']",),
    date_scripts=(r"\bvar\s+ct\s*=\s*[\"'](\d{10})[\"']", r"\bcreate_time\s*[:=]\s*[\"']?(\d{10})\b",
                  r"\bcreateTime\s*[:=]\s*[\"'](\d{4}-\d{2}-\d{2})"),
    author=("//*[@id='js_author_name']", f"//span[{_cls('rich_media_meta_text')}][not(@id)]"),
    publication=("//*[@id='js_name']", "//*[@id='js_profile_qrcode']//strong"),
    drop=("//*[@id='js_pc_qr_code']", "//*[@id='js_tags']", f"//*[{_cls('qr_code_pc')}]",
          f"//*[{_cls('rich_media_tool')}]", f"//*[{_cls('original_primary_card')}]"),
)

PEOPLE = Site(  # 人民网
    name="people",
    hosts=("people.com.cn",),
    markers=(f"//div[{_cls('rm_txt_con')}]",),
    body=(f"//div[{_cls('rm_txt_con')}]", "//div[@id='rwb_zw']", f"//div[{_cls('box_con')}]",
          "//div[@id='p_content']", f"//div[{_cls('show_text')}]"),
    title=(f"//div[{_cls('rm_txt')}]//h1", f"//div[{_cls('text_title')}]//h1", f"//div[{_cls('title')}]/h1"),
    date=(f"//div[{_cls('rm_txt')}]//div[{_cls('col-1-1')}]", f"//div[{_cls('box01')}]//div[{_cls('fl')}]",
          f"//div[{_cls('text_title')}]//p[{_cls('sou')}]"),
    author=(f"//div[{_cls('rm_txt')}]//div[{_cls('author')}]", f"//p[{_cls('author')}]"),
    source=(f"//div[{_cls('rm_txt')}]//div[{_cls('col-1-1')}]", f"//div[{_cls('box01')}]//div[{_cls('fl')}]",
            f"//div[{_cls('text_title')}]//p[{_cls('sou')}]"),
    publication_name="人民网",
    drop=(f"//div[{_cls('edit')}]", f"//div[{_cls('zdfy')}]", f"//div[{_cls('box_pic')}][not(.//img)]",
          f"//div[{_cls('otitle')}]"),
)

XINHUA = Site(  # 新华网
    name="xinhua",
    hosts=("news.cn", "xinhuanet.com"),
    markers=("//div[@id='detail']", f"//div[{_cls('header-time')}]"),
    body=("//div[@id='detail']", "//div[@id='p-detail']", f"//div[{_cls('article')}]",
          "//div[@id='content']"),
    title=(f"//div[{_cls('head-line')}]//span[{_cls('title')}]", f"//div[{_cls('head-line')}]//h1",
           "//h1[@id='title']", f"//div[{_cls('h-title')}]"),
    date=(f"//div[{_cls('header-time')}]", f"//span[{_cls('h-time')}]", "//span[@id='pubtime']"),
    source=(f"//div[{_cls('source')}]", f"//em[@id='source']", f"//span[{_cls('source')}]"),
    publication_name="新华网",
    drop=(f"//div[{_cls('editor')}]", f"//span[{_cls('editor')}]", f"//div[{_cls('p-tags')}]",
          "//div[@id='articleEdit']"),
)

SINA = Site(  # 新浪
    name="sina",
    hosts=("sina.com.cn", "sina.cn"),
    markers=(f"//div[{_cls('date-source')}]", f"//h1[{_cls('main-title')}]"),
    body=("//div[@id='artibody']", "//div[@id='article']", f"//div[{_cls('article-content')}]"),
    title=(f"//h1[{_cls('main-title')}]", "//h1[@id='artibodyTitle']", f"//h1[{_cls('art_tit_h1')}]"),
    date=(f"//div[{_cls('date-source')}]//span[{_cls('date')}]", "//span[@id='pub_date']",
          f"//time[{_cls('art_time')}]"),
    source=(f"//div[{_cls('date-source')}]//*[{_cls('source')}]", f"//span[{_cls('source')}]"),
    author=(f"//p[{_cls('article-editor')}]/following-sibling::p[{_cls('show_author')}][contains(., '作者')]",),
    publication_name="新浪网",
    drop=(f"//p[{_cls('show_author')}]", f"//div[{_cls('article-editor')}]", f"//div[{_cls('appendQr_wrap')}]",
          f"//div[{_cls('article-notice')}]", f"//p[{_cls('article-editor')}]"),
)

THEPAPER = Site(  # 澎湃新闻
    name="thepaper",
    hosts=("thepaper.cn",),
    markers=(f"//div[{_cls_prefix('index_cententWrap')}]", f"//h1[{_cls_prefix('index_title')}]"),
    body=(f"//div[{_cls_prefix('index_cententWrap')}]", f"//div[{_cls('news_txt')}]",
          f"//div[{_cls_prefix('index_cententWrapBox')}]"),
    title=(f"//h1[{_cls_prefix('index_title')}]", f"//h1[{_cls('news_title')}]"),
    date=(f"//div[{_cls_prefix('index_left')}]//div[{_cls_prefix('ant-space-item')}]",
          f"//div[{_cls('news_about')}]"),
    author=(f"//div[{_cls_prefix('index_left')}]/div[1]", f"//div[{_cls('news_about')}]/p[1]"),
    publication_name="澎湃新闻",
    drop=(f"//div[{_cls_prefix('index_statementBox')}]", f"//div[{_cls('news_editor')}]"),
)

NETEASE = Site(  # 网易
    name="netease",
    hosts=("163.com",),
    markers=(f"//div[{_cls('post_body')}]", f"//div[{_cls('post_info')}]"),
    body=(f"//div[{_cls('post_body')}]", "//div[@id='endText']", f"//div[{_cls('post_text')}]"),
    title=(f"//h1[{_cls('post_title')}]", "//div[@id='epContentLeft']/h1", f"//div[{_cls('post_content_main')}]/h1"),
    date=(f"//div[{_cls('post_info')}]", f"//div[{_cls('post_time_source')}]"),
    source=(f"//div[{_cls('post_info')}]", f"//div[{_cls('post_time_source')}]"),
    publication_name="网易",
    drop=(f"//div[{_cls('ep-source')}]", f"//div[{_cls('post_btmshare')}]", f"//div[{_cls('post_end')}]",
          f"//*[{_cls('ep-editor')}]", f"//div[{_cls('otitle')}]"),
)

TENCENT = Site(  # 腾讯网
    name="tencent",
    hosts=("qq.com",),
    markers=(f"//div[{_cls('content-article')}]", f"//div[{_cls('LEFT')}]"),
    body=(f"//div[{_cls('content-article')}]", f"//div[{_cls('rich_media_content')}]",
          f"//div[{_cls('article-content')}]", "//div[@id='Cnt-Main-Article-QQ']"),
    title=(f"//div[{_cls('LEFT')}]/h1", f"//div[{_cls('article-title')}]//h1", f"//div[{_cls('hd')}]/h1"),
    date=(f"//*[{_cls('article-time')}]", f"//span[{_cls('a_time')}]", f"//span[{_cls('pubTime')}]"),
    date_scripts=(r"[\"']pubtime[\"']\s*:\s*[\"'](\d{4}-\d{2}-\d{2})",),
    source_scripts=(r"[\"']media[\"']\s*:\s*[\"']([^\"'\\]{2,30})[\"']",),
    author=(f"//div[{_cls('author')}]//*[{_cls('media-name')}]", f"//span[{_cls('a_author')}]"),
    source=(f"//*[{_cls('media-name')}]", f"//span[{_cls('a_source')}]", f"//span[{_cls('color-a-1')}]"),
    publication_name="腾讯网",
    drop=(f"//div[{_cls('qq_editor')}]", f"//div[{_cls('article-footer')}]"),
)

GUANCHA = Site(  # 观察者网
    name="guancha",
    hosts=("guancha.cn",),
    markers=(f"//div[{_cls('all-txt')}]", f"//div[{_cls('left-main')}]"),
    body=(f"//div[{_cls('content')}][{_cls('all-txt')}]", f"//div[{_cls('all-txt')}]"),
    title=(f"//div[{_cls('left-main')}]/h3", f"//div[{_cls('left-main')}]//h1", f"//div[{_cls('article-title')}]"),
    date=(f"//div[{_cls('time')}]/span[1]", f"//div[{_cls('time')}]"),
    author=(f"//div[{_cls('author-intro')}]//p[1]/a", f"//div[{_cls('author-intro')}]//h3"),
    source=(f"//div[{_cls('time')}]/span[contains(., '来源')]",),
    publication_name="观察者网",
    drop=(f"//div[{_cls('article-page')}]", f"//div[{_cls('statement')}]"),
)

BAIJIAHAO = Site(  # 百家号
    name="baijiahao",
    hosts=("baijiahao.baidu.com", "mbd.baidu.com"),
    markers=(f"//div[{_cls_prefix('index-module_articleWrap')}]", "//div[@data-testid='article']"),
    body=("//div[@data-testid='article']", f"//div[{_cls_prefix('index-module_articleWrap')}]",
          f"//div[{_cls('article-content')}]", "//div[@id='article']"),
    title=(f"//div[{_cls_prefix('index-module_articleTitle')}]", f"//div[{_cls('article-title')}]//h2",
           "//div[@id='header']//h2"),
    date=(f"//*[{_cls_prefix('index-module_articleSource')}]//span[{_cls('date')}]",
          f"//*[{_cls_prefix('index-module_articleSource')}]", f"//div[{_cls('article-source')}]"),
    author=(f"//*[{_cls_prefix('index-module_authorTxt')}]//p[1]", f"//*[{_cls_prefix('index-module_authorTxt')}]",
            f"//p[{_cls('author-name')}]", f"//*[{_cls('author-name')}]"),
    publication_name="百家号",
    drop=(f"//*[{_cls_prefix('index-module_footer')}]", f"//*[{_cls_prefix('index-module_sideBar')}]"),
)

SITES: tuple[Site, ...] = (WECHAT, PEOPLE, XINHUA, SINA, THEPAPER, NETEASE, TENCENT, GUANCHA, BAIJIAHAO)

_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[-/.年]\s*|\s+)(\d{1,2})(?:\s*[-/.月]\s*|\s+)(\d{1,2})(?!\d)")
_SOURCE = re.compile(r"(?:来源|來源|稿源)\s*[:：丨|]\s*([^\s|丨　]{2,30})")
_SPACE = re.compile(r"\s+")
CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Found:
    """What a family's selectors found on a page (None: not found; the general reading decides)."""

    site: Site
    body: etree._Element | None = None
    title: str | None = None
    date: dt.date | None = None
    authors: tuple[str, ...] = ()
    source: str | None = None
    publication: str | None = None  # named on the page (a WeChat account)
    by_host: bool = False  # the page's address is the family's (not only its markup)


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


def match(page: etree._Element, url: str | None) -> Site | None:
    """The family the page belongs to: by its address's host, else by markup only that family has."""
    host = host_of(url)
    for site in SITES:
        if _host_matches(site, host):
            return site
    for site in SITES:
        if site.markers and all(page.xpath(m) for m in site.markers):
            return site
    return None


def _host_matches(site: Site, host: str | None) -> bool:
    return bool(host) and any(host == h or host.endswith("." + h) for h in site.hosts)


def read(site: Site, page: etree._Element, scripts: str = "", url: str | None = None) -> Found:
    """Apply the family's selectors to the page."""
    found = Found(site=site, by_host=_host_matches(site, host_of(url)))
    found.title = _first_text(page, site.title)
    for path in site.body:
        for element in page.xpath(path):
            if isinstance(element, etree._Element) and _text(element):
                found.body = _clean_body(element, site)
                break
        if found.body is not None:
            break
    for path in site.date:
        for element in page.xpath(path):
            found.date = parse_date(_text(element, " "))  # 2023 11/22 from <em>2023</em><em>11</em>/<em>22</em>
            if found.date:
                break
        if found.date:
            break
    if found.date is None:
        for pattern in site.date_scripts:
            hit = re.search(pattern, scripts)
            if hit:
                found.date = parse_date(hit.group(1))
                break
    author = _first_text(page, site.author)
    credit = credits.credit_line(author) if author else None
    if credit is not None and credit.authors:
        found.authors = credit.authors  # 澎湃新闻记者 钱小满
    elif author:
        author = re.sub(r"^(?:作者|文|撰文|编辑)\s*[:：丨|/]\s*", "", author)
        author = re.split(r"\s{2,}|\s*[|丨]\s*|(?:来源|來源|发布时间|\d{4}[-年])", author)[0].strip()
        names = re.split(r"\s*[、,，;；]\s*|\s+", author)
        found.authors = tuple(a for a in names if plausible_name(a) and not a.endswith(credits.ROLES + credits.EDITORS))
    for path in site.source:
        for element in page.xpath(path):
            text = _text(element)
            hit = _SOURCE.search(text)
            if hit:
                found.source = hit.group(1)
                break
            if 2 <= len(text) <= 20 and not re.search(r"[\d:：|丨]", text):  # the source's name alone: 西岭日报
                found.source = text
                break
        if found.source:
            break
    for pattern in () if found.source else site.source_scripts:
        hit = re.search(pattern, scripts)
        if hit:
            found.source = hit.group(1).strip()
            break
    found.publication = _first_text(page, site.publication)
    return found


def plausible_name(name: str) -> bool:
    """A person's or a desk's name: letters, not a number (an account id), a date, an address or a sentence."""
    name = name.strip()
    return (0 < len(name) <= 40 and bool(re.search(r"[^\W\d_]", name)) and not re.match(r"^https?://", name)
            and not re.search(r"[。！？!?]|\d{4}", name))


def parse_date(text: str | None) -> dt.date | None:
    """A date in text (2023-11-20, 2023/11/20, 2023年11月20日) or a Unix time (seconds, read in China's time)."""
    if not text:
        return None
    text = text.strip()
    if re.fullmatch(r"\d{10}", text):
        return dt.datetime.fromtimestamp(int(text), CHINA).date()
    hit = _DATE.search(text)
    if not hit:
        return None
    try:
        return dt.date(int(hit.group(1)), int(hit.group(2)), int(hit.group(3)))
    except ValueError:
        return None


def _first_text(page: etree._Element, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        for element in page.xpath(path):
            text = _text(element) if isinstance(element, etree._Element) else _SPACE.sub(" ", str(element)).strip()
            if text:
                return text
    return None


def _text(element: etree._Element, joiner: str = "") -> str:
    return _SPACE.sub(" ", joiner.join(element.itertext(with_tail=False)) if element is not None else "").strip()


def _clean_body(element: etree._Element, site: Site) -> etree._Element:
    """A copy of the body without the family's interface elements; lazy pictures get their address."""
    import copy

    body = copy.deepcopy(element)
    body.tail = None
    for path in _BODY_NOISE + site.drop:
        for junk in body.xpath("." + path if path.startswith("//") else path):
            remove_keep_tail(junk)
    for img in body.iter("img"):
        if not img.get("src") and img.get("data-src"):
            img.set("src", img.get("data-src"))
    for hidden in body.xpath(".//*[@style]"):  # WeChat hides the body until its script shows it
        hidden.attrib.pop("style", None)
    body.attrib.pop("style", None)
    return body
