"""Bounds that protect the machine, as policy in one place.

Each limit has a default here.  The command line and the user's own configuration may set
them; a source folder's ``broadsheet.toml`` may only lower them (a folder someone else wrote
never lifts its own leash).  The process-wide value is set once by the command line
(:func:`use`) and read with :func:`current`.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import math
import os
import re
from dataclasses import dataclass
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def cores() -> int:
    """The processors this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Limits:
    # the whole build outside PDF layout (ingest, render, EPUB): wall clock and address space
    build_seconds: float = 3600
    build_memory_mb: int = 8192
    # one template render
    template_seconds: float = 30
    # PDF layout (each layout process)
    layout_seconds: float = 600
    layout_memory_mb: int = 8192
    jobs: int = 0  # 0: one per core; never more than the cores
    # inputs
    source_bytes: int = 64 * 1024 * 1024
    articles_per_source: int = 1_000  # a feed, a page of many articles, a saved e-paper site
    articles_per_issue: int = 2_000  # one edition, whatever number of sources it is made of
    markup_depth: int = 512  # HTML/XML element nesting kept; deeper content is flattened
    document_depth: int = 64  # nesting of YAML/TOML values
    picture_pixels: int = 40_000_000
    picture_seconds: float = 10  # decoding and re-encoding one picture
    picture_scans: int = 200  # scans of a progressive JPEG (each one a pass over the whole picture)
    # remote pictures (--allow-remote)
    remote_seconds: float = 10  # one download, all of it
    remote_total_seconds: float = 120  # all downloads of one build together
    remote_bytes: int = 20 * 1024 * 1024
    # what an error message quotes of a value
    quote_chars: int = 200

    def pool(self, wanted: int | None = None) -> int:
        """Processes for a pool: what was asked (or one per core), never more than ``jobs`` or the cores."""
        return max(1, min(n for n in (wanted, self.jobs, cores()) if n))

    def lowered(self, **values) -> "Limits":
        """Return these limits with ``values`` applied where they are lower (a source's own settings)."""
        changes = {k: v for k, v in values.items() if v is not None and v < getattr(self, k)}
        return dataclasses.replace(self, **changes) if changes else self


_CURRENT = Limits()
#: Limits of this thread alone (:func:`within`), over the process's.
_HERE: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("limits", default=None)


def current() -> Limits:
    here = _HERE.get()
    return _CURRENT if here is None else here


def use(limits: Limits) -> None:
    global _CURRENT
    _CURRENT = limits


@contextlib.contextmanager
def within(limits: Limits) -> Iterator[None]:
    """``limits`` in this thread only, within the block: a task of a Dask worker, whose other threads may run
    the tasks of other builds under their own limits."""
    token = _HERE.set(limits)
    try:
        yield
    finally:
        _HERE.reset(token)


def quote(value: object, limit: int | None = None) -> str:
    """``repr`` of a value for an error message, cut to a few hundred characters."""
    return cut(repr(value), limit)


def cut(text: str, limit: int | None = None) -> str:
    """``text`` cut to a few hundred characters, for an error message."""
    limit = limit or _CURRENT.quote_chars
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def depth(value: object, stop: int | None = None) -> int:
    """How deeply lists and dicts nest in ``value`` (without recursion); counting stops past ``stop``."""
    deepest = 0
    stack = [(value, 1)]
    seen: set[int] = set()
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if id(item) in seen:  # shared (an alias): counted once
                continue
            seen.add(id(item))
            deepest = max(deepest, level)
            if stop is not None and deepest > stop:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


#: What ``[limits]`` in the user's config may set, and what each must be.
_KINDS = {f.name: f.type for f in dataclasses.fields(Limits)}


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/broadsheet/config.toml``, else ``~/.config/broadsheet/config.toml``."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    folder = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return folder / "broadsheet" / "config.toml"


_USER: dict[Path, dict[str, float]] = {}


def user_limits(path: Path | None = None) -> dict[str, float]:
    """The ``[limits]`` table of the user's config (read once); ``{}`` when there is none.

    Raises ConfigError naming the file and the key for an unknown key or a value that is not
    a positive number.
    """
    from .errors import ConfigError

    path = path or user_config_path()
    if path in _USER:
        return _USER[path]
    try:
        present = path.is_file()
    except OSError:
        present = False
    values: dict[str, float] = {}
    if present:
        table = read_toml(path).get("limits", {})
        if not isinstance(table, dict):
            raise ConfigError(f"limits: expected a table of keys, got {quote(table)}", path)
        for key, value in table.items():
            values[key] = _checked(key, value, path, ConfigError)
    _USER[path] = values
    return values


def _checked(key: str, value: object, where: object, error: type[Exception]) -> float:
    kind = _KINDS.get(key)
    if kind is None:
        raise error(f"limits.{key}: unknown key (known: {', '.join(_KINDS)})", where)
    whole = kind in ("int", int)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)):
        raise error(f"limits.{key}: expected a {'whole' if whole else 'positive'} number, got {quote(value)}", where)
    if not math.isfinite(value) or value < 0 or (value == 0 and key != "jobs"):
        raise error(f"limits.{key}: expected a number above 0, got {quote(value)}", where)
    return value


def settle(command_line: dict[str, float | None] | None = None, config: Path | None = None) -> Limits:
    """The limits of this run: the defaults, then the user's config, then the command line."""
    values = dict(user_limits(config))
    values.update({k: v for k, v in (command_line or {}).items() if v is not None})
    return dataclasses.replace(Limits(), **values)


def capped(asked: dict[str, float | None], limits_: Limits | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """A source's own settings held to the limits: what is used, and what was asked above them.

    ``asked`` maps limit names to what a source folder's file asks (None: not asked, the
    limit is used).  A source may lower a limit, never raise it.
    """
    limits_ = limits_ or _CURRENT
    used: dict[str, float] = {}
    refused: dict[str, float] = {}
    for key, value in asked.items():
        ceiling = limits_.pool() if key == "jobs" else getattr(limits_, key)
        if value is not None and value > ceiling:
            refused[key] = value
        used[key] = ceiling if value is None or value > ceiling else value
    return used, refused


#: The largest TOML file read (a configuration, never a document).
TOML_BYTES = 1024 * 1024


def read_toml(path: Path, root: Path | None = None) -> dict[str, Any]:
    """Read a TOML file (only from inside ``root`` when given, see ``files``); raise ConfigError
    with the line of a syntax error.

    A file larger than :data:`TOML_BYTES` or nested deeper than ``document_depth`` is refused
    (nesting is counted before parsing: tomllib recurses once per level).
    """
    from .errors import ConfigError
    from .files import open_inside

    try:
        with (open_inside(path, root) if root is not None else path.open("rb")) as handle:
            data = handle.read(TOML_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path) from None
    return parse_toml(data, path)


def parse_toml(data: bytes, path: Path) -> dict[str, Any]:
    """Parse TOML bytes (see :func:`read_toml`)."""
    import tomllib

    from .errors import ConfigError

    if len(data) > TOML_BYTES:
        raise ConfigError(f"larger than {TOML_BYTES // 1024} KB: not a configuration file", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path) from None
    deepest = _CURRENT.document_depth
    if _nesting(text, deepest) > deepest:
        raise ConfigError(f"nested more than {deepest} levels deep", path)
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {cut(str(exc))}", path) from None
    except RecursionError:
        raise ConfigError(f"nested more than {deepest} levels deep", path) from None
    if depth(value, deepest) > deepest:  # dotted keys nest without brackets
        raise ConfigError(f"nested more than {deepest} levels deep", path)
    return value


# numbers with a fraction (0.5, 1_000.25e3, the seconds of 12:30:00.5) first: their dot nests nothing
_TOML_TOKENS = re.compile(r"""\d[\d_]*\.\d[\d_]*(?:[eE][+-]?\d+)?|[\[\]{}.\n]|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|#[^\n]*""")


def _nesting(text: str, limit: int) -> int:
    """How deeply TOML text nests, counted without parsing (an upper bound).

    Brackets and braces outside strings and comments, and the dots of one line (a dotted
    key ``a.b.c`` nests as deep as its parts).
    """
    if text.count("[") + text.count("{") + text.count(".") <= limit:
        return 0
    deepest = level = dots = 0
    for token in _TOML_TOKENS.finditer(text):
        char = token.group(0)
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        elif char in "]}":
            level = max(0, level - 1)
        elif char == ".":  # a number's dot is part of its own token
            dots += 1
            deepest = max(deepest, dots)
        elif char == "\n":
            dots = 0
    return deepest
