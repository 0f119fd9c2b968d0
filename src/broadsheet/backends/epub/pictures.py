"""Pictures for e-readers: small, baseline, metadata-free, and within a size budget.

:func:`prepare_pictures` turns the picture assets of a rendered EPUB into what an
e-reader wants: the long side at most ``long_side`` pixels (and the area at most
``max_pixels`` where a reader sets one), EXIF orientation applied, EXIF, XMP, IPTC,
comments and text chunks gone, colour profiles converted to sRGB and dropped, JPEG
baseline (never progressive) at ``quality``, PNG optimised, grays for e-ink when asked.
JPEG and PNG keep their names.  Single-frame GIFs and WebP pictures become PNG (or JPEG
for opaque WebP) and every reference to them in the documents is renamed; animated GIFs
keep their frames and only lose their comments and application blocks.  The ``width``
and ``height`` attributes of each ``<img>`` are set to the picture's new size, so a
rotated photograph is not drawn in its old shape.  The cover keeps its 1600×2560.

:func:`budget_steps` lists ever smaller settings for ``--max-size``; the EPUB backend
tries them (:func:`picture_bytes` predicts the size of the book at each) and rebuilds.
Everything here is deterministic: the same source and settings give the same bytes.  Many
pictures are made in parallel processes (:func:`picture_jobs`), each on its own, so the bytes
do not depend on how many there are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import logging
import math
import os
import re
import struct
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageCms, ImageOps

from ...errors import BackendError, IngestError
from ...files import OutsideRoot
from ...rendered import Asset, Document, RenderedIssue, read_asset

#: Long sides tried under a size budget, then the qualities below the lowest of them.
BUDGET_QUALITIES = (70, 60, 50)
BUDGET_SIDES = (1280, 1024, 800, 640, 480)
LAST_QUALITIES = (40, 30)
PICTURE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_EXTENSION = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
_OPAQUE = (255, 255, 255)
#: Fewer pictures than this are made by one worker process: starting more would cost more.  Measured
#: (docs/performance.md): a second worker costs about as much to start as one picture takes to make, and
#: two workers beat one from 2 pictures on an idle 2-core machine, from 6 on one other work keeps busy.
PARALLEL_PICTURES = 6
log = logging.getLogger("broadsheet")


@dataclass(frozen=True)
class PictureLimits:
    """What the pictures of one EPUB may be."""

    long_side: int = 1600
    quality: int = 80
    grayscale: bool = False
    max_pixels: int | None = None  # a reader's limit on width × height
    opaque: bool = False  # flatten transparency onto white (Kobo, Apple Books night mode)
    palette: bool = False  # under a budget: PNG reduced to 256 colours

    def describe(self) -> str:
        return f"quality {self.quality}, long side {self.long_side} px"


def budget_steps(limits: PictureLimits) -> list[PictureLimits]:
    """Return ever smaller settings, lower JPEG quality first, then shorter long sides."""
    steps = [dataclasses.replace(limits, quality=q, palette=True) for q in BUDGET_QUALITIES if q < limits.quality]
    floor = min(limits.quality, BUDGET_QUALITIES[-1])
    steps += [dataclasses.replace(limits, quality=floor, long_side=side, palette=True)
              for side in BUDGET_SIDES if side < limits.long_side]
    last = min(limits.long_side, BUDGET_SIDES[-1])
    steps += [dataclasses.replace(limits, quality=q, long_side=last, palette=True) for q in LAST_QUALITIES if q < floor]
    return steps or [dataclasses.replace(limits, palette=True)]


def prepare_pictures(rendered: RenderedIssue, limits: PictureLimits, jobs: int | None = None) -> RenderedIssue:
    """Return ``rendered`` with its pictures, cover and picture references made for e-readers.

    ``jobs``: how many pictures are made at once (default: one per available core).
    """
    assets: list[Asset] = []
    renames: dict[str, str] = {}
    sizes: dict[str, tuple[int, int]] = {}
    pictures = [asset for asset in rendered.assets if asset.media_type in PICTURE_TYPES]
    ahead = _taken_ahead(pictures, limits)
    made = iter(ahead if ahead is not None else _prepare_all(pictures, limits, picture_jobs() if jobs is None else jobs))
    for asset in rendered.assets:
        if asset.media_type not in PICTURE_TYPES:
            assets.append(asset)
            continue
        result = next(made)
        if isinstance(result, _Refused):
            raise (OutsideRoot if result.outside else IngestError)(result.message, result.path)
        if isinstance(result, str):  # a picture Pillow cannot decode stays as it came
            log.warning("%s: picture kept as it is, it could not be re-encoded: %s", asset.path or asset.name, result)
            assets.append(asset)
            continue
        data, media_type, size = result
        name = asset.name
        if media_type != asset.media_type:
            name = re.sub(r"\.[A-Za-z0-9]+$", "", name) + _EXTENSION[media_type]
            renames[_basename(asset.name)] = _basename(name)
        sizes[_basename(name)] = size
        assets.append(dataclasses.replace(asset, name=name, media_type=media_type, data=data, path=None))
    documents = tuple(_rewrite(document, renames, sizes) for document in rendered.documents)
    cover = rendered.cover
    if cover is not None:
        cover = dataclasses.replace(cover, data=prepare_cover(cover.read(), limits), path=None)
    return dataclasses.replace(rendered, assets=tuple(assets), documents=documents, cover=cover)


#: Pictures being made ahead of their EPUB (:func:`make_ahead`): by what they are made from, the process
#: making them (``processes.Forked``) and the pipe that tells it to use every core.
_ahead: dict[tuple, tuple[object, int]] = {}


def _ahead_key(pictures: list[Asset], limits: PictureLimits) -> tuple:
    return (tuple((a.name, a.path, a.root, a.media_type, None if a.data is None else hashlib.sha256(a.data).digest())
                  for a in pictures), limits)


def make_ahead(assets: Iterable[Asset], limits: PictureLimits) -> bool:
    """Start making the pictures among ``assets`` now, as :func:`prepare_pictures` will want them under
    ``limits``, while this process goes on (typesetting and rendering the edition): a process forked for them
    (``processes.fork_call``) makes them as :func:`_prepare_all` does, in worker processes of its own, each
    picture within its time, and :func:`prepare_pictures` takes them when it is given those pictures under
    those limits.  One set at a time; only where forking is safe and there are enough pictures to repay a
    process.  Returns whether they are being made."""
    from ...processes import fork_call

    pictures = [asset for asset in assets if asset.media_type in PICTURE_TYPES]
    if _ahead or _kept is not None or len(pictures) < PARALLEL_PICTURES:
        return False
    try:
        told, tell = os.pipe()
    except OSError:
        return False
    forked = fork_call(_make_ahead_child, pictures, limits, told, tell)
    os.close(told)
    if forked is None:
        os.close(tell)
        return False
    _ahead[_ahead_key(pictures, limits)] = (forked, tell)
    return True


def _make_ahead_child(pictures: list[Asset], limits: PictureLimits, told: int, tell: int) -> list[_Made]:
    """Make ``pictures`` with one core fewer than the pool while the building process typesets and renders on
    the other (two workers beside it on two cores slowed its typesetting by 70% and gained nothing), with all
    of the pool once it says (``told``) that it waits for them."""
    from ... import limits as policy

    global _kept
    os.close(tell)  # the building process's end
    _kept = None  # the workers a build keeps are its own: this process starts its own
    work, jobs = _work_of(pictures, limits), picture_jobs()
    try:
        return _in_workers(work, max(1, jobs - 1), policy.current().picture_seconds, "fork", more=(told, jobs))
    except OSError:  # no worker could start: made here
        return [_prepare_one(job) for job in work]


def _taken_ahead(pictures: list[Asset], limits: PictureLimits) -> list[_Made] | None:
    """The pictures :func:`make_ahead` made of ``pictures`` under ``limits``, once made; None when they were
    not made ahead, or the process making them ended without them (they are then made here)."""
    from ...processes import NOTHING

    entry = _ahead.pop(_ahead_key(pictures, limits), None) if _ahead else None
    if entry is None:
        return None
    forked, tell = entry
    try:
        os.write(tell, b"+")  # this process waits now: all of the pool for what is left
    except OSError:
        pass
    os.close(tell)
    results = forked.result()
    return results if results is not NOTHING and len(results) == len(pictures) else None


def drop_ahead() -> None:
    """End the making of pictures no EPUB took (the build stopped before it, or made other pictures)."""
    while _ahead:
        _, (forked, tell) = _ahead.popitem()
        forked.cancel()
        os.close(tell)


def picture_jobs() -> int:
    """Return how many pictures to make at once: never more than the cores (and ``--jobs``)."""
    from ... import limits

    return limits.current().pool()


class _Refused(NamedTuple):
    """A picture file the file door refused (a link out of its folder): the build stops."""

    message: str
    path: str
    outside: bool  # refused by the door (a link out, not a regular file), else unreadable


_Made = tuple[bytes, str, tuple[int, int]] | str | _Refused  # the picture made, or why it could not be


def _prepare_one(job: tuple[bytes | None, Path | None, Path | None, str, PictureLimits]) -> _Made:
    data, path, root, media_type, limits = job
    try:
        data = read_asset(data, path, root)  # a file: through the file door, inside its source folder
    except IngestError as exc:  # a link out, a FIFO, a file gone: refused by name in the parent
        return _Refused(exc.message, str(exc.path or path), isinstance(exc, OutsideRoot))
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    try:
        return prepare_picture(data, media_type, limits)
    except Exception as exc:  # noqa: BLE001 - reported by the caller, which keeps the source
        return str(exc)


def _work_of(pictures: list[Asset], limits: PictureLimits) -> list:
    return [(a.data, a.path if a.data is None else None, a.root, a.media_type, limits) for a in pictures]


def _prepare_all(pictures: list[Asset], limits: PictureLimits, jobs: int) -> Iterable[_Made]:
    """Make every picture, in order, in ``jobs`` worker processes: one that takes longer than
    ``picture_seconds`` is ended and reported (it stays as it came).  Where this process cannot
    fork safely (other threads run: a Dask worker), a zygote started afresh forks the workers; where
    no worker process can start at all, the pictures are made in threads, without the time bound."""
    from ... import limits as policy

    work = _work_of(pictures, limits)
    if not work:
        return []
    jobs = max(1, min(jobs, len(work) if len(work) >= PARALLEL_PICTURES else 1))
    # fork: the workers start at once with everything imported; only where it is the norm, and
    # only from a process with no other threads, which a forked child could find holding a lock.
    # Where other threads run (a Dask worker), a zygote started afresh forks them instead
    # (``backends/processes.py``), so that each picture keeps its time limit there too.
    if sys.platform.startswith("linux"):
        method = "fork" if threading.active_count() == 1 else "zygote"
        try:
            return _in_workers(work, jobs, policy.current().picture_seconds, method)
        except OSError:  # no worker could start: make them here
            pass
    if jobs < 2:
        return [_prepare_one(job) for job in work]
    from concurrent.futures import ThreadPoolExecutor  # Pillow decodes and resizes without the GIL

    # The warnings filters are shared by the threads: what each picture's catch_warnings()
    # restores on its way out still ignores them, and this one restores the caller's.
    with warnings.catch_warnings(), ThreadPoolExecutor(jobs) as pool:
        warnings.simplefilter("ignore")
        return list(pool.map(_prepare_one, work))


def _worker(connection, parent: int | None) -> None:
    """A picture worker: make each picture it is sent, until the pipe closes; dies with its parent
    (``parent``; ``None``: the zygote that forked it, which ends with the build's process).

    Ctrl-C and SIGTERM are the parent's to handle (it ends its workers): here they end the
    worker without a word."""
    import signal

    from ...processes import die_with_parent, keep_freed_memory

    die_with_parent(parent)
    keep_freed_memory()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        connection.send(_prepare_one(job))


#: The idle picture workers kept for the next EPUB of the build (:func:`keep_workers`), or None outside one.
_kept: list | None = None


@contextlib.contextmanager
def keep_workers():
    """Keep the picture workers between the EPUBs written inside this context (an archive's issues), instead
    of starting and ending them for each; they end with it.  Nested, the outer context keeps them."""
    global _kept
    if _kept is not None:
        yield
        return
    _kept = []
    try:
        yield
    finally:
        kept, _kept = _kept, None
        for connection, process in kept:
            connection.close()
            process.kill()
            process.join(1)


def warm_up() -> None:
    """Where the picture workers come from a zygote (a process with other threads running: a Dask worker),
    start it now, so that it imports Pillow before the first picture."""
    if sys.platform.startswith("linux") and threading.active_count() > 1:
        from ..processes import warm_up as start_zygote

        start_zygote(__name__)


class _ZygoteChild:
    """A picture worker forked by a zygote (``backends/processes.py``), with the process methods used here.
    It is the zygote's child, not this process's: the zygote reaps it."""

    def __init__(self, worker) -> None:
        self.worker = worker

    def is_alive(self) -> bool:
        try:
            with open(f"/proc/{self.worker.pid}/stat", "rb") as stat:
                state = stat.read().rpartition(b")")[2].split()[0]
        except (OSError, IndexError):
            return False
        return state not in (b"Z", b"X")  # a zombie (its zygote gone, nobody reaping it) is not alive

    def kill(self) -> None:
        self.worker.kill()

    def join(self, timeout: float) -> None:
        ends = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < ends:
            time.sleep(0.005)


def _zygote_worker(connection) -> None:
    """A picture worker forked by a zygote (which already made it die with its parent)."""
    _worker(connection, None)


def _in_workers(work: list, jobs: int, seconds: float, method: str = "fork",
                more: tuple[int, int] | None = None) -> list[_Made]:
    """Make the pictures of ``work`` in ``jobs`` worker processes, one at a time each, each within ``seconds``
    (the workers kept by :func:`keep_workers` first).  ``method``: "fork" (from this process, which runs no
    other thread) or "zygote" (forked by a zygote of :mod:`backends.processes`, started afresh where other
    threads run).  ``more``: ``(descriptor, jobs)``: once the descriptor can be read, up to that many
    workers (:func:`make_ahead`: the building process has finished its own work and waits)."""
    import multiprocessing
    import time
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    results: list[_Made | None] = [None] * len(work)
    pending = list(range(len(work)))[::-1]  # popped from the end: in order
    busy: dict = {}  # connection -> (process, index, deadline)
    idle: list = []
    ended: set = set()  # the connections of workers killed (too slow) or dead

    def start():
        while _kept:
            try:
                connection, process = _kept.pop()
            except IndexError:  # taken by another thread's EPUB (a Dask worker with several threads)
                break
            if process.is_alive():
                return connection, process
            connection.close()
        if method == "zygote":
            from ..processes import start as start_worker

            try:
                worker = start_worker(__name__, _zygote_worker)
            except RuntimeError as exc:
                raise OSError(str(exc)) from None
            return worker.connection, _ZygoteChild(worker)
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(child, os.getpid()), daemon=True)
        process.start()
        child.close()
        return parent, process

    def end(connection, process) -> None:
        process.kill()
        connection.close()
        ended.add(connection)

    def give(connection, process) -> None:
        index = pending.pop()
        try:
            connection.send(work[index])
        except (OSError, ValueError) as exc:
            results[index] = f"could not be handed to a worker: {exc}"
            idle.append((connection, process))
            return
        busy[connection] = (process, index, time.monotonic() + seconds)

    workers = []
    finished = False
    try:
        workers.extend(start() for _ in range(jobs))
        idle.extend(workers)
        while pending or busy:
            while pending and idle:
                give(*idle.pop())
            if not busy:
                continue
            now = time.monotonic()
            timeout = max(0.0, min(deadline for _, _, deadline in busy.values()) - now)
            for connection in wait([*busy, *([more[0]] if more else [])], timeout):
                if more and connection == more[0]:  # told to use more cores: as many workers as there is work
                    added = max(0, min(more[1], len(workers) + len(pending)) - len(workers))
                    more = None
                    for _ in range(added):
                        workers.append(extra := start())
                        idle.append(extra)
                    continue
                process, index, _ = busy.pop(connection)
                try:
                    results[index] = connection.recv()
                    idle.append((connection, process))
                except (EOFError, OSError):  # the worker died (out of memory, killed)
                    results[index] = "its worker process ended while making it"
                    end(connection, process)
                    if pending:
                        workers.append(replacement := start())
                        idle.append(replacement)
            now = time.monotonic()
            for connection, (process, index, deadline) in list(busy.items()):
                if now >= deadline:
                    del busy[connection]
                    end(connection, process)
                    results[index] = f"making it took longer than {seconds:g} s"
                    if pending:
                        workers.append(replacement := start())
                        idle.append(replacement)
        finished = True
    finally:
        for connection, process in workers:
            if finished and _kept is not None and connection not in ended and process.is_alive():
                _kept.append((connection, process))  # for the next EPUB
                continue
            connection.close()
            process.kill()
            process.join(1)
    return results  # type: ignore[return-value]


def picture_bytes(rendered: RenderedIssue) -> int:
    """Return the bytes the pictures and cover of ``rendered`` take (stored, not deflated)."""
    pictures = [a for a in rendered.assets if a.media_type in PICTURE_TYPES]
    if rendered.cover is not None:
        pictures.append(rendered.cover)
    return sum(len(a.read()) for a in pictures)


# --- one picture -------------------------------------------------------------------------

def prepare_picture(data: bytes, media_type: str, limits: PictureLimits) -> tuple[bytes, str, tuple[int, int]]:
    """Return (bytes, media type, (width, height)) of one picture made for e-readers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the source was vetted on ingest (size, format)
        image = Image.open(io.BytesIO(data))
        if image.format == "GIF" and getattr(image, "n_frames", 1) > 1:
            return _animated_gif(data, limits.grayscale), "image/gif", image.size
        if image.format == "JPEG":
            return _jpeg(data, image, limits)
        alpha = _has_alpha(image)
        if image.format in ("GIF", "WEBP", "PNG"):
            if getattr(image, "n_frames", 1) > 1:
                image.seek(0)  # an animated WebP: its first frame
            out_type = "image/jpeg" if image.format == "WEBP" and not alpha else "image/png"
            if out_type == "image/jpeg":
                picture = _pixels(image, limits, image.size, for_jpeg=True)
                return _encode_jpeg(picture, limits.quality), out_type, picture.size
            return _png(data if image.format == "PNG" else None, image, limits)
    return data, media_type, image.size


def prepare_cover(data: bytes, limits: PictureLimits) -> bytes:
    """Return the cover at its own size: grays when asked, recompressed only under a budget."""
    if not limits.grayscale and not limits.palette:
        return data
    image = Image.open(io.BytesIO(data))
    image = image.convert("L") if limits.grayscale else image.convert("RGB")
    return _encode_jpeg(image, min(limits.quality, 85))


def _target_size(size: tuple[int, int], limits: PictureLimits) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, limits.long_side / max(width, height))
    if limits.max_pixels and width * height * scale * scale > limits.max_pixels:
        scale = math.sqrt(limits.max_pixels / (width * height))
    if scale >= 1.0:
        return size
    return max(1, int(width * scale)), max(1, int(height * scale))


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block orients nothing
        return 1


def _foreign_profile(image: Image.Image) -> bytes | None:
    """Return an embedded ICC profile that is not sRGB (pixels must be converted)."""
    icc = image.info.get("icc_profile")
    if not icc:
        return None
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except Exception:  # noqa: BLE001 - an unreadable profile is dropped
        return None
    return None if "srgb" in description.lower() else icc


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if icc is None:
        return image
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode not in ("RGB", "RGBA", "CMYK", "L"):
            image = image.convert(mode)
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode=mode if image.mode != "L" else "L")
        return converted if converted is not None else image
    except Exception:  # noqa: BLE001 - a profile that does not apply is ignored
        return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _pixels(image: Image.Image, limits: PictureLimits, raw_size: tuple[int, int], *, for_jpeg: bool) -> Image.Image:
    """Decode, orient, convert to sRGB, scale and convert the mode; no metadata survives."""
    icc = _foreign_profile(image)
    target = _target_size(raw_size, limits)
    if image.format == "JPEG" and target != raw_size:
        image.draft(None, target)  # let libjpeg decode at 1/2, 1/4 or 1/8 size: faster, same result
    ImageOps.exif_transpose(image, in_place=True)  # pixels not copied when there is nothing to turn
    image = _to_srgb(image, icc)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    alpha = _has_alpha(image) and not for_jpeg
    if limits.opaque and alpha:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _OPAQUE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image, alpha = flat, False
    if limits.grayscale:
        image = image.convert("LA" if alpha else "L")
    elif image.mode == "P" or image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if alpha else ("L" if image.mode in ("1", "L") else "RGB"))
    elif not alpha and image.mode in ("RGBA", "LA"):
        image = image.convert(image.mode[:-1])
    scaled = _target_size(image.size, limits)  # after draft and rotation: the same long side
    if scaled != image.size:
        if image.mode in ("RGBA", "LA"):  # scale premultiplied, so edges do not darken
            premultiplied = {"RGBA": "RGBa", "LA": "La"}[image.mode]
            image = image.convert(premultiplied).resize(scaled, Image.Resampling.LANCZOS).convert(image.mode)
        else:
            image = image.resize(scaled, Image.Resampling.LANCZOS)
    image.info = {}
    return image


def _encode_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.info = {}
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=False)
    return out.getvalue()


def _jpeg(data: bytes, image: Image.Image, limits: PictureLimits) -> tuple[bytes, str, tuple[int, int]]:
    unchanged = (
        _orientation(image) == 1 and _target_size(image.size, limits) == image.size
        and image.mode in ("RGB", "L") and not (limits.grayscale and image.mode != "L")
        and not image.info.get("progressive") and not image.info.get("progression")
        and _foreign_profile(image) is None
    )
    picture = _pixels(image, limits, image.size, for_jpeg=True)
    encoded = _encode_jpeg(picture, limits.quality)
    if unchanged:  # recompressing may grow a lean original: keep the smaller, both metadata-free
        stripped = strip_jpeg(data)
        if stripped is not None and len(stripped) <= len(encoded):
            return stripped, "image/jpeg", picture.size
    return encoded, "image/jpeg", picture.size


def _png(data: bytes | None, image: Image.Image, limits: PictureLimits) -> tuple[bytes, str, tuple[int, int]]:
    source_mode, size = image.mode, image.size
    transparency = image.info.get("transparency")
    unchanged = (  # the pixels stay as they are
        _target_size(size, limits) == size and _orientation(image) == 1 and _foreign_profile(image) is None
        and not (limits.opaque and _has_alpha(image))
        and not (limits.grayscale and source_mode not in ("L", "LA", "1"))
        and not (limits.palette and source_mode in ("RGB", "RGBA"))
    )
    if unchanged and source_mode in ("P", "L", "1"):
        picture = image.copy()  # palette and gray pictures keep their form (and their tRNS)
        picture.info = {}
    else:
        picture = _pixels(image, limits, size, for_jpeg=False)
        transparency = None
        if limits.palette and picture.mode in ("RGB", "RGBA"):
            method = Image.Quantize.FASTOCTREE if picture.mode == "RGBA" else Image.Quantize.MEDIANCUT
            picture = picture.quantize(256, method=method, dither=Image.Dither.FLOYDSTEINBERG)
    out = io.BytesIO()
    options = {"transparency": transparency} if transparency is not None else {}
    picture.save(out, format="PNG", optimize=True, **options)
    encoded = out.getvalue()
    if unchanged and data is not None:
        stripped = strip_png(data)
        if stripped is not None and len(stripped) < len(encoded):
            encoded = stripped
    return encoded, "image/png", picture.size


# --- metadata removal without re-encoding --------------------------------------------------

_JPEG_KEEP = {0xE0, 0xEE}  # APP0 (JFIF) and APP14 (Adobe: how the colours are transformed)


def strip_jpeg(data: bytes) -> bytes | None:
    """Return a JPEG without APPn (but JFIF and Adobe) and COM segments, or None if unreadable."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos = bytearray(b"\xff\xd8"), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        segment = data[pos:pos + 2 + length]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[pos:]
            return bytes(out)
        if not (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEEP) and marker != 0xFE:
            out += segment
        pos += 2 + length
    return None


_PNG_KEEP = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def strip_png(data: bytes) -> bytes | None:
    """Return a PNG with only its image chunks (no text, EXIF, time or colour profile)."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        return None
    out, pos = bytearray(signature), 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return None
        if kind in _PNG_KEEP:
            out += data[pos:end]
        if kind == b"IEND":
            return bytes(out)
        pos = end
    return None


def _animated_gif(data: bytes, grayscale: bool) -> bytes:
    """Drop comment and application blocks (but the looping one); gray colour tables if asked."""
    try:
        return _walk_gif(data, grayscale)
    except (IndexError, ValueError, struct.error):
        return data


def _gray_table(table: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(table), 3):
        r, g, b = table[i:i + 3]
        level = (r * 299 + g * 587 + b * 114 + 500) // 1000
        out += bytes((level, level, level))
    return bytes(out)


def _walk_gif(data: bytes, grayscale: bool) -> bytes:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    flags = data[10]
    pos = 13
    out = bytearray(data[:13])
    if flags & 0x80:
        size = 3 * (2 << (flags & 7))
        table = data[pos:pos + size]
        out += _gray_table(table) if grayscale else table
        pos += size

    def sub_blocks(start: int) -> int:
        while data[start]:
            start += data[start] + 1
        return start + 1

    while True:
        kind = data[pos]
        if kind == 0x3B:
            out += b"\x3b"
            return bytes(out)
        if kind == 0x21:
            label = data[pos + 1]
            end = sub_blocks(pos + 2)
            keep = label in (0xF9, 0x01)  # graphic control, plain text
            if label == 0xFF:
                keep = data[pos + 3:pos + 14] in (b"NETSCAPE2.0", b"ANIMEXTS1.0")
            if keep:
                out += data[pos:end]
            pos = end
        elif kind == 0x2C:
            local = data[pos + 9]
            out += data[pos:pos + 10]
            pos += 10
            if local & 0x80:
                size = 3 * (2 << (local & 7))
                table = data[pos:pos + size]
                out += _gray_table(table) if grayscale else table
                pos += size
            end = sub_blocks(pos + 1)  # LZW minimum code size, then the image data
            out += data[pos:end]
            pos = end
        else:
            raise ValueError(f"unknown GIF block {kind:#x}")


# --- references in the documents -------------------------------------------------------------

_IMG = re.compile(rb"<img\b[^>]*>")
_SRC = re.compile(rb"""\bsrc\s*=\s*["']([^"']*)["']""")


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _rewrite(document: Document, renames: dict[str, str], sizes: dict[str, tuple[int, int]]) -> Document:
    content = document.content
    for old, new in renames.items():
        content = re.sub(rb"(?<=[\"'/])" + re.escape(old.encode()) + rb"(?=[\"'#?])", new.encode(), content)

    def fix(match: re.Match[bytes]) -> bytes:
        tag = match.group(0)
        src = _SRC.search(tag)
        size = sizes.get(_basename(src.group(1).decode("utf-8", "replace"))) if src else None
        if size is None:
            return tag
        for attribute, value in zip((b"width", b"height"), size):
            tag = re.sub(rb"\b" + attribute + rb"""\s*=\s*(["'])\d+\1""", attribute + b'="%d"' % value, tag)
        return tag

    content = _IMG.sub(fix, content)
    return document if content == document.content else dataclasses.replace(document, content=content)


# --- the book's settings and its size budget -----------------------------------------------


def picture_limits(options, profile) -> PictureLimits:
    """Return the picture settings of an ``EpubConfig`` under a device ``Profile``."""
    long_side = options.max_image_px
    if profile.max_image_px is not None:
        long_side = min(long_side, profile.max_image_px)
    return PictureLimits(long_side=long_side, quality=options.jpeg_quality, grayscale=options.grayscale,
                         max_pixels=profile.max_image_pixels, opaque=profile.opaque_images)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}MB"
    return f"{max(1, round(size / 1024))}KB"


def fit_budget(rendered: RenderedIssue, prepared: RenderedIssue, limits: PictureLimits, budget: int,
               budget_text: str, pack: Callable[[RenderedIssue], None], path: Path, target: Path) -> None:
    """Pack ``rendered`` into ``path`` again with smaller pictures until the file fits ``budget``.

    ``path`` holds ``prepared`` packed; pictures are stored, not deflated, so the size of the
    book at each step is what it is now less the pictures' bytes plus the new pictures'
    bytes.  The first step that fits is found by bisection, packed and checked.
    """
    other = path.stat().st_size - picture_bytes(prepared)  # text, styles, package files, zip entries
    steps = budget_steps(limits)
    tried: dict[int, RenderedIssue] = {}

    def step(index: int) -> RenderedIssue:
        if index not in tried:
            tried[index] = prepare_pictures(rendered, steps[index])
        return tried[index]

    def fits(index: int) -> bool:
        fitting = other + picture_bytes(step(index)) <= budget
        for known in [k for k in tried if k != index and (not fitting or k > index)]:
            del tried[known]  # keep in memory only the best fitting pictures found so far
        if not fitting:
            del tried[index]
        return fitting

    last = len(steps) - 1
    if fits(last):
        low, high = 0, last
        while low < high:
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        for index in range(low, len(steps)):
            pack(step(index))
            size = path.stat().st_size
            if size <= budget:
                log.warning("%s: pictures recompressed to fit %s: %s; %s", target.name, budget_text,
                            steps[index].describe(), format_size(size))
                return
    smallest = other + picture_bytes(step(last))
    raise BackendError(
        f"cannot fit the EPUB into {budget_text}: it takes {format_size(smallest)} even with pictures at "
        f"{steps[last].describe()}, and its text and other files alone take {format_size(other)}", target)
