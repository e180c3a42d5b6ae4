"""Edits in a real library: pending values, no-op rules, topics, related, undo/redo, bulk, crash safety."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import fields
from curator.core.backend import pg_fulltext
from curator.core.cards import read_card
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.store_rows import card_record

ROOT = Path(__file__).resolve().parents[2]

CARD = """---
title: "A card"
quality: 40
heat: -1
published: false
provider:
  name: Example
  domain: example.com
topics:
  - AI
  - Robotics
---
"""


@pytest.fixture
def lib(tmp_path: Path, library_url: str) -> Iterator[tuple[Store, int, Path]]:
    card = tmp_path / "cards" / "a.md"
    card.parent.mkdir()
    card.write_text(CARD, encoding="utf-8")
    store = Store(library_url)
    import_paths(store, [card.parent])
    yield store, store.ids()[0], card
    store.close()


def consistent(store: Store, card_id: int) -> None:
    """The row, child rows and counts agree with the current mapping."""
    data = store.current_data(card_id)
    summary = fields.summarize(data)
    row = store.rows_by_id([card_id])[0]
    assert (row.quality, row.heat, row.published, row.title) == (summary.quality, summary.heat,
                                                                 summary.published, summary.title)
    assert row.topics == summary.topics and row.related_count == len(summary.related)
    assert row.problems == len(fields.problems(data))
    assert row.dirty == bool(store.pending(card_id))
    names = [name for name, _position in store.backend.child_rows("topics", card_id)]
    assert names == summary.topics
    fts = store.backend.fulltext_row(card_id)
    assert fts is not None
    title, topics = summary.title or "", ", ".join(summary.topics)
    related = "\n".join(i["title"] for i in summary.related if isinstance(i, dict) and isinstance(i.get("title"), str))
    if store.backend.location.startswith(("postgresql://", "postgres://")):
        # PostgreSQL indexes lexemes, not the text: the title's and the topics' tokens, as FTS5 makes them.
        assert [lexemes(fts[i]) for i in (0, 3, 4)] == [set(pg_fulltext.tokens(t)) for t in (title, topics, related)]
    else:
        assert (fts[0], fts[3], fts[4]) == (title, topics, related)


def lexemes(vector: str) -> set[str]:
    """The lexemes of a tsvector's text form (``'a':2 'card':3``)."""
    return {m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", vector)}


def test_set_field_records_a_pending_edit(lib: tuple[Store, int, Path]) -> None:
    store, cid, card = lib
    before = card.read_bytes()
    result = store.set_fields([cid], {"quality": 75, "published": True}, label="set quality")
    assert result.changed == [cid] and result.batch_id is not None
    assert store.pending(cid) == {"published": (False, True), "quality": (40, 75)}
    row = store.rows_by_id([cid])[0]
    assert (row.quality, row.published, row.dirty) == (75, True, True)
    assert card.read_bytes() == before  # files change only on write
    [batch] = store.history()
    assert (batch.label, batch.cards, batch.entries, batch.undone) == ("set quality", 1, 2, False)
    consistent(store, cid)


def test_setting_the_current_value_changes_nothing(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    result = store.set_fields([cid], {"quality": 40, "heat": -1}, label="same")
    assert result.batch_id is None and result.changed == []
    assert not store.rows_by_id([cid])[0].dirty and store.history() == []


def test_setting_back_the_file_value_cleans_the_card(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    store.set_fields([cid], {"quality": 90}, label="a")
    store.set_fields([cid], {"quality": 60}, label="b")
    assert store.pending(cid) == {"quality": (40, 60)}  # the base stays the file's value
    store.set_fields([cid], {"quality": 40}, label="c")
    assert store.pending(cid) == {} and not store.rows_by_id([cid])[0].dirty
    consistent(store, cid)


def test_invalid_values_change_nothing(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    for changes in ({"quality": 101}, {"heat": -7}, {"published": "maybe"}, {"secured": "x"},
                    {"nonsense": 1}, {"quality": 50, "heat": "hot"}, {"topics": "AI"}):
        with pytest.raises(ValueError):
            store.set_fields([cid], changes, label="bad")
    assert store.pending(cid) == {} and store.history() == []


def test_text_values_are_coerced_like_the_cli(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    store.set_fields([cid], {"quality": "60", "published": "true"}, label="text")
    assert store.pending(cid) == {"published": (False, True), "quality": (40, 60)}


def test_removing_a_key_with_none(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    store.set_fields([cid], {"heat": None}, label="clear heat")
    assert "heat" not in store.current_data(cid) and store.rows_by_id([cid])[0].heat is None
    consistent(store, cid)


def test_topics_add_and_remove_case_insensitively(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    assert store.add_topic([cid], "ai", label="noop").changed == []
    assert store.add_topic([cid], "Computer Vision", label="add").changed == [cid]
    assert store.rows_by_id([cid])[0].topics == ["AI", "Robotics", "Computer Vision"]
    consistent(store, cid)
    assert store.remove_topic([cid], "ROBOTICS", label="rm").changed == [cid]
    assert store.rows_by_id([cid])[0].topics == ["AI", "Computer Vision"]
    assert store.remove_topic([cid], "robotics", label="noop").changed == []
    assert "Robotics" not in store.values("topics")
    assert store.facets().topics == [("AI", 1), ("Computer Vision", 1)]
    consistent(store, cid)
    # Back to the file's list: clean again.
    store.remove_topic([cid], "computer vision", label="rm")
    store.add_topic([cid], "Robotics", label="add")
    assert store.pending(cid) == {} and not store.rows_by_id([cid])[0].dirty


def test_add_topic_to_a_card_without_topics(tmp_path: Path, library_url: str) -> None:
    (tmp_path / "b.md").write_text("---\ntitle: B\n---\n", encoding="utf-8")
    with Store(library_url) as store:
        import_paths(store, [tmp_path / "b.md"])
        [cid] = store.ids()
        store.add_topic([cid], "Space", label="add")
        assert store.pending(cid) == {"topics": (None, ["Space"])}
        consistent(store, cid)


def test_set_related_keeps_rows_in_sync(lib: tuple[Store, int, Path]) -> None:
    store, cid, _ = lib
    items = [{"title": "Other coverage", "sourceUrl": "https://example.org/a", "provider": {"name": "Org"},
              "quality": 70}]
    store.set_related(cid, items, label="related")
    detail = store.detail(cid)
    assert detail.related == items and detail.related_count == 1
    rows = store.backend.child_rows("related", cid)  # (position, title, source_url, provider_name, quality)
    assert rows == [(0, "Other coverage", "https://example.org/a", "Org", 70)]
    with pytest.raises(ValueError):
        store.set_related(cid, ["not a mapping"], label="bad")
    consistent(store, cid)


def test_problem_counts_follow_edits(tmp_path: Path, library_url: str) -> None:
    (tmp_path / "p.md").write_text("---\ntitle: P\nquality: high\nheat: 500\n---\n", encoding="utf-8")
    with Store(library_url) as store:
        import_paths(store, [tmp_path])
        [cid] = store.ids()
        assert store.rows_by_id([cid])[0].problems == 2
        assert {p.field for p in store.problems()} == {"quality", "heat"}
        batch = store.set_fields([cid], {"quality": 50}, label="fix").batch_id
        assert store.rows_by_id([cid])[0].problems == 1
        consistent(store, cid)
        store.undo(batch)
        assert store.rows_by_id([cid])[0].problems == 2
        consistent(store, cid)


def test_undo_and_redo_also_after_reopening(lib: tuple[Store, int, Path], tmp_path: Path, library_url: str) -> None:
    store, cid, _ = lib
    first = store.set_fields([cid], {"quality": 80}, label="q").batch_id
    second = store.add_topic([cid], "Space", label="t").batch_id
    store.close()
    store = Store(library_url)
    assert store.undo(second).changed == [cid]
    assert store.rows_by_id([cid])[0].topics == ["AI", "Robotics"]
    assert store.undo(first).changed == [cid]
    assert store.pending(cid) == {} and not store.rows_by_id([cid])[0].dirty
    assert [b.undone for b in store.history()] == [True, True]
    assert store.undo(first).changed == []  # already undone
    store.close()
    store = Store(library_url)
    store.redo(first)
    store.redo(second)
    assert store.pending(cid) == {"quality": (40, 80), "topics": (["AI", "Robotics"], ["AI", "Robotics", "Space"])}
    consistent(store, cid)
    with pytest.raises(ValueError):
        store.undo(12345)
    store.close()


def _many_cards(store: Store, example_card: Path, n: int) -> list[int]:
    card, _ = read_card(str(example_card))
    record = card_record(str(example_card), card.state, card.data, 0.0)
    with store.transaction():
        store.backend.insert_cards([record._replace(values=(f"/cards/{i}.txt", *record.values[1:]))
                                    for i in range(n)])
    return store.ids()


def test_bulk_edit_of_10k_cards_is_one_batch(tmp_path: Path, library_url: str, example_card: Path) -> None:
    with Store(library_url) as store:
        ids = _many_cards(store, example_card, 10_000)
        result = store.set_fields(ids, {"published": True}, label="publish all")
        assert len(result.changed) == 10_000
        assert store.count() == 10_000 and store.facets().status["published"] == 10_000
        assert store.totals().dirty == 10_000
        [batch] = store.history()
        assert (batch.cards, batch.entries) == (10_000, 10_000)
        assert store.add_topic(ids, "Space", label="topic").changed == ids
        assert store.facets().topics[-1] == ("Space", 10_000)
        consistent(store, ids[-1])
        store.undo(result.batch_id)
        assert store.facets().status["published"] == 0
        assert store.rows_by_id([ids[0]])[0].published is False


def test_a_failing_bulk_edit_leaves_nothing_behind(tmp_path: Path, library_url: str, example_card: Path) -> None:
    with Store(library_url) as store:
        ids = _many_cards(store, example_card, 2_000)
        # A fault at the edit's last step (its journal), after the cards, pending edits and flags were
        # written: the whole edit must roll back, not stop half-way.
        def fail(*_args: object) -> None:
            raise RuntimeError("injected fault")

        store.backend.add_journal = fail  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="injected fault"):
            store.set_fields(ids, {"quality": 99}, label="doomed")
        del store.backend.add_journal
        assert store.totals().dirty == 0 and store.history() == []
        assert {r.quality for r in store.rows()} == {54}


def test_edits_survive_a_killed_process(lib: tuple[Store, int, Path], tmp_path: Path, library_url: str) -> None:
    store, cid, _ = lib
    store.close()
    code = (
        "import os, sys\n"
        "from curator.core.store import Store\n"
        f"s = Store({library_url!r})\n"
        f"s.set_fields([{cid}], {{'quality': 12}}, label='before the crash')\n"
        "os._exit(1)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    with Store(library_url) as again:
        assert again.pending(cid) == {"quality": (40, 12)}
        assert again.history()[0].label == "before the crash"
        # The commit reached the library whole: the card row holds the value and the flag too.
        row = again.rows_by_id([cid])[0]
        assert (row.quality, row.dirty) == (12, True)


def test_cards_sharing_a_topic_list_are_edited_independently(tmp_path: Path, library_url: str) -> None:
    # Cards with the same list get one new list object in a bulk topic edit: later edits of one card
    # must not show through on the others, and every card's rows must follow.
    folder = tmp_path / "cards"
    folder.mkdir()
    for name, topics in [("a", "[AI, Space]"), ("b", "[AI, Space]"), ("c", "[Space]"), ("d", "Space")]:
        (folder / f"{name}.md").write_text(f"---\ntitle: {name}\ntopics: {topics}\n---\n", encoding="utf-8")
    with Store(library_url) as store:
        import_paths(store, [folder])
        a, b, c, d = store.ids(sort=[("title", False)])
        assert store.add_topic([a, b, c, d], "Moon", label="add").changed == sorted([a, b, c])  # d's is text
        assert store.remove_topic([a], "ai", label="rm").changed == [a]
        topics = {cid: store.rows_by_id([cid])[0].topics for cid in (a, b, c)}
        assert topics == {a: ["Space", "Moon"], b: ["AI", "Space", "Moon"], c: ["Space", "Moon"]}
        assert store.pending(b) == {"topics": (["AI", "Space"], ["AI", "Space", "Moon"])}
        for cid in (a, b, c):
            consistent(store, cid)
        assert store.ids("topic:moon") == sorted([a, b, c]) == store.ids("moon")
        assert store.remove_topic([a, b, c], "Moon", label="rm").changed == sorted([a, b, c])
        assert store.pending(b) == {} and store.pending(a) == {"topics": (["AI", "Space"], ["Space"])}


def _conflict(store: Store, cid: int, card: Path) -> None:
    """Pending quality 80 and topic Space; then the file gets quality 55, a new title and topic Vision."""
    store.set_fields([cid], {"quality": 80}, label="q")
    store.add_topic([cid], "Space", label="t")
    text = card.read_text(encoding="utf-8").replace("quality: 40", "quality: 55")
    text = text.replace('title: "A card"', 'title: "Renamed outside"').replace("  - Robotics", "  - Vision")
    card.write_text(text, encoding="utf-8")
    assert import_paths(store, [card.parent]).conflicts == [str(card)]


def test_rebase_takes_the_file_as_base_and_keeps_only_the_chosen_edits(lib: tuple[Store, int, Path]) -> None:
    store, cid, card = lib
    _conflict(store, cid, card)
    now, _ = read_card(str(card))
    result = store.rebase(cid, now, {"quality": 80}, label="keep quality")
    assert result.batch_id is not None and result.changed == [cid]
    assert store.history(1)[0].label == "keep quality" and store.history(1)[0].entries == 1
    row = store.rows_by_id([cid])[0]
    assert not row.conflict and row.dirty and row.quality == 80 and row.title == "Renamed outside"
    assert store.pending(cid) == {"quality": (55, 80)}  # the topic edit is dropped, the file's topics stand
    assert row.topics == ["AI", "Vision"] and store.ids("Vision") == [cid] and store.ids("Space") == []
    assert store.ids('"Renamed outside"') == [cid]
    consistent(store, cid)
    # The new base is the file's bytes: a rescan sees nothing changed, and a write is a one-line diff.
    assert import_paths(store, [card.parent]).unchanged == 1
    store.undo(result.batch_id)
    assert store.pending(cid) == {} and not store.rows_by_id([cid])[0].dirty
    consistent(store, cid)
    store.redo(result.batch_id)
    before = card.read_text(encoding="utf-8").splitlines()
    assert store.write().written == 1
    after = card.read_text(encoding="utf-8").splitlines()
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [("quality: 55", "quality: 80")]


def test_rebase_keeping_nothing_records_no_batch_but_still_changes_the_card(
    lib: tuple[Store, int, Path],
) -> None:
    store, cid, card = lib
    _conflict(store, cid, card)
    batches = len(store.history())
    now, _ = read_card(str(card))
    result = store.rebase(cid, now)
    assert result.batch_id is None and result.changed == [cid] and len(store.history()) == batches
    row = store.rows_by_id([cid])[0]
    assert not row.conflict and not row.dirty and row.quality == 55 and store.pending(cid) == {}
    assert store.current_data(cid) == now.data
    consistent(store, cid)
    assert store.write().written == 0 and import_paths(store, [card.parent]).unchanged == 1


def test_rebase_problems_follow_the_new_file_and_the_kept_values(lib: tuple[Store, int, Path]) -> None:
    store, cid, card = lib
    store.set_fields([cid], {"heat": 10}, label="h")
    card.write_text(CARD.replace("quality: 40", "quality: high"), encoding="utf-8")  # a problem outside
    import_paths(store, [card.parent])
    now, _ = read_card(str(card))
    store.rebase(cid, now, {"heat": 10})
    assert store.rows_by_id([cid])[0].problems == 1 and store.pending(cid) == {"heat": (-1, 10)}
    consistent(store, cid)
    store.rebase(cid, now, {"quality": 70})  # a kept value may also repair the file's problem
    assert store.rows_by_id([cid])[0].problems == 0 and store.pending(cid) == {"quality": ("high", 70)}
    consistent(store, cid)


def test_rebase_refusals_change_nothing(lib: tuple[Store, int, Path], tmp_path: Path, library_url: str) -> None:
    store, cid, card = lib
    _conflict(store, cid, card)
    now, _ = read_card(str(card))
    history = len(store.history())

    def unchanged() -> None:
        row = store.rows_by_id([cid])[0]
        assert row.conflict and row.quality == 80 and row.title == "A card"
        assert len(store.history()) == history
        assert set(store.pending(cid)) == {"quality", "topics"}

    with pytest.raises(ValueError, match="0 to 100"):
        store.rebase(cid, now, {"quality": 500})
    unchanged()
    with pytest.raises(ValueError, match="cannot be edited"):
        store.rebase(cid, now, {"secured": "x"})
    unchanged()
    with pytest.raises(ValueError, match="no card"):
        store.rebase(cid + 99, now, {})
    other = tmp_path / "b.md"
    other.write_text(CARD, encoding="utf-8")
    with pytest.raises(ValueError, match="not "):
        store.rebase(cid, read_card(str(other))[0], {})
    with pytest.raises(ValueError, match="fingerprint"):
        store.rebase(cid, now.__class__(now.path, now.data, None), {})
    unchanged()


def test_related_titles_are_full_text_and_follow_edits(lib: tuple[Store, int, Path]) -> None:
    """Words of a related item's title find the card (one query language: CLI and GUI); an edit of the
    list re-indexes them, and undo brings the old words back."""
    store, card_id, _card = lib
    items = [{"title": "Orbital telescope funding", "sourceUrl": "https://r.example/t"}]
    store.set_related(card_id, items, label="related")
    consistent(store, card_id)
    assert store.ids("orbital") == [card_id] and store.ids('"telescope funding"') == [card_id]
    assert store.ids("orbit*") == [card_id]
    second = store.set_related(card_id, [{"title": "Harbour strike ends", "sourceUrl": "https://r.example/h"}],
                               label="related").batch_id
    consistent(store, card_id)
    assert store.ids("orbital") == [] and store.ids("harbour strike") == [card_id]
    assert second is not None
    store.undo(second)
    assert store.ids("orbital") == [card_id] and store.ids("harbour") == []
