"""--format html: the print HTML exactly as WeasyPrint gets it, with its assets, in a folder."""

from __future__ import annotations

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
