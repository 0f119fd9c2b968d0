"""Ingest: turn a source on disk into the chapter model.

A source is a publication folder (``broadsheet.toml`` and one folder per issue), an issue
folder (``issue.toml`` and Markdown files), a plain folder of Markdown files, or a single
Markdown file.  Every fault names the file it was found in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..config import CONFIG_NAME, ISSUE_NAME, BroadsheetConfig, IssueConfig, load_config, load_issue_config
from ..errors import ConfigError, IngestError
from ..model import Article, Issue, Publication, Section
from .html import html_to_blocks
from .images import ImageResolver
from .markdown import SUFFIXES, MarkdownArticle, parse_markdown, title_from_body

log = logging.getLogger("broadsheet")

_DATE_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class Edition:
    """A loaded source: the model, the configuration it came with, and its folder."""

    publication: Publication
    config: BroadsheetConfig
    root: Path
    config_path: Path | None


def load_edition(source: Path, *, title: str | None = None) -> Edition:
    """Load one source into an Edition; raise IngestError or ConfigError on bad input."""
    if not source.exists():
        raise IngestError("no such file or folder", source)
    if source.is_file():
        if source.suffix.lower() not in SUFFIXES:
            raise IngestError("unknown source format (expected a folder or a .md file)", source)
        root = source.parent
        config_path = _find_config(root)
        issue_dirs: list[tuple[Path, list[Path]]] = [(root, [source])]
    else:
        root = source
        config_path = _find_config(source)
        issue_dirs = _issue_folders(source)
        if not issue_dirs:
            raise IngestError("no articles found: expected Markdown (.md) files", source)
    config = load_config(config_path) if config_path else BroadsheetConfig()
    if config_path and config_path.parent != root and root.is_relative_to(config_path.parent):
        root = config_path.parent

    parsed = [(folder, [parse_markdown(p) for p in files]) for folder, files in issue_dirs]
    pub_cfg = config.publication
    language = pub_cfg.language or _guess_language(parsed)
    issues = tuple(
        _build_issue(folder, articles, language, root, source if source.is_file() else None)
        for folder, articles in parsed
    )
    pub_title = title or pub_cfg.title or _default_title(source, issues)
    issues = tuple(sorted(issues, key=lambda i: (i.date or dt.date.min, i.number or "")))
    publication = Publication(
        id=pub_cfg.id or _slug(pub_title) or "p" + hashlib.sha256(pub_title.encode()).hexdigest()[:10],
        title=pub_title,
        language=language,
        publisher=pub_cfg.publisher,
        issues=issues,
    )
    return Edition(publication=publication, config=config, root=root, config_path=config_path)


def _find_config(folder: Path) -> Path | None:
    for candidate in (folder / CONFIG_NAME, folder.parent / CONFIG_NAME):
        if candidate.is_file() and (candidate.parent == folder or (folder / ISSUE_NAME).is_file()):
            return candidate
    return None


def _markdown_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def _issue_folders(source: Path) -> list[tuple[Path, list[Path]]]:
    own = _markdown_files(source)
    if own or (source / ISSUE_NAME).is_file():
        return [(source, own)] if own else []
    found = []
    for child in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = _markdown_files(child)
        if files:
            found.append((child, files))
        elif (child / ISSUE_NAME).is_file():
            raise IngestError("issue has no articles (no .md files)", child / ISSUE_NAME)
    return found


def _build_issue(
    folder: Path, articles: list[MarkdownArticle], language: str, root: Path, single: Path | None
) -> Issue:
    issue_cfg_path = folder / ISSUE_NAME
    issue_cfg = load_issue_config(issue_cfg_path)
    declared = issue_cfg.section_entries
    pages = {entry.name: entry.page for entry in declared}

    ordered = sorted(articles, key=lambda a: (a.meta.order if a.meta.order is not None else 10**9, a.path.name))
    used_ids: set[str] = set()
    grouped: dict[str, list[Article]] = {}
    default_section = "文章" if language.lower().startswith(("zh", "ja")) else "Articles"
    for index, item in enumerate(ordered, start=1):
        meta = item.meta
        section = meta.section or (declared[0].name if len(declared) == 1 else default_section)
        page = str(meta.page) if meta.page is not None else None
        if page is not None:
            known = pages.get(section)
            if known is not None and known != page:
                raise ConfigError(
                    f"page: {page!r} differs from page {known!r} that {ISSUE_NAME} gives section {section!r}", item.path
                )
            pages[section] = page
        article_id = _unique(meta.id or _slug(item.path.stem) or f"a{index:03d}", used_ids, item.path)
        resolver = ImageResolver(item.path, root, article_id)
        blocks = html_to_blocks(item.body_html, resolver)
        title = meta.title
        if title is None:
            title, blocks = title_from_body(blocks)
        if not title:
            raise ConfigError("title: missing (give it in the front matter or as a leading # heading)", item.path)
        try:
            article = Article(
                id=article_id,
                title=title,
                lang=meta.lang or language,
                subtitle=meta.subtitle,
                kicker=meta.kicker,
                authors=meta.author_list,
                byline=meta.byline,
                author_note=meta.author_note,
                dateline=meta.dateline,
                tags=meta.tags,
                source=meta.source,
                source_path=item.path,
                blocks=blocks,
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ConfigError(f"invalid article: {exc}", item.path) from None
        grouped.setdefault(section, []).append(article)

    order = [entry.name for entry in declared if entry.name in grouped]
    rest = sorted((name for name in grouped if name not in order), key=lambda n: (_page_key(pages.get(n)), n))
    sections = tuple(
        Section(id=f"s{number:02d}", name=name, page=pages.get(name), articles=tuple(grouped[name]))
        for number, name in enumerate(order + rest, start=1)
    )
    date = issue_cfg.date or _date_from(single.stem if single else folder.name) or _earliest(articles)
    return Issue(date=date, number=issue_cfg.number, edition=issue_cfg.edition, sections=sections)


def _page_key(page: str | None) -> tuple:
    if page is None:
        return (1, "", 0)
    match = re.match(r"^([A-Za-z]*)(\d+)$", page)
    return (0, match.group(1).upper(), int(match.group(2))) if match else (0, page, 0)


def _unique(candidate: str, used: set[str], path: Path) -> str:
    value, n = candidate, 2
    while value in used:
        value = f"{candidate}-{n}"
        n += 1
    used.add(value)
    return value


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:48].strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)
    return slug


def _date_from(name: str) -> dt.date | None:
    match = _DATE_NAME.search(name)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _earliest(articles: list[MarkdownArticle]) -> dt.date | None:
    dates = [a.meta.date for a in articles if a.meta.date is not None]
    return min(dates) if dates else None


def _default_title(source: Path, issues: tuple[Issue, ...]) -> str:
    if source.is_file():
        return issues[0].articles[0].title
    name = (source if source.is_dir() else source.parent).resolve().name
    return name.replace("-", " ").replace("_", " ").strip() or "broadsheet"


def _guess_language(parsed: list[tuple[Path, list[MarkdownArticle]]]) -> str:
    sample = "".join(a.body_html[:4000] + (a.meta.title or "") for _, arts in parsed for a in arts)
    han = len(re.findall(r"[\u4e00-\u9fff]", sample))
    kana = len(re.findall(r"[\u3040-\u30ff]", sample))
    hangul = len(re.findall(r"[\uac00-\ud7af]", sample))
    letters = len(re.findall(r"[A-Za-z]", sample))
    if kana > 0 and kana + han > letters / 4:
        return "ja"
    if hangul > letters / 4 and hangul > han:
        return "ko"
    if han > letters / 4:
        return "zh-CN"
    return "en"
