"""The Store over a real library file: opening, queries, facets, totals, threads, and writing files."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.query import QueryError
from curator.core.store import LibraryError, Store

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_63d795e8c7832238.txt"


def make(folder: Path, name: str, **values: object) -> Path:
    lines = ["---"] + [f"{k}: {v}" for k, v in values.items()] + ["---", ""]
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def lib(tmp_path: Path, library_url: str) -> Iterator[Store]:
    cards = tmp_path / "cards"
    cards.mkdir()
    shutil.copyfile(SEED, cards / SEED.name)
    make(cards, "a.md", title="Rockets to the Moon", category="science", quality=80, published="true",
         topics="[Space, Rockets]", provider="{name: Ars, domain: ars.example}")
    make(cards, "b.md", title="Quiet week", category="news", quality=20, heat=5, topics="[AI]")
    make(cards, "c.md", title="Broken numbers", category="news", quality="high")
    store = Store(library_url)
    import_paths(store, [cards])
    yield store
    store.close()


def ids_of(store: Store, query: str | None = None) -> set[str]:
    return {Path(r.path).name for r in store.rows(query)}


def test_not_a_library_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError):
        Store(bogus)


def test_queries_sorting_and_paging(lib: Store) -> None:
    assert ids_of(lib) == {SEED.name, "a.md", "b.md", "c.md"}
    assert ids_of(lib, "category:news") == {SEED.name, "b.md", "c.md"}
    assert ids_of(lib, "quality>=50") == {SEED.name, "a.md"}
    assert ids_of(lib, "moon") == {"a.md"}
    assert ids_of(lib, "topic:space OR topic:ai") == {SEED.name, "a.md", "b.md"}
    assert ids_of(lib, "published:false") == {SEED.name, "b.md", "c.md"}
    assert lib.count("problems:true") == 2  # c.md's quality, the seed's mojibake
    titles = [r.title for r in lib.rows(sort=[("quality", True)], limit=2)]
    assert titles[0] == "Rockets to the Moon" and len(titles) == 2
    page = lib.rows(sort=[("quality", True)], offset=1, limit=1)
    assert [r.title for r in page] == titles[1:]
    assert lib.ids("category:news", sort=[("title", False)]) == [r.id for r in lib.rows("category:news", sort=[("title", False)])]
    with pytest.raises(QueryError):
        lib.rows("(unclosed")


def test_rows_by_id_keeps_the_asked_order(lib: Store) -> None:
    ids = lib.ids()
    wanted = [ids[2], ids[0], 99999, ids[1]]
    assert [r.id for r in lib.rows_by_id(wanted)] == [ids[2], ids[0], ids[1]]


def test_facets_under_a_query(lib: Store) -> None:
    everything = lib.facets()
    assert everything.status == {"all": 4, "unpublished": 3, "published": 1, "changed": 0, "problems": 2,
                                 "conflicts": 0, "missing": 0}
    assert everything.categories == [("news", 3), ("science", 1)]
    assert dict(everything.topics) == {"AI": 2, "Computer Vision": 1, "Space": 1, "Rockets": 1}
    news = lib.facets("category:news", limit=1)
    assert news.status["all"] == 3 and news.topics == [("AI", 2)] and len(news.providers) == 1
    lib.set_fields(lib.ids("category:news"), {"published": True}, label="publish news")
    assert lib.facets().status["changed"] == 3 and lib.facets().status["published"] == 4


def test_values_totals_and_problems(lib: Store) -> None:
    assert lib.values("category") == ["news", "science"]
    assert lib.values("provider") == ["Ars", "Deutsche Welle"]
    assert lib.values("topics") == ["AI", "Computer Vision", "Rockets", "Space"]
    with pytest.raises(ValueError):
        lib.values("secured")
    totals = lib.totals()
    assert (totals.cards, totals.dirty, totals.problems) == (4, 0, 2)
    problems = lib.problems("category:news")
    assert {(Path(p.path).name, p.field.split("[")[0]) for p in problems} >= {("c.md", "quality")}


def test_detail_shows_current_values_and_pending(lib: Store) -> None:
    [cid] = lib.ids("moon")
    lib.set_fields([cid], {"quality": 81}, label="q")
    detail = lib.detail(cid)
    assert detail.quality == 81 and detail.data["quality"] == 81 and detail.pending == {"quality": (80, 81)}
    assert detail.provider == "Ars" and lib.detail(424242) is None


def test_worker_thread_edits_beside_the_gui_thread(lib: Store) -> None:
    results: dict[str, object] = {}

    def work() -> None:
        results["count"] = lib.count()
        results["edit"] = lib.add_topic(lib.ids("category:news"), "Weekly", label="from a worker")
        lib.close()  # the worker's own connection; this thread's stays open

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert results["count"] == 4 and len(results["edit"].changed) == 3
    assert ("Weekly", 3) in lib.facets().topics


def test_two_libraries_used_at_the_same_moment_from_two_threads(tmp_path: Path, lib: Store) -> None:
    """Models are bound per Store: two threads, each on its own library, interleave every call."""
    other_cards = tmp_path / "other-cards"
    other_cards.mkdir()
    for i in range(7):
        make(other_cards, f"o{i}.md", title=f"Other {i}", category="sport", quality=i, topics="[Football]")
    other = Store(tmp_path / "other.sqlite")
    import_paths(other, [other_cards])
    turn = threading.Barrier(2, timeout=10)
    seen: dict[str, list[tuple[int, int, list[str]]]] = {"lib": [], "other": []}
    errors: list[BaseException] = []

    def use(name: str, store: Store, topic: str) -> None:
        try:
            for step in range(20):
                turn.wait()  # both threads are inside the same step: the calls really overlap
                ids = store.ids()
                store.set_fields(ids[:1], {"heat": step}, label=f"{name} {step}")
                topics = [t for t, _ in store.facets().topics]
                seen[name].append((store.count(), store.rows_by_id(ids[:1])[0].heat or 0, topics))
                turn.wait()
                assert topic in topics
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(e)
            turn.abort()
        finally:
            store.close()

    threads = [threading.Thread(target=use, args=("lib", lib, "Space")),
               threading.Thread(target=use, args=("other", other, "Football"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert not errors, errors
    assert [(n, h) for n, h, _ in seen["lib"]] == [(4, step) for step in range(20)]
    assert [(n, h) for n, h, _ in seen["other"]] == [(7, step) for step in range(20)]
    assert all("Football" not in topics for _, _, topics in seen["lib"])
    assert all("Space" not in topics for _, _, topics in seen["other"])


def test_several_libraries_one_after_another(tmp_path: Path, lib: Store) -> None:
    other = Store(tmp_path / "other.sqlite")
    assert other.count() == 0
    assert lib.count() == 4  # the proxy follows the Store in use
    assert other.facets().status["all"] == 0 and lib.facets().status["all"] == 4
    other.close()


# -- write ------------------------------------------------------------------------------------------------

def test_write_success_is_a_minimal_change_and_cleans(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    before = path.read_text(encoding="utf-8")
    lib.set_fields([cid], {"quality": 81}, label="q")
    dry = lib.write(dry_run=True)
    assert [(Path(p).name, old.decode(), new.decode()) for p, old, new in dry.diffs] == [
        ("a.md", before, before.replace("quality: 80", "quality: 81"))]
    assert path.read_text(encoding="utf-8") == before and lib.totals().dirty == 1
    seen: list[tuple[int, int]] = []
    report = lib.write(progress=lambda d, t: seen.append((d, t)))
    assert (report.written, report.conflicts, report.failed) == (1, [], []) and seen == [(1, 1)]
    assert path.read_text(encoding="utf-8") == before.replace("quality: 80", "quality: 81")
    row = lib.rows_by_id([cid])[0]
    assert not row.dirty and row.quality == 81 and lib.pending(cid) == {}
    assert lib.backend.card_columns(cid, ["size", "mtime_ns"]) == (path.stat().st_size, path.stat().st_mtime_ns)
    assert import_paths(lib, [path.parent]).unchanged == 4  # the library knows the new bytes
    assert not [p for p in os.listdir(path.parent) if p.startswith(".")]


def test_write_conflict_keeps_the_edits(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    lib.set_fields([cid], {"quality": 81}, label="q")
    path.write_text(path.read_text(encoding="utf-8").replace("Rockets to the Moon", "Changed"), encoding="utf-8")
    report = lib.write()
    assert [Path(c["path"]).name for c in report.conflicts] == ["a.md"] and report.written == 0
    row = lib.rows_by_id([cid])[0]
    assert row.conflict and row.dirty and lib.pending(cid) == {"quality": (80, 81)}
    assert "Changed" in path.read_text(encoding="utf-8")


def test_write_failure_keeps_the_edits(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    lib.set_fields([cid], {"quality": 81}, label="q")
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        report = lib.write()
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert [Path(f["path"]).name for f in report.failed] == ["a.md"] and report.written == 0
    assert lib.rows_by_id([cid])[0].dirty and not lib.rows_by_id([cid])[0].conflict
    assert "quality: 80" in path.read_text(encoding="utf-8")


def test_write_already_done_is_clean(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    lib.set_fields([cid], {"quality": 81}, label="q")
    # An earlier write got as far as the rename, then the process died before the library heard of it.
    path.write_text(path.read_text(encoding="utf-8").replace("quality: 80", "quality: 81"), encoding="utf-8")
    report = lib.write()
    assert (report.already, report.written, report.conflicts) == (1, 0, [])
    assert not lib.rows_by_id([cid])[0].dirty and lib.rows_by_id([cid])[0].quality == 81


def test_write_only_the_given_ids_and_cancel(lib: Store) -> None:
    ids = lib.ids("category:news")
    lib.set_fields(ids, {"heat": 50}, label="heat")
    report = lib.write(ids=[ids[0]])
    assert report.written == 1 and lib.totals().dirty == 2
    report = lib.write(cancel=lambda: True)
    assert report.cancelled and report.written == 0 and lib.totals().dirty == 2


def test_write_removes_stale_temp_files(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    stale = path.parent / ".a.md.curator-tmp-12345"
    stale.write_text("left over", encoding="utf-8")
    old = path.stat().st_mtime - 3600 * 24
    os.utime(stale, (old, old))
    lib.set_fields([cid], {"quality": 81}, label="q")
    lib.write()
    assert not stale.exists()


def test_missing_file_is_reported_failed_on_write(lib: Store) -> None:
    [cid] = lib.ids("moon")
    path = Path(lib.rows_by_id([cid])[0].path)
    lib.set_fields([cid], {"quality": 81}, label="q")
    path.unlink()
    import_paths(lib, [path.parent])
    report = lib.write()
    assert report.failed == [{"path": str(path), "reason": "the file is missing"}]


def test_bulk_write_in_batches_leaves_the_library_as_a_fresh_import_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curator.core import store_write

    monkeypatch.setattr(store_write, "TAKE_BACK_BATCH", 3)  # several take-back transactions
    cards = tmp_path / "cards"
    for sub in ("x", "y"):
        (cards / sub).mkdir(parents=True)
        for i in range(7):
            make(cards / sub, f"c{i}.md", title=f"Card {sub}{i}", quality=i, topics="[AI]", extra="kept")
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        ids = store.ids()
        store.set_fields(ids[::2], {"quality": 99, "published": True}, label="q")
        store.add_topic(ids, "Space", label="t")
        store.set_fields(ids[:2], {"heat": None}, label="no heat")  # a removal that changes nothing
        seen: list[int] = []
        report = store.write(progress=lambda done, total: seen.append(done))
        assert (report.written, report.conflicts, report.failed) == (14, [], [])
        assert seen == list(range(1, 15)) and store.totals().dirty == 0
        with Store(tmp_path / "fresh.sqlite") as fresh:  # the same files imported from scratch
            import_paths(fresh, [cards])
            for cid in ids:
                path = store.rows_by_id([cid])[0].path
                [twin] = [r for r in fresh.rows() if r.path == path]
                mine = store.rows_by_id([cid])[0]
                assert {**mine.__dict__, "id": 0} == {**twin.__dict__, "id": 0}
                assert store.current_data(cid) == fresh.current_data(twin.id)
                fingerprint = ["size", "mtime_ns", "sha256"]
                assert store.backend.card_columns(cid, fingerprint) == fresh.backend.card_columns(twin.id, fingerprint)
        assert import_paths(store, [cards]).unchanged == 14
        assert not [p for p in cards.rglob(".*")]  # no temp file left behind


@pytest.mark.parametrize("pool", [False, True], ids=["threads", "processes"])
def test_bulk_write_reports_every_outcome_in_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        pool: bool) -> None:
    from curator.core import store_write

    if pool:  # the worker-process path, on a handful of files
        monkeypatch.setattr(store_write, "POOL_THRESHOLD", 2)
        monkeypatch.setattr(store_write, "POOL_CHUNK", 3)
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(9):
        make(cards, f"c{i}.md", title=f"Card {i}", quality=i)
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        by_name = {Path(r.path).name: r.id for r in store.rows()}
        store.set_fields(list(by_name.values()), {"quality": 50, "heat": 7}, label="bulk")
        make(cards, "c2.md", title="Changed outside", quality=2)  # a conflict
        os.chmod(cards / "c4.md", stat.S_IRUSR)  # a failure (not writable)
        (cards / "c6.md").unlink()
        import_paths(store, [cards])  # c6 is now missing (kept for its edits); c2 a conflict
        dry = store.write(dry_run=True)
        written = ["c0.md", "c1.md", "c3.md", "c5.md", "c7.md", "c8.md"]
        assert [Path(p).name for p, _, _ in dry.diffs] == written
        assert all(b"quality: 50" in new and b"heat: 7" in new for _, _, new in dry.diffs)
        assert store.totals().dirty == 9 and not dry.written
        seen: list[int] = []
        report = store.write(progress=lambda done, total: seen.append(done))
        assert report.written == 6 and seen == list(range(1, 10))
        assert [Path(c["path"]).name for c in report.conflicts] == ["c2.md"]
        failed = [(Path(f["path"]).name, f["reason"]) for f in report.failed]
        assert [name for name, _ in failed] == ["c4.md", "c6.md"]  # read-only bits are refused, even for root
        assert failed[-1] == ("c6.md", "the file is missing")
        clean = {name for name in by_name if not store.rows_by_id([by_name[name]])[0].dirty}
        assert clean == set(written)
        assert b"quality: 50" in (cards / "c0.md").read_bytes()
        assert import_paths(store, [cards]).updated == 0  # the library knows the written bytes


def test_a_broken_worker_pool_still_writes_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from curator.core import store_write

    def dying_pool(count: int) -> store_write._Pool:
        # Every worker exits as it starts: the pool breaks under the write.
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=os._exit, initargs=(3,))
        return store_write._Pool(pool, 1, threading.Event(), True)

    monkeypatch.setattr(store_write, "_executor", dying_pool)
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(12):  # more tasks than are kept in flight: later ones are submitted to the broken pool
        make(cards, f"c{i}.md", title=f"Card {i}", quality=i)
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        store.set_fields(store.ids(), {"quality": 60}, label="q")
        report = store.write()
        assert (report.written, report.conflicts, report.failed) == (12, [], [])
        assert store.totals().dirty == 0 and all(b"quality: 60" in p.read_bytes() for p in cards.iterdir())


def _consistent_after_cancel(store: Store, cards: Path, edited: bytes, originals: dict[str, bytes]) -> int:
    """Every card is either written (clean, its file edited) or pending (its file untouched); a rescan
    finds nothing new. Returns how many were written."""
    written = 0
    for row in store.rows():
        data = Path(row.path).read_bytes()
        if row.dirty:
            assert data == originals[row.path] and store.pending(row.id), row.path
        else:
            assert edited in data and not store.pending(row.id), row.path
            written += 1
    assert not [p for p in cards.rglob(".*")]  # no temp file left behind
    rescan = import_paths(store, [cards])
    assert (rescan.updated, rescan.conflicts, rescan.unchanged) == (0, [], len(originals))
    return written


def test_cancel_while_files_are_written_lets_only_those_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curator.core import store_write, writeback

    real_executor, real_write = store_write._executor, writeback.write_changes
    pools: list[store_write._Pool] = []
    pressed = threading.Event()  # the editor's Cancel button
    started: list[str] = []
    lock = threading.Lock()

    def executor(count: int) -> store_write._Pool:
        pools.append(real_executor(count))
        return pools[-1]

    def slow_write(path: str, *args: object, **kwargs: object) -> writeback.WriteOutcome:
        # Every worker thread is busy with a file when Cancel is pressed; each file waits until the
        # write has noticed it (while the main thread waits for the first file), then completes.
        with lock:
            started.append(path)
            if len(started) == store_write.WRITE_THREADS:
                pressed.set()
        assert pools[0].stop.wait(10), "the write never noticed the cancel"
        return real_write(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store_write, "_executor", executor)
    monkeypatch.setattr(writeback, "write_changes", slow_write)
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(12):  # threads, one file per task, more tasks than threads
        make(cards, f"c{i:02d}.md", title=f"Card {i}", quality=i)
    originals = {str(p): p.read_bytes() for p in cards.iterdir()}
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        store.set_fields(store.ids(), {"quality": 77}, label="q")
        seen: list[int] = []
        report = store.write(progress=lambda done, total: seen.append(done), cancel=pressed.is_set)
        n = store_write.WRITE_THREADS
        assert report.cancelled and report.written == n and len(started) == n
        assert seen == list(range(1, n + 1))
        assert sorted(Path(p).name for p in started) == [f"c{i:02d}.md" for i in range(n)]  # path order
        assert store.totals().dirty == 12 - n
        assert _consistent_after_cancel(store, cards, b"quality: 77", originals) == n


def test_cancel_after_n_files_on_worker_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.core import store_write

    monkeypatch.setattr(store_write, "POOL_THRESHOLD", 10)
    monkeypatch.setattr(store_write, "POOL_CHUNK", 3)
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(60):
        make(cards, f"c{i:02d}.md", title=f"Card {i}", quality=i % 50)
    originals = {str(p): p.read_bytes() for p in cards.iterdir()}
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        store.set_fields(store.ids(), {"quality": 77}, label="q")
        n, seen = 4, [0]

        def progress(done: int, total: int) -> None:
            seen[0] = done

        report = store.write(progress=progress, cancel=lambda: seen[0] >= n)
        # No task is handed out after the cancel, and tasks already handed out skip their files, so at
        # most the tasks in flight then (the head one and the bounded lead behind it) hold written files.
        in_flight = (2 * store_write.WRITE_THREADS + 1) * store_write.POOL_CHUNK
        assert report.cancelled and n <= report.written <= n + in_flight and not report.failed
        assert _consistent_after_cancel(store, cards, b"quality: 77", originals) == report.written
        assert store.totals().dirty == 60 - report.written
        # The rest is written by the next write, as if nothing had happened.
        again = store.write()
        assert again.written == 60 - report.written and store.totals().dirty == 0


def test_cancelled_workers_skip_their_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.core import cards as cards_mod
    from curator.core import store_write

    monkeypatch.setattr(store_write, "POOL_THRESHOLD", 0)
    path = make(tmp_path, "a.md", title="A card", quality=5)
    before = path.read_bytes()
    card, _ = cards_mod.read_card(str(path))
    job = store_write._Job(str(path), card.state, {"quality": 9}, card.data)  # type: ignore[arg-type]
    for pool in (store_write._executor(1000), store_write._executor(1)):  # processes, then threads
        with pool.executor:
            pool.stop.set()
            args = ([job], False) + (() if pool.shared else (pool.stop,))  # processes hold theirs
            assert pool.executor.submit(store_write._write_jobs, *args).result() == [("skipped",)]
        assert path.read_bytes() == before


def test_an_error_while_settling_stops_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.core import store_write, writeback

    real_executor, real_write = store_write._executor, writeback.write_changes
    real_settle = store_write._settle
    pools: list[store_write._Pool] = []

    def executor(count: int) -> store_write._Pool:
        pools.append(real_executor(count))
        return pools[-1]

    def held_write(path: str, *args: object, **kwargs: object) -> writeback.WriteOutcome:
        # The first file is written at once; the others wait until the write stops its workers.
        if not path.endswith("c00.md"):
            assert pools[0].stop.wait(10), "the workers were never stopped"
        return real_write(path, *args, **kwargs)  # type: ignore[arg-type]

    def failing_settle(*args: object) -> object:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_write, "_executor", executor)
    monkeypatch.setattr(writeback, "write_changes", held_write)
    monkeypatch.setattr(store_write, "_settle", failing_settle)
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(40):
        make(cards, f"c{i:02d}.md", title=f"Card {i}", quality=i)
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        store.set_fields(store.ids(), {"quality": 77}, label="q")
        with pytest.raises(RuntimeError, match="disk full"):
            store.write()
        # Only the files being written when the error came were finished; nothing was recorded.
        on_disk = sum(b"quality: 77" in p.read_bytes() for p in cards.iterdir())
        assert store_write.WRITE_THREADS <= on_disk <= 1 + store_write.WRITE_THREADS
        assert store.totals().dirty == 40
        monkeypatch.setattr(store_write, "_settle", real_settle)
        report = store.write()  # the files that already hold their edits are simply clean
        assert (report.written, report.already) == (40 - on_disk, on_disk) and store.totals().dirty == 0
