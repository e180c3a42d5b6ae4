"""MinHash signatures and LSH banding for all cards at once, in numpy.

A per-card MinHash object (datasketch) costs ~320 µs a card with 128 permutations: 30 s at 100k cards
before any comparison. Here every shingle of every card is one element of a flat uint64 array, each
permutation is a multiply-shift hash ``(a * x + b) >> 32`` (universal, and wrap-around uint64 arithmetic
is what numpy does natively, no modulo), and the minimum per card is one ``np.minimum.reduceat``. The
work is done in chunks of cards so each shingles x permutations temporary stays near 8 MB.

Banding is our own too (datasketch's MinHashLSH would pull in scipy, ~110 MB in the app bundle): a card's
band keys are an (n, bands) uint64 array, so candidates of a new card are one vectorised comparison,
and the whole array can be stored as it is.
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK = 1 << 14  # shingles per chunk: 16384 x 64 permutations x 8 bytes = 8 MB a temporary
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STEP = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def permutations(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) multipliers of ``count`` hash functions; ``a`` odd, as multiply-shift needs."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=count, dtype=np.uint64)
    return a, b


def shingles(word_hashes: np.ndarray, lengths: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every run of ``k`` consecutive words within each card; (flat hashes, per-card counts).

    ``word_hashes`` holds every card's word hashes one card after the other, ``lengths`` how many belong
    to each card. Runs never cross from one card into the next.
    """
    with np.errstate(over="ignore"):
        lengths = lengths.astype(np.int64)
        counts = np.maximum(lengths - (k - 1), 0)
        total = int(lengths.sum())
        if total < k:
            return np.zeros(0, dtype=np.uint64), counts
        span = total - (k - 1)
        h = word_hashes[:span].copy()
        for j in range(1, k):
            h = _mix(h * _STEP + word_hashes[j: j + span])
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # Position p starts a valid run when p + k - 1 is still inside the card that p is in.
        card_end = np.repeat(starts + lengths, lengths)[:span]
        valid = np.arange(span) + (k - 1) < card_end
        return h[valid], counts


def signatures(hashes: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (cards, permutations) uint32 MinHash signatures; a card without shingles gets all 0xFFFFFFFF."""
    n = len(counts)
    out = np.full((n, len(a)), _EMPTY, dtype=np.uint32)
    ends = np.cumsum(counts)
    begin_card = 0
    with np.errstate(over="ignore"):
        while begin_card < n:
            first = int(ends[begin_card - 1]) if begin_card else 0
            end_card = int(np.searchsorted(ends, first + _CHUNK, side="right"))
            end_card = max(end_card, begin_card + 1)
            last = int(ends[end_card - 1])
            block = hashes[first:last]
            if len(block):
                values = ((block[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
                local = counts[begin_card:end_card]
                nonempty = np.flatnonzero(local > 0)
                offsets = (np.cumsum(local) - local)[nonempty]
                out[begin_card + nonempty] = np.minimum.reduceat(values, offsets, axis=0)
            begin_card = end_card
    return out


def band_keys(sigs: np.ndarray, bands: int) -> np.ndarray:
    """One uint64 key per (card, band): equal keys mean the band's rows of the signatures are equal."""
    n, perms = sigs.shape
    rows = perms // bands
    grouped = sigs.reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _STEP
        for r in range(rows):
            key = _mix(key ^ grouped[:, :, r])
    return key


def candidate_pairs(keys: np.ndarray, eligible: np.ndarray, max_bucket: int) -> np.ndarray:
    """(m, 2) int64 row pairs (i < j) sharing a band key, without repeats.

    A bucket larger than ``max_bucket`` (boilerplate text shared by hundreds of cards) yields a chain of
    neighbours instead of every pair, so one bad feed cannot make the check quadratic; the chain still
    joins them into one group when each neighbour is confirmed.
    """
    rows = np.flatnonzero(eligible)
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        column = keys[rows, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        same = ordered[1:] == ordered[:-1]
        if not same.any():
            continue
        # Runs of equal keys: [start, stop) in the sorted order.
        edges = np.flatnonzero(np.diff(np.concatenate(([0], same.view(np.int8), [0]))))
        starts, stops = edges[0::2], edges[1::2] + 1
        sizes = stops - starts
        members = rows[order]
        # Buckets of one size at a time: every pair (i, j) of a bucket of m is start + triu(m).
        for m in np.unique(sizes).tolist():
            first = starts[sizes == m]
            if m <= max_bucket:
                i, j = np.triu_indices(m, k=1)
            else:
                i, j = np.arange(m - 1), np.arange(1, m)
            a, b = members[first[:, None] + i[None, :]], members[first[:, None] + j[None, :]]
            found.append(np.stack([np.minimum(a, b).ravel(), np.maximum(a, b).ravel()], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(found), axis=0).astype(np.int64)


def agreement(sigs: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The share of permutations on which each pair's signatures agree: an estimate of their Jaccard."""
    if not len(pairs):
        return np.zeros(0)
    return (sigs[pairs[:, 0]] == sigs[pairs[:, 1]]).mean(axis=1)
