"""Render: the model through Jinja2 templates into documents and assets for one target.

``render_issue(edition, issue, theme, target)`` returns a :class:`RenderedIssue`; backends
take it and write one format.  Nothing here knows how an EPUB or a PDF is packaged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import signal
import threading
import time
import uuid

from jinja2 import TemplateError
from lxml import etree

from .. import limits
from ..clock import build_time
from ..config import EpubConfig, PdfConfig
from ..errors import FontCoverageError, RenderError
from ..model import Article, Figure, Issue, Publication
from ..lang import is_cjk, no_word_spaces, primary
from ..names import RENDERINGS
from ..paper import DEFAULT_PAGE, to_mm
from ..xhtml import parse as parse_xml
from ..rendered import Asset, Document, Metadata, NavEntry, RenderedIssue, read_asset
from .cover import cover_soon
from .facsimile import EPUB_CSS as FACSIMILE_CSS, link_label, page_view_name, picture_alt, print_regions, svg_regions
from .css import check_stylesheet
from .environment import make_environment
from .fonts import describe_missing, is_pictograph, missing_characters
from .front import front_page
from .labels import format_date, labels_for, number_label, section_label
from .page import OUTPUT_INTENT, column_count, output_intent_profile, page_css
from .theme import Theme, find_theme

__all__ = ["RenderedIssue", "Document", "Asset", "NavEntry", "Metadata", "read_asset",  # from broadsheet.rendered
           "render_issue", "find_theme", "Theme", "edition_identifier"]

_NAMESPACE = uuid.UUID("8f1c5c1e-7a35-5b64-9b3e-2f6d4c1f0b7a")
MAX_DOCUMENT_CHARS = 64 * 1024 * 1024  # text one template render may make


def edition_identifier(publication: Publication, issue: Issue) -> str:
    """Return the stable ``urn:uuid:`` of one issue: derived, never random."""
    key = "/".join([publication.id, issue.date.isoformat() if issue.date else "undated", issue.number or "",
                    issue.edition or ""])
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}"


def _metadata(publication: Publication, issue: Issue) -> Metadata:
    date_text = issue.date.isoformat() if issue.date else ""
    # "郑州日报 2012-07-06", "郑州日报 2012-07-06 晚间版"; a digest's span already holds its date
    shown_date = "" if issue.edition and date_text and date_text in issue.edition else date_text
    title = " ".join(part for part in (publication.title, shown_date, issue.edition or "") if part)
    sections = [s.name for s in issue.sections]
    tags = sorted({t for a in issue.articles for t in a.tags})
    pictures = [img for a in issue.articles for img in a.images]
    described = bool(pictures) and all(img.alt.strip() for img in pictures)
    return Metadata(
        title=title,
        publication=publication.title,
        language=publication.language,
        identifier=edition_identifier(publication, issue),
        publisher=publication.publisher,
        date=issue.date,
        number=issue.number,
        modified=build_time(issue.date),
        subjects=tuple(dict.fromkeys(sections + tags)),
        description="; ".join(a.title for a in issue.articles[:12]),
        print_source=labels_for(publication.language)["print_edition"].format(
            publication=publication.title, date=date_text or issue.number or ""),
        summary=labels_for(publication.language)["summary"].format(
            publication=publication.title, date=f" {date_text}" if date_text and not
            no_word_spaces(publication.language) else date_text)
        + (labels_for(publication.language)["summary_pictures"] if described else ""),
    )


def _stylesheet(theme: Theme, target: str, langs: set[str], extra: str = "", memo: dict | None = None) -> str:
    """The stylesheet of one rendering: the theme's files read (each through the file door) and checked.
    ``memo``, shared by the issues of one build, keeps it: read and checked once per build, not per issue."""
    cjk = any(is_cjk(lang) for lang in langs)
    key = ("stylesheet", theme, target, cjk, extra)
    if memo is not None and key in memo:
        return memo[key]
    names = ["base.css"]
    if cjk:
        names.append("cjk.css")
    names.append("epub.css" if target == "epub" else "print.css")
    parts = [extra] if extra else []
    found = [(name, *style) for name in names if (style := theme.read_style(name)) is not None]  # the nearest
    # a theme's own stylesheets cascade: every theme of the chain, the farthest parent first
    found += theme.read_styles(("theme.css", f"theme-{target}.css"))
    for name, path, css in found:
        check_stylesheet(css, path)
        parts.append(f"/* {name} */\n{css}")
    css = "\n".join(parts)
    if memo is not None:
        memo[key] = css
    return css


def render_issue(
    publication: Publication,
    issue: Issue,
    theme: Theme,
    target: str,
    *,
    print_options: PdfConfig | None = None,
    epub_options: EpubConfig | None = None,
    allow_missing_glyphs: bool = False,
    cache: dict | None = None,
    memo: dict | None = None,
    facsimile: str = "pages",
) -> RenderedIssue:
    """Render one issue for ``target`` ("epub" or "pdf").

    ``cache`` (any dict, shared between calls) keeps each article's rendered XHTML, so that
    many editions built from the same articles (a digest per subscriber) render each once.
    ``memo`` (a dict shared by the issues of one build) keeps what does not depend on the issue:
    the stylesheets, read and checked once.  ``facsimile`` (``names.FACSIMILE_MODES``): what is made of
    the sections' page facsimiles; "off" is the pipeline's to apply (it leaves them out of the model).
    """
    if target not in RENDERINGS:
        raise RenderError(f"unknown render target {target!r}")
    if not issue.articles:
        raise RenderError("the issue has no articles")
    env = make_environment(theme)
    lang = publication.language
    meta = _metadata(publication, issue)
    labels = labels_for(lang)
    view = template_view(issue)
    context = {
        "publication": publication.model_copy(update={"issues": (view,)}),  # the issue being made, as a value
        "issue": view, "meta": meta, "labels": labels, "lang": lang,
        "date_text": format_date(issue.date, lang), "number_text": number_label(issue.number, lang),
    }
    langs = {lang} | {a.lang for a in issue.articles}
    image_assets = picture_assets(issue)

    if target == "epub":
        # The cover is drawn beside the documents (by a child process, where one can be had) and taken last;
        # its lines are the sections' entries of the contents.
        cover = cover_soon(*cover_args(publication, issue))
        try:
            rendered = _render_epub(env, context, publication, issue, theme, langs, image_assets, meta, cache,
                                    memo, facsimile)
            # [epub] writing_mode and embed_fonts: post-processing steps on the finished EPUB documents.
            # vertical writing is for CJK editions only (the pipeline warns of others and keeps them horizontal)
            if epub_options is not None and epub_options.writing_mode == "vertical" and is_cjk(lang):
                from .vertical import make_vertical

                rendered = make_vertical(rendered, theme)
            if epub_options is not None and epub_options.embed_fonts:
                from .embed import embed_fonts

                rendered = embed_fonts(rendered)
            _check_glyphs(rendered, allow_missing_glyphs)
            return dataclasses.replace(rendered, cover=dataclasses.replace(rendered.cover, data=cover.result()))
        finally:
            cover.cancel()
    else:
        options = print_options or PdfConfig()
        page = options.page_size or DEFAULT_PAGE  # chosen by the pipeline (command line, source, theme)
        css = _stylesheet(theme, "pdf", langs, extra=page_css(options, page), memo=memo)
        context["columns"] = column_count(page)
        context["front"] = front_page(view, context["columns"], is_cjk(lang))
        context["facsimile_sheets"] = _print_sheets(issue, view, page, lang)
        context["facsimile_links"] = {s.id: link_label(s, lang) for s in view.sections if s.facsimile is not None}
        style_asset = Asset(name="styles/print.css", id="style", media_type="text/css", data=css.encode("utf-8"))
        html = _render(env, "pdf/edition.html", context)
        document = Document(name="edition.html", id="edition", title=meta.title, kind="edition",
                            content=html.encode("utf-8"), lang=lang)
        profile = output_intent_profile(options)
        extra = (Asset(name=OUTPUT_INTENT, id="output-intent", media_type="application/vnd.iccprofile",
                       path=profile),) if profile else ()
        rendered = RenderedIssue(publication=publication, issue=issue, target=target, metadata=meta,
                                 documents=(document,), assets=(style_asset, *image_assets, *extra), nav=())
    _check_glyphs(rendered, allow_missing_glyphs)
    return rendered


def cover_args(publication: Publication, issue: Issue) -> tuple:
    """What an issue's EPUB cover is drawn from (``cover.draw_cover``'s arguments): the title, the edition's name
    or the date, the issue's number and the sections' entries of the contents, in the publication's language."""
    lang = publication.language
    return (publication.title, issue.edition or format_date(issue.date, lang), number_label(issue.number, lang),
            tuple(section_label(section.name, section.page, lang) for section in issue.sections), lang)


def picture_assets(issue: Issue) -> tuple[Asset, ...]:
    """The pictures of ``issue`` as its rendering holds them: each article's, then each section's page facsimile,
    one asset per name, in that order."""
    images = {img.name: img for a in issue.articles for img in a.images}
    for section in issue.sections:
        if section.facsimile is not None:
            images.setdefault(section.facsimile.picture.name, section.facsimile.picture)
    return tuple(
        Asset(name=f"images/{img.name}", id=f"img-{img.name.replace('.', '-')}", media_type=img.media_type, path=img.path,
              root=img.root)
        for img in images.values()
    )


def _print_sheets(issue: Issue, view: Issue, page, lang: str) -> dict:
    """Each facsimile section's print page: the picture's box on the trim and the regions' link boxes (mm).
    ``vector``: the section has a page PDF, which the PDF backend draws in the picture's place."""
    width, height = to_mm(page.width), to_mm(page.height)
    titles = {a.id: a.title for a in view.articles}
    sheets = {}
    for section, own in zip(view.sections, issue.sections, strict=True):
        if section.facsimile is None:
            continue
        left, top, w, h = section.facsimile.placed(width, height)
        sheets[section.id] = {
            "left": round(left, 3), "top": round(top, 3), "width": round(w, 3), "height": round(h, 3),
            "trim_width": width, "trim_height": height, "alt": picture_alt(section, lang),
            "regions": print_regions(section, width, height, titles),
            "vector": own.facsimile is not None and own.facsimile.pdf is not None,
        }
    return sheets


def _render_epub(env, context, publication, issue, theme, langs, image_assets, meta, cache=None,
                 memo=None, facsimile: str = "pages") -> RenderedIssue:
    view = context["issue"]  # what templates see: the issue without file paths
    lang = publication.language
    css = _stylesheet(theme, "epub", langs, memo=memo)
    style_asset = Asset(name="styles/style.css", id="style", media_type="text/css", data=css.encode("utf-8"))
    documents: list[Document] = []
    nav: list[NavEntry] = []

    def add(template: str, name: str, doc_id: str, title: str, kind: str, doc_lang: str, linear: bool = True,
            **extra) -> None:
        key = None
        if cache is not None and kind == "article":
            article, section = extra["article"], extra["section"]
            key = (template, theme.folders, name, doc_lang, publication.title, publication.language, issue.date,
                   issue.edition, section.name, section.page, _article_key(article))
            if extra.get("page_view"):  # the link back to the page view is part of the document
                key += (extra["page_view"], extra["page_view_label"])
            if key in cache:
                documents.append(Document(name=name, id=doc_id, title=title, kind=kind, content=cache[key],
                                          lang=doc_lang, linear=linear))
                return
        depth = name.count("/")
        text = _render(env, template, {**context, **extra, "title": title, "doc_lang": doc_lang,
                                       "root": "../" * depth})
        content = text.encode("utf-8")
        try:
            parse_xml(content)
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"template {template} made malformed XHTML: {exc}") from None
        if key is not None:
            cache[key] = content
        documents.append(Document(name=name, id=doc_id, title=title, kind=kind, content=content, lang=doc_lang,
                                  linear=linear))

    cover_title = labels_for(lang)["cover"]
    add("epub/cover.xhtml", "cover.xhtml", "cover", cover_title, "cover", lang)
    page_list: list[tuple[str, str]] = []
    titles = {a.id: a.title for a in view.articles}
    for section in view.sections:
        label = section_label(section.name, section.page, lang)
        section_href = f"text/{section.id}.xhtml"
        page_view = page_view_name(section) if section.facsimile is not None else None
        alone = page_view is not None and facsimile == "only"  # the page view stands for the section
        # The printed page (版) where the section starts: a pagebreak marker and a page-list entry.
        anchor = None
        if section.page and section.page not in {entry[0] for entry in page_list}:
            anchor = "page-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", section.page).strip("-") or section.id)
            if any(href.endswith("#" + anchor) for _, href in page_list):
                anchor = f"{anchor}-{section.id}"
            page_list.append((section.page, f"{'text/' + page_view if alone else section_href}#{anchor}"))
        if not alone:
            add("epub/section.xhtml", section_href, section.id, label, "section", _section_lang(section, lang),
                section=section, label=label, page_anchor=anchor)
        if page_view is not None:
            add("epub/facsimile.xhtml", f"text/{page_view}", f"page-{section.id}", label, "facsimile",
                _section_lang(section, lang), section=section, label=label, page_anchor=anchor if alone else None,
                regions=svg_regions(section, titles), picture_alt=picture_alt(section, lang),
                facsimile_css=FACSIMILE_CSS)
        if anchor and f'id="{anchor}"'.encode() not in documents[-1].content:
            page_list.pop()  # a theme's section page without the marker: no page-list entry to a missing target
        children = [NavEntry(title=labels_for(lang)["facsimile"], href=f"text/{page_view}")] \
            if page_view is not None and not alone else []
        for article in section.articles:
            href = f"text/{article.id}.xhtml"
            back = {"page_view": page_view, "page_view_label": link_label(section, article.lang)} if page_view else {}
            add("epub/article.xhtml", href, f"art-{article.id}", article.title, "article", article.lang,
                linear=not alone, section=section, article=article, **back)
            children.append(NavEntry(title=article.title, href=href))
        nav.append(NavEntry(title=label, href=f"text/{page_view}" if alone else section_href,
                            children=tuple(children)))
    landmarks = (
        ("cover", "cover.xhtml", cover_title),
        ("toc", "nav.xhtml#toc", labels_for(lang)["contents"]),
        ("bodymatter", nav[0].href, labels_for(lang)["start"]),
    )
    add("epub/nav.xhtml", "nav.xhtml", "nav", labels_for(lang)["contents"], "nav", lang,
        nav=nav, landmarks=landmarks, page_list=page_list)
    # The contents page follows the cover in reading order.
    documents.insert(1, documents.pop())
    cover_image = Asset(
        name="images/cover.jpg", id="cover-image", media_type="image/jpeg",
        data=b"",  # drawn beside: see render_issue
    )
    return RenderedIssue(
        publication=publication, issue=issue, target="epub", metadata=meta, documents=tuple(documents),
        assets=(style_asset, *image_assets), nav=tuple(nav), cover=cover_image, landmarks=landmarks,
        page_list=tuple(page_list),
    )


def _section_lang(section, lang: str) -> str:
    """A section page's language: the edition's, unless every article of the section is in another one
    (a digest's section of another paper's articles)."""
    langs = [article.lang for article in section.articles if article.lang]
    if langs and all(primary(other) == primary(langs[0]) for other in langs) and primary(langs[0]) != primary(lang):
        return langs[0]
    return lang


class _TemplateTimeout(BaseException):
    """Raised by the timer inside a template render that ran past its time (a BaseException: Jinja's own
    ``except Exception`` while it folds constants must not swallow it)."""


@contextlib.contextmanager
def _deadline(seconds: float):
    """Raise :class:`_TemplateTimeout` in the main thread after ``seconds`` (a no-op elsewhere)."""
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _TemplateTimeout()

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer, interval = signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)  # and every half second until heard
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an enclosing timer keeps running, less what this render took
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001), interval)


def template_view(issue: Issue) -> Issue:
    """The issue as templates see it: values only, without the file paths of sources and pictures
    (a template can neither open them nor print where the user keeps their files)."""
    def article(value: Article) -> Article:
        blocks = tuple(b.model_copy(update={"image": b.image.model_copy(update={"path": None, "root": None})})
                       if isinstance(b, Figure) else b for b in value.blocks)
        return value.model_copy(update={"source_path": None, "blocks": blocks})

    def facsimile(value):
        if value is None:
            return None
        return value.model_copy(update={"picture": value.picture.model_copy(update={"path": None, "root": None}),
                                        "pdf": None, "pdf_root": None})

    sections = tuple(s.model_copy(update={"articles": tuple(article(a) for a in s.articles),
                                          "facsimile": facsimile(s.facsimile)}) for s in issue.sections)
    return issue.model_copy(update={"sections": sections})


def _article_key(article: Article) -> str:
    """What an article's cached XHTML is made of, as one string: its whole value, written as JSON.

    Not pydantic's ``model_dump_json``: serialising a str from Rust asks CPython for its UTF-8 form, which
    CPython then keeps inside the string for as long as it lives; for Chinese text that is 1.5 times the
    text again, held by the model through the whole build (365 MB for a digest of 50,000 articles).
    ``json.dumps`` with ASCII escapes reads the characters where they are and keeps nothing."""
    return json.dumps(article.model_dump(mode="json", warnings=False), ensure_ascii=True, separators=(",", ":"))


def _render(env, template: str, context: dict) -> str:
    """Render ``template``, bounded in time (``template_seconds``) and in size (``MAX_DOCUMENT_CHARS``)."""
    seconds = limits.current().template_seconds
    named = template  # the template's file, once it is found
    try:
        with _deadline(seconds):
            loaded = env.get_template(template)
            named = loaded.filename or template
            parts, size = [], 0
            ends = time.monotonic() + seconds if seconds and seconds > 0 else None
            for chunk in loaded.generate(context):
                size += len(chunk)
                if ends is not None and time.monotonic() > ends:  # where no timer can run (not the main thread)
                    raise _TemplateTimeout()
                if size > MAX_DOCUMENT_CHARS:
                    raise RenderError(f"template made more than {MAX_DOCUMENT_CHARS:,} characters of text for one "
                                      "document; stopped", named)
                parts.append(chunk)
            return "".join(parts)
    except _TemplateTimeout:
        raise RenderError(f"template ran longer than {seconds:g} s (template_seconds); stopped", named) from None
    except TemplateError as exc:
        where = getattr(exc, "filename", None) or named
        line = getattr(exc, "lineno", None)
        message = limits.cut(" ".join(str(exc).split()), 300)
        raise RenderError(f"template error: {message}", f"{where}:{line}" if line else where) from None
    except RecursionError:
        raise RenderError("template calls itself too deeply (recursion)", named) from None
    except (ArithmeticError, ValueError, TypeError, LookupError, AttributeError) as exc:
        # what a theme's own expressions raise ({{ 1 / 0 }}, a number too long to print …)
        message = limits.cut(" ".join(str(exc).split()), 300)
        raise RenderError(f"template error: {type(exc).__name__}: {message}", named) from None
    except MemoryError:
        raise RenderError("template ran out of memory; stopped", named) from None


def _check_glyphs(rendered: RenderedIssue, allow_missing: bool) -> None:
    """Stop on letters no installed font can draw (or, with ``allow_missing``, warn); pictographs (emoji,
    symbols) no font has are only warned about, naming the article: a picture in the text never stops a build."""
    chars: set[str] = set()  # the characters used, document by document (not the book's text in one string)
    for doc in rendered.documents:
        chars.update(_text_of(doc.content))
    missing = missing_characters("".join(chars))
    if not missing:
        return
    letters = [c for c in missing if not is_pictograph(c)]
    for group, fatal in ((letters, not allow_missing), ([c for c in missing if is_pictograph(c)], False)):
        if not group:
            continue
        message = describe_missing(group)
        where = next((a.source_path for a in rendered.issue.articles
                      if a.source_path and any(c in f"{a.title} {a.subtitle or ''} {a.kicker or ''} {a.byline or ''} "
                                                     f"{a.author_note or ''} {a.text}" for c in group)), None)
        if fatal:
            raise FontCoverageError(message + " (or build with --allow-missing-glyphs)", where)
        told = f"{where}: {message}" if where else message
        if told not in _TOLD:  # once, though the EPUB and the PDF both meet them
            _TOLD.add(told)
            logging.getLogger("broadsheet").warning("%s", told)


#: the warnings about missing glyphs given in this process
_TOLD: set[str] = set()


def _text_of(content: bytes) -> str:
    text = content.decode("utf-8")
    text = re.sub(r"<style\b.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"&[a-zA-Z]+;|&#\d+;", " ", text)
