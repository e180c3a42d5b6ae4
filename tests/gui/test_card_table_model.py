"""CardTableModel over a real library: paging, roles, sorting in SQL, queries, refreshes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from curator.core.query import QueryError
from curator.core.store import Store
from curator.gui.models import card_table
from curator.gui.models.card_table import NO_VALUE, SORT_KEYS, CardTableModel, Column, Role


def test_passes_qt_model_tester(qtmodeltester, store: Store) -> None:
    model = CardTableModel(store, page_size=50)
    qtmodeltester.check(model)
    model.set_query("topic:AI")
    qtmodeltester.check(model)


def test_pages_rows_instead_of_loading_everything(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_table, "MAX_PAGES", 3)
    total = store.count()
    model = CardTableModel(store, page_size=50)
    assert model.total == model.rowCount() == total > 200
    assert len(model.loaded_ids()) == 50  # the first page only
    # The last row is read by its offset, without the pages before it.
    last = model.card_at(total - 1)
    expected = store.ids(sort=[("date", True)])
    assert last is not None and last.id == expected[-1]
    assert len(model.loaded_ids()) == 50 + (total - 1) % 50 + 1
    # Reading every row holds at most MAX_PAGES pages, and pages join without gaps or repeats.
    seen = [model.index(r, Column.TITLE).data(Role.CARD_ID) for r in range(total)]
    assert seen == expected
    assert len(model.loaded_ids()) <= 3 * 50
    held = model.loaded_ids()
    assert all(model.row_of(cid) == expected.index(cid) for cid in held)
    assert model.row_of(expected[0]) is None  # its page was dropped
    assert model.card_at(total) is None and model.index(total, 0).data() is None


def test_a_page_that_comes_back_short_recounts(qtbot, store: Store) -> None:
    model = CardTableModel(store, page_size=50)
    total = model.total
    gone = store.ids(sort=[("date", True)])[-30:]
    # Cards vanish behind the model's back (another process, a rescan not yet reported).
    with store.transaction():
        store.backend.delete_cards(gone)
    assert model.card_at(total - 1) is None
    qtbot.waitUntil(lambda: model.total == total - 30)
    assert model.rowCount() == total - 30


def test_display_and_raw_roles(store: Store) -> None:
    model = CardTableModel(store)
    for row in range(model.rowCount()):
        card = model.card_at(row)
        assert card is not None
        assert model.index(row, Column.TITLE).data(Role.CARD_ID) == card.id
        assert model.index(row, Column.QUALITY).data(Role.RAW) == card.quality
        assert model.index(row, Column.HEAT).data(Role.SORT) == card.heat
        heat_text = model.index(row, Column.HEAT).data()
        if card.heat is None or card.heat < 0:
            assert heat_text == NO_VALUE
        else:
            assert heat_text == str(card.heat)
        assert model.index(row, Column.TOPICS).data() == ", ".join(card.topics)
        assert model.index(row, Column.PUBLISHED).data(Role.RAW) == card.published
    # The seeds hold unrated (heat -1) and rated cards both.
    heats = {model.card_at(r).heat for r in range(model.rowCount())}  # type: ignore[union-attr]
    assert -1 in heats and any(h is not None and h > 0 for h in heats)


@pytest.mark.parametrize("column", [Column.QUALITY, Column.TITLE, Column.PROVIDER])
def test_sort_reruns_the_query_in_sql(store: Store, column: Column) -> None:
    model = CardTableModel(store, page_size=40)
    model.sort(column, Qt.SortOrder.DescendingOrder)
    key = SORT_KEYS[column]
    assert model.sort_key == (key, True)
    expected = store.ids(sort=[(key, True)])[:40]
    assert model.loaded_ids() == expected
    assert model.sort_column() == (int(column), Qt.SortOrder.DescendingOrder)


def test_sort_on_an_unsortable_column_changes_nothing(store: Store) -> None:
    model = CardTableModel(store)
    before = model.loaded_ids()
    model.sort(Column.TOPICS, Qt.SortOrder.AscendingOrder)
    assert model.loaded_ids() == before


def test_set_query_filters_and_a_bad_query_leaves_the_model_alone(store: Store) -> None:
    model = CardTableModel(store)
    model.set_query("topic:AI quality>=50")
    assert model.total == store.count("topic:AI quality>=50")
    assert 0 < model.total < store.count()
    for row in range(model.rowCount()):
        card = model.card_at(row)
        assert card is not None and card.quality is not None and card.quality >= 50
        assert "ai" in [t.lower() for t in card.topics]
    with pytest.raises(QueryError) as err:
        model.set_query("(ai OR")
    assert err.value.column > 0
    assert model.query == "topic:AI quality>=50"


def test_refresh_rows_repaints_edited_cards(qtbot, store: Store) -> None:
    model = CardTableModel(store)
    card = model.card_at(3)
    assert card is not None
    new_quality = 7 if card.quality != 7 else 8
    store.set_fields([card.id], {"quality": new_quality}, label="test edit")
    with qtbot.waitSignal(model.dataChanged) as signal:
        model.refresh_rows([card.id, 999_999])
    top_left, bottom_right = signal.args[0], signal.args[1]
    assert top_left.row() == bottom_right.row() == 3
    assert model.index(3, Column.QUALITY).data(Role.RAW) == new_quality
    assert model.index(3, Column.CHANGED).data(Role.RAW) is True


def test_a_counter_elsewhere_shows_the_first_page_before_the_count(qtbot, store: Store) -> None:
    pending: list[tuple[str | None, object]] = []
    model = CardTableModel(store, page_size=50, counter=lambda query, done: pending.append((query, done)))
    assert model.counting and model.rowCount() == 50 and len(pending) == 1
    first_done = pending[0][1]
    model.set_query("topic:AI")  # a newer query before the first count came back
    assert len(pending) == 2 and pending[1][0] == "topic:AI"
    first_done(store.count())  # type: ignore[operator]  # late: dropped
    assert model.rowCount() == 50 and model.counting
    total = store.count("topic:AI")
    assert total > 50
    with qtbot.waitSignal(model.rowsInserted) as inserted, qtbot.waitSignal(model.totalChanged) as changed:
        pending[1][1](total)  # type: ignore[operator]
    assert inserted.args[1:] == [50, total - 1] and changed.args == [total]
    assert not model.counting and model.rowCount() == model.total == total
    model.set_query("topic:AI quality>=95 heat>=95")  # a page that is not full needs no count
    assert not model.counting and len(pending) == 2 and model.total == store.count("topic:AI quality>=95 heat>=95")
