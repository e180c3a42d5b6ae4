"""`curator set`'s ways to name cards: --id repeated, --id with commas, --ids-from FILE or stdin."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import build_parser, main, merge_ids

from .conftest import ROOT, Curator, by_path


def _ids(library: Curator) -> dict[str, int]:
    return {name: row["id"] for name, row in by_path(library("list", "--json").json_lines()).items()}


def _dirty(library: Curator) -> dict[str, int | None]:
    """Heat of every card with pending edits, by file name."""
    rows = by_path(library("list", "dirty:true", "--json").json_lines())
    return {name: row["heat"] for name, row in rows.items()}


def test_comma_lists_repeats_and_files_name_the_same_cards(
    library: Curator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _ids(library)
    robots, garden, bare = ids["robots.md"], ids["garden.txt"], ids["bare.md"]
    db = str(library.db)

    assert main(["--db", db, "set", "--id", f"{robots}, {garden}", "--id", str(robots), "heat=40"]) == 0
    assert capsys.readouterr().out.strip() == "2 cards changed"  # robots named twice: changed once
    assert _dirty(library) == {"robots.md": 40, "garden.txt": 40}

    listing = tmp_path / "ids.txt"
    listing.write_text(f"{garden}\n\n  {bare}  \n{garden}\n", encoding="utf-8")
    assert main(["--db", db, "set", "--ids-from", str(listing), "heat=41"]) == 0
    assert capsys.readouterr().out.strip() == "2 cards changed"
    assert _dirty(library) == {"robots.md": 40, "garden.txt": 41, "bare.md": 41}

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{robots}\n{bare}\n"))
    assert main(["--db", db, "set", "--ids-from", "-", "heat=42", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("2 cards would change")
    assert _dirty(library)["robots.md"] == 40  # a dry run records nothing


def test_ids_from_stdin_through_a_real_pipe(library: Curator) -> None:
    robots = _ids(library)["robots.md"]
    done = subprocess.run(
        [sys.executable, "-m", "curator", "--db", str(library.db), "set", "--ids-from", "-", "heat=7"],
        input=f"{robots}\n", capture_output=True, text=True, cwd=ROOT, env=library.env, timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "1 card changed", done.stderr
    assert _dirty(library) == {"robots.md": 7}


def test_ten_thousand_repeated_ids_are_one_option_for_argparse(library: Curator,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    robots = str(_ids(library)["robots.md"])
    argv = ["--db", str(library.db), "set", *["--id", robots] * 10_000, "heat=9"]
    merged = merge_ids(argv)
    assert merged.count("--id") == 1  # argparse's per-repeat rescans made this quadratic
    assert build_parser().parse_args(merged).ids == [int(robots)] * 10_000
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == "1 card changed"


@pytest.mark.parametrize(("argv", "expected"), [
    (["set", "--id", "1", "quality=5", "--id=2,3", "--id", "4"], ["set", "--id", "1,2,3,4", "quality=5"]),
    (["--db", "x", "set", "--id", "1", "--dry-run", "--id", "-2"],
     ["--db", "x", "set", "--id", "1,-2", "--dry-run"]),
    # Not merged: a single --id, ids after "--", values that are no id lists (argparse words the error).
    (["set", "--id", "1", "quality=5"], None),
    (["set", "--id", "1", "--", "--id", "2"], None),
    (["set", "--id", "1", "--id", "x", "quality=5"], ["set", "--id", "1", "--id", "x", "quality=5"]),
    (["set", "--id", "1", "--id"], None),
    (["list", "--id", "1", "--id", "2"], None),
])  # fmt: skip
def test_merge_ids(argv: list[str], expected: list[str] | None) -> None:
    assert merge_ids(argv) == (argv if expected is None else expected)


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--id", "1,x"], 2, "'x' is not a card id"),
    (["--id", "1,"], 2, "'' is not a card id"),
    (["--id", "1", "--ids-from", "-"], 2, "not allowed with argument"),
    (["--ids-from", "{missing}"], 2, "No such file"),
    (["--ids-from", "{bad}"], 2, "line 2: 'seven' is not a card id"),
    (["--ids-from", "{unknown}"], 1, "no card with id 99998, 99999"),
])  # fmt: skip
def test_id_errors(library: Curator, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   args: list[str], code: int, words: str) -> None:
    (tmp_path / "bad.txt").write_text("1\nseven\n", encoding="utf-8")
    (tmp_path / "unknown.txt").write_text("99998\n99999\n", encoding="utf-8")
    names = {name: tmp_path / f"{name}.txt" for name in ("missing", "bad", "unknown")}
    args = [a.format(**names) for a in args]
    assert main(["--db", str(library.db), "set", *args, "heat=5"]) == code
    assert words in capsys.readouterr().err
    assert _dirty(library) == {}  # nothing recorded


def test_help_documents_every_way_to_name_cards(curator: Curator) -> None:
    shown = curator("set", "--help").out
    assert "--id ID[,ID...]" in shown and "--ids-from FILE" in shown
    assert "--id 7,9,12" in shown and "- for stdin" in shown
