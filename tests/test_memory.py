"""What a build holds: rendering adds nothing to the model it reads, and the cache is written one entry at a time.

The largest things a build of an archive or a digest holds are its model and the rendered XHTML; these tests
check, with ``tracemalloc``, that neither is copied behind the code's back.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from broadsheet import pipeline
from broadsheet.config import Overrides
from broadsheet.output import HEX_NAME
from broadsheet.render.cache import DiskCache

TEXT = "城市更新要坚持以人民为中心，统筹发展和安全，推动高质量发展，让城市更宜居、更韧性、更智慧。"


def chinese_edition(folder: Path, articles: int = 24, paragraphs: int = 20) -> Path:
    for n in range(articles):
        body = "\n\n".join(f"{TEXT}第{n}篇第{p}段。" for p in range(paragraphs))
        (folder / f"{n:02d}.md").write_text(f"---\ntitle: 第{n}篇\ndate: 2024-05-01\n---\n\n{body}\n",
                                            encoding="utf-8")
    (folder / "broadsheet.toml").write_text('[publication]\ntitle = "测试日报"\nlanguage = "zh-CN"\n', encoding="utf-8")
    return folder


def test_rendering_with_a_cache_leaves_the_model_its_size(tmp_path):
    """The article cache's key is the article's whole value as text: making it must not leave a UTF-8 copy
    of every Chinese string inside the model (CPython keeps one in a str that Rust code serialised)."""
    (tmp_path / "src").mkdir()
    source = chinese_edition(tmp_path / "src")
    (output,) = pipeline.plan(pipeline.load([source]), ["epub"], tmp_path / "out", Overrides())
    characters = sum(len(block.content.text) for article in output.issue.articles for block in article.blocks)
    assert characters > 20_000

    def render(cache):
        return output.settings.render(output.edition.publication, output.issue, "epub", cache=cache)

    render(None)  # templates compiled, stylesheets read, fonts' coverage loaded: the first time's costs
    gc.collect()
    tracemalloc.start()
    try:
        held = tracemalloc.get_traced_memory()[0]
        cache: dict = {}
        rendered = render(cache)
        assert len(cache) == len(output.issue.articles)  # the cache was used: every article's key made
        del rendered, cache
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - held
    finally:
        tracemalloc.stop()
    # A UTF-8 copy of the text is 3 bytes a character; what rendering may leave behind is far less than one.
    assert grown < characters // 4, f"rendering left {grown:,} bytes behind for {characters:,} characters"


def test_the_cache_is_sealed_and_written_one_entry_at_a_time(tmp_path):
    cache = DiskCache(tmp_path / "cache", salt="test")
    entry = 1 << 20
    for n in range(24):
        cache[("article", n)] = bytes([n]) * entry
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        cache.commit()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 4 * entry, f"committing 24 entries of 1 MB held {peak:,} bytes at once"
    again = DiskCache(tmp_path / "cache", salt="test")
    assert all(again[("article", n)] == bytes([n]) * entry for n in range(24))  # written whole, each read back
    assert len([p for p in (tmp_path / "cache").iterdir() if HEX_NAME.fullmatch(p.name)]) == 24
