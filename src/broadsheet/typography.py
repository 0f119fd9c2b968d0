"""Typography of a publication's text: typographic quotes, full-width CJK punctuation, no lone last line.

:func:`typeset_publication` returns a new :class:`~broadsheet.model.Publication` (the model is immutable),
as ``transform.py`` does for 简繁: model → model, once per edition, before render.  Each article is set in
its own language (``article.lang``):

- **Quotes** (English, German, French): straight ``"`` and ``'`` become the language's quotation marks,
  paired by markdown-it-py's typographer (``markdown_it.rules_core.smartquotes``, opening or closing by the
  neighbouring characters); a quote it cannot pair opens after a space and closes elsewhere, and ``'``
  inside a word or before a decade (``'90s``) is an apostrophe (’).

  ========  =============  =============
  language  double         single
  ========  =============  =============
  en        “…”            ‘…’
  de        „…“            ‚…‘
  de-CH     «…»            ‹…›
  fr        « … »          “…”
  ========  =============  =============

  French guillemets hold a no-break space (U+00A0) inside, and a space a French text already has inside
  guillemets or before ``; : ! ?`` becomes a no-break one, so that the mark never begins a line.
- **CJK punctuation** (Chinese, unless ``keep_punctuation``): the ASCII ``, : ; ? !`` and ``( )`` that many
  e-paper sites emit between Chinese characters (``基础,是落实``) become the full-width ``，：；？！（）``.
  Only between CJK characters (or CJK punctuation, or a Chinese quotation mark): ``1,000``, ``3:30`` and
  ``Hello, world`` stay as they are; a ``?`` or ``!`` after a Chinese character also at the end of the text,
  and a pair of parentheses when it holds Chinese and no Latin letter, next to Chinese text.
- **No lone last line** (Chinese and Japanese body paragraphs): a paragraph's last four characters are
  joined in a ``<span class="nobreak">`` (``white-space: nowrap`` in base.css), so that its last line never
  holds one or two characters (``号。``) alone.

Only text nodes change: elements, attributes (links, ``alt``) and everything inside ``<code>``, ``<pre>``,
``<kbd>`` and ``<samp>`` (and preformatted blocks) stay as they were, and so do web addresses in the text.
Titles, subtitles, kickers, bylines, datelines, author notes, headings, quotations, list items and captions
are set as the body is; authors' names, tags, section names and the publication's title are left as they came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from lxml import etree

from .lang import is_chinese, no_word_spaces, primary
from .model import Article, Figure, Heading, Inline, ListBlock, Paragraph, Publication, Quote
from .xhtml import parse as parse_xml

__all__ = ["QUOTES", "typeset_publication", "typeset_article", "typeset_text", "typeset_inline",
           "normalise_cjk_punctuation", "smart_quotes"]

NBSP = "\u00a0"
#: a language (its primary subtag, or the whole tag for a regional form) → its quotation marks:
#: double opening, double closing, single opening, single closing (markdown-it's ``quotes`` option).
QUOTES: dict[str, tuple[str, str, str, str]] = {
    "en": ("“", "”", "‘", "’"),
    "de": ("„", "“", "‚", "‘"),
    "de-ch": ("«", "»", "‹", "›"),
    "fr": (f"«{NBSP}", f"{NBSP}»", "“", "”"),
}
#: elements whose text is code, set as it is
CODE_TAGS = frozenset({"code", "pre", "kbd", "samp"})
#: web addresses written in the text
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]{0,31}://|www\.|mailto:)[^\s<>\"“”‘’«»]*"
                  r"[^\s<>\"'“”‘’«».,:;!?)\]]", re.IGNORECASE)
_QUOTE = re.compile(r"['\"]")
_STRING = etree.XPath("string()")


def quotes_for(lang: str) -> tuple[str, str, str, str] | None:
    """The quotation marks of a language tag, or None for a language set with the quotes it came with."""
    tag = lang.lower()
    for key in (tag, "-".join(tag.split("-")[:2]), primary(tag)):
        if key in QUOTES:
            return QUOTES[key]
    return None


# --------------------------------------------------------------------------------------------- text runs


@dataclass
class _Run:
    """One piece of a paragraph's text, as markdown-it's smartquotes sees a token."""

    type: str  # "text" (set), "code_inline" (kept, seen by its neighbours), "softbreak" (a line break)
    content: str
    level: int = 0
    owner: tuple | None = None  # the text node it came from (element, "text" or "tail")


def _split_urls(text: str, level: int) -> list[_Run]:
    if "." not in text and ":" not in text:  # every address has one; Chinese text seldom has either
        return [_Run("text", text, level)]
    if text.isascii():  # an address has "://", "www." or "mailto:" (in any case): searched for first, as the
        lowered = text.lower()  # search for addresses tries a scheme at every letter (45 µs a paragraph)
        if "://" not in text and "www." not in lowered and "mailto:" not in lowered:
            return [_Run("text", text, level)]
    runs, start = [], 0
    for match in _URL.finditer(text):
        if match.start() > start:
            runs.append(_Run("text", text[start:match.start()], level))
        runs.append(_Run("code_inline", match.group(), level))
        start = match.end()
    if start < len(text) or not runs:
        runs.append(_Run("text", text[start:], level))
    return runs


# --------------------------------------------------------------------------------------------- quotes

_YEAR = re.compile(r"(?<![\w'])'(?=\d\d(?:s\b|\b))")  # ’90s, ’05
_ELISION = re.compile(r"(?<![\w'])'(?=(?:tis|twas|em|til|cause)\b)|(?<=\s)'n'(?=\s)", re.IGNORECASE)  # ’tis


@cache
def _state(marks: tuple[str, str, str, str]):
    from markdown_it import MarkdownIt
    from markdown_it.rules_core.state_core import StateCore

    return StateCore("", MarkdownIt("commonmark", {"typographer": True, "quotes": list(marks)}), {})


def _is_space(char: str) -> bool:
    return char == "" or char.isspace()


def _smart_quotes_runs(runs: list[_Run], marks: tuple[str, str, str, str], lang: str) -> None:
    """Set the quotes of ``runs`` in place (markdown-it's pairing, then the quotes it left)."""
    english = primary(lang) == "en"
    for run in runs:
        if run.type == "text" and "'" in run.content:
            run.content = _YEAR.sub("’", run.content)
            if english:  # ’tis, rock ’n’ roll
                run.content = _ELISION.sub(lambda m: m.group().replace("'", "’"), run.content)
    if any(r.type == "text" and _QUOTE.search(r.content) for r in runs):
        _pair(runs, marks)
    # What markdown-it could not pair (a quotation running over paragraphs, a quote glued to a word):
    # opening after a space or an opening bracket or dash, closing elsewhere.
    for index, run in enumerate(runs):
        if run.type != "text" or not _QUOTE.search(run.content):
            continue
        chars = list(run.content)
        for position, char in enumerate(chars):
            if char not in "'\"":
                continue
            before = chars[position - 1] if position else _neighbour(runs, index, -1)
            after = chars[position + 1] if position + 1 < len(chars) else _neighbour(runs, index, 1)
            if before.isdigit() and not after.isalpha():
                continue  # a prime: 5'10", 12"
            opening = (_is_space(before) or before in "([{—–-/“‘„‚«‹") and not _is_space(after)
            if char == '"':
                chars[position] = marks[0] if opening else marks[1]
            else:
                chars[position] = marks[2] if opening else "’"
        run.content = "".join(chars)


#: markdown-it pairs the quotes of a window of text this long at most (a longer paragraph is paired window by
#: window, cut after a space); its cost grows with the square of a window's quotes
PAIRING_WINDOW = 4000
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def _pair(runs: list[_Run], marks: tuple[str, str, str, str]) -> None:
    """Pair quotes with markdown-it's smartquotes (it reads ``.type``, ``.content`` and ``.level`` only).

    Each text run is cut into words first: markdown-it rewrites a token's whole content for each quote it
    sets, so words keep that cheap; the words are joined into their runs again afterwards."""
    from markdown_it.rules_core.smartquotes import process_inlines

    state = _state(marks)
    words: list[_Run] = []
    parents: list[int] = []
    for index, run in enumerate(runs):
        pieces = _WORDS.findall(run.content) if run.type == "text" and len(run.content) > 64 else [run.content]
        for piece in pieces:
            words.append(_Run(run.type, piece, run.level))
            parents.append(index)
    start, size = 0, 0
    for end, word in enumerate(words, start=1):
        size += len(word.content)
        if size >= PAIRING_WINDOW and word.content[-1:].isspace():
            process_inlines(words[start:end], state)
            start, size = end, 0
    if start < len(words):
        process_inlines(words[start:], state)
    contents: list[list[str]] = [[] for _ in runs]
    for word, parent in zip(words, parents):
        contents[parent].append(word.content)
    for run, pieces in zip(runs, contents):
        run.content = "".join(pieces)


def _neighbour(runs: list[_Run], index: int, step: int) -> str:
    """The character next to run ``index`` in the direction ``step`` ("" at a line break or the end)."""
    index += step
    while 0 <= index < len(runs):
        run = runs[index]
        if run.type == "softbreak":
            return ""
        if run.content:
            return run.content[-1] if step < 0 else run.content[0]
        index += step
    return ""


_FRENCH_SPACE = re.compile(r"(?<=«) | (?=[»;:!?])")


def _french_spaces(runs: list[_Run]) -> None:
    for run in runs:
        if run.type == "text":
            run.content = _FRENCH_SPACE.sub(NBSP, run.content)


def smart_quotes(text: str, lang: str) -> str:
    """``text`` (plain text) with the quotation marks and apostrophes of ``lang``."""
    return _set_runs(_split_urls(text, 0), lang, quotes=True, cjk=False)


# --------------------------------------------------------------------------------------------- CJK

_HAN = ("\u2e80-\u2fff\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
        "\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff")
#: full-width and CJK punctuation (not the full-width letters and digits)
_CJK_PUNCT = "\u3000-\u3004\u3008-\u3020\u3030\u303d\ufe10-\ufe19\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20" \
             "\uff3b-\uff40\uff5b-\uff65"
_BEFORE = f"[{_HAN}{_CJK_PUNCT}”’]"  # what may stand before the mark
_AFTER = f"[{_HAN}{_CJK_PUNCT}“‘]"  # what may stand after it
FULL_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
# A mark between CJK characters (a space after it dropped); ? and ! also before a closing quote or the end.
_BETWEEN = re.compile(rf"(?<={_BEFORE})([,:;?!]) ?(?={_AFTER})|(?<=[{_HAN}])([?!]+)(?=[”’{_CJK_PUNCT}]|\Z)")
_PARENS = re.compile(r"\(([^()]*)\)")
_HAS_HAN = re.compile(f"[{_HAN}]")
_LATIN = re.compile(r"[A-Za-z]")
_OUTSIDE = re.compile(f"[{_HAN}{_CJK_PUNCT}“”‘’]")


def _cjk_text(text: str, before: str, after: str) -> str:
    """``text`` with its ASCII punctuation between CJK characters made full-width; ``before`` and ``after``
    are the characters around it ("" at the start or the end of the paragraph)."""
    whole = before + text + after
    start, end = len(before), len(before) + len(text)
    out, last = [], start
    for match in _BETWEEN.finditer(whole, start):
        if match.start() >= end:
            break
        marks = match.group(1) or match.group(2)
        out.append(whole[last:match.start()])
        out.append("".join(FULL_WIDTH[m] for m in marks))
        last = min(match.end(), end)
    out.append(whole[last:end])
    text = "".join(out)

    def parens(match: re.Match) -> str:
        inside = match.group(1)
        left = text[match.start() - 1] if match.start() else before
        right = text[match.end()] if match.end() < len(text) else after
        if _HAS_HAN.search(inside) and not _LATIN.search(inside) and \
                (_OUTSIDE.match(left or "") or _OUTSIDE.match(right or "") or not left or not right):
            return f"（{inside}）"
        return match.group()

    return _PARENS.sub(parens, text)


def normalise_cjk_punctuation(text: str) -> str:
    """``text`` (plain Chinese text) with ``, : ; ? ! ( )`` between CJK characters made full-width."""
    return _set_runs(_split_urls(text, 0), "zh", quotes=False, cjk=True)


# --------------------------------------------------------------------------------------------- runs


def _set_runs(runs: list[_Run], lang: str, *, quotes: bool, cjk: bool) -> str:
    _set(runs, lang, quotes=quotes, cjk=cjk)
    return "".join(r.content for r in runs)


def _set(runs: list[_Run], lang: str, *, quotes: bool, cjk: bool) -> None:
    marks = quotes_for(lang) if quotes else None
    if marks is not None:
        if primary(lang) == "fr":
            _french_spaces(runs)
        _smart_quotes_runs(runs, marks, lang)
    if cjk and is_chinese(lang):
        for index, run in enumerate(runs):
            if run.type == "text" and run.content:
                run.content = _cjk_text(run.content, _neighbour(runs, index, -1), _neighbour(runs, index, 1))


def typeset_text(text: str | None, lang: str, *, keep_punctuation: bool = False,
                 quotes: bool = True) -> str | None:
    """A plain field (a title, a kicker …) set in ``lang``."""
    if not text:
        return text
    return _set_runs(_split_urls(text, 0), lang, quotes=quotes, cjk=not keep_punctuation)


def _runs_of(wrapper: etree._Element) -> list[_Run]:
    """The runs of an element's text nodes in document order; each text node's runs are told its
    ``owner`` (element, "text" or "tail"), code runs none (they are never written back)."""
    runs: list[_Run] = []

    def add(element: etree._Element, attribute: str, text: str | None, level: int) -> None:
        if text:
            for run in _split_urls(text, level):
                run.owner = (element, attribute)
                runs.append(run)

    def walk(element: etree._Element, level: int) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in CODE_TAGS:
            runs.append(_Run("code_inline", _STRING(element), level))
            return
        if tag == "br":
            runs.append(_Run("softbreak", "", level))
        add(element, "text", element.text, level + 1)
        for child in element:
            walk(child, level + 1)
            add(child, "tail", child.tail, level + 1)

    walk(wrapper, -1)
    return runs


def _write_back(runs: list[_Run]) -> None:
    texts: dict[tuple[int, str], list] = {}
    for run in runs:
        if run.owner is not None:
            texts.setdefault((id(run.owner[0]), run.owner[1]), [run.owner[0]]).append(run.content)
    for (_, attribute), (element, *pieces) in texts.items():
        setattr(element, attribute, "".join(pieces))


def _last_text(element: etree._Element) -> tuple[etree._Element, str] | None:
    """Where the last text of ``element`` is (element, "text" or "tail"); None when it is code."""
    for child in reversed(element):
        if child.tail and child.tail.strip():
            return child, "tail"
        if isinstance(child.tag, str) and child.tag in CODE_TAGS | {"br"}:
            return None
        if _STRING(child).strip():
            return _last_text(child)
    if element.text and element.text.strip():
        return element, "text"
    return None


#: how many characters the last line of a CJK paragraph holds at least
NOBREAK_END = 4
_JOINABLE = re.compile(f"[{_HAN}{_CJK_PUNCT}“”‘’]{{{NOBREAK_END}}}$")


def _nobreak_end(wrapper: etree._Element) -> bool:
    """Join the last ``NOBREAK_END`` characters of a CJK paragraph in a ``<span class="nobreak">``."""
    if len(_STRING(wrapper).strip()) < 2 * NOBREAK_END:
        return False
    where = _last_text(wrapper)
    if where is None:
        return False
    element, attribute = where
    text = getattr(element, attribute)
    body = text.rstrip()
    if not _JOINABLE.search(body):
        return False
    span = etree.Element("span")
    span.set("class", "nobreak")
    span.text, span.tail = body[-NOBREAK_END:], text[len(body):] or None
    setattr(element, attribute, body[:-NOBREAK_END] or None)
    if attribute == "text":
        element.insert(0, span)
    else:
        element.addnext(span)
        span.tail = text[len(body):] or None
    return True


def typeset_inline(inline: Inline | None, lang: str, *, keep_punctuation: bool = False,
                   quotes: bool = True, nobreak_end: bool = False) -> Inline | None:
    """Set the text nodes of an Inline's markup (never its tags, attributes or code) and its plain text."""
    if inline is None:
        return None
    if not inline.html:
        return inline.model_copy(update={"text": typeset_text(inline.text, lang, keep_punctuation=keep_punctuation,
                                                              quotes=quotes)})
    from .ingest.html import _inner_xml, _normalise

    wrapper = parse_xml(f"<span>{inline.html}</span>", huge=True)
    plain_matches = _normalise(_STRING(wrapper)) == inline.text
    runs = _runs_of(wrapper)
    before = [r.content for r in runs]
    _set(runs, lang, quotes=quotes, cjk=not keep_punctuation)
    changed = [r.content for r in runs] != before
    if changed:
        _write_back(runs)
        plain = _normalise(_STRING(wrapper)) if plain_matches else \
            typeset_text(inline.text, lang, keep_punctuation=keep_punctuation, quotes=quotes)
    else:
        plain = inline.text
    nobreak = nobreak_end and no_word_spaces(lang) and _nobreak_end(wrapper)
    if not changed and not nobreak:
        return inline
    return Inline(html=_inner_xml(wrapper), text=plain)


# --------------------------------------------------------------------------------------------- the model


def typeset_publication(publication: Publication, *, keep_punctuation: bool = False, quotes: bool = True,
                        nobreak_end: bool = True) -> Publication:
    """Return ``publication`` with every article set in its language (see the module's documentation).

    ``keep_punctuation`` keeps the ASCII punctuation of Chinese text; ``quotes`` and ``nobreak_end`` turn
    the other two steps off (for comparisons)."""
    options = dict(keep_punctuation=keep_punctuation, quotes=quotes, nobreak_end=nobreak_end)
    issues = []
    for issue in publication.issues:
        sections = []
        for section in issue.sections:
            articles = tuple(typeset_article(a, publication.language, **options) for a in section.articles)
            sections.append(section.model_copy(update={"articles": articles}))
        issues.append(issue.model_copy(update={"sections": tuple(sections)}))
    return publication.model_copy(update={"issues": tuple(issues)})


def typeset_article(article: Article, default_lang: str = "en", *, keep_punctuation: bool = False,
                    quotes: bool = True, nobreak_end: bool = True) -> Article:
    """Return ``article`` set in its language (``default_lang`` when it has none)."""
    lang = article.lang or default_lang

    def text(value: str | None) -> str | None:
        return typeset_text(value, lang, keep_punctuation=keep_punctuation, quotes=quotes)

    def inline(value: Inline | None, paragraph: bool = False) -> Inline | None:
        return typeset_inline(value, lang, keep_punctuation=keep_punctuation, quotes=quotes,
                              nobreak_end=nobreak_end and paragraph)

    def copy(value, field: str, new):  # a block nothing was changed in stays the same value
        old = getattr(value, field)
        same = new is old or (isinstance(new, tuple) and all(a is b for a, b in zip(new, old)))
        return value if same else value.model_copy(update={field: new})

    def block(value):
        if isinstance(value, Paragraph):
            return copy(value, "content", inline(value.content, True))
        if isinstance(value, Heading):
            return copy(value, "content", inline(value.content))
        if isinstance(value, Quote):
            return copy(value, "paragraphs", tuple(inline(p, True) for p in value.paragraphs))
        if isinstance(value, ListBlock):
            return copy(value, "items", tuple(inline(i) for i in value.items))
        if isinstance(value, Figure) and value.image.caption is not None:
            return copy(value, "image", copy(value.image, "caption", inline(value.image.caption)))
        return value  # Preformatted (code), Rule, a picture without a caption

    return article.model_copy(update={
        "title": text(article.title),
        "subtitle": text(article.subtitle),
        "kicker": text(article.kicker),
        "byline": text(article.byline),
        "dateline": text(article.dateline),
        "author_note": text(article.author_note),
        "blocks": tuple(block(b) for b in article.blocks),
    })
