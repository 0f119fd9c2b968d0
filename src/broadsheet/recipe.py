"""Digest recipes and subscriber lists: a desk's weekly digest, one edition per reader.

A recipe is TOML: the sources, the filters and grouping of a digest (``DigestSpec``), the
theme, the formats, the output folder, and [pdf]/[epub] settings.  Paths are relative to
the recipe.  A subscriber list is CSV with the columns ``id`` (required), ``sections``,
``tags`` (several values split by ``;`` or ``|``), ``language`` (a 简繁 conversion: s2t,
s2tw, s2hk, t2s), ``formats`` (epub, pdf) and ``email`` (where ``digest --send`` and
``send --subscribers`` deliver: one address, or several split by ``;``); a subscriber's
sections and tags replace the recipe's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from typing import Literal

from pydantic import Field, field_validator

from .config import ClusterConfig, Conversion, DeliveryConfig, EpubConfig, PdfConfig, _Schema, read_toml, validate
from .digest import DigestSpec
from .errors import ConfigError
from .names import DEFAULT_FORMATS, FORMATS

Format = Literal[FORMATS]


class Recipe(DigestSpec):
    """A digest recipe file."""

    sources: tuple[str, ...] = Field(min_length=1)
    theme: str = "digest"
    formats: tuple[Format, ...] = Field(default=DEFAULT_FORMATS, min_length=1)
    out: str = "build"
    convert: Conversion | None = None
    pdf: PdfConfig = PdfConfig()
    epub: EpubConfig = EpubConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    cluster: ClusterConfig = ClusterConfig()  # where the subscribers' digests are made (--cluster)


def load_recipe(path: Path) -> Recipe:
    if not path.is_file():
        raise ConfigError("no such recipe file", path)
    return validate(Recipe, read_toml(path), path)


class Subscriber(_Schema):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: Conversion | None = None
    formats: tuple[Format, ...] = ()
    email: tuple[str, ...] = ()

    @field_validator("email")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from .deliver.address import check_address

        return tuple(dict.fromkeys(check_address(address) for address in value))


COLUMNS = ("id", "sections", "tags", "language", "formats", "email")


@dataclass(frozen=True)
class SubscriberList:
    path: Path
    subscribers: tuple[Subscriber, ...]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in re.split(r"[;|]", value or "") if v.strip())


def load_subscribers(path: Path, *, need_email: bool = False, need_id: bool = True) -> SubscriberList:
    """Read a subscriber CSV; errors name the file, the line and the column.  ``need_email``: every
    subscriber must have an address (to deliver to); without ``need_id`` a missing ``id`` column
    is allowed (a list only to send to), and each subscriber is known by its line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or ())
    if need_email and "email" not in columns:
        raise ConfigError(f"no 'email' column (expected {', '.join(COLUMNS)})", path)
    if need_id and "id" not in columns:
        raise ConfigError(f"no 'id' column (expected {', '.join(COLUMNS)})", path)
    unknown = columns - set(COLUMNS)
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown column", path)
    subscribers, seen = [], set()
    for line, row in enumerate(reader, start=2):
        if None in row:  # more fields than columns
            raise ConfigError("more fields than the header has columns", f"{path}:{line}")
        data = {"id": (row.get("id") or "").strip() if "id" in columns else f"line-{line}",
                "sections": _split(row.get("sections")), "tags": _split(row.get("tags")), "language": (row.get("language") or "").strip() or None,
                "formats": tuple(f.strip() for f in re.split(r"[;| ]", row.get("formats") or "") if f.strip()),
                "email": _split(row.get("email"))}
        subscriber = validate(Subscriber, data, Path(f"{path}:{line}"))
        if need_email and not subscriber.email:
            raise ConfigError("email: no address", f"{path}:{line}")
        if subscriber.id in seen:
            raise ConfigError(f"id: {subscriber.id!r} appears twice", f"{path}:{line}")
        seen.add(subscriber.id)
        subscribers.append(subscriber)
    if not subscribers:
        raise ConfigError("no subscribers", path)
    return SubscriberList(path, tuple(subscribers))
