"""GUI test fixtures: a real library file made by importing the real seed cards, settings in an INI file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import plain, workers
from curator.gui.images import ImageCache
from curator.gui.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture(scope="session")
def seeded_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library file holding every seed card (imported once per session from a copy of seeds/)."""
    root = tmp_path_factory.mktemp("seeded")
    cards = root / "cards"
    shutil.copytree(SEEDS, cards)
    db = root / "library.sqlite"
    store = Store(db)
    report = import_paths(store, [cards], workers=1)
    assert report.failed == 0 and report.added > 300
    store.close()
    return db


@pytest.fixture
def store(seeded_library: Path, tmp_path: Path) -> Iterator[Store]:
    """A writable copy of the seeded library, opened."""
    db = tmp_path / "library.sqlite"
    shutil.copyfile(seeded_library, db)
    opened = Store(db)
    yield opened
    opened.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in an INI file inside the test's folder (never the user's real settings)."""
    return Settings.from_file(tmp_path / "settings.ini")


@pytest.fixture
def images(qapp, tmp_path: Path) -> ImageCache:  # type: ignore[no-untyped-def]
    """An image cache with its disk cache in the test's folder and a short timeout."""
    return ImageCache(tmp_path / "image-cache", timeout_ms=3000)


@pytest.fixture
def sync_pool() -> Iterator[workers.SyncPool]:
    """Run every background task inline for the duration of the test."""
    pool = workers.SyncPool()
    workers.set_default_pool(pool)
    yield pool
    workers.set_default_pool(None)


@pytest.fixture
def own_library(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    """A library over this test's own copy of the seed cards (tests that write files use it)."""
    cards = tmp_path / "cards"
    shutil.copytree(SEEDS, cards)
    store = Store(tmp_path / "own.sqlite")
    report = import_paths(store, [cards], workers=1)
    assert report.failed == 0
    yield store, cards
    store.close()


@pytest.fixture
def edit_window(qtbot, own_library: tuple[Store, Path], settings: Settings, images: ImageCache):  # type: ignore[no-untyped-def]
    """A shown main window over `own_library`, tasks inline, links recorded instead of opened."""
    from curator.gui.views.main_window import MainWindow

    store, _cards = own_library
    window = MainWindow(store, settings, images=images, pool=workers.SyncPool())
    window.import_workers = 1
    opened: list[str] = []
    window.detail.opener = opened.append
    window.opened = opened  # type: ignore[attr-defined]
    # Closing (also pytest-qt's at teardown) must never block on the modal prompt; tests of the
    # prompt set their own answer.
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[QMessageBox]:
    """Every message box the window shows (through plain.show), answered at once with OK."""
    shown: list[QMessageBox] = []

    def show(box: QMessageBox) -> int:
        shown.append(box)
        return int(QMessageBox.StandardButton.Ok)

    monkeypatch.setattr(plain, "show", show)
    return shown
