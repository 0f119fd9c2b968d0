"""``--cluster``: build an archive's outputs, or a batch of subscribers' digests, on a Dask cluster.

``local[:N]`` starts a Dask ``LocalCluster`` of N worker processes (one per core by default), one thread
each; ``tcp://HOST:PORT`` joins a running ``dask scheduler`` and its workers.  Dask is imported only here,
and only when a build asks for a cluster (``pip install broadsheet[cluster]``).

The sources are read by the workers, a few issue folders to a task (:func:`reading_on`), when every worker
runs on the client's machine and finds the working folder and the sources where the client does; else by the
client (this process), as a local build reads them.  The client plans every output (``pipeline.plan``), as a
local build does; the workers set each task's issues in their language.  What a task's outputs read —
their issues' model (converted; the workers set it in its language), the settings and theme, and the files the workers must read (the
pictures, the theme's own folder) — is pickled once: up to :data:`GIVEN_BYTES` it goes with the task
(:func:`_given`), else it is handed to the scheduler as one task of its own (:func:`_shared`) that each
worker fetches once (from a peer, or runs again if the worker that held it is lost, which a ``scatter`` could
not do).  A worker keeps it, with the pictures and theme files written into its scratch folder and the model's
paths moved there (:func:`_moved`).  A worker thus needs no file system in common with the client.

A task makes a few outputs of one shared input (up to :data:`UNITS` small EPUBs of neighbouring issues, a PDF
alone, :func:`_tasks`; a few subscribers' digests at a time for ``digest --subscribers``), each still a unit of
its own in the results, the progress and the faults: it renders and packs (or lays out, its PDF layout in one process: the
worker's thread is its share of the machine) into a private temporary folder (in memory where the worker has
it, :data:`MEMORY_FOLDER`) and returns the files' bytes.  The client writes
each file atomically (``output.py``) as its task finishes, in any order, and an edition's manifest once all
its outputs are written, so an output folder holds only whole files.  A worker on the client's machine that
finds the output folder itself (:func:`_out_for_workers`) writes the small outputs (and the subscribers'
digests) there instead, atomically, their temporaries named after the build (``output.temporaries_tagged``),
and returns their names: what a worker killed half-way through a write left is removed once the build is over
(``output.sweep``).  Tasks are pure: the same inputs give the same bytes
(``SOURCE_DATE_EPOCH`` is the client's), so a task whose worker is lost mid-way is simply run again
elsewhere (the scheduler's ``allowed-failures``); a fault of the input (a template error) fails its task,
which is not retried, and stops the build with one line.

Before any work is sent, every worker is checked: broadsheet installed there, in the client's version
(:func:`check_versions`), and, before the first build task, the fonts the editions need present (fontconfig,
:func:`check_fonts`).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import logging
import os
import pickle
import shutil
import stat
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .errors import BroadsheetError
from .version import __version__

if TYPE_CHECKING:
    from .config import ClusterConfig


@dataclasses.dataclass(frozen=True)
class Steps:
    """What the pipeline lends this module (which never imports it): ``plan(editions, formats, out, overrides,
    stem=, typeset=)``, ``typeset(edition, settings)`` (a few of a planned edition's issues set in their
    language), ``write_manifests(editions, out, kind)``, ``written(write, out)`` (a write whose fault names the
    output folder) and ``subscriber_digest`` (one subscriber's digest, run in the workers)."""

    plan: Callable
    typeset: Callable
    write_manifests: Callable
    written: Callable
    subscriber_digest: Callable

log = logging.getLogger("broadsheet")

#: Seconds to wait for the scheduler (and for its first worker) when none is configured.
CONNECT_SECONDS = 10.0
#: The most subscribers one digest task makes.
BATCH = 20
#: Shared inputs a worker keeps unpacked (with their files, memos and rendered articles), the latest used.
KEPT = 64
#: Issues of an edition shared as one input by their PDFs (its model and pictures): what a worker fetches for one
#: of them.  A task of a few small outputs has an input of its own, its issues.
CHUNK = 8
#: The most outputs one archive task makes, when they are small (:data:`SMALL`): an EPUB of a small issue takes
#: 10–30 ms, and each task costs the client, the scheduler and a worker about 5 ms of processor time (its round
#: trip, its shared inputs unpacked), paid here once for a few; a PDF (its layout 0.3 s and more) is a task of
#: its own.  Fewer outputs to a task towards the end of a build (:func:`_units`).
#: Each output stays a unit of its own in the results, the progress and the faults.
UNITS = 16
#: ... and the most articles their issues have together: a day's paper of a hundred articles (an EPUB of half a
#: second) is a task of its own.
TASK_ARTICLES = 64
#: The formats whose outputs are small enough to be made a few to a task.
SMALL = frozenset({"epub"})
#: Shared inputs of up to this many bytes go with each task that reads them (:func:`_given`).  Tasks that
#: depend on an input held by one worker are sent to that worker: with 26 inputs over two workers, one held 18
#: and was given 31 of the 50 tasks, and ran for 0.5–0.8 s after the other had finished.
GIVEN_BYTES = 1 << 20


#: Dask's settings for the workers of a local cluster (the nannies hand them on): its statistical profiler off (it
#: samples every thread's stack a hundred times a second, for a dashboard a build does not show) and its
#: monitors of memory and of the machine asked less often; on two cores what they take is the build's.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "200ms",
}


class ClusterError(BroadsheetError):
    """The cluster cannot do the build: its scheduler unreachable, a worker unfit for it."""


# --- the session: a LocalCluster or a running scheduler, checked ------------------------------------------


@contextlib.contextmanager
def session(config: ClusterConfig, languages: Sequence[str] = (), formats: Sequence[str] = (),
            client: Any = None) -> Iterator[Any]:
    """A connected, checked ``distributed.Client`` for ``config``; closed (a LocalCluster ended) on exit.  The
    workers start importing the renderer and the backends of ``formats`` at once, while the client plans.
    ``client``: one already connected (:func:`connected`), checked for the fonts of ``languages`` here and
    left open."""
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(connected(config))
        check_fonts(client, languages)
        client.run(_warm_up, tuple(formats), wait=False)
        yield client


@contextlib.contextmanager
def connected(config: ClusterConfig) -> Iterator[Any]:
    """A ``distributed.Client`` for ``config``, its workers checked to run this version of broadsheet (before any
    work is sent); closed (a LocalCluster ended) on exit."""
    try:
        import distributed
    except ImportError:
        raise ClusterError("--cluster needs Dask: pip install 'broadsheet[cluster]'") from None
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # a lost worker is handled, not reported
    address = config.address
    seconds = config.timeout or CONNECT_SECONDS
    with contextlib.ExitStack() as stack:
        if address.startswith("local"):
            workers = int(address.partition(":")[2] or 0) or None
            from . import limits

            import dask

            # Dask's nannies set MALLOC_TRIM_THRESHOLD_ in their workers, which turns off glibc's adaptive mmap
            # threshold: every large buffer (a picture, a cover) is then mapped and faulted in anew, and an EPUB
            # takes two to three times as long.  The workers of a local cluster are started without it.
            environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
            environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            stack.enter_context(dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **QUIET}))
            # A nanny sets its spawn environment in this process's own (and leaves it there): after any earlier
            # LocalCluster of this process, the workers would inherit the variable from it.  Left out while ours
            # start, put back after.
            stack.enter_context(_without_environ("MALLOC_TRIM_THRESHOLD_"))
            # The resource tracker that the workers' processes start tells of their semaphores when a stopped
            # build (a signal, the time limit) ends it: a warning for Python's developers, not the user's.
            quiet_tracker = "ignore::UserWarning:multiprocessing.resource_tracker"
            if quiet_tracker not in sys.warnoptions:
                sys.warnoptions.append(quiet_tracker)
            with warnings.catch_warnings():  # "port 8787 is in use": another port is taken, nothing to tell
                warnings.simplefilter("ignore")
                cluster = distributed.LocalCluster(
                    n_workers=workers or limits.cores(), threads_per_worker=1, processes=True,
                    dashboard_address=":0" if log.isEnabledFor(logging.INFO) else None,
                    silence_logs=logging.CRITICAL)
            stack.enter_context(cluster)
            client = stack.enter_context(distributed.Client(cluster, set_as_default=False))
        else:
            try:
                client = distributed.Client(address, timeout=seconds, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the dask scheduler at {address} within {seconds:g} s "
                                   f"({type(exc).__name__}); is `dask scheduler` running there?") from None
            stack.enter_context(client)
            try:
                client.wait_for_workers(1, timeout=seconds)
            except (OSError, TimeoutError):
                raise ClusterError(f"the dask scheduler at {address} has no worker (none joined within "
                                   f"{seconds:g} s): start `dask worker {address}` on each machine") from None
        link = client.dashboard_link if client.scheduler_info().get("services", {}).get("dashboard") else None
        log.info("cluster %s: %d workers%s", address, len(client.scheduler_info()["workers"]),
                 f"; dashboard {link}" if link else "")
        check_versions(client)
        yield client


@contextlib.contextmanager
def _without_environ(name: str) -> Iterator[None]:
    """``name`` out of this process's environment within the context, as it was after."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ.setdefault(name, saved)


def check_versions(client) -> None:
    """Refuse a cluster with a worker that lacks broadsheet or runs another version of it."""
    from importlib.metadata import version

    found = client.run(version, "broadsheet", on_error="return")
    for worker, answer in sorted(found.items()):
        if isinstance(answer, BaseException):
            raise ClusterError(f"worker {worker}: broadsheet is not installed there ({type(answer).__name__}); "
                               f"install broadsheet {__version__} on every worker")
        if answer != __version__:
            raise ClusterError(f"worker {worker}: broadsheet {answer} is installed there, this client runs "
                               f"{__version__}; install the same version on every worker")


def check_fonts(client, languages: Sequence[str] = ()) -> None:
    """Refuse a cluster with a worker that lacks a font the editions need (one the client has)."""
    families = font_families(languages)
    if not families:
        return
    with _listing() as mine:  # this machine's fonts listed while the workers list theirs
        theirs = client.run(installed_families, families, on_error="return")
    needed = [family for family in families if family in mine]  # the fonts this client has
    if not needed:
        return
    for worker, answer in sorted(theirs.items()):
        if isinstance(answer, BaseException):
            raise ClusterError(f"worker {worker}: its fonts cannot be listed ({type(answer).__name__}: {answer})")
        for family in needed:
            if family not in answer:
                raise ClusterError(f"worker {worker}: the font {family} is missing (fontconfig lists no such "
                                   f"family there); install the client's fonts on every worker (fonts-noto-core, "
                                   f"fonts-noto-cjk)")


async def _warm_up(formats: tuple[str, ...], reading: bool = False) -> None:
    """In each worker, once checked: import what its first task needs, in a thread beside its event loop."""
    import asyncio

    await asyncio.get_running_loop().run_in_executor(None, _import_for, formats, reading)


def _import_for(formats: tuple[str, ...], reading: bool = False) -> None:
    """Import the renderer and the backends of ``formats``; first, with ``reading``, every reader of sources (as
    the detection of a first source imports them: 0.1–0.2 s a worker, which its first piece of reading paid)."""
    import importlib

    if reading:
        from .ingest import available_kinds

        available_kinds()
    from .backends import BACKENDS

    importlib.import_module(f"{__package__}.render")
    for fmt in formats:
        BACKENDS[fmt].warm_up()  # imports the backend's module; the PDF's layout zygote starts
    if "epub" in formats:
        from .backends.epub import pictures

        pictures.warm_up()  # the picture workers' zygote (a worker runs other threads: it is started afresh)
        _keep_picture_workers()


_keeping = contextlib.ExitStack()


def _keep_picture_workers() -> None:
    """Keep this worker's picture workers from one task to the next, for as long as the worker lives (they
    die with it): an EPUB with pictures then starts no process."""
    from .backends.epub import pictures

    with _lock:
        if pictures._kept is None:
            _keeping.enter_context(pictures.keep_workers())
            atexit.register(_keeping.close)


#: The families the shipped themes name first, for every edition (and the Noto CJK ones for CJK text).
_FAMILIES = ("Noto Serif", "Noto Sans")


def font_families(languages: Sequence[str]) -> list[str]:
    """The font families editions in ``languages`` are set in: the shipped themes' first ones, and for Chinese,
    Japanese and Korean the Noto CJK variant the stylesheets name for the language."""
    from .render.fonts import cjk_variant

    families = list(_FAMILIES) if any(languages) else []
    for language in dict.fromkeys(lang.lower() for lang in languages if lang):
        if language.split("-")[0] in ("zh", "ja", "ko"):  # zh-HK: HK, zh-TW: TC
            variant = cjk_variant(language)
            families += [f"Noto Serif CJK {variant}", f"Noto Sans CJK {variant}"]
    return list(dict.fromkeys(families))


def installed_families(among: Sequence[str]) -> set[str]:
    """Which of the families ``among`` fontconfig lists on this machine (one ``fc-list``)."""
    with _listing() as found:
        pass
    return found & set(among)


@contextlib.contextmanager
def _listing() -> Iterator[set[str]]:
    """The font families fontconfig lists on this machine, asked on entering (one ``fc-list``, about 5 ms):
    the set holds them on leaving, the caller having done other work meanwhile.  Empty without fontconfig."""
    import subprocess

    found: set[str] = set()
    if shutil.which("fc-list") is None:
        yield found
        return
    process = subprocess.Popen(["fc-list", "--format", "%{family}\n"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
    try:
        yield found
        listed, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    found.update(name.strip() for line in listed.splitlines() for name in line.split(","))  # each name it has


# --- what the tasks share: an edition, its settings, its files --------------------------------------------


def shared_inputs(editions: Sequence[Any], settings: Any, extra: dict | None = None, themes: Sequence[Any] = ()) -> bytes:
    """The pickled inputs the tasks of ``editions`` share: the editions, ``settings`` (any value: a
    :class:`pipeline.Settings`, a digest's spec), the files they read that a worker may not have (the
    pictures, the theme's own folders), and the client's working folder, shipped root and build time."""
    from .files import read_inside
    from .model import Facsimile, Image
    from .render.theme import _shipped_root

    files: dict[str, bytes] = {}
    folders: set[str] = set()
    shipped = _shipped_root()
    data_root = _data_root()
    checked: set[PurePath] = set()  # paths that are neither a picture nor a page's PDF, each looked at once
    for value, owner in _paths((editions, settings, extra)):
        picture = isinstance(owner, Image) and value == owner.path
        page = isinstance(owner, Facsimile) and value == owner.pdf
        if not (picture or page):
            if value in checked:
                continue
            checked.add(value)
        path = Path(os.path.abspath(value))
        if path.is_relative_to(shipped) or path.is_relative_to(data_root):
            continue
        if picture:  # read as the backends would read it
            if str(path) not in files:
                files[str(path)] = read_inside(path, owner.root or _root_of(path, editions) or path.parent,
                                               what="picture")
        elif page:  # a printed page's PDF, drawn in the PDF
            if str(path) not in files:
                files[str(path)] = read_inside(path, owner.pdf_root or _root_of(path, editions) or path.parent,
                                               what="page PDF")
        elif path.is_dir():  # a source's folder (a picture's root): made in the worker, empty
            folders.add(str(path))
    for theme in [*_themes(settings), *themes]:
        for folder in theme.folders:
            if folder.resolve().is_relative_to(shipped):
                continue
            for file in sorted(Path(folder).rglob("*")):
                if file.is_file() and not file.is_symlink():
                    files[os.path.abspath(file)] = read_inside(file, folder, what="theme file")
                elif file.is_dir() and not file.is_symlink():
                    folders.add(os.path.abspath(file))
            folders.add(os.path.abspath(folder))
    payload = {"editions": list(editions), "settings": settings, "files": files, "folders": sorted(folders),
               "cwd": os.getcwd(), "shipped": str(data_root), "extra": extra or {},
               "epoch": os.environ.get("SOURCE_DATE_EPOCH")}
    return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def _data_root() -> Path:
    """The folder that holds the shipped templates and styles (the same package on every worker)."""
    from .resources import data_dir

    return data_dir("templates").parent


def _root_of(path: Path, editions: Sequence[Any]) -> Path | None:
    for edition in editions:
        root = Path(os.path.abspath(edition.root))
        if path.is_relative_to(root):
            return root
    return None


def _themes(settings: Any) -> list[Any]:
    from .render.theme import Theme

    found = []
    for value in settings if isinstance(settings, (list, tuple)) else [settings]:
        theme = getattr(value, "theme", None)
        if isinstance(theme, Theme):
            found.append(theme)
    return found


#: Values that hold no path: passed over at once (a model's text is most of what it holds).
_ATOMS = (str, bytes, int, float, type(None))


def _paths(value: Any, owner: Any = None) -> Iterator[tuple[PurePath, Any]]:
    """Every path held in ``value`` (models, dataclasses, tuples, lists, dicts), with the object holding it."""
    if isinstance(value, _ATOMS):
        return
    if isinstance(value, PurePath):
        yield value, owner
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _paths(item, owner)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _paths(item, owner)
    else:
        for name in _fields(value):
            yield from _paths(getattr(value, name), value)


def _fields(value: Any) -> tuple[str, ...]:
    kind = type(value)
    found = _FIELDS.get(kind)
    if found is None:
        from pydantic import BaseModel

        if issubclass(kind, BaseModel):
            found = tuple(kind.model_fields)
        elif dataclasses.is_dataclass(kind):
            found = tuple(f.name for f in dataclasses.fields(kind))
        else:
            found = ()
        _FIELDS[kind] = found
    return found


#: The fields of each class of value met (:func:`_fields`).
_FIELDS: dict[type, tuple[str, ...]] = {}


def _moved(value: Any, move: Callable[[PurePath], PurePath]) -> Any:
    """``value`` with every path in it replaced by ``move(path)`` (unchanged parts kept as they are)."""
    if isinstance(value, _ATOMS):
        return value
    if isinstance(value, PurePath):
        return move(value)
    if isinstance(value, (list, tuple)):
        items = [_moved(item, move) for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(items) if isinstance(value, list) or type(value) is tuple else type(value)(*items)
    if isinstance(value, dict):
        items = {key: _moved(item, move) for key, item in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    changes = {}
    for name in _fields(value):
        old = getattr(value, name)
        new = _moved(old, move)
        if new is not old:
            changes[name] = new
    if not changes:
        return value
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_copy(update=changes)
    return dataclasses.replace(value, **changes)


# --- in a worker ------------------------------------------------------------------------------------------

_lock = threading.Lock()
#: What this worker process unpacked of each shared input: its key → (base folder, payload with paths moved).
_unpacked: dict[str, tuple[Path, dict]] = {}
#: Rendered articles kept by this worker between the digests of one batch run (``render_issue``'s cache).
_render_caches: dict[str, dict] = {}
#: The stylesheets read and checked, kept by this worker for the outputs of one build (``render_issue``'s memo),
#: the latest :data:`KEPT` builds.
_memos: dict[str, dict] = {}


def _memo(key: str) -> dict:
    """The memo of the build ``key`` (the client's token for it) in this worker, the most recently used last."""
    with _lock:
        memo = _memos.pop(key, None)
        _memos[key] = {} if memo is None else memo
        while len(_memos) > KEPT:
            _memos.pop(next(iter(_memos)))
        return _memos[key]


def _in_dask_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
        return True
    except (ImportError, ValueError):
        return False


def _scratch() -> Path:
    """This worker's own scratch folder (removed by Dask when the worker ends)."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):  # not in a worker: a test calling a task itself
        folder = Path(tempfile.gettempdir()) / f"broadsheet-worker-{os.getpid()}"
        if not folder.is_dir():
            folder.mkdir()
            atexit.register(shutil.rmtree, folder, ignore_errors=True)  # as Dask removes a worker's own
        return folder


#: Where a task writes its outputs before it returns their bytes, when the machine has it: a folder in memory
#: (tmpfs), since the bytes go to the client and the files are removed at once.  On a disk, creating and
#: removing the few folders and files of each output cost 0.5 ms each on this project's build machine, as
#: much as the rest of a small output's packing.
MEMORY_FOLDER = Path("/dev/shm")
#: ... and only when it has this much room: a container's /dev/shm is often 64 MB, less than one large PDF.
MEMORY_FOLDER_FREE = 1 << 30
_swept = False


def _task_root() -> Path:
    """The folder a task's private folder is made in: :data:`MEMORY_FOLDER` if it can be written and has
    :data:`MEMORY_FOLDER_FREE` bytes free, else the worker's scratch folder.  The first time, the task folders left there by worker processes that were
    killed mid-task (no ``finally`` ran) are removed."""
    global _swept
    root = MEMORY_FOLDER
    if not (root.is_dir() and os.access(root, os.W_OK | os.X_OK)):
        return _scratch()
    try:
        room = os.statvfs(root)
    except OSError:
        return _scratch()
    if room.f_bavail * room.f_frsize < MEMORY_FOLDER_FREE:
        return _scratch()
    if not _swept:
        _swept = True
        for left in root.glob("broadsheet-task-*-*"):
            pid = left.name.split("-")[2]
            if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
                shutil.rmtree(left, ignore_errors=True)
    return root


def _shared(key: str, blob: bytes) -> tuple[str, bytes]:
    """The task that holds a build's shared inputs: their key and bytes, kept by the workers that need them."""
    return key, blob


def _unpack(shared: tuple[str, bytes]) -> tuple[Path, dict]:
    """The shared inputs in this worker: their files written under a scratch folder of its own (once),
    every path of the model and the theme moved there."""
    key, blob = shared
    with _lock:
        if key in _unpacked:
            _unpacked[key] = _unpacked.pop(key)  # the most recently used last
            return _unpacked[key]
        while len(_unpacked) >= KEPT:  # a long-lived worker serves many builds: the least recently used go
            old = next(iter(_unpacked))
            shutil.rmtree(_unpacked.pop(old)[0], ignore_errors=True)
            _render_caches.pop(old, None)
        payload = pickle.loads(blob)
        base = _scratch() / "broadsheet-inputs" / key
        here = _data_root()
        cwd = PurePath(payload["cwd"])
        shipped = PurePath(payload["shipped"])

        def move(path: PurePath) -> Path:
            full = path if path.is_absolute() else cwd / path
            if full.is_relative_to(shipped):
                return here / full.relative_to(shipped)
            return base / full.relative_to(full.anchor)

        for folder in payload["folders"]:
            Path(move(PurePath(folder))).mkdir(parents=True, exist_ok=True)
        for name, data in payload["files"].items():
            target = Path(move(PurePath(name)))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        payload["files"] = {}
        payload["editions"] = _moved(payload["editions"], move)
        payload["settings"] = _moved(payload["settings"], move)
        payload["extra"] = _moved(payload["extra"], move)
        payload["key"] = key
        _unpacked[key] = (base, payload)
        return base, payload


@contextlib.contextmanager
def _in_worker(blob: tuple[str, bytes]) -> Iterator[tuple[dict, Path, list]]:
    """A task's surroundings: the shared inputs unpacked, the client's build time, one layout process per
    task, a private output folder (removed after), and faults named by the client's paths."""
    from . import limits

    base, payload = _unpack(blob)
    if _in_dask_worker():
        _keep_picture_workers()
    if payload["epoch"] is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = payload["epoch"]
    if limits.current().jobs != 1:
        limits.use(dataclasses.replace(limits.current(), jobs=1))
    folder = Path(tempfile.mkdtemp(prefix=f"broadsheet-task-{os.getpid()}-", dir=_task_root()))
    try:
        with _telling(base, folder) as told:
            yield payload, folder, told
    except BroadsheetError as exc:
        raise _named_for_client(exc, base, folder) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _settle()


_settled = False


def _settle() -> None:
    """After this worker's first task: collect, then move what the worker holds (the libraries, the templates,
    the fonts, the inputs kept) out of the cyclic collector's reach, once (``gc.freeze``)."""
    global _settled
    if _settled or not _in_dask_worker():
        return
    from .processes import out_of_the_collector

    _settled = True
    out_of_the_collector()


@contextlib.contextmanager
def _telling(base: Path | None = None, folder: Path | None = None) -> Iterator[list[tuple[int, str]]]:
    """What this thread logs within the block, kept to be told by the client (:class:`_Told`); in a Dask worker
    the logger lets through what the client may show (-v: the client decides)."""
    told = _Told(base, folder)
    logger = logging.getLogger("broadsheet")
    logger.addHandler(told)
    if _in_dask_worker() and (logger.level == logging.NOTSET or logger.level > logging.INFO):
        logger.setLevel(logging.INFO)
    try:
        yield told.messages
    finally:
        logger.removeHandler(told)


class _Told(logging.Handler):
    """What one task logs (this thread's records only), kept to be told by the client: (level, message)."""

    def __init__(self, base: Path | None, folder: Path | None) -> None:
        super().__init__(logging.INFO)
        self.thread = threading.get_ident()
        self.taken = [str(base)] if base is not None else []  # the worker's own folders: the client's paths told
        self.taken += [str(folder) + os.sep] if folder is not None else []
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            text = record.getMessage()
            for taken in self.taken:
                text = text.replace(taken, "")
            self.messages.append((record.levelno, text))


def _tell(messages: Sequence[tuple[int, str]]) -> None:
    """Log, here in the client, what a task logged."""
    for level, text in messages:
        log.log(level, "%s", text)


def _identities(paths: Sequence[str]) -> tuple[str, list[tuple[int, int] | None]]:
    """This machine's boot id and the (device, inode) of the working folder and of each of ``paths`` here."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    found: list[tuple[int, int] | None] = []
    for path in [".", *paths]:
        try:
            status = os.stat(path)
        except OSError:
            found.append(None)
            continue
        found.append((status.st_dev, status.st_ino))
    return boot, found


@contextlib.contextmanager
def reading_on(client, sources: Sequence[Path], formats: Sequence[str] = ()) -> Iterator[None]:
    """Within this block the issue folders of ``sources`` are read by the workers (``ingest.read_with``), a few at
    a time each, when every worker runs on this machine and finds the working folder and every source where
    this process does (the same files by the same names); else they are read here, as without a cluster.
    Each piece of reading runs under this process's limits; what it logs is told here in order.  The workers
    then start importing the readers, and after them the renderer and the backends of ``formats``, while this
    process lists the sources."""
    from . import limits
    from .ingest import read_with

    mine = _identities([os.fspath(s) for s in sources])
    theirs = client.run(_identities, [os.fspath(s) for s in sources], on_error="return")
    if not mine[0] or None in mine[1] or any(answer != mine for answer in theirs.values()):
        log.info("cluster: the sources are read here (not every worker finds them where this process does)")
        yield
        return
    client.run(_warm_up, tuple(formats), True, wait=False)

    sent: list[Any] = []

    def reader(function: Callable, arguments: Sequence[tuple]) -> Iterator[Any]:
        bounds = dataclasses.replace(limits.current(), jobs=1)  # as they are now; one piece: one worker thread
        token = _token()
        futures = [client.submit(_read_task, function, args, bounds, pure=False, key=f"broadsheet-read-{token}-{n}")
                   for n, args in enumerate(arguments)]  # sent now: the workers start while earlier ones are taken
        sent.extend(futures)

        def results() -> Iterator[Any]:
            for future in futures:
                with _cluster_faults("the build stops"):
                    result, told = future.result()
                _tell(told)
                yield result

        return results()

    try:
        with read_with(reader):
            yield
    finally:  # a fault stopped the reading: what is still read for it is let go
        left = [future for future in sent if not future.done()]
        if left:
            client.cancel(left)


@contextlib.contextmanager
def _cluster_faults(lost: str) -> Iterator[None]:
    """A task that ended every worker it ran on (``allowed-failures``), or the scheduler lost (the build's
    tasks cancelled there), as a :class:`ClusterError`; ``lost`` ends the line of the latter."""
    from distributed import KilledWorker
    from distributed.client import FutureCancelledError

    try:
        yield
    except KilledWorker as exc:
        raise ClusterError(f"a task ended every worker that ran it ({exc}); the build stops") from None
    except FutureCancelledError:
        raise ClusterError(f"the dask scheduler was lost or cancelled the build's tasks: {lost}") from None


def _read_task(function: Callable, arguments: tuple, bounds: Any) -> tuple[Any, list[tuple[int, str]]]:
    """Task: ``function(*arguments)`` (a piece of reading) under the client's limits ``bounds``; what it returned
    and what it logged."""
    from . import limits
    from .files import roots_resolved

    with limits.within(bounds), _telling() as told, roots_resolved():
        return function(*arguments), told


def _named_for_client(exc: BroadsheetError, base: Path, folder: Path) -> BroadsheetError:
    """``exc`` with the worker's folders taken out of its path and message (the client's paths)."""
    def client_path(text: str) -> str:
        return text.replace(str(base), "").replace(str(folder) + os.sep, "")

    fault = type(exc).__new__(type(exc))
    fault.__dict__.update(exc.__dict__)
    fault.args = tuple(client_path(a) if isinstance(a, str) else a for a in exc.args)
    fault.message = client_path(exc.message)
    fault.path = Path(client_path(str(exc.path))) if exc.path is not None else None
    return fault


def _collect(folder: Path) -> list[tuple[str, bytes]]:
    """Every file written under ``folder``: (path relative to it, bytes), the manifests last."""
    files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
    files.sort(key=lambda path: path.relative_to(folder).parts[0] == ".broadsheet")
    return [(path.relative_to(folder).as_posix(), path.read_bytes()) for path in files]


def make_outputs(blob: tuple[str, bytes], units: Sequence[tuple[int, int, str, str]], cache=None,
                 build: str | None = None, out: tuple[str, int, int] | None = None,
                 typeset: Callable | None = None):
    """Task: a few outputs of one shared input, each an (edition, issue, format, file name) and written in a
    private folder of its own; returns, for each, its files' bytes and what the client's manifest needs of
    the rendering, and what the task logged.  ``cache``: the build's cache folder as the client names it
    (:func:`_cache_for_workers`), None for none.  ``build``: the client's token for the build, whose tasks
    share what they read and check once (the stylesheets: 10–15 ms a task otherwise).  ``out``: the output
    folder as the client names it (:func:`_out_for_workers`): a worker that finds that very folder writes
    the small outputs (:data:`SMALL`) there itself, atomically, their temporaries named after ``build``, and
    returns each file's name with None for its bytes.  ``typeset``: the pipeline's ``typeset(edition,
    settings)``, which sets the input's issues in their language here, once for all the tasks of that input
    (None: they come set)."""
    from .backends import BACKENDS
    from .output import temporaries_tagged, written

    made = []
    with _in_worker(blob) as (payload, folder, told):
        memo = _memo(build or payload["key"])
        cache_folder = _worker_cache(cache)
        there = _worker_out(out) if build is not None else None
        editions = _set_in_language(payload, typeset)
        for n, (edition, issue, fmt, name) in enumerate(units):
            edition_made = editions[edition]
            settings = payload["settings"][edition]
            backend = BACKENDS[fmt]
            articles = None
            if cache_folder is not None and backend.render_target == "epub":
                articles = _article_cache(cache_folder, settings.theme, memo)
            result = settings.render(edition_made.publication, edition_made.publication.issues[issue],
                                     backend.render_target, cache=articles, memo=memo)
            writer = backend(pdf=settings.pdf.model_copy(update={"jobs": 1}), epub=settings.epub,
                             cache_folder=cache_folder)
            if there is not None and fmt in SMALL:
                with temporaries_tagged(build):  # what a killed worker leaves, the client finds and removes
                    paths = written(lambda: writer.write(result, there / name), there)  # faults name it
                files = [(path.relative_to(there).as_posix(), None) for path in paths]
            else:
                own = folder / str(n)
                writer.write(result, own / name)
                files = _collect(own)
            if articles is not None:
                articles.commit()  # this output is whole: what it rendered is kept
            made.append((files, _for_manifest(result)))
        return made, told


def _set_in_language(payload: dict, typeset: Callable | None) -> list[Any]:
    """The editions of an unpacked input set in their language by ``typeset`` (once: kept with the input for its
    other tasks), or as they came (None)."""
    if typeset is None:
        return payload["editions"]
    if "set" not in payload:
        payload["set"] = [typeset(edition, settings)
                          for edition, settings in zip(payload["editions"], payload["settings"], strict=True)]
    return payload["set"]


def _out_for_workers(out: Path) -> tuple[str, int, int] | None:
    """The output folder as the workers are told of it: its path and identity (device and inode), the folder
    made if it is not there yet.  A worker that finds the very folder at that path (on this machine) writes its
    EPUBs there itself; one elsewhere sends their bytes.  None: the folder cannot be made or looked at here
    (the client's own writes meet the fault and name it)."""
    try:
        os.makedirs(out, exist_ok=True)
        info = os.stat(out)
    except OSError:
        return None
    return os.path.abspath(out), info.st_dev, info.st_ino


def _worker_out(out: tuple[str, int, int] | None) -> Path | None:
    """The client's output folder where this worker finds that very folder at its path, else None."""
    if out is None:
        return None
    path, device, inode = out
    try:
        info = os.stat(path)
    except OSError:
        return None
    return Path(path) if (info.st_dev, info.st_ino) == (device, inode) and stat.S_ISDIR(info.st_mode) else None


@contextlib.contextmanager
def _removed_if_empty_on_failure(folders: Sequence[Path]) -> Iterator[None]:
    """Of ``folders`` (outermost first), those not there yet are removed again, if empty, when the context fails."""
    missing = [Path(folder) for folder in folders if not os.path.lexists(folder)]
    try:
        yield
    except BaseException:
        for folder in reversed(missing):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _cache_for_workers(folder: Path | None) -> tuple[str, int, int] | None:
    """The build's cache folder (``<out>/.broadsheet-cache``) as the workers are told of it: its path and its
    identity (device and inode), made here (through :class:`output.CacheFolder`: never a link) if it is not
    there yet.  A worker on this machine finds the very folder at that path and shares it with the local
    builds; one elsewhere keeps a cache of its own.  None: no cache (``--no-cache``, or a cache folder that is
    refused or cannot be made, which is said once as a local build says it)."""
    if folder is None:
        return None
    from .output import HEX_NAME, CacheFolder

    found = CacheFolder(folder, HEX_NAME).identity()
    return None if found is None else (os.path.abspath(folder), *found)


def _worker_cache(cache: tuple[str, int, int] | None) -> Path | None:
    """The cache folder a task uses: the client's where this worker sees the very folder at its path (the same
    machine, a local cluster), else the worker's own in its scratch folder (it lives as long as the worker);
    None without a cache.  Entries are content-addressed and written atomically: workers share a folder
    safely."""
    if cache is None:
        return None
    path, device, inode = cache
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        info = None
    if info is not None and (info.st_dev, info.st_ino) == (device, inode):
        return Path(path)
    return _scratch() / ".broadsheet-cache"


def _article_cache(folder: Path, theme: Any, memo: dict) -> Any:
    """The on-disk cache of rendered article XHTML under ``folder`` for ``theme`` (its salt computed once)."""
    from .render.cache import DiskCache, folder_digest

    salts = memo.setdefault("cache salts", {})
    if theme.folders not in salts:
        salts[theme.folders] = folder_digest(theme.template_path)
    return DiskCache(folder / "xhtml", salt=salts[theme.folders])


def _for_manifest(result):
    """What ``manifest.record`` reads of a rendering that the client does not hold already: its metadata and
    its cover's name (the client puts back the publication and the issue it planned, :func:`_manifested`)."""
    from .rendered import Asset

    cover = result.cover
    if cover is not None:
        cover = Asset(name=cover.name, id=cover.id, media_type=cover.media_type, data=b"")
    return dataclasses.replace(result, publication=None, issue=None, documents=(), assets=(), nav=(), cover=cover)


def _manifested(rendering, output, issue):
    """A rendering from :func:`_for_manifest` with the publication of its planned ``output`` and ``issue``, the
    output's issue as planned (its date, number and sections: what a manifest reads of it)."""
    return dataclasses.replace(rendering, publication=output.edition.publication, issue=issue)


def make_digests(blob: tuple[str, bytes], people: Sequence[Any], subscriber_digest: Callable,
                 build: str | None = None, out: tuple[str, int, int] | None = None):
    """Task: the digests of a few subscribers, each written in a private folder; returns, for each, its
    id and its files' bytes (``None``: no article matches), and what the task logged.  ``out``, ``build``: as
    for :func:`make_outputs`, a worker that finds the client's output folder writes the digests (and their
    manifests) there itself, and returns each output's name with None for its bytes."""
    from .output import temporaries_tagged

    with _in_worker(blob) as (payload, folder, told):
        extra = payload["extra"]
        cache = _render_caches.setdefault(payload["key"], {})
        there = _worker_out(out) if build is not None else None
        made = []
        for person in people:
            target = folder / person.id if there is None else there
            with temporaries_tagged(build) if there is not None else contextlib.nullcontext():
                paths, _ = subscriber_digest(payload["editions"], payload["settings"], person,
                                             config=extra["config"], folder=extra["folder"], formats=extra["formats"],
                                             out=target, overrides=extra["overrides"], render_cache=cache,
                                             cache=False)
            if paths is None:
                made.append((person.id, None))
            elif there is None:
                made.append((person.id, _collect(target)))
            else:
                made.append((person.id, [(Path(path).relative_to(there).as_posix(), None) for path in paths]))
        return made, told


# --- in the client ----------------------------------------------------------------------------------------


def _write_file(out: Path, relative: str, data: bytes | None, written: Callable) -> Path:
    """``data`` written atomically as ``out/relative``; None: a worker wrote that file there already."""
    from .output import atomic_path

    target = out / relative
    if data is None:
        return target

    def write() -> list[Path]:
        with atomic_path(target) as temporary:
            temporary.write_bytes(data)
        return [target]

    written(write, out)
    return target


def _submit_shared(client, blob: bytes):
    key = hashlib.sha256(blob).hexdigest()[:24]
    return client.submit(_shared, key, blob, key=f"broadsheet-inputs-{key}", pure=False)


def _given(client, blob: bytes):
    """Shared inputs for the few tasks of one part of an edition: up to :data:`GIVEN_BYTES` handed to each task
    with it (a task that depends on nothing is given to the next worker that is free: the scheduler keeps every
    worker busy to the end), larger ones a task of their own (:func:`_submit_shared`), fetched once by each
    worker that needs them."""
    if len(blob) > GIVEN_BYTES:
        return _submit_shared(client, blob)
    return hashlib.sha256(blob).hexdigest()[:24], blob


def _results(client, futures: list) -> Iterator[tuple[int, Any]]:
    """``(index, result)`` of each future as it finishes; the first fault cancels the rest and is raised."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError

    index = {future.key: n for n, future in enumerate(futures)}
    try:
        with _cluster_faults("the outputs written are whole, a rerun makes the rest"):
            # results come with their futures, through the client's event loop; a task's fault is raised here
            for future, result in as_completed(futures, loop=client.loop, with_results=True, raise_errors=True):
                if future.status != "finished":  # cancelled: the scheduler lost, or the build's tasks cancelled
                    raise FutureCancelledError(future.key, None)
                yield index[future.key], result
    finally:
        client.cancel([f for f in futures if not f.done()])


def _tasks(outputs: Sequence[Any], number: dict[int, int], issue_number: dict[int, int],
           workers: int) -> list[list[int]]:
    """The outputs (their indexes) each task makes: one output, or a few small ones (:data:`SMALL`) of
    neighbouring issues of one edition, neighbours in ``outputs`` too: at most :func:`_units` of them, with
    :data:`TASK_ARTICLES` articles at most.  ``number``: each edition's place (by ``id``), ``issue_number``:
    each issue's in its edition."""
    tasks: list[list[int]] = []
    small = [output.backend.name in SMALL for output in outputs]
    left = sum(small)  # small outputs not in a task yet
    most = articles = 0  # outputs the task being filled may take; the articles it has
    for index, output in enumerate(outputs):
        last = outputs[tasks[-1][-1]] if tasks else None
        weight = sum(len(section.articles) for section in output.issue.sections)
        if (last is not None and small[index] and last.backend.name in SMALL and len(tasks[-1]) < most
                and articles + weight <= TASK_ARTICLES and number[id(last.edition)] == number[id(output.edition)]
                and issue_number[id(output.issue)] == issue_number[id(last.issue)] + 1):
            tasks[-1].append(index)  # a few small outputs: one round trip and one shared input for them
            articles += weight
        else:
            tasks.append([index])
            most, articles = _units(left, workers), weight
        left -= small[index]
    return tasks


def _span(members: Sequence[int], outputs: Sequence[Any], number: dict[int, int],
          issue_number: dict[int, int]) -> tuple[int, int, int]:
    """The issues a task's shared input holds: (edition, first, end).  A few small outputs: their own issues;
    a large one (a PDF): the :data:`CHUNK` issues around it, one input for the tasks of all of them."""
    first = outputs[members[0]]
    n, place = number[id(first.edition)], issue_number[id(first.issue)]
    if first.backend.name in SMALL:
        return n, place, place + len(members)
    return n, place // CHUNK * CHUNK, min(len(first.edition.publication.issues), (place // CHUNK + 1) * CHUNK)


def _units(left: int, workers: int) -> int:
    """How many small outputs the next task makes, ``left`` of them not yet in a task: :data:`UNITS`, fewer
    when that would leave less than a task for each of ``workers``.  The tasks grow smaller towards the end of
    a build, so that the workers finish together: the last are of one output, not sixteen."""
    return max(1, min(UNITS, left // max(1, workers)))


def _token() -> str:
    import secrets

    return f"{os.getpid()}-{secrets.token_hex(4)}"


def write_editions(config: ClusterConfig, steps: Steps, editions: list[Any], *, formats: Sequence[str], out: Path,
                   overrides: Any, progress: Callable[[str, int, int], None] | None = None,
                   stem: str | None = None, kind: str = "issue", cache_folder: Path | None = None,
                   client: Any = None) -> list[Path]:
    """The pipeline's ``write_editions`` on a cluster: one task per output, each file written here as it comes.
    ``cache_folder``: the build's cache (:func:`_cache_for_workers`); None, no cache.  ``client``: a cluster
    already connected (:func:`connected`), else one is for this call."""
    if "html" in formats:
        raise ClusterError("--cluster makes EPUB and PDF files: build the html format without it")
    out = Path(out)
    # Planned untypeset: the workers set each task's issues in their language (once for each input they unpack),
    # not this process, which feeds them all.
    outputs = steps.plan(editions, formats, out, overrides, stem=stem, typeset=False)
    made = list({id(output.edition): output.edition for output in outputs}.values())  # in order, each once
    number = {id(edition): n for n, edition in enumerate(made)}
    issue_number = {id(issue): n for edition in made for n, issue in enumerate(edition.publication.issues)}
    languages = [edition.publication.language for edition in made]
    total = len(outputs)

    def report(done: int) -> None:
        if progress is not None:
            progress("Built", done, total)

    report(0)
    with contextlib.ExitStack() as stack, session(config, languages, formats, client) as client:
        settings = {number[id(o.edition)]: o.settings for o in outputs}
        # each task's input, by its issues: as handed to the tasks, and its issues (for the manifests: setting the
        # text in its language changes no issue's date, number or sections)
        inputs: dict[tuple[int, int, int], tuple[Any, tuple]] = {}
        tasks = _tasks(outputs, number, issue_number, sum(client.nthreads().values()))
        spans = [_span(members, outputs, number, issue_number) for members in tasks]
        token = _token()
        # a build that fails leaves no empty folder of its own making
        stack.enter_context(_removed_if_empty_on_failure([out] if cache_folder is None else [out, cache_folder]))
        cache = _cache_for_workers(cache_folder)
        there = _out_for_workers(out)
        if there is not None:  # what a worker killed while it wrote there left, once the build is over
            from .output import sweep

            small = [output.target.name for output in outputs if output.backend.name in SMALL]
            stack.callback(sweep, out, small, token)
        futures = []
        for members, span in zip(tasks, spans):  # each sent once its inputs are packed, the first while the rest are
            n, first, end = span
            if span not in inputs:  # a few issues of the edition: a worker gets only what its tasks read
                whole = made[n].publication
                part = dataclasses.replace(made[n], publication=whole.model_copy(
                    update={"issues": whole.issues[first:end]}))
                inputs[span] = _given(client, shared_inputs([part], [settings[n]])), part.publication.issues
            units = [(0, issue_number[id(outputs[i].issue)] - first, outputs[i].backend.name,
                      outputs[i].target.name) for i in members]
            futures.append(client.submit(make_outputs, inputs[span][0], units, cache, token, there, steps.typeset,
                                         pure=False, key=f"broadsheet-output-{token}-{len(futures)}-{units[0][3]}"))
        written: list[list[Path]] = [[] for _ in outputs]
        renderings: list[Any] = [None] * len(outputs)
        # each edition's outputs (its formats), in order: its manifest is written once the last of them is,
        # while the workers go on (written after the build, it kept them idle for the time it took)
        stems: dict[Path, list[int]] = {}
        for index, output in enumerate(outputs):
            stems.setdefault(output.target.with_suffix(""), []).append(index)
        waiting = {stem: len(indexes) for stem, indexes in stems.items()}
        done = 0

        def count(units: int) -> None:
            nonlocal done
            done += units
            report(done)

        for task, (made_here, told) in _results(client, futures):
            _tell(told)
            for index, (files, rendering) in zip(tasks[task], made_here):
                written[index] = [_write_file(out, name, data, steps.written) for name, data in files]
                issue = inputs[spans[task]][1][issue_number[id(outputs[index].issue)] - spans[task][1]]
                renderings[index] = _manifested(rendering, outputs[index], issue)
                stem = outputs[index].target.with_suffix("")
                waiting[stem] -= 1
                if not waiting[stem]:
                    steps.write_manifests(_edition_written(stems[stem], stem, renderings, written), out, kind)
            count(len(made_here))
    return [path for paths in written for path in paths]


def _edition_written(indexes: Sequence[int], stem: Path, renderings: Sequence[Any],
                     written: Sequence[list[Path]]) -> dict[Path, tuple[Any, list[Path]]]:
    """What an edition's manifest records, as a local build gathers it: the rendering of its first output, the
    files of all its outputs in their order."""
    return {stem: (renderings[indexes[0]], [path for index in indexes for path in written[index]])}


def write_digests(config: ClusterConfig, steps: Steps, editions: list[Any], spec: Any, people: Sequence[Any], *,
                  digest_config: Any, folder: Path, formats: Sequence[str], out: Path, overrides: Any,
                  progress: Callable[[str, int, int], None] | None = None,
                  written: dict[str, list[Path]] | None = None, subscribers_path: Path | None = None) -> list[Path]:
    """The subscribers' digests on a cluster: the sources' model shared, a few subscribers per task."""
    out = Path(out)
    languages = [edition.publication.language for edition in editions]
    total = len(people)
    with contextlib.ExitStack() as stack, session(config, languages, formats) as client:
        stack.enter_context(_removed_if_empty_on_failure([out]))  # a batch that fails leaves no empty folder
        workers = max(1, sum(client.nthreads().values()))
        size = max(1, min(BATCH, total // (4 * workers) or 1))
        batches = [list(people[i:i + size]) for i in range(0, total, size)]
        from .render import find_theme

        theme = find_theme(digest_config.theme, folder)
        blob = shared_inputs(editions, spec, {"config": digest_config, "folder": folder, "formats": tuple(formats),
                                              "overrides": overrides}, themes=[theme])
        shared = _submit_shared(client, blob)
        token = _token()
        there = _out_for_workers(out)
        if there is not None:  # what a worker killed while it wrote there left, once the batch is over
            from .manifest import FOLDER
            from .output import sweep

            stack.callback(sweep, out / FOLDER, None, token)
            stack.callback(sweep, out, None, token)
        futures = [client.submit(make_digests, shared, batch, steps.subscriber_digest, token, there, pure=False,
                                 key=f"broadsheet-digests-{token}-{n}") for n, batch in enumerate(batches)]
        done = 0
        per_batch: list[list] = [[] for _ in batches]

        def report(_: int) -> None:
            if progress is not None:
                progress("Subscribers", done, total)

        report(0)
        for index, (made, told) in _results(client, futures):
            _tell(told)
            for person_id, files in made:
                done += 1
                if files is None:
                    log.warning("%s: subscriber %s: no article matches; nothing written", subscribers_path, person_id)
                    per_batch[index].append((person_id, []))
                    continue
                paths = [_write_file(out, name, data, steps.written) for name, data in files]
                per_batch[index].append((person_id, [p for p in paths if ".broadsheet" not in p.relative_to(out).parts]))
            report(done)
    result: list[Path] = []
    for made in per_batch:
        for person_id, paths in made:
            result += paths
            if written is not None and paths:
                written[person_id] = list(paths)
    return result
