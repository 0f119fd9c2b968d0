"""Edition manifests: what ``build`` and ``digest`` wrote, described beside the outputs for ``publish``.

Each edition written into an output folder gets one small JSON file,
``<out>/.broadsheet/editions/<stem>.json`` (``stem``: the output name without its suffix, such as
``zzrb-2012-07-06``).  Its bytes depend on the edition alone (sorted keys, no timestamps), and it is written
atomically after the edition's outputs.  ``publish`` reads it back through the file door (:func:`read`), as
data it does not trust: bounded in size and checked field by field.

The manifest (``"manifest": "broadsheet-edition/1"``)::

    {"manifest": "broadsheet-edition/1", "kind": "issue" | "digest", "stem": "zzrb-2012-07-06",
     "identifier": "urn:uuid:…", "title": "郑州日报 2012-07-06", "issued": "2012-07-06" | null,
     "number": "1482" | null, "edition": null | "2012-07-06 – 2026-11-20", "description": "…",
     "publication": {"id": "zzrb", "title": "郑州日报", "publisher": "郑州日报社" | null, "language": "zh-CN"},
     "sections": [{"name": "理论", "page": "15" | null, "articles": 1}],
     "files": [{"format": "epub", "name": "zzrb-2012-07-06.epub", "type": "application/epub+zip"},
               {"format": "pdf", "name": "zzrb-2012-07-06.pdf", "type": "application/pdf"},
               {"format": "booklet", "name": "zzrb-2012-07-06-booklet.pdf", "type": "application/pdf"}],
     "cover": {"file": "zzrb-2012-07-06.epub", "member": "EPUB/images/cover.jpg", "type": "image/jpeg"} | null}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import IngestError

if TYPE_CHECKING:
    from .rendered import RenderedIssue

#: Where manifests live, relative to the output folder.
FOLDER = Path(".broadsheet") / "editions"
FORMAT = "broadsheet-edition/1"
#: The largest manifest read back (a manifest of thousands of sections stays far below).
MAX_BYTES = 1024 * 1024
MEDIA_TYPES = {".epub": "application/epub+zip", ".pdf": "application/pdf"}

_Text = Field(max_length=2000)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class PublicationRecord(_Strict):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=2000)
    publisher: str | None = _Text
    language: str = Field(min_length=1, max_length=64)


class SectionRecord(_Strict):
    name: str = _Text
    page: str | None = _Text
    articles: int = Field(ge=0, le=1_000_000)


class FileRecord(_Strict):
    format: Literal["epub", "pdf", "booklet", "html"]
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(max_length=100)


class CoverRecord(_Strict):
    file: str = Field(min_length=1, max_length=255)
    member: str = Field(min_length=1, max_length=1000)
    type: str = Field(max_length=100)


class Manifest(_Strict):
    manifest: Literal["broadsheet-edition/1"]
    kind: Literal["issue", "digest"]
    stem: str = Field(min_length=1, max_length=255)
    identifier: str = _Text
    title: str = Field(min_length=1, max_length=2000)
    issued: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    number: str | None = _Text
    edition: str | None = _Text
    description: str = Field(default="", max_length=20000)
    publication: PublicationRecord
    sections: list[SectionRecord] = Field(default=[], max_length=10_000)  # copied per value by pydantic
    files: list[FileRecord] = Field(default=[], max_length=16)
    cover: CoverRecord | None = None


def record(rendered: RenderedIssue, written: list[Path], stem: str, *, kind: str = "issue") -> dict[str, Any]:
    """The manifest of one edition: its metadata (from what was rendered) and the files written of it."""
    meta = rendered.metadata
    publication = rendered.publication
    files = []
    for path in written:
        if path.is_dir() or path.suffix == ".html":
            files.append({"format": "html", "name": path.name, "type": "text/html"})
        elif path.suffix == ".pdf":
            fmt = "booklet" if path.stem.endswith("-booklet") else "pdf"
            files.append({"format": fmt, "name": path.name, "type": MEDIA_TYPES[".pdf"]})
        elif path.suffix in MEDIA_TYPES:
            files.append({"format": path.suffix[1:], "name": path.name, "type": MEDIA_TYPES[path.suffix]})
    cover = None
    epub = next((f["name"] for f in files if f["format"] == "epub"), None)
    if epub is not None and rendered.cover is not None:
        cover = {"file": epub, "member": f"EPUB/{rendered.cover.name}", "type": rendered.cover.media_type}
    issue = rendered.issue
    return {
        "manifest": FORMAT,
        "kind": kind,
        "stem": stem,
        "identifier": meta.identifier,
        "title": meta.title,
        "issued": issue.date.isoformat() if issue.date else None,
        "number": issue.number,
        "edition": issue.edition,
        "description": meta.description,
        "publication": {"id": publication.id, "title": publication.title, "publisher": publication.publisher,
                        "language": publication.language},
        "sections": [{"name": s.name, "page": s.page, "articles": len(s.articles)} for s in issue.sections],
        "files": files,
        "cover": cover,
    }


def dumps(data: dict[str, Any]) -> bytes:
    """The manifest's bytes: sorted keys, two-space indents, UTF-8, a final newline."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write(out: Path, stem: str, data: dict[str, Any]) -> Path:
    """Write ``data`` as ``<out>/.broadsheet/editions/<stem>.json``, atomically, unless it already holds
    those bytes; return its path."""
    from .output import atomic_path

    target = Path(out) / FOLDER / f"{stem}.json"
    content = dumps(data)
    try:
        if not target.is_symlink() and target.is_file() and target.read_bytes() == content:
            return target
    except OSError:
        pass
    with atomic_path(target) as temporary:
        temporary.write_bytes(content)
    return target


def read(path: Path, root: Path) -> Manifest:
    """Read one manifest through the file door (inside ``root``, bounded); raise :class:`IngestError`
    naming it when it is not a manifest this version understands."""
    from .files import read_inside

    data = read_inside(path, root, MAX_BYTES, "manifest")
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise IngestError(f"not a manifest: {str(exc)[:200]}", path) from None
    try:
        return Manifest.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "manifest"
        raise IngestError(f"not a manifest this version reads: {where}: {first.get('msg', 'invalid')}"[:300],
                          path) from None


def folder(out: Path) -> Path:
    return Path(out) / FOLDER


def listing(out: Path) -> list[Path]:
    """The manifests in ``out`` (sorted by name), links and non-files left out."""
    base = folder(out)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    return [base / n for n in names if n.endswith(".json") and not n.startswith(".")]
