"""Every XHTML document of the example EPUBs opens in headless Chromium without an error.

Chromium is driven by the DevTools protocol over a pipe (tests/chromium_cdp.py says what counts
as an error); the unzipped books are served on 127.0.0.1.  Besides the two examples as built by
default, the Chinese one is built vertical, in Taiwan traditional, with embedded fonts: its fonts
must pass Chromium's OpenType sanitiser and load, its pages must be set vertical-rl.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from chromium_cdp import Chromium, Server, chromium_binary
from conftest import EN_EXAMPLE, ROOT, ZH_EXAMPLE, run_cli

if chromium_binary() is None:
    pytest.skip("chromium is not installed (apt-get install chromium; scripts/install-system-deps installs it)",
                allow_module_level=True)

pytestmark = pytest.mark.slow
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf"}
BOOKS = {
    "zh": ("zzrb-2012-07-06.epub", ()),
    "en": ("harbour-gazette-2026-11-20.epub", ()),
    "zh-vertical": ("zzrb-2012-07-06.epub", ("--writing-mode", "vertical", "--embed-fonts", "--convert", "s2tw")),
}


@pytest.fixture(scope="module")
def books(tmp_path_factory, assert_valid_epub) -> dict[str, Path]:
    """Build the books and unzip each; return the folder of each book's package document."""
    out = tmp_path_factory.mktemp("chromium")
    result = run_cli("build", ZH_EXAMPLE, EN_EXAMPLE, "-f", "epub", "--out", out / "default")
    assert result.returncode == 0, result.stderr
    result = run_cli("build", ZH_EXAMPLE, "-f", "epub", *BOOKS["zh-vertical"][1], "--out", out / "vertical")
    assert result.returncode == 0, result.stderr
    folders = {}
    for key, (name, options) in BOOKS.items():
        folder = out / "unzipped" / key
        book = out / ("vertical" if options else "default") / name
        assert_valid_epub(book)
        with zipfile.ZipFile(book) as archive:
            archive.extractall(folder)
        folders[key] = folder / "EPUB"
    return folders


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def documents(folder: Path) -> list[str]:
    opf = etree.parse(str(folder / "content.opf"), STRICT)
    return [item.get("href") for item in opf.getroot().find("opf:manifest", NS)
            if item.get("media-type") == "application/xhtml+xml"]


@pytest.mark.parametrize("book", sorted(BOOKS))
def test_every_document_loads_without_errors(books, browser, book):
    server = Server(books[book])
    try:
        names = documents(books[book])
        assert len(names) >= 4
        problems = {}
        for name in names:
            errors = browser.load(server.base + name)
            if errors:
                problems[name] = errors
            # the page is the XHTML document, with its stylesheet applied
            assert browser.evaluate("document.documentElement.namespaceURI") == "http://www.w3.org/1999/xhtml"
            assert browser.evaluate("document.styleSheets.length") >= 1
        assert not problems, problems
    finally:
        server.close()


def test_vertical_book_in_chromium(books, browser):
    folder = books["zh-vertical"]
    article = next(n for n in documents(folder) if 'class="article-page"' in (folder / n).read_text("utf-8"))
    server = Server(folder)
    try:
        assert browser.load(server.base + article, viewport=(800, 1000)) == []
        assert browser.evaluate("getComputedStyle(document.documentElement).writingMode") == "vertical-rl"
        assert browser.evaluate("document.documentElement.lang") == "zh-TW"
        upright = browser.evaluate("[...document.querySelectorAll('.tcy')].map(e => getComputedStyle(e)"
                                   ".textCombineUpright)")
        assert upright and set(upright) == {"all"}
        # the embedded faces: none failed, and the body face was used and loaded
        fonts = browser.evaluate("[...document.fonts].map(f => [f.family, f.weight, f.status])")
        assert not [f for f in fonts if f[2] == "error"], fonts
        assert ["Embedded Noto Serif CJK TC", "normal", "loaded"] in fonts, fonts
        family = browser.evaluate("getComputedStyle(document.querySelector('.article-body p')).fontFamily")
        assert family.startswith('"Embedded Noto Serif CJK TC"'), family
    finally:
        server.close()


def test_vertical_screenshot_is_committed_and_small():
    shot = ROOT / "docs" / "screenshots" / "vertical.png"
    assert shot.is_file() and shot.stat().st_size < 200_000
    assert (ROOT / "scripts" / "vertical-screenshot").is_file()
