"""pg_fulltext against SQLite FTS5 itself: the same tokens, and the same matches on a real cluster.

The oracle is an in-memory sqlite3 FTS5 table with the SQLite backend's tokenizer and five columns (title,
excerpt, provider, topics, related); its queries are FTS5 strings built the way the SQLite backend builds
them (quoted strings, ``*``, AND/OR/NOT). The PostgreSQL side is the real ``card_text`` table of
pg_schema, filled with pg_fulltext's vectors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.backend import pg_fulltext, pg_schema
from curator.core.backend.pg_fulltext import FTS5_TOKENIZE, FTS_COLUMNS, Tokenizer, tsquery
from curator.core.query import And, Not, Or, Phrase, Term, Word

# A small alphabet so words collide: ASCII, precomposed and decomposed accents, case pairs outside ASCII,
# ligatures, CJK, private use, emoji, NUL and punctuation that FTS5 treats as separators.
LETTERS = "abAB1é" + "e\u0301" + "ÉßİıǅﬁΣσςЖж中①\ue000٣"
SEPARATORS = [" ", "-", ", ", "’", "\u00a0", "—", "'", "\x00", "😀", "“"]

words = st.text(alphabet=LETTERS, min_size=1, max_size=3)
texts = st.lists(st.tuples(words, st.sampled_from(SEPARATORS)), max_size=8).map(
    lambda parts: "".join(w + s for w, s in parts)
)
docs_strategy = st.lists(st.tuples(*(texts for _ in FTS_COLUMNS)), min_size=1, max_size=6)


def leaves(vocab: list[str]) -> st.SearchStrategy[Term]:
    word = st.sampled_from(vocab) | words
    return st.one_of(
        st.builds(Word, word, st.booleans()),
        st.builds(lambda ws: Phrase(" ".join(ws)), st.lists(word, min_size=2, max_size=3)),
    )


def terms(vocab: list[str]) -> st.SearchStrategy[Term]:
    leaf = leaves(vocab)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: And((a, b)), inner, inner),
            st.builds(lambda a, b: And((a, Not(b))), inner, inner),
            st.builds(lambda a, b: Or((a, b)), inner, inner),
        ),
        max_leaves=4,
    )


def fts5_query(term: Term) -> str:
    """The FTS5 query string for a text term, as the SQLite backend writes it."""
    if isinstance(term, (Word, Phrase)):
        quoted = '"' + term.text.replace('"', '""') + '"'
        return quoted + ("*" if isinstance(term, Word) and term.prefix else "")
    if isinstance(term, And):
        pos = [f"({fts5_query(t)})" for t in term.terms if not isinstance(t, Not)]
        neg = [f" NOT ({fts5_query(t.term)})" for t in term.terms if isinstance(t, Not)]
        return (f"({' AND '.join(pos)})" if neg else " AND ".join(pos)) + "".join(neg)
    if isinstance(term, Or):
        return " OR ".join(f"({fts5_query(t)})" for t in term.terms)
    raise AssertionError(term)


def has_empty_leaf(term: Term) -> bool:
    if isinstance(term, (Word, Phrase)):
        return not pg_fulltext.tokens(term.text)
    if isinstance(term, Not):
        return has_empty_leaf(term.term)
    assert isinstance(term, (And, Or))
    return any(has_empty_leaf(t) for t in term.terms)


@pytest.fixture
def sqlite_fts() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE VIRTUAL TABLE idx USING fts5 ({', '.join(FTS_COLUMNS)}, tokenize='{FTS5_TOKENIZE}')")
    db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab (idx, instance)")
    yield db
    db.close()


@pytest.fixture
def pg_text(pg_url: str) -> Iterator[psycopg.Connection]:
    conn = psycopg.connect(pg_url, autocommit=True)
    pg_schema.open_library(conn)
    conn.execute(
        "INSERT INTO card (id, path, size, mtime_ns, sha256, imported_at) "
        "SELECT i, '/c/' || i, 0, 0, '', 0 FROM generate_series(1, 6) AS i"
    )
    yield conn
    conn.close()


def _fill(sqlite_db: sqlite3.Connection, pg: psycopg.Connection, docs: list[tuple[str, ...]]) -> None:
    sqlite_db.execute("DELETE FROM idx")
    sqlite_db.executemany(
        f"INSERT INTO idx (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
        [(i, *doc) for i, doc in enumerate(docs, 1)],
    )
    pg.execute("DELETE FROM card_text")
    with pg.cursor() as cur:
        cur.executemany(
            f"INSERT INTO card_text (card_id, {', '.join(FTS_COLUMNS)}) VALUES "
            "(%s, %s::tsvector, %s::tsvector, %s::tsvector, %s::tsvector, %s::tsvector)",
            [(i, *pg_fulltext.card_vectors(doc)) for i, doc in enumerate(docs, 1)],
        )


RESULTS = {"compared": 0, "matched": 0, "empty_leaf": 0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), docs=docs_strategy)
def test_matches_equal_fts5(
    sqlite_fts: sqlite3.Connection,
    pg_text: psycopg.Connection,
    data: st.DataObject,
    docs: list[tuple[str, ...]],
) -> None:
    vocab = [w for doc in docs for col in doc for w in pg_fulltext.tokens(col)] or ["a"]
    term = data.draw(terms(vocab))
    if has_empty_leaf(term):
        # No token: the search compiler matches every card for such a leaf on both backends (never MATCH).
        RESULTS["empty_leaf"] += 1
        assert tsquery(term) is None
        return
    _fill(sqlite_fts, pg_text, docs)
    expected = {
        r[0] for r in sqlite_fts.execute("SELECT rowid FROM idx WHERE idx MATCH ?", (fts5_query(term),))
    }
    query = tsquery(term)
    assert query is not None
    got = {r[0] for r in pg_text.execute("SELECT card_id FROM card_text WHERE doc @@ %s::tsquery", (query,))}
    assert got == expected, (term, query, docs)
    RESULTS["compared"] += 1
    RESULTS["matched"] += bool(expected)


def test_matches_equal_fts5_exercised() -> None:
    """The property above compared hundreds of queries that matched something (runs after it)."""
    if RESULTS["compared"] == 0:
        pytest.skip("run with test_matches_equal_fts5")
    print(f"\nfull text vs FTS5: {RESULTS}")
    assert RESULTS["compared"] >= 250 and RESULTS["matched"] >= 100, RESULTS


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=40) | texts)
def test_tokens_equal_fts5_vocabulary(sqlite_fts: sqlite3.Connection, text: str) -> None:
    """Any text, any Unicode: tokens() is what FTS5 indexes, in order (its own vocabulary says so)."""
    text = "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF)
    sqlite_fts.execute("DELETE FROM idx")
    sqlite_fts.execute("INSERT INTO idx (rowid, title) VALUES (1, ?)", (text,))
    indexed = [t for _, t in sorted(sqlite_fts.execute("SELECT offset, term FROM vocab WHERE col = 'title'"))]
    assert Tokenizer().tokens(text) == indexed


def test_phrases_never_cross_columns(sqlite_fts: sqlite3.Connection, pg_text: psycopg.Connection) -> None:
    docs = [("the end", "start here", "", "ai, vision", "")]
    _fill(sqlite_fts, pg_text, docs)
    for text, hits in (("end start", set()), ("the end", {1}), ("ai vision", {1}), ("here ai", set())):
        query = tsquery(Phrase(text))
        got = {
            r[0] for r in pg_text.execute("SELECT card_id FROM card_text WHERE doc @@ %s::tsquery", (query,))
        }
        fts5 = {r[0] for r in sqlite_fts.execute("SELECT rowid FROM idx WHERE idx MATCH ?", (f'"{text}"',))}
        assert got == fts5 == hits, text


def test_user_text_is_never_tsquery_syntax(pg_text: psycopg.Connection) -> None:
    """Operators, quotes and backslashes in a search are text; nothing raises a tsquery syntax error."""
    docs = [("it's a & b | c", "back\\slash :* !not", "", "", "")]
    pg_text.execute("DELETE FROM card_text")
    pg_text.execute(
        f"INSERT INTO card_text (card_id, {', '.join(FTS_COLUMNS)}) VALUES (1, %s, %s, %s, %s, %s)",
        pg_fulltext.card_vectors(docs[0]),
    )
    for text in ("it's", "a & b", "b | c", "!not", "slash:*", "back\\slash", "'", "x' | 'y"):
        query = tsquery(Word(text))
        if query is None:
            continue
        rows = pg_text.execute("SELECT card_id FROM card_text WHERE doc @@ %s::tsquery", (query,)).fetchall()
        assert rows == ([] if text == "x' | 'y" else [(1,)]), (text, query)


def test_long_tokens_are_cut_on_both_sides() -> None:
    token = "é" * 3000
    (cut,) = pg_fulltext.tokens(token)
    assert len(cut.encode()) <= pg_fulltext.MAX_LEXEME_BYTES
    assert tsquery(Word(token)) == f"'{cut}'"


def test_card_vectors_needs_five_columns() -> None:
    with pytest.raises(ValueError, match="expected 5 full-text columns"):
        pg_fulltext.card_vectors(("a", "b"))


def _grouped_vector(text: str) -> str:
    """column_vector as it was built before its fast path: each lexeme once, its positions grouped."""
    positions: dict[str, list[str]] = {}
    for index, token in enumerate(pg_fulltext.tokens(text), pg_fulltext.FIRST_POSITION):
        positions.setdefault(token, []).append(str(index))
    return " ".join(f"{pg_fulltext._lexeme(tok)}:{','.join(pos)}" for tok, pos in positions.items())


@pytest.mark.parametrize("text", [
    "", "one", "a a a b a", "The cat saw the other cat, then the cat left.", "Zürich über Straße ÉCOLE école",
    " ".join(["word"] * 256), " ".join(["word"] * 257), "it's a back\\slash", "x " * 300,
])  # fmt: skip
def test_a_column_vector_is_the_grouped_one_on_the_server(pg_text: psycopg.Connection, text: str) -> None:
    """The fast literal (a token an entry, repeats merged by the server's tsvector input) is the same value."""
    fast = pg_fulltext.column_vector(text)
    same = pg_text.execute("SELECT %s::tsvector = %s::tsvector, %s::tsvector::text", (fast, _grouped_vector(text), fast))
    equal, shown = same.fetchone()
    assert equal, (fast, shown)
