"""The card list's states and menu: the first start's empty library (samples copied, never imported in
place), stale and empty search results, the clear button, counts that agree, and the row context menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QToolButton

from curator import paths, samples
from curator.core.store import Store
from curator.gui import plain
from curator.gui.images import ImageCache
from curator.gui.models.card_table import Column
from curator.gui.settings import Settings
from curator.gui.views.empty_state import RECENT_FOLDERS
from curator.gui.views.main_window import MainWindow
from curator.gui.workers import SyncPool

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def make_window(qtbot, store: Store, settings: Settings, images: ImageCache) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(store, settings, images=images, pool=SyncPool())
    window.import_workers = 1
    window.detail.opener = lambda _url: True  # a browser that started
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every folder of Curator's own under the test's folder (the sample cards' copy included)."""
    monkeypatch.setenv("CURATOR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox]:
    shown: list[QMessageBox] = []
    monkeypatch.setattr(plain, "show", lambda box: shown.append(box) or 0)
    return shown


def shown(widget, window: MainWindow) -> bool:  # type: ignore[no-untyped-def]
    return bool(widget.isVisibleTo(window))


# -- item 5: the first start ----------------------------------------------------------------------------
def test_first_start_shows_the_empty_state_and_try_samples_imports_a_copy(qtbot, tmp_path: Path, home: Path, settings: Settings, images: ImageCache) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "empty.sqlite")
    window = make_window(qtbot, store, settings, images)
    window.start(None)
    assert store.count() == 0  # nothing imported by itself, from seeds/ or anywhere
    states = window.list_states
    assert shown(states.empty, window) and not shown(states.no_matches, window)
    assert states.empty.geometry() == window.stack.rect()  # covers the list
    assert not shown(states.empty.recent_heading, window)  # nothing opened before

    qtbot.mouseClick(states.empty.samples_button, Qt.MouseButton.LeftButton)
    dest = paths.samples_dir()
    assert dest.is_relative_to(home)
    expected = len(samples.sample_files(samples.source()))
    assert expected > 300 and store.count() == expected == window.model.total
    card_paths = [r.path for r in store.rows(None, limit=expected + 1)]
    assert all(Path(p).is_relative_to(dest) for p in card_paths)  # the copy, never seeds/
    assert not any(Path(p).is_relative_to(SEEDS) for p in card_paths)
    assert not shown(states.empty, window)
    assert str(dest) in settings.value(RECENT_FOLDERS)
    store.close()

    # Another empty library offers the folder opened before; a click opens it.
    other = Store(tmp_path / "other.sqlite")
    second = make_window(qtbot, other, settings, images)
    second.start(None)
    buttons = second.list_states.empty.recent_buttons
    assert [b.text() for b in buttons] == [str(dest)] and shown(second.list_states.empty.recent_heading, second)
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    assert other.count() == expected
    other.close()


def test_a_given_folder_is_imported_without_the_empty_state(qtbot, tmp_path: Path, home: Path, settings: Settings, images: ImageCache) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "empty.sqlite")
    window = make_window(qtbot, store, settings, images)
    folder = samples.copy_to(tmp_path / "mine")
    window.start(str(folder))
    assert store.count() > 300 and not shown(window.list_states.empty, window)
    store.close()


# -- item 12: search ------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, store: Store, settings: Settings, images: ImageCache) -> MainWindow:  # type: ignore[no-untyped-def]
    return make_window(qtbot, store, settings, images)


def type_query(qtbot, window: MainWindow, text: str) -> None:  # type: ignore[no-untyped-def]
    edit = window.filter_bar.edit
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.waitUntil(lambda: not window.filter_bar._timer.isActive(), timeout=3000)  # the debounce ran


def test_a_syntax_error_greys_the_stale_results_until_the_text_parses(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    type_query(qtbot, window, "topic:AI")
    results = window.model.total
    assert results > 0 and not window.list_states.fade.isEnabled()
    type_query(qtbot, window, 'topic:AI "unclosed')
    assert window.filter_bar.error_text is not None
    assert window.list_states.fade.isEnabled()  # greyed: these are topic:AI's cards, not the text's
    assert window.model.total == results
    qtbot.keyClick(window.filter_bar.edit, Qt.Key.Key_QuoteDbl)
    qtbot.waitUntil(lambda: window.filter_bar.error_text is None, timeout=3000)
    assert not window.list_states.fade.isEnabled()


def test_words_of_a_related_items_title_find_the_card(qtbot, window: MainWindow, store: Store) -> None:  # type: ignore[no-untyped-def]
    """Item 12: full text covers related items' titles ("Yandex" is only in the example card's related list)."""
    type_query(qtbot, window, "yandex")
    assert window.model.total == 1 == store.count("yandex")
    assert "face recognition" in (getattr(window.model.card_at(0), "title", None) or "")


def test_no_matches_says_so_and_clear_search_brings_every_card_back(qtbot, window: MainWindow, store: Store) -> None:  # type: ignore[no-untyped-def]
    type_query(qtbot, window, "zqxwv")
    assert window.model.total == 0
    overlay = window.list_states.no_matches
    assert shown(overlay, window) and overlay.message.text() == "No cards match “zqxwv”"
    qtbot.mouseClick(overlay.clear_button, Qt.MouseButton.LeftButton)
    assert window.filter_bar.text() == "" and window.model.total == store.count()
    assert not shown(overlay, window)


def test_the_clear_button_in_the_search_bar_empties_the_search(qtbot, window: MainWindow, store: Store) -> None:  # type: ignore[no-untyped-def]
    type_query(qtbot, window, "topic:AI")
    assert window.model.total < store.count()
    action = window.filter_bar.clear_action
    assert action is not None and action.isVisible()
    button = next(b for b in window.filter_bar.edit.findChildren(QToolButton) if b.defaultAction() is action)
    qtbot.waitUntil(button.isVisible, timeout=2000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.total == store.count(), timeout=3000)
    assert window.filter_bar.text() == ""


def test_facet_counts_and_the_status_bar_agree(qtbot, window: MainWindow, store: Store) -> None:  # type: ignore[no-untyped-def]
    type_query(qtbot, window, "topic:AI")
    total = window.model.total
    facet_all = window.facets.find("status", "All cards")
    assert facet_all is not None and int(facet_all.text(1).replace(",", "")) == total
    assert window.status_line.shown_label.text().startswith(f"{total:,} shown of {store.count():,} cards")
    problems = window.facets.find("status", "With problems")
    assert problems is not None and int(problems.text(1).replace(",", "")) == store.count("topic:AI problems:true")
    # The status bar's other counts are the whole library's, and say so.
    totals = store.totals()
    assert window.status_line.changed_label.text().startswith("Library: ")
    assert f"{totals.problems:,} with problems" in window.status_line.changed_label.text()


# -- item 14: the context menu --------------------------------------------------------------------------
def right_click(view, row: int, window: MainWindow) -> QMenu:  # type: ignore[no-untyped-def]
    """A real context-menu event on `row` of `view` (the menu is kept, not run, so a test picks an entry)."""
    menus: list[QMenu] = []
    window.card_menu.popup = lambda menu, _at: menus.append(menu)
    index = window.model.index(row, Column.TITLE)
    view.scrollTo(index)
    pos = view.visualRect(index).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    assert len(menus) == 1
    return menus[0]


def entry(menu: QMenu, text: str):  # type: ignore[no-untyped-def]
    found = [a for a in menu.actions() if a.text() == text]
    assert len(found) == 1, [a.text() for a in menu.actions()]
    return found[0]


@pytest.mark.parametrize("mode", ["table", "grid"])
def test_the_context_menu_acts_on_the_card_under_the_mouse(qtbot, window: MainWindow, store: Store, mode: str) -> None:  # type: ignore[no-untyped-def]
    window.set_view_mode(mode)
    view = window.current_view()
    qtbot.waitExposed(window)
    assert window.select_card(window.model.card_at(0).id)  # the card in hand is the first one…
    target = window.model.card_at(2)
    menu = right_click(view, 2, window)
    assert window.current_id() == target.id and window.selected_ids() == [target.id]  # …now the clicked one
    assert window.detail.card.id == target.id
    detail = store.detail(target.id)

    entry(menu, "Copy Title").trigger()
    assert QGuiApplication.clipboard().text() == detail.title
    entry(menu, "Copy Link").trigger()
    assert QGuiApplication.clipboard().text() == detail.data["sourceUrl"]
    opened: list[str] = []
    window.detail.opener = lambda url: opened.append(url) or True
    entry(menu, "Open Article").trigger()
    assert opened == [detail.data["sourceUrl"]]
    folders: list[str] = []
    window.card_menu.folder_opener = lambda url: folders.append(url.toLocalFile()) or True
    entry(menu, "Reveal File").trigger()
    assert folders == [str(Path(detail.path).parent)]

    first = window.model.card_at(0).id
    publish = "Unpublish" if detail.published else "Publish"
    entry(menu, publish).trigger()
    assert store.detail(target.id).published is (publish == "Publish")
    assert store.detail(first).dirty is False  # the card that was in hand before is untouched


def test_an_article_no_browser_opens_and_a_folder_no_file_manager_opens_say_so(qtbot, window: MainWindow, store: Store, boxes: list[QMessageBox]) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitExposed(window)
    menu = right_click(window.table, 1, window)
    url = store.detail(window.current_id()).data["sourceUrl"]
    window.detail.opener = lambda _url: False  # QDesktopServices.openUrl: no browser could be started
    entry(menu, "Open Article").trigger()
    assert len(boxes) == 1 and "No web browser could be started" in boxes[0].text() and url in boxes[0].text()
    assert boxes[0].textFormat() == Qt.TextFormat.PlainText
    # The detail pane's button and Enter on the list go the same way.
    qtbot.mouseClick(window.detail.source_button, Qt.MouseButton.LeftButton)
    assert len(boxes) == 2
    window.card_menu.folder_opener = lambda _url: False
    entry(menu, "Reveal File").trigger()
    assert len(boxes) == 3 and "No file manager could be started" in boxes[2].text()


def test_a_right_click_on_no_row_shows_no_menu(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    type_query(qtbot, window, "zqxwv")
    menus: list[QMenu] = []
    window.card_menu.popup = lambda menu, _at: menus.append(menu)
    pos = QPoint(10, 10)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, window.table.viewport().mapToGlobal(pos))
    QApplication.sendEvent(window.table.viewport(), event)
    assert menus == [] and event.type() == QEvent.Type.ContextMenu

