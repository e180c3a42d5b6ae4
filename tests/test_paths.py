"""One library for both faces: curator.paths decides every data path, the CLI and the GUI follow it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from curator import paths

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def _fresh_home_env(home: Path) -> dict[str, str]:
    """The environment of a new user: HOME is `home`, no XDG_* folders, no Curator overrides."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XDG_") and k not in ("CURATOR_DB", "CURATOR_HOME", "CURATOR_FIRST_PAINT_REPORT")
    }
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return env


def _curator(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "curator", *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_cli_import_then_gui_open_the_same_single_library(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cards = home / "cards"
    shutil.copytree(SEEDS / "2019-07", cards)
    count = sum(1 for _ in cards.iterdir())
    env = _fresh_home_env(home)

    imported = _curator(env, "import", str(cards))
    assert imported.returncode == 0, imported.stderr

    report = tmp_path / "first-paint.json"
    shown = _curator({**env, "CURATOR_FIRST_PAINT_REPORT": str(report)}, "gui")
    assert shown.returncode == 0, shown.stderr
    libraries = sorted(p for p in home.rglob("*.sqlite"))
    assert libraries == [home / ".local" / "share" / "Curator" / "library.sqlite"]
    # The GUI showed the cards the CLI imported, and remembered that library in its one settings file.
    painted = json.loads(report.read_text(encoding="utf-8"))
    assert painted["rows"] == count
    settings = (home / ".config" / "Curator" / "settings.ini").read_text(encoding="utf-8")
    assert f"last={libraries[0]}" in settings


def test_gui_reopens_its_last_library_and_falls_back_when_it_vanished(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = _fresh_home_env(home)
    other = tmp_path / "elsewhere" / "team.sqlite"
    cards = home / "cards"
    shutil.copytree(SEEDS / "2019-08", cards)
    assert _curator(env, "--db", str(other), "import", str(cards)).returncode == 0

    report = tmp_path / "first-paint.json"
    probe = {**env, "CURATOR_FIRST_PAINT_REPORT": str(report)}
    assert _curator(probe, "gui", "--db", str(other)).returncode == 0
    report.unlink()
    # No --db: the last library, not the (empty) default one.
    assert _curator(probe, "gui").returncode == 0
    assert json.loads(report.read_text(encoding="utf-8"))["rows"] == sum(1 for _ in cards.iterdir())
    assert not (home / ".local" / "share" / "Curator" / "library.sqlite").exists()


def test_settings_of_an_earlier_version_are_carried_over(tmp_path: Path) -> None:
    """Native QSettings (~/.config/Curator/Curator.conf on Linux) are copied into settings.ini once."""
    home = tmp_path / "home"
    home.mkdir()
    script = (
        "from PySide6.QtCore import QSettings\n"
        "from curator.gui import app\n"
        "old = QSettings('Curator', 'Curator'); old.setValue('library/last', '/old/lib.sqlite'); old.sync()\n"
        "print(app.open_settings().backend.value('library/last'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=_fresh_home_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "/old/lib.sqlite"
    assert "/old/lib.sqlite" in (home / ".config" / "Curator" / "settings.ini").read_text(encoding="utf-8")


@pytest.fixture
def fresh_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process as a new user: HOME in tmp_path, no XDG_* folders, no Curator overrides."""
    for name in [k for k in os.environ if k.startswith("XDG_")] + ["CURATOR_DB", "CURATOR_HOME"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG layout is Linux's")
def test_every_folder_is_under_the_one_application_name(fresh_user: Path) -> None:
    assert paths.default_library() == fresh_user / ".local/share/Curator/library.sqlite"
    assert paths.cache_dir() == fresh_user / ".cache/Curator"
    assert paths.settings_file() == fresh_user / ".config/Curator/settings.ini"
    assert paths.log_file() == fresh_user / ".local/state/Curator/log/curator.log"
    assert paths.samples_dir().parent == paths.data_dir()
    assert not paths.relocated()


def test_curator_home_moves_every_folder(fresh_user: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATOR_HOME", str(fresh_user / "portable"))
    found = [paths.data_dir(), paths.cache_dir(), paths.log_dir(), paths.config_dir()]
    assert all(p.parent == fresh_user / "portable" for p in found) and len(set(found)) == 4
    assert paths.default_library() == fresh_user / "portable" / "data" / paths.LIBRARY_FILE
    assert paths.relocated()


def test_library_to_open_precedence(fresh_user: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    last = fresh_user / "last.sqlite"
    default = paths.data_dir() / paths.LIBRARY_FILE
    assert paths.library_to_open(None, str(last)) == default  # the last library vanished: not recreated
    last.touch()
    assert paths.library_to_open(None, str(last)) == last
    assert paths.library_to_open(str(fresh_user / "given.sqlite"), str(last)) == fresh_user / "given.sqlite"
    monkeypatch.setenv("CURATOR_DB", str(fresh_user / "env.sqlite"))
    assert paths.library_to_open(None, str(last)) == fresh_user / "env.sqlite"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the folders differ only in case on Linux")
def test_a_library_the_old_cli_made_is_used_in_place(fresh_user: Path) -> None:
    legacy = fresh_user / ".local/share/curator/library.sqlite"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    assert paths.default_library() == legacy
    # Once the new place holds a library, it wins.
    new = fresh_user / ".local/share/Curator/library.sqlite"
    new.parent.mkdir(parents=True)
    new.write_bytes(b"")
    assert paths.default_library() == new


def test_cli_default_db_is_the_paths_default(fresh_user: Path) -> None:
    from curator.cli import default_db

    assert default_db() == paths.default_library()
    assert paths.default_library().parent.is_dir()
