"""The shared credit rules: every byline, dateline and author-note form, simplified and traditional."""

from __future__ import annotations

import pytest

from broadsheet.ingest import credits

LINES = [
    ("郑州晚报记者 王小明 见习记者 李青", "郑州晚报记者 王小明 见习记者 李青", ["王小明", "李青"]),
    ("网友 一棵白杨", "网友 一棵白杨", ["一棵白杨"]),
    ("郑州晚报采编发团队", "郑州晚报采编发团队", ["郑州晚报采编发团队"]),
    ("本报评论部", "本报评论部", ["本报评论部"]),
    ("本报评论员", "本报评论员", ["本报评论员"]),  # the desk signs, as 本报评论部
    ("文/图 记者 王小明 通讯员 李青", "文/图 记者 王小明 通讯员 李青", ["王小明", "李青"]),
    ("王小明/文 李青/图", "王小明/文 李青/图", ["王小明", "李青"]),
    ("□刘 冬", "刘 冬", ["刘冬"]),
    ("■ 星城日报全媒体记者 王晓明", "星城日报全媒体记者 王晓明", ["王晓明"]),
    ("本報記者 王小明", "本報記者 王小明", ["王小明"]),
    ("本报记者 张 华 通讯员 李明", "本报记者 张 华 通讯员 李明", ["张华", "李明"]),
    ("王五 摄", "王五 摄", ["王五"]),
    ("本报记者 买买提·艾力", "本报记者 买买提·艾力", ["买买提·艾力"]),
    ("晚报记者 王小明", "晚报记者 王小明", ["王小明"]),
    ("网友“一棵白杨”", "网友 一棵白杨", ["一棵白杨"]),
    ("网友：一棵白杨", "网友：一棵白杨", ["一棵白杨"]),
    ("文/本报记者 王小明", "文/本报记者 王小明", ["王小明"]),
    ("郑州晚报首席记者 王小明", "郑州晚报首席记者 王小明", ["王小明"]),
    ("人民日报评论员", "人民日报评论员", ["人民日报评论员"]),
    ("人民日报编辑部", "人民日报编辑部", ["人民日报编辑部"]),
    ("本報評論部", "本報評論部", ["本報評論部"]),
    ("記者 王小明 通訊員 李青", "記者 王小明 通訊員 李青", ["王小明", "李青"]),
    ("撰文：王小明 摄影：李青", "撰文：王小明 摄影：李青", ["王小明", "李青"]),
    ("新华通讯社记者 王五", "新华通讯社记者 王五", ["王五"]),
    ("本报记者  张 贺  李 青", "本报记者 张 贺 李 青", ["张贺", "李青"]),  # letter-spaced names side by side
    ("本报记者\u3000张\u3000贺\u3000任仲平", "本报记者 张 贺 任仲平", ["张贺", "任仲平"]),
    ("本报记者 王小明 摄影报道", "本报记者 王小明 摄影报道", ["王小明"]),
    ("郑州晚报记者 王小明 实习生 李青 通讯员 张三 文/图", "郑州晚报记者 王小明 实习生 李青 通讯员 张三 文/图",
     ["王小明", "李青", "张三"]),
]


@pytest.mark.parametrize(("line", "byline", "authors"), LINES)
def test_credit_lines(line, byline, authors):
    credit = credits.credit_line(line)
    assert credit is not None
    assert (credit.byline, list(credit.authors)) == (byline, authors)


@pytest.mark.parametrize("line", ["记者手记", "一、深入群众", "跳楼", "记者", "结语", "会议指出,上半年全市经济运行总体平稳。",
                                  "2012年7月6日", "群众是推进工作落实的最大依靠", "结 语", "网友热议", "新华社记者专访",
                                  "读者来信"])
def test_not_credits(line):
    assert credits.credit_line(line) is None


def test_pen_names_only_right_under_the_headings():
    for line, name in (("郑言", "郑言"), ("任 平", "任平"), ("郑 言", "郑言"), ("任仲平", "任仲平")):
        assert credits.credit_line(line) is None  # elsewhere it is a subhead (结 语)
        credit = credits.credit_line(line, alone=True)
        assert (credit.byline, credit.authors) == (line, (name,))


@pytest.mark.parametrize("line", ["责任编辑：王小明", "编辑 王小明", "本版编辑 王小明 李青"])
def test_editors_are_credits_of_no_author(line):
    credit = credits.credit_line(line)
    assert credit.editor and credit.authors == ()
    assert credits.combine(credits.credit_line("本报记者 张三"), credit).byline == "本报记者 张三"
    assert credits.closing(f"会议结束。（{line}）")[1] == "会议结束。"


@pytest.mark.parametrize(("text", "dateline", "byline", "rest"), [
    ("本报讯（记者 张华）7月5日,市委召开会议。", "本报讯", "记者 张华", "7月5日,市委召开会议。"),
    ("本報訊（記者 王小明）港務局週二表決。", "本報訊", "記者 王小明", "港務局週二表決。"),
    ("新华社北京6月2日电（记者 王五）昨天下午。", "新华社北京6月2日电", "记者 王五", "昨天下午。"),
    ("本报福州6月2日电记者王小明报道:今天上午。", "本报福州6月2日电", "记者王小明", "今天上午。"),
    ("本报北京6月2日电 记者王小明、李青报道：这是。", "本报北京6月2日电", "记者王小明、李青", "这是。"),
    ("本报讯 7月5日,市委召开会议。", "本报讯", None, "7月5日,市委召开会议。"),
])
def test_openings(text, dateline, byline, rest):
    credit, after = credits.opening(text)
    assert (credit.dateline, credit.byline, after) == (dateline, byline, rest)


def test_closing_credit_and_author_note():
    credit, rest = credits.closing("工作结束了。（本报记者 王小明）")
    assert (credit.byline, credit.authors, rest) == ("本报记者 王小明", ("王小明",), "工作结束了。")
    assert credits.closing("（本报记者 王小明）")[1] == ""
    assert credits.closing("我们(二人)去了") is None
    assert credits.closing("(作者为巩义市小关镇党委书记)") is None
    assert credits.author_note("(作者为巩义市小关镇党委书记)") == "作者为巩义市小关镇党委书记"
    assert credits.author_note("（作者单位:中共郑州市委党校）") == "作者单位:中共郑州市委党校"


def test_a_dateline_that_repeats_the_byline_adds_nothing():
    byline = credits.credit_line("本报记者 张 华 通讯员 李明")
    opening, _ = credits.opening("本报讯（记者 张华）7月5日。")
    both = credits.combine(byline, opening)
    assert (both.byline, both.authors, both.dateline) == ("本报记者 张 华 通讯员 李明", ("张华", "李明"), "本报讯")


def test_square_bracket_dateline_of_the_archive():
    credit, rest = credits.opening("【新华社北京十四日电】华北各地农民在秋收以后。")
    assert (credit.dateline, credit.byline, rest) == ("新华社北京十四日电", None, "华北各地农民在秋收以后。")


def test_a_wire_dateline_without_a_credit():
    credit, rest = credits.opening("本报北京12月21日电  入冬以来，各地组织农民开展冬种。")
    assert (credit.dateline, credit.byline, rest) == ("本报北京12月21日电", None, "入冬以来，各地组织农民开展冬种。")
    assert credits.opening("视讯 会议召开。") is None
    assert credits.opening("本报北京12月21日电") == (credits.Credit(dateline="本报北京12月21日电"), "")


@pytest.mark.parametrize("line", ["本报记者  张 贺", "本报记者\u3000\u3000张\u3000贺", "本报记者\t张贺", "本报记者 \u3000 张贺",
                                  "本报记者\u00a0\u00a0张贺"])
def test_any_run_of_spaces_inside_a_credit(line):
    credit = credits.credit_line(line)
    assert credit.authors == ("张贺",) and "  " not in credit.byline and "\u3000" not in credit.byline


@pytest.mark.parametrize(("text", "dateline", "byline", "rest"), [
    ("新华社北京7月1日电  （记者 李文 张扬）多国人士表示。", "新华社北京7月1日电", "记者 李文 张扬", "多国人士表示。"),
    ("新华社北京7月1日电\u3000\u3000（记者 李文）多国人士表示。", "新华社北京7月1日电", "记者 李文", "多国人士表示。"),
    ("本报讯 \u3000【记者 王小明】会议召开。", "本报讯", "记者 王小明", "会议召开。"),
    ("本报讯〔记者 王小明〕会议召开。", "本报讯", "记者 王小明", "会议召开。"),
    # a credit without brackets, set off by spaces: it ends with a name, the text follows the next spaces
    ("本报讯 记者 王小明 通讯员 李青 记者从市农委获悉，小麦面积稳定。", "本报讯", "记者 王小明 通讯员 李青",
     "记者从市农委获悉，小麦面积稳定。"),
    ("本报讯\u3000记者\u3000王小明\u3000\u3000近日，会议召开。", "本报讯", "记者 王小明", "近日，会议召开。"),
    ("本报北京6月2日电  记者王小明  今天上午，会议召开。", "本报北京6月2日电", "记者王小明", "今天上午，会议召开。"),
    ("本報訊 記者 王小明 港務局週二表決。", "本報訊", "記者 王小明", "港務局週二表決。"),
    ("本报讯记者王小明 通讯员李青 记者从市农委获悉，小麦面积稳定。", "本报讯", "记者王小明 通讯员李青",
     "记者从市农委获悉，小麦面积稳定。"),  # the dateline glued to the role word
    ("本报讯 记者 王小明 通讯员 李青", "本报讯", "记者 王小明 通讯员 李青", ""),
])
def test_a_dateline_set_off_from_its_credit_by_spaces(text, dateline, byline, rest):
    credit, after = credits.opening(text)
    assert (credit.dateline, credit.byline, after) == (dateline, byline, rest)
    assert credits.credit_line(text if not rest else text[:-len(rest)]) is None  # a dateline is no byline


@pytest.mark.parametrize(("text", "subtitle", "byline"), [
    ("——记郑州市优秀教师张敏", "记郑州市优秀教师张敏", None),
    ("―― 记郑州市优秀教师张敏", "记郑州市优秀教师张敏", None),
    ("－－记郑州市优秀教师张敏", "记郑州市优秀教师张敏", None),
    ("-- 记郑州市优秀教师张敏", "记郑州市优秀教师张敏", None),
    ("记郑州市优秀教师张敏", "记郑州市优秀教师张敏", None),
    ("——记郑州市优秀教师张敏 本报记者 王小明", "记郑州市优秀教师张敏", "本报记者 王小明"),
    ("——记郑州市优秀教师张敏\u3000\u3000本报记者\u3000王小明", "记郑州市优秀教师张敏", "本报记者 王小明"),
    ("——记郑州市优秀教师张敏  文/图 记者 王小明 通讯员 李青", "记郑州市优秀教师张敏", "文/图 记者 王小明 通讯员 李青"),
    ("——记郑州市优秀教师张敏（本报记者 王小明）", "记郑州市优秀教师张敏", "本报记者 王小明"),
    ("——记者手记", "记者手记", None),
    ("——访市长 王小明", "访市长 王小明", None),
    ("——本报记者 王小明", None, "本报记者 王小明"),
])
def test_a_subtitle_without_its_dash_and_its_byline(text, subtitle, byline):
    got, credit = credits.subtitle(text)
    assert (got, credit.byline if credit else None) == (subtitle, byline)


def test_a_picture_credit_is_the_byline_only_when_nothing_else_credits_the_article():
    picture = credits.credit_line("本报记者 郭强 摄")
    assert picture.picture and picture.authors == ("郭强",)
    for line in ("图/王五", "摄影：李青", "本报记者 郭强 摄影", "王五 供图"):
        assert credits.credit_line(line).picture, line
    for line in ("文/图 记者 王小明", "王小明/文 李青/图", "本报记者 王小明", "本报记者 王小明 文 郭强 摄", "文：王小明 图：郭强",
                 "本报记者 王小明 摄影报道"):
        assert not credits.credit_line(line).picture, line
    alone = credits.combine(credits.opening("本报讯 会议召开。")[0], picture)
    assert (alone.byline, alone.authors, alone.dateline) == ("本报记者 郭强 摄", ("郭强",), "本报讯")
    both = credits.combine(credits.opening("本报讯（记者 张华）会议召开。")[0], picture)
    assert (both.byline, both.authors, both.dateline) == ("记者 张华", ("张华",), "本报讯")


@pytest.mark.parametrize("gap", [" ", "  ", "\u3000", "\u3000\u3000", "\t", "\u00a0\u00a0", "\u2002", "\u2003\u2003", " \u3000 "])
def test_every_space_a_paper_prints_sets_off_a_credit(gap):
    assert credits.credit_line(f"本报记者{gap}王小明{gap}通讯员{gap}李青").authors == ("王小明", "李青")
    credit, rest = credits.opening(f"新华社北京7月1日电{gap}（记者{gap}李文）多国人士表示。")
    assert (credit.byline, rest) == ("记者 李文", "多国人士表示。")
    credit, rest = credits.opening(f"本报讯{gap}记者{gap}王小明{gap}记者从市农委获悉。")
    assert (credit.byline, rest) == ("记者 王小明", "记者从市农委获悉。")
    assert credits.subtitle(f"——记优秀教师张敏{gap}本报记者{gap}王小明")[1].authors == ("王小明",)
    assert credits.closing(f"会议结束。{gap}（本报记者{gap}王小明）")[1] == "会议结束。"
