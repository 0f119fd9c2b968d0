"""Embedded fonts for the EPUB (``--embed-fonts``): the faces its stylesheet asks for, subset.

A reader without Noto CJK shows an edition in whatever CJK font it has — or in tofu.  With
``--embed-fonts`` the EPUB carries the faces its own stylesheet names, each cut down to the
characters it draws:

1. **Which face draws which text.**  The EPUB stylesheet is cascaded over every content
   document (tinycss2 parses it, cssselect2 matches selectors, ``:lang()`` included; the
   winner is chosen by importance, specificity and order, then inherited): for every element
   its ``font-family`` list and whether it is bold (``font-weight`` 600 and up, ``bold``,
   ``bolder``; ``h1``–``h6``, ``b``, ``strong`` and ``th`` are bold as in browsers).  The face
   of an element's text is the first family of that list that broadsheet knows how to embed
   (:data:`FACES`: Noto Serif CJK SC/TC/HK/JP/KR and Noto Sans CJK SC/TC/HK/JP/KR, Noto Serif and
   Noto Sans) and that fontconfig finds installed, in the weight asked for (regular or bold; bold
   text of a family without a bold face is drawn with its regular face, as readers do).
   So Chinese body text is drawn by Noto Serif CJK SC regular, ``zh-TW`` text by Noto Serif CJK
   TC, headlines by Noto Sans CJK bold, English text by Noto Serif.  ``@media`` blocks and the
   ``font`` shorthand are not read; only the text of ``<body>`` counts.
2. **Subset.**  Each face is subset (fontTools) to exactly the characters of the text it draws,
   plus :data:`FALLBACK` — ASCII digits, space and no-break space, ``. , : ; ! ? ( ) - / %``,
   the hyphen and dashes, curly quotes, the ellipsis, the ideographic space and 「」『』
   — characters a reading system may write itself (list numbers, ``<q>`` quotes, hyphens at a
   line end, page numbers), each kept only where the face has it.  Faces inside ``.ttc``
   collections are read by their face number; hinting is dropped; layout features are kept
   (``vert``/``vrt2`` and the vertical metrics too, for ``--writing-mode vertical``).  The output
   is byte-for-byte the same on every run: ``head.modified`` is copied from the installed font,
   never set to the time of the build.
3. **Package.**  The subsets are written as ``fonts/<face>.otf`` (``font/otf``, CFF outlines as
   in the Noto CJK collections) or ``fonts/<face>.ttf`` (``font/ttf``, TrueType outlines): core
   media types of EPUB 3 that EPUBCheck accepts without a warning and that older reading systems
   read too (WOFF2 would be smaller, but needs brotli and is unknown to older readers).  The
   stylesheet gets one ``@font-face`` per face, as family ``"Embedded <family>"``, and that
   family is put first before ``<family>`` in every ``font-family`` list that names it — so a
   character a subset lacks still falls back to the fonts the reader has.

The size it costs (the font files before zip compression) is logged at INFO level on the
``broadsheet`` logger — it is what was asked for, not a fault, so the CLI shows it with ``-v``:
``郑州日报 2012-07-06: embedded fonts add 258 KB (Noto Sans CJK SC regular 11 KB, …)``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from typing import NamedTuple


from ..errors import RenderError
from ..fontconfig import matched
from ..xhtml import parse as parse_xml
from .fonts import font_cmap

__all__ = ["FACES", "FALLBACK", "Face", "embed_fonts", "faces_by_text", "font_face_file", "subset_font"]

log = logging.getLogger("broadsheet")

#: The families broadsheet embeds → the fontconfig language that picks the right face of a collection.
FACES: dict[str, str] = {
    **{f"Noto Serif CJK {v}": lang for v, lang in (("SC", "zh-cn"), ("TC", "zh-tw"), ("HK", "zh-hk"),
                                                   ("JP", "ja"), ("KR", "ko"))},
    **{f"Noto Sans CJK {v}": lang for v, lang in (("SC", "zh-cn"), ("TC", "zh-tw"), ("HK", "zh-hk"),
                                                  ("JP", "ja"), ("KR", "ko"))},
    "Noto Serif": "en",
    "Noto Sans": "en",
}
#: Kept in every subset (where the face has them): characters a reading system may draw itself.
FALLBACK = frozenset("0123456789 \u00a0.,:;!?()-/%\u2010\u2011\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u3000「」『』")
EMBEDDED_PREFIX = "Embedded "
_BOLD_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "th"}
_NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14]  # keep copyright, names and the licence


class Face(NamedTuple):
    """One font file to embed: a family in regular or bold."""

    family: str
    bold: bool

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.family.lower()).strip("-") + ("-bold" if self.bold else "-regular")

    def __str__(self) -> str:
        return f"{self.family} {'bold' if self.bold else 'regular'}"


# --- which face draws which text -------------------------------------------------------------------

@cache
def font_face_file(family: str, bold: bool) -> tuple[str, int] | None:
    """Return (file, face number) of ``family`` in that weight, or None unless fontconfig has it."""
    if family not in FACES:
        return None
    pattern = f"{family}:lang={FACES[family]}:weight={'bold' if bold else 'regular'}"
    answer = matched(pattern, "%{file}|%{index}|%{family}|%{weight}")
    if answer is None:
        if shutil.which("fc-match") is None:
            return None
        answer = subprocess.run(["fc-match", "--format", "%{file}|%{index}|%{family}|%{weight}", pattern],
                                capture_output=True, check=False).stdout
    result = os.fsdecode(answer).strip()
    path, index, families, weight = (result.split("|") + ["", "", "", ""])[:4]
    if not path or family not in [f.strip() for f in families.split(",")]:
        return None  # fontconfig substituted another family: not what the stylesheet asks for
    # fontconfig weights: regular 80, bold 200.  A family without a bold face is matched to its regular.
    if weight.strip() and (int(float(weight)) >= 180) != bold:
        return None
    return path, int(index or 0)


def _families(tokens) -> tuple[str, ...]:
    names, current = [], []
    for token in tokens:
        if token.type == "literal" and token.value == ",":
            names.append(" ".join(current))
            current = []
        elif token.type == "string":
            current.append(token.value)
        elif token.type == "ident":
            current.append(token.value)
    names.append(" ".join(current))
    return tuple(n.strip() for n in names if n.strip())


def _weight(tokens) -> bool | None:
    for token in tokens:
        if token.type == "ident":
            value = token.lower_value
            if value in ("bold", "bolder"):
                return True
            if value in ("normal", "lighter"):
                return False
        elif token.type == "number":
            return token.value >= 600
    return None


def _matcher(css: str):
    import cssselect2
    import tinycss2

    matcher = cssselect2.Matcher()
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type != "qualified-rule":
            continue  # @font-face, @page, @media…
        declarations = {}
        for declaration in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
            if declaration.type != "declaration":
                continue
            if declaration.lower_name == "font-family":
                declarations["family"] = (declaration.important, _families(declaration.value))
            elif declaration.lower_name == "font-weight":
                weight = _weight(declaration.value)
                if weight is not None:
                    declarations["bold"] = (declaration.important, weight)
        if not declarations:
            continue
        try:
            selectors = cssselect2.compile_selector_list(rule.prelude)
        except cssselect2.SelectorError:
            continue
        for selector in selectors:
            if selector.pseudo_element is None:
                matcher.add_selector(selector, declarations)
    return matcher


def _cascade(matcher, element, prop: str):
    """Return the winning value of ``prop`` among the rules matching ``element``, or None."""
    best = None
    for specificity, order, pseudo, declarations in matcher.match(element):
        if pseudo is None and prop in declarations:
            important, value = declarations[prop]
            key = (important, specificity, order)
            if best is None or key > best[0]:
                best = (key, value)
    return None if best is None else best[1]


def faces_by_text(documents: Iterable[bytes], css: str) -> dict[Face, set[str]]:
    """Return, for every embeddable face the stylesheet puts to use, the characters it draws."""
    import cssselect2

    matcher = _matcher(css)
    used: dict[Face, set[str]] = {}
    for content in documents:
        root = parse_xml(content)
        wrapper = cssselect2.ElementWrapper.from_xml_root(root)
        computed: dict = {}
        for element in wrapper.iter_subtree():
            node = element.etree_element
            parent = computed.get(id(node.getparent())) if node.getparent() is not None else None
            families = _cascade(matcher, element, "family")
            bold = _cascade(matcher, element, "bold")
            tag = element.local_name
            if families is None:
                families = parent[0] if parent else ()
            if bold is None:
                bold = True if tag in _BOLD_TAGS else (parent[1] if parent else False)
            in_body = tag == "body" or (parent is not None and parent[2])
            computed[id(node)] = (families, bold, in_body)
            if not in_body:
                continue
            text = (node.text or "") + "".join(child.tail or "" for child in node)
            chars = {c for c in text if unicodedata.category(c) not in ("Cc", "Zl", "Zp")}
            if not chars:
                continue
            face = _face_for(families, bold)
            if face is not None:
                used.setdefault(face, set()).update(chars)
    return used


def _face_for(families: tuple[str, ...], bold: bool) -> Face | None:
    for family in families:
        if family in FACES:
            # A family without the bold face: the reader draws bold text with its regular face, made bolder.
            for weight in ((True, False) if bold else (False,)):
                if font_face_file(family, weight) is not None:
                    return Face(family, weight)
    return None


# --- subset ----------------------------------------------------------------------------------------

def subset_font(path: str, number: int, chars: Iterable[str]) -> tuple[bytes, str]:
    """Return (font data, "otf" or "ttf") of face ``number`` of ``path`` cut down to ``chars`` plus FALLBACK."""
    from fontTools import subset

    options = subset.Options()
    options.font_number = number
    options.hinting = False
    options.name_IDs = _NAME_IDS
    options.recalc_timestamp = False  # keep head.modified of the installed font: the same bytes every run
    options.notdef_outline = True
    codepoints = {ord(c) for c in chars} | {ord(c) for c in FALLBACK}
    codepoints &= font_cmap(path, number)
    font = subset.load_font(path, options, dontLoadGlyphNames=True)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(codepoints))
        subsetter.subset(font)
        out = io.BytesIO()
        subset.save_font(font, out, options)
        kind = "otf" if "CFF " in font or "CFF2" in font else "ttf"
    finally:
        font.close()
    return out.getvalue(), kind


# --- package ---------------------------------------------------------------------------------------

_FONT_FAMILY = re.compile(r"(font-family\s*:\s*)([^;{}]+)", re.I)


def _put_embedded_first(css: str, embedded: set[str]) -> str:
    def rewrite(match: re.Match) -> str:
        out = []
        for name in (n.strip() for n in match.group(2).split(",")):
            bare = name.strip("\"'").strip()
            if bare in embedded:
                out.append(f'"{EMBEDDED_PREFIX}{bare}"')
            out.append(name)
        return match.group(1) + ", ".join(out)

    return _FONT_FAMILY.sub(rewrite, css)


def embed_fonts(rendered):
    """Return ``rendered`` (an EPUB RenderedIssue) with its fonts embedded and its stylesheet pointing at them."""
    from ..rendered import Asset

    style = next((a for a in rendered.assets if a.media_type == "text/css"), None)
    if style is None:
        raise RenderError("the EPUB has no stylesheet to embed fonts into")
    css = style.read().decode("utf-8")
    used = faces_by_text((d.content for d in rendered.documents), css)
    style_dir = style.name.count("/")
    faces, fonts = [], []
    for face in sorted(used):
        path, number = font_face_file(face.family, face.bold)
        data, kind = subset_font(path, number, used[face])
        name = f"fonts/{face.slug}.{kind}"
        fonts.append(Asset(name=name, id=f"font-{face.slug}", media_type=f"font/{kind}", data=data))
        faces.append(
            f'@font-face {{ font-family: "{EMBEDDED_PREFIX}{face.family}"; '
            f'font-weight: {"bold" if face.bold else "normal"}; font-style: normal; '
            f'src: url("{"../" * style_dir}{name}") format("{"opentype" if kind == "otf" else "truetype"}"); }}'
        )
    if not fonts:
        return rendered
    header = "/* embedded fonts (--embed-fonts): subsets of the faces this stylesheet names */\n" + "\n".join(faces)
    css = header + "\n" + _put_embedded_first(css, {face.family for face in used})
    new_style = replace(style, data=css.encode("utf-8"), path=None)
    assets = tuple(new_style if a is style else a for a in rendered.assets) + tuple(fonts)
    total = sum(len(f.data) for f in fonts)
    detail = ", ".join(f"{face} {len(font.data) // 1024} KB" for face, font in zip(sorted(used), fonts))
    log.info("%s: embedded fonts add %d KB (%s)", rendered.metadata.title, round(total / 1024), detail)
    return replace(rendered, assets=assets)
