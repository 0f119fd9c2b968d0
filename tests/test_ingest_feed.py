"""Feeds saved to disk (RSS 2.0, Atom, RSS 1.0/RDF): detection, the model they give, safety."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from conftest import epub_files, inspect_cli, run_cli

from broadsheet.ingest import detect_kind
from broadsheet.ingest import feed
from broadsheet.ingest.base import Context

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
CANARY = "CANARY-7f3a9c-SECRET-FILE-CONTENT"


def inspect(*args):
    data, result = inspect_cli(*args)
    return data, result.stderr


@pytest.fixture
def feeds(tmp_path) -> Path:
    folder = tmp_path / "feeds"
    shutil.copytree(FIXTURES, folder)
    return folder


def only_section(data):
    (issue,) = data["issues"]
    (section,) = issue["sections"]
    return issue, section


def test_detection_by_content_not_name(feeds, tmp_path):
    for name in ("rss2.xml", "atom.xml", "rdf.xml", "hostile.xml"):
        path = feeds / name
        assert feed.detect(path, path.read_bytes()[:65536]) == 95, name
        assert detect_kind(path) == "feed", name
    # any name will do: the content decides
    renamed = tmp_path / "download.bin"
    shutil.copy(feeds / "atom.xml", renamed)
    assert feed.detect(renamed, renamed.read_bytes()) == 95
    # UTF-16 with a byte-order mark, a comment before the root
    utf16 = ("\ufeff<?xml version='1.0' encoding='utf-16'?><!-- c --><rss version='2.0'><channel/></rss>").encode("utf-16-le")
    assert feed.detect(renamed, utf16) == 95
    # not feeds
    assert feed.detect(renamed, b'<?xml version="1.0"?><feed><x/></feed>') == 0  # no Atom namespace
    assert feed.detect(renamed, b'<?xml version="1.0"?><note>rss</note>') == 0
    assert feed.detect(renamed, b"<!DOCTYPE html><html><body><rss></rss></body></html>") == 0
    assert feed.detect(renamed, b"# A Markdown title\n\n<rss>") == 0


def test_language_tags_are_normalised():
    assert feed.language_tag("en-us") == "en-US"
    assert feed.language_tag("zh_cn") == "zh-CN"
    assert feed.language_tag("ZH-hans-cn") == "zh-Hans-CN"
    assert feed.language_tag("english") is None
    assert feed.language_tag("en-") == "en"
    assert feed.language_tag("") is None
    assert feed.language_tag(None) is None


def test_rss2_model(feeds):
    data, stderr = inspect(feeds / "rss2.xml")
    assert data["publication"]["title"] == "Harbour Gazette – Local News"
    assert data["publication"]["language"] == "en-US"  # <language>en-us</language>, normalised
    issue, section = only_section(data)
    assert issue["date"] == "2024-03-12"  # the newest entry
    assert section["name"] == "Harbour Gazette – Local News"
    articles = section["articles"]
    # feed order, not date order; an entry without a title is named by its first words
    assert [a["title"] for a in articles] == [
        "Tide mill turns again after ninety years",
        "Council approves new harbour wall",
        "Lifeboat crew rescues stranded walkers",
        "Ferry timetables change on Monday; the first sailing…",
    ]
    mill, council, lifeboat, ferry = articles

    # full content (content:encoded), not the description; dc:creator; categories
    assert mill["authors"] == ["Margaret Oakes"]
    assert mill["tags"] == ["Heritage", "Estuary"]
    assert mill["source"] == "https://www.harbourgazette.example/news/tide-mill"
    assert mill["lang"] == "en-US"
    assert mill["text"].split("\n\n") == [
        "The last tide mill on the estuary ground its first sack of flour in ninety years on Saturday.",
        "More than four hundred people lined the mill pond to watch the sluice gates open at high water.",
        "Visitors to the mill, by month.",
        "“We were not sure it would move at all,” said Peter Hale, who chairs the mill trust.",
    ]
    assert "Volunteers have restored" not in mill["text"]  # the description is not repeated
    assert "Summary from the feed" not in mill["text"]
    # a picture beside the feed is used, with its figcaption
    assert mill["images"] == [{"src": "images/chart.png", "caption": "Visitors to the mill, by month.",
                               "alt": "Visitors by month"}]

    # description only: the article says that it is a summary and where the full text is
    assert council["authors"] == ["Tom Reed"]
    assert council["tags"] == ["Council"]
    assert council["text"].split("\n\n") == [
        "Councillors voted 9–2 to rebuild the eastern harbour wall before next winter.",
        "Summary from the feed; the full article is at https://www.harbourgazette.example/news/harbour-wall",
    ]

    # <author>email (Name)</author>; the remote picture is dropped with a warning, the script removed
    assert lifeboat["authors"] == ["Ann Lee"]
    assert lifeboat["images"] == []
    assert lifeboat["text"].split("\n\n") == [
        "Two walkers cut off by the tide at Gull Point were brought ashore by the inshore lifeboat late on Saturday.",
        "The crew launched within six minutes of the call.",
        "The coastguard reminded visitors to check tide times before setting out.",
    ]
    assert "FEED-SCRIPT-TEXT" not in json.dumps(data)
    assert "https://cdn.harbourgazette.example/lifeboat.jpg" in stderr and "remote" in stderr
    assert "Summary from the feed" not in lifeboat["text"]

    assert ferry["authors"] == [] and ferry["tags"] == []
    assert ferry["text"].endswith("Summary from the feed; the full article is at https://www.harbourgazette.example/news/ferry")
    assert ferry["id"].startswith("ferry-timetables")


def test_atom_in_chinese(feeds):
    data, stderr = inspect(feeds / "atom.xml")
    assert stderr == ""
    assert data["publication"]["title"] == "郑州晚报 · 城事"
    assert data["publication"]["language"] == "zh-CN"
    issue, section = only_section(data)
    assert issue["date"] == "2024-05-02"  # the entry's own day (07:30 +08:00), not the UTC day
    assert section["name"] == "郑州晚报 · 城事"
    first, second = section["articles"]
    assert first["title"] == "二七广场地下通道重新开放"
    assert first["authors"] == ["王晓", "陈静"]
    assert first["tags"] == ["交通出行", "城建"]  # the label where given, else the term
    assert first["source"] == "https://zzwb.example.cn/city/1001"
    assert first["lang"] == "zh-CN"
    assert first["text"].split("\n\n") == [
        "经过三个月的改造，二七广场地下通道于今日上午重新开放。",
        "改造后的通道增设了无障碍电梯和导向标识，照明也全部更换为节能灯具。",
        "市民张女士说：“现在过马路方便多了。”",
    ]
    # only <summary>: marked as a summary, in the feed's language
    assert second["title"] == "五一假期首日客流创新高"
    assert second["authors"] == ["刘洋"]
    assert second["text"].split("\n\n") == [
        "五一假期首日，郑州东站发送旅客二十余万人次，创历史新高。",
        "以上为订阅源提供的摘要，全文见：https://zzwb.example.cn/city/1002",
    ]


def test_rss1_rdf(feeds):
    data, _ = inspect(feeds / "rdf.xml")
    assert data["publication"]["title"] == "The Valley Record"
    assert data["publication"]["language"] == "en-GB"  # dc:language
    issue, section = only_section(data)
    assert issue["date"] == "2024-04-18"
    bridge, fete = section["articles"]
    assert bridge["title"] == "Old packhorse bridge reopens to walkers"
    assert bridge["authors"] == ["Ruth Carter"]
    assert bridge["tags"] == ["Footpaths"]
    assert bridge["text"].startswith("The packhorse bridge at Low Mill reopened on Thursday")
    assert "Summary from the feed" not in bridge["text"]
    assert fete["authors"] == ["Sam Birch"]
    assert fete["text"] == ("The spring fete raised more than £3,000 for the village hall roof.\n\n"
                            "Summary from the feed; the full article is at https://valleyrecord.example/2024/04/fete")


def test_folder_of_feeds_gives_one_section_per_feed(feeds, tmp_path):
    folder = tmp_path / "2024-04-20"
    folder.mkdir()
    shutil.copy(feeds / "rss2.xml", folder / "a-harbour.rss")
    shutil.copytree(feeds / "images", folder / "images")
    shutil.copy(feeds / "rdf.xml", folder / "b-valley.rdf")
    data, _ = inspect(folder)
    (issue,) = data["issues"]
    assert issue["date"] == "2024-04-20"
    assert [s["name"] for s in issue["sections"]] == ["Harbour Gazette – Local News", "The Valley Record"]
    assert [len(s["articles"]) for s in issue["sections"]] == [4, 2]


def titles(drafts):
    return [a.title for d in drafts for s in d.sections for a in s.articles]


def test_since_and_until_filter_entries_by_date(feeds, tmp_path):
    path = feeds / "rss2.xml"
    everything = feed.load(path, Context(root=feeds))
    assert len(titles(everything)) == 4
    window = feed.load(path, Context(root=feeds, since=dt.date(2024, 3, 9), until=dt.date(2024, 3, 11)))
    assert titles(window) == ["Council approves new harbour wall", "Lifeboat crew rescues stranded walkers"]
    assert window[0].date == dt.date(2024, 3, 11)
    assert titles(feed.load(path, Context(root=feeds, since=dt.date(2024, 3, 12)))) == [
        "Tide mill turns again after ninety years"]
    # dates are the entry's own day: 07:30 +08:00 on 2 May is 1 May in UTC
    assert titles(feed.load(feeds / "atom.xml", Context(root=feeds, until=dt.date(2024, 5, 1)))) == ["五一假期首日客流创新高"]
    # entries without a date are kept
    undated = tmp_path / "undated.xml"
    undated.write_text(
        '<rss version="2.0"><channel><title>T</title>'
        "<item><title>Old</title><description>x</description><pubDate>Mon, 01 Jan 2001 00:00:00 GMT</pubDate></item>"
        "<item><title>Undated</title><description>y</description></item></channel></rss>", encoding="utf-8")
    assert titles(feed.load(undated, Context(root=tmp_path, since=dt.date(2020, 1, 1)))) == ["Undated"]
    # the configured language wins over the feed's
    assert feed.load(path, Context(root=feeds, language="en-GB"))[0].language == "en-GB"


def test_hostile_feed_expands_no_entity_and_reads_no_file(feeds, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text(CANARY + "\n", encoding="utf-8")
    shutil.copy(canary, feeds / "canary.txt")  # also where a relative SYSTEM id would point
    hostile = feeds / "hostile.xml"
    hostile.write_text(hostile.read_text(encoding="utf-8").replace("CANARY_PATH", canary.as_posix()), encoding="utf-8")

    result = run_cli("inspect", hostile, "--json")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert CANARY not in output
    assert "lollol" not in output
    assert "declares entities" in result.stderr and "hostile.xml" in result.stderr
    data = json.loads(result.stdout)
    _, section = only_section(data)
    assert [a["title"] for a in section["articles"]] == ["Entity bomb &lol9;", "Quiet item"]
    assert section["articles"][1]["text"].startswith("Ordinary text & <ampersands>.")

    out = tmp_path / "out"
    result = run_cli("build", hostile, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert CANARY not in result.stdout + result.stderr
    (epub,) = out.glob("*.epub")
    for name, content in epub_files(epub).items():
        assert CANARY.encode() not in content, name
        assert b"lollollol" not in content, name


def test_rss_feed_builds_a_valid_epub(feeds, tmp_path, assert_valid_epub):
    out = tmp_path / "out"
    result = run_cli("build", feeds / "rss2.xml", "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    (epub,) = out.glob("*.epub")
    assert epub.name == "harbour-gazette-local-news-2024-03-12.epub"
    assert_valid_epub(epub)
    files = epub_files(epub)
    pages = {name: content.decode("utf-8") for name, content in files.items() if name.endswith(".xhtml")}
    council = next(text for name, text in pages.items() if "council" in name)
    assert ('<a href="https://www.harbourgazette.example/news/harbour-wall">'
            "https://www.harbourgazette.example/news/harbour-wall</a>") in council
    assert "Summary from the feed" in council
    mill = next(text for name, text in pages.items() if "tide-mill" in name)
    assert "Visitors to the mill, by month." in mill
    assert any(name.endswith(".png") for name in files)
    assert not any("FEED-SCRIPT-TEXT" in text or "<script" in text for text in pages.values())
    assert not any("cdn.harbourgazette.example" in text for text in pages.values())


def test_loading_opens_no_connection(feeds, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a feed was about to be fetched over the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("rss2.xml", "atom.xml", "rdf.xml", "hostile.xml"):
        assert feed.load(feeds / name, Context(root=feeds))
