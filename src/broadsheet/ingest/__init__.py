"""Ingest: turn sources on disk into the chapter model.

Sources are files or folders of any kind an ingester knows (Markdown articles, e-paper
text dumps, saved e-paper sites, article pages, feeds), detected from their content or
forced with ``kind``.  Each source is read into Drafts (see ``base``); Drafts are grouped
into issues — by publication folder and issue folder where there is configuration, else by
publication and date — and assembled: sections merged and ordered by the order that
issue.toml declares, then by printed page label; articles ordered within a section;
article ids made unique.  Every fault names the file it was found in.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as dt
import importlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ..config import CONFIG_NAME, ISSUE_NAME, BroadsheetConfig, IssueConfig, load_config, load_issue_config
from ..errors import ConfigError, IngestError
from ..files import entries, leads_out, open_inside, roots_resolved
from ..limits import quote
from ..model import Facsimile, Issue, Publication, Region, Section, one_line
from ..names import SOURCE_KINDS
from .base import (Context, Draft, DraftFacsimile, DraftSection, find_date, guess_language, page_sort_key,
                   publication_id)

log = logging.getLogger("broadsheet")

#: kind → module; a new source kind is a name in names.SOURCE_KINDS and a module here of that name.
INGESTERS = {kind: kind for kind in SOURCE_KINDS}
SOURCE_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".htm", ".html", ".xhtml", ".shtml", ".xml", ".rss",
                   ".atom", ".rdf", ".feed"}
DETECT_BYTES = 64 * 1024


def ingester(kind: str) -> ModuleType:
    if kind not in INGESTERS:
        raise IngestError(f"unknown source kind {kind!r} (known: {', '.join(sorted(available_kinds()))})")
    return importlib.import_module(f"{__name__}.{INGESTERS[kind]}")


def available_kinds() -> list[str]:
    kinds = []
    for kind, module in INGESTERS.items():
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError:
            continue
        kinds.append(kind)
    return kinds


def detect_kind(path: Path, root: Path | None = None) -> str:
    """Return the kind of a source file from its content (and name); read only inside ``root``
    (default: the file's own folder)."""
    try:
        with open_inside(path, root if root is not None else os.path.realpath(path.parent), "source") as handle:
            head = handle.read(DETECT_BYTES)
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror}", path) from None
    scores = []
    for kind in available_kinds():
        module = ingester(kind)
        scores.append((module.detect(path, head), kind))
    score, kind = max(scores)
    if score <= 0:
        raise IngestError("unknown source format (expected Markdown, an e-paper text dump or page, an article "
                          "page or a feed)", path)
    return kind


@dataclass(frozen=True)
class Edition:
    """A loaded publication: the model, the configuration it came with, and its folder."""

    publication: Publication
    config: BroadsheetConfig
    root: Path
    config_path: Path | None


@dataclass
class _Batch:
    """The drafts of one issue folder (or of one loose source)."""

    config_path: Path | None
    config: BroadsheetConfig
    root: Path
    folder: Path | None
    issue: IssueConfig
    drafts: list[Draft] = field(default_factory=list)
    name_date: dt.date | None = None
    fallback_title: str = ""


_SKIPPED: contextvars.ContextVar[list[IngestError] | None] = contextvars.ContextVar("skipped", default=None)


@contextlib.contextmanager
def keep_going():
    """Within this block a source that cannot be read is named in the log and skipped, not fatal.

    Yields the list of the faults of the sources skipped; when every source is skipped, loading still fails.
    """
    skipped: list[IngestError] = []
    token = _SKIPPED.set(skipped)
    try:
        yield skipped
    finally:
        _SKIPPED.reset(token)


def _skip(exc: IngestError) -> bool:
    """Record a source's fault and go on (True) under :func:`keep_going`; else the caller raises."""
    skipped = _SKIPPED.get()
    if skipped is None:
        return False
    skipped.append(exc)
    log.info("%s (skipped)", exc)
    return True


def load_editions(
    sources: Sequence[Path], *, title: str | None = None, kind: str | None = None,
    since: dt.date | None = None, until: dt.date | None = None, allow_remote: bool = False,
    allow_remote_hosts: Sequence[str] = (),
) -> list[Edition]:
    """Read every source and assemble its issues; raise on the first bad one.

    ``allow_remote_hosts``: with ``allow_remote``, hosts whose addresses may be internal
    (canonical patterns, see ``remote.host_pattern``)."""
    if kind is not None:
        ingester(kind)
    hosts = tuple(allow_remote_hosts)
    with roots_resolved():
        batches = _in_turn([_ahead(lambda source=source: _begun(Path(source), kind, since, until, allow_remote, hosts))
                            for source in sources])  # every source handed to the reader before the first is taken in
    if not batches and _SKIPPED.get():
        raise IngestError(f"nothing left to read: every source was skipped ({len(_SKIPPED.get())})")
    groups: dict[tuple, list[_Batch]] = {}
    for batch in batches:
        for part in ([batch] if batch.config_path or title else _by_site(batch)):
            pub_key = str(part.config_path) if part.config_path else (title or _site_key(_hint(part))
                                                                       or part.fallback_title)
            groups.setdefault(pub_key, []).append(part)
    return [_edition(group, title) for group in (_once(group) for group in groups.values()) if group]


def _once(batches: list[_Batch]) -> list[_Batch]:
    """Keep each feed entry of one publication once, when several feeds give it (a site's Atom and RSS feeds):
    the same entry by link, or by id or title and text within feeds of one title.  The fuller copy (the full
    article rather than a summary, else the longer) takes the place of the first."""
    seen: dict[str, tuple[Draft, DraftSection, int]] = {}
    dropped = 0
    for batch in batches:
        for draft in batch.drafts:
            if not draft.entry_keys:
                continue
            site = _site_key(draft.publication) or ""
            for section in draft.sections:
                kept = []
                for article in section.articles:
                    # A link names one page wherever it is found; ids and texts are compared within one site.
                    keys = tuple(k if k.startswith("link:") else f"{site}\n{k}"
                                 for k in draft.entry_keys.get(id(article), ()))
                    match = next((seen[k] for k in keys if k in seen and seen[k][0] is not draft), None)
                    if match is None:
                        kept.append(article)
                        for key in keys:
                            seen.setdefault(key, (draft, section, id(article)))
                        continue
                    dropped += 1
                    first_draft, first_section, first_id = match
                    position = next((n for n, a in enumerate(first_section.articles) if id(a) == first_id), None)
                    if position is not None and _fuller(article, draft, first_section.articles[position], first_draft):
                        first_section.articles[position] = article
                        first_draft.entry_keys[id(article)] = draft.entry_keys.get(id(article), ())
                        if id(article) not in draft.summaries:
                            first_draft.summaries.discard(id(article))
                        else:
                            first_draft.summaries.add(id(article))
                        for key in keys:
                            seen[key] = (first_draft, first_section, id(article))
                    log.info("%s: %s is also in %s; kept once", draft.source, quote(article.title),
                             first_draft.source)
                section.articles[:] = kept
            draft.sections = [s for s in draft.sections if s.articles]
        batch.drafts = [d for d in batch.drafts if d.sections or not d.entry_keys]
    return [b for b in batches if b.drafts] if dropped else batches


def _fuller(article, draft: Draft, other, other_draft: Draft) -> bool:
    """Whether ``article`` is the fuller copy of an entry: the full text rather than a summary, else longer."""
    summary, other_summary = id(article) in draft.summaries, id(other) in other_draft.summaries
    if summary != other_summary:
        return not summary
    return _text_length(article) > _text_length(other)


def _text_length(article) -> int:
    return sum(len(getattr(getattr(block, "content", None), "text", "") or "") for block in article.blocks)


#: Source kinds saved from the web page by page, whose drafts name the site they come from (``Draft.publication``).
#: (A folder of feeds stays one publication, a section per feed.)
WEB_KINDS = {"article"}


def _site_key(name: str | None) -> str | None:
    return " ".join(name.split()).casefold() if name else None


def _by_site(batch: _Batch) -> list[_Batch]:
    """A folder of article pages from several sites, without configuration: one batch per site, named by
    it; sources of other kinds, and pages that name no site, stay in the folder's own batch."""
    sites: dict[str, list[Draft]] = {}
    rest: list[Draft] = []
    for draft in batch.drafts:
        key = _site_key(draft.publication) if draft.kind in WEB_KINDS else None
        if key:
            sites.setdefault(key, []).append(draft)
        else:
            rest.append(draft)
    if len(sites) <= 1:
        return [batch]
    parts = [dataclasses.replace(batch, drafts=drafts, fallback_title=drafts[0].publication)
             for drafts in sites.values()]
    if rest:
        parts.append(dataclasses.replace(batch, drafts=rest))
    log.info("%s: pages of %d sites, one publication each", batch.folder or batch.root, len(sites))
    return parts


def _hint(batch: _Batch) -> str | None:
    return next((d.publication for d in batch.drafts if d.publication), None)


def _find_config(folder: Path) -> Path | None:
    # A broadsheet.toml or issue.toml that is a link out is found here and refused by name when read.
    if (folder / CONFIG_NAME).is_file():
        return folder / CONFIG_NAME
    if (folder / ISSUE_NAME).is_file() and (folder.parent / CONFIG_NAME).is_file():
        return folder.parent / CONFIG_NAME
    return None


def _begun(source: Path, kind: str | None, since, until, allow_remote: bool = False,
           remote_hosts: tuple[str, ...] = ()) -> Callable[[], list[_Batch]]:
    """The batches of one source, in two steps: this call finds its issue folders and hands them to the reader
    (:func:`read_with`), which starts on them at once; the function it returns gives their batches, in order, a
    fault raised there (or skipped, :func:`keep_going`).  The publications of an archive are all begun before the
    first is finished: a reader elsewhere reads the second while this process takes in the first."""
    if not source.exists():
        raise IngestError("no such file or folder", source)
    if source.is_symlink():  # the source named on the command line may be a link: the user chose it
        source = Path(os.path.realpath(source))
    folder = source.parent if source.is_file() else source
    config_path = _find_config(folder)
    root = (config_path.parent if config_path else folder).resolve()
    config = load_config(config_path, root=root) if config_path else BroadsheetConfig()
    context = Context(root=root, language=config.publication.language, since=since, until=until,
                      allow_remote=allow_remote, remote_hosts=remote_hosts)

    if source.is_file():
        issue_cfg = (load_issue_config(folder / ISSUE_NAME, root=root) if (folder / ISSUE_NAME).is_file()
                     else IssueConfig())
        batch = _Batch(config_path, config, root, folder if (folder / ISSUE_NAME).is_file() else None, issue_cfg,
                       name_date=_date_from(source.stem) or _date_from(folder.name), fallback_title="")
        batch.drafts = _load(kind or detect_kind(source, root), source, context)
        if not any(s.articles for d in batch.drafts for s in d.sections):
            raise IngestError("no articles found", source)
        batch.fallback_title = _first_title(batch) or source.stem
        return lambda: [batch]

    if config_path is None and not _is_issue_folder(source, root):  # an archive: publication folders below it
        publications = _publication_folders(source, root)
        if publications:
            begun = [_ahead(lambda publication=publication: _begun(publication, kind, since, until, allow_remote,
                                                                    remote_hosts)) for publication in publications]

            def archive() -> list[_Batch]:
                return _in_turn(begun) + _loose_issues(source, kind, root, config, context)

            return archive

    skipped_at_start = len(_SKIPPED.get() or ())
    folders = _issue_folders(source, kind, root)
    skipped_finding = len(_SKIPPED.get() or ()) - skipped_at_start  # linked folders refused (--keep-going)
    pending = _issue_batches(folders, (config_path, config, root, _folder_title(source), kind, context))

    def issues() -> list[_Batch]:
        skipped_before = len(_SKIPPED.get() or ())
        found = [batch for batch in pending if batch is not None]
        if not found and (skipped_finding or len(_SKIPPED.get() or ()) > skipped_before):
            return []  # every issue folder was skipped (--keep-going), each named
        if not found:
            raise IngestError("no articles found: expected Markdown, text dumps, e-paper pages or feeds", source)
        return found

    return issues


def _in_turn(begun: Sequence[Callable[[], list[_Batch]]]) -> list[_Batch]:
    """The batches of sources begun (:func:`_ahead`), taken in one after the other; a source's fault raised, or
    under :func:`keep_going` named and skipped."""
    batches: list[_Batch] = []
    for source in begun:
        try:
            batches.extend(source())
        except IngestError as exc:
            if not _skip(exc):
                raise
    return batches


#: While a publication is begun ahead of its turn (:func:`_ahead`), what this thread logs is kept here.
_KEPT_LOG: contextvars.ContextVar[list[logging.LogRecord] | None] = contextvars.ContextVar("kept_log", default=None)


def _kept_for_later(record: logging.LogRecord) -> bool:
    """The log's filter: a record logged while a publication is begun ahead is kept, to be told in its turn."""
    kept = _KEPT_LOG.get()
    if kept is None:
        return True
    kept.append(record)
    return False


log.addFilter(_kept_for_later)


def _ahead(begin: Callable[[], Callable[[], list[_Batch]]]) -> Callable[[], list[_Batch]]:
    """``begin()`` now, ahead of its turn; what it logs, the faults it skips (:func:`keep_going`) and the fault
    that stops it are kept and told, skipped or raised when the function returned is called, in its turn, so
    that beginning early changes nothing but the time."""
    outer = _SKIPPED.get()
    skipped_token = _SKIPPED.set([] if outer is not None else None)
    records: list[logging.LogRecord] = []
    log_token = _KEPT_LOG.set(records)
    fault: Exception | None = None
    try:
        finish = begin()
    except Exception as exc:  # a source's fault, a bad broadsheet.toml, a folder that cannot be listed: in turn
        fault = exc
    finally:
        skipped = _SKIPPED.get()
        _KEPT_LOG.reset(log_token)
        _SKIPPED.reset(skipped_token)

    def in_turn() -> list[_Batch]:
        for record in records:
            log.handle(record)
        if skipped:
            _SKIPPED.get().extend(skipped)
        if fault is not None:
            raise fault
        return finish()

    return in_turn


#: How the issue folders of a source are read elsewhere (:func:`read_with`): None, here, one after the other.
_READER: contextvars.ContextVar = contextvars.ContextVar("reader", default=None)

#: At most this many issue folders in one piece of reading handed to a reader.
READ_CHUNK = 16


@contextlib.contextmanager
def read_with(reader):
    """Within this block the issue folders of a source are read by ``reader(function, arguments)``, which starts
    ``function(*a)`` for each tuple ``a`` of ``arguments`` at once (in other processes: both pickle) and returns
    an iterator of what each call returned, in their order, having told (logged here) what the call logged
    before it gives it.
    A fault of the sources is the same as reading them here, one after the other: the same batches, the same
    faults skipped under :func:`keep_going`, the same first fault raised, the same messages before it."""
    token = _READER.set(reader)
    try:
        yield
    finally:
        _READER.reset(token)


def _issue_batches(folders: list[Path], how: tuple) -> Iterator[_Batch | None]:
    """The batch of each issue folder, in order (None for a folder whose every source was skipped), read as they
    are taken; a reader (:func:`read_with`) starts on them at once."""
    reader = _READER.get()
    context = how[-1]
    if reader is None or len(folders) < 2 or context.allow_remote:  # what is fetched is fetched from here
        return (_read_issue_folder(issue_dir, *how) for issue_dir in folders)
    size = max(1, min(READ_CHUNK, len(folders) // 8 or 1))
    keep = _SKIPPED.get() is not None
    return _read_by(reader(read_issue_folders, [(folders[n:n + size], how, keep)
                                                for n in range(0, len(folders), size)]))


def _read_by(results: Iterator[tuple]) -> Iterator[_Batch | None]:
    """The batches a reader gives, the faults it skipped recorded as they are taken."""
    for batches, faults, fault in results:
        skipped = _SKIPPED.get()
        if skipped is not None:
            skipped.extend(faults)
        yield from batches
        if fault is not None:
            raise fault


def read_issue_folders(folders: list[Path], how: tuple, keep: bool) -> tuple[list, list[IngestError], IngestError | None]:
    """Read ``folders`` one after the other, as a build does (a reader's piece of work, see :func:`read_with`):
    their batches, the faults skipped (``keep``: as under :func:`keep_going`) and the fault that stopped the
    reading, if one did."""
    token = _SKIPPED.set([] if keep else None)
    found: list[_Batch | None] = []
    try:
        for issue_dir in folders:
            found.append(_read_issue_folder(issue_dir, *how))
        return found, _SKIPPED.get() or [], None
    except IngestError as exc:
        return found, _SKIPPED.get() or [], exc
    finally:
        _SKIPPED.reset(token)


def _read_issue_folder(issue_dir: Path, config_path: Path | None, config: BroadsheetConfig, root: Path,
                       fallback_title: str, kind: str | None, context: Context) -> _Batch | None:
    """One issue folder's batch; None when every source in it was skipped (:func:`keep_going`), each named."""
    issue_cfg = load_issue_config(issue_dir / ISSUE_NAME, root=root)
    batch = _Batch(config_path, config, root, issue_dir, issue_cfg, name_date=_date_from(issue_dir.name),
                   fallback_title=fallback_title)
    skipped_before = len(_SKIPPED.get() or ())
    for outcome in _read_items(_items(issue_dir, kind, root), context):
        if isinstance(outcome, IngestError):
            if not _skip(outcome):
                raise outcome
        else:
            batch.drafts.extend(outcome)
    if not any(s.articles for d in batch.drafts for s in d.sections):
        if len(_SKIPPED.get() or ()) > skipped_before:
            return None
        raise IngestError("no articles found", issue_dir)
    return batch


#: From this many sources up, an issue folder is read by two processes (:func:`_read_items`).
SPLIT_READING = 48


def _read_items(items: list[tuple[str, Path]], context: Context) -> Iterator[list[Draft] | IngestError]:
    """Each source's drafts, or its fault, in order, as :func:`_load` gives them and logs them.

    An issue folder of :data:`SPLIT_READING` sources or more, where the limits allow two processes at once and
    nothing is fetched, is read by two: a child forked for it (``processes.fork_call``) reads the second half
    while this process reads the first.  What the child logs is kept and told here in its turn, before its
    source's drafts, so that the messages, the faults and the drafts are those of a reading one after the other.
    A child that gives nothing back (a fault of another kind, killed) leaves its sources to be read here."""
    half = len(items)
    forked = None
    if len(items) >= SPLIT_READING and not context.allow_remote:
        from ..limits import current
        from ..processes import fork_call

        if current().pool() >= 2:
            half = len(items) // 2
            forked = fork_call(_read_kept, items[half:], context, _SKIPPED.get() is not None)
            if forked is None:
                half = len(items)
    try:
        for item_kind, item in items[:half]:
            yield _outcome(item_kind, item, context)
        if forked is None:
            return
        from ..processes import NOTHING

        read, forked = forked.result(), None
        read = [] if read is NOTHING else read
        for records, outcome in read:
            for record in records:
                log.handle(record)
            yield outcome
        for item_kind, item in items[half + len(read):]:  # those the child did not read
            yield _outcome(item_kind, item, context)
    finally:
        if forked is not None:
            forked.cancel()


def _outcome(kind: str, path: Path, context: Context) -> list[Draft] | IngestError:
    try:
        return _load(kind, path, context)
    except IngestError as exc:
        return exc


def _read_kept(items: list[tuple[str, Path]], context: Context, keep_going: bool) -> list[tuple[list, object]]:
    """In the child of :func:`_read_items`: each source's log records (kept, not told) and its drafts or fault,
    up to the first fault that ends the reading (one not skipped, or one of another kind, which the parent then
    meets itself)."""
    read: list[tuple[list, object]] = []
    for item_kind, item in items:
        records: list[logging.LogRecord] = []
        token = _KEPT_LOG.set(records)
        try:
            outcome = _outcome(item_kind, item, context)
        except Exception:  # noqa: BLE001 - not the source's fault: the parent reads it again and meets it
            break
        finally:
            _KEPT_LOG.reset(token)
        read.append(([_told(record) for record in records], outcome))
        if isinstance(outcome, IngestError) and not keep_going:
            break
    return read


def _told(record: logging.LogRecord) -> logging.LogRecord:
    """A record with its message made, to be sent to another process and told there."""
    record.msg, record.args, record.exc_info, record.exc_text = record.getMessage(), None, None, None
    return record


def _load(kind: str, path: Path, context: Context) -> list[Draft]:
    log.info("%s: reading as %s", path, kind)
    try:
        drafts = ingester(kind).load(path, context)
    except ValueError as exc:  # a model value refused (pydantic): still the source's fault, named
        lines = [line.strip() for line in str(exc).splitlines()]
        what = f"{lines[1]}: {lines[2].split(' [type=')[0]}" if len(lines) >= 3 else lines[0]
        raise IngestError(f"cannot make an article of it: {what}", path) from None
    except RecursionError:
        raise IngestError("nested too deeply (more levels than can be read)", path) from None
    for draft in drafts:
        draft.kind = draft.kind or kind
    _bound_articles(drafts, path)
    return drafts


def _bound_articles(drafts: list[Draft], path: Path) -> None:
    """Keep the first ``articles_per_source`` articles of one source, with a warning naming it."""
    from .. import limits

    left = bound = limits.current().articles_per_source
    total = sum(len(s.articles) for d in drafts for s in d.sections)
    if total <= bound:
        return
    for draft in drafts:
        for section in draft.sections:
            section.articles[:] = section.articles[:left]
            left -= len(section.articles)
    log.warning("%s: %d articles; the first %d are kept (articles_per_source, a limit of [limits] in %s)", path,
                total, bound, limits.user_config_path())


def _claims(folder: Path) -> bool:
    for kind in available_kinds():
        claims = getattr(ingester(kind), "claims_folder", None)
        if claims is not None and claims(folder):
            return True
    return False


def _source_files(folder: Path, root: Path) -> list[Path]:
    """The source files of ``folder`` (not hidden, a source suffix, regular files).  A source
    that leads outside ``root`` (a link out) is refused by name; under :func:`keep_going` it is
    named and skipped."""
    kept, refused = entries(folder, root)
    for path in refused:
        if _is_source_name(path):
            _refuse(leads_out(path, root))
    return [p for p in kept if _is_source_name(p) and p.is_file()]


def _is_source_name(path: Path) -> bool:
    return path.suffix.lower() in SOURCE_SUFFIXES and not path.name.startswith(".")


def _holds_sources(folder: Path, root: Path) -> bool:
    """Whether ``folder`` holds source files, those that lead outside ``root`` counted (they are
    refused when the folder is read)."""
    kept, refused = entries(folder, root)
    return any(_is_source_name(p) and p.is_file() for p in kept) or any(_is_source_name(p) for p in refused)


def _refuse(exc: IngestError) -> None:
    """Raise ``exc``, or under :func:`keep_going` name it and go on."""
    if not _skip(exc):
        raise exc


#: How deep below a source folder issue and publication folders are looked for (publication / year / month /
#: issue).
ARCHIVE_DEPTH = 4


#: a folder of an archive by date, between a publication and its issues: ``2024``, ``05``, ``2024-05``, ``2024年``
_ARCHIVE_LEVEL = re.compile(r"^\d{1,4}(?:[-_.]\d{1,2})*[年月]?$")


def _is_issue_folder(folder: Path, root: Path) -> bool:
    return (folder / ISSUE_NAME).is_file() or _holds_sources(folder, root) or _claims(folder)


def _subfolders(folder: Path, root: Path, refuse: bool = True) -> list[Path]:
    """The folders in ``folder``, by name; one that leads outside ``root`` is refused by name (unless not
    ``refuse``: left out, to be refused where it is read)."""
    kept, refused = entries(folder, root)
    for path in refused if refuse else ():
        if not path.name.startswith(".") and (path.is_dir() or _is_source_name(path)):
            _refuse(leads_out(path, root))  # a linked issue folder
    return sorted((p for p in kept if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)


def _issue_folders(source: Path, kind: str | None, root: Path, depth: int = 0) -> list[Path]:
    """The issue folders of a publication: ``source`` itself, or the folders below it that hold sources, also
    below folders named by a year or month (an archive: ``2024/05/2024-05-01``), never inside another
    publication's folder."""
    if _is_issue_folder(source, root):
        return [source]
    found = []
    for child in _subfolders(source, root):
        if _is_issue_folder(child, root):
            found.append(child)
        elif depth + 1 < ARCHIVE_DEPTH and _ARCHIVE_LEVEL.match(child.name) and not (child / CONFIG_NAME).is_file():
            found += _issue_folders(child, kind, root, depth + 1)
    return found


def _publication_folders(source: Path, root: Path, depth: int = 0) -> list[Path]:
    """The publication folders (with their own broadsheet.toml) below ``source``, an archive of papers."""
    found = []
    for child in _subfolders(source, root, refuse=False):
        if (child / CONFIG_NAME).is_file():
            found.append(child)
        elif depth + 1 < ARCHIVE_DEPTH and not _is_issue_folder(child, root):
            found += _publication_folders(child, root, depth + 1)
    return found


def _loose_issues(source: Path, kind: str | None, root: Path, config, context: Context) -> list[_Batch]:
    """Issue folders of an archive that belong to none of its publication folders (read as one publication)."""
    batches = []
    for issue_dir in _issue_folders(source, kind, root):
        issue_cfg = load_issue_config(issue_dir / ISSUE_NAME, root=root)
        batch = _Batch(None, config, root, issue_dir, issue_cfg, name_date=_date_from(issue_dir.name),
                       fallback_title=_folder_title(source))
        for item_kind, item in _items(issue_dir, kind, root):
            batch.drafts.extend(_load(item_kind, item, context))
        if any(s.articles for d in batch.drafts for s in d.sections):
            batches.append(batch)
    return batches


def _items(folder: Path, kind: str | None, root: Path) -> list[tuple[str, Path]]:
    files = _source_files(folder, root)
    for candidate in available_kinds():
        claims = getattr(ingester(candidate), "claims_folder", None)
        if claims is not None and (kind in (None, candidate)) and claims(folder):
            extra = [p for p in files if p.suffix.lower() in {".md", ".markdown", ".txt"}]
            return [(candidate, folder)] + [(detect_kind(p, root), p) for p in extra]
    items = []
    for path in files:
        try:
            items.append((kind or detect_kind(path, root), path))
        except IngestError as exc:
            if not _skip(exc):
                raise
    return items


def _edition(batches: list[_Batch], title: str | None) -> Edition:
    first = batches[0]
    pub_cfg = first.config.publication
    drafts = [d for b in batches for d in b.drafts]
    language = pub_cfg.language or _common([d.language for d in drafts if d.language]) or guess_language(
        " ".join(a.title for d in drafts for s in d.sections for a in s.articles))
    pub_title = next((label for label in (title, pub_cfg.title, _hint(first), first.fallback_title)
                      if label and one_line(label)), "broadsheet")

    by_issue: dict[tuple, list[_Batch]] = {}
    for batch in batches:
        for part in _split_by_date(batch):
            key = (str(part.folder) if part.folder and part.config_path else None, _batch_date(part),
                   part.issue.number, part.issue.edition)
            by_issue.setdefault(key, []).append(part)
    issues = tuple(sorted((_issue(group, language) for group in by_issue.values()),
                          key=lambda i: (i.date is None, i.date or dt.date.min, i.number or "", i.edition or "")))
    publication = Publication(
        id=pub_cfg.id or publication_id(pub_title),
        title=pub_title, language=language, publisher=pub_cfg.publisher, issues=issues,
    )
    return Edition(publication=publication, config=first.config, root=first.root, config_path=first.config_path)


def _split_by_date(batch: _Batch) -> list[_Batch]:
    """A folder without a date of its own (issue.toml, folder name) holds one issue per date its sources give.

    Article pages of a folder that give no date make an undated issue of their own, with a warning naming
    them; undated sources of other kinds (an e-paper's pages) join the earliest dated issue."""
    if batch.issue.date or batch.name_date:
        return [batch]
    dates = sorted({d.date for d in batch.drafts if d.date}, key=str)
    web_undated = [d for d in batch.drafts if d.date is None and d.kind in WEB_KINDS]
    if web_undated and (dates or batch.folder is not None):
        for draft in web_undated:
            log.warning("%s: no date found; put in an undated issue (name the folder by a date, e.g. "
                        "2024-03-12, to give it one)", draft.source)
    if len(dates) <= 1 and not (web_undated and dates):
        return [batch]
    by_date: dict[dt.date, list[Draft]] = {date: [] for date in dates}
    for draft in batch.drafts:
        if draft.date:
            by_date[draft.date].append(draft)
    parts = [dataclasses.replace(batch, drafts=by_date[date]) for date in dates]
    undated = [d for d in batch.drafts if d.date is None and d.kind not in WEB_KINDS]
    if undated:
        parts[0].drafts.extend(undated)
    if web_undated:
        parts.append(dataclasses.replace(batch, drafts=web_undated))
    return parts


def _batch_date(batch: _Batch) -> dt.date | None:
    dates = [d.date for d in batch.drafts if d.date]
    return batch.issue.date or batch.name_date or (min(dates) if dates else None)


def _common(values: list[str]) -> str | None:
    return max(set(values), key=lambda v: (values.count(v), v)) if values else None


def _issue(batches: list[_Batch], language: str) -> Issue:
    issue_cfg = batches[0].issue
    # Section names and page labels are drawn on one line: control characters (a newline in
    # issue.toml, front matter or a dump's header) become spaces here, before names are matched.
    declared = tuple(entry.model_copy(update={"name": one_line(entry.name), "page": _label(entry.page)})
                     for entry in issue_cfg.section_entries if one_line(entry.name))
    pages = {entry.name: entry.page for entry in declared}
    default_name = declared[0].name if len(declared) == 1 else ("文章" if language.startswith(("zh", "ja")) else "Articles")

    drafts = sorted((d for b in batches for d in b.drafts), key=lambda d: (d.order, str(d.source)))
    # A section is a name and a printed page: pages 01 and 02 may both be called 要闻.
    explicit: dict[str, set[str]] = {}
    for draft in drafts:
        for part in draft.sections:
            if _label(part.page) is not None:
                explicit.setdefault(_label(part.name) or default_name, set()).add(_label(part.page))
    sections: dict[tuple[str, str | None], list] = {}
    facsimiles: dict[tuple[str, str | None], DraftFacsimile] = {}
    folder = batches[0].folder
    if folder is not None and any(entry.facsimile for entry in declared):  # named in issue.toml: before the sources'
        from .facsimiles import declared_facsimile

        for entry in declared:
            made = declared_facsimile(entry, folder, batches[0].root)
            if made is not None:
                facsimiles.setdefault((entry.name, entry.page), made)
    for draft in drafts:
        for part in draft.sections:
            name, page = _label(part.name) or default_name, _label(part.page)
            for key, given, made in (("section", part.name, name), ("page", part.page, page)):
                if given is not None and str(given) != made:
                    log.info("%s: %s %s has control characters: read as %s", draft.source, key, quote(given),
                             quote(made))
            known = pages.get(name)
            if page is not None and known is not None and known != page and draft.kind == "markdown":
                raise ConfigError(f"page: {quote(page)} differs from page {quote(known)} that {ISSUE_NAME} gives "
                                  f"section {quote(name)}", draft.source)
            if page is None:
                only = explicit.get(name, set())
                page = known or (next(iter(only)) if len(only) == 1 else None)
            sections.setdefault((name, page), []).extend(part.articles)
            if part.facsimile is not None:
                facsimiles.setdefault((name, page), part.facsimile)

    declared_order = {entry.name: n for n, entry in enumerate(declared)}
    keys = sorted(sections, key=lambda k: (declared_order.get(k[0], len(declared)), page_sort_key(k[1]),
                                           list(sections).index(k)))
    used: set[str] = set()
    built = []
    final: dict[int, str] = {}  # id(article as the source gave it) → its id in the issue
    for number, (name, page) in enumerate(keys, start=1):
        articles = []
        for article in sections[(name, page)]:
            candidate = article.id if article.id != "article" else f"a{len(used) + 1:03d}"
            unique, n = candidate, 2
            while unique in used:
                unique = f"{candidate}-{n}"
                n += 1
            used.add(unique)
            final[id(article)] = unique
            articles.append(article if unique == article.id else article.model_copy(update={"id": unique}))
        if articles:
            built.append(Section(id=f"s{number:02d}", name=name, page=page, articles=tuple(articles)))
    built = _bound_issue(built, batches[0])
    if facsimiles:
        built = _with_facsimiles(built, keys, facsimiles, final, sections)
    numbers = [d.number for d in drafts if d.number]
    return Issue(date=_batch_date(batches[0]), number=issue_cfg.number or (numbers[0] if numbers else None),
                 edition=issue_cfg.edition, sections=tuple(built))


def _with_facsimiles(built: list[Section], keys: list, facsimiles: dict, final: dict[int, str],
                     sections: dict) -> list[Section]:
    """Each section with the facsimile its source gave, its regions linking the articles by their ids in the
    issue; a region that links an article not in the issue is dropped with a note (``-v``)."""
    kept = {a.id for s in built for a in s.articles}
    by_name: dict[str, str] = {}  # an article id as a source names it → its id in the issue
    for key in keys:
        for article in sections[key]:
            by_name.setdefault(article.id, final[id(article)])
    out = []
    for section in built:
        draft = facsimiles.get((section.name, section.page))
        if draft is None:
            out.append(section)
            continue
        regions = []
        for region in draft.regions:
            target = by_name.get(region.article) if isinstance(region.article, str) else final.get(id(region.article))
            if target is None or target not in kept:
                shown = region.article if isinstance(region.article, str) else region.article.title
                log.info("%s: a region of the page picture links %s, not in the issue; dropped",
                         draft.source or draft.picture.src, quote(shown))
                continue
            regions.append(Region(shape=region.shape, coords=region.coords, article=target))
        facsimile = Facsimile(picture=draft.picture, pdf=draft.pdf, pdf_root=draft.pdf_root, regions=tuple(regions))
        out.append(section.model_copy(update={"facsimile": facsimile}))
    return out


def _bound_issue(sections: list[Section], batch: _Batch) -> list[Section]:
    """Keep the first ``articles_per_issue`` articles of one issue (in section order), with a warning."""
    from .. import limits

    bound = limits.current().articles_per_issue
    total = sum(len(s.articles) for s in sections)
    if total <= bound:
        return sections
    kept, left = [], bound
    for section in sections:
        if left > 0:
            kept.append(section.model_copy(update={"articles": section.articles[:left]}))
            left -= len(kept[-1].articles)
    log.warning("%s: %d articles in one issue; the first %d are kept (articles_per_issue, a limit of [limits] in "
                "%s)", batch.folder or batch.root, total, bound, limits.user_config_path())
    return kept


def _label(value: str | None) -> str | None:
    """A section name or page label on one line (see ``model.one_line``); ``None`` when nothing is left."""
    return (one_line(str(value)) or None) if value is not None else None


def _date_from(name: str) -> dt.date | None:
    import re

    match = re.search(r"(\d{4})-(\d{2})-(\d{2})", name)
    return find_date(match.group(0)) if match else None


def _first_title(batch: _Batch) -> str | None:
    return next((a.title for d in batch.drafts for s in d.sections for a in s.articles), None)


def _folder_title(folder: Path) -> str:
    name = folder.resolve().name
    return name.replace("-", " ").replace("_", " ").strip() or "broadsheet"
