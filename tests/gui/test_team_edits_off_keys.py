"""A triage key typed while a team library's edits are off (the connection lost, a read-only role) is said
in the status bar; it is never handed to the list's type-to-search (a 7 meant as quality 70 jumping to a
card whose title starts with 7), and nothing is edited. Other keys still search as typed."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from test_team_round_trips import other, team, team_db, team_template

from curator.core.store import Store
from curator.gui.views.live_updates import LOST_REFUSAL, READ_ONLY_TEXT
from curator.gui.views.main_window import MainWindow

__all__ = ["other", "team", "team_db", "team_template"]  # the fixtures these tests use


@pytest.fixture
def searched(team: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What reached the list views' type-to-search."""
    typed: list[str] = []
    for view in (team.table, team.grid):
        monkeypatch.setattr(view, "keyboardSearch", typed.append)
    return typed


def _keys(qtbot: Any, team: MainWindow, keys: list[tuple[Qt.Key, Qt.KeyboardModifier]]) -> None:
    team.table.setFocus()
    for key, modifiers in keys:
        qtbot.keyClick(team.table, key, modifiers)


TRIAGE = [(Qt.Key.Key_7, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_P, Qt.KeyboardModifier.NoModifier),
          (Qt.Key.Key_Plus, Qt.KeyboardModifier.ShiftModifier), (Qt.Key.Key_3, Qt.KeyboardModifier.KeypadModifier)]


def test_a_triage_key_while_the_connection_is_lost_is_said_not_searched(qtbot, team: MainWindow, other: Store, searched: list[str], boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    batches = len(other.history(1000))
    team.team_library.lost()  # what a failed read or the listener's state does
    assert not team.actions.quality_keys[7].isEnabled()
    try:
        for key in TRIAGE:
            team.statusBar().clearMessage()
            _keys(qtbot, team, [key])
            assert team.statusBar().currentMessage() == f"Edits are disabled: {LOST_REFUSAL}", key
        assert searched == [] and team.selection.current_id() == card.id
        _keys(qtbot, team, [(Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier)])  # not a triage key: searched
        assert searched == ["a"]
    finally:
        team.team_library.back()
    qtbot.waitUntil(lambda: team.actions.quality_keys[7].isEnabled(), timeout=5000)
    assert len(other.history(1000)) == batches and not boxes and not team.edits.busy
    _keys(qtbot, team, [(Qt.Key.Key_7, Qt.KeyboardModifier.NoModifier)])  # edits on again: the key edits
    qtbot.waitUntil(lambda: not team.edits.busy and other.detail(card.id).quality == 70, timeout=10000)
    assert searched == ["a"]


def test_a_triage_key_for_a_read_only_role_is_said(qtbot, team: MainWindow, other: Store, searched: list[str]) -> None:  # type: ignore[no-untyped-def]
    library = team.team_library
    before = other.detail(team.detail.card.id).quality
    library.read_only_reason = "the role news_reader may only read"  # what check_access's answer sets
    library._apply()
    _keys(qtbot, team, [(Qt.Key.Key_9, Qt.KeyboardModifier.NoModifier)])
    text = team.statusBar().currentMessage()
    assert text == f"Edits are disabled: {READ_ONLY_TEXT}. the role news_reader may only read.", text
    assert searched == [] and not team.edits.busy
    assert other.detail(team.detail.card.id).quality == before
