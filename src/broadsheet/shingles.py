"""Which of many texts may be near-duplicates, without comparing every pair.

Two texts are near-duplicates when the Jaccard similarity of their sets of character 5-grams
reaches a threshold.  ``candidates(texts, threshold)`` returns, for each text, the earlier texts it
should be compared with: every pair at least ``threshold`` alike, and a few others (the caller
compares each pair named with the exact similarity), in time and memory linear in the total length.

- Each 5-gram is packed exactly (five code points, 105 bits) and hashed to 64 bits (SplitMix64's
  mixer, no seed: the same text gives the same numbers in every process), with numpy.
- Long texts (``LONG`` grams or more): a MinHash sketch of ``BINS`` values in one pass (one
  permutation hashing, densified), cut into bands; texts that share a band's values are paired, and a
  pair is kept when the sketches agree on at least (threshold - 0.25) of their values.  The rows per
  band are chosen so that a pair at the threshold is missed with a chance below 10**-12; where no
  choice does (thresholds below about 0.1), every text goes through prefix filtering instead.
- Short texts (under ``LONG``/threshold grams, where sketches are coarse), exactly: prefix filtering
  as in all-pairs similarity joins.  Grams ordered rarest first over the short texts; two sets at least
  t alike share one of each one's first |A| - ceil(t|A|) + 1 grams, so only pairs that share one of
  those are named.  A pair with a text under ``LONG`` grams has both under ``LONG``/threshold.
- Either way, sizes more than a factor t apart are never t alike (the length filter).

Prefix filtering is exact while the 64-bit hashes of two compared texts' grams do not collide (two
different grams of one pair under one hash: a chance below 10**-11 for texts of tens of thousands of
characters; the prefix has one gram more than needed, so one collision is harmless).  English 5-grams
(letters without spaces) are pieces of common words, so an English text's rarest fifth still holds grams
many others share: prefix filtering alone would compare most pairs of long English texts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SHINGLE = 5
#: Texts of this many grams or more are found by their sketches, shorter ones by prefix filtering.
LONG = 1024
#: Values in a text's sketch.
BINS = 256
_SLACK = 1e-9  # a similarity computed in floating point may reach the threshold a rounding below it


def _mix(z):
    """SplitMix64's finaliser, on a numpy uint64 array (wrapping arithmetic)."""
    import numpy as np

    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def gram_hashes(text: str, *, unique: bool = True):
    """The 64-bit hashes of ``text``'s character 5-grams (of ``text`` itself when it is 5 characters or
    fewer), sorted and each once (``unique``), as a numpy uint64 array."""
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(codes) < SHINGLE:  # the whole text is the one gram: padded with zeros, which no gram holds
        codes = np.concatenate([codes, np.zeros(SHINGLE - len(codes), dtype=np.uint64)])
    high = (codes[:-4] << np.uint64(42)) | (codes[1:-3] << np.uint64(21)) | codes[2:-2]
    low = (codes[3:-1] << np.uint64(21)) | codes[4:]
    hashes = _mix(_mix(high) ^ low)
    if unique:
        hashes.sort()
        hashes = hashes[np.concatenate(([True], hashes[1:] != hashes[:-1]))]
    return hashes


def prefix_length(size: int, threshold: float) -> int:
    """How many of a set's rarest grams another set ``threshold`` alike must share one of (and one more)."""
    return min(size, size - math.ceil((threshold - _SLACK) * size) + 2)


def candidates(texts: Sequence[str], threshold: float) -> dict[int, list[int]]:
    """For the index of each text that may be a near-duplicate of earlier ones, those earlier ones'
    indexes, in order.  Empty texts take part like any other (their one gram is the empty text)."""
    import numpy as np

    count = len(texts)
    if count < 2:
        return {}
    low = threshold - _SLACK
    rows = _rows(threshold)
    long_enough = LONG if (1 - threshold ** rows) ** (BINS // rows) <= 1e-12 else math.inf  # else all by prefix
    sizes = np.zeros(count, dtype=np.int64)
    short: list = []  # (index, gram hashes) of the texts prefix filtering compares
    long_ids: list[int] = []
    sketches, band_keys = [], []
    for number, text in enumerate(texts):
        hashes = gram_hashes(text)
        sizes[number] = len(hashes)
        if len(hashes) * low < long_enough:
            short.append((number, hashes))
        if len(hashes) >= long_enough:
            values = _one_permutation(hashes)
            long_ids.append(number)
            sketches.append(values.astype(np.uint32))
            band_keys.append(_bands(values, rows))
    found = [_prefix_pairs(short, sizes, low)] if len(short) > 1 else []
    if len(long_ids) > 1:
        found.append(_sketch_pairs(np.array(long_ids, dtype=np.int64), np.stack(sketches), np.stack(band_keys),
                                   sizes, low))
    if not found:
        return {}
    pairs = np.unique(np.concatenate(found))  # later * count + earlier, sorted: by the later text, then the earlier
    later, earlier = np.divmod(pairs, np.int64(count))
    result: dict[int, list[int]] = {}
    for one, other in zip(later.tolist(), earlier.tolist()):
        result.setdefault(one, []).append(other)
    return result


def _rows(threshold: float) -> int:
    """Rows per band: the most that still miss a pair ``threshold`` alike with a chance below 10**-12
    (one, when none does: below a threshold of about 0.1, where every pair goes through prefix filtering)."""
    best = 1
    for rows in range(1, 33):
        if (1 - threshold ** rows) ** (BINS // rows) <= 1e-12:
            best = rows
    return best


def _one_permutation(hashes):
    """A MinHash sketch of ``BINS`` values in one pass (one permutation hashing): the hashes split into
    bins by their top 8 bits, each bin's smallest (the first: they are sorted); an empty bin takes the
    next full one's, moved by its distance (densification, as Shrivastava and Li, 2014)."""
    import numpy as np

    span = np.arange(BINS)
    bins = hashes >> np.uint64(64 - 8)
    first = np.minimum(np.searchsorted(bins, span.astype(np.uint64)), len(hashes) - 1)
    values = hashes[first]
    present = bins[first] == span.astype(np.uint64)
    if not present.all():
        full = np.flatnonzero(present)
        donor = full[np.searchsorted(full, span) % len(full)]
        moved = _mix(values[donor] + ((donor - span) % BINS).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        values = np.where(present, values, moved)
    return values


def _bands(values, rows: int):
    """One 64-bit key per band of ``rows`` sketch values."""
    import numpy as np

    bands = values[: BINS // rows * rows].reshape(-1, rows)
    key = np.zeros(len(bands), dtype=np.uint64)
    for column in range(rows):
        key = _mix(key ^ bands[:, column])
    return key


def _sketch_pairs(ids, sketches, band_keys, sizes, low: float):
    """Pairs of the long texts ``ids`` that share a band's key, and whose sketches agree on enough
    values: a pair ``low`` alike agrees on a share of them that falls 0.25 below ``low`` with a chance
    far below 10**-12 (the share's deviation is at most 0.032 for 256 values)."""
    import numpy as np

    count = np.int64(len(sizes))
    found = [np.zeros(0, dtype=np.int64)]
    for band in range(band_keys.shape[1]):
        found.append(_pairs(band_keys[:, band], ids.astype(np.int32), sizes, low))
    pairs = np.unique(np.concatenate(found))
    row = np.full(len(sizes), -1, dtype=np.int64)
    row[ids] = np.arange(len(ids))
    later, earlier = np.divmod(pairs, count)
    agree = np.zeros(len(pairs), dtype=np.int64)
    for at in range(0, len(pairs), 65536):
        part = slice(at, at + 65536)
        agree[part] = (sketches[row[later[part]]] == sketches[row[earlier[part]]]).sum(axis=1)
    return pairs[agree >= (low - 0.25) * BINS]


def _prefix_pairs(short, sizes, low: float):
    """Pairs among ``short`` texts [(index, gram hashes)] that share one of their rarest grams."""
    import numpy as np

    common, frequency = np.unique(np.concatenate([hashes for _, hashes in short]), return_counts=True)
    prefixes, owners = [], []
    for number, hashes in short:
        keep = prefix_length(len(hashes), low + _SLACK)
        if keep < len(hashes):
            order = np.lexsort((hashes, frequency[np.searchsorted(common, hashes)]))
            hashes = hashes[order[:keep]]
        prefixes.append(hashes)
        owners.append(np.full(len(hashes), number, dtype=np.int32))
    del common, frequency
    return _pairs(np.concatenate(prefixes), np.concatenate(owners), sizes, low)


def _pairs(grams, owner, sizes, low: float):
    """Pairs of texts that share a gram of ``grams`` (one entry per gram and text owning it, each text's
    grams distinct), sizes within the length filter, as ``later * len(sizes) + earlier``."""
    import numpy as np

    found = [np.zeros(0, dtype=np.int64)]
    if len(grams) < 2:
        return found[0]
    order = np.argsort(grams, kind="stable")  # stable: within one gram, texts stay in order
    grams, owner = grams[order], owner[order]
    starts = np.flatnonzero(np.concatenate(([True], grams[1:] != grams[:-1])))
    lengths = np.diff(np.append(starts, len(grams)))
    run_length = np.repeat(lengths, lengths)
    offset = np.arange(len(grams)) - np.repeat(starts, lengths)
    at = np.flatnonzero(run_length > 1)
    count = np.int64(len(sizes))
    distance = 1
    while len(at):  # the pairs `distance` apart within each run of one gram
        at = at[offset[at] + distance < run_length[at]]
        if not len(at):
            break
        earlier = owner[at].astype(np.int64)
        later = owner[at + distance].astype(np.int64)
        small = np.minimum(sizes[earlier], sizes[later])
        large = np.maximum(sizes[earlier], sizes[later])
        fits = small >= low * large
        found.append(np.unique(later[fits] * count + earlier[fits]))
        distance += 1
    return np.unique(np.concatenate(found))


__all__ = ["SHINGLE", "candidates", "gram_hashes", "prefix_length"]
