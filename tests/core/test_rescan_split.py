"""Issue 12's rescan: a big walk shared with a forked helper finds exactly what one process finds (a helper
that fails has its share walked again), and the library's stamps, read on a thread of their own, compare
with the files as sets without losing a change, an addition or a removal."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from curator.core import importer
from curator.core.backend.base import stamp_parts
from curator.core.importer import import_paths, walk
from curator.core.store import Store


def card_text(title: str, quality: int = 50, plain: bool = False) -> str:
    mapping = f'title: "{title}"\ncategory: news\nquality: {quality}\n'
    return mapping if plain else f"---\n{mapping}---\n\nBody.\n"


def make_tree(root: Path, per_folder: int = 12) -> Path:
    """Folders of cards with the walk's odd cases among them: dot-names, links, suffixes in capitals."""
    for folder in ("a", "b", "c/sub", "c/sub/deeper", "d e", "ünï"):
        for i in range(per_folder):
            suffix = (".md", ".TXT", ".yaml", ".Markdown")[i % 4]
            path = root / folder / f"card {i:02d}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(card_text(f"{folder} {i}", plain=suffix == ".yaml"), encoding="utf-8")
    (root / "a" / ".dot.md").write_text(card_text("dot"))
    (root / ".hidden").mkdir()
    (root / ".hidden" / "e.md").write_text(card_text("hidden"))
    (root / "b" / "notes.json").write_text("{}")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "o.md").write_text(card_text("outside"))
    os.symlink(outside / "o.md", root / "b" / "linked.md")  # a file link: followed
    os.symlink(outside, root / "b" / "folder.md")  # a folder link named like a card: no card
    os.symlink(outside, root / "linked-folder")  # a folder link: not walked
    os.symlink(root / "nowhere.md", root / "a" / "dangling.md")
    return root


def split_walk(root: Path) -> tuple[list[str], list[list[str] | None]]:
    """The keys of a walk of ``root`` split after its first file, and what the helper answered."""
    answers: list[list[str] | None] = []
    real_keys = importer._Helper.keys

    def spy(helper: importer._Helper) -> list[str] | None:
        answers.append(real_keys(helper))
        return answers[-1]

    splits: list[int] = []
    folders, keys, _ = importer._given([root])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(importer, "SPLIT_AFTER", 1)
        mp.setattr(importer._Helper, "keys", spy)
        importer._walk_keys(folders, keys, lambda: splits.append(os.getpid()))
    assert splits == [os.getpid()], "the walk did not split"
    return keys, answers


def as_found(keys: list[str]) -> dict[str, tuple[int, int]]:
    return {path: (size, mtime_ns) for path, size, mtime_ns in map(stamp_parts, keys)}


def test_a_split_walk_finds_what_one_process_finds(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "cards")
    one, _, _ = walk([root])
    assert len(one) == 6 * 12 + 1  # every card, the linked one, none of the others
    keys, answers = split_walk(root)
    (helper,) = answers
    assert helper, "the helper found nothing"
    assert 0 < len(helper) < len(keys) - 1  # both processes stat'ed a share
    assert len(keys) == len(set(keys))  # no file twice
    assert as_found(keys) == one


@pytest.mark.parametrize("failure", ["raises", "killed"])
def test_a_helper_that_fails_has_its_share_walked_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       failure: str) -> None:
    root = make_tree(tmp_path / "cards")
    one, _, _ = walk([root])
    parent = os.getpid()
    real = importer._walk_stack

    def failing(stack: list[tuple[str, int]], keys: list[str], share: int | None,
                until: int | None = None) -> None:
        if os.getpid() != parent:  # in the helper only
            if failure == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            raise MemoryError("the helper ran out of memory")
        real(stack, keys, share, until)

    monkeypatch.setattr(importer, "_walk_stack", failing)
    keys, answers = split_walk(root)
    assert answers == [None]  # the helper failed...
    assert len(keys) == len(set(keys)) and as_found(keys) == one  # ... and no file was lost


@pytest.mark.parametrize("mode", ["split", "thread"])
def test_rescans_split_or_not_find_every_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               mode: str) -> None:
    """The changes (one edited, one touched with the same bytes, one removed, one added, one flagged
    missing and back) found by a split walk with the stamps read after the fork ("split"), and by one
    process with the stamps read on a thread from the start ("thread")."""
    root = make_tree(tmp_path / "cards")
    everything = 6 * 12 + 1
    monkeypatch.setattr(importer, "SPLIT_AFTER", 1)
    monkeypatch.setattr(importer, "_may_fork", lambda: mode == "split")
    threads: list[str] = []
    real_read = importer._Stamps._read

    def spy(stamps: importer._Stamps) -> None:
        threads.append(threading.current_thread().name)
        real_read(stamps)

    monkeypatch.setattr(importer._Stamps, "_read", spy)
    with Store(tmp_path / "lib.sqlite") as store:
        first = import_paths(store, [root])
        assert first.added == everything and first.failed == 0
        again = import_paths(store, [root])
        assert (again.unchanged, again.added, again.updated, again.removed) == (everything, 0, 0, 0)
        assert threads == ["curator-rescan-stamps"] * 2  # read on their own thread, both times

        edited, touched = root / "a" / "card 01.TXT", root / "b" / "card 02.yaml"
        removed = root / "d e" / "card 03.Markdown"
        edited.write_text(card_text("edited", quality=99))
        st = edited.stat()
        os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        st = touched.stat()
        os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        removed.unlink()
        (root / "c" / "new.md").write_text(card_text("new"))
        # A card with pending edits whose file vanished is kept as missing; when it is back unchanged, its
        # stamps match again but the rescan must still look at it (and clear the flag).
        gone = root / "ünï" / "card 04.md"
        card_id = store.backend.card_id_at(str(gone))
        assert card_id is not None
        store.set_fields([card_id], {"quality": 7}, label="edit")
        saved, st = gone.read_bytes(), gone.stat()
        gone.unlink()
        missing = import_paths(store, [root])
        assert missing.missing == [str(gone)] and store.totals().missing == 1
        # The touched file is read, found the same and counted unchanged.
        counts = (missing.added, missing.updated, missing.removed, missing.unchanged, missing.failed)
        assert counts == (1, 1, 2, everything - 3, 0)
        gone.write_bytes(saved)
        os.utime(gone, ns=(st.st_atime_ns, st.st_mtime_ns))
        back = import_paths(store, [root])
        assert (back.added, back.updated, back.removed, back.failed) == (0, 0, 0, 0)
        assert back.unchanged == everything
        assert store.totals().missing == 0 and store.totals().dirty == 1
        (row,) = store.rows("quality>=99")
        assert row.title == "edited"
        assert sorted(r.path for r in store.rows()) == sorted(walk([root])[0])
        assert threads == ["curator-rescan-stamps"] * 4
