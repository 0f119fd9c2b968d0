"""--embed-fonts: the faces the EPUB stylesheet names, subset to exactly the characters they draw."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from lxml import etree

from conftest import epub_files, run_cli

from broadsheet.render.embed import FALLBACK, Face, faces_by_text, font_face_file, subset_font

TTLib = pytest.importorskip("fontTools.ttLib")
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf"}
SERIF_SC, SANS_SC = Face("Noto Serif CJK SC", False), Face("Noto Sans CJK SC", True)
SERIF_SC_BOLD, SERIF = Face("Noto Serif CJK SC", True), Face("Noto Serif", False)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """A Chinese paper with one Chinese and one English article, built with --embed-fonts."""
    if font_face_file("Noto Serif CJK SC", False) is None:
        pytest.skip("Noto Serif CJK is not installed (apt-get install fonts-noto-cjk)")
    root = tmp_path_factory.mktemp("embed")
    write(root / "pub/broadsheet.toml", "[publication]\ntitle = '晨报'\nlanguage = 'zh-CN'\nid = 'cb'\n")
    write(root / "pub/2024-05-01/issue.toml", "date = 2024-05-01\nsections = [{ name = '要闻', page = '1' }]\n")
    write(root / "pub/2024-05-01/a.md", "---\ntitle: 晨光\nsection: 要闻\norder: 1\n---\n\n"
                                        "甲乙丙。**丁**\n\n## 犇骉\n\n戊己庚。\n")
    write(root / "pub/2024-05-01/b.md", "---\ntitle: Quayside\nsection: 要闻\norder: 2\nlang: en-GB\n---\n\n"
                                        "Zebra quartz, *jumping*.\n")
    out = root / "out"
    result = run_cli("build", root / "pub", "-f", "epub", "--embed-fonts", "-v", "--out", out)
    assert result.returncode == 0, result.stderr
    return out / "cb-2024-05-01.epub", result.stderr


def _fonts(files):
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    return {item.get("href"): item.get("media-type") for item in opf.find("opf:manifest", NS)
            if item.get("href").startswith("fonts/")}


def _cmap(data: bytes) -> set[str]:
    with TTLib.TTFont(io.BytesIO(data)) as font:
        return {chr(c) for c in font.getBestCmap()}


def _original_cmap(face: Face) -> set[str]:
    path, number = font_face_file(face.family, face.bold)
    with TTLib.TTFont(path, fontNumber=number, lazy=True) as font:
        return {chr(c) for c in font.getBestCmap()}


def test_fonts_in_the_manifest(embedded):
    path, _ = embedded
    files = epub_files(path)
    fonts = _fonts(files)
    for face, kind in ((SERIF_SC, "otf"), (SANS_SC, "otf"), (SERIF_SC_BOLD, "otf"), (SERIF, "ttf")):
        assert fonts.get(f"fonts/{face.slug}.{kind}") == f"font/{kind}", fonts
    for href in fonts:
        assert "EPUB/" + href in files
    css = files["EPUB/styles/style.css"].decode("utf-8")
    for href, media_type in fonts.items():
        assert f'url("../{href}")' in css
    assert '"Embedded Noto Serif CJK SC", "Noto Serif CJK SC"' in css
    assert '"Embedded Noto Serif", "Noto Serif"' in css
    assert css.count("@font-face") == len(fonts)


def test_each_font_covers_exactly_what_it_draws(embedded):
    path, _ = embedded
    files = epub_files(path)
    documents = [data for name, data in files.items() if name.endswith(".xhtml")]
    used = faces_by_text(documents, files["EPUB/styles/style.css"].decode("utf-8"))
    cmaps = {}
    for href in _fonts(files):
        face = next(f for f in used if href.startswith(f"fonts/{f.slug}."))
        original = _original_cmap(face)
        cmaps[face] = _cmap(files["EPUB/" + href])
        assert cmaps[face] == (used[face] & original) | (FALLBACK & original), face
    assert set(cmaps) == set(used)
    # the subhead is set in the headline face only, the body text in the body face only
    assert set("犇骉") <= cmaps[SANS_SC] and not set("犇骉") & cmaps[SERIF_SC]
    assert set("甲乙丙戊己庚") <= cmaps[SERIF_SC] and not set("甲乙丙戊己庚") & cmaps[SANS_SC]
    assert "丁" in cmaps[SERIF_SC_BOLD]  # **丁**
    assert set("Zebraqutz") <= cmaps[SERIF]
    # every character of every document's body is in an embedded font
    text = set()
    for data in documents:
        body = etree.fromstring(data, STRICT).find("{http://www.w3.org/1999/xhtml}body")
        text |= {c for c in "".join(body.itertext()) if unicodedata.category(c)[0] not in "CZ"}
    assert text <= set().union(*cmaps.values())
    # and the fallback set is there even where unused
    for cmap in cmaps.values():
        assert set("0123456789") <= cmap


def test_epubcheck_accepts_the_fonts(embedded, assert_valid_epub):
    assert_valid_epub(embedded[0])


def test_the_size_cost_is_reported(embedded):
    _, stderr = embedded
    assert re.search(r"晨报 2024-05-01: embedded fonts add \d+ KB \(.*Noto Serif CJK SC regular \d+ KB", stderr), stderr


def test_subsets_are_the_same_bytes_every_run():
    path, number = font_face_file("Noto Serif CJK SC", False)
    first, kind = subset_font(path, number, "以创新精神")
    second, _ = subset_font(path, number, "以创新精神")
    assert kind == "otf" and first == second
    with TTLib.TTFont(io.BytesIO(first)) as subset, TTLib.TTFont(path, fontNumber=number, lazy=True) as full:
        assert subset["head"].modified == full["head"].modified  # not the time of the build
        assert "vert" in {r.FeatureTag for r in subset["GSUB"].table.FeatureList.FeatureRecord}
        assert "vmtx" in subset  # vertical metrics, for --writing-mode vertical


def test_no_fonts_without_the_option(tmp_path):
    from conftest import ZH_EXAMPLE

    result = run_cli("build", ZH_EXAMPLE, "-f", "epub", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    files = epub_files(tmp_path / "zzrb-2012-07-06.epub")
    assert not _fonts(files)
    assert "@font-face" not in files["EPUB/styles/style.css"].decode("utf-8")
    # nor anything of the vertical edition: horizontal is the default
    assert "vertical-rl" not in files["EPUB/styles/style.css"].decode("utf-8")
    assert not any(b'class="tcy"' in data for name, data in files.items() if name.endswith(".xhtml"))
    assert b"page-progression-direction" not in files["EPUB/content.opf"]
