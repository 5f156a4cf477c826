"""Open311 GeoReport v2 conformance, written from /work/shared/reference/open311.md (its §10 checklist, one
test per line, plus every filter and error case of §2-§8). Both formats are checked on every resource; the XML
is parsed with ElementTree and with xmltodict (what the georeport client uses).

Documented choices (see smartip/reports/open311/views.py): a description over 4000 characters is refused with
400 (never truncated); every service is `realtime`; POST answers 200 with one `service_request_id`.
"""

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
import xmltodict
from django.utils import timezone

from smartip.reports.models import Report, ServiceToken, Status

pytestmark = pytest.mark.django_db

W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
BASE = "/open311/v2"
MAN = "jurisdiction_id=manchester"


def get(client, path, fmt="json", **params):
    resp = client.get(f"{BASE}/{path}.{fmt}", params)
    return resp, _parse(resp, fmt)


def _parse(resp, fmt):
    if fmt == "json":
        assert resp["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(resp.content)
    assert resp["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(resp.content)


def assert_errors(resp, fmt, status):
    assert resp.status_code == status, resp.content
    body = _parse(resp, fmt)
    if fmt == "json":
        assert isinstance(body, list) and body
        assert all(
            set(e) == {"code", "description"} and e["code"] == status and e["description"] for e in body
        )
    else:
        assert body.tag == "errors"
        errors = body.findall("error")
        assert errors and all(e.findtext("code") == str(status) and e.findtext("description") for e in errors)


@pytest.fixture
def seeded(make_report, users):
    """Reports of Manchester in known states and ages, plus one in Ghent."""
    now = timezone.now()
    made = {
        "open_pothole": make_report("pothole", description="Hole"),
        "fixed_pothole": make_report("pothole", description="Fixed hole"),
        "open_noise": make_report("noise", lat=53.50, lon=-2.20, description="Loud"),
        "old_litter": make_report("litter", description="Old litter"),
        "closed_litter": make_report("litter", description="Closed litter"),
    }
    Report.objects.filter(pk=made["fixed_pothole"].pk).update(status=Status.FIXED)
    Report.objects.filter(pk=made["closed_litter"].pk).update(status=Status.CLOSED, close_reason="no_action")
    Report.objects.filter(pk=made["old_litter"].pk).update(created_at=now - timedelta(days=120))
    return {k: Report.objects.get(pk=v.pk) for k, v in made.items()}


# 1 discovery
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_has_required_fields(client, cities, fmt):
    resp, body = get(client, "discovery", fmt)
    assert resp.status_code == 200
    if fmt == "xml":
        body = xmltodict.parse(resp.content)["discovery"]
        endpoints = body["endpoints"]["endpoint"]
        endpoints = endpoints if isinstance(endpoints, list) else [endpoints]
        formats = endpoints[0]["formats"]["format"]
    else:
        endpoints = body["endpoints"]
        assert isinstance(endpoints, list)
        formats = endpoints[0]["formats"]
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    assert endpoints[0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert {"url", "changeset", "type"} <= set(endpoints[0]) and endpoints[0]["type"] in (
        "production",
        "test",
    )
    assert set(formats) == {"text/xml", "application/json"}
    assert endpoints[0]["url"].endswith("/open311/v2")


# 2, 3 services
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_list(client, categories, fmt):
    resp, body = get(client, "services", fmt, jurisdiction_id="manchester")
    assert resp.status_code == 200
    items = body if fmt == "json" else [{c.tag: c.text for c in s} for s in body.findall("service")]
    if fmt == "xml":
        assert body.tag == "services"
    assert {i["service_code"] for i in items} == set(categories["manchester"])
    for item in items:
        assert set(item) == SERVICE_FIELDS
        assert str(item["metadata"]).lower() in ("true", "false") and item["type"] in (
            "realtime",
            "batch",
            "blackbox",
        )
    flytipping = next(i for i in items if i["service_code"] == "flytipping")
    assert str(flytipping["metadata"]).lower() == "true"


def test_service_list_json_is_an_array_even_with_one_service(client, categories):
    for category in list(categories["oulu"].values())[1:]:
        category.is_active = False
        category.save()
    resp, body = get(client, "services", "json", jurisdiction_id="oulu")
    assert isinstance(body, list) and len(body) == 1


def test_service_list_selected_by_lat_long_without_jurisdiction(client, categories, cities):
    lat, lon = cities["ghent"].center
    resp, body = get(client, "services", "json", lat=lat, long=lon)
    assert resp.status_code == 200 and len(body) == len(categories["ghent"])


# 4, 5 service definitions
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definitions_for_every_metadata_service(client, categories, fmt):
    for code, category in categories["manchester"].items():
        if not category.has_metadata:
            continue
        resp, body = get(client, f"services/{code}", fmt, jurisdiction_id="manchester")
        assert resp.status_code == 200
        if fmt == "xml":
            assert body.tag == "service_definition"
            body = json.loads(json.dumps(xmltodict.parse(resp.content, force_list=("attribute", "value"))))
            body = body["service_definition"]
            attributes = body["attributes"]["attribute"]
        else:
            attributes = body["attributes"]
            assert isinstance(attributes, list)
        assert body["service_code"] == code
        orders = [int(a["order"]) for a in attributes]
        assert len(set(orders)) == len(orders) and min(orders) >= 1
        for attr in attributes:
            assert attr["datatype"] in DATATYPES
            assert {"variable", "code", "required", "datatype_description", "description"} <= set(attr)
            if attr["datatype"] in ("singlevaluelist", "multivaluelist"):
                values = attr["values"] if fmt == "json" else attr["values"]["value"]
                assert values and all(set(v) == {"key", "name"} for v in values)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_definition_is_404(client, categories, fmt):
    resp = client.get(f"{BASE}/services/UNKNOWN.{fmt}?{MAN}")
    assert_errors(resp, fmt, 404)


# 6-11 POST
def post(client, fmt="json", query="", **data):
    return client.post(f"{BASE}/requests.{fmt}" + (f"?{query}" if query else ""), data)


@pytest.fixture
def key(api_key, users):
    return api_key(users["citizen"])


VALID = {
    "jurisdiction_id": "manchester",
    "service_code": "flytipping",
    "lat": "53.48",
    "long": "-2.24",
    "description": "A sofa on the pavement",
    "attribute[size]": "large",
}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_api_key_is_403(client, categories, fmt):
    assert_errors(post(client, fmt, **VALID), fmt, 403)
    assert_errors(post(client, fmt, api_key="sk_wrong", **VALID), fmt, 403)
    assert Report.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_location_is_400_and_unknown_service_404(client, categories, key, fmt):
    no_location = {k: v for k, v in VALID.items() if k not in ("lat", "long")}
    assert_errors(post(client, fmt, api_key=key, **no_location), fmt, 400)
    assert_errors(
        post(client, fmt, api_key=key, **{**no_location, "address_string": "1 Deansgate"}), fmt, 400
    )
    assert_errors(post(client, fmt, api_key=key, **{**VALID, "service_code": "nope"}), fmt, 404)
    missing_code = {k: v for k, v in VALID.items() if k != "service_code"}
    assert_errors(post(client, fmt, api_key=key, **missing_code), fmt, 400)
    assert_errors(post(client, fmt, api_key=key, **{**VALID, "jurisdiction_id": "atlantis"}), fmt, 404)
    assert Report.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_checks_required_and_listed_attributes(client, categories, key, fmt):
    missing = {k: v for k, v in VALID.items() if k != "attribute[size]"}
    assert_errors(post(client, fmt, api_key=key, **missing), fmt, 400)
    assert_errors(post(client, fmt, api_key=key, **{**VALID, "attribute[size]": "bad"}), fmt, 400)
    assert_errors(post(client, fmt, api_key=key, **{**VALID, "attribute[colour]": "red"}), fmt, 400)
    assert Report.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_valid_post_returns_one_request_with_an_id(client, categories, key, fmt):
    resp = post(client, fmt, api_key=key, **VALID)
    assert resp.status_code in (200, 201)
    body = _parse(resp, fmt)
    if fmt == "json":
        assert isinstance(body, list) and len(body) == 1
        item = body[0]
    else:
        assert body.tag == "service_requests" and len(body.findall("request")) == 1
        item = {c.tag: c.text for c in body.find("request")}
    assert ("service_request_id" in item) != ("token" in item)
    report = Report.objects.get(pk=int(item["service_request_id"]))
    assert report.category.service_code == "flytipping" and report.attributes == {"size": "large"}
    assert (report.lat, report.lon) == (53.48, -2.24) and report.description == VALID["description"]


def test_post_api_key_in_query_string_and_empty_jurisdiction(client, categories, key):
    body = {k: v for k, v in VALID.items() if k != "jurisdiction_id"}
    resp = post(client, "json", query=f"jurisdiction_id=&api_key={key}", **body)
    assert resp.status_code == 200, resp.content
    report = Report.objects.get(pk=int(resp.json()[0]["service_request_id"]))
    assert report.city.slug == "manchester"  # chosen by lat/long when jurisdiction_id is empty


def test_post_multivaluelist_attribute_and_media_url(client, categories, key):
    fly = categories["manchester"]["graffiti"]
    fly.attributes = [
        {
            "code": "where",
            "datatype": "multivaluelist",
            "required": True,
            "description": "Where?",
            "order": 1,
            "values": [{"key": "wall", "name": "Wall"}, {"key": "door", "name": "Door"}],
        }
    ]
    fly.save()
    data = {**VALID, "service_code": "graffiti", "media_url": "https://example.org/p.jpg"}
    data.pop("attribute[size]")
    resp = client.post(
        f"{BASE}/requests.json", {**data, "api_key": key, "attribute[where][]": ["wall", "door"]}
    )
    assert resp.status_code == 200, resp.content
    report = Report.objects.get()
    assert report.attributes == {"where": ["wall", "door"]}
    detail = client.get(f"{BASE}/requests/{report.pk}.json").json()[0]
    assert detail["media_url"] == "https://example.org/p.jpg"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_description_over_4000_characters_is_refused(client, categories, key, fmt):
    assert_errors(post(client, fmt, api_key=key, **{**VALID, "description": "x" * 4001}), fmt, 400)
    assert post(client, fmt, api_key=key, **{**VALID, "description": "x" * 4000}).status_code == 200
    assert Report.objects.count() == 1


# 12, 13 single request
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_single_request_is_a_one_element_list_matching_the_post(client, categories, key, fmt):
    rid = post(client, "json", api_key=key, **VALID).json()[0]["service_request_id"]
    resp, body = get(client, f"requests/{rid}", fmt)
    assert resp.status_code == 200
    if fmt == "json":
        assert isinstance(body, list) and len(body) == 1
        item = body[0]
    else:
        assert body.tag == "service_requests" and len(body.findall("request")) == 1
        item = {c.tag: c.text for c in body.find("request")}
    assert set(item) == REQUEST_FIELDS
    assert (
        item["service_request_id"] == rid
        and item["status"] == "open"
        and item["service_code"] == "flytipping"
    )
    assert float(item["lat"]) == 53.48 and float(item["long"]) == -2.24
    assert W3C.match(item["requested_datetime"]) and W3C.match(item["updated_datetime"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_hidden_request_is_404(client, seeded, fmt):
    assert_errors(client.get(f"{BASE}/requests/999999.{fmt}"), fmt, 404)
    assert_errors(client.get(f"{BASE}/requests/abc.{fmt}"), fmt, 404)
    hidden = seeded["open_noise"]
    Report.objects.filter(pk=hidden.pk).update(is_hidden=True)
    assert_errors(client.get(f"{BASE}/requests/{hidden.pk}.{fmt}"), fmt, 404)
    assert_errors(
        client.get(f"{BASE}/requests/{seeded['open_pothole'].pk}.{fmt}?jurisdiction_id=ghent"), fmt, 404
    )


# 14-17 GET requests filters
def ids_of(client, fmt="json", **params):
    resp, body = get(client, "requests", fmt, **params)
    assert resp.status_code == 200, resp.content
    if fmt == "json":
        return {int(r["service_request_id"]) for r in body}
    return {int(r.findtext("service_request_id")) for r in body.findall("request")}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_status_filter(client, seeded, fmt):
    s = seeded
    assert ids_of(client, fmt, jurisdiction_id="manchester", status="open") == {
        s["open_pothole"].pk,
        s["open_noise"].pk,
    }
    assert ids_of(client, fmt, jurisdiction_id="manchester", status="closed") == {
        s["fixed_pothole"].pk,
        s["closed_litter"].pk,
    }
    both = ids_of(client, fmt, jurisdiction_id="manchester", status="open,closed")
    assert both == ids_of(client, fmt, jurisdiction_id="manchester") and len(both) == 4


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_code_filter(client, seeded, fmt):
    s = seeded
    assert ids_of(client, fmt, service_code="pothole") == {s["open_pothole"].pk, s["fixed_pothole"].pk}
    assert ids_of(client, fmt, service_code="pothole,noise", status="open") == {
        s["open_pothole"].pk,
        s["open_noise"].pk,
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_request_id_overrides_other_filters(client, seeded, fmt):
    s = seeded
    wanted = {s["old_litter"].pk, s["fixed_pothole"].pk}
    assert (
        ids_of(
            client, fmt, service_request_id=",".join(map(str, wanted)), status="open", service_code="noise"
        )
        == wanted
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_date_window(client, seeded, fmt):
    now = timezone.now()
    old = seeded["old_litter"]
    assert old.pk not in ids_of(client, fmt)  # default: most recent 90 days
    start = (now - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
    assert ids_of(client, fmt, start_date=start, end_date=end) == {old.pk}
    assert ids_of(client, fmt, start_date=start) == {old.pk}  # start + 90 days
    recent = (now - timedelta(days=1)).isoformat()
    assert (
        old.pk not in ids_of(client, fmt, start_date=recent)
        and len(ids_of(client, fmt, start_date=recent)) == 4
    )
    assert_errors(
        client.get(f"{BASE}/requests.{fmt}", {"start_date": start, "end_date": now.isoformat()}), fmt, 400
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-01-01"},
        {"start_date": "2026-13-01T00:00:00Z"},
        {"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"status": "pending"},
        {"service_code": "nope"},
        {"service_request_id": "1,x"},
        {"lat": "53.4"},
        {"lat": "91", "long": "0"},
        {"lat": "abc", "long": "1"},
        {"radius": "100"},
        {"lat": "53.48", "long": "-2.24", "radius": "-5"},
        {"page": "0"},
        {"page_size": "5000"},
    ],
)
def test_bad_filters_are_400(client, seeded, fmt, params):
    assert_errors(client.get(f"{BASE}/requests.{fmt}", params), fmt, 400)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_lat_long_radius_and_paging_extensions(client, seeded, fmt):
    s = seeded
    near_noise = ids_of(client, fmt, lat="53.5001", long="-2.2001", radius="100")
    assert near_noise == {s["open_noise"].pk}
    assert s["open_noise"].pk not in ids_of(client, fmt, lat="53.475", long="-2.235", radius="100")
    page1 = ids_of(client, fmt, page_size="2", page="1")
    page2 = ids_of(client, fmt, page_size="2", page="2")
    assert len(page1) == len(page2) == 2 and not page1 & page2
    assert page1 | page2 == ids_of(client, fmt)


def test_default_volume_is_at_most_1000(client, make_report):
    first = make_report("pothole")
    rows = [
        Report(
            city=first.city,
            category=first.category,
            department=first.department,
            description="x",
            lat=first.lat,
            lon=first.lon,
            h3_cell=first.h3_cell,
        )
        for _ in range(1000)
    ]
    Report.objects.bulk_create(rows)
    assert len(ids_of(client)) == 1000


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_empty_is_absent_unknown_is_404(client, seeded, fmt):
    assert ids_of(client, fmt, jurisdiction_id="") == ids_of(client, fmt)
    assert_errors(client.get(f"{BASE}/requests.{fmt}?jurisdiction_id=atlantis"), fmt, 404)
    assert_errors(client.get(f"{BASE}/services.{fmt}?jurisdiction_id=atlantis"), fmt, 404)
    # several cities are served: the service list needs a jurisdiction (or a lat/long)
    assert_errors(client.get(f"{BASE}/services.{fmt}?jurisdiction_id="), fmt, 400)
    assert_errors(client.get(f"{BASE}/services/pothole.{fmt}"), fmt, 400)
    assert ids_of(client, fmt, jurisdiction_id="ghent") == set()


# 18 tokens
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_resolves_to_the_request(client, categories, key, fmt):
    rid = post(client, "json", api_key=key, **VALID).json()[0]["service_request_id"]
    token = str(ServiceToken.objects.get(report_id=int(rid)).token)
    resp, body = get(client, f"tokens/{token}", fmt)
    assert resp.status_code == 200
    item = body[0] if fmt == "json" else {c.tag: c.text for c in body.find("request")}
    assert item == {"service_request_id": rid, "token": token}
    assert_errors(client.get(f"{BASE}/tokens/not-a-token.{fmt}"), fmt, 404)
    assert_errors(client.get(f"{BASE}/tokens/{token}.{fmt}?jurisdiction_id=ghent"), fmt, 404)


# 19, 20 datetimes and UTF-8
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_datetimes_carry_a_timezone_and_utf8_round_trips(client, categories, key, fmt):
    text = "Köln / Gent / Oulu – ä ö ü é\nzweite Zeile"
    rid = post(client, fmt, api_key=key, **{**VALID, "description": text}).status_code
    assert rid == 200
    report = Report.objects.get()
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() + timedelta(days=3))
    resp, body = get(client, f"requests/{report.pk}", fmt)
    item = body[0] if fmt == "json" else {c.tag: c.text for c in body.find("request")}
    assert item["description"] == text
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(item[field]), item[field]
    assert item["requested_datetime"].endswith(("Z", "+00:00"))  # Manchester in November: UTC


# closed requests: updated_datetime is the closing time, notes give the reason
def test_closed_request_has_status_notes(client, make_report, users):
    from smartip.reports import services

    report = make_report("noise")
    services.change_status(
        report=report,
        by=users["department_staff"],
        status="closed",
        reason="no_action",
        text="Nothing we can do",
    )
    item = client.get(f"{BASE}/requests/{report.pk}.json").json()[0]
    assert item["status"] == "closed" and item["status_notes"] == "Nothing we can do"
    report.refresh_from_db()
    assert item["updated_datetime"].startswith(report.updated_at.strftime("%Y-%m-%dT%H:%M"))


# general errors
@pytest.mark.parametrize("path", ["requests.html", "services.yaml"])
def test_unknown_format_is_404_in_xml(client, cities, path):
    assert_errors(client.get(f"{BASE}/{path}"), "xml", 404)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_method_is_refused_in_the_error_format(client, cities, fmt):
    resp = client.post(f"{BASE}/services.{fmt}")
    assert_errors(resp, fmt, 405)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_extensions_add_attributes_and_public_notes_only(client, make_report, users, fmt):
    from smartip.reports import services

    report = make_report("flytipping", attributes={"size": "large"})
    staff = users["moderator"]
    services.add_update(report=report, by=staff, text="internal: call the contractor", public=False)
    services.change_status(report=report, by=staff, status="acknowledged", text="Crew booked")
    resp = client.get(f"{BASE}/requests/{report.pk}.{fmt}", {"extensions": "true"})
    assert resp.status_code == 200 and b"internal" not in resp.content
    if fmt == "json":
        item = resp.json()[0]
    else:
        parsed = xmltodict.parse(resp.content, force_list=("attribute", "note"))
        item = parsed["service_requests"]["request"]
        item["attributes"], item["notes"] = item["attributes"]["attribute"], item["notes"]["note"]
    assert item["attributes"] == [
        {"label": "How much is there?", "name": "size", "value": "large", "code": "size"}
    ]
    assert [n["description"] for n in item["notes"]] == ["Crew booked"]
    assert all(W3C.match(n["datetime"]) for n in item["notes"]) and item["notes"][0]["type"] == "status"
    plain = client.get(f"{BASE}/requests/{report.pk}.json").json()[0]
    assert "notes" not in plain and "attributes" not in plain


def test_media_upload_extension_stores_a_clean_photo_and_links_it(client, categories, key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.reports.conftest import image_bytes

    photo = SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")
    resp = client.post(f"{BASE}/requests.xml", {**VALID, "api_key": key, "media": photo})
    assert resp.status_code == 200, resp.content
    report = Report.objects.get()
    assert report.photos.count() == 1
    item = client.get(f"{BASE}/requests/{report.pk}.json").json()[0]
    assert item["media_url"].startswith("http://testserver/media/reports/") and item["media_url"].endswith(
        ".jpg"
    )
