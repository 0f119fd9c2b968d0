"""Untrusted markup in articles: nothing active survives, and every document stays well-formed XML."""

from __future__ import annotations

import pytest
from lxml import etree

from broadsheet.errors import IngestError
from broadsheet.ingest.html import html_to_blocks, sanitize
from broadsheet.model import Figure, Paragraph
from conftest import epub_files, run_cli
from test_cli import write

HOSTILE = """---
title: "Tom & Jerry <script>alert(1)</script> {{ 7*7 }} {% raw %}"
---

<script>alert("x")</script>
<p onclick="steal()">Click <a href="javascript:alert(1)">here</a> or <a href="https://example.org/ok">there</a>.</p>
<iframe src="https://evil.example/"></iframe>
<object data="x.swf"></object><embed src="x.swf">
<form action="https://evil.example/"><input name="q"></form>
<style>@import url(https://evil.example/x.css); body { background: url(file:///etc/passwd) }</style>
<p style="background:url(file:///etc/passwd)">Styled</p>
<img src="file:///etc/passwd" alt="passwd">
<img src="/etc/passwd" alt="abs">
<img src="../../../../etc/passwd" alt="escape">
<img src="https://example.org/x.png" alt="remote">
<svg><script>alert(1)</script><image href="file:///etc/passwd"/></svg>
<p>Unclosed <b>bold <i>and italic</p>
<p>Control\x01chars\x0b here and a NUL\x00.</p>
"""


def test_sanitize_strips_active_content():
    clean = sanitize('<p onclick="x()">a<script>b</script><a href="javascript:c">d</a></p>')
    assert "onclick" not in clean and "script" not in clean and "javascript" not in clean


def test_hostile_article_builds_clean_epub(tmp_path, assert_valid_epub):
    write(tmp_path / "ed/a.md", HOSTILE)
    out = tmp_path / "out"
    result = run_cli("build", tmp_path / "ed", "--out", out)
    assert result.returncode == 0, result.stderr
    epub = next(out.glob("*.epub"))
    assert_valid_epub(epub)
    files = epub_files(epub)
    text = b"".join(data for name, data in files.items() if name.endswith((".xhtml", ".opf", ".ncx")))
    for bad in (b"<script", b"onclick", b"javascript:", b"<iframe", b"<object", b"<embed", b"<form", b"@import",
                b"file:", b"/etc/passwd", b"evil.example", b"<svg", b"style=\""):
        assert bad not in text, bad
    assert b"https://example.org/ok" in text
    # the title is escaped, not executed
    assert "Tom &amp; Jerry &lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }} {% raw %}".encode() in text
    assert b"&lt;/script&gt; 49" not in text
    assert not [n for n in files if n.startswith("EPUB/images/") and n != "EPUB/images/cover.jpg"]
    for name in ("<script", "onclick", "passwd"):
        assert name not in result.stdout
    # dropped images are reported by name
    assert "file:///etc/passwd" in result.stderr and "../../../../etc/passwd" in result.stderr
    pdf = next(out.glob("*.pdf")).read_bytes()
    assert b"root:x:0:0" not in pdf and b"/EmbeddedFile" not in pdf


@pytest.mark.parametrize("markup", ["<div>" * 5000 + "deep" + "</div>" * 5000,
                                    "<blockquote>" * 3000 + "deep" + "</blockquote>" * 3000,
                                    "<p>" + "<b>" * 3000 + "deep" + "</b>" * 3000 + "</p>"])
def test_deep_nesting_does_not_recurse_forever(markup):
    blocks = html_to_blocks(markup, lambda src, alt, caption: None)
    assert "deep" in "".join(getattr(b, "content", b).text if hasattr(b, "content") else "" for b in blocks) or any(
        "deep" in p.text for b in blocks for p in getattr(b, "paragraphs", ()))


def test_inline_markup_is_well_formed_xml():
    blocks = html_to_blocks("<p>a<br>b &nbsp; <b>c<i>d</b> e</p><p>x &amp; y &lt; z</p>", lambda *a: None)
    for block in blocks:
        assert isinstance(block, Paragraph)
        etree.fromstring(f"<p>{block.content.html}</p>".encode())
    assert blocks[1].content.text == "x & y < z"


def test_images_outside_the_folder_are_not_read(tmp_path):
    from broadsheet.ingest.images import ImageResolver

    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "ed").mkdir()
    (tmp_path / "ed" / "link.png").symlink_to(secret)
    resolver = ImageResolver(tmp_path / "ed" / "a.md", tmp_path / "ed")
    for src in ("../secret.png", str(secret), f"file://{secret}", "http://127.0.0.1:9/x.png"):
        assert resolver(src, "", None) is None, src
    with pytest.raises(IngestError, match=r"picture 'link.png' leads outside the source folder \(.*link.png is a "
                                          r"link to .*secret.png\); not read"):
        resolver("link.png", "", None)  # a link out is refused, not dropped
    blocks = html_to_blocks('<p><img src="../secret.png"></p>', resolver)
    assert not any(isinstance(b, Figure) for b in blocks)


LINKS = """---
title: Links as pages print them
date: 2024-05-01
---

<p>A <a href="https://news.163.com/24/0501/a b/中文.html#p1#comments">link with two #</a>, an
<a href="http://例子.测试/路径?q=一 二">international one</a>, a <a href="https://ex.org/100%sure">stray %</a>,
one with <a href="https://user:secret@ex.org/private">credentials</a>, a
<a href="https://ex.org:99999/">bad port</a>, a <a href="mailto:desk@ex.org">mail</a>, a
<a href="mailto:nobody">mail to no address</a> and a
<a href="https://ex.org/plain?x=1#top">plain one</a>.</p>
"""


def test_every_link_in_an_epub_is_a_valid_uri_or_dropped_with_a_warning(tmp_path, assert_valid_epub):
    source = write(tmp_path / "links" / "a.md", LINKS)
    result = run_cli("build", source.parent, "-f", "epub", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    epub = next((tmp_path / "out").glob("*.epub"))
    assert_valid_epub(epub)
    article = next(data.decode() for name, data in epub_files(epub).items() if b"link with two" in data)
    hrefs = set(etree.fromstring(article.encode()).xpath("//*[local-name()='a']/@href"))
    assert "https://news.163.com/24/0501/a%20b/%E4%B8%AD%E6%96%87.html#p1%23comments" in hrefs
    assert "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84?q=%E4%B8%80%20%E4%BA%8C" in hrefs
    assert "https://ex.org/100%25sure" in hrefs
    assert "https://ex.org/private" in hrefs  # no user name or password travels in a book
    assert {"mailto:desk@ex.org", "https://ex.org/plain?x=1#top"} <= hrefs  # valid ones kept as written
    assert not any("99999" in href for href in hrefs) and "bad port" in article  # the sanitiser dropped it
    assert "mailto:nobody" not in hrefs and "mail to no address" in article
    assert "'mailto:nobody' is no valid URL" in result.stderr
