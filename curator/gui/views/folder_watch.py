"""The folder watcher: cards copied, changed or removed outside Curator reach the library while it is open.

Why every folder, not only the ones holding cards: inotify (QFileSystemWatcher) reports changes to a
folder's own entries, not to its sub-folders' entries. Watching only the folders that held cards, a bulk
copy into a new sub-folder raised one event (the new folder in its parent); the rescan it started read
the files copied so far (1,673 of 10,000), and the files copied after that landed in a folder nobody
watched, so nothing rescanned again until another file was dropped into a watched folder.

So this watches the imported roots and every sub-folder in them (read on a worker), and adds a folder as
soon as it appears (each event lists the changed folder's sub-folders, a new one with everything in it).
Events are debounced; an event during a running rescan asks for one more rescan after it, so files that
arrive while it runs are read by the next one. What the watcher cannot see (in-place edits, folders over
the system's watch limit) the periodic rescan picks up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import QElapsedTimer, QFileSystemWatcher, QObject, QTimer, Signal

from curator.core.store import Store
from curator.core.store_write import imported_roots
from curator.gui import errorlog, library_tasks, plain
from curator.gui.workers import Pool, run_task

#: Quiet time after the last change in a watched folder before rescanning (editors save in bursts).
WATCH_DEBOUNCE_MS = 700
#: The backstop rescan for edits made in place (inotify on folders does not see those).
PERIODIC_RESCAN_MS = 120_000
#: A copy that goes on and on postpones the debounced rescan at most this long: cards arrive as it runs.
MAX_WAIT_MS = 3_000
#: At most this many folders are watched (each is an inotify watch, a kernel-wide limited resource);
#: the rest are covered by the periodic rescan, and the status bar says so.
MAX_WATCHED = 20_000


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def rescan_roots(card_folders: Iterable[str], roots: Iterable[str]) -> list[str]:
    """The folders a rescan walks: the imported roots (even the ones with no card yet) and every folder
    holding a card, without folders nested in another one, all in the form the library's paths use.

    The library keeps its imported roots resolved through links (for write-back's link policy) while card
    paths are absolute but unresolved; a root reached through a link is walked under the cards' own
    prefix, so a rescan never imports the same files a second time under another name.
    """
    folders = [f for f in card_folders if os.path.isdir(f)]
    candidates = list(folders)
    for root in roots:
        if not os.path.isdir(root):
            continue  # a file imported on its own is rescanned through its folder, if it held a card
        form = root
        for folder in folders:
            real = os.path.realpath(folder)
            if folder != real and _inside(real, root):
                rel = os.path.relpath(real, root)
                if rel == ".":
                    form = folder
                    break
                if folder.endswith(os.sep + rel):
                    form = folder[: -len(rel) - 1]
                    break
        candidates.append(form)
    result: list[str] = []
    for folder in sorted(set(candidates), key=len):
        if not any(_inside(folder, r) for r in result):
            result.append(folder)
    return sorted(result)


def sub_folders(roots: Iterable[str], limit: int = MAX_WATCHED) -> list[str]:
    """Every folder at or under `roots` (dot-folders and folder links skipped, as the importer does),
    at most `limit` of them."""
    found: list[str] = []
    stack = list(roots)
    while stack and len(found) < limit:
        folder = stack.pop()
        found.append(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        stack.extend(e.path for e in entries if e.name[0] != "." and e.is_dir(follow_symlinks=False))
    return found


def library_folders(store: Store) -> list[str]:
    """The folders to watch: every folder under the rescan roots (a worker's read: a walk of the tree)."""
    return sub_folders(rescan_roots(library_tasks.card_folders(store), imported_roots(store)))


class FolderWatcher(QObject):
    """Watches a library's folders and asks for a quiet rescan when something changes in one."""

    rescanNeeded = Signal()  # debounced; emitted only while `busy()` is False
    status = Signal(str)  # a sentence for the status bar (watch limits, failures)

    def __init__(self, store: Store, pool: Pool | None, busy: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.pool = pool
        #: True while an import, rescan or write runs: the rescan then waits for it to finish.
        self.busy = busy
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._folder_changed)
        self._generation = 0
        #: An event arrived since the last rescan started: cards may still be arriving.
        self.pending = False
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(WATCH_DEBOUNCE_MS)
        self.debounce.timeout.connect(self._rescan_changed)
        self._waiting = QElapsedTimer()  # since the first event the running debounce stands for
        self.periodic = QTimer(self)
        self.periodic.setInterval(PERIODIC_RESCAN_MS)
        self.periodic.timeout.connect(self._periodic)
        self.periodic.start()

    def watch(self) -> None:
        """(Re)read the folders to watch on a worker: after opening, imports and rescans."""
        self._generation += 1
        generation = self._generation
        work = library_tasks.read_task(self.store, library_folders)

        def done(folders: list[str]) -> None:
            if not shiboken6.isValid(self) or generation != self._generation:
                return  # a newer list is on its way (or the window went away)
            old = set(self.watcher.directories())
            new = set(folders)
            if old - new:
                self.watcher.removePaths(sorted(old - new))
            self._add(sorted(new - old))
            if len(folders) >= MAX_WATCHED:
                self.status.emit(f"Watching the first {MAX_WATCHED:,} folders only; the others are rescanned "
                                 "every two minutes (or press F5)")  # fmt: skip

        run_task(work, on_done=done, pool=self.pool, on_error=self._failed)

    def _add(self, folders: list[str]) -> None:
        room = MAX_WATCHED - len(self.watcher.directories())
        if not folders or room <= 0:
            return
        refused = self.watcher.addPaths(folders[:room])
        if refused:
            self.status.emit(f"{plain.count(len(refused), 'folder')} cannot be watched (the system's limit of watched "
                             "folders?): they are rescanned every two minutes, or press F5")  # fmt: skip

    def _failed(self, exc: BaseException) -> None:
        errorlog.log_failure("Reading the folders to watch", exc)
        self.status.emit(f"Not watching folders: {exc}")

    def _folder_changed(self, folder: str) -> None:
        # A folder that appeared in this one is watched now, before the rescan reads it: files copied
        # into it from now on raise their own events (the ones already there the rescan reads).
        watched = set(self.watcher.directories())
        try:
            subs = [e.path for e in os.scandir(folder) if e.name[0] != "." and e.is_dir(follow_symlinks=False)]
        except OSError:
            subs = []  # the folder itself went away; the rescan finds its cards missing
        new = [f for f in sub_folders(s for s in subs if s not in watched) if f not in watched]
        self._add(new)
        self.pending = True
        if not self.debounce.isActive():
            self._waiting.start()
            self.debounce.start()
        elif self._waiting.elapsed() < MAX_WAIT_MS:
            self.debounce.start()  # still in a burst: wait for it to end (but not for ever, see MAX_WAIT_MS)

    def rescan_started(self) -> None:
        """A rescan began: events from now on ask for another one after it."""
        self.pending = False

    def _rescan_changed(self) -> None:
        if self.busy():
            self.debounce.start()  # our own writes touch the folders too; try once the running task is over
            return
        self.rescanNeeded.emit()

    def _periodic(self) -> None:
        if not self.busy():
            self.rescanNeeded.emit()
