"""The audit of issue 10: an editor's hour on a team library makes no round trip on the GUI thread.

The guard below wraps psycopg itself (opening a connection, ``Connection.execute``, ``Connection.cursor``:
every statement the PostgreSQL backend, its peewee queries, its locks and its listener send goes through
one of them) and records each call made on the GUI thread from the window's code (a curator/gui frame on
the stack), with the gui frame that made it and the stack. The test's own checks read the library through
another Store from the test's frames, so they are not counted; the window's are, whatever path they take
(a Store method, a module function asking the backend, a new connection).

The test then drives the window as an editor would for an hour: open, type a query, move through cards,
edit, undo and redo, publish a selection, open and close each dialog (History, Duplicates, Same story, the
related editor, Preferences with OK, Add Topic, Write's count), rescan, import a folder, lose the
connection and get it back. Every call found must be on ALLOWED, with the reason it must be synchronous;
a call that regresses onto the GUI thread fails the test, naming where it came from.
"""

from __future__ import annotations

import shutil
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgserver import PgCluster
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialogButtonBox, QInputDialog
from test_team_round_trips import PAGE, other, team_db, team_template

from curator.core.checks.index import Group
from curator.core.store import Store
from curator.gui import settings as keys
from curator.gui import workers
from curator.gui.images import ImageCache
from curator.gui.models.card_table import Column
from curator.gui.settings import Settings
from curator.gui.views.checks_refresh import ChecksSummary
from curator.gui.views.main_window import MainWindow
from curator.gui.views.preferences import PreferencesDialog

__all__ = ["other", "team_db", "team_template"]  # the fixtures these tests use (boxes: conftest)

GUI = f"{Path(__file__).resolve().parents[2] / 'curator' / 'gui'}/"
#: Where the trips run a call, not who asked for it.
MACHINERY = ("/library_tasks.py", "/workers.py")

#: The GUI-thread round trips that must stay synchronous, by the gui frame making them ("module:function",
#: the innermost curator/gui frame), each with the reason. Empty: no round trip of an editor's hour is made
#: on the GUI thread; connecting (app.py's open_store, the connect dialog's) happens before a window exists
#: and is not driven here.
ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class Call:
    """One psycopg call made on the GUI thread from the window's code."""

    what: str  # "connect", "execute" or "cursor"
    where: str  # the innermost curator/gui frame: "views/importing.py:rescan"
    stack: str

    def __str__(self) -> str:
        return f"{self.what} from {self.where}:\n{self.stack}"


class GuiThreadGuard:
    """Records psycopg calls made on the GUI thread with window code on the stack (see the module doc)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[Call] = []
        self.on = False
        main = threading.main_thread()

        def wrap(what: str, real: Callable[..., Any]) -> Callable[..., Any]:
            def guarded(*args: Any, **kwargs: Any) -> Any:
                if self.on and threading.current_thread() is main:
                    self._record(what)
                return real(*args, **kwargs)

            return guarded

        monkeypatch.setattr(psycopg, "connect", wrap("connect", psycopg.connect))
        monkeypatch.setattr(psycopg.Connection, "execute", wrap("execute", psycopg.Connection.execute))
        monkeypatch.setattr(psycopg.Connection, "cursor", wrap("cursor", psycopg.Connection.cursor))

    def _record(self, what: str) -> None:
        frames = traceback.extract_stack()[:-2]
        gui = [f for f in frames if f.filename.startswith(GUI)]
        if not gui:
            return  # the test's own reads (another Store), not the window's
        # Named by the window code that asked, not by the machinery that ran it (a trip forced inline).
        asking = [f for f in gui if not f.filename.endswith(MACHINERY)]
        inner = (asking or gui)[-1]
        where = f"{inner.filename[len(GUI):]}:{inner.name}"
        shown = [f for f in frames if "/curator/" in f.filename][-12:]
        self.calls.append(Call(what, where, "".join(traceback.format_list(shown))))

    def found(self) -> list[Call]:
        """The calls not on ALLOWED."""
        return [c for c in self.calls if c.where not in ALLOWED]


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> GuiThreadGuard:
    return GuiThreadGuard(monkeypatch)


@pytest.fixture
def guarded(qtbot, guard: GuiThreadGuard, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A window on a team library as the app makes it (no pool: the trips use their lanes), opened under
    the guard: the window's first reads count too."""
    workers.set_default_pool(None)
    settings.set_value(keys.ADVANCE, False)
    store = Store(pg_cluster.url(team_db))  # connecting: before the window exists (app.py's part)
    guard.on = True
    window = MainWindow(store, settings, images=ImageCache(tmp_path / "images"))
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    window.model.page_size = PAGE
    window.start(None)
    window.apply_query("")
    qtbot.waitUntil(lambda: window.model.total == 60 and not window.model.counting, timeout=10000)
    qtbot.waitUntil(lambda: window.detail.card is not None, timeout=5000)
    yield window
    guard.on = False
    window.team_library.stop()
    window.trips.stop()


def _idle(qtbot: Any, window: MainWindow, timeout: int = 10000) -> None:
    """Wait until nothing the window started is still on its way."""
    qtbot.waitUntil(lambda: not window.edits.busy and not window.importer.running and not window.writer.running
                    and not window.card_loader.loading, timeout=timeout)  # fmt: skip
    qtbot.wait(150)  # what those answers started (a refreshed row, a recount) arrives too


def _select_rows(window: MainWindow, rows: list[int]) -> None:
    chooser = window.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    chooser.setCurrentIndex(window.model.index(rows[0], Column.TITLE), flags)
    for row in rows[1:]:
        chooser.select(window.model.index(row, Column.TITLE),
                       QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)  # fmt: skip


def _shown(window: MainWindow, kind: type) -> list[Any]:
    return [d for d in window.findChildren(kind) if d.isVisible()]


def test_an_editors_hour_makes_no_round_trip_on_the_gui_thread(  # type: ignore[no-untyped-def]
    qtbot, guarded: MainWindow, guard: GuiThreadGuard, other: Store, boxes: list, monkeypatch: pytest.MonkeyPatch,
    pg_cluster: PgCluster, team_db: str, team_template: tuple[str, Path], tmp_path: Path,
) -> None:  # fmt: skip
    w = guarded
    steps: list[str] = []

    def step(name: str) -> None:
        _idle(qtbot, w)
        steps.append(name)

    # Type a query (through the search field and its typing timer), then clear it.
    step("type a query")
    word = (other.rows(None, sort=[("title", False)], limit=1)[0].title or "news").split()[0]
    w.filter_bar.edit.setFocus()
    qtbot.keyClicks(w.filter_bar.edit, word)
    qtbot.waitUntil(lambda: (w.model.query or "").strip() == word and not w.model.counting, timeout=10000)
    w.filter_bar.edit.clear()
    qtbot.waitUntil(lambda: not (w.model.query or "").strip() and w.model.total == 60, timeout=10000)

    # Move through cards with the keyboard, past the first page (later pages are read as they show).
    step("move through cards")
    w.table.setFocus()
    for _ in range(PAGE + 3):
        qtbot.keyClick(w.table, Qt.Key.Key_Down)
    qtbot.keyClick(w.table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.model.card_at(59) is not None and w.selection.current_id() == w.model.card_at(59).id,
                    timeout=10000)  # fmt: skip
    qtbot.keyClick(w.table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: w.detail.card is not None and w.detail.card.id == w.model.card_at(0).id, timeout=10000)

    # Edit the card in hand: a quality key, heat, publish; undo and redo.
    step("edit, undo, redo")
    card = w.detail.card
    assert card is not None
    w.actions.quality_keys[6].trigger()
    w.actions.heat_up.trigger()
    w.actions.publish.trigger()
    _idle(qtbot, w)
    assert other.detail(card.id).quality == 60
    w.actions.undo.trigger()
    _idle(qtbot, w)
    w.actions.redo.trigger()
    _idle(qtbot, w)

    # Publish a selection of three cards.
    step("publish a selection")
    _select_rows(w, [2, 3, 4])
    qtbot.waitUntil(lambda: len(w.edits.target_ids()) == 3, timeout=5000)
    ids = w.edits.target_ids()
    w.actions.publish.trigger()
    _idle(qtbot, w)
    assert all(r.published for r in other.rows_by_id(ids))

    # Add Topic (the topics list to choose from is read, then the edit made).
    step("add topic")
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *_a, **_k: ("Guarded", True)))
    w.actions.add_topic.trigger()
    _idle(qtbot, w)
    assert all("Guarded" in (r.topics or []) for r in other.rows_by_id(ids))

    # History: open it, let it fill, close it.
    step("history")
    dialog = w.edits.show_history()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() > 1, timeout=10000)
    dialog.close()

    # Duplicates: two groups, open the dialog, let it fill, keep one of the first group.
    step("duplicates")
    first = [w.model.card_at(i).id for i in range(5)]
    w.duplicates.refresher.summary = ChecksSummary.of([Group("url", (first[0], first[1]), "https://example.org/a"),
                                                      Group("copy", (first[2], first[3], first[4]), None)])  # fmt: skip
    duplicates = w.duplicates.open()
    qtbot.waitUntil(lambda: len(duplicates.cards) == 2, timeout=10000)
    duplicates.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: [c.row.id for c in duplicates.cards] == first[2:], timeout=10000)
    w.duplicates.keep(first[2], first[3:])
    _idle(qtbot, w)
    duplicates.close()

    # Same story: the card in hand's section asks for its stories; Add one.
    step("same story")
    assert w.selection.select_card(first[0])
    qtbot.waitUntil(lambda: w.detail.card is not None and w.detail.card.id == first[0], timeout=10000)
    w.same_story.request(first[0])
    w.same_story.add(first[0], first[1])
    _idle(qtbot, w)

    # The related editor: open it, search, add, save.
    step("related editor")
    opened: list[Any] = []
    w.related.run_dialog = lambda d: opened.append(d) is None and False
    w.related.edit()
    related = opened[0]
    qtbot.addWidget(related)
    related.search.setText(word)
    related.search.returnPressed.emit()
    qtbot.waitUntil(lambda: related.results.count() >= 1, timeout=10000)
    _idle(qtbot, w)
    w.related.saved.emit(first[0], related.items(), w.detail.card.version)
    _idle(qtbot, w)
    related.close()

    # Preferences: open (the library's part is read), change the name and a threshold, OK.
    step("preferences")
    w.actions.preferences.trigger()
    qtbot.waitUntil(lambda: bool(_shown(w, PreferencesDialog)), timeout=10000)
    [prefs] = _shown(w, PreferencesDialog)
    closed: list[int] = []
    prefs.finished.connect(closed.append)
    prefs.name.setText("Guard")
    prefs.window_days.setValue(prefs.window_days.value() + 1)
    prefs.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: bool(closed), timeout=10000)
    _idle(qtbot, w, timeout=30000)  # the checks rebuild with the new thresholds

    # Write's count, then the review it starts (a dry run on the writer's worker, its dialog declined).
    step("write counts")
    reviewed: list[Any] = []
    w.files.run_dialog = lambda d: reviewed.append(d) is None and False
    w.files.review_changes()
    qtbot.waitUntil(lambda: bool(reviewed), timeout=20000)

    # Rescan, then import a new folder with one card in it.
    step("rescan")
    w.actions.rescan.trigger()
    qtbot.waitUntil(lambda: not w.importer.running and w.importer.last_report is not None, timeout=20000)
    step("import a folder")
    folder = tmp_path / "more-cards"
    folder.mkdir()
    shutil.copyfile(min(Path(team_template[1]).iterdir()), folder / "copy.txt")
    (folder / "copy.txt").write_text((folder / "copy.txt").read_text(encoding="utf-8").replace(
        "sourceUrl: ", "sourceUrl: https://example.org/guarded-", 1), encoding="utf-8")  # fmt: skip
    w.import_paths([str(folder)])
    qtbot.waitUntil(lambda: not w.importer.running and w.model.total == 61, timeout=20000)

    # Lose the connection (the server drops every session of the window), then get it back and edit.
    step("lose and retry the connection")
    other.close()
    pg_cluster.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{team_db}' "
                   "AND pid <> pg_backend_pid()", team_db)  # fmt: skip
    library = w.team_library
    qtbot.waitUntil(lambda: library.connection_lost and library.banner.isVisible(), timeout=20000)
    qtbot.mouseClick(library.banner.retry, Qt.MouseButton.LeftButton)  # the banner's Retry
    qtbot.waitUntil(lambda: not library.connection_lost, timeout=20000)
    hand = w.detail.card
    assert hand is not None
    w.actions.quality_keys[8].trigger()
    qtbot.waitUntil(lambda: other.detail(hand.id).quality == 80, timeout=20000)
    step("done")

    assert steps[-1] == "done"
    assert not guard.found(), "round trips on the GUI thread:\n\n" + "\n\n".join(str(c) for c in guard.found())
    assert guard.on and not [b.text() for b in boxes if b.windowTitle() != "Changed by another editor"]


def test_the_guard_sees_a_round_trip_made_on_the_gui_thread(qtbot, guarded: MainWindow, guard: GuiThreadGuard) -> None:  # type: ignore[no-untyped-def]
    """The guard is worth its silence: the recent folders' read (a module function asking the backend) and
    Preferences' Store reads, run inline on the GUI thread as a regression would run them, are found and
    named by the window code that asked for them."""
    _idle(qtbot, guarded)
    trips, before = guarded.trips, len(guard.found())
    lane = trips.cards
    trips.cards = workers.SyncPool()  # the cards lane forced inline: its reads run on the calling thread
    try:
        guarded.list_states._imported(None)  # the recent folders' read (imported_roots asks the backend)
        guarded.actions.preferences.trigger()  # the library's part of Preferences (two Store reads)
    finally:
        trips.cards = lane
    for dialog in _shown(guarded, PreferencesDialog):
        dialog.reject()
    found = guard.found()[before:]
    assert {c.where for c in found} == {"views/empty_state.py:_imported", "views/preferences.py:read_library"}, [
        str(c) for c in found]
    assert any("imported_roots" in c.stack for c in found) and any("check_thresholds" in c.stack for c in found)
