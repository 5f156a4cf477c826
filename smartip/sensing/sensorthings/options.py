"""SensorThings query options ($top $skip $count $select $orderby $filter $expand $resultFormat), parsed purely.

``$expand`` may nest options after a navigation property, separated by ``;``:
``Datastreams($select=name;$top=2;$expand=Observations($orderby=phenomenonTime desc))``, and the path form
``Datastreams/ObservedProperty`` means ``Datastreams($expand=ObservedProperty)``.
"""

from dataclasses import dataclass, field

from smartip.core.errors import Invalid
from smartip.sensing.sensorthings.filter import Node, parse_filter

DEFAULT_TOP = 100
MAX_TOP = 10_000
KNOWN = ("$top", "$skip", "$count", "$select", "$orderby", "$filter", "$expand", "$resultFormat")


@dataclass(frozen=True)
class OrderBy:
    path: tuple[str, ...]
    descending: bool


@dataclass
class Options:
    top: int | None = None
    skip: int = 0
    count: bool = False
    select: tuple[str, ...] | None = None
    orderby: tuple[OrderBy, ...] = ()
    filter: Node | None = None
    expand: dict[str, "Options"] = field(default_factory=dict)
    result_format: str | None = None


def split_top_level(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and quotes; unbalanced parentheses are refused."""
    parts: list[str] = []
    depth, start, quoted = 0, 0, False
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise Invalid(f"unbalanced ')' in {text!r}", field="$expand")
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth or quoted:
        raise Invalid(f"unbalanced parentheses or quotes in {text!r}", field="$expand")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_int(value: str, name: str, low: int, high: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{name}: {value!r} is not a whole number", field=name) from None
    if number < low or (high is not None and number > high):
        raise Invalid(f"{name}: {number} outside {low}..{high if high is not None else '∞'}", field=name)
    return number


def parse_orderby(value: str) -> tuple[OrderBy, ...]:
    out = []
    for item in split_top_level(value, ","):
        words = item.split()
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise Invalid(f"$orderby: cannot read {item!r} (property [asc|desc])", field="$orderby")
        out.append(OrderBy(tuple(words[0].split("/")), len(words) == 2 and words[1].lower() == "desc"))
    return tuple(out)


def parse_expand(value: str) -> dict[str, Options]:
    """Navigation property → its own options (nested)."""
    out: dict[str, Options] = {}
    for item in split_top_level(value, ","):
        name, _, rest = item.partition("(")
        name = name.strip()
        inner = parse_options(dict(_pairs(rest[:-1]))) if rest else Options()
        head, _, tail = name.partition("/")
        if tail:
            inner = Options(expand=parse_expand(tail + (f"({rest}" if rest else "")))
        if not head.isidentifier():
            raise Invalid(f"$expand: {head!r} is not a navigation property", field="$expand")
        if head in out:
            out[head].expand.update(inner.expand)
        else:
            out[head] = inner
    return out


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in split_top_level(text, ";"):
        key, eq, value = item.partition("=")
        if not eq:
            raise Invalid(f"$expand: cannot read option {item!r} (expected $name=value)", field="$expand")
        pairs.append((key.strip(), value.strip()))
    return pairs


def parse_options(params: dict[str, str], *, top_level: bool = False) -> Options:
    """Options from query parameters (or the ``;`` list inside an ``$expand``); unknown ``$`` options refused."""
    opts = Options()
    for key, value in params.items():
        if not key.startswith("$"):
            continue
        if key not in KNOWN:
            raise Invalid(f"unknown query option {key}; known: {', '.join(KNOWN)}", field=key)
        if key == "$top":
            opts.top = parse_int(value, key, 0, MAX_TOP)
        elif key == "$skip":
            opts.skip = parse_int(value, key, 0)
        elif key == "$count":
            if value not in ("true", "false"):
                raise Invalid(f"$count: {value!r}, expected true or false", field=key)
            opts.count = value == "true"
        elif key == "$select":
            opts.select = tuple(s.strip() for s in value.split(",") if s.strip())
        elif key == "$orderby":
            opts.orderby = parse_orderby(value)
        elif key == "$filter":
            opts.filter = parse_filter(value)
        elif key == "$expand":
            opts.expand = parse_expand(value)
        elif key == "$resultFormat":
            if value != "dataArray" or not top_level:
                raise Invalid(
                    f"$resultFormat: only dataArray (top level) is supported, not {value!r}", field=key
                )
            opts.result_format = value
    return opts
