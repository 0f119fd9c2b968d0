"""broadsheet: newspaper and periodical editions as EPUB 3 and print-ready PDF.

The public API, imported on first use (``--version`` and ``--help`` need none of it):
:func:`build`, :func:`build_digest`, :func:`load`, :func:`write_editions` and :func:`plan` (from
``pipeline``), :class:`Overrides` and :func:`load_config` (from ``config``), :class:`BroadsheetError`
and ``__version__``.
"""

from __future__ import annotations

from importlib import import_module

from .errors import BroadsheetError
from .version import __version__

#: public name → the module that defines it
_EXPORTS = {
    "build": "pipeline", "build_digest": "pipeline", "load": "pipeline", "write_editions": "pipeline",
    "plan": "pipeline", "Output": "pipeline", "Settings": "pipeline",
    "Overrides": "config", "load_config": "config",
    "Edition": "ingest",
}

__all__ = ["BroadsheetError", "__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
