"""Sections laid out in parallel processes and joined: the same PDF as a whole-document layout;
the caches of laid-out parts and rendered articles redo only what an edit touched."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pikepdf
import pytest

from conftest import EN_EXAMPLE, epub_files, outputs, run_cli
from pdfread import fonts, outline, page_boxes, page_texts

ZH = ["推进基层治理现代化", "黄河流域生态保护", "城市更新与民生改善", "科技创新引领发展", "乡村振兴的实践探索"]
EN = ["harbour", "council", "ferry", "budget", "school", "museum", "market", "weather", "bridge"]
#: paragraphs per article: sections of different lengths, so that some end on a recto
LENGTHS = [[9, 7, 8], [3], [12, 10, 6, 4], [2, 2], [8, 9]]


def write_edition(root: Path) -> Path:
    """Five sections, Chinese and English articles, some long enough to cross pages; enough text
    (over 64 KB) to be laid out in parts."""
    issue = root / "edition" / "2026-03-02"
    issue.mkdir(parents=True)
    (root / "edition" / "broadsheet.toml").write_text(
        '[publication]\ntitle = "并行日报"\nlanguage = "zh-CN"\nid = "bxrb"\n', encoding="utf-8")
    (issue / "issue.toml").write_text(
        "sections = [" + ", ".join(f'{{ name = "第{i + 1}版", page = "{i + 1:02d}" }}' for i in range(len(LENGTHS)))
        + "]\n", encoding="utf-8")
    number = 0
    for section, articles in enumerate(LENGTHS):
        for count in articles:
            number += 1
            chinese = number % 3 != 0
            if chinese:
                title = f"{ZH[number % len(ZH)]}（{number}）"
                paragraph = "".join(f"{ZH[(number + k) % len(ZH)]}，{ZH[k % len(ZH)]}取得新进展。" for k in range(20))
            else:
                title = f"The {EN[number % len(EN)]} report ({number})"
                paragraph = " ".join(EN[(number * k) % len(EN)] for k in range(90)).capitalize() + "."
            body = "\n\n".join(f"{paragraph}" for _ in range(count))
            lang = "" if chinese else "lang: en\n"
            (issue / f"a{number:02d}.md").write_text(
                f"---\ntitle: \"{title}\"\nsection: 第{section + 1}版\norder: {number}\n{lang}---\n\n{body}\n",
                encoding="utf-8")
    return root / "edition"


def laid_out(result) -> tuple[int, int]:
    """Parse '-v' output: (parts laid out anew, parts in all)."""
    if match := re.search(r"(\d+) of (\d+) parts laid out", result.stderr):
        return int(match.group(1)), int(match.group(2))
    if match := re.search(r"all (\d+) parts from the cache", result.stderr):
        return 0, int(match.group(1))
    match = re.search(r"(\d+) parts? laid out \(", result.stderr)
    assert match, result.stderr
    return int(match.group(1)), int(match.group(1))


def links(path: Path) -> list[tuple[int, str, int]]:
    """Each link annotation: (page, named destination, page the destination is on), 1-based."""
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages, start=1)}
        names = pdf.Root.Names.Dests.Names
        dests = {str(names[i]): pages[names[i + 1][0].objgen] for i in range(0, len(names), 2)}
        found = []
        for number, page in enumerate(pdf.pages, start=1):
            for annotation in page.obj.get("/Annots", []):
                if "/Dest" in annotation:
                    name = str(annotation.Dest)
                    found.append((number, name, dests[name]))
        return found


def font_programs(path: Path) -> dict[str, set[bytes]]:
    """Each font name and the embedded programs its descriptors point at."""
    with pikepdf.open(path) as pdf:
        programs: dict[str, set[bytes]] = {}
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                for key in ("/FontFile2", "/FontFile3"):
                    if key in obj:
                        programs.setdefault(str(obj.FontName), set()).add(obj[key].read_bytes())
        return programs


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    edition = write_edition(root)
    common = ["-f", "pdf", "--bleed", "3mm", "--marks", "crop"]
    results = {}
    for name, extra in (("whole", ["--layout", "whole"]), ("jobs2", ["--jobs", "2"]), ("jobs1", ["--jobs", "1"]),
                        ("jobs3", ["--jobs", "3", "--no-cache"])):
        out = root / name
        result = run_cli("build", edition, "-o", out, *common, *extra, "-v")
        assert result.returncode == 0, result.stderr
        assert "warning" not in result.stderr.lower(), result.stderr
        (pdf,) = [p for p in outputs(out) if p.suffix == ".pdf"]
        results[name] = (pdf, result)
    return edition, results


def test_sections_in_parallel_make_the_whole_document(builds):
    _, results = builds
    whole, parallel = results["whole"][0], results["jobs2"][0]
    anew, parts = laid_out(results["jobs2"][1])
    assert anew == parts >= 5  # the front matter counted, sections in 2+ parts, the contents, blank pages
    texts = page_texts(whole)
    assert len(texts) >= 12
    assert page_texts(parallel) == texts  # same pages, same text on each, folios and running heads included
    assert outline(parallel) == outline(whole)
    assert page_boxes(parallel) == page_boxes(whole)
    assert links(parallel) == links(whole) and len(links(whole)) > 10
    with pikepdf.open(whole) as a, pikepdf.open(parallel) as b:
        assert dict(a.docinfo.items()) == dict(b.docinfo.items())
        assert str(a.Root.Lang) == str(b.Root.Lang) == "zh-CN"


def test_blank_versos_and_folios(builds):
    _, results = builds
    texts = page_texts(results["jobs2"][0])
    blanks = [number for number, text in enumerate(texts, start=1) if not text.strip()]
    assert blanks and all(number % 2 == 0 for number in blanks)  # a blank verso before a recto opener
    for number, text in enumerate(texts[1:], start=2):  # the title page has no folio
        if text.strip():
            assert text.split()[-1] == str(number), (number, text[-200:])  # the folio is the page number
    for item in outline(results["jobs2"][0]):
        assert item.page % 2 == 1  # sections open on a recto


def test_the_bytes_do_not_depend_on_the_number_of_processes(builds):
    _, results = builds
    assert "laid out as one document" not in results["jobs1"][1].stderr  # cut as with more processes
    assert laid_out(results["jobs1"][1]) == laid_out(results["jobs2"][1])
    assert results["jobs1"][0].read_bytes() == results["jobs2"][0].read_bytes()
    assert results["jobs3"][0].read_bytes() == results["jobs2"][0].read_bytes()


def test_fonts_are_embedded_subset_and_shared(builds):
    _, results = builds
    parallel, whole = results["jobs2"][0], results["whole"][0]
    assert all(font.embedded and font.subset for font in fonts(parallel).values())
    programs = font_programs(parallel)
    assert all(len(each) == 1 for each in programs.values())  # one program per face
    assert programs == font_programs(whole)  # the very subset a whole-document layout embeds
    assert parallel.stat().st_size < 1.1 * whole.stat().st_size


def test_an_edit_lays_out_only_its_section(builds, tmp_path):
    edition, results = builds
    copy = tmp_path / "edition"
    shutil.copytree(edition, copy)
    out = tmp_path / "out"
    shutil.copytree(results["jobs2"][0].parent, out)  # yesterday's build and its cache
    first = run_cli("build", copy, "-o", out, "-f", "pdf", "--bleed", "3mm", "--marks", "crop", "-v")
    assert first.returncode == 0, first.stderr
    assert laid_out(first)[0] == 0
    assert "all " in first.stderr and "parts from the cache" in first.stderr
    assert (out / results["jobs2"][0].name).read_bytes() == results["jobs2"][0].read_bytes()

    article = copy / "2026-03-02" / "a05.md"  # a section of its own (第3版)
    article.write_text(article.read_text(encoding="utf-8").replace("取得新进展", "取得新的进展", 1), encoding="utf-8")
    again = run_cli("build", copy, "-o", out, "-f", "pdf", "--bleed", "3mm", "--marks", "crop", "-v")
    assert again.returncode == 0, again.stderr
    assert laid_out(again)[0] == 1  # that section; the contents and the rest come from the cache

    fresh = run_cli("build", copy, "-o", tmp_path / "fresh", "-f", "pdf", "--bleed", "3mm", "--marks", "crop",
                    "--no-cache", "-v")
    assert fresh.returncode == 0, fresh.stderr
    assert laid_out(fresh)[0] == laid_out(fresh)[1]
    assert "cache" not in fresh.stderr, fresh.stderr  # nothing came from a cache it did not read
    assert not (tmp_path / "fresh" / ".broadsheet-cache").exists()
    assert (out / results["jobs2"][0].name).read_bytes() == (tmp_path / "fresh" / results["jobs2"][0].name).read_bytes()


def test_a_damaged_cache_is_laid_out_again(builds, tmp_path):
    edition, results = builds
    out = tmp_path / "out"
    shutil.copytree(results["jobs2"][0].parent, out)
    for path in (out / ".broadsheet-cache" / "pdf").glob("*.pdf"):
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    for path in list((out / ".broadsheet-cache" / "pdf").glob("*.json"))[:3]:
        path.write_text("{not json", encoding="utf-8")
    result = run_cli("build", edition, "-o", out, "-f", "pdf", "--bleed", "3mm", "--marks", "crop", "-v")
    assert result.returncode == 0, result.stderr
    assert laid_out(result)[0] > 0
    assert (out / results["jobs2"][0].name).read_bytes() == results["jobs2"][0].read_bytes()


def test_variants_are_laid_out_whole(tmp_path):
    result = run_cli("build", EN_EXAMPLE, "-o", tmp_path, "-f", "pdf", "--pdf-variant", "pdf/ua-1", "-v")
    assert result.returncode == 0, result.stderr
    assert "laid out as one document: pdf/ua-1" in result.stderr


def test_article_xhtml_cache_follows_articles_and_templates(tmp_path, assert_valid_epub):
    """The EPUB's article documents are cached on disk; an edit to an article and to a theme's
    template shows in the next build, and a damaged entry is rendered again."""
    from broadsheet.resources import data_dir

    edition = tmp_path / "harbour"
    shutil.copytree(EN_EXAMPLE, edition)
    theme = tmp_path / "theme"
    theme.mkdir()
    (theme / "theme.toml").write_text('name = "mine"\ninherit = "default"\n', encoding="utf-8")
    article_template = data_dir("templates") / "epub" / "article.xhtml"
    (theme / "epub").mkdir()
    (theme / "epub" / "article.xhtml").write_text(article_template.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"

    def build() -> dict[str, bytes]:
        result = run_cli("build", edition, "-o", out, "-f", "epub", "--theme", theme)
        assert result.returncode == 0, result.stderr
        (epub,) = [p for p in outputs(out) if p.suffix == ".epub"]
        assert_valid_epub(epub)
        return {name: data for name, data in epub_files(epub).items() if name.endswith(".xhtml")}

    first = build()
    cached = sorted((out / ".broadsheet-cache" / "xhtml").iterdir())
    assert len(cached) == 3  # one per article
    assert build() == first

    # One article edited, and the article template of the theme: the edit shows in its
    # document, the template's change in every article's (none is served from the cache).
    story = next(edition.rglob("*ferry*.md"))
    story.write_text(story.read_text(encoding="utf-8").replace("ferry", "ferry boat", 1), encoding="utf-8")
    template = theme / "epub" / "article.xhtml"
    template.write_text(template.read_text(encoding="utf-8").replace('class="article"', 'class="article second"', 1),
                        encoding="utf-8")
    edited = build()
    assert b"ferry boat" in edited["EPUB/text/ferry.xhtml"] and b"ferry boat" not in first["EPUB/text/ferry.xhtml"]
    assert all(b'class="article second"' in edited[f"EPUB/text/{name}.xhtml"]
               for name in ("ferry", "lighthouse", "editorial"))

    for entry in (out / ".broadsheet-cache" / "xhtml").iterdir():
        entry.write_bytes(entry.read_bytes()[:-40] + b"<p>damaged</p>")
    assert build() == edited


def test_a_failed_layout_leaves_no_cache(builds, tmp_path):
    edition, _ = builds
    out = tmp_path / "out"
    result = run_cli("build", edition, "-o", out, "-f", "pdf", "--render-timeout", "0.3")
    assert result.returncode == 1, result.stderr
    assert "PDF layout stopped" in result.stderr
    assert not out.exists() or not list(out.iterdir())  # neither a PDF nor cache entries


def test_a_cache_that_cannot_be_written_is_a_warning(builds, tmp_path, assert_valid_epub):
    edition, _ = builds
    out = tmp_path / "out"
    out.mkdir()
    (out / ".broadsheet-cache").write_text("a file where the cache folder would be", encoding="utf-8")
    result = run_cli("build", edition, "-o", out, "-f", "pdf", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert "not cached" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.suffix for p in outputs(out)) == [".epub", ".pdf"]
    assert_valid_epub(next(out.glob("*.epub")))


def test_faces_that_keep_their_own_programs_in_parts(tmp_path):
    """A colour emoji face and a glyph no face has (each face then keeps its own program, not one shared
    by the parts) laid out in parts: the same text as laid out whole, every face embedded."""
    edition = write_edition(tmp_path)
    (edition / "2026-03-02" / "a99.md").write_text(
        "---\ntitle: \"表情（99）\"\nsection: 第2版\norder: 99\n---\n\n"
        + "派对 🎉 点赞 👍🏽 火 🔥，还有 \U0010fffd 无字可用。\n\n" * 6, encoding="utf-8")
    built = {}
    for name, extra in (("whole", ["--layout", "whole"]), ("parts", ["--jobs", "2"])):
        result = run_cli("build", edition, "-o", tmp_path / name, "-f", "pdf", "--allow-missing-glyphs",
                         "--no-cache", "-v", *extra)
        assert result.returncode == 0, result.stderr
        (built[name],) = [p for p in outputs(tmp_path / name) if p.suffix == ".pdf"]
    assert laid_out(result)[1] >= 5
    texts = page_texts(built["parts"])
    assert texts == page_texts(built["whole"]) and "🎉" in "".join(texts)
    faces = fonts(built["parts"])
    assert any("Emoji" in name for name in faces) and all(font.embedded for font in faces.values()), faces
    assert sorted(name.split("+")[-1] for name in faces) == sorted(name.split("+")[-1] for name in fonts(built["whole"]))
