"""The card list's context menu (table and grid): open the article, copy its link or title, reveal its
file, publish or unpublish.

A right click makes the card under the mouse the card in hand first (current, selected and shown in the
detail pane, unless it is already part of the selection), so the menu can never act on another card than
the one the editor pointed at. Publish/Unpublish go through the window's own actions, so they are the
same single undo step as the P and U keys. Opening a link or a folder that no program accepts says so in
a message box (QDesktopServices.openUrl returns False), never fails silently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QObject, QPoint, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QMenu

from curator.core.store_types import CardDetail
from curator.gui import plain
from curator.gui.images import is_fetchable
from curator.gui.models.card_table import Column

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow


def open_folder_url(url: QUrl) -> bool:
    """Hand a folder to the desktop's file manager (xdg-open on Linux); False when nothing took it."""
    return QDesktopServices.openUrl(url)


class CardMenu(QObject):
    """Builds and runs the context menu of one window's card views."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        #: Opens a folder (tests record instead of starting a file manager).
        self.folder_opener: Callable[[QUrl], bool] = open_folder_url
        #: Shows the menu at a global position (tests replace it to pick an entry without a popup).
        self.popup: Callable[[QMenu, QPoint], object] = lambda menu, at: menu.exec(at)
        self.last_menu: QMenu | None = None
        self._asked = 0  # right clicks: only the newest one's menu opens
        for view in (window.table, window.grid):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda pos, v=view: self.request(v, pos))

    def request(self, view: QAbstractItemView, pos: QPoint) -> QMenu | None:
        """A right click at `pos` (viewport coordinates) in `view`: take that card in hand, show the menu."""
        index = view.indexAt(pos)
        if not index.isValid():
            return None
        window = self.window
        selection = window.table.selectionModel()
        row_index = window.model.index(index.row(), Column.TITLE)
        if not selection.isRowSelected(index.row()):
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            selection.setCurrentIndex(row_index, flags)
        else:  # part of a selection: keep the selection (publish acts on it), but this card is current
            selection.setCurrentIndex(row_index, QItemSelectionModel.SelectionFlag.NoUpdate)
        card_id = window.current_id()
        if card_id is None:
            return None
        # The card is read through the window's trips: on a team library off the GUI thread, the menu
        # opening when it arrives (the newest right click wins); on SQLite at once, and returned.
        self._asked += 1
        asked = self._asked
        shown: list[QMenu] = []

        def show(detail: CardDetail | None) -> None:
            if detail is None or asked != self._asked:
                return
            menu = self.build(detail)
            self.last_menu = menu
            shown.append(menu)
            self.popup(menu, view.viewport().mapToGlobal(pos))

        trips = window.trips
        trips.read(lambda store: store.detail(card_id), show, trips.reporter("Reading the card for its menu"))
        return shown[0] if shown else None

    def build(self, card: CardDetail) -> QMenu:
        """The menu for `card` (the card in hand)."""
        menu = QMenu(self.window)
        menu.setObjectName("cardContextMenu")
        url = card.data.get("sourceUrl")
        link = url if isinstance(url, str) else None
        a = self.window.actions
        open_article = menu.addAction("Open Article", lambda: self.open_article(link))
        open_article.setEnabled(is_fetchable(link))
        copy_link = menu.addAction("Copy Link", lambda: QGuiApplication.clipboard().setText(link or ""))
        copy_link.setEnabled(bool(link))
        title = card.title or ""
        menu.addAction("Copy Title", lambda: QGuiApplication.clipboard().setText(title)).setEnabled(bool(title))
        menu.addAction("Reveal File", lambda: self.reveal(card.path))
        menu.addSeparator()
        count = len(self.window.selected_ids())
        suffix = f" ({count:,} cards)" if count > 1 else ""
        if card.published:
            menu.addAction(f"Unpublish{suffix}", a.unpublish.trigger)
        else:
            menu.addAction(f"Publish{suffix}", a.publish.trigger)
        return menu

    def open_article(self, url: str | None) -> bool:
        """Open the card's article; a link no browser accepts is said in a message box."""
        opened = self.window.detail.open_link(url)
        return opened

    def reveal(self, path: str) -> bool:
        """Show the card's folder in the file manager; a folder no program opens is said in a message box."""
        folder = Path(path).parent
        if not folder.is_dir():
            plain.warning(self.window, "Cannot show the file", f"The folder {folder} does not exist any more.")
            return False
        if self.folder_opener(QUrl.fromLocalFile(str(folder))):
            return True
        plain.warning(self.window, "Cannot show the file",
                      f"No file manager could be started to show {folder}.\n\nThe card's file is {path}")  # fmt: skip
        return False
