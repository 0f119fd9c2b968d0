"""The line model of e-paper text dumps: every line gets a label, the labels follow a small grammar.

A dump is read in three steps:

1. the site generation is chosen from the first lines (:data:`SITES`, one row of hints per generation: how its
   page header, masthead, date line, page list, meta line and article openings look);
2. each line gets a label from its features (length, terminal punctuation, separators and wide gaps, whether it
   repeats a page-list entry, role words, position) under this grammar::

       header → [masthead] [date line] [page list] [navigation]
       article → [kicker] headline [subtitle] [credit…] [date line] [caption…] body [author note]
       body → (paragraph | dateline | subhead | caption | credit | blank)…
       tail → navigation… footer…

   A page with many articles (the People's Daily archive) repeats ``page header article`` for each.  A line that
   reads as a credit is never navigation nor a caption; a subtitle is held without its dash (——) and a credit
   printed at its end is taken apart; a dateline and its credit are read before runs of spaces split paragraphs;
3. the labelled lines are gathered into articles (:class:`Part`), which ``text.py`` turns into the model.

``broadsheet inspect FILE --explain`` prints each line with its label.  A new site generation is a new row in
:data:`SITES`, not new code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from . import credits

LABELS = ("page header", "page list", "navigation", "masthead", "date line", "kicker", "headline", "subtitle",
          "credit", "dateline", "subhead", "paragraph", "caption", "author note", "footer", "blank")

_GAP = f"[{credits.SPACES}]"
_SPACES = credits.SPACES
_WIDE_GAP = re.compile(rf"{_GAP}*\|{_GAP}*|{_GAP}{{2,}}")
_SENTENCE_END = "。！？!?…；;：:，,、”’\"」』）)"
_TERMINAL = re.compile(r"[。！？!?…；;]$|[。！？!?…][”’\"」』）)]$")
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_PAPER = re.compile(r"^\S{1,8}[报報]$")
_FOOTER = re.compile(r"[©@]|copyright|ICP\s*备|版权所有|版權所有", re.I)
_CAPTION = re.compile(r"^(?:[▲△▼◀▶]|(?:上|下|左|右|左上|右上|左下|右下)?[图圖](?:为|為|一|二|三|四|[:：]|\d)|照片[:：]|资料图|資料圖)")
_CAPTION_END = re.compile(r"\s(?:摄|攝|供图|供圖)$|[（(][^()（）]*(?:摄|攝|供图|供圖)[)）]$|[记記]者\S{2,4}(?:摄|攝)$")
_RUN_SPLIT = re.compile(rf"(?<=[。！？!?…”」』）)]){_GAP}{{2,}}")
_ENUMERATED = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．]|[□■◎●○△▲◆◇★☆▼])")
_INDENTED = re.compile(r"^(?: {2,}|\u3000|\u00a0{2,}|\t|[\u2002\u2003]{2,})")
_DATE_FORMS = (re.compile(r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})"),
               re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"))


@dataclass(frozen=True)
class Site:
    """Hints that tell one generation of e-paper text dumps from another: a row of :data:`SITES`."""

    name: str
    detect: str  # found in the first lines: this generation
    header: str  # the page header; groups ``page`` and ``section`` (optional)
    detect_window: int = 40  # how many of the first non-blank lines ``detect`` is looked for in
    detect_min: int = 1  # how many lines must match ``detect``
    header_window: int | None = None  # the header must be among this many first non-blank lines
    lead: str | None = None  # what every line before the header must look like (a masthead, a date)
    masthead: str | None = None  # the paper's name as a line of its own
    date_line: str | None = None  # a line that holds the date
    page_entry: str | None = None  # one entry of the list of the pages (01版:要闻)
    list_end: str | None = None  # a line that ends the page's list of titles (PDF 版)
    meta: str | None = None  # a line under the headline: site, date and source
    article: str | None = None  # the line that opens each article of a page with many; group ``section``
    column: str | None = None  # the column line under an article opening (专栏:)
    publication: str | None = None  # where the publication's name is: a pattern with group ``publication``
    title_list: bool = True  # a list of the page's titles follows the header
    kicker: bool = True  # a kicker (引题) may stand over the headline
    captions_after_meta: bool = False  # short lines between the meta line and the text are captions


_ARCHIVE_HEADER = (r"^(?=.*\d{4}\s*[年.-]\s*\d{1,2}\s*[月.-]\s*\d{1,2})(?=.*[报報]).{0,30}?"
                   r"第\s*(?P<page>[A-Za-z]?\d{1,3})\s*版\s*$")
_EPAPER_MASTHEAD = r"^\s*(?P<publication>\S{2,10}?[报報])\s*(?:电子[报版]|電子[報版])\s*$"
_EPAPER_HEADER = r"^\s*第?\s*(?P<page>[A-Za-z]?\d{1,3})\s*版\s*[:：]\s*(?P<section>\S+)\s*$"
_PAGE_ENTRY = r"^\s*第?\s*[A-Za-z]?\d{1,3}\s*版\s*[:：]\s*\S+\s*$"
_DATE_LINE = r"^\s*\S{0,10}?\d{4}\s*[.年/-]\s*\d{1,2}\s*[.月/-]\s*\d{1,2}日?\s*(?:(?:星期|周|週|礼拜|禮拜)\S)?\s*$"
_PRINT_LINE = r"^\s*《\s*\S{2,10}\s*》\s*[（(]\s*\d{4}\s*年.*版\s*[)）]\s*$"
_FOUNDER_HEADER = r"^\s*第?\s*(?P<page>[A-Za-z]?\s*\d{1,3})\s*版\s*[:：(（]?\s*(?P<section>[^\s)）]+)"
_META_LINE = r"日期\s*[:：]\s*\d{4}.*(?:来源|來源)\s*[:：]"
_SOURCE = r"(?:来源|來源)\s*[:：]\s*(?P<publication>\S{2,10}[报報])"

#: The generations of e-paper text dumps known, most specific first.
SITES: tuple[Site, ...] = (
    Site(  # the People's Daily database 1946–2003: one page, many articles
        name="peoples-daily-archive",
        detect=_ARCHIVE_HEADER, header=_ARCHIVE_HEADER, detect_window=3,
        article=r"^\s*第\s*(?P<page>[A-Za-z]?\d{1,3})\s*版\s*[（(](?P<section>[^（()）]{0,20})[)）]\s*$",
        column=r"^\s*专栏\s*[:：]|^\s*專欄\s*[:：]",
        publication=r"\d\s*日\s*(?P<publication>[^\s\d]{2,10}?[报報])|^\s*(?P<publication2>[^\s\d]{2,10}?[报報])\s*\d{4}",
        title_list=False,
    ),
    Site(  # the same database, a page saved without its first line: 第1版(要闻) / 专栏:
        name="peoples-daily-archive-bare",
        detect=r"^\s*专栏\s*[:：]|^\s*專欄\s*[:：]", header=_ARCHIVE_HEADER, detect_window=3,
        article=r"^\s*第\s*(?P<page>[A-Za-z]?\d{1,3})\s*版\s*[（(](?P<section>[^（()）]{0,20})[)）]\s*$",
        column=r"^\s*专栏\s*[:：]|^\s*專欄\s*[:：]",
        title_list=False,
    ),
    Site(  # People's Daily e-paper dumps: masthead, date line, the pages, then one article
        name="peoples-daily-epaper",
        detect=_EPAPER_MASTHEAD, header=_EPAPER_HEADER, masthead=_EPAPER_MASTHEAD, date_line=_DATE_LINE,
        page_entry=_PAGE_ENTRY, meta=_PRINT_LINE, publication=_EPAPER_MASTHEAD, title_list=False,
    ),
    Site(  # the same without its masthead: known by the list of the pages (01版:要闻 02版:要闻 …)
        name="epaper-page-list",
        detect=_PAGE_ENTRY, detect_min=3, header=_EPAPER_HEADER, masthead=r"^\s*(?P<publication>\S{2,8}[报報])\s*$",
        date_line=_DATE_LINE, page_entry=_PAGE_ENTRY, meta=_PRINT_LINE,
        publication=r"^\s*(?P<publication>\S{2,8}[报報])\s*$|^\s*(?P<publication2>\S{2,8}?[报報])\s*\d{4}",
        title_list=False,
    ),
    Site(  # zynews 2005–2009: list of titles, PDF 版, navigation; headline, meta line, captions, text
        name="zynews-2005",
        detect=r"^\s*PDF\s*版\s*$", header=_FOUNDER_HEADER, header_window=3,
        list_end=r"^\s*PDF\s*版\s*$", meta=_META_LINE, publication=_SOURCE, captions_after_meta=True, kicker=False,
    ),
    Site(  # Founder article pages as "save as text" leaves them (the seed's generation, 2009 on); a masthead
        # and a date line may stand over the header
        name="founder-text",
        detect=_FOUNDER_HEADER, header=_FOUNDER_HEADER, detect_window=6, lead=r"^[^。，！？；,!?;]{1,30}$",
        masthead=r"^\s*(?P<publication>\S{2,8}[报報])\s*$", date_line=_DATE_LINE, meta=_META_LINE,
        publication=_SOURCE,
    ),
)

#: A plain text file: its first line is the title.
PLAIN = Site(name="plain", detect=r"(?!)", header=r"(?!)", title_list=False)


@dataclass
class Line:
    index: int
    text: str
    label: str | None = None  # one of LABELS once decoded

    @property
    def stripped(self) -> str:
        return self.text.strip(_SPACES)


@dataclass
class Part:
    """One article as the dump gives it."""

    section: str | None = None
    page: str | None = None
    kicker: str | None = None
    title: str = ""
    subtitle: str | None = None
    credit: credits.Credit = field(default_factory=credits.Credit)
    author_note: str | None = None
    blocks: list[tuple[str, str]] = field(default_factory=list)  # ("paragraph" | "subhead", text)
    order: int = 0


@dataclass
class Decoded:
    site: Site
    lines: list[Line]
    publication: str | None = None
    date: dt.date | None = None
    parts: list[Part] = field(default_factory=list)
    cut_short: bool = False  # no article navigation or footer at the end

    @property
    def ends_mid_sentence(self) -> bool:
        """Cut short inside the last article's last sentence: no navigation or footer after it, and its
        text stops without a sentence's end (a dump saved or copied before the page had loaded)."""
        if not self.cut_short or not self.parts or not self.parts[-1].blocks:
            return False
        last = self.parts[-1].blocks[-1][1].rstrip()
        return bool(last) and last[-1] not in SENTENCE_ENDS


#: What a complete paragraph ends with: a sentence's end, a closing quote or bracket (a credit or note).
SENTENCE_ENDS = frozenset("。！？!?.…；;”’」』）)】》\"'")


def choose(lines: list[str]) -> Site | None:
    """The site generation of a dump from its first lines; None when it has no page header."""
    head = [l for l in lines[:80] if l.strip()]
    for site in SITES:
        hits = [n for n, l in enumerate(head[:site.detect_window]) if re.search(site.detect, l)]
        if len(hits) < site.detect_min:
            continue
        if site.header_window and not any(re.match(site.header, l) for l in head[:site.header_window]):
            continue
        if site.lead and not all(re.match(site.lead, l.strip()) for l in head[:hits[0]]):
            continue
        return site
    return None


def find_date(text: str) -> dt.date | None:
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
    return None


def join(parts: list[str]) -> str:
    """Join wrapped lines: no space between CJK characters, one space otherwise."""
    out = ""
    for part in parts:
        if out and part and not (_CJK_CHAR.match(out[-1]) or _CJK_CHAR.match(part[0])):
            out += " "
        out += part
    return out


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- line features


def is_chrome(line: str) -> bool:
    """A navigation line: several short items split by | or wide gaps, no sentence, and no credit (本报记者  张 贺,
    （本报记者　　赵六）)."""
    parts = [p for p in _WIDE_GAP.split(line.strip()) if p]
    if len(parts) < 2:
        return False
    if any(ch in line for ch in "。，！？"):
        return False
    return (all(len(p) <= 10 for p in parts) and credits.credit_line(line) is None
            and credits.closing(line) is None and credits.author_note(line) is None)


def is_stray(line: str) -> bool:
    """A lone navigation item left before the article navigation (``3上一篇``)."""
    stripped = line.strip(_SPACES)
    if re.search(r"[。！？!?，,；;]", stripped) or credits.author_note(stripped) or credits.credit_line(stripped):
        return False
    items = stripped.split()
    return len(stripped) <= 8 and not re.search(r"[）)]", stripped) or (
        len(items) <= 4 and all(len(i) <= 8 and re.fullmatch(r"[【\[（(<《]?[^\s]{1,6}[】\]）)>》]?", i) for i in items)
        and all(re.match(r"[【\[（(<《]", i) for i in items))


def is_widget(line: str) -> bool:
    """A page widget rather than a heading: a telephone number, an address, a ``label: value`` pair."""
    stripped = line.strip(_SPACES)
    return bool(re.search(r"\d[\d -]{5,}\d|https?://|www\.|\.com|\.cn\b", stripped)
                or re.match(r"^[^\s:：，。]{1,6}[:：]\s*\S", stripped)) and not _TERMINAL.search(stripped)


def is_footer(line: str) -> bool:
    return bool(_FOOTER.search(line)) and len(line.strip()) < 80


def is_caption(line: str) -> bool:
    """A picture's caption; a line that is wholly a credit (本报记者 郭强 摄) is a credit, not a caption."""
    stripped = line.strip(_SPACES)
    if credits.credit_line(stripped) is not None:
        return False
    return len(stripped) <= 120 and bool(_CAPTION.match(stripped) or (_CAPTION_END.search(stripped)
                                                                       and len(stripped) > 6))


def is_unterminated(text: str) -> bool:
    return not _TERMINAL.search(text) and text[-1] not in _SENTENCE_END


def is_dashed(line: str) -> bool:
    """A line opened by the typographic dash of a subtitle (——, ――, －－, --)."""
    return bool(re.match(credits.SUBTITLE_DASH, line)) and bool(re.sub(credits.SUBTITLE_DASH, "", line))


def is_heading_like(line: str) -> bool:
    """Short, no sentence inside: a title line rather than a paragraph."""
    stripped = line.strip(_SPACES)
    return 0 < len(stripped) <= 40 and not _TERMINAL.search(stripped) and not re.search(r"[。；;]", stripped[:-1])


# ---------------------------------------------------------------- decoding


def decode(raw_lines: list[str]) -> Decoded:
    lines = [Line(i, t) for i, t in enumerate(raw_lines)]
    site = choose(raw_lines)
    decoded = Decoded(site=site or PLAIN, lines=lines)
    if site is None:
        _plain(decoded)
    elif site.article:
        _many(decoded)
    else:
        _one(decoded)
    for line in lines:
        if not line.stripped:
            line.label = "blank"
        elif line.label is None:
            line.label = "navigation"  # a line no article took
    return decoded


def _label(lines: list[Line], label: str) -> None:
    for line in lines:
        line.label = label if line.stripped else "blank"


def _publication(decoded: Decoded, lines: list[Line]) -> str | None:
    site = decoded.site
    if site.publication:
        for line in lines:
            match = re.search(site.publication, line.text)
            if match:
                value = next(v for k, v in match.groupdict().items() if k.startswith("publication") and v)
                return value
    return None


def _plain(decoded: Decoded) -> None:
    lines = decoded.lines
    first = next((l for l in lines if l.stripped), None)
    if first is None:
        return
    first.label = "headline"
    part = Part(title=first.stripped, order=10**9)
    _body(decoded, part, lines[first.index + 1:])
    decoded.parts.append(part)
    decoded.cut_short = False


def _one(decoded: Decoded) -> None:
    """A dump of one article page: header, lists and navigation, the article, navigation and footer."""
    site, lines = decoded.site, decoded.lines
    header_at = None
    entries: list[str] = []
    i = 0
    # Before the header: masthead, date line, the page list, navigation.
    while i < min(len(lines), 80):
        line = lines[i]
        text = line.text
        if not line.stripped:
            i += 1
            continue
        if site.masthead and re.match(site.masthead, text):
            line.label = "masthead"
        elif site.date_line and re.match(site.date_line, text):
            line.label = "date line"
        elif site.page_entry and re.match(site.page_entry, text) and squash(text) not in entries:
            line.label = "page list"
            entries.append(squash(text))
        elif re.match(site.header, text):
            header_at = i
            break
        else:
            line.label = "navigation"
        i += 1
    listed_pages = [l for l in lines[:i] if l.label == "page list"]
    if header_at is None and listed_pages:  # the current page's header is not repeated: the list ends there
        header_at = listed_pages[-1].index
        page = section = None
        i = header_at + 1
        chrome_header = False
    elif header_at is None:
        _label(lines, "navigation")
        return
    else:
        chrome_header = True
    header_line = lines[header_at]
    if chrome_header:
        header_line.label = "page header"
        header = re.match(site.header, header_line.text)
        page = re.sub(r"\s+", "", header.group("page")).upper()
        section = header.groupdict().get("section")
    i = header_at + 1

    # The page's list of titles: lines up to the first blank, navigation line or list end.
    listing: list[Line] = []
    while (i < len(lines) and lines[i].stripped and not is_chrome(lines[i].text)
           and not (site.list_end and re.match(site.list_end, lines[i].text))):
        listing.append(lines[i])
        i += 1
    listed = {squash(l.text) for l in listing if is_heading_like(l.text)}
    later = [l for l in lines[i:i + 60] if l.stripped and squash(l.text) in listed]
    if not site.title_list:
        if len(listing) < 2 or len(listed) < len(listing) or not later:
            listing, i = [], header_at + 1  # no list: the headline follows the header
    elif listing and not later:
        # A list is followed by navigation; lines followed only by blank lines and text are the article itself.
        after = next((l for l in lines[i:] if l.stripped), None)
        if after is None or not (is_chrome(after.text) or (site.list_end and re.match(site.list_end, after.text))):
            listing, i = [], header_at + 1
    for line in listing:
        line.label = "page list"
    # Navigation: blank and chrome lines, the list end.
    chrome: list[Line] = [header_line] + [l for l in lines[:header_at] if l.stripped]
    while i < len(lines) and (not lines[i].stripped or is_chrome(lines[i].text)
                              or (site.list_end and re.match(site.list_end, lines[i].text))):
        lines[i].label = "navigation" if lines[i].stripped else "blank"
        if lines[i].stripped:
            chrome.append(lines[i])
        i += 1

    candidates: dict[str, int] = {}
    titles = [l.stripped for l in listing]
    for n in range(len(titles)):
        for k in range(1, 4):
            if n + k <= len(titles):
                candidates.setdefault(squash("".join(titles[n:n + k])), n)

    part = Part(section=section, page=page, order=len(titles))
    # The headline: the earliest run of 1–3 lines that repeats a page-list entry; else the first line that
    # repeats an earlier title-like line after the header (a list placed elsewhere); else the first line.
    headline_at, headline_len = _repeat(lines, i, 40, candidates)
    if headline_at is not None:
        part.order = candidates[squash("".join(l.text for l in lines[headline_at:headline_at + headline_len]))]
    else:
        headline_at, headline_len, earlier = _repeat_of_earlier(lines, header_at + 1, site)
        if headline_at is not None:
            first = earlier[squash(lines[headline_at].text)]
            part.order = sorted(earlier.values()).index(first)
            for line in lines[header_at + 1:headline_at]:
                if line.stripped and line.label is None:
                    line.label = "page list" if squash(line.text) in earlier else "navigation"
                    if line.label == "navigation":
                        chrome.append(line)
    by_form = headline_at is None and not listing
    if headline_at is None:
        headline_at = next((l.index for l in lines[i:] if l.stripped), len(lines))
        headline_len = 1
    start = i if by_form else headline_at

    # The end of the article: the first navigation or footer line after some text.
    body = lines[start:]
    end = len(body)
    seen_text = False
    for j, line in enumerate(body):
        if not line.stripped:
            continue
        if site.meta and re.search(site.meta, line.text):
            continue
        if seen_text and (is_chrome(line.text) or is_footer(line.text)):
            end = j
            break
        seen_text = True
    article, tail = body[:end], body[end:]
    if tail:  # the body ended at navigation: short unpunctuated leftovers before it are navigation too
        while article and (not article[-1].stripped or is_stray(article[-1].text)):
            tail.insert(0, article.pop())
    footer = False
    for line in tail:
        footer = footer or is_footer(line.text)
        line.label = ("footer" if footer else "navigation") if line.stripped else "blank"
    chrome.extend(l for l in tail if l.stripped)
    decoded.cut_short = not tail

    if by_form:
        _headings_by_form(decoded, part, article)
    else:
        head = lines[headline_at:headline_at + headline_len]
        _label(head, "headline")
        part.title = join([l.stripped for l in head])
        # The kicker: one or two title-like lines right above the headline, apart from the lists and navigation.
        above = []
        for line in reversed(lines[i:headline_at]):
            if not line.stripped or is_chrome(line.text) or is_widget(line.text) or line.label == "page list":
                break
            above.insert(0, line)
        kicker = above if site.kicker and len(above) <= 2 and all(is_heading_like(l.text) for l in above) else []
        for line in lines[i:headline_at]:
            if line.label is None:
                line.label = "kicker" if line in kicker else ("navigation" if line.stripped else "blank")
        part.kicker = join([l.stripped for l in kicker]) or None
        _body(decoded, part, article[headline_len:], known=set(candidates) | {squash(part.title)})
    decoded.parts.append(part)
    decoded.publication = (_publication(decoded, lines[:header_at + 1] + article[:8])
                           or next((tok for line in chrome for tok in _WIDE_GAP.split(line.stripped)
                                    if _PAPER.match(tok)), None))
    dated = [l.text for l in lines if l.label in ("date line", "masthead", "page header")]
    decoded.date = find_date(" ".join(dated)) or find_date(" ".join(l.text for l in chrome))


def _repeat(lines: list[Line], start: int, window: int, candidates: dict[str, int]) -> tuple[int | None, int]:
    """The first run of 1–3 non-blank lines from ``start`` whose joined text is a candidate (a page-list entry)."""
    for j in range(start, min(len(lines), start + window)):
        for k in (3, 2, 1):
            run = lines[j:j + k]
            joined = squash("".join(l.text for l in run))
            if joined and len(run) == k and all(l.stripped for l in run) and joined in candidates:
                return j, k
    return None, 0


def _repeat_of_earlier(lines: list[Line], start: int, site: Site) -> tuple[int | None, int, dict[str, int]]:
    """The first title-like line after ``start`` that repeats an earlier one (a list, then the headline)."""
    earlier: dict[str, int] = {}
    for j in range(start, min(len(lines), start + 80)):
        line = lines[j]
        if (not line.stripped or is_chrome(line.text) or not is_heading_like(line.text)
                or (site.list_end and re.match(site.list_end, line.text))):
            continue
        key = squash(line.text)
        if key in earlier:
            length = 1
            while (j + length < len(lines) and lines[j + length].stripped and length < 3
                   and squash(lines[j + length].text) in earlier):
                length += 1
            return j, length, earlier
        earlier[key] = j
    return None, 0, {}


def _headings_by_form(decoded: Decoded, part: Part, article: list[Line]) -> None:
    """Headings where no page list names the headline: 1–4 short lines, their roles from form and order."""
    site_meta = decoded.site.meta
    j = 0
    while j < len(article) and not article[j].stripped:
        j += 1
    heads: list[Line] = []
    while j < len(article) and len(heads) < 4:
        line = article[j]
        if not line.stripped:
            if heads:
                break
            j += 1
            continue
        following = next((l.stripped for l in article[j + 1:] if l.stripped), "")
        if (credits.credit_line(line.stripped, alone=bool(heads) and credits.is_text(following))
                or credits.opening(line.stripped)  # a dateline alone on its line (本报讯) opens the text
                or not is_heading_like(line.text) or (site_meta and re.search(site_meta, line.text))
                or (heads and _INDENTED.match(line.text) and not _INDENTED.match(heads[0].text))):
            break
        heads.append(line)
        j += 1
    if not heads:
        first = next((l for l in article if l.stripped), None)
        if first is None:
            return
        heads = [first]
        j = first.index - article[0].index + 1
    _assign_headings(part, heads)
    _body(decoded, part, article[j:], known={squash(part.title)})


def _assign_headings(part: Part, heads: list[Line]) -> None:
    subtitles = [l for l in heads if is_dashed(l.stripped)]
    others = [l for l in heads if l not in subtitles]
    if not others:
        others, subtitles = subtitles[:1], subtitles[1:]
    roles: list[tuple[Line, str]] = []
    if len(others) == 1:
        roles = [(others[0], "headline")]
    elif len(others) == 2 and subtitles:
        roles = [(others[0], "kicker"), (others[1], "headline")]
    elif len(others) == 2:
        first, second = others
        # A bracketed second line, or a longer one that explains the first, is a subtitle; a first line that
        # ends in a colon, or anything else, is the kicker over the headline.
        bracketed = re.match(r"^[（(【].*[）)】]$", second.stripped)
        explains = len(second.stripped) > 1.5 * len(first.stripped) and len(second.stripped) > 12
        if not first.stripped.endswith((":", "：")) and (bracketed or explains):
            roles = [(first, "headline"), (second, "subtitle")]
        else:
            roles = [(first, "kicker"), (second, "headline")]
    else:
        roles = [(others[0], "kicker"), (others[1], "headline")] + [(l, "subtitle") for l in others[2:]]
    roles += [(l, "subtitle") for l in subtitles]
    for line, role in roles:
        line.label = role
    part.kicker = join([l.stripped for l, r in roles if r == "kicker"]) or None
    part.title = join([l.stripped for l, r in roles if r == "headline"])
    read = [credits.subtitle(l.stripped) for l, r in roles if r == "subtitle"]
    part.subtitle = join([text for text, _ in read if text]) or None
    part.credit = credits.combine(*(credit for _, credit in read))  # a byline printed at the end of a subtitle


def _many(decoded: Decoded) -> None:
    """A page with many articles: a page header, then for each article its opening line, column, headings, text."""
    site, lines = decoded.site, decoded.lines
    first = next((l for l in lines if l.stripped), None)
    header = re.match(site.header, first.text)
    page = None
    if header:  # 1951年9月15日人民日报 第1版: the page, its date and paper
        first.label = "page header"
        page = re.sub(r"\s+", "", header.group("page")).upper()
        decoded.publication = _publication(decoded, [first])
        decoded.date = find_date(first.text)
    starts = [l.index for l in lines if re.match(site.article, l.text)]
    for line in lines[(first.index + 1 if header else 0):(starts[0] if starts else len(lines))]:
        line.label = "navigation" if line.stripped else "blank"
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = lines[start:stop]
        opening = re.match(site.article, block[0].text)
        block[0].label = "page header"
        j = 1
        while j < len(block) and (not block[j].stripped or (site.column and re.match(site.column, block[j].text))):
            block[j].label = "navigation" if block[j].stripped else "blank"
            j += 1
        part = Part(section=opening.group("section").strip() or None, order=n,
                    page=re.sub(r"\s+", "", opening.group("page")) or page)
        _headings_by_form(decoded, part, block[j:])
        if part.title:
            decoded.parts.append(part)
    decoded.cut_short = False


def _split_runs(text: str) -> list[str]:
    """Paragraphs run together on one line, split by runs of spaces after a sentence's end."""
    pieces = [p for p in re.split(rf"{_GAP}{{2,}}", text) if p.strip(_SPACES)]
    if len(pieces) > 1 and (_RUN_SPLIT.search(text) or all(len(p) > 15 for p in pieces)):
        return pieces  # runs after sentences show the form: every run (after a subhead too) ends a paragraph
    return [text]


def _blank_separated(body: list[Line]) -> bool:
    """True when paragraphs are separated by blank lines (then wrapped lines are joined)."""
    text_lines = [l for l in body if l.stripped]
    blanks = sum(1 for a, b in zip(body, body[1:]) if a.stripped and not b.stripped)
    return blanks >= max(1, len(text_lines) // 4)


def _body(decoded: Decoded, part: Part, body: list[Line], *, known: set[str] = frozenset()) -> None:
    """Subtitle, credits, meta line and captions under the headline; then the text, its credits and notes."""
    site = decoded.site
    lines = list(body)
    found: list[credits.Credit] = [part.credit] if part.credit else []  # a credit on a subtitle line
    taken = 0
    while taken < 6:
        line = next((l for l in lines if l.stripped), None)
        if line is None:
            break
        following = next((l.stripped for l in lines[lines.index(line) + 1:] if l.stripped), "")
        credit = credits.credit_line(line.stripped, alone=not found and credits.is_text(following))
        if credit:
            found.append(credit)
            line.label = "credit"
        elif part.subtitle is None and taken == 0 and is_dashed(line.stripped) and len(line.stripped) <= 80:
            part.subtitle, credit = credits.subtitle(line.stripped)
            if credit is not None:
                found.append(credit)  # ——记优秀教师张敏 本报记者 王小明: the byline on the subtitle line
            line.label = "subtitle"
        elif site.meta and re.search(site.meta, line.text):
            line.label = "date line"
        elif (site.captions_after_meta and any(l.label == "date line" for l in body)
              and (squash(line.text) in known or (len(line.stripped) <= 40 and is_unterminated(line.stripped))
                   or is_caption(line.text))):
            line.label = "caption"
        else:
            break
        lines = [l for l in lines if l is not line and (l.stripped or l.index > line.index)]
        taken += 1
    # Paragraphs: blank-separated blocks of wrapped lines, or one line each.
    while lines and not lines[0].stripped:
        lines.pop(0)
    while lines and not lines[-1].stripped:
        lines.pop().label = "blank"
    separated = _blank_separated(lines) and sum(1 for l in lines if l.stripped) > 1
    groups: list[list[Line]] = [[]]
    for line in lines:
        if not line.stripped:
            line.label = "blank"
            if groups[-1]:
                groups.append([])
        elif separated:
            groups[-1].append(line)
        else:
            groups.append([line])
    groups = [g for g in groups if g]
    if not separated:  # paragraphs opened by an indent: unindented lines continue the one before
        indented = [bool(_INDENTED.match(g[0].text)) for g in groups]
        if sum(indented) >= len(groups) / 2 and not all(indented):
            merged: list[list[Line]] = []
            for group, indent in zip(groups, indented):
                if merged and not indent and not _TERMINAL.search(merged[-1][-1].stripped):
                    merged[-1].extend(group)  # a paragraph wrapped before its sentence ended
                else:
                    merged.append(group)
            groups = merged
    # Captions: picture captions are not text.
    kept = []
    for group in groups:
        if len(group) == 1 and is_caption(group[0].text):
            group[0].label = "caption"
        else:
            kept.append(group)
    groups = kept
    # Credits and notes at the end: (作者为…), （本报记者 王小明）, 文/图 记者 王小明.
    author_note = None
    trailing: list[credits.Credit] = []
    for _ in range(4):
        if not groups:
            break
        last = groups[-1]
        text = join([l.stripped for l in last])
        if site.meta and re.search(site.meta, text):
            _label(last, "date line")  # 《人民日报》（2025年12月24日 第02版）: where the article was printed
            groups.pop()
            continue
        note = credits.author_note(text)
        if note and author_note is None:
            author_note = note
            _label(last, "author note")
            groups.pop()
            continue
        closing = credits.closing(text)
        if closing and not closing[1]:
            trailing.insert(0, closing[0])
            _label(last, "credit")
            groups.pop()
            continue
        alone = credits.credit_line(text) if len(last) == 1 and len(groups) > 1 else None
        if alone and ((alone.authors and not found) or alone.editor):
            trailing.insert(0, alone)
            _label(last, "credit")
            groups.pop()
            continue
        break
    inside: list[credits.Credit] = []
    kept = []
    for group in groups:
        credit = credits.credit_line(join([l.stripped for l in group])) if len(group) == 1 else None
        if credit and (credit.authors or credit.editor):
            inside.append(credit)
            _label(group, "credit")
        else:
            kept.append(group)
    groups = kept
    # A dateline opening the text, with its credit, is read before runs of spaces split paragraphs: the spaces
    # after 新华社北京7月1日电 or between 本报讯 and 记者 王小明 set off the credit, they end no paragraph.
    opened: tuple[credits.Credit, str] | None = None
    if groups:
        opened = credits.opening(join([l.stripped for l in groups[0]]))
        if opened:
            _label(groups[0], "dateline")
            if not opened[1] and not opened[0].byline and len(groups) > 1:
                # the dateline alone on its line, its credit opening the next: 本报讯 / （记者 张华）7月5日…
                further = credits.opening(f"{opened[0].dateline} {join([l.stripped for l in groups[1]])}")
                if further and further[0].byline:
                    groups.pop(0)
                    _label(groups[0], "dateline")
                    opened = further
    texts: list[tuple[list[Line], str]] = []
    for n, group in enumerate(groups):
        text = opened[1] if n == 0 and opened else join([l.stripped for l in group])
        pieces = _split_runs(text) if text else []
        texts.extend((group, p) for p in pieces)
    # The same at the end of a line of run-together paragraphs, and a credit closing the last sentence.
    for _ in range(3):
        if not texts:
            break
        group, text = texts[-1]
        alone = not any(g is group for g, _ in texts[:-1])
        note = credits.author_note(text)
        closing = None if note else credits.closing(text)
        if note and author_note is None:
            author_note = note
        elif closing:
            trailing.insert(0, closing[0])
        else:
            break
        if closing and closing[1]:
            texts[-1] = (group, closing[1])
            break
        texts.pop()
        if alone:
            _label(group, "author note" if note else "credit")
    if opened:
        found.append(opened[0])
    part.credit = credits.combine(*found, *inside, *trailing)
    part.author_note = author_note
    # Subheads: short unpunctuated lines between paragraphs; one wrapped over two lines is one subhead.
    blocks: list[tuple[str, str]] = []
    count = len(texts)
    index = 0
    while index < count:
        group, text = texts[index]
        is_subhead = 0 < index < count - 1 and len(text) <= 30 and is_unterminated(text)
        if is_subhead:
            following = texts[index + 1][1] if index + 2 < count else ""
            if (following and len(text) + len(following) <= 40 and is_unterminated(following)
                    and not _ENUMERATED.match(following) and texts[index + 1][0] is not group):
                # two subhead lines in a row: one subhead wrapped (a subhead is followed by text)
                _label(texts[index + 1][0], "subhead")
                text = join([text, texts[index + 1][1]])
                index += 1
            blocks.append(("subhead", text))
            for line in group:
                line.label = "subhead" if line.label not in ("dateline",) else line.label
        else:
            blocks.append(("paragraph", text))
            for line in group:
                if line.label not in ("dateline", "credit", "author note", "caption"):
                    line.label = "paragraph"
        index += 1
    part.blocks = blocks
