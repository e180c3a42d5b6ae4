"""Headlines and teasers for seeds/generate.py, drawn with Zipf-like word frequencies."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from random import Random
from typing import Any

import seed_vocabulary as V

TOPIC_NAMES: tuple[str, ...] = tuple(V.TOPICS)


class Zipf:
    """Draws items with weight 1/rank**s: a few common ones, a long tail (like word frequencies)."""

    def __init__(self, items: Sequence[Any], s: float = 1.0) -> None:
        self.items = list(items)
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(len(self.items))))

    def __call__(self, rng: Random) -> Any:
        return self.items[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


TOPIC = Zipf(TOPIC_NAMES, 0.8)
_SUBJECT = Zipf(V.SUBJECTS)
_VERB = Zipf(V.VERBS)
_ADJ = Zipf(V.ADJECTIVES)
_NOUN = Zipf(V.NOUNS)
PLACE = Zipf(V.PLACES)
PROVIDER = Zipf(V.PROVIDERS, 0.6)
_CONNECTOR = Zipf(V.CONNECTORS)


def weighted(rng: Random, table: Sequence[tuple[Any, float]]) -> Any:
    x = rng.random() * sum(w for _, w in table)
    for value, weight in table:
        x -= weight
        if x < 0:
            return value
    return table[-1][0]


# ---------------------------------------------------------------- text

def _third_person(verb: str) -> str:
    head, _, rest = verb.partition(" ")
    if head.endswith(("s", "sh", "ch", "x")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {rest}".strip()


def company(rng: Random) -> str:
    return rng.choice(V.NAME_HEADS) + rng.choice(V.NAME_TAILS) + rng.choice(("", "", "", " AI", " Inc"))


def person(rng: Random) -> str:
    return f"{rng.choice(V.FIRST_NAMES)} {rng.choice(V.LAST_NAMES)}"


def _term(rng: Random, topics: Sequence[str]) -> str:
    return rng.choice(V.TOPICS[rng.choice(topics)])


# verbs that can end a sentence ("..., critics say")
_SAY = ("say", "say", "warn", "claim", "argue", "fear", "report")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def possessive(rng: Random, name: str) -> str:
    # Hand-typed files mix straight and curly apostrophes.
    return name + ("\u2019s" if rng.random() < 0.25 else "'s")


def headline(rng: Random, topics: Sequence[str]) -> str:
    """A headline about the card's topics, in sentence case."""
    t, a, n = _term(rng, topics), _ADJ(rng), _NOUN(rng)
    k = rng.randrange(8)
    if k == 0:
        text = f"{_SUBJECT(rng)} {_VERB(rng)} {a} {t} {n}"
    elif k == 1:
        text = f"{company(rng)} {_third_person(_VERB(rng))} {a} {t} {n} in {PLACE(rng)}"
    elif k == 2:
        text = f"{rng.choice(('Hundreds', 'Dozens', 'Thousands'))} of {PLACE(rng)} {_SUBJECT(rng).lower()} using '{a}' {t} {n}: report"
    elif k == 3:
        text = f"How {t} could change the {n}"
    elif k == 4:
        text = f"{PLACE(rng)} to {_VERB(rng)} {t} {n} {_CONNECTOR(rng)} {a} {_NOUN(rng)}"
    elif k == 5:
        text = f"Why {_SUBJECT(rng).lower()} {_VERB(rng)} the {a} {t} {n}"
    elif k == 6:
        text = f"{rng.randrange(3, 900)} {_SUBJECT(rng).lower()} {_VERB(rng)} {t} {n} {_CONNECTOR(rng)} {_ADJ(rng)} {_NOUN(rng)}"
    else:
        text = f"{possessive(rng, company(rng))} {t} {n} is '{a}', {_SUBJECT(rng).lower()} {rng.choice(_SAY)}"
    return _cap(text)


def sentence(rng: Random, topics: Sequence[str], provider: str) -> str:
    t, a, n = _term(rng, topics), _ADJ(rng), _NOUN(rng)
    k = rng.randrange(7)
    if k == 0:
        s = f"{_cap(a)} {t} {n} from {company(rng)} {_third_person(_VERB(rng))} the {_NOUN(rng)} {_CONNECTOR(rng)} {_SUBJECT(rng).lower()} {_VERB(rng)} {_ADJ(rng)} {_NOUN(rng)}"
    elif k == 1:
        role = rng.choice(("a spokesperson", "chief executive", "an analyst", "a professor", "head of research"))
        s = f"{person(rng)}, {role} at {company(rng)}, said the {n} would {_VERB(rng)} the {a} {_NOUN(rng)}"
    elif k == 2:
        s = f"According to {provider}, {rng.randrange(2, 1000)} {_SUBJECT(rng).lower()} in {PLACE(rng)} {_VERB(rng)} the {t} {n}"
    elif k == 3:
        day = rng.choice(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
        s = f"An {rng.choice(('explosive', 'extensive', 'unusual'))} new {PLACE(rng)} media report published on {day} revealed that a {a} {n} has been {_VERB(rng)}ed by {_SUBJECT(rng).lower()}"
    elif k == 4:
        s = f"The \"{a} {n}\" has people worried about their {_NOUN(rng)} as more {_SUBJECT(rng).lower()} sign on to use the {t} {_NOUN(rng)}"
    elif k == 5:
        s = f"{possessive(rng, PLACE(rng))} {t} {n} {_third_person(_VERB(rng))} {_ADJ(rng)} {_NOUN(rng)}, {_SUBJECT(rng).lower()} {rng.choice(_SAY)}"
    else:
        s = f"{_SUBJECT(rng)} {_VERB(rng)} {t} {n} {_CONNECTOR(rng)} the {_ADJ(rng)} {_NOUN(rng)} in {PLACE(rng)}"
    return _cap(s) + "."


def excerpt(rng: Random, topics: Sequence[str], provider: str) -> str:
    """Two to five sentences; most are cut at a word boundary and end in `` ...`` like feed teasers."""
    text = " ".join(sentence(rng, topics, provider) for _ in range(rng.randrange(2, 6)))
    if rng.random() < 0.65:
        limit = rng.randrange(180, 340)
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + " ..."
    return text


def slug(text: str, words: int = 12) -> str:
    parts = "".join(c if c.isascii() and c.isalnum() else " " for c in text.lower()).split()
    return "-".join(parts[:words])
