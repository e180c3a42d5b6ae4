"""Edit > Preferences…: your name (recorded with each edit at once), the quality keys' step and the shared
folders' root map, all through the real dialog and its own OK and Cancel buttons."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from curator.core.importer import import_paths
from curator.core.store import Store, default_editor
from curator.gui import app as gui_app
from curator.gui import settings as keys
from curator.gui import workers
from curator.gui.settings import Settings
from curator.gui.views import preferences
from curator.gui.views.main_window import MainWindow
from curator.gui.views.preferences import PreferencesDialog


def open_preferences(qtbot, window: MainWindow) -> PreferencesDialog:  # type: ignore[no-untyped-def]
    """Edit > Preferences… as the menu does it: the action, then the dialog it opened."""
    window.actions.preferences.trigger()
    return shown_dialog(qtbot, window)


def shown_dialog(qtbot, window: MainWindow) -> PreferencesDialog:  # type: ignore[no-untyped-def]
    """The one Preferences dialog on screen (a closed one lingers until Qt deletes it later)."""
    [dialog] = [d for d in window.findChildren(PreferencesDialog) if d.isVisible()]
    qtbot.waitExposed(dialog)
    return dialog


def click(qtbot, dialog: PreferencesDialog, which: QDialogButtonBox.StandardButton) -> None:  # type: ignore[no-untyped-def]
    button = dialog.findChild(QDialogButtonBox).button(which)
    assert button is not None and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


OK, CANCEL = QDialogButtonBox.StandardButton.Ok, QDialogButtonBox.StandardButton.Cancel


def publish_first_card(qtbot, window: MainWindow) -> int:  # type: ignore[no-untyped-def]
    """Publish (P) the first unpublished card in the list, through the key; returns its id."""
    store = window.store
    cid = next(r.id for r in store.rows_by_id(window.model.loaded_ids()) if not r.published)
    assert window.select_card(cid)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_P)
    assert store.detail(cid).published is True  # type: ignore[union-attr]
    return cid


@pytest.fixture(autouse=True)
def no_editor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CURATOR_EDITOR", raising=False)
    monkeypatch.delenv("CURATOR_ROOT_MAP", raising=False)


def test_a_new_name_is_recorded_with_the_next_edit_at_once(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    store = edit_window.store
    dialog = open_preferences(qtbot, edit_window)
    assert dialog.name.text() == "" and dialog.name.placeholderText() == default_editor()
    qtbot.keyClicks(dialog.name, "Ana Lima")
    click(qtbot, dialog, OK)
    assert not dialog.isVisible()
    assert edit_window.settings.value(keys.EDITOR_NAME) == "Ana Lima"
    publish_first_card(qtbot, edit_window)
    latest = store.history(1)[0]
    assert latest.label.startswith("Publish") and latest.editor == "Ana Lima"
    # Emptied again: back to the default name, for the next edit too.
    dialog = open_preferences(qtbot, edit_window)
    assert dialog.name.text() == "Ana Lima"
    dialog.name.clear()
    click(qtbot, dialog, OK)
    publish_first_card(qtbot, edit_window)
    assert store.history(1)[0].editor == default_editor()
    assert edit_window.settings.value(keys.EDITOR_NAME) == ""


def test_ctrl_comma_opens_it_and_cancel_changes_nothing(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    before_editor = edit_window.store.editor
    before_texts = [a.text() for a in edit_window.actions.quality_keys]
    edit_window.activateWindow()
    edit_window.table.setFocus()
    qtbot.keyClick(edit_window.table, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = shown_dialog(qtbot, edit_window)
    qtbot.keyClicks(dialog.name, "Someone Else")
    dialog.step.setValue(7)
    click(qtbot, dialog, CANCEL)
    assert not dialog.isVisible()
    assert edit_window.store.editor == before_editor
    assert [a.text() for a in edit_window.actions.quality_keys] == before_texts
    s = edit_window.settings
    assert (
        s.value(keys.EDITOR_NAME) == "" and s.value(keys.QUALITY_SCALE) == 10 and s.value(keys.ROOT_MAP) == []
    )


def test_the_quality_step_sets_the_digit_keys(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    dialog = open_preferences(qtbot, edit_window)
    assert preferences.QUALITY_TEXT in [w.text() for w in dialog.findChildren(type(dialog.step_example))]
    dialog.step.setValue(5)
    assert dialog.step_example.text() == "With 5: 1 sets 5, 5 sets 25, 9 sets 45, 0 sets 50."
    click(qtbot, dialog, OK)
    assert edit_window.settings.value(keys.QUALITY_SCALE) == 5
    assert [edit_window.actions.quality_keys[d].data() for d in (1, 9, 0)] == [5, 45, 50]
    cid = next(r.id for r in edit_window.store.rows_by_id(edit_window.model.loaded_ids()) if not r.problems)
    assert edit_window.select_card(cid)
    edit_window.actions.advance.setChecked(False)
    qtbot.keyClick(edit_window.table, Qt.Key.Key_9)
    assert edit_window.store.detail(cid).quality == 45  # type: ignore[union-attr]


@pytest.fixture
def mounted(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A library imported from mountA, and mountB holding the same files (another machine's mount)."""
    mount_a, mount_b = tmp_path / "X" / "mountA", tmp_path / "X" / "mountB"
    (mount_a / "sub").mkdir(parents=True)
    (mount_a / "a.yaml").write_text("title: Alpha\n", encoding="utf-8")
    (mount_a / "sub" / "b.yaml").write_text("title: Beta\n", encoding="utf-8")
    db = tmp_path / "library.sqlite"
    with Store(db) as store:
        assert import_paths(store, [mount_a]).added == 2
    shutil.copytree(mount_a, mount_b)
    return db, mount_a, mount_b


def open_app_window(qtbot, db: Path, settings: Settings) -> MainWindow:  # type: ignore[no-untyped-def]
    window = gui_app.open_window(db, settings)
    assert window is not None
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    window.show()
    return window


def test_a_shared_folder_mapped_with_browse_is_saved_and_used_when_the_library_opens_again(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path, mounted, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, mount_a, mount_b = mounted
    workers.set_default_pool(workers.SyncPool())
    try:
        settings = Settings.from_file(tmp_path / "settings.ini")
        other = "/srv/another-library=/mnt/other"  # another library's root: kept as it is
        settings.set_value(keys.ROOT_MAP, [other])
        settings.set_value(keys.EDITOR_NAME, "Ben")
        window = open_app_window(qtbot, db, settings)
        assert window.store.editor == "Ben"  # the app opens the Store with the saved name
        dialog = open_preferences(qtbot, window)
        table = dialog.folders
        assert table.rowCount() == 1 and table.isVisible()
        assert table.item(0, 0).text() == str(mount_a)
        assert dialog.locals[0].text() == "" and dialog.locals[0].placeholderText() == "Same place"
        asked: list[str] = []
        monkeypatch.setattr(
            preferences, "choose_folder", lambda _parent, start: asked.append(start) or str(mount_b)
        )
        browse = table.cellWidget(0, preferences.BROWSE_COLUMN)
        qtbot.mouseClick(browse, Qt.MouseButton.LeftButton)
        assert asked == [str(mount_a)] and dialog.locals[0].text() == str(mount_b)
        click(qtbot, dialog, OK)
        assert settings.value(keys.ROOT_MAP) == [other, f"{mount_a}={mount_b}"]
        # Applied the next time the library is opened, as the dialog says.
        assert preferences.APPLIES_LATER
        window.close()
        window = open_app_window(qtbot, db, settings)
        assert sorted(r.path for r in window.store.rows()) == [
            str(mount_b / "a.yaml"),
            str(mount_b / "sub" / "b.yaml"),
        ]
        # The dialog now shows the mapped folder; emptying it maps the folder back to where it was imported.
        dialog = open_preferences(qtbot, window)
        assert dialog.locals[0].text() == str(mount_b)
        dialog.locals[0].clear()
        click(qtbot, dialog, OK)
        assert settings.value(keys.ROOT_MAP) == [other]
        window.close()
    finally:
        workers.set_default_pool(None)


def test_a_relative_folder_is_refused_and_nothing_is_saved(qtbot, tmp_path: Path, mounted) -> None:  # type: ignore[no-untyped-def]
    db, mount_a, _ = mounted
    workers.set_default_pool(workers.SyncPool())
    try:
        settings = Settings.from_file(tmp_path / "settings.ini")
        window = open_app_window(qtbot, db, settings)
        dialog = open_preferences(qtbot, window)
        qtbot.keyClicks(dialog.locals[0], "mnt/news")
        qtbot.keyClicks(dialog.name, "Cleo")
        click(qtbot, dialog, OK)
        assert dialog.isVisible() and dialog.error.isVisible()
        assert dialog.error.text() == f"Give the whole path of the folder for {mount_a} (not 'mnt/news')."
        assert settings.value(keys.ROOT_MAP) == [] and settings.value(keys.EDITOR_NAME) == ""
        assert window.store.editor != "Cleo"
        click(qtbot, dialog, CANCEL)
        window.close()
    finally:
        workers.set_default_pool(None)


def test_a_library_without_imported_folders_says_so(qtbot, tmp_path: Path, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    workers.set_default_pool(workers.SyncPool())
    try:
        window = open_app_window(qtbot, tmp_path / "empty.sqlite", settings)
        dialog = open_preferences(qtbot, window)
        assert not dialog.folders.isVisible() and dialog.no_roots.isVisible()
        click(qtbot, dialog, OK)
        assert settings.value(keys.ROOT_MAP) == []
        window.close()
    finally:
        workers.set_default_pool(None)


def test_a_library_opened_by_connect_records_the_saved_name(
    qtbot, tmp_path: Path, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """File > Connect to Team Library… opens its Store without a name; the switch gives it the saved one."""
    workers.set_default_pool(workers.SyncPool())
    try:
        settings.set_value(keys.EDITOR_NAME, "Dana")
        old = gui_app.open_window(tmp_path / "first.sqlite", settings)  # closed (and deleted) by the switch
        assert old is not None
        old.files.ask_close = lambda _box: "keep"
        old.show()
        other = Store(tmp_path / "second.sqlite")
        assert other.editor == default_editor()
        window = gui_app.switch_library(old, other, str(other.path), settings)
        assert window is not None
        qtbot.addWidget(window)
        window.files.ask_close = lambda _box: "keep"
        assert window.store is other and other.editor == "Dana"
        window.close()
    finally:
        workers.set_default_pool(None)


def test_the_librarys_checks_thresholds_are_set_here_and_the_checks_rebuilt(qtbot, edit_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The thresholds belong to the library (the CLI's dupes and related --suggest read the same): OK saves
    them there and the window refreshes its checks, which rebuild with them; Cancel changes nothing."""
    store = edit_window.store
    before = store.check_thresholds()
    dialog = open_preferences(qtbot, edit_window)
    assert (dialog.copy_ratio.value(), dialog.min_score.value(), dialog.window_days.value()) == (
        round(before.copy_ratio), before.min_score, before.window_days)
    dialog.min_score.setValue(0.6)
    click(qtbot, dialog, CANCEL)
    assert store.check_thresholds() == before
    store.refresh_checks()
    refreshes = edit_window.checks.refreshes
    dialog = open_preferences(qtbot, edit_window)
    dialog.copy_ratio.setValue(95)
    dialog.min_score.setValue(0.6)
    dialog.window_days.setValue(7.0)
    click(qtbot, dialog, OK)
    assert not dialog.isVisible()
    now = store.check_thresholds()
    assert (now.copy_ratio, now.min_score, now.window_days) == (95.0, 0.6, 7.0)
    assert now.bands == before.bands  # the rest kept
    qtbot.waitUntil(lambda: edit_window.checks.refreshes > refreshes, timeout=20000)
    assert store.refresh_checks().rebuilt is False  # the window's refresh already rebuilt with them
