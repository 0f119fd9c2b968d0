"""Hostile cases of the file door and the build cache: links out of the source folder (a dump linked to
/etc/passwd, a linked Markdown file, a linked issue folder, a linked broadsheet.toml, pictures in a linked
folder), each refused with one line naming the link and where it leads; FIFOs where sources and pictures
are expected (dropped: no link out); and cache folders that are links to a home folder full of old files a
prune would delete.

Each check reads the outputs back decompressed (every EPUB entry, the PDF's text), not their compressed
bytes, and looks at the decoys."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

from hostile.corpus import CHECKS, _png, case, md, output_text

CANARIES = ("CANARY-SYMLINK", "CANARY-OUTSIDE", "root:x:0:0")
OLD = time.time() - 90 * 86400  # older than any prune's limit
DECOYS = {".bashrc": b"alias ls='ls --color'\n", "id_ed25519": b"-----BEGIN OPENSSH PRIVATE KEY-----\n",
          "a" * 64: b"a decoy named as a cache entry\n", "font-" + "b" * 64 + ".bin": b"decoy\n",
          "c" * 64 + "-1.pdf": b"%PDF-1.7 decoy\n%%EOF\n"}


def nothing_written(root: Path, out: Path, result) -> None:
    """A refused case: exit 1, no canary in what was printed, no output (not even a temporary file)."""
    assert result.returncode == 1, result.stderr
    for canary in CANARIES:
        assert canary not in result.stdout + result.stderr, canary
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()], list(out.rglob("*"))


def no_canary(root: Path, out: Path, result) -> None:
    if result.returncode != 0 or not out.exists():
        return
    text = output_text(out)
    assert text, "nothing was read back"
    for canary in CANARIES:
        assert canary not in text, canary


# Refused now: nothing written, no canary printed.
CHECKS["symlinks-out-of-the-source-folder"] = nothing_written


def _edition(root: Path) -> Path:
    ed = root / "ed"
    ed.mkdir(parents=True)
    (ed / "a.md").write_text(md("Inside", "Text from inside the source folder."), encoding="utf-8")
    return ed


@case("dump-linked-to-etc-passwd", "refused",
      "ed/passwd.txt: leads outside the source folder (a link to /etc/passwd); not read", check=nothing_written)
def _(root):
    ed = _edition(root)
    (ed / "passwd.txt").symlink_to("/etc/passwd")
    return ed, ["-f", "epub"]


@case("markdown-linked-out", "refused", "ed/story.md: leads outside the source folder (a link to ",
      check=nothing_written)
def _(root):
    ed = _edition(root)
    (root / "elsewhere.md").write_text(md("Outside", "CANARY-SYMLINK"), encoding="utf-8")
    (ed / "story.md").symlink_to(root / "elsewhere.md")
    return ed, []


@case("issue-folder-linked-out", "refused", "pub/2024-01-02: leads outside the source folder (a link to ",
      check=nothing_written)
def _(root):
    pub = root / "pub"
    (pub / "2024-01-01").mkdir(parents=True)
    (pub / "broadsheet.toml").write_text('[publication]\ntitle = "Linked"\nid = "linked"\n', encoding="utf-8")
    (pub / "2024-01-01" / "a.md").write_text(md("Inside", "Text."), encoding="utf-8")
    (root / "other" / "2024-01-02").mkdir(parents=True)
    (root / "other" / "2024-01-02" / "a.md").write_text(md("Outside", "CANARY-SYMLINK"), encoding="utf-8")
    (pub / "2024-01-02").symlink_to(root / "other" / "2024-01-02")
    return pub, ["-f", "epub"]


@case("broadsheet-toml-linked-out", "refused", "ed/broadsheet.toml: file leads outside its folder (a link to ",
      check=nothing_written)
def _(root):
    ed = _edition(root)
    (root / "their.toml").write_text('theme = "default"\n[publication]\ntitle = "CANARY-OUTSIDE"\n', encoding="utf-8")
    (ed / "broadsheet.toml").symlink_to(root / "their.toml")
    return ed, ["-f", "epub"]


def _picture_untouched(root: Path, out: Path, result) -> None:
    no_canary(root, out, result)
    for path in sorted(out.glob("*.epub")):
        with zipfile.ZipFile(path) as archive:
            assert not [n for n in archive.namelist() if n.startswith("EPUB/images/") and "cover" not in n], archive.namelist()


@case("pictures-in-a-linked-folder", "refused",
      "ed/a.md: picture 'pics/p.png' leads outside the source folder (through ", check=nothing_written)
def _(root):
    ed = root / "ed"
    ed.mkdir()
    (root / "pictures").mkdir()
    (root / "pictures" / "p.png").write_bytes(_png(4, 4))
    (ed / "pics").symlink_to(root / "pictures")
    (ed / "a.md").write_text(md("Pictures", "![p](pics/p.png)\n\nText."), encoding="utf-8")
    return ed, ["-f", "epub"]


@case("fifos-for-a-source-and-a-picture", "built", "pic.png", seconds=60, check=_picture_untouched)
def _(root):
    ed = _edition(root)
    os.mkfifo(ed / "pipe.md")
    os.mkfifo(ed / "pipe.htm")
    os.mkfifo(ed / "pic.png")
    (ed / "b.md").write_text(md("Piped", "![p](pic.png)\n\nText."), encoding="utf-8")
    return ed, ["-f", "epub"]


def _decoys(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in DECOYS.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (OLD, OLD))


def _decoys_untouched(root: Path, out: Path, result) -> None:
    no_canary(root, out, result)
    for folder in (root / "home", root / "home2", root / "home2" / "xhtml"):
        if folder.exists():
            assert sorted(p.name for p in folder.iterdir() if not p.is_dir()) == sorted(DECOYS), folder
            assert [p.name for p in folder.iterdir() if p.is_dir()] in ([], ["xhtml"]), folder
            for name, data in DECOYS.items():
                assert (folder / name).read_bytes() == data
                assert abs((folder / name).stat().st_mtime - OLD) < 1, name  # not even touched


@case("cache-subfolder-linked-to-home", "built", "the cache is not used there", check=_decoys_untouched)
def _(root):
    ed = _edition(root)
    _decoys(root / "home")
    (root / "out" / ".broadsheet-cache").mkdir(parents=True)
    (root / "out" / ".broadsheet-cache" / "xhtml").symlink_to("../../home")
    (root / "out" / ".broadsheet-cache" / "pdf").symlink_to(root / "home")
    return ed, []


@case("cache-folder-linked-to-home", "built", "the cache is not used there", check=_decoys_untouched)
def _(root):
    ed = _edition(root)
    _decoys(root / "home2")
    _decoys(root / "home2" / "xhtml")  # where the cache would prune, had it followed the link
    (root / "out").mkdir()
    (root / "out" / ".broadsheet-cache").symlink_to(root / "home2")
    return ed, ["-f", "epub"]
