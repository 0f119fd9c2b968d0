"""Hostile cases: names too long for a file system and control characters in labels (the cover is
drawn from them).  Each builds, with the fault named under -v."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from hostile.corpus import case, md


def _publication(root: Path, config: str, issue: str, articles: dict[str, str]) -> Path:
    ed = root / "ed"
    folder = ed / "2026-11-20"
    folder.mkdir(parents=True)
    (ed / "broadsheet.toml").write_text(config, encoding="utf-8")
    (folder / "issue.toml").write_text(issue, encoding="utf-8")
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return ed


def _short_names(root, out, result) -> None:
    written = [p.name for p in out.iterdir() if not p.name.startswith(".")]
    assert written and all(len(name.encode()) <= 200 for name in written), written
    assert all(re.search(r"-[0-9a-f]{12}\.epub$", name) for name in written), written
    assert sorted(Path(line).name for line in result.stdout.split()) == sorted(written)


@case("fault-300-letter-publication-id", "built", "output name of 311 bytes shortened", check=_short_names)
def _(root):
    ed = _publication(root, f'[publication]\ntitle = "Long"\nlanguage = "en"\nid = "{"a" * 300}"\n',
                      "date = 2026-11-20\n", {"a.md": md("Long id", "Text of the article.")})
    return ed, ["-f", "epub", "-v"]


@case("fault-300-letter-edition", "built", "shortened to long-2026-11-20-eeeeeeeeee", check=_short_names)
def _(root):
    ed = _publication(root, '[publication]\ntitle = "Long"\nlanguage = "en"\nid = "long"\n',
                      f'date = 2026-11-20\nedition = "{"E" * 300}"\n', {"a.md": md("Long edition", "Text.")})
    return ed, ["-f", "epub", "-v"]


def _one_line_labels(root, out, result) -> None:
    (epub,) = out.glob("*.epub")
    with zipfile.ZipFile(epub) as book:
        text = "\n".join(book.read(n).decode() for n in book.namelist() if n.endswith((".xhtml", ".opf", ".ncx")))
    for label in ("Front Page", "A 1", "Late Final", "Sports Desk", "B 7", "Two lines of headline", "By A. Writer",
                  ">Kick<", ">体育<", "体育新闻"):
        assert label in text, label
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]", text)


@case("fault-newlines-and-controls-in-labels", "built", "has control characters: read as", check=_one_line_labels)
def _(root):
    ed = _publication(
        root, '[publication]\ntitle = "The\\nLabels\\u0007"\nlanguage = "en"\nid = "labels"\n',
        'date = 2026-11-20\nnumber = "1\\n2"\nedition = "Late\\r\\nFinal"\n'
        'sections = [{ name = "Front\\nPage", page = "A\\n1" }, { name = "Sports\\u2028Desk", page = "B\\t7" }]\n',
        {"a.md": md("One", "Text one.", 'section: "Front\\nPage"\n'),
         "b.md": md('"Two\\nlines\\u0007 of headline"', "Text two.",
                    'section: "Sports\\u2028Desk"\npage: "B\\t7"\nbyline: "By\\nA. Writer"\nkicker: "\\u0007Kick"\n'),
         "c.md": md("Three", "Text three.", 'section: "\\u0007\\n"\n'),
         "d.md": md('"体\\n育新闻"', "体育新闻正文。", 'section: "体\\r\\n育"\nlang: zh-CN\n')})
    return ed, ["-v"]

