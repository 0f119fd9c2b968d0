"""What the installed fonts can draw (fontconfig), so that no edition prints as tofu."""

from __future__ import annotations

import bisect
import shutil
import subprocess
import unicodedata
from functools import cache

from ..errors import FontCoverageError

FONT_HINT = "install a font that covers them (on Debian: apt-get install fonts-noto-cjk fonts-noto-core)"
_IGNORED_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"}


@cache
def _coverage() -> tuple[list[int], list[int]]:
    """Return the merged code point ranges of every font fontconfig knows."""
    if shutil.which("fc-list") is None:
        raise FontCoverageError("fc-list not found: install fontconfig so that font coverage can be checked")
    output = subprocess.run(
        ["fc-list", "--format", "%{charset}\n"], capture_output=True, text=True, check=False
    ).stdout
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


def describe_missing(chars: list[str], limit: int = 12) -> str:
    shown = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars[:limit])
    more = f" and {len(chars) - limit} more" if len(chars) > limit else ""
    return f"no installed font has glyphs for {shown}{more}: {FONT_HINT}"


@cache
def font_file(family: str, lang: str, bold: bool = False) -> tuple[str, int] | None:
    """Return (file, face index) of the font fontconfig picks for a family and language."""
    if shutil.which("fc-match") is None:
        return None
    pattern = f"{family}:lang={lang.lower()}" + (":weight=bold" if bold else "")
    result = subprocess.run(
        ["fc-match", "--format", "%{file}|%{index}", pattern], capture_output=True, text=True, check=False
    ).stdout.strip()
    path, _, index = result.partition("|")
    if not path:
        return None
    return path, int(index or 0)
