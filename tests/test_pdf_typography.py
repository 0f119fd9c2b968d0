"""CJK typography measured on the PDF: 2em first-line indent and justified lines."""

from __future__ import annotations

import shutil

import pytest

from pdfread import text_lines

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")

FONT_SIZE = 10.5  # print.css html { font-size }


def body_lines(pdf, page):
    lines = text_lines(pdf, page)
    left = min(l.x_min for l in lines)
    return [l for l in lines if len(l.text) > 3 and l.y_min > 80], left


def test_chinese_paragraphs_indent_two_em_and_justify(demo_build):
    pdf = demo_build / "zzrb-2012-07-06.pdf"
    lines, left = body_lines(pdf, 3)
    first = next(l for l in lines if l.text.startswith("农村基层党组织是"))
    assert first.x_min - left == pytest.approx(2 * FONT_SIZE, abs=0.5)
    following = lines[lines.index(first) + 1]
    assert following.x_min == pytest.approx(left, abs=0.5)
    # every full line of the article body ends at the same right edge (within half a point),
    # not ragged as WeasyPrint leaves space-less text
    # a paragraph's last line (the next line is indented, or there is none) is not justified
    full = [l for l, after in zip(lines, lines[1:]) if after.x_min - left < 1]
    assert len(full) > 20
    right = max(l.x_max for l in full)
    ragged = [l for l in full if right - l.x_max > 0.8]
    assert not ragged, [(round(right - l.x_max, 2), l.text[:10]) for l in ragged]


def test_english_paragraphs_are_justified_too(demo_build):
    pdf = demo_build / "harbour-gazette-2026-11-20.pdf"
    lines, _ = body_lines(pdf, 3)
    full = [l for l in lines if len(l.text) > 80]
    assert len(full) >= 4
    right = max(l.x_max for l in full)
    assert all(right - l.x_max < 1.0 for l in full), [(right - l.x_max, l.text[:20]) for l in full]


def test_contents_leaders_are_one_run_of_text_each(demo_build):
    """A contents entry's dots are one text box (``leaders``), not one box per dot: the page shows
    a few runs of text per entry, and its lines still read title, dots, page number."""
    import re

    import pikepdf

    pdf = demo_build / "harbour-gazette-2026-11-20.pdf"
    with pikepdf.open(pdf) as document:
        operators = [str(op) for _, op in pikepdf.parse_content_stream(document.pages[1])]
    entries = 5  # two sections, three articles
    assert sum(op in ("Tj", "TJ") for op in operators) <= 4 * entries
    lines = [l.text for l in text_lines(pdf, 2) if "....." in l.text]  # the words of a line, joined
    assert len(lines) == entries
    assert all(re.search(r"\.{10,}\d+$", line) for line in lines), lines
