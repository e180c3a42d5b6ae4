"""The search bar: live (debounced) query text, completion, inline syntax errors, recent and saved searches."""

from __future__ import annotations

import time
from collections.abc import Iterable

from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.query import Field, QueryError, parse, to_text
from curator.gui import icons

#: The longest wait after the last key before the text is run: after a query that took this long or more.
DEBOUNCE_MS = 150
#: The shortest wait (after cheap queries): keys typed in one burst still make one query.
MIN_DEBOUNCE_MS = 40
#: Query words offered before any library value (the grammar of core.query).
SYNTAX_WORDS = (
    "category:", "provider:", "topic:", "type:", "path:",
    "published:true", "published:false", "dirty:true", "problems:true", "conflict:true", "missing:true",
    "quality>=", "quality<", "heat>=", "heat:-1", "date>=", "date<", "OR",
)  # fmt: skip


class _TokenCompleter(QCompleter):
    """Completes the last word of the line, keeping what comes before it."""

    def __init__(self, edit: QLineEdit) -> None:
        super().__init__(edit)
        self.edit = edit
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.setModelSorting(QCompleter.ModelSorting.UnsortedModel)
        self.setMaxVisibleItems(12)

    def _split(self, text: str) -> tuple[str, str]:
        # The word being typed is what follows the last space outside quotes.
        in_quote = False
        start = 0
        for i, ch in enumerate(text):
            if ch == '"':
                in_quote = not in_quote
            elif ch == " " and not in_quote:
                start = i + 1
        head, word = text[:start], text[start:]
        if word.startswith(("-", "(")):  # keep a negation/group opener outside the match
            head, word = head + word[0], word[1:]
        return head, word

    def splitPath(self, path: str) -> list[str]:
        return [self._split(path)[1]]

    def pathFromIndex(self, index) -> str:  # type: ignore[no-untyped-def]  # Qt override
        head, _ = self._split(self.edit.text())
        return head + str(index.data())


class FilterBar(QWidget):
    """Emits `queryChanged(text)` shortly after the user stops typing, once the text parses.

    The wait follows what the last query cost on the GUI thread (the window reads the first page in the
    `queryChanged` slot): MIN_DEBOUNCE_MS after a cheap one, up to DEBOUNCE_MS after a slow one. A wait of
    about one query's time keeps the thread free at least half the time while keys keep coming, and a cheap
    library answers each pause at once: at 100k cards a word's first page costs ~0.1 s, so the last key of
    a common word is answered ~0.1 s sooner than with a fixed 150 ms.
    A text that does not parse shows its error under the bar, naming the column, and emits nothing.
    """

    queryChanged = Signal(str)
    submitted = Signal(str)  # Enter pressed on valid text (a moment worth remembering the search)
    #: True while an error is shown: the list under the bar still shows the last query's results (stale).
    errorChanged = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(self)
        self.edit.setObjectName("searchEdit")
        self.edit.setPlaceholderText('Search: words, "phrases", topic:AI, quality>=60, published:false …')
        # The × at the end of the field: one click empties the search and shows every card again.
        self.edit.setClearButtonEnabled(True)
        self.clear_action = next(
            (a for a in self.edit.findChildren(QAction) if a.objectName() == "_q_qlineeditclearaction"), None
        )
        icons.set_icon(self.edit.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition), "search")
        self.searches_button = QToolButton(self)
        icons.set_icon(self.searches_button, "recent")
        self.searches_button.setToolTip("Recent and saved searches")
        self.searches_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.searches_menu = QMenu(self)
        self.searches_button.setMenu(self.searches_menu)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("searchError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.searches_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error_label)

        self._values = QStringListModel(list(SYNTAX_WORDS), self)
        self._field_values: dict[str, list[str]] = {}
        self.completer = _TokenCompleter(self.edit)
        self.completer.setModel(self._values)
        self.edit.setCompleter(self.completer)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(MIN_DEBOUNCE_MS)
        self._timer.timeout.connect(self.apply)
        self.edit.textChanged.connect(lambda _text: self._timer.start())
        self.edit.returnPressed.connect(self._submit)
        self._applied: str | None = None

    # -- text ---------------------------------------------------------------------------------------
    def text(self) -> str:
        return self.edit.text()

    def set_text(self, text: str, emit: bool = True) -> None:
        """Replace the query (a facet click, a recent search) and apply it at once.

        `emit=False` only shows the text, taken as applied (the window runs it itself, e.g. at start-up).
        """
        self._timer.stop()
        self.edit.blockSignals(True)
        self.edit.setText(text)
        self.edit.blockSignals(False)
        if emit:
            self.apply()
        else:
            self._applied = text

    def apply(self) -> bool:
        """Check the text now and emit it when it parses (and differs from the last emitted text)."""
        self._timer.stop()
        text = self.edit.text()
        try:
            parse(text)
        except QueryError as err:
            self.show_error(err)
            return False
        self.clear_error()
        if text != self._applied:
            self._applied = text
            start = time.perf_counter()
            self.queryChanged.emit(text)
            self.set_query_cost(time.perf_counter() - start)
        return True

    @property
    def debounce_ms(self) -> int:
        """How long the bar now waits after the last key (see the class docstring)."""
        return self._timer.interval()

    def set_query_cost(self, seconds: float) -> None:
        """Wait about `seconds` (what a query just cost), within MIN_DEBOUNCE_MS..DEBOUNCE_MS, after keys."""
        self._timer.setInterval(round(min(DEBOUNCE_MS, max(MIN_DEBOUNCE_MS, seconds * 1000))))

    def _submit(self) -> None:
        if self.apply():
            self.submitted.emit(self.edit.text())

    # -- errors -------------------------------------------------------------------------------------
    def show_error(self, err: QueryError | str) -> None:
        """Show a query error under the bar; a QueryError's column is pointed at in the text."""
        if isinstance(err, QueryError):
            message = f"Query error: {err} — …{self._around(err.column)}"
            self.edit.setCursorPosition(max(0, err.column - 1))
        else:
            message = f"Query error: {err}"
        self.error_label.setText(message)
        self.error_label.show()
        self.edit.setProperty("invalid", True)
        self.errorChanged.emit(True)

    def _around(self, column: int) -> str:
        text = self.edit.text()
        return text[max(0, column - 11) : column + 10]

    def clear_error(self) -> None:
        shown = not self.error_label.isHidden()
        self.error_label.hide()
        self.error_label.clear()
        self.edit.setProperty("invalid", False)
        if shown:
            self.errorChanged.emit(False)

    @property
    def error_text(self) -> str | None:
        return self.error_label.text() if not self.error_label.isHidden() else None

    # -- completion ---------------------------------------------------------------------------------
    def set_values(self, fields: dict[str, Iterable[str]]) -> None:
        """Offer `field:value` completions (e.g. {"topic": [...], "provider": [...]}) after the syntax words."""
        self._field_values = {name: list(values) for name, values in fields.items()}
        self._rebuild_completions()

    def set_field_values(self, field: str, values: Iterable[str]) -> None:
        """Replace the completions of one field (e.g. topics after an edit), keeping the others."""
        self._field_values[field] = list(values)
        self._rebuild_completions()

    def _rebuild_completions(self) -> None:
        words = list(SYNTAX_WORDS)
        for name, values in self._field_values.items():
            words.extend(to_text(Field(name, value)) for value in values if value)
        self._values.setStringList(words)

    def completions(self, prefix: str) -> list[str]:
        """What the completer offers for `prefix` (for tests and the shortcuts help)."""
        low = prefix.lower()
        return [w for w in self._values.stringList() if w.lower().startswith(low)]

    # -- recent and saved ---------------------------------------------------------------------------
    def set_searches(self, recent: list[str], saved: list[str], save_action=None) -> None:  # type: ignore[no-untyped-def]
        """Rebuild the menu of saved and recent searches; picking one applies it."""
        menu = self.searches_menu
        menu.clear()
        if save_action is not None:
            menu.addAction(save_action)
            menu.addSeparator()
        menu.addSection("Saved searches")
        if not saved:
            menu.addAction("(none yet)").setEnabled(False)
        for text in saved:
            icons.set_icon(menu.addAction(text, lambda t=text: self.set_text(t)), "saved-search")
        menu.addSection("Recent searches")
        if not recent:
            menu.addAction("(none yet)").setEnabled(False)
        for text in recent:
            icons.set_icon(menu.addAction(text, lambda t=text: self.set_text(t)), "recent")

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
