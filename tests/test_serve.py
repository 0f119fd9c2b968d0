"""broadsheet serve over real HTTP: a published library (written here by hand, following publish's conventions,
with the example EPUBs) served by the command on 127.0.0.1, asked with http.client, stopped with a signal."""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from conftest import run_cli

NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
ATOM = "{http://www.w3.org/2005/Atom}"
OPEN_ACCESS = "http://opds-spec.org/acquisition/open-access"
SECRET = "top secret outside the library"

ROOT_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:broadsheet:library</id>
  <title>Library</title>
  <updated>2026-11-20T00:00:00Z</updated>
  <link rel="self" href="/opds/root.nav.atom" type="application/atom+xml;profile=opds-catalog;kind=navigation"/>
  <link rel="search" href="/opds/opensearch.xml" type="application/opensearchdescription+xml"/>
  <entry>
    <title>The Harbour Gazette</title>
    <id>urn:broadsheet:harbour-gazette</id>
    <updated>2026-11-20T00:00:00Z</updated>
    <link rel="subsection" href="/opds/harbour-gazette.atom"
          type="application/atom+xml;profile=opds-catalog;kind=acquisition"/>
  </entry>
</feed>
"""


def _atom_entry(title: str, identifier: str, links: list[tuple[str, str, str]], extra: str = "") -> str:
    xml = "".join(f'<link rel="{rel}" href="{href}" type="{kind}"/>' for rel, href, kind in links)
    return (f'<entry xmlns="http://www.w3.org/2005/Atom"><title>{title}</title><id>{identifier}</id>'
            f"<updated>2026-11-20T00:00:00Z</updated>{extra}{xml}</entry>")


def _catalog(files: dict[str, str]) -> dict:
    """A catalog shaped as publish writes it, with editions no publish would write: hostile links, an entry
    that is not well formed, one with a comment and an entity, rows that are no editions."""
    epub = ("http://opds-spec.org/acquisition/open-access", "../" + files["harbour"], "application/epub+zip")
    bad = [("http://opds-spec.org/acquisition", "javascript:alert(1)", "text/html"),
           ("http://opds-spec.org/acquisition", "file:///etc/passwd", "application/epub+zip"),
           ("http://opds-spec.org/acquisition", " JavaScript:alert(2)", "text/html")]
    return {"catalog": "broadsheet-catalog/1", "title": "Odd <Library>", "base_url": None,
            "updated": "2026-11-20T00:00:00Z", "editions": [
                {"title": "<b>Tags & \"quotes\"</b>", "publication": {"title": "Odd Shapes Weekly"},
                 "atom_entry": _atom_entry("&lt;b&gt;Tags &amp; \"quotes\"&lt;/b&gt;", "urn:odd:1", [epub, *bad],
                                           "<author><name>Odd Shapes Weekly</name></author><!-- a comment -->"),
                 "opds2": {"metadata": {"title": "<b>Tags</b>"},
                           "links": [{"href": "../" + files["harbour"], "type": "application/epub+zip",
                                      "rel": "http://opds-spec.org/acquisition/open-access"},
                                     {"href": "javascript:alert(1)", "type": "text/html"}, "not a link", 7],
                           "images": [{"href": "data:image/png;base64,AAAA", "type": "image/png"}]}},
                {"title": "Odd broken entry", "publication": "Odd Shapes Weekly", "atom_entry": "<entry><title>"},
                {"title": "Odd feed, not an entry", "publication": "Odd Shapes Weekly",
                 "atom_entry": '<feed xmlns="http://www.w3.org/2005/Atom"/>', "opds2": "nonsense"},
                {"title": "Odd entity", "publication": "Odd Shapes Weekly",
                 "atom_entry": '<!DOCTYPE entry [<!ENTITY e "x">]><entry xmlns="http://www.w3.org/2005/Atom">'
                               "<title>Odd &e; entity</title><id>urn:odd:2</id></entry>"},
                {"title": 7, "publication": ["Odd"], "atom_entry": None},
                "not an edition", 42, None,
            ]}


@pytest.fixture(scope="module")
def library(demo_build, tmp_path_factory) -> Path:
    """A published library as ``broadsheet publish`` lays it out, and a secret beside it."""
    base = tmp_path_factory.mktemp("serve")
    outside = base / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    folder = base / "library"
    (folder / "opds").mkdir(parents=True)
    (folder / "editions").mkdir()
    files = {"harbour": "editions/harbour-gazette-2026-11-20.epub", "zzrb": "editions/zzrb-2012-07-06.epub",
             "harbour-pdf": "editions/harbour-gazette-2026-11-20.pdf"}
    for name in files.values():
        shutil.copyfile(demo_build / Path(name).name, folder / name)
    (folder / "index.html").write_text(
        '<!DOCTYPE html><html><head><title>Library</title><link rel="alternate" href="opds/root.nav.atom" '
        f'type="{NAVIGATION}"></head><body><h1>Library</h1></body></html>\n', encoding="utf-8")
    (folder / "opds" / "root.nav.atom").write_text(ROOT_FEED, encoding="utf-8")
    (folder / "opds" / "harbour-gazette.atom").write_text(ROOT_FEED.replace("Library", "Harbour"), encoding="utf-8")
    (folder / "opds" / "root.opds.json").write_text('{"metadata": {"title": "Library"}, "links": []}',
                                                    encoding="utf-8")
    (folder / "opds" / "opensearch.xml").write_text(
        '<?xml version="1.0"?><OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">'
        f'<Url type="{ACQUISITION}" template="/opds/search?q={{searchTerms}}"/></OpenSearchDescription>',
        encoding="utf-8")
    (folder / "opds" / "catalog.json").write_text(json.dumps(_catalog(files), ensure_ascii=False), encoding="utf-8")
    (folder / "style.css").write_text("body { margin: 0 }\n", encoding="utf-8")
    (folder / "shelf").mkdir()
    (folder / "shelf" / "index.html").write_text("<p>shelf</p>\n", encoding="utf-8")
    (folder / "bare").mkdir()
    (folder / "bare" / "note.txt").write_text("a folder without a page\n", encoding="utf-8")
    (folder / ".hidden").write_text("hidden\n", encoding="utf-8")
    (folder / "leak.txt").symlink_to(outside / "secret.txt")
    (folder / "leaked-folder").symlink_to(outside)
    (folder / "editions" / "same.epub").symlink_to(folder / files["harbour"])  # a link that stays inside
    shutil.copyfile(folder / files["zzrb"], folder / "editions" / "郑州日报 2012-07-06.epub")
    return folder


class Server:
    def __init__(self, process: subprocess.Popen, port: int, stderr: Path) -> None:
        self.process, self.port, self.stderr_path = process, port, stderr

    def request(self, method: str, path: str, headers: dict[str, str] | None = None):
        """One request with ``path`` sent exactly as given (no normalising); the response and its body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def raw(self, request_line: bytes) -> bytes:
        """Send bytes http.client would refuse to send; return the whole answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, str]:
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        return code, self.stderr_path.read_text(encoding="utf-8")


def start(folder: Path, tmp: Path, *options: str) -> Server:
    """``broadsheet serve FOLDER --port 0``, once it has said where it listens."""
    stderr = tmp / f"serve-{time.monotonic_ns()}.log"
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    environment.pop("BROADSHEET_DEBUG", None)
    process = subprocess.Popen([sys.executable, "-m", "broadsheet", "serve", str(folder), "--port", "0", *options],
                               stdout=subprocess.PIPE, stderr=stderr.open("w"), text=True, env=environment)
    ready, _, _ = select.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        process.kill()
        raise AssertionError(f"the server did not say where it listens: {line!r} {stderr.read_text()[-2000:]}")
    return Server(process, int(match.group(1)), stderr)


@pytest.fixture(scope="module")
def server(library, tmp_path_factory):
    running = start(library, tmp_path_factory.mktemp("serve-log"))
    yield running
    code, stderr = running.stop()
    assert code == 0 and "Traceback" not in stderr, stderr[-2000:]


def test_the_catalog_root_has_the_navigation_type(server, library):
    response, body = server.request("GET", "/opds/root.nav.atom")
    assert response.status == 200
    assert response.getheader("Content-Type") == NAVIGATION
    assert body == (library / "opds" / "root.nav.atom").read_bytes()
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("ETag") and response.getheader("Last-Modified")
    assert response.getheader("Accept-Ranges") == "bytes"


@pytest.mark.parametrize(("path", "kind"), [
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/opds/harbour-gazette.atom", ACQUISITION),
    ("/opds/root.opds.json", "application/opds+json"),
    ("/opds/opensearch.xml", "application/opensearchdescription+xml"),
    ("/editions/harbour-gazette-2026-11-20.epub", "application/epub+zip"),
    ("/editions/harbour-gazette-2026-11-20.pdf", "application/pdf"),
    ("/style.css", "text/css; charset=utf-8"),
])
def test_media_types(server, library, path, kind):
    response, body = server.request("GET", path)
    assert response.status == 200
    assert response.getheader("Content-Type") == kind
    assert body == (library / (path.lstrip("/") or "index.html")).read_bytes()


def test_an_epub_whole_and_through_a_link_that_stays_inside(server, library):
    epub = (library / "editions" / "zzrb-2012-07-06.epub").read_bytes()
    response, body = server.request("GET", "/editions/zzrb-2012-07-06.epub")
    assert response.status == 200 and body == epub
    assert response.getheader("Content-Length") == str(len(epub))
    response, body = server.request("GET", "/editions/same.epub")
    assert response.status == 200 and body == (library / "editions" / "harbour-gazette-2026-11-20.epub").read_bytes()


def test_a_name_in_chinese_with_a_space(server, library):
    from urllib.parse import quote

    response, body = server.request("GET", quote("/editions/郑州日报 2012-07-06.epub"))
    assert response.status == 200 and response.getheader("Content-Type") == "application/epub+zip"
    assert body == (library / "editions" / "zzrb-2012-07-06.epub").read_bytes()


def test_range_requests(server, library):
    epub = (library / "editions" / "harbour-gazette-2026-11-20.epub").read_bytes()
    path = "/editions/harbour-gazette-2026-11-20.epub"
    response, body = server.request("GET", path, {"Range": "bytes=100-1123"})
    assert response.status == 206
    assert body == epub[100:1124]
    assert response.getheader("Content-Range") == f"bytes 100-1123/{len(epub)}"
    assert response.getheader("Content-Type") == "application/epub+zip"
    response, body = server.request("GET", path, {"Range": "bytes=-64"})
    assert response.status == 206 and body == epub[-64:]
    response, body = server.request("GET", path, {"Range": f"bytes={len(epub)}-"})
    assert response.status == 416
    assert response.getheader("Content-Range") == f"bytes */{len(epub)}"
    response, _ = server.request("GET", path, {"Range": "bytes=0-9", "If-Range": '"another-etag"'})
    assert response.status == 200  # the file changed since: the whole of it


def test_conditional_get(server):
    path = "/opds/root.nav.atom"
    first, _ = server.request("GET", path)
    etag, modified = first.getheader("ETag"), first.getheader("Last-Modified")
    response, body = server.request("GET", path, {"If-None-Match": etag})
    assert response.status == 304 and body == b""
    assert response.getheader("ETag") == etag
    response, body = server.request("GET", path, {"If-Modified-Since": modified})
    assert response.status == 304 and body == b""
    response, _ = server.request("GET", path, {"If-None-Match": '"not-it"', "If-Modified-Since": modified})
    assert response.status == 200  # If-None-Match decides when it is sent
    response, _ = server.request("GET", path, {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert response.status == 200
    response, body = server.request("HEAD", path, {"If-None-Match": f'"x", {etag}'})
    assert response.status == 304


@pytest.mark.parametrize("path", [
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/opds/../../outside/secret.txt",
    "/..%2foutside%2fsecret.txt",
    "/%2e%2e%2foutside%2fsecret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/leak.txt",
    "/leaked-folder/secret.txt",
    "/leaked-folder/",
    "/.hidden",
    "/index.html%00",
    "/index.html%00.epub",
    "/opds%5c..%5c..%5coutside%5csecret.txt",
    "/bare/",
    "/bare",
    "/no-such-file.epub",
    "/index.html/",
])
def test_nothing_outside_the_library_and_no_listings(server, path):
    response, body = server.request("GET", path)
    assert response.status == 404, path
    assert SECRET.encode() not in body and b"root:" not in body and b"note.txt" not in body


@pytest.mark.parametrize("target", [b"/opds\\..\\..\\outside\\secret.txt", b"/../../outside/secret.txt",
                                    b"http://127.0.0.1/../outside/secret.txt"])
def test_raw_escapes(server, target):
    answer = server.raw(b"GET " + target + b" HTTP/1.1")
    assert answer.split(b"\r\n", 1)[0].split(b" ")[1] in (b"400", b"404"), answer[:200]
    assert SECRET.encode() not in answer


def test_a_folder_serves_its_page(server):
    response, body = server.request("GET", "/shelf/")
    assert response.status == 200 and body == b"<p>shelf</p>\n"
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    response, _ = server.request("GET", "/shelf?x=1")
    assert response.status == 301 and response.getheader("Location") == "/shelf/?x=1"


def test_head(server, library):
    size = (library / "editions" / "zzrb-2012-07-06.epub").stat().st_size
    response, body = server.request("HEAD", "/editions/zzrb-2012-07-06.epub")
    assert response.status == 200 and body == b""
    assert response.getheader("Content-Length") == str(size)
    assert response.getheader("Content-Type") == "application/epub+zip"
    assert response.getheader("ETag")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize("path", ["/", "/opds/search?q=x", "/../outside/secret.txt"])
def test_only_get_and_head(server, method, path):
    response, body = server.request(method, path)
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def _feed(body: bytes) -> ET.Element:
    return ET.fromstring(body)


@pytest.fixture(scope="module")
def published(demo_build, tmp_path_factory) -> Path:
    """The example editions in a library written by ``broadsheet publish``."""
    folder = tmp_path_factory.mktemp("published") / "library"
    shutil.copytree(demo_build, folder, ignore=shutil.ignore_patterns(".broadsheet-cache"))
    result = run_cli("publish", folder)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="module")
def published_server(published, tmp_path_factory):
    running = start(published, tmp_path_factory.mktemp("published-log"), "-q")
    yield running
    code, stderr = running.stop()
    assert code == 0 and stderr == "", stderr[-2000:]


def _acquired(server, url: str, entries) -> set[str]:
    """The files the entries' acquisition links lead to on ``server`` (relative to ``url``), each checked."""
    found = set()
    for entry in entries:
        for link in entry.links:
            target = urljoin(url, link.href)
            response, body = server.request("GET", urlsplit(target).path)
            assert response.status == 200, target
            if link.rel == OPEN_ACCESS:
                assert response.getheader("Content-Type") == link.type
                assert body[:4] in (b"PK\x03\x04", b"%PDF")
                found.add(unquote(urlsplit(target).path))
    return found


def test_search(published_server, published):
    """The answer is the static feeds' entries, and every link of them leads to the file."""
    import feedparser

    url = "/opds/search?q=harbour%20GAZETTE"
    response, body = published_server.request("GET", url)
    assert response.status == 200
    assert response.getheader("Content-Type") == ACQUISITION
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["The Harbour Gazette 2026-11-20"]
    static = ET.parse(published / "opds" / "latest.atom").getroot()
    (same,) = [e for e in static.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == parsed.entries[0].id]
    answered = _feed(body).find(f"{ATOM}entry")
    answered.tail = same.tail = None
    assert ET.tostring(answered) == ET.tostring(same)
    assert _acquired(published_server, url, parsed.entries) == {
        "/harbour-gazette-2026-11-20.epub", "/harbour-gazette-2026-11-20.pdf"}
    # by publication, in Chinese
    url = "/opds/search?q=%E9%83%91%E5%B7%9E"
    parsed = feedparser.parse(published_server.request("GET", url)[1])
    assert [e.title for e in parsed.entries] == ["郑州日报 2012-07-06"]
    assert _acquired(published_server, url, parsed.entries) == {"/zzrb-2012-07-06.epub", "/zzrb-2012-07-06.pdf"}
    response, body = published_server.request("GET", "/opds/search?q=nothing-like-this")
    assert response.status == 200 and _feed(body).findall(f"{ATOM}entry") == []


def test_opds2_search(published_server, published, tmp_path):
    """OPDS 2's search, which every OPDS 2 feed names: the Palace Project's parser reads the answer."""
    parser_module = pytest.importorskip("webpub_manifest_parser.opds2")
    root = json.loads((published / "opds" / "root.opds.json").read_text("utf-8"))
    (search,) = [link for link in root["links"] if link["rel"] == "search"]
    assert search["href"] == "search.opds.json{?query}" and search["templated"] is True
    url = "/opds/search.opds.json?query=%E9%83%91%E5%B7%9E"
    response, body = published_server.request("GET", url)
    assert response.status == 200 and response.getheader("Content-Type") == "application/opds+json"
    (tmp_path / "search.opds.json").write_bytes(body)
    result = parser_module.OPDS2FeedParserFactory().create().parse_file(str(tmp_path / "search.opds.json"))
    # relative links: RWPM wants the self link absolute, which only --base-url gives; nothing else is amiss
    assert all("must be an absolute URI" in str(e) for e in result.errors), [str(e) for e in result.errors]
    data = json.loads(body)
    assert [p["metadata"]["title"] for p in data["publications"]] == ["郑州日报 2012-07-06"]
    static = json.loads((published / "opds" / "latest.opds.json").read_text("utf-8"))
    assert data["publications"][0] in static["publications"]
    acquired = set()
    for link in data["publications"][0]["links"] + data["publications"][0]["images"]:
        target = urlsplit(urljoin(url, link["href"])).path
        response, _ = published_server.request("GET", target)
        assert response.status == 200 and response.getheader("Content-Type").startswith(link["type"]), target
        acquired.add(target)
    assert {"/zzrb-2012-07-06.epub", "/zzrb-2012-07-06.pdf"} <= acquired


def test_search_pages(published_server):
    import feedparser

    parsed = feedparser.parse(published_server.request("GET", "/opds/search?q=2&page=99999999999")[1])
    assert not parsed.bozo and len(parsed.entries) == 2
    rels = {link.rel for link in parsed.feed.links}
    assert {"self", "start", "first", "last", "search"} <= rels and "next" not in rels


def test_search_escapes_everything(server):
    import feedparser

    response, body = server.request("GET", "/opds/search?q=%3Cscript%3E%22%26%00")
    assert response.status == 200
    feed = _feed(body)  # well-formed
    assert feed.findtext(f"{ATOM}title") == 'Odd <Library>: <script>"&'
    assert b"<script>" not in body
    response, body = server.request("GET", "/opds/search?q=odd")
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    # the entry not well formed, the feed that is no entry and the edition without one are left out
    assert [e.title for e in parsed.entries] == ['<b>Tags & "quotes"</b>', "Odd  entity"]
    assert [link.href for link in parsed.entries[0].links] == ["../editions/harbour-gazette-2026-11-20.epub"]
    assert b"javascript" not in body.lower() and b"file:" not in body and b"<!--" not in body
    response, body = server.request("GET", "/opds/search.opds.json?query=odd")
    data = json.loads(body)
    assert [p["metadata"]["title"] for p in data["publications"]] == ["<b>Tags</b>"]
    assert [link["href"] for link in data["publications"][0]["links"]] == ["../editions/harbour-gazette-2026-11-20.epub"]
    assert data["publications"][0]["images"] == []


def test_a_catalog_missing_or_malformed(published, tmp_path):
    """Not JSON: an empty feed and a warning; read again once it changes; no catalog: 404."""
    folder = tmp_path / "library"
    (folder / "opds").mkdir(parents=True)
    (folder / "index.html").write_text("<p>library</p>\n", encoding="utf-8")
    catalog = folder / "opds" / "catalog.json"
    catalog.write_text("{not json", encoding="utf-8")
    running = start(folder, tmp_path, "-q")
    try:
        for path in ("/opds/search?q=harbour", "/opds/search.opds.json?query=harbour"):
            response, body = running.request("GET", path)
            assert response.status == 200, body
            assert b"Harbour" not in body and b"<entry" not in body
        assert json.loads(body)["publications"] == []
        catalog.write_bytes((published / "opds" / "catalog.json").read_bytes())
        response, body = running.request("GET", "/opds/search?q=harbour")
        assert response.status == 200 and len(_feed(body).findall(f"{ATOM}entry")) == 1
        catalog.write_text('{"editions": {"not": "a list"}}', encoding="utf-8")
        response, body = running.request("GET", "/opds/search?q=harbour")
        assert response.status == 200 and _feed(body).findall(f"{ATOM}entry") == []
        catalog.unlink()
        response, body = running.request("GET", "/opds/search.opds.json?query=harbour")
        assert response.status == 404 and b"broadsheet publish" in body
    finally:
        code, stderr = running.stop()
    assert code == 0 and "Traceback" not in stderr, stderr[-2000:]
    assert stderr.count("not valid JSON") == 2, stderr


def test_stopping_is_clean_and_quiet_is_quiet(library, tmp_path):
    for signum in (signal.SIGINT, signal.SIGTERM):
        running = start(library, tmp_path, "-q")
        response, _ = running.request("GET", "/opds/root.nav.atom")
        assert response.status == 200
        code, stderr = running.stop(signum)
        assert code == 0, stderr
        assert stderr == ""  # no traceback, and no line per request with -q


def test_stopping_during_downloads_is_clean(tmp_path):
    """A reader that hangs up mid-download costs nothing; one still downloading when the server is stopped is
    cut off after a short grace, and the stop is still exit status 0 without a traceback."""
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "index.html").write_text("<p>library</p>\n", encoding="utf-8")
    with (folder / "big.epub").open("wb") as big:
        big.truncate(200 * 1024 * 1024)  # sparse: read as zeros, no disk used
    running = start(folder, tmp_path)
    try:
        for _ in range(2):
            hung_up = socket.create_connection(("127.0.0.1", running.port), timeout=30)
            hung_up.sendall(b"GET /big.epub HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert hung_up.recv(1024).startswith(b"HTTP/1.1 200")
            hung_up.close()
        response, _ = running.request("GET", "/")
        assert response.status == 200
        slow = socket.create_connection(("127.0.0.1", running.port), timeout=30)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(b"GET /big.epub HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert slow.recv(1024).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        code, stderr = running.stop(signal.SIGTERM)
        slow.close()
    finally:
        if running.process.poll() is None:
            running.process.kill()
    assert code == 0, stderr
    assert "Traceback" not in stderr and "Error" not in stderr.replace("graceful", ""), stderr[-2000:]
    assert time.monotonic() - started < 20


def test_access_log_names_each_request(server):
    server.request("GET", "/opds/root.nav.atom?from=log-test")
    deadline = time.monotonic() + 10
    while "log-test" not in server.stderr_path.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(line for line in server.stderr_path.read_text(encoding="utf-8").splitlines() if "log-test" in line)
    assert "GET /opds/root.nav.atom?from=log-test" in line and " 200" in line


def test_no_library_is_one_line(tmp_path):
    result = run_cli("serve", tmp_path, timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "broadsheet publish" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_line(library):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = run_cli("serve", library, "--port", taken.getsockname()[1], timeout=120)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot listen on 127.0.0.1:" in result.stderr


def test_unit_pieces():
    from broadsheet.serve import _is_loopback, media_type, safe_parts

    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("127.8.9.1")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.20") and not _is_loopback("::")
    assert media_type("root.nav.atom") == NAVIGATION and media_type("a.ATOM") == ACQUISITION
    assert media_type("x.bin") == "application/octet-stream"
    assert safe_parts("/a/b/") == ["a", "b", ""] and safe_parts("/") == [""]
    for bad in ("/a/../b", "/./a", "//a", "/a\\b", "/a\x00", "/a\r\nb", "relative", "/.git/config"):
        assert safe_parts(bad) is None, bad
    from broadsheet.publish.opds import search_feed

    for nonsense in ([{"title": "paper"}], {"editions": "nonsense"}, "text", None, {"editions": [{"title": "paper",
                     "atom_entry": "<entry xmlns='http://www.w3.org/2005/Atom'><title>\ud800</title></entry>",
                     "opds2": {"metadata": {"title": "\ud800 paper"}}}]}):
        assert ET.fromstring(search_feed(nonsense, "paper\x01\ud800")).findall(f"{ATOM}entry") == []
        json.loads(search_feed(nonsense, "paper", opds2=True, page=-3))


@pytest.mark.parametrize(("host", "status"), [
    ("evil.example", 403), ("evil.example:8080", 403), ("127.0.0.1.evil.example", 403),
    ("localhost", 200), ("127.0.0.1:8080", 200), ("[::1]:8080", 200)])
def test_a_loopback_server_answers_only_to_loopback_host_names(server, host, status):
    """DNS rebinding: a page whose name points at 127.0.0.1 cannot read the library through a browser here."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("GET", "/opds/root.nav.atom", skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == status
