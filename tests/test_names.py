"""Each closed vocabulary is written once, in names.py; the tables that dispatch on one cover it exactly."""

from __future__ import annotations

import importlib

from broadsheet import names


def test_every_source_kind_is_an_ingester_module():
    from broadsheet.ingest import INGESTERS

    assert tuple(INGESTERS) == names.SOURCE_KINDS
    for kind, module in INGESTERS.items():
        assert importlib.import_module(f"broadsheet.ingest.{module}").KIND == kind


def test_every_format_is_made_from_a_rendering():
    from broadsheet.backends import BACKENDS

    assert tuple(BACKENDS) == names.FORMATS
    assert {BACKENDS[fmt].render_target for fmt in BACKENDS} == set(names.RENDERINGS)
    assert all(BACKENDS[fmt].name == fmt for fmt in BACKENDS)
    assert set(names.DEFAULT_FORMATS) <= set(names.FORMATS)
