"""Remote pictures, fetched only when the user asks (``--allow-remote``).

One door: http(s) only, no redirects (a redirect could lead anywhere, the cloud metadata
address included), a timeout, a size bound, and the content type and the bytes must both
say picture.  Fetched files live in a private temporary folder for the life of the process,
each fetched once.
"""

from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_S = 10
MAX_BYTES = 20 * 1024 * 1024
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_folder: Path | None = None
_fetched: dict[str, Path] = {}


class RemoteError(Exception):
    """The picture could not be fetched within the rules; the message says why."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise RemoteError(f"redirected ({code}) to {newurl}; redirects are not followed")


_OPENER = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPHandler, urllib.request.HTTPSHandler)


def folder() -> Path:
    """Return the private folder fetched pictures are kept in (removed at exit)."""
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="broadsheet-remote-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def fetch_picture(url: str) -> Path:
    """Fetch one picture and return its local file; raise RemoteError otherwise."""
    if url in _fetched:
        return _fetched[url]
    if not url.lower().startswith(("http://", "https://")):
        raise RemoteError("only http and https are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": "broadsheet", "Accept": "image/*"})
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as response:
            kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind not in TYPES:
                raise RemoteError(f"content type {kind or 'none'!r} is not a picture")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_BYTES:
                raise RemoteError(f"{int(declared):,} bytes is more than the limit of {MAX_BYTES:,}")
            data = response.read(MAX_BYTES + 1)
    except RemoteError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RemoteError(f"cannot fetch: {getattr(exc, 'reason', None) or exc}") from None
    if len(data) > MAX_BYTES:
        raise RemoteError(f"more than the limit of {MAX_BYTES:,} bytes")
    name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + "." + TYPES[kind]
    path = folder() / name
    path.write_bytes(data)
    _fetched[url] = path
    return path
