"""An archive built in one call: the same files as each issue built alone, written in order, a fault where it was."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from broadsheet import pipeline
from broadsheet.backends import Pending
from broadsheet.errors import BroadsheetError
from conftest import outputs, run_cli

PICTURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff5ccbd5a90000000049454e44ae426082")


def make_archive(root: Path, days: int = 3, picture: bool = False) -> Path:
    """A publication folder of ``days`` one-page issues, two articles each (a picture in each, if asked)."""
    archive = root / "archive"
    archive.mkdir()
    (archive / "broadsheet.toml").write_text('[publication]\ntitle = "河洛日报"\nlanguage = "zh-CN"\nid = "hlrb"\n',
                                             encoding="utf-8")
    for day in range(1, days + 1):
        folder = archive / f"2024-05-0{day}"
        folder.mkdir()
        (folder / "issue.toml").write_text(f'date = 2024-05-0{day}\nsections = [{{ name = "要闻", page = "01" }}]\n',
                                           encoding="utf-8")
        for n in range(2):
            figure = ""
            if picture and n == 0:
                (folder / "p.png").write_bytes(PICTURE)
                figure = "![图](p.png)\n\n"
            (folder / f"a{n}.md").write_text(
                f"---\ntitle: 第{day}期第{n + 1}篇\nsection: 要闻\norder: {n}\n---\n\n{figure}"
                + "推进基层治理现代化，取得新进展。" * 20 + "\n", encoding="utf-8")
    return archive


def test_an_archive_built_at_once_gives_the_files_of_its_issues_built_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    archive = make_archive(tmp_path, picture=True)
    together = pipeline.build([archive], formats=["epub", "pdf"], out=tmp_path / "together", cache=False)
    assert [p.name for p in together] == [f"hlrb-2024-05-0{d}{s}" for d in (1, 2, 3) for s in (".epub", ".pdf")]
    for day in (1, 2, 3):
        alone = pipeline.build([archive / f"2024-05-0{day}"], formats=["epub", "pdf"], out=tmp_path / f"alone-{day}",
                               cache=False)
        for path in alone:
            assert path.read_bytes() == (tmp_path / "together" / path.name).read_bytes(), path.name


def test_an_archive_s_covers_drawn_by_two_processes_are_those_of_its_issues_built_alone(tmp_path):
    """Five issues: their covers are drawn by two processes (``cover.covers_ahead``, tested in test_cover.py),
    and each EPUB is the one its issue makes built alone."""
    archive = make_archive(tmp_path, days=5)
    result = run_cli("build", archive, "--out", tmp_path / "together", "-f", "epub", "-q", "--no-cache")
    assert result.returncode == 0, result.stderr
    for day in range(1, 6):
        alone = run_cli("build", archive / f"2024-05-0{day}", "--out", tmp_path / f"alone-{day}", "-f", "epub", "-q",
                        "--no-cache")
        assert alone.returncode == 0, alone.stderr
        name = f"hlrb-2024-05-0{day}.epub"
        assert (tmp_path / f"alone-{day}" / name).read_bytes() == (tmp_path / "together" / name).read_bytes(), name


def test_a_picture_refused_at_layout_stops_the_archive_at_its_issue(tmp_path, monkeypatch):
    """Layouts start ahead of their turn: a fault found while starting one is still told in its turn, with
    the issues before it written and none after it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    archive = make_archive(tmp_path, picture=True)
    editions = pipeline.load([archive])
    outside = tmp_path / "outside.png"
    outside.write_bytes(PICTURE)
    swapped = archive / "2024-05-02" / "p.png"
    swapped.unlink()
    os.symlink(outside, swapped)  # after reading: a picture swapped for a link out of its folder
    out = tmp_path / "out"
    with pytest.raises(BroadsheetError) as caught:
        pipeline.write_editions(editions, formats=["pdf"], out=out, cache=False)
    assert "2024-05-02" in str(caught.value)
    assert [p.name for p in outputs(out)] == ["hlrb-2024-05-01.pdf"]


class _Recorder:
    """A backend whose outputs run ahead (like the PDF's whole layouts) and fail at one index."""

    events: list = []
    fail_at: str | None = None
    jobs = 2
    suffix = ".fake"
    render_target = "pdf"

    def __init__(self, **_) -> None:
        pass

    def start(self, rendered, target: Path) -> Pending:
        events = self.events
        events.append(("start", target.name))
        running = sum(1 for e in events if e[0] == "start") - sum(1 for e in events if e[0] in ("finish", "cancel"))
        assert running <= self.jobs

        def finish():
            events.append(("finish", target.name))
            if target.name == self.fail_at:
                raise BroadsheetError("layout failed", target)
            target.write_bytes(b"x")
            return [target]

        return Pending(finish, running=True, jobs=self.jobs, cancel=lambda: events.append(("cancel", target.name)))


def test_outputs_started_ahead_are_written_in_order_and_a_fault_cancels_the_rest(tmp_path, monkeypatch):
    archive = make_archive(tmp_path, days=5)
    editions = pipeline.load([archive])
    plan = pipeline.plan
    monkeypatch.setattr(pipeline, "plan", lambda *a, **k: [dataclasses.replace(o, backend=_Recorder)
                                                           for o in plan(*a, **k)])
    monkeypatch.setattr("broadsheet.render.render_issue", lambda *a, **k: None)
    monkeypatch.setattr(pipeline, "_write_manifests", lambda *a: None)  # nothing rendered to describe
    out = tmp_path / "out"
    out.mkdir()
    names = [f"hlrb-2024-05-0{d}.pdf" for d in range(1, 6)]

    _Recorder.events, _Recorder.fail_at = [], None
    written = pipeline.write_editions(editions, formats=["pdf"], out=out, cache=False)
    assert [p.name for p in written] == names
    assert [name for kind, name in _Recorder.events if kind == "finish"] == names
    assert _Recorder.events[:3] == [("start", names[0]), ("start", names[1]), ("finish", names[0])]  # two at once

    _Recorder.events, _Recorder.fail_at = [], names[2]
    for path in out.iterdir():
        path.unlink()
    with pytest.raises(BroadsheetError, match="layout failed"):
        pipeline.write_editions(editions, formats=["pdf"], out=out, cache=False)
    assert sorted(p.name for p in out.iterdir()) == names[:2]
    finished = [name for kind, name in _Recorder.events if kind == "finish"]
    assert finished == names[:3]
    started_after = [name for kind, name in _Recorder.events if kind == "start" and name not in finished]
    assert sorted(name for kind, name in _Recorder.events if kind == "cancel") == sorted(started_after)


def test_keep_going_over_an_archive_builds_every_other_issue(tmp_path):
    archive = make_archive(tmp_path)
    (archive / "2024-05-02" / "damaged.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")
    result = run_cli("build", archive, "--out", tmp_path / "stopped", "-f", "epub", "-f", "pdf", "-q")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "damaged.txt" in result.stderr
    assert not (tmp_path / "stopped").exists() or not outputs(tmp_path / "stopped")
    result = run_cli("build", archive, "--out", tmp_path / "out", "-f", "epub", "-f", "pdf", "-q", "--keep-going")
    assert result.returncode == 1
    assert "damaged.txt" in result.stderr and "1 source skipped" in result.stderr
    assert [p.name for p in outputs(tmp_path / "out")] == [
        f"hlrb-2024-05-0{d}{s}" for d in (1, 2, 3) for s in (".epub", ".pdf")]
