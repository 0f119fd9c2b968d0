"""Saved e-paper sites (Founder 方正, People's Daily) read as whole issues, field by field, and safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from conftest import epub_files, inspect_cli, run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "epaper"
NAVIGATION = ("返回主页", "版面导航", "上一期", "下一期", "上一篇", "下一篇", "上一版", "下一版", "版权声明")


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def inspect(*args):
    data, result = inspect_cli(*args)
    return data, result.stderr


def articles_of(data) -> dict[str, dict]:
    return {a["title"]: a for s in data["issues"][0]["sections"] for a in s["articles"]}


def assert_no_navigation(text: str) -> None:
    for word in NAVIGATION:
        assert word not in text, word
    assert "\u3000" not in text and "\\u3000" not in text  # paragraph indentation is stripped
    assert "\xa0" not in text and "\\u00a0" not in text


def test_founder_site_is_one_issue_in_page_order(tmp_path):
    site = copy_fixture("founder", tmp_path)
    data, stderr = inspect(site)
    assert data["publication"]["title"] == "星城日报"
    assert data["publication"]["language"] == "zh-CN"
    (issue,) = data["issues"]
    assert issue["date"] == "2024-05-01"
    # page 01 is node_5.htm, page 02 node_4.htm: printed page order, not file order
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("要闻", "01"), ("综合", "02")]
    # article-list order of each page (the image map lists content_5002 first)
    assert [[a["title"] for a in s["articles"]] for s in issue["sections"]] == [
        ["春耕备耕忙 田间处处新", "城市书房“上新”"], ["老街巷焕发新活力", "让数字经济更好惠及民生"]]
    assert [a["id"] for s in issue["sections"] for a in s["articles"]] == [
        "content-5001", "content-5002", "content-5003", "content-5004"]
    # a linked article that was not saved is skipped with a warning; 版责编 credit entries are no articles
    assert "content_5005.htm" in stderr and "content_5006" not in stderr
    assert_no_navigation(json.dumps(data, ensure_ascii=False))

    articles = articles_of(data)
    first = articles["春耕备耕忙 田间处处新"]  # enpproperty metadata, founder-* tags, td.font01/font02
    assert first["kicker"] == "农时不等人"
    assert first["subtitle"] == "我市多措并举保障粮食生产"  # printed ——…: the dash is the template's
    assert first["authors"] == ["李响"] and first["byline"] == "李响"
    assert first["tags"] == ["春耕", "农业", "粮食生产"]
    assert first["lang"] == "zh-CN"
    assert first["images"] == [{"src": "../../../res/1/20240501/1714521600001.jpg",
                                "caption": "图为农民在田间驾驶播种机作业。本报记者 李响 摄",
                                "alt": "图为农民在田间驾驶播种机作业。本报记者 李响 摄"}]
    assert first["text"].split("\n\n") == [
        "图为农民在田间驾驶播种机作业。本报记者 李响 摄",
        "眼下正值春耕备耕的关键时期，我市各地田间地头处处是忙碌的景象。",
        "在城东镇的高标准农田里，几台播种机来回穿梭，一垄垄新土整齐划一。",
        "市农业农村局负责人介绍，今年全市计划播种粮食作物一百二十万亩。",
    ]

    second = articles["城市书房“上新”"]  # bylines in the first body paragraphs; a picture table in the body
    assert second["kicker"] is None and second["subtitle"] is None
    assert second["byline"] == "星城日报全媒体记者 王晓明 通讯员 陈宏"
    assert second["authors"] == ["王晓明", "陈宏"]
    assert second["images"] == [{"src": "../../../res/1/20240501/1714521600002.png",
                                 "caption": "西湖路城市书房内景。", "alt": "书房"}]
    assert second["text"].split("\n\n") == [
        "走进新开放的西湖路城市书房，明亮的落地窗下，市民们或坐或站，安静地翻阅书籍。",
        "西湖路城市书房内景。",
        "据了解，今年我市将新建城市书房十五座，实现“十五分钟阅读圈”全覆盖。",
    ]

    third = articles["老街巷焕发新活力"]  # declares gb2312, is UTF-8; body twice between enpcontent markers
    assert third["dateline"] == "本报讯"
    assert third["byline"] == "记者 赵敏 通讯员 孙立"
    assert third["authors"] == ["赵敏", "孙立"]
    assert third["text"] == ("4月30日，经过半年改造的南门老街重新开街，吸引了众多市民前来游览。\n\n"
                             "改造后的老街保留了青石板路和老字号招牌，新增了非遗工坊和社区食堂。")

    fourth = articles["让数字经济更好惠及民生"]  # <BR>-separated paragraphs, CDATA title, padded name
    assert fourth["byline"] == "刘 冬" and fourth["authors"] == ["刘冬"]
    assert fourth["author_note"] == "作者为星城大学经济学院教授"
    assert fourth["text"].split("\n\n") == [
        "数字经济正在深刻改变人们的生产生活方式。",
        "一方面，要加快数字基础设施建设；另一方面，要提升公共服务的数字化水平。",
    ]


def test_one_article_page_alone_gives_one_article(tmp_path):
    site = copy_fixture("founder", tmp_path)
    data, stderr = inspect(site / "html/2024-05/01/content_5002.htm")
    (issue,) = data["issues"]
    assert issue["date"] == "2024-05-01"
    (section,) = issue["sections"]
    assert (section["name"], section["page"]) == ("要闻", "01")  # from the page's own banner
    (article,) = section["articles"]
    assert article["title"] == "城市书房“上新”"
    assert article["authors"] == ["王晓明", "陈宏"]
    # the picture lies outside the file's folder, which is all a single file may use
    assert article["images"] == [] and "points outside the source folder" in stderr
    assert data["publication"]["title"] == "星城日报"
    assert_no_navigation(json.dumps(data, ensure_ascii=False))


def test_founder_page_file_reads_its_articles_beside_it(tmp_path):
    site = copy_fixture("founder", tmp_path)
    data, _ = inspect(site / "html/2024-05/01/node_4.htm")
    (section,) = data["issues"][0]["sections"]
    assert (section["name"], section["page"]) == ("综合", "02")
    assert [a["title"] for a in section["articles"]] == ["老街巷焕发新活力", "让数字经济更好惠及民生"]


def test_peoples_daily_page_and_articles(tmp_path):
    site = copy_fixture("peoples-daily", tmp_path)
    data, stderr = inspect(site)
    assert data["publication"]["title"] == "人民日报"
    (issue,) = data["issues"]
    assert issue["date"] == "2024-05-01"
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("要闻", "01")]
    section = issue["sections"][0]
    # #titleList order (the image map names article 2 first); the 本版责编 entry is dropped
    assert [a["title"] for a in section["articles"]] == ["勤劳创造美好生活", "向劳动者致敬"]
    assert "nbs.D110000renmrb_02.htm" in stderr  # in the page list, not saved
    assert "3-01" not in stderr
    assert_no_navigation(json.dumps(data, ensure_ascii=False))

    first, second = section["articles"]
    assert first["id"] == "nw-d110000renmrb-20240501-1-01"
    assert first["kicker"] == "各地劳动者坚守岗位"  # h3
    assert first["subtitle"] == "节日里的奋斗身影"  # h2
    assert first["byline"] == "本报记者 张三 李四"  # p.sec without 《人民日报》（…版）
    assert first["authors"] == ["张三", "李四"]
    assert first["images"] == [{"src": "../../../pic/20240501/rmrb2024050101a.jpg",
                                "caption": "图为一线工人在检修输电线路。新华社记者 王五摄",
                                "alt": "图为一线工人在检修输电线路。新华社记者 王五摄"}]
    assert first["text"].split("\n\n")[1:] == [
        "五一国际劳动节前夕，记者走访多地，看到许多劳动者坚守岗位。",
        "在一处变电站，检修班组正在对设备进行例行检查。“节日里用电需求大，我们要确保万无一失。”班组长说。",
    ]
    # GBK bytes in a page that declares UTF-8
    assert second["kicker"] is None and second["subtitle"] is None
    assert second["byline"] == "本报评论员" and second["authors"] == ["本报评论员"]  # as from a dump
    assert second["text"].startswith("劳动创造了人类，劳动开创了未来。")
    assert second["text"].endswith("每一份辛勤的付出，都应当珍惜。")
    assert "\ufffd" not in second["text"]

    alone, stderr = inspect(site / "html/2024-05/01/nbs.D110000renmrb_01.htm")  # the page file alone
    (alone_section,) = alone["issues"][0]["sections"]
    assert (alone_section["name"], alone_section["page"]) == ("要闻", "01")
    assert [a["title"] for a in alone_section["articles"]] == ["勤劳创造美好生活", "向劳动者致敬"]
    # a single file may use only its own folder: the picture in ../../../pic is refused
    assert alone_section["articles"][0]["images"] == [] and "outside the source folder" in stderr
    assert alone_section["articles"][1] == second


def test_peoples_daily_2024_layout(tmp_path):
    site = copy_fixture("peoples-daily-pc", tmp_path)
    data, _ = inspect(site)
    (issue,) = data["issues"]
    assert issue["date"] == "2025-01-02"
    # pages 01 and 02 are both 要闻: two sections, each with its own page label, in page order
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("要闻", "01"), ("要闻", "02")]
    titles = [a["title"] for s in issue["sections"] for a in s["articles"]]
    assert titles == ["新年第一课", "冰雪运动热起来", "稳步推进城市更新"]
    article = issue["sections"][0]["articles"][0]
    assert article["byline"] == "本报记者 周明" and article["authors"] == ["周明"]
    assert article["text"] == "开学第一天的课堂上，孩子们讲述自己的新年愿望。"


def test_detection_and_folder_claims(tmp_path):
    from broadsheet.ingest import epaper

    for page in FIXTURES.rglob("*.htm*"):
        assert epaper.detect(page, page.read_bytes()[:65536]) == 95, page
    generic = tmp_path / "article.html"
    generic.write_text("<!doctype html><html><head><title>News</title></head><body><article><h1>Title</h1>"
                       "<p>Text with a <a href='other.html'>link</a>.</p></article></body></html>")
    assert epaper.detect(generic, generic.read_bytes()) == 0
    assert epaper.detect(tmp_path / "note.md", b"# Title\n\n<!-- a comment -->\n") == 0
    assert epaper.claims_folder(FIXTURES / "founder")
    assert epaper.claims_folder(FIXTURES / "peoples-daily" / "html")
    assert not epaper.claims_folder(FIXTURES / "founder" / "res")
    (tmp_path / "md").mkdir()
    (tmp_path / "md" / "a.md").write_text("---\ntitle: A\n---\nText.\n")
    (tmp_path / "md" / "page.html").write_text(generic.read_text())
    assert not epaper.claims_folder(tmp_path / "md")


def test_founder_site_builds_a_valid_epub(tmp_path, assert_valid_epub):
    site = copy_fixture("founder", tmp_path)
    out = tmp_path / "out"
    result = run_cli("build", site, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    (epub,) = out.glob("*.epub")
    assert_valid_epub(epub)
    files = epub_files(epub)
    pictures = [name for name in files if name.startswith("EPUB/images/img-")]
    assert len(pictures) == 2  # the two captioned photos (plus the generated cover)
    text = b"".join(data for name, data in files.items() if name.endswith((".xhtml", ".html"))).decode("utf-8")
    for title in ("春耕备耕忙 田间处处新", "城市书房“上新”", "老街巷焕发新活力", "让数字经济更好惠及民生"):
        assert title in text
    for word in NAVIGATION:
        assert word not in text, word


@pytest.fixture
def hostile_site(tmp_path):
    """The hostile pages copied to tmp_path/site, with canaries beside (outside) the copy."""
    site = copy_fixture("hostile", tmp_path)
    shutil.move(str(site), tmp_path / "site")
    site = tmp_path / "site"
    canary_page = ("<HTML><BODY><TD class=font01><founder-title>CANARY-TITLE</founder-title></TD>"
                   "<founder-content><P>CANARY-SECRET-TEXT</P></founder-content></BODY></HTML>")
    (tmp_path / "canary").mkdir()
    for name in ("canary.htm", "canary/content_7.htm", "canary/node_2.htm"):
        (tmp_path / name).write_text(canary_page, encoding="utf-8")
    picture = Image.new("RGB", (41, 31), (1, 2, 3))
    picture.putpixel((7, 7), (250, 1, 99))
    picture.save(tmp_path / "secret.png")
    return site


def test_hostile_pages_yield_clean_text_and_read_nothing_outside(hostile_site, tmp_path):
    data, stderr = inspect(hostile_site)
    (issue,) = data["issues"]
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("要闻", "01")]
    (article,) = issue["sections"][0]["articles"]
    assert article["title"] == "安全检查"
    assert article["text"].split("\n\n") == ["正文第一段保持原样。点这里继续阅读。", "第二段有外部链接。", "第三段结束。"]
    assert article["images"] == []
    dump = json.dumps(data, ensure_ascii=False)
    for word in ("CANARY", "alert", "javascript", "onerror", "onclick", "passwd", "evil.example", "SVGTEXT",
                 "FORMVALUE", "HIDDENTEXT", "secret", "越界", "<script"):
        assert word not in dump, word
    for refused in ("canary/content_7.htm", "content_666.htm", "../../../../secret.png", "file:///etc/passwd"):
        assert refused in stderr, refused

    out = tmp_path / "out"
    result = run_cli("build", hostile_site, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    (epub,) = out.glob("*.epub")
    files = epub_files(epub)
    secret = (tmp_path / "secret.png").read_bytes()
    for name, content in files.items():
        for word in (b"CANARY", b"alert(", b"javascript:", b"onerror", b"evil.example", b"HIDDENTEXT"):
            assert word not in content, (name, word)
        assert content != secret and secret not in content, name
    assert not [name for name in files if name.startswith("EPUB/images/img-")]  # every picture was refused


def test_a_saved_page_linked_out_of_the_site_is_refused(hostile_site, tmp_path):
    """The pages' own ../ references are dropped with warnings (above); a page or folder of the site that is
    a link out is an attack: exit 1, one line naming the link and where it leads, nothing written."""
    day = hostile_site / "html/2024-05/01"
    (day / "content_666.htm").symlink_to(tmp_path / "canary.htm")
    result = run_cli("build", hostile_site, "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"broadsheet: error: {day / 'content_666.htm'}: leads outside the source folder "
        f"(a link to {(tmp_path / 'canary.htm').resolve()}); not read"]
    assert not (tmp_path / "out").exists()

    (day / "content_666.htm").unlink()
    (hostile_site / "html/2024-05/02").symlink_to(tmp_path / "canary")
    result = run_cli("inspect", hostile_site, "--json")
    assert result.returncode == 1 and not result.stdout
    assert result.stderr.strip().splitlines() == [
        f"broadsheet: error: {hostile_site / 'html/2024-05/02'}: leads outside the source folder "
        f"(a link to {(tmp_path / 'canary').resolve()}); not read"]


def test_a_page_named_alone_refuses_a_linked_article_beside_it(hostile_site, tmp_path):
    day = hostile_site / "html/2024-05/01"
    (day / "content_666.htm").symlink_to(tmp_path / "canary.htm")
    result = run_cli("inspect", day / "node_1.htm", "--json")
    assert result.returncode == 1 and "CANARY" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"broadsheet: error: {day / 'content_666.htm'}: leads outside the source folder "
        f"(a link to {(tmp_path / 'canary.htm').resolve()}); not read")


def test_a_link_holding_a_nul_byte_is_no_page(tmp_path):
    """A page's link that unquotes to a NUL (node_2%00.htm) is passed over like any link to no page."""
    from broadsheet.ingest.epaper.site import _Resolver

    page = tmp_path / "node_1.htm"
    page.write_text("<html></html>", encoding="utf-8")
    assert _Resolver(tmp_path, [page])("node_2%00.htm", page) == (None, "not a page")
