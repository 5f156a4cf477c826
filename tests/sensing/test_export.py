"""Exports: CSV and Parquet agree with the stored readings (and each other), FIWARE entities have the keys and
structure of the Smart Data Models examples in ../shared, and bad ranges are 400s naming the field."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow.parquet as pq
import pytest
from django.test import Client

from smartip.sensing import aggregates
from smartip.sensing.models import HourlyAggregate, Observation
from smartip.sensing.services import register_sensor
from tests.conftest import shared_path
from tests.sensing.conftest import point_in

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)


@pytest.fixture
def client(manchester):
    c = Client()
    session = c.session
    session["city"] = manchester.slug
    session.save()
    return c


@pytest.fixture
def node(manchester, hoods):
    lat, lon = point_in(hoods[0])
    sensor, _ = register_sensor(city=manchester, owner=None, name="Node", model="SDS011", lat=lat, lon=lon)
    rng = np.random.default_rng(7)
    rows = []
    for i in range(36):  # 3 hours of 5-minute readings
        t = T0 + timedelta(minutes=5 * i)
        rows.append(
            Observation(sensor=sensor, quantity="pm25", time=t, value=float(rng.uniform(3, 30)), qc_flags=0)
        )
        rows.append(
            Observation(sensor=sensor, quantity="noise_laeq", time=t, value=float(rng.uniform(45, 75)))
        )
        rows.append(
            Observation(sensor=sensor, quantity="noise_lamax", time=t, value=float(rng.uniform(75, 90)))
        )
    rows[3].qc_flags = 8  # one flagged reading: exported, never dropped
    Observation.objects.bulk_create(rows)
    for h in range(-24, 0):  # a day before: the DAQI's 24-hour running mean needs it
        HourlyAggregate.objects.create(
            sensor=sensor, quantity="pm25", hour=T0 + timedelta(hours=h), mean=15.0, n=12
        )
    for h in range(3):
        for q, v in (("pm25", 10.0 + h), ("pm10", 20.0 + h), ("humidity", 60.0), ("temperature", 8.5)):
            HourlyAggregate.objects.create(
                sensor=sensor, quantity=q, hour=T0 + timedelta(hours=h), mean=v, n=12
            )
    return sensor


def url(sensor, fmt, start="2026-03-02T10:00Z", end="2026-03-02T12:00Z"):
    return f"/air/sensors/{sensor.pk}/export.{fmt}?start={start}&end={end}"


def expected_rows(sensor, start, end):
    return list(
        Observation.objects.filter(sensor=sensor, time__gte=start, time__lt=end)
        .order_by("time", "quantity")
        .values_list("time", "quantity", "value", "qc_flags")
    )


def test_csv_is_every_reading_in_range(client, node):
    response = client.get(url(node, "csv"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    want = expected_rows(node, T0, T0 + timedelta(hours=2))
    assert len(rows) == len(want) == 24 * 3
    for got, (t, q, v, f) in zip(rows, want, strict=True):
        assert datetime.fromisoformat(got["time"]) == t
        assert (got["quantity"], float(got["value"]), int(got["qc_flags"])) == (q, v, f)
    assert any(int(r["qc_flags"]) == 8 for r in rows)
    assert {r["unit"] for r in rows if r["quantity"] == "pm25"} == {"ug/m3"}


def test_parquet_matches_csv(client, node):
    response = client.get(url(node, "parquet"))
    assert response.status_code == 200
    table = pq.read_table(io.BytesIO(response.content))
    assert table.schema.field("time").type.tz == "UTC"
    assert str(table.schema.field("qc_flags").type) == "uint16"
    want = expected_rows(node, T0, T0 + timedelta(hours=2))
    got = list(
        zip(
            table["time"].to_pylist(),
            table["quantity"].to_pylist(),
            table["value"].to_pylist(),
            table["qc_flags"].to_pylist(),
            strict=True,
        )
    )
    assert [(t.astimezone(UTC), q, v, f) for t, q, v, f in got] == want


def _shape(value):
    """Structure of an NGSI-LD attribute: wrapper keys and the JSON type of each part (recursively for dicts)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items() if k not in ("coordinates",)}
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


#: pollutants of the AirQualityObserved schema the example happens not to carry: shaped like its "no2"
SCHEMA_POLLUTANTS_NOT_IN_EXAMPLE = ("pm1", "pm25", "pm10", "o3")


def _check_against_example(entity, example):
    if example["type"] == "AirQualityObserved":
        example = {**{p: example["no2"] for p in SCHEMA_POLLUTANTS_NOT_IN_EXAMPLE}, **example}
    assert set(entity) <= set(example), set(entity) - set(example)
    for key in ("id", "type", "location", "@context"):
        assert key in entity
    for key, value in entity.items():
        if key == "id":
            assert value.startswith(f"urn:ngsi-ld:{example['type']}:")
        elif isinstance(example[key], dict) and example[key].get("type") == "Property":
            assert set(value) <= set(example[key]) and value["type"] == "Property", key
            assert _shape(value["value"]) == _shape(example[key]["value"]), key
        else:
            assert _shape(value) == _shape(example[key]), key


def test_air_quality_observed_has_the_sdm_shape(client, node, manchester):
    example = json.loads(
        shared_path("data", "environment", "sdm_AirQualityObserved_example-normalized.jsonld").read_text()
    )
    response = client.get(url(node, "aqo", end="2026-03-02T13:00Z"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    entities = response.json()
    assert len(entities) == 3
    for e in entities:
        _check_against_example(e, example)
        assert e["type"] == "AirQualityObserved"
        assert e["pm25"]["unitCode"] == "GQ"
        assert e["relativeHumidity"]["value"] == pytest.approx(0.60)
        assert e["location"]["value"]["coordinates"] == [node.public_lon, node.public_lat]
    last = entities[-1]
    assert last["pm25"]["value"] == 12.0
    latest = aggregates.sensor_indices([node], at=T0 + timedelta(hours=2, minutes=30))[node.pk]
    assert last["airQualityLevel"]["value"] == latest.band_name.lower()
    assert last["airQualityIndex"]["value"] == latest.value


def test_noise_level_observed_has_the_sdm_shape(client, node):
    example = json.loads(
        shared_path("data", "environment", "sdm_NoiseLevelObserved_example-normalized.jsonld").read_text()
    )
    entities = client.get(url(node, "noise")).json()
    assert len(entities) == 2
    for e in entities:
        _check_against_example(e, example)
    first = entities[0]
    levels = Observation.objects.filter(
        sensor=node, quantity="noise_laeq", time__lt=T0 + timedelta(hours=1)
    ).values_list("value", flat=True)
    energy = sum(10 ** (v / 10) for v in levels) / len(levels)
    assert first["LAeq"]["value"] == pytest.approx(10 * np.log10(energy), abs=0.01)
    assert first["LAeq"]["value"] > np.mean(
        list(levels)
    )  # an energetic mean is never below the arithmetic one
    assert first["dateObservedFrom"]["value"] == {"@type": "DateTime", "@value": "2026-03-02T10:00:00Z"}
    assert first["dateObservedTo"]["value"]["@value"] == "2026-03-02T11:00:00Z"


@pytest.mark.parametrize(
    "start,end,field",
    [
        ("", "2026-03-02", "start"),
        ("yesterday", "2026-03-02", "start"),
        ("2026-03-02", "", "end"),
        ("2026-03-02T12:00Z", "2026-03-02T10:00Z", "end"),
        ("2026-03-02", "2026-03-02", "end"),
        ("2025-01-01", "2026-03-02", "end"),
        ("2026-02-30", "2026-03-02", "start"),
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "parquet", "aqo", "noise"])
def test_bad_ranges_are_400_with_the_field(client, node, start, end, field, fmt):
    response = client.get(url(node, fmt, start, end))
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_export_of_hidden_sensor_is_404(client, manchester, hoods):
    lat, lon = point_in(hoods[0])
    sensor, _ = register_sensor(
        city=manchester, owner=None, name="In", model="SDS011", lat=lat, lon=lon, exposure="indoor"
    )
    assert client.get(url(sensor, "csv")).status_code == 404
    assert (
        client.get(f"/air/sensors/{sensor.pk}/export.xlsx?start=2026-03-02&end=2026-03-03").status_code == 404
    )
