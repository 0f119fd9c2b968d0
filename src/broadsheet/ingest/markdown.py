"""Markdown articles with YAML front matter: the native source format."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from .. import limits
from ..config import FrontMatter, validate
from ..errors import ConfigError
from ..model import Article, Block, Heading, one_line
from .base import Context, Draft, DraftSection, guess_language, slug
from .encoding import read_text
from .html import html_to_blocks
from .images import ImageResolver

KIND = "markdown"
SUFFIXES = {".md", ".markdown"}
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARSER = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
#: libyaml's parser where PyYAML was built with it: the same safe constructor, many times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def detect(path: Path, head: bytes) -> int:
    return 90 if path.suffix.lower() in SUFFIXES else 0


#: The largest front matter read (metadata, never a document).
FRONT_MATTER_CHARS = 256 * 1024


def _check_yaml(text: str, path: Path) -> None:
    """Refuse front matter that could grow without bound once composed: anchors and aliases
    (a few hundred bytes of aliases make gigabytes), nesting deeper than ``document_depth``,
    more than :data:`FRONT_MATTER_CHARS`.  One linear pass over the parser's events."""
    if len(text) > FRONT_MATTER_CHARS:
        raise ConfigError(f"front matter of {len(text):,} characters: at most {FRONT_MATTER_CHARS:,} are read", path)
    limit = limits.current().document_depth
    try:
        _check_events(yaml.parse(text, Loader=_YAML_LOADER), limit, path)
    except yaml.YAMLError:
        return  # not YAML: _load_yaml says why, in PyYAML's words (nothing was composed, let alone built)


def _check_events(events, limit: int, path: Path) -> None:
    level = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            mark = event.start_mark
            where = f" (line {mark.line + 2})" if mark is not None else ""
            raise ConfigError(f"front matter{where}: YAML anchors and aliases (&, *) are not accepted", path)
        if isinstance(event, yaml.CollectionStartEvent):
            level += 1
            if level > limit:
                raise ConfigError(f"front matter nested more than {limit} levels deep", path)
        elif isinstance(event, yaml.CollectionEndEvent):
            level -= 1


def _load_yaml(text: str) -> object:
    """Read YAML with libyaml; what it refuses is read again by PyYAML's own parser.

    Both make values with the same safe constructor.  What PyYAML's parser accepts is still
    accepted, and a fault is told in its words and with its line numbers; nesting too deep
    for PyYAML (a RecursionError) is refused with libyaml's fault.
    """
    try:
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        if _YAML_LOADER is yaml.SafeLoader:
            raise
        try:
            return yaml.safe_load(text)
        except RecursionError:
            raise error from None


def parse_front_matter(text: str, path: Path) -> tuple[FrontMatter, str]:
    """Split and validate the front matter; return it with the Markdown body."""
    meta_data: object = {}
    match = _FRONT.match(text)
    if match:
        try:
            _check_yaml(match.group(1), path)
            meta_data = _load_yaml(match.group(1)) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            problem = limits.cut(str(getattr(exc, "problem", None) or exc))
            raise ConfigError(f"malformed front matter{where}: {problem}", path) from None
        text = text[match.end():]
    elif text.startswith("---\n") or text.startswith("---\r\n"):
        raise ConfigError("malformed front matter: no closing '---' line", path)
    if not isinstance(meta_data, dict):
        raise ConfigError("malformed front matter: expected key: value pairs", path)
    return validate(FrontMatter, meta_data, path), text


def title_from_body(blocks: tuple[Block, ...]) -> tuple[str | None, tuple[Block, ...]]:
    """Take a leading heading as the title when the front matter gives none (pandoc's rule)."""
    if blocks and isinstance(blocks[0], Heading):
        return blocks[0].content.text, blocks[1:]
    return None, blocks


def load(path: Path, ctx: Context) -> list[Draft]:
    text = read_text(path, ctx.root)
    controls = len(_CONTROLS.findall(text))
    if controls:
        from .base import log

        log.warning("%s: %d control characters removed", path, controls)
        text = _CONTROLS.sub("", text)
    meta, body = parse_front_matter(text, path)
    blocks = html_to_blocks(_PARSER.render(body), ImageResolver(path, ctx.root, remote=ctx.allow_remote,
                                                                remote_hosts=ctx.remote_hosts), path)
    title = one_line(meta.title) if meta.title is not None else None  # "\n" or "\u0007": no title
    if title is None:
        title, blocks = title_from_body(blocks)
    if not title:
        raise ConfigError("title: missing (give it in the front matter or as a leading # heading)", path)
    language = meta.lang or ctx.language or guess_language(title + " " + body[:4000])
    try:
        article = Article(
            id=meta.id or slug(path.stem) or "article",
            title=title, lang=language, subtitle=meta.subtitle, kicker=meta.kicker, authors=meta.author_list,
            byline=meta.byline, author_note=meta.author_note, dateline=meta.dateline, tags=meta.tags,
            source=meta.source, source_path=path, blocks=blocks, lead=meta.lead,
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"invalid article: {exc}", path) from None
    page = str(meta.page) if meta.page is not None else None
    return [Draft(
        source=path, kind=KIND, language=language, date=meta.date,
        sections=[DraftSection(name=meta.section, page=page, articles=[article])],
        order=(meta.order if meta.order is not None else 10**9, path.name),
    )]
