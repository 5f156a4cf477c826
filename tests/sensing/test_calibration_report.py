"""The calibration report averages at the EPA targets' time: 24-h means (18 of 24 hours) for PM, 1-h for gases."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smartip.sensing import calibration, pages
from smartip.sensing.models import HourlyAggregate
from smartip.sensing.services import register_sensor
from tests.sensing.conftest import point_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def pair(manchester, hoods):
    lat, lon = point_in(hoods[0])
    citizen = register_sensor(city=manchester, owner=None, name="Garden", model="SDS011", lat=lat, lon=lon)[0]
    station = register_sensor(
        city=manchester, owner=None, name="Station", model="SDS011", lat=lat, lon=lon, is_reference=True
    )[0]
    return citizen, station


def put(sensor, quantity, values, skip=()):
    HourlyAggregate.objects.bulk_create(
        [
            HourlyAggregate(sensor=sensor, quantity=quantity, hour=START + timedelta(hours=i), mean=v, n=12)
            for i, v in enumerate(values)
            if i not in skip
        ]
    )


def test_pm_pairs_complete_days_not_hours(pair):
    citizen, station = pair
    rng = np.random.default_rng(11)
    ref = rng.uniform(5, 60, 24 * 6)
    raw = 0.9 * ref + 1.0 + rng.normal(0, 3, ref.size)
    put(station, "pm25", ref)
    put(citizen, "pm25", raw, skip=set(range(48, 55)))  # its third day: 17 hours, left out
    report = pages.colocation(
        sensor=citizen, reference=station, pollutant="pm25", start=START, end=START + timedelta(days=6)
    )
    assert report.averaging_h == 24
    keep = [0, 1, 3, 4, 5]
    expected = calibration.evaluate_colocation(
        raw.reshape(6, 24).mean(axis=1)[keep], ref.reshape(6, 24).mean(axis=1)[keep], "pm25"
    )
    got = report.result
    assert (got.n, got.checks) == (expected.n, expected.checks) == (5, expected.checks)
    for field in ("slope", "intercept", "r2", "rmse", "nrmse_percent"):
        assert getattr(got, field) == pytest.approx(getattr(expected, field), rel=1e-9), field
    hourly = calibration.evaluate_colocation(raw, ref, "pm25")
    assert report.result.r2 != pytest.approx(hourly.r2)  # the averaging changes the verdict's inputs


def test_gases_stay_hourly(pair):
    citizen, station = pair
    rng = np.random.default_rng(12)
    ref = rng.uniform(5, 40, 30)
    raw = ref + rng.normal(0, 1, 30)
    put(station, "no2", ref)
    put(citizen, "no2", raw)
    report = pages.colocation(
        sensor=citizen, reference=station, pollutant="no2", start=START, end=START + timedelta(days=2)
    )
    assert report.averaging_h == 1 and report.result == calibration.evaluate_colocation(raw, ref, "no2")


def test_too_few_complete_days_is_a_clear_error(as_user, users, pair):
    citizen, station = pair
    put(station, "pm25", np.linspace(5, 30, 60))
    put(citizen, "pm25", np.linspace(6, 32, 60))  # 2.5 days: 2 complete days, 3 are needed
    query = {
        "sensor": citizen.pk,
        "reference": station.pk,
        "pollutant": "pm25",
        "start": START.date().isoformat(),
        "end": (START + timedelta(days=4)).date().isoformat(),
    }
    response = as_user(users["analyst"]).get("/air/calibration/", query)
    assert response.status_code == 400
    assert "2 paired values; at least 3 are needed" in str(response.context["form"].non_field_errors())
    assert response.context["result"] is None
