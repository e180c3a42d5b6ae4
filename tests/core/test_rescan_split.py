"""Issue 12's rescan: a big walk shared with a helper process finds exactly what one process finds (a helper
that fails has its share walked again), and the library's stamps, read on a thread of their own, compare
with the files as sets without losing a change, an addition or a removal."""

from __future__ import annotations

import os
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

    folders, keys, _ = importer._given([root])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(importer, "SPLIT_AFTER", 1)
        mp.setattr(importer, "MIN_SHARE", 1)  # a helper for any share, however small
        mp.setattr(importer._Helper, "keys", spy)
        importer._walk_keys(folders, keys, True)
    assert len(answers) == 1, "the walk did not split"
    return keys, answers


def as_found(keys: list[str]) -> dict[str, tuple[int, int]]:
    return {path: (size, mtime_ns) for path, size, mtime_ns in map(stamp_parts, keys)}


def test_a_split_walk_finds_what_one_process_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "cards")
    one, _, _ = walk([root])
    assert len(one) == 6 * 12 + 1  # every card, the linked one, none of the others
    started: list[int] = []
    real_start = importer._Helper.start.__func__  # type: ignore[attr-defined]

    def spy(cls: type[importer._Helper], stack: list[tuple[str, int]]) -> importer._Helper | None:
        helper = real_start(cls, stack)
        assert helper is not None
        started.append(helper.process.pid)
        return helper

    monkeypatch.setattr(importer._Helper, "start", classmethod(spy))
    keys, answers = split_walk(root)
    (helper,) = answers
    assert helper, "the helper found nothing"
    assert started and started[0] != os.getpid()  # another process walked them
    assert 0 < len(helper) < len(keys) - 1  # both processes walked a share
    assert len(keys) == len(set(keys))  # no file twice
    assert as_found(keys) == one


def test_a_helper_reads_and_writes_names_as_bytes(tmp_path: Path) -> None:
    """A name that is not UTF-8 comes back from the helper as the string this process would make of it."""
    root = tmp_path / "cards"
    for folder in ("a", "b", "c"):
        (root / folder).mkdir(parents=True)
        (root / folder / "plain.md").write_text(card_text(folder))
    odd = os.fsencode(root / "c") + b"/caf\xe9.md"
    with open(odd, "wb") as f:
        f.write(card_text("odd").encode())
    keys, (helper,) = split_walk(root)
    assert os.fsdecode(odd) in as_found(keys)
    assert helper is not None and len(keys) == 4


def _helper_running(script: str) -> object:
    """A rescan_walk.command that runs ``script`` instead of the walk (a helper that fails in some way)."""

    def command(executable: str, in_fd: int, out_fd: int, suffixes: tuple[str, ...]) -> list[str]:
        return [executable, "-S", "-I", "-c", script, str(in_fd), str(out_fd)]

    return command


@pytest.mark.parametrize("failure", ["raises", "killed", "half written", "never starts"])
def test_a_helper_that_fails_has_its_share_walked_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       failure: str) -> None:
    root = make_tree(tmp_path / "cards")
    one, _, _ = walk([root])
    if failure == "raises":
        monkeypatch.setattr(importer.rescan_walk, "command", _helper_running("raise MemoryError"))
    elif failure == "killed":
        monkeypatch.setattr(importer.rescan_walk, "command",
                            _helper_running("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))  # fmt: skip
    elif failure == "half written":  # exits 0 (as any child reads where SIGCHLD is ignored), output cut short
        monkeypatch.setattr(importer.rescan_walk, "command", _helper_running(
            "import os, sys; os.write(int(sys.argv[2]), b'/x.md:1:2\\0/y.md:3:')"))  # fmt: skip
    else:
        monkeypatch.setattr(importer.rescan_walk, "command",
                            lambda *args: [str(tmp_path / "no-such-python")])  # fmt: skip
    folders, keys, _ = importer._given([root])
    answers: list[list[str] | None] = []
    real_keys = importer._Helper.keys
    monkeypatch.setattr(importer._Helper, "keys", lambda helper: answers.append(real_keys(helper)) or answers[-1])
    monkeypatch.setattr(importer, "SPLIT_AFTER", 1)
    monkeypatch.setattr(importer, "MIN_SHARE", 1)
    importer._walk_keys(folders, keys, True)
    assert answers == ([] if failure == "never starts" else [None])  # the helper failed (or never ran)...
    assert len(keys) == len(set(keys)) and as_found(keys) == one  # ... and no file was lost


def test_the_folders_are_shared_by_their_sizes(tmp_path: Path) -> None:
    """Each folder is walked by one process; the biggest first, each to the smaller share so far, this
    process's counting what it listed before the split."""
    sizes = {"big": 400, "mid": 200, "small1": 150, "small2": 100}
    stack = []
    for name, count in sizes.items():
        folder = tmp_path / name
        folder.mkdir()
        for i in range(count):
            (folder / f"card-with-a-long-name-{i:04d}.md").touch()
        stack.append((str(folder), 0))
    size = {folder: os.stat(folder).st_size for folder, _ in stack}
    assert len(set(size.values())) > 1, "the file system does not grow a folder with its entries"
    for done in (0, size[str(tmp_path / "big")]):
        mine, theirs, weight = importer._shares(stack, done)
        assert sorted(mine + theirs) == sorted(stack)  # each folder once
        totals = [done + sum(size[f] for f, _ in mine), sum(size[f] for f, _ in theirs)]
        assert weight == totals[1]
        assert abs(totals[0] - totals[1]) <= max(size.values())  # the greedy split's bound
        # A helper given the folder of 100k files while the other gets 10 would make the split useless.
        assert min(totals) >= size[str(tmp_path / "mid")]
    assert theirs[0][0] == str(tmp_path / "big")  # this process had listed as much already


def test_a_small_walk_starts_no_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper costs more to start than it saves on a few thousand files: with the helper's share
    estimated below MIN_SHARE (the entries a byte of folder held so far times the folders' bytes) the
    walk stays here; above it, it splits."""
    root = make_tree(tmp_path / "cards")
    one, _, _ = walk([root])
    started: list[int] = []
    monkeypatch.setattr(importer._Helper, "start", classmethod(lambda cls, stack: started.append(1)))
    monkeypatch.setattr(importer, "SPLIT_AFTER", 1)
    folders, keys, _ = importer._given([root])
    importer._walk_keys(folders, keys, True)  # 73 cards, MIN_SHARE 10,000
    assert started == [] and as_found(keys) == one
    monkeypatch.setattr(importer, "MIN_SHARE", 12)  # a share of a dozen entries is enough
    keys = importer._given([root])[1]
    importer._walk_keys(folders, keys, True)
    assert started == [1] and as_found(keys) == one  # (a helper that did not start: all walked here)


@pytest.mark.parametrize("mode", ["split", "one process"])
def test_rescans_split_or_not_find_every_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               mode: str) -> None:
    """The changes (one edited, one touched with the same bytes, one removed, one added, one flagged
    missing and back) found by a split walk and by one process, the stamps read on a thread meanwhile."""
    root = make_tree(tmp_path / "cards")
    everything = 6 * 12 + 1
    monkeypatch.setattr(importer, "SPLIT_AFTER", 1)
    monkeypatch.setattr(importer, "MIN_SHARE", 1)
    monkeypatch.setattr(importer, "_may_split", lambda: mode == "split")
    helpers: list[importer._Helper | None] = []
    real_start = importer._Helper.start.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(importer._Helper, "start",
                        classmethod(lambda cls, stack: helpers.append(real_start(cls, stack)) or helpers[-1]))  # fmt: skip
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
    assert len(helpers) == (4 if mode == "split" else 0) and all(helpers)  # every rescan split, or none


def test_a_file_named_as_well_as_its_folder_counts_once(tmp_path: Path) -> None:
    """A rescan's fast path takes "every file's key matched a card's" from the counts alone: a file found
    twice (its folder and itself given) must not pass for one more unchanged card, nor hide a change."""
    root = make_tree(tmp_path / "cards")
    everything = 6 * 12 + 1
    twice = root / "a" / "card 00.md"
    with Store(tmp_path / "lib.sqlite") as store:
        assert import_paths(store, [root, twice]).added == everything
        again = import_paths(store, [root, twice])
        assert (again.unchanged, again.added, again.updated, again.removed) == (everything, 0, 0, 0)
        twice.write_text(card_text("edited twice", quality=98))
        st = twice.stat()
        os.utime(twice, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        changed = import_paths(store, [root, twice])
        assert (changed.unchanged, changed.updated) == (everything - 1, 1)
        assert [r.title for r in store.rows("quality>=98")] == ["edited twice"]
