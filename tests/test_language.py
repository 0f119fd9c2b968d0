"""Which language a source is in: told by its text, a declaration kept unless the text clearly contradicts it."""

from __future__ import annotations

import pytest

from conftest import inspect_cli

from broadsheet.ingest import feed
from broadsheet.ingest.base import Context
from broadsheet.ingest.language import guess_language, identify, resolve

TEXTS = {
    "ru": "Правительство объявило во вторник о новой пенсионной реформе. Закон вступит в силу в январе.",
    "pt": "O governo anunciou nesta terça-feira uma nova reforma da previdência, que entra em vigor em janeiro.",
    "fr": "Le gouvernement a annoncé mardi une nouvelle réforme des retraites, qui entrera en vigueur en janvier.",
    "de": "Die Regierung hat am Dienstag eine neue Rentenreform angekündigt, die im Januar in Kraft tritt.",
    "es": "El gobierno anunció el martes una nueva reforma de las pensiones, que entrará en vigor en enero.",
    "en": "The government announced a new pension reform on Tuesday, which will come into force in January.",
    "zh-CN": "政府周二宣布了一项新的养老金改革，将于明年一月起实施。",
    "zh-TW": "政府週二宣布了一項新的養老金改革，將於明年一月起實施，這對們來說很重要。",
    "ja": "政府は火曜日、新しい年金改革を発表しました。来年一月から施行されます。",
    "ko": "정부는 화요일 새로운 연금 개혁을 발표했다. 내년 1월부터 시행된다.",
}


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_identify(language):
    guess = identify(TEXTS[language])
    assert guess is not None and guess.confident
    assert guess.tag == language
    assert guess_language(TEXTS[language]) == language


def test_short_or_empty_text():
    assert guess_language("") == "en" and identify("") is None and identify("1234 5678") is None
    assert guess_language("OK") == "en"  # too short to tell: English, as before
    assert guess_language("郑州日报") == "zh-CN"  # the script tells on four characters
    assert guess_language("臺灣時報們這說") == "zh-TW"


def test_resolve_weighs_declaration_and_text():
    # the text outweighs a declaration it clearly contradicts
    assert resolve("en", TEXTS["zh-CN"]) == "zh-CN"
    assert resolve("en-US", TEXTS["ru"]) == "ru"
    assert resolve("de", TEXTS["fr"]) == "fr"
    # a declaration the text agrees with keeps its region and script
    assert resolve("en-GB", TEXTS["en"]) == "en-GB"
    assert resolve("zh-Hant-HK", TEXTS["zh-TW"]) == "zh-Hant-HK"
    assert resolve("pt-BR", TEXTS["pt"]) == "pt-BR"
    # close languages are not told apart against a declaration
    assert resolve("gl", TEXTS["pt"]) == "gl"
    # between Chinese, Japanese and Korean only much text outweighs a declaration: kanji headlines are Japanese
    assert resolve("ja", "日経平均株価大幅続落 東証一部上場企業決算発表") == "ja"
    assert resolve("ja", TEXTS["zh-CN"] * 3) == "zh-CN"
    # too short to tell: the declaration stands
    assert resolve("fr", "Sommaire") == "fr"
    assert resolve("en", "Moscow") == "en"
    # nothing declared: the text, else the fallback, else English
    assert resolve(None, TEXTS["pt"]) == "pt"
    assert resolve(None, "OK", fallback="ru") == "ru"
    assert resolve(None, "OK") == "en"


def rss(items: list[tuple[str, str]], language: str | None = None, title: str = "Feed") -> str:
    declared = f"<language>{language}</language>" if language else ""
    body = "".join(f"<item><title>{t}</title><link>https://example.org/{n}</link><description>{d}</description>"
                   f"<pubDate>Tue, 12 Mar 2024 07:30:00 +0000</pubDate></item>" for n, (t, d) in enumerate(items))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>{declared}'
            f"{body}</channel></rss>")


def test_feed_languages(tmp_path):
    path = tmp_path / "feed.xml"
    # a Chinese feed declaring English is Chinese
    path.write_text(rss([("政府宣布新的养老金改革", TEXTS["zh-CN"]), ("市政府发布通知", TEXTS["zh-CN"])], "en"),
                    encoding="utf-8")
    (draft,) = feed.load(path, Context(root=tmp_path))
    assert draft.language == "zh-CN" and {a.lang for a in draft.sections[0].articles} == {"zh-CN"}
    # a feed without <language>: Russian, Portuguese, French
    for language in ("ru", "pt", "fr"):
        path.write_text(rss([(TEXTS[language][:40], TEXTS[language])] * 2), encoding="utf-8")
        (draft,) = feed.load(path, Context(root=tmp_path))
        assert draft.language == language
    # a feed mixing languages: each entry in its own; a short one keeps the feed's declaration
    path.write_text(rss([("Pension reform", TEXTS["en"]), ("Réforme des retraites", TEXTS["fr"]),
                         ("Reforma", TEXTS["pt"]), ("Brief", "Short note.")], "en-GB"), encoding="utf-8")
    (draft,) = feed.load(path, Context(root=tmp_path))
    assert draft.language == "en-GB"
    articles = draft.sections[0].articles
    assert [a.lang for a in articles] == ["en-GB", "fr", "pt", "en-GB"]
    # the note that an entry is only a summary is in the entry's language
    assert articles[0].blocks[-1].content.text.startswith("Summary from the feed")
    assert articles[1].blocks[-1].content.text.startswith("Résumé tiré du flux")
    assert articles[2].blocks[-1].content.text.startswith("Resumo do feed")


def test_cli_russian_feed_without_language(tmp_path):
    path = tmp_path / "novosti.xml"
    path.write_text(rss([(TEXTS["ru"][:30], TEXTS["ru"])] * 3, title="Новости"), encoding="utf-8")
    data, _ = inspect_cli(path)
    assert data["publication"]["language"] == "ru"
    assert data["issues"][0]["sections"][0]["articles"][0]["lang"] == "ru"
