"""The drawn cover: a line mixing Latin and Chinese is drawn run by run, each in a font that has its
characters, so a digest in English with Chinese section names shows them, not boxes."""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageStat

from broadsheet.render import cover
from broadsheet.render.fonts import face_has

CJK = "理论"


def _glyphs(face: tuple[str, int]) -> set[int]:
    """The cmap of the face, read straight from the file with fontTools."""
    from fontTools.ttLib import TTFont

    with TTFont(face[0], fontNumber=face[1], lazy=True) as font:
        return set(font.getBestCmap())


def test_each_run_gets_a_font_that_has_its_characters():
    parts = cover.runs(f"Morning Digest {CJK} (1)", "en-GB", True)
    assert [text for text, _ in parts] == ["Morning Digest ", f"{CJK} ", "(1)"]
    latin, cjk = parts[0][1], parts[1][1]
    assert latin == cover._faces("en-GB", True)[0] and parts[2][1] == latin
    assert not {ord(c) for c in CJK} <= _glyphs(latin)  # the language's font would draw boxes
    assert {ord(c) for c in CJK} <= _glyphs(cjk) and all(face_has(*cjk, c) and not face_has(*latin, c) for c in CJK)
    # Chinese: its own font has everything, one run
    assert [text for text, _ in cover.runs(f"Digest {CJK}", "zh-CN", False)] == [f"Digest {CJK}"]


def _line(face: tuple[str, int], text: str, size: int, y: int) -> Image.Image:
    image = Image.new("RGB", (cover.WIDTH, cover.HEIGHT), cover.PAPER)
    ImageDraw.Draw(image).text((cover.WIDTH / 2, y), text, font=ImageFont.truetype(face[0], size, index=face[1]),
                               fill=cover.INK, anchor="mm")
    return image


def _difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.crop(box), b.crop(box)).convert("L")).mean)


def test_chinese_section_names_of_an_english_cover_are_drawn():
    """A section named 理论 on the cover of an English digest: the pixels are the Chinese font's glyphs, not
    the boxes the Latin font draws (what the cover showed before)."""
    image = Image.open(io.BytesIO(cover.draw_cover(f"Digest {CJK}", "30 November 2026", "", [CJK], "en-GB")))
    latin = cover._faces("en-GB", False)[0]
    (chinese,) = {face for _, face in cover.runs(CJK, "en-GB", False)}
    assert {ord(c) for c in CJK} <= _glyphs(chinese) and not {ord(c) for c in CJK} <= _glyphs(latin)
    box = (0, 900, cover.WIDTH, 1020)  # the first section's line, centred on y = 960
    drawn = _difference(image, _line(chinese, CJK, 88, 960), box)
    boxes = _difference(image, _line(latin, CJK, 88, 960), box)
    blank = _difference(image, Image.new("RGB", image.size, cover.PAPER), box)
    assert drawn < 1.5 < boxes and drawn * 4 < blank, (drawn, boxes, blank)
    # the masthead, Latin and Chinese side by side: the Chinese glyphs are there too
    title_box = (0, 300, cover.WIDTH, 540)
    all_latin = Image.new("RGB", image.size, cover.PAPER)
    ImageDraw.Draw(all_latin).text((cover.WIDTH / 2, 420), f"Digest {CJK}", fill=cover.INK, anchor="mm",
                                   font=ImageFont.truetype(cover._faces("en-GB", True)[0][0], 260,
                                                           index=cover._faces("en-GB", True)[0][1]))
    assert _difference(image, all_latin, title_box) > 1.5


_BESIDE = r"""
import os, sys
from broadsheet.render import cover

args = ("郑州日报", "2024年5月1日", "第1234期", ["要闻", "Theory 理论", "国际"], "zh-CN")
pending = cover.cover_soon(*args)
forked = pending._forked is not None
beside = pending.result()
left = []
try:
    left.append(os.waitpid(-1, os.WNOHANG))
except ChildProcessError:
    pass
cover._beside.clear()
here = cover._draw(*args[:3], tuple(args[3]), args[4])
second = cover.cover_soon(*args)  # the next cover of the process: drawn here
stopped = cover.cover_soon("x", "", "", ["y"], "en")
stopped.cancel()
print(forked, second._forked is None, beside == here, len(here) > 10_000, left)
"""


def test_a_cover_drawn_beside_is_the_cover_drawn_here():
    """The first cover of a build is drawn by a child process while the documents are rendered: the same
    bytes as drawn in the build's own process, the child reaped, and later covers drawn in the process."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _BESIDE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "[]"], result.stdout


def test_a_cover_not_sent_back_is_drawn_here():
    """A child that dies without sending its cover (killed, out of memory): the cover is drawn in the
    process, the same bytes."""
    import os
    import tempfile

    from broadsheet.processes import Forked

    pending = cover.Pending(("T", "1 May", "", ("A",), "en"))
    assert pending.result() == cover.draw_cover("T", "1 May", "", ["A"], "en")
    pid = os.fork()
    if pid == 0:
        os._exit(3)  # ends at once, sends nothing
    assert cover.Pending(("T", "1 May", "", ("A",), "en"), Forked(pid, tempfile.TemporaryFile())).result() == \
        cover.draw_cover("T", "1 May", "", ["A"], "en")
    try:
        os.waitpid(pid, os.WNOHANG)
        reaped = False
    except ChildProcessError:
        reaped = True
    assert reaped


# --- covers drawn ahead, by two processes ---------------------------------------------------------------
# Each in a process of its own: a fork is made only where no other thread runs, and the process running the
# tests may hold one (the offload thread of an earlier test's Dask client).

_AHEAD = r"""
import json, os, signal, sys, time
from broadsheet.render import cover

#: Eight covers of two publications, as an archive asks for them.
many = [(title, f"{day} May 2026", f"No. {day}", ("News", "Sport") if day % 2 else ("要闻",), lang)
        for day in range(1, 5) for title, lang in (("The Harbour Gazette", "en"), ("河洛日报", "zh-CN"))]
expected = [cover._draw(*args) for args in many]
cover._draw.cache_clear()
cover._masthead.cache_clear()
if sys.argv[1] == "killed":  # a child that ends without drawing
    cover._draw_from_the_back = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
started = cover.covers_ahead(many)
coming = cover._coming
if sys.argv[1] == "ahead":
    deadline = time.monotonic() + 30
    while os.fstat(coming.out.fileno()).st_size == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # the child has written its first cover (the last of the archive)
here = []
real = cover._draw
cover._draw = lambda *args: here.append(list(args)) or real(*args)
same = [cover.draw_cover(t, d, n, list(s), lang) for t, d, n, s, lang in many] == expected
drawn_ahead = coming.forked.result()
cover.drop_covers_ahead()
try:
    os.waitpid(-1, os.WNOHANG)
    left = True
except ChildProcessError:
    left = False
print(json.dumps({"started": started, "same": same, "ahead": drawn_ahead if isinstance(drawn_ahead, int) else None,
                  "here": len(here), "last here": list(many[-1]) in here, "left": left, "count": len(many),
                  "few": cover.covers_ahead(many[:cover.AHEAD_COVERS - 1] * 3)}))
"""


def _ahead(how: str) -> dict:
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _AHEAD, how], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_covers_drawn_ahead_are_those_drawn_here():
    """Two processes draw an archive's covers, the child from the last: the same bytes as one process draws,
    each process some of them (never more than one drawn twice), and the child reaped."""
    made = _ahead("ahead")
    assert made["started"] and made["same"] and not made["left"]
    assert made["ahead"] >= 1 and not made["last here"]
    assert made["here"] + made["ahead"] <= made["count"] + 1
    assert made["few"] is False  # three covers, asked for again and again: drawn here


def test_covers_not_drawn_ahead_are_drawn_here():
    """A child that ends without drawing (killed): every cover drawn here, the same bytes."""
    made = _ahead("killed")
    assert made["started"] and made["same"] and not made["left"]
    assert made["ahead"] is None and made["here"] == made["count"]
