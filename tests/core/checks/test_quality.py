"""Precision and recall of copies and same-story suggestions on the labelled feed (generate.py).

Measured at the default thresholds, seed 11, 400 stories (2,400 cards): copies P 1.00 R 0.96 F1 0.98;
same story P 0.69 R 0.96 F1 0.80. The same-story precision is held down by the generator's hard
negatives (a third of its stories have a sibling event within days from the same organisation, topic
and often person); the floors below sit just under the measured figures so a regression fails.
"""

from __future__ import annotations

from curator.core.checks.index import CheckIndex
from tests.core.checks.generate import generate, pairs_by, scores


def test_copies_and_same_story_meet_their_floors() -> None:
    feed = generate(seed=11, stories=400)
    index = CheckIndex.build([item.card for item in feed])
    copy_truth = pairs_by(feed, "piece")
    predicted = {(a, b) for g in index.groups() for i, a in enumerate(g.ids) for b in g.ids[i + 1:]}
    p, r, f1 = scores(predicted, copy_truth)
    assert len(copy_truth) > 1000
    assert p >= 0.98 and r >= 0.93 and f1 >= 0.95, (p, r, f1)

    story_truth = pairs_by(feed, "story") - copy_truth
    suggested = {tuple(sorted((item.card.id, s.id))) for item in feed for s in index.suggest(item.card.id)}
    p, r, f1 = scores(suggested, story_truth)  # type: ignore[arg-type]
    assert len(story_truth) > 3000
    assert p >= 0.65 and r >= 0.93 and f1 >= 0.78, (p, r, f1)
