"""Full text on PostgreSQL with exactly FTS5's results: SQLite's own tokenizer, tsvector built in Python.

Why not ``to_tsvector('simple', …)``: PostgreSQL's parser splits text differently from FTS5's
``unicode61 remove_diacritics 2`` (it keeps ``it's``, e-mail addresses, URLs and hyphenated words as
tokens, folds case by the server's locale and never removes diacritics; ``unaccent`` is an extension and
maps differently again). So the tokens are made here, in Python, the way the SQLite backend's index makes
them, and handed to the server as ``tsvector``/``tsquery`` values whose lexemes are used as they are.

How the tokens equal FTS5's: unicode61 is a per-code-point machine (each character is a token character or
a separator; each token character folds to at most one character, possibly none). ASCII is fixed (letters
and digits, A-Z folded to a-z). Every other character is *asked of SQLite itself* the first time it is
seen: ``"a" + ch + "a"`` is indexed in an in-memory FTS5 table with the same tokenizer and its vocabulary
read back (one token ``a?a`` means a token character folding to ``?``; two tokens ``a`` mean a
separator). The answers are cached in one ``str.translate`` table, so tokenising is a translate and a
split: no Unicode tables of our own that could disagree with SQLite's. A token character folding to
nothing (a lone combining accent) never forms a token on its own, as in FTS5.

Columns and phrases: FTS5 phrases never cross columns. Each column gets its own ``tsvector`` whose
positions start at 2; PostgreSQL's ``||`` shifts the right operand by the left's largest position, so
the concatenation (the indexed ``doc``) leaves a one-position gap between columns and a ``<->`` chain
never matches across it. One column can be updated alone (a topic edit rewrites only ``topics``).

Queries mirror ``curator.core.search._fts`` term for term (words, phrases as ``<->`` chains, ``word*``
as ``:*`` on the last token, AND/OR/NOT), so the two backends compile the same tree the same way. User
text only ever becomes quoted lexemes inside a ``tsquery`` literal, passed as a bound parameter and cast
with ``::tsquery`` (no parser runs over it), so ``&``, ``|``, ``!``, ``:*`` or quotes in a search are
plain text.

Limits PostgreSQL imposes and FTS5 does not (documented, not hidden): a lexeme is at most 2046 bytes
(longer tokens are cut at a character boundary, on both the index and the query side), positions stop at
16383 and a lexeme keeps at most 256 positions, so a phrase deep inside a very long excerpt may be missed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence

from curator.core.query import And, Not, Or, Phrase, Term, Word

#: The indexed text columns of ``card_text``, in order (``doc`` is their concatenation).
FTS_COLUMNS: tuple[str, ...] = ("title", "excerpt", "provider", "topics", "related")

#: The tokenizer the SQLite backend's ``card_index`` uses (schema.CardIndex).
FTS5_TOKENIZE = "unicode61 remove_diacritics 2"

#: PostgreSQL's limits on a tsvector: lexeme bytes, largest position.
MAX_LEXEME_BYTES = 2046
MAX_POSITION = 16383
#: A column's first token sits here, leaving position 1 empty as the gap between columns.
FIRST_POSITION = 2


def _ascii_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(128):
        ch = chr(code)
        table[code] = ch.lower() if ch.isascii() and ch.isalnum() else " "
    return table


class Tokenizer:
    """FTS5's unicode61 tokens for any text, with SQLite answering for every non-ASCII character once.

    Thread-safe: probes run under a lock and publish a new translate table (readers never see a table
    being filled).
    """

    def __init__(self) -> None:
        self._table: dict[int, str] = _ascii_table()
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None

    def _classify(self, chars: Iterable[str]) -> None:
        with self._lock:
            unknown = sorted(ch for ch in set(chars) if ord(ch) not in self._table)
            if not unknown:
                return
            table = dict(self._table)
            probe_chars = []
            for ch in unknown:
                if 0xD800 <= ord(ch) <= 0xDFFF:
                    table[ord(ch)] = " "  # a lone surrogate cannot reach SQLite at all: a separator
                else:
                    probe_chars.append(ch)
            if probe_chars:
                db = self._probe_db()
                with db:
                    db.executemany(
                        "INSERT INTO probe (rowid, c) VALUES (?, ?)",
                        [(i, f"a{ch}a") for i, ch in enumerate(probe_chars)],
                    )
                    found: dict[int, list[str]] = {}
                    for doc, term in db.execute("SELECT doc, term FROM probe_vocab ORDER BY doc, offset"):
                        found.setdefault(doc, []).append(term)
                    db.execute("INSERT INTO probe (probe) VALUES ('delete-all')")
                for i, ch in enumerate(probe_chars):
                    terms = found.get(i, [])
                    if len(terms) == 1 and terms[0].startswith("a") and terms[0].endswith("a"):
                        table[ord(ch)] = terms[0][1:-1]  # a token character and what it folds to
                    elif terms == ["a", "a"]:
                        table[ord(ch)] = " "
                    else:  # pragma: no cover - unicode61 is per code point; anything else is a new SQLite
                        raise RuntimeError(f"FTS5 tokenised {('a' + ch + 'a')!r} as {terms!r}")
            self._table = table

    def _probe_db(self) -> sqlite3.Connection:
        if self._probe is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.execute(f"CREATE VIRTUAL TABLE probe USING fts5 (c, content='', tokenize='{FTS5_TOKENIZE}')")
            db.execute("CREATE VIRTUAL TABLE probe_vocab USING fts5vocab (probe, instance)")
            self._probe = db
        return self._probe

    def tokens(self, text: str) -> list[str]:
        """The tokens FTS5 indexes for ``text``, folded, in order (each one at most 2046 UTF-8 bytes)."""
        if not text.isascii() and not self._table.keys() >= set(map(ord, text)):
            self._classify(text)
        out = text.translate(self._table).split()
        # A token of up to 511 characters is at most 2044 UTF-8 bytes: only longer ones need measuring.
        return [_cut(tok) for tok in out] if max(map(len, out), default=0) > MAX_LEXEME_BYTES // 4 else out


def _cut(token: str) -> str:
    data = token.encode()
    if len(data) <= MAX_LEXEME_BYTES:
        return token
    return data[:MAX_LEXEME_BYTES].decode(errors="ignore")


#: The process's tokenizer (its cache grows with the characters seen, a few KB for real text).
TOKENIZER = Tokenizer()


def tokens(text: str) -> list[str]:
    """FTS5's tokens for ``text`` (see :class:`Tokenizer`)."""
    return TOKENIZER.tokens(text)


def _lexeme(token: str) -> str:
    """A token as a quoted lexeme of tsvector/tsquery input: quotes doubled, backslashes escaped."""
    if "'" not in token and "\\" not in token:
        return f"'{token}'"
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


#: One token and its position in a tsvector literal; the server merges a lexeme's repeats (``'a':2 'a':5``
#: is ``'a':2,5``), so the common column needs no grouping here.
_ENTRY = "'{}':{}".format


def column_vector(text: str) -> str:
    """The ``tsvector`` literal of one column's text (bind it and cast with ``::tsvector``).

    Positions start at :data:`FIRST_POSITION` so that columns joined with ``||`` keep a gap (see the module
    docstring); they stop at PostgreSQL's 16383. A column of at most 256 tokens whose tokens need no
    quoting (the common one) is one ``'token':position`` entry a token, joined in C: a third of the
    grouping's time, which a team import pays for five columns of every card.
    """
    toks = tokens(text)
    if len(toks) <= 256:
        joined = " ".join(toks)
        if "'" not in joined and "\\" not in joined:
            return " ".join(map(_ENTRY, toks, range(FIRST_POSITION, FIRST_POSITION + len(toks))))
    positions: dict[str, list[str]] = {}
    for index, token in enumerate(toks, FIRST_POSITION):
        positions.setdefault(token, []).append(str(index))
    if len(toks) + FIRST_POSITION > MAX_POSITION or max(map(len, positions.values()), default=0) > 256:
        for token, where in positions.items():  # PostgreSQL's limits (rare: very long text)
            positions[token] = list(dict.fromkeys(str(min(int(p), MAX_POSITION)) for p in where))[:256]
    return " ".join(f"{_lexeme(tok)}:{','.join(pos)}" for tok, pos in positions.items())


def card_vectors(columns: Sequence[str]) -> tuple[str, ...]:
    """The five ``card_text`` column literals for (title, excerpt, provider, topics, related)."""
    if len(columns) != len(FTS_COLUMNS):
        raise ValueError(f"expected {len(FTS_COLUMNS)} full-text columns {FTS_COLUMNS}, got {len(columns)}")
    return tuple(column_vector(text) for text in columns)


# --- queries -------------------------------------------------------------------------------------------


def _text_query(text: str, prefix: bool) -> str | None:
    toks = tokens(text)
    if not toks:
        return None
    parts = [_lexeme(tok) for tok in toks]
    if prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def tsquery(term: Term) -> str | None:
    """The ``tsquery`` literal for a term made only of words and phrases, else ``None``.

    The same contract as ``search._fts``: ``None`` for a word or phrase without tokens (the caller matches
    every card) and for a group holding any other kind of term (the caller compiles it part by part). Bind
    the result and use ``doc @@ %s::tsquery``.
    """
    if isinstance(term, Word):
        return _text_query(term.text, term.prefix)
    if isinstance(term, Phrase):
        return _text_query(term.text, False)
    if isinstance(term, And):
        positive, negative = [], []
        for sub in term.terms:
            query = tsquery(sub.term if isinstance(sub, Not) else sub)
            if query is None:
                return None
            (negative if isinstance(sub, Not) else positive).append(query)
        return and_query(positive, negative) if positive else None
    if isinstance(term, Or):
        parts = [tsquery(sub) for sub in term.terms]
        return None if None in parts else or_query([p for p in parts if p is not None])
    return None


def and_query(positive: Sequence[str], negative: Sequence[str] = ()) -> str:
    """``(p1) & (p2) & !(n1)``: what ``search._fts_and`` makes for FTS5 (``… NOT …``)."""
    if not positive:
        raise ValueError("an AND of full-text terms needs a positive term (FTS5's NOT is binary)")
    return " & ".join([*(f"({p})" for p in positive), *(f"!({n})" for n in negative)])


def or_query(parts: Sequence[str]) -> str:
    """``(p1) | (p2)``."""
    return " | ".join(f"({p})" for p in parts)
