"""Configuration files: broadsheet.toml, issue.toml and article front matter.

Each is a pydantic schema that forbids unknown keys; :func:`validate` turns a validation
failure into a :class:`ConfigError` naming the file, the dotted key and the value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, ValidationError, field_validator,
                      model_validator)

from . import limits
from .limits import read_toml  # noqa: F401  (the configuration's reader, within the limits)
from .errors import ConfigError
from .paper import LENGTH_RE, PageSize, parse_size, to_mm
from .names import (CONVERSIONS, EPUB_PROFILES, FACSIMILE_MODES, IMPOSITIONS, MARKS, PDF_LAYOUTS, PDF_VARIANTS,
                    WRITING_MODES)

CONFIG_NAME = "broadsheet.toml"
ISSUE_NAME = "issue.toml"

class _Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicationConfig(_Schema):
    title: str | None = Field(default=None, min_length=1)
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    publisher: str | None = None
    id: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")


def _page_size(value: object) -> PageSize | None:
    """A page size, parsed here once from its name (``A4``, ``tabloid``, ``210mmx297mm``)."""
    if value is None or isinstance(value, PageSize):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {limits.quote(value)}")
    return PageSize.parse(value)


PageSizeValue = Annotated[PageSize | None, PlainValidator(_page_size),
                          PlainSerializer(lambda value: None if value is None else str(value))]


class PdfConfig(_Schema):
    """Print settings: [pdf] in broadsheet.toml, or the matching command-line options."""

    page_size: PageSizeValue = None  # None: the theme's choice (theme.toml page_size), else A4
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

    @field_validator("bleed")
    @classmethod
    def _length(cls, value: str) -> str:
        if value.strip().startswith("-") and LENGTH_RE.match(value.strip()[1:].strip()):
            raise ValueError(f"a bleed must not be negative, got {limits.quote(value)}")
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


#: The environment variable that holds the SMTP password (the only place a password is read from).
PASSWORD_ENV = "BROADSHEET_SMTP_PASSWORD"


class DeliveryConfig(_Schema):
    """E-mail delivery: [delivery] in broadsheet.toml or a digest recipe (``broadsheet send``,
    ``digest --send``), or the matching command-line options.  No password: see :data:`PASSWORD_ENV`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    smtp: str | None = None  # smtp+starttls://user@host:587, smtps://user@host:465, smtp://host:25
    sender: str | None = Field(default=None, alias="from")
    cafile: str | None = None  # a private CA's certificates (PEM), relative to the file; else the system's
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")  # where editions too big to mail are
    max_size: str = "25MB"  # the largest attachment for an address without its own limit below
    domain_max_size: dict[str, str] = {}  # per recipient domain, over {"kindle.com": "50MB", "free.kindle.com": …}
    rate: str | None = None  # at most this many messages, e.g. "30/min"
    attempts: int = Field(default=5, ge=1, le=50)  # tries of one message against temporary failures
    backoff: float = Field(default=30.0, gt=0, le=3600)  # seconds before the second try, doubled after each
    timeout: float = Field(default=60.0, gt=0, le=3600)  # seconds one network operation may take
    lease: float = Field(default=900.0, ge=1, le=86400)  # seconds a claimed message is another run's to send

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(str(key).lower() in ("password", "pass", "secret") for key in data):
            raise ValueError(f"a password is never read from a file (got a password key, not repeated here): "
                             f"set {PASSWORD_ENV} in the environment")
        return data

    @field_validator("smtp")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        from .deliver.address import parse_smtp_url

        if value is not None:
            parse_smtp_url(value)
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        from .deliver.address import check_sender

        return None if value is None else check_sender(value)

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        from .deliver.address import parse_rate

        if value is not None:
            parse_rate(value)
        return value

    @field_validator("max_size")
    @classmethod
    def _max_size(cls, value: str) -> str:
        parse_size(value)
        return value

    @field_validator("domain_max_size")
    @classmethod
    def _domain_sizes(cls, value: dict[str, str]) -> dict[str, str]:
        for domain, size in value.items():
            if not re.fullmatch(r"[a-z0-9.-]+", domain):
                raise ValueError(f"expected a lower-case domain such as kindle.com, got {limits.quote(domain)}")
            parse_size(size)
        return value


#: ``--cluster`` and [cluster] address: a local cluster of N workers, or a running dask scheduler.
_CLUSTER_RE = re.compile(r"local(?::(?P<workers>[0-9]{1,3}))?|tcp://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
                         r":(?P<port>[0-9]{1,5})")


class ClusterConfig(_Schema):
    """Where builds run (``--cluster``, [cluster] in broadsheet.toml or a recipe): ``address`` is
    ``local``, ``local:N`` (a Dask LocalCluster of N workers) or ``tcp://HOST:PORT`` (a running
    ``dask scheduler``); ``timeout``, the seconds to wait for the scheduler and its first worker."""

    address: str | None = None
    timeout: float = Field(default=10, gt=0, le=3600)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = _CLUSTER_RE.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"expected local, local:N or tcp://HOST:PORT, got {limits.quote(value)}")
        if found["workers"] is not None and not 1 <= int(found["workers"]) <= 256:
            raise ValueError(f"a local cluster has 1 to 256 workers, got {limits.quote(value)}")
        if found["port"] is not None and not 1 <= int(found["port"]) <= 65535:
            raise ValueError(f"a port is 1 to 65535, got {limits.quote(value)}")
        return value.strip()


class BroadsheetConfig(_Schema):
    """The contents of broadsheet.toml."""

    theme: str = "default"
    convert: Conversion | None = None  # 简繁 (OpenCC)
    keep_punctuation: bool = False  # keep the ASCII , : ; ? ! ( ) between Chinese characters (typography.py)
    facsimile: Literal[FACSIMILE_MODES] = "pages"  # page facsimiles (版面图), where the source has them
    publication: PublicationConfig = PublicationConfig()
    pdf: PdfConfig = PdfConfig()
    epub: EpubConfig = EpubConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    cluster: ClusterConfig = ClusterConfig()


@dataclass(frozen=True)
class Overrides:
    """What the command line (or a caller of the API) says over every edition's own settings.

    ``pdf`` and ``epub`` hold only the keys given (``model_fields_set``); the rest of each edition's
    [pdf] and [epub] stays its own.  Made once, validated once (:meth:`given`).
    """

    theme: str | None = None
    convert: Conversion | None = None
    pdf: PdfConfig = PdfConfig()
    epub: EpubConfig = EpubConfig()
    allow_missing_glyphs: bool = False
    keep_punctuation: bool = False
    facsimile: str | None = None  # one of names.FACSIMILE_MODES
    cluster: ClusterConfig | None = None  # --cluster: where the build runs (cluster.py)

    @classmethod
    def given(cls, *, theme: str | None = None, convert: str | None = None, pdf: dict | None = None,
              epub: dict | None = None, allow_missing_glyphs: bool = False, keep_punctuation: bool = False,
              facsimile: str | None = None, cluster: str | None = None,
              where: Path = Path("command line")) -> Overrides:
        """Validate what was given (``None`` values are not given) under the name ``where``."""
        def given_only(values: dict | None) -> dict:
            return {key: value for key, value in (values or {}).items() if value is not None}

        top = validate(BroadsheetConfig, given_only({"convert": convert, "facsimile": facsimile}), where)
        return cls(theme=theme, convert=top.convert, facsimile=facsimile and top.facsimile,
                   pdf=validate(PdfConfig, given_only(pdf), where), epub=validate(EpubConfig, given_only(epub), where),
                   allow_missing_glyphs=allow_missing_glyphs, keep_punctuation=keep_punctuation,
                   cluster=None if cluster is None else validate(ClusterConfig, {"address": cluster}, where))

    def over(self, config: BroadsheetConfig) -> BroadsheetConfig:
        """``config`` with what was given put over it."""
        return config.model_copy(update={
            "theme": self.theme or config.theme,
            "convert": self.convert or config.convert,
            "keep_punctuation": self.keep_punctuation or config.keep_punctuation,
            "facsimile": self.facsimile or config.facsimile,
            "pdf": _over(config.pdf, self.pdf),
            "epub": _over(config.epub, self.epub),
        })


def _over(own: S, given: S) -> S:
    return own.model_copy(update={key: getattr(given, key) for key in given.model_fields_set}) \
        if given.model_fields_set else own


class SectionEntry(_Schema):
    name: str = Field(min_length=1)
    page: str | None = None
    #: the section's page picture (版面图), relative to the issue folder; its regions in a TOML file beside
    #: it of the same name (``pages/15.jpg`` → ``pages/15.toml``, see :class:`FacsimileRegions`)
    facsimile: str | None = Field(default=None, min_length=1)


class RegionEntry(_Schema):
    """One ``[[region]]`` of a facsimile's regions file."""

    article: str = Field(pattern=r"^[a-z][a-z0-9-]*$")  # the article's id (front matter ``id``, else its file's)
    shape: Literal["polygon", "rect", "circle"] = "polygon"
    coords: tuple[int, ...]

    @model_validator(mode="after")
    def _coords(self) -> RegionEntry:
        wanted = {"rect": 4, "circle": 3}.get(self.shape)
        if wanted is not None and len(self.coords) != wanted:
            raise ValueError(f"a {self.shape} takes {wanted} coordinates, got {len(self.coords)}")
        if self.shape == "polygon" and (len(self.coords) < 6 or len(self.coords) % 2):
            raise ValueError(f"a polygon takes pairs of coordinates, three points or more; got {len(self.coords)}")
        return self


class FacsimileRegions(_Schema):
    """A page picture's regions file (``pages/15.toml`` beside ``pages/15.jpg``), coordinates in its pixels."""

    region: tuple[RegionEntry, ...] = ()


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
    lead: bool = False

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


def load_config(path: Path, root: Path | None = None) -> BroadsheetConfig:
    """Load broadsheet.toml (or return the defaults when ``path`` does not exist)."""
    if not path.exists():
        return BroadsheetConfig()
    return validate(BroadsheetConfig, read_toml(path, root), path)


def load_issue_config(path: Path, root: Path | None = None) -> IssueConfig:
    if not path.exists():
        return IssueConfig()
    return validate(IssueConfig, read_toml(path, root), path)
