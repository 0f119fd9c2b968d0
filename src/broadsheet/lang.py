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
