"""A layout process parses each stylesheet once.

WeasyPrint parses and prepares a document's stylesheets for every document it lays out: the print
stylesheet of an edition (6 KB) takes it 25–30 ms, most of it cssselect2 compiling each selector into
Python with ``eval``.  An edition laid out in parts gives every part the same stylesheet, and a layout
process lays out several parts in turn (``parts.REUSE_BYTES``): :func:`install` makes the stylesheets a
document finds (``<link>`` and ``<style>``) parsed once per process, by their text.

What a stylesheet adds to its document when it is parsed is given again to each document that uses it:
its ``@page`` rules (the document's list, which WeasyPrint reads through every sheet of the document).
A stylesheet that adds anything else to its document — ``@font-face`` fonts, ``@counter-style`` styles,
``@color-profile`` profiles or cascade layers — is parsed anew for every document, as before.  A
stylesheet is kept only with the text it was parsed from, its address and its media; so the styles,
and the bytes of the PDF, are those of a stylesheet parsed for the document.
"""

from __future__ import annotations

import copy
import hashlib

#: The stylesheets parsed in this process: by (source, address, media), the sheet and the ``@page``
#: rules it added to its document.
_kept: dict[tuple, tuple[object, list]] = {}
_KEEP_AT_MOST = 16
_installed = False


def install() -> None:
    """Patch WeasyPrint once, in this process: the stylesheets its documents find are parsed once."""
    global _installed
    if _installed:
        return
    from weasyprint import css as css_module

    original = css_module.CSS

    def kept_css(*args, **kwargs):
        key = _key(args, kwargs)
        if key is None:
            return original(*args, **kwargs)
        page_rules, layers = kwargs["page_rules"], kwargs["layers"]
        kept = _kept.get(key)
        if kept is not None:
            sheet, rules = kept
            page_rules.extend(rules)
            alike = copy.copy(sheet)  # the same parsed rules, read with this document's @page rules
            alike.page_rules, alike.layers = page_rules, layers
            return alike
        font_config, counters, profiles = kwargs["font_config"], kwargs["counter_style"], kwargs["color_profiles"]
        rules_before, layers_before = len(page_rules), list(layers)
        counters_before, profiles_before = dict(counters), dict(profiles)
        faces: list = []
        recorded = getattr(font_config, "add_font_face", None)
        if recorded is not None:
            def add_font_face(*face_args, **face_kwargs):
                faces.append(face_args)
                return recorded(*face_args, **face_kwargs)
            font_config.add_font_face = add_font_face
        try:
            sheet = original(*args, **kwargs)
        finally:
            if recorded is not None:
                del font_config.add_font_face
        if (not faces and layers == layers_before and _same(counters, counters_before)
                and _same(profiles, profiles_before) and len(_kept) < _KEEP_AT_MOST):
            _kept[key] = (sheet, page_rules[rules_before:])
        return sheet

    css_module.CSS = kept_css
    _installed = True


def _same(now: dict, before: dict) -> bool:
    return len(now) == len(before) and all(now.get(name) is value for name, value in before.items())


def _key(args: tuple, kwargs: dict) -> tuple | None:
    """What a stylesheet is kept by: its text (a ``<style>``'s, or the fetched file's, through the layout's
    own fetcher), its address and its media; None for one that is not kept (fetched from elsewhere)."""
    if args or not {"page_rules", "layers", "font_config", "counter_style", "color_profiles"} <= kwargs.keys() \
            or kwargs["page_rules"] is None or kwargs["layers"] is None or kwargs["counter_style"] is None \
            or kwargs["color_profiles"] is None:
        return None
    media = kwargs.get("media_type")
    if kwargs.get("string") is not None:
        text = kwargs["string"]
        if not isinstance(text, str):
            return None
        return ("string", hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), kwargs.get("base_url"),
                media)
    url, fetcher = kwargs.get("url"), kwargs.get("url_fetcher")
    peek = getattr(fetcher, "stylesheet", None)
    if url is None or peek is None:
        return None
    body = peek(url)
    if body is None:
        return None
    return ("url", hashlib.sha256(body).digest(), url, media, kwargs.get("_check_mime_type", False))
