"""The query language compiled for SQLite: query terms -> peewee expressions over ``schema.Card``.

The terms come parsed (``curator.core.query``); the expressions are run by the SQLite backend on its own
connection. The sort keys are ``curator.core.search.SORT_KEYS``; their columns are SORT_COLUMNS here.

Every user value reaches SQLite as a bound parameter; full-text terms become one FTS5 query
string (itself a parameter) in which each word is a quoted FTS5 string, so user text is never
FTS5 syntax (``NEAR``, ``^``, ``col:``, ``*`` inside a word are all plain text).

Rules for absent values (the CLI contract, "Query language"):

- ``published:false`` matches cards without ``published`` too;
- a card without ``heat`` counts as heat -1 ("not rated yet") in every heat comparison, so
  ``heat:-1`` and ``heat<10`` match it and ``heat>=0`` does not;
- comparisons on ``quality`` and ``date`` never match a card without that value, and neither
  do ``category:``/``type:``/``provider:``; negating any term (``-quality>=60``) matches exactly
  the cards the term does not match, cards without the value included.

Full-text terms with no searchable characters (``"++"``, ``*``) match every card: FTS5 would
otherwise match nothing alone but ignore them next to other words.
"""

from __future__ import annotations

import operator
import string
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import peewee
from peewee import SQL, fn

from curator.core.query import And, Compare, Field, Flag, Not, Or, Phrase, Term, Word
from curator.core.schema import Card, CardIndex, CardTopic

# A compiled term and whether it can be NULL (SQL three-valued logic): NOT of a NULL is NULL,
# so a negation must first turn NULL into false ("does not match").
_Compiled = tuple[Any, bool]

_TRUE = SQL("1")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Card.date is "YYYY-MM-DDTHH:MM:SS"; every date in the period a (partial) date names starts with
# that text, and "~" sorts after all of those characters, so PERIOD + "~" ends the period.
_PERIOD_END = "~"

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}

#: ``--sort`` keys (``search.SORT_KEYS``) and the columns they order by.
SORT_COLUMNS: dict[str, peewee.Field] = {
    "title": Card.title,
    "date": Card.date,
    "quality": Card.quality,
    "heat": Card.heat,
    "provider": Card.provider_name,
    "category": Card.category,
    "published": Card.published,
    "path": Card.path,
    "dirty": Card.dirty,  # the list's Changed column
    "problems": Card.problems,  # the list's Problems column (count of problems)
    "id": Card.id,
}


def where(term: Term | None, *, in_order: bool = False) -> Any:
    """The peewee expression selecting the cards ``term`` matches (all cards for ``None``).

    Use it as ``Card.select().where(where(parse(text)))`` and run that on the backend's database.

    ``in_order``: full-text matches are tested card by card (``+id IN (matches)``) instead of driving
    the scan, so SQLite walks the ORDER BY's index and stops at the LIMIT. Right for a page of a common
    word (the first 200 of 94k matches by date: ~25 ms instead of ~80 ms of looking up and sorting every
    match); wrong for a rare one, whose matches are cheaper to sort than the index is to walk. The
    backend chooses with :func:`leading_match` (see ``SqliteBackend.rows``). Same cards either way.
    """
    if term is None:
        return _TRUE
    return _compile(term, in_order)[0]


def fulltext_only(term: Term | None) -> str | None:
    """The FTS5 query string when ``term`` is full text alone (words, phrases, prefixes, AND/OR/NOT of
    them), so its cards are exactly the index rows it matches; else ``None``."""
    return None if term is None else _fts(term)


def leading_match(term: Term | None) -> str | None:
    """The FTS5 query every card ``term`` matches must also match (its top-level full-text conjunct), or
    ``None`` when the term has none: how common it is bounds how common the whole term can be."""
    if term is None:
        return None
    if (whole := _fts(term)) is not None:
        return whole
    if isinstance(term, And):
        positive = [fts for sub in term.terms if not isinstance(sub, Not) and (fts := _fts(sub)) is not None]
        return _fts_and(positive, []) if positive else None
    return None


def _compile(term: Term, in_order: bool = False) -> _Compiled:
    if isinstance(term, (Word, Phrase)):
        fts = _fts(term)
        return (_match(fts, in_order) if fts is not None else _TRUE), False
    if isinstance(term, And):
        return _compile_group(term.terms, operator.and_, _fts_and, in_order)
    if isinstance(term, Or):
        return _compile_group(term.terms, operator.or_, _fts_or, in_order)
    if isinstance(term, Not):
        inner, nullable = _compile(term.term, in_order)
        return ~(fn.coalesce(inner, 0) if nullable else inner), False
    if isinstance(term, Field):
        return _field(term.name, term.value)
    if isinstance(term, Flag):
        return _flag(term.name, term.value)
    if isinstance(term, Compare):
        return _compare(term.field, term.op, term.value)
    raise TypeError(f"not a query term: {term!r}")


def _compile_group(
    terms: Sequence[Term],
    join: Callable[[Any, Any], Any],
    fts_join: Callable[[list[str], list[str]], str],
    in_order: bool,
) -> _Compiled:
    """AND/OR a group, folding its full-text terms into a single MATCH (one index lookup)."""
    positive: list[str] = []
    negative: list[str] = []
    negative_terms: list[Term] = []
    parts: list[_Compiled] = []
    for term in terms:
        if isinstance(term, Not) and join is operator.and_ and (fts := _fts(term.term)) is not None:
            negative.append(fts)  # "a -b" is the FTS5 query "a NOT b"
            negative_terms.append(term)
        elif (fts := _fts(term)) is not None:
            positive.append(fts)
        else:
            parts.append(_compile(term, in_order))
    if positive:
        parts.insert(0, (_match(fts_join(positive, negative), in_order), False))
    else:  # FTS5 has no "NOT b" on its own: each negated term gets its own subquery
        parts.extend(_compile(term, in_order) for term in negative_terms)
    # Terms that match every card (no searchable text) drop out of an AND and decide an OR.
    if join is operator.or_ and any(expr is _TRUE for expr, _ in parts):
        return _TRUE, False
    parts = [part for part in parts if part[0] is not _TRUE] or [(_TRUE, False)]
    return _balanced(parts, join)


def _balanced(parts: list[_Compiled], join: Callable[[Any, Any], Any]) -> _Compiled:
    """Join pairwise so the SQL tree stays shallow (SQLite caps expression depth at 1000)."""
    while len(parts) > 1:
        paired = [
            (join(a[0], b[0]), a[1] or b[1]) for a, b in zip(parts[0::2], parts[1::2])
        ]
        parts = paired + parts[len(paired) * 2 :]
    return parts[0]


# --- full text -------------------------------------------------------------------------------


def _has_tokens(text: str) -> bool:
    """Whether FTS5's unicode61 tokenizer finds a token: letters, numbers or private-use chars."""
    return any(ch.isalnum() or unicodedata.category(ch) == "Co" for ch in text)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _fts(term: Term) -> str | None:
    """The FTS5 query for a term made only of words and phrases, else ``None``."""
    if isinstance(term, Word):
        if not _has_tokens(term.text):
            return None
        return _fts_string(term.text) + ("*" if term.prefix else "")
    if isinstance(term, Phrase):
        return _fts_string(term.text) if _has_tokens(term.text) else None
    if isinstance(term, And):
        positive, negative = [], []
        for sub in term.terms:
            fts = _fts(sub.term if isinstance(sub, Not) else sub)
            if fts is None:
                return None
            (negative if isinstance(sub, Not) else positive).append(fts)
        return _fts_and(positive, negative) if positive else None
    if isinstance(term, Or):
        parts = [_fts(sub) for sub in term.terms]
        return None if None in parts else _fts_or([p for p in parts if p is not None], [])
    return None


def _fts_and(positive: list[str], negative: list[str]) -> str:
    text = " AND ".join(f"({p})" for p in positive)
    # Parentheses first, so NOT applies to the whole conjunction whatever FTS5's precedence.
    return f"({text})" + "".join(f" NOT ({n})" for n in negative) if negative else text


def _fts_or(positive: list[str], negative: list[str]) -> str:
    assert not negative  # _compile_group folds negations only into AND groups
    return " OR ".join(f"({p})" for p in positive)


#: ``+id``: the same value, but no index can drive a scan from it (SQLite's unary-plus idiom).
_ID_UNINDEXED = peewee.NodeList((SQL("+"), Card.id), glue="")


def _match(fts_query: str, in_order: bool = False) -> Any:
    matches = CardIndex.select(CardIndex.rowid).where(CardIndex.match(fts_query))
    return (_ID_UNINDEXED if in_order else Card.id).in_(matches)


# --- fields, flags, comparisons --------------------------------------------------------------


def _field(name: str, value: str) -> _Compiled:
    # category/type/provider columns are COLLATE NOCASE, so "=" is case-insensitive and indexed.
    if name in ("category", "type"):
        return getattr(Card, name) == value, True
    if name == "provider":
        return (Card.provider_name == value) | (Card.provider_domain == value), True
    if name == "topic":
        topics = CardTopic.select(CardTopic.card).where(CardTopic.name == value)
        return Card.id.in_(topics), False
    if name == "path":
        # SQLite's lower() folds ASCII only; folding the value the same way keeps them comparable.
        return fn.instr(fn.lower(Card.path), value.translate(_ASCII_LOWER)) > 0, False
    raise ValueError(f"unknown text field {name!r}")


def _flag(name: str, value: bool) -> _Compiled:
    if name == "published":
        if value:
            return Card.published == True, True
        return (Card.published == False) | Card.published.is_null(), False
    if name == "problems":
        return (Card.problems > 0) if value else (Card.problems == 0), False
    if name in ("dirty", "conflict", "missing"):
        return getattr(Card, name) == value, False
    raise ValueError(f"unknown flag {name!r}")


def _compare(name: str, op: str, value: int | str) -> _Compiled:
    if op not in _OPS:
        raise ValueError(f"unknown operator {op!r}")
    if name == "quality":
        return _OPS[op](Card.quality, value), True
    if name == "heat":
        expr = _OPS[op](Card.heat, value)
        if _OPS[op](-1, value):  # a card without heat is "not rated yet", i.e. heat -1
            return expr | Card.heat.is_null(), False
        return expr, True
    if name == "date":
        start, end = str(value), str(value) + _PERIOD_END
        if op == "=":
            return (Card.date >= start) & (Card.date < end), True
        bound = {"<": Card.date < start, "<=": Card.date < end, ">": Card.date >= end}
        return bound.get(op, Card.date >= start), True
    raise ValueError(f"unknown comparison field {name!r}")


def order_by(sort: Sequence[tuple[str, bool]]) -> list[Any]:
    """The ORDER BY list for ``(key, descending)`` pairs: NULLs last either way, id breaks ties.

    The id tie-break runs in the direction of the last key, so a one-key sort walks the
    ``(key, id)`` index in one direction. Titles sort case-insensitively.
    """
    ordering: list[Any] = []
    descending = False
    for key, descending in sort:
        if key not in SORT_COLUMNS:
            raise ValueError(f"unknown sort key '{key}' (use one of: {', '.join(SORT_COLUMNS)})")
        if key == "id":
            ordering.append(Card.id.desc() if descending else Card.id.asc())
            return ordering  # ids are unique: nothing after them can matter
        column: Any = SORT_COLUMNS[key]
        if key == "title":  # the other text keys are NOCASE columns already
            column = column.collate("NOCASE")
        ordering.append(column.desc(nulls="LAST") if descending else column.asc(nulls="LAST"))
    ordering.append(Card.id.desc() if descending else Card.id.asc())
    return ordering
