"""Odd card files and odd values, and folders that mix them with good cards (so they share import batches).

Other tests import this module: ``odd_files()`` lists every odd case with what Curator must make of it, and
``write_mixed_folder(tmp, n_good)`` lays them out among ``n_good`` good cards and returns a Manifest.

What each case expects (``OddFile.expect``):

- ``"card"``: imports with no problem of its own making (it is odd but valid: BOM + CRLF, zero-width
  characters, a 1 MB line, 5,000 topics, ...);
- ``"problem"``: imports, and the card has a problem whose sentence matches ``OddFile.reason`` (a value
  the library cannot hold as it is: ``quality: 9223372036854775808``, ``.nan``, a 5,000-digit number);
- ``"error"``: is not imported; the import reports an error for that file whose message matches
  ``OddFile.reason`` (a FIFO named ``x.md``, invalid UTF-8, a name that is not UTF-8, 5 MB + 1 bytes, ...);
- ``"ignored"``: not a card file at all, nothing reported (a folder named ``x.md``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from curator.core.cards import MAX_DEPTH, MAX_FILE_BYTES

Expect = Literal["card", "problem", "error", "ignored"]
#: How an OddFile is made: "file" (a regular file with ``content``), "fifo", "folder", "devlink" (a link to
#: /dev/zero), "chardev" (a character device made with mknod; a devlink where that is not allowed).
Kind = Literal["file", "fifo", "folder", "devlink", "chardev"]


@dataclass(frozen=True)
class OddFile:
    """One odd file: its name (bytes for a name that is not valid UTF-8), content and what must happen."""

    name: str | bytes
    content: bytes | None  # None for anything but a regular file
    kind: Kind
    expect: Expect
    reason: str  # a regular expression the error's message or one of the card's problems must match ("" : none)
    why: str  # what the case tries, for test ids and failure messages


@dataclass
class Manifest:
    """What write_mixed_folder made: paths as Curator sees them (``os.fsdecode`` of the real name)."""

    folder: Path
    good: list[str] = field(default_factory=list)
    odd: dict[str, OddFile] = field(default_factory=dict)

    def expecting(self, expect: Expect) -> dict[str, OddFile]:
        """The odd files that expect ``expect``, by path."""
        return {path: odd for path, odd in self.odd.items() if odd.expect == expect}


def good_card(i: int) -> bytes:
    """A valid card with every known field, different for each ``i``."""
    return (
        "---\n"
        f'title: "Good card number {i}"\n'
        "category: news\n"
        f"excerpt: The excerpt of card {i}...\n"
        f"publishedDateTime: '2020-01-{i % 28 + 1:02d}T10:00:00Z'\n"
        f"sourceUrl: https://example.com/news/{i}\n"
        "type: article\n"
        f"quality: {i % 40}\n"  # never the 42 the tests set
        "heat: -1\n"
        "published: false\n"
        "provider:\n  name: Example\n  domain: example.com\n"
        f"topics:\n  - AI\n  - Topic {i % 7}\n"
        f"images:\n  - url: https://example.com/{i}.jpg\n    width: 640\n    height: 480\n    title: Image {i}\n"
        "---\n\nBody.\n"
    ).encode()


def _front(yaml_text: str) -> bytes:
    return f"---\ntitle: Odd\nquality: 5\n{yaml_text}---\nBody\n".encode()


def _nested(levels: int) -> bytes:
    return _front("deep: " + "[" * levels + "]" * levels + "\n")


def odd_files() -> list[OddFile]:
    """Every odd case (names are unique; none starts with a dot, so the walk sees them all)."""
    long_int = "1" * 5000
    sexagesimal = "1:" + "0:" * 3000 + "0"  # 3,000 base-60 digits: a whole number of ~5,300 digits
    cases = [
        # Values the library cannot hold as they are: imported, with a problem.
        OddFile("int64-quality.md", _front("views: 1\n").replace(b"quality: 5", b"quality: 9223372036854775808"),
                "file", "problem", r"quality 9223372036854775808 is out of range", "quality past int64"),
        OddFile("int64-heat.md", _front("heat: -9223372036854775809\n"), "file", "problem",
                r"heat -9223372036854775809 is out of range", "heat below int64"),
        OddFile("width-20-digits.md", _front("images:\n  - url: https://example.com/a.jpg\n"
                                             "    width: 99999999999999999999\n    height: 5\n"),
                "file", "problem", r"images\[0\]\.width 99999999999999999999 is out of range", "image width"),
        OddFile("long-int-unknown-key.md", _front(f"views: {long_int}\n"), "file", "problem",
                r"views is a whole number of 5,000 characters", "5,000 digits in an unknown key"),
        OddFile("long-int-quality.md", _front("").replace(b"quality: 5", f"quality: {long_int}".encode()),
                "file", "problem", r"quality must be a whole number", "5,000 digits in quality"),
        OddFile("sexagesimal.md", _front(f"views: {sexagesimal}\n"), "file", "problem",
                r"views is a whole number of [\d,]+ characters", "a long base-60 int"),
        OddFile("hex-huge.yaml", f"title: Odd\nbig: 0x{'f' * 4000}\n".encode(), "file", "problem",
                r"big is a whole number", "a 4,000-digit hex int (plain YAML)"),
        OddFile("nan-unknown.md", _front("ratio: .nan\nother: .NaN\n"), "file", "problem",
                r"ratio is \.nan \(not a number\)", "NaN in an unknown key"),
        OddFile("inf-quality.md", _front("").replace(b"quality: 5", b"quality: .inf"), "file", "problem",
                r"quality must be a whole number from 0 to 100, not '\.inf'", "infinity in quality"),
        OddFile("inf-deep.md", _front("related:\n  - title: R\n    sourceUrl: https://example.com/r\n"
                                      "    views: -.inf\n    scores: [1.0e+400, .nan]\n"),
                "file", "problem", r"related\[0\]\.views is -\.inf \(infinite\)", "infinities inside related"),
        OddFile("nan-key.md", _front(".nan: key that is NaN\n.inf: key that is infinite\n"), "file", "card", "",
                "NaN and infinity as keys"),
        # Odd but valid cards.
        OddFile("bom-crlf.md", b"\xef\xbb\xbf---\r\ntitle: BOM and CRLF\r\nquality: 7\r\n---\r\nBody\r\n", "file",
                "card", "", "BOM + CRLF"),
        OddFile("zero-width.md", _front('note: "\u200b\u200d\ufeff"\n').replace(
            b"title: Odd", "title: \"Zero\u200bwidth\u2060joiners\u200d\"".encode()), "file", "card", "",
            "zero-width characters"),
        OddFile("control-title.md", _front("").replace(b"title: Odd", b'title: "\\e]0;evil\\a\\e[2J\\e[31m"'),
                "file", "card", "", "terminal escapes in a title (YAML escapes)"),
        OddFile("nul-escape.md", _front('note: "a\\0b"\n'), "file", "card", "", "a NUL character via an escape"),
        OddFile("long-line.md", _front(f"excerpt: {'x' * 1_000_000}\n"), "file", "card", "", "a 1 MB line"),
        OddFile("many-topics.md", _front("topics:\n" + "".join(f"  - topic {i}\n" for i in range(5000))), "file",
                "card", "", "5,000 topics"),
        OddFile("huge-list.md", _front("numbers: [" + ", ".join(str(i) for i in range(200_000)) + "]\n"), "file",
                "card", "", "a list of 200,000 numbers"),
        OddFile("depth-max.md", _nested(MAX_DEPTH - 1), "file", "card", "", f"nesting {MAX_DEPTH} levels deep"),
        OddFile("empty-front-matter.md", b"---\n---\nOnly a body\n", "file", "card", "", "empty front matter"),
        OddFile("tab-in-value.md", _front("note: a\tb\t\n"), "file", "card", "", "tabs inside a value"),
        OddFile("timestamps.md", _front("when: 2001-12-14t21:59:43.10-05:00\nday: 2002-12-14\n"), "file", "card", "",
                "timestamps in unknown keys"),
        OddFile("binary-tag.md", _front("blob: !!binary aGVsbG8=\n"), "file", "card", "", "a !!binary value"),
        OddFile("anchors.md", _front("a: &x {k: [1, 2]}\nb: *x\nc: {<<: *x, z: 1}\n"), "file", "card", "",
                "anchors, aliases and a merge"),
        OddFile("unicode-name-\u00e9\u6f22\U0001f600.md", good_card(10**6), "file", "card", "",
                "a non-ASCII (valid UTF-8) name"),
        OddFile("x" * 200 + ".md", good_card(2 * 10**6), "file", "card", "", "a 203-character name"),
        # Not cards: reported, never imported.
        OddFile(b"latin1-\xe9.md", good_card(3 * 10**6), "file", "error", r"file name is not valid UTF-8",
                "a file name that is not UTF-8"),
        OddFile("fifo.md", None, "fifo", "error", r"not a regular file \(a FIFO\)", "a FIFO named like a card"),
        OddFile("zero.md", None, "devlink", "error", r"not a regular file \(a character device\)",
                "a link to /dev/zero"),
        OddFile("device.md", None, "chardev", "error", r"not a regular file \(a character device\)",
                "a character device (mknod; a /dev/zero link without root)"),
        OddFile("folder.md", None, "folder", "ignored", "", "a folder named like a card"),
        OddFile("too-big.md", _front("pad: " + "x" * (MAX_FILE_BYTES - 40) + "\n").ljust(MAX_FILE_BYTES + 1, b"\n"),
                "file", "error", r"cards are limited to 5 MB", "5 MB + 1 byte"),
        OddFile("empty.md", b"", "file", "error", r"the file is empty", "an empty file"),
        OddFile("only-dashes.md", b"---\n", "file", "error", r"front matter is not closed", "only '---'"),
        OddFile("dup-deep.md", _front("a:\n  b:\n    c: 1\n    c: 2\n"), "file", "error", r"duplicate key 'c'",
                "a duplicate key three levels down"),
        OddFile("nul-byte.md", _front("a: 1\n") + b"\x00", "file", "error", r"NUL byte", "a NUL byte"),
        OddFile("bad-utf8.md", _front("a: cafe\n").replace(b"cafe", b"caf\xe9"), "file", "error",
                r"not valid UTF-8 at line 4", "invalid UTF-8 in the text"),
        OddFile("lone-surrogate.md", _front('a: "\\ud800"\n'), "file", "error", r"YAML syntax error",
                "a lone surrogate via an escape"),
        OddFile("big-escape.md", _front('a: "\\U00110000"\n'), "file", "error", r"YAML syntax error",
                "an escape past U+10FFFF"),
        OddFile("raw-control.md", _front("a: x\x1by\n"), "file", "error", r"character U\+001B is not allowed",
                "a raw ESC character"),
        OddFile("tab-indent.md", b"---\ntitle: T\nmap:\n\tkey: 1\n---\n", "file", "error", r"YAML syntax error",
                "a tab used as indentation"),
        OddFile("too-deep.md", _nested(MAX_DEPTH + 5), "file", "error", r"nested more than 100 levels",
                "nesting past the limit"),
        OddFile("very-deep.md", _nested(50_000), "file", "error", r"nested more than 100 levels",
                "50,000 levels (would overflow libyaml's stack)"),
        OddFile("alias-bomb.md", _front("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))),
            "file", "error", r"alias bomb", "a billion laughs"),
        OddFile("python-tag.md", _front("a: !!python/object/apply:os.system ['true']\n"), "file", "error",
                r"tag '!!python/object/apply:os.system' is not allowed", "a Python object tag"),
        OddFile("bad-int-tag.md", _front("a: !!int high\n"), "file", "error", r"is not a valid !!int value",
                "an explicit !!int that is no int"),
        OddFile("digitless-int.md", _front("a: 0b_\nb: !!int 0x_\n"), "file", "card", "",
                "ints YAML's pattern allows without a digit (PyYAML itself fails on them)"),
        OddFile("not-mapping.md", b"---\n- a\n- b\n---\n", "file", "error", r"the card is a list", "a list card"),
        OddFile("two-docs.yaml", b"a: 1\n---\nb: 2\n", "file", "error", r"several YAML documents", "two documents"),
        OddFile("unclosed.md", b"---\ntitle: T\n", "file", "error", r"front matter is not closed",
                "front matter never closed"),
        OddFile("binary.md", bytes(range(256)) * 8, "file", "error", r"NUL byte", "binary data"),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "odd file names must be unique"
    return cases


def _make(folder: Path, prefix: str, odd: OddFile) -> str:
    """Create one odd file in ``folder``; returns its path as Curator sees it (str, fsdecoded)."""
    name = odd.name if isinstance(odd.name, bytes) else os.fsencode(odd.name)
    raw = os.path.join(os.fsencode(folder), os.fsencode(prefix) + name)
    kind = odd.kind
    if kind == "chardev":
        try:
            os.mknod(raw, 0o644 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
        except (PermissionError, AttributeError):
            kind = "devlink"
    if kind == "file":
        assert odd.content is not None
        with open(raw, "wb") as f:
            f.write(odd.content)
    elif kind == "fifo":
        os.mkfifo(raw)
    elif kind == "folder":
        os.mkdir(raw)
    elif kind == "devlink":
        os.symlink("/dev/zero", raw)
    return os.fsdecode(raw)


def write_mixed_folder(tmp: Path, n_good: int, *, odd: list[OddFile] | None = None) -> Manifest:
    """A folder ``tmp/mixed`` with ``n_good`` good cards and every odd file (or ``odd``) among them.

    Good and odd files are created interleaved, in one folder, named so that they also sort together
    (``g00017.md``, ``g00017-fifo.md``, ...): walked, chunked and batched together. A folder named like a
    card holds a good card (``g...-folder.md/inside.txt``): a card inside it is a card.
    """
    folder = tmp / "mixed"
    folder.mkdir(parents=True)
    manifest = Manifest(folder)
    cases = list(odd_files() if odd is None else odd)
    step = max(1, n_good // max(1, len(cases)))
    for i in range(max(n_good, len(cases) * step)):
        if i < n_good:
            path = folder / f"g{i:05d}.md"
            path.write_bytes(good_card(i))
            manifest.good.append(str(path))
        if i % step == 0 and cases:
            case = cases.pop(0)
            path_text = _make(folder, f"g{i:05d}-", case)
            manifest.odd[path_text] = case
            if case.kind == "folder":
                inside = Path(path_text) / "inside.txt"
                inside.write_bytes(good_card(n_good + i))
                manifest.good.append(str(inside))
    return manifest
