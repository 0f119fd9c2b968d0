"""Imported by the layout zygote only (``pdf_worker``): what every layout process needs, loaded
once and shared by every process forked from the zygote.  Neither the configuration nor the
renderer: a layout process gets plain settings (``pdf_part``)."""

import weasyprint  # noqa: F401

from . import pdf_parallel, pdf_part  # noqa: F401
from .cjk_justify import install
from .pdf_fonts import installed_faces

install()
installed_faces()
