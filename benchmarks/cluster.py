"""Throughput on a Dask cluster: an archive build and a subscriber batch, on one process and on ``--cluster local:N``.

    .venv/bin/python benchmarks/cluster.py [--issues 200] [--subscribers 2000] [--workers 2] [--tasks 2000] [--rounds 3]

Everything is measured in this one run, in this process (the API the command line calls):

* the archive (benchmarks/archive.py's generator: ``--issues`` small one-page issues, a picture in every
  fourth) built as EPUB by the plain local build with ``--jobs 1`` (one process, one output after the
  other), then with ``--cluster local:N``, both without the cache (``--no-cache``), ``--rounds`` times each
  way in turn (the machine's speed drifts by 10% from one minute to the next), the cluster's start measured
  again before each of its builds; the median round is reported, and every round's ratio printed;
* the archive again on a cluster already running (a ``local:N`` cluster started once and reached as
  ``tcp://``), first warmed by the same four-issue build that warms the one process: what a cluster serving
  many builds does once its workers have compiled the templates and opened the fonts;
* the cores' own ceiling: the archive built by one ``broadsheet build --jobs 1`` command, then by N such
  commands at once, in turn (no scheduler, no client, nothing sent between them);
* the subscriber batch (tests/archive.py's 7-issue archive, ``--subscribers`` generated subscribers, EPUB)
  built the same two ways;
* the cluster's fixed start (a LocalCluster of N workers started, checked and ended, nothing built), and
  the scheduler's overhead per task: ``--tasks`` tasks that do nothing, submitted and gathered, over their
  count (each task's round trip through the scheduler and a worker, what every real task pays on top of its
  work).

For each build it prints the wall time including the cluster's start, the throughput (outputs per second)
with the start taken out, the ratio of the cluster's throughput to the single process's, and whether the
files are the same bytes.  The machine may be shared: the figures are of one run, as ratios within it.
"""

from __future__ import annotations

import argparse
import dataclasses
import filecmp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _module(path: Path):
    """A module of this tree by its path (benchmarks/ and tests/ each have an archive.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_bench_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_issues = _module(ROOT / "benchmarks" / "archive.py").make_archive  # small one-page issues
make_fixture = _module(ROOT / "tests" / "archive.py").make_archive  # the 7-issue fixture of the tests
from digest_batch import subscriber_csv  # noqa: E402

from broadsheet import limits, pipeline  # noqa: E402
from broadsheet.config import ClusterConfig, Overrides  # noqa: E402
from broadsheet.digest import DigestSpec  # noqa: E402
from broadsheet.recipe import load_subscribers  # noqa: E402


def _noop(n: int) -> int:
    return n


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its ended children (a local cluster's workers, the
    picture workers)."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def measured(function) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, CPU seconds of its children) of ``function()``."""
    before = cpu()
    wall = timed(function)
    after = cpu()
    return wall, after[0] - before[0], after[1] - before[1]


def same(one: Path, other: Path, pattern: str) -> str:
    names = sorted(p.name for p in one.glob(pattern))
    if names != sorted(p.name for p in other.glob(pattern)):
        return "differ (names)"
    _, mismatch, errors = filecmp.cmpfiles(one, other, names, shallow=False)
    return "same" if not mismatch and not errors else f"differ ({len(mismatch) + len(errors)} files)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=2000, help="empty tasks for the scheduler's overhead")
    parser.add_argument("--rounds", type=int, default=3,
                        help="archive builds each way (and cluster starts), in turn; the median round is shown")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    address = f"local:{args.workers}"
    cluster = Overrides(cluster=ClusterConfig(address=address))
    one = limits.current()
    sequential = dataclasses.replace(one, jobs=1)
    from broadsheet.cluster import session

    print(f"machine: {limits.cores()} cores (shared with other work: one run, figures as ratios within it)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)

        def start() -> None:
            from broadsheet.cluster import _import_for

            with session(ClusterConfig(address=address), ["zh-CN", "en"], ("epub",)) as client:
                # the workers' warm-up waited for: the readers' and the renderer's imports, the picture workers
                client.run(_import_for, ("epub",), True)

        started = measured(start)
        print(f"cluster start: {address} started, checked, warmed and ended in {started[0]:.2f} s (CPU: client "
              f"{started[1]:.2f} s, workers {started[2]:.2f} s)")

        import distributed

        import logging

        with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None,
                                      silence_logs=logging.CRITICAL) as lc, \
                distributed.Client(lc, set_as_default=False) as client:
            client.gather(client.map(_noop, range(100), pure=False))  # warm
            elapsed = timed(lambda: client.gather(client.map(_noop, range(args.tasks), pure=False)))
        print(f"scheduler overhead: {args.tasks} empty tasks in {elapsed:.2f} s = {elapsed / args.tasks * 1000:.2f} ms "
              f"per task ({args.workers} workers, one thread each)")

        archive = make_issues(work / "issues", args.issues)
        limits.use(sequential)
        # the one process warmed as the workers are: its imports done and its picture workers started
        pipeline.build([make_issues(work / "warm", 4)], formats=["epub"], out=work / "warm-out", cache=False)
        rounds = []  # (ratio, alone, together, start): this machine's speed drifts, so each way in turn
        for n in range(max(1, args.rounds)):
            limits.use(sequential)
            alone = measured(lambda: pipeline.build([archive], formats=["epub"], out=work / f"a-local-{n}",
                                                    cache=False))
            limits.use(one)
            begun = measured(start)  # again: the first, before anything else, runs colder than the build
            taken = stolen()
            together = measured(lambda: pipeline.build([archive], formats=["epub"], out=work / f"a-cluster-{n}",
                                                       overrides=cluster, cache=False))
            rounds.append((alone[0] / max(together[0] - begun[0], 1e-9), n, alone, together, begun,
                           stolen() - taken))
        ratio, n, alone, together, started, _ = sorted(rounds)[len(rounds) // 2]
        print(f"archive rounds ({len(rounds)}, each way in turn): throughput ratios "
              f"{', '.join(f'{r[0]:.2f}× ({r[2][0]:.2f} s; {r[3][0]:.2f} s, start {r[4][0]:.2f} s, stolen {r[5]:.2f} s)' for r in rounds)}; "
              f"the median round follows (stolen: core seconds the host gave other machines during the cluster's build)")
        report(f"archive build, {args.issues} issues, EPUB", args.issues, alone, together, started, args.workers,
               same(work / f"a-local-{n}", work / f"a-cluster-{n}", "*.epub"))
        running(address, archive, make_issues(work / "warm-cluster", 4), work, args.issues, alone, f"a-local-{n}")
        ceiling(archive, work, args.workers)

        small = make_fixture(work / "fixture")
        people = load_subscribers(subscriber_csv(work / "subscribers.csv", args.subscribers))
        limits.use(sequential)
        alone = measured(lambda: pipeline.build_digest([small], DigestSpec(), formats=["epub"], out=work / "d-local",
                                                       subscribers=people))
        limits.use(one)
        together = measured(lambda: pipeline.build_digest([small], DigestSpec(), formats=["epub"],
                                                          out=work / "d-cluster", subscribers=people,
                                                          overrides=cluster))
        report(f"subscriber batch, {args.subscribers} subscribers, EPUB", args.subscribers, alone, together, started,
               args.workers, same(work / "d-local", work / "d-cluster", "*.epub"))
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def stolen() -> float:
    """Seconds of this machine's cores that its host gave to other machines so far (``steal`` in /proc/stat)."""
    try:
        with open("/proc/stat") as stat:
            return int(stat.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def ceiling(archive: Path, work: Path, processes: int, rounds: int = 2) -> None:
    """What this machine gives ``processes`` plain processes with nothing between them: the archive built by
    ``broadsheet build --jobs 1`` alone, then by that many such builds at once (each its own output folder),
    in turn; their throughput over the one's is the most any way of sharing the work over the cores could give
    here (no scheduler, no client, no inputs sent)."""
    import subprocess

    command = [sys.executable, "-m", "broadsheet", "build", str(archive), "-q", "--no-cache", "--jobs", "1",
               "-f", "epub", "-o"]

    # without what a nanny leaves in this process's environment (see broadsheet.cluster.connected): it makes an
    # EPUB build two to three times as long
    environ = {name: value for name, value in os.environ.items() if name != "MALLOC_TRIM_THRESHOLD_"}

    def builds(count: int, n: int) -> float:
        started = time.perf_counter()
        running = [subprocess.Popen([*command, str(work / f"ceiling-{n}-{count}-{k}")], env=environ)
                   for k in range(count)]
        if any(process.wait() for process in running):
            raise SystemExit("a build of the ceiling failed")
        return time.perf_counter() - started

    ratios = []
    for n in range(rounds):
        alone, together = builds(1, n), builds(processes, n)
        ratios.append((processes * alone / together, alone, together))
    text = ", ".join(f"{r:.2f}× ({a:.2f} s alone, {t:.2f} s for {processes})" for r, a, t in ratios)
    print(f"  {processes} plain processes at once (`build --jobs 1` each, the command line): {text}; "
          f"the cores' own ceiling for {processes} processes")


def _worker_cpu() -> float:
    """CPU seconds used so far by this worker's process and its ended children (its picture workers)."""
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def running(address: str, archive: Path, warm: Path, work: Path, count: int, alone: tuple, local: str) -> None:
    """The archive on a cluster already running (``--cluster tcp://``, a LocalCluster started as ``local`` starts
    it) and warmed as the one process is, by the same four-issue build: the throughput of a cluster that serves
    many builds, both sides having paid their first outputs' costs (the templates compiled, the fonts opened)."""
    from broadsheet.cluster import connected

    with connected(ClusterConfig(address=address)) as client:
        on = Overrides(cluster=ClusterConfig(address=client.scheduler.address))
        pipeline.build([warm], formats=["epub"], out=work / "warm-cluster-out", cache=False, overrides=on)
        before = sum(client.run(_worker_cpu).values())
        wall, own, _ = measured(lambda: pipeline.build([archive], formats=["epub"], out=work / "a-running",
                                                       overrides=on, cache=False))
        workers_cpu = sum(client.run(_worker_cpu).values()) - before
    rate_alone, rate = count / alone[0], count / wall
    print(f"  --cluster tcp:// (a local:2 cluster already running, warmed by the one process's four-issue build): "
          f"{wall:.2f} s wall, {rate:.1f} outputs/s ({rate / rate_alone:.2f}× throughput); files "
          f"{same(work / local, work / 'a-running', '*.epub')}")
    print(f"    CPU: client {own:.2f} s (the scheduler's included), workers {workers_cpu:.2f} s "
          f"({workers_cpu / count * 1000:.1f} ms per output)")


def report(what: str, count: int, alone: tuple, together: tuple, started: float, workers: int, check: str) -> None:
    """Wall-clock throughput (what this run saw, other work on the machine included) and the CPU each way
    spent: the client's own, and its children's (the workers'); from the CPU, the throughput the cores would
    give if nothing else ran: the client and the workers in parallel, the slower of them the limit."""
    wall_alone, own_alone, children_alone = alone
    wall, client, workers_cpu = together
    started, start_client, start_workers = started
    workers_cpu -= start_workers  # the workers' own start (Dask's imports, the warm-up), counted apart
    client -= start_client  # the client's part of that start (the scheduler, the checks)
    rate_alone = count / wall_alone
    rate = count / max(wall - started, 1e-9)
    cpu_alone = own_alone + children_alone
    bound = count / max(client, workers_cpu / workers, 1e-9)
    shared = count / max((client + workers_cpu) / min(workers, os.cpu_count() or workers), 1e-9)
    print(f"{what}:")
    print(f"  one process (--jobs 1): {wall_alone:.2f} s wall, {rate_alone:.1f} outputs/s; CPU {cpu_alone:.2f} s "
          f"({cpu_alone / count * 1000:.1f} ms per output)")
    print(f"  --cluster local:{workers}: {wall:.2f} s wall with the cluster's start, {rate:.1f} outputs/s without it "
          f"({rate / rate_alone:.2f}× throughput, {wall_alone / wall:.2f}× wall time start included); files {check}")
    print(f"    CPU: client beyond the start {client:.2f} s ({client / count * 1000:.1f} ms per output, "
          f"reading and planning included), workers beyond their start {workers_cpu:.2f} s ({workers_cpu / count * 1000:.1f} ms per output)")
    print(f"    on {workers} idle cores: at most {bound:.1f} outputs/s (the slower of the client and the workers), "
          f"{bound * cpu_alone / count:.2f}× one process's {count / cpu_alone:.1f} outputs per CPU second")
    print(f"    the client sharing those cores with the workers: at most {shared:.1f} outputs/s (all the CPU over the "
          f"cores, nothing idle), {shared * cpu_alone / count:.2f}× one process's")


if __name__ == "__main__":
    main()
