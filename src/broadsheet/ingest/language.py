"""Which language a text is written in, as a BCP 47 tag.

Chinese, Japanese and Korean are told by their scripts (kana, hangul, Han characters), and
Simplified from Traditional Chinese by characters whose forms differ: deterministic, and
right on short headlines.  Every other text goes to py3langid (a naive Bayes classifier
over byte n-grams, the one trafilatura uses), loaded on first use only: importing it (with
numpy) and reading its model cost a tenth of a second or more (its model is kept decompressed
in the user's cache, see ``langmodel``), which a build of Chinese, Japanese or Korean sources,
or of sources whose language is configured, never pays.

``resolve`` weighs a declaration (``<language>``, ``<html lang>``) against the text: a
declaration that the text agrees with, or that the text is too short to judge, is kept as
written (``en-GB`` stays ``en-GB``); one that the text clearly contradicts (a Chinese feed
declaring ``en``) gives way to the text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Guess", "guess_language", "identify", "resolve"]

_HAN = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")

#: Letters (of any script) below which a text is too short to tell a language by.
MIN_LETTERS = 24
#: The classifier's probability above which its answer is trusted.
CONFIDENT = 0.90
#: A declared language the classifier gives at least this much probability is kept.
PLAUSIBLE = 0.02

#: py3langid's codes that are not the BCP 47 tags broadsheet writes.
_TAGS = {"nb": "no", "zh": "zh-CN"}
#: Languages so close that a text's n-grams do not tell them apart reliably: one declared is kept.
_CLOSE = [{"no", "nb", "nn", "da"}, {"ms", "id"}, {"hr", "sr", "bs"}, {"cs", "sk"}, {"gl", "pt"},
          {"ca", "es", "gl"}, {"be", "uk", "ru"}, {"af", "nl"}, {"lb", "de"}]
#: Rarely the language of a news text, and what short texts in other languages are often taken for.
_UNLIKELY = {"an", "vo", "wa", "oc", "la", "eo", "qu", "xh", "zu", "se", "kw", "rw", "mg", "nso", "ht"}

# Characters common in Traditional text whose Simplified forms differ (and vice versa).
_TRADITIONAL = set("們個這說為來時國會對學發經過開關後與當實現點長問進動體現從還讓認並應將於條邊級區義價營業專書單報導")
_SIMPLIFIED = set("们个这说为来时国会对学发经过开关后与当实现点长问进动体现从还让认并应将于条边级区义价营业专书单报导")
#: the characters of one script and not the other (made once, not once per character looked at)
_ONLY_TRADITIONAL = frozenset(_TRADITIONAL - _SIMPLIFIED)
_ONLY_SIMPLIFIED = frozenset(_SIMPLIFIED - _TRADITIONAL)


@dataclass(frozen=True)
class Guess:
    tag: str  # BCP 47
    confident: bool  # enough text, and a clear answer
    probabilities: dict[str, float] | None = None  # the classifier's, by primary subtag (None for CJK scripts)


def _looks_traditional(text: str) -> bool:
    traditional = sum(1 for c in text if c in _ONLY_TRADITIONAL)
    simplified = sum(1 for c in text if c in _ONLY_SIMPLIFIED)
    return traditional > simplified * 2 and traditional >= 3


def identify(text: str) -> Guess | None:
    """Return the language of ``text``, or None when it holds no letters at all."""
    sample = text[:20000]
    han = len(_HAN.findall(sample))
    kana = len(_KANA.findall(sample))
    hangul = len(_HANGUL.findall(sample))
    latin = len(_LATIN.findall(sample))
    sure = han + kana + hangul >= 8
    if kana > 0 and kana + han > latin / 4:
        return Guess("ja", sure)
    if hangul > latin / 4 and hangul > han:
        return Guess("ko", sure)
    if han > latin / 4:
        return Guess("zh-TW" if _looks_traditional(sample) else "zh-CN", sure)
    letters = len(_LETTER.findall(sample[:5000]))
    if letters == 0:
        return None
    try:
        ranked = _classifier().rank(_without_markup(sample[:5000]))
    except ImportError:  # the classifier is not installed: as before it came, English unless the script says
        return Guess("en", False, {"en": 1.0})
    probabilities: dict[str, float] = {}
    for code, probability in ranked:
        if code in _UNLIKELY:
            continue
        primary = _TAGS.get(code, code).split("-")[0]
        probabilities[primary] = probabilities.get(primary, 0.0) + float(probability)
    total = sum(probabilities.values()) or 1.0
    probabilities = {code: p / total for code, p in probabilities.items()}
    best = max(probabilities, key=probabilities.get)
    tag = _TAGS.get(best, best)
    if best == "zh":
        tag = "zh-TW" if _looks_traditional(sample) else "zh-CN"
    confident = letters >= MIN_LETTERS and probabilities[best] >= CONFIDENT
    return Guess(tag, confident, probabilities)


def guess_language(text: str) -> str:
    """Return a BCP 47 tag for the language of ``text`` (``en`` when there is nothing to tell by)."""
    guess = identify(text)
    if guess is None:
        return "en"
    return guess.tag if guess.probabilities is None or _enough(text) else "en"


def _enough(text: str) -> bool:
    """Whether ``text`` has letters enough to take the classifier's best answer (fewer will do outside the
    Latin script, which already narrows the choice)."""
    sample = text[:5000]
    letters = len(_LETTER.findall(sample))
    latin = len(_LATIN.findall(sample))
    return letters >= MIN_LETTERS or (letters >= 6 and latin < letters / 2)


def resolve(declared: str | None, text: str, fallback: str | None = None) -> str:
    """Return the language of ``text`` given what its source declares (see the module's notes).

    Without a declaration: the text's language when it tells one, else ``fallback``, else ``en``."""
    guess = identify(text)
    if declared is None:
        if guess is not None and (guess.confident or (fallback is None and _enough(text))):
            return guess.tag
        if fallback:
            return fallback
        return guess.tag if guess is not None and guess.probabilities is None else "en"
    if guess is None or not guess.confident:
        return declared
    said, told = declared.split("-")[0].lower(), guess.tag.split("-")[0]
    if said == told or any(said in group and told in group for group in _CLOSE):
        return declared
    if said in _CJK and told in _CJK and _cjk_count(text) < 50:
        # Japanese headlines without kana read as Chinese: between these, only much text outweighs a declaration
        return declared
    if guess.probabilities is not None and guess.probabilities.get(said, 0.0) >= PLAUSIBLE:
        return declared
    return guess.tag


_CJK = {"zh", "ja", "ko"}


def _cjk_count(text: str) -> int:
    sample = text[:20000]
    return len(_HAN.findall(sample)) + len(_KANA.findall(sample)) + len(_HANGUL.findall(sample))


_MARKUP = re.compile(r"<[^>]*>|https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+")


def _without_markup(text: str) -> str:
    return _MARKUP.sub(" ", text)


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _load():
    from .langmodel import load_identifier

    return load_identifier()


def _classifier():
    with _LOCK:
        return _load()
