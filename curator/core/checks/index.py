"""The checks of a whole library in one value: duplicates, copies and same-story suggestions.

``CheckIndex.build`` reads every card once, a batch at a time (8-11 s at 100k cards on two shared cores:
a third canonicalising 300k URLs, then MinHash, word ids, the tokeniser and the groups' union-find;
peak RSS under 450 MB with the cards in memory); ``update`` and ``remove`` keep it current one card at
a time (a few milliseconds), so an import or an edit never pays for a rebuild. Everything it holds is numbers and strings:
``to_arrays`` gives flat numpy arrays (strings packed as UTF-8 plus offsets) that a Store can keep as
BLOBs or rows, and ``from_arrays`` gives the same index back.

Rows are positions in the index; a card keeps its row for life and a removed card's row stays empty.
Card ids are the library's integer ids.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from curator.core.checks import minhash
from curator.core.checks.canonical import canonical_url
from curator.core.checks.story import NO_DATE, StoryIndex, row_entries
from curator.core.checks.text import Vocabulary, plain_text, words
from curator.core.checks.thresholds import Thresholds
from curator.core.fields import normalize_date

_DAY = 86400
_BATCH = 4096  # cards read, hashed and counted at a time by ``build``
_NONE: frozenset[str] = frozenset()  # the related URLs of every card without any: one shared object


@dataclass(frozen=True)
class CheckCard:
    """What the checks read of one card. ``date`` is UTC "YYYY-MM-DDTHH:MM:SS" (fields.normalize_date)."""

    id: int
    title: str | None = None
    excerpt: str | None = None
    date: str | None = None
    provider: str | None = None
    source_url: str | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    related_urls: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, card_id: int, data: Mapping[str, Any]) -> CheckCard:
        """The checks' view of a card's parsed YAML mapping (values of the wrong type are left out)."""
        def text(value: Any) -> str | None:
            return value if isinstance(value, str) else None

        provider = data.get("provider")
        if isinstance(provider, Mapping):
            provider = text(provider.get("domain")) or text(provider.get("name"))
        related = data.get("related")
        urls = tuple(item["sourceUrl"] for item in related if isinstance(item, Mapping)
                     and isinstance(item.get("sourceUrl"), str)) if isinstance(related, list) else ()
        when = data.get("publishedDateTime")
        return cls(card_id, text(data.get("title")), text(data.get("excerpt")),
                   normalize_date(when) if isinstance(when, str) else None, text(provider),
                   text(data.get("sourceUrl")), text(data.get("ampUrl")), text(data.get("cdnAmpUrl")), urls)


@dataclass(frozen=True)
class Group:
    """Cards that are one article: ``kind`` "url" (equal canonical URLs) or "copy" (syndicated text).

    ``canonical`` is the canonical URL most of the group shares ("url" groups), None for copies.
    """

    kind: str
    ids: tuple[int, ...]
    canonical: str | None


@dataclass(frozen=True)
class Suggestion:
    """A card likely to be other coverage of the same story, with its cosine ``score`` (0..1)."""

    id: int
    score: float
    same_provider: bool


def _pack(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.concatenate(([0], np.cumsum([len(e) for e in encoded], dtype=np.int64)))
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets


def _unpack(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    data = blob.tobytes()
    bounds = offsets.tolist()
    return [data[a:b].decode("utf-8") for a, b in itertools.pairwise(bounds)]


def _seconds(dates: list[str | None]) -> np.ndarray:
    values = np.array([d if d else "NaT" for d in dates], dtype="datetime64[s]")
    return values.astype(np.int64)  # NaT is int64's minimum: story.NO_DATE


class _Rows:
    """Union-find over rows, for groups."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, row: int) -> int:
        parent = self.parent
        root = row
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(row, row) != root:
            parent[row], row = root, parent[row]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


class _UrlRows:
    """Canonical URL -> the rows that have it.

    Nearly every URL belongs to one row, kept as a plain int; a set only for the few URLs that rows
    share (a set per URL was 46 MB at 100k cards, a fifth of the whole index).
    """

    def __init__(self) -> None:
        self._rows: dict[str, int | set[int]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, url: str, row: int) -> None:
        found = self._rows.get(url)
        if found is None:
            self._rows[url] = row
        elif isinstance(found, set):
            found.add(row)
        elif found != row:
            self._rows[url] = {found, row}

    def discard(self, url: str, row: int) -> None:
        found = self._rows.get(url)
        if isinstance(found, set):
            found.discard(row)
            if len(found) == 1:
                self._rows[url] = next(iter(found))
        elif found == row:
            del self._rows[url]

    def get(self, url: str) -> Collection[int]:
        """The rows with ``url`` (empty when none); do not change what it returns."""
        found = self._rows.get(url)
        if found is None:
            return ()
        return found if isinstance(found, set) else (found,)

    def shared(self) -> Iterator[set[int]]:
        """The row sets of URLs that two or more rows have."""
        return (rows for rows in self._rows.values() if isinstance(rows, set))


class CheckIndex:
    """Duplicates, copies and same-story suggestions for one library."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        t = self.thresholds
        self._a, self._b = minhash.permutations(t.permutations, t.seed)
        self.vocabulary = Vocabulary()
        self.ids: list[int] = []
        self.row_of: dict[int, int] = {}
        self.canonical: list[tuple[str | None, str | None, str | None]] = []
        self.related: list[frozenset[str]] = []
        self.bodies: list[str] = []
        self.url_rows = _UrlRows()
        self.sigs = np.zeros((0, t.permutations), dtype=np.uint32)
        self.keys = np.zeros((0, t.bands), dtype=np.uint64)
        self.eligible = np.zeros(0, dtype=bool)
        self.copies: dict[int, set[int]] = {}
        self.providers: dict[str, int] = {}
        self.story = StoryIndex()
        self._groups: list[Group] | None = None

    # --- reading cards ----------------------------------------------------------------------------

    def _provider(self, name: str | None) -> int:
        if not name:
            return -1
        key = name.strip().casefold().removeprefix("www.")
        return self.providers.setdefault(key, len(self.providers))

    def _read(self, cards: list[CheckCard]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Word ids of all cards (flat), words per card, title words per card, and the texts compared."""
        lengths = np.zeros(len(cards), dtype=np.int64)
        title_lengths = np.zeros(len(cards), dtype=np.int64)
        bodies = []
        encoded: list[np.ndarray] = []
        # In chunks: a word is a fresh str object per occurrence, and 100k cards of them at once would be
        # a quarter of a gigabyte before they become ids.
        for begin in range(0, len(cards), 4096):
            flat: list[str] = []
            for i in range(begin, min(begin + 4096, len(cards))):
                card = cards[i]
                tw, ew = words(plain_text(card.title)), words(plain_text(card.excerpt))
                flat += tw
                flat += ew
                lengths[i] = len(tw) + len(ew)
                title_lengths[i] = len(tw)
                bodies.append(" ".join(ew) if len(ew) >= 8 else " ".join(tw + ew))
            encoded.append(self.vocabulary.encode(flat))
        ids = np.concatenate(encoded) if encoded else np.zeros(0, dtype=np.int64)
        return ids, lengths, title_lengths, bodies

    def _story_terms(self, ids: np.ndarray, lengths: np.ndarray, title_lengths: np.ndarray,
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(row within the batch, word id) for every counted word: stop words out, titles repeated."""
        row = np.repeat(np.arange(len(lengths)), lengths)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        in_title = (np.arange(len(ids)) - np.repeat(starts, lengths)) < np.repeat(title_lengths, lengths)
        keep = ~self._stop[ids] if len(ids) else np.zeros(0, dtype=bool)
        rows = [row[keep]]
        terms = [ids[keep]]
        for _ in range(self.thresholds.title_weight - 1):
            rows.append(row[keep & in_title])
            terms.append(ids[keep & in_title])
        return np.concatenate(rows), np.concatenate(terms)

    @property
    def _stop(self) -> np.ndarray:
        size = len(self.vocabulary)
        if getattr(self, "_stop_cache", None) is None or len(self._stop_cache) < size:
            old = getattr(self, "_stop_cache", None)
            fresh = self.vocabulary.stop_mask() if old is None else np.concatenate(
                (old, Vocabulary.stop_mask_of(self.vocabulary.words[len(old):])))
            self._stop_cache: np.ndarray | None = fresh
        assert self._stop_cache is not None
        return self._stop_cache

    def _signatures(self, ids: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.thresholds
        hashes, counts = minhash.shingles(self.vocabulary.hashes[ids], lengths, t.shingle)
        sigs = minhash.signatures(hashes, counts, self._a, self._b)
        return sigs, counts

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def build(cls, cards: Iterable[CheckCard], thresholds: Thresholds | None = None) -> CheckIndex:
        """The index of ``cards`` from scratch, reading them once, ``_BATCH`` cards at a time.

        Each batch is read, hashed and reduced to what the index keeps (signatures, band keys, its rows'
        word counts) before the next one is read, so the build's own memory is the finished index plus
        one batch's temporaries: at 100k cards, all words of all cards as int64 ids at once (and their
        row numbers, masks and sort copies) were some 300 MB above the index itself. ``cards`` may be a
        generator (e.g. rows streamed from the library).
        """
        index = cls(thresholds)
        t = index.thresholds
        sigs: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        eligible: list[np.ndarray] = []
        entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        dates: list[np.ndarray] = []
        providers: list[np.ndarray] = []
        stream = iter(cards)
        while batch := list(itertools.islice(stream, _BATCH)):
            first = len(index.ids)
            for card in batch:
                if card.id in index.row_of:
                    raise ValueError(f"CheckIndex.build: card id {card.id} is listed twice")
                index.row_of[card.id] = len(index.ids)
                index.ids.append(card.id)
            for row, card in enumerate(batch, first):
                index._set_urls(row, card)
            ids, lengths, title_lengths, bodies = index._read(batch)
            index.bodies += bodies
            batch_sigs, counts = index._signatures(ids, lengths)
            sigs.append(batch_sigs)
            keys.append(minhash.band_keys(batch_sigs, t.bands))
            eligible.append(counts >= t.min_shingles)
            rows, terms = index._story_terms(ids, lengths, title_lengths)
            del ids  # the batch's biggest array: gone before the counting sorts
            entries.append(row_entries(rows, terms, len(batch), len(index.vocabulary)))
            del rows, terms
            dates.append(_seconds([c.date for c in batch]))
            providers.append(np.array([index._provider(c.provider) for c in batch], dtype=np.int32))
        if sigs:
            index.sigs, index.keys = np.concatenate(sigs), np.concatenate(keys)
            index.eligible = np.concatenate(eligible)
        del sigs, keys, eligible
        pairs = minhash.candidate_pairs(index.keys, index.eligible, t.max_bucket)
        for a, b in index._confirm(pairs).tolist():
            index.copies.setdefault(a, set()).add(b)
            index.copies.setdefault(b, set()).add(a)
        del pairs
        index.story = StoryIndex.from_rows(entries, len(index.vocabulary),
                                           np.concatenate(dates) if dates else np.zeros(0, np.int64),
                                           np.concatenate(providers) if providers else np.zeros(0, np.int32))
        return index

    def _set_urls(self, row: int, card: CheckCard) -> None:
        """Canonical URLs and related URLs of ``card`` at ``row`` (whose old links are already forgotten).

        A card's three URLs mostly canonicalise to one text: that one string object is kept for all three
        rather than three equal copies.
        """
        urls: list[str | None] = []
        for url in (card.source_url, card.amp_url, card.cdn_amp_url):
            found = canonical_url(url) if url else None
            urls.append(next((u for u in urls if u == found), found))
        triple = (urls[0], urls[1], urls[2])
        if row < len(self.canonical):
            self.canonical[row] = triple
        else:
            self.canonical.append(triple)
        for url in set(triple):
            if url:
                self.url_rows.add(url, row)
        related = frozenset(u for u in map(canonical_url, card.related_urls) if u) if card.related_urls else _NONE
        if row < len(self.related):
            self.related[row] = related
        else:
            self.related.append(related)

    def _confirm(self, pairs: np.ndarray) -> np.ndarray:
        """The candidate pairs that are copies: signatures agree enough and rapidfuzz finds the texts alike."""
        t = self.thresholds
        if not len(pairs):
            return pairs
        pairs = pairs[minhash.agreement(self.sigs, pairs) >= t.min_jaccard]
        if not len(pairs):
            return pairs
        left = [self.bodies[a] for a in pairs[:, 0].tolist()]
        right = [self.bodies[b] for b in pairs[:, 1].tolist()]
        whole = process.cpdist(left, right, scorer=fuzz.ratio, workers=-1) >= t.copy_ratio
        # One text cut short of the other (a feed's shorter excerpt): compare the shorter with the best
        # window of the longer, but only where it is at least half as long.
        rest = np.flatnonzero(~whole)
        sizes_l = np.array([len(x) for x in left])
        sizes_r = np.array([len(x) for x in right])
        rest = rest[np.minimum(sizes_l, sizes_r)[rest] >= 0.5 * np.maximum(sizes_l, sizes_r)[rest]]
        if len(rest):
            partial = process.cpdist([left[i] for i in rest.tolist()], [right[i] for i in rest.tolist()],
                                     scorer=fuzz.partial_ratio, workers=-1)
            whole[rest[partial >= t.copy_partial]] = True
        return pairs[whole]

    # --- one card at a time -----------------------------------------------------------------------

    def update(self, card: CheckCard) -> None:
        """Add ``card`` or re-check it after an edit."""
        t = self.thresholds
        row = self.row_of.get(card.id)
        if row is None:
            row = len(self.ids)
            self.ids.append(card.id)
            self.row_of[card.id] = row
            self.bodies.append("")
            self.sigs = np.concatenate((self.sigs, np.full((1, t.permutations), 0xFFFFFFFF, np.uint32)))
            self.keys = np.concatenate((self.keys, np.zeros((1, t.bands), np.uint64)))
            self.eligible = np.concatenate((self.eligible, [False]))
        else:
            self._forget_links(row)
        self._set_urls(row, card)
        ids, lengths, title_lengths, bodies = self._read([card])
        self.bodies[row] = bodies[0]
        sigs, counts = self._signatures(ids, lengths)
        self.sigs[row] = sigs[0]
        self.keys[row] = minhash.band_keys(sigs, t.bands)[0]
        self.eligible[row] = counts[0] >= t.min_shingles
        if self.eligible[row]:
            shared = np.flatnonzero((self.keys == self.keys[row]).any(axis=1) & self.eligible)
            shared = shared[shared != row]
            pairs = np.stack([np.full(len(shared), row), shared], axis=1).astype(np.int64)
            for a, b in self._confirm(pairs).tolist():
                self.copies.setdefault(a, set()).add(b)
                self.copies.setdefault(b, set()).add(a)
        _, terms = self._story_terms(ids, lengths, title_lengths)
        self.story.set_row(row, terms, int(_seconds([card.date])[0]), self._provider(card.provider),
                           len(self.vocabulary))
        self._groups = None

    def _forget_links(self, row: int) -> None:
        for url in self.canonical[row]:
            if url:
                self.url_rows.discard(url, row)
        for other in self.copies.pop(row, set()):
            self.copies.get(other, set()).discard(row)

    def remove(self, card_id: int) -> None:
        """Forget a card (deleted from the library)."""
        row = self.row_of.pop(card_id, None)
        if row is None:
            return
        self._forget_links(row)
        self.canonical[row] = (None, None, None)
        self.related[row] = _NONE
        self.bodies[row] = ""
        self.eligible[row] = False
        self.story.remove_row(row)
        self._groups = None

    # --- answers ----------------------------------------------------------------------------------

    def groups(self) -> list[Group]:
        """Every group of two or more cards, largest first."""
        if self._groups is not None:
            return self._groups
        sets = _Rows()
        for rows in self.url_rows.shared():
            if len(rows) > 1:
                first, *rest = rows
                for other in rest:
                    sets.union(first, other)
        for a, others in self.copies.items():
            for b in others:
                sets.union(a, b)
        members: dict[int, list[int]] = {}
        for row in list(sets.parent):
            members.setdefault(sets.find(row), []).append(row)
        for root in list(members):
            members[root] = sorted(set(members[root]) | {root})
        found = []
        for rows in members.values():
            kind = "url" if self._url_connected(rows) else "copy"
            canonical = self._shared_url(rows) if kind == "url" else None
            found.append(Group(kind, tuple(sorted(self.ids[r] for r in rows)), canonical))
        found.sort(key=lambda g: (-len(g.ids), g.ids))
        self._groups = found
        return found

    def _url_connected(self, rows: list[int]) -> bool:
        """Whether URL equality alone joins ``rows`` into one group (no copy link needed)."""
        sets = _Rows()
        for row in rows:
            for url in self.canonical[row]:
                if url:
                    for other in self.url_rows.get(url):
                        sets.union(row, other)
        return len({sets.find(r) for r in rows}) == 1

    def _shared_url(self, rows: list[int]) -> str | None:
        counts: dict[str, int] = {}
        for row in rows:
            for url in set(self.canonical[row]):
                if url:
                    counts[url] = counts.get(url, 0) + 1
        return max(counts, key=lambda u: (counts[u], u)) if counts else None

    def group_of(self, card_id: int) -> Group | None:
        """The group ``card_id`` is in, if any."""
        for group in self.groups():
            if card_id in group.ids:
                return group
        return None

    def card_by_url(self, url: str) -> int | None:
        """The id of a card with this URL (any of its three, compared canonically); the lowest id wins."""
        rows = self.url_rows.get(canonical_url(url) or "")
        return min((self.ids[r] for r in rows), default=None)

    def is_word(self, word: str) -> bool:
        """Whether ``word`` is a word of the library's titles and excerpts seen in at least two cards."""
        found = self.vocabulary.ids.get(word.casefold())
        return found is not None and found < len(self.story.df) and int(self.story.df[found]) >= 2

    def suggest(self, card_id: int, limit: int = 10, window_days: float | None = None) -> list[Suggestion]:
        """Other coverage of ``card_id``'s story: other providers first, then by score.

        Within ``window_days`` (the thresholds' by default) of the card's date; a card without a date is
        compared with all. Left out: the card itself, cards already in its related list (by canonical
        URL), and its duplicates and copies (those belong in the Duplicates facet, not in related).
        """
        row = self.row_of.get(card_id)
        if row is None:
            raise KeyError(f"card {card_id} is not in the checks index")
        t = self.thresholds
        terms, tf = self.story.row(row)
        rows, scores = self.story.scores(terms, tf, t.max_df)
        keep = (scores >= t.min_score) & (rows != row)
        date = self.story.dates[row]
        if date != NO_DATE:
            window = (t.window_days if window_days is None else window_days) * _DAY
            other = self.story.dates[rows]
            keep &= (other != NO_DATE) & (np.abs(other - date) <= window)
        rows, scores = rows[keep], scores[keep]
        excluded = self._excluded(row)
        provider = self.story.providers[row]
        found = [(bool(provider >= 0 and self.story.providers[r] == provider), -float(s), self.ids[r])
                 for r, s in zip(rows.tolist(), scores.tolist()) if r not in excluded]
        found.sort()
        return [Suggestion(card, -score, same) for same, score, card in found[:limit]]

    def _excluded(self, row: int) -> set[int]:
        out = {row} | self.copies.get(row, set())
        for url in self.canonical[row]:
            out.update(self.url_rows.get(url or ""))
        for url in self.related[row]:
            out.update(self.url_rows.get(url))
        return out

    # --- persistence ------------------------------------------------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The whole index as named numpy arrays (no pickles): save with ``np.savez`` or as BLOBs."""
        out = self.story.to_arrays()
        alive = np.zeros(len(self.ids), dtype=bool)
        alive[list(self.row_of.values())] = True
        out["ids"] = np.array(self.ids, dtype=np.int64)
        out["alive_ids"] = alive
        out["words"], out["words_at"] = _pack(self.vocabulary.words)
        out["providers"], out["providers_at"] = _pack(sorted(self.providers, key=self.providers.__getitem__))
        out["urls"], out["urls_at"] = _pack([u or "" for triple in self.canonical for u in triple])
        related = [sorted(r) for r in self.related]
        out["related"], out["related_at"] = _pack([u for r in related for u in r])
        out["related_ptr"] = np.concatenate(([0], np.cumsum([len(r) for r in related], dtype=np.int64)))
        out["bodies"], out["bodies_at"] = _pack(self.bodies)
        out["sigs"], out["keys"], out["eligible"] = self.sigs, self.keys, self.eligible
        out["copies"] = np.array(sorted((a, b) for a, bs in self.copies.items() for b in bs if a < b),
                                 dtype=np.int64).reshape(-1, 2)
        out["thresholds"] = np.array([float(v) for v in self.thresholds.as_dict().values()])
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], thresholds: Thresholds | None = None) -> CheckIndex:
        """The index ``to_arrays`` saved. The thresholds must be the ones it was built with."""
        index = cls(thresholds)
        saved = np.asarray(arrays["thresholds"])
        if not np.allclose(saved, [float(v) for v in index.thresholds.as_dict().values()]):
            raise ValueError("the saved checks index was built with other thresholds: rebuild it")
        index.vocabulary = Vocabulary(_unpack(arrays["words"], arrays["words_at"]))
        index.providers = {p: i for i, p in enumerate(_unpack(arrays["providers"], arrays["providers_at"]))}
        index.ids = np.asarray(arrays["ids"]).tolist()
        alive = np.asarray(arrays["alive_ids"])
        index.row_of = {card: row for row, card in enumerate(index.ids) if alive[row]}
        urls = [u or None for u in _unpack(arrays["urls"], arrays["urls_at"])]
        for i in range(1, len(urls)):  # equal URLs of one card: one string object, as build keeps them
            if urls[i] is not None and urls[i] == urls[i - i % 3]:
                urls[i] = urls[i - i % 3]
            elif i % 3 == 2 and urls[i] is not None and urls[i] == urls[i - 1]:
                urls[i] = urls[i - 1]
        index.canonical = [(urls[i], urls[i + 1], urls[i + 2]) for i in range(0, len(urls), 3)]
        for row, triple in enumerate(index.canonical):
            for url in triple:
                if url:
                    index.url_rows.add(url, row)
        related = _unpack(arrays["related"], arrays["related_at"])
        ptr = np.asarray(arrays["related_ptr"]).tolist()
        index.related = [frozenset(related[a:b]) if b > a else _NONE for a, b in itertools.pairwise(ptr)]
        index.bodies = _unpack(arrays["bodies"], arrays["bodies_at"])
        index.sigs = np.array(arrays["sigs"], dtype=np.uint32)
        index.keys = np.array(arrays["keys"], dtype=np.uint64)
        index.eligible = np.array(arrays["eligible"], dtype=bool)
        for a, b in np.asarray(arrays["copies"]).tolist():
            index.copies.setdefault(a, set()).add(b)
            index.copies.setdefault(b, set()).add(a)
        index.story = StoryIndex.from_arrays(dict(arrays))
        return index
