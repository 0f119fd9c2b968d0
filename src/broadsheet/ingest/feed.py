"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds saved to disk: one section per feed, one article per entry.

Nothing is fetched: feedparser is handed the bytes of the file, never a URL or a path, and
pictures are taken only from files beside the feed (remote ones are dropped with a
warning by the image resolver).  A document type declaration is removed before parsing,
so entities it declares (billion laughs, external entities naming local files or URLs)
are never expanded; a declaration that declares entities is reported.

Every entry becomes an Article: its full content (``content:encoded``, Atom ``content``)
when the feed carries it, else its summary (``description``, Atom ``summary``) followed by
a visible note that it is only a summary, with the link to the full article.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import html
import io
import re
from pathlib import Path

from ..errors import IngestError
from ..model import Article, Block, Heading, Paragraph
from .base import Context, Draft, DraftSection, language_tag, log, resolve_language, slug
from .encoding import read_text
from .html import clean_text, html_to_blocks
from .images import ImageResolver

KIND = "feed"
SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".feed"}
ATOM_NAMESPACES = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
RSS1_NAMESPACES = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")

_ROOT = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)([^<>]*)")
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_EMAIL_NAME = re.compile(r"^\s*[^\s@()<>]+@[^\s@()<>]+\s*\((.+)\)\s*$")  # jo@example.com (Jo Bloggs)
_NAME_EMAIL = re.compile(r"^\s*(.+?)\s*<[^\s@<>]+@[^\s@<>]+>\s*$")  # Jo Bloggs <jo@example.com>
_EMAIL = re.compile(r"^\s*<?[^\s@()<>]+@[^\s@()<>]+>?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")

#: The note closing an article of which the feed gives only a summary, by primary language.
SUMMARY_NOTE = {
    "en": ("Summary from the feed; the full article is at", "Summary from the feed; the full article is not included."),
    "zh": ("以上为订阅源提供的摘要，全文见", "以上为订阅源提供的摘要，未含全文。"),
    "ja": ("フィードの要約です。全文は", "フィードの要約です。全文は含まれていません。"),
    "fr": ("Résumé tiré du flux ; l’article complet se trouve à l’adresse",
           "Résumé tiré du flux ; l’article complet n’est pas inclus."),
    "de": ("Zusammenfassung aus dem Feed; der vollständige Artikel steht unter",
           "Zusammenfassung aus dem Feed; der vollständige Artikel ist nicht enthalten."),
    "es": ("Resumen del canal; el artículo completo está en",
           "Resumen del canal; el artículo completo no está incluido."),
    "pt": ("Resumo do feed; o artigo completo está em", "Resumo do feed; o artigo completo não está incluído."),
    "it": ("Riassunto dal feed; l’articolo completo è su", "Riassunto dal feed; l’articolo completo non è incluso."),
    "ru": ("Краткое изложение из ленты; полный текст статьи:",
           "Краткое изложение из ленты; полного текста статьи нет."),
}


# --- detection -----------------------------------------------------------------------------


def detect(path: Path, head: bytes) -> int:
    """95 for a document whose root element is ``rss``, Atom ``feed`` or RSS 1.0 ``rdf:RDF``."""
    text = _head_text(head)
    prolog = scan_prolog(text)
    if prolog is None:
        return 0
    match = _ROOT.match(text, prolog.root)
    if match is None:
        return 0
    name, attributes = match.group(2), match.group(3)
    if name == "rss":
        return 95
    if name == "feed" and any(ns in attributes for ns in ATOM_NAMESPACES):
        return 95
    if name == "RDF":
        window = text[prolog.root:prolog.root + 4096]
        return 95 if any(ns in window for ns in RSS1_NAMESPACES) else 0
    return 0


def _head_text(head: bytes) -> str:
    """Return the first bytes as text, good enough to read ASCII markup in any encoding."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return head[: len(head) // 4 * 4].decode("utf-32", errors="replace")
    elif head.startswith(b"<\x00\x00\x00"):
        return head[: len(head) // 4 * 4].decode("utf-32-le", errors="replace")
    elif head.startswith(b"\x00\x00\x00<"):
        return head[: len(head) // 4 * 4].decode("utf-32-be", errors="replace")
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    elif head.startswith(b"<\x00"):
        return head[: len(head) // 2 * 2].decode("utf-16-le", errors="replace")
    elif head.startswith(b"\x00<"):
        return head[: len(head) // 2 * 2].decode("utf-16-be", errors="replace")
    return head.decode("latin-1")


class Prolog:
    """Where the parts before the root element of an XML document are."""

    def __init__(self, root: int, declaration: tuple[int, int] | None, doctype: tuple[int, int] | None) -> None:
        self.root = root  # index of the root element's "<"
        self.declaration = declaration  # span of <?xml …?>
        self.doctype = doctype  # span of <!DOCTYPE …>, internal subset included


def scan_prolog(text: str) -> Prolog | None:
    """Find the XML declaration, the document type declaration and the root element.

    Returns None when the prolog is malformed or does not end in the text given.
    """
    position = 0
    declaration = doctype = None
    length = len(text)
    while True:
        while position < length and text[position] in " \t\r\n\ufeff":
            position += 1
        if text.startswith("<?", position):
            end = text.find("?>", position)
            if end < 0:
                return None
            if text.startswith("<?xml", position) and position + 5 < length and text[position + 5] in " \t\r\n?":
                declaration = (position, end + 2)
            position = end + 2
        elif text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end < 0:
                return None
            position = end + 3
        elif text[position:position + 9].upper() == "<!DOCTYPE":
            end = _doctype_end(text, position + 9)
            if end is None:
                return None
            doctype = (position, end)
            position = end
        elif position < length and text.startswith("<", position):
            return Prolog(position, declaration, doctype)
        else:
            return None


def _doctype_end(text: str, position: int) -> int | None:
    """Return the index just after the ``>`` that closes a document type declaration."""
    quote = None
    subset = False
    length = len(text)
    while position < length:
        char = text[position]
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif subset and text.startswith("<!--", position):
            end = text.find("-->", position + 4)
            if end < 0:
                return None
            position = end + 2
        elif char == "[":
            subset = True
        elif char == "]":
            subset = False
        elif char == ">" and not subset:
            return position + 1
        position += 1
    return None


# --- loading -------------------------------------------------------------------------------


def load(path: Path, ctx: Context) -> list[Draft]:
    import feedparser

    data = _safe_bytes(_bounded(read_text(path, ctx.root), path), path)
    # Bytes in a stream: feedparser never treats them as a URL or a file name to open.
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False,
                              response_headers={"content-type": "application/xml; charset=utf-8"})
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not parsed.get("version") and not entries:
        problem = parsed.get("bozo_exception")
        raise IngestError(f"not a readable RSS or Atom feed{f' ({problem})' if problem else ''}", path)

    title = _plain(feed.get("title_detail") or feed.get("title"))
    declared = language_tag(feed.get("language")) or language_tag((feed.get("title_detail") or {}).get("language"))
    resolver = ImageResolver(path, ctx.root, remote=ctx.allow_remote, remote_hosts=ctx.remote_hosts)
    items = []
    for entry in entries:
        when = entry_date(entry)
        if when is not None and ((ctx.since and when < ctx.since) or (ctx.until and when > ctx.until)):
            continue
        items.append((entry, when))

    # The text outweighs a declaration it clearly contradicts (a Chinese feed declaring <language>en</language>).
    feed_language = resolve_language(declared, _language_sample(title, [e for e, _ in items]))
    draft_language = ctx.language or feed_language
    articles = []
    keys: dict[int, tuple[str, ...]] = {}
    summaries: set[int] = set()
    for number, (entry, _) in enumerate(items, start=1):
        # Each entry in its own language (a feed may mix them); short entries keep what is declared.
        entry_language = resolve_language(_entry_language(entry) or declared or ctx.language,
                                          _language_sample("", [entry]), fallback=feed_language)
        article = _article(entry, path, entry_language, resolver)
        if article is None:
            log.warning("%s: entry %d has neither a title nor any text; skipped", path, number)
            continue
        articles.append(article)
        keys[id(article)] = entry_keys(entry, article)
        if not _body_source(entry)[1]:
            summaries.add(id(article))
    if not entries:
        log.warning("%s: the feed has no entries", path)

    dates = [when for _, when in items if when is not None]
    draft = Draft(
        source=path, kind=KIND, publication=title or None, language=draft_language,
        date=max(dates) if dates else entry_date(feed),
        sections=[DraftSection(name=title or None, articles=articles)] if articles else [],
        entry_keys=_unique_keys(keys), summaries=summaries,
    )
    return [draft]


def entry_keys(entry, article: Article) -> tuple[str, ...]:
    """What identifies an entry across the feeds of one site: its id (RSS guid, Atom id), its link, and its
    title with the start of its text, each normalised."""
    keys = []
    ident = (entry.get("id") or "").strip()
    if ident:
        keys.append("id:" + _normal_link(ident))
    link = (entry.get("link") or "").strip()
    if link:
        keys.append("link:" + _normal_link(link))
    # The entry's own text, not the note that it is a summary (which names the link).
    text = html.unescape(re.sub(r"<[^>]*>", " ", _body_source(entry)[0]))
    keys.append("text:" + re.sub(r"[\W_]+", " ", f"{article.title} {_SPACE.sub(' ', text).strip()[:200]}")
                .strip().casefold())
    return tuple(keys)


def _normal_link(value: str) -> str:
    """A link as the same page's other links would be written: no scheme, ``www.``, fragment or final slash."""
    value = re.sub(r"^[a-z][a-z0-9+.-]*://(?:www\.)?", "", value.strip(), flags=re.I).split("#")[0]
    host, _, rest = value.partition("/")
    return (host.lower() + ("/" + rest if rest else "")).rstrip("/")


def _unique_keys(keys: dict[int, tuple[str, ...]]) -> dict[int, tuple[str, ...]]:
    """Drop keys that more than one entry of the feed shares (every entry linking to the home page): they
    identify nothing."""
    counts: dict[str, int] = {}
    for values in keys.values():
        for key in set(values):
            counts[key] = counts.get(key, 0) + 1
    return {article: tuple(k for k in values if counts[k] == 1) for article, values in keys.items()}


_ENTRY_START = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_ENTRY_END = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")


def _bounded(text: str, path: Path) -> str:
    """The feed with its first ``articles_per_source`` entries, deeper markup flattened.

    Entries past the bound are cut from the text before parsing (a feed of 200,000 entries
    would take many minutes to parse and lay out), with a warning; all work after this is
    linear in the entries kept.
    """
    from .. import limits
    from .html import flatten_raw, warn_flattened

    bound = limits.current().articles_per_source
    starts = _ENTRY_START.finditer(text)
    cut = next((m.start() for n, m in enumerate(starts) if n == bound), None)
    if cut is not None:
        total = bound + 1 + sum(1 for _ in starts)
        ends = list(_ENTRY_END.finditer(text, cut))
        resume = ends[-1].end() if ends else len(text)
        text = text[:cut] + text[resume:]
        log.warning("%s: %d entries; the first %d are read (the limit of articles per source)", path, total, bound)
    text, flattened = flatten_raw(text)
    if flattened:
        warn_flattened(path)
    return text


def _language_sample(title: str, entries: list) -> str:
    """Return the text to guess a feed's language from: titles and the start of a few bodies (tags dropped)."""
    parts = [title] + [_plain(e.get("title_detail") or e.get("title")) for e in entries]
    parts += [html.unescape(re.sub(r"<[^>]*>", " ", _body_source(e)[0]))[:2000] for e in entries[:5]]
    return " ".join(p for p in parts if p)


def _safe_bytes(text: str, path: Path) -> bytes:
    """Return the document as UTF-8 without its XML and document type declarations."""
    prolog = scan_prolog(text)
    if prolog is None:
        if re.search(r"<!DOCTYPE", text[:65536], re.I):
            raise IngestError("malformed document type declaration; not parsed", path)
        raise IngestError("not an XML feed (no root element found)", path)
    cut = [span for span in (prolog.declaration, prolog.doctype) if span]
    if prolog.doctype:
        declaration = text[prolog.doctype[0]:prolog.doctype[1]]
        if re.search(r"<!ENTITY", declaration, re.I):
            log.warning("%s: the feed's document type declaration declares entities; it was removed and its "
                        "entities are not expanded", path)
    for start, end in sorted(cut, reverse=True):
        text = text[:start] + text[end:]
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text.lstrip("\ufeff")).encode("utf-8", errors="replace")


def _article(entry, path: Path, language: str, resolver: ImageResolver) -> Article | None:
    markup, full = _body_source(entry)
    blocks: tuple[Block, ...] = html_to_blocks(markup, resolver) if markup else ()
    title = _plain(entry.get("title_detail") or entry.get("title"))
    if blocks and title and isinstance(blocks[0], Heading) and _same(blocks[0].content.text, title):
        blocks = blocks[1:]
    if not title:
        title = _first_words(blocks)
        if not title:
            return None
    link = entry.get("link") or None
    if link and not re.match(r"^https?://", link):
        link = None
    if not full:
        blocks = blocks + _summary_note(link, language, resolver)
    return Article(
        id=slug(title) or "article", title=title, lang=language, authors=_authors(entry), tags=_tags(entry),
        source=link, source_path=path, blocks=blocks,
    )


def _body_source(entry) -> tuple[str, bool]:
    """Return the entry's body as HTML and whether it is the full content (not a summary)."""
    for content in entry.get("content") or ():
        value = content.get("value") or ""
        if value.strip():
            return _as_html(value, content.get("type")), True
    summary = entry.get("summary_detail") or {}
    value = summary.get("value") or entry.get("summary") or ""
    return (_as_html(value, summary.get("type")) if value.strip() else ""), False


def _as_html(value: str, media_type: str | None) -> str:
    if media_type and "html" not in media_type:  # text/plain: paragraphs separated by blank lines
        paragraphs = re.split(r"\n\s*\n", value.strip())
        return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p.strip())
    return value


def _summary_note(link: str | None, language: str, resolver: ImageResolver) -> tuple[Block, ...]:
    with_link, without_link = SUMMARY_NOTE.get(language.split("-")[0].lower(), SUMMARY_NOTE["en"])
    if link:
        colon = "：" if language.lower().startswith(("zh", "ja")) else " "
        markup = (f"<p><em>{html.escape(with_link)}</em>{colon}"
                  f'<a href="{html.escape(link, quote=True)}">{html.escape(link)}</a></p>')
    else:
        markup = f"<p><em>{html.escape(without_link)}</em></p>"
    return html_to_blocks(markup, resolver)


def _plain(detail) -> str:
    """Return a title (a feedparser detail or a string) as one line of plain text."""
    if not detail:
        return ""
    if isinstance(detail, str):
        value, media_type = detail, "text/plain"
    else:
        value, media_type = detail.get("value") or "", detail.get("type") or "text/plain"
    if "html" in media_type or re.search(r"<[A-Za-z/][^>]*>", value):
        blocks = html_to_blocks(value, lambda src, alt, caption: None)
        value = " ".join(b.content.text for b in blocks if isinstance(b, (Paragraph, Heading)))
    return _SPACE.sub(" ", clean_text(value)).strip()


def _same(a: str, b: str) -> bool:
    return _SPACE.sub(" ", a).strip().casefold() == _SPACE.sub(" ", b).strip().casefold()


def _first_words(blocks: tuple[Block, ...]) -> str:
    text = next((b.content.text for b in blocks if isinstance(b, (Paragraph, Heading)) and b.content.text), "")
    if not text:
        return ""
    if len(_CJK.findall(text[:40])) > 10:
        short = text[:16]
        return short + ("…" if len(text) > 16 else "")
    words = text.split()
    short = " ".join(words[:8]).rstrip(",;:")
    return short + ("…" if len(words) > 8 else "")


def _authors(entry) -> tuple[str, ...]:
    details = entry.get("authors") or []
    if len(details) > 1:
        names = [d.get("name") or "" for d in details]
    else:
        # feedparser's own split of "email (Name)" fails for some addresses: read the raw value.
        raw = entry.get("author") or (details[0].get("name") if details else "") or ""
        names = [_author_name(raw)]
    found: list[str] = []
    for name in names:
        name = _SPACE.sub(" ", clean_text(html.unescape(name or ""))).strip()
        if name and not _EMAIL.match(name) and name not in found:
            found.append(name)
    return tuple(found)


def _author_name(raw: str) -> str:
    for pattern in (_EMAIL_NAME, _NAME_EMAIL):
        match = pattern.match(raw)
        if match:
            return match.group(1)
    return raw


def _tags(entry) -> tuple[str, ...]:
    found: list[str] = []
    for tag in entry.get("tags") or ():
        value = _SPACE.sub(" ", clean_text(tag.get("label") or tag.get("term") or "")).strip()
        if value and value not in found:
            found.append(value)
    return tuple(found)


def entry_date(entry) -> dt.date | None:
    """Return the day an entry (or a feed) was published, else updated, in the time zone the feed writes."""
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            match = _ISO_DATE.match(raw)
            if match:
                try:
                    return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
                except ValueError:
                    pass
            try:
                return email.utils.parsedate_to_datetime(raw).date()
            except (TypeError, ValueError, IndexError):
                pass
        parsed = _struct_date(entry.get(f"{key}_parsed"))
        if parsed is not None:
            return parsed
    return None


def _struct_date(value) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date(value.tm_year, value.tm_mon, value.tm_mday)
    except (AttributeError, ValueError):
        return None


def _entry_language(entry) -> str | None:
    for content in entry.get("content") or ():
        tag = language_tag(content.get("language"))
        if tag:
            return tag
    return language_tag((entry.get("summary_detail") or {}).get("language"))


