"""Start-up stays lean: a command imports only what it needs (a property of imports, not a timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import EN_EXAMPLE, FIXED_EPOCH

#: Libraries no command needs before it reads a source (top-level module names).
HEAVY = {"weasyprint", "PIL", "fontTools", "ebooklib", "lxml", "pydantic", "markdown_it", "trafilatura",
         "feedparser", "opencc", "pypinyin", "jinja2", "yaml", "nh3", "pypdf", "rich", "importlib.metadata",
         "py3langid", "numpy"}
#: What an EPUB build never needs: the PDF side, font subsetting, other kinds of source.
NOT_FOR_EPUB = {"weasyprint", "fontTools", "pypdf", "trafilatura", "feedparser", "opencc", "pypinyin"}

PROBE = """
import json, sys
from broadsheet.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="broadsheet")
except SystemExit:
    pass
sys.stderr.write("\\n" + json.dumps(sorted(sys.modules)))
"""


def modules_after(*args: object) -> set[str]:
    """Run the CLI in a fresh interpreter; return every module imported by the time it ends."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                            env=environment, timeout=600)
    return set(json.loads(result.stderr.splitlines()[-1]))


def bare_interpreter() -> set[str]:
    """Modules a bare interpreter has already (site hooks may import some): not the CLI's doing."""
    result = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
                            capture_output=True, text=True, timeout=600)
    return set(json.loads(result.stdout))


def imported(modules: set[str], names: set[str]) -> set[str]:
    return {name for name in names if name in modules} - bare_interpreter()


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["build", "--help"], ["digest", "--help"]])
def test_version_and_help_import_nothing_heavy(args):
    assert imported(modules_after(*args), HEAVY) == set()


def test_importing_the_package_imports_nothing_heavy():
    code = "import json, sys, broadsheet; print(json.dumps(sorted(sys.modules)), broadsheet.__version__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    modules, version = result.stdout.rsplit(" ", 1)
    assert imported(set(json.loads(modules)), HEAVY) == set()
    assert version.strip()


def test_epub_build_imports_no_pdf_or_other_source_machinery(tmp_path):
    modules = modules_after("build", EN_EXAMPLE, "-f", "epub", "-o", tmp_path, "-q")
    assert list(tmp_path.glob("*.epub")), "the build wrote nothing"
    assert imported(modules, NOT_FOR_EPUB) == set()
