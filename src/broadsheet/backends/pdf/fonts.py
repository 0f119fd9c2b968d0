"""One font program per face in a PDF joined from separately laid-out parts.

Laid out apart, each part would embed its own subset of every face it uses (~150 KB per
part for a CJK face).  Instead, a layout process leaves the program of each face it can
find again on disk (same family, face index and file size in fontconfig's list) to the
parent: it writes a four-byte stub and records the glyph ids it uses.  The parent subsets
the face once to the union of the parts' glyphs, with HarfBuzz and the flags WeasyPrint
uses (glyph ids kept, so every part's CID font stays right), and points every part's font
descriptor at that one program.  Faces that cannot be found again (variable, colour or
bitmap faces, fonts with missing glyphs) keep WeasyPrint's own per-part subsets.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from functools import lru_cache

log = logging.getLogger("broadsheet")

_CDEF = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t;
typedef struct hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_codepoint_t;
typedef uint32_t hb_tag_t;
hb_blob_t *hb_blob_create_from_file_or_fail (const char *file_name);
void hb_blob_destroy (hb_blob_t *blob);
const char *hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
hb_face_t *hb_face_create (hb_blob_t *blob, unsigned int index);
void hb_face_destroy (hb_face_t *face);
hb_blob_t *hb_face_reference_blob (hb_face_t *face);
hb_tag_t hb_tag_from_string (const char *str, int len);
void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
hb_subset_input_t *hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t *hb_subset_input_glyph_set (hb_subset_input_t *input);
hb_set_t *hb_subset_input_set (hb_subset_input_t *input, unsigned int set_type);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned int value);
hb_face_t *hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""
# hb-subset.h
RETAIN_GIDS, NO_HINTING, DESUBROUTINIZE, PASSTHROUGH_UNRECOGNIZED = 0x2, 0x1, 0x4, 0x40
SETS_DROP_TABLE_TAG = 3
DROP_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF", b"LTSH", b"PCLT", b"SVG ")


@lru_cache(maxsize=1)
def _harfbuzz():
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    try:
        return ffi, ffi.dlopen("libharfbuzz-subset.so.0")
    except OSError:
        import ctypes.util

        return ffi, ffi.dlopen(ctypes.util.find_library("harfbuzz-subset") or "harfbuzz-subset")


def subset(path: str, index: int, glyphs: set[int]) -> bytes | None:
    """Subset face ``index`` of ``path`` to ``glyphs`` as WeasyPrint does (ids kept, no hinting)."""
    ffi, hb = _harfbuzz()
    blob = hb.hb_blob_create_from_file_or_fail(os.fsencode(path))
    if blob == ffi.NULL:
        return None
    face = hb.hb_face_create(blob, index)
    faces = [face]
    try:
        first = _subset_pass(ffi, hb, face, sorted(glyphs), RETAIN_GIDS | PASSTHROUGH_UNRECOGNIZED | DESUBROUTINIZE,
                             drop=True)
        if first == ffi.NULL:
            return None
        faces.append(first)
        # Then drop the empty glyphs after the last one used.
        second = _subset_pass(ffi, hb, first, range(max(glyphs) + 1),
                              PASSTHROUGH_UNRECOGNIZED | DESUBROUTINIZE | NO_HINTING, drop=False)
        if second == ffi.NULL:
            return None
        faces.append(second)
        data = hb.hb_face_reference_blob(second)
        length = ffi.new("unsigned int *")
        pointer = hb.hb_blob_get_data(data, length)
        result = bytes(ffi.buffer(pointer, length[0])) if length[0] else None
        hb.hb_blob_destroy(data)
        return result
    finally:
        for each in reversed(faces):
            hb.hb_face_destroy(each)
        hb.hb_blob_destroy(blob)


def _subset_pass(ffi, hb, face, glyphs, flags: int, drop: bool):
    plan = hb.hb_subset_input_create_or_fail()
    if plan == ffi.NULL:
        return ffi.NULL
    try:
        keep = hb.hb_subset_input_glyph_set(plan)
        for glyph in glyphs:
            hb.hb_set_add(keep, glyph)
        hb.hb_subset_input_set_flags(plan, flags)
        if drop:
            tables = hb.hb_subset_input_set(plan, SETS_DROP_TABLE_TAG)
            for tag in DROP_TABLES:
                hb.hb_set_add(tables, hb.hb_tag_from_string(tag, -1))
        return hb.hb_subset_or_fail(face, plan)
    finally:
        hb.hb_subset_input_destroy(plan)


@lru_cache(maxsize=1)
def _installed() -> list[tuple[str, int, str]]:
    """(file, index, families) of every installed face, from fontconfig."""
    from ...fontconfig import listed

    answer = listed("%{file}\t%{index}\t%{family}\n")
    if answer is not None:
        out = os.fsdecode(answer)
    else:
        try:
            out = subprocess.run(["fc-list", "--format", "%{file}\t%{index}\t%{family}\n"], capture_output=True,
                                 text=True, timeout=60, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            return []
    faces = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[1].isdigit():
            faces.append((parts[0], int(parts[1]), parts[2]))
    return faces


def installed_faces() -> list[tuple[str, int, str]]:
    return _installed()


def find_face(family: str, index: int, size: int) -> str | None:
    """Return the file of the installed face with this family, index and file size."""
    for path, face_index, families in _installed():
        if face_index == index and family in families.split(","):
            try:
                if os.path.getsize(path) == size:
                    return path
            except OSError:
                continue
    return None


class FontUnavailable(RuntimeError):
    """A deferred face could not be embedded: the parts must be laid out again, whole."""


STUB = {"otf": b"OTTO", "ttf": b"\x00\x01\x00\x00"}


#: The record of the part being written (``defer_font_programs``); None outside a layout process.
_deferred: dict[str, dict] | None = None


class _Unread:
    """A face's program not copied out of HarfBuzz (yet): only its length is known.  WeasyPrint copies
    every face a part draws with into a bytes object when it meets the face (20–27 MB for each CJK
    collection here, 9 ms a copy, held until the part's PDF is written); a deferred face needs only its
    length, to be found again on disk."""

    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length


def _face_length(hb_face) -> int:
    from weasyprint.text.ffi import harfbuzz

    blob = harfbuzz.hb_face_reference_blob(hb_face)
    try:
        return harfbuzz.hb_blob_get_length(blob)
    finally:
        harfbuzz.hb_blob_destroy(blob)


def defer_font_programs() -> dict[str, dict]:
    """In a layout process: leave the font program of every face that can be found again to
    the parent (a four-byte stub), and record the face and the glyphs this part uses.

    Returns the record, filled in when WeasyPrint writes the part's PDF: font name
    (``ABCDEF+Family-Name``) → family, face index, file size, glyph ids.  WeasyPrint is patched
    once; each call starts a new record (a layout process may lay out several parts in turn).
    A face's program is copied out of HarfBuzz only for a face that keeps it (variable, colour or
    bitmap faces, faces with missing glyphs, faces not found on disk), when WeasyPrint needs it.
    """
    global _deferred
    import weasyprint.pdf as weasyprint_pdf
    from weasyprint.pdf import fonts as pdf_fonts

    if _deferred is None:
        Font = pdf_fonts.Font
        read = pdf_fonts.get_hb_object_data
        original_init, original_clean = Font.__init__, Font.clean
        meeting: list[bool] = []

        def get_hb_object_data(hb_object, ot_color=None, glyph=None):
            if meeting and ot_color is None:  # the face's whole program, asked for by Font.__init__
                return _Unread(_face_length(hb_object))
            return read(hb_object, ot_color, glyph)

        def init(font, *args, **kwargs):
            meeting.append(True)
            try:
                original_init(font, *args, **kwargs)
            finally:
                meeting.pop()
            if font.bitmap:  # drawn without ``clean``, from its whole program
                font.file_content = read(font.hb_face)

        def clean(font, to_unicode, hinting):
            plain = "fvar" not in font.tables and not (font.png or font.svg or font.colr or font.bitmap)
            if plain and not font.missing and to_unicode and not hinting:
                size = len(font.file_content)
                if find_face(font.family, font.index, size) is not None:
                    _deferred[font.name.decode()[1:]] = {"family": font.family, "index": font.index, "size": size,
                                                         "glyphs": sorted(to_unicode)}
                    # the type WeasyPrint's subset would have (a collection's file starts "ttcf")
                    font.file_content = STUB["otf" if "CFF " in font.tables else "ttf"]
                    return None
            if isinstance(font.file_content, _Unread):
                font.file_content = read(font.hb_face)
            return original_clean(font, to_unicode, hinting)

        def build_fonts_dictionary(pdf, fonts, compress, subset, options):
            # WeasyPrint cleans (``clean``) the first font of each face and reads the others' programs
            # as they are, and the whole program of a font used in a form: those are read here.
            first: set[str] = set()
            for font in fonts.values():
                if isinstance(font.file_content, _Unread) and (font.hash in first or font.used_in_forms):
                    font.file_content = read(font.hb_face)
                first.add(font.hash)
            return original_build(pdf, fonts, compress, subset, options)

        original_build = weasyprint_pdf.build_fonts_dictionary
        weasyprint_pdf.build_fonts_dictionary = build_fonts_dictionary
        pdf_fonts.get_hb_object_data = get_hb_object_data
        Font.__init__, Font.clean = init, clean
    _deferred = {}
    return _deferred


def _descriptors(pages):
    """Every CID font descriptor the fonts of ``pages`` (and their forms) use, by font name."""
    import pikepdf

    found: dict[str, dict] = {}
    seen: set = set()
    stack = [page.obj.get("/Resources") for page in pages]
    while stack:
        resources = stack.pop()
        if not isinstance(resources, pikepdf.Dictionary) or resources.objgen in seen and resources.objgen != (0, 0):
            continue
        seen.add(resources.objgen)
        for font in (resources.get("/Font") or {}).values():
            for cid_font in font.get("/DescendantFonts", []):
                descriptor = cid_font.get("/FontDescriptor")
                if descriptor is not None:
                    found.setdefault(str(cid_font.BaseFont)[1:], {})[descriptor.objgen] = descriptor
        for xobject in (resources.get("/XObject") or {}).values():
            if "/Resources" in xobject:
                stack.append(xobject.Resources)
    return found


def share_font_programs(pdf, parts: list[tuple[list, dict[str, dict]]], cache=None) -> None:
    """Embed one program per deferred face, subset to the glyphs of every part that uses it.

    ``parts`` pairs each part's pages (in ``pdf``) with the faces its layout deferred.  A
    face that cannot be embedded is an error: its parts carry only a stub.
    """
    import pikepdf
    from pikepdf import Name

    groups: dict[str, tuple[dict, set[int], dict]] = {}
    for pages, faces in parts:
        if not faces:
            continue
        for name, descriptors in _descriptors(pages).items():
            if name not in faces:
                continue
            record, glyphs, members = groups.setdefault(name, (faces[name], set(), {}))
            glyphs.update(faces[name]["glyphs"])
            members.update(descriptors)
    for name, (record, glyphs, members) in groups.items():
        path = find_face(record["family"], record["index"], record["size"])
        if path is None:
            raise FontUnavailable(f"font {record['family']} changed during the build")
        glyphs.add(0)
        digest = hashlib.sha256(f"{path}\0{record['index']}\0{os.stat(path).st_mtime_ns}\0{sorted(glyphs)}".encode())
        name = f"font-{digest.hexdigest()}.bin"
        data = cache.read(name) if cache is not None else None
        if data is not None and data[:4] not in STUB.values():
            data = None
        if data is None:
            data = subset(path, record["index"], glyphs)
            if data is None:
                raise FontUnavailable(f"HarfBuzz could not subset {record['family']} ({path})")
            if cache is not None:
                cache.stage(name, data)
        program = pikepdf.Stream(pdf, data)  # compressed when the PDF is saved
        otf = data[:4] == STUB["otf"]
        if otf:
            program.Subtype = Name.OpenType
        else:
            program.Length1 = len(data)
        program = pdf.make_indirect(program)
        for descriptor in members.values():
            for key in ("/FontFile2", "/FontFile3"):
                if key in descriptor:
                    del descriptor[key]
            descriptor[Name.FontFile3 if otf else Name.FontFile2] = program
