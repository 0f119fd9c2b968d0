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

Other generations (an older zynews template with ``PDF 版`` and a meta line, People's Daily
e-paper dumps, People's Daily archive pages holding many articles) are rows of hints in
``lines.SITES``; ``lines.py`` labels every line (``inspect --explain`` prints the labels) and
``credits.py`` reads the credits.  A page with many articles gives them all, in order, each in
its page's section.

Dumps are often cut short (no footer, a last sentence cut, even inside a UTF-8 sequence):
whatever is there is kept.  A plain text file without a page header becomes one article
whose first line is its title.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from .. import limits
from ..errors import IngestError
from ..model import Article, Heading, Paragraph, one_line
from .base import Context, Draft, DraftSection, guess_language, log
from .encoding import decode, read_text
from .html import clean_text, inline_from_text

if TYPE_CHECKING:
    from . import lines as line_model

KIND = "text"
SUFFIXES = {".txt", ".text"}

HEADER = re.compile(r"^\s*第?\s*([A-Za-z]?\s*\d{1,3})\s*版\s*[:：(（]?\s*([^\s)）]+)")


def detect(path: Path, head: bytes) -> int:
    if head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")):
        return 0
    try:
        text = decode(head, path, report=False)
    except Exception:  # noqa: BLE001 - undecodable head: not text
        return 0
    lines = [l for l in text.splitlines() if l.strip()][:12]
    if path.suffix.lower() in {".md", ".markdown"}:  # Markdown says what it is by its name
        return 0
    from . import lines as line_model  # its credit rules compile many patterns: not imported for Markdown

    if any(HEADER.match(l) for l in lines[:3]) or line_model.choose(lines) is not None:
        return 95
    return 40 if path.suffix.lower() in SUFFIXES else 0


def read_lines(path: Path, root: Path | None = None) -> list[str]:
    text = clean_text(read_text(path, root)).replace("\r\n", "\n").replace("\r", "\n")
    return [l.rstrip() for l in text.split("\n")]


def explain(path: Path, root: Path | None = None) -> list[tuple[str, str]]:
    """Each line of a dump with its label, in order (``inspect --explain``)."""
    from . import lines as line_model

    decoded = line_model.decode(read_lines(path, root))
    return [(line.label, line.text) for line in decoded.lines]


def load(path: Path, ctx: Context) -> list[Draft]:
    from . import lines as line_model

    decoded = line_model.decode(read_lines(path, ctx.root))
    if decoded.site is line_model.PLAIN:
        if not decoded.parts:
            raise IngestError("empty text file", path)
        article = _article(path, decoded.parts[0], ctx)
        return [Draft(source=path, kind=KIND, language=article.lang,
                      sections=[DraftSection(name=None, articles=[article])], order=(10**9, path.name))]
    if not decoded.parts or not any(p.title.strip() for p in decoded.parts):
        raise IngestError("no article found (a page header, but no headline or text)", path)
    if decoded.ends_mid_sentence:  # once per dump, naming the one article it cuts
        log.warning("%s: the dump ends mid-sentence: its last article, %s, is cut short", path,
                    limits.cut(one_line(decoded.parts[-1].title), 80))
    elif decoded.cut_short:
        log.info("%s: no article navigation or footer: the dump may be cut short", path)
    sections: list[DraftSection] = []
    articles: list[Article] = []
    for part in decoded.parts:
        article = _article(path, part, ctx)
        articles.append(article)
        if sections and (sections[-1].name, sections[-1].page) == (part.section, part.page):
            sections[-1].articles.append(article)
        else:
            sections.append(DraftSection(name=part.section, page=part.page, articles=[article]))
    return [Draft(
        source=path, kind=KIND, publication=decoded.publication, language=articles[0].lang, date=decoded.date,
        sections=sections, order=(decoded.parts[0].order, path.name),
    )]


def _article(path: Path, part: line_model.Part, ctx: Context) -> Article:
    if not one_line(part.title):  # nothing but spaces and control characters
        raise IngestError("no article found (a page header, but no headline or text)", path)
    blocks = []
    for kind, text in part.blocks:
        content = inline_from_text(text)
        blocks.append(Heading(level=2, content=content) if kind == "subhead" else Paragraph(content=content))
    language = ctx.language or guess_language(part.title + "".join(t for _, t in part.blocks[:5]))
    credit = part.credit
    return Article(
        id="article", title=part.title, lang=language,
        kicker=part.kicker, subtitle=part.subtitle, byline=credit.byline, authors=credit.authors,
        author_note=part.author_note, dateline=credit.dateline, source_path=path, blocks=tuple(blocks),
    )
