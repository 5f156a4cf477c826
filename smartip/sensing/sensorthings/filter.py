"""The SensorThings ``$filter`` language (OData 4 subset), parsed by recursive descent into a small AST.

Pure: no Django. The web layer turns the AST into Django expressions (``sensorthings/query_orm.py``).

Supported: ``eq ne gt ge lt le``, ``and or not``, ``add sub mul div mod``, unary minus on numbers, parentheses,
literals (``'text'`` with ``''`` for a quote, integers, decimals, ``true false null``, ISO 8601 date-times such as
``2026-11-25T06:00:00Z`` or ``2026-11-25T07:00:00+01:00`` and dates), property paths (``result``,
``Datastream/@iot.id``, ``properties/city``) and the functions of :data:`FUNCTIONS`. Anything else raises
:class:`~smartip.core.errors.Invalid` naming the position, e.g. the geo functions and time intervals.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from smartip.core.errors import Invalid

Scalar = str | int | float | bool | datetime | None

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
ARITHMETIC = ("add", "sub", "mul", "div", "mod")
#: name → (min args, max args, returns a boolean)
FUNCTIONS: dict[str, tuple[int, int, bool]] = {
    "substringof": (2, 2, True),
    "startswith": (2, 2, True),
    "endswith": (2, 2, True),
    "contains": (2, 2, True),
    "length": (1, 1, False),
    "indexof": (2, 2, False),
    "tolower": (1, 1, False),
    "toupper": (1, 1, False),
    "trim": (1, 1, False),
    "concat": (2, 2, False),
    "year": (1, 1, False),
    "month": (1, 1, False),
    "day": (1, 1, False),
    "hour": (1, 1, False),
    "minute": (1, 1, False),
    "second": (1, 1, False),
    "round": (1, 1, False),
    "floor": (1, 1, False),
    "ceiling": (1, 1, False),
}


@dataclass(frozen=True)
class Literal:
    value: Scalar


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Binary:
    """``op`` is a comparison, an arithmetic operator, ``and`` or ``or``."""

    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Not:
    operand: "Node"


Node = Literal | Path | Call | Binary | Not


@dataclass(frozen=True)
class Token:
    kind: str  # "string" "number" "datetime" "name" "(" ")" "," "-" "end"
    text: str
    pos: int


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<string>'(?:[^']|'')*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w/]))
    |(?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<name>[A-Za-z_@$][\w@.$]*(?:/[A-Za-z_@$][\w@.$]*)*)
    |(?P<punct>[(),-])""",
    re.VERBOSE,
)


def fail(message: str, pos: int) -> Invalid:
    return Invalid(f"$filter: {message} (at character {pos + 1})", field="$filter")


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text``; an unknown character is refused with its position."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise fail(f"unexpected {text[pos : pos + 12]!r}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(match.group() if kind == "punct" else kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def parse_datetime(text: str, pos: int) -> datetime:
    """ISO 8601; a date alone is midnight UTC; a date-time without an offset is refused (ambiguous)."""
    try:
        if "T" not in text:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a valid date-time", pos) from None
    if parsed.tzinfo is None:
        raise fail(f"{text!r} has no time zone (add Z)", pos)
    return parsed.astimezone(UTC)


class Parser:
    """``expr := or; or := and ('or' and)*; and := not ('and' not)*; not := 'not' not | cmp;
    cmp := add (op add)?; add := mul (('add'|'sub') mul)*; mul := unary (('mul'|'div'|'mod') unary)*``."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def word(self, *words: str) -> str | None:
        tok = self.current
        if tok.kind == "name" and tok.text in words:
            self.i += 1
            return tok.text
        return None

    def expect(self, kind: str) -> Token:
        tok = self.current
        if tok.kind != kind:
            raise fail(f"expected {kind!r}, found {tok.text or 'the end'!r}", tok.pos)
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.current.kind == "end":
            raise fail("empty filter", 0)
        node = self.logical_or()
        if self.current.kind != "end":
            raise fail(f"unexpected {self.current.text!r}", self.current.pos)
        require_boolean(node, 0)
        return node

    def logical_or(self) -> Node:
        node = self.logical_and()
        while (pos := self.current.pos) is not None and self.word("or"):
            right = self.logical_and()
            require_boolean(node, pos)
            require_boolean(right, pos)
            node = Binary("or", node, right)
        return node

    def logical_and(self) -> Node:
        node = self.logical_not()
        while (pos := self.current.pos) is not None and self.word("and"):
            right = self.logical_not()
            require_boolean(node, pos)
            require_boolean(right, pos)
            node = Binary("and", node, right)
        return node

    def logical_not(self) -> Node:
        pos = self.current.pos
        if self.word("not"):
            operand = self.logical_not()
            require_boolean(operand, pos)
            return Not(operand)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        op = self.word(*COMPARISONS)
        if op is None:
            return left
        right = self.additive()
        if op in COMPARISONS[2:] and (is_null(left) or is_null(right)):
            raise fail(f"'{op}' with null is never true; use eq/ne null", self.current.pos)
        return Binary(op, left, right)

    def additive(self) -> Node:
        node = self.multiplicative()
        while op := self.word("add", "sub"):
            node = Binary(op, node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while op := self.word("mul", "div", "mod"):
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        tok = self.current
        if tok.kind == "-":
            self.i += 1
            number = self.expect("number")
            return Literal(-number_value(number.text))
        return self.primary()

    def primary(self) -> Node:
        tok = self.current
        self.i += 1
        if tok.kind == "(":
            node = self.logical_or()
            self.expect(")")
            return node
        if tok.kind == "string":
            return Literal(tok.text[1:-1].replace("''", "'"))
        if tok.kind == "number":
            return Literal(number_value(tok.text))
        if tok.kind == "datetime":
            return Literal(parse_datetime(tok.text, tok.pos))
        if tok.kind == "name":
            return self.name(tok)
        raise fail(f"expected a value, found {tok.text or 'the end'!r}", tok.pos)

    def name(self, tok: Token) -> Node:
        if tok.text in ("true", "false"):
            return Literal(tok.text == "true")
        if tok.text == "null":
            return Literal(None)
        if self.current.kind == "(":
            return self.call(tok)
        if tok.text in COMPARISONS + ARITHMETIC + ("and", "or", "not"):
            raise fail(f"operator {tok.text!r} needs an operand before it", tok.pos)
        return Path(tuple(tok.text.split("/")))

    def call(self, tok: Token) -> Node:
        name = tok.text
        if name not in FUNCTIONS:
            kind = "geospatial functions are" if name.startswith(("geo.", "st_")) else f"{name}() is"
            raise fail(f"{kind} not supported; functions: {', '.join(FUNCTIONS)}", tok.pos)
        self.expect("(")
        args: list[Node] = []
        if self.current.kind != ")":
            args.append(self.logical_or())
            while self.current.kind == ",":
                self.i += 1
                args.append(self.logical_or())
        self.expect(")")
        low, high, _ = FUNCTIONS[name]
        if not low <= len(args) <= high:
            raise fail(f"{name}() takes {low} argument(s), got {len(args)}", tok.pos)
        return Call(name, tuple(args))


def number_value(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def is_null(node: Node) -> bool:
    return isinstance(node, Literal) and node.value is None


def is_boolean(node: Node) -> bool:
    if isinstance(node, Binary):
        return node.op in COMPARISONS or node.op in ("and", "or")
    if isinstance(node, Call):
        return FUNCTIONS[node.name][2]
    if isinstance(node, Literal):
        return isinstance(node.value, bool)
    return isinstance(node, Not)


def require_boolean(node: Node, pos: int) -> None:
    if not is_boolean(node):
        raise fail("a condition is expected here (e.g. result gt 10)", pos)


def parse_filter(text: str) -> Node:
    """The AST of a ``$filter`` value; :class:`Invalid` (field ``$filter``) with the position otherwise."""
    return Parser(text).parse()
