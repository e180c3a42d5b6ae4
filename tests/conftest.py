"""Test-wide set-up: no network but this machine, Qt runs offscreen, tests find the shared data folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import netguard
import pytest

# The session's throwaway PostgreSQL cluster (fixtures pg_cluster, pg_url).
pytest_plugins = ["pgserver"]

# Tests never reach the internet (seed cards name real image hosts): Python sockets and Qt's network access
# reach only 127.0.0.1, ::1 and localhost, in this process and (sockets) in every Python child it starts.
netguard.install_sockets()
netguard.install_qt()
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(netguard.SITE_DIR), os.environ.get("PYTHONPATH")])
)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Undo the Qt guard before the interpreter exits (see netguard.uninstall_qt: else a segfault)."""
    netguard.uninstall_qt()

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
# shared/ sits beside the project folder (in CI: beside the fresh clone).
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
EXAMPLE_CARD = SEEDS / "000_63d795e8c7832238.txt"


@pytest.fixture
def example_card(tmp_path: Path) -> Path:
    """A writable copy of the real example card."""
    target = tmp_path / EXAMPLE_CARD.name
    shutil.copyfile(EXAMPLE_CARD, target)
    return target


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of ../shared/corpora (skips when the corpora are not beside the project)."""
    if not CORPORA.is_dir():
        pytest.skip(f"corpora not found at {CORPORA}")
    target = tmp_path / "corpora"
    # copyfile, not copy2: shared/ is read-only and the copies must be writable like real folders.
    shutil.copytree(CORPORA, target, copy_function=shutil.copyfile)
    return target


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): the test checks the SQLite file itself; it runs on SQLite alone"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the PostgreSQL run of a ``sqlite_only`` test (left out, not skipped: under CI a skip fails)."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg = callspec is not None and callspec.params.get("library_url") == "postgresql"
        (dropped if on_pg and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def library_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's library lives, once per backend: a fresh SQLite file, then a fresh PostgreSQL database.

    Without a PostgreSQL server the second run is skipped, except under ``CI=true``, where ``pg_cluster``
    fails instead (CI never goes green by skipping the team backend).
    """
    if request.param == "sqlite":
        return str(tmp_path / "lib.sqlite")
    return str(request.getfixturevalue("pg_url"))
