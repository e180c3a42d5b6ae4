"""The window and the files: write, review, refusals, conflicts, outside changes, closing, a crash."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import card_id, changed_lines
from PySide6.QtWidgets import QLabel

from curator.core.store import Store
from curator.core.store_types import LibraryError
from curator.gui.views import file_sync
from curator.gui.views.main_window import MainWindow
from curator.gui.views.writing import unified_diff

EXAMPLE = "000_63d795e8c7832238.txt"


def some_cards(cards: Path, n: int) -> list[Path]:
    return sorted(cards.glob("2019-07/*.txt"))[:n]


def test_review_shows_each_files_diff_then_writes(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    paths = some_cards(cards, 3)
    ids = [card_id(store, p) for p in paths]
    before = {p: p.read_bytes() for p in paths}
    edit_window.edits.set_fields(ids, {"quality": 99}, "Set quality to 99")
    shown: list[Any] = []
    edit_window.files.run_dialog = lambda dialog: shown.append(dialog) or False  # look, do not write
    edit_window.files.review_changes()
    text = shown[0].text.toPlainText()
    for p in paths:
        assert f"--- {p} (file)" in text and f"+++ {p} (after writing)" in text
    assert text.count("\n+quality: 99") == 3
    assert all(p.read_bytes() == before[p] for p in paths)  # a review writes nothing
    edit_window.files.run_dialog = lambda dialog: True  # "Write Changes" in the review
    edit_window.files.review_changes()
    assert edit_window.files.last_report.written == 3  # type: ignore[union-attr]
    for p in paths:
        removed, added = changed_lines(before[p], p.read_bytes())
        assert len(removed) == 1 and added == ["quality: 99"]
    assert store.totals().dirty == 0 and edit_window.actions.write.text() == "&Write Changes"
    assert not edit_window.actions.write.isEnabled()


def test_read_only_and_vanished_files_are_reported_and_the_rest_written(
    edit_window: MainWindow, own_library
) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    ok, locked, gone = some_cards(cards, 3)
    ids = [card_id(store, p) for p in (ok, locked, gone)]
    edit_window.edits.set_fields(ids, {"published": True}, "Publish")
    locked.chmod(stat.S_IRUSR | stat.S_IRGRP)
    gone.unlink()
    try:
        edit_window.files.write_changes()
    finally:
        locked.chmod(stat.S_IRUSR | stat.S_IWUSR)
    report = edit_window.files.last_report
    assert report is not None and report.written == 1
    assert sorted(f["path"] for f in report.failed) == sorted([str(locked), str(gone)])
    box = edit_window.files.last_dialog
    assert (
        box is not None
        and "2 not written" in box.text()
        and str(locked) in box.text()
        and str(gone) in box.text()
    )  # type: ignore[attr-defined]
    assert b"published: true" in ok.read_bytes()
    assert store.totals().dirty == 2  # the refused edits stay pending


def test_write_progress_and_cancel(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    edit_window.edits.confirm = lambda _d: True
    edit_window.edits.set_fields(store.ids(), {"heat": 42}, "Set heat to 42")
    dirty = store.totals().dirty
    seen: list[tuple[int, int]] = []

    def cancel_after_five(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 5:
            edit_window.cancel_task()

    edit_window.files.writer.progress.connect(cancel_after_five)
    edit_window.files.write_changes()
    report = edit_window.files.last_report
    # The Store asks between its batches of files: it stops early, and the rest stays pending.
    assert report is not None and report.cancelled and 5 <= report.written < dirty
    assert seen[0] == (1, dirty) and store.totals().dirty == dirty - report.written - report.already
    assert "cancelled" in edit_window.statusBar().currentMessage()


def test_conflict_resolver_keep_mine_take_theirs(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    path = cards / EXAMPLE
    cid = card_id(store, path)
    assert edit_window.select_card(cid)
    edit_window.edits.set_fields([cid], {"quality": 70, "published": True}, "Edit")
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("quality: 54", "quality: 60").replace("heat: -1", "heat: 12"), encoding="utf-8"
    )
    edit_window.rescan()
    assert store.detail(cid).conflict and edit_window.detail.card.conflict  # type: ignore[union-attr]
    assert edit_window.actions.resolve_conflict.isEnabled()

    def choose(dialog: Any) -> bool:
        assert sorted(dialog.buttons) == ["heat", "published", "quality"]
        assert dialog.choices() == {"quality": "mine", "published": "mine", "heat": "theirs"}
        fields = [label.text() for label in dialog.findChildren(QLabel, "conflictField")]
        assert fields == ["quality\n(changed on both sides)", "heat\n(changed in the file)",
                          "published\n(edited in Curator)"]  # fmt: skip
        dialog.choose("published", "theirs")
        return True

    edit_window.files.run_dialog = choose
    edit_window.actions.resolve_conflict.trigger()
    detail = store.detail(cid)
    assert detail is not None and not detail.conflict
    assert (detail.quality, detail.heat, detail.published) == (70, 12, False)
    assert edit_window.detail.card.quality == 70 and not edit_window.detail.card.conflict  # type: ignore[union-attr]
    before = path.read_bytes()
    edit_window.files.write_changes()
    assert changed_lines(before, path.read_bytes()) == (["quality: 60"], ["quality: 70"])
    # Keeping mine was one undo step on top of the stack.
    assert edit_window.edits.history.stack.text(edit_window.edits.history.stack.count() - 1).startswith(
        "Resolve conflict"
    )


def test_outside_changes_refresh_cards_without_pending_edits(
    qtbot, edit_window: MainWindow, own_library
) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    path = cards / EXAMPLE
    cid = card_id(store, path)
    assert edit_window.select_card(cid)
    assert str(path.parent) in edit_window.folders.watcher.directories()
    edit_window.folders.debounce.setInterval(10)
    resets: list[int] = []
    edit_window.model.reset.connect(lambda: resets.append(1))
    # As editors save: a new file moved over the old one.
    tmp = path.with_name(".tmp-save")
    tmp.write_text(path.read_text(encoding="utf-8").replace("quality: 54", "quality: 33"), encoding="utf-8")
    os.replace(tmp, path)
    qtbot.waitUntil(lambda: store.detail(cid).quality == 33, timeout=5000)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: edit_window.detail.card is not None and edit_window.detail.card.quality == 33)
    assert edit_window.model.card_at(edit_window.model.row_of(cid)).quality == 33  # type: ignore[arg-type, union-attr]
    assert resets == []  # refreshed in place: no re-query, the list keeps its scroll position
    assert not store.detail(cid).dirty and not store.detail(cid).conflict  # type: ignore[union-attr]


def test_close_prompt_cancel_keep_and_write(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    path = cards / EXAMPLE
    cid = card_id(store, path)
    edit_window.edits.set_fields([cid], {"quality": 80}, "Set quality to 80")
    boxes: list[Any] = []
    edit_window.files.ask_close = lambda box: boxes.append(box) or file_sync.CANCEL
    assert not edit_window.close() and edit_window.isVisible()
    box = boxes[0]
    assert box.text() == "1 card has changes not yet written to its file."
    assert "stay in the library" in box.informativeText() and "undoable" in box.informativeText()
    assert [b.text() for b in box.buttons()] != [] and box.write_button.text() == "Write Changes and Quit"
    before = path.read_bytes()
    # Write: the window writes first, then closes.
    edit_window.files.ask_close = lambda box: file_sync.WRITE
    edit_window.close()
    qtbot.waitUntil(lambda: not edit_window.isVisible())
    assert changed_lines(before, path.read_bytes()) == (["quality: 54"], ["quality: 80"])
    assert store.totals().dirty == 0


def test_close_without_writing_keeps_the_edits_pending(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    path = cards / EXAMPLE
    cid = card_id(store, path)
    before = path.read_bytes()
    edit_window.edits.set_fields([cid], {"quality": 80}, "Set quality to 80")
    edit_window.files.ask_close = lambda box: file_sync.KEEP
    assert edit_window.close()
    assert path.read_bytes() == before
    with Store(store.path) as again:
        assert again.pending(cid) == {"quality": (54, 80)}


def test_close_when_the_library_cannot_be_read_closes_and_keeps_the_edits(  # type: ignore[no-untyped-def]
    edit_window: MainWindow, own_library, monkeypatch
) -> None:
    """A library that fails at close (a team library's server gone) closes the window: its pending edits
    are in the library, so nothing is lost, and no traceback reaches the editor."""
    store, cards = own_library
    cid = card_id(store, cards / EXAMPLE)
    edit_window.edits.set_fields([cid], {"quality": 80}, "Set quality to 80")
    asked: list[Any] = []
    edit_window.files.ask_close = lambda box: asked.append(box) or file_sync.CANCEL

    def unreachable() -> None:
        raise LibraryError("postgresql://ana@news/cards: the connection to the server was lost")

    monkeypatch.setattr(store, "totals", unreachable)
    assert edit_window.close() and asked == []
    monkeypatch.undo()
    with Store(store.path) as again:
        assert again.pending(cid) == {"quality": (54, 80)}


# A real app process that edits through the window and dies without closing anything.
KILLED = """
import os, sys
from PySide6.QtWidgets import QApplication
from curator.core.store import Store
from curator.gui.settings import Settings
from curator.gui.views.main_window import MainWindow
app = QApplication([])
window = MainWindow(Store(sys.argv[1]), Settings.from_file(sys.argv[2]))
window.show()
app.processEvents()
cid = int(sys.argv[3])
assert window.select_card(cid)
window.detail.editor.quality.spin.setValue(91)
window.actions.publish.trigger()
print("edited", flush=True)
os._exit(0)
"""


def test_a_killed_app_reopens_with_its_edits_pending(
    qtbot, own_library, settings, images, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    path = cards / EXAMPLE
    cid = card_id(store, path)
    store.close()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    argv = [sys.executable, "-c", KILLED, str(store.path), str(tmp_path / "child.ini"), str(cid)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "edited" in done.stdout, done.stderr[-800:]
    reopened = Store(store.path)
    assert reopened.pending(cid) == {"quality": (54, 91), "published": (False, True)}
    window = MainWindow(reopened, settings, images=images)
    window.files.ask_close = lambda _box: file_sync.KEEP
    qtbot.addWidget(window)
    assert window.select_card(cid) and window.detail.card.dirty  # type: ignore[union-attr]
    assert window.detail.editor.marks["quality"].text() == "✎ changed — in the file: 54"
    stack = window.edits.history.stack
    assert [stack.text(i) for i in range(stack.count())] == ["Set quality to 91", "Publish"]
    stack.undo()
    stack.undo()
    assert reopened.pending(cid) == {} and json.loads(json.dumps(reopened.detail(cid).quality)) == 54  # type: ignore[union-attr]
    reopened.close()


def test_unified_diff_names_the_file() -> None:
    diff = unified_diff("/x/a.txt", b"a: 1\nb: 2\n", b"a: 1\nb: 3\n")
    assert diff.splitlines() == ["--- /x/a.txt (file)", "+++ /x/a.txt (after writing)", "@@ -1,2 +1,2 @@",
                                 " a: 1", "-b: 2", "+b: 3"]  # fmt: skip


@pytest.mark.parametrize("count", [1, 1200])
def test_close_prompt_counts(qapp, count: int) -> None:  # type: ignore[no-untyped-def]
    box = file_sync.unwritten_box(count)
    assert f"{count:,} card{'' if count == 1 else 's'}" in box.text()
