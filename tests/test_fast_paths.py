"""The quick ways give the answers of the plain ones: font coverage cache, the language model's cache,
parallel pictures, libyaml."""

from __future__ import annotations

import io
import os
import random
import subprocess

import pytest
import yaml
from PIL import Image

from broadsheet.backends.epub import pictures as epub_images
from broadsheet.backends.epub.pictures import PictureLimits, _prepare_all
from broadsheet.errors import ConfigError
from broadsheet.ingest import langmodel
from broadsheet.ingest.encoding import looks_binary
from broadsheet.ingest.markdown import _load_yaml, parse_front_matter
from broadsheet.render import Asset, fonts


# --- the font coverage cache ----------------------------------------------------------------

@pytest.fixture
def coverage_cache(tmp_path, monkeypatch):
    """An empty coverage cache of its own; the answer in memory is forgotten before and after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fonts._coverage.cache_clear()
    yield tmp_path / "broadsheet" / "fonts"
    fonts._coverage.cache_clear()


def merged_afresh() -> tuple[list[int], list[int]]:
    listing = subprocess.run(["fc-list", "--format", "%{charset}\n"], capture_output=True, check=True).stdout
    return fonts._merge(listing.decode("ascii"))


def test_coverage_is_cached_and_read_back(coverage_cache):
    fresh = fonts._coverage()
    assert fresh == merged_afresh()
    (cached,) = coverage_cache.glob("coverage-*.bin")
    fonts._coverage.cache_clear()
    assert fonts._coverage() == fresh
    assert fonts.missing_characters("郑州日报 The Gazette \U0010fffd") == ["\U0010fffd"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "odd length"])
def test_a_damaged_cache_is_ignored_and_written_again(coverage_cache, damage):
    fresh = fonts._coverage()
    (cached,) = coverage_cache.glob("coverage-*.bin")
    good = cached.read_bytes()
    damaged = {"flip": good[:-1] + bytes([good[-1] ^ 0xFF]), "truncate": good[: len(good) // 2], "empty": b"",
               "odd length": good + b"\x00"}[damage]
    cached.write_bytes(damaged)
    fonts._coverage.cache_clear()
    assert fonts._coverage() == fresh
    assert cached.read_bytes() == good


def test_the_cache_of_other_fonts_is_never_read(coverage_cache):
    fresh = fonts._coverage()
    (cached,) = coverage_cache.glob("coverage-*.bin")
    fonts._write_cached("0" * 64, [0x20], [0x7E])  # well formed, made from some other listing
    assert not cached.exists()  # the other listing's cache replaced this one
    fonts._coverage.cache_clear()
    assert fonts._coverage() == fresh
    assert sorted(p.name for p in coverage_cache.glob("coverage-*.bin")) == [cached.name]


def test_an_unwritable_cache_is_no_fault(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    fonts._coverage.cache_clear()
    try:
        assert fonts._coverage() == merged_afresh()
    finally:
        fonts._coverage.cache_clear()


# --- the language identifier's model, kept decompressed -------------------------------------

#: Texts in several scripts and languages, some short, one empty, one of markup only.
TEXTS = ["The council met on Tuesday to discuss the new budget for the city's schools.",
         "Der Stadtrat hat am Dienstag über den neuen Haushalt der Schulen beraten.",
         "Le conseil municipal s'est réuni mardi pour discuter du budget des écoles.",
         "El ayuntamiento se reunió el martes para hablar del presupuesto escolar.",
         "Городской совет во вторник обсудил новый бюджет школ.", "Η κυβέρνηση ανακοίνωσε νέα μέτρα.",
         "مجلس المدينة ناقش الميزانية الجديدة", "सरकार ने नए उपायों की घोषणा की", "政府宣布了新的措施", "x", "",
         "<p>&amp;</p>", "Kommunestyret diskuterte budsjettet for skolene på tirsdag."]


@pytest.fixture(scope="module")
def reference():
    """py3langid's identifier as it reads its own model file, and what it says of each text."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return identifier, [identifier.rank(text) for text in TEXTS]


@pytest.fixture
def model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "broadsheet" / "langid"


def test_the_language_model_is_kept_and_read_back_without_decompressing(model_cache, reference, monkeypatch):
    identifier = langmodel.load_identifier()
    assert [identifier.rank(text) for text in TEXTS] == reference[1]
    (cached,) = model_cache.glob("model-*.bin")

    def decompress(*args):
        raise AssertionError("the model file was read again")

    monkeypatch.setattr("py3langid.modelio.load_model", decompress)
    identifier = langmodel.load_identifier()
    assert [identifier.rank(text) for text in TEXTS] == reference[1]
    assert [identifier.classify(text) for text in TEXTS] == [reference[0].classify(text) for text in TEXTS]


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_language_model_is_ignored_and_written_again(model_cache, reference, damage):
    langmodel.load_identifier()
    (cached,) = model_cache.glob("model-*.bin")
    good = cached.read_bytes()
    middle = len(good) // 2
    cached.write_bytes(good[:middle] + bytes([good[middle] ^ 0x01]) + good[middle + 1:] if damage == "flip"
                       else good[:middle])
    identifier = langmodel.load_identifier()
    assert [identifier.rank(text) for text in TEXTS] == reference[1]
    assert cached.read_bytes() == good


def test_a_language_model_leading_out_of_its_arrays_is_not_used(model_cache, reference):
    from array import array

    identifier = reference[0]
    for name in ("nextmove", "output", "row"):
        nextmove, row, output = array("I", identifier.tk_nextmove), array("H", identifier.tk_row), array(
            "i", identifier.tk_output)
        if name == "nextmove":
            nextmove[300] = len(row)  # a state past the last
        elif name == "output":
            output[7] = len(identifier.nb_ptc)  # a feature past the last
        else:
            row[5] = len(nextmove) // 256  # a row of moves past the last
        langmodel._write_cached("1" * 64, identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes, nextmove,
                                row, output)
        assert (model_cache / f"model-{'1' * 64}.bin").exists()  # well formed, its digest right
        assert langmodel._read_cached("1" * 64) is None
    langmodel._write_cached("2" * 64, identifier.nb_ptc, identifier.nb_pc, identifier.nb_classes,
                            identifier.tk_nextmove, identifier.tk_row, identifier.tk_output)
    assert langmodel._read_cached("2" * 64) is not None  # the same arrays, unchanged, are used


def test_an_unwritable_language_model_cache_is_no_fault(tmp_path, monkeypatch, reference):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    identifier = langmodel.load_identifier()
    assert [identifier.rank(text) for text in TEXTS] == reference[1]


# --- pictures made in parallel ----------------------------------------------------------------

def some_pictures(count: int) -> list[Asset]:
    rng = random.Random(7)
    pictures = []
    for n in range(count):
        kind = ("JPEG", "PNG", "GIF", "WEBP")[n % 4]
        size = (rng.randrange(200, 2400), rng.randrange(200, 2400))
        image = Image.new("RGBA" if kind in ("PNG", "WEBP") else "RGB", size,
                          tuple(rng.randrange(256) for _ in range(3)))
        image.paste((20, 20, 200), (0, 0, size[0] // 2, size[1] // 3))
        out = io.BytesIO()
        if kind == "JPEG":
            exif = Image.Exif()
            exif[0x0112] = 1 + n % 8  # every EXIF orientation
            image.save(out, kind, quality=90, exif=exif)
        else:
            image.convert("P" if kind == "GIF" else image.mode).save(out, kind)
        media_type = f"image/{kind.lower()}"
        pictures.append(Asset(name=f"images/p{n}.{kind.lower()}", id=f"p{n}", media_type=media_type,
                              data=out.getvalue()))
    pictures.append(Asset(name="images/broken.jpg", id="broken", media_type="image/jpeg", data=b"\xff\xd8\xffnot"))
    return pictures


@pytest.mark.parametrize("threads", [1, 2], ids=["forked", "by-a-zygote"])
def test_pictures_made_in_parallel_are_those_made_one_by_one(monkeypatch, threads):
    pictures = some_pictures(epub_images.PARALLEL_PICTURES + 3)
    limits = PictureLimits(long_side=1000, quality=75)
    def made(jobs: int) -> list:  # why a picture could not be made names an object: not compared
        return [m if isinstance(m, tuple) else m.split(" <")[0] for m in _prepare_all(pictures, limits, jobs)]

    one_by_one = made(1)
    # processes are forked only from a process without other threads; else a zygote started afresh forks them
    monkeypatch.setattr(epub_images.threading, "active_count", lambda: threads)
    assert made(2) == one_by_one
    assert one_by_one[-1] == "cannot identify image file"  # the broken picture: why it could not be made
    assert all(isinstance(made, tuple) for made in one_by_one[:-1])


# --- YAML front matter and binary files -----------------------------------------------------

FRONT_MATTERS = [
    "title: A fine day\ntags: [a, b]\norder: 3", "date: 2024-01-01\npage: 01", "title: '郑州日报'\nauthor:\n  - 甲\n  - 乙",
    "a: &x [1, 2]\nb: *x", "x: 1e3\ny: yes\nz: ~\nw: 0o17\nv: 017\nt: 12:30:00", "title: >\n  folded\n  text",
    "", "# only a comment", "k: 2001-12-14t21:59:43.10-05:00", "title: \"\\u00e9\\t\"",
]
MALFORMED = ["title: [unclosed", "title: [", "a: b: c", "title: 'a'\n\ttab: 1", "title: x\n- y", 'a: "open']


@pytest.mark.parametrize("text", FRONT_MATTERS)
def test_front_matter_values_are_pyyaml_s(text):
    assert _load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", MALFORMED)
def test_front_matter_faults_are_told_in_pyyaml_s_words(text):
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        _load_yaml(text)
    assert str(got.value) == str(expected.value)


def test_front_matter_nested_too_deep_is_malformed_not_a_crash(tmp_path):
    text = "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\nBody\n"
    with pytest.raises(ConfigError, match="malformed front matter"):
        parse_front_matter(text, tmp_path / "a.md")


def test_binary_detection_counts_the_same_control_bytes():
    from broadsheet.ingest.encoding import _NOT_CONTROL

    for byte in range(256):  # a control byte is what text does not hold: below 32 but \t \n \v \f \r and ESC
        control = byte < 9 or 13 < byte < 32 and byte != 27
        assert (bytes([byte]).translate(None, _NOT_CONTROL) == bytes([byte])) is control, byte
    assert looks_binary(b"text " * 100 + b"\x01\x02" * 60) and not looks_binary(b"text\x1b[1m bold\n" * 100)


# --- the e-paper families' markers, searched only where their needles are -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from broadsheet.ingest.epaper import site as epaper_site  # noqa: E402
from broadsheet.ingest.epaper.layouts import GENERIC, LAYOUTS  # noqa: E402

MARKERS = [(marker, needles) for layout in (*LAYOUTS, GENERIC)
           for marker, needles in zip(layout.markers, layout.marker_needles, strict=True)]


def test_every_marker_has_its_needles():
    assert MARKERS and all(needles and all(n == n.lower() for n in needles) for _, needles in MARKERS)
    assert sum(len(layout.markers) for layout in (*LAYOUTS, GENERIC)) == len(MARKERS)


@pytest.mark.parametrize("marker, needles", MARKERS, ids=[m for m, _ in MARKERS])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_text_a_marker_matches_holds_one_of_its_needles(marker, needles, data):
    """Texts the marker matches (ignoring case, with what surrounds it): the quick search finds the family too."""
    import re

    pattern = re.compile(marker, re.I)
    text = data.draw(st.from_regex(pattern))
    assert pattern.search(text)
    assert epaper_site.shows_a_family(text), (marker, text)


def _first_family_searched_whole(text: str):
    """The layout guess as it was: each family's markers searched in the whole text, ignoring case."""
    import re

    return next((layout for layout in LAYOUTS if any(re.search(m, text, re.I) for m in layout.markers)), None)


@pytest.mark.parametrize("marker", [m for layout in LAYOUTS for m in layout.markers])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_the_page_s_family_is_the_one_a_search_of_the_whole_text_finds(marker, data):
    """A page whose path names no family is read with the first family whose marker its markup shows: the
    quick search (``family_shown``) answers as a search of the whole text for each marker, also for a text
    that shows two families (another marker drawn beside it)."""
    import re

    from broadsheet.ingest.epaper.layouts import family_shown

    text = data.draw(st.from_regex(re.compile(marker, re.I)))
    other = data.draw(st.sampled_from([m for layout in LAYOUTS for m in layout.markers]))
    both = text + data.draw(st.from_regex(re.compile(other, re.I)))
    for sample in (text, both, text.swapcase(), "<p>" + text[::-1]):
        assert family_shown(sample) is _first_family_searched_whole(sample), sample


@pytest.mark.parametrize("text", ['<div ID = "PAGELİNK">', "<img usemap='#pagepicmap'>", "nbſ.D123456",
                                  "<!--  ENPCONTENT-->", "x/pc/layout/202401/", "id=pagelin\u212a"])
def test_what_a_case_blind_search_takes_for_a_letter_is_found(text):
    import re

    assert any(re.search(marker, text, re.I) for marker, _ in MARKERS)
    assert epaper_site.shows_a_family(text)
    assert not epaper_site.shows_a_family(text.replace("/pc/", "/p/").replace("a", "e").replace("D", "x")
                                          .replace("ENP", "EMP"))


# --- pypinyin's tables, out of the collector's reach ---------------------------------------------------------

_PINYIN = r"""
import gc
from broadsheet.ingest.base import publication_id

before = gc.get_freeze_count()
first = publication_id("郑州日报")
after = gc.get_freeze_count()
second = publication_id("重庆日报")
print(first, second, after - before, gc.get_freeze_count() - after)
"""

_ARTICLE = r"""
import gc, sys
from pathlib import Path
from broadsheet.ingest import article
from broadsheet.ingest.base import Context

page = Path(sys.argv[1])
before = gc.get_freeze_count()
first = article.load(page, Context(root=page.parent))
after = gc.get_freeze_count()
second = article.load(page, Context(root=page.parent))
print(first[0].sections[0].articles[0].title == second[0].sections[0].articles[0].title, after - before,
      gc.get_freeze_count() - after)
"""


def test_pinyin_s_tables_are_out_of_the_collector_s_reach():
    """A Chinese title's id (its pinyin's initials, by pypinyin): the tables pypinyin loads, some 150,000
    objects, are moved out of the cyclic collector's reach once, so that no full collection walks them again."""
    import sys

    result = subprocess.run([sys.executable, "-c", _PINYIN], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    first, second, frozen, again = result.stdout.split()
    assert (first, second) == ("zzrb", "cqrb")  # 重庆: chong, the phrase's reading, not zhong
    assert int(frozen) > 100_000 and int(again) == 0


def test_the_article_reader_s_tables_are_out_of_the_collector_s_reach():
    import sys
    from pathlib import Path

    page = sorted((Path(__file__).parent / "fixtures" / "articles").glob("*.html"))[0]
    result = subprocess.run([sys.executable, "-c", _ARTICLE, str(page)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    same, frozen, again = result.stdout.split()
    assert same == "True" and int(frozen) > 50_000 and int(again) == 0


_BUILD = r"""
import gc, sys
from pathlib import Path
from broadsheet import pipeline

before = gc.get_freeze_count()
written = pipeline.build([Path(sys.argv[1])], formats=["epub"], out=Path(sys.argv[2]), cache=False)
print(len(written), gc.get_freeze_count() - before)
"""


def test_a_build_moves_its_model_out_of_the_collector_s_reach_once_read(tmp_path):
    """The model read by a build is out of the collector's reach while it is typeset, rendered and packed; the
    EPUB is the same as a build's in a process that never freezes anything (the watch mode's way)."""
    import sys
    from pathlib import Path

    source = Path(__file__).parent / "fixtures" / "dumps" / "founder-front-page.txt"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    result = subprocess.run([sys.executable, "-c", _BUILD, str(source), str(tmp_path / "frozen")], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    written, frozen = result.stdout.split()
    assert written == "1" and int(frozen) > 100_000
    plain = subprocess.run([sys.executable, "-c", "import gc, sys; gc.freeze = lambda: None; sys.argv[0] = 'broadsheet';"
                            " from broadsheet.cli import main; main()", "build", str(source), "-o",
                            str(tmp_path / "plain"), "-f", "epub", "-q", "--no-cache"], capture_output=True, text=True,
                           timeout=120, env=env)
    assert plain.returncode == 0, plain.stderr
    (one,), (other,) = (tmp_path / "frozen").glob("*.epub"), (tmp_path / "plain").glob("*.epub")
    assert one.read_bytes() == other.read_bytes()
