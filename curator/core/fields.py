"""Known card fields: a typed summary of a mapping, validation problems, fixes and `set` coercion."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import urlsplit

#: Whole numbers longer than this many decimal digits stay text when a card is read (cardnodes). Python
#: refuses to turn longer ones into text or back (``sys.get_int_max_str_digits``, 4,300 by default:
#: converting is quadratic), so neither JSON nor the library could hold them, and building one from a long
#: ``1:0:0:...`` (base 60) scalar is itself quadratic. The constant, not the interpreter's setting: a card
#: reads the same everywhere.
MAX_INT_DIGITS = 4_300
_LOG10_2, _LOG10_8, _LOG10_16, _LOG10_60 = 0.30103, 0.90309, 1.20412, 1.77816
#: The first characters of any text :func:`unfit_number` recognises (the card reader tracks them).
NUMBER_START = _NUMBER_START = frozenset("+-.0123456789")
# YAML 1.1's int and float patterns (PyYAML's resolver's, which the card reader uses), here so that the
# field rules recognise numbers kept as text without importing yaml (the CLI's `check` and `set` do not).
_YAML_INT = re.compile(r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
                       r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")
_YAML_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                         r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


def int_digits(text: str) -> float:
    """An upper bound of the decimal digits of the YAML 1.1 int ``text`` (signs and ``_`` allowed).

    Cheap (no conversion), so a huge number is recognised before anything is built from it.
    """
    body = text.replace("_", "").lstrip("+-")
    if body.startswith("0b"):
        return (len(body) - 2) * _LOG10_2 + 1
    if body.startswith("0x"):
        return (len(body) - 2) * _LOG10_16 + 1
    if ":" in body:
        head, *rest = body.split(":")
        return len(head) + len(rest) * _LOG10_60 + 1
    if body.startswith("0"):
        return len(body) * _LOG10_8 + 1
    return len(body)


def _yaml_float(text: str) -> float:
    """The float YAML 1.1 reads ``text`` (a match of _YAML_FLOAT) as, as PyYAML's constructor builds it."""
    value = text.replace("_", "").lower()
    sign = -1.0 if value[0] == "-" else 1.0
    value = value.lstrip("+-")
    if value == ".inf":
        return sign * math.inf
    if value == ".nan":
        return math.nan
    if ":" in value:
        number, base = 0.0, 1.0
        for digit in reversed(value.split(":")):
            number += float(digit) * base
            base *= 60
        return sign * number
    return sign * float(value)


def unfit_number(text: str) -> str | None:
    """What a plain scalar ``text`` is when the card reader keeps it as text for want of a JSON number.

    "nan" (.nan), "inf" (.inf, -.inf, 1.0e+400) or "long" (a whole number of more than MAX_INT_DIGITS
    digits); None for any other text. tests/core/test_hardening_read.py checks it against the reader.
    """
    if not text or text[0] not in _NUMBER_START:
        return None
    if _YAML_FLOAT.fullmatch(text):
        if math.isfinite(_yaml_float(text)):
            return None
        return "nan" if text.lower() == ".nan" else "inf"
    if len(text) > _SHORT_INT_CHARS and int_digits(text) > MAX_INT_DIGITS and _YAML_INT.fullmatch(text):
        return "long"
    return None


#: No YAML int of at most this many characters has more than MAX_INT_DIGITS digits: int_digits gives at
#: most 1.21 digits a character (hex; base 60 has a ':' a segment), plus one. Dates skip int_digits so.
_SHORT_INT_CHARS = int((MAX_INT_DIGITS - 1) / 1.21)

KNOWN_FIELDS = (
    "category", "title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl", "type",
    "quality", "heat", "published", "provider", "topics", "images", "related", "secured",
)  # fmt: skip
_TEXT_FIELDS = ("category", "title", "excerpt", "type", "secured")
_URL_FIELDS = ("sourceUrl", "ampUrl", "cdnAmpUrl")
_MOJIBAKE_FIELDS = ("title", "excerpt")
_SCORE_RULES = {False: "a whole number from 0 to 100", True: "-1 (not rated) or a whole number from 0 to 100"}
#: Every Problem.kind, in the order `check --fix` lists them (the CLI and GUI offer these).
PROBLEM_KINDS = ("type", "range", "url", "date", "duplicate", "mojibake", "malformed", "number")
#: The largest whole number a library column holds (SQLite's INTEGER is 64-bit).
MAX_STORED_INT = 2**63 - 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a card's values.

    ``field`` is the top-level key, or a path into it with 0-based indexes ("related[2].sourceUrl").
    ``kind`` groups problems for bulk fixes: one of PROBLEM_KINDS.
    """

    field: str
    problem: str
    fixable: bool = False
    kind: str = "type"


@dataclass(frozen=True)
class Summary:
    """Typed values for the store's columns; None where absent or of the wrong type.

    ``published_at`` is the file's own date text: ``publishedDateTime``, or when that key is absent a
    top-level ``date`` (the key blogs use); ``date`` is the same instant as UTC "YYYY-MM-DDTHH:MM:SS".
    ``images`` and ``related`` hold the file's own item mappings (items that are not mappings are left
    out and reported as problems).
    """

    category: str | None = None
    title: str | None = None
    excerpt: str | None = None
    published_at: str | None = None
    date: str | None = None
    source_url: str | None = None
    amp_url: str | None = None
    cdn_amp_url: str | None = None
    type: str | None = None
    quality: int | None = None
    heat: int | None = None
    published: bool | None = None
    provider_name: str | None = None
    provider_domain: str | None = None
    topics: list[str] = dc_field(default_factory=list)
    images: list[dict[str, Any]] = dc_field(default_factory=list)
    related: list[dict[str, Any]] = dc_field(default_factory=list)
    problems: list[Problem] = dc_field(default_factory=list)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)  # YAML `true` is no score


def show(value: Any) -> str:
    """A value as an editor reads it in a sentence, at most 60 characters; never raises."""
    try:
        text = repr(value)
    except ValueError:  # a whole number past Python's int-to-text limit (or something holding one)
        return f"a whole number of about {_digits(value):,} digits" if _is_int(value) else "a huge value"
    return text if len(text) <= 60 else text[:57] + "..."


_show = show


def _digits(number: int) -> int:
    """About how many decimal digits a whole number has (without converting it to text)."""
    return int(abs(number).bit_length() * 0.30103) + 1


def _fits(value: int) -> bool:
    return -MAX_STORED_INT - 1 <= value <= MAX_STORED_INT


# Whitespace anywhere inside a URL makes it no link. The regex's \s is exactly str.isspace (tested),
# searched in C instead of a Python loop over every character.
_SPACE = re.compile(r"\s")
# The common shape, decided without urlsplit: http(s)://host[:port] then anything without whitespace.
# urlsplit gives such a text scheme http(s) and a non-empty hostname, and cannot raise on it (an ASCII
# netloc without brackets); every other text takes the general path.
_PLAIN_WEB_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#]\S*)?")


def is_web_url(value: Any) -> bool:
    """An absolute http(s) URL with a host: the only links Curator opens or loads."""
    if not isinstance(value, str):
        return False
    value = value.strip()
    if _PLAIN_WEB_URL.fullmatch(value):
        return True
    if _SPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


# Every alternative of ftfy's badness regex (``ftfy.badness.BADNESS_RE``, what ``is_bad`` searches)
# needs at least one of these characters, so a text without any of them is never "bad" and skips
# ftfy (and its import) altogether. Per alternative the rarest required class in English news text
# was taken: C1 controls, the cp1252/latin-1 "bad" symbols, accented capitals, box drawing, ... but not
# ’ “ ” – — … (tests/core/test_fields.py derives the proof from the installed ftfy's regex).
_MOJIBAKE_HINT = re.compile(
    r"[\x80-\x9f\xa2-\xa8\xaa\xac\xaf\xb1-\xb3\xb5\xb6\xb8-\xba\xbc-\xbe\xc0-\xd1\xd7-\xd9\xdc\xdd"
    r"\xdf-\xf1\xf7\xfc\u0100-\u017e\u0192\u02c6\u02c7\u02d8\u02db\u02dc\u0392\u0393\u039e\u039f"
    r"\u0402\u0412\u0413\u0420\u0421\u0490\u0491\u201a\u2020\u2021\u2030\u2044\u20a7\u20ac\u2116"
    r"\u2202\u2206\u220f\u2211\u221a\u221e\u2229\u222b\u2248\u2260-\u2265\u2310\u2502-\u2593\u25ca"
    r"\ufb01\ufb02\ufffd]"
)


def may_be_mojibake(text: str) -> bool:
    """False when ftfy's badness check cannot flag ``text`` (no character any of its rules needs)."""
    return not text.isascii() and _MOJIBAKE_HINT.search(text) is not None


def has_mojibake(text: str) -> bool:
    """UTF-8 text that was decoded as cp1252/latin-1 somewhere upstream ("Russiaâ€™s")."""
    if not may_be_mojibake(text):
        return False  # nearly every text: ftfy's badness regex costs ~100x this check
    # Imported here: ftfy takes ~40 ms to import, which the CLI and the GUI start-up need not pay.
    from ftfy import fix_encoding
    from ftfy.badness import is_bad

    # is_bad is a regex over known mojibake sequences; fix_encoding confirms there is a repair to make.
    return is_bad(text) and fix_encoding(text) != text


# --- dates ----------------------------------------------------------------------------------------

_DATE = re.compile(
    r"""(\d{4})-(\d{1,2})-(\d{1,2})
        (?:(?:[Tt]|[ \t]+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?
           [ \t]*(Z|z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?)?""",
    re.VERBOSE,
)


def normalize_date(text: str) -> str | None:
    """A publishedDateTime as sortable UTC text "YYYY-MM-DDTHH:MM:SS"; None when unparseable.

    >>> normalize_date("2016-01-24 14:36:05 -0800")
    '2016-01-24T22:36:05'
    >>> normalize_date("2020-01-18")
    '2020-01-18T00:00:00'

    A time without a zone is taken as UTC; fractional seconds are dropped.
    """
    moment = _utc_moment(text)
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S")


def _utc_moment(text: Any) -> datetime | None:
    """The instant :func:`normalize_date` writes out; None when unparseable (the problem check needs
    no more: a related item's date is checked, not stored)."""
    if not isinstance(text, str):
        return None
    m = _DATE.fullmatch(text.strip().strip("'\""))
    if not m:
        return None
    year, month, day, hour, minute, second, _frac, zone = m.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                          int(second or 0), tzinfo=UTC)
    except ValueError:  # month 13, Feb 30, hour 25, ...
        return None
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        hours, minutes = (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        if hours > 23 or minutes > 59:
            return None
        shift = timedelta(hours=hours, minutes=minutes)
        try:
            moment = moment - shift if zone[0] == "+" else moment + shift
        except OverflowError:  # before year 1 or after 9999 in UTC: no date the library can sort
            return None
    return moment


# --- problems -------------------------------------------------------------------------------------


def _range_problem(name: str, value: Any, allow_unrated: bool) -> Problem | None:
    rule = _SCORE_RULES[allow_unrated]
    if not _is_int(value):
        fixable = _as_int(value, allow_unrated) is not None
        return Problem(name, f"{name} must be {rule}, not {_show(value)}", fixable, "type")
    if not _fits(value):
        return Problem(name, f"{name} {_show(value)} is out of range (and too big for the library)", False,
                       "range")
    if not (0 <= value <= 100 or (allow_unrated and value == -1)):
        return Problem(name, f"{name} must be {rule}, not {value}", False, "range")
    return None


def _as_int(value: Any, allow_unrated: bool) -> int | None:
    """The whole number a float or numeric text stands for, when it is in range (else None)."""
    if isinstance(value, float) and value.is_integer() or isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,20}\s*", value):
        number = int(value)
    else:
        return None
    return number if 0 <= number <= 100 or (allow_unrated and number == -1) else None


_BOOL_TEXT = {"true": True, "false": False, "yes": True, "no": False}


def _text_problems(where: str, value: Any, out: list[Problem], mojibake: bool) -> None:
    if not isinstance(value, str):
        out.append(Problem(where, f"{where} must be text, not {_show(value)}"))
    elif mojibake and has_mojibake(value):
        out.append(Problem(where, f"{where} has garbled characters (mojibake): {_show(value)}", True,
                           "mojibake"))


def _url_problems(where: str, value: Any, out: list[Problem]) -> None:
    if not is_web_url(value):
        out.append(Problem(where, f"{where} must be an http or https link, not {_show(value)}", False, "url"))


def _date_problems(where: str, value: Any, out: list[Problem]) -> None:
    if _utc_moment(value) is None:
        out.append(Problem(where, f"{where} is not a date and time: {_show(value)}", False, "date"))


def _provider_problems(where: str, value: Any, out: list[Problem]) -> None:
    if isinstance(value, str):
        return  # a bare name
    if not isinstance(value, Mapping):
        out.append(Problem(where, f"{where} must be a mapping with name and domain, not {_show(value)}",
                           False, "malformed"))
        return
    for key in ("name", "domain"):
        if key in value and not isinstance(value[key], str):
            out.append(Problem(f"{where}.{key}", f"{where}.{key} must be text, not {_show(value[key])}"))


def _image_problems(where: str, value: Any, out: list[Problem]) -> None:
    if not isinstance(value, list):
        out.append(Problem(where, f"{where} must be a list of images, not {_show(value)}", False,
                           "malformed"))
        return
    for i, image in enumerate(value):
        if type(image) is dict and _good_image(image):
            continue  # the usual image, decided without building its path
        _one_image_problems(f"{where}[{i}]", image, out)


def _good_image(image: dict[Any, Any]) -> bool:
    """Whether an image breaks no rule, for the usual shape (a web URL, pixel sizes, a text title);
    False sends it to _one_image_problems, which decides."""
    url = image.get("url")
    if type(url) is not str or not _PLAIN_WEB_URL.fullmatch(url):
        return False
    for key in ("width", "height"):
        if key in image:
            size = image[key]
            if type(size) is not int or not 0 <= size <= MAX_STORED_INT:
                return False
    return "title" not in image or type(image["title"]) is str


def _one_image_problems(at: str, image: Any, out: list[Problem]) -> None:
    if not isinstance(image, Mapping):
        out.append(Problem(at, f"{at} must be a mapping with url, width, height, title, "
                               f"not {_show(image)}", False, "malformed"))
        return
    if "url" not in image:
        out.append(Problem(f"{at}.url", f"{at} has no url", False, "malformed"))
    else:
        _url_problems(f"{at}.url", image["url"], out)
    for key in ("width", "height"):
        if key in image and not (_is_int(image[key]) and image[key] >= 0):
            out.append(Problem(f"{at}.{key}", f"{at}.{key} must be a whole number of pixels, "
                                              f"not {_show(image[key])}"))
        elif key in image and image[key] > MAX_STORED_INT:
            out.append(Problem(f"{at}.{key}", f"{at}.{key} {_show(image[key])} is out of range "
                                              "(the library keeps no size for it)", False, "number"))
    if "title" in image:
        _text_problems(f"{at}.title", image["title"], out, False)


def _related_problems(value: Any, out: list[Problem]) -> None:
    if not isinstance(value, list):
        out.append(Problem("related", f"related must be a list of articles, not {_show(value)}", False,
                           "malformed"))
        return
    for i, item in enumerate(value):
        at = f"related[{i}]"
        if not isinstance(item, Mapping):
            out.append(Problem(at, f"{at} must be a mapping (an article), not {_show(item)}", False,
                               "malformed"))
            continue
        _article_problems(item, out, prefix=f"{at}.")
        if "sourceUrl" not in item:
            out.append(Problem(f"{at}.sourceUrl", f"{at} has no sourceUrl", False, "malformed"))


def _article_problems(data: Mapping[str, Any], out: list[Problem], prefix: str = "",
                      valid_date: str | None = None) -> None:
    """Rules shared by a card and each of its related articles.

    ``valid_date``: the publishedDateTime text object the caller already normalised successfully.
    Each rule first takes the usual value (text; ASCII text, which cannot be mojibake; a plain web
    URL; a score from 0 to 100) as it is, and only other values go through the rule's own check: the
    problem check runs for every card an import reads.
    """
    for name in _TEXT_FIELDS:
        if name in data:
            value = data[name]
            if type(value) is not str or name in _MOJIBAKE_FIELDS and not value.isascii():
                _text_problems(prefix + name, value, out, name in _MOJIBAKE_FIELDS)
    if "publishedDateTime" in data and (valid_date is None or data["publishedDateTime"] is not valid_date):
        _date_problems(prefix + "publishedDateTime", data["publishedDateTime"], out)
    for name in _URL_FIELDS:
        if name in data:
            value = data[name]
            if type(value) is not str or not _PLAIN_WEB_URL.fullmatch(value):
                _url_problems(prefix + name, value, out)
    if "quality" in data:
        value = data["quality"]
        if type(value) is not int or not 0 <= value <= 100:
            found = _range_problem(prefix + "quality", value, False)
            if found:
                out.append(found)
    if "provider" in data:
        value = data["provider"]
        if type(value) is not str:  # a bare name is fine
            _provider_problems(prefix + "provider", value, out)
    if "images" in data:
        _image_problems(prefix + "images", data["images"], out)


def _topic_problems(value: Any, out: list[Problem]) -> None:
    if isinstance(value, str):
        out.append(Problem("topics", f"topics must be a list of names, not the text {_show(value)}", True,
                           "type"))
        return
    if not isinstance(value, list):
        out.append(Problem("topics", f"topics must be a list of names, not {_show(value)}", False, "type"))
        return
    seen: set[str] = set()
    for i, topic in enumerate(value):
        if not isinstance(topic, str) or not topic.strip():
            out.append(Problem(f"topics[{i}]", f"topic {i + 1} must be a name, not {_show(topic)}"))
            continue
        folded = topic.strip().casefold()
        if folded in seen:
            out.append(Problem("topics", f"topic {topic!r} is listed twice", True, "duplicate"))
        seen.add(folded)


def problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every rule the known fields of ``data`` break, in field order, then numbers kept as text.

    Unknown keys break no rule, but a number the reader could only keep as text (``.nan``, ``.inf``, a
    whole number of thousands of digits) is reported wherever it is, unless a rule already names it.
    """
    return _problems(data, None)


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) else _show(key)


def _any_number_text(data: Mapping[Any, Any]) -> bool:
    """Whether any text value below ``data`` is one ``unfit_number`` recognises.

    The cheap first pass (no paths built: ~5 us for a real card, against ~300 us to read it); nearly
    every card has none, and only the rest pay for the walk that names them.
    """
    stack: list[Any] = [data]
    pop, push = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is str:
            if value and value[0] in _NUMBER_START and unfit_number(value) is not None:
                return True
        elif kind is dict:
            push(value.values())
        elif kind is list:
            push(value)
        elif isinstance(value, Mapping):
            push(value.values())
    return False


def _number_problems(data: Mapping[Any, Any], named: set[str], out: list[Problem]) -> None:
    """Problems for the values ``cardnodes.unfit_number`` recognises (``named``: paths already reported)."""
    if not _any_number_text(data):
        return
    stack: list[tuple[str, Any]] = [(_key_text(k), v) for k, v in data.items()]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            what = unfit_number(value) if value[:1] in _NUMBER_START else None
            if what is None or where in named:
                continue
            if what == "long":
                text = f"is a whole number of {len(value):,} characters, too long to keep as a number"
            elif what == "nan":
                text = f"is {value} (not a number), which the library cannot keep as a number"
            else:
                text = f"is {value} (infinite), which the library cannot keep as a number"
            out.append(Problem(where, f"{where} {text}: it is kept as text (the file is unchanged)", False,
                               "number"))
        elif isinstance(value, Mapping):
            stack.extend((f"{where}.{_key_text(k)}", v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))


def _problems(data: Mapping[str, Any], valid_date: str | None, number_text: bool = True) -> list[Problem]:
    out = _rule_problems(data, valid_date)
    if not number_text:
        return out
    before = len(out)
    _number_problems(data, {p.field for p in out}, out)
    if len(out) - before > 1:
        out[before:] = sorted(out[before:], key=lambda p: p.field)
    return out


def _rule_problems(data: Mapping[str, Any], valid_date: str | None) -> list[Problem]:
    out: list[Problem] = []
    _article_problems(data, out, valid_date=valid_date)
    if "heat" in data:
        heat = data["heat"]
        if type(heat) is not int or not (0 <= heat <= 100 or heat == -1):
            found = _range_problem("heat", heat, True)
            if found:
                out.append(found)
    if "published" in data and not isinstance(data["published"], bool):
        value = data["published"]
        fixable = isinstance(value, str) and value.strip().lower() in _BOOL_TEXT
        out.append(Problem("published", f"published must be true or false, not {_show(value)}", fixable))
    if "topics" in data:
        _topic_problems(data["topics"], out)
    if "related" in data:
        _related_problems(data["related"], out)
    return out


# --- summary --------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def summarize(data: Mapping[str, Any], *, number_text: bool = True) -> Summary:
    """Typed values of the known fields, and the card's problems.

    ``number_text=False`` says no text in ``data`` is one :func:`unfit_number` recognises (the card
    reader knows it of what it built: ``cards.Card.number_text``), so the walk looking for them is
    skipped: a tenth of an import's per-card work.
    """
    published_at = _text(data, "publishedDateTime")
    if "publishedDateTime" not in data:
        published_at = _text(data, "date")
    quality = data.get("quality")
    heat = data.get("heat")
    published = data.get("published")
    provider = data.get("provider")
    name: str | None
    domain: str | None
    if isinstance(provider, str):
        name, domain = provider, None
    elif isinstance(provider, Mapping):
        name, domain = _text(provider, "name"), _text(provider, "domain")
    else:
        name = domain = None
    topics = data.get("topics")
    images = data.get("images")
    related = data.get("related")
    date = normalize_date(published_at) if published_at is not None else None
    return Summary(
        category=_text(data, "category"),
        title=_text(data, "title"),
        excerpt=_text(data, "excerpt"),
        published_at=published_at,
        date=date,
        source_url=_text(data, "sourceUrl"),
        amp_url=_text(data, "ampUrl"),
        cdn_amp_url=_text(data, "cdnAmpUrl"),
        type=_text(data, "type"),
        # Out-of-range numbers are kept (the editor sees and fixes them); wrong types are not.
        # ... but not past what a library column holds (the problem says so).
        quality=quality if _is_int(quality) and _fits(quality) else None,
        heat=heat if _is_int(heat) and _fits(heat) else None,
        published=published if isinstance(published, bool) else None,
        provider_name=name,
        provider_domain=domain,
        topics=[t for t in topics if isinstance(t, str)] if isinstance(topics, list) else [],
        images=[i for i in images if isinstance(i, dict)] if isinstance(images, list) else [],
        related=[r for r in related if isinstance(r, dict)] if isinstance(related, list) else [],
        # The date was just checked: problems need not parse the same text again.
        problems=_problems(data, published_at if date is not None else None, number_text),
    )


# --- editing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """What an editor may set a top-level field to (``coerce`` reads ``set`` text with ``parse``)."""

    name: str
    rule: str  # the sentence shown when a value breaks it
    parse: Callable[[str], Any] | None = None  # None: not settable from a one-line CLI value


def _parse_score(name: str, allow_unrated: bool) -> Callable[[str], Any]:
    rule = _SCORE_RULES[allow_unrated]

    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,4}", text.strip()):
            raise ValueError(f"{name} must be {rule}, not {text!r}")
        number = int(text)
        if not (0 <= number <= 100 or (allow_unrated and number == -1)):
            raise ValueError(f"{name} must be {rule}, not {number}")
        return number

    return parse


def _parse_published(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"published must be true or false, not {text!r}")
    return value == "true"


def _parse_topic(text: str) -> str:
    name = text.strip()
    if not name or "\n" in name or "\r" in name:
        raise ValueError(f"a topic must be a name on one line, not {text!r}")
    return name


def _parse_text(text: str) -> str:
    """A text field's `set` parser: the text exactly as given (blanks, line breaks and all).

    A title is what the editor typed, so nothing is stripped. Text that is no Unicode at all (a lone
    surrogate) is the Store's to refuse, as for every value it cannot store.
    """
    return text


#: Top-level fields an editor may change (GUI, `set`, `check --fix`), with their rules.
EDITABLE: dict[str, FieldRule] = {
    "quality": FieldRule("quality", "a whole number from 0 to 100", _parse_score("quality", False)),
    "heat": FieldRule("heat", "-1 (not rated) or a whole number from 0 to 100", _parse_score("heat", True)),
    "published": FieldRule("published", "true or false", _parse_published),
    "topics": FieldRule("topics", "a list of names", _parse_topic),  # coerce gives one name (topics+=/-=)
    "related": FieldRule("related", "a list of articles"),
    "title": FieldRule("title", "text", _parse_text),
    "excerpt": FieldRule("excerpt", "text", _parse_text),
    "category": FieldRule("category", "text", _parse_text),
}


def coerce(field: str, text: str) -> Any:
    """The value a `set FIELD=TEXT` means: "quality", "60" -> 60; raises ValueError with a sentence.

    For ``topics`` the text is one topic name (for ``topics+=NAME`` / ``topics-=NAME``).
    """
    rule = EDITABLE.get(field)
    if rule is None or rule.parse is None:
        settable = ", ".join(name for name, r in EDITABLE.items() if r.parse is not None)
        raise ValueError(f"{field!r} cannot be set from the command line; settable fields: {settable}")
    return rule.parse(text)


def _dedupe(topics: list[Any]) -> list[Any]:
    seen: set[str] = set()
    kept = []
    for topic in topics:
        if isinstance(topic, str):
            folded = topic.strip().casefold()
            if folded in seen:
                continue
            seen.add(folded)
        kept.append(topic)
    return kept


def _fix_text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    from ftfy import fix_encoding  # lazily, as in has_mojibake

    return fix_encoding(value)


def _fixed_related(related: list[Any], index: int, key: str) -> list[Any]:
    items = list(related)
    item = dict(items[index])
    item[key] = _fix_text(item[key])
    items[index] = item
    return items


_RELATED_TEXT = re.compile(r"related\[(\d+)\]\.(title|excerpt)")


def fix(data: Mapping[str, Any], problem: Problem) -> dict[str, Any]:
    """The top-level changes {field: new value} that repair a fixable problem; ValueError otherwise."""
    if not problem.fixable:
        raise ValueError(f"{problem.field}: this problem needs an editor's choice")
    name = problem.field
    value = data.get(name)
    new: Any = value
    if name in ("quality", "heat") and not _is_int(value):
        new = _as_int(value, name == "heat")
    elif name == "published" and isinstance(value, str):
        new = _BOOL_TEXT.get(value.strip().lower())
    elif name == "topics" and isinstance(value, str):
        new = [value.strip()] if value.strip() else None
    elif name == "topics" and isinstance(value, list):
        new = _dedupe(value)
    elif name in _MOJIBAKE_FIELDS:
        new = _fix_text(value)
    else:
        m = _RELATED_TEXT.fullmatch(name)
        related = data.get("related")
        if (m and isinstance(related, list) and int(m[1]) < len(related)
                and isinstance(related[int(m[1])], Mapping)):
            return {"related": _fixed_related(related, int(m[1]), m[2])}
        raise ValueError(f"{name}: no automatic fix for {problem.problem!r}")
    if new is None or new == value and type(new) is type(value):
        raise ValueError(f"{name}: no automatic fix for {problem.problem!r}")
    return {name: new}


def fix_all(data: Mapping[str, Any], kind: str | None = None) -> dict[str, Any]:
    """Every automatic fix for ``data`` (only problems of ``kind`` when given), merged field by field."""
    current = dict(data)
    changes: dict[str, Any] = {}
    tried: set[Problem] = set()
    # One fix at a time, re-checking after each: fixing related[0] rebuilds the list related[1] is in.
    while True:
        todo = [p for p in problems(current)
                if p.fixable and (kind is None or p.kind == kind) and p not in tried]
        if not todo:
            return changes
        tried.add(todo[0])
        try:
            update = fix(current, todo[0])
        except ValueError:
            continue
        current.update(update)
        changes.update(update)
