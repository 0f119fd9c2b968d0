"""Imported by the layout fork server only (``pdf_worker.PRELOAD``): everything a layout
process needs, loaded once and shared by every process forked from the server."""

import weasyprint  # noqa: F401

from . import pdf  # noqa: F401  (unpickling a backend is then free)
from .cjk_justify import install
from .pdf_fonts import installed_faces

install()
installed_faces()
