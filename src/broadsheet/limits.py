"""Bounds that protect the machine, as policy in one place.

Each limit has a default here.  The command line and the user's own configuration may set
them; a source folder's ``broadsheet.toml`` may only lower them (a folder someone else wrote
never lifts its own leash).  The process-wide value is set once by the command line
(:func:`use`) and read with :func:`current`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass


def cores() -> int:
    """The processors this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    # the whole build outside PDF layout (ingest, render, EPUB): wall clock and address space
    build_seconds: float = 600
    build_memory_mb: int = 8192
    # one template render
    template_seconds: float = 30
    # PDF layout (each layout process)
    layout_seconds: float = 600
    layout_memory_mb: int = 8192
    jobs: int = 0  # 0: one per core; never more than the cores
    # inputs
    source_bytes: int = 64 * 1024 * 1024
    articles_per_source: int = 10_000
    markup_depth: int = 512  # HTML/XML element nesting kept; deeper content is flattened
    document_depth: int = 64  # nesting of YAML/TOML values
    picture_pixels: int = 40_000_000
    picture_seconds: float = 10  # decoding and re-encoding one picture
    # remote pictures (--allow-remote)
    remote_seconds: float = 10  # one download, all of it
    remote_total_seconds: float = 120  # all downloads of one build together
    remote_bytes: int = 20 * 1024 * 1024
    # what an error message quotes of a value
    quote_chars: int = 200

    def pool(self, wanted: int | None = None) -> int:
        """Processes for a pool: what was asked (or one per core), never more than the cores."""
        asked = wanted or self.jobs or cores()
        return max(1, min(asked, cores()))

    def lowered(self, **values) -> "Limits":
        """Return these limits with ``values`` applied where they are lower (a source's own settings)."""
        changes = {k: v for k, v in values.items() if v is not None and v < getattr(self, k)}
        return dataclasses.replace(self, **changes) if changes else self


_CURRENT = Limits()


def current() -> Limits:
    return _CURRENT


def use(limits: Limits) -> None:
    global _CURRENT
    _CURRENT = limits


def quote(value: object, limit: int | None = None) -> str:
    """``repr`` of a value for an error message, cut to a few hundred characters."""
    text = repr(value)
    limit = limit or _CURRENT.quote_chars
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"
