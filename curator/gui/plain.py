"""Card text is never markup: the one place that makes text from cards and files safe to show in Qt.

Qt guesses whether a tooltip, a QLabel (AutoText) or a message box holds HTML with ``Qt.mightBeRichText``:
a title, path or date holding ``<img src=/some/file>`` would render that local file (and a ``src`` naming a
FIFO hangs the app in the read). So:

- every tooltip and ToolTipRole goes through :func:`tip`, which leaves text Qt would show as plain alone
  and wraps anything else as escaped rich text that shows exactly the original characters;
- every label and message box that can show card text or a path is PlainText (:func:`label`,
  :func:`message`); message boxes go through :data:`show`, which tests and the monkey test replace;
- text that lands in a menu or button (undo texts) escapes ``&`` (:func:`menu_text`) and window titles
  escape Qt's ``[*]`` placeholder (:func:`window_title`).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

#: What :func:`tip` wraps escaped text in: Qt treats it as rich text (it starts with ``<qt>``), and the
#: paragraph keeps the text's spaces and line breaks as plain text would show them.
TIP_PREFIX = '<qt><p style="white-space:pre-wrap">'
TIP_SUFFIX = "</p></qt>"
#: A tooltip is a glance, not a reader: longer text is cut (with an ellipsis) before it is escaped.
TIP_CHARS = 2000


def might_be_rich(text: str) -> bool:
    """Qt's own guess (the one QToolTip, QLabel and QMessageBox use for AutoText)."""
    return bool(QtGuiNamespace.mightBeRichText(text))


def tip(text: object) -> str | None:
    """A tooltip showing `text`'s characters exactly, never interpreted as HTML (None stays None).

    Text Qt would already show as plain is returned as it is (so most tooltips stay ordinary strings);
    anything Qt would take for rich text is escaped and wrapped in :data:`TIP_PREFIX`.
    """
    if text is None:
        return None
    value = str(text)
    if len(value) > TIP_CHARS:
        value = value[:TIP_CHARS] + "…"
    if not might_be_rich(value):
        return value
    return TIP_PREFIX + html.escape(value, quote=False) + TIP_SUFFIX


def is_escaped_tip(text: str) -> bool:
    """Whether `text` is :func:`tip`'s wrapper around escaped text (tests use this)."""
    if not (text.startswith(TIP_PREFIX) and text.endswith(TIP_SUFFIX)):
        return False
    inner = text[len(TIP_PREFIX) : -len(TIP_SUFFIX)]
    return "<" not in inner and ">" not in inner


def tip_text(text: str) -> str:
    """The characters a :func:`tip` result shows (the inverse of tip, for tests and copying)."""
    if is_escaped_tip(text):
        return html.unescape(text[len(TIP_PREFIX) : -len(TIP_SUFFIX)])
    return text


def label(text: str = "", parent: QWidget | None = None, *, wrap: bool = False) -> QLabel:
    """A QLabel that can never interpret its text as rich text."""
    widget = QLabel(parent)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    widget.setText(text)
    widget.setWordWrap(wrap)
    return widget


class ElidedLabel(QLabel):
    """A one-line plain-text label that shows as much of its text as fits, eliding in the middle
    (``https://www.wired.com/sto…ange-year``: a URL's host and its last words are what tell links apart),
    with the whole text as its tooltip. It never widens its layout: the text follows the width given."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setMinimumWidth(0)
        self._full = ""
        self.set_full_text(text)

    def full_text(self) -> str:
        """The whole text (what :meth:`text` shows may be elided)."""
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(tip(text) or "")
        self._elide()

    def minimumSizeHint(self):  # type: ignore[no-untyped-def]
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def resizeEvent(self, event):  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width) if width > 0 else self._full
        if shown != self.text():
            super().setText(shown)


def menu_text(text: str) -> str:
    """`text` for a QAction or button label: a lone ``&`` would become a shortcut mnemonic."""
    return text.replace("&", "&&")


def window_title(text: str) -> str:
    """`text` for setWindowTitle: Qt replaces ``[*]`` with the modified marker (``[*][*]`` shows ``[*]``)."""
    return text.replace("[*]", "[*][*]")


def _exec(box: QMessageBox) -> int:
    return box.exec()


#: Shows a message box modally and returns its result. Tests replace it to capture the box (and answer).
show: Callable[[QMessageBox], int] = _exec


def message(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    *,
    detail: str | None = None,
    modal: bool = True,
) -> QMessageBox:
    """A message box whose text (and details) are plain text, shown through :data:`show`.

    `modal=False` opens it window-modal without waiting (reports after a write). The box is returned so
    callers and tests can inspect it.
    """
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    if detail:
        box.setDetailedText(detail)  # shown in a plain text editor by Qt
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if modal:
        show(box)
    else:
        box.open()
    return box


def warning(parent: QWidget | None, title: str, text: str, *, detail: str | None = None) -> QMessageBox:
    """A modal plain-text warning (the replacement for QMessageBox.warning, which guesses rich text)."""
    return message(parent, QMessageBox.Icon.Warning, title, text, detail=detail)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "file")`` -> "1 file", ``count(2_000, "file")`` -> "2,000 files" (never "file(s)")."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"

