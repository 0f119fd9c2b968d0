"""broadsheet against the tools it replaces, measured in the same run, alternating.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000] [--repeat 3] [--formats epub,pdf]

For each size N a synthetic edition is generated (benchmarks/corpus.py: N articles over 8
sections, Chinese and English, ~20% with a picture). EPUB: broadsheet against a bare ebooklib
script writing the same chapters, pandoc (Markdown → EPUB) and calibre's ebook-convert where they
are installed. PDF: broadsheet against raw WeasyPrint laying out broadsheet's own final HTML
(``--format html``); broadsheet with one and two layout processes and laying the document out whole;
and an incremental rebuild after one article is edited (a different one each round), against a
full build. Each command runs as its own process; the table gives the median wall time, min–max,
peak resident memory of the largest process and of all processes at once (sampled every 20 ms)
and the ratio to the baseline of its format.
"""

from __future__ import annotations

import argparse
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

PY = sys.executable


def _tree(pid: int) -> list[int]:
    """The process ``pid`` and all its descendants."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").glob("*/children"))
        except OSError:  # the process has just ended
            continue
        for task in tasks:
            try:
                stack.extend(int(child) for child in task.read_text().split())
            except OSError:
                pass
    return found


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def measure(command: list[str], env: dict) -> tuple[float, float, float]:
    """Return (seconds, peak RSS of the largest process, peak RSS of the whole process tree) in MB,
    sampling /proc every 20 ms."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    largest = total = 0.0
    while process.poll() is None:
        sizes = [_rss_mb(pid) for pid in _tree(process.pid)]
        largest, total = max(largest, max(sizes, default=0.0)), max(total, sum(sizes))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return seconds, largest, total


def edit_one(edition: Path, round_: int) -> None:
    """Change one article of ``edition`` (a different one each round): a sentence added."""
    articles = sorted(edition.rglob("a*.md"))
    article = articles[(round_ * 7) % len(articles)]
    with article.open("a", encoding="utf-8") as handle:
        handle.write(f"\n补记第{round_ + 1}次修订。\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="epub,pdf")
    args = parser.parse_args()
    formats = args.formats.split(",")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    broadsheet = [PY, "-m", "broadsheet"]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        version = [measure([*broadsheet, "--version"], env) for _ in range(max(5, args.repeat))]
        rows.append((0, "broadsheet --version", version, None, None))
        for size in (int(s) for s in args.sizes.split(",")):
            edition, markdown = make_corpus(work, size)
            out = work / f"out-{size}"
            out.mkdir(parents=True)
            commands: dict[str, list[str]] = {}
            if "epub" in formats:
                commands["broadsheet epub"] = [*broadsheet, "build", str(edition), "-f", "epub", "-o", str(out / "b"),
                                               "-q", "--no-cache"]
                commands["ebooklib script"] = [PY, str(HERE / "baseline_ebooklib.py"), str(edition),
                                               str(out / "bare.epub")]
                if shutil.which("pandoc"):
                    commands["pandoc"] = ["pandoc", str(markdown), "-o", str(out / "pandoc.epub")]
                if shutil.which("ebook-convert"):
                    commands["calibre ebook-convert"] = ["ebook-convert", str(markdown), str(out / "calibre.epub")]
            if "pdf" in formats:
                subprocess.run([*broadsheet, "build", str(edition), "-f", "html", "-o", str(out / "h"), "-q"],
                               check=True, env=env)
                (html,) = (out / "h").glob("*/index.html")
                pdf = [*broadsheet, "build", str(edition), "-f", "pdf", "-q"]
                commands["broadsheet pdf --jobs 1"] = [*pdf, "-o", str(out / "p1"), "--jobs", "1", "--no-cache"]
                commands["broadsheet pdf --jobs 2"] = [*pdf, "-o", str(out / "p2"), "--jobs", "2", "--no-cache"]
                commands["broadsheet pdf whole"] = [*pdf, "-o", str(out / "pw"), "--layout", "whole"]
                commands["raw WeasyPrint"] = [PY, "-c", "import sys, weasyprint; weasyprint.HTML("
                                              "filename=sys.argv[1]).write_pdf(sys.argv[2])", str(html),
                                              str(out / "raw.pdf")]
                subprocess.run([*pdf, "-o", str(out / "inc")], check=True, env=env)  # the cache to rebuild from
            results: dict[str, list] = {name: [] for name in commands}
            if "pdf" in formats:
                results["broadsheet pdf, one article edited"] = []
            for round_ in range(args.repeat):  # alternate the tools within each round
                for name, command in commands.items():
                    results[name].append(measure(command, env))
                if "pdf" in formats:
                    edit_one(edition, round_)
                    results["broadsheet pdf, one article edited"].append(
                        measure([*broadsheet, "build", str(edition), "-f", "pdf", "-q", "-o", str(out / "inc")], env))
            for name, runs in results.items():
                if name in ("broadsheet epub", "ebooklib script", "pandoc", "calibre ebook-convert"):
                    rows.append((size, name, runs, "ebooklib script", "pandoc" if "pandoc" in results else None))
                elif name == "broadsheet pdf, one article edited":
                    rows.append((size, name, runs, "broadsheet pdf --jobs 2", None))
                else:
                    rows.append((size, name, runs, "raw WeasyPrint", None))
            medians = {name: statistics.median(t for t, _, _ in runs) for name, runs in results.items()}
            rows[-len(results):] = [(s, n, r, b, b2, medians) for s, n, r, b, b2 in rows[-len(results):]]
    print(f"{'N':>5}  {'command':36} {'median':>8} {'min–max':>15} {'RSS max':>8} {'RSS all':>8}  ratio")
    for row in rows:
        size, name, runs, baseline, second = row[:5]
        medians = row[5] if len(row) > 5 else {}
        times = [t for t, _, _ in runs]
        median = statistics.median(times)
        ratio = ""
        if baseline:
            ratio = f"{median / medians[baseline]:5.2f}× {baseline}"
            if second:
                ratio += f", {median / medians[second]:5.2f}× {second}"
        print(f"{size or '':>5}  {name:36} {median:7.2f}s {min(times):6.2f}–{max(times):6.2f}s "
              f"{max(m for _, m, _ in runs):6.0f}MB {max(a for _, _, a in runs):6.0f}MB  {ratio}")


if __name__ == "__main__":
    main()
