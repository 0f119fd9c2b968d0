"""Golden editions: a fixed set of builds whose every output byte is pinned by a SHA-256 in fixtures/golden.json.

The same list serves the test (tests/test_golden.py) and the recorder (scripts/record-golden), so the two cannot
drift apart.  Every build runs with SOURCE_DATE_EPOCH=1700000000 into a fresh folder; builds lay every part out
anew (--no-cache; ``digest`` has no cache option, and a fresh folder has nothing to read).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden.json"
#: what the bytes also depend on: the libraries that write them and the installed fonts
GOLDEN_ENVIRONMENT = ROOT / "tests" / "fixtures" / "golden-environment.json"
_LIBRARIES = ("weasyprint", "pydyf", "fonttools", "pillow", "ebooklib", "pikepdf", "opencc",
              "lxml", "nh3", "jinja2", "markdown-it-py", "tinycss2")
EPOCH = "1700000000"

_ZH = ROOT / "examples" / "zhengzhou-daily"
_EN = ROOT / "examples" / "harbour-gazette"
_FIXTURES = ROOT / "tests" / "fixtures"

#: name → the command's arguments (without --out).  One command may build several sources into one folder.
EDITIONS: dict[str, tuple[object, ...]] = {
    "examples": ("build", _ZH, _EN, "--no-cache"),
    "newspaper": ("build", _EN, "--theme", "newspaper", "--no-cache"),
    "s2tw": ("build", _ZH, "--convert", "s2tw", "--no-cache"),
    "vertical": ("build", _ZH, "--writing-mode", "vertical", "--embed-fonts", "-f", "epub", "--no-cache"),
    "tabloid": ("build", _ZH, _EN, "--page-size", "tabloid", "--bleed", "3mm", "--marks", "crop,cross",
                "-f", "pdf", "--no-cache"),
    "booklet": ("build", _ZH, _EN, "--impose", "booklet", "-f", "pdf", "--no-cache"),
    "digest": ("digest", _ZH, _EN, "--max-articles", "6", "--title", "Golden digest"),
    "sources": ("build", _FIXTURES / "epaper" / "founder", _FIXTURES / "feeds" / "rss2.xml",
                _FIXTURES / "dumps" / "peoples-daily-epaper.txt", "--no-cache"),
}


def build(name: str, out: Path, extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Run edition ``name`` into ``out``; return {file name: SHA-256} of everything written but the cache and the manifests."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONIOENCODING": "utf-8"}
    environment.pop("BROADSHEET_DEBUG", None)
    command, *args = EDITIONS[name]
    result = subprocess.run(
        [sys.executable, "-m", "broadsheet", command, *map(str, args), *extra, "--out", str(out), "--quiet"],
        capture_output=True, text=True, env=environment, timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"golden edition {name!r} failed ({result.returncode}):\n{result.stderr}")
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.iterdir()) if path.name not in (".broadsheet-cache", ".broadsheet")}


def recorded() -> dict[str, dict[str, str]]:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def environment() -> dict[str, str]:
    """The versions of the libraries that write the outputs, and a digest of the installed fonts' files."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in _LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "absent"
    try:
        listing = subprocess.run(["fc-list", "--format", "%{file}\\n"], capture_output=True, text=True,
                                 timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    found["fonts"] = hashlib.sha256("\n".join(sorted(listing.split())).encode()).hexdigest()[:16]
    return found


def recorded_environment() -> dict[str, str]:
    return json.loads(GOLDEN_ENVIRONMENT.read_text(encoding="utf-8")) if GOLDEN_ENVIRONMENT.exists() else {}
