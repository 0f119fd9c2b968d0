"""One font program per face in a PDF joined from separately laid-out parts.

Each part embeds its own subset of every face it uses; for CJK faces that is ~150 KB per
part.  WeasyPrint subsets with HarfBuzz keeping glyph ids (``RETAIN_GIDS``), so the parts'
CID fonts of one face differ only in which glyphs their programs carry: one subset of the
original face holding the union of the glyphs serves them all.  Here that subset is made
(with HarfBuzz, the same flags WeasyPrint uses) and every part's font descriptor is pointed
at it.  A face whose file cannot be found again exactly (same family, index and size) keeps
its per-part programs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from functools import lru_cache
from pathlib import Path

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


def _glyphs(cid_font) -> set[int]:
    """The glyph ids a CID font's width array names (WeasyPrint writes ``c [w …]`` runs)."""
    widths = cid_font.get("/W")
    glyphs: set[int] = set()
    if widths is None:
        return glyphs
    items = list(widths)
    i = 0
    while i < len(items):
        first = int(items[i])
        following = items[i + 1]
        if hasattr(following, "__len__") and not isinstance(following, (int, float)):
            glyphs.update(range(first, first + len(following)))
            i += 2
        else:
            glyphs.update(range(first, int(following) + 1))
            i += 3
    return glyphs


def share_font_programs(pdf, faces: dict[str, tuple[str, int, int]], cache_folder: Path | None) -> int:
    """Give every face of ``pdf`` one font program; return how many bytes that saved.

    ``faces`` maps a font name (``ABCDEF+Family-Name``) to its (family, face index, file size).
    """
    import pikepdf
    from pikepdf import Name

    groups: dict[str, list] = {}  # font name -> [(CID font, descriptor)]
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary) or obj.get("/Type") != "/Font":
            continue
        if obj.get("/Subtype") not in ("/CIDFontType0", "/CIDFontType2") or "/FontDescriptor" not in obj:
            continue
        groups.setdefault(str(obj.BaseFont)[1:], []).append((obj, obj.FontDescriptor))
    saved = 0
    for name, members in groups.items():
        programs = {}
        for _, descriptor in members:
            for key in ("/FontFile3", "/FontFile2"):
                if key in descriptor:
                    programs[descriptor.get(key).objgen] = (key, descriptor.get(key))
        if len(programs) < 2 or name not in faces:
            continue
        family, index, size = faces[name]
        path = find_face(family, index, size)
        if path is None:
            continue
        glyphs = set().union(*(_glyphs(font) for font, _ in members)) | {0}
        key_name, model = next(iter(programs.values()))
        digest = hashlib.sha256(f"{path}\0{index}\0{os.stat(path).st_mtime_ns}\0{sorted(glyphs)}".encode())
        cached = cache_folder / f"font-{digest.hexdigest()}.bin" if cache_folder else None
        data = None
        if cached is not None and cached.is_file():
            data = cached.read_bytes()
        if data is None:
            data = subset(path, index, glyphs)
            if data is None:
                continue
            if cached is not None:
                from ..output import atomic_path

                cached.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(cached) as temporary:
                    temporary.write_bytes(data)
        before = sum(len(stream.read_raw_bytes()) for _, stream in programs.values())
        shared = pikepdf.Stream(pdf, data)
        if key_name == "/FontFile3":
            shared.Subtype = Name.OpenType
        else:
            shared.Length1 = len(data)
        shared = pdf.make_indirect(shared)  # compressed when the PDF is saved
        for _, descriptor in members:
            descriptor[key_name] = shared
        saved += before - len(data)
    return saved
