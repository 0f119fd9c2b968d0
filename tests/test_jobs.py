"""The PDF's bytes depend on the edition, never on how many layout processes made it."""

from __future__ import annotations

import hashlib
import re

import pytest

from conftest import EN_EXAMPLE, ZH_EXAMPLE, outputs, run_cli
from test_parallel_and_cache import write_edition


def pdf_digests(source, out, jobs: int) -> tuple[dict[str, str], str]:
    result = run_cli("build", source, "-o", out, "-f", "pdf", "--layout", "sections", "--jobs", jobs,
                     "--no-cache", "-v")
    assert result.returncode == 0, result.stderr
    pdfs = [p for p in outputs(out) if p.suffix == ".pdf"]
    assert pdfs and not (out / ".broadsheet-cache").exists()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in pdfs}, result.stderr


@pytest.mark.parametrize("name", ["examples", "synthetic"])
def test_jobs_1_2_and_3_give_the_same_bytes(tmp_path, name):
    if name == "examples":
        sources = [ZH_EXAMPLE, EN_EXAMPLE]
    else:
        sources = [write_edition(tmp_path)]
    for source in sources:
        runs = {jobs: pdf_digests(source, tmp_path / f"{source.name}-{jobs}", jobs) for jobs in (1, 2, 3)}
        digests = {jobs: digest for jobs, (digest, _) in runs.items()}
        assert digests[1] == digests[2] == digests[3], digests
        if name == "synthetic":  # large enough to be cut into parts, with any number of processes
            for jobs, (_, stderr) in runs.items():
                found = re.search(r"(\d+) parts laid out \((\d+) at a time\) by (\d+) process", stderr)  # all: a fresh folder
                assert found and "cache" not in stderr, stderr
                parts, at_once, processes = map(int, found.groups())
                assert parts >= 5 and 1 <= at_once <= jobs
                # a process done with a small part is handed the next one: fewer processes than parts
                assert at_once <= processes < parts, stderr


def test_a_process_with_other_threads_starts_its_layout_zygote_afresh(tmp_path, monkeypatch):
    """Where other threads run (a Dask worker), the layout zygote is a new interpreter, not a fork (which could
    copy a lock one of them holds); the PDF is the same bytes as the command line's."""
    import os
    import threading
    from pathlib import Path

    from broadsheet import pipeline
    from broadsheet.backends import processes

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(processes, "_zygotes", {})  # this test's zygotes only, ended below
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        (made,) = pipeline.build([ZH_EXAMPLE], formats=["pdf"], out=tmp_path / "threaded", cache=False)
        zygotes = dict(processes._zygotes)
        assert zygotes
        for zygote in zygotes.values():
            command = Path(f"/proc/{zygote.pid}/cmdline").read_bytes().split(b"\0")
            assert command[1:3] == [b"-I", b"-c"] and b"_spawned" in command[3], command
            assert f"PPid:\t{os.getpid()}\n" in Path(f"/proc/{zygote.pid}/status").read_text()  # dies with us
    finally:
        stop.set()
        other.join()
        for zygote in processes._zygotes.values():
            zygote.control.close()  # the zygote ends when its socket closes
            os.waitpid(zygote.pid, 0)
    result = run_cli("build", ZH_EXAMPLE, "-o", tmp_path / "cli", "-f", "pdf", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert made.read_bytes() == (tmp_path / "cli" / made.name).read_bytes()


def test_a_process_per_part_gives_the_same_bytes(tmp_path, monkeypatch, caplog):
    """Above ``REUSE_BYTES`` a layout process is not handed another part; a part laid out in a fresh
    process and one laid out in a process that laid out others before are the same bytes."""
    import logging
    import os

    from broadsheet import pipeline
    from broadsheet.backends import processes
    from broadsheet.backends.pdf import scheduler

    source = write_edition(tmp_path)
    reused, _ = pdf_digests(source, tmp_path / "reused", 1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setattr(processes, "_zygotes", {})  # this test's zygote only, ended below
    monkeypatch.setattr(scheduler, "REUSE_BYTES", 0)
    try:
        with caplog.at_level(logging.INFO, logger="broadsheet"):
            (made,) = pipeline.build([source], formats=["pdf"], out=tmp_path / "fresh", cache=False)
    finally:
        for zygote in processes._zygotes.values():
            zygote.control.close()
            os.waitpid(zygote.pid, 0)
    found = re.search(r"(\d+) parts laid out \(\d+ at a time\) by (\d+) process", caplog.text)
    assert found and found.group(1) == found.group(2), caplog.text
    assert {made.name: hashlib.sha256(made.read_bytes()).hexdigest()} == reused
