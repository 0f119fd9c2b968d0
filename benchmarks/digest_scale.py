"""How `broadsheet digest` scales with the number of articles.

    .venv/bin/python benchmarks/digest_scale.py [--sizes 1000,2000,5000] [--formats json,epub]
                                                [--per-issue 137] [--keep DIR] [--timeout 900]
    .venv/bin/python benchmarks/digest_scale.py --profile 2000 [--keep DIR]   # cProfile of make_digest's run
    .venv/bin/python benchmarks/digest_scale.py --compare 3000                # new reprint search vs every pair

For each N a synthetic archive is written (or reused from ``--keep DIR``): one publication folder
(``基准日报``, zh-CN) with a dated issue folder per day, ``--per-issue`` articles a day over four sections
(137 a day: 50,000 articles are a year of a daily), Markdown with front matter; about 70% Chinese
(lognormal lengths around 1,500 characters) and 30% English (around 600 words), words drawn from a
Zipf-like vocabulary so that 5-grams are as unevenly common as a newspaper's.  About 8% of the articles
are reprints of an article printed up to three weeks earlier, in another issue or another section of
the same issue: a third verbatim, a third with a figure or a sentence changed, a third edited more
heavily (some just above, some just below the 80% similarity at which they merge), some retitled.

``broadsheet digest ARCHIVE --json`` and ``broadsheet digest ARCHIVE --format epub`` then run each as
its own process (``SOURCE_DATE_EPOCH`` set); the table gives wall time, the CPU time of all its processes
(user + system: steadier than wall time on a shared machine) and the peak resident memory of the largest
process (the supervised child's, its ru_maxrss as its parent sees it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROADSHEET = ROOT / ".venv" / "bin" / "broadsheet"
PYTHON = ROOT / ".venv" / "bin" / "python"
SECTIONS = [("要闻", "01"), ("经济", "05"), ("文化", "08"), ("理论", "15")]
TAGS = ["党建", "经济", "文化", "民生", "生态", "科技", "教育"]
START = dt.date(2024, 1, 1)


class Words:
    """A seeded vocabulary, drawn Zipf-like (weight 1/rank)."""

    def __init__(self, rng: random.Random) -> None:
        chars = [chr(c) for c in range(0x4E00, 0x4E00 + 20000)]
        rng.shuffle(chars)
        common = chars[:3500]
        char_weights = [1 / (r + 1) ** 0.9 for r in range(len(common))]
        zh = set()
        while len(zh) < 12000:
            zh.add("".join(rng.choices(common, char_weights, k=rng.choice((1, 2, 2, 2, 3, 4)))))
        self.zh = sorted(zh)
        rng.shuffle(self.zh)
        onsets = ["", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "z",
                  "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk", "sl", "sm",
                  "sn", "sp", "st", "str", "sw", "th", "tr", "wh"]
        vowels = ["a", "e", "i", "o", "u", "y", "ai", "ea", "ee", "ie", "oa", "oo", "ou", "au"]
        codas = ["", "", "", "b", "ck", "d", "ft", "g", "l", "ld", "lt", "m", "n", "nd", "ng", "nt", "p", "r", "rd",
                 "rk", "rn", "s", "sh", "st", "t", "th", "x"]
        syllables = [o + v + c for o in onsets for v in vowels for c in codas]
        syllable_weights = [1 / (r + 1) ** 0.7 for r in range(len(syllables))]
        rng.shuffle(syllables)
        en = set()
        while len(en) < 40000:
            en.add("".join(rng.choices(syllables, syllable_weights, k=rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))))
        self.en = sorted(en)
        rng.shuffle(self.en)
        self.zh_cum = _cumulative(len(self.zh))
        self.en_cum = _cumulative(len(self.en))

    def zh_sentence(self, rng: random.Random) -> str:
        words = rng.choices(self.zh, cum_weights=self.zh_cum, k=rng.randint(6, 18))
        cut = rng.randint(2, len(words) - 2)
        return "".join(words[:cut]) + "，" + "".join(words[cut:]) + rng.choice("。。。！？")

    def en_sentence(self, rng: random.Random) -> str:
        words = rng.choices(self.en, cum_weights=self.en_cum, k=rng.randint(8, 28))
        if rng.random() < 0.3:  # a figure
            words.insert(rng.randrange(len(words)), str(rng.randint(2, 2000)))
        if rng.random() < 0.4:  # a name
            words.insert(rng.randrange(len(words)), " ".join(rng.choice(self.en[2000:]).capitalize()
                                                             for _ in range(rng.randint(1, 2))))
        return " ".join(words).capitalize() + rng.choice("...?")


def _cumulative(size: int) -> list[float]:
    total, out = 0.0, []
    for rank in range(size):
        total += 1 / (rank + 1)
        out.append(total)
    return out


def article_body(words: Words, rng: random.Random, chinese: bool) -> list[list[str]]:
    """Paragraphs of sentences."""
    if chinese:
        target = min(6000, max(200, int(rng.lognormvariate(math.log(1500), 0.5))))
        make, per = words.zh_sentence, 28
    else:
        target = min(2500, max(80, int(rng.lognormvariate(math.log(600), 0.5)))) * 6
        make, per = words.en_sentence, 110
    sentences = [make(rng) for _ in range(max(2, target // per))]
    paragraphs, at = [], 0
    while at < len(sentences):
        step = rng.randint(2, 6)
        paragraphs.append(sentences[at:at + step])
        at += step
    return paragraphs


def edited(words: Words, rng: random.Random, body: list[list[str]], chinese: bool, how: str) -> list[list[str]]:
    make = words.zh_sentence if chinese else words.en_sentence
    body = [list(p) for p in body]
    flat = [(p, s) for p in range(len(body)) for s in range(len(body[p]))]
    if how == "figure":  # a corrected figure or a changed word
        p, s = rng.choice(flat)
        body[p][s] = body[p][s][:-1] + ("，增长百分之" + str(rng.randint(2, 30)) if chinese
                                        else f", up {rng.randint(2, 30)} per cent") + body[p][s][-1]
    elif how == "sentence":
        p, s = rng.choice(flat)
        body[p][s] = make(rng)
    else:  # heavier: a share of the sentences rewritten, around the merge threshold
        share = rng.uniform(0.04, 0.16)
        for p, s in rng.sample(flat, max(1, int(len(flat) * share))):
            body[p][s] = make(rng)
    return body


def markdown(title: str, section: str, tags: list[str], body: list[list[str]], order: int, chinese: bool) -> str:
    lang = "" if chinese else "lang: en\n"
    joiner = "" if chinese else " "
    text = "\n\n".join(joiner.join(p) for p in body)
    return f"---\ntitle: \"{title}\"\nsection: {section}\norder: {order}\ntags: [{', '.join(tags)}]\n{lang}---\n\n" \
           f"{text}\n"


def make_archive(root: Path, articles: int, per_issue: int = 137, seed: int = 1) -> tuple[Path, dict]:
    """Write the archive under ``root``; return its publication folder and counts."""
    rng = random.Random(seed)
    words = Words(random.Random(seed + 1000))
    pub = root / "archive"
    pub.mkdir(parents=True)
    (pub / "broadsheet.toml").write_text('[publication]\ntitle = "基准日报"\nlanguage = "zh-CN"\nid = "jzrb"\n',
                                         encoding="utf-8")
    recent: list[tuple[int, str, list[list[str]], bool, str]] = []  # (day, title, body, chinese, section)
    counts = {"articles": 0, "reprints": 0, "issues": 0}
    day = 0
    while counts["articles"] < articles:
        date = START + dt.timedelta(days=day)
        folder = pub / date.isoformat()
        folder.mkdir()
        counts["issues"] += 1
        sections = ", ".join(f'{{ name = "{n}", page = "{p}" }}' for n, p in SECTIONS)
        (folder / "issue.toml").write_text(f"date = {date.isoformat()}\nsections = [{sections}]\n", encoding="utf-8")
        for n in range(min(per_issue, articles - counts["articles"])):
            section = SECTIONS[n * len(SECTIONS) // per_issue][0]
            tags = sorted(rng.sample(TAGS, rng.randint(0, 2)))
            old = [r for r in recent if r[0] >= day - 21]
            if old and rng.random() < 0.08:
                _, title, body, chinese, was = rng.choice(old)
                how = rng.choice(("verbatim", "figure", "sentence", "heavy", "heavy", "heavy"))
                if how != "verbatim":
                    body = edited(words, rng, body, chinese, how)
                if rng.random() < 0.3:
                    title = title + ("（转载）" if chinese else " (reprint)")
                counts["reprints"] += 1
            else:
                chinese = rng.random() < 0.7
                title = (words.zh_sentence(rng)[:rng.randint(8, 20)].rstrip("，。！？") if chinese
                         else " ".join(words.en_sentence(rng).split()[:rng.randint(4, 10)]).rstrip(".?"))
                body = article_body(words, rng, chinese)
                recent.append((day, title, body, chinese, section))
            (folder / f"a{n:03d}.md").write_text(markdown(title, section, tags, body, n, chinese), encoding="utf-8")
            counts["articles"] += 1
        recent = [r for r in recent if r[0] >= day - 21]
        day += 1
    return pub, counts


def archive_for(n: int, per_issue: int, keep: Path | None, work: Path) -> tuple[Path, dict]:
    base = (keep or work) / f"digest-archive-{n}-{per_issue}"
    done = base / "done"
    if done.exists():
        return base / "archive", json.loads(done.read_text())
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    pub, counts = make_archive(base, n, per_issue)
    done.write_text(json.dumps(counts))
    return pub, counts


#: Runs a command and writes the peak RSS of its largest (waited-for) descendant in kB and the CPU time of
#: all of them in seconds to the fd given.
_MEASURE = ("import resource, subprocess, sys, os; status = subprocess.call(sys.argv[2:]); "
            "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "os.write(int(sys.argv[1]), f'{use.ru_maxrss} {use.ru_utime + use.ru_stime}'.encode()); sys.exit(status)")


def run(args: list[str], timeout: float) -> tuple[float, float, float, int, str]:
    """(seconds, CPU seconds, peak RSS of the largest process in MB, exit status, last line of stderr)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", PYTHONDONTWRITEBYTECODE="1")
    read, write = os.pipe()
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", _MEASURE, str(write), *args], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(write,),
                               start_new_session=True)  # its own process group: a timeout stops all of it
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate()
        os.close(read), os.close(write)
        return float("inf"), float("nan"), float("nan"), -1, f"not done in {timeout:.0f} s"
    seconds = time.perf_counter() - start
    os.close(write)
    peak, cpu = (os.read(read, 64).decode() or "0 nan").split()
    os.close(read)
    err = stderr.decode(errors="replace").strip().splitlines()
    return seconds, float(cpu), int(peak) / 1024, process.returncode, err[-1] if err else ""


def profile(n: int, per_issue: int, keep: Path | None, work: Path) -> None:
    """cProfile of ``digest --json``'s work (read, digest, JSON) and of ``digest --format epub``'s, in-process."""
    pub, counts = archive_for(n, per_issue, keep, work)
    code = f"""
import cProfile, io, json, pstats, time
from pathlib import Path
from broadsheet.pipeline import load, build_digest
from broadsheet.digest import DigestSpec, make_digest
from broadsheet.model import issue_to_dict

def show(profile, title):
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(16)
        print(f"--- {{title}}, by {{order}}")
        print("\\n".join(line[:160] for line in out.getvalue().splitlines()[6:]))

profile = cProfile.Profile(); profile.enable()
t0 = time.perf_counter(); editions = load([{str(pub)!r}]); t1 = time.perf_counter()
publication, report = make_digest(editions, DigestSpec()); t2 = time.perf_counter()
json.dumps(issue_to_dict(publication), ensure_ascii=False, indent=2); t3 = time.perf_counter()
profile.disable()
print(f"json: read {{t1 - t0:.1f}} s, make_digest {{t2 - t1:.1f}} s, JSON {{t3 - t2:.1f}} s (under cProfile); "
      f"{{report.selected}} of {{report.considered}} kept, {{len(report.merged)}} merged")
show(profile, "digest --json")
profile = cProfile.Profile(); profile.enable()
t0 = time.perf_counter(); build_digest([Path({str(pub)!r})], DigestSpec(), formats=["epub"], out=Path({str(work)!r}) / "epub")
profile.disable()
print(f"epub: {{time.perf_counter() - t0:.1f}} s (under cProfile)")
show(profile, "digest --format epub")
"""
    print(f"N = {n}: {counts}", flush=True)
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    subprocess.run([str(PYTHON), "-c", code], check=True, env=env)


def pairwise_reprints(editions, spec) -> list:
    """The reprints merged by comparing each article with every one kept before it (as before the
    similarity join; sizes too far apart skipped, which cannot be t alike): Merged records, in order."""
    from broadsheet.digest import Merged, _choose, _grams, normalise, similarity

    _, chosen = _choose(editions, spec)
    kept: list = []  # (grams, provenance)
    by_key: dict[str, str] = {}
    merged = []
    for candidate in chosen:
        key = normalise(candidate.article.title + "\n" + candidate.article.text)
        grams = _grams(normalise(candidate.article.text) or key)
        if key in by_key:
            merged.append(Merged(candidate.provenance, by_key[key], 1.0))
            continue
        twin = None
        for other, where in kept:
            small, large = sorted((len(grams), len(other)))
            if small >= (spec.similarity - 1e-9) * large and (score := similarity(grams, other)) >= spec.similarity:
                twin = where, score
                break
        if twin is not None:
            merged.append(Merged(candidate.provenance, twin[0], round(twin[1], 3)))
            continue
        by_key[key] = candidate.provenance
        kept.append((grams, candidate.provenance))
    return merged


def compare(n: int, per_issue: int, keep: Path | None, work: Path) -> None:
    """Check the reprints found against comparing every pair, on the archive of ``n`` articles."""
    sys.path.insert(0, str(ROOT / "src"))
    from broadsheet.digest import DigestSpec, make_digest
    from broadsheet.pipeline import load

    pub, counts = archive_for(n, per_issue, keep, work)
    editions = load([pub])
    for threshold in (0.8, 0.6, 0.95):
        spec = DigestSpec(similarity=threshold)
        start = time.perf_counter()
        _, report = make_digest(editions, spec)
        new = time.perf_counter() - start
        start = time.perf_counter()
        every = pairwise_reprints(editions, spec)
        old = time.perf_counter() - start
        same = report.merged == every
        print(f"N = {n}, similarity {threshold}: {len(report.merged)} merged ({new:.1f} s), every pair: {len(every)} "
              f"merged ({old:.1f} s): {'the same' if same else 'DIFFERENT'}")
        if not same:
            sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000")
    parser.add_argument("--formats", default="json,epub")
    parser.add_argument("--per-issue", type=int, default=137)
    parser.add_argument("--keep", type=Path, help="keep the archives in this folder (and reuse them)")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--profile", type=int, metavar="N", help="profile make_digest on N articles instead")
    parser.add_argument("--compare", type=int, metavar="N", help="compare with every-pair search on N articles")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if args.profile:
            return profile(args.profile, args.per_issue, args.keep, work)
        if args.compare:
            return compare(args.compare, args.per_issue, args.keep, work)
        print(f"{'N':>6}  {'issues':>6}  {'reprints':>8}  {'command':<26}{'wall':>9}  {'CPU':>8}  {'RSS max':>8}  status")
        for n in (int(s) for s in args.sizes.split(",")):
            start = time.perf_counter()
            pub, counts = archive_for(n, args.per_issue, args.keep, work)
            print(f"# archive of {n} written or found in {time.perf_counter() - start:.1f} s", flush=True)
            for fmt in args.formats.split(","):
                out = work / f"out-{n}-{fmt}"
                command = [str(BROADSHEET), "digest", str(pub), "-q"]
                command += ["--json"] if fmt == "json" else ["--format", fmt, "--out", str(out)]
                seconds, cpu, rss, status, last = run(command, args.timeout)
                print(f"{n:>6}  {counts['issues']:>6}  {counts['reprints']:>8}  {'digest ' + ('--json' if fmt == 'json' else '--format ' + fmt):<26}"
                      f"{seconds:>8.1f}s  {cpu:>7.1f}s  {rss:>6.0f}MB  {status}{'  ' + last if status else ''}", flush=True)
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
