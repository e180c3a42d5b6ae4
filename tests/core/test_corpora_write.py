"""Every real front-matter file: no-op writes are byte-identical, one edit is a one-line diff."""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path

import pytest

from curator.core.cards import CardError, FileState, parse_card
from curator.core.writeback import DELETE, WriteError, patch, write_changes


def card_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in (".md", ".markdown", ".txt") and p.name != "SOURCE.md")


def state_of(raw: bytes, path: Path) -> FileState:
    return FileState(len(raw), path.stat().st_mtime_ns, hashlib.sha256(raw).hexdigest())


def line_changes(old: bytes, new: bytes) -> list[tuple[str, int, int]]:
    """(tag, old line count, new line count) of each differing run of lines."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    return [(tag, i2 - i1, j2 - j1)
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
            if tag != "equal"]


@pytest.fixture
def corpus_cards(corpus_copy: Path, example_card: Path) -> list[Path]:
    # The shared corpora are read-only, and copytree copies the modes: make the copies writable.
    for folder, _, names in os.walk(corpus_copy):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    files = [*card_files(corpus_copy), example_card]
    assert len(files) >= 1000
    return files


def test_no_op_writes_are_byte_identical_and_touch_nothing(corpus_cards: list[Path]) -> None:
    for path in corpus_cards:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        raw = path.read_bytes()
        data = parse_card(raw, str(path)).data
        # Setting every key to the value it has, and deleting an absent key, changes nothing.
        outcome = write_changes(str(path), state_of(raw, path), {**data, "curator-absent": DELETE})
        assert outcome.status == "unchanged", path
        assert path.read_bytes() == raw
        assert path.stat().st_mtime_ns == 1_000_000_000


def test_one_field_edits_are_one_line(corpus_cards: list[Path]) -> None:
    for path in corpus_cards:
        raw = path.read_bytes()
        data = parse_card(raw, str(path)).data
        name = str(path)

        # A missing key adds one line; an existing one changes one line.
        new = patch(raw, {"quality": 77}, name)
        assert line_changes(raw, new) == ([("replace", 1, 1)] if "quality" in data else [("insert", 0, 1)]), name
        assert parse_card(new, name).data == {**data, "quality": 77}

        title = "Edited: " + str(data.get("title", "new"))
        new = patch(raw, {"title": title}, name)
        assert line_changes(raw, new) == ([("replace", 1, 1)] if "title" in data else [("insert", 0, 1)]), name
        assert parse_card(new, name).data == {**data, "title": title}

        # One more topic (or a first one) is one more line, in the list's own style.
        topics = [*data.get("topics", []), "Curator"]
        new = patch(raw, {"topics": topics}, name)
        assert line_changes(raw, new) == [("insert", 0, 1)], name
        assert parse_card(new, name).data["topics"] == topics


def test_writes_read_back_from_disk(corpus_cards: list[Path]) -> None:
    # Real writes (temp file, fsync, rename) cost a few ms each, so every 10th card goes to disk
    # (every card is patched and re-parsed in memory above); the reread must hold the edit.
    for path in corpus_cards[::10] + corpus_cards[-1:]:
        raw = path.read_bytes()
        data = parse_card(raw, str(path)).data
        outcome = write_changes(str(path), state_of(raw, path), {"published": True})
        assert outcome.status == "written"
        assert parse_card(path.read_bytes(), str(path)).data == {**data, "published": True}
    assert not [p for p in corpus_cards[0].parent.iterdir() if ".curator-tmp-" in p.name]


def test_unreadable_files_are_refused_not_guessed(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"---\ntitle: [unclosed\n---\n")
    with pytest.raises(CardError):
        parse_card(path.read_bytes(), str(path))
    with pytest.raises(WriteError):
        patch(path.read_bytes(), {"quality": 1}, str(path))
