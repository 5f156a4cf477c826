"""The pure Open311 writer and parameter parsing (no database). The XML is read back with xmltodict (what
the georeport client uses) and must say the same as the JSON."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import xmltodict
from hypothesis import given
from hypothesis import strategies as st

from smartip.core.errors import Invalid
from smartip.reports.open311 import params
from smartip.reports.open311.render import errors_body, render, w3c_datetime

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=60).map(str.strip)
request_items = st.fixed_dictionaries(
    {
        "service_request_id": st.integers(1, 10**9).map(str),
        "status": st.sampled_from(["open", "closed"]),
        "description": xml_text.filter(bool),
        "address": xml_text.filter(bool),
        "lat": st.floats(-90, 90, allow_nan=False),
        "long": st.floats(-180, 180, allow_nan=False),
    }
)


@given(st.lists(request_items, min_size=1, max_size=4))
def test_xml_and_json_carry_the_same_requests(items):
    as_json = json.loads(render("json", "service_requests", items))
    parsed = xmltodict.parse(render("xml", "service_requests", items), force_list=("request",))
    as_xml = parsed["service_requests"]["request"]
    assert len(as_json) == len(as_xml) == len(items)
    for j, x in zip(as_json, as_xml, strict=True):
        assert {k: str(v) for k, v in j.items()} == {k: v for k, v in x.items()}
        assert float(x["lat"]) == j["lat"]  # repr round-trips floats exactly


def test_spark_convention_containers_and_scalars():
    body = {
        "service_code": "x",
        "attributes": [
            {"code": "a", "required": True, "values": [{"key": 1, "name": "n"}], "datatype_description": None}
        ],
    }
    xml = render("xml", "service_definition", body)
    assert xml.startswith('<?xml version="1.0" encoding="utf-8"?>\n<service_definition>')
    assert "<attributes><attribute><code>a</code><required>true</required><values><value><key>1</key>" in xml
    assert "<datatype_description />" in xml
    assert json.loads(render("json", "service_definition", body))["attributes"][0]["values"] == [
        {"key": 1, "name": "n"}
    ]


def test_errors_and_escaping():
    assert json.loads(errors_body("json", [(400, "bad <x> & y")])) == [
        {"code": 400, "description": "bad <x> & y"}
    ]
    xml = errors_body("xml", [(403, "a & b"), (400, "c")])
    assert xmltodict.parse(xml)["errors"]["error"] == [
        {"code": "403", "description": "a & b"},
        {"code": "400", "description": "c"},
    ]


def test_xml_drops_characters_xml_cannot_hold():
    xml = render("xml", "service_requests", [{"description": "bell\x07 ok"}])
    assert xmltodict.parse(xml)["service_requests"]["request"]["description"] == "bell ok"


def test_w3c_datetime():
    assert w3c_datetime(datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    assert w3c_datetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))).endswith(
        "-05:00"
    )
    with pytest.raises(ValueError):
        w3c_datetime(datetime(2026, 1, 2))


NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2010-01-01T00:00:00Z",
        "1994-11-05T08:15:30-05:00",
        "2010-01-01T00:00+01:00",
        "2010-01-01T00:00:00.123Z",
    ],
)
def test_w3c_inputs_accepted(text):
    assert params.parse_w3c(text, "start_date").tzinfo is not None


@pytest.mark.parametrize("text", ["2010-01-01", "2010-01-01T00:00:00", "yesterday", "2010-02-30T00:00:00Z"])
def test_w3c_inputs_refused(text):
    with pytest.raises(Invalid):
        params.parse_w3c(text, "start_date")


@given(st.integers(0, 400), st.integers(0, 400))
def test_date_window_never_exceeds_90_days(start_days_ago, length_days):
    start = NOW - timedelta(days=start_days_ago)
    end = start + timedelta(days=length_days)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    if length_days > 90:
        with pytest.raises(Invalid):
            params.date_window(start.strftime(fmt), end.strftime(fmt), NOW)
    else:
        assert params.date_window(start.strftime(fmt), end.strftime(fmt), NOW) == (start, end)
    lo, hi = params.date_window(start.strftime(fmt), None, NOW)
    assert lo == start and timedelta(0) <= hi - lo <= params.MAX_WINDOW


def test_defaults_and_lists():
    assert params.date_window(None, None, NOW) == (NOW - timedelta(days=90), NOW)
    assert params.present("  ") is None and params.comma_list("a, b,,") == ["a", "b"]
    assert params.parse_attributes(
        [("attribute[size]", "l"), ("attribute[w][]", "a"), ("attribute[w][]", "b"), ("description", "x")]
    ) == {"size": "l", "w": ["a", "b"]}
    assert params.parse_page(None, None) == params.Page(1, 1000)
    with pytest.raises(Invalid):
        params.parse_location("1", None)
