"""The stylesheet check: no ``@import``, and every reference a relative one inside the book.

A theme's stylesheet is parsed with tinycss2, which undoes CSS escapes (``@\\69mport`` is
``@import``, ``url("\\66ile:…")`` is ``url("file:…")``), and every token is walked, inside
blocks and functions too.  Refused:

* ``@import`` in any spelling;
* in ``url()`` and in every function that takes a URL (``src()``, ``image()``,
  ``image-set()``, ``-webkit-image-set()``, ``cross-fade()``, ``element()`` …), a reference
  with a scheme (``file:``, ``http:``, …), one that starts with ``/`` or ``//``, one that
  climbs out of the book with ``..`` (the stylesheet lies in ``styles/``), a backslash or a
  control character, even once percent-decoded.  ``data:`` is allowed for pictures (PNG,
  JPEG, GIF, WebP) and fonts only; ``#fragment`` references are allowed.

``@namespace`` names a namespace and fetches nothing: it is allowed.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote

import tinycss2
from tinycss2 import ast

from .. import limits
from ..errors import RenderError

__all__ = ["check_stylesheet", "css_fault", "STYLE_FOLDER"]

STYLE_FOLDER = "styles"  # where the stylesheet lies in the book: references are relative to it
URL_FUNCTIONS = frozenset({
    "url", "src", "image", "image-set", "-webkit-image-set", "cross-fade", "-webkit-cross-fade", "element",
    "-moz-element", "-moz-image-rect", "-webkit-image", "paint",
})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_DATA = re.compile(r"^data:(?:image/(?:png|jpeg|gif|webp)|font/[a-z0-9.+\-]+|"
                   r"application/(?:font-woff2?|x-font-[a-z0-9]+|font-sfnt|vnd\.ms-opentype))[;,]", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")
MAX_DEPTH = 256


def check_stylesheet(css: str, path: Path | str | None = None) -> None:
    """Raise :class:`RenderError` naming ``path`` when ``css`` imports or refers outside the book."""
    fault = css_fault(css)
    if fault is not None:
        raise RenderError(f"stylesheet refused: {fault}", path)


@lru_cache(maxsize=64)
def css_fault(css: str) -> str | None:
    """Return what is wrong with ``css`` (one short sentence), or None when it may be used.

    Remembered by text: the issues of an archive check the same stylesheets once."""
    try:
        tokens = tinycss2.parse_component_value_list(css, skip_comments=True)
        return _walk(tokens, None, 0)
    except RecursionError:
        return "blocks nested too deeply"


def _walk(tokens, function: str | None, depth: int) -> str | None:
    if depth > MAX_DEPTH:
        return f"blocks nested more than {MAX_DEPTH} deep"
    naming = False  # inside an @namespace rule: its URL names a namespace and is never fetched
    for token in tokens:
        kind = token.type
        if naming:
            naming = not (kind == "literal" and token.value == ";") and kind != "{} block"
            if kind in ("url", "string", "whitespace", "ident", "literal", "comment") or (
                    kind == "function" and token.lower_name == "url"):  # url("…"): the quoted spelling
                continue
        if kind == "at-keyword" and token.lower_value == "import":
            return "@import is not allowed (a theme's stylesheets are read from the theme folder only)"
        if kind == "at-keyword" and token.lower_value == "namespace":
            naming = True
        elif kind == "url":
            fault = url_fault(token.value)
            if fault:
                return fault
        elif kind == "error" and token.kind == "bad-url":
            return "a malformed url() is not allowed"
        elif kind == "string" and function is not None:
            fault = url_fault(token.value)
            if fault:
                return f"in {function}(): {fault}"
        elif kind == "function" and token.lower_name == "attr" and any(
                t.type == "ident" and t.lower_value == "url" for t in token.arguments):
            return "attr() of type url is not allowed (a reference must be written in the stylesheet)"
        elif kind == "function":
            name = token.lower_name
            if name.startswith("-") and name.split("-", 2)[-1] in URL_FUNCTIONS:
                name = name.split("-", 2)[-1]
            fault = _walk(token.arguments, name if name in URL_FUNCTIONS else function, depth + 1)
            if fault:
                return fault
        elif isinstance(token, (ast.ParenthesesBlock, ast.SquareBracketsBlock, ast.CurlyBracketsBlock)):
            fault = _walk(token.content, function if not isinstance(token, ast.CurlyBracketsBlock) else None,
                          depth + 1)
            if fault:
                return fault
    return None


def url_fault(reference: str) -> str | None:
    """Return why ``reference`` (unescaped) may not be used in a stylesheet, or None."""
    value = reference.strip(" \t\n\r\f")
    shown = limits.quote(value, 80)
    if not value or value.startswith("#"):
        return None
    if _DATA.match(value):
        return None
    for form in dict.fromkeys((value, unquote(value))):
        if _CONTROL.search(form):
            return f"the reference {shown} holds a backslash or a control character"
        if _SCHEME.match(form):
            return f"the reference {shown} has a scheme; only files of the book may be referred to"
        if form.startswith("/"):
            return f"the reference {shown} is absolute; only relative references are allowed"
        where = form.split("#", 1)[0].split("?", 1)[0]
        normal = posixpath.normpath(posixpath.join(STYLE_FOLDER, where))
        if normal == ".." or normal.startswith("../"):
            return f"the reference {shown} leads outside the book"
    return None
