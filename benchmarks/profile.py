"""Where a build's time goes: wall time per phase of one build, each repeat in a fresh process.

    .venv/bin/python benchmarks/profile.py EDITION [--format epub|pdf] [--repeat N]

The build runs in-process (``broadsheet.pipeline.build``, no cache, like ``--no-cache``), and the
functions that make up each phase are wrapped with timers from here (nothing in ``src/`` changes).
Phases nest (a picture made while the EPUB is packed, a module imported while a source is read):
each phase reports its *self* time, what it took minus the phases nested in it, so the phases add
up to the total; "other" is the total less every phase.  Imports are timed wherever they happen
(``importlib``'s ``_find_and_load``, called only for modules not imported yet).  The PDF's layout
runs in child processes: it is timed from the parent, as the time the parent waits for it
(starting the layout processes included), and joining the parts is timed apart.  Interpreter
start-up (before this script's first line) is not counted.  With ``--repeat N`` each build is its
own process and the table gives the median of each phase (and of the total) over the N builds.
Given an archive (a folder of many issues), the table adds each phase's cost per issue: its time over
the number of files the build wrote.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: The phases, in the order of the table, and the functions whose (self) time each one is.
#: A target is "module:attribute" or "module:Class.method"; formats limit a target to a build format.
PHASES: list[tuple[str, list[str], tuple[str, ...]]] = [
    ("imports", [], ("epub", "pdf")),  # importlib, see _time_imports
    ("source detection", ["broadsheet.ingest:detect_kind"], ("epub", "pdf")),
    ("reading and decoding", ["broadsheet.ingest.encoding:read_text", "broadsheet.ingest.encoding:decode"],
     ("epub", "pdf")),
    ("language detection", ["broadsheet.ingest.language:resolve", "broadsheet.ingest.language:identify",
                            "broadsheet.ingest.language:guess_language"], ("epub", "pdf")),
    ("sanitising (nh3 + lxml)", ["broadsheet.ingest.html:sanitize", "broadsheet.ingest.html:flatten_raw",
                                 "broadsheet.ingest.html:flatten_deep", "lxml.html:fragment_fromstring"],
     ("epub", "pdf")),
    ("model building", ["broadsheet.pipeline:load"], ("epub", "pdf")),
    ("settings and themes", ["broadsheet.pipeline:plan"], ("epub", "pdf")),
    ("typography", ["broadsheet.typography:typeset_publication"], ("epub", "pdf")),
    ("font coverage", ["broadsheet.render:_check_glyphs"], ("epub", "pdf")),
    ("cover", ["broadsheet.render.cover:draw_cover"], ("epub", "pdf")),
    ("rendering (templates)", ["broadsheet.render:render_issue"], ("epub", "pdf")),
    ("pictures", ["broadsheet.backends.epub.pictures:prepare_pictures"], ("epub",)),
    ("pictures", ["broadsheet.backends.pdf.backend:_check_pictures", "broadsheet.backends.pdf.backend:_pictures"],
     ("pdf",)),
    ("EPUB packing", ["broadsheet.backends.epub.backend:EpubBackend.write"], ("epub",)),
    ("cutting into parts", ["broadsheet.backends.pdf.parts:split_edition"], ("pdf",)),
    ("layout (child processes)", ["broadsheet.pipeline:warm_up", "broadsheet.backends.pdf.backend:PdfBackend.write",
                                  "broadsheet.backends.pdf.backend:PdfBackend.start",
                                  "broadsheet.backends.processes:Running.result"], ("pdf",)),
    ("joining", ["broadsheet.backends.pdf.assembly:assemble"], ("pdf",)),
]


class Phases:
    """Self time per phase: a stack of open phases, each one's children's time subtracted from it."""

    def __init__(self) -> None:
        self.self_time: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []  # [name, start, time of nested phases]
        self._main = threading.get_ident()

    def enter(self, name: str) -> None:
        self._stack.append([name, time.perf_counter(), 0.0])

    def leave(self) -> None:
        name, start, nested = self._stack.pop()
        elapsed = time.perf_counter() - start
        self.self_time[name] = self.self_time.get(name, 0.0) + elapsed - nested
        self.calls[name] = self.calls.get(name, 0) + 1
        if self._stack:
            self._stack[-1][2] += elapsed

    def wrap(self, name: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            if threading.get_ident() != self._main:  # a worker thread's time is its caller's
                return function(*args, **kwargs)
            self.enter(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        return timed


def _time_imports(phases: Phases) -> None:
    """Time every module import (the interpreter calls ``_find_and_load`` only for a module not yet in
    ``sys.modules``, looking it up on ``_frozen_importlib`` each time)."""
    bootstrap = sys.modules["_frozen_importlib"]
    bootstrap._find_and_load = phases.wrap("imports", bootstrap._find_and_load)


def _patch(phases: Phases, name: str, target: str) -> None:
    """Wrap ``target`` where it is defined and wherever a broadsheet module holds it by name."""
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    owner, _, method = attribute.rpartition(".")
    holder = getattr(module, owner) if owner else module
    original = getattr(holder, method)
    wrapped = phases.wrap(name, original)
    setattr(holder, method, wrapped)
    if owner:
        return
    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith("broadsheet"):
            for key, value in list(vars(loaded).items()):
                if value is original:
                    setattr(loaded, key, wrapped)


def child(edition: Path, fmt: str, out: Path) -> dict:
    """One build in this process; return the self time of each phase and the total."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    phases = Phases()
    started = time.perf_counter()
    _time_imports(phases)
    phases.enter("imports")  # the modules that hold the timed functions: imported as the build would
    for _, targets, formats in PHASES:
        if fmt in formats:
            for target in targets:
                importlib.import_module(target.partition(":")[0])
    phases.leave()
    for name, targets, formats in PHASES:
        if fmt in formats:
            for target in targets:
                _patch(phases, name, target)
    parts = _watch_parts() if fmt == "pdf" else {}
    from broadsheet.pipeline import build

    written = build([edition], formats=[fmt], out=out, cache=False)
    total = time.perf_counter() - started
    if not written:
        raise SystemExit("the build wrote nothing")
    return {"total": total, "phases": phases.self_time, "calls": phases.calls, "parts": _part_times(parts),
            "issues": len(written)}


def _watch_parts() -> dict[str, list[tuple[float, float]]]:
    """Note when each layout part starts and finishes, by role (wrapping the scheduler from here)."""
    from broadsheet.backends.pdf.scheduler import Scheduler

    events: dict[str, list] = {}
    started: dict[int, float] = {}
    start, receive = Scheduler._start, Scheduler._receive

    def timed_start(self, job):
        started[id(job)] = time.perf_counter()
        return start(self, job)

    def timed_receive(self, job):
        done = receive(self, job)
        if done:
            events.setdefault(job.role, []).append((started.pop(id(job)), time.perf_counter()))
        return done

    Scheduler._start, Scheduler._receive = timed_start, timed_receive
    return events


def _part_times(events: dict[str, list[tuple[float, float]]]) -> dict[str, float]:
    """The contents' processes, start to PDF (what they waited for included), a process that only
    counted the front matter's pages (earlier schedulers), how long the build waited for the
    contents after the last section was done, and how many times the contents were laid out."""
    if "contents" not in events or "section" not in events:
        return {}
    contents_end = max(end for _, end in events["contents"])
    last_section = max(end for _, end in events["section"])
    return {"contents processes": sum(end - begin for begin, end in events["contents"]),
            "front matter counted": sum(end - begin for begin, end in events.get("front", [])),
            "contents after sections": max(0.0, contents_end - last_section),
            "contents layouts": float(len(events["contents"]))}


def table(runs: list[dict], fmt: str) -> str:
    """The median self time of each phase; with more than one issue built (an archive), its cost per issue too."""
    names = list(dict.fromkeys(name for name, _, formats in PHASES if fmt in formats))
    totals = [run["total"] for run in runs]
    total = statistics.median(totals)
    issues = runs[0].get("issues", 1)
    each = issues > 1
    rows = [f"{'phase':<26} {'self s':>8} {'share':>6}  {'min–max s':>13}" + (f"  {'per issue ms':>12}" if each else "")]

    def row(name: str, values: list[float]) -> str:
        median = statistics.median(values)
        line = f"{name:<26} {median:8.3f} {median / total:6.1%}  {min(values):6.3f}–{max(values):6.3f}"
        return line + (f"  {median / issues * 1000:12.1f}" if each else "")

    for name in names:
        rows.append(row(name, [run["phases"].get(name, 0.0) for run in runs]))
    rows.append(row("other", [run["total"] - sum(run["phases"].values()) for run in runs]))
    rows.append(row("total", totals))
    if fmt == "pdf" and all(run.get("parts") for run in runs):
        # inside "layout (child processes)": the contents' processes, and the wait for the
        # contents after the last section was laid out (the part of them that is not in parallel)
        rows.append("of the layout, the contents:")
        for name in runs[0]["parts"]:
            values = [run["parts"][name] for run in runs]
            rows.append(f"  {name:<24} {statistics.median(values):8.3f}         "
                        f"{min(values):6.3f}–{max(values):6.3f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("edition", type=Path)
    parser.add_argument("--format", choices=["epub", "pdf"], default="epub")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # the output folder of one build
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.edition.resolve(), args.format, args.child)))
        return
    runs = []
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory(prefix="broadsheet-profile-") as out:
            result = subprocess.run([sys.executable, __file__, str(args.edition), "--format", args.format,
                                     "--child", out], capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr[-2000:])
            raise SystemExit(f"the build failed (exit {result.returncode})")
        runs.append(json.loads(result.stdout.splitlines()[-1]))
    issues = runs[0].get("issues", 1)
    print(f"{args.edition}  --format {args.format}  {len(runs)} build{'s' if len(runs) != 1 else ''}"
          f"{f' of {issues} issues' if issues > 1 else ''}, median self time per phase")
    print(table(runs, args.format))


if __name__ == "__main__":
    main()
