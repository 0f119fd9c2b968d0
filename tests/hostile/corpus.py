"""The hostile corpus: each case is written at test time (some are too large to keep in the repository).

``case_files(name, root)`` writes case ``name`` under ``root`` and returns the source to build and extra
arguments; ``CASES`` says what must become of each: built (the hostile part dropped, with a warning naming it)
or refused (exit 1, one line).

Cases are also registered from the ``cases_*.py`` modules beside this one with :func:`case`: a function that
writes the case under ``root`` and returns ``(source, args)``.  Importing this module imports them all.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path


def _png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares the given size (the data is not there)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + \
        chunk(b"IEND", b"")


def _jpeg_truncated() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 10, 10)).save(out, format="JPEG")
    return out.getvalue()[:300]


def output_text(out: Path) -> str:
    """Everything the build wrote, decompressed: each EPUB entry, each PDF's text (pdftotext)."""
    found = []
    for path in sorted(out.iterdir()):
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as archive:
                found.extend(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
        elif path.suffix == ".pdf":
            found.append(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                        check=True).stdout)
        elif path.is_file():
            found.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(found)


def md(title: str, body: str, extra: str = "") -> str:
    return f"---\ntitle: {title}\n{extra}---\n\n{body}\n"


#: name → writer(root) -> (source, args), for cases registered with :func:`case`.
WRITERS: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {}
#: name → limits of a registered case: seconds and peak resident megabytes.
BOUNDS: dict[str, tuple[float, int]] = {}
#: name → check(root, out, result) run after the build: what else must hold (a decoy untouched, …).
CHECKS: dict[str, Callable] = {}


def case(name: str, outcome: str, expected: str, *, seconds: float = 60, megabytes: int = 1024,
         check: Callable | None = None):
    """Register a case: ``outcome`` "built" (warnings must hold ``expected``) or "refused" (the one line
    must hold it); the build must end within ``seconds`` and ``megabytes`` of peak resident memory;
    ``check(root, out, result)`` asserts what else must hold afterwards."""
    assert outcome in ("built", "refused"), outcome

    def register(writer: Callable[[Path], tuple[Path, list[str]]]):
        assert name not in CASES, name
        CASES[name] = (outcome, expected)
        WRITERS[name] = writer
        BOUNDS[name] = (seconds, megabytes)
        if check is not None:
            CHECKS[name] = check
        return writer
    return register


def case_files(name: str, root: Path) -> tuple[Path, list[str]]:
    """Write case ``name`` under ``root``; return the source and the build's extra arguments."""
    if name in WRITERS:
        return WRITERS[name](root)
    ed = root / "ed"
    ed.mkdir(parents=True)
    args: list[str] = []
    if name == "invalid-utf8-and-mixed-encodings":
        (ed / "a.md").write_bytes(md("混合", "前半部分").encode() + "后半部分是GBK编码的文字。".encode("gbk") + b"\xff\xfe\xfa")
        (ed / "b.txt").write_bytes("第03版:要闻\n标题\n\n标题\n\n正文一段。\n".encode("big5", "replace"))
    elif name == "control-characters-and-nul":
        (ed / "a.md").write_text(md("Controls", "Bell\x07 tab\t NUL\x00 escape\x1b vertical\x0b done."),
                                 encoding="utf-8")
    elif name == "lone-surrogates":
        (ed / "a.md").write_bytes(md("Surrogates", "Before").encode() + b"\xed\xa0\x80 after \xed\xb0\x80.")
    elif name == "truncated-and-unclosed-html":
        (ed / "a.html").write_text("<html><body><article><h1>Unclosed</h1><p>First <b>bold <i>both"
                                   "<p>Second paragraph of the story goes on and on<div><span>", encoding="utf-8")
    elif name == "ten-megabyte-paragraph":
        (ed / "a.md").write_text(md("Huge", "word " * 2_000_000), encoding="utf-8")
        args = ["-f", "epub"]
    elif name == "fifty-thousand-paragraphs":
        (ed / "a.md").write_text(md("Many", "\n\n".join(f"Paragraph {n}." for n in range(50_000))),
                                 encoding="utf-8")
        args = ["-f", "epub"]
    elif name == "five-thousand-articles":
        for n in range(5000):
            (ed / f"a{n:04d}.md").write_text(md(f"Item {n}", f"Text {n}."), encoding="utf-8")
        args = ["-f", "epub"]
    elif name == "ten-thousand-levels-of-nesting":
        (ed / "a.md").write_text(md("Deep", "<div>" * 10_000 + "deep text" + "</div>" * 10_000), encoding="utf-8")
    elif name == "billion-laughs-and-xxe-in-xhtml":
        (tmp := root / "secret.txt").write_text("CANARY-XXE", encoding="utf-8")
        lol = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
        (ed / "a.xhtml").write_text(
            f'<?xml version="1.0"?><!DOCTYPE html [{lol}<!ENTITY xxe SYSTEM "file://{tmp}">]>'
            '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Laughs</title></head><body><article>'
            '<h1>Laughs</h1><p>&lol9; &xxe;</p><p>A paragraph of real text so that the page has an article.</p>'
            '<p>Another paragraph of real text, long enough to count as the body of an article page.</p>'
            '</article></body></html>', encoding="utf-8")
    elif name == "billion-laughs-and-xxe-in-feed":
        (tmp := root / "secret.txt").write_text("CANARY-XXE", encoding="utf-8")
        (ed / "feed.xml").write_text(
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            f'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY xxe SYSTEM "file://{tmp}">]>'
            '<rss version="2.0"><channel><title>Feed</title><item><title>Entry &c; &xxe;</title>'
            '<description>Body &c; &xxe;</description></item></channel></rss>', encoding="utf-8")
    elif name == "png-declaring-50000x50000":
        (ed / "bomb.png").write_bytes(_png(50_000, 50_000))
        (ed / "a.md").write_text(md("Bomb", "![bomb](bomb.png)\n\nText."), encoding="utf-8")
    elif name == "truncated-jpeg":
        (ed / "cut.jpg").write_bytes(_jpeg_truncated())
        (ed / "a.md").write_text(md("Cut", "![cut](cut.jpg)\n\nText."), encoding="utf-8")
    elif name == "svg-with-script-and-external-references":
        (ed / "pic.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script>'
                                    '<image href="file:///etc/passwd"/></svg>', encoding="utf-8")
        (ed / "a.md").write_text(md("SVG", "![svg](pic.svg)\n\n<svg><script>alert(2)</script></svg>\n\nText."),
                                 encoding="utf-8")
    elif name == "css-file-urls-and-import":
        (ed / "a.md").write_text(md("CSS", '<style>@import url(file:///etc/passwd); p { background: '
                                    'url(file:///etc/passwd) }</style>\n\n<p style="background: url(file:///etc/passwd)">'
                                    'Styled</p>'), encoding="utf-8")
    elif name == "img-src-file-absolute-escape-remote-data":
        big = "data:image/png;base64," + "A" * 3_000_000
        (ed / "a.md").write_text(md("Images", f'<img src="file:///etc/passwd"> <img src="/etc/passwd"> '
                                    f'<img src="../../../etc/passwd"> <img src="http://127.0.0.1:9/x.png"> '
                                    f'<img src="https://example.org/x.png"> <img src="{big}">\n\nText.'),
                                 encoding="utf-8")
    elif name == "duplicate-article-and-html-ids":
        for n in range(3):
            (ed / f"a{n}.md").write_text(md("Same", '<p id="top">x</p><p id="top">y</p>', "id: same\n"),
                                         encoding="utf-8")
    elif name == "titles-with-markup-and-template-syntax":
        (ed / "a.md").write_text(md("\"& < > \\\" ' {{ 7*7 }} {% raw %}\"", "Body {{ 7*7 }} {% raw %}"),
                                 encoding="utf-8")
    elif name == "missing-required-title":
        (ed / "a.md").write_text("---\nsection: News\n---\n\nNo title anywhere.\n", encoding="utf-8")
    elif name == "empty-issue":
        (ed / "2024-01-01").mkdir()
        (ed / "2024-01-01/issue.toml").write_text("date = 2024-01-01\n", encoding="utf-8")
    elif name == "binary-file-named-md":
        (ed / "a.md").write_bytes(_png(10, 10) + os.urandom(2000))
    elif name == "symlinks-out-of-the-source-folder":
        (root / "outside.md").write_text(md("Outside", "CANARY-SYMLINK"), encoding="utf-8")
        (root / "outside.png").write_bytes(_png(2, 2))
        (ed / "link.md").symlink_to(root / "outside.md")
        (ed / "pic.png").symlink_to(root / "outside.png")
        (ed / "a.md").write_text(md("Links", "![p](pic.png)\n\nText."), encoding="utf-8")
    else:
        raise KeyError(name)
    return ed, args


# case → ("built", text the warnings must name) or ("refused", text the one-line error must hold)
CASES = {
    "invalid-utf8-and-mixed-encodings": ("built", ""),
    "control-characters-and-nul": ("built", "control characters removed"),
    "lone-surrogates": ("built", ""),
    "truncated-and-unclosed-html": ("built", ""),
    "ten-megabyte-paragraph": ("built", ""),
    "fifty-thousand-paragraphs": ("built", ""),
    "five-thousand-articles": ("built", "5000 articles in one issue; the first 2000 are kept"),
    "ten-thousand-levels-of-nesting": ("built", ""),
    "billion-laughs-and-xxe-in-xhtml": ("built", ""),
    "billion-laughs-and-xxe-in-feed": ("built", "feed.xml"),
    "png-declaring-50000x50000": ("built", "bomb.png"),
    "truncated-jpeg": ("built", "cut.jpg"),
    "svg-with-script-and-external-references": ("built", "pic.svg"),
    "css-file-urls-and-import": ("built", ""),
    "img-src-file-absolute-escape-remote-data": ("built", "/etc/passwd"),
    "duplicate-article-and-html-ids": ("built", ""),
    "titles-with-markup-and-template-syntax": ("built", ""),
    "missing-required-title": ("refused", "title"),
    "empty-issue": ("refused", "no articles"),
    "binary-file-named-md": ("refused", "binary"),
    "symlinks-out-of-the-source-folder": ("refused", "ed/link.md: leads outside the source folder (a link to "),
}


def _load_case_modules() -> None:
    import importlib
    import pkgutil

    package = Path(__file__).parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(package)]) if m.name.startswith("cases_")):
        importlib.import_module(f"{__package__}.{module}")


_load_case_modules()
