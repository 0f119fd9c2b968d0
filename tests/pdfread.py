"""Read facts back out of a PDF: text per page, fonts, outline, page boxes."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import IndirectObject


def page_texts(path: Path) -> list[str]:
    """Return the text of each page (poppler's pdftotext when present, else pypdf)."""
    reader = PdfReader(path)
    if shutil.which("pdftotext"):
        texts = []
        for number in range(1, len(reader.pages) + 1):
            texts.append(subprocess.run(
                ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(path), "-"],
                capture_output=True, text=True, check=True,
            ).stdout)
        return texts
    return [page.extract_text() or "" for page in reader.pages]


def squash(text: str) -> str:
    """Remove all white space, so CJK text wrapped over lines compares equal."""
    return re.sub(r"\s+", "", text)


@dataclass
class FontInfo:
    name: str
    embedded: bool
    subset: bool


def fonts(path: Path) -> dict[str, FontInfo]:
    """Return every font used on any page, with whether it is embedded and subset."""
    reader = PdfReader(path)
    found: dict[str, FontInfo] = {}
    for page in reader.pages:
        resources = page.get("/Resources")
        if resources is None:
            continue
        resources = resources.get_object()
        font_dict = resources.get("/Font")
        if font_dict is None:
            continue
        for ref in font_dict.get_object().values():
            font = ref.get_object()
            name = str(font.get("/BaseFont"))
            descriptor_owner = font
            if font.get("/Subtype") == "/Type0":
                descriptor_owner = font["/DescendantFonts"][0].get_object()
            descriptor = descriptor_owner.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[name] = FontInfo(name, embedded, bool(re.match(r"^/?[A-Z]{6}\+", name)))
    return found


@dataclass
class Bookmark:
    title: str
    page: int
    children: list["Bookmark"]


def outline(path: Path) -> list[Bookmark]:
    """Return the PDF outline as a tree with 1-based page numbers."""
    reader = PdfReader(path)

    def walk(items) -> list[Bookmark]:
        result: list[Bookmark] = []
        for item in items:
            if isinstance(item, list):
                if result:
                    result[-1].children.extend(walk(item))
                continue
            result.append(Bookmark(str(item.title), reader.get_destination_page_number(item) + 1, []))
        return result

    return walk(reader.outline)


def page_boxes(path: Path) -> list[dict[str, tuple[float, ...]]]:
    reader = PdfReader(path)
    boxes = []
    for page in reader.pages:
        entry = {}
        for key in ("/MediaBox", "/TrimBox", "/BleedBox"):
            if key in page:
                value = page[key]
                if isinstance(value, IndirectObject):
                    value = value.get_object()
                entry[key] = tuple(round(float(v), 2) for v in value)
        boxes.append(entry)
    return boxes


def body_text(texts: list[str], masthead: str) -> str:
    """Join page texts without running heads (lines opening with the masthead) and folios."""
    kept = []
    for text in texts:
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith(masthead + " ·") or re.fullmatch(r"\d+", stripped):
                continue
            kept.append(line)
    return "\n".join(kept)


@dataclass
class Line:
    x_min: float
    x_max: float
    y_min: float
    text: str


def text_lines(path: Path, page: int) -> list[Line]:
    """Return the text lines of a 1-based page with their boxes (poppler's -bbox-layout)."""
    from lxml import etree

    xml = subprocess.run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    return [
        Line(float(line.get("xMin")), float(line.get("xMax")), float(line.get("yMin")),
             "".join(word.text or "" for word in line.iter("{*}word")))
        for line in root.iter("{*}line")
    ]
