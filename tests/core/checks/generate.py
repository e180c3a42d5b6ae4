"""A seeded, labelled feed for measuring the copy and same-story checks.

Each *story* is one event: its own people, organisation, place and figures, inside a *topic* whose
vocabulary it shares with every other story of that topic. A story is covered by several *pieces*
(each written its own way: different facts picked, different wording, its own headline and provider,
within two days); a piece is syndicated as *copies* (the same excerpt with a few words changed, cut
shorter, under another headline and provider, a day or two later). Hard negatives: stories of one
topic share most words, and a third of the stories follow another within days with the same organisation
and topic (often the same person) but another event.

Labels: ``story`` (same story) and ``piece`` (copies of one text) per card. Everything is a pure function
of the seed, so the measured figures are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from curator.core.checks.index import CheckCard

_SYLLABLES = ("ka", "lo", "mer", "tin", "sa", "vel", "dor", "ri", "an", "bru", "zel", "os", "fen", "ta",
              "mi", "gor", "ul", "pra", "nes", "kov", "li", "ber", "chi", "wa", "sten", "ha", "rum")
TOPICS = {
    "markets": "shares investors stocks trading index bank rates inflation bonds quarter profit growth "
               "economy analysts earnings currency central prices market forecast losses revenue",
    "climate": "emissions climate warming carbon temperatures drought floods energy renewable coal "
               "scientists targets glaciers heatwave pollution summit environmental rainfall wildfire",
    "tech": "software startup users data privacy app platform smartphone chips cloud artificial "
            "intelligence algorithm security hackers devices online launch engineers servers",
    "health": "hospital patients vaccine doctors virus disease treatment health trial cases medicine "
              "infections outbreak clinic nurses symptoms drug researchers study care",
    "politics": "election parliament minister government vote campaign party opposition law coalition "
                "president policy lawmakers reform protest ballot senate budget debate",
    "sport": "match season coach players league final goal champions tournament club victory fans "
             "striker injury title stadium squad cup defeat",
}
_VERBS = ("announced", "unveiled", "rejected", "approved", "warned about", "launched", "suspended",
          "confirmed", "denied", "expanded", "criticised", "postponed")
_NOUNS = ("plan", "deal", "probe", "report", "ban", "merger", "lawsuit", "programme", "inquiry", "strike",
          "recall", "agreement")
_PROVIDERS = [f"{a}{b}.example" for a in ("daily", "news", "wire", "post", "times", "herald", "globe")
              for b in ("one", "hub", "line", "now", "press", "desk")]
_SYNONYMS = {"announced": "said", "warned": "cautioned", "plan": "proposal", "deal": "agreement",
             "report": "study", "officials": "authorities", "big": "major", "after": "following",
             "people": "residents", "city": "town", "said": "stated", "company": "firm", "rise": "increase"}


@dataclass(frozen=True)
class Labelled:
    """A generated card with its truth: the story it covers and the text (piece) it copies."""

    card: CheckCard
    story: int
    piece: int


def _name(rng: Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


@dataclass
class _Story:
    topic: str
    person: str
    org: str
    place: str
    figure: int
    noun: str
    verb: str
    when: datetime


def _story(rng: Random, index: int, people: list[str], orgs: list[str], start: datetime) -> _Story:
    topic = rng.choice(sorted(TOPICS))
    return _Story(topic, rng.choice(people), rng.choice(orgs), _name(rng, 3), rng.randrange(12, 9000),
                  rng.choice(_NOUNS), rng.choice(_VERBS), start + timedelta(hours=rng.randrange(0, 24 * 300)))


def _facts(rng: Random, s: _Story) -> list[str]:
    """The sentences any coverage of the story may draw from, each mixing story and topic words."""
    t = TOPICS[s.topic].split()
    w = lambda: rng.choice(t)
    return [
        f"{s.org} {s.verb} a {s.noun} in {s.place} on Tuesday",
        f"{s.person} of {s.org} said the {s.noun} would affect {s.figure} {w()} {w()}",
        f"the move follows months of {w()} {w()} in {s.place}",
        f"critics said the {s.noun} ignores {w()} and {w()} concerns",
        f"{s.person} told reporters the {w()} {w()} would not change",
        f"about {s.figure} people in {s.place} are expected to be affected by the {w()} {s.noun}",
        f"{s.org} shares of {w()} and {w()} reacted as {s.person} spoke",
        f"officials in {s.place} promised a {w()} review of the {s.noun} by {s.org}",
    ]


def _reword(rng: Random, text: str, rate: float) -> str:
    out = []
    for word in text.split():
        if rng.random() < rate and word.lower() in _SYNONYMS:
            word = _SYNONYMS[word.lower()]
        out.append(word)
    return " ".join(out)


def _headline(rng: Random, s: _Story) -> str:
    forms = (f"{s.org} {s.verb} {s.noun} in {s.place}",
             f"{s.person}: {s.org} {s.noun} to affect {s.figure} in {s.place}",
             f"{s.place} braces for {s.org} {s.noun}",
             f"What the {s.org} {s.noun} means for {s.place}",
             f"{s.org} {s.noun} sparks {rng.choice(TOPICS[s.topic].split())} fears")
    return rng.choice(forms)


def _piece_text(rng: Random, s: _Story) -> str:
    facts = _facts(rng, s)
    chosen = rng.sample(facts, rng.randrange(3, 5))
    text = ". ".join(_reword(rng, f, 0.5) for f in chosen)
    return text[0].upper() + text[1:] + "."


def _copy_text(rng: Random, text: str) -> str:
    """Syndicated copy: a few words swapped, sometimes cut shorter with an ellipsis."""
    tokens = text.split()
    for _ in range(rng.randrange(0, 3)):
        i = rng.randrange(len(tokens))
        tokens[i] = _SYNONYMS.get(tokens[i].lower(), tokens[i])
    if rng.random() < 0.3:
        tokens = tokens[: max(8, int(len(tokens) * rng.uniform(0.6, 0.9)))] + ["..."]
    return " ".join(tokens)


def _url(provider: str, title: str, n: int) -> str:
    slug = "-".join(title.lower().replace(":", "").split())[:60]
    return f"https://www.{provider}/news/{slug}-{n}"


def generate(seed: int = 11, stories: int = 300) -> list[Labelled]:
    """A labelled feed: about 3.5 pieces a story, half of them with one to three copies."""
    rng = Random(seed)
    people = [f"{_name(rng)} {_name(rng, 3)}" for _ in range(max(10, stories // 3))]
    orgs = [_name(rng, 2) + rng.choice(("corp", " Group", " Bank", " Council", " Labs", " FC"))
            for _ in range(max(10, stories // 3))]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out: list[Labelled] = []
    piece_no = 0
    previous: _Story | None = None
    for story_no in range(stories):
        s = _story(rng, story_no, people, orgs, start)
        if previous is not None and rng.random() < 0.35:
            # A hard negative: the same organisation (often the same person) and topic a day or two
            # later, but another event (place, figure, what happened).
            s.topic, s.org, s.when = previous.topic, previous.org, previous.when + timedelta(hours=rng.randrange(6, 60))
            if rng.random() < 0.5:
                s.person = previous.person
        previous = s
        for _ in range(rng.randrange(1, 6)):
            piece_no += 1
            text = _piece_text(rng, s)
            when = s.when + timedelta(hours=rng.randrange(0, 48))
            providers = rng.sample(_PROVIDERS, 4)
            title = _headline(rng, s)
            versions = [(title, text, when, providers[0])]
            if rng.random() < 0.5:
                for k in range(rng.randrange(1, 4)):
                    other_title = title if rng.random() < 0.3 else _headline(rng, s)
                    versions.append((other_title, _copy_text(rng, text),
                                     when + timedelta(hours=rng.randrange(1, 60)), providers[k + 1]))
            for title_v, text_v, when_v, provider in versions:
                card_id = len(out) + 1
                out.append(Labelled(CheckCard(card_id, title_v, text_v, when_v.strftime("%Y-%m-%dT%H:%M:%S"),
                                              provider, _url(provider, title_v, card_id)), story_no, piece_no))
    return out


def pairs_by(labelled: list[Labelled], key: str) -> set[tuple[int, int]]:
    """Every unordered pair of card ids (low, high) that share the label ``key`` ("story" or "piece")."""
    groups: dict[int, list[int]] = {}
    for item in labelled:
        groups.setdefault(getattr(item, key), []).append(item.card.id)
    return {(a, b) for ids in groups.values() for i, a in enumerate(ids) for b in ids[i + 1:]}


def scores(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicted pairs against the true ones."""
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
