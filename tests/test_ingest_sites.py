"""Article pages of known families (WeChat, Chinese portals) and what the general reading must not get wrong.

The fixtures are synthetic pages in the shape of each family's markup; their text is written for the tests.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from broadsheet.errors import IngestError
from broadsheet.ingest import article, boilerplate, sites
from broadsheet.ingest.base import Context
from broadsheet.model import Paragraph

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"


@pytest.fixture
def pages(tmp_path) -> Path:
    folder = tmp_path / "saved"
    shutil.copytree(FIXTURES, folder)
    return folder


def read(folder: Path, name: str):
    (draft,) = article.load(folder / name, Context(root=folder))
    (story,) = draft.sections[0].articles
    return draft, story


def paragraphs(story) -> list[str]:
    return [b.content.text for b in story.blocks if isinstance(b, Paragraph)]


def test_wechat_article(pages):
    draft, story = read(pages, "wechat.html")
    assert draft.publication == "山城晚报"  # the account (#js_name), not 微信公众平台
    assert story.title == "山城社区书屋开进老街巷"
    assert str(draft.date) == "2023-11-22"  # var ct: a Unix time, read in China's time
    assert story.authors == ("周晓岚",)  # never the bare number of <meta name="author">
    text = paragraphs(story)
    assert len(text) == 4  # the body, though the page hides it until its script runs
    assert text[0].startswith("入冬以来")
    assert text[-1].startswith("据介绍")
    for chrome in ("关注", "公众号", "责任编辑", "阅读原文", "在看", "扫一扫"):
        assert chrome not in story.text, chrome


@pytest.mark.parametrize(("name", "publication", "title", "date", "authors", "first", "last"), [
    ("people.html", "人民网", "沿江步道全线贯通 市民漫步赏秋景", "2023-11-20", ("韩雪松",), "历时两年建设", "据了解"),
    ("xinhua.html", "新华网", "高原铁路冬季运输保障有力", "2023-11-22", ("马云川",), "记者从铁路部门获悉", "铁路部门表示"),
    ("sina.html", "新浪新闻", "山区小学用上了新操场", "2023-11-23", (), "这个学期", "“现在每天最盼着"),
    ("thepaper.html", "澎湃新闻", "老城区加装电梯进展如何", "2023-11-24", ("钱小满",), "老城区的多层住宅", "不过"),
    ("netease.html", "网易", "湖区候鸟数量创新高", "2023-11-21", (), "今年入秋以来", "为减少人为干扰"),
    ("tencent.html", "腾讯网", "古镇石桥完成修缮", "2023-11-26", (), "横跨古镇河道", "不少老街坊"),
    ("guancha.html", "观察者网", "海岛渔村发展民宿经济", "2023-11-27", ("林小渔",), "东海一座小岛上", "为避免同质化竞争"),
    ("baijiahao.html", "百家号", "小镇咖啡馆的第一个冬天", "2023-11-25", ("远山视野",), "去年夏天", "入冬后客人少了"),
])
def test_portal_article(pages, name, publication, title, date, authors, first, last):
    draft, story = read(pages, name)
    assert draft.publication == publication
    assert story.title == title  # never the sidebar's heading
    assert str(draft.date) == date
    assert story.authors == authors
    text = paragraphs(story)
    assert text[0].startswith(first) and text[-1].startswith(last)
    for chrome in ("责任编辑", "责编", "版权所有", "热点", "热门", "推荐", "侧栏", "首页", "未经授权", "本文为",
                   "返回网易首页", "【纠错】", "来源："):
        assert chrome not in story.text, chrome
    assert not any(a.isdigit() for a in story.authors)


def test_dateline_and_credit_taken_from_the_text(pages):
    _, story = read(pages, "xinhua.html")
    assert story.dateline == "新华社西宁11月22日电"
    assert story.byline == "记者 马云川"
    assert paragraphs(story)[0].startswith("记者从铁路部门获悉")


@pytest.mark.parametrize(("name", "source"), [("netease.html", "江湖日报"), ("sina.html", "西岭日报"),
                                            ("tencent.html", "南湖晨报")])
def test_source_is_the_byline_when_nothing_else_credits(pages, name, source):
    _, story = read(pages, name)
    assert story.byline == source
    assert source not in story.text


def test_family_known_by_markup_without_an_address(pages):
    page = (pages / "xinhua.html").read_text(encoding="utf-8")
    assert "og:url" not in page and 'rel="canonical"' not in page
    assert sites.match(article._parse(page, pages / "xinhua.html"), None) is sites.XINHUA


def test_article_laid_out_as_a_list_is_read(pages):
    draft, story = read(pages, "list-layout.html")
    text = paragraphs(story)
    assert len(text) == 3 and text[0].startswith("十一月的河堤上") and text[-1].startswith("傍晚时分")
    assert story.title == "河堤上的桂花开了"
    assert draft.publication == "东岸生活网"
    assert "首页" not in story.text


def test_headline_never_from_a_sidebar(pages):
    draft, story = read(pages, "sidebar-headline.html")
    assert story.title == "Night ferry returns to the island route"
    assert draft.publication == "Estuary Courier"
    assert "Most read" not in story.text and "Council approves" not in story.text


def test_publication_is_the_domain_when_the_page_names_none(pages):
    draft, _ = read(pages, "links-only.html")
    assert draft.publication == "blog.example.org"


def test_publication_never_a_copyright_line(pages, tmp_path):
    page = pages / "copyright.html"
    page.write_text((pages / "sidebar-headline.html").read_text(encoding="utf-8").replace(
        "<title>Night ferry returns to the island route | Estuary Courier</title>",
        "<title>Night ferry returns to the island route | 网易版权所有</title>"
        '<meta property="og:url" content="https://www.estuary-courier.example/ferry">'), encoding="utf-8")
    draft, _ = read(pages, "copyright.html")
    assert draft.publication == "estuary-courier.example"


def test_mostly_links_is_said(pages, caplog):
    with caplog.at_level(logging.WARNING, logger="broadsheet"):
        read(pages, "links-only.html")
    assert any("links-only.html" in r.getMessage() and "links" in r.getMessage() for r in caplog.records)


def test_short_text_is_said(pages, caplog):
    page = pages / "short.html"
    page.write_text("<!DOCTYPE html><html lang='en'><head><title>Notice</title></head><body><article>"
                    "<p>The office is closed on Monday for the holiday.</p></article></body></html>", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="broadsheet"):
        read(pages, "short.html")
    assert any("short.html" in r.getMessage() and "characters" in r.getMessage() for r in caplog.records)


def test_good_page_is_not_warned_about(pages, caplog):
    with caplog.at_level(logging.WARNING, logger="broadsheet"):
        for name in ("people.html", "wechat.html", "sidebar-headline.html"):
            read(pages, name)
    assert not [r for r in caplog.records if "read well" in r.getMessage()]


def test_menu_page_is_refused_not_guessed(tmp_path):
    page = tmp_path / "menu.html"
    page.write_text("<!DOCTYPE html><html><head><title>首页</title></head><body><div class='nav'>"
                    "<a href='/1'>要闻</a> <a href='/2'>财经</a> <a href='/3'>体育</a></div></body></html>",
                    encoding="utf-8")
    with pytest.raises(IngestError):
        article.load(page, Context(root=tmp_path))


@pytest.mark.parametrize("line", ["Sign up for our newsletter", "关注“山城晚报”公众号，获取更多本地新闻",
                                  "Get the top headlines delivered to your inbox by subscribing to our newsletter.",
                                  "点赞 在看 分享", "[button link=”/submit”] Send us your review[/button]",
                                  "Share this article", "Comments", "Read more: how the ferry was saved",
                                  "责任编辑：何小舟", "长按识别二维码关注我们"])
def test_closing_promotions(line):
    assert boilerplate.is_closing(line) or boilerplate.is_interface(line)


@pytest.mark.parametrize("line", ["He said the ferry would sign up more crew next year, and the council agreed.",
                                  "她说，这些经验值得分享。", "The comments were made on Friday.",
                                  "Share prices fell sharply on Friday.", "分享经验的老师们说，这是第一次。",
                                  "The council's newsletter will carry the details next week.",
                                  "More from the council is expected next week, when the budget is published."])
def test_text_is_no_promotion(line):
    assert not boilerplate.is_interface(line)
    assert not boilerplate.is_closing(line) or len(line) > boilerplate.CLOSING_MAX


@pytest.mark.parametrize(("text", "date"), [("2023年11月20日08:35", "2023-11-20"), ("2023-11-25 18:02", "2023-11-25"),
                                            ("1700617200", "2023-11-22"), ("2023 11/22 10:05", "2023-11-22"),
                                            ("no date", None), ("2023-02-30", None)])
def test_dates(text, date):
    parsed = sites.parse_date(text)
    assert (str(parsed) if parsed else None) == date


@pytest.mark.parametrize(("name", "ok"), [("周晓岚", True), ("Margaret Oakes", True), ("104363", False),
                                          ("https://example.org/me", False), ("2023-11-20", False)])
def test_plausible_names(name, ok):
    assert sites.plausible_name(name) is ok


def test_hidden_data_and_teasers_are_no_text(pages):
    draft, story = read(pages, "teasers.html")
    assert draft.publication == "Coastline Weekly"
    text = paragraphs(story)
    assert text[0].startswith("The three cottages") and text[-1].startswith("The trust's account")
    for chrome in ("CoastlineWeeklyData", "2024-05-02T09:00", "Harbour wall repairs", "Summer ferry timetable"):
        assert chrome not in story.text, chrome


def _body(xml: str):
    from lxml import etree

    return etree.fromstring(f"<body>{xml}</body>")


def test_runs_of_links_to_the_site_are_dropped():
    body = _body('<p>Own text of the article, long enough.</p>'
                 '<p><ref target="/news/a"><head>Another story</head></ref></p><graphic src="a.jpg"/>'
                 '<p><ref target="https://www.example.org/news/b">A third story</ref></p>'
                 '<p>More of the article.</p>'
                 '<p><ref target="https://archive.example.net/x">A source elsewhere</ref></p>'
                 '<p><ref target="https://archive.example.net/y">Another source</ref></p>'
                 '<p><ref target="/news/c">A single link of the site</ref></p>')
    article._drop_link_runs(body, "example.org")
    texts = ["".join(c.itertext()) for c in body]
    assert texts == ["Own text of the article, long enough.", "More of the article.", "A source elsewhere",
                     "Another source", "A single link of the site"]


def test_blocks_the_stricter_reading_lacks_are_dropped_at_the_edges_only():
    body = _body("<p>Subscribe to our daily briefing for more news from the coast every morning.</p>"
                 "<p>First paragraph of the article, which both readings hold, and which is long enough to be most of the text.</p><p>Short line.</p>"
                 "<p>Second paragraph of the article, which both readings hold, and which is long enough to be most of the text.</p>"
                 "<p>Teaser of another story that only the fuller reading kept in the page.</p>")
    reference = _body("<p>First paragraph of the article, which both readings hold, and which is long enough to be most of the text.</p>"
                      "<p>Second paragraph of the article, which both readings hold, and which is long enough to be most of the text.</p>")
    article._keep_agreed(body, reference)
    assert ["".join(c.itertext()) for c in body] == [
        "First paragraph of the article, which both readings hold, and which is long enough to be most of the text.", "Short line.",
        "Second paragraph of the article, which both readings hold, and which is long enough to be most of the text."]


def test_navigation_repeated_is_said(tmp_path, caplog):
    from lxml import html

    from broadsheet.ingest.html import inline_from_text

    page = html.document_fromstring("<html><body><nav><a href='/1'>World news today</a><a href='/2'>Sport results"
                                    "</a><a href='/3'>Business and markets</a></nav><p>x</p></body></html>")
    blocks = tuple(Paragraph(content=inline_from_text(t)) for t in
                   ("World news today", "Sport results", "Business and markets", "One line of text of its own."))
    body = html.fragment_fromstring("<div><p>World news today Sport results Business and markets One line.</p></div>")
    with caplog.at_level(logging.WARNING, logger="broadsheet"):
        article._warn_if_poor(tmp_path / "nav.html", blocks, body, page)
    assert any("nav.html" in r.getMessage() and "navigation" in r.getMessage() for r in caplog.records)


def test_author_never_a_number(pages):
    page = pages / "numbered.html"
    page.write_text((pages / "sidebar-headline.html").read_text(encoding="utf-8").replace(
        "<head>", '<head><meta name="author" content="104363">'), encoding="utf-8")
    _, story = read(pages, "numbered.html")
    assert story.authors == ()
