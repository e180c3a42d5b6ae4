"""write_changes/atomic_write on real files: conflicts, "already", permissions, failures, temp files."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from curator.core.cards import FileState, read_card
from curator.core.writeback import (
    ConflictError,
    WriteError,
    atomic_write,
    patch,
    remove_stale_temps,
    write_changes,
)


def state_of(path: Path) -> FileState:
    raw = path.read_bytes()
    return FileState(len(raw), path.stat().st_mtime_ns, hashlib.sha256(raw).hexdigest())


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".curator-tmp-" in p.name)


def age(path: Path) -> int:
    """Set the file's mtime far in the past, so any rewrite would show."""
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    return path.stat().st_mtime_ns


def test_write_replaces_the_file_and_reports_its_state(example_card: Path) -> None:
    os.chmod(example_card, 0o640)
    base = state_of(example_card)
    old = example_card.read_bytes()
    outcome = write_changes(str(example_card), base, {"quality": 77})
    assert outcome.status == "written"
    assert outcome.old == old
    assert example_card.read_bytes() == outcome.new == patch(old, {"quality": 77})
    assert outcome.state == state_of(example_card)
    assert stat.S_IMODE(example_card.stat().st_mode) == 0o640
    assert temps(example_card.parent) == []
    card, _ = read_card(str(example_card))
    assert card.data["quality"] == 77


def test_no_op_does_not_touch_the_file(example_card: Path) -> None:
    mtime = age(example_card)
    inode = example_card.stat().st_ino
    base = state_of(example_card)
    outcome = write_changes(str(example_card), base, {"quality": 54, "heat": -1})
    assert outcome.status == "unchanged"
    assert outcome.state == base
    assert example_card.stat().st_mtime_ns == mtime
    assert example_card.stat().st_ino == inode


def test_dry_run_reports_without_writing(example_card: Path) -> None:
    mtime = age(example_card)
    old = example_card.read_bytes()
    outcome = write_changes(str(example_card), state_of(example_card), {"heat": 9}, dry_run=True)
    assert outcome.status == "written"
    assert outcome.new != old and b"heat: 9\n" in outcome.new
    assert example_card.read_bytes() == old
    assert example_card.stat().st_mtime_ns == mtime
    assert temps(example_card.parent) == []


def test_changed_content_is_a_conflict_and_stays(example_card: Path) -> None:
    base = state_of(example_card)
    outside = example_card.read_bytes().replace(b"quality: 54", b"quality: 12")
    example_card.write_bytes(outside)
    with pytest.raises(ConflictError) as err:
        write_changes(str(example_card), base, {"quality": 77})
    assert "changed on disk" in err.value.reason
    assert example_card.read_bytes() == outside
    # Same size, different bytes: caught by the hash, not the size.
    assert len(outside) == base.size


def test_touched_file_with_the_same_bytes_is_not_a_conflict(example_card: Path) -> None:
    base = state_of(example_card)
    os.utime(example_card, ns=(base.mtime_ns + 5_000_000_000, base.mtime_ns + 5_000_000_000))
    assert write_changes(str(example_card), base, {"quality": 1}).status == "written"


def test_file_that_already_holds_the_result_is_already(example_card: Path) -> None:
    base = state_of(example_card)
    # An earlier write got as far as the rename, then the library was not told.
    example_card.write_bytes(patch(example_card.read_bytes(), {"quality": 77}))
    mtime = age(example_card)
    outcome = write_changes(str(example_card), base, {"quality": 77})
    assert outcome.status == "already"
    assert outcome.state == state_of(example_card)
    assert example_card.stat().st_mtime_ns == mtime


def test_already_with_base_data_requires_the_rest_unchanged(example_card: Path) -> None:
    card, raw = read_card(str(example_card))
    base = card.state
    assert base is not None
    example_card.write_bytes(patch(raw, {"quality": 77, "heat": 50}))  # plus an outside edit
    assert write_changes(str(example_card), base, {"quality": 77}).status == "already"
    with pytest.raises(ConflictError):
        write_changes(str(example_card), base, {"quality": 77}, base_data=card.data)


def test_read_only_file_is_refused_even_for_root(example_card: Path) -> None:
    # Tests run as root, for whom os.access says every file is writable: the permission bits
    # are checked directly, since os.replace would otherwise replace a read-only file.
    base = state_of(example_card)
    old = example_card.read_bytes()
    os.chmod(example_card, 0o444)
    with pytest.raises(WriteError) as err:
        write_changes(str(example_card), base, {"quality": 77})
    assert "read-only" in err.value.reason
    assert example_card.read_bytes() == old
    assert stat.S_IMODE(example_card.stat().st_mode) == 0o444
    assert temps(example_card.parent) == []
    # Nothing to change is still fine on a read-only file.
    assert write_changes(str(example_card), base, {"quality": 54}).status == "unchanged"


def test_injected_replace_failure_leaves_no_temp_and_the_original(example_card: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    base = state_of(example_card)
    old = example_card.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        assert Path(src).name.startswith(f".{example_card.name}.curator-tmp-")
        assert Path(src).read_bytes() != old  # the new bytes were written out in full first
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WriteError) as err:
        write_changes(str(example_card), base, {"quality": 77})
    assert "No space left" in err.value.reason
    assert example_card.read_bytes() == old
    assert temps(example_card.parent) == []


def test_injected_fsync_failure_leaves_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "card.md"
    target.write_bytes(b"---\na: 1\n---\n")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write(str(target), b"---\na: 2\n---\n")
    assert target.read_bytes() == b"---\na: 1\n---\n"
    assert temps(tmp_path) == []


def test_atomic_write_new_file_and_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "new.md"
    state = atomic_write(str(target), b"---\na: 1\n---\n")
    assert state == state_of(target)
    with pytest.raises(OSError):
        atomic_write(str(tmp_path / "nope" / "x.md"), b"x")


def test_unreadable_or_vanished_file_is_a_write_error(tmp_path: Path) -> None:
    with pytest.raises(WriteError) as err:
        write_changes(str(tmp_path / "gone.md"), FileState(1, 1, "0" * 64), {"a": 1})
    assert "cannot read" in err.value.reason


def test_remove_stale_temps(tmp_path: Path) -> None:
    (tmp_path / "card.md").write_text("---\n---\n")
    (tmp_path / ".card.md.curator-tmp-0a1b2c").write_text("half a write")
    (tmp_path / ".other.txt.curator-tmp-ffff").write_text("")
    (tmp_path / ".hidden").write_text("not ours")
    (tmp_path / "visible.curator-tmp-1").write_text("not a dotfile: not ours")
    (tmp_path / ".dir.curator-tmp-9").mkdir()
    for entry in tmp_path.iterdir():
        age(entry)  # all long past the age threshold: only the name and the kind decide
    assert remove_stale_temps(str(tmp_path)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".dir.curator-tmp-9", ".hidden", "card.md", "visible.curator-tmp-1"]
    assert remove_stale_temps(str(tmp_path / "missing")) == 0
