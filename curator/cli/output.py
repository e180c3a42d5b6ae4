"""Text and JSON-lines rendering for the command line (the only place CLI output is formatted)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TextIO

#: The fields of one card in `list --json`, in the contract's order.
LIST_FIELDS = (
    "id",
    "path",
    "title",
    "category",
    "provider",
    "published_at",
    "quality",
    "heat",
    "published",
    "topics",
    "dirty",
    "problems",
)

MISSING = "-"  # how text output shows an absent value

# Characters text output never prints as they are: C0 controls (ESC starts terminal commands), DEL, C1
# controls (U+009B is CSI on many terminals), the line/paragraph separators, bidirectional overrides and
# isolates (they reorder what follows on screen), and lone surrogates (a file name that is not UTF-8, as
# Python decodes it; printed raw they would end the command with UnicodeEncodeError).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Of those, what JSON leaves raw (json.dumps escapes C0 itself): escaped as \uXXXX, which every JSON
# reader decodes to the same character, so --json stays exact and a terminal still sees no command.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte the file name really holds
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as a visible escape (``\\x1b``, ``\\u009b``, ``\\n``).

    Every line of text output goes through here, to a terminal or a pipe alike: text output is for people,
    and it reaches their terminal through ``| grep`` and ``| head`` as well; scripts that need the exact
    values read ``--json``. A file name that is not UTF-8 shows its bytes (``\\xff``).
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_visible, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def to_json(obj: Any) -> str:
    """One JSON document on one line; non-ASCII text stays readable (the contract's single renderer).

    Characters a terminal would act on (DEL, C1, separators, bidi controls, lone surrogates) are written
    as ``\\uXXXX`` escapes: the same JSON value, but safe to print and always encodable as UTF-8.
    """
    text = json.dumps(obj, ensure_ascii=False, default=_json_default)
    if _JSON_UNSAFE.search(text) is None:
        return text
    return _JSON_UNSAFE.sub(_json_escape, text)


def _json_default(value: Any) -> Any:
    # Core values are plain JSON types; tuples/sets/paths may still slip through from dataclasses.
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def emit_json(obj: Any, out: TextIO | None = None) -> None:
    """Print ``obj`` as one JSON line."""
    print(to_json(obj), file=out or sys.stdout)


def row_dict(row: Any) -> dict[str, Any]:
    """The `list --json` object of a card row (any object with the list fields as attributes)."""
    result = {name: getattr(row, name) for name in LIST_FIELDS}
    result["topics"] = list(result["topics"] or [])
    return result


def text_value(value: Any) -> str:
    """A scalar as an editor reads it: absent as '-', booleans as yes/no, lists comma-separated."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(text_value(item) for item in value) if value else MISSING
    if isinstance(value, dict):
        return to_json(value)
    return str(value)


def _one_line(text: str) -> str:
    # A title with a newline in it would break the column layout.
    return " ".join(text.split())


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    right: Iterable[int] = (),
    exact: Iterable[int] = (),
    fit: bool | None = None,
) -> list[str]:
    """Aligned columns, the last one left ragged (and cut to the terminal width when ``fit``).

    Every cell is one line with no control character (:func:`printable`): runs of whitespace in text
    become one space, except in the ``exact`` columns (file paths), where only controls are escaped.

    Args:
        headers: column titles.
        rows: cells as text.
        right: indexes of the columns to right-align (numbers).
        exact: indexes of the columns shown exactly (escaped, whitespace kept).
        fit: cut the last column to the terminal width; default: only when stdout is a terminal.
    """
    exact_cols = set(exact)
    body = [
        [printable(cell if index in exact_cols else _one_line(cell)) for index, cell in enumerate(row)]
        for row in rows
    ]
    right_cols = set(right)
    widths = [len(h) for h in headers]
    for row in body:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell))
    if fit is None:
        fit = sys.stdout.isatty()
    limit = shutil.get_terminal_size().columns if fit else None
    lines = []
    for row in [list(headers), *body]:
        cells = []
        for index, cell in enumerate(row[:-1]):
            cells.append(cell.rjust(widths[index]) if index in right_cols else cell.ljust(widths[index]))
        cells.append(row[-1])
        line = "  ".join(cells).rstrip()
        if limit and len(line) > limit:
            line = line[: max(limit - 1, 0)] + "…"
        lines.append(line)
    return lines


def card_table(rows: Sequence[Any]) -> list[str]:
    """The text form of `list`: one aligned line per card (`*` after the id marks pending edits)."""
    cells = []
    for row in rows:
        marks = ("*" if row.dirty else "") + ("!" if getattr(row, "conflict", False) else "")
        cells.append(
            [
                f"{row.id}{marks}",
                text_value(row.quality),
                text_value(row.heat),
                text_value(row.published),
                (row.published_at or MISSING),
                text_value(row.provider),
                text_value(row.title),
            ]
        )
    return table(("ID", "QUAL", "HEAT", "PUB", "PUBLISHED AT", "PROVIDER", "TITLE"), cells, right=(0, 1, 2))


def labelled(pairs: Sequence[tuple[str, str]], indent: str = "") -> list[str]:
    """``label: value`` lines with the values aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    return [f"{indent}{(label + ':').ljust(width + 1)} {value}" for label, value in pairs]


def pending_text(file_value: Any, pending_value: Any) -> str:
    """A field with a pending edit: what the file holds and what a write will put there."""
    return f"{text_value(pending_value)}  (pending; file: {text_value(file_value)})"


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """The unified diff of one card file, with git-style ``a/PATH`` and ``b/PATH`` names.

    As git does for absolute paths, the leading slash is dropped, so ``patch -p1`` from ``/`` applies it.
    """
    import difflib  # only `write --dry-run` needs it

    name = path.lstrip("/\\")
    old_lines = _lines(old)
    new_lines = _lines(new)
    diff = difflib.unified_diff(old_lines, new_lines, fromfile=f"a/{name}", tofile=f"b/{name}")
    parts = []
    for line in diff:
        parts.append(line)
        if not line.endswith("\n"):
            # The last line of a file without a final newline: say so, as diff(1) does.
            parts.append("\n\\ No newline at end of file\n")
    return "".join(parts)


def printable_diff(diff: str) -> str:
    """A diff for a terminal: each line :func:`printable`, its own line ending kept.

    Only for a terminal: a diff sent to a pipe or a file stays byte for byte what ``patch`` needs.
    """
    return "".join(
        printable(line[:-1]) + "\n" if line.endswith("\n") else printable(line)
        for line in diff.splitlines(keepends=True)
    )


def _lines(data: bytes) -> list[str]:
    # Split on "\n" only: str.splitlines would also break at form feeds and U+2028 inside a line.
    text = data.decode("utf-8", errors="replace")
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def progress_printer(verb: str, stream: TextIO | None = None) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback that redraws one status line, or None when not on a terminal.

    Scripts and pipes get no progress noise; an editor importing 100k files sees it move.
    """
    out = stream or sys.stderr
    if not out.isatty():
        return None
    shown = [-1]

    def progress(done: int, total: int) -> None:
        percent = done * 100 // total if total else 100
        if percent != shown[0] or done == total:  # redraw at most once per percent
            shown[0] = percent
            end = "\n" if done >= total else ""
            out.write(f"\r{verb} {done}/{total} ({percent}%)" + end)
            out.flush()

    return progress


def summary(counts: Mapping[str, int]) -> str:
    """``3 added, 0 updated, ...``: one summary line from ordered counts."""
    return ", ".join(f"{count} {name}" for name, count in counts.items())


# -- show ---------------------------------------------------------------------------------------

#: Known file keys shown by `show`, with their labels, in the card format's order.
_SHOWN = (
    ("title", "Title"),
    ("category", "Category"),
    ("type", "Type"),
    ("provider", "Provider"),
    ("publishedDateTime", "Published at"),
    ("quality", "Quality"),
    ("heat", "Heat"),
    ("published", "Published"),
    ("topics", "Topics"),
    ("sourceUrl", "Source"),
    ("ampUrl", "AMP"),
    ("cdnAmpUrl", "AMP cache"),
    ("excerpt", "Excerpt"),
)
KNOWN_KEYS = frozenset(key for key, _ in _SHOWN) | {"images", "related", "secured"}


def problem_dict(problem: Any) -> dict[str, Any]:
    """The `check --json` object of one problem row."""
    return {name: getattr(problem, name) for name in ("id", "path", "field", "problem", "fixable")}


def detail_dict(
    detail: Any, summary: Any, problems: Sequence[Any], changes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `show --json` object: the list fields, then every known field, images, related, pending edits.

    ``problems`` stays the count, as in `list`; ``problem_list`` spells them out. ``other`` holds the
    file's keys Curator does not know (kept in the file as they are). ``version`` is the card's version
    and ``changed_by`` says who set each edited field's current value and when (seconds since the epoch):
    ``{"published": {"editor": "Ana", "when": 1764597600.5}}`` (``changes``: Store.last_changes).
    """
    data = detail.data
    result = row_dict(detail)
    result.update(
        {
            "date": detail.date,
            "conflict": detail.conflict,
            "missing": detail.missing,
            "excerpt": summary.excerpt,
            "type": summary.type,
            "source_url": summary.source_url,
            "amp_url": summary.amp_url,
            "cdn_amp_url": summary.cdn_amp_url,
            "provider_domain": summary.provider_domain,
            "images": list(detail.images),
            "related": list(detail.related),
            "secured": data.get("secured"),
            "other": {key: value for key, value in data.items() if key not in KNOWN_KEYS},
            "pending": {key: {"file": old, "pending": new} for key, (old, new) in detail.pending.items()},
            "problem_list": [
                {"field": p.field, "problem": p.problem, "fixable": p.fixable, "kind": p.kind}
                for p in problems
            ],
            "version": detail.version,
            "changed_by": {
                key: {"editor": change.editor, "when": change.when} for key, change in (changes or {}).items()
            },
        }
    )
    return result


def batch_dict(batch: Any) -> dict[str, Any]:
    """The `history --json` object of one edit batch (an undo step)."""
    return {name: getattr(batch, name) for name in ("id", "label", "editor", "created", "undone", "cards",
                                                     "entries")}  # fmt: skip


def changed_text(change: Any, now: float) -> str:
    """Who set a field's current value and when, as `show` appends it: ``Ana, 5 s ago``."""
    from curator.core.store_edits import ago

    return f"{change.editor or 'someone'}, {ago(now - change.when)}"


def history_text(batches: Sequence[Any], titles: Mapping[int, str], *, now: float) -> list[str]:
    """The text form of `history`: id, when, who, what (a single card's title, or the count of cards)."""
    from curator.core.store_edits import ago

    rows = []
    for b in batches:
        what = b.label + (f"  ({titles[b.id]})" if b.id in titles else f"  ({b.cards} cards)" if b.cards > 1 else "")
        rows.append([str(b.id), ago(now - b.created), b.editor or "-", what + ("  [undone]" if b.undone else "")])
    return table(["ID", "WHEN", "WHO", "EDIT"], rows, right=[0]) if rows else []


def _field_text(key: str, value: Any, summary: Any) -> str:
    if key == "provider":
        if isinstance(value, dict):
            name, domain = value.get("name"), value.get("domain")
            return f"{text_value(name)} ({domain})" if domain else text_value(name)
        return text_value(value)
    if key in ("images", "related"):
        return f"{len(value)} item(s)" if isinstance(value, list) else text_value(value)
    return text_value(value)


def card_text(
    detail: Any, summary: Any, problems: Sequence[Any], changes: Mapping[str, Any] | None = None,
    *, now: float = 0.0,
) -> list[str]:  # fmt: skip
    """The readable form of `show`: a header, aligned fields, images, related, other keys, problems.

    ``changes`` (Store.last_changes): a field an edit set ends with who set it and when, as of ``now``
    ("Published:  yes  (pending; file: no) — Ana, 5 s ago").
    """
    changes = changes or {}
    data = detail.data
    flags = [
        flag
        for flag, on in (
            ("pending edits", detail.dirty), ("CONFLICT", detail.conflict), ("file missing", detail.missing)
        )
        if on
    ]
    lines = [f"Card {detail.id}  {detail.path}" + "".join(f"  [{flag}]" for flag in flags)]
    pairs = []
    for key, label in _SHOWN:
        if key in detail.pending:
            old, new = detail.pending[key]
            shown = f"{_field_text(key, new, summary)}  (pending; file: {_field_text(key, old, summary)})"
        else:
            shown = _field_text(key, data.get(key), summary)
        if key in changes:
            shown += f" — {changed_text(changes[key], now)}"
        pairs.append((label, shown))
    lines += _wrap_excerpt(labelled(pairs))
    for key in ("images", "related"):
        if key in detail.pending:
            old, new = detail.pending[key]
            lines.append(f"{key.title()}: pending edit; file: {_field_text(key, old, summary)}"
                         + (f" — {changed_text(changes[key], now)}" if key in changes else ""))  # fmt: skip
    lines += _images_text(detail.images)
    lines += _related_text(detail.related)
    other = [key for key in data if key not in KNOWN_KEYS]
    if other:
        lines.append("Other fields (kept as they are): " + ", ".join(str(k) for k in other))
    secured = data.get("secured")
    if secured is not None:
        lines.append(f"Secured: signed value, {len(str(secured))} characters (never changed)")
    if problems:
        lines.append(f"Problems ({len(problems)}):")
        for p in problems:
            lines.append(f"  {p.field}: {p.problem}  [{p.kind}" + (", fixable]" if p.fixable else "]"))
    # Each entry is one line of the card: a newline left inside one is a value's own, and shows as \n.
    return [printable(line) for line in lines]


def _wrap_excerpt(lines: list[str]) -> list[str]:
    # An excerpt is a paragraph: wrap it under its label instead of one very long line.
    import textwrap  # only `show` needs it

    width = max(shutil.get_terminal_size().columns, 60)
    out = []
    for line in lines:
        if line.startswith("Excerpt:") and len(line) > width:
            indent = len(line) - len(line.split(":", 1)[1].lstrip())
            out += textwrap.wrap(line, width, subsequent_indent=" " * indent)
        else:
            out.append(line)
    return out


def _images_text(images: Sequence[dict[str, Any]]) -> list[str]:
    if not images:
        return []
    lines = [f"Images ({len(images)}):"]
    for number, image in enumerate(images, 1):
        width, height = image.get("width"), image.get("height")
        size = f"{width}x{height}" if width and height else ""
        parts = [text_value(image.get("url")), size, _one_line(str(image.get("title") or ""))]
        lines.append(f"  {number}. " + "  ".join(part for part in parts if part))
    return lines


def _related_text(related: Sequence[dict[str, Any]]) -> list[str]:
    if not related:
        return []
    lines = [f"Related ({len(related)}):"]
    for number, item in enumerate(related, 1):
        provider = item.get("provider")
        name = provider.get("name") if isinstance(provider, dict) else None
        extra = [str(x) for x in (name, item.get("publishedDateTime")) if x]
        if item.get("quality") is not None:
            extra.append(f"quality {item.get('quality')}")
        title = _one_line(str(item.get("title") or MISSING))
        lines.append(f"  {number}. {title}" + (f"  ({', '.join(extra)})" if extra else ""))
        if item.get("sourceUrl"):
            lines.append(f"     {item['sourceUrl']}")
    return lines


# -- write and check ----------------------------------------------------------------------------


def write_dict(report: Any) -> dict[str, Any]:
    """The `write --json` object.

    A file that already held the result (an earlier write was interrupted after the rename) counts
    as unchanged: this write did not touch it, and the contract calls it "simply clean" (its card is
    no longer dirty). A dry run counts it the same way, since it has no diff.
    """
    return {
        "written": report.written,
        "unchanged": report.unchanged + report.already,
        "conflicts": [{"path": c["path"], "reason": c["reason"]} for c in report.conflicts],
        "failed": [{"path": f["path"], "reason": f["reason"]} for f in report.failed],
    }


def write_text(report: Any, *, dry_run: bool = False) -> list[str]:
    """A summary line, then one line per conflict and per failure."""
    counts = write_dict(report)
    verb = "would be written" if dry_run else "written"
    head = (
        f"{counts['written']} {verb}, {counts['unchanged']} unchanged, "
        f"{len(counts['conflicts'])} conflicts, {len(counts['failed'])} failed"
    )
    lines = [head]
    lines += [printable(f"conflict: {c['path']}: {c['reason']}") for c in counts["conflicts"]]
    lines += [printable(f"failed: {f['path']}: {f['reason']}") for f in counts["failed"]]
    return lines


def problem_table(problems: Sequence[Any]) -> list[str]:
    """The text form of `check`: id, field, path, problem; `fix` marks the fixable ones."""
    cells = [[str(p.id), "fix" if p.fixable else "", p.field, p.path, p.problem] for p in problems]
    return table(("ID", "FIX", "FIELD", "PATH", "PROBLEM"), cells, right=(0,), exact=(3,))
