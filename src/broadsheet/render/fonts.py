"""What the installed fonts can draw (fontconfig), so that no edition prints as tofu."""

from __future__ import annotations

import bisect
import hashlib
import os
import shutil
import subprocess
import unicodedata
from array import array
from functools import cache

from ..errors import FontCoverageError
from ..fontconfig import listed, matched, queried

_IGNORED_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"}
#: The Noto CJK variant of a language's Han characters (and kana, hangul), as the stylesheets name it
#: (styles/cjk.css): by the language tag's beginning, SC (simplified Chinese) for any other.
_CJK_VARIANTS = (("zh-tw", "TC"), ("zh-hant", "TC"), ("zh-hk", "HK"), ("zh-mo", "HK"), ("ja", "JP"), ("ko", "KR"))


def cjk_variant(lang: str) -> str:
    """The Noto CJK variant (SC, TC, HK, JP, KR) that sets ``lang``'s CJK characters."""
    lowered = lang.lower()
    return next((variant for prefix, variant in _CJK_VARIANTS if lowered.startswith(prefix)), "SC")


_CACHE_MAGIC = b"broadsheet-coverage-1\n"


@cache
def _coverage() -> tuple[list[int], list[int]]:
    """Return the merged code point ranges of every font fontconfig knows.

    Merging fontconfig's charsets takes far longer than listing them, so the merged ranges
    are kept on disk (``usercache``: ``$XDG_CACHE_HOME/broadsheet/fonts``) under the SHA-256 of the listing they
    were made from: a listing that differs in any byte (a font added, removed or changed)
    is merged anew, and a cache file that does not check out is ignored.
    """
    listing = listed("%{charset}\n")
    if listing is None:
        if shutil.which("fc-list") is None:
            raise FontCoverageError("fc-list not found: install fontconfig so that font coverage can be checked")
        listing = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, check=False).stdout
    key = hashlib.sha256(listing).hexdigest()
    cached = _read_cached(key)
    if cached is not None:
        return cached
    starts, ends = _merge(listing.decode("ascii", "replace"))
    _write_cached(key, starts, ends)
    return starts, ends


def _read_cached(key: str) -> tuple[list[int], list[int]] | None:
    """Return the ranges cached for ``key``, or None when there are none or they do not check out."""
    from ..usercache import read

    body = read("fonts", f"coverage-{key}.bin", _CACHE_MAGIC)
    if body is None:
        return None
    values = array("I")
    if len(body) % (2 * values.itemsize):
        return None
    values.frombytes(body)
    starts, ends = values[: len(values) // 2].tolist(), values[len(values) // 2:].tolist()
    if any(low > high for low, high in zip(starts, ends)) or any(a >= b for a, b in zip(starts, starts[1:])):
        return None
    return starts, ends


def _write_cached(key: str, starts: list[int], ends: list[int]) -> None:
    """Store the ranges for ``key`` (the caches of listings of other fonts go); a cache that cannot be written
    is no fault."""
    from ..usercache import write

    try:
        body = array("I", starts + ends).tobytes()
    except OverflowError:
        return
    write("fonts", f"coverage-{key}.bin", _CACHE_MAGIC, body, others="coverage-*.bin")


def _merge(output: str) -> tuple[list[int], list[int]]:
    """Merge the charsets fc-list printed (``20-7e a0-377 …``, one line a font) into sorted ranges."""
    ranges: list[tuple[int, int]] = []
    for token in output.split():
        low, _, high = token.partition("-")
        try:
            ranges.append((int(low, 16), int(high or low, 16)))
        except ValueError:
            continue
    ranges.sort()
    starts: list[int] = []
    ends: list[int] = []
    for low, high in ranges:
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
        else:
            starts.append(low)
            ends.append(high)
    return starts, ends


def missing_characters(text: str) -> list[str]:
    """Return, sorted, the characters of ``text`` that no installed font covers."""
    starts, ends = _coverage()
    missing = set()
    for char in set(text):
        if unicodedata.category(char) in _IGNORED_CATEGORIES:
            continue
        code = ord(char)
        index = bisect.bisect_right(starts, code) - 1
        if index < 0 or code > ends[index]:
            missing.add(char)
    return sorted(missing)


def is_pictograph(char: str) -> bool:
    """An emoji or another symbol (So, Sk): a picture in the text, not a letter; a fault of the fonts at hand,
    never of the edition, so it does not stop a build."""
    return unicodedata.category(char) in ("So", "Sk") or 0x1F000 <= ord(char) <= 0x1FAFF


#: Debian's font packages, and what each is for
_PACKAGES = (("fonts-noto-cjk", "CJK"), ("fonts-noto-core", "other scripts"),
             ("fonts-noto-color-emoji", "emoji"))


def font_hint(chars: list[str]) -> str:
    """What to install: Debian's font packages for such characters that are not installed yet, or, when
    they all are, a font of one's own."""
    wanted = ["fonts-noto-color-emoji"] if all(is_pictograph(c) for c in chars) else \
        [name for name, _ in _PACKAGES]
    missing = [name for name in wanted if not _installed(name)]
    if missing:
        return f"install a font that covers them (on Debian: apt-get install {' '.join(missing)})"
    return "no font of the Noto packages installed here covers them: install one that does (fontconfig finds it)"


def _installed(package: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
                            check=False)
    return "install ok installed" in result.stdout


def describe_missing(chars: list[str], limit: int = 12) -> str:
    shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars[:limit])
    more = f" and {len(chars) - limit} more" if len(chars) > limit else ""
    return f"no installed font has glyphs for {shown}{more}: {font_hint(chars)}"


@cache
def font_file(family: str, lang: str, bold: bool = False) -> tuple[str, int] | None:
    """Return (file, face index) of the font fontconfig picks for a family and language."""
    pattern = f"{family}:lang={lang.lower()}" + (":weight=bold" if bold else "")
    answer = matched(pattern, "%{file}|%{index}")
    if answer is None:
        if shutil.which("fc-match") is None:
            return None
        answer = subprocess.run(["fc-match", "--format", "%{file}|%{index}", pattern], capture_output=True,
                                check=False).stdout
    result = os.fsdecode(answer).strip()
    path, _, index = result.partition("|")
    if not path:
        return None
    return path, int(index or 0)


@cache
def font_cmap(path: str, number: int = 0) -> frozenset[int]:
    """The code points face ``number`` of the font file ``path`` has glyphs for (its best cmap, fontTools)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=number, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


@cache
def _face_ranges(path: str, number: int) -> tuple[list[int], list[int]] | None:
    listing = queried(path, number, "%{charset}\n")
    if listing is None:
        if shutil.which("fc-query") is None:
            return None
        listing = subprocess.run(["fc-query", "-i", str(number), "--format", "%{charset}\n", path],
                                 capture_output=True, check=False).stdout
    return _merge(listing.decode("ascii", "replace"))


def face_has(path: str, number: int, char: str) -> bool:
    """Whether face ``number`` of the font file ``path`` has a glyph for ``char``: fontconfig's charset of it
    (its query of the file, what fc-query prints), else its cmap."""
    ranges = _face_ranges(path, number)
    if ranges is None:
        return ord(char) in font_cmap(path, number)
    starts, ends = ranges
    index = bisect.bisect_right(starts, ord(char)) - 1
    return index >= 0 and ord(char) <= ends[index]
