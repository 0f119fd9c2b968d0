"""The closed vocabularies, each written once: configuration Literals, command-line choices and the
code that dispatches on them all read their names from here.

A leaf: imports only the standard library.
"""

from __future__ import annotations

#: Source kinds for ``--from`` / ``kind``; each is a module of broadsheet.ingest of the same name.
SOURCE_KINDS = ("markdown", "text", "epaper", "article", "feed")

#: EPUB device profiles for ``--profile`` / ``[epub] profile``; backends/epub/profiles.py says what each means.
EPUB_PROFILES = ("generic", "kindle", "kobo", "apple")

#: 简繁 conversions for ``--convert`` / ``convert`` (OpenCC): to traditional, to simplified, Taiwan, Hong Kong.
CONVERSIONS = ("s2t", "t2s", "s2tw", "s2hk")

#: Output formats for ``-f`` / ``formats``; "html" is the print HTML with its assets, in a folder.
FORMATS = ("epub", "pdf", "html")
#: The formats made when none is asked for, and those the digest command offers.
DEFAULT_FORMATS = ("epub", "pdf")
#: The renderings render_issue makes; every format is made from one of them.
RENDERINGS = ("epub", "pdf")

#: Printer's marks for ``--marks`` / ``[pdf] marks``, drawn outside the bleed.
MARKS = ("crop", "cross")
#: Standard PDF variants for ``--pdf-variant`` / ``[pdf] variant`` (WeasyPrint's), in lower case.
PDF_VARIANTS = ("pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/a-4", "pdf/ua-1", "pdf/ua-2",
                "pdf/x-1a", "pdf/x-3", "pdf/x-4")

#: How the PDF is laid out (``--layout``): sections apart (and in parallel), or the whole issue at once.
PDF_LAYOUTS = ("sections", "whole")
#: Impositions for ``--impose`` / ``[pdf] impose``: a companion PDF of the pages in printing order.
IMPOSITIONS = ("booklet",)

#: EPUB writing modes for ``--writing-mode`` / ``[epub] writing_mode``.
WRITING_MODES = ("horizontal", "vertical")

#: Page facsimiles (版面图) for ``--facsimile`` / ``facsimile``: none, a page view before each section's
#: articles, or an edition of page views whose regions link the articles (kept out of the reading order).
FACSIMILE_MODES = ("off", "pages", "only")

#: How a digest groups its articles into sections (``--group-by`` / ``group_by``).
GROUPINGS = ("section", "date", "source", "none")
