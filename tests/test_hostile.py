"""A hostile corpus: every case builds (the hostile part dropped, with a warning naming it) or fails with
exit 1 and one line naming the file — never a traceback, never a hang, memory bounded.

The slowest case's time and the largest peak memory of all cases are printed at the end of the module
(``pytest -s tests/test_hostile.py``)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH, outputs
from hostile.corpus import BOUNDS, CASES, CHECKS, case_files, output_text

TIME_LIMIT = 180  # seconds a case may take
MEMORY_LIMIT = 4 * 2**30  # address space of the build process
MEASURED: dict[str, tuple[float, int]] = {}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_case(tmp_path, name, epubcheck):
    source, args = case_files(name, tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
    env.pop("BROADSHEET_DEBUG", None)
    command = [sys.executable, "-m", "broadsheet", "build", str(source), "--out", str(out), *args]
    timing = tmp_path / "time.txt"
    if Path("/usr/bin/time").exists():  # GNU time: this build's own peak resident memory
        command = ["/usr/bin/time", "-f", "%M", "-o", str(timing), *command]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIME_LIMIT,
                            preexec_fn=_limit_memory)
    elapsed = time.perf_counter() - start
    peak_kb = int(timing.read_text().split()[-1]) if timing.exists() else 0
    MEASURED[name] = (elapsed, peak_kb)
    outcome, expected = CASES[name]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr[-2000:]
    seconds, megabytes = BOUNDS.get(name, (60, 1024))  # every case: under a minute and a gigabyte
    assert elapsed < seconds, f"{name} took {elapsed:.1f} s, more than {seconds} s"
    assert not peak_kb or peak_kb < megabytes * 1024, f"{name} peaked at {peak_kb // 1024} MB"
    if name in CHECKS:
        CHECKS[name](tmp_path, out, result)
    if outcome == "refused":
        assert result.returncode == 1, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("broadsheet: error: ") and expected in line, line
        assert not out.exists() or not outputs(out)
        return
    assert result.returncode == 0, result.stderr
    assert expected in result.stderr, result.stderr
    assert outputs(out)
    text = output_text(out)  # every EPUB entry and PDF page decompressed: what a reader would see
    for canary in ("CANARY-XXE", "CANARY-SYMLINK", "CANARY-OUTSIDE", "root:x:0:0", "alert("):
        assert canary not in text, canary
    verdict = epubcheck(next(out.glob("*.epub")))
    assert not verdict.errors and not verdict.warnings, verdict.summary()


def test_zz_report_slowest_and_largest():
    """Print the slowest case and the largest peak memory (run with -s to see it)."""
    if not MEASURED:
        pytest.skip("no case ran")
    slowest = max(MEASURED.items(), key=lambda item: item[1][0])
    largest = max(MEASURED.items(), key=lambda item: item[1][1])
    print()
    for name, (seconds, peak_kb) in MEASURED.items():
        print(f"{name:45} {CASES[name][0]:8} {seconds:6.1f} s {peak_kb / 1024:7.0f} MB")
    print(f"slowest hostile case: {slowest[0]} {slowest[1][0]:.1f} s; "
          f"largest peak RSS: {largest[0]} {largest[1][1] / 1024:.0f} MB")
    assert slowest[1][0] < TIME_LIMIT
