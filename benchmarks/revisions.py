"""Two installs of broadsheet against each other, measured in the same run, alternating.

    .venv/bin/python benchmarks/revisions.py --before ../old/.venv/bin/python [--after .venv/bin/python]
                                             [--sizes 100] [--repeat 5] [--formats epub,pdf]

For a change that should not change speed (a redesign): each round runs the start-up (``--version``) and a
full build of the synthetic edition of each size (benchmarks/corpus.py), for the install before and after the
change in turn (which goes first alternates), each as its own process, without the cache.  The table gives
median wall times and the ratio after/before; the outputs of the two are also compared byte for byte
(``SOURCE_DATE_EPOCH`` is fixed), so a speed-up that changes the bytes does not go unnoticed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import make_corpus  # noqa: E402


def _timed(command: list[str], environment: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment)
    return time.perf_counter() - start


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the Python of the install to compare against")
    parser.add_argument("--after", default=sys.executable, help="the Python of the install measured")
    parser.add_argument("--sizes", default="100")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--formats", default="epub,pdf")
    args = parser.parse_args()
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    environment.pop("BROADSHEET_DEBUG", None)
    installs = {"before": args.before, "after": args.after}
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        cases: list[tuple[str, list[str] | None, Path | None]] = [("start-up (--version)", ["--version"], None)]
        for size in (int(s) for s in args.sizes.split(",")):
            source, _ = make_corpus(work / f"corpus-{size}", size)
            for fmt in args.formats.split(","):
                cases.append((f"{fmt}, {size} articles", ["build", str(source), "-f", fmt, "--no-cache", "--quiet"],
                              work / f"out-{fmt}-{size}"))
        outputs: dict[tuple[str, str], dict[str, str]] = {}
        for round_ in range(args.repeat):
            order = ["before", "after"] if round_ % 2 == 0 else ["after", "before"]
            for name, arguments, out in cases:
                for which in order:
                    command = [installs[which], "-m", "broadsheet", *arguments]
                    if out is not None:
                        target = out.with_name(f"{out.name}-{which}")
                        shutil.rmtree(target, ignore_errors=True)
                        command += ["--out", str(target)]
                    times.setdefault((name, which), []).append(_timed(command, environment))
                    if out is not None:
                        outputs[(name, which)] = _digests(target)
    print(f"{'case':<26}{'before s':>10}{'after s':>10}{'after/before':>14}  bytes")
    for name, _, out in cases:
        before = statistics.median(times[(name, "before")])
        after = statistics.median(times[(name, "after")])
        same = "" if out is None else ("same" if outputs[(name, "before")] == outputs[(name, "after")] else "DIFFER")
        print(f"{name:<26}{before:>10.2f}{after:>10.2f}{after / before:>14.2f}  {same}")


if __name__ == "__main__":
    main()
