"""Accessibility and print pages in the EPUB, checked with the rules DAISY Ace applies (re-implemented here)."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from conftest import epub_files, run_cli
from test_cli import write

STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
# Ace's metadata-* rules take their values from these vocabularies (schema.org accessibility properties).
ACCESS_MODES = {"auditory", "chartOnVisual", "chemOnVisual", "colorDependent", "diagramOnTactile", "diagramOnVisual",
                "mathOnVisual", "musicOnVisual", "tactile", "textOnVisual", "textual", "visual"}
FEATURES = {"alternativeText", "annotations", "audioDescription", "bookmarks", "braille", "captions", "ChemML",
            "describedMath", "displayTransformability", "highContrastAudio", "highContrastDisplay", "index",
            "largePrint", "latex", "longDescription", "MathML", "none", "printPageNumbers", "readingOrder",
            "rubyAnnotations", "signLanguage", "structuralNavigation", "synchronizedAudioText", "tableOfContents",
            "taggedPDF", "tactileGraphic", "tactileObject", "timingControl", "transcript", "ttsMarkup",
            "unlocked", "pageBreakMarkers", "pageNavigation"}
HAZARDS = {"flashing", "noFlashingHazard", "motionSimulation", "noMotionSimulationHazard", "sound",
           "noSoundHazard", "unknown", "none"}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    root = tmp_path_factory.mktemp("a11y")
    from PIL import Image

    write(root / "ed/issue.toml", "date = 2024-03-01\nnumber = '77'\n"
          "sections = [{ name = 'Front', page = 'A1' }, { name = 'Sport', page = 'B4' }]\n")
    Image.new("RGB", (300, 200), (10, 90, 160)).save(root / "ed/pic.jpg")
    write(root / "ed/a.md", "---\ntitle: Front story\nsection: Front\n---\n\n![](pic.jpg)\n\nText.\n\n"
          "## Part one\n\nMore.\n")
    write(root / "ed/b.md", "---\ntitle: Second front story\nsection: Front\n---\n\nText.\n")
    write(root / "ed/c.md", "---\ntitle: Match report\nsection: Sport\n---\n\nText.\n")
    out = root / "out"
    result = run_cli("build", root / "ed", "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    return next(out.glob("*.epub"))


def test_epubcheck(edition, assert_valid_epub):
    assert_valid_epub(edition)


def test_accessibility_metadata(edition):
    opf = etree.fromstring(epub_files(edition)["EPUB/content.opf"], STRICT)

    def values(prop):
        return [m.text for m in opf.iterfind(f".//opf:meta[@property='{prop}']", NS)]

    assert set(values("schema:accessMode")) <= ACCESS_MODES and "textual" in values("schema:accessMode")
    for sufficient in values("schema:accessModeSufficient"):
        assert set(sufficient.split(",")) <= ACCESS_MODES
    features = values("schema:accessibilityFeature")
    assert set(features) <= FEATURES
    assert {"printPageNumbers", "tableOfContents", "structuralNavigation"} <= set(features)
    # its one picture has neither alt nor caption: the generated alt text is not claimed as a feature
    assert "alternativeText" not in features
    assert values("schema:accessibilityHazard") and set(values("schema:accessibilityHazard")) <= HAZARDS
    assert len(values("schema:accessibilitySummary")) == 1 and values("schema:accessibilitySummary")[0]
    # epub-pagesource: a page list names the print edition it reflects
    assert opf.findtext(".//dc:source", namespaces=NS)


def test_periodical_metadata(edition):
    opf = etree.fromstring(epub_files(edition)["EPUB/content.opf"], STRICT)
    assert opf.findtext(".//dc:date", namespaces=NS) == "2024-03-01"
    assert "2024-03-01" in opf.findtext(".//dc:title", namespaces=NS)
    collection = opf.find(".//opf:meta[@property='belongs-to-collection']", NS)
    refines = {m.get("property"): m.text for m in opf.iterfind(f".//opf:meta[@refines='#{collection.get('id')}']", NS)}
    assert refines == {"collection-type": "series", "group-position": "77"}


def test_page_list_matches_section_pages_and_markers(edition):
    files = epub_files(edition)
    nav = etree.fromstring(files["EPUB/nav.xhtml"], STRICT)
    page_list = nav.find(".//x:nav[@epub:type='page-list']", NS)
    entries = [(a.text, a.get("href")) for a in page_list.iter("{*}a")]
    assert [label for label, _ in entries] == ["A1", "B4"]
    for label, href in entries:
        name, fragment = href.split("#")
        document = etree.fromstring(files["EPUB/" + name], STRICT)
        (marker,) = document.xpath(f"//*[@id='{fragment}']")
        assert marker.get(EPUB_TYPE) == "pagebreak" and marker.get("aria-label") == label
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert [a.text for a in toc.findall("x:ol/x:li/x:a", NS)] == ["Front · page A1", "Sport · page B4"]


def test_content_rules(edition):
    files = epub_files(edition)
    for name, data in files.items():
        if not name.endswith(".xhtml"):
            continue
        document = etree.fromstring(data, STRICT)
        for img in document.iter("{*}img"):  # every picture has a text alternative
            assert (img.get("alt") or "").strip(), name
        for link in document.iter("{*}a"):  # every link has text
            assert "".join(link.itertext()).strip(), name
        levels = [int(h.tag[-1]) for h in document.iter() if isinstance(h.tag, str) and re.fullmatch(r"\{.*\}h[1-6]", h.tag)]
        for before, after in zip(levels, levels[1:]):  # headings do not skip levels
            assert after <= before + 1, (name, levels)
    article = etree.fromstring(files["EPUB/text/a.xhtml"], STRICT)
    assert article.find(".//x:img", NS).get("alt") == "Picture: Front story"  # generated from the title
    assert article.find(".//x:figure", NS) is not None and article.find(".//x:header", NS) is not None
