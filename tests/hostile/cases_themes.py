"""Hostile themes: templates that reach for files or run forever, links out of a theme folder,
``inherit`` and ``theme`` pointed at the file system's root, stylesheets that hide ``@import``
and ``file:`` behind CSS escapes.

Each theme comes with the publication folder (its own ``broadsheet.toml`` names it), as a
folder someone else wrote would: building it is the whole attack.
"""

from __future__ import annotations

from pathlib import Path

from hostile.corpus import case, md

DECOY = "decoy: must stay as it is\n"


def publication(root: Path, files: dict[str, str], theme: str = "look") -> Path:
    """A publication folder under ``root`` naming its own theme, with ``files`` written into the theme."""
    pub = root / "pub"
    (pub / "2024-01-01").mkdir(parents=True)
    (pub / "broadsheet.toml").write_text(f'theme = "{theme}"\n[publication]\ntitle = "T"\nlanguage = "en"\n',
                                         encoding="utf-8")
    (pub / "2024-01-01" / "a.md").write_text(md("A", "Text."), encoding="utf-8")
    (root / "decoy.txt").write_text(DECOY, encoding="utf-8")
    for name, text in files.items():
        path = pub / theme / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pub


def article_template(body: str) -> str:
    return '{% extends "epub/page.xhtml" %}{% block content %}' + body + "{% endblock %}"


def decoy_untouched(root: Path, out: Path, result) -> None:
    assert (root / "decoy.txt").read_text(encoding="utf-8") == DECOY
    assert "root:x:0:0" not in result.stdout + result.stderr


def nothing_written(*names: str):
    def check(root: Path, out: Path, result) -> None:
        decoy_untouched(root, out, result)
        for name in names:
            assert not (root / name).exists(), name
    return check


@case("theme-path-read-passwd", "refused", "template error", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        '{{ article.source_path.joinpath("/etc/passwd").read_text() }}')})
    return pub, ["-f", "epub"]


@case("theme-path-write-file", "refused", "template error", seconds=30,
      check=nothing_written("pub/2024-01-01/pwned.txt"))
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        '{{ article.source_path.with_name("pwned.txt").write_text("pwned") }}')})
    return pub, ["-f", "epub"]


@case("theme-path-unlink-decoy", "refused", "template error", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        '{{ article.source_path.parent.parent.parent.joinpath("decoy.txt").unlink() }}')})
    return pub, ["-f", "epub"]


@case("theme-path-write-pth", "refused", "template error", seconds=30,
      check=nothing_written("site-packages/broadsheet-evil.pth"))
def _(root):
    (root / "site-packages").mkdir()
    target = root / "site-packages" / "broadsheet-evil.pth"
    pub = publication(root, {"epub/article.xhtml": article_template(
        f'{{{{ article.source_path.joinpath("{target}").write_text("import os; os.system(\'touch PWNED\')") }}}}')})
    return pub, ["-f", "epub"]


@case("theme-picture-path-read", "refused", "template error", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        '{% for b in article.blocks %}{% if b.image %}{{ b.image.path.read_bytes() }}{% endif %}{% endfor %}'
        '{{ article.model_dump() }}')})
    (pub / "2024-01-01" / "a.md").write_text(md("A", "![p](p.png)\n\nText."), encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (4, 4), (1, 2, 3)).save(pub / "2024-01-01" / "p.png")
    return pub, ["-f", "epub"]


@case("theme-template-symlink-out", "refused", "leads outside its folder", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "default"\n'})
    (root / "outside.xhtml").write_text(article_template("CANARY-SYMLINK"), encoding="utf-8")
    (pub / "look" / "epub").mkdir()
    (pub / "look" / "epub" / "article.xhtml").symlink_to(root / "outside.xhtml")
    return pub, ["-f", "epub"]


@case("theme-stylesheet-symlink-passwd", "refused", "leads outside its folder", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "default"\n'})
    (pub / "look" / "theme.css").symlink_to("/etc/passwd")
    return pub, ["-f", "epub"]


@case("theme-inherit-root-include-passwd", "refused", "lies outside", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "/"\n',
                             "epub/article.xhtml": article_template('{% include "etc/passwd" %}')})
    return pub, ["-f", "epub"]


@case("theme-inherit-climbs-out", "refused", "lies outside", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "../../.."\n',
                             "epub/article.xhtml": article_template('{% include "decoy.txt" %}')})
    return pub, ["-f", "epub"]


@case("theme-include-absolute-name", "refused", "absolute", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "default"\n',
                             "epub/article.xhtml": article_template('{% include "/etc/passwd" %}')})
    return pub, ["-f", "epub"]


@case("theme-include-dotdot-name", "refused", "leaves", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.toml": 'inherit = "default"\n',
                             "epub/article.xhtml": article_template('{% include "../../../decoy.txt" %}')})
    return pub, ["-f", "epub"]


@case("theme-is-filesystem-root", "refused", "lies outside", seconds=30, check=decoy_untouched)
def _(root):
    return publication(root, {}, theme="/"), ["-f", "epub"]


@case("theme-option-filesystem-root", "refused", "not a theme folder", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {})
    (pub / "broadsheet.toml").write_text('[publication]\ntitle = "T"\nlanguage = "en"\n', encoding="utf-8")
    return pub, ["-f", "epub", "--theme", "/"]


@case("css-escaped-import", "refused", "@import", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.css": '@\\69mport url("secret.css");\nh1 { color: red; }\n'})
    (pub / "look" / "secret.css").write_text("/* CANARY-SYMLINK */", encoding="utf-8")
    return pub, ["-f", "epub"]


@case("css-escaped-file-url", "refused", "has a scheme", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.css": 'body { background: url("\\66ile:///etc/passwd"); }\n'})
    return pub, ["-f", "epub"]


@case("css-image-set-file", "refused", "has a scheme", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme.css": 'h1 { background-image: image-set("file:///etc/passwd" 1x); }\n'})
    return pub, ["-f", "epub"]


@case("css-protocol-relative-url", "refused", "absolute", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"theme-pdf.css": 'h1 { background: url(//169.254.169.254/latest/meta-data); }\n'})
    return pub, ["-f", "pdf"]


@case("template-endless-loop", "refused", "template ran longer than", seconds=60, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")})
    return pub, ["-f", "epub"]


@case("template-output-flood", "refused", "characters of text", seconds=60, megabytes=1024, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        '{% for i in range(100000) %}{% for j in range(100000) %}{{ "x" * 1000 }}{% endfor %}{% endfor %}')})
    return pub, ["-f", "epub"]


@case("template-power-bomb", "refused", "too large", seconds=30, check=decoy_untouched)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template("{{ 2 ** 10000000000 > 1 }}")})
    return pub, ["-f", "epub"]


def no_source_path_in_outputs(root: Path, out: Path, result) -> None:
    """Nothing a template printed tells where the user keeps the source (its absolute path)."""
    import zipfile

    decoy_untouched(root, out, result)
    books = list(out.glob("*.epub"))
    assert books
    for book in books:
        with zipfile.ZipFile(book) as archive:
            for name in archive.namelist():
                assert str(root).encode() not in archive.read(name), name


@case("theme-prints-the-model-and-its-paths", "built", "", seconds=30, check=no_source_path_in_outputs)
def _(root):
    pub = publication(root, {"epub/article.xhtml": article_template(
        "<p>{{ article }}</p><p>{% for key, value in article %}{{ key }}={{ value }};{% endfor %}</p>"
        "<p>{% for block in article.blocks %}{{ block }}{% endfor %}</p><p>{{ publication }}</p>")})
    (pub / "2024-01-01" / "a.md").write_text(md("A", "![p](p.png)\n\nText."), encoding="utf-8")
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 20, 20)).save(pub / "2024-01-01" / "p.png")
    return pub, ["-f", "epub"]
