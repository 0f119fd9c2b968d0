"""Language tags: the few questions broadsheet asks of a BCP 47 tag, answered once.

A leaf: imports only the standard library.
"""

from __future__ import annotations

#: Languages written in CJK scripts (fonts, line breaking, the cjk.css stylesheet).
CJK_LANGS = ("zh", "ja", "ko")


def primary(lang: str) -> str:
    """The primary language subtag, lower-cased: ``zh-Hant-TW`` → ``zh``."""
    return lang.split("-")[0].lower()


def is_cjk(lang: str) -> bool:
    """Chinese, Japanese or Korean."""
    return primary(lang) in CJK_LANGS


def is_chinese(lang: str) -> bool:
    return primary(lang) == "zh"


def no_word_spaces(lang: str) -> bool:
    """Chinese or Japanese: written without spaces between words (labels, separators, measures of text)."""
    return primary(lang) in ("zh", "ja")


#: Regions whose Chinese is written in traditional characters when the tag names no script.
TRADITIONAL_REGIONS = ("tw", "hk", "mo")


def is_traditional_chinese(lang: str) -> bool:
    """Chinese in traditional characters: ``zh-Hant``, ``zh-Hant-*`` or, without a script subtag,
    Taiwan, Hong Kong or Macao (``zh-TW``, ``zh-HK``, ``zh-MO``); ``zh-Hans-HK`` is simplified."""
    if not is_chinese(lang):
        return False
    subtags = [part.lower() for part in lang.split("-")[1:]]
    if "hant" in subtags:
        return True
    if "hans" in subtags:
        return False
    return any(region in subtags for region in TRADITIONAL_REGIONS)
