"""The C values builder (curator/core/_fastcard.c, ``cardnodes.fast_values``) against the composer's path.

``fast_values`` must give exactly the values ``built_values`` gives for the nodes PyYAML composes (and a
``number_text`` that is False only where that path's is, or where no text is such a number), or None,
which sends the card through the composer. Each test counts how many cases the C builder itself
answered, so a builder that gave up on everything could not pass.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oddcards import odd_files

from curator.core import cardnodes, cards, fields
from curator.core.cards import CardError

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"

pytestmark = pytest.mark.skipif(not cardnodes.FAST and not os.environ.get("CI"),
                                reason="the C extension curator.core._fastcard is not built")


def test_the_extension_is_built_in_ci() -> None:
    """CI builds the wheel's extension (scripts/setup installs libyaml's headers): it must be there."""
    assert cardnodes.FAST, "curator.core._fastcard did not build or does not fit this PyYAML"


def _composed(region: str, doc: cards.Document | None = None) -> tuple[Any, bool] | CardError:
    """What the composer's path makes of ``region``: (values, number_text), or its CardError."""
    doc = doc or cards.Document(region, False, 0, len(region), "\n", len(region))
    try:
        _, values, number_text = cards._compose_values(doc, "x.yaml")
    except CardError as err:
        return err
    return values, number_text


def _same(region: str, doc: cards.Document | None = None) -> bool:
    """Assert the builder agrees with the composer on ``region``; True when the builder answered."""
    fast = cardnodes.fast_values(region)
    if fast is None:
        return False
    composed = _composed(region, doc)
    assert not isinstance(composed, CardError), f"the builder accepted what the reader refuses: {composed}"
    values, number_text = composed
    assert repr(fast[0]) == repr(values)  # repr: 1 == 1.0 == True for ==, not for repr
    assert fast[0] == values
    assert number_text or not fast[1], "number_text True where the composer's path saw no such text"
    if fast[1] != number_text:  # the full path (anchors possible) always says True; then none may be there
        assert not fast[1] and not _has_number_text(values)
    return True


def _has_number_text(value: Any) -> bool:
    if isinstance(value, str):
        return value[:1] in fields.NUMBER_START and fields.unfit_number(value)
    if isinstance(value, list):
        return any(map(_has_number_text, value))
    if isinstance(value, dict):
        return any(_has_number_text(k) or _has_number_text(v) for k, v in value.items())
    return False


def _regions(folder: Path) -> list[tuple[str, cards.Document]]:
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and cards.is_card_path(path.name):
            try:
                doc = cards.split(path.read_bytes(), path.name)
            except CardError:
                continue
            out.append((doc.yaml_text, doc))
    return out


@pytest.mark.skipif(not CORPORA.is_dir(), reason="the shared corpora are not beside the project")
def test_real_files_of_others_read_the_same() -> None:
    regions = _regions(CORPORA)
    answered = sum(_same(region, doc) for region, doc in regions)
    assert len(regions) >= 1000
    assert answered >= 0.95 * len(regions), f"the builder answered only {answered} of {len(regions)}"


def test_the_sample_cards_read_the_same() -> None:
    regions = _regions(ROOT / "seeds")
    assert regions and sum(_same(region, doc) for region, doc in regions) == len(regions)


def test_odd_files_read_the_same_through_parse_card(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every odd file of the hardening suite: the same Card, or the same error, with and without it."""
    answered = 0
    for odd in odd_files():
        if odd.kind != "file" or odd.content is None:
            continue
        name = odd.name if isinstance(odd.name, str) else odd.name.decode("utf-8", "replace")
        results = []
        for fast in (True, False):
            with monkeypatch.context() as m:
                if not fast:
                    m.setattr(cardnodes, "_fast", None)
                try:
                    card = cards.parse_card(odd.content, name)
                    results.append(("card", repr(card.data), card.number_text))
                except CardError as err:
                    results.append(("error", str(err), None))
        (kind, shown, quick_number_text), (kind2, shown2, number_text) = results
        assert (kind, shown) == (kind2, shown2), name
        if kind == "card":
            assert number_text or not quick_number_text
            try:
                answered += cardnodes.fast_values(cards.split(odd.content, name).yaml_text) is not None
            except CardError:
                pass
    assert answered >= 5, f"the builder answered only {answered} odd cards"


@pytest.mark.parametrize("region", [
    "a: &x 1\nb: *x\n",  # an anchor and an alias
    "a: !!str 1\n",  # a tag
    "a: ! 1\n",  # the non-specific tag
    "<<: {a: 1}\nb: 2\n",  # a merge key
    "a: 1\na: 2\n",  # a duplicate (the reader words it, with both lines)
    "1: a\n1.0: b\n",  # keys equal as values
    "? [a, b]\n: c\n",  # a complex key
    "? {a: 1}\n: c\n",
    "a: 1\n---\nb: 2\n",  # several documents
    "%YAML 1.1\n---\na: 1\n",  # a directive
    "- a\n- b\n",  # a list, not a mapping
    "just text\n",
    "",  # nothing at all
    "# only a comment\n",
    "a: [1, 2\n",  # a syntax error
    "a: b: c\n",
    "a: \x07\n",  # a control character
    "a: " + "[" * (cardnodes.MAX_DEPTH + 1) + "]" * (cardnodes.MAX_DEPTH + 1) + "\n",  # too deep
    "a: [? x : y]\n",  # a mapping in a flow sequence where a '?' stands (libyaml 0.2.6 parses it anew)
    "a: [{b: 1}]\nq: why?\n",
])  # fmt: skip
def test_what_only_the_composer_reads_is_left_to_it(region: str) -> None:
    assert cardnodes.fast_values(region) is None


def test_a_mapping_in_a_flow_sequence_is_built_where_no_question_mark_is() -> None:
    assert _same("a: [{b: 1}, [x: 2]]\nq: why not\n")


@pytest.mark.parametrize(("theirs", "fast"), [((0, 2, 5), True), ((0, 2, 6), True), ((0, 2, 4), False),
                                              ((0, 3, 0), False)])  # fmt: skip
def test_the_builder_is_used_only_beside_a_libyaml_known_to_fit(
    monkeypatch: pytest.MonkeyPatch, theirs: tuple[int, int, int], fast: bool
) -> None:
    """PyYAML's wheel brings its own libyaml (6.0.4: 0.2.6), the builder links the system's (Debian 12: 0.2.5)."""
    from yaml import _yaml as pyyaml_c

    from curator.core import _fastcard  # type: ignore[attr-defined]

    if tuple(_fastcard.libyaml_version()) not in cardnodes.FAST_LIBYAML:
        pytest.skip(f"this libyaml is {_fastcard.libyaml_version()}")
    monkeypatch.setattr(pyyaml_c, "get_version", lambda: theirs)
    assert (cardnodes._fast_module() is not None) is fast


def test_nesting_up_to_the_limit_is_built() -> None:
    depth = cardnodes.MAX_DEPTH - 1  # the root is at 0, the innermost value one level below its list
    region = "a: " + "[" * depth + "1" + "]" * depth + "\n"
    assert _same(region)


@pytest.mark.parametrize(("text", "value"), [
    ("", None), ("~", None), ("null", None), ("NULL", None), ("nULL", "nULL"), ("yes", True), ("No", False),
    ("off", False), ("ON", True), ("y", "y"), ("true", True), ("tRUE", "tRUE"), ("0", 0), ("017", 15),
    ("0x1F", 31), ("0b101", 5), ("1_000", 1000), ("190:20:30", 685230), ("+5", 5), ("-1", -1), ("1.5", 1.5),
    ("1e3", "1e3"), ("6.8523015e+5", 685230.15), ("-.inf", "-.inf"), (".NaN", ".NaN"), ("1.0e+400", "1.0e+400"),
    ("2020-01-18", "2020-01-18"), ("2020-01-18T18:42:00Z", "2020-01-18T18:42:00Z"), ("=", "="), ("<<", "<<"),
    ("00:00", "00:00"), ("1:30", 90), ("-x", "-x"), (".", "."), ("Computer Vision", "Computer Vision"),
    ("'5'", "5"), ('"yes"', "yes"), ("9" * 5000, "9" * 5000), ("|\n  yes\n", "yes\n"),
])  # fmt: skip
def test_plain_scalars_resolve_as_pyyaml_does(text: str, value: Any) -> None:
    region = f"v: {text}\n"
    fast = cardnodes.fast_values(region)
    assert fast is not None
    assert repr(fast[0]["v"]) == repr(value)
    assert _same(region)


def test_number_text_follows_values_and_resolved_keys() -> None:
    assert cardnodes.fast_values("a: 1\nb: text\n") == ({"a": 1, "b": "text"}, False)
    assert cardnodes.fast_values("a: '1e400'\n")[1] is False  # quoted: a str that is no number kept as text
    assert cardnodes.fast_values("a: .inf\n")[1] is True  # not finite: kept as text
    assert cardnodes.fast_values("a: " + "1" * 5000 + "\n")[1] is True  # too long
    assert cardnodes.fast_values(".inf: a\n")[1] is True  # a key a resolver made text
    assert cardnodes.fast_values("'.inf': a\n")[1] is False  # a quoted key is never asked about


def test_the_resolved_values_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    memo: dict[str, Any] = {}
    monkeypatch.setattr(cardnodes, "_resolved_values", memo)
    cardnodes._fast_module()  # configured with the new memo
    try:
        for n in range(cardnodes._PLAIN_CACHE_MAX * 2 + 10):
            assert cardnodes.fast_values(f"q: {n}\n") == ({"q": n}, False)
        assert 0 < len(memo) <= cardnodes._PLAIN_CACHE_MAX
    finally:
        monkeypatch.undo()
        cardnodes._fast_module()


# --- generated documents: what safe_dump writes, and hand-made plain scalars -------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=20)
_plain = st.one_of(
    st.sampled_from(["", "~", "yes", "No", "on", "0", "017", "0x1F", "1_000", "1:30", "-.inf", ".nan", "1e3",
                     "2020-01-18", "2020-01-18 10:00:00", "=", "<<", "0b2", "0x_", "+.5", "-0", "12e03"]),
    st.from_regex(r"[-+.0-9:_eExob]{1,10}", fullmatch=True),
    st.text(string.ascii_letters + string.digits + " .-_:/", min_size=1, max_size=12),
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _text, st.floats(allow_nan=False))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_text, inner, max_size=4)), max_leaves=12)
_STYLES = [{"default_flow_style": False}, {"default_flow_style": True}, {"default_flow_style": None},
           {"default_flow_style": False, "allow_unicode": True, "width": 20}]


def test_dumped_documents_build_the_same() -> None:
    """What safe_dump writes (no anchors for these values), in block and flow styles: the builder answers,
    except where a mapping sits in a flow sequence of a text holding a '?' (see cardnodes.FAST_LIBYAML);
    at least 80% of the documents answered by the builder itself."""
    answered = {"yes": 0, "all": 0}

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.dictionaries(_text, _values, min_size=1, max_size=6), style=st.sampled_from(range(len(_STYLES))))
    def check(data: dict[str, Any], style: int) -> None:
        region = yaml.safe_dump(data, **_STYLES[style])
        answered["all"] += 1
        if _same(region):
            answered["yes"] += 1
        else:
            assert "?" in region, region

    check()
    assert answered["yes"] >= 0.8 * answered["all"], answered


def test_plain_scalars_written_by_hand_build_the_same() -> None:
    """Keys and values the resolver has to decide (numbers, words, dates, odd near-numbers), block and flow:
    the same values or the composer's error; at least a third answered by the builder itself."""
    answered = {"yes": 0, "all": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(items=st.lists(st.tuples(_plain, _plain), min_size=1, max_size=8), flow=st.booleans())
    def check(items: list[tuple[str, str]], flow: bool) -> None:
        body = ", ".join(f"{k}: {v}" for k, v in items) if flow else "".join(f"{k}: {v}\n" for k, v in items)
        region = "{" + body + "}\n" if flow else body
        composed = _composed(region)
        answered["all"] += 1
        if isinstance(composed, CardError):
            assert cardnodes.fast_values(region) is None, f"the builder accepted what the reader refuses: {composed}"
        elif _same(region):
            answered["yes"] += 1

    check()
    assert answered["yes"] >= 0.3 * answered["all"], answered
