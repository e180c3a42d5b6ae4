"""The checks index kept in the library (issue 11 §1): migration, build, staleness, incremental refresh."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import schema, store_checks
from curator.core.checks.thresholds import Thresholds
from curator.core.importer import import_paths
from curator.core.store import Store

ROOT = Path(__file__).resolve().parents[2]
CHECK_TABLES = ("check_array", "check_card", "check_group", "check_member")
# seeds/README: the planted groups, by file number.
SEED_GROUPS = {("url", (121, 123)), ("url", (149, 150)), ("url", (238, 240)), ("copy", (83, 85)),
               ("copy", (113, 115)), ("copy", (172, 175)), ("copy", (174, 178))}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library of the bundled seeds, imported once (tests copy it)."""
    where = tmp_path_factory.mktemp("seeded")
    shutil.copytree(ROOT / "seeds", where / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    with Store(where / "lib.sqlite") as store:
        import_paths(store, [where / "seeds"])
    return where


@pytest.fixture
def store(seeded: Path, tmp_path: Path) -> Iterator[Store]:
    shutil.copy(seeded / "lib.sqlite", tmp_path / "lib.sqlite")
    opened = Store(tmp_path / "lib.sqlite")
    yield opened
    opened.close()


def numbers(store: Store) -> dict[int, int]:
    """Card id -> the seed file's number."""
    out = {}
    for card_id in store.ids():
        found = re.match(r"(\d{6})_", Path(store.backend.card_path(card_id)).name)
        if found:
            out[card_id] = int(found.group(1))
    return out


def test_seed_groups_are_found_saved_and_read_back_without_the_index(store: Store) -> None:
    assert store.checks_stale()  # imported, never checked: the import wrote nothing of the checks
    assert store.duplicate_groups() == []
    report = store.refresh_checks()
    assert report.rebuilt and report.updated == store.count()
    assert not store.checks_stale()
    num = numbers(store)
    found = {(g.kind, tuple(sorted(num[i] for i in g.ids))) for g in store.duplicate_groups()}
    assert found == SEED_GROUPS
    url = [g for g in store.duplicate_groups() if g.kind == "url"]
    assert all(g.canonical and g.canonical.startswith("https://") for g in url)
    # The tables hold them: a fresh Store reads the groups without building anything.
    with Store(store.path) as again:
        assert again.duplicate_groups() == store.duplicate_groups() and not again.checks_stale()
        assert again.backend.check_arrays() and len(again.backend.check_cards()) == store.count()


def test_query_keeps_whole_groups_with_a_matching_card(store: Store) -> None:
    store.refresh_checks()
    num = numbers(store)
    leader = next(i for i, n in num.items() if n == 121)
    title = store.rows_by_id([leader])[0].title
    word = max(re.findall(r"\w+", title), key=len)
    groups = store.duplicate_groups(f'"{word}"')
    assert any(leader in g.ids for g in groups)
    assert all(set(g.ids) & set(store.ids(f'"{word}"')) for g in groups)
    assert any(len(g.ids) == 2 for g in groups)  # the other card comes along, matching or not


def test_an_edit_is_caught_up_incrementally_and_a_reopened_library_reuses_the_saved_index(
    store: Store,
) -> None:
    store.refresh_checks()
    num = numbers(store)
    follower = next(i for i, n in num.items() if n == 85)
    store.set_fields([follower], {"title": "Nothing alike", "excerpt": "An unrelated text about gardens "
                                  "and the weather in spring, with no words of the other card."}, label="x")
    assert store.checks_stale()
    report = store.refresh_checks()
    assert (report.rebuilt, report.updated, report.removed) == (False, 1, 0)
    assert not any(follower in g.ids for g in store.duplicate_groups())
    with Store(store.path) as again:  # the arrays are behind by one card; the stamps say which
        index = again.check_index()
        assert not any(follower in g.ids for g in index.groups())
        assert again.refresh_checks().updated == 0
    store.undo(store.history(1)[0].id)  # undo is an edit like any other: the copy is found again
    assert store.refresh_checks().updated == 1
    assert any(follower in g.ids for g in store.duplicate_groups())


def test_deleted_cards_leave_the_index(store: Store) -> None:
    store.refresh_checks()
    num = numbers(store)
    gone = next(i for i, n in num.items() if n == 150)
    with store.transaction():
        store.backend.delete_cards([gone])
    report = store.refresh_checks()
    assert (report.rebuilt, report.removed) == (False, 1)
    assert not any(gone in g.ids for g in store.duplicate_groups())


def test_suggestions_come_from_the_index(store: Store) -> None:
    num = numbers(store)
    leader = next(i for i, n in num.items() if n == 88)
    follower = next(i for i, n in num.items() if n == 89)
    suggestions = store.suggest_related(leader, limit=5)
    assert suggestions[0].id == follower and 0 < suggestions[0].score <= 1
    with pytest.raises(KeyError):
        store.suggest_related(10**9)


def test_thresholds_are_per_library_and_a_change_rebuilds(store: Store) -> None:
    assert store.check_thresholds() == Thresholds()
    store.refresh_checks()
    strict = Thresholds(copy_ratio=99.9, copy_partial=99.9)
    store.set_check_thresholds(strict)
    with Store(store.path) as again:
        assert again.check_thresholds() == strict
        assert again.refresh_checks().rebuilt  # the saved index was built with the old thresholds
        assert {g.kind for g in again.duplicate_groups()} <= {"url", "copy"}


def test_most_cards_changed_means_a_rebuild(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.refresh_checks()
    monkeypatch.setattr(store_checks, "RESAVE", 1)
    ids = store.ids()
    store.set_fields(ids[: len(ids) * 3 // 4], {"quality": 1}, label="most")
    assert store.refresh_checks().rebuilt


def test_version_2_library_gains_the_check_tables(store: Store, tmp_path: Path) -> None:
    store.close()
    conn = sqlite3.connect(store.path)
    for table in ("check_member", "check_group", "check_card", "check_array"):
        conn.execute(f"DROP TABLE {table}")
    # ... and without what version 4 added (the team columns; the full-text index keeps its extra column,
    # which the 3 -> 4 step rebuilds from its first four).
    conn.execute("ALTER TABLE card DROP COLUMN version")
    # (and what version 7 added: the bulk columns, and the indexes that name them)
    for index in ("edit_batch_bulk", "journal_entry_batch_card", "journal_entry_card_id"):
        conn.execute(f"DROP INDEX {index}")
    for table, column in (("pending_edit", "editor"), ("pending_edit", "changed"), ("edit_batch", "editor"),
                          ("journal_entry", "editor"), ("edit_batch", "bulk"), ("journal_entry", "bulk")):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with Store(store.path) as migrated:
        assert migrated.schema_version == schema.SCHEMA_VERSION
        tables = {t for (t,) in migrated.backend.db.connection().execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert set(CHECK_TABLES) <= tables
        assert migrated.checks_stale() and migrated.refresh_checks().rebuilt
        assert len(migrated.duplicate_groups()) == len(SEED_GROUPS)


def test_an_editor_who_may_only_read_still_gets_current_groups(pg_cluster, seeded: Path) -> None:  # type: ignore[no-untyped-def]
    """A read-only team role cannot save the checks index: the refresh keeps it in memory instead (no
    error), so the Duplicates facet, `dupes` and the publishing gate see the same groups as a writer's."""
    import secrets

    from curator.core.store_types import LibraryReadOnly

    name = pg_cluster.create_database()
    with Store(pg_cluster.url(name)) as writer:
        import_paths(writer, [seeded / "seeds"])
    reader, password = f"reader_{secrets.token_hex(4)}", secrets.token_urlsafe(10)
    pg_cluster.create_role(reader, password)
    pg_cluster.sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"', name)
    with Store(pg_cluster.url(name, reader, password)) as store:
        with pytest.raises(LibraryReadOnly):  # what the refresh meets and gets past
            store.set_check_thresholds(Thresholds())
        assert store.duplicate_groups() == []  # nothing saved yet, and the reader cannot save
        assert store.checks_stale()
        store.refresh_checks()
        seen = {(g.kind, g.ids) for g in store.duplicate_groups()}
        assert len(seen) == len(SEED_GROUPS) and not store.checks_stale()
        cid = store.ids()[0]
        assert isinstance(store.suggest_related(cid), list)
    with Store(pg_cluster.url(name)) as writer:  # the reader saved nothing; the writer's groups are its own
        assert writer.duplicate_groups() == [] and writer.checks_stale()
        writer.refresh_checks()
        assert {(g.kind, g.ids) for g in writer.duplicate_groups()} == seen
