"""The publishing gate: P on a selection names its duplicates and cards with problems and offers to skip them
("Publish all", "Skip N", Cancel), through the real key and the real message box; one undo step."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from curator.gui import plain
from curator.gui.views.main_window import MainWindow


def show(window: MainWindow, ids: list[int]) -> None:
    names = [r.path.rsplit("/", 1)[-1] for r in window.store.rows_by_id(ids)]
    window.filter_bar.set_text(" OR ".join(f'path:"{n}"' for n in names))
    assert window.select_card(ids[0])


def planted(window: MainWindow) -> dict[str, Any]:
    """A copy group, a card with markup in its title, a card failing validation and a clean card, all
    unpublished; the gate should hold back all of the group but one, and the two problem cards."""
    store = window.store
    window.checks.refresh_now()
    groups = store.duplicate_groups()
    grouped = {i for g in groups for i in g.ids}
    group = next(g for g in groups if g.kind == "copy")
    invalid = next(i for i in store.ids("problems:true") if i not in grouped)
    clean = [i for i in store.ids("problems:false") if i not in grouped][:2]
    markup, plain_card = clean
    title = store.rows_by_id([markup])[0].title
    store.set_fields([markup], {"title": f"<b>{title}</b>"}, label="setup")
    ids = [*group.ids, markup, invalid, plain_card]
    store.set_fields(ids, {"published": False}, label="setup")
    window.edits.history.rebuild()
    rows = {r.id: r for r in store.rows_by_id(list(group.ids))}
    keeper = min(group.ids, key=lambda i: (-(rows[i].quality or 0), rows[i].published_at or "~", i))
    return {"ids": ids, "group": list(group.ids), "keeper": keeper, "markup": markup, "invalid": invalid,
            "clean": plain_card}


def press_p(qtbot, window: MainWindow, monkeypatch, answer: str | None) -> list[QMessageBox]:  # type: ignore[no-untyped-def]
    """Select every listed card (Ctrl+A), press P; the box (if any) is answered by clicking `answer`."""
    boxes: list[QMessageBox] = []

    def click(box: QMessageBox) -> int:
        boxes.append(box)
        if answer is None:
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            next(b for b in box.buttons() if b.text().startswith(answer)).click()
        return 0

    monkeypatch.setattr(plain, "show", click)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.table, Qt.Key.Key_P)
    return boxes


def published(window: MainWindow, ids: list[int]) -> set[int]:
    return {r.id for r in window.store.rows_by_id(ids) if r.published}


def test_skip_publishes_the_rest_in_one_undo_step(qtbot, edit_window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    p = planted(window)
    show(window, p["ids"])
    steps = window.edits.history.stack.count()
    held = len(p["group"]) - 1 + 2
    boxes = press_p(qtbot, window, monkeypatch, f"Skip {held}")
    assert len(boxes) == 1
    box = boxes[0]
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert [b.text() for b in box.buttons() if b.text() in ("Publish all", f"Skip {held}")] == ["Publish all", f"Skip {held}"]
    assert box.button(QMessageBox.StandardButton.Cancel) is not None
    text = box.text()
    assert f"Publishing {len(p['ids'])} cards: {len(p['group']) - 1} duplicate" in text
    assert "2 cards with problems" in text
    rows = {r.id: r for r in window.store.rows_by_id(p["ids"])}
    for card_id in [*(i for i in p["group"] if i != p["keeper"]), p["invalid"], p["markup"]]:
        assert rows[card_id].title in text  # named, as plain text (the markup title shows its tags)
    assert rows[p["keeper"]].title in text  # "a copy of '…'": the duplicates name the card kept
    assert "title has HTML tags" in text and "publishes the other 2 cards" in text
    assert published(window, p["ids"]) == {p["keeper"], p["clean"]}
    assert window.edits.history.stack.count() == steps + 1
    window.actions.undo.trigger()
    assert published(window, p["ids"]) == set()


@pytest.mark.parametrize(("answer", "expected"), [("Publish all", "all"), (None, "none")])
def test_publish_all_and_cancel(qtbot, edit_window: MainWindow, monkeypatch, answer, expected) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    p = planted(window)
    show(window, p["ids"])
    steps = window.edits.history.stack.count()
    boxes = press_p(qtbot, window, monkeypatch, answer)
    assert len(boxes) == 1
    if expected == "all":
        assert published(window, p["ids"]) == set(p["ids"])
        assert window.edits.history.stack.count() == steps + 1
    else:
        assert published(window, p["ids"]) == set()
        assert window.edits.history.stack.count() == steps


def test_a_group_member_already_published_holds_back_the_others(qtbot, edit_window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    p = planted(window)
    out = next(i for i in p["group"] if i != p["keeper"])
    window.store.set_fields([out], {"published": True}, label="setup")
    rest = [i for i in p["group"] if i != out]
    show(window, [*rest, p["clean"]])
    boxes = press_p(qtbot, window, monkeypatch, f"Skip {len(rest)}")
    assert len(boxes) == 1 and "already published" in boxes[0].text()
    assert published(window, [*rest, p["clean"]]) == {p["clean"]}


def test_one_card_or_a_clean_selection_publishes_without_asking(qtbot, edit_window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    p = planted(window)
    show(window, [p["invalid"]])
    assert press_p(qtbot, window, monkeypatch, None) == []
    assert published(window, [p["invalid"]]) == {p["invalid"]}
    show(window, [p["keeper"], p["clean"]])
    assert press_p(qtbot, window, monkeypatch, None) == []
    assert published(window, [p["keeper"], p["clean"]]) == {p["keeper"], p["clean"]}
