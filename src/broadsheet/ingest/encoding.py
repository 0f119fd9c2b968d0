"""Decode text in whatever encoding a newspaper system or a web site wrote it.

Order:

1. a byte-order mark; UTF-32 and UTF-16 recognised by their zero bytes;
2. a 7-bit encoding, declared or recognised by its escape sequences (ISO-2022-JP, ISO-2022-KR),
   which would otherwise pass for ASCII;
3. strict UTF-8 (also when a dump was cut inside a UTF-8 sequence, or when a few stray bytes
   of another encoding are mixed in);
4. the declared charset (XML declaration, ``<meta charset>``, ``<meta http-equiv="Content-Type">``),
   read as the superset browsers use (GB2312/GBK as GB18030, Shift_JIS as Windows-31J, EUC-KR
   as UHC, ISO-8859-1 as windows-1252);
5. detection from the bytes: Japanese when a Japanese reading holds kana, Korean when a Korean
   reading is hangul with spaces between words, Chinese (GB18030 or Big5, as charset-normalizer
   chooses between those two) when a Chinese reading is made of common characters, else the
   single-byte code page whose reading is plainest text in a language of its own script (see
   ``_single_byte``), else GB18030 or Big5 when either reads without error;
6. else the bytes are nonsense in every candidate: ``decode`` reads them as GB18030 with
   replacement characters, and ``read_text`` refuses the file by name.

Strict UTF-8 comes before the declaration because GBK-declared pages that are really UTF-8
are common, and valid UTF-8 is rarely an accident.  Which rule won is logged at INFO level
(``--verbose``).
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
import unicodedata
from pathlib import Path

log = logging.getLogger("broadsheet")

_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "gb_2312-80": "gb18030",
            "big5-hkscs": "big5hkscs", "x-big5": "big5", "utf8": "utf-8", "unicode": "utf-16",
            "x-sjis": "cp932", "sjis": "cp932", "shift-jis": "cp932", "shift_jis": "cp932", "ms_kanji": "cp932",
            "windows-31j": "cp932", "x-euc-jp": "euc_jp", "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949",
            "euc-kr": "cp949", "x-windows-949": "cp949", "tis-620": "cp874", "iso-8859-11": "cp874",
            "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
            "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254", "x-mac-cyrillic": "mac_cyrillic"}
#: A declared encoding that fails on the bytes is tried as the wider one its writers often meant.
_WIDER = {"euc_jp": "euc_jis_2004", "cp932": "shift_jis_2004", "big5": "big5hkscs", "iso8859-8": "cp1255",
          "iso8859-7": "cp1253", "iso8859-2": "cp1250", "iso8859-5": "cp1251", "cp1252": "latin-1"}
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
#: Escape sequences that switch an ISO-2022 text into its double-byte sets.
_ISO2022_JP = re.compile(rb"\x1b(?:\$[@B]|\$\(D|\(J|\(I)")
_ISO2022_KR = re.compile(rb"\x1b\$\)C")


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


#: How ``_decode`` says that no candidate gave text (``read_text`` refuses such a file).
NONSENSE = "gb18030 with replacement characters (fallback)"


def _decode(data: bytes) -> tuple[str, str]:
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name, errors="replace"), f"{name} (byte-order mark)"
    wide = _utf32_without_bom(data) or _utf16_without_bom(data)
    if wide:
        return data.decode(wide, errors="replace"), f"{wide} (zero bytes)"
    declared = declared_charset(data)
    name = _normalise(declared) if declared else None
    seven_bit = _seven_bit(data, name)
    if seven_bit:
        return seven_bit
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8"), "utf-8 (truncated inside a character)"
    mixed = _mostly_utf8(data)
    if mixed:
        return mixed
    if name:
        for candidate in (name, _WIDER.get(name)):
            if candidate:
                try:
                    text = data.decode(candidate)
                except UnicodeDecodeError:
                    continue
                if not _garbled(text):
                    return text, f"{candidate} (declared{'' if candidate == name else ' ' + name})"
        lenient = _lenient(data, name)
        if lenient is not None and not _garbled(lenient[0]):
            return lenient[0], f"{name} (declared; {lenient[1]} bytes it lacks replaced)"
    guess = _detect(data)
    if guess:
        return guess
    for name in ("gb18030", "big5"):
        try:
            return data.decode(name), f"{name} (fallback)"
        except UnicodeDecodeError:
            continue
    return data.decode("gb18030", errors="replace"), NONSENSE


def _lenient(data: bytes, name: str) -> tuple[str, int] | None:
    """``data`` read as ``name`` with replacement characters, when they are few (one in 100 characters):
    a handful of characters an encoding lacks (vendor extensions, damage) does not make it another."""
    text = data.decode(name, errors="replace")
    replaced = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    return (text, replaced) if replaced <= max(4, len(text) // 100) else None


def _garbled(text: str) -> bool:
    """Whether a reading that raised no error is still not text: private-use or C1 control characters, or
    mostly half-width katakana (what Windows-31J makes of single-byte text)."""
    wide = _non_ascii(text)
    if len(wide) < 8:
        return False
    bad = sum(1 for c in wide if "\ue000" <= c <= "\uf8ff" or "\x80" <= c <= "\x9f")
    halfwidth = sum(1 for c in wide if "\uff61" <= c <= "\uff9f")
    return bad > len(wide) / 50 or halfwidth > len(wide) / 2


def _seven_bit(data: bytes, declared: str | None) -> tuple[str, str] | None:
    """An ISO-2022 text, declared or recognised by its escape sequences."""
    if declared and declared.startswith("iso2022"):
        candidates = [(declared, "declared")]
    elif _ISO2022_JP.search(data[:65536]):
        candidates = [("iso2022_jp", "escape sequences"), ("iso2022_jp_2", "escape sequences"),
                      ("iso2022_jp_ext", "escape sequences")]
    elif _ISO2022_KR.search(data[:65536]):
        candidates = [("iso2022_kr", "escape sequences")]
    else:
        return None
    for name, why in candidates:
        try:
            return data.decode(name), f"{name} ({why})"
        except UnicodeDecodeError:
            continue
    return None


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
    return _plausible(sample, name)


def _plausible(sample: bytes, name: str) -> str | None:
    """``name`` when ``sample`` decodes in it to printable text (98% at least), else None."""
    try:
        text = sample.decode(name)
    except UnicodeDecodeError:
        return None
    plausible = sum(1 for c in text if c.isprintable() or c in "\r\n\t")
    return name if plausible >= 0.98 * len(text) else None


def _utf32_without_bom(data: bytes) -> str | None:
    """Recognise UTF-32 without a byte-order mark: two zero bytes in every four, on one side."""
    sample = data[:4000]
    sample = sample[: len(sample) - len(sample) % 4]
    if len(sample) < 16:
        return None
    quarters = [sample[n::4].count(0) for n in range(4)]
    count = len(sample) // 4
    if quarters[2] == count and quarters[3] == count and quarters[0] < count:
        name = "utf-32-le"
    elif quarters[0] == count and quarters[1] == count and quarters[3] < count:
        name = "utf-32-be"
    else:
        return None
    return _plausible(sample, name)


# --- detection ---------------------------------------------------------------------------------

_HIRAGANA = re.compile("[\u3041-\u309f]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_HAN = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
#: Multi-byte encodings read for detection: each strictly, no replacement characters.
_MULTI_BYTE = ("cp932", "euc_jp", "euc_jis_2004", "shift_jis_2004", "cp949", "gb18030", "big5")


def _detect(data: bytes) -> tuple[str, str] | None:
    """Choose an encoding for bytes that declare none and are not UTF-8 (see the module's notes)."""
    readings = {}
    for name in _MULTI_BYTE:
        try:
            readings[name] = data.decode(name)
        except UnicodeDecodeError:
            continue
    for name in ("euc_jp", "cp932", "euc_jis_2004", "shift_jis_2004"):
        if name in readings and _japanese(readings[name]):
            return readings[name], f"{name} (detected: kana)"
    if "cp949" in readings and _korean(readings["cp949"]):
        return readings["cp949"], "cp949 (detected: hangul)"
    # A few bytes the encoding lacks (vendor characters, damage) do not hide Japanese or Korean text.
    for name, test in (("euc_jp", _japanese), ("cp932", _japanese), ("cp949", _korean)):
        if name not in readings:
            lenient = _lenient(data, name)
            if lenient is not None and test(lenient[0]):
                return lenient[0], f"{name} (detected; {lenient[1]} bytes it lacks replaced)"
    chinese = [name for name in ("gb18030", "big5") if name in readings]
    if any(_common_chinese(readings[name], name) for name in chinese):
        return _chinese(data, chinese)
    single = _single_byte(data)
    if single:
        return single
    return _chinese(data, chinese) if chinese else None


def _non_ascii(text: str) -> list[str]:
    return [c for c in text[:20000] if ord(c) > 127 and not c.isspace()]


def _japanese(text: str) -> bool:
    """Japanese: hiragana, which Chinese and Korean text read in a Japanese encoding lacks, are common."""
    wide = _non_ascii(text)
    return len(wide) >= 4 and len(_HIRAGANA.findall(text[:20000])) >= max(2, len(wide) / 10)


def _korean(text: str) -> bool:
    """Korean: hangul with spaces between words and hardly any Han characters (GB2312 text read as
    EUC-KR gives as many hanja as hangul, and no spaces)."""
    sample = text[:20000]
    hangul, han = len(_HANGUL.findall(sample)), len(_HAN.findall(sample))
    spaces = len(re.findall("[\uac00-\ud7af][ \u3000]", sample))
    return hangul >= 4 and hangul >= 0.5 * len(_non_ascii(sample)) and han <= hangul / 10 and spaces >= hangul / 12


def _common_chinese(text: str, encoding: str) -> bool:
    """Chinese: four in five of its Han characters are among the common ones of the encoding (GB2312's
    first level, Big5's frequent characters); other text read as Chinese hits rare ones as often."""
    han = _HAN.findall(text[:20000])
    if len(han) < 2:
        return False
    common = _common_han(encoding)
    return sum(1 for c in han if c in common) >= 0.8 * len(han)


@functools.lru_cache(maxsize=2)
def _common_han(encoding: str) -> frozenset[str]:
    if encoding == "gb18030":  # GB2312 level 1: rows 0xB0–0xD7
        pairs = [bytes((lead, trail)) for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF)]
        codec = "gb2312"
    else:  # Big5 frequently used characters: 0xA440–0xC67E
        pairs = [bytes((lead, trail)) for lead in range(0xA4, 0xC7)
                 for trail in (*range(0x40, 0x7F), *range(0xA1, 0xFF))]
        codec = "big5"
    found = set()
    for pair in pairs:
        try:
            found.add(pair.decode(codec))
        except UnicodeDecodeError:
            continue
    return frozenset(found)


def _chinese(data: bytes, candidates: list[str]) -> tuple[str, str] | None:
    """Choose between GB18030 and Big5, the two readings that decode, as charset-normalizer judges."""
    from charset_normalizer import from_bytes

    # Between those two only: short Chinese texts are otherwise easily taken for EUC-KR or Shift-JIS.
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


#: Single-byte code pages, in the order preferred when readings are equally plain.
_CODE_PAGES = ("cp1252", "cp1250", "iso8859_2", "cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp1253", "iso8859_7",
               "cp1254", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp1257", "cp874", "cp1258", "mac_cyrillic")
#: How plain the best reading must be (mean log-likelihood per n-gram of the likeliest language, plus the log of
#: the share of bytes that are known n-grams): text in a language scores about -6 to -9.5, bytes of another kind
#: of text read in the wrong code page, or none, less.
PLAIN = -10.0
_TAG = re.compile(rb"<[^>]*>|&#?\w+;")


def _single_byte(data: bytes) -> tuple[str, str] | None:
    """The single-byte code page whose reading is most like text in some language (py3langid's n-grams)."""
    sample = _TAG.sub(b" ", data[:65536])[:20000]
    if not any(b > 127 for b in sample):
        sample = data[:20000]
    scored = []
    for order, name in enumerate(_CODE_PAGES):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        try:
            plain = _plainness(text)
        except (ImportError, AttributeError):  # no py3langid, or one of another make: charset-normalizer decides
            return _normalizer_single_byte(data)
        scored.append((plain - _misshapen(text), -order, name, text))
    if not scored:
        return None
    score = max(row[0] for row in scored)
    if score < PLAIN:
        high = sum(1 for b in sample if b > 127)
        if high > len(sample) * 0.3:
            return None
        # Mostly ASCII, which reads the same in every page: a few stray bytes make no nonsense of it.
        plain, order, name, text = max(scored, key=lambda row: row[1])
        return data.decode(name, errors="replace"), f"{name} (detected: mostly ASCII)"
    # Readings that score the same differ only in characters that no n-gram holds (ISO-8859-7 and windows-1253
    # put Greek capitals with tonos in different places): the one with most letters, else the preferred page.
    tied = [(sum(1 for c in text if ord(c) > 127 and c.isalpha()), order, name)
            for plain, order, name, text in scored if plain >= score - 0.01]
    name = max(tied)[2]
    try:
        return data.decode(name), f"{name} (detected)"
    except UnicodeDecodeError:  # a byte the page lacks past the part read for detection
        return data.decode(name, errors="replace"), f"{name} (detected; bytes it lacks replaced)"


def _normalizer_single_byte(data: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(_CODE_PAGES)).best()
    if best is None or best.chaos > 0.2:
        return None
    return str(best), f"{best.encoding} (detected)"


def _script(char: str) -> str:
    return unicodedata.name(char, "?").split(" ")[0]


def _misshapen(text: str) -> float:
    """A penalty for shapes that text in a code page's own languages does not take: words mixing scripts
    (Arabic letters beside accented Latin ones, as windows-1256 reads Cyrillic), capitals after small letters
    within a word (KOI8-R read as windows-1251), most letters capitals, Thai broken up by spaces."""
    letters = [c for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return 0.0
    faults = 0
    for a, b in zip(text, text[1:]):
        if not (a.isalpha() and b.isalpha()) or (ord(a) < 128 and ord(b) < 128):
            continue
        if _script(a) != _script(b):
            faults += 1
        elif a.islower() and b.isupper():
            faults += 1
    cased = [c for c in letters if c.isupper() or c.islower()]
    capitals = sum(1 for c in cased if c.isupper())
    penalty = 4.0 * faults / len(letters)
    if len(cased) >= 20 and capitals > 0.6 * len(cased):
        penalty += 1.0
    thai = sum(1 for c in letters if "\u0e00" <= c <= "\u0e7f")
    if thai > len(letters) / 2 and text.count(" ") > thai / 10:
        penalty += 2.0
    return penalty


def _plainness(text: str) -> float:
    import math

    import numpy as np
    from py3langid.langid import visit_counts

    from .language import _classifier

    identifier = _classifier()
    encoded = identifier._encode(text)
    visits = visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, encoded)
    if not visits or not encoded:
        return -math.inf
    total = sum(visits.values())
    index = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
    counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
    likelihood = float((counts @ identifier.nb_ptc[index]).max()) / total
    return likelihood + math.log(total / len(encoded))


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
    text, how = _decode(data)
    if how == NONSENSE:
        raise IngestError("not text in any encoding tried (UTF-8, UTF-16, UTF-32, GB18030, Big5, Shift_JIS, "
                          "EUC-JP, EUC-KR, ISO-2022, the windows and ISO-8859 code pages, KOI8)", path)
    log.info("%s: decoded as %s", path, how)
    return text


_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF", b"RIFF")
#: Every byte but the control characters that text does not hold (all below 32 but tab, line
#: feed, vertical tab, form feed, carriage return and escape): deleting these leaves the controls.
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32 and b != 27))


def looks_binary(data: bytes) -> bool:
    """Return True for pictures, archives, executables and other non-text bytes."""
    if data.startswith(_MAGIC):
        return True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)) or _utf16_without_bom(data) \
            or _utf32_without_bom(data):
        return False
    sample = data[:8192]
    if not sample:
        return False
    controls = len(sample.translate(None, _NOT_CONTROL))
    return controls > max(8, len(sample) // (100 if b"\x00" in sample else 10))
