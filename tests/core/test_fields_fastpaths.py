"""The fast paths of fields.py give exactly the answers of the slow checks they stand in front of."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from ftfy import fix_encoding
from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES, is_bad
from hypothesis import example, given, settings
from hypothesis import strategies as st

from curator.core import cards, fields

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"

# ---------------------------------------------------------------------------------------------
# The mojibake pre-filter, proven from ftfy's own regex


def _charset(op: Any, av: Any) -> set[str] | None:
    """The characters one regex element matches, when it is a plain literal or class (else None)."""
    from re import _constants as C  # the regex compiler's own names

    if op is C.LITERAL:
        return {chr(av)}
    if op is not C.IN:
        return None
    chars: set[str] = set()
    for item_op, item in av:
        if item_op is C.LITERAL:
            chars.add(chr(item))
        elif item_op is C.RANGE:
            chars.update(map(chr, range(item[0], item[1] + 1)))
        else:  # NEGATE, CATEGORY (\s, \w): not a finite set we can use
            return None
    return chars


def _unproven_alternatives(pattern: re.Pattern[str], hint: re.Pattern[str]) -> list[str]:
    """The top-level alternatives of ``pattern`` that could match a text ``hint`` finds nothing in.

    An alternative is proven when one of its mandatory elements (a literal or character class at its
    top level, so neither optional nor repeated) only matches characters ``hint`` matches.
    """
    from re import _constants as C
    from re import _parser

    assert not pattern.flags & (re.IGNORECASE | re.ASCII)  # case folding would widen every class
    tree = _parser.parse(pattern.pattern, pattern.flags)
    assert len(tree.data) == 1 and tree.data[0][0] is C.BRANCH
    unproven = []
    for branch in tree.data[0][1][1]:
        sets = [_charset(op, av) for op, av in branch.data]
        if not any(s and all(hint.match(c) for c in s) for s in sets):
            unproven.append(str(branch.data))
    return unproven


def test_every_badness_rule_needs_a_character_of_the_prefilter() -> None:
    assert _unproven_alternatives(BADNESS_RE, fields._MOJIBAKE_HINT) == []


def test_the_proof_notices_a_missing_character() -> None:
    # Without Â, the rules made of it alone ("^[ÃÂ] ", "[a-z.,?!...] Â [ ...]") are left unproven.
    narrowed = re.compile(fields._MOJIBAKE_HINT.pattern.replace(r"\xc0-\xd1", r"\xc0\xc1\xc3-\xd1"))
    assert not narrowed.match("Â") and fields._MOJIBAKE_HINT.match("Â")
    unproven = _unproven_alternatives(BADNESS_RE, narrowed)
    assert any("(LITERAL, 194)" in rule and "(LITERAL, 195)" not in rule for rule in unproven)


def _reference_has_mojibake(text: str) -> bool:
    return is_bad(text) and fix_encoding(text) != text


_BAD_CHARS = "".join(sorted({c for chars in MOJIBAKE_CATEGORIES.values() for c in chars if c != "-"}))
# Text as editors see it: ASCII, the characters ftfy's rules are made of, typography, real letters.
_TEXTISH = st.text(
    st.sampled_from(_BAD_CHARS + "ÂÃÎÐØÙàâ€œžŠ ’“”–—…éüñçabcXYZ .,?!'\"\t\n"), max_size=40)


def _as_mojibake(text: str, codec: str) -> str:
    return text.encode("utf-8").decode(codec, errors="replace")


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    _TEXTISH,
    st.text(max_size=40),
    st.builds(_as_mojibake, st.text(max_size=30),
              st.sampled_from(["cp1252", "latin-1", "cp1251", "mac_roman"])),
    st.builds(lambda a, b: a + _as_mojibake(b, "cp1252"), _TEXTISH,
              st.text("’“”–—…éÉüçñ€™ abc", max_size=8)),
))
@example("Russiaâ€™s plan")
@example("a Â  b")
@example("café — “quoted” … ’")
def test_has_mojibake_is_ftfys_answer_on_generated_text(text: str) -> None:
    assert fields.has_mojibake(text) is _reference_has_mojibake(text)
    if not fields.may_be_mojibake(text):
        assert not is_bad(text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _card_strings(root: Path) -> list[str]:
    found: list[str] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and cards.is_card_path(path.name):
            try:
                found.extend(_strings(cards.read_card(str(path))[0].data))
            except cards.CardError:
                continue  # seeds/problems holds files that are not cards on purpose
    return found


def test_has_mojibake_is_ftfys_answer_on_the_seeds_and_corpora(corpus_copy: Path) -> None:
    texts = _card_strings(SEEDS) + _card_strings(corpus_copy)
    assert len(texts) > 20_000
    flagged = 0
    for text in texts:
        # is_bad alone decides most of them; fix_encoding only where it says yes (as the code does).
        bad = is_bad(text)
        assert not bad or fields.may_be_mojibake(text), text
        if bad:
            flagged += 1
            assert fields.has_mojibake(text) is (fix_encoding(text) != text), text
    assert flagged > 0  # the seeds carry mojibake on purpose: the slow path ran too


def test_clean_cards_never_import_ftfy(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from curator.core import fields\n"
        "clean = {'title': 'Russia’s “plan” — ‘ok’', 'excerpt': 'Tokyo… 50%? «no» ©',\n"
        "         'related': [{'title': 'A – B', 'excerpt': 'plain', 'sourceUrl': 'https://a.b/c'}]}\n"
        "assert fields.summarize(clean).problems == []\n"
        "assert 'ftfy' not in sys.modules\n"
        "assert [p.kind for p in fields.problems({'title': 'Russiaâ€™s plan'})] == ['mojibake']\n"
        "assert 'ftfy' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                            check=False)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------
# is_web_url


def _reference_is_web_url(value: Any) -> bool:
    """The original definition: the character loop and urlsplit for every value."""
    if not isinstance(value, str) or any(c.isspace() for c in value.strip()):
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def test_regex_whitespace_is_str_isspace() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    assert fields._SPACE.findall(every) == [c for c in every if c.isspace()]


_URL_PART = st.text(st.sampled_from("aZ09.-_:@[]/?#%~ \t\n\x01\x85\u3000é"), max_size=12)


@settings(max_examples=500, deadline=None)
@given(st.one_of(
    st.builds("".join, st.tuples(st.sampled_from(["", " ", "\x01", "\t"]),
                                 st.sampled_from(["http", "HTTPS", "hTtP", "ftp", "http:", "javascript", ""]),
                                 st.sampled_from(["://", ":", ":/", "//", ""]),
                                 _URL_PART, st.sampled_from(["", ":80", ":", ":x", "]"]), _URL_PART,
                                 st.sampled_from(["", " ", "\n"]))),
    st.text(max_size=30),
))
@example("https://a.b/c d")
@example("http://[::1]/x")
@example("http://user@/x")
@example("http://..")
def test_is_web_url_agrees_with_the_original_definition(value: str) -> None:
    assert fields.is_web_url(value) is _reference_is_web_url(value)


@pytest.mark.parametrize("value", [None, 5, b"http://a.b", ["http://a.b"]])
def test_is_web_url_refuses_non_text(value: object) -> None:
    assert fields.is_web_url(value) is False
