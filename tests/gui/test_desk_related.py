"""The related-links editor from the keyboard: Enter adds and stays; a pasted link the library knows takes
its title and provider from there."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import card_id
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox

from curator.gui.views.main_window import MainWindow
from curator.gui.views.related_editor import ITEM_ROLE, RelatedEditor

EXAMPLE = "000_63d795e8c7832238.txt"


def open_editor(qtbot, window: MainWindow, cards: Path) -> tuple[int, RelatedEditor]:  # type: ignore[no-untyped-def]
    cid = card_id(window.store, cards / EXAMPLE)
    window.filter_bar.set_text("")
    assert window.select_card(cid)
    dialogs: list[RelatedEditor] = []
    window.related.run_dialog = lambda d: dialogs.append(d) or False  # type: ignore[arg-type, func-returns-value]
    window.actions.edit_related.trigger()
    editor = dialogs[0]
    qtbot.addWidget(editor)
    editor.show()  # shown and active as the user sees it, so Enter travels as it does there (the
    editor.activateWindow()  # window's own Return shortcut must not see keys meant for the dialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor)
    return cid, editor


def last_item(editor: RelatedEditor) -> dict:  # type: ignore[type-arg]
    return editor.list.item(editor.list.count() - 1).data(ITEM_ROLE)


def test_enter_in_the_link_and_title_fields_adds_and_stays_then_save_saves(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, editor = open_editor(qtbot, edit_window, cards)
    count = editor.list.count()
    editor.url_edit.setFocus()
    qtbot.keyClicks(editor.url_edit, "https://unknown-paper.example/2020/a-story")
    qtbot.keyClick(editor.url_edit, Qt.Key.Key_Return)
    assert editor.isVisible() and editor.result() != QDialog.DialogCode.Accepted
    assert editor.url_error.isHidden(), editor.url_error.text()
    assert editor.list.count() == count + 1 and last_item(editor)["sourceUrl"].endswith("/a-story")
    assert editor.focusWidget() is editor.f_title  # on to its title
    qtbot.keyClicks(editor.f_title, "A story, titled")
    qtbot.keyClick(editor.f_title, Qt.Key.Key_Enter)
    assert editor.isVisible() and last_item(editor)["title"] == "A story, titled"
    assert store.detail(cid).dirty is False  # nothing saved yet

    save = editor.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert editor.result() == QDialog.DialogCode.Accepted
    assert editor.items()[-1]["title"] == "A story, titled"


def test_a_pasted_link_takes_title_and_provider_from_the_library(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid, editor = open_editor(qtbot, edit_window, cards)
    own = store.detail(cid).data.get("sourceUrl")

    # Another library card, pasted in another form of its address (http, tracking parameter): that card.
    details = [store.detail(i) for i in store.ids()]
    other = next(d for d in details if d.id != cid and str(d.data.get("sourceUrl", "")).startswith("https://")
                 and d.data.get("sourceUrl") != (own or "") and d.provider is not None)  # fmt: skip
    other_title, other_url, other_provider = other.title, other.data["sourceUrl"], other.provider
    pasted = other_url.replace("https://", "http://") + "?utm_source=newsletter"
    editor.url_edit.setFocus()
    qtbot.keyClicks(editor.url_edit, pasted)
    qtbot.keyClick(editor.url_edit, Qt.Key.Key_Return)
    item = last_item(editor)
    assert item["title"] == other_title and item["sourceUrl"] == other_url
    assert item["provider"]["name"] == other_provider

    # A link known only as another card's related item: that item's title and provider.
    related = [(item.get("title"), item.get("sourceUrl"), (item.get("provider") or {}).get("name"))
               for d in details for item in d.related]  # fmt: skip
    known = [r for r in related if r[2] is not None and r[1] not in editor._urls() and r[1] != own]
    urls = {d.data.get("sourceUrl") for d in details}
    title, url, provider = next(r for r in known if r[1] not in urls)
    editor.url_edit.setFocus()
    qtbot.keyClicks(editor.url_edit, url)
    qtbot.keyClick(editor.url_edit, Qt.Key.Key_Return)
    item = last_item(editor)
    assert item["title"] == title and item["provider"]["name"] == provider
    assert editor.isVisible()

    # A new article at a domain the library's cards name: the provider's name, not the bare domain.
    domain = other_url.split("/")[2].removeprefix("www.")
    editor.url_edit.setFocus()
    qtbot.keyClicks(editor.url_edit, f"https://{domain}/never-seen-before-story")
    qtbot.keyClick(editor.url_edit, Qt.Key.Key_Return)
    item = last_item(editor)
    assert item["provider"] == {"name": other_provider, "domain": domain}
    assert item["title"] == domain  # no title known: the editor types it (the field has the focus)

    # The card's own article under another form of its address is refused.
    if own:
        editor.url_edit.setText(own.replace("https://", "http://") + "#comments")
        qtbot.keyClick(editor.url_edit, Qt.Key.Key_Return)
        assert editor.url_error.text() == "This is the card's own link."


def test_enter_in_the_search_field_adds_the_top_result_and_stays(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    _store, cards = own_library
    _cid, editor = open_editor(qtbot, edit_window, cards)
    count = editor.list.count()
    editor.search.setFocus()
    qtbot.keyClicks(editor.search, "recognition")
    qtbot.keyClick(editor.search, Qt.Key.Key_Return)
    assert editor.isVisible() and editor.result() != QDialog.DialogCode.Accepted
    assert editor.list.count() == count + 1
