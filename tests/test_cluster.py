"""--cluster: outputs made by Dask workers are the bytes of a local build; a lost worker costs nothing but
time; an unfit cluster is refused with one line before any work is sent.

The integration tests start a real ``dask scheduler`` and ``dask worker`` processes (the venv's ``dask``
command) on 127.0.0.1 and stop every one of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXED_EPOCH, run_cli

pytest.importorskip("distributed")

PICTURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005"
    "0001ff5ccbd5a90000000049454e44ae426082")
DASK = Path(sys.executable).with_name("dask")


def make_archive(root: Path, issues: int = 30) -> Path:
    """A publication folder of ``issues`` small one-page issues (a picture in every fifth)."""
    archive = root / "archive"
    archive.mkdir()
    (archive / "broadsheet.toml").write_text('[publication]\ntitle = "河洛日报"\nlanguage = "zh-CN"\nid = "hlrb"\n',
                                             encoding="utf-8")
    for n in range(issues):
        day = f"2024-{5 + n // 28:02d}-{1 + n % 28:02d}"
        folder = archive / day
        folder.mkdir()
        (folder / "issue.toml").write_text(f'date = {day}\nnumber = "{100 + n}"\nsections = [{{ name = "要闻", '
                                           f'page = "01" }}]\n', encoding="utf-8")
        for a in range(2):
            figure = ""
            if n % 5 == 0 and a == 0:
                (folder / "p.png").write_bytes(PICTURE)
                figure = "![图](p.png)\n\n"
            (folder / f"a{a}.md").write_text(
                f"---\ntitle: 第{n + 1}期第{a + 1}篇\nsection: 要闻\norder: {a}\ntags: [t{(n + a) % 3}]\n---\n\n"
                f"{figure}" + f"推进基层治理现代化，第{n}期取得新进展。" * 15 + "\n", encoding="utf-8")
    return archive


def subscribers(path: Path, count: int) -> Path:
    rows = ["id,sections,tags,language,formats"]
    for n in range(count):
        rows.append(f"s{n:04d},要闻,t{n % 3},{'s2t' if n % 7 == 0 else ''},epub")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the local build's cache: relative path → bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".broadsheet-cache" not in p.parts}


def assert_same_build(local: Path, cluster: Path) -> None:
    mine, theirs = files(local), files(cluster)
    assert sorted(theirs) == sorted(mine)
    assert not [name for name in theirs if name.endswith(".part")]
    different = [name for name in mine if mine[name] != theirs[name]]
    assert different == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A dask scheduler and workers started as processes on 127.0.0.1; :meth:`stop` ends every one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def _start(self, *args: str, env: dict | None = None, log: str) -> subprocess.Popen:
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "1",  # the client's epoch is used, not this one
                       "DASK_TEMPORARY_DIRECTORY": str(self.root / "scratch"), **(env or {})}
        return subprocess.Popen([str(DASK), *args], cwd=self.root, env=environment, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=(self.root / log).open("wb"))

    def start_scheduler(self) -> None:
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                     "--no-dashboard", "--no-show", log="scheduler.log")

    def start_worker(self, env: dict | None = None) -> subprocess.Popen:
        worker = self._start("worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                             "--host", "127.0.0.1", "--local-directory", str(self.root / "scratch"),
                             env=env, log=f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker

    def wait_for(self, workers: int, seconds: float = 60) -> None:
        from distributed import Client

        with Client(self.address, timeout=seconds, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=seconds)

    def stop(self) -> None:
        """SIGTERM to every process group started (each one's scratch folder removed), SIGKILL to any left."""
        started = [p for p in [*self.workers, self.scheduler] if p is not None]
        for process in started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        for process in started:  # nothing of its group is left either (a layout process dies with its worker)
            assert process.poll() is not None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError(f"a process of group {process.pid} outlived SIGKILL")


@pytest.fixture
def cluster(tmp_path):
    running = Cluster(tmp_path)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_an_archive_built_on_a_local_cluster_is_the_local_build_byte_for_byte(tmp_path):
    """30 issues, EPUB and PDF, and a damaged source that --keep-going skips in both builds alike."""
    archive = make_archive(tmp_path, 30)
    (archive / "2024-05-02" / "damaged.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")
    local = run_cli("build", archive, "-f", "epub", "-f", "pdf", "-o", tmp_path / "local", "-q", "--no-cache",
                    "--keep-going")
    on_cluster = run_cli("build", archive, "-f", "epub", "-f", "pdf", "-o", tmp_path / "cluster", "-q",
                         "--keep-going", "--cluster", "local:2")
    assert local.returncode == on_cluster.returncode == 1
    assert on_cluster.stderr == local.stderr and "damaged.txt" in on_cluster.stderr
    assert len([p for p in (tmp_path / "cluster").iterdir() if p.suffix in (".epub", ".pdf")]) == 60
    assert_same_build(tmp_path / "local", tmp_path / "cluster")


def test_a_theme_of_its_own_travels_to_the_workers_and_its_fault_is_one_line(tmp_path):
    from test_cli import write

    archive = make_archive(tmp_path, 6)
    theme = tmp_path / "house"
    write(theme / "theme.toml", 'inherit = "default"\n')
    write(theme / "theme.css", ".headline { color: #123456; }\n")
    local = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "local", "-q", "--theme", theme)
    on_cluster = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "cluster", "-q", "--theme", theme,
                         "--cluster", "local:2")
    assert local.returncode == on_cluster.returncode == 0, on_cluster.stderr
    assert_same_build(tmp_path / "local", tmp_path / "cluster")

    write(theme / "epub/article.xhtml", "{{ article.no_such_field }}")
    broken = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "broken", "--theme", theme,
                     "--cluster", "local:2")
    assert broken.returncode == 1
    assert broken.stderr.count("\n") == 1 and "template" in broken.stderr, broken.stderr
    assert "broadsheet-inputs" not in broken.stderr and "dask-scratch" not in broken.stderr
    assert not (tmp_path / "broken").exists()  # not even the cache folder made for the workers


def _build_killing_a_worker(cluster: Cluster, args: list, out: Path) -> subprocess.CompletedProcess:
    """Run ``broadsheet ARGS --cluster ADDRESS`` and SIGKILL the first worker (``cluster.workers[0]``, whatever
    process it is) once the first output is written."""
    environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_EPOCH, "PYTHONIOENCODING": "utf-8"}
    build = subprocess.Popen([sys.executable, "-m", "broadsheet", *map(str, args), "-o", str(out), "-q",
                              "--cluster", cluster.address], env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        victim = cluster.workers[0]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and build.poll() is None:
            if out.is_dir() and any(p.suffix in (".epub", ".pdf") for p in out.iterdir()):
                break
            time.sleep(0.02)
        assert build.poll() is None, "the build ended before a worker could be lost"
        assert victim.poll() is None
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        stdout, stderr = build.communicate(timeout=300)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    return subprocess.CompletedProcess(build.args, build.returncode, stdout, stderr)


@pytest.mark.slow
def test_a_worker_lost_half_way_costs_nothing_but_time(cluster, tmp_path):
    cluster.start_scheduler()
    cluster.start_worker()
    cluster.start_worker()
    archive = make_archive(tmp_path, 30)
    people = subscribers(tmp_path / "subscribers.csv", 200)
    local = run_cli("build", archive, "-f", "epub", "-f", "pdf", "-o", tmp_path / "local", "-q", "--no-cache")
    assert local.returncode == 0, local.stderr
    local_digests = run_cli("digest", archive, "--subscribers", people, "-f", "epub", "-o", tmp_path / "local-digests",
                            "-q")
    assert local_digests.returncode == 0, local_digests.stderr
    cluster.wait_for(2)

    built = _build_killing_a_worker(cluster, ["build", archive, "-f", "epub", "-f", "pdf"], tmp_path / "cluster")
    assert built.returncode == 0, built.stderr
    assert_same_build(tmp_path / "local", tmp_path / "cluster")

    cluster.start_worker()  # two workers again, one to lose
    cluster.wait_for(2)
    cluster.workers[0] = cluster.workers.pop(1)  # the survivor of the first build is the one killed now
    digests = _build_killing_a_worker(cluster, ["digest", archive, "--subscribers", people, "-f", "epub"],
                                      tmp_path / "cluster-digests")
    assert digests.returncode == 0, digests.stderr
    assert len([p for p in (tmp_path / "cluster-digests").iterdir() if p.suffix == ".epub"]) == 200
    assert_same_build(tmp_path / "local-digests", tmp_path / "cluster-digests")


def test_an_unreachable_scheduler_is_one_line_and_status_1(tmp_path):
    archive = make_archive(tmp_path, 2)
    (tmp_path / "weekly.toml").write_text(
        f'title = "周刊"\nsources = ["{archive}"]\nformats = ["epub"]\nout = "out"\n'
        f'[cluster]\naddress = "tcp://127.0.0.1:{free_port()}"\ntimeout = 2\n', encoding="utf-8")
    result = run_cli("digest", "--recipe", tmp_path / "weekly.toml", timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:" in result.stderr and "within 2 s" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_source_names_no_running_scheduler_and_no_more_workers_than_cores(tmp_path, caplog):
    """A source folder's own broadsheet.toml may ask for a local cluster, not a running scheduler: the client
    would connect where the source says and unpickle what comes back.  One line, status 1, nothing written,
    no connection made; the address is given with --cluster (or in a recipe) instead."""
    from broadsheet.config import BroadsheetConfig, ClusterConfig, Overrides
    from broadsheet.errors import IngestError
    from broadsheet.limits import cores
    from broadsheet.pipeline import cluster_of

    archive = make_archive(tmp_path, 2)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        listening.setblocking(False)
        (archive / "broadsheet.toml").write_text(
            (archive / "broadsheet.toml").read_text(encoding="utf-8")
            + f'\n[cluster]\naddress = "tcp://127.0.0.1:{listening.getsockname()[1]}"\n', encoding="utf-8")
        result = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "out", timeout=60)
        with pytest.raises(BlockingIOError):
            listening.accept()  # nobody came
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "broadsheet.toml: [cluster] names a running scheduler" in result.stderr and "--cluster tcp://" in result.stderr
    assert not (tmp_path / "out").exists()

    many = BroadsheetConfig(cluster=ClusterConfig(address="local:256", timeout=3))
    with caplog.at_level("WARNING", logger="broadsheet"):
        chosen = cluster_of(Overrides(), [(many, archive / "broadsheet.toml")], sources=True)
    assert chosen == ClusterConfig(address=f"local:{cores()}", timeout=3)
    assert f"asks for 256 workers; this machine has {cores()} cores" in caplog.text
    assert cluster_of(Overrides(), [(many, None)]) == many.cluster  # a recipe's: the user's own choice
    remote = BroadsheetConfig(cluster=ClusterConfig(address="tcp://10.0.0.1:8786"))
    assert cluster_of(Overrides(), [(remote, None)]) == remote.cluster
    with pytest.raises(IngestError):
        cluster_of(Overrides(), [(remote, archive / "broadsheet.toml")], sources=True)
    given = Overrides(cluster=ClusterConfig(address="tcp://10.0.0.1:8786"))
    assert cluster_of(given, [(remote, archive / "broadsheet.toml")], sources=True) == given.cluster


@pytest.mark.parametrize("value", ["bogus", "local:0", "tcp://127.0.0.1", "tcp://127.0.0.1:70000", "udp://h:1"])
def test_a_cluster_address_of_the_wrong_form_is_a_usage_error(tmp_path, value):
    result = run_cli("build", tmp_path, "--cluster", value)
    assert result.returncode == 2
    assert "Invalid value for '--cluster'" in result.stderr


def test_a_wrong_cluster_table_names_its_file(tmp_path):
    archive = make_archive(tmp_path, 1)
    (archive / "broadsheet.toml").write_text('[cluster]\naddress = "nowhere"\n', encoding="utf-8")
    result = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "out")
    assert result.returncode == 1
    assert "broadsheet.toml: cluster.address: expected local, local:N or tcp://HOST:PORT" in result.stderr


@pytest.mark.slow
def test_an_unfit_worker_is_refused_before_any_work(cluster, tmp_path):
    """A worker whose broadsheet is another version (a stale install's metadata first on its path), then a
    worker whose fontconfig finds none of the client's fonts: one line each, status 1, nothing written."""
    stale = tmp_path / "stale"
    (stale / "broadsheet-0.0.1.dist-info").mkdir(parents=True)
    (stale / "broadsheet-0.0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broadsheet\nVersion: 0.0.1\n", encoding="utf-8")
    (stale / "broadsheet-0.0.1.dist-info" / "RECORD").write_text("", encoding="utf-8")
    archive = make_archive(tmp_path, 2)
    cluster.start_scheduler()
    cluster.start_worker(env={"PYTHONPATH": str(stale)})
    cluster.wait_for(1)
    result = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "out", "--cluster", cluster.address)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "broadsheet 0.0.1 is installed there, this client runs" in result.stderr
    assert not (tmp_path / "out").exists()

    os.killpg(cluster.workers[0].pid, signal.SIGKILL)
    cluster.workers[0].wait(timeout=30)
    fonts = tmp_path / "fonts.conf"
    fonts.write_text(f"<?xml version='1.0'?><fontconfig><dir>{tmp_path / 'no-fonts'}</dir>"
                     f"<cachedir>{tmp_path / 'font-cache'}</cachedir></fontconfig>\n", encoding="utf-8")
    cluster.start_worker(env={"FONTCONFIG_FILE": str(fonts)})
    cluster.wait_for(1)
    result = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "out", "--cluster", cluster.address)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "the font Noto" in result.stderr and "is missing" in result.stderr
    assert not (tmp_path / "out").exists()

    # a scheduler lost half-way: one line; what was written is whole
    os.killpg(cluster.workers[1].pid, signal.SIGKILL)
    cluster.workers[1].wait(timeout=30)
    cluster.start_worker()
    cluster.wait_for(1)
    cluster.workers[0] = cluster.scheduler  # the one _build_killing_a_worker kills
    (tmp_path / "more").mkdir()
    lost = _build_killing_a_worker(cluster, ["build", make_archive(tmp_path / "more", 12), "-f", "pdf"],
                                   tmp_path / "lost")
    assert lost.returncode == 1
    assert lost.stderr.count("\n") == 1 and "the dask scheduler was lost" in lost.stderr, lost.stderr
    assert not [p for p in (tmp_path / "lost").iterdir() if p.name.endswith(".part")]
    for pdf in (tmp_path / "lost").glob("*.pdf"):
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF")


def test_paths_move_into_a_worker_folder_and_back_in_its_messages(tmp_path):
    from broadsheet import pipeline
    from broadsheet.cluster import _moved, _named_for_client, _paths
    from broadsheet.errors import RenderError

    archive = make_archive(tmp_path, 5)
    [edition] = pipeline.load([archive])
    base = Path("/scratch/inputs")
    moved = _moved(edition, lambda p: base / Path(p).relative_to("/"))
    paths = [str(p) for p, _ in _paths(moved)]
    assert paths and all(p.startswith(str(base)) for p in paths)
    assert any(p.endswith("p.png") for p in paths)
    assert [i.articles[0].title for i in moved.publication.issues] == [i.articles[0].title
                                                                       for i in edition.publication.issues]
    fault = _named_for_client(RenderError("bad template", base / str(archive).lstrip("/") / "x.html"), base,
                              tmp_path / "task")
    assert fault.path == archive / "x.html" and isinstance(fault, RenderError)


def test_a_recipe_names_its_cluster_and_its_digest_is_made_there(tmp_path):
    """[cluster] of a digest recipe (the subscribers' batches go the same way: see the lost-worker test)."""
    archive = make_archive(tmp_path, 8)
    common = f'title = "周刊"\nsources = ["{archive}"]\nformats = ["epub"]\n'
    (tmp_path / "weekly.toml").write_text(common + 'out = "cluster"\n[cluster]\naddress = "local:1"\n',
                                          encoding="utf-8")
    (tmp_path / "local.toml").write_text(common + 'out = "local"\n', encoding="utf-8")
    for name in ("local.toml", "weekly.toml"):
        made = run_cli("digest", "--recipe", tmp_path / name, "-v")
        assert made.returncode == 0, made.stderr
    assert "cluster local:1: 1 workers" in made.stderr
    assert len(list((tmp_path / "cluster").glob("*.epub"))) == 1
    assert_same_build(tmp_path / "local", tmp_path / "cluster")
    # the worker kept the rendered articles in the digest's own cache, under the names a local build gives them
    entries = {side: sorted(p.name for p in (tmp_path / side / ".broadsheet-cache" / "xhtml").iterdir())
               for side in ("local", "cluster")}
    assert entries["cluster"] and entries["cluster"] == entries["local"]


def test_a_worker_without_broadsheet_is_named(monkeypatch):
    """What ``client.run`` answers for a worker whose Python has no broadsheet becomes one line naming it."""
    from importlib.metadata import PackageNotFoundError

    from broadsheet.cluster import ClusterError, check_versions

    class Client:
        def run(self, function, *args, on_error="raise"):
            assert on_error == "return"
            try:
                return {"tcp://10.0.0.7:4000": function("a-package-that-is-not-installed")}
            except PackageNotFoundError as exc:
                return {"tcp://10.0.0.7:4000": exc}

    with pytest.raises(ClusterError) as caught:
        check_versions(Client())
    assert "worker tcp://10.0.0.7:4000: broadsheet is not installed there" in str(caught.value)


def test_a_task_run_here_makes_the_local_bytes_and_a_worker_keeps_few_inputs(tmp_path, monkeypatch):
    """``make_outputs`` outside Dask: each output the bytes of the local build, the inputs unpacked under the
    worker's scratch folder, the least recently used removed beyond ``KEPT``."""
    import dataclasses

    from broadsheet import cluster, pipeline
    from broadsheet.config import Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    monkeypatch.setattr(cluster, "KEPT", 2)
    monkeypatch.setattr(cluster, "_unpacked", {})
    monkeypatch.setattr(cluster, "_scratch", lambda: tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    archive = make_archive(tmp_path, 6)
    local = pipeline.build([archive], formats=["epub"], out=tmp_path / "local", cache=False)
    outputs = pipeline.plan(pipeline.load([archive]), ["epub"], tmp_path / "x", Overrides())
    for n, output in enumerate(outputs):
        part = dataclasses.replace(output.edition, publication=output.edition.publication.model_copy(
            update={"issues": (output.issue,)}))
        [(files, _)], _ = cluster.make_outputs((f"input-{n}", cluster.shared_inputs([part], [output.settings])),
                                               [(0, 0, "epub", output.target.name)])
        assert files == [(output.target.name, local[n].read_bytes())]
    assert list(cluster._unpacked) == ["input-4", "input-5"]
    assert sorted(p.name for p in (tmp_path / "scratch" / "broadsheet-inputs").iterdir()) == ["input-4", "input-5"]


def test_a_task_of_several_outputs_makes_each_ones_bytes(tmp_path, monkeypatch):
    """``make_outputs``: the outputs of one shared input made in one task, each the bytes of the local build and
    each with its own manifest's rendering; its private folders are gone after."""
    import dataclasses

    from broadsheet import cluster, manifest, pipeline
    from broadsheet.config import Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    monkeypatch.setattr(cluster, "_unpacked", {})
    monkeypatch.setattr(cluster, "_scratch", lambda: tmp_path / "scratch")
    monkeypatch.setattr(cluster, "MEMORY_FOLDER", tmp_path / "memory")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "memory").mkdir()
    archive = make_archive(tmp_path, 4)
    local = pipeline.build([archive], formats=["epub"], out=tmp_path / "local", cache=False)
    outputs = pipeline.plan(pipeline.load([archive]), ["epub"], tmp_path / "x", Overrides())
    edition = outputs[0].edition
    assert all(o.edition is edition for o in outputs) and len(outputs) == 4
    made, _ = cluster.make_outputs(("several", cluster.shared_inputs([edition], [outputs[0].settings])),
                                   [(0, n, "epub", o.target.name) for n, o in enumerate(outputs)])
    assert [files for files, _ in made] == [[(o.target.name, local[n].read_bytes())] for n, o in enumerate(outputs)]
    for output, (_, rendering) in zip(outputs, made):
        record = manifest.record(cluster._manifested(rendering, output, output.issue), [output.target],
                                 output.target.stem)
        assert record["issued"] == output.issue.date.isoformat() and record["cover"]["file"] == output.target.name
    assert list((tmp_path / "memory").iterdir()) == []


def test_task_folders_left_by_a_killed_worker_are_removed(tmp_path, monkeypatch):
    from broadsheet import cluster

    monkeypatch.setattr(cluster, "MEMORY_FOLDER", tmp_path)
    monkeypatch.setattr(cluster, "_swept", False)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / f"broadsheet-task-{dead.stdout.strip()}-abc123"
    (left / "0").mkdir(parents=True)
    (left / "0" / "half.epub").write_bytes(b"PK")
    mine = tmp_path / f"broadsheet-task-{os.getpid()}-def456"
    mine.mkdir()
    assert cluster._task_root() == tmp_path
    assert not left.exists() and mine.exists()


@pytest.mark.slow
def test_a_local_cluster_after_another_starts_its_workers_without_the_trim_threshold(monkeypatch):
    """A nanny leaves MALLOC_TRIM_THRESHOLD_ in this process's environment; the workers of a later local
    cluster are started without it (it makes their pictures and covers far slower), and it is put back."""
    import logging

    import distributed

    from broadsheet import cluster
    from broadsheet.config import ClusterConfig

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None,
                                  silence_logs=logging.CRITICAL):
        pass
    left = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with cluster.session(ClusterConfig(address="local:1")) as client:
        found = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
    assert list(found.values()) == [None]
    assert os.environ.get("MALLOC_TRIM_THRESHOLD_") == left


def test_a_facsimile_edition_travels_whole_its_source_folder_gone(tmp_path, monkeypatch):
    """The page pictures and the page PDF go with the shared inputs: a worker without the source folder makes
    the local build's bytes (the folder is moved away once the inputs are packed)."""
    import dataclasses
    import shutil

    from broadsheet import cluster, pipeline
    from broadsheet.config import Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    monkeypatch.setattr(cluster, "_unpacked", {})
    monkeypatch.setattr(cluster, "_scratch", lambda: tmp_path / "scratch")
    (tmp_path / "scratch").mkdir()
    site = tmp_path / "site"
    shutil.copytree(Path(__file__).parent / "fixtures" / "epaper" / "founder-facsimile", site)
    local = pipeline.build([site], formats=["epub", "pdf"], out=tmp_path / "local", cache=False)
    outputs = pipeline.plan(pipeline.load([site]), ["epub", "pdf"], tmp_path / "x", Overrides())
    assert any(s.facsimile is not None and s.facsimile.pdf is not None
               for o in outputs for s in o.issue.sections), "the fixture has a page PDF"
    shared = [cluster.shared_inputs([dataclasses.replace(o.edition, publication=o.edition.publication.model_copy(
        update={"issues": (o.issue,)}))], [o.settings]) for o in outputs]
    site.rename(tmp_path / "gone")
    for n, (output, inputs) in enumerate(zip(outputs, shared)):
        [(files, _)], _ = cluster.make_outputs((f"facsimile-{n}", inputs),
                                               [(0, 0, output.backend.suffix.lstrip("."), output.target.name)])
        assert files == [(output.target.name, next(p for p in local if p.name == output.target.name).read_bytes())]


def test_a_task_folder_in_memory_only_where_there_is_room(tmp_path, monkeypatch):
    from broadsheet import cluster

    monkeypatch.setattr(cluster, "_scratch", lambda: tmp_path / "scratch")
    monkeypatch.setattr(cluster, "MEMORY_FOLDER", tmp_path / "memory")
    (tmp_path / "memory").mkdir()
    monkeypatch.setattr(cluster, "MEMORY_FOLDER_FREE", 1)
    assert cluster._task_root() == tmp_path / "memory"
    monkeypatch.setattr(cluster, "MEMORY_FOLDER_FREE", 1 << 62)  # more than any disk: a small /dev/shm
    assert cluster._task_root() == tmp_path / "scratch"


def test_page_views_alone_on_a_cluster_as_here(tmp_path):
    """``--facsimile only`` reaches the workers: the EPUB of page views alone is the local build's."""
    site = Path(__file__).parent / "fixtures" / "epaper" / "founder-facsimile"
    local = run_cli("build", site, "-f", "epub", "-o", tmp_path / "local", "-q", "--no-cache", "--facsimile", "only")
    pages = run_cli("build", site, "-f", "epub", "-o", tmp_path / "pages", "-q", "--no-cache")
    on_cluster = run_cli("build", site, "-f", "epub", "-o", tmp_path / "cluster", "-q", "--facsimile", "only",
                         "--cluster", "local:1")
    assert local.returncode == pages.returncode == on_cluster.returncode == 0, on_cluster.stderr
    [only] = (tmp_path / "local").glob("*.epub")
    assert only.read_bytes() != (tmp_path / "pages" / only.name).read_bytes()  # "only" is another book
    assert_same_build(tmp_path / "local", tmp_path / "cluster")


def test_a_task_run_outside_a_worker_leaves_no_scratch_folder(tmp_path):
    """A task called in a plain process (not a Dask worker) unpacks into a folder of the temporary folder; it
    is removed when that process ends, as Dask removes a worker's own."""
    code = ("from broadsheet import cluster\n"
            "folder = cluster._scratch()\n"
            "(folder / 'inputs').mkdir()\n"
            "(folder / 'inputs' / 'picture.jpg').write_bytes(b'x')\n"
            "print(folder)\n")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path and folder.name.startswith("broadsheet-worker-")
    assert not folder.exists()


@pytest.mark.slow
def test_a_local_cluster_shares_the_build_s_cache_and_a_rebuild_lays_out_only_what_changed(tmp_path):
    """The workers of a local cluster find the build's own cache folder (the very folder, by its identity) and
    keep their laid-out parts and rendered articles there, as a local build does: a rebuild after an edit lays
    out only the part that changed, and the files are the bytes of a build without a cache."""
    from test_parallel_and_cache import write_edition

    source = write_edition(tmp_path)
    out = tmp_path / "out"
    first = run_cli("build", source, "-f", "pdf", "-f", "epub", "-o", out, "--cluster", "local:2", "-v")
    assert first.returncode == 0, first.stderr
    cached = out / ".broadsheet-cache"
    assert list((cached / "pdf").iterdir()) and list((cached / "xhtml").iterdir())
    assert "from the cache" not in first.stderr
    article = sorted(source.rglob("a0*.md"))[1]
    article.write_text(article.read_text(encoding="utf-8").replace("取得新进展", "取得重大进展", 1), encoding="utf-8")
    again = run_cli("build", source, "-f", "pdf", "-f", "epub", "-o", out, "--cluster", "local:2", "-v")
    assert again.returncode == 0, again.stderr
    found = re.search(r"(\d+) of (\d+) parts laid out .*the rest from the cache", again.stderr)
    assert found and int(found.group(1)) < int(found.group(2)), again.stderr
    plain = run_cli("build", source, "-f", "pdf", "-f", "epub", "-o", tmp_path / "plain", "--no-cache")
    assert plain.returncode == 0, plain.stderr
    assert_same_build(tmp_path / "plain", out)
    bare = run_cli("build", source, "-f", "epub", "-o", tmp_path / "bare", "--cluster", "local:2", "--no-cache")
    assert bare.returncode == 0 and not (tmp_path / "bare" / ".broadsheet-cache").exists()


def test_the_fonts_a_worker_must_have_are_those_the_stylesheets_name():
    """Each language's body font in styles/cjk.css is among the fonts a worker is checked for."""
    from broadsheet.cluster import font_families, installed_families

    css = (Path(__file__).resolve().parents[1] / "styles" / "cjk.css").read_text(encoding="utf-8")
    rules = re.findall(r"^((?::lang\([\w-]+\),?\s*)+)\{\s*font-family:\s*\"(Noto Serif CJK \w+)\"", css, re.M)
    assert len(rules) >= 5
    for selectors, family in rules:
        for language in re.findall(r":lang\(([\w-]+)\)", selectors):
            assert family in font_families([language]), (language, family)
    assert font_families(["en", "fr"]) == ["Noto Serif", "Noto Sans"] and font_families([]) == []
    # what this machine has, as fontconfig lists it (fonts-noto-core and fonts-noto-cjk are installed here)
    assert installed_families(font_families(["zh-CN"]) + ["No Such Family"]) == set(font_families(["zh-CN"]))


def test_a_cache_folder_that_cannot_be_used_is_a_warning_and_no_cache(tmp_path, caplog):
    from broadsheet import cluster

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".broadsheet-cache").write_text("not a folder", encoding="utf-8")
    assert cluster._cache_for_workers(tmp_path / "out" / ".broadsheet-cache") is None
    assert "not cached (the cache folder cannot be written: a file stands where a folder must be)" in caplog.text
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / ".broadsheet-cache").symlink_to(tmp_path / "elsewhere")
    assert cluster._cache_for_workers(tmp_path / "linked" / ".broadsheet-cache") is None  # never through a link
    made = cluster._cache_for_workers(tmp_path / "new" / ".broadsheet-cache")
    info = (tmp_path / "new" / ".broadsheet-cache").stat()
    assert made == (str(tmp_path / "new" / ".broadsheet-cache"), info.st_dev, info.st_ino)
    assert cluster._worker_cache(made) == tmp_path / "new" / ".broadsheet-cache"  # the very folder: shared
    moved = (str(tmp_path / "elsewhere"), info.st_dev, info.st_ino)  # another folder at the path: the worker's own
    assert cluster._worker_cache(moved) != tmp_path / "elsewhere"


def _faults(skipped) -> list[str]:
    return [str(fault) for fault in skipped]


def test_the_workers_read_the_sources_as_this_process_would(tmp_path):
    """On a cluster whose workers find the sources, the issue folders are read there: the same model, under the
    client's limits, the same faults skipped in the same order, the same first fault raised."""
    import dataclasses

    from distributed import get_task_stream

    from broadsheet import limits, pipeline
    from broadsheet.cluster import connected, reading_on
    from broadsheet.config import ClusterConfig
    from broadsheet.errors import IngestError
    from broadsheet.ingest import keep_going

    archive = make_archive(tmp_path, 12)
    for day in ("2024-05-04", "2024-05-10"):
        (archive / day / "zz.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")
    here = {}
    with keep_going() as skipped:
        here["model"] = pipeline.load([archive])[0].publication
    here["skipped"] = _faults(skipped)
    with pytest.raises(IngestError) as first:
        pipeline.load([archive])
    here["first"] = str(first.value)
    before = limits.current()
    try:
        limits.use(dataclasses.replace(before, source_bytes=200))
        with pytest.raises(IngestError) as bounded:
            pipeline.load([archive])
        here["bounded"] = str(bounded.value)
    finally:
        limits.use(before)
    assert len(here["skipped"]) == 2 and "more than the limit of 200" in here["bounded"]

    with connected(ClusterConfig(address="local:2")) as client:
        with get_task_stream(client) as stream, reading_on(client, [archive]):
            with keep_going() as skipped:
                model = pipeline.load([archive])[0].publication
            with pytest.raises(IngestError) as first:
                pipeline.load([archive])
            try:
                limits.use(dataclasses.replace(before, source_bytes=200))  # the workers' own limits are 64 MB
                with pytest.raises(IngestError) as bounded:
                    pipeline.load([archive])
            finally:
                limits.use(before)
    assert [t for t in stream.data if t["key"].startswith("broadsheet-read-")]  # read by the workers
    assert model == here["model"]
    assert _faults(skipped) == here["skipped"]
    assert str(first.value) == here["first"]
    assert str(bounded.value) == here["bounded"]


def test_workers_that_do_not_find_the_sources_leave_the_reading_here(tmp_path):
    from broadsheet import ingest
    from broadsheet.cluster import _identities, reading_on

    archive = make_archive(tmp_path, 2)

    class Client:
        def __init__(self, answer):
            self.answer, self.sent = answer, []

        def run(self, function, *args, **kwargs):
            if function is not _identities:  # the warm-up, sent without waiting for an answer
                self.sent.append((function.__name__, args, kwargs))
                return None
            return {"tcp://127.0.0.1:1": self.answer(*args)}

    here = Client(_identities)
    with reading_on(here, [archive], ["epub"]):
        assert ingest._READER.get() is not None  # the same machine, the same folders
    assert here.sent == [("_warm_up", (("epub",), True), {"wait": False})]  # the readers imported there first
    elsewhere = [lambda paths: ("another machine", _identities(paths)[1]),
                 lambda paths: (_identities(paths)[0], [None, *(_identities(paths)[1][1:])]),  # another working folder
                 lambda paths: (_identities(paths)[0], _identities(paths)[1][:1] + [(0, 0)])]  # not that folder
    for answer in elsewhere:
        client = Client(answer)
        with reading_on(client, [archive], ["epub"]):
            assert ingest._READER.get() is None
        assert client.sent == []


def _modules() -> list[str]:
    return sorted(sys.modules)


def test_workers_that_will_read_import_every_reader_before_their_first_piece_of_reading(tmp_path):
    """The readers are imported while this process lists the sources, not by each worker's first read task."""
    from broadsheet.cluster import connected, reading_on
    from broadsheet.config import ClusterConfig
    from broadsheet.ingest import INGESTERS

    archive = make_archive(tmp_path, 2)
    readers = {f"broadsheet.ingest.{module}" for module in INGESTERS.values()}
    with connected(ClusterConfig(address="local:2")) as client:
        assert all(readers - set(names) for names in client.run(_modules).values())  # not yet
        wanted = readers | {"broadsheet.backends.epub.backend"}  # and the renderer after them
        with reading_on(client, [archive], ["epub"]):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if not any(wanted - set(names) for names in client.run(_modules).values()):
                    break
                time.sleep(0.1)
            missing = {worker: sorted(wanted - set(names)) for worker, names in client.run(_modules).items()}
            assert not any(missing.values()), missing


def test_tasks_of_small_outputs_grow_smaller_towards_the_end_and_keep_to_their_articles():
    """Small EPUBs a few to a task (one round trip for several), fewer as the build ends, so that the
    workers finish together; a day's paper of many articles alone; a PDF alone."""
    import types

    from broadsheet.cluster import UNITS, _span, _tasks, _units

    assert _units(200, 2) == UNITS == 16  # an archive: a few round trips for many outputs
    assert _units(20, 2) == 10 and _units(3, 2) == 1  # a task for each worker left at least
    assert _units(1000, 100) == 10  # a large cluster: smaller tasks, every worker given some

    def outputs(articles: list[int], fmt: str = "epub"):
        issues = [types.SimpleNamespace(sections=[types.SimpleNamespace(articles=[None] * n)]) for n in articles]
        edition = types.SimpleNamespace(publication=types.SimpleNamespace(issues=issues))
        made = [types.SimpleNamespace(edition=edition, issue=issue, backend=types.SimpleNamespace(name=fmt))
                for issue in issues]
        return made, {id(edition): 0}, {id(issue): n for n, issue in enumerate(issues)}

    made, number, issue_number = outputs([3] * 100)
    tasks = _tasks(made, number, issue_number, 2)
    assert [len(t) for t in tasks] == [16, 16, 16, 16, 16, 10, 5, 2, 1, 1, 1]  # the last of one output
    assert sum(tasks, []) == list(range(100))
    made, number, issue_number = outputs([100, 30, 30, 10, 50])  # a day's paper alone; 64 articles at most
    assert _tasks(made, number, issue_number, 1) == [[0], [1, 2], [3, 4]]
    made, number, issue_number = outputs([3] * 4, "pdf")
    assert _tasks(made, number, issue_number, 1) == [[0], [1], [2], [3]]
    # the issues each task's shared input holds: a few small outputs, their own; a PDF, the CHUNK around it
    made, number, issue_number = outputs([3] * 20)
    assert _span([3, 4, 5], made, number, issue_number) == (0, 3, 6)
    made, number, issue_number = outputs([3] * 20, "pdf")
    assert _span([9], made, number, issue_number) == (0, 8, 16)
    assert _span([17], made, number, issue_number) == (0, 16, 20)


def test_tasks_of_several_issues_make_the_local_files_and_manifests(tmp_path, monkeypatch):
    """EPUBs a few to a task, each task's issues shared as one input and set in their language by the worker
    (not by this process, which feeds them all): the files and manifests of the local build.
    Each edition's manifest follows its own file, not the build's last: the workers are not left idle while
    the manifests are written at the end."""
    from distributed import get_task_stream

    from broadsheet import cluster, pipeline
    from broadsheet.cluster import connected
    from broadsheet.config import ClusterConfig, Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    archive = make_archive(tmp_path, 12)
    pipeline.build([archive], formats=["epub"], out=tmp_path / "local", cache=False)
    monkeypatch.setattr(cluster, "_units", lambda left, workers: 5)  # 12 issues: tasks of 5, 5 and 2
    out = tmp_path / "cluster"
    seen: list[tuple[str, bool, int]] = []  # each manifest: its edition, its EPUB there, how many EPUBs are
    write_manifests = pipeline._write_manifests

    def manifests_written(editions, folder, kind):
        for stem in editions:
            seen.append((stem.name, (out / f"{stem.name}.epub").is_file(), len(list(out.glob("*.epub")))))
        return write_manifests(editions, folder, kind)

    monkeypatch.setattr(pipeline, "_write_manifests", manifests_written)
    set_here: list[str] = []  # the text is set in its language by the workers, not by this process
    typeset = pipeline.typeset_edition

    def typeset_here(edition, settings):
        set_here.append(edition.publication.id)
        return typeset(edition, settings)

    monkeypatch.setattr(pipeline, "typeset_edition", typeset_here)
    with connected(ClusterConfig(address="local:2")) as client, get_task_stream(client) as stream:
        pipeline.build([archive], formats=["epub"], out=out, cache=False,
                       overrides=Overrides(cluster=ClusterConfig(address=client.scheduler.address)))
    assert set_here == []
    assert len([t for t in stream.data if t["key"].startswith("broadsheet-output-")]) == 3
    assert len(list(out.glob("*.epub"))) == 12
    assert len(seen) == len({name for name, _, _ in seen}) == 12
    assert all(there for _, there, _ in seen)  # each after its edition's file
    assert seen[0][2] < 12  # the first before the build's last file
    assert_same_build(tmp_path / "local", out)


def _papers(root: Path) -> Path:
    """An archive of two publication folders of four issues each: in the first a damaged source (a fault
    found when it is read), in the second a linked issue folder (a fault found when its folders are listed)."""
    papers = root / "papers"
    papers.mkdir()
    for name in ("first", "second"):
        (root / name).mkdir()
        make_archive(root / name, 4).rename(papers / name)
    (papers / "second" / "broadsheet.toml").write_text(
        '[publication]\ntitle = "东城晚报"\nlanguage = "zh-CN"\nid = "dcwb"\n', encoding="utf-8")
    (papers / "first" / "2024-05-03" / "zz.txt").write_text("第15版:理论 上一版3  4下一版\n", encoding="utf-8")
    (root / "outside").mkdir()
    (papers / "second" / "2024-05-09").symlink_to(root / "outside")
    return papers


def _read(papers: Path, caplog) -> dict:
    from broadsheet import pipeline
    from broadsheet.errors import IngestError
    from broadsheet.ingest import keep_going

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="broadsheet"), keep_going() as skipped:
        model = [edition.publication for edition in pipeline.load([papers])]
    told = [record.getMessage() for record in caplog.records if not record.getMessage().startswith("cluster ")]
    with pytest.raises(IngestError) as first:
        pipeline.load([papers])
    return {"model": model, "skipped": _faults(skipped), "told": told, "first": str(first.value)}


def test_the_publications_of_an_archive_are_begun_ahead_and_told_in_turn(tmp_path, caplog):
    """Every publication folder of an archive is handed to the reader before the first is taken in, so that the
    workers read the second while the client takes in the first; what each logs and each fault, found when
    its folders are listed or when they are read, are still told in the publications' order."""
    from broadsheet import pipeline
    from broadsheet.cluster import connected, reading_on
    from broadsheet.config import ClusterConfig
    from broadsheet.errors import BroadsheetError
    from broadsheet.ingest import keep_going, read_with

    papers = _papers(tmp_path)
    here = _read(papers, caplog)
    assert [fault.split(": ")[0] for fault in here["skipped"]] == [
        str(papers / "first" / "2024-05-03" / "zz.txt"), str(papers / "second" / "2024-05-09")]
    skips = [text for text in here["told"] if text.endswith("(skipped)")]
    assert [text.removesuffix(" (skipped)") for text in skips] == here["skipped"]
    assert here["first"].startswith(str(papers / "first" / "2024-05-03" / "zz.txt"))
    assert len(here["model"]) == 2

    events = []

    def reader(function, arguments):
        events.append("handed")

        def results():
            for args in arguments:
                events.append("taken")
                yield function(*args)

        return results()

    with read_with(reader):
        assert _read(papers, caplog) == here
    assert events[:2] == ["handed", "handed"] and events[2:4] == ["taken", "taken"]
    # two sources on the command line alike: both handed out first, read as one after the other
    sources = [papers / "first", papers / "second"]
    with keep_going():
        serial = [edition.publication for edition in pipeline.load(sources[:1]) + pipeline.load(sources[1:])]
    events.clear()
    with read_with(reader), keep_going() as skipped:
        assert [edition.publication for edition in pipeline.load(sources)] == serial
    assert events[:2] == ["handed", "handed"] and _faults(skipped) == here["skipped"]

    with connected(ClusterConfig(address="local:2")) as client, reading_on(client, [papers]):
        assert _read(papers, caplog) == here

    # a fault of another kind found in a later publication (its broadsheet.toml) waits for its turn too
    (papers / "second" / "broadsheet.toml").write_text("[publication\n", encoding="utf-8")
    with pytest.raises(BroadsheetError) as first, read_with(reader):
        pipeline.load([papers])
    assert str(first.value).startswith(str(papers / "first" / "2024-05-03" / "zz.txt"))
    with keep_going(), pytest.raises(BroadsheetError) as later, read_with(reader):
        pipeline.load([papers])
    assert "broadsheet.toml" in str(later.value)


def test_the_tasks_of_one_build_check_its_stylesheets_once_in_a_worker(tmp_path, monkeypatch):
    """Each task of a few small outputs has an input of its own (its issues); the tasks of one build still read
    and check the theme's stylesheets once in a worker, and another build checks them again."""
    import dataclasses

    from broadsheet import cluster, pipeline, render
    from broadsheet.config import Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    monkeypatch.setattr(cluster, "_unpacked", {})
    monkeypatch.setattr(cluster, "_memos", {})
    monkeypatch.setattr(cluster, "_scratch", lambda: tmp_path / "scratch")
    monkeypatch.setattr(cluster, "MEMORY_FOLDER", tmp_path / "memory")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "memory").mkdir()
    outputs = pipeline.plan(pipeline.load([make_archive(tmp_path, 6)]), ["epub"], tmp_path / "x", Overrides())
    edition, settings = outputs[0].edition, outputs[0].settings
    checked = []
    real = render.check_stylesheet
    monkeypatch.setattr(render, "check_stylesheet", lambda css, path: (checked.append(path), real(css, path))[1])

    def task(n: int, build: str) -> None:
        part = dataclasses.replace(edition, publication=edition.publication.model_copy(
            update={"issues": edition.publication.issues[2 * n:2 * n + 2]}))
        made, _ = cluster.make_outputs((f"part-{n}", cluster.shared_inputs([part], [settings])),
                                       [(0, 0, "epub", f"{n}.epub"), (0, 1, "epub", f"{n}b.epub")], None, build)
        assert len(made) == 2

    task(0, "build-1")
    once = len(checked)
    task(1, "build-1")
    assert once > 0 and len(checked) == once
    task(2, "build-2")
    assert len(checked) == 2 * once and list(cluster._memos) == ["build-1", "build-2"]


@pytest.mark.slow
def test_a_worker_moves_what_it_holds_out_of_the_collector_s_reach_after_its_first_task(tmp_path):
    """After its first task a worker collects and freezes what it holds (the libraries, the templates, the inputs
    kept), once: the files are those of a local build, and later tasks freeze nothing more."""
    from broadsheet import cluster
    from broadsheet.config import ClusterConfig

    archive = make_archive(tmp_path, 3)
    local = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "local", "-q", "--no-cache")
    assert local.returncode == 0, local.stderr
    def state() -> tuple[int, int, bool]:
        import gc
        import sys

        return os.getpid(), gc.get_freeze_count(), sys.modules["broadsheet.cluster"]._settled

    with cluster.session(ClusterConfig(address="local:1")) as client:
        address = client.scheduler.address
        ((pid, frozen, settled),) = client.run(state).values()
        assert frozen == 0 and not settled
        first = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "first", "-q", "--no-cache",
                        "--cluster", address)
        assert first.returncode == 0, first.stderr
        ((pid_first, frozen, settled),) = client.run(state).values()
        second = run_cli("build", archive, "-f", "epub", "-o", tmp_path / "second", "-q", "--no-cache",
                         "--cluster", address)
        assert second.returncode == 0, second.stderr
        ((pid_second, frozen_second, _),) = client.run(state).values()
    assert pid_first == pid and settled and frozen > 50_000
    if pid_second == pid:  # the same worker: nothing more frozen (what was may have been freed since)
        assert frozen_second <= frozen
    assert_same_build(tmp_path / "local", tmp_path / "first")
    assert_same_build(tmp_path / "local", tmp_path / "second")


def _client_writes(monkeypatch) -> list[str]:
    """The files the client writes itself from now on (their names relative to the output folder), as written."""
    from broadsheet import cluster

    sent: list[str] = []
    write_file = cluster._write_file

    def written_here(out, relative, data, written):
        if data is not None:  # None: a worker wrote it there
            sent.append(relative)
        return write_file(out, relative, data, written)

    monkeypatch.setattr(cluster, "_write_file", written_here)
    return sent


def _leave_a_temporary_and_die(blob, units, cache=None, build=None, out=None, typeset=None):
    """In a worker: what a worker killed while it wrote its first output leaves in the output folder (a
    temporary named after the build), and the worker gone."""
    (Path(out[0]) / f".{units[0][3]}.{build}.0badc0de.part").write_bytes(b"half an EPUB")
    os._exit(1)


def _to_die_on_its_first_output() -> None:
    from broadsheet import cluster

    cluster.make_outputs = _leave_a_temporary_and_die


def test_workers_that_find_the_output_folder_write_the_epubs_there_and_a_killed_one_leaves_nothing(
        tmp_path, monkeypatch):
    """On the client's machine the workers write the EPUBs into the output folder themselves (the client
    receives no bytes and writes none of them); a worker killed half-way through a write leaves a temporary,
    which the build removes once it is over; the files are the local build's."""
    from broadsheet import cluster, pipeline
    from broadsheet.cluster import connected
    from broadsheet.config import ClusterConfig, Overrides

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    archive = make_archive(tmp_path, 12)
    pipeline.build([archive], formats=["epub"], out=tmp_path / "local", cache=False)
    sent = _client_writes(monkeypatch)
    out = tmp_path / "cluster"
    with connected(ClusterConfig(address="local:2")) as client:
        on = Overrides(cluster=ClusterConfig(address=client.scheduler.address))
        pipeline.build([archive], formats=["epub"], out=out, cache=False, overrides=on)
        assert sent == []  # every EPUB written by a worker
        assert_same_build(tmp_path / "local", out)
        for path in out.glob("*.epub"):
            path.unlink()
        doomed = next(iter(client.scheduler_info()["workers"]))
        client.run(_to_die_on_its_first_output, workers=[doomed])
        pipeline.build([archive], formats=["epub"], out=out, cache=False, overrides=on)
        assert doomed not in client.scheduler_info()["workers"]  # it died in its first task (and was replaced)
    assert sent == []
    assert_same_build(tmp_path / "local", out)  # the temporary the killed worker left is gone too


def test_a_subscriber_batch_is_written_by_the_workers_that_find_the_output_folder(tmp_path, monkeypatch):
    """The subscribers' digests and their manifests are written into the output folder by the workers on this
    machine (the client writes none of them): the files of the local batch."""
    from broadsheet import cluster, pipeline
    from broadsheet.config import ClusterConfig, Overrides
    from broadsheet.digest import DigestSpec
    from broadsheet.recipe import load_subscribers

    monkeypatch.setenv("SOURCE_DATE_EPOCH", FIXED_EPOCH)
    archive = make_archive(tmp_path, 6)
    people = load_subscribers(subscribers(tmp_path / "people.csv", 12))
    pipeline.build_digest([archive], DigestSpec(), formats=["epub"], out=tmp_path / "local", subscribers=people)
    sent = _client_writes(monkeypatch)
    written: dict[str, list[Path]] = {}
    paths, _ = pipeline.build_digest([archive], DigestSpec(), formats=["epub"], out=tmp_path / "cluster",
                                     subscribers=people, written=written,
                                     overrides=Overrides(cluster=ClusterConfig(address="local:2")))
    assert sent == []
    assert len(written) == 12 and sorted(paths) == sorted(p for files in written.values() for p in files)
    assert all(path.is_file() and path.parent == tmp_path / "cluster" for path in paths)
    assert_same_build(tmp_path / "local", tmp_path / "cluster")


def test_a_worker_that_does_not_find_the_output_folder_sends_the_bytes(tmp_path):
    from broadsheet.cluster import _out_for_workers, _worker_out

    out = tmp_path / "new" / "out"
    told = _out_for_workers(out)
    assert out.is_dir() and told is not None and _worker_out(told) == out
    path, device, inode = told
    assert _worker_out(None) is None
    assert _worker_out((path, device, inode + 1)) is None  # another folder by that name (another machine)
    assert _worker_out((str(tmp_path / "elsewhere"), device, inode)) is None
    (tmp_path / "file").write_text("x")
    assert _out_for_workers(tmp_path / "file" / "out") is None  # cannot be made: the client's writes say why


def test_the_sweep_removes_what_this_build_s_writers_left_and_nothing_else(tmp_path):
    from broadsheet.output import atomic_path, sweep, temporaries_tagged

    token = "4242-0a1b2c3d"
    with temporaries_tagged(token), atomic_path(tmp_path / "a.epub") as temporary:
        assert temporary.name.startswith(f".a.epub.{token}.") and temporary.name.endswith(".part")
    left = [tmp_path / f".a.epub.{token}.0badc0de.part", tmp_path / f".b.2024.epub.{token}.12345678.part"]
    kept = [tmp_path / ".a.epub.4243-0a1b2c3d.0badc0de.part",  # another build's
            tmp_path / f".c.epub.{token}.0badc0de.part",  # not one of the names given
            tmp_path / f".a.epub.{token}.0badc0de.part.keep", tmp_path / "a.epub", tmp_path / "notes.txt"]
    for path in left + kept:
        path.write_bytes(b"x")
    (tmp_path / f".b.2024.epub.{token}.feedface.part").mkdir()  # never a folder
    assert sorted(sweep(tmp_path, ["a.epub", "b.2024.epub"], token)) == sorted(left)
    assert all(path.exists() for path in kept) and (tmp_path / f".b.2024.epub.{token}.feedface.part").is_dir()
    with pytest.raises(ValueError):
        sweep(tmp_path, ["a.epub"], "../x")
    # the names not known ahead (a subscriber's digest): whatever this build's writers left
    (tmp_path / f".s0001-digest.epub.{token}.0badc0de.part").write_bytes(b"x")
    removed = sweep(tmp_path, None, token)
    assert sorted(path.name for path in removed) == [f".c.epub.{token}.0badc0de.part",
                                                     f".s0001-digest.epub.{token}.0badc0de.part"]
    assert sorted(path.name for path in tmp_path.iterdir() if token in path.name) == [
        f".a.epub.{token}.0badc0de.part.keep", f".b.2024.epub.{token}.feedface.part"]  # not ours, and a folder
