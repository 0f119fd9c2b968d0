"""Layout in a leash, interrupted builds, and a canary that no output may contain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broadsheet.output import atomic_path
from conftest import FIXED_EPOCH, epub_files, outputs, run_cli
from test_cli import write

LONG_ZH = "\n\n".join("实施创新工程，提升党建水平。" * 40 for _ in range(120))


def processes_mentioning(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_layout_timeout_is_a_clear_error_and_leaves_nothing(tmp_path):
    write(tmp_path / "ed/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--render-timeout", "0.5")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "took longer than 0.5 s" in line and ".pdf" in line
    assert not out.exists() or not outputs(out)
    time.sleep(0.2)
    assert processes_mentioning(str(tmp_path)) == []


def test_layout_memory_limit(tmp_path):
    """An article whose layout needs far more than the limit: one of a quarter of its length was laid out within
    256 MB in some runs and not in others (what fails first is a thread Pango starts, or an allocation)."""
    write(tmp_path / "ed/broadsheet.toml", "[pdf]\nmemory_mb = 256\n")
    write(tmp_path / "ed/2024-01-01/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n\n{LONG_ZH}\n\n{LONG_ZH}\n\n{LONG_ZH}\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "pdf")
    assert result.returncode == 1
    # whatever ran out first, broadsheet's error names the output (C libraries may complain first)
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("broadsheet: error: ") and "ed-2024-01-01.pdf: PDF layout" in line, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not outputs(out)


@pytest.mark.parametrize("signum,status", [(signal.SIGINT, 1), (signal.SIGTERM, 1)])
def test_interrupted_build_keeps_yesterdays_output(tmp_path, signum, status):
    for name in "abcd":  # long enough to be stopped halfway on a fast machine
        write(tmp_path / f"ed/2024-01-01/{name}.md", f"---\ntitle: 长文{name}\n---\n\n{LONG_ZH}\n")
    out = tmp_path / "out"
    out.mkdir()
    yesterday = {name: f"yesterday's {name}".encode() for name in ("ed-2024-01-01.epub", "ed-2024-01-01.pdf")}
    for name, data in yesterday.items():
        (out / name).write_bytes(data)
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
    process = subprocess.Popen([sys.executable, "-m", "broadsheet", "build", str(tmp_path / "ed"), "--out", str(out),
                                "-f", "pdf", "-f", "epub"], stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(2)  # reading, rendering, laying out the long articles
    assert process.poll() is None, "the build finished before it could be interrupted"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert {p.name: p.read_bytes() for p in outputs(out)} == yesterday  # no temporary files either
    time.sleep(0.2)
    assert processes_mentioning(str(tmp_path)) == []


def test_atomic_path_on_interruption(tmp_path):
    target = tmp_path / "edition.epub"
    target.write_bytes(b"yesterday")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temporary:
            temporary.write_bytes(b"half of today")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"yesterday" and [p.name for p in tmp_path.iterdir()] == ["edition.epub"]


def test_canary_outside_the_source_folder_is_never_read(tmp_path, assert_valid_epub):
    canary = "CANARY-7f3a9c-SECRET"
    (tmp_path / "secret.txt").write_text(canary, encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (64, 64), (1, 2, 3)).save(tmp_path / "secret.png", pnginfo=None)
    (tmp_path / "secret.png").write_bytes((tmp_path / "secret.png").read_bytes() + canary.encode())
    (tmp_path / "ed").mkdir()
    (tmp_path / "ed/link.png").symlink_to(tmp_path / "secret.png")
    write(tmp_path / "ed/a.md", f"""---
title: Canary
---

![a](../secret.png) ![c](file://{tmp_path}/secret.png) ![d]({tmp_path}/secret.png)

<img src="../secret.txt"> <a href="file://{tmp_path}/secret.txt">x</a>
<link rel="attachment" href="../secret.txt">
<style>@import url("../secret.txt"); body {{ background: url(file://{tmp_path}/secret.png) }}</style>
<svg><image href="file://{tmp_path}/secret.png"/></svg>

Text.
""")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out)
    assert result.returncode == 0, result.stderr
    for output in outputs(out):
        data = output.read_bytes()
        assert canary.encode() not in data, output.name
        assert b"/EmbeddedFile" not in data
    files = epub_files(next(out.glob("*.epub")))
    assert not [n for n in files if n.startswith("EPUB/images/") and n != "EPUB/images/cover.jpg"]
    assert_valid_epub(next(out.glob("*.epub")))
    # A picture that is a link out of the folder is no reference of the page's own: the build is refused.
    write(tmp_path / "ed/b.md", "---\ntitle: Linked\n---\n\n![b](link.png)\n\nText.\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out2")
    assert result.returncode == 1 and "leads outside the source folder" in result.stderr
    assert canary not in result.stderr and not (tmp_path / "out2").exists()


def test_a_lost_layout_zygote_is_replaced():
    """Layout processes fork from a zygote; if it is gone, the next layout starts a new one."""
    import operator

    from broadsheet.backends import processes
    from broadsheet.backends.pdf.layout import PRELOAD

    assert processes.run_limited(operator.mul, 6, 7, preload=PRELOAD, timeout=60, memory_mb=4096) == 42
    os.kill(processes._zygotes[PRELOAD].pid, signal.SIGKILL)
    time.sleep(0.1)
    assert processes.run_limited(operator.mul, 3, 5, preload=PRELOAD, timeout=60, memory_mb=4096) == 15
