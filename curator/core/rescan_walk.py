"""The rescan's walk: the loop that lists folders and stats their card files, and the helper process that
walks a share of the folders beside the importing one (run as a script: see :func:`command`).

The loop is the one a rescan of 100k unchanged files spends its time in (``importer._walk_keys`` drives
it). It lives in a module of its own, which imports nothing but the standard library's ``gc``, ``os``,
``stat`` and ``sys``, so that the helper can be a fresh interpreter started without ``site``
(``python -S -I``: ~10 ms of CPU) rather than a fork of the importing process: a forked helper cost ~75 ms
of CPU more at 100k files, in copy-on-write faults (the two processes kept writing to the pages they
shared: reference counts, the allocator's pools), as much as a third of the walk it took over.

The helper reads its folders from one descriptor and writes its keys to another (both anonymous memory
files the importer made): names travel as the bytes the file system holds (``os.fsencode`` here,
``os.fsdecode`` there), so the keys are the strings the importer would have made itself, whatever either
interpreter's file-system encoding. The keys end with ``DONE``; output without it (a helper killed, or
out of memory, halfway) is never taken.
"""

from __future__ import annotations

import gc
import os
import stat
import sys

__all__ = ["DONE", "FOLDER_FLAGS", "SUBFOLDER_FLAGS", "command", "decode_keys", "encode_stack", "walk_stack"]

#: Flags opening a folder to list it (walk lists each folder through a descriptor where it can); a
#: sub-folder is opened without following a link (one swapped for a link after its parent was listed).
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
SUBFOLDER_FLAGS = FOLDER_FLAGS | getattr(os, "O_NOFOLLOW", 0)
BY_FD = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd
#: The last bytes of a helper's output: written only once every key is.
DONE = b"\0curator-walk-done"
#: A folder of the helper's input: its flags as one letter (F: a root, followed if a link; S: a sub-folder).
_LETTERS = {FOLDER_FLAGS: "F", SUBFOLDER_FLAGS: "S"}
_FLAGS = {letter: flags for flags, letter in _LETTERS.items()}

Stack = list[tuple[str, int]]


def walk_stack(
    stack: Stack, keys: list[str], suffixes: tuple[str, ...], until: int | None = None,
    listed: list[int] | None = None,
) -> None:  # fmt: skip
    """Walk the (folder, open flags) on ``stack`` and the folders below, adding the ``base.stamp_key`` of
    each card file (a name ending with one of ``suffixes``, in any case) to ``keys``.

    Kept lean: each folder is listed through an open descriptor, and every file's stat is taken relative
    to it (``fstatat``: one name to look up rather than the whole path; measured at three quarters of the
    path-based walk's CPU time), by ``os.stat(name, dir_fd=)`` (a tenth cheaper than the entry's own
    stat). Keys are strings: no tuple per file for the cyclic collector to walk (a dict of (size, mtime)
    tuples cost a quarter more). The descriptor stays open until the folder's entries are stat'ed.
    Dotfiles and dot-folders are skipped; links to folders are not followed. ``until``: stop after a
    folder once ``keys`` holds that many and at least two folders are left (to share: importer._walk_keys).
    ``listed``: add each folder's number of entries and its size in bytes (one ``fstat`` more a folder) to
    its two counts, from which that walk tells how many entries the folders left hold.
    """
    is_dir = stat.S_ISDIR
    stat_at = os.stat
    add = keys.append
    while stack:
        folder, flags = stack.pop()
        prefix = folder if folder.endswith(os.sep) else folder + os.sep
        fd = -1
        try:
            if BY_FD:
                fd = os.open(folder, flags)
                with os.scandir(fd) as listing:
                    entries = list(listing)
                if listed is not None:
                    listed[0] += len(entries)
                    listed[1] += os.fstat(fd).st_size
            else:  # pragma: no cover - only where scandir takes no descriptor (Windows)
                with os.scandir(folder) as listing:
                    entries = list(listing)
        except OSError:
            if fd >= 0:
                os.close(fd)
            continue  # an unreadable sub-folder holds nothing we can import
        try:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append((prefix + name, SUBFOLDER_FLAGS))
                elif name.endswith(suffixes) or name.lower().endswith(suffixes):  # lower() rarely
                    try:
                        # Links followed; a dangling one raises.
                        st = stat_at(name, dir_fd=fd) if fd >= 0 else entry.stat()
                    except OSError:
                        continue
                    if not is_dir(st.st_mode):  # a link to a folder named x.md is no card
                        add(f"{prefix}{name}:{st.st_size}:{st.st_mtime_ns}")  # stamp_key, inlined
        finally:
            if fd >= 0:
                os.close(fd)
        if until is not None and len(keys) >= until and len(stack) > 1:
            return


def encode_stack(stack: Stack) -> bytes:
    """A helper's input: each folder as its flag letter and its path's bytes, NUL-separated."""
    return b"\0".join(os.fsencode(_LETTERS[flags] + folder) for folder, flags in stack)


def _decode_stack(data: bytes) -> Stack:
    return [(folder[1:], _FLAGS[folder[0]]) for folder in map(os.fsdecode, data.split(b"\0"))] if data else []


def decode_keys(data: bytes) -> list[str] | None:
    """A helper's keys from its output; None when the output is not whole (no DONE at its end)."""
    if not data.endswith(DONE):
        return None
    body = data[: -len(DONE)]
    return os.fsdecode(body).split("\0") if body else []


def command(executable: str, in_fd: int, out_fd: int, suffixes: tuple[str, ...]) -> list[str]:
    """The helper's argv: this file run by ``executable`` without site or environment (``-S -I``)."""
    return [executable, "-S", "-I", os.path.abspath(__file__), str(in_fd), str(out_fd), "/".join(suffixes)]


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    data = bytearray()
    while len(data) < size:
        chunk = os.pread(fd, size - len(data), len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _main(argv: list[str]) -> int:
    """The helper: walk the folders read from ``argv[1]``'s descriptor, write the keys to ``argv[2]``'s."""
    gc.disable()  # it only adds strings, which the collector never looks at
    in_fd, out_fd, suffixes = int(argv[1]), int(argv[2]), tuple(argv[3].split("/"))  # no name holds a "/"
    keys: list[str] = []
    walk_stack(_decode_stack(_read_all(in_fd)), keys, suffixes)
    view = memoryview(os.fsencode("\0".join(keys)) + DONE)
    while view:
        view = view[os.write(out_fd, view) :]
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
