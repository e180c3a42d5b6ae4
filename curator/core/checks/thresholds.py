"""Every tunable of the checks in one value, so a library (and a team) can keep its own.

The defaults are the ones tests/core/checks/test_quality.py measures precision and recall at; a change
here shows up there first. Plain numbers only, so the value can be saved as preferences rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """How alike two cards must be to be called a copy or the same story.

    Copies: MinHash over ``shingle``-word shingles of title and excerpt, ``permutations`` hash functions
    cut into ``bands`` bands (a pair sharing one band is a candidate; with 64 permutations in 16 bands of
    4 rows a pair of Jaccard 0.5 becomes a candidate 64% of the time, 0.7 99%); a candidate is confirmed
    when the signatures agree on at least ``min_jaccard`` and rapidfuzz finds the excerpts alike
    (``copy_ratio`` on whole texts, or ``copy_partial`` when one is a cut version of the other).
    Cards with fewer than ``min_shingles`` shingles (a headline alone) are never called copies.

    Same story: TF-IDF cosine of title (counted ``title_weight`` times) and excerpt, stop words out,
    within ``window_days`` of the card; suggestions score at least ``min_score``. Words in more than
    ``max_df`` of all cards are skipped when scoring (their weight is near zero anyway; skipping them
    keeps a query off 50k-long posting lists; lists under 500 cards are always read).
    """

    shingle: int = 3
    permutations: int = 64
    bands: int = 16
    min_shingles: int = 5
    max_bucket: int = 64
    min_jaccard: float = 0.25
    copy_ratio: float = 80.0
    copy_partial: float = 92.0
    window_days: float = 3.0
    min_score: float = 0.25
    title_weight: int = 2
    max_df: float = 0.2
    seed: int = 20200118

    def __post_init__(self) -> None:
        if self.permutations % self.bands:
            raise ValueError(f"permutations ({self.permutations}) must be a multiple of bands ({self.bands})")
        if self.shingle < 1 or self.bands < 1:
            raise ValueError("shingle and bands must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        """Name -> value, for saving as preferences."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Thresholds:
        """Thresholds from saved preferences; unknown names are ignored, missing ones keep defaults."""
        known = {f.name: f.type for f in fields(cls)}
        kept = {}
        for name, value in values.items():
            if name in known:
                default = getattr(cls(), name)
                kept[name] = type(default)(value)
        return cls(**kept)
