"""broadsheet: newspaper and periodical editions as EPUB 3 and print-ready PDF.

The public API is :func:`build`, :func:`load`, :func:`load_config` and ``__version__``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BroadsheetError
from .names import DEFAULT_FORMATS

if TYPE_CHECKING:
    from .config import load_config
    from .ingest import Edition

#: The one place the version is written (pyproject.toml reads it from here).
__version__ = "0.1.0"
#: Laid-out parts kept between builds, inside the output folder (``--no-cache`` bypasses it).
CACHE_FOLDER = ".broadsheet-cache"
#: The longest output name stem, in UTF-8 bytes: with a suffix (``-booklet.pdf``) and the
#: temporary name it is written under (``.NAME.PID.XXXXXXXX.part``) a file name stays far below
#: the 255 bytes file systems allow.
MAX_STEM_BYTES = 180

__all__ = ["build", "build_digest", "load", "load_config", "write_editions", "BroadsheetError", "__version__", "Job"]


def __getattr__(name: str):
    """Import the configuration and ingest layers on first use: ``--version`` and ``--help`` need neither."""
    if name == "load_config":
        from .config import load_config as value
    elif name == "Edition":
        from .ingest import Edition as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def load(sources: Sequence[Path], *, title: str | None = None, kind: str | None = None,
         since=None, until=None, allow_remote: bool = False, allow_remote_hosts: Sequence[str] = ()) -> list[Edition]:
    """Ingest every source; raise on the first bad one, before anything is written.

    Nothing is fetched from the network unless ``allow_remote`` (http(s) pictures from public
    addresses only; ``allow_remote_hosts`` names hosts whose addresses may be internal).
    """
    from .ingest import load_editions

    return load_editions([Path(s) for s in sources], title=title, kind=kind, since=since, until=until,
                         allow_remote=allow_remote, allow_remote_hosts=allow_remote_hosts)


@dataclass(frozen=True)
class Job:
    """One output file to write."""

    edition: Edition
    issue_index: int
    format: str
    target: Path


def short_stem(stem: str, limit: int = MAX_STEM_BYTES) -> str:
    """``stem`` if it fits in ``limit`` UTF-8 bytes, else its beginning and a hash of the whole
    (``<beginning>-<12 hex digits>``): readable, stable, and different for different stems."""
    data = stem.encode("utf-8")
    if len(data) <= limit:
        return stem
    import hashlib

    digest = hashlib.sha256(data).hexdigest()[:12]
    head = data[: limit - len(digest) - 1].decode("utf-8", "ignore").rstrip("-")
    return f"{head}-{digest}"


def plan(editions: list[Edition], formats: Sequence[str], out: Path, names: dict[int, str] | None = None) -> list[Job]:
    """Name every output: ``<publication id>-<date>[-n].<format>`` under ``out`` (or as ``names`` says);
    a name longer than ``MAX_STEM_BYTES`` is shortened with a hash (``short_stem``)."""
    jobs: list[Job] = []
    taken: set[str] = set()
    for edition in editions:
        for index, issue in enumerate(edition.publication.issues):
            stem = f"{edition.publication.id}-{issue.date.isoformat() if issue.date else 'undated'}"
            if names and id(edition) in names:
                stem = names[id(edition)]
            elif issue.edition:
                stem += "-" + "".join(c if c.isalnum() else "-" for c in issue.edition.lower()).strip("-")
            if stem != (short := short_stem(stem)):
                import logging

                logging.getLogger("broadsheet").info("%s…: output name of %d bytes shortened to %s", stem[:40],
                                                     len(stem.encode()), short)
                stem = short
            candidate, n = stem, 2
            while candidate in taken:
                candidate = f"{stem}-{n}"
                n += 1
            taken.add(candidate)
            for fmt in formats:
                jobs.append(Job(edition, index, fmt, out / f"{candidate}.{fmt}"))
    return jobs


def build(
    sources: Sequence[Path],
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    theme: str | None = None,
    title: str | None = None,
    kind: str | None = None,
    since=None,
    until=None,
    allow_remote: bool = False,
    allow_remote_hosts: Sequence[str] = (),
    page_size: str | None = None,
    print_options: dict | None = None,
    epub_options: dict | None = None,
    convert: str | None = None,
    allow_missing_glyphs: bool = False,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    cache: bool = True,
) -> list[Path]:
    """Build every issue of every source in every format; return the paths written.

    All sources are read, validated and rendered before the first file is written, so a
    bad input leaves no output behind.  ``progress(description, done, total)`` is called
    before each step.  ``print_options`` override ``[pdf]`` keys of broadsheet.toml
    (bleed, marks, variant, impose, grayscale); ``page_size`` overrides its page size;
    ``epub_options`` override ``[epub]`` keys (profile, max_size, embed_fonts, grayscale,
    writing_mode); ``convert`` (s2t, t2s, s2tw, s2hk) converts Chinese text with OpenCC.
    ``cache=False`` neither reads nor writes the cache of laid-out parts (``<out>/.broadsheet-cache``).
    """
    if "pdf" in formats:  # WeasyPrint is imported by the layout fork server while the sources are read
        from .backends import BACKENDS

        BACKENDS["pdf"].warm_up()
    editions = load(sources, title=title, kind=kind, since=since, until=until, allow_remote=allow_remote,
                    allow_remote_hosts=allow_remote_hosts)
    return write_editions(
        editions, formats=formats, out=out, theme=theme, page_size=page_size, print_options=print_options,
        epub_options=epub_options, convert=convert, allow_missing_glyphs=allow_missing_glyphs, warn=warn,
        progress=progress, cache=cache,
    )


def write_editions(
    editions: list[Edition],
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    theme: str | None = None,
    page_size: str | None = None,
    print_options: dict | None = None,
    epub_options: dict | None = None,
    convert: str | None = None,
    allow_missing_glyphs: bool = False,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    render_cache: dict | None = None,
    names: dict[int, str] | None = None,
    cache: bool = True,
) -> list[Path]:
    """Render and write loaded editions (see :func:`build`); ``render_cache`` is shared between calls."""
    from .backends import BACKENDS
    from .config import CONFIG_NAME, BroadsheetConfig, EpubConfig, PdfConfig, validate
    from .render import find_theme, render_issue

    overrides = {k: v for k, v in (print_options or {}).items() if v is not None}
    if page_size is not None:
        overrides["page_size"] = page_size
    epub_overrides = {k: v for k, v in (epub_options or {}).items() if v is not None}
    options, epub_settings = {}, {}
    for edition in editions:
        merged = {**edition.config.pdf.model_dump(), **overrides}
        options[id(edition)] = validate(PdfConfig, merged, Path("command line")) if overrides else edition.config.pdf
        merged = {**edition.config.epub.model_dump(), **epub_overrides}
        epub_settings[id(edition)] = (validate(EpubConfig, merged, Path("command line")) if epub_overrides
                                      else edition.config.epub)
    conversions = {}
    for edition in editions:
        mode = convert or edition.config.convert
        if mode is not None:
            validate(BroadsheetConfig, {"convert": mode}, Path("command line"))
            from .transform import convert_publication

            conversions[id(edition)] = convert_publication(edition.publication, mode)
    jobs = plan(editions, formats, Path(out), names)
    total = 2 * len(jobs)

    def report(step: str, job: Job, done: int) -> None:
        if progress is not None:
            progress(f"{step} {job.target.name}", done, total)

    rendered = []
    disk_caches: dict = {}  # rendered article XHTML on disk, one per theme (``cache``)
    for done, job in enumerate(jobs):
        edition = job.edition
        base = edition.config_path.parent if edition.config_path else edition.root
        # A theme named by a source folder's own broadsheet.toml stays inside that folder (or is shipped).
        own = theme is None and edition.config_path is not None and edition.config_path.name == CONFIG_NAME
        chosen = find_theme(theme or edition.config.theme, base if theme is None else Path.cwd(),
                            confine=base if own else None)
        report("Rendering", job, done)
        publication = conversions.get(id(edition), edition.publication)
        issue = publication.issues[job.issue_index]
        article_cache = render_cache
        if article_cache is None and cache and BACKENDS[job.format].render_target == "epub":
            if chosen.folders not in disk_caches:
                from .render.cache import DiskCache, folder_digest

                disk_caches[chosen.folders] = DiskCache(Path(out) / CACHE_FOLDER / "xhtml",
                                                        salt=folder_digest(chosen.template_path))
            article_cache = disk_caches[chosen.folders]
        rendered.append(render_issue(
            publication, issue, chosen, BACKENDS[job.format].render_target, print_options=options[id(edition)],
            epub_options=epub_settings[id(edition)], allow_missing_glyphs=allow_missing_glyphs, warn=warn,
            cache=article_cache,
        ))
    written = []
    for done, (job, result) in enumerate(zip(jobs, rendered), start=len(jobs)):
        report("Writing", job, done)
        backend = BACKENDS[job.format](pdf=options[id(job.edition)], epub=epub_settings[id(job.edition)],
                                       cache_folder=Path(out) / CACHE_FOLDER if cache else None)
        try:
            written.extend(backend.write(result, job.target))
        except OSError as exc:  # a full disk, a folder that cannot be written: name the output folder
            from .errors import write_error

            fault = write_error(exc, Path(out))
            if fault is None:
                raise
            raise fault from None
    for disk_cache in disk_caches.values():
        disk_cache.commit()
    return written


def build_digest(
    sources: Sequence[Path],
    spec,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    out: Path = Path("build"),
    theme: str | None = None,
    kind: str | None = None,
    convert: str | None = None,
    print_options: dict | None = None,
    epub_options: dict | None = None,
    subscribers=None,
    base: Path | None = None,
    allow_missing_glyphs: bool = False,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
):
    """Build a digest edition of ``sources`` (``spec``: a DigestSpec), or one per subscriber.

    Sources are read once; with ``subscribers`` (a SubscriberList) each subscriber's digest
    is assembled from the same model, and each article's XHTML is rendered once and reused.
    Returns (paths written, report of the single digest or of the last subscriber's).
    """
    from .config import BroadsheetConfig
    from .digest import make_digest
    from .errors import IngestError
    from .ingest import Edition

    if "pdf" in formats:
        from .backends import BACKENDS

        BACKENDS["pdf"].warm_up()
    editions = load(sources, kind=kind, since=spec.since, until=spec.until)
    config = BroadsheetConfig(theme=theme or "digest")
    folder = (base or Path.cwd()).resolve()

    def edition_of(spec_for) -> tuple[Edition | None, object]:
        publication, report = make_digest(editions, spec_for)
        if not publication.issues[0].articles:
            return None, report
        return Edition(publication=publication, config=config, root=folder, config_path=folder / "recipe.toml"), report

    def stem(edition: Edition, suffix: str = "") -> str:
        issue = edition.publication.issues[0]
        span = (issue.edition or "").replace(" – ", "-to-") or (issue.date.isoformat() if issue.date else "undated")
        return f"{edition.publication.id}-{span}{suffix}"

    if subscribers is None:
        edition, report = edition_of(spec)
        if edition is None:
            raise IngestError("no article matches the digest's filters")
        paths = write_editions([edition], formats=formats, out=out, convert=convert, print_options=print_options,
                               epub_options=epub_options, allow_missing_glyphs=allow_missing_glyphs, warn=warn,
                               progress=progress, names={id(edition): stem(edition)})
        return paths, report

    cache: dict = {}
    paths: list[Path] = []
    report = None
    people = subscribers.subscribers
    for done, person in enumerate(people):
        if progress is not None:
            progress(f"Subscriber {person.id}", done, len(people))
        personal = spec.model_copy(update={"sections": person.sections or spec.sections,
                                           "tags": person.tags or spec.tags})
        edition, report = edition_of(personal)
        if edition is None:
            if warn is not None:
                warn(f"{subscribers.path}: subscriber {person.id}: no article matches; nothing written")
            continue
        paths += write_editions([edition], formats=person.formats or formats, out=out,
                                convert=person.language or convert, print_options=print_options,
                                epub_options=epub_options, allow_missing_glyphs=allow_missing_glyphs, warn=warn,
                                render_cache=cache, names={id(edition): stem(edition, f"-{person.id}")})
    if progress is not None:
        progress("Subscribers done", len(people), len(people))
    return paths, report
