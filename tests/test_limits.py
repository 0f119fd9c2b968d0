"""Limits as policy: defaults < the user's config < the command line; a source folder only lowers them."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from broadsheet import limits
from broadsheet.errors import ConfigError
from broadsheet.ingest.html import flatten_raw, html_to_blocks
from broadsheet.ingest.jpeg import count_scans
from conftest import outputs, run_cli
from hostile.cases_bounds import _feed, scan_bomb
from test_cli import write

LONG_ZH = "\n\n".join("实施创新工程，提升党建水平。" * 40 for _ in range(120))


@pytest.fixture(autouse=True)
def _restore_limits():
    before = limits.current()
    yield
    limits.use(before)
    limits._USER.clear()


def user_config(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment whose user config (``$XDG_CONFIG_HOME/broadsheet/config.toml``) holds ``text``."""
    write(tmp_path / "xdg/broadsheet/config.toml", text)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


# --- precedence ------------------------------------------------------------------------------


def test_the_user_config_sets_limits_and_the_command_line_overrides_it(tmp_path):
    config = tmp_path / "config.toml"
    write(config, "[limits]\nlayout_seconds = 30\njobs = 1\npicture_scans = 50\n")
    assert limits.settle(config=tmp_path / "absent.toml") == limits.Limits()
    settled = limits.settle({"layout_seconds": None}, config=config)
    assert (settled.layout_seconds, settled.jobs, settled.picture_scans) == (30, 1, 50)
    assert settled.build_seconds == limits.Limits().build_seconds
    settled = limits.settle({"layout_seconds": 5, "jobs": None}, config=config)
    assert (settled.layout_seconds, settled.jobs) == (5, 1)


def test_the_user_config_is_found_under_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert limits.user_config_path() == tmp_path / "xdg/broadsheet/config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert limits.user_config_path() == tmp_path / "home/.config/broadsheet/config.toml"


@pytest.mark.parametrize("text,fault", [
    ("[limits]\nlayout_secs = 3\n", "limits.layout_secs: unknown key"),
    ("[limits]\njobs = 1.5\n", "limits.jobs: expected a whole number"),
    ("[limits]\nbuild_seconds = -1\n", "limits.build_seconds: expected a number above 0"),
    ("[limits]\nquote_chars = true\n", "limits.quote_chars: expected a whole number"),
    ("limits = 3\n", "limits: expected a table"),
    ("[limits\n", "invalid TOML"),
])
def test_a_bad_user_config_is_one_line_naming_the_file_and_key(tmp_path, text, fault):
    env = user_config(tmp_path, text)
    write(tmp_path / "ed/a.md", "---\ntitle: T\n---\n\nText.\n")
    result = run_cli("inspect", tmp_path / "ed", env=env)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"broadsheet: error: {tmp_path / 'xdg/broadsheet/config.toml'}: ") and fault in line, line


def test_user_config_then_command_line_hold_pdf_layout(tmp_path):
    """The user's layout_seconds stops the layout; --render-timeout on the command line wins over it."""
    env = user_config(tmp_path, "[limits]\nlayout_seconds = 0.5\n")
    write(tmp_path / "ed/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n")
    result = run_cli("build", tmp_path / "ed", "-o", tmp_path / "out", "-f", "pdf", env=env)
    assert result.returncode == 1 and "took longer than 0.5 s" in result.stderr, result.stderr
    result = run_cli("build", tmp_path / "ed", "-o", tmp_path / "out", "-f", "pdf", "--render-timeout", "0.4",
                     env=env)
    assert result.returncode == 1 and "took longer than 0.4 s" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


# --- a source only lowers ---------------------------------------------------------------------


def test_a_source_lowers_but_never_raises_the_limits():
    machine = limits.Limits(layout_seconds=60, layout_memory_mb=2048, jobs=0)
    asked = {"layout_seconds": 86400, "layout_memory_mb": 100_000_000, "jobs": 256}
    used, refused = limits.capped(asked, machine)
    assert used == {"layout_seconds": 60, "layout_memory_mb": 2048, "jobs": limits.cores()}
    assert refused == asked
    used, refused = limits.capped({"layout_seconds": 5, "layout_memory_mb": 512, "jobs": 1}, machine)
    assert used == {"layout_seconds": 5, "layout_memory_mb": 512, "jobs": 1} and refused == {}
    used, refused = limits.capped({"layout_seconds": None, "layout_memory_mb": None, "jobs": None}, machine)
    assert used == {"layout_seconds": 60, "layout_memory_mb": 2048, "jobs": limits.cores()} and refused == {}


def test_pools_never_exceed_the_cores_or_jobs():
    assert limits.Limits().pool(10_000) == limits.cores()
    assert limits.Limits(jobs=1).pool(10_000) == 1
    assert limits.Limits(jobs=1).pool() == 1
    assert limits.Limits().pool() == limits.cores()


def test_a_source_asking_for_more_time_is_held_to_the_command_line(tmp_path):
    write(tmp_path / "ed/broadsheet.toml", "[pdf]\ntimeout = 86400\n")
    write(tmp_path / "ed/2024-01-01/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n")
    result = run_cli("build", tmp_path / "ed", "-o", tmp_path / "out", "-f", "pdf", "--render-timeout", "0.5", "-v")
    assert result.returncode == 1, result.stderr
    assert "[pdf] timeout = 86400 is above this machine's limit; 0.5 is used" in result.stderr
    assert "took longer than 0.5 s" in result.stderr.strip().splitlines()[-1]


# --- documents --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "a = " + "[" * 100_000 + "]" * 100_000,
    "a = " + "{b=" * 100_000 + "1" + "}" * 100_000,
    "[publication]\n" + "x." * 100_000 + "y = 1",
    "a = " + "[" * 65 + "]" * 65,
])
def test_toml_nested_too_deep_is_refused_quickly(tmp_path, text):
    from broadsheet.config import read_toml

    write(tmp_path / "issue.toml", text + "\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="issue.toml: nested more than 64 levels deep"):
        read_toml(tmp_path / "issue.toml")
    assert time.perf_counter() - start < 5


def test_toml_brackets_in_strings_and_comments_do_not_count(tmp_path):
    from broadsheet.config import read_toml

    text = 'title = "' + "[" * 500 + '"\n# ' + "{" * 500 + "\nnote = '" + "." * 500 + "'\nmarks = [[1.5, 2.5]]\n"
    write(tmp_path / "a.toml", text)
    assert read_toml(tmp_path / "a.toml")["title"] == "[" * 500


def test_toml_numbers_with_a_fraction_do_not_count_as_nesting(tmp_path):
    from broadsheet.config import read_toml

    write(tmp_path / "a.toml", "x = [" + ", ".join(f"{n}.5" for n in range(100)) + "]\nt = 12:30:00.5\n")
    assert read_toml(tmp_path / "a.toml")["x"][99] == 99.5


def test_front_matter_aliases_and_depth_are_refused(tmp_path):
    from broadsheet.ingest.markdown import parse_front_matter

    with pytest.raises(ConfigError, match="anchors and aliases"):
        parse_front_matter("---\ntitle: &t T\nsubtitle: *t\n---\nBody\n", tmp_path / "a.md")
    with pytest.raises(ConfigError, match="nested more than 64 levels deep"):
        parse_front_matter("---\ntags: " + "[" * 100 + "]" * 100 + "\n---\nBody\n", tmp_path / "a.md")
    meta, body = parse_front_matter("---\ntitle: T\ntags: [a, b]\n---\nBody\n", tmp_path / "a.md")
    assert meta.tags == ("a", "b") and body == "Body\n"


def test_values_in_error_messages_are_cut():
    assert len(limits.quote("x" * 1_000_000)) < 250
    assert limits.quote("short") == "'short'"
    assert limits.cut("y" * 1000).endswith("(1,000 characters)")


# --- markup depth -----------------------------------------------------------------------------


def test_flattening_is_linear_in_depth():
    def seconds(depth: int) -> float:
        markup = "<div>" * depth + "deep" + "</div>" * depth
        start = time.perf_counter()
        flat, changed = flatten_raw(markup, 200)
        assert changed and flat.count("<div>") == 200 and flat.count("</div>") == 200 and "deep" in flat
        return time.perf_counter() - start

    small, large = seconds(20_000), seconds(200_000)
    assert large < 30 * small + 0.5  # ten times the depth: about ten times the time, never a hundred


def test_flattening_keeps_text_and_drops_whole_what_the_sanitiser_removes():
    markup = "<p>a</p>" + "<div>" * 300 + "<script>alert(1)</script><svg><svg>x</svg></svg>kept" + "</div>" * 300
    flat, changed = flatten_raw(markup, 200)
    assert changed and "alert" not in flat and "<svg>" not in flat and "kept" in flat
    assert flat.count("<div>") == flat.count("</div>") == 200
    assert flatten_raw("<p>shallow</p>" * 1000, 200) == ("<p>shallow</p>" * 1000, False)
    stray = "<b>" * 300 + "text" + "</i>" * 100_000
    start = time.perf_counter()
    flat, changed = flatten_raw(stray, 200)
    assert changed and "text" in flat and time.perf_counter() - start < 5


def test_a_million_nested_divs_become_blocks_in_seconds():
    markup = "<p>before</p>" + "<div>" * 1_000_000 + "deep text" + "</div>" * 1_000_000 + "<p>after</p>"
    start = time.perf_counter()
    blocks = html_to_blocks(markup, lambda *a: None, "a.md")
    assert [b.content.text for b in blocks] == ["before", "deep text", "after"]
    assert time.perf_counter() - start < 30


# --- articles per source ----------------------------------------------------------------------


def test_a_feed_keeps_its_first_entries_up_to_the_limit(tmp_path):
    env = user_config(tmp_path, "[limits]\narticles_per_source = 7\n")
    write(tmp_path / "feed.xml", _feed(50))
    result = run_cli("inspect", "--json", tmp_path / "feed.xml", env=env)
    assert result.returncode == 0, result.stderr
    titles = [a["title"] for s in json.loads(result.stdout)["issues"][0]["sections"] for a in s["articles"]]
    assert titles == [f"Entry {n}" for n in range(7)]
    assert "feed.xml: 50 entries; the first 7 are read" in result.stderr


def test_every_source_keeps_its_first_articles_up_to_the_limit(tmp_path):
    from broadsheet.ingest import _bound_articles
    from broadsheet.ingest.base import Draft, DraftSection
    from broadsheet.model import Article

    limits.use(limits.Limits(articles_per_source=3))
    articles = [Article(id=f"a{n}", title=f"A{n}", lang="en", blocks=()) for n in range(5)]
    drafts = [Draft(source=tmp_path, kind="text", sections=[DraftSection(name="x", articles=articles[:2]),
                                                           DraftSection(name="y", articles=articles[2:])])]
    _bound_articles(drafts, tmp_path)
    assert [[a.id for a in s.articles] for s in drafts[0].sections] == [["a0", "a1"], ["a2"]]


# --- pictures ---------------------------------------------------------------------------------


def test_jpeg_scans_are_counted_without_decoding():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "JPEG")
    assert count_scans(out.getvalue()) == 1
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "JPEG", progressive=True)
    assert 2 <= count_scans(out.getvalue()) <= 20
    bomb = scan_bomb(50_000)
    start = time.perf_counter()
    assert count_scans(bomb) == 50_000 and count_scans(bomb, 200) == 201
    assert time.perf_counter() - start < 2
    assert count_scans(b"not a jpeg") == 0 and count_scans(bomb[:2000]) < 50


def test_a_picture_that_takes_too_long_is_ended_and_the_others_made(tmp_path):
    from broadsheet.backends.epub.pictures import PictureLimits, _prepare_all
    from broadsheet.render import Asset

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(out, "PNG")
    pictures = [Asset(name="images/slow.jpg", id="slow", media_type="image/jpeg",
                      data=scan_bomb(20_000, (4000, 4000))),
                Asset(name="images/fine.png", id="fine", media_type="image/png", data=out.getvalue())]
    limits.use(limits.Limits(picture_seconds=0.5))
    start = time.perf_counter()
    slow, fine = _prepare_all(pictures, PictureLimits(long_side=1000), 1)
    assert slow == "making it took longer than 0.5 s"
    assert isinstance(fine, tuple) and fine[2] == (300, 200)
    assert time.perf_counter() - start < 10


def test_a_picture_too_slow_is_ended_in_a_process_where_other_threads_run(tmp_path):
    """A Dask worker runs other threads: its pictures are made in processes all the same (forked by a zygote
    started afresh, not from it), each within the time limit."""
    import threading

    from broadsheet.backends.epub.pictures import PictureLimits, _prepare_all
    from broadsheet.render import Asset

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        pictures = [Asset(name="images/slow.jpg", id="slow", media_type="image/jpeg",
                          data=scan_bomb(20_000, (4000, 4000)))]
        limits.use(limits.Limits(picture_seconds=0.5))
        start = time.perf_counter()
        (slow,) = _prepare_all(pictures, PictureLimits(long_side=1000), 1)
        assert slow == "making it took longer than 0.5 s"
        assert time.perf_counter() - start < 10
    finally:
        stop.set()
        other.join()


def test_flattening_leaves_the_content_of_scripts_and_styles_alone():
    """Markup inside a script is its text: it neither counts as nesting nor loses its end tag."""
    page = ("<html><head><script>var s = '" + "<div>" * 250 + "';</script><style>p{}</style></head><body>"
            + "<div><p>one</p><p>two</p></div>" * 120 + "</body></html>")
    flattened, changed = flatten_raw(page, 200)
    assert not changed and flattened == page


def test_front_matter_faults_are_told_in_pyyaml_words_after_the_bounds_check(tmp_path):
    from broadsheet.ingest.markdown import parse_front_matter

    with pytest.raises(ConfigError, match=r"a.md: malformed front matter \(line 2\): mapping values are not allowed here"):
        parse_front_matter("---\ntitle: a: b: c\n---\nBody\n", tmp_path / "a.md")


def test_limits_within_a_thread_leave_the_other_threads_theirs():
    """A Dask worker's threads run tasks of several builds: one task's limits (limits.within) are its thread's."""
    import dataclasses
    import threading

    process = limits.current()
    entered, leave = threading.Event(), threading.Event()
    seen = {}

    def task() -> None:
        with limits.within(dataclasses.replace(process, source_bytes=200)):
            seen["inside"] = limits.current().source_bytes
            entered.set()
            leave.wait(10)
        seen["after"] = limits.current().source_bytes

    thread = threading.Thread(target=task)
    thread.start()
    try:
        assert entered.wait(10)
        assert limits.current() is process  # this thread, while the other is within its own
    finally:
        leave.set()
        thread.join(10)
    assert seen == {"inside": 200, "after": process.source_bytes}
