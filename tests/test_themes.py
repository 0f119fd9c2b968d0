"""Themes: a user folder overrides shipped templates and styles by name; errors name the theme."""

from __future__ import annotations

from broadsheet.resources import data_dir
from conftest import EN_EXAMPLE, epub_files, outputs, run_cli
from pdfread import page_texts
from test_cli import write


def test_user_theme_overrides_templates_and_styles(tmp_path, assert_valid_epub):
    theme = tmp_path / "mytheme"
    write(theme / "theme.toml", 'name = "mine"\ninherit = "default"\n')
    write(theme / "theme.css", ".headline { color: #123456; }\n")
    write(theme / "epub/section.xhtml",
          '{% extends "epub/page.xhtml" %}{% block content %}<h1 class="custom-opener">{{ section.name }} ★</h1>'
          '{% endblock %}')
    shipped = (data_dir("templates") / "pdf/edition.html").read_text(encoding="utf-8")
    write(theme / "pdf/edition.html",
          shipped.replace('<h1 class="masthead">', '<p class="motto">Custom motto</p><h1 class="masthead">'))
    out = tmp_path / "out"
    result = run_cli("build", EN_EXAMPLE, "--out", out, "--theme", theme)
    assert result.returncode == 0, result.stderr
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)
    files = epub_files(epub)
    assert b"#123456" in files["EPUB/styles/style.css"]
    assert "News ★".encode() in files["EPUB/text/s01.xhtml"]
    # templates not overridden still come from the shipped theme
    assert b'class="headline"' in files["EPUB/text/ferry.xhtml"]
    assert "Custom motto" in page_texts(next(out.glob("*.pdf")))[0]


def test_theme_named_in_broadsheet_toml_is_relative_to_it(tmp_path):
    write(tmp_path / "pub/broadsheet.toml", "theme = 'look'\n[publication]\ntitle = 'T'\nlanguage = 'en'\n")
    write(tmp_path / "pub/look/theme.css", ".headline { color: #654321; }\n")
    write(tmp_path / "pub/2024-01-01/a.md", "---\ntitle: A\n---\nText.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "pub", "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert b"#654321" in epub_files(next(out.glob("*.epub")))["EPUB/styles/style.css"]


def test_template_error_is_one_line(tmp_path):
    theme = tmp_path / "broken"
    write(theme / "epub/article.xhtml", "{{ article.no_such_field }}")
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "--theme", theme)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "template" in result.stderr
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


def test_stylesheet_may_not_import(tmp_path):
    theme = tmp_path / "importer"
    write(theme / "theme.css", "@import url(https://example.org/x.css);\n")
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "--theme", theme)
    assert result.returncode == 1 and "theme.css" in result.stderr and "@import" in result.stderr


def test_sandbox_blocks_template_escapes(tmp_path):
    theme = tmp_path / "evil"
    write(theme / "epub/article.xhtml", "{{ article.__class__.__mro__[1].__subclasses__() }}")
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "out", "--theme", theme, "-f", "epub")
    assert result.returncode == 1 and "template" in result.stderr


def test_a_sources_own_theme_may_inherit_inside_it_and_from_the_users_themes(tmp_path):
    config = tmp_path / "config"
    write(config / "broadsheet/themes/house/theme.css", ".headline { color: #0a0b0c; }\n")
    write(config / "broadsheet/themes/house/theme.toml", 'inherit = "newspaper"\n')
    write(tmp_path / "pub/broadsheet.toml", "theme = 'themes/mine'\n[publication]\ntitle = 'T'\nlanguage = 'en'\n")
    write(tmp_path / "pub/themes/mine/theme.toml", 'inherit = "../shared"\n')
    write(tmp_path / "pub/themes/mine/theme-epub.css", ".byline { color: #0d0e0f; }\n")
    write(tmp_path / "pub/themes/shared/theme.toml", 'inherit = "house"\n')
    write(tmp_path / "pub/2024-01-01/a.md", "---\ntitle: A\n---\nText.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "pub", "--out", out, "-f", "epub", env={"XDG_CONFIG_HOME": str(config)})
    assert result.returncode == 0, result.stderr
    css = epub_files(next(out.glob("*.epub")))["EPUB/styles/style.css"]
    assert b"#0a0b0c" in css and b"#0d0e0f" in css


def test_a_sources_own_theme_may_not_lie_outside_it(tmp_path):
    write(tmp_path / "elsewhere/theme.css", ".headline { color: #654321; }\n")
    write(tmp_path / "pub/broadsheet.toml", "theme = '../elsewhere'\n[publication]\ntitle = 'T'\nlanguage = 'en'\n")
    write(tmp_path / "pub/2024-01-01/a.md", "---\ntitle: A\n---\nText.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "pub", "--out", out, "-f", "epub")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "lies outside the source folder" in line and "elsewhere" in line
    assert not out.exists() or not outputs(out)
    # the same folder named on the command line is the user's own choice
    result = run_cli("build", tmp_path / "pub", "--out", out, "-f", "epub", "--theme", tmp_path / "elsewhere")
    assert result.returncode == 0, result.stderr
    assert b"#654321" in epub_files(next(out.glob("*.epub")))["EPUB/styles/style.css"]
