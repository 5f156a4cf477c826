"""The per-model humidity correction (calibration.HUMIDITY_CORRECTION) in the exports and on the sensor page."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.utils import timezone

from smartip.sensing import aggregates, calibration
from smartip.sensing.models import HourlyAggregate, Observation
from smartip.sensing.services import register_sensor
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


def node(city, hoods, model, name="Node"):
    lat, lon = point_in(hoods[0])
    return register_sensor(city=city, owner=None, name=name, model=model, lat=lat, lon=lon)[0]


def obs(sensor, quantity, seconds, value, flags=0):
    return Observation(
        sensor=sensor, quantity=quantity, time=T0 + timedelta(seconds=seconds), value=value, qc_flags=flags
    )


def export_csv(client, sensor):
    r = client.get(f"/air/sensors/{sensor.pk}/export.csv?start=2026-03-02T10:00Z&end=2026-03-02T11:00Z")
    assert r.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))


def test_sds011_export_gets_kohler_corrected_pm_where_humidity_pairs(client, manchester, hoods):
    sensor = node(manchester, hoods, "SDS011")
    Observation.objects.bulk_create(
        [
            obs(sensor, "pm25", 0, 20.0),
            obs(sensor, "pm10", 0, 30.0),
            obs(sensor, "humidity", 0, 85.0),
            obs(sensor, "pm25", 600, 12.0),
            obs(sensor, "humidity", 603, 60.0),  # a per-pin push 3 s later still pairs
            obs(sensor, "pm25", 1200, 15.0),  # no humidity within the tolerance: left uncorrected
            obs(sensor, "humidity", 1500, 120.0, flags=2),  # out of range: never used
            obs(sensor, "pm25", 1500, 9.0),
        ]
    )
    rows = export_csv(client, sensor)
    got = {(r["quantity"], r["time"]): (r["value_rh_corrected"], r["rh_correction"]) for r in rows}
    k = calibration.KAPPA_LITERATURE
    assert float(got[("pm25", "2026-03-02T10:00:00Z")][0]) == pytest.approx(
        float(calibration.kohler_correction(20.0, 85.0, k))
    )
    assert float(got[("pm10", "2026-03-02T10:00:00Z")][0]) == pytest.approx(
        float(calibration.kohler_correction(30.0, 85.0, k))
    )
    assert float(got[("pm25", "2026-03-02T10:10:00Z")][0]) == pytest.approx(
        float(calibration.kohler_correction(12.0, 60.0, k))
    )
    assert got[("pm25", "2026-03-02T10:00:00Z")][1] == "kohler-k0.40"
    assert got[("pm25", "2026-03-02T10:20:00Z")] == ("", "")
    assert got[("pm25", "2026-03-02T10:25:00Z")] == ("", "")
    assert got[("humidity", "2026-03-02T10:00:00Z")] == ("", "")
    assert float(got[("pm25", "2026-03-02T10:00:00Z")][0]) < 20.0  # humid air: the dry estimate is lower
    assert [r["value"] for r in rows if r["quantity"] == "pm25"] == [
        "20.0",
        "12.0",
        "15.0",
        "9.0",
    ]  # raw kept

    table = pq.read_table(
        io.BytesIO(
            client.get(
                f"/air/sensors/{sensor.pk}/export.parquet?start=2026-03-02T10:00Z&end=2026-03-02T11:00Z"
            ).content
        )
    )
    csv_corrected = [float(r["value_rh_corrected"]) if r["value_rh_corrected"] else None for r in rows]
    assert table["value_rh_corrected"].to_pylist() == pytest.approx(csv_corrected)
    assert table["rh_correction"].to_pylist() == [r["rh_correction"] or None for r in rows]


def test_pms5003_gets_the_epa_correction_on_pm25_only(client, manchester, hoods):
    sensor = node(manchester, hoods, "PMS5003")
    Observation.objects.bulk_create(
        [obs(sensor, "pm25", 0, 40.0), obs(sensor, "pm10", 0, 55.0), obs(sensor, "humidity", 0, 70.0)]
    )
    got = {r["quantity"]: (r["value_rh_corrected"], r["rh_correction"]) for r in export_csv(client, sensor)}
    assert float(got["pm25"][0]) == pytest.approx(float(calibration.epa_purpleair_extended(40.0, 70.0)))
    assert got["pm25"][1] == "epa-2022"
    assert got["pm10"] == ("", "")  # the EPA fit is for PM2.5 only


def test_no_correction_for_models_without_one(client, manchester, hoods):
    sensor = node(manchester, hoods, "reference")
    Observation.objects.bulk_create([obs(sensor, "pm25", 0, 40.0), obs(sensor, "humidity", 0, 90.0)])
    assert all(r["value_rh_corrected"] == "" for r in export_csv(client, sensor))
    assert calibration.correction_method("reference", "pm25") is None
    assert calibration.correction_method("SDS011", "temperature") is None


def test_sensor_page_shows_the_corrected_latest_hour(client, manchester, hoods):
    sensor = node(manchester, hoods, "SDS011")
    hour = aggregates.hour_floor(timezone.now()) - timedelta(hours=1)
    for q, v in (("pm25", 30.0), ("humidity", 90.0), ("pm10", 44.0)):
        HourlyAggregate.objects.create(sensor=sensor, quantity=q, hour=hour, mean=v, n=20)
    HourlyAggregate.objects.create(  # a newer PM hour without humidity is not the one corrected
        sensor=sensor, quantity="pm25", hour=hour + timedelta(hours=1), mean=31.0, n=20
    )
    html = client.get(f"/air/sensors/{sensor.pk}/?quantity=pm25").content.decode()
    expected = float(calibration.kohler_correction(30.0, 90.0, calibration.KAPPA_LITERATURE))
    assert f"Corrected for humidity: {expected:.1f} (measured 30.0 at 90 % relative humidity" in html
    assert "κ-Köhler" in html and "The charts and the index use the measured values." in html
    humidity_page = client.get(f"/air/sensors/{sensor.pk}/?quantity=humidity").content.decode()
    assert "Corrected for humidity" not in humidity_page
