"""简繁: --convert s2t/s2tw/s2hk/t2s converts the model's Chinese text with OpenCC, markup untouched."""

from __future__ import annotations

import pytest
from lxml import etree

from conftest import EN_EXAMPLE, ZH_EXAMPLE, epub_files, run_cli

pytest.importorskip("opencc")

from broadsheet import load  # noqa: E402
from broadsheet.ingest.html import html_to_blocks  # noqa: E402
from broadsheet.model import Paragraph  # noqa: E402
from broadsheet.transform import LANGUAGES, convert_inline, convert_publication, converter  # noqa: E402

# A sentence of the 郑州日报 theory article (第15版), and its traditional form.
SIMPLIFIED = "农村基层党组织是我党开展农村工作和提升农村战斗力的基础"
TRADITIONAL = "農村基層黨組織是我黨開展農村工作和提升農村戰鬥力的基礎"
# OpenCC's standard traditional (s2t) writes 为 as 爲; Taiwan and Hong Kong write 為.
NOTE_TRADITIONAL = {"s2t": "作者爲鞏義市小關鎮黨委書記", "s2tw": "作者為鞏義市小關鎮黨委書記",
                    "s2hk": "作者為鞏義市小關鎮黨委書記"}
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml"}


@pytest.fixture(scope="module")
def zh():
    [edition] = load([ZH_EXAMPLE])
    return edition.publication


@pytest.mark.parametrize("mode", ["s2t", "s2tw", "s2hk"])
def test_the_theory_article_in_traditional(zh, mode):
    converted = convert_publication(zh, mode)
    assert converted.title == "鄭州日報" and converted.publisher == "鄭州日報社"
    assert converted.language == LANGUAGES[mode]
    issue = converted.issues[0]
    assert [s.name for s in issue.sections] == ["理論"]
    [article] = issue.articles
    assert article.lang == LANGUAGES[mode]
    assert article.title == "以創新精神加強農村基層黨組織建設"
    assert article.author_note == NOTE_TRADITIONAL[mode]
    first = article.blocks[0].content
    assert first.text.startswith(TRADITIONAL) and first.html.startswith(TRADITIONAL)
    assert SIMPLIFIED not in article.text
    # the model is immutable: the source publication is as it was
    assert zh.title == "郑州日报" and zh.issues[0].articles[0].blocks[0].content.text.startswith(SIMPLIFIED)


def test_languages_per_mode():
    assert LANGUAGES == {"s2t": "zh-Hant", "s2tw": "zh-TW", "s2hk": "zh-HK", "t2s": "zh-Hans"}


def test_every_conversion_has_a_configuration_and_a_language():
    from broadsheet.names import CONVERSIONS
    from broadsheet.transform import CONFIGS

    assert set(CONFIGS) == set(LANGUAGES) == set(CONVERSIONS)


def test_taiwan_uses_taiwan_vocabulary():
    assert converter("s2tw").convert("软件和鼠标") == "軟體和滑鼠"
    assert converter("s2t").convert("软件和鼠标") == "軟件和鼠標"


def test_traditional_back_to_simplified(zh):
    back = convert_publication(convert_publication(zh, "s2t"), "t2s")
    assert back.language == "zh-Hans"
    assert back.issues[0].articles[0].blocks[0].content.text.startswith(SIMPLIFIED)
    assert back.title == "郑州日报"


def test_markup_keeps_its_tags_and_attributes():
    [paragraph] = html_to_blocks('<p>发展<em title="国家">软件</em>与<a href="https://example.org/国家">网络</a>'
                                 "&amp; 1 &lt; 2</p>", lambda *a: None)
    assert isinstance(paragraph, Paragraph)
    converted = convert_inline(paragraph.content, converter("s2t").convert)
    # attributes are never converted (the link's path is 国家 percent-encoded, as ingest writes links)
    assert converted.html == ('發展<em title="国家">軟件</em>與<a href="https://example.org/%E5%9B%BD%E5%AE%B6">網絡</a>'
                              "&amp; 1 &lt; 2")
    assert converted.text == "發展軟件與網絡& 1 < 2"
    # nothing to convert: the very same markup, re-serialised as ingest writes it
    assert convert_inline(paragraph.content, lambda s: s) == paragraph.content


def test_english_is_left_alone():
    [edition] = load([EN_EXAMPLE])
    converted = convert_publication(edition.publication, "s2tw")
    assert converted == edition.publication


def test_every_field_is_converted(zh):
    article = zh.issues[0].articles[0].model_copy(update={
        "subtitle": "副题发展", "kicker": "引题发展", "byline": "本报记者 张三", "authors": ("张三",),
        "dateline": "郑州讯", "tags": ("农业",),
    })
    section = zh.issues[0].sections[0].model_copy(update={"articles": (article,)})
    issue = zh.issues[0].model_copy(update={"sections": (section,)})
    converted = convert_publication(zh.model_copy(update={"issues": (issue,)}), "s2t").issues[0].articles[0]
    assert (converted.subtitle, converted.kicker, converted.byline, converted.authors, converted.dateline,
            converted.tags) == ("副題發展", "引題發展", "本報記者 張三", ("張三",), "鄭州訊", ("農業",))


def test_build_converted_epub(tmp_path, assert_valid_epub):
    result = run_cli("build", ZH_EXAMPLE, "--convert", "s2tw", "-f", "epub", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "zzrb-2012-07-06.epub"
    assert_valid_epub(path)
    files = epub_files(path)
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    assert opf.findtext(".//dc:language", namespaces=NS) == "zh-TW"
    assert opf.findtext(".//dc:title", namespaces=NS).startswith("鄭州日報")
    nav = etree.fromstring(files["EPUB/nav.xhtml"], STRICT)
    assert nav.get("lang") == "zh-TW"
    toc = [a.xpath("string()") for a in nav.iter("{http://www.w3.org/1999/xhtml}a")]
    assert "以創新精神加強農村基層黨組織建設" in toc and any("理論" in t for t in toc)
    # the generated words are traditional too: the contents, the landmarks, the section pages
    generated = b"".join(data for name, data in files.items() if name.endswith((".xhtml", ".ncx"))).decode()
    assert "目錄" in generated and "目录" not in generated
    articles = [etree.fromstring(data, STRICT) for name, data in files.items()
                if name.startswith("EPUB/text/") and b"article-page" in data]
    [article] = articles
    assert article.get("lang") == article.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-TW"
    paragraphs = [p.xpath("string()") for p in article.iter("{http://www.w3.org/1999/xhtml}p")]
    assert any(p.startswith(TRADITIONAL) for p in paragraphs)
    assert not any(SIMPLIFIED in p for p in paragraphs)
    # cjk.css sets zh-TW text in the TC faces: cascade the EPUB's stylesheet over its documents
    from broadsheet.render.embed import faces_by_text

    css = files["EPUB/styles/style.css"].decode("utf-8")
    documents = [data for name, data in files.items() if name.endswith(".xhtml")]
    families = {face.family for face in faces_by_text(documents, css)}
    assert "Noto Serif CJK TC" in families and "Noto Sans CJK TC" in families, families
    assert not any(f.endswith(("SC", "HK", "JP", "KR")) for f in families), families


def test_unknown_conversion_is_a_usage_error(tmp_path):
    result = run_cli("build", ZH_EXAMPLE, "--convert", "x2y", "-f", "epub", "--out", tmp_path)
    assert result.returncode == 2
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("lang", "contents"), [
    ("zh-CN", "目录"), ("zh", "目录"), ("zh-Hans", "目录"), ("zh-SG", "目录"), ("zh-Hans-HK", "目录"),
    ("zh-TW", "目錄"), ("zh-HK", "目錄"), ("zh-MO", "目錄"), ("zh-Hant", "目錄"), ("zh-Hant-CN", "目錄"),
    ("ja", "目次"), ("ja-JP", "目次"), ("ko", "차례"), ("ko-KR", "차례"), ("en-GB", "Contents"), ("fr", "Contents"),
])
def test_labels_follow_script_and_region(lang, contents):
    from broadsheet.render.labels import labels_for

    assert labels_for(lang)["contents"] == contents


def test_every_language_has_every_label_and_dates_in_its_form():
    import datetime as dt

    from broadsheet.render.labels import _LABELS, format_date, section_label

    assert all(set(words) == set(_LABELS["en"]) for words in _LABELS.values())
    day = dt.date(2012, 7, 6)
    assert format_date(day, "ko-KR") == "2012년 7월 6일 금요일"
    assert format_date(day, "zh-TW") == "2012年7月6日 星期五"
    assert section_label("경제", "3", "ko") == "3면 경제"
