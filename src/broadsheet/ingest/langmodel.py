"""py3langid's model, kept decompressed in the user's cache.

py3langid ships its model as an LZMA-compressed ``.npz`` of 4.6 MB; reading it means decompressing 68 MB
and copying the arrays out of the archive, about 0.45 s, in every process that guesses a language.  The
arrays py3langid reads are kept, once, in the user's cache (``usercache``: ``$XDG_CACHE_HOME/broadsheet/langid``),
under the SHA-256 of the model file and py3langid's version, as one file: a header naming each array's type and
shape, then the arrays' bytes, all under their own SHA-256.  Reading it back is one read, one digest and
a few bounds checks (under 0.1 s); the arrays are views of the bytes read, not copies.

A cache file that does not check out in any way (its digest, its header, an index that would lead out of
its arrays) is ignored and the model read from py3langid's own file, as is a cache that cannot be read or
written: the identifier given back is the same either way.
"""

from __future__ import annotations

import hashlib
import json
import struct
from array import array
from pathlib import Path

_MAGIC = b"broadsheet-langid-model-cache-1\n"  # 32 bytes: the arrays lie on 8-byte bounds
#: The arrays, in the order py3langid's ``load_model`` gives them, with the types they may have.
_ARRAYS = {"ptc": {"<f2", "<f4"}, "pc": {"<f4"}, "classes": {"<U2", "<U3", "<U4"},
           "nextmove": {"<u2", "<u4"}, "row": {"<u2", "<u4"}, "output": {"<i4"}}
_TYPECODES = {"<u2": "H", "<u4": "I", "<i4": "i"}


def load_identifier():
    """Return py3langid's ``LanguageIdentifier`` (probabilities normalised), its model read from the cache
    when a copy there checks out, else from py3langid's file (and then kept in the cache)."""
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    model_path = Path(MODEL_DIR) / MODEL_FILE
    key = _key(model_path, getattr(py3langid, "__version__", ""))
    model = _read_cached(key) if key else None
    if model is None:
        from py3langid.modelio import load_model

        ptc, pc, classes, nextmove, row, output = load_model(model_path)
        if key:
            _write_cached(key, ptc, pc, classes, nextmove, row, output)
        model = ptc, pc, classes, nextmove, row, output
    ptc, pc, classes, nextmove, row, output = model
    return LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)


def _key(model_path: Path, version: str) -> str | None:
    try:
        digest = hashlib.sha256(model_path.read_bytes())
    except OSError:
        return None
    digest.update(b"\0py3langid " + version.encode("ascii", "replace"))
    return digest.hexdigest()


def _cache_file(key: str) -> str:
    return f"model-{key}.bin"


def _read_cached(key: str):
    """The model cached for ``key`` as (ptc, pc, classes, nextmove, row, output), or None."""
    import numpy as np

    from ..usercache import read

    body = read("langid", _cache_file(key), _MAGIC)
    if body is None or len(body) < 4:
        return None
    try:
        (size,) = struct.unpack_from("<I", body)
        header = json.loads(bytes(body[4:4 + size]))
        arrays = {}
        for name, dtype, shape, offset in header:
            if name not in _ARRAYS or dtype not in _ARRAYS[name] or name in arrays:
                return None
            count = 1
            for extent in shape:
                count *= int(extent)
            width = np.dtype(dtype).itemsize
            if offset < 4 + size or offset % 8 or offset + count * width > len(body):
                return None
            arrays[name] = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
    except (ValueError, TypeError, struct.error):
        return None
    if set(arrays) != set(_ARRAYS):
        return None
    ptc, pc, classes = arrays["ptc"], arrays["pc"], arrays["classes"]
    nextmove, row, output = arrays["nextmove"], arrays["row"], arrays["output"]
    states = len(row)
    # An index that leads out of its array would fail a classification: such a file is not used.
    if (ptc.ndim != 2 or pc.ndim != 1 or classes.ndim != 1 or ptc.shape[1] != len(pc) or len(pc) != len(classes)
            or nextmove.ndim != 1 or row.ndim != 1 or output.ndim != 1 or not states or len(output) != states
            or len(nextmove) % 256 or int(row.max()) >= len(nextmove) // 256 or int(nextmove.max()) >= states
            or int(output.max()) >= len(ptc) or int(output.min()) < -1):
        return None
    return (ptc, pc, classes.tolist(), _view(nextmove), _view(row), _view(output))


def _view(values):
    """A flat array of integers as a memoryview, which py3langid indexes as it does its own arrays."""
    return memoryview(values).cast("B").cast(_TYPECODES[values.dtype.str])


def _write_cached(key: str, ptc, pc, classes, nextmove, row, output) -> None:
    """Keep the model for ``key`` in the cache, atomically; a cache that cannot be written is no fault."""
    import numpy as np

    try:
        arrays = [("ptc", np.ascontiguousarray(ptc)), ("pc", np.ascontiguousarray(pc)),
                  ("classes", np.array(classes)), ("nextmove", _numpy(nextmove)), ("row", _numpy(row)),
                  ("output", np.asarray(output, dtype="<i4"))]
        if any(values.dtype.str not in _ARRAYS[name] for name, values in arrays):
            return  # a model of another make: read from py3langid's file each time
        header_size = 4092  # the arrays begin at 4,096
        header, offset = [], 4 + header_size
        for name, values in arrays:
            header.append([name, values.dtype.str, list(values.shape), offset])
            offset += -(-values.nbytes // 8) * 8
        text = json.dumps(header).encode("ascii")
        if len(text) > header_size:
            return
        parts = [struct.pack("<I", header_size), text.ljust(header_size)]
        for _, values in arrays:
            parts.append(values.tobytes())
            parts.append(b"\0" * (-values.nbytes % 8))
        body = b"".join(parts)
    except (OverflowError, ValueError, KeyError):
        return
    from ..usercache import write

    write("langid", _cache_file(key), _MAGIC, body, others="model-*.bin")


def _numpy(values):
    import numpy as np

    if isinstance(values, array):
        return np.frombuffer(values, dtype={"H": "<u2", "I": "<u4", "i": "<i4", "L": "<u8"}[values.typecode])
    return np.asarray(values)
