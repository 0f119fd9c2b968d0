"""Paper and lengths: page sizes parsed once into :class:`PageSize`, CSS absolute lengths, byte sizes.

A leaf: imports only the standard library and other leaves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .limits import quote

PAGE_SIZES: dict[str, tuple[str, str]] = {
    "A3": ("297mm", "420mm"),
    "A4": ("210mm", "297mm"),
    "A5": ("148mm", "210mm"),
    "B5": ("176mm", "250mm"),
    "LETTER": ("8.5in", "11in"),
    "LEGAL": ("8.5in", "14in"),
    # Newspaper formats (trimmed page, portrait).
    "TABLOID": ("280mm", "430mm"),
    "BERLINER": ("315mm", "470mm"),
    "BROADSHEET": ("375mm", "597mm"),
    "SIKAI": ("270mm", "390mm"),  # 四开, e.g. 参考消息
    "DUIKAI": ("390mm", "540mm"),  # 对开, e.g. 人民日报
}
PAGE_ALIASES = {"四开": "SIKAI", "对开": "DUIKAI", "對開": "DUIKAI", "US-LETTER": "LETTER", "COMPACT": "TABLOID"}
#: (top, outer, bottom, inner) margins per preset; custom sizes take A4's, scaled down on a page smaller than A4.
PAGE_MARGINS: dict[str, tuple[str, str, str, str]] = {
    "A5": ("15mm", "14mm", "18mm", "16mm"),
    "B5": ("17mm", "15mm", "20mm", "17mm"),
    "A4": ("20mm", "17mm", "22mm", "19mm"),
    "LETTER": ("0.8in", "0.7in", "0.9in", "0.75in"),
    "LEGAL": ("0.8in", "0.7in", "0.9in", "0.75in"),
    "A3": ("22mm", "18mm", "24mm", "18mm"),
    "TABLOID": ("18mm", "14mm", "20mm", "14mm"),
    "BERLINER": ("18mm", "14mm", "20mm", "14mm"),
    "BROADSHEET": ("20mm", "15mm", "22mm", "15mm"),
    "SIKAI": ("16mm", "13mm", "18mm", "13mm"),
    "DUIKAI": ("20mm", "15mm", "22mm", "15mm"),
}
#: The least a page must leave for text inside its margins (mm): a line of a dozen characters, a few lines down.
MIN_TEXT_WIDTH_MM = 40.0
MIN_TEXT_HEIGHT_MM = 50.0
_LENGTH = r"\d+(?:\.\d+)?(?:mm|cm|in|pt|px)"
LENGTH_RE = re.compile(rf"^{_LENGTH}$")
_CUSTOM_SIZE = re.compile(rf"^({_LENGTH})\s*[xX×]\s*({_LENGTH})$")
_MM_PER = {"mm": 1, "cm": 10, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}


def to_mm(length: str) -> float:
    """Convert a CSS absolute length to millimetres."""
    match = re.match(r"^(\d+(?:\.\d+)?)(mm|cm|in|pt|px)$", length.strip())
    if not match:
        raise ValueError(f"expected a CSS length such as \"3mm\", got {quote(length)}")
    return float(match.group(1)) * _MM_PER[match.group(2)]


@dataclass(frozen=True)
class PageSize:
    """A page size as the user named it (``spec``: a preset such as ``A4``, ``tabloid``, ``对开``, or
    ``WIDTHxHEIGHT``) with its CSS width and height and its (top, outer, bottom, inner) margins."""

    spec: str
    width: str
    height: str
    margins: tuple[str, str, str, str]

    @classmethod
    def parse(cls, spec: str) -> PageSize:
        """Parse a preset's name or ``WIDTHxHEIGHT`` (raise ValueError saying what is expected)."""
        text = spec.strip()
        key = PAGE_ALIASES.get(text, PAGE_ALIASES.get(text.upper(), text.upper()))
        if key in PAGE_SIZES:
            return cls(spec, *PAGE_SIZES[key], PAGE_MARGINS.get(key, PAGE_MARGINS["A4"]))
        match = _CUSTOM_SIZE.match(text)
        if not match:
            names = ", ".join(n.title() if len(n) > 2 else n for n in PAGE_SIZES)
            raise ValueError(f"expected one of {names} or WIDTHxHEIGHT such as 210mmx297mm, got {quote(spec)}")
        width, height = match.group(1), match.group(2)
        page = cls(spec, width, height, _margins_for(to_mm(width), to_mm(height)))
        page._check_room()
        return page

    def _check_room(self) -> None:
        """Raise ValueError if the page cannot hold text inside its margins."""
        width, height = to_mm(self.width), to_mm(self.height)
        if width <= 0 or height <= 0:
            raise ValueError(f"a page needs a width and a height above zero, got {quote(self.spec)}")
        top, outer, bottom, inner = (to_mm(m) for m in self.margins)
        text_width, text_height = width - outer - inner, height - top - bottom
        if text_width < MIN_TEXT_WIDTH_MM or text_height < MIN_TEXT_HEIGHT_MM:
            raise ValueError(
                f"a page of {width:g}×{height:g} mm is too small: inside its margins it leaves "
                f"{max(text_width, 0):.0f}×{max(text_height, 0):.0f} mm for text, and text needs at least "
                f"{MIN_TEXT_WIDTH_MM:.0f}×{MIN_TEXT_HEIGHT_MM:.0f} mm, got {quote(self.spec)}")

    @property
    def width_mm(self) -> float:
        return to_mm(self.width)

    def __str__(self) -> str:
        return self.spec


def _margins_for(width_mm: float, height_mm: float) -> tuple[str, str, str, str]:
    """A custom page's margins: A4's, scaled down with a page smaller than A4 (never up)."""
    a4_width, a4_height = (to_mm(length) for length in PAGE_SIZES["A4"])
    scale = min(1.0, width_mm / a4_width, height_mm / a4_height)
    if scale >= 1.0:
        return PAGE_MARGINS["A4"]
    return tuple(f"{max(to_mm(m) * scale, 0):.1f}mm" for m in PAGE_MARGINS["A4"])  # type: ignore[return-value]


#: The page size when neither the command line, the source's configuration nor the theme names one.
DEFAULT_PAGE = PageSize.parse("A4")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|K|M|G|B)?\s*$", re.I)


def parse_size(value: str) -> int:
    """Return a byte count from ``25MB``, ``800KB``, ``1.5GB`` or plain bytes."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"expected a size such as 25MB, got {quote(value)}")
    unit = (match.group(2) or "B").upper().rstrip("B") or "B"
    return int(float(match.group(1)) * {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit])
