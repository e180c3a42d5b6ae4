"""U+0000 in a card's values, on both backends: stored whole, found, edited and written back exactly.

PostgreSQL text cannot hold the character (SQLite and YAML's ``"\\0"`` can): the team library keeps it in
the card's JSON mapping, escaped, and puts the replacement character in the list's columns and the full
text (``backend/pg_nul.py``). Before that, such a card failed its import as an "internal error" and
``set title=...`` with a NUL raised psycopg's DataError out of the Store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.core import cards
from curator.core.backend import pg_nul
from curator.core.backend.pg_nul import STAND_IN
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.store_rows import dumps

NUL_CARD = 'title: "Nul\\0here"\nexcerpt: "first line\\0second"\ntopics: ["A\\0B", Plain]\nquality: 40\n'
PLAIN_CARD = "title: Plain card\nquality: 10\n"


def _library(library_url: str, tmp_path: Path) -> tuple[Store, Path]:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "nul.yaml").write_text(NUL_CARD, encoding="utf-8")
    (folder / "plain.yaml").write_text(PLAIN_CARD, encoding="utf-8")
    store = Store(library_url)
    report = import_paths(store, [folder])
    assert (report.added, report.failed, report.errors) == (2, 0, [])
    return store, folder


def _shown(text: str, library_url: str) -> str:
    """What a list column holds for ``text``: itself on SQLite, NUL replaced on PostgreSQL."""
    return text.replace("\0", STAND_IN) if library_url.startswith("postgresql") else text


def test_import_keeps_the_nul_in_the_mapping(library_url: str, tmp_path: Path) -> None:
    store, folder = _library(library_url, tmp_path)
    with store:
        card_id = store.card_id(folder / "nul.yaml")
        assert card_id is not None
        data = store.current_data(card_id)
        assert data is not None
        assert data["title"] == "Nul\0here" and data["excerpt"] == "first line\0second"
        assert data["topics"] == ["A\0B", "Plain"]
        [row] = store.rows_by_id([card_id])
        assert row.title == _shown("Nul\0here", library_url)
        assert row.topics == ["A\0B", "Plain"]  # the list's topics are JSON text: exact on both
        detail = store.detail(card_id)
        assert detail is not None and detail.data["title"] == "Nul\0here"
        # A rescan finds nothing changed: the card is not parsed again, nor reported.
        again = import_paths(store, [folder])
        assert (again.unchanged, again.updated, again.failed) == (2, 0, 0)


def test_search_finds_the_words_around_a_nul(library_url: str, tmp_path: Path) -> None:
    store, folder = _library(library_url, tmp_path)
    with store:
        nul_id = store.card_id(folder / "nul.yaml")
        assert store.ids("here") == [nul_id]
        assert store.ids('"nul here"') == [nul_id]
        assert store.ids("second") == [nul_id]
        # A NUL typed into the search bar separates words too (FTS5 raised "unterminated string").
        assert store.ids("nul\0here") == [nul_id]
        assert store.ids('"first line\0second"') == [nul_id]
        assert store.count("topic:plain") == 1


def test_edit_with_a_nul_and_write_back(library_url: str, tmp_path: Path) -> None:
    store, folder = _library(library_url, tmp_path)
    plain = folder / "plain.yaml"
    with store:
        plain_id = store.card_id(plain)
        nul_id = store.card_id(folder / "nul.yaml")
        assert plain_id is not None and nul_id is not None
        result = store.set_fields([plain_id], {"title": "New\0title"}, label="Set title")
        assert result.changed == [plain_id]
        [row] = store.rows_by_id([plain_id])
        assert row.title == _shown("New\0title", library_url)
        assert store.ids("title") == [plain_id]
        # Another field of the NUL card: its NUL values must come back out of the library unchanged.
        store.set_fields([nul_id], {"quality": 75}, label="Set quality")
        report = store.write()
        assert (report.written, report.failed, report.conflicts) == (2, [], [])
        assert cards.read_card(str(plain))[0].data["title"] == "New\0title"
        written = cards.read_card(str(folder / "nul.yaml"))[0].data
        assert written == {"title": "Nul\0here", "excerpt": "first line\0second", "topics": ["A\0B", "Plain"],
                           "quality": 75}  # fmt: skip
        assert (folder / "nul.yaml").read_text(encoding="utf-8") == NUL_CARD.replace("quality: 40", "quality: 75")
        # Written back: the library's base is the file now, the NUL included; a rescan finds no change.
        assert store.current_data(plain_id) == {"title": "New\0title", "quality": 10}
        again = import_paths(store, [folder])
        assert (again.unchanged, again.failed) == (2, 0)


@pytest.mark.parametrize("value", ["\0", "a\0", "\0\0b"])
def test_undo_of_a_nul_edit(library_url: str, tmp_path: Path, value: str) -> None:
    store, folder = _library(library_url, tmp_path)
    with store:
        plain_id = store.card_id(folder / "plain.yaml")
        assert plain_id is not None
        batch = store.set_fields([plain_id], {"title": value}, label="Set title").batch_id
        assert batch is not None
        assert store.pending(plain_id) == {"title": ("Plain card", value)}
        store.undo(batch)
        assert store.pending(plain_id) == {}
        [row] = store.rows_by_id([plain_id])
        assert row.title == "Plain card"
        store.redo(batch)
        assert store.current_data(plain_id) == {"title": value, "quality": 10}


def _texts(value: object) -> list[str]:
    """Every string of a decoded JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (k, *_texts(v))]
    return []


@pytest.mark.parametrize(
    "value",
    ["plain", "\0", "a\0b", "\ufffe", "\ufffe0", "\ufffe\ufffe\0", "\\u0000 typed as text", "0\ufffe", ""],
)
def test_server_documents_round_trip(value: str) -> None:
    doc = dumps({"title": value, f"k{value}": [value, {"x": value}], "n": 1})
    stored = pg_nul.to_server(doc)
    assert not any("\0" in text for text in _texts(json.loads(stored)))  # the server's JSON refuses it
    assert json.loads(pg_nul.from_server(stored)) == json.loads(doc)
    assert pg_nul.from_server(stored) == doc
    sub = dumps(json.loads(stored)["title"])  # one value, as ``doc -> 'title'`` returns it
    assert json.loads(pg_nul.from_server(sub)) == value


def test_a_card_holding_the_escape_character(library_url: str, tmp_path: Path) -> None:
    """U+FFFE in a value is escaped too, so a stored document decodes to exactly the file's mapping."""
    folder = tmp_path / "cards"
    folder.mkdir()
    text = 'title: "odd \\uFFFE0 and \\0"\nquality: 5\n'
    (folder / "odd.yaml").write_text(text, encoding="utf-8")
    with Store(library_url) as store:
        assert import_paths(store, [folder]).added == 1
        [card_id] = store.ids()
        assert store.file_data(card_id) == {"title": "odd \ufffe0 and \0", "quality": 5}
        store.set_fields([card_id], {"quality": 6}, label="Set quality")
        assert store.write().written == 1
    assert (folder / "odd.yaml").read_text(encoding="utf-8") == text.replace("quality: 5", "quality: 6")
