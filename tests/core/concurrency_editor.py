"""One editor in its own process and connection, for tests/core/test_concurrency.py (run as a script).

    python concurrency_editor.py LIBRARY EDITOR stale CARD FIELD VALUE
        reads the card's version, prints ``{"version": N}``, waits for a line on stdin, then sets
        FIELD=VALUE (JSON) based on that version and prints ``{"ok": true}`` or
        ``{"ok": false, "stale": MESSAGE, "version": FRESH}``.
    python concurrency_editor.py LIBRARY EDITOR count CARD TIMES
        TIMES times: read the card, set quality to one more, based on the version read; a refusal (another
        editor was quicker) reads again and retries. Prints ``{"done": TIMES, "refused": R}``. Waits for a
        line on stdin first, so every editor starts together.
"""

from __future__ import annotations

import json
import sys

from curator.core.store import StaleEdit, Store


def stale(store: Store, card_id: int, field: str, value: str) -> None:
    detail = store.detail(card_id)
    assert detail is not None
    print(json.dumps({"version": detail.version}), flush=True)
    sys.stdin.readline()
    try:
        store.set_fields([card_id], {field: json.loads(value)}, label=f"set {field}",
                         expected={card_id: detail.version})  # fmt: skip
    except StaleEdit as err:
        print(json.dumps({"ok": False, "stale": str(err), "version": err.skipped.version}), flush=True)
        return
    print(json.dumps({"ok": True}), flush=True)


def count(store: Store, card_id: int, times: int) -> None:
    sys.stdin.readline()
    refused = 0
    done = 0
    while done < times:
        detail = store.detail(card_id)
        assert detail is not None and detail.quality is not None
        try:
            store.set_fields([card_id], {"quality": detail.quality + 1}, label="count",
                             expected={card_id: detail.version})  # fmt: skip
        except StaleEdit:
            refused += 1
            continue
        done += 1
    print(json.dumps({"done": done, "refused": refused}), flush=True)


def main(argv: list[str]) -> None:
    library, editor, mode, *rest = argv
    with Store(library, editor=editor, busy_timeout=30) as store:
        if mode == "stale":
            stale(store, int(rest[0]), rest[1], rest[2])
        else:
            count(store, int(rest[0]), int(rest[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
