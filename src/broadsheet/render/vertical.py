"""The vertical edition (竖排, ``--writing-mode vertical``): vertical-rl EPUB documents.

Two steps on a rendered EPUB, never on the model:

* the theme's ``vertical.css`` (the shipped one sets ``writing-mode: vertical-rl`` with the
  ``-epub-`` and ``-webkit-`` forms for older reading systems) is appended to the stylesheet;
* in the text of every document's ``<body>`` (not in ``<pre>``, ``<code>``, ``<kbd>``,
  ``<samp>``), each run of one or two ASCII digits that is not part of a longer number, a word or
  a decimal (``13个村`` but not ``2012年``, ``A1`` or ``2.9倍``) is wrapped in
  ``<span class="tcy">`` — 縦中横, set upright across the column by ``text-combine-upright``.
  Longer numbers stay as they are and run sideways, as in printed vertical text.

The page progression (``page-progression-direction="rtl"`` on the spine) is the EPUB backend's.
Vertical writing is for Chinese, Japanese and Korean: an edition in another language stays horizontal
(``pipeline`` warns, naming it, and gives its backend the horizontal mode).
"""

from __future__ import annotations

import re
from dataclasses import replace

from lxml import etree

from ..errors import RenderError
from ..xhtml import parse as parse_xml
from .css import check_stylesheet

__all__ = ["make_vertical", "wrap_digit_runs", "TCY_CLASS"]

TCY_CLASS = "tcy"
_XHTML = "http://www.w3.org/1999/xhtml"
_SKIP = {"pre", "code", "kbd", "samp", "script", "style", "head", "title", "span-tcy"}
_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?<![0-9][.,:/])[0-9]{1,2}(?![0-9A-Za-z])(?![.,:/][0-9])")


def make_vertical(rendered, theme):
    """Return ``rendered`` (an EPUB RenderedIssue) set vertically."""
    found = theme.read_style("vertical.css")
    if found is None:
        raise RenderError("the theme has no vertical.css for --writing-mode vertical")
    path, vertical_css = found
    check_stylesheet(vertical_css, path)
    assets = []
    for asset in rendered.assets:
        if asset.media_type == "text/css":
            css = asset.read().decode("utf-8") + f"\n/* vertical.css */\n{vertical_css}"
            asset = replace(asset, data=css.encode("utf-8"), path=None)
        assets.append(asset)
    documents = tuple(replace(d, content=wrap_digit_runs(d.content)) for d in rendered.documents)
    return replace(rendered, assets=tuple(assets), documents=documents)


def wrap_digit_runs(content: bytes) -> bytes:
    """Wrap short runs of ASCII digits in an XHTML document's body in ``<span class="tcy">``."""
    root = parse_xml(content)
    body = root.find(f"{{{_XHTML}}}body")
    if body is None or not _DIGITS.search("".join(body.itertext())):
        return content
    changed = _wrap(body)
    if not changed:
        return content
    return etree.tostring(root.getroottree(), encoding="utf-8", xml_declaration=True)


def _local(element) -> str:
    if not isinstance(element.tag, str):
        return "#other"
    name = etree.QName(element).localname
    if name == "span" and TCY_CLASS in (element.get("class") or "").split():
        return "span-tcy"
    return name


def _wrap(element) -> bool:
    if _local(element) in _SKIP:
        return False
    changed = False
    for child in list(element):
        changed |= _wrap(child)
        if child.tail and _DIGITS.search(child.tail):
            parts = _split(child.tail)
            child.tail = parts[0]
            _insert_after(element, child, parts[1:])
            changed = True
    if element.text and _DIGITS.search(element.text):
        parts = _split(element.text)
        element.text = parts[0]
        _insert_at(element, 0, parts[1:])
        changed = True
    return changed


def _split(text: str) -> list[str]:
    """Return [text before, digits, text after, digits, text after, …]."""
    out, position = [], 0
    for match in _DIGITS.finditer(text):
        out += [text[position:match.start()], match.group(0)]
        position = match.end()
    out.append(text[position:])
    # [before, d1, after1, d2, after2…]: pair each run with the text that follows it
    return out


def _spans(parts: list[str]) -> list:
    spans = []
    for digits, after in zip(parts[0::2], parts[1::2]):
        span = etree.Element(f"{{{_XHTML}}}span", {"class": TCY_CLASS})
        span.text = digits
        span.tail = after or None
        spans.append(span)
    return spans


def _insert_at(parent, index: int, parts: list[str]) -> None:
    for offset, span in enumerate(_spans(parts)):
        parent.insert(index + offset, span)


def _insert_after(parent, child, parts: list[str]) -> None:
    _insert_at(parent, parent.index(child) + 1, parts)
