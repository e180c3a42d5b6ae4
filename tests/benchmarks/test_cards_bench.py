"""Reading and writing single cards at 10k: cards.read_card and writeback.write_changes against their floors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import harness
import pytest

pytestmark = pytest.mark.benchmark
N = 10_000  # these two measure per-file code, so they stay at 10k whatever CURATOR_BENCH_N says


@pytest.fixture(scope="module")
def ten_k() -> list[str]:
    paths = harness.card_paths(harness.dataset(N))
    assert len(paths) == N
    return paths


def test_read_10k_vs_compose_floor(ten_k: list[str]) -> None:
    from curator.core import cards

    def read_all() -> None:
        for path in ten_k:
            cards.read_card(path)

    t, floor = harness.measure_pair(read_all, harness.compose_floor(ten_k))
    harness.record("cards.read_card (parse + sha256 + checks, medians)", N, t.median, floor.median, "≤ 1.5x")
    assert t.median <= 1.5 * floor.median


def test_edit_and_write_10k_vs_write_floor(ten_k: list[str], tmp_path: Path) -> None:
    from curator.core import cards, writeback

    work = tmp_path / "cards"
    jobs: list[tuple[str, cards.FileState, dict[str, object]]] = []

    def fresh_copy() -> None:
        # Untimed: a pristine copy and the base states the edits were made against.
        shutil.rmtree(work, ignore_errors=True)
        harness.copy_dataset(N, work)
        jobs.clear()
        for path in harness.card_paths(work):
            card, _ = cards.read_card(path)
            old = card.data.get("quality")
            jobs.append((path, card.state, {"quality": 0 if old != 0 else 1}))

    def write_all() -> None:
        # As Store.write does: no folder fsync per file, one per folder at the end.
        folders = set()
        for path, base, changes in jobs:
            outcome = writeback.write_changes(path, base, changes, sync_dir=False)
            assert outcome.status == "written"
            folders.add(os.path.dirname(path))
        for folder in folders:
            writeback.fsync_dir(folder)

    t, floor = harness.measure_pair(write_all, harness.write_floor(ten_k, tmp_path / "floor"), 3, fresh_copy)
    harness.record("writeback.write_changes (one value per card, medians)", N, t.median, floor.median, "≤ 1.5x")
    assert t.median <= 1.5 * floor.median
