"""The query language compiled for PostgreSQL: query terms -> an SQL condition and its bound parameters.

The twin of :mod:`sqlite_search`, rule for rule (absent values, heat -1, date periods, negation that first
turns NULL into false, full-text groups folded into one index lookup), so a query selects the same cards
on both backends. What differs is only how each rule is spelled:

- SQLite's ``COLLATE NOCASE`` columns (category, type, provider, topics, and the title sort) compare and
  sort through ``curator_fold`` (ASCII-only folding, as NOCASE; see pg_schema), which has indexes;
- full text is ``card_text.doc @@ tsquery`` with the tsquery built by :mod:`pg_fulltext` from SQLite's own
  tokenizer, so the words found are FTS5's;
- ``path:`` is ``strpos(curator_fold(path), folded value) > 0`` (SQLite's ``instr(lower(path), …)``).

Every user value is a bound parameter (``%s``); user text never becomes SQL or tsquery syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curator.core.backend import pg_fulltext
from curator.core.backend.pg_schema import DIRTY_IDS
from curator.core.query import And, Compare, Field, Flag, Not, Or, Phrase, Term, Word

#: (SQL text, parameters, whether the condition can be NULL).
Compiled = tuple[str, list[Any], bool]

_TRUE = "TRUE"
_OPS = frozenset({"<", "<=", ">", ">=", "="})
_PERIOD_END = "~"  # as in sqlite_search: every date text of a period sorts before PERIOD + "~"
_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

#: ``--sort`` keys and the expressions they order by (NOCASE keys folded as SQLite's collation does).
SORT_EXPRESSIONS: dict[str, str] = {
    "title": "curator_fold(title)",
    "date": "date",
    "quality": "quality",
    "heat": "heat",
    "provider": "curator_fold(provider_name)",
    "category": "curator_fold(category)",
    "published": "published",
    "path": "path",
    "dirty": "dirty",
    "problems": "problems",
    "id": "id",
}


def where(term: Term | None) -> tuple[str, list[Any]]:
    """The condition (over ``card``) selecting the cards ``term`` matches, and its parameters."""
    if term is None:
        return _TRUE, []
    sql, params, _ = _compile(term)
    return sql, params


def _match(query: str) -> Compiled:
    return "id IN (SELECT card_id FROM card_text WHERE doc @@ %s::tsquery)", [query], False


def _compile(term: Term) -> Compiled:
    if isinstance(term, (Word, Phrase)):
        query = pg_fulltext.tsquery(term)
        return _match(query) if query is not None else (_TRUE, [], False)
    if isinstance(term, And):
        return _group(term.terms, "AND")
    if isinstance(term, Or):
        return _group(term.terms, "OR")
    if isinstance(term, Not):
        sql, params, nullable = _compile(term.term)
        return (f"NOT coalesce({sql}, FALSE)" if nullable else f"NOT ({sql})"), params, False
    if isinstance(term, Field):
        return _field(term.name, term.value)
    if isinstance(term, Flag):
        return _flag(term.name, term.value)
    if isinstance(term, Compare):
        return _compare(term.field, term.op, term.value)
    raise TypeError(f"not a query term: {term!r}")


def _group(terms: Sequence[Term], join: str) -> Compiled:
    """AND/OR a group, its full-text terms folded into one tsquery (one index lookup), as on SQLite."""
    positive: list[str] = []
    negative: list[str] = []
    negative_terms: list[Term] = []
    parts: list[Compiled] = []
    for term in terms:
        if isinstance(term, Not) and join == "AND" and (query := pg_fulltext.tsquery(term.term)) is not None:
            negative.append(query)
            negative_terms.append(term)
        elif (query := pg_fulltext.tsquery(term)) is not None:
            positive.append(query)
        else:
            parts.append(_compile(term))
    if positive:
        joined = (
            pg_fulltext.and_query(positive, negative) if join == "AND" else pg_fulltext.or_query(positive)
        )
        parts.insert(0, _match(joined))
    else:  # no positive full-text term: each negated one is its own condition (as FTS5 needs there)
        parts.extend(_compile(term) for term in negative_terms)
    if join == "OR" and any(sql == _TRUE for sql, _, _ in parts):
        return _TRUE, [], False
    parts = [part for part in parts if part[0] != _TRUE] or [(_TRUE, [], False)]
    if len(parts) == 1:
        return parts[0]
    params = [p for _, ps, _ in parts for p in ps]
    return "(" + f" {join} ".join(f"({sql})" for sql, _, _ in parts) + ")", params, any(n for *_, n in parts)


def _field(name: str, value: str) -> Compiled:
    if name in ("category", "type"):
        return f"curator_fold({name}) = curator_fold(%s)", [value], True
    if name == "provider":
        return (
            "(curator_fold(provider_name) = curator_fold(%s) OR curator_fold(provider_domain) = curator_fold(%s))",
            [value, value],
            True,
        )
    if name == "topic":
        return (
            "id IN (SELECT card_id FROM card_topic WHERE curator_fold(name) = curator_fold(%s))",
            [value],
            False,
        )
    if name == "path":
        return "strpos(curator_fold(path), %s) > 0", [value.translate(_FOLD)], False
    raise ValueError(f"unknown text field {name!r}")


def _flag(name: str, value: bool) -> Compiled:
    if name == "published":
        return (
            ("published = TRUE", [], True)
            if value
            else ("(published = FALSE OR published IS NULL)", [], False)
        )
    if name == "problems":
        return ("problems > 0" if value else "problems = 0"), [], False
    if name == "dirty" and value:  # through pending_edit's key: card.dirty has no index (pg_schema)
        return f"(dirty AND {DIRTY_IDS})", [], False
    if name in ("dirty", "conflict", "missing"):
        return (name if value else f"NOT {name}"), [], False
    raise ValueError(f"unknown flag {name!r}")


def _holds(op: str, left: int, right: int | str) -> bool:
    return bool({"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
                 "=": left == right}[op])  # type: ignore[operator]  # fmt: skip


def _compare(name: str, op: str, value: int | str) -> Compiled:
    if op not in _OPS:
        raise ValueError(f"unknown operator {op!r}")
    if name == "quality":
        return f"quality {op} %s", [value], True
    if name == "heat":
        if isinstance(value, int) and _holds(op, -1, value):  # no heat is "not rated yet": heat -1
            return f"(heat {op} %s OR heat IS NULL)", [value], False
        return f"heat {op} %s", [value], True
    if name == "date":
        start, end = str(value), str(value) + _PERIOD_END
        if op == "=":
            return "(date >= %s AND date < %s)", [start, end], True
        bound = {"<": ("date < %s", start), "<=": ("date < %s", end), ">": ("date >= %s", end)}
        sql, param = bound.get(op, ("date >= %s", start))
        return sql, [param], True
    raise ValueError(f"unknown comparison field {name!r}")


def order_by(sort: Sequence[tuple[str, bool]]) -> str:
    """The ORDER BY list for ``(key, descending)`` pairs: NULLs last either way, id breaks ties last."""
    if not sort:
        return "id"
    ordering: list[str] = []
    descending = False
    for key, descending in sort:
        if key not in SORT_EXPRESSIONS:
            raise ValueError(f"unknown sort key '{key}' (use one of: {', '.join(SORT_EXPRESSIONS)})")
        if key == "id":
            ordering.append("id DESC" if descending else "id ASC")
            return ", ".join(ordering)
        ordering.append(f"{SORT_EXPRESSIONS[key]} {'DESC' if descending else 'ASC'} NULLS LAST")
    ordering.append("id DESC" if descending else "id ASC")
    return ", ".join(ordering)
