"""Imported by the PDF layout zygote only (its name is handed to ``processes.warm_up``): what
every layout process needs, loaded once and shared by every process forked from the zygote.
Neither the configuration nor the renderer: a layout process gets plain settings
(``layout``), and never the scheduler that hands out its work."""

import weasyprint  # noqa: F401

from . import layout  # noqa: F401
from . import justify, leaders
from .fonts import installed_faces

justify.install()
leaders.install()
installed_faces()
