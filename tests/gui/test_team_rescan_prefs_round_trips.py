"""A team library over a slow network: a rescan's reads of the card paths and the imported roots, the recent
folders read after an import, and Preferences' OK (the editor's name, the library's thresholds) never block
the GUI thread (issue 10). Each result is right, and OK's write reaches the library in the order it was made:
an edit made before OK carries the old name, one made after it the new one.

The slow server is test_team_round_trips' wrapper (pg_sleep on the calling thread's own connection first):
were a call made on the GUI thread, the ticker would see the event loop stall that long.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QDialogButtonBox
from test_team_round_trips import MAX_GAP_S, Slow, Ticker, other, team, team_db, team_template

from curator.core.store import Store
from curator.core.store_types import ImportReport
from curator.gui import settings as keys
from curator.gui.views.empty_state import RECENT_FOLDERS
from curator.gui.views.main_window import MainWindow
from curator.gui.views.preferences import PreferencesDialog

__all__ = ["other", "team", "team_db", "team_template"]  # the fixtures these tests use (boxes: conftest)


def test_a_rescan_reads_its_folders_off_the_gui_thread(qtbot, team: MainWindow, team_template: tuple[str, Path]) -> None:  # type: ignore[no-untyped-def]
    """F5: the card paths and the imported roots (what the rescan walks) and, after it, the imported roots
    again (the recent folders) are read on workers; the rescan walks the library's folder and the recent
    folders get it, while the event loop goes on."""
    cards = str(team_template[1])
    team.settings.set_value(RECENT_FOLDERS, [])
    reports: list[ImportReport] = []
    team.importFinished.connect(reports.append)
    slow = Slow(team.store)
    slow.make("card_paths")
    slow.make("get_meta", on=team.store.backend)  # imported_roots asks the backend for the roots' entry
    ticker = Ticker()
    ticker.start()
    try:
        team.actions.rescan.trigger()
        assert team.imports.running and not reports  # on its way: the folders are read on the run's worker
        qtbot.waitUntil(lambda: bool(reports) and not team.imports.running, timeout=20000)
        qtbot.waitUntil(lambda: team.settings.value(RECENT_FOLDERS) == [cards], timeout=10000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while a rescan read its folders"
    assert "curator-cards" in slow.threads  # the recent folders' read, on the window's cards lane
    assert slow.threads and not slow.on_gui_thread, slow.threads
    [report] = reports
    assert (report.added, report.unchanged, report.failed) == (0, 60, 0)  # the library's folder was walked
    assert team.importer.paths == [cards]
    assert not team.progress.isVisible()


def _open_preferences(qtbot: Any, team: MainWindow) -> PreferencesDialog:
    team.actions.preferences.trigger()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in team.findChildren(PreferencesDialog)), timeout=5000)
    [dialog] = [d for d in team.findChildren(PreferencesDialog) if d.isVisible()]
    return dialog


def test_preferences_ok_writes_on_the_edits_lane_in_order(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    """OK with a new name and new thresholds: the thresholds are written off the GUI thread, the dialog
    closes when the library took them, and the window's checks refresh. A key pressed just before OK was
    made under the old name; the key after it, under the new one."""
    card = team.detail.card
    assert card is not None
    old_name = team.store.editor
    refreshes: list[int] = []
    dialog = _open_preferences(qtbot, team)
    dialog.on_checks_changed = lambda: refreshes.append(1)
    dialog.name.setText("Ana Lima")
    dialog.min_score.setValue(0.61)
    closed: list[int] = []
    dialog.finished.connect(closed.append)  # the dialog deletes itself once closed
    before = other.check_thresholds()
    slow = Slow(team.store)
    slow.make("set_fields")
    slow.make("set_check_thresholds")
    ticker = Ticker()
    ticker.start()
    try:
        team.actions.quality_keys[3].trigger()  # on its way when OK is pressed: OK's write goes after it
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert dialog.isVisible() and not dialog.buttons.isEnabled()  # closes once the library took it
        assert team.settings.value(keys.EDITOR_NAME) == "Ana Lima"  # this computer's settings: saved at once
        team.actions.quality_keys[5].trigger()  # after OK: goes after its write
        qtbot.waitUntil(lambda: bool(closed) and not team.edits.busy, timeout=15000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while Preferences' OK wrote to the library"
    assert slow.threads.count("curator-edits") == 3 and not slow.on_gui_thread, slow.threads
    assert not boxes, [b.text() for b in boxes]
    assert closed == [PreferencesDialog.DialogCode.Accepted]
    now = other.check_thresholds()
    assert now.min_score == 0.61 and now.bands == before.bands and refreshes == [1]
    latest, previous = other.history(2)
    assert (previous.label, previous.editor) == ("Set quality to 30", old_name)
    assert (latest.label, latest.editor) == ("Set quality to 50", "Ana Lima")
    assert other.detail(card.id).quality == 50


def test_preferences_ok_refused_by_the_library_is_said_in_the_dialog(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    """The library refuses the thresholds (a read-only role, a lost server): the dialog stays open and says
    so, the library keeps its thresholds, the checks are not refreshed, and OK can be pressed again."""
    from curator.core.store_types import LibraryError

    before = other.check_thresholds()
    dialog = _open_preferences(qtbot, team)
    refreshes: list[int] = []
    dialog.on_checks_changed = lambda: refreshes.append(1)
    dialog.window_days.setValue(9.0)
    closed: list[int] = []
    dialog.finished.connect(closed.append)
    real = team.store.set_check_thresholds
    threads: list[str] = []

    def refused(_value: Any) -> None:
        import threading

        threads.append(threading.current_thread().name)
        raise LibraryError(f"{team.store.location}: this role may not change the library (test)")

    team.store.set_check_thresholds = refused  # type: ignore[method-assign]
    try:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=5000)
    finally:
        team.store.set_check_thresholds = real  # type: ignore[method-assign]
    assert threads == ["curator-edits"]
    assert dialog.isVisible() and dialog.buttons.isEnabled() and not refreshes
    assert dialog.error.text().startswith("The duplicates and same-story thresholds were not changed: ")
    assert "this role may not change the library" in dialog.error.text()
    assert other.check_thresholds() == before
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()  # again, now that the library takes it
    qtbot.waitUntil(lambda: bool(closed), timeout=5000)
    assert closed == [PreferencesDialog.DialogCode.Accepted]
    assert other.check_thresholds().window_days == 9.0 and refreshes == [1]


def test_the_undo_stack_is_rebuilt_off_the_gui_thread_and_a_key_meanwhile_goes_after_it(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: Any, team_db: str, settings: Any, tmp_path: Path, boxes: list
) -> None:  # fmt: skip
    """A window opened on a library with a journal: the undo stack's journal is read on the edits lane (the
    window opens meanwhile), and a key pressed before it arrived is the step after the journal's."""
    from curator.gui import workers
    from curator.gui.images import ImageCache

    workers.set_default_pool(None)
    settings.set_value(keys.ADVANCE, False)
    mine = Store(pg_cluster.url(team_db))
    first = mine.rows(None, limit=1)[0].id
    mine.set_fields([first], {"quality": 10}, label="Set quality to 10")
    mine.set_fields([first], {"heat": 20}, label="Set heat to 20")
    slow = Slow(mine)
    slow.make("history")
    try:
        window = MainWindow(mine, settings, images=ImageCache(tmp_path / "images"))
        window.files.ask_close = lambda _box: "keep"
        window.checks.timer.stop()
        qtbot.addWidget(window)
        window.show()
        stack = window.edits.history.stack
        assert stack.count() == 0  # the journal is on its way
        window.apply_query("")
        qtbot.waitUntil(lambda: window.detail.card is not None, timeout=10000)
        assert window.selection.select_card(first)
        qtbot.waitUntil(lambda: window.detail.card is not None and window.detail.card.id == first, timeout=10000)
        window.actions.quality_keys[9].trigger()
        qtbot.waitUntil(lambda: stack.count() == 3 and not window.edits.busy, timeout=15000)
    finally:
        slow.restore()
    try:
        assert slow.threads == ["curator-edits"] and not boxes
        assert [stack.text(i) for i in range(3)] == ["Set quality to 10", "Set heat to 20", "Set quality to 90"]
        assert stack.index() == 3
        window.actions.undo.trigger()
        qtbot.waitUntil(lambda: not window.edits.busy and stack.index() == 2, timeout=10000)
        assert window.store.detail(first).quality == 10
    finally:
        window.close()  # the close prompt's count is read on the cards lane: the window closes when it arrives
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
        window.team_library.stop()
        window.trips.stop()
        mine.close()
