"""U+0000 on PostgreSQL: its ``text`` cannot hold the character, which SQLite and YAML (``"\\0"``) can.

A card whose value holds a NUL is stored whole all the same. Its mapping (``card_doc.doc``, typed
``json``) keeps it, escaped reversibly: the server's JSON operators (``doc -> 'title'``, which edits use)
refuse a document holding ``\\u0000`` ("cannot be converted to text"), so inside the stored document each
NUL of a string (key or value) is :data:`ESC` ``0`` and each ESC (a Unicode noncharacter, which no real
text needs) is ESC ESC. :func:`to_server` and :func:`from_server` are the two directions; a document with
neither character passes unchanged, so the usual card costs one substring test. Pending edits and the
journal are plain JSON text columns, where ``\\u0000`` is six ASCII characters: they need nothing.
Write-back, ``show``, undo and the checks read the decoded mapping, so a file is never rewritten with a
value it did not ask for.

What cannot hold the character at all are the derived copies: the list's columns, child rows (images,
related items) and the full text. There each NUL becomes :data:`STAND_IN` (U+FFFD, the replacement
character: visible in the list, and a word separator for the full text just as NUL is for SQLite's
tokenizer, so a search finds the same words on both backends).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curator.core.store_rows import CardRecord

#: What a NUL becomes in a text column or the full text of a team library.
STAND_IN = "\ufffd"
#: How a NUL reads inside a card's JSON text (dumps always escapes control characters).
ESCAPED = "\\u0000"
#: The escape character of a stored document: U+FFFE, a noncharacter (kept raw by dumps).
ESC = "\ufffe"


def clean(value: Any) -> Any:
    """``value`` with every NUL of its strings (also inside tuples and lists) replaced by STAND_IN."""
    if isinstance(value, str):
        return value.replace("\0", STAND_IN) if "\0" in value else value
    if isinstance(value, tuple):
        return tuple(clean(v) for v in value)
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def clean_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Statement parameters (one tuple a row) fit for PostgreSQL text."""
    return [tuple(clean(v) for v in row) for row in rows]


def _strings(value: Any, change: Any) -> Any:
    """``value`` (decoded JSON) with ``change`` applied to every string, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {change(k): _strings(v, change) for k, v in value.items()}
    return value


def _escape(text: str) -> str:
    return text.replace(ESC, ESC + ESC).replace("\0", ESC + "0")


def _unescape(text: str) -> str:
    if ESC not in text:
        return text
    out: list[str] = []
    i = 0
    while (j := text.find(ESC, i)) >= 0:
        out.append(text[i:j])
        nxt = text[j + 1 : j + 2]
        out.append("\0" if nxt == "0" else ESC)  # ESC ESC; a lone ESC (never written) stays itself
        i = j + (2 if nxt in ("0", ESC) else 1)
    out.append(text[i:])
    return "".join(out)


def to_server(doc: str) -> str:
    """A mapping's JSON text as the team library stores it (see the module docstring)."""
    if ESCAPED not in doc and ESC not in doc:
        return doc
    from curator.core.store_rows import dumps  # here: a read that meets no escape never needs it

    return dumps(_strings(json.loads(doc), _escape))


def from_server(doc: str) -> str:
    """The stored JSON text (a whole mapping or one value of it) back as the card's own JSON text."""
    if ESC not in doc:
        return doc
    from curator.core.store_rows import dumps

    return dumps(_strings(json.loads(doc), _unescape))


def clean_record(record: CardRecord) -> CardRecord:
    """A card record PostgreSQL can store: NUL-free columns, children and full text; the doc escaped.

    Cheap for the usual card: a record holds a NUL only where its mapping's JSON text holds the escape,
    so every other record is returned as it is without looking at its values.
    """
    if ESCAPED not in record.doc and ESC not in record.doc:
        return record
    return record._replace(
        values=clean(tuple(record.values)), doc=to_server(record.doc), topics=clean(list(record.topics)),
        images=clean(list(record.images)), related=clean(list(record.related)), fts=clean(tuple(record.fts)),
    )  # fmt: skip
