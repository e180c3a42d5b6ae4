"""The query language: query text -> a tree of small, frozen term objects (pure, no SQL).

The CLI (``curator list QUERY``) and the GUI's search bar share this language.
``curator.core.search`` turns the tree into SQL; nothing here knows the library.

Grammar (``OR`` binds looser than the implicit AND between neighbouring terms)::

    query    := or_expr?
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary+
    unary    := "-" unary | primary          # "-" touches its term: "-ai", "-(a b)"
    primary  := "(" or_expr ")" | PHRASE | FIELD | WORD
    PHRASE   := '"' chars '"'                # '""' inside quotes is one '"'
    FIELD    := NAME OP (BARE | PHRASE)      # no spaces around OP
    OP       := ":" | "=" | "<" | "<=" | ">" | ">="
    WORD     := BARE ["*"]                   # a trailing * makes it a prefix search
    BARE     := one or more characters other than space, '(', ')' and '"'

Field names (case-insensitive):

- text fields ``category provider topic type path`` take ``:`` (or ``=``) and a value,
  bare or quoted: ``topic:"Computer Vision"``;
- flags ``published dirty problems conflict missing`` take ``:true`` or ``:false``;
- comparisons ``quality`` and ``heat`` take a whole number, ``date`` takes
  ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]``; ``:`` means ``=``, and
  a partial date stands for its whole period (``date:2020-01`` is all of January).

A bare ``OR`` (uppercase) is the keyword; ``or`` or ``"OR"`` is a word. A bare chunk that
looks like ``name:value`` with an unknown name is an error (quote it to search for it).

Worked examples (``parse(text)``)::

    ai vision              And((Word('ai'), Word('vision')))
    ai OR ml vision        Or((Word('ai'), And((Word('ml'), Word('vision')))))
    (ai OR ml) vision      And((Or((Word('ai'), Word('ml'))), Word('vision')))
    recogni*               Word('recogni', prefix=True)
    "face recognition"     Phrase('face recognition')
    -topic:AI              Not(Field('topic', 'AI'))
    topic:"Computer Vision"  Field('topic', 'Computer Vision')
    published:false        Flag('published', False)
    quality>=60 heat:-1    And((Compare('quality', '>=', 60), Compare('heat', '=', -1)))
    date<2020-02           Compare('date', '<', '2020-02')
    ""                     Phrase('')          (no searchable text: matches every card)
    (empty text)           None                (no filter)

Errors are ``QueryError`` with a 1-based column::

    (ai OR ml) vision)     unexpected ')' at column 18
    foo:bar                unknown field 'foo' at column 1
    ai "face               unterminated quote at column 4
    ai OR                  expected a term after 'OR' at column 4
    quality>=abc           quality takes a whole number, not 'abc' at column 10
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from operator import attrgetter
from typing import Any

TEXT_FIELDS = ("category", "provider", "topic", "type", "path")
FLAGS = ("published", "dirty", "problems", "conflict", "missing")
NUMBER_FIELDS = ("quality", "heat")
COMPARE_FIELDS = (*NUMBER_FIELDS, "date")
COMPARE_OPS = ("<", "<=", ">", ">=", "=")

# Parentheses and "-" nest; a bound keeps a silly query from exhausting the stack here or in SQL.
MAX_DEPTH = 64
# Numbers are stored as SQLite integers; a bound keeps huge literals from overflowing the driver. Beyond
# it a number is refused (quality and heat are 0..100), and before int() ever sees it: Python refuses to
# convert text of more than 4,300 digits, and a 5,000-digit query must be a QueryError like any other.
MAX_NUMBER = 10**9
_MAX_DIGITS = len(str(MAX_NUMBER))
# How much of a value an error message quotes (a pasted megabyte must not fill the terminal).
_SHOWN_CHARS = 40

_FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(<=|>=|<|>|=|:)(.*)", re.DOTALL)
_NUMBER_RE = re.compile(r"-?[0-9]+")
_DATE_RE = re.compile(
    r"(?P<y>[0-9]{4})(?:-(?P<m>[0-9]{2})(?:-(?P<d>[0-9]{2})"
    r"(?:T(?P<H>[0-9]{2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2}))?)?)?)?"
)
_SPECIAL = frozenset('()"')


class QueryError(ValueError):
    """A query that cannot be parsed; ``str(err)`` is ``"MESSAGE at column N"`` (1-based)."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column


#: object's own attribute setter: how a term's ``__init__`` sets the fields its ``__setattr__`` refuses.
_set = object.__setattr__


class _Frozen:
    """What the term classes share, as ``@dataclass(frozen=True)`` gives it: a term is immutable (setting
    or deleting a field raises FrozenInstanceError), equal to a term of the same class with equal fields,
    hashed by its fields, shown as ``Word(text='ai', prefix=False)``, and copied and pickled by its fields.

    Written once here, not generated: a dataclass compiles six methods of source text per class at every
    import (~0.55 ms a class, ~5 ms for these nine, paid by every `curator list` and every search). Each
    class names its fields, in order, in ``__slots__`` and sets them with :data:`_set` in its ``__init__``.
    """

    __slots__: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        fields = attrgetter(*cls.__slots__)
        if len(cls.__slots__) == 1:  # attrgetter of one name gives the value itself, not a 1-tuple
            cls._values = lambda self: (fields(self),)  # type: ignore[method-assign]
        else:
            cls._values = lambda self: fields(self)  # type: ignore[method-assign]

    def _values(self) -> tuple[Any, ...]:
        """The fields' values in order (each class's own getter, made by ``__init_subclass__``)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            assert isinstance(other, _Frozen)
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), self._values()


class Word(_Frozen):
    """A full-text word; ``prefix`` for ``word*``."""

    __slots__ = __match_args__ = ("text", "prefix")
    text: str
    prefix: bool

    def __init__(self, text: str, prefix: bool = False) -> None:
        _set(self, "text", text)
        _set(self, "prefix", prefix)


class Phrase(_Frozen):
    """A full-text phrase: its words next to each other, in order."""

    __slots__ = __match_args__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        _set(self, "text", text)


class Field(_Frozen):
    """``name:value`` on a text field (category, provider, topic, type, path)."""

    __slots__ = __match_args__ = ("name", "value")
    name: str
    value: str

    def __init__(self, name: str, value: str) -> None:
        _set(self, "name", name)
        _set(self, "value", value)


class Flag(_Frozen):
    """``name:true|false`` on a status (published, dirty, problems, conflict, missing)."""

    __slots__ = __match_args__ = ("name", "value")
    name: str
    value: bool

    def __init__(self, name: str, value: bool) -> None:
        _set(self, "name", name)
        _set(self, "value", value)


class Compare(_Frozen):
    """``field OP value`` on quality/heat (int value) or date (the date text as typed)."""

    __slots__ = __match_args__ = ("field", "op", "value")
    field: str
    op: str  # one of COMPARE_OPS; ":" is stored as "="
    value: int | str

    def __init__(self, field: str, op: str, value: int | str) -> None:
        _set(self, "field", field)
        _set(self, "op", op)
        _set(self, "value", value)


class Not(_Frozen):
    """Cards the inner term does not match."""

    __slots__ = __match_args__ = ("term",)
    term: Term

    def __init__(self, term: Term) -> None:
        _set(self, "term", term)


class And(_Frozen):
    """Cards every term matches (two or more terms, none of them an ``And``)."""

    __slots__ = __match_args__ = ("terms",)
    terms: tuple[Term, ...]

    def __init__(self, terms: tuple[Term, ...]) -> None:
        _set(self, "terms", terms)


class Or(_Frozen):
    """Cards any term matches (two or more terms, none of them an ``Or``)."""

    __slots__ = __match_args__ = ("terms",)
    terms: tuple[Term, ...]

    def __init__(self, terms: tuple[Term, ...]) -> None:
        _set(self, "terms", terms)


Term = Word | Phrase | Field | Flag | Compare | Not | And | Or


def _join(kind: type[And | Or], terms: tuple[Term, ...]) -> Term:
    flat: list[Term] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    if not flat:
        raise ValueError(f"{kind.__name__} needs at least one term")
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def and_(*terms: Term) -> Term:
    """Join terms with AND, flattening nested ``And``s; one term comes back as itself."""
    return _join(And, terms)


def or_(*terms: Term) -> Term:
    """Join terms with OR, flattening nested ``Or``s; one term comes back as itself."""
    return _join(Or, terms)


class _Token:
    """One token of the query text (a plain class: the tokenizer makes one per word)."""

    __slots__ = ("end", "kind", "name", "op", "start", "text", "value_start")

    def __init__(
        self, kind: str, text: str, start: int, end: int, name: str = "", op: str = "", value_start: int = 0
    ) -> None:
        self.kind = kind  # "(", ")", "OR", "-", "word", "phrase", "field"
        self.text = text  # the word/phrase text; for a field the value
        self.start = start  # 0-based offsets into the query text
        self.end = end
        self.name = name  # fields only: the name as typed, the operator, where the value starts
        self.op = op
        self.value_start = value_start


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string opening at ``start``; return its text and the offset past it."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if text.startswith('"', i + 1):  # "" inside quotes is a literal quote
                out.append('"')
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise QueryError("unterminated quote", start + 1)


def _tokenize(text: str) -> Iterator[_Token]:
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield _Token(ch, ch, i, i + 1)
            i += 1
        elif ch == '"':
            value, end = _read_quoted(text, i)
            yield _Token("phrase", value, i, end)
            i = end
        elif ch == "-":
            nxt = text[i + 1] if i + 1 < n else ""
            if not nxt or nxt.isspace() or nxt == ")":
                raise QueryError("expected a term after '-'", i + 1)
            yield _Token("-", "-", i, i + 1)
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _SPECIAL:
                j += 1
            chunk = text[i:j]
            match = _FIELD_RE.fullmatch(chunk)
            if chunk == "OR":
                yield _Token("OR", chunk, i, j)
            elif match:
                name, op, value = match.groups()
                value_start = i + match.start(3)
                if not value and j < n and text[j] == '"':
                    value, j = _read_quoted(text, j)
                yield _Token("field", value, i, j, name=name, op=op, value_start=value_start)
            else:
                yield _Token("word", chunk, i, j)
            i = j


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokenize(text))
        self.pos = 0
        self.depth = 0
        # The top-level AND group's terms with their (start, end) offsets, for with/without_term.
        self.units: list[tuple[Term, int, int]] | None = None

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Term | None:
        if not self.tokens:
            return None
        term = self.or_expr(top=True)
        token = self.peek()
        if token is not None:  # or_expr stops only at the end or at a ')' with no '('
            raise QueryError(f"unexpected '{token.text}'", token.start + 1)
        return term

    def or_expr(self, top: bool = False) -> Term:
        groups = [self.and_expr(top)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind == ")":
                raise QueryError("expected a term after 'OR'", token.start + 1)
            groups.append(self.and_expr(False))
        if top and len(groups) > 1:
            self.units = None
        return or_(*groups)

    def and_expr(self, top: bool) -> Term:
        units: list[tuple[Term, int, int]] = []
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            start = token.start
            term = self.unary()
            units.append((term, start, self.tokens[self.pos - 1].end))
        if not units:
            token = self.peek()
            assert token is not None  # callers check for the end of the query first
            raise QueryError(f"unexpected '{token.text}'", token.start + 1)
        if top:
            self.units = units
        return and_(*(term for term, _, _ in units))

    def unary(self) -> Term:
        token = self.take()
        if token.kind == "-":
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", ")"):
                raise QueryError("expected a term after '-'", token.start + 1)
            self.enter(token)
            term = Not(self.unary())
            self.depth -= 1
            return term
        if token.kind == "(":
            self.enter(token)
            nxt = self.peek()
            if nxt is None:
                raise QueryError("unclosed '('", token.start + 1)
            inner = self.or_expr()
            close = self.peek()
            if close is None:
                raise QueryError("unclosed '('", token.start + 1)
            self.take()
            self.depth -= 1
            return inner
        if token.kind == "phrase":
            return Phrase(token.text)
        if token.kind == "field":
            return _field(token)
        if token.kind == "word":
            if len(token.text) > 1 and token.text.endswith("*"):
                return Word(token.text[:-1], prefix=True)
            return Word(token.text)
        # A stray "OR" or ")" where a term should start: and_expr never calls us on those.
        raise QueryError(f"unexpected '{token.text}'", token.start + 1)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError("query nested too deeply", token.start + 1)


def _field(token: _Token) -> Term:
    """Check a ``name OP value`` token and build its term."""
    name, op, value = token.name.lower(), token.op, token.text
    op_column, value_column = token.value_start - len(op) + 1, token.value_start + 1
    if name not in TEXT_FIELDS and name not in FLAGS and name not in COMPARE_FIELDS:
        raise QueryError(f"unknown field {_quoted(token.name)}", token.start + 1)
    if name in COMPARE_FIELDS:
        op = "=" if op == ":" else op
    elif op not in (":", "="):
        raise QueryError(f"'{op}' does not apply to {name}", op_column)
    if not value:
        raise QueryError(f"{name} needs a value", value_column)
    if name in TEXT_FIELDS:
        return Field(name, value)
    if name in FLAGS:
        if value.lower() not in ("true", "false"):
            raise QueryError(f"{name} takes true or false, not {_quoted(value)}", value_column)
        return Flag(name, value.lower() == "true")
    if name in NUMBER_FIELDS:
        digits = value.lstrip("-").lstrip("0") or "0"  # int() counts leading zeros against its limit too
        if not _NUMBER_RE.fullmatch(value) or len(digits) > _MAX_DIGITS or int(digits) > MAX_NUMBER:
            raise QueryError(f"{name} takes a whole number, not {_quoted(value)}", value_column)
        return Compare(name, op, -int(digits) if value.startswith("-") else int(digits))
    if not valid_date(value):
        raise QueryError(f"date takes YYYY, YYYY-MM or YYYY-MM-DD, not {_quoted(value)}", value_column)
    return Compare(name, op, value)


def _quoted(text: str) -> str:
    """``text`` as an error message quotes it: whole when short, else its start and its length."""
    if len(text) <= _SHOWN_CHARS:
        return f"'{text}'"
    return f"'{text[: _SHOWN_CHARS // 2]}...' ({len(text):,} characters)"


def valid_date(text: str) -> bool:
    """Whether ``text`` is a (partial) date the language accepts, e.g. ``2020-01``."""
    match = _DATE_RE.fullmatch(text)
    if not match:
        return False
    parts = match.groupdict()
    try:
        _dt.datetime(
            int(parts["y"]),
            int(parts["m"] or 1),
            int(parts["d"] or 1),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
        )
    except ValueError:
        return False
    return True


def parse(text: str) -> Term | None:
    """Parse query text into a term tree; ``None`` for an empty (all-blank) query.

    Raises:
        QueryError: with the 1-based column of the problem.
    """
    return _Parser(text).parse()


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _is_bare(text: str) -> bool:
    """Whether a word can be written without quotes and parse back as the same word."""
    return bool(
        text
        and not text.startswith("-")
        and text != "OR"
        and not any(ch.isspace() or ch in _SPECIAL for ch in text)
        and not _FIELD_RE.fullmatch(text)
    )


def _value_text(value: str) -> str:
    bare = value and not any(ch.isspace() or ch in _SPECIAL for ch in value)
    return value if bare else _quote(value)


def to_text(term: Term) -> str:
    """Canonical query text for a term; ``parse(to_text(t)) == t`` for every tree ``parse`` makes.

    A hand-built ``Word`` that cannot be written bare (spaces, quotes, a leading ``-``...) comes
    out as a quoted phrase, which searches the same text.
    """
    if isinstance(term, Word):
        if term.prefix and term.text and _is_bare(term.text):
            return term.text + "*"
        if not term.prefix and _is_bare(term.text) and (term.text == "*" or not term.text.endswith("*")):
            return term.text
        return _quote(term.text)
    if isinstance(term, Phrase):
        return _quote(term.text)
    if isinstance(term, Field):
        return f"{term.name}:{_value_text(term.value)}"
    if isinstance(term, Flag):
        return f"{term.name}:{'true' if term.value else 'false'}"
    if isinstance(term, Compare):
        return f"{term.field}{':' if term.op == '=' else term.op}{term.value}"
    if isinstance(term, Not):
        inner = to_text(term.term)
        return "-" + (f"({inner})" if isinstance(term.term, (And, Or)) else inner)
    if isinstance(term, And):
        return " ".join(f"({to_text(t)})" if isinstance(t, (And, Or)) else to_text(t) for t in term.terms)
    if isinstance(term, Or):
        return " OR ".join(f"({to_text(t)})" if isinstance(t, Or) else to_text(t) for t in term.terms)
    raise TypeError(f"not a query term: {term!r}")


def _top(text: str) -> tuple[list[tuple[Term, int, int]], bool]:
    parser = _Parser(text)
    tree = parser.parse()
    if tree is None:
        return [], False
    if parser.units is None:  # a top-level OR is one term, spanning the whole query
        return [(tree, parser.tokens[0].start, parser.tokens[-1].end)], True
    return parser.units, False


def top_terms(text: str) -> list[tuple[Term, int, int]]:
    """The terms ANDed at the top level of ``text`` with their ``(start, end)`` offsets.

    A parenthesised group is one term, and so is a whole query whose top level is an ``OR``.
    Raises ``QueryError``.
    """
    return _top(text)[0]


def _fold(term: Term) -> Term:
    """The term with field values lower-cased: text fields match case-insensitively."""
    if isinstance(term, Field):
        return Field(term.name, term.value.lower())
    if isinstance(term, Not):
        return Not(_fold(term.term))
    if isinstance(term, (And, Or)):
        return type(term)(tuple(_fold(t) for t in term.terms))
    return term


def with_term(text: str, term_text: str) -> str:
    """``text`` with ``term_text`` ANDed on, unless a top-level term equal to it is already there.

    Equality ignores the case of field values (``topic:ai`` is ``topic:AI``), as the search does.
    The user's own text is kept as typed; a top-level ``OR`` is wrapped in parentheses first.
    Raises ``QueryError`` when either text does not parse.
    """
    term = parse(term_text)
    units, top_or = _top(text)
    if term is None or any(_fold(unit) == _fold(term) for unit, _, _ in units):
        return text
    addition = f"({to_text(term)})" if isinstance(term, Or) else to_text(term)
    if not units:
        return addition
    return f"({text.strip()}) {addition}" if top_or else f"{text.strip()} {addition}"


def without_term(text: str, term_text: str) -> str:
    """``text`` without its top-level ANDed terms equal to ``term_text``; the rest is kept as typed.

    A query that as a whole equals the term becomes ``""``. Raises ``QueryError``.
    """
    term = parse(term_text)
    units = top_terms(text)
    if term is None:
        return text
    for unit, start, end in reversed(units):
        if _fold(unit) != _fold(term):
            continue
        stop = end
        while stop < len(text) and text[stop].isspace():
            stop += 1
        if stop == len(text):  # the last term: drop the space before it instead
            while start > 0 and text[start - 1].isspace():
                start -= 1
        text = text[:start] + text[stop:]
    return text
