"""EPUB pictures for e-readers, the --max-size budget and the device profiles (--profile)."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image
from PIL.ExifTags import IFD

from conftest import epub_files, run_cli

NS = {"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "ncx": "http://www.daisy.org/z3986/2005/ncx/"}
EPUB_NAME = "pictures-2026-03-02.epub"


def write_edition(root: Path, pictures: dict[str, bytes]) -> Path:
    """A publication folder with one issue: one article per picture, in two sections."""
    (root / "broadsheet.toml").write_text(
        '[publication]\ntitle = "Picture Post"\nlanguage = "en-GB"\npublisher = "Picture Post Ltd"\n'
        'id = "pictures"\n', encoding="utf-8")
    issue = root / "2026-03-02"
    issue.mkdir(parents=True)
    (issue / "issue.toml").write_text(
        'date = 2026-03-02\nnumber = "7"\nsections = [{ name = "News", page = "A1" }, '
        '{ name = "Pictures", page = "B1" }]\n', encoding="utf-8")
    for index, (name, data) in enumerate(pictures.items(), start=1):
        (issue / name).write_bytes(data)
        section = "News" if index % 2 else "Pictures"
        (issue / f"{index:02d}-story.md").write_text(
            f"---\ntitle: Story {index} with a picture\nsection: {section}\norder: {index}\n---\n\n"
            f"The harbour at dawn, seen from the pier, story {index}.\n\n"
            f"![Picture {index}]({name} \"Caption {index}\")\n\nMore text after the picture.\n",
            encoding="utf-8")
    return root


def photo_with_exif() -> bytes:
    """4000×3000, left half red and right half blue, EXIF orientation 6, camera and GPS tags."""
    image = Image.new("RGB", (4000, 3000), (220, 20, 20))
    image.paste((20, 20, 220), (2000, 0, 4000, 3000))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif.get_ifd(IFD.GPSInfo).update({1: "N", 2: (57.0, 40.0, 12.0), 3: "W", 4: (6.0, 11.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif, progressive=True)
    return out.getvalue()


def png_with_alpha() -> bytes:
    image = Image.new("RGBA", (2400, 1200), (30, 90, 160, 255))
    image.putalpha(Image.linear_gradient("L").resize((2400, 1200)))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=_text_chunk())
    return out.getvalue()


def _text_chunk():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "A photographer")
    info.add_text("Comment", "shot on the pier")
    return info


def small_gif() -> bytes:
    image = Image.new("P", (60, 40), 1)
    image.putpalette([255, 255, 255, 200, 30, 30, 30, 30, 200] + [0] * (253 * 3))
    image.paste(2, (0, 0, 30, 40))
    out = io.BytesIO()
    image.save(out, "GIF", comment=b"made in a test")
    return out.getvalue()


def webp_with_alpha() -> bytes:
    image = Image.new("RGBA", (300, 200), (10, 160, 60, 128))
    out = io.BytesIO()
    image.save(out, "WEBP", lossless=True)
    return out.getvalue()


PICTURES = {"photo.jpg": photo_with_exif, "alpha.png": png_with_alpha, "small.gif": small_gif,
            "badge.webp": webp_with_alpha}


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    return write_edition(tmp_path_factory.mktemp("pictures"), {name: make() for name, make in PICTURES.items()})


def build(sources: Path, out: Path, *options: str) -> dict[str, bytes]:
    result = run_cli("build", sources, "-f", "epub", "--out", out, *options)
    assert result.returncode == 0, result.stderr
    return epub_files(out / EPUB_NAME)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pictures_of(files: dict[str, bytes]) -> dict[str, Image.Image]:
    return {name: opened(data) for name, data in files.items()
            if name.startswith("EPUB/images/") and name != "EPUB/images/cover.jpg"}


def by_format(files: dict[str, bytes]) -> dict[str, tuple[str, Image.Image]]:
    """The article pictures, keyed by the source they came from (found through the XHTML)."""
    found = {}
    for name, data in files.items():
        if name.startswith("EPUB/text/") and b"<img" in data:
            root = etree.fromstring(data)
            for img in root.iterfind(".//x:img", NS):
                picture = "EPUB/images/" + img.get("src").rsplit("/", 1)[-1]
                source = img.get("alt")  # "Picture N": N-th source in PICTURES order
                index = int(source.split()[-1]) - 1
                found[list(PICTURES)[index]] = (picture, opened(files[picture]), img)
    return found


@pytest.fixture(scope="module")
def generic(sources, tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("generic")
    return out, build(sources, out)


def test_pictures_are_scaled_oriented_and_stripped(generic, assert_valid_epub):
    out, files = generic
    pictures = by_format(files)
    name, photo, img = pictures["photo.jpg"]
    assert name.endswith(".jpg") and photo.format == "JPEG"
    assert photo.size == (1200, 1600), "orientation 6 applied: a 4000×3000 landscape comes out portrait"
    assert photo.getpixel((600, 200))[0] > 150 > photo.getpixel((600, 200))[2], "the left (red) half is on top"
    assert photo.getpixel((600, 1400))[2] > 150 > photo.getpixel((600, 1400))[0]
    assert not photo.getexif() and "exif" not in photo.info and "Exif" not in photo.info
    assert "progressive" not in photo.info and "progression" not in photo.info
    assert (img.get("width"), img.get("height")) == ("1200", "1600"), "the <img> says the new shape"

    name, png, img = pictures["alpha.png"]
    assert name.endswith(".png") and png.mode == "RGBA" and png.size == (1600, 800)
    assert not png.text and "exif" not in png.info
    assert (img.get("width"), img.get("height")) == ("1600", "800")

    for source in ("small.gif", "badge.webp"):
        name, converted, img = pictures[source]
        assert name.endswith(".png") and converted.format == "PNG", f"{source} becomes a PNG"
        assert f'src="../images/{name.rsplit("/", 1)[-1]}"' in etree.tostring(img).decode()
    assert pictures["badge.webp"][1].mode == "RGBA"
    assert not [n for n in files if n.endswith((".gif", ".webp"))]
    opf = files["EPUB/content.opf"].decode()
    assert ".gif" not in opf and ".webp" not in opf

    cover = opened(files["EPUB/images/cover.jpg"])
    assert cover.size == (1600, 2560) and cover.mode == "RGB"
    assert_valid_epub(out / EPUB_NAME)


def test_grayscale_pictures_for_e_ink(sources, tmp_path, assert_valid_epub):
    files = build(sources, tmp_path, "--grayscale")
    assert_valid_epub(tmp_path / EPUB_NAME)
    pictures = by_format(files)
    assert pictures["photo.jpg"][1].mode == "L" and pictures["photo.jpg"][1].size == (1200, 1600)
    assert pictures["alpha.png"][1].mode == "LA"
    assert pictures["badge.webp"][1].mode == "LA"
    assert pictures["small.gif"][1].mode == "L"
    cover = opened(files["EPUB/images/cover.jpg"])
    assert cover.mode == "L" and cover.size == (1600, 2560)


def test_pictures_are_deterministic():
    from broadsheet.backends.epub.pictures import PictureLimits, prepare_picture

    data = photo_with_exif()
    first = prepare_picture(data, "image/jpeg", PictureLimits(long_side=800))
    assert first == prepare_picture(data, "image/jpeg", PictureLimits(long_side=800))
    assert first[2] == (600, 800)


def test_lean_jpeg_keeps_its_bytes_but_loses_its_metadata():
    from broadsheet.backends.epub.pictures import PictureLimits, prepare_picture

    image = Image.new("RGB", (640, 480), (90, 120, 150))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=40, exif=exif)
    data, media_type, size = prepare_picture(out.getvalue(), "image/jpeg", PictureLimits())
    assert media_type == "image/jpeg" and size == (640, 480)
    assert len(data) < len(out.getvalue()) and b"Exif" not in data and b"Canon" not in data
    assert not opened(data).getexif()


def test_animated_gif_keeps_its_frames_and_loses_its_comments():
    from broadsheet.backends.epub.pictures import PictureLimits, prepare_picture

    frames = [Image.new("P", (40, 30), i) for i in range(3)]
    for frame in frames:
        frame.putpalette([200, 30, 30, 30, 200, 30, 30, 30, 200] + [0] * (253 * 3))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
                   comment=b"secret comment")
    data, media_type, size = prepare_picture(out.getvalue(), "image/gif", PictureLimits(grayscale=True))
    assert media_type == "image/gif" and size == (40, 30) and b"secret comment" not in data
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 3 and gif.info.get("loop") == 0
    palette = gif.getpalette()[:9]
    assert palette[0] == palette[1] == palette[2] and palette[3] == palette[4] == palette[5]


# --- the size budget -----------------------------------------------------------------------

def noise_jpeg(seed: int) -> bytes:
    image = Image.frombytes("RGB", (3000, 2000), random.Random(seed).randbytes(3000 * 2000 * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=75)
    return out.getvalue()


@pytest.fixture(scope="module")
def noisy(tmp_path_factory) -> Path:
    return write_edition(tmp_path_factory.mktemp("noisy"), {f"noise{i:02d}.jpg": noise_jpeg(i) for i in range(12)})


def test_max_size_recompresses_pictures_until_the_book_fits(noisy, tmp_path, assert_valid_epub):
    result = run_cli("build", noisy, "-f", "epub", "--out", tmp_path, "--max-size", "3MB")
    assert result.returncode == 0, result.stderr
    path = tmp_path / EPUB_NAME
    assert path.stat().st_size <= 3 * 1024 * 1024
    warning = re.search(r"warning: pictures-2026-03-02\.epub: pictures recompressed to fit 3MB: "
                        r"quality (\d+), long side (\d+) px; (\d+\.\d)MB", result.stderr)
    assert warning, result.stderr
    quality, side = int(warning.group(1)), int(warning.group(2))
    assert quality < 80 and side <= 1600
    assert float(warning.group(3)) == round(path.stat().st_size / 1024 / 1024, 1)
    files = epub_files(path)
    for name, picture in pictures_of(files).items():
        assert max(picture.size) <= side, name
    assert opened(files["EPUB/images/cover.jpg"]).size == (1600, 2560)
    assert not list(tmp_path.glob(".*.part"))
    assert_valid_epub(path)


def test_a_budget_the_text_alone_exceeds_fails_and_writes_nothing(sources, tmp_path):
    result = run_cli("build", sources, "-f", "epub", "--out", tmp_path, "--max-size", "20KB")
    assert result.returncode == 1
    assert "cannot fit the EPUB into 20KB" in result.stderr and EPUB_NAME in result.stderr
    assert re.search(r"text and other files alone take \d+KB", result.stderr), result.stderr
    assert not list(tmp_path.iterdir()), "no EPUB, no leftover temporary file"


def test_budget_steps_lower_quality_first_then_long_side():
    from broadsheet.backends.epub.pictures import PictureLimits, budget_steps

    steps = [(s.quality, s.long_side) for s in budget_steps(PictureLimits())]
    assert steps[:3] == [(70, 1600), (60, 1600), (50, 1600)]
    assert steps[3:8] == [(50, 1280), (50, 1024), (50, 800), (50, 640), (50, 480)]
    assert steps[-1] == (30, 480)


# --- device profiles ----------------------------------------------------------------------

def package(files: dict[str, bytes]):
    return etree.fromstring(files["EPUB/content.opf"])


def test_kindle_profile(sources, tmp_path, assert_valid_epub):
    files = build(sources, tmp_path, "--profile", "kindle")
    opf = package(files)
    spine = opf.findall("opf:spine/opf:itemref", NS)
    assert (spine[0].get("idref"), spine[0].get("linear")) == ("cover", "no"), "the cover page is not shown twice"
    assert all(item.get("linear") is None for item in spine[1:])
    guide = {ref.get("type"): ref.get("href") for ref in opf.iterfind("opf:guide/opf:reference", NS)}
    assert guide == {"cover": "cover.xhtml", "toc": "nav.xhtml#toc"}
    assert opf.findtext(".//dc:creator", namespaces=NS) == "2026-03-02"
    assert opf.findtext(".//dc:publisher", namespaces=NS) == "Picture Post Ltd"
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    assert nav.find(".//x:nav[@epub:type='landmarks']//x:a[@epub:type='cover']", NS) is not None
    assert_valid_epub(tmp_path / EPUB_NAME)


def test_kobo_profile(sources, tmp_path, assert_valid_epub):
    files = build(sources, tmp_path, "--profile", "kobo")
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert toc.findall(".//x:ol//x:ol", NS) == [], "one level"
    titles = [a.text for a in toc.iterfind(".//x:a", NS)]
    assert titles[0].startswith("News") and titles[1] == "Story 1 with a picture" and len(titles) == 2 + 4
    assert nav.find(".//x:nav[@epub:type='landmarks']", NS) is None
    ncx = etree.fromstring(files["EPUB/toc.ncx"])
    assert ncx.findall(".//ncx:navPoint/ncx:navPoint", NS) == []
    assert len(ncx.findall(".//ncx:navPoint", NS)) == 6
    pictures = by_format(files)
    assert pictures["alpha.png"][1].mode == "RGB", "transparency flattened onto white"
    assert min(pictures["alpha.png"][1].getpixel((800, 0))) >= 250, "transparent → white"
    assert pictures["badge.webp"][1].mode == "RGB"
    spine = package(files).findall("opf:spine/opf:itemref", NS)
    assert spine[0].get("idref") == "cover" and spine[0].get("linear") is None
    assert_valid_epub(tmp_path / EPUB_NAME)


def test_apple_profile(sources, tmp_path, assert_valid_epub):
    files = build(sources, tmp_path, "--profile", "apple", "--grayscale")
    pictures = by_format(files)
    assert pictures["alpha.png"][1].mode == "L", "no transparent areas for night mode"
    assert pictures["photo.jpg"][1].size[0] * pictures["photo.jpg"][1].size[1] <= 4_000_000
    opf = package(files)
    assert opf.find("opf:spine/opf:itemref", NS).get("linear") is None
    assert_valid_epub(tmp_path / EPUB_NAME)


def test_profiles_are_data():
    from broadsheet.backends.epub.profiles import PROFILES, Profile
    from broadsheet.names import EPUB_PROFILES as NAMES

    assert set(PROFILES) == set(NAMES)
    assert all(isinstance(p, Profile) for p in PROFILES.values())
    assert PROFILES["kindle"].max_bytes == 50 * 1024 * 1024
    assert PROFILES["generic"] == Profile(name="generic", title=PROFILES["generic"].title)
    with pytest.raises(Exception):
        PROFILES["kobo"].toc = "nested"  # frozen


def test_apple_declares_specified_fonts_when_fonts_are_embedded():
    from types import SimpleNamespace

    from ebooklib import epub

    from broadsheet.backends.epub.profiles import IBOOKS, PROFILES, apply_profile

    book = epub.EpubBook()
    book.add_item(epub.EpubItem(uid="font", file_name="fonts/serif.otf", media_type="font/otf", content=b"x"))
    rendered = SimpleNamespace(documents=(), nav=(), metadata=SimpleNamespace(date=None))
    apply_profile(PROFILES["apple"], book, rendered)
    assert f"ibooks: {IBOOKS}" in book.prefixes
    metas = book.metadata[None]["meta"]
    assert ("true", {"property": "ibooks:specified-fonts"}) in metas


_AHEAD = r"""
import os, sys
from pathlib import Path
from PIL import Image
from broadsheet.backends.epub import pictures
from broadsheet.rendered import Asset

folder = Path(sys.argv[1])
assets = []
for i in range(8):
    path = folder / f"p{i}.jpg"
    Image.effect_noise((900 + 40 * i, 600), 60 + i).convert("RGB").save(path, quality=95)
    assets.append(Asset(name=f"images/p{i}.jpg", id=f"p{i}", media_type="image/jpeg", path=path, root=folder))
limits = pictures.PictureLimits(long_side=800, quality=70)
started = pictures.make_ahead(assets, limits)
second = pictures.make_ahead(assets, limits)  # one set at a time
ahead = pictures._taken_ahead(assets, limits)
here = pictures._prepare_all(assets, limits, 2)
again = pictures._taken_ahead(assets, limits)  # taken once
other = pictures.make_ahead(assets[:7], limits)
mismatch = pictures._taken_ahead(assets[:7], pictures.PictureLimits(long_side=600))
pictures.drop_ahead()
try:
    left = os.waitpid(-1, os.WNOHANG)
except ChildProcessError:
    left = None
print(started, second, ahead == here, len(ahead), all(isinstance(r, tuple) for r in ahead), again, other,
      mismatch, left, pictures._ahead)
"""


def test_pictures_made_ahead_are_the_pictures_made_in_turn(tmp_path):
    """An edition's pictures are made by a process forked for them while the edition is typeset and rendered:
    the same pictures as made when the EPUB is written, taken once, only for the same pictures under the same
    limits; pictures made ahead that no EPUB takes are ended, with every process they started."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _AHEAD, str(tmp_path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True", "8", "True", "None", "True", "None", "None", "{}"], \
        result.stdout


_FAULTS = r"""
import io, resource, sys
from PIL import Image
from broadsheet.backends.epub.pictures import PictureLimits, prepare_picture
from broadsheet.processes import keep_freed_memory

out = io.BytesIO()
Image.effect_noise((1200, 800), 60).convert("RGB").save(out, "JPEG", quality=95)
photo = out.getvalue()
if sys.argv[1] == "kept":
    keep_freed_memory()
prepare_picture(photo, "image/jpeg", PictureLimits())
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):  # what a picture worker does, twenty times over
    prepare_picture(photo, "image/jpeg", PictureLimits())
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_a_picture_worker_keeps_the_memory_it_frees():
    """A photograph made for e-readers twenty times over: a process that keeps the memory it frees faults no
    page in again for the next one; one that gives it back faults in every picture's buffers anew (the
    picture workers spent half their processor time doing that)."""
    import subprocess
    import sys

    import os

    # glibc's and Pillow's own ways: no setting of this process's environment (a Dask nanny run in this process
    # before leaves MALLOC_TRIM_THRESHOLD_ in it, and others may change how memory is kept)
    environment = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    faults = {how: int(subprocess.run([sys.executable, "-c", _FAULTS, how], capture_output=True, text=True,
                                      check=True, timeout=60, env=environment).stdout)
              for how in ("kept", "given back")}
    pages = 1200 * 800 * 3 // 4096  # one picture's pixels
    assert faults["given back"] > 20 * pages, faults
    assert faults["kept"] < 2 * pages, faults
