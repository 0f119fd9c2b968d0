"""The newspaper theme's print edition: a front page that carries the news, no blank pages, full
columns, layout-true page references and jump lines; read back from the PDF."""

from __future__ import annotations

import re
import subprocess

import pytest
from pypdf import PdfReader

from conftest import EN_EXAMPLE, ZH_EXAMPLE, inspect_cli, run_cli
from pdfread import outline

from broadsheet.paper import PageSize, to_mm

PT_PER_MM = 72 / 25.4
GAP_MM = 5  # the newspaper theme's column gap
BUILDS = [(example, size) for example in (EN_EXAMPLE, ZH_EXAMPLE) for size in ("A4", "tabloid")]


@pytest.fixture(scope="module", params=BUILDS, ids=lambda build: f"{build[0].name}-{build[1]}")
def edition(request, tmp_path_factory):
    """One example built with the newspaper theme at one page size: its PDF, page size and model."""
    example, size = request.param
    out = tmp_path_factory.mktemp("front")
    result = run_cli("build", example, "--out", out, "-f", "pdf", "--theme", "newspaper", "--page-size", size)
    assert result.returncode == 0, result.stderr
    model, inspected = inspect_cli(example)
    assert inspected.returncode == 0, inspected.stderr
    return next(out.glob("*.pdf")), PageSize.parse(size), model


def reading_order(pdf, page: int) -> str:
    """The text of a 1-based page in reading order (columns one after another)."""
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def words(pdf, page: int) -> list[tuple[float, float]]:
    """(x, y) of the top left of every word of a 1-based page, in points from the top left."""
    from lxml import etree

    xml = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    return [(float(word.get("xMin")), float(word.get("yMin"))) for word in root.iter("{*}word")]


_TYPESET = str.maketrans("，：；？！（）“”‘’", ",:;?!()\"\"''")


def flat(text: str) -> str:
    """Text without white space and hyphens: lines wrapped, hyphenated or justified compare equal; the
    model's text and the typeset page compare equal too (full-width punctuation, typographic quotes)."""
    return re.sub(r"[\s\-‐]+", "", text).translate(_TYPESET)


def articles(model: dict) -> list[tuple[dict, dict]]:
    return [(section, article) for issue in model["issues"] for section in issue["sections"]
            for article in section["articles"]]


def pages_of(pdf, needle: str, count: int) -> list[int]:
    return [page for page in range(1, count + 1) if flat(needle) in flat(reading_order(pdf, page))]


def test_page_one_holds_the_masthead_and_the_lead_story(edition):
    pdf, _, model = edition
    first = flat(reading_order(pdf, 1))
    _, lead = articles(model)[0]
    assert flat(model["publication"]["title"]) in first
    assert flat(lead["title"]) in first
    opening = lead["text"].split("\n\n")[0][:60]
    assert flat(opening) in first, "the lead story's text starts on the front page"


def test_no_page_is_blank(edition):
    pdf, _, model = edition
    count = len(PdfReader(pdf).pages)
    running = flat(model["publication"]["title"])
    for page in range(1, count + 1):
        body = [line for line in reading_order(pdf, page).splitlines()
                if line.strip() and not re.fullmatch(r"\d+", line.strip()) and not flat(line).startswith(running)]
        assert len(body) > 2, f"page {page} is blank"


def test_no_column_ends_more_than_a_third_empty_but_a_sections_last(edition):
    pdf, size, _ = edition
    count = len(PdfReader(pdf).pages)
    starts = sorted({mark.page for mark in outline(pdf)})  # the sections' first pages
    assert starts[0] == 1
    last_pages = {start - 1 for start in starts[1:]} | {count}
    columns = 2 if size.width_mm < 260 else 3 if size.width_mm < 350 else 4
    top, outer, bottom, inner = (to_mm(m) * PT_PER_MM for m in size.margins)
    width, height = size.width_mm * PT_PER_MM, to_mm(size.height) * PT_PER_MM
    for page in range(1, count + 1):
        if page in last_pages:
            continue
        left = inner if page % 2 else outer  # page 1 is a right-hand page
        column = (width - inner - outer - (columns - 1) * GAP_MM * PT_PER_MM) / columns
        lowest = [top] * columns
        for x, y in words(pdf, page):
            if not top <= y <= height - bottom:
                continue  # the running heads, folios and jump lines in the margins
            index = min(max(int((x - left) // (column + GAP_MM * PT_PER_MM)), 0), columns - 1)
            lowest[index] = max(lowest[index], y)
        for index, low in enumerate(lowest):
            empty = (height - bottom - low) / (height - top - bottom)
            assert empty <= 1 / 3, f"page {page}, column {index + 1} is {empty:.0%} empty"


def test_articles_that_run_on_say_where_they_go_and_come_from(edition):
    pdf, _, model = edition
    assert_jump_lines(pdf, model)


def test_jump_lines_in_a_long_edition_with_many_page_breaks(tmp_path):
    from test_cli import write

    sentence = "The harbour board met again to weigh the timetable, the cost of the boats and the quays. "
    for n, (section, paragraphs) in enumerate([("News", 30), ("News", 3), ("Sport", 45), ("Sport", 12)]):
        body = "\n\n".join(f"{section} {n} paragraph {p}. " + sentence * 4 + f"So ends paragraph {n}/{p}."
                             for p in range(paragraphs))
        write(tmp_path / f"ed/{n}.md", f"---\ntitle: Report {n}\nsection: {section}\n---\n\n{body}\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--theme", "newspaper")
    assert result.returncode == 0, result.stderr
    model, inspected = inspect_cli(tmp_path / "ed")
    assert inspected.returncode == 0, inspected.stderr
    assert assert_jump_lines(next(out.glob("*.pdf")), model) >= 4


def assert_jump_lines(pdf, model: dict) -> int:
    """Each page an article leaves for the next says where it goes on, the next where it came from, and no
    other page says so; return how many pages an article left."""
    count = len(PdfReader(pdf).pages)
    chinese = model["publication"]["language"].startswith("zh")
    on = "下转第{}版" if chinese else "Continued on page {}"
    came = "上接第{}版" if chinese else "Continued from page {}"
    texts = [flat(reading_order(pdf, page)) for page in range(1, count + 1)]
    runs_on = 0
    for _, article in articles(model):
        paragraphs = article["text"].split("\n\n")
        first = pages_of(pdf, paragraphs[0][:40], count)
        last = pages_of(pdf, paragraphs[-1][-40:], count)
        assert first and last, article["title"]
        for page in range(first[-1], last[-1]):  # every page the article leaves (a teaser may quote its opening)
            assert flat(on.format(page + 1)) in texts[page - 1], f"{article['title']}: page {page}"
            assert flat(came.format(page)) in texts[page], f"{article['title']}: page {page + 1}"
            runs_on += 1
    # and no page says so without cause: as many pages say "continued on" as articles run on
    assert sum(1 for text in texts if flat(on.split("{")[0]) in text) == runs_on
    assert sum(1 for text in texts if flat(came.split("{")[0]) in text) == runs_on
    return runs_on


def test_teasers_name_the_pages_their_stories_are_on(edition):
    pdf, _, model = edition
    count = len(PdfReader(pdf).pages)
    front = reading_order(pdf, 1)
    sections = [s for issue in model["issues"] for s in issue["sections"]]
    for section in sections[1:]:
        story = section["articles"][0]
        page = next(p for p in range(1, count + 1)
                    if flat(story["title"]) in flat(reading_order(pdf, p)) and p > 1 or count == 1)
        teaser = front[front.index(story["title"][:20]):]
        assert re.search(rf"→\s*{page}\b|见第{page}版", teaser[:400]), story["title"]


def test_a_contents_page_only_for_a_long_edition():
    from broadsheet.model import Article, Inline, Issue, Paragraph, Section
    from broadsheet.render.front import CONTENTS_OVER_PAGES, front_page

    def issue(paragraphs: int) -> Issue:
        text = "The harbour board met again to weigh the timetable and the cost of the boats. " * 8
        body = tuple(Paragraph(content=Inline(html=text, text=text)) for _ in range(paragraphs))
        return Issue(sections=tuple(Section(id=f"s{n}", name=f"S{n}", articles=(
            Article(id=f"a{n}", title="A report", lang="en", blocks=body),)) for n in range(3)))

    short, long = front_page(issue(4), 3, False), front_page(issue(120), 3, False)
    assert not short["contents"] and short["estimated_pages"] <= CONTENTS_OVER_PAGES
    assert long["contents"] and long["estimated_pages"] > CONTENTS_OVER_PAGES


def test_a_story_marked_lead_opens_the_front_page(tmp_path):
    from test_cli import write

    write(tmp_path / "ed/a.md", "---\ntitle: Council meets\nsection: News\n---\n\nThe council met on Monday.\n")
    write(tmp_path / "ed/b.md", "---\ntitle: Harbour wins the cup\nsection: Sport\nlead: true\n---\n\n"
          "The harbour team won the county cup on Saturday.\n")
    write(tmp_path / "ed/c.md", "---\ntitle: Tide tables\nsection: Sport\n---\n\nHigh water at noon.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--theme", "newspaper")
    assert result.returncode == 0, result.stderr
    pdf = next(out.glob("*.pdf"))
    front = flat(reading_order(pdf, 1))
    assert flat("The harbour team won the county cup") in front
    assert front.index(flat("Council meets")) < front.index(flat("Harbour wins the cup"))  # its teaser, above
    assert [mark.title for mark in outline(pdf)] == ["Sport", "News"]  # the lead's section first
    assert [child.title for child in outline(pdf)[0].children] == ["Harbour wins the cup", "Tide tables"]
