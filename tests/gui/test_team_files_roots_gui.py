"""The root map preference: the app opens a library with this editor's mounts (settings.ROOT_MAP)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import app as gui_app
from curator.gui import settings as keys
from curator.gui import workers
from curator.gui.settings import Settings


@pytest.fixture
def sync_tasks() -> Iterator[None]:
    workers.set_default_pool(workers.SyncPool())
    yield
    workers.set_default_pool(None)


@pytest.fixture
def mounted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """A library imported from mountA, and mountB holding the same files."""
    monkeypatch.delenv("CURATOR_ROOT_MAP", raising=False)
    mount_a, mount_b = tmp_path / "X" / "mountA", tmp_path / "X" / "mountB"
    (mount_a / "sub").mkdir(parents=True)
    (mount_a / "a.yaml").write_text("title: Alpha\n", encoding="utf-8")
    (mount_a / "sub" / "b.yaml").write_text("title: Beta\n", encoding="utf-8")
    db = tmp_path / "library.sqlite"
    with Store(db) as store:
        assert import_paths(store, [mount_a]).added == 2
    shutil.copytree(mount_a, mount_b)
    return db, mount_a, mount_b


def test_the_window_sees_this_editors_mount(qtbot, tmp_path: Path, mounted, sync_tasks) -> None:  # type: ignore[no-untyped-def]
    db, mount_a, mount_b = mounted
    settings = Settings.from_file(tmp_path / "settings.ini")
    settings.set_value(keys.ROOT_MAP, [f"{mount_a}={mount_b}"])
    window = gui_app.open_window(db, settings)
    assert window is not None
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    try:
        assert sorted(r.path for r in window.store.rows()) == [str(mount_b / "a.yaml"), str(mount_b / "sub" / "b.yaml")]
        assert window.store.card_folders() == [str(mount_b), str(mount_b / "sub")]  # what the watcher watches
    finally:
        window.close()


def test_a_bad_preference_is_said_and_opens_nothing(qtbot, tmp_path: Path, mounted, boxes) -> None:  # type: ignore[no-untyped-def]
    db, _, _ = mounted
    settings = Settings.from_file(tmp_path / "settings.ini")
    settings.set_value(keys.ROOT_MAP, ["9=/mnt/news"])
    assert gui_app.open_window(db, settings) is None
    [box] = boxes
    assert box.text().startswith("Cannot open the library:\nno root '9' in this library (its roots: 1 mountA (")
