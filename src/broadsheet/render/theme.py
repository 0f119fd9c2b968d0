"""Themes: a chain of folders whose templates and styles override the shipped ones by name.

The shipped base stylesheets (``base.css``, ``cjk.css``, ``epub.css``, ``print.css``,
``vertical.css``) are overridden by name: the nearest one along the chain wins.  A theme's own
stylesheets (``theme.css``, ``theme-epub.css``, ``theme-pdf.css``) cascade instead: every theme
of the chain adds its own after its parent's, so a child keeps what it inherits and adds to it.
A template may extend the shipped one it overrides by naming it ``!default/NAME`` (see
:func:`shipped_template_path`).

A theme is read only from its own folders, each file through :mod:`broadsheet.files` against
the folder it lies in (a link out is refused by name).  Where a theme folder may lie:

* a theme named on the command line or in a recipe may be any theme folder;
* a theme named by a source folder's own ``broadsheet.toml`` must be shipped, or lie inside
  that source folder or the user's theme folder (``$XDG_CONFIG_HOME/broadsheet/themes``,
  else ``~/.config/broadsheet/themes``);
* ``inherit`` may name a shipped theme, or a folder inside the folder of the configuration,
  recipe or command line that named the first theme, or inside the user's theme folder —
  never one of those roots itself, nor a folder that holds a theme of the chain.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .. import limits
from ..errors import ConfigError, RenderError
from ..files import check_inside, read_inside, real_root
from ..paper import PageSize
from ..resources import data_dir

THEME_FILE = "theme.toml"
MAX_INHERIT = 8
MAX_THEME_FILES = 10_000
# What makes a folder a theme folder: any of these directly inside it.
THEME_MARKERS = (THEME_FILE, "epub", "pdf", "base")
# A theme's own stylesheets: each theme of the chain adds its file after its parent's.
CASCADING_STYLES = ("theme.css", "theme-epub.css", "theme-pdf.css")
# How a template names a shipped one: ``!default/epub/article.xhtml`` (any shipped theme's name).
SHIPPED_PREFIX = "!"


@dataclass(frozen=True)
class Theme:
    """A named theme; ``folders`` are searched first to last, then the shipped base."""

    name: str
    folders: tuple[Path, ...]
    page_size: PageSize | None = None  # the print page size the theme is designed for

    @property
    def template_path(self) -> list[Path]:
        return [*self.folders, data_dir("templates")]

    @property
    def style_path(self) -> list[Path]:
        return [*self.folders, data_dir("styles")]

    def read_style(self, name: str) -> tuple[Path, str] | None:
        """Return (path, text) of the first stylesheet called ``name``, read inside its own folder."""
        for folder in self.style_path:
            candidate = folder / name
            if os.path.lexists(candidate):
                return candidate, _read_style_file(candidate, folder)
        return None

    def read_styles(self, names: tuple[str, ...]) -> list[tuple[str, Path, str]]:
        """Return (name, path, text) of a theme's own stylesheets (``names``, from :data:`CASCADING_STYLES`).

        Every theme of the chain adds its own, the farthest parent first and each theme's files in
        the order of ``names``: a child's rules come after everything it inherits.
        """
        found = []
        for folder in reversed(self.folders):
            for name in names:
                if name not in CASCADING_STYLES:
                    raise ValueError(f"{name} is overridden by name, not cascaded")
                candidate = folder / name
                if os.path.lexists(candidate):
                    found.append((name, candidate, _read_style_file(candidate, folder)))
        return found


def _read_style_file(candidate: Path, folder: Path) -> str:
    data = read_inside(candidate, real_root(folder), max_bytes=limits.current().source_bytes,
                       what="theme stylesheet")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RenderError(f"stylesheet is not UTF-8 text ({exc.reason} at byte {exc.start})", candidate) from None


def shipped_template_path(name: str) -> list[Path] | None:
    """The template folders of the shipped theme ``name`` and its shipped parents, then the shipped base.

    What ``!NAME/…`` in a template's ``extends``, ``include`` or ``import`` reads: only shipped
    folders, whatever the theme in use overrides; ``None`` if ``name`` is no shipped theme.
    """
    if name not in shipped_themes():
        return None
    folders: list[Path] = []
    current = name
    while current in shipped_themes() and len(folders) < MAX_INHERIT:
        folder = _shipped_root() / current
        if not (folder / THEME_FILE).is_file() or folder in folders:
            break
        folders.append(folder)
        current = _read_theme_file(folder).get("inherit")
    return [*folders, data_dir("templates")]


def shipped_themes() -> list[str]:
    return sorted(p.name for p in (data_dir("templates") / "themes").iterdir() if (p / THEME_FILE).is_file())


def user_theme_root() -> Path:
    """The user's own theme folder: ``$XDG_CONFIG_HOME/broadsheet/themes`` or ``~/.config/broadsheet/themes``."""
    from ..limits import user_config_path

    return user_config_path().parent / "themes"


def find_theme(spec: str, base: Path | None = None, *, confine: Path | None = None) -> Theme:
    """Resolve ``spec``, a shipped theme's name or a theme folder (relative to ``base``).

    ``confine`` is set for a theme named by a source folder's own configuration: the theme
    must then be shipped, or lie inside ``confine`` or the user's theme folder.
    """
    folders: list[Path] = []
    current: str | None = spec
    origin = base
    page_size = None
    roots = [real_root(confine if confine is not None else base or Path.cwd()), real_root(user_theme_root())]
    roots = [root for root in roots if root != Path(root.anchor)]  # the file system's root confines nothing
    named_by = "the source folder's broadsheet.toml" if confine is not None else None
    while current is not None:
        if len(folders) >= MAX_INHERIT:
            raise ConfigError(f"theme: inheritance of {limits.quote(spec, 80)} is deeper than {MAX_INHERIT}")
        folder = _locate(current, origin, search_cwd=confine is None and not folders)
        if not _is_shipped(folder):
            if folders or confine is not None:
                _check_confined(folder, current, roots, folders, named_by)
            _check_theme_folder(folder, current)
            _check_links(folder)
        if folder in folders:
            raise ConfigError(f"theme: inheritance of {limits.quote(spec, 80)} loops")
        if confine is None and not folders and not _is_shipped(folder) and folder.parent != Path(folder.anchor):
            roots.insert(1, folder.parent)  # the folder of the theme the command line or recipe named
        folders.append(folder)
        data = _read_theme_file(folder)
        page_size = page_size or data.get("page_size")
        current = data.get("inherit")
        origin = folder
        named_by = f"the inherit of {folder / THEME_FILE}"
    return Theme(name=folders[0].name, folders=tuple(folders), page_size=page_size)


def _shipped_root() -> Path:
    return real_root(data_dir("templates") / "themes")


def _is_shipped(folder: Path) -> bool:
    return folder.parent == _shipped_root()


def _check_confined(folder: Path, spec: str, roots: list[Path], chain: list[Path], named_by: str | None) -> None:
    """Refuse a theme folder outside the allowed roots, a root itself, or one holding a theme of the chain."""
    inside = [root for root in roots if folder.is_relative_to(root) and folder != root]
    if not inside or any(earlier.is_relative_to(folder) for earlier in chain):
        where = "the source folder" if named_by and "broadsheet.toml" in named_by else "the folder that named the theme"
        raise ConfigError(
            f"theme: {limits.quote(spec, 80)} ({folder}) lies outside {where} and the user's themes "
            f"({user_theme_root()}); a theme named by {named_by or 'a theme'} may only be shipped or lie inside them"
        )


def _check_theme_folder(folder: Path, spec: str) -> None:
    try:
        names = set(os.listdir(folder))
    except OSError as exc:
        raise ConfigError(f"theme: cannot list {limits.quote(spec, 80)}: {exc.strerror or exc}", folder) from None
    if not (names & set(THEME_MARKERS)) and not any(name.endswith(".css") for name in names):
        raise ConfigError(f"theme: {limits.quote(spec, 80)} ({folder}) is not a theme folder: it holds no "
                          f"{THEME_FILE}, stylesheet or epub/, pdf/ templates")


def _check_links(folder: Path) -> None:
    """Refuse a theme folder holding a link that leads out of it, or more files than a theme has."""
    seen = 0
    for here, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            seen += 1
            if seen > MAX_THEME_FILES:
                raise ConfigError(f"theme folder holds more than {MAX_THEME_FILES:,} files and folders; "
                                  "is it a theme?", folder)
            path = Path(here) / name
            if os.path.islink(path):
                check_inside(path, folder, what="theme file")


def _locate(spec: str, base: Path | None, search_cwd: bool = True) -> Path:
    if not spec or "\0" in spec:
        raise ConfigError(f"theme: {limits.quote(spec, 80)} is not a theme name or folder")
    path = Path(spec)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [base / path] if base else []
        if search_cwd:
            candidates.append(Path.cwd() / path)
    looks_like_path = "/" in spec or spec.startswith(".")
    shipped = data_dir("templates") / "themes" / spec
    for candidate in candidates:
        try:
            is_dir = candidate.is_dir()
        except OSError:
            is_dir = False
        if is_dir and (looks_like_path or not shipped.is_dir()):
            return candidate.resolve()
    if not looks_like_path and (shipped / THEME_FILE).is_file():
        return real_root(shipped)
    if not looks_like_path:
        user = user_theme_root() / spec
        if user.is_dir():
            return user.resolve()
    raise ConfigError(f"theme: unknown theme {limits.quote(spec, 80)} (shipped themes: {', '.join(shipped_themes())}; "
                      "or give a folder)")


def _read_theme_file(folder: Path) -> dict:
    theme_file = folder / THEME_FILE
    if not os.path.lexists(theme_file):
        return {}
    from ..config import read_toml  # size and nesting bounded, faults named

    data = read_toml(theme_file, real_root(folder))
    unknown = set(data) - {"name", "inherit", "description", "page_size"}
    if unknown:
        raise ConfigError(f"{limits.quote(sorted(unknown)[0], 80)}: unknown key", theme_file)
    for key in ("inherit", "page_size", "name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{key}: expected text, got {limits.quote(data[key])}", theme_file)
    if "page_size" in data:
        try:
            data["page_size"] = PageSize.parse(data["page_size"])
        except ValueError as exc:
            raise ConfigError(f"page_size: {exc}", theme_file) from None
    return data
