"""The detail panel's editing controls: published, quality, heat, topics, title and excerpt.

The editor never writes anything itself: each finished change is emitted as one request (``edited`` with
the top-level changes and an undo label, repeated as ``cardEdited`` with the id of the card shown, or
``topicAdded``/``topicRemoved``), which the window runs as one Store call, hence one undo step. A field with
a pending edit is marked, with the file's value beside it. Quality and heat show "not rated" for a card
without a score (quality absent, heat -1), never a 0 the card does not have.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.store_types import CardDetail
from curator.gui import plain
from curator.gui.views.flow_layout import FlowLayout

NOT_RATED = -1


def file_value_text(value: Any, limit: int = 80) -> str:
    """How the file's value of a changed field is shown beside the pending one."""
    if value is None:
        text = "(not in the file)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = (
            ", ".join(str(v) for v in value)
            if all(isinstance(v, str) for v in value)
            else f"{len(value)} items"
        )
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ExcerptEdit(QPlainTextEdit):
    """Plain-text excerpt: commits on leaving the field or Ctrl+Enter (Enter alone adds a line)."""

    committed = Signal()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.committed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.committed.emit()
            return
        super().keyPressEvent(event)


class ScoreEditor(QWidget):
    """A spin box and a slider on one value; emits `committed(value)` once per finished change.

    Only a change: pressing and releasing the slider's handle without moving it, or stepping back to the
    value shown, commits nothing (a card not rated must not become 0 by a click).
    """

    committed = Signal(int)

    def __init__(self, minimum: int, special: str | None = None) -> None:
        super().__init__()
        self.spin = QSpinBox()
        self.spin.setRange(minimum, 100)
        self.spin.setKeyboardTracking(False)  # typing "75" is one change, not "7" then "75"
        if special:
            self.spin.setSpecialValueText(special)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(minimum, 100)
        self.slider.setPageStep(10)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.spin)
        row.addWidget(self.slider, 1)
        self._loading = False
        self._shown = minimum  # the value loaded or last committed: committing it again is no change
        self.spin.valueChanged.connect(self._spin_changed)
        self.slider.valueChanged.connect(self._slider_moved)
        self.slider.sliderReleased.connect(lambda: self._commit(self.slider.value()))

    def set_value(self, value: int) -> None:
        self._shown = value
        self._loading = True
        try:
            self.spin.setValue(value)
            self.slider.setValue(value)
        finally:
            self._loading = False

    def value(self) -> int:
        return self.spin.value()

    def _spin_changed(self, value: int) -> None:
        if self._loading:
            return
        self._loading = True
        self.slider.setValue(value)
        self._loading = False
        self._commit(value)

    def _slider_moved(self, value: int) -> None:
        if self._loading:
            return
        self._loading = True
        self.spin.setValue(value)
        self._loading = False
        if not self.slider.isSliderDown():  # keys and clicks on the groove; a drag commits on release
            self._commit(value)

    def _commit(self, value: int) -> None:
        if value != self._shown:
            self._shown = value
            self.committed.emit(value)


class TopicChip(QToolButton):
    """One topic: its name and a remove cross."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.setObjectName("topicChip")
        self.setToolTip(plain.tip(f"Remove the topic {name!r}"))
        self.setText(plain.menu_text(f"{name}  ✕"))  # a & in the name is shown, not a mnemonic
        self.setAutoRaise(False)


class CardEditor(QWidget):
    """Editing controls for one card; emits requests, never touches the Store."""

    edited = Signal(dict, str)  # top-level changes, undo label
    cardEdited = Signal(int, object, str)  # the same request with the shown card's id (what the window runs)
    topicAdded = Signal(str)
    topicRemoved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardEditor")
        self.card: CardDetail | None = None
        self._loading = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 4, 0, 4)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.marks: dict[str, QLabel] = {}
        self.edited.connect(self._edited)

        self.published = QCheckBox("Published")
        self.published.toggled.connect(self._published_toggled)
        form.addRow("Status", self._with_mark("published", self.published))
        # A card without a quality shows "not rated" (the spin box's lowest step, -1): the key is absent.
        self.quality = ScoreEditor(NOT_RATED, special="not rated")
        self.quality.setToolTip("Quality 0–100; \"not rated\": the card has no quality (the key is removed)")
        self.quality.committed.connect(self._quality_committed)
        quality_row = QWidget()
        q = QHBoxLayout(quality_row)
        q.setContentsMargins(0, 0, 0, 0)
        q.addWidget(self.quality, 1)
        form.addRow("Quality", self._with_mark("quality", quality_row))
        heat_row = QWidget()
        h = QHBoxLayout(heat_row)
        h.setContentsMargins(0, 0, 0, 0)
        self.heat = ScoreEditor(NOT_RATED, special="not rated")
        self.heat.committed.connect(self._heat_committed)
        self.not_rated = QCheckBox("Not rated")
        self.not_rated.setToolTip("heat: -1 — the story has not been rated yet")
        self.not_rated.toggled.connect(self._not_rated_toggled)
        h.addWidget(self.heat, 1)
        h.addWidget(self.not_rated)
        form.addRow("Heat", self._with_mark("heat", heat_row))
        # The two sliders line up: the quality row keeps the room of heat's "Not rated" box.
        q.addSpacing(h.spacing() + self.not_rated.sizeHint().width())

        topics = QWidget()
        self.topic_flow = FlowLayout(topics)
        self.topic_input = QLineEdit()
        self.topic_input.setObjectName("topicInput")
        self.topic_input.setPlaceholderText("Add a topic…")
        self.topic_input.setMinimumWidth(120)
        self.topic_model = QStringListModel(self)
        completer = QCompleter(self.topic_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.topic_input.setCompleter(completer)
        self.topic_input.returnPressed.connect(self._add_topic)
        self.topic_flow.addWidget(self.topic_input)
        self.chips: list[TopicChip] = []
        form.addRow("Topics", self._with_mark("topics", topics))

        self.title = QLineEdit()
        self.title.setObjectName("titleEdit")
        self.title.editingFinished.connect(self._title_done)
        form.addRow("Title", self._with_mark("title", self.title))
        self.excerpt = ExcerptEdit()
        self.excerpt.setObjectName("excerptEdit")
        self.excerpt.setTabChangesFocus(True)
        self.excerpt.setFixedHeight(self.excerpt.fontMetrics().lineSpacing() * 5 + 12)
        self.excerpt.committed.connect(self._excerpt_done)
        form.addRow("Excerpt", self._with_mark("excerpt", self.excerpt))

    def _with_mark(self, field: str, widget: QWidget) -> QWidget:
        """The control with a "changed" line under it (hidden while the field has no pending edit)."""
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(1)
        v.addWidget(widget)
        mark = QLabel()
        mark.setObjectName("changedMark")
        mark.setTextFormat(Qt.TextFormat.PlainText)
        mark.setWordWrap(True)
        mark.hide()
        v.addWidget(mark)
        self.marks[field] = mark
        return box

    # -- showing ------------------------------------------------------------------------------------
    def set_topic_names(self, names: list[str]) -> None:
        """The library's topics, for completion."""
        self.topic_model.setStringList(names)

    def show_card(self, card: CardDetail) -> None:
        """Load the card's current values (pending edits included) without emitting anything."""
        same = self.card is not None and self.card.id == card.id
        self.card = card
        self._loading = True
        try:
            self.published.setChecked(bool(card.published))
            self.quality.set_value(card.quality if card.quality is not None else NOT_RATED)
            heat = card.heat if card.heat is not None else NOT_RATED
            self.heat.set_value(heat)
            self.not_rated.setChecked(heat < 0)
            self._show_topics(card.topics)
            # A refresh of the same card (another field edited, a rescan) must not wipe text being typed.
            if not (same and self.title.hasFocus() and self.title.isModified()):
                title = card.data.get("title")
                self.title.setText(title if isinstance(title, str) else "")
                self.title.setCursorPosition(0)  # show the headline's start, not its end
                self.title.setModified(False)
            if not (same and self.excerpt.hasFocus()):
                excerpt = card.data.get("excerpt")
                self.excerpt.setPlainText(excerpt if isinstance(excerpt, str) else "")
        finally:
            self._loading = False
        for field, mark in self.marks.items():
            if field in card.pending:
                file_value = card.pending[field][0]
                # "in the file: (not in the file)" read oddly: a field the file lacks says so in one phrase.
                was = "not in the file yet" if file_value is None else f"in the file: {file_value_text(file_value)}"
                mark.setText(f"✎ changed — {was}")
                mark.setToolTip(plain.tip(f"Not yet written. The file holds:\n{file_value_text(file_value, 2000)}"))
                mark.show()
            else:
                mark.hide()

    def _show_topics(self, topics: list[str]) -> None:
        for chip in self.chips:
            self.topic_flow.removeWidget(chip)
            chip.setParent(None)
            chip.deleteLater()
        self.chips = []
        self.topic_flow.removeWidget(self.topic_input)
        for name in topics:
            chip = TopicChip(name)
            chip.clicked.connect(lambda _c=False, n=name: self.topicRemoved.emit(n))
            self.topic_flow.addWidget(chip)
            self.chips.append(chip)
        self.topic_flow.addWidget(self.topic_input)
        self.topic_input.clear()

    # -- requests -----------------------------------------------------------------------------------
    def _emit(self, changes: dict[str, Any], label: str) -> None:
        if not self._loading and self.card is not None:
            self.edited.emit(changes, label)

    def _edited(self, changes: dict[str, Any], label: str) -> None:
        if self.card is not None:
            self.cardEdited.emit(self.card.id, changes, label)

    def _quality_committed(self, value: int) -> None:
        if value < 0:
            self._emit({"quality": None}, "Mark quality not rated")  # None removes the key
        else:
            self._emit({"quality": value}, f"Set quality to {value}")

    def _published_toggled(self, on: bool) -> None:
        self._emit({"published": on}, "Publish" if on else "Unpublish")

    def _heat_committed(self, value: int) -> None:
        if self._loading:
            return
        self._loading = True
        self.not_rated.setChecked(value < 0)
        self._loading = False
        self._emit({"heat": value}, "Mark heat not rated" if value < 0 else f"Set heat to {value}")

    def _not_rated_toggled(self, on: bool) -> None:
        if self._loading:
            return
        # Unticking "not rated" starts the story at 0: the editor then drags it where it belongs.
        value = NOT_RATED if on else 0
        self.heat.set_value(value)
        self._emit({"heat": value}, "Mark heat not rated" if on else "Set heat to 0")

    def _add_topic(self) -> None:
        name = self.topic_input.text().strip()
        if name and self.card is not None:
            self.topic_input.clear()
            self.topicAdded.emit(name)

    def _title_done(self) -> None:
        if self._loading or self.card is None or not self.title.isModified():
            return
        self.title.setModified(False)
        text = self.title.text()
        if text != (self.card.data.get("title") or ""):
            self._emit({"title": text}, "Edit title")

    def _excerpt_done(self) -> None:
        if self._loading or self.card is None:
            return
        text = self.excerpt.toPlainText()
        current = self.card.data.get("excerpt")
        if text != (current if isinstance(current, str) else ""):
            self._emit({"excerpt": text}, "Edit excerpt")
