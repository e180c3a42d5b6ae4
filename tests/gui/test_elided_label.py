"""plain.ElidedLabel: a long URL shows its host and its tail, elided in the middle, whole in the tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QWidget

from curator.gui import plain

URL = "https://www.wired.com/story/researchers-face-global-climate-change-year-with-new-report-4711"


def test_a_long_text_is_elided_in_the_middle_and_whole_again_when_it_fits(qtbot) -> None:  # type: ignore[no-untyped-def]
    host = QWidget()
    layout = QHBoxLayout(host)
    label = plain.ElidedLabel(URL)
    layout.addWidget(label)
    qtbot.addWidget(host)
    host.resize(220, 40)
    host.show()
    qtbot.waitUntil(lambda: label.text() != URL)
    shown = label.text()
    assert "…" in shown and shown.startswith("https://") and shown.endswith("4711")
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.full_text() == URL and plain.tip_text(label.toolTip()) == URL
    assert label.minimumSizeHint().width() == 0  # it never widens its layout
    host.resize(label.fontMetrics().horizontalAdvance(URL) + 60, 40)
    qtbot.waitUntil(lambda: label.text() == URL)


def test_card_text_stays_plain(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = plain.ElidedLabel('<img src="/etc/passwd"><b>bold</b>')
    qtbot.addWidget(label)
    assert label.textFormat().name == "PlainText"
    assert plain.tip_text(label.toolTip()) == '<img src="/etc/passwd"><b>bold</b>'
