"""Card rows as plain tuples: what the library stores about a card, built without a database.

The importer's worker processes build records with :func:`card_record` (plain, picklable values), and
the main process hands them to the backend's bulk paths (``insert_cards`` / ``update_cards``: executemany
on SQLite; peewee's ``insert_many`` was measured about ten times slower on this path).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from curator.core import fields
from curator.core.schema import FIELD_COLUMNS, FILE_COLUMNS, FTS_FIELDS

__all__ = [
    "FIELD_COLUMNS", "FILE_COLUMNS", "FTS_FIELDS", "CardRecord", "card_record", "dumps", "fts_values",
    "image_rows", "library_doc", "parsed_doc", "related_rows", "safe_value", "summary_columns",
]  # fmt: skip


class CardRecord(NamedTuple):
    """Everything the library stores about one card, as plain values (sent between processes)."""

    values: tuple[Any, ...]  # FILE_COLUMNS order
    doc: str  # JSON of the whole mapping (the card_doc row)
    topics: list[str]
    images: list[tuple[Any, ...]]  # (position, url, width, height, title)
    related: list[tuple[Any, ...]]  # (position, title, source_url, provider_name, quality)
    fts: tuple[str, str, str, str, str]  # title, excerpt, provider, topics, related titles (fts_values)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    # bool is an int in Python; a YAML `true` is not a width or a score; SQLite's INTEGER is 64-bit.
    if isinstance(value, int) and not isinstance(value, bool) and -fields.MAX_STORED_INT - 1 <= value:
        return value if value <= fields.MAX_STORED_INT else None
    return None


def dumps(value: Any) -> str:
    """JSON text as the library stores it (non-ASCII kept readable); ValueError for NaN or infinity.

    SQLite's JSON functions refuse the ``NaN``/``Infinity`` Python would write, and one such document
    would break every later edit that reads it: such values never reach the library (see safe_value).
    """
    return _ENCODE(value)


#: One encoder for every dumps: ``json.dumps`` with non-default options builds a JSONEncoder per call,
#: a tenth of the cost of encoding a card's mapping (an import encodes two values a card). The encoder
#: keeps no state between calls, so threads may share it.
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode


def _safe_text(text: str) -> str:
    """Text the library can store: a lone surrogate (only from an escape like "\\ud800") is no UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # pairs written as two escapes join up; lone halves become U+FFFD
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def safe_value(value: Any) -> Any:
    """``value`` in the form the library stores: what the card reader itself gives for such values.

    Non-finite floats become their YAML text (".nan", ".inf", "-.inf") and whole numbers too long for
    Python to write as text become a description of them, as cards.parse_card keeps them; texts (and
    keys) lose lone surrogates. Values from parse_card need none of this: it is for values from
    anywhere else, so that one odd value can never make a card unstorable.
    """
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() < _MAX_INT_BITS:
            return value
        return f"a whole number of about {_digits(value):,} digits"
    if isinstance(value, Mapping):
        return {safe_value(k): safe_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_value(v) for v in value]
    return value


def _digits(number: int) -> int:
    return int(abs(number).bit_length() * 0.30103) + 1


#: Whole numbers of fewer bits have fewer than 4,300 digits (Python's int/text limit).
_MAX_INT_BITS = int(4_299 / 0.30103)


def library_doc(data: Mapping[Any, Any]) -> tuple[Mapping[Any, Any], str]:
    """``data`` as stored (see safe_value) and its JSON text; data from parse_card comes back as it is."""
    try:
        doc = dumps(data)
        doc.encode("utf-8")  # a lone surrogate: ~0.2 us to rule out for a real card
        return data, doc
    except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
        safe = safe_value(data)
        return safe, dumps(safe)


def parsed_doc(data: Mapping[Any, Any]) -> tuple[Mapping[Any, Any], str]:
    """:func:`library_doc` of values ``cards.parse_card`` built, encoded by orjson (~4x faster).

    Only for such values: they never hold a non-finite float (the reader keeps ``.nan`` and ``1e400`` as
    their text), which orjson would write as ``null`` where dumps refuses it. What orjson refuses (ints
    past 64 bits, a lone surrogate from an escape like "\\ud800", a key type JSON has no text for) goes
    through library_doc. The text is compact JSON, as SQLite's json_set writes the documents it edits;
    it reads back to the same values as dumps' text.
    """
    try:
        return data, orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return library_doc(data)


def summary_columns(summary: fields.Summary) -> dict[str, Any]:
    """The card columns a summary determines (every column of FIELD_COLUMNS)."""
    images = summary.images or []
    lead = images[0].get("url") if images and isinstance(images[0], Mapping) else None
    return {
        "category": summary.category,
        "title": summary.title,
        "excerpt": summary.excerpt,
        "published_at": summary.published_at,
        "date": summary.date,
        "source_url": summary.source_url,
        "amp_url": summary.amp_url,
        "cdn_amp_url": summary.cdn_amp_url,
        "type": summary.type,
        "quality": _int(summary.quality),
        "heat": _int(summary.heat),
        "published": None if summary.published is None else int(summary.published),
        "provider_name": summary.provider_name,
        "provider_domain": summary.provider_domain,
        "topics": dumps(list(summary.topics)),
        "lead_image": _str(lead),
        "related_count": len(summary.related or []),
    }


def image_rows(summary: fields.Summary) -> list[tuple[Any, ...]]:
    """CardImage rows (position, url, width, height, title)."""
    rows = []
    for pos, image in enumerate(summary.images or []):
        image = image if isinstance(image, Mapping) else {}
        rows.append(
            (pos, _str(image.get("url")), _int(image.get("width")), _int(image.get("height")),
             _str(image.get("title")))
        )  # fmt: skip
    return rows


def related_rows(summary: fields.Summary) -> list[tuple[Any, ...]]:
    """RelatedItem rows (position, title, source_url, provider_name, quality)."""
    rows = []
    for pos, item in enumerate(summary.related or []):
        item = item if isinstance(item, Mapping) else {}
        provider = item.get("provider")
        name = _str(provider.get("name")) if isinstance(provider, Mapping) else None
        rows.append(
            (pos, _str(item.get("title")), _str(item.get("sourceUrl")), name, _int(item.get("quality")))
        )  # fmt: skip
    return rows


def related_text(related: Any) -> str:
    """The related items' titles as the full-text index holds them: one a line, in list order."""
    if not isinstance(related, list):
        return ""
    titles = (item.get("title") for item in related if isinstance(item, Mapping))
    return "\n".join(t for t in titles if isinstance(t, str) and t)


def fts_values(summary: fields.Summary) -> tuple[str, str, str, str, str]:
    """The full-text index row: title, excerpt, provider, topics, related items' titles."""
    return (
        summary.title or "",
        summary.excerpt or "",
        " ".join(x for x in (summary.provider_name, summary.provider_domain) if x),
        ", ".join(summary.topics),
        related_text(summary.related),
    )


def card_record(path: str, state: Any, data: Mapping[str, Any], now: float) -> CardRecord:
    """Build the stored form of a card read from ``path`` (``state``: a cards.FileState).

    Never fails for a mapping parse_card built: every value is stored in a form the library holds (see
    safe_value), and the summary (columns, problems) is taken from that stored form, so the library's
    problem counts agree with ``fields.problems`` of what it stores.
    """
    data, doc = library_doc(data)
    summary = fields.summarize(data)
    cols = summary_columns(summary)
    values = (
        path, state.size, state.mtime_ns, state.sha256,
        *(cols[c] for c in FILE_COLUMNS[4:21]),
        len(summary.problems), now,
    )  # fmt: skip
    return CardRecord(values, doc, list(summary.topics), image_rows(summary), related_rows(summary),
                      fts_values(summary))  # fmt: skip
