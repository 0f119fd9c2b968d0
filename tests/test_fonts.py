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
    assert "U+10FFFD" in line and "U+F0001" in line and "fonts-noto-cjk" in line
    assert not out.exists() or not outputs(out)


def test_allow_missing_glyphs_warns_and_builds(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", f"---\ntitle: Odd\n---\nText with {UNDRAWABLE}.\n")
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out, "--allow-missing-glyphs", "-f", "epub")
    assert result.returncode == 0, result.stderr
    assert "warning" in result.stderr and "U+10FFFD" in result.stderr
    assert_valid_epub(next(out.glob("*.epub")))
