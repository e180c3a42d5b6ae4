"""Issue 12's write records what the worker proved: the mapping the file reads back as (no decoding of the
library's old copy while the file still holds its base bytes), and each written field's value, which
take_back compares with the pending values instead of decoding every written card's whole mapping."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from curator.core import cards, store_write, writeback
from curator.core.backend.base import TakenBack, settle_written
from curator.core.cards import FileState
from curator.core.importer import import_paths
from curator.core.store import Store

CARD = "---\ntitle: Card {n}\ncategory: news\nquality: 40\nheat: 5\npublished: false\ntopics: [AI]\n---\nBody.\n"


def state_of(path: Path) -> FileState:
    raw = path.read_bytes()
    return FileState(len(raw), path.stat().st_mtime_ns, hashlib.sha256(raw).hexdigest())


def test_settle_compares_the_writers_fields_and_decodes_the_mapping_only_for_others() -> None:
    # A doc that is no JSON at all: any decoding of it would raise, so the first card proves none happens.
    written = [TakenBack(1, 10, 1, "h", "{not json", {"quality": "61", "published": "true"}),
               TakenBack(2, 10, 1, "h", json.dumps({"quality": 61, "heat": 5}), {"quality": "61"}),
               TakenBack(3, 10, 1, "h", json.dumps({"quality": 70}), None)]  # fmt: skip
    pending = [
        (1, "published", "true"),  # the very text written: done
        (1, "quality", "61.0"),  # a float is not the int the file holds: kept, over the file's value
        (2, "quality", "61"),
        (2, "heat", "77"),  # another editor's, set while the write ran: not among the fields written
        (3, "quality", "70"),  # no fields from the writer: the mapping decides
    ]
    done, kept = settle_written(written, pending)
    assert done == [(1, "published"), (2, "quality"), (3, "quality")]
    assert kept == [("61", 1, "quality"), ("5", 2, "heat")]
    with pytest.raises(json.JSONDecodeError):  # the first card's doc really is undecodable
        settle_written(written[:1], [(1, "heat", "5")])


def test_a_file_holding_its_base_bytes_never_decodes_the_base_and_reports_its_new_mapping(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(CARD.format(n=1), encoding="utf-8")
    calls: list[int] = []

    def base() -> dict[str, object]:
        calls.append(1)
        return cards.parse_card(CARD.format(n=1).encode(), "a.md").data

    out = writeback.write_changes(str(path), state_of(path), {"quality": 61}, base_data=base)
    assert out.status == "written" and calls == []
    assert out.data == cards.parse_card(path.read_bytes(), str(path)).data
    assert out.data is not None and out.data["quality"] == 61
    # Not the base bytes any more, but holding the change: "already", decided with the base, read once.
    already = writeback.write_changes(str(path), FileState(1, 0, "0" * 64), {"quality": 61}, base_data=base)
    assert already.status == "already" and calls == [1]
    assert already.data == out.data
    # Unchanged: the file already holds the value; its mapping is what the library records.
    same = writeback.write_changes(str(path), state_of(path), {"quality": 61}, base_data=base)
    assert same.status == "unchanged" and same.data == out.data and calls == [1]


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_the_library_records_the_mapping_and_settles_the_fields_the_files_hold(
    tmp_path: Path, library_url: str, monkeypatch: pytest.MonkeyPatch, processes: bool
) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    for n in range(12):
        (folder / f"c{n:02}.md").write_text(CARD.format(n=n), encoding="utf-8")
    if processes:
        monkeypatch.setattr(store_write, "POOL_THRESHOLD", 4)
    with Store(library_url) as store:
        import_paths(store, [folder])
        ids = store.ids()
        store.set_fields(ids, {"published": True}, label="all")
        store.set_fields(ids[:3], {"topics": None}, label="drop topics")  # DELETE: the key leaves the file
        report = store.write()
        assert report.written == 12 and not report.failed and not report.conflicts
        assert store.totals().dirty == 0
        for card_id in ids:
            path, doc = store.backend.card_doc(card_id)
            on_disk = cards.parse_card(Path(path).read_bytes(), path).data
            assert json.loads(doc) == on_disk and store.pending(card_id) == {}
            assert on_disk["published"] is True and ("topics" in on_disk) == (card_id not in ids[:3])
        # The recorded base is the file's: editing again writes over it with no conflict.
        store.set_fields(ids, {"published": False}, label="back")
        assert store.write().written == 12
        assert all(b"published: false" in (folder / f"c{n:02}.md").read_bytes() for n in range(12))
