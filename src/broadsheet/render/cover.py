"""Draw the cover image of an issue: masthead, date, issue number and section names."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ..errors import RenderError
from .fonts import font_file

WIDTH, HEIGHT = 1600, 2560
MARGIN = 120
INK = (20, 20, 20)
PAPER = (250, 248, 242)
ACCENT = (150, 20, 30)


@lru_cache(maxsize=128)
def _font(lang: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    for family in ("Noto Serif CJK SC" if lang.startswith("zh") else "Noto Serif", "serif", "sans-serif"):
        found = font_file(family, lang, bold)
        if found:
            path, index = found
            try:
                return ImageFont.truetype(path, size=size, index=index)
            except OSError:
                continue
    raise RenderError("no usable font for the cover image: install fonts-noto-cjk and fonts-noto-core")


def _fit(draw: ImageDraw.ImageDraw, text: str, lang: str, size: int, bold: bool, width: int) -> ImageFont.FreeTypeFont:
    font = _font(lang, size, bold)
    while size > 24 and draw.textlength(text, font=font) > width:
        size = int(size * 0.9)
        font = _font(lang, size, bold)
    return font


def draw_cover(title: str, date_text: str, number_text: str, sections: list[str], lang: str) -> bytes:
    """Return the cover as JPEG bytes (deterministic for the same input and fonts)."""
    return _draw(title, date_text, number_text, tuple(sections), lang)


@lru_cache(maxsize=2)
def _masthead(title: str, lang: str) -> Image.Image:
    """The top of a publication's covers, the same on every issue: drawn once, copied for each issue."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 60), fill=ACCENT)
    masthead = _fit(draw, title, lang, 260, True, WIDTH - 2 * MARGIN)
    draw.text((WIDTH / 2, 420), title, font=masthead, fill=INK, anchor="mm")
    draw.line((MARGIN, 640, WIDTH - MARGIN, 640), fill=INK, width=8)
    return image


@lru_cache(maxsize=64)
def _draw(title: str, date_text: str, number_text: str, sections: tuple[str, ...], lang: str) -> bytes:
    image = _masthead(title, lang).copy()
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    info = "   ".join(part for part in (date_text, number_text) if part)
    if info:
        info_font = _fit(draw, info, lang, 72, False, inner)
        draw.text((WIDTH / 2, 720), info, font=info_font, fill=INK, anchor="mm")
    draw.line((MARGIN, 800, WIDTH - MARGIN, 800), fill=INK, width=3)

    y = 960
    for name in sections[:14]:
        font = _fit(draw, name, lang, 88, False, inner)
        draw.text((WIDTH / 2, y), name, font=font, fill=INK, anchor="mm")
        y += 120
    if len(sections) > 14:
        draw.text((WIDTH / 2, y), "…", font=_font(lang, 88, False), fill=INK, anchor="mm")
    draw.rectangle((0, HEIGHT - 60, WIDTH, HEIGHT), fill=ACCENT)

    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()
