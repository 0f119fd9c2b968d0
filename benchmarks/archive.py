"""Archive throughput: one ``build`` over an archive of N small issues against separate builds of a few of them.

    .venv/bin/python benchmarks/archive.py [--issues 200] [--sample 5] [--formats epub,pdf] [--keep DIR]

The archive is two publication folders (a Chinese daily and an English one, the issues alternating between
them), each with one folder per day, each day a one-page issue (one section, a 版) of a few articles; every
fourth issue has a picture.  For each format the script times one ``broadsheet build ARCHIVE --no-cache`` (the
per-issue cost is its total over N) and ``--sample`` separate builds, each of one issue folder in its own
process (their median), then prints the ratio.  Every command is its own process, start-up included.  The
separate builds' files are compared byte for byte with the archive build's ("same" / "differ").

``--python PYTHON`` runs that install's broadsheet (``PYTHON -m broadsheet``); given twice or more, the installs
are measured in turn on the same archive (each one's archive build, then each sample issue with each install), to
compare revisions.  ``--archive DIR`` uses (or, if missing, writes) the archive in DIR instead of a temporary one.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import EN, ZH, _en_paragraph, _picture, _zh_paragraph  # noqa: E402

ZH_SECTIONS = ["要闻", "经济", "理论", "文化", "社会"]
EN_SECTIONS = ["News", "Business", "Opinion", "Culture", "Sport"]
FIRST_DAY = date(2026, 1, 1)
PUBLICATIONS = (  # folder, title, language, id
    ("zh-daily", "河洛日报", "zh-CN", "hlrb"),
    ("en-daily", "The Harbour Gazette", "en", "harbour"),
)


def make_archive(root: Path, issues: int, articles: int = 3, seed: int = 7) -> Path:
    """Write an archive of ``issues`` one-page issues under ``root``/archive; return its folder."""
    rng = random.Random(seed)
    archive = root / "archive"
    for folder, title, language, pub_id in PUBLICATIONS:
        (archive / folder).mkdir(parents=True)
        (archive / folder / "broadsheet.toml").write_text(
            f'[publication]\ntitle = "{title}"\nlanguage = "{language}"\nid = "{pub_id}"\n', encoding="utf-8")
    for n in range(issues):
        folder, _, language, _ = PUBLICATIONS[n % len(PUBLICATIONS)]
        chinese = language.startswith("zh")
        day = FIRST_DAY + timedelta(days=n // len(PUBLICATIONS))
        issue = archive / folder / day.isoformat()
        issue.mkdir()
        section = (ZH_SECTIONS if chinese else EN_SECTIONS)[n % 5]
        (issue / "issue.toml").write_text(
            f'date = {day.isoformat()}\nnumber = "{1000 + n // 2}"\nsections = [{{ name = "{section}", '
            f'page = "{n % 5 + 1:02d}" }}]\n', encoding="utf-8")
        for a in range(articles):
            title = f"{rng.choice(ZH)}（{a + 1}）" if chinese else f"The {rng.choice(EN)} report ({a + 1})"
            body = [_zh_paragraph(rng, 4) if chinese else _en_paragraph(rng, 45) for _ in range(rng.randint(2, 4))]
            picture = ""
            if a == 0 and n % 4 == 0:
                (issue / "p.jpg").write_bytes(_picture(rng, (900, 600)))
                picture = f"![picture of issue {n}](p.jpg)\n\n"
            (issue / f"a{a}.md").write_text(
                f"---\ntitle: \"{title}\"\nsection: {section}\norder: {a}\n---\n\n{picture}"
                + "\n\n".join(body) + "\n", encoding="utf-8")
    return archive


def issue_folders(archive: Path) -> list[Path]:
    return sorted(p for folder, *_ in PUBLICATIONS for p in (archive / folder).iterdir() if p.is_dir())


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-2000:])
        raise SystemExit(f"failed (exit {result.returncode}): {' '.join(command[:6])} …")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--articles", type=int, default=3, help="articles per issue")
    parser.add_argument("--sample", type=int, default=5, help="issues built separately")
    parser.add_argument("--formats", default="epub,pdf")
    parser.add_argument("--python", action="append",
                        help="the Python of an install to run (repeat to compare installs, in turn); default: this one")
    parser.add_argument("--archive", type=Path, help="use (or write) the archive in this folder")
    parser.add_argument("--jobs", type=int, help="--jobs for every build")
    args = parser.parse_args()

    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "1700000000"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    pythons = args.python or [sys.executable]
    extra = ["--jobs", str(args.jobs)] if args.jobs else []
    with tempfile.TemporaryDirectory(prefix="broadsheet-archive-") as tmp:
        tmp_path = Path(tmp)
        if args.archive is not None and (args.archive / "archive").is_dir():
            archive = args.archive / "archive"
        else:
            archive = make_archive(args.archive or tmp_path, args.issues, args.articles)
        folders = issue_folders(archive)
        n = len(folders)
        step = max(1, n // max(1, args.sample))
        sample = folders[step // 2::step][: args.sample]
        print(f"archive: {n} issues ({args.articles} articles each) in {archive}; "
              f"separate builds of {len(sample)}: {', '.join(p.parent.name + '/' + p.name for p in sample)}")
        print(f"{'format':<6} {'archive build':>14} {'per issue':>10} {'separate (median)':>18} "
              f"{'min–max':>13} {'ratio':>6}  outputs  install")
        for fmt in args.formats.split(","):
            totals, times, same = {}, {py: [] for py in pythons}, {py: True for py in pythons}
            for k, python in enumerate(pythons):  # each install's archive build, then the separate builds in turn
                whole = tmp_path / f"whole-{fmt}-{k}"
                totals[python] = timed([python, "-m", "broadsheet", "build", str(archive), "-f", fmt, "--no-cache",
                                        "-q", "--out", str(whole), *extra], env)
                written = sorted(p.name for p in whole.iterdir() if p.is_file())
                if len(written) != n:
                    raise SystemExit(f"the archive build wrote {len(written)} files for {n} issues")
            for i, folder in enumerate(sample):
                for k, python in enumerate(pythons):
                    one = tmp_path / f"one-{fmt}-{i}-{k}"
                    times[python].append(timed([python, "-m", "broadsheet", "build", str(folder), "-f", fmt,
                                                "--no-cache", "-q", "--out", str(one), *extra], env))
                    for path in one.iterdir():
                        if path.is_file() and path.read_bytes() != (tmp_path / f"whole-{fmt}-{k}" / path.name).read_bytes():
                            same[python] = False
                    shutil.rmtree(one)
            for k, python in enumerate(pythons):
                separate = statistics.median(times[python])
                per_issue = totals[python] / n
                print(f"{fmt:<6} {totals[python]:13.2f}s {per_issue:9.3f}s {separate:17.3f}s "
                      f"{min(times[python]):6.3f}–{max(times[python]):5.3f}s {per_issue / separate:6.3f}  "
                      f"{'same' if same[python] else 'differ':<7}  {python}", flush=True)
                shutil.rmtree(tmp_path / f"whole-{fmt}-{k}")


if __name__ == "__main__":
    main()
