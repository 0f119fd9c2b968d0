"""Start-up stays lean: a command imports only what it needs (a property of imports, not a timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import EN_EXAMPLE, FIXED_EPOCH, ZH_EXAMPLE

#: Libraries no command needs before it reads a source (top-level module names).
HEAVY = {"weasyprint", "PIL", "fontTools", "ebooklib", "lxml", "pydantic", "markdown_it", "trafilatura",
         "feedparser", "opencc", "pypinyin", "jinja2", "yaml", "nh3", "pypdf", "rich", "importlib.metadata",
         "py3langid", "numpy", "starlette", "uvicorn", "anyio"}
#: What an EPUB build never needs: the PDF side, font subsetting, other kinds of source.
NOT_FOR_EPUB = {"weasyprint", "fontTools", "pypdf", "trafilatura", "feedparser", "opencc", "pypinyin", "starlette",
                "uvicorn"}
#: The PDF path: its layout engine, its PDF writers and broadsheet's own PDF backend.
#: What reading Markdown never needs: the other kinds' rules (many patterns compiled on import), which
#: detection does not need either.
NOT_FOR_MARKDOWN = {"broadsheet.ingest.lines", "broadsheet.ingest.credits", "broadsheet.ingest.sites",
                    "broadsheet.ingest.boilerplate", "broadsheet.ingest.epaper.article", "trafilatura"}
PDF_PATH = {"weasyprint", "pikepdf", "pydyf", "broadsheet.backends.pdf"}

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


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["build", "--help"], ["digest", "--help"],
                                  ["serve", "--help"]])
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
    assert imported(modules, NOT_FOR_MARKDOWN) == set()  # the example is Markdown alone


BUILD_IN_PROCESS = """
import json, sys
from pathlib import Path
from broadsheet.pipeline import build
written = build([Path(p) for p in sys.argv[2:]], formats=["epub"], out=Path(sys.argv[1]), cache=False)
print(json.dumps([[str(p) for p in written], sorted(sys.modules)]))
"""


def test_epub_build_in_process_imports_nothing_of_the_pdf_path(tmp_path):
    """The process that builds an EPUB (not only the command's): no WeasyPrint, no PDF writer, no
    PDF backend module, whatever the sources (pictures and CJK text included)."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-c", BUILD_IN_PROCESS, str(tmp_path), str(EN_EXAMPLE), str(ZH_EXAMPLE)],
                            capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    written, modules = json.loads(result.stdout.splitlines()[-1])
    assert written and all(path.endswith(".epub") for path in written)
    pdf_path = {name for name in modules if name.split(".")[0] in PDF_PATH
                or name == "broadsheet.backends.pdf" or name.startswith("broadsheet.backends.pdf.")}
    assert pdf_path - bare_interpreter() == set()


def test_the_progress_bar_runs_no_thread_of_its_own():
    """The progress bar is drawn at each step by the building process: with a thread of rich's own running,
    the build could not fork its picture workers, its cover or the PDF's layout zygote, and took the slower
    ways (a zygote started afresh, the cover drawn in turn) in every build shown on a terminal."""
    import threading

    from broadsheet.cli import _progress

    before = threading.active_count()
    progress = _progress(True)
    with progress:
        task = progress.add_task("Reading sources", total=None)
        progress.update(task, description="Rendering x.epub", completed=1, total=2)
        assert threading.active_count() == before
        assert progress.tasks[0].completed == 1 and progress.tasks[0].description == "Rendering x.epub"


#: Imports the layout engine the way ``what`` says and prints, as JSON, the commands started meanwhile (an audit
#: hook sees every one) and the files of the layout libraries this process then has open.
ENGINE_PROBE = """
import json, sys
started = []
sys.addaudithook(lambda event, args: started.append([str(a) for a in args[1]]) if event == "subprocess.Popen" else None)
what = sys.argv[1]
if what == "plain":
    import weasyprint
elif what == "engine":
    from broadsheet.backends.pdf.engine import import_weasyprint
    import_weasyprint()
else:  # the import made through the engine fails half-way: it is made again as it is
    import contextlib
    from broadsheet.backends.pdf import engine

    @contextlib.contextmanager
    def failing(find_library):
        import weasyprint.urls
        raise OSError("no such library")
        yield

    engine._finding = failing
    engine.import_weasyprint()
    import weasyprint
    assert weasyprint.HTML(string="<p>x</p>").write_pdf().startswith(b"%PDF")
libraries = sorted({line.split()[-1] for line in open("/proc/self/maps")
                    if any(name in line for name in ("libpango", "libharfbuzz", "libfontconfig", "libgobject"))})
print(json.dumps([started, libraries]))
"""


def _engine_imported(what: str) -> tuple[list[list[str]], list[str]]:
    result = subprocess.run([sys.executable, "-c", ENGINE_PROBE, what], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    started, libraries = json.loads(result.stdout.splitlines()[-1])
    return started, libraries


needs_ldconfig = pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/sbin/ldconfig"),
                                    reason="glibc's ldconfig")


@needs_ldconfig
def test_the_layout_engine_is_imported_with_one_listing_of_the_libraries():
    """A layout zygote imports WeasyPrint with ldconfig run once, where its own import runs it (and the compiler)
    for every name of every library it tries; the same libraries are loaded either way."""
    started, libraries = _engine_imported("engine")
    assert started == [["/sbin/ldconfig", "-p"]]
    plain_started, plain_libraries = _engine_imported("plain")
    assert len(plain_started) > 5, plain_started
    assert libraries == plain_libraries and any("libpango" in path for path in libraries)


@needs_ldconfig
def test_the_layout_engine_s_import_made_again_as_it_is_when_it_fails():
    started, libraries = _engine_imported("failing")
    assert any("libpango" in path for path in libraries)


@needs_ldconfig
def test_libraries_are_found_in_ldconfig_s_list_as_ctypes_finds_them():
    import ctypes.util

    from broadsheet.backends.pdf.engine import _listing, cached_find_library

    find = cached_find_library(_listing())
    names = ["c", "m", "pango-1.0", "harfbuzz", "harfbuzz-subset", "fontconfig", "gobject-2.0", "pangoft2-1.0",
             "libpango-1.0-0", "pango-1.0-0", "harfbuzz-vector", "no-such-library-anywhere"]
    answers = {name: find(name) for name in names}
    assert answers == {name: ctypes.util.find_library(name) for name in names}
    assert answers["pango-1.0"] and answers["no-such-library-anywhere"] is None
