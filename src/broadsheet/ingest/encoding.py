"""Decode text in whatever encoding a newspaper system wrote it.

Order: byte-order mark; UTF-16 recognised by its zero bytes; strict UTF-8 (also when a
dump was cut inside a UTF-8 sequence); the declared charset (``<meta charset>``, XML
declaration) with GB2312/GBK read as GB18030; charset-normalizer; GB18030 with
replacement as the last resort.  Strict UTF-8 comes before the declaration because
GBK-declared pages that are really UTF-8 are common, and valid UTF-8 is rarely an
accident.  Which rule won is logged at INFO level (``--verbose``).
"""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

log = logging.getLogger("broadsheet")

_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "gb_2312-80": "gb18030",
            "big5-hkscs": "big5hkscs", "x-big5": "big5", "utf8": "utf-8", "unicode": "utf-16"}
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)


def declared_charset(data: bytes) -> str | None:
    """Return the charset an HTML or XML document declares in its first 4 KiB."""
    head = data[:4096]
    match = _XML.search(head) or _META.search(head)
    return match.group(1).decode("ascii").lower() if match else None


def _normalise(name: str) -> str | None:
    name = _ALIASES.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode(data: bytes, path: Path, report: bool = True) -> str:
    """Return ``data`` as text, choosing the encoding as described above."""
    text, how = _decode(data)
    if report:
        log.info("%s: decoded as %s", path, how)
    return text


def _decode(data: bytes) -> tuple[str, str]:
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace"), f"{name} (byte-order mark)"
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace"), f"{utf16} (zero bytes)"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), "utf-8 (truncated inside a character)"
    mixed = _mostly_utf8(data)
    if mixed:
        return mixed
    declared = declared_charset(data)
    if declared:
        name = _normalise(declared)
        if name:
            try:
                return data.decode(name), f"{name} (declared)"
            except UnicodeDecodeError:
                pass
    guess = _normalizer_guess(data)
    if guess:
        return guess
    for name in ("gb18030", "big5"):
        try:
            return data.decode(name), f"{name} (fallback)"
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace"), "gb18030 with replacement characters (fallback)"


def _gb18030_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    """Decode error handler: read a stray non-UTF-8 sequence as GB18030, else U+FFFD."""
    data = error.object
    for width in (2, 4):
        piece = data[error.start:error.start + width]
        try:
            text = piece.decode("gb18030")
        except UnicodeDecodeError:
            continue
        if len(text) == 1 and not _PRIVATE.match(text):
            return text, error.start + width
    return "\ufffd", error.start + 1


codecs.register_error("broadsheet-gb18030", _gb18030_fallback)
_PRIVATE = re.compile("[\ue000-\uf8ff]")


def _mostly_utf8(data: bytes) -> tuple[str, str] | None:
    """Text that is UTF-8 but for a few stray sequences (mixed encodings, damage)."""
    loose = data.decode("utf-8", errors="replace")
    bad = loose.count("\ufffd")
    # Characters of three or more UTF-8 bytes (CJK among them) hardly ever arise by accident in GBK or Big5.
    good = sum(1 for c in loose if ord(c) >= 0x800 and c != "\ufffd")
    if good < 3 or good < bad / 5:
        return None
    return data.decode("utf-8", errors="broadsheet-gb18030"), f"utf-8 with {bad} stray bytes read as GB18030 or dropped"


def _utf16_without_bom(data: bytes) -> str | None:
    """Recognise UTF-16 without a byte-order mark: zero bytes on one side only, plausible text."""
    sample = data[:4000]
    if len(sample) < 8 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
        if len(sample) < 8:
            return None
    even_zero, odd_zero = sample[0::2].count(0), sample[1::2].count(0)
    # ASCII puts its zero bytes on one side; CJK characters such as U+4E00 may put a few on the other.
    if odd_zero > 4 * even_zero:
        name = "utf-16-le"
    elif even_zero > 4 * odd_zero:
        name = "utf-16-be"
    else:
        return None
    try:
        text = sample.decode(name)
    except UnicodeDecodeError:
        return None
    plausible = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return name if plausible >= 0.98 * len(text) else None


def _normalizer_guess(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    # Chinese first: when the bytes are valid GB18030 or Big5, choose between those two only; short
    # Chinese texts are otherwise easily taken for EUC-KR or Shift-JIS.
    chinese = []
    for name in ("gb18030", "big5"):
        try:
            data.decode(name)
            chinese.append(name)
        except UnicodeDecodeError:
            pass
    candidates = chinese or ["utf_16", "shift_jis", "euc_kr", "cp1252", "latin_1"]
    best = from_bytes(data, cp_isolation=candidates).best()
    if best is None:
        return None
    name = _normalise(best.encoding) or best.encoding
    if name in {"gb2312", "gbk"}:
        name = "gb18030"
    try:
        return data.decode(name), f"{name} (detected)"
    except UnicodeDecodeError:
        return str(best), f"{best.encoding} (detected)"


def read_text(path: Path, root: Path | None = None, max_bytes: int | None = None) -> str:
    """Read and decode a text file from inside ``root`` (default: the file's own folder), through
    the file door; raise IngestError for a link out, a binary or an oversized file (``max_bytes``,
    else the ``source_bytes`` limit)."""
    from .. import limits
    from ..errors import IngestError
    from ..files import read_inside

    data = read_inside(path, root if root is not None else path.parent,
                       max_bytes if max_bytes is not None else limits.current().source_bytes, "source")
    if looks_binary(data):
        raise IngestError("binary file, not text", path)
    return decode(data, path)


_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"RIFF")
#: Every byte but the control characters that text does not hold (all below 32 but tab, line
#: feed, vertical tab, form feed, carriage return and escape): deleting these leaves the controls.
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32 and b != 27))


def looks_binary(data: bytes) -> bool:
    """Return True for pictures, archives, executables and other non-text bytes."""
    if data.startswith(_MAGIC):
        return True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(data):
        return False
    sample = data[:8192]
    if not sample:
        return False
    controls = len(sample.translate(None, _NOT_CONTROL))
    return controls > max(8, len(sample) // (100 if b"\x00" in sample else 10))
