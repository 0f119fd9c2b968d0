"""Sources without any TOML: a single Markdown file, a plain folder; defaults and ordering."""

from __future__ import annotations


from conftest import inspect_cli, outputs, run_cli
from test_cli import write
from pdfread import outline, page_texts, squash


def inspect(*args):
    return inspect_cli(*args)[0]


def test_single_markdown_file_builds_with_defaults(tmp_path, assert_valid_epub):
    source = write(tmp_path / "2025-03-04-note.md", "# 春天来了\n\n今天天气很好。\n\n我们去公园散步。\n")
    data = inspect(source)
    assert data["publication"]["language"] == "zh-CN"
    assert data["publication"]["title"] == "春天来了"
    (issue,) = data["issues"]
    assert issue["date"] == "2025-03-04"  # from the file name, as Jekyll posts
    article = issue["sections"][0]["articles"][0]
    assert article["title"] == "春天来了"
    assert article["text"] == "今天天气很好。\n\n我们去公园散步。"
    out = tmp_path / "out"
    result = run_cli("build", source, "--out", out)
    assert result.returncode == 0, result.stderr
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)
    assert "春天来了" in squash("".join(page_texts(next(out.glob("*.pdf")))))


def test_folder_of_markdown_orders_sections_by_page_and_articles_by_order(tmp_path, assert_valid_epub):
    folder = tmp_path / "2024-05-01"
    write(folder / "b.md", "---\ntitle: Second on A1\nsection: Front\npage: A1\norder: 2\n---\nText b.\n")
    write(folder / "a.md", "---\ntitle: First on A1\nsection: Front\npage: A1\norder: 1\n---\nText a.\n")
    write(folder / "c.md", "---\ntitle: Sport story\nsection: Sport\npage: B4\n---\nText c.\n")
    write(folder / "d.md", "---\ntitle: Business story\nsection: Business\npage: A12\n---\nText d.\n")
    data = inspect(folder)
    assert data["publication"]["language"] == "en"
    issue = data["issues"][0]
    assert issue["date"] == "2024-05-01"
    assert [(s["name"], s["page"]) for s in issue["sections"]] == [("Front", "A1"), ("Business", "A12"), ("Sport", "B4")]
    assert [a["title"] for a in issue["sections"][0]["articles"]] == ["First on A1", "Second on A1"]
    out = tmp_path / "out"
    assert run_cli("build", folder, "--out", out).returncode == 0
    assert_valid_epub(next(out.glob("*.epub")))
    tree = outline(next(out.glob("*.pdf")))
    assert [b.title for b in tree] == ["Front · page A1", "Business · page A12", "Sport · page B4"]


def test_publication_with_several_issues_writes_one_output_per_issue(tmp_path):
    write(tmp_path / "pub/broadsheet.toml", "[publication]\ntitle = 'Weekly'\nid = 'weekly'\nlanguage = 'en'\n")
    write(tmp_path / "pub/2024-01-08/a.md", "---\ntitle: Week two\n---\nText.\n")
    write(tmp_path / "pub/2024-01-01/a.md", "---\ntitle: Week one\n---\nText.\n")
    data = inspect(tmp_path / "pub")
    assert [i["date"] for i in data["issues"]] == ["2024-01-01", "2024-01-08"]
    result = run_cli("build", tmp_path / "pub", "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in outputs(tmp_path / "out")) == ["weekly-2024-01-01.epub", "weekly-2024-01-08.epub"]


def test_issue_folder_finds_its_publication_config(tmp_path):
    write(tmp_path / "pub/broadsheet.toml", "[publication]\ntitle = '晚报'\nlanguage = 'zh-CN'\nid = 'wb'\n")
    write(tmp_path / "pub/2024-02-02/issue.toml", "number = '12'\nsections = ['要闻']\n")
    write(tmp_path / "pub/2024-02-02/x.md", "---\ntitle: 标题\n---\n正文。\n")
    data = inspect(tmp_path / "pub/2024-02-02")
    assert data["publication"]["title"] == "晚报"
    assert data["issues"][0]["number"] == "12"
    assert data["issues"][0]["sections"][0]["name"] == "要闻"


def test_title_override(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    assert inspect(tmp_path / "ed", "--title", "Morning Post")["publication"]["title"] == "Morning Post"


def test_cjk_soft_line_breaks_do_not_become_spaces(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: 标题\n---\n第一行文字\n接着第二行。\nThen English\nwords.\n")
    article = inspect(tmp_path / "ed")["issues"][0]["sections"][0]["articles"][0]
    # as pandoc's east_asian_line_breaks: removed only between two wide characters
    assert article["text"] == "第一行文字接着第二行。 Then English words."


def test_markdown_structure_becomes_blocks(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", "---\ntitle: Blocks\n---\n\nIntro with *emphasis* and [a link](https://example.org).\n\n"
          "## A subhead\n\n> Quoted words.\n\n- one\n- two\n\n```\ncode line\n```\n\n---\n\nLast.\n")
    article = inspect(tmp_path / "ed")["issues"][0]["sections"][0]["articles"][0]
    assert article["text"].split("\n\n") == ["Intro with emphasis and a link.", "A subhead", "Quoted words.",
                                             "one\ntwo", "code line", "Last."]
    out = tmp_path / "out"
    assert run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub").returncode == 0
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)


def test_markdown_in_gbk_decodes(tmp_path):
    (tmp_path / "ed").mkdir()
    (tmp_path / "ed/a.md").write_bytes("---\ntitle: 国内新闻\n---\n\n今天的天气非常好，我们一起去公园散步。\n".encode("gbk"))
    article = inspect(tmp_path / "ed")["issues"][0]["sections"][0]["articles"][0]
    assert article["title"] == "国内新闻"
    assert article["text"] == "今天的天气非常好，我们一起去公园散步。"


def test_a_folder_of_publication_folders_builds_each_as_itself(tmp_path, assert_valid_epub):
    import shutil

    from conftest import ROOT

    archive = tmp_path / "archive"
    shutil.copytree(ROOT / "examples", archive)
    views = inspect(archive)
    assert {view["publication"]["title"] for view in views} == {"The Harbour Gazette", "郑州日报"}
    out = tmp_path / "out"
    result = run_cli("build", archive, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in outputs(out)) == ["harbour-gazette-2026-11-20.epub", "zzrb-2012-07-06.epub"]
    for epub in outputs(out):
        assert_valid_epub(epub)


def test_an_archive_by_publication_year_and_issue(tmp_path):
    for paper, title in (("daily", "The Daily"), ("weekly", "The Weekly")):
        write(tmp_path / "archive" / paper / "broadsheet.toml", f'[publication]\ntitle = "{title}"\n')
        for day in ("2024-05-01", "2024-05-02"):
            write(tmp_path / "archive" / paper / "2024" / "05" / day / "a.md",
                  f"---\ntitle: {title} on {day}\n---\n\nText of {day}.\n")
    views = inspect(tmp_path / "archive")
    assert {view["publication"]["title"]: [i["date"] for i in view["issues"]] for view in views} == {
        "The Daily": ["2024-05-01", "2024-05-02"], "The Weekly": ["2024-05-01", "2024-05-02"]}
    # a publication named on its own finds its issues below its year folders too
    daily = inspect(tmp_path / "archive" / "daily")
    assert [issue["date"] for issue in daily["issues"]] == ["2024-05-01", "2024-05-02"]


def test_an_archive_without_configuration_by_year_is_one_publication(tmp_path):
    for day in ("2024-05-01", "2024-06-01"):
        write(tmp_path / "notes" / "2024" / day / "a.md", f"---\ntitle: Note of {day}\n---\n\nText.\n")
    view = inspect(tmp_path / "notes")
    assert [issue["date"] for issue in view["issues"]] == ["2024-05-01", "2024-06-01"]
