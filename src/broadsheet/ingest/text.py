"""E-paper text dumps: what "save as text" leaves of a newspaper's article page.

A dump has this shape (the structure, not a list of known strings, finds each part)::

    第15版:理论 上一版3  4下一版      page header: page label and name, page-turn links
    <one line per title on the page>   the page list (a title may wrap over lines)
    返回主页 | 郑州日报 | 版面导航     site navigation (short items split by | or wide gaps)
    上一期  下一期                      issue navigation
    <kicker>                            引题 (optional: a line before the headline)
    <headline>                          the page-list entry repeated (may wrap)
    <subtitle / byline>                 副题 starting with ——, bylines in their many forms
    <paragraphs>                        blank-line separated; short unpunctuated ones are subheads
    (作者为…)                           the author note
    3上一篇  下一篇4                    article navigation: the body ends here
    版权声明 @ 中原网 …                 footer

Dumps are often cut short (no footer, a last sentence cut, even inside a UTF-8 sequence):
whatever is there is kept.  A plain text file without a page header becomes one article
whose first line is its title.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Article, Heading, Paragraph
from . import credits
from .base import Context, Draft, DraftSection, find_date, guess_language, log
from .encoding import decode, read_text
from .html import clean_text, inline_from_text

KIND = "text"
SUFFIXES = {".txt", ".text"}

HEADER = re.compile(r"^\s*第?\s*([A-Za-z]?\s*\d{1,3})\s*版\s*[:：(（]?\s*([^\s)）]+)")
_SENTENCE_END = "。！？!?…；;：:，,、”’\"」』）)"
_TERMINAL = re.compile(r"[。！？!?…；;]$|[。！？!?…][”’\"」』）)]$")
_GAP = "[ \t\u00a0\u3000]"
_WIDE_GAP = re.compile(rf"{_GAP}*\|{_GAP}*|{_GAP}{{2,}}")
_PAPER = re.compile(r"^\S{1,8}[报報]$")
_CJK_CHAR = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def detect(path: Path, head: bytes) -> int:
    if head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")):
        return 0
    try:
        text = decode(head, path, report=False)
    except Exception:  # noqa: BLE001 - undecodable head: not text
        return 0
    lines = [l for l in text.splitlines() if l.strip()][:12]
    if any(HEADER.match(l) for l in lines[:3]):
        return 95
    return 40 if path.suffix.lower() in SUFFIXES else 0


def load(path: Path, ctx: Context) -> list[Draft]:
    text = clean_text(read_text(path)).replace("\r\n", "\n").replace("\r", "\n")
    lines = [l.rstrip() for l in text.split("\n")]
    start = next((i for i, l in enumerate(lines[:40]) if l.strip() and HEADER.match(l)), None)
    if start is None:
        return [_plain(path, lines, ctx)]
    return [_dump(path, lines, start, ctx)]


def _is_chrome(line: str) -> bool:
    """A navigation line: several short items split by | or wide gaps, no sentence."""
    parts = [p for p in _WIDE_GAP.split(line.strip()) if p]
    if len(parts) < 2:
        return False
    if any(ch in line for ch in "。，！？"):
        return False
    return all(len(p) <= 10 for p in parts)


def _is_stray(line: str) -> bool:
    """A lone navigation item left before the article navigation (``3上一篇``)."""
    stripped = line.strip(" \t\u00a0\u3000")
    return len(stripped) <= 8 and not re.search(r"[。！？!?，,；;）)]", stripped) and not credits.author_note(stripped)


def _is_footer(line: str) -> bool:
    return bool(re.search(r"[©@]|copyright|ICP\s*备", line, re.I)) and len(line.strip()) < 80


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _dump(path: Path, lines: list[str], start: int, ctx: Context) -> Draft:
    header = HEADER.match(lines[start])
    page = re.sub(r"\s+", "", header.group(1)).upper()
    section = header.group(2)

    # The page list: title lines after the header, up to the first blank or navigation line.
    i = start + 1
    listing: list[str] = []
    while i < len(lines) and lines[i].strip() and not _is_chrome(lines[i]):
        listing.append(lines[i].strip())
        i += 1
    # Navigation: blank and chrome lines.
    chrome: list[str] = [lines[start]]
    while i < len(lines) and (not lines[i].strip() or _is_chrome(lines[i])):
        if lines[i].strip():
            chrome.append(lines[i])
        i += 1

    candidates: dict[str, int] = {}
    for a in range(len(listing)):
        for k in range(1, 4):
            if a + k <= len(listing):
                candidates.setdefault(_squash("".join(listing[a:a + k])), a)

    # The headline: the earliest run of 1–3 lines that repeats a page-list entry.
    body_lines = lines[i:]
    headline_at, headline_len, order = None, 0, len(listing)
    for j in range(min(len(body_lines), 12)):
        for k in (3, 2, 1):
            joined = _squash("".join(body_lines[j:j + k]))
            if joined and all(body_lines[j:j + k]) and joined in candidates:
                headline_at, headline_len, order = j, k, candidates[joined]
                break
        if headline_at is not None:
            break
    if headline_at is None:
        headline_at = next((j for j, l in enumerate(body_lines) if l.strip()), 0)
        headline_len = 1
    title = _join([l.strip() for l in body_lines[headline_at:headline_at + headline_len]])
    kicker_lines = [l.strip() for l in body_lines[:headline_at] if l.strip() and not _is_chrome(l)]
    kicker = _join(kicker_lines) if kicker_lines else None

    rest = body_lines[headline_at + headline_len:]
    end = len(rest)
    seen_text = False
    for j, line in enumerate(rest):
        if not line.strip():
            continue
        if seen_text and (_is_chrome(line) or _is_footer(line)):
            end = j
            break
        seen_text = True
    body, tail = rest[:end], rest[end:]
    if tail:  # the body ended at navigation: short unpunctuated leftovers before it are navigation too
        while body and (not body[-1].strip() or _is_stray(body[-1])):
            tail.insert(0, body.pop())
    chrome.extend(l for l in tail if l.strip())
    if not tail:
        log.info("%s: no article navigation or footer: the dump may be cut short", path)

    subtitle, credit, paragraphs = _front(body)
    article = _article(path, title, kicker, subtitle, credit, paragraphs, ctx)
    publication = next((tok for line in chrome for tok in _WIDE_GAP.split(line.strip()) if _PAPER.match(tok)), None)
    return Draft(
        source=path, kind=KIND, publication=publication, language=article.lang,
        date=find_date(" ".join(chrome)),
        sections=[DraftSection(name=section, page=page, articles=[article])],
        order=(order, path.name),
    )


def _plain(path: Path, lines: list[str], ctx: Context) -> Draft:
    first = next((j for j, l in enumerate(lines) if l.strip()), None)
    if first is None:
        from ..errors import IngestError

        raise IngestError("empty text file", path)
    title = lines[first].strip()
    subtitle, credit, paragraphs = _front(lines[first + 1:])
    article = _article(path, title, None, subtitle, credit, paragraphs, ctx)
    return Draft(source=path, kind=KIND, language=article.lang, sections=[DraftSection(name=None, articles=[article])],
                 order=(10**9, path.name))


def _front(body: list[str]) -> tuple[str | None, credits.Credit, list[str]]:
    """Take the subtitle and byline lines that follow the headline; return them and the paragraphs."""
    subtitle = None
    found: list[credits.Credit] = []
    lines = list(body)
    taken = 0
    while taken < 3:
        index = next((j for j, l in enumerate(lines) if l.strip()), None)
        if index is None:
            break
        line = lines[index].strip(" \t\u00a0\u3000")
        following = next((l for l in lines[index + 1:] if l.strip()), "")
        credit = credits.credit_line(line, alone=not found and len(following.strip()) > 30)
        if credit:
            found.append(credit)
        elif subtitle is None and taken == 0 and line.startswith(("—", "－", "--")) and len(line) <= 80:
            subtitle = line
        else:
            break
        del lines[index]
        taken += 1
    return subtitle, credits.combine(*found), _paragraphs(lines)


def _paragraphs(body: list[str]) -> list[str]:
    blocks: list[list[str]] = [[]]
    has_blank = any(not l.strip() for l in body if True) and sum(1 for l in body if l.strip()) > 1
    for line in body:
        stripped = line.strip(" \t\u00a0\u3000")
        if not stripped:
            if blocks[-1]:
                blocks.append([])
            continue
        if has_blank and _blank_separated(body):
            blocks[-1].append(stripped)
        else:
            blocks.append([stripped])
    paragraphs = [_join(b) for b in blocks if b]
    split: list[str] = []
    for paragraph in paragraphs:
        # People's Daily dumps run paragraphs together on one line, split by wide gaps.
        pieces = [p for p in re.split(rf"{_GAP}{{2,}}", paragraph) if p]
        if len(pieces) > 1 and all(len(p) > 15 for p in pieces):
            split.extend(pieces)
        else:
            split.append(paragraph)
    return split


def _blank_separated(body: list[str]) -> bool:
    """True when paragraphs are separated by blank lines (then wrapped lines are joined)."""
    text_lines = [l for l in body if l.strip()]
    blanks = sum(1 for a, b in zip(body, body[1:]) if a.strip() and not b.strip())
    return blanks >= max(1, len(text_lines) // 4)


def _join(parts: list[str]) -> str:
    """Join wrapped lines: no space between CJK characters, one space otherwise."""
    out = ""
    for part in parts:
        if out and not (_CJK_CHAR.match(out[-1]) or _CJK_CHAR.match(part[0])):
            out += " "
        out += part
    return out


def _article(path: Path, title: str, kicker: str | None, subtitle: str | None, credit: credits.Credit,
             paragraphs: list[str], ctx: Context) -> Article:
    found = [credit]
    if paragraphs:
        opening = credits.opening(paragraphs[0])
        if opening:
            found.append(opening[0])
            paragraphs[0] = opening[1]
    author_note = credits.author_note(paragraphs[-1]) if paragraphs else None
    if author_note:
        paragraphs = paragraphs[:-1]
    closing = credits.closing(paragraphs[-1]) if paragraphs else None
    if closing:
        found.append(closing[0])
        paragraphs = paragraphs[:-1] + ([closing[1]] if closing[1] else [])
    if not author_note and paragraphs:
        author_note = credits.author_note(paragraphs[-1])
        if author_note:
            paragraphs = paragraphs[:-1]
    credit = credits.combine(*found)
    blocks = []
    for index, paragraph in enumerate(paragraphs):
        is_subhead = (0 < index < len(paragraphs) - 1 and len(paragraph) <= 30
                      and not _TERMINAL.search(paragraph) and paragraph[-1] not in _SENTENCE_END)
        content = inline_from_text(paragraph)
        blocks.append(Heading(level=2, content=content) if is_subhead else Paragraph(content=content))
    language = ctx.language or guess_language(title + "".join(paragraphs[:5]))
    if not title.strip():
        from ..errors import IngestError

        raise IngestError("no article found (a page header, but no headline or text)", path)
    return Article(
        id="article", title=title, lang=language, kicker=kicker, subtitle=subtitle.lstrip("—－- ") if subtitle else None,
        byline=credit.byline, authors=credit.authors, author_note=author_note, dateline=credit.dateline,
        source_path=path, blocks=tuple(blocks),
    )
