"""Sensor and observation models: shown position, neighbourhood, keys, the idempotency key, dirty marking."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from smartip.accounts.models import ApiKey
from smartip.core.geo import haversine_m
from smartip.sensing.models import Observation, Sensor, rounded_position
from smartip.sensing.services import register_sensor
from tests.sensing.conftest import quick_user

pytestmark = pytest.mark.django_db


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-60, 70, allow_nan=False),
    lon=st.floats(-179.9, 179.9, allow_nan=False),
    step=st.sampled_from([50.0, 100.0, 500.0]),
)
def test_shown_position_is_the_cell_centre_near_the_point(lat, lon, step):
    shown_lat, shown_lon = rounded_position(lat, lon, step)
    # within half a cell diagonal (the longitude step is widened by 1/cos(lat) so the cell is ~step wide)
    assert haversine_m(lat, lon, shown_lat, shown_lon) <= step * 0.75
    # every point of the cell is shown at the same place: the centre maps to itself
    assert rounded_position(shown_lat, shown_lon, step) == pytest.approx((shown_lat, shown_lon), abs=1e-9)


def test_home_sensor_is_shown_rounded_and_a_station_exactly(manchester, hoods, settings):
    settings.SENSOR_PUBLIC_ROUNDING_M = 100
    from tests.sensing.conftest import point_in

    lat, lon = point_in(hoods[0])
    home, _ = register_sensor(city=manchester, owner=None, name="home", model="PMS5003", lat=lat, lon=lon)
    station, _ = register_sensor(
        city=manchester, owner=None, name="station", model="reference", lat=lat, lon=lon, is_home_hosted=False
    )
    assert (home.public_lat, home.public_lon) != (lat, lon)
    assert 0 < haversine_m(lat, lon, home.public_lat, home.public_lon) <= 75
    assert (station.public_lat, station.public_lon) == (lat, lon)
    assert home.neighbourhood == hoods[0] and home.h3


def test_position_outside_the_city_is_refused(manchester):
    from smartip.core.errors import Invalid

    with pytest.raises(Invalid) as err:
        register_sensor(city=manchester, owner=None, name="x", model="SDS011", lat=51.05, lon=3.72)
    assert err.value.field == "lat"


def test_keys(sensor, key, citizen, neighbour, device_key):
    assert sensor.accepts_key(key) and not sensor.accepts_key("sn_other") and not sensor.accepts_key(None)
    owners_key = ApiKey.objects.get(kind="device", user=citizen)
    assert sensor.accepts_key(device_key, key=owners_key)
    dev_key, _ = ApiKey.generate(user=citizen, name="developer key")  # not a device key
    assert not sensor.accepts_key("x", key=dev_key)
    other, _ = ApiKey.generate(user=neighbour, name="linked", kind="device")
    assert not sensor.accepts_key("x", key=other)
    sensor.api_key = other
    assert sensor.accepts_key("x", key=other)
    other.revoke()
    assert not sensor.accepts_key("x", key=other)


def test_the_idempotency_key_refuses_a_second_copy(sensor):
    t = datetime(2026, 11, 1, 12, tzinfo=UTC)
    Observation.objects.create(sensor=sensor, quantity="pm25", time=t, value=3.0)
    Observation.objects.create(sensor=sensor, quantity="pm10", time=t, value=3.0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Observation.objects.create(sensor=sensor, quantity="pm25", time=t, value=4.0)
    assert Observation.objects.count() == 2


def test_mark_dirty_keeps_the_earliest_time(sensor):
    t = datetime(2026, 11, 1, 12, tzinfo=UTC)
    Sensor.mark_dirty(sensor.pk, t, t)
    Sensor.mark_dirty(sensor.pk, t + timedelta(hours=2), t + timedelta(hours=2))
    Sensor.mark_dirty(sensor.pk, t - timedelta(hours=1), t + timedelta(hours=3))
    sensor.refresh_from_db()
    assert sensor.dirty_since == t - timedelta(hours=1)
    assert sensor.last_seen_at == t + timedelta(hours=3)
    assert list(Sensor.objects.dirty()) == [sensor]


def test_public_excludes_indoor_and_inactive(sensor, manchester, hoods):
    from tests.sensing.conftest import point_in

    lat, lon = point_in(hoods[1])
    indoor, _ = register_sensor(
        city=manchester, owner=None, name="in", model="SPS30", lat=lat, lon=lon, exposure="indoor"
    )
    off, _ = register_sensor(city=manchester, owner=None, name="off", model="SPS30", lat=lat, lon=lon)
    off.is_active = False
    off.save()
    assert list(Sensor.objects.for_city(manchester).public()) == [sensor]


@pytest.mark.parametrize("utc_hour", [4, 11, 18])
def test_demo_sensors_show_the_pm_episode(manchester, hoods, monkeypatch, utc_hour):
    """Whatever the time of day of the load, the last 24 h of PM are an episode (the demo's promise)."""
    import random

    from django.utils import timezone

    from smartip.sensing import aggregates
    from smartip.sensing.demo import load_demo

    load_time = datetime(2026, 1, 15, utc_hour, 20, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: load_time)
    # the users smartip.core.demo passes, without password hashing
    users = {f"resident{i}": quick_user(f"r{i}", manchester, "citizen") for i in range(1, 6)}
    users["admin"] = quick_user("demo_admin", manchester, "admin")
    load_demo(city=manchester, users=users, rng=random.Random(3))
    load_demo(city=manchester, users=users, rng=random.Random(3))  # idempotent
    sensors = list(Sensor.objects.for_city(manchester))
    assert len(sensors) == 6 and sum(s.is_reference for s in sensors) == 1
    station = next(s for s in sensors if s.is_reference)
    latest = aggregates.sensor_indices([station])[station.pk]
    assert latest is not None and latest.hour == load_time.replace(minute=0)
    week = [o.value for o in Observation.objects.filter(sensor=station, quantity="pm25").order_by("time")]
    assert len(week) == 7 * 24
    last_day, first_days = sum(week[-24:]) / 24, sum(week[:72]) / 72
    assert last_day > 35 and last_day > 3 * first_days  # the episode is on at load time, in 24-h means too
    bands = [i.band for i in aggregates.neighbourhood_indices(manchester).values() if i is not None]
    assert bands and max(bands) >= 2  # DAQI Moderate or worse somewhere
