"""Start-up order and polish: one first query, work deferred to the first paint, the probe, themed icons, widths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QIcon

from curator.core.store import Store
from curator.gui import app as gui_app
from curator.gui import icons, startup_probe
from curator.gui import settings as keys
from curator.gui.images import ImageCache
from curator.gui.models.card_table import Column
from curator.gui.settings import Settings
from curator.gui.views.main_window import MainWindow
from curator.gui.workers import SyncPool


def _counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    calls = {"rows": 0, "count": 0, "values": 0, "facets": 0}
    for name in calls:
        original = getattr(store, name)

        def wrapper(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(store, name, wrapper)
    return calls


def _window(qtbot, store: Store, settings: Settings, images: ImageCache, **kwargs: Any) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(store, settings, images=images, pool=SyncPool(), **kwargs)
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    return window


def test_the_saved_query_and_sort_are_one_first_query_and_the_rest_waits_for_the_paint(
    qtbot, store: Store, settings: Settings, images: ImageCache, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    settings.set_value(keys.LAST_QUERY, "topic:AI")
    settings.set_value(keys.SORT_KEY, "quality")
    settings.set_value(keys.SORT_DESCENDING, True)
    calls = _counting(store, monkeypatch)
    window = _window(qtbot, store, settings, images, defer_startup=True)
    # One page read, under the saved query and sort (all of topic:AI fits on it: no count either); no
    # facets, completions or folder list yet.
    assert calls == {"rows": 1, "count": 0, "values": 0, "facets": 0}
    assert window.model.query == "topic:AI" and window.model.sort_key == ("quality", True)
    assert window.model.total == store.count("topic:AI")
    assert window.filter_bar.text() == "topic:AI" and window.filter_bar.error_text is None
    assert window.facets.find("status", "All cards") is None  # not counted yet
    assert not window.folders.watcher.directories()
    assert "topic:AI" not in window.filter_bar.completions("topic:")
    window.show()
    qtbot.waitUntil(lambda: calls["facets"] == 1 and calls["values"] == 4, timeout=5000)
    assert window.facets.find("status", "All cards").text(1) == f"{store.count('topic:AI'):,}"
    assert "topic:AI" in window.filter_bar.completions("topic:")
    assert window.folders.watcher.directories()  # the seed folders
    assert calls["rows"] == 1  # the paint read no other page: the first one is held


def test_a_saved_query_this_version_cannot_read_still_lists_every_card(
    qtbot, store: Store, settings: Settings, images: ImageCache
) -> None:  # type: ignore[no-untyped-def]
    settings.set_value(keys.LAST_QUERY, "(ai OR")
    settings.set_value(keys.SORT_KEY, "no-such-key")
    window = _window(qtbot, store, settings, images)
    assert window.model.total == store.count() and window.model.sort_key == ("date", True)
    assert window.filter_bar.text() == "(ai OR"
    assert window.filter_bar.error_text is not None  # the reason is shown, not swallowed


def test_the_probe_writes_the_first_paint_and_hands_over(
    qtbot,
    store: Store,
    settings: Settings,
    images: ImageCache,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, store, settings, images)
    report = tmp_path / "paint.json"
    assert not startup_probe.install(window, environ={})  # without the variable: nothing installed
    handed: list[MainWindow] = []
    monkeypatch.setattr(startup_probe, "after_first_paint", handed.append)
    assert startup_probe.install(window, environ={startup_probe.ENV: str(report)})
    window.show()
    qtbot.waitUntil(lambda: handed == [window], timeout=5000)
    figure = json.loads(report.read_text())
    assert 0 < figure["seconds"] < 3600 and figure["clock"] in ("proc", "import")
    assert figure["rows"] == figure["total"] == store.count() and figure["counting"] is False  # inline count
    assert figure["maxrss_kib"] > 0


def _ink(icon: QIcon) -> QColor:
    """The colour of an icon's opaque pixels (its glyph)."""
    image = icon.pixmap(32, 32).toImage()
    pixels = [image.pixelColor(x, y) for x in range(32) for y in range(32)]
    return next(p for p in pixels if p.alpha() == 255)


def test_a_theme_switch_recolours_the_icons_already_shown(
    qtbot, store: Store, settings: Settings, images: ImageCache
) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, store, settings, images)
    try:
        window.look.set_theme("light")
        button = window.filter_bar.searches_button
        assert _ink(button.icon()).lightness() < 100
        window.look.set_theme("dark")
        assert _ink(button.icon()).lightness() > 200
        assert _ink(window.actions.write.icon()).lightness() > 200  # actions too
        assert _ink(window.detail.source_button.icon()).lightness() > 200
        # Meaning colours stay what they are in either theme.
        assert _ink(icons.icon("published")).name() == icons.COLORS["published"]
    finally:
        gui_app.apply_theme("light")


def test_topic_completions_follow_edits(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    assert not edit_window.filter_bar.completions('topic:"Zebra')
    edit_window.detail.editor.topic_input.setText("Zebra Crossings")
    edit_window.detail.editor.topic_input.returnPressed.emit()
    assert store.count('topic:"Zebra Crossings"') == 1
    assert edit_window.filter_bar.completions('topic:"Zebra') == ['topic:"Zebra Crossings"']
    assert "Zebra Crossings" in edit_window.detail.editor.topic_model.stringList()
    edit_window.edits.history.stack.undo()
    assert not edit_window.filter_bar.completions('topic:"Zebra')


def test_the_title_gets_the_room_beside_the_detail_pane(
    qtbot, store: Store, settings: Settings, images
) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, store, settings, images)
    window.resize(1500, 920)
    window.show()
    qtbot.waitExposed(window)
    table = window.table
    title = table.columnWidth(Column.TITLE)
    others = [table.columnWidth(c) for c in (Column.PROVIDER, Column.TOPICS)]
    assert title > 1.25 * sum(others) and title >= 250, (title, others)  # was 200 beside 120 + 130
