"""The detail pane's Same story section: the index's suggestions with provider, date and score, looked up
on a worker; one click adds one as a related item exactly as `curator set ID related+=OTHER` does (the
same bytes on write, one block appended), one undo step; card text stays plain."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from conftest import SEEDS
from PySide6.QtCore import Qt

from curator.cli import main as cli_main
from curator.core import store_checks
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import workers
from curator.gui.views import same_story
from curator.gui.views.main_window import MainWindow
from curator.gui.views.same_story import meta_text


def show(window: MainWindow, *ids: int) -> None:
    """List just these cards (by file name: the first page holds them all) and take the first in hand."""
    names = [r.path.rsplit("/", 1)[-1] for r in window.store.rows_by_id(list(ids))]
    window.filter_bar.set_text(" OR ".join(f'path:"{n}"' for n in names))
    assert window.select_card(ids[0])


def a_card_with_suggestions(store: Store) -> tuple[int, list[int]]:
    """The first card (by id) the index suggests other coverage for, and those suggestions' ids."""
    for card_id in store.ids(""):
        found = store.suggest_related(card_id, same_story.LIMIT)
        if found:
            return card_id, [s.id for s in found]
    raise AssertionError("the seeds plant same-story coverage")


def test_the_section_shows_the_index_suggestions_with_provider_date_and_score(edit_window: MainWindow) -> None:
    window = edit_window
    store = window.store
    card, expected = a_card_with_suggestions(store)
    show(window, card)
    section = window.detail.same_story
    assert section.isVisible()
    assert [r.item.row.id for r in section.rows] == expected
    core = {s.id: s for s in store.suggest_related(card, same_story.LIMIT)}
    for row in section.rows:
        other = store.rows_by_id([row.item.row.id])[0]
        assert row.title.text() == other.title
        date = (other.published_at or other.date)[:16].replace("T", " ")
        assert row.meta.text().startswith(f"{other.provider} · {date} · score {core[other.id].score:.2f}")
        assert row.meta.text() == meta_text(row.item)
    assert section.heading.text() == f"Same story ({len(expected)})"
    # A card with nothing nearby says so instead of an empty heading.
    lonely = next(i for i in store.ids("") if not store.suggest_related(i, 1))
    show(window, lonely)
    assert section.rows == [] and section.note.isVisible()
    assert "No other coverage" in section.note.text()


def test_add_is_the_cli_related_plus_equals_one_undo_step_and_the_same_file_bytes(qtbot, edit_window: MainWindow,  # type: ignore[no-untyped-def]
                                                                                own_library, tmp_path: Path) -> None:
    window = edit_window
    store, cards = own_library
    card, expected = a_card_with_suggestions(store)
    other = expected[0]
    path = Path(store.rows_by_id([card])[0].path)
    before = path.read_bytes()
    related_before = list((store.current_data(card) or {}).get("related") or [])
    show(window, card)
    steps = window.edits.history.stack.count()
    row = window.detail.same_story.rows[0]
    qtbot.mouseClick(row.add, Qt.MouseButton.LeftButton)

    related = (store.current_data(card) or {}).get("related")
    assert related[:-1] == related_before and len(related) == len(related_before) + 1
    assert related[-1]["sourceUrl"] == (store.current_data(other) or {})["sourceUrl"]
    assert window.edits.history.stack.count() == steps + 1
    # Related items already there are not suggested again: the pane (refreshed by the edit) drops it.
    assert other not in [r.item.row.id for r in window.detail.same_story.rows]
    assert window.detail.related_heading.text() == f"Related coverage ({len(related)})"

    report = store.write([card])
    assert report.written == 1
    after = path.read_bytes()

    # The CLI on another copy of the same cards: `set --id CARD related+=OTHER`, then `write`.
    twin = tmp_path / "twin"
    shutil.copytree(SEEDS, twin)
    twin_db = tmp_path / "twin.sqlite"
    twin_store = Store(twin_db)
    import_paths(twin_store, [twin], workers=1)
    relative = path.relative_to(cards)
    twin_card = twin_store.card_id(str(twin / relative))
    twin_other = twin_store.card_id(str(twin / Path(store.rows_by_id([other])[0].path).relative_to(cards)))
    twin_store.close()
    assert cli_main(["--db", str(twin_db), "set", "--id", str(twin_card), f"related+={twin_other}"]) == 0
    assert cli_main(["--db", str(twin_db), "write"]) == 0
    assert (twin / relative).read_bytes() == after

    # One block: the new item's lines are added in one run, nothing else changes.
    old, new = before.decode().splitlines(), after.decode().splitlines()
    start = next(i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b) if old != new[: len(old)] else len(old)
    added = len(new) - len(old)
    assert added > 0 and new[:start] + new[start + added :] == old

    window.actions.undo.trigger()
    assert (store.current_data(card) or {}).get("related") == related_before


def test_suggestions_are_looked_up_on_a_worker_after_a_stale_index_catches_up(qtbot, own_library, settings,  # type: ignore[no-untyped-def]
                                                                            images, monkeypatch) -> None:
    store, _cards = own_library
    card, expected = a_card_with_suggestions(store)
    # Edit the card so the index is stale when it is selected.
    store.set_fields([card], {"quality": 42}, label="stale")
    assert store.checks_stale()
    threads: list[threading.Thread] = []
    real = same_story.find_suggestions

    def recorded(s: Store, card_id: int, limit: int = same_story.LIMIT, *,
                 current: bool = False) -> list[same_story.StoryItem]:  # fmt: skip
        threads.append(threading.current_thread())
        return real(s, card_id, limit, current=current)

    monkeypatch.setattr(same_story, "find_suggestions", recorded)
    workers.set_default_pool(None)
    window = MainWindow(store, settings, images=images)
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    section = window.detail.same_story
    show(window, card)
    assert section.note.text() == "Looking for other coverage…"  # the GUI thread did not wait
    qtbot.waitUntil(lambda: bool(section.rows), timeout=20000)
    assert [r.item.row.id for r in section.rows] == expected
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert not store.checks_stale()
    # Moving on quickly: only the card in hand's answer is shown.
    others = [i for i in store.ids("") if i != card][:3]
    show(window, *others)
    for other in others:
        assert window.select_card(other)
    qtbot.waitUntil(lambda: section.note.text() != "Looking for other coverage…", timeout=20000)
    qtbot.wait(200)
    assert section.card_id == others[-1]
    assert [r.item.row.id for r in section.rows] == [s.id for s in store.suggest_related(others[-1], same_story.LIMIT)]
    assert len(threads) <= 1 + len(others)  # never more lookups than cards asked for

    # Once the window's refresh has seen every change, a lookup skips the scan of every card's stamp
    # (0.44 s at 100k cards) and asks the index the Store holds (~1 ms).
    window.checks.timer.setInterval(10)
    window.checks.refresh_now()
    qtbot.waitUntil(lambda: window.checks.current, timeout=20000)
    scans: list[int] = []
    real_stamps = store_checks.current_stamps
    monkeypatch.setattr(store_checks, "current_stamps", lambda s: scans.append(1) or real_stamps(s))
    show(window, card)
    qtbot.waitUntil(lambda: bool(section.rows), timeout=20000)
    assert [r.item.row.id for r in section.rows] == expected and scans == []
    # An edit puts the index behind: the next lookup brings it up to date first.
    window.edits.edit_card(card, {"quality": 43}, "Set quality")
    assert not window.checks.current
    qtbot.waitUntil(lambda: bool(scans), timeout=20000)
    window.close()


def test_suggestion_text_is_never_markup(edit_window: MainWindow) -> None:
    window = edit_window
    store = window.store
    card, expected = a_card_with_suggestions(store)
    other = expected[0]
    hostile = f'<img src="/etc/passwd"> <b>{store.rows_by_id([other])[0].title}</b>'
    store.set_fields([other], {"title": hostile}, label="hostile")
    show(window, card)
    row = next(r for r in window.detail.same_story.rows if r.item.row.id == other)
    assert row.title.text() == hostile
    assert row.title.textFormat() == Qt.TextFormat.PlainText
    assert row.meta.textFormat() == Qt.TextFormat.PlainText


def test_the_related_editor_offers_the_panes_same_story_cards_before_anything_is_typed(  # type: ignore[no-untyped-def]
    qtbot, edit_window: MainWindow
) -> None:
    """Edit > Edit Related Links… on a card with Same story suggestions: the pick list is not empty while
    the search is; typing searches instead, and clearing the search brings the suggestions back."""
    window = edit_window
    card, expected = a_card_with_suggestions(window.store)
    show(window, card)
    qtbot.waitUntil(lambda: [r.item.row.id for r in window.detail.same_story.rows] == expected)
    opened = []
    window.related.run_dialog = lambda dialog: opened.append(dialog) or False
    window.actions.edit_related.trigger()
    [dialog] = opened
    ids = [dialog.results.item(i).data(Qt.ItemDataRole.UserRole + 2) for i in range(dialog.results.count())]
    assert ids == expected and dialog.results.currentRow() == 0
    assert "same story" in dialog.results_note.text()
    dialog.search.setText("zqxwv")
    dialog.run_search()
    assert dialog.results.count() == 0 and dialog.results_note.text() == ""
    dialog.search.setText("")
    dialog.run_search()
    assert dialog.results.count() == len(expected)
    # Another card in hand without suggestions: the note says how to find one instead.
    lonely = next(i for i in window.store.ids("") if not window.store.suggest_related(i, 1))
    show(window, lonely)
    qtbot.waitUntil(lambda: window.detail.same_story.note.isVisible())
    window.actions.edit_related.trigger()
    assert opened[-1].results.count() == 0 and "Type words" in opened[-1].results_note.text()


def test_the_app_keeps_the_checks_index_in_a_process_of_its_own(qtbot, seeded_library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The window the app opens asks a child process for refreshes and suggestions: the Duplicates facet
    and Same story work as before while this process never holds the index (the window's memory target);
    closing the window stops the child."""
    import os

    from curator.gui import app as gui_app
    from curator.gui.settings import Settings

    db = tmp_path / "library.sqlite"
    shutil.copyfile(seeded_library, db)
    window = gui_app.open_window(db, Settings.from_file(tmp_path / "settings.ini"))
    assert window is not None  # not handed to qtbot: it is deleted below, as the app deletes a closed one
    window.files.ask_close = lambda _box: "keep"
    service = store_checks._SERVICES[window.store]
    window.show()
    window.finish_startup()
    window.checks.refresh_now()
    qtbot.waitUntil(lambda: window.checks.refreshes >= 1, timeout=60000)
    assert service.pid not in (None, os.getpid())
    assert window.checks.summary is not None and window.checks.summary.groups
    assert store_checks._CACHE.get(window.store) is None  # the index is the child's
    card, expected = a_card_with_suggestions(window.store)
    show(window, card)
    qtbot.waitUntil(lambda: [r.item.row.id for r in window.detail.same_story.rows] == expected, timeout=20000)
    assert store_checks._CACHE.get(window.store) is None
    pid = service.pid
    assert pid is not None
    window.close()
    window.deleteLater()
    qtbot.waitUntil(lambda: service.pid is None, timeout=10000)  # the window's destruction stopped the child
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
