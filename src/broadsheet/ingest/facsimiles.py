"""Page facsimiles (版面图) named in issue.toml, for editions of any kind of source.

A section entry names its page picture, relative to the issue folder::

    sections = [{ name = "理论", page = "15", facsimile = "pages/15.jpg" }]

and a TOML file beside the picture, of the same name (``pages/15.toml``), gives its regions in the
picture's pixels, each linking an article by its id (``id`` in front matter, else from the file's name)::

    [[region]]
    article = "night-ferry"
    shape = "polygon"            # polygon (the default), rect or circle
    coords = [348, 2, 178, 2, 178, 140, 348, 140]

The picture is read like every picture (``images.py``: only from inside the source folder); without a
regions file the page view shows the picture with the section's article list.
"""

from __future__ import annotations

from pathlib import Path

from ..config import ISSUE_NAME, FacsimileRegions, SectionEntry, validate
from ..limits import read_toml
from .base import DraftFacsimile, DraftRegion
from .images import ImageResolver


def declared_facsimile(entry: SectionEntry, folder: Path, root: Path) -> DraftFacsimile | None:
    """The facsimile ``entry`` of ``folder``'s issue.toml names, or None (with a warning) when its picture
    cannot be used; a regions file that is not as described is an error naming it."""
    if not entry.facsimile:
        return None
    picture = ImageResolver(folder / ISSUE_NAME, root, base=folder)(entry.facsimile, "", None)
    if picture is None:
        return None
    sidecar = picture.path.with_suffix(".toml")
    if not sidecar.exists():
        return DraftFacsimile(picture=picture, source=folder / ISSUE_NAME)
    regions = validate(FacsimileRegions, read_toml(sidecar, root), sidecar)
    return DraftFacsimile(picture=picture, source=sidecar,
                          regions=[DraftRegion(r.shape, r.coords, r.article) for r in regions.region])
