"""The bundled example editions, built through the CLI, read back out of EPUB and PDF."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from conftest import EN_EXAMPLE, SEED, ZH_EXAMPLE, epub_files, outputs, run_cli
from pdfread import body_text, fonts, outline, page_texts, squash

NAVIGATION_TEXT = ["返回主页", "版面导航", "上一期", "下一期", "上一篇", "下一篇", "上一版", "下一版", "版权声明"]
ZH_TITLE = "以创新精神加强农村基层党组织建设"
EN_TITLES = ["Night ferry returns after a decade", "Lighthouse keeper’s cottage opens as a museum",
             "A harbour that works after dark"]
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}

ZH_EPUB, ZH_PDF = "zzrb-2012-07-06.epub", "zzrb-2012-07-06.pdf"
EN_EPUB, EN_PDF = "harbour-gazette-2026-11-20.epub", "harbour-gazette-2026-11-20.pdf"


def test_build_writes_both_formats_for_both_examples(demo_build):
    names = sorted(p.name for p in outputs(demo_build))
    assert names == sorted([ZH_EPUB, ZH_PDF, EN_EPUB, EN_PDF])


@pytest.mark.parametrize("name", [ZH_EPUB, EN_EPUB])
def test_epubcheck_reports_nothing(demo_build, assert_valid_epub, name):
    assert_valid_epub(demo_build / name)


@pytest.mark.parametrize("name,lang", [(ZH_EPUB, "zh-CN"), (EN_EPUB, "en-GB")])
def test_epub_package(demo_build, name, lang):
    files = epub_files(demo_build / name)
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    identifier_id = opf.get("unique-identifier")
    identifier = opf.find(f".//dc:identifier[@id='{identifier_id}']", NS).text
    assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", identifier)
    assert opf.findtext(".//dc:language", namespaces=NS) == lang
    modified = opf.findtext(".//opf:meta[@property='dcterms:modified']", namespaces=NS)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", modified)
    title = opf.findtext(".//dc:title", namespaces=NS)
    date = opf.findtext(".//dc:date", namespaces=NS)
    assert date in title
    assert opf.find(".//opf:meta[@property='belongs-to-collection']", NS) is not None
    assert opf.find(".//opf:meta[@property='collection-type']", NS).text == "series"
    manifest = {item.get("href"): item for item in opf.find("opf:manifest", NS)}
    assert [h for h, i in manifest.items() if "nav" in (i.get("properties") or "").split()] == ["nav.xhtml"]
    assert [h for h, i in manifest.items() if i.get("properties") == "cover-image"] == ["images/cover.jpg"]
    assert "toc.ncx" in manifest
    # manifest ⇔ zip, and nothing scripted or remote
    in_zip = {n[len("EPUB/"):] for n in files if n.startswith("EPUB/") and n != "EPUB/content.opf"}
    assert in_zip == set(manifest)
    for item in manifest.values():
        assert not {"scripted", "remote-resources"} & set((item.get("properties") or "").split())
    # every content document is strict XML with lang and xml:lang
    for href, item in manifest.items():
        if item.get("media-type") == "application/xhtml+xml":
            root = etree.fromstring(files["EPUB/" + href], STRICT)
            assert root.get("lang") and root.get("{http://www.w3.org/XML/1998/namespace}lang") == root.get("lang")
            assert root.findtext(".//x:title", namespaces=NS)


def test_epub_zip_layout(demo_build):
    import zipfile

    with zipfile.ZipFile(demo_build / ZH_EPUB) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "mimetype"
    assert infos[0].compress_type == zipfile.ZIP_STORED and infos[0].extra == b""
    assert all(i.date_time == infos[0].date_time for i in infos)
    assert all(re.fullmatch(r"[A-Za-z0-9._/-]+", i.filename) for i in infos)


def test_epub_nav_nests_sections_and_articles(demo_build):
    files = epub_files(demo_build / EN_EPUB)
    nav = etree.fromstring(files["EPUB/nav.xhtml"], STRICT)
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    sections = toc.findall("x:ol/x:li", NS)
    assert [s.findtext("x:a", namespaces=NS) for s in sections] == ["News · page A1", "Opinion · page A6"]
    assert [a.text for a in sections[0].findall("x:ol/x:li/x:a", NS)] == EN_TITLES[:2]
    assert [a.text for a in sections[1].findall("x:ol/x:li/x:a", NS)] == EN_TITLES[2:]
    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    kinds = [a.get("{http://www.idpf.org/2007/ops}type") for a in landmarks.iter("{*}a")]
    assert kinds == ["cover", "toc", "bodymatter"]
    # nav order equals spine order
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    ids = {i.get("id"): i.get("href") for i in opf.find("opf:manifest", NS)}
    spine = [ids[ref.get("idref")] for ref in opf.find("opf:spine", NS)]
    nav_order = [a.get("href") for a in toc.iter("{*}a")]
    assert [h for h in spine if h in nav_order] == nav_order


def test_epub_cover_image_is_a_real_jpeg(demo_build):
    import io

    from PIL import Image

    files = epub_files(demo_build / ZH_EPUB)
    with Image.open(io.BytesIO(files["EPUB/images/cover.jpg"])) as cover:
        assert cover.format == "JPEG" and cover.size == (1600, 2560)
        # the masthead is drawn in dark ink on the light paper: not a blank page
        assert cover.convert("L").getextrema()[0] < 60


def test_english_epub_carries_the_picture(demo_build):
    files = epub_files(demo_build / EN_EPUB)
    article = etree.fromstring(files["EPUB/text/ferry.xhtml"], STRICT)
    figure = article.find(".//x:figure", NS)
    img = figure.find("x:img", NS)
    assert img.get("alt") == "The old ferry terminal at dusk, before its refit"
    assert files["EPUB/" + img.get("src").replace("../", "")][:3] == b"\xff\xd8\xff"
    assert figure.findtext("x:figcaption", namespaces=NS) == "The old ferry terminal at dusk, before its refit"


@pytest.mark.parametrize("name", [ZH_PDF, EN_PDF])
def test_pdf_fonts_are_embedded_and_subset(demo_build, name):
    found = fonts(demo_build / name)
    assert found
    for font in found.values():
        assert font.embedded, font.name
        assert font.subset, font.name


def test_chinese_pdf_uses_cjk_fonts(demo_build):
    assert any("CJK" in name for name in fonts(demo_build / ZH_PDF))


@pytest.mark.parametrize("name,titles", [(ZH_PDF, [ZH_TITLE]), (EN_PDF, EN_TITLES)])
def test_pdf_toc_page_numbers_are_true(demo_build, name, titles):
    pdf = demo_build / name
    texts = page_texts(pdf)
    toc_page = next(i for i, t in enumerate(texts) if "目录" in t or "Contents" in t)
    bookmarks = {b.title: b.page for section in outline(pdf) for b in section.children}
    for title in titles:
        line = next(l for l in texts[toc_page].splitlines() if squash(title[:12]) in squash(l))
        printed = int(re.search(r"(\d+)\s*$", line).group(1))
        stands_on = next(i + 1 for i, t in enumerate(texts) if i > toc_page and squash(title) in squash(t))
        assert printed == stands_on == bookmarks[title], (title, printed, stands_on)
        # the folio printed on that page is the same number
        assert re.search(rf"(^|\s){printed}\s*$", texts[stands_on - 1].strip()), texts[stands_on - 1][-200:]


def test_pdf_bookmarks_nest_sections_and_articles(demo_build):
    tree = outline(demo_build / EN_PDF)
    assert [b.title for b in tree] == ["News · page A1", "Opinion · page A6"]
    assert [b.title for b in tree[0].children] == EN_TITLES[:2]
    assert [b.title for b in tree[1].children] == EN_TITLES[2:]
    zh = outline(demo_build / ZH_PDF)
    assert [(b.title, [c.title for c in b.children]) for b in zh] == [("第15版 理论", [ZH_TITLE])]


def test_pdf_metadata(demo_build):
    from pypdf import PdfReader

    info = PdfReader(demo_build / ZH_PDF).metadata
    assert info.title == "郑州日报 2012-07-06"
    assert info.author == "郑州日报社"
    assert "理论" in info["/Keywords"]
    assert info["/CreationDate"].startswith("D:20231114")  # SOURCE_DATE_EPOCH=1700000000


def test_chinese_text_is_complete_and_clean(demo_build):
    seed = SEED.read_text(encoding="utf-8")
    paragraphs = [l.strip() for l in seed.splitlines() if len(l.strip()) > 60]
    assert len(paragraphs) == 7
    pdf_text = squash(body_text(page_texts(demo_build / ZH_PDF), "郑州日报"))
    files = epub_files(demo_build / ZH_EPUB)
    epub_text = squash("".join(
        etree.fromstring(data, STRICT).xpath("string()") for name, data in files.items() if name.endswith(".xhtml")
    ))
    # as typography.py sets them: the seed's ASCII , : ; between Chinese characters full-width
    full_width = str.maketrans({",": "，", ":": "：", ";": "；"})
    for text in (pdf_text, epub_text):
        for paragraph in paragraphs:
            assert squash(paragraph).translate(full_width) in text
        assert "作者为巩义市小关镇党委书记" in text
        for word in NAVIGATION_TEXT:
            assert word not in text, word


def test_chinese_paragraphs_have_two_em_indent_and_justification(demo_build):
    files = epub_files(demo_build / ZH_EPUB)
    css = files["EPUB/styles/style.css"].decode()
    rule = re.search(r":lang\(zh\) \.article-body p,[^{]*\{([^}]*)\}", css).group(1)
    assert "text-indent: 2em" in rule and "text-align: justify" in rule


def test_inspect_json_contract():
    result = run_cli("inspect", ZH_EXAMPLE, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["publication"] == {"title": "郑州日报", "language": "zh-CN", "id": "zzrb", "publisher": "郑州日报社"}
    (issue,) = data["issues"]
    assert issue["date"] == "2012-07-06" and issue["number"] is None
    (section,) = issue["sections"]
    assert (section["name"], section["page"]) == ("理论", "15")
    (article,) = section["articles"]
    assert article["title"] == ZH_TITLE
    assert article["author_note"] == "作者为巩义市小关镇党委书记"
    assert article["authors"] == [] and article["byline"] is None
    assert not any(word in result.stdout for word in NAVIGATION_TEXT)
    assert article["subtitle"] is None and article["kicker"] is None
    paragraphs = article["text"].split("\n\n")
    assert len(paragraphs) == 7
    assert paragraphs[0].startswith("农村基层党组织是我党开展农村工作")
    assert article["images"] == []


def test_inspect_json_english_example():
    data = json.loads(run_cli("inspect", EN_EXAMPLE, "--json").stdout)
    sections = data["issues"][0]["sections"]
    assert [(s["name"], s["page"]) for s in sections] == [("News", "A1"), ("Opinion", "A6")]
    ferry = sections[0]["articles"][0]
    assert ferry["kicker"] == "Transport" and ferry["authors"] == ["Mara Quinlan"]
    assert ferry["images"] == [{"src": "terminal.jpg", "caption": "The old ferry terminal at dusk, before its refit",
                                "alt": "The old ferry terminal at dusk, before its refit"}]
    assert "Charging on the quay" in ferry["text"]
    assert sum(len(s["articles"]) for s in sections) == 3
