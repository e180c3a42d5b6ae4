"""The desktop app on a team library (PostgreSQL, the session's real cluster): opening one from --db,
$CURATOR_DB, the remembered last library and File > Connect to Team Library…, the password asked for and
never stored, a read-only role's read-only GUI, a lost connection as a clear state, and another editor's
changes shown in place within 2 s without losing the selection or an edit in progress."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import ADMIN, PgCluster
from PySide6.QtWidgets import QMessageBox

from curator import paths
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.store_types import LibraryError
from curator.gui import app as gui_app
from curator.gui import settings as keys
from curator.gui import workers
from curator.gui.images import ImageCache
from curator.gui.settings import Settings
from curator.gui.views import team_connect
from curator.gui.views.main_window import MainWindow

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
#: Enough cards for a few pages of facets, few enough to import in a second or two.
SEED_FILES = 60


@pytest.fixture(scope="session")
def team_template(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A database holding SEED_FILES seed cards (imported once), the template of every test's library."""
    cards = tmp_path_factory.mktemp("team-cards")
    for path in sorted(SEEDS.glob("20*/*.txt"))[:SEED_FILES]:
        shutil.copyfile(path, cards / path.name)
    name = pg_cluster.create_database(f"team_template_{secrets.token_hex(4)}")
    store = Store(pg_cluster.url(name))
    report = import_paths(store, [cards], workers=1)
    assert report.failed == 0 and report.added == SEED_FILES
    store.close()
    return name, cards


@pytest.fixture
def team_db(pg_cluster: PgCluster, team_template: tuple[str, Path]) -> str:
    """A fresh copy of the template library: its database name."""
    name = f"team_{secrets.token_hex(5)}"
    pg_cluster.sql(f'CREATE DATABASE "{name}" TEMPLATE "{team_template[0]}"')
    return name


@pytest.fixture
def no_password_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """libpq finds no password: no PG* variables, an empty HOME (no ~/.pgpass)."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def sync_tasks() -> Iterator[None]:
    workers.set_default_pool(workers.SyncPool())
    yield
    workers.set_default_pool(None)


def _window(qtbot, store: Store, settings: Settings, tmp_path: Path) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(store, settings, images=ImageCache(tmp_path / "images"), pool=workers.SyncPool())
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    return window


def _stop(window: MainWindow) -> None:
    window.team_library.stop()


# -- locations, titles, the remembered library ---------------------------------------------------------
def test_urls_are_libraries_to_open(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CURATOR_DB", raising=False)
    monkeypatch.setenv("CURATOR_HOME", str(tmp_path))
    url = "postgresql://ana@db.example:6432/news?sslmode=require"
    assert paths.library_to_open(url) == url  # as written, not a Path that folds the "//"
    assert paths.library_to_open(None, url) == url  # the remembered team library
    monkeypatch.setenv("CURATOR_DB", url)
    assert paths.library_to_open(None, str(tmp_path / "last.sqlite")) == url
    monkeypatch.setenv("CURATOR_DB", "mysql://x/y")
    with pytest.raises(ValueError, match="unsupported library URL scheme 'mysql'"):
        paths.library_to_open(None, None)
    monkeypatch.delenv("CURATOR_DB")
    assert paths.library_to_open(None, "mysql://x/y") == tmp_path / "data" / paths.LIBRARY_FILE  # passed over


def test_opening_from_a_url_titles_the_window_and_remembers_no_password(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, tmp_path: Path, sync_tasks: None
) -> None:
    settings = Settings.from_file(tmp_path / "settings.ini")
    url = pg_cluster.url(team_db)  # holds the admin's password
    assert pg_cluster.password in url
    window = gui_app.open_window(url, settings)
    assert window is not None
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    try:
        assert window.windowTitle() == f"Curator — {team_db} on 127.0.0.1"
        assert (
            settings.value(keys.LAST_LIBRARY) == f"postgresql://{ADMIN}@127.0.0.1:{pg_cluster.port}/{team_db}"
        )
        assert window.model.total == SEED_FILES
        assert pg_cluster.password not in window.help.about_text()
        window.close()
        settings.sync()
        text = (tmp_path / "settings.ini").read_text(encoding="utf-8")
        assert "postgresql://" in text and pg_cluster.password not in text
    finally:
        _stop(window)


# -- File > Connect to Team Library… -------------------------------------------------------------------
@pytest.fixture
def replaced_window(qtbot, own_library, settings: Settings, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A window on an SQLite library that a connect replaces (and deletes): not handed to qtbot to close."""
    store, _cards = own_library
    window = MainWindow(store, settings, images=ImageCache(tmp_path / "images"), pool=workers.SyncPool())
    window.files.ask_close = lambda _box: "keep"
    window.show()
    yield window
    import shiboken6

    if shiboken6.isValid(window):
        window.close()
        window.deleteLater()


def test_connect_dialog_asks_for_the_password_and_never_stores_it(  # type: ignore[no-untyped-def]
    qtbot, replaced_window: MainWindow, pg_cluster: PgCluster, team_db: str, no_password_env: Path,
    tmp_path: Path, settings: Settings,
) -> None:  # fmt: skip
    import shiboken6

    edit_window = replaced_window
    edit_window.actions.connect_team.trigger()
    dialog = edit_window.connect_dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, team_connect.TeamConnectDialog) and dialog.isVisible()
    assert not dialog.password.isVisible()  # asked for only when libpq finds none
    dialog.host.setText("127.0.0.1")
    dialog.port.setValue(pg_cluster.port)
    dialog.database.setText(team_db)
    dialog.user.setText(ADMIN)
    dialog.sslmode.setCurrentText("disable")
    assert dialog.location() == f"postgresql://{ADMIN}@127.0.0.1:{pg_cluster.port}/{team_db}?sslmode=disable"

    dialog.connect_button.click()  # no ~/.pgpass, no PGPASSWORD: the dialog asks
    assert dialog.isVisible() and dialog.password.isVisible()
    assert dialog.password.echoMode() == dialog.password.EchoMode.Password
    assert dialog.password_label.text().startswith(f"The server needs a password for {ADMIN}")
    dialog.password.setText("not-the-password")
    dialog.connect_button.click()
    assert dialog.password_label.text() == f"The server refused the password for {ADMIN}. Type it again:"
    assert dialog.isVisible()
    dialog.password.setText(pg_cluster.password)
    dialog.connect_button.click()
    assert not dialog.isVisible()

    window = gui_app._windows[-1]
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    try:
        assert window.isVisible() and window.store is not edit_window.store
        qtbot.waitUntil(lambda: not shiboken6.isValid(edit_window))  # the old window went away
        assert window.windowTitle() == f"Curator — {team_db} on 127.0.0.1"
        assert window.model.total == SEED_FILES  # the typed password reached the window's connections
        assert window.team_library.is_team
        window.close()
        settings.sync()
        text = (tmp_path / "settings.ini").read_text(encoding="utf-8")
        assert f"{team_db}?sslmode=disable" in text  # the library is remembered…
        assert pg_cluster.password not in text and "not-the-password" not in text  # …never its password
    finally:
        _stop(window)


def test_connect_errors_are_sentences(qtbot, edit_window: MainWindow, pg_cluster: PgCluster) -> None:  # type: ignore[no-untyped-def]
    dialog = team_connect.open_dialog(edit_window)
    dialog.url.setText(pg_cluster.url("no_such_library"))
    dialog._url_edited(dialog.url.text())
    assert dialog.database.text() == "no_such_library"
    dialog.connect_button.click()
    assert dialog.isVisible() and dialog.error.isVisible()
    assert dialog.error.text() == (
        f"The team library postgresql://{ADMIN}@127.0.0.1:{pg_cluster.port}/no_such_library "
        "has no such database on the server."
    )
    assert pg_cluster.password not in dialog.error.text()
    dialog.reject()


# -- read-only roles -------------------------------------------------------------------------------------
def test_a_read_only_role_gets_a_read_only_gui(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path, boxes: list[QMessageBox]
) -> None:
    reader, password = f"reader_{secrets.token_hex(4)}", secrets.token_urlsafe(10)
    pg_cluster.create_role(reader, password)
    pg_cluster.sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"', team_db)
    store = Store(pg_cluster.url(team_db, reader, password))
    window = _window(qtbot, store, settings, tmp_path)
    try:
        a = window.actions
        assert window.team_library.read_only_reason is not None
        label = window.team_library.read_only_label
        assert label.isVisible() and label.text() == "Read-only: your role cannot change this library"
        for action in (a.publish, a.unpublish, a.quality_keys[5], a.edit_related, a.undo, a.open_folder,
                       a.rescan, a.write):  # fmt: skip
            assert not action.isEnabled(), action.text()
        assert not window.detail.editor.isEnabled()
        window.update_status()  # the status bar enables Write when cards are dirty: never here
        assert not a.write.isEnabled() and not a.publish.isEnabled()
        assert window.selection.select_card(window.model.card_at(0).id)  # reading works
        card_id = window.selection.current_id()
        window.edits.triage({"published": True}, "Publish")  # a key press reaching the controller
        assert boxes and "Read-only: your role cannot change this library" in boxes[-1].text()
        with Store(pg_cluster.url(team_db)) as admin:
            assert admin.rows_by_id([card_id])[0].published is not True  # nothing changed
    finally:
        _stop(window)


# -- live updates -----------------------------------------------------------------------------------------
def test_another_editors_publish_shows_in_place_within_2s(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path
) -> None:
    url = pg_cluster.url(team_db)
    window = _window(qtbot, Store(url), settings, tmp_path)
    other = Store(url)  # another editor: its own connections
    try:
        feed = window.team_library.feed
        assert feed is not None
        qtbot.waitUntil(lambda: feed.connected, timeout=5000)
        model = window.model
        rows = [model.card_at(r) for r in range(model.total)]
        unpublished = [r for r in rows if r is not None and not r.published]
        target, neighbour = unpublished[1], unpublished[2]
        assert window.selection.select_card(target.id)
        chooser = window.table.selectionModel()
        chooser.select(model.index(model.row_of(neighbour.id), 1),
                       chooser.SelectionFlag.Select | chooser.SelectionFlag.Rows)  # fmt: skip
        selected = window.selection.selected_ids()
        assert selected == sorted([target.id, neighbour.id], key=model.row_of)
        published_before = _facet(window, "Published")
        # An edit in progress: the related-links editor open on the card in hand.
        window.related.run_dialog = lambda d: (d.show(), False)[1]
        window.related.edit()
        dialog = window.related.last_dialog
        assert dialog is not None and dialog.isVisible()
        items_before = dialog.items()
        refreshed: list[list[int]] = []
        window.team_library.refreshed.connect(refreshed.append)

        started = time.monotonic()
        other.set_fields([target.id], {"published": True}, label="Publish")
        qtbot.waitUntil(lambda: model.card_at(model.row_of(target.id)).published is True, timeout=2000)
        seen = time.monotonic() - started
        assert seen < 2.0
        assert any(target.id in ids for ids in refreshed)
        assert window.detail.card is not None and window.detail.card.published is True  # the detail pane
        assert "Published" in window.detail.meta.text()
        assert _facet(window, "Published") == published_before + 1  # the facet counts
        assert window.selection.current_id() == target.id  # the card in hand …
        assert window.selection.selected_ids() == selected  # … and the selection are kept
        assert dialog.isVisible() and dialog.items() == items_before  # the edit in progress too
        dialog.reject()
    finally:
        other.close()
        _stop(window)


def _facet(window: MainWindow, label: str) -> int:
    item = window.facets.find("status", label)
    return int(item.text(1).replace(",", "")) if item is not None else 0


def test_a_title_being_typed_survives_another_editors_change(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path
) -> None:
    url = pg_cluster.url(team_db)
    window = _window(qtbot, Store(url), settings, tmp_path)
    other = Store(url)
    try:
        feed = window.team_library.feed
        assert feed is not None
        qtbot.waitUntil(lambda: feed.connected, timeout=5000)
        card = window.model.card_at(0)
        assert card is not None and window.selection.select_card(card.id)
        title = window.detail.editor.title
        window.activateWindow()
        title.setFocus()
        qtbot.waitUntil(title.hasFocus)
        title.selectAll()
        qtbot.keyClicks(title, "My new headline")
        other.set_fields([card.id], {"quality": 77}, label="Set quality to 77")
        qtbot.waitUntil(
            lambda: window.detail.card is not None and window.detail.card.quality == 77, timeout=2000
        )
        assert title.text() == "My new headline" and title.hasFocus()
    finally:
        other.close()
        _stop(window)


# -- a lost connection ----------------------------------------------------------------------------------
def test_a_lost_connection_is_a_clear_state_and_edits_are_refused_whole(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path, boxes: list[QMessageBox],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = pg_cluster.url(team_db)
    store = Store(url)
    window = _window(qtbot, store, settings, tmp_path)
    team = window.team_library
    try:
        assert team.feed is not None
        qtbot.waitUntil(lambda: team.feed is not None and team.feed.connected, timeout=5000)
        assert not team.banner.isVisible()
        card = window.model.card_at(0)
        assert card is not None and window.selection.select_card(card.id)
        before = card.published
        # The server stops taking this library's connections and drops the ones it has.
        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS false')
        pg_cluster.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{team_db}'")
        qtbot.waitUntil(team.banner.isVisible, timeout=5000)
        assert team.banner.text.text() == "Connection to the team library lost — retrying…"
        assert team.banner.retry.isVisible()
        assert not window.actions.publish.isEnabled() and not window.detail.editor.isEnabled()
        window.edits.set_fields([card.id], {"published": not before}, "Publish")
        assert boxes and "The connection to the team library is lost" in boxes[-1].text()
        assert "Publish was not applied" in boxes[-1].text()

        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS true')
        team.banner.retry.click()
        qtbot.waitUntil(lambda: not team.connection_lost, timeout=5000)
        assert not team.banner.isVisible() and window.actions.publish.isEnabled()
        assert window.detail.editor.isEnabled()
        fresh = Store(url)
        assert fresh.rows_by_id([card.id])[0].published == before  # the refused edit never reached it
        fresh.close()
        assert window.model.card_at(0) is not None  # reads work again on a new connection
    finally:
        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS true')
        _stop(window)


def test_undo_steps_whose_read_met_a_lost_connection_are_read_when_it_is_back(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The journal read that fills the undo stack at open fails (the connection is lost): the window says
    so, and once Retry finds the server again the editor's earlier edit is on the stack, undoable."""
    url = pg_cluster.url(team_db)
    earlier = Store(url)
    card_id = earlier.ids()[0]
    quality = earlier.rows_by_id([card_id])[0].quality
    made = earlier.set_fields([card_id], {"quality": 7 if quality != 7 else 8}, label="Quality")
    assert made.batch_id is not None
    earlier.close()
    store = Store(url)
    real_history = Store.history
    calls: list[int] = []

    def history(self: Store, limit: int = 100):  # type: ignore[no-untyped-def]
        calls.append(limit)
        if len(calls) == 1:  # the read at open: the server is gone
            raise LibraryError(f"{url}: the connection to the server was lost (terminated)")
        return real_history(self, limit)

    monkeypatch.setattr(Store, "history", history)
    window = _window(qtbot, store, settings, tmp_path)
    team = window.team_library
    try:
        qtbot.waitUntil(lambda: team.connection_lost, timeout=5000)
        assert window.edits.history.stack.count() == 0 and window.edits.history.unread
        team.banner.retry.click()
        qtbot.waitUntil(lambda: not team.connection_lost, timeout=5000)
        qtbot.waitUntil(lambda: window.edits.history.stack.count() == 1, timeout=5000)
        assert len(calls) == 2 and not window.edits.history.unread
        assert window.edits.history.batch_ids() == [made.batch_id] and window.actions.undo.isEnabled()
    finally:
        _stop(window)


def test_an_edit_the_server_drops_is_said_never_half_applied(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path, boxes: list[QMessageBox]
) -> None:
    """The connection dies before the listener notices: the edit fails whole and the editor is told."""
    url = pg_cluster.url(team_db)
    window = _window(qtbot, Store(url), settings, tmp_path)
    try:
        window.team_library.stop()  # no listener: only the edit itself meets the dead connection
        ids = [r.id for r in (window.model.card_at(i) for i in range(5)) if r is not None]
        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS false')
        pg_cluster.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{team_db}'")
        window.edits.set_fields(ids, {"quality": 42}, "Set quality to 42")
        assert boxes and "Set quality to 42 was not applied; nothing changed." in boxes[-1].text()
        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS true')
        fresh = Store(url)
        assert all(r.quality != 42 for r in fresh.rows_by_id(ids))
        fresh.close()
    finally:
        pg_cluster.sql(f'ALTER DATABASE "{team_db}" ALLOW_CONNECTIONS true')


def test_sqlite_library_has_no_team_state(edit_window: MainWindow) -> None:
    team = edit_window.team_library
    assert not team.is_team and team.feed is None and team.refusal() is None
    assert not team.banner.isVisible() and not team.read_only_label.isVisible()
    assert edit_window.actions.publish.isEnabled()
    assert edit_window.windowTitle() == "Curator — own.sqlite"


def test_a_lost_connection_stops_the_list_reading_until_it_is_back(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path
) -> None:
    """While the server is away, rows not yet read stay blank (no GUI-thread connect attempt per page)."""
    window = _window(qtbot, Store(pg_cluster.url(team_db)), settings, tmp_path)
    team = window.team_library
    try:
        team.stop()
        model = window.model
        model.page_size = 10  # several pages over the few cards
        model.reload()
        team.lost()
        assert model.offline and team.banner.isVisible()
        assert model.card_at(0) is not None  # a held page still shows
        assert model.card_at(model.total - 1) is None  # a page not held is not read
        team.probe()  # the server answers (SyncPool: inline): back, and the list reads again
        assert not team.connection_lost and not model.offline and not team.banner.isVisible()
        assert model.card_at(model.total - 1) is not None
    finally:
        _stop(window)


def test_start_up_asks_for_a_missing_password_and_keeps_it_out_of_settings(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, tmp_path: Path, no_password_env: Path,
    monkeypatch: pytest.MonkeyPatch, sync_tasks: None,
) -> None:  # fmt: skip
    settings = Settings.from_file(tmp_path / "settings.ini")
    remembered = f"postgresql://{ADMIN}@127.0.0.1:{pg_cluster.port}/{team_db}"
    asked: list[bool] = []
    answers = iter(["wrong", pg_cluster.password])

    def ask(_parent, request):  # type: ignore[no-untyped-def]
        asked.append(request.failed)
        return next(answers)

    monkeypatch.setattr(team_connect, "ask_password", ask)
    window = gui_app.open_window(paths.library_to_open(None, remembered), settings)
    assert window is not None
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    try:
        assert asked == [False, True]  # none found, then the wrong one refused
        assert window.model.total == SEED_FILES
        assert window.team_library.feed is not None
        qtbot.waitUntil(lambda: window.team_library.feed.connected, timeout=5000)  # the feed has it too
        window.close()
        settings.sync()
        assert pg_cluster.password not in (tmp_path / "settings.ini").read_text(encoding="utf-8")
        monkeypatch.setattr(team_connect, "ask_password", lambda _p, _r: None)  # the editor cancels
        assert gui_app.open_window(remembered, settings) is None
    finally:
        _stop(window)


def test_a_publish_from_another_process_and_a_new_card_show_up(  # type: ignore[no-untyped-def]
    qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path,
    team_template: tuple[str, Path],
) -> None:  # fmt: skip
    import subprocess
    import sys

    url = pg_cluster.url(team_db)
    window = _window(qtbot, Store(url), settings, tmp_path)
    try:
        feed = window.team_library.feed
        assert feed is not None
        qtbot.waitUntil(lambda: feed.connected, timeout=5000)
        model = window.model
        target = next(r for r in (model.card_at(i) for i in range(model.total)) if r and not r.published)
        assert window.selection.select_card(target.id)
        done = subprocess.run(
            [sys.executable, "-m", "curator", "--db", url, "set", "--id", str(target.id), "published=true"],
            check=False, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        qtbot.waitUntil(lambda: model.card_at(model.row_of(target.id)).published is True, timeout=2000)
        assert window.selection.current_id() == target.id

        # Another editor imports a card: the list grows (a re-query), the card in hand stays.
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "new.txt").write_text(
            '---\ntitle: "Breaking: a card from elsewhere"\n---\n', encoding="utf-8"
        )
        other = Store(url)
        assert import_paths(other, [extra], workers=1).added == 1
        other.close()
        qtbot.waitUntil(lambda: model.total == SEED_FILES + 1, timeout=2000)
        assert window.selection.current_id() == target.id
        assert window.status_line.shown_label.text().endswith(f"of {SEED_FILES + 1} cards")
    finally:
        _stop(window)
