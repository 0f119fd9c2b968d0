"""Markdown articles with YAML front matter (the native source format)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from ..config import FrontMatter, validate
from ..errors import ConfigError, IngestError
from ..model import Block, Heading
from .html import html_to_blocks

log = logging.getLogger("broadsheet")

SUFFIXES = {".md", ".markdown"}
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARSER = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})


@dataclass(frozen=True)
class MarkdownArticle:
    """A parsed Markdown file, before it is placed in an issue."""

    path: Path
    meta: FrontMatter
    body_html: str


def read_text(path: Path) -> str:
    """Read a UTF-8 text file; raise IngestError for binary or undecodable files."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror}", path) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\x00" in data:
            raise IngestError("binary file, not Markdown text", path) from None
        raise IngestError(f"not UTF-8 text (invalid byte at offset {exc.start})", path) from None
    controls = len(_CONTROLS.findall(text))
    if controls > max(8, len(text) // 20):
        raise IngestError("binary file, not Markdown text", path)
    if controls:
        log.warning("%s: %d control characters removed", path, controls)
        text = _CONTROLS.sub("", text)
    return text


def parse_markdown(path: Path) -> MarkdownArticle:
    """Split front matter from body and validate the front matter."""
    text = read_text(path)
    meta_data: object = {}
    match = _FRONT.match(text)
    if match:
        try:
            meta_data = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            raise ConfigError(f"malformed front matter{where}: {getattr(exc, 'problem', None) or exc}", path) from None
        text = text[match.end():]
    elif text.startswith("---"):
        raise ConfigError("malformed front matter: no closing '---' line", path)
    if not isinstance(meta_data, dict):
        raise ConfigError("malformed front matter: expected key: value pairs", path)
    meta = validate(FrontMatter, meta_data, path)
    return MarkdownArticle(path=path, meta=meta, body_html=_PARSER.render(text))


def title_from_body(blocks: tuple[Block, ...]) -> tuple[str | None, tuple[Block, ...]]:
    """Take a leading heading as the title when the front matter gives none (pandoc's rule)."""
    if blocks and isinstance(blocks[0], Heading):
        return blocks[0].content.text, blocks[1:]
    return None, blocks


__all__ = ["MarkdownArticle", "parse_markdown", "title_from_body", "html_to_blocks", "SUFFIXES", "read_text"]
