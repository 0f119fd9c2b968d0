"""The EPUB picture workers: what starting them costs against what a picture costs.

    .venv/bin/python benchmarks/picture_workers.py FOLDER [--repeat 7]

Makes N of the JPEGs in FOLDER (reused in turn) for e-readers three ways, each in turn within every
round: in this process, in one worker process and in two (``pictures._in_workers``), and prints the
median and minimum milliseconds for each N.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from broadsheet.backends.epub import pictures
from broadsheet.backends.epub.profiles import get_profile
from broadsheet.config import EpubConfig

SIZES = (1, 2, 3, 4, 6, 8, 12, 16, 24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    options = EpubConfig()
    limits = pictures.picture_limits(options, get_profile(options.profile))
    data = [path.read_bytes() for path in sorted(args.folder.glob("*.jpg"))]
    if not data:
        raise SystemExit(f"{args.folder}: no .jpg pictures")

    def work(n: int) -> list:
        return [(data[i % len(data)], None, None, "image/jpeg", limits) for i in range(n)]

    methods = {"in-process": lambda jobs: [pictures._prepare_one(job) for job in jobs],
               "1 worker": lambda jobs: pictures._in_workers(jobs, 1, 60),
               "2 workers": lambda jobs: pictures._in_workers(jobs, 2, 60)}
    pictures._prepare_one(work(1)[0])  # Pillow's plugins imported before the first timing
    times: dict[tuple[int, str], list[float]] = {(n, m): [] for n in SIZES for m in methods}
    for round_ in range(args.repeat):
        order = list(methods)[round_ % 3:] + list(methods)[:round_ % 3]
        for n in SIZES:
            for name in order:
                started = time.perf_counter()
                methods[name](work(n))
                times[n, name].append(time.perf_counter() - started)
    print(f"{len(data)} pictures of {statistics.median(map(len, data)) // 1024} KB (median); {args.repeat} rounds; "
          "ms: median (min)")
    print(f"{'N':>3} " + " ".join(f"{m:>16}" for m in methods))
    for n in SIZES:
        print(f"{n:>3} " + " ".join(f"{statistics.median(times[n, m]) * 1000:9.1f} ({min(times[n, m]) * 1000:5.1f})"
                                    for m in methods))


if __name__ == "__main__":
    main()
