"""Every real front-matter file in ../shared/corpora reads as a card, with a sensible summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from curator.core import cards, fields

# SOURCE.md is the corpora's own README (where the files came from), not a post: it has no front matter.
NOT_CARDS = {"SOURCE.md": "no front matter"}
# Real empty front matter ("---" right after "---"): an empty card.
EMPTY = {"jekyll-docs/_docs/rendering-process.md"}


def _card_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and cards.is_card_path(p.name))


def test_every_corpus_file_reads(corpus_copy: Path) -> None:
    files = _card_files(corpus_copy)
    assert len(files) == 1047  # 1,046 posts and SOURCE.md
    dated = 0
    for path in files:
        rel = path.relative_to(corpus_copy).as_posix()
        if rel in NOT_CARDS:
            with pytest.raises(cards.CardError, match=NOT_CARDS[rel]):
                cards.read_card(str(path))
            continue
        card, raw = cards.read_card(str(path))
        doc = cards.split(raw, str(path))
        # Timestamps aside, the values are what PyYAML's own safe loader makes of the front matter.
        expected = yaml.load(doc.yaml_text, Loader=yaml.CSafeLoader) or {}
        assert card.data.keys() == expected.keys(), rel
        assert all(card.data[k] == v for k, v in expected.items() if not hasattr(v, "year")), rel
        if rel in EMPTY:
            assert card.data == {}
        else:
            assert isinstance(card.data.get("title"), str), rel
        summary = fields.summarize(card.data)
        dated += summary.date is not None
        # The body stays exactly the bytes after the closing line.
        body = doc.text[doc.body_start:]
        assert raw.decode("utf-8-sig").endswith(body)
    assert dated >= 940  # the blog posts carry a `date`; most docs pages do not


def test_corpus_dates_keep_their_text(corpus_copy: Path) -> None:
    path = corpus_copy / "jekyll-docs" / "_posts" / "2023-01-29-jekyll-3-9-3-released.markdown"
    card, _ = cards.read_card(str(path))
    # This post's own date has a typo ("18:30:22 2023 -0800"): kept as written, no sortable date.
    assert card.data["date"] == "2023-01-29 18:30:22 2023 -0800"
    assert fields.summarize(card.data).date is None
    unquoted = [p for p in _card_files(corpus_copy / "jekyll-docs")
                if any(line.startswith("date: 20") for line in p.read_text(encoding="utf-8").splitlines()[:15])]
    assert unquoted, "the corpus has plain (unquoted) timestamps"
    for path in unquoted:
        data = cards.read_card(str(path))[0].data
        assert isinstance(data["date"], str), os.fspath(path)
