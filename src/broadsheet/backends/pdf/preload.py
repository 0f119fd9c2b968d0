"""Imported by the PDF layout zygote only (its name is handed to ``processes.warm_up``): what
every layout process needs, loaded once and shared by every process forked from the zygote.
Neither the configuration nor the renderer: a layout process gets plain settings
(``layout``), and never the scheduler that hands out its work.  It lays out a one-word document once (``layout.warm_up``), so that
what a layout sets up the first time (fontconfig, Pango, the PDF writer) is set up here, once, for every
layout process of the build."""

import weasyprint  # noqa: F401

from . import layout  # noqa: F401
from . import justify, leaders
from .fonts import installed_faces

justify.install()
leaders.install()
installed_faces()
try:
    layout.warm_up()
except Exception:  # noqa: BLE001 - a layout process meets and reports whatever fails here
    pass
