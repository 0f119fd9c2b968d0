"""Resolve and probe the pictures an article names; only files inside the source folder."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import warnings
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image as PILImage

from ..errors import IngestError
from ..files import LeadsOut, OutsideRoot, _fd_path, link_out, open_inside, real_root
from ..model import Image, Inline

log = logging.getLogger("broadsheet")

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class ImageResolver:
    """Turn ``src`` values of one article into model Images, refusing anything unsafe.

    An image that is missing, named outside ``root`` (``../``, an absolute path, ``file:``,
    ``data:``), remote without ``--allow-remote``, not a regular file or not a picture is dropped
    with a warning naming the article file; the build goes on.  Two are attacks, refused with an
    :class:`~broadsheet.errors.IngestError` naming the article: a picture that is a link (or is
    reached through a linked folder) leading outside ``root``, and with ``--allow-remote`` a
    picture whose host is, or resolves to, an internal address.
    """

    def __init__(self, article_path: Path, root: Path, base: Path | None = None, remote: bool = False,
                 remote_hosts: tuple[str, ...] = ()) -> None:
        self.article_path = article_path
        self.base = base if base is not None else article_path.parent
        self.root = real_root(root)
        self.remote = remote
        self.remote_hosts = remote_hosts

    def __call__(self, src: str, alt: str, caption: Inline | None) -> Image | None:
        located = self._locate(src)
        if located is None:
            return None
        path, root = located
        try:
            with open_inside(path, root, "picture") as handle:
                real = _fd_path(handle.fileno(), path)  # the file that was checked and opened
                with warnings.catch_warnings():
                    warnings.simplefilter("error", PILImage.DecompressionBombWarning)
                    with PILImage.open(handle, formats=list(FORMATS)) as picture:
                        width, height = picture.size
                        media_type = FORMATS[picture.format]
                        if picture.getexif().get(0x0112) in (5, 6, 7, 8):  # EXIF orientation: turned a quarter
                            width, height = height, width
                too_slow = _jpeg_fault(handle) if media_type == "image/jpeg" else None
        except LeadsOut:
            raise self._link_out(src, path) from None
        except OutsideRoot as exc:  # a folder, a FIFO, a device: not a picture, not an attack
            self._warn(src, exc.message)
            return None
        except IngestError as exc:
            self._warn(src, "image file not found" if "No such file" in exc.message else exc.message)
            return None
        except Exception:  # noqa: BLE001 - any decoder fault means "not a usable picture"
            self._warn(src, "not a JPEG, PNG, GIF or WebP picture")
            return None
        path = real
        from .. import limits

        bound = limits.current().picture_pixels
        if width * height > bound:
            self._warn(src, f"{width}×{height} pixels is more than the limit of {bound:,}")
            return None
        if too_slow:
            self._warn(src, too_slow)
            return None
        # Named by the file's place in the source folder: stable, unique, shared when reused.
        place = str(path.relative_to(self.root)) if path.is_relative_to(self.root) else src
        digest = hashlib.sha256(place.encode("utf-8")).hexdigest()[:16]
        name = f"img-{digest}.{EXTENSIONS[media_type]}"
        return Image(
            src=src, path=path, root=root, name=name, media_type=media_type, width=width, height=height,
            alt=alt or (caption.text if caption else ""), caption=caption,
        )

    def _locate(self, src: str) -> tuple[Path, Path] | None:
        """The picture's path and the folder it must be read from, or None (with a warning)."""
        if not src:
            self._warn(src, "empty image reference")
            return None
        parts = urlsplit(src)
        if parts.scheme == "data":
            self._warn(src[:40] + ("…" if len(src) > 40 else ""), "data: URLs are not used; put the picture beside the article")
            return None
        if self.remote and parts.scheme.lower() in ("http", "https"):
            from .remote import InternalAddress, RemoteError, fetch_picture

            try:
                fetched = fetch_picture(src, self.remote_hosts)
                return fetched, real_root(fetched.parent)
            except InternalAddress as exc:
                raise IngestError(f"picture {_shown(src)}: {exc.reason} (name the host with --allow-remote-hosts "
                                  "to fetch it)", self.article_path) from None
            except RemoteError as exc:
                self._warn(src, str(exc))
                return None
        if parts.scheme or parts.netloc:
            self._warn(src, "remote and absolute URLs are not fetched (--allow-remote fetches http and https); "
                            "only files beside the article are used")
            return None
        relative = unquote(parts.path)
        if relative.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", relative):
            self._warn(src, "absolute paths are not read; only files beside the article are used")
            return None
        candidate = self.base / relative
        if not Path(os.path.realpath(candidate)).is_relative_to(self.root):
            named = Path(os.path.normpath(Path(os.path.realpath(self.base)) / relative))
            if not named.is_relative_to(self.root):  # the page's own reference (../x): not a link
                self._warn(src, "points outside the source folder; not read")
                return None
            raise self._link_out(src, candidate)  # a link in the folder leads out of it
        if not candidate.exists():
            self._warn(src, "image file not found")
            return None
        return candidate, self.root  # opened (and checked again) through the file door

    def _link_out(self, src: str, path: Path) -> IngestError:
        """The refusal of a picture that is a link, or lies in a linked folder, leading outside the folder."""
        from ..limits import quote

        found = link_out(path, self.root)
        if found is None:
            how = "through a linked folder"
        else:
            link, target = found
            how = f"{link} is a link to {target}" if link == path else f"through {link}, a link to {target}"
        return IngestError(f"picture {quote(src)} leads outside the source folder ({how}); not read",
                           self.article_path)

    def _warn(self, src: str, reason: str) -> None:
        from ..limits import quote

        log.warning("%s: image %s dropped: %s", self.article_path, quote(src), reason)


def _jpeg_fault(handle) -> str | None:
    """Why a JPEG (the open file that was checked) would take too long to decode (too many scans), or None."""
    from .. import limits
    from .jpeg import count_scans

    bound = limits.current().picture_scans
    handle.seek(0)
    scans = count_scans(handle.read(), bound)
    if scans > bound:
        return f"a progressive JPEG of more than {bound} scans (each one decoded over the whole picture)"
    return None


def _shown(url: str) -> str:
    """A URL for a one-line message: as written, or quoted when it holds spaces or control characters."""
    from ..limits import cut, quote

    return cut(url, 300) if url.isprintable() and " " not in url else quote(url, 300)
