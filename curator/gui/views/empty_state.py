"""What the card list shows when it has nothing to show, and when what it shows is stale.

- An empty library (the first start): "Open a folder of cards…", the folders opened before, and "Try the
  sample cards", which copies the bundled samples (:func:`curator.samples.copy_to`) into the user's own
  folder (:func:`curator.paths.samples_dir`) and imports that copy. The samples are never imported in
  place: an editor's edits must land in a copy of their own (a package folder may not even be writable).
- A query matching nothing: "No cards match …" and a Clear Search button, instead of a blank list.
- A query with a syntax error: the list still holds the last query's results, so it is greyed until the
  text parses again.

Each is an overlay over the window's list stack (table or grid), so the views and their shared selection
stay as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator import paths, samples
from curator.core.store_write import imported_roots
from curator.gui import icons, plain
from curator.gui.settings import Key

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow

#: Folders of cards imported before, newest first (offered by the empty library).
RECENT_FOLDERS: Key[list] = Key("library/recentFolders", [], list)
MAX_RECENT_FOLDERS = 6
#: How far a stale list fades while the search text has an error.
STALE_OPACITY = 0.35
QUERY_SHOWN = 60  # characters of the query quoted in "No cards match …"
NOTE_WIDTH = 440  # the overlays' text column (it wraps within this)
BUTTON_WIDTH = 240


def _headline(label: QLabel) -> None:
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.4)
    font.setBold(True)
    label.setFont(font)


class Overlay(QFrame):
    """A panel covering its parent (the list stack) with a centred column of widgets."""

    def __init__(self, parent: QWidget, name: str) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAutoFillBackground(True)
        self.column = QVBoxLayout()
        self.column.setSpacing(10)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(self.column)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def showEvent(self, event: QEvent) -> None:  # type: ignore[override]
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        super().showEvent(event)  # type: ignore[arg-type]


class EmptyLibrary(Overlay):
    """The first start: how to get cards into an empty library."""

    openFolder = Signal()
    openRecent = Signal(str)
    trySamples = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "emptyLibrary")
        heading = plain.label("This library has no cards yet")
        heading.setObjectName("emptyHeading")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        _headline(heading)
        note = plain.label(
            "Curator reads article cards (YAML files) from a folder and keeps your edits until you write "
            "them back to the files.", wrap=True,
        )  # fmt: skip
        note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        note.setFixedWidth(NOTE_WIDTH)
        self.open_button = QPushButton("Open a Folder of Cards…")
        self.open_button.setObjectName("emptyOpenFolder")
        icons.set_icon(self.open_button, "open-folder")
        self.open_button.clicked.connect(self.openFolder)
        self.samples_button = QPushButton("Try the Sample Cards")
        self.samples_button.setObjectName("emptySamples")
        self.samples_button.setToolTip(plain.tip(f"Copies the bundled sample cards to {paths.samples_dir()} "
                                                 "and opens that copy (the originals stay untouched)"))
        self.samples_button.clicked.connect(self.trySamples)
        for button in (self.open_button, self.samples_button):
            button.setMinimumWidth(BUTTON_WIDTH)
        for widget in (heading, note, self.open_button, self.samples_button):
            self.column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        self.recent_heading = plain.label("Recent folders")
        self.recent_heading.setObjectName("detailSection")
        self.column.addWidget(self.recent_heading, 0, Qt.AlignmentFlag.AlignHCenter)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        self.column.addLayout(self.recent_box)
        self.recent_buttons: list[QPushButton] = []
        self.error = plain.label(wrap=True)
        self.error.setObjectName("searchError")
        self.error.setFixedWidth(NOTE_WIDTH)
        self.error.hide()
        self.column.addWidget(self.error, 0, Qt.AlignmentFlag.AlignHCenter)

    def set_recent(self, folders: list[str]) -> None:
        """Offer the folders that still exist (a button each: a click opens it)."""
        for button in self.recent_buttons:
            self.recent_box.removeWidget(button)
            button.setParent(None)
            button.deleteLater()
        self.recent_buttons = []
        for folder in folders:
            button = QPushButton(plain.menu_text(folder))
            button.setObjectName("emptyRecentFolder")
            button.setFlat(True)
            button.setToolTip(plain.tip(f"Open {folder}"))
            button.clicked.connect(lambda _c=False, f=folder: self.openRecent.emit(f))
            self.recent_box.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
            self.recent_buttons.append(button)
        self.recent_heading.setVisible(bool(folders))


class NoMatches(Overlay):
    """A query that matches no card: says so, and offers the way back."""

    clearRequested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "noMatches")
        self.message = plain.label(wrap=True)
        self.message.setObjectName("emptyHeading")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setFixedWidth(NOTE_WIDTH)
        _headline(self.message)
        self.hint = plain.label("Check the spelling, remove a filter in the sidebar, or clear the search.",
                                wrap=True)  # fmt: skip
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setFixedWidth(NOTE_WIDTH)
        self.clear_button = QPushButton("Clear Search")
        self.clear_button.setObjectName("clearSearchButton")
        self.clear_button.clicked.connect(self.clearRequested)
        for widget in (self.message, self.hint, self.clear_button):
            self.column.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)

    def set_query(self, query: str) -> None:
        shown = query if len(query) <= QUERY_SHOWN else query[: QUERY_SHOWN - 1] + "…"
        self.message.setText(f"No cards match “{shown}”")


class ListStates(QObject):
    """Keeps one window's list overlays and the stale greying in step with its query and its library."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.empty = EmptyLibrary(window.stack)
        self.no_matches = NoMatches(window.stack)
        self.stale = False
        self._asked = 0  # counts asked for: an older one's answer is dropped (the list changed since)
        self.fade = QGraphicsOpacityEffect(window.stack)
        self.fade.setOpacity(STALE_OPACITY)
        self.fade.setEnabled(False)
        window.stack.setGraphicsEffect(self.fade)
        self.empty.openFolder.connect(window.actions.open_folder.trigger)
        self.empty.openRecent.connect(self.open_recent)
        self.empty.trySamples.connect(self.try_samples)
        self.no_matches.clearRequested.connect(lambda: window.filter_bar.set_text(""))
        window.filter_bar.errorChanged.connect(self.set_stale)
        window.model.reset.connect(self.refresh)
        window.model.totalChanged.connect(lambda _n: self.refresh())
        window.importFinished.connect(self._imported)
        self.refresh()

    # -- stale results ------------------------------------------------------------------------------
    def set_stale(self, stale: bool) -> None:
        """Grey the list while the search text does not parse (it shows the previous query's cards)."""
        self.stale = stale
        self.fade.setEnabled(stale)
        self.window.stack.setToolTip(
            plain.tip("These are the results of the last valid search: fix the search text to update them")
            if stale else ""
        )  # fmt: skip

    # -- overlays -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the empty library, "no matches" or neither, from the list's current count.

        An empty list asks the library whether it holds any card at all through the window's trips (a
        team library: off the GUI thread; the overlay shows when the answer arrives, unless the list
        changed meanwhile); a list with cards asks nothing."""
        model = self.window.model
        empty_list = model.total == 0 and not model.counting
        self._asked += 1
        if not empty_list:
            self._show(empty_list=False, library_empty=False)
            return
        asked, trips = self._asked, self.window.trips

        def arrived(count: int) -> None:
            if shiboken6.isValid(self) and asked == self._asked:
                self._show(empty_list=True, library_empty=count == 0)

        trips.read(lambda store: store.count(), arrived, trips.reporter("Counting the library's cards"))

    def _show(self, *, empty_list: bool, library_empty: bool) -> None:
        self.empty.set_recent(self.recent_folders())
        self.empty.setVisible(library_empty)
        query = (self.window.model.query or "").strip()
        self.no_matches.set_query(query)
        self.no_matches.setVisible(empty_list and not library_empty and bool(query))

    def recent_folders(self) -> list[str]:
        saved = self.window.settings.value(RECENT_FOLDERS)
        return [f for f in saved if isinstance(f, str) and Path(f).is_dir()][:MAX_RECENT_FOLDERS]

    def _imported(self, _report: object) -> None:
        """After an import: the library's imported roots go to the front of the recent folders (read
        through the window's trips: a round trip on a team library, off the GUI thread), then the overlays
        are refreshed from the list's count."""
        trips = self.window.trips

        def arrived(found: list[str]) -> None:
            if not shiboken6.isValid(self):
                return
            roots = [str(r) for r in found]
            if roots:
                old = [f for f in self.window.settings.value(RECENT_FOLDERS) if f not in roots]
                self.window.settings.set_value(RECENT_FOLDERS, (roots + old)[:MAX_RECENT_FOLDERS])
            self.refresh()

        def failed(err: BaseException) -> None:
            trips.reporter("Reading the imported folders")(err)
            if shiboken6.isValid(self):
                self.refresh()  # the recent folders stay as they were; the overlays still follow the list

        trips.read(imported_roots, arrived, failed)

    # -- getting cards in ---------------------------------------------------------------------------
    def open_recent(self, folder: str) -> None:
        self.window.import_paths([folder])

    def try_samples(self) -> Path | None:
        """Copy the bundled samples into the user's samples folder and import that copy (None on failure)."""
        self.empty.error.hide()
        dest = paths.samples_dir()
        try:
            samples.copy_to(dest)
        except OSError as err:  # no room, no permission, a broken install (FileNotFoundError)
            self.empty.error.setText(f"Could not copy the sample cards to {dest}: {err}")
            self.empty.error.show()
            return None
        self.window.import_paths([str(dest)])
        return dest
