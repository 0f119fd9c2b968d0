"""Edit-to-output time of ``build --watch``: an article is edited, the clock runs until the output is rewritten.

    .venv/bin/python benchmarks/watch_latency.py [--articles 100] [--sections 20] [--edits 4]

For each format (EPUB, then PDF) a watch is started over a synthetic edition (benchmarks/corpus.py), its first
build awaited, then one article is edited ``--edits`` times (a different one each time, a few seconds apart);
each line is the time from the write to the output file's new modification time: the watch's gathering of
events (watchfiles' debounce) included, as an editor would feel it.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import make_corpus  # noqa: E402


def _wait(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the watch did not build in time")
        time.sleep(0.01)


def latency(edition: Path, fmt: str, out: Path, edits: int) -> list[float]:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    watch = subprocess.Popen([sys.executable, "-m", "broadsheet", "build", str(edition), "--watch", "-f", fmt,
                              "-o", str(out), "-q"], env=env, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: any(out.glob(f"*.{fmt}")))
        (output,) = out.glob(f"*.{fmt}")
        time.sleep(2)
        articles = sorted(edition.rglob("a*.md"))
        times = []
        for n in range(edits):
            before = output.stat().st_mtime_ns
            started = time.perf_counter()
            with articles[(n * 37) % len(articles)].open("a", encoding="utf-8") as handle:
                handle.write(f"\n补记第{n + 1}次。\n")
            _wait(lambda: output.stat().st_mtime_ns != before)
            times.append(time.perf_counter() - started)
            time.sleep(2)
        return times
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--sections", type=int, default=20)
    parser.add_argument("--edits", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        edition, _ = make_corpus(Path(folder), args.articles, sections=args.sections)
        for fmt in ("epub", "pdf"):
            times = latency(edition, fmt, Path(folder) / f"out-{fmt}", args.edits)
            print(f"{fmt}: median {statistics.median(times):.2f} s, "
                  f"{min(times):.2f}–{max(times):.2f} s over {len(times)} edits")


if __name__ == "__main__":
    main()
