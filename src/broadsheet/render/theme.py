"""Themes: a chain of folders whose templates and styles override the shipped ones by name."""

from __future__ import annotations

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
    page_size: str | None = None  # the print page size the theme is designed for

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
    page_size = None
    while current is not None:
        folder = _locate(current, origin)
        if folder in folders or len(folders) >= MAX_INHERIT:
            raise ConfigError(f"theme: inheritance of {spec!r} loops or is deeper than {MAX_INHERIT}")
        folders.append(folder)
        data = _read_theme_file(folder)
        page_size = page_size or data.get("page_size")
        current = data.get("inherit")
        origin = folder
    return Theme(name=folders[0].name, folders=tuple(folders), page_size=page_size)


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


def _read_theme_file(folder: Path) -> dict:
    theme_file = folder / THEME_FILE
    if not theme_file.is_file():
        return {}
    from ..config import read_toml  # size and nesting bounded, faults named

    data = read_toml(theme_file)
    unknown = set(data) - {"name", "inherit", "description", "page_size"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key", theme_file)
    for key in ("inherit", "page_size", "name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{key}: expected text, got {data[key]!r}", theme_file)
    if "page_size" in data:
        from ..config import page_dimensions

        try:
            page_dimensions(data["page_size"])
        except ValueError as exc:
            raise ConfigError(f"page_size: {exc}", theme_file) from None
    return data
