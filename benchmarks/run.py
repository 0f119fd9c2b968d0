"""broadsheet against the tools it replaces, measured in the same run, alternating.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000] [--sections 8,20] [--repeat 3] [--formats epub,pdf]

For each size N and section count S a synthetic edition is generated (benchmarks/corpus.py: N articles over S
sections (8 unless told), Chinese and English, ~20% with a picture). EPUB: broadsheet against a bare ebooklib
script writing the same chapters, pandoc (Markdown → EPUB) and calibre's ebook-convert where they
are installed. PDF: broadsheet against raw WeasyPrint laying out broadsheet's own final HTML
(``--format html``); broadsheet with one and two layout processes and laying the document out whole;
and an incremental rebuild after one article is edited (a different one each round), against a
full build. Each command runs as its own process; the table gives the median wall time, min–max,
the peak resident memory of its largest process (RSS max) and the peak of the memory of all its
processes at once (PSS all: pages shared between forks counted once), sampled every 20 ms, and
the ratio to the baseline of its format.
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


def _memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of a process in MB: PSS counts pages shared between processes (a fork's) once."""
    rss = pss = 0.0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


def measure(command: list[str], env: dict) -> tuple[float, float, float]:
    """Return (seconds, peak RSS of the largest process, peak of the PSS summed over the whole
    process tree) in MB, sampling /proc every 20 ms."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    largest = total = 0.0
    while process.poll() is None:
        sizes = [_memory_mb(pid) for pid in _tree(process.pid)]
        largest = max(largest, max((rss for rss, _ in sizes), default=0.0))
        total = max(total, sum(pss for _, pss in sizes))
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
    parser.add_argument("--sections", default="8", help="comma-separated section counts of the corpus (e.g. 8,20)")
    parser.add_argument("--only", default="", help="comma-separated command names to run (default: all)")
    args = parser.parse_args()
    # names split at commas, but "broadsheet pdf, one article edited" is one name (with its comma)
    edited = "broadsheet pdf, one article edited"
    only = {edited} if edited in args.only else set()
    only |= {name.strip() for name in args.only.replace(edited, "").split(",") if name.strip()}
    formats = args.formats.split(",")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    broadsheet = [PY, "-m", "broadsheet"]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        version = [measure([*broadsheet, "--version"], env) for _ in range(max(5, args.repeat))]
        rows.append((0, "broadsheet --version", version, None, None))
        shapes = [(int(n), int(s)) for n in args.sizes.split(",") for s in args.sections.split(",")]
        for size, sections in shapes:
            edition, markdown = make_corpus(work / f"s{sections}", size, sections=sections)
            out = work / f"out-{size}-{sections}"
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
                if not only or "broadsheet pdf, one article edited" in only:  # the cache to rebuild from
                    subprocess.run([*pdf, "-o", str(out / "inc")], check=True, env=env)
            if only:
                commands = {name: command for name, command in commands.items() if name in only}
            results: dict[str, list] = {name: [] for name in commands}
            if "pdf" in formats and (not only or "broadsheet pdf, one article edited" in only):
                results["broadsheet pdf, one article edited"] = []
            for round_ in range(args.repeat):  # alternate the tools within each round
                for name, command in commands.items():
                    results[name].append(measure(command, env))
                if "broadsheet pdf, one article edited" in results:
                    edit_one(edition, round_)
                    results["broadsheet pdf, one article edited"].append(
                        measure([*broadsheet, "build", str(edition), "-f", "pdf", "-q", "-o", str(out / "inc")], env))
            size_label = f"{size}/{sections}"
            for name, runs in results.items():
                if name in ("broadsheet epub", "ebooklib script", "pandoc", "calibre ebook-convert"):
                    rows.append((size_label, name, runs, "ebooklib script" if "ebooklib script" in results else None,
                                 "pandoc" if "pandoc" in results else None))
                elif name == "broadsheet pdf, one article edited":
                    baseline = "broadsheet pdf --jobs 2" if "broadsheet pdf --jobs 2" in results else None
                    rows.append((size_label, name, runs, baseline, None))
                else:
                    baseline = "raw WeasyPrint" if "raw WeasyPrint" in results else None
                    rows.append((size_label, name, runs, baseline, None))
            medians = {name: statistics.median(t for t, _, _ in runs) for name, runs in results.items()}
            rows[-len(results):] = [(s, n, r, b, b2, medians) for s, n, r, b, b2 in rows[-len(results):]]
    print(f"{'N/S':>7}  {'command':36} {'median':>8} {'min–max':>15} {'RSS max':>8} {'PSS all':>8}  ratio")
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
        print(f"{size or '':>7}  {name:36} {median:7.2f}s {min(times):6.2f}–{max(times):6.2f}s "
              f"{max(m for _, m, _ in runs):6.0f}MB {max(a for _, _, a in runs):6.0f}MB  {ratio}")
    print_targets(rows)


# The targets: (articles, sections or None for any, command, baseline) → the ratio to reach (median to median)
TARGETS = [
    (100, None, "broadsheet epub", "pandoc", 0.80),
    (100, None, "broadsheet epub", "ebooklib script", 3.00),
    (1000, None, "broadsheet epub", "pandoc", 0.30),
    (100, 8, "broadsheet pdf --jobs 2", "raw WeasyPrint", 0.70),
    (100, 20, "broadsheet pdf --jobs 2", "raw WeasyPrint", 0.70),
    (100, 20, "broadsheet pdf whole", "raw WeasyPrint", 1.15),
    (1000, None, "broadsheet pdf --jobs 2", "raw WeasyPrint", 0.55),
    (100, None, "broadsheet pdf, one article edited", "broadsheet pdf --jobs 2", 0.20),
]


def print_targets(rows: list) -> None:
    """One line per target this run measured: the ratio reached, the target, met or not."""
    medians = {}
    for row in rows:
        if row[0]:
            medians[(row[0], row[1])] = statistics.median(t for t, _, _ in row[2])
    lines = []
    for articles, sections, command, baseline, target in TARGETS:
        for (label, name), median in medians.items():
            size, shape = (int(part) for part in label.split("/"))
            if name != command or size != articles or (sections is not None and shape != sections):
                continue
            if (label, baseline) not in medians:
                continue
            ratio = median / medians[(label, baseline)]
            verdict = "met" if ratio <= target else "missed"
            lines.append(f"{label:>7}  {command:36} {ratio:5.2f}× {baseline:24} target ≤ {target:.2f}×  {verdict}")
    if lines:
        print("\ntargets")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
