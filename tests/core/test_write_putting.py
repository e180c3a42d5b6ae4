"""Issue 12's write: worker processes put their patched files in place on writer threads (fsyncs overlap
the next patches), and a file saved by an editor while its patched bytes were being written is a
conflict, never overwritten."""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest

from curator.core import importer, store_write, writeback
from curator.core.cards import FileState
from curator.core.importer import import_paths
from curator.core.store import Store


def card_text(title: str, quality: int) -> str:
    return f'---\ntitle: "{title}"\ncategory: news\nquality: {quality}\nheat: 1\n---\n\nBody.\n'


def save_during_fsync(monkeypatch: pytest.MonkeyPatch, name: str, text: bytes) -> list[str]:
    """An editor saves ``text`` into the card called ``name`` while Curator's temp file is fsynced."""
    real_fsync = os.fsync
    saved: list[str] = []

    def fsync(fd: int) -> None:
        real_fsync(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        folder, temp = os.path.split(path)
        if temp.startswith(f".{name}{writeback.TEMP_MARK}"):
            target = os.path.join(folder, name)
            with open(target, "wb") as f:  # a save in place (no rename), one byte longer
                f.write(text)
            saved.append(target)

    monkeypatch.setattr(os, "fsync", fsync)
    return saved


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="finds the temp file's name through /proc")
def test_an_editors_save_while_the_patch_is_written_is_a_conflict(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.md"
    path.write_text(card_text("A", 5))
    raw = path.read_bytes()
    st = path.stat()
    base = FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    theirs = raw.replace(b"quality: 5", b"quality: 55")
    saved = save_during_fsync(monkeypatch, "a.md", theirs)
    with pytest.raises(writeback.ConflictError, match="changed on disk while it was being written"):
        writeback.write_changes(str(path), base, {"heat": 2})
    assert saved == [str(path)]
    assert path.read_bytes() == theirs  # the editor's save stands
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]  # no temp file left


FORK_AND_PROC = "fork" in multiprocessing.get_all_start_methods() and os.path.isdir("/proc/self/fd")


@pytest.mark.skipif(not FORK_AND_PROC, reason="spies reach workers by fork; temp files are named in /proc")
def test_worker_processes_put_files_on_writer_threads(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A big write: every file is put in place by a writer thread of a worker process, at most
    WRITER_THREADS at once per worker and several at once in all, with the results settled in path
    order as before; a save meanwhile is a conflict there too, and the card keeps its edit."""
    monkeypatch.setattr(store_write, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(importer, "pool_context", lambda: multiprocessing.get_context("fork"))
    folder = tmp_path / "cards"
    folder.mkdir()
    for i in range(80):
        (folder / f"c{i:02d}.md").write_text(card_text(f"Card {i}", i))
    log = tmp_path / "puts.log"
    real_write = writeback.atomic_write

    def logged(path: str, data: bytes, **kwargs: object) -> FileState:
        start = time.monotonic()
        time.sleep(0.01)  # a slow disk: puts overlap if anything lets them
        state = real_write(path, data, **kwargs)  # type: ignore[arg-type]
        with open(log, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(f"{os.getpid()} {threading.current_thread().name} {start} {time.monotonic()} {path}\n")
        return state

    monkeypatch.setattr(writeback, "atomic_write", logged)
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [folder])
        store.set_fields(store.ids(), {"heat": 9}, label="hot")
        theirs = (folder / "c07.md").read_bytes().replace(b"quality: 7", b"quality: 70")
        save_during_fsync(monkeypatch, "c07.md", theirs)  # in the worker that writes c07.md
        seen: list[str] = []
        report = store.write(progress=lambda done, total: seen.append(str(done)))
        lines = [line.split() for line in log.read_text().splitlines()]
        assert len(lines) == 79  # the conflicting one raised inside the real write
        assert all(name.startswith("curator-writer") for _, name, *_ in lines)
        assert all(pid != str(os.getpid()) for pid, *_ in lines)
        # Puts overlapped: some put started before another (of any worker) had ended.
        spans = sorted((float(a), float(b)) for _, _, a, b, _ in lines)
        assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))
        for pid in {p for p, *_ in lines}:  # never more than WRITER_THREADS at once in one worker
            mine = [(float(a), float(b)) for p, _, a, b, _ in lines if p == pid]
            assert max(sum(a <= t < b for a, b in mine) for t, _ in mine) <= store_write.WRITER_THREADS
        assert seen == [str(i) for i in range(1, 81)]
        assert report.written == 79 and [c["path"] for c in report.conflicts] == [str(folder / "c07.md")]
        assert (folder / "c07.md").read_bytes() == theirs  # the editor's save stands
        assert store.totals().dirty == 1 and store.totals().conflicts == 1
        for i in range(80):
            if i != 7:
                assert b"heat: 9" in (folder / f"c{i:02d}.md").read_bytes()
        assert not [p for p in folder.iterdir() if writeback.TEMP_MARK in p.name]


def test_a_path_is_taken_as_free_of_links_only_when_realpath_agrees(tmp_path: Path) -> None:
    """resolve_target's quick test (the kernel's name for the file, /proc/self/fd) never takes a path
    through a link, to a link, to a dangling or looping link for a plain file; realpath decides those."""
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "a.md").write_text(card_text("A", 1))
    os.mkfifo(real / "fifo.md")
    os.symlink(real, tmp_path / "folder-link")
    os.symlink(real / "sub" / "a.md", tmp_path / "file-link.md")
    os.symlink(tmp_path / "nowhere.md", tmp_path / "dangling.md")
    os.symlink(tmp_path / "loop.md", tmp_path / "loop.md")
    paths = [real / "sub" / "a.md", real / "fifo.md", tmp_path / "folder-link" / "sub" / "a.md",
             tmp_path / "file-link.md", tmp_path / "dangling.md", tmp_path / "loop.md",
             real / "sub" / "none.md", real / "sub" / ".." / "sub" / "a.md"]  # fmt: skip
    quick = {str(p): writeback._without_links(os.path.abspath(p)) for p in paths}
    for path, free in quick.items():
        absolute = os.path.abspath(path)
        if free:
            assert os.path.realpath(absolute) == absolute and not os.path.islink(absolute), path
    if os.path.isdir("/proc/self/fd") and writeback._O_PATH:  # where the quick test runs at all
        assert [p for p, free in quick.items() if free] == [str(real / "sub" / "a.md"), str(real / "fifo.md"),
                                                            str(real / "sub" / ".." / "sub" / "a.md")]
    roots = [str(real)]
    through = str(tmp_path / "folder-link" / "sub" / "a.md")
    assert writeback.resolve_target(through, roots) == str(real / "sub" / "a.md")
    with pytest.raises(writeback.WriteError, match="loops"):
        writeback.resolve_target(str(tmp_path / "loop.md"), roots)
