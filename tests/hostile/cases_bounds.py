"""Inputs that would run unbounded (memory, time, processes) without the limits of ``broadsheet.limits``."""

from __future__ import annotations

import io
import re
from pathlib import Path

from hostile.corpus import case, md


def _alias_bomb() -> str:
    """A few hundred bytes of YAML that compose into 9**16 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijklmnopq":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


@case("yaml-alias-bomb", "refused", "anchors and aliases")
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(md("Bomb", "Text.", _alias_bomb()), encoding="utf-8")
    return ed, ["-f", "epub"]


def _deep_toml(key: str = "a") -> str:
    return f"{key} = " + "[" * 100_000 + "]" * 100_000 + "\n"


@case("toml-100000-deep-in-broadsheet-toml", "refused", "broadsheet.toml: nested more than")
def _(root: Path):
    ed = root / "ed"
    (ed / "2024-01-01").mkdir(parents=True)
    (ed / "broadsheet.toml").write_text(_deep_toml("theme"), encoding="utf-8")
    (ed / "2024-01-01/a.md").write_text(md("Deep", "Text."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("toml-100000-deep-in-issue-toml", "refused", "issue.toml: nested more than")
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "issue.toml").write_text("sections = " + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n", encoding="utf-8")
    (ed / "a.md").write_text(md("Deep", "Text."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("toml-100000-part-dotted-key", "refused", "issue.toml: nested more than")
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "issue.toml").write_text("x" + ".x" * 100_000 + " = 1\n", encoding="utf-8")
    (ed / "a.md").write_text(md("Deep", "Text."), encoding="utf-8")
    return ed, ["-f", "epub"]


MILLION = 1_000_000


def epub_text(path: Path) -> str:
    """The text of an EPUB's documents, tags removed."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        return " ".join(re.sub(r"<[^>]+>", " ", book.read(name).decode("utf-8"))
                        for name in book.namelist() if name.endswith(".xhtml"))


def _text_kept(root: Path, out: Path, result) -> None:
    text = epub_text(next(out.glob("*.epub")))
    assert "deep text" in text and "unclosed deep" in text, text[-500:]


def _deep_text_kept(root: Path, out: Path, result) -> None:
    text = epub_text(next(out.glob("*.epub")))
    assert "deep text" in text, text[-500:]


@case("million-nested-divs-in-markdown", "built", "a.md: markup nested more than", check=_deep_text_kept)
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(md("Deep", "Before.\n\n" + "<div>" * MILLION + "deep text" + "</div>" * MILLION
                                + "\n\nAfter."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("million-nested-divs-in-an-article-page", "built", "a.html: markup nested more than", check=_deep_text_kept)
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    body = "<p>" + "A paragraph of real text so that the page has an article to extract. " * 5 + "</p>"
    (ed / "a.html").write_text(
        "<html><head><title>Deep page</title></head><body><article><h1>Deep page</h1>" + body
        + "<div>" * MILLION + "deep text" + "</div>" * MILLION + body + "</article></body></html>", encoding="utf-8")
    return ed, ["-f", "epub"]


@case("million-unclosed-elements-and-stray-ends", "built", "a.md: markup nested more than", check=_text_kept)
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    body = "<span><i>" * 100_000 + "<b>" * 200_000 + "deep text" + "</x>" * 300_000 + "\n\nunclosed deep"
    (ed / "a.md").write_text(md("Unclosed", body), encoding="utf-8")
    return ed, ["-f", "epub"]


def _feed(entries: int) -> str:
    items = "".join(f"<item><title>Entry {n}</title><link>https://example.com/{n}</link>"
                    f"<description>&lt;p&gt;Text of entry {n}.&lt;/p&gt;</description></item>\n"
                    for n in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Big feed</title>'
            f"<language>en</language>\n{items}</channel></rss>\n")


def _first_entries_kept(root: Path, out: Path, result) -> None:
    text = epub_text(next(out.glob("*.epub")))
    assert "Entry 0" in text and "Entry 999" in text and "Entry 1000" not in text


@case("feed-of-200000-entries", "built", "feed.xml: 200000 entries; the first 1000", check=_first_entries_kept)
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "feed.xml").write_text(_feed(200_000), encoding="utf-8")
    return ed, ["-f", "epub"]


def scan_bomb(scans: int, size: tuple[int, int] = (2048, 2048)) -> bytes:
    """A progressive JPEG whose smallest scan is repeated until it has ``scans`` scans."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (90, 120, 150)).save(out, "JPEG", progressive=True, quality=90)
    data = out.getvalue()
    pieces, position = [], 2
    while data[position + 1] != 0xD9:
        marker = data[position + 1]
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if marker == 0xDA:
            end = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]").search(data, end).start()
        pieces.append((marker, data[position:end]))
        position = end
    head = data[:2] + b"".join(piece for _, piece in pieces)
    smallest = min((piece for marker, piece in pieces if marker == 0xDA), key=len)
    found = sum(1 for marker, _ in pieces if marker == 0xDA)
    return head + smallest * (scans - found) + b"\xff\xd9"


@case("progressive-jpeg-of-50000-scans", "built", "scan.jpg")
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "scan.jpg").write_bytes(scan_bomb(50_000))
    (ed / "a.md").write_text(md("Scans", "![scans](scan.jpg)\n\nText."), encoding="utf-8")
    return ed, ["-f", "epub"]


def _leash_held(root: Path, out: Path, result) -> None:
    from broadsheet.limits import cores

    notes = dict(re.findall(r"\[pdf\] (\w+) = [\d.e+]+ is above this machine's limit; ([\d.]+) is used", result.stderr))
    assert set(notes) == {"timeout", "memory_mb", "jobs"}, result.stderr
    assert float(notes["timeout"]) <= 600 and int(notes["memory_mb"]) <= 8192, notes
    assert 1 <= int(notes["jobs"]) <= cores(), notes
    for at_once in re.findall(r"\((\d+) at a time\)", result.stderr):
        assert int(at_once) <= cores(), result.stderr


@case("source-lifts-its-own-leash", "built", "is above this machine's limit", check=_leash_held)
def _(root: Path):
    ed = root / "ed"
    (ed / "2024-01-01").mkdir(parents=True)
    (ed / "broadsheet.toml").write_text("[pdf]\nmemory_mb = 100000000\ntimeout = 86400\njobs = 256\n",
                                        encoding="utf-8")
    for n in range(3):
        (ed / f"2024-01-01/a{n}.md").write_text(md(f"Story {n}", f"Text {n}.", f"section: S{n}\n"), encoding="utf-8")
    return ed, ["-v"]


def _one_short_line(root: Path, out: Path, result) -> None:
    (line,) = result.stderr.strip().splitlines()
    assert len(line) < 500, len(line)


@case("huge-value-in-an-error-message", "refused", "page_size", check=_one_short_line)
def _(root: Path):
    ed = root / "ed"
    (ed / "2024-01-01").mkdir(parents=True)
    (ed / "broadsheet.toml").write_text(f'[pdf]\npage_size = "{"X" * 500_000}"\n', encoding="utf-8")
    (ed / "2024-01-01/a.md").write_text(md("Story", "Text."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("huge-value-in-front-matter", "refused", "a.md: id", check=_one_short_line)
def _(root: Path):
    ed = root / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(md("Story", "Text.", f"id: {'Y' * 200_000}\n"), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("toml-100000-deep-in-theme-toml", "refused", "theme.toml: nested more than")
def _(root: Path):
    ed = root / "ed"
    (ed / "theme").mkdir(parents=True)
    (ed / "theme/theme.toml").write_text("name = " + "{a=" * 100_000 + "1" + "}" * 100_000 + "\n", encoding="utf-8")
    (ed / "broadsheet.toml").write_text('theme = "theme"\n', encoding="utf-8")
    (ed / "a.md").write_text(md("Deep", "Text."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("markup-of-open-tags-that-never-close", "built", "", seconds=60)
def _(root: Path):
    """150 KB of "<a " with no ">" after them: a tag scanner that looks for the ">" from every "<" takes minutes."""
    ed = root / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(md("Open tags", "Text before.\n\n<div>" + "<a " * 50_000), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("dump-line-of-120000-spaces", "built", "", seconds=60)
def _(root: Path):
    """A dump whose paragraph holds 60,000 runs of spaces before a bracket: credit rules that try the
    bracket after every run take minutes."""
    ed = root / "ed"
    ed.mkdir()
    filler = " \u3000" * 60_000
    (ed / "dump.txt").write_text(
        "第15版:理论 上一版  下一版\n\n一个标题\n\n正文第一段。" + filler + "还有文字（完）\n\n——记一位老师" + filler + "张敏\n\n"
        "正文第二段。\n", encoding="utf-8")
    return ed, ["-f", "epub"]


@case("epaper-page-of-markers-that-never-close", "built", "content_5001.htm", seconds=60)
def _(root: Path):
    """A saved Founder page followed by 20,000 openers of CDATA, enpproperty and enpcontent with no closer:
    a lazy pattern that scans to the end from every opener takes over a minute."""
    page = Path(__file__).resolve().parents[1] / "fixtures/epaper/founder/html/2024-05/01/content_5001.htm"
    ed = root / "ed"
    ed.mkdir()
    (ed / "content_5001.htm").write_text(page.read_text(encoding="utf-8")
                                         + "<!--enpproperty <![CDATA[<!--enpcontent-->" * 20_000, encoding="utf-8")
    return ed, ["-f", "epub"]
