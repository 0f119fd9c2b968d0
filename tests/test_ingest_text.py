"""E-paper text dumps: the seed, other encodings, truncation, several dumps as one issue, field recognition."""

from __future__ import annotations


from conftest import SEED, epub_files, inspect_cli, outputs, run_cli
from pdfread import page_texts, squash

NAVIGATION_TEXT = ["返回主页", "版面导航", "上一期", "下一期", "上一篇", "下一篇", "上一版", "下一版", "版权声明"]
SEED_TITLE = "以创新精神加强农村基层党组织建设"

# A second article page of the same 第15版, and a page of 第03版, in the seed's template.
SAME_PAGE = """第15版:理论 上一版3  4下一版
扶植小微企业最佳措施是免税
浅谈外力在科学发展中的作用
跳楼
以创新精神加强农村基层党组织建设
群众是推进工作落实的最大依靠
\u00a0\u00a0\u00a0
返回主页 | 郑州日报 | 版面导航 | 郑州晚报
上一期\u00a0\u00a0下一期
群众是推进工作落实的最大依靠

□刘 冬

群众是我们党的力量源泉和胜利之本。

做好新形势下的群众工作,必须坚持以人为本。

一、深入群众

干部要经常深入基层,倾听群众呼声。

(作者单位:中共郑州市委党校)

3上一篇\u00a0\u00a0
版权声明 @ 中原网 网站版权所有
"""

FRONT_PAGE = """第03版:要闻 上一版3  4下一版
我市召开会议部署下半年
  经济工作
全市夏粮收购进展顺利
\u00a0
返回主页 | 郑州日报 | 版面导航 | 郑州晚报
上一期\u00a0\u00a0下一期
稳中求进 狠抓落实
我市召开会议部署下半年
经济工作
——确保完成全年目标任务
本报记者 张 华 通讯员 李明

本报讯（记者 张华）7月5日,市委召开全市经济工作会议,部署下半年经济工作。

会议指出,上半年全市经济运行总体平稳,稳中有进。

3上一篇\u00a0\u00a0下一篇4
"""

TRADITIONAL = """第A03版：要聞 上一版  下一版
港口夜航渡輪明年恢復
\u00a0
返回首頁 | 海港日報 | 版面導航
上一期\u00a0\u00a0下一期
港口夜航渡輪明年恢復
本報記者 王小明

港務局週二表決通過,撥款購置兩艘電動渡輪,夜航服務將於明年四月恢復。

居民協會主席表示,這對於在市區上夜班的島民意義重大。

3上一篇\u00a0\u00a0下一篇4
"""


def inspect(*args):
    data, result = inspect_cli(*args)
    return data, result.stdout


def only_article(data):
    (issue,) = data["issues"]
    (section,) = issue["sections"]
    (article,) = section["articles"]
    return section, article


import pytest


@pytest.fixture
def loose_seed(tmp_path):
    """The seed alone, outside the example edition (whose TOML files would apply)."""
    path = tmp_path / "seed" / SEED.name
    path.parent.mkdir()
    path.write_bytes(SEED.read_bytes())
    return path


def test_seed_dump_model(loose_seed):
    data, raw = inspect(loose_seed)
    assert data["publication"]["title"] == "郑州日报"
    assert data["publication"]["language"] == "zh-CN"
    assert data["publication"]["id"] == "zzrb"  # the initials of its pinyin, as the paper calls itself
    section, article = only_article(data)
    assert (section["name"], section["page"]) == ("理论", "15")
    assert article["title"] == SEED_TITLE
    assert article["author_note"] == "作者为巩义市小关镇党委书记"
    assert article["kicker"] is None and article["subtitle"] is None and article["byline"] is None
    paragraphs = article["text"].split("\n\n")
    assert len(paragraphs) == 7
    seed_lines = [l.strip() for l in SEED.read_text(encoding="utf-8").splitlines() if len(l.strip()) > 60]
    assert paragraphs == seed_lines
    for word in NAVIGATION_TEXT + ["郑州晚报", "中原网", "扶植小微企业"]:
        assert word not in raw, word


def test_seed_dump_builds(tmp_path, loose_seed, assert_valid_epub):
    result = run_cli("build", loose_seed, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in outputs(tmp_path / "out")) == ["zzrb-undated.epub", "zzrb-undated.pdf"]
    epub = next((tmp_path / "out").glob("*.epub"))
    assert_valid_epub(epub)
    pdf_text = squash("".join(page_texts(next((tmp_path / "out").glob("*.pdf")))))
    assert SEED_TITLE in pdf_text and "作者为巩义市小关镇党委书记" in pdf_text
    epub_text = b"".join(epub_files(epub).values()).decode("utf-8", "replace")
    for word in NAVIGATION_TEXT:
        assert word not in pdf_text and word not in epub_text


def test_gb18030_and_utf16_give_the_same_model(tmp_path, loose_seed):
    text = SEED.read_text(encoding="utf-8")
    expected, _ = inspect(loose_seed)
    for encoding in ("gb18030", "utf-16", "utf-16-le", "utf-8-sig"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        got, _ = inspect(path)
        assert got == expected, encoding


def test_big5_traditional_dump(tmp_path):
    path = tmp_path / "big5.txt"
    path.write_bytes(TRADITIONAL.replace("\u00a0", " ").encode("big5"))
    data, raw = inspect(path)
    assert data["publication"]["title"] == "海港日報"
    assert data["publication"]["language"] == "zh-TW"
    section, article = only_article(data)
    assert (section["name"], section["page"]) == ("要聞", "A03")
    assert article["title"] == "港口夜航渡輪明年恢復"
    assert article["byline"] == "本報記者 王小明" and article["authors"] == ["王小明"]
    assert article["text"].split("\n\n")[0].startswith("港務局週二表決通過")
    assert "導航" not in raw and "上一篇" not in raw


def test_truncated_dump_inside_a_utf8_sequence(tmp_path):
    data = SEED.read_bytes()
    cut = data.index("实施“创新工程”".encode()) + 40
    while (data[cut] & 0xC0) != 0x80:  # land inside a multi-byte character
        cut += 1
    path = tmp_path / "cut.txt"
    path.write_bytes(data[:cut])
    model, raw = inspect(path)
    section, article = only_article(model)
    assert article["title"] == SEED_TITLE
    paragraphs = article["text"].split("\n\n")
    assert len(paragraphs) == 5 and paragraphs[-1].startswith("实施“创新工程”")
    assert article["author_note"] is None
    for word in NAVIGATION_TEXT:
        assert word not in raw


def test_several_dumps_make_one_issue_in_page_and_list_order(tmp_path):
    (tmp_path / "b.txt").write_text(SAME_PAGE, encoding="utf-8")
    (tmp_path / "c.txt").write_text(FRONT_PAGE, encoding="utf-8")
    (tmp_path / "a.txt").write_bytes(SEED.read_bytes())
    data, raw = inspect(tmp_path / "b.txt", tmp_path / "a.txt", tmp_path / "c.txt")
    (issue,) = data["issues"]
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("要闻", "03"), ("理论", "15")]
    theory = issue["sections"][1]["articles"]
    assert [a["title"] for a in theory] == [SEED_TITLE, "群众是推进工作落实的最大依靠"]
    for word in NAVIGATION_TEXT:
        assert word not in raw


def test_kicker_wrapped_headline_subtitle_byline_dateline_and_subheads(tmp_path):
    (tmp_path / "c.txt").write_text(FRONT_PAGE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(SAME_PAGE, encoding="utf-8")
    data, _ = inspect(tmp_path / "c.txt")
    _, front = only_article(data)
    assert front["kicker"] == "稳中求进 狠抓落实"
    assert front["title"] == "我市召开会议部署下半年经济工作"
    assert front["subtitle"] == "确保完成全年目标任务"  # printed ——…, as the HTML page: the dash is the template's
    assert front["byline"] == "本报记者 张 华 通讯员 李明"
    assert front["authors"] == ["张华", "李明"]
    assert front["dateline"] == "本报讯"
    assert front["text"].split("\n\n") == ["7月5日,市委召开全市经济工作会议,部署下半年经济工作。",
                                           "会议指出,上半年全市经济运行总体平稳,稳中有进。"]
    data, _ = inspect(tmp_path / "b.txt")
    _, other = only_article(data)
    assert other["byline"] == "刘 冬" and other["authors"] == ["刘冬"]  # the bullet is no part of the byline, as in the HTML
    assert other["author_note"] == "作者单位:中共郑州市委党校"
    assert "一、深入群众" in other["text"]


def test_subheads_become_headings_in_the_epub(tmp_path):
    (tmp_path / "b.txt").write_text(SAME_PAGE, encoding="utf-8")
    result = run_cli("build", tmp_path / "b.txt", "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    files = epub_files(next((tmp_path / "out").glob("*.epub")))
    article = next(data for name, data in files.items() if name.startswith("EPUB/text/a"))
    assert '<h2 class="subhead">一、深入群众</h2>'.encode() in article


def test_the_subtitle_is_printed_after_its_dash(tmp_path):
    """The model holds the subtitle without its dash; the EPUB and the PDF (one shared header) print it."""
    (tmp_path / "c.txt").write_text(FRONT_PAGE, encoding="utf-8")
    result = run_cli("build", tmp_path / "c.txt", "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    files = epub_files(next((tmp_path / "out").glob("*.epub")))
    article = next(data for name, data in files.items() if name.startswith("EPUB/text/a"))
    assert '<p class="subtitle">——确保完成全年目标任务</p>'.encode() in article


def test_plain_text_file_is_one_article(tmp_path):
    (tmp_path / "note.txt").write_text("A short note\n\nFirst paragraph here.\n\nSecond one.\n", encoding="utf-8")
    data, _ = inspect(tmp_path / "note.txt")
    _, article = only_article(data)
    assert article["title"] == "A short note"
    assert article["text"] == "First paragraph here.\n\nSecond one."


def test_from_forces_the_kind(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(SAME_PAGE, encoding="utf-8")
    data, _ = inspect(page, "--from", "text")
    assert data["issues"][0]["sections"][0]["page"] == "15"


def test_verbose_says_which_decoding_won(tmp_path):
    path = tmp_path / "gb.txt"
    path.write_bytes(SEED.read_text(encoding="utf-8").encode("gb18030"))
    result = run_cli("inspect", path, "-v")
    assert result.returncode == 0
    assert "reading as text" in result.stderr and "gb18030" in result.stderr


def test_a_markdown_file_is_never_taken_for_a_dump(tmp_path):
    """A Markdown file whose first line reads like a page header (1版本更新说明) is Markdown, by its name."""
    from broadsheet.ingest import detect_kind

    notes = tmp_path / "notes.md"
    notes.write_text("1版本更新说明\n\n本次更新修正了若干问题。\n", encoding="utf-8")
    dump = tmp_path / "dump.txt"
    dump.write_text("1版本更新说明\n\n本次更新修正了若干问题。\n", encoding="utf-8")
    assert detect_kind(notes, tmp_path) == "markdown"
    assert detect_kind(dump, tmp_path) == "text"


def test_a_dump_cut_short_mid_sentence_is_a_warning_once_naming_the_article(tmp_path):
    data = SEED.read_bytes()
    cut = data.index("实施“创新工程”".encode()) + 40
    while (data[cut] & 0xC0) != 0x80:  # inside a character, inside a sentence
        cut += 1
    path = tmp_path / "cut.txt"
    path.write_bytes(data[:cut])
    for args in (("inspect", path), ("build", path, "-f", "html", "-o", tmp_path / "out")):
        result = run_cli(*args)  # no -v: said by default
        assert result.returncode == 0, result.stderr
        warnings = [line for line in result.stderr.splitlines() if "cut short" in line]
        assert len(warnings) == 1, result.stderr
        assert warnings[0].startswith(f"broadsheet: warning: {path}: the dump ends mid-sentence") \
            and SEED_TITLE in warnings[0], warnings[0]
    whole = run_cli("inspect", SEED)
    assert whole.returncode == 0 and "cut short" not in whole.stderr, whole.stderr
