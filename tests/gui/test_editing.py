"""Editing in the window over real card files: the detail editor, triage keys, bulk edits, undo and redo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gui_helpers import card_id, changed_lines
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from curator.core.store import Store
from curator.gui import settings as keys
from curator.gui.actions import shortcuts_text
from curator.gui.models.card_table import Column
from curator.gui.views.main_window import MainWindow
from curator.gui.workers import SyncPool

EXAMPLE = "000_63d795e8c7832238.txt"


def open_example(window: MainWindow, cards: Path) -> tuple[int, Path]:
    path = cards / EXAMPLE
    cid = card_id(window.store, path)
    window.filter_bar.set_text("")
    window.apply_query("")
    assert window.select_card(cid)
    assert window.detail.card is not None and window.detail.card.id == cid
    return cid, path


def write_and_diff(window: MainWindow, path: Path, before: bytes) -> tuple[list[str], list[str]]:
    window.files.write_changes()  # inline pool: done when this returns
    report = window.files.last_report
    assert report is not None and report.written == 1 and not report.failed and not report.conflicts
    assert window.store.totals().dirty == 0
    return changed_lines(before, path.read_bytes())


def edit_quality(w: MainWindow) -> None:
    w.detail.editor.quality.spin.setValue(70)


def edit_heat(w: MainWindow) -> None:
    w.detail.editor.heat.spin.setValue(35)


def edit_not_rated(w: MainWindow) -> None:
    w.detail.editor.not_rated.setChecked(False)  # -1 -> 0


def edit_published(w: MainWindow) -> None:
    w.detail.editor.published.setChecked(True)


def add_topic(w: MainWindow) -> None:
    w.detail.editor.topic_input.setText("Robotics")
    w.detail.editor.topic_input.returnPressed.emit()


def remove_topic(w: MainWindow) -> None:
    chip = next(c for c in w.detail.editor.chips if c.name == "AI")
    chip.click()


def edit_title(w: MainWindow) -> None:
    title = w.detail.editor.title
    title.setText("Police departments and face recognition")
    title.setModified(True)
    title.editingFinished.emit()


def edit_excerpt(w: MainWindow) -> None:
    w.detail.editor.excerpt.setPlainText("A shorter teaser.")
    w.detail.editor.excerpt.committed.emit()


EDITS: list[tuple[Any, str, list[str], list[str]]] = [
    (edit_quality, "quality", ["quality: 54"], ["quality: 70"]),
    (edit_heat, "heat", ["heat: -1"], ["heat: 35"]),
    (edit_not_rated, "heat", ["heat: -1"], ["heat: 0"]),
    (edit_published, "published", ["published: false"], ["published: true"]),
    (add_topic, "topics", [], ["  - Robotics"]),
    (remove_topic, "topics", ["  - AI"], []),
    (edit_title, "title", None, ['title: "Police departments and face recognition"']),  # type: ignore[list-item]
    (edit_excerpt, "excerpt", None, ['excerpt: "A shorter teaser."']),  # type: ignore[list-item]
]


@pytest.mark.parametrize("edit, field, removed, added", EDITS, ids=[e[0].__name__ for e in EDITS])
def test_each_editor_control_ends_in_a_one_line_diff(
    edit_window: MainWindow, own_library, edit, field, removed, added
) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, path = open_example(edit_window, cards)
    before = path.read_bytes()
    edit(edit_window)
    assert field in store.pending(cid)
    # The changed field is marked, with the file's value beside the pending one.
    mark = edit_window.detail.editor.marks[field]
    assert mark.isVisibleTo(edit_window.detail.editor) and "in the file:" in mark.text()
    assert edit_window.model.card_at(edit_window.model.row_of(cid)).dirty  # type: ignore[arg-type, union-attr]
    assert "(1)" in edit_window.actions.write.text()
    assert edit_window.edits.history.stack.count() == 1
    gone, new = write_and_diff(edit_window, path, before)
    assert new == added
    if removed is not None:
        assert gone == removed
    else:
        assert len(gone) == 1 and gone[0].startswith(f"{field}:")
    assert not edit_window.detail.editor.marks[field].isVisibleTo(edit_window.detail.editor)


def test_marks_show_the_file_value_and_invalid_text_is_refused(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, _path = open_example(edit_window, cards)
    edit_quality(edit_window)
    assert edit_window.detail.editor.marks["quality"].text() == "✎ changed — in the file: 54"
    assert "not yet written" in edit_window.detail.flags.text()
    # Titles are plain text: markup stays literal in the editor and in the library.
    edit_window.detail.editor.title.setText("<b>bold</b>")
    edit_window.detail.editor.title.setModified(True)
    edit_window.detail.editor.title.editingFinished.emit()
    assert store.detail(cid).title == "<b>bold</b>"  # type: ignore[union-attr]
    assert edit_window.detail.title.textFormat() == Qt.TextFormat.PlainText


def focus_list(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    window.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.table)


def test_triage_keys_undo_redo_and_advance(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, _path = open_example(edit_window, cards)
    focus_list(qtbot, edit_window)
    edit_window.actions.advance.setChecked(False)  # several keys on one card (advance is on by default)
    qtbot.keyClick(edit_window.table, Qt.Key.Key_P)
    assert store.detail(cid).published is True  # type: ignore[union-attr]
    qtbot.keyClick(edit_window.table, Qt.Key.Key_7)
    assert store.detail(cid).quality == 70  # type: ignore[union-attr]
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Plus)  # not rated counts as 0
    assert store.detail(cid).heat == 10  # type: ignore[union-attr]
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Minus)
    assert store.detail(cid).heat == 0  # type: ignore[union-attr]
    stack = edit_window.edits.history.stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "Publish",
        "Set quality to 70",
        "Heat +10",
        "Heat -10",
    ]
    # Ctrl+Z / Ctrl+Shift+Z walk the journal.
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store.detail(cid).heat == -1 and store.detail(cid).quality == 70  # type: ignore[union-attr]
    assert edit_window.actions.undo.text() == "&Undo Set quality to 70"
    qtbot.keyClick(
        edit_window.table,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert store.detail(cid).heat == 10  # type: ignore[union-attr]
    # The quality scale comes from the preferences; advance moves on after the key.
    edit_window.settings.set_value(keys.QUALITY_SCALE, 5)
    edit_window.actions.set_quality_scale(5)
    edit_window.actions.advance.setChecked(True)
    assert edit_window.settings.value(keys.ADVANCE) is True
    row = edit_window.model.row_of(cid)
    qtbot.keyClick(edit_window.table, Qt.Key.Key_9)
    assert store.detail(cid).quality == 45  # type: ignore[union-attr]
    assert edit_window.table.currentIndex().row() == row + 1  # type: ignore[operator]
    # Space moves on too (advance off: a triage key leaves the current card alone).
    edit_window.actions.advance.setChecked(False)
    row = edit_window.table.currentIndex().row()
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Space)
    assert edit_window.table.currentIndex().row() == row + 1
    qtbot.keyClick(edit_window.table, Qt.Key.Key_U)
    assert edit_window.table.currentIndex().row() == row + 1
    # Keys typed in the search bar stay text.
    edit_window.filter_bar.focus()
    before = store.totals().dirty
    qtbot.keyClicks(QApplication.focusWidget(), "pu9")
    assert store.totals().dirty == before


def test_shortcut_help_is_generated_from_the_actions(edit_window: MainWindow) -> None:
    text = shortcuts_text(edit_window.actions)
    for action in edit_window.actions.all_actions():
        if action.shortcut().isEmpty() or action in edit_window.actions.quality_keys:
            continue
        assert action.text().replace("&", "").rstrip("…") in text, action.text()
    assert "1 – 9, 0" in text and "Set quality 10 … 90, 0 sets 100" in text and "P " in text


def test_bulk_edit_is_one_step_and_asks_above_the_threshold(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    edit_window.filter_bar.set_text("published:false")
    edit_window.apply_query("published:false")
    matching = store.count("published:false")
    assert matching > 20
    asked: list[Any] = []
    edit_window.edits.confirm = lambda dialog: asked.append(dialog) or False  # cancel first
    edit_window.edits.ask_gate = lambda _gate: "all"  # the publishing gate (duplicates, problems): publish all
    edit_window.edits.select_all_matching()
    assert edit_window.edits.target_ids() == store.ids("published:false")
    edit_window.actions.publish.trigger()
    assert len(asked) == 1 and asked[0].count == matching
    assert f"{matching:,} cards" in asked[0].question.text()
    flagged = store.count("published:false problems:true")
    if flagged:
        assert len(asked[0].listed()) == flagged and all(reason for _t, reason in asked[0].listed())
    assert store.count("published:false") == matching  # cancelled: nothing changed
    edit_window.edits.confirm = lambda dialog: True
    edit_window.actions.publish.trigger()
    assert store.count("published:false") == 0
    history = store.history()
    assert history[0].label == f"Publish ({matching:,} cards)" and history[0].cards == matching
    assert edit_window.edits.history.stack.count() == 1
    # Topics too: one call, one step; then undo both.
    result = edit_window.edits.change_topic(store.ids(), "Triage Test", add=True)
    assert result is not None and store.count('topic:"Triage Test"') == len(result.changed)
    assert len(result.changed) >= store.count() - store.count("problems:true")  # a non-list topics is skipped
    edit_window.edits.history.stack.undo()
    edit_window.edits.history.stack.undo()
    assert store.count("published:false") == matching and store.count('topic:"Triage Test"') < store.count()


def test_bulk_confirmation_lists_cards_that_fail_validation(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    problem_ids = store.ids("problems:true")
    assert problem_ids, "the seeds hold problem cards"
    ids = store.ids()[:25] + problem_ids[:3]
    seen: list[Any] = []
    edit_window.edits.confirm = lambda dialog: seen.append(dialog) or False
    assert edit_window.edits.set_fields(ids, {"quality": 10}, "Set quality to 10") is None
    listed = seen[0].listed()
    names = {r.title or Path(r.path).name for r in store.rows_by_id(problem_ids[:3])}
    assert names <= {t for t, _ in listed}


def test_changed_and_problem_columns_sort(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, _path = open_example(edit_window, cards)
    edit_quality(edit_window)
    edit_window.model.sort(Column.CHANGED, Qt.SortOrder.DescendingOrder)
    assert edit_window.model.card_at(0).id == cid  # type: ignore[union-attr]
    edit_window.model.sort(Column.PROBLEMS, Qt.SortOrder.DescendingOrder)
    assert edit_window.model.card_at(0).problems == max(r.problems for r in store.rows())  # type: ignore[union-attr]


def test_undo_survives_a_new_window_on_the_same_library(
    qtbot, edit_window: MainWindow, own_library, settings, images
) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, _path = open_example(edit_window, cards)
    edit_quality(edit_window)  # 54 -> 70
    add_topic(edit_window)  # + Robotics
    edit_window.edits.set_related(cid, [{"title": "Only one", "sourceUrl": "https://example.com/a"}])
    edit_window.edits.history.stack.undo()  # the related edit is undone: redoable after the restart
    edit_window.files.ask_close = lambda _box: "keep"
    assert edit_window.close()
    db = store.path
    reopened = Store(db)
    window = MainWindow(reopened, settings, images=images, pool=SyncPool())
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    stack = window.edits.history.stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "Set quality to 70",
        "Add topic 'Robotics'",
        "Edit related links",
    ]
    assert stack.index() == 2 and stack.canRedo()
    stack.redo()
    assert reopened.detail(cid).related == [{"title": "Only one", "sourceUrl": "https://example.com/a"}]  # type: ignore[union-attr]
    stack.undo()
    stack.undo()
    stack.undo()
    detail = reopened.detail(cid)
    assert (
        detail is not None and detail.quality == 54 and "Robotics" not in detail.topics and not detail.dirty
    )
    # A new edit after undoing drops the redo branch, also across the next restart.
    window.edits.set_fields([cid], {"heat": 5}, "Set heat to 5")
    window.close()
    again = MainWindow(reopened, settings, images=images, pool=SyncPool())
    again.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(again)
    stack = again.edits.history.stack
    assert [stack.text(i) for i in range(stack.count())] == ["Set heat to 5"] and not stack.canRedo()


def test_facets_are_counted_off_the_gui_thread(qtbot, store: Store, settings, images) -> None:  # type: ignore[no-untyped-def]
    import threading

    from curator.gui.views import main_window as main_window_module

    threads: list[str] = []
    real = store.facets

    def facets(query: str | None = None, **kw: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(query, **kw)

    store.facets = facets  # type: ignore[method-assign]
    window = main_window_module.MainWindow(store, settings, images=images)  # the global QThreadPool
    qtbot.addWidget(window)
    window.apply_query("topic:AI")
    qtbot.waitUntil(
        lambda: (
            window.facets.find("status", "All cards") is not None
            and window.facets.find("status", "All cards").text(1) == f"{store.count('topic:AI'):,}"
        )
    )
    assert threads and threading.main_thread().name not in threads


def test_title_column_stretches_after_restoring_an_old_header(qtbot, store: Store, settings, images) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QHeaderView

    window = MainWindow(store, settings, images=images, pool=SyncPool())
    qtbot.addWidget(window)
    header = window.table.horizontalHeader()
    header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Interactive)
    window.save_settings()
    window.table.restore_header(settings.value(keys.HEADER_STATE))
    assert header.sectionResizeMode(Column.TITLE) == QHeaderView.ResizeMode.Stretch


def test_history_dialog_lists_the_journal(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    _cid, _path = open_example(edit_window, cards)
    edit_quality(edit_window)
    edit_published(edit_window)
    edit_window.actions.history.trigger()
    dialog = edit_window.edits.history_dialog
    assert dialog is not None
    texts = [step for step, _card, _when in dialog.rows()]
    assert texts == ["Library as imported", "Set quality to 70", "Publish"]
    assert [b.label for b in reversed(store.history())] == texts[1:]
    dialog.close()


def test_stylesheet_points_at_bundled_files(qapp) -> None:  # type: ignore[no-untyped-def]
    import re

    from curator.gui import resources

    sheet = resources.stylesheet()
    assert "@RESOURCES@" not in sheet
    urls = re.findall(r"url\(([^)]+)\)", sheet)
    assert urls and all(Path(u).is_file() for u in urls)
