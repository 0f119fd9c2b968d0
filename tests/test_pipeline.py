"""The pipeline resolves each setting once and in one direction: command line > source > theme > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet import paper, pipeline
from broadsheet.config import Overrides

ROOT = Path(__file__).resolve().parents[1]
ZH = ROOT / "examples" / "zhengzhou-daily"
EN = ROOT / "examples" / "harbour-gazette"


@pytest.fixture
def editions():
    return pipeline.load([ZH, EN])


def counting(monkeypatch, owner, name):
    calls = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_a_page_size_from_the_command_line_is_parsed_once_and_reaches_the_print_html(editions, tmp_path,
                                                                                     monkeypatch):
    parsed = counting(monkeypatch, paper.PageSize, "parse")
    overrides = Overrides.given(pdf={"page_size": "tabloid"})
    outputs = pipeline.plan(editions, ["html", "epub"], tmp_path, overrides)
    assert {o.settings.pdf.page_size.spec for o in outputs} == {"tabloid"}
    pipeline.write_editions(editions, formats=["html"], out=tmp_path, overrides=overrides, cache=False)
    assert len(parsed) == 1  # by the one validation of the command line; never again downstream
    css = next(tmp_path.rglob("print.css")).read_text(encoding="utf-8")
    assert "size: 280mm 430mm" in css


def test_the_theme_s_page_size_comes_under_the_source_s_and_over_the_default(editions, tmp_path):
    digest = Overrides.given(theme="digest")  # its theme.toml: page_size = "A5"
    # the examples' broadsheet.toml say A4: the source's word is over the theme's
    assert {o.settings.pdf.page_size.spec for o in pipeline.plan(editions, ["html"], tmp_path, digest)} == {"A4"}
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.md").write_text("---\ntitle: One\ndate: 2024-05-01\n---\n\nText.\n", encoding="utf-8")
    bare = pipeline.load([loose])
    assert {o.settings.pdf.page_size.spec for o in pipeline.plan(bare, ["html"], tmp_path, digest)} == {"A5"}
    assert {o.settings.pdf.page_size for o in pipeline.plan(bare, ["html"], tmp_path)} == {paper.DEFAULT_PAGE}
    over = Overrides.given(theme="digest", pdf={"page_size": "B5"})
    assert {o.settings.pdf.page_size.spec for o in pipeline.plan(editions + bare, ["html"], tmp_path, over)} == {"B5"}


def test_a_theme_is_found_once_per_run_from_the_command_line_and_once_per_edition_otherwise(editions, tmp_path,
                                                                                             monkeypatch):
    import broadsheet.render as render

    found = counting(monkeypatch, render, "find_theme")
    pipeline.plan(editions, ["epub", "pdf", "html"], tmp_path, Overrides.given(theme="newspaper"))
    assert len(found) == 1
    found.clear()
    pipeline.plan(editions, ["epub", "pdf", "html"], tmp_path)
    assert len(found) == len(editions) == 2


def test_a_conversion_is_made_once_per_edition_and_the_names_stay_the_source_s(editions, tmp_path, monkeypatch):
    import broadsheet.transform as transform

    converted = counting(monkeypatch, transform, "convert_publication")
    outputs = pipeline.plan(editions, ["epub", "pdf"], tmp_path, Overrides.given(convert="s2tw"))
    assert len(converted) == len(editions)
    assert {o.target.name for o in outputs} == {o.target.name for o in pipeline.plan(editions, ["epub", "pdf"],
                                                                                        tmp_path)}
    chinese = next(o for o in outputs if o.edition.publication.language.startswith("zh"))
    assert chinese.edition.publication.language == "zh-TW"
    assert chinese.issue in chinese.edition.publication.issues


def test_every_output_s_backend_comes_from_the_registry_and_names_its_file(editions, tmp_path):
    from broadsheet.backends import BACKENDS

    for output in pipeline.plan(editions, ["epub", "pdf", "html"], tmp_path):
        assert output.backend is BACKENDS[output.backend.name]
        assert output.target.suffix == output.backend.suffix


def test_bad_command_line_values_are_told_once_by_name():
    from broadsheet.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^command line: page_size: expected one of .* got 'Q9'"):
        Overrides.given(pdf={"page_size": "Q9"})
    with pytest.raises(ConfigError, match=r"^command line: convert: expected"):
        Overrides.given(convert="x2y")
