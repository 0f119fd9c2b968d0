"""Property-based tests (hypothesis): random markup and text never raise anything but broadsheet's own
input errors, and what comes out is well-formed; a sample of EPUBs built from random models passes EPUBCheck."""

from __future__ import annotations

import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from broadsheet.errors import BroadsheetError
from broadsheet.ingest import text as text_dump
from broadsheet.ingest.base import Context
from broadsheet.ingest.encoding import decode
from broadsheet.ingest.html import html_to_blocks

TAGS = ["p", "div", "b", "i", "a", "img", "script", "style", "table", "tr", "td", "ul", "li", "blockquote", "h2",
        "figure", "figcaption", "br", "span", "svg", "iframe", "pre", "code"]
ATTRS = ['href="javascript:x()"', 'src="../../etc/passwd"', 'onclick="y()"', 'style="background:url(file:///x)"',
         'id="top"', 'lang="zh-CN"', 'src="http://127.0.0.1:9/x.png"', 'alt="说明"']
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["第15版:理论", "本报讯（记者 张三）", "&amp;", "&nbsp;", "<", ">", "\u3000\u3000", "(作者为某某)", "\x00", "\x0b"])


@st.composite
def markup(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 6 and draw(st.booleans()):
            tag = draw(st.sampled_from(TAGS))
            attrs = " ".join(draw(st.lists(st.sampled_from(ATTRS), max_size=2)))
            inner = draw(markup(depth + 1))
            closed = draw(st.integers(0, 9)) > 0  # sometimes left open
            parts.append(f"<{tag} {attrs}>{inner}" + (f"</{tag}>" if closed else ""))
        else:
            parts.append(draw(TEXT))
    return "".join(parts)


def refuse_all(src, alt, caption):
    return None


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup())
def test_random_html_gives_well_formed_blocks(html):
    for block in html_to_blocks(html, refuse_all):
        for part in ("content",):
            inline = getattr(block, part, None)
            if inline is not None:
                tree = etree.fromstring(f"<p>{inline.html}</p>".encode())
                # the words may be text; what must not survive is an element or attribute that runs or reaches out
                for element in tree.iter():
                    assert element.tag not in ("script", "style", "iframe", "svg"), inline.html
                    for name, value in element.attrib.items():
                        assert not name.startswith("on") and name != "style", inline.html
                        assert not value.strip().lower().startswith(("javascript:", "file:")), inline.html


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_decode(data):
    assert isinstance(decode(data, Path("x")), str)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(TEXT, max_size=25), encoding=st.sampled_from(["utf-8", "gb18030", "utf-16"]))
def test_random_text_dumps_import_or_are_refused(tmp_path, lines, encoding):
    path = tmp_path / "dump.txt"
    path.write_bytes("\n".join(["第15版:理论 上一版", *lines]).encode(encoding, "replace"))
    try:
        drafts = text_dump.load(path, Context(root=tmp_path))
    except BroadsheetError:
        return
    for draft in drafts:
        for section in draft.sections:
            for article in section.articles:
                assert article.title
                for block in article.blocks:
                    etree.fromstring(f"<p>{block.content.html}</p>".encode())


@st.composite
def edition(draw):
    words = st.text(alphabet=string.ascii_letters + "中文报纸理论 &<>\"'", min_size=1, max_size=20).filter(str.strip)
    articles = []
    for n in range(draw(st.integers(1, 4))):
        title = draw(words).strip()
        body = "\n\n".join(draw(st.lists(words, min_size=1, max_size=4)))
        section = draw(st.sampled_from(["News", "理论", "A & B"]))
        articles.append((f"a{n}.md", title, section, body))
    return articles


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(edition())
def test_epubs_from_random_models_pass_epubcheck(tmp_path_factory, epubcheck, articles):
    from conftest import run_cli

    root = tmp_path_factory.mktemp("random")
    for name, title, section, body in articles:
        # JSON strings are YAML scalars whatever they hold (Python's repr is not: '\'' is no YAML)
        (root / name).write_text(f"---\ntitle: {json.dumps(title)}\nsection: {json.dumps(section)}\n---\n\n{body}\n",
                                 encoding="utf-8")
    out = root / "out"
    result = run_cli("build", root, "--out", out, "-f", "epub", "--allow-missing-glyphs")
    assert result.returncode == 0, result.stderr
    verdict = epubcheck(next(out.glob("*.epub")))
    assert not verdict.errors and not verdict.warnings, verdict.summary()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=" \t\r\n\fab中文\u3000\xa0", max_size=40))
def test_text_is_normalised_as_the_one_substitution_normalises_it(text):
    """Runs of spaces and line breaks become one space (a text whose every run is one space is left as it is,
    without the substitution); line breaks between CJK characters go; the ends are stripped."""
    from broadsheet.ingest.html import _SPACE, _join_cjk_lines, _normalise

    assert _normalise(text) == _SPACE.sub(" ", _join_cjk_lines(text)).strip()
