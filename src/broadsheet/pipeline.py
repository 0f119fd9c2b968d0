"""The pipeline: ingest → (digest | 简繁) → render → ``BACKENDS[format]``, one way.

:func:`plan` names every output; each edition's settings are resolved once into a :class:`Settings`
(command line > broadsheet.toml or the recipe > theme.toml > the defaults) and every file to write is one
:class:`Output`.  Nothing is written before every output has been rendered, so a bad input leaves no
output behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import CONFIG_NAME, BroadsheetConfig, EpubConfig, Overrides, PdfConfig
from .errors import IngestError
from .names import DEFAULT_FORMATS
from .paper import DEFAULT_PAGE

if TYPE_CHECKING:
    from .backends import Backend
    from .digest import DigestReport, DigestSpec
    from .ingest import Edition
    from .model import Issue
    from .recipe import SubscriberList
    from .render import Theme
    from .rendered import RenderedIssue

log = logging.getLogger("broadsheet")

#: Laid-out parts and rendered articles kept between builds, inside the output folder (``--no-cache``
#: bypasses it).
CACHE_FOLDER = ".broadsheet-cache"
#: The longest output name stem, in UTF-8 bytes: with a suffix (``-booklet.pdf``) and the temporary name
#: it is written under (``.NAME.PID.XXXXXXXX.part``) a file name stays far below the 255 bytes file
#: systems allow.
MAX_STEM_BYTES = 180

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Settings:
    """One edition's settings, resolved once."""

    theme: Theme
    pdf: PdfConfig  # its page size always chosen
    epub: EpubConfig
    convert: str | None
    allow_missing_glyphs: bool = False
    keep_punctuation: bool = False
    facsimile: str = "pages"  # names.FACSIMILE_MODES

    def render(self, publication, issue: Issue, target: str, *, cache: dict | None = None,
               memo: dict | None = None) -> RenderedIssue:
        """``issue`` of ``publication`` rendered for ``target`` as these settings say (here and in a cluster's
        workers, which hold the settings but never import this module)."""
        from .render import render_issue

        return render_issue(publication, issue, self.theme, target, print_options=self.pdf, epub_options=self.epub,
                            allow_missing_glyphs=self.allow_missing_glyphs, cache=cache, memo=memo,
                            facsimile=self.facsimile)


@dataclass(frozen=True)
class Output:
    """One file to write: which issue of which edition, by which backend, where, with what settings."""

    edition: Edition  # its publication already converted (简繁) when the settings say so, and typeset
    issue: Issue
    backend: type[Backend]
    target: Path
    settings: Settings


def load(sources: Sequence[Path], *, title: str | None = None, kind: str | None = None,
         since=None, until=None, allow_remote: bool = False, allow_remote_hosts: Sequence[str] = ()) -> list[Edition]:
    """Ingest every source; raise on the first bad one, before anything is written.

    Nothing is fetched from the network unless ``allow_remote`` (http(s) pictures from public
    addresses only; ``allow_remote_hosts`` names hosts whose addresses may be internal).
    """
    from .ingest import load_editions

    return load_editions([Path(s) for s in sources], title=title, kind=kind, since=since, until=until,
                         allow_remote=allow_remote, allow_remote_hosts=allow_remote_hosts)


def short_stem(stem: str, limit: int = MAX_STEM_BYTES) -> str:
    """``stem`` if it fits in ``limit`` UTF-8 bytes, else its beginning and a hash of the whole
    (``<beginning>-<12 hex digits>``): readable, stable, and different for different stems."""
    data = stem.encode("utf-8")
    if len(data) <= limit:
        return stem
    digest = hashlib.sha256(data).hexdigest()[:12]
    head = data[: limit - len(digest) - 1].decode("utf-8", "ignore").rstrip("-")
    return f"{head}-{digest}"


def resolve_settings(edition: Edition, overrides: Overrides, themes: dict | None = None) -> Settings:
    """An edition's settings: ``overrides`` over its broadsheet.toml (or recipe), its theme's page size
    under both, the defaults under all.  ``themes`` keeps the themes found, shared between editions."""
    from .render import find_theme

    config = overrides.over(edition.config)
    base = edition.config_path.parent if edition.config_path else edition.root
    # A theme named by a source folder's own broadsheet.toml stays inside that folder (or is shipped);
    # one named on the command line is found from the working folder.
    if overrides.theme is not None:
        key = (overrides.theme, Path.cwd(), None)
    else:
        own = edition.config_path is not None and edition.config_path.name == CONFIG_NAME
        key = (config.theme, base, base if own else None)
    themes = {} if themes is None else themes
    if key not in themes:
        themes[key] = find_theme(key[0], key[1], confine=key[2])
    theme = themes[key]
    pdf = config.pdf.model_copy(update={"page_size": config.pdf.page_size or theme.page_size or DEFAULT_PAGE})
    return Settings(theme=theme, pdf=pdf, epub=config.epub, convert=config.convert,
                    allow_missing_glyphs=overrides.allow_missing_glyphs, keep_punctuation=config.keep_punctuation,
                    facsimile=config.facsimile)


def plan(editions: list[Edition], formats: Sequence[str], out: Path, overrides: Overrides = Overrides(), *,
         stem: str | None = None, typeset: bool = True) -> list[Output]:
    """Every output of ``editions``: ``<publication id>-<date>[-n].<suffix>`` under ``out`` (``stem`` names
    the only edition's instead); a name longer than ``MAX_STEM_BYTES`` is shortened with a hash
    (``short_stem``).  Each edition's settings are resolved, and its text converted and typeset
    (``typography.py``, :func:`typeset_edition`), once.  ``typeset=False`` leaves the typesetting to the
    caller, a few issues at a time (the cluster does it while the workers build the issues before)."""
    outputs: list[Output] = []
    taken: set[str] = set()
    themes: dict = {}
    if stem is not None and len(editions) != 1:
        raise ValueError("an output stem names one edition's outputs")
    try:
        for edition in editions:
            _plan_edition(edition, formats, out, overrides, themes, stem, typeset, taken, outputs)
    except BaseException:
        _drop_pictures_ahead()
        raise
    return outputs


def _plan_edition(edition: Edition, formats: Sequence[str], out: Path, overrides: Overrides, themes: dict,
                  stem: str | None, typeset: bool, taken: set[str], outputs: list[Output]) -> None:
    from .backends import BACKENDS

    settings = _horizontal_unless_cjk(edition, resolve_settings(edition, overrides, themes))
    if typeset and "epub" in formats:
        _pictures_ahead(edition, settings)
    made = edition  # the edition as written: converted, when the settings say so, and typeset; named as it came
    if settings.convert is not None:
        from .transform import convert_publication

        made = dataclasses.replace(edition, publication=convert_publication(edition.publication,
                                                                            settings.convert))
    if typeset:
        made = typeset_edition(made, settings)
    if settings.facsimile == "off":  # no page pictures: the edition as a source without them makes it
        made = dataclasses.replace(made, publication=_without_facsimiles(made.publication))
    for issue, issue_made in zip(edition.publication.issues, made.publication.issues, strict=True):
        name = stem or _stem(edition, issue)
        if name != (short := short_stem(name)):
            log.info("%s…: output name of %d bytes shortened to %s", name[:40], len(name.encode()), short)
            name = short
        candidate, n = name, 2
        while candidate in taken:
            candidate = f"{name}-{n}"
            n += 1
        taken.add(candidate)
        for fmt in formats:
            backend = BACKENDS[fmt]
            outputs.append(Output(made, issue_made, backend, out / f"{candidate}{backend.suffix}", settings))


def _pictures_ahead(edition: Edition, settings: Settings) -> None:
    """Start making the EPUB pictures of the edition's first issue while it is typeset and rendered, on the
    cores this process leaves idle (``pictures.make_ahead``; its EPUB takes them when it is written)."""
    from .backends.epub.pictures import make_ahead, picture_limits
    from .backends.epub.profiles import get_profile
    from .render import picture_assets

    publication = _without_facsimiles(edition.publication) if settings.facsimile == "off" else edition.publication
    if publication.issues:
        make_ahead(picture_assets(publication.issues[0]), picture_limits(settings.epub,
                                                                        get_profile(settings.epub.profile)))


def _drop_pictures_ahead() -> None:
    """End the making of pictures that no EPUB took (``pictures.make_ahead``)."""
    pictures = sys.modules.get("broadsheet.backends.epub.pictures")
    if pictures is not None:
        pictures.drop_ahead()


def typeset_edition(edition: Edition, settings: Settings) -> Edition:
    """``edition`` with every article set in its language (``typography.py``); each article is set alone, so a
    few issues of an edition are set as they are in the whole."""
    from .typography import typeset_publication

    return dataclasses.replace(edition, publication=typeset_publication(
        edition.publication, keep_punctuation=settings.keep_punctuation))


def _without_facsimiles(publication):
    """``publication`` with no section's page facsimile (``--facsimile off``)."""
    if not any(s.facsimile for i in publication.issues for s in i.sections):
        return publication
    return publication.model_copy(update={"issues": tuple(
        i.model_copy(update={"sections": tuple(s.model_copy(update={"facsimile": None}) for s in i.sections)})
        for i in publication.issues)})


def _horizontal_unless_cjk(edition: Edition, settings: Settings) -> Settings:
    """Vertical writing (竖排) is for Chinese, Japanese and Korean: an edition in another language stays
    horizontal, with a warning naming it (the pages turn left to right, the text runs as it reads)."""
    from .lang import is_cjk

    language = edition.publication.language
    if settings.epub.writing_mode != "vertical" or is_cjk(language):
        return settings
    log.warning("%s (%s): the vertical writing mode is for Chinese, Japanese and Korean text: this edition "
                "stays horizontal", edition.publication.title, language)
    return dataclasses.replace(settings, epub=settings.epub.model_copy(update={"writing_mode": "horizontal"}))


def _stem(edition: Edition, issue: Issue) -> str:
    stem = f"{edition.publication.id}-{issue.date.isoformat() if issue.date else 'undated'}"
    if issue.edition:
        stem += "-" + "".join(c if c.isalnum() else "-" for c in issue.edition.lower()).strip("-")
    return stem


def warm_up(formats: Sequence[str]) -> None:
    """Start what the backends will need while the sources are read (the PDF's layout processes)."""
    from .backends import BACKENDS

    for fmt in dict.fromkeys(formats):
        BACKENDS[fmt].warm_up()


def build(
    sources: Sequence[Path],
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    overrides: Overrides = Overrides(),
    title: str | None = None,
    kind: str | None = None,
    since=None,
    until=None,
    allow_remote: bool = False,
    allow_remote_hosts: Sequence[str] = (),
    progress: Progress | None = None,
    cache: bool = True,
) -> list[Path]:
    """Build every issue of every source in every format; return the paths written.

    All sources are read, validated and rendered before the first file is written, so a bad input
    leaves no output behind.  ``progress(description, done, total)`` is called before each step;
    ``overrides`` (see :class:`config.Overrides`) goes over each source's broadsheet.toml.  ``cache=False``
    neither reads nor writes the cache in ``<out>/.broadsheet-cache``.
    """
    with contextlib.ExitStack() as connection:
        client = None
        reading: contextlib.AbstractContextManager = contextlib.nullcontext()
        if overrides.cluster is not None:  # --cluster: connected first, so that the workers read the sources too
            from .cluster import connected, reading_on

            client = connection.enter_context(connected(overrides.cluster))
            reading = reading_on(client, [Path(s) for s in sources], formats)
        else:
            warm_up(formats)
        with reading:
            editions = load(sources, title=title, kind=kind, since=since, until=until, allow_remote=allow_remote,
                            allow_remote_hosts=allow_remote_hosts)
        cluster = cluster_of(overrides, [(edition.config, edition.config_path) for edition in editions],
                             sources=True)
        if cluster is not None:  # --cluster or [cluster]: one task per output (cluster.py)
            from .cluster import write_editions as on_cluster

            return on_cluster(cluster, _steps(), editions, formats=formats, out=out, overrides=overrides,
                              progress=progress, cache_folder=Path(out) / CACHE_FOLDER if cache else None,
                              client=client)
    _out_of_the_collector()
    outputs = plan(editions, formats, Path(out), overrides)
    del editions  # the model as read; the outputs hold it typeset
    return write_outputs(outputs, out=out, progress=progress, cache=cache)


def _out_of_the_collector() -> None:
    """Once the sources of a build are read: collect the garbage of the reading, then move what is left (the
    model, the libraries) out of the cyclic garbage collector's reach (``gc.freeze``).  The collections while
    the edition is typeset, rendered and packed then walk only what those steps make, not the model again and
    again (7% of the EPUB of 100 articles); and the processes forked from here on (the pictures, the cover, the
    layout processes) leave the model's memory shared with this one when they collect.  What is moved is still
    freed when nothing refers to it.  Only here, in a build that reads its sources once: the watch mode keeps
    running and does not freeze."""
    from .processes import out_of_the_collector

    out_of_the_collector()


def _steps():
    """What cluster.py borrows of the pipeline (it never imports it)."""
    from .cluster import Steps

    return Steps(plan=plan, typeset=typeset_edition, write_manifests=_write_manifests, written=_written,
                 subscriber_digest=subscriber_digest)


def cluster_of(overrides: Overrides, configs: Sequence[tuple[BroadsheetConfig, Path | None]], *,
               sources: bool = False):
    """The cluster a build runs on: ``--cluster``, else the one [cluster] its broadsheet.toml files (or
    recipe) name; ``None``: this machine.

    ``sources``: the files are the sources' own broadsheet.toml, which the user may not have written.  Such a
    file may name a local cluster, of at most one worker per core (more are cut to that, with a warning), but
    not a running scheduler: a client trusts what a scheduler and its workers send back (Dask unpickles it),
    and nothing is reached over the network unless the user asks.  A ``tcp://`` cluster is given with
    ``--cluster`` or in a recipe."""
    if overrides.cluster is not None:
        return overrides.cluster
    named = {config.cluster: path for config, path in configs if config.cluster.address is not None}
    if len(named) > 1:
        first, second = list(named.items())[:2]
        raise IngestError(f"[cluster] differs from that of {second[1]} ({second[0].address}): give --cluster",
                          first[1])
    if not named or not sources:
        return next(iter(named), None)
    (cluster, path), = named.items()
    if cluster.address.startswith("tcp://"):
        raise IngestError(f"[cluster] names a running scheduler ({cluster.address}): a source's own broadsheet.toml "
                          f"may name only a local cluster; give --cluster {cluster.address} to build there", path)
    from .limits import cores

    workers = int(cluster.address.partition(":")[2] or 0)
    if workers > cores():
        log.warning("%s: [cluster] asks for %d workers; this machine has %d cores, so %d are started", path,
                    workers, cores(), cores())
        return cluster.model_copy(update={"address": f"local:{cores()}"})
    return cluster


def write_editions(
    editions: list[Edition],
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    overrides: Overrides = Overrides(),
    progress: Progress | None = None,
    render_cache: dict | None = None,
    stem: str | None = None,
    cache: bool = True,
    kind: str = "issue",
) -> list[Path]:
    """Render and write loaded editions (see :func:`build`); ``render_cache`` is shared between calls.

    After an edition's outputs, its manifest (``manifest.py``, ``kind`` "issue" or "digest") is written in
    ``<out>/.broadsheet/editions/``; it is not among the paths returned."""
    return write_outputs(plan(editions, formats, Path(out), overrides, stem=stem), out=out, progress=progress,
                         render_cache=render_cache, cache=cache, kind=kind)


def write_outputs(outputs: list[Output], *, out: Path, progress: Progress | None = None,
                  render_cache: dict | None = None, cache: bool = True, kind: str = "issue") -> list[Path]:
    """Render and write planned outputs (:func:`plan`; see :func:`write_editions`).  The outputs hold the
    editions as converted and typeset: a caller that lets go of the editions it read before this call
    holds one copy of the model while the outputs are made, not two (an archive's model is the largest
    thing a build holds)."""
    out = Path(out)
    total = 2 * len(outputs)

    def report(step: str, output: Output, done: int) -> None:
        if progress is not None:
            progress(f"{step} {output.target.name}", done, total)

    try:
        _covers_ahead(outputs)
        return _write_outputs(outputs, report, render_cache, cache, out, kind)
    finally:
        _drop_pictures_ahead()  # pictures made ahead that no EPUB took
        _drop_covers_ahead()


def _covers_ahead(outputs: list[Output]) -> None:
    """Where two processes may run, draw the EPUB covers of many outputs in two (``cover.covers_ahead``)."""
    from .limits import current

    epubs = [output for output in outputs if output.backend.render_target == "epub"]
    if epubs and current().pool() >= 2:  # how many covers repay a second process is the cover's to say
        from .render import cover_args
        from .render.cover import covers_ahead

        covers_ahead([cover_args(output.edition.publication, output.issue) for output in epubs])


def _drop_covers_ahead() -> None:
    cover = sys.modules.get("broadsheet.render.cover")
    if cover is not None:
        cover.drop_covers_ahead()


def _write_outputs(outputs: list[Output], report, render_cache: dict | None, cache: bool, out: Path,
                   kind: str) -> list[Path]:
    rendered = []
    disk_caches: dict = {}  # rendered article XHTML on disk, one per theme (``cache``)
    memo: dict = {}  # what the issues share: each theme's stylesheets, read and checked once
    for done, output in enumerate(outputs):
        report("Rendering", output, done)
        settings = output.settings
        article_cache = render_cache
        if article_cache is None and cache and output.backend.render_target == "epub":
            folders = settings.theme.folders
            if folders not in disk_caches:
                from .render.cache import DiskCache, folder_digest

                disk_caches[folders] = DiskCache(out / CACHE_FOLDER / "xhtml",
                                                 salt=folder_digest(settings.theme.template_path))
            article_cache = disk_caches[folders]
        rendered.append(settings.render(output.edition.publication, output.issue, output.backend.render_target,
                                        cache=article_cache, memo=memo))
    # Outputs are written in order, each once those before it are: a PDF laid out whole is started ahead
    # (``Backend.start``, up to ``jobs`` layouts at a time) and written in its turn, so that the small
    # editions of an archive are laid out side by side while this process writes the outputs before them;
    # a fault stops the build in the same output, with the same files written, as writing one by one would.
    from .backends import Pending

    written: list[list[Path]] = [[] for _ in outputs]
    queue: deque[tuple[int, Pending]] = deque()  # started or waiting, not written yet, in order

    def finish_oldest() -> None:
        index, pending = queue.popleft()
        written[index] = _written(pending.finish, out)

    with contextlib.ExitStack() as sharing:
        sharing.callback(_cancel, queue)
        _share(sharing, [output.backend for output in outputs])
        for index, (output, result) in enumerate(zip(outputs, rendered)):
            report("Writing", output, len(outputs) + index)
            backend = output.backend(pdf=output.settings.pdf, epub=output.settings.epub,
                                     cache_folder=out / CACHE_FOLDER if cache else None)
            start = getattr(backend, "start", None)
            pending = start(result, output.target) if start is not None else \
                Pending(functools.partial(backend.write, result, output.target))
            queue.append((index, pending))
            while queue and (pending.alone or not queue[0][1].running or (
                    pending.running and sum(p.running for _, p in queue) >= pending.jobs)):
                finish_oldest()
        while queue:
            finish_oldest()
    editions_written: dict[Path, tuple[RenderedIssue, list[Path]]] = {}
    for output, result, paths in zip(outputs, rendered, written):
        _, files = editions_written.setdefault(output.target.with_suffix(""), (result, []))
        files.extend(paths)
    _write_manifests(editions_written, out, kind)
    for disk_cache in disk_caches.values():
        disk_cache.commit()
    return [path for paths in written for path in paths]


def _share(stack: contextlib.ExitStack, backends) -> None:
    """Enter each backend's ``sharing()`` context once (what its outputs share in one build)."""
    for backend in dict.fromkeys(backends):
        sharing = getattr(backend, "sharing", None)
        if sharing is not None:
            stack.enter_context(sharing())


def _cancel(queue) -> None:
    """End what still runs for outputs not written (a fault stopped the build before their turn)."""
    for _, pending in queue:
        pending.cancel()


def _written(write: Callable[[], list[Path]], out: Path) -> list[Path]:
    """``write()``, a full disk or a folder that cannot be written named by the output folder."""
    from .output import written

    return written(write, out)


def _write_manifests(editions: dict[Path, tuple[RenderedIssue, list[Path]]], out: Path, kind: str) -> None:
    """One manifest per edition written (``manifest.py``): what ``publish`` reads back."""
    from . import manifest

    for stem_path, (result, files) in editions.items():
        record = manifest.record(result, files, stem_path.name, kind=kind)
        _written(lambda: manifest.write(out, stem_path.name, record), out)


def build_digest(
    sources: Sequence[Path],
    spec: DigestSpec,
    *,
    config: BroadsheetConfig = BroadsheetConfig(theme="digest"),
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    overrides: Overrides = Overrides(),
    kind: str | None = None,
    subscribers: SubscriberList | None = None,
    base: Path | None = None,
    progress: Progress | None = None,
    written: dict[str, list[Path]] | None = None,
    render_cache: dict | None = None,
    seen: list | None = None,
) -> tuple[list[Path], DigestReport | None]:
    """Build a digest edition of ``sources`` (``spec``), or one per subscriber (``written``, when
    given, is filled with each subscriber's id and the paths written for them).  ``render_cache``
    keeps rendered articles between calls (``digest --watch``); ``seen``, when given, is extended with
    the editions read and the digest editions made (what a watch depends on).

    ``config`` holds the recipe's settings (theme, conversion, [pdf], [epub]; its theme is found from
    ``base``, the recipe's folder).  Sources are read once; with ``subscribers`` each subscriber's digest
    is assembled from the same model, and each article's XHTML is rendered once and reused.  Returns
    (paths written, report of the single digest or of the last subscriber's).
    """
    warm_up(formats)
    editions = load(sources, kind=kind, since=spec.since, until=spec.until)
    folder = (base or Path.cwd()).resolve()
    if seen is not None:
        seen.extend(editions)

    def edition_of(spec_for: DigestSpec) -> tuple[Edition | None, DigestReport]:
        return _digest_edition(editions, spec_for, config, folder, seen)

    cluster = cluster_of(overrides, [(config, None)])
    if subscribers is None:
        edition, report = edition_of(spec)
        if edition is None:
            raise IngestError("no article matches the digest's filters")
        if cluster is not None:
            from .cluster import write_editions as on_cluster

            return on_cluster(cluster, _steps(), [edition], formats=formats, out=out, overrides=overrides, progress=progress,
                              stem=_digest_stem(edition), kind="digest", cache_folder=Path(out) / CACHE_FOLDER), report
        outputs = plan([edition], formats, Path(out), overrides, stem=_digest_stem(edition))
        editions.clear()  # the archive as read, and the digest before typesetting: the outputs hold what is written
        del edition
        paths = write_outputs(outputs, out=out, progress=progress, render_cache=render_cache, kind="digest")
        return paths, report

    people = subscribers.subscribers
    if cluster is not None:  # a few subscribers per task (cluster.py)
        from .cluster import write_digests

        return write_digests(cluster, _steps(), editions, spec, people, digest_config=config, folder=folder, formats=formats,
                             out=out, overrides=overrides, progress=progress, written=written,
                             subscribers_path=subscribers.path), None
    cache: dict = {} if render_cache is None else render_cache
    paths: list[Path] = []
    report = None
    from .backends import BACKENDS

    with contextlib.ExitStack() as sharing:  # the subscribers' editions share the picture workers
        _share(sharing, [BACKENDS[fmt] for person in people for fmt in (person.formats or formats)])
        for done, person in enumerate(people):
            if progress is not None:
                progress(f"Subscriber {person.id}", done, len(people))
            mine_paths, report = subscriber_digest(editions, spec, person, config=config, folder=folder,
                                                   formats=formats, out=out, overrides=overrides, render_cache=cache,
                                                   seen=seen)
            if mine_paths is None:
                log.warning("%s: subscriber %s: no article matches; nothing written", subscribers.path, person.id)
                continue
            paths += mine_paths
            if written is not None:
                written[person.id] = list(mine_paths)
    if progress is not None:
        progress("Subscribers done", len(people), len(people))
    return paths, report


def subscriber_digest(editions: list[Edition], spec: DigestSpec, person, *, config: BroadsheetConfig, folder: Path,
                      formats: Sequence[str], out: Path, overrides: Overrides, render_cache: dict | None,
                      seen: list | None = None, cache: bool = True) -> tuple[list[Path] | None, DigestReport]:
    """One subscriber's digest of ``editions`` (their sections and tags over ``spec``, their language and
    formats over the recipe's), written into ``out``: (the paths written, or ``None`` when no article
    matches; the digest's report)."""
    personal = spec.model_copy(update={"sections": person.sections or spec.sections,
                                       "tags": person.tags or spec.tags})
    edition, report = _digest_edition(editions, personal, config, folder, seen)
    if edition is None:
        return None, report
    mine = dataclasses.replace(overrides, convert=person.language or overrides.convert)
    return write_editions([edition], formats=person.formats or formats, out=out, overrides=mine,
                          render_cache=render_cache, stem=_digest_stem(edition, f"-{person.id}"), kind="digest",
                          cache=cache), report


def _digest_edition(editions: list[Edition], spec: DigestSpec, config: BroadsheetConfig, folder: Path,
                    seen: list | None) -> tuple[Edition | None, DigestReport]:
    """The digest of ``editions`` by ``spec`` as an edition of ``folder`` (``None`` when no article matches),
    and its report; ``seen``, when given, gets the edition made."""
    from .digest import make_digest
    from .ingest import Edition

    publication, report = make_digest(editions, spec)
    if not publication.issues[0].articles:
        return None, report
    made = Edition(publication=publication, config=config, root=folder, config_path=None)
    if seen is not None:
        seen.append(made)
    return made, report


def _digest_stem(edition: Edition, suffix: str = "") -> str:
    """A digest's output name: ``<publication id>-<span of its dates>[<suffix>]``."""
    issue = edition.publication.issues[0]
    span = (issue.edition or "").replace(" – ", "-to-") or (issue.date.isoformat() if issue.date else "undated")
    return f"{edition.publication.id}-{span}{suffix}"
