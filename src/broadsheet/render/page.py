"""The generated part of the print stylesheet: page size, margins, bleed and marks.

Themes style everything else; these rules come first so that a theme can still override
them.  With crop or cross marks the CSS bleed is widened by MARK_SPACE so that WeasyPrint
draws the marks outside the bleed; the PDF backend then sets each page's BleedBox to the
configured bleed again.
"""

from __future__ import annotations

from pathlib import Path

from ..config import PdfConfig
from ..paper import PageSize, to_mm
from ..errors import RenderError

MARK_SPACE_MM = 10.0
#: CMYK profiles for the output intent of PDF/X (Debian's libgs-common ships the first).
CMYK_PROFILES = (Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),
                 Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc"))
OUTPUT_INTENT = "icc/output-intent.icc"


def output_intent_profile(options: PdfConfig) -> Path | None:
    """Return the CMYK profile a PDF/X variant declares as its output intent."""
    if not (options.variant or "").startswith("pdf/x"):
        return None
    profile = next((p for p in CMYK_PROFILES if p.is_file()), None)
    if profile is None:
        raise RenderError(f"{options.variant} needs a CMYK ICC profile for its output intent: "
                          "install one (on Debian: apt-get install libgs-common)")
    return profile


def css_bleed_mm(options: PdfConfig) -> float:
    """Return the bleed WeasyPrint is given: the real bleed plus room for marks."""
    return to_mm(options.bleed) + (MARK_SPACE_MM if options.marks else 0.0)


#: The narrowest text column of a newspaper page (mm); a page too narrow for two has one.
MIN_COLUMN_MM = 40.0


def column_count(page: PageSize) -> int:
    """Return how many text columns a newspaper page of this width holds (2–4; 1 on a small custom page)."""
    width = page.width_mm
    columns = 2 if width < 260 else 3 if width < 350 else 4
    _, outer, _, inner = (to_mm(m) for m in page.margins)
    return max(1, min(columns, int((width - outer - inner) // MIN_COLUMN_MM)))


def page_css(options: PdfConfig, page: PageSize) -> str:
    width, height = page.width, page.height
    top, outer, bottom, inner = page.margins
    bleed = to_mm(options.bleed)
    rules = [
        f"@page {{ size: {width} {height}; margin: {top} {outer} {bottom} {inner}; }}",
        f"@page :left {{ margin-left: {outer}; margin-right: {inner}; }}",
        f"@page :right {{ margin-left: {inner}; margin-right: {outer}; }}",
    ]
    if output_intent_profile(options) is not None:
        # relative to the stylesheet, styles/print.css
        rules.append(f"@color-profile device-cmyk {{ src: url(../{OUTPUT_INTENT}); components: c, m, y, k; }}")
    css_bleed = css_bleed_mm(options)
    if css_bleed:
        marks = " ".join(options.marks) or "none"
        rules.append(f"@page {{ bleed: {css_bleed:.3f}mm; marks: {marks}; }}")
    # Full-bleed bands reach the trim edge, and through the bleed when there is one. They sit on
    # right-hand pages (the title page, recto section openers): inner margin left, outer right.
    rules.append(
        f".bleed-band {{ margin-top: -{to_mm(top) + bleed:.3f}mm; margin-left: -{to_mm(inner) + bleed:.3f}mm; "
        f"margin-right: -{to_mm(outer) + bleed:.3f}mm; padding-top: {bleed:.3f}mm; }}"
    )
    return "\n".join(rules)
