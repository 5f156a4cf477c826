"""Fixtures for the sensing ingest tests: a Manchester with neighbourhoods, a citizen's sensor and its key."""

import random

import pytest

from smartip.accounts.models import ApiKey


@pytest.fixture
def hoods(manchester):
    from smartip.cities.demo import demo_neighbourhoods
    from smartip.cities.services import import_neighbourhoods

    if not manchester.neighbourhoods.exists():
        import_neighbourhoods(city=manchester, geojson=demo_neighbourhoods(manchester, random.Random(1)))
    return list(manchester.neighbourhoods.all())


def point_in(hood):
    """A point inside a neighbourhood (searched on a grid over its bounding box)."""
    for i in range(1, 20):
        for j in range(1, 20):
            lat = hood.min_lat + (hood.max_lat - hood.min_lat) * i / 20
            lon = hood.min_lon + (hood.max_lon - hood.min_lon) * j / 20
            if hood.contains(lat, lon):
                return lat, lon
    raise AssertionError(f"no point found inside {hood}")


def quick_user(username, city=None, role=None):
    """A user without a password hash (hashing costs ~1 s per user on a loaded 2-core machine)."""
    from smartip.accounts.models import User
    from smartip.accounts.services import grant_role

    user = User.objects.create(username=username, email=f"{username}@example.org")
    if city is not None and role is not None:
        grant_role(user=user, city=city, role=role)
    return user


@pytest.fixture
def citizen(manchester):
    return quick_user("sensor_owner", manchester, "citizen")


@pytest.fixture
def neighbour(manchester):
    return quick_user("neighbour", manchester, "citizen")


@pytest.fixture
def sensor_and_key(manchester, citizen, hoods):
    from smartip.sensing.services import register_sensor

    lat, lon = point_in(hoods[0])
    return register_sensor(
        city=manchester,
        owner=citizen,
        name="Back garden",
        model="SDS011",
        lat=lat,
        lon=lon,
        firmware_id="esp8266-12345",
    )


@pytest.fixture
def sensor(sensor_and_key):
    return sensor_and_key[0]


@pytest.fixture
def key(sensor_and_key):
    return sensor_and_key[1]


@pytest.fixture
def device_key(citizen):
    _, raw = ApiKey.generate(user=citizen, name="my node", kind="device")
    return raw
