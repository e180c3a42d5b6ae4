"""Typed wrapper over QSettings: every key, its default and its type in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Key(Generic[T]):
    """One setting: where it lives in QSettings, its default and the type it is read as."""

    name: str
    default: T
    kind: type


# Window layout (opaque Qt blobs).
GEOMETRY: Key[QByteArray] = Key("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE: Key[QByteArray] = Key("window/state", QByteArray(), QByteArray)
MAIN_SPLITTER: Key[QByteArray] = Key("window/mainSplitter", QByteArray(), QByteArray)
# The card table.
HEADER_STATE: Key[QByteArray] = Key("table/header", QByteArray(), QByteArray)
HIDDEN_COLUMNS: Key[list] = Key("table/hiddenColumns", [], list)
SORT_KEY: Key[str] = Key("table/sortKey", "date", str)
SORT_DESCENDING: Key[bool] = Key("table/sortDescending", True, bool)
VIEW_MODE: Key[str] = Key("view/mode", "table", str)  # "table" or "grid"
THEME: Key[str] = Key("view/theme", "system", str)  # "system", "light" or "dark"
# Searching.
LAST_QUERY: Key[str] = Key("search/last", "", str)
RECENT_QUERIES: Key[list] = Key("search/recent", [], list)
SAVED_QUERIES: Key[list] = Key("search/saved", [], list)
# Triage.
QUALITY_SCALE: Key[int] = Key("triage/qualityScale", 10, int)  # digit d sets d × scale; 0 counts as 10
# On by default: triage is one key per card. A new key name, so the old default (off) saved by every
# earlier version does not keep it off for editors who never chose.
ADVANCE: Key[bool] = Key("triage/advanceAfterKey", True, bool)  # next card after P, U or a quality key
# The library file last opened.
LAST_LIBRARY: Key[str] = Key("library/last", "", str)
# Where this editor has a team library's roots: "ORIGINAL=LOCAL" entries (curator/core/roots.py; ORIGINAL a
# root's first-imported path, id or label). $CURATOR_ROOT_MAP gives more; these win for the same root.
ROOT_MAP: Key[list] = Key("library/rootMap", [], list)
# Who this editor's edits are recorded as (History: "published by Ana"); "" means store.default_editor().
EDITOR_NAME: Key[str] = Key("library/editorName", "", str)

MAX_RECENT = 10


def _convert(value: Any, key: Key[Any]) -> Any:
    # INI files hand everything back as strings, and a one-item list as a bare string.
    if key.kind is bool:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)
    if key.kind is int:
        return int(value)
    if key.kind is str:
        return str(value)
    if key.kind is list:
        if isinstance(value, str):
            return [value] if value else []
        return [str(v) for v in value]
    if key.kind is QByteArray:
        return value if isinstance(value, QByteArray) else QByteArray(value)
    return value


class Settings:
    """Reads and writes the keys above with their types.

    The default backend is the user's native QSettings for the application's
    organisation/name; tests pass an INI file in a temporary folder instead.
    """

    def __init__(self, backend: QSettings | None = None) -> None:
        self.backend = backend if backend is not None else QSettings()

    @classmethod
    def from_file(cls, path: str | Path) -> Settings:
        """Settings kept in the INI file at `path`."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def value(self, key: Key[T]) -> T:
        """The stored value of `key`, or its default when unset or unreadable."""
        raw = self.backend.value(key.name)
        if raw is None:
            return _copy(key.default)
        try:
            return _convert(raw, key)
        except (TypeError, ValueError):
            return _copy(key.default)

    def set_value(self, key: Key[T], value: T) -> None:
        """Store `value` under `key`."""
        self.backend.setValue(key.name, value)

    def remember_query(self, text: str) -> None:
        """Put `text` at the front of the recent searches (no duplicates, at most MAX_RECENT)."""
        text = text.strip()
        if not text:
            return
        recent = [q for q in self.value(RECENT_QUERIES) if q != text]
        self.set_value(RECENT_QUERIES, [text, *recent][:MAX_RECENT])

    def sync(self) -> None:
        """Flush to disk now (QSettings otherwise writes lazily)."""
        self.backend.sync()


def _copy(default: Any) -> Any:
    # Hand out copies of mutable defaults so a caller's edit cannot change the default.
    if isinstance(default, list):
        return list(default)
    if isinstance(default, QByteArray):
        return QByteArray(default)
    return default
