"""The publishing gate: before a bulk publish, name the duplicates and the cards with problems in it.

A feed carries one article under several links and syndicated copies of one text; publishing a selection
that holds two of them puts the story out twice. :func:`find` works out, from the checks index's saved
groups and the cards' problems, which targets to hold back:

- a **duplicate**: a card whose group already has a published card outside the selection, or every card
  of a group in the selection but the one kept (published already, else the best quality, else the
  earliest, else the lowest id: the same card each time);
- a card with **problems**: validation problems, a conflict or a missing file (``Store.flagged_cards``,
  one indexed query) or the checks' problems (``store_checks.selection_problems``: markup in a title,
  a date ahead, an AMP cache link that is not the AMP page's, …), looked for in selections of up to
  :data:`CHECK_LIMIT` cards (each card's mapping is read, ~0.4 ms a card, on the GUI thread).

The question is a plain-text message box: "Publish all", "Skip N", Cancel (:func:`ask`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from curator.core import fields
from curator.core.store import CardLabel, FlaggedCard, Store
from curator.gui import plain

#: How many held-back cards the box's text names (the details list them all).
NAMED = 8
#: Validation problems are put in words for this many cards (each mapping is read); the rest are counted.
REASONS = 200
#: The checks' problems are looked for in selections of at most this many cards (~0.2 s).
CHECK_LIMIT = 500
#: A title or reason in the box's text is cut here (the details hold them whole).
REASON_CHARS = 110


@dataclass(frozen=True)
class Held:
    """A target held back, and why, in words."""

    card_id: int
    title: str
    reason: str


@dataclass
class Gate:
    """What a bulk publish of `targets` would put out that it perhaps should not."""

    targets: list[int]
    duplicates: list[Held] = field(default_factory=list)
    problems: list[Held] = field(default_factory=list)
    #: The targets' flagged cards as Store.flagged_cards read them (by path): the bulk confirmation that
    #: follows lists the same cards, and takes them from here rather than reading them again.
    flagged: list[FlaggedCard] = field(default_factory=list)

    def flagged_among(self, ids: list[int]) -> list[FlaggedCard]:
        """The flagged cards among ``ids`` (some of the targets: all of them, or the rest), by path."""
        wanted = set(ids)
        return [f for f in self.flagged if f.id in wanted]

    @property
    def held_ids(self) -> set[int]:
        return {h.card_id for h in (*self.duplicates, *self.problems)}

    def rest(self) -> list[int]:
        """The targets once the held-back ones are skipped, in their order."""
        held = self.held_ids
        return [i for i in self.targets if i not in held]


def _title(row: CardLabel | None, card_id: int) -> str:
    if row is None:
        return f"card {card_id}"
    return row.title or row.path.rsplit("/", 1)[-1]


def _named(row: CardLabel) -> str:
    """A card as another card's reason names it: its title, provider and date (copies share titles)."""
    facts = ", ".join(x for x in (row.provider, (row.published_at or row.date or "")[:10]) if x)
    return f"{_title(row, row.id)!r}" + (f" ({facts})" if facts else "")


def _short(text: str, limit: int = REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _keeper(members: list[CardLabel]) -> CardLabel:
    return min(members, key=lambda r: (not r.published, -(r.quality or 0), r.published_at or r.date or "~",
                                       r.id))


def find(store: Store, targets: list[int]) -> Gate:
    """The duplicates and problem cards among `targets` (see the module docstring).

    Its cost follows the groups and the flagged cards, not the targets: "publish all" at 100k cards reads
    the saved groups, the labels of their ~9k cards (``Store.card_labels``: the few columns that name and
    rank a card, ~30 ms of CPU where their whole rows took ~80) and the flagged cards among the targets
    (one query each), and passes over the targets only to build their set and to put the held-back cards
    in their order.
    """
    gate = Gate(list(targets))
    chosen = set(gate.targets)
    groups = [g for g in store.duplicate_groups() if not chosen.isdisjoint(g.ids)]
    # Labels of the groups' cards only: reading every target's row cost seconds for "publish all" at 100k.
    rows = store.card_labels(sorted({i for g in groups for i in g.ids}))
    duplicate: dict[int, str] = {}
    for group in groups:
        inside: list[CardLabel] = []
        published_outside: CardLabel | None = None  # the group's first card published outside the selection
        for card_id in group.ids:
            row = rows.get(card_id)
            if row is None:
                continue  # gone from the library since the groups were saved
            if card_id in chosen:
                inside.append(row)
            elif published_outside is None and row.published:
                published_outside = row
        what = "the same article as" if group.kind == "url" else "a copy of"
        if published_outside is not None:
            reason = f"{what} {_named(published_outside)}, already published"
            for r in inside:
                duplicate[r.id] = reason
        elif len(inside) > 1:
            kept = _keeper(inside)
            reason = f"{what} {_named(kept)}, also in this publish"
            for r in inside:
                if r.id != kept.id:
                    duplicate[r.id] = reason
    problems: dict[int, str] = {}
    gate.flagged = store.flagged_cards(gate.targets)
    for n, flagged in enumerate(gate.flagged):
        if flagged.missing:
            problems[flagged.id] = "its file is missing"
        elif flagged.conflict:
            problems[flagged.id] = "its file changed on disk (a conflict)"
        elif n < REASONS:
            found = fields.problems(store.current_data(flagged.id) or {})
            words = "; ".join(p.problem for p in found[:2])
            problems[flagged.id] = words or plain.count(flagged.problems, "problem")
        else:
            problems[flagged.id] = plain.count(flagged.problems, "problem")
    if len(chosen) <= CHECK_LIMIT:
        from curator.core import store_checks  # numpy and the checks: loaded on the first small bulk publish

        for card_id, found in store_checks.selection_problems(store, list(chosen)).items():
            words = "; ".join(p.problem for p in found[:2])
            problems[card_id] = f"{problems[card_id]}; {words}" if card_id in problems else words
    untitled = sorted(set(problems) - set(rows))
    if untitled:  # their titles
        rows.update(store.card_labels(untitled))
    held = duplicate.keys() | problems.keys()
    for card_id in [i for i in gate.targets if i in held]:  # in the selection's order
        if card_id in duplicate:
            gate.duplicates.append(Held(card_id, _title(rows.get(card_id), card_id), duplicate[card_id]))
        elif card_id in problems:
            gate.problems.append(Held(card_id, _title(rows.get(card_id), card_id), problems[card_id]))
    return gate


def text(gate: Gate) -> tuple[str, str]:
    """The box's text and its details (every held-back card)."""
    parts = []
    if gate.duplicates:
        parts.append(plain.count(len(gate.duplicates), "duplicate"))
    if gate.problems:
        parts.append(plain.count(len(gate.problems), "card") + " with problems")
    held = [*gate.duplicates, *gate.problems]
    head = f"Publishing {plain.count(len(gate.targets), 'card')}: {' and '.join(parts)} among them.\n\n"
    named = "\n".join(f"• {_short(h.title)} — {_short(h.reason)}" for h in held[:NAMED])
    more = f"\n… and {len(held) - NAMED:,} more (Show Details…)" if len(held) > NAMED else ""
    detail = "\n".join(f"{h.card_id}\t{h.title}\t{h.reason}" for h in held)
    rest = len(gate.rest())
    tail = (f"\n\nSkip {len(gate.held_ids):,} publishes the other {plain.count(rest, 'card')}; Publish all "
            "publishes every one." if rest else f"\n\nSkip {len(gate.held_ids):,} publishes none of them.")
    return head + named + more + tail, detail


def box(gate: Gate, parent: QWidget | None) -> tuple[QMessageBox, dict[object, str]]:
    """The question, and what each of its buttons answers ("all", "skip", "cancel")."""
    body, detail = text(gate)
    question = QMessageBox(parent)
    question.setIcon(QMessageBox.Icon.Warning)
    question.setWindowTitle("Publish")
    question.setTextFormat(Qt.TextFormat.PlainText)
    question.setText(body)
    question.setDetailedText(detail)
    publish_all = question.addButton("Publish all", QMessageBox.ButtonRole.AcceptRole)
    held = len(gate.held_ids)
    skip = question.addButton(f"Skip {held:,}", QMessageBox.ButtonRole.AcceptRole)
    cancel = question.addButton(QMessageBox.StandardButton.Cancel)
    question.setDefaultButton(skip)
    question.setEscapeButton(cancel)
    return question, {publish_all: "all", skip: "skip", cancel: "cancel"}


def ask(gate: Gate, parent: QWidget | None) -> str:
    """Show the question (through ``plain.show``, which tests replace): "all", "skip" or "cancel"."""
    question, answers = box(gate, parent)
    plain.show(question)
    return answers.get(question.clickedButton(), "cancel")
