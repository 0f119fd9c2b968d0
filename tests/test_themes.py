"""Themes: a user folder overrides shipped templates and styles by name; errors name the theme."""

from __future__ import annotations

from broadsheet.resources import data_dir
from conftest import EN_EXAMPLE, epub_files, outputs, run_cli
from pdfread import page_texts, text_lines
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


LONG_REPORT = "\n\n".join(
    f"PARA{n:03d} " + " ".join(["The harbour board met on Tuesday to discuss the new ferry timetable and "
                                "the charging points on both quays."] * 3)
    for n in range(1, 41)
)


def test_a_child_of_newspaper_adds_its_stylesheet_after_the_parents(tmp_path):
    theme = tmp_path / "house"
    write(theme / "theme.toml", 'inherit = "newspaper"\n')
    write(theme / "theme.css", ".kicker { color: #0a1b2c; }\n")
    write(theme / "theme-pdf.css", ".byline { color: #2c1b0a; }\n")
    write(tmp_path / "ed/long.md", f"---\ntitle: A long report\nsection: News\n---\n\n{LONG_REPORT}\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "html", "-f", "pdf", "--theme", theme)
    assert result.returncode == 0, result.stderr
    css = next(out.glob("*/styles/print.css")).read_text(encoding="utf-8")  # what the print HTML links
    parent = (data_dir("templates") / "themes/newspaper/theme-pdf.css").read_text(encoding="utf-8")
    # the parent's column rules stay, the child's rules follow them (its theme.css, then its theme-pdf.css)
    assert parent in css and "column-rule" in css
    assert css.index(parent) < css.index("#0a1b2c") < css.index("#2c1b0a")
    # and the PDF is still laid out in columns: text lines start at two x positions on a full page
    pdf = next(out.glob("*.pdf"))
    full = [i for i, text in enumerate(page_texts(pdf)) if text.count("PARA") >= 4]
    starts = {round(line.x_min) for line in text_lines(pdf, full[0] + 1) if "harbour" in line.text}
    assert len(starts) >= 2


def test_a_template_extends_the_shipped_one_and_calls_super(tmp_path, assert_valid_epub):
    parent = tmp_path / "parent"
    write(parent / "epub/article.xhtml", "{% extends 'epub/page.xhtml' %}{% block content %}<p>replaced</p>"
                                         "{% endblock %}")
    theme = tmp_path / "house"
    write(theme / "theme.toml", 'inherit = "../parent"\n')
    write(theme / "epub/article.xhtml",
          '{% extends "!default/epub/article.xhtml" %}'
          '{% block content %}<p class="house-flag">House edition</p>\n{{ super() }}{% endblock %}')
    out = tmp_path / "out"
    result = run_cli("build", EN_EXAMPLE, "--out", out, "-f", "epub", "--theme", theme)
    assert result.returncode == 0, result.stderr
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)
    page = epub_files(epub)["EPUB/text/ferry.xhtml"].decode()
    # its own content, then the shipped article (not the parent theme's override of it)
    assert page.index('class="house-flag"') < page.index('class="headline"') < page.index('class="article-body"')
    assert "replaced" not in page


def test_the_shipped_prefix_reaches_only_shipped_templates(tmp_path):
    write(tmp_path / "ed/a.md", "---\ntitle: A\n---\nText.\n")
    write(tmp_path / "mine/epub/article.xhtml", "not shipped")
    config = tmp_path / "config"
    write(config / "broadsheet/themes/default/epub/article.xhtml", "user's own default")
    for name in ("!mine/epub/article.xhtml", f"!{tmp_path}/mine/epub/article.xhtml", "!../mine/epub/article.xhtml",
                 "!default/../../mine/epub/article.xhtml", "!default//etc/passwd", "!default", "!/etc/passwd",
                 "!newspaper/missing.html"):
        theme = tmp_path / "evil"
        write(theme / "epub/article.xhtml", f'{{% extends "{name}" %}}')
        out = tmp_path / "out"
        result = run_cli("build", tmp_path / "ed", "--out", out, "-f", "epub", "--theme", theme,
                         env={"XDG_CONFIG_HOME": str(config)})
        assert result.returncode == 1, name
        (line,) = result.stderr.strip().splitlines()
        assert "template" in line and "not shipped" not in line and "user's own" not in line, line
        assert not out.exists() or not outputs(out)
    # the user's theme called "default" is not the shipped one
    write(theme / "epub/article.xhtml", '{% extends "!default/epub/article.xhtml" %}')
    result = run_cli("build", tmp_path / "ed", "--out", tmp_path / "ok", "-f", "epub", "--theme", theme,
                     env={"XDG_CONFIG_HOME": str(config)})
    assert result.returncode == 0, result.stderr
    assert b"user's own" not in epub_files(next((tmp_path / "ok").glob("*.epub")))["EPUB/text/a.xhtml"]
