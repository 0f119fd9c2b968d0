"""One article: the parts of a parsed page (:mod:`.page`) turned into a model article.

Bylines, datelines and author notes follow the shared rules of ``ingest/credits.py``.
"""

from __future__ import annotations

import re

from lxml import etree

from ...model import Article, Block, Figure, Paragraph
from ..base import Context, guess_language, log, slug
from .. import credits
from ..html import html_to_blocks
from ..images import ImageResolver
from .page import (Doc, clean, find_body, make_figures, parse_banner, picture_exprs, prepare_body, texts,
                   title_parts)

_MIN_PICTURE = 16  # pixels: smaller pictures are spacers, dots and arrows

# Bylines, datelines and author notes: the shared rules in credits.py.
_PRINT_CREDIT = re.compile(r"《[^》]{1,20}》\s*[（(][^（()）]*[）)]")


def _credits(blocks: list[Block], resolver: ImageResolver,
             found: list[credits.Credit]) -> tuple[list[Block], credits.Credit, str | None]:
    """Move bylines from the first paragraphs, a dateline prefix and a closing credit or author note out of the body.

    ``found`` holds the credits read so far (one printed at the end of the subtitle)."""
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
            taken = 1
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if not opening[1].strip() and not opening[0].byline and isinstance(following, Paragraph):
                # the dateline alone in its paragraph, its credit opening the next: 本报讯 / （记者 张华）7月5日…
                further = credits.opening(f"{opening[0].dateline} {following.content.html}")
                if further and further[0].byline:
                    opening, taken = further, 2
            found.append(opening[0])
            rest = opening[1]
            replacement = list(html_to_blocks(f"<p>{rest}</p>", resolver)) if rest.strip() else []
            blocks[index:index + taken] = replacement
        break
    author_note = None
    for position in range(len(blocks) - 1, -1, -1):
        block = blocks[position]
        if isinstance(block, Figure):
            continue
        if isinstance(block, Paragraph):
            author_note = credits.author_note(block.content.text)
            closing = None if author_note else credits.closing(block.content.html)
            alone = None if author_note or closing or position == 0 else credits.credit_line(block.content.text)
            if alone and (alone.authors or alone.editor):  # 本报记者 郭强 摄, 责任编辑：王小明 after the text
                closing = (alone, "")
            if author_note or (closing and not closing[1].strip()):
                del blocks[position]
            elif closing:
                blocks[position:position + 1] = list(html_to_blocks(f"<p>{closing[1]}</p>", resolver))
            if closing:
                found.append(closing[0])
        break
    return blocks, credits.combine(*found), author_note


def read_article(doc: Doc, ctx: Context, *, hint: str = "", publication: str | None = None) -> Article | None:
    """Read one article page; warn and return None when it holds no article."""
    path = doc.path
    candidates = texts(doc, "title")
    title = doc.enp.get("title") or next((t for t in candidates if t != publication), None) or hint or None
    if not title:
        parts = [p for p in title_parts(doc) if not parse_banner(p)]
        title = parts[0] if parts else None
    if not title:
        log.warning("%s: no article title found; skipped", path)
        return None
    kicker = doc.enp.get("introtitle") or next(iter(texts(doc, "kicker")), None)
    printed_subtitle = doc.enp.get("subtitle") or next(iter(texts(doc, "subtitle")), None)
    kicker = kicker if kicker and kicker != title else None
    # As from a text dump: the subtitle without its dash (——), a byline printed at its end taken apart.
    subtitle, subtitle_credit = credits.subtitle(printed_subtitle) if printed_subtitle else (None, None)
    subtitle = subtitle if subtitle and subtitle not in {title, kicker} else None

    resolver = ImageResolver(path, ctx.root, remote=ctx.allow_remote, remote_hosts=ctx.remote_hosts)
    seen: set[str] = set()
    body, original = find_body(doc)
    markup = prepare_body(body, doc, seen) if body is not None else ""
    outside = []
    for expr in picture_exprs(doc):
        for container in doc.xpath(expr):
            if original is not None and any(a is original for a in container.iterancestors()):
                continue
            outside.extend(make_figures(container, seen))
    markup = "".join(etree.tostring(f, encoding="unicode", method="html") for f in outside) + markup
    blocks = list(html_to_blocks(markup, resolver)) if markup else []
    blocks = [b for b in blocks if not (isinstance(b, Figure) and min(b.image.width, b.image.height) < _MIN_PICTURE)]
    half = len(blocks) // 2
    if half and len(blocks) % 2 == 0 and blocks[:half] == blocks[half:]:
        blocks = blocks[:half]  # the body printed twice
    while blocks and isinstance(blocks[0], Paragraph) and blocks[0].content.text in {title, kicker, subtitle,
                                                                                          printed_subtitle}:
        del blocks[0]
    blocks, credit, author_note = _credits(blocks, resolver, [subtitle_credit] if subtitle_credit else [])
    if not blocks:
        log.warning("%s: article %r has no text; skipped", path, title)
        return None

    meta_author = doc.enp.get("author") or next(iter(texts(doc, "author")), None)
    if meta_author:
        meta_author = clean(_PRINT_CREDIT.sub(" ", meta_author)) or None
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

