"""The command-line contract: exit statuses, one-line errors naming the file, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EN_EXAMPLE, outputs, run_cli

GOOD_ARTICLE = "---\ntitle: A fine day\n---\n\nThe sun came out.\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def assert_one_line_error(result, must_name: str, *fragments: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("broadsheet: error: ")
    assert must_name in lines[0], lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


BAD_INPUTS = {
    "malformed front matter": (
        {"edition/a.md": "---\ntitle: [unclosed\n---\n\nBody\n"}, "a.md", "malformed front matter"),
    "front matter never closed": ({"edition/a.md": "---\ntitle: x\n\nBody\n"}, "a.md", "no closing"),
    "unknown front matter key": ({"edition/a.md": "---\ntitle: x\ncolour: red\n---\nBody\n"}, "a.md",
                                 "colour: unknown key"),
    "wrong type in front matter": ({"edition/a.md": "---\ntitle: x\ntags: 7\n---\nBody\n"}, "a.md", "tags"),
    "unknown key in broadsheet.toml": (
        {"edition/broadsheet.toml": "[publication]\ntitle = 'x'\nmotto = 'y'\n", "edition/2024-01-01/a.md": GOOD_ARTICLE},
        "broadsheet.toml", "publication.motto: unknown key"),
    "bad page size": (
        {"edition/broadsheet.toml": "[pdf]\npage_size = 'huge'\n", "edition/2024-01-01/a.md": GOOD_ARTICLE},
        "broadsheet.toml", "pdf.page_size"),
    "bad TOML": ({"edition/broadsheet.toml": "title = \n", "edition/2024-01-01/a.md": GOOD_ARTICLE},
                 "broadsheet.toml", "invalid TOML"),
    "wrong type in issue.toml": (
        {"edition/2024-01-01/issue.toml": "date = 'yesterday'\n", "edition/2024-01-01/a.md": GOOD_ARTICLE},
        "issue.toml", "date"),
    "binary file named .md": ({"edition/a.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"}, "a.md", "binary"),
    "unknown source format": ({"edition/a.xml": "<nothing-known/>"}, "a.xml", "unknown source format"),
    "no title anywhere": ({"edition/a.md": "Just a paragraph.\n"}, "a.md", "title"),
    "empty folder": ({"edition/.keep": ""}, "edition", "no articles"),
    "unknown theme": ({"edition/broadsheet.toml": "theme = 'nope'\n", "edition/2024-01-01/a.md": GOOD_ARTICLE},
                      "nope", "unknown theme"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_one_line_exit_1_and_writes_nothing(tmp_path, case):
    files, must_name, fragment = BAD_INPUTS[case]
    for name, content in files.items():
        write(tmp_path / name, content)
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "edition", "--out", out)
    assert_one_line_error(result, must_name, fragment)
    assert not out.exists() or not outputs(out)


def test_missing_source(tmp_path):
    result = run_cli("build", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert_one_line_error(result, "nowhere", "no such file or folder")
    assert not (tmp_path / "out").exists()


def test_one_bad_source_among_good_ones_writes_nothing(tmp_path):
    write(tmp_path / "bad/a.md", "---\ntitle: x\nnope: 1\n---\n")
    out = tmp_path / "out"
    result = run_cli("build", EN_EXAMPLE, tmp_path / "bad", "--out", out)
    assert_one_line_error(result, "a.md", "nope: unknown key")
    assert not out.exists() or not outputs(out)


def test_failed_build_keeps_yesterdays_output(tmp_path, assert_valid_epub):
    out = tmp_path / "out"
    write(tmp_path / "ed/2024-01-01/a.md", GOOD_ARTICLE)
    assert run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub").returncode == 0
    (good,) = outputs(out)
    assert_valid_epub(good)
    before = good.read_bytes()
    write(tmp_path / "ed/2024-01-01/b.md", "---\ntitle: [\n---\n")
    assert run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub").returncode == 1
    assert [p.name for p in outputs(out)] == [good.name]
    assert good.read_bytes() == before


@pytest.mark.parametrize("args", [[], ["build"], ["build", "x", "--format", "docx"], ["frobnicate"],
                                  ["build", "x", "--no-such-option"]])
def test_usage_errors_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "option", "fragment"), [
    (["--page-size", "Q9"], "--page-size", "expected one of"),
    (["--bleed", "-3mm"], "--bleed", "must not be negative"),
    (["--bleed", "three"], "--bleed", "expected a CSS length"),
    (["--marks", "dots"], "--marks", "expected marks from crop, cross"),
    (["--pdf-variant", "pdf/z"], "--pdf-variant", "expected one of"),
    (["--max-size", "lots"], "--max-size", "expected a size"),
])
def test_a_bad_option_value_is_a_usage_error_naming_the_option(tmp_path, args, option, fragment):
    result = run_cli("build", EN_EXAMPLE, "--out", tmp_path, *args)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert f"Error: Invalid value for '{option}': " in result.stderr and fragment in result.stderr, result.stderr
    assert "command line" not in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_bad_recipe_names_its_file_and_key(tmp_path):
    recipe = write(tmp_path / "r.toml", f'sources = ["{EN_EXAMPLE}"]\nbleed = "x"\n')
    result = run_cli("digest", "--recipe", recipe, "--out", tmp_path / "out")
    assert_one_line_error(result, str(recipe), "bleed")


def test_a_bad_value_in_broadsheet_toml_names_the_file_and_key(tmp_path):
    import shutil

    shutil.copytree(EN_EXAMPLE, tmp_path / "ed")
    config = tmp_path / "ed" / "broadsheet.toml"
    config.write_text(config.read_text(encoding="utf-8") + 'bleed = "-3mm"\n', encoding="utf-8")  # under [pdf]
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "-f", "pdf")
    assert_one_line_error(result, str(config), "pdf.bleed: a bleed must not be negative")


def test_build_help_lists_every_page_size():
    from broadsheet.paper import PAGE_SIZES

    help_text = " ".join(run_cli("build", "--help").stdout.split())
    for name in PAGE_SIZES:
        assert (name if len(name) <= 2 else name.title()) in help_text, name


def test_version_and_help():
    from broadsheet import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and __version__ in version.stdout
    help_text = run_cli("build", "--help").stdout
    for option in ("--format", "--out", "--theme", "--page-size", "--quiet", "--allow-missing-glyphs"):
        assert option in help_text
    assert "Exit status" in run_cli("--help").stdout


def test_quiet_build_prints_nothing(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", GOOD_ARTICLE + "\n![gone](missing.png)\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "-f", "epub", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    assert_valid_epub(next((tmp_path / "out").glob("*.epub")))


def test_build_prints_paths_and_warnings(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", GOOD_ARTICLE + "\n![gone](missing.png)\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 0, result.stderr
    (path,) = result.stdout.split()
    assert Path(path).is_file()
    assert "missing.png" in result.stderr and "warning" in result.stderr
    assert_valid_epub(Path(path))
