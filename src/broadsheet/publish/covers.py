"""Covers and thumbnails for the library: the EPUB's own cover picture, else a typographic cover drawn
for the edition (``render/cover.py``; a PDF's first page is not rendered).  Both are written as baseline
JPEG without metadata, so the same picture gives the same bytes."""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image

from ..limits import current
from .library import Edition, clean

log = logging.getLogger("broadsheet")

COVER_SIZE = (800, 1280)  # the largest cover kept (width, height)
THUMBNAIL_SIZE = (200, 320)


def _jpeg(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85, optimize=True, progressive=False)
    return buffer.getvalue()


def _fit(picture: Image.Image, size: tuple[int, int]) -> Image.Image:
    copy = picture.copy()
    copy.thumbnail(size, Image.Resampling.LANCZOS)
    return copy


def _decode(data: bytes) -> Image.Image | None:
    """A picture from untrusted bytes, within the pixel limit, as RGB; None when it is not one."""
    Image.MAX_IMAGE_PIXELS = current().picture_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.width * opened.height > current().picture_pixels:
                    return None
                if opened.format == "JPEG":  # decoded at a smaller scale, no less than the largest cover kept
                    opened.draft("RGB", COVER_SIZE)
                opened.load()
                picture = opened
                if picture.mode in ("RGBA", "LA", "P"):
                    picture = picture.convert("RGBA")
                    background = Image.new("RGB", picture.size, (255, 255, 255))
                    background.paste(picture, mask=picture.getchannel("A"))
                    return background
                return picture.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def drawn_cover(edition: Edition) -> bytes:
    """A typographic cover: the publication, the date (or the edition's span), the sections."""
    from ..render.cover import draw_cover

    date_text = edition.edition or (edition.issued.isoformat() if edition.issued else "")
    return draw_cover(clean(edition.publication_title, 80), date_text, edition.number or "",
                      [clean(s.name, 40) for s in edition.sections[:8]], edition.language)


def source_digest(edition: Edition) -> str:
    """What a cover is made from, as a digest (with Pillow's version): the same digest, the same bytes."""
    import hashlib
    import json

    import PIL

    digest = hashlib.sha256(f"covers/1 Pillow {PIL.__version__}\n".encode())
    if edition.cover:
        digest.update(edition.cover)
    else:
        digest.update(json.dumps([edition.publication_title, edition.edition, edition.issued and
                                  edition.issued.isoformat(), edition.number, [s.name for s in edition.sections[:8]],
                                  edition.language], ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def make(edition: Edition) -> tuple[bytes, bytes, tuple[int, int], tuple[int, int]]:
    """(cover JPEG, thumbnail JPEG, cover size, thumbnail size) for ``edition``."""
    picture = _decode(edition.cover) if edition.cover else None
    if picture is None:
        if edition.cover:
            log.warning("%s: the cover is not a picture that can be read; a cover is drawn", edition.stem)
        picture = _decode(drawn_cover(edition))
        if picture is None:  # pragma: no cover - draw_cover always makes a JPEG
            picture = Image.new("RGB", (800, 1280), (250, 248, 242))
    cover = _fit(picture, COVER_SIZE)
    thumbnail = _fit(cover, THUMBNAIL_SIZE)
    return _jpeg(cover), _jpeg(thumbnail), cover.size, thumbnail.size
