"""The related-links editor over a real card: add (URL or library card), remove, reorder, edit, open, save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gui_helpers import card_id, changed_lines
from PySide6.QtCore import QModelIndex, Qt

from curator.gui.views.main_window import MainWindow
from curator.gui.views.related_editor import RelatedEditor, item_from_card, url_problem

EXAMPLE = "000_63d795e8c7832238.txt"


@pytest.mark.parametrize(
    "url, reason",
    [
        ("", "Paste a link first."),
        ("ftp://example.com/a", "Only http and https links can be added (this one has 'ftp:')."),
        ("javascript:alert(1)", "Only http and https links can be added (this one has 'javascript:')."),
        ("www.example.com/story", "Only http and https links can be added (this one has no scheme)."),
        ("https://exa mple.com/", "A link cannot contain spaces."),
        ("https:///path-only", "The link has no valid host name (e.g. https://www.example.com/story)."),
        ("https://www.example.com/story?id=1", None),
        ("http://localhost:8000/x", None),
    ],
)
def test_url_problem(url: str, reason: str | None) -> None:
    assert url_problem(url) == reason


def open_editor(window: MainWindow, cards: Path) -> tuple[int, RelatedEditor]:
    cid = card_id(window.store, cards / EXAMPLE)
    assert window.select_card(cid)
    dialogs: list[RelatedEditor] = []
    window.related.run_dialog = lambda d: dialogs.append(d) or False  # type: ignore[arg-type, func-returns-value]
    window.actions.edit_related.trigger()
    return cid, dialogs[0]


def test_editor_operations_and_save_as_one_undo_step(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, editor = open_editor(edit_window, cards)
    original = store.detail(cid).related  # type: ignore[union-attr]
    assert editor.list.count() == len(original) >= 2
    # Refused links say why and add nothing.
    editor.url_edit.setText("file:///etc/passwd")
    assert not editor.add_url() and "Only http and https" in editor.url_error.text()
    editor.url_edit.setText(original[0]["sourceUrl"])
    assert not editor.add_url() and editor.url_error.text() == "This link is already in the list."
    # A pasted link becomes an item whose fields the editor then fills in.
    editor.url_edit.setText("https://www.example.org/news/face-app")
    assert editor.add_url() and editor.url_error.isHidden()
    assert editor.list.currentRow() == editor.list.count() - 1
    editor.f_title.setText("Face app, explained")
    editor.f_title.editingFinished.emit()
    editor.f_date.setText("2020-01-21T08:00:00Z")
    editor.f_date.editingFinished.emit()
    added = editor.items()[-1]
    assert added == {"title": "Face app, explained", "sourceUrl": "https://www.example.org/news/face-app",
                     "provider": {"name": "example.org", "domain": "example.org"},
                     "publishedDateTime": "2020-01-21T08:00:00Z"}  # fmt: skip
    # Pick another library card by typing: it fills title, excerpt, provider, date, URLs and image.
    other = store.rows("topic:AI -published:true", limit=5)[1]
    other_detail = store.detail(other.id)
    words = " ".join((other.title or "").split()[:3])
    editor.search.setText(words)
    found = editor.run_search()
    assert other.id in found and cid not in found
    assert editor.add_card(other.id)
    picked = editor.items()[-1]
    assert picked == item_from_card(other_detail.data)  # type: ignore[union-attr]
    assert picked["title"] == other.title and picked["images"] == other_detail.data["images"]  # type: ignore[union-attr]
    assert set(picked) >= {"title", "sourceUrl", "provider", "publishedDateTime"}
    # Reorder by keys (Ctrl+Up) and by the list model's move (what a drag does); remove; open.
    count = editor.list.count()
    editor.list.setCurrentRow(count - 1)
    editor.move_current(-1)
    assert editor.items()[count - 2] == picked
    moved = editor.list.model().moveRows(QModelIndex(), count - 2, 1, QModelIndex(), 0)
    assert moved and editor.items()[0] == picked
    editor.list.setCurrentRow(1)
    removed = editor.items()[1]
    editor.remove_current()
    assert removed not in editor.items()
    opened: list[str] = []
    editor.opener = opened.append  # type: ignore[assignment]
    editor.list.setCurrentRow(0)
    editor.open_current()
    assert opened == [picked["sourceUrl"]]

    edited = editor.items()
    edit_window.edits.set_related(cid, edited)
    assert store.detail(cid).related == edited  # type: ignore[union-attr]
    assert edit_window.edits.history.stack.text(0) == "Edit related links"
    assert edit_window.detail.related_heading.text() == f"Related coverage ({len(edited)})"
    # Written, the file reads back as the edited list and nothing else changed.
    path = cards / EXAMPLE
    before = path.read_bytes()
    edit_window.files.write_changes()
    data = yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])
    assert [r["sourceUrl"] for r in data["related"]] == [r["sourceUrl"] for r in edited]
    removed_lines, _added = changed_lines(before, path.read_bytes())
    assert not [ln for ln in removed_lines if not ln.startswith(" ") and not ln.startswith("related")]
    # Undo puts the old list back as a pending edit over the written file.
    edit_window.edits.history.stack.undo()
    assert store.detail(cid).related == original  # type: ignore[union-attr]


def test_editing_an_item_keeps_its_unknown_keys(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    _store, cards = own_library
    _cid, editor = open_editor(edit_window, cards)
    editor.list.setCurrentRow(0)
    first = dict(editor.items()[0])
    editor.f_provider.setText("Complex Media")
    editor.f_provider.editingFinished.emit()
    editor.f_url.setText("notaurl")
    editor.f_url.editingFinished.emit()
    assert "Link not changed" in editor.f_error.text()
    item: dict[str, Any] = editor.items()[0]
    assert item["provider"] == {**first["provider"], "name": "Complex Media"}
    assert item["sourceUrl"] == first["sourceUrl"]
    assert {k: v for k, v in item.items() if k != "provider"} == {
        k: v for k, v in first.items() if k != "provider"
    }
    assert editor.list.item(0).text().startswith(f"1. {first['title']}")
    # Ctrl+Down on the list moves the item.
    editor.show()
    editor.activateWindow()
    editor.list.setFocus()
    qtbot.waitUntil(editor.list.hasFocus)
    editor.list.setCurrentRow(0)
    qtbot.keyClick(editor.list, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert editor.items()[1]["provider"]["name"] == "Complex Media"
    editor.close()
