"""Write edits back to card files: minimal textual patch, re-parse check, conflict check, atomic replace."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from yaml.nodes import ScalarNode

from . import cards
from .cardnodes import MERGE, Fallback, TreeBuilder, may_have_anchor
from .cards import CardError, FileState
from .yamlpatch import DELETE, PatchError, patch_region, same

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no inode flags to read
    fcntl = None  # type: ignore[assignment]

__all__ = ["DELETE", "STALE_TEMP_SECONDS", "TEMP_MARK", "ConflictError", "FileChanged", "WriteError",
           "WriteOutcome", "atomic_write", "fsync_dir", "patch", "remove_stale_temps", "resolve_target",
           "temp_name", "write_changes"]

#: Temp files are ``.NAME`` + TEMP_MARK + random hex, next to the card (import skips dotfiles).
TEMP_MARK = ".curator-tmp-"
#: A temp file younger than this (by mtime) may belong to a writer still running: cleanup leaves it.
#: Writing one card takes milliseconds; ten minutes is far beyond any live write.
STALE_TEMP_SECONDS = 600.0
#: Longest file name, in bytes, where the folder cannot tell (Linux, macOS and Windows all allow 255).
_NAME_MAX = 255
_TEMP_HEX_BYTES = 6

# Linux inode flags (linux/fs.h): a file with either cannot be replaced or rewritten.
_FS_IOC_GETFLAGS = 0x80086601 if sys.maxsize > 2**32 else 0x80046601
_FS_IMMUTABLE_FL, _FS_APPEND_FL = 0x10, 0x20
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class WriteError(Exception):
    """A write that was refused: the text could not be patched or verified, or no permission."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ConflictError(WriteError):
    """The file no longer holds the bytes the edits were based on; it was left as it is."""


@dataclass(frozen=True)
class WriteOutcome:
    """What a write did (or, with ``dry_run``, would do) to one file."""

    status: Literal["written", "unchanged", "already"]  # already: the file held the result already
    state: FileState  # the file as it is now
    old: bytes
    new: bytes
    target: str = ""  # the file actually read and replaced: the card's path, or the file it links to
    #: The mapping the file holds once written (what it was proven to read back as): the patched values,
    #: the file's own for "already", the unchanged card's for "unchanged". A bulk write records it as the
    #: card's new base without decoding the library's copy of the old one.
    data: Mapping[Any, Any] | None = None


_PLAIN_TYPES = (str, int, float, bool, type(None))


def _check_value(value: Any, where: str, path: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, _PLAIN_TYPES):
                raise WriteError(path, f"{where}: a key of type {type(k).__name__} cannot be written")
            _check_value(v, f"{where}.{k}", path)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(v, f"{where}[{i}]", path)
    elif not isinstance(value, _PLAIN_TYPES):
        raise WriteError(path, f"{where}: a value of type {type(value).__name__} cannot be written")


def applied(data: Mapping[Any, Any], changes: Mapping[str, Any]) -> dict[Any, Any]:
    """A copy of ``data`` with ``changes`` made (DELETE removes the key): what a patched card reads as."""
    result = dict(data)
    for key, value in changes.items():
        if value is DELETE:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def patch(raw: bytes, changes: Mapping[str, Any], path: str = "<card>") -> bytes:
    """The card's bytes with ``changes`` made (top-level key -> new value, or DELETE to remove it).

    Returns ``raw`` itself when nothing changes. The result is re-parsed and must read back as
    the original mapping with the changes applied; otherwise (or for a shape that cannot be
    patched, or a file that is not a readable card) WriteError is raised.
    """
    return _patched(raw, changes, path)[0]


def _patched(raw: bytes, changes: Mapping[str, Any], path: str) -> tuple[bytes, dict[Any, Any]]:
    """:func:`patch`, and the mapping its bytes read back as (the card's, with the changes made)."""
    for key, value in changes.items():
        if value is not DELETE:
            _check_value(value, str(key), path)
    try:
        doc = cards.split(raw, path)
        root, old = cards.compose_card(doc, path)
    except CardError as err:
        raise WriteError(path, f"the file is not a readable card ({err})") from None
    if all(key not in old if value is DELETE else key in old and same(old[key], value)
           for key, value in changes.items()):
        return raw, old
    new = applied(old, changes)
    try:
        region = patch_region(doc.yaml_text, root, old, new, doc.newline)
    except PatchError as err:
        raise WriteError(path, str(err)) from None
    text = doc.text[:doc.yaml_start] + region + doc.text[doc.yaml_end:]
    try:
        result = (("\ufeff" if doc.bom else "") + text).encode("utf-8")
    except UnicodeEncodeError as err:
        raise WriteError(path, f"a value holds a character that cannot be written as UTF-8 ({err.reason})") \
            from None
    if not _reads_back(doc, root, old, text, region, new, changes, path):
        _verify(result, new, path)  # not proven the cheap way: the full re-parse decides (and words errors)
    return result, new


def _entry_starts(region: str, col: int) -> list[int]:
    """Starts of the lines holding something at column ``col`` other than blanks, a comment or a block
    sequence's dash: a "- " line at the root's column is an item of the value before it (a sequence
    indented like its key, ``topics:`` then ``- AI``), never a key."""
    # Searching from each "\n" (a literal the regex engine scans for in C) is ~5x faster than "^" in
    # MULTILINE mode, which is tried at every position.
    line = rf" {{{col}}}(?!-(?:[ \t\r\n]|$))[^ \t\r\n#]"
    starts = [0] if re.match(line, region) else []
    starts += [m.start() + 1 for m in re.finditer(rf"\n(?={line})", region)]
    return starts


# Where a root entry may start: a plain or quoted key. Anything else at the root's column ("- ",
# "? ", ": ", flow indicators, document markers, directives) may bind to the entry before it.
_ENTRY_HEAD = re.compile(r"[\w\"']")


def _reads_back(doc: cards.Document, root: Any, old: dict[Any, Any], text: str, region: str,
                expected: dict[Any, Any], changes: Mapping[str, Any], path: str) -> bool:
    """True when the patched ``text`` provably reads back as ``expected``; False: not proven.

    The root block mapping is cut into entry chunks: from a line starting a key at the root's
    column up to the next such line. Where no anchor can occur, each chunk reads on its own: the
    parser enters it expecting a key at that column and, at the next such line, every value has
    ended (a quote or bracket left open, a directive or a document marker is refused below), so
    the mapping is the union of its chunks' entries. Hence:

    - a chunk that is the very text of an old chunk, itself exactly one old entry, reads back as
      that entry did (its key must be one that was not to change);
    - every other chunk is composed and built on its own, and must hold keys that are expected, each
      with exactly its intended value (an unclosed quote fails there, as it has no end): the changed
      ones, and an unchanged one whose text moved (a key inserted before the blank line after it
      leaves it without that line, so it is read again, alone, and must still hold its old value).

    Anything unusual (anchors, directives, comments or blank lines moved between entries, a
    key not at the start of its line) is not proven here: the full re-parse decides.
    """
    old_region = doc.yaml_text
    if (root is None or not root.value or len(root.value) != len(old) or may_have_anchor(old_region)
            or may_have_anchor(region)):
        return False
    col = root.value[0][0].start_mark.column
    old_starts = _entry_starts(old_region, col)
    if old_starts != [old_region.rfind("\n", 0, k.start_mark.index) + 1 for k, _ in root.value]:
        return False  # some line at the root's column is not a key of it (e.g. a continued quote)
    new_starts = _entry_starts(region, col)
    if not new_starts:
        return False  # no entry left: whether that reads as {} depends on the file's form
    prefix = region[:new_starts[0]]
    if prefix != old_region[:old_starts[0]] or any(
            line.strip() and not line.lstrip().startswith("#") for line in prefix.split("\n")):
        return False  # directives or a document marker before the first key
    try:
        new_doc = cards.split_text(text, doc.bom, path)
        if new_doc.yaml_start != doc.yaml_start or new_doc.yaml_end != doc.yaml_start + len(region):
            return False  # the front matter's closing line moved
        bounds = [*old_starts[1:], len(old_region)]
        old_chunks = {old_region[a:b]: key for a, b, key in zip(old_starts, bounds, old)}
        seen: set[Any] = set()
        bounds = [*new_starts[1:], len(region)]
        for a, b in zip(new_starts, bounds):
            chunk = region[a:b]
            if not _ENTRY_HEAD.match(chunk, col):
                return False
            key = old_chunks.get(chunk)
            if key is not None and key not in changes:
                if key in seen:
                    return False
                seen.add(key)
                continue
            part = cards.Document(chunk, False, 0, len(chunk), doc.newline, len(chunk))
            node = cards.compose_root(part, path)
            if node is None or node.flow_style:
                return False
            builder = TreeBuilder(path, 0, len(chunk))
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag == MERGE:
                    return False
                key = builder.build(key_node, 1)
                if key in seen or key not in expected:
                    return False
                seen.add(key)
                if not same(builder.build(value_node, 1), expected[key]):
                    return False
    except (CardError, Fallback, TypeError):
        return False  # e.g. a chunk that does not parse alone, an unhashable key: the full check decides
    return len(seen) == len(expected)


def _verify(result: bytes, expected: dict[Any, Any], path: str) -> None:
    """Re-parse the patched bytes; they must read back as exactly ``expected``."""
    try:
        got = cards.parse_card(result, path).data
    except CardError as err:
        raise WriteError(path, f"the patched card would not read back ({err.message}); nothing written") \
            from None
    if not same(got, expected):
        keys = sorted({str(k) for k in got.keys() ^ expected.keys()}
                      | {str(k) for k in got.keys() & expected.keys() if not same(got[k], expected[k])})
        raise WriteError(path, f"the patched card reads back wrong ({', '.join(keys)}); nothing written")


def _refusal(path: str, st: os.stat_result) -> str | None:
    """Why the user may not replace this (regular) file, or None.

    os.access alone is not enough: root passes it for any file, and a rename would replace a
    read-only file anyway. So a file without any write bit counts as read-only for everyone,
    and the Linux immutable/append-only flags are read from the inode (cheap: an open and an
    ioctl, only for a file about to be written).
    """
    if not st.st_mode & _WRITE_BITS:
        return "the file is read-only (no write permission bits)"
    if not os.access(path, os.W_OK):
        return "no permission to write the file"
    flags = getattr(st, "st_flags", 0)  # BSD/macOS chflags
    if flags & (getattr(stat, "UF_IMMUTABLE", 0) | getattr(stat, "SF_IMMUTABLE", 0)):
        return "the file is marked immutable"
    if fcntl is not None and sys.platform.startswith("linux"):
        buf = bytearray(8 if sys.maxsize > 2**32 else 4)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError:
            return None  # gone or swapped meanwhile: the write itself will say so
        try:
            fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        except OSError:  # file systems without inode flags (tmpfs, some FUSE): nothing to learn
            return None
        finally:
            os.close(fd)
        value = int.from_bytes(buf, sys.byteorder)
        if value & _FS_IMMUTABLE_FL:
            return "the file is marked immutable (chattr +i)"
        if value & _FS_APPEND_FL:
            return "the file is marked append-only (chattr +a)"
    return None


#: Where the kernel names what a descriptor reaches (Linux): see _without_links.
_FD_NAMES = "/proc/self/fd"
_O_PATH = getattr(os, "O_PATH", 0)


def _without_links(absolute: str) -> bool:
    """True when no component of ``absolute`` (normalised) is a link: the kernel's own name for the file
    it reaches is that very path. Four calls where ``os.path.realpath`` takes an lstat per component
    and a Python loop (a tenth of a big write's CPU). False whenever it cannot tell (no /proc, no
    O_PATH, a missing file): the caller resolves the path the portable way."""
    if not _O_PATH:
        return False
    try:
        fd = os.open(absolute, _O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)  # nothing opened for reading
    except OSError:
        return False
    try:
        return not stat.S_ISLNK(os.fstat(fd).st_mode) and os.readlink(f"{_FD_NAMES}/{fd}") == absolute
    except OSError:
        return False
    finally:
        os.close(fd)


def resolve_target(path: str, roots: Sequence[str] = ()) -> str:
    """The file a write to the card at ``path`` reads and replaces; WriteError when it may not be written.

    A card reached through a symbolic link (the card itself, or a folder on its path) is written
    through to the real file (``os.path.realpath``), and only when that file lies inside one of
    ``roots``: the folders and files given to ``curator import``, resolved (the library records them,
    see ``store_write.imported_roots``). Anything else is refused, so a card linking to ``/etc/x`` can
    never have a Curator edit written into ``/etc/x``, and a link is never replaced by a regular file
    (which would leave the real file silently behind). A path without links is its own target.
    """
    absolute = os.path.abspath(path)
    if _without_links(absolute):
        return absolute
    target = os.path.realpath(absolute)
    if target == absolute and not os.path.islink(absolute):  # (a link loop resolves to itself)
        return absolute
    try:
        os.path.realpath(absolute, strict=True)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise WriteError(path, "is a symbolic link that loops (it never reaches a file); not written") \
                from None
        if os.path.lexists(absolute):
            raise WriteError(path, f"links to {target}, which does not exist; not written") from None
        raise WriteError(path, f"cannot read the file: {err.strerror or err}") from None
    for root in roots:
        if target == root or target.startswith(root.rstrip(os.sep) + os.sep):
            return target
    hint = "" if roots else " (this library records no imported folders yet: import the folder again)"
    raise WriteError(path, f"links to {target} outside the imported folders{hint}; not written")


def _over_cap(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB, over the {cards.MAX_FILE_BYTES // (1024 * 1024)} MB card limit"


def _read(path: str, target: str) -> tuple[bytes, os.stat_result]:
    """The card file's bytes and stat, read the one way Curator reads cards (``cards.read_bounded``).

    Only a regular file is read: a card path that became a FIFO, a device or a folder since the import
    is refused (stat first, so a device is not even opened; read_bounded opens with O_NONBLOCK and
    checks the open file again), and never more than MAX_FILE_BYTES + 1 bytes are held. A file over
    the cap cannot be the card's base any more: that is a conflict, and the file stays as it is.
    """
    try:
        st = os.stat(target)
    except OSError as err:
        raise WriteError(path, f"cannot read the file: {err.strerror or err}") from None
    if not stat.S_ISREG(st.st_mode):
        raise WriteError(path, f"is {cards.file_kind(st.st_mode)}, not a regular file; not written")
    if st.st_size > cards.MAX_FILE_BYTES:
        raise ConflictError(path, f"the file changed on disk since it was read (it is now {_over_cap(st.st_size)})")
    try:
        return cards.read_bounded(target)
    except CardError as err:  # replaced or grown between the stat and the read: nothing is written
        raise WriteError(path, f"{err.message}; not written") from None


def write_changes(path: str, base: FileState, changes: Mapping[str, Any], *,
                  dry_run: bool = False,
                  base_data: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
                  sync_dir: bool = True, roots: Sequence[str] = ()) -> WriteOutcome:
    """Write ``changes`` into the card at ``path``, which must still hold the ``base`` bytes.

    - ``path`` reaches its file through a link: the real file is read and replaced, only when it lies
      inside ``roots`` (the resolved imported folders); otherwise, or for a dangling link, WriteError.
      See :func:`resolve_target`. ``outcome.target`` names the file that was read.
    - The path is no longer a regular file (a FIFO, a device, a folder): WriteError, nothing opened
      that could block or read without end; at most MAX_FILE_BYTES + 1 bytes are ever read, and a
      file now over that cap is a conflict (see :func:`_read`).
    - The file no longer holds the base bytes (size differs, else sha256 differs): if it already
      holds the changes (patching it changes nothing; with ``base_data``, the mapping also equals
      ``base_data`` with the changes applied), an earlier write got as far as the rename and the
      status is "already"; otherwise ConflictError and the file stays as it is. ``base_data`` may be a
      function returning it: it is called only then (a bulk write passes the library's JSON text this
      way, so a file that still holds its base bytes never pays for decoding a whole mapping).
    - Nothing to change: "unchanged", the file is not touched (not even its mtime).
    - The user may not write the file (see _refusal): WriteError.
    - Otherwise the patched bytes replace the file atomically: "written".
    ``dry_run`` touches nothing and reports what a real write would do (same errors too).
    ``sync_dir=False`` leaves the folder's fsync to the caller (see :func:`atomic_write`).
    """
    target = resolve_target(path, roots)
    raw, st = _read(path, target)
    current = FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    # Size is the quick test; equal sizes are settled by the hash (a touched file whose bytes
    # are the same is not a conflict).
    if current.size != base.size or current.sha256 != base.sha256:
        held = _holds_changes(raw, changes, path, base_data() if callable(base_data) else base_data)
        if held is not None:
            return WriteOutcome("already", current, raw, raw, target, held)
        raise ConflictError(path, "the file changed on disk since it was read")
    new, data = _patched(raw, changes, path)
    if new == raw:
        return WriteOutcome("unchanged", current, raw, raw, target, data)
    refusal = _refusal(target, st)
    if refusal is not None:
        raise WriteError(path, refusal)
    if dry_run:
        return WriteOutcome("written", current, raw, new, target, data)
    try:
        state = atomic_write(target, new, sync_dir=sync_dir, expect=(current.size, current.mtime_ns))
    except FileChanged:
        raise ConflictError(path, "the file changed on disk while it was being written; not written") from None
    except OSError as err:
        raise WriteError(path, f"cannot write the file: {err.strerror or err}") from None
    return WriteOutcome("written", state, raw, new, target, data)


def _holds_changes(raw: bytes, changes: Mapping[str, Any], path: str,
                   base_data: Mapping[str, Any] | None) -> dict[Any, Any] | None:
    """The file's mapping when it holds ``changes`` already (and, with ``base_data``, nothing else
    changed), else None."""
    try:
        data = cards.parse_card(raw, path).data
    except CardError:
        return None
    if not same(data, applied(data, changes)):
        return None
    return data if base_data is None or same(data, applied(dict(base_data), changes)) else None


def temp_name(name: str, name_max: int = _NAME_MAX) -> str:
    """A fresh temp file name for the card file ``name``: ``.NAME`` + TEMP_MARK + random hex.

    It must fit the folder's NAME_MAX (255 bytes) whatever the card's name, or a card with a long
    name could never be written: the name part is shortened, by bytes and at a character boundary
    (a UTF-8 character is never cut; undecodable names keep their bytes), to leave room for the
    dot, the mark and the hex. The mark stays whole, so stale-temp cleanup still finds the file.
    """
    suffix = TEMP_MARK + secrets.token_hex(_TEMP_HEX_BYTES)
    room = name_max - 1 - len(suffix.encode("ascii"))
    raw = os.fsencode(name)
    if len(raw) > room:
        cut = room
        while cut > 0 and raw[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: back to the lead byte
            cut -= 1
        raw = raw[:cut]
    return "." + os.fsdecode(raw) + suffix


@lru_cache(maxsize=1024)
def _name_max(folder: str) -> int:
    """The folder's longest file name (a bulk write asks once per folder, not once per file)."""
    try:
        return min(os.pathconf(folder, "PC_NAME_MAX"), _NAME_MAX)
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows), or the folder cannot tell
        return _NAME_MAX


class FileChanged(OSError):
    """The file is no longer as it was read (``atomic_write``'s ``expect``): it was left as it is."""


def atomic_write(
    path: str, data: bytes, *, sync_dir: bool = True, expect: tuple[int, int] | None = None
) -> FileState:
    """Replace ``path`` with ``data`` atomically; returns the new file's state.

    The bytes go to a temp dotfile (see :func:`temp_name`) in the same folder, are flushed
    and fsynced, get the original's permission bits (and owner, when allowed), then
    ``os.replace`` puts them in place and the folder is fsynced so the rename survives a crash.
    On any failure the temp file is removed and the original is untouched. A symbolic link is
    never replaced by a file (OSError ELOOP): callers write to the file it links to, see
    :func:`resolve_target`.

    ``expect``: the (size, mtime_ns) the file had when it was read. It is compared again right before
    the rename, after the temp file's fsync, so an editor's save landing while the patched bytes were
    being written is not replaced: FileChanged, the temp file removed. (Only a save in the same
    mtime tick with the same size could pass, as it passes a rescan.)

    A bulk write may pass ``sync_dir=False`` and call :func:`fsync_dir` once per folder at the
    end: the folder fsync costs about as much as the file's own, and one per folder is enough
    to make all the renames in it durable.
    """
    folder, name = os.path.split(os.path.abspath(path))
    try:  # one lstat: not a link, so it is also the file's own stat
        original: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        original = None
    if original is not None and stat.S_ISLNK(original.st_mode):
        raise OSError(errno.ELOOP, "is a symbolic link; write to the file it links to", path)
    tmp = os.path.join(folder, temp_name(name, _name_max(folder)))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if original is not None:
                os.fchmod(fd, stat.S_IMODE(original.st_mode))
                if (original.st_uid, original.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):  # only root may give a file away
                        os.fchown(fd, original.st_uid, original.st_gid)
            os.fsync(fd)
            st = os.fstat(fd)  # a rename keeps the inode's mtime, so this is the final state
        finally:
            os.close(fd)
        if expect is not None:
            now = os.stat(path)
            if (now.st_size, now.st_mtime_ns) != expect:
                raise FileChanged(errno.EEXIST, "the file changed on disk while it was being written", path)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(folder)
    return FileState(len(data), st.st_mtime_ns, hashlib.sha256(data).hexdigest())


def fsync_dir(folder: str) -> None:
    """Make the renames in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # e.g. Windows cannot open folders; the rename itself has happened
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def remove_stale_temps(folder: str, max_age: float = STALE_TEMP_SECONDS, now: float | None = None) -> int:
    """Remove temp files an interrupted write left in ``folder``; returns how many were removed.

    Only ``.*`` + TEMP_MARK regular files (never folders or links) whose mtime is more than
    ``max_age`` seconds before ``now`` (default: the clock): a younger one may be the temp file of
    another Curator writing into the same folder right now, and removing it would fail that write.
    """
    removed = 0
    cutoff = (time.time() if now is None else now) - max_age
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(".") and TEMP_MARK in entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # gone meanwhile: its writer renamed it into place
        if not stat.S_ISREG(st.st_mode) or st.st_mtime > cutoff:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed += 1
    return removed
