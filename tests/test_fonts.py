"""No tofu: characters no installed font can draw stop the build, or warn when allowed."""

from __future__ import annotations

from broadsheet.render.fonts import missing_characters
from conftest import outputs, run_cli
from test_cli import write

UNDRAWABLE = "\U0010fffd\U000f0001"  # supplementary private use: no font covers these


def test_installed_fonts_cover_cjk_and_latin():
    assert missing_characters("郑州日报理论版，。“”《》 The Harbour Gazette £ é — 한국어 かな") == []
    assert missing_characters(UNDRAWABLE) == sorted(UNDRAWABLE)


def test_missing_glyphs_fail_the_build_naming_them(tmp_path):
    write(tmp_path / "ed/a.md", f"---\ntitle: Odd\n---\nText with {UNDRAWABLE}.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "U+10FFFD" in line and "U+F0001" in line
    assert_hint_names_only_what_is_not_installed(line)
    assert not out.exists() or not outputs(out)


def assert_hint_names_only_what_is_not_installed(line: str) -> None:
    """The hint never sends the user to install what is already there (on Debian: asked of dpkg)."""
    import re
    import subprocess

    named = re.search(r"apt-get install ([\w\- ]+)\)", line)
    for package in named.group(1).split() if named else ():
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
        assert "install ok installed" not in status.stdout, f"the hint names {package}, which is installed"
    assert named or "install one that does" in line


EMOJI_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Deals 🔥 daily</title><link>https://deals.example/</link>
<description>Offers</description>
<item><title>✅ Flash sale 🇺🇸 today</title><link>https://deals.example/1</link><guid>d1</guid>
<pubDate>Wed, 01 May 2024 08:00:00 GMT</pubDate>
<description>&lt;p&gt;Prices 📉 down, hearts ❤️ up, thumbs 👍🏽, party 🎉 and 中文 🎊 too.&lt;/p&gt;</description></item>
<item><title>A new face 🫩 nobody draws yet</title><link>https://deals.example/2</link><guid>d2</guid>
<pubDate>Wed, 01 May 2024 09:00:00 GMT</pubDate>
<description>&lt;p&gt;Emoji newer than the fonts: 🫩 and 🪉.&lt;/p&gt;</description></item>
</channel></rss>
"""


def test_a_feed_full_of_emoji_builds_with_no_option_and_its_pdf_draws_them(tmp_path, assert_valid_epub):
    from pdfread import fonts, page_texts

    feed = write(tmp_path / "deals.xml", EMOJI_FEED)
    out = tmp_path / "out"
    result = run_cli("build", feed, "--out", out)
    assert result.returncode == 0, result.stderr
    # pictographs no font has are told, naming the feed, never a stopped build
    (warning,) = [line for line in result.stderr.splitlines() if "U+1FAE9" in line]
    assert "deals.xml" in warning and "warning" in warning
    assert_hint_names_only_what_is_not_installed(warning)
    assert_valid_epub(next(out.glob("*.epub")))
    pdf = next(out.glob("*.pdf"))
    assert any("Emoji" in name for name in fonts(pdf)), sorted(fonts(pdf))
    assert "🔥" in "".join(page_texts(pdf)) and "🎉" in "".join(page_texts(pdf))


def test_allow_missing_glyphs_warns_and_builds(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", f"---\ntitle: Odd\n---\nText with {UNDRAWABLE}.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "--allow-missing-glyphs", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and "U+10FFFD" in result.stderr
    assert_valid_epub(next(out.glob("*.epub")))
