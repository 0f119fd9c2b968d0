"""Errors that broadsheet reports to its users as one line, without a traceback."""

from __future__ import annotations

from pathlib import Path


class BroadsheetError(Exception):
    """A fault in the user's input or environment, reported as ``path: message``."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{self.path}: {self.message}"


class ConfigError(BroadsheetError):
    """A configuration file (broadsheet.toml, issue.toml, front matter) is invalid."""


class IngestError(BroadsheetError):
    """A source could not be read or understood."""


class RenderError(BroadsheetError):
    """A template or theme could not be rendered."""


class FontCoverageError(RenderError):
    """The installed fonts lack glyphs for characters of the edition."""


class BackendError(BroadsheetError):
    """An output format could not be written."""
