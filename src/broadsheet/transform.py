"""简繁: convert a publication's Chinese text between simplified and traditional (OpenCC).

:func:`convert_publication` returns a new :class:`~broadsheet.model.Publication` (the model is
immutable) whose Chinese text is converted: the publication's title and publisher, section
names, and every article field a reader sees (title, subtitle, kicker, byline, authors,
author note, dateline, tags, body, captions and picture descriptions).  Inline markup keeps its
elements and attributes: only its text nodes change, and it is re-serialised as XML exactly as
``broadsheet.ingest.html`` writes it.

Modes and the OpenCC configuration each uses:

======  ===============  ==========  ====================================================
mode    OpenCC config    language    what
======  ===============  ==========  ====================================================
s2t     ``s2t``          zh-Hant     simplified → traditional (OpenCC standard forms)
s2tw    ``s2twp``        zh-TW       → traditional as written in Taiwan, with Taiwan
                                     vocabulary (软件 → 軟體, 鼠标 → 滑鼠)
s2hk    ``s2hk``         zh-HK       → traditional as written in Hong Kong
t2s     ``t2s``          zh-Hans     traditional → simplified
======  ===============  ==========  ====================================================

Only Chinese text is converted: an article whose language is not ``zh…`` (an English or a
Japanese article in a Chinese paper) is left as it is, language included.  The publication's
language becomes the target language when it is Chinese; section names are converted when the
publication or one of the section's articles is Chinese.
"""

from __future__ import annotations

from functools import cache


from .ingest.html import _inner_xml
from .model import Article, Figure, Heading, Inline, ListBlock, Paragraph, Preformatted, Publication, Quote
from .lang import is_chinese
from .names import CONVERSIONS
from .xhtml import parse as parse_xml

__all__ = ["convert_publication", "CONFIGS", "LANGUAGES", "converter"]

#: each of names.CONVERSIONS → OpenCC's configuration.
CONFIGS = {"s2t": "s2t", "s2tw": "s2twp", "s2hk": "s2hk", "t2s": "t2s"}
#: each of names.CONVERSIONS → the BCP 47 language of the converted text.
LANGUAGES = {"s2t": "zh-Hant", "s2tw": "zh-TW", "s2hk": "zh-HK", "t2s": "zh-Hans"}


@cache
def converter(mode: str):
    """Return the OpenCC converter for a mode (one per process: loading the dictionaries takes time)."""
    if mode not in CONVERSIONS:
        raise ValueError(f"expected one of {', '.join(CONVERSIONS)}, got {mode!r}")
    import opencc

    return opencc.OpenCC(CONFIGS[mode])


def _is_chinese(lang: str | None) -> bool:
    return bool(lang) and is_chinese(lang)


def convert_publication(publication: Publication, mode: str) -> Publication:
    """Return ``publication`` with its Chinese text converted by ``mode`` (s2t, t2s, s2tw, s2hk)."""
    opencc = converter(mode)

    def text(value: str | None) -> str | None:
        return opencc.convert(value) if value else value

    chinese = _is_chinese(publication.language)
    issues = []
    for issue in publication.issues:
        sections = []
        for section in issue.sections:
            articles = tuple(_convert_article(a, mode, text) if _is_chinese(a.lang) else a for a in section.articles)
            update: dict = {"articles": articles}
            if chinese or any(_is_chinese(a.lang) for a in section.articles):
                update["name"] = text(section.name)
            sections.append(section.model_copy(update=update))
        issues.append(issue.model_copy(update={"sections": tuple(sections)}))
    update = {"issues": tuple(issues)}
    if chinese:
        update.update(title=text(publication.title), publisher=text(publication.publisher),
                      language=LANGUAGES[mode])
    return publication.model_copy(update=update)


def _convert_article(article: Article, mode: str, text) -> Article:
    return article.model_copy(update={
        "title": text(article.title),
        "subtitle": text(article.subtitle),
        "kicker": text(article.kicker),
        "byline": text(article.byline),
        "authors": tuple(text(a) for a in article.authors),
        "author_note": text(article.author_note),
        "dateline": text(article.dateline),
        "tags": tuple(text(t) for t in article.tags),
        "lang": LANGUAGES[mode],
        "blocks": tuple(_convert_block(b, text) for b in article.blocks),
    })


def _convert_block(block, text):
    if isinstance(block, (Paragraph, Heading)):
        return block.model_copy(update={"content": convert_inline(block.content, text)})
    if isinstance(block, Quote):
        return block.model_copy(update={"paragraphs": tuple(convert_inline(p, text) for p in block.paragraphs)})
    if isinstance(block, ListBlock):
        return block.model_copy(update={"items": tuple(convert_inline(i, text) for i in block.items)})
    if isinstance(block, Preformatted):
        return block.model_copy(update={"text": text(block.text)})
    if isinstance(block, Figure):
        image = block.image
        caption = convert_inline(image.caption, text) if image.caption is not None else None
        return block.model_copy(update={"image": image.model_copy(update={"alt": text(image.alt),
                                                                          "caption": caption})})
    return block  # Rule: no text


def convert_inline(inline: Inline, text) -> Inline:
    """Convert the text nodes of an Inline's markup (never its tags or attributes) and its plain text."""
    if not inline.html:
        return inline.model_copy(update={"text": text(inline.text)})
    wrapper = parse_xml(f"<span>{inline.html}</span>", huge=True)
    for element in wrapper.iter():
        if element.text:
            element.text = text(element.text)
        if element is not wrapper and element.tail:
            element.tail = text(element.tail)
    return Inline(html=_inner_xml(wrapper), text=text(inline.text))
