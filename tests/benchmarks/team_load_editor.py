"""One editor of the team load benchmark (tests/benchmarks/test_team_load_bench.py), run as a script.

    python team_load_editor.py LIBRARY EDITOR SECONDS SEED MAX_ID

Waits for a line on stdin (every editor starts together), then for SECONDS makes random edits as an editor
at a desk would: single-field edits of one card and topic edits, each based on the version it read (a
refusal is counted, never retried blindly), small bulk publishes on current values, and undos of its own
latest step (a refused undo ends its undo history, as an editor gives up on it). Prints one JSON object:
every call with its kind, outcome and latency, and for each applied single edit the value it was based on,
so the parent can check it against the journal.
"""

from __future__ import annotations

import json
import random
import sys
import time
from typing import Any

from curator.core.store import LibraryBusy, StaleEdit, Store

TOPICS = ("Team A", "Team B", "Team C")
#: Cards every editor is on at once (the breaking story): a share of the single and topic edits go to them,
#: so editors really do meet on one card and the version check has work to do.
HOT_CARDS, HOT_SHARE = 25, 0.3


def run(store: Store, seconds: float, rng: random.Random, max_id: int) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    stack: list[int] = []  # own batches not undone, newest last
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        roll = rng.random()
        card = rng.randint(1, HOT_CARDS) if rng.random() < HOT_SHARE else rng.randint(1, max_id)
        call: dict[str, Any] = {}
        started = time.perf_counter()
        try:
            if roll < 0.75:
                detail = store.detail(card)
                if detail is None:
                    continue
                if roll < 0.55:
                    field = rng.choice(("quality", "heat", "published"))
                    value: Any = rng.choice((True, False)) if field == "published" else rng.randint(0, 100)
                    call = {"kind": "single", "card": card, "field": field, "based_on": detail.data.get(field)}
                    started = time.perf_counter()
                    result = store.set_fields([card], {field: value}, label=f"set {field}",
                                              expected={card: detail.version})  # fmt: skip
                else:
                    name = rng.choice(TOPICS)
                    add = name not in detail.topics
                    call = {"kind": "topic", "card": card, "field": "topics", "based_on": detail.data.get("topics")}
                    started = time.perf_counter()
                    change = store.add_topic if add else store.remove_topic
                    result = change([card], name, label=f"topic {name}", expected={card: detail.version})
            elif roll < 0.9:
                ids = sorted({rng.randint(1, max_id) for _ in range(rng.randint(5, 20))})
                call = {"kind": "bulk", "cards": len(ids)}
                started = time.perf_counter()
                result = store.set_fields(ids, {"published": rng.random() < 0.5}, label="bulk publish")
            else:
                if not stack:
                    continue
                batch = stack[-1]
                call = {"kind": "undo", "batch": batch}
                started = time.perf_counter()
                try:
                    result = store.undo(batch)
                except ValueError:
                    stack.clear()  # held by another editor's change: this editor's undo history ends here
                    call.update(outcome="refused", seconds=time.perf_counter() - started)
                    calls.append(call)
                    continue
                stack.pop()
                call.update(outcome="undone", seconds=time.perf_counter() - started,
                            skipped=len(result.skipped))  # fmt: skip
                calls.append(call)
                continue
        except StaleEdit:
            call.update(outcome="stale", seconds=time.perf_counter() - started)
            calls.append(call)
            continue
        except LibraryBusy:
            call.update(outcome="busy", seconds=time.perf_counter() - started)
            calls.append(call)
            continue
        call.update(outcome="applied" if result.batch_id is not None else "no-op",
                    seconds=time.perf_counter() - started, batch=result.batch_id)  # fmt: skip
        if result.batch_id is not None:
            stack.append(result.batch_id)
        calls.append(call)
    return {"calls": calls}


def main(argv: list[str]) -> None:
    library, editor, seconds, seed, max_id = argv
    with Store(library, editor=editor, busy_timeout=30) as store:
        sys.stdin.readline()
        report = run(store, float(seconds), random.Random(int(seed)), int(max_id))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
