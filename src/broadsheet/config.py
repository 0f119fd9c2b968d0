"""Configuration files: broadsheet.toml, issue.toml and article front matter.

Each is a pydantic schema that forbids unknown keys; :func:`validate` turns a validation
failure into a :class:`ConfigError` naming the file, the dotted key and the value.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from . import limits
from .errors import ConfigError
from .names import CONVERSIONS, EPUB_PROFILES, IMPOSITIONS, MARKS, PDF_LAYOUTS, PDF_VARIANTS, WRITING_MODES

CONFIG_NAME = "broadsheet.toml"
ISSUE_NAME = "issue.toml"

PAGE_SIZES: dict[str, tuple[str, str]] = {
    "A3": ("297mm", "420mm"),
    "A4": ("210mm", "297mm"),
    "A5": ("148mm", "210mm"),
    "B5": ("176mm", "250mm"),
    "LETTER": ("8.5in", "11in"),
    "LEGAL": ("8.5in", "14in"),
    # Newspaper formats (trimmed page, portrait).
    "TABLOID": ("280mm", "430mm"),
    "BERLINER": ("315mm", "470mm"),
    "BROADSHEET": ("375mm", "597mm"),
    "SIKAI": ("270mm", "390mm"),  # 四开, e.g. 参考消息
    "DUIKAI": ("390mm", "540mm"),  # 对开, e.g. 人民日报
}
PAGE_ALIASES = {"四开": "SIKAI", "对开": "DUIKAI", "對開": "DUIKAI", "US-LETTER": "LETTER", "COMPACT": "TABLOID"}
#: (top, outer, bottom, inner) margins per preset; custom sizes scale from A4's.
PAGE_MARGINS: dict[str, tuple[str, str, str, str]] = {
    "A5": ("15mm", "14mm", "18mm", "16mm"),
    "B5": ("17mm", "15mm", "20mm", "17mm"),
    "A4": ("20mm", "17mm", "22mm", "19mm"),
    "LETTER": ("0.8in", "0.7in", "0.9in", "0.75in"),
    "LEGAL": ("0.8in", "0.7in", "0.9in", "0.75in"),
    "A3": ("22mm", "18mm", "24mm", "18mm"),
    "TABLOID": ("18mm", "14mm", "20mm", "14mm"),
    "BERLINER": ("18mm", "14mm", "20mm", "14mm"),
    "BROADSHEET": ("20mm", "15mm", "22mm", "15mm"),
    "SIKAI": ("16mm", "13mm", "18mm", "13mm"),
    "DUIKAI": ("20mm", "15mm", "22mm", "15mm"),
}
LENGTH_RE = re.compile(r"^\d+(?:\.\d+)?(?:mm|cm|in|pt|px)$")
_LENGTH = r"\d+(?:\.\d+)?(?:mm|cm|in|pt|px)"
_CUSTOM_SIZE = re.compile(rf"^({_LENGTH})\s*[xX×]\s*({_LENGTH})$")


def _preset(page_size: str) -> str | None:
    key = page_size.strip().upper()
    key = PAGE_ALIASES.get(page_size.strip(), PAGE_ALIASES.get(key, key))
    return key if key in PAGE_SIZES else None


def page_dimensions(page_size: str) -> tuple[str, str]:
    """Return the CSS width and height of a page size preset or ``WIDTHxHEIGHT``."""
    preset = _preset(page_size)
    if preset:
        return PAGE_SIZES[preset]
    match = _CUSTOM_SIZE.match(page_size.strip())
    if not match:
        names = ", ".join(n.title() if len(n) > 2 else n for n in PAGE_SIZES)
        raise ValueError(f"expected one of {names} or WIDTHxHEIGHT such as 210mmx297mm, got {limits.quote(page_size)}")
    return match.group(1), match.group(2)


def page_margins(page_size: str) -> tuple[str, str, str, str]:
    """Return (top, outer, bottom, inner) margins for a page size."""
    preset = _preset(page_size)
    return PAGE_MARGINS.get(preset or "A4", PAGE_MARGINS["A4"])


def to_mm(length: str) -> float:
    """Convert a CSS absolute length to millimetres."""
    match = re.match(r"^(\d+(?:\.\d+)?)(mm|cm|in|pt|px)$", length.strip())
    if not match:
        raise ValueError(f"expected a CSS length such as \"3mm\", got {limits.quote(length)}")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"mm": 1, "cm": 10, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}[unit]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicationConfig(_Schema):
    title: str | None = Field(default=None, min_length=1)
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    publisher: str | None = None
    id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")


class PdfConfig(_Schema):
    """Print settings: [pdf] in broadsheet.toml, or the matching command-line options."""

    page_size: str | None = None  # the theme's choice (theme.toml page_size), else A4
    bleed: str = "0mm"
    marks: tuple[str, ...] = ()
    variant: str | None = None
    impose: Literal[IMPOSITIONS] | None = None
    grayscale: bool = False
    # A source may lower these, never raise them (see limits.capped); None: the machine's limit.
    timeout: float | None = Field(default=None, gt=0, le=86400)  # seconds one PDF layout may take
    memory_mb: int | None = Field(default=None, ge=256)  # address space of each layout process
    jobs: int | None = Field(default=None, ge=1, le=256)  # layout processes at once; None: one per core
    layout: Literal[PDF_LAYOUTS] = "sections"  # lay sections out apart (and in parallel), or all at once

    @field_validator("page_size")
    @classmethod
    def _known_size(cls, value: str | None) -> str | None:
        if value is not None:
            page_dimensions(value)
        return value

    @field_validator("bleed")
    @classmethod
    def _length(cls, value: str) -> str:
        if not LENGTH_RE.match(value.strip()):
            raise ValueError(f'expected a CSS length such as "3mm", got {limits.quote(value)}')
        if to_mm(value) > 25:
            raise ValueError(f"a bleed of more than 25mm is not a bleed, got {limits.quote(value)}")
        return value.strip()

    @field_validator("marks")
    @classmethod
    def _marks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in value if m not in MARKS]
        if unknown:
            raise ValueError(f"expected marks from {', '.join(MARKS)}, got {limits.quote(unknown[0])}")
        return tuple(dict.fromkeys(value))

    @field_validator("variant")
    @classmethod
    def _variant(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in PDF_VARIANTS:
            raise ValueError(f"expected one of {', '.join(PDF_VARIANTS)}, got {limits.quote(value)}")
        return value.lower() if value else None




Conversion = Literal[CONVERSIONS]
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|K|M|G|B)?\s*$", re.I)


def parse_size(value: str) -> int:
    """Return a byte count from ``25MB``, ``800KB``, ``1.5GB`` or plain bytes."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"expected a size such as 25MB, got {limits.quote(value)}")
    unit = (match.group(2) or "B").upper().rstrip("B") or "B"
    return int(float(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit])


class EpubConfig(_Schema):
    """E-reader settings: [epub] in broadsheet.toml, or the matching command-line options."""

    profile: Literal[EPUB_PROFILES] = "generic"
    max_image_px: int = Field(default=1600, ge=200, le=8000)
    jpeg_quality: int = Field(default=80, ge=30, le=95)
    grayscale: bool = False
    max_size: str | None = None
    embed_fonts: bool = False
    writing_mode: Literal[WRITING_MODES] = "horizontal"

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None:
            parse_size(value)
        return value

    @property
    def max_bytes(self) -> int | None:
        return parse_size(self.max_size) if self.max_size else None


class BroadsheetConfig(_Schema):
    """The contents of broadsheet.toml."""

    theme: str = "default"
    convert: Conversion | None = None  # 简繁 (OpenCC)
    publication: PublicationConfig = PublicationConfig()
    pdf: PdfConfig = PdfConfig()
    epub: EpubConfig = EpubConfig()


class SectionEntry(_Schema):
    name: str = Field(min_length=1)
    page: str | None = None


class IssueConfig(_Schema):
    """The contents of issue.toml."""

    date: dt.date | None = None
    number: str | None = None
    edition: str | None = None
    sections: tuple[SectionEntry | str, ...] = ()

    @property
    def section_entries(self) -> tuple[SectionEntry, ...]:
        return tuple(SectionEntry(name=s) if isinstance(s, str) else s for s in self.sections)


class FrontMatter(_Schema):
    """The YAML front matter of a Markdown article."""

    title: str | None = Field(default=None, min_length=1)
    subtitle: str | None = None
    kicker: str | None = None
    authors: tuple[str, ...] | str = ()
    byline: str | None = None
    author_note: str | None = None
    dateline: str | None = None
    date: dt.date | None = None
    section: str | None = None
    page: str | int | None = None
    order: int | None = None
    tags: tuple[str, ...] = ()
    id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    lang: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    source: str | None = None

    @property
    def author_list(self) -> tuple[str, ...]:
        if isinstance(self.authors, str):
            return tuple(a.strip() for a in re.split(r"[,，、;；]", self.authors) if a.strip())
        return self.authors


S = TypeVar("S", bound=BaseModel)


def validate(schema: type[S], data: Any, path: Path) -> S:
    """Validate ``data`` against ``schema``; raise ConfigError naming the file and key."""
    if not isinstance(data, dict):
        raise ConfigError(f"expected a table of keys, got {type(data).__name__}", path)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0]), path) from None


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"] if not isinstance(part, int)) or "(top)"
    # Union members add their type name to the location; keep only the user's key path.
    key = re.sub(r"\.(str|int|tuple\[str, \.\.\.\]|SectionEntry|date)(?=\.|$)", "", key)
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    value = error.get("input")
    kind = error["type"]
    message = next((text for prefix, text in _EXPECTED if kind.startswith(prefix)), None) or error["msg"]
    if kind == "literal_error":
        message = f"expected {error.get('ctx', {}).get('expected', 'another value')}"
    last = key.rsplit(".", 1)[-1]
    if kind == "string_pattern_mismatch" and last in _FORMS:
        message = f"expected {_FORMS[last]}"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "got " in message:
        return f"{key}: {limits.cut(message, 2 * limits.current().quote_chars)}"
    return f"{key}: {message}, got {limits.quote(value)}"


_FORMS = {
    "id": "lowercase ASCII letters, digits and hyphens, starting with a letter",
    "language": "a BCP 47 language tag such as zh-CN or en-GB",
    "lang": "a BCP 47 language tag such as zh-CN or en-GB",
}
_EXPECTED = (
    ("literal_error", "expected another value"),
    ("string_pattern_mismatch", "has the wrong form"),
    ("string_too_short", "must not be empty"),
    ("tuple", "expected a list"),
    ("list", "expected a list"),
    ("string", "expected text"),
    ("int", "expected a whole number"),
    ("date", "expected a date such as 2024-05-01"),
    ("datetime", "expected a date such as 2024-05-01"),
    ("bool", "expected true or false"),
    ("model", "expected a table of keys"),
    ("dict", "expected a table of keys"),
)


#: The largest TOML file read (a configuration, never a document).
TOML_BYTES = 1024 * 1024


def read_toml(path: Path, root: Path | None = None) -> dict[str, Any]:
    """Read a TOML file (only from inside ``root`` when given, see ``files``); raise ConfigError
    with the line of a syntax error.

    A file larger than :data:`TOML_BYTES` or nested deeper than ``document_depth`` is refused
    (nesting is counted before parsing: tomllib recurses once per level).
    """
    from .files import open_inside

    try:
        with (open_inside(path, root) if root is not None else path.open("rb")) as handle:
            data = handle.read(TOML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path) from None
    return parse_toml(data, path)


def parse_toml(data: bytes, path: Path) -> dict[str, Any]:
    """Parse TOML bytes (see :func:`read_toml`)."""
    if len(data) > TOML_BYTES:
        raise ConfigError(f"larger than {TOML_BYTES // 1024} KB: not a configuration file", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path) from None
    depth = limits.current().document_depth
    if _nesting(text, depth) > depth:
        raise ConfigError(f"nested more than {depth} levels deep", path)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {limits.cut(str(exc))}", path) from None
    except RecursionError:
        raise ConfigError(f"nested more than {depth} levels deep", path) from None
    if limits.depth(value, depth) > depth:  # dotted keys nest without brackets
        raise ConfigError(f"nested more than {depth} levels deep", path)
    return value


# numbers with a fraction (0.5, 1_000.25e3, the seconds of 12:30:00.5) first: their dot nests nothing
_TOML_TOKENS = re.compile(r"""\d[\d_]*\.\d[\d_]*(?:[eE][+-]?\d+)?|[\[\]{}.\n]|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|#[^\n]*""")


def _nesting(text: str, limit: int) -> int:
    """How deeply TOML text nests, counted without parsing (an upper bound).

    Brackets and braces outside strings and comments, and the dots of one line (a dotted
    key ``a.b.c`` nests as deep as its parts).
    """
    if text.count("[") + text.count("{") + text.count(".") <= limit:
        return 0
    deepest = level = dots = 0
    for token in _TOML_TOKENS.finditer(text):
        char = token.group(0)
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level = max(0, level - 1)
        elif char == ".":  # a number's dot is part of its own token
            dots += 1
            deepest = max(deepest, dots)
        elif char == "\n":
            dots = 0
    return deepest


def load_config(path: Path, root: Path | None = None) -> BroadsheetConfig:
    """Load broadsheet.toml (or return the defaults when ``path`` does not exist)."""
    if not path.exists():
        return BroadsheetConfig()
    return validate(BroadsheetConfig, read_toml(path, root), path)


def load_issue_config(path: Path, root: Path | None = None) -> IssueConfig:
    if not path.exists():
        return IssueConfig()
    return validate(IssueConfig, read_toml(path, root), path)
