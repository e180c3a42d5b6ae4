"""The main window over a real library: facets, search, errors, detail, keys, settings, imports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import Server, png_bytes
from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtWidgets import QApplication

from curator.core.store import Store
from curator.gui import settings as keys
from curator.gui.images import ImageCache, ImageState
from curator.gui.models.card_table import Column, Role
from curator.gui.settings import Settings
from curator.gui.views import window_layout
from curator.gui.views.detail_panel import open_url
from curator.gui.views.main_window import MainWindow
from curator.gui.workers import SyncPool

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def make_window(qtbot, store: Store, settings: Settings, images: ImageCache) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(store, settings, images=images, pool=SyncPool())
    window.import_workers = 1
    opened: list[str] = []
    window.detail.opener = opened.append  # record instead of launching a browser
    window.opened = opened  # type: ignore[attr-defined]
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(qtbot, store: Store, settings: Settings, images: ImageCache) -> MainWindow:  # type: ignore[no-untyped-def]
    return make_window(qtbot, store, settings, images)


def write_card(folder: Path, name: str, title: str, *, image: str | None = None, source: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", "category: news", f'title: "{title}"',
             "quality: 61", "heat: -1", "published: false", "provider:", "  name: Test Wire", "  domain: test.example",
             "topics:", "  - Testing"]  # fmt: skip
    if source:
        lines.append(f"sourceUrl: {source}")
    if image:
        lines += ["images:", f"  - url: {image}", "    width: 400", "    height: 200"]
    lines.append("---")
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def click_facet(qtbot, window: MainWindow, group: str, label: str) -> None:  # type: ignore[no-untyped-def]
    item = window.facets.find(group, label)
    assert item is not None, f"no facet {label!r} in {group}"
    window.facets.scrollToItem(item)
    rect = window.facets.visualItemRect(item)
    qtbot.mouseClick(window.facets.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_facets_add_and_remove_terms_in_the_search_text(qtbot, window: MainWindow, store: Store) -> None:
    all_cards = store.count()
    assert window.model.total == all_cards
    ai = window.facets.find("topic", "AI")
    assert ai is not None and int(ai.text(1).replace(",", "")) == store.count("topic:AI")
    click_facet(qtbot, window, "topic", "AI")
    assert window.filter_bar.text() == "topic:AI"
    assert window.model.total == store.count("topic:AI") < all_cards
    # Counts now follow the query: the published facet counts AI cards only.
    click_facet(qtbot, window, "status", "Published")
    assert window.filter_bar.text() == "topic:AI published:true"
    assert window.model.total == store.count("topic:AI published:true")
    assert all(window.model.card_at(r).published for r in range(window.model.rowCount()))  # type: ignore[union-attr]
    # The opposite status replaces it rather than contradicting it.
    click_facet(qtbot, window, "status", "Unpublished")
    assert window.filter_bar.text() == "topic:AI published:false"
    click_facet(qtbot, window, "topic", "AI")
    assert window.filter_bar.text() == "published:false"
    click_facet(qtbot, window, "status", "All cards")
    assert window.filter_bar.text() == ""
    assert window.model.total == all_cards


def test_typing_filters_after_a_pause_and_errors_show_inline(qtbot, window: MainWindow, store: Store) -> None:
    bar = window.filter_bar
    with qtbot.waitSignal(bar.queryChanged, timeout=2000):
        qtbot.keyClicks(bar.edit, "quality>=70")
    assert window.model.total == store.count("quality>=70")
    assert bar.error_text is None
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "(ai OR")
    qtbot.waitUntil(lambda: bar.error_text is not None, timeout=2000)
    assert "column" in bar.error_text  # type: ignore[operator]
    assert bar.error_label.isVisible()
    assert window.model.query == "quality>=70"  # the list stays on the last good query
    bar.edit.clear()
    qtbot.keyClicks(bar.edit, "(ai OR vision)")
    qtbot.waitUntil(lambda: bar.error_text is None, timeout=2000)
    qtbot.waitUntil(lambda: window.model.query == "(ai OR vision)", timeout=2000)
    assert window.model.total == store.count("(ai OR vision)")


def test_completer_offers_fields_and_library_values(window: MainWindow, store: Store) -> None:
    offers = window.filter_bar.completions("topic:")
    assert "topic:AI" in offers
    assert any(o.startswith("topic:") and '"' in o for o in offers)  # multi-word values come quoted
    assert "provider:" in window.filter_bar.completions("prov")


def test_detail_follows_the_selection_and_keys_move(qtbot, window: MainWindow) -> None:
    table = window.table
    table.setFocus()
    index = window.model.index(4, Column.TITLE)
    table.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                           | QItemSelectionModel.SelectionFlag.Rows)  # fmt: skip
    card = window.model.card_at(4)
    assert card is not None
    assert window.detail.title.text() == (card.title or "(no title)")
    assert window.detail.path.text() == card.path
    qtbot.keyClick(table, Qt.Key.Key_J)
    assert window.current_id() == window.model.card_at(5).id  # type: ignore[union-attr]
    assert window.detail.path.text() == window.model.card_at(5).path  # type: ignore[union-attr]
    qtbot.keyClick(table, Qt.Key.Key_K)
    qtbot.keyClick(table, Qt.Key.Key_K)
    assert window.current_id() == window.model.card_at(3).id  # type: ignore[union-attr]
    # Enter opens the card's source, and only an http(s) one.
    qtbot.keyClick(table, Qt.Key.Key_Return)
    detail = window.store.detail(window.model.card_at(3).id)  # type: ignore[union-attr]
    assert window.opened == [detail.data["sourceUrl"]]  # type: ignore[attr-defined, union-attr]
    assert detail.data["sourceUrl"].startswith("http")  # type: ignore[union-attr]
    assert open_url("javascript:alert(1)") is False
    assert open_url("file:///etc/passwd") is False


def test_ctrl_1_and_ctrl_2_switch_views_keeping_the_selection(qtbot, window: MainWindow) -> None:
    window.select_card(window.model.card_at(2).id)  # type: ignore[union-attr]
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.view_mode() == "grid" and window.stack.currentWidget() is window.grid
    assert window.grid.currentIndex().row() == 2
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.view_mode() == "table"


def test_rich_text_in_a_title_shows_literally(qtbot, window: MainWindow, tmp_path: Path) -> None:
    title = "<img src=http://127.0.0.1:9/x.png><b>Bold</b> &amp; <a href=javascript:x>link</a>"
    write_card(tmp_path / "cards", "rich.txt", title)
    window.import_paths([str(tmp_path / "cards")])
    window.filter_bar.set_text("provider:\"Test Wire\"")
    assert window.model.total == 1
    assert window.model.index(0, Column.TITLE).data() == title
    label = window.detail.title
    assert label.text() == title
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert window.detail.preview.title.text() == title
    # Rendered as characters: the label is as wide as the literal text, not an image plus one word.
    assert label.fontMetrics().horizontalAdvance("<img src=") > 0
    assert label.sizeHint().width() > label.fontMetrics().horizontalAdvance("Bold & link")


def test_detail_images_load_from_a_server_and_show_broken_when_it_is_down(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # fmt: skip
    server = Server({"/lead.png": ("image/png", png_bytes(800, 400))})
    try:
        up = server.url("/lead.png")
        write_card(tmp_path / "cards", "a.txt", "Card with an image", image=up, source="https://example.com/a")
        write_card(tmp_path / "cards", "b.txt", "Card whose image host is down",
                   image=f"http://127.0.0.1:{server.port}/gone.png")  # fmt: skip
        window.import_paths([str(tmp_path / "cards")])
        window.filter_bar.set_text('"Card with an image"')
        assert window.model.total == 1
        image = window.detail.image
        qtbot.waitUntil(lambda: image.state is ImageState.READY, timeout=8000)
        # Fitted to the lead box (432 wide at most, narrower when the pane is), aspect kept.
        assert image.pixmap().width() == image.box.width() <= 432
        assert image.pixmap().width() == 2 * image.pixmap().height()
        assert server.hits["/lead.png"] == 1
    finally:
        server.stop()
    window.filter_bar.set_text('"image host is down"')
    assert window.model.total == 1
    qtbot.waitUntil(lambda: image.state is ImageState.BROKEN, timeout=8000)
    # A broken lead image shrinks instead of filling the panel.
    assert image.height() == 90 and image.pixmap().size() == QSize(160, 90)
    assert "unavailable" in image.toolTip()


def test_settings_persist_across_windows(qtbot, store: Store, settings: Settings, images: ImageCache) -> None:
    first = make_window(qtbot, store, settings, images)
    first.set_view_mode("grid")
    first.table.setColumnHidden(Column.TOPICS, True)
    first.model.sort(Column.QUALITY, Qt.SortOrder.DescendingOrder)
    first.filter_bar.set_text("topic:AI")
    # Within the offscreen screen (restoreGeometry clamps a window to its screen).
    first.resize(QApplication.primaryScreen().availableGeometry().size() * 0.9)
    first.splitter.setSizes([200, 300, 250])
    size, sizes = first.size(), first.splitter.sizes()
    fits = window_layout.fits_a_screen(first)  # the offscreen screen (800 wide) is below the window's minimum
    first.close()
    assert settings.value(keys.VIEW_MODE) == "grid"

    second = make_window(qtbot, store, settings, images)
    assert second.view_mode() == "grid"
    assert second.table.isColumnHidden(Column.TOPICS)
    assert second.model.sort_key == ("quality", True)
    assert second.filter_bar.text() == "topic:AI"
    assert second.model.query == "topic:AI"
    # Layout settles once the window is shown and sized from the restored geometry.
    if fits:  # a saved geometry that does not fit the screen is not restored (see test_window_fit)
        qtbot.waitUntil(lambda: second.splitter.sizes() == sizes, timeout=3000)
        assert second.size() == size
    assert second.table.horizontalHeader().sortIndicatorSection() == Column.QUALITY


@pytest.fixture
def empty_window(qtbot, tmp_path: Path, settings: Settings, images: ImageCache) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "empty.sqlite")
    yield make_window(qtbot, store, settings, images)
    store.close()


def test_an_import_reports_progress_and_fills_the_list(empty_window: MainWindow, tmp_path: Path) -> None:
    # (The first start no longer imports anything by itself: see test_desk_list.py for the empty state.)
    cards = tmp_path / "cards"
    shutil.copytree(SEEDS, cards)
    progress: list[tuple[int, int]] = []
    empty_window.importProgress.connect(lambda d, t: progress.append((d, t)))
    assert empty_window.model.total == 0
    empty_window.start(str(cards))
    report = empty_window.last_import
    assert report is not None and not report.cancelled and report.failed == 0
    seeds = sum(1 for p in cards.rglob("*") if p.is_file() and p.suffix in (".txt", ".md", ".yaml", ".yml"))
    assert empty_window.model.total == empty_window.store.count() == seeds
    assert progress[-1] == (seeds, seeds)
    assert "shown of" in empty_window.status_line.shown_label.text()
    assert empty_window.progress.isHidden()


def test_import_can_be_cancelled(empty_window: MainWindow, tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(SEEDS, cards)
    empty_window.importProgress.connect(lambda done, _total: empty_window.cancel_task() if done else None)
    empty_window.import_paths([str(cards)])
    report = empty_window.last_import
    assert report is not None and report.cancelled
    total = sum(1 for p in cards.rglob("*") if p.is_file())
    assert 0 < empty_window.store.count() < total  # what was stored stays; the rest was not read
    assert empty_window.model.total == empty_window.store.count()


def test_import_on_a_real_worker_thread(qtbot, tmp_path: Path, settings: Settings, images: ImageCache) -> None:
    store = Store(tmp_path / "threaded.sqlite")
    window = MainWindow(store, settings, images=images)  # the global QThreadPool
    window.import_workers = 1
    qtbot.addWidget(window)
    write_card(tmp_path / "cards", "one.txt", "First")
    write_card(tmp_path / "cards", "two.txt", "Second")
    with qtbot.waitSignal(window.importFinished, timeout=10_000) as finished:
        window.import_paths([str(tmp_path / "cards")])
        assert window.progress.isVisible() or not window.isVisible()
    assert finished.args[0].added == 2
    assert window.model.total == 2
    assert not window.actions.cancel_task.isEnabled()
    store.close()
    QApplication.processEvents()


def test_a_broken_lead_image_does_not_leave_the_role_empty(window: MainWindow) -> None:
    index = window.model.index(0, Column.TITLE)
    assert index.data(Role.IMAGE_URL) == window.model.card_at(0).lead_image  # type: ignore[union-attr]


def test_scan_roots_drop_nested_folders() -> None:
    from curator.gui.views.importing import scan_roots

    paths = ["/c/2020-01/a.txt", "/c/2020-01/b.txt", "/c/2020-02/x/c.txt", "/c/2020-02/d.txt", "/cards/e.txt"]
    assert scan_roots(paths) == ["/c/2020-01", "/c/2020-02", "/cards"]


def test_rescan_picks_up_changed_and_new_files(empty_window: MainWindow, tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    first = write_card(cards, "one.txt", "Before the edit")
    empty_window.import_paths([str(cards)])
    assert empty_window.model.total == 1
    first.write_text(first.read_text().replace("Before the edit", "After the edit"), encoding="utf-8")
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 5_000_000_000))
    write_card(cards / "later", "two.txt", "A new card")
    empty_window.rescan()
    report = empty_window.last_import
    assert report is not None and (report.updated, report.added) == (1, 1)
    titles = {empty_window.model.card_at(r).title for r in range(empty_window.model.rowCount())}  # type: ignore[union-attr]
    assert titles == {"After the edit", "A new card"}
    assert empty_window.progress.isHidden()


def test_column_menu_hides_and_shows_columns(window: MainWindow) -> None:
    menu = window.table.columns_menu()
    by_text = {a.text(): a for a in menu.actions()}
    assert not by_text["Title"].isEnabled()  # the title always stays
    by_text["Topics"].setChecked(False)
    assert window.table.isColumnHidden(Column.TOPICS)
    assert "topics" in window.table.hidden_columns()
    window.table.columns_menu().actions()[Column.TOPICS].setChecked(True)
    assert not window.table.isColumnHidden(Column.TOPICS)


def test_table_and_grid_paint_every_kind_of_row(qtbot, window: MainWindow) -> None:
    # Painting runs the delegates (bars, markers, tiles); an exception in paint() fails the test (pytest-qt).
    window.filter_bar.set_text("problems:true OR published:true OR heat:-1")
    assert window.model.total > 0
    shot = window.table.grab()
    assert not shot.isNull() and shot.width() > 100
    window.set_view_mode("grid")
    tile = window.grid.grab()
    assert not tile.isNull()
    # The grid asks the image cache for thumbnails of the visible tiles only.
    assert window.images._wanted or window.images._broken
