"""Cost of a personal digest per subscriber, as a ratio to one single digest build.

    .venv/bin/python benchmarks/digest_batch.py [--subscribers 1000] [--repeat 3]

Both are measured in this run, on the 7-issue fixture archive of the tests (tests/archive.py):
the baseline builds one digest EPUB from the archive (reading the sources included), the batch
builds one EPUB per subscriber from a generated subscriber list (sources read once, articles
rendered once).  Prints medians, min–max, the per-subscriber cost and the ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from archive import SECTIONS, TAGS, make_archive  # noqa: E402

from broadsheet import build_digest  # noqa: E402
from broadsheet.digest import DigestSpec  # noqa: E402
from broadsheet.recipe import load_subscribers  # noqa: E402


def subscriber_csv(path: Path, count: int) -> Path:
    rng = random.Random(7)
    rows = ["id,sections,tags,language,formats"]
    for n in range(count):
        sections = ";".join(rng.sample([s for s, _ in SECTIONS], rng.randint(1, 2)))
        tags = ";".join(rng.sample(TAGS, rng.randint(0, 2)))
        rows.append(f"s{n:05d},{sections},{tags},,epub")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        archive = make_archive(work)
        people = load_subscribers(subscriber_csv(work / "subscribers.csv", args.subscribers))
        spec = DigestSpec()
        singles, batches = [], []
        for run in range(args.repeat):  # alternate the two, so both see the same machine state
            singles.append(timed(lambda: build_digest([archive], spec, formats=["epub"], out=work / f"one{run}")))
            if run == 0:
                batches.append(timed(lambda: build_digest([archive], spec, formats=["epub"], out=work / "batch",
                                                          subscribers=people)))
        written = len(list((work / "batch").glob("*.epub")))
    single = statistics.median(singles)
    batch = statistics.median(batches)
    per = batch / args.subscribers
    print(f"single digest build (EPUB): median {single:.3f} s, min–max {min(singles):.3f}–{max(singles):.3f} s "
          f"over {len(singles)} runs")
    print(f"batch of {args.subscribers} subscribers: {batch:.1f} s, {written} EPUBs written")
    print(f"per subscriber: {per * 1000:.1f} ms = {per / single:.3f} × one single digest build")


if __name__ == "__main__":
    main()
