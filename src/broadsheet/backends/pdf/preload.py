"""Imported by the PDF layout zygote only (its name is handed to ``processes.warm_up``): what
every layout process needs, loaded once and shared by every process forked from the zygote.
Neither the configuration nor the renderer: a layout process gets plain settings
(``layout``), and never the scheduler that hands out its work.  It lays out a one-word document once (``layout.warm_up``), so that
what a layout sets up the first time (fontconfig, Pango, the PDF writer) is set up here, once, for every
layout process of the build."""

import gc

from .engine import import_weasyprint

import_weasyprint()  # before anything of this package imports it

from . import layout  # noqa: E402, F401
from . import justify, leaders, stylesheets  # noqa: E402
from .fonts import installed_faces  # noqa: E402

justify.install()
leaders.install()
stylesheets.install()
installed_faces()
try:
    layout.warm_up()
except Exception:  # noqa: BLE001 - a layout process meets and reports whatever fails here
    pass
# What the zygote holds now lives as long as every layout process: out of the collector's sight
# (its full collections no longer walk it, nor write to the pages a fork shares with the zygote).
# A layout makes objects by the hundred thousand and frees nearly all of them by reference
# counting; collecting the young ones ten times less often halved the collector's share of a
# large section's layout (13% of it).
gc.freeze()
gc.set_threshold(7000, 10, 10)
