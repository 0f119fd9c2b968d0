"""One door for the files a build did not write: sources, issue folders, configuration and pictures are
read only from inside the source folder; a link out (a source, an issue folder, a configuration file or a
picture that is a link leading outside the folder, or lies in a linked folder) is refused — exit 1, one line
naming the link and where it leads, nothing written — a FIFO never blocks the build, and a picture swapped for
a link out after ingest looked at it is refused when a backend reads it again — never read."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import run_cli

OUTSIDE_MARK = "CANARY-OUTSIDE"


def png(color: tuple[int, int, int], size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n\n{body}\n"


def inspect(source: Path, *args) -> tuple[dict, str]:
    result = run_cli("inspect", source, "--json", *args, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def _titles(node) -> list[str]:
    """Every article title anywhere in the inspect JSON."""
    found = []
    if isinstance(node, dict):
        if "title" in node and "text" in node and "lang" in node:
            found.append(node["title"])
        for value in node.values():
            found.extend(_titles(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_titles(value))
    return found


@pytest.fixture
def edition(tmp_path) -> Path:
    ed = tmp_path / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(article("Inside", "Text from inside."), encoding="utf-8")
    return ed


def test_the_door_refuses_links_out_folders_and_fifos(tmp_path):
    from broadsheet.files import OutsideRoot, open_inside, read_inside

    root = tmp_path / "root"
    root.mkdir()
    (root / "ok.txt").write_text("fine", encoding="utf-8")
    (root / "passwd.txt").symlink_to("/etc/passwd")
    (root / "inner.txt").symlink_to("ok.txt")  # a link that stays inside is followed
    (root / "sub").mkdir()
    os.mkfifo(root / "pipe.txt")
    assert read_inside(root / "ok.txt", root) == b"fine"
    assert read_inside(root / "inner.txt", root) == b"fine"
    with pytest.raises(OutsideRoot, match=r"leads outside its folder \(a link to /etc/passwd\)"):
        read_inside(root / "passwd.txt", root)
    with pytest.raises(OutsideRoot, match="folder"):
        read_inside(root / "sub", root)
    start = time.monotonic()
    with pytest.raises(OutsideRoot, match="not a regular file"):
        with open_inside(root / "pipe.txt", root):
            pass
    assert time.monotonic() - start < 2  # opened without blocking on the FIFO


def refused(source: Path, out: Path, *args) -> str:
    """Build ``source``: it must be refused with one line (returned, without the prefix), nothing written."""
    result = run_cli("build", source, "--out", out, "-f", "epub", *args, timeout=60)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("broadsheet: error: "), line
    assert not out.exists() or not [p for p in out.iterdir() if p.name != ".broadsheet-cache"]
    return line.removeprefix("broadsheet: error: ")


def test_a_dump_linked_to_etc_passwd_is_refused(edition, tmp_path):
    (edition / "passwd.txt").symlink_to("/etc/passwd")
    line = refused(edition, tmp_path / "out")
    assert line == f"{edition / 'passwd.txt'}: leads outside the source folder (a link to /etc/passwd); not read"


def test_linked_markdown_is_refused(tmp_path):
    pub = tmp_path / "pub"
    (pub / "2024-01-01").mkdir(parents=True)
    (pub / "broadsheet.toml").write_text('[publication]\ntitle = "Linked"\nid = "linked"\n', encoding="utf-8")
    (pub / "2024-01-01" / "a.md").write_text(article("Inside", "Text."), encoding="utf-8")
    (tmp_path / "story.md").write_text(article("Outside story", OUTSIDE_MARK), encoding="utf-8")
    (pub / "2024-01-01" / "b.md").symlink_to(tmp_path / "story.md")
    line = refused(pub, tmp_path / "out")
    assert line == (f"{pub / '2024-01-01' / 'b.md'}: leads outside the source folder "
                    f"(a link to {(tmp_path / 'story.md').resolve()}); not read")


def test_a_linked_issue_folder_is_refused(tmp_path):
    pub = tmp_path / "pub"
    (pub / "2024-01-01").mkdir(parents=True)
    (pub / "broadsheet.toml").write_text('[publication]\ntitle = "Linked"\nid = "linked"\n', encoding="utf-8")
    (pub / "2024-01-01" / "a.md").write_text(article("Inside", "Text."), encoding="utf-8")
    (tmp_path / "other" / "2024-01-02").mkdir(parents=True)
    (tmp_path / "other" / "2024-01-02" / "a.md").write_text(article("Outside issue", OUTSIDE_MARK), encoding="utf-8")
    (pub / "2024-01-02").symlink_to(tmp_path / "other" / "2024-01-02")
    line = refused(pub, tmp_path / "out")
    assert line == (f"{pub / '2024-01-02'}: leads outside the source folder "
                    f"(a link to {(tmp_path / 'other' / '2024-01-02').resolve()}); not read")


def test_a_folder_whose_only_source_is_linked_out_is_refused(tmp_path):
    pub = tmp_path / "pub"
    (pub / "2024-01-01").mkdir(parents=True)
    (pub / "2024-01-02").mkdir()
    (pub / "2024-01-01" / "a.md").write_text(article("Inside", "Text."), encoding="utf-8")
    (tmp_path / "story.md").write_text(article("Outside story", OUTSIDE_MARK), encoding="utf-8")
    (pub / "2024-01-02" / "b.md").symlink_to(tmp_path / "story.md")
    line = refused(pub, tmp_path / "out")
    assert line.startswith(f"{pub / '2024-01-02' / 'b.md'}: leads outside the source folder (a link to ")


def test_a_linked_picture_is_refused(edition, tmp_path):
    (tmp_path / "secret.png").write_bytes(png((0, 0, 200)))
    (edition / "pic.png").symlink_to(tmp_path / "secret.png")
    (edition / "b.md").write_text(article("Picture", "![p](pic.png)\n\nText."), encoding="utf-8")
    line = refused(edition, tmp_path / "out")
    assert line == (f"{edition / 'b.md'}: picture 'pic.png' leads outside the source folder "
                    f"({edition / 'pic.png'} is a link to {(tmp_path / 'secret.png').resolve()}); not read")


def test_a_picture_in_a_linked_folder_is_refused(edition, tmp_path):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "p.png").write_bytes(png((0, 0, 200)))
    (edition / "pics").symlink_to(tmp_path / "pictures")
    (edition / "b.md").write_text(article("Picture", "![p](pics/p.png)\n\nText."), encoding="utf-8")
    line = refused(edition, tmp_path / "out")
    assert line == (f"{edition / 'b.md'}: picture 'pics/p.png' leads outside the source folder "
                    f"(through {edition / 'pics'}, a link to {(tmp_path / 'pictures').resolve()}); not read")


def test_a_pages_own_references_out_are_dropped_not_refused(edition, tmp_path):
    """``../x``, absolute paths and ``file:`` name files outside, but are no links: dropped with a warning."""
    (tmp_path / "secret.png").write_bytes(png((0, 0, 200)))
    (edition / "b.md").write_text(article("Refs", f"![a](../secret.png) ![b]({tmp_path / 'secret.png'}) "
                                          f"![c](file://{tmp_path / 'secret.png'})\n\nText."), encoding="utf-8")
    model, stderr = inspect(edition)
    assert sorted(_titles(model)) == ["Inside", "Refs"]
    assert "image '../secret.png' dropped: points outside the source folder" in stderr
    assert "dropped: absolute paths are not read" in stderr  # (a file: URL is removed before, with the markup)


def test_links_that_stay_inside_are_followed(edition):
    (edition / "pictures").mkdir()
    (edition / "pictures" / "p.png").write_bytes(png((0, 120, 0)))
    (edition / "pics").symlink_to("pictures")
    (edition / "pic.png").symlink_to("pictures/p.png")
    (edition / "b.md").write_text(article("Linked inside", "![a](pic.png)\n\n![b](pics/p.png)\n\nText."),
                                  encoding="utf-8")
    (edition / "c.md").symlink_to("b.md")
    model, stderr = inspect(edition)
    assert sorted(_titles(model)) == ["Inside", "Linked inside", "Linked inside"]
    assert "outside" not in stderr and "dropped" not in stderr, stderr


def test_a_linked_configuration_file_is_refused_by_name(edition, tmp_path):
    (tmp_path / "their.toml").write_text(f'[publication]\ntitle = "{OUTSIDE_MARK}"\n', encoding="utf-8")
    (edition / "broadsheet.toml").symlink_to(tmp_path / "their.toml")
    result = run_cli("inspect", edition, "--json", timeout=60)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line == (f"broadsheet: error: {edition / 'broadsheet.toml'}: file leads outside its folder "
                    f"(a link to {(tmp_path / 'their.toml').resolve()}); not read")
    assert OUTSIDE_MARK not in result.stdout


def test_a_link_named_on_the_command_line_is_the_users_choice(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "story.md").write_text(article("Chosen", "![p](p.png)\n\nText."), encoding="utf-8")
    (real / "p.png").write_bytes(png((10, 120, 10)))
    (tmp_path / "link.md").symlink_to(real / "story.md")
    (tmp_path / "folder").symlink_to(real)
    for source in (tmp_path / "link.md", tmp_path / "folder"):
        model, stderr = inspect(source)
        assert _titles(model) == ["Chosen"], source
        assert "dropped" not in stderr and "outside" not in stderr, stderr


def test_fifos_do_not_hang_the_build(edition):
    os.mkfifo(edition / "pipe.md")
    os.mkfifo(edition / "page.htm")
    os.mkfifo(edition / "pic.png")
    (edition / "b.md").write_text(article("Piped", "![p](pic.png)\n\nText."), encoding="utf-8")
    start = time.monotonic()
    model, stderr = inspect(edition)
    assert time.monotonic() - start < 30
    assert sorted(_titles(model)) == ["Inside", "Piped"]
    assert "image 'pic.png' dropped: not a regular file" in stderr  # a FIFO is no link out: dropped


def _swapped_after_ingest(tmp_path: Path):
    """An edition with a picture, loaded; then the picture is swapped for a link to a file outside."""
    from broadsheet.ingest import load_editions

    ed = tmp_path / "ed"
    ed.mkdir()
    (ed / "a.md").write_text(article("Picture", "![A red square](pic.png)\n\nText."), encoding="utf-8")
    (ed / "pic.png").write_bytes(png((200, 0, 0)))
    editions = load_editions([ed])
    (image,) = editions[0].publication.issues[0].articles[0].images
    assert image.path == (ed / "pic.png").resolve() and image.root == ed.resolve()
    (tmp_path / "secret.png").write_bytes(png((0, 0, 200)))
    (ed / "pic.png").unlink()
    (ed / "pic.png").symlink_to(tmp_path / "secret.png")
    return editions


@pytest.mark.parametrize("fmt", ["epub", "pdf", "html"])
def test_a_picture_swapped_for_a_link_out_after_ingest_is_refused(tmp_path, fmt):
    from broadsheet import write_editions
    from broadsheet.files import OutsideRoot

    editions = _swapped_after_ingest(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(OutsideRoot, match="leads outside") as caught:
        write_editions(editions, formats=[fmt], out=out, cache=False)
    assert Path(caught.value.path).name == "pic.png"
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_a_layout_process_reads_pictures_through_the_door(tmp_path):
    """The PDF layout processes fetch pictures themselves: a swap after every earlier look is refused
    there too."""
    from broadsheet.backends.pdf.fetcher import asset_fetcher
    from broadsheet.files import OutsideRoot

    root = tmp_path / "ed"
    root.mkdir()
    (root / "pic.png").write_bytes(png((200, 0, 0)))
    fetcher = asset_fetcher({"images/pic.png": (None, root / "pic.png", "image/png", root)}, grayscale=False)
    url = "file:///broadsheet-edition/images/pic.png"
    assert fetcher.fetch(url).read() == (root / "pic.png").read_bytes()
    (tmp_path / "secret.png").write_bytes(png((0, 0, 200)))
    (root / "pic.png").unlink()
    (root / "pic.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(OutsideRoot, match="leads outside"):
        fetcher.fetch(url)


def test_a_reading_resolves_its_root_once_and_still_checks_every_file(tmp_path, monkeypatch):
    """Within a reading (``roots_resolved``) the root's real path is worked out once for all its files, the
    folder's entries without resolving each one that is no link; a link out among them is still left out
    of the listing and refused when opened, and outside a reading the root is resolved for each file."""
    from broadsheet import files

    root = tmp_path / "ed"
    root.mkdir()
    for name in "abc":
        (root / f"{name}.md").write_text(article(name, "text"), encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text(OUTSIDE_MARK, encoding="utf-8")
    (root / "z.md").symlink_to(secret)
    real = os.path.realpath
    asked: list[str] = []
    monkeypatch.setattr(os.path, "realpath", lambda path, *a, **k: (asked.append(os.fspath(path)), real(path, *a, **k))[1])

    with files.roots_resolved():
        kept, refused = files.entries(root, root)
        texts = [files.read_inside(path, root) for path in kept]
        with pytest.raises(files.LeadsOut):
            files.read_inside(root / "z.md", root)
    assert [p.name for p in kept] == ["a.md", "b.md", "c.md"] and [p.name for p in refused] == ["z.md"]
    assert all(b"text" in text for text in texts)
    assert asked.count(os.fspath(root)) == 2  # the root once, the folder listed once
    assert os.fspath(root / "a.md") not in asked and os.fspath(root / "z.md") in asked

    asked.clear()
    for path in kept:
        files.read_inside(path, root)
    assert asked.count(os.fspath(root)) == len(kept)
