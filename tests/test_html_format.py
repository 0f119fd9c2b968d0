"""--format html: the print HTML exactly as WeasyPrint gets it, with its assets, in a folder."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from pypdf import PdfReader

from broadsheet import load
from broadsheet.render import find_theme, render_issue
from broadsheet.typography import typeset_publication
from conftest import EN_EXAMPLE, FIXED_EPOCH, outputs, run_cli


def test_html_folder_is_what_the_pdf_is_laid_out_from(tmp_path, demo_build, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    out = tmp_path / "out"
    result = run_cli("build", EN_EXAMPLE, "--out", out, "-f", "html")
    assert result.returncode == 0, result.stderr
    folder = out / "harbour-gazette-2026-11-20"
    assert result.stdout.split() == [str(folder)]
    (edition,) = load([EN_EXAMPLE])
    publication = typeset_publication(edition.publication)  # as the pipeline sets it before render
    rendered = render_issue(publication, publication.issues[0], find_theme("default"), "pdf")
    assert (folder / "index.html").read_bytes() == rendered.documents[0].content
    for asset in rendered.assets:
        assert (folder / asset.name).read_bytes() == asset.read()
    # laid out by WeasyPrint alone, from the folder, it makes the same pages as broadsheet's PDF
    import weasyprint

    pdf = weasyprint.HTML(filename=str(folder / "index.html")).write_pdf()
    ours = PdfReader(demo_build / "harbour-gazette-2026-11-20.pdf")
    raw = PdfReader(__import__("io").BytesIO(pdf))
    assert len(raw.pages) == len(ours.pages)
    # written again over itself: replaced whole, nothing left beside it
    assert run_cli("build", EN_EXAMPLE, "--out", out, "-f", "html").returncode == 0
    assert [p.name for p in outputs(out)] == ["harbour-gazette-2026-11-20"]


def _replaced_boxes(box):
    """The replaced boxes (pictures) laid out under ``box``."""
    from weasyprint.formatting_structure import boxes

    box = getattr(box, "_box", box)  # an absolutely positioned box is laid out behind a placeholder
    if isinstance(box, boxes.ReplacedBox):
        yield box
    for child in getattr(box, "children", ()):
        yield from _replaced_boxes(child)


def test_a_page_pdf_s_box_shows_the_page_picture_on_screen(tmp_path):
    """Where the PDF draws a section's page PDF, the print HTML's box is not empty in a browser: it shows the
    page picture on screen; laid out for print it stays empty (the page PDF goes there)."""
    import weasyprint
    from PIL import Image

    site = Path(__file__).resolve().parent / "fixtures" / "epaper" / "founder-facsimile"
    out = tmp_path / "out"
    result = run_cli("build", site, "--out", out, "-f", "html")
    assert result.returncode == 0, result.stderr
    (folder,) = outputs(out)
    document = (folder / "index.html").read_text(encoding="utf-8")
    tree = lxml.html.fromstring(document)
    (box,) = tree.xpath("//div[@id='fac-s01']/div[contains(@class, 'facsimile-vector')]")
    (shown,) = box.xpath("img")
    picture = folder / shown.get("src")
    saved = site / "images" / "2024-06" / "03" / "01" / "XCRB2024060301_b.png"
    assert Image.open(picture).size == Image.open(saved).size == (500, 750)
    assert Image.open(picture).tobytes() == Image.open(saved).convert(Image.open(picture).mode).tobytes()

    def pictures_on_first_facsimile_page(media: str) -> list:
        pages = weasyprint.HTML(filename=str(folder / "index.html"), media_type=media).render().pages
        first = next(p for p in pages if any(a[0] == "fac-s01" for a in p.anchors.items()))
        return list(_replaced_boxes(first._page_box))

    on_screen = pictures_on_first_facsimile_page("screen")
    assert len(on_screen) == 1 and on_screen[0].element_tag == "img"
    assert abs(on_screen[0].width - box_width_px(box)) < 1  # the picture fills the page PDF's box
    assert pictures_on_first_facsimile_page("print") == []  # the PDF backend draws the page PDF there


def box_width_px(box) -> float:
    """The CSS width (in CSS pixels) of an element whose style gives it in mm."""
    import re

    (width,) = re.findall(r"width: ([\d.]+)mm", box.get("style"))
    return float(width) * 96 / 25.4
