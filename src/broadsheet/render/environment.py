"""The one Jinja2 environment: autoescaped (``.xhtml`` too), strict, themable."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from ..model import Inline
from .labels import format_date, labels_for, number_label, section_label
from .theme import Theme


def inline_markup(value: Inline | None) -> Markup:
    """Insert a sanitised Inline fragment (only ingest/html.py can make one)."""
    if value is None:
        return Markup("")
    if not isinstance(value, Inline):
        raise TypeError("the inline filter takes model Inline values only")
    return Markup(value.html)


@lru_cache(maxsize=16)
def make_environment(theme: Theme) -> SandboxedEnvironment:
    """Return the environment over the theme's folders and the shipped templates (one per theme)."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(p) for p in theme.template_path]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = inline_markup
    env.globals.update(
        format_date=format_date, labels_for=labels_for, section_label=section_label, number_label=number_label
    )
    return env
