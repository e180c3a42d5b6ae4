"""Words of a card's title and excerpt, shared by the copy and the same-story checks.

One tokeniser for both, so a card is read once: markup is dropped and entities decoded (a feed's
``&amp;`` or ``<b>`` is not a word), text is case-folded, and words are runs of letters and digits
(Unicode ``\\w`` without the underscore). Every distinct word gets a stable 64-bit hash (BLAKE2b, not
Python's per-process ``hash``) so MinHash signatures stay valid across runs and can be persisted.
"""

from __future__ import annotations

import hashlib
import html
import re

import numpy as np

_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")
_WORD = re.compile(r"[^\W_]+")

#: Words too common in English news to say anything about which story a card tells. They still count
#: for copies (a copy keeps them in place), never for same-story similarity.
STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves said says new one two may might must us per via s t
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def plain_text(text: str | None) -> str:
    """``text`` without markup, entities decoded, whitespace collapsed (None becomes "")."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The case-folded words of already plain text."""
    return _WORD.findall(text.casefold())


class Vocabulary:
    """Word -> dense id, with each word's stable 64-bit hash; ids never change once given.

    ``hashes`` is a numpy view (grown by doubling) so a card's word ids map to shingle hashes in one
    fancy-index. Persist it as ``words`` (the list) alone: ids and hashes follow from the order.
    """

    def __init__(self, words_in_order: list[str] | None = None) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []
        self._hashes = np.zeros(1024, dtype=np.uint64)
        for word in words_in_order or ():
            self.id(word)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def hashes(self) -> np.ndarray:
        return self._hashes[: len(self.words)]

    def id(self, word: str) -> int:
        found = self.ids.get(word)
        if found is not None:
            return found
        new = len(self.words)
        self.ids[word] = new
        self.words.append(word)
        if new >= len(self._hashes):
            grown = np.zeros(len(self._hashes) * 2, dtype=np.uint64)
            grown[: len(self._hashes)] = self._hashes
            self._hashes = grown
        self._hashes[new] = int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(),
                                           "little")
        return new

    def encode(self, tokens: list[str]) -> np.ndarray:
        """The ids of ``tokens`` (new words are added)."""
        ids = self.ids
        before = len(ids)
        # dict.setdefault evaluates len(ids) before inserting: exactly the next id. One C-level call a
        # token; the hashes of the words that were new are then made in one pass.
        setdefault = ids.setdefault
        out = np.fromiter([setdefault(t, len(ids)) for t in tokens], dtype=np.int64, count=len(tokens))
        if len(ids) > before:
            fresh = list(ids)[before:] if before else list(ids)
            self._add_hashes(fresh)
        return out

    def _add_hashes(self, fresh: list[str]) -> None:
        start = len(self.words)
        self.words.extend(fresh)
        if len(self.words) > len(self._hashes):
            grown = np.zeros(max(len(self.words), len(self._hashes) * 2), dtype=np.uint64)
            grown[:start] = self._hashes[:start]
            self._hashes = grown
        blake = hashlib.blake2b
        self._hashes[start: len(self.words)] = np.fromiter(
            (int.from_bytes(blake(w.encode("utf-8"), digest_size=8).digest(), "little") for w in fresh),
            dtype=np.uint64, count=len(fresh))

    def stop_mask(self) -> np.ndarray:
        """True for each word id that is a stop word or a single character."""
        return self.stop_mask_of(self.words)

    @staticmethod
    def stop_mask_of(tokens: list[str]) -> np.ndarray:
        """True for each of ``tokens`` that is a stop word or a single character."""
        return np.fromiter((len(w) < 2 or w in STOP_WORDS for w in tokens), dtype=bool, count=len(tokens))
