"""/api/mobility: uploads, idempotent phone batches, owner-only traces, zones, planner aggregates; malformed
input gets a clear 4xx naming the field and stores nothing."""

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartip.accounts.models import ApiKey
from smartip.mobility.models import MatchedSegment, PrivacyZone, Trace, TraceBatch, Trip
from smartip.mobility.readers.gpx import write_gpx
from tests.mobility.jobs import committed
from tests.mobility.test_models import commute

pytestmark = pytest.mark.django_db
MALFORMED = Path(__file__).parent / "malformed"


@pytest.fixture(autouse=True)
def _fake_engine(settings):
    settings.MAPMATCH_ENGINE = "fake"


def as_user(client, user):
    client.force_login(user)
    return client


def counts():
    return (
        Trace.objects.count(),
        Trip.objects.count(),
        MatchedSegment.objects.count(),
        TraceBatch.objects.count(),
    )


def post_file(client, name, content, **form):
    data = {"city": "manchester", "consent": "true", "purpose": "research"} | form
    data["file"] = SimpleUploadedFile(name, content)
    return client.post("/api/mobility/traces", data=data)


def gpx_in(city):
    lat, lon = city.center
    return write_gpx(commute(lat, lon)).encode()


def test_upload_a_gpx_file_then_list_detail_export_delete(client, manchester, users):
    as_user(client, users["citizen"])
    with committed():
        r = post_file(client, "ride.gpx", gpx_in(manchester))
    assert r.status_code == 201, r.content
    trace_id = r.json()["id"]
    assert r.json()["source_format"] == "gpx" and r.json()["consent_purpose"] == "research"
    assert r.json()["status"] == "queued"  # answered before the commit; the job runs right after it
    assert [t["id"] for t in client.get("/api/mobility/traces").json()] == [trace_id]
    detail = client.get(f"/api/mobility/traces/{trace_id}").json()
    assert detail["status"] == "done" and detail["status_reason"] == ""
    assert len(detail["trips"]) == 1
    r = client.get(f"/api/mobility/traces/{trace_id}/export?format=gpx")
    assert r.status_code == 200 and r["Content-Type"] == "application/gpx+xml" and b"<trkpt" in r.content
    r = client.get(f"/api/mobility/traces/{trace_id}/export?format=geojson")
    assert json.loads(r.content)["type"] in ("FeatureCollection", "Feature")
    assert client.get(f"/api/mobility/traces/{trace_id}/export?format=kml").status_code == 400
    assert client.delete(f"/api/mobility/traces/{trace_id}").status_code == 204
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("role", ["analyst", "admin", "moderator"])
def test_someone_elses_trace_is_not_found(client, manchester, users, role):
    as_user(client, users["citizen"])
    trace_id = post_file(client, "ride.gpx", gpx_in(manchester)).json()["id"]
    as_user(client, users[role])
    for method, path in [
        ("get", f"/api/mobility/traces/{trace_id}"),
        ("get", f"/api/mobility/traces/{trace_id}/export"),
        ("delete", f"/api/mobility/traces/{trace_id}"),
    ]:
        assert getattr(client, method)(path).status_code == 404
    assert client.get("/api/mobility/traces").json() == []
    assert Trace.objects.filter(pk=trace_id).exists()


def test_anonymous_gets_401(client):
    assert client.get("/api/mobility/traces").status_code == 401
    assert client.get("/api/mobility/zones").status_code == 401


@pytest.mark.parametrize(
    ("name", "field_prefix"),
    [
        ("broken.gpx", ""),
        ("not_gpx.gpx", ""),
        ("no_time.gpx", ""),
        ("missing_time.csv", ""),
        ("wrong_columns.csv", ""),
        ("missing_time.geojson", ""),
        ("truncated_line.plt", ""),
        ("external_entity.gpx", ""),
    ],
)
def test_malformed_files_get_400_naming_the_field_and_store_nothing(
    client, users, manchester, name, field_prefix
):
    as_user(client, users["citizen"])
    before = counts()
    r = post_file(client, name, (MALFORMED / name).read_bytes())
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert error["code"] == "invalid" and error.get("field") and error["message"]
    assert counts() == before


def test_out_of_city_and_oversize_and_no_consent(client, users, manchester, cities, settings):
    as_user(client, users["citizen"])
    r = post_file(client, "ride.gpx", gpx_in(cities["oulu"]))
    assert r.status_code == 400 and r.json()["error"]["field"].startswith("fixes[")
    r = post_file(client, "ride.gpx", gpx_in(manchester), consent="false")
    assert r.status_code == 400 and r.json()["error"]["field"] == "consent"
    r = post_file(client, "ride.kml", b"<kml/>")
    assert r.status_code == 400 and r.json()["error"]["field"] == "file"
    settings.MOBILITY_MAX_UPLOAD_BYTES = 1000
    r = post_file(client, "ride.gpx", gpx_in(manchester))
    assert (
        r.status_code == 400
        and r.json()["error"]["field"] == "file"
        and "1000" in r.json()["error"]["message"]
    )
    assert counts() == (0, 0, 0, 0)


def batch_body(city, batch_id="b-1", **extra):
    lat, lon = city.center
    fixes = commute(lat, lon)
    items = [
        {"t": float(t), "lat": float(a), "lon": float(o)}
        for t, a, o in zip(fixes.t_s, fixes.lat, fixes.lon, strict=True)
    ]
    return {
        "batch_id": batch_id,
        "city": city.slug,
        "consent": True,
        "purpose": "research",
        "fixes": items,
    } | extra


def post_batch(client, body, key):
    return client.post(
        "/api/mobility/batches",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-API-Key": key} if key else {},
    )


def test_a_retried_phone_batch_never_doubles_points(client, users, manchester):
    _, key = ApiKey.generate(user=users["citizen"], name="phone", kind="device")
    body = batch_body(manchester)
    first = post_batch(client, body, key)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    stored = counts()
    again = post_batch(client, body, key)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["trace"]["id"] == first.json()["trace"]["id"]
    assert counts() == stored
    assert Trace.objects.get().n_fixes == len(body["fixes"])
    assert post_batch(client, batch_body(manchester, "b-2"), key).status_code == 201
    assert Trace.objects.count() == 2


def test_an_oversize_batch_is_refused_whole(client, users, manchester, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    _, key = ApiKey.generate(user=users["citizen"], name="phone", kind="device")
    r = post_batch(client, batch_body(manchester), key)
    assert (
        r.status_code == 400
        and r.json()["error"]["field"] == "body"
        and "10000" in r.json()["error"]["message"]
    )
    assert counts() == (0, 0, 0, 0)


def test_batches_need_a_device_key(client, users, manchester):
    _, developer = ApiKey.generate(user=users["citizen"], name="dev", kind="developer")
    assert post_batch(client, batch_body(manchester), None).status_code == 403
    assert post_batch(client, batch_body(manchester), developer).status_code == 403
    assert post_batch(client, batch_body(manchester), "nonsense").status_code == 403
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batch_id": ""}, "batch_id"),
        ({"consent": False}, "consent"),
        ({"city": None}, "city"),
        ({"fixes": [{"lat": 53.48, "lon": -2.24}]}, "fixes[0]"),
        ({"fixes": []}, "fixes"),
    ],
)
def test_malformed_batches_name_the_field_and_store_nothing(client, users, manchester, change, field):
    _, key = ApiKey.generate(user=users["citizen"], name="phone", kind="device")
    r = post_batch(client, batch_body(manchester) | change, key)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["field"].startswith(field)
    assert counts() == (0, 0, 0, 0)
    r = client.post(
        "/api/mobility/batches",
        data=b"{not json",
        content_type="application/json",
        headers={"X-API-Key": key},
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"


def test_privacy_zone_crud_is_owner_only(client, users):
    as_user(client, users["citizen"])
    r = client.post(
        "/api/mobility/zones",
        data={"label": "home", "lat": 53.48, "lon": -2.24, "radius_m": 250},
        content_type="application/json",
    )
    assert r.status_code == 201
    zone_id = r.json()["id"]
    r = client.patch(
        f"/api/mobility/zones/{zone_id}", data={"radius_m": 400}, content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["radius_m"] == 400 and r.json()["label"] == "home"
    r = client.patch(f"/api/mobility/zones/{zone_id}", data={"radius_m": 1}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["field"] == "radius_m"
    assert PrivacyZone.objects.get().radius_m == 400
    as_user(client, users["analyst"])
    assert client.get("/api/mobility/zones").json() == []
    assert client.delete(f"/api/mobility/zones/{zone_id}").status_code == 404
    as_user(client, users["citizen"])
    assert [z["id"] for z in client.get("/api/mobility/zones").json()] == [zone_id]
    assert client.delete(f"/api/mobility/zones/{zone_id}").status_code == 204
    assert not PrivacyZone.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("analyst", 200), ("admin", 200), ("citizen", 403), ("moderator", 403), ("process_manager", 403)],
)
def test_aggregates_are_for_analysts_and_admins(client, users, manchester, role, status):
    as_user(client, users[role])
    assert client.get("/api/mobility/aggregates/manchester/segments").status_code == status


def test_aggregates_of_another_city_are_forbidden_and_unknown_kind_is_400(client, users, manchester, cities):
    as_user(client, users["analyst"])
    assert client.get("/api/mobility/aggregates/ghent/segments").status_code == 403
    r = client.get("/api/mobility/aggregates/manchester/nonsense")
    assert r.status_code == 400 and r.json()["error"]["field"] == "kind"
    assert client.get("/api/mobility/aggregates/nowhere/segments").status_code == 404
    r = client.get(
        "/api/mobility/aggregates/manchester/segments?since=2024-06-04T00:00:00Z&until=2024-06-01T00:00:00Z"
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "until"
    r = client.get("/api/mobility/aggregates/manchester/segments?since=yesterday")
    assert r.status_code == 422 and r.json()["error"]["field"] == "since"


def test_aggregate_downloads_over_http(client, users, manchester, settings):
    from tests.factories import make_user
    from tests.mobility.test_privacy import person_trip

    for i in range(6):
        person_trip(manchester, make_user(f"p{i}"), way_ids=[7])
    as_user(client, users["analyst"])
    body = client.get("/api/mobility/aggregates/manchester/segments").json()
    assert body["min_people"] == 5 and [c["way_id"] for c in body["cells"]] == [7]
    r = client.get("/api/mobility/aggregates/manchester/segments?format=csv")
    assert r["Content-Type"].startswith("text/csv")
    assert r.content.decode().splitlines() == [
        "way_id,mode,hour,day_type,count,n_people",
        "7,bicycle,9,weekday,6,6",
    ]
    r = client.get("/api/mobility/aggregates/manchester/segments?format=geojson")
    assert r["Content-Type"] == "application/geo+json"
    assert json.loads(r.content)["features"][0]["properties"]["count"] == 6
    empty = client.get("/api/mobility/aggregates/manchester/segments?since=2024-06-04T00:00:00Z").json()
    assert empty["cells"] == []
    assert client.get("/api/mobility/aggregates/manchester/segments?format=xlsx").status_code == 400


def test_listing_traces_takes_a_fixed_number_of_queries(client, users, manchester):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    as_user(client, users["citizen"])
    sizes = []
    for _ in range(3):
        post_file(client, "ride.gpx", gpx_in(manchester))
        with CaptureQueriesContext(connection) as queries:
            r = client.get("/api/mobility/traces")
        sizes.append((len(r.json()), len(queries)))
    assert [n for n, _ in sizes] == [1, 2, 3]
    assert len({q for _, q in sizes}) == 1, sizes  # no query per trace
    assert sizes[0][1] <= 6


def _as(fmt, fixes):
    from datetime import UTC, datetime

    from smartip.mobility.readers.geojson import write_geojson

    if fmt == "geojson":
        return json.dumps(write_geojson(fixes)).encode()
    if fmt == "csv":
        rows = [f"{t},{a},{o}" for t, a, o in zip(fixes.t_s, fixes.lat, fixes.lon, strict=True)]
        return ("timestamp,latitude,longitude\n" + "\n".join(rows)).encode()
    lines = [
        "Geolife trajectory",
        "WGS 84",
        "Altitude is in Feet",
        "Reserved 3",
        "0,2,255,My Track,0,0,2,8421376",
        "0",
    ]
    for t, a, o in zip(fixes.t_s, fixes.lat, fixes.lon, strict=True):
        d = datetime.fromtimestamp(t, UTC)
        days = t / 86400 + 25569
        lines.append(f"{a},{o},0,-777,{days},{d:%Y-%m-%d},{d:%H:%M:%S}")
    return "\n".join(lines).encode()


@pytest.mark.parametrize("fmt", ["geojson", "csv", "plt"])
def test_upload_in_every_file_format(client, users, manchester, fmt):
    from smartip.mobility.fixes import from_columns

    lat, lon = manchester.center
    fixes = commute(lat, lon)
    fixes = from_columns(np.round(fixes.t_s), fixes.lat, fixes.lon)  # whole seconds: PLT has no fractions
    as_user(client, users["citizen"])
    r = post_file(client, f"ride.{fmt}", _as(fmt, fixes))
    assert r.status_code == 201, r.content
    stored = Trace.objects.get().fixes
    assert r.json()["source_format"] == fmt and len(stored) == len(fixes)
    assert np.allclose(stored.lat, fixes.lat, atol=1e-6) and np.allclose(stored.t_s, fixes.t_s, atol=1e-3)
