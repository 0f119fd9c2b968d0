"""The build cache (``<out>/.broadsheet-cache``) cannot delete or lie: a cache folder that is a link is
neither used nor pruned (the decoy files it leads to stay as they were, old as they are), a prune removes
only the entries the cache itself names, and every entry is checked before use — flipped bytes, an entry of
another part copied over one, a damaged font subset, edited part metadata are laid out again, with a note
naming the entry, and the output equals a build without the cache."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from conftest import EN_EXAMPLE, epub_files, outputs, run_cli
from test_parallel_and_cache import laid_out, write_edition

OLD = time.time() - 90 * 86400
DECOYS = {".bashrc": b"alias ll='ls -l'\n", "id_ed25519": b"-----BEGIN OPENSSH PRIVATE KEY-----\n",
          "e" * 64: b"named as an article entry\n", "f" * 64 + "-3.pdf": b"%PDF-1.7\n%%EOF\n",
          "font-" + "d" * 64 + ".bin": b"named as a font subset\n"}
NOTE = "damaged or misplaced cache entry; made again"


def decoy_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in DECOYS.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (OLD, OLD))
    return folder


def assert_untouched(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(DECOYS)
    for name, data in DECOYS.items():
        assert (folder / name).read_bytes() == data
        assert abs((folder / name).stat().st_mtime - OLD) < 1, f"{name} was touched"


def epub_of(out: Path) -> dict[str, bytes]:
    (epub,) = [p for p in outputs(out) if p.suffix == ".epub"]
    return epub_files(epub)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference")
    result = run_cli("build", EN_EXAMPLE, "-o", out, "-f", "epub", "--no-cache")
    assert result.returncode == 0, result.stderr
    return epub_of(out)


@pytest.mark.parametrize("linked", [".broadsheet-cache", ".broadsheet-cache/xhtml"])
def test_a_linked_cache_folder_is_neither_used_nor_pruned(tmp_path, linked, reference):
    home = decoy_folder(tmp_path / "home")
    decoy_folder(home / "xhtml")  # where the article cache would prune through a linked .broadsheet-cache
    out = tmp_path / "out"
    (out / linked).parent.mkdir(parents=True)
    (out / linked).symlink_to(home)
    for _ in range(2):
        result = run_cli("build", EN_EXAMPLE, "-o", out, "-f", "epub")
        assert result.returncode == 0, result.stderr
        assert f"{out / linked}: is a link; the cache is not used there" in result.stderr
        assert epub_of(out) == reference
    assert sorted(p.name for p in home.iterdir()) == sorted([*DECOYS, "xhtml"])
    (home / "xhtml").rename(tmp_path / "inner")
    assert_untouched(home)
    assert_untouched(tmp_path / "inner")


def test_a_prune_removes_only_entries_the_cache_names(tmp_path, reference):
    outside = decoy_folder(tmp_path / "home")
    folder = tmp_path / "out" / ".broadsheet-cache" / "xhtml"
    folder.mkdir(parents=True)
    stale = folder / ("0" * 64)
    stale.write_bytes(b"an entry no build has used for 90 days")
    (folder / "notes.txt").write_text("not an entry", encoding="utf-8")
    (folder / ("1" * 64)).symlink_to(outside / ("e" * 64))  # named as an entry, but a link
    (folder / ("2" * 64)).mkdir()
    left = folder / f".{'3' * 64}.4242.0123abcd.part"  # left by a build killed while writing
    left.write_bytes(b"half an entry")
    foreign = folder / ".notes.txt.4242.0123abcd.part"
    foreign.write_bytes(b"not the cache's")
    for path in (stale, folder / "notes.txt", folder / ("2" * 64), left, foreign):
        os.utime(path, (OLD, OLD))
    os.utime(folder / ("1" * 64), (OLD, OLD), follow_symlinks=False)
    result = run_cli("build", EN_EXAMPLE, "-o", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert epub_of(tmp_path / "out") == reference
    assert not stale.exists() and not left.exists()
    assert foreign.exists()
    assert (folder / "notes.txt").exists() and (folder / ("2" * 64)).is_dir()
    assert (folder / ("1" * 64)).is_symlink()
    assert_untouched(outside)
    entries = [p for p in folder.iterdir() if len(p.name) == 64 and p.is_file() and not p.is_symlink()]
    assert len(entries) == 3  # one per article, written by this build


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to give a folder to another user")
def test_a_cache_folder_of_another_user_is_not_used(tmp_path, reference):
    folder = tmp_path / "out" / ".broadsheet-cache" / "xhtml"
    folder.mkdir(parents=True)
    os.chown(folder, 65534, 65534)
    result = run_cli("build", EN_EXAMPLE, "-o", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert f"{folder}: is not owned by this user; the cache is not used there" in result.stderr
    assert list(folder.iterdir()) == []
    assert epub_of(tmp_path / "out") == reference


def test_an_article_entry_copied_over_another_is_made_again(tmp_path, reference):
    out = tmp_path / "out"
    assert run_cli("build", EN_EXAMPLE, "-o", out, "-f", "epub").returncode == 0
    first, second, *_ = sorted((out / ".broadsheet-cache" / "xhtml").iterdir())
    shutil.copyfile(first, second)
    result = run_cli("build", EN_EXAMPLE, "-o", out, "-f", "epub", "-v")
    assert result.returncode == 0, result.stderr
    assert f"{second}: {NOTE}" in result.stderr
    assert f"{first}: {NOTE}" not in result.stderr
    assert epub_of(out) == reference


def flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x01
    path.write_bytes(bytes(data))


PDF_OPTIONS = ["-f", "pdf", "--jobs", "2"]


@pytest.fixture(scope="module")
def parted(tmp_path_factory) -> tuple[Path, Path]:
    """An edition laid out in parts, and its PDF built without the cache."""
    root = tmp_path_factory.mktemp("parted")
    edition = write_edition(root)
    result = run_cli("build", edition, "-o", root / "fresh", *PDF_OPTIONS, "--no-cache", "-v")
    assert result.returncode == 0, result.stderr
    assert laid_out(result)[1] >= 4
    (pdf,) = outputs(root / "fresh")
    return edition, pdf


def test_a_linked_part_cache_is_neither_used_nor_pruned(tmp_path, parted):
    edition, pdf = parted
    home = decoy_folder(tmp_path / "home")
    out = tmp_path / "out"
    (out / ".broadsheet-cache").mkdir(parents=True)
    (out / ".broadsheet-cache" / "pdf").symlink_to("../../home")
    for _ in range(2):
        result = run_cli("build", edition, "-o", out, *PDF_OPTIONS, "-v")
        assert result.returncode == 0, result.stderr
        assert f"{out / '.broadsheet-cache' / 'pdf'}: is a link; the cache is not used there" in result.stderr
        assert laid_out(result)[0] == laid_out(result)[1]  # nothing came from the decoys
        assert (out / pdf.name).read_bytes() == pdf.read_bytes()
    assert_untouched(home)


def test_damaged_or_swapped_parts_fonts_and_metadata_are_laid_out_again(tmp_path, parted):
    edition, pdf = parted
    out = tmp_path / "out"
    options = PDF_OPTIONS
    assert run_cli("build", edition, "-o", out, *options).returncode == 0
    assert (out / pdf.name).read_bytes() == pdf.read_bytes()

    cache = out / ".broadsheet-cache" / "pdf"
    parts = sorted(cache.glob("*-*.pdf"))
    fonts = sorted(cache.glob("font-*.bin"))
    assert len(parts) >= 4 and fonts, sorted(p.name for p in cache.iterdir())
    flipped, swapped, other, edited_part = parts[:4]
    edited = edited_part.with_suffix(".json")
    flip(flipped)  # the PDF's own markers (%PDF-, %%EOF) still in place
    shutil.copyfile(other, swapped)  # another part's entry, sealed as that part
    edited.write_bytes(edited.read_bytes().replace(b'"anchors"', b'"anchorz"', 1)
                       if b'"anchors"' in edited.read_bytes() else edited.read_bytes() + b" ")
    flip(fonts[0], 0.7)

    result = run_cli("build", edition, "-o", out, *options, "-v")
    assert result.returncode == 0, result.stderr
    for path in (flipped, swapped, edited, fonts[0]):
        assert f"{path}: {NOTE}" in result.stderr, (path.name, result.stderr)
    assert laid_out(result)[0] >= 3
    assert (out / pdf.name).read_bytes() == pdf.read_bytes()

    again = run_cli("build", edition, "-o", out, *options, "-v")  # the bad entries were written anew
    assert again.returncode == 0, again.stderr
    assert NOTE not in again.stderr and laid_out(again)[0] == 0
    assert (out / pdf.name).read_bytes() == pdf.read_bytes()
