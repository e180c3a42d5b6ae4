"""CheckIndex: groups, suggestions, one-card updates and the persisted arrays."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import yaml

from curator.core.checks.index import CheckCard, CheckIndex
from tests.core.checks.generate import generate

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_63d795e8c7832238.txt"
TEXT = ("Clearview AI offers facial recognition software that can identify a person even in poor quality "
        "images, and hundreds of police departments in the United States have signed on to use it")


def _feed() -> list[CheckCard]:
    return [c.card for c in generate(seed=3, stories=60)]


def test_url_and_copy_groups() -> None:
    cards = [
        CheckCard(1, "Police use face app", TEXT, "2020-01-18T10:00:00", "dw.com", "https://www.dw.com/a/1"),
        CheckCard(2, "Face app", "short", "2020-01-18T10:00:00", "x.com", "https://x.com/b",
                  amp_url="https://amp.dw.com/a/1"),
        CheckCard(3, "A wire copy under another headline", TEXT.replace("hundreds", "scores"),
                  "2020-01-19T10:00:00", "wire.com", "https://wire.com/c"),
        CheckCard(4, "Unrelated", "Markets fell sharply on Tuesday after the central bank raised rates again "
                  "and investors sold shares", "2020-01-19T10:00:00", "y.com", "https://y.com/d"),
    ]
    index = CheckIndex.build(cards)
    groups = index.groups()
    assert len(groups) == 1 and groups[0].ids == (1, 2, 3) and groups[0].kind == "copy"
    index.remove(3)
    groups = index.groups()
    assert [(g.kind, g.ids, g.canonical) for g in groups] == [("url", (1, 2), "https://dw.com/a/1")]
    assert index.card_by_url("http://dw.com/a/1/?utm_source=feed") == 1


def test_seed_card_real_related_item_is_suggested_and_not_again_once_present() -> None:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8").split("---")[1])
    card = CheckCard.from_mapping(1, {**data, "related": []})
    related = [CheckCard.from_mapping(i + 2, item) for i, item in enumerate(data["related"])]
    background = [dataclasses.replace(c, id=c.id + 100, date="2020-01-18T00:00:00") for c in _feed()]
    index = CheckIndex.build([card, *related, *background])
    suggested = index.suggest(1)
    assert suggested[0].id == 2 and suggested[0].score > 0.25  # the Complex article: the same story
    assert all(s.id >= 100 or s.id == 2 for s in suggested)  # the Yandex item is another story
    index.update(CheckCard.from_mapping(1, data))  # now with its related list
    assert 2 not in [s.id for s in index.suggest(1)]


def test_other_providers_first_and_window() -> None:
    base = CheckCard(1, "Zelkov Bank merger in Taminer", "Zelkov Bank approved a merger in Taminer on Tuesday",
                     "2020-03-01T00:00:00", "a.com")
    same = dataclasses.replace(base, id=2, title="Zelkov Bank merger approved in Taminer",
                               excerpt="Lenders in Taminer welcomed the merger Zelkov Bank approved")
    other = dataclasses.replace(base, id=3, provider="b.com", excerpt="Taminer: the Zelkov Bank merger goes ahead")
    late = dataclasses.replace(base, id=4, provider="c.com", date="2020-03-09T00:00:00",
                               excerpt="The merger of Zelkov Bank in Taminer was approved")
    background = [dataclasses.replace(c, id=c.id + 100) for c in _feed()]
    index = CheckIndex.build([base, same, other, late, *background])
    found = index.suggest(1)
    assert [s.id for s in found[:2]] == [3, 2] and not found[0].same_provider and found[1].same_provider
    assert 4 not in [s.id for s in found]
    assert 4 in [s.id for s in index.suggest(1, window_days=10)]


def test_updates_equal_a_fresh_build() -> None:
    cards = _feed()
    edited = {c.id: dataclasses.replace(c, excerpt=(c.excerpt or "") + " Officials in Kalo denied it.")
              for c in cards[::7]}
    incremental = CheckIndex.build(cards[: len(cards) // 2])
    for card in cards[len(cards) // 2:]:
        incremental.update(card)
    for card in edited.values():
        incremental.update(card)
    final = [edited.get(c.id, c) for c in cards]
    fresh = CheckIndex.build(final)
    assert incremental.groups() == fresh.groups()
    assert incremental.story.delta  # the edits really went through the delta path
    for card in final[::5]:  # before compaction: the norms of untouched rows may drift a little
        got, want = incremental.suggest(card.id), fresh.suggest(card.id)
        assert not got or got[0].id in {s.id for s in want[:3]}
    incremental.story.compact()
    for card in final:
        got, want = incremental.suggest(card.id), fresh.suggest(card.id)
        assert [s.id for s in got] == [s.id for s in want]
        assert np.allclose([s.score for s in got], [s.score for s in want], atol=1e-5)


def test_arrays_round_trip(tmp_path: Path) -> None:
    index = CheckIndex.build(_feed())
    index.remove(5)
    np.savez(tmp_path / "checks.npz", **index.to_arrays())
    with np.load(tmp_path / "checks.npz", allow_pickle=False) as saved:
        loaded = CheckIndex.from_arrays(dict(saved))
    assert loaded.groups() == index.groups() and loaded.groups()
    for card_id in (1, 9, 30):
        assert loaded.suggest(card_id) == index.suggest(card_id)
    loaded.update(CheckCard(9999, "Fresh", TEXT, "2020-01-01T00:00:00", "n.com"))
    assert 9999 in loaded.row_of


def test_a_build_in_many_batches_equals_one_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.core.checks import index as index_module

    cards = _feed()
    whole = CheckIndex.build(cards)
    monkeypatch.setattr(index_module, "_BATCH", 37)  # ~10 batches, groups and stories across their edges
    batched = CheckIndex.build(iter(cards))  # a generator, as rows streamed from the library
    assert batched.groups() == whole.groups() and len(whole.groups()) > 10
    assert np.array_equal(batched.sigs, whole.sigs) and np.array_equal(batched.keys, whole.keys)
    for name in ("row_ptr", "row_terms", "row_tf", "norms", "df", "post_rows"):
        assert np.array_equal(getattr(batched.story, name), getattr(whole.story, name)), name
    for card in cards:
        assert batched.suggest(card.id) == whole.suggest(card.id)
