"""patch()'s read-back check: the cheap proof (edited values built, the rest compared as text) is sound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core import cards, writeback
from curator.core.writeback import DELETE, WriteError, patch

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_63d795e8c7832238.txt"
CARD = (b"---\n# a comment\ntitle: Robots\nquality: 54\nheat: -1\ntopics:\n  - AI\n"
        b"provider: {name: X, domain: x.com}\n---\nBody\n")
#: The generated cards' other layouts: a sequence indented like its key, blank lines between entries.
LOOSE = (b"---\ntitle: Robots\nquality: 54\nheat: -1\n\nprovider:\n  name: X\n\ntopics:\n- AI\n- Energy\n"
         b"secured: abc\n---\nBody\n")


def _proof(raw: bytes, changes: dict[str, Any], text: str | None = None) -> bool:
    """What _reads_back says about ``text`` (default: the text patch() builds) for ``changes``."""
    doc = cards.split(raw, "c.md")
    root, old = cards.compose_card(doc, "c.md")
    expected = writeback.applied(old, changes)
    if text is None:
        text = patch(raw, changes, "c.md").decode("utf-8").removeprefix("\ufeff")
    region = text[doc.yaml_start:len(text) - (len(doc.text) - doc.yaml_end)]
    return writeback._reads_back(doc, root, old, text, region, expected, changes, "c.md")


@pytest.mark.parametrize("changes", [
    {"quality": 80}, {"heat": 5, "published": True}, {"topics": ["AI", "Privacy"]}, {"title": DELETE},
    {"provider": {"name": "Y", "domain": "y.com"}}, {"excerpt": "new\nlines"}, {"related": [{"title": "T"}]},
])
def test_ordinary_edits_are_proven_without_the_full_parse(changes: dict[str, Any]) -> None:
    assert _proof(CARD, changes)
    assert _proof(SEED.read_bytes(), changes) if "title" not in changes else True


def test_a_wrong_edited_value_is_not_proven() -> None:
    text = CARD.decode().replace("quality: 54", "quality: 81")
    assert not _proof(CARD, {"quality": 80}, text)
    assert not _proof(CARD, {"quality": 80}, CARD.decode().replace("quality: 54", "quality: '80'"))


@pytest.mark.parametrize("bad", [
    ("title: Robots", 'title: "Robots'),             # an unclosed quote swallows the next lines
    ("title: Robots", "title: [Robots"),             # an unclosed flow sequence
    ("heat: -1", "heat: -2"),                        # an untouched value changed
    ("heat: -1\n", "heat: -1\nheat: 3\n"),           # a duplicate key
    ("heat: -1\n", "heat: -1\nextra: 1\n"),          # a key nobody asked for
    ("heat: -1\n", ""),                              # a key lost
    ("# a comment\n", "%TAG ! tag:x,1:\n---\n"),     # a different prefix (directives)
    ("  - AI\n", "  - &a AI\n"),                     # anchors: never proven cheaply
    ("quality: 80\n", "quality: 80\n---\n"),         # the front matter closes early
])
def test_text_that_may_read_otherwise_is_not_proven(bad: tuple[str, str]) -> None:
    good = patch(CARD, {"quality": 80}, "c.md").decode()
    assert bad[0] in good
    assert not _proof(CARD, {"quality": 80}, good.replace(bad[0], bad[1], 1))


def test_an_untouched_entry_in_other_text_is_read_again_alone() -> None:
    # Its chunk is no old chunk's text, so it is composed on its own: proven only holding its old value.
    good = patch(CARD, {"quality": 80}, "c.md").decode()
    assert _proof(CARD, {"quality": 80}, good.replace("heat: -1", "heat:  -1"))
    assert not _proof(CARD, {"quality": 80}, good.replace("heat: -1", "heat:  -2"))
    assert not _proof(CARD, {"quality": 80}, good.replace("heat: -1", "heat: '-1'"))


@pytest.mark.parametrize("changes", [
    {"published": True}, {"quality": 80}, {"topics": ["AI", "Privacy", "Energy"]}, {"topics": DELETE},
    {"provider": {"name": "Y", "domain": "y.com"}}, {"heat": 5, "published": False},
])
def test_a_sequence_indented_like_its_key_and_blank_lines_are_proven_cheaply(
        changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The generated cards' layouts: "- AI" at the root's column is an item of topics, not an entry, and
    # a key inserted before a blank line leaves the entry before it without that line (read again alone).
    calls: list[bytes] = []
    monkeypatch.setattr(writeback, "_verify", lambda result, *a: calls.append(result))
    assert _proof(LOOSE, changes)
    result = patch(LOOSE, changes, "c.md")
    assert calls == []
    expected = writeback.applied(cards.parse_card(LOOSE, "c.md").data, changes)
    assert cards.parse_card(result, "c.md").data == expected


def test_a_line_that_binds_to_the_entry_before_it_is_not_proven() -> None:
    # "- 5" at the root's column continues the value of the key before it: quality reads as [5].
    text = CARD.decode().replace("quality: 54\n", "quality:\n- 5\n")
    assert cards.parse_card(text.encode(), "c.md").data["quality"] == [5]
    assert not _proof(CARD, {"quality": None}, text)
    assert _proof(CARD, {"quality": None}, CARD.decode().replace("quality: 54\n", "quality:\n"))


def test_cards_with_an_anchor_or_a_comment_between_entries_take_the_full_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    full = writeback._verify
    monkeypatch.setattr(writeback, "_verify", lambda result, *a: calls.append(result) or full(result, *a))
    patch(CARD, {"quality": 80}, "c.md")
    assert calls == []  # proven cheaply
    anchored = CARD.replace(b"title: Robots", b"title: &t Robots\nalso: *t")
    assert cards.parse_card(patch(anchored, {"quality": 80}, "c.md"), "c.md").data["quality"] == 80
    assert len(calls) == 1
    # A new key lands between heat's value and the comment after it: heat's chunk, no longer an old
    # chunk's text, is read again on its own, and holds its old value.
    commented = CARD.replace(b"heat: -1\n", b"heat: -1\n# hot\n")
    assert b"published: true\n# hot" in patch(commented, {"published": True}, "c.md")
    assert len(calls) == 1
    # A block scalar kept with its trailing blank line ("|+") would lose it so: the cheap proof sees its
    # value change, and the full check refuses the patch.
    kept = CARD.replace(b"heat: -1\n", b"heat: |+\n  kept\n\n")
    assert cards.parse_card(kept, "c.md").data["heat"] == "kept\n\n"
    with pytest.raises(WriteError, match=r"reads back wrong \(heat\)"):
        patch(kept, {"published": True}, "c.md")
    assert len(calls) == 2


_MUTATIONS = st.sampled_from(list("\"'[]{}:#\n -&*|>!%x0"))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card=st.sampled_from(["CARD", "LOOSE"]),
       changes=st.sampled_from([{"quality": 80}, {"topics": ["AI", "x"]}, {"title": "a: b"},
                                {"published": False}]),
       edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 2), _MUTATIONS), min_size=1,
                      max_size=3))
def test_whatever_is_proven_reads_back_as_expected(card: str, changes: dict[str, Any],
                                                   edits: list[tuple[int, int, str]]) -> None:
    # Damage the patched text at random; whenever the cheap proof accepts it, the full parse must agree.
    raw = {"CARD": CARD, "LOOSE": LOOSE}[card]
    text = patch(raw, changes, "c.md").decode()
    for pos, cut, char in edits:
        pos %= len(text) + 1
        text = text[:pos] + char + text[pos + cut:]
    doc = cards.split(raw, "c.md")
    expected = writeback.applied(cards.compose_card(doc, "c.md")[1], changes)
    if _proof(raw, changes, text):
        assert cards.parse_card(text.encode(), "c.md").data == expected


#: Lines slipped in: blanks and comments (weighted, since they often still prove), items, keys, markers.
_LINES = st.sampled_from(["\n", "# c\n"] * 6 + [
    "- x\n", "-\n", "  - y\n", "x: 1\n", "  z: 2\n", "quality: 80\n", "'a\n", "|\n", "  more\n", "? k\n",
    ": v\n", "--- \n", "...\n", " \n", "-x: 1\n"])
LINES_PROVEN = {"CARD": 0, "LOOSE": 0}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(card=st.sampled_from(["CARD", "LOOSE"]),
       changes=st.sampled_from([{"quality": 80}, {"topics": ["AI", "x"]}, {"published": True},
                                {"heat": DELETE}]),
       inserts=st.lists(st.tuples(st.integers(min_value=0), _LINES), min_size=1, max_size=2))
def test_lines_put_between_the_lines_are_proven_only_when_they_read_back(
        card: str, changes: dict[str, Any], inserts: list[tuple[int, str]]) -> None:
    # Lines slipped in at line starts of the patched text (blanks, comments, items, keys, markers): the
    # cheap proof accepts only texts whose full parse is exactly the intended mapping.
    raw = {"CARD": CARD, "LOOSE": LOOSE}[card]
    text = patch(raw, changes, "c.md").decode()
    for pos, line in inserts:
        starts = [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]
        at = starts[pos % len(starts)]
        text = text[:at] + line + text[at:]
    doc = cards.split(raw, "c.md")
    expected = writeback.applied(cards.compose_card(doc, "c.md")[1], changes)
    if _proof(raw, changes, text):
        LINES_PROVEN[card] += 1
        assert cards.parse_card(text.encode(), "c.md").data == expected


def test_the_line_test_proved_texts_of_both_layouts() -> None:
    # Run after it: it must have met texts that prove (blank and comment lines), on both cards.
    assert min(LINES_PROVEN.values()) >= 15, LINES_PROVEN


def test_patch_still_refuses_what_does_not_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a patcher bug simulated (a value written wrong), neither check lets the text through.
    monkeypatch.setattr(writeback, "patch_region",
                        lambda text, *a, **k: text.replace("quality: 54", "quality: 81"))
    with pytest.raises(WriteError, match="reads back wrong"):
        patch(CARD, {"quality": 80}, "c.md")
