"""``Backend.current`` on both backends: runs of the cards sharing their (file value, current value).

PostgreSQL groups the pairs on the server (a bulk edit's 10k cards travel as a few rows, not 10k) and,
where a column-backed field's column is NULL, parses a card's mapping only when its text holds the key's
JSON spelling. Neither may change an answer: a wrong-typed value (not in its column), a key of that name
deeper in the mapping, a value spelling it, a pending edit over any of them, a NUL in a value (escaped in
a team library's stored mapping), and a pending value equal to the file's (two groups on the server, one
pair) must read as they read on SQLite, each run in id order.
"""

from __future__ import annotations

import json
from pathlib import Path

from curator.core.backend.edit_runs import Runs
from curator.core.importer import import_paths
from curator.core.store import Store

CARDS = {
    "plain": "title: Has it\npublished: true\nquality: 40\n",
    "absent": "title: Lacks it\n",
    "absent_too": "title: Lacks it too\n",
    "wrong_type": "title: Wrong type\npublished: 'yes'\nquality: lots\n",
    "nested_only": "title: Nested\nrelated:\n  - title: R\n    published: true\n    quality: 10\n",
    "in_a_value": "title: published\nexcerpt: '\"published\" and quality'\n",
    "nul": 'title: "A\\0B"\npublished: false\n',
}


def _library(tmp_path: Path, library_url: str) -> Store:
    cards = tmp_path / "cards"
    cards.mkdir()
    for name, body in CARDS.items():
        (cards / f"{name}.md").write_text(f"---\n{body}---\n")
    store = Store(library_url)
    import_paths(store, [cards])
    return store


def _names(store: Store) -> dict[int, str]:
    return {cid: Path(store.backend.card_path(cid) or "").stem for cid in store.ids()}


def _current(store: Store, field: str) -> dict[str, tuple[object, object]]:
    names = _names(store)
    rows = store.backend.current(field, list(names))
    return {names[cid]: (json.loads(base), json.loads(cur)) for cid, base, cur in rows}


def test_current_values_of_present_absent_wrong_typed_nested_and_nul_values(
    tmp_path: Path, library_url: str
) -> None:
    with _library(tmp_path, library_url) as store:
        assert _current(store, "published") == {
            "plain": (True, True), "absent": (None, None), "absent_too": (None, None),
            "wrong_type": ("yes", "yes"), "nested_only": (None, None), "in_a_value": (None, None),
            "nul": (False, False),
        }  # fmt: skip
        assert _current(store, "quality") == {
            "plain": (40, 40), "absent": (None, None), "absent_too": (None, None),
            "wrong_type": ("lots", "lots"), "nested_only": (None, None), "in_a_value": (None, None),
            "nul": (None, None),
        }  # fmt: skip
        titles = _current(store, "title")  # no column holds its JSON: read from the mapping
        assert titles["nul"] == ("A\0B", "A\0B")
        assert titles["in_a_value"] == ("published", "published")
        related = _current(store, "related")
        assert related["nested_only"][0] == [{"title": "R", "published": True, "quality": 10}]
        assert related["absent"] == (None, None)
        # A pending edit is the current value whatever the mapping holds; its base is the file's value.
        ids = {name: cid for cid, name in _names(store).items()}
        store.set_fields([ids["absent"], ids["wrong_type"], ids["nul"]], {"published": True}, label="p")
        after = _current(store, "published")
        assert after["absent"] == (None, True) and after["wrong_type"] == ("yes", True)
        assert after["nul"] == (False, True) and after["plain"] == (True, True)
        store.set_fields([ids["nul"]], {"title": "C\0D"}, label="t")
        assert _current(store, "title")["nul"] == ("A\0B", "C\0D")


def test_cards_sharing_their_values_are_one_run_in_id_order(tmp_path: Path, library_url: str) -> None:
    """The cards of one (file value, current value) pair are one run, in id order, however they were
    found: also a card whose pending value equals its file's (PostgreSQL finds it in a group of its own)."""
    with _library(tmp_path, library_url) as store:
        ids = {name: cid for cid, name in _names(store).items()}
        wanted = sorted(ids.values(), reverse=True)  # asked in any order
        rows = store.backend.current("published", wanted)
        assert isinstance(rows, Runs)
        by_pair = {pair: list(cards) for pair, cards in rows.runs}
        assert len(by_pair) == len(rows.runs)  # each pair once
        assert by_pair[("null", "null")] == sorted(
            ids[n] for n in ("absent", "absent_too", "nested_only", "in_a_value")
        )
        assert all(cards == sorted(cards) for cards in by_pair.values())
        assert sorted(cid for cid, _, _ in rows) == sorted(ids.values())
        # A pending row whose value is the file's (as a rescan can leave one): the same pair as a card
        # without a pending edit, so one run.
        with store.backend.transaction():
            store.backend.set_pending(
                [(ids["absent_too"], "published", "null", "null")], editor="x", changed=1.0
            )
        rows = store.backend.current("published", wanted)
        by_pair = {pair: list(cards) for pair, cards in rows.runs}
        assert len(by_pair) == len(rows.runs)
        assert by_pair[("null", "null")] == sorted(
            ids[n] for n in ("absent", "absent_too", "nested_only", "in_a_value")
        )
        # Unknown ids are left out; an empty request is no runs.
        assert [cid for cid, _, _ in store.backend.current("published", [max(wanted) + 1000])] == []
        assert list(store.backend.current("published", [])) == []
