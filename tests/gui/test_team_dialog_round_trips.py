"""A team library over a slow network: the edits made from dialogs (Same story's Add, the Duplicates dialog's
keep, Edit > History's jumps) and the history's reads never block the GUI thread (issue 10). Each goes
through the edit controller's queue (the edits lane), reads what it needs in its own turn, and its result
is right; the history fills in when the journal arrives.

The slow server is test_team_round_trips' wrapper (pg_sleep on the calling thread's own connection first):
were a call made on the GUI thread, the ticker would see the event loop stall that long.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_team_round_trips import MAX_GAP_S, Slow, Ticker, other, team, team_db, team_template

from curator.core.store import Store
from curator.gui.views.checks_refresh import ChecksSummary
from curator.gui.views.duplicates import KEEP_TEXT
from curator.gui.views.main_window import MainWindow
from curator.gui.views.preferences import PreferencesDialog
from curator.gui.views.related_editor import CARD_ROLE

__all__ = ["other", "team", "team_db", "team_template"]  # the fixtures these tests use (boxes: conftest)


def _slowed(qtbot: Any, team: MainWindow, names: list[str], act: Any, until: Any) -> tuple[float, Slow]:
    """Run `act()` with `names` slowed until `until()`; the event loop's longest stall meanwhile."""
    slow = Slow(team.store)
    for name in names:
        slow.make(name)
    ticker = Ticker()
    ticker.start()
    try:
        act()
        qtbot.waitUntil(until, timeout=10000)
        gap = ticker.stop()
    finally:
        slow.restore()
    return gap, slow


def _related_urls(store: Store, card_id: int) -> list[Any]:
    related = (store.current_data(card_id) or {}).get("related") or []
    return [item.get("sourceUrl") for item in related if isinstance(item, dict)]


def test_same_storys_add_runs_on_the_edits_lane_after_the_key_before_it(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    target = next(r for r in (team.model.card_at(i) for i in range(1, 10)) if r.id != card.id)
    url = other.current_data(target.id)["sourceUrl"]
    steps = team.edits.history.stack.count()
    assert url not in _related_urls(other, card.id)

    def act() -> None:
        team.actions.quality_keys[4].trigger()  # a key first: the add goes after it, on the card it left
        team.same_story.add(card.id, target.id)
        assert team.edits.busy and team.edits.history.stack.count() == steps  # nothing yet: on its way

    gap, slow = _slowed(qtbot, team, ["current_data", "set_fields"], act, lambda: not team.edits.busy)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while Same story's Add was made"
    assert slow.threads and not slow.on_gui_thread  # the mappings were read off the GUI thread too
    assert not boxes, [b.text() for b in boxes]
    assert url in _related_urls(other, card.id)
    assert other.detail(card.id).quality == 40  # the key before it reached the library first
    labels = [b.label for b in other.history(2)]
    assert labels[1] == "Set quality to 40" and labels[0].startswith("Add related ")
    assert team.edits.history.stack.count() == steps + 2  # one undo step each
    team.actions.undo.trigger()
    qtbot.waitUntil(lambda: not team.edits.busy, timeout=5000)
    assert url not in _related_urls(other, card.id)


def test_duplicates_keep_reads_and_unpublishes_off_the_gui_thread(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    kept, *others = [team.model.card_at(i).id for i in range(4)]
    other.set_fields([kept, *others], {"published": True}, label="setup")
    other.set_fields([others[0]], {"published": False}, label="setup")
    steps = team.edits.history.stack.count()

    def act() -> None:
        team.duplicates.keep(kept, others)
        assert team.edits.busy  # queued, not read on the GUI thread

    gap, slow = _slowed(qtbot, team, ["rows_by_id", "set_fields"], act, lambda: not team.edits.busy)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while {KEEP_TEXT!r} was made"
    assert slow.threads and not slow.on_gui_thread
    assert not boxes, [b.text() for b in boxes]
    assert [r.published for r in other.rows_by_id([kept, *others])] == [True, False, False, False]
    assert other.history(1)[0].label.endswith("unpublish 2 others") and other.history(1)[0].cards == 2
    assert team.edits.history.stack.count() == steps + 1

    # Nothing left to unpublish: said, and nothing recorded.
    team.duplicates.keep(kept, others)
    qtbot.waitUntil(lambda: not team.edits.busy, timeout=5000)
    assert "not published" in team.statusBar().currentMessage()
    assert team.edits.history.stack.count() == steps + 1


def test_the_history_fills_and_jumps_off_the_gui_thread(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    before = other.detail(card.id).quality
    team.actions.quality_keys[2].trigger()
    team.actions.quality_keys[6].trigger()
    qtbot.waitUntil(lambda: not team.edits.busy, timeout=10000)
    stack = team.edits.history.stack
    steps = stack.count()
    assert stack.index() == steps and other.detail(card.id).quality == 60

    opened: list[Any] = []
    gap, slow = _slowed(
        qtbot, team, ["history"], lambda: opened.append(team.edits.show_history()),
        lambda: opened[0].tree.topLevelItemCount() == steps + 1,
    )
    dialog = opened[0]
    qtbot.addWidget(dialog)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the history was read"
    assert slow.threads and not slow.on_gui_thread
    rows = dialog.rows()
    assert rows[-2][:2] == ("Set quality to 20", card.title) and rows[-1][:2] == ("Set quality to 60", card.title)

    def jump() -> None:
        dialog.tree.itemClicked.emit(dialog.tree.topLevelItem(steps - 2), 0)  # just before both edits
        assert stack.index() == steps  # moves once the library confirmed it

    gap, slow = _slowed(qtbot, team, ["undo"], jump, lambda: not team.edits.busy)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s during a jump in the history"
    assert slow.threads and not slow.on_gui_thread and len(slow.threads) == 2  # both steps, one job
    assert stack.index() == steps - 2 and not boxes
    assert other.detail(card.id).quality == before
    qtbot.waitUntil(lambda: dialog.tree.currentItem() is dialog.tree.topLevelItem(steps - 2), timeout=5000)
    assert team.statusBar().currentMessage().startswith("Undone: 2 steps")
    dialog.close()


def test_resolve_conflict_compares_and_resolves_off_the_gui_thread(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    path = Path(card.path)
    original = path.read_bytes()
    other.set_fields([card.id], {"quality": 77}, label="mine")  # a pending edit in the library…
    text, changed = re.subn(r"^title: .*$", "title: Changed outside", original.decode("utf-8"), count=1, flags=re.MULTILINE)
    assert changed == 1
    steps = team.edits.history.stack.count()
    resolved: list[int] = []
    team.files.conflictResolved.connect(resolved.append)
    seen: list[dict[str, str]] = []

    def choose(dialog: Any) -> bool:
        seen.append(dialog.choices())
        return True

    team.files.run_dialog = choose
    try:
        path.write_text(text, encoding="utf-8")  # …and the file changed outside meanwhile
        gap, slow = _slowed(qtbot, team, ["pending", "rebase"], lambda: team.files.resolve(card.id),
                            lambda: bool(resolved) and not team.edits.busy)  # fmt: skip
    finally:
        path.write_bytes(original)  # the session's template cards are shared by the other tests
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while a conflict was compared and resolved"
    # The comparison's read on the cards lane, the resolution on the edits lane (others read the card too).
    assert {"curator-cards", "curator-edits"} <= set(slow.threads) and not slow.on_gui_thread
    assert seen == [{"quality": "mine", "title": "theirs"}] and not boxes
    detail = other.detail(card.id)
    assert (detail.quality, detail.title) == (77, "Changed outside")
    assert team.edits.history.stack.count() == steps + 1
    assert team.edits.history.stack.text(steps).startswith("Resolve conflict")


def test_the_related_editors_pick_list_and_save_go_off_the_gui_thread(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    pick = next(r for r in (team.model.card_at(i) for i in range(1, 10)) if r.id != card.id and r.title)
    saved: list[Any] = []

    def run(dialog: Any) -> bool:
        saved.append(dialog)
        return False  # answered below, once the pick list was used

    team.related.run_dialog = run
    team.related.edit()
    dialog = saved[0]
    qtbot.addWidget(dialog)
    words = " ".join(pick.title.split()[:3])
    dialog.search.blockSignals(True)  # the search is run once, by hand, not by the typing timer
    dialog.search.setText(words)
    dialog.search.blockSignals(False)
    items = dialog.list.count()

    def search() -> None:
        dialog.search.returnPressed.emit()  # Enter: search the words typed, add the first card found
        assert dialog.list.count() == items  # on its way: added when the search and the card arrive

    gap, slow = _slowed(qtbot, team, ["rows", "detail"], search, lambda: dialog.list.count() == items + 1)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the related editor searched"
    assert slow.threads and not slow.on_gui_thread
    assert dialog.results.count() >= 1
    first = int(dialog.results.item(0).data(CARD_ROLE))
    assert first != card.id and pick.id in [int(dialog.results.item(i).data(CARD_ROLE)) for i in range(dialog.results.count())]
    added = dialog.items()[-1]
    assert added["sourceUrl"] == other.current_data(first)["sourceUrl"]

    steps = team.edits.history.stack.count()

    def save() -> None:
        team.related.saved.emit(card.id, dialog.items(), card.version)  # what Save does
        assert team.edits.busy

    gap, slow = _slowed(qtbot, team, ["set_related"], save, lambda: not team.edits.busy)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the related links were saved"
    assert slow.threads and not slow.on_gui_thread and not boxes
    assert added["sourceUrl"] in _related_urls(other, card.id)
    assert team.edits.history.stack.count() == steps + 1


def test_the_duplicates_dialog_fills_when_its_cards_arrive(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    from curator.core.checks.index import Group

    ids = [team.model.card_at(i).id for i in range(5)]
    summary = ChecksSummary.of([Group("url", (ids[0], ids[1]), "https://example.org/a"),
                                Group("copy", (ids[2], ids[3], ids[4]), None)])  # fmt: skip
    team.duplicates.refresher.summary = summary
    opened: list[Any] = []

    def act() -> None:
        opened.append(team.duplicates.open())
        assert opened[0].list.count() == 0  # on its way: filled when the groups' cards arrive

    gap, slow = _slowed(qtbot, team, ["rows_by_id"], act, lambda: len(opened[0].cards) == 2)
    dialog = opened[0]
    qtbot.addWidget(dialog)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the duplicates dialog was filled"
    # Two reads on the cards lane (the groups' first cards, the chosen group's); others may read rows too.
    assert slow.threads.count("curator-cards") == 2 and not slow.on_gui_thread
    assert dialog.list.count() == 2 and dialog.heading.text() == f"Duplicates: {summary.text()}"
    assert [c.row.id for c in dialog.cards] == ids[:2]
    assert [c.row.title for c in dialog.cards] == [r.title for r in other.rows_by_id(ids[:2])]
    dialog.list.setCurrentRow(1)  # another group: its cards are read, then shown
    qtbot.waitUntil(lambda: [c.row.id for c in dialog.cards] == ids[2:], timeout=5000)
    dialog.close()


def test_the_empty_lists_count_is_read_off_the_gui_thread(qtbot, team: MainWindow) -> None:  # type: ignore[no-untyped-def]
    states = team.list_states
    gap, slow = _slowed(qtbot, team, ["count"], lambda: team.apply_query("zzqxnothingmatches"),
                        lambda: states.no_matches.isVisible())  # fmt: skip
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the empty list was counted"
    assert slow.threads and not slow.on_gui_thread
    assert team.model.total == 0 and not states.empty.isVisible()  # the library has cards: "no matches"


def test_review_counts_the_pending_edits_off_the_gui_thread(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    other.set_fields([card.id], {"quality": 91}, label="pending")
    reviewed: list[Any] = []
    team.files.run_dialog = lambda dialog: reviewed.append(dialog) is None and False
    team.files.writeFinished.connect(lambda report, dry: reviewed.append((report, dry)))

    def act() -> None:
        team.files.review_changes()
        assert not team.files.writer.running  # the count is on its way: the review starts when it arrives

    gap, slow = _slowed(qtbot, team, ["totals"], act, lambda: len(reviewed) >= 1)
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the pending edits were counted"
    assert slow.threads and not slow.on_gui_thread
    qtbot.waitUntil(lambda: any(isinstance(r, tuple) for r in reviewed), timeout=10000)
    report, dry = next(r for r in reviewed if isinstance(r, tuple))
    assert dry and len(report.diffs) == 1  # the one card with a pending edit, not written
    assert other.totals().dirty == 1


def test_the_close_prompts_count_is_read_off_the_gui_thread(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    other.set_fields([card.id], {"quality": 92}, label="pending")
    asked: list[str] = []

    def ask(box: Any) -> str:
        asked.append(box.text())
        return "keep"

    team.files.ask_close = ask

    def act() -> None:
        assert not team.close()  # the count is on its way: the window stays until it arrives
        assert team.isVisible() and not asked

    gap, slow = _slowed(qtbot, team, ["totals"], act, lambda: not team.isVisible())
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the close prompt counted"
    assert slow.threads and not slow.on_gui_thread
    assert asked == ["1 card has changes not yet written to its file."]  # asked with the library's count
    assert other.totals().dirty == 1  # kept in the library, as the editor chose


def test_preferences_open_when_the_librarys_part_arrives(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    def shown() -> list[PreferencesDialog]:
        return [d for d in team.findChildren(PreferencesDialog) if d.isVisible()]

    def act() -> None:
        team.actions.preferences.trigger()
        assert not shown()  # on its way: the dialog opens with the library's values, not before

    gap, slow = _slowed(qtbot, team, ["check_thresholds"], act, lambda: bool(shown()))
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while Preferences read the library"
    assert slow.threads and not slow.on_gui_thread
    [dialog] = shown()
    expected = other.check_thresholds()
    assert dialog.thresholds == expected and dialog.min_score.value() == expected.min_score
    assert [r.path for r in dialog.roots] == [r.path for r in other.roots()]
    dialog.reject()
