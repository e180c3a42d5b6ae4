"""`curator import`, `list` and `show`, run for real on a folder of cards and a library file."""

from __future__ import annotations

import os
from pathlib import Path

from .conftest import BAD, GOOD, Curator, by_path

LIST_KEYS = {
    "id", "path", "title", "category", "provider", "published_at",
    "quality", "heat", "published", "topics", "dirty", "problems",
}  # fmt: skip


def test_import_counts_errors_and_rescan(curator: Curator, cards: Path) -> None:
    first = curator("import", str(cards), "--json")
    assert first.code == 1, first.err  # two files failed, the rest imported
    report = first.json()
    assert set(report) == {"added", "updated", "unchanged", "removed", "failed", "errors"}
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (GOOD, 0, 0, 0)
    assert report["failed"] == BAD
    errors = {Path(e["path"]).name: e for e in report["errors"]}
    assert set(errors) == {"dupe.txt", "list.yml"}
    assert all(set(e) == {"path", "line", "column", "message"} and e["message"] for e in errors.values())
    assert os.path.isabs(errors["dupe.txt"]["path"])
    assert errors["dupe.txt"]["line"] == 3  # the repeated key, counted from the file's first line
    assert isinstance(errors["dupe.txt"]["column"], int)

    # A rescan skips what did not change; an edited file is updated, a deleted one removed.
    (cards / "garden.txt").write_text((cards / "garden.txt").read_text().replace("quality: 30", "quality: 31"))
    (cards / "bare.md").unlink()
    (cards / "dupe.txt").write_text("---\ntitle: Fixed now\n---\n")
    second = curator("import", str(cards), "--json")
    assert second.code == 1  # list.yml still fails
    report = second.json()
    assert (report["added"], report["updated"], report["removed"], report["failed"]) == (1, 1, 1, 1)
    assert report["unchanged"] == GOOD - 2

    # Text output: a summary on stdout, each failure on stderr with path and line; exit 0 once all import.
    (cards / "list.yml").unlink()
    third = curator("import", str(cards))
    assert third.code == 0, third.err
    assert third.out.splitlines()[0] == f"0 added, 0 updated, {GOOD} unchanged, 0 removed, 0 failed"
    assert third.err == ""


def test_import_relative_paths_are_stored_absolute(curator: Curator, cards: Path) -> None:
    result = curator("import", "cards/robots.md", "--json")  # cwd is tmp_path
    assert result.code == 0, result.err
    assert result.json()["added"] == 1
    (row,) = curator("list", "--json").json_lines()
    assert row["path"] == str(cards / "robots.md")
    failed = curator("import", "cards/list.yml")
    assert failed.code == 1
    assert f"{cards / 'list.yml'}:" in failed.err and failed.err.startswith("curator: import: ")


def test_list_json_fields_sort_limit_and_queries(library: Curator, cards: Path) -> None:
    rows = library("list", "--json").json_lines()
    assert len(rows) == GOOD
    assert all(set(row) == LIST_KEYS for row in rows)
    named = by_path(rows)
    seed = named["000_63d795e8c7832238.txt"]
    assert seed["published_at"] == "2020-01-18T18:42:00Z"  # the file's own text, not a reformatted date
    assert (seed["quality"], seed["heat"], seed["published"]) == (54, -1, False)
    assert (seed["provider"], seed["category"]) == ("Deutsche Welle", "news")
    assert seed["topics"] == ["AI", "Computer Vision"] and seed["dirty"] is False
    bare = named["bare.md"]
    assert bare["title"] == "Bare card"
    for key in ("category", "provider", "published_at", "quality", "heat", "published"):
        assert bare[key] is None, key
    assert bare["topics"] == [] and bare["problems"] == 0
    assert named["wrong.yaml"]["quality"] is None and named["wrong.yaml"]["problems"] >= 2

    ordered = library("list", "--json", "--sort", "quality:desc", "--limit", "3").json_lines()
    assert [r["quality"] for r in ordered] == [70, 54, 30]
    ascending = library("list", "quality>=0", "--json", "--sort", "quality").json_lines()
    assert [r["quality"] for r in ascending] == [30, 54, 70]
    by_title = [r["title"] for r in library("list", "--json", "--sort", "title", "--limit", "2").json_lines()]
    two_keys = library("list", "--json", "--sort", "published:desc,quality", "--limit", "2").json_lines()
    assert [(r["published"], r["quality"]) for r in two_keys] == [(True, 70), (False, 54)]
    assert by_title == sorted(by_title, key=str.casefold)
    assert library("list", "--json", "--limit", "0").out == ""

    assert [r["title"] for r in library("list", "topic:robotics published:true", "--json").json_lines()] == [
        "Robots learn to fold laundry"
    ]
    assert {Path(r["path"]).name for r in library("list", "--json", "--", "-quality>=50", "heat:-1").json_lines()} >= {
        "garden.txt"
    }
    bad = library("list", "(quality>=50))")
    assert bad.code == 2 and bad.out == ""
    assert bad.err.strip() == "curator: query: unexpected ')' at column 14"
    unknown = library("list", "--sort", "colour")
    assert unknown.code == 2 and "unknown sort key 'colour'" in unknown.err


def test_list_text_columns(library: Curator) -> None:
    result = library("list", "--sort", "quality:desc", "quality>=0")
    assert result.code == 0, result.err
    header, *lines = result.out.splitlines()
    assert header.split() == ["ID", "QUAL", "HEAT", "PUB", "PUBLISHED", "AT", "PROVIDER", "TITLE"]
    assert len(lines) == 3
    assert "Robots learn to fold laundry" in lines[0] and "Example News" in lines[0]
    # Aligned: every title starts in the header's TITLE column; absent values show as '-'.
    column = header.index("TITLE")
    assert [line[column:] for line in lines][2] == "Winter gardening tips"
    assert lines[2].split()[2:4] == ["-", "-"]  # garden.txt has no heat and no published key


def test_show_text_json_and_unknown_id(library: Curator) -> None:
    rows = by_path(library("list", "--json").json_lines())
    seed_id = rows["000_63d795e8c7832238.txt"]["id"]
    card = library("show", str(seed_id), "--json").json()
    assert LIST_KEYS <= set(card)
    assert card["published_at"] == "2020-01-18T18:42:00Z" and card["date"] == "2020-01-18T18:42:00"
    assert card["source_url"].startswith("https://www.dw.com/") and card["provider_domain"] == "dw.com"
    assert card["images"][0]["width"] == 1024
    assert [r["provider"]["name"] for r in card["related"]] == ["Complex", "International Business Times"]
    assert card["pending"] == {} and card["secured"].endswith("==") and card["other"] == {}

    text = library("show", str(seed_id))
    assert text.code == 0
    assert "Title:" in text.out and "Deutsche Welle (dw.com)" in text.out
    assert "Related (2):" in text.out and "Images (1):" in text.out

    corpus = library("show", str(rows["configuration.md"]["id"]), "--json").json()
    assert corpus["other"] == {"permalink": "/docs/configuration/"} and corpus["quality"] is None

    missing = library("show", "99999")
    assert missing.code == 1 and missing.err.strip() == "curator: show: no card with id 99999"
    assert library("show", "abc").code == 2
