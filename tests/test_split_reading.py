"""An issue folder of many sources is read by two processes: the same drafts, messages and faults as one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broadsheet import ingest, limits
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


_READ = r"""
import dataclasses, json, logging, os, signal, sys
from pathlib import Path
from broadsheet import ingest, limits, processes
from broadsheet.errors import ConfigError, IngestError

folder, jobs, keep, kill = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "keep", sys.argv[4] == "kill"
forks = []
real = processes.fork_call
processes.fork_call = lambda function, *args: forks.append(real(function, *args)) or forks[-1]
if kill:  # a child that gives nothing back
    ingest._read_kept = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
messages = []


class Kept(logging.Handler):
    def emit(self, record):
        messages.append([record.levelname, record.getMessage()])


logger = logging.getLogger("broadsheet")
logger.addHandler(Kept())
logger.setLevel(logging.DEBUG)
with limits.within(dataclasses.replace(limits.current(), jobs=jobs)):
    try:
        if keep:
            with ingest.keep_going() as skipped:
                editions = ingest.load_editions([folder])
            faults = [str(exc) for exc in skipped]
        else:
            editions, faults = ingest.load_editions([folder]), []
    except (IngestError, ConfigError) as exc:
        editions, faults = [], [f"raised: {type(exc).__name__}: {exc}"]
try:
    os.waitpid(-1, os.WNOHANG)
    left = True
except ChildProcessError:
    left = False
print(json.dumps({"models": [e.publication.model_dump_json() for e in editions], "messages": messages,
                  "faults": faults, "forks": [f is not None for f in forks], "left": left}))
"""


def read(folder: Path, jobs: int, keep: bool = False, kill: bool = False) -> dict:
    """The editions read from ``folder`` with ``jobs`` processes at most, in a process of its own (a fork is made
    only where no other thread runs): their models (as JSON), every message logged, the faults skipped (or the
    fault raised), whether a child was forked to read, and whether one was left unreaped."""
    import json
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", _READ, str(folder), str(jobs), "keep" if keep else "stop",
                             "kill" if kill else "live"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def same_reading(one: dict, other: dict) -> bool:
    return all(one[key] == other[key] for key in ("models", "messages", "faults"))


two_cores = pytest.mark.skipif(limits.cores() < 2, reason="reading is split only where two processes may run")


@two_cores
@pytest.mark.parametrize("damaged, keep", [(None, False), (45, True), (45, False), (10, True), (10, False)])
def test_two_processes_read_what_one_reads(tmp_path, damaged, keep):
    folder = issue_folder(tmp_path, damaged)
    alone = read(folder, 1, keep)
    split = read(folder, 2, keep)
    assert alone["forks"] == [] and split["forks"] == [True]  # the second half was read by a child
    assert same_reading(split, alone) and not split["left"]
    # one process stops at the first fault not skipped (the dump sorts after the article of its number)
    read_to = damaged + 1 if damaged is not None and not keep else ARTICLES
    assert sum("reading as markdown" in m for _, m in split["messages"]) == read_to
    if damaged is None:
        assert len(split["models"]) == 1 and not split["faults"]
        assert [m for level, m in split["messages"] if level == "WARNING"]  # the pictures that lead nowhere
    else:
        assert len(split["faults"]) == 1 and f"a{damaged}x.txt" in split["faults"][0]
        assert split["faults"][0].startswith("raised: ") != keep


@two_cores
@pytest.mark.parametrize("keep", [False, True])
def test_a_fault_of_another_kind_in_the_second_half_is_met_as_one_process_meets_it(tmp_path, keep):
    folder = issue_folder(tmp_path, unknown_key=40)
    alone = read(folder, 1, keep)
    split = read(folder, 2, keep)
    assert same_reading(split, alone) and split["forks"] == [True] and not split["left"]
    assert alone["faults"] == [f"raised: ConfigError: {folder / 'a40.md'}: colour: unknown key"]


@two_cores
def test_a_child_that_gives_nothing_back_leaves_its_half_to_be_read_here(tmp_path):
    folder = issue_folder(tmp_path)
    split = read(folder, 2, kill=True)
    assert same_reading(split, read(folder, 1)) and split["forks"] == [True] and not split["left"]


def test_fewer_sources_or_one_process_read_here(tmp_path):
    folder = issue_folder(tmp_path)
    for extra in sorted(folder.iterdir())[ingest.SPLIT_READING - 1:]:
        extra.unlink()
    assert read(folder, 2)["forks"] == []
    assert read(issue_folder(tmp_path / "more"), 1)["forks"] == []


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
