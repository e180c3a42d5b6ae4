"""Write edits back to card files: minimal textual patch, re-parse check, conflict check, atomic replace."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
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

__all__ = ["DELETE", "WriteError", "ConflictError", "WriteOutcome", "patch", "write_changes",
           "atomic_write", "fsync_dir", "remove_stale_temps", "TEMP_MARK"]

#: Temp files are ``.NAME`` + TEMP_MARK + random hex, next to the card (import skips dotfiles).
TEMP_MARK = ".curator-tmp-"

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


def _applied(data: dict[Any, Any], changes: Mapping[str, Any]) -> dict[Any, Any]:
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
        return raw
    new = _applied(old, changes)
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
    if not _reads_back(doc, root, text, region, new, changes, path):
        _verify(result, new, path)  # not proven the cheap way: the full re-parse decides (and words errors)
    return result


def _reads_back(doc: cards.Document, root: Any, text: str, region: str, expected: dict[Any, Any],
                changes: Mapping[str, Any], path: str) -> bool:
    """True when the patched ``text`` provably reads back as ``expected``; False: not proven.

    The whole new region is composed again (so an edit that changes how its neighbours parse,
    such as an unclosed quote, is seen), but only the edited top-level values are built and
    compared. Every other top-level entry must be the very text it was, at the same column of the
    root block mapping, after the same prefix: with no anchors or aliases in either text, YAML
    reads the same text in the same context as the same value, which was read from it before.
    """
    old_region = doc.yaml_text
    if root is None or root.flow_style or may_have_anchor(old_region) or may_have_anchor(region):
        return False
    try:
        new_doc = cards.split_text(text, doc.bom, path)
        if new_doc.yaml_start != doc.yaml_start or new_doc.yaml_end != doc.yaml_start + len(region):
            return False  # the front matter's closing line moved: let the full check report it
        new_root = cards.compose_root(new_doc, path)
        if new_root is None or new_root.flow_style or not new_root.value or not root.value:
            return False
        first_old, first_new = root.value[0][0].start_mark.index, new_root.value[0][0].start_mark.index
        if region[:first_new] != old_region[:first_old]:  # directives, comments before the first key
            return False
        builder = TreeBuilder(path, new_doc.line_offset, len(region))
        old_entries = {builder.build(k, 1): (k, v) for k, v in root.value}
        seen: set[Any] = set()
        for key_node, value_node in new_root.value:
            if type(key_node) is not ScalarNode or key_node.tag == MERGE:
                return False
            key = builder.build(key_node, 1)
            if key in seen or key not in expected:
                return False
            seen.add(key)
            if key in changes:
                if not same(builder.build(value_node, 1), expected[key]):
                    return False
                continue
            old_key, old_value = old_entries[key]
            if (key_node.start_mark.column != old_key.start_mark.column
                    or region[key_node.start_mark.index:value_node.end_mark.index]
                    != old_region[old_key.start_mark.index:old_value.end_mark.index]):
                return False
    except (CardError, Fallback, KeyError, TypeError):
        return False  # e.g. a key the builder refuses, an unhashable surprise: the full check decides
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


def _refusal(path: str, st: os.stat_result, fd: int) -> str | None:
    """Why the user may not replace this file, or None.

    os.access alone is not enough: root passes it for any file, and a rename would replace a
    read-only file anyway. So a file without any write bit counts as read-only for everyone,
    and the Linux immutable/append-only flags are read from the inode (cheap: one ioctl).
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
            fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        except OSError:  # file systems without inode flags (tmpfs, some FUSE): nothing to learn
            return None
        value = int.from_bytes(buf, sys.byteorder)
        if value & _FS_IMMUTABLE_FL:
            return "the file is marked immutable (chattr +i)"
        if value & _FS_APPEND_FL:
            return "the file is marked append-only (chattr +a)"
    return None


def write_changes(path: str, base: FileState, changes: Mapping[str, Any], *,
                  dry_run: bool = False, base_data: Mapping[str, Any] | None = None,
                  sync_dir: bool = True) -> WriteOutcome:
    """Write ``changes`` into the card at ``path``, which must still hold the ``base`` bytes.

    - The file no longer holds the base bytes (size differs, else sha256 differs): if it already
      holds the changes (patching it changes nothing; with ``base_data``, the mapping also equals
      ``base_data`` with the changes applied), an earlier write got as far as the rename and the
      status is "already"; otherwise ConflictError and the file stays as it is.
    - Nothing to change: "unchanged", the file is not touched (not even its mtime).
    - The user may not write the file (see _refusal): WriteError.
    - Otherwise the patched bytes replace the file atomically: "written".
    ``dry_run`` touches nothing and reports what a real write would do (same errors too).
    ``sync_dir=False`` leaves the folder's fsync to the caller (see :func:`atomic_write`).
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            raw = f.read(cards.MAX_FILE_BYTES + 1)
            refusal = _refusal(path, st, f.fileno())
    except OSError as err:
        raise WriteError(path, f"cannot read the file: {err.strerror or err}") from None
    current = FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    # Size is the quick test; equal sizes are settled by the hash (a touched file whose bytes
    # are the same is not a conflict).
    if current.size != base.size or current.sha256 != base.sha256:
        if _holds_changes(raw, changes, path, base_data):
            return WriteOutcome("already", current, raw, raw)
        raise ConflictError(path, "the file changed on disk since it was read")
    new = patch(raw, changes, path)
    if new == raw:
        return WriteOutcome("unchanged", current, raw, raw)
    if refusal is not None:
        raise WriteError(path, refusal)
    if dry_run:
        return WriteOutcome("written", current, raw, new)
    try:
        state = atomic_write(path, new, sync_dir=sync_dir)
    except OSError as err:
        raise WriteError(path, f"cannot write the file: {err.strerror or err}") from None
    return WriteOutcome("written", state, raw, new)


def _holds_changes(raw: bytes, changes: Mapping[str, Any], path: str,
                   base_data: Mapping[str, Any] | None) -> bool:
    try:
        data = cards.parse_card(raw, path).data
    except CardError:
        return False
    if not same(data, _applied(data, changes)):
        return False
    return base_data is None or same(data, _applied(dict(base_data), changes))


def atomic_write(path: str, data: bytes, *, sync_dir: bool = True) -> FileState:
    """Replace ``path`` with ``data`` atomically; returns the new file's state.

    The bytes go to a temp dotfile ``.NAME.curator-tmp-<hex>`` in the same folder, are flushed
    and fsynced, get the original's permission bits (and owner, when allowed), then
    ``os.replace`` puts them in place and the folder is fsynced so the rename survives a crash.
    On any failure the temp file is removed and the original is untouched.

    A bulk write may pass ``sync_dir=False`` and call :func:`fsync_dir` once per folder at the
    end: the folder fsync costs about as much as the file's own, and one per folder is enough
    to make all the renames in it durable.
    """
    folder, name = os.path.split(os.path.abspath(path))
    try:
        original: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        original = None
    tmp = os.path.join(folder, f".{name}{TEMP_MARK}{secrets.token_hex(6)}")
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


def remove_stale_temps(folder: str) -> int:
    """Remove temp files an interrupted write left in ``folder``; returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.name.startswith(".") and TEMP_MARK in entry.name and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed
