"""Same input, same bytes: SOURCE_DATE_EPOCH, hash seeds, time zones and mtimes change nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import zipfile

from conftest import EN_EXAMPLE, ZH_EXAMPLE, run_cli


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_builds_are_byte_identical(tmp_path, assert_valid_epub):
    copy = tmp_path / "src"
    shutil.copytree(EN_EXAMPLE, copy)
    first = run_cli("build", copy, "--out", tmp_path / "a", env={"PYTHONHASHSEED": "1", "TZ": "UTC"})
    for path in copy.rglob("*"):
        os.utime(path, (time.time() + 3600, time.time() + 3600))
    second = run_cli("build", copy, "--out", tmp_path / "b", env={"PYTHONHASHSEED": "2", "TZ": "Asia/Shanghai",
                                                                   "LC_ALL": "C"}, cwd=tmp_path)
    assert first.returncode == second.returncode == 0, (first.stderr, second.stderr)
    for name in ("harbour-gazette-2026-11-20.epub", "harbour-gazette-2026-11-20.pdf"):
        assert sha(tmp_path / "a" / name) == sha(tmp_path / "b" / name), name
    assert_valid_epub(tmp_path / "a" / "harbour-gazette-2026-11-20.epub")


def test_zip_entries_carry_source_date_epoch(tmp_path, assert_valid_epub):
    result = run_cli("build", ZH_EXAMPLE, "--out", tmp_path, "-f", "epub", env={"SOURCE_DATE_EPOCH": "1341532800"})
    assert result.returncode == 0, result.stderr
    assert_valid_epub(tmp_path / "zzrb-2012-07-06.epub")
    with zipfile.ZipFile(tmp_path / "zzrb-2012-07-06.epub") as archive:
        infos = archive.infolist()
        opf = archive.read("EPUB/content.opf").decode()
    expected = time.gmtime(1341532800)[:6]
    assert all(info.date_time == expected for info in infos)
    assert all(info.create_system == 3 and info.external_attr == 0o100644 << 16 for info in infos)
    assert "2012-07-06T00:00:00Z" in opf


def test_without_source_date_epoch_dates_come_from_the_issue(tmp_path, assert_valid_epub):
    env = {"SOURCE_DATE_EPOCH": ""}
    first = run_cli("build", ZH_EXAMPLE, "--out", tmp_path / "a", "-f", "epub", env=env)
    time.sleep(2)
    second = run_cli("build", ZH_EXAMPLE, "--out", tmp_path / "b", "-f", "epub", env=env)
    assert first.returncode == second.returncode == 0
    a, b = tmp_path / "a/zzrb-2012-07-06.epub", tmp_path / "b/zzrb-2012-07-06.epub"
    assert sha(a) == sha(b)
    assert_valid_epub(a)
    with zipfile.ZipFile(a) as archive:
        assert archive.infolist()[0].date_time == (2012, 7, 6, 0, 0, 0)


def test_identifier_is_stable_per_edition_and_differs_between_editions():
    from broadsheet import load
    from broadsheet.render import edition_identifier

    (zh,) = load([ZH_EXAMPLE])
    (en,) = load([EN_EXAMPLE])
    zh_id = edition_identifier(zh.publication, zh.publication.issues[0])
    assert zh_id == edition_identifier(load([ZH_EXAMPLE])[0].publication, zh.publication.issues[0])
    assert zh_id != edition_identifier(en.publication, en.publication.issues[0])
