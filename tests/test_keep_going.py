"""--keep-going: a source that cannot be read is named, skipped, counted, and the exit status is 1."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from conftest import outputs, run_cli

DUMPS = Path(__file__).resolve().parent / "fixtures" / "dumps"


def folder_with_one_damaged_dump(tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    for name in ("founder-front-page", "credit-desk", "credit-reader-pen-name"):
        shutil.copy(DUMPS / f"{name}.txt", folder / f"{name}.txt")
    (folder / "damaged.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")  # a header, nothing else
    return folder


def test_without_keep_going_the_first_bad_source_stops_everything(tmp_path):
    folder = folder_with_one_damaged_dump(tmp_path)
    result = run_cli("build", folder, "--out", tmp_path / "out", "-f", "epub")
    assert result.returncode == 1
    assert "damaged.txt" in result.stderr and "skipped" not in result.stderr
    assert not (tmp_path / "out").exists() or not outputs(tmp_path / "out")


def test_inspect_and_digest_keep_going(tmp_path):
    folder = folder_with_one_damaged_dump(tmp_path)
    result = run_cli("inspect", folder, "--json", "--keep-going")
    assert result.returncode == 1
    model = json.loads(result.stdout)
    titles = [a["title"] for s in model["issues"][0]["sections"] for a in s["articles"]]
    assert titles == ["城东新区启动老旧小区改造", "一座城的夏夜", "雨后的金水河"]
    assert "skipped: " in result.stderr and "damaged.txt" in result.stderr
    assert result.stderr.strip().endswith("1 source skipped")

    result = run_cli("digest", folder, "--json", "--keep-going")
    assert result.returncode == 1, result.stderr
    assert len([a for s in json.loads(result.stdout)["issues"][0]["sections"] for a in s["articles"]]) == 3
    assert "1 source skipped" in result.stderr


def test_build_keep_going_builds_the_rest(tmp_path):
    folder = folder_with_one_damaged_dump(tmp_path)
    result = run_cli("build", folder, "--out", tmp_path / "out", "-f", "epub", "--keep-going", "-q")
    assert result.returncode == 1
    assert [p.suffix for p in outputs(tmp_path / "out")] == [".epub"]
    assert "damaged.txt" in result.stderr and "1 source skipped" in result.stderr


def test_when_every_source_is_skipped_nothing_is_built(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("第15版:理论\n", encoding="utf-8")
    result = run_cli("inspect", bad, "--keep-going")
    assert result.returncode == 1
    assert "every source was skipped" in result.stderr


def test_keep_going_skips_a_source_linked_out_of_the_folder(tmp_path):
    """A link out is refused like any bad source: without --keep-going nothing is built; with it, the link is
    named and skipped, the rest is built, and the exit status is 1."""
    folder = folder_with_one_damaged_dump(tmp_path)
    (folder / "damaged.txt").unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("第01版:要闻\nCANARY-OUTSIDE\n\nCANARY-OUTSIDE\n\n正文。\n", encoding="utf-8")
    (folder / "linked.txt").symlink_to(secret)
    fault = f"{folder / 'linked.txt'}: leads outside the source folder (a link to {secret.resolve()}); not read"

    result = run_cli("build", folder, "--out", tmp_path / "refused", "-f", "epub")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"broadsheet: error: {fault}"]
    assert not (tmp_path / "refused").exists() or not outputs(tmp_path / "refused")

    out = tmp_path / "out"
    result = run_cli("build", folder, "--out", out, "-f", "epub", "--keep-going", "-q")
    assert result.returncode == 1
    assert f"broadsheet: skipped: {fault}" in result.stderr.splitlines()
    assert result.stderr.strip().endswith("1 source skipped")
    (epub,) = outputs(out)
    assert epub.suffix == ".epub"
    with zipfile.ZipFile(epub) as archive:
        text = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    assert "城东新区启动老旧小区改造" in text and "CANARY-OUTSIDE" not in text
