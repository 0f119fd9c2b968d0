"""The contents laid out beside the sections: page numbers written in after layout
(``backends/pdf/contents.py``), and laid out again when that cannot give the true layout."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, outputs, run_cli
from pdfread import outline, page_texts
from test_parallel_and_cache import laid_out, links

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

CSS = (ROOT / "styles" / "print.css").read_text(encoding="utf-8")


def contents_html(entries: list[tuple[str, str, str]]) -> str:
    """A contents page as the print template writes it: (anchor, title, data-page) per entry."""
    items = "".join(f'<li class="toc-article"><a href="#{name}" data-page="{page}">{title}</a></li>'
                    for name, title, page in entries)
    return (f'<html lang="zh-CN"><head><style>{CSS}</style></head><body><nav class="toc" id="toc">'
            f'<h1 class="toc-title">目录</h1><ol><li class="toc-section"><a href="#s" data-page="{entries[0][2]}">'
            f"第1版</a><ol>{items}</ol></li></ol></nav></body></html>")


def text_boxes(document) -> list[tuple[int, str, float, float, float]]:
    """Every text box drawn: (page, text, x, y, width), rounded to a millionth of a pixel."""
    found = []
    for number, page in enumerate(document.pages):
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            stack.extend(getattr(box, "children", ()))
            if hasattr(box, "pango_layout") and getattr(box, "text", None):
                found.append((number, box.text, round(box.position_x, 6), round(box.position_y, 6),
                              round(box.width, 6)))
    return sorted(found)


def lay_out(html: str):
    import weasyprint

    from broadsheet.backends.pdf import justify, leaders

    justify.install()
    leaders.install()
    return weasyprint.HTML(string=html).render()


def test_numbers_written_in_after_layout_are_the_layout_with_the_numbers():
    from broadsheet.backends.pdf.contents import fill_in
    from broadsheet.backends.pdf.parts import PLACEHOLDER

    titles = ["推进基层治理现代化（1）", "The harbour report (2)", "城市更新", "Ferry", "乡村振兴的实践探索（33）"]
    numbers = [3, 27, 101, 999, 1234, 5, 88]  # narrower and wider than the placeholder
    pages = {"s": 3, **{f"a{i}": numbers[i % len(numbers)] for i in range(60)}}
    entries = [(f"a{i}", titles[i % len(titles)], PLACEHOLDER) for i in range(60)]
    speculative = lay_out(contents_html(entries))
    assert len(speculative.pages) >= 2  # entries on more than one page
    assert fill_in(speculative, pages, PLACEHOLDER)
    true = lay_out(contents_html([(name, title, str(pages[name])) for name, title, _ in entries]).replace(
        f'data-page="{PLACEHOLDER}"', f'data-page="{pages["s"]}"'))
    assert len(true.pages) == len(speculative.pages)
    assert text_boxes(speculative) == text_boxes(true)
    assert any(text == "1234" for _, text, *_ in text_boxes(speculative))


def test_a_title_that_wraps_is_laid_out_again():
    from broadsheet.backends.pdf.contents import fill_in
    from broadsheet.backends.pdf.parts import PLACEHOLDER

    long = "一篇标题很长很长的文章" * 8  # wraps: a narrower number could change its lines
    document = lay_out(contents_html([("a0", "短标题", PLACEHOLDER), ("a1", long, PLACEHOLDER)]))
    before = text_boxes(document)
    assert not fill_in(document, {"s": 3, "a0": 3, "a1": 5}, PLACEHOLDER)
    assert text_boxes(document) == before  # nothing written in
    assert not fill_in(lay_out(contents_html([("a0", "短标题", PLACEHOLDER)])), {"s": 3}, PLACEHOLDER)  # no a0


# -- a whole edition ------------------------------------------------------------------------------

SECTIONS, PER_SECTION = 8, 22
WORDS = ["harbour", "council", "ferry", "budget", "school", "museum", "market", "weather", "bridge"]


def write_edition(root: Path, long_title: bool) -> Path:
    """Very many short articles: contents of several pages, so that the sections open late; with
    ``long_title``, one entry wraps in the contents and its number cannot be written in."""
    issue = root / "edition" / "2026-04-01"
    issue.mkdir(parents=True)
    (root / "edition" / "broadsheet.toml").write_text(
        '[publication]\ntitle = "快讯日报"\nlanguage = "zh-CN"\nid = "mlrb"\n', encoding="utf-8")
    (issue / "issue.toml").write_text(
        "sections = [" + ", ".join(f'{{ name = "第{i + 1}版", page = "{i + 1:02d}" }}' for i in range(SECTIONS))
        + "]\n", encoding="utf-8")
    for number in range(SECTIONS * PER_SECTION):
        section = number // PER_SECTION
        if number % 2:
            title = f"The {WORDS[number % len(WORDS)]} report ({number})"
            body = " ".join(WORDS[(number * k) % len(WORDS)] for k in range(70)).capitalize() + "."
            lang = "lang: en\n"
        else:
            title = f"短讯（{number}）"
            body = "".join(f"第{k}条消息，{WORDS[k % len(WORDS)]}。" for k in range(40))
            lang = ""
        if long_title and number == 5 * PER_SECTION + 3:
            title = ("A very long headline that runs on and on and on, far too long for one line of the "
                     "contents page, so that it wraps onto a second line there")
        (issue / f"a{number:03d}.md").write_text(
            f'---\ntitle: "{title}"\nsection: 第{section + 1}版\norder: {number}\n{lang}---\n\n{body}\n\n{body}\n',
            encoding="utf-8")
    return root / "edition"


@pytest.fixture(scope="module")
def many_short(tmp_path_factory):
    root = tmp_path_factory.mktemp("contents")
    edition = write_edition(root, long_title=True)
    built = {}
    for name, extra in (("parts", ["--jobs", "2"]), ("whole", ["--layout", "whole"])):
        out = root / name
        result = run_cli("build", edition, "-o", out, "-f", "pdf", "--no-cache", "-v", *extra)
        assert result.returncode == 0, result.stderr
        (pdf,) = [p for p in outputs(out) if p.suffix == ".pdf"]
        built[name] = (pdf, result.stderr)
    return built


def contents_numbers(pdf: Path) -> tuple[list[int], dict[str, int]]:
    """The pages the contents are on (1-based: those whose lines end in dots and a number) and
    the page number printed for each entry."""
    pages, printed = [], {}
    for number, text in enumerate(page_texts(pdf), start=1):
        entries = [match for line in text.splitlines()
                   if (match := re.search(r"^\s*(.*?)\s*(?:\. ?){3,}\s*(\d+)\s*$", line))]
        if len(entries) >= 3:
            pages.append(number)
            printed.update((match.group(1), int(match.group(2))) for match in entries)
    return pages, printed


def test_contents_of_many_pages_laid_out_again_are_right(many_short):
    pdf, log = many_short["parts"]
    assert "the contents are laid out again" in log  # the wrapped title's number could not be written in
    anew, parts = laid_out(SimpleNamespace(stderr=log))
    assert anew == parts
    pages, printed = contents_numbers(pdf)
    assert len(pages) >= 3 and pages[0] == 2  # the contents' page count decides where the sections open
    texts = page_texts(pdf)
    articles = [article for section in outline(pdf) for article in section.children]
    assert len(articles) == SECTIONS * PER_SECTION
    checked = 0
    for article in articles:
        if article.title in printed:  # every entry but the wrapped one reads on one line
            assert printed[article.title] == article.page, article.title
            checked += 1
        assert texts[article.page - 1].split()[-1] == str(article.page)  # the folio
    assert checked >= len(articles) - 1


def test_contents_laid_out_in_parts_are_the_whole_layout(many_short):
    parts, whole = many_short["parts"][0], many_short["whole"][0]
    assert page_texts(parts) == page_texts(whole)  # numbers, folios and running heads
    assert outline(parts) == outline(whole)
    assert links(parts) == links(whole)
    contents_pages, _ = contents_numbers(parts)
    # each contents entry links to the page its article is on
    titles = {article.page for section in outline(parts) for article in section.children}
    targets = {target for page, _, target in links(parts) if page in contents_pages}
    assert titles <= targets
