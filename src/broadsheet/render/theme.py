"""Themes: a chain of folders whose templates and styles override the shipped ones by name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..resources import data_dir

THEME_FILE = "theme.toml"
MAX_INHERIT = 8


@dataclass(frozen=True)
class Theme:
    """A named theme; ``folders`` are searched first to last, then the shipped base."""

    name: str
    folders: tuple[Path, ...]

    @property
    def template_path(self) -> list[Path]:
        return [*self.folders, data_dir("templates")]

    @property
    def style_path(self) -> list[Path]:
        return [*self.folders, data_dir("styles")]

    def find_style(self, name: str) -> Path | None:
        """Return the first stylesheet called ``name`` along the style path."""
        for folder in self.style_path:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None


def shipped_themes() -> list[str]:
    return sorted(p.name for p in (data_dir("templates") / "themes").iterdir() if (p / THEME_FILE).is_file())


def find_theme(spec: str, base: Path | None = None) -> Theme:
    """Resolve ``spec``, a shipped theme's name or a theme folder (relative to ``base``)."""
    folders: list[Path] = []
    current: str | None = spec
    origin = base
    while current is not None:
        folder = _locate(current, origin)
        if folder in folders or len(folders) >= MAX_INHERIT:
            raise ConfigError(f"theme: inheritance of {spec!r} loops or is deeper than {MAX_INHERIT}")
        folders.append(folder)
        current = _read_inherit(folder)
        origin = folder
    return Theme(name=folders[0].name, folders=tuple(folders))


def _locate(spec: str, base: Path | None) -> Path:
    path = Path(spec)
    candidates = [path] if path.is_absolute() else [p for p in ((base / path) if base else None, Path.cwd() / path) if p]
    looks_like_path = "/" in spec or spec.startswith(".")
    for candidate in candidates:
        if candidate.is_dir() and (looks_like_path or not (data_dir("templates") / "themes" / spec).is_dir()):
            return candidate.resolve()
    shipped = data_dir("templates") / "themes" / spec
    if not looks_like_path and (shipped / THEME_FILE).is_file():
        return shipped
    raise ConfigError(f"theme: unknown theme {spec!r} (shipped themes: {', '.join(shipped_themes())}; or give a folder)")


def _read_inherit(folder: Path) -> str | None:
    theme_file = folder / THEME_FILE
    if not theme_file.is_file():
        return None
    try:
        data = tomllib.loads(theme_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", theme_file) from None
    unknown = set(data) - {"name", "inherit", "description"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key", theme_file)
    inherit = data.get("inherit")
    if inherit is not None and not isinstance(inherit, str):
        raise ConfigError(f"inherit: expected a theme name, got {inherit!r}", theme_file)
    return inherit
