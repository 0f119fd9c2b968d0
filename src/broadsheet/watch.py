"""``build --watch`` and ``digest --watch``: build, then build again on every change to the sources, their broadsheet.toml
or issue.toml, or the theme folders in use, until stopped.

The process stays the supervised child of an ordinary build (``processes.supervise``): SIGINT,
SIGTERM and SIGHUP reach the supervisor, which ends this process and its layout processes and
removes what was half-written, as for any build.  Between rebuilds the layout processes stay
warm (``pipeline.warm_up`` once), rendered articles stay in memory (``write_editions``'
``render_cache``, emptied when a theme folder changes) and the on-disk part cache is used unless
``cache`` is off.  A rebuild that fails says why in one line and the watch goes on.  Bursts of
events are gathered into one rebuild (watchfiles' debounce); changes in the output folder and in
hidden files or folders are ignored.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .config import Overrides
from .errors import BroadsheetError, named_fault

#: How long watchfiles gathers a burst of events into one rebuild at most, and the quiet time that
#: ends a burst (milliseconds).
DEBOUNCE_MS = 800
STEP_MS = 50
#: How often the watch looks up when nothing changes (``stop``, and the first build's start).
POLL_MS = 200


class _Scope:
    """What a rebuild depends on: the source folders (everything below them), the source files, the
    configuration files and the theme folders; never the output folder or a hidden name."""

    def __init__(self, sources: Sequence[Path], out: Path) -> None:
        self.out = _absolute(out)
        self.folders: set[Path] = set()
        self.files: set[Path] = set()
        self.themes: set[Path] = set()
        for source in sources:
            path = _absolute(source)
            (self.folders if path.is_dir() else self.files).add(path)

    def add_editions(self, editions, overrides: Overrides) -> None:
        from .pipeline import resolve_settings

        themes: dict = {}
        for edition in editions:
            if edition.config_path is not None:
                self.files.add(_absolute(edition.config_path))
                issue_toml = edition.root / "issue.toml"
                if issue_toml.is_file():
                    self.files.add(_absolute(issue_toml))
            try:
                self.themes.update(_absolute(f) for f in resolve_settings(edition, overrides, themes).theme.folders)
            except BroadsheetError:
                pass

    def roots(self) -> list[Path]:
        """The folders to watch: each folder named, the folder of each file named, as far up as exists."""
        wanted = {*self.folders, *self.themes, *(f.parent for f in self.files)}
        roots = set()
        for folder in wanted:
            while not folder.is_dir() and folder != folder.parent:
                folder = folder.parent
            roots.add(folder)
        # a folder inside another watched one is watched with it
        return sorted(r for r in roots if not any(o != r and r.is_relative_to(o) for o in roots))

    def theme_changed(self, path: Path) -> bool:
        return any(_below(path, folder) for folder in self.themes)

    def __call__(self, change, name: str) -> bool:
        path = Path(name)
        if _below(path, self.out) or path.name.endswith("~"):
            return False
        if path in self.files:
            return True
        for folder in (*self.folders, *self.themes):
            if _below(path, folder):
                return not any(part.startswith(".") for part in path.relative_to(folder).parts)
        return False

    def key(self) -> tuple:
        return tuple(sorted(self.folders)), tuple(sorted(self.files)), tuple(sorted(self.themes))


#: How many files of the folders a new watch adds are looked at for changes made before it was live.
MISSED_SCAN = 10_000


def _changed_since(new: _Scope, old: _Scope, since: float) -> set:
    """Files under the folders ``new`` watches and ``old`` did not, changed since ``since`` (a wall-clock
    time): changes made between the build that found those folders and the new watch going live."""
    import os

    from watchfiles import Change

    found: set = set()
    seen = 0
    old_roots = old.roots()
    for root in new.roots():
        if any(_below(root, o) for o in old_roots):
            continue
        for folder, folders, files in os.walk(root):
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in files:
                seen += 1
                if seen > MISSED_SCAN:
                    return found
                path = os.path.join(folder, name)
                try:
                    if os.stat(path).st_mtime >= since and new(Change.modified, path):
                        found.add((Change.modified, path))
                except OSError:
                    continue
    return found


def _absolute(path: Path) -> Path:
    return Path(path).expanduser().absolute()


def _below(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


def _say_fault(exc: BaseException, sources: Sequence[Path]) -> None:
    """A rebuild's fault in the one line a failed build prints; anything unknown is raised."""
    from .limits import cut

    if not isinstance(exc, BroadsheetError):
        fault = named_fault(exc, sources)
        if fault is None:
            raise exc
        exc = fault
    message = cut(str(exc).replace("\n", " "), 600)
    print(f"broadsheet: error: {message}", file=sys.stderr, flush=True)


def watch(
    sources: Sequence[Path],
    *,
    formats: Sequence[str],
    out: Path,
    overrides: Overrides = Overrides(),
    load_options: dict | None = None,
    cache: bool = True,
    quiet: bool = False,
    skipped: list | None = None,
    stop: Callable[[], bool] | None = None,
    make: Callable[[dict], tuple[list[Path], list, list[Path]]] | None = None,
) -> None:
    """Build ``sources`` into ``out`` now and after every change, until the process is stopped (or
    ``stop()`` is true after a rebuild).  ``load_options`` are :func:`pipeline.load`'s keywords;
    ``skipped`` is the --keep-going list, told and emptied after each rebuild.

    ``make(render_cache)``, when given, does each build instead (``digest --watch``) and returns the
    paths written, the editions whose configuration and theme are watched, and the files and folders
    it read (a recipe and a subscribers' list among them; ``sources`` is what is watched until it
    has built once)."""
    import watchfiles

    from .pipeline import load, warm_up, write_editions

    sources = [Path(s) for s in sources]
    out = Path(out)
    warm_up(formats)
    render_cache: dict = {}
    scope = _Scope(sources, out)

    def build_once(render_cache: dict) -> tuple[list[Path], list, list[Path]]:
        editions = load(sources, **(load_options or {}))
        return write_editions(editions, formats=formats, out=out, overrides=overrides, render_cache=render_cache,
                              cache=cache), editions, sources

    built_at = [0.0]  # the wall clock when the last build began (file times are compared with it)

    def rebuild(changed: int) -> None:
        nonlocal scope
        started = time.monotonic()
        built_at[0] = time.time()
        try:
            paths, editions, read = (make or build_once)(render_cache)
        except (BroadsheetError, RecursionError, OSError) as exc:
            _say_fault(exc, sources)
            return
        finally:
            for fault in skipped or ():
                print(f"broadsheet: skipped: {str(fault).replace(chr(10), ' ')}", file=sys.stderr, flush=True)
            if skipped:
                skipped.clear()
        fresh = _Scope(read, out)
        fresh.add_editions(editions, overrides)
        scope = fresh
        if not quiet:
            what = "built" if not changed else f"rebuilt after {changed} change{'s' if changed != 1 else ''}"
            files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
            print(f"broadsheet: {time.strftime('%H:%M:%S')} {what}: {files} in {time.monotonic() - started:.2f} s",
                  flush=True)

    def watcher(of: _Scope):
        """A live watch of ``of``: its first answer (empty, after POLL_MS, or the first changes) taken."""
        changes = watchfiles.watch(*of.roots(), watch_filter=of, debounce=DEBOUNCE_MS, step=STEP_MS,
                                   rust_timeout=POLL_MS, yield_on_timeout=True, raise_interrupt=False,
                                   ignore_permission_denied=True)
        return changes, next(changes, set())

    # The watch starts before each build, so that a change made while a build runs starts the next one.
    watching = scope
    events, changes = watcher(watching)
    build_now, changed = True, 0
    try:
        while True:
            if changes:
                if any(watching.theme_changed(Path(name)) for _, name in changes):
                    render_cache.clear()  # articles rendered with the old templates
                build_now, changed = True, changed + len(changes)
            if build_now:
                rebuild(changed)
                build_now, changed = False, 0
                if scope.key() != watching.key():  # a new theme, configuration or source: a new watch,
                    fresh, first = watcher(scope)  # live before the old one is asked what it saw meanwhile
                    late = next(events, set())
                    events.close()
                    if any(watching.theme_changed(Path(name)) for _, name in late):
                        render_cache.clear()
                    # what changed in the newly watched folders before their watch was live
                    missed = _changed_since(scope, watching, built_at[0])
                    events, watching = fresh, scope
                    changes = {*late, *first, *missed}
                    continue
            if stop and stop():
                return
            changes = next(events, None)
            if changes is None:
                return
    finally:
        events.close()
