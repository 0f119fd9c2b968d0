"""The similarity join names every pair of texts that comparing every pair finds alike, and the digest
merges what comparing each article with every kept one merges."""

from __future__ import annotations

import random

import pytest

from broadsheet.digest import _grams, normalise, similarity
from broadsheet.shingles import LONG, candidates, gram_hashes, prefix_length

ZH = [chr(c) for c in range(0x4E00, 0x4E00 + 600)]
EN = ["harbour", "council", "ferry", "budget", "school", "museum", "market", "weather", "bridge", "library",
      "the", "of", "and", "a", "to", "in", "per", "cent", "year", "town"]


def texts_with_planted_reprints() -> list[str]:
    """A few hundred texts, Chinese and English, long (found by sketches) and short (by prefix
    filtering), empty and astral, and edited copies of some of them whose similarity to the first falls
    on both sides of 0.5, 0.8 and 0.95."""
    rng = random.Random(11)
    texts: list[str] = []
    for n in range(100):
        size = rng.randint(1, 400) if n % 2 else rng.randint(1100, 2400)
        if n % 3:
            texts.append("".join(rng.choices(ZH[: rng.choice((40, 600))], k=size)))
        else:
            texts.append(" ".join(rng.choices(EN, k=size // 6 + 1)))
    texts += ["", "", "a", "ab", "abcde", "abcdef", "𠀀𠀁𠀂𠀃", "𠀀𠀁𠀂𠀃𠀄𠀅", "😀😀😀😀😀😀😀"]  # short, empty, astral
    for n in range(0, 100, 2):
        base = texts[n]
        for share in (0.002, 0.01, 0.018, 0.021, 0.024, 0.03, 0.06):  # characters replaced: similarity from
            copy = list(base)                                            # near 1 down past 0.5
            for _ in range(min(len(copy), max(1, round(share * len(copy))))):
                copy[rng.randrange(len(copy))] = rng.choice(ZH + list("xyz"))
            texts.append("".join(copy))
        texts.append(base[: int(len(base) * rng.uniform(0.75, 0.98))])  # cut short
        if n % 8 == 0:
            texts.append(base)  # verbatim
    order = list(range(len(texts)))
    rng.shuffle(order)  # copies before and after their original
    return [texts[i] for i in order]


TEXTS = texts_with_planted_reprints()
KEYS = [normalise(t) for t in TEXTS]
GRAMS = [_grams(k) for k in KEYS]
#: (later, earlier) → similarity, for every pair at least 0.45 alike: comparing every pair, once
ALIKE = {(j, i): score for j in range(len(GRAMS)) for i in range(j)
         if min(len(GRAMS[i]), len(GRAMS[j])) >= 0.45 * max(len(GRAMS[i]), len(GRAMS[j]))  # else less alike
         and (score := similarity(GRAMS[j], GRAMS[i])) >= 0.45}


@pytest.mark.parametrize("threshold", [0.5, 0.8, 0.95, 1.0])
def test_every_pair_alike_is_a_candidate(threshold):
    near = candidates(KEYS, threshold)
    named = {(j, i) for j, earlier in near.items() for i in earlier}
    alike = {pair for pair, score in ALIKE.items() if score >= threshold}
    assert alike <= named, sorted(alike - named)[:5]
    assert len(alike) > {0.5: 200, 0.8: 150, 0.95: 60, 1.0: 2}[threshold]
    assert sum(len(GRAMS[j]) >= LONG for j, _ in alike) > (20 if threshold < 1 else 5)  # found by sketches
    assert all(sorted(v) == v and all(i < j for i in v) for j, v in near.items())
    if threshold < 1:  # planted pairs on both sides of the threshold, short and long
        for size in (lambda n: n < LONG, lambda n: n >= LONG):
            scores = [score for (j, i), score in ALIKE.items() if size(len(GRAMS[j])) and size(len(GRAMS[i]))]
            assert any(threshold - 0.05 <= score < threshold for score in scores)
            assert any(threshold <= score < threshold + 0.05 for score in scores)


def test_the_digest_merges_what_comparing_every_kept_article_merges():
    from broadsheet.digest import DigestReport, _Candidate, _merge_reprints
    from broadsheet.model import Article, Inline, Issue, Paragraph, Publication, Section

    rng = random.Random(3)
    articles = [Article(id=f"a{n}", title=rng.choice(["同题", "Same", f"t{n}"]), lang="zh-CN",
                        blocks=(Paragraph(content=Inline(html="", text=text)),) if text else ())
                for n, text in enumerate(TEXTS)]
    section = Section(id="s", name="s", articles=())
    issue = Issue(sections=(section,))
    publication = Publication(id="p", title="p", language="zh-CN", issues=(issue,))
    chosen = [_Candidate(a, publication, issue, section, n, f"#{n}") for n, a in enumerate(articles)]
    for threshold in (0.5, 0.8, 0.95):
        report = DigestReport()
        kept = [c.provenance for c in _merge_reprints(chosen, threshold, report)]
        every_kept: list[tuple[str, int, str]] = []  # (key, index, provenance)
        merged = []
        for n, c in enumerate(chosen):
            key = normalise(c.article.title + "\n" + c.article.text)
            same = next((where for k, _, where in every_kept if k == key), None)
            if same is not None:
                merged.append((c.provenance, same, 1.0))
                continue

            def alike(i: int) -> float:  # the similarity of every pair, computed once above (for texts)
                if KEYS[n] and KEYS[i]:
                    return ALIKE.get((n, i), 0.0)
                return similarity(_grams(KEYS[n] or normalise(chosen[n].article.title)),
                                  _grams(KEYS[i] or normalise(chosen[i].article.title)))

            twin = next(((where, score) for _, i, where in every_kept if (score := alike(i)) >= threshold), None)
            if twin is not None:
                merged.append((c.provenance, twin[0], round(twin[1], 3)))
                continue
            every_kept.append((key, n, c.provenance))
        assert [(m.dropped, m.kept, m.similarity) for m in report.merged] == merged
        assert kept == [where for _, _, where in every_kept]
        assert len(merged) > 40


def test_gram_hashes_are_the_same_in_every_process_and_count_the_grams():
    import subprocess
    import sys

    text = "坚持以人民为中心推进基层治理harbour𠀀😀"
    assert len(gram_hashes(text)) == len(_grams(text)) == len(text) - 4
    assert len(gram_hashes("abc")) == 1 and gram_hashes("abc")[0] != gram_hashes("abcab")[0]
    here = gram_hashes(text).tolist()
    code = f"from broadsheet.shingles import gram_hashes; print(gram_hashes({text!r}).tolist())"
    for seed in ("1", "2"):
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
        assert other.strip() == str(here)
    assert prefix_length(1, 0.8) == 1 and prefix_length(100, 0.8) == 22 and prefix_length(10, 1.0) == 2
