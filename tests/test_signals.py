"""Stopping a build: a signal ends it within 2 s in any phase, and no process of it outlives it.

Real builds in real processes: ``python -m broadsheet build`` is kept busy reading a source
(a page the sanitiser works on for seconds inside one native call, and many articles), making
the EPUB's pictures (a pool of processes) or laying out a PDF (the layout zygote and its
workers), then signalled.  The process tree is read from /proc.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH
from test_cli import write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

LONG_ZH = "\n\n".join("实施创新工程，提升党建水平。" * 40 for _ in range(120))
STOPPED = "broadsheet: error: stopped by SIGTERM"


# --- the process tree, from /proc ---------------------------------------------------------

def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, process group) of a live process, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def _all() -> dict[int, tuple[str, int, int]]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            found[int(entry)] = stat
    return found


def tree(root: int) -> set[int]:
    """Every process descended from ``root``, and every member of its descendants' groups."""
    table = _all()
    found = {root}
    changed = True
    while changed:
        changed = False
        for pid, (_, parent, _) in table.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    groups = {table[pid][2] for pid in found if pid in table and pid != root}
    found |= {pid for pid, (_, _, group) in table.items() if group in groups}
    return found - {root}


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if (stat := _stat(pid)) is not None and stat[0] not in "ZX"}


def wait_for(condition, seconds: float, every: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    return condition()


def start(*args: object) -> subprocess.Popen:
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    for name in ("BROADSHEET_DEBUG", "BROADSHEET_NO_SUPERVISOR"):
        env.pop(name, None)
    return subprocess.Popen([sys.executable, "-m", "broadsheet", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def worker(process: subprocess.Popen) -> int:
    """The supervised child doing the build's work: the leader of its own process group."""
    def find():
        return next((pid for pid, (_, parent, group) in _all().items()
                     if parent == process.pid and group == pid), None)
    pid = wait_for(find, 15)
    assert pid, "the build has no supervised child"
    return pid


def stop_and_check(process: subprocess.Popen, out: Path, busy, before: dict[str, bytes] | None = None) -> None:
    """Wait until ``busy(child)`` holds, send SIGTERM, and check what a stop must leave."""
    child = worker(process)
    assert wait_for(lambda: busy(child), 20), "the build never reached the phase to stop it in"
    time.sleep(0.3)
    assert process.poll() is None, "the build finished before it could be stopped"
    members = tree(process.pid)
    assert child in members
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=10)
    took = time.monotonic() - sent
    assert took < 2, f"took {took:.1f} s to stop"
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    errors = [line for line in stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith(STOPPED), stderr
    assert stdout == ""
    assert wait_for(lambda: not alive(members), 2), f"left running: {alive(members)}"
    left = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".broadsheet-cache" not in p.parts}
    assert left == (before or {}), sorted(left)
    assert not [p for p in out.rglob("*") if p.name.endswith((".part", ".old"))]


# --- stopping in each phase ---------------------------------------------------------------

def test_sigterm_while_sanitising_a_deep_page(tmp_path):
    """A page of 200,000 nested divs held the sanitiser (one native call) for many seconds; the
    articles after it keep the build reading sources whatever the sanitiser's speed."""
    ed = tmp_path / "ed"
    write(ed / "000-deep.md", "---\ntitle: Deep\n---\n\n" + "<div>" * 200_000 + "text" + "</div>" * 200_000 + "\n")
    body = "\n\n".join("The night ferry returns after a decade of silence on the crossing. " * 12 for _ in range(20))
    for i in range(600):
        write(ed / f"a{i:04d}.md", f"---\ntitle: Article {i}\n---\n\n{body}\n")
    out = tmp_path / "out"
    out.mkdir()
    yesterday = {"ed.epub": b"yesterday's edition"}
    (out / "ed.epub").write_bytes(yesterday["ed.epub"])
    process = start("build", ed, "--out", out, "-f", "epub")
    started = time.monotonic()
    stop_and_check(process, out, lambda child: time.monotonic() - started > 2.5 and not tree(child), yesterday)


def test_sigterm_while_making_the_epubs_pictures(tmp_path):
    from PIL import Image

    ed = tmp_path / "ed"
    ed.mkdir()
    picture = ed / "p00.jpg"
    Image.effect_noise((3000, 2000), 80).convert("RGB").save(picture, quality=95)
    text = ["---\ntitle: Pictures\n---\n"]
    for i in range(48):
        if i:
            shutil.copyfile(picture, ed / f"p{i:02d}.jpg")
        text.append(f"![Picture {i}](p{i:02d}.jpg)\n")
    write(ed / "a.md", "\n".join(text))
    out = tmp_path / "out"
    process = start("build", ed, "--out", out, "-f", "epub")
    # the picture pool: processes forked by the build's child
    stop_and_check(process, out, lambda child: tree(child))


def test_sigterm_during_pdf_layout(tmp_path):
    write(tmp_path / "ed/2024-01-01/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n")
    out = tmp_path / "out"
    process = start("build", tmp_path / "ed", "--out", out, "-f", "pdf", "-f", "html", "--no-cache")
    # a layout process: forked by the zygote, which the build's child forked
    stop_and_check(process, out, lambda child: any(_stat(pid) and _stat(pid)[1] != child for pid in tree(child)))


def test_kill_9_of_the_build_leaves_no_process(tmp_path):
    write(tmp_path / "ed/2024-01-01/a.md", f"---\ntitle: 长文\n---\n\n{LONG_ZH}\n")
    out = tmp_path / "out"
    process = start("build", tmp_path / "ed", "--out", out, "-f", "pdf", "--no-cache")
    child = worker(process)

    def with_layout() -> set[int]:
        """The build's processes, once they include a layout process (forked by the zygote)."""
        table, members = _all(), tree(process.pid)
        return members if any(table.get(pid, ("", child))[1] not in (child, process.pid) for pid in members) else set()

    members = wait_for(with_layout, 20)
    assert len(members) >= 3, "no layout process started"  # the child, the zygote, a layout process
    process.kill()
    process.communicate(timeout=10)
    assert wait_for(lambda: not alive(members), 2), f"left running: {alive(members)}"


# --- limits -------------------------------------------------------------------------------

def run_timed(*args: object) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI as a user does (supervised); return the result and its time."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH}
    env.pop("BROADSHEET_NO_SUPERVISOR", None)
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "broadsheet", *map(str, args)], capture_output=True, text=True,
                            env=env, timeout=60)
    return result, time.monotonic() - started


def test_build_time_limit_is_one_line(tmp_path):
    ed = tmp_path / "ed"
    write(ed / "000-deep.md", "---\ntitle: Deep\n---\n\n" + "<div>" * 200_000 + "text" + "</div>" * 200_000 + "\n")
    body = "\n\n".join("The night ferry returns after a decade of silence on the crossing. " * 12 for _ in range(20))
    for i in range(600):
        write(ed / f"a{i:04d}.md", f"---\ntitle: Article {i}\n---\n\n{body}\n")
    out = tmp_path / "out"
    result, took = run_timed("build", ed, "--out", out, "-f", "epub", "--time-limit", "1.5")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == ["broadsheet: error: the build took longer than 1.5 s (its time limit; raise it with --time-limit)"]
    assert took < 1.5 + 3.5  # start-up, the limit, a second's grace
    assert not out.exists() or not list(out.rglob("*.part"))


def test_build_memory_limit_is_one_line(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: Big\n---\n\n" + "The night ferry returns after a decade. " * 500_000)
    out = tmp_path / "out"
    result, _ = run_timed("build", tmp_path / "ed", "--out", out, "-f", "epub", "--memory-limit", "150")
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "broadsheet: error: out of memory (the build's limit is 150 MB; raise it with --memory-limit)"]
    assert not out.exists() or not list(out.rglob("*.*"))


# --- partial outputs ----------------------------------------------------------------------

PARTIALS = """
import os, sys, time
from pathlib import Path
from broadsheet import processes
from broadsheet.output import atomic_folder, atomic_path

out = Path(sys.argv[1])
processes.supervise()
replace = os.replace


def halting(source, target):
    # the folder swap, halted between its two renames: the old folder is moved aside
    if Path(target) == out / "today" and str(source).endswith(".part"):
        (out / "ready").write_text("")
        time.sleep(60)
    replace(source, target)


os.replace = halting
with atomic_path(out / "today.epub") as part:
    part.write_bytes(b"half")
    with atomic_path(out / "cache" / "entry") as entry:
        entry.write_bytes(b"half")
        with atomic_folder(out / "today") as inside:
            (inside / "index.html").write_text("half")
"""


def test_a_stopped_build_leaves_no_partial_output_and_spares_another_builds(tmp_path):
    out = tmp_path / "out"
    (out / "today").mkdir(parents=True)
    (out / "today/index.html").write_text("yesterday")
    (out / "today.epub").write_bytes(b"yesterday")
    other = ".today.epub.1.0a0b0c0d.part"  # another build writing into the same folder at the same time
    (out / other).write_bytes(b"another build's")
    env = {**os.environ}
    env.pop("BROADSHEET_NO_SUPERVISOR", None)
    process = subprocess.Popen([sys.executable, "-c", PARTIALS, str(out)], stderr=subprocess.PIPE, text=True, env=env)
    assert wait_for(lambda: (out / "ready").exists(), 15)
    (out / "ready").unlink()
    halted = sorted(p.name.rsplit(".", 1)[-1] for p in out.rglob(".*") if p.name != other)
    assert halted == ["old", "part", "part", "part"], halted  # the EPUB, the cache entry, the folder
    assert not (out / "today").exists()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=5)
    assert process.returncode == 1
    assert stderr.strip() == "broadsheet: error: stopped by SIGTERM; nothing half-written was left"
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert names == [other, "cache", "today", "today.epub", "today/index.html"], names
    assert (out / "today.epub").read_bytes() == b"yesterday"
    assert (out / "today/index.html").read_text() == "yesterday"
    assert (out / other).read_bytes() == b"another build's"


def test_a_zygote_started_by_a_thread_outlives_the_thread_and_not_its_process():
    """In a process with other threads (a Dask worker), a zygote is started afresh by whichever thread needs it
    first. It serves the process after that thread has ended (the kernel's parent-death signal would follow the
    thread), and ends with the process."""
    code = r"""
import io, threading, time
from PIL import Image
from broadsheet.backends import processes
from broadsheet.backends.epub import pictures
from broadsheet.render import Asset

idle = threading.Event()
threading.Thread(target=idle.wait, daemon=True).start()  # another thread: zygotes are started afresh
out = io.BytesIO()
Image.new("RGB", (300, 200), (200, 10, 10)).save(out, "PNG")
picture = [Asset(name="images/a.png", id="a", media_type="image/png", data=out.getvalue())]


def make():
    made = pictures._prepare_all(picture, pictures.PictureLimits(long_side=100), 1)
    assert isinstance(made[0], tuple) and made[0][2] == (100, 66), made


starter = threading.Thread(target=make)  # starts the zygote and has it serve a picture
starter.start()
starter.join()  # the thread that started the zygote has ended
zygote = processes._zygotes["broadsheet.backends.epub.pictures"].pid
time.sleep(0.2)
make()
assert processes._zygotes["broadsheet.backends.epub.pictures"].pid == zygote  # the same zygote served
print(zygote, flush=True)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    zygote = int(done.stdout.strip())
    for _ in range(100):  # it ends once its process has ended (its control socket closed)
        try:
            state = Path(f"/proc/{zygote}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            break
        if state in ("Z", "X"):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the zygote {zygote} still runs after its process ended")
