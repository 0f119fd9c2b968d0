"""Print-ready PDF: page boxes, recto openers, themes, columns across pages, variants, booklets."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from conftest import EN_EXAMPLE, ZH_EXAMPLE, run_cli
from pdfread import body_text, fonts, outline, page_boxes, page_texts, squash, text_lines
from test_cli import write

MM = 72 / 25.4
EN_TITLES = ["Night ferry returns after a decade", "Lighthouse keeper’s cottage opens as a museum",
             "A harbour that works after dark"]


def mm(box):
    return tuple(round(v / MM, 1) for v in box)


@pytest.fixture(scope="module")
def press_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("press")
    result = run_cli("build", EN_EXAMPLE, ZH_EXAMPLE, "--out", out, "-f", "pdf", "--bleed", "3mm", "--marks", "crop",
                     "--impose", "booklet")
    assert result.returncode == 0, result.stderr
    return out


def test_bleed_trim_and_media_boxes(press_build):
    for name in ("harbour-gazette-2026-11-20.pdf", "zzrb-2012-07-06.pdf"):
        for page in page_boxes(press_build / name):
            trim, bleed, media = mm(page["/TrimBox"]), mm(page["/BleedBox"]), mm(page["/MediaBox"])
            assert (trim[2] - trim[0], trim[3] - trim[1]) == (210.0, 297.0)
            assert bleed == (trim[0] - 3, trim[1] - 3, trim[2] + 3, trim[3] + 3)
            assert media[0] <= bleed[0] and media[1] <= bleed[1] and media[2] >= bleed[2] and media[3] >= bleed[3]
            assert media[0] < bleed[0]  # room for the crop marks outside the bleed


def test_press_pdf_fonts_and_text(press_build):
    pdf = press_build / "harbour-gazette-2026-11-20.pdf"
    assert all(f.embedded and f.subset for f in fonts(pdf).values())
    text = squash(body_text(page_texts(pdf), "The Harbour Gazette"))
    for title in EN_TITLES:
        assert squash(title) in text
    for paragraph in ("The boats will recharge at both ends of the route.", "Visitors can climb the tower"):
        assert squash(paragraph) in text


def test_sections_open_on_odd_pages_and_toc_matches_folios(press_build):
    pdf = press_build / "harbour-gazette-2026-11-20.pdf"
    texts = page_texts(pdf)
    tree = outline(pdf)
    assert [b.page % 2 for b in tree] == [1, 1], [b.page for b in tree]
    toc_page = next(i for i, t in enumerate(texts) if "Contents" in t)
    for section in tree:
        for article in section.children:
            line = next(l for l in texts[toc_page].splitlines() if article.title[:20] in l)
            printed = int(re.search(r"(\d+)\s*$", line).group(1))
            folio = int(texts[printed - 1].strip().split()[-1])
            assert printed == folio == article.page
            assert squash(article.title) in squash(texts[printed - 1])


def test_blank_verso_before_a_recto_opener_is_blank(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: First\nsection: One\n---\nShort.\n")
    write(tmp_path / "ed/b.md", "---\ntitle: Second\nsection: Two\n---\nShort too.\n")
    assert run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "-f", "pdf").returncode == 0
    pdf = next((tmp_path / "out").glob("*.pdf"))
    texts = page_texts(pdf)
    assert [b.page for b in outline(pdf)] == [3, 5]
    assert texts[3].strip() == ""  # page 4: no running head, no folio


def halves(pdf, page_number):
    """Return the text of the left and right half of a booklet sheet side."""
    reader = PdfReader(pdf)
    width = float(reader.pages[page_number - 1].mediabox.width)
    height = float(reader.pages[page_number - 1].mediabox.height)
    out = []
    for x in (0, width / 2):
        out.append(subprocess.run(
            ["pdftotext", "-f", str(page_number), "-l", str(page_number), "-x", str(int(x * 150 / 72)), "-y", "0",
             "-W", str(int(width / 2 * 150 / 72)), "-H", str(int(height * 150 / 72)), "-r", "150", str(pdf), "-"],
            capture_output=True, text=True, check=True).stdout)
    return out


@pytest.mark.parametrize("count,expected", [
    (8, [(8, 1), (2, 7), (6, 3), (4, 5)]),
    (12, [(12, 1), (2, 11), (10, 3), (4, 9), (8, 5), (6, 7)]),
])
def test_booklet_sheet_order(tmp_path, count, expected):
    import weasyprint

    from broadsheet.backends.pdf.impose import impose_booklet

    html = "".join(f'<section style="break-after: page">PAGE{n:02d}</section>' for n in range(1, count + 1))
    pdf = weasyprint.HTML(string=f"<style>@page {{ size: A5 }}</style>{html}").write_pdf()
    booklet = tmp_path / "booklet.pdf"
    booklet.write_bytes(impose_booklet(pdf))
    reader = PdfReader(booklet)
    assert len(reader.pages) == count // 2 and (len(reader.pages) * 2) % 4 == 0
    for side, (left, right) in enumerate(expected, start=1):
        got = [re.findall(r"PAGE(\d+)", half) for half in halves(booklet, side)]
        assert got == [[f"{left:02d}"], [f"{right:02d}"]], (side, got)


def test_booklet_of_an_edition_pads_to_a_multiple_of_four(press_build):
    pdf = press_build / "harbour-gazette-2026-11-20.pdf"
    booklet = press_build / "harbour-gazette-2026-11-20-booklet.pdf"
    pages = len(PdfReader(pdf).pages)
    sides = len(PdfReader(booklet).pages)
    assert (sides * 2) % 4 == 0 and sides * 2 >= pages > sides * 2 - 4
    first = PdfReader(booklet).pages[0]
    assert mm(tuple(first.mediabox)) == (0.0, 0.0, 420.0, 297.0)


def test_pdf_a_and_pdf_x_variants(tmp_path):
    for variant in ("pdf/a-3b", "pdf/x-4", "pdf/ua-1"):
        out = tmp_path / variant.replace("/", "-")
        result = run_cli("build", EN_EXAMPLE, "--out", out, "-f", "pdf", "--pdf-variant", variant)
        assert result.returncode == 0, result.stderr
        data = next(out.glob("*.pdf")).read_bytes()
        reader = PdfReader(io.BytesIO(data))
        root = reader.trailer["/Root"]
        xmp = root["/Metadata"].get_object().get_data().decode("utf-8", "replace")
        if variant == "pdf/ua-1":
            assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
            assert root["/Lang"] == "en-GB" and bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
        elif variant == "pdf/a-3b":
            assert re.search(r"pdfaid:part(>|=\")3", xmp) and re.search(r"pdfaid:conformance(>|=\")B", xmp)
        else:
            intents = [i.get_object() for i in root["/OutputIntents"]]
            assert any(i["/S"] == "/GTS_PDFX" for i in intents)
            assert "pdfx" in xmp.lower()


def test_metadata_dates_follow_source_date_epoch(tmp_path):
    result = run_cli("build", EN_EXAMPLE, "--out", tmp_path, "-f", "pdf", env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.returncode == 0
    info = PdfReader(next(tmp_path.glob("*.pdf"))).metadata
    assert info["/CreationDate"].startswith("D:20260101") and info["/ModDate"].startswith("D:20260101")
    assert info.title == "The Harbour Gazette 2026-11-20" and info.author == "Harbour Gazette Media"
    assert info.subject and "transport" in info["/Keywords"]


LONG = "\n\n".join(
    f"PARA{n:03d} " + " ".join(["The harbour board met again to weigh the timetable, the cost of the boats and "
                                "the charging points on both quays."] * 3)
    for n in range(1, 61)
)


def test_newspaper_columns_lose_no_paragraph_across_page_breaks(tmp_path):
    write(tmp_path / "ed/long.md", f"---\ntitle: A long report\nsection: News\n---\n\n{LONG}\n")
    write(tmp_path / "ed/short.md", "---\ntitle: A short one\nsection: News\n---\n\nBrief.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--theme", "newspaper")
    assert result.returncode == 0, result.stderr
    pdf = next(out.glob("*.pdf"))
    texts = page_texts(pdf)
    in_reading_order = "".join(page.extract_text() or "" for page in PdfReader(pdf).pages)
    found = re.findall(r"PARA(\d{3})", in_reading_order)
    assert found == [f"{n:03d}" for n in range(1, 61)]  # each once, in order
    pages_with_text = [i for i, t in enumerate(texts) if "PARA" in t]
    assert len(pages_with_text) >= 3  # the article crossed at least two page breaks
    # and it is set in columns: text lines start at two different x positions on a full page
    starts = {round(l.x_min) for l in text_lines(pdf, pages_with_text[1] + 1) if "harbour" in l.text}
    assert len(starts) >= 2


def test_page_size_presets_and_theme_default(tmp_path):
    result = run_cli("build", EN_EXAMPLE, "--out", tmp_path / "t", "-f", "pdf", "--page-size", "tabloid",
                     "--theme", "newspaper")
    assert result.returncode == 0, result.stderr
    trim = mm(page_boxes(next((tmp_path / "t").glob("*.pdf")))[0]["/MediaBox"])
    assert (trim[2] - trim[0], trim[3] - trim[1]) == (280.0, 430.0)
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "d", "-f", "pdf", "--theme", "digest")
    assert result.returncode == 0, result.stderr
    trim = mm(page_boxes(next((tmp_path / "d").glob("*.pdf")))[0]["/MediaBox"])
    assert (trim[2] - trim[0], trim[3] - trim[1]) == (148.0, 210.0)


@pytest.mark.parametrize("size", ["0mmx0mm", "20mmx20mm", "300mmx30mm", "1inx8in"])
def test_a_page_too_small_for_text_is_refused(size):
    from broadsheet.paper import PageSize

    with pytest.raises(ValueError, match=r"(too small|above zero).*got '" + size):
        PageSize.parse(size)


def test_a_small_custom_page_takes_smaller_margins_and_presets_keep_theirs():
    from broadsheet.paper import PAGE_MARGINS, PAGE_SIZES, PageSize

    for name in PAGE_SIZES:
        assert PageSize.parse(name).margins == PAGE_MARGINS.get(name, PAGE_MARGINS["A4"])
    assert PageSize.parse("210mmx297mm").margins == PageSize.parse("300mmx400mm").margins == PAGE_MARGINS["A4"]
    assert PageSize.parse("100mmx150mm").margins == ("9.5mm", "8.1mm", "10.5mm", "9.0mm")  # A4's × 100/210


def test_an_impossible_page_size_names_where_it_came_from(tmp_path):
    result = run_cli("build", EN_EXAMPLE, "--out", tmp_path / "cli", "-f", "pdf", "--page-size", "20mmx20mm")
    assert result.returncode == 2 and "Invalid value for '--page-size': a page of 20×20 mm is too small" \
        in result.stderr, result.stderr
    source = tmp_path / "ed"
    shutil.copytree(EN_EXAMPLE, source)
    config = source / "broadsheet.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('page_size = "A4"', 'page_size = "0mmx0mm"'),
                      encoding="utf-8")
    result = run_cli("build", source, "--out", tmp_path / "toml", "-f", "pdf")
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"broadsheet: error: {config}: pdf.page_size: a page needs a width and a height above zero, got '0mmx0mm'"]
    write(tmp_path / "theme" / "theme.toml", 'inherit = "default"\npage_size = "20mmx20mm"\n')
    write(tmp_path / "plain" / "a.md", "---\ntitle: A\n---\nText.\n")
    result = run_cli("build", tmp_path / "plain", "--out", tmp_path / "theme-out", "-f", "pdf",
                     "--theme", tmp_path / "theme")
    assert result.returncode == 1 and f"{tmp_path / 'theme' / 'theme.toml'}: page_size: a page of 20×20 mm" \
        in result.stderr, result.stderr
    assert not any((tmp_path / name).exists() for name in ("cli", "toml", "theme-out"))


def test_a_small_custom_page_holds_the_text(tmp_path):
    result = run_cli("build", ZH_EXAMPLE, "--out", tmp_path, "-f", "pdf", "--page-size", "100mmx150mm")
    assert result.returncode == 0, result.stderr
    pdf = next(tmp_path.glob("*.pdf"))
    trim = mm(page_boxes(pdf)[0]["/MediaBox"])
    assert (trim[2] - trim[0], trim[3] - trim[1]) == (100.0, 150.0)
    assert len(PdfReader(pdf).pages) < 20
    assert "以创新精神加强农村基层党组织建设" in squash("".join(page_texts(pdf)))


def test_low_resolution_picture_warns_and_grayscale(tmp_path):
    from PIL import Image

    Image.new("RGB", (120, 80), (200, 30, 30)).save(tmp_path / "small.jpg")
    write(tmp_path / "ed/a.md", "---\ntitle: Picture\n---\n\n![A red block](../small.jpg)\n\nText.\n")
    (tmp_path / "ed/small.jpg").write_bytes((tmp_path / "small.jpg").read_bytes())
    write(tmp_path / "ed/a.md", "---\ntitle: Picture\n---\n\n![A red block](small.jpg)\n\nText.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--grayscale")
    assert result.returncode == 0, result.stderr
    assert "small.jpg" in result.stderr and "dpi" in result.stderr
    reader = PdfReader(next(out.glob("*.pdf")))
    spaces = []
    for page in reader.pages:
        for image in page.images:
            spaces.append(image.image.mode)
    assert spaces and all(mode in ("L", "LA") for mode in spaces), spaces


KINSOKU = "“" + "，".join(["《新闻》说：“好。”"] * 6 + ["（一）“是”"] * 6) + "。"


def test_cjk_lines_never_start_with_closing_or_end_with_opening_punctuation(tmp_path):
    body = "\n\n".join(KINSOKU * (n % 3 + 1) + "结尾。" for n in range(12))
    write(tmp_path / "ed/a.md", f"---\ntitle: 标点\nlang: zh-CN\n---\n\n{body}\n")
    out = tmp_path / "out"
    assert run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf").returncode == 0
    pdf = next(out.glob("*.pdf"))
    lines = [l.text for n in range(1, len(PdfReader(pdf).pages) + 1) for l in text_lines(pdf, n)]
    assert len(lines) > 20
    bad = [l for l in lines if l and (l[0] in "，。、；：？！”’）》」』】" or l[-1] in "“‘（《「『【")]
    assert not bad, bad


pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def test_latin_text_is_hyphenated_by_language(demo_build):
    source = " ".join(p.read_text(encoding="utf-8") for p in (EN_EXAMPLE / "2026-11-20").glob("*.md"))
    words = set(re.findall(r"[A-Za-z]+", source))
    lines = [l.strip() for t in page_texts(demo_build / "harbour-gazette-2026-11-20.pdf") for l in t.splitlines()]
    hyphenated = []
    for line, following in zip(lines, lines[1:]):
        match = re.search(r"([A-Za-z]+)[-\u2010\u00ad]$", line)
        if match and following:
            joined = match.group(1) + re.match(r"[A-Za-z]*", following.split()[0]).group(0)
            if joined in words and f"{match.group(1)}-" not in source:
                hyphenated.append(joined)
    assert hyphenated, "no word was hyphenated at a line end"
