"""patch(): each rule of a write, by example (only the edited values change, byte for byte)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from curator.core.cards import parse_card
from curator.core.writeback import DELETE, WriteError, patch


def changed(old: bytes, new: bytes) -> tuple[list[str], list[str]]:
    """The lines removed from ``old`` and the lines added in ``new`` (line ends kept)."""
    a = old.decode("utf-8").splitlines(keepends=True)
    b = new.decode("utf-8").splitlines(keepends=True)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    return removed, added


def data(raw: bytes, path: str = "card.md") -> dict:
    return parse_card(raw, path).data


CARD = b"""---
# Curated by hand: keep this comment
category: news
title: 'It''s a plain title'
excerpt: "Quoted excerpt ..."
publishedDateTime: 2020-01-18T18:42:00Z
quality: 54   # first pass
heat: -1
published: False
provider:
  name: Deutsche Welle
  domain: dw.com
topics:
  - AI
  - Computer Vision
tags: [one, two]
notes: |
  first line
  second line
summary: >
  folded text
  goes here
related:
  - title: First
    sourceUrl: https://a.example/1
    provider:
      name: A
      domain: a.example
    quality: 10
  - title: Second
    sourceUrl: https://b.example/2
    quality: 20
  - title: Third   # the best one
    sourceUrl: https://c.example/3
    quality: 30
extra: {k: v}
secured: "abc==;def=="
---
Body text *stays*.
"""


def test_no_change_gives_the_same_bytes() -> None:
    assert patch(CARD, {}, "card.md") is CARD
    same_values = {k: v for k, v in data(CARD).items()}
    assert patch(CARD, same_values, "card.md") == CARD
    assert patch(CARD, {"missing": DELETE}, "card.md") == CARD


def test_one_scalar_is_one_line_and_keeps_its_trailing_comment() -> None:
    new = patch(CARD, {"quality": 77}, "card.md")
    assert changed(CARD, new) == (["quality: 54   # first pass\n"], ["quality: 77   # first pass\n"])
    assert data(new)["quality"] == 77


@pytest.mark.parametrize(("key", "value", "line"), [
    ("title", "New title", "title: 'New title'\n"),  # single-quoted stays single-quoted
    ("title", "Bob's: title", "title: 'Bob''s: title'\n"),
    ("excerpt", "Plain words", 'excerpt: "Plain words"\n'),  # double-quoted stays double
    ("excerpt", 'say "hi"\n\tnow', 'excerpt: "say \\"hi\\"\\n\\tnow"\n'),
    ("category", "politics", "category: politics\n"),  # plain stays plain when safe
    ("category", "a: b", "category: 'a: b'\n"),  # else quoted
    ("category", "123", "category: '123'\n"),  # a string that would read as a number
    ("category", "yes", "category: 'yes'\n"),
    ("category", "", "category: ''\n"),
    ("category", "x # y", "category: 'x # y'\n"),
    ("published", True, "published: True\n"),  # the file's own spelling of booleans
    ("heat", 12, "heat: 12\n"),
    ("heat", None, "heat: null\n"),
    ("heat", 2.5, "heat: 2.5\n"),
    ("publishedDateTime", "2021-02-03T04:05:06Z", "publishedDateTime: 2021-02-03T04:05:06Z\n"),
])
def test_scalar_styles(key: str, value: object, line: str) -> None:
    new = patch(CARD, {key: value}, "card.md")
    removed, added = changed(CARD, new)
    assert len(removed) == 1 and removed[0].startswith(key + ":")
    assert added == [line]
    assert data(new)[key] == value


def test_everything_else_stays_byte_identical() -> None:
    new = patch(CARD, {"quality": 1, "heat": 2, "title": "T", "topics": ["AI"]}, "card.md")
    old_text, new_text = CARD.decode(), new.decode()
    for keep in ("# Curated by hand: keep this comment\n", "Body text *stays*.\n", 'secured: "abc==;def=="\n',
                 "tags: [one, two]\n", "extra: {k: v}\n", "notes: |\n  first line\n  second line\n"):
        assert keep in old_text and keep in new_text
    assert new_text.endswith("---\nBody text *stays*.\n")
    # Key order is the file's order.
    assert [k for k in data(new)] == [k for k in data(CARD)]


def test_crlf_and_bom_are_kept_and_new_lines_use_the_files_newline() -> None:
    raw = b"\xef\xbb\xbf" + CARD.replace(b"\n", b"\r\n")
    new = patch(raw, {"quality": 5, "type": "article", "topics": ["AI", "Computer Vision", "Robotics"]},
                "card.md")
    assert new.startswith(b"\xef\xbb\xbf---\r\n")
    assert new.count(b"\n") == new.count(b"\r\n")
    removed, added = changed(raw, new)
    assert removed == ["quality: 54   # first pass\r\n"]
    # type goes after publishedDateTime (the last present key before it in the card format).
    assert added == ["type: article\r\n", "quality: 5   # first pass\r\n", "  - Robotics\r\n"]
    assert data(new)["topics"] == ["AI", "Computer Vision", "Robotics"]


def test_missing_key_adds_one_line_after_a_sensible_neighbour() -> None:
    raw = b"---\ntitle: T\nquality: 5\nprovider:\n  name: P\n\nsecured: x\n---\n"
    new = patch(raw, {"heat": 3}, "card.md")
    assert new == b"---\ntitle: T\nquality: 5\nheat: 3\nprovider:\n  name: P\n\nsecured: x\n---\n"
    new = patch(new, {"published": True}, "card.md")
    assert b"heat: 3\npublished: true\nprovider:" in new
    # Before the first known key that follows it, when none precedes it.
    assert patch(raw, {"category": "news"}, "card.md").startswith(b"---\ncategory: news\ntitle: T\n")
    # Unknown keys go at the end of the mapping.
    assert patch(raw, {"zzz": 1}, "card.md").endswith(b"secured: x\nzzz: 1\n---\n")


def test_missing_topics_with_one_topic_is_one_line() -> None:
    raw = b"---\ntitle: T\nquality: 5\n---\n"
    new = patch(raw, {"topics": ["AI"]}, "card.md")
    assert changed(raw, new) == ([], ["topics: [AI]\n"])
    assert data(new)["topics"] == ["AI"]


def test_empty_front_matter_gets_its_first_key() -> None:
    raw = b"---\n---\nbody\n"
    assert patch(raw, {"quality": 60}, "card.md") == b"---\nquality: 60\n---\nbody\n"


def test_plain_yaml_without_final_newline() -> None:
    new = patch(b"title: T\nquality: 1", {"quality": 2, "heat": 4}, "card.yaml")
    assert new == b"title: T\nquality: 2\nheat: 4"


@pytest.mark.parametrize(("new_topics", "removed", "added"), [
    (["AI", "Computer Vision", "Robotics"], [], ["  - Robotics\n"]),
    (["Computer Vision"], ["  - AI\n"], []),
    (["AI"], ["  - Computer Vision\n"], []),
    (["Robotics", "AI", "Computer Vision"], [], ["  - Robotics\n"]),
    (["AI", "Vision"], ["  - Computer Vision\n"], ["  - Vision\n"]),
])
def test_block_topics(new_topics: list[str], removed: list[str], added: list[str]) -> None:
    new = patch(CARD, {"topics": new_topics}, "card.md")
    assert changed(CARD, new) == (removed, added)
    assert data(new)["topics"] == new_topics


@pytest.mark.parametrize(("tags", "line"), [
    (["one", "two", "three"], "tags: [one, two, three]\n"),
    (["two"], "tags: [two]\n"),
    (["two", "one"], "tags: [two, one]\n"),
    (["one", "a: b"], "tags: [one, 'a: b']\n"),
    ([], "tags: []\n"),
])
def test_flow_lists_keep_flow_style(tags: list[str], line: str) -> None:
    new = patch(CARD, {"tags": tags}, "card.md")
    assert changed(CARD, new) == (["tags: [one, two]\n"], [line])
    assert data(new)["tags"] == tags


def test_emptying_a_block_list_and_refilling_it() -> None:
    new = patch(CARD, {"topics": []}, "card.md")
    assert changed(CARD, new) == (["topics:\n", "  - AI\n", "  - Computer Vision\n"], ["topics: []\n"])
    again = patch(new, {"topics": ["AI"]}, "card.md")
    assert changed(new, again) == (["topics: []\n"], ["topics: [AI]\n"])


def test_block_scalars_stay_block_scalars() -> None:
    new = patch(CARD, {"notes": "first line\nchanged line\n"}, "card.md")
    assert changed(CARD, new) == (["  second line\n"], ["  changed line\n"])
    new = patch(CARD, {"notes": "no final newline"}, "card.md")
    assert b"notes: |-\n  no final newline\nsummary:" in new
    new = patch(CARD, {"summary": "one paragraph\nand another\n"}, "card.md")
    assert b"summary: >\n  one paragraph\n\n  and another\nrelated:" in new
    assert data(new)["summary"] == "one paragraph\nand another\n"
    # A value a block scalar cannot hold exactly is written quoted, on one line.
    new = patch(CARD, {"notes": "trailing space \nx"}, "card.md")
    assert data(new)["notes"] == "trailing space \nx"


def test_related_unchanged_items_keep_their_bytes() -> None:
    items = data(CARD)["related"]
    text = CARD.decode()
    first = text[text.index("  - title: First"):text.index("  - title: Second")]
    second = text[text.index("  - title: Second"):text.index("  - title: Third")]
    third = text[text.index("  - title: Third"):text.index("extra:")]

    reordered = patch(CARD, {"related": [items[2], items[0], items[1]]}, "card.md").decode()
    assert third + first + second in reordered
    assert data(reordered.encode())["related"] == [items[2], items[0], items[1]]

    removed = patch(CARD, {"related": [items[0], items[2]]}, "card.md")
    assert changed(CARD, removed) == (second.splitlines(keepends=True), [])

    edited = dict(items[1], quality=25)
    new = patch(CARD, {"related": [items[0], edited, items[2]]}, "card.md")
    assert changed(CARD, new) == (["    quality: 20\n"], ["    quality: 25\n"])

    fresh = {"sourceUrl": "https://d.example/4", "quality": 40, "title": "Fourth",
             "provider": {"name": "D", "domain": "d.example"}}
    new = patch(CARD, {"related": [*items, fresh]}, "card.md")
    assert changed(CARD, new) == ([], ["  - title: Fourth\n", "    sourceUrl: https://d.example/4\n",
                                       "    provider:\n", "      name: D\n", "      domain: d.example\n",
                                       "    quality: 40\n"])
    assert data(new)["related"][3] == fresh


def test_related_item_key_removed_and_added() -> None:
    items = data(CARD)["related"]
    edited = {k: v for k, v in items[0].items() if k != "provider"}
    edited["type"] = "article"
    new = patch(CARD, {"related": [edited, items[1], items[2]]}, "card.md")
    removed, added = changed(CARD, new)
    assert removed == ["    provider:\n", "      name: A\n", "      domain: a.example\n"]
    assert added == ["    type: article\n"]
    # Removing the key on the dash's line re-emits that item only, in its own key order.
    edited = {k: v for k, v in items[2].items() if k != "title"}
    new = patch(CARD, {"related": [items[0], items[1], edited]}, "card.md")
    removed, added = changed(CARD, new)
    assert removed == ["  - title: Third   # the best one\n", "    sourceUrl: https://c.example/3\n"]
    assert added == ["  - sourceUrl: https://c.example/3\n"]
    assert data(new)["related"][2] == edited


def test_provider_changes_only_changed_sub_keys() -> None:
    new = patch(CARD, {"provider": {"name": "DW", "domain": "dw.com"}}, "card.md")
    assert changed(CARD, new) == (["  name: Deutsche Welle\n"], ["  name: DW\n"])
    new = patch(CARD, {"provider": {"name": "Deutsche Welle"}}, "card.md")
    assert changed(CARD, new) == (["  domain: dw.com\n"], [])
    new = patch(CARD, {"extra": {"k": "v", "n": 1}}, "card.md")
    assert changed(CARD, new) == (["extra: {k: v}\n"], ["extra: {k: v, n: 1}\n"])


def test_type_changes_re_emit_only_that_entry() -> None:
    new = patch(CARD, {"heat": [1, 2], "provider": "just a name"}, "card.md")
    removed, added = changed(CARD, new)
    assert removed == ["heat: -1\n", "provider:\n", "  name: Deutsche Welle\n", "  domain: dw.com\n"]
    assert added == ["heat:\n", "  - 1\n", "  - 2\n", "provider: just a name\n"]


def test_delete_removes_the_entry_lines_only() -> None:
    new = patch(CARD, {"provider": DELETE, "quality": DELETE, "notes": DELETE}, "card.md")
    removed, added = changed(CARD, new)
    assert added == []
    assert removed == ["quality: 54   # first pass\n", "provider:\n", "  name: Deutsche Welle\n",
                       "  domain: dw.com\n", "notes: |\n", "  first line\n", "  second line\n"]
    assert "provider" not in data(new)


def test_indentation_of_the_file_is_used_for_new_blocks() -> None:
    raw = b"---\nprovider:\n    name: P\ntopics:\n- a\n- b\nrelated:\n-   title: x\n    quality: 1\n---\n"
    new = patch(raw, {"images": [{"url": "https://i/1", "width": 3}, {"url": "https://i/2"}],
                      "related": [{"title": "x", "quality": 1}, {"title": "y", "quality": 2}],
                      "topics": ["a", "b", "c"]}, "card.md")
    removed, added = changed(raw, new)
    assert removed == []
    assert added == ["- c\n", "images:\n", "- url: https://i/1\n", "  width: 3\n", "- url: https://i/2\n",
                     "-   title: y\n", "    quality: 2\n"]


@pytest.mark.parametrize(("raw", "changes", "reason"), [
    (b"---\n{a: 1, b: 2}\n---\n", {"a": 2}, "flow mapping"),
    (b"---\na: &x 1\nb: *x\n---\n", {"b": 2}, "anchor/alias"),
    (b"---\nbase: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n---\n", {"item": {"x": 1, "y": 3}}, "merge key"),
    (b"---\na: [1\n---\n", {"a": 2}, "not a readable card"),
    (b"---\na: 1\n---\n", {"a": object()}, "cannot be written"),
])
def test_unsupported_shapes_raise_write_error(raw: bytes, changes: dict, reason: str) -> None:
    with pytest.raises(WriteError) as err:
        patch(raw, changes, "card.md")
    assert reason in err.value.reason
    assert err.value.path == "card.md"


def test_example_card_edits(example_card: Path) -> None:
    raw = example_card.read_bytes()
    for changes in ({"quality": 77}, {"title": "A new title"}, {"published": True}, {"heat": 80}):
        new = patch(raw, changes, str(example_card))
        removed, added = changed(raw, new)
        assert len(removed) == len(added) == 1
        expected = dict(data(raw), **changes)
        assert data(new) == expected
    new = patch(raw, {"topics": ["AI", "Computer Vision", "Surveillance"]}, str(example_card))
    assert changed(raw, new) == ([], ["  - Surveillance\n"])


def test_a_block_scalar_set_to_line_breaks_only_goes_double_quoted() -> None:
    # A block scalar with no content reads as "", so "\n" cannot stay one (found by the properties).
    raw = b"---\n# note\n\nnotes: |\n  A\n---\n"
    assert patch(raw, {"notes": "\n"}, "card.md") == b'---\n# note\n\nnotes: "\\n"\n---\n'
    assert parse_card(patch(raw, {"notes": "\n\n"}, "card.md"), "card.md").data == {"notes": "\n\n"}
