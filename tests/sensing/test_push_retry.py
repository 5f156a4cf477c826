"""A retried firmware push (same values within half the sensor's interval) is acknowledged, not stored twice."""

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from smartip.sensing import push as push_module
from smartip.sensing.models import Observation
from smartip.sensing.push import ingest_push, retry_window_s

pytestmark = pytest.mark.django_db

HEADERS = {"X-Sensor": "esp8266-12345"}


def body(pm10: str, pm25: str) -> dict:
    return {
        "software_version": "NRZ-2020-133",
        "sensordatavalues": [
            {"value_type": "SDS_P1", "value": pm10},
            {"value_type": "SDS_P2", "value": pm25},
            {"value_type": "signal", "value": "-70"},
        ],
    }


class Clock:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(timezone.now().replace(microsecond=0) - timedelta(minutes=30))
    monkeypatch.setattr(push_module, "timezone", SimpleNamespace(now=clock))  # the push module's clock only
    return clock


def post(client, key, payload):
    return client.post(
        "/v1/push-sensor-data/",
        data=json.dumps(payload),
        content_type="application/json",
        headers={**HEADERS, "X-API-Key": key},
    )


def test_identical_push_two_seconds_later_is_a_duplicate_over_http(client, sensor, key, clock):
    first = post(client, key, body("14.60", "7.33"))
    assert first.status_code == 201, first.content
    assert first.json() == {"received": 2, "stored": 2, "duplicates": 0, "ignored": ["signal"]}
    clock.t += timedelta(seconds=2)
    retry = post(client, key, body("14.60", "7.33"))
    assert retry.status_code == 201, retry.content
    assert retry.json() == {"received": 2, "stored": 0, "duplicates": 2, "ignored": ["signal"]}
    assert Observation.objects.filter(sensor=sensor).count() == 2

    clock.t += timedelta(seconds=sensor.interval_s)  # the next real reading, one interval later
    later = post(client, key, body("14.60", "7.33"))
    assert later.json()["stored"] == 2
    clock.t += timedelta(seconds=3)
    changed = post(client, key, body("15.10", "7.33"))  # a different push inside the window is stored
    assert changed.json() == {"received": 2, "stored": 2, "duplicates": 0, "ignored": ["signal"]}
    times = sorted({t for t in Observation.objects.filter(sensor=sensor).values_list("time", flat=True)})
    assert len(times) == 3 and Observation.objects.filter(sensor=sensor).count() == 6


def test_retry_window_is_half_the_interval_with_a_floor(sensor, key):
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    payload = json.dumps(body("20.0", "10.0")).encode()
    sensor.interval_s = 600
    sensor.save()
    assert retry_window_s(sensor) == 300
    assert ingest_push(firmware_id="esp8266-12345", raw_key=key, body=payload, now=start).stored == 2
    at_window = ingest_push(
        firmware_id="esp8266-12345", raw_key=key, body=payload, now=start + timedelta(seconds=300)
    )
    assert (at_window.stored, at_window.duplicates) == (0, 2)
    # measured from the last *stored* push (start): 301 s after it is a new reading
    after = ingest_push(
        firmware_id="esp8266-12345", raw_key=key, body=payload, now=start + timedelta(seconds=301)
    )
    assert (after.stored, after.duplicates) == (2, 0)

    sensor.interval_s = 2
    sensor.save()
    assert retry_window_s(sensor) == push_module.PUSH_RETRY_MIN_S
    retry = ingest_push(
        firmware_id="esp8266-12345", raw_key=key, body=payload, now=start + timedelta(seconds=305)
    )
    assert retry.duplicates == 2 and Observation.objects.count() == 4


def test_partial_match_is_not_a_retry(sensor, key):
    """Only a push whose every value repeats is a retry; a new temperature alongside the same PM is stored."""
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    ingest_push(
        firmware_id="esp8266-12345", raw_key=key, body=json.dumps(body("20.0", "10.0")).encode(), now=start
    )
    more = body("20.0", "10.0")
    more["sensordatavalues"].append({"value_type": "BME280_temperature", "value": "4.5"})
    result = ingest_push(
        firmware_id="esp8266-12345",
        raw_key=key,
        body=json.dumps(more).encode(),
        now=start + timedelta(seconds=2),
    )
    assert (result.stored, result.duplicates) == (3, 0)
