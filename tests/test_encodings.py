"""Sources in legacy encodings that do not declare them: decoded right, and nonsense refused by name."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from conftest import inspect_cli, run_cli

from broadsheet.ingest import article, detect_kind, feed
from broadsheet.ingest.base import Context
from broadsheet.ingest.encoding import _decode, decode, looks_binary

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "encodings"
_spec = importlib.util.spec_from_file_location("encoding_fixtures", FIXTURES / "make.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

#: fixture → the decoder's choice (its first word)
CHOSEN = {
    "ja-euc-jp.xml": "euc_jp", "ja-shift-jis.xml": "cp932", "ja-iso-2022-jp.xml": "iso2022_jp",
    "ru-koi8-r.xml": "koi8_r", "ru-windows-1251.xml": "cp1251", "he-windows-1255.xml": "cp1255",
    "el-iso-8859-7.xml": "iso8859_7", "ko-euc-kr.xml": "cp949", "zh-tw-big5.xml": "big5",
    "pt-windows-1252.xml": "cp1252", "fr-iso-8859-1.xml": "cp1252", "pl-iso-8859-2.xml": "iso8859_2",
    "tr-windows-1254.xml": "cp1254", "ru-utf-16le.xml": "utf-16-le", "ja-utf-32be.xml": "utf-32-be",
    "ja-shift-jis.html": "cp932", "ru-koi8-r.html": "koi8_r", "el-declared.html": "iso8859-7",
}


def test_the_fixtures_are_as_made(tmp_path):
    """The committed files are what make.py writes (edit the texts there, not the files)."""
    assert set(CHOSEN) == set(make.FILES)
    make.main(tmp_path)
    for name in make.FILES:
        assert (FIXTURES / name).read_bytes() == (tmp_path / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(CHOSEN))
def test_undeclared_legacy_encodings_decode(name):
    language, encoding, _ = make.FILES[name]
    title, paragraphs = make.TEXTS[language]
    data = (FIXTURES / name).read_bytes()
    assert not looks_binary(data)
    text, how = _decode(data)
    assert how.split(" ")[0] == CHOSEN[name], how
    assert title in text
    for paragraph in paragraphs:
        assert paragraph in text


@pytest.mark.parametrize("name", sorted(n for n in CHOSEN if n.endswith(".xml")))
def test_feed_titles_and_languages(name, tmp_path):
    language, _, _ = make.FILES[name]
    title, paragraphs = make.TEXTS[language]
    path = FIXTURES / name
    assert detect_kind(path) == "feed"
    (draft,) = feed.load(path, Context(root=FIXTURES))
    articles = draft.sections[0].articles
    assert articles[0].title == title
    assert paragraphs[0] in articles[0].blocks[0].content.text
    assert draft.language == language  # no <language>: told by the text
    assert {a.lang for a in articles} == {language}


@pytest.mark.parametrize("name", ["ja-shift-jis.html", "ru-koi8-r.html", "el-declared.html"])
def test_article_pages(name):
    language, _, _ = make.FILES[name]
    title, _ = make.TEXTS[language]
    (draft,) = article.load(FIXTURES / name, Context(root=FIXTURES))
    (item,) = draft.sections[0].articles
    assert item.title == title
    assert item.lang == draft.language == language


def test_declarations_come_first():
    text = "新しい図書館が開館しました。駅前の再開発地区にあります。"
    # <meta http-equiv> and <meta charset>, XML declaration; Shift_JIS declared is read as Windows-31J
    for markup in ('<html><head><meta http-equiv="Content-Type" content="text/html; charset={}"></head><body>',
                   '<html><head><meta charset="{}"></head><body>', '<?xml version="1.0" encoding="{}"?><rss>'):
        for declared, codec in (("EUC-JP", "euc_jp"), ("Shift_JIS", "cp932"), ("iso-2022-jp", "iso2022_jp"),
                                ("euc-kr", "cp949"), ("koi8-r", "koi8_r")):
            sample = text if codec != "cp949" and codec != "koi8_r" else (
                "새 도서관이 문을 열었다" if codec == "cp949" else "Новая библиотека открылась")
            data = (markup.format(declared) + sample).encode(codec)
            decoded, how = _decode(data)
            assert sample in decoded, (declared, how)
    # ISO-8859-1 declared is read as windows-1252, as browsers do: its quotation marks are not control characters
    data = '<meta charset="iso-8859-1"><p>“Quoted” – café</p>'.encode("cp1252")
    assert "“Quoted” – café" in _decode(data)[0]
    # a declaration the bytes contradict is passed over
    data = '<meta charset="shift_jis"><p>Правительство объявило во вторник о новой реформе.</p>'.encode("koi8_r")
    assert "Правительство объявило" in _decode(data)[0]


def test_utf32_and_utf16_without_and_with_a_mark():
    text = '<?xml version="1.0"?><rss version="2.0"><channel><title>Новости дня</title></channel></rss>'
    for codec in ("utf-32-le", "utf-32-be", "utf-16-le", "utf-16-be", "utf-32", "utf-16"):
        data = text.encode(codec)
        assert not looks_binary(data), codec
        assert _decode(data)[0].lstrip("\ufeff") == text, codec
        assert feed.detect(Path("x.xml"), data) == 95, codec


def test_chinese_stays_chinese():
    """GB18030 and Big5 Chinese keep their readings (the e-paper dumps' tests pin the rest)."""
    simplified = "郑州日报 2012年7月6日 第01版：要闻\n市委常委会召开会议，研究部署下半年经济工作。"
    traditional = "海港日報 第A03版：要聞\n港口夜航渡輪明年恢復，市民期待已久。"
    assert _decode(simplified.encode("gb18030")) == (simplified, "gb18030 (detected)")
    assert _decode(simplified.encode("gbk"))[0] == simplified
    assert _decode(traditional.encode("big5"))[0] == traditional


def test_nonsense_is_refused_by_name(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "garbled.txt"
    path.write_bytes(bytes(rng.randrange(128, 256) if rng.random() < 0.8 else rng.randrange(32, 127)
                           for _ in range(3000)))
    assert isinstance(decode(path.read_bytes(), path), str)  # decoding alone never fails
    result = run_cli("build", path, "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "garbled.txt" in lines[0] and "not text in any encoding" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_cli_reads_a_koi8_feed_as_russian(tmp_path):
    data, _ = inspect_cli(FIXTURES / "ru-koi8-r.xml")
    assert data["publication"]["language"] == "ru"
    titles = [a["title"] for s in data["issues"][0]["sections"] for a in s["articles"]]
    assert titles[0] == make.TEXTS["ru"][0]


def test_a_few_bytes_the_encoding_lacks_do_not_change_it():
    title, paragraphs = make.TEXTS["ja"]
    text = "\n".join([title, *paragraphs])
    for codec in ("euc_jp", "cp932"):
        data = text.encode(codec)
        broken = data[:40] + b"\xff\xff" + data[40:]  # bytes no Japanese encoding has
        decoded, how = _decode(broken)
        assert how.startswith(codec) and paragraphs[2] in decoded, how
        declared = b'<?xml version="1.0" encoding="' + codec.encode() + b'"?>\n' + broken
        decoded, how = _decode(declared)
        assert "declared" in how and paragraphs[2] in decoded, how
