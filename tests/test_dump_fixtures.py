"""The fixture corpus of e-paper text dumps: every shape and credit form, each with the model it must give.

``tests/fixtures/dumps/NAME.txt`` is a dump written for the test in one of the shapes real archives hold;
``NAME.json`` beside it is its ``inspect --json`` model trimmed to the fields that matter.  ``"source"`` in a
JSON file points at a dump elsewhere in the repository (the seed).  To add a case, add both files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadsheet import load
from broadsheet.errors import BroadsheetError
from broadsheet.ingest import credits, lines
from broadsheet.ingest import text as text_dump
from broadsheet.ingest.base import Context
from broadsheet.model import Heading, issue_to_dict
from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
DUMPS = Path(__file__).resolve().parent / "fixtures" / "dumps"
CASES = sorted(p.stem for p in DUMPS.glob("*.json"))


KNOWN_FAILING_LIST = DUMPS.parent / "dumps-known-failing.txt"  # beside the folder: the folder holds dumps only


def known_failing() -> dict[str, str]:
    """``dumps-known-failing.txt``: the dumps whose model is still misread, each with a short reason."""
    rows = KNOWN_FAILING_LIST.read_text(encoding="utf-8").splitlines()
    return dict((row.split(maxsplit=1) + [""])[:2] for row in rows if row.strip() and not row.startswith("#"))


KNOWN_FAILING = known_failing()
NAVIGATION = ("返回主页", "返回首頁", "版面导航", "版面導航", "标题导航", "上一期", "下一期", "上一篇", "下一篇", "上一版",
              "下一版", "版权", "PDF 版", "电子报", "专栏:", "01版:", "往期回顾")
FIELDS = ("title", "kicker", "subtitle", "byline", "authors", "dateline", "author_note")


def source_of(name: str) -> tuple[Path, dict]:
    expected = json.loads((DUMPS / f"{name}.json").read_text(encoding="utf-8"))
    return (ROOT / expected["source"] if "source" in expected else DUMPS / f"{name}.txt"), expected


def trimmed(path: Path) -> dict:
    """The ``inspect --json`` model of one dump, trimmed as the JSON files are."""
    (edition,) = load([path])
    view = issue_to_dict(edition.publication)
    (issue,) = view["issues"]
    (model,) = edition.publication.issues
    articles = []
    for section, section_model in zip(issue["sections"], model.sections):
        for article, article_model in zip(section["articles"], section_model.articles):
            paragraphs = article["text"].split("\n\n")
            articles.append({"section": section["name"], "page": section["page"],
                             **{name: article[name] for name in FIELDS},
                             "first": paragraphs[0], "last": paragraphs[-1], "paragraphs": len(paragraphs),
                             "subheads": [b.content.text for b in article_model.blocks if isinstance(b, Heading)]})
    return {"publication": view["publication"]["title"], "language": view["publication"]["language"],
            "date": issue["date"], "count": len(articles), "articles": articles, "raw": view}


def test_known_failing_dumps_exist():
    assert set(KNOWN_FAILING) <= set(CASES)


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILING[name])) if name in KNOWN_FAILING
    else name for name in CASES])
def test_dump_gives_its_model(name):
    path, expected = source_of(name)
    got = trimmed(path)
    for key in ("publication", "language", "date", "count"):
        if key in expected:  # a dump that does not name its paper leaves the publication to the loader
            assert got[key] == expected[key], key
    for want in expected["articles"]:
        article = got["articles"][want.get("at", 0)]
        for key, value in want.items():
            if key != "at":
                assert article[key] == value, (want.get("at", 0), key)
    raw = json.dumps(got["raw"], ensure_ascii=False)
    for word in NAVIGATION:
        assert word not in raw, word


@pytest.mark.parametrize("name", CASES)
def test_credit_lines_are_never_text(name):
    path, _ = source_of(name)
    for label, line in text_dump.explain(path):
        if label in ("paragraph", "subhead"):
            assert credits.credit_line(line) is None, line


def test_the_corpus_holds_every_credit_form():
    bylines = {json.loads((DUMPS / f"{n}.json").read_text(encoding="utf-8"))["articles"][0].get("byline")
               for n in CASES}
    for form in ("郑州晚报记者 王小明 见习记者 李青", "网友 一棵白杨", "任 平", "郑言", "郑州晚报采编发团队", "本报评论部",
                 "本报记者 王小明", "文/图 记者 王小明 通讯员 李青", "记者王小明", "記者 王小明"):
        assert form in bylines, form


def test_explain_labels_every_line_and_the_corpus_covers_every_label():
    result = run_cli("inspect", DUMPS, "--explain")
    assert result.returncode == 0, result.stderr
    seen = set()
    files = 0
    for row in result.stdout.splitlines():
        if row.startswith("== "):
            files += 1
            continue
        label = row[5:17].strip()
        assert label in lines.LABELS, row
        seen.add(label)
    assert files == len(list(DUMPS.glob("*.txt")))
    assert seen == set(lines.LABELS)
    total = sum(len(p.read_text(encoding="utf-8").rstrip("\n").split("\n")) for p in DUMPS.glob("*.txt"))
    assert len(result.stdout.splitlines()) - files >= total


# The same articles as the paper's HTML pages (Founder 方正, as the e-paper fixtures): the same headings and credits.
HTML = """<HTML><HEAD><META http-equiv="Content-Type" content="text/html; charset=utf-8"><TITLE>{title}</TITLE></HEAD>
<BODY><TABLE><TR><TD class=px12>第{page}版：{section}</TD></TR></TABLE>
<TABLE>{kicker}<TR><TD class=font01><founder-title>{title}</founder-title></TD></TR>{subtitle}</TABLE>
<DIV id=ozoom><founder-content>{body}</founder-content></DIV></BODY></HTML>"""


def html_page(tmp_path: Path, dump: Path, model: dict) -> Path:
    """The paper's HTML page of the article of ``dump``: its headings, then its credits and text as paragraphs."""
    article = model["articles"][0]
    labelled = text_dump.explain(dump)
    paragraphs = [l.strip() for label, l in labelled if label in ("credit", "dateline", "paragraph", "subhead")]
    subtitle = next((l.strip() for label, l in labelled if label == "subtitle"), None)  # as printed: ——…
    body = "".join(f"<P>\u3000\u3000{p}</P>" for p in paragraphs)
    path = tmp_path / dump.stem / "html" / "2024-05" / "01" / "content_1.htm"
    path.parent.mkdir(parents=True)
    path.write_text(HTML.format(
        title=article["title"], page=article["page"], section=article["section"], body=body,
        kicker=f"<TR><TD class=font02>{article['kicker']}</TD></TR>" if article["kicker"] else "",
        subtitle=f"<TR><TD class=font02>{subtitle}</TD></TR>" if subtitle else ""),
        encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["founder-front-page", "credit-traditional", "blind-subtitle-with-byline",
                                  "blind-luoyang-photo-caption", "blind-dateline-unbracketed-credit",
                                  "blind-pd-epaper-xinhua", "blind-pd-epaper-commentator",
                                  "blind-pd-epaper-ideographic-runs"])
def test_a_dump_and_its_html_page_give_the_same_headings_and_credits(tmp_path, name):
    dump = trimmed(DUMPS / f"{name}.txt")
    page = trimmed(html_page(tmp_path, DUMPS / f"{name}.txt", dump))
    for key in FIELDS:
        assert page["articles"][0][key] == dump["articles"][0][key], key


EPAPER_HEAD = "人民日报电子报\n人民日报2019.04.23星期二\n01版:要闻\n10版:文化\n10版:文化\n书香浸润城乡生活\n"


@pytest.mark.parametrize(("body", "byline", "dateline", "text"), [
    # a byline set off by runs of ASCII and ideographic spaces is no navigation line; nor is a closing credit
    ("本报记者\u3000\u3000张\u3000贺\n\u3000\u3000各地举办阅读活动。\u3000\u3000市民安静地阅读。\n（本报记者\u3000\u3000赵六）\n",
     "本报记者 张 贺 本报记者 赵六", None, ["各地举办阅读活动。", "市民安静地阅读。"]),
    # a dateline alone on its line, its credit opening the next
    ("本报讯\n（记者 张华）会议召开。\n\n会议指出，形势平稳。\n", "记者 张华", "本报讯", ["会议召开。", "会议指出，形势平稳。"]),
    # runs of spaces between a dateline, its credit and the text end no paragraph
    ("本报讯  记者 王小明  通讯员 李青  记者从市农委获悉，小麦面积稳定。  农技人员深入田间。\n", "记者 王小明 通讯员 李青",
     "本报讯", ["记者从市农委获悉，小麦面积稳定。", "农技人员深入田间。"]),
    # a picture credit is the byline only when nothing else credits the article
    ("本报讯（记者 张华）会议召开。\n\n会议指出，形势平稳。\n\n本报记者 郭强 摄\n", "记者 张华", "本报讯",
     ["会议召开。", "会议指出，形势平稳。"]),
    ("本报讯 会议召开。\n\n会议指出，形势平稳。\n\n图/王五\n", "图/王五", "本报讯", ["会议召开。", "会议指出，形势平稳。"]),
    # a byline at the end of the subtitle line, set off by any spaces
    ("——记优秀读者\u3000\u3000文/图 本报记者 王小明\n各地举办阅读活动。\n", "文/图 本报记者 王小明", None, ["各地举办阅读活动。"]),
])
def test_credit_forms_read_the_same_from_a_dump_and_its_html_page(tmp_path, body, byline, dateline, text):
    path = tmp_path / "dump.txt"
    path.write_text(EPAPER_HEAD + body, encoding="utf-8")
    dump = trimmed(path)
    (article,) = dump["articles"]
    assert (article["byline"], article["dateline"]) == (byline, dateline)
    assert [p for p in dump["raw"]["issues"][0]["sections"][0]["articles"][0]["text"].split("\n\n")] == text
    page = trimmed(html_page(tmp_path, path, dump))
    for key in FIELDS:
        assert page["articles"][0][key] == article[key], key


HEADS = ["第15版:理论 上一版3  4下一版", "人民日报电子报\n人民日报2025.12.22星期一\n01版:要闻\n01版:要闻",
         "1951年9月15日人民日报 第1版\n\n第1版(要闻)\n专栏:\n", "第A05版:都市新闻 上一版  下一版\n标题\nPDF 版"]
PIECES = ["", "  ", "——副题", "本报记者 王小明", "任 平", "（作者为教授）", "第2版(国际)", "专栏:", "上一篇  下一篇",
          "版权声明 @ 中原网", "本报讯（记者 张华）7月5日,会议召开。", "图为市民在游泳", "短行", "一段很长的正文，写到这里才结束。   下一段。",
          "《 人民日报 》（ 2025年12月22日   第 01 版）", "中原网  日期: 2007-07-18  来源: 郑州晚报", "（本报记者 王小明）"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from(HEADS), body=st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=20))
def test_any_dump_of_each_shape_imports_or_is_refused(tmp_path, head, body):
    path = tmp_path / "dump.txt"
    path.write_text("\n".join([head, *body]), encoding="utf-8")
    try:
        drafts = text_dump.load(path, Context(root=tmp_path))
    except BroadsheetError:
        return
    labels = text_dump.explain(path)
    assert len(labels) == len(text_dump.read_lines(path))  # every line of the dump, as read, has a label
    assert all(label in lines.LABELS for label, _ in labels)
    for draft in drafts:
        for section in draft.sections:
            for article in section.articles:
                assert article.title


def test_credit_forms_in_a_page_of_many_articles(tmp_path):
    """The archive's shape (headings read by form): a byline on the subtitle line, a commentator, a wire dateline
    alone on its line with its bracketed credit opening the text."""
    path = tmp_path / "archive.txt"
    path.write_text("1978年12月24日人民日报 第3版\n\n"
                    "第3版(通讯)\n专栏:\n\n山村的新变化\n——访太行山区的一个生产大队\u3000\u3000本报记者\u3000王小明\n"
                    "  这个大队过去是有名的穷队，如今家家户户盖起了新房。\n  大队干部说，变化的原因是调动了社员的积极性。\n\n"
                    "第3版(评论)\n专栏:\n\n办事要讲效率\n本报评论员\n  有些单位办事拖拉，群众意见很大。\n  提高办事效率，关键在于改进作风。\n\n"
                    "第3版(要闻)\n专栏:\n\n春耕忙\n新华社北京十二月二十三日电\n  （记者 李文）各地春耕生产全面展开。\n"
                    "  农民说，今年的收成有盼头。\n", encoding="utf-8")
    got = trimmed(path)
    assert [(a["subtitle"], a["byline"], a["authors"], a["dateline"], a["first"]) for a in got["articles"]] == [
        ("访太行山区的一个生产大队", "本报记者 王小明", ["王小明"], None, "这个大队过去是有名的穷队，如今家家户户盖起了新房。"),
        (None, "本报评论员", ["本报评论员"], None, "有些单位办事拖拉，群众意见很大。"),
        (None, "记者 李文", ["李文"], "新华社北京十二月二十三日电", "各地春耕生产全面展开。")]
