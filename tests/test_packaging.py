"""The wheel ships templates and styles, and an installed broadsheet finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_templates_and_styles(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("broadsheet-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("broadsheet/templates/epub/article.xhtml", "broadsheet/templates/pdf/edition.html",
                    "broadsheet/templates/base/blocks.html", "broadsheet/templates/themes/default/theme.toml",
                    "broadsheet/styles/base.css", "broadsheet/styles/cjk.css", "broadsheet/styles/print.css",
                    "broadsheet/styles/epub.css", "broadsheet/cli.py", "broadsheet/py.typed"):
        assert shipped in names, shipped
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "broadsheet = broadsheet.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_layout_is_found_first(tmp_path, monkeypatch):
    from broadsheet import resources

    package = tmp_path / "broadsheet"
    (package / "templates").mkdir(parents=True)
    monkeypatch.setattr(resources, "_PACKAGE", package)
    resources.data_dir.cache_clear()
    try:
        assert resources.data_dir("templates") == package / "templates"
    finally:
        resources.data_dir.cache_clear()
