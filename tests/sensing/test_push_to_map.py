"""A firmware push over HTTP reaches the public air map: push → hourly aggregation (the job the app runs) →
/air/sensors.geojson shows the sensor with the index the pure core computes from the pushed numbers."""

import json
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from smartip.sensing import aggregates, aqi, bands
from smartip.sensing import push as push_module

pytestmark = pytest.mark.django_db

PUSHES_PER_HOUR = 3  # every 20 min: 3 × 1200 s ≥ 75 % of the hour at the sensor's interval


def test_pushed_readings_show_on_the_public_map(client, sensor, key, monkeypatch):
    sensor.interval_s = 1200
    sensor.save()
    end_hour = aggregates.hour_floor(timezone.now())
    start = end_hour - timedelta(hours=24)
    n = 24 * PUSHES_PER_HOUR
    k = np.arange(n)
    pm25 = np.round(35 + 12 * np.sin(k / 9) + 0.3 * (k % 5), 2)  # smooth: no spike, no stuck value
    pm10 = np.round(pm25 * 1.5 + 2, 2)
    clock = SimpleNamespace(now=lambda: start)
    monkeypatch.setattr(push_module, "timezone", clock)
    for i in range(n):
        clock.now = lambda i=i: start + timedelta(minutes=20 * i, seconds=7)
        body = {
            "esp8266id": "12345",
            "software_version": "NRZ-2020-133",
            "sensordatavalues": [
                {"value_type": "SDS_P1", "value": f"{pm10[i]:.2f}"},
                {"value_type": "SDS_P2", "value": f"{pm25[i]:.2f}"},
            ],
        }
        r = client.post(
            "/data.php",
            data=json.dumps(body),
            content_type="application/json",
            headers={"X-Sensor": "esp8266-12345", "X-API-Key": key},
        )
        assert r.status_code == 201 and r.json()["stored"] == 2, r.content
    monkeypatch.undo()

    before = client.get("/air/sensors.geojson").json()
    assert before["features"][0]["properties"]["index"] is None  # nothing until the hourly job has run
    call_command("sensing", "aggregate")  # what the app runs to refresh the hourly means

    # the oracle: hourly means of the pushed numbers, through the pure index core
    stamps = np.array(
        [np.datetime64((start + timedelta(hours=h)).replace(tzinfo=None), "s") for h in range(24)]
    )
    means = {
        "pm25": pm25.reshape(24, PUSHES_PER_HOUR).mean(axis=1),
        "pm10": pm10.reshape(24, PUSHES_PER_HOUR).mean(axis=1),
    }
    expected = aqi.hourly_indices(sensor.city.profile.aqi_scheme, stamps, means).result
    feed = client.get("/air/sensors.geojson").json()
    (feature,) = [f for f in feed["features"] if f["properties"]["name"] == sensor.name]
    props = feature["properties"]
    assert props["index"] == pytest.approx(float(expected.value[-1]))
    assert props["band"] == int(expected.band[-1])
    assert props["colour"] == bands.band(sensor.city.profile.aqi_scheme, props["band"]).colour
    assert props["url"] == f"/air/sensors/{sensor.pk}/"
    page = client.get(props["url"]).content.decode()
    assert f"{means['pm25'][-1]:.2f}" in page  # the newest hourly mean of the pushed PM2.5
