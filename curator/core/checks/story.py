"""Same story: sparse TF-IDF cosine between cards, in plain numpy (no scipy: ~110 MB in the bundle).

A card is a sparse vector of its words (stop words out, title words counted ``title_weight`` times),
weighted ``(1 + log tf) * idf`` with ``idf = log((1 + N) / (1 + df)) + 1``, so a name or place that few
cards mention weighs far more than "government". The index keeps:

- rows (CSR): ``row_ptr``, ``row_terms``, ``row_tf`` (the ``1 + log tf`` part), and each row's norm;
- postings (the same entries sorted by word): ``term_ptr``, ``post_rows``, ``post_tf``;
- ``df`` per word, and per row its date (seconds, ``NO_DATE`` when unknown), provider id and liveness.

Scoring one card gathers the posting lists of its words and sums them with one ``np.bincount``: a few
hundred thousand entries at 100k cards, a few milliseconds. Updates do not rebuild the postings: a new
or edited card goes to a small delta (scored against the query's dense weights), its old entries are
masked, and ``df`` follows at once; ``compact`` folds the delta in (done by ``to_arrays``, and when the
delta or the change in card count since the last compaction passes a tenth of the index). The norms of untouched rows keep the idf of their last compaction:
a drift of a few percent in scores that compaction removes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_DATE = np.iinfo(np.int64).min
_ARRAYS = ("row_ptr", "row_terms", "row_tf", "norms", "dates", "providers", "alive", "df")


def _term_counts(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct word ids of one row and ``1 + log(count)`` for each."""
    unique, counts = np.unique(terms, return_counts=True)
    return unique.astype(np.int32), (1.0 + np.log(counts)).astype(np.float32)


def row_entries(row_of_token: np.ndarray, terms: np.ndarray, rows: int, vocabulary_size: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One batch's CSR pieces from its (row, word id) list: each row's distinct word ids in order (int32),
    their ``1 + log tf`` (float32) and the number of entries per row (int64, ``rows`` of them)."""
    width = max(vocabulary_size, 1)
    keys = row_of_token.astype(np.int64) * width + terms
    unique, counts = np.unique(keys, return_counts=True)
    del keys
    entry_rows = unique // width
    terms_out = (unique % width).astype(np.int32)
    return terms_out, (1.0 + np.log(counts)).astype(np.float32), np.bincount(entry_rows, minlength=rows)


@dataclass
class Match:
    """One row whose text is like the query's, with its cosine ``score``."""

    row: int
    score: float


class StoryIndex:
    """TF-IDF vectors of every card, updatable one card at a time."""

    def __init__(self, vocabulary_size: int = 0) -> None:
        self.row_ptr = np.zeros(1, dtype=np.int64)
        self.row_terms = np.zeros(0, dtype=np.int32)
        self.row_tf = np.zeros(0, dtype=np.float32)
        self.norms = np.zeros(0, dtype=np.float32)
        self.dates = np.zeros(0, dtype=np.int64)
        self.providers = np.zeros(0, dtype=np.int32)
        self.alive = np.zeros(0, dtype=bool)
        self.df = np.zeros(vocabulary_size, dtype=np.int64)
        self.term_ptr = np.zeros(vocabulary_size + 1, dtype=np.int64)
        self.post_rows = np.zeros(0, dtype=np.int32)
        self.post_tf = np.zeros(0, dtype=np.float32)
        # Rows added or changed since the last compaction: row -> (terms, tf); base entries masked.
        self.delta: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.stale = np.zeros(0, dtype=bool)
        self._delta_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._compacted_live = 0  # live rows at the last compaction: idf drifts as the count moves

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, row_of_token: np.ndarray, terms: np.ndarray, rows: int, vocabulary_size: int,
              dates: np.ndarray, providers: np.ndarray) -> StoryIndex:
        """An index over ``rows`` cards from one flat (row, word id) list of all their counted words."""
        return cls.from_rows([row_entries(row_of_token, terms, rows, vocabulary_size)], vocabulary_size,
                             dates, providers)

    @classmethod
    def from_rows(cls, batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]], vocabulary_size: int,
                  dates: np.ndarray, providers: np.ndarray) -> StoryIndex:
        """An index from consecutive batches of rows, each ``row_entries``' (terms, tf, entries per row).

        The batches are emptied as they are joined, so their memory goes as the CSR arrays fill.
        """
        index = cls(vocabulary_size)
        lengths = np.concatenate([b[2] for b in batches]) if batches else np.zeros(0, dtype=np.int64)
        rows = len(lengths)
        index.row_ptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        total = int(index.row_ptr[-1])
        index.row_terms = np.empty(total, dtype=np.int32)
        index.row_tf = np.empty(total, dtype=np.float32)
        at = 0
        while batches:
            terms, tf, _ = batches.pop(0)
            index.row_terms[at: at + len(terms)] = terms
            index.row_tf[at: at + len(terms)] = tf
            at += len(terms)
        index.dates = dates.astype(np.int64)
        index.providers = providers.astype(np.int32)
        index.alive = np.ones(rows, dtype=bool)
        index.df = np.bincount(index.row_terms, minlength=vocabulary_size).astype(np.int64)
        index._postings()
        index.norms = index._norms_of(np.arange(rows))
        index.stale = np.zeros(rows, dtype=bool)
        index._compacted_live = rows
        return index

    def _postings(self) -> None:
        order = np.argsort(self.row_terms, kind="stable")
        entry_rows = np.repeat(np.arange(len(self.row_ptr) - 1, dtype=np.int32), np.diff(self.row_ptr))
        self.post_rows = entry_rows[order]
        del entry_rows
        self.post_tf = self.row_tf[order]
        del order
        self.term_ptr = np.concatenate(([0], np.cumsum(np.bincount(self.row_terms, minlength=len(self.df)))))

    def idf(self) -> np.ndarray:
        n = int(self.alive.sum())
        return (np.log((1.0 + n) / (1.0 + self.df)) + 1.0).astype(np.float32)

    def _norms_of(self, rows: np.ndarray) -> np.ndarray:
        idf = self.idf()
        weights = (self.row_tf * idf[self.row_terms]).astype(np.float64) ** 2
        base_rows = len(self.row_ptr) - 1
        entry_rows = np.repeat(np.arange(base_rows), np.diff(self.row_ptr))
        sums = np.bincount(entry_rows, weights, minlength=base_rows)
        return np.sqrt(sums[rows]).astype(np.float32)

    # --- reading one row --------------------------------------------------------------------------

    def row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The (word ids, 1 + log tf) of ``row``, its latest version."""
        if row in self.delta:
            return self.delta[row]
        if row >= len(self.row_ptr) - 1:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        start, stop = self.row_ptr[row], self.row_ptr[row + 1]
        return self.row_terms[start:stop], self.row_tf[start:stop]

    # --- updating ---------------------------------------------------------------------------------

    def _grow(self, rows: int, vocabulary_size: int) -> None:
        if vocabulary_size > len(self.df):
            self.df = np.concatenate((self.df, np.zeros(vocabulary_size - len(self.df), dtype=np.int64)))
        extra = rows - len(self.alive)
        if extra > 0:
            self.dates = np.concatenate((self.dates, np.full(extra, NO_DATE, dtype=np.int64)))
            self.providers = np.concatenate((self.providers, np.full(extra, -1, dtype=np.int32)))
            self.alive = np.concatenate((self.alive, np.zeros(extra, dtype=bool)))
            self.norms = np.concatenate((self.norms, np.zeros(extra, dtype=np.float32)))
            self.stale = np.concatenate((self.stale, np.zeros(extra, dtype=bool)))

    def set_row(self, row: int, terms: np.ndarray, date: int, provider: int, vocabulary_size: int) -> None:
        """Index (or re-index) ``row`` with the word ids ``terms`` (repeats count)."""
        self._grow(row + 1, vocabulary_size)
        if self.alive[row]:
            old_terms, _ = self.row(row)
            self.df[old_terms] -= 1
        unique, tf = _term_counts(terms)
        self.df[unique] += 1
        self.delta[row] = (unique, tf)
        if row < len(self.row_ptr) - 1:
            self.stale[row] = True
        self.alive[row] = True
        self.dates[row] = date
        self.providers[row] = provider
        self.norms[row] = float(np.sqrt(((tf * self.idf()[unique]) ** 2).sum()))
        self._delta_arrays = None
        live = int(self.alive.sum())
        if len(self.delta) > max(1000, live // 10) or abs(live - self._compacted_live) > max(50, live // 10):
            self.compact()

    def remove_row(self, row: int) -> None:
        """Forget ``row`` (its number is not reused)."""
        if row < len(self.alive) and self.alive[row]:
            old_terms, _ = self.row(row)
            self.df[old_terms] -= 1
            self.alive[row] = False
            self.delta.pop(row, None)
            if row < len(self.row_ptr) - 1:
                self.stale[row] = True
            self._delta_arrays = None

    def compact(self) -> None:
        """Fold the delta into the rows and postings, and refresh every norm with today's idf."""
        if not self.delta and not self.stale.any():
            return
        rows = len(self.alive)
        pieces_terms, pieces_tf, lengths = [], [], np.zeros(rows, dtype=np.int64)
        base_rows = len(self.row_ptr) - 1
        for row in range(rows):
            if row in self.delta:
                terms, tf = self.delta[row]
            elif row < base_rows and self.alive[row] and not self.stale[row]:
                start, stop = self.row_ptr[row], self.row_ptr[row + 1]
                terms, tf = self.row_terms[start:stop], self.row_tf[start:stop]
            else:
                continue
            pieces_terms.append(terms)
            pieces_tf.append(tf)
            lengths[row] = len(terms)
        self.row_terms = np.concatenate(pieces_terms).astype(np.int32) if pieces_terms else self.row_terms[:0]
        self.row_tf = np.concatenate(pieces_tf).astype(np.float32) if pieces_tf else self.row_tf[:0]
        self.row_ptr = np.concatenate(([0], np.cumsum(lengths)))
        self.delta = {}
        self.stale = np.zeros(rows, dtype=bool)
        self._delta_arrays = None
        self._postings()
        self.norms = self._norms_of(np.arange(rows))
        self._compacted_live = int(self.alive.sum())

    # --- scoring ----------------------------------------------------------------------------------

    def _delta_flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._delta_arrays is None:
            rows = list(self.delta)
            terms = [self.delta[r][0] for r in rows]
            self._delta_arrays = (
                np.repeat(np.array(rows, dtype=np.int64), [len(t) for t in terms]),
                np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32),
                np.concatenate([self.delta[r][1] for r in rows]) if rows else np.zeros(0, dtype=np.float32),
            )
        return self._delta_arrays

    def scores(self, terms: np.ndarray, tf: np.ndarray, max_df: float) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine) of every live row sharing a scoring word with the query vector (terms, tf)."""
        n = len(self.alive)
        if not len(terms) or not n:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idf = self.idf()
        weights = tf * idf[terms]
        norm = float(np.sqrt((weights**2).sum())) or 1.0
        weights = weights / norm
        live = int(self.alive.sum())
        keep = self.df[terms] <= max(500.0, max_df * live)
        terms, weights = terms[keep], weights[keep]
        base_terms = terms[terms < len(self.term_ptr) - 1]
        base_weights = weights[terms < len(self.term_ptr) - 1]
        starts, stops = self.term_ptr[base_terms], self.term_ptr[base_terms + 1]
        sizes = stops - starts
        total = np.zeros(n, dtype=np.float64)
        if sizes.sum():
            # Every posting position of the query's words, without a Python loop per word.
            offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(sizes)[:-1])), sizes)
            where = np.arange(int(sizes.sum())) + offsets
            values = self.post_tf[where] * np.repeat(base_weights * idf[base_terms], sizes)
            total[: len(self.stale)] += np.bincount(self.post_rows[where], values, minlength=n)[:n]
            total[self.stale] = 0.0
        if self.delta:
            rows, dterms, dtf = self._delta_flat()
            dense = np.zeros(len(self.df), dtype=np.float32)
            dense[terms] = weights * idf[terms]
            total += np.bincount(rows, dtf * dense[dterms], minlength=n)[:n]
        hit = np.flatnonzero((total > 0) & self.alive)
        return hit, (total[hit] / np.maximum(self.norms[hit], 1e-9)).astype(np.float32)

    # --- persistence ------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The index as plain arrays (compacted first); the postings are derived on load."""
        self.compact()
        return {f"story_{name}": getattr(self, name) for name in _ARRAYS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StoryIndex:
        index = cls(len(arrays["story_df"]))
        for name in _ARRAYS:
            setattr(index, name, np.asarray(arrays[f"story_{name}"]))
        index.stale = np.zeros(len(index.alive), dtype=bool)
        index._compacted_live = int(index.alive.sum())
        index._postings()
        return index
