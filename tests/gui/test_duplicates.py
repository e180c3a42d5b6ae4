"""The Duplicates facet and view: counts from the checks index, groups side by side, keep one in one undo step,
and the refresh that keeps them current running on a worker after edits, never on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QTreeWidgetItem

from curator.core.store import Store
from curator.gui import workers
from curator.gui.views import checks_refresh
from curator.gui.views.duplicates import KEEP_TEXT, DuplicatesDialog
from curator.gui.views.main_window import MainWindow


def click_item(qtbot, tree, item: QTreeWidgetItem) -> None:  # type: ignore[no-untyped-def]
    rect = tree.visualItemRect(item)
    assert rect.isValid(), "the row is not on screen"
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.x() + 20, rect.center().y()))


def expected_text(store: Store) -> str:
    groups = store.duplicate_groups()
    cards = {i for g in groups for i in g.ids}
    return f"{len(groups)} groups · {len(cards)} cards"


def refreshed(window: MainWindow) -> None:
    """Run the debounced refresh now (the edit window's pool runs it inline)."""
    window.checks.refresh_now()


def test_facet_counts_the_groups_and_opens_them_side_by_side(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    assert window.facets.duplicates_text() == "Checking…"
    assert window.checks.timer.isActive()  # the first refresh waits for the window to be idle
    refreshed(window)
    store = window.store
    groups = store.duplicate_groups()
    assert len(groups) >= 5, "the seeds plant duplicate and copy groups"
    assert {g.kind for g in groups} == {"url", "copy"}
    assert window.facets.duplicates_text() == expected_text(store)

    click_item(qtbot, window.facets, window.facets.duplicates_item)
    dialog = window.duplicates.dialog
    assert isinstance(dialog, DuplicatesDialog) and dialog.isVisible()
    qtbot.addWidget(dialog)
    assert dialog.list.count() == len(groups)
    assert dialog.heading.text() == f"Duplicates: {expected_text(store)}"
    for index, group in enumerate(groups[:4]):
        dialog.list.setCurrentRow(index)
        rows = {r.id: r for r in store.rows_by_id(list(group.ids))}
        assert [c.row.id for c in dialog.cards] == list(group.ids)
        for card in dialog.cards:
            row = rows[card.row.id]
            assert card.provider.text() == (row.provider or "(no provider)")
            shown_date = row.published_at or row.date
            assert card.date.text() == (shown_date[:16].replace("T", " ") if shown_date else "no date")
            assert card.quality.text() == (f"Quality {row.quality}" if row.quality is not None else "Quality not set")
            assert card.published.text() == ("Published" if row.published else "Not published")
            assert card.title.text() == row.title
            assert card.title.textFormat() == Qt.TextFormat.PlainText
        # Side by side: one row of columns, left to right in the group's order.
        xs = [c.geometry().x() for c in dialog.cards]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)
        assert len({c.geometry().y() for c in dialog.cards}) == 1


def test_keep_this_one_unpublishes_the_others_in_one_undo_step(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    store = window.store
    refreshed(window)
    # A third copy of a copy group's text, so "the others" are several cards (still one undo step).
    copy = next(g for g in store.duplicate_groups() if g.kind == "copy")
    source = store.current_data(copy.ids[0]) or {}
    grouped = {m for g in store.duplicate_groups() for m in g.ids}
    loner = next(i for i in store.ids("") if i not in grouped)
    store.set_fields([loner], {"title": source["title"], "excerpt": source["excerpt"]}, label="setup")
    refreshed(window)
    group = next(g for g in store.duplicate_groups() if loner in g.ids)
    ids = list(group.ids)
    assert len(ids) >= 3
    store.set_fields(ids, {"published": True}, label="setup")
    window.edits.history.rebuild()
    steps = window.edits.history.stack.count()
    dialog = window.duplicates.open()
    qtbot.addWidget(dialog)
    dialog.list.setCurrentRow(next(i for i, g in enumerate(dialog.groups) if g.ids == group.ids))
    kept = dialog.cards[1]
    assert kept.keep.text() == KEEP_TEXT and KEEP_TEXT in kept.keep.toolTip()
    qtbot.mouseClick(kept.keep, Qt.MouseButton.LeftButton)

    rows = {r.id: r for r in store.rows_by_id(ids)}
    assert rows[kept.row.id].published is True
    assert all(rows[i].published is False for i in ids if i != kept.row.id)
    assert window.edits.history.stack.count() == steps + 1  # one step for the whole group
    assert "unpublish" in window.edits.history.stack.undoText()
    # The dialog follows the edit: the others now read "Not published".
    assert [c.published.text() for c in dialog.cards if c.row.id != kept.row.id] == ["Not published"] * (len(ids) - 1)

    window.actions.undo.trigger()
    assert all(r.published is True for r in store.rows_by_id(ids))
    # Pressing it again when the others are already unpublished changes nothing and says so.
    window.actions.redo.trigger()
    qtbot.mouseClick(dialog.cards[1].keep, Qt.MouseButton.LeftButton)
    assert window.edits.history.stack.count() == steps + 1
    assert "Nothing to change" in window.statusBar().currentMessage()


def test_edits_schedule_one_refresh_on_a_worker_and_the_facet_follows(qtbot, own_library, settings, images,
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    threads: list[threading.Thread] = []
    real = checks_refresh.refresh_and_read

    def recorded(s: Store) -> checks_refresh.ChecksSummary:
        threads.append(threading.current_thread())
        return real(s)

    monkeypatch.setattr(checks_refresh, "refresh_and_read", recorded)
    workers.set_default_pool(None)
    # The real thread pool: the refresh must leave the GUI thread.
    window = MainWindow(store, settings, images=images)
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.checks.timer.setInterval(50)
    with qtbot.waitSignal(window.checks.updated, timeout=20000):
        pass  # the start-up refresh
    assert window.facets.duplicates_text() == expected_text(store)
    assert threads and all(t is not threading.main_thread() for t in threads)

    # Copy a group's text onto another card: a new copy group appears once the refresh ran.
    before = len(store.duplicate_groups())
    group = next(g for g in store.duplicate_groups() if g.kind == "copy")
    source = store.current_data(group.ids[0]) or {}
    loner = next(i for i in store.ids("") if i not in {m for g in store.duplicate_groups() for m in g.ids})
    count = len(threads)
    for step in ("title", "excerpt"):  # two edits in a row: one refresh after both
        window.edits.edit_card(loner, {step: source[step]}, f"copy {step}")
    assert window.checks.timer.isActive() and len(threads) == count
    with qtbot.waitSignal(window.checks.updated, timeout=20000):
        pass
    assert len(threads) == count + 1
    assert any(loner in g.ids and group.ids[0] in g.ids for g in store.duplicate_groups())
    assert len(store.duplicate_groups()) == before  # it joined the group it copies
    assert window.facets.duplicates_text() == expected_text(store)
    window.close()
