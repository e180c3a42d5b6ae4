"""The checks at 100k cards: full build, one-card update, same-story suggestion latency, peak memory.

Makes its own data (tests/core/checks/generate.py, ~100k cards with copies and same-story coverage,
each with sourceUrl, ampUrl and cdnAmpUrl) rather than the YAML data set: this measures the checks, not
the importer. Targets from issue 11: build <= 30 s, update <= 50 ms, suggestions <= 100 ms, peak
<= 500 MB for the build.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import statistics
import time

import pytest

from curator.core.checks.canonical import canonical_urls
from curator.core.checks.index import CheckCard, CheckIndex
from tests.core.checks.generate import generate

pytestmark = pytest.mark.benchmark
STORIES = int(os.environ.get("CURATOR_CHECKS_STORIES", "16800"))  # about 100k cards


def _cards() -> list[CheckCard]:
    out = []
    for item in generate(seed=5, stories=STORIES):
        card = item.card
        assert card.source_url
        amp = card.source_url.replace("https://www.", "https://amp.") + "?amp=1"
        cdn = "https://" + amp[8:].split("/")[0].replace("-", "--").replace(".", "-") + ".cdn.ampproject.org/c/s/" + amp[8:]
        out.append(dataclasses.replace(card, amp_url=amp, cdn_amp_url=cdn))
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_checks_at_scale() -> None:
    cards = _cards()
    before = _rss_mb()
    urls = [u for c in cards for u in (c.source_url, c.amp_url, c.cdn_amp_url)]
    started = time.perf_counter()
    canonical_urls(urls)
    per_url = (time.perf_counter() - started) / len(urls) * 1e6
    del urls
    started = time.perf_counter()
    index = CheckIndex.build(cards)
    groups = index.groups()
    build = time.perf_counter() - started
    peak = _rss_mb()
    latency = []
    for card in cards[:: max(1, len(cards) // 200)]:
        started = time.perf_counter()
        index.suggest(card.id)
        latency.append((time.perf_counter() - started) * 1e3)
    updates = []
    for card in cards[:: max(1, len(cards) // 200)]:
        edited = dataclasses.replace(card, excerpt=(card.excerpt or "") + " Officials declined to comment.")
        started = time.perf_counter()
        index.update(edited)
        updates.append((time.perf_counter() - started) * 1e3)
    print(f"\nchecks at {len(cards):,} cards: canonical {per_url:.1f} µs/URL; build+groups {build:.1f} s "
          f"({len(groups):,} groups); peak RSS {peak:.0f} MB ({peak - before:+.0f} MB over the data); "
          f"suggest p50 {statistics.median(latency):.1f} ms max {max(latency):.1f} ms; "
          f"update p50 {statistics.median(updates):.1f} ms max {max(updates):.1f} ms")
    assert build <= 30
    assert max(latency) <= 100
    assert statistics.median(updates) <= 50
