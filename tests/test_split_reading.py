"""An issue folder of many sources is read by two processes: the same drafts, messages and faults as one."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
from pathlib import Path

import pytest

from broadsheet import ingest, limits, processes
from broadsheet.errors import ConfigError, IngestError
from conftest import outputs, run_cli

DUMPS = Path(__file__).resolve().parent / "fixtures" / "dumps"
ARTICLES = 60


def issue_folder(tmp_path: Path, damaged: int | None = None, unknown_key: int | None = None) -> Path:
    """A plain folder of ``ARTICLES`` Markdown articles in two sections (one with a picture link that leads
    nowhere, logged as it is read), a damaged text dump in the place ``damaged`` when given (a source's fault),
    and front matter with an unknown key in article ``unknown_key`` (a fault that stops any reading)."""
    folder = tmp_path / "2026-03-09"
    folder.mkdir(parents=True)
    for n in range(ARTICLES):
        section = "要闻" if n % 3 else "Opinion"
        picture = "\n![missing](gone.jpg)\n" if n % 7 == 0 else ""
        (folder / f"a{n:02d}.md").write_text(
            f"---\ntitle: 第{n}篇 Article {n}\nsection: {section}\nauthors: 记者 {n}\n---\n\n"
            f"郑州市今天召开会议，研究部署第{n}项工作。{picture}\n\nThe council met on day {n}.\n", encoding="utf-8")
    if damaged is not None:
        (folder / f"a{damaged:02d}x.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")
    if unknown_key is not None:
        article = folder / f"a{unknown_key:02d}.md"
        article.write_text(article.read_text(encoding="utf-8").replace("title:", "colour: red\ntitle:", 1),
                           encoding="utf-8")
    return folder


def read(folder: Path, jobs: int, caplog, keep: bool = False):
    """The editions read from ``folder`` with ``jobs`` processes at most: their models (as JSON), every message
    logged, and the faults skipped (or the fault raised)."""
    caplog.clear()
    with limits.within(dataclasses.replace(limits.current(), jobs=jobs)), caplog.at_level(logging.DEBUG, "broadsheet"):
        try:
            if keep:
                with ingest.keep_going() as skipped:
                    editions = ingest.load_editions([folder])
                faults = [str(exc) for exc in skipped]
            else:
                editions, faults = ingest.load_editions([folder]), []
        except (IngestError, ConfigError) as exc:
            editions, faults = [], [f"raised: {type(exc).__name__}: {exc}"]
    models = [e.publication.model_dump_json() for e in editions]
    return models, [(r.levelname, r.getMessage()) for r in caplog.records], faults


@pytest.fixture
def forks(monkeypatch):
    """The children forked to read (each a Forked), counted."""
    made = []
    real = processes.fork_call

    def counted(function, *args):
        forked = real(function, *args)
        made.append(forked)
        return forked

    monkeypatch.setattr(processes, "fork_call", counted)
    return made


def no_children_left() -> bool:
    try:
        return os.waitpid(-1, os.WNOHANG) is None  # pragma: no cover - waitpid raises when there are none
    except ChildProcessError:
        return True


@pytest.mark.skipif(limits.cores() < 2, reason="reading is split only where two processes may run")
@pytest.mark.parametrize("damaged, keep", [(None, False), (45, True), (45, False), (10, True), (10, False)])
def test_two_processes_read_what_one_reads(tmp_path, caplog, forks, damaged, keep):
    folder = issue_folder(tmp_path, damaged)
    alone = read(folder, 1, caplog, keep)
    assert not forks
    split = read(folder, 2, caplog, keep)
    assert len(forks) == 1 and forks[0] is not None  # the second half was read by a child
    assert split == alone
    models, messages, faults = split
    # one process stops at the first fault not skipped (the dump sorts after the article of its number)
    read_to = damaged + 1 if damaged is not None and not keep else ARTICLES
    assert sum("reading as markdown" in m for _, m in messages) == read_to
    if damaged is None:
        assert len(models) == 1 and not faults
        assert [m for level, m in messages if level == "WARNING"]  # the pictures that lead nowhere, told here
    else:
        assert len(faults) == 1 and f"a{damaged}x.txt" in faults[0]
        assert faults[0].startswith("raised: ") != keep
    assert no_children_left()


@pytest.mark.skipif(limits.cores() < 2, reason="reading is split only where two processes may run")
@pytest.mark.parametrize("keep", [False, True])
def test_a_fault_of_another_kind_in_the_second_half_is_met_as_one_process_meets_it(tmp_path, caplog, forks, keep):
    folder = issue_folder(tmp_path, unknown_key=40)
    alone = read(folder, 1, caplog, keep)
    assert read(folder, 2, caplog, keep) == alone
    assert alone[2] == [f"raised: ConfigError: {folder / 'a40.md'}: colour: unknown key"]
    assert len(forks) == 1 and forks[0] is not None
    assert no_children_left()


@pytest.mark.skipif(limits.cores() < 2, reason="reading is split only where two processes may run")
def test_a_child_that_gives_nothing_back_leaves_its_half_to_be_read_here(tmp_path, caplog, forks, monkeypatch):
    folder = issue_folder(tmp_path)
    alone = read(folder, 1, caplog)
    monkeypatch.setattr(ingest, "_read_kept", lambda *args: os.kill(os.getpid(), signal.SIGKILL))
    assert read(folder, 2, caplog) == alone
    assert len(forks) == 1 and forks[0] is not None
    assert no_children_left()


def test_fewer_sources_or_one_process_read_here(tmp_path, caplog, forks):
    folder = issue_folder(tmp_path)
    for extra in sorted(folder.iterdir())[ingest.SPLIT_READING - 1:]:
        extra.unlink()
    read(folder, 2, caplog)
    read(issue_folder(tmp_path / "more"), 1, caplog)
    assert not forks


def test_the_command_line_says_the_same_with_one_process_or_two(tmp_path):
    folder = issue_folder(tmp_path, damaged=50)
    shutil.copy(DUMPS / "credit-desk.txt", folder / "a51.txt")
    built = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}"
        result = run_cli("build", folder, "--out", out, "-f", "epub", "--keep-going", "-v", "--jobs", jobs)
        assert result.returncode == 1
        built[jobs] = result.stderr.replace(str(out), "OUT"), [(p.name, p.read_bytes()) for p in outputs(out)]
    assert built["1"] == built["2"]
    stderr, files = built["2"]
    assert "a50x.txt" in stderr and "1 source skipped" in stderr and "a59.md: reading as markdown" in stderr
    assert [name for name, _ in files] == ["zzwb-2026-03-09.epub"]
