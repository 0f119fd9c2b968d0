"""Draw the cover image of an issue: masthead, date, issue number and section names.

Each line is drawn in the language's font; characters it lacks (the Chinese section names of a digest in
English) are drawn, run by run, in the first font that has them (fontconfig finds the files and tells what
each has), so that none is a box."""

from __future__ import annotations

import io
import os
import struct
import unicodedata
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ..errors import RenderError
from .fonts import cjk_variant, face_has, font_file

WIDTH, HEIGHT = 1600, 2560
MARGIN = 120
INK = (20, 20, 20)
PAPER = (250, 248, 242)
ACCENT = (150, 20, 30)


#: The language fontconfig is asked for with each Noto CJK variant.
_CJK_LANG = {"SC": "zh-cn", "TC": "zh-tw", "HK": "zh-hk", "JP": "ja", "KR": "ko"}


class _Faces:
    """The font files that may draw a cover's text, best first, each looked up (one fontconfig match and
    a test load) only when the faces before it lack a character: most covers need the first alone."""

    def __init__(self, candidates: list[tuple[str, str]], bold: bool) -> None:
        self._candidates = iter(candidates)
        self._bold = bold
        self._found: list[tuple[str, int]] = []

    def _more(self) -> bool:
        for family, family_lang in self._candidates:
            found = font_file(family, family_lang, self._bold)
            if found and found not in self._found:
                try:
                    ImageFont.truetype(found[0], size=12, index=found[1])
                except OSError:
                    continue
                self._found.append(found)
                return True
        return False

    def __iter__(self):
        index = 0
        while index < len(self._found) or self._more():
            yield self._found[index]
            index += 1

    def __getitem__(self, index: int) -> tuple[str, int]:
        while len(self._found) <= index and self._more():
            pass
        if not self._found:
            raise RenderError("no usable font for the cover image: install fonts-noto-cjk and fonts-noto-core")
        return self._found[index]


@lru_cache(maxsize=16)
def _faces(lang: str, bold: bool) -> _Faces:
    """The font files that may draw a cover's text, best first: the language's own (a CJK serif for Chinese,
    Noto Serif otherwise), then for what it lacks the CJK serif of the language's variant (SC when the
    language is not a CJK one: a digest in English with Chinese section names), Noto Serif and Noto Sans."""
    variant = cjk_variant(lang)
    return _Faces([("Noto Serif CJK SC" if lang.startswith("zh") else "Noto Serif", lang), ("serif", lang),
                   ("sans-serif", lang), (f"Noto Serif CJK {variant}", _CJK_LANG[variant]),
                   (f"Noto Sans CJK {variant}", _CJK_LANG[variant]), ("Noto Serif", "en"), ("Noto Sans", "en")],
                  bold)


@lru_cache(maxsize=256)
def _load(face: tuple[str, int], size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face[0], size=size, index=face[1])


def _font(lang: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    return _load(_faces(lang, bold)[0], size)


def runs(text: str, lang: str, bold: bool) -> list[tuple[str, tuple[str, int]]]:
    """``text`` cut into runs, each with the first face of :func:`_faces` that has all its characters:
    a character the first face lacks goes to the next that has it (white space and marks stay in the run
    they are in; a character no face has stays with the first, and is a box)."""
    faces = _faces(lang, bold)
    out: list[tuple[str, tuple[str, int]]] = []
    for char in text:
        if out and unicodedata.category(char) in ("Zs", "Mn", "Me", "Cf") and face_has(*out[-1][1], char):
            face = out[-1][1]
        else:
            face = next((f for f in faces if face_has(*f, char)), None) or faces[0]
        if out and out[-1][1] == face:
            out[-1] = (out[-1][0] + char, face)
        else:
            out.append((char, face))
    return out


def _width(draw: ImageDraw.ImageDraw, parts: list[tuple[str, tuple[str, int]]], size: int) -> float:
    return sum(draw.textlength(part, font=_load(face, size)) for part, face in parts)


def _fit_size(draw: ImageDraw.ImageDraw, parts, size: int, width: int) -> int:
    while size > 24 and _width(draw, parts, size) > width:
        size = int(size * 0.9)
    return size


def _text(draw: ImageDraw.ImageDraw, y: float, text: str, lang: str, size: int, bold: bool, width: int) -> None:
    """``text`` centred on (WIDTH / 2, y), as large as fits in ``width`` up to ``size``, each run in a font
    that has its characters."""
    parts = runs(text, lang, bold)
    size = _fit_size(draw, parts, size, width)
    if len(parts) <= 1:  # one face: drawn in one go
        draw.text((WIDTH / 2, y), text, font=_load(parts[0][1] if parts else _faces(lang, bold)[0], size),
                  fill=INK, anchor="mm")
        return
    # runs side by side on the first face's baseline, the whole line centred as "mm" centres one run
    ascent, descent = _load(_faces(lang, bold)[0], size).getmetrics()
    baseline = y + (ascent - descent) / 2
    x = WIDTH / 2 - _width(draw, parts, size) / 2
    for part, face in parts:
        font = _load(face, size)
        draw.text((x, baseline), part, font=font, fill=INK, anchor="ls")
        x += draw.textlength(part, font=font)


def draw_cover(title: str, date_text: str, number_text: str, sections: list[str], lang: str) -> bytes:
    """Return the cover as JPEG bytes (deterministic for the same input and fonts)."""
    args = (title, date_text, number_text, tuple(sections), lang)
    return _beside.get(args) or _taken_ahead(args) or _draw(*args)


#: The cover a child of this process drew (:func:`cover_soon`), by what it was drawn from.
_beside: dict[tuple, bytes] = {}
#: Whether this process has drawn a cover, or had one drawn beside it: only the first is drawn beside.
_drawn_once = False


def cover_soon(title: str, date_text: str, number_text: str, sections: list[str], lang: str) -> "Pending":
    """Start drawing a cover; :meth:`Pending.result` gives its bytes (those of :func:`draw_cover`).

    The first cover of a process is drawn by a child forked for it (``processes.fork_call``), on another core,
    while this process renders and checks the issue's documents: it finds its fonts and draws its masthead
    afresh, which a process that has drawn a cover holds already (an archive's next issues are drawn here,
    from those).  Where a fork is not safe or not to be had, and whenever the child sends no cover back, the
    cover is drawn here when it is asked for."""
    global _drawn_once
    from ..processes import fork_call

    args = (title, date_text, number_text, tuple(sections), lang)
    if _coming is not None and args in _coming.order:  # drawn by the process drawing covers ahead, or here
        _drawn_once = True
        return Pending(args)
    first, _drawn_once = not _drawn_once, True
    return Pending(args, fork_call(_drawn_or_fault, args) if first else None)


class Pending:
    """A cover being drawn: by a forked child (``forked``), or (none) here when it is asked for."""

    def __init__(self, args: tuple, forked=None) -> None:
        self._args, self._forked = args, forked

    def result(self) -> bytes:
        """The cover's bytes: the child's, once it has drawn them, else drawn here."""
        from ..processes import NOTHING

        title, date_text, number_text, sections, lang = self._args
        sent = NOTHING if self._forked is None else self._forked.result()
        if sent is NOTHING:
            return draw_cover(title, date_text, number_text, list(sections), lang)
        ok, value = sent
        if not ok:
            raise RenderError(value)
        _beside[self._args] = value
        return value

    def cancel(self) -> None:
        """End the child (if it still draws) and reap it: the build goes no further, or has the cover."""
        if self._forked is not None:
            self._forked.cancel()


def _drawn_or_fault(args: tuple) -> tuple[bool, bytes | str]:
    """In the child of :func:`cover_soon`: ``(True, the cover)``, or ``(False, why)`` when no font can draw it."""
    try:
        return True, _draw(*args)
    except RenderError as exc:
        return False, exc.message


@lru_cache(maxsize=2)
def _masthead(title: str, lang: str) -> Image.Image:
    """The top of a publication's covers, the same on every issue: drawn once, copied for each issue."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 60), fill=ACCENT)
    _text(draw, 420, title, lang, 260, True, WIDTH - 2 * MARGIN)
    draw.line((MARGIN, 640, WIDTH - MARGIN, 640), fill=INK, width=8)
    return image


@lru_cache(maxsize=64)
def _draw(title: str, date_text: str, number_text: str, sections: tuple[str, ...], lang: str) -> bytes:
    image = _masthead(title, lang).copy()
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    info = "   ".join(part for part in (date_text, number_text) if part)
    if info:
        _text(draw, 720, info, lang, 72, False, inner)
    draw.line((MARGIN, 800, WIDTH - MARGIN, 800), fill=INK, width=3)

    y = 960
    for name in sections[:14]:
        _text(draw, y, name, lang, 88, False, inner)
        y += 120
    if len(sections) > 14:
        draw.text((WIDTH / 2, y), "…", font=_font(lang, 88, False), fill=INK, anchor="mm")
    draw.rectangle((0, HEIGHT - 60, WIDTH, HEIGHT), fill=ACCENT)

    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


#: From this many different covers up, a build's covers are drawn by two processes (:func:`covers_ahead`).
AHEAD_COVERS = 4


class _Coming:
    """Covers being drawn ahead by a child (:func:`covers_ahead`): their arguments by place, the child, the
    unnamed file it writes each cover to as it is drawn, how far it has been read, and the shared word that
    tells the child how far this process has come."""

    def __init__(self, order: dict[tuple, int], forked, out, front) -> None:
        self.order, self.forked, self.out, self.front = order, forked, out, front
        self.read_to, self.received, self.reached = 0, {}, 0

    def take(self, args: tuple) -> bytes | None:
        index = self.order.get(args)
        if index is None:
            return None
        if index + 1 > self.reached:  # the child stops before it: this process has it in hand
            self.reached = index + 1
            struct.pack_into("<q", self.front, 0, self.reached)
        self._read()
        return self.received.get(index)

    def _read(self) -> None:
        """Take in the covers written whole since the last look (one still being written waits)."""
        fd = self.out.fileno()
        while True:
            head = os.pread(fd, 8, self.read_to)
            if len(head) < 8:
                return
            index, size = struct.unpack("<II", head)
            data = os.pread(fd, size, self.read_to + 8)
            if len(data) < size:
                return
            self.received[index] = data
            self.read_to += 8 + size

    def end(self) -> None:
        self.forked.cancel()
        self.out.close()
        self.front.close()


_coming: _Coming | None = None


def covers_ahead(covers: list[tuple]) -> bool:
    """Start drawing ``covers`` (the arguments of :func:`draw_cover`, in the order this process will ask for
    them) in a child forked for them, which draws them from the last backwards while this process draws them
    from the first: each process draws about half, and they meet in the middle.  This process tells the child
    (through a shared word) how far it has come; the child stops where it is reached, and writes each cover as it
    is drawn to an unnamed file, which this process reads when it asks for a cover.  Only from
    :data:`AHEAD_COVERS` different covers up, where forking is safe, and one set at a time; a child that ends
    early (a fault, killed) leaves the rest to be drawn here.  Returns whether they are being drawn ahead."""
    global _coming
    import mmap
    import tempfile

    from ..processes import fork_call

    distinct = [args for args in dict.fromkeys(covers) if args not in _beside]
    if _coming is not None or len(distinct) < AHEAD_COVERS:
        return False
    try:
        out = tempfile.TemporaryFile()
    except OSError:
        return False
    front = mmap.mmap(-1, 8)  # anonymous and shared: the child sees what this process writes
    forked = fork_call(_draw_from_the_back, distinct, out.fileno(), front)
    if forked is None:
        out.close()
        front.close()
        return False
    _coming = _Coming({args: index for index, args in enumerate(distinct)}, forked, out, front)
    return True


def _draw_from_the_back(covers: list[tuple], fd: int, front) -> int:
    """In the child of :func:`covers_ahead`: draw ``covers`` from the last, each written whole to ``fd`` as
    (place, size, JPEG), until the building process has reached the next; the number drawn."""
    drawn = 0
    for index in range(len(covers) - 1, -1, -1):
        if index < struct.unpack_from("<q", front, 0)[0]:
            break
        try:
            data = _draw(*covers[index])
        except Exception:  # noqa: BLE001 - drawn here by the building process, which meets the fault itself
            break
        record = struct.pack("<II", index, len(data)) + data
        written = 0
        while written < len(record):
            written += os.write(fd, record[written:])
        drawn += 1
    return drawn


def _taken_ahead(args: tuple) -> bytes | None:
    return _coming.take(args) if _coming is not None else None


def drop_covers_ahead() -> None:
    """End the drawing of covers ahead (the build has its covers, or stopped)."""
    global _coming
    coming, _coming = _coming, None
    if coming is not None:
        coming.end()
