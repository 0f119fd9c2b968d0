"""Saved e-paper sites (数字报): Founder 方正 pages and People's Daily layouts, as HTML.

A source is either one HTML file — an article page (one article) or a page (版面) whose
article list names article files beside it — or a folder holding a saved site: every page
found in it, in printed page order, each page one section holding the articles of its
article list in list order.  Articles are read only from files inside the source folder;
nothing is ever fetched.

Site rules are data: one :class:`Layout` per layout family gives the XPath selectors of
the page list, the article list, the page banner and the article fields; a generic table
(:data:`GENERIC`) follows the family's own selectors.  One code path applies whichever
family matches a file (by its path first, then by markers in its markup).

All markup reaches the model through :func:`.html.html_to_blocks`; titles and other
fields are plain text.

The modules, one job each:

- :mod:`.layouts`: the layout families as data, one table per family;
- :mod:`.page`: one saved page, read and parsed, and the parts found in it;
- :mod:`.article`: a page's parts turned into a model article;
- :mod:`.site`: the saved site on disk (detection, the folder walk, page order) and loading;
- :mod:`.facsimile`: a page's facsimile (版面图): its page picture, image map and page PDF.
"""

from __future__ import annotations

from .layouts import DATE_PATHS, ENPCONTENT, FOUNDER, GENERIC, LAYOUTS, PEOPLES_DAILY, PEOPLES_DAILY_PC, Layout
from .page import MAX_BYTES
from .site import HTML_SUFFIXES, KIND, MAX_FILES, claims_folder, detect, load

__all__ = [
    "DATE_PATHS", "ENPCONTENT", "FOUNDER", "GENERIC", "HTML_SUFFIXES", "KIND", "LAYOUTS", "Layout", "MAX_BYTES",
    "MAX_FILES", "PEOPLES_DAILY", "PEOPLES_DAILY_PC", "claims_folder", "detect", "load",
]
