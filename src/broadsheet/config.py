"""Configuration files: broadsheet.toml, issue.toml and article front matter.

Each is a pydantic schema that forbids unknown keys; :func:`validate` turns a validation
failure into a :class:`ConfigError` naming the file, the dotted key and the value.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

CONFIG_NAME = "broadsheet.toml"
ISSUE_NAME = "issue.toml"

PAGE_SIZES: dict[str, tuple[str, str]] = {
    "A3": ("297mm", "420mm"),
    "A4": ("210mm", "297mm"),
    "A5": ("148mm", "210mm"),
    "B5": ("176mm", "250mm"),
    "LETTER": ("8.5in", "11in"),
    "LEGAL": ("8.5in", "14in"),
}
_LENGTH = r"\d+(?:\.\d+)?(?:mm|cm|in|pt|px)"
_CUSTOM_SIZE = re.compile(rf"^({_LENGTH})\s*[xX×]\s*({_LENGTH})$")


def page_dimensions(page_size: str) -> tuple[str, str]:
    """Return the CSS width and height of a page size preset or ``WIDTHxHEIGHT``."""
    preset = PAGE_SIZES.get(page_size.upper())
    if preset:
        return preset
    match = _CUSTOM_SIZE.match(page_size.strip())
    if not match:
        raise ValueError(
            f"expected one of {', '.join(PAGE_SIZES)} or WIDTHxHEIGHT such as 210mmx297mm, got {page_size!r}"
        )
    return match.group(1), match.group(2)


class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicationConfig(_Schema):
    title: str | None = Field(default=None, min_length=1)
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    publisher: str | None = None
    id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")


class PdfConfig(_Schema):
    page_size: str = "A4"

    @field_validator("page_size")
    @classmethod
    def _known_size(cls, value: str) -> str:
        page_dimensions(value)
        return value


class BroadsheetConfig(_Schema):
    """The contents of broadsheet.toml."""

    theme: str = "default"
    publication: PublicationConfig = PublicationConfig()
    pdf: PdfConfig = PdfConfig()


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
    last = key.rsplit(".", 1)[-1]
    if kind == "string_pattern_mismatch" and last in _FORMS:
        message = f"expected {_FORMS[last]}"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "got " in message:
        return f"{key}: {message}"
    return f"{key}: {message}, got {value!r}"


_FORMS = {
    "id": "lowercase ASCII letters, digits and hyphens, starting with a letter",
    "language": "a BCP 47 language tag such as zh-CN or en-GB",
    "lang": "a BCP 47 language tag such as zh-CN or en-GB",
}
_EXPECTED = (
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


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; raise ConfigError with the line of a syntax error."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path) from None


def load_config(path: Path) -> BroadsheetConfig:
    """Load broadsheet.toml (or return the defaults when ``path`` does not exist)."""
    if not path.exists():
        return BroadsheetConfig()
    return validate(BroadsheetConfig, read_toml(path), path)


def load_issue_config(path: Path) -> IssueConfig:
    if not path.exists():
        return IssueConfig()
    return validate(IssueConfig, read_toml(path), path)
