"""Every fault is named in one line: long names, control characters in labels, a full disk, a folder
that cannot be written, a read-only file system, nesting past the recursion limit — never an
"internal error"."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EN_EXAMPLE, FIXED_EPOCH, outputs, run_cli

LONG = "a" * 300


def edition(tmp_path: Path, name: str = "ed") -> Path:
    """A copy of the English example (two sections, three articles, a picture)."""
    copy = tmp_path / name
    shutil.copytree(EN_EXAMPLE, copy)
    return copy


def set_id(source: Path, value: str) -> None:
    config = source / "broadsheet.toml"
    config.write_text(re.sub(r'(?m)^id = ".*"$', f'id = "{value}"', config.read_text(encoding="utf-8")),
                      encoding="utf-8")


def one_error_line(result) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("broadsheet: error: "), line
    return line


def leftovers(folder: Path) -> list[str]:
    """Every file a build left in ``folder``, hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# -- long names ----------------------------------------------------------------------------------

def test_a_long_publication_id_gives_a_short_stable_readable_name(tmp_path):
    source = edition(tmp_path)
    set_id(source, LONG)
    names = []
    for run in ("one", "two"):
        result = run_cli("build", source, "-o", tmp_path / run, "-f", "epub", "-f", "pdf")
        assert result.returncode == 0, result.stderr
        written = [p.name for p in outputs(tmp_path / run)]
        assert sorted(Path(line).name for line in result.stdout.split()) == written
        names.append(written)
    assert names[0] == names[1]  # stable
    for name in names[0]:
        assert len(name.encode()) <= 200 and name.startswith("a" * 100), name  # readable
        assert re.fullmatch(r"a+-[0-9a-f]{12}\.(epub|pdf)", name), name
    other = edition(tmp_path, "other")
    set_id(other, LONG[:-1] + "b")  # the same beginning: another hash
    result = run_cli("build", other, "-o", tmp_path / "other-out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    (name,) = [p.name for p in outputs(tmp_path / "other-out")]
    assert name not in names[0] and name[:100] == names[0][0][:100]


def test_a_long_edition_keeps_its_date_and_pdf_booklet_fits(tmp_path):
    source = edition(tmp_path)
    issue = source / "2026-11-20" / "issue.toml"
    issue.write_text(issue.read_text(encoding="utf-8") + f'edition = "{"晚报" * 100}"\n', encoding="utf-8")
    result = run_cli("build", source, "-o", tmp_path / "out", "--impose", "booklet")
    assert result.returncode == 0, result.stderr
    written = [p.name for p in outputs(tmp_path / "out")]
    assert len(written) == 3, written  # EPUB, PDF and booklet
    for name in written:
        assert name.startswith("harbour-gazette-2026-11-20-晚报晚报"), name
        assert len(name.encode()) <= 200, (name, len(name.encode()))
    assert len({re.sub(r"(-booklet)?\.(epub|pdf)$", "", name) for name in written}) == 1  # one stem


# -- control characters in labels ----------------------------------------------------------------

def newline_labels(tmp_path: Path) -> Path:
    source = edition(tmp_path)
    issue = source / "2026-11-20" / "issue.toml"
    issue.write_text('date = 2026-11-20\nnumber = "14\\n82"\nedition = "late\\r\\nfinal"\n'
                     'sections = [{ name = "News\\nDesk", page = "A1\\n2" }, { name = "Opinion\\t", page = "A6" }]\n',
                     encoding="utf-8")
    ferry = source / "2026-11-20" / "01-ferry.md"
    ferry.write_text(ferry.read_text(encoding="utf-8").replace("section: News\n", 'section: "News\\nDesk"\n'),
                     encoding="utf-8")
    lighthouse = source / "2026-11-20" / "02-lighthouse.md"
    lighthouse.write_text(lighthouse.read_text(encoding="utf-8").replace(
        "section: News\n", 'section: "Harbour\\u2028Life"\npage: "B\\x072"\n'), encoding="utf-8")
    config = source / "broadsheet.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('title = "The Harbour Gazette"',
                                                                 'title = "The Harbour\\nGazette"'), encoding="utf-8")
    return source


def _labels(node):
    """Every text value of an ``inspect --json`` model but article bodies (whose paragraphs are apart by newlines)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "text":
                yield from _labels(value)
    elif isinstance(node, list):
        for value in node:
            yield from _labels(value)
    elif isinstance(node, str):
        yield node


def test_newlines_in_labels_are_read_as_spaces(tmp_path):
    source = newline_labels(tmp_path)
    result = run_cli("inspect", source, "--json")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    assert model["publication"]["title"] == "The Harbour Gazette"
    (issue,) = model["issues"]
    assert issue["number"] == "14 82" and issue["edition"] == "late final"
    sections = [(s["name"], s["page"]) for s in issue["sections"]]
    assert sections[:2] == [("News Desk", "A1 2"), ("Opinion", "A6")]  # the declared order still holds
    assert ("Harbour Life", "B 2") in sections
    labels = list(_labels(model))
    assert "The Harbour Gazette" in labels and "Harbour Life" in labels
    assert not [label for label in labels if re.search(r"[\x00-\x1f\x7f\u2028\u2029]", label)]

    result = run_cli("build", source, "-o", tmp_path / "out", "-v")
    assert result.returncode == 0, result.stderr
    assert "section 'News\\nDesk' has control characters: read as 'News Desk'" in result.stderr
    assert "internal error" not in result.stderr
    (epub,) = [p for p in outputs(tmp_path / "out") if p.suffix == ".epub"]
    with zipfile.ZipFile(epub) as book:
        nav = next(book.read(n).decode() for n in book.namelist() if n.endswith("nav.xhtml"))
        assert "News Desk" in nav and "Harbour Life" in nav
        assert any(n.startswith("EPUB/") and "cover" in n and n.endswith((".png", ".jpg")) for n in book.namelist())


# -- the machine's faults --------------------------------------------------------------------------

def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


@contextlib.contextmanager
def tmpfs(folder: Path, options: str):
    """A tmpfs mounted on ``folder`` for the block (root only; the test is skipped otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root")
def test_a_full_disk_names_the_output_folder(tmp_path):
    source = edition(tmp_path)
    with tmpfs(tmp_path / "disk", "size=64k") as disk:
        out = disk / "build"
        result = run_cli("build", source, "-o", out)
        line = one_error_line(result)
        assert line == f"broadsheet: error: {out}: cannot write the outputs: no space left on the device"
        assert ".part" not in line
        assert not [name for name in leftovers(out) if not name.startswith(".broadsheet-cache")], leftovers(out)


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root")
def test_a_full_disk_under_a_pdf_laid_out_in_parts_leaves_no_cache(tmp_path):
    from test_parallel_and_cache import write_edition

    source = write_edition(tmp_path)
    with tmpfs(tmp_path / "disk", "size=40k") as disk:
        out = disk / "build"
        result = run_cli("build", source, "-o", out, "-f", "pdf")
        line = one_error_line(result)  # no warning about the cache: it is written only after the PDF
        assert line == f"broadsheet: error: {out}: cannot write the outputs: no space left on the device"
        assert not [p for p in out.rglob("*") if p.is_file()], leftovers(out)


@pytest.mark.skipif(not _can_mount(), reason="mounting a read-only tmpfs needs root")
def test_a_read_only_file_system_names_the_output_folder(tmp_path):
    source = edition(tmp_path)
    with tmpfs(tmp_path / "ro", "ro,size=1m") as disk:
        out = disk / "build"
        line = one_error_line(run_cli("build", source, "-o", out, "-f", "epub"))
        assert line == f"broadsheet: error: {out}: cannot write the outputs: read-only file system"


def _without_dac(command: list[str]) -> list[str]:
    """``command`` run so that file permissions hold: as root, without the capabilities that
    override them (setpriv), else as it is."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a mode 0o555 folder can be written")
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]


def run_unprivileged(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    env.pop("BROADSHEET_DEBUG", None)
    return subprocess.run(_without_dac([sys.executable, "-m", "broadsheet", *map(str, args)]), capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.parametrize("where", ["folder", "parent", "grandparent"])
def test_a_folder_that_cannot_be_written_is_named(tmp_path, where):
    source = edition(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    # the folder itself, where it must be made, or where the folders on the way to it must be made
    out = {"folder": locked, "parent": locked / "build", "grandparent": locked / "a" / "b" / "build"}[where]
    locked.chmod(0o555)
    try:
        line = one_error_line(run_unprivileged("build", source, "-o", out, "-f", "epub"))
    finally:
        locked.chmod(0o755)
    assert line == f"broadsheet: error: {out}: cannot write the outputs: permission denied"
    assert leftovers(locked) == []


def test_a_folder_that_cannot_be_read_is_named(tmp_path):
    source = edition(tmp_path)
    issue = source / "2026-11-20"
    issue.chmod(0)
    try:
        line = one_error_line(run_unprivileged("build", source, "-o", tmp_path / "out"))
    finally:
        issue.chmod(0o755)
    assert line.startswith(f"broadsheet: error: {issue}") and line.endswith(": permission denied"), line
    assert not (tmp_path / "out").exists()


def test_a_cache_that_cannot_be_written_is_a_warning_naming_it(tmp_path):
    source = edition(tmp_path)
    out = tmp_path / "out"
    cache = out / ".broadsheet-cache"
    cache.mkdir(parents=True)
    cache.chmod(0o555)
    try:
        result = run_unprivileged("build", source, "-o", out)
    finally:
        cache.chmod(0o755)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("broadsheet: warning: ")]
    assert warnings and all(f"{cache}/" in line and "cannot be written: permission denied" in line
                            and ".part" not in line for line in warnings), result.stderr
    assert sorted(p.suffix for p in outputs(out)) == [".epub", ".pdf"]
    assert leftovers(cache) == []


def test_a_name_too_long_for_the_file_system_is_named(tmp_path):
    source = edition(tmp_path)
    out = tmp_path / ("o" * 300)
    line = one_error_line(run_cli("build", source, "-o", out, "-f", "epub"))
    assert line == f"broadsheet: error: {out}: cannot write the outputs: file name too long"


def test_what_stands_in_the_way_of_an_output_is_named(tmp_path):
    source = edition(tmp_path)
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "a-file" / "build"
    line = one_error_line(run_cli("build", source, "-o", out, "-f", "epub"))
    assert line == f"broadsheet: error: {out}: cannot write the outputs: a file stands where a folder must be"
    blocked = tmp_path / "out" / "harbour-gazette-2026-11-20.epub"
    blocked.mkdir(parents=True)
    line = one_error_line(run_cli("build", source, "-o", tmp_path / "out", "-f", "epub"))
    assert line.startswith("broadsheet: error: ") and line.endswith(
        "harbour-gazette-2026-11-20.epub: cannot write the outputs: a folder stands where a file must be written")
    assert leftovers(tmp_path / "out") == ["harbour-gazette-2026-11-20.epub"]


def test_nesting_past_the_recursion_limit_names_the_input(tmp_path):
    source = edition(tmp_path)
    (source / "2026-11-20" / "issue.toml").write_text(
        "date = 2026-11-20\nx = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    line = one_error_line(run_cli("build", source, "-o", tmp_path / "out"))
    assert str(source) in line and re.search(r"nest|deep", line), line
    assert not (tmp_path / "out").exists()


def test_a_digest_title_of_control_characters(tmp_path):
    result = run_cli("digest", EN_EXAMPLE, "-o", tmp_path / "out", "-f", "epub", "--title", "\n\x07")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in outputs(tmp_path / "out")] == ["the-harbour-gazette-digest-2026-11-20.epub"]
    result = run_cli("digest", EN_EXAMPLE, "--json", "--title", "Weekly\nHarbour")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["publication"]["title"] == "Weekly Harbour"


def test_a_title_of_control_characters_only_is_missing(tmp_path):
    source = edition(tmp_path)
    ferry = source / "2026-11-20" / "01-ferry.md"
    text = ferry.read_text(encoding="utf-8")
    ferry.write_text(re.sub(r"(?m)^title: .*$", 'title: "\\\\u0007\\\\n"', text), encoding="utf-8")
    assert 'title: "\\u0007\\n"' in ferry.read_text(encoding="utf-8")
    line = one_error_line(run_cli("build", source, "-o", tmp_path / "out", "-f", "epub"))
    assert line == f"broadsheet: error: {ferry}: title: missing (give it in the front matter or as a leading # heading)"
