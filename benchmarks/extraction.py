"""How well broadsheet reads article pages: its article text against a corpus's ground truth, beside trafilatura.

    .venv/bin/python benchmarks/extraction.py [corpus folder] [--json] [--only broadsheet|trafilatura]

The corpus is laid out like Scrapinghub's article-extraction-benchmark: ``html/<id>.html.gz`` and
``ground-truth.json`` (id → {"articleBody", "url"}); the default is ``../shared/corpus/aeb-dev`` beside the
repository.  The measure is the benchmark's own: bodies tokenised with ``\\w+``, counted as 4-token shingles;
per page TP/FP/FN normalised by their sum; precision and recall averaged over the pages (precision over pages that
predicted something, recall over pages whose truth holds something) and F1 taken from the two averages.

Each page is written, as a user would have saved it, to a temporary folder as ``<id>.html`` and read by
broadsheet's article ingester in-process; its score is for the text ``broadsheet inspect --json`` shows
(``Article.text``).  A page broadsheet refuses counts as an empty prediction.  Plain ``trafilatura.extract()`` is
run on the same bytes.  Nothing here is part of the test suite; the corpus stays outside the repository.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "aeb-dev"
sys.path.insert(0, str(ROOT / "src"))

_TOKEN = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


# --- the benchmark's measure ------------------------------------------------------------------------------


def _shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """The page's TP/FP/FN over 4-token shingles, normalised by their sum."""
    truth, guess = _shingles(true), _shingles(pred)
    tp = fp = fn = 0.0
    for key in truth.keys() | guess.keys():
        t, p = truth.get(key, 0), guess.get(key, 0)
        tp += min(t, p)
        fp += max(0, p - t)
        fn += max(0, t - p)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (tp, fp, fn)


def precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def totals(counts: list[tuple[float, float, float]]) -> dict[str, float]:
    p = statistics.fmean([precision(*c) for c in counts if c[0] + c[1] > 0] or [0.0])
    r = statistics.fmean([recall(*c) for c in counts if c[0] + c[2] > 0] or [0.0])
    return {"precision": p, "recall": r, "f1": f1(p, r)}


# --- the extractors -------------------------------------------------------------------------------------------


def broadsheet_text(raw: bytes, name: str, folder: Path) -> tuple[str, str | None]:
    """(article text, fault) for one page, read as ``broadsheet inspect`` would read the saved file."""
    from broadsheet.errors import IngestError
    from broadsheet.ingest import detect_kind, ingester
    from broadsheet.ingest.base import Context

    page = folder / f"{name}.html"
    page.write_bytes(raw)
    try:
        kind = detect_kind(page, folder)  # the reader the command line would choose (an e-paper page is not ours)
        drafts = ingester(kind).load(page, Context(root=folder))
    except IngestError as exc:
        return "", str(exc)
    finally:
        page.unlink()
    return "\n\n".join(a.text for d in drafts for s in d.sections for a in s.articles), None


def trafilatura_text(raw: bytes) -> str:
    import trafilatura

    return trafilatura.extract(raw) or ""


# --- the run ----------------------------------------------------------------------------------------------------


def run(corpus: Path, which: tuple[str, ...]) -> dict:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="broadsheet-extraction-") as tmp:
        for key in sorted(truth):
            raw = gzip.decompress((corpus / "html" / f"{key}.html.gz").read_bytes())
            body = truth[key].get("articleBody", "")
            row = {"id": key, "url": truth[key].get("url")}
            if "broadsheet" in which:
                text, fault = broadsheet_text(raw, key, Path(tmp))
                row["broadsheet"] = _scores(body, text) | ({"fault": fault} if fault else {})
            if "trafilatura" in which:
                row["trafilatura"] = _scores(body, trafilatura_text(raw))
            pages.append(row)
    result = {"corpus": str(corpus), "pages": pages, "seconds": round(time.monotonic() - started, 1)}
    for name in which:
        result[name] = totals([tuple(p[name]["counts"]) for p in pages])
    return result


def _scores(true: str, pred: str) -> dict:
    counts = tp_fp_fn(true, pred)
    p, r = precision(*counts), recall(*counts)
    return {"counts": counts, "precision": p, "recall": r, "f1": f1(p, r), "chars": len(pred)}


def _table(result: dict, which: tuple[str, ...]) -> str:
    """The per-page scores and the totals, as a Markdown table (a refused page is marked with "!")."""
    head = "| page | " + " | ".join(f"{n} P | {n} R | {n} F1" for n in which) + " |"
    lines = [head, "|---|" + "---:|" * (3 * len(which))]

    def cells(scores: dict, mark: str = "") -> str:
        return f"{scores['precision']:.3f} | {scores['recall']:.3f} | {scores['f1']:.3f}{mark}"

    for page in result["pages"]:
        lines.append(f"| {page['id'][:12]} | " + " | ".join(
            cells(page[n], "!" if page[n].get("fault") else "") for n in which) + " |")
    lines.append("| **all** | " + " | ".join(cells(result[n]) for n in which) + " |")
    faults = [(p["id"], p["broadsheet"]["fault"]) for p in result["pages"] if p.get("broadsheet", {}).get("fault")]
    lines += [""] + [f"! {key[:12]} refused: {fault}" for key, fault in faults]
    lines.append(f"{len(result['pages'])} pages, {result['seconds']} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--only", choices=("broadsheet", "trafilatura"), help="run one extractor only")
    args = parser.parse_args(argv)
    if not (args.corpus / "ground-truth.json").is_file():
        print(f"{args.corpus}: no ground-truth.json (a corpus laid out like article-extraction-benchmark)",
              file=sys.stderr)
        return 1
    logging.getLogger("broadsheet").setLevel(logging.ERROR)  # the pages' warnings are not the benchmark's output
    which = (args.only,) if args.only else ("broadsheet", "trafilatura")
    result = run(args.corpus, which)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(_table(result, which))
    return 0


if __name__ == "__main__":
    sys.exit(main())
