"""Many editors on one library, on both backends: who changed what, card versions, stale edits refused,
undo of one's own steps only, everyone's pending edits written. The process tests run each editor as its
own process with its own connection (tests/core/concurrency_editor.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import StaleEdit, Store, default_editor

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EDITOR_SCRIPT = HERE / "concurrency_editor.py"

CARD = "---\ntitle: Card {n}\nquality: 40\nheat: 5\npublished: false\ntopics: [AI]\n---\nBody {n}.\n"


@pytest.fixture
def team(tmp_path: Path, library_url: str) -> Iterator[tuple[Store, Store, list[int], Path]]:
    """Ana and Ben, each with their own Store (own connections) on one library of three cards."""
    folder = tmp_path / "cards"
    folder.mkdir()
    for n in range(3):
        (folder / f"c{n}.md").write_text(CARD.format(n=n), encoding="utf-8")
    ana = Store(library_url, editor="Ana")
    import_paths(ana, [folder])
    ben = Store(library_url, editor="Ben")
    yield ana, ben, ana.ids(), folder
    ana.close()
    ben.close()


def test_the_editor_is_recorded_on_batches_journal_and_pending_edits(team: tuple[Store, Store, list[int], Path]) -> None:
    ana, ben, ids, _ = team
    before = time.time()
    ana.set_fields([ids[0]], {"published": True}, label="Publish")
    ben.set_fields([ids[0]], {"quality": 70}, label="Set quality")
    assert [(b.label, b.editor) for b in ana.history()] == [("Set quality", "Ben"), ("Publish", "Ana")]
    changes = ben.last_changes(ids[0])
    assert {f: (c.value, c.editor) for f, c in changes.items()} == {"published": (True, "Ana"), "quality": (70, "Ben")}
    assert all(before <= c.when <= time.time() for c in changes.values())
    authors = ana.backend.pending_authors(ids[0])
    assert [(f, e) for f, e, _ in authors] == [("published", "Ana"), ("quality", "Ben")]
    assert all(before <= t <= time.time() for _, _, t in authors)
    # Ben takes over Ana's pending edit of published: the pending row now names him.
    ben.set_fields([ids[0]], {"published": False, "heat": 9}, label="Unpublish")
    assert [(f, e) for f, e, _ in ana.backend.pending_authors(ids[0])] == [("heat", "Ben"), ("quality", "Ben")]


def test_the_default_editor_is_curator_editor_else_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATOR_EDITOR", "  Ana Lima\n")
    assert default_editor() == "Ana Lima"
    monkeypatch.delenv("CURATOR_EDITOR")
    import getpass

    assert default_editor() == getpass.getuser()


def test_every_edit_advances_the_version_and_a_no_op_does_not(team: tuple[Store, Store, list[int], Path]) -> None:
    ana, _, ids, _ = team
    seen = [ana.detail(ids[0]).version]
    ana.set_fields([ids[0]], {"quality": 50}, label="q")
    seen.append(ana.detail(ids[0]).version)
    ana.set_fields(ids, {"published": True}, label="bulk")  # a bulk edit: one statement for many cards
    seen.append(ana.detail(ids[0]).version)
    batch = ana.add_topic([ids[0]], "Space", label="t").batch_id
    seen.append(ana.detail(ids[0]).version)
    ana.undo(batch)
    seen.append(ana.detail(ids[0]).version)
    assert seen == sorted(set(seen)), seen  # strictly increasing
    ana.set_fields([ids[0]], {"quality": 50}, label="same value")
    assert ana.detail(ids[0]).version == seen[-1]
    assert ana.detail(ids[1]).version > 1  # the bulk edit moved the others too


def test_a_stale_single_edit_is_refused_naming_the_fresh_values_and_who(
    team: tuple[Store, Store, list[int], Path],
) -> None:
    ana, ben, ids, _ = team
    shown = ana.detail(ids[0])
    ben.set_fields([ids[0]], {"published": True}, label="Publish")
    with pytest.raises(StaleEdit) as refused:
        ana.set_fields([ids[0]], {"quality": 90, "published": False}, label="Set", expected={ids[0]: shown.version})
    message = str(refused.value)
    assert "published is now true (set by Ben" in message and "quality is now 40 (as in its file)" in message
    assert refused.value.card_id == ids[0] and refused.value.skipped.version == ben.detail(ids[0]).version
    fresh = {c.field: (c.value, c.editor) for c in refused.value.skipped.fresh}
    assert fresh == {"quality": (40, None), "published": (True, "Ben")}
    # Nothing of Ana's edit happened: Ben's value stands and no batch of hers was recorded.
    assert ana.detail(ids[0]).published is True and ana.detail(ids[0]).quality == 40
    assert [b.editor for b in ana.history()] == ["Ben"]
    # Based on the fresh version, her edit goes through (and a topic edit is checked the same way).
    ana.set_fields([ids[0]], {"quality": 90}, label="Set", expected={ids[0]: refused.value.skipped.version})
    with pytest.raises(StaleEdit, match="quality is now 90 \\(set by Ana"):
        ben.add_topic([ids[0]], "Space", label="t", expected={ids[0]: shown.version})
    with pytest.raises(StaleEdit):
        ben.set_related(ids[0], [], label="r", expected_version=shown.version)
    assert ana.detail(ids[0]).topics == ["AI"]


def test_a_bulk_edit_applies_to_current_values_and_reports_what_it_skipped(
    team: tuple[Store, Store, list[int], Path],
) -> None:
    ana, ben, ids, _ = team
    versions = {cid: ana.detail(cid).version for cid in ids}
    ben.set_fields([ids[1]], {"published": True, "quality": 10}, label="Ben's")
    result = ana.set_fields(ids, {"quality": 80}, label="Bulk", expected=versions)
    assert result.changed == [ids[0], ids[2]]
    assert [(s.card_id, s.field) for s in result.skipped] == [(ids[1], None)]
    assert "quality is now 10 (set by Ben" in result.skipped[0].reason
    assert ana.detail(ids[1]).quality == 10  # Ben's value, never silently overwritten
    # Without versions a bulk edit simply applies to the current values.
    assert ana.set_fields(ids, {"heat": 50}, label="Bulk").changed == ids


def test_undo_steps_back_only_ones_own_batches(team: tuple[Store, Store, list[int], Path]) -> None:
    ana, ben, ids, _ = team
    mine = ana.set_fields([ids[0]], {"quality": 60}, label="Set quality").batch_id
    his = ben.set_fields([ids[1]], {"heat": 70}, label="Set heat").batch_id
    assert [b.id for b in ana.history()] == [his, mine]  # history lists everyone's
    with pytest.raises(ValueError, match="Ben made it, and only Ben can undo it"):
        ana.undo(his)
    assert ana.detail(ids[1]).heat == 70
    with pytest.raises(ValueError, match="only Ana can redo it"):
        ben.redo(mine)
    assert ana.undo(mine).changed == [ids[0]] and ana.detail(ids[0]).quality == 40


def test_undo_leaves_a_field_another_editor_changed_since_and_says_so(
    team: tuple[Store, Store, list[int], Path],
) -> None:
    ana, ben, ids, _ = team
    step = ana.set_fields([ids[0]], {"quality": 60, "heat": 10}, label="Score").batch_id
    ben.set_fields([ids[0]], {"quality": 75}, label="Ben's quality")
    result = ana.undo(step)
    assert [(s.card_id, s.field) for s in result.skipped] == [(ids[0], "quality")]
    assert f"quality of card {ids[0]} was changed by Ben since" in result.skipped[0].reason
    detail = ana.detail(ids[0])
    assert (detail.quality, detail.heat) == (75, 5)  # Ben's quality kept, the rest of the step undone
    assert ana.redo(step).skipped[0].field == "quality"
    assert (ana.detail(ids[0]).quality, ana.detail(ids[0]).heat) == (75, 10)
    # Once Ben's change is undone, it no longer holds Ana's field.
    ben.undo(ben.history()[0].id)
    assert ana.undo(step).skipped == [] and ana.detail(ids[0]).quality == 40


def test_undo_refused_whole_when_every_field_was_changed_since(team: tuple[Store, Store, list[int], Path]) -> None:
    ana, ben, ids, _ = team
    step = ana.set_fields([ids[0]], {"quality": 60}, label="Score").batch_id
    ben.set_fields([ids[0]], {"quality": 75}, label="Ben's quality")
    with pytest.raises(ValueError, match="cannot undo 'Score': quality of card .* was changed by Ben since"):
        ana.undo(step)
    assert ana.history()[1].undone is False and ana.detail(ids[0]).quality == 75


def test_write_writes_everyones_pending_edits(team: tuple[Store, Store, list[int], Path]) -> None:
    ana, ben, ids, folder = team
    ana.set_fields([ids[0]], {"quality": 61}, label="Ana's")
    ben.set_fields([ids[1]], {"quality": 62}, label="Ben's")
    report = ana.write()
    assert report.written == 2
    texts = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    assert "quality: 61" in texts[Path(ana.detail(ids[0]).path).name]
    assert "quality: 62" in texts[Path(ana.detail(ids[1]).path).name]
    assert ben.totals().dirty == 0


def test_another_editors_write_or_rescan_does_not_make_an_edit_stale(team: tuple[Store, Store, list[int], Path]) -> None:
    """A Write (the file takes the values the card already had) and a rescan are bookkeeping: an edit based
    on the version read before them still holds, on both backends (PostgreSQL's trigger is told so)."""
    ana, ben, ids, folder = team
    ben.set_fields([ids[0]], {"quality": 70}, label="Ben's")
    shown = ana.detail(ids[0])
    assert ben.write().written == 1
    import_paths(ben, [folder])  # a rescan: nothing changed on disk
    assert ana.detail(ids[0]).version == shown.version and ana.detail(ids[0]).quality == 70
    ana.set_fields([ids[0]], {"published": True}, label="Publish", expected={ids[0]: shown.version})
    assert ana.detail(ids[0]).published is True and ana.detail(ids[0]).version > shown.version


def _editor(library: str, name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EDITOR_SCRIPT), library, name, *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def _answer(proc: subprocess.Popen[str]) -> dict[str, object]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"the editor process ended early (exit {proc.wait()})"
    return json.loads(line)


def _go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def test_two_editor_processes_on_one_card_the_stale_one_is_refused_and_told_who(
    team: tuple[Store, Store, list[int], Path], library_url: str,
) -> None:
    ana, _, ids, _ = team
    card = str(ids[0])
    first = _editor(library_url, "Ana", "stale", card, "published", "true")
    second = _editor(library_url, "Ben", "stale", card, "published", "false")
    try:
        assert _answer(first)["version"] == _answer(second)["version"]  # both read the same card
        _go(first)
        assert _answer(first) == {"ok": True}
        _go(second)
        answer = _answer(second)
    finally:
        for proc in (first, second):
            proc.communicate(timeout=60)
    assert answer["ok"] is False and "published is now true (set by Ana" in str(answer["stale"])
    # No lost update: Ana's value stands, and the journal holds her change alone.
    assert ana.detail(ids[0]).published is True
    assert [(e[1], e[2]) for e in ana.backend.journal_rows()] == [(ids[0], "published")]
    assert [b.editor for b in ana.history()] == ["Ana"]


def test_editor_processes_counting_on_one_card_lose_no_update(
    team: tuple[Store, Store, list[int], Path], library_url: str,
) -> None:
    ana, _, ids, _ = team
    times, editors = 12, 4
    procs = [_editor(library_url, f"editor{i}", "count", str(ids[0]), str(times)) for i in range(editors)]
    try:
        for proc in procs:
            _go(proc)
        answers = [_answer(proc) for proc in procs]
    finally:
        for proc in procs:
            proc.communicate(timeout=120)
    assert all(a["done"] == times for a in answers)
    assert ana.detail(ids[0]).quality == 40 + times * editors  # every increment counted once
    steps = [(json.loads(old), json.loads(new)) for _, _, field, old, new in ana.backend.journal_rows()]
    assert steps == [(40 + i, 41 + i) for i in range(times * editors)]
    assert {b.editor for b in ana.history(1000)} == {f"editor{i}" for i in range(editors)}


def test_cli_history_and_show_say_who_changed_what(team: tuple[Store, Store, list[int], Path], tmp_path: Path,
                                                    library_url: str) -> None:  # fmt: skip
    ana, ben, ids, _ = team
    env = {"CURATOR_EDITOR": "Cleo", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}  # fmt: skip
    import os

    env = {**os.environ, **env}
    env.pop("CURATOR_DB", None)

    def curator(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "curator", "--db", library_url, *args], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=120, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    curator("set", "--id", str(ids[0]), "published=true")
    ben.set_fields([ids[0]], {"quality": 77}, label="Ben's quality")
    shown = curator("show", str(ids[0]))
    assert any(line.startswith("Published") and "— Cleo, " in line for line in shown.splitlines()), shown
    assert any(line.startswith("Quality") and "— Ben, " in line for line in shown.splitlines())
    assert not any(line.startswith("Heat") and "—" in line for line in shown.splitlines())
    data = json.loads(curator("show", str(ids[0]), "--json"))
    assert data["changed_by"]["published"]["editor"] == "Cleo" and data["version"] == ana.detail(ids[0]).version
    assert data["pending"]["published"] == {"file": False, "pending": True}  # the existing keys stay
    history = curator("history")
    assert "Cleo" in history and "Ben" in history
    lines = [json.loads(line) for line in curator("history", "--json").splitlines()]
    assert [(h["editor"], h["label"]) for h in lines] == [("Ben", "Ben's quality"), ("Cleo", "set published=True")]


def test_an_edit_made_while_a_write_runs_stays_pending(team: tuple[Store, Store, list[int], Path]) -> None:
    """Ben edits the card Ana's Write is writing (after it read the pending values, before it records the
    file): his edit is not in the file, so it stays pending over the new base instead of being dropped."""
    ana, ben, ids, _ = team
    ana.set_fields([ids[0]], {"quality": 61}, label="Ana's")
    ana.set_fields([ids[1]], {"quality": 63}, label="Ana's other")

    def meanwhile(done: int, _total: int) -> None:
        if done == 1:
            ben.set_fields([ids[0]], {"heat": 77, "quality": 99}, label="Ben's, during the write")

    report = ana.write(progress=meanwhile)
    assert report.written == 2
    path = Path(ana.detail(ids[0]).path)
    assert "quality: 61" in path.read_text(encoding="utf-8")
    detail = ana.detail(ids[0])
    assert (detail.quality, detail.heat, detail.dirty) == (99, 77, True)  # Ben's values, still to be written
    assert detail.pending == {"heat": (5, 77), "quality": (61, 99)}  # based on what the file holds now
    assert ana.detail(ids[1]).dirty is False and ana.pending(ids[1]) == {}
    assert ana.write().written == 1
    text = path.read_text(encoding="utf-8")
    assert "quality: 99" in text and "heat: 77" in text and ana.totals().dirty == 0
