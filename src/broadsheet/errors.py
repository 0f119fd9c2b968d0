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


#: Faults of the machine rather than of broadsheet, by errno: each is one line naming the file
#: or folder, never an "internal error".
_OS_FAULTS = {
    "ENOSPC": "no space left on the device",
    "EDQUOT": "disk quota exceeded",
    "EACCES": "permission denied",
    "EPERM": "operation not permitted",
    "EROFS": "read-only file system",
    "ENAMETOOLONG": "file name too long",
    "EMFILE": "too many open files",
    "ENFILE": "too many open files in the system",
    "EIO": "input/output error",
    "ENOTDIR": "a file stands where a folder must be",
    "EISDIR": "a folder stands where a file must be written",
}


def os_fault(exc: OSError) -> str | None:
    """The plain words for an OSError that is the machine's fault (a full disk, a folder that
    cannot be written …), or ``None`` for any other OSError."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    return _OS_FAULTS.get(name)


def write_error(exc: OSError, folder: Path) -> BroadsheetError | None:
    """A BackendError naming ``folder`` (the output folder, never a hidden temporary file in it)
    for an OSError met while writing there, or naming the file itself when the error is about a
    file outside ``folder`` (a picture being read); ``None`` if it is not the machine's fault."""
    fault = os_fault(exc)
    if fault is None:
        return None
    import errno
    import os

    base = os.path.abspath(folder)
    for name in (exc.filename, exc.filename2):
        if name is not None:
            path = os.path.abspath(os.fsdecode(name))
            inside = path == base or path.startswith(base.rstrip(os.sep) + os.sep)
            above = base.startswith(path.rstrip(os.sep) + os.sep)  # a folder made on the way to ``folder``
            if not inside and not above:
                return BackendError(fault, path)
    if exc.errno in (errno.ENOTDIR, errno.EISDIR):  # name what stands in the way
        name = exc.filename2 if exc.filename2 is not None else exc.filename
        if name is not None:
            return BackendError(f"cannot write the outputs: {fault}", _not_temporary(os.fsdecode(name)))
    return BackendError(f"cannot write the outputs: {fault}", folder)


def _not_temporary(name: str) -> Path:
    """``name``, or its folder if it is the hidden temporary file an output is written to."""
    path = Path(name)
    return path.parent if path.name.startswith(".") and path.name.endswith(".part") else path


def named_fault(exc: BaseException, inputs: list | tuple = ()) -> BroadsheetError | None:
    """One line for the faults that are the input's or the machine's and were not caught where
    they happened: nesting past Python's recursion limit (naming the inputs), a full disk,
    missing permission, a read-only file system, a name too long (naming the file).  ``None``
    for anything else: that is a real bug, an "internal error"."""
    where = ", ".join(str(path) for path in inputs) or None
    if isinstance(exc, RecursionError):
        return BroadsheetError("nested too deeply (more levels than can be read)", where)
    if isinstance(exc, OSError) and (fault := os_fault(exc)) is not None:
        import os

        path = _not_temporary(os.fsdecode(exc.filename)) if exc.filename is not None else None
        return BroadsheetError(fault, path if path is not None else where)
    return None
