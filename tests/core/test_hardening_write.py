"""Write-back against odd files (issue 8 §1): links, long names, fresh temps, non-regular files, failures.

Every test goes through the real functions (writeback.write_changes / atomic_write / remove_stale_temps,
conflicts.compare, Store.write with its thread and process pools) on real files in a temp folder.
"""

from __future__ import annotations

import errno
import hashlib
import multiprocessing
import os
import shutil
import stat
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core import cards, conflicts, importer, store_write, writeback
from curator.core.cards import FileState
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.writeback import (
    STALE_TEMP_SECONDS,
    TEMP_MARK,
    ConflictError,
    WriteError,
    atomic_write,
    remove_stale_temps,
    temp_name,
    write_changes,
)

CARD = "---\ntitle: A card\nquality: 50\n---\nThe body.\n"


def card(path: Path, title: str = "A card") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CARD.replace("A card", title), encoding="utf-8")
    return path


def state_of(path: Path) -> FileState:
    raw = path.read_bytes()
    return FileState(len(raw), path.stat().st_mtime_ns, hashlib.sha256(raw).hexdigest())


def temps(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.iterdir() if TEMP_MARK in p.name)


def finishes(fn: Callable[[], Any], seconds: float = 10.0) -> Any:
    """fn's result (or exception), failing the test instead of hanging when fn blocks (a FIFO read)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# -- 1. symbolic links ----------------------------------------------------------------------------------


def test_a_link_inside_the_roots_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    real = card(feed / "real" / "a.md")
    link = feed / "a.md"
    link.symlink_to(Path("real") / "a.md")  # relative, as links in a feed folder usually are
    outcome = write_changes(str(link), state_of(real), {"quality": 77}, roots=[os.path.realpath(feed)])
    assert outcome.status == "written"
    assert outcome.target == os.path.realpath(real)
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "a.md")
    assert b"quality: 77\n" in real.read_bytes()
    assert outcome.state == state_of(real)
    assert temps(feed, real.parent) == []


def test_a_link_chain_is_followed_to_its_end(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    real = card(feed / "deep" / "c.md")
    (feed / "b.md").symlink_to(real)
    (feed / "a.md").symlink_to(feed / "b.md")
    roots = [os.path.realpath(feed)]
    assert write_changes(str(feed / "a.md"), state_of(real), {"heat": 3}, roots=roots).status == "written"
    assert (feed / "a.md").is_symlink() and (feed / "b.md").is_symlink()
    assert b"heat: 3\n" in real.read_bytes()
    # A chain that leaves the roots at its last step is refused, though its first link is inside.
    outside = card(tmp_path / "elsewhere" / "x.md")
    (feed / "y.md").symlink_to(outside)
    (feed / "x.md").symlink_to(feed / "y.md")
    before = outside.read_bytes()
    with pytest.raises(WriteError) as err:
        write_changes(str(feed / "x.md"), state_of(outside), {"heat": 3}, roots=roots)
    assert f"links to {os.path.realpath(outside)} outside the imported folders; not written" in err.value.reason
    assert outside.read_bytes() == before


def test_a_link_outside_the_roots_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    target = card(tmp_path / "etc" / "x")
    link = feed / "x.md"
    link.symlink_to(target)
    before = target.read_bytes()
    mtime = target.stat().st_mtime_ns
    with pytest.raises(WriteError) as err:
        write_changes(str(link), state_of(target), {"quality": 1}, roots=[os.path.realpath(feed)])
    assert err.value.reason == f"links to {os.path.realpath(target)} outside the imported folders; not written"
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == before and target.stat().st_mtime_ns == mtime
    assert temps(feed, target.parent) == []
    # No roots at all (a library from before they were recorded): refused, saying what to do.
    with pytest.raises(WriteError) as err:
        write_changes(str(link), state_of(target), {"quality": 1})
    assert "records no imported folders yet: import the folder again" in err.value.reason


def test_a_dangling_link_and_a_loop_are_clear_errors(tmp_path: Path) -> None:
    dangling = tmp_path / "gone.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    with pytest.raises(WriteError) as err:
        write_changes(str(dangling), FileState(1, 1, "0" * 64), {"quality": 1}, roots=[str(tmp_path)])
    assert err.value.reason == f"links to {tmp_path / 'nowhere.md'}, which does not exist; not written"
    assert dangling.is_symlink() and not (tmp_path / "nowhere.md").exists()
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    with pytest.raises(WriteError) as err:
        write_changes(str(tmp_path / "a.md"), FileState(1, 1, "0" * 64), {"quality": 1}, roots=[str(tmp_path)])
    assert "loops" in err.value.reason


def test_atomic_write_never_replaces_a_link(tmp_path: Path) -> None:
    real = card(tmp_path / "real.md")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    with pytest.raises(OSError) as err:
        atomic_write(str(link), b"---\na: 1\n---\n")
    assert err.value.errno == errno.ELOOP
    assert link.is_symlink() and real.read_text(encoding="utf-8") == CARD
    assert temps(tmp_path) == []


@pytest.fixture
def feed(tmp_path: Path) -> Iterator[tuple[Store, Path, Path]]:
    """A library over tmp/feed (imported through a link to the folder) and a folder outside it."""
    real_feed = tmp_path / "real-feed"
    card(real_feed / "plain.md", "Plain")
    card(real_feed / "sub" / "inside.md", "Inside")
    outside = card(tmp_path / "outside" / "secret.md", "Secret")
    (real_feed / "linked.md").symlink_to(real_feed / "sub" / "inside.md")
    (real_feed / "away.md").symlink_to(outside)
    given = tmp_path / "feed"
    given.symlink_to(real_feed)  # the editor imports a folder through a link: its real path is the root
    store = Store(tmp_path / "lib.sqlite")
    report = import_paths(store, [given], workers=1)
    assert report.added == 4 and not report.errors
    yield store, given, outside
    store.close()


def ids_by_name(store: Store) -> dict[str, int]:
    return {os.path.basename(row.path): row.id for row in store.rows_by_id(store.ids())}


def test_store_write_follows_the_policy_and_keeps_refused_edits(feed: tuple[Store, Path, Path]) -> None:
    store, given, outside = feed
    assert store_write.imported_roots(store) == [os.path.realpath(given)]
    ids = ids_by_name(store)
    secret = outside.read_bytes()
    store.set_fields(list(ids.values()), {"quality": 70}, label="edit")
    report = store.write()
    # plain.md, linked.md (through to sub/inside.md), then sub/inside.md, which holds the edit already.
    assert (report.written, report.already) == (2, 1)
    assert [f["path"] for f in report.failed] == [str(given / "away.md")]
    assert "outside the imported folders; not written" in report.failed[0]["reason"]
    assert outside.read_bytes() == secret and (given / "away.md").is_symlink()
    assert (given / "linked.md").is_symlink()
    assert b"quality: 70\n" in (given / "sub" / "inside.md").read_bytes()
    assert store.pending(ids["away.md"]) == {"quality": (50, 70)}  # nothing lost: the edit stays
    assert all(not store.pending(ids[name]) for name in ("plain.md", "linked.md", "inside.md"))
    assert temps(given, given / "sub") == []


def test_two_cards_of_one_file_never_lose_an_edit(feed: tuple[Store, Path, Path]) -> None:
    store, given, _ = feed
    ids = ids_by_name(store)
    real = given / "sub" / "inside.md"
    store.set_fields([ids["linked.md"]], {"quality": 11}, label="through the link")
    store.set_fields([ids["inside.md"]], {"heat": 22}, label="on the file")
    report = store.write()  # the link's card first (path order), then the file's, which sees its bytes
    assert report.written == 1
    assert [c["path"] for c in report.conflicts] == [str(real)]
    text = real.read_bytes()
    assert b"quality: 11\n" in text and b"heat" not in text
    assert store.pending(ids["inside.md"]) == {"heat": (None, 22)}  # kept, for the editor to resolve
    assert store.rows_by_id([ids["inside.md"]])[0].conflict


def test_record_roots_keeps_the_shortest_list(tmp_path: Path) -> None:
    for name in ("a/b", "c"):
        (tmp_path / name).mkdir(parents=True)
    store = Store(tmp_path / "lib.sqlite")
    try:
        import_paths(store, [tmp_path / "a" / "b", tmp_path / "missing"], workers=1)
        assert store_write.imported_roots(store) == [str(tmp_path / "a" / "b")]
        import_paths(store, [tmp_path / "a"], workers=1)  # holds the older root: replaces it
        import_paths(store, [tmp_path / "a" / "b"], workers=1)  # inside a root: adds nothing
        import_paths(store, [tmp_path / "c"], workers=1)
        assert store_write.imported_roots(store) == [str(tmp_path / "a"), str(tmp_path / "c")]
    finally:
        store.close()


# -- 2. temp names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "a" * 252 + ".md",  # 255 bytes: the longest name a folder allows
    "é" * 126 + ".md",  # 255 bytes of 2-byte characters
    "日" * 84 + ".md",  # 255 bytes of 3-byte characters
    "😀" * 63 + ".md",  # 255 bytes of 4-byte characters
    "short.md",
])  # fmt: skip
def test_any_card_name_can_be_written(tmp_path: Path, name: str) -> None:
    assert len(name.encode("utf-8")) <= 255
    path = card(tmp_path / name)
    tmp = temp_name(name)
    assert len(os.fsencode(tmp)) <= 255 and tmp.startswith(".") and TEMP_MARK in tmp
    tmp.encode("utf-8")  # cut at a character boundary: no half character (it would not encode)
    assert write_changes(str(path), state_of(path), {"quality": 61}).status == "written"
    assert b"quality: 61\n" in path.read_bytes()
    assert sorted(os.listdir(tmp_path)) == [name]


def test_a_shortened_temp_is_still_found_by_the_cleanup(tmp_path: Path) -> None:
    name = "ü" * 126 + ".md"
    leftover = tmp_path / temp_name(name)
    leftover.write_bytes(b"half a write")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(leftover, (old, old))
    assert remove_stale_temps(str(tmp_path)) == 1
    assert not leftover.exists()


def test_a_name_that_is_not_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff" * 240 + b".md")
    tmp = temp_name(name)
    assert len(os.fsencode(tmp)) <= 255 and os.fsencode(tmp).startswith(b".\xff")


# -- 3. stale temps --------------------------------------------------------------------------------------


def test_cleanup_keeps_a_fresh_temp_of_another_writer(tmp_path: Path) -> None:
    fresh = tmp_path / temp_name("card.md")
    stale = tmp_path / temp_name("card.md")
    fresh.write_bytes(b"another Curator is writing this right now")
    stale.write_bytes(b"left by a crash")
    past = time.time() - STALE_TEMP_SECONDS - 1
    os.utime(stale, (past, past))
    assert remove_stale_temps(str(tmp_path)) == 1
    assert fresh.exists() and not stale.exists()
    # The same file once it is older than the threshold:
    assert remove_stale_temps(str(tmp_path), now=time.time() + STALE_TEMP_SECONDS + 1) == 1
    assert not fresh.exists()


def test_a_store_write_leaves_another_writers_fresh_temp_alone(feed: tuple[Store, Path, Path]) -> None:
    store, given, _ = feed
    other = given / temp_name("plain.md")
    other.write_bytes(b"in flight")
    store.set_fields([ids_by_name(store)["plain.md"]], {"heat": 5}, label="edit")
    assert store.write().written == 1
    assert other.read_bytes() == b"in flight"


# -- 4. only regular files -------------------------------------------------------------------------------


def test_a_fifo_replacing_a_card_is_refused_without_hanging(tmp_path: Path) -> None:
    path = card(tmp_path / "x.md")
    base = state_of(path)
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(WriteError) as err:
        finishes(lambda: write_changes(str(path), base, {"quality": 1}))
    assert err.value.reason == "is a FIFO, not a regular file; not written"
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    with pytest.raises(WriteError):
        finishes(lambda: write_changes(str(path), base, {"quality": 1}, dry_run=True))


def test_a_folder_or_device_replacing_a_card_is_refused(tmp_path: Path) -> None:
    path = card(tmp_path / "x.md")
    base = state_of(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(WriteError) as err:
        write_changes(str(path), base, {"quality": 1})
    assert err.value.reason == "is a folder, not a regular file; not written"
    assert path.is_dir() and temps(tmp_path) == []
    device = tmp_path / "zero.md"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: reading it never ends
    except (PermissionError, OSError):
        pytest.skip("cannot make a device node here")
    with pytest.raises(WriteError) as err:
        finishes(lambda: write_changes(str(device), base, {"quality": 1}))
    assert err.value.reason == "is a character device, not a regular file; not written"


def test_a_huge_file_replacing_a_card_is_a_conflict_read_within_the_cap(tmp_path: Path) -> None:
    path = card(tmp_path / "x.md")
    base = state_of(path)
    with open(path, "r+b") as f:
        f.truncate(6 * 1024 * 1024)
    before = state_of(path)
    tracemalloc.start()
    try:
        with pytest.raises(ConflictError) as err:
            write_changes(str(path), base, {"quality": 1})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.reason == "the file changed on disk since it was read (it is now 6.0 MB, over the 5 MB card limit)"
    assert peak < cards.MAX_FILE_BYTES // 4  # refused from its size: its bytes were never read
    assert state_of(path) == before


def test_a_file_growing_past_the_cap_is_read_at_most_to_the_cap(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = card(tmp_path / "x.md")
    base = state_of(path)
    with open(path, "r+b") as f:
        f.truncate(64 * 1024 * 1024)
    real_stat = os.stat
    read: list[int] = []
    real_read = os.read

    def small_stat(p: Any, *a: Any, **k: Any) -> os.stat_result:  # the stat before it grew
        st = real_stat(p, *a, **k)
        if os.fspath(p) == str(path):
            return os.stat_result((*st[:6], base.size, *st[7:]))
        return st

    def counting_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "stat", small_stat)
    monkeypatch.setattr(os, "read", counting_read)
    with pytest.raises(WriteError) as err:
        write_changes(str(path), base, {"quality": 1})
    assert "not written" in err.value.reason
    assert sum(read) <= cards.MAX_FILE_BYTES + 1


def test_compare_refuses_a_fifo_and_a_huge_file(feed: tuple[Store, Path, Path]) -> None:
    store, given, _ = feed
    card_id = ids_by_name(store)["plain.md"]
    path = given / "plain.md"
    path.unlink()
    os.mkfifo(path)
    with pytest.raises(conflicts.ConflictError) as err:
        finishes(lambda: conflicts.compare(store, card_id))
    assert "FIFO" in str(err.value) and "plain.md" in str(err.value)
    path.unlink()
    with open(path, "wb") as f:
        f.truncate(6 * 1024 * 1024)
    with pytest.raises(conflicts.ConflictError) as err:
        conflicts.compare(store, card_id)
    assert "cards are limited to 5 MB" in str(err.value)


def test_store_write_reports_odd_files_and_writes_the_rest(feed: tuple[Store, Path, Path]) -> None:
    store, given, _ = feed
    ids = ids_by_name(store)
    store.set_fields([ids["plain.md"], ids["inside.md"]], {"quality": 90}, label="edit")
    plain = given / "plain.md"
    plain.unlink()
    os.mkfifo(plain)
    report = finishes(store.write)
    assert report.written == 1
    assert report.failed == [{"path": str(plain), "reason": "is a FIFO, not a regular file; not written"}]
    assert store.pending(ids["plain.md"]) == {"quality": (50, 90)}
    plain.unlink()
    with open(plain, "wb") as f:
        f.truncate(6 * 1024 * 1024)
    report = store.write()
    assert [c["path"] for c in report.conflicts] == [str(plain)]
    assert "over the 5 MB card limit" in report.conflicts[0]["reason"]
    assert store.rows_by_id([ids["plain.md"]])[0].conflict
    assert store.pending(ids["plain.md"]) == {"quality": (50, 90)}


# -- 5. one card's failure stays that card's ------------------------------------------------------------


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def break_writes(monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    """os.write fails with ENOSPC for files whose name holds ``marker`` (inherited by forked workers)."""
    real_write = os.write

    def full(fd: int, data: Any) -> int:
        if marker in os.path.basename(_fd_path(fd)):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)


def break_patches(monkeypatch: pytest.MonkeyPatch, marker: str) -> None:
    """The patcher (writeback._patched, what patch and write_changes call) raises an unexpected exception
    (a bug) for paths holding ``marker``."""
    real_patch = writeback._patched

    def buggy(raw: bytes, changes: Any, path: str) -> tuple[bytes, dict[Any, Any]]:
        if marker in path:
            raise RuntimeError("a bug in the patcher")
        return real_patch(raw, changes, path)

    monkeypatch.setattr(writeback, "_patched", buggy)


def mixed_library(tmp_path: Path, count: int) -> tuple[Store, dict[str, int]]:
    """``count`` good cards plus one read-only, one on a full disk, one hitting a bug, one whose folder goes."""
    folder = tmp_path / "cards"
    for i in range(count):
        card(folder / f"good{i:03}.md", f"Good {i}")
    for name in ("readonly.md", "full-disk.md", "bug.md"):
        card(folder / name)
    card(folder / "gone" / "vanished.md")
    store = Store(tmp_path / "lib.sqlite")
    assert import_paths(store, [folder], workers=1).added == count + 4
    ids = ids_by_name(store)
    store.set_fields(list(ids.values()), {"quality": 66}, label="edit")
    os.chmod(folder / "readonly.md", 0o444)
    shutil.rmtree(folder / "gone")
    return store, ids


def check_mixed(store: Store, ids: dict[str, int], report: Any, count: int) -> None:
    reasons = {os.path.basename(f["path"]): f["reason"] for f in report.failed}
    assert set(reasons) == {"readonly.md", "full-disk.md", "bug.md", "vanished.md"}, reasons
    assert "read-only" in reasons["readonly.md"]
    assert reasons["full-disk.md"] == "cannot write the file: No space left on device"
    assert reasons["bug.md"] == "could not be written: an unexpected error (RuntimeError: a bug in the patcher)"
    assert "No such file" in reasons["vanished.md"]
    assert report.written == count and not report.conflicts
    for name, card_id in ids.items():
        assert bool(store.pending(card_id)) == (name in reasons), name  # failed cards keep their edits
    folder = Path(store.rows_by_id([ids["good000.md"]])[0].path).parent
    assert temps(folder) == []


def test_one_failing_card_costs_nothing_else_with_threads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, ids = mixed_library(tmp_path, 6)
    try:
        break_writes(monkeypatch, "full-disk")
        break_patches(monkeypatch, "bug.md")
        check_mixed(store, ids, store.write(), 6)
        monkeypatch.undo()  # the disk has room again, the bug is fixed: the kept edits are written
        os.chmod(tmp_path / "cards" / "readonly.md", 0o644)
        again = store.write()
        assert again.written == 3 and [os.path.basename(f["path"]) for f in again.failed] == ["vanished.md"]
    finally:
        store.close()


def test_one_failing_card_costs_nothing_else_with_processes(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("the patched functions reach worker processes only by fork")
    store, ids = mixed_library(tmp_path, 9)
    try:
        monkeypatch.setattr(store_write, "POOL_THRESHOLD", 4)
        monkeypatch.setattr(store_write, "POOL_CHUNK", 3)  # failures share their tasks with good cards
        monkeypatch.setattr(os, "cpu_count", lambda: 2)
        monkeypatch.setattr(importer, "pool_context", lambda: multiprocessing.get_context("fork"))
        used: list[str] = []
        real_executor = store_write._executor

        def spy(count: int) -> Any:
            pool = real_executor(count)
            used.append(type(pool.executor).__name__)
            return pool

        monkeypatch.setattr(store_write, "_executor", spy)
        break_writes(monkeypatch, "full-disk")
        break_patches(monkeypatch, "bug.md")
        check_mixed(store, ids, store.write(), 9)
        assert used == ["ProcessPoolExecutor"]
    finally:
        store.close()


def test_a_task_whose_results_are_lost_fails_its_cards_only(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "cards"
    for name in ("a.md", "b.md", "c.md"):
        card(folder / name)
    store = Store(tmp_path / "lib.sqlite")
    try:
        import_paths(store, [folder], workers=1)
        ids = ids_by_name(store)
        store.set_fields(list(ids.values()), {"quality": 1}, label="edit")
        real_jobs = store_write._write_jobs

        def lost(jobs: list[Any], *args: Any) -> list[Any]:
            if jobs[0].path.endswith("b.md"):
                raise TypeError("cannot pickle the result")
            return real_jobs(jobs, *args)

        monkeypatch.setattr(store_write, "_write_jobs", lost)
        report = store.write()
        assert report.written == 2
        assert report.failed == [{"path": str(folder / "b.md"), "reason":
                                  "could not be written: an unexpected error (TypeError: cannot pickle the result)"}]
        assert store.pending(ids["b.md"]) and not store.pending(ids["a.md"])
    finally:
        store.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (root only, where mounting is allowed); unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_fails_only_the_card_that_does_not_fit(small_disk: Path, tmp_path: Path) -> None:
    small = card(small_disk / "small.md")
    big = card(small_disk / "big.md")
    store = Store(tmp_path / "lib.sqlite")
    try:
        import_paths(store, [small_disk], workers=1)
        ids = ids_by_name(store)
        store.set_fields([ids["small.md"]], {"quality": 12}, label="edit")
        store.set_fields([ids["big.md"]], {"title": "long " * 40_000}, label="edit")  # 200 KB
        filler = small_disk / "filler"
        with open(filler, "wb") as f:  # leave ~64 KB free: room for a small card, not for 200 KB
            free = os.statvfs(small_disk)
            f.write(b"\0" * (free.f_bavail * free.f_frsize - 64 * 1024))
        big_before = big.read_bytes()
        report = store.write()
        assert report.written == 1
        assert report.failed == [{"path": str(big), "reason": "cannot write the file: No space left on device"}]
        assert big.read_bytes() == big_before and b"quality: 12\n" in small.read_bytes()
        assert store.pending(ids["big.md"]) and not store.pending(ids["small.md"])
        assert temps(small_disk) == []  # the half-written temp was removed
    finally:
        store.close()
