"""CLI test helpers: run the real `curator` in a subprocess over a real folder and a real library file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CARD = ROOT / "seeds" / "000_63d795e8c7832238.txt"
CORPORA = ROOT.parent / "shared" / "corpora"

# Corpus files copied beside the hand-written cards: real front matter with none of the card fields.
CORPUS_FILES = (
    "jekyll-docs/_docs/configuration.md",
    "jekyll-docs/_posts/2013-05-06-jekyll-1-0-0-released.markdown",
)

# Hand-written cards for specific cases (the example card is copied in as well).
CARDS: dict[str, str] = {
    # Flow-style topics, everything valid.
    "robots.md": (
        "---\n"
        "category: tech\n"
        'title: "Robots learn to fold laundry"\n'
        "excerpt: A lab shows a robot folding towels ...\n"
        "publishedDateTime: 2021-03-01T10:00:00Z\n"
        "sourceUrl: https://example.com/robots\n"
        "type: article\n"
        "quality: 70\n"
        "heat: 12\n"
        "published: true\n"
        "provider:\n"
        "  name: Example News\n"
        "  domain: example.com\n"
        "topics: [Robotics, AI]\n"
        "---\n"
        "Body text stays.\n"
    ),
    # Block-style topics; no heat and no published key.
    "garden.txt": (
        "---\n"
        "category: lifestyle\n"
        "title: Winter gardening tips\n"
        "publishedDateTime: 2019-12-05T08:00:00Z\n"
        "quality: 30\n"
        "provider:\n"
        "  name: Green Weekly\n"
        "  domain: green.example\n"
        "topics:\n"
        "  - Gardening\n"
        "---\n"
    ),
    # Plain YAML with wrong types / out-of-range values: imports, and `check` lists the problems.
    "wrong.yaml": "title: Wrong values\nquality: high\nheat: -7\npublished: false\n",
    # Fixable problems: numeric text, a yes/no string, a repeated topic.
    "fixme.yaml": "title: Fix me\nquality: '60'\npublished: 'yes'\ntopics: [AI, ai]\n",
    # Only a title: every other list field is null.
    "bare.md": "---\ntitle: Bare card\n---\n",
    # Not cards: a duplicate key (line 3 of the file) and a list instead of a mapping.
    "dupe.txt": "---\ntitle: One\ntitle: Two\n---\n",
    "list.yml": "- a\n- b\n",
}
GOOD = 1 + len(CORPUS_FILES) + 5  # example, corpus files, robots, garden, wrong, fixme, bare
BAD = 2


@dataclass
class Result:
    """A finished `curator` run."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as one JSON object."""
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        """stdout as one JSON object a line."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


class Curator:
    """Runs ``python -m curator --db DB ...`` with a clean environment rooted in tmp_path."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = tmp_path / "library.sqlite"
        self.env = {k: v for k, v in os.environ.items() if k != "CURATOR_DB"}
        # Never touch the real user data folder, whatever a test does.
        self.env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
        # Keep the session's PYTHONPATH after ROOT: it holds the network guard (tests/netguard_site).
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.cwd = tmp_path

    def __call__(self, *args: str, db: bool = True, env: dict[str, str] | None = None) -> Result:
        argv = [sys.executable, "-m", "curator", *(["--db", str(self.db)] if db else []), *args]
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env={**self.env, **(env or {})},
            cwd=self.cwd,
            timeout=60,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def curator(tmp_path: Path, library_url: str) -> Curator:
    """A runner for the real command line with its own library: a file in tmp_path, then a PostgreSQL
    database (``library_url``; a test about the file itself is marked ``sqlite_only``)."""
    runner = Curator(tmp_path)
    if library_url.startswith("postgresql://"):
        runner.db = library_url  # type: ignore[assignment]
    return runner


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    """A folder of cards: the example, two corpus files, hand-written cases, two broken files."""
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copyfile(EXAMPLE_CARD, folder / EXAMPLE_CARD.name)
    if not CORPORA.is_dir():
        pytest.skip(f"corpora not found at {CORPORA}")
    for name in CORPUS_FILES:
        shutil.copyfile(CORPORA / name, folder / Path(name).name)
    for name, text in CARDS.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    return folder


@pytest.fixture
def library(curator: Curator, cards: Path) -> Curator:
    """The runner, with ``cards`` imported (two files fail, the rest are in the library)."""
    result = curator("import", str(cards))
    assert result.code == 1, result.err
    return curator


def by_path(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`list --json` rows keyed by file name."""
    return {Path(row["path"]).name: row for row in rows}
