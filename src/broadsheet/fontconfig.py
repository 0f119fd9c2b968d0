"""fontconfig's answers in this process: what ``fc-list``, ``fc-match`` and ``fc-query`` print, without starting them.

Every build asks fontconfig which fonts cover its text, which face sets a family in a language and what a face's
characters are: through its command-line tools that was a process each (nine in an EPUB build, 7–9 ms each, most
of it each process loading fontconfig's configuration and cache again).  Here the library itself is called
through ``ctypes``, once loaded for the process, and asked what the tools ask of it, formatted by its own
``FcPatternFormat`` with the tools' format: the same bytes as the tools print.  Where the library cannot be
loaded (or lacks a function), each function returns None and the caller runs the tool as before.

fontconfig is safe to call from several threads (since 2.10); a process forked after a call keeps its copy of
the configuration.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

#: FcMatchKind's FcMatchPattern
_MATCH_PATTERN = 0


class _FontSet(ctypes.Structure):
    """fontconfig's public ``FcFontSet``."""

    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


@cache
def _library() -> ctypes.CDLL | None:
    """libfontconfig with the signatures used here, or None."""
    try:
        fc = ctypes.CDLL("libfontconfig.so.1")
    except OSError:
        from ctypes.util import find_library

        name = find_library("fontconfig")
        if name is None:
            return None
        try:
            fc = ctypes.CDLL(name)
        except OSError:
            return None
    pointer, text = ctypes.c_void_p, ctypes.c_char_p
    signatures = {
        "FcPatternCreate": (pointer, []),
        "FcPatternDestroy": (None, [pointer]),
        "FcNameParse": (pointer, [text]),
        "FcConfigSubstitute": (ctypes.c_int, [pointer, pointer, ctypes.c_int]),
        "FcDefaultSubstitute": (None, [pointer]),
        "FcFontMatch": (pointer, [pointer, pointer, ctypes.POINTER(ctypes.c_int)]),
        "FcFontList": (pointer, [pointer, pointer, pointer]),
        "FcFontSetCreate": (pointer, []),
        "FcFontSetDestroy": (None, [pointer]),
        "FcFreeTypeQueryAll": (ctypes.c_uint, [text, ctypes.c_uint, pointer, ctypes.POINTER(ctypes.c_int), pointer]),
        "FcPatternFormat": (pointer, [pointer, text]),
        "FcStrFree": (None, [pointer]),
    }
    try:
        for name, (result, arguments) in signatures.items():
            function = getattr(fc, name)
            function.restype, function.argtypes = result, arguments
    except AttributeError:  # a fontconfig older than 2.13.1
        return None
    return fc


def _formatted(fc: ctypes.CDLL, pattern: int, format: bytes) -> bytes:
    text = fc.FcPatternFormat(pattern, format)
    if not text:
        return b""
    try:
        return ctypes.string_at(text)
    finally:
        fc.FcStrFree(text)


def _each_formatted(fc: ctypes.CDLL, fonts: int, format: bytes) -> bytes:
    found = ctypes.cast(fonts, ctypes.POINTER(_FontSet)).contents
    return b"".join(_formatted(fc, found.fonts[n], format) for n in range(found.nfont))


def listed(format: str) -> bytes | None:
    """What ``fc-list --format FORMAT`` prints: every font fontconfig knows, each formatted, in its order."""
    fc = _library()
    if fc is None:
        return None
    everything = fc.FcPatternCreate()
    fonts = fc.FcFontList(None, everything, None)
    fc.FcPatternDestroy(everything)
    if not fonts:
        return b""
    try:
        return _each_formatted(fc, fonts, format.encode())
    finally:
        fc.FcFontSetDestroy(fonts)


def matched(pattern: str, format: str) -> bytes | None:
    """What ``fc-match --format FORMAT PATTERN`` prints: the font fontconfig picks for ``pattern``, formatted."""
    fc = _library()
    if fc is None:
        return None
    asked = fc.FcNameParse(pattern.encode())
    if not asked:
        return b""
    try:
        fc.FcConfigSubstitute(None, asked, _MATCH_PATTERN)
        fc.FcDefaultSubstitute(asked)
        result = ctypes.c_int()
        font = fc.FcFontMatch(None, asked, ctypes.byref(result))
    finally:
        fc.FcPatternDestroy(asked)
    if not font:
        return b""
    try:
        return _formatted(fc, font, format.encode())
    finally:
        fc.FcPatternDestroy(font)


def queried(path: str, index: int, format: str) -> bytes | None:
    """What ``fc-query -i INDEX --format FORMAT PATH`` prints: face ``index`` of the font file (and its named
    instances), read from the file, each formatted."""
    fc = _library()
    if fc is None:
        return None
    faces = fc.FcFontSetCreate()
    try:
        fc.FcFreeTypeQueryAll(os.fsencode(path), index, None, None, faces)
        return _each_formatted(fc, faces, format.encode())
    finally:
        fc.FcFontSetDestroy(faces)
