"""The checks index in a child process (what the desktop app does): the same answers as in-process, the
index never in the caller's memory, the library's own errors raised as they are, a dead child restarted."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import store_checks
from curator.core.importer import import_paths
from curator.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("service")
    shutil.copytree(ROOT / "seeds", where / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    with Store(where / "lib.sqlite") as store:
        import_paths(store, [where / "seeds"])
    return where


@pytest.fixture
def pair(seeded: Path, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two copies of the seeds' library: one served by a checks process, one checked in-process."""
    for name in ("served", "local"):
        shutil.copy(seeded / "lib.sqlite", tmp_path / f"{name}.sqlite")
    served, local = Store(tmp_path / "served.sqlite"), Store(tmp_path / "local.sqlite")
    service = served.checks_process()
    yield served, local
    service.close()
    served.close()
    local.close()


def test_answers_equal_the_in_process_ones_and_the_index_stays_in_the_child(pair: tuple[Store, Store]) -> None:
    served, local = pair
    service = store_checks._SERVICES[served]
    report = served.refresh_checks()
    assert report.rebuilt and service.pid is not None and service.pid != os.getpid()
    assert local.refresh_checks().rebuilt
    assert served.duplicate_groups() == local.duplicate_groups() != []  # saved by the child, read here
    assert store_checks._CACHE.get(served) is None  # no index in this process
    asked = 0
    for card_id in served.ids():
        expected = local.suggest_related(card_id, 5)
        assert served.suggest_related(card_id, 5) == expected
        assert store_checks.suggest_held(served, card_id, 5) == expected
        asked += bool(expected)
        if asked >= 12:
            break
    assert asked >= 12  # the comparison ran over cards that have suggestions
    assert store_checks._CACHE.get(served) is None
    with pytest.raises(KeyError):  # the child's exception, as it was
        served.suggest_related(10**9, 5)
    assert not served.refresh_checks().rebuilt  # the child keeps its index between requests


def test_a_child_that_died_is_started_again(pair: tuple[Store, Store]) -> None:
    served, _ = pair
    service = store_checks._SERVICES[served]
    served.refresh_checks()
    pid = service.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    cid = served.ids()[0]
    assert isinstance(served.suggest_related(cid, 3), list)  # a new child, the index loaded from the library
    assert service.started == 2 and service.pid not in (None, pid)


def test_closing_the_service_stops_the_child_and_serve_from_none_brings_the_index_back(pair: tuple[Store, Store]) -> None:
    served, _ = pair
    service = store_checks._SERVICES[served]
    served.refresh_checks()
    pid = service.pid
    service.close()
    assert service.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # type: ignore[arg-type]
    store_checks.serve_from(served, None)
    assert not served.refresh_checks().rebuilt and store_checks._CACHE.get(served) is not None
