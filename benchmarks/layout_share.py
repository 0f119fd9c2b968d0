"""What each of broadsheet's additions to WeasyPrint's work costs, on broadsheet's own print HTML.

    .venv/bin/python benchmarks/layout_share.py [EDITION] [--articles 100 --sections 20] [--repeat 3]

The edition (a synthetic one from benchmarks/corpus.py unless one is named) is built once with
``--format html``; that HTML is then laid out and written by plain WeasyPrint, each variant in a
fresh process, the variants alternating within each round:

- ``raw``: the HTML as broadsheet writes it, WeasyPrint alone (the floor);
- ``+ justification``: with broadsheet's inter-character justification installed (``pdf/justify``);
- ``- running heads and folios``, ``- section openers``, ``- contents``, ``- hyphenation``: the
  raw HTML less one addition (its rules taken out of the stylesheet, or the contents taken out of
  the HTML), so the difference to ``raw`` is what that addition costs the engine;

and, for the whole, ``broadsheet --layout whole`` and ``broadsheet --jobs 2`` (``--no-cache``),
each its own process, start-up and reading included.  The table gives the median wall time and
the ratio to ``raw`` measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
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
LAY_OUT = """
import sys, weasyprint
if sys.argv[3] == "justify":
    from broadsheet.backends.pdf.justify import install
    install()
weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2])
"""


def _variant(folder: Path, name: str, html: str, css: str) -> Path:
    """Write one variant of the print HTML (with its own stylesheet) beside the original's pictures."""
    (folder / "styles").mkdir(exist_ok=True)
    (folder / "styles" / f"{name}.css").write_text(css, encoding="utf-8")
    page = folder / f"{name}.html"
    page.write_text(html.replace("styles/print.css", f"styles/{name}.css"), encoding="utf-8")
    return page


def variants(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (HTML file, mode): the raw print HTML and the HTML less each addition."""
    html = (folder / "index.html").read_text(encoding="utf-8")
    css = (folder / "styles" / "print.css").read_text(encoding="utf-8")
    no_margins = re.sub(r"@(top|bottom)-[a-z-]+\s*\{[^}]*\}", "", css)
    no_openers = css.replace("break-before: right", "break-before: page")
    no_hyphens = css.replace("hyphens: auto", "hyphens: manual")
    no_contents = re.sub(r'<nav class="toc".*?</nav>', "", html, flags=re.S)
    return {
        "raw": (_variant(folder, "raw", html, css), "raw"),
        "+ justification": (_variant(folder, "raw", html, css), "justify"),
        "- running heads and folios": (_variant(folder, "nomargins", html, no_margins), "raw"),
        "- section openers": (_variant(folder, "noopeners", html, no_openers), "raw"),
        "- contents": (_variant(folder, "nocontents", no_contents, css), "raw"),
        "- hyphenation": (_variant(folder, "nohyphens", html, no_hyphens), "raw"),
    }


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("edition", type=Path, nargs="?")
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--sections", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    broadsheet = [PY, "-m", "broadsheet", "build", "-q"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        edition = args.edition or make_corpus(work, args.articles, sections=args.sections)[0]
        subprocess.run([*broadsheet, str(edition), "-f", "html", "-o", str(work / "h")], check=True, env=env)
        (page_folder,) = (p.parent for p in (work / "h").glob("*/index.html"))
        commands = {name: [PY, "-c", LAY_OUT, str(page), str(work / "out.pdf"), mode]
                    for name, (page, mode) in variants(page_folder).items()}
        commands["broadsheet --layout whole"] = [*broadsheet, str(edition), "-f", "pdf", "--layout", "whole",
                                                 "--no-cache", "-o", str(work / "w")]
        commands["broadsheet --jobs 2"] = [*broadsheet, str(edition), "-f", "pdf", "--jobs", "2", "--no-cache",
                                           "-o", str(work / "j")]
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(timed(command, env))
        shutil.rmtree(work / "w", ignore_errors=True)
    raw = statistics.median(times["raw"])
    print(f"{'variant':32} {'median':>8} {'min–max':>15}  ratio to raw  difference")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:32} {median:7.2f}s {min(runs):6.2f}–{max(runs):6.2f}s  {median / raw:10.2f}×  "
              f"{median - raw:+7.2f}s")


if __name__ == "__main__":
    main()
