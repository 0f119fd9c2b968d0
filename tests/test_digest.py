"""Digest editions over a 7-issue archive: filters, dedupe, grouping, provenance, recipes, subscribers."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from archive import make_archive
from broadsheet import load
from broadsheet.digest import DigestSpec, make_digest
from conftest import epub_files, outputs, run_cli
from pdfread import page_texts, squash
from test_cli import write

REPRINT = "坚持以人民为中心推进基层治理"
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, load_dtd=False)
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return make_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def editions(archive):
    return load([archive])


def titles(publication):
    return [a.title for a in publication.issues[0].articles]


def test_archive_shape(editions):
    issues = editions[0].publication.issues
    assert len(issues) == 7 and all(len(i.sections) >= 3 for i in issues)


def test_dedupe_keeps_exactly_the_earliest_copy(editions):
    digest, report = make_digest(editions, DigestSpec())
    assert titles(digest).count(REPRINT) == 1
    kept = next(a for a in digest.issues[0].articles if a.title == REPRINT)
    assert kept.source == "河洛日报 2024-05-02 第15版"
    assert sorted(m.dropped for m in report.merged) == ["河洛日报 2024-05-04 第15版", "河洛日报 2024-05-06 第08版"]
    assert all(m.kept == "河洛日报 2024-05-02 第15版" and m.similarity >= 0.8 for m in report.merged)
    assert report.considered == 44 and report.selected == 42


def test_filters_by_date_section_tag_and_text(editions):
    by_date, _ = make_digest(editions, DigestSpec(since=dt.date(2024, 5, 3), until=dt.date(2024, 5, 4)))
    assert {a.source.split()[1] for a in by_date.issues[0].articles} == {"2024-05-03", "2024-05-04"}
    assert REPRINT in titles(by_date)  # its first print (05-02) is outside the range: the 05-04 copy stays
    by_section, _ = make_digest(editions, DigestSpec(sections=("理论",)))
    assert {a.source.split()[-1] for a in by_section.issues[0].articles} == {"第15版"}
    by_tag, _ = make_digest(editions, DigestSpec(tags=("生态",)))
    assert by_tag.issues[0].articles and all("生态" in a.tags for a in by_tag.issues[0].articles)
    by_text, _ = make_digest(editions, DigestSpec(match=("以人民为中心",)))
    assert titles(by_text) == [REPRINT]
    limited, _ = make_digest(editions, DigestSpec(max_articles=5))
    assert len(titles(limited)) == 5


def test_grouping_orders(editions):
    by_date, _ = make_digest(editions, DigestSpec(group_by="date"))
    assert [s.name for s in by_date.issues[0].sections] == [f"2024-05-0{d}" for d in range(1, 8)]
    by_section, _ = make_digest(editions, DigestSpec(group_by="section"))
    assert [s.name for s in by_section.issues[0].sections] == ["要闻", "文化", "理论"]
    for section in by_section.issues[0].sections:  # chronological within a group
        dates = [a.source.split()[1] for a in section.articles]
        assert dates == sorted(dates)
    by_source, _ = make_digest(editions, DigestSpec(group_by="source"))
    assert [s.name for s in by_source.issues[0].sections] == ["河洛日报"]
    flat, _ = make_digest(editions, DigestSpec(group_by="none", title="理论周刊"))
    assert [s.name for s in flat.issues[0].sections] == ["文章"] and flat.title == "理论周刊"
    assert flat.issues[0].edition == "2024-05-01 – 2024-05-07"


def test_digest_build_shows_provenance_and_range(archive, tmp_path, assert_valid_epub):
    out = tmp_path / "out"
    result = run_cli("digest", archive, "--section", "理论", "--title", "理论周刊", "--group-by", "date",
                     "--since", "2024-05-01", "--until", "2024-05-07", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "1 reprints merged" in result.stderr and "河洛日报 2024-05-04 第15版" in result.stderr
    epub = next(out.glob("*.epub"))
    assert epub.name == "llzk-2024-05-01-to-2024-05-07.epub"
    assert_valid_epub(epub)
    files = epub_files(epub)
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    assert opf.findtext(".//dc:title", namespaces=NS) == "理论周刊 2024-05-01 – 2024-05-07"
    text = "".join(d.decode() for n, d in files.items() if n.startswith("EPUB/text/"))
    assert "河洛日报 2024-05-02 第15版" in text
    assert text.count(f'<h1 class="headline">{REPRINT}</h1>') == 1  # one copy of the reprinted article
    pages = page_texts(next(out.glob("*.pdf")))
    assert "2024-05-01 – 2024-05-07" in pages[0]
    assert squash("河洛日报 2024-05-02 第15版") in squash("".join(pages))


def test_recipe_and_its_errors(archive, tmp_path, assert_valid_epub):
    recipe = write(tmp_path / "weekly-theory.toml", f'''title = "理论周刊"
sources = ["{archive}"]
sections = ["理论"]
group_by = "date"
since = 2024-05-01
until = 2024-05-07
formats = ["epub"]
out = "weekly"
''')
    result = run_cli("digest", "--recipe", recipe)
    assert result.returncode == 0, result.stderr
    (epub,) = (tmp_path / "weekly").glob("*.epub")
    assert_valid_epub(epub)
    write(tmp_path / "bad.toml", f'sources = ["{archive}"]\ngroup_by = "page"\n')
    bad = run_cli("digest", "--recipe", tmp_path / "bad.toml")
    assert bad.returncode == 1 and "bad.toml" in bad.stderr and "group_by" in bad.stderr
    write(tmp_path / "unknown.toml", f'sources = ["{archive}"]\ncolour = "red"\n')
    unknown = run_cli("digest", "--recipe", tmp_path / "unknown.toml")
    assert unknown.returncode == 1 and "colour: unknown key" in unknown.stderr
    nothing = run_cli("digest", archive, "--match", "不存在的词语", "--out", tmp_path / "none")
    assert nothing.returncode == 1 and "no article matches" in nothing.stderr


def test_subscribers_each_get_their_digest(archive, tmp_path, assert_valid_epub):
    subscribers = write(tmp_path / "subscribers.csv", "id,sections,tags,language,formats\n"
                        "ann,理论,,,epub\nbo,要闻;文化,,s2tw,epub\ncai,,生态,,epub\ndan,体育,,,epub\n")
    out = tmp_path / "out"
    result = run_cli("digest", archive, "--subscribers", subscribers, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "dan: no article matches" in result.stderr
    written = sorted(p.name for p in outputs(out))
    assert written == ["hlrbwz-2024-05-01-to-2024-05-07-ann.epub", "hlrbwz-2024-05-01-to-2024-05-07-bo.epub",
                       "hlrbwz-2024-05-01-to-2024-05-07-cai.epub"]
    for name in written:
        assert_valid_epub(out / name)
    bo = epub_files(out / written[1])
    opf = etree.fromstring(bo["EPUB/content.opf"], STRICT)
    assert opf.findtext(".//dc:language", namespaces=NS) == "zh-TW"
    assert "河洛日報" in opf.findtext(".//dc:title", namespaces=NS)
    bad = write(tmp_path / "bad.csv", "id,colour\nx,red\n")
    result = run_cli("digest", archive, "--subscribers", bad, "--out", tmp_path / "none")
    assert result.returncode == 1 and "colour: unknown column" in result.stderr


def test_digest_json_keeps_provenance(archive):
    import json

    result = run_cli("digest", archive, "--match", "以人民为中心", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (article,) = data["issues"][0]["sections"][0]["articles"]
    assert article["title"] == REPRINT and article["source"] == "河洛日报 2024-05-02 第15版"


# -- a digest of several papers ------------------------------------------------------------------

def test_a_digest_of_two_papers_is_named_by_neither_and_speaks_the_language_of_most_articles():
    from conftest import EN_EXAMPLE, ZH_EXAMPLE

    editions = load([ZH_EXAMPLE, EN_EXAMPLE])  # 郑州日报 first, with one article; the Gazette has three
    digest, _ = make_digest(editions, DigestSpec())
    assert digest.title == "Digest" and digest.language == "en-GB"
    by_title = {a.title: a for a in digest.issues[0].articles}
    theory = by_title["以创新精神加强农村基层党组织建设"]
    assert theory.lang == "zh-CN" and theory.source == "郑州日报 2012-07-06 第15版"
    ferry = by_title["Night ferry returns after a decade"]
    assert ferry.lang == "en-GB" and ferry.source.startswith("The Harbour Gazette, 2026-11-20")
    # a tie of articles goes to the language met first (the earliest issue): here Chinese, named in Chinese
    one_each, _ = make_digest(editions, DigestSpec(max_articles=2))
    assert (one_each.title, one_each.language) == ("文摘", "zh-CN")
    # one paper's digest keeps its name; a title given is the title
    (english,) = load([EN_EXAMPLE])
    assert make_digest([english], DigestSpec())[0].title == "The Harbour Gazette digest"
    assert make_digest(editions, DigestSpec(title="Weekly"))[0].title == "Weekly"


def test_a_digest_of_two_papers_builds_with_each_article_in_its_own_language(tmp_path, assert_valid_epub):
    from conftest import EN_EXAMPLE, ZH_EXAMPLE

    result = run_cli("digest", ZH_EXAMPLE, EN_EXAMPLE, "-f", "epub", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    (epub,) = outputs(tmp_path)
    assert epub.name == "digest-2012-07-06-to-2026-11-20.epub"
    assert_valid_epub(epub)
    files = epub_files(epub)
    opf = etree.fromstring(files["EPUB/content.opf"], STRICT)
    assert opf.findtext(".//dc:title", namespaces=NS) == "Digest 2012-07-06 – 2026-11-20"
    assert opf.findtext(".//dc:language", namespaces=NS) == "en-GB"
    assert "郑州日报" not in opf.findtext(".//dc:title", namespaces=NS)
    nav = etree.fromstring(files["EPUB/nav.xhtml"], STRICT)
    assert nav.get("lang") == "en-GB" and "Contents" in nav.xpath("string()")
    xhtml = "{http://www.w3.org/1999/xhtml}"
    pages = {}  # body class → [(lang, text)]
    for name, data in files.items():
        if name.startswith("EPUB/text/"):
            root = etree.fromstring(data, STRICT)
            body = root.find(f"{xhtml}body")
            pages.setdefault(body.get("class"), []).append((root.get("lang"), "".join(body.itertext())))
    articles = pages["article-page"]
    (theory,) = [(lang, text) for lang, text in articles if "以创新精神加强农村基层党组织建设" in text]
    assert theory[0] == "zh-CN" and "郑州日报 2012-07-06 第15版" in theory[1]
    english = [(lang, text) for lang, text in articles if "以创新" not in text]
    assert len(english) == 3
    assert all(lang == "en-GB" and "The Harbour Gazette, 2026-11-20" in text and "郑州日报" not in text
               for lang, text in english), english
    sections = [(lang, text) for kind, found in pages.items() if kind != "article-page" for lang, text in found]
    assert ("zh-CN" in {lang for lang, text in sections if "理论" in text}), sections  # 理论's page is Chinese


def test_a_digest_of_an_archive_folder_holding_publication_folders(tmp_path, assert_valid_epub):
    """`digest examples`: the obvious first try, a folder of papers, each read as itself."""
    import json
    import shutil

    from conftest import ROOT

    archive = tmp_path / "papers"
    shutil.copytree(ROOT / "examples", archive)
    result = run_cli("digest", archive, "--json")
    assert result.returncode == 0, result.stderr
    model = json.loads(result.stdout)
    title = model["publication"]["title"]
    assert "郑州日报" not in title and "Harbour" not in title  # named by neither paper
    articles = [a for issue in model["issues"] for s in issue["sections"] for a in s["articles"]]
    assert len(articles) == 4 and {a["lang"] for a in articles} == {"zh-CN", "en-GB"}
    out = tmp_path / "out"
    result = run_cli("digest", archive, "--out", out, "-f", "epub")
    assert result.returncode == 0, result.stderr
    (epub,) = outputs(out)
    assert_valid_epub(epub)
