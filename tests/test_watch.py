"""``build --watch`` and ``digest --watch``: a real watching process, edited under, stopped by a signal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "harbour-gazette"
ISSUE = "2026-11-20"
EPUB = f"harbour-gazette-{ISSUE}.epub"


def _wait_for(condition, seconds: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def _text(epub: Path) -> str:
    try:
        with zipfile.ZipFile(epub) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                           if n.endswith(".xhtml"))
    except (OSError, zipfile.BadZipFile):
        return ""


def _names(epub: Path) -> list[str]:
    try:
        with zipfile.ZipFile(epub) as archive:
            return archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return []


def _group(pgid: int) -> list[int]:
    """The processes alive in process group ``pgid`` (zombies aside)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Watcher:
    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.source = tmp_path / "src"
        shutil.copytree(EXAMPLE, self.source)
        self.out = self.source / "out"  # inside the source: its writes must not start rebuilds
        self.stdout = tmp_path / "stdout"
        self.stderr = tmp_path / "stderr"
        env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
        env.pop("BROADSHEET_DEBUG", None)
        env.pop("BROADSHEET_NO_SUPERVISOR", None)
        with self.stdout.open("w") as out, self.stderr.open("w") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "broadsheet", *self.command(tmp_path), *extra],
                                            stdout=out, stderr=err, env=env)

    def command(self, tmp_path: Path) -> list[str]:
        return ["build", str(self.source), "--watch", "--out", str(self.out), "-f", "epub"]

    @property
    def epub(self) -> Path:
        return self.out / EPUB

    def lines(self) -> list[str]:
        return self.stdout.read_text(encoding="utf-8").splitlines()

    def errors(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8").splitlines()

    def built(self, count: int) -> None:
        _wait_for(lambda: len(self.lines()) >= count, what=f"{count} builds; stderr: {self.errors()}")

    def article(self, name: str) -> Path:
        return self.source / ISSUE / name

    def stop(self, signum: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture
def watcher(tmp_path):
    made: list[Watcher] = []

    def start(*extra: str) -> Watcher:
        made.append(Watcher(tmp_path, *extra))
        return made[-1]

    yield start
    for w in made:
        w.stop(signal.SIGKILL)


def test_an_edit_rewrites_the_epub_a_deletion_drops_the_article_and_sigint_stops_it_cleanly(watcher):
    w = watcher()
    w.built(1)
    assert "built: 1 file in" in w.lines()[0]
    assert "Zanzibar schooner" not in _text(w.epub)
    with w.article("02-lighthouse.md").open("a", encoding="utf-8") as f:
        f.write("\nA Zanzibar schooner called at the quay.\n")
    _wait_for(lambda: "Zanzibar schooner" in _text(w.epub), what="the edit in the EPUB")
    # the line comes once the build is over (the manifest, the cache and the picture workers after the EPUB)
    _wait_for(lambda: "rebuilt after" in w.lines()[-1], what="the rebuild's line")
    assert w.errors() == []

    assert "EPUB/text/editorial.xhtml" in _names(w.epub)
    w.article("03-editorial.md").unlink()
    _wait_for(lambda: "EPUB/text/editorial.xhtml" not in _names(w.epub), what="the deleted article dropped")

    worker = _children(w.process.pid)
    assert worker, "the supervised process"
    assert w.stop(signal.SIGINT) == 1
    assert w.errors()[-1] == "broadsheet: error: stopped by SIGINT; nothing half-written was left"
    assert not list(w.source.rglob("*.part"))
    assert not _group(worker[0]), "processes left running"
    assert "Zanzibar schooner" in _text(w.epub)  # the last output stays whole


def test_a_broken_edit_is_told_in_one_line_and_the_fix_rebuilds(watcher):
    w = watcher()
    w.built(1)
    ferry = w.article("01-ferry.md")
    good = ferry.read_text(encoding="utf-8")
    ferry.write_text(good.replace("title: ", "title: [broken ", 1), encoding="utf-8")
    _wait_for(lambda: w.errors(), what="the error line")
    time.sleep(0.3)  # no second line follows
    assert len(w.errors()) == 1
    assert w.errors()[0].startswith(f"broadsheet: error: {ferry}: malformed front matter")
    assert w.process.poll() is None
    ferry.write_text(good.replace("\n\n", "\n\nThe fixed ferry story.\n\n", 1), encoding="utf-8")
    _wait_for(lambda: "The fixed ferry story" in _text(w.epub), what="the rebuild after the fix")
    assert w.stop(signal.SIGTERM) == 1
    assert w.errors()[-1] == "broadsheet: error: stopped by SIGTERM; nothing half-written was left"


def test_quiet_prints_no_rebuild_lines(watcher):
    w = watcher("--quiet")
    _wait_for(lambda: w.epub.exists(), what="the first build")
    with w.article("02-lighthouse.md").open("a", encoding="utf-8") as f:
        f.write("\nA quiet addendum.\n")
    _wait_for(lambda: "quiet addendum" in _text(w.epub), what="the quiet rebuild")
    assert w.stop() == 1
    assert w.lines() == []


def test_an_edit_to_the_theme_folder_renders_the_articles_anew(watcher, tmp_path):
    theme = tmp_path / "house"
    theme.mkdir()
    (theme / "theme.toml").write_text('inherit = "default"\n', encoding="utf-8")
    (theme / "epub").mkdir()
    article = theme / "epub" / "article.xhtml"
    template = ('{% extends "!default/epub/article.xhtml" %}'
                '{% block content %}<p class="flag">FLAG</p>\n{{ super() }}{% endblock %}')
    article.write_text(template.replace("FLAG", "First flag"), encoding="utf-8")
    w = watcher("--theme", str(theme))
    _wait_for(lambda: "First flag" in _text(w.epub), what="the first build")
    article.write_text(template.replace("FLAG", "Second flag"), encoding="utf-8")
    _wait_for(lambda: "Second flag" in _text(w.epub), what="the rebuild after the template's change")
    assert "First flag" not in _text(w.epub)
    assert w.stop() == 1


def test_hidden_files_and_the_output_folder_start_no_rebuild(watcher):
    w = watcher()
    w.built(1)
    (w.source / ISSUE / ".draft.md").write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    (w.out / "notes.txt").write_text("by hand", encoding="utf-8")
    with w.article("02-lighthouse.md").open("a", encoding="utf-8") as f:
        f.write("\nA visible change.\n")
    _wait_for(lambda: "visible change" in _text(w.epub), what="the rebuild")
    _wait_for(lambda: len(w.lines()) >= 2, what="the rebuild's line")
    deadline = time.monotonic() + 1.5  # its own outputs, written inside the source, must not start another
    while time.monotonic() < deadline:
        time.sleep(0.1)
        assert len(w.lines()) == 2, w.lines()
    assert "rebuilt after 1 change:" in w.lines()[1]
    assert w.errors() == []
    assert w.stop() == 1


class DigestWatcher(Watcher):
    """``digest --recipe … --watch`` over a copy of the example, with the recipe beside it."""

    def command(self, tmp_path: Path) -> list[str]:
        self.recipe = tmp_path / "weekly.toml"
        self.recipe.write_text(self.recipe_text("The Week"), encoding="utf-8")
        return ["digest", "--recipe", str(self.recipe), "--watch"]

    def recipe_text(self, title: str) -> str:
        return f'title = "{title}"\nsources = ["src"]\nformats = ["epub"]\nout = "src/out"\n'

    def digests(self) -> list[Path]:
        return sorted(self.out.glob("*.epub"))


def test_digest_watch_rebuilds_on_a_source_edit_and_on_the_recipe_and_tells_a_broken_recipe(tmp_path):
    w = DigestWatcher(tmp_path)
    try:
        w.built(1)
        assert "built: 1 file in" in w.lines()[0]
        (first,) = w.digests()
        with w.article("02-lighthouse.md").open("a", encoding="utf-8") as f:
            f.write("\nA Zanzibar schooner called at the quay.\n")
        _wait_for(lambda: "Zanzibar schooner" in _text(first), what="the edit in the digest")
        _wait_for(lambda: "rebuilt after" in w.lines()[-1], what="the rebuild's line")

        w.recipe.write_text("title = [\n", encoding="utf-8")  # a broken recipe is told, the watch goes on
        _wait_for(lambda: w.errors(), what="the error line")
        assert w.errors()[0].startswith(f"broadsheet: error: {w.recipe}") and len(w.errors()) == 1
        assert w.process.poll() is None

        w.recipe.write_text(w.recipe_text("Harbour Weekly"), encoding="utf-8")  # the recipe is read again
        _wait_for(lambda: any("harbour-weekly" in p.name for p in w.digests()), what="the new title's digest")
        assert "Harbour Weekly" in _text(next(p for p in w.digests() if "harbour-weekly" in p.name))

        worker = _children(w.process.pid)
        assert w.stop(signal.SIGINT) == 1
        assert w.errors()[-1] == "broadsheet: error: stopped by SIGINT; nothing half-written was left"
        assert not list(w.source.rglob("*.part"))
        assert not worker or not _group(worker[0]), "processes left running"
    finally:
        w.stop(signal.SIGKILL)


def test_digest_watch_refuses_send_and_json(tmp_path):
    from conftest import run_cli

    recipe = tmp_path / "r.toml"
    recipe.write_text('sources = ["x"]\n', encoding="utf-8")
    for flag in ("--json", "--send"):
        result = run_cli("digest", "--recipe", recipe, "--watch", flag, *(["--subscribers", recipe] if flag == "--send"
                                                                           else []))
        assert result.returncode == 2
        assert "--watch cannot be given with" in result.stderr


def test_a_change_made_before_a_new_folder_is_watched_is_not_lost(tmp_path):
    """A theme found by the first build is watched only after it: what changed there meanwhile still counts."""
    from broadsheet.watch import _changed_since, _Scope

    source, theme, out = tmp_path / "src", tmp_path / "theme", tmp_path / "src" / "out"
    for folder in (source, theme / ".git", out):
        folder.mkdir(parents=True)
    old = _Scope([source], out)
    new = _Scope([source], out)
    new.themes.add(theme)
    (theme / "untouched.css").write_text("p {}", encoding="utf-8")
    os.utime(theme / "untouched.css", (1_000_000, 1_000_000))
    since = time.time() - 1
    (theme / "article.xhtml").write_text("<p/>", encoding="utf-8")
    (theme / ".git" / "index").write_text("x", encoding="utf-8")  # hidden: not a change
    (source / "a.md").write_text("x", encoding="utf-8")  # watched all along: the old watch saw it
    assert {name for _, name in _changed_since(new, old, since)} == {str(theme / "article.xhtml")}
