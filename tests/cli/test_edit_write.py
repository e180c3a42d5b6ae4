"""`curator set`, `write` and `check`, run for real: edits reach files only on write, minimally."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from curator.cli import main

from .conftest import Curator, by_path

SEED = "000_63d795e8c7832238.txt"


def _ids(library: Curator) -> dict[str, int]:
    return {name: row["id"] for name, row in by_path(library("list", "--json").json_lines()).items()}


def test_set_rules_dry_run_and_invalid_values(
    library: Curator, cards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _ids(library)
    seed, robots = str(ids[SEED]), str(ids["robots.md"])
    before = (cards / SEED).read_bytes()

    # Invalid value or field, even beside a valid one: exit 2, nothing recorded (in-process: no need
    # for a subprocess per case).
    for bad in (["quality=70", "quality=101"], ["heat=-7"], ["published=maybe"], ["colour=red"], ["topics=AI"]):
        assert main(["--db", str(library.db), "set", "--id", seed, *bad]) == 2, bad
        out, err = capsys.readouterr()
        assert err.startswith("curator: set: ") and out == ""
    assert library("list", "dirty:true", "--json").out == ""

    dry = library("set", "--query", "quality>=50", "published=true", "--dry-run")
    assert dry.code == 0 and dry.out.startswith("1 card would change")  # robots is already published
    assert library("list", "dirty:true", "--json").out == ""

    assert library("set", "--id", seed, "quality=54").out.strip() == "0 cards changed"  # already 54
    assert library("set", "--id", seed, "topics+=ai").out.strip() == "0 cards changed"  # case-insensitive
    assert library("set", "--id", seed, "topics-=Nope").out.strip() == "0 cards changed"
    assert library("list", "dirty:true", "--json").out == ""

    changed = library("set", "--id", seed, "--id", robots, "quality=80", "heat=5", "topics+=Privacy")
    assert changed.code == 0 and changed.out.strip() == "2 cards changed"
    rows = by_path(library("list", "dirty:true", "--json").json_lines())
    assert set(rows) == {SEED, "robots.md"}
    assert rows[SEED]["topics"] == ["AI", "Computer Vision", "Privacy"] and rows[SEED]["quality"] == 80
    assert rows["robots.md"]["topics"] == ["Robotics", "AI", "Privacy"]
    assert (cards / SEED).read_bytes() == before  # files change only on write

    shown = library("show", seed, "--json").json()
    assert shown["pending"]["quality"] == {"file": 54, "pending": 80}
    assert shown["pending"]["heat"] == {"file": -1, "pending": 5}
    text = library("show", seed).out
    assert "80  (pending; file: 54)" in text and "[pending edits]" in text

    assert library("set", "--id", "99999", "quality=1").code == 1
    assert library("set", "--query", "quality>=", "quality=1").code == 2


def test_write_dry_run_diff_then_minimal_write(library: Curator, cards: Path) -> None:
    ids = _ids(library)
    before = {name: (cards / name).read_bytes() for name in (SEED, "robots.md", "garden.txt")}
    assert library("set", "--id", str(ids[SEED]), "quality=80").code == 0
    assert library("set", "--id", str(ids["robots.md"]), "topics+=Home").code == 0
    assert library("set", "--id", str(ids["garden.txt"]), "published=true").code == 0

    dry = library("write", "--dry-run")
    assert dry.code == 0, dry.err
    seed_path = str(cards / SEED).lstrip("/")
    assert f"--- a/{seed_path}\n+++ b/{seed_path}\n" in dry.out
    assert "\n-quality: 54\n+quality: 80\n" in dry.out
    assert "\n-topics: [Robotics, AI]\n+topics: [Robotics, AI, Home]\n" in dry.out  # flow style kept
    assert "\n+published: true\n" in dry.out  # a missing key is added
    assert dry.err.startswith("3 would be written")
    assert {name: (cards / name).read_bytes() for name in before} == before
    # The dry-run diff is a real patch: it applies to the untouched files.
    if shutil.which("patch"):
        check = subprocess.run(["patch", "-p1", "--dry-run", "-d", "/"], input=dry.out, text=True, capture_output=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr

    written = library("write", "--json")
    assert written.code == 0, written.err
    assert written.json() == {"written": 3, "unchanged": 0, "conflicts": [], "failed": []}
    old, new = before[SEED].decode().splitlines(), (cards / SEED).read_bytes().decode().splitlines()
    assert [(a, b) for a, b in zip(old, new) if a != b] == [("quality: 54", "quality: 80")] and len(old) == len(new)
    assert library("list", "dirty:true", "--json").out == ""
    again = library("write")
    assert again.code == 0 and again.out.startswith("0 written, 0 unchanged, 0 conflicts, 0 failed")
    assert not [p for p in cards.iterdir() if p.name.startswith(".")]  # no temp files left behind


def test_write_of_a_file_already_holding_the_result_counts_it_unchanged(library: Curator,
                                                                         cards: Path) -> None:
    ids = _ids(library)
    assert library("set", "--id", str(ids[SEED]), "quality=80").code == 0
    # An earlier write got as far as the rename, then stopped before the library heard of it: the file
    # already holds exactly what this write would produce. The contract: "then it is simply clean".
    path = cards / SEED
    path.write_bytes(path.read_bytes().replace(b"\nquality: 54\n", b"\nquality: 80\n", 1))
    done = path.read_bytes()
    dry = library("write", "--dry-run")
    assert dry.code == 0 and dry.out == ""
    assert dry.err.startswith("0 would be written, 1 unchanged, 0 conflicts")
    result = library("write", "--json")
    assert result.code == 0, result.err
    assert result.json() == {"written": 0, "unchanged": 1, "conflicts": [], "failed": []}
    assert path.read_bytes() == done
    assert library("list", "dirty:true", "--json").out == ""  # clean, not a conflict
    assert by_path(library("list", "--json").json_lines())[SEED]["quality"] == 80
    assert "counts as\nunchanged" in library("write", "--help").out


def test_write_conflict_exit_3_and_failure_exit_1(library: Curator, cards: Path) -> None:
    ids = _ids(library)
    assert library("set", "--id", str(ids[SEED]), "--id", str(ids["robots.md"]), "heat=50").code == 0
    # Someone else edits the seed card after the edit was recorded: a conflict, skipped, edits kept.
    outside = (cards / SEED).read_text().replace("type: article", "type: story")
    (cards / SEED).write_text(outside)
    rescan = library("import", str(cards))  # a rescan notices it and keeps the edit
    assert f"conflict: {cards / SEED}: " in rescan.out
    assert [Path(r["path"]).name for r in library("list", "conflict:true", "--json").json_lines()] == [SEED]
    result = library("write", "--json")
    assert result.code == 3, result.err
    report = result.json()
    assert report["written"] == 1 and [c["path"] for c in report["conflicts"]] == [str(cards / SEED)]
    assert report["conflicts"][0]["reason"]
    assert (cards / SEED).read_text() == outside
    assert by_path(library("list", "dirty:true", "--json").json_lines())[SEED]["heat"] == 50

    text = library("write")
    assert text.code == 3
    assert text.out.splitlines()[0] == "0 written, 0 unchanged, 1 conflicts, 0 failed"
    assert text.out.splitlines()[1].startswith(f"conflict: {cards / SEED}: ")


def test_write_failure_on_immutable_file(library: Curator, cards: Path) -> None:
    ids = _ids(library)
    target = cards / "garden.txt"
    before = target.read_bytes()
    assert library("set", "--id", str(ids["garden.txt"]), "quality=99").code == 0
    # Tests run as root, so permission bits stop nothing: the immutable flag stops root too.
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(target)], check=False).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        result = library("write", "--json")
    finally:
        subprocess.run(["chattr", "-i", str(target)], check=True)
    assert result.code == 1, result.err
    report = result.json()
    assert report["written"] == 0 and report["conflicts"] == []
    assert [f["path"] for f in report["failed"]] == [str(target)] and report["failed"][0]["reason"]
    assert target.read_bytes() == before
    assert not [p for p in cards.iterdir() if p.name.startswith(".")]
    assert library("list", "dirty:true", "--json").json_lines()[0]["quality"] == 99  # edit kept


def test_check_lists_problems_and_fixes_a_kind(library: Curator, cards: Path) -> None:
    problems = library("check", "--json").json_lines()
    assert problems and all(set(p) == {"id", "path", "field", "problem", "fixable"} for p in problems)
    wrong = {p["field"]: p for p in problems if Path(p["path"]).name == "wrong.yaml"}
    assert set(wrong) == {"quality", "heat"} and not any(p["fixable"] for p in wrong.values())
    assert "high" in wrong["quality"]["problem"] and "-7" in wrong["heat"]["problem"]
    fixme = {p["field"]: p for p in problems if Path(p["path"]).name == "fixme.yaml"}
    assert set(fixme) == {"quality", "published", "topics"} and all(p["fixable"] for p in fixme.values())
    only = library("check", '"wrong values"', "--json").json_lines()
    assert {Path(p["path"]).name for p in only} == {"wrong.yaml"}
    text = library("check", "--", "-provider:dw")
    assert text.code == 0 and text.out.splitlines()[0].split() == ["ID", "FIX", "FIELD", "PATH", "PROBLEM"]
    assert "--fix KIND" in text.out.splitlines()[-1]

    assert library("check", "--fix", "colour").code == 2
    # Only the kind asked for: the repeated topic, not the numeric text.
    dup = library("check", "--fix", "duplicate")
    assert dup.code == 0 and dup.out.startswith("1 card changed"), dup.err
    card_id = fixme["topics"]["id"]
    shown = library("show", str(card_id), "--json").json()
    assert shown["pending"] == {"topics": {"file": ["AI", "ai"], "pending": ["AI"]}}
    assert {p["field"] for p in shown["problem_list"]} == {"quality", "published"}
    assert library("check", "--fix", "type", "fix").out.startswith("1 card changed")
    after = library("check", "--json").json_lines()
    assert not [p for p in after if p["id"] == card_id]
    assert {p["field"] for p in after if Path(p["path"]).name == "wrong.yaml"} == {"quality", "heat"}
    row = by_path(library("list", "dirty:true", "--json").json_lines())["fixme.yaml"]
    assert (row["quality"], row["published"], row["topics"]) == (60, True, ["AI"])
    # The example card's related[1].title is mojibake ("Russiaâ€™s"): `all` repairs it too.
    assert library("check", "--fix", "all").out.startswith("1 card changed")
    seed = library("show", str(_ids(library)[SEED]), "--json").json()
    assert seed["pending"]["related"]["pending"][1]["title"].startswith("Russia’s Yandex")
    assert library("check", "--fix", "all").out.startswith("0 cards changed")
