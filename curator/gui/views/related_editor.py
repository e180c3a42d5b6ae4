"""The related-links editor: add by URL or from the library, remove, reorder, edit an item, open its link.

The dialog edits a copy of the card's ``related`` list; Save hands the whole list on (`RelatedLinks.saved`,
wired by the window to the edit controller), which writes it with one Store.set_related call (one undo
step). Items keep every key they had, known or not.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.link_lookup import LinkMatch, host_of, lookup
from curator.core.query import QueryError, Word, and_, to_text
from curator.core.store import Store
from curator.core.store_types import CardDetail, CardRow
from curator.gui import icons, plain
from curator.gui.images import ImageCache
from curator.gui.library_tasks import RoundTrips
from curator.gui.views.detail_panel import open_url

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
CARD_ROLE = Qt.ItemDataRole.UserRole + 2
#: Keys copied from a library card into a related item, in the card format's order for items.
ITEM_KEYS = ("title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl", "type", "provider",
             "quality", "images")  # fmt: skip
SEARCH_LIMIT = 30


def url_problem(text: str) -> str | None:
    """Why `text` cannot be added as a related link, or None when it can (http/https with a host)."""
    text = text.strip()
    if not text:
        return "Paste a link first."
    if any(c.isspace() for c in text):
        return "A link cannot contain spaces."
    try:
        parts = urlsplit(text)
    except ValueError as err:
        return f"Not a valid link: {err}."
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"'{parts.scheme}:'" if parts.scheme else "no scheme"
        return f"Only http and https links can be added (this one has {shown})."
    if not parts.hostname or "." not in parts.hostname and parts.hostname != "localhost":
        return "The link has no valid host name (e.g. https://www.example.com/story)."
    return None


def item_from_url(url: str) -> dict[str, Any]:
    """A new related item for a pasted URL; the editor fills in the title afterwards."""
    host = (urlsplit(url.strip()).hostname or "").removeprefix("www.")
    return {"title": host, "sourceUrl": url.strip(), "provider": {"name": host, "domain": host}}


def item_from_match(url: str, match: LinkMatch) -> dict[str, Any]:
    """A new related item for a pasted URL the library knows from a related item or the provider's cards:
    their title and provider name, not the bare domain (see core.link_lookup)."""
    item = item_from_url(url)
    if match.title:
        item["title"] = match.title
    if match.provider_name:
        item["provider"] = {"name": match.provider_name, "domain": match.provider_domain or host_of(url)}
    return item


def item_from_card(data: dict[str, Any]) -> dict[str, Any]:
    """A related item from another card's mapping: its title, excerpt, provider, date, URLs and images."""
    return {key: copy.deepcopy(data[key]) for key in ITEM_KEYS if key in data and data[key] is not None}


def item_label(item: dict[str, Any]) -> str:
    provider = item.get("provider")
    name = provider.get("name") or provider.get("domain") if isinstance(provider, dict) else provider
    date = str(item.get("publishedDateTime") or "")[:10]
    meta = " · ".join(str(x) for x in (name, date) if x)
    return f"{item.get('title') or '(no title)'}\n{meta}" if meta else str(item.get("title") or "(no title)")


class RelatedEditor(QDialog):
    """Edits one card's related list; `items()` is the edited list."""

    def __init__(self, store: Store, card: CardDetail, images: ImageCache | None = None,
                 parent: QWidget | None = None, *, suggested: Sequence[CardRow] = (),
                 trips: RoundTrips | None = None) -> None:  # fmt: skip
        """`suggested`: the detail pane's Same story cards for this card, offered while the search is empty;
        `trips`: where the search, a picked card and a pasted link's lookup are read (the window's: on a
        team library off the GUI thread, shown when they arrive; inline when not given)."""
        super().__init__(parent)
        self.trips = trips if trips is not None else RoundTrips(store, parent=self)
        self._searches = 0  # searches asked for: an older one's answer is dropped
        self.suggested = [row for row in suggested if row.id != card.id]
        self.setWindowTitle(plain.window_title(f"Related links — {card.title or card.path}"))
        self.setObjectName("relatedEditor")
        self.store = store
        self.card = card
        self.opener = open_url  # tests record instead of launching a browser
        raw = card.data.get("related")
        self.original: list[Any] = copy.deepcopy(raw) if isinstance(raw, list) else []

        # Adding: a pasted URL, or a card found in the library.
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("Paste a link (http/https) and press Enter")
        self.url_edit.returnPressed.connect(self.add_url)
        add_url = QPushButton("Add Link")
        icons.set_icon(add_url, "add")
        add_url.clicked.connect(self.add_url)
        self.url_error = QLabel()
        self.url_error.setObjectName("searchError")
        self.url_error.setTextFormat(Qt.TextFormat.PlainText)
        self.url_error.hide()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Words of its title, excerpt, provider or topics…")
        self.results = QListWidget()
        self.results.setObjectName("relatedResults")
        self.results.setSpacing(2)
        self.results.itemActivated.connect(lambda it: self.add_card(int(it.data(CARD_ROLE))))
        add_card = QPushButton("Add Card")
        icons.set_icon(add_card, "pick-card")
        add_card.clicked.connect(self._add_selected_card)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._search_entered)

        add_box = QGroupBox("Add")
        a = QVBoxLayout(add_box)
        a.addWidget(QLabel("Paste a link:"))
        row = QHBoxLayout()
        row.addWidget(self.url_edit, 1)
        row.addWidget(add_url)
        a.addLayout(row)
        a.addWidget(self.url_error)
        a.addWidget(QLabel("Or pick a card from the library (search as you type):"))
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(add_card)
        a.addLayout(row)
        self.results_note = plain.label(wrap=True)
        self.results_note.setObjectName("detailMeta")
        a.addWidget(self.results_note)
        a.addWidget(self.results)

        # The list: drag to reorder, or Ctrl+Up / Ctrl+Down.
        self.list = QListWidget()
        self.list.setObjectName("relatedList")
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        # Numbers follow the order, so a drag or Ctrl+Up shows at once where an item went.
        self.list.model().rowsMoved.connect(lambda *_a: self._renumber())
        self.list.model().rowsInserted.connect(lambda *_a: self._renumber())
        self.list.model().rowsRemoved.connect(lambda *_a: self._renumber())
        self.list.currentRowChanged.connect(self._show_item)
        buttons = QHBoxLayout()
        self.up_button = QPushButton("Up")
        self.down_button = QPushButton("Down")
        self.remove_button = QPushButton("Remove")
        self.open_button = QPushButton("Open Link")
        for button, name in ((self.up_button, "up"), (self.down_button, "down"), (self.remove_button, "remove"),
                             (self.open_button, "open-source")):  # fmt: skip
            icons.set_icon(button, name)
        self.up_button.setToolTip("Move up (Ctrl+Up; or drag)")
        self.down_button.setToolTip("Move down (Ctrl+Down; or drag)")
        self.remove_button.setToolTip("Remove (Delete)")
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.remove_button.clicked.connect(self.remove_current)
        self.open_button.clicked.connect(self.open_current)
        for b in (self.up_button, self.down_button, self.remove_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        keyed = (
            ("Ctrl+Up", lambda: self.move_current(-1)),
            ("Ctrl+Down", lambda: self.move_current(1)),
            ("Delete", self.remove_current),
        )
        for keys, slot in keyed:
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)

        # The selected item's fields.
        self.form_box = QGroupBox("Selected link")
        form = QFormLayout(self.form_box)
        self.f_title = QLineEdit()
        self.f_excerpt = QPlainTextEdit()
        self.f_excerpt.setFixedHeight(self.f_excerpt.fontMetrics().lineSpacing() * 4 + 12)
        self.f_excerpt.setTabChangesFocus(True)
        self.f_url = QLineEdit()
        self.f_provider = QLineEdit()
        self.f_domain = QLineEdit()
        self.f_date = QLineEdit()
        self.f_date.setPlaceholderText("2020-01-18T18:42:00Z")
        self.f_error = QLabel()
        self.f_error.setObjectName("searchError")
        self.f_error.setTextFormat(Qt.TextFormat.PlainText)  # quotes the link as typed
        self.f_error.hide()
        rows = (("Title", self.f_title), ("Excerpt", self.f_excerpt), ("Link", self.f_url),
                ("Provider", self.f_provider), ("Domain", self.f_domain), ("Date", self.f_date))  # fmt: skip
        for label, widget in rows:
            form.addRow(label, widget)
        form.addRow("", self.f_error)
        for edit in (self.f_title, self.f_url, self.f_provider, self.f_domain, self.f_date):
            edit.editingFinished.connect(self.apply_form)
        self.f_excerpt.textChanged.connect(self.apply_form)

        left = QVBoxLayout()
        heading = QLabel("Related coverage, in the order readers see it")
        heading.setObjectName("dialogHeading")
        left.addWidget(heading)
        left.addWidget(self.list, 1)
        left.addLayout(buttons)
        right = QVBoxLayout()
        right.addWidget(add_box, 1)
        right.addWidget(self.form_box)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(box)
        self._loading = False
        for item in self.original:
            self._append(item)
        self.list.setCurrentRow(0 if self.list.count() else -1)
        self._show_item(self.list.currentRow())
        self.run_search()  # nothing typed yet: the pane's Same story cards, or how to find one
        self.resize(1100, 640)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter adds (a link, a found card) or finishes a field, and the dialog stays open: only Save
        (clicked, or Enter while it has the focus) saves. QDialog would press Save on every Enter."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not isinstance(
            self.focusWidget(), QPushButton
        ):
            event.accept()
            return
        super().keyPressEvent(event)

    # -- the list -----------------------------------------------------------------------------------
    def items(self) -> list[Any]:
        """The related list as edited, in the shown order."""
        return [self.list.item(i).data(ITEM_ROLE) for i in range(self.list.count())]

    def _append(self, item: Any) -> QListWidgetItem:
        entry = QListWidgetItem(item_label(item) if isinstance(item, dict) else str(item))
        entry.setData(ITEM_ROLE, item)
        if isinstance(item, dict) and item.get("sourceUrl"):
            entry.setToolTip(plain.tip(item["sourceUrl"]))
        self.list.addItem(entry)
        return entry

    def _renumber(self) -> None:
        for row in range(self.list.count()):
            entry = self.list.item(row)
            item = entry.data(ITEM_ROLE)
            entry.setText(f"{row + 1}. " + (item_label(item) if isinstance(item, dict) else str(item)))

    def _urls(self) -> set[str]:
        return {str(i.get("sourceUrl")) for i in self.items() if isinstance(i, dict) and i.get("sourceUrl")}

    def add_url(self) -> bool:
        """Add the pasted link; a refused one shows its reason and adds nothing."""
        url = self.url_edit.text().strip()
        problem = url_problem(url)
        if problem is None and url in self._urls():
            problem = "This link is already in the list."
        if problem is None and url == self.card.data.get("sourceUrl"):
            problem = "This is the card's own link."
        self.url_error.setText(problem or "")
        self.url_error.setVisible(problem is not None)
        if problem is not None:
            return False
        added: list[bool] = []

        def found(match: LinkMatch) -> None:
            if shiboken6.isValid(self):
                added.append(self._add_match(url, match))

        self.trips.read(lambda store: lookup(store, url), found, self.trips.reporter("Looking the link up"))
        return bool(added and added[0])  # inline (an SQLite library): added before this returns

    def _add_match(self, url: str, match: LinkMatch) -> bool:
        if match.card_id == self.card.id:  # the same article under another form of its address
            self.url_error.setText("This is the card's own link.")
            self.url_error.show()
            return False
        if match.card_id is not None:
            # A card of the library: the item is that card's, as "Add Card" would make it.
            self.url_edit.clear()
            return self.add_card(match.card_id)
        self.url_edit.clear()
        self.list.setCurrentItem(self._append(item_from_match(url, match)))
        self.f_title.setFocus()
        self.f_title.selectAll()
        return True

    def run_search(self, *, then_add: bool = False) -> list[int]:
        """Search as you type: cards whose text starts with the typed words (this card left out); with
        nothing typed, the Same story suggestions the detail pane found for this card. The ids shown when
        they are there before this returns (inline); `then_add`: add the first one found (Enter)."""
        self.results.clear()
        words = self.search.text().split()
        if not words:
            self.results_note.setText(
                "Likely the same story (from the detail pane) — or type words to search the library:"
                if self.suggested else "Type words of a title, excerpt, provider or topic to find a card."
            )
            for row in self.suggested:
                self._add_result(row)
            if self.suggested:
                self.results.setCurrentRow(0)
            if then_add:
                self._add_selected_card()
            return [row.id for row in self.suggested]
        self.results_note.setText("")
        try:
            query = to_text(and_(*[Word(w, prefix=True) for w in words]))
        except (QueryError, ValueError):
            return []
        self._searches += 1
        asked = self._searches
        shown: list[int] = []

        def arrived(rows: list[CardRow]) -> None:
            if shiboken6.isValid(self) and asked == self._searches:  # else a newer search is on its way
                shown.extend(self._show_found(rows, then_add))

        def failed(err: BaseException) -> None:
            if not isinstance(err, (QueryError, ValueError)):
                self.trips.reporter("Searching the library")(err)

        self.trips.read(lambda store: store.rows(query, limit=SEARCH_LIMIT + 1), arrived, failed)
        return shown  # inline (an SQLite library): filled before this returns

    def _show_found(self, rows: list[CardRow], then_add: bool) -> list[int]:
        self.results.clear()
        found = []
        for row in rows:
            if row.id == self.card.id or len(found) >= SEARCH_LIMIT:
                continue
            self._add_result(row)
            found.append(row.id)
        if found:
            self.results.setCurrentRow(0)
        if then_add:
            self._add_selected_card()
        return found

    def _add_result(self, row: CardRow) -> None:
        meta = " · ".join(x for x in (row.provider, (row.date or "")[:10]) if x)
        entry = QListWidgetItem(f"{row.title or '(no title)'}\n{meta}")
        entry.setData(CARD_ROLE, row.id)
        self.results.addItem(entry)

    def _search_entered(self) -> None:
        self._search_timer.stop()
        self.run_search(then_add=True)  # the words just typed, not the results of the last pause

    def _add_selected_card(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self.add_card(int(item.data(CARD_ROLE)))

    def add_card(self, card_id: int) -> bool:
        """Add another library card as a related item (title, excerpt, provider, date, URLs, image); read
        through the trips, added when it arrives. True when added before this returns (inline)."""
        added: list[bool] = []

        def arrived(detail: CardDetail | None) -> None:
            if shiboken6.isValid(self):
                added.append(self._add_detail(detail))

        self.trips.read(lambda store: store.detail(card_id), arrived, self.trips.reporter("Reading the card"))
        return bool(added and added[0])

    def _add_detail(self, detail: CardDetail | None) -> bool:
        if detail is None:
            return False
        item = item_from_card(detail.data)
        if item.get("sourceUrl") and item["sourceUrl"] in self._urls():
            self.url_error.setText("That card's link is already in the list.")
            self.url_error.show()
            return False
        self.url_error.hide()
        self.list.setCurrentItem(self._append(item))
        return True

    def remove_current(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)

    def move_current(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def open_current(self) -> bool:
        item = self.list.currentItem()
        data = item.data(ITEM_ROLE) if item is not None else None
        url = data.get("sourceUrl") if isinstance(data, dict) else None
        return bool(url) and url_problem(str(url)) is None and bool(self.opener(str(url)))

    # -- the selected item's fields -------------------------------------------------------------------
    def _show_item(self, row: int) -> None:
        item = self.list.item(row).data(ITEM_ROLE) if row >= 0 else None
        self.form_box.setEnabled(isinstance(item, dict))
        self.open_button.setEnabled(
            isinstance(item, dict) and url_problem(str(item.get("sourceUrl") or "")) is None
        )
        item = item if isinstance(item, dict) else {}
        provider = item.get("provider") if isinstance(item.get("provider"), dict) else {}
        self._loading = True
        try:
            self.f_title.setText(str(item.get("title") or ""))
            self.f_excerpt.setPlainText(str(item.get("excerpt") or ""))
            self.f_url.setText(str(item.get("sourceUrl") or ""))
            for edit in (self.f_title, self.f_url):
                edit.setCursorPosition(0)  # the start of a long title or link, not its end
            self.f_provider.setText(str(provider.get("name") or ""))
            self.f_domain.setText(str(provider.get("domain") or ""))
            self.f_date.setText(str(item.get("publishedDateTime") or ""))
            self.f_error.hide()
        finally:
            self._loading = False

    def apply_form(self) -> None:
        """Put the form's values into the selected item (keys left empty and absent before stay absent)."""
        entry = self.list.currentItem()
        if self._loading or entry is None or not isinstance(entry.data(ITEM_ROLE), dict):
            return
        item = copy.deepcopy(entry.data(ITEM_ROLE))
        url = self.f_url.text().strip()
        problem = url_problem(url) if url else None
        self.f_error.setText(f"Link not changed: {problem}" if problem else "")
        self.f_error.setVisible(bool(problem))

        def put(target: dict[str, Any], key: str, value: str) -> None:
            if value:
                target[key] = value
            elif key in target:
                target[key] = ""  # an emptied field stays, empty: the editor removed the text, not the key

        put(item, "title", self.f_title.text())
        put(item, "excerpt", self.f_excerpt.toPlainText())
        if not problem:
            put(item, "sourceUrl", url)
        put(item, "publishedDateTime", self.f_date.text().strip())
        name, domain = self.f_provider.text().strip(), self.f_domain.text().strip()
        # A provider written as plain text (not a map) is left as it is unless the editor fills it in.
        if isinstance(item.get("provider"), dict) or name or domain:
            provider = dict(item["provider"]) if isinstance(item.get("provider"), dict) else {}
            put(provider, "name", name)
            put(provider, "domain", domain)
            item["provider"] = provider
        if item != entry.data(ITEM_ROLE):
            entry.setData(ITEM_ROLE, item)
            self._renumber()


class RelatedLinks(QObject):
    """Edit > Edit Related Links… (Ctrl+R) and the detail pane's "Edit related…": the dialog over the card
    in hand. It never writes: Save emits `saved(card_id, items)`, which the window wires to the edits."""

    #: The card's id, its whole edited related list (Python objects, as is) and the card's version when the
    #: dialog opened (the edit is refused if another editor changed the card meanwhile).
    saved = Signal(int, object, int)

    def __init__(
        self, store: Store, images: ImageCache | None, card_in_hand: Callable[[], CardDetail | None],
        parent: QWidget, suggested: Callable[[int], Sequence[CardRow]] = lambda _card_id: (),
        trips: RoundTrips | None = None,
    ) -> None:  # fmt: skip
        """`suggested(card_id)`: the Same story cards the detail pane shows for that card (none else);
        `trips`: the window's, where the dialog reads (see RelatedEditor)."""
        super().__init__(parent)
        self.store = store
        self.trips = trips
        self.suggested = suggested
        self.images = images
        self.card_in_hand = card_in_hand
        self.parent_widget = parent
        #: Shows the dialog and says whether it was saved (tests replace it to answer).
        self.run_dialog: Callable[[RelatedEditor], bool] = lambda d: d.exec() == QDialog.DialogCode.Accepted
        self.last_dialog: RelatedEditor | None = None

    def edit(self) -> bool:
        """Open the editor on the card in hand; True when the editor saved (and `saved` was emitted)."""
        card = self.card_in_hand()
        if card is None:
            return False
        dialog = RelatedEditor(self.store, card, self.images, self.parent_widget, suggested=self.suggested(card.id),
                               trips=self.trips)  # fmt: skip
        self.last_dialog = dialog
        if not self.run_dialog(dialog):
            return False
        self.saved.emit(card.id, dialog.items(), card.version)
        return True
