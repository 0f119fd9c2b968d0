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


# --- fontconfig asked in the building process --------------------------------------------------------

def _tool(*command: str) -> bytes:
    import subprocess

    return subprocess.run(list(command), capture_output=True, check=True).stdout


def test_fontconfig_in_process_answers_what_its_tools_print():
    """``fontconfig`` formats the library's own answers with the tools' formats: byte for byte what fc-list,
    fc-match and fc-query print, for the lists, the matches and the faces a build asks for."""
    from broadsheet import fontconfig

    for format in ("%{charset}\n", "%{file}\t%{index}\t%{family}\n"):
        assert fontconfig.listed(format) == _tool("fc-list", "--format", format)
    patterns = ["Noto Serif CJK SC:lang=zh-cn", "Noto Serif CJK TC:lang=zh-tw:weight=bold", "Noto Serif:lang=en",
                "Noto Sans:lang=ru:weight=bold", "No Such Family At All:lang=en", "serif:lang=ar", "monospace"]
    for pattern in patterns:
        for format in ("%{file}|%{index}", "%{file}|%{index}|%{family}|%{weight}"):
            answer = fontconfig.matched(pattern, format)
            assert answer == _tool("fc-match", "--format", format, pattern), pattern
            assert answer
    faces = {line.split(b"|")[0].decode(): int(line.split(b"|")[1]) for line in
             (fontconfig.matched(p, "%{file}|%{index}") for p in patterns)}
    for path, index in faces.items():
        answer = fontconfig.queried(path, index, "%{charset}\n")
        assert answer == _tool("fc-query", "-i", str(index), "--format", "%{charset}\n", path), path
        assert answer.strip()


def test_without_the_library_the_tools_answer_the_same(monkeypatch):
    from broadsheet import fontconfig
    from broadsheet.render import embed, fonts

    asked = [(fonts.font_file.__wrapped__, ("Noto Serif CJK SC", "zh-CN", True)),
             (fonts.font_file.__wrapped__, ("Noto Serif", "en")),
             (fonts._face_ranges.__wrapped__, fonts.font_file("Noto Serif CJK SC", "zh-CN")),
             (embed.font_face_file.__wrapped__, ("Noto Serif CJK SC", False))]
    in_process = [function(*arguments) for function, arguments in asked]
    assert all(in_process)
    monkeypatch.setattr(fontconfig, "_library", lambda: None)
    assert fontconfig.matched("serif", "%{file}") is None
    assert [function(*arguments) for function, arguments in asked] == in_process


def test_an_epub_build_starts_no_fontconfig_tool(tmp_path):
    """The fonts an EPUB build asks about (coverage, the cover's faces and their characters, the faces it embeds)
    are asked of the library in the building process and in the processes it forks (the cover's, which inherit
    the audit hook and write to the same file): no fc-list, fc-match or fc-query is started."""
    import json
    import os
    import subprocess
    import sys

    from conftest import FIXED_EPOCH, ZH_EXAMPLE

    seen = tmp_path / "started.txt"
    code = ("import json, sys\n"
            "def hook(event, args):\n"
            "    if event == 'subprocess.Popen':\n"
            "        with open(sys.argv[3], 'a', encoding='utf-8') as f:\n"
            "            f.write(str(args[0]) + '\\n')\n"
            "sys.addaudithook(hook)\n"
            "from pathlib import Path\n"
            "from broadsheet.pipeline import build\n"
            "written = build([Path(sys.argv[2])], formats=['epub'], out=Path(sys.argv[1]), cache=False)\n"
            "print(json.dumps([str(p) for p in written]))\n")
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out"), str(ZH_EXAMPLE), str(seen)],
                            capture_output=True, text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    written = json.loads(result.stdout.splitlines()[-1])
    assert written and all(path.endswith(".epub") for path in written)
    started = seen.read_text(encoding="utf-8").split() if seen.exists() else []
    assert not [command for command in started if os.path.basename(command).startswith("fc-")], started
