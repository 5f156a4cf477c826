"""Ingest over HTTP: the DIY firmware push (exact format) and the JSON batch, with the refusal corpus."""

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from smartip.sensing import aggregates, aqi, averaging, qc
from smartip.sensing.models import HourlyAggregate, Observation
from smartip.sensing.push import ingest_push

pytestmark = pytest.mark.django_db

# What airrohr firmware (NRZ-2020-133) sends to a custom API: prefixed value types, values as strings,
# housekeeping values (samples, min_micro, max_micro, interval, signal) in the same list.
FIRMWARE_BODY = {
    "esp8266id": "12345",
    "software_version": "NRZ-2020-133",
    "sensordatavalues": [
        {"value_type": "SDS_P1", "value": "14.60"},
        {"value_type": "SDS_P2", "value": "7.33"},
        {"value_type": "BME280_temperature", "value": "11.85"},
        {"value_type": "BME280_pressure", "value": "100712.63"},
        {"value_type": "BME280_humidity", "value": "81.32"},
        {"value_type": "samples", "value": "631405"},
        {"value_type": "min_micro", "value": "224"},
        {"value_type": "max_micro", "value": "20104"},
        {"value_type": "interval", "value": "145000"},
        {"value_type": "signal", "value": "-71"},
    ],
}


def basic(firmware_id: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{firmware_id}:{key}".encode()).decode()


def push(client: Client, path: str, body: object, **headers: str):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", ["/sensing/push", "/v1/push-sensor-data/", "/data.php"])
def test_firmware_push_is_stored_on_every_documented_path(client, sensor, key, path):
    r = push(
        client,
        path,
        FIRMWARE_BODY,
        **{"X-Sensor": "esp8266-12345", "X-PIN": "1", "Authorization": basic("esp8266-12345", key)},
    )
    assert r.status_code == 201, r.content
    assert r.json()["stored"] == 5
    assert set(r.json()["ignored"]) == {"samples", "min_micro", "max_micro", "interval", "signal"}
    stored = dict(Observation.objects.filter(sensor=sensor).values_list("quantity", "value"))
    assert stored == {
        "pm10": 14.60,
        "pm25": 7.33,
        "temperature": 11.85,
        "pressure": 100712.63,
        "humidity": 81.32,
    }


def test_sensor_community_per_pin_push_without_prefixes(client, sensor, key):
    """Sensor.Community's own format: one request per pin, value types without prefixes, key in X-API-Key."""
    pm = {
        "software_version": "NRZ-2020-133",
        "sensordatavalues": [
            {"value_type": "P1", "value": "20.1"},
            {"value_type": "P2", "value": "9.9"},
            {"value_type": "P0", "value": "5.0"},
        ],
    }
    th = {
        "software_version": "NRZ-2020-133",
        "sensordatavalues": [
            {"value_type": "temperature", "value": "3.4"},
            {"value_type": "humidity", "value": "64.0"},
        ],
    }
    for body, pin in ((pm, "1"), (th, "7")):
        r = push(
            client,
            "/v1/push-sensor-data/",
            body,
            **{"X-Sensor": "esp8266-12345", "X-PIN": pin, "X-API-Key": key},
        )
        assert r.status_code == 201, r.content
    assert sorted(Observation.objects.values_list("quantity", flat=True)) == [
        "humidity",
        "pm1",
        "pm10",
        "pm25",
        "temperature",
    ]


def test_keyless_push_only_when_the_sensor_allows_it(client, sensor):
    body = {"sensordatavalues": [{"value_type": "P2", "value": "3.1"}]}
    r = push(client, "/sensing/push", body, **{"X-Sensor": "esp8266-12345"})
    assert r.status_code == 401
    sensor.push_without_key = True
    sensor.save()
    r = push(client, "/sensing/push", body, **{"X-Sensor": "esp8266-12345"})
    assert r.status_code == 201
    assert Observation.objects.count() == 1


@pytest.mark.parametrize(
    ("headers", "body", "status", "field"),
    [
        ({"X-Sensor": "esp8266-99999"}, FIRMWARE_BODY, 400, "X-Sensor"),
        ({}, FIRMWARE_BODY, 400, "X-Sensor"),
        ({"X-Sensor": "esp8266-12345", "X-API-Key": "sn_wrong"}, FIRMWARE_BODY, 401, "Authorization"),
        ("KEY", "{broken", 400, "body"),
        ("KEY", {"sensordatavalues": "P1=3"}, 400, "sensordatavalues"),
        (
            "KEY",
            {"sensordatavalues": [{"value_type": "P1", "value": "abc"}]},
            400,
            "sensordatavalues[0].value",
        ),
        (
            "KEY",
            {"sensordatavalues": [{"value_type": "P1", "value": "nan"}]},
            400,
            "sensordatavalues[0].value",
        ),
        (
            "KEY",
            {"sensordatavalues": [{"value_type": "P2", "value": "1"}, {"value_type": "P1", "value": "-3"}]},
            400,
            "sensordatavalues[1].value",
        ),
        (
            "KEY",
            {"sensordatavalues": [{"value_type": "humidity", "value": "100.5"}]},
            400,
            "sensordatavalues[0].value",
        ),
        (
            "KEY",
            {"sensordatavalues": [{"value_type": "temperature", "value": "-61"}]},
            400,
            "sensordatavalues[0].value",
        ),
        ("KEY", {"sensordatavalues": [{"value": "1"}]}, 400, "sensordatavalues[0]"),
    ],
)
def test_bad_pushes_are_refused_naming_the_field_and_store_nothing(
    client, sensor, key, headers, body, status, field
):
    if headers == "KEY":
        headers = {"X-Sensor": "esp8266-12345", "Authorization": basic("esp8266-12345", key)}
    r = push(client, "/sensing/push", body, **headers)
    assert r.status_code == status, r.content
    assert r.json()["error"]["field"] == field
    assert Observation.objects.count() == 0


def test_pushes_feed_hourly_means_and_the_city_index(sensor, key, hoods):
    """A day of firmware pushes every 10 min → hourly means (≥ 75 %) → Manchester's DAQI, as the pure core says."""
    sensor.interval_s = 600
    sensor.save()
    start = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    rng = np.random.default_rng(5)
    pm25 = np.round(rng.uniform(20, 90, 24 * 6), 2)
    pm10 = np.round(pm25 * 1.6, 2)
    for i in range(pm25.size):
        if i % 6 == 5 and i // 6 == 3:
            continue  # hour 3 has 5 of 6 readings: still ≥ 75 %
        if i // 6 == 7 and i % 6 >= 4:
            continue  # hour 7 has 4 of 6: under 75 %, no mean
        body = {
            "sensordatavalues": [
                {"value_type": "P1", "value": f"{pm10[i]:.2f}"},
                {"value_type": "P2", "value": f"{pm25[i]:.2f}"},
            ]
        }
        ingest_push(
            firmware_id="esp8266-12345",
            raw_key=key,
            body=json.dumps(body).encode(),
            now=start + timedelta(minutes=10 * i),
        )
    assert aggregates.refresh_dirty() > 0
    hours = list(HourlyAggregate.objects.filter(sensor=sensor, quantity="pm25").order_by("hour"))
    assert len(hours) == 24
    assert hours[7].mean is None and hours[7].n == 4
    assert hours[3].n == 5 and hours[3].mean == pytest.approx(pm25[18:23].mean())
    assert hours[0].mean == pytest.approx(pm25[:6].mean())

    # the oracle: the pure index core on the same hourly means
    ts = np.array([np.datetime64(h.hour.replace(tzinfo=None), "s") for h in hours])
    means = {
        q: np.array(
            [
                np.nan if h.mean is None else h.mean
                for h in HourlyAggregate.objects.filter(sensor=sensor, quantity=q).order_by("hour")
            ]
        )
        for q in ("pm25", "pm10")
    }
    expected = aqi.hourly_indices("daqi", ts, means).result
    at = start + timedelta(hours=23, minutes=30)
    latest = aggregates.sensor_indices([sensor], at=at)[sensor.pk]
    assert latest is not None and latest.scheme == "daqi"
    assert latest.hour == hours[-1].hour
    assert latest.value == expected.value[-1] and latest.band_name == expected.band_name[-1]
    hood = aggregates.neighbourhood_indices(sensor.city, at=at)[sensor.neighbourhood]
    assert hood is not None and hood.value == latest.value and hood.n_sensors == 1


# ------------------------------------------------------------------------------------------ JSON batch


def _now_iso(minutes_ago: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def batch(client: Client, body: object, key: str | None):
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"X-API-Key": key} if key else {}
    return client.post("/api/sensing/readings", data=data, content_type="application/json", headers=headers)


def test_batch_stores_then_counts_duplicates(client, sensor, key):
    readings = [{"quantity": "pm25", "time": _now_iso(i), "value": 5.0 + i} for i in range(50)]
    r = batch(client, {"sensor": sensor.pk, "readings": readings}, key)
    assert r.status_code == 201, r.content
    assert r.json() == {"received": 50, "stored": 50, "duplicates": 0}
    more = readings[:10] + [{"quantity": "pm10", "time": _now_iso(0), "value": 9.0}]
    r = batch(client, {"sensor": sensor.pk, "readings": more}, key)
    assert r.json() == {"received": 11, "stored": 1, "duplicates": 10}
    assert Observation.objects.count() == 51


def test_batch_keys(client, sensor, device_key, citizen, neighbour):
    from smartip.accounts.models import ApiKey

    body = {"readings": [{"sensor": sensor.pk, "quantity": "pm25", "time": _now_iso(), "value": 4.0}]}
    assert batch(client, body, device_key).status_code == 201  # the owner's device key
    _, other = ApiKey.generate(user=neighbour, name="not theirs", kind="device")
    r = batch(client, body, other)
    assert r.status_code == 403 and r.json()["error"]["field"] == "readings.sensor"


def test_ingest_flags_range_and_pm_order_but_keeps_the_readings(client, sensor, key):
    t = _now_iso()
    body = {
        "sensor": sensor.pk,
        "readings": [
            {"quantity": "pm25", "time": t, "value": 30.0},
            {"quantity": "pm10", "time": t, "value": 12.0},  # PM2.5 > PM10 + 1
            {"quantity": "pm25", "time": _now_iso(3), "value": 1500.0},  # above the SDS011's 999.9
            {"quantity": "pm10", "time": _now_iso(3), "value": 1999.0},
        ],
    }
    assert batch(client, body, key).status_code == 201
    flags = {(o.quantity, o.value): o.qc_flags for o in Observation.objects.all()}
    assert flags[("pm25", 30.0)] & qc.PM_ORDER and flags[("pm10", 12.0)] & qc.PM_ORDER
    assert flags[("pm25", 1500.0)] & qc.RANGE and not flags[("pm25", 1500.0)] & qc.PM_ORDER


def test_spike_is_flagged_in_aggregation_and_left_out_of_the_mean(client, sensor, key):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    values = [10.0 + (i % 3) * 0.5 for i in range(60)]
    values[40] = 400.0
    body = {
        "sensor": sensor.pk,
        "readings": [
            {"quantity": "pm25", "time": (start + timedelta(seconds=145 * i)).isoformat(), "value": v}
            for i, v in enumerate(values)
        ],
    }
    assert batch(client, body, key).status_code == 201
    aggregates.refresh_dirty()
    spike = Observation.objects.get(value=400.0)
    assert spike.qc_flags & qc.SPIKE
    assert Observation.objects.filter(qc_flags=0).count() == 59
    hour = HourlyAggregate.objects.get(sensor=sensor, quantity="pm25", hour=start + timedelta(hours=1))
    in_hour = [v for i, v in enumerate(values) if 3600 <= 145 * i < 7200]
    clean = [v for v in in_hour if v != 400.0]
    assert hour.flags & qc.SPIKE and hour.n == len(clean) and hour.n_total == len(in_hour)
    assert hour.mean == pytest.approx(np.mean(clean))
    ts = np.array(
        [np.datetime64(start.replace(tzinfo=None)) + np.timedelta64(145 * i, "s") for i in range(60)]
    )
    _, means, _ = averaging.hourly_means(ts, qc.masked(values, qc.spike_flags(values)))
    assert hour.mean == pytest.approx(means[1])


OK = {"quantity": "pm25", "time": "NOW", "value": 5.0}


def _corpus():
    future = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    many = [OK] * 5001
    return [
        ("string for a number", {"readings": [{**OK, "value": "12.3"}]}, 400, "readings[0].value"),
        (
            "NaN",
            '{"readings": [{"quantity": "pm25", "time": "NOW", "value": NaN}]}',
            400,
            "readings[0].value",
        ),
        (
            "Infinity",
            '{"readings": [{"quantity": "pm25", "time": "NOW", "value": Infinity}]}',
            400,
            "readings[0].value",
        ),
        ("null value", {"readings": [{**OK, "value": None}]}, 400, "readings[0].value"),
        (
            "huge integer",
            '{"readings": [{"quantity": "pm25", "time": "NOW", "value": 1%s}]}' % ("0" * 400),
            400,
            "readings[0].value",
        ),
        ("list for a quantity", {"readings": [{**OK, "quantity": ["pm25"]}]}, 400, "readings[0].quantity"),
        ("null sensor", {"readings": [{**OK, "sensor": None}]}, 400, "readings[0].sensor"),
        ("time as a boolean", {"readings": [{**OK, "time": True}]}, 400, "readings[0].time"),
        ("boolean value", {"readings": [{**OK, "value": True}]}, 400, "readings[0].value"),
        ("missing value", {"readings": [{"quantity": "pm25", "time": "NOW"}]}, 400, "readings[0].value"),
        ("future", {"readings": [{**OK, "time": future}]}, 400, "readings[0].time"),
        ("naive time", {"readings": [{**OK, "time": "2026-01-01T00:00:00"}]}, 400, "readings[0].time"),
        ("garbage time", {"readings": [{**OK, "time": "yesterday"}]}, 400, "readings[0].time"),
        ("unknown quantity", {"readings": [{**OK, "quantity": "pm2.5"}]}, 400, "readings[0].quantity"),
        ("negative PM", {"readings": [{**OK, "value": -0.5}]}, 400, "readings[0].value"),
        (
            "RH over 100",
            {"readings": [{**OK, "quantity": "humidity", "value": 100.1}]},
            400,
            "readings[0].value",
        ),
        ("too hot", {"readings": [{**OK, "quantity": "temperature", "value": 71}]}, 400, "readings[0].value"),
        (
            "bad one late in the batch",
            {"readings": [OK, OK, OK, {**OK, "value": "x"}]},
            400,
            "readings[3].value",
        ),
        ("sensor as a string", {"readings": [{**OK, "sensor": "12"}]}, 400, "readings[0].sensor"),
        ("unknown sensor", {"readings": [{**OK, "sensor": 987654}]}, 400, "readings.sensor"),
        ("over the limit", {"readings": many}, 400, "readings"),
        ("empty batch", {"readings": []}, 400, "readings"),
        ("readings not a list", {"readings": {"pm25": 3}}, 400, "readings"),
        ("reading not an object", {"readings": [3.0]}, 400, "readings[0]"),
        ("broken JSON", '{"readings": [', 400, "body"),
        ("a list body", "[1, 2]", 400, "body"),
    ]


@pytest.mark.parametrize(("name", "body", "status", "field"), _corpus(), ids=[c[0] for c in _corpus()])
def test_malformed_batches_are_refused_naming_the_field(client, sensor, key, name, body, status, field):
    now = _now_iso()
    if isinstance(body, str):  # raw text (NaN, Infinity, broken JSON): the sensor goes in as text too
        body = body.replace('"NOW"', json.dumps(now)).replace(
            '{"readings"', f'{{"sensor": {sensor.pk}, "readings"', 1
        )
    else:
        body = json.loads(json.dumps({"sensor": sensor.pk, **body}).replace('"NOW"', json.dumps(now)))
    r = batch(client, body, key)
    assert r.status_code == status, (name, r.content)
    error = r.json()["error"]
    assert error["field"] == field, (name, error)
    assert field.split(".")[0].split("[")[0] in error["message"] or field in error["message"], error
    assert Observation.objects.count() == 0


@pytest.mark.parametrize(("key_value", "status"), [(None, 401), ("sn_not-a-key", 401)])
def test_batch_without_a_valid_key_is_unauthorised(client, sensor, key_value, status):
    r = batch(client, {"sensor": sensor.pk, "readings": [{**OK, "time": _now_iso()}]}, key_value)
    assert r.status_code == status and r.json()["error"]["field"] == "X-API-Key"
    assert Observation.objects.count() == 0


def test_revoked_device_key_is_refused(client, sensor, citizen, neighbour):
    from smartip.accounts.models import ApiKey

    api_key, raw = ApiKey.generate(user=citizen, name="old", kind="device")
    api_key.revoke()
    r = batch(client, {"sensor": sensor.pk, "readings": [{**OK, "time": _now_iso()}]}, raw)
    assert r.status_code == 401


def test_batch_accepts_unix_seconds_and_offsets(client, sensor, key):
    t = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body = {
        "sensor": sensor.pk,
        "readings": [
            {"quantity": "pm25", "time": t.timestamp(), "value": 4},
            {
                "quantity": "pm10",
                "time": t.astimezone(timezone(timedelta(hours=2))).isoformat(),
                "value": 6.5,
            },
        ],
    }
    assert batch(client, body, key).status_code == 201
    assert sorted(Observation.objects.values_list("quantity", "time", "value")) == [
        ("pm10", t, 6.5),
        ("pm25", t, 4.0),
    ]


def test_humid_hours_flag_pm_but_keep_it_in_the_mean(client, sensor, key):
    """HIGH_RH (RH ≥ 80 %) goes on the PM readings of the same node; RH_PINNED (≥ 99.9 %) too."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    pm = [6.0 + k % 5 * 0.2 for k in range(25)]
    rh = [70.0] * 10 + [85.0] * 10 + [99.95] * 5
    readings = []
    for k in range(25):
        t = (start + timedelta(seconds=145 * k)).isoformat()
        readings += [
            {"quantity": "pm25", "time": t, "value": pm[k]},
            {"quantity": "humidity", "time": t, "value": rh[k]},
        ]
    assert batch(client, {"sensor": sensor.pk, "readings": readings}, key).status_code == 201
    call_command("sensing", "aggregate", "--json")
    flags = [o.qc_flags for o in Observation.objects.filter(quantity="pm25").order_by("time")]
    assert flags[:10] == [0] * 10
    assert all(f == qc.HIGH_RH for f in flags[10:20])
    assert all(f == qc.HIGH_RH | qc.RH_PINNED for f in flags[20:])
    hour = HourlyAggregate.objects.get(sensor=sensor, quantity="pm25")
    assert hour.n == 20 and hour.flags == qc.HIGH_RH | qc.RH_PINNED  # pinned RH (a failed sensor) is left out
    assert hour.mean == pytest.approx(np.mean(pm[:20]))
