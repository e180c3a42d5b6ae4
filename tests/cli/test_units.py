"""In-process tests of the CLI's pure parts: `set` assignments and the renderers."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

import pytest

from curator.cli import assign, output


@dataclass
class Row:
    """The attributes `would_change` and the renderers read from a card row."""

    quality: int | None = 54
    heat: int | None = -1
    published: bool | None = False
    topics: list[str] = field(default_factory=lambda: ["AI", "Computer Vision"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quality=60", ("quality", "=", 60)),
        ("heat=-1", ("heat", "=", -1)),
        ("published=true", ("published", "=", True)),
        ("published=false", ("published", "=", False)),
        ("topics+= Machine Learning ", ("topics", "+=", "Machine Learning")),
        ("topics-=AI", ("topics", "-=", "AI")),
    ],
)
def test_parse_assignment(text: str, expected: tuple[object, ...]) -> None:
    parsed = assign.parse_assignment(text)
    assert (parsed.field, parsed.op, parsed.value) == expected
    assert type(parsed.value) is type(expected[2])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("quality", "not FIELD=VALUE"),
        ("colour=red", "unknown field 'colour'"),
        ("type=article", "unknown field 'type'"),
        ("topics=AI", "topics takes topics+=VALUE or topics-=VALUE"),
        ("quality+=5", "quality takes quality=VALUE"),
        ("topics+=  ", "cannot be empty"),
        ("quality=101", "quality"),
        ("quality=high", "quality"),
        ("heat=-7", "heat"),
        ("published=maybe", "published"),
    ],
)
def test_parse_assignment_rejects(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        assign.parse_assignment(text)


def test_parse_assignments_checks_all_first() -> None:
    with pytest.raises(ValueError, match="more than once"):
        assign.parse_assignments(["quality=1", "quality=2"])
    parsed = assign.parse_assignments(["quality=1", "topics+=A", "topics-=B", "heat=3"])
    assert assign.scalar_changes(parsed) == {"quality": 1, "heat": 3}
    assert [(a.op, a.value) for a in assign.topic_ops(parsed)] == [("+=", "A"), ("-=", "B")]


@pytest.mark.parametrize(
    ("texts", "changes"),
    [
        (["quality=54"], False),
        (["quality=55"], True),
        (["heat=-1", "published=false"], False),
        (["published=true"], True),
        (["topics+=ai"], False),
        (["topics+=Robots"], True),
        (["topics-=computer vision"], True),
        (["topics-=Robots"], False),
        (["topics-=AI", "topics+=AI"], True),
    ],
)
def test_would_change_follows_the_no_op_rules(texts: list[str], changes: bool) -> None:
    assert assign.would_change(Row(), assign.parse_assignments(texts)) is changes


def test_would_change_on_absent_values() -> None:
    # A card without quality/published changes when either is set, even to False.
    assert assign.would_change(Row(quality=None), assign.parse_assignments(["quality=0"]))
    assert assign.would_change(Row(published=None), assign.parse_assignments(["published=false"]))


def test_json_is_one_readable_line() -> None:
    line = output.to_json({"title": "Zürich “news”\nline two", "topics": ("a",)})
    assert "\n" not in line and "Zürich “news”" in line
    assert json.loads(line) == {"title": "Zürich “news”\nline two", "topics": ["a"]}


def test_table_aligns_columns_and_keeps_the_last_ragged() -> None:
    lines = output.table(("ID", "NAME", "TITLE"), [["7", "a", "x y"], ["123", "long name", "t"]], right=(0,), fit=False)
    assert lines == [" ID  NAME       TITLE", "  7  a          x y", "123  long name  t"]
    assert output.table(("A", "B"), [["x", "multi\nline"]], fit=False)[1] == "x  multi line"


def test_text_values() -> None:
    assert [output.text_value(v) for v in (None, True, False, [], ["a", "b"], 5)] == ["-", "yes", "no", "-", "a, b", "5"]


def test_unified_diff_names_and_missing_final_newline() -> None:
    diff = output.unified_diff("/tmp/c/card.md", b"---\nquality: 1\n---", b"---\nquality: 2\n---")
    assert diff.startswith("--- a/tmp/c/card.md\n+++ b/tmp/c/card.md\n")
    assert "-quality: 1\n+quality: 2\n" in diff
    assert output.unified_diff("/x", b"same\n", b"same\n") == ""
    tail = output.unified_diff("/x", b"a\nb", b"a\nc")
    assert tail.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")
    crlf = output.unified_diff("/x", b"a: 1\r\nb: 2\r\n", b"a: 1\r\nb: 3\r\n")
    assert "-b: 2\r\n+b: 3\r\n" in crlf


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    assert output.progress_printer("importing", io.StringIO()) is None
    stream = _Tty()
    progress = output.progress_printer("importing", stream)
    assert progress is not None
    for done in range(1, 401):
        progress(done, 400)
    drawn = stream.getvalue()
    assert drawn.count("\r") == 101 and drawn.endswith("\rimporting 400/400 (100%)\n")
