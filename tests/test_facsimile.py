"""Page facsimiles (版面图): a saved Founder site's page pictures and image maps, kept by the ingester and
made into EPUB page views and PDF facsimile pages whose regions link the articles.

The fixture tests/fixtures/epaper/founder-facsimile (made by scripts/facsimile-fixture) has two pages:
page 01 a polygon and a rectangle, and a rectangle linking an article that was not saved; page 02 a
rectangle, a polygon and a circle; page 01 links its page PDF.
"""

from __future__ import annotations

import posixpath
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import epub_files, inspect_cli, run_cli

SITE = Path(__file__).resolve().parent / "fixtures" / "epaper" / "founder-facsimile"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"x": "http://www.w3.org/1999/xhtml", "svg": "http://www.w3.org/2000/svg",
      "opf": "http://www.idpf.org/2007/opf"}
XLINK = "{http://www.w3.org/1999/xlink}href"
#: each page's regions as the map gives them (the area linking content_7999 dropped): shape and article
REGIONS = {
    "01": [("polygon", "content-7001"), ("rect", "content-7002")],
    "02": [("rect", "content-7003"), ("polygon", "content-7004"), ("circle", "content-7003")],
}
TITLES = {"content-7001": "新港大桥今日通车", "content-7002": "夏粮收购全面展开", "content-7003": "小店经济添活力",
          "content-7004": "绿色工厂名单公布"}


def build(out: Path, *options: str, source: Path = SITE, formats: tuple[str, ...] = ("epub",)) -> Path:
    args = [a for f in formats for a in ("-f", f)]
    result = run_cli("build", source, *args, "--out", out, *options)
    assert result.returncode == 0, result.stderr
    return out


def only_file(folder: Path, suffix: str) -> Path:
    (found,) = [p for p in folder.iterdir() if p.suffix == suffix]
    return found


@pytest.fixture(scope="module")
def pages_epub(tmp_path_factory) -> Path:
    return only_file(build(tmp_path_factory.mktemp("pages")), ".epub")


def package(files: dict[str, bytes]) -> tuple[etree._Element, str]:
    container = etree.fromstring(files["META-INF/container.xml"], STRICT)
    opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
    return etree.fromstring(files[opf_path], STRICT), posixpath.dirname(opf_path)


def page_views(files: dict[str, bytes]) -> dict[str, tuple[str, etree._Element]]:
    """page label → (the page view's path in the zip, its parsed document)."""
    views = {}
    for name, data in files.items():
        if name.endswith("-page.xhtml"):
            doc = etree.fromstring(data, STRICT)
            title = doc.xpath("string(//x:h1)", namespaces=NS)
            label = title.split("版")[0].removeprefix("第")
            views[label] = (name, doc)
    return views


def article_of(files: dict[str, bytes], base: str, href: str) -> str:
    """The id of the article element of the document ``href`` (relative to ``base``) names."""
    target = posixpath.normpath(posixpath.join(posixpath.dirname(base), href.split("#")[0]))
    doc = etree.fromstring(files[target], STRICT)
    (article,) = doc.xpath("//x:article/@id", namespaces=NS)
    return article


def test_inspect_keeps_each_page_picture_map_and_pdf():
    data, result = inspect_cli(SITE, "-v")
    sections = data["issues"][0]["sections"]
    assert [s["page"] for s in sections] == ["01", "02"]
    for section in sections:
        facsimile = section["facsimile"]
        assert facsimile["picture"]["width"] == 500 and facsimile["picture"]["height"] == 750
        assert [(r["shape"], r["article"]) for r in facsimile["regions"]] == REGIONS[section["page"]]
    first = sections[0]["facsimile"]
    assert first["regions"][0]["coords"] == [490, 10, 10, 10, 10, 300, 250, 300, 250, 420, 490, 420]
    assert first["regions"][1]["coords"] == [10, 310, 240, 600]
    assert first["pdf"] == "XCRB2024060301.pdf" and sections[1]["facsimile"]["pdf"] is None
    # the area linking an article that was not saved is dropped, with a note under -v
    assert "content_7999.htm" in result.stderr and "dropped" in result.stderr
    quiet, plain = inspect_cli(SITE)
    assert "content_7999" not in plain.stderr


def test_other_sources_show_no_facsimile_key():
    data, _ = inspect_cli(SITE.parent / "founder")
    assert all("facsimile" not in s for s in data["issues"][0]["sections"])


def test_epub_page_views_link_every_region_to_its_article(pages_epub, assert_valid_epub):
    assert_valid_epub(pages_epub)
    files = epub_files(pages_epub)
    opf, root = package(files)
    views = page_views(files)
    assert sorted(views) == ["01", "02"]
    manifest = {posixpath.join(root, i.get("href")): i for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    spine = [i.get("idref") for i in opf.xpath("//opf:spine/opf:itemref", namespaces=NS)]
    for label, (name, doc) in views.items():
        assert "svg" in manifest[name].get("properties", "").split()
        (svg,) = doc.xpath("//svg:svg", namespaces=NS)
        (image,) = svg.xpath("svg:image", namespaces=NS)
        picture = posixpath.normpath(posixpath.join(posixpath.dirname(name), image.get(XLINK)))
        assert picture in files and manifest[picture].get("media-type").startswith("image/")
        assert svg.get("viewBox") == "0 0 500 750"
        links = svg.xpath("svg:a", namespaces=NS)
        shapes = [(a[-1].tag.split("}")[1], article_of(files, name, a.get(XLINK))) for a in links]
        assert shapes == REGIONS[label]
        for link in links:  # each region's name is its article's title
            assert link.xpath("string(svg:title)", namespaces=NS) == TITLES[article_of(files, name, link.get(XLINK))]
        # the text alternative names the page and its articles; the text list links them too
        alt = svg.xpath("string(svg:title)", namespaces=NS)
        assert f"第{label}版" in alt
        listed = doc.xpath("//x:nav//x:a", namespaces=NS)
        assert [a.text for a in listed] == [TITLES[article_of(files, name, a.get("href"))] for a in listed]
        assert all(a.text in alt for a in listed)
        # the page view comes before its section's articles in the reading order
        view_id = manifest[name].get("id")
        first_article = manifest[posixpath.normpath(posixpath.join(posixpath.dirname(name),
                                                                   listed[0].get("href")))].get("id")
        assert spine.index(view_id) < spine.index(first_article)
    # each article links back to its page view
    for article, title in TITLES.items():
        doc = etree.fromstring(files[posixpath.join(root, "text", f"{article}.xhtml")], STRICT)
        (back,) = doc.xpath("//x:p[@class='facsimile-link']/x:a", namespaces=NS)
        page = "01" if article in ("content-7001", "content-7002") else "02"
        assert back.text == f"见第{page}版版面"
        assert posixpath.normpath(posixpath.join(root, "text", back.get("href"))) == views[page][0]


def test_epub_accessibility_metadata_with_facsimiles(pages_epub):
    opf, _ = package(epub_files(pages_epub))
    values = [(m.get("property"), m.text) for m in opf.xpath("//opf:metadata/opf:meta[@property]", namespaces=NS)]
    assert ("schema:accessMode", "visual") in values
    assert ("schema:accessModeSufficient", "textual") in values  # every region's article has its text


def test_only_makes_page_views_the_reading_order(tmp_path, assert_valid_epub):
    book = only_file(build(tmp_path, "--facsimile", "only"), ".epub")
    assert_valid_epub(book)
    files = epub_files(book)
    opf, root = package(files)
    items = {i.get("id"): i.get("href") for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    linear = [items[i.get("idref")] for i in opf.xpath("//opf:spine/opf:itemref", namespaces=NS)
              if i.get("linear") != "no"]
    assert linear == ["cover.xhtml", "nav.xhtml", "text/s01-page.xhtml", "text/s02-page.xhtml"]
    # the articles are still in the book, out of the reading order, so every region still links one
    for label, (name, doc) in page_views(files).items():
        links = doc.xpath("//svg:a", namespaces=NS)
        assert [article_of(files, name, a.get(XLINK)) for a in links] == [a for _, a in REGIONS[label]]
    # no section index pages: the page view stands for its section; the page list points at it
    assert not any(name.endswith(("s01.xhtml", "s02.xhtml")) for name in files)
    nav = files[posixpath.join(root, "nav.xhtml")].decode()
    assert 'href="text/s01-page.xhtml#page-01"' in nav


def test_off_is_the_edition_of_a_source_without_facsimiles(tmp_path):
    """--facsimile off gives the bytes of the same site whose pages show no image map."""
    plain = tmp_path / "plain"
    shutil.copytree(SITE, plain)
    for page in (plain / "html").rglob("node_*.htm"):
        page.write_text(page.read_text(encoding="utf-8").replace(" USEMAP=#PagePicMap", ""), encoding="utf-8")
    data, _ = inspect_cli(plain)
    assert all("facsimile" not in s for s in data["issues"][0]["sections"])
    off = build(tmp_path / "off", "--facsimile", "off", "--no-cache", formats=("epub", "pdf"))
    without = build(tmp_path / "without", "--no-cache", source=plain, formats=("epub", "pdf"))
    for suffix in (".epub", ".pdf"):
        assert only_file(off, suffix).read_bytes() == only_file(without, suffix).read_bytes(), suffix
    pages = build(tmp_path / "pages", "--no-cache", formats=("epub",))
    assert only_file(pages, ".epub").read_bytes() != only_file(off, ".epub").read_bytes()


def test_off_in_the_newspaper_theme_is_its_edition_without_facsimiles(tmp_path):
    plain = tmp_path / "plain"
    shutil.copytree(SITE, plain)
    for page in (plain / "html").rglob("node_*.htm"):
        page.write_text(page.read_text(encoding="utf-8").replace(" USEMAP=#PagePicMap", ""), encoding="utf-8")
    off = build(tmp_path / "off", "--theme", "newspaper", "--facsimile", "off", "--no-cache", formats=("pdf",))
    without = build(tmp_path / "without", "--theme", "newspaper", "--no-cache", source=plain, formats=("pdf",))
    assert only_file(off, ".pdf").read_bytes() == only_file(without, ".pdf").read_bytes()


def test_grayscale_page_pictures_for_e_ink(tmp_path):
    from io import BytesIO

    from PIL import Image

    book = only_file(build(tmp_path, "--grayscale"), ".epub")
    files = epub_files(book)
    for name, (view, doc) in page_views(files).items():
        href = doc.xpath("//svg:image", namespaces=NS)[0].get(XLINK)
        picture = Image.open(BytesIO(files[posixpath.normpath(posixpath.join(posixpath.dirname(view), href))]))
        assert picture.mode in ("L", "LA", "P") and (picture.mode != "P" or all(
            r == g == b for r, g, b in zip(*[iter(picture.getpalette()[:768])] * 3))), picture.mode


def facsimile_destinations(reader, regions: dict = REGIONS, titles: dict = TITLES) -> dict[str, int]:
    """Each named destination's page index, once every facsimile page was checked: one link annotation per
    region, named by its article's title, landing on the page where its article starts (after the facsimile
    page), inside the trim, and a link back from each article's head."""
    destinations = {name: reader.get_destination_page_number(dest) for name, dest in reader.named_destinations.items()}
    for label in regions:
        section = f"s{label}"
        page = reader.pages[destinations[f"fac-{section}"]]
        links = [a.get_object() for a in page.get("/Annots", []) if a.get_object().get("/Subtype") == "/Link"]
        targets = sorted(str(a["/Dest"]) for a in links)
        assert targets == sorted(f"art-{article}" for _, article in regions[label])
        # each link says which article it opens (what a screen reader reads of it)
        assert all(str(a.get("/Contents")) == titles[str(a["/Dest"]).removeprefix("art-")] for a in links)
        # each lands on the page where its article starts, after the facsimile page
        for target in targets:
            assert destinations[target] > destinations[f"fac-{section}"]
        # the links lie inside the trim
        trim = [float(v) for v in page["/TrimBox"]]
        for link in links:
            x0, y0, x1, y1 = (float(v) for v in link["/Rect"])
            assert trim[0] - 0.01 <= min(x0, x1) and max(x0, x1) <= trim[2] + 0.01
            assert trim[1] - 0.01 <= min(y0, y1) and max(y0, y1) <= trim[3] + 0.01
        # each article's head links back to its facsimile page
        for _, article in regions[label]:
            start = reader.pages[destinations[f"art-{article}"]]
            backs = [a.get_object() for a in start.get("/Annots", [])
                     if str(a.get_object().get("/Dest")) == f"fac-{section}"]
            assert backs
    return destinations


def test_pdf_facsimile_pages_link_each_region_to_its_article(tmp_path):
    from pypdf import PdfReader

    pdf = only_file(build(tmp_path, "--bleed", "3mm", formats=("pdf",)), ".pdf")
    reader = PdfReader(pdf)
    destinations = facsimile_destinations(reader)
    # each link traces its region (/QuadPoints inside its box): the L-shaped polygon of page 01 does not
    # reach the rectangle that its bounding box overlaps
    first = reader.pages[destinations["fac-s01"]]
    quads = {}
    for link in (a.get_object() for a in first["/Annots"]):
        box = sorted(float(v) for v in link["/Rect"][0::2]), sorted(float(v) for v in link["/Rect"][1::2])
        points = [float(v) for v in link["/QuadPoints"]]
        assert points and all(box[0][0] - 0.01 <= x <= box[0][1] + 0.01 for x in points[0::2])
        assert all(box[1][0] - 0.01 <= y <= box[1][1] + 0.01 for y in points[1::2])
        quads[str(link["/Dest"])] = [points[n:n + 8] for n in range(0, len(points), 8)]
        if str(link["/Dest"]) == "art-content-7002":
            centre = (sum(box[0]) / 2, sum(box[1]) / 2)

    def inside(point, quad) -> bool:
        xs, ys = quad[0::2], quad[1::2]
        return min(xs) <= point[0] <= max(xs) and min(ys) <= point[1] <= max(ys)

    assert any(inside(centre, q) for q in quads["art-content-7002"])
    assert not any(inside(centre, q) for q in quads["art-content-7001"])
    # page 01's page PDF is drawn as a vector page (a form XObject), page 02 as its picture
    xobjects = first["/Resources"]["/XObject"]
    assert "/BroadsheetPages01" in xobjects and xobjects["/BroadsheetPages01"]["/Subtype"] == "/Form"


def test_newspaper_theme_opens_each_section_with_its_facsimile_page(tmp_path):
    """The newspaper theme's print edition (one document, sections on the next page) has the same facsimile
    pages as the default theme's, from the same shared markup (pdf/facsimile.html)."""
    from pypdf import PdfReader

    pdf = only_file(build(tmp_path, "--theme", "newspaper", "--bleed", "3mm", formats=("pdf",)), ".pdf")
    reader = PdfReader(pdf)
    destinations = facsimile_destinations(reader)
    # page 01's facsimile opens the edition, the front page (masthead and lead) follows it; page 02's
    # facsimile has a page of its own before its section's articles
    assert destinations["fac-s01"] == 0 and destinations["art-content-7001"] == 1
    assert destinations["fac-s02"] > destinations["art-content-7002"]
    assert "星港日报" not in reader.pages[0].extract_text() and "星港日报" in reader.pages[1].extract_text()
    for section in ("s01", "s02"):
        page = reader.pages[destinations[f"fac-{section}"]]
        assert not page.extract_text().strip()  # the picture (or page PDF) and its links alone
        links = [a.get_object() for a in page["/Annots"]]
        assert all(link.get("/QuadPoints") for link in links)
    xobjects = reader.pages[0]["/Resources"]["/XObject"]
    assert xobjects["/BroadsheetPages01"]["/Subtype"] == "/Form"


def test_pdf_is_reproducible(tmp_path):
    one = only_file(build(tmp_path / "one", "--no-cache", formats=("pdf",)), ".pdf")
    two = only_file(build(tmp_path / "two", "--no-cache", formats=("pdf",)), ".pdf")
    assert one.read_bytes() == two.read_bytes()


def test_chromium_clicks_every_region_onto_its_article(pages_epub, tmp_path):
    from chromium_cdp import Chromium, Server, chromium_binary

    if chromium_binary() is None:
        pytest.skip("chromium is not installed (scripts/install-system-deps installs it)")
    folder = tmp_path / "book"
    with zipfile.ZipFile(pages_epub) as archive:
        archive.extractall(folder)
    (tmp_path / "profile").mkdir()
    server = Server(folder)
    browser = None
    try:
        browser = Chromium(tmp_path / "profile")
        for label, regions in REGIONS.items():
            view = f"EPUB/text/s{label}-page.xhtml"
            for index, (_, article) in enumerate(regions):
                errors = browser.load(server.base + view, viewport=(600, 900))
                assert not errors, errors
                # the region's centroid, or (for a shape whose centroid lies outside it, or under another
                # region) the nearest point of it that a click there reaches
                x, y = browser.evaluate(POINT_OF_REGION % index)
                browser.events.clear()
                for kind in ("mousePressed", "mouseReleased"):
                    browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                              "clickCount": 1}, session=browser.session)
                browser.wait_for("Page.loadEventFired")
                landed = browser.evaluate("[location.pathname, document.querySelector('article').id]")
                assert landed == [f"/EPUB/text/{article}.xhtml", article], (label, index, landed)
    finally:
        if browser is not None:
            browser.close()
        server.close()


#: JavaScript: the client coordinates where a click reaches region N of the page view (its centroid when
#: the click lands on it there).
POINT_OF_REGION = """(() => {
  const link = document.querySelectorAll('svg a')[%d];
  const shape = link.lastElementChild;
  const svg = shape.ownerSVGElement;
  const box = shape.getBBox();
  const matrix = shape.getScreenCTM();
  const toClient = (x, y) => { const p = svg.createSVGPoint(); p.x = x; p.y = y; const q = p.matrixTransform(matrix);
                               return [q.x, q.y]; };
  const reaches = ([cx, cy]) => { const hit = document.elementFromPoint(cx, cy);
                                  return hit !== null && link.contains(hit); };
  let points = [];
  if (shape.tagName === 'polygon') {
    const pts = [...shape.points];
    points.push([pts.reduce((s, p) => s + p.x, 0) / pts.length, pts.reduce((s, p) => s + p.y, 0) / pts.length]);
  }
  points.push([box.x + box.width / 2, box.y + box.height / 2]);
  for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++)
    points.push([box.x + box.width * i / 20, box.y + box.height * j / 20]);
  for (const [x, y] of points) { const c = toClient(x, y); if (reaches(c)) return c; }
  throw new Error('no point of the region can be clicked');
})()"""


def markdown_edition(root: Path, regions: str) -> Path:
    from PIL import Image

    folder = root / "ed"
    (folder / "pages").mkdir(parents=True)
    (folder / "issue.toml").write_text(
        'date = 2024-03-01\nsections = [{ name = "Front", page = "A1", facsimile = "pages/a1.png" }, '
        '{ name = "Sport", page = "B4" }]\n', encoding="utf-8")
    (folder / "front.md").write_text("---\ntitle: Front story\nsection: Front\n---\n\nText one.\n", encoding="utf-8")
    (folder / "b.md").write_text("---\ntitle: Second story\nsection: Front\nid: second\n---\n\nText two.\n",
                                 encoding="utf-8")
    (folder / "c.md").write_text("---\ntitle: Match report\nsection: Sport\n---\n\nText three.\n", encoding="utf-8")
    Image.new("RGB", (400, 600), (230, 230, 220)).save(folder / "pages" / "a1.png")
    (folder / "pages" / "a1.toml").write_text(regions, encoding="utf-8")
    return folder


MARKDOWN_REGIONS = """\
[[region]]
article = "front"
shape = "rect"
coords = [0, 0, 400, 300]

[[region]]
article = "second"
coords = [0, 300, 400, 300, 400, 600, 0, 600]

[[region]]
article = "nowhere"
shape = "circle"
coords = [10, 10, 5]
"""


def test_issue_toml_names_a_facsimile_with_its_regions_file(tmp_path, assert_valid_epub):
    folder = markdown_edition(tmp_path, MARKDOWN_REGIONS)
    data, result = inspect_cli(folder, "-v")
    front, sport = data["issues"][0]["sections"]
    assert [(r["shape"], r["article"]) for r in front["facsimile"]["regions"]] == [("rect", "front"),
                                                                                 ("polygon", "second")]
    assert "facsimile" not in sport
    assert "'nowhere'" in result.stderr and "dropped" in result.stderr
    book = only_file(build(tmp_path / "out", source=folder), ".epub")
    assert_valid_epub(book)
    files = epub_files(book)
    name, view = page_views_by_name(files)["EPUB/text/s01-page.xhtml"]
    links = view.xpath("//svg:a", namespaces=NS)
    assert [article_of(files, name, a.get(XLINK)) for a in links] == ["front", "second"]
    article = etree.fromstring(files["EPUB/text/front.xhtml"], STRICT)
    assert article.xpath("string(//x:p[@class='facsimile-link']/x:a)", namespaces=NS) == "Page view"


def page_views_by_name(files: dict[str, bytes]) -> dict[str, tuple[str, etree._Element]]:
    return {name: (name, etree.fromstring(data, STRICT)) for name, data in files.items() if name.endswith("-page.xhtml")}


def test_a_bad_regions_file_is_named(tmp_path):
    folder = markdown_edition(tmp_path, '[[region]]\narticle = "front"\nshape = "rect"\ncoords = [1, 2, 3]\n')
    result = run_cli("build", folder, "-f", "epub", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "a1.toml" in result.stderr and "rect takes 4 coordinates" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.epub"))


def test_a_map_over_a_picture_shown_smaller_is_read_in_the_picture_s_pixels(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    page = site / "html" / "2024-06" / "03" / "node_2.htm"
    text = page.read_text(encoding="utf-8")
    text = text.replace(" border=0 USEMAP=#PagePicMap>", " width=250 border=0 USEMAP=#PagePicMap>")
    text = text.replace('coords="490,10,10,10,10,300,250,300,250,420,490,420"', 'coords="245,5,5,5,5,150,125,150,125,210,245,210"')
    text = text.replace('coords="10,310,240,600"', 'coords="5,155,120,300"')
    page.write_text(text, encoding="utf-8")
    data, _ = inspect_cli(site)
    regions = data["issues"][0]["sections"][0]["facsimile"]["regions"]
    assert regions[0]["coords"] == [490, 10, 10, 10, 10, 300, 250, 300, 250, 420, 490, 420]
    assert regions[1]["coords"] == [10, 310, 240, 600]


def test_a_page_pdf_that_is_a_link_out_of_the_folder_is_refused_by_name(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    outside = tmp_path / "elsewhere.pdf"
    shutil.copy(SITE / "page" / "2024-06" / "03" / "01" / "XCRB2024060301.pdf", outside)
    pdf = site / "page" / "2024-06" / "03" / "01" / "XCRB2024060301.pdf"
    pdf.unlink()
    pdf.symlink_to(outside)
    result = run_cli("build", site, "-f", "pdf", "--out", tmp_path / "out")
    assert result.returncode == 1, result.stderr
    assert "XCRB2024060301.pdf" in result.stderr and "Traceback" not in result.stderr
    assert not any((tmp_path / "out").glob("*.pdf")) if (tmp_path / "out").exists() else True


def test_a_page_picture_not_saved_leaves_the_page_without_a_facsimile(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    shutil.rmtree(site / "images" / "2024-06" / "03" / "02")
    data, result = inspect_cli(site)
    first, second = data["issues"][0]["sections"]
    assert "facsimile" in first and "facsimile" not in second
    assert "XCRB2024060302_b.png" not in result.stderr  # a note under -v only
    _, verbose = inspect_cli(site, "-v")
    assert "XCRB2024060302_b.png" in verbose.stderr


def test_a_large_page_picture_is_made_for_e_readers_and_its_regions_follow(tmp_path):
    from io import BytesIO

    from PIL import Image

    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    picture = site / "images" / "2024-06" / "03" / "01" / "XCRB2024060301_b.png"
    Image.open(picture).convert("RGB").resize((2000, 3000)).save(picture)
    page = site / "html" / "2024-06" / "03" / "node_2.htm"
    page.write_text(page.read_text(encoding="utf-8").replace(" border=0 USEMAP", " width=500 border=0 USEMAP"),
                    encoding="utf-8")
    files = epub_files(only_file(build(tmp_path / "out", source=site), ".epub"))
    name, view = page_views(files)["01"]
    (svg,) = view.xpath("//svg:svg", namespaces=NS)
    assert svg.get("viewBox") == "0 0 2000 3000"  # the picture's own pixels: the regions do not move
    (rect,) = svg.xpath("svg:a/svg:rect", namespaces=NS)
    assert [rect.get(k) for k in ("x", "y", "width", "height")] == ["40", "1240", "920", "1160"]
    href = svg.xpath("svg:image", namespaces=NS)[0].get(XLINK)
    made = Image.open(BytesIO(files[posixpath.normpath(posixpath.join(posixpath.dirname(name), href))]))
    assert max(made.size) == 1600  # downscaled like every EPUB picture (the long side at most 1600 px)


def test_the_mode_from_broadsheet_toml_and_the_command_line_over_it(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    (site / "broadsheet.toml").write_text('facsimile = "off"\n', encoding="utf-8")
    files = epub_files(only_file(build(tmp_path / "off", source=site), ".epub"))
    assert not page_views(files)
    files = epub_files(only_file(build(tmp_path / "pages", "--facsimile", "pages", source=site), ".epub"))
    assert sorted(page_views(files)) == ["01", "02"]
    (site / "broadsheet.toml").write_text('facsimile = "some"\n', encoding="utf-8")
    result = run_cli("build", site, "-f", "epub", "--out", tmp_path / "bad")
    assert result.returncode == 1 and "broadsheet.toml" in result.stderr and "facsimile" in result.stderr
    result = run_cli("build", SITE, "-f", "epub", "--out", tmp_path / "bad", "--facsimile", "some")
    assert result.returncode == 2 and "--facsimile" in result.stderr


VARIANTS = SITE.parent / "facsimile-variants"
RMRB = SITE.parent / "facsimile-variants-rmrb"
#: the regions kept of the variants' maps (see scripts/facsimile-fixture): shape, coordinates in the picture's
#: pixels, article
VARIANT_REGIONS = {
    "01": [("polygon", [190, 5, 10, 5, 10, 140, 190, 140], "content-8001"),  # POLY, spaces, a trailing comma
           ("rect", [10, 150, 190, 290], "content-8002"),  # RECT, given twice (?div=0, ?div=-1): kept once
           ("circle", [100, 70, 20], "content-8001")],  # circ, a #fragment
    "02": [("polygon", [0, 0, 200, 0, 200, 160, 0, 160], "content-8003"),  # off the picture: kept on it
           ("polygon", [0, 160, 200, 160, 200, 300, 0, 300], "content-8004"),  # the site's own absolute link
           ("circle", [100, 80, 20], "content-8003"),  # on a picture shown at half its size
           ("rect", [140, 200, 190, 280], "content-8004")],  # onclick="window.open('content_8004.htm')"
}


VARIANT_TITLES = {"content-8001": "江心岛开放日迎客", "content-8002": "社区食堂添新味", "content-8003": "早市焕新",
                  "content-8004": "夜读空间上新"}


def test_image_maps_as_real_sites_write_them():
    data, result = inspect_cli(VARIANTS, "-v")
    sections = data["issues"][0]["sections"]
    assert [s["page"] for s in sections] == ["01", "02"]
    for section in sections:
        facsimile = section["facsimile"]
        # the page picture, not the navigation picture whose map comes first
        assert facsimile["picture"]["src"].endswith(f"XGRB20240604{section['page']}_b.png")
        assert [(r["shape"], r["coords"], r["article"]) for r in facsimile["regions"]] == \
            [(shape, coords, article) for shape, coords, article in VARIANT_REGIONS[section["page"]]]
        # each page links both pages' PDFs: its own is the one named like its picture
        assert facsimile["pdf"] == f"XGRB20240604{section['page']}.pdf"
    notes = result.stderr
    assert "Traceback" not in notes
    assert "'node_3.htm' links no article read" in notes  # the navigation map's area
    assert "marked nohref; dropped" in notes
    assert "coords '10,10,50,50') is not a polygon of three points or more" in notes
    assert "'content_8003.htm' lies outside the page picture (200x300); dropped" in notes
    assert "'http://elsewhere.example.com/content_8003.htm' links no article read" in notes
    assert "map area without a link; dropped" in notes  # href="javascript:void(0)"
    _, quiet = inspect_cli(VARIANTS)
    assert "dropped" not in quiet.stderr


def test_a_peoples_daily_image_map():
    data, _ = inspect_cli(RMRB, "-v")
    (section,) = data["issues"][0]["sections"]
    facsimile = section["facsimile"]
    assert facsimile["picture"]["src"] == "../../../page/2023-02/10/01/rmrb2023021001_b.jpg"
    assert (facsimile["picture"]["width"], facsimile["picture"]["height"]) == (200, 300)
    # shown at width=100 height=150: the coordinates doubled; the second area an absolute link to the site
    assert [(r["coords"], r["article"]) for r in facsimile["regions"]] == [
        ([196, 94, 196, 2, 2, 2, 2, 94], "nw-d110000renmrb-20230210-1-01"),
        ([2, 100, 196, 100, 196, 148, 2, 148], "nw-d110000renmrb-20230210-2-01")]
    assert [a["title"] for a in section["articles"]] == ["春耕备耕有序推进", "冰雪经济持续升温"]


def test_the_variants_make_page_views_and_facsimile_pages_that_link_their_articles(tmp_path, assert_valid_epub):
    from pypdf import PdfReader

    out = build(tmp_path, source=VARIANTS, formats=("epub", "pdf"))
    book = only_file(out, ".epub")
    assert_valid_epub(book)
    files = epub_files(book)
    for label, (name, doc) in page_views(files).items():
        links = doc.xpath("//svg:svg/svg:a", namespaces=NS)
        assert [(a[-1].tag.split("}")[1], article_of(files, name, a.get(XLINK))) for a in links] == \
            [(shape, article) for shape, _, article in VARIANT_REGIONS[label]]
    regions = {label: [(shape, article) for shape, _, article in kept] for label, kept in VARIANT_REGIONS.items()}
    destinations = facsimile_destinations(PdfReader(only_file(out, ".pdf")), regions, VARIANT_TITLES)
    assert destinations["fac-s01"] < destinations["art-content-8001"]


@pytest.mark.parametrize("area", [
    '<area shape="poly" coords="5,5" href="content_7001.htm">',
    '<area shape="poly" coords="" href="content_7001.htm">',
    '<area shape="circle" coords="10,10,-4" href="content_7001.htm">',
    '<area shape="circle" coords="9000,9000,20" href="content_7001.htm">',
    '<area shape="rect" coords="1,2,3" href="content_7001.htm">',
    '<area shape="rect" coords="40,40,40,90" href="content_7001.htm">',
    '<area shape="polygon" coords="10,10,20,20,30,30" href="content_7001.htm">',
    '<area shape="polygon" coords="-5,-5,-1,-5,-1,-1" href="content_7001.htm">',
    '<area shape="default" href="content_7001.htm">',
    '<area shape="rect" coords="a,b,c,d" href="content_7001.htm">',
    '<area shape="rect" coords="0,0,10,10" href="javascript:void(0)">',
    '<area shape="rect" coords="0,0,10,10" href="../../../../../../etc/passwd">',
])
def test_an_area_that_is_no_region_is_dropped_with_a_note(tmp_path, area):
    data, result = inspect_cli(with_area(tmp_path, area), "-v")
    assert "Traceback" not in result.stderr and "dropped" in result.stderr
    regions = data["issues"][0]["sections"][0]["facsimile"]["regions"]
    assert [(r["shape"], r["article"]) for r in regions] == REGIONS["01"]


def with_area(tmp_path: Path, area: str) -> Path:
    """A copy of the fixture site whose page 01 has ``area`` first in its map."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    page = site / "html" / "2024-06" / "03" / "node_2.htm"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<map name=PagePicMap>", f"<map name=PagePicMap>\n{area}"), encoding="utf-8")
    return site


def test_an_area_running_off_the_picture_is_kept_on_it(tmp_path):
    site = with_area(tmp_path, '<area shape="rect" coords="-40,700,99999999999999999999999,900" '
                               'href="content_7002.htm">')
    data, result = inspect_cli(site)
    regions = data["issues"][0]["sections"][0]["facsimile"]["regions"]
    assert (regions[0]["shape"], regions[0]["coords"], regions[0]["article"]) == \
        ("rect", [0, 700, 500, 750], "content-7002")
    # a circle whose centre lies off the picture but which reaches onto it keeps its radius
    site = with_area(tmp_path / "circle", '<area shape="circle" coords="-10,100,30" href="content_7002.htm">')
    data, _ = inspect_cli(site)
    assert data["issues"][0]["sections"][0]["facsimile"]["regions"][0]["coords"] == [0, 100, 30]



@pytest.mark.parametrize("options", [("--writing-mode", "vertical"), ("--profile", "kindle")],
                         ids=["vertical", "kindle"])
def test_page_views_in_vertical_writing_and_for_kindle(tmp_path, assert_valid_epub, options):
    """The page views are EPUBCheck clean in 竖排 books and in Kindle books too, each region still linking its
    article."""
    book = only_file(build(tmp_path, *options), ".epub")
    assert_valid_epub(book)
    files = epub_files(book)
    views = page_views(files)
    assert sorted(views) == ["01", "02"]
    for label, (name, doc) in views.items():
        links = doc.xpath("//svg:svg/svg:a", namespaces=NS)
        assert [article_of(files, name, a.get(XLINK)) for a in links] == [a for _, a in REGIONS[label]]


def test_pdf_ua_facsimile_pages_tag_the_page_picture_with_its_text_alternative(tmp_path):
    """Under --pdf-variant pdf/ua-1 each facsimile page's picture is a /Figure with /Alt naming the page and its
    articles; where the page PDF is drawn instead, its drawing is that figure's marked content (found through
    the structure parent tree)."""
    import re

    import pikepdf

    pdf = pikepdf.open(only_file(build(tmp_path, "--pdf-variant", "pdf/ua-1", formats=("pdf",)), ".pdf"))
    dests = pikepdf.NameTree(pdf.Root.Names.Dests)
    figures = []

    def walk(node) -> None:
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)
        elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
            if node.S == "/Figure":
                figures.append(node)
            walk(node.get("/K"))

    walk(pdf.Root.StructTreeRoot.K)
    for section, label in (("s01", "01"), ("s02", "02")):
        dest = dests[f"fac-{section}"]
        page = (dest.D if isinstance(dest, pikepdf.Dictionary) else dest)[0]
        (figure,) = [f for f in figures if f.Pg.objgen == page.objgen]
        alt = str(figure.Alt)
        assert alt.startswith(f"第{label}版") and all(TITLES[a] in alt for _, a in REGIONS[label])
    # page 01's page PDF: its drawing is the marked content of the figure
    dest = dests["fac-s01"]
    page = pikepdf.Page((dest.D if isinstance(dest, pikepdf.Dictionary) else dest)[0])
    (figure,) = [f for f in figures if f.Pg.objgen == page.obj.objgen]
    (mcid,) = list(figure.K)
    content = b"".join(c.read_bytes() for c in page.obj.Contents) if isinstance(page.obj.Contents, pikepdf.Array) \
        else page.obj.Contents.read_bytes()
    assert re.search(rb"/Figure <</MCID %d>> BDC [^E]*/BroadsheetPages01 Do Q EMC" % int(mcid), content)
    parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    assert figure.objgen != (0, 0) and parents[int(page.obj.StructParents)][int(mcid)].objgen == figure.objgen


def test_a_map_of_thousands_of_areas_is_read_within_bounds(tmp_path):
    areas = "\n".join(f'<area shape=rect coords="{n % 400},{n % 600},{n % 400 + 50},{n % 600 + 50}" '
                      f'href="content_7001.htm?div={n}">' for n in range(3000))
    data, result = inspect_cli(with_area(tmp_path, areas), "-v")
    regions = data["issues"][0]["sections"][0]["facsimile"]["regions"]
    assert len(regions) == 500  # MAX_REGIONS kept, each on the picture
    assert "more than 2000 areas in a map of the page; the rest are not looked at" in result.stderr
    assert "more than 500 areas in the page's map; the rest are not kept" in result.stderr
