"""Article pages saved from a browser: the story is kept, the site around it is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import epub_files, inspect_cli, run_cli

from broadsheet.ingest import article, detect_kind, feed

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "article"
CHROME = ("COOKIE-BANNER-TEXT", "Accept all cookies", "NAV-MENU-TEXT", "FOOTER-TEXT", "All rights reserved",
          "RELATED-LINK-TEXT", "Related stories", "TRACKER-SCRIPT-TEXT", "SCRIPT-WRITTEN-TEXT", "dataLayer",
          "Privacy", "By Margaret Oakes")
CHROME_ZH = ("导航文字", "页脚文字", "相关链接文字", "热点新闻", "脚本文字", "_hmt", "豫ICP备", "来源：")


def inspect(*args):
    data, result = inspect_cli(*args)
    return data, result.stderr


@pytest.fixture
def pages(tmp_path) -> Path:
    folder = tmp_path / "saved"
    shutil.copytree(FIXTURES, folder)
    return folder


def only_article(data):
    (issue,) = data["issues"]
    (section,) = issue["sections"]
    (item,) = section["articles"]
    return issue, section, item


def test_detection(pages):
    story = pages / "story.html"
    head = story.read_bytes()[:65536]
    assert article.detect(story, head) == 50
    assert feed.detect(story, head) == 0
    assert detect_kind(story) == "article"
    assert detect_kind(pages / "gbk-news.html") == "article"
    other = pages / "page.dat"
    assert article.detect(other, b"\xef\xbb\xbf<!-- saved -->\n<html lang='en'><body>x</body></html>") == 50
    assert article.detect(other, "<!DOCTYPE html><p>x</p>".encode("utf-16-le")) == 50
    assert article.detect(other, b"# Title\n\nText with <html> in it.") == 0
    assert article.detect(other, b'<?xml version="1.0"?><rss version="2.0"></rss>') == 0


def test_saved_page_gives_the_story_without_the_site(pages):
    data, stderr = inspect(pages / "story.html")
    assert stderr == ""
    assert data["publication"]["title"] == "The Harbour Gazette"  # og:site_name
    assert data["publication"]["language"] == "en-GB"  # <html lang>
    issue, section, story = only_article(data)
    assert issue["date"] == "2024-03-12"
    assert section["name"] == "Articles"
    assert story["title"] == "Tide mill turns again after ninety years"
    assert story["subtitle"] == ("Volunteers have restored the last tide mill on the estuary, which ground its "
                                 "first flour in ninety years on Saturday.")
    assert story["authors"] == ["Margaret Oakes"]
    assert story["lang"] == "en-GB"
    assert story["source"] == "https://www.harbourgazette.example/news/2024/03/12/tide-mill"  # "saved from url"
    paragraphs = story["text"].split("\n\n")
    assert paragraphs[0].startswith("The last tide mill on the estuary ground its first sack of flour")
    assert paragraphs[2] == "The restored wheel turns for the first time since 1934."  # the caption, in place
    assert paragraphs[-1].startswith("Millers will grind flour on spring tides")
    assert len(paragraphs) == 7  # six paragraphs and the caption; the headline is the title, not text
    assert "Tide mill turns again" not in story["text"]
    assert story["images"] == [{"src": "./story_files/photo.jpg",
                                "caption": "The restored wheel turns for the first time since 1934.",
                                "alt": "The restored wheel at low tide"}]
    dump = json.dumps(data, ensure_ascii=False)
    for chrome in CHROME:
        assert chrome not in dump, chrome


def test_gbk_page_declared_gb2312(pages):
    raw = (pages / "gbk-news.html").read_bytes()
    assert b"charset=gb2312" in raw and "黄河".encode("gbk") in raw  # really GBK on disk
    data, stderr = inspect(pages / "gbk-news.html")
    assert stderr == ""
    assert data["publication"]["title"] == "中原晚报网"  # from "标题_栏目_网站名"
    assert data["publication"]["language"] == "zh-CN"
    issue, section, story = only_article(data)
    assert issue["date"] == "2023-11-20"
    assert section["name"] == "文章"
    assert story["title"] == "黄河湿地迎来首批越冬候鸟"
    assert story["authors"] == ["李明"]  # <meta name="author">
    assert story["tags"] == ["黄河湿地", "候鸟", "生态保护"]  # keywords, split
    assert story["lang"] == "zh-CN"
    paragraphs = story["text"].split("\n\n")
    assert len(paragraphs) == 6
    assert paragraphs[0] == ("连日来，随着气温逐渐降低，数千只越冬候鸟陆续飞抵黄河湿地自然保护区，"
                             "在浅滩和芦苇丛中觅食、嬉戏，为初冬的黄河增添了勃勃生机。")  # no 　　 indent
    assert paragraphs[-1] == "保护区提醒广大市民，观鸟时请保持安静，不要投喂不明食物，共同守护黄河湿地的生态之美。"
    dump = json.dumps(data, ensure_ascii=False)
    assert "\ufffd" not in dump
    for chrome in CHROME_ZH:
        assert chrome not in dump, chrome


def test_missing_picture_is_dropped_with_a_warning(pages):
    shutil.rmtree(pages / "story_files")
    data, stderr = inspect(pages / "story.html")
    _, _, story = only_article(data)
    assert story["images"] == []
    assert "story.html" in stderr and "./story_files/photo.jpg" in stderr and "not found" in stderr
    # the caption stays out of the text when its picture is gone
    assert "The restored wheel turns" not in story["text"]


def test_remote_pictures_are_not_fetched(pages):
    page = pages / "story.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "./story_files/photo.jpg", "https://cdn.harbourgazette.example/photo.jpg"), encoding="utf-8")
    data, stderr = inspect(page)
    _, _, story = only_article(data)
    assert story["images"] == []
    assert "https://cdn.harbourgazette.example/photo.jpg" in stderr and "remote" in stderr


def test_page_without_article_text_is_an_error(tmp_path):
    page = tmp_path / "empty.html"
    page.write_text("<!DOCTYPE html><html><head><title>Home</title></head><body>"
                    "<nav><a href='/a'>News</a> <a href='/b'>Sport</a></nav><footer>© 2024</footer></body></html>",
                    encoding="utf-8")
    result = run_cli("inspect", page)
    assert result.returncode == 1
    assert "empty.html" in result.stderr and "no article text found" in result.stderr


def test_saved_page_builds_a_valid_epub(pages, tmp_path, assert_valid_epub):
    out = tmp_path / "out"
    result = run_cli("build", pages / "story.html", "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    (epub,) = out.glob("*.epub")
    assert epub.name == "the-harbour-gazette-2024-03-12.epub"
    assert_valid_epub(epub)
    files = epub_files(epub)
    assert any(name.endswith(".jpg") and name != "EPUB/images/cover.jpg" for name in files)
    text = "".join(c.decode("utf-8") for n, c in files.items() if n.endswith(".xhtml"))
    assert "The restored wheel turns for the first time since 1934." in text
    assert "<script" not in text
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_loading_opens_no_connection(pages, monkeypatch):
    import socket

    from broadsheet.ingest.base import Context

    def refuse(*args, **kwargs):
        raise AssertionError("something was about to be fetched over the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("story.html", "gbk-news.html"):
        (draft,) = article.load(pages / name, Context(root=pages))
        assert draft.sections[0].articles[0].blocks
