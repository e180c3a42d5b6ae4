"""The seeds generator: deterministic, parseable, varied, and the committed seeds/ match it."""

from __future__ import annotations

import collections
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import pytest
import yaml

from curator.core.cards import parse_card

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
# The documented run (seeds/README): python seeds/generate.py seeds --count 300 --seed 2020 --problems
SEED, COUNT = 2020, 300
NOT_GENERATED = {"000_63d795e8c7832238.txt", "README", "generate.py", "seed_text.py", "seed_emit.py",
                 "seed_vocabulary.py"}


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curator_seeds_generate", SEEDS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need their module registered
    spec.loader.exec_module(module)
    return module


gen = _load()


class _TextTimestamps(yaml.SafeLoader):
    """safe_load, but timestamps stay their text (as in curator's values)."""


_TextTimestamps.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


@pytest.fixture(scope="module")
def documented() -> list:
    """The cards of the documented run, generated in memory once for this module."""
    return list(gen.iter_cards(gen.Options(seed=SEED, count=COUNT, problems=True)))


def _committed() -> dict[str, bytes]:
    files = {}
    for path in SEEDS.rglob("*"):
        rel = path.relative_to(SEEDS).as_posix()
        if path.is_file() and path.name not in NOT_GENERATED and "__pycache__" not in rel:
            files[rel] = path.read_bytes()
    return files


def test_committed_seeds_equal_a_fresh_run(documented: list) -> None:
    committed = _committed()
    fresh = {card.path: card.raw for card in documented}
    assert sorted(committed) == sorted(fresh), "seeds/ holds files the generator does not make, or misses some"
    drifted = [rel for rel in fresh if committed[rel] != fresh[rel]]
    assert drifted == []


def test_same_arguments_same_bytes_other_seed_other_cards() -> None:
    opts = gen.Options(seed=7, count=40, problems=True)
    first = [(c.path, c.raw) for c in gen.iter_cards(opts)]
    assert first == [(c.path, c.raw) for c in gen.iter_cards(opts)]
    other = [(c.path, c.raw) for c in gen.iter_cards(gen.Options(seed=8, count=40, problems=True))]
    assert len(other) == len(first)
    assert not {raw for _, raw in first} & {raw for _, raw in other}


def test_every_card_reads_back_as_the_intended_mapping(documented: list) -> None:
    for card in documented:
        parsed = parse_card(card.raw, card.path)
        assert parsed.data == card.data, card.path
        assert "title" in parsed.data and "sourceUrl" in parsed.data


@pytest.mark.parametrize("seed", range(1, 21))
def test_problem_cards_read_back_for_any_seed(seed: int) -> None:
    # Problem cards patch an ordinary card, whose optional fields differ from seed to seed.
    for card in gen.iter_cards(gen.Options(seed=seed, count=0, problems=True)):
        assert parse_card(card.raw, card.path).data == card.data, card.path


def test_plain_yaml_files_are_a_bare_mapping_for_safe_load(documented: list) -> None:
    plain = [c for c in documented if c.path.endswith(".yaml")]
    assert plain
    for card in plain:
        assert not card.raw.startswith(b"---")
        assert yaml.load(card.raw.decode("utf-8-sig"), Loader=_TextTimestamps) == card.data


def test_fields_have_the_card_format_shapes(documented: list) -> None:
    ordinary = [c.data for c in documented if not c.path.startswith("problems/")]
    for data in ordinary:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data.get("publishedDateTime", "2020-01-01T00:00:00Z"))
        assert 0 <= data.get("quality", 0) <= 100
        assert data.get("heat", -1) == -1 or 0 <= data["heat"] <= 100
        assert isinstance(data.get("published", False), bool)
        assert 1 <= len(data.get("topics", ["x"])) <= 4
        assert len(data.get("images", [])) <= 2 and len(data.get("related", [])) <= 4
        provider = data.get("provider")
        if provider:
            host = urlsplit(data["sourceUrl"]).hostname
            assert host == provider["domain"] or host.endswith("." + provider["domain"])
        if "cdnAmpUrl" in data:
            amp = urlsplit(data["ampUrl"])
            assert data["cdnAmpUrl"].endswith(f".cdn.ampproject.org/c/s/{amp.hostname}{amp.path}" + (f"?{amp.query}" if amp.query else ""))
        for item in data.get("related", []):
            assert {"title", "sourceUrl", "provider", "type", "publishedDateTime"} <= set(item)
        if "secured" in data:
            assert re.fullmatch(r"[A-Za-z0-9+/]{300,}={0,2};[A-Za-z0-9+/]{22}==", data["secured"])
    assert sum(d.get("heat") == -1 for d in ordinary) > len(ordinary) // 4  # many cards not rated yet
    assert len({d["provider"]["name"] for d in ordinary if "provider" in d}) >= 35
    assert len({t for d in ordinary for t in d.get("topics", [])}) >= 50


def test_the_yaml_styles_vary_like_hand_made_files(documented: list) -> None:
    raws = [c.raw for c in documented]
    texts = [r.decode("utf-8-sig") for r in raws]
    assert sum(b"\r\n" in r for r in raws) >= 5
    assert any(r.startswith(b"\xef\xbb\xbf") for r in raws)
    assert any(re.search(r"^title: '", t, re.MULTILINE) for t in texts)
    assert any(re.search(r'^title: "', t, re.MULTILINE) for t in texts)
    assert any(re.search(r"^title: [A-Z]", t, re.MULTILINE) for t in texts)
    assert any(re.search(r"^topics: \[", t, re.MULTILINE) for t in texts)
    assert any(re.search(r"^topics:\r?\n  - ", t, re.MULTILINE) for t in texts)
    assert any(re.search(r"^related:\r?\n- ", t, re.MULTILINE) for t in texts)  # indentless list
    assert any(re.search(r"^excerpt: >-", t, re.MULTILINE) for t in texts)
    assert any(re.search(r"^# ", t, re.MULTILINE) for t in texts)
    assert any(re.search(r"  # ", t) for t in texts)
    md = [t for c, t in zip(documented, texts) if c.path.endswith(".md")]
    assert md and all(re.search(r"\n---\r?\n\r?\n## ", t) for t in md)
    known = {"category", "title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl", "type",
             "quality", "heat", "published", "provider", "topics", "images", "related", "secured"}
    assert any(set(c.data) - known for c in documented)
    assert any("excerpt" in c.data and c.data["excerpt"].endswith(" ...") for c in documented)


def test_words_follow_a_long_tailed_frequency(documented: list) -> None:
    words = collections.Counter(
        w.lower() for c in documented for w in re.findall(r"[A-Za-z]+", c.data["title"] + " " + c.data.get("excerpt", ""))
    )
    ranked = [n for _, n in words.most_common()]
    assert ranked[0] > 50 * ranked[len(ranked) // 2]  # a few very common words ...
    assert sum(n == 1 for n in ranked) > len(ranked) // 5  # ... and many that occur once


def test_problem_cards_each_hold_their_problem(documented: list) -> None:
    problems = {c.path: c.data for c in documented if c.path.startswith("problems/")}
    assert len(problems) == len(gen.PROBLEMS) >= 10
    by_kind = dict(zip(gen.PROBLEMS, (problems[p] for p in sorted(problems))))
    assert by_kind["quality-over-100"]["quality"] == 140
    assert by_kind["quality-word"]["quality"] == "high"
    assert by_kind["heat-minus-7"]["heat"] == -7
    assert by_kind["published-word"]["published"] == "maybe"
    assert by_kind["topics-not-a-list"]["topics"] == "AI"
    assert "\u00e2\u20ac\u2122" in by_kind["mojibake-related-title"]["related"][0]["title"]
    assert by_kind["source-url-ftp"]["sourceUrl"].startswith("ftp://")
    assert by_kind["image-url-file"]["images"][0]["url"].startswith("file:///")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", by_kind["date-unreadable"]["publishedDateTime"])


def test_command_line_writes_month_folders_with_the_image_base(tmp_path: Path) -> None:
    out = tmp_path / "cards"
    done = subprocess.run(
        [sys.executable, str(SEEDS / "generate.py"), str(out), "--count", "25", "--seed", "3",
         "--image-base", "http://127.0.0.1:8765/img/"],
        capture_output=True, text=True, check=True,
    )
    assert "wrote 25 cards" in done.stdout
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert len(files) == 25 and not (out / "problems").exists()
    for path in files:
        assert re.fullmatch(r"\d{4}-\d\d", path.parent.name)
        assert re.fullmatch(r"\d{6}_[0-9a-f]{16}\.(txt|md|yaml)", path.name)
        data = parse_card(path.read_bytes(), str(path)).data
        urls = [i["url"] for i in data.get("images", [])]
        urls += [i["url"] for r in data.get("related", []) for i in r.get("images", [])]
        assert all(u.startswith("http://127.0.0.1:8765/img/") for u in urls)
        assert data.get("publishedDateTime", path.parent.name).startswith(path.parent.name)
    numbers = [int(p.name[:6]) for p in sorted(files, key=lambda p: p.name)]
    assert numbers == list(range(1, 26))
