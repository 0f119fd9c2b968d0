"""Command line: argument parsing, progress and exit statuses (0 ok, 1 bad input, 2 usage)."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sys
from pathlib import Path

import click

from .version import __version__
from .errors import BroadsheetError, named_fault
from .names import (CONVERSIONS, DEFAULT_FORMATS, EPUB_PROFILES, FACSIMILE_MODES, FORMATS, GROUPINGS, IMPOSITIONS,
                    PDF_LAYOUTS, SOURCE_KINDS, WRITING_MODES)


class _Stderr:
    """The stderr console, made on first use: ``--version`` and ``--help`` never import rich."""

    _console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            type(self)._console = Console(stderr=True, highlight=False, soft_wrap=True)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.console, name)


err = _Stderr()


class _NoProgress:
    """What a build reports its steps to when no progress bar is shown."""

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def update(self, *args, **kwargs) -> None:
        return None


def _progress(show: bool):
    """A transient progress bar on stderr, or nothing unless ``show``.

    The bar is drawn at each step by the process itself, not by a thread of rich's own: a build forks its
    workers (pictures, the cover, the PDF's layout zygote) only from a process in which no other thread
    runs, and takes slower ways where one does (a zygote started afresh, the cover drawn in turn)."""
    if not show:
        return _NoProgress()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    class StepProgress(Progress):
        def update(self, *args, **kwargs) -> None:
            super().update(*args, **{**kwargs, "refresh": True})

    return StepProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                        TimeElapsedColumn(), console=err.console, transient=True, disable=not show,
                        auto_refresh=False)


class _WarningHandler(logging.Handler):
    def __init__(self, quiet: bool) -> None:
        super().__init__(logging.DEBUG)
        self.quiet = quiet

    def emit(self, record: logging.LogRecord) -> None:
        if not self.quiet:
            level = "warning" if record.levelno >= logging.WARNING else "info"
            err.print(f"broadsheet: {level}: {record.getMessage()}", markup=False)


def _setup_logging(quiet: bool, verbose: bool = False) -> None:
    logger = logging.getLogger("broadsheet")
    logger.handlers[:] = [_WarningHandler(quiet)]
    logger.propagate = False
    logger.setLevel(logging.INFO if verbose and not quiet else logging.WARNING)
    # Other libraries speak through the same handler, and only of real faults.
    root = logging.getLogger()
    root.handlers[:] = [_WarningHandler(quiet)]
    root.setLevel(logging.ERROR)
    for name in ("weasyprint", "fontTools", "trafilatura", "htmldate", "courlan", "charset_normalizer"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _keep_going_option(command):
    return click.option("--keep-going", is_flag=True,
                        help="Skip a source that cannot be read (named on stderr), do the rest, exit with status 1.")(
        command)


def _skipping(enabled: bool) -> list | None:
    """With --keep-going: the faults of the sources skipped, a list filled while the command runs; without:
    None, and the first fault stops everything."""
    if not enabled:
        return None
    from .ingest import keep_going

    scope = keep_going()
    skipped = scope.__enter__()
    click.get_current_context().call_on_close(lambda: scope.__exit__(None, None, None))
    return skipped


def _report_skipped(skipped: list | None) -> None:
    if skipped:
        for fault in skipped:
            err.print(f"broadsheet: skipped: {str(fault).replace(chr(10), ' ')}", markup=False)
        err.print(f"broadsheet: {len(skipped)} source{'s' if len(skipped) != 1 else ''} skipped", markup=False)
        sys.exit(1)


def _fail(exc: BaseException) -> None:
    from .limits import cut

    message = cut(str(exc).replace("\n", " "), 600)  # a value quoted whole (limits.quote cuts them where made)
    err.print(f"broadsheet: error: {message}", markup=False)
    sys.exit(1)


def _fail_named(exc: BaseException, inputs=()) -> None:
    """One line for nesting past the recursion limit (naming ``inputs``) and for the machine's
    faults (a full disk, no permission, a read-only file system: naming the file or folder);
    anything else is re-raised, to be reported as an internal error."""
    fault = named_fault(exc, inputs)
    if fault is None:
        raise exc
    _fail(fault)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="broadsheet")
def cli() -> None:
    """Turn a newspaper's articles into an EPUB 3 and a print-ready PDF.

    A SOURCE is a publication folder (broadsheet.toml with one folder per issue), an
    issue folder (issue.toml and its articles), or any file or folder of: Markdown
    articles with front matter, e-paper text dumps (第N版:名称 …), a saved e-paper site
    (Founder node_*/content_* pages, People's Daily), article pages saved from a browser,
    RSS/Atom/RDF feeds. The kind is detected from the content (--from forces it); several
    sources of one paper and day make one issue.

    Exit status: 0 done, 1 bad input (one line on stderr names the file) or a build stopped
    (by SIGTERM, SIGINT or SIGHUP, or at its time or memory limit: one line says which, and
    nothing half-written is left), 2 wrong usage.
    """


def _remote_hosts(ctx, param, values) -> tuple[str, ...]:
    """``--allow-remote-hosts``: every entry checked and in its one spelling."""
    if not values:
        return ()
    from .ingest.remote import host_pattern

    hosts: list[str] = []
    for value in values:
        for entry in value.split(","):
            if not entry.strip():
                continue
            try:
                hosts.append(host_pattern(entry))
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
    return tuple(dict.fromkeys(hosts))


def _remote_timeout(ctx, param, value) -> None:
    """``--remote-timeout``: the deadline of one download, one of the limits :func:`_use_limits` sets."""
    if value is not None:
        ctx.meta["remote_seconds"] = value


class _Seconds(click.FloatRange):
    """A number of seconds: above zero and finite (``nan`` and ``inf`` are no limit anyone means)."""

    name = "seconds"

    def __init__(self) -> None:
        super().__init__(min=0.01)

    def convert(self, value, param, ctx):
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


_SECONDS = _Seconds()


def _page_size_names() -> str:
    """The page sizes ``--page-size`` names, from the one table of them (paper.PAGE_SIZES): the paper
    sizes by name, the newspaper formats with their measures."""
    from .paper import PAGE_SIZES, to_mm

    names = []
    for key, (width, height) in PAGE_SIZES.items():
        name = key if len(key) <= 2 else key.title()
        names.append(name if key in _PAPER_SIZES else f"{name} ({to_mm(width):g}×{to_mm(height):g} mm)")
    return ", ".join(names)


#: Sizes known by their name alone; the newspaper formats are listed with their measures.
_PAPER_SIZES = ("A3", "A4", "A5", "B5", "LETTER", "LEGAL")


#: The option that gives each key of :meth:`config.Overrides.given` and of a digest's spec on the command line.
_OPTIONS = {
    "page_size": "--page-size", "bleed": "--bleed", "marks": "--marks", "variant": "--pdf-variant",
    "impose": "--impose", "grayscale": "--grayscale", "layout": "--layout", "profile": "--profile",
    "max_size": "--max-size", "embed_fonts": "--embed-fonts", "writing_mode": "--writing-mode",
    "convert": "--convert", "since": "--since", "until": "--until", "sections": "--section", "tags": "--tag",
    "match": "--match", "max_articles": "--max-articles", "group_by": "--group-by", "title": "--title",
    "similarity": "--similarity", "facsimile": "--facsimile", "address": "--cluster",
}


def _cluster_option(command):
    return click.option("--cluster", metavar="local[:N]|tcp://HOST:PORT",
                        help="Build on a Dask cluster: local[:N] starts N worker processes here (default: one per "
                             "core), tcp://HOST:PORT joins a running dask scheduler (pip install "
                             "'broadsheet[cluster]'; see [cluster] in broadsheet.toml).")(command)


def _usage_error(exc: BroadsheetError) -> click.BadParameter:
    """A command-line value's fault (a ConfigError under the name "command line", naming a key) as
    click's usage error naming the option that gave the value: exit status 2, like every usage error."""
    key, _, message = exc.message.partition(": ")
    option = _OPTIONS.get(key.split(".")[0])
    if option is None:
        return click.BadParameter(exc.message)
    return click.BadParameter(message, param_hint=f"'{option}'")


def _source_options(command):
    """Options shared by every command that reads sources."""
    command = click.option("-v", "--verbose", is_flag=True,
                           help="Also say how each source was read (its kind and text encoding).")(command)
    command = click.option("--remote-timeout", type=_SECONDS, metavar="SECONDS",
                           expose_value=False, callback=_remote_timeout,
                           help="With --allow-remote: the most one download may take, connection, headers "
                                "and body together.  [default: 10]")(command)
    command = click.option("--allow-remote-hosts", multiple=True, metavar="HOST[,HOST…]", callback=_remote_hosts,
                           help="With --allow-remote: hosts (names, addresses or *.example.org) whose addresses "
                                "may be internal, as for an intranet picture server; repeat or separate with "
                                "commas.  Implies nothing else.")(command)
    command = click.option("--allow-remote", is_flag=True,
                           help="Fetch http(s) pictures that articles name, from public addresses only: a host "
                                "resolving to a loopback, private, link-local, shared, multicast, reserved or "
                                "unspecified address (in any spelling, IPv4-mapped and other IPv6 forms "
                                "included) is refused.  No redirects, no proxy, 10 s and 20 MB per picture at "
                                "most.  Without it nothing is fetched.")(command)
    command = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                           help="Leave out feed entries dated after this day.")(command)
    command = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                           help="Leave out feed entries dated before this day.")(command)
    command = click.option("--from", "kind", type=click.Choice(SOURCE_KINDS),
                           help="Read every source as this kind instead of detecting it from the content.")(command)
    return command


def _limit_options(command):
    """Limits that protect the machine (also [limits] in the user's config.toml; a source may only lower them)."""
    command = click.option("--memory-limit", type=click.IntRange(min=64), metavar="MB",
                           help="Address space of the build and of each layout process.  [default: 8192]")(command)
    command = click.option("--time-limit", type=_SECONDS, metavar="SECONDS",
                           help="Wall clock for the whole command, PDF layout included (each layout process "
                                "also has --render-timeout).  [default: 3600]")(command)
    return command


def _use_limits(time_limit=None, memory_limit=None, render_timeout=None, jobs=None) -> None:
    """Set this run's limits: the defaults, then [limits] of the user's config, then the command line."""
    from . import limits

    try:
        context = click.get_current_context(silent=True)
        limits.use(limits.settle({"build_seconds": time_limit, "build_memory_mb": memory_limit,
                                  "layout_memory_mb": memory_limit, "layout_seconds": render_timeout,
                                  "jobs": jobs,
                                  "remote_seconds": context.meta.get("remote_seconds") if context else None}))
    except BroadsheetError as exc:
        _fail(exc)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@_source_options
@_limit_options
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format; repeat for several. html: the print HTML with its assets, in a folder.  "
                   "[default: epub and pdf]")
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), default=Path("build"),
              show_default=True, help="Folder to write the outputs into.")
@click.option("--theme", metavar="NAME|DIR", help="A shipped theme's name or a theme folder (overrides broadsheet.toml).")
@click.option("--title", help="Publication title (overrides the source's).")
@click.option("--page-size", metavar="SIZE", help=f"PDF page size: {_page_size_names()} or WIDTHxHEIGHT such as "
                                                  "210mmx297mm.  [default: the theme's, else A4]")
@click.option("--bleed", metavar="LENGTH", help="PDF bleed beyond the trim on every side, e.g. 3mm.")
@click.option("--marks", metavar="crop,cross", help="Printer's marks outside the bleed: crop, cross or both.")
@click.option("--pdf-variant", metavar="VARIANT",
              help="A standard PDF variant: pdf/a-3b, pdf/a-2b, pdf/ua-1, pdf/x-4, … (WeasyPrint's).")
@click.option("--render-timeout", type=_SECONDS, metavar="SECONDS",
              help="Stop a PDF layout that takes longer (a layout trap).  [default: 600]")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), metavar="N",
              help="Lay PDF sections out (and make EPUB pictures) in N processes at once, never more than "
                   "the cores.  [default: one per core]")
@click.option("--layout", "pdf_layout", type=click.Choice(PDF_LAYOUTS),
              help="sections: lay the PDF's front matter and each section out apart (in parallel, cached), "
                   "then join them; whole: the whole document at once.  [default: sections]")
@click.option("--no-cache", is_flag=True,
              help="Lay every part out anew, neither reading nor writing <out>/.broadsheet-cache.")
@click.option("--impose", type=click.Choice(IMPOSITIONS),
              help="Also write <name>-booklet.pdf: pages two-up for duplex printing and folding.")
@click.option("--grayscale", is_flag=True, default=None,
              help="Pictures in grays: for newsprint (PDF) and e-ink readers (EPUB).")
@click.option("--profile", type=click.Choice(EPUB_PROFILES),
              help="Tune the EPUB for a reading device (see docs/profiles.md).")
@click.option("--max-size", metavar="SIZE", help="Compress the EPUB's pictures until it fits, e.g. 25MB.")
@click.option("--embed-fonts", is_flag=True, default=None,
              help="Embed the body fonts in the EPUB, subset to the characters used.")
@click.option("--convert", type=click.Choice(CONVERSIONS),
              help="Convert Chinese text: simplified→traditional (s2t, s2tw Taiwan, s2hk Hong Kong) or back (t2s).")
@click.option("--keep-punctuation", is_flag=True,
              help="Keep the ASCII , : ; ? ! ( ) between Chinese characters (made full-width by default).")
@click.option("--writing-mode", type=click.Choice(WRITING_MODES),
              help="Vertical (竖排) EPUB: vertical-rl text, right-to-left page progression.")
@click.option("--facsimile", type=click.Choice(FACSIMILE_MODES),
              help="Page pictures (版面图) of sources that have them: pages: a page view before each section's "
                   "articles; only: page views alone, their regions linking the articles; off: none.  "
                   "[default: pages]")
@click.option("--allow-missing-glyphs", is_flag=True,
              help="Warn instead of failing when no installed font can draw some characters.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--watch", is_flag=True,
              help="Stay running: build again on every change to the sources, their broadsheet.toml or issue.toml, "
                   "or the theme folder, one line per rebuild; a bad edit is told and the watch goes on.  "
                   "Stop it with Ctrl-C.")
@_keep_going_option
@_cluster_option
def build(sources, kind, since, until, allow_remote, allow_remote_hosts, verbose, time_limit, memory_limit, formats, out,
          theme, title, page_size, bleed, marks, pdf_variant, render_timeout, jobs, pdf_layout, no_cache, impose,
          grayscale, profile, max_size, embed_fonts, convert, keep_punctuation, writing_mode, facsimile,
          allow_missing_glyphs, quiet, watch, keep_going, cluster) -> None:
    """Build EPUB and PDF editions of SOURCE... into --out.

    Each issue of each source becomes <publication-id>-<date>.epub/.pdf; the paths
    written are printed, one per line.
    """
    if watch and cluster:
        raise click.UsageError("--watch cannot be given with --cluster")
    _use_limits(time_limit, memory_limit, render_timeout, jobs)  # before the supervisor, which keeps the time and memory limits
    _supervise("watch" if watch else "build")  # a watch has no time limit
    from .config import Overrides
    from .pipeline import build as run_build

    _setup_logging(quiet, verbose)
    skipped = _skipping(keep_going)
    formats = formats or DEFAULT_FORMATS
    show_progress = not quiet and err.is_terminal
    progress = _progress(show_progress)
    try:
        overrides = Overrides.given(
            theme=theme, convert=convert, allow_missing_glyphs=allow_missing_glyphs, keep_punctuation=keep_punctuation,
            facsimile=facsimile,
            pdf={"page_size": page_size, "bleed": bleed, "variant": pdf_variant, "impose": impose,
                 "grayscale": grayscale, "layout": pdf_layout,
                 "marks": tuple(m.strip() for m in marks.split(",") if m.strip()) if marks else None},
            epub={"profile": profile, "max_size": max_size, "embed_fonts": embed_fonts, "grayscale": grayscale,
                  "writing_mode": writing_mode}, cluster=cluster)
    except BroadsheetError as exc:  # a value given on the command line: a usage error naming its option
        raise _usage_error(exc) from None
    if watch:
        from .watch import watch as run_watch

        return run_watch(sources, formats=formats, out=out, overrides=overrides, cache=not no_cache, quiet=quiet,
                         skipped=skipped, load_options={
                             "title": title, "kind": kind, "since": since.date() if since else None,
                             "until": until.date() if until else None, "allow_remote": allow_remote,
                             "allow_remote_hosts": allow_remote_hosts})
    try:
        with progress:
            task = progress.add_task("Reading sources", total=None)

            def on_step(description: str, done: int, total: int) -> None:
                progress.update(task, description=description, completed=done, total=total)

            paths = run_build(
                sources, formats=formats, out=out, overrides=overrides, title=title, kind=kind,
                allow_remote=allow_remote, allow_remote_hosts=allow_remote_hosts,
                since=since.date() if since else None, until=until.date() if until else None,
                progress=on_step, cache=not no_cache,
            )
    except BroadsheetError as exc:
        _fail(exc)
    except (RecursionError, OSError) as exc:
        _fail_named(exc, sources)
    if not quiet:
        for path in paths:
            click.echo(str(path))
    _report_skipped(skipped)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@_source_options
@_limit_options
@_keep_going_option
@click.option("--json", "as_json", is_flag=True, help="Print the model as JSON (the documented schema).")
@click.option("--title", help="Publication title (overrides the source's).")
@click.option("--explain", is_flag=True, help="Print each line of the text dumps with the label it was read as.")
def inspect(sources, kind, since, until, allow_remote, allow_remote_hosts, verbose, time_limit, memory_limit,
            keep_going, as_json, title, explain) -> None:
    """Show the chapter model that SOURCE... produces, without writing anything."""
    _use_limits(time_limit, memory_limit)  # before the supervisor, which keeps the time and memory limits
    _supervise("inspect")
    from .model import issue_to_dict
    from .pipeline import load

    _setup_logging(False, verbose)
    if explain:
        _explain(sources)
        return
    skipped = _skipping(keep_going)
    try:
        editions = load(sources, title=title, kind=kind, since=since.date() if since else None,
                        until=until.date() if until else None, allow_remote=allow_remote,
                        allow_remote_hosts=allow_remote_hosts)
    except BroadsheetError as exc:
        _fail(exc)
    except (RecursionError, OSError) as exc:
        _fail_named(exc, sources)
    views = [issue_to_dict(e.publication) for e in editions]
    merged: dict = {}
    for view in views:
        key = json.dumps(view["publication"], sort_keys=True)
        if key in merged:
            merged[key]["issues"].extend(view["issues"])
        else:
            merged[key] = view
    result = list(merged.values())
    if as_json:
        payload = result[0] if len(result) == 1 else result
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        _report_skipped(skipped)
        return
    for view in result:
        pub = view["publication"]
        click.echo(f"{pub['title']} ({pub['language']})")
        for issue in view["issues"]:
            click.echo(f"  {issue['date'] or 'undated'}{'  ' + issue['number'] if issue['number'] else ''}")
            for section in issue["sections"]:
                page = f" [{section['page']}]" if section["page"] else ""
                click.echo(f"    {section['name']}{page}")
                for article in section["articles"]:
                    click.echo(f"      - {article['title']}  ({len(article['text'])} chars)")
    _report_skipped(skipped)


def _explain(sources) -> None:
    """``inspect --explain``: the label of every line of each text dump (files, or the .txt files of folders)."""
    from .ingest import detect_kind
    from .ingest import text as text_dump

    for source in sources:
        root = source if source.is_dir() else source.parent  # nothing outside it is read
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in text_dump.SUFFIXES) \
            if source.is_dir() else [source]
        for path in files:
            try:
                kind = detect_kind(path, root)
                labelled = text_dump.explain(path, root) if kind == text_dump.KIND else []
            except (BroadsheetError, OSError) as exc:
                _fail(exc if isinstance(exc, BroadsheetError) else BroadsheetError(exc.strerror or str(exc), path))
            click.echo(f"== {path}" + ("" if kind == text_dump.KIND else f"  ({kind}: not a text dump, no lines)"))
            for number, (label, line) in enumerate(labelled, 1):
                click.echo(f"{number:4} {label:<12} {line}".rstrip())


@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--recipe", type=click.Path(path_type=Path, dir_okay=False),
              help="A TOML digest recipe: sources, filters, grouping, theme, formats (options below override it).")
@click.option("--subscribers", type=click.Path(path_type=Path, dir_okay=False),
              help="A CSV of subscribers (id, sections, tags, language, formats): one digest each.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="Only issues from this day on.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD", help="Only issues up to this day.")
@click.option("--section", "sections", multiple=True, metavar="NAME", help="Only these sections; repeat for more.")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only articles with one of these tags.")
@click.option("--match", "match", multiple=True, metavar="TEXT", help="Only articles whose title or text holds TEXT.")
@click.option("--max-articles", type=click.IntRange(min=1), metavar="N", help="At most N articles.")
@click.option("--group-by", type=click.Choice(GROUPINGS),
              help="How the digest is sectioned.  [default: section]")
@click.option("--similarity", type=click.FloatRange(0.01, 1.0), metavar="0..1",
              help="How alike two texts must be to count as one reprint.  [default: 0.8]")
@click.option("--title", help="The digest's title.")
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(DEFAULT_FORMATS),
              help="Output format; repeat for several.  [default: the recipe's, else epub and pdf]")
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.  [default: build]")
@click.option("--theme", metavar="NAME|DIR", help="Theme.  [default: the recipe's, else digest]")
@click.option("--from", "kind", type=click.Choice(SOURCE_KINDS),
              help="Read every source as this kind.")
@click.option("--allow-missing-glyphs", is_flag=True, help="Warn instead of failing on characters no font has.")
@click.option("--json", "as_json", is_flag=True, help="Print the digest's model (the inspect --json schema); write nothing.")
@click.option("-v", "--verbose", is_flag=True, help="Also say how each source was read.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@_limit_options
@click.option("--render-timeout", type=_SECONDS, metavar="SECONDS",
              help="Stop a PDF layout that takes longer (a layout trap).  [default: 600]")
@click.option("-j", "--jobs", type=click.IntRange(min=1, max=256), metavar="N",
              help="Lay PDF sections out (and make EPUB pictures) in N processes at once, never more than "
                   "the cores.  [default: one per core]")
@_keep_going_option
@click.option("--send", is_flag=True,
              help="With --subscribers: mail each subscriber their digest (the CSV's email column; the SMTP "
                   "server and sender from the recipe's [delivery], or the options below; see broadsheet send).")
@click.option("--dry-run", is_flag=True, help="With --send: write the messages into <out>/outbox/ as .eml files.")
@click.option("--smtp", metavar="URL", callback=lambda ctx, param, value: _checked_option(value, "smtp"),
              help="With --send: the SMTP server, as for broadsheet send.")
@click.option("--mail-from", metavar="ADDR", callback=lambda ctx, param, value: _checked_option(value, "sender"),
              help="With --send: the sender's address.")
@click.option("--base-url", metavar="URL", callback=lambda ctx, param, value: _checked_option(value, "base_url"),
              help="With --send: where editions too large to mail can be downloaded (a link is sent instead).")
@click.option("--watch", is_flag=True,
              help="Stay running: build the digest again on every change to its sources, the recipe, the "
                   "subscribers' list or the theme, one line per rebuild; a bad edit is told and the watch goes "
                   "on.  Stop it with Ctrl-C.")
@_cluster_option
def digest(sources, recipe, subscribers, since, until, sections, tags, match, max_articles, group_by, similarity,
           title, formats, out, theme, kind, allow_missing_glyphs, as_json, verbose, quiet, time_limit, memory_limit,
           render_timeout, jobs, keep_going, send, dry_run, smtp, mail_from, base_url, watch, cluster) -> None:
    """Build a digest of articles selected across many issues (SOURCE... or a --recipe).

    Articles reprinted across issues or sections appear once (the earliest); each carries
    where it came from. With --subscribers, one digest per subscriber, sharing the work;
    with --send as well, each is mailed to its subscriber.
    """
    from .config import Overrides

    if send and not subscribers:
        raise click.UsageError("--send needs --subscribers (a CSV with an email column)")
    if watch and (send or as_json or cluster):
        raise click.UsageError(f"--watch cannot be given with {'--send' if send else '--json' if as_json else '--cluster'}")
    try:
        given = Overrides.given(allow_missing_glyphs=allow_missing_glyphs, cluster=cluster)
    except BroadsheetError as exc:  # --cluster's value: a usage error naming the option
        raise _usage_error(exc) from None
    _use_limits(time_limit, memory_limit, render_timeout, jobs)  # before the supervisor, which keeps the time and memory limits
    _supervise("watch" if watch else "digest")  # a watch has no time limit
    from .config import BroadsheetConfig, validate
    from .digest import DigestSpec
    from .pipeline import build_digest as run_digest
    from .recipe import load_recipe, load_subscribers

    _setup_logging(quiet, verbose)
    skipped = _skipping(keep_going)

    def prepare() -> dict:
        """The recipe, options and subscribers read and checked: run_digest's arguments (and a few more)."""
        base = Path.cwd()
        values: dict = {}
        recipe_data = None
        if recipe is not None:
            recipe_data = load_recipe(recipe)
            base = recipe.parent
            values = recipe_data.model_dump(include=set(DigestSpec.model_fields))
        cli_values = {"since": since.date() if since else None, "until": until.date() if until else None,
                      "sections": sections or None, "tags": tags or None, "match": match or None,
                      "max_articles": max_articles, "group_by": group_by, "title": title, "similarity": similarity}
        values.update({k: v for k, v in cli_values.items() if v is not None})
        try:
            spec = validate(DigestSpec, values, recipe or Path("command line"))
        except BroadsheetError as exc:
            if recipe is not None:  # the recipe's fault (or a value over it): named in the recipe's terms
                raise
            raise _usage_error(exc) from None
        paths_in = list(sources) or ([base / s for s in recipe_data.sources] if recipe_data else [])
        if not paths_in:
            if recipe is not None:
                raise BroadsheetError("the recipe names no sources", recipe)
            raise click.UsageError("give SOURCE... or a --recipe that names its sources")
        people = load_subscribers(subscribers, need_email=send) if subscribers else None
        # the recipe's settings are the digest's own (its theme found from the recipe's folder)
        config = BroadsheetConfig(theme=theme or (recipe_data.theme if recipe_data else "digest"),
                                  **({"convert": recipe_data.convert, "pdf": recipe_data.pdf,
                                      "epub": recipe_data.epub, "cluster": recipe_data.cluster} if recipe_data else {}))
        return {"sources": paths_in, "spec": spec, "config": config, "kind": kind,
                "formats": formats or (recipe_data.formats if recipe_data else DEFAULT_FORMATS),
                "out": out or (base / recipe_data.out if recipe_data else Path("build")),
                "overrides": given, "subscribers": people,
                "base": base, "recipe_data": recipe_data}

    try:
        prepared = prepare()
        recipe_data, base, people, spec = (prepared[k] for k in ("recipe_data", "base", "subscribers", "spec"))
        if send:
            from .deliver.run import settings as delivery_settings

            delivery = delivery_settings(recipe_data.delivery if recipe_data else load_delivery_config(None)[0],
                                         base, smtp=smtp, sender=mail_from, base_url=base_url, dry_run=dry_run,
                                         where=f"[delivery] of {recipe}" if recipe else "[delivery]")
        written: dict = {}
        if as_json:
            from .digest import make_digest
            from .pipeline import load
            from .model import issue_to_dict

            publication, _ = make_digest(load(prepared["sources"], kind=kind, since=spec.since, until=spec.until),
                                         spec)
            _echo_json(issue_to_dict(publication))
            _report_skipped(skipped)
            return
        if watch:
            return _watch_digest(prepare, prepared, [p for p in (recipe, subscribers) if p], quiet=quiet,
                                 skipped=skipped)
        show = not quiet and err.is_terminal
        progress = _progress(show)
        with progress:
            task = progress.add_task("Reading sources", total=None)

            def on_step(description: str, done: int, total: int) -> None:
                progress.update(task, description=description, completed=done, total=total)

            arguments = {k: v for k, v in prepared.items() if k not in ("recipe_data",)}
            paths, report = run_digest(**arguments, progress=on_step, written=written)
    except BroadsheetError as exc:
        _fail(exc)
    except (RecursionError, OSError) as exc:
        _fail_named(exc, list(sources) or ([recipe] if recipe else []))
    if send:
        from .deliver.run import read_editions, subscriber_jobs

        folder = out or (base / recipe_data.out if recipe_data else Path("build"))
        try:
            jobs_ = subscriber_jobs(people.subscribers, lambda person: read_editions(written.get(person.id, ())))
        except BroadsheetError as exc:
            _fail(exc)
        for path in paths if not quiet else ():
            click.echo(str(path))
        _deliver(jobs_, delivery, folder, dry_run=dry_run, quiet=quiet)
        _report_skipped(skipped)
        return
    if not quiet:
        if report is not None and people is None:
            err.print(f"broadsheet: digest: {report.selected} of {report.considered} articles; "
                      f"{len(report.merged)} reprints merged", markup=False)
            for merged in report.merged:
                err.print(f"broadsheet: merged: {merged.dropped} = {merged.kept} ({merged.similarity:.0%} alike)",
                          markup=False)
        for path in paths:
            click.echo(str(path))
    _report_skipped(skipped)


def _watch_digest(prepare, first: dict, files: list[Path], *, quiet: bool, skipped) -> None:
    """``digest --watch``: the recipe and the subscribers' list (``files``) read again for every rebuild."""
    from .pipeline import build_digest
    from .watch import watch

    def make(render_cache: dict) -> tuple[list[Path], list, list[Path]]:
        arguments = {k: v for k, v in prepare().items() if k != "recipe_data"}
        seen: list = []
        paths, _ = build_digest(**arguments, render_cache=render_cache, seen=seen)
        return paths, seen, [*arguments["sources"], *files]

    watch([*first["sources"], *files], formats=first["formats"], out=first["out"], overrides=first["overrides"],
          quiet=quiet, skipped=skipped, make=make)


def _checked_option(value, key: str):
    """A delivery option's value checked as [delivery] checks it: a fault is a usage error naming the option."""
    if value is None:
        return None
    from .config import DeliveryConfig, validate

    try:
        validate(DeliveryConfig, {key: value}, Path("command line"))
    except BroadsheetError as exc:
        raise click.BadParameter(exc.message.partition(": ")[2] or exc.message) from None
    return value


def load_delivery_config(path):
    from .deliver.run import load_delivery

    return load_delivery(path)


def _deliver(jobs, delivery, folder: Path, *, dry_run: bool, quiet: bool) -> None:
    """Deliver ``jobs`` with a progress bar; print the summary and each failure; exit 1 if any failed."""
    from .deliver.run import deliver, failure_lines

    progress = _progress(not quiet and err.is_terminal)
    try:
        with progress:
            task = progress.add_task("Sending" if not dry_run else "Writing messages", total=len(jobs))
            outcome = deliver(jobs, delivery, folder, dry_run=dry_run,
                              progress=lambda done, total: progress.update(task, completed=done, total=total))
    except BroadsheetError as exc:
        _fail(exc)
    except OSError as exc:
        _fail_named(exc, [folder])
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM and SIGHUP (see main): what was sent is in the ledger
        name = signal.Signals(_stopped_by[0]).name if _stopped_by else "SIGINT"
        _fail(BroadsheetError(f"stopped by {name}; what was sent is recorded, a rerun sends the rest"))
    if not quiet:
        for path in outcome.written:
            click.echo(str(path))
        err.print(f"broadsheet: send: {outcome.summary()}", markup=False)
    for line in failure_lines(outcome):
        err.print(f"broadsheet: failed: {line}", markup=False)
    if outcome.failed:
        sys.exit(1)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--to", "to", multiple=True, metavar="ADDR",
              help="Send every FILE to this address; repeat (or separate with commas) for more.")
@click.option("--subscribers", type=click.Path(path_type=Path, dir_okay=False), metavar="CSV",
              help="Send every FILE to each subscriber of this CSV (its email column; its formats column, when "
                   "filled, picks the EPUBs or the PDFs).")
@click.option("--from", "sender", metavar="ADDR", callback=lambda ctx, param, value: _checked_option(value, "sender"),
              help="The sender (an address your mail-to-device service accepts).  [default: from in [delivery]]")
@click.option("--smtp", metavar="URL", callback=lambda ctx, param, value: _checked_option(value, "smtp"),
              help="smtp+starttls://USER@HOST:587, smtps://USER@HOST:465 or smtp://HOST:25 (no login without TLS). "
                   "The password only from the environment: BROADSHEET_SMTP_PASSWORD.  [default: smtp in [delivery]]")
@click.option("--smtp-cafile", type=click.Path(path_type=Path, dir_okay=False), metavar="PEM",
              help="Verify the server's certificate against this CA (PEM) instead of the system's.")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), metavar="TOML",
              help="broadsheet.toml or a digest recipe whose [delivery] table to use.  "
                   "[default: ./broadsheet.toml when there is one]")
@click.option("--base-url", metavar="URL", callback=lambda ctx, param, value: _checked_option(value, "base_url"),
              help="Where the FILEs can be downloaded: one too large for its recipient is sent as a link.")
@click.option("--rate", metavar="N/min", callback=lambda ctx, param, value: _checked_option(value, "rate"),
              help="At most this many messages, e.g. 30/min, 1/s, 500/hour.  [default: as fast as the server takes]")
@click.option("--dry-run", is_flag=True, help="Write each message into <out>/outbox/ as an .eml file; send nothing.")
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the delivery ledger (.broadsheet-deliveries.sqlite) and of --dry-run's outbox.  "
                   "[default: the first FILE's folder]")
@click.option("--report", is_flag=False, flag_value=".", default=None, metavar="[DIR]",
              help="Print the delivery ledger of DIR (default: the current folder) and send nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --report: print the ledger as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def send(files, to, subscribers, sender, smtp, smtp_cafile, config_path, base_url, rate, dry_run, out, report,
         as_json, quiet) -> None:
    """Mail editions (EPUB or PDF files) to readers and their devices (Send to Kindle and the like).

    Each FILE goes to each recipient once: a delivery ledger in the output folder records what
    was sent, and a rerun sends only the rest (two runs at once never send a message twice).
    Temporary failures are tried again with a growing pause; a refused recipient is recorded
    and the others go on.  Exit status 1 if any message failed, with one line naming each.
    """
    from .deliver.run import jobs_for, of_formats, print_report, read_editions, recipients, settings, subscriber_jobs
    from .recipe import load_subscribers

    _setup_logging(quiet)
    if report is not None:
        if files or to or subscribers:
            raise click.UsageError("--report prints the ledger; give no FILE, --to or --subscribers with it")
        try:
            print_report(Path(report), as_json, _stdout_console(), click.echo)
        except BroadsheetError as exc:
            _fail(exc)
        return
    if not files:
        raise click.UsageError("give FILE... to send (or --report)")
    if bool(to) == bool(subscribers):
        raise click.UsageError("give --to ADDR or --subscribers CSV (one of them)")
    try:
        config, base = load_delivery_config(config_path)
        delivery = settings(config, base, smtp=smtp, sender=sender, cafile=smtp_cafile, base_url=base_url, rate=rate,
                            dry_run=dry_run)
        editions = read_editions(files)
        if to:
            jobs = jobs_for(recipients(to), editions)
        else:
            people = load_subscribers(subscribers, need_email=True, need_id=False).subscribers
            jobs = subscriber_jobs(people, lambda person: of_formats(editions, person.formats))
    except BroadsheetError as exc:
        _fail(exc)
    _deliver(jobs, delivery, out or files[0].parent, dry_run=dry_run, quiet=quiet)


def _stdout_console():
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=False)
    return console if console.is_terminal else Console(highlight=False, soft_wrap=False, width=200)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--base-url", metavar="URL", help="Make the feeds' links absolute under this address "
                                               "(https://example.org/papers/).  [default: relative links]")
@click.option("--title", help="The library's title.  [default: the publication's, else Library]")
@click.option("--per-page", type=click.IntRange(min=1, max=1000), default=50, show_default=True,
              help="Editions per page of each OPDS feed.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def publish(folder, base_url, title, per_page, quiet) -> None:
    """Publish the editions built into FOLDER as a static library: index.html, OPDS 1.2 and 2.0 catalogs.

    The paths written are printed, one per line; only files whose bytes change are written.
    """
    _use_limits()
    _supervise("publish")
    from .publish import publish as run_publish

    _setup_logging(quiet)
    try:
        report = run_publish(folder, base=base_url, title=title, per_page=per_page)
    except BroadsheetError as exc:
        _fail(exc)
    except (RecursionError, OSError) as exc:
        _fail_named(exc, [folder])
    for line in report.skipped:
        err.print(f"broadsheet: skipped: {line}", markup=False)
    if not quiet:
        for path in report.written:
            click.echo(str(path))
        err.print(f"broadsheet: published {report.editions} editions of {report.publications} publications: "
                  f"{len(report.written)} files written, {report.unchanged} unchanged, {len(report.removed)} removed",
                  markup=False)
    if report.skipped:
        sys.exit(1)


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for every machine on the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("-q", "--quiet", is_flag=True, help="No line per request.")
def serve(folder, host, port, quiet) -> None:
    """Serve a published library (broadsheet publish FOLDER) to e-readers: OPDS at /opds/root.nav.atom.

    GET and HEAD only, nothing outside FOLDER; Ctrl-C or SIGTERM stops it (exit status 0).
    """
    from .serve import serve as run_serve

    try:
        run_serve(folder, host=host, port=port, quiet=quiet)
    except BroadsheetError as exc:
        _fail(exc)


def _echo_json(value) -> None:
    """Print ``value`` as ``json.dumps(value, ensure_ascii=False, indent=2)`` would, a megabyte at a time
    (a digest of a year of a daily is hundreds of megabytes of JSON: never held whole)."""
    chunks: list[str] = []
    size = 0
    for chunk in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(value):
        chunks.append(chunk)
        size += len(chunk)
        if size >= 1 << 20:
            click.echo("".join(chunks), nl=False)
            chunks, size = [], 0
    click.echo("".join(chunks))


#: Whether commands run supervised: set by :func:`main`, the program; not when ``cli`` is
#: called in another program's process (a test's CliRunner), which must not be forked.
_supervising = False


def _supervise(command: str) -> None:
    """Do the rest of ``command`` in a child process that a signal or a limit can always stop
    (``processes.supervise``); this process waits for it and exits with its status."""
    if _supervising:
        from .processes import supervise

        supervise(command)


_stopped_by: list[int] = []


def _terminate(signum, frame) -> None:
    """SIGTERM and SIGHUP end the work like Ctrl-C: temporary files are removed, earlier outputs stay."""
    _stopped_by.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    """Run the CLI; unexpected faults become one line unless BROADSHEET_DEBUG is set."""
    global _supervising
    _supervising = True
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _terminate)
    try:
        cli.main(prog_name="broadsheet", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        name = signal.Signals(_stopped_by[0]).name if _stopped_by else "SIGINT"
        err.print(f"broadsheet: error: stopped by {name}; nothing half-written was left", markup=False)
        sys.exit(1)
    except MemoryError:
        _out_of_memory()
    except OSError as exc:
        if exc.errno != errno.ENOMEM:
            _internal_error(exc)
        _out_of_memory()
    except ImportError as exc:  # a library that cannot be mapped within the address-space limit
        if "failed to map" not in str(exc) and "cannot allocate memory" not in str(exc).lower():
            _internal_error(exc)
        _out_of_memory()
    except Exception as exc:  # noqa: BLE001
        _internal_error(exc)


def _out_of_memory() -> None:
    from . import processes

    limit = processes.memory_limit_mb
    why = f" (the build's limit is {limit} MB; raise it with {processes.RAISE_MEMORY})" if limit else ""
    sys.stderr.write(f"broadsheet: error: out of memory{why}\n")
    sys.exit(1)


def _internal_error(exc: BaseException) -> None:
    if os.environ.get("BROADSHEET_DEBUG"):
        raise exc
    fault = named_fault(exc)
    if fault is not None:
        _fail(fault)
    err.print(f"broadsheet: internal error: {type(exc).__name__}: {exc} (set BROADSHEET_DEBUG=1 for details)",
              markup=False)
    sys.exit(1)
