"""The EPUB zip re-packed deterministically: ``mimetype`` first and stored, fixed timestamps and
attributes, pictures stored rather than deflated."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO

from ...errors import BackendError

_STORED_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


def repack(data: BinaryIO, target: Path, date_time: tuple[int, ...]) -> None:
    """Rewrite an EPUB zip (an open file) with fixed entry metadata, ``mimetype`` first and stored."""
    with zipfile.ZipFile(data) as source:
        names = source.namelist()
        if "mimetype" not in names:
            raise BackendError("EPUB has no mimetype entry", target)
        ordered = ["mimetype"] + [n for n in names if n != "mimetype"]
        with zipfile.ZipFile(target, "w") as out:
            for name in ordered:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.create_system = 3
                info.external_attr = 0o100644 << 16
                stored = name == "mimetype" or name.lower().endswith(_STORED_TYPES)
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                out.writestr(info, source.read(name), compresslevel=None if stored else 9)
