"""Moving in (transfer.copy_to_postgresql) and migrating in place, on the real cluster (tests/pgserver.py).

A SQLite library with the seeds, pending edits, an undone batch and a built checks index is copied to a
fresh database; the team library then answers every question as the SQLite one did (rows, searches,
facets, details, pending edits, history, journal, checks), its full text is what a direct import on the
server builds, undo and redo work on the copied history, and new ids follow the copied ones. A target
that is not empty is refused with nothing changed, and a failure half-way leaves the database empty.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from pgserver import PgCluster

from curator.core import schema, store_checks, store_write
from curator.core.backend import pg_schema, transfer
from curator.core.backend.transfer import MigrateError, copy_to_postgresql, plan_columns
from curator.core.importer import import_paths
from curator.core.store import LibraryError, Store

ROOT = Path(__file__).resolve().parents[3]
QUERIES = ("", "moon", "rob*", '"artificial intelligence"', "ai -robot", "category:news OR topic:ai",
           "published:false", "dirty:true", "heat<10", "-quality>=60", "topic:Moved", "Renamed")  # fmt: skip


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    return tmp_path / "seeds"


def _edit(store: Store) -> dict[str, int]:
    """The same edits on any library: pending values, a topic, an undone batch, the checks index."""
    ids = store.ids(sort=(("id", False),))
    first, second, third = ids[0], ids[1], ids[2]
    kept = store.set_fields([first], {"title": "Renamed by the editor", "quality": 91}, label="title")
    topic = store.add_topic([first, second], "Moved", label="topic")
    undone = store.set_fields([third], {"heat": 77}, label="heat")
    assert undone.batch_id is not None
    store.undo(undone.batch_id)
    store.refresh_checks()
    assert kept.batch_id and topic.batch_id
    return {"first": first, "second": second, "third": third, "kept": kept.batch_id, "topic": topic.batch_id,
            "undone": undone.batch_id}  # fmt: skip


@pytest.fixture
def alone(tmp_path: Path, seeds: Path) -> tuple[Path, dict[str, int]]:
    """A SQLite library of the seeds with the edits of :func:`_edit`."""
    path = tmp_path / "alone.sqlite"
    with Store(path) as store:
        import_paths(store, [seeds])
        return path, _edit(store)


def _tables(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def _everything(store: Store) -> dict[str, object]:
    ids = store.ids(sort=(("id", False),))
    return {
        "rows": store.rows(None, sort=(("id", False),)),
        "details": [store.detail(i) for i in ids],
        "pending": [store.pending(i) for i in ids],
        "history": store.history(),
        "journal": store.backend.journal_rows(),
        "groups": store.backend.check_groups(),
        "check_cards": store.backend.check_cards(),
        "arrays": store.backend.check_arrays(),
        "totals": store.totals(),
        "stale": store.checks_stale(),
        "columns": [
            store.backend.card_columns(
                i, ("size", "mtime_ns", "sha256", "dirty", "conflict", "missing", "problems", "version")
            )
            for i in ids
        ],
    }


def test_moving_in_keeps_cards_edits_history_and_checks(
    alone: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    path, edits = alone
    seen: list[tuple[int, int]] = []
    report = copy_to_postgresql(path, pg_url, busy_timeout=5, progress=lambda d, t: seen.append((d, t)))
    with Store(path) as lite, Store(pg_url) as team:
        assert report.count(schema.Card) == lite.count() > 200
        assert report.count(schema.PendingEdit) == 4 and report.count(schema.EditBatch) == 3
        assert report.rows["card_text"] == report.count(schema.Card)
        assert _everything(team) == _everything(lite)
        for query in QUERIES:
            q = query or None
            assert [r.id for r in team.rows(q, sort=(("date", True),))] == [
                r.id for r in lite.rows(q, sort=(("date", True),))
            ], query
            assert team.facets(q) == lite.facets(q), query
        assert team.count("Renamed") == 1 and team.count("topic:Moved") == 2
        for key in (store_checks.THRESHOLDS_KEY, store_checks.GROUPS_KEY, store_write.ROOTS_KEY):
            assert team.backend.get_meta(key) == lite.backend.get_meta(key), key
        assert lite.backend.get_meta(store_checks.GROUPS_KEY) is not None
        assert team.schema_version == pg_schema.PG_SCHEMA_VERSION  # the server's own version, not SQLite's
    assert seen and seen[-1][0] == seen[-1][1] == sum(report.rows[t] for t in report.rows if t != "meta")
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert edits["kept"] < edits["undone"]


def test_the_full_text_is_what_an_import_on_the_server_builds(
    alone: tuple[Path, dict[str, int]], pg_url: str, pg_cluster: PgCluster, seeds: Path
) -> None:
    path, _ = alone
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    direct = pg_cluster.url(pg_cluster.create_database())
    with Store(pg_url) as moved, Store(direct) as imported:
        import_paths(imported, [seeds])
        _edit(imported)  # the same edits, made on the server itself
        by_path = {r.path: r.id for r in imported.rows(None)}
        compared = 0
        for row in moved.rows(None):
            assert moved.backend.fulltext_row(row.id) == imported.backend.fulltext_row(by_path[row.path]), (
                row.path
            )
            compared += 1
        assert compared == moved.count() > 200
        # Related items' titles are indexed as on import (the seeds have some).
        assert any(moved.backend.fulltext_row(r.id)[4] for r in moved.rows(None))


def test_undo_and_redo_work_on_the_moved_history_and_new_ids_follow(
    alone: tuple[Path, dict[str, int]], pg_url: str, tmp_path: Path
) -> None:
    path, edits = alone
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    with Store(pg_url) as team:
        first = edits["first"]
        assert team.current_data(first)["title"] == "Renamed by the editor"
        done = team.undo(edits["kept"])
        assert done.changed == [first]
        file_title = team.file_data(first)["title"]
        assert team.current_data(first)["title"] == file_title != "Renamed by the editor"
        assert "quality" not in team.pending(first)
        assert team.redo(edits["undone"]).changed == [edits["third"]]
        assert team.current_data(edits["third"])["heat"] == 77
        largest = max(team.ids())
        batch = team.set_fields([edits["second"]], {"heat": 5}, label="after the move").batch_id
        assert batch is not None and batch > max(b.id for b in team.history() if b.id != batch)
        card = tmp_path / "new-card.md"
        card.write_text("---\ntitle: Arrived after the move\n---\n", encoding="utf-8")
        import_paths(team, [card])
        assert team.card_id(card) == largest + 1


def test_a_target_that_is_not_empty_is_refused_and_left_as_it_was(
    alone: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    path, _ = alone
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    with Store(pg_url) as team:
        before = _everything(team)
    with pytest.raises(
        MigrateError, match=r"already holds a library \(\d+ cards, 3 edit batches.*nothing was copied"
    ):
        copy_to_postgresql(path, pg_url, busy_timeout=5)
    with Store(pg_url) as team:
        assert _everything(team) == before


def test_an_empty_library_on_the_server_is_a_fine_target(
    alone: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    Store(pg_url).close()  # someone connected once: the schema exists, with nothing in it
    path, _ = alone
    report = copy_to_postgresql(path, pg_url, busy_timeout=5)
    assert report.count(schema.Card) > 200


def test_other_tables_and_other_libraries_are_refused(
    alone: tuple[Path, dict[str, int]], pg_url: str, tmp_path: Path
) -> None:
    path, _ = alone
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(MigrateError, match=r"not a Curator library \(invoices\); nothing was copied"):
        copy_to_postgresql(path, pg_url, busy_timeout=5)
    assert _tables(pg_url) == ["invoices"]
    with pytest.raises(MigrateError, match="there is no library there"):
        copy_to_postgresql(tmp_path / "nowhere.sqlite", pg_url, busy_timeout=5)
    assert not (tmp_path / "nowhere.sqlite").exists()
    with pytest.raises(ValueError, match="not a team library's postgresql:// URL"):
        copy_to_postgresql(path, str(tmp_path / "other.sqlite"), busy_timeout=5)


def test_a_failure_half_way_leaves_the_database_empty(
    alone: tuple[Path, dict[str, int]], pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = alone
    calls = [0]

    def failing(done: int, total: int) -> None:
        calls[0] += 1
        if done > total // 2:
            raise KeyboardInterrupt  # the editor pressed Ctrl-C half-way

    with pytest.raises(KeyboardInterrupt):
        copy_to_postgresql(path, pg_url, busy_timeout=5, progress=failing)
    assert calls[0] >= 2
    assert _tables(pg_url) == []  # not even the schema: it was created in the same transaction

    # A value the server refuses (text another program left in an INTEGER column) names the table.
    conn = sqlite3.connect(path)
    conn.execute("UPDATE card SET heat = 'lots' WHERE id = (SELECT max(id) FROM card)")
    conn.commit()
    conn.close()
    with pytest.raises(
        MigrateError,
        match=r'card: invalid input syntax for type bigint: "lots" \(COPY card, line \d+, column heat: "lots"\); nothing was copied \(the team library is left as it was\)$',
    ):
        copy_to_postgresql(path, pg_url, busy_timeout=5)
    assert _tables(pg_url) == []


def test_a_nul_in_a_card_arrives_as_the_team_backend_stores_it(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "nul.yaml").write_text(
        'title: "Nul\\0here"\ntopics: ["A\\0B", Plain]\nquality: 40\n', encoding="utf-8"
    )
    (folder / "plain.yaml").write_text("title: Plain card\n", encoding="utf-8")
    path = tmp_path / "alone.sqlite"
    with Store(path) as lite:
        import_paths(lite, [folder])
        nul, plain = lite.card_id(folder / "nul.yaml"), lite.card_id(folder / "plain.yaml")
        assert nul is not None and plain is not None
        lite.set_fields([plain], {"excerpt": "an edit\0with a NUL"}, label="nul\0label")
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    with Store(path) as lite, Store(pg_url) as team:
        for card in (nul, plain):
            assert team.current_data(card) == lite.current_data(card)  # the mappings whole, NUL included
            assert team.file_data(card) == lite.file_data(card) and team.pending(card) == lite.pending(card)
        assert team.current_data(nul)["title"] == "Nul\0here"
        assert team.rows_by_id([nul])[0].title == "Nul\ufffdhere"  # the list's column, as an import makes it
        assert team.history()[0].label == "nul\ufffdlabel"
        for words in ("here", "nul", "second", "NUL", "with"):
            assert team.ids(words) == lite.ids(words), words
        assert team.ids("here") == [nul]
        assert team.undo(team.history()[0].id).changed == [plain]
        # The server's JSON operators read the moved mapping (an edit of the field holding the NUL).
        assert team.set_fields([nul], {"title": "Edited on the server"}, label="t").changed == [nul]
        assert team.pending(nul)["title"] == ("Nul\0here", "Edited on the server")
        assert "excerpt" not in team.current_data(plain)


def test_an_older_sqlite_source_is_copied_aside_and_migrated_first(tmp_path: Path, pg_url: str) -> None:
    build_v1 = _sqlite_migrations().build_v1
    path = tmp_path / "old.sqlite"
    build_v1(path)
    report = copy_to_postgresql(path, pg_url, busy_timeout=5)
    assert report.source_migrated_from == 1
    assert report.source_backup == tmp_path / "old.sqlite.v1-backup" and report.source_backup.is_file()
    with Store(pg_url) as team:
        assert team.count() == 2 and team.pending(3) == {"heat": (3, 40)}
        assert [(b.id, b.label) for b in team.history()] == [(1, "heat")]


def test_the_columns_copied_are_the_models_and_a_missing_one_stops_the_copy(
    alone: tuple[Path, dict[str, int]], pg_url: str
) -> None:
    path, _ = alone
    report = copy_to_postgresql(path, pg_url, busy_timeout=5)
    for model in transfer.TABLE_MODELS:
        declared = {f.column_name for f in model._meta.sorted_fields}
        assert declared <= set(report.columns[model._meta.table_name]), model
    # The editor columns of schema 4 travel with the edits.
    for table in ("pending_edit", "edit_batch", "journal_entry"):
        assert "editor" in report.columns[table]
    assert "version" in report.columns["card"]
    columns, left = plan_columns(["id", "a"], ["id", "a", "old", "both"], {"id": "bigint", "a": "text",
                                                                          "both": "text"}, table="t")  # fmt: skip
    assert columns == ("id", "a", "both") and left == ("old",)
    with pytest.raises(MigrateError, match="table t has no column a that the SQLite library holds"):
        plan_columns(["id", "a"], ["id", "a"], {"id": "bigint"}, table="t")


def test_a_team_library_is_never_migrated_by_opening_it(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    ran: list[int] = []
    monkeypatch.setitem(pg_schema.MIGRATIONS, 1, lambda c: ran.append(1))
    monkeypatch.setattr(pg_schema, "PG_SCHEMA_VERSION", 2)
    with pytest.raises(LibraryError, match="never migrated on connect.*curator migrate"):
        Store(pg_url)
    assert ran == [] and transfer.team_schema(pg_url) == (1, 2)
    assert transfer.migrate_team(pg_url) == [2] and ran == [1]
    assert transfer.team_schema(pg_url) == (2, 2)


def _sqlite_migrations():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sqlite_migrations", Path(__file__).with_name("test_sqlite_migrations.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _indexes(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2"
        ).fetchall()


def test_the_indexes_built_after_the_copy_are_the_schemas_own(
    alone: tuple[Path, dict[str, int]], pg_url: str, pg_cluster: PgCluster
) -> None:
    path, _ = alone
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    fresh = pg_cluster.url(pg_cluster.create_database())
    Store(fresh).close()
    moved = _indexes(pg_url)
    assert moved == _indexes(fresh)
    assert ("card_text", "card_text_doc") in {(t, n) for t, n, _ in moved}


def test_flags_arrive_as_sqlite_reads_them(alone: tuple[Path, dict[str, int]], pg_url: str) -> None:
    path, edits = alone
    conn = sqlite3.connect(path)  # a flag another program stored as 2: SQLite's backend reads it as true
    conn.execute("UPDATE card SET published = 2 WHERE id = ?", (edits["second"],))
    conn.commit()
    conn.close()
    copy_to_postgresql(path, pg_url, busy_timeout=5)
    with Store(path) as lite, Store(pg_url) as team:
        assert lite.rows_by_id([edits["second"]])[0].published is True
        assert team.rows_by_id([edits["second"]]) == lite.rows_by_id([edits["second"]])
