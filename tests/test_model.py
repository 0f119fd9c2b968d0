"""The chapter model: validated, immutable values."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from broadsheet.ingest.html import inline_from_text
from broadsheet.model import Article, Issue, Paragraph, Publication, Section


def article(**changes):
    values = {"id": "a1", "title": "Title", "lang": "zh-CN",
              "blocks": (Paragraph(content=inline_from_text("第一段")), Paragraph(content=inline_from_text("第二段")))}
    values.update(changes)
    return Article(**values)


def test_article_text_joins_paragraphs_with_a_blank_line():
    assert article().text == "第一段\n\n第二段"


def test_model_is_immutable():
    value = article()
    with pytest.raises(ValidationError):
        value.title = "Other"
    assert isinstance(value.blocks, tuple)


@pytest.mark.parametrize("field,value", [("id", "1abc"), ("id", "Has Space"), ("lang", "zh_CN"), ("title", ""),
                                         ("unknown", "x")])
def test_invalid_values_are_refused(field, value):
    with pytest.raises(ValidationError):
        article(**{field: value})


def test_publication_tree_and_inline_escaping():
    pub = Publication(id="zzrb", title="郑州日报", language="zh-CN", issues=(
        Issue(sections=(Section(id="s01", name="理论", page="15", articles=(article(),)),)),))
    assert pub.issues[0].articles[0].title == "Title"
    assert inline_from_text("a < b & c").html == "a &lt; b &amp; c"
