"""--writing-mode vertical: vertical-rl documents, 縦中横 digits, pages turned right to left."""

from __future__ import annotations

import pytest
from lxml import etree

from conftest import EN_EXAMPLE, ZH_EXAMPLE, epub_files, run_cli

from broadsheet.render.vertical import wrap_digit_runs

STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf", "x": "http://www.w3.org/1999/xhtml"}
PAGE = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" '
        'lang="zh-CN" xml:lang="zh-CN"><head><title>7月</title></head><body>{}</body></html>')


def wrapped(body: str) -> str:
    out = wrap_digit_runs(PAGE.format(body).encode("utf-8")).decode("utf-8")
    return out[out.index("<body>") + 6:out.index("</body>")]


@pytest.mark.parametrize("body,expected", [
    ("<p>全镇13个村的83名干部</p>",
     '<p>全镇<span class="tcy">13</span>个村的<span class="tcy">83</span>名干部</p>'),
    ("<p>第15版</p>", '<p>第<span class="tcy">15</span>版</p>'),
    ("<p>7月6日</p>", '<p><span class="tcy">7</span>月<span class="tcy">6</span>日</p>'),
    # longer numbers, numbers in words and decimals stay as they are
    ("<p>2012年 1600万元 A1 2.9倍 3mm</p>", "<p>2012年 1600万元 A1 2.9倍 3mm</p>"),
    # text in elements and after them; preformatted text untouched
    ("<p><em>12</em>日<br/>13日</p>",
     '<p><em><span class="tcy">12</span></em>日<br/><span class="tcy">13</span>日</p>'),
    ("<pre>12</pre><p><code>34</code></p>", "<pre>12</pre><p><code>34</code></p>"),
])
def test_short_digit_runs_are_set_upright(body, expected):
    assert wrapped(body) == expected


def test_wrapping_twice_changes_nothing():
    once = wrap_digit_runs(PAGE.format("<p>13个</p>").encode("utf-8"))
    assert wrap_digit_runs(once) == once
    untouched = PAGE.format("<p>没有数字</p>").encode("utf-8")
    assert wrap_digit_runs(untouched) is untouched
    assert "<title>7月</title>" in once.decode("utf-8")  # the head is not text to set


@pytest.fixture(scope="module")
def vertical_build(tmp_path_factory):
    """郑州日报 and The Harbour Gazette built together with --writing-mode vertical."""
    out = tmp_path_factory.mktemp("vertical")
    result = run_cli("build", ZH_EXAMPLE, EN_EXAMPLE, "-f", "epub", "--writing-mode", "vertical", "--out", out)
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.fixture(scope="module")
def vertical(vertical_build):
    return vertical_build[0] / "zzrb-2012-07-06.epub"


def test_an_edition_in_another_language_stays_horizontal_with_a_warning(vertical_build, assert_valid_epub):
    out, result = vertical_build
    warnings = [line for line in result.stderr.splitlines() if line.startswith("broadsheet: warning: ")]
    assert warnings == ["broadsheet: warning: The Harbour Gazette (en-GB): the vertical writing mode is for "
                        "Chinese, Japanese and Korean text: this edition stays horizontal"], result.stderr
    english = out / "harbour-gazette-2026-11-20.epub"
    files = epub_files(english)
    assert "vertical-rl" not in files["EPUB/styles/style.css"].decode("utf-8")
    assert not any(b'class="tcy"' in data for name, data in files.items() if name.endswith(".xhtml"))
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    assert opf.find("opf:spine", NS).get("page-progression-direction") in (None, "ltr")
    assert_valid_epub(english)


def test_pages_turn_right_to_left(vertical):
    opf = etree.fromstring(epub_files(vertical)["EPUB/content.opf"], STRICT)
    assert opf.find("opf:spine", NS).get("page-progression-direction") == "rtl"
    assert opf.get("dir") is None  # the metadata is not right-to-left text


def test_stylesheet_and_documents(vertical):
    files = epub_files(vertical)
    css = files["EPUB/styles/style.css"].decode("utf-8")
    assert "writing-mode: vertical-rl" in css and "-epub-writing-mode: vertical-rl" in css
    assert "text-combine-upright: all" in css
    article = next(data for name, data in files.items() if name.startswith("EPUB/text/") and b"article-page" in data)
    root = etree.fromstring(article, STRICT)
    upright = [s.text for s in root.iterfind(".//x:span[@class='tcy']", NS)]
    assert "13" in upright and "83" in upright
    assert all(1 <= len(t) <= 2 and t.isdigit() for t in upright)
    text = "".join(root.find("x:body", NS).itertext())
    assert "全镇13个村的83名村支两委干部" in text  # the text itself is unchanged


def test_vertical_epub_is_valid(vertical, assert_valid_epub):
    assert_valid_epub(vertical)


def test_horizontal_is_the_default(tmp_path):
    from broadsheet.config import EpubConfig

    assert EpubConfig().writing_mode == "horizontal"
    result = run_cli("inspect", ZH_EXAMPLE, "--json")
    assert result.returncode == 0 and "tcy" not in result.stdout  # the model never holds presentation
