"""Settings: typed values survive an INI round trip; defaults when unset or unreadable."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray

from curator.gui import settings as keys
from curator.gui.settings import Settings


def test_defaults_when_unset(settings: Settings) -> None:
    assert settings.value(keys.SORT_KEY) == "date"
    assert settings.value(keys.SORT_DESCENDING) is True
    assert settings.value(keys.HIDDEN_COLUMNS) == []
    assert settings.value(keys.GEOMETRY).isEmpty()


def test_typed_round_trip_through_the_ini_file(tmp_path: Path) -> None:
    path = tmp_path / "s.ini"
    first = Settings.from_file(path)
    first.set_value(keys.SORT_DESCENDING, False)
    first.set_value(keys.HIDDEN_COLUMNS, ["topics"])  # one item: INI hands it back as a bare string
    first.set_value(keys.LAST_QUERY, 'topic:"Computer Vision" quality>=60')
    first.set_value(keys.GEOMETRY, QByteArray(b"\x00\x01binary"))
    first.sync()
    assert path.is_file()
    again = Settings.from_file(path)
    assert again.value(keys.SORT_DESCENDING) is False
    assert again.value(keys.HIDDEN_COLUMNS) == ["topics"]
    assert again.value(keys.LAST_QUERY) == 'topic:"Computer Vision" quality>=60'
    assert bytes(again.value(keys.GEOMETRY).data()) == b"\x00\x01binary"


def test_mutable_defaults_are_not_shared(settings: Settings) -> None:
    settings.value(keys.HIDDEN_COLUMNS).append("title")
    assert settings.value(keys.HIDDEN_COLUMNS) == []


def test_recent_queries_dedupe_and_cap(settings: Settings) -> None:
    for i in range(keys.MAX_RECENT + 3):
        settings.remember_query(f"q{i}")
    settings.remember_query("q5")
    settings.remember_query("   ")
    recent = settings.value(keys.RECENT_QUERIES)
    assert recent[0] == "q5"
    assert recent.count("q5") == 1
    assert len(recent) == keys.MAX_RECENT
