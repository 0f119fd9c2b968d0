"""Typography (typography.py): quotes by language, full-width CJK punctuation, no lone last line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from conftest import EN_EXAMPLE, ZH_EXAMPLE, epub_files, outputs, run_cli
from pdfread import text_lines

from broadsheet import pipeline
from broadsheet.config import Overrides
from broadsheet.model import Article, Figure, Heading, Image, Inline, ListBlock, Paragraph, Preformatted, Quote
from broadsheet.typography import (normalise_cjk_punctuation, smart_quotes, typeset_article, typeset_inline,
                                   typeset_publication, typeset_text)

NBSP = "\u00a0"
XHTML = "{http://www.w3.org/1999/xhtml}"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)


# ----------------------------------------------------------------------------------------------- quotes


@pytest.mark.parametrize("lang, text, expected", [
    ("en", '"Hello," she said.', "“Hello,” she said."),
    ("en-GB", "It's 'quite' fine.", "It’s ‘quite’ fine."),
    ("en", 'He said "she said \'no\' twice" and left', "He said “she said ‘no’ twice” and left"),
    ("en", "The '90s, the boys' books, rock 'n' roll, 'tis", "The ’90s, the boys’ books, rock ’n’ roll, ’tis"),
    ("en", '("bracketed") and "end"', "(“bracketed”) and “end”"),
    ("de", 'Er sagte: "Das geht\'s nicht" und \'so\'.', "Er sagte: „Das geht’s nicht“ und ‚so‘."),
    ("de-CH", 'Er sagte: "Grüezi".', "Er sagte: «Grüezi»."),
    ("fr", 'Il a dit "bonjour" et l\'a répété.', f"Il a dit «{NBSP}bonjour{NBSP}» et l’a répété."),
    ("fr", "« Déjà » ; vraiment ? Oui : non !", f"«{NBSP}Déjà{NBSP}»{NBSP}; vraiment{NBSP}? Oui{NBSP}: non{NBSP}!"),
])
def test_quotes_by_language(lang, text, expected):
    assert smart_quotes(text, lang) == expected
    assert typeset_text(text, lang) == expected


def test_a_quotation_over_paragraphs_opens_and_a_lone_closing_quote_closes():
    assert smart_quotes('"The first paragraph of a long quotation,', "en") == "“The first paragraph of a long quotation,"
    assert smart_quotes('and its end."', "en") == "and its end.”"


def test_long_paragraphs_pair_their_quotes_in_linear_time():
    import time

    long = '"' + "word " * 1000 + 'end," she said, \'it\'s "so".\''
    assert smart_quotes(long, "en") == "“" + "word " * 1000 + "end,” she said, ‘it’s “so”.’"
    hostile = "'a \"b' " * 40_000 + '"c" ' * 40_000
    started = time.monotonic()
    done = smart_quotes(hostile, "en")
    assert time.monotonic() - started < 20 and done.endswith("“c” ") and "'" not in done


def test_languages_without_a_table_keep_their_quotes():
    assert smart_quotes('"ciao"', "it") == '"ciao"'
    assert typeset_text('他说"好"', "zh-CN") == '他说"好"'


def test_primes_and_web_addresses_are_left_alone():
    assert smart_quotes('a 12" pizza', "en") == 'a 12" pizza'
    text = "See https://example.com/it's/a and www.example.org/a'b now, 'ok'"
    assert smart_quotes(text, "en") == "See https://example.com/it's/a and www.example.org/a'b now, ‘ok’"


def inline(html: str) -> Inline:
    text = etree.fromstring(f"<span>{html}</span>").xpath("string()")
    return Inline(html=html, text=text)


def test_code_attributes_and_links_keep_their_quotes():
    source = inline('He said "run <code>echo "hi"</code>, <kbd>\'q\'</kbd> and <samp>"ok"</samp>" '
                    '<a href="https://example.com/?q=\'x\'" title="a \'title\'">\'here\'</a>.')
    done = typeset_inline(source, "en")
    assert done.html == ('He said “run <code>echo "hi"</code>, <kbd>\'q\'</kbd> and <samp>"ok"</samp>” '
                         '<a href="https://example.com/?q=\'x\'" title="a \'title\'">‘here’</a>.')
    assert done.text == 'He said “run echo "hi", \'q\' and "ok"” ‘here’.'


def test_quotes_pair_across_markup_and_a_line_break_ends_a_line():
    done = typeset_inline(inline('"Quote <em>"inner"</em> and <strong>it\'s</strong>"<br/>"next'), "en")
    assert done.html == "“Quote <em>“inner”</em> and <strong>it’s</strong>”<br/>“next"


def article(lang: str, **fields) -> Article:
    return Article(id="a", title=fields.pop("title", "Title"), lang=lang, **fields)


def test_headlines_subtitles_kickers_captions_and_bylines_are_set_preformatted_text_is_not(tmp_path):
    image = Image(src="p.jpg", path=tmp_path / "p.jpg", name="p.jpg", media_type="image/jpeg", width=1, height=1,
                  alt='an "alt"', caption=inline('the "caption"'))
    source = article("en", title="The keeper's \"cottage\"", subtitle="'Sub'", kicker='"Kick"',
                     byline="The Gazette's view", dateline="St Mary's", author_note="O'Brien's note",
                     authors=("Dan O'Brien",), blocks=(
                         Heading(level=2, content=inline('A "head"')),
                         Quote(paragraphs=(inline('"quoted"'),)),
                         ListBlock(items=(inline("it's"),)),
                         Preformatted(text='print("it\'s")'),
                         Figure(image=image)))
    done = typeset_article(source)
    assert (done.title, done.subtitle, done.kicker, done.byline, done.dateline, done.author_note) == (
        "The keeper’s “cottage”", "‘Sub’", "“Kick”", "The Gazette’s view", "St Mary’s", "O’Brien’s note")
    assert done.authors == ("Dan O'Brien",)
    heading, quote, items, pre, figure = done.blocks
    assert heading.content.html == "A “head”" and heading.content.text == "A “head”"
    assert quote.paragraphs[0].html == "“quoted”"
    assert items.items[0].html == "it’s"
    assert pre.text == 'print("it\'s")'
    assert figure.image.caption.html == "the “caption”" and figure.image.alt == 'an "alt"'


# ----------------------------------------------------------------------------------------------- CJK


@pytest.mark.parametrize("text, expected", [
    ("战斗力的基础,是落实党的路线", "战斗力的基础，是落实党的路线"),
    ("记者:张三;编辑:李四", "记者：张三；编辑：李四"),
    ("真的吗?好!", "真的吗？好！"),
    ("“七一”,巩义市", "“七一”，巩义市"),
    ("基础, 是落实", "基础，是落实"),
    ("党委(记者 张三)报道", "党委（记者 张三）报道"),
    ("全镇1,000人, 3:30开会", "全镇1,000人, 3:30开会"),
    ("他说Hello, world和(GDP)", "他说Hello, world和(GDP)"),
    ("网址:https://example.com/a,b", "网址:https://example.com/a,b"),
])
def test_ascii_punctuation_between_chinese_characters_becomes_full_width(text, expected):
    assert normalise_cjk_punctuation(text) == expected
    assert typeset_text(text, "zh-CN") == expected


def test_only_chinese_articles_and_never_with_keep_punctuation():
    assert typeset_text("基础,是落实", "en") == "基础,是落实"
    assert typeset_text("基础,是落实", "zh-TW", keep_punctuation=True) == "基础,是落实"
    kept = typeset_inline(inline("基础,是<em>落实</em>,党的"), "zh", keep_punctuation=True)
    assert kept.html == "基础,是<em>落实</em>,党的"


def test_punctuation_is_judged_across_markup_but_not_inside_code():
    done = typeset_inline(inline("基础,<em>是落实</em>,党的<code>a,b</code>党,<code>x</code>"), "zh-CN")
    assert done.html == "基础，<em>是落实</em>，党的<code>a,b</code>党,<code>x</code>"


# ----------------------------------------------------------------------------------------------- last line


def test_the_last_characters_of_a_cjk_paragraph_are_joined():
    body = "农村基层党组织是党在农村全部工作和战斗力的基础,是落实党的路线的战斗堡垒号。"
    done = typeset_inline(inline(body), "zh-CN", nobreak_end=True)
    assert done.html.endswith('战斗<span class="nobreak">堡垒号。</span>')
    assert done.text == body.replace(",", "，")
    nested = typeset_inline(inline(f"<em>{body}</em>"), "zh-CN", nobreak_end=True)
    assert nested.html.endswith('<span class="nobreak">堡垒号。</span></em>')
    for kept in ("短句。", f"{body}<code>x</code>", "Latin text that ends like this."):
        assert 'class="nobreak"' not in typeset_inline(inline(kept), "zh-CN", nobreak_end=True).html
    assert 'class="nobreak"' not in typeset_inline(inline(body), "en", nobreak_end=True).html


def test_only_body_paragraphs_join_their_end():
    body = inline("农村基层党组织是党在农村全部工作和战斗力的基础号。")
    done = typeset_article(article("zh-CN", blocks=(Paragraph(content=body), Heading(level=2, content=body))))
    assert 'nobreak' in done.blocks[0].content.html and 'nobreak' not in done.blocks[1].content.html


# ----------------------------------------------------------------------------------------------- pipeline


def test_the_setting_travels_from_the_command_line_or_broadsheet_toml(tmp_path):
    [zh, en] = pipeline.load([ZH_EXAMPLE, EN_EXAMPLE])
    assert pipeline.resolve_settings(zh, Overrides()).keep_punctuation is False
    assert pipeline.resolve_settings(zh, Overrides.given(keep_punctuation=True)).keep_punctuation is True
    own = zh.__class__(**{**zh.__dict__, "config": zh.config.model_copy(update={"keep_punctuation": True})})
    assert pipeline.resolve_settings(own, Overrides()).keep_punctuation is True

    def paragraph(overrides):
        [output] = pipeline.plan([zh], ["epub"], tmp_path, overrides)
        return output.issue.articles[0].blocks[0].content.text

    assert "基础，是落实" in paragraph(Overrides())
    assert "基础,是落实" in paragraph(Overrides.given(keep_punctuation=True))
    # a conversion comes first, then the typography of the converted text
    assert "基礎，是落實" in paragraph(Overrides.given(convert="s2tw"))


def test_typesetting_leaves_the_edition_alone_with_every_step_off():
    [zh, en] = pipeline.load([ZH_EXAMPLE, EN_EXAMPLE])
    for edition in (zh, en):
        off = typeset_publication(edition.publication, keep_punctuation=True, quotes=False, nobreak_end=False)
        assert off == edition.publication


def paragraphs(epub: Path) -> list[str]:
    texts = []
    for name, data in sorted(epub_files(epub).items()):
        if name.startswith("EPUB/text/"):
            root = etree.fromstring(data, STRICT)
            texts += [p.xpath("string()") for p in root.iter(f"{XHTML}p", f"{XHTML}h1", f"{XHTML}h2")]
    return texts


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("typography") / "pub"
    write(root / "broadsheet.toml", '[publication]\ntitle = "Mixed"\nlanguage = "en-GB"\nid = "mixed"\n')
    write(root / "2024-05-01/issue.toml", "date = 2024-05-01\n")
    write(root / "2024-05-01/a.md", "---\ntitle: The keeper's \"cottage\"\norder: 1\n---\n\n"
          "\"It's the '90s,\" she said, typing `print(\"it's\")`.\n")
    write(root / "2024-05-01/b.md", "---\ntitle: Der \"Leuchtturm\"\nlang: de\norder: 2\n---\n\n"
          "Er sagte: \"Das geht's.\"\n")
    write(root / "2024-05-01/c.md", "---\ntitle: Le \"phare\"\nlang: fr\norder: 3\n---\n\n"
          "Il a dit \"bonjour\".\n")
    write(root / "2024-05-01/d.md", "---\ntitle: 标点,全角\nlang: zh-CN\norder: 4\n---\n\n"
          "农村基层党组织是党在农村全部工作和战斗力的基础,是落实党的路线:全镇1,000人, 3:30开会,Hello, world。\n")
    return root


def test_a_build_sets_quotes_and_punctuation_and_keep_punctuation_keeps_it(mixed, tmp_path, assert_valid_epub):
    result = run_cli("build", mixed, "-f", "epub", "--out", tmp_path / "set")
    assert result.returncode == 0, result.stderr
    [epub] = outputs(tmp_path / "set")
    assert_valid_epub(epub)
    texts = paragraphs(epub)
    assert "The keeper’s “cottage”" in texts
    assert "“It’s the ’90s,” she said, typing print(\"it's\")." in texts
    assert "Der „Leuchtturm“" in texts and "Er sagte: „Das geht’s.“" in texts
    assert f"Le «{NBSP}phare{NBSP}»" in texts and f"Il a dit «{NBSP}bonjour{NBSP}»." in texts
    assert "标点，全角" in texts
    assert "农村基层党组织是党在农村全部工作和战斗力的基础，是落实党的路线：全镇1,000人, 3:30开会,Hello, world。" in texts

    result = run_cli("build", mixed, "-f", "epub", "--keep-punctuation", "--out", tmp_path / "kept")
    assert result.returncode == 0, result.stderr
    kept = paragraphs(next(iter(outputs(tmp_path / "kept"))))
    assert "标点,全角" in kept and "The keeper’s “cottage”" in kept
    assert "农村基层党组织是党在农村全部工作和战斗力的基础,是落实党的路线:全镇1,000人, 3:30开会,Hello, world。" in kept

    config = mixed / "broadsheet.toml"
    write(config, "keep_punctuation = true\n" + config.read_text(encoding="utf-8"))
    try:
        result = run_cli("build", mixed, "-f", "epub", "--out", tmp_path / "toml")
        assert result.returncode == 0, result.stderr
        assert "标点,全角" in paragraphs(next(iter(outputs(tmp_path / "toml"))))
        write(config, config.read_text(encoding="utf-8").replace("= true", '= "often"'))
        result = run_cli("build", mixed, "-f", "epub", "--out", tmp_path / "bad")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "broadsheet.toml" in result.stderr and "keep_punctuation" in result.stderr
    finally:
        write(config, config.read_text(encoding="utf-8").split("\n", 1)[1])


def test_the_examples_epubs_are_valid(demo_build, assert_valid_epub):
    for epub in demo_build.glob("*.epub"):
        assert_valid_epub(epub)
    texts = paragraphs(demo_build / "zzrb-2012-07-06.epub")
    assert any("基础，是落实党的路线" in t for t in texts)
    assert not any(re.search(r"[\u4e00-\u9fff][,:;?!][\u4e00-\u9fff]", t) for t in texts)
    assert "Lighthouse keeper’s cottage opens as a museum" in paragraphs(demo_build / "harbour-gazette-2026-11-20.epub")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_no_cjk_paragraph_of_the_example_ends_on_a_line_of_one_or_two_characters(demo_build):
    pdf = demo_build / "zzrb-2012-07-06.pdf"
    lines = [l.text for page in range(1, len(PdfReader(pdf).pages) + 1) for l in text_lines(pdf, page)]
    assert any(l.endswith("称号。") for l in lines)  # the paragraph that ended on 号。 alone
    lone = [l for l in lines if 0 < len(l) <= 2 and l[-1] in "。！？”"]
    assert not lone, lone


def _runs_by_the_full_search(text: str, level: int) -> list:
    """What ``_split_urls`` made before it looked for an address's marks first: the search alone."""
    from broadsheet.typography import _URL, _Run

    runs, start = [], 0
    for match in _URL.finditer(text):
        if match.start() > start:
            runs.append(_Run("text", text[start:match.start()], level))
        runs.append(_Run("code_inline", match.group(), level))
        start = match.end()
    if start < len(text) or not runs:
        runs.append(_Run("text", text[start:], level))
    return runs


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["The mill", " ", ". ", ": ", "https://example.org/a", "WWW.Example.com",
                                 "MailTo:desk@example.org", "ftp+x://h", "www", "mailto", "://", "İ", "ı", "例",
                                 "http", "(", ")", "\n"]), max_size=12), st.integers(0, 3))
def test_addresses_are_split_out_of_text_as_the_full_search_splits_them(parts, level):
    from broadsheet.typography import _split_urls

    text = "".join(parts)
    assert _split_urls(text, level) == _runs_by_the_full_search(text, level)
