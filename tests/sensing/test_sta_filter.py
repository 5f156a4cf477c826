"""The $filter parser (pure) and its translation to SQL, checked against an independent evaluator of the AST."""

import math
import operator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.sensing.sensorthings.filter import Binary, Call, Literal, Node, Not, Path, parse_filter
from smartip.sensing.sensorthings.options import parse_options
from smartip.sensing.sensorthings.paths import parse_path

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------------------ parser


def test_precedence_and_literals():
    node = parse_filter("not result gt 1 add 2 mul 3 or name eq 'it''s' and result le -1.5")
    assert node == Binary(
        "or",
        Not(
            Binary("gt", Path(("result",)), Binary("add", Literal(1), Binary("mul", Literal(2), Literal(3))))
        ),
        Binary(
            "and",
            Binary("eq", Path(("name",)), Literal("it's")),
            Binary("le", Path(("result",)), Literal(-1.5)),
        ),
    )


def test_datetimes_paths_functions():
    node = parse_filter(
        "phenomenonTime ge 2026-11-01T07:00:00+01:00 and substringof('PM', Datastream/name) "
        "and year(resultTime) eq 2026 and properties/floor eq '2' and Datastream/@iot.id ne null"
    )
    first = node.left.left.left.left
    assert first == Binary("ge", Path(("phenomenonTime",)), Literal(T0))
    assert node.left.left.left.right == Call("substringof", (Literal("PM"), Path(("Datastream", "name"))))
    assert node.right == Binary("ne", Path(("Datastream", "@iot.id")), Literal(None))
    assert parse_filter("phenomenonTime lt 2026-11-02") == Binary(
        "lt", Path(("phenomenonTime",)), Literal(datetime(2026, 11, 2, tzinfo=UTC))
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("result gt", "expected a value"),
        ("result", "condition is expected"),
        ("result add 1", "condition is expected"),
        ("result eq 1 and 5", "condition is expected"),
        ("(result eq 1", "expected ')'"),
        ("result eq 1)", "unexpected ')'"),
        ("name eq 'open", "unexpected"),
        ("result lt null", "null"),
        ("geo.intersects(location, geography'POINT(1 2)')", "geospatial"),
        ("st_within(location, x)", "geospatial"),
        ("frobnicate(name) eq 1", "frobnicate() is not supported"),
        ("year(a, b) eq 1", "takes 1 argument"),
        ("phenomenonTime gt 2026-11-01T06:00:00", "no time zone"),
        ("phenomenonTime gt 2026-13-01T06:00:00Z", "not a valid date-time"),
        ("phenomenonTime eq 2026-11-01T06:00:00Z/2026-11-01T07:00:00Z", "unexpected"),
        ("result eq 1 # comment", "unexpected"),
        ("eq 1", "needs an operand"),
    ],
)
def test_bad_filters_name_the_problem(text, fragment):
    with pytest.raises(Invalid) as err:
        parse_filter(text)
    assert err.value.field == "$filter" and fragment in err.value.message


paths = st.sampled_from([Path(("result",)), Path(("@iot.id",)), Path(("phenomenonTime",))])
numbers = st.integers(min_value=0, max_value=10**6).map(Literal)
values = st.recursive(
    st.one_of(paths, numbers),
    lambda inner: st.builds(Binary, st.sampled_from(["add", "sub", "mul", "div", "mod"]), inner, inner),
    max_leaves=4,
)
comparisons = st.builds(Binary, st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]), values, values)
conditions = st.recursive(
    comparisons,
    lambda inner: st.one_of(
        st.builds(Binary, st.sampled_from(["and", "or"]), inner, inner), st.builds(Not, inner)
    ),
    max_leaves=5,
)


def to_text(node: Node) -> str:
    """Fully parenthesised text of an AST (so the round trip does not depend on precedence)."""
    if isinstance(node, Literal):
        return str(node.value)
    if isinstance(node, Path):
        return "/".join(node.parts)
    if isinstance(node, Not):
        return f"not ({to_text(node.operand)})"
    if isinstance(node, Call):
        return f"{node.name}({', '.join(to_text(a) for a in node.args)})"
    return f"({to_text(node.left)}) {node.op} ({to_text(node.right)})"


@settings(max_examples=200, deadline=None)
@given(conditions)
def test_round_trip(node):
    assert parse_filter(to_text(node)) == node


def test_options_and_paths():
    opts = parse_options(
        {
            "$top": "5",
            "$skip": "10",
            "$count": "true",
            "$orderby": "phenomenonTime desc,result",
            "$expand": "Datastreams($select=name;$top=2;$expand=Observations($top=1)),Locations,Datastreams/Sensor",
            "$select": "name,@iot.id",
        }
    )
    assert (opts.top, opts.skip, opts.count, opts.select) == (5, 10, True, ("name", "@iot.id"))
    assert [(o.path, o.descending) for o in opts.orderby] == [
        (("phenomenonTime",), True),
        (("result",), False),
    ]
    assert set(opts.expand) == {"Datastreams", "Locations"}
    inner = opts.expand["Datastreams"]
    assert inner.top == 2 and set(inner.expand) == {"Observations", "Sensor"}
    assert inner.expand["Observations"].top == 1
    for bad in (
        {"$top": "10001"},
        {"$top": "-1"},
        {"$count": "yes"},
        {"$foo": "1"},
        {"$orderby": "a b c"},
        {"$expand": "Datastreams($top=1"},
        {"$resultFormat": "csv"},
    ):
        with pytest.raises(Invalid):
            parse_options(bad, top_level=True)
    assert [(s.name, s.id) for s in parse_path("Things(1)/Datastreams('2')/Observations")] == [
        ("Things", 1),
        ("Datastreams", 2),
        ("Observations", None),
    ]
    with pytest.raises(Invalid):
        parse_path("Things(abc)")


# ---------------------------------------------------------------------------- SQL against an AST evaluator

ARITH = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "mod": math.fmod,
}
COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


def evaluate(node: Node, row: dict):
    """What a filter means for one observation, in plain Python (the oracle for the SQL translation)."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return row["/".join(node.parts)]
    if isinstance(node, Not):
        return not evaluate(node.operand, row)
    if isinstance(node, Call):
        args = [evaluate(a, row) for a in node.args]
        return {
            "substringof": lambda: args[0] in args[1],
            "contains": lambda: args[1] in args[0],
            "startswith": lambda: args[0].startswith(args[1]),
            "endswith": lambda: args[0].endswith(args[1]),
            "tolower": lambda: args[0].lower(),
            "toupper": lambda: args[0].upper(),
            "length": lambda: len(args[0]),
            "indexof": lambda: args[0].find(args[1]),
            "concat": lambda: args[0] + args[1],
            "day": lambda: args[0].day,
            "hour": lambda: args[0].hour,
            "minute": lambda: args[0].minute,
            "round": lambda: math.floor(args[0] + 0.5),  # SQL rounds half away from zero (values are >= 0)
            "floor": lambda: math.floor(args[0]),
            "ceiling": lambda: math.ceil(args[0]),
        }[node.name]()
    left, right = evaluate(node.left, row), evaluate(node.right, row)
    if node.op == "and":
        return left and right
    if node.op == "or":
        return left or right
    if node.op in ARITH:
        return ARITH[node.op](left, right)
    return COMPARE[node.op](left, right)


FILTERS = [
    "result gt 20",
    "result ge 20 and result lt 30",
    "not (result lt 10) and result le 35.5",
    "result add 5 gt 40 or result mul 2 lt 10",
    "result sub 1 div 2 ge 9",
    "result mod 7 lt 3",
    "phenomenonTime ge 2026-11-01T07:00:00Z and phenomenonTime lt 2026-11-01T09:00:00+01:00",
    "resultTime lt 2026-11-01T06:30:00Z or result eq 3",
    "hour(phenomenonTime) eq 7",
    "round(result) eq 12",
    "floor(result) eq 12 or ceiling(result) eq 30",
    "minute(phenomenonTime) ge 30 and day(phenomenonTime) eq 1",
    "tolower(Datastream/name) eq 'pm10' and result lt 20",
    "toupper(Datastream/name) eq 'PM2.5' and length(Datastream/name) eq 5 and result gt 30",
    "indexof(Datastream/name, '1') eq 2 and result gt 25",
    "concat(Datastream/name, '!') eq 'PM10!' and endswith(Datastream/name, '10') and result lt 5",
    "contains(Datastream/name, '.') and not (result ge 4)",
    "Datastream/name eq 'PM10'",
    "substringof('2.5', Datastream/name) and result gt 5",
    "startswith(Datastream/name, 'PM1') and not (result gt 30)",
    "Datastream/Thing/name eq 'Balcony' and result gt 30",
    "@iot.id ne 0 and result ne 17",
]


@pytest.fixture
def observations(manchester):
    from smartip.sensing.models import Sensor
    from smartip.sensing.sensorthings.access import Actor
    from smartip.sensing.sensorthings.create import create_thing
    from tests.sensing.conftest import quick_user

    user = quick_user("filter_citizen", manchester, "citizen")
    lat, lon = (manchester.min_lat + manchester.max_lat) / 2, (manchester.min_lon + manchester.max_lon) / 2

    def stream(name, code):
        return {
            "name": name,
            "unitOfMeasurement": {"symbol": "ug/m3"},
            "Sensor": {"name": "SDS011"},
            "ObservedProperty": {"name": name, "properties": {"quantity": code}},
            "Observations": [
                {
                    "result": (i * 7.3 + (3 if code == "pm10" else 0)) % 40,
                    "phenomenonTime": (T0 + timedelta(minutes=9 * i)).isoformat(),
                }
                for i in range(30)
            ],
        }

    thing = create_thing(
        {
            "name": "Balcony",
            "Locations": [{"name": "home", "location": {"type": "Point", "coordinates": [lon, lat]}}],
            "Datastreams": [stream("PM2.5", "pm25"), stream("PM10", "pm10")],
        },
        Actor(user),
    )
    rows = []
    names = {"pm25": "PM2.5", "pm10": "PM10"}
    for o in Sensor.objects.get(pk=thing.pk).observations.all():
        rows.append(
            {
                "@iot.id": o.pk,
                "result": o.value,
                "phenomenonTime": o.time,
                "resultTime": o.time,
                "Datastream/name": names[o.quantity],
                "Datastream/Thing/name": "Balcony",
            }
        )
    return rows


@pytest.mark.parametrize("text", FILTERS)
def test_sql_agrees_with_the_evaluator(observations, text):
    from smartip.sensing.sensorthings.entities import ENTITY_TYPES
    from smartip.sensing.sensorthings.query_orm import apply_filter

    node = parse_filter(text)
    etype = ENTITY_TYPES["Observations"]
    got = set(apply_filter(etype.base(), node, etype).values_list("pk", flat=True))
    expected = {row["@iot.id"] for row in observations if evaluate(node, row)}
    assert got == expected
    assert 0 < len(expected) < len(observations) or text.startswith("@iot.id")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("$filter=result gt", "expected a value"),
        ("$filter=Datastreams/name eq 'x'", "no property"),
        ("$filter=Datastream/Observations/result eq 1", "to-many"),
        ("$filter=nothing eq 1", "no property 'nothing'"),
        ("$filter=geo.distance(location, x) lt 1", "geospatial"),
        ("$orderby=nothing", "no property"),
        ("$top=20000", "$top"),
        ("$expand=Nothing", "no navigation property"),
        ("$select=nothing", "no property"),
    ],
)
def test_bad_queries_are_400_in_the_sta_format(client, observations, query, fragment):
    response = client.get(f"/sensorthings/v1.1/Observations?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 400 and body["type"] == "error" and fragment in body["message"]
