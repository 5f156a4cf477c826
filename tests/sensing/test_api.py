"""/api/sensing: registering a sensor, public listing with the latest index, neighbourhood indices."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smartip.accounts.models import ApiKey
from smartip.sensing import aggregates
from smartip.sensing.ingest import Reading, store
from smartip.sensing.models import Sensor
from tests.sensing.conftest import point_in

pytestmark = pytest.mark.django_db


def _key(user) -> str:
    return ApiKey.generate(user=user, name="dev")[1]


def test_citizen_registers_a_sensor_and_gets_its_key_once(client, citizen, hoods):
    lat, lon = point_in(hoods[2])
    body = {
        "city": "manchester",
        "name": "Balcony",
        "model": "PMS5003",
        "lat": lat,
        "lon": lon,
        "firmware_id": "esp32-77",
    }
    r = client.post(
        "/api/sensing/sensors", body, content_type="application/json", headers={"X-API-Key": _key(citizen)}
    )
    assert r.status_code == 201, r.content
    out = r.json()
    sensor = Sensor.objects.get(pk=out["id"])
    assert sensor.owner == citizen and sensor.accepts_key(out["key"]) and out["firmware_id"] == "esp32-77"
    assert (
        (out["lat"], out["lon"]) == (sensor.public_lat, sensor.public_lon) != (lat, lon)
    )  # never the exact spot
    assert out["neighbourhood"] == hoods[2].code
    again = client.post(
        "/api/sensing/sensors", body, content_type="application/json", headers={"X-API-Key": _key(citizen)}
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "firmware_id"


def test_registration_rules(client, citizen, hoods):
    lat, lon = point_in(hoods[0])
    base = {"city": "manchester", "name": "x", "model": "SDS011", "lat": lat, "lon": lon}
    assert client.post("/api/sensing/sensors", base, content_type="application/json").status_code == 401
    headers = {"X-API-Key": _key(citizen)}
    for change, field, status in (
        ({"is_reference": True}, "is_reference", 403),
        ({"model": "SDS012"}, "model", 400),
        ({"lat": 51.05, "lon": 3.72}, "lat", 400),
        ({"city": "ghent"}, "city", 403),
        ({"exposure": "garden"}, "exposure", 400),
    ):
        r = client.post(
            "/api/sensing/sensors", {**base, **change}, content_type="application/json", headers=headers
        )
        assert (r.status_code, r.json()["error"]["field"]) == (status, field)


def test_public_list_shows_the_latest_index_in_a_fixed_number_of_queries(client, sensor, manchester, hoods):
    from smartip.sensing.services import register_sensor

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for i in range(3):
        other, _ = register_sensor(
            city=manchester, owner=None, name=f"s{i}", model="SDS011", lat=sensor.lat, lon=sensor.lon
        )
        store(
            [
                Reading(other.pk, "no2", now - timedelta(hours=2, seconds=-145 * k), 20.0 + i + k % 3 * 0.1)
                for k in range(25)
            ],
            {other.pk: other},
        )
    indoor, _ = register_sensor(
        city=manchester,
        owner=None,
        name="in",
        model="SPS30",
        lat=sensor.lat,
        lon=sensor.lon,
        exposure="indoor",
    )
    aggregates.refresh_dirty()
    with CaptureQueriesContext(connection) as queries:
        r = client.get("/api/sensing/sensors", {"city": "manchester"})
    assert r.status_code == 200
    ours = [q["sql"] for q in queries.captured_queries if "sensing_" in q["sql"]]
    assert len(ours) == 2  # sensors (with city and neighbourhood), then their hourly means: none per sensor
    rows = r.json()
    assert {row["name"] for row in rows} == {"Back garden", "s0", "s1", "s2"}  # the indoor one is not public
    assert all(row["lat"] == Sensor.objects.get(pk=row["id"]).public_lat for row in rows)
    with_index = [row for row in rows if row["index"]]
    assert len(with_index) == 3 and {row["index"]["scheme"] for row in with_index} == {"daqi"}
    assert client.get(f"/api/sensing/sensors/{indoor.pk}").status_code == 404
    assert client.get(f"/api/sensing/sensors/{sensor.pk}").json()["index"] is None


def test_neighbourhood_index_is_the_median_of_its_sensors(client, sensor, manchester, hoods):
    from smartip.sensing.services import register_sensor

    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    sensors = [sensor] + [
        register_sensor(
            city=manchester, owner=None, name=f"n{i}", model="SDS011", lat=sensor.lat, lon=sensor.lon
        )[0]
        for i in range(2)
    ]
    levels = [10.0, 500.0, 30.0]  # the median (30) decides, not the faulty-looking 500
    for s, level in zip(sensors, levels, strict=True):
        store(
            [Reading(s.pk, "no2", hour + timedelta(seconds=145 * k), level + k % 5 * 0.3) for k in range(24)],
            {s.pk: s},
        )
    aggregates.refresh_dirty()
    r = client.get("/api/sensing/neighbourhoods", {"city": "manchester"})
    assert r.status_code == 200
    by_code = {row["code"]: row["index"] for row in r.json()}
    got = by_code[sensor.neighbourhood.code]
    assert got["n_sensors"] == 3
    assert got["concentrations_ugm3"]["no2"] == pytest.approx(30 + sum(k % 5 * 0.3 for k in range(24)) / 24)
    assert got["dominant"] == "no2" and got["band_name"] == "Low"  # DAQI NO2 hourly: 30 µg/m³ is index 1
    assert all(v is None for code, v in by_code.items() if code != sensor.neighbourhood.code)
