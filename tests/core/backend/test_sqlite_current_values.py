"""``SqliteBackend.current``: a card whose mapping lacks the key's text lacks the key (no JSON parsed).

The shortcut must never say "absent" of a key that is there: a wrong-typed value (not in its column), a
key of that name deeper in the mapping or a value spelling it (text found: the JSON is read), a pending
edit over any of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from curator.core.store import Store

CARDS = {
    "plain": "title: Has it\npublished: true\nquality: 40\n",
    "absent": "title: Lacks it\n",
    "wrong_type": "title: Wrong type\npublished: 'yes'\nquality: lots\n",
    "nested_only": "title: Nested\nrelated:\n  - title: R\n    published: true\n    quality: 10\n",
    "in_a_value": "title: published\nexcerpt: '\"published\" and quality'\n",
}


def _current(store: Store, field: str) -> dict[str, tuple[object, object]]:
    by_path = {store.backend.card_path(cid): cid for cid in store.ids()}
    names = {cid: Path(path).stem for path, cid in by_path.items() if path}
    return {names[cid]: (json.loads(base), json.loads(cur)) for cid, base, cur in store.backend.current(field, names)}


def test_current_values_of_present_absent_wrong_typed_and_nested_keys(tmp_path: Path) -> None:
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for name, body in CARDS.items():
        (cards / f"{name}.md").write_text(f"---\n{body}---\n")
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        assert _current(store, "published") == {
            "plain": (True, True), "absent": (None, None), "wrong_type": ("yes", "yes"),
            "nested_only": (None, None), "in_a_value": (None, None),
        }  # fmt: skip
        assert _current(store, "quality") == {
            "plain": (40, 40), "absent": (None, None), "wrong_type": ("lots", "lots"),
            "nested_only": (None, None), "in_a_value": (None, None),
        }  # fmt: skip
        # The other fields' path (no column holds their value): the same for a key that is there or not.
        topics = _current(store, "topics")
        assert set(topics.values()) == {(None, None)}
        related = _current(store, "related")
        assert related["nested_only"][0] == [{"title": "R", "published": True, "quality": 10}]
        assert related["absent"] == (None, None)
        # A pending edit is the current value whatever the mapping holds; its base is the file's value.
        ids = {Path(store.backend.card_path(cid) or "").stem: cid for cid in store.ids()}
        store.set_fields([ids["absent"], ids["wrong_type"]], {"published": False}, label="p")
        after = _current(store, "published")
        assert after["absent"] == (None, False) and after["wrong_type"] == ("yes", False)
        assert after["plain"] == (True, True)


def _absent_and_wrong_type(store: Store, tmp_path: Path) -> dict[str, int]:
    """Import the cards "absent" (no published/quality/heat key) and "wrong_type"; their ids by name."""
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for name in ("absent", "wrong_type"):
        (cards / f"{name}.md").write_text(f"---\n{CARDS[name]}---\n")
    import_paths(store, [cards])
    return {Path(store.backend.card_path(cid) or "").stem: cid for cid in store.ids()}


def test_a_mapping_without_the_key_is_not_parsed(tmp_path: Path) -> None:
    """Proof that the text search decides: a keyless card's mapping made unparsable still reads as null
    (SQLite's ``->`` on it fails with "malformed JSON"), while a card holding the key is read from its JSON."""
    with Store(tmp_path / "lib.sqlite") as store:
        ids = _absent_and_wrong_type(store, tmp_path)
        conn = store.backend.db.connection()
        conn.execute("UPDATE card_doc SET doc = '{\"title\": \"Lacks it\", ' WHERE card_id = ?", (ids["absent"],))
        conn.commit()
        assert _current(store, "published") == {"absent": (None, None), "wrong_type": ("yes", "yes")}
        assert _current(store, "heat") == {"absent": (None, None), "wrong_type": (None, None)}


def test_a_column_fields_mapping_is_read_only_for_a_card_with_problems(tmp_path: Path) -> None:
    """Proof that a card without problems is not read for a field its column holds: an absent key is
    the only thing a NULL column can mean there (every value the column cannot hold is a problem). Its
    mapping made unparsable, and spelling the key, still reads as null; a card with a problem (the
    wrong-typed value) is read from its JSON, and a pending edit's base is the pending row's."""
    with Store(tmp_path / "lib.sqlite") as store:
        ids = _absent_and_wrong_type(store, tmp_path)
        assert [row.problems for row in store.rows_by_id([ids["absent"], ids["wrong_type"]])] == [0, 2]
        conn = store.backend.db.connection()
        conn.execute("UPDATE card_doc SET doc = '{\"published\": ' WHERE card_id = ?", (ids["absent"],))
        conn.commit()
        for field in ("published", "quality", "heat"):
            values = _current(store, field)
            assert values["absent"] == (None, None)
            assert values["wrong_type"] == {"published": ("yes", "yes"), "quality": ("lots", "lots"),
                                            "heat": (None, None)}[field]  # fmt: skip
        store.set_fields([ids["wrong_type"]], {"published": True}, label="p")
        assert _current(store, "published")["wrong_type"] == ("yes", True)
