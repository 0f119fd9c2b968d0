"""broadsheet against the tools it replaces, measured in the same run, alternating.

    .venv/bin/python benchmarks/run.py [--sizes 100,1000] [--repeat 3] [--formats epub,pdf]

For each size N a synthetic edition is generated (benchmarks/corpus.py: N articles over 8
sections, Chinese and English, ~20% with a picture). EPUB: broadsheet against a bare ebooklib
script writing the same chapters, pandoc (Markdown → EPUB) and calibre's ebook-convert where they
are installed. PDF: broadsheet against raw WeasyPrint laying out broadsheet's own final HTML
(``--format html``). Each command runs as its own process; the table gives the median wall time,
min–max, peak resident memory and the ratio to the baseline of its format.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import make_corpus  # noqa: E402

PY = sys.executable


def measure(command: list[str], env: dict) -> tuple[float, float]:
    """Return (seconds, peak RSS in MB) of one run of ``command``."""
    with tempfile.NamedTemporaryFile(suffix=".time") as timing:
        subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", timing.name, *command], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds, kb = Path(timing.name).read_text().split()[-2:]
    return float(seconds), int(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="epub,pdf")
    args = parser.parse_args()
    formats = args.formats.split(",")
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for size in (int(s) for s in args.sizes.split(",")):
            edition, markdown = make_corpus(work, size)
            out = work / f"out-{size}"
            commands: dict[str, tuple[str, list[str]]] = {}
            if "epub" in formats:
                commands["broadsheet epub"] = ("epub", [PY, "-m", "broadsheet", "build", str(edition), "-f", "epub",
                                                        "-o", str(out / "b"), "-q"])
                commands["ebooklib script"] = ("epub", [PY, str(HERE / "baseline_ebooklib.py"), str(edition),
                                                        str(out / "bare.epub")])
                if shutil.which("pandoc"):
                    commands["pandoc"] = ("epub", ["pandoc", str(markdown), "-o", str(out / "pandoc.epub")])
                if shutil.which("ebook-convert"):
                    commands["calibre ebook-convert"] = ("epub", ["ebook-convert", str(markdown),
                                                                  str(out / "calibre.epub")])
            if "pdf" in formats:
                subprocess.run([PY, "-m", "broadsheet", "build", str(edition), "-f", "html", "-o", str(out / "h"),
                                "-q"], check=True, env=env)
                (html,) = (out / "h").glob("*/index.html")
                commands["broadsheet pdf"] = ("pdf", [PY, "-m", "broadsheet", "build", str(edition), "-f", "pdf",
                                                      "-o", str(out / "p"), "-q"])
                commands["raw WeasyPrint"] = ("pdf", [PY, "-c", "import sys, weasyprint; weasyprint.HTML("
                                                      "filename=sys.argv[1]).write_pdf(sys.argv[2])", str(html),
                                                      str(out / "raw.pdf")])
            out.mkdir(parents=True, exist_ok=True)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
            for _ in range(args.repeat):  # alternate the tools within each round
                for name, (_, command) in commands.items():
                    results[name].append(measure(command, env))
            for name, (fmt, _) in commands.items():
                times = [t for t, _ in results[name]]
                baseline = "ebooklib script" if fmt == "epub" else "raw WeasyPrint"
                base = statistics.median(t for t, _ in results[baseline])
                rows.append((size, name, statistics.median(times), min(times), max(times),
                             max(m for _, m in results[name]), statistics.median(times) / base, baseline))
    print(f"{'N':>5}  {'tool':24} {'median':>8} {'min–max':>15} {'peak RSS':>9}  ratio")
    for size, name, median, low, high, peak, ratio, baseline in rows:
        print(f"{size:>5}  {name:24} {median:7.2f}s {low:6.2f}–{high:6.2f}s {peak:7.0f}MB  {ratio:5.2f}× {baseline}")


if __name__ == "__main__":
    main()
