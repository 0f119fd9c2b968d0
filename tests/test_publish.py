"""broadsheet publish: a folder of built editions becomes a static library with OPDS 1.2 and 2.0 catalogs.

Real editions are built (the examples, a digest), plus an EPUB and a PDF without manifests (read back from
the files).  OPDS 2 is checked by the Palace Project's parser (palace-webpub-manifest-parser), OPDS 1.2 by
feedparser; a walk from index.html's auto-discovery links reaches every edition, as an e-reader would.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from conftest import EN_EXAMPLE, ZH_EXAMPLE, run_cli

pytestmark = pytest.mark.slow
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: SHA-256} of every file publish owns (and the editions themselves)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".broadsheet-cache" not in p.parts}


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_build) -> Path:
    """The example editions (EPUB and PDF), a digest, a booklet, an EPUB and a PDF without manifests."""
    folder = tmp_path_factory.mktemp("built")
    for path in demo_build.iterdir():
        if path.name != ".broadsheet-cache":
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, folder / path.name)
    result = run_cli("digest", ZH_EXAMPLE, EN_EXAMPLE, "--max-articles", "4", "-f", "epub", "--out", folder, "-q")
    assert result.returncode == 0, result.stderr
    result = run_cli("build", EN_EXAMPLE, "--impose", "booklet", "-f", "pdf", "--out", folder, "-q")
    assert result.returncode == 0, result.stderr
    # files without a manifest: an EPUB and a PDF from elsewhere
    shutil.copy2(folder / "zzrb-2012-07-06.epub", folder / "elsewhere-2011-03-04.epub")
    shutil.copy2(folder / "harbour-gazette-2026-11-20.pdf", folder / "scan-2010-01-02.pdf")
    shutil.copy2(folder / "harbour-gazette-2026-11-20.epub", folder / "Harbour #1 100% 号外?.epub")
    return folder


def publish(folder: Path, *args) -> str:
    result = run_cli("publish", folder, *args)
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def library(built, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("library") / "lib"
    shutil.copytree(built, folder)
    publish(folder, "--per-page", "2")
    return folder


def editions_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.suffix in (".epub", ".pdf")}


def test_manifests_are_written_beside_the_outputs(built):
    manifest = json.loads((built / ".broadsheet" / "editions" / "zzrb-2012-07-06.json").read_text("utf-8"))
    assert manifest["manifest"] == "broadsheet-edition/1" and manifest["kind"] == "issue"
    assert manifest["publication"] == {"id": "zzrb", "title": "郑州日报", "publisher": "郑州日报社",
                                       "language": "zh-CN"}
    assert manifest["sections"] == [{"name": "理论", "page": "15", "articles": 1}]
    assert [f["format"] for f in manifest["files"]] == ["epub", "pdf"]
    assert manifest["cover"]["member"] == "EPUB/images/cover.jpg"
    digest = next((built / ".broadsheet" / "editions").glob("digest-*.json"))
    assert json.loads(digest.read_text("utf-8"))["kind"] == "digest"
    # the harbour PDF was built again with a booklet: its manifest names the files that build wrote
    harbour = json.loads((built / ".broadsheet" / "editions" / "harbour-gazette-2026-11-20.json").read_text())
    assert [f["format"] for f in harbour["files"]] == ["pdf", "booklet"]


def test_the_layout(library):
    for name in ("index.html", "library.css", "opds/root.nav.atom", "opds/root.opds.json", "opds/latest.atom",
                 "opds/latest.opds.json", "opds/opensearch.xml", "opds/catalog.json", "publications/zzrb.html",
                 "opds/pub-zzrb.atom", "opds/pub-zzrb.opds.json", "covers/zzrb-2012-07-06.jpg",
                 "covers/zzrb-2012-07-06-thumb.jpg"):
        assert (library / name).is_file(), name
    catalog = json.loads((library / "opds" / "catalog.json").read_text("utf-8"))
    assert catalog["catalog"] == "broadsheet-catalog/1"
    issued = [row["issued"] for row in catalog["editions"]]
    assert issued == sorted(issued, reverse=True)  # newest first
    assert {unquote(f["href"].removeprefix("../")) for row in catalog["editions"] for f in row["files"]} == editions_in(library)
    harbour = next(row for row in catalog["editions"] if row["stem"] == "harbour-gazette-2026-11-20")
    assert [f["format"] for f in harbour["files"]] == ["epub", "pdf", "booklet"]  # siblings of the manifest joined
    # files without a manifest join the publication of their title; a PDF alone gets a drawn cover
    scan = next(row for row in catalog["editions"] if row["stem"] == "scan-2010-01-02")
    assert scan["publication"]["key"] == "harbour-gazette" and scan["issued"] == "2026-11-20"
    odd = next(row for row in catalog["editions"] if row["stem"] == "Harbour #1 100% 号外?")
    assert odd["key"].startswith("e-") and odd["files"][0]["href"] == "../Harbour%20%231%20100%25%20%E5%8F%B7%E5%A4%96%3F.epub"
    assert (library / "covers" / f"{odd['key']}-thumb.jpg").is_file()


def test_opds2_validates_with_the_palace_parser(library, tmp_path):
    parser_module = pytest.importorskip("webpub_manifest_parser.opds2")
    absolute = tmp_path / "absolute"
    shutil.copytree(library, absolute)
    publish(absolute, "--per-page", "2", "--base-url", "https://papers.example.org/library")
    feeds = sorted((absolute / "opds").glob("*.opds.json"))
    assert len(feeds) >= 6
    for path in feeds:
        result = parser_module.OPDS2FeedParserFactory().create().parse_file(str(path))
        assert not result.errors, (path.name, [str(e) for e in result.errors])
        data = json.loads(path.read_text("utf-8"))
        for publication in data.get("publications", []):
            assert publication["links"][0]["href"].startswith("https://papers.example.org/library/")
    # relative feeds: RWPM wants an absolute self link, which only --base-url can give; nothing else is amiss
    for path in sorted((library / "opds").glob("*.opds.json")):
        result = parser_module.OPDS2FeedParserFactory().create().parse_file(str(path))
        assert all("must be an absolute URI" in str(e) for e in result.errors), (path.name, result.errors)


def _magic(path: Path, media_type: str) -> bool:
    head = path.read_bytes()[:64]
    if media_type == "application/epub+zip":
        return head.startswith(b"PK\x03\x04") and zipfile.ZipFile(path).read("mimetype") == b"application/epub+zip"
    if media_type == "application/pdf":
        return head.startswith(b"%PDF-")
    if media_type == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    return False


def test_opds1_feeds_parse_and_every_link_resolves(library):
    import feedparser

    feeds = sorted((library / "opds").glob("*.atom"))
    assert {p.name for p in feeds} >= {"root.nav.atom", "latest.atom", "latest-p2.atom", "pub-zzrb.atom"}
    acquired = set()
    for path in feeds:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path.name, parsed.get("bozo_exception"))
        assert parsed.feed.title and parsed.feed.updated
        for entry in parsed.entries:
            assert entry.title and entry.id and entry.updated
            for link in entry.links:
                target = (path.parent / unquote(link.href.split("#")[0])).resolve()
                assert target.is_file(), (path.name, link.href)
                if link.rel == OPEN_ACCESS:
                    assert _magic(target, link.type), (link.href, link.type)
                    acquired.add(target.name)
                elif link.rel in ("http://opds-spec.org/image", "http://opds-spec.org/image/thumbnail"):
                    assert _magic(target, "image/jpeg")
            if path.name != "root.nav.atom":
                assert any(link.rel == OPEN_ACCESS for link in entry.links)
                assert entry.get("dcterms_issued") or entry.get("dc_issued") or "issued" in path.read_text()
    assert acquired == editions_in(library)


def test_entries_carry_what_a_reader_shows(library):
    from lxml import etree

    tree = etree.parse(str(library / "opds" / "pub-zzrb.atom"))
    ns = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/terms/"}
    entries = tree.findall("a:entry", ns)
    assert len(entries) == 2  # the example and its copy read from the file, which joins its publication
    (entry,) = [e for e in entries if e.find("a:link[@href='../zzrb-2012-07-06.epub']", ns) is not None]
    assert entry.findtext("a:title", namespaces=ns) == "郑州日报 2012-07-06"
    assert entry.findtext("dc:issued", namespaces=ns) == "2012-07-06"
    assert entry.findtext("dc:publisher", namespaces=ns) == "郑州日报社"
    assert entry.findtext("dc:language", namespaces=ns) == "zh-CN"
    assert entry.findtext("a:summary", namespaces=ns) == "理论 (1)"
    types = {(link.get("rel"), link.get("type")) for link in entry.findall("a:link", ns)}
    assert ("http://opds-spec.org/image/thumbnail", "image/jpeg") in types
    assert (OPEN_ACCESS, "application/epub+zip") in types and (OPEN_ACCESS, "application/pdf") in types


def _walk(start: str, read) -> tuple[set[str], list[str]]:
    """Follow a catalog as an e-reader does, from ``start``: navigation entries, then every page of each
    acquisition feed by its ``next`` links; return the acquisition targets and the feeds visited."""
    import feedparser

    seen, todo, acquired = [], [start], set()
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.append(url)
        parsed = feedparser.parse(read(url))
        assert not parsed.bozo, url
        for link in parsed.feed.get("links", []):
            if link.rel == "next":
                todo.append(urljoin(url, link.href))
        for entry in parsed.entries:
            for link in entry.links:
                if link.rel == "subsection" or link.type in (NAVIGATION, ACQUISITION):
                    todo.append(urljoin(url, link.href))
                elif link.rel == OPEN_ACCESS:
                    acquired.add(urljoin(url, link.href))
    return acquired, seen


def _walk2(start: str, read) -> set[str]:
    seen, todo, acquired = set(), [start], set()
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        data = json.loads(read(url))
        todo += [urljoin(url, n["href"]) for n in data.get("navigation", [])]
        todo += [urljoin(url, link["href"]) for link in data.get("links", []) if link["rel"] == "next"]
        for publication in data.get("publications", []):
            acquired |= {urljoin(url, link["href"]) for link in publication["links"] if link["rel"] == OPEN_ACCESS}
    return acquired


def test_an_e_reader_finds_every_edition_from_index_html(library):
    page = lxml_html.fromstring((library / "index.html").read_bytes())
    (nav,) = page.xpath(f"//head/link[@rel='related'][@type='{NAVIGATION}']/@href")
    (opds2,) = page.xpath("//head/link[@rel='related'][@type='application/opds+json']/@href")
    base = "file:///library/index.html"

    def read(url: str) -> bytes:
        return (library / unquote(urlsplit(url).path).removeprefix("/library/")).read_bytes()

    acquired, visited = _walk(urljoin(base, nav), read)
    assert "file:///library/opds/latest-p2.atom" in visited  # through the pagination (two editions a page)
    files = {unquote(urlsplit(url).path).removeprefix("/library/") for url in acquired}
    assert files == editions_in(library)
    files2 = {unquote(urlsplit(url).path).removeprefix("/library/") for url in _walk2(urljoin(base, opds2), read)}
    assert files2 == editions_in(library)


def test_pagination(library):
    import feedparser

    catalog = json.loads((library / "opds" / "catalog.json").read_text("utf-8"))
    count = -(-len(catalog["editions"]) // 2)
    pages = [feedparser.parse((library / "opds" / (f"latest-p{n}.atom" if n > 1 else "latest.atom")).read_bytes())
             for n in range(1, count + 1)]
    assert not (library / "opds" / f"latest-p{count + 1}.atom").exists()
    titles = [entry.title for page in pages for entry in page.entries]
    assert titles == [row["title"] for row in catalog["editions"]]
    for n, page in enumerate(pages, start=1):
        rels = {link.rel: link.href for link in page.feed.links}
        assert rels["first"] == "latest.atom" and rels["last"] == (f"latest-p{count}.atom")
        assert ("previous" in rels) == (n > 1) and ("next" in rels) == (n < count)


def test_search_answers_from_catalog_json(library):
    import feedparser

    from broadsheet.publish import search_feed

    catalog = json.loads((library / "opds" / "catalog.json").read_text("utf-8"))
    parsed = feedparser.parse(search_feed(catalog, "郑州"))
    # the example and its copy under another name (read from the file: the same title, its own id)
    assert not parsed.bozo and [e.title for e in parsed.entries] == ["郑州日报 2012-07-06"] * 2
    assert len({e.id for e in parsed.entries}) == 2
    assert any(link.rel == OPEN_ACCESS for link in parsed.entries[0].links)
    assert json.loads(search_feed(catalog, "harbour gazette", opds2=True))["metadata"]["numberOfItems"] == 3
    assert feedparser.parse(search_feed(catalog, "<script>")).entries == []
    description = (library / "opds" / "opensearch.xml").read_text("utf-8")
    assert 'template="search?q={searchTerms}"' in description


def test_catalog_json_links_resolve_from_the_catalog(library):
    """What a server's search reads of catalog.json: each edition's title, publication, issued, summary and
    links (rel, href relative to catalog.json, type), every one leading to a file of its type."""
    catalog = json.loads((library / "opds" / "catalog.json").read_text("utf-8"))
    for row in catalog["editions"]:
        assert row["title"] and row["publication"]["title"] and row["summary"]
        rels = [link["rel"] for link in row["links"]]
        assert rels.count(OPEN_ACCESS) == len(row["files"]) and "http://opds-spec.org/image/thumbnail" in rels
        for link in row["links"]:
            target = urlsplit(urljoin("/opds/catalog.json", link["href"])).path
            path = library / unquote(target).lstrip("/")
            assert path.is_file(), link
            if link["rel"] == OPEN_ACCESS or link["type"] == "image/jpeg":
                assert _magic(path, link["type"]), link


def test_broadsheet_serve_answers_a_search_from_the_published_catalog(library, tmp_path):
    """The searches ``broadsheet serve`` answers from this catalog.json, OPDS 1.2 and OPDS 2: the entries of
    the static feeds, with links that lead to the files on the server."""
    import http.client

    import feedparser

    from test_serve import start

    running = start(library, tmp_path, "-q")

    def get(path: str) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type"), response.read()
        finally:
            connection.close()

    try:
        url = "/opds/search?q=%E9%83%91%E5%B7%9E"  # 郑州
        status, kind, body = get(url)
        assert status == 200 and kind == ACQUISITION
        parsed = feedparser.parse(body)
        # the example and its copy under another name (read from the file: the same title, its own id)
        assert not parsed.bozo and [e.title for e in parsed.entries] == ["郑州日报 2012-07-06"] * 2
        static = feedparser.parse((library / "opds" / "pub-zzrb.atom").read_bytes())
        assert {e.id for e in parsed.entries} == {e.id for e in static.entries}
        for entry in parsed.entries:
            acquisitions = [link for link in entry.links if link.rel == OPEN_ACCESS]
            assert "application/epub+zip" in {link.type for link in acquisitions}
            for link in entry.links:
                status, kind, data = get(urlsplit(urljoin(url, link.href)).path)
                assert status == 200 and kind.startswith(link.type), link.href
                if link.rel == OPEN_ACCESS or link.type == "image/jpeg":
                    target = tmp_path / "check"
                    target.write_bytes(data)
                    assert _magic(target, link.type), link.href
        parser_module = pytest.importorskip("webpub_manifest_parser.opds2")
        url = "/opds/search.opds.json?query=harbour+gazette"
        status, kind, body = get(url)
        assert status == 200 and kind == "application/opds+json"
        (tmp_path / "search.opds.json").write_bytes(body)
        result = parser_module.OPDS2FeedParserFactory().create().parse_file(str(tmp_path / "search.opds.json"))
        assert all("must be an absolute URI" in str(e) for e in result.errors), [str(e) for e in result.errors]
        data = json.loads(body)
        assert data["metadata"]["numberOfItems"] == 3 == len(data["publications"])
        for publication in data["publications"]:
            for link in publication["links"]:
                status, kind, _ = get(urlsplit(urljoin(url, link["href"])).path)
                assert status == 200 and kind.startswith(link["type"]), link["href"]
    finally:
        code, stderr = running.stop()
    assert code == 0 and stderr == "", stderr[-2000:]


def test_publishing_again_rewrites_only_what_changed(library, tmp_path):
    before = snapshot(library)
    assert "0 files written" in publish(library, "--per-page", "2")
    assert snapshot(library) == before
    # the same folder elsewhere gives the same bytes
    other = tmp_path / "other"
    shutil.copytree(library, other, ignore=shutil.ignore_patterns("index.html", "opds", "covers", "publications",
                                                                   "library.css", "published.json"))
    publish(other, "--per-page", "2")
    assert snapshot(other) == before
    # one more edition: its cover, the feeds that list it, the pages that show it; nothing else
    shutil.copy2(other / "zzrb-2012-07-06.epub", other / "zzrb-2012-07-07.epub")
    stderr = publish(other, "--per-page", "2")
    after = snapshot(other)
    changed = {name for name in after if before.get(name) != after[name]}
    assert {"covers/zzrb-2012-07-07.jpg", "covers/zzrb-2012-07-07-thumb.jpg", "opds/latest.atom",
            "opds/catalog.json", "index.html", "zzrb-2012-07-07.epub"} <= changed
    assert not any(name.startswith(("covers/harbour", "covers/digest", "publications/harbour",
                                    "opds/pub-harbour", "opds/pub-digest")) for name in changed), sorted(changed)
    assert f"{len(changed) - 1} files written" in stderr  # the new EPUB itself was not written by publish
    # a cover changed by hand is made again (covers are remembered by what they are made from and their bytes)
    (other / "covers" / "zzrb-2012-07-06.jpg").write_bytes(b"not the cover")
    publish(other, "--per-page", "2")
    assert snapshot(other) == after
    # an edition taken away: its cover and the files that listed only it go
    (other / "zzrb-2012-07-07.epub").unlink()
    publish(other, "--per-page", "2")
    assert snapshot(other) == before


def test_hostile_folder(tmp_path, demo_build):
    folder = tmp_path / "lib"
    folder.mkdir()
    shutil.copy2(demo_build / "zzrb-2012-07-06.epub", folder / "zzrb-2012-07-06.epub")
    (folder / "evil.epub").symlink_to("/etc/passwd")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7 not really")
    (folder / 'quote"<b>.epub').write_bytes(b"PK\x03\x04 not a zip")
    manifests = folder / ".broadsheet" / "editions"
    manifests.mkdir(parents=True)
    record = json.loads((demo_build / ".broadsheet" / "editions" / "zzrb-2012-07-06.json").read_text("utf-8"))
    record["title"] = "<script>alert(1)</script>\x07 & \u202e"
    record["publication"]["title"] = "</title><script>x()</script>"
    record["cover"]["member"] = "../../etc/passwd"  # no such member: a cover is drawn
    (manifests / "zzrb-2012-07-06.json").write_text(json.dumps(record), encoding="utf-8")
    result = run_cli("publish", folder)
    assert result.returncode == 1, result.stderr  # the unreadable files are named, the rest published
    assert "Traceback" not in result.stderr
    assert "evil.epub: leads outside the folder" in result.stderr
    assert "broken.pdf" in result.stderr and 'quote"<b>.epub' in result.stderr
    index = (folder / "index.html").read_text("utf-8")
    assert "<script>" not in index and "&lt;script&gt;" in index and "\x07" not in index
    import feedparser

    for feed in (folder / "opds").glob("*.atom"):
        assert not feedparser.parse(feed.read_bytes()).bozo
    assert "passwd" not in (folder / "opds" / "catalog.json").read_text("utf-8")
    assert "cover not read" in result.stderr and (folder / "covers" / "zzrb-2012-07-06.jpg").is_file()


def test_a_linked_library_folder_is_refused(tmp_path, demo_build):
    folder, elsewhere = tmp_path / "lib", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    shutil.copy2(demo_build / "zzrb-2012-07-06.epub", folder)
    (folder / "opds").symlink_to(elsewhere)
    result = run_cli("publish", folder)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "opds" in result.stderr and "link" in result.stderr
    assert not list(elsewhere.iterdir())


def test_bad_base_url_is_a_one_line_error(tmp_path):
    result = run_cli("publish", tmp_path, "--base-url", "javascript:alert(1)")
    assert result.returncode == 1 and "--base-url" in result.stderr and "Traceback" not in result.stderr


def test_pages_open_in_chromium(library, tmp_path):
    """index.html and each publication page in headless Chromium (Debian's, driven by playwright): no console
    error, no failed request, and every link and picture answers."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("chromium is not installed (scripts/install-system-deps installs it)")
    from chromium_cdp import Server

    server = Server(library)
    pages = ["index.html", *(f"publications/{p.name}" for p in sorted((library / "publications").iterdir()))]
    problems: list[str] = []
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in (
                "error", "assert") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on("response", lambda r: problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
            for name in pages:
                page.goto(server.base + name, wait_until="networkidle")
                assert page.evaluate("document.scripts.length") == 0
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
                targets = page.evaluate("""[...document.querySelectorAll('a[href], link[href], img[src]')]
                    .map(e => e.href || e.src)""")
                for target in targets:
                    if target.startswith("data:"):
                        continue
                    response = page.request.get(target.split("#")[0])
                    if response.status != 200:
                        problems.append(f"{name}: {target} answers {response.status}")
                if name == "index.html":
                    page.screenshot(path=str(tmp_path / "library.png"), full_page=True)
            browser.close()
    finally:
        server.close()
    assert not problems, problems
    assert (tmp_path / "library.png").stat().st_size > 10_000
