"""The structure of a JPEG file, read without decoding it: how many scans it has.

A progressive JPEG is decoded scan by scan, each pass over the whole picture: a few kilobytes
of repeated scans make minutes of decoding.  :func:`count_scans` walks the markers once
(linear in the file) so that such a picture is refused before any decoder sees it.
"""

from __future__ import annotations

import re

#: A marker inside entropy-coded data: 0xFF followed by neither stuffing (0x00), a restart
#: marker (0xD0-0xD7) nor fill (0xFF).
_MARKER_IN_SCAN = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")


def count_scans(data: bytes, stop: int | None = None) -> int:
    """The start-of-scan (SOS) segments of JPEG ``data``; counting stops past ``stop``.

    A damaged file is counted as far as it can be read (the decoder reports the damage).
    """
    if not data.startswith(b"\xff\xd8"):
        return 0
    position, scans, size = 2, 0, len(data)
    while position + 1 < size:
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # end of image
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        if position + 4 > size:
            break
        position += 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if marker == 0xDA:
            scans += 1
            if stop is not None and scans > stop:
                break
            found = _MARKER_IN_SCAN.search(data, position)
            if found is None:
                break
            position = found.start()
    return scans
